//! Shell-style globbing over a [`Target`], the way glob(3) expands `Include` and `$IncludeConfig`
//! patterns: wildcards match within one path component, dot files match only an explicit dot, and
//! results come back sorted in byte order.

use crate::path::join;
use crate::target::Target;

/// fnmatch(3) without flags except `FNM_PERIOD` on the whole name: `*`, `?`, `[abc]`, `[a-z]`,
/// `[!x]`/`[^x]`, and `\` escapes.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    matches(pattern.as_bytes(), name.as_bytes())
}

fn matches(p: &[u8], s: &[u8]) -> bool {
    // Iterative matcher with single-star backtracking (linear in practice, no recursion blow-up).
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, next)) = class(&p[pi..], s[si]) {
                        if ok {
                            pi += next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                b'\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == s[si] {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[si] {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Matches a bracket expression at the start of `p` against `c`; returns (matched, length of the
/// expression), or `None` when the bracket is not closed (then it is a literal `[`).
fn class(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        let lo = p[i];
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            if lo <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

fn has_magic(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

/// Expands `pattern` (absolute, or relative to `base`) over the target, sorted in byte order.
/// A pattern without wildcards yields itself if it exists.
pub fn expand<T: Target + ?Sized>(target: &T, base: &str, pattern: &str) -> Vec<String> {
    let full = join(base, pattern);
    let mut current = vec![String::from("/")];
    let components: Vec<&str> = full.split('/').filter(|c| !c.is_empty()).collect();
    for (idx, comp) in components.iter().enumerate() {
        let last = idx + 1 == components.len();
        let mut next = Vec::new();
        for dir in &current {
            if has_magic(comp) {
                let Ok(entries) = target.list_dir(dir) else {
                    continue;
                };
                for e in entries {
                    if fnmatch(comp, &e.name) {
                        next.push(join(dir, &e.name));
                    }
                }
            } else {
                let candidate = join(dir, comp);
                if last {
                    if target.lstat(&candidate).is_ok() {
                        next.push(candidate);
                    }
                } else {
                    next.push(candidate);
                }
            }
        }
        current = next;
    }
    if components.is_empty() {
        return vec!["/".into()];
    }
    current.sort();
    current.dedup();
    current
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn fnmatch_cases() {
        let cases = [
            ("*.conf", "50-cloud-init.conf", true),
            ("*.conf", "50-cloud-init.conf.bak", false),
            ("*.conf", ".hidden.conf", false),
            (".*", ".hidden", true),
            ("a?c", "abc", true),
            ("[0-9]*", "10-x", true),
            ("[!0-9]*", "10-x", false),
            ("[^a]b", "cb", true),
            ("*", "", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("\\*x", "*x", true),
            ("[", "[", true),
            ("[]]", "]", true),
        ];
        for (p, s, want) in cases {
            assert_eq!(fnmatch(p, s), want, "fnmatch({p:?}, {s:?})");
        }
    }
}

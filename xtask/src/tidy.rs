//! `cargo xtask tidy`: the documents cannot drift from the code. Run by `cargo xtask test` before
//! anything is built; every rule reads the tree as it is at run time (no list of modules, tests
//! or files is kept here), so a crate, a module or a fixture file added tomorrow is covered.
//!
//! The rules (ARCHITECTURE.md, "Rules `cargo xtask tidy` enforces", says the same for people):
//! 1. **Code map.** For the engine and for every library crate `plugins/phipolicy-*`, the crate's
//!    section of ARCHITECTURE.md (from its `### `engine`` / `### `plugins/<crate>`` heading to the
//!    next heading) names exactly the modules under its `src/`: a module is named by a bullet that
//!    starts with it (`- `runner`:`, nested `- `runner::host`:`) or on a `Modules:` paragraph
//!    (`Modules: `a`, `b::c`.`). `lib.rs` is the crate itself; `main.rs` is the module `main`;
//!    `a/mod.rs` is `a`.
//! 2. **Security citations.** Every test SECURITY.md cites exists: `file.rs::name` (a `fn name` in
//!    a file of that name, or at that path) and `module::tests::name` (a `fn name` in a file whose
//!    module path ends with `module` and that holds `mod tests`).
//! 3. **Fixture files.** The kinds of file found beside `root/` in `engine/tests/fixtures/<case>/`
//!    are exactly those the `Fixture files:` paragraph of ARCHITECTURE.md names.
//! 4. **Limits.** A limit (a number that bounds a size, a count, a depth or a time) is a named,
//!    documented constant in a module named `limits` (`mod limits { .. }` or `limits.rs`). Outside
//!    such modules and outside test code: no `const` named like a limit (`MAX_*`, `MIN_*`,
//!    `*_BYTES`, `*_DEPTH`, `*_ENTRIES`, `*_TIME`, `*_TIMEOUT`, `*_DEADLINE`, `*_LIMIT`; not a
//!    name holding `DEFAULT`, a default of the audited programs), and no
//!    bare numeric literal where a limit is written: `Duration::from_secs/millis(N)`,
//!    `.len() <op> N`, `truncate(_, N)`, `.take(N)` (N a literal of two digits or more). Scope:
//!    `engine/src` and every crate's `src/` under `plugins/`.
//! 5. **Long files.** A `.rs` file over [`LONG_FILE_LINES`] lines says why near its top: a comment
//!    line containing `Long file:` among its first [`LONG_FILE_HEADER_LINES`] lines.
//!
//! [`PENDING`] lists known breaches with the reason and the owner; an entry that no longer
//! breaches fails tidy too, so the list only shrinks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// Lines above which a file must say why it is long.
pub const LONG_FILE_LINES: usize = 800;
/// How many lines at the top of a long file are searched for `Long file:`.
pub const LONG_FILE_HEADER_LINES: usize = 12;

/// Known breaches, each `(rule, path relative to the workspace, why it is pending)`.
pub const PENDING: &[(&str, &str, &str)] = &[];

/// `cargo xtask tidy`.
pub fn tidy(workspace: &Path) -> Result<()> {
    let problems = check(workspace);
    if problems.is_empty() {
        eprintln!("xtask: tidy: ARCHITECTURE.md, SECURITY.md, fixtures, limits and file sizes agree with the tree");
        return Ok(());
    }
    bail!(
        "tidy found {} problem(s):\n  - {}",
        problems.len(),
        problems.join("\n  - ")
    )
}

/// Every problem of the tree at `root`, as messages naming the file.
pub fn check(root: &Path) -> Vec<String> {
    let arch = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    let security = std::fs::read_to_string(root.join("SECURITY.md")).unwrap_or_default();
    let mut found: Vec<Breach> = Vec::new();
    if arch.is_empty() {
        found.push(Breach::new("map", "ARCHITECTURE.md", "missing or empty"));
    }
    code_map(root, &arch, &mut found);
    security_citations(root, &security, &mut found);
    fixture_files(root, &arch, &mut found);
    for file in rust_files(root) {
        let rel = relative(root, &file);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        long_file(&rel, &text, &mut found);
        if in_limits_scope(&rel) {
            limits(&rel, &text, &mut found);
        }
    }
    let mut problems = Vec::new();
    for (rule, path, why) in PENDING {
        if !found.iter().any(|b| b.rule == *rule && b.path == *path) {
            problems.push(format!(
                "xtask/src/tidy.rs: the pending {rule} entry for {path} ({why}) no longer breaches: remove it"
            ));
        }
    }
    for b in found {
        if !PENDING.iter().any(|(r, p, _)| *r == b.rule && *p == b.path) {
            problems.push(format!("{}: {}", b.path, b.message));
        }
    }
    problems
}

/// One breach of a rule: the rule's short name, the file, what is wrong.
#[derive(Debug)]
struct Breach {
    rule: &'static str,
    path: String,
    message: String,
}

impl Breach {
    fn new(rule: &'static str, path: &str, message: impl Into<String>) -> Breach {
        Breach {
            rule,
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// Rule 1: the code map names exactly the modules of the engine and of each library crate.
fn code_map(root: &Path, arch: &str, found: &mut Vec<Breach>) {
    let mut crates = vec![("engine".to_string(), root.join("engine"))];
    for dir in sorted_dirs(&root.join("plugins")) {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("phipolicy-") && dir.join("Cargo.toml").is_file() {
            crates.push((format!("plugins/{name}"), dir));
        }
    }
    for (heading, dir) in crates {
        let actual = modules(&dir.join("src"));
        let Some(section) = section(arch, &format!("### `{heading}`")) else {
            found.push(Breach::new(
                "map",
                "ARCHITECTURE.md",
                format!("no section \"### `{heading}`\" in the code map (it has modules {actual:?})"),
            ));
            continue;
        };
        let named = named_modules(section);
        for m in actual.difference(&named) {
            found.push(Breach::new(
                "map",
                "ARCHITECTURE.md",
                format!("section `{heading}` does not name the module `{m}` (a bullet \"- `{m}`:\" or the Modules: list)"),
            ));
        }
        for m in named.difference(&actual) {
            found.push(Breach::new(
                "map",
                "ARCHITECTURE.md",
                format!("section `{heading}` names the module `{m}`, which {heading}/src does not have"),
            ));
        }
    }
}

/// The module paths of a crate's `src/` (`a/b.rs` -> `a::b`, `a/mod.rs` -> `a`, `main.rs` ->
/// `main`; `lib.rs` is the crate).
fn modules(src: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in walk(src) {
        if file.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = relative(src, &file);
        let rel = rel.trim_end_matches(".rs");
        if rel == "lib" {
            continue;
        }
        let path = rel.strip_suffix("/mod").unwrap_or(rel).replace('/', "::");
        // A `tests.rs` beside its module is that module's tests, not a module of the map.
        if path == "tests" || path.ends_with("::tests") {
            continue;
        }
        out.insert(path);
    }
    out
}

/// The text from `heading` to the next heading of the same or a higher level.
fn section<'a>(text: &'a str, heading: &str) -> Option<&'a str> {
    let start = text
        .lines()
        .scan(0usize, |pos, line| {
            let at = *pos;
            *pos += line.len() + 1;
            Some((at, line))
        })
        .find(|(_, line)| line.trim_end() == heading)
        .map(|(at, line)| at + line.len() + 1)?;
    let rest = &text[start.min(text.len())..];
    let end = rest
        .lines()
        .scan(0usize, |pos, line| {
            let at = *pos;
            *pos += line.len() + 1;
            Some((at, line))
        })
        .find(|(_, line)| line.starts_with("## ") || line.starts_with("### "))
        .map_or(rest.len(), |(at, _)| at);
    Some(&rest[..end])
}

/// Module names a code-map section declares: bullets "- `name`:" and `Modules:` paragraphs.
fn named_modules(section: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_list = false;
    for line in section.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("- `")
            && let Some((name, after)) = rest.split_once('`')
            && after.starts_with(':')
            && is_module_path(name)
        {
            out.insert(name.to_string());
        }
        if t.starts_with("Modules:") {
            in_list = true;
        } else if t.is_empty() {
            in_list = false;
        }
        if in_list {
            for name in backticked(t) {
                if is_module_path(name) {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

fn is_module_path(s: &str) -> bool {
    !s.is_empty()
        && s.split("::").all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// The backticked spans of a line.
fn backticked(line: &str) -> impl Iterator<Item = &str> {
    line.split('`').skip(1).step_by(2)
}

/// Rule 2: every test SECURITY.md cites exists.
fn security_citations(root: &Path, security: &str, found: &mut Vec<Breach>) {
    let files: Vec<(String, String)> = rust_files(root)
        .into_iter()
        .filter_map(|f| Some((relative(root, &f), std::fs::read_to_string(&f).ok()?)))
        .collect();
    let mut seen = BTreeSet::new();
    for line in security.lines() {
        for token in backticked(line) {
            if !seen.insert(token.to_string()) {
                continue;
            }
            if let Some(problem) = citation_problem(token, &files) {
                found.push(Breach::new("security", "SECURITY.md", problem));
            }
        }
    }
}

/// Why a cited test does not exist (`None`: it exists, or the token is not a test citation).
fn citation_problem(token: &str, files: &[(String, String)]) -> Option<String> {
    let defines = |text: &str, name: &str| text.contains(&format!("fn {name}("));
    // `file.rs::name` or `dir/file.rs::name`.
    if let Some((file, name)) = token.split_once(".rs::") {
        if !is_ident(name) {
            return None;
        }
        let file = format!("{file}.rs");
        let candidates: Vec<&(String, String)> = files
            .iter()
            .filter(|(rel, _)| {
                if file.contains('/') {
                    *rel == file
                } else {
                    rel.rsplit('/').next() == Some(file.as_str())
                }
            })
            .collect();
        if candidates.is_empty() {
            return Some(format!("cites `{token}`, but no file {file} exists"));
        }
        if !candidates.iter().any(|(_, text)| defines(text, name)) {
            return Some(format!("cites `{token}`, but {file} has no `fn {name}`"));
        }
        return None;
    }
    // `module::path::tests::name`, `tests::name`, or `module::tests` (the module itself).
    let segments: Vec<&str> = token.split("::").collect();
    let tests_at = segments.iter().rposition(|s| s.ends_with("tests"))?;
    if !segments.iter().all(|s| is_ident(s)) || tests_at + 2 < segments.len() {
        return None;
    }
    let module = &segments[..tests_at];
    let test_mod = segments[tests_at];
    let name = segments.get(tests_at + 1);
    let as_file: Vec<&str> = segments[..=tests_at].to_vec();
    let holds = |rel: &str, text: &str| {
        // `mod tests { .. }` inside the module's file, or `mod tests;` as a file of its own.
        let inline = module_path_ends_with(rel, module) && text.contains(&format!("mod {test_mod}"));
        (inline || module_path_ends_with(rel, &as_file)) && name.is_none_or(|n| defines(text, n))
    };
    if files.iter().any(|(rel, text)| holds(rel, text)) {
        return None;
    }
    Some(match name {
        Some(n) => format!(
            "cites the test `{token}`, but no module `{}` holds `mod {test_mod}` with `fn {n}`",
            module.join("::")
        ),
        None => format!("cites `{token}`, but no module `{}` holds `mod {test_mod}`", module.join("::")),
    })
}

/// Whether the module path of the source file `rel` (relative to the workspace) ends with
/// `module` (empty: any file).
fn module_path_ends_with(rel: &str, module: &[&str]) -> bool {
    let Some((_, in_src)) = rel.split_once("/src/") else {
        return module.is_empty();
    };
    let path = in_src.trim_end_matches(".rs");
    let path = path.strip_suffix("/mod").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| *s != "lib").collect();
    segments.ends_with(module)
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Rule 3: the fixture file kinds found are the ones documented.
fn fixture_files(root: &Path, arch: &str, found: &mut Vec<Breach>) {
    let mut actual = BTreeSet::new();
    for case in sorted_dirs(&root.join("engine/tests/fixtures")) {
        for entry in std::fs::read_dir(&case).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != "root" {
                actual.insert(name);
            }
        }
    }
    let mut documented = BTreeSet::new();
    let mut in_list = false;
    for line in arch.lines() {
        let t = line.trim_start();
        if t.starts_with("Fixture files:") {
            in_list = true;
        } else if t.is_empty() {
            in_list = false;
        }
        if in_list {
            for name in backticked(t) {
                if !name.contains(['/', ' ']) && name.contains('.') || name == "PROVENANCE" {
                    documented.insert(name.to_string());
                }
            }
        }
    }
    for kind in actual.difference(&documented) {
        found.push(Breach::new(
            "fixtures",
            "ARCHITECTURE.md",
            format!("fixtures use `{kind}`, which the \"Fixture files:\" paragraph does not document"),
        ));
    }
    for kind in documented.difference(&actual) {
        found.push(Breach::new(
            "fixtures",
            "ARCHITECTURE.md",
            format!("the \"Fixture files:\" paragraph documents `{kind}`, which no fixture has"),
        ));
    }
}

/// Whether rule 4 applies to the workspace file `rel`.
fn in_limits_scope(rel: &str) -> bool {
    rel.starts_with("engine/src/")
        || (rel.starts_with("plugins/") && rel.split('/').nth(2) == Some("src"))
}

/// Rule 4 on one file.
fn limits(rel: &str, text: &str, found: &mut Vec<Breach>) {
    let whole_file = rel.ends_with("/limits.rs");
    // Brace depth at which each open `mod limits {` started.
    let mut limits_depth: Vec<i64> = Vec::new();
    let mut depth: i64 = 0;
    let mut cfg_test = false;
    for (i, raw) in text.lines().enumerate() {
        let line = code_of(raw);
        let t = line.trim();
        if t.starts_with("#[cfg(test)]") {
            cfg_test = true;
        }
        // Test code is everything from `#[cfg(test)]` on (test modules end the files here).
        if cfg_test {
            break;
        }
        if (t.starts_with("mod limits") || t.starts_with("pub mod limits")) && t.ends_with('{') {
            limits_depth.push(depth);
        }
        let inside = whole_file || !limits_depth.is_empty();
        if !inside {
            if let Some(name) = const_name(t)
                && is_limit_name(name)
            {
                found.push(Breach::new(
                    "limits",
                    rel,
                    format!("line {}: `{name}` is a limit outside a `limits` module", i + 1),
                ));
            }
            // A named constant is not bare (its name must then not look like a limit, above).
            if let Some(what) = bare_limit(t).filter(|_| const_name(t).is_none()) {
                found.push(Breach::new(
                    "limits",
                    rel,
                    format!("line {}: bare numeric limit in `{what}`: name it in a `limits` module", i + 1),
                ));
            }
        }
        for c in line.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if limits_depth.last() == Some(&depth) {
                        limits_depth.pop();
                    }
                }
                _ => {}
            }
        }
    }
}

/// A line without its `//` comment and with string literals emptied (braces and numbers in
/// strings are not code).
fn code_of(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut prev = '\0';
    for c in line.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
                out.push('"');
            }
            continue;
        }
        if c == '/' && prev == '/' {
            out.pop();
            break;
        }
        if c == '"' {
            in_str = true;
        }
        // A char literal holding a brace or a quote ('{', '"') is not code either.
        out.push(c);
        prev = c;
    }
    out.replace("'{'", "' '")
        .replace("'}'", "' '")
        .replace("'\"'", "' '")
}

/// The name of a `const` declared on this line.
fn const_name(t: &str) -> Option<&str> {
    let rest = t
        .strip_prefix("pub const ")
        .or_else(|| t.strip_prefix("pub(crate) const "))
        .or_else(|| t.strip_prefix("pub(super) const "))
        .or_else(|| t.strip_prefix("const "))?;
    rest.split(':').next().map(str::trim)
}

fn is_limit_name(name: &str) -> bool {
    // A default of the audited target's own programs is a fact about them, not one of ours.
    if name.contains("DEFAULT") {
        return false;
    }
    const PREFIXES: [&str; 2] = ["MAX_", "MIN_"];
    const SUFFIXES: [&str; 7] = [
        "_BYTES", "_DEPTH", "_ENTRIES", "_TIME", "_TIMEOUT", "_DEADLINE", "_LIMIT",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The expression of a bare numeric limit on this line, if any.
fn bare_limit(t: &str) -> Option<String> {
    const CALLS: [&str; 6] = [
        "Duration::from_secs(",
        "Duration::from_millis(",
        "Duration::from_micros(",
        "truncate(",
        ".take(",
        "check_interval: NonZeroU32::new(",
    ];
    for call in CALLS {
        let mut from = 0;
        while let Some(at) = t[from..].find(call) {
            let args_start = from + at + call.len();
            let args = &t[args_start..];
            let args = &args[..args.find(')').unwrap_or(args.len())];
            let last = args.rsplit(',').next().unwrap_or("").trim();
            if is_multi_digit_literal(last) {
                return Some(format!("{call}{args})"));
            }
            from = args_start;
        }
    }
    for op in [".len() <= ", ".len() < ", ".len() > ", ".len() >= "] {
        if let Some(at) = t.find(op) {
            let rest = &t[at + op.len()..];
            let literal: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '_')
                .collect();
            if is_multi_digit_literal(&literal) {
                return Some(format!("{}{literal}", op.trim_start_matches('.')));
            }
        }
    }
    None
}

fn is_multi_digit_literal(s: &str) -> bool {
    let digits: String = s.chars().filter(|c| *c != '_').collect();
    digits.len() >= 2 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Rule 5 on one file.
fn long_file(rel: &str, text: &str, found: &mut Vec<Breach>) {
    let lines = text.lines().count();
    if lines <= LONG_FILE_LINES {
        return;
    }
    let says_why = text
        .lines()
        .take(LONG_FILE_HEADER_LINES)
        .any(|l| l.trim_start().starts_with("//") && l.contains("Long file:"));
    if !says_why {
        found.push(Breach::new(
            "long",
            rel,
            format!(
                "{lines} lines (over {LONG_FILE_LINES}) without a `Long file:` comment in its first {LONG_FILE_HEADER_LINES} lines saying why"
            ),
        ));
    }
}

/// Every `.rs` file of the workspace outside build output and vendored trees, sorted.
fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walk(root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    out.sort();
    out
}

/// Files under `dir`, recursively, skipping `target`, hidden directories and fixture trees.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                // A cargo target directory (it holds CACHEDIR.TAG), not a module named `target`.
                let build_dir = name == "target" && path.join("CACHEDIR.TAG").exists();
                if build_dir || name.starts_with('.') || name == "fixtures" || name == "root" {
                    continue;
                }
                stack.push(path);
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch workspace under the system temp directory, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "xtask-tidy-{name}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
        fn write(&self, rel: &str, text: &str) {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const ARCH: &str = "# A\n\n## Code map\n\n### `engine`\n- `runner`: runs.\n  - `runner::host`: host.\n- `main`: cli.\n\n### `plugins/phipolicy-sdk`\nModules: `shell`,\n`tls`.\n\n## Testing\nFixture files: `expect.yaml`, `modes.yaml`.\n";
    const SECURITY: &str = "| x | `hostile.rs::contained` , `runner::host::tests::admits` |\n";

    /// A small workspace that passes every rule.
    fn clean(name: &str) -> Scratch {
        let s = Scratch::new(name);
        s.write("ARCHITECTURE.md", ARCH);
        s.write("SECURITY.md", SECURITY);
        s.write("engine/Cargo.toml", "");
        s.write("engine/src/lib.rs", "pub mod runner;\n");
        s.write("engine/src/main.rs", "fn main() {}\n");
        s.write(
            "engine/src/runner/mod.rs",
            "mod host;\npub mod limits {\n    pub const MAX_X: usize = 64;\n    pub const T: std::time::Duration = std::time::Duration::from_secs(10);\n}\n",
        );
        s.write(
            "engine/src/runner/host.rs",
            "fn f(s: &str) -> bool { s.len() <= super::limits::MAX_X }\n#[cfg(test)]\nmod tests {\n    const MAX_Y: usize = 9;\n    #[test]\n    fn admits() { assert!(\"x\".len() < 100); }\n}\n",
        );
        s.write("engine/tests/hostile.rs", "#[test]\nfn contained() {}\n");
        s.write("plugins/phipolicy-sdk/Cargo.toml", "");
        s.write("plugins/phipolicy-sdk/src/lib.rs", "");
        s.write("plugins/phipolicy-sdk/src/shell.rs", "//! Shell.\n");
        s.write("plugins/phipolicy-sdk/src/tls.rs", "//! TLS.\n");
        s.write("engine/tests/fixtures/a/expect.yaml", "x: pass\n");
        s.write("engine/tests/fixtures/a/root/etc/x", "");
        s.write("engine/tests/fixtures/b/modes.yaml", "{}\n");
        s
    }

    /// The problems of the scratch tree, without the real workspace's pending list.
    fn problems(s: &Scratch) -> Vec<String> {
        check(&s.0)
            .into_iter()
            .filter(|p| !p.starts_with("xtask/src/tidy.rs: the pending"))
            .collect()
    }

    #[test]
    fn a_clean_tree_passes() {
        let s = clean("clean");
        assert_eq!(problems(&s), Vec::<String>::new());
    }

    #[test]
    fn a_module_missing_from_the_map_fails() {
        let s = clean("new-module");
        s.write("engine/src/registry.rs", "//! New.\n");
        let p = problems(&s);
        assert!(p.iter().any(|m| m.contains("does not name the module `registry`")), "{p:?}");
    }

    #[test]
    fn a_module_of_a_new_library_crate_is_covered() {
        let s = clean("new-crate");
        s.write("plugins/phipolicy-parsers/Cargo.toml", "");
        s.write("plugins/phipolicy-parsers/src/lib.rs", "");
        s.write("plugins/phipolicy-parsers/src/cron.rs", "");
        let p = problems(&s);
        assert!(p.iter().any(|m| m.contains("no section \"### `plugins/phipolicy-parsers`\"")), "{p:?}");
    }

    #[test]
    fn a_documented_module_that_is_gone_fails() {
        let s = clean("gone-module");
        std::fs::remove_file(s.0.join("plugins/phipolicy-sdk/src/tls.rs")).unwrap();
        let p = problems(&s);
        assert!(p.iter().any(|m| m.contains("names the module `tls`")), "{p:?}");
    }

    #[test]
    fn a_cited_test_that_is_gone_fails() {
        let s = clean("gone-test");
        s.write("engine/tests/hostile.rs", "#[test]\nfn renamed() {}\n");
        s.write("engine/src/runner/host.rs", "#[cfg(test)]\nmod tests {}\n");
        let p = problems(&s);
        assert!(p.iter().any(|m| m.contains("hostile.rs has no `fn contained`")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`runner::host::tests::admits`")), "{p:?}");
    }

    #[test]
    fn an_undocumented_fixture_file_fails() {
        let s = clean("sidecar");
        s.write("engine/tests/fixtures/a/mtimes.yaml", "{}\n");
        std::fs::remove_file(s.0.join("engine/tests/fixtures/b/modes.yaml")).unwrap();
        let p = problems(&s);
        assert!(p.iter().any(|m| m.contains("fixtures use `mtimes.yaml`")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("documents `modes.yaml`, which no fixture has")), "{p:?}");
    }

    #[test]
    fn bare_limits_fail_outside_limits_modules() {
        let s = clean("limits");
        s.write(
            "engine/src/runner/host.rs",
            "const MAX_Z: usize = 3;\nfn f(s: &str) -> bool { s.len() <= 4096 }\nfn g() { std::thread::sleep(Duration::from_secs(30)); }\nfn h(m: &str) -> String { truncate(m, 500) }\n",
        );
        let p = problems(&s);
        for what in ["`MAX_Z`", "len() <= 4096", "Duration::from_secs(30)", "truncate(m, 500)"] {
            assert!(p.iter().any(|m| m.contains(what)), "{what}: {p:?}");
        }
    }

    #[test]
    fn long_files_must_say_why() {
        let s = clean("long");
        let body = format!("fn contained() {{}}\n{}", "fn f() {}\n".repeat(LONG_FILE_LINES));
        s.write("engine/tests/hostile.rs", &body);
        assert!(problems(&s).iter().any(|m| m.contains("without a `Long file:` comment")));
        s.write(
            "engine/tests/hostile.rs",
            &format!("//! Hostile.\n//! Long file: one test per behaviour.\n{body}"),
        );
        assert_eq!(problems(&s), Vec::<String>::new());
    }

    /// The real workspace passes (what `cargo xtask test` runs first).
    #[test]
    fn the_workspace_is_tidy() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert_eq!(check(root), Vec::<String>::new());
    }
}

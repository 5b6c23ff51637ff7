//! The account databases `/etc/passwd`, `/etc/shadow` and `/etc/group`, parsed into records that
//! keep their line numbers, with the questions controls ask of them (can this account log in, is
//! its password usable, when must it change).
//!
//! ```
//! use phipolicy_parsers::accounts::parse_passwd;
//!
//! let db = parse_passwd("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n");
//! assert_eq!(db.entries[1].name, "alice");
//! assert_eq!(db.entries[1].uid, 1000);
//! ```

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

use phipolicy_sdk::facts::ParseIssue;

/// One `/etc/passwd` line: `name:password:uid:gid:gecos:home:shell`. Its text fields are owned
/// `String`s, or `&str` borrowed from the file's text ([`parse_passwd_borrowed`]: no allocation
/// per record, for hosts with tens of thousands of accounts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasswdEntry<S = String> {
    pub name: S,
    /// The password field (`x` when the hash lives in `/etc/shadow`).
    pub password: S,
    pub uid: u32,
    pub gid: u32,
    pub gecos: S,
    pub home: S,
    /// As written; empty means `/bin/sh` (passwd(5)).
    pub shell: S,
    pub line: u32,
}

impl<S: AsRef<str>> PasswdEntry<S> {
    /// Whether the shell lets the account log in interactively (see [`is_login_shell`]).
    pub fn has_login_shell(&self) -> bool {
        is_login_shell(self.shell.as_ref())
    }
}

/// One `/etc/shadow` line: `name:hash:lastchg:min:max:warn:inactive:expire:reserved`. Numeric fields
/// are `None` when empty (or unparsable, which is also reported as a [`ParseIssue`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowEntry<S = String> {
    pub name: S,
    pub hash: S,
    /// Days since 1970-01-01 of the last password change (0: must change at next login).
    pub last_change: Option<i64>,
    pub min_days: Option<i64>,
    /// Maximum password age in days; `None` (empty field) means no limit.
    pub max_days: Option<i64>,
    pub warn_days: Option<i64>,
    pub inactive_days: Option<i64>,
    pub expire_date: Option<i64>,
    /// The max-days field as written, for evidence.
    pub max_days_field: S,
    pub line: u32,
}

impl<S: AsRef<str>> ShadowEntry<S> {
    pub fn password_state(&self) -> PasswordState {
        PasswordState::of(self.hash.as_ref())
    }
}

/// One `/etc/group` line: `name:password:gid:member,member`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupEntry<S = String> {
    pub name: S,
    pub password: S,
    pub gid: u32,
    pub members: Vec<S>,
    pub line: u32,
}

/// Whether a password field lets someone log in with a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordState {
    /// A hash some password matches.
    Usable,
    /// Locked: starts with `!` (`!`, `!!`, `!*`, or `!` before a hash that `usermod -U` restores).
    Locked,
    /// Empty field: logging in needs no password at all (where PAM's `nullok` allows it).
    Empty,
    /// No password was ever set (`*`, `*LK*` and the like): no password matches.
    None,
}

impl PasswordState {
    /// Classifies a shadow (or passwd) password field.
    pub fn of(field: &str) -> PasswordState {
        if field.is_empty() {
            PasswordState::Empty
        } else if field.starts_with('!') {
            PasswordState::Locked
        } else if field.starts_with('*') {
            PasswordState::None
        } else {
            PasswordState::Usable
        }
    }
}

/// Shells that end the session at once or only run a fixed command, by file name.
const NON_LOGIN_SHELLS: &[&str] = &["nologin", "false", "true", "sync", "shutdown", "halt"];

/// Whether `shell` (a passwd shell field) gives an interactive login: not one of `nologin`,
/// `false`, `true`, `sync`, `shutdown`, `halt` (any directory). An empty field is `/bin/sh`
/// (passwd(5)), so it is a login shell.
pub fn is_login_shell(shell: &str) -> bool {
    let shell = shell.trim();
    if shell.is_empty() {
        return true;
    }
    let name = shell.rsplit('/').next().unwrap_or(shell);
    !NON_LOGIN_SHELLS.contains(&name)
}

/// Names that cannot identify a person (controls.md, `ids.unique`): a login account so named is a
/// shared account.
pub const GENERIC_ACCOUNT_NAMES: &[&str] = &["admin", "shared", "guest", "test", "user"];

/// Whether `name` is one of [`GENERIC_ACCOUNT_NAMES`].
pub fn is_generic_name(name: &str) -> bool {
    GENERIC_ACCOUNT_NAMES.contains(&name)
}

/// Parses a shadow day-count field: empty means unset.
pub fn parse_days(field: &str) -> Result<Option<i64>, String> {
    let f = field.trim();
    if f.is_empty() {
        return Ok(None);
    }
    f.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("{f:?} is not a number of days"))
}

/// The hasher of the indexes [`Database::first_by`] and [`Database::duplicates_by`] build
/// (rustc's FxHash). Keys are the target's own names and ids, and a hostile file can at worst slow
/// its own plugin (whose run is bounded in time), so the DoS-resistant default (SipHash) costs more
/// than it protects here: tens of thousands of keys hashed several times dominated the check.
type IndexHasher = rustc_hash::FxBuildHasher;

/// A map built by [`Database::first_by`].
pub type Index<K, V> = HashMap<K, V, IndexHasher>;

/// A parsed account database file: records in file order, plus lines that were not records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Database<T> {
    pub path: String,
    pub entries: Vec<T>,
    pub issues: Vec<ParseIssue>,
}

impl<T> Database<T> {
    fn new(path: &str) -> Self {
        Database {
            path: path.to_string(),
            entries: Vec::new(),
            issues: Vec::new(),
        }
    }

    fn issue(&mut self, line: u32, message: String) {
        self.issues.push(ParseIssue {
            path: self.path.clone(),
            line,
            message,
        });
    }

    /// Issues in line order (skipped lines are found before the records are checked).
    fn sort_issues(&mut self) {
        self.issues.sort_by_key(|i| i.line);
    }

    /// The first record for each value of `key`, as the C library's `getpwnam`/`getgrgid` find
    /// it: an index built in one pass, for lookups that would otherwise scan every record.
    pub fn first_by<'a, K: Eq + Hash>(&'a self, key: impl Fn(&'a T) -> K) -> Index<K, &'a T> {
        let mut index = Index::with_capacity_and_hasher(self.entries.len(), Default::default());
        for e in &self.entries {
            index.entry(key(e)).or_insert(e);
        }
        index
    }

    /// Records sharing a value of `key`, grouped in one pass: each group lists every record with
    /// that value in file order; groups come in the order of their first record.
    pub fn duplicates_by<'a, K: Eq + Hash>(&'a self, key: impl Fn(&'a T) -> K) -> Vec<Vec<&'a T>> {
        // The first record of each key, and every later record with the index of its first:
        // no allocation per key, so tens of thousands of distinct keys cost one table.
        let mut first: Index<K, usize> =
            Index::with_capacity_and_hasher(self.entries.len(), Default::default());
        let mut later: Vec<(usize, usize)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            match first.entry(key(e)) {
                std::collections::hash_map::Entry::Occupied(f) => later.push((*f.get(), i)),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                }
            }
        }
        // Stable sort by first record: each group's later records stay in file order.
        later.sort_by_key(|(f, _)| *f);
        let mut groups: Vec<Vec<&'a T>> = Vec::new();
        for (f, i) in later {
            let (Some(fe), Some(ie)) = (self.entries.get(f), self.entries.get(i)) else {
                continue;
            };
            match groups.last_mut() {
                Some(g) if g.first().is_some_and(|x| std::ptr::eq(*x, fe)) => g.push(ie),
                _ => groups.push(vec![fe, ie]),
            }
        }
        groups
    }
}

impl<S: AsRef<str>> Database<PasswdEntry<S>> {
    pub fn by_name(&self, name: &str) -> Option<&PasswdEntry<S>> {
        self.entries.iter().find(|e| e.name.as_ref() == name)
    }
}

impl<S: AsRef<str>> Database<ShadowEntry<S>> {
    pub fn by_name(&self, name: &str) -> Option<&ShadowEntry<S>> {
        self.entries.iter().find(|e| e.name.as_ref() == name)
    }
}

impl<S: AsRef<str>> Database<GroupEntry<S>> {
    pub fn by_name(&self, name: &str) -> Option<&GroupEntry<S>> {
        self.entries.iter().find(|e| e.name.as_ref() == name)
    }
}

/// The most fields any account file's record has (`/etc/shadow`: 9); a line with more is only
/// counted, since every parser then reports it.
const WIDEST_RECORD: usize = 9;

/// The `:`-separated fields of one record, borrowed from the text: a fixed array, so tens of
/// thousands of records cost no allocation each.
struct Fields<'t> {
    fields: [&'t str; WIDEST_RECORD],
    /// How many fields the line has (may exceed `WIDEST_RECORD`; only the first are kept).
    len: usize,
}

impl<'t> Fields<'t> {
    fn split(raw: &'t str) -> Self {
        let mut fields = [""; WIDEST_RECORD];
        let mut len = 0;
        let mut start = 0;
        // A byte loop: `:` is ASCII, so every cut is on a character boundary, and records are
        // short enough that `str::split`'s searcher costs more than it saves.
        let bytes = raw.as_bytes();
        for i in 0..=bytes.len() {
            if i == bytes.len() || bytes[i] == b':' {
                if let Some(slot) = fields.get_mut(len) {
                    *slot = raw.get(start..i).unwrap_or("");
                }
                len += 1;
                start = i + 1;
            }
        }
        Fields { fields, len }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Field `i` as written (`""` when the line has fewer fields).
    fn raw(&self, i: usize) -> &'t str {
        self.fields.get(i).copied().unwrap_or("")
    }

    /// Field `i` as the record keeps it: a `String` copy or the borrowed `&str` itself.
    fn get<S: From<&'t str>>(&self, i: usize) -> S {
        S::from(self.raw(i))
    }
}

/// The lines of an account file worth looking at: (line number, fields). Blank lines are skipped;
/// NIS compat lines (`+`/`-`) and comments are reported, since the C library does not treat them
/// as local accounts.
fn record_lines<'t, T>(db: &mut Database<T>, text: &'t str) -> Vec<(u32, Fields<'t>)> {
    let mut out = Vec::with_capacity(text.len() / 48 + 1);
    for (idx, raw) in text.lines().enumerate() {
        let line = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        if raw.trim().is_empty() {
            continue;
        }
        if raw.starts_with('#') {
            db.issue(
                line,
                "comment line (not valid in this file; ignored)".into(),
            );
            continue;
        }
        if raw.starts_with('+') || raw.starts_with('-') {
            db.issue(
                line,
                "NIS compat entry (not a local account; ignored)".into(),
            );
            continue;
        }
        // Fields borrow from the text: only the ones a record keeps are copied.
        out.push((line, Fields::split(raw)));
    }
    db.entries.reserve(out.len());
    out
}

fn parse_id(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `/etc/passwd`. Lines without 7 fields or with a non-numeric UID/GID are issues.
pub fn parse_passwd(path: &str, text: &str) -> Database<PasswdEntry> {
    parse_passwd_as(path, text)
}

/// [`parse_passwd`] with the records' text borrowed from `text`.
pub fn parse_passwd_borrowed<'t>(path: &str, text: &'t str) -> Database<PasswdEntry<&'t str>> {
    parse_passwd_as(path, text)
}

fn parse_passwd_as<'t, S: From<&'t str>>(path: &str, text: &'t str) -> Database<PasswdEntry<S>> {
    let mut db = Database::new(path);
    for (line, fields) in record_lines(&mut db, text) {
        if fields.len() != 7 {
            db.issue(line, format!("{} fields, expected 7", fields.len()));
            continue;
        }
        let name = fields.raw(0);
        if name.is_empty() {
            db.issue(line, "empty user name".into());
            continue;
        }
        let (Some(uid), Some(gid)) = (parse_id(fields.raw(2)), parse_id(fields.raw(3))) else {
            db.issue(line, format!("user {name}: UID or GID is not a number"));
            continue;
        };
        db.entries.push(PasswdEntry {
            name: S::from(name),
            password: fields.get(1),
            uid,
            gid,
            gecos: fields.get(4),
            home: fields.get(5),
            shell: fields.get(6),
            line,
        });
    }
    db.sort_issues();
    db
}

/// Parses `/etc/shadow`. Lines with fewer than 2 or more than 9 fields are issues; so are
/// non-numeric day fields (the entry is kept with that field unset).
pub fn parse_shadow(path: &str, text: &str) -> Database<ShadowEntry> {
    parse_shadow_as(path, text)
}

/// [`parse_shadow`] with the records' text borrowed from `text`.
pub fn parse_shadow_borrowed<'t>(path: &str, text: &'t str) -> Database<ShadowEntry<&'t str>> {
    parse_shadow_as(path, text)
}

fn parse_shadow_as<'t, S: From<&'t str>>(path: &str, text: &'t str) -> Database<ShadowEntry<S>> {
    let mut db = Database::new(path);
    for (line, fields) in record_lines(&mut db, text) {
        if fields.len() < 2 || fields.len() > 9 {
            db.issue(line, format!("{} fields, expected 9", fields.len()));
            continue;
        }
        let name = fields.raw(0);
        if name.is_empty() {
            db.issue(line, "empty user name".into());
            continue;
        }
        if fields.len() != 9 {
            db.issue(
                line,
                format!("user {name}: {} fields, expected 9", fields.len()),
            );
        }
        let mut days = |i: usize, what: &str| match parse_days(fields.raw(i)) {
            Ok(v) => v,
            Err(e) => {
                db.issues.push(ParseIssue {
                    path: path.to_string(),
                    line,
                    message: format!("user {name}: {what}: {e}"),
                });
                None
            }
        };
        let last_change = days(2, "last change");
        let min_days = days(3, "minimum age");
        let max_days = days(4, "maximum age");
        let warn_days = days(5, "warning period");
        let inactive_days = days(6, "inactivity period");
        let expire_date = days(7, "expiration date");
        db.entries.push(ShadowEntry {
            hash: fields.get(1),
            last_change,
            min_days,
            max_days,
            warn_days,
            inactive_days,
            expire_date,
            max_days_field: fields.get(4),
            name: S::from(name),
            line,
        });
    }
    db.sort_issues();
    db
}

/// Parses `/etc/group`. Lines without 4 fields or with a non-numeric GID are issues.
pub fn parse_group(path: &str, text: &str) -> Database<GroupEntry> {
    parse_group_as(path, text)
}

/// [`parse_group`] with the records' text borrowed from `text`.
pub fn parse_group_borrowed<'t>(path: &str, text: &'t str) -> Database<GroupEntry<&'t str>> {
    parse_group_as(path, text)
}

fn parse_group_as<'t, S: From<&'t str>>(path: &str, text: &'t str) -> Database<GroupEntry<S>> {
    let mut db = Database::new(path);
    for (line, fields) in record_lines(&mut db, text) {
        if fields.len() != 4 {
            db.issue(line, format!("{} fields, expected 4", fields.len()));
            continue;
        }
        let name = fields.raw(0);
        if name.is_empty() {
            db.issue(line, "empty group name".into());
            continue;
        }
        let Some(gid) = parse_id(fields.raw(2)) else {
            db.issue(line, format!("group {name}: GID is not a number"));
            continue;
        };
        let members = fields
            .raw(3)
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(S::from)
            .collect();
        db.entries.push(GroupEntry {
            name: S::from(name),
            password: fields.get(1),
            gid,
            members,
            line,
        });
    }
    db.sort_issues();
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    /// base-passwd 3.6.1 (Debian 12): the master copies `/etc/passwd` and `/etc/group` start from.
    const PASSWD_MASTER: &str = include_str!("../testdata/debian12/passwd.master");
    const GROUP_MASTER: &str = include_str!("../testdata/debian12/group.master");

    /// What `pwconv` writes for base-passwd's accounts on a fresh Debian 12 system.
    fn shadow_of_master() -> String {
        PASSWD_MASTER
            .lines()
            .map(|l| format!("{}:*:19769:0:99999:7:::\n", l.split(':').next().unwrap()))
            .collect()
    }

    #[test]
    fn base_passwd_master() {
        let db = parse_passwd("/etc/passwd", PASSWD_MASTER);
        assert!(db.issues.is_empty(), "{:?}", db.issues);
        assert_eq!(db.entries.len(), 18);
        let root = db.by_name("root").unwrap();
        assert_eq!(
            (root.uid, root.line, root.shell.as_str()),
            (0, 1, "/bin/bash")
        );
        assert!(root.has_login_shell());
        let login_names: Vec<_> = db
            .entries
            .iter()
            .filter(|e| e.has_login_shell())
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            login_names,
            vec!["root"],
            "sync's /bin/sync and nologin are not login shells"
        );
        assert_eq!(db.by_name("nobody").unwrap().uid, 65534);
        assert_eq!(db.by_name("_apt").unwrap().gecos, "");
    }

    #[test]
    fn base_group_master() {
        let db = parse_group("/etc/group", GROUP_MASTER);
        assert!(db.issues.is_empty(), "{:?}", db.issues);
        let sudo = db.by_name("sudo").unwrap();
        assert_eq!((sudo.gid, sudo.members.len()), (27, 0));
        let with_members = parse_group("/etc/group", "phi-access:x:1001:alice, bob,,\n");
        assert_eq!(with_members.entries[0].members, vec!["alice", "bob"]);
    }

    #[test]
    fn shadow_fields() {
        let mut text = shadow_of_master();
        text.push_str("alice:$y$j9T$abc$def:19800:7:90:14:::\n");
        text.push_str("bob:!$y$j9T$abc$def:19800:0:99999:7:::\n");
        text.push_str("carol::19800:0::7:::\n");
        text.push_str("dave:!!:19800::::::\n");
        let db = parse_shadow("/etc/shadow", &text);
        assert!(db.issues.is_empty(), "{:?}", db.issues);
        let root = db.by_name("root").unwrap();
        assert_eq!(
            (root.password_state(), root.max_days, root.line),
            (PasswordState::None, Some(99999), 1)
        );
        let alice = db.by_name("alice").unwrap();
        assert_eq!(
            (
                alice.password_state(),
                alice.min_days,
                alice.max_days,
                alice.warn_days
            ),
            (PasswordState::Usable, Some(7), Some(90), Some(14))
        );
        assert_eq!(
            db.by_name("bob").unwrap().password_state(),
            PasswordState::Locked
        );
        let carol = db.by_name("carol").unwrap();
        assert_eq!(
            (
                carol.password_state(),
                carol.max_days,
                carol.max_days_field.as_str()
            ),
            (PasswordState::Empty, None, "")
        );
        assert_eq!(
            db.by_name("dave").unwrap().password_state(),
            PasswordState::Locked
        );
    }

    #[test]
    fn password_states() {
        for (field, want) in [
            ("", PasswordState::Empty),
            ("*", PasswordState::None),
            ("*LK*", PasswordState::None),
            ("!", PasswordState::Locked),
            ("!!", PasswordState::Locked),
            ("!*", PasswordState::Locked),
            ("!$6$salt$hash", PasswordState::Locked),
            ("$6$salt$hash", PasswordState::Usable),
            ("abcdefghijklm", PasswordState::Usable),
        ] {
            assert_eq!(PasswordState::of(field), want, "{field:?}");
        }
    }

    #[test]
    fn login_shells() {
        for (shell, want) in [
            ("/bin/bash", true),
            ("/usr/bin/zsh", true),
            ("", true),
            ("/usr/sbin/nologin", false),
            ("/sbin/nologin", false),
            ("/bin/false", false),
            ("/bin/sync", false),
            ("/sbin/shutdown", false),
            ("/sbin/halt", false),
        ] {
            assert_eq!(is_login_shell(shell), want, "{shell:?}");
        }
    }

    #[test]
    fn malformed_lines_are_issues() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\nshort:x:1\nbad:x:abc:0::/:/bin/sh\n+::::::\n# note\n:x:5:5::/:/bin/sh\n";
        let db = parse_passwd("/etc/passwd", passwd);
        assert_eq!(db.entries.len(), 1);
        let lines: Vec<_> = db.issues.iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7]);

        let shadow = "alice:$6$x:19800:0:ninety:7:::\nshort\nlong:a:b:c:d:e:f:g:h:i:j\nold:$6$x:19800:0:90\n";
        let db = parse_shadow("/etc/shadow", shadow);
        let alice = db.by_name("alice").unwrap();
        assert_eq!(
            (alice.max_days, alice.max_days_field.as_str()),
            (None, "ninety")
        );
        assert_eq!(db.by_name("old").unwrap().max_days, Some(90));
        assert_eq!(db.entries.len(), 2);
        assert_eq!(db.issues.len(), 4, "{:?}", db.issues);

        let db = parse_group("/etc/group", "g:x:notanumber:\nh:x:1\n");
        assert!(db.entries.is_empty());
        assert_eq!(db.issues.len(), 2);
    }

    #[test]
    fn never_panics_on_garbage() {
        let garbage = ":::::::::::::\n\u{0}\n:\n\u{ff}:\u{ff}:1:1:::\n::::\n-\n+\n99999999999:x:99999999999:0::/:\n";
        let _ = parse_passwd("/p", garbage);
        let _ = parse_shadow("/s", garbage);
        let _ = parse_group("/g", garbage);
    }

    #[test]
    fn generated_inputs_never_panic() {
        for text in phipolicy_sdk::testing::generated_inputs() {
            let lines = text.lines().count();
            let p = parse_passwd("/p", &text);
            assert!(p.entries.len() + p.issues.len() <= lines);
            let s = parse_shadow("/s", &text);
            assert!(s.entries.len() <= lines);
            let g = parse_group("/g", &text);
            assert!(g.entries.len() + g.issues.len() <= lines);
        }
    }
}

//! The unique-user-id safeguard (45 CFR 164.312(a)(2)(i)): gathers the account records behind
//! `ids.unique` (names and ids recorded twice, UID 0 accounts, accounts with a login shell, empty
//! password fields; never the hashes) and `ids.phi-group` (the `phi_group` group and who belongs
//! to it). Every step is one pass over the databases, so tens of thousands of accounts cost
//! milliseconds, and the facts grow with the findings, not with the accounts.

use std::collections::HashSet;

use phipolicy_parsers::accounts::{
    self, Database, GroupEntry, PasswdEntry, PasswordState, ShadowEntry,
};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::os_release::{Family, OsRelease};
use phipolicy_sdk::{Manifest, Params, Plugin, ReadError, Target, TargetExt};
use serde_json::{Value, json};

const PASSWD: &str = "/etc/passwd";
const SHADOW: &str = "/etc/shadow";
const GROUP: &str = "/etc/group";

/// The group PHI users belong to when the parameter is absent (controls.md's default).
const DEFAULT_PHI_GROUP: &str = "phi-access";

/// The unique-user-id plugin.
pub struct UniqueUserId;

impl Plugin for UniqueUserId {
    fn manifest() -> Manifest {
        Manifest {
            id: "unique-user-id",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "unique-user-id",
            cfr: &["164.312(a)(2)(i)"],
            controls: &["ids.unique", "ids.phi-group"],
            reads: &[
                "/etc/os-release",
                "/usr/lib/os-release",
                "/etc/passwd",
                "/etc/shadow",
                "/etc/group",
            ],
        }
    }

    fn collect(target: &dyn Target, params: &Params) -> Result<Value, String> {
        let phi_group = params.string("phi_group").unwrap_or(DEFAULT_PHI_GROUP);
        Ok(collect_facts(target, phi_group))
    }
}

phipolicy_sdk::export_plugin!(UniqueUserId);

/// One account database file as read: whether it exists, and its text when it was read. The
/// records are parsed borrowing from the text (no allocation per account).
struct Read {
    exists: bool,
    text: Option<String>,
}

impl Read {
    fn of(target: &dyn Target, path: &str, unreadable: &mut Vec<Unreadable>) -> Read {
        match target.read_text(path) {
            Ok(text) => Read {
                exists: true,
                text: Some(text),
            },
            Err(e) => {
                unreadable.push(Unreadable::new(path, &e));
                Read {
                    exists: e != ReadError::NotFound,
                    text: None,
                }
            }
        }
    }

    fn readable(&self) -> bool {
        self.text.is_some()
    }

    /// The parsed records, their parse issues added to `issues`.
    fn parse<'t, T>(
        &'t self,
        path: &str,
        parse: fn(&str, &'t str) -> Database<T>,
        issues: &mut Vec<ParseIssue>,
    ) -> Option<Database<T>> {
        let db = parse(path, self.text.as_deref()?);
        issues.extend(db.issues.iter().cloned());
        Some(db)
    }
}

type Passwd<'t> = PasswdEntry<&'t str>;
type Shadow<'t> = ShadowEntry<&'t str>;
type Group<'t> = GroupEntry<&'t str>;

/// Gathers every fact of this safeguard.
pub fn collect_facts(target: &dyn Target, phi_group: &str) -> Value {
    let mut unreadable: Vec<Unreadable> = Vec::new();
    let mut issues: Vec<ParseIssue> = Vec::new();
    let os = OsRelease::load_or_record(target, &mut unreadable);
    let family = os.as_ref().map_or(Family::Unknown, |o| o.family);

    let passwd = Read::of(target, PASSWD, &mut unreadable);
    let shadow = Read::of(target, SHADOW, &mut unreadable);
    let group = Read::of(target, GROUP, &mut unreadable);
    let passwd_db = passwd.parse(PASSWD, accounts::parse_passwd_borrowed, &mut issues);
    let shadow_db = shadow.parse(SHADOW, accounts::parse_shadow_borrowed, &mut issues);
    let group_db = group.parse(GROUP, accounts::parse_group_borrowed, &mut issues);
    let (passwd_db, shadow_db, group_db) =
        (passwd_db.as_ref(), shadow_db.as_ref(), group_db.as_ref());
    let count = |n: Option<usize>| n.unwrap_or(0);
    let login: Vec<&Passwd> = passwd_db.map_or_else(Vec::new, |p| {
        p.entries.iter().filter(|e| e.has_login_shell()).collect()
    });
    json!({
        "os": os.as_ref().map(|o| json!({
            "id": o.id, "version_id": o.version_id, "family": o.family, "path": o.path,
        })),
        "family": family,
        "passwd": {"path": PASSWD, "exists": passwd.exists, "readable": passwd.readable(), "count": count(passwd_db.map(|d| d.entries.len()))},
        "shadow": {"path": SHADOW, "exists": shadow.exists, "readable": shadow.readable(), "count": count(shadow_db.map(|d| d.entries.len()))},
        "group": {"path": GROUP, "exists": group.exists, "readable": group.readable(), "count": count(group_db.map(|d| d.entries.len()))},
        "duplicates": duplicates(passwd_db, group_db),
        "uid_zero": passwd_db.map_or_else(Vec::new, |p| p.entries.iter().filter(|e| e.uid == 0).map(uid_zero_fact).collect()),
        "login_account_columns": LOGIN_COLUMNS,
        "login_account_count": login.len(),
        "login_accounts": login.iter().take(LISTED_LOGIN_ACCOUNTS).map(|e| login_fact(e)).collect::<Vec<_>>(),
        "generic_login_accounts": login.iter().filter(|e| accounts::is_generic_name(e.name)).map(|e| login_fact(e)).collect::<Vec<_>>(),
        "empty_passwords": empty_passwords(passwd_db, shadow_db),
        "phi_group": phi_group_fact(phi_group, passwd_db, group_db),
        "unreadable": unreadable,
        "issues": issues,
    })
}

/// One record of a set sharing a name or id.
fn sharer(name: &str, path: &str, line: u32) -> Value {
    json!({"name": name, "path": path, "line": line})
}

/// Names and ids recorded more than once, each with every record carrying it (file order), found
/// by grouping in one pass: a host with tens of thousands of accounts costs a hash table, not a
/// comparison of every pair.
fn duplicates(passwd: Option<&Database<Passwd>>, group: Option<&Database<Group>>) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let mut push = |field: &str, value: Value, entries: Vec<Value>| {
        out.push(json!({"field": field, "value": value, "entries": entries}));
    };
    if let Some(p) = passwd {
        let record = |e: &&Passwd| sharer(&e.name, PASSWD, e.line);
        for g in p.duplicates_by(|e| e.name) {
            push(
                "user name",
                json!(g[0].name),
                g.iter().map(record).collect(),
            );
        }
        for g in p.duplicates_by(|e| e.uid) {
            push("UID", json!(g[0].uid), g.iter().map(record).collect());
        }
    }
    if let Some(gr) = group {
        let record = |e: &&Group| sharer(&e.name, GROUP, e.line);
        for g in gr.duplicates_by(|e| e.name) {
            push(
                "group name",
                json!(g[0].name),
                g.iter().map(record).collect(),
            );
        }
        for g in gr.duplicates_by(|e| e.gid) {
            push("GID", json!(g[0].gid), g.iter().map(record).collect());
        }
    }
    Value::Array(out)
}

fn uid_zero_fact(p: &Passwd) -> Value {
    json!({
        "name": p.name,
        "shell": p.shell,
        "login_shell": p.has_login_shell(),
        "path": PASSWD,
        "line": p.line,
    })
}

/// How many accounts with a login shell `login_accounts` lists (file order), for evidence; the
/// rest are counted (`login_account_count`) and only the ones the check is about are listed
/// (`generic_login_accounts`): a directory-backed host has tens of thousands, and sending them all
/// cost more than the rest of the check.
const LISTED_LOGIN_ACCOUNTS: usize = 20;

/// The columns of a `login_accounts` and `generic_login_accounts` row.
const LOGIN_COLUMNS: [&str; 5] = ["name", "uid", "gid", "shell", "line"];

/// An account with a login shell, as a row of [`LOGIN_COLUMNS`] (its path is `passwd.path`).
fn login_fact(p: &Passwd) -> Value {
    json!([p.name, p.uid, p.gid, p.shell, p.line])
}

/// Every account whose password field is empty: the `/etc/shadow` field when `/etc/passwd` says
/// `x` (the first shadow record of that name, as the C library reads it), else the passwd field
/// itself; and shadow records with an empty field that no passwd account points to. `account` is
/// the passwd record (`null` when there is none).
fn empty_passwords(passwd: Option<&Database<Passwd>>, shadow: Option<&Database<Shadow>>) -> Value {
    let account = |p: &Passwd| json!({"shell": p.shell, "login_shell": p.has_login_shell(), "path": PASSWD, "line": p.line});
    let shadow_by_name = shadow.map(|s| s.first_by(|e| e.name));
    let mut out: Vec<Value> = Vec::new();
    let mut seen_in_passwd = HashSet::new();
    for p in passwd.map_or(&[][..], |d| &d.entries[..]) {
        seen_in_passwd.insert(p.name);
        if p.password != "x" {
            if PasswordState::of(&p.password) == PasswordState::Empty {
                out.push(json!({"name": p.name, "field": "passwd", "path": PASSWD, "line": p.line, "account": account(p)}));
            }
            continue;
        }
        if let Some(s) = shadow_by_name.as_ref().and_then(|m| m.get(p.name))
            && s.password_state() == PasswordState::Empty
        {
            out.push(json!({"name": p.name, "field": "shadow", "path": SHADOW, "line": s.line, "account": account(p)}));
        }
    }
    for s in shadow.map_or(&[][..], |d| &d.entries[..]) {
        if s.password_state() == PasswordState::Empty && !seen_in_passwd.contains(s.name) {
            out.push(json!({"name": s.name, "field": "shadow", "path": SHADOW, "line": s.line, "account": null}));
        }
    }
    Value::Array(out)
}

/// The PHI group: its line, its listed members and the accounts whose primary GID it is, each member
/// with what `/etc/passwd` says of it (`null` when it has no passwd entry).
fn phi_group_fact(
    name: &str,
    passwd: Option<&Database<Passwd>>,
    group: Option<&Database<Group>>,
) -> Value {
    let entry = group.and_then(|g| g.by_name(name));
    let by_name = passwd.map(|p| p.first_by(|e| e.name));
    let account = |user: &str| {
        by_name.as_ref().and_then(|m| m.get(user)).map(|p| {
            json!({"uid": p.uid, "shell": p.shell, "login_shell": p.has_login_shell(), "path": PASSWD, "line": p.line})
        })
    };
    let mut members: Vec<Value> = Vec::new();
    if let Some(g) = entry {
        for user in &g.members {
            members.push(json!({
                "name": user,
                "via": "member-list",
                "path": GROUP,
                "line": g.line,
                "account": account(user),
            }));
        }
        let listed: HashSet<&str> = g.members.iter().copied().collect();
        if let Some(p) = passwd {
            for user in p.entries.iter().filter(|p| p.gid == g.gid) {
                if listed.contains(user.name) {
                    continue;
                }
                members.push(json!({
                    "name": user.name,
                    "via": "primary-gid",
                    "path": PASSWD,
                    "line": user.line,
                    "account": account(&user.name),
                }));
            }
        }
    }
    json!({
        "name": name,
        "exists": entry.is_some(),
        "gid": entry.map(|g| g.gid),
        "path": GROUP,
        "line": entry.map_or(0, |g| g.line),
        "members": members,
    })
}

#[cfg(test)]
mod tests;

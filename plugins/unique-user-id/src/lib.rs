//! The unique-user-id safeguard (45 CFR 164.312(a)(2)(i)): gathers the account records behind
//! `ids.unique` (passwd, shadow and group entries, with login shells and password states, never the
//! hashes) and `ids.phi-group` (the `phi_group` group and who belongs to it).

use phipolicy_sdk::accounts::{
    self, Database, GroupEntry, PasswdEntry, PasswordState, ShadowEntry,
};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_sdk::os_release::{Family, OsRelease};
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

/// One account database as read: whether it exists, and its parsed records when it was read.
struct Read<T> {
    exists: bool,
    readable: bool,
    db: Option<Database<T>>,
}

fn read_db<T>(
    target: &dyn Target,
    path: &str,
    parse: fn(&str, &str) -> Database<T>,
    unreadable: &mut Vec<Unreadable>,
    issues: &mut Vec<ParseIssue>,
) -> Read<T> {
    match target.read_text(path) {
        Ok(text) => {
            let db = parse(path, &text);
            issues.extend(db.issues.iter().cloned());
            Read {
                exists: true,
                readable: true,
                db: Some(db),
            }
        }
        Err(e) => {
            unreadable.push(Unreadable::new(path, &e));
            Read {
                exists: e != ReadError::NotFound,
                readable: false,
                db: None,
            }
        }
    }
}

/// Gathers every fact of this safeguard.
pub fn collect_facts(target: &dyn Target, phi_group: &str) -> Value {
    let mut unreadable: Vec<Unreadable> = Vec::new();
    let mut issues: Vec<ParseIssue> = Vec::new();
    let os = OsRelease::load_or_record(target, &mut unreadable);
    let family = os.as_ref().map_or(Family::Unknown, |o| o.family);

    let passwd = read_db(
        target,
        PASSWD,
        accounts::parse_passwd,
        &mut unreadable,
        &mut issues,
    );
    let shadow = read_db(
        target,
        SHADOW,
        accounts::parse_shadow,
        &mut unreadable,
        &mut issues,
    );
    let group = read_db(
        target,
        GROUP,
        accounts::parse_group,
        &mut unreadable,
        &mut issues,
    );

    let passwd_entries: Vec<Value> = passwd
        .db
        .as_ref()
        .map(|db| db.entries.iter().map(passwd_fact).collect())
        .unwrap_or_default();
    let shadow_entries: Vec<Value> = shadow
        .db
        .as_ref()
        .map(|db| db.entries.iter().map(shadow_fact).collect())
        .unwrap_or_default();
    let group_entries: Vec<Value> = group
        .db
        .as_ref()
        .map(|db| db.entries.iter().map(group_fact).collect())
        .unwrap_or_default();

    json!({
        "os": os.as_ref().map(|o| json!({
            "id": o.id, "version_id": o.version_id, "family": o.family, "path": o.path,
        })),
        "family": family,
        "passwd": {"path": PASSWD, "exists": passwd.exists, "readable": passwd.readable, "entries": passwd_entries},
        "shadow": {"path": SHADOW, "exists": shadow.exists, "readable": shadow.readable, "entries": shadow_entries},
        "group": {"path": GROUP, "exists": group.exists, "readable": group.readable, "entries": group_entries},
        "phi_group": phi_group_fact(phi_group, passwd.db.as_ref(), group.db.as_ref()),
        "unreadable": unreadable,
        "issues": issues,
    })
}

fn passwd_fact(p: &PasswdEntry) -> Value {
    json!({
        "name": p.name,
        "uid": p.uid,
        "gid": p.gid,
        "shell": p.shell,
        "login_shell": p.has_login_shell(),
        // `x`: the hash is in /etc/shadow; anything else is the password itself (never shown).
        "password_in_shadow": p.password == "x",
        "passwd_password_state": PasswordState::of(&p.password),
        "path": PASSWD,
        "line": p.line,
    })
}

fn shadow_fact(s: &ShadowEntry) -> Value {
    json!({
        "name": s.name,
        "password_state": s.password_state(),
        "path": SHADOW,
        "line": s.line,
    })
}

fn group_fact(g: &GroupEntry) -> Value {
    json!({
        "name": g.name,
        "gid": g.gid,
        "members": g.members,
        "path": GROUP,
        "line": g.line,
    })
}

/// The PHI group: its line, its listed members and the accounts whose primary GID it is, each member
/// with what `/etc/passwd` says of it (`null` when it has no passwd entry).
fn phi_group_fact(
    name: &str,
    passwd: Option<&Database<PasswdEntry>>,
    group: Option<&Database<GroupEntry>>,
) -> Value {
    let entry = group.and_then(|g| g.by_name(name));
    let account = |user: &str| {
        passwd.and_then(|p| p.by_name(user)).map(|p| {
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
        if let Some(p) = passwd {
            for user in p.entries.iter().filter(|p| p.gid == g.gid) {
                if g.members.contains(&user.name) {
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

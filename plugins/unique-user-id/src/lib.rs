//! The unique-user-id safeguard (45 CFR 164.312(a)(2)(i)): gathers the account records behind
//! `ids.unique` (names and ids recorded twice, UID 0 accounts, accounts with a login shell, empty
//! password fields; never the hashes) and `ids.phi-group` (the `phi_group` group and who belongs
//! to it). Every step is one pass over the databases, so tens of thousands of accounts cost
//! milliseconds, and the facts grow with the findings, not with the accounts.
//!
//! Facts: [`Facts`] (schema: `policies/hipaa/schemas/unique-user-id.json`).

use std::collections::HashSet;

use phipolicy_parsers::accounts::{
    self, Database, GroupEntry, PasswdEntry, PasswordState, ShadowEntry,
};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::os_release::{Family, OsRelease, OsSummary};
use phipolicy_sdk::{Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release (identification only), `null` when it has none.
    pub os: Option<OsSummary>,
    /// Its distribution family.
    pub family: Family,
    /// `/etc/passwd`.
    pub passwd: DatabaseFile,
    /// `/etc/shadow`.
    pub shadow: DatabaseFile,
    /// `/etc/group`.
    pub group: DatabaseFile,
    /// Names and ids recorded more than once.
    pub duplicates: Vec<Duplicate>,
    /// Accounts with UID 0.
    pub uid_zero: Vec<UidZero>,
    /// The columns of a `login_accounts` and `generic_login_accounts` row.
    pub login_account_columns: [String; 5],
    /// Accounts with a login shell.
    pub login_account_count: usize,
    /// The first 20 accounts with a login shell (file order), for evidence.
    pub login_accounts: Vec<LoginRow>,
    /// Every account with a login shell and a generic name (`admin`, `test`, ...).
    pub generic_login_accounts: Vec<LoginRow>,
    /// Every account whose password field is empty.
    pub empty_passwords: Vec<EmptyPassword>,
    /// The `phi_group` group and who belongs to it.
    pub phi_group: PhiGroup,
    /// Files that could not be read (a missing one included).
    pub unreadable: Vec<Unreadable>,
    /// Lines that could not be parsed.
    pub issues: Vec<ParseIssue>,
}

/// An account database file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DatabaseFile {
    /// The file.
    pub path: String,
    /// Whether it exists (true also when it exists but could not be read).
    pub exists: bool,
    /// Whether it was read.
    pub readable: bool,
    /// Its records (0 when it was not read).
    pub count: usize,
}

/// A name or id recorded more than once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Duplicate {
    /// `user name`, `UID`, `group name` or `GID`.
    pub field: String,
    /// The shared name or id.
    pub value: NameOrId,
    /// Every record carrying it, in file order.
    pub entries: Vec<Record>,
}

/// A name (user and group names) or a number (UIDs and GIDs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum NameOrId {
    /// A user or group name.
    Name(String),
    /// A UID or GID.
    Id(u32),
}

/// One record of a set sharing a name or id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Record {
    /// The record's name.
    pub name: String,
    /// Its file.
    pub path: String,
    /// Its line.
    pub line: u32,
}

/// An account with UID 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UidZero {
    /// Its name.
    pub name: String,
    /// Its shell.
    pub shell: String,
    /// Whether the shell allows a login.
    pub login_shell: bool,
    /// `/etc/passwd`.
    pub path: String,
    /// Its line.
    pub line: u32,
}

/// An account with a login shell, as a row of `login_account_columns`: name, uid, gid, shell,
/// line (its path is `passwd.path`).
pub type LoginRow = (String, u32, u32, String, u32);

/// An account whose password field is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EmptyPassword {
    /// The account.
    pub name: String,
    /// `passwd` or `shadow`: the field that is empty.
    pub field: String,
    /// The file of that field.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The passwd record; `null` for a shadow record no passwd account points to.
    pub account: Option<Account>,
}

/// What `/etc/passwd` says of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Account {
    /// Its shell.
    pub shell: String,
    /// Whether the shell allows a login.
    pub login_shell: bool,
    /// `/etc/passwd`.
    pub path: String,
    /// Its line.
    pub line: u32,
}

/// The PHI group and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PhiGroup {
    /// The `phi_group` parameter.
    pub name: String,
    /// Whether `/etc/group` has it.
    pub exists: bool,
    /// Its GID; `null` when it does not exist.
    pub gid: Option<u32>,
    /// `/etc/group`.
    pub path: String,
    /// Its line; 0 when it does not exist.
    pub line: u32,
    /// Its listed members, then the accounts whose primary GID it is.
    pub members: Vec<Member>,
}

/// A member of the PHI group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Member {
    /// The user name.
    pub name: String,
    /// `member-list` or `primary-gid`.
    pub via: String,
    /// The file that makes it a member.
    pub path: String,
    /// That line.
    pub line: u32,
    /// What `/etc/passwd` says of it; `null` when it has no passwd entry.
    pub account: Option<MemberAccount>,
}

/// A member's passwd record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MemberAccount {
    /// Its UID.
    pub uid: u32,
    /// Its shell.
    pub shell: String,
    /// Whether the shell allows a login.
    pub login_shell: bool,
    /// `/etc/passwd`.
    pub path: String,
    /// Its line.
    pub line: u32,
}

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
        phipolicy_sdk::facts::to_json(&collect_facts(target, phi_group))
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
pub fn collect_facts(target: &dyn Target, phi_group: &str) -> Facts {
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
    let login: Vec<&Passwd> = passwd_db.map_or_else(Vec::new, |p| {
        p.entries.iter().filter(|e| e.has_login_shell()).collect()
    });
    let file = |path: &str, read: &Read, count: Option<usize>| DatabaseFile {
        path: path.to_string(),
        exists: read.exists,
        readable: read.readable(),
        count: count.unwrap_or(0),
    };
    Facts {
        os: os.map(OsSummary::from),
        family,
        passwd: file(PASSWD, &passwd, passwd_db.map(|d| d.entries.len())),
        shadow: file(SHADOW, &shadow, shadow_db.map(|d| d.entries.len())),
        group: file(GROUP, &group, group_db.map(|d| d.entries.len())),
        duplicates: duplicates(passwd_db, group_db),
        uid_zero: passwd_db.map_or_else(Vec::new, |p| {
            p.entries
                .iter()
                .filter(|e| e.uid == 0)
                .map(uid_zero_fact)
                .collect()
        }),
        login_account_columns: LOGIN_COLUMNS.map(str::to_string),
        login_account_count: login.len(),
        login_accounts: login
            .iter()
            .take(LISTED_LOGIN_ACCOUNTS)
            .map(|e| login_fact(e))
            .collect(),
        generic_login_accounts: login
            .iter()
            .filter(|e| accounts::is_generic_name(e.name))
            .map(|e| login_fact(e))
            .collect(),
        empty_passwords: empty_passwords(passwd_db, shadow_db),
        phi_group: phi_group_fact(phi_group, passwd_db, group_db),
        unreadable,
        issues,
    }
}

/// One record of a set sharing a name or id.
fn sharer(name: &str, path: &str, line: u32) -> Record {
    Record {
        name: name.to_string(),
        path: path.to_string(),
        line,
    }
}

/// Names and ids recorded more than once, each with every record carrying it (file order), found
/// by grouping in one pass: a host with tens of thousands of accounts costs a hash table, not a
/// comparison of every pair.
fn duplicates(passwd: Option<&Database<Passwd>>, group: Option<&Database<Group>>) -> Vec<Duplicate> {
    let mut out: Vec<Duplicate> = Vec::new();
    let mut push = |field: &str, value: NameOrId, entries: Vec<Record>| {
        out.push(Duplicate {
            field: field.to_string(),
            value,
            entries,
        });
    };
    if let Some(p) = passwd {
        let record = |e: &&Passwd| sharer(&e.name, PASSWD, e.line);
        for g in p.duplicates_by(|e| e.name) {
            push(
                "user name",
                NameOrId::Name(g[0].name.to_string()),
                g.iter().map(record).collect(),
            );
        }
        for g in p.duplicates_by(|e| e.uid) {
            push("UID", NameOrId::Id(g[0].uid), g.iter().map(record).collect());
        }
    }
    if let Some(gr) = group {
        let record = |e: &&Group| sharer(&e.name, GROUP, e.line);
        for g in gr.duplicates_by(|e| e.name) {
            push(
                "group name",
                NameOrId::Name(g[0].name.to_string()),
                g.iter().map(record).collect(),
            );
        }
        for g in gr.duplicates_by(|e| e.gid) {
            push("GID", NameOrId::Id(g[0].gid), g.iter().map(record).collect());
        }
    }
    out
}

fn uid_zero_fact(p: &Passwd) -> UidZero {
    UidZero {
        name: p.name.to_string(),
        shell: p.shell.to_string(),
        login_shell: p.has_login_shell(),
        path: PASSWD.to_string(),
        line: p.line,
    }
}

/// How many accounts with a login shell `login_accounts` lists (file order), for evidence; the
/// rest are counted (`login_account_count`) and only the ones the check is about are listed
/// (`generic_login_accounts`): a directory-backed host has tens of thousands, and sending them all
/// cost more than the rest of the check.
const LISTED_LOGIN_ACCOUNTS: usize = 20;

/// The columns of a `login_accounts` and `generic_login_accounts` row.
const LOGIN_COLUMNS: [&str; 5] = ["name", "uid", "gid", "shell", "line"];

/// An account with a login shell, as a row of [`LOGIN_COLUMNS`] (its path is `passwd.path`).
fn login_fact(p: &Passwd) -> LoginRow {
    (p.name.to_string(), p.uid, p.gid, p.shell.to_string(), p.line)
}

/// Every account whose password field is empty: the `/etc/shadow` field when `/etc/passwd` says
/// `x` (the first shadow record of that name, as the C library reads it), else the passwd field
/// itself; and shadow records with an empty field that no passwd account points to. `account` is
/// the passwd record (`null` when there is none).
fn empty_passwords(
    passwd: Option<&Database<Passwd>>,
    shadow: Option<&Database<Shadow>>,
) -> Vec<EmptyPassword> {
    let account = |p: &Passwd| Account {
        shell: p.shell.to_string(),
        login_shell: p.has_login_shell(),
        path: PASSWD.to_string(),
        line: p.line,
    };
    let empty = |name: &str, field: &str, path: &str, line: u32, account: Option<Account>| {
        EmptyPassword {
            name: name.to_string(),
            field: field.to_string(),
            path: path.to_string(),
            line,
            account,
        }
    };
    let shadow_by_name = shadow.map(|s| s.first_by(|e| e.name));
    let mut out: Vec<EmptyPassword> = Vec::new();
    let mut seen_in_passwd = HashSet::new();
    for p in passwd.map_or(&[][..], |d| &d.entries[..]) {
        seen_in_passwd.insert(p.name);
        if p.password != "x" {
            if PasswordState::of(&p.password) == PasswordState::Empty {
                out.push(empty(p.name, "passwd", PASSWD, p.line, Some(account(p))));
            }
            continue;
        }
        if let Some(s) = shadow_by_name.as_ref().and_then(|m| m.get(p.name))
            && s.password_state() == PasswordState::Empty
        {
            out.push(empty(p.name, "shadow", SHADOW, s.line, Some(account(p))));
        }
    }
    for s in shadow.map_or(&[][..], |d| &d.entries[..]) {
        if s.password_state() == PasswordState::Empty && !seen_in_passwd.contains(s.name) {
            out.push(empty(s.name, "shadow", SHADOW, s.line, None));
        }
    }
    out
}

/// The PHI group: its line, its listed members and the accounts whose primary GID it is, each member
/// with what `/etc/passwd` says of it (`null` when it has no passwd entry).
fn phi_group_fact(
    name: &str,
    passwd: Option<&Database<Passwd>>,
    group: Option<&Database<Group>>,
) -> PhiGroup {
    let entry = group.and_then(|g| g.by_name(name));
    let by_name = passwd.map(|p| p.first_by(|e| e.name));
    let account = |user: &str| {
        by_name
            .as_ref()
            .and_then(|m| m.get(user))
            .map(|p| MemberAccount {
                uid: p.uid,
                shell: p.shell.to_string(),
                login_shell: p.has_login_shell(),
                path: PASSWD.to_string(),
                line: p.line,
            })
    };
    let mut members: Vec<Member> = Vec::new();
    if let Some(g) = entry {
        for user in &g.members {
            members.push(Member {
                name: user.to_string(),
                via: "member-list".into(),
                path: GROUP.to_string(),
                line: g.line,
                account: account(user),
            });
        }
        let listed: HashSet<&str> = g.members.iter().copied().collect();
        if let Some(p) = passwd {
            for user in p.entries.iter().filter(|p| p.gid == g.gid) {
                if listed.contains(user.name) {
                    continue;
                }
                members.push(Member {
                    name: user.name.to_string(),
                    via: "primary-gid".into(),
                    path: PASSWD.to_string(),
                    line: user.line,
                    account: account(user.name),
                });
            }
        }
    }
    PhiGroup {
        name: name.to_string(),
        exists: entry.is_some(),
        gid: entry.map(|g| g.gid),
        path: GROUP.to_string(),
        line: entry.map_or(0, |g| g.line),
        members,
    }
}

#[cfg(test)]
mod tests;

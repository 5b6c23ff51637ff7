//! The integrity safeguard (45 CFR 164.312(c)(1)): gathers the facts behind
//! `integrity.phi-permissions`: each PHI directory's type, mode, owner and group, and a bounded,
//! symlink-safe walk of what lies beneath it.
//!
//! Facts: [`Facts`], one [`PhiDir`] per `phi_paths` entry with its [`WalkSummary`] (schema:
//! `policies/hipaa/schemas/integrity.json`).

use phipolicy_parsers::accounts::{self, Database, GroupEntry, PasswdEntry};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::os_release::{Family, OsRelease, OsSummary};
use phipolicy_sdk::path::{join, normalize_from_root as normalize, parent};
use phipolicy_sdk::{FileKind, FileStat, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Entries the walk of one PHI directory visits before it stops: enough for a real PHI tree's
    /// permission sample, far below the engine's 400,000-request budget (one lstat per entry).
    pub const MAX_WALK_ENTRIES: usize = 100_000;

    /// Directory depth the walk descends to; deeper directories are not listed and the walk is marked
    /// truncated (guards against hostile, absurdly deep trees).
    pub const MAX_WALK_DEPTH: usize = 64;

    /// World-accessible entries, symlinks leading outside and listing errors reported by path; the
    /// rest are only counted.
    pub const MAX_REPORTED: usize = 20;
}
use limits::*;

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";

/// The PHI directories when the parameter is absent (controls.md's default).
const DEFAULT_PHI_PATHS: &[&str] = &["/var/data/phi"];

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release (identification only), `null` when it has none.
    pub os: Option<OsSummary>,
    /// Its distribution family.
    pub family: Family,
    /// The bounds of the walks.
    pub limits: Limits,
    /// One per `phi_paths` entry, in parameter order.
    pub phi_paths: Vec<PhiDir>,
    /// Files that could not be read (os-release, passwd, group, PHI paths).
    pub unreadable: Vec<Unreadable>,
    /// Lines of `/etc/passwd` and `/etc/group` that could not be parsed.
    pub issues: Vec<ParseIssue>,
}

/// The bounds of each directory's walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Limits {
    /// Entries one walk visits before it stops.
    pub max_walk_entries: usize,
    /// Directory depth a walk descends to.
    pub max_walk_depth: usize,
    /// Entries reported by path in each list; the rest are counted.
    pub max_reported: usize,
}

/// One PHI directory. When it does not exist only `path`, `exists` and `symlink_to` are present;
/// when it cannot be examined, `path`, `exists`, `readable` and `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PhiDir {
    /// The `phi_paths` entry.
    pub path: String,
    /// Whether it exists (following links).
    pub exists: bool,
    /// Whether it could be examined (absent when it does not exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readable: Option<bool>,
    /// Why it could not be examined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where the path links to when it is a symlink, else `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symlink_to: Option<Option<String>>,
    /// What it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
    /// `st_mode & 0o7777`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// The mode as four octal digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_octal: Option<String>,
    /// Owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// The owner's `/etc/passwd` entry; `null` when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Option<NameAt>>,
    /// The group's `/etc/group` entry; `null` when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Option<NameAt>>,
    /// What the walk beneath it found; `null` when it is not a directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walk: Option<Option<WalkSummary>>,
}

/// An account or group name and the line that defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct NameAt {
    /// The name.
    pub name: String,
    /// `/etc/passwd` or `/etc/group`.
    pub path: String,
    /// The line.
    pub line: u32,
}

/// The integrity plugin.
pub struct Integrity;

impl Plugin for Integrity {
    fn manifest() -> Manifest {
        Manifest {
            id: "integrity",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "integrity",
            cfr: &["164.312(c)(1)"],
            controls: &["integrity.phi-permissions"],
            reads: &[
                "/etc/os-release",
                "/usr/lib/os-release",
                "/etc/passwd",
                "/etc/group",
                "{phi_paths}",
                "{phi_paths}/**",
            ],
        }
    }

    fn collect(target: &dyn Target, params: &Params) -> Result<Value, String> {
        let phi_paths = match params.get("phi_paths") {
            Some(_) => params.string_list("phi_paths"),
            None => DEFAULT_PHI_PATHS.iter().map(|p| (*p).to_string()).collect(),
        };
        phipolicy_sdk::facts::to_json(&collect_facts(target, &phi_paths, MAX_WALK_ENTRIES))
    }
}

phipolicy_sdk::export_plugin!(Integrity);

/// Gathers every fact of this safeguard; `max_entries` bounds each directory's walk.
pub fn collect_facts(target: &dyn Target, phi_paths: &[String], max_entries: usize) -> Facts {
    let mut unreadable: Vec<Unreadable> = Vec::new();
    let mut issues: Vec<ParseIssue> = Vec::new();
    let os = OsRelease::load_or_record(target, &mut unreadable);
    let family = os.as_ref().map_or(Family::Unknown, |o| o.family);
    let passwd = match target.read_text(PASSWD) {
        Ok(t) => Some(accounts::parse_passwd(PASSWD, &t)),
        Err(e) => {
            unreadable.push(Unreadable::new(PASSWD, &e));
            None
        }
    };
    let group = match target.read_text(GROUP) {
        Ok(t) => Some(accounts::parse_group(GROUP, &t)),
        Err(e) => {
            unreadable.push(Unreadable::new(GROUP, &e));
            None
        }
    };
    for db_issues in [
        passwd.as_ref().map(|d| &d.issues),
        group.as_ref().map(|d| &d.issues),
    ]
    .into_iter()
    .flatten()
    {
        issues.extend(db_issues.iter().cloned());
    }
    let dirs: Vec<PhiDir> = phi_paths
        .iter()
        .map(|p| {
            phi_dir_fact(
                target,
                p,
                passwd.as_ref(),
                group.as_ref(),
                max_entries,
                &mut unreadable,
            )
        })
        .collect();
    Facts {
        os: os.map(OsSummary::from),
        family,
        limits: Limits {
            max_walk_entries: max_entries,
            max_walk_depth: MAX_WALK_DEPTH,
            max_reported: MAX_REPORTED,
        },
        phi_paths: dirs,
        unreadable,
        issues,
    }
}

/// `0750`-style octal text of a mode.
pub fn octal(mode: u32) -> String {
    format!("{mode:04o}")
}

fn phi_dir_fact(
    target: &dyn Target,
    path: &str,
    passwd: Option<&Database<PasswdEntry>>,
    group: Option<&Database<GroupEntry>>,
    max_entries: usize,
    unreadable: &mut Vec<Unreadable>,
) -> PhiDir {
    let symlink_to = match target.lstat(path) {
        Ok(st) if st.kind == FileKind::Symlink => target.read_link(path).ok(),
        _ => None,
    };
    let bare = PhiDir {
        path: path.to_string(),
        exists: false,
        readable: None,
        error: None,
        symlink_to: None,
        kind: None,
        mode: None,
        mode_octal: None,
        uid: None,
        gid: None,
        owner: None,
        group: None,
        walk: None,
    };
    let st = match target.stat(path) {
        Ok(st) => st,
        Err(ReadError::NotFound) => {
            return PhiDir {
                symlink_to: Some(symlink_to),
                ..bare
            };
        }
        Err(e) => {
            unreadable.push(Unreadable::new(path, &e));
            return PhiDir {
                exists: true,
                readable: Some(false),
                error: Some(e.to_string()),
                ..bare
            };
        }
    };
    let owner = passwd
        .and_then(|p| p.entries.iter().find(|e| e.uid == st.uid))
        .map(|e| NameAt {
            name: e.name.clone(),
            path: PASSWD.to_string(),
            line: e.line,
        });
    let owner_group = group
        .and_then(|g| g.entries.iter().find(|e| e.gid == st.gid))
        .map(|e| NameAt {
            name: e.name.clone(),
            path: GROUP.to_string(),
            line: e.line,
        });
    let walk = (st.kind == FileKind::Directory).then(|| walk(target, path, max_entries));
    PhiDir {
        exists: true,
        readable: Some(true),
        symlink_to: Some(symlink_to),
        kind: Some(st.kind),
        mode: Some(st.mode),
        mode_octal: Some(octal(st.mode)),
        uid: Some(st.uid),
        gid: Some(st.gid),
        owner: Some(owner),
        group: Some(owner_group),
        walk: Some(walk),
        ..bare
    }
}

/// A world-readable or world-writable entry found by the walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct WorldAccessible {
    /// The entry.
    pub path: String,
    /// What it is.
    pub kind: FileKind,
    /// Its mode as four octal digits.
    pub mode_octal: String,
    /// Others may read it.
    pub world_readable: bool,
    /// Others may write it.
    pub world_writable: bool,
}

/// A symlink beneath the PHI directory whose target (resolved lexically from the link's
/// directory) lies outside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OutsideLink {
    /// The symlink.
    pub path: String,
    /// Its target as written.
    pub link: String,
    /// Its target resolved lexically from the link's directory.
    pub resolves_to: String,
}

/// What a bounded walk of one directory found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct WalkSummary {
    /// Entries visited (every lstat'ed path beneath the directory).
    pub entries: usize,
    /// Whether the walk stopped before seeing everything (entry or depth limit).
    pub truncated: bool,
    /// Why it stopped, when it did.
    pub truncated_reason: Option<String>,
    /// Entries others may read.
    pub world_readable_count: usize,
    /// Entries others may write.
    pub world_writable_count: usize,
    /// The first [`MAX_REPORTED`] world-readable or world-writable entries, in walk order.
    pub world_accessible: Vec<WorldAccessible>,
    /// Symlinks found (never followed).
    pub symlinks: usize,
    /// Symlinks whose target lies outside the PHI directory.
    pub symlinks_outside_count: usize,
    /// The first [`MAX_REPORTED`] of them.
    pub symlinks_outside: Vec<OutsideLink>,
    /// Entries and directories that could not be examined or listed.
    pub error_count: usize,
    /// The first [`MAX_REPORTED`] of them.
    pub errors: Vec<Unreadable>,
}

/// Walks `root` depth-first in name order without following symlinks (lstat only), visiting at
/// most `max_entries` entries and [`MAX_WALK_DEPTH`] levels.
pub fn walk(target: &dyn Target, root: &str, max_entries: usize) -> WalkSummary {
    let mut summary = WalkSummary::default();
    let root_norm = normalize(root);
    // (directory, depth below root)
    let mut pending: Vec<(String, usize)> = vec![(root.to_string(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let entries = match target.list_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                record_error(&mut summary, &dir, &e);
                continue;
            }
        };
        let mut subdirs = Vec::new();
        for entry in entries {
            if summary.entries >= max_entries {
                summary.truncated = true;
                summary.truncated_reason = Some(format!(
                    "stopped after {max_entries} entries (limit of the walk)"
                ));
                return summary;
            }
            let path = join(&dir, &entry.name);
            summary.entries += 1;
            let st = match target.lstat(&path) {
                Ok(st) => st,
                Err(e) => {
                    record_error(&mut summary, &path, &e);
                    continue;
                }
            };
            match st.kind {
                FileKind::Symlink => visit_symlink(target, &root_norm, &path, &mut summary),
                FileKind::Directory => {
                    visit_mode(&path, &st, &mut summary);
                    subdirs.push(path);
                }
                _ => visit_mode(&path, &st, &mut summary),
            }
        }
        if depth + 1 >= MAX_WALK_DEPTH {
            if !subdirs.is_empty() {
                summary.truncated = true;
                summary.truncated_reason = Some(format!(
                    "directories deeper than {MAX_WALK_DEPTH} levels were not listed (limit of the walk)"
                ));
            }
            continue;
        }
        // Reversed so that the stack pops them in name order.
        for sub in subdirs.into_iter().rev() {
            pending.push((sub, depth + 1));
        }
    }
    summary
}

fn record_error(summary: &mut WalkSummary, path: &str, e: &ReadError) {
    summary.error_count += 1;
    if summary.errors.len() < MAX_REPORTED {
        summary.errors.push(Unreadable::new(path, e));
    }
}

fn visit_mode(path: &str, st: &FileStat, summary: &mut WalkSummary) {
    let world_readable = st.mode & 0o004 != 0;
    let world_writable = st.mode & 0o002 != 0;
    summary.world_readable_count += usize::from(world_readable);
    summary.world_writable_count += usize::from(world_writable);
    if (world_readable || world_writable) && summary.world_accessible.len() < MAX_REPORTED {
        summary.world_accessible.push(WorldAccessible {
            path: path.to_string(),
            kind: st.kind,
            mode_octal: octal(st.mode),
            world_readable,
            world_writable,
        });
    }
}

fn visit_symlink(target: &dyn Target, root: &str, path: &str, summary: &mut WalkSummary) {
    summary.symlinks += 1;
    let link = match target.read_link(path) {
        Ok(l) => l,
        Err(e) => {
            record_error(summary, path, &e);
            return;
        }
    };
    let resolves_to = normalize(&join(parent(path), &link));
    let inside = resolves_to == root
        || resolves_to
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/') || root == "/");
    if !inside {
        summary.symlinks_outside_count += 1;
        if summary.symlinks_outside.len() < MAX_REPORTED {
            summary.symlinks_outside.push(OutsideLink {
                path: path.to_string(),
                link,
                resolves_to,
            });
        }
    }
}

#[cfg(test)]
mod tests;

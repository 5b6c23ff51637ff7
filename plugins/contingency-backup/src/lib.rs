//! The contingency-backup safeguard (45 CFR 164.308(a)(7)(ii)(A), (B), (D)): finds the scheduled
//! restic backups (cron tables, cron.daily/weekly scripts, systemd timers, and the scripts they
//! call) with their repository and password sources, and the restore-test records.
//!
//! Facts: [`Facts`]: the restic and cron binaries, the jobs that run restic ([`JobFact`]), each
//! restic command line with the job that runs it, the password file's stat and the backed-up paths
//! ([`Invocation`]), the timers, inline passwords, what was not followed or could not be read, and
//! the restore-test records ([`RestoreTests`]) (schema:
//! `policies/hipaa/schemas/contingency-backup.json`). The policies `backup.schedule` and
//! `backup.restore-tested` judge them.
//!
//! Long file: the fact types and the one walk from schedulers to restic command lines (cron,
//! systemd timers, the scripts they call) belong together; the parsing itself is in
//! `phipolicy_parsers::schedule`.

use std::collections::BTreeSet;

use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::os_release::{Family, OsRelease};
use phipolicy_parsers::schedule::{
    self, Assignment, Command, Location, ResticInvocation, ResticSetting, Runs, UnitFile,
    classify, commands_of, parse_restic,
};
use phipolicy_sdk::path::{file_name, join};
use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release, `null` when it has none.
    pub os: Option<OsRelease>,
    /// Its distribution family (which cron spool and run-parts rules apply).
    pub family: Family,
    /// The restic binary.
    pub restic: Binary,
    /// The cron daemon (without one a cron job never runs).
    pub cron: Binary,
    /// The scheduled jobs that run restic.
    pub jobs: Vec<JobFact>,
    /// Every restic command line a job runs.
    pub invocations: Vec<Invocation>,
    /// Every `.timer` unit (not templates), whether or not it runs restic.
    pub timers: Vec<Timer>,
    /// Where `RESTIC_PASSWORD=` is assigned (the value is never copied).
    pub inline_passwords: Vec<InlinePassword>,
    /// Scripts and environment files a job uses that this plugin does not read.
    pub not_followed: Vec<NotFollowed>,
    /// Files read, in order.
    pub files_read: Vec<String>,
    /// Files and directories that could not be read (or were cut off).
    pub unreadable: Vec<Unreadable>,
    /// Lines that could not be parsed, missing scripts and environment files, depth limits.
    pub issues: Vec<ParseIssue>,
    /// The restore-test record directory.
    pub restore_tests: RestoreTests,
}

/// A program looked for at the usual places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Binary {
    /// Whether one of `searched` is a regular file.
    pub installed: bool,
    /// The first one found, `null` when none.
    pub binary: Option<String>,
    /// Where it was looked for, in order.
    pub searched: Vec<String>,
}

impl Binary {
    fn find(target: &dyn Target, searched: &[&str]) -> Binary {
        let binary = searched
            .iter()
            .find(|p| target.stat(p).is_ok_and(|s| s.kind == FileKind::Regular))
            .map(|p| p.to_string());
        Binary {
            installed: binary.is_some(),
            binary,
            searched: searched.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// What schedules a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// A line of a crontab.
    Crontab,
    /// A script of `/etc/cron.daily` or `/etc/cron.weekly`.
    CronScript,
    /// A systemd timer and its service.
    SystemdTimer,
}

/// A job that runs restic on a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct JobFact {
    /// What schedules it.
    pub kind: JobKind,
    /// The crontab, script or timer unit.
    pub path: String,
    /// The crontab line (0 for scripts and timers).
    pub line: u32,
    /// The cron schedule, `daily`/`weekly`, or the timer's `On*=` settings.
    pub schedule: String,
    /// The user it runs as, when known.
    pub user: Option<String>,
    /// Whether the scheduler runs it.
    pub enabled: bool,
    /// Why the scheduler will not run it; `null` when it runs.
    pub disabled_reason: Option<String>,
    /// Cron scripts: whether the script has an execute bit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable: Option<bool>,
    /// Cron scripts: whether run-parts accepts its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_parts_name_ok: Option<bool>,
}

/// One restic command line, with the job that runs it and what it backs up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Invocation {
    /// `backup`, `forget`, ...; `null` when no subcommand was found.
    pub subcommand: Option<String>,
    /// `-r`/`--repo`/`RESTIC_REPOSITORY`.
    pub repository: Option<ResticSetting>,
    /// `--repository-file`/`RESTIC_REPOSITORY_FILE`.
    pub repository_file: Option<ResticSetting>,
    /// `-p`/`--password-file`/`RESTIC_PASSWORD_FILE`.
    pub password_file: Option<ResticSetting>,
    /// `--password-command`/`RESTIC_PASSWORD_COMMAND`.
    pub password_command: Option<ResticSetting>,
    /// Where `RESTIC_PASSWORD` was set for this command (the value is not kept).
    pub inline_password: Option<Location>,
    /// Path arguments of `backup`.
    pub paths: Vec<String>,
    /// `backup --stdin`.
    pub stdin: bool,
    /// The file of the command line.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The job that runs it.
    pub job: JobFact,
    /// The script calls that lead to it (`path:line` each), outermost first.
    pub via: Vec<String>,
    /// The password file's stat; `null` when no password file is set.
    pub password_file_stat: Option<StatFact>,
    /// The `--files-from` files and the paths they list.
    pub files_from: Vec<FilesFrom>,
    /// The path arguments and the entries of the `--files-from` files.
    pub backup_paths: Vec<String>,
    /// The first line of the repository file; `null` when there is none or it cannot be read.
    pub repository_file_value: Option<String>,
}

/// A `--files-from` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FilesFrom {
    /// The file.
    pub path: String,
    /// Its non-blank, non-comment lines.
    pub entries: Vec<String>,
    /// Why it could not be read; `null` when it was read.
    pub error: Option<String>,
}

/// A `.timer` unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Timer {
    /// The unit file.
    pub path: String,
    /// Its name.
    pub name: String,
    /// Whether it is masked (a link to `/dev/null`); the fields below are then absent.
    pub masked: bool,
    /// Whether a `.wants` link enables it.
    pub enabled: bool,
    /// The links that enable it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_by: Option<Vec<String>>,
    /// Its `On*=` settings (`OnCalendar=daily`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Vec<String>>,
    /// The service it starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The service's unit file; `null` when it does not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_path: Option<Option<String>>,
    /// Whether the service runs restic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_restic: Option<bool>,
}

/// A `RESTIC_PASSWORD=` assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct InlinePassword {
    /// The file.
    pub path: String,
    /// The line.
    pub line: u32,
    /// What kind of file: `crontab`, `script`, `unit` or `environment-file`.
    pub kind: String,
    /// Environment files: their stat (who can read the password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stat: Option<StatFact>,
}

/// A script or environment file this plugin does not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct NotFollowed {
    /// The file that names it.
    pub path: String,
    /// The line (0 for a unit's `EnvironmentFile=`).
    pub line: u32,
    /// The script or file.
    pub script: String,
    /// Why it is not read.
    pub reason: String,
}

/// `stat` of a file: kind, mode, owner, size and time when it exists, else the error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct StatFact {
    /// The path.
    pub path: String,
    /// Whether it exists (following links).
    pub exists: bool,
    /// What it is (present when it exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
    /// `st_mode & 0o7777` (present when it exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// The mode as four octal digits (present when it exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_octal: Option<String>,
    /// Owner (present when it exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Group (present when it exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Size in bytes (present when it exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Modification time, seconds since the Unix epoch (present when it exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
    /// Why it could not be examined; `null` when it exists or does not exist.
    pub error: Option<String>,
}

/// The restore-test record directory and its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RestoreTests {
    /// The directory's stat.
    pub dir: StatFact,
    /// Its regular files (walked a few levels deep, at most 2,000), sorted by path.
    pub records: Vec<Record>,
    /// Entries that are neither regular files nor directories walked.
    pub other_entries: Vec<OtherEntry>,
    /// Entries and directories that could not be examined.
    pub errors: Vec<Unreadable>,
}

/// A restore-test record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Record {
    /// The file.
    pub path: String,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: i64,
    /// Size in bytes.
    pub size: u64,
}

/// An entry of the record directory that is not a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OtherEntry {
    /// The path.
    pub path: String,
    /// What it is.
    pub kind: FileKind,
}

/// The cron daemons that run crontabs and /etc/cron.{daily,weekly} (Debian/Ubuntu `cron`, RHEL
/// `cronie`'s crond, busybox and cronie builds elsewhere): without one a cron job never runs.
const CRON_DAEMONS: &[&str] = &["/usr/sbin/cron", "/usr/sbin/crond", "/sbin/cron", "/sbin/crond", "/usr/bin/crond"];

/// Where a restic binary is looked for (distribution packages, manual installs, /opt bundles).
const RESTIC_BINARIES: &[&str] = &[
    "/usr/bin/restic",
    "/usr/local/bin/restic",
    "/bin/restic",
    "/usr/sbin/restic",
    "/usr/local/sbin/restic",
    "/opt/restic/restic",
    "/opt/restic/bin/restic",
];

/// systemd unit directories, highest precedence first (/run is runtime-only and absent in images).
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Directories whose scripts run-parts runs from the system crontab or anacron.
const CRON_SCRIPT_DIRS: &[&str] = &["/etc/cron.daily", "/etc/cron.weekly"];

/// Prefixes under which scripts called by jobs, sourced files and password files are read (the
/// manifest declares them); a script elsewhere (a packaged binary in /usr/bin) is not followed.
const FOLLOWED_PREFIXES: &[&str] = &[
    "/usr/local/",
    "/opt/",
    "/root/",
    "/etc/restic/",
    "/etc/backup/",
    "/etc/default/",
    "/etc/sysconfig/",
    "/var/lib/restic/",
];

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// How deep job -> script -> script calls are followed.
    pub const MAX_SCRIPT_DEPTH: usize = 4;

    /// How deep the restore-test record directory is walked.
    pub const MAX_RECORD_DEPTH: usize = 4;

    /// Most restore-test records listed (the newest decides; more only bloats the facts).
    pub const MAX_RECORDS: usize = 2000;
}
use limits::*;

/// The contingency-backup plugin.
#[derive(Debug)]
pub struct ContingencyBackup;

impl Plugin for ContingencyBackup {
    fn manifest() -> Manifest {
        Manifest {
            id: "contingency-backup",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "contingency-backup",
            cfr: &[
                "164.308(a)(7)(ii)(A)",
                "164.308(a)(7)(ii)(B)",
                "164.308(a)(7)(ii)(D)",
            ],
            controls: &["backup.schedule", "backup.restore-tested"],
            reads: &[
                "/etc/os-release",
                "/usr/lib/os-release",
                "/etc/crontab",
                "/etc/cron.d/**",
                "/etc/cron.daily/**",
                "/etc/cron.weekly/**",
                "/var/spool/cron/**",
                "/etc/systemd/system/**",
                "/usr/lib/systemd/system/**",
                "/lib/systemd/system/**",
                "/usr/bin/restic",
                "/bin/restic",
                "/usr/sbin/restic",
                "/usr/sbin/cron",
                "/usr/sbin/crond",
                "/sbin/cron",
                "/sbin/crond",
                "/usr/bin/crond",
                "/usr/local/**",
                "/opt/**",
                "/root/**",
                "/etc/restic/**",
                "/etc/backup/**",
                "/etc/default/**",
                "/etc/sysconfig/**",
                "/var/lib/restic/**",
                "{restore_test_records}",
                "{restore_test_records}/**",
            ],
        }
    }

    fn collect(target: &dyn Target, params: &Params) -> Result<Value, String> {
        let os = OsRelease::load(target).ok().flatten();
        let family = os.as_ref().map_or(Family::Unknown, |o| o.family);
        let mut c = Collector {
            target,
            family,
            jobs: Vec::new(),
            invocations: Vec::new(),
            timers: Vec::new(),
            inline: BTreeSet::new(),
            not_followed: Vec::new(),
            files_read: Vec::new(),
            unreadable: Vec::new(),
            issues: Vec::new(),
        };
        c.crontabs();
        c.cron_scripts();
        c.timers();

        let restic = Binary::find(target, RESTIC_BINARIES);
        let cron = Binary::find(target, CRON_DAEMONS);
        let inline_passwords = c
            .inline
            .iter()
            .map(|(path, line, kind)| InlinePassword {
                path: path.clone(),
                line: *line,
                kind: kind.clone(),
                stat: (kind == "environment-file").then(|| stat_fact(target, path)),
            })
            .collect();
        let restore_dir = params
            .string("restore_test_records")
            .unwrap_or("/var/log/hipaa-restore-tests");
        phipolicy_sdk::facts::to_json(&Facts {
            os,
            family,
            restic,
            cron,
            jobs: c.jobs,
            invocations: c.invocations,
            timers: c.timers,
            inline_passwords,
            not_followed: c.not_followed,
            files_read: c.files_read,
            unreadable: c.unreadable,
            issues: c.issues,
            restore_tests: restore_tests(target, restore_dir),
        })
    }
}

phipolicy_sdk::export_plugin!(ContingencyBackup);

/// A job that runs commands on a schedule.
#[derive(Debug, Clone)]
struct Job {
    kind: JobKind,
    path: String,
    line: u32,
    schedule: String,
    user: Option<String>,
    /// Why the scheduler will not run it (a disabled timer, a cron file cron refuses, a script
    /// run-parts skips); `None` when it runs.
    disabled: Option<String>,
}

impl Job {
    fn fact(&self) -> JobFact {
        JobFact {
            kind: self.kind,
            path: self.path.clone(),
            line: self.line,
            schedule: self.schedule.clone(),
            user: self.user.clone(),
            enabled: self.disabled.is_none(),
            disabled_reason: self.disabled.clone(),
            executable: None,
            run_parts_name_ok: None,
        }
    }
}

struct Collector<'t> {
    target: &'t dyn Target,
    family: Family,
    jobs: Vec<JobFact>,
    invocations: Vec<Invocation>,
    timers: Vec<Timer>,
    /// (path, line, kind) of every `RESTIC_PASSWORD=` assignment.
    inline: BTreeSet<(String, u32, String)>,
    not_followed: Vec<NotFollowed>,
    files_read: Vec<String>,
    unreadable: Vec<Unreadable>,
    issues: Vec<ParseIssue>,
}

impl Collector<'_> {
    /// Reads a text file; missing is `None` silently, other failures are recorded.
    fn read(&mut self, path: &str) -> Option<String> {
        match self.target.read_text(path) {
            Ok(t) => {
                self.files_read.push(path.to_string());
                Some(t)
            }
            Err(ReadError::NotFound) => None,
            Err(e) => {
                self.unreadable.push(Unreadable::new(path, &e));
                None
            }
        }
    }

    /// Regular files (or links to them) directly in `dir`, sorted by name.
    fn files_in(&mut self, dir: &str) -> Vec<String> {
        match self.target.list_dir(dir) {
            Ok(entries) => entries
                .into_iter()
                .filter(|e| !e.name.starts_with('.'))
                .map(|e| join(dir, &e.name))
                .filter(|p| {
                    self.target
                        .stat(p)
                        .is_ok_and(|s| s.kind == FileKind::Regular)
                })
                .collect(),
            Err(ReadError::NotFound) => Vec::new(),
            Err(e) => {
                self.unreadable.push(Unreadable::new(dir, &e));
                Vec::new()
            }
        }
    }

    /// Records `RESTIC_PASSWORD=` assignments; `kind` names environment files, other kinds follow
    /// from where each assignment was written.
    fn note_inline(&mut self, env: &[Assignment], kind: &str) {
        for a in env.iter().filter(|a| a.name == "RESTIC_PASSWORD") {
            let kind = if kind == "environment-file" {
                kind
            } else {
                written_in(&a.path)
            };
            self.inline
                .insert((a.path.clone(), a.line, kind.to_string()));
        }
    }

    /// `/etc/crontab`, `/etc/cron.d/*` and the per-user spool of the target's family.
    fn crontabs(&mut self) {
        let mut tables: Vec<(String, bool)> = vec![("/etc/crontab".into(), true)];
        for p in self.files_in("/etc/cron.d") {
            tables.push((p, true));
        }
        let spools: &[&str] = match self.family {
            Family::Debian => &["/var/spool/cron/crontabs"],
            Family::Rhel => &["/var/spool/cron"],
            Family::Unknown => &["/var/spool/cron/crontabs", "/var/spool/cron"],
        };
        for spool in spools {
            for p in self.files_in(spool) {
                tables.push((p, false));
            }
        }
        for (path, system) in tables {
            let Some(text) = self.read(&path) else {
                continue;
            };
            let tab = schedule::parse_crontab(&text, &path, system);
            if let Some(why) = &tab.truncated {
                self.unreadable.push(Unreadable {
                    path: path.clone(),
                    error: why.clone(),
                });
            }
            let refusal = self.cron_refusal(&path);
            self.issues.extend(tab.issues.iter().cloned());
            self.note_inline(&tab.assignments, "crontab");
            for e in &tab.entries {
                let user = e
                    .user
                    .clone()
                    .or_else(|| (!system).then(|| file_name(&path).to_string()));
                let job = Job {
                    kind: JobKind::Crontab,
                    path: path.clone(),
                    line: e.line,
                    schedule: e.schedule.clone(),
                    user,
                    disabled: refusal.clone(),
                };
                let commands = commands_of(&e.command, &e.env, &path, e.line);
                let before = self.invocations.len();
                for command in &commands {
                    self.follow(&job, command, &[], 0);
                }
                if self.invocations.len() > before {
                    self.jobs.push(job.fact());
                }
            }
        }
    }

    /// Why cron would not load the table at `path`: Debian's cron skips `/etc/cron.d` names that
    /// run-parts would skip, and both crons refuse tables writable by group or others or system
    /// tables not owned by root.
    fn cron_refusal(&self, path: &str) -> Option<String> {
        if path.starts_with("/etc/cron.d/") && !run_parts_name_ok(self.family, file_name(path)) {
            return Some(format!(
                "cron ignores {path}: {}",
                skipped_name(self.family)
            ));
        }
        let st = self.target.stat(path).ok()?;
        if st.mode & 0o022 != 0 {
            return Some(format!(
                "cron refuses to load {path}: it is writable by group or others (mode {:04o})",
                st.mode
            ));
        }
        if st.uid != 0 && !path.starts_with("/var/spool/cron/") {
            return Some(format!(
                "cron refuses to load {path}: it is owned by uid {}, not root",
                st.uid
            ));
        }
        None
    }

    /// `/etc/cron.daily/*` and `/etc/cron.weekly/*`, run by run-parts (from /etc/crontab or
    /// anacron). Debian's run-parts skips names with characters outside `[A-Za-z0-9_-]` (so
    /// `backup.sh` never runs); both families skip files without the execute bit.
    fn cron_scripts(&mut self) {
        for dir in CRON_SCRIPT_DIRS {
            for path in self.files_in(dir) {
                let name = file_name(&path).to_string();
                let executable = self.target.stat(&path).is_ok_and(|s| s.mode & 0o111 != 0);
                let name_ok = run_parts_name_ok(self.family, &name);
                let job = Job {
                    kind: JobKind::CronScript,
                    path: path.clone(),
                    line: 0,
                    schedule: file_name(dir).trim_start_matches("cron.").to_string(),
                    user: Some("root".into()),
                    disabled: if !executable {
                        Some(format!("run-parts never runs {path}: it is not executable"))
                    } else if !name_ok {
                        Some(format!(
                            "run-parts never runs {path}: {}",
                            skipped_name(self.family)
                        ))
                    } else {
                        None
                    },
                };
                let before = self.invocations.len();
                self.script(&job, &path, &[], 0);
                if self.invocations.len() > before {
                    self.jobs.push(JobFact {
                        executable: Some(executable),
                        run_parts_name_ok: Some(name_ok),
                        ..job.fact()
                    });
                }
            }
        }
    }

    /// Reads and follows a shell script run by `job`.
    fn script(&mut self, job: &Job, path: &str, env: &[Assignment], depth: usize) {
        let Some(text) = self.read(path) else {
            return;
        };
        if text.contains('\0') {
            self.issues.push(ParseIssue {
                path: path.to_string(),
                line: 0,
                message: "a binary program, not a script: its commands cannot be read".into(),
            });
            return;
        }
        let mut sourced: Vec<(String, u32)> = Vec::new();
        let script = schedule::parse_shell_script(&text, path, env, &mut |file, line| {
            sourced.push((file.to_string(), line));
            Vec::new()
        });
        // Sourced files are read for their assignments; re-parse with them in effect.
        let script = if sourced.is_empty() {
            script
        } else {
            let mut loaded: Vec<(String, Vec<Assignment>)> = Vec::new();
            for (file, _) in &sourced {
                let assignments = if file.starts_with('/') && followed(file) {
                    self.read(file)
                        .map(|t| {
                            schedule::parse_shell_script(&t, file, &[], &mut |_, _| Vec::new())
                                .assignments
                        })
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                loaded.push((file.clone(), assignments));
            }
            schedule::parse_shell_script(&text, path, env, &mut |file, _| {
                loaded
                    .iter()
                    .find(|(f, _)| f == file)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default()
            })
        };
        if let Some(why) = &script.truncated {
            self.unreadable.push(Unreadable {
                path: path.to_string(),
                error: why.clone(),
            });
        }
        self.note_inline(&script.assignments, "script");
        for command in &script.commands {
            self.follow(job, command, &[], depth + 1);
        }
    }

    /// Follows one command of `job`: records restic invocations, reads called scripts.
    fn follow(&mut self, job: &Job, command: &Command, via: &[String], depth: usize) {
        if depth > MAX_SCRIPT_DEPTH {
            self.issues.push(ParseIssue {
                path: command.path.clone(),
                line: command.line,
                message: format!(
                    "scripts call scripts more than {MAX_SCRIPT_DEPTH} deep; not followed further"
                ),
            });
            return;
        }
        self.note_inline(&command.env, written_in(&command.path));
        match classify(command) {
            Runs::Restic(at) => {
                let inv = parse_restic(command, at);
                let fact = self.invocation_fact(job, &inv, via);
                self.invocations.push(fact);
            }
            Runs::InlineShell(text) => {
                for inner in commands_of(&text, &command.env, &command.path, command.line) {
                    self.follow(job, &inner, via, depth + 1);
                }
            }
            Runs::Script(path) => {
                if followed(&path) {
                    let mut chain = via.to_vec();
                    chain.push(format!("{}:{}", command.path, command.line));
                    let before = self.files_read.len();
                    self.script_from(job, &path, &command.env, depth, &chain);
                    if self.files_read.len() == before && !self.target.exists(&path) {
                        self.issues.push(ParseIssue {
                            path: command.path.clone(),
                            line: command.line,
                            message: format!("runs {path}, which does not exist in the target"),
                        });
                    }
                } else if !is_system_program(&path) {
                    self.not_followed.push(NotFollowed {
                        path: command.path.clone(),
                        line: command.line,
                        script: path,
                        reason: "outside the directories this plugin reads scripts from".into(),
                    });
                }
            }
            Runs::Other => {}
        }
    }

    fn script_from(
        &mut self,
        job: &Job,
        path: &str,
        env: &[Assignment],
        depth: usize,
        chain: &[String],
    ) {
        let before = self.invocations.len();
        self.script(job, path, env, depth);
        for inv in self.invocations.iter_mut().skip(before) {
            let mut full = chain.to_vec();
            full.append(&mut inv.via);
            inv.via = full;
        }
    }

    fn invocation_fact(&mut self, job: &Job, inv: &ResticInvocation, via: &[String]) -> Invocation {
        let password_file_stat = inv
            .password_file
            .as_ref()
            .map(|p| stat_fact(self.target, &p.value));
        let mut backup_paths: Vec<String> = inv.paths.clone();
        let mut files_from = Vec::new();
        for file in &inv.files_from {
            if !file.starts_with('/') {
                files_from.push(FilesFrom {
                    path: file.clone(),
                    entries: Vec::new(),
                    error: Some("relative path: the directory restic runs in is unknown".into()),
                });
                continue;
            }
            match self.target.read_text(file) {
                Ok(text) => {
                    self.files_read.push(file.clone());
                    let entries: Vec<String> = text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(String::from)
                        .collect();
                    backup_paths.extend(entries.iter().cloned());
                    files_from.push(FilesFrom {
                        path: file.clone(),
                        entries,
                        error: None,
                    });
                }
                Err(e) => files_from.push(FilesFrom {
                    path: file.clone(),
                    entries: Vec::new(),
                    error: Some(e.to_string()),
                }),
            }
        }
        let repository_file_value = inv.repository_file.as_ref().and_then(|f| {
            self.target
                .read_text(&f.value)
                .ok()
                .map(|t| t.lines().next().unwrap_or("").trim().to_string())
        });
        Invocation {
            subcommand: inv.subcommand.clone(),
            repository: inv.repository.clone(),
            repository_file: inv.repository_file.clone(),
            password_file: inv.password_file.clone(),
            password_command: inv.password_command.clone(),
            inline_password: inv.inline_password.clone(),
            paths: inv.paths.clone(),
            stdin: inv.stdin,
            path: inv.path.clone(),
            line: inv.line,
            job: job.fact(),
            via: via.to_vec(),
            password_file_stat,
            files_from,
            backup_paths,
            repository_file_value,
        }
    }

    /// `.timer` units with their services, enablement and the restic commands they run.
    fn timers(&mut self) {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut timer_paths: Vec<String> = Vec::new();
        for dir in UNIT_DIRS {
            if let Ok(entries) = self.target.list_dir(dir) {
                for e in entries {
                    if e.name.ends_with(".timer")
                        && !e.name.contains('@')
                        && seen.insert(e.name.clone())
                    {
                        timer_paths.push(join(dir, &e.name));
                    }
                }
            }
        }
        let wants = self.timer_links();
        for timer_path in timer_paths {
            let name = file_name(&timer_path).to_string();
            let masked = self
                .target
                .read_link(&timer_path)
                .is_ok_and(|l| l == "/dev/null");
            let unit = if masked {
                None
            } else {
                self.read(&timer_path)
                    .map(|t| UnitFile::parse(&t, &timer_path))
            };
            let Some(unit) = unit else {
                if masked {
                    self.timers.push(Timer {
                        path: timer_path,
                        name,
                        masked: true,
                        enabled: false,
                        enabled_by: None,
                        schedule: None,
                        service: None,
                        service_path: None,
                        runs_restic: None,
                    });
                }
                continue;
            };
            self.issues.extend(unit.issues.iter().cloned());
            let service_name = unit
                .value("Timer", "Unit")
                .map(|e| e.value.clone())
                .unwrap_or_else(|| format!("{}.service", name.trim_end_matches(".timer")));
            let enabled_by: Vec<&String> = wants.iter().filter(|l| file_name(l) == name).collect();
            let schedule: Vec<String> = unit
                .entries
                .iter()
                .filter(|e| e.section == "Timer" && e.key.starts_with("On"))
                .map(|e| format!("{}={}", e.key, e.value))
                .collect();
            let job = Job {
                kind: JobKind::SystemdTimer,
                path: timer_path.clone(),
                line: 0,
                schedule: schedule.join(" "),
                user: None,
                disabled: enabled_by.is_empty().then(|| {
                    format!("the timer {timer_path} is not enabled (no link to it in a /etc/systemd/system/*.wants directory), so systemd never starts it")
                }),
            };
            let before = self.invocations.len();
            let service = self.service(&job, &service_name);
            if self.invocations.len() > before {
                self.jobs.push(job.fact());
            }
            let runs_restic = self.invocations.len() > before;
            self.timers.push(Timer {
                path: timer_path,
                name,
                masked: false,
                enabled: !enabled_by.is_empty(),
                enabled_by: Some(enabled_by.into_iter().cloned().collect()),
                schedule: Some(schedule),
                service: Some(service_name),
                service_path: Some(service),
                runs_restic: Some(runs_restic),
            });
        }
    }

    /// Symlinks in `/etc/systemd/system/*.wants/` (what `systemctl enable` creates).
    fn timer_links(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(entries) = self.target.list_dir("/etc/systemd/system") else {
            return out;
        };
        for e in entries {
            if e.kind == FileKind::Directory && e.name.ends_with(".wants") {
                let dir = join("/etc/systemd/system", &e.name);
                if let Ok(links) = self.target.list_dir(&dir) {
                    out.extend(
                        links
                            .into_iter()
                            .filter(|l| l.name.ends_with(".timer"))
                            .map(|l| join(&dir, &l.name)),
                    );
                }
            }
        }
        out
    }

    /// Reads a service unit (and its drop-ins) and follows its `ExecStart=` commands with the
    /// environment of `Environment=` and `EnvironmentFile=`; returns the unit's path.
    fn service(&mut self, job: &Job, name: &str) -> Option<String> {
        let path = UNIT_DIRS
            .iter()
            .map(|d| join(d, name))
            .find(|p| self.target.exists(p))?;
        let mut files: Vec<UnitFile> = Vec::new();
        let text = self.read(&path)?;
        files.push(UnitFile::parse(&text, &path));
        for dir in UNIT_DIRS {
            let dropins = join(dir, &format!("{name}.d"));
            for p in self.files_in(&dropins) {
                if p.ends_with(".conf")
                    && let Some(t) = self.read(&p)
                {
                    files.push(UnitFile::parse(&t, &p));
                }
            }
        }
        let mut env: Vec<Assignment> = Vec::new();
        let mut env_files: Vec<(String, bool)> = Vec::new();
        let mut execs: Vec<(String, String, u32)> = Vec::new();
        for f in &files {
            self.issues.extend(f.issues.iter().cloned());
            for e in f.entries.iter().filter(|e| e.section == "Service") {
                match e.key.as_str() {
                    "Environment" if e.value.is_empty() => env.clear(),
                    "Environment" => {
                        let a = schedule::environment_assignments(e, &f.path);
                        env.extend(a);
                    }
                    "EnvironmentFile" if e.value.is_empty() => env_files.clear(),
                    "EnvironmentFile" => env_files.push(schedule::environment_file(&e.value)),
                    "ExecStart" if e.value.is_empty() => execs.clear(),
                    "ExecStart" => execs.push((e.value.clone(), f.path.clone(), e.line)),
                    _ => {}
                }
            }
        }
        self.note_inline(&env, "unit");
        // EnvironmentFile= assignments override Environment= ones (systemd.exec(5)).
        for (file, optional) in env_files {
            if !followed(&file) {
                self.not_followed.push(NotFollowed {
                    path: path.clone(),
                    line: 0,
                    script: file,
                    reason: "EnvironmentFile outside the directories this plugin reads".into(),
                });
                continue;
            }
            match self.read(&file) {
                Some(t) => {
                    let a = schedule::parse_environment_file(&t, &file);
                    self.note_inline(&a, "environment-file");
                    env.extend(a);
                }
                None if !optional => self.issues.push(ParseIssue {
                    path: path.clone(),
                    line: 0,
                    message: format!("EnvironmentFile={file} does not exist: systemd refuses to start the service"),
                }),
                None => {}
            }
        }
        for (exec, file, line) in execs {
            for command in commands_of(&schedule::exec_words(&exec), &env, &file, line) {
                self.follow(job, &command, &[], 0);
            }
        }
        Some(path)
    }
}

/// Whether run-parts (and Debian's cron for /etc/cron.d) accepts a file name: Debian's accepts
/// only letters, digits, `_` and `-`; Rocky's skips editor and rpm leftovers.
fn run_parts_name_ok(family: Family, name: &str) -> bool {
    match family {
        Family::Debian => name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'),
        _ => {
            !(name.ends_with('~')
                || name.ends_with(".rpmsave")
                || name.ends_with(".rpmorig")
                || name.ends_with(".rpmnew")
                || name.ends_with(".swp"))
        }
    }
}

/// Why a name is skipped, for messages.
fn skipped_name(family: Family) -> &'static str {
    match family {
        Family::Debian => {
            "Debian skips names with characters other than letters, digits, _ and - (such as a dot)"
        }
        _ => "names ending in ~, .rpmsave, .rpmorig, .rpmnew or .swp are skipped",
    }
}

/// What kind of file a command was written in, for inline-password facts.
fn written_in(path: &str) -> &'static str {
    if UNIT_DIRS.iter().any(|d| path.starts_with(d)) {
        "unit"
    } else if path == "/etc/crontab"
        || path.starts_with("/etc/cron.d/")
        || path.starts_with("/var/spool/cron/")
    {
        "crontab"
    } else if path.starts_with("/etc/restic/") || path.starts_with("/etc/default/") {
        "environment-file"
    } else {
        "script"
    }
}

/// Whether scripts or files at `path` are read (the manifest declares these prefixes).
fn followed(path: &str) -> bool {
    FOLLOWED_PREFIXES.iter().any(|p| path.starts_with(p))
}

/// Packaged programs (not backup scripts) that commands commonly run.
fn is_system_program(path: &str) -> bool {
    [
        "/bin/",
        "/sbin/",
        "/usr/bin/",
        "/usr/sbin/",
        "/usr/lib/",
        "/lib/",
        "/usr/libexec/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// `stat` of a file as a fact: kind, mode (number and octal text), owner; or the error.
fn stat_fact(target: &dyn Target, path: &str) -> StatFact {
    let absent = |error: Option<String>| StatFact {
        path: path.to_string(),
        exists: false,
        kind: None,
        mode: None,
        mode_octal: None,
        uid: None,
        gid: None,
        size: None,
        mtime: None,
        error,
    };
    if !path.starts_with('/') {
        return absent(Some("not an absolute path".into()));
    }
    match target.stat(path) {
        Ok(s) => StatFact {
            path: path.to_string(),
            exists: true,
            kind: Some(s.kind),
            mode: Some(s.mode),
            mode_octal: Some(format!("{:04o}", s.mode)),
            uid: Some(s.uid),
            gid: Some(s.gid),
            size: Some(s.size),
            mtime: Some(s.mtime),
            error: None,
        },
        Err(ReadError::NotFound) => absent(None),
        Err(e) => absent(Some(e.to_string())),
    }
}

/// The restore-test record directory: its regular files with their modification times.
fn restore_tests(target: &dyn Target, dir: &str) -> RestoreTests {
    let top = stat_fact(target, dir);
    let mut records = Vec::new();
    let mut others = Vec::new();
    let mut errors = Vec::new();
    if top.kind == Some(FileKind::Directory) {
        let mut stack = vec![(dir.to_string(), 0usize)];
        while let Some((d, depth)) = stack.pop() {
            match target.list_dir(&d) {
                Ok(entries) => {
                    for e in entries {
                        let p = join(&d, &e.name);
                        match target.stat(&p) {
                            Ok(s) if s.kind == FileKind::Regular => {
                                if records.len() < MAX_RECORDS {
                                    records.push(Record {
                                        path: p,
                                        mtime: s.mtime,
                                        size: s.size,
                                    });
                                }
                            }
                            Ok(s) if s.kind == FileKind::Directory && depth < MAX_RECORD_DEPTH => {
                                stack.push((p, depth + 1));
                            }
                            Ok(s) => others.push(OtherEntry {
                                path: p,
                                kind: s.kind,
                            }),
                            Err(err) => errors.push(Unreadable {
                                path: p,
                                error: err.to_string(),
                            }),
                        }
                    }
                }
                Err(err) => errors.push(Unreadable {
                    path: d,
                    error: err.to_string(),
                }),
            }
        }
    }
    records.sort_by(|a, b| a.path.cmp(&b.path));
    RestoreTests {
        dir: top,
        records,
        other_entries: others,
        errors,
    }
}

#[cfg(test)]
mod tests;

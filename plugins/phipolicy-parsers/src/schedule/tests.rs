//! Tests of the schedule parsers.

use super::*;

fn words(s: &str) -> Vec<Vec<String>> {
    split_commands(s)
}

fn w(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

/// Debian 12's /etc/crontab (cron-daemon-common 3.0pl1-162).
const DEBIAN_CRONTAB: &str = "# /etc/crontab: system-wide crontab\n# Unlike any other crontab you don't have to run the `crontab'\n# command to install the new version when you edit this file\n# and files in /etc/cron.d. These files also have username fields,\n# that none of the other crontabs do.\n\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n# Example of job definition:\n# .---------------- minute (0 - 59)\n# |  .------------- hour (0 - 23)\n# |  |  .---------- day of month (1 - 31)\n# |  |  |  .------- month (1 - 12) OR jan,feb,mar,apr ...\n# |  |  |  |  .---- day of week (0 - 6) (Sunday=0 or 7) OR sun,mon,tue,wed,thu,fri,sat\n# |  |  |  |  |\n# *  *  *  *  * user-name command to be executed\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }\n47 6\t* * 7\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }\n52 6\t1 * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }\n#\n";

/// e2fsprogs 1.47's /etc/cron.d/e2scrub_all.
const E2SCRUB_CRON_D: &str = "30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron\n10 3 * * * root test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r\n";

/// logrotate 3.21's /etc/cron.daily/logrotate.
const LOGROTATE_DAILY: &str = "#!/bin/sh\n\n# skip in favour of systemd timer\nif [ -d /run/systemd/system ]; then\n    exit 0\nfi\n\n# this cronjob persists removals (but not purges)\nif [ ! -x /usr/sbin/logrotate ]; then\n    exit 0\nfi\n\n/usr/sbin/logrotate /etc/logrotate.conf\nEXITVALUE=$?\nif [ $EXITVALUE != 0 ]; then\n    /usr/bin/logger -t logrotate \"ALERT exited abnormally with [$EXITVALUE]\"\nfi\nexit $EXITVALUE\n";

/// logrotate 3.21's logrotate.service (hardening comments included).
const LOGROTATE_SERVICE: &str = "[Unit]\nDescription=Rotate log files\nDocumentation=man:logrotate(8) man:logrotate.conf(5)\nRequiresMountsFor=/var/log\nConditionACPower=true\n\n[Service]\nType=oneshot\nExecStart=/usr/sbin/logrotate /etc/logrotate.conf\n\n# performance options\nNice=19\nIOSchedulingClass=best-effort\nIOSchedulingPriority=7\n";

/// apt 2.6's apt-daily.timer.
const APT_DAILY_TIMER: &str = "[Unit]\nDescription=Daily apt download activities\n\n[Timer]\nOnCalendar=*-*-* 6,18:00\nRandomizedDelaySec=12h\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n";

#[test]
fn debian_crontab_has_run_parts_jobs_and_assignments() {
    let tab = parse_crontab(DEBIAN_CRONTAB, "/etc/crontab", true);
    assert!(tab.issues.is_empty(), "{:?}", tab.issues);
    assert_eq!(tab.assignments.len(), 2);
    assert_eq!(tab.assignments[1].name, "PATH");
    assert_eq!(tab.entries.len(), 4);
    let daily = &tab.entries[1];
    assert_eq!(
        (daily.schedule.as_str(), daily.user.as_deref(), daily.line),
        ("25 6 * * *", Some("root"), 19)
    );
    assert_eq!(
        words(&daily.command),
        vec![
            w(&["test", "-x", "/usr/sbin/anacron"]),
            w(&["cd", "/"]),
            w(&["run-parts", "--report", "/etc/cron.daily"]),
        ]
    );
    assert_eq!(daily.env.len(), 2);
}

#[test]
fn cron_d_prefix_assignment_moves_into_env() {
    let tab = parse_crontab(E2SCRUB_CRON_D, "/etc/cron.d/e2scrub_all", true);
    let e = &tab.entries[1];
    let cmds = commands_of(&e.command, &e.env, &e.path, e.line);
    assert_eq!(cmds.len(), 2);
    assert_eq!(cmds[1].words, w(&["/sbin/e2scrub_all", "-A", "-r"]));
    assert_eq!(cmds[1].env[0].name, "SERVICE_MODE");
    assert_eq!(classify(&cmds[1]), Runs::Script("/sbin/e2scrub_all".into()));
}

#[test]
fn user_crontab_and_percent_and_keywords() {
    let tab = parse_crontab(
        "MAILTO=\"\"\n@daily restic backup /srv % stdin\n0 1 * * * echo 50\\% done\nbogus\n* * *\n",
        "/var/spool/cron/crontabs/root",
        false,
    );
    assert_eq!(tab.assignments[0].value, "");
    assert_eq!(tab.entries[0].schedule, "@daily");
    assert_eq!(tab.entries[0].command, "restic backup /srv ");
    assert_eq!(tab.entries[1].command, "echo 50% done");
    assert_eq!(tab.issues.len(), 2);
}

#[test]
fn logrotate_script_commands_and_assignments() {
    let s = parse_shell_script(
        LOGROTATE_DAILY,
        "/etc/cron.daily/logrotate",
        &[],
        &mut |_, _| Vec::new(),
    );
    assert!(s.commands.iter().any(|c| c.words
        == w(&["/usr/sbin/logrotate", "/etc/logrotate.conf"])
        && c.line == 13));
    assert_eq!(s.assignments[0].name, "EXITVALUE");
    assert!(s.commands.iter().all(|c| !c.words.is_empty()));
}

#[test]
fn script_exports_and_sources_reach_restic() {
    let s = parse_shell_script(
        "#!/bin/sh\nset -eu\n. /etc/restic/env\nexport RESTIC_REPOSITORY=sftp:b@h:/r\nrestic backup \\\n  /var/data/phi \\\n  --tag nightly >>/var/log/backup.log 2>&1\n",
        "/usr/local/bin/backup.sh",
        &[],
        &mut |file, line| {
            vec![Assignment {
                name: "RESTIC_PASSWORD_FILE".into(),
                value: format!("{file}:{line}"),
                path: file.into(),
                line: 1,
            }]
        },
    );
    assert_eq!(s.sourced, vec![("/etc/restic/env".to_string(), 3)]);
    let c = s.commands.last().expect("restic command");
    assert_eq!(c.line, 5);
    let inv = match classify(c) {
        Runs::Restic(i) => parse_restic(c, i),
        other => panic!("{other:?}"),
    };
    assert_eq!(inv.subcommand.as_deref(), Some("backup"));
    assert_eq!(inv.paths, w(&["/var/data/phi"]));
    assert_eq!(
        inv.repository.as_ref().map(|r| r.value.as_str()),
        Some("sftp:b@h:/r")
    );
    assert_eq!(
        inv.password_file
            .as_ref()
            .map(|r| (r.source.as_str(), r.value.as_str())),
        Some(("environment", "/etc/restic/env:3"))
    );
}

#[test]
fn restic_options_forms() {
    let cmds = commands_of(
        "RESTIC_PASSWORD=hunter2 nice -n 19 /usr/bin/restic -r s3:s3.amazonaws.com/b --password-file=/etc/restic/pw backup --exclude '*.tmp' --files-from /etc/restic/files -x /a \"/b c\"",
        &[],
        "/etc/cron.d/backup",
        4,
    );
    let c = &cmds[0];
    let Runs::Restic(i) = classify(c) else {
        panic!("not restic")
    };
    let inv = parse_restic(c, i);
    assert_eq!(
        inv.repository
            .as_ref()
            .map(|r| (r.name.as_str(), r.value.as_str())),
        Some(("-r", "s3:s3.amazonaws.com/b"))
    );
    assert_eq!(
        inv.password_file.as_ref().map(|r| r.value.as_str()),
        Some("/etc/restic/pw")
    );
    assert_eq!(inv.files_from, w(&["/etc/restic/files"]));
    assert_eq!(inv.paths, w(&["/a", "/b c"]));
    assert_eq!(
        inv.inline_password,
        Some(Location {
            path: "/etc/cron.d/backup".into(),
            line: 4
        })
    );
    let short = commands_of("restic -r/srv/repo -p/x backup /a", &[], "/p", 1);
    let inv = parse_restic(&short[0], 0);
    assert_eq!(inv.repository.map(|r| r.value), Some("/srv/repo".into()));
    assert_eq!(inv.password_file.map(|r| r.value), Some("/x".into()));
}

#[test]
fn option_beats_environment() {
    let env = vec![Assignment {
        name: "RESTIC_REPOSITORY".into(),
        value: "/local".into(),
        path: "/etc/crontab".into(),
        line: 3,
    }];
    let c = commands_of(
        "restic --repo rest:https://h/r backup /a",
        &env,
        "/etc/crontab",
        9,
    );
    let inv = parse_restic(&c[0], 0);
    assert_eq!(
        inv.repository.map(|r| r.value),
        Some("rest:https://h/r".into())
    );
}

#[test]
fn shell_dash_c_and_script_paths() {
    let c = commands_of("/bin/sh -c 'restic backup /a'", &[], "/p", 1);
    assert_eq!(
        classify(&c[0]),
        Runs::InlineShell("restic backup /a".into())
    );
    let c = commands_of(
        "flock -n /run/b.lock bash -ec \"/usr/local/bin/backup.sh\"",
        &[],
        "/p",
        1,
    );
    assert_eq!(
        classify(&c[0]),
        Runs::InlineShell("/usr/local/bin/backup.sh".into())
    );
    let c = commands_of(
        "timeout 2h nice -n 10 bash /usr/local/sbin/backup",
        &[],
        "/p",
        1,
    );
    assert_eq!(
        classify(&c[0]),
        Runs::Script("/usr/local/sbin/backup".into())
    );
    let c = commands_of("run-parts --report /etc/cron.daily", &[], "/p", 1);
    assert_eq!(classify(&c[0]), Runs::Other);
    let c = commands_of("bash -c '/usr/local/bin/b.sh'", &[], "/p", 1);
    assert_eq!(
        classify(&c[0]),
        Runs::InlineShell("/usr/local/bin/b.sh".into())
    );
}

#[test]
fn units_real_files() {
    let s = UnitFile::parse(LOGROTATE_SERVICE, "/lib/systemd/system/logrotate.service");
    assert!(s.issues.is_empty());
    let exec = s.values("Service", "ExecStart");
    assert_eq!(
        (exec[0].value.as_str(), exec[0].line),
        ("/usr/sbin/logrotate /etc/logrotate.conf", 9)
    );
    let t = UnitFile::parse(APT_DAILY_TIMER, "/lib/systemd/system/apt-daily.timer");
    assert_eq!(
        t.value("Timer", "OnCalendar").map(|e| e.value.as_str()),
        Some("*-*-* 6,18:00")
    );
    assert_eq!(t.value("Timer", "Unit"), None);
}

#[test]
fn unit_environment_continuation_and_reset() {
    let u = UnitFile::parse(
        "[Service]\nEnvironment=\"RESTIC_REPOSITORY=sftp:b@h:/r\" A=1\nEnvironmentFile=-/etc/restic/env\nExecStart=\nExecStart=-/usr/bin/restic backup \\\n  /var/data/phi\nstray\n",
        "/etc/systemd/system/b.service",
    );
    let env = environment_assignments(u.value("Service", "Environment").expect("env"), &u.path);
    assert_eq!(
        (env[0].name.as_str(), env[0].value.as_str(), env[0].line),
        ("RESTIC_REPOSITORY", "sftp:b@h:/r", 2)
    );
    assert_eq!(
        environment_file(&u.values("Service", "EnvironmentFile")[0].value),
        ("/etc/restic/env".into(), true)
    );
    let exec = u.values("Service", "ExecStart");
    assert_eq!(exec.len(), 1);
    assert_eq!(
        exec_words(&exec[0].value),
        "/usr/bin/restic backup  /var/data/phi"
    );
    assert_eq!(u.issues.len(), 1);
    let f = parse_environment_file(
        "# c\nRESTIC_PASSWORD_FILE=\"/etc/restic/pw\"\nexport X=1\nbad line\n",
        "/etc/restic/env",
    );
    assert_eq!(f.len(), 2);
    assert_eq!((f[0].value.as_str(), f[0].line), ("/etc/restic/pw", 2));
}

#[test]
fn redirections_are_dropped() {
    assert_eq!(
        words("restic backup /a >/var/log/b 2>&1 < /dev/null; echo done"),
        vec![w(&["restic", "backup", "/a"]), w(&["echo", "done"])]
    );
}

#[test]
fn garbage_never_panics() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet: Vec<char> = "ab=/ \t\n\\'\"#%;&|<>(){}[]-@:+!$`é\u{0}*0123456789restic"
        .chars()
        .collect();
    for _ in 0..3000 {
        let mut s = String::new();
        for _ in 0..(seed % 60) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let idx = usize::try_from(seed % alphabet.len() as u64).unwrap_or(0);
            s.push(alphabet.get(idx).copied().unwrap_or('x'));
        }
        for c in commands_of(&s, &[], "/g", 1) {
            if let Runs::Restic(i) = classify(&c) {
                let _ = parse_restic(&c, i);
            }
        }
        let _ = parse_crontab(&s, "/g", true);
        let _ = parse_crontab(&s, "/g", false);
        let _ = parse_shell_script(&s, "/g", &[], &mut |_, _| Vec::new());
        let u = UnitFile::parse(&s, "/g");
        for e in &u.entries {
            let _ = environment_assignments(e, "/g");
            let _ = exec_words(&e.value);
        }
        let _ = parse_environment_file(&s, "/g");
    }
}

//! Native tests of the contingency-backup plugin on the backup-* fixture roots (file modes and
//! times there come from the checkout, so only the engine's fixture test asserts them).

use super::*;
use phipolicy_sdk::testing::{DirTarget, tree};
use serde_json::json;

/// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
#[test]
fn schema_is_fresh() {
    phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
        "contingency-backup",
    ));
}

fn collect(case: &str) -> Value {
    let root = format!(
        "{}/../../engine/tests/fixtures/{case}/root",
        env!("CARGO_MANIFEST_DIR")
    );
    ContingencyBackup::collect(&DirTarget::new(root), &Params::default()).expect("collect")
}

fn invocations(f: &Value) -> Vec<Value> {
    f["invocations"].as_array().cloned().unwrap_or_default()
}

#[test]
fn debian_defaults_have_no_restic_and_no_jobs() {
    let f = collect("backup-none");
    assert_eq!(f["family"], "debian");
    assert_eq!(f["restic"]["installed"], false);
    assert_eq!(f["jobs"], json!([]));
    assert_eq!(f["invocations"], json!([]));
    assert_eq!(f["issues"], json!([]));
    assert_eq!(f["restore_tests"]["dir"]["exists"], false);
    let read = f["files_read"].as_array().expect("files_read");
    assert!(read.contains(&json!("/etc/crontab")));
    assert!(read.contains(&json!("/etc/cron.daily/logrotate")));
}

#[test]
fn cron_variables_reach_restic_in_a_called_script() {
    let f = collect("backup-cron-hardened");
    assert_eq!(f["restic"]["binary"], "/usr/bin/restic");
    let inv = invocations(&f);
    let backup = inv
        .iter()
        .find(|i| i["subcommand"] == "backup")
        .expect("backup invocation");
    assert_eq!(backup["path"], "/usr/local/sbin/restic-phi-backup");
    assert_eq!(backup["line"], 4);
    assert_eq!(backup["backup_paths"], json!(["/var/data/phi"]));
    assert_eq!(backup["via"], json!(["/etc/cron.d/restic-phi:7"]));
    assert_eq!(
        (
            backup["repository"]["value"].clone(),
            backup["repository"]["source"].clone(),
            backup["repository"]["line"].clone()
        ),
        (
            json!("sftp:backup@backup.example.org:/srv/restic/phi"),
            json!("environment"),
            json!(4)
        )
    );
    assert_eq!(backup["password_file"]["value"], "/etc/restic/password");
    assert_eq!(backup["password_file_stat"]["uid"], 0);
    assert_eq!(backup["password_file_stat"]["kind"], "regular");
    assert_eq!(backup["job"]["kind"], "crontab");
    assert_eq!(backup["job"]["user"], "root");
    assert_eq!(backup["job"]["enabled"], true);
    // `restic forget` and `restic check` are recorded too, with their subcommands.
    let subs: Vec<&Value> = inv.iter().map(|i| &i["subcommand"]).collect();
    assert_eq!(subs, vec!["backup", "check", "forget"]);
    assert_eq!(f["inline_passwords"], json!([]));
    let records = f["restore_tests"]["records"].as_array().expect("records");
    assert_eq!(
        records[0]["path"],
        "/var/log/hipaa-restore-tests/2026-10-02-restore-test.log"
    );
}

#[test]
fn enabled_timer_service_environment_file_and_files_from() {
    let f = collect("backup-timer-hardened");
    let timer = &f["timers"][0];
    assert_eq!(timer["name"], "restic-phi.timer");
    assert_eq!(timer["enabled"], true);
    assert_eq!(
        timer["enabled_by"],
        json!(["/etc/systemd/system/timers.target.wants/restic-phi.timer"])
    );
    assert_eq!(
        timer["service_path"],
        "/etc/systemd/system/restic-phi.service"
    );
    let inv = invocations(&f);
    assert_eq!(inv.len(), 1, "ExecStartPost is not ExecStart: {inv:?}");
    let b = &inv[0];
    assert_eq!(b["line"], 9);
    assert_eq!(b["files_from"][0]["entries"], json!(["/var/data/phi"]));
    assert_eq!(b["backup_paths"], json!(["/var/data/phi"]));
    assert_eq!(b["repository"]["path"], "/etc/restic/phi.env");
    assert_eq!(b["repository"]["line"], 2);
    assert_eq!(b["password_file"]["line"], 3);
    assert_eq!(b["job"]["enabled"], true);
    assert_eq!(b["job"]["schedule"], "OnCalendar=*-*-* 02:15:00");
}

#[test]
fn rocky_root_crontab_with_prefix_variable_and_password_command() {
    let f = collect("backup-rocky-user-crontab");
    assert_eq!(f["family"], "rhel");
    let inv = invocations(&f);
    assert_eq!(inv.len(), 1);
    let b = &inv[0];
    assert_eq!(b["job"]["path"], "/var/spool/cron/root");
    assert_eq!(b["job"]["user"], "root");
    assert_eq!(b["repository"]["value"], "rclone:offsite:phi-backup");
    assert_eq!(
        b["password_command"]["value"],
        "/usr/local/sbin/restic-pass"
    );
    assert_eq!(b["password_file"], Value::Null);
    assert_eq!(b["backup_paths"], json!(["/var/data/phi"]));
    let records = f["restore_tests"]["records"].as_array().expect("records");
    assert_eq!(
        records[0]["path"],
        "/var/log/hipaa-restore-tests/2026/restore-2026-09-15.md"
    );
}

#[test]
fn inline_password_is_located_and_not_copied() {
    let f = collect("backup-inline-password");
    assert_eq!(
        f["inline_passwords"],
        json!([{"path": "/etc/crontab", "line": 24, "kind": "crontab"}])
    );
    assert_eq!(invocations(&f)[0]["inline_password"]["line"], 24);
    assert!(!f.to_string().contains("correct-horse"));
}

#[test]
fn disabled_timer_is_reported_and_its_job_not_enabled() {
    let f = collect("backup-missing-phi-path-arg");
    assert_eq!(f["restic"]["binary"], "/usr/local/bin/restic");
    let inv = invocations(&f);
    let cron = inv
        .iter()
        .find(|i| i["job"]["kind"] == "crontab")
        .expect("cron job");
    assert_eq!(cron["backup_paths"], json!(["/etc", "/home"]));
    let timer = inv
        .iter()
        .find(|i| i["job"]["kind"] == "systemd-timer")
        .expect("timer job");
    assert_eq!(timer["job"]["enabled"], false);
    assert_eq!(timer["backup_paths"], json!(["/var/data/phi"]));
    assert_eq!(f["timers"][0]["enabled"], false);
}

#[test]
fn local_repository_and_missing_restic() {
    let f = collect("backup-local-repo");
    assert_eq!(
        invocations(&f)[0]["repository"]["value"],
        "/srv/restic-repo"
    );
    assert_eq!(
        invocations(&f)[0]["password_file_stat"]["path"],
        "/root/.restic-password"
    );
    let f = collect("backup-restic-missing");
    assert_eq!(f["restic"]["installed"], false);
    assert_eq!(invocations(&f).len(), 1);
}

#[test]
fn debian_run_parts_skips_dotted_names_and_masked_timers() {
    use std::os::unix::fs::PermissionsExt;
    let (root, target) = tree(&[
        ("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
        (
            "/etc/cron.daily/backup.sh",
            "#!/bin/sh\nrestic -r s3:x/y backup /var/data/phi\n",
        ),
        (
            "/usr/lib/systemd/system/b.timer",
            "[Timer]\nOnCalendar=daily\n",
        ),
    ]);
    root.symlink("/etc/systemd/system/b.timer", "/dev/null");
    let script = root.path().join("etc/cron.daily/backup.sh");
    let f = ContingencyBackup::collect(&target, &Params::default()).expect("collect");
    assert!(
        f["jobs"][0]["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.ends_with("it is not executable"))
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let f = ContingencyBackup::collect(&target, &Params::default()).expect("collect");
    let job = &f["jobs"][0];
    assert_eq!(job["run_parts_name_ok"], false);
    assert_eq!(job["enabled"], false);
    assert!(
        job["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("Debian skips names"))
    );
    assert_eq!(f["timers"][0]["masked"], true);
}

#[test]
fn scripts_outside_followed_dirs_and_missing_scripts() {
    let (_root, target) = tree(&[
        ("/etc/os-release", "ID=rocky\nID_LIKE=\"rhel\"\n"),
        (
            "/etc/cron.d/b",
            "0 1 * * * root /srv/tools/backup.sh\n0 2 * * * root /usr/local/bin/gone.sh\n0 3 * * * root sh -c 'RESTIC_PASSWORD=x restic backup /a'\n",
        ),
    ]);
    let f = ContingencyBackup::collect(&target, &Params::default()).expect("collect");
    assert_eq!(f["not_followed"][0]["script"], "/srv/tools/backup.sh");
    assert!(
        f["issues"]
            .to_string()
            .contains("gone.sh, which does not exist")
    );
    assert_eq!(
        f["inline_passwords"],
        json!([{"path": "/etc/cron.d/b", "line": 3, "kind": "crontab"}])
    );
}

#[test]
fn cron_refuses_dotted_cron_d_names_on_debian_and_writable_tables() {
    use std::os::unix::fs::PermissionsExt;
    let (root, target) = tree(&[
        ("/etc/os-release", "ID=debian\n"),
        (
            "/etc/cron.d/restic.cron",
            "0 1 * * * root restic backup /a\n",
        ),
        ("/etc/cron.d/restic", "0 1 * * * root restic backup /b\n"),
    ]);
    let f = ContingencyBackup::collect(&target, &Params::default()).expect("collect");
    let jobs = f["jobs"].as_array().expect("jobs");
    assert_eq!(jobs[0]["path"], "/etc/cron.d/restic");
    assert_eq!(jobs[0]["enabled"], true);
    assert!(
        jobs[1]["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("cron ignores /etc/cron.d/restic.cron"))
    );
    std::fs::set_permissions(
        root.path().join("etc/cron.d/restic"),
        std::fs::Permissions::from_mode(0o666),
    )
    .expect("chmod");
    let f = ContingencyBackup::collect(&target, &Params::default()).expect("collect");
    assert!(
        f["jobs"][0]["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("writable by group or others (mode 0666)"))
    );
}

/// A crontab built to exhaust memory (every job carries the variables above it): 3,000
/// variables over 3,000 jobs took 4 GB. The table is read up to `MAX_ASSIGNMENTS` assignments and
/// reported unreadable, so `backup.schedule` is `error`, never judged on half a table.
#[test]
fn a_crontab_of_thousands_of_variables_is_cut_off_and_reported() {
    let mut table = String::new();
    for i in 0..3_000 {
        table.push_str(&format!(
            "VAR{i}=value-{i}\n*/5 * * * * root /usr/bin/true {i}\n"
        ));
    }
    let started = std::time::Instant::now();
    let (_dir, target) = tree(&[("/etc/crontab", table.as_str())]);
    let f = ContingencyBackup::collect(&target, &Params::default()).expect("collect");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let unreadable = f["unreadable"].as_array().expect("unreadable");
    assert!(
        unreadable.iter().any(|u| u["path"] == "/etc/crontab"
            && u["error"]
                .as_str()
                .unwrap()
                .contains("more than 512 variable assignments")),
        "{unreadable:?}"
    );
}

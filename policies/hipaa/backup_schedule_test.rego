# Tests for backup.schedule: one case per status branch and per sub-check.
package phipolicy.hipaa.backup_schedule_test

import data.phipolicy.testing

cron_job := {
	"kind": "crontab",
	"path": "/etc/cron.d/restic-phi",
	"line": 7,
	"schedule": "15 2 * * *",
	"user": "root",
	"enabled": true,
	"disabled_reason": null,
}

password_stat(mode, uid) := {
	"path": "/etc/restic/password", "exists": true, "kind": "regular", "mode": mode,
	"mode_octal": sprintf("0%s", [format_int(mode, 8)]), "uid": uid, "gid": 0, "size": 29, "mtime": 0, "error": null,
}

env_setting(name, value, line) := {
	"value": value,
	"source": "environment",
	"name": name,
	"path": "/etc/cron.d/restic-phi",
	"line": line,
}

# The hardened cron job of the backup-cron-hardened fixture.
good := {
	"subcommand": "backup",
	"repository": env_setting("RESTIC_REPOSITORY", "sftp:backup@backup.example.org:/srv/restic/phi", 4),
	"repository_file": null, "repository_file_value": null,
	"password_file": env_setting("RESTIC_PASSWORD_FILE", "/etc/restic/password", 5),
	"password_command": null, "inline_password": null,
	"paths": ["/var/data/phi"], "files_from": [], "backup_paths": ["/var/data/phi"], "stdin": false,
	"path": "/usr/local/sbin/restic-phi-backup", "line": 4,
	"job": cron_job, "via": ["/etc/cron.d/restic-phi:7"],
	"password_file_stat": password_stat(384, 0),
}

facts(invocations, extra) := object.union(
	{
		"family": "debian", "restic": {"installed": true, "binary": "/usr/bin/restic"},
		"cron": {"installed": true, "binary": "/usr/sbin/cron", "searched": ["/usr/sbin/cron", "/usr/sbin/crond"]},
		"jobs": [], "invocations": invocations, "timers": [], "inline_passwords": [],
		"not_followed": [], "files_read": [], "unreadable": [], "issues": [],
	},
	extra,
)

run(f) := r if {
	r := data.phipolicy.hipaa.backup_schedule.result with input as {
	"facts": f,
	"params": {"phi_paths": ["/var/data/phi"]},
	"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
	"now_unix": 1795867200,
}
}

run_paths(f, paths) := r if {
	r := data.phipolicy.hipaa.backup_schedule.result with input as {
	"facts": f,
	"params": {"phi_paths": paths},
	"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "rocky", "version_id": "9.3", "family": "rhel"}},
	"now_unix": 1795867200,
}
}

test_metadata if {
	m := data.phipolicy.hipaa.backup_schedule.metadata
	m.id == "backup.schedule"
	m.parameters == ["phi_paths"]
	contains(m.description, "off-host")
	contains(m.remediation, "EnvironmentFile")
}

test_hardened_cron_job_passes if {
	r := run(facts([good], {}))
	r.status == "pass"
	testing.any_reason(r, "/var/data/phi is backed up by `restic backup` at /usr/local/sbin/restic-phi-backup:4")
	testing.any_reason(r, "mode 0600")
	testing.any_evidence(r, "restic binary")
	testing.any_evidence(r, "password file: regular, mode 0600, uid 0")
}

test_mode_0400_and_password_command_pass if {
	run(facts([object.union(good, {"password_file_stat": password_stat(256, 0)})], {})).status == "pass"
	cmd := object.union(
		good,
		{
			"password_file": null,
			"password_file_stat": null,
			"password_command": env_setting("RESTIC_PASSWORD_COMMAND", "/usr/local/sbin/pass", 3),
		}
	)
	r := run(facts([cmd], {}))
	r.status == "pass"
	testing.any_reason(r, "password from the command")
}

test_parent_directory_and_root_cover_phi_paths if {
	run(facts([object.union(good, {"backup_paths": ["/var/data/"]})], {})).status == "pass"
	run(facts([object.union(good, {"backup_paths": ["/"]})], {})).status == "pass"
	run(facts([object.union(good, {"backup_paths": ["/var/data/phi-old"]})], {})).status == "fail"
	run(facts([object.union(good, {"backup_paths": ["/var/data/phi/sub"]})], {})).status == "fail"
}

test_every_phi_path_must_be_covered if {
	r := run_paths(facts([good], {}), ["/var/data/phi", "/srv/phi"])
	r.status == "fail"
	testing.any_reason(r, "/srv/phi is not backed up: no scheduled `restic backup` includes it")
	contains(r.remediation, "Add the missing PHI paths (/srv/phi)")
}

test_empty_phi_paths_fail if {
	r := run_paths(facts([good], {}), [])
	r.status == "fail"
	testing.any_reason(r, "phi_paths is empty")
}

test_restic_missing_fails if {
	r := run(facts([good], {"restic": {"installed": false, "binary": null}}))
	r.status == "fail"
	testing.any_reason(r, "restic is not installed")
	contains(r.remediation, "dnf install")
}

test_no_jobs_fail if {
	r := run(facts([], {}))
	r.status == "fail"
	testing.any_reason(r, "no scheduled `restic backup` was found")
	contains(r.remediation, "systemctl enable --now restic-phi.timer")
}

test_only_backup_subcommand_counts if {
	r := run(facts([object.union(good, {"subcommand": "forget"})], {}))
	r.status == "fail"
}

test_local_repository_fails if {
	local := object.union(good, {"repository": env_setting("RESTIC_REPOSITORY", "/srv/restic-repo", 4)})
	r := run(facts([local], {}))
	r.status == "fail"
	testing.any_reason(r, "is not off-host")
	contains(r.remediation, "Fix `restic backup`")
}

test_repository_file_is_followed if {
	via_file := object.union(good, {
		"repository": null,
		"repository_file": env_setting("RESTIC_REPOSITORY_FILE", "/etc/restic/repo", 4),
		"repository_file_value": "b2:bucket:/phi",
	})
	run(facts([via_file], {})).status == "pass"
	r := run(facts([object.union(via_file, {"repository_file_value": null})], {}))
	r.status == "fail"
	testing.any_reason(r, "names no repository")
}

test_every_offhost_scheme_passes if {
	every scheme in [
		"sftp:h:/r",
		"s3:s3.amazonaws.com/b",
		"rest:https://h/",
		"b2:b:/p",
		"azure:c:/",
		"gs:b:/",
		"rclone:r:p",
		"swift:c:/p",
	] {
		run(facts(
			[object.union(good, {"repository": env_setting("RESTIC_REPOSITORY", scheme, 4)})],
			{}
		)).status == "pass"
	}
}

test_password_file_checks if {
	r1 := run(facts([object.union(good, {"password_file_stat": password_stat(420, 0)})], {}))
	r1.status == "fail"
	testing.any_reason(r1, "has mode 0644; it must be 0400 or 0600")
	startswith(
		r1.remediation,
		"Make the password file root-only: `chown root:root /etc/restic/password && chmod 0600 /etc/restic/password`"
	)
	r2 := run(facts([object.union(good, {"password_file_stat": password_stat(384, 1000)})], {}))
	testing.any_reason(r2, "owned by uid 1000, not root")
	r3 := run(facts(
		[object.union(good, {"password_file_stat": {"path": "/etc/restic/password", "exists": false, "error": null}})],
		{}
	))
	testing.any_reason(r3, "does not exist")
	r4 := run(facts(
		[object.union(
			good,
			{"password_file_stat": {
				"path": "/srv/pw",
				"exists": false,
				"error": "not declared in the plugin manifest: /srv/pw",
			}}
		)],
		{}
	))
	testing.any_reason(r4, "could not be checked: not declared")
	r5 := run(facts(
		[object.union(good, {"password_file_stat": object.union(password_stat(384, 0), {"kind": "directory"})})],
		{}
	))
	testing.any_reason(r5, "is a directory, not a regular file")
}

test_no_password_source_fails if {
	r := run(facts([object.union(good, {"password_file": null, "password_file_stat": null})], {}))
	r.status == "fail"
	testing.any_reason(r, "names no password source")
}

test_inline_password_fails_even_with_a_good_job if {
	inline := {"path": "/etc/crontab", "line": 24, "kind": "crontab"}
	r := run(facts(
		[object.union(good, {"inline_password": {"path": "/etc/crontab", "line": 24}})],
		{"inline_passwords": [inline]}
	))
	r.status == "fail"
	testing.any_reason(r, "RESTIC_PASSWORD is written inline at /etc/crontab:24 (a crontab)")
	testing.any_reason(r, "inline (RESTIC_PASSWORD at /etc/crontab:24)")
	testing.any_evidence(r, "RESTIC_PASSWORD written inline")
	contains(r.remediation, "restic key passwd")
	r2 := run(facts([good], {"inline_passwords": [inline]}))
	r2.status == "fail"
}

test_inline_password_in_environment_file if {
	exposed := {
		"path": "/etc/restic/phi.env",
		"line": 2,
		"kind": "environment-file",
		"stat": object.union(password_stat(420, 0), {"path": "/etc/restic/phi.env"}),
	}
	r := run(facts([good], {"inline_passwords": [exposed]}))
	r.status == "fail"
	testing.any_reason(r, "owned by uid 0 with mode 0644")
	private := object.union(exposed, {"stat": password_stat(384, 0)})
	r2 := run(facts([good], {"inline_passwords": [private]}))
	testing.any_reason(r2, "move it to a --password-file")
}

test_disabled_timer_does_not_count if {
	timer_job := {
		"kind": "systemd-timer", "path": "/etc/systemd/system/restic-phi.timer", "line": 0,
		"schedule": "OnCalendar=daily", "user": null, "enabled": false,
		"disabled_reason": concat(" ", [
			"the timer /etc/systemd/system/restic-phi.timer is not enabled (no link to it in a",
			"/etc/systemd/system/*.wants directory), so systemd never starts it",
		]),
	}
	t := {
		"path": "/etc/systemd/system/restic-phi.timer",
		"name": "restic-phi.timer",
		"masked": false,
		"enabled": false,
		"enabled_by": [],
		"schedule": ["OnCalendar=daily"],
		"service": "restic-phi.service",
		"service_path": "/etc/systemd/system/restic-phi.service",
		"runs_restic": true,
	}
	r := run(facts([object.union(good, {"job": timer_job})], {"timers": [t]}))
	r.status == "fail"
	testing.any_reason(r, "is not enabled")
	testing.any_evidence(r, "timer not enabled")
	r2 := run(facts(
		[object.union(good, {"job": object.union(timer_job, {"enabled": true})})],
		{"timers": [object.union(
			t,
			{"enabled": true, "enabled_by": ["/etc/systemd/system/timers.target.wants/restic-phi.timer"]}
		)]}
	))
	r2.status == "pass"
	testing.any_evidence(r2, "timer enabled by")
}

test_masked_timer_evidence if {
	t := {"path": "/etc/systemd/system/b.timer", "name": "b.timer", "masked": true, "enabled": false}
	r := run(facts([good], {"timers": [t]}))
	testing.any_evidence(r, "masked")
}

test_cron_script_run_parts_rules if {
	job := {
		"kind": "cron-script", "path": "/etc/cron.daily/backup.sh", "line": 0, "schedule": "daily",
		"user": "root", "enabled": false,
		"disabled_reason": concat(" ", [
			"run-parts never runs /etc/cron.daily/backup.sh: Debian skips names with characters other than letters,",
			"digits, _ and - (such as a dot)",
		]),
		"executable": true, "run_parts_name_ok": false,
	}
	r := run(facts([object.union(good, {"job": job})], {}))
	r.status == "fail"
	testing.any_reason(r, "run-parts never runs /etc/cron.daily/backup.sh: Debian skips names")
	r3 := run(facts(
		[object.union(
			good,
			{"job": object.union(job, {"enabled": true, "disabled_reason": null, "path": "/etc/cron.daily/backup"})}
		)],
		{}
	))
	r3.status == "pass"
	testing.any_reason(r3, "cron script /etc/cron.daily/backup (daily)")
}

test_refused_crontab_and_missing_reason if {
	refused := object.union(
		cron_job,
		{
			"enabled": false,
			"disabled_reason": concat(" ", [
				"cron refuses to load /etc/cron.d/restic-phi:",
				"it is writable by group or others (mode 0666)",
			]),
		}
	)
	r := run(facts([object.union(good, {"job": refused})], {}))
	r.status == "fail"
	testing.any_reason(r, "cron refuses to load /etc/cron.d/restic-phi")
	bare := json.remove(refused, ["disabled_reason"])
	testing.any_reason(
		run(facts([object.union(good, {"job": bare})], {})),
		"the scheduler does not run /etc/cron.d/restic-phi"
	)
}

test_compliant_jobs_missing_a_path_are_listed if {
	other := object.union(good, {"backup_paths": ["/etc", "/home"]})
	r := run(facts([other], {}))
	r.status == "fail"
	testing.any_reason(
		r,
		"the scheduled backups that do count cover only: `restic backup` at /usr/local/sbin/restic-phi-backup:4"
	)
}

test_stdin_backup_does_not_count if {
	r := run(facts([object.union(good, {"stdin": true})], {}))
	r.status == "fail"
	testing.any_reason(r, "--stdin")
}

test_not_followed_scripts_are_named_on_failure if {
	n := {
		"path": "/etc/cron.d/b",
		"line": 1,
		"script": "/srv/tools/backup.sh",
		"reason": "outside the directories this plugin reads scripts from",
	}
	r := run(facts([], {"not_followed": [n]}))
	r.status == "fail"
	testing.any_reason(r, "/etc/cron.d/b:1 runs /srv/tools/backup.sh, which phipolicy does not read")
}

test_unreadable_schedule_is_error if {
	r := run(facts([good], {"unreadable": [{"path": "/var/spool/cron/crontabs", "error": "permission denied"}]}))
	r.status == "error"
	testing.any_reason(r, "/var/spool/cron/crontabs could not be read (permission denied)")
	contains(r.remediation, "readable to the scan")
	r2 := run(facts([good], {"restic": {"installed": null}}))
	r2.status == "fail"
	testing.any_reason(r2, "restic is not installed")
}

test_issues_are_evidence if {
	r := run(facts(
		[good],
		{"issues": [{"path": "/etc/cron.d/x", "line": 3, "message": "job line has too few fields"}]}
	))
	r.status == "pass"
	testing.any_evidence(r, "too few fields")
}

test_a_crontab_job_without_a_cron_daemon_never_runs if {
	r := run(facts(
		[good],
		{"cron": {"installed": false, "binary": null, "searched": ["/usr/sbin/cron", "/usr/sbin/crond"]}}
	))
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "no cron daemon is installed")
}

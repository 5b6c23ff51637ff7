# backup.schedule: a scheduled restic job backs up every PHI path to an off-host repository with a
# password kept in a root-only file.
package phipolicy.hipaa.backup_schedule

import data.phipolicy.lib

metadata := {
	"id": "backup.schedule",
	"safeguard": "contingency-backup",
	"cfr": ["164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"],
	"title": "PHI is backed up on a schedule by restic to an off-host repository",
	"severity": "high",
	"description": concat(" ", [
		"Checks that restic is installed (/usr/bin, /usr/local/bin, /bin, /usr/sbin, /usr/local/sbin, /opt/restic),",
		"that a cron daemon (cron, cronie's crond) is installed when the job is a crontab entry or cron script,",
		"and that a scheduled job runs `restic ... backup` over every phi_paths entry (a path argument, or a",
		"line of a --files-from file, equal to or above it).",
		"Schedules read: /etc/crontab, /etc/cron.d/*, the user crontabs of the family",
		"(/var/spool/cron/crontabs/USER on Debian/Ubuntu, /var/spool/cron/USER on Rocky/RHEL),",
		"executable /etc/cron.daily and /etc/cron.weekly scripts (names run-parts accepts), and enabled systemd",
		".timer units with their service's ExecStart=, Environment= and EnvironmentFile=.",
		"Scripts the job calls under /usr/local, /opt, /root or /etc/restic are read and their restic lines",
		"count; crontab variables and `VAR=value cmd` prefixes apply.",
		"The job counts only when its repository (-r/--repo, --repository-file, RESTIC_REPOSITORY) is off-host",
		"(sftp:, s3:, rest:, b2:, azure:, gs:, rclone:, swift:)",
		"and its password comes from --password-command or from a --password-file/RESTIC_PASSWORD_FILE that is a",
		"root-owned regular file with mode 0400 or 0600.",
		"A password written inline (RESTIC_PASSWORD=... in a crontab, unit or script) fails the control: those",
		"files are readable by other users.",
		"A disabled or masked timer is reported and does not count.",
	]),
	"parameters": ["phi_paths"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {
		"cron": ["object"],
		"inline_passwords": ["array"],
		"invocations": ["array"],
		"issues": ["array"],
		"not_followed": ["array"],
		"restic": ["object"],
		"timers": ["array"],
		"unreadable": ["array"],
	},
	"remediation": concat("\n", [
		"Install restic (`apt install restic` on Debian/Ubuntu, `dnf install restic` from EPEL on Rocky/RHEL), then:",
		concat(" ", [
			"  install -d -m 0700 /etc/restic && install -m 0600 /dev/null /etc/restic/password   # put the",
			"repository password in it",
		]),
		concat("", [
			"  printf 'RESTIC_REPOSITORY=sftp:backup@backup.example.org:/srv/restic/%s\\n",
			"RESTIC_PASSWORD_FILE=/etc/restic/password\\n' \"$(hostname)\" > /etc/restic/phi.env;",
			" chmod 0600 /etc/restic/phi.env",
		]),
		"  restic init   (with the two variables exported) once, then schedule it with a systemd timer:",
		concat(" ", [
			"  /etc/systemd/system/restic-phi.service: [Service] Type=oneshot, EnvironmentFile=/etc/restic/phi.env,",
			"ExecStart=/usr/bin/restic backup /var/data/phi",
		]),
		concat(" ", [
			"  /etc/systemd/system/restic-phi.timer:   [Timer] OnCalendar=daily, Persistent=true; [Install]",
			"WantedBy=timers.target",
		]),
		"  systemctl daemon-reload && systemctl enable --now restic-phi.timer",
		"Never write RESTIC_PASSWORD= into a crontab, unit or script.",
	]),
}

facts := input.facts

phi_paths := input.params.phi_paths

offhost_schemes := ["sftp:", "s3:", "rest:", "b2:", "azure:", "gs:", "rclone:", "swift:"]

# Password files must be root-only: 0400 or 0600 (decimal 256, 384).
password_modes := {256, 384}

at(x) := sprintf("%s:%v", [x.path, x.line])

# The job an invocation belongs to, for messages.
job_text(inv) := sprintf("systemd timer %s", [inv.job.path]) if {
	inv.job.kind == "systemd-timer"
} else := sprintf("cron script %s (%s)", [inv.job.path, inv.job.schedule]) if {
	inv.job.kind == "cron-script"
} else := sprintf("crontab job %s:%v (%s, user %v)", [inv.job.path, inv.job.line, inv.job.schedule, inv.job.user])

inv_text(inv) := sprintf("`restic %s` at %s run by the %s", [inv.subcommand, at(inv), job_text(inv)])

backups := [inv | some inv in facts.invocations; inv.subcommand == "backup"]

installed if facts.restic.installed == true

# --- per-invocation problems: {"invocation": index in `backups`, "message": text}

repository(inv) := inv.repository.value if {
	is_object(inv.repository)
} else := inv.repository_file_value if {
	is_string(inv.repository_file_value)
}

repository_origin(inv) := sprintf("%s at %s", [inv.repository.name, at(inv.repository)]) if {
	is_object(inv.repository)
} else := sprintf("read from %s (%s)", [inv.repository_file.value, at(inv.repository_file)])

offhost(repo) if {
	some scheme in offhost_schemes
	startswith(repo, scheme)
}

problem contains {"invocation": i, "message": msg} if {
	some i, inv in backups
	inv.job.enabled == false
	msg := disabled_reason(inv.job)
}

disabled_reason(job) := job.disabled_reason if {
	is_string(job.disabled_reason)
} else := sprintf("the scheduler does not run %s", [job.path])

problem contains {"invocation": i, "message": msg} if {
	some i, inv in backups
	inv.job.kind != "systemd-timer"
	facts.cron.installed == false
	msg := sprintf(concat(" ", [
		"no cron daemon is installed (none of %s), so nothing runs this %s; install cron (Debian/Ubuntu) or cronie",
		"(Rocky/RHEL), or use a systemd timer",
	]), [concat(", ", facts.cron.searched), job_kind_text(inv.job)])
}

job_kind_text(job) := "cron script" if job.kind == "cron-script"

else := "crontab job"

problem contains {"invocation": i, "message": msg} if {
	some i, inv in backups
	not repository(inv)
	msg := "it names no repository (-r/--repo, --repository-file or RESTIC_REPOSITORY), so restic refuses to run"
}

problem contains {"invocation": i, "message": msg} if {
	some i, inv in backups
	repo := repository(inv)
	not offhost(repo)
	msg := sprintf(concat(" ", [
		"its repository %q (%s) is not off-host: a local path or unknown backend is lost with the host; use sftp:,",
		"s3:, rest:, b2:, azure:, gs:, rclone: or swift:",
	]), [repo, repository_origin(inv)])
}

problem contains {"invocation": i, "message": msg} if {
	some i, inv in backups
	not is_object(inv.password_file)
	not is_object(inv.password_command)
	msg := "it names no password source (--password-file, RESTIC_PASSWORD_FILE or --password-command)"
}

problem contains {"invocation": i, "message": msg} if {
	some i, inv in backups
	is_object(inv.inline_password)
	msg := sprintf("its password is written inline (RESTIC_PASSWORD at %s)", [at(inv.inline_password)])
}

password_file_problem(pf, st) := sprintf(
	"the password file %s (%s at %s) could not be checked: %s",
	[pf.value, pf.name, at(pf), st.error]
) if {
	is_string(st.error)
} else := sprintf("the password file %s (%s at %s) does not exist", [pf.value, pf.name, at(pf)]) if {
	st.exists == false
} else := sprintf("the password file %s is a %s, not a regular file", [pf.value, st.kind]) if {
	st.kind != "regular"
} else := sprintf("the password file %s is owned by uid %v, not root", [pf.value, st.uid]) if {
	st.uid != 0
} else := sprintf(
	"the password file %s has mode %s; it must be 0400 or 0600 (root-only)",
	[pf.value, st.mode_octal]
) if {
	not password_modes[st.mode]
}

problem contains {"invocation": i, "message": msg} if {
	some i, inv in backups
	is_object(inv.password_file)
	not is_object(inv.password_command)
	msg := password_file_problem(inv.password_file, inv.password_file_stat)
}

problem contains {
	"invocation": i,
	"message": "it reads the data to back up from stdin (--stdin), not from the PHI paths",
} if {
	some i, inv in backups
	inv.stdin == true
}

has_problem contains p.invocation if some p in problem

compliant contains i if {
	some i, _ in backups
	not has_problem[i]
}

problems_of(i) := sort([p.message | some p in problem; p.invocation == i])

# --- coverage of phi_paths

normalise(p) := "/" if {
	trim_right(p, "/") == ""
} else := trim_right(p, "/")

covers(inv, phi) if {
	some q in inv.backup_paths
	q2 := normalise(q)
	p2 := normalise(phi)
	q2 == p2
}

covers(inv, phi) if {
	some q in inv.backup_paths
	q2 := normalise(q)
	q2 != "/"
	startswith(normalise(phi), concat("", [q2, "/"]))
}

covers(inv, _) if {
	some q in inv.backup_paths
	normalise(q) == "/"
}

covered contains phi if {
	some phi in phi_paths
	some i in compliant
	covers(backups[i], phi)
}

uncovered := {phi | some phi in phi_paths; not covered[phi]}

# --- reasons

definite_failures contains concat(" ", [
	"restic is not installed (no restic binary in /usr/bin, /usr/local/bin, /bin, /usr/sbin, /usr/local/sbin or",
	"/opt/restic)",
]) if {
	not installed
}

definite_failures contains msg if {
	some p in facts.inline_passwords
	msg := sprintf("RESTIC_PASSWORD is written inline at %s (a %s): %s", [at(p), p.kind, inline_why(p)])
}

inline_why(p) := sprintf("the file is %s, so the repository password is exposed", [exposure(p.stat)]) if {
	p.kind == "environment-file"
	is_object(p.stat)
	p.stat.exists == true
	not root_only(p.stat)
} else := concat(" ", [
	"an environment file can hold it only when it is root-owned with mode 0400 or 0600;",
	"move it to a --password-file",
]) if {
	p.kind == "environment-file"
} else := concat(" ", [
	"crontabs, units and scripts are readable by other users; use --password-file or RESTIC_PASSWORD_FILE with a",
	"root-only file",
])

root_only(st) if {
	st.uid == 0
	password_modes[st.mode]
}

exposure(st) := sprintf("owned by uid %v with mode %s", [st.uid, st.mode_octal])

coverage_failures contains "phi_paths is empty, so there is nothing to check the backup against" if {
	count(phi_paths) == 0
}

coverage_failures contains msg if {
	some phi in uncovered
	count(backups) == 0
	msg := sprintf(concat(" ", [
		"%s is not backed up: no scheduled `restic backup` was found in /etc/crontab, /etc/cron.d, the user",
		"crontabs, /etc/cron.daily, /etc/cron.weekly or systemd timers",
	]), [phi])
}

coverage_failures contains msg if {
	some phi in uncovered
	count(backups) > 0
	not some_covers(phi)
	listed := concat("; ", [sprintf("%s backs up %v", [at(inv), inv.backup_paths]) | some inv in backups])
	msg := sprintf("%s is not backed up: no scheduled `restic backup` includes it (%s)", [phi, listed])
}

some_covers(phi) if {
	some inv in backups
	covers(inv, phi)
}

coverage_failures contains msg if {
	some phi in uncovered
	some i, inv in backups
	covers(inv, phi)
	msg := sprintf(
		"%s is backed up by %s, but that does not count: %s",
		[phi, inv_text(inv), concat("; ", problems_of(i))]
	)
}

notes contains msg if {
	count(uncovered) > 0
	count(compliant) > 0
	listed := concat(
		"; ",
		[sprintf("%s: %v", [inv_text(backups[i]), backups[i].backup_paths]) | some i in sort(compliant)]
	)
	msg := sprintf("the scheduled backups that do count cover only: %s", [listed])
}

notes contains msg if {
	count(uncovered) > 0
	some n in facts.not_followed
	msg := sprintf(
		"%s runs %s, which phipolicy does not read (%s); put backup scripts under /usr/local/sbin or /usr/local/bin",
		[at(n), n.script, n.reason]
	)
}

read_errors contains msg if {
	some u in facts.unreadable
	msg := sprintf("%s could not be read (%s), so the jobs it schedules are unknown", [u.path, u.error])
}

# --- status

default status := "fail"
status := "fail" if {
	count(definite_failures) > 0
} else := "error" if {
	count(read_errors) > 0
} else := "pass" if {
	count(phi_paths) > 0
	count(uncovered) == 0
}

pass_reasons := [msg |
	some phi in sort(phi_paths)
	some i in sort(compliant)
	inv := backups[i]
	covers(inv, phi)
	msg := sprintf(
		"%s is backed up by %s to %s (%s), password from %s",
		[phi, inv_text(inv), repository(inv), repository_origin(inv), password_text(inv)]
	)
]

password_text(inv) := sprintf("the command %q (%s)", [inv.password_command.value, at(inv.password_command)]) if {
	is_object(inv.password_command)
} else := sprintf(
	"%s (%s at %s, mode %s, root-owned)",
	[inv.password_file.value, inv.password_file.name, at(inv.password_file), inv.password_file_stat.mode_octal]
)

reasons := sort(read_errors) if {
	status == "error"
} else := array.concat(sort(definite_failures | coverage_failures), sort(notes)) if {
	status == "fail"
} else := pass_reasons

# --- evidence

evidence_items contains {"path": facts.restic.binary, "line": 0, "detail": "restic binary"} if {
	is_string(facts.restic.binary)
}

evidence_items contains {"path": inv.path, "line": inv.line, "detail": detail} if {
	some i, inv in backups
	detail := sprintf(
		"%s: backs up %v; repository %v; %s%s",
		[
			inv_text(inv),
			inv.backup_paths,
			object.get(inv, ["repository", "value"], "(none)"),
			password_detail(inv),
			problem_suffix(i),
		]
	)
}

password_detail(inv) := sprintf("password command %q", [inv.password_command.value]) if {
	is_object(inv.password_command)
} else := sprintf("password file %s", [inv.password_file.value]) if {
	is_object(inv.password_file)
} else := "no password source"

problem_suffix(i) := "" if {
	compliant[i]
} else := sprintf(" (does not count: %s)", [concat("; ", problems_of(i))])

evidence_items contains {
	"path": st.path,
	"line": 0,
	"detail": sprintf("password file: %s, mode %s, uid %v, gid %v", [st.kind, st.mode_octal, st.uid, st.gid]),
} if {
	some inv in backups
	st := inv.password_file_stat
	st.exists == true
}

evidence_items contains {
	"path": p.path,
	"line": p.line,
	"detail": sprintf("RESTIC_PASSWORD written inline (%s)", [p.kind]),
} if {
	some p in facts.inline_passwords
}

evidence_items contains {"path": t.path, "line": 0, "detail": timer_detail(t)} if {
	some t in facts.timers
	t.masked == true
}

evidence_items contains {"path": t.path, "line": 0, "detail": timer_detail(t)} if {
	some t in facts.timers
	t.runs_restic == true
}

timer_detail(t) := "timer masked (linked to /dev/null): never runs" if {
	t.masked == true
} else := sprintf("timer enabled by %v, runs %s (%v)", [t.enabled_by, t.service, t.schedule]) if {
	t.enabled == true
} else := sprintf("timer not enabled (no *.wants link), would run %s", [t.service])

evidence_items contains {"path": i.path, "line": i.line, "detail": i.message} if {
	some i in facts.issues
}

evidence_items contains lib.unreadable_evidence(u) if {
	some u in facts.unreadable
}

evidence := sort(evidence_items)

# --- remediation

steps contains {"order": 1, "text": concat(" ", [
	"Install restic: `apt install restic` (Debian/Ubuntu) or `dnf install epel-release && dnf install restic`",
	"(Rocky/RHEL).",
])} if {
	not installed
}

steps contains {"order": 2, "text": msg} if {
	some p in facts.inline_passwords
	msg := sprintf(concat(" ", [
		"Remove RESTIC_PASSWORD from %s:%v, change the repository password (`restic key passwd`; the old one has",
		"been readable), and store the new one in a root-only file: `install -m 0600 /dev/null",
		"/etc/restic/password`, then use RESTIC_PASSWORD_FILE=/etc/restic/password.",
	]), [p.path, p.line])
}

steps contains {"order": 3, "text": msg} if {
	count(uncovered) > 0
	count(compliant) > 0
	msg := sprintf(
		"Add the missing PHI paths (%s) to the restic backup command line or its --files-from file.",
		[concat(", ", sort(uncovered))]
	)
}

steps contains {"order": 4, "text": msg} if {
	count(uncovered) > 0
	some inv in backups
	st := inv.password_file_stat
	st.exists == true
	not root_only(st)
	msg := sprintf(concat(" ", [
		"Make the password file root-only: `chown root:root %s && chmod 0600 %s`, and change the repository password",
		"(`restic key passwd`) since others could read it.",
	]), [st.path, st.path])
}

steps contains {"order": 5, "text": msg} if {
	count(uncovered) > 0
	some i, inv in backups
	has_problem[i]
	msg := sprintf("Fix %s: %s.", [inv_text(inv), concat("; ", problems_of(i))])
}

steps contains {"order": 6, "text": concat("\n", array.slice(split(metadata.remediation, "\n"), 1, 8))} if {
	count(uncovered) > 0
	count(backups) == 0
}

steps contains {"order": 0, "text": "Make the files listed in the reasons readable to the scan, then rerun."} if {
	status == "error"
}

remediation := lib.remediation(steps, metadata.remediation)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

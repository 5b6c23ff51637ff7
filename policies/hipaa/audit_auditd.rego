# audit.auditd: auditd is installed, enabled at boot, and configured not to drop records silently.
package phipolicy.hipaa.audit_auditd

import data.phipolicy.lib

metadata := {
	"id": "audit.auditd",
	"safeguard": "audit-controls",
	"cfr": ["164.312(b)"],
	"title": "auditd is installed, enabled at boot and does not drop records",
	"severity": "high",
	"description": concat(" ", [
		"HIPAA 164.312(b) requires mechanisms that record activity on systems holding PHI; on Linux that is the",
		"kernel audit subsystem and auditd.",
		"Checks that auditd is installed (/sbin/auditd or /usr/sbin/auditd), enabled at boot (a",
		"*.wants/auditd.service link under /etc/systemd/system that resolves inside the target, and the unit not",
		"masked),",
		"and that /etc/audit/auditd.conf does not drop records silently: disk_full_action, disk_error_action,",
		"space_left_action and max_log_file_action must not be ignore (case-insensitive).",
		"A setting that is absent takes auditd's default (space_left_action defaults to IGNORE and fails).",
		"When the disk fills, auditd acts on these settings; with ignore it stops writing records and says nothing.",
	]),
	"parameters": [],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"auditd": ["object"]},
	"remediation": concat("\n", [
		concat(" ", [
			"Install and enable auditd: `apt-get install auditd` (Debian/Ubuntu) or `dnf install audit`",
			"(Rocky/RHEL), then `systemctl enable --now auditd`.",
		]),
		"In /etc/audit/auditd.conf set:",
		"  space_left_action = SYSLOG (or EMAIL)",
		"  disk_full_action = SUSPEND (or HALT)",
		"  disk_error_action = SUSPEND (or HALT)",
		"  max_log_file_action = ROTATE (or KEEP_LOGS with log rotation and monitoring)",
		"then `service auditd restart` (auditd refuses `systemctl restart`).",
	]),
}

auditd := input.facts.auditd

config := auditd.config

# auditd's built-in defaults for the settings checked (auditd.conf(5), audit 3.x).
defaults := {
	"disk_full_action": "SUSPEND",
	"disk_error_action": "SUSPEND",
	"space_left_action": "IGNORE",
	"max_log_file_action": "ROTATE",
}

checked := ["disk_full_action", "disk_error_action", "space_left_action", "max_log_file_action"]

# The value in force and where it came from.
value(key) := object.get(config.settings, [key, "value"], defaults[key])

origin(key) := sprintf("%s:%d", [s.path, s.line]) if {
	s := config.settings[key]
} else := sprintf("auditd's default; %s does not set it", [config.path])

good_links contains l if {
	some l in auditd.enabled_links
	l.resolves == true
}

# --- errors

read_errors contains msg if {
	some u in auditd.unreadable
	msg := sprintf("%s could not be read (%s), so auditd's settings are unknown", [u.path, u.error])
}

read_errors contains "the plugin did not report whether auditd is installed, so nothing can be decided" if {
	not is_boolean(auditd.installed)
}

# --- failures

not_installed := concat(" ", [
	"auditd is not installed (neither /sbin/auditd nor /usr/sbin/auditd exists): nothing records security-relevant",
	"events, and HIPAA 164.312(b) requires audit controls on systems holding PHI",
])

failures contains not_installed if auditd.installed == false

failures contains msg if {
	auditd.installed == true
	m := auditd.masked
	is_object(m)
	msg := sprintf("auditd.service is masked (%s -> %s): it never starts", [m.path, m.target])
}

failures contains msg if {
	auditd.installed == true
	count(good_links) == 0
	broken := [sprintf(
		"%s -> %v (does not resolve inside the target)",
		[l.path, l.target]
	) | some l in auditd.enabled_links]
	msg := sprintf(
		"auditd is not enabled at boot: no *.wants/auditd.service link under /etc/systemd/system resolves%s",
		[suffix(broken)]
	)
}

suffix(items) := "" if count(items) == 0

suffix(items) := sprintf(" (%s)", [concat("; ", items)]) if count(items) > 0

failures contains msg if {
	auditd.installed == true
	config.found == false
	count(auditd.unreadable) == 0
	msg := sprintf("%s does not exist: auditd will not start without it", [config.path])
}

failures contains msg if {
	auditd.installed == true
	config.found == true
	some key in checked
	lower(value(key)) == "ignore"
	msg := sprintf(
		"%s is %s (%s): auditd would silently drop audit records in that situation",
		[key, value(key), origin(key)]
	)
}

# --- status

default status := "fail"
status := "error" if {
	count(read_errors) > 0
} else := "pass" if {
	count(failures) == 0
	auditd.installed == true
	count(good_links) > 0
	config.found == true
}

pass_reason := sprintf(
	"auditd is installed (%s), enabled at boot (%s) and %s does not ignore full or failing disks (%s)",
	[
		auditd.binary,
		concat(", ", sort([l.path | some l in good_links])),
		config.path,
		concat(", ", [sprintf("%s = %s", [k, value(k)]) | some k in checked]),
	]
)

reasons := sort(read_errors) if {
	status == "error"
} else := sort(failures) if {
	status == "fail"
} else := [pass_reason]

# --- evidence

evidence_items contains {"path": auditd.binary, "line": 0, "detail": "auditd binary"} if is_string(auditd.binary)

evidence_items contains {
	"path": "/usr/sbin/auditd",
	"line": 0,
	"detail": "auditd is not installed (checked /sbin/auditd and /usr/sbin/auditd)",
} if {
	auditd.installed == false
}

evidence_items contains {
	"path": auditd.unit,
	"line": 0,
	"detail": "auditd.service unit file",
} if is_string(auditd.unit)

evidence_items contains {"path": l.path, "line": 0, "detail": sprintf("enable link -> %v (%s)", [l.target, r])} if {
	some l in auditd.enabled_links
	r := resolves_text(l.resolves)
}

resolves_text(true) := "resolves inside the target"

resolves_text(false) := "does not resolve inside the target"

evidence_items contains {
	"path": auditd.masked.path,
	"line": 0,
	"detail": "masked: linked to /dev/null",
} if is_object(auditd.masked)

evidence_items contains {
	"path": p,
	"line": line,
	"detail": sprintf("%s = %s (%s)", [key, value(key), origin(key)]),
} if {
	auditd.installed == true
	config.found == true
	some key in checked
	p := object.get(config.settings, [key, "path"], config.path)
	line := object.get(config.settings, [key, "line"], 0)
}

evidence_items contains {
	"path": s.path,
	"line": s.line,
	"detail": sprintf("admin_space_left_action = %s", [s.value]),
} if {
	s := config.settings.admin_space_left_action
}

evidence_items contains {"path": i.path, "line": i.line, "detail": i.message} if {
	some i in config.issues
}

evidence_items contains lib.unreadable_evidence(u) if {
	some u in auditd.unreadable
}

evidence := sort(evidence_items)

# --- remediation

steps contains {
	"order": 1,
	"text": "Install auditd: `apt-get install auditd` (Debian/Ubuntu) or `dnf install audit` (Rocky/RHEL).",
} if {
	auditd.installed == false
}

steps contains {"order": 2, "text": concat(" ", [
	"Enable it at boot: `systemctl unmask auditd; systemctl enable --now auditd` (creates",
	"/etc/systemd/system/multi-user.target.wants/auditd.service).",
])} if {
	count(good_links) == 0
}

steps contains {"order": 3, "text": msg} if {
	bad := [sprintf("  %s = %s", [key, fix[key]]) | some key in checked; lower(value(key)) == "ignore"]
	count(bad) > 0
	msg := concat("\n", array.concat([sprintf("In %s set (replacing ignore):", [config.path])], bad))
}

steps contains {"order": 4, "text": "Restart auditd to apply: `service auditd restart`."} if {
	some key in checked
	lower(value(key)) == "ignore"
}

steps contains {
	"order": 0,
	"text": "Make /etc/audit/auditd.conf readable to the scan, then rerun.",
} if status == "error"

fix := {
	"disk_full_action": "SUSPEND",
	"disk_error_action": "SUSPEND",
	"space_left_action": "SYSLOG",
	"max_log_file_action": "ROTATE",
}

remediation := lib.remediation(steps, metadata.remediation)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

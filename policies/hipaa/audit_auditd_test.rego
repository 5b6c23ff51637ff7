# Tests for audit.auditd: installed, enabled, masked, auditd.conf actions, defaults and read errors.
package phipolicy.hipaa.audit_auditd_test

import data.phipolicy.testing

conf := "/etc/audit/auditd.conf"

set_at(value, line) := {"value": value, "path": conf, "line": line}

# Debian 12's shipped auditd.conf values.
debian_settings := {
	"max_log_file_action": set_at("ROTATE", 17),
	"space_left_action": set_at("SYSLOG", 19),
	"admin_space_left_action": set_at("SUSPEND", 23),
	"disk_full_action": set_at("SUSPEND", 24),
	"disk_error_action": set_at("SUSPEND", 25),
}

link := {
	"path": "/etc/systemd/system/multi-user.target.wants/auditd.service",
	"target": "/lib/systemd/system/auditd.service",
	"resolves": true,
}

# Replaces whole top-level entries (object.union alone would merge nested settings).
auditd(extra) := object.union(
	object.remove({
		"installed": true, "binary": "/sbin/auditd", "unit": "/usr/lib/systemd/system/auditd.service",
		"enabled_links": [link], "masked": null,
		"config": {"path": conf, "found": true, "settings": debian_settings, "issues": []},
		"unreadable": [],
	}, [k | some k, _ in extra]),
	extra,
)

run(a) := r if {
	r := data.phipolicy.hipaa.audit_auditd.result with input as {
		"facts": {"os": null, "family": "debian", "auditd": a},
		"params": {},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
	}
}

test_metadata_names_the_control if {
	m := data.phipolicy.hipaa.audit_auditd.metadata
	m.id == "audit.auditd"
	m.cfr == ["164.312(b)"]
	contains(m.description, "space_left_action")
}

test_debian_defaults_pass if {
	r := run(auditd({}))
	r.status == "pass"
	testing.any_reason(r, "disk_full_action = SUSPEND")
	testing.any_evidence(r, "enable link -> /lib/systemd/system/auditd.service (resolves inside the target)")
	testing.any_evidence(r, "admin_space_left_action = SUSPEND")
}

test_not_installed_fails_citing_hipaa if {
	r := run(auditd({
		"installed": false,
		"binary": null,
		"unit": null,
		"enabled_links": [],
		"config": {"path": conf, "found": false, "settings": {}, "issues": []},
	}))
	r.status == "fail"
	testing.any_reason(r, "auditd is not installed")
	testing.any_reason(r, "164.312(b)")
	contains(r.remediation, "apt-get install auditd")
	testing.any_evidence(r, "auditd is not installed")
}

test_not_enabled_fails if {
	r := run(auditd({"enabled_links": []}))
	r.status == "fail"
	testing.any_reason(r, "not enabled at boot")
	contains(r.remediation, "systemctl enable --now auditd")
}

test_dangling_link_fails_and_is_named if {
	r := run(auditd({"enabled_links": [object.union(link, {"resolves": false})]}))
	r.status == "fail"
	testing.any_reason(r, "does not resolve inside the target")
	testing.any_evidence(r, "does not resolve inside the target")
}

test_masked_fails if {
	r := run(auditd({"masked": {"path": "/etc/systemd/system/auditd.service", "target": "/dev/null"}}))
	r.status == "fail"
	testing.any_reason(r, "masked")
	testing.any_evidence(r, "masked: linked to /dev/null")
}

test_ignore_case_insensitive_fails_per_setting if {
	s := object.union(
		debian_settings,
		{"disk_full_action": set_at("ignore", 24), "max_log_file_action": set_at("IGNORE", 17)}
	)
	r := run(auditd({"config": {"path": conf, "found": true, "settings": s, "issues": []}}))
	r.status == "fail"
	testing.any_reason(r, "disk_full_action is ignore (/etc/audit/auditd.conf:24)")
	testing.any_reason(r, "max_log_file_action is IGNORE (/etc/audit/auditd.conf:17)")
	count(r.reasons) == 2
	contains(r.remediation, "disk_full_action = SUSPEND")
	contains(r.remediation, "service auditd restart")
}

test_disk_error_ignore_fails if {
	s := object.union(debian_settings, {"disk_error_action": set_at("Ignore", 25)})
	r := run(auditd({"config": {"path": conf, "found": true, "settings": s, "issues": []}}))
	r.status == "fail"
	testing.any_reason(r, "disk_error_action is Ignore")
}

test_absent_space_left_action_takes_ignore_default if {
	s := object.remove(debian_settings, ["space_left_action"])
	r := run(auditd({"config": {"path": conf, "found": true, "settings": s, "issues": []}}))
	r.status == "fail"
	testing.any_reason(r, "space_left_action is IGNORE (auditd's default; /etc/audit/auditd.conf does not set it)")
	contains(r.remediation, "space_left_action = SYSLOG")
}

test_absent_disk_full_action_default_suspend_passes if {
	s := object.remove(debian_settings, ["disk_full_action"])
	r := run(auditd({"config": {"path": conf, "found": true, "settings": s, "issues": []}}))
	r.status == "pass"
	testing.any_evidence(r, "disk_full_action = SUSPEND (auditd's default")
}

test_missing_config_fails if {
	r := run(auditd({"config": {"path": conf, "found": false, "settings": {}, "issues": []}}))
	r.status == "fail"
	testing.any_reason(r, "does not exist")
}

test_unreadable_config_is_error if {
	r := run(auditd({
		"config": {"path": conf, "found": false, "settings": {}, "issues": []},
		"unreadable": [{"path": conf, "error": "permission denied"}],
	}))
	r.status == "error"
	testing.any_reason(r, "could not be read (permission denied)")
	contains(r.remediation, "readable")
}

test_missing_installed_fact_is_error if {
	r := run(object.remove(auditd({}), ["installed"]))
	r.status == "error"
}

test_parse_issues_are_evidence if {
	r := run(auditd({"config": {
		"path": conf,
		"found": true,
		"settings": debian_settings,
		"issues": [{"path": conf, "line": 3, "message": "no value"}],
	}}))
	r.status == "pass"
	testing.any_evidence(r, "no value")
}

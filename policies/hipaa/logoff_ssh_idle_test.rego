# Tests for logoff.ssh-idle: one case per status branch and per sub-check.
package phipolicy.hipaa.logoff_ssh_idle_test

import data.phipolicy.testing

config := "/etc/ssh/sshd_config"

dropin := "/etc/ssh/sshd_config.d/00-hipaa.conf"

default_setting(value) := {"value": value, "path": config, "line": 0, "default": true}

set_at(value, path, line) := {"value": value, "path": path, "line": line, "default": false}

# Debian 12's shipped sshd_config: nothing sets the ClientAlive keywords.
defaults := {
	"clientaliveinterval": default_setting("0"),
	"clientalivecountmax": default_setting("3"),
	"channeltimeout": default_setting("none"),
}

hardened := {
	"clientaliveinterval": set_at("300", dropin, 2),
	"clientalivecountmax": set_at("3", dropin, 3),
	"channeltimeout": default_setting("none"),
}

sshd(settings, extra) := object.union(
	{
		"installed": true, "binary": "/usr/sbin/sshd", "config_found": true,
		"files": [config, dropin], "unreadable": [], "issues": [],
		"settings": settings, "match_blocks": [],
	},
	extra,
)

run(facts_sshd) := r if {
	r := data.phipolicy.hipaa.logoff_ssh_idle.result with input as {
		"facts": {"os": null, "shell": {}, "sshd": facts_sshd},
		"params": {"ssh_client_alive_interval_max_s": 300, "ssh_client_alive_count_max": 3},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
	}
}

test_metadata_names_the_control if {
	m := data.phipolicy.hipaa.logoff_ssh_idle.metadata
	m.id == "logoff.ssh-idle"
	m.parameters == ["ssh_client_alive_interval_max_s", "ssh_client_alive_count_max"]
	contains(m.description, "only drop dead peers")
}

test_debian_defaults_fail_on_interval_zero if {
	r := run(sshd(defaults, {"files": [config]}))
	r.status == "fail"
	testing.any_reason(r, "ClientAliveInterval is 0 (OpenSSH default: no line sets it in /etc/ssh/sshd_config)")
	testing.any_reason(r, "only drop dead peers")
	contains(r.remediation, "ClientAliveInterval 300")
	contains(r.remediation, "ChannelTimeout session=15m")
	testing.any_evidence(r, "ChannelTimeout is not set")
}

test_hardened_passes_and_says_what_probes_do if {
	r := run(sshd(hardened, {}))
	r.status == "pass"
	count(r.reasons) == 1
	contains(r.reasons[0], "ClientAliveInterval 300 (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:2)")
	contains(r.reasons[0], "an idle client that is still connected answers them and stays logged in")
	contains(r.reasons[0], "\"ClientAliveInterval 300 = disconnect after 5 minutes idle\" is wrong")
	some e in r.evidence
	e.path == dropin
	e.line == 2
	e.detail == "ClientAliveInterval 300 (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:2)"
	testing.any_evidence(r, "ChannelTimeout session=")
}

test_interval_too_long_fails if {
	s := object.union(hardened, {"clientaliveinterval": set_at("900", dropin, 2)})
	r := run(sshd(s, {}))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"ClientAliveInterval is 900 seconds (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:2), more than",
		"ssh_client_alive_interval_max_s (300)",
	]))
}

test_count_zero_fails if {
	s := object.union(hardened, {"clientalivecountmax": set_at("0", dropin, 3)})
	r := run(sshd(s, {}))
	r.status == "fail"
	testing.any_reason(r, "ClientAliveCountMax is 0")
}

test_count_too_large_fails if {
	s := object.union(hardened, {"clientalivecountmax": set_at("10", dropin, 3)})
	r := run(sshd(s, {}))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"ClientAliveCountMax is 10 (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:3), more than",
		"ssh_client_alive_count_max (3)",
	]))
}

test_undeterminable_values_fail if {
	s := {"clientaliveinterval": set_at("5x", dropin, 2), "channeltimeout": default_setting("none")}
	r := run(sshd(s, {}))
	r.status == "fail"
	testing.any_reason(r, "ClientAliveInterval could not be determined (5x)")
	testing.any_reason(r, "ClientAliveCountMax could not be determined (not in the facts)")
}

test_weaker_match_block_fails if {
	block := {
		"criteria": "Address 10.0.0.0/8", "matches_all": false, "path": config, "line": 120,
		"settings": {"clientaliveinterval": {"value": "0", "path": config, "line": 121}},
	}
	r := run(sshd(hardened, {"match_blocks": [block]}))
	r.status == "fail"
	testing.any_reason(
		r,
		"Match Address 10.0.0.0/8 (/etc/ssh/sshd_config:120) sets ClientAliveInterval 0 at /etc/ssh/sshd_config:121"
	)
	contains(r.remediation, "Match blocks at /etc/ssh/sshd_config:120")
	some e in r.evidence
	e.line == 120
}

test_weaker_match_count_fails if {
	block := {
		"criteria": "User backup", "matches_all": false, "path": config, "line": 130,
		"settings": {"clientalivecountmax": {"value": "99", "path": config, "line": 131}},
	}
	r := run(sshd(hardened, {"match_blocks": [block]}))
	r.status == "fail"
	testing.any_reason(r, "sets ClientAliveCountMax 99")
}

test_stricter_match_block_passes if {
	block := {
		"criteria": "Group phi-access", "matches_all": false, "path": config, "line": 120,
		"settings": {"clientaliveinterval": {"value": "60", "path": config, "line": 121}},
	}
	r := run(sshd(hardened, {"match_blocks": [block]}))
	r.status == "pass"
	testing.any_evidence(r, "Match Group phi-access: ClientAliveInterval 60")
}

test_match_all_is_judged_through_the_global_values if {
	block := {
		"criteria": "all", "matches_all": true, "path": config, "line": 140,
		"settings": {"clientaliveinterval": {"value": "0", "path": config, "line": 141}},
	}
	s := object.union(hardened, {"clientaliveinterval": set_at("0", config, 141)})
	r := run(sshd(s, {"match_blocks": [block]}))
	r.status == "fail"
	not testing.any_reason(r, "Match all")
	testing.any_reason(r, "ClientAliveInterval is 0 (first set in /etc/ssh/sshd_config:141)")
}

test_channel_timeout_session_is_evidence if {
	s := object.union(hardened, {"channeltimeout": set_at("session=15m", dropin, 4)})
	r := run(sshd(s, {}))
	r.status == "pass"
	some e in r.evidence
	e.line == 4
	contains(e.detail, concat(" ", [
		"ChannelTimeout session=15m (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:4): sshd closes idle session",
		"channels",
	]))
}

test_channel_timeout_without_session_is_explained if {
	s := object.union(defaults, {"channeltimeout": set_at("agent-connection=5m", dropin, 4)})
	r := run(sshd(s, {}))
	r.status == "fail"
	testing.any_evidence(r, "sets no timeout for session channels")
}

test_not_installed_is_not_applicable if {
	r := run(sshd(defaults, {"installed": false, "binary": null, "config_found": false, "files": []}))
	r.status == "not_applicable"
	r.reasons == ["sshd is not installed (neither /usr/sbin/sshd nor /usr/bin/sshd exists)"]
}

test_config_without_binary_is_not_applicable if {
	r := run(sshd(defaults, {"installed": false, "binary": null}))
	r.status == "not_applicable"
	testing.any_reason(r, "no server reads it")
}

test_unreadable_config_is_error if {
	u := [{"path": "/etc/ssh/sshd_config.d/50-cloud-init.conf", "error": "permission denied"}]
	r := run(sshd(hardened, {"unreadable": u}))
	r.status == "error"
	testing.any_reason(r, "/etc/ssh/sshd_config.d/50-cloud-init.conf could not be read (permission denied)")
	testing.any_evidence(r, "could not be read: permission denied")
}

test_missing_config_is_error if {
	r := run(sshd(defaults, {"config_found": false, "files": []}))
	r.status == "error"
	testing.any_reason(r, "/etc/ssh/sshd_config does not exist")
}

test_missing_facts_is_error if {
	r := run({})
	r.status == "error"
}

test_parse_issues_are_evidence if {
	issues := [{"path": dropin, "line": 5, "message": "ClientAliveCountMax: invalid integer \"x\""}]
	r := run(sshd(hardened, {"issues": issues}))
	some e in r.evidence
	e.line == 5
	contains(e.detail, "invalid integer")
}

test_includes_past_the_work_bound_are_an_error if {
	i := [{
		"path": config,
		"line": 12,
		"message": "phipolicy stopped reading includes here after parsing 250000 files",
	}]
	r := run(sshd(hardened, {"incomplete": i}))
	r.status == "error"
	testing.any_reason(r, "/etc/ssh/sshd_config:12: phipolicy stopped reading includes")
}

# Tests of auth.ssh: every status and every sub-check, global and inside Match blocks.
package phipolicy.hipaa.auth_ssh_test

import data.phipolicy.testing

main := "/etc/ssh/sshd_config"

dropin := "/etc/ssh/sshd_config.d/00-hipaa.conf"

cloud := "/etc/ssh/sshd_config.d/50-cloud-init.conf"

set_at(v, path, line) := {"value": v, "path": path, "line": line, "default": false}

unset(v) := {"value": v, "path": main, "line": 0, "default": true}

list_at(values, path, line) := {
	"value": concat(" ", values),
	"values": values,
	"entries": [{"value": v, "path": path, "line": line} | some v in values],
	"path": path,
	"line": line,
	"default": false,
}

empty_list := {"value": "", "values": [], "entries": [], "path": main, "line": 0, "default": true}

hardened := {
	"permitrootlogin": set_at("no", dropin, 3),
	"passwordauthentication": set_at("no", dropin, 4),
	"kbdinteractiveauthentication": set_at("no", dropin, 5),
	"permitemptypasswords": set_at("no", dropin, 6),
	"pubkeyauthentication": set_at("yes", dropin, 7),
	"maxauthtries": set_at("3", dropin, 8),
	"allowgroups": list_at(["phi-access"], dropin, 9),
	"allowusers": empty_list,
	"usepam": set_at("yes", main, 85),
	"banner": set_at("/etc/issue.net", dropin, 10),
}

debian_defaults := {
	"permitrootlogin": unset("prohibit-password"),
	"passwordauthentication": unset("yes"),
	"kbdinteractiveauthentication": set_at("no", main, 62),
	"permitemptypasswords": unset("no"),
	"pubkeyauthentication": unset("yes"),
	"maxauthtries": unset("6"),
	"allowgroups": empty_list,
	"allowusers": empty_list,
	"usepam": set_at("yes", main, 85),
	"banner": unset("none"),
}

sshd(settings, blocks) := {
	"installed": true,
	"binary": "/usr/sbin/sshd",
	"config_found": true,
	"files": [main, dropin],
	"unreadable": [],
	"issues": [],
	"settings": settings,
	"match_blocks": blocks,
}

params := {"ssh_max_auth_tries": 3, "phi_group": "phi-access"}

input_for(sshd_facts) := {
	"facts": {"os": {"id": "debian", "version_id": "12"}, "sshd": sshd_facts, "banner": null},
	"params": params,
	"target": {"kind": "rootfs", "root": "/fixture", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
	"now": "2025-01-01T00:00:00Z",
	"now_unix": 1735689600,
}

result_for(settings, blocks) := r if {
	r := data.phipolicy.hipaa.auth_ssh.result with input as input_for(sshd(settings, blocks))
}

with_setting(kw, s) := object.union(hardened, {kw: s})

block(criteria, line, settings) := {
	"criteria": criteria,
	"matches_all": false,
	"path": main,
	"line": line,
	"settings": settings,
}

# --- not applicable, error

test_not_installed_is_not_applicable if {
	facts := object.union(sshd(hardened, []), {"installed": false, "binary": null})
	r := data.phipolicy.hipaa.auth_ssh.result with input as input_for(facts)
	r.status == "not_applicable"
	testing.any_reason(r, "not installed")
}

test_unreadable_file_is_error if {
	facts := object.union(sshd(hardened, []), {"unreadable": [{"path": dropin, "error": "permission denied"}]})
	r := data.phipolicy.hipaa.auth_ssh.result with input as input_for(facts)
	r.status == "error"
	testing.any_reason(r, "/etc/ssh/sshd_config.d/00-hipaa.conf could not be read (permission denied)")
	contains(r.remediation, "readable")
}

test_undeclared_include_is_error if {
	facts := object.union(
		sshd(hardened, []),
		{"unreadable": [{"path": "/opt/ssh", "error": "not declared in the plugin manifest: /opt/ssh"}]}
	)
	r := data.phipolicy.hipaa.auth_ssh.result with input as input_for(facts)
	r.status == "error"
	testing.any_reason(r, "/opt/ssh")
}

test_missing_config_is_error if {
	facts := object.union(sshd(debian_defaults, []), {"config_found": false, "files": []})
	r := data.phipolicy.hipaa.auth_ssh.result with input as input_for(facts)
	r.status == "error"
	testing.any_reason(r, "/etc/ssh/sshd_config does not exist")
}

# --- pass

test_hardened_passes if {
	r := result_for(hardened, [])
	r.status == "pass"
	testing.any_reason(r, "PasswordAuthentication no (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:4)")
	testing.any_reason(r, "MaxAuthTries 3")
	testing.any_reason(r, "includes \"phi-access\"")
	some e in r.evidence
	e == {"path": dropin, "line": 4, "detail": "PasswordAuthentication no"}
	r.remediation == data.phipolicy.hipaa.auth_ssh.metadata.remediation
}

test_allowusers_instead_of_allowgroups_passes if {
	settings := object.union(hardened, {"allowgroups": empty_list, "allowusers": list_at(["alice", "bob"], dropin, 9)})
	r := result_for(settings, [])
	r.status == "pass"
	testing.any_reason(r, "AllowUsers is alice bob")
}

test_phi_group_among_other_groups_passes if {
	r := result_for(with_setting("allowgroups", list_at(["admins", "phi-access"], main, 130)), [])
	r.status == "pass"
}

test_kbdinteractive_yes_without_pam_passes if {
	settings := object.union(hardened, {"kbdinteractiveauthentication": unset("yes"), "usepam": unset("no")})
	r := result_for(settings, [])
	r.status == "pass"
	testing.any_reason(r, "UsePAM is no")
}

test_match_block_that_tightens_passes if {
	r := result_for(
		hardened,
		[block(
			"User backup",
			120,
			{
				"passwordauthentication": {"value": "no", "path": main, "line": 121},
				"maxauthtries": {"value": "1", "path": main, "line": 122},
			}
		)]
	)
	r.status == "pass"
	some e in r.evidence
	e.detail == "Match User backup"
}

# --- global failures, each with file:line

test_debian_defaults_fail_every_check if {
	r := result_for(debian_defaults, [])
	r.status == "fail"
	testing.any_reason(r, "PermitRootLogin is prohibit-password (OpenSSH default")
	testing.any_reason(r, "PasswordAuthentication is yes (OpenSSH default")
	testing.any_reason(r, "MaxAuthTries is 6")
	testing.any_reason(r, "AllowGroups is not set and AllowUsers is not set")
	not testing.any_reason(r, "KbdInteractiveAuthentication")
	contains(r.remediation, "/etc/ssh/sshd_config.d/00-hipaa.conf")
	contains(
		r.remediation,
		"    PermitRootLogin no\n    PasswordAuthentication no\n    MaxAuthTries 3\n    AllowGroups phi-access"
	)
	contains(r.remediation, "FIRST value")
	not contains(r.remediation, "KbdInteractiveAuthentication no")
}

test_cloud_init_dropin_fails_with_its_line if {
	r := result_for(with_setting("passwordauthentication", set_at("yes", cloud, 1)), [])
	r.status == "fail"
	testing.any_reason(r, "PasswordAuthentication is yes (first set in /etc/ssh/sshd_config.d/50-cloud-init.conf:1)")
	contains(r.remediation, "    PasswordAuthentication no")
	contains(r.remediation, "50-cloud-init.conf")
}

test_root_login_fails if {
	r := result_for(with_setting("permitrootlogin", set_at("yes", main, 33)), [])
	r.status == "fail"
	testing.any_reason(r, "PermitRootLogin is yes (first set in /etc/ssh/sshd_config:33)")
}

test_empty_passwords_fail if {
	r := result_for(with_setting("permitemptypasswords", set_at("yes", main, 58)), [])
	r.status == "fail"
	testing.any_reason(r, "PermitEmptyPasswords is yes (first set in /etc/ssh/sshd_config:58)")
}

test_pubkey_off_fails if {
	r := result_for(with_setting("pubkeyauthentication", set_at("no", main, 38)), [])
	r.status == "fail"
	testing.any_reason(r, "PubkeyAuthentication is no")
	contains(r.remediation, "PubkeyAuthentication yes")
}

test_kbdinteractive_with_pam_fails if {
	r := result_for(with_setting("kbdinteractiveauthentication", set_at("yes", dropin, 5)), [])
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"KbdInteractiveAuthentication is yes (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:5) while UsePAM is",
		"yes (first set in /etc/ssh/sshd_config:85)",
	]))
	contains(r.remediation, "KbdInteractiveAuthentication no")
}

test_kbdinteractive_default_with_pam_fails if {
	r := result_for(with_setting("kbdinteractiveauthentication", unset("yes")), [])
	r.status == "fail"
	testing.any_reason(r, "KbdInteractiveAuthentication is yes (OpenSSH default")
}

test_max_auth_tries_above_parameter_fails if {
	r := result_for(with_setting("maxauthtries", set_at("4", dropin, 8)), [])
	r.status == "fail"
	testing.any_reason(
		r,
		"MaxAuthTries is 4 (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:8), more than ssh_max_auth_tries (3)"
	)
}

test_max_auth_tries_parameter_is_honoured if {
	r := data.phipolicy.hipaa.auth_ssh.result with input as object.union(
		input_for(sshd(with_setting("maxauthtries", set_at("5", dropin, 8)), [])),
		{"params": {"ssh_max_auth_tries": 5, "phi_group": "phi-access"}}
	)
	r.status == "pass"
}

test_max_auth_tries_not_a_number_fails if {
	r := result_for(with_setting("maxauthtries", set_at("lots", dropin, 8)), [])
	r.status == "fail"
	testing.any_reason(r, "not a number")
}

test_allowgroups_without_phi_group_fails if {
	r := result_for(with_setting("allowgroups", list_at(["admins"], main, 130)), [])
	r.status == "fail"
	testing.any_reason(r, "AllowGroups is admins (first set in /etc/ssh/sshd_config:130) and AllowUsers is not set")
	contains(r.remediation, "AllowGroups phi-access")
}

test_phi_group_parameter_is_honoured if {
	r := data.phipolicy.hipaa.auth_ssh.result with input as object.union(
		input_for(sshd(hardened, [])),
		{"params": {"ssh_max_auth_tries": 3, "phi_group": "clinicians"}}
	)
	r.status == "fail"
	testing.any_reason(r, "\"clinicians\"")
}

# --- Match blocks that weaken

office := block("Address 10.0.0.0/8", 123, {"passwordauthentication": {"value": "yes", "path": main, "line": 124}})

test_match_enabling_passwords_fails_with_its_line if {
	r := result_for(hardened, [office])
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"Match Address 10.0.0.0/8 (/etc/ssh/sshd_config:123) sets PasswordAuthentication yes at",
		"/etc/ssh/sshd_config:124",
	]))
	contains(r.remediation, "/etc/ssh/sshd_config:124")
	not contains(r.remediation, "Create /etc/ssh/sshd_config.d/00-hipaa.conf")
	some e in r.evidence
	e == {"path": main, "line": 124, "detail": "inside Match Address 10.0.0.0/8: PasswordAuthentication yes"}
}

test_match_root_login_fails if {
	r := result_for(
		hardened,
		[block("User admin", 140, {"permitrootlogin": {"value": "prohibit-password", "path": main, "line": 141}})]
	)
	r.status == "fail"
	testing.any_reason(r, "sets PermitRootLogin prohibit-password at /etc/ssh/sshd_config:141")
}

test_match_all_counts_too if {
	r := result_for(
		hardened,
		[{
			"criteria": "all",
			"matches_all": true,
			"path": dropin,
			"line": 20,
			"settings": {"permitemptypasswords": {"value": "yes", "path": dropin, "line": 21}},
		}]
	)
	r.status == "fail"
	testing.any_reason(r, "Match all (/etc/ssh/sshd_config.d/00-hipaa.conf:20)")
}

test_match_kbdinteractive_with_pam_fails if {
	r := result_for(
		hardened,
		[block(
			"Group contractors",
			150,
			{"kbdinteractiveauthentication": {"value": "yes", "path": main, "line": 151}}
		)]
	)
	r.status == "fail"
	testing.any_reason(r, "sets KbdInteractiveAuthentication yes at /etc/ssh/sshd_config:151 while UsePAM is yes")
}

test_match_kbdinteractive_without_pam_passes if {
	settings := object.union(hardened, {"usepam": unset("no")})
	r := result_for(
		settings,
		[block(
			"Group contractors",
			150,
			{"kbdinteractiveauthentication": {"value": "yes", "path": main, "line": 151}}
		)]
	)
	r.status == "pass"
}

test_match_max_auth_tries_fails if {
	r := result_for(
		hardened,
		[block("Address 192.168.0.0/16", 160, {"maxauthtries": {"value": "10", "path": main, "line": 161}})]
	)
	r.status == "fail"
	testing.any_reason(r, "sets MaxAuthTries 10 at /etc/ssh/sshd_config:161")
}

test_match_allowgroups_without_phi_group_fails if {
	groups := {"value": "everyone", "values": ["everyone"], "entries": [], "path": main, "line": 171}
	r := result_for(hardened, [block("Address 10.0.0.0/8", 170, {"allowgroups": groups})])
	r.status == "fail"
	testing.any_reason(r, "sets AllowGroups everyone at /etc/ssh/sshd_config:171")
}

test_match_allowgroups_with_allowusers_passes if {
	groups := {"value": "everyone", "values": ["everyone"], "entries": [], "path": main, "line": 171}
	users := {"value": "alice", "values": ["alice"], "entries": [], "path": main, "line": 172}
	r := result_for(hardened, [block("Address 10.0.0.0/8", 170, {"allowgroups": groups, "allowusers": users})])
	r.status == "pass"
}

# --- lines sshd rejects

test_rejected_line_fails if {
	issue := {"path": main, "line": 3, "message": concat(" ", [
		"Include matched /etc/ssh/sshd_config.d/00-hipaa.conf (a symlink to /etc/hostname, which does not exist",
		"inside the target): sshd cannot open it and refuses to start",
	])}
	facts := object.union(sshd(hardened, []), {"issues": [issue]})
	r := data.phipolicy.hipaa.auth_ssh.result with input as input_for(facts)
	r.status == "fail"
	testing.any_reason(r, "sshd rejects /etc/ssh/sshd_config:3: Include matched")
	contains(r.remediation, "sshd -t")
}

test_every_failure_is_listed_once if {
	r := result_for(debian_defaults, [office])
	count(r.reasons) == 5
}

incomplete_facts := object.union(
	sshd(hardened, []),
	{"incomplete": [{
		"path": main,
		"line": 12,
		"message": "phipolicy stopped reading includes here after parsing 250000 files",
	}]}
)

test_includes_past_the_work_bound_are_an_error_not_a_rejection if {
	r := data.phipolicy.hipaa.auth_ssh.result with input as input_for(incomplete_facts)
	r.status == "error"
	some msg in r.reasons
	startswith(msg, "/etc/ssh/sshd_config:12: phipolicy stopped reading includes")
	not contains(concat(" ", r.reasons), "sshd rejects")
}

many_files := array.concat([main], [sprintf("/etc/ssh/sshd_config.d/%v.conf", [i]) | some i in numbers.range(1, 20)])

test_a_long_file_list_is_summarised if {
	r := data.phipolicy.hipaa.auth_ssh.result with input as input_for(object.union(
		sshd(hardened, []),
		{"files": many_files}
	))
	r.status == "pass"
	some msg in r.reasons
	contains(msg, "/etc/ssh/sshd_config.d/9.conf, ..., /etc/ssh/sshd_config.d/20.conf (21 files)")
}

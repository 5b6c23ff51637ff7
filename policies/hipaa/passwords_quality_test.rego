# Tests of passwords.quality: every status and every sub-check, on facts shaped like the
# password-management plugin's output.
package phipolicy.hipaa.passwords_quality_test

import data.phipolicy.testing

params := {
	"password_min_length": 14,
	"password_min_classes": 3,
	"password_max_repeat": 2,
	"password_max_age_days": 90,
	"password_min_age_days": 7,
	"password_warn_age_days": 14,
}

dropin := "/etc/security/pwquality.conf.d/50-hipaa.conf"

from_file(value, line) := {
	"value": value,
	"raw": sprintf("%v", [value]),
	"path": dropin,
	"line": line,
	"source": "pwquality.conf",
	"overrides": null,
}

by_default(value) := {
	"value": value,
	"raw": null,
	"path": "/etc/security/pwquality.conf",
	"line": 0,
	"source": "default",
	"overrides": null,
}

hardened_effective := {
	"minlen": from_file(14, 2),
	"minclass": from_file(3, 3),
	"maxrepeat": from_file(2, 4),
	"gecoscheck": from_file(1, 5),
	"dictcheck": from_file(1, 6),
	"enforcing": by_default(1),
}

default_effective := {
	"minlen": by_default(8),
	"minclass": by_default(0),
	"maxrepeat": by_default(0),
	"gecoscheck": by_default(0),
	"dictcheck": by_default(1),
	"enforcing": by_default(1),
}

pw_line(service, path, effective) := {
	"service": service,
	"path": path,
	"line": 25,
	"control": "requisite",
	"failure_action": "die",
	"ignore_if_missing": false,
	"module": "pam_pwquality.so",
	"module_exists": true,
	"module_file": "/usr/lib/x86_64-linux-gnu/security/pam_pwquality.so",
	"argv": ["retry=3"],
	"args": {"retry": "3"},
	"flags": [],
	"via": [],
	"effective": effective,
}

stack(service) := {
	"service": service,
	"path": concat("/", ["/etc/pam.d", service]),
	"type": "password",
	"exists": true,
	"entries": [],
	"files": [],
	"unreadable": [],
	"issues": [],
}

debian_facts(effective) := {
	"family": "debian",
	"pwquality": {
		"files": [{"path": dropin, "exists": true}, {"path": "/etc/security/pwquality.conf", "exists": true}],
		"settings": {"minlen": {"value": "14", "path": dropin, "line": 2}},
		"stopped_at": null,
	},
	"pam": {
		"services": ["common-password"],
		"module_dirs": ["/usr/lib/x86_64-linux-gnu/security"],
		"module_dirs_present": ["/usr/lib/x86_64-linux-gnu/security"],
		"stacks": [stack("common-password")],
		"pwquality_lines": [pw_line("common-password", "/etc/pam.d/common-password", effective)],
		"runs": [pam_run(true, false)],
	},
	"effective": effective,
	"unreadable": [],
	"issues": [],
}

hardened := debian_facts(hardened_effective)

# The facts with one pam_pwquality line changed.
with_line(facts, changes) := object.union(
	facts,
	{"pam": {"pwquality_lines": [object.union(facts.pam.pwquality_lines[0], changes)]}}
)

result_for(facts) := r if {
	r := data.phipolicy.hipaa.passwords_quality.result with input as {
		"facts": facts,
		"params": params,
		"target": {
			"kind": "rootfs",
			"root": "/fixture",
			"os": {"id": "debian", "version_id": "12", "family": facts.family},
		},
		"now": "2026-11-28T12:00:00Z",
		"now_unix": 1795867200,
	}
}

test_metadata if {
	m := data.phipolicy.hipaa.passwords_quality.metadata
	m.id == "passwords.quality"
	m.safeguard == "password-management"
	m.cfr == ["164.308(a)(5)(ii)(D)"]
	m.parameters == ["password_min_length", "password_min_classes", "password_max_repeat"]
}

test_hardened_passes if {
	r := result_for(hardened)
	r.status == "pass"
	r.reasons == [concat(" ", [
		"pam_pwquality.so at /etc/pam.d/common-password:25 (common-password stack, control requisite): minlen 14,",
		"minclass 3, maxrepeat 2, gecoscheck 1, dictcheck 1",
	])]
	{"path": dropin, "line": 2, "detail": "minlen = 14"} in r.evidence
	{
		"path": "/etc/pam.d/common-password",
		"line": 25,
		"detail": "password requisite pam_pwquality.so retry=3",
	} in r.evidence
	r.remediation == data.phipolicy.hipaa.passwords_quality.metadata.remediation
}

test_defaults_fail_on_every_weak_setting if {
	r := result_for(debian_facts(default_effective))
	r.status == "fail"
	count(r.reasons) == 4
	testing.any_reason(r, "minlen is 8 by libpwquality's default")
	testing.any_reason(r, "minclass is 0 by libpwquality's default")
	testing.any_reason(r, concat(" ", [
		"maxrepeat is 0 by libpwquality's default (not set in /etc/security/pwquality.conf or pwquality.conf.d),",
		"which disables",
	]))
	testing.any_reason(r, "gecoscheck is 0")
	contains(r.remediation, "/etc/security/pwquality.conf.d/50-hipaa.conf")
	contains(r.remediation, "minlen = 14")
	not contains(r.remediation, "sed -i")
}

test_pam_argument_overrides_the_file if {
	eff := object.union(hardened_effective, {"minlen": {
		"value": 8, "raw": "8", "path": "/etc/pam.d/common-password", "line": 25, "source": "pam-argument",
		"overrides": {"value": "14", "path": "/etc/security/pwquality.conf", "line": 11},
	}})
	facts := with_line(
		hardened,
		{"argv": ["retry=3", "minlen=8"], "args": {"retry": "3", "minlen": "8"}, "effective": eff}
	)
	r := result_for(facts)
	r.status == "fail"
	r.reasons == [concat(" ", [
		"minlen is 8 from the pam_pwquality.so arguments at /etc/pam.d/common-password:25, overriding",
		"/etc/security/pwquality.conf:11; password_min_length requires at least 14",
	])]
	contains(r.remediation, "(minlen=8)")
	contains(r.remediation, concat(" ", [
		"sed -i -E '/pam_pwquality\\.so/s/ (minlen|minclass|maxrepeat|gecoscheck|dictcheck|enforcing)=[^ ]*//g'",
		"/etc/pam.d/common-password",
	]))
	not contains(r.remediation, "Set the values in a drop-in")
}

test_pam_argument_without_a_file_setting if {
	eff := object.union(hardened_effective, {"minclass": {
		"value": 1, "raw": "1", "path": "/etc/pam.d/common-password", "line": 25,
		"source": "pam-argument", "overrides": null,
	}})
	r := result_for(with_line(hardened, {"effective": eff}))
	r.status == "fail"
	r.reasons == [concat(" ", [
		"minclass is 1 from the pam_pwquality.so arguments at /etc/pam.d/common-password:25; password_min_classes",
		"requires at least 3",
	])]
}

test_strong_pam_argument_passes if {
	eff := object.union(hardened_effective, {"minlen": {
		"value": 16, "raw": "16", "path": "/etc/pam.d/common-password", "line": 25, "source": "pam-argument",
		"overrides": {"value": "14", "path": dropin, "line": 2},
	}})
	result_for(with_line(hardened, {"effective": eff})).status == "pass"
}

test_missing_stack_file_fails if {
	facts := object.union(hardened, {"pam": {
		"stacks": [object.union(
			stack("common-password"),
			{"exists": false, "unreadable": [{"path": "/etc/pam.d/common-password", "error": "not found"}]}
		)],
		"pwquality_lines": [],
	}})
	r := result_for(facts)
	r.status == "fail"
	testing.any_reason(r, "the password stack /etc/pam.d/common-password does not exist")
	{"path": "/etc/pam.d/common-password", "line": 0, "detail": "password stack file does not exist"} in r.evidence
	contains(r.remediation, "apt-get install libpam-pwquality")
}

test_pwquality_not_in_stack_fails_and_judges_the_files if {
	facts := object.union(debian_facts(default_effective), {"pam": {"pwquality_lines": []}})
	r := result_for(facts)
	r.status == "fail"
	testing.any_reason(r, "pam_pwquality.so is not in the password stack of /etc/pam.d/common-password")
	testing.any_reason(r, "minlen is 8 by libpwquality's default")
	contains(r.remediation, "Put pam_pwquality.so in the password stack")
}

test_pwquality_not_in_stack_fails_even_with_good_files if {
	r := result_for(object.union(hardened, {"pam": {"pwquality_lines": []}}))
	r.status == "fail"
	r.reasons == [concat(" ", [
		"pam_pwquality.so is not in the password stack of /etc/pam.d/common-password, so no password quality rule is",
		"enforced there",
	])]
}

test_missing_included_file_fails if {
	broken := object.union(
		stack("common-password"),
		{"unreadable": [{"path": "/etc/pam.d/local-password", "error": "not found"}]}
	)
	r := result_for(object.union(hardened, {"pam": {"stacks": [broken]}}))
	r.status == "fail"
	testing.any_reason(
		r,
		"/etc/pam.d/local-password is included by the password stack of /etc/pam.d/common-password but does not exist"
	)
}

test_optional_control_does_not_enforce if {
	r := result_for(with_line(hardened, {"control": "optional", "failure_action": "ignore"}))
	r.status == "fail"
	testing.any_reason(r, "has control optional: a password it rejects is still accepted")
}

test_bracket_controls if {
	result_for(with_line(hardened, {"control": "[success=ok default=bad]", "failure_action": "bad"})).status == "pass"
	result_for(with_line(hardened, {"control": "[default=ok]", "failure_action": "ok"})).status == "pass"
	jump := result_for(with_line(hardened, {"control": "[success=1 default=1]", "failure_action": "1"}))
	jump.status == "fail"
	testing.any_reason(jump, "failure action 1")
}

test_module_not_installed if {
	r := result_for(with_line(hardened, {"module_exists": false, "module_file": null}))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"pam_pwquality.so named at /etc/pam.d/common-password:25 is not installed (not found in",
		"/usr/lib/x86_64-linux-gnu/security)",
	]))
}

test_module_not_installed_and_silently_skipped if {
	r := result_for(with_line(hardened, {"module_exists": false, "module_file": null, "ignore_if_missing": true}))
	r.status == "fail"
	testing.any_reason(r, "the leading '-' makes PAM skip it silently")
}

test_module_presence_unverifiable_without_module_dirs if {
	facts := object.union(
		with_line(hardened, {"module_exists": false, "module_file": null}),
		{"pam": {"module_dirs_present": []}}
	)
	r := result_for(facts)
	r.status == "pass"
	some e in r.evidence
	startswith(e.detail, "module presence not verified")
}

test_maxrepeat_too_large if {
	r := result_for(debian_facts(object.union(hardened_effective, {"maxrepeat": from_file(5, 4)})))
	r.status == "fail"
	r.reasons == [sprintf("maxrepeat is 5 set in %s:4; password_max_repeat allows at most 2", [dropin])]
}

test_maxrepeat_zero_disables if {
	r := result_for(debian_facts(object.union(hardened_effective, {"maxrepeat": from_file(0, 4)})))
	r.status == "fail"
	testing.any_reason(r, "which disables the repeated-character check")
}

test_minclass_too_small if {
	r := result_for(debian_facts(object.union(hardened_effective, {"minclass": from_file(2, 3)})))
	r.status == "fail"
	r.reasons == [sprintf("minclass is 2 set in %s:3; password_min_classes requires at least 3", [dropin])]
}

test_dictcheck_off if {
	r := result_for(debian_facts(object.union(hardened_effective, {"dictcheck": from_file(0, 6)})))
	r.status == "fail"
	r.reasons == [sprintf("dictcheck is 0 set in %s:6, so the check is off; it must be 1", [dropin])]
}

test_gecoscheck_off if {
	r := result_for(debian_facts(object.union(hardened_effective, {"gecoscheck": from_file(0, 5)})))
	r.status == "fail"
	testing.any_reason(r, "gecoscheck is 0")
}

test_not_enforcing if {
	r := result_for(debian_facts(object.union(hardened_effective, {"enforcing": from_file(0, 7)})))
	r.status == "fail"
	testing.any_reason(r, "enforcing is 0")
}

test_parameters_are_honoured if {
	r := data.phipolicy.hipaa.passwords_quality.result with input as {
		"facts": hardened,
		"params": object.union(params, {"password_min_length": 16}),
		"target": {
			"kind": "rootfs",
			"root": "/fixture",
			"os": {"id": "debian", "version_id": "12", "family": "debian"},
		},
		"now": "2026-11-28T12:00:00Z",
		"now_unix": 1795867200,
	}
	r.status == "fail"
	testing.any_reason(r, "password_min_length requires at least 16")
	contains(r.remediation, "minlen = 16")
}

test_unreadable_config_is_an_error if {
	facts := object.union(
		hardened,
		{"unreadable": [{"path": "/etc/security/pwquality.conf", "error": "permission denied"}]}
	)
	r := result_for(facts)
	r.status == "error"
	r.reasons[0] == concat(" ", [
		"/etc/security/pwquality.conf could not be read (permission denied), so the password rules in force are",
		"unknown",
	])
}

test_unreadable_stack_is_an_error_not_a_missing_file if {
	denied := [{"path": "/etc/pam.d/common-password", "error": "permission denied"}]
	facts := object.union(hardened, {
		"unreadable": denied,
		"pam": {
			"stacks": [object.union(stack("common-password"), {"exists": false, "unreadable": denied})],
			"pwquality_lines": [],
		},
	})
	r := result_for(facts)
	r.status == "error"
	not testing.any_reason(r, "does not exist")
}

test_unrelated_unreadable_file_is_ignored if {
	result_for(object.union(
		hardened,
		{"unreadable": [{"path": "/etc/shadow", "error": "permission denied"}]}
	)).status == "pass"
}

test_stopped_reading_is_evidence if {
	stop := {
		"path": dropin,
		"line": 3,
		"message": "unknown setting \"minlenght\": libpwquality stops reading its configuration here",
	}
	r := result_for(object.union(hardened, {"pwquality": {"stopped_at": stop}}))
	{"path": dropin, "line": 3, "detail": stop.message} in r.evidence
}

rocky_facts(password_auth_lines) := {
	"family": "rhel",
	"pwquality": {"files": [], "settings": {}, "stopped_at": null},
	"pam": {
		"services": ["system-auth", "password-auth"],
		"module_dirs": ["/usr/lib64/security"],
		"module_dirs_present": ["/usr/lib64/security"],
		"stacks": [stack("system-auth"), stack("password-auth")],
		"pwquality_lines": array.concat(
			[pw_line("system-auth", "/etc/pam.d/system-auth", hardened_effective)],
			password_auth_lines
		),
	},
	"effective": hardened_effective,
	"unreadable": [],
	"issues": [],
}

test_rocky_needs_both_stacks if {
	ok := result_for(rocky_facts([pw_line("password-auth", "/etc/pam.d/password-auth", hardened_effective)]))
	ok.status == "pass"
	count(ok.reasons) == 2
	r := result_for(rocky_facts([]))
	r.status == "fail"
	r.reasons == [concat(" ", [
		"pam_pwquality.so is not in the password stack of /etc/pam.d/password-auth, so no password quality rule is",
		"enforced there",
	])]
	contains(r.remediation, "authselect")
}

test_weak_line_in_one_rocky_stack if {
	weak := object.union(hardened_effective, {"minlen": {
		"value": 8, "raw": "8", "path": "/etc/pam.d/password-auth", "line": 25, "source": "pam-argument",
		"overrides": {"value": "14", "path": dropin, "line": 2},
	}})
	r := result_for(rocky_facts([pw_line("password-auth", "/etc/pam.d/password-auth", weak)]))
	r.status == "fail"
	r.reasons == [sprintf(concat(" ", [
		"minlen is 8 from the pam_pwquality.so arguments at /etc/pam.d/password-auth:25, overriding %s:2;",
		"password_min_length requires at least 14",
	]), [dropin])]
}

test_lines_of_other_services_are_not_judged if {
	other := pw_line("passwd", "/etc/pam.d/passwd", default_effective)
	facts := object.union(hardened, {"pam": {"pwquality_lines": [hardened.pam.pwquality_lines[0], other]}})
	result_for(facts).status == "pass"
}

ran(module, line, control) := {
	"index": line - 25,
	"path": "/etc/pam.d/common-password",
	"line": line,
	"control": control,
	"module": module,
	"module_name": module,
}

pwquality_ran := ran("pam_pwquality.so", 25, "requisite")

unix_ran := ran("pam_unix.so", 26, "[success=1 default=ignore]")

# The plugin's runs of the password stack: a weak password (pam_pwquality rejects it) and a strong one.
pam_run(strong_ok, weak_ok) := {
	"service": "common-password", "path": "/etc/pam.d/common-password",
	"weak_password": {"success": weak_ok, "result": "authtok_err", "executed": [pwquality_ran], "unmodelled": []},
	"strong_password": {
		"success": strong_ok,
		"result": "success",
		"executed": [pwquality_ran, unix_ran],
		"unmodelled": [],
	},
}

with_run(facts, r) := object.union(facts, {"pam": {"runs": [r]}})

test_weak_password_set_anyway_fails if {
	r := result_for(with_run(
		hardened,
		object.union(
			pam_run(true, true),
			{"weak_password": {"success": true, "result": "success", "executed": [unix_ran], "unmodelled": []}}
		)
	))
	r.status == "fail"
	testing.any_reason(r, "sets a password pam_pwquality.so rejects")
}

test_pwquality_after_unix_fails if {
	r := result_for(with_run(
		hardened,
		object.union(
			pam_run(true, false),
			{"weak_password": {
				"success": false,
				"result": "authtok_err",
				"executed": [unix_ran, pwquality_ran],
				"unmodelled": [],
			}}
		)
	))
	r.status == "fail"
	testing.any_reason(r, "runs before pam_pwquality.so")
}

test_pwquality_never_reached_fails if {
	r := result_for(with_run(
		hardened,
		object.union(
			pam_run(true, false),
			{"weak_password": {"success": false, "result": "perm_denied", "executed": [], "unmodelled": []}}
		)
	))
	r.status == "fail"
	testing.any_reason(r, "never reached")
}

test_stack_refusing_every_change_fails if {
	r := result_for(with_run(hardened, pam_run(false, false)))
	r.status == "fail"
	testing.any_reason(r, "refuses every password change")
}

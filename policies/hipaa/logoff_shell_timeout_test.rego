# Tests for logoff.shell-timeout: one case per status branch and per sub-check.
package phipolicy.hipaa.logoff_shell_timeout_test

import data.phipolicy.testing

snippet := "/etc/profile.d/99-hipaa-timeout.sh"

target := {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}}

debian_files := [
	{"path": "/etc/profile", "sourced_from": null},
	{"path": "/etc/bash.bashrc", "sourced_from": {"path": "/etc/profile", "line": 16}},
	{"path": snippet, "sourced_from": {"path": "/etc/profile", "line": 28}},
]

at(line) := {"path": snippet, "line": line, "conditional": false}

stmt(text, line, extra) := object.union(
	{
		"path": snippet, "line": line, "command": "assignment", "text": text, "value": null,
		"value_expands": false, "seconds": null, "numeric": false, "readonly": false, "exported": null,
		"conditional": false, "condition": null, "sourced": true, "outcome": "applied", "note": null,
	},
	extra,
)

good_effective := {
	"set": true, "value": "900", "value_expands": false, "seconds": 900, "numeric": true,
	"path": snippet, "line": 1, "conditional": false,
	"readonly": at(2), "exported": at(3), "refused": [],
}

unset_effective := {
	"set": false, "value": null, "value_expands": false, "seconds": null, "numeric": false,
	"path": null, "line": 0, "conditional": false, "readonly": null, "exported": null, "refused": [],
}

good_assignments := [
	stmt("TMOUT=900", 1, {"value": "900", "seconds": 900, "numeric": true}),
	stmt("readonly TMOUT", 2, {"command": "readonly", "readonly": true}),
	stmt("export TMOUT", 3, {"command": "export", "exported": true}),
]

shell(effective, assignments, extra) := object.union(
	{
		"family": "debian", "profile_found": true, "files": debian_files,
		"profile_d_loop": {"path": "/etc/profile", "line": 28, "patterns": ["/etc/profile.d/*.sh"]},
		"ignored": [], "unreadable": [], "issues": [], "sources_not_followed": [],
		"assignments": assignments, "effective": effective,
	},
	extra,
)

run(sh) := run_with_max(sh, 900)

run_with_max(sh, max_s) := r if {
	r := data.phipolicy.hipaa.logoff_shell_timeout.result with input as {
		"facts": {"os": null, "shell": sh, "sshd": {}},
		"params": {"session_timeout_max_s": max_s},
		"target": target,
	}
}

test_metadata_names_the_control if {
	m := data.phipolicy.hipaa.logoff_shell_timeout.metadata
	m.id == "logoff.shell-timeout"
	m.safeguard == "automatic-logoff"
	m.parameters == ["session_timeout_max_s"]
}

test_hardened_passes if {
	r := run(shell(good_effective, good_assignments, {}))
	r.status == "pass"
	count(r.reasons) == 1
	contains(r.reasons[0], "TMOUT=900 at /etc/profile.d/99-hipaa-timeout.sh:1")
	contains(r.reasons[0], "readonly since /etc/profile.d/99-hipaa-timeout.sh:2")
	some e in r.evidence
	e.path == snippet
	e.line == 1
	e.detail == "TMOUT=900 (applied)"
}

test_defaults_fail_unset if {
	r := run(shell(unset_effective, [], {}))
	r.status == "fail"
	testing.any_reason(r, "TMOUT is not set in any file login shells read (/etc/profile, /etc/bash.bashrc")
	contains(r.remediation, "/etc/profile.d/99-hipaa-timeout.sh")
	contains(r.remediation, "TMOUT=900")
}

test_file_without_sh_is_not_sourced if {
	path := "/etc/profile.d/tmout"
	not_sourced := [
		stmt(
			"TMOUT=900",
			1,
			{"path": path, "value": "900", "seconds": 900, "numeric": true, "sourced": false, "outcome": "not-sourced"}
		),
		stmt(
			"readonly TMOUT",
			1,
			{"path": path, "command": "readonly", "readonly": true, "sourced": false, "outcome": "not-sourced"}
		),
	]
	ignored := [{"path": path, "reason": "/etc/profile reads only /etc/profile.d/*.sh (loop at /etc/profile:28)"}]
	r := run(shell(unset_effective, not_sourced, {"ignored": ignored}))
	r.status == "fail"
	testing.any_reason(r, "/etc/profile.d/tmout is not sourced: /etc/profile reads only /etc/profile.d/*.sh")
	contains(r.remediation, "/etc/profile.d/tmout is never read: rename it with a .sh suffix")
	some e in r.evidence
	e.path == path
	contains(e.detail, "not sourced by login shells")
}

test_not_readonly_fails if {
	eff := object.union(good_effective, {"readonly": null})
	r := run(shell(eff, good_assignments, {}))
	r.status == "fail"
	testing.any_reason(r, "TMOUT is not readonly")
}

test_not_exported_fails if {
	eff := object.union(good_effective, {"exported": null})
	r := run(shell(eff, good_assignments, {}))
	r.status == "fail"
	testing.any_reason(r, "TMOUT is not exported")
}

test_zero_fails if {
	eff := object.union(good_effective, {"value": "0", "seconds": 0})
	r := run(shell(eff, good_assignments, {}))
	r.status == "fail"
	testing.any_reason(r, "TMOUT=0 at /etc/profile.d/99-hipaa-timeout.sh:1 disables the idle logoff")
}

test_non_numeric_fails if {
	eff := object.union(good_effective, {"value": "never", "seconds": 0, "numeric": false})
	r := run(shell(eff, good_assignments, {}))
	r.status == "fail"
	testing.any_reason(r, "is not a number of seconds: bash reads it as 0")
}

test_trailing_garbage_fails if {
	eff := object.union(good_effective, {"value": "15min", "seconds": 15, "numeric": false})
	r := run(shell(eff, good_assignments, {}))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"TMOUT=15min at /etc/profile.d/99-hipaa-timeout.sh:1 is not a plain number of seconds (bash reads only the",
		"leading digits, 15)",
	]))
}

test_expanding_value_fails if {
	eff := object.union(
		good_effective,
		{"value": "$((15*60))", "seconds": null, "numeric": false, "value_expands": true}
	)
	r := run(shell(eff, good_assignments, {}))
	r.status == "fail"
	testing.any_reason(r, "is computed when the shell starts")
}

test_later_larger_value_overrides if {
	dev := "/etc/profile.d/50-dev-session.sh"
	assignments := [
		stmt(
			"export TMOUT=900",
			2,
			{
				"path": "/etc/profile.d/10-hipaa-timeout.sh",
				"command": "export",
				"value": "900",
				"seconds": 900,
				"numeric": true,
				"exported": true,
			}
		),
		stmt(
			"export TMOUT=7200",
			2,
			{"path": dev, "command": "export", "value": "7200", "seconds": 7200, "numeric": true, "exported": true}
		),
	]
	eff := object.union(unset_effective, {
		"set": true, "value": "7200", "seconds": 7200, "numeric": true, "path": dev, "line": 2,
		"exported": {"path": "/etc/profile.d/10-hipaa-timeout.sh", "line": 2, "conditional": false},
	})
	r := run(shell(eff, assignments, {}))
	r.status == "fail"
	testing.any_reason(
		r,
		"TMOUT=7200 at /etc/profile.d/50-dev-session.sh:2 is 7200 seconds, more than session_timeout_max_s (900)"
	)
	testing.any_reason(r, "TMOUT=900 at /etc/profile.d/10-hipaa-timeout.sh:2 is overridden by TMOUT=7200")
	testing.any_reason(r, "TMOUT is not readonly")
	contains(r.remediation, "/etc/profile.d/50-dev-session.sh:2")
}

test_readonly_with_wrong_value_refuses_the_fix if {
	early := "/etc/profile.d/10-legacy.sh"
	eff := object.union(good_effective, {
		"value": "3600", "seconds": 3600, "path": early, "line": 1,
		"readonly": {"path": early, "line": 1, "conditional": false},
		"refused": [{
			"path": snippet,
			"line": 1,
			"text": "TMOUT=900",
			"value": "900",
			"readonly_path": early,
			"readonly_line": 1,
		}],
	})
	assignments := [
		stmt(
			"readonly TMOUT=3600",
			1,
			{"path": early, "command": "readonly", "value": "3600", "seconds": 3600, "numeric": true, "readonly": true}
		),
		stmt(
			"TMOUT=900",
			1,
			{
				"value": "900",
				"seconds": 900,
				"numeric": true,
				"outcome": "refused",
				"note": "TMOUT is readonly since /etc/profile.d/10-legacy.sh:1",
			}
		),
		stmt(
			"readonly TMOUT",
			1,
			{
				"command": "readonly",
				"readonly": true,
				"outcome": "not-run",
				"note": "bash abandons the rest of the command after the refused assignment at line 1",
			}
		),
	]
	r := run(shell(eff, assignments, {}))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"`TMOUT=900` at /etc/profile.d/99-hipaa-timeout.sh:1 is refused by bash: TMOUT is readonly since",
		"/etc/profile.d/10-legacy.sh:1",
	]))
	testing.any_reason(r, "`readonly TMOUT` at /etc/profile.d/99-hipaa-timeout.sh:1 never runs")
	contains(r.remediation, "TMOUT is already readonly at /etc/profile.d/10-legacy.sh:1 with the wrong value")
}

test_conditional_value_fails if {
	eff := object.union(good_effective, {"conditional": true})
	assignments := [
		stmt(
			"TMOUT=900",
			1,
			{
				"value": "900",
				"seconds": 900,
				"numeric": true,
				"conditional": true,
				"condition": "inside `if` at line 1",
			}
		),
		good_assignments[1],
		good_assignments[2],
	]
	r := run(shell(eff, assignments, {}))
	r.status == "fail"
	testing.any_reason(r, "is conditional (inside `if` at line 1)")
	some e in r.evidence
	e.detail == "TMOUT=900 (applied, conditional: inside `if` at line 1)"
}

test_conditional_readonly_and_export_fail if {
	eff := object.union(good_effective, {
		"readonly": {"path": snippet, "line": 2, "conditional": true},
		"exported": {"path": snippet, "line": 3, "conditional": true},
	})
	assignments := [
		good_assignments[0],
		stmt(
			"readonly TMOUT",
			2,
			{
				"command": "readonly",
				"readonly": true,
				"conditional": true,
				"condition": "after `&&` (runs only if the command before succeeds)",
			}
		),
		stmt(
			"export TMOUT",
			3,
			{"command": "export", "exported": true, "conditional": true, "condition": "inside `case` at line 3"}
		),
	]
	r := run(shell(eff, assignments, {}))
	r.status == "fail"
	testing.any_reason(
		r,
		"TMOUT is made readonly at /etc/profile.d/99-hipaa-timeout.sh:2 only conditionally (after `&&`"
	)
	testing.any_reason(
		r,
		"TMOUT is exported at /etc/profile.d/99-hipaa-timeout.sh:3 only conditionally (inside `case` at line 3)"
	)
}

test_readonly_without_value_fails if {
	eff := object.union(unset_effective, {"readonly": at(1)})
	r := run(shell(eff, [stmt("readonly TMOUT", 1, {"command": "readonly", "readonly": true})], {}))
	r.status == "fail"
	testing.any_reason(r, "TMOUT is made readonly at /etc/profile.d/99-hipaa-timeout.sh:1 without a value")
}

test_unset_statement_fails if {
	eff := object.union(unset_effective, {"path": "/etc/bash.bashrc", "line": 40})
	r := run(shell(eff, [stmt("unset TMOUT", 40, {"path": "/etc/bash.bashrc", "command": "unset"})], {}))
	r.status == "fail"
	testing.any_reason(r, "TMOUT is unset at /etc/bash.bashrc:40")
}

test_subshell_and_prefix_are_explained if {
	assignments := [
		stmt(
			"TMOUT=900 /bin/true",
			4,
			{
				"command": "prefix-assignment",
				"value": "900",
				"seconds": 900,
				"numeric": true,
				"outcome": "no-effect",
				"note": "sets TMOUT only for `/bin/true`, not for the login shell",
			}
		),
	]
	r := run(shell(unset_effective, assignments, {}))
	r.status == "fail"
	testing.any_reason(
		r,
		"`TMOUT=900 /bin/true` at /etc/profile.d/99-hipaa-timeout.sh:4 does not change the login shell's TMOUT"
	)
}

test_unreadable_file_is_error if {
	unreadable := [{
		"path": "/etc/profile.d/modules.sh",
		"error": "not declared in the plugin manifest: /usr/share/Modules/init/profile.sh",
		"sourced_from": {"path": "/etc/profile", "line": 28},
		"readonly_before": false,
	}]
	r := run(shell(good_effective, good_assignments, {"unreadable": unreadable}))
	r.status == "error"
	testing.any_reason(r, "/etc/profile.d/modules.sh could not be read")
	contains(r.remediation, "/etc/profile.d/modules.sh")
}

test_unreadable_file_after_readonly_cannot_change_it if {
	unreadable := [{
		"path": "/etc/profile.d/zz.sh",
		"error": "permission denied",
		"sourced_from": {"path": "/etc/profile", "line": 28},
		"readonly_before": true,
	}]
	r := run(shell(good_effective, good_assignments, {"unreadable": unreadable}))
	r.status == "pass"
	some e in r.evidence
	e.path == "/etc/profile.d/zz.sh"
	e.detail == "could not be read: permission denied"
}

test_missing_profile_fails if {
	r := run(shell(unset_effective, [], {"profile_found": false, "files": []}))
	r.status == "fail"
	testing.any_reason(r, "/etc/profile does not exist")
}

test_parameter_raises_the_limit if {
	eff := object.union(good_effective, {"value": "1800", "seconds": 1800})
	run_with_max(shell(eff, good_assignments, {}), 1800).status == "pass"
	run(shell(eff, good_assignments, {})).status == "fail"
}

test_parse_issues_are_evidence if {
	issues := [{"path": snippet, "line": 7, "message": "unterminated double quote opened at line 7"}]
	r := run(shell(good_effective, good_assignments, {"issues": issues}))
	some e in r.evidence
	e.line == 7
	e.detail == "unterminated double quote opened at line 7"
}

test_missing_facts_fail_closed if {
	r := data.phipolicy.hipaa.logoff_shell_timeout.result with input as {
		"facts": {"shell": {
			"profile_found": true,
			"files": [],
			"ignored": [],
			"unreadable": [],
			"issues": [],
			"assignments": [],
			"effective": {},
		}},
		"params": {"session_timeout_max_s": 900},
		"target": target,
	}
	r.status == "fail"
}

# Tests for audit.rules: each requirement, equivalent spellings, -D/-e 2 losses, families and errors.
package phipolicy.hipaa.audit_rules_test

import data.phipolicy.testing

file := "/etc/audit/rules.d/50-hipaa.rules"

watch(path, perms, line) := {
	"kind": "watch", "list": "exit", "action": "always", "watch": path, "recursive": true, "perms": perms,
	"arch": null, "syscalls": ["all"], "fields": [], "keys": [], "prepend": false,
	"path": file, "line": line, "text": sprintf("-w %s -p %s", [path, perms]),
}

syscall(arch, names, fields, line) := {
	"kind": "syscall", "list": "exit", "action": "always", "watch": null, "recursive": false, "perms": "",
	"arch": arch, "syscalls": names, "fields": fields, "keys": [], "prepend": false,
	"path": file, "line": line, "text": sprintf("-a always,exit -F arch=%v -S %s", [arch, concat(",", names)]),
}

euid0 := [{"name": "euid", "op": "=", "value": "0", "compare": false}]

auid := [{"name": "auid", "op": ">=", "value": "1000", "compare": false}]

hardened(authlog) := [
	watch("/etc/passwd", "wa", 1),
	watch("/etc/shadow", "wa", 2),
	watch("/etc/group", "wa", 3),
	watch("/etc/sudoers", "wa", 4),
	watch("/etc/sudoers.d", "wa", 5),
	watch("/var/data/phi", "rwxa", 6),
	watch(authlog, "wa", 7),
	syscall("b64", ["execve"], euid0, 8),
	syscall("b32", ["execve"], euid0, 9),
	syscall("b64", ["rename", "renameat", "unlink", "unlinkat"], auid, 10),
]

facts(rules, extra) := object.union(
	{
		"source": "rules.d", "files": ["/etc/audit/rules.d/audit.rules", file, "/etc/audit/rules.d/99-finalize.rules"],
		"rules": rules, "not_loaded": [],
		"enabled": {"value": "2", "path": "/etc/audit/rules.d/99-finalize.rules", "line": 2},
		"immutable_at_end": true, "augenrules_notes": [], "issues": [], "unreadable": [],
	},
	extra,
)

run_as(f, family, phi) := r if {
	r := data.phipolicy.hipaa.audit_rules.result with input as {
		"facts": {"os": null, "family": family, "rules": f},
		"params": {"phi_paths": phi},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "x", "version_id": "1", "family": family}},
	}
}

run(f) := run_as(f, "debian", ["/var/data/phi"])

without(rules, line) := [r | some r in rules; r.line != line]

test_metadata_names_the_control if {
	m := data.phipolicy.hipaa.audit_rules.metadata
	m.id == "audit.rules"
	m.parameters == ["phi_paths"]
	contains(m.description, "augenrules")
}

test_hardened_passes_with_each_requirement_in_evidence if {
	r := run(facts(hardened("/var/log/auth.log"), {}))
	r.status == "pass"
	testing.any_reason(r, "all 13 required audit rules")
	testing.any_evidence(r, "write+attribute watch on /etc/sudoers.d: satisfied by")
	testing.any_evidence(r, "execve by euid=0 on arch=b32: satisfied by")
	testing.any_evidence(r, "renameat syscall (deletion/rename) on the native architecture: satisfied by")
	testing.any_evidence(r, "the rules end with -e 2")
}

test_each_identity_watch_is_required if {
	every line in [1, 2, 3, 4, 5] {
		r := run(facts(without(hardened("/var/log/auth.log"), line), {}))
		r.status == "fail"
	}
}

test_missing_passwd_watch_names_it if {
	r := run(facts(without(hardened("/var/log/auth.log"), 1), {}))
	testing.any_reason(r, "missing: write+attribute watch on /etc/passwd")
	contains(r.remediation, "-w /etc/passwd -p wa -k identity")
	testing.any_evidence(r, "write+attribute watch on /etc/passwd: missing")
}

test_write_only_watch_is_not_enough if {
	rules := array.concat(without(hardened("/var/log/auth.log"), 2), [watch("/etc/shadow", "w", 2)])
	r := run(facts(rules, {}))
	r.status == "fail"
	testing.any_reason(r, "/etc/shadow")
}

test_more_perms_satisfy if {
	rules := array.concat(without(hardened("/var/log/auth.log"), 2), [watch("/etc/shadow", "rwxa", 2)])
	run(facts(rules, {})).status == "pass"
}

test_parent_dir_watch_covers_sudoers_d_but_path_field_does_not if {
	dir := object.union(watch("/etc", "wa", 5), {"recursive": true})
	run(facts(array.concat(without(hardened("/var/log/auth.log"), 5), [dir]), {})).status == "pass"
	path_only := object.union(watch("/etc", "wa", 5), {"recursive": false})
	run(facts(array.concat(without(hardened("/var/log/auth.log"), 5), [path_only]), {})).status == "fail"
}

test_every_phi_path_needs_rwxa if {
	r := run_as(facts(hardened("/var/log/auth.log"), {}), "debian", ["/var/data/phi", "/srv/phi/"])
	r.status == "fail"
	testing.any_reason(r, "read+write+exec+attribute watch on PHI path /srv/phi")
	contains(r.remediation, "-w /srv/phi -p rwxa -k phi-access")
	rules := array.concat(without(hardened("/var/log/auth.log"), 6), [watch("/var/data/phi", "wa", 6)])
	run(facts(rules, {})).status == "fail"
}

test_auth_log_by_family if {
	run_as(facts(hardened("/var/log/secure"), {}), "rhel", ["/var/data/phi"]).status == "pass"
	r := run_as(facts(hardened("/var/log/auth.log"), {}), "rhel", ["/var/data/phi"])
	r.status == "fail"
	testing.any_reason(r, "auth log /var/log/secure")
	run(facts(hardened("/var/log/secure"), {})).status == "fail"
	run_as(facts(hardened("/var/log/secure"), {}), "unknown", ["/var/data/phi"]).status == "pass"
}

test_b64_only_execve_fails if {
	r := run(facts(without(hardened("/var/log/auth.log"), 9), {}))
	r.status == "fail"
	testing.any_reason(r, "execve by euid=0 on arch=b32")
	count(r.reasons) == 2
}

test_execve_without_euid_filter_counts_but_auid_filter_does_not if {
	all_users := array.concat(without(hardened("/var/log/auth.log"), 8), [syscall("b64", ["execve"], [], 8)])
	run(facts(all_users, {})).status == "pass"
	users_only := array.concat(without(hardened("/var/log/auth.log"), 8), [syscall("b64", ["execve"], auid, 8)])
	run(facts(users_only, {})).status == "fail"
}

test_all_syscalls_rule_counts if {
	rules := array.concat(without(hardened("/var/log/auth.log"), 10), [syscall("b64", ["all"], [], 10)])
	run(facts(rules, {})).status == "pass"
}

test_each_deletion_syscall_required_and_renameat2_counts if {
	rules := array.concat(
		without(hardened("/var/log/auth.log"), 10),
		[syscall("b64", ["rename", "renameat2", "unlink"], [], 10)]
	)
	r := run(facts(rules, {}))
	r.status == "fail"
	testing.any_reason(r, "missing: unlinkat syscall")
	not testing.any_reason(r, "missing: renameat syscall")
	contains(r.remediation, "arch=b32 -S unlink,unlinkat,rename,renameat")
}

test_never_rule_is_not_a_requirement_and_is_reported if {
	never := object.union(syscall("b64", ["execve"], euid0, 11), {"action": "never"})
	rules := array.concat(without(hardened("/var/log/auth.log"), 8), [never])
	r := run(facts(rules, {}))
	r.status == "fail"
	testing.any_evidence(r, "never rule")
}

test_rule_after_immutable_is_lost_and_explained if {
	shadow := watch("/etc/shadow", "wa", 25)
	lost := {"rule": shadow, "reason": concat(" ", [
		"after -e 2 at /etc/audit/audit.rules:24: the audit configuration is immutable, auditctl refuses further",
		"rules",
	])}
	r := run(facts(
		without(hardened("/var/log/auth.log"), 2),
		{"source": "audit.rules", "files": ["/etc/audit/audit.rules"], "not_loaded": [lost]}
	))
	r.status == "fail"
	testing.any_reason(r, "would satisfy it but is not loaded: after -e 2")
	testing.any_evidence(r, "not loaded: `-w /etc/shadow -p wa`")
	contains(r.remediation, "augenrules puts -D first and -e last")
}

test_deleted_rules_fail if {
	lost := [{
		"rule": x,
		"reason": "deleted by `-D` at /etc/audit/audit.rules:25",
	} | some x in hardened("/var/log/auth.log")]
	r := run(facts([], {"source": "audit.rules", "not_loaded": lost, "enabled": null, "immutable_at_end": false}))
	r.status == "fail"
	testing.any_reason(r, "deleted by `-D`")
	testing.any_reason(r, "recommended: end the rules with -e 2")
}

test_no_rules_at_all_fails if {
	r := run(facts([], {"source": "none", "files": [], "enabled": null, "immutable_at_end": false}))
	r.status == "fail"
	testing.any_reason(r, "no audit rules")
	testing.any_evidence(r, "missing (add")
}

test_not_immutable_is_only_a_recommendation if {
	r := run(facts(hardened("/var/log/auth.log"), {"enabled": null, "immutable_at_end": false}))
	r.status == "pass"
	testing.any_reason(r, "recommended: end the rules with -e 2")
	testing.any_evidence(r, "recommended")
}

test_unreadable_is_error if {
	r := run(facts([], {"unreadable": [{"path": "/etc/audit/rules.d/50-hipaa.rules", "error": "permission denied"}]}))
	r.status == "error"
	testing.any_reason(r, "could not be read (permission denied)")
	contains(r.remediation, "readable")
}

test_missing_rules_fact_is_error if {
	r := run(object.remove(facts([], {}), ["rules"]))
	r.status == "error"
}

test_parse_issues_are_evidence if {
	r := run(facts(
		hardened("/var/log/auth.log"),
		{"issues": [{"path": file, "line": 30, "message": "invalid field \"x\""}]}
	))
	r.status == "pass"
	testing.any_evidence(r, "auditctl would reject this line")
}

test_augenrules_moves_are_evidence if {
	note := {
		"value": "augenrules moves `-D` to the top of the compiled rules",
		"path": "/etc/audit/rules.d/90-vendor.rules",
		"line": 2,
	}
	r := run(facts(hardened("/var/log/auth.log"), {"augenrules_notes": [note]}))
	r.status == "pass"
	testing.any_evidence(r, "augenrules moves `-D` to the top")
}

# audit.rules: the audit rules auditd loads record identity changes, PHI access, root commands and deletions.
package phipolicy.hipaa.audit_rules

import data.phipolicy.lib

metadata := {
	"id": "audit.rules",
	"safeguard": "audit-controls",
	"cfr": ["164.312(b)"],
	"title": "Audit rules record identity changes, PHI access, root commands and deletions",
	"severity": "high",
	"description": concat(" ", [
		"Reads the rules auditd loads: /etc/audit/rules.d/*.rules compiled the way augenrules does (files in `ls",
		"-v` order, the last bare -D moved to the top and the last -e to the end), else /etc/audit/audit.rules",
		"applied line by line as `auditctl -R` does (a -D deletes the rules before it; nothing after -e 2 is",
		"loaded).",
		"Required, each reported separately: write+attribute watches on /etc/passwd, /etc/shadow, /etc/group,",
		"/etc/sudoers and /etc/sudoers.d;",
		"read+write+exec+attribute watches on every phi_paths entry; a write+attribute watch on the auth log",
		"(/var/log/auth.log on Debian/Ubuntu, /var/log/secure on Rocky/RHEL);",
		"execve by euid=0 for both arch=b64 and arch=b32 (b64 alone lets 32-bit calls through on a 64-bit host);",
		"and the unlink, unlinkat, rename and renameat (or renameat2) syscalls for the native architecture.",
		"Equivalent spellings count the same: -w path -p wa equals -a always,exit -F path=... -F perm=wa,",
		"exit,always equals always,exit, permissions in any order, a watch with more permissions than required,",
		"a recursive watch (-w or -F dir=) on a parent directory, syscall names or numbers.",
		"Ending the rules with -e 2 (immutable until reboot) is recommended and reported as evidence, not required.",
	]),
	"parameters": ["phi_paths"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"rules": ["object"]},
	"remediation": concat(" ", [
		"Add the missing rules to /etc/audit/rules.d/50-hipaa.rules, end the rules with",
		"/etc/audit/rules.d/99-finalize.rules containing `-e 2`, and load them with `augenrules --load` (a reboot is",
		"needed when the running rules are already immutable).",
	]),
}

rules_facts := input.facts.rules

loaded := rules_facts.rules

family := input.target.os.family

default auth_logs := ["/var/log/auth.log", "/var/log/secure"]
auth_logs := ["/var/log/auth.log"] if {
	family == "debian"
} else := ["/var/log/secure"] if {
	family == "rhel"
}

identity_paths := ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/sudoers", "/etc/sudoers.d"]

phi_paths := [trim_right(p, "/") | some p in input.params.phi_paths]

# Each requirement: an id (for messages), how to match it, and the rule line that adds it.
requirements contains {
	"id": sprintf("write+attribute watch on %s", [p]),
	"kind": "watch",
	"paths": [p],
	"perms": "wa",
	"fix": sprintf("-w %s -p wa -k identity", [p]),
} if {
	some p in identity_paths
}

requirements contains {
	"id": sprintf("read+write+exec+attribute watch on PHI path %s", [p]),
	"kind": "watch",
	"paths": [p],
	"perms": "rwxa",
	"fix": sprintf("-w %s -p rwxa -k phi-access", [p]),
} if {
	some p in phi_paths
}

requirements contains {
	"id": sprintf("write+attribute watch on the auth log %s", [concat(" or ", auth_logs)]),
	"kind": "watch",
	"paths": auth_logs,
	"perms": "wa",
	"fix": sprintf("-w %s -p wa -k auth-log", [auth_logs[0]]),
}

requirements contains {
	"id": sprintf("execve by euid=0 on arch=%s", [arch]),
	"kind": "syscall",
	"syscalls": ["execve"],
	"arches": [arch],
	"euid0": true,
	"fix": sprintf("-a always,exit -F arch=%s -S execve -F euid=0 -k root-commands", [arch]),
} if {
	some arch in ["b64", "b32"]
}

requirements contains {
	"id": sprintf("%s syscall (deletion/rename) on the native architecture", [s]),
	"kind": "syscall",
	"syscalls": names,
	"arches": ["b64", null],
	"euid0": false,
	"fix": sprintf("-a always,exit -F arch=b64 -S %s -k delete", [s]),
} if {
	some s in ["unlink", "unlinkat", "rename", "renameat"]
	names := deletion_names(s)
}

deletion_names("renameat") := ["renameat", "renameat2"]

deletion_names(s) := [s] if s != "renameat"

# --- matching

covers_path(r, p) if r.watch == p

covers_path(r, p) if {
	r.recursive == true
	r.watch != p
	startswith(p, concat("", [trim_right(r.watch, "/"), "/"]))
}

has_perms(have, want) if {
	missing := [c | some c in split(want, ""); not contains(have, c)]
	count(missing) == 0
}

syscall_listed(r, s) if s in r.syscalls

syscall_listed(r, _) if "all" in r.syscalls

euid_ok(q, _) if q.euid0 == false

euid_ok(q, r) if {
	q.euid0 == true
	some f in r.fields
	f.name == "euid"
	f.op == "="
	f.value == "0"
	f.compare == false
}

# A rule with no filter at all audits every user, root included.
euid_ok(q, r) if {
	q.euid0 == true
	count(r.fields) == 0
}

satisfies(q, r) if {
	q.kind == "watch"
	r.kind == "watch"
	r.list == "exit"
	r.action == "always"
	some p in q.paths
	covers_path(r, p)
	has_perms(r.perms, q.perms)
}

satisfies(q, r) if {
	q.kind == "syscall"
	r.kind == "syscall"
	r.list == "exit"
	r.action == "always"
	r.arch in q.arches
	some s in q.syscalls
	syscall_listed(r, s)
	euid_ok(q, r)
}

met(q) if {
	some r in loaded
	satisfies(q, r)
}

unmet contains q if {
	some q in requirements
	not met(q)
}

# Rules that would satisfy a requirement but auditd does not have.
lost(q) := [sprintf(
	"%s:%d `%s` would satisfy it but is not loaded: %s",
	[n.rule.path, n.rule.line, n.rule.text, n.reason]
) |
	some n in rules_facts.not_loaded
	satisfies(q, n.rule)
]

# --- errors

read_errors contains msg if {
	some u in rules_facts.unreadable
	msg := sprintf("%s could not be read (%s), so the rules auditd loads are unknown", [u.path, u.error])
}

read_errors contains "the plugin did not report the audit rules, so nothing can be decided" if {
	not is_array(loaded)
}

# --- failures

default source_text := "no rules file"
source_text := "/etc/audit/rules.d/*.rules (augenrules)" if {
	rules_facts.source == "rules.d"
} else := "/etc/audit/audit.rules" if {
	rules_facts.source == "audit.rules"
}

failures contains msg if {
	rules_facts.source == "none"
	msg := concat(" ", [
		"no audit rules: neither /etc/audit/rules.d/*.rules nor /etc/audit/audit.rules exists, so the kernel records",
		"nothing beyond logins",
	])
}

failures contains msg if {
	some q in unmet
	l := lost(q)
	count(l) == 0
	msg := sprintf("missing: %s (not in %s)", [q.id, source_text])
}

failures contains msg if {
	some q in unmet
	l := lost(q)
	count(l) > 0
	msg := sprintf("missing: %s; %s", [q.id, concat("; ", l)])
}

# --- status

default status := "pass"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

immutable_note := sprintf(
	"the rules end with -e 2 (%s:%d): they cannot be changed until reboot",
	[rules_facts.enabled.path, rules_facts.enabled.line]
) if {
	rules_facts.immutable_at_end == true
} else := concat(" ", [
	"recommended: end the rules with -e 2 (e.g. /etc/audit/rules.d/99-finalize.rules) so an attacker with root",
	"cannot switch auditing off without a reboot",
])

pass_reason := sprintf("all %d required audit rules are loaded from %s", [count(requirements), source_text])

reasons := sort(read_errors) if {
	status == "error"
} else := array.concat(sort(failures), [immutable_note]) if {
	status == "fail"
} else := [pass_reason, immutable_note]

# --- evidence: each requirement separately

first_file := rules_facts.files[0] if count(rules_facts.files) > 0

else_path := first_file if first_file

else_path := "/etc/audit/rules.d" if not first_file

evidence_items contains {
	"path": r.path,
	"line": r.line,
	"detail": sprintf("%s: satisfied by `%s`", [q.id, r.text]),
} if {
	some q in requirements
	met(q)
	r := [x | some x in loaded; satisfies(q, x)][0]
}

evidence_items contains {"path": else_path, "line": 0, "detail": sprintf("%s: missing (add `%s`)", [q.id, q.fix])} if {
	some q in unmet
}

evidence_items contains {
	"path": n.rule.path,
	"line": n.rule.line,
	"detail": sprintf("not loaded: `%s` (%s)", [n.rule.text, n.reason]),
} if {
	some n in rules_facts.not_loaded
}

evidence_items contains {
	"path": r.path,
	"line": r.line,
	"detail": sprintf("never rule: `%s` suppresses the events it matches", [r.text]),
} if {
	some r in loaded
	r.action == "never"
}

evidence_items contains {"path": path, "line": line, "detail": immutable_note} if {
	path := object.get(rules_facts, ["enabled", "path"], else_path)
	line := object.get(rules_facts, ["enabled", "line"], 0)
}

evidence_items contains {"path": n.path, "line": n.line, "detail": n.value} if {
	some n in object.get(rules_facts, "augenrules_notes", [])
}

evidence_items contains {
	"path": i.path,
	"line": i.line,
	"detail": sprintf("auditctl would reject this line: %s", [i.message]),
} if {
	some i in rules_facts.issues
}

evidence_items contains lib.unreadable_evidence(u) if {
	some u in rules_facts.unreadable
}

evidence := sort(evidence_items)

# --- remediation

missing_lines := sort([q.fix | some q in unmet])

deletion_b32 := "-a always,exit -F arch=b32 -S unlink,unlinkat,rename,renameat -k delete"

steps contains {"order": 1, "text": msg} if {
	count(unmet) > 0
	msg := concat(
		"\n",
		array.concat(["Add to /etc/audit/rules.d/50-hipaa.rules:"], [sprintf("  %s", [l]) | some l in missing_lines])
	)
}

steps contains {"order": 2, "text": sprintf("Also cover 32-bit deletions on 64-bit hosts: `%s`.", [deletion_b32])} if {
	some q in unmet
	q.kind == "syscall"
	q.euid0 == false
}

steps contains {"order": 3, "text": msg} if {
	count([n | some n in rules_facts.not_loaded]) > 0
	msg := concat(" ", [
		"Rules listed as not loaded are lost to a later -D or come after -e 2 in /etc/audit/audit.rules: move them",
		"into /etc/audit/rules.d/ (augenrules puts -D first and -e last) or reorder the file.",
	])
}

steps contains {"order": 4, "text": concat(" ", [
	"End the rules with /etc/audit/rules.d/99-finalize.rules containing `-e 2`, run `augenrules --load` (reboot if",
	"the running rules are already immutable) and check with `auditctl -l`.",
])} if {
	status == "fail"
}

steps contains {"order": 0, "text": "Make the audit rules readable to the scan, then rerun."} if status == "error"

remediation := lib.remediation(steps, metadata.remediation)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

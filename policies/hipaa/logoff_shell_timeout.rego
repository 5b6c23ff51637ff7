# logoff.shell-timeout: idle interactive shells end by themselves (bash TMOUT), and users cannot turn it off.
package phipolicy.hipaa.logoff_shell_timeout

import data.phipolicy.lib

metadata := {
	"id": "logoff.shell-timeout",
	"safeguard": "automatic-logoff",
	"cfr": ["164.312(a)(2)(iii)"],
	"title": "Idle login shells are logged off by a readonly, exported TMOUT",
	"severity": "medium",
	"description": concat(" ", [
		"Checks that bash ends an idle interactive session: TMOUT must be 1..session_timeout_max_s seconds,",
		"readonly (readonly TMOUT, declare -r or typeset -r) so users cannot set TMOUT=0 or unset it, and exported,",
		"in a file every login shell reads. Those files are followed the way bash runs /etc/profile:",
		"the loop over /etc/profile.d (which sources only *.sh on Debian and Rocky, plus sh.local on Rocky),",
		"and /etc/bash.bashrc (Debian, sourced before profile.d) or /etc/bashrc (Rocky, sourced after it).",
		"Later assignments override earlier ones unless TMOUT is already readonly, in which case bash refuses them;",
		"an assignment inside if/case/loops/functions or after && / || is conditional and not counted as guaranteed.",
		"TMOUT=0, unset, or a value that is not a plain number fails. A snippet in /etc/profile.d without the",
		".sh suffix is never read, which the reasons say.",
	]),
	"parameters": ["session_timeout_max_s"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"shell": ["object"]},
	"remediation": concat("\n", [
		concat(" ", [
			"Create /etc/profile.d/99-hipaa-timeout.sh (the name must end in .sh: /etc/profile sources only",
			"/etc/profile.d/*.sh) containing:",
		]),
		"  TMOUT=900",
		"  readonly TMOUT",
		"  export TMOUT",
		concat(" ", [
			"with a value no larger than session_timeout_max_s, and remove other TMOUT assignments from",
			"/etc/profile, /etc/profile.d, /etc/bash.bashrc (Debian) and /etc/bashrc (Rocky/RHEL).",
		]),
	]),
}

shell := input.facts.shell

eff := shell.effective

max_s := input.params.session_timeout_max_s

# Where a statement's file came from, for messages.
sourced_text(f) := "read by bash at login" if f == null

sourced_text(f) := sprintf("sourced from %s:%d", [f.path, f.line]) if f != null

files_read := concat(", ", [f.path | some f in shell.files])

# Why the applied statement at path:line may not run.
condition_of(path, line) := c if {
	some s in shell.assignments
	s.path == path
	s.line == line
	s.outcome == "applied"
	s.conditional
	c := s.condition
} else := "a condition"

value_at := sprintf("TMOUT=%s at %s:%d", [eff.value, eff.path, eff.line]) if eff.set

# --- errors: a file login shells read could not be read, and it could still change TMOUT.

read_errors contains msg if {
	some u in shell.unreadable
	not u.readonly_before
	msg := sprintf(concat(" ", [
		"%s could not be read (%s); login shells read it (%s) and it could set TMOUT, so the timeout in force is",
		"unknown",
	]), [u.path, u.error, sourced_text(u.sourced_from)])
}

# --- failures

failures contains msg if {
	not shell.profile_found
	msg := "/etc/profile does not exist: bash login shells read no system-wide profile, so nothing sets TMOUT for them"
}

failures contains msg if {
	shell.profile_found
	not eff.set
	eff.path == null
	eff.readonly == null
	msg := sprintf("TMOUT is not set in any file login shells read (%s), so idle shells never log off", [files_read])
}

failures contains msg if {
	not eff.set
	eff.path != null
	msg := sprintf("TMOUT is unset at %s:%d, so idle shells never log off", [eff.path, eff.line])
}

failures contains msg if {
	not eff.set
	eff.path == null
	eff.readonly != null
	msg := sprintf(concat(" ", [
		"TMOUT is made readonly at %s:%d without a value: it stays unset (later assignments are refused), so idle",
		"shells never log off",
	]), [eff.readonly.path, eff.readonly.line])
}

failures contains msg if {
	eff.set
	eff.value_expands
	msg := sprintf(
		"%s is computed when the shell starts; the timeout cannot be verified: write the number of seconds",
		[value_at]
	)
}

failures contains msg if {
	eff.set
	not eff.value_expands
	eff.seconds <= 0
	eff.numeric
	msg := sprintf("%s disables the idle logoff (TMOUT must be 1 to %d seconds)", [value_at, max_s])
}

failures contains msg if {
	eff.set
	not eff.value_expands
	not eff.numeric
	eff.seconds <= 0
	msg := sprintf("%s is not a number of seconds: bash reads it as 0, which disables the idle logoff", [value_at])
}

failures contains msg if {
	eff.set
	not eff.value_expands
	not eff.numeric
	eff.seconds > 0
	msg := sprintf(
		"%s is not a plain number of seconds (bash reads only the leading digits, %d); write the number alone",
		[value_at, eff.seconds]
	)
}

failures contains msg if {
	eff.set
	not eff.value_expands
	eff.seconds > max_s
	msg := sprintf("%s is %d seconds, more than session_timeout_max_s (%d)", [value_at, eff.seconds, max_s])
}

failures contains msg if {
	eff.set
	eff.conditional
	msg := sprintf(concat(" ", [
		"%s is conditional (%s): a static reader cannot tell whether that branch runs, so the timeout is not",
		"guaranteed",
	]), [value_at, condition_of(eff.path, eff.line)])
}

failures contains msg if {
	eff.set
	eff.readonly == null
	msg := concat(" ", [
		"TMOUT is not readonly: any user can run `TMOUT=0` or `unset TMOUT` and never be logged off (add `readonly",
		"TMOUT`)",
	])
}

failures contains msg if {
	eff.readonly != null
	eff.readonly.conditional
	msg := sprintf(
		"TMOUT is made readonly at %s:%d only conditionally (%s), so users may be able to change it",
		[eff.readonly.path, eff.readonly.line, condition_of(eff.readonly.path, eff.readonly.line)]
	)
}

failures contains msg if {
	eff.set
	eff.exported == null
	msg := concat(" ", [
		"TMOUT is not exported (add `export TMOUT`): shells and programs started from the login shell do not inherit",
		"the timeout",
	])
}

failures contains msg if {
	eff.exported != null
	eff.exported.conditional
	msg := sprintf(
		"TMOUT is exported at %s:%d only conditionally (%s)",
		[eff.exported.path, eff.exported.line, condition_of(eff.exported.path, eff.exported.line)]
	)
}

# --- explanations added to the reasons of a failure: what was seen but does not count.

explanations contains msg if {
	some i in shell.ignored
	texts := [sprintf("`%s` (line %d)", [s.text, s.line]) |
		some s in shell.assignments
		s.path == i.path
		s.outcome == "not-sourced"
	]
	count(texts) > 0
	msg := sprintf("%s is not sourced: %s; ignored there: %s", [i.path, i.reason, concat(", ", texts)])
}

explanations contains msg if {
	some r in eff.refused
	msg := sprintf(
		"`%s` at %s:%d is refused by bash: TMOUT is readonly since %s:%d",
		[r.text, r.path, r.line, r.readonly_path, r.readonly_line]
	)
}

explanations contains msg if {
	some s in shell.assignments
	s.outcome == "not-run"
	msg := sprintf("`%s` at %s:%d never runs: %s", [s.text, s.path, s.line, s.note])
}

explanations contains msg if {
	some s in shell.assignments
	s.outcome == "no-effect"
	msg := sprintf("`%s` at %s:%d does not change the login shell's TMOUT: %s", [s.text, s.path, s.line, s.note])
}

explanations contains msg if {
	some s in shell.assignments
	s.outcome == "applied"
	s.value != null
	not s.value_expands
	eff.set
	s.path != eff.path
	msg := sprintf("TMOUT=%s at %s:%d is overridden by %s", [s.value, s.path, s.line, value_at])
}

# --- pass

guaranteed if {
	eff.set
	not eff.value_expands
	eff.numeric
	eff.seconds >= 1
	eff.seconds <= max_s
	not eff.conditional
	eff.readonly != null
	not eff.readonly.conditional
	eff.exported != null
	not eff.exported.conditional
}

default status := "fail"
status := "error" if {
	count(read_errors) > 0
} else := "pass" if {
	count(failures) == 0
	guaranteed
}

pass_reason := sprintf(concat(" ", [
	"%s (%d seconds, at most session_timeout_max_s %d) is readonly since %s:%d and exported at %s:%d; login shells",
	"read %s",
]), [
	value_at,
	eff.seconds,
	max_s,
	eff.readonly.path,
	eff.readonly.line,
	eff.exported.path,
	eff.exported.line,
	files_read,
])

reasons := array.concat(sort(read_errors), sort(explanations)) if {
	status == "error"
} else := array.concat(sort(failures), sort(explanations)) if {
	status == "fail"
} else := [pass_reason]

# --- evidence

outcome_detail(s) := d if {
	s.outcome == "applied"
	not s.conditional
	d := "applied"
}

outcome_detail(s) := d if {
	s.outcome == "applied"
	s.conditional
	d := sprintf("applied, conditional: %s", [s.condition])
}

outcome_detail(s) := d if {
	s.outcome != "applied"
	s.note != null
	d := sprintf("%s: %s", [s.outcome, s.note])
}

outcome_detail(s) := s.outcome if {
	s.outcome != "applied"
	s.note == null
}

evidence_items contains {
	"path": s.path,
	"line": s.line,
	"detail": sprintf("%s (%s)", [s.text, outcome_detail(s)]),
} if {
	some s in shell.assignments
}

evidence_items contains {
	"path": i.path,
	"line": 0,
	"detail": sprintf("not sourced by login shells: %s", [i.reason]),
} if {
	some i in shell.ignored
}

evidence_items contains lib.unreadable_evidence(u) if {
	some u in shell.unreadable
}

evidence_items contains {
	"path": "/etc/profile",
	"line": 0,
	"detail": sprintf("login shells read, in order: %s", [files_read]),
} if {
	shell.profile_found
}

evidence_items contains {"path": i.path, "line": i.line, "detail": i.message} if {
	some i in shell.issues
}

evidence := sort(evidence_items)

# --- remediation, specific to what failed

snippet := concat("\n", [
	concat(" ", [
		"Create /etc/profile.d/99-hipaa-timeout.sh (the name must end in .sh: /etc/profile sources only",
		"/etc/profile.d/*.sh) containing:",
	]),
	sprintf("     TMOUT=%d", [max_s]),
	"     readonly TMOUT",
	"     export TMOUT",
])

steps contains {"order": 1, "text": snippet} if {
	count(failures) > 0
}

steps contains {"order": 2, "text": msg} if {
	count(failures) > 0
	some i in shell.ignored
	some s in shell.assignments
	s.path == i.path
	s.outcome == "not-sourced"
	msg := sprintf(concat(" ", [
		"%s is never read: rename it with a .sh suffix or move its TMOUT lines into",
		"/etc/profile.d/99-hipaa-timeout.sh.",
	]), [i.path])
}

steps contains {"order": 3, "text": msg} if {
	count(failures) > 0
	eff.readonly != null
	eff.set
	not guaranteed_value
	msg := sprintf(concat(" ", [
		"TMOUT is already readonly at %s:%d with the wrong value, so a later file cannot fix it: correct the value",
		"there.",
	]), [eff.readonly.path, eff.readonly.line])
}

steps contains {"order": 4, "text": msg} if {
	count(failures) > 0
	others := {sprintf("%s:%d", [s.path, s.line]) |
		some s in shell.assignments
		s.outcome == "applied"
		s.value != null
		s.path != "/etc/profile.d/99-hipaa-timeout.sh"
	}
	count(others) > 0
	msg := sprintf(
		"Remove the other TMOUT assignments, which can override or pre-empt it: %s.",
		[concat(", ", sort(others))]
	)
}

steps contains {"order": 0, "text": msg} if {
	count(read_errors) > 0
	msg := sprintf(
		"Make these files readable to the scan (or fix the dangling links): %s.",
		[concat(", ", sort([u.path | some u in shell.unreadable; not u.readonly_before]))]
	)
}

guaranteed_value if {
	eff.numeric
	eff.seconds >= 1
	eff.seconds <= max_s
}

remediation := lib.remediation(steps, metadata.remediation)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

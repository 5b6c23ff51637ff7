# passwords.quality: password complexity enforced by pam_pwquality, with the values it really uses.
package phipolicy.hipaa.passwords_quality

import data.phipolicy.lib

metadata := {
	"id": "passwords.quality",
	"safeguard": "password-management",
	"cfr": ["164.308(a)(5)(ii)(D)"],
	"title": "New passwords must pass pam_pwquality's length, complexity and dictionary checks",
	"severity": "medium",
	"description": concat(" ", [
		"Checks the password-quality rules new passwords must meet.",
		"pam_pwquality.so must be in the password stack of every stack file the distribution family uses",
		"(Debian/Ubuntu: /etc/pam.d/common-password; Rocky/RHEL: /etc/pam.d/system-auth and /etc/pam.d/password-auth,",
		"usually symlinks into /etc/authselect/), and a rejection must fail the stack (required, requisite,",
		"or a bracket control whose failure action is bad, die, ok or done).",
		"The values in force are computed the way libpwquality does: /etc/security/pwquality.conf.d/*.conf in",
		"byte order, then /etc/security/pwquality.conf (later values override; an unknown setting or a bad",
		"number stops reading), then the arguments on the pam_pwquality.so line, which override the files.",
		"Then: minlen >= password_min_length, minclass >= password_min_classes, maxrepeat in",
		"1..password_max_repeat (0 disables the check), gecoscheck and dictcheck enabled (non-zero), and",
		"enforcing not 0 (otherwise pam_pwquality only warns).",
	]),
	"parameters": ["password_min_length", "password_min_classes", "password_max_repeat"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {
		"effective": ["object"],
		"family": ["string"],
		"pam": ["object"],
		"pwquality": ["object"],
		"unreadable": ["array"],
	},
	"remediation": concat("\n", [
		concat(" ", [
			"Install pam_pwquality in the password stack (Debian/Ubuntu: `apt-get install libpam-pwquality`, which",
			"runs pam-auth-update; Rocky/RHEL: authselect profiles include it in system-auth and password-auth:",
			"`authselect select sssd --force` or `authselect apply-changes`).",
		]),
		"Then create /etc/security/pwquality.conf.d/50-hipaa.conf with:",
		"  minlen = 14",
		"  minclass = 3",
		"  maxrepeat = 2",
		"  gecoscheck = 1",
		"  dictcheck = 1",
		concat(" ", [
			"and make sure neither /etc/security/pwquality.conf (read after the drop-ins) nor the pam_pwquality.so",
			"line sets weaker values.",
		]),
	]),
}

facts := input.facts

params := input.params

services := facts.pam.services

lines := [l | some l in facts.pam.pwquality_lines; l.service in services]

stack_of(service) := s if {
	some s in facts.pam.stacks
	s.service == service
}

# Failure actions that make a rejected password fail the password change.
enforcing_actions := {"bad", "die", "ok", "done"}

# Files this control needs; a read failure other than "not found" makes it undecidable.
relevant(path) if startswith(path, "/etc/security/pwquality.conf")

relevant(path) if startswith(path, "/etc/pam.d/")

relevant(path) if startswith(path, "/etc/authselect/")

read_errors contains msg if {
	some u in facts.unreadable
	relevant(u.path)
	u.error != "not found"
	msg := sprintf("%s could not be read (%s), so the password rules in force are unknown", [u.path, u.error])
}

# Where an effective value came from, for reasons.
origin(s) := msg if {
	s.source == "pam-argument"
	o := object.get(s, "overrides", null)
	o != null
	msg := sprintf("from the pam_pwquality.so arguments at %s:%v, overriding %s:%v", [s.path, s.line, o.path, o.line])
}

origin(s) := msg if {
	s.source == "pam-argument"
	object.get(s, "overrides", null) == null
	msg := sprintf("from the pam_pwquality.so arguments at %s:%v", [s.path, s.line])
}

origin(s) := msg if {
	s.source == "pwquality.conf"
	msg := sprintf("set in %s:%v", [s.path, s.line])
}

origin(s) := "by libpwquality's default (not set in /etc/security/pwquality.conf or pwquality.conf.d)" if {
	s.source == "default"
}

# The effective settings judged: one set per pam_pwquality.so line, or the files' values when
# no line exists (so the reasons still say what the files would give).
judged contains l.effective if {
	some l in lines
}

judged contains facts.effective if {
	count(lines) == 0
}

stack_failures contains msg if {
	some service in services
	stack := stack_of(service)
	not stack.exists
	count([u | some u in stack.unreadable; u.path == stack.path; u.error != "not found"]) == 0
	msg := sprintf(
		"the password stack %s does not exist, so pam_pwquality.so is not applied (%s family)",
		[stack.path, facts.family]
	)
}

stack_failures contains msg if {
	some service in services
	stack := stack_of(service)
	stack.exists
	count([l | some l in lines; l.service == service]) == 0
	msg := sprintf(
		"pam_pwquality.so is not in the password stack of %s, so no password quality rule is enforced there",
		[stack.path]
	)
}

stack_failures contains msg if {
	some service in services
	stack := stack_of(service)
	some u in stack.unreadable
	u.error == "not found"
	u.path != stack.path
	msg := sprintf(
		"%s is included by the password stack of %s but does not exist (PAM fails the whole stack)",
		[u.path, stack.path]
	)
}

stack_failures contains msg if {
	some l in lines
	not l.failure_action in enforcing_actions
	msg := sprintf(
		"pam_pwquality.so at %s:%v has control %s: a password it rejects is still accepted (failure action %s)",
		[l.path, l.line, l.control, l.failure_action]
	)
}

stack_failures contains msg if {
	some l in lines
	l.module_exists == false
	count(facts.pam.module_dirs_present) > 0
	not l.ignore_if_missing
	msg := sprintf(
		"pam_pwquality.so named at %s:%v is not installed (not found in %s), so PAM cannot load it",
		[l.path, l.line, concat(", ", facts.pam.module_dirs)]
	)
}

stack_failures contains msg if {
	some l in lines
	l.module_exists == false
	count(facts.pam.module_dirs_present) > 0
	l.ignore_if_missing
	msg := sprintf(
		"pam_pwquality.so named at %s:%v is not installed, and the leading '-' makes PAM skip it silently",
		[l.path, l.line]
	)
}

# The password stack as libpam runs it (facts.pam.runs): a password pam_pwquality rejects must not
# be set, and pam_pwquality must run before pam_unix writes the new password.
run_line(l) := sprintf("%s %s at %s:%v", [l.control, l.module, l.path, l.line])

stack_failures contains msg if {
	some r in facts.pam.runs
	count([l | some l in lines; l.service == r.service]) > 0
	r.weak_password.success
	ran := [run_line(l) | some l in r.weak_password.executed]
	msg := sprintf(
		"the password stack of %s sets a password pam_pwquality.so rejects: PAM runs %s and succeeds",
		[r.path, concat(", ", ran)]
	)
}

stack_failures contains msg if {
	some r in facts.pam.runs
	count([l | some l in lines; l.service == r.service]) > 0
	not r.weak_password.success
	count([l | some l in r.weak_password.executed; l.module_name == "pam_pwquality.so"]) == 0
	msg := sprintf(
		"pam_pwquality.so is never reached in the password stack of %s (a jump or an earlier decision skips it)",
		[r.path]
	)
}

stack_failures contains msg if {
	some r in facts.pam.runs
	some i, u in r.weak_password.executed
	u.module_name == "pam_unix.so"
	some j, q in r.weak_password.executed
	q.module_name == "pam_pwquality.so"
	i < j
	msg := sprintf(concat(" ", [
		"pam_unix.so at %s:%v runs before pam_pwquality.so at %s:%v in the password stack of %s: the password is",
		"written before its quality is checked",
	]), [u.path, u.line, q.path, q.line, r.path])
}

stack_failures contains msg if {
	some r in facts.pam.runs
	count([l | some l in lines; l.service == r.service]) > 0
	not r.strong_password.success
	ran := [run_line(l) | some l in r.strong_password.executed]
	msg := sprintf(concat(" ", [
		"the password stack of %s refuses every password change, even one pam_pwquality.so accepts (PAM runs %s and",
		"returns %s)",
	]), [r.path, concat(", ", ran), r.strong_password.result])
}

setting_findings contains {"msg": msg, "source": s.source} if {
	some e in judged
	s := e.minlen
	s.value < params.password_min_length
	msg := sprintf(
		"minlen is %v %s; password_min_length requires at least %v",
		[s.value, origin(s), params.password_min_length]
	)
}

setting_findings contains {"msg": msg, "source": s.source} if {
	some e in judged
	s := e.minclass
	s.value < params.password_min_classes
	msg := sprintf(
		"minclass is %v %s; password_min_classes requires at least %v",
		[s.value, origin(s), params.password_min_classes]
	)
}

setting_findings contains {"msg": msg, "source": s.source} if {
	some e in judged
	s := e.maxrepeat
	s.value < 1
	msg := sprintf(
		"maxrepeat is %v %s, which disables the repeated-character check; password_max_repeat requires 1 to %v",
		[s.value, origin(s), params.password_max_repeat]
	)
}

setting_findings contains {"msg": msg, "source": s.source} if {
	some e in judged
	s := e.maxrepeat
	s.value > params.password_max_repeat
	msg := sprintf(
		"maxrepeat is %v %s; password_max_repeat allows at most %v",
		[s.value, origin(s), params.password_max_repeat]
	)
}

setting_findings contains {"msg": msg, "source": s.source} if {
	some e in judged
	some name in ["gecoscheck", "dictcheck"]
	s := e[name]
	s.value == 0
	msg := sprintf("%s is 0 %s, so the check is off; it must be 1", [name, origin(s)])
}

setting_findings contains {"msg": msg, "source": s.source} if {
	some e in judged
	s := e.enforcing
	s.value == 0
	msg := sprintf("enforcing is 0 %s: pam_pwquality only warns and accepts weak passwords", [origin(s)])
}

setting_failures := {f.msg | some f in setting_findings}

failures := stack_failures | setting_failures

# What passes, for auditors.
pass_reasons contains msg if {
	some l in lines
	e := l.effective
	msg := sprintf(concat(" ", [
		"pam_pwquality.so at %s:%v (%s stack, control %s): minlen %v, minclass %v, maxrepeat %v, gecoscheck %v,",
		"dictcheck %v",
	]), [
		l.path,
		l.line,
		l.service,
		l.control,
		e.minlen.value,
		e.minclass.value,
		e.maxrepeat.value,
		e.gecoscheck.value,
		e.dictcheck.value,
	])
}

default status := "pass"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

reasons := array.concat(sort(read_errors), sort(failures)) if {
	status != "pass"
} else := sort(pass_reasons)

evidence_items contains {"path": l.path, "line": l.line, "detail": detail} if {
	some l in lines
	detail := sprintf("password %s pam_pwquality.so %s", [l.control, concat(" ", l.argv)])
}

evidence_items contains {"path": s.path, "line": s.line, "detail": detail} if {
	some name, s in facts.pwquality.settings
	detail := sprintf("%s = %s", [name, s.value])
}

evidence_items contains {"path": stack.path, "line": 0, "detail": "password stack file does not exist"} if {
	some service in services
	stack := stack_of(service)
	not stack.exists
}

evidence_items contains {"path": s.path, "line": s.line, "detail": s.message} if {
	s := facts.pwquality.stopped_at
	s != null
}

evidence_items contains {"path": l.path, "line": l.line, "detail": detail} if {
	some l in lines
	count(facts.pam.module_dirs_present) == 0
	detail := sprintf(
		"module presence not verified: none of %s exists in the target",
		[concat(", ", facts.pam.module_dirs)]
	)
}

evidence := sort(evidence_items)

# Remediation, specific to what failed.
dropin_lines := [
	"  Create /etc/security/pwquality.conf.d/50-hipaa.conf with:",
	sprintf("    minlen = %v", [params.password_min_length]),
	sprintf("    minclass = %v", [params.password_min_classes]),
	sprintf("    maxrepeat = %v", [params.password_max_repeat]),
	"    gecoscheck = 1",
	"    dictcheck = 1",
	concat(" ", [
		"  and remove weaker minlen/minclass/maxrepeat/gecoscheck/dictcheck/enforcing lines from",
		"/etc/security/pwquality.conf (libpwquality reads it after the drop-ins, so it wins).",
	]),
]

quality_args := {"minlen", "minclass", "maxrepeat", "gecoscheck", "dictcheck", "enforcing"}

overriding_args contains sprintf("%s:%v (%s)", [l.path, l.line, concat(" ", args)]) if {
	some l in lines
	args := [sprintf("%s=%s", [k, v]) | some k, v in l.args; k in quality_args]
	count(args) > 0
}

steps contains {"order": 1, "text": concat(" ", [
	"Put pam_pwquality.so in the password stack with control `requisite`: Debian/Ubuntu `apt-get install",
	"libpam-pwquality` (pam-auth-update adds it to /etc/pam.d/common-password); Rocky/RHEL `authselect select sssd",
	"--force` (or `authselect apply-changes`) so /etc/authselect/system-auth and password-auth carry it.",
])} if {
	count(stack_failures) > 0
}

steps contains {"order": 2, "text": concat("\n", array.concat(["Set the values in a drop-in:"], dropin_lines))} if {
	some f in setting_findings
	f.source != "pam-argument"
}

overriding_files contains l.path if {
	some l in lines
	some k, _ in l.args
	k in quality_args
}

steps contains {"order": 3, "text": sprintf(concat(" ", [
	"Remove the quality arguments from the pam_pwquality.so line(s); they override the files: %s. For example: %s",
	"(on Rocky/RHEL change the authselect profile instead: the files in /etc/authselect are regenerated).",
]), [concat("; ", sort(overriding_args)), concat("; ", commands)])} if {
	some f in setting_findings
	f.source == "pam-argument"
	commands := [sprintf(
		"`sed -i -E '/pam_pwquality\\.so/s/ (minlen|minclass|maxrepeat|gecoscheck|dictcheck|enforcing)=[^ ]*//g' %s`",
		[p]
	) | some p in sort(overriding_files)]
}

# Steps in a fixed order, each a line starting with "- ".
remediation := concat("\n", [sprintf("- %s", [text]) | some text in lib.step_texts(steps)]) if {
	count(steps) > 0
} else := metadata.remediation

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

# lockout.failed-logins: repeated failed logins lock the account (pam_faillock, or pam_tally2 where
# that module still exists), with a deny count and unlock time within the organisation's limits.
package phipolicy.hipaa.lockout_failed_logins

metadata := {
	"id": "lockout.failed-logins",
	"safeguard": "login-monitoring",
	"cfr": ["164.308(a)(5)(ii)(C)"],
	"title": "Accounts are locked after repeated failed logins",
	"severity": "medium",
	"description": concat(" ", [
		"Reads the auth and account PAM stacks the distribution family uses (Debian/Ubuntu: /etc/pam.d/common-auth",
		"and common-account; Rocky/RHEL: the auth and account parts of /etc/pam.d/system-auth and password-auth,",
		"usually symlinks into /etc/authselect/ written by authselect's with-faillock feature), with include,",
		"substack and @include expanded.",
		"Every auth stack needs pam_faillock.so with 'preauth' before the password module (pam_unix.so) and",
		"'authfail' after it, and every account stack needs a pam_faillock.so entry.",
		"The values in force on each preauth/authfail line must have deny in 1..lockout_deny_max and unlock_time",
		"0 (until an administrator unlocks) or at least lockout_unlock_time_min_s; they come from the line's",
		"arguments, which override /etc/security/faillock.conf (or the file named by conf=), whose absent settings",
		"take pam_faillock's defaults deny=3 and unlock_time=600.",
		"pam_tally2.so counts instead only when its module file exists in the target's PAM module directory",
		"(deny 1..lockout_deny_max; unlock_time 0, unset, or at least the minimum): PAM 1.5 (Debian 12, Ubuntu 24.04,",
		"Rocky 9) removed it, so the hardening guide's pam_tally2 line there is a broken configuration, not a",
		"lockout.",
		"Any line naming a module file that does not exist is reported; module presence is only asserted when",
		"the family's module directory exists in the target.",
		"The auth stack is also judged as libpam runs it (control flags, [value=action] jumps, done/die) for a local",
		"user: a locked account with the right password must be refused (a `sufficient` or `optional`",
		"pam_faillock preauth, or one a jump skips, lets it in), a wrong password must reach pam_faillock authfail,",
		"whose control must make its failure count, and a correct password on an unlocked account must be accepted",
		"(a `[success=N]` that lands on pam_deny refuses everyone).",
	]),
	"parameters": ["lockout_deny_max", "lockout_unlock_time_min_s"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {
		"faillock_confs": ["array"],
		"family": ["string"],
		"issues": ["array"],
		"missing_modules": ["array"],
		"module_dirs": ["array"],
		"module_dirs_present": ["array"],
		"os": ["object"],
		"stacks": ["array"],
		"unreadable": ["array"],
	},
	"remediation": concat("\n", [
		concat(" ", [
			"- Debian/Ubuntu: in /etc/pam.d/common-auth put `auth required pam_faillock.so preauth` before the",
			"pam_unix.so line, change pam_unix's `[success=1 default=ignore]` to `[success=2 default=ignore]`, and",
			"add `auth [default=die] pam_faillock.so authfail` right after it; add `account required",
			"pam_faillock.so` to /etc/pam.d/common-account.",
		]),
		"- Rocky/RHEL: `authselect enable-feature with-faillock` (or `authselect select sssd with-faillock --force`).",
		concat(" ", [
			"- Set the limits in /etc/security/faillock.conf: `deny = 5` and `unlock_time = 1800` (or 0: until an",
			"administrator runs `faillock --reset`), and remove weaker deny=/unlock_time= arguments from the",
			"pam_faillock.so lines (they override the file).",
		]),
		concat(" ", [
			"- Keep pam_faillock's preauth line `required` (authfail `required` or `[default=die]`) and count",
			"`[success=N]` jumps so that pam_unix's success lands past pam_deny (Debian: `[success=2",
			"default=ignore]` with the authfail line between them).",
		]),
		concat(" ", [
			"- Remove pam_tally2.so lines on PAM >= 1.5 (Debian 12, Ubuntu 24.04, Rocky 9): the module no longer",
			"exists and PAM cannot load it.",
		]),
	]),
}

facts := input.facts

params := input.params

auth_stacks := [s | some s in facts.stacks; s.type == "auth"]

account_stacks := [s | some s in facts.stacks; s.type == "account"]

# Whether module existence can be checked: the family's module directory exists in the target.
modules_verifiable if count(facts.module_dirs_present) > 0

loadable(e) if e.module_exists == true

loadable(e) if not modules_verifiable

read_errors contains msg if {
	some u in facts.unreadable
	u.error != "not found"
	msg := sprintf("%s could not be read (%s), so the lockout configuration is unknown", [u.path, u.error])
}

# --- pam_faillock -------------------------------------------------------------------------------

faillock_lines(s, mode) := [e | some e in s.entries; e.module_name == "pam_faillock.so"; e.faillock_mode == mode]

unix_indexes(s) := [e.index | some e in s.entries; e.module_name == "pam_unix.so"]

first_unix(s) := min(unix_indexes(s)) if count(unix_indexes(s)) > 0

has_faillock(s) if {
	some e in s.entries
	e.module_name == "pam_faillock.so"
}

at(e) := sprintf("%s:%v", [e.path, e.line])

deny_ok(v) if {
	v.deny.value >= 1
	v.deny.value <= params.lockout_deny_max
}

unlock_ok(v) if v.unlock_time.value == 0

unlock_ok(v) if v.unlock_time.value >= params.lockout_unlock_time_min_s

origin(s) := sprintf(
	"from the arguments at %s:%v, overriding %s:%v",
	[s.path, s.line, s.overrides.path, s.overrides.line]
) if {
	s.source == "pam-argument"
	s.overrides != null
} else := sprintf("from the arguments at %s:%v", [s.path, s.line]) if {
	s.source == "pam-argument"
} else := sprintf("set in %s:%v", [s.path, s.line]) if {
	s.source == "faillock.conf"
} else := sprintf("by default (not set in %s)", [s.path])

faillock_gaps contains msg if {
	some s in auth_stacks
	s.exists
	count([e | some e in s.entries; e.module_name == "pam_faillock.so"]) == 0
	msg := sprintf("pam_faillock.so is not in the auth stack of %s: failed logins never lock an account", [s.path])
}

faillock_gaps contains msg if {
	some s in auth_stacks
	s.exists
	count(unix_indexes(s)) == 0
	msg := sprintf(concat(" ", [
		"the auth stack of %s has no pam_unix.so, so pam_faillock's preauth/authfail placement around the password",
		"module cannot be established",
	]), [s.path])
}

faillock_gaps contains msg if {
	some s in auth_stacks
	has_faillock(s)
	u := first_unix(s)
	count([e | some e in faillock_lines(s, "preauth"); e.index < u; loadable(e)]) == 0
	msg := sprintf(concat(" ", [
		"no `pam_faillock.so preauth` before pam_unix.so in the auth stack of %s: a locked account can still try",
		"passwords",
	]), [s.path])
}

faillock_gaps contains msg if {
	some s in auth_stacks
	has_faillock(s)
	u := first_unix(s)
	count([e | some e in faillock_lines(s, "authfail"); e.index > u; loadable(e)]) == 0
	msg := sprintf(
		"no `pam_faillock.so authfail` after pam_unix.so in the auth stack of %s: failures are not counted",
		[s.path]
	)
}

faillock_gaps contains msg if {
	some s in account_stacks
	s.exists
	count([e | some e in s.entries; e.module_name == "pam_faillock.so"; loadable(e)]) == 0
	msg := sprintf("pam_faillock.so is not in the account stack of %s (`account required pam_faillock.so`)", [s.path])
}

faillock_gaps contains msg if {
	some s in auth_stacks
	some e in s.entries
	e.module_name == "pam_faillock.so"
	e.faillock_mode in {"preauth", "authfail"}
	not deny_ok(e.lockout)
	msg := sprintf(
		"pam_faillock.so %s at %s has deny=%v %s; lockout_deny_max requires 1 to %v",
		[e.faillock_mode, at(e), e.lockout.deny.value, origin(e.lockout.deny), params.lockout_deny_max]
	)
}

faillock_gaps contains msg if {
	some s in auth_stacks
	some e in s.entries
	e.module_name == "pam_faillock.so"
	e.faillock_mode in {"preauth", "authfail"}
	not unlock_ok(e.lockout)
	msg := sprintf(
		"pam_faillock.so %s at %s has unlock_time=%v %s; lockout_unlock_time_min_s requires 0 or at least %v",
		[
			e.faillock_mode,
			at(e),
			e.lockout.unlock_time.value,
			origin(e.lockout.unlock_time),
			params.lockout_unlock_time_min_s,
		]
	)
}

# --- pam_tally2 ---------------------------------------------------------------------------------

tally2_lines(s) := [e | some e in s.entries; e.module_name == "pam_tally2.so"]

tally2_referenced if {
	some s in auth_stacks
	count(tally2_lines(s)) > 0
}

tally2_gaps contains msg if {
	some s in auth_stacks
	s.exists
	count(tally2_lines(s)) == 0
	msg := sprintf("pam_tally2.so is not in the auth stack of %s", [s.path])
}

tally2_gaps contains msg if {
	not modules_verifiable
	some s in auth_stacks
	some e in tally2_lines(s)
	msg := sprintf(concat(" ", [
		"pam_tally2.so at %s cannot be confirmed to exist (none of %s is in the target), and it only counts where",
		"the module is installed",
	]), [at(e), concat(", ", facts.module_dirs)])
}

tally2_gaps contains msg if {
	some s in auth_stacks
	some e in tally2_lines(s)
	not deny_ok(e.lockout)
	msg := sprintf(
		"pam_tally2.so at %s has deny=%v (%s); lockout_deny_max requires 1 to %v",
		[at(e), e.lockout.deny.value, tally2_origin(e.lockout.deny), params.lockout_deny_max]
	)
}

tally2_gaps contains msg if {
	some s in auth_stacks
	some e in tally2_lines(s)
	not unlock_ok(e.lockout)
	msg := sprintf(
		"pam_tally2.so at %s has unlock_time=%v; lockout_unlock_time_min_s requires 0 or at least %v",
		[at(e), e.lockout.unlock_time.value, params.lockout_unlock_time_min_s]
	)
}

tally2_origin(s) := "not set: pam_tally2 never locks" if s.source == "default"

else := "set on the line"

tally2_works if {
	count(auth_stacks) > 0
	count(tally2_gaps) == 0
	count(broken_tally2) == 0
	modules_verifiable
}

faillock_works if {
	count(auth_stacks) > 0
	count(faillock_gaps) == 0
}

# --- the stack as PAM runs it (facts: runs of the auth stack for a local user) -------------------

lockout_lines(s) := [e | some e in s.entries; e.module_name in {"pam_faillock.so", "pam_tally2.so"}]

entry_at(s, i) := [e | some e in s.entries; e.index == i][0]

last_run(s, run) := sprintf(
	"; the last line PAM runs is %s %s at %s",
	[entry_at(s, i).control, entry_at(s, i).module, at(entry_at(s, i))]
) if {
	count(run.executed) > 0
	i := run.executed[count(run.executed) - 1]
} else := ""

bad_jump(s, run) := sprintf(
	"; the jump at %s runs past the end of the stack, which PAM fails",
	[at(entry_at(s, run.bad_jump_at))]
) if {
	run.bad_jump_at != null
} else := ""

lock_line_note(s, e) := sprintf("%s %s at %s is never reached", [e.module_name, mode_word(e), at(e)]) if {
	not e.index in s.runs.locked_good_password.executed
} else := sprintf(
	"%s %s at %s is `%s`, which ignores its failure",
	[e.module_name, mode_word(e), at(e), e.control]
) if {
	not e.on_failure in {"bad", "die"}
}

mode_word(e) := e.faillock_mode if e.faillock_mode != null

else := "(auth)"

lock_checks(s) := [e | some e in lockout_lines(s); e.faillock_mode != "authfail"]

execution_gaps contains msg if {
	some s in auth_stacks
	s.runs != null
	count(lock_checks(s)) > 0
	s.runs.locked_good_password.success
	notes := [n | some e in lock_checks(s); n := lock_line_note(s, e)]
	msg := sprintf(concat(" ", [
		"a locked account still logs in through the auth stack of %s: PAM runs the stack to success with the right",
		"password although the account is locked (%s)",
	]), [s.path, concat("; ", notes)])
}

execution_gaps contains msg if {
	some s in auth_stacks
	s.runs != null
	count(faillock_lines(s, "authfail")) > 0
	count([e | some e in faillock_lines(s, "authfail"); e.index in s.runs.wrong_password.executed]) == 0
	msg := sprintf(concat(" ", [
		"a wrong password never reaches pam_faillock.so authfail in the auth stack of %s, so failures are not",
		"counted%s",
	]), [s.path, last_run(s, s.runs.wrong_password)])
}

execution_gaps contains msg if {
	some s in auth_stacks
	some e in faillock_lines(s, "authfail")
	not e.on_failure in {"bad", "die"}
	msg := sprintf(concat(" ", [
		"pam_faillock.so authfail at %s is `%s`: its result does not count, so it does not lock (use `required` or",
		"`[default=die]`)",
	]), [at(e), e.control])
}

execution_gaps contains msg if {
	some s in auth_stacks
	s.runs != null
	s.runs.wrong_password.success
	msg := sprintf(
		"the auth stack of %s accepts a wrong password: PAM returns success without a correct password%s",
		[s.path, last_run(s, s.runs.wrong_password)]
	)
}

execution_gaps contains msg if {
	some s in auth_stacks
	s.runs != null
	not s.runs.good_password.success
	msg := sprintf(
		"the auth stack of %s refuses every correct password: a local user with the right password gets %s%s%s",
		[s.path, s.runs.good_password.result, last_run(s, s.runs.good_password), bad_jump(s, s.runs.good_password)]
	)
}

notes contains msg if {
	some s in auth_stacks
	s.runs != null
	some i in s.runs.good_password.unmodelled
	e := entry_at(s, i)
	msg := sprintf(
		"note: %s at %s is taken to return `ignore` when the stack is run (its behaviour is not modelled)",
		[e.module, at(e)]
	)
}

# --- lines PAM cannot load, missing files -------------------------------------------------------

broken_tally2 contains msg if {
	modules_verifiable
	some s in facts.stacks
	some e in tally2_lines_any(s)
	e.module_exists == false
	not e.ignore_if_missing
	msg := sprintf(concat(" ", [
		"pam_tally2.so at %s is not installed on %s (PAM 1.5 removed it upstream, and Debian's pam 1.4.0-1, which",
		"Ubuntu 22.04 builds on, had already dropped it): this is a broken configuration, not a lockout, and PAM",
		"fails the stack when it cannot load the module; use pam_faillock.so",
	]), [at(e), os_name])
}

tally2_lines_any(s) := [e | some e in s.entries; e.module_name == "pam_tally2.so"]

os_name := sprintf("%s %s", [facts.os.id, facts.os.version_id]) if facts.os != null

else := "this system"

structural contains msg if {
	some s in facts.stacks
	not s.exists
	count([u | some u in facts.unreadable; u.path == s.path]) == 0
	msg := sprintf("%s does not exist, so its %s stack has no lockout (%s family)", [s.path, s.type, facts.family])
}

structural contains msg if {
	some s in facts.stacks
	some u in s.unreadable
	u.error == "not found"
	u.path != s.path
	msg := sprintf("%s is included by %s but does not exist (PAM fails the whole stack)", [u.path, s.path])
}

structural contains msg if {
	modules_verifiable
	some s in facts.stacks
	some e in s.entries
	e.module_name == "pam_faillock.so"
	e.module_exists == false
	not e.ignore_if_missing
	msg := sprintf(
		"pam_faillock.so at %s is not installed (not found in %s), so PAM cannot load it",
		[at(e), concat(", ", facts.module_dirs)]
	)
}

structural contains msg if {
	some c in facts.faillock_confs
	c.path != "/etc/security/faillock.conf"
	not c.exists
	msg := sprintf(concat(" ", [
		"%s is named by a conf= argument but does not exist; pam_faillock fails when its configuration file is",
		"missing",
	]), [c.path])
}

structural contains msg if {
	some msg in broken_tally2
}

notes contains msg if {
	modules_verifiable
	some m in facts.missing_modules
	m.module != "pam_tally2.so"
	not endswith(m.module, "/pam_tally2.so")
	msg := sprintf(
		"note: %s:%v names %s, which does not exist in the target%s",
		[m.path, m.line, m.module, skip_note(m)]
	)
}

skip_note(m) := " (the leading '-' makes PAM skip it)" if m.ignore_if_missing

else := ""

notes contains msg if {
	not modules_verifiable
	msg := sprintf(
		"note: module files were not checked: none of %s exists in the target",
		[concat(", ", facts.module_dirs)]
	)
}

notes contains msg if {
	some i in facts.issues
	msg := sprintf("note: %s:%v: %s", [i.path, i.line, i.message])
}

lockout_failures := set() if {
	faillock_works
} else := set() if {
	tally2_works
} else := faillock_gaps | tally2_gaps if {
	tally2_referenced
} else := faillock_gaps

failures := (structural | lockout_failures) | execution_gaps

default status := "pass"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

pass_reasons contains msg if {
	faillock_works
	some s in auth_stacks
	some e in s.entries
	e.module_name == "pam_faillock.so"
	e.faillock_mode in {"preauth", "authfail"}
	msg := sprintf(
		"pam_faillock.so %s at %s: deny=%v %s, unlock_time=%v %s",
		[
			e.faillock_mode,
			at(e),
			e.lockout.deny.value,
			origin(e.lockout.deny),
			e.lockout.unlock_time.value,
			origin(e.lockout.unlock_time),
		]
	)
}

pass_reasons contains msg if {
	faillock_works
	some s in account_stacks
	some e in s.entries
	e.module_name == "pam_faillock.so"
	msg := sprintf("account stack of %s runs pam_faillock.so (%s)", [s.path, at(e)])
}

pass_reasons contains msg if {
	not faillock_works
	tally2_works
	some s in auth_stacks
	some e in tally2_lines(s)
	msg := sprintf(concat(" ", [
		"pam_tally2.so at %s (installed: %s): deny=%v, unlock_time=%v (PAM < 1.5 still ships it; it is deprecated,",
		"pam_faillock replaces it)",
	]), [at(e), e.module_file, e.lockout.deny.value, e.lockout.unlock_time.value])
}

reasons := array.concat(sort(read_errors), sort(notes)) if {
	status == "error"
} else := array.concat(sort(failures), sort(notes)) if {
	status == "fail"
} else := array.concat(sort(pass_reasons), sort(notes))

evidence_items contains {
	"path": e.path,
	"line": e.line,
	"detail": sprintf("%s %s %s %s", [e.type, e.control, e.module, concat(" ", e.argv)]),
} if {
	some s in facts.stacks
	some e in s.entries
	e.module_name in {"pam_faillock.so", "pam_tally2.so", "pam_unix.so"}
}

evidence_items contains {
	"path": m.path,
	"line": m.line,
	"detail": sprintf("module %s not found (searched %s)", [m.module, concat(", ", m.searched)]),
} if {
	modules_verifiable
	some m in facts.missing_modules
}

evidence_items contains {"path": st.path, "line": st.line, "detail": sprintf("%s = %s", [st.name, st.value])} if {
	some c in facts.faillock_confs
	c.file != null
	some st in c.file.settings
	st.name in {"deny", "unlock_time"}
}

evidence_items contains {"path": s.path, "line": 0, "detail": sprintf("symlink to %s", [s.real_path])} if {
	some s in facts.stacks
	s.real_path != null
}

evidence_items contains {"path": s.path, "line": 0, "detail": sprintf("%s stack file does not exist", [s.type])} if {
	some s in facts.stacks
	not s.exists
}

evidence := sort(evidence_items)

remediation := metadata.remediation

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

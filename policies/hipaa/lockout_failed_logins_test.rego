# Tests of lockout.failed-logins: every status and every sub-check, on facts shaped like the
# login-monitoring plugin's output.
package phipolicy.hipaa.lockout_failed_logins_test

import data.phipolicy.testing

params := {"lockout_deny_max": 5, "lockout_unlock_time_min_s": 1800}

conf := "/etc/security/faillock.conf"

from_conf(value, line) := {
	"value": value,
	"raw": sprintf("%v", [value]),
	"source": "faillock.conf",
	"path": conf,
	"line": line,
	"overrides": null,
}

by_default(value) := {"value": value, "raw": null, "source": "default", "path": conf, "line": 0, "overrides": null}

from_arg(value, path, line) := {
	"value": value,
	"raw": sprintf("%v", [value]),
	"source": "pam-argument",
	"path": path,
	"line": line,
	"overrides": {"path": conf, "line": 33},
}

hardened := {"deny": from_conf(5, 33), "unlock_time": from_conf(1800, 46)}

entry(index, path, line, type, module, argv, mode, lockout) := {
	"index": index, "path": path, "line": line, "type": type, "control": "required",
	"module": module, "module_name": module, "argv": argv, "ignore_if_missing": false,
	"module_exists": true, "module_file": concat("/", ["/usr/lib/x86_64-linux-gnu/security", module]),
	"via": [], "faillock_mode": mode, "faillock_conf": conf, "lockout": lockout, "on_failure": "bad",
}

auth := "/etc/pam.d/common-auth"

account := "/etc/pam.d/common-account"

unix_auth(index) := entry(index, auth, 18, "auth", "pam_unix.so", ["nullok"], null, null)

preauth(index, lockout) := entry(index, auth, 17, "auth", "pam_faillock.so", ["preauth"], "preauth", lockout)

authfail(index, lockout) := entry(index, auth, 19, "auth", "pam_faillock.so", ["authfail"], "authfail", lockout)

tally2(lockout, exists) := object.union(
	entry(0, auth, 17, "auth", "pam_tally2.so", ["onerr=fail", "deny=5", "unlock_time=1800"], null, lockout),
	{"module_exists": exists, "module_file": module_file(exists)}
)

module_file(true) := "/usr/lib/x86_64-linux-gnu/security/pam_tally2.so"

module_file(false) := null

stack(path, type, entries) := {
	"service": path,
	"path": path,
	"type": type,
	"exists": true,
	"real_path": null,
	"files": [],
	"unreadable": [],
	"entries": entries,
	"runs": runs_of(type, entries),
}

# The plugin's runs of an auth stack for a local user (a well-formed stack: every line runs, the
# right password succeeds, a locked account is refused).
run(success, executed) := {
	"success": success,
	"result": result_of(success),
	"executed": executed,
	"decided_at": null,
	"bad_jump_at": null,
	"unmodelled": [],
}

result_of(true) := "success"

result_of(false) := "auth_err"

runs_of("auth", entries) := {
	"good_password": run(true, [e.index | some e in entries]),
	"wrong_password": run(false, [e.index | some e in entries]),
	"locked_good_password": run(false, [e.index | some e in entries]),
}

runs_of("account", _) := null

with_runs(facts, runs) := object.union(
	facts,
	{"stacks": [object.union(facts.stacks[0], {"runs": object.union(facts.stacks[0].runs, runs)}), facts.stacks[1]]}
)

account_stack(with_faillock) := stack(account, "account", array.concat(
	[entry(0, account, 17, "account", "pam_unix.so", [], null, null)],
	[e | with_faillock; e := entry(3, account, 20, "account", "pam_faillock.so", [], null, null)],
))

facts_with(auth_entries, account_entries_stack) := {
	"family": "debian",
	"os": {"id": "debian", "version_id": "12", "family": "debian", "path": "/etc/os-release"},
	"module_dirs": ["/usr/lib/x86_64-linux-gnu/security", "/lib/x86_64-linux-gnu/security"],
	"module_dirs_present": ["/usr/lib/x86_64-linux-gnu/security"],
	"faillock_confs": [{
		"path": conf,
		"exists": true,
		"readable": true,
		"file": {"path": conf, "settings": [{"name": "deny", "value": "5", "path": conf, "line": 33}], "issues": []},
	}],
	"stacks": [stack(auth, "auth", auth_entries), account_entries_stack],
	"missing_modules": [],
	"unreadable": [],
	"issues": [],
}

good := facts_with([preauth(0, hardened), unix_auth(1), authfail(2, hardened)], account_stack(true))

eval(facts) := r if {
	r := data.phipolicy.hipaa.lockout_failed_logins.result with input as {"facts": facts, "params": params}
}

test_faillock_hardened_passes if {
	r := eval(good)
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"pam_faillock.so preauth at /etc/pam.d/common-auth:17: deny=5 set in /etc/security/faillock.conf:33,",
		"unlock_time=1800 set in /etc/security/faillock.conf:46",
	]))
	testing.any_reason(
		r,
		"account stack of /etc/pam.d/common-account runs pam_faillock.so (/etc/pam.d/common-account:20)"
	)
	{"path": conf, "line": 33, "detail": "deny = 5"} in r.evidence
}

test_no_faillock_fails if {
	r := eval(facts_with([unix_auth(0)], account_stack(false)))
	r.status == "fail"
	testing.any_reason(
		r,
		"pam_faillock.so is not in the auth stack of /etc/pam.d/common-auth: failed logins never lock an account"
	)
	testing.any_reason(r, "pam_faillock.so is not in the account stack of /etc/pam.d/common-account")
	not testing.any_reason(r, "no `pam_faillock.so preauth`")
}

test_preauth_after_unix_fails if {
	r := eval(facts_with([unix_auth(0), preauth(1, hardened), authfail(2, hardened)], account_stack(true)))
	r.status == "fail"
	testing.any_reason(r, "no `pam_faillock.so preauth` before pam_unix.so")
}

test_authfail_before_unix_fails if {
	r := eval(facts_with([preauth(0, hardened), authfail(1, hardened), unix_auth(2)], account_stack(true)))
	r.status == "fail"
	testing.any_reason(r, "no `pam_faillock.so authfail` after pam_unix.so")
}

test_missing_account_entry_fails if {
	r := eval(facts_with([preauth(0, hardened), unix_auth(1), authfail(2, hardened)], account_stack(false)))
	r.status == "fail"
	testing.any_reason(r, "pam_faillock.so is not in the account stack of /etc/pam.d/common-account")
}

test_no_unix_module_fails if {
	r := eval(facts_with([preauth(0, hardened), authfail(1, hardened)], account_stack(true)))
	r.status == "fail"
	testing.any_reason(r, "has no pam_unix.so")
}

test_defaults_fail_on_unlock_time if {
	d := {"deny": by_default(3), "unlock_time": by_default(600)}
	r := eval(facts_with([preauth(0, d), unix_auth(1), authfail(2, d)], account_stack(true)))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"pam_faillock.so authfail at /etc/pam.d/common-auth:19 has unlock_time=600 by default (not set in",
		"/etc/security/faillock.conf); lockout_unlock_time_min_s requires 0 or at least 1800",
	]))
	not testing.any_reason(r, "deny=3")
}

test_deny_too_high_fails if {
	v := {"deny": from_conf(10, 33), "unlock_time": from_conf(1800, 46)}
	r := eval(facts_with([preauth(0, v), unix_auth(1), authfail(2, v)], account_stack(true)))
	r.status == "fail"
	testing.any_reason(r, "has deny=10 set in /etc/security/faillock.conf:33; lockout_deny_max requires 1 to 5")
}

test_deny_zero_fails if {
	v := {"deny": from_conf(0, 33), "unlock_time": from_conf(1800, 46)}
	r := eval(facts_with([preauth(0, v), unix_auth(1), authfail(2, v)], account_stack(true)))
	r.status == "fail"
	testing.any_reason(r, "has deny=0")
}

test_arguments_override_and_unlock_zero_passes if {
	v := {"deny": from_arg(4, auth, 17), "unlock_time": from_arg(0, auth, 17)}
	r := eval(facts_with([preauth(0, v), unix_auth(1), authfail(2, v)], account_stack(true)))
	r.status == "pass"
	testing.any_reason(
		r,
		"deny=4 from the arguments at /etc/pam.d/common-auth:17, overriding /etc/security/faillock.conf:33"
	)
}

test_weak_argument_is_named if {
	v := {"deny": from_arg(4, auth, 19), "unlock_time": object.union(from_arg(60, auth, 19), {"overrides": null})}
	r := eval(facts_with([preauth(0, hardened), unix_auth(1), authfail(2, v)], account_stack(true)))
	r.status == "fail"
	testing.any_reason(r, "unlock_time=60 from the arguments at /etc/pam.d/common-auth:19;")
}

tally_values := {
	"deny": {"value": 5, "raw": "5", "source": "pam-argument", "path": auth, "line": 17, "overrides": null},
	"unlock_time": {
		"value": 1800,
		"raw": "1800",
		"source": "pam-argument",
		"path": auth,
		"line": 17,
		"overrides": null,
	},
}

test_tally2_missing_module_is_broken if {
	f := object.union(
		facts_with([tally2(tally_values, false), unix_auth(1)], account_stack(false)),
		{"missing_modules": [{
			"path": auth,
			"line": 17,
			"type": "auth",
			"module": "pam_tally2.so",
			"ignore_if_missing": false,
			"searched": ["/usr/lib/x86_64-linux-gnu/security/pam_tally2.so"],
		}]}
	)
	r := eval(f)
	r.status == "fail"
	testing.any_reason(
		r,
		"pam_tally2.so at /etc/pam.d/common-auth:17 is not installed on debian 12 (PAM 1.5 removed it upstream"
	)
	{
		"path": auth,
		"line": 17,
		"detail": "module pam_tally2.so not found (searched /usr/lib/x86_64-linux-gnu/security/pam_tally2.so)",
	} in r.evidence
}

test_tally2_present_and_configured_passes if {
	r := eval(facts_with([tally2(tally_values, true), unix_auth(1)], account_stack(false)))
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"pam_tally2.so at /etc/pam.d/common-auth:17 (installed: /usr/lib/x86_64-linux-gnu/security/pam_tally2.so):",
		"deny=5, unlock_time=1800",
	]))
}

test_tally2_without_deny_fails if {
	v := {
		"deny": {"value": 0, "raw": null, "source": "default", "path": auth, "line": 17, "overrides": null},
		"unlock_time": tally_values.unlock_time,
	}
	r := eval(facts_with([tally2(v, true), unix_auth(1)], account_stack(false)))
	r.status == "fail"
	testing.any_reason(r, "pam_tally2.so at /etc/pam.d/common-auth:17 has deny=0 (not set: pam_tally2 never locks)")
}

test_tally2_short_unlock_fails if {
	v := {"deny": tally_values.deny, "unlock_time": object.union(tally_values.unlock_time, {"value": 300})}
	r := eval(facts_with([tally2(v, true), unix_auth(1)], account_stack(false)))
	r.status == "fail"
	testing.any_reason(r, "pam_tally2.so at /etc/pam.d/common-auth:17 has unlock_time=300")
}

test_tally2_unverifiable_without_module_dirs if {
	f := object.union(
		facts_with([tally2(tally_values, false), unix_auth(1)], account_stack(false)),
		{"module_dirs_present": []}
	)
	r := eval(f)
	r.status == "fail"
	testing.any_reason(r, "cannot be confirmed to exist")
	testing.any_reason(r, "note: module files were not checked")
}

test_both_mechanisms_referenced_report_both if {
	d := {"deny": by_default(3), "unlock_time": by_default(600)}
	r := eval(facts_with(
		[tally2(tally_values, false), preauth(1, d), unix_auth(2), authfail(3, d)],
		account_stack(true)
	))
	r.status == "fail"
	testing.any_reason(r, "broken configuration")
	testing.any_reason(r, "unlock_time=600")
}

test_missing_stack_file_fails if {
	missing := object.union(stack(account, "account", []), {"exists": false})
	r := eval(facts_with([preauth(0, hardened), unix_auth(1), authfail(2, hardened)], missing))
	r.status == "fail"
	testing.any_reason(r, "/etc/pam.d/common-account does not exist, so its account stack has no lockout")
	{"path": account, "line": 0, "detail": "account stack file does not exist"} in r.evidence
}

test_missing_include_fails if {
	s := object.union(
		account_stack(true),
		{"unreadable": [{"path": "/etc/pam.d/common-account-local", "error": "not found"}]}
	)
	r := eval(facts_with([preauth(0, hardened), unix_auth(1), authfail(2, hardened)], s))
	r.status == "fail"
	testing.any_reason(
		r,
		"/etc/pam.d/common-account-local is included by /etc/pam.d/common-account but does not exist"
	)
}

test_faillock_module_missing_fails if {
	pre := object.union(preauth(0, hardened), {"module_exists": false})
	r := eval(facts_with([pre, unix_auth(1), authfail(2, hardened)], account_stack(true)))
	r.status == "fail"
	testing.any_reason(r, "pam_faillock.so at /etc/pam.d/common-auth:17 is not installed")
}

test_missing_conf_argument_file_fails if {
	f := object.union(
		good,
		{"faillock_confs": [
			{"path": conf, "exists": false, "readable": false},
			{"path": "/etc/security/hipaa.conf", "exists": false, "readable": false},
		]}
	)
	r := eval(f)
	r.status == "fail"
	testing.any_reason(r, "/etc/security/hipaa.conf is named by a conf= argument but does not exist")
}

test_other_missing_modules_are_notes if {
	f := object.union(
		good,
		{"missing_modules": [{
			"path": auth,
			"line": 25,
			"type": "auth",
			"module": "pam_sss.so",
			"ignore_if_missing": true,
			"searched": ["/usr/lib/x86_64-linux-gnu/security/pam_sss.so"],
		}]}
	)
	r := eval(f)
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"note: /etc/pam.d/common-auth:25 names pam_sss.so, which does not exist in the target (the leading '-' makes",
		"PAM skip it)",
	]))
}

test_rhel_symlinks_are_evidence if {
	s := object.union(
		stack("/etc/pam.d/system-auth", "auth", [preauth(0, hardened), unix_auth(1), authfail(2, hardened)]),
		{"real_path": "/etc/authselect/system-auth"}
	)
	f := object.union(good, {"stacks": [s, account_stack(true)]})
	r := eval(f)
	r.status == "pass"
	{"path": "/etc/pam.d/system-auth", "line": 0, "detail": "symlink to /etc/authselect/system-auth"} in r.evidence
}

test_parse_issues_are_notes if {
	r := eval(object.union(
		good,
		{"issues": [{"path": conf, "line": 40, "message": "deny = \"x\" is not a number; pam_faillock ignores it"}]}
	))
	testing.any_reason(r, "note: /etc/security/faillock.conf:40: deny")
}

test_unreadable_file_is_error if {
	r := eval(object.union(
		good,
		{"unreadable": [{"path": "/etc/authselect/system-auth", "error": "permission denied"}]}
	))
	r.status == "error"
	testing.any_reason(r, "/etc/authselect/system-auth could not be read (permission denied)")
}

test_metadata_is_complete if {
	m := data.phipolicy.hipaa.lockout_failed_logins.metadata
	m.id == "lockout.failed-logins"
	m.description != ""
	m.remediation != ""
}

test_locked_account_that_still_logs_in_fails if {
	f := with_runs(good, {"locked_good_password": run(true, [0, 1])})
	r := eval(f)
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "a locked account still logs in")
}

test_wrong_password_that_never_reaches_authfail_fails if {
	f := with_runs(good, {"wrong_password": run(false, [0, 1])})
	r := eval(f)
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "never reaches pam_faillock.so authfail")
}

test_a_stack_that_refuses_every_good_password_fails if {
	f := with_runs(good, {"good_password": run(false, [0, 1])})
	r := eval(f)
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "refuses every correct password")
}

test_optional_authfail_does_not_count if {
	f := facts_with(
		[
			preauth(0, hardened),
			unix_auth(1),
			object.union(authfail(2, hardened), {"control": "optional", "on_failure": "ignore"}),
		],
		account_stack(true)
	)
	r := eval(f)
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "its result does not count")
}

test_a_stack_that_accepts_a_wrong_password_fails if {
	f := with_runs(good, {"wrong_password": run(true, [0])})
	r := eval(f)
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "accepts a wrong password")
}

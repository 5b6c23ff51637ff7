# Tests of passwords.aging: login.defs settings, existing accounts, and unreadable files.
package phipolicy.hipaa.passwords_aging_test

import data.phipolicy.testing

params := {
	"password_min_length": 14,
	"password_min_classes": 3,
	"password_max_repeat": 2,
	"password_max_age_days": 90,
	"password_min_age_days": 7,
	"password_warn_age_days": 14,
}

def(value, line) := {"value": value, "raw": sprintf("%v", [value]), "path": "/etc/login.defs", "line": line}

hardened_defs := {
	"path": "/etc/login.defs",
	"exists": true,
	"readable": true,
	"PASS_MAX_DAYS": def(90, 165),
	"PASS_MIN_DAYS": def(7, 166),
	"PASS_WARN_AGE": def(14, 167),
	"UID_MIN": def(1000, 172),
}

debian_defs := object.union(hardened_defs, {
	"PASS_MAX_DAYS": def(99999, 165),
	"PASS_MIN_DAYS": def(0, 166),
	"PASS_WARN_AGE": def(7, 167),
})

# An account as /etc/passwd and /etc/shadow describe it; its uid, shell and password state decide
# whether the plugin counts it as a login account.
account(name, uid, shell, state, max_days, line) := {
	"name": name,
	"uid": uid,
	"shell": shell,
	"state": state,
	"max_days": max_days,
	"line": line,
}

field(max_days) := sprintf("%v", [max_days]) if {
	is_number(max_days)
} else := ""

# How the plugin lists a login account.
listed(a) := {
	"name": a.name,
	"uid": a.uid,
	"shell": a.shell,
	"password_source": "shadow",
	"max_days": a.max_days,
	"max_days_field": field(a.max_days),
	"passwd_path": "/etc/passwd",
	"passwd_line": a.line,
	"shadow_path": "/etc/shadow",
	"shadow_line": a.line,
}

# The plugin's UID_MIN: login.defs' when it is a number, else shadow's default.
plugin_uid_min(defs) := v if {
	v := defs.UID_MIN.value
	is_number(v)
} else := 1000

# The plugin's account facts for a few accounts (it lists every login account up to 20).
account_facts(defs, all) := f if {
	uid_min := plugin_uid_min(defs)
	login := [a | some a in all; a.uid >= uid_min; a.shell in {"/bin/bash", "/bin/sh", ""}; a.state == "usable"]
	count(login) <= 20
	f := {
		"total": count(all),
		"uid_min": uid_min,
		"login_count": count(login),
		"max_days_counts": [{"max_days": d, "count": count([a | some a in login; a.max_days == d])} |
			some d in {a.max_days | some a in login}
		],
		"login": [listed(a) | some a in login],
	}
}

base_accounts := [
	account("root", 0, "/bin/bash", "none", 99999, 1),
	account("daemon", 1, "/usr/sbin/nologin", "none", 99999, 2),
	account("nobody", 65534, "/usr/sbin/nologin", "none", 99999, 18),
	account("bob", 1001, "/bin/bash", "locked", 99999, 22),
	account("svc", 1003, "/usr/sbin/nologin", "usable", 99999, 23),
]

facts(defs, accounts) := {
	"family": "debian",
	"login_defs": defs,
	"accounts": account_facts(defs, array.concat(base_accounts, accounts)),
	"unreadable": [],
	"issues": [],
}

hardened := facts(hardened_defs, [account("alice", 1000, "/bin/bash", "usable", 90, 21)])

result_for(f) := r if {
	r := data.phipolicy.hipaa.passwords_aging.result with input as {
		"facts": f,
		"params": params,
		"target": {
			"kind": "rootfs",
			"root": "/fixture",
			"os": {"id": "debian", "version_id": "12", "family": "debian"},
		},
		"now": "2026-11-28T12:00:00Z",
		"now_unix": 1795867200,
	}
}

test_metadata if {
	m := data.phipolicy.hipaa.passwords_aging.metadata
	m.id == "passwords.aging"
	m.safeguard == "password-management"
	m.parameters == ["password_max_age_days", "password_min_age_days", "password_warn_age_days"]
}

test_hardened_passes if {
	r := result_for(hardened)
	r.status == "pass"
	r.reasons == [
		"PASS_MAX_DAYS is 90 at /etc/login.defs:165",
		"PASS_MIN_DAYS is 7 at /etc/login.defs:166",
		"PASS_WARN_AGE is 14 at /etc/login.defs:167",
		"account alice (uid 1000) has a maximum password age of 90 days at /etc/shadow:21",
	]
	{"path": "/etc/shadow", "line": 21, "detail": "alice: max-days field \"90\""} in r.evidence
	{"path": "/etc/login.defs", "line": 165, "detail": "PASS_MAX_DAYS 90"} in r.evidence
	r.remediation == data.phipolicy.hipaa.passwords_aging.metadata.remediation
}

test_debian_defaults_fail if {
	r := result_for(facts(debian_defs, [account("alice", 1000, "/bin/bash", "usable", 99999, 21)]))
	r.status == "fail"
	r.reasons == [
		"PASS_MAX_DAYS is 99999 at /etc/login.defs:165; password_max_age_days requires at most 90",
		"PASS_MIN_DAYS is 0 at /etc/login.defs:166; password_min_age_days requires at least 7",
		"PASS_WARN_AGE is 7 at /etc/login.defs:167; password_warn_age_days requires at least 14",
		concat(" ", [
			"account alice (uid 1000, /bin/bash) has a maximum password age of 99999 days at /etc/shadow:21;",
			"password_max_age_days requires at most 90",
		]),
	]
	contains(r.remediation, "PASS_MAX_DAYS 90")
	contains(r.remediation, "chage --maxdays 90 alice")
}

test_existing_account_with_99999_fails_alone if {
	f := facts(hardened_defs, [
		account("alice", 1000, "/bin/bash", "usable", 99999, 21),
		account("carol", 1002, "/bin/bash", "usable", 90, 24),
	])
	r := result_for(f)
	r.status == "fail"
	r.reasons == [concat(" ", [
		"account alice (uid 1000, /bin/bash) has a maximum password age of 99999 days at /etc/shadow:21;",
		"password_max_age_days requires at most 90",
	])]
	r.remediation == "- Existing accounts keep their old ageing; for each one run:\n  chage --maxdays 90 alice"
}

test_empty_max_days_means_no_limit if {
	r := result_for(facts(hardened_defs, [account("alice", 1000, "/bin/bash", "usable", null, 21)]))
	r.status == "fail"
	r.reasons == [concat(" ", [
		"account alice (uid 1000, /bin/bash) has no maximum password age (empty max-days field at /etc/shadow:21);",
		"password_max_age_days requires at most 90",
	])]
}

test_negative_max_days_means_no_limit if {
	r := result_for(facts(hardened_defs, [account("alice", 1000, "/bin/bash", "usable", -1, 21)]))
	r.status == "fail"
	testing.any_reason(r, "account alice")
}

test_account_without_shadow_entry if {
	alice := object.union(
		listed(account("alice", 1000, "/bin/bash", "usable", null, 21)),
		{"shadow_line": null, "max_days_field": null, "password_source": "passwd"}
	)
	f := facts(hardened_defs, [])
	accounts := {
		"total": 6,
		"uid_min": 1000,
		"login_count": 1,
		"max_days_counts": [{"max_days": null, "count": 1}],
		"login": [alice],
	}
	r := result_for(object.union(f, {"accounts": accounts}))
	r.status == "fail"
	testing.any_reason(r, "at /etc/passwd:21 (no /etc/shadow entry)")
}

test_accounts_that_cannot_log_in_with_a_password_are_skipped if {
	f := facts(hardened_defs, [
		account("locked", 1000, "/bin/bash", "locked", null, 21),
		account("nopass", 1001, "/bin/bash", "none", null, 22),
		account("empty", 1002, "/bin/bash", "empty", null, 23),
		account("service", 1004, "/usr/sbin/nologin", "usable", null, 24),
		account("system", 999, "/bin/bash", "usable", null, 25),
	])
	r := result_for(f)
	r.status == "pass"
	testing.any_reason(r, "no existing account with uid >= 1000, a login shell and a usable password")
}

test_uid_min_from_login_defs if {
	defs := object.union(hardened_defs, {"UID_MIN": def(500, 172)})
	r := result_for(facts(defs, [account("legacy", 600, "/bin/bash", "usable", 99999, 21)]))
	r.status == "fail"
	testing.any_reason(r, "account legacy (uid 600")
}

test_uid_min_unreadable_number_defaults_to_1000 if {
	defs := object.union(
		hardened_defs,
		{"UID_MIN": {"value": null, "raw": "09x", "path": "/etc/login.defs", "line": 172}}
	)
	r := result_for(facts(defs, [account("legacy", 600, "/bin/bash", "usable", 99999, 21)]))
	r.status == "pass"
}

test_login_defs_missing if {
	r := result_for(facts({"path": "/etc/login.defs", "exists": false}, []))
	r.status == "fail"
	r.reasons == [concat(" ", [
		"/etc/login.defs does not exist, so PASS_MAX_DAYS, PASS_MIN_DAYS and PASS_WARN_AGE use shadow's defaults (no",
		"ageing)",
	])]
	{"path": "/etc/login.defs", "line": 0, "detail": "file does not exist"} in r.evidence
	contains(r.remediation, "In /etc/login.defs set")
}

test_settings_absent if {
	defs := {
		"path": "/etc/login.defs",
		"exists": true,
		"readable": true,
		"PASS_MAX_DAYS": null,
		"PASS_MIN_DAYS": null,
		"PASS_WARN_AGE": null,
		"UID_MIN": null,
	}
	r := result_for(facts(defs, []))
	r.status == "fail"
	r.reasons == [
		concat(" ", [
			"PASS_MAX_DAYS is not set in /etc/login.defs (shadow's default applies: no ageing);",
			"password_max_age_days requires at most 90",
		]),
		concat(" ", [
			"PASS_MIN_DAYS is not set in /etc/login.defs (shadow's default applies: no ageing);",
			"password_min_age_days requires at least 7",
		]),
		concat(" ", [
			"PASS_WARN_AGE is not set in /etc/login.defs (shadow's default applies: no ageing);",
			"password_warn_age_days requires at least 14",
		]),
	]
}

test_value_shadow_cannot_read if {
	defs := object.union(
		hardened_defs,
		{"PASS_MAX_DAYS": {"value": null, "raw": "090", "path": "/etc/login.defs", "line": 165}}
	)
	r := result_for(facts(defs, []))
	r.status == "fail"
	r.reasons == [concat(" ", [
		"PASS_MAX_DAYS \"090\" at /etc/login.defs:165 is not a number shadow can read, so shadow falls back to no",
		"ageing; password_max_age_days requires at most 90",
	])]
}

test_negative_pass_max_days if {
	r := result_for(facts(object.union(hardened_defs, {"PASS_MAX_DAYS": def(-1, 165)}), []))
	r.status == "fail"
	testing.any_reason(r, "PASS_MAX_DAYS is -1 at /etc/login.defs:165, which means no maximum age")
}

test_boundaries_pass if {
	defs := object.union(
		hardened_defs,
		{"PASS_MAX_DAYS": def(60, 165), "PASS_MIN_DAYS": def(10, 166), "PASS_WARN_AGE": def(30, 167)}
	)
	result_for(facts(defs, [account("alice", 1000, "/bin/bash", "usable", 60, 21)])).status == "pass"
}

test_parameters_are_honoured if {
	r := data.phipolicy.hipaa.passwords_aging.result with input as {
		"facts": hardened,
		"params": object.union(params, {"password_max_age_days": 60}),
		"target": {
			"kind": "rootfs",
			"root": "/fixture",
			"os": {"id": "debian", "version_id": "12", "family": "debian"},
		},
		"now": "2026-11-28T12:00:00Z",
		"now_unix": 1795867200,
	}
	r.status == "fail"
	testing.any_reason(r, "PASS_MAX_DAYS is 90 at /etc/login.defs:165; password_max_age_days requires at most 60")
	contains(r.remediation, "chage --maxdays 60 alice")
}

test_unreadable_shadow_is_an_error if {
	f := object.union(hardened, {"unreadable": [{"path": "/etc/shadow", "error": "permission denied"}]})
	r := result_for(f)
	r.status == "error"
	r.reasons[0] == "/etc/shadow could not be read (permission denied), so password ageing cannot be judged"
}

test_missing_passwd_is_an_error if {
	f := object.union(hardened, {"accounts": null, "unreadable": [{"path": "/etc/passwd", "error": "not found"}]})
	r := result_for(f)
	r.status == "error"
	r.reasons == ["/etc/passwd could not be read (not found), so password ageing cannot be judged"]
}

# 60,000 login accounts, as a directory-backed host has: the plugin lists the worst 20 and counts
# every maximum age, and the policy counts the offenders it could not name.
many(stale_listed, counts) := object.union(hardened, {"accounts": {
	"total": 60010,
	"uid_min": 1000,
	"login_count": 60000,
	"max_days_counts": counts,
	"login": [listed(account(sprintf("u%v", [i]), 10000 + i, "/bin/bash", "usable", d, i + 2)) |
		some i in numbers.range(0, 19)
		d := stale_days(i, stale_listed)
	],
}})

stale_days(i, stale_listed) := null if {
	i < stale_listed
} else := 90

test_sixty_thousand_accounts_name_the_worst_and_count_the_rest if {
	r := result_for(many(20, [{"max_days": null, "count": 1500}, {"max_days": 90, "count": 58500}]))
	r.status == "fail"
	count(r.reasons) == 21
	testing.any_reason(r, "account u0 (uid 10000, /bin/bash) has no maximum password age")
	concat(" ", [
		"1480 more of the 60000 login accounts (uid >= 1000, a login shell, a usable password) have no maximum",
		"password age or one above 90 days; the 20 above are the worst",
	]) in r.reasons
	contains(r.remediation, "chage --maxdays 90 u19")
	contains(r.remediation, "The other 1480 accounts are not named here")
	count(r.evidence) == 24
}

test_sixty_thousand_accounts_with_a_few_offenders_name_them_all if {
	r := result_for(many(3, [{"max_days": null, "count": 3}, {"max_days": 90, "count": 59997}]))
	r.status == "fail"
	count(r.reasons) == 3
	not testing.any_reason(r, "more of the")
}

test_sixty_thousand_compliant_accounts_pass_with_a_summary if {
	r := result_for(many(0, [{"max_days": 60, "count": 100}, {"max_days": 90, "count": 59900}]))
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"all 60000 login accounts (uid >= 1000, a login shell, a usable password) have a maximum password age of at",
		"most 90 days; the 20 with the largest are named",
	]))
	count(r.reasons) == 24
}

test_unreadable_login_defs_is_an_error if {
	f := facts({"path": "/etc/login.defs", "exists": true, "readable": false}, [])
	r := result_for(object.union(f, {"unreadable": [{"path": "/etc/login.defs", "error": "permission denied"}]}))
	r.status == "error"
	not testing.any_reason(r, "is not set")
}

test_unreadable_group_is_not_an_error if {
	result_for(object.union(hardened, {"unreadable": [{"path": "/etc/group", "error": "not found"}]})).status == "pass"
}

# Tests of ids.unique: every status and every sub-check, on facts shaped like the unique-user-id
# plugin's output.
package phipolicy.hipaa.ids_unique_test

import data.phipolicy.testing

user(name, uid, gid, shell, line) := {
	"name": name, "uid": uid, "gid": gid, "shell": shell,
	"login_shell": not_nologin(shell), "password_in_shadow": true,
	"passwd_password_state": "usable", "path": "/etc/passwd", "line": line,
}

not_nologin(shell) := false if {
	shell in {"/usr/sbin/nologin", "/bin/false", "/bin/sync"}
} else := true

shadow(name, state, line) := {"name": name, "password_state": state, "path": "/etc/shadow", "line": line}

grp(name, gid, line) := {"name": name, "gid": gid, "members": [], "path": "/etc/group", "line": line}

db(path, entries) := {"path": path, "exists": true, "readable": true, "count": count(entries)}

clean_passwd := [
	user("root", 0, 0, "/bin/bash", 1),
	user("daemon", 1, 1, "/usr/sbin/nologin", 2),
	user("alice", 1000, 1000, "/bin/bash", 3),
]

clean_shadow := [shadow("root", "none", 1), shadow("daemon", "none", 2), shadow("alice", "usable", 3)]

clean_group := [grp("root", 0, 1), grp("daemon", 1, 2), grp("alice", 1000, 3)]

# The facts the plugin derives from these records (derived here the slow, obvious way).
facts_with(passwd, shadow_entries, group) := {
	"family": "debian",
	"passwd": db("/etc/passwd", passwd),
	"shadow": db("/etc/shadow", shadow_entries),
	"group": db("/etc/group", group),
	"duplicates": array.concat(
		array.concat(dups("user name", passwd, "name"), dups("UID", passwd, "uid")),
		array.concat(dups("group name", group, "name"), dups("GID", group, "gid")),
	),
	"uid_zero": [{"name": e.name, "shell": e.shell, "login_shell": e.login_shell, "path": e.path, "line": e.line} |
		some e in passwd
		e.uid == 0
	],
	"login_account_count": count(login_rows(passwd)),
	"login_accounts": array.slice(login_rows(passwd), 0, 20),
	"generic_login_accounts": [row |
		some row in login_rows(passwd)
		row[0] in {"admin", "shared", "guest", "test", "user"}
	],
	"empty_passwords": array.concat(
		[{"name": e.name, "field": "shadow", "path": s.path, "line": s.line, "account": account(e)} |
			some e in passwd
			e.password_in_shadow
			some s in shadow_entries
			s.name == e.name
			s.password_state == "empty"
		],
		[{"name": e.name, "field": "passwd", "path": e.path, "line": e.line, "account": account(e)} |
			some e in passwd
			not e.password_in_shadow
			e.passwd_password_state == "empty"
		],
	),
	"unreadable": [],
	"issues": [],
}

# Accounts with a login shell as the plugin's rows, in file order.
login_rows(passwd) := [[e.name, e.uid, e.gid, e.shell, e.line] |
	some e in passwd
	e.login_shell
]

account(e) := {"shell": e.shell, "login_shell": e.login_shell, "path": e.path, "line": e.line}

dups(field, entries, key) := [{"field": field, "value": v, "entries": records} |
	some v in {x[key] | some x in entries}
	records := [{"name": e.name, "path": e.path, "line": e.line} | some e in entries; e[key] == v]
	count(records) > 1
]

eval(facts) := r if {
	r := data.phipolicy.hipaa.ids_unique.result with input as {"facts": facts, "params": {}}
}

test_clean_passes if {
	r := eval(facts_with(clean_passwd, clean_shadow, clean_group))
	r.status == "pass"
	testing.any_reason(r, "3 users, 3 groups")
	count(r.evidence) == 2
}

test_duplicate_user_name_fails if {
	passwd := array.concat(clean_passwd, [user("alice", 1001, 1000, "/bin/bash", 4)])
	r := eval(facts_with(passwd, clean_shadow, clean_group))
	r.status == "fail"
	testing.any_reason(r, "user name alice appears twice: /etc/passwd:3 and /etc/passwd:4")
}

test_duplicate_uid_fails if {
	passwd := array.concat(clean_passwd, [user("carol", 1000, 1000, "/bin/bash", 4)])
	r := eval(facts_with(passwd, array.concat(clean_shadow, [shadow("carol", "usable", 4)]), clean_group))
	r.status == "fail"
	testing.any_reason(r, "UID 1000 is shared by alice (/etc/passwd:3) and carol (/etc/passwd:4)")
}

test_third_duplicate_is_reported_against_the_first if {
	passwd := array.concat(clean_passwd, [
		user("carol", 1000, 1000, "/bin/bash", 4),
		user("dave", 1000, 1000, "/bin/bash", 5),
	])
	r := eval(facts_with(passwd, clean_shadow, clean_group))
	testing.any_reason(r, "UID 1000 is shared by alice (/etc/passwd:3) and dave (/etc/passwd:5)")
	not testing.any_reason(r, "carol (/etc/passwd:4) and dave")
}

test_duplicate_group_name_fails if {
	r := eval(facts_with(clean_passwd, clean_shadow, array.concat(clean_group, [grp("alice", 1001, 4)])))
	r.status == "fail"
	testing.any_reason(r, "group name alice appears twice")
}

test_duplicate_gid_fails if {
	r := eval(facts_with(clean_passwd, clean_shadow, array.concat(clean_group, [grp("staff", 1000, 4)])))
	r.status == "fail"
	testing.any_reason(r, "GID 1000 is shared by groups alice (/etc/group:3) and staff (/etc/group:4)")
}

test_second_uid_zero_fails_even_without_shell if {
	passwd := array.concat(clean_passwd, [user("toor", 0, 0, "/usr/sbin/nologin", 4)])
	r := eval(facts_with(passwd, clean_shadow, clean_group))
	r.status == "fail"
	testing.any_reason(r, "toor has UID 0 (/etc/passwd:4)")
	some e in r.evidence
	e.detail == "toor UID 0"
}

test_empty_shadow_password_with_login_shell_fails if {
	shadow_entries := [shadow("root", "none", 1), shadow("daemon", "none", 2), shadow("alice", "empty", 3)]
	r := eval(facts_with(clean_passwd, shadow_entries, clean_group))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"alice can log in (shell /bin/bash, /etc/passwd:3) and its password field in /etc/shadow is empty",
		"(/etc/shadow:3)",
	]))
}

test_empty_shadow_password_without_login_shell_passes if {
	shadow_entries := [shadow("root", "none", 1), shadow("daemon", "empty", 2), shadow("alice", "usable", 3)]
	r := eval(facts_with(clean_passwd, shadow_entries, clean_group))
	r.status == "pass"
}

test_empty_password_in_passwd_fails if {
	u := object.union(
		user("bob", 1001, 1001, "", 4),
		{"password_in_shadow": false, "passwd_password_state": "empty"}
	)
	r := eval(facts_with(array.concat(clean_passwd, [u]), clean_shadow, clean_group))
	r.status == "fail"
	testing.any_reason(
		r,
		"bob can log in (shell empty, meaning /bin/sh) and its password field in /etc/passwd is empty"
	)
}

test_generic_login_name_fails if {
	passwd := array.concat(clean_passwd, [user("admin", 1003, 1003, "/bin/bash", 4)])
	r := eval(facts_with(passwd, clean_shadow, clean_group))
	r.status == "fail"
	testing.any_reason(r, "generic account admin has a login shell")
}

test_generic_name_without_login_shell_passes if {
	passwd := array.concat(clean_passwd, [user("guest", 1004, 1004, "/usr/sbin/nologin", 4)])
	r := eval(facts_with(passwd, clean_shadow, clean_group))
	r.status == "pass"
}

test_missing_shadow_is_error if {
	f := object.union(facts_with(clean_passwd, [], clean_group), {
		"shadow": {"path": "/etc/shadow", "exists": false, "readable": false, "count": 0},
		"unreadable": [{"path": "/etc/shadow", "error": "not found"}],
	})
	r := eval(f)
	r.status == "error"
	testing.any_reason(r, "/etc/shadow could not be read (not found)")
}

test_parse_issues_are_reported if {
	issue := {"path": "/etc/passwd", "line": 9, "message": "3 fields, expected 7"}
	f := object.union(facts_with(clean_passwd, clean_shadow, clean_group), {"issues": [issue]})
	r := eval(f)
	r.status == "pass"
	testing.any_reason(r, "/etc/passwd:9: 3 fields, expected 7 (the line was not used)")
}

test_metadata_is_complete if {
	m := data.phipolicy.hipaa.ids_unique.metadata
	m.id == "ids.unique"
	m.description != ""
	m.remediation != ""
}

many_logins := [user(sprintf("u%v", [i]), 1000 + i, 1000 + i, "/bin/bash", i) | some i in numbers.range(1, 30)]

test_login_accounts_beyond_the_listed_ones_are_counted if {
	r := eval(facts_with(many_logins, [], []))
	r.status == "pass"
	testing.any_reason(r, "30 users, 0 groups")
	count([e | some e in r.evidence; e.line > 0]) == 20
	some e in r.evidence
	e.detail == "30 accounts with a login shell; the first 20 are listed"
}

test_a_generic_account_after_the_listed_ones_fails if {
	r := eval(facts_with(array.concat(many_logins, [user("shared", 2000, 2000, "/bin/bash", 31)]), [], []))
	r.status == "fail"
	testing.any_reason(r, "generic account shared has a login shell (/bin/bash, /etc/passwd:31)")
}

test_a_shadow_record_without_account_is_evidence_not_a_failure if {
	ghost := {"name": "ghost", "field": "shadow", "path": "/etc/shadow", "line": 9, "account": null}
	f := object.union(facts_with(clean_passwd, clean_shadow, clean_group), {"empty_passwords": [ghost]})
	r := eval(f)
	r.status == "pass"
	some e in r.evidence
	e.detail == "ghost password field empty"
}

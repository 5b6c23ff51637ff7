# ids.unique: every login identifies exactly one person (no duplicate names or ids, no second UID 0,
# no password-less or generic login accounts).
package phipolicy.hipaa.ids_unique

metadata := {
	"id": "ids.unique",
	"safeguard": "unique-user-id",
	"cfr": ["164.312(a)(2)(i)"],
	"title": "Every account and group is unique, and no login account is shared or password-less",
	"severity": "high",
	"description": concat(" ", [
		"Reads /etc/passwd, /etc/shadow and /etc/group and checks that each user name and each UID appears once,",
		"each group name and each GID appears once, and only root has UID 0.",
		"An account that can log in (its shell is not nologin, false, true, sync, shutdown or halt; an empty shell",
		"field is /bin/sh) must not have an empty password field in /etc/shadow (or in /etc/passwd when the",
		"hash is kept there), since with PAM's nullok it logs in with no password at all.",
		"Generic names that cannot identify a person (admin, shared, guest, test, user) must not have a login shell.",
		"A database that is missing or unreadable makes the check an error, never a pass.",
	]),
	"parameters": [],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"group": ["object"], "issues": ["array"], "passwd": ["object"], "shadow": ["object"], "unreadable": ["array"]},
	"remediation": concat("\n", [
		"- Give every person their own account: rename or remove duplicate user and group entries (`vipw`, `vigr`; check with `pwck -r` and `grpck -r`).",
		"- Give extra UID 0 accounts their own UID or remove them; use sudo for administration instead.",
		"- Lock or set passwords on login accounts with an empty password field: `passwd -l NAME` or `passwd NAME`.",
		"- Replace shared accounts (admin, shared, guest, test, user) with personal accounts, or disable their login: `usermod -s /usr/sbin/nologin NAME`.",
	]),
}

facts := input.facts

generic_names := {"admin", "shared", "guest", "test", "user"}

databases := [facts.passwd, facts.shadow, facts.group]

read_errors contains msg if {
	some db in databases
	not db.readable
	some u in facts.unreadable
	u.path == db.path
	msg := sprintf("%s could not be read (%s), so account uniqueness cannot be checked", [db.path, u.error])
}

at(e) := sprintf("%s:%v", [e.path, e.line])

# Duplicates: every entry after the first with the same key.
duplicates(entries, key) := {[j, i] |
	some i, e in entries
	some j, first in entries
	j < i
	first[key] == e[key]
	not earlier_match(entries, key, j, e[key])
}

earlier_match(entries, key, j, value) if {
	some k, other in entries
	k < j
	other[key] == value
}

failures contains msg if {
	some pair in duplicates(facts.passwd.entries, "name")
	first := facts.passwd.entries[pair[0]]
	e := facts.passwd.entries[pair[1]]
	msg := sprintf("user name %s appears twice: %s and %s", [e.name, at(first), at(e)])
}

failures contains msg if {
	some pair in duplicates(facts.passwd.entries, "uid")
	first := facts.passwd.entries[pair[0]]
	e := facts.passwd.entries[pair[1]]
	msg := sprintf("UID %v is shared by %s (%s) and %s (%s)", [e.uid, first.name, at(first), e.name, at(e)])
}

failures contains msg if {
	some pair in duplicates(facts.group.entries, "name")
	first := facts.group.entries[pair[0]]
	e := facts.group.entries[pair[1]]
	msg := sprintf("group name %s appears twice: %s and %s", [e.name, at(first), at(e)])
}

failures contains msg if {
	some pair in duplicates(facts.group.entries, "gid")
	first := facts.group.entries[pair[0]]
	e := facts.group.entries[pair[1]]
	msg := sprintf("GID %v is shared by groups %s (%s) and %s (%s)", [e.gid, first.name, at(first), e.name, at(e)])
}

failures contains msg if {
	some e in facts.passwd.entries
	e.uid == 0
	e.name != "root"
	msg := sprintf("%s has UID 0 (%s): only root may, otherwise root's actions cannot be told apart", [e.name, at(e)])
}

shadow_entry(name) := s if {
	some s in facts.shadow.entries
	s.name == name
}

failures contains msg if {
	some e in facts.passwd.entries
	e.login_shell
	e.password_in_shadow
	s := shadow_entry(e.name)
	s.password_state == "empty"
	msg := sprintf("%s can log in (shell %s, %s) and its password field in /etc/shadow is empty (%s): no password is needed", [e.name, shell_name(e), at(e), at(s)])
}

failures contains msg if {
	some e in facts.passwd.entries
	e.login_shell
	not e.password_in_shadow
	e.passwd_password_state == "empty"
	msg := sprintf("%s can log in (shell %s) and its password field in /etc/passwd is empty (%s): no password is needed", [e.name, shell_name(e), at(e)])
}

failures contains msg if {
	some e in facts.passwd.entries
	e.login_shell
	e.name in generic_names
	msg := sprintf("generic account %s has a login shell (%s, %s): a shared name does not identify a person", [e.name, shell_name(e), at(e)])
}

shell_name(e) := e.shell if e.shell != ""

else := "empty, meaning /bin/sh"

parse_issues contains msg if {
	some i in facts.issues
	msg := sprintf("%s:%v: %s (the line was not used)", [i.path, i.line, i.message])
}

login_accounts := [e | some e in facts.passwd.entries; e.login_shell]

status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
} else := "pass"

pass_reasons := array.concat(
	[sprintf("%v users, %v groups: names, UIDs and GIDs are unique; only root has UID 0; %v accounts with a login shell, none with an empty password or a generic name", [count(facts.passwd.entries), count(facts.group.entries), count(login_accounts)])],
	sort(parse_issues),
)

reasons := array.concat(sort(read_errors), sort(failures)) if {
	status == "error"
} else := array.concat(sort(failures), sort(parse_issues)) if {
	status == "fail"
} else := pass_reasons

evidence_items contains {"path": e.path, "line": e.line, "detail": sprintf("%s UID %v GID %v shell %s", [e.name, e.uid, e.gid, e.shell])} if {
	some e in login_accounts
}

evidence_items contains {"path": e.path, "line": e.line, "detail": sprintf("%s UID 0", [e.name])} if {
	some e in facts.passwd.entries
	e.uid == 0
	not e.login_shell
}

evidence_items contains {"path": s.path, "line": s.line, "detail": sprintf("%s password field empty", [s.name])} if {
	some s in facts.shadow.entries
	s.password_state == "empty"
}

evidence_items contains {"path": db.path, "line": 0, "detail": sprintf("%s: %s", [db.path, u.error])} if {
	some db in databases
	not db.readable
	some u in facts.unreadable
	u.path == db.path
}

evidence := sort(evidence_items)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": metadata.remediation,
}

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
	"facts": {
		"duplicates": ["array"],
		"empty_passwords": ["array"],
		"generic_login_accounts": ["array"],
		"group": ["object"],
		"issues": ["array"],
		"login_account_count": ["number"],
		"login_accounts": ["array"],
		"passwd": ["object"],
		"shadow": ["object"],
		"uid_zero": ["array"],
		"unreadable": ["array"],
	},
	"remediation": concat("\n", [
		concat(" ", [
			"- Give every person their own account: rename or remove duplicate user and group entries (`vipw`,",
			"`vigr`; check with `pwck -r` and `grpck -r`).",
		]),
		"- Give extra UID 0 accounts their own UID or remove them; use sudo for administration instead.",
		"- Lock or set passwords on login accounts with an empty password field: `passwd -l NAME` or `passwd NAME`.",
		concat(" ", [
			"- Replace shared accounts (admin, shared, guest, test, user) with personal accounts, or disable their",
			"login: `usermod -s /usr/sbin/nologin NAME`.",
		]),
	]),
}

facts := input.facts

databases := [facts.passwd, facts.shadow, facts.group]

read_errors contains msg if {
	some db in databases
	not db.readable
	some u in facts.unreadable
	u.path == db.path
	msg := sprintf("%s could not be read (%s), so account uniqueness cannot be checked", [db.path, u.error])
}

at(e) := sprintf("%s:%v", [e.path, e.line])

# Names and ids recorded more than once: the plugin groups the records (one pass over the
# databases); every record after the first is reported against the first.
failures contains msg if {
	some d in facts.duplicates
	first := d.entries[0]
	some i, e in d.entries
	i > 0
	msg := duplicate_message(d.field, d.value, first, e)
}

duplicate_message("user name", value, first, e) := sprintf(
	"user name %s appears twice: %s and %s",
	[value, at(first), at(e)]
)

duplicate_message("UID", value, first, e) := sprintf(
	"UID %v is shared by %s (%s) and %s (%s)",
	[value, first.name, at(first), e.name, at(e)]
)

duplicate_message("group name", value, first, e) := sprintf(
	"group name %s appears twice: %s and %s",
	[value, at(first), at(e)]
)

duplicate_message("GID", value, first, e) := sprintf(
	"GID %v is shared by groups %s (%s) and %s (%s)",
	[value, first.name, at(first), e.name, at(e)]
)

failures contains msg if {
	some e in facts.uid_zero
	e.name != "root"
	msg := sprintf(
		"%s has UID 0 (%s): only root may, otherwise root's actions cannot be told apart",
		[e.name, at(e)]
	)
}

failures contains msg if {
	some p in facts.empty_passwords
	p.field == "shadow"
	p.account.login_shell
	msg := sprintf(
		"%s can log in (shell %s, %s) and its password field in /etc/shadow is empty (%s): no password is needed",
		[p.name, shell_name(p.account), at(p.account), at(p)]
	)
}

failures contains msg if {
	some p in facts.empty_passwords
	p.field == "passwd"
	p.account.login_shell
	msg := sprintf(
		"%s can log in (shell %s) and its password field in /etc/passwd is empty (%s): no password is needed",
		[p.name, shell_name(p.account), at(p)]
	)
}

# Login accounts with a generic name (admin, shared, guest, test, user: the plugin lists them
# all, so a host with tens of thousands of accounts is not walked here).
failures contains msg if {
	some row in facts.generic_login_accounts
	e := login_account(row)
	msg := sprintf(
		"generic account %s has a login shell (%s, %s:%v): a shared name does not identify a person",
		[e.name, shell_name(e), facts.passwd.path, e.line]
	)
}

shell_name(e) := e.shell if e.shell != ""

else := "empty, meaning /bin/sh"

parse_issues contains msg if {
	some i in facts.issues
	msg := sprintf("%s:%v: %s (the line was not used)", [i.path, i.line, i.message])
}

# Accounts with a login shell: the plugin sends rows of [name, uid, gid, shell, line], the first
# ones in file order (`login_accounts`) and every one with a generic name, with their count.
login_account([name, uid, gid, shell, line]) := {
	"name": name,
	"uid": uid,
	"gid": gid,
	"shell": shell,
	"line": line,
}

login_count := facts.login_account_count

# Login accounts cited one by one in the evidence; the rest are counted (a directory-backed host
# has tens of thousands).
max_listed_accounts := 20

default status := "pass"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

pass_summary := sprintf(concat(" ", [
	"%v users, %v groups: names, UIDs and GIDs are unique; only root has UID 0; %v accounts with a login shell,",
	"none with an empty password or a generic name",
]), [facts.passwd.count, facts.group.count, login_count])

pass_reasons := array.concat([pass_summary], sort(parse_issues))

reasons := array.concat(sort(read_errors), sort(failures)) if {
	status == "error"
} else := array.concat(sort(failures), sort(parse_issues)) if {
	status == "fail"
} else := pass_reasons

evidence_items contains {"path": facts.passwd.path, "line": e.line, "detail": detail} if {
	some row in array.slice(facts.login_accounts, 0, max_listed_accounts)
	e := login_account(row)
	detail := sprintf("%s UID %v GID %v shell %s", [e.name, e.uid, e.gid, e.shell])
}

evidence_items contains {"path": facts.passwd.path, "line": 0, "detail": detail} if {
	login_count > max_listed_accounts
	detail := sprintf("%v accounts with a login shell; the first %v are listed", [login_count, max_listed_accounts])
}

evidence_items contains {"path": e.path, "line": e.line, "detail": sprintf("%s UID 0", [e.name])} if {
	some e in facts.uid_zero
	not e.login_shell
}

evidence_items contains {"path": p.path, "line": p.line, "detail": sprintf("%s password field empty", [p.name])} if {
	some p in facts.empty_passwords
	p.field == "shadow"
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

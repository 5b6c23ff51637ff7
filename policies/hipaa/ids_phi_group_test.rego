# Tests of ids.phi-group: every status and every sub-check, on facts shaped like the unique-user-id
# plugin's output.
package phipolicy.hipaa.ids_phi_group_test

import data.phipolicy.testing

account(shell, login, line) := {
	"uid": 1000 + line,
	"shell": shell,
	"login_shell": login,
	"path": "/etc/passwd",
	"line": line,
}

listed(name, acct) := {"name": name, "via": "member-list", "path": "/etc/group", "line": 40, "account": acct}

primary(name, acct) := {"name": name, "via": "primary-gid", "path": "/etc/passwd", "line": acct.line, "account": acct}

group(members) := {
	"name": "phi-access",
	"exists": true,
	"gid": 1500,
	"path": "/etc/group",
	"line": 40,
	"members": members,
}

readable(path) := {"path": path, "exists": true, "readable": true, "entries": []}

facts_with(g) := {
	"passwd": readable("/etc/passwd"),
	"shadow": readable("/etc/shadow"),
	"group": readable("/etc/group"),
	"phi_group": g,
	"unreadable": [],
	"issues": [],
}

eval(facts) := r if {
	r := data.phipolicy.hipaa.ids_phi_group.result with input as {
		"facts": facts,
		"params": {"phi_group": "phi-access"},
	}
}

test_members_with_login_shells_pass if {
	r := eval(facts_with(group([
		listed("alice", account("/bin/bash", true, 19)),
		primary("dave", account("/bin/bash", true, 21)),
	])))
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"has 2 members, all existing accounts with a login shell: alice (listed on /etc/group:40), dave (primary",
		"group of /etc/passwd:21)",
	]))
	count(r.evidence) == 3
}

test_missing_group_fails if {
	r := eval(facts_with({
		"name": "phi-access",
		"exists": false,
		"gid": null,
		"path": "/etc/group",
		"line": 0,
		"members": [],
	}))
	r.status == "fail"
	testing.any_reason(r, "group phi-access does not exist in /etc/group")
	r.evidence == [{"path": "/etc/group", "line": 0, "detail": "no group named phi-access"}]
}

test_empty_group_fails if {
	r := eval(facts_with(group([])))
	r.status == "fail"
	testing.any_reason(r, "has no members")
}

test_member_without_account_fails if {
	r := eval(facts_with(group([listed("alice", account("/bin/bash", true, 19)), listed("mallory", null)])))
	r.status == "fail"
	testing.any_reason(
		r,
		"mallory is a member of phi-access (listed on /etc/group:40) but has no account in /etc/passwd"
	)
}

test_member_without_login_shell_fails if {
	r := eval(facts_with(group([listed("sshd", account("/sbin/nologin", false, 14))])))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"sshd is a member of phi-access (listed on /etc/group:40) but cannot log in (shell /sbin/nologin at",
		"/etc/passwd:14)",
	]))
}

test_unreadable_group_file_is_error if {
	f := object.union(facts_with(group([])), {
		"group": {"path": "/etc/group", "exists": true, "readable": false, "entries": []},
		"unreadable": [{"path": "/etc/group", "error": "permission denied"}],
	})
	r := eval(f)
	r.status == "error"
	testing.any_reason(r, "/etc/group could not be read (permission denied)")
}

test_metadata_is_complete if {
	m := data.phipolicy.hipaa.ids_phi_group.metadata
	m.id == "ids.phi-group"
	"phi_group" in m.parameters
	m.remediation != ""
}

# ids.phi-group: the group that grants access to PHI exists and holds only real, login-capable people.
package phipolicy.hipaa.ids_phi_group

metadata := {
	"id": "ids.phi-group",
	"safeguard": "unique-user-id",
	"cfr": ["164.312(a)(2)(i)"],
	"title": "The PHI access group exists and its members are existing login accounts",
	"severity": "medium",
	"description": concat(" ", [
		"Role-based access to PHI starts with one group (parameter phi_group, default phi-access).",
		"The group must exist in /etc/group (a missing group is a failure, not 'not applicable') and have members.",
		"Members are the users listed on the group's line plus the accounts whose primary GID in /etc/passwd is",
		"the group's GID (both get the group's access). Every member must exist in /etc/passwd and have a login",
		"shell (not nologin, false, true, sync, shutdown or halt); a listed name without an account is a",
		"leftover that a future account of that name would inherit.",
		"When the group name appears on several lines, the first one is the group the C library returns.",
		"/etc/passwd or /etc/group missing or unreadable makes the check an error.",
	]),
	"parameters": ["phi_group"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"group": ["object"], "passwd": ["object"], "phi_group": ["object"], "unreadable": ["array"]},
	"remediation": concat("\n", [
		concat(" ", [
			"- Create the group and add the people who need PHI access: `groupadd phi-access` then `usermod -aG",
			"phi-access NAME` (or `gpasswd -a NAME phi-access`).",
		]),
		"- Remove members that have no account or cannot log in: `gpasswd -d NAME phi-access`.",
		"- Restrict the PHI directories and SSH to this group (integrity.phi-permissions, auth.ssh AllowGroups).",
	]),
}

facts := input.facts

group := facts.phi_group

required := [facts.passwd, facts.group]

read_errors contains msg if {
	some db in required
	not db.readable
	some u in facts.unreadable
	u.path == db.path
	msg := sprintf("%s could not be read (%s), so the members of %s cannot be checked", [db.path, u.error, group.name])
}

via_text(m) := sprintf("listed on %s:%v", [m.path, m.line]) if m.via == "member-list"

else := sprintf("primary group of %s:%v", [m.path, m.line])

failures contains msg if {
	not group.exists
	msg := sprintf("group %s does not exist in /etc/group: nobody is assigned PHI access by role", [group.name])
}

failures contains msg if {
	group.exists
	count(group.members) == 0
	msg := sprintf(
		"group %s (%s:%v) has no members: neither its member list nor any account's primary GID %v",
		[group.name, group.path, group.line, group.gid]
	)
}

failures contains msg if {
	some m in group.members
	m.account == null
	msg := sprintf("%s is a member of %s (%s) but has no account in /etc/passwd", [m.name, group.name, via_text(m)])
}

failures contains msg if {
	some m in group.members
	m.account != null
	not m.account.login_shell
	msg := sprintf(concat(" ", [
		"%s is a member of %s (%s) but cannot log in (shell %s at %s:%v): a service or disabled account does not",
		"belong in the PHI group",
	]), [m.name, group.name, via_text(m), m.account.shell, m.account.path, m.account.line])
}

default status := "pass"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

member_names := [sprintf("%s (%s)", [m.name, via_text(m)]) | some m in group.members]

reasons := sort(read_errors) if {
	status == "error"
} else := sort(failures) if {
	status == "fail"
} else := [sprintf(
	"group %s (GID %v, %s:%v) has %v members, all existing accounts with a login shell: %s",
	[group.name, group.gid, group.path, group.line, count(group.members), concat(", ", member_names)]
)]

evidence_items contains {
	"path": group.path,
	"line": group.line,
	"detail": sprintf("group %s GID %v", [group.name, group.gid]),
} if {
	group.exists
}

evidence_items contains {"path": group.path, "line": 0, "detail": sprintf("no group named %s", [group.name])} if {
	not group.exists
}

evidence_items contains {
	"path": m.account.path,
	"line": m.account.line,
	"detail": sprintf("member %s UID %v shell %s", [m.name, m.account.uid, m.account.shell]),
} if {
	some m in group.members
	m.account != null
}

evidence := sort(evidence_items)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": metadata.remediation,
}

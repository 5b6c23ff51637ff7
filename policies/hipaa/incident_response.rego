# incident.response: the incident response script and evidence directory exist and only root can change them.
package phipolicy.hipaa.incident_response

import data.phipolicy.lib

metadata := {
	"id": "incident.response",
	"safeguard": "incident-response",
	"cfr": ["164.308(a)(6)(ii)"],
	"title": "An incident response script and a root-only evidence directory are in place",
	"severity": "medium",
	"description": concat(" ", [
		"Checks that incident_script exists, is a regular file (a symlink is followed to it), is executable, is",
		"owned by root",
		"and is neither group- nor world-writable (anyone who can change it controls what runs during an incident);",
		"and that incident_evidence_dir exists, is a directory owned by root and grants no access to others",
		"(mode ending in 0),",
		"because collected evidence can hold PHI and must not be altered.",
		"The script's contents are not judged.",
	]),
	"parameters": ["incident_script", "incident_evidence_dir"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"evidence_dir": ["object"], "script": ["object"]},
	"remediation": concat("\n", [
		"Install the response script and the evidence directory root-only:",
		"  install -o root -g root -m 0750 hipaa-incident-response.sh /usr/local/bin/hipaa-incident-response.sh",
		"  install -d -o root -g root -m 0700 /var/log/hipaa-incidents",
	]),
}

script := input.facts.script

dir := input.facts.evidence_dir

has_bits(mode, mask) if bits.and(mode, mask) != 0

link_note(f) := sprintf(" (a symlink to %s)", [f.symlink_to]) if {
	is_string(f.symlink_to)
} else := ""

read_errors contains sprintf("%s could not be examined: %s", [f.path, f.error]) if {
	some f in [script, dir]
	is_string(f.error)
}

failures contains sprintf("the incident response script %s does not exist", [script.path]) if {
	script.exists == false
	not is_string(script.error)
}

failures contains sprintf(
	"the incident response script %s%s is a %s, not a regular file",
	[script.path, link_note(script), script.kind]
) if {
	script.exists == true
	script.kind != "regular"
}

failures contains sprintf(
	"the incident response script %s%s is not executable (mode %s)",
	[script.path, link_note(script), script.mode_octal]
) if {
	script.kind == "regular"
	not has_bits(script.mode, 73) # 0111
}

failures contains sprintf(
	"the incident response script %s%s is owned by uid %v, not root",
	[script.path, link_note(script), script.uid]
) if {
	script.exists == true
	script.uid != 0
}

# The write bits the script must not have, and whose they are.
foreign_write := [{"bits": 16, "who": "group"}, {"bits": 2, "who": "world"}] # 0020, 0002

failures contains sprintf(
	"the incident response script %s%s is %s-writable (mode %s): others could change what runs during an incident",
	[script.path, link_note(script), w.who, script.mode_octal]
) if {
	script.exists == true
	some w in foreign_write
	has_bits(script.mode, w.bits)
}

failures contains sprintf("the incident evidence directory %s does not exist", [dir.path]) if {
	dir.exists == false
	not is_string(dir.error)
}

failures contains sprintf(
	"the incident evidence directory %s%s is a %s, not a directory",
	[dir.path, link_note(dir), dir.kind]
) if {
	dir.exists == true
	dir.kind != "directory"
}

failures contains sprintf("the incident evidence directory %s is owned by uid %v, not root", [dir.path, dir.uid]) if {
	dir.exists == true
	dir.uid != 0
}

failures contains sprintf(concat(" ", [
	"the incident evidence directory %s grants access to all users (mode %s): evidence may hold PHI and must not be",
	"readable or changeable by others",
]), [dir.path, dir.mode_octal]) if {
	dir.kind == "directory"
	has_bits(dir.mode, 7) # 0007
}

default status := "pass"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

reasons := sort(read_errors) if {
	status == "error"
} else := sort(failures) if {
	status == "fail"
} else := [sprintf(concat(" ", [
	"%s%s is a root-owned executable (mode %s), not group- or world-writable; %s is a root-owned directory without",
	"access for others (mode %s)",
]), [script.path, link_note(script), script.mode_octal, dir.path, dir.mode_octal])]

evidence := sort([{"path": f.path, "line": 0, "detail": detail(f)} | some f in [script, dir]])

detail(f) := sprintf("could not be examined: %s", [f.error]) if {
	is_string(f.error)
} else := "does not exist" if {
	f.exists == false
} else := sprintf("%s%s, mode %s, uid %v, gid %v", [f.kind, link_note(f), f.mode_octal, f.uid, f.gid])

steps contains {"order": 1, "text": sprintf(concat(" ", [
	"Write the incident response script (it should preserve volatile evidence such as sessions, sockets, processes",
	"and logs into %s) and install it root-only: `install -o root -g root -m 0750 hipaa-incident-response.sh %s`.",
]), [dir.path, script.path])} if {
	script.exists == false
}

steps contains {
	"order": 1,
	"text": sprintf("Make the script root-only: `chown root:root %s && chmod 0750 %s`.", [script.path, script.path]),
} if {
	script.exists == true
	some msg in failures
	contains(msg, "incident response script")
}

steps contains {"order": 2, "text": sprintf(concat(" ", [
	"Create the evidence directory root-only: `install -d -o root -g root -m 0700 %s` (or `chown root:root %s &&",
	"chmod 0700 %s`).",
]), [dir.path, dir.path, dir.path])} if {
	some msg in failures
	contains(msg, "incident evidence directory")
}

steps contains {"order": 0, "text": "Make the paths in the reasons readable to the scan, then rerun."} if {
	status == "error"
}

remediation := lib.remediation(steps, metadata.remediation)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

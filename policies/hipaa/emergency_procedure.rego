# emergency.procedure: a break-glass procedure is documented (never pass on absence: manual).
package phipolicy.hipaa.emergency_procedure

metadata := {
	"id": "emergency.procedure",
	"safeguard": "emergency-access",
	"cfr": ["164.312(a)(2)(ii)"],
	"title": "An emergency (break-glass) access procedure is documented",
	"severity": "medium",
	"description": concat(" ", [
		"Looks for the documented emergency access procedure at each of emergency_procedure_paths.",
		"A regular file with content (more than whitespace) at one of them passes; its contents are not judged.",
		"Absent or empty: manual, because the procedure may be documented elsewhere and only a person can attest",
		"where;",
		"this control never fails and never passes without the document.",
	]),
	"parameters": ["emergency_procedure_paths"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"documents": ["array"]},
	"remediation": concat("\n", [
		concat(" ", [
			"Write the break-glass procedure (who approves, where the emergency credentials are kept, how their use",
			"is logged and how they are rotated afterwards) to /etc/hipaa/emergency-access.md,",
		]),
		"or set emergency_procedure_paths to where it is kept.",
	]),
}

docs := input.facts.documents

documented := [d | some d in docs; d.kind == "regular"; d.blank == false; not is_string(d.error)]

read_errors contains sprintf("%s could not be read: %s", [d.path, d.error]) if {
	count(documented) == 0
	some d in docs
	is_string(d.error)
}

default status := "manual"
status := "pass" if {
	count(documented) > 0
} else := "error" if {
	count(read_errors) > 0
}

describe(d) := "does not exist" if {
	d.exists == false
	not is_string(d.error)
} else := sprintf("could not be read: %s", [d.error]) if {
	is_string(d.error)
} else := sprintf("is a %s, not a document", [d.kind]) if {
	d.kind != "regular"
} else := "is empty (only whitespace)" if {
	d.blank == true
} else := sprintf("documents the procedure (%v bytes; begins %q)", [d.size, d.first_line])

reasons := [sprintf("%s %s", [d.path, describe(d)]) | some d in documented] if {
	status == "pass"
} else := sort(read_errors) if {
	status == "error"
} else := [sprintf(
	"no emergency access procedure was found (%s): %s",
	[concat("; ", [sprintf("%s %s", [d.path, describe(d)]) | some d in docs]), attest]
)] if {
	count(docs) > 0
} else := [sprintf("emergency_procedure_paths is empty: %s", [attest])]

# What settles the control when no document is found.
attest := "a person must attest where the break-glass procedure is documented"

evidence := sort([{"path": d.path, "line": 0, "detail": describe(d)} | some d in docs])

remediation := metadata.remediation

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

# Tests for emergency.procedure: documented, empty, absent, not a file, unreadable, no paths.
package phipolicy.hipaa.emergency_procedure_test

import data.phipolicy.testing

path := "/etc/hipaa/emergency-access.md"

doc := {
	"path": path,
	"exists": true,
	"kind": "regular",
	"size": 512,
	"blank": false,
	"first_line": "# Emergency (break-glass) access",
	"error": null,
}

run(docs) := r if {
	r := data.phipolicy.hipaa.emergency_procedure.result with input as {
		"facts": {"documents": docs},
		"params": {"emergency_procedure_paths": [d.path | some d in docs]},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
	}
}

test_metadata if {
	m := data.phipolicy.hipaa.emergency_procedure.metadata
	m.id == "emergency.procedure"
	m.parameters == ["emergency_procedure_paths"]
	contains(m.description, "never fails")
}

test_documented_passes if {
	r := run([{"path": "/srv/none.md", "exists": false, "error": null}, doc])
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"/etc/hipaa/emergency-access.md documents the procedure (512 bytes; begins \"# Emergency (break-glass)",
		"access\")",
	]))
	count(r.evidence) == 2
}

test_missing_is_manual if {
	r := run([{"path": path, "exists": false, "error": null}])
	r.status == "manual"
	testing.any_reason(r, "/etc/hipaa/emergency-access.md does not exist")
	contains(r.remediation, "emergency_procedure_paths")
}

test_blank_is_manual if {
	r := run([object.union(doc, {"blank": true, "size": 2, "first_line": null})])
	r.status == "manual"
	testing.any_reason(r, "is empty (only whitespace)")
}

test_directory_is_manual if {
	r := run([{"path": path, "exists": true, "kind": "directory", "size": 4096, "error": null}])
	r.status == "manual"
	testing.any_reason(r, "is a directory, not a document")
}

test_unreadable_is_error_unless_another_documents_it if {
	bad := {"path": "/root/ea.md", "exists": true, "kind": "regular", "size": 10, "error": "permission denied"}
	r := run([bad])
	r.status == "error"
	testing.any_reason(r, "/root/ea.md could not be read: permission denied")
	run([bad, doc]).status == "pass"
}

test_no_paths_is_manual if {
	r := run([])
	r.status == "manual"
	testing.any_reason(r, "emergency_procedure_paths is empty")
}

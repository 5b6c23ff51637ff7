# Tests for incident.response: each sub-check of the script and the evidence directory.
package phipolicy.hipaa.incident_response_test

import data.phipolicy.testing

script_at(mode, uid) := {
	"path": "/usr/local/bin/hipaa-incident-response.sh",
	"exists": true,
	"kind": "regular",
	"mode": mode,
	"mode_octal": sprintf("0%s", [format_int(mode, 8)]),
	"uid": uid,
	"gid": 0,
	"symlink_to": null,
	"error": null,
}

dir_at(mode, uid) := {
	"path": "/var/log/hipaa-incidents",
	"exists": true,
	"kind": "directory",
	"mode": mode,
	"mode_octal": sprintf("0%s", [format_int(mode, 8)]),
	"uid": uid,
	"gid": 0,
	"symlink_to": null,
	"error": null,
}

missing(path) := {"path": path, "exists": false, "symlink_to": null, "error": null}

run(script, dir) := r if {
	r := data.phipolicy.hipaa.incident_response.result with input as {
		"facts": {"script": script, "evidence_dir": dir},
		"params": {"incident_script": script.path, "incident_evidence_dir": dir.path},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "rocky", "version_id": "9.3", "family": "rhel"}},
	}
}

test_metadata if {
	m := data.phipolicy.hipaa.incident_response.metadata
	m.id == "incident.response"
	m.parameters == ["incident_script", "incident_evidence_dir"]
}

test_root_only_script_and_directory_pass if {
	r := run(script_at(488, 0), dir_at(448, 0)) # 0750, 0700
	r.status == "pass"
	testing.any_reason(r, "mode 0750")
	r2 := run(script_at(493, 0), dir_at(488, 0)) # 0755, 0750
	r2.status == "pass"
}

test_symlinked_script_is_named if {
	r := run(object.union(script_at(488, 0), {"symlink_to": "/opt/ir/respond.sh"}), dir_at(448, 0))
	r.status == "pass"
	testing.any_reason(r, "(a symlink to /opt/ir/respond.sh)")
}

test_missing_both_fail if {
	r := run(missing("/usr/local/bin/hipaa-incident-response.sh"), missing("/var/log/hipaa-incidents"))
	r.status == "fail"
	testing.any_reason(r, "script /usr/local/bin/hipaa-incident-response.sh does not exist")
	testing.any_reason(r, "directory /var/log/hipaa-incidents does not exist")
	contains(r.remediation, "install -d -o root -g root -m 0700 /var/log/hipaa-incidents")
	startswith(r.remediation, "Write the incident response script")
	some e in r.evidence
	e.detail == "does not exist"
}

test_script_checks if {
	testing.any_reason(run(script_at(420, 0), dir_at(448, 0)), "is not executable (mode 0644)")
	testing.any_reason(run(script_at(488, 1000), dir_at(448, 0)), "owned by uid 1000, not root")
	testing.any_reason(run(script_at(504, 0), dir_at(448, 0)), "is group-writable (mode 0770)")
	testing.any_reason(run(script_at(511, 0), dir_at(448, 0)), "is world-writable (mode 0777)")
	r := run(object.union(script_at(493, 0), {"kind": "directory"}), dir_at(448, 0))
	r.status == "fail"
	testing.any_reason(r, "is a directory, not a regular file")
	startswith(
		r.remediation,
		"Make the script root-only: `chown root:root /usr/local/bin/hipaa-incident-response.sh && chmod 0750"
	)
}

test_directory_checks if {
	r := run(script_at(488, 0), dir_at(493, 0))
	r.status == "fail"
	testing.any_reason(r, "grants access to all users (mode 0755)")
	testing.any_reason(run(script_at(488, 0), dir_at(448, 33)), "owned by uid 33, not root")
	testing.any_reason(
		run(script_at(488, 0), object.union(dir_at(420, 0), {"kind": "regular"})),
		"is a regular, not a directory"
	)
}

test_unexaminable_path_is_error if {
	r := run(
		script_at(488, 0),
		{"path": "/var/log/hipaa-incidents", "exists": false, "symlink_to": null, "error": "permission denied"}
	)
	r.status == "error"
	testing.any_reason(r, "could not be examined: permission denied")
	contains(r.remediation, "readable to the scan")
	some e in r.evidence
	e.detail == "could not be examined: permission denied"
}

# Tests for risk.evidence: recent, stale, future-dated, absent and unreadable evidence.
package phipolicy.hipaa.risk_evidence_test

import data.phipolicy.testing

now := 1795867200 # 2026-11-28T12:00:00Z

day := 86400

glob := "/var/log/hipaa-risk-assessment-*.txt"

file(date, mtime) := {
	"path": sprintf("/var/log/hipaa-risk-assessment-%s.txt", [date]),
	"kind": "regular",
	"mtime": mtime,
	"size": 120,
}

run(matches, errors, max_days) := r if {
	r := data.phipolicy.hipaa.risk_evidence.result with input as {
		"facts": {"glob": glob, "matches": matches, "errors": errors},
		"params": {"risk_evidence_glob": glob, "risk_evidence_max_age_days": max_days},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
		"now": "2026-11-28T12:00:00Z",
		"now_unix": now,
	}
}

test_metadata if {
	m := data.phipolicy.hipaa.risk_evidence.metadata
	m.id == "risk.evidence"
	m.parameters == ["risk_evidence_glob", "risk_evidence_max_age_days"]
}

test_newest_recent_file_passes if {
	r := run([file("2025-06-30", now - (516 * day)), file("2026-06-30", now - (151 * day))], [], 365)
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"the newest risk-assessment evidence /var/log/hipaa-risk-assessment-2026-06-30.txt was modified",
		"2026-06-30T12:00:00Z, 151 days before the evaluation time (limit 365 days)",
	]))
	count(r.evidence) == 2
}

test_stale_only_fails if {
	r := run([file("2024-01-15", now - (1048 * day))], [], 365)
	r.status == "fail"
	testing.any_reason(r, "older than risk_evidence_max_age_days (365)")
	testing.any_reason(r, "1048 days before")
	run([file("x", now - (365 * day))], [], 365).status == "pass"
}

test_future_file_counts if {
	r := run([file("f", now + 60)], [], 30)
	r.status == "pass"
	testing.any_reason(r, "counted as recent")
}

test_none_is_manual if {
	r := run([], [], 365)
	r.status == "manual"
	testing.any_reason(r, "no regular file matches /var/log/hipaa-risk-assessment-*.txt")
}

test_directory_match_is_not_evidence if {
	r := run(
		[{"path": "/var/log/hipaa-risk-assessment-x.txt", "kind": "directory", "mtime": now, "size": 4096}],
		[],
		365
	)
	r.status == "manual"
	some e in r.evidence
	contains(e.detail, "is a directory, not a file")
}

test_unexaminable_match_is_error_without_fresh_evidence if {
	errs := [{"path": "/var/log", "error": "could not be listed: permission denied"}]
	r := run([], errs, 365)
	r.status == "error"
	testing.any_reason(r, "/var/log could not be listed: permission denied")
	contains(r.remediation, "readable to the scan")
	run([file("a", now - day)], errs, 365).status == "pass"
}

# Tests for backup.restore-tested: recent, stale, future-dated, missing and unreadable records.
package phipolicy.hipaa.backup_restore_tested_test

import data.phipolicy.testing

now := 1795867200 # 2026-11-28T12:00:00Z

day := 86400

dir_ok := {
	"path": "/var/log/hipaa-restore-tests",
	"exists": true,
	"kind": "directory",
	"mode": 493,
	"mode_octal": "0755",
	"uid": 0,
	"gid": 0,
	"size": 4096,
	"mtime": 0,
	"error": null,
}

rt(records, extra) := object.union({"dir": dir_ok, "records": records, "other_entries": [], "errors": []}, extra)

rec(name, mtime) := {"path": sprintf("/var/log/hipaa-restore-tests/%s", [name]), "mtime": mtime, "size": 80}

run(restore_tests, max_days) := r if {
	r := data.phipolicy.hipaa.backup_restore_tested.result with input as {
		"facts": {"restore_tests": restore_tests},
		"params": {"restore_test_records": "/var/log/hipaa-restore-tests", "restore_test_max_age_days": max_days},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
		"now": "2026-11-28T12:00:00Z",
		"now_unix": now,
	}
}

test_metadata if {
	m := data.phipolicy.hipaa.backup_restore_tested.metadata
	m.id == "backup.restore-tested"
	m.parameters == ["restore_test_records", "restore_test_max_age_days"]
}

test_recent_record_passes if {
	r := run(rt([rec("old.log", now - (800 * day)), rec("2026-10-02.log", now - (57 * day))], {}), 365)
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"the newest restore-test record /var/log/hipaa-restore-tests/2026-10-02.log was modified",
		"2026-10-02T12:00:00Z, 57 days before the evaluation time (limit 365 days)",
	]))
	some e in r.evidence
	e.detail == "2 restore-test record(s)"
}

test_limit_is_inclusive if {
	run(rt([rec("a", now - (365 * day))], {}), 365).status == "pass"
	run(rt([rec("a", (now - (365 * day)) - 1)], {}), 365).status == "fail"
}

test_stale_records_fail if {
	r := run(rt([rec("2024-06-01.txt", now - (910 * day))], {}), 365)
	r.status == "fail"
	testing.any_reason(r, "every restore-test record is older than restore_test_max_age_days (365)")
	testing.any_reason(r, "910 days before")
}

test_future_record_counts_and_is_reported if {
	r := run(rt([rec("f", now + 3600)], {}), 0)
	r.status == "pass"
	testing.any_reason(r, "modified after the evaluation time (2026-11-28T12:00:00Z); counted as recent")
}

test_no_directory_is_manual if {
	r := run(rt([], {"dir": {"path": "/var/log/hipaa-restore-tests", "exists": false, "error": null}}), 365)
	r.status == "manual"
	testing.any_reason(r, "does not exist")
}

test_empty_directory_is_manual if {
	r := run(rt([], {"other_entries": [{"path": "/var/log/hipaa-restore-tests/fifo", "kind": "fifo"}]}), 365)
	r.status == "manual"
	testing.any_reason(r, "holds no record")
	some e in r.evidence
	e.detail == "not a record: fifo"
}

test_not_a_directory_is_manual if {
	r := run(rt([], {"dir": object.union(dir_ok, {"kind": "regular"})}), 365)
	r.status == "manual"
	testing.any_reason(r, "is a regular, not a directory")
}

test_unreadable_directory_is_error if {
	r := run(
		rt([], {"dir": {"path": "/var/log/hipaa-restore-tests", "exists": false, "error": "permission denied"}}),
		365
	)
	r.status == "error"
	testing.any_reason(r, "could not be examined: permission denied")
	contains(r.remediation, "readable to the scan")
}

test_walk_errors_matter_only_without_a_fresh_record if {
	errs := {"errors": [{"path": "/var/log/hipaa-restore-tests/private", "error": "permission denied"}]}
	run(rt([rec("a", now - day)], errs), 365).status == "pass"
	r := run(rt([rec("a", now - (900 * day))], errs), 365)
	r.status == "error"
	some e in r.evidence
	contains(e.detail, "could not be examined")
}

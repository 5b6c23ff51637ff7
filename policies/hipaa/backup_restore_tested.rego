# backup.restore-tested: a restore test was recorded recently (newest record's modification time).
package phipolicy.hipaa.backup_restore_tested

metadata := {
	"id": "backup.restore-tested",
	"safeguard": "contingency-backup",
	"cfr": ["164.308(a)(7)(ii)(D)"],
	"title": "Restoring from backup was tested recently",
	"severity": "medium",
	"description": concat(" ", [
		"Looks for restore-test records: regular files under restore_test_records (walked four levels deep).",
		"The newest record's modification time must be at most restore_test_max_age_days before the evaluation time.",
		"No record (or no directory): manual, because only a person can attest a restore test recorded elsewhere.",
		"Only records older than the limit: fail.",
		"A record modified after the evaluation time (clock skew, or a scan run with an earlier --now) counts as",
		"recent and is reported as such.",
		"The contents of a record are not judged; write what was restored, from which snapshot, and how it was",
		"verified.",
	]),
	"parameters": ["restore_test_records", "restore_test_max_age_days"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"restore_tests": ["object"]},
	"remediation": concat("\n", [
		"Restore a snapshot to a scratch location and verify it, then record it, for example:",
		"  restic restore latest --target /tmp/restore-test --include /var/data/phi",
		"  install -d -m 0750 /var/log/hipaa-restore-tests",
		concat(" ", [
			"  echo \"$(date -Is) restored snapshot $(restic snapshots --latest 1 --json | jq -r '.[0].short_id') of",
			"/var/data/phi: verified\" > /var/log/hipaa-restore-tests/$(date +%F).log",
		]),
		"Repeat at least once per restore_test_max_age_days.",
	]),
}

rt := input.facts.restore_tests

dir := input.params.restore_test_records

max_age_days := input.params.restore_test_max_age_days

now := input.now_unix

records := rt.records

age_s(r) := now - r.mtime

fresh(r) if age_s(r) <= max_age_days * 86400

fresh_records := [r | some r in records; fresh(r)]

newest_mtime := max({r.mtime | some r in records})

newest := [r | some r in records; r.mtime == newest_mtime][0]

when(r) := sprintf("modified after the evaluation time (%s); counted as recent", [input.now]) if {
	r.mtime > now
} else := sprintf(
	"modified %s, %v days before the evaluation time",
	[time.format(r.mtime * 1000000000), floor(age_s(r) / 86400)]
)

read_errors contains msg if {
	is_string(rt.dir.error)
	msg := sprintf("%s could not be examined: %s", [dir, rt.dir.error])
}

read_errors contains msg if {
	count(fresh_records) == 0
	some e in rt.errors
	msg := sprintf("%s could not be examined: %s", [e.path, e.error])
}

default status := "fail"
status := "error" if {
	count(read_errors) > 0
} else := "manual" if {
	count(records) == 0
} else := "pass" if {
	count(fresh_records) > 0
}

missing_reason := sprintf(concat(" ", [
	"%s does not exist: no restore-test record was found; a person must show where restore tests are recorded, or",
	"record them there",
]), [dir]) if {
	rt.dir.exists == false
} else := sprintf("%s is a %s, not a directory of records; no restore-test record was found", [dir, rt.dir.kind]) if {
	rt.dir.kind != "directory"
} else := sprintf(
	"%s holds no record (regular file); a person must show where restore tests are recorded, or record them there",
	[dir]
)

reasons := sort(read_errors) if {
	status == "error"
} else := [missing_reason] if {
	status == "manual"
} else := [sprintf(
	"the newest restore-test record %s was %s (limit %v days)",
	[newest.path, when(newest), max_age_days]
)] if {
	status == "pass"
} else := [sprintf(
	"every restore-test record is older than restore_test_max_age_days (%v): the newest, %s, was %s",
	[max_age_days, newest.path, when(newest)]
)]

evidence_items contains {"path": r.path, "line": 0, "detail": sprintf("restore-test record, %s", [when(r)])} if {
	r := newest
}

evidence_items contains {"path": dir, "line": 0, "detail": sprintf("%v restore-test record(s)", [count(records)])} if {
	count(records) > 0
}

evidence_items contains {"path": e.path, "line": 0, "detail": sprintf("not a record: %s", [e.kind])} if {
	some e in rt.other_entries
}

evidence_items contains {"path": e.path, "line": 0, "detail": sprintf("could not be examined: %s", [e.error])} if {
	some e in rt.errors
}

evidence := sort(evidence_items)

remediation := concat(
	"\n",
	["Make the restore-test record directory readable to the scan, then rerun.", metadata.remediation]
) if {
	status == "error"
} else := metadata.remediation

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

# Tests of integrity.phi-permissions: every status and every sub-check, on facts shaped like the
# integrity plugin's output.
package phipolicy.hipaa.integrity_phi_permissions_test

import data.phipolicy.testing

walked(extra) := object.union({
	"entries": 3, "truncated": false, "truncated_reason": null,
	"world_readable_count": 0, "world_writable_count": 0, "world_accessible": [],
	"symlinks": 0, "symlinks_outside_count": 0, "symlinks_outside": [],
	"error_count": 0, "errors": [],
}, extra)

dir(mode, octal, w) := {
	"path": "/var/data/phi", "exists": true, "readable": true, "symlink_to": null,
	"kind": "directory", "mode": mode, "mode_octal": octal, "uid": 0, "gid": 1500,
	"owner": {"name": "root", "path": "/etc/passwd", "line": 1},
	"group": {"name": "phi-access", "path": "/etc/group", "line": 40},
	"walk": w,
}

facts_with(dirs) := {
	"family": "debian",
	"limits": {"max_walk_entries": 100000},
	"phi_paths": dirs,
	"unreadable": [],
	"issues": [],
}

eval(dirs) := r if {
	r := data.phipolicy.hipaa.integrity_phi_permissions.result with input as {
		"facts": facts_with(dirs),
		"params": {"phi_paths": ["/var/data/phi"]},
	}
}

test_mode_750_passes if {
	r := eval([dir(488, "0750", walked({}))])
	r.status == "pass"
	testing.any_reason(
		r,
		"/var/data/phi: mode 0750, owner root (UID 0), group phi-access (GID 1500); 3 entries beneath it walked"
	)
	r.evidence == [{
		"path": "/var/data/phi",
		"line": 0,
		"detail": "directory mode 0750, owner root (UID 0), group phi-access (GID 1500)",
	}]
}

test_mode_700_passes if {
	r := eval([dir(448, "0700", walked({}))])
	r.status == "pass"
}

test_mode_755_fails if {
	r := eval([dir(493, "0755", walked({}))])
	r.status == "fail"
	testing.any_reason(r, "/var/data/phi has mode 0755: others have access")
}

test_group_writable_fails if {
	r := eval([dir(504, "0770", walked({}))])
	r.status == "fail"
	testing.any_reason(r, "/var/data/phi has mode 0770: its group may write")
}

test_setgid_750_passes if {
	r := eval([dir(1512, "2750", walked({}))])
	r.status == "pass"
}

test_missing_directory_fails if {
	r := eval([{"path": "/var/data/phi", "exists": false, "symlink_to": null}])
	r.status == "fail"
	testing.any_reason(r, "PHI directory /var/data/phi does not exist")
	r.evidence == [{"path": "/var/data/phi", "line": 0, "detail": "does not exist"}]
}

test_not_a_directory_fails if {
	d := object.union(dir(416, "0640", null), {"kind": "regular"})
	r := eval([d])
	r.status == "fail"
	testing.any_reason(r, "/var/data/phi is a regular, not a directory")
}

test_world_accessible_entries_fail if {
	w := walked({
		"world_readable_count": 2, "world_writable_count": 1,
		"world_accessible": [
			{
				"path": "/var/data/phi/intake.txt",
				"kind": "regular",
				"mode_octal": "0666",
				"world_readable": true,
				"world_writable": true,
			},
			{
				"path": "/var/data/phi/patients/records.csv",
				"kind": "regular",
				"mode_octal": "0644",
				"world_readable": true,
				"world_writable": false,
			},
		],
	})
	r := eval([dir(488, "0750", w)])
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"beneath /var/data/phi: 2 world-readable and 1 world-writable entries; first 2: /var/data/phi/intake.txt",
		"(0666), /var/data/phi/patients/records.csv (0644)",
	]))
	{
		"path": "/var/data/phi/intake.txt",
		"line": 0,
		"detail": "regular mode 0666 (world-readable and world-writable)",
	} in r.evidence
	{
		"path": "/var/data/phi/patients/records.csv",
		"line": 0,
		"detail": "regular mode 0644 (world-readable)",
	} in r.evidence
}

test_world_writable_only_entry_fails if {
	w := walked({
		"world_writable_count": 1,
		"world_accessible": [{
			"path": "/var/data/phi/drop",
			"kind": "directory",
			"mode_octal": "0772",
			"world_readable": false,
			"world_writable": true,
		}],
	})
	r := eval([dir(488, "0750", w)])
	r.status == "fail"
	{"path": "/var/data/phi/drop", "line": 0, "detail": "directory mode 0772 (world-writable)"} in r.evidence
}

truncated := walked({
	"entries": 100000,
	"truncated": true,
	"truncated_reason": "stopped after 100000 entries (limit of the walk)",
})

test_truncated_walk_is_an_error_and_says_so if {
	r := eval([dir(488, "0750", truncated)])
	r.status == "error"
	testing.any_reason(r, "the walk of /var/data/phi stopped after 100000 entries (limit of the walk)")
	{
		"path": "/var/data/phi",
		"line": 0,
		"detail": "walk truncated after 100000 entries: stopped after 100000 entries (limit of the walk)",
	} in r.evidence
}

test_truncated_walk_with_findings_fails_and_says_so if {
	w := object.union(
		truncated,
		{
			"world_readable_count": 1,
			"world_accessible": [{
				"path": "/var/data/phi/a",
				"kind": "regular",
				"mode_octal": "0644",
				"world_readable": true,
				"world_writable": false,
			}],
		}
	)
	r := eval([dir(488, "0750", w)])
	r.status == "fail"
	testing.any_reason(r, "1 world-readable and 0 world-writable entries in the first 100000 entries walked")
	testing.any_reason(r, "the walk of /var/data/phi stopped after 100000 entries")
}

test_outside_symlinks_are_noted if {
	w := walked({
		"symlinks": 1,
		"symlinks_outside_count": 1,
		"symlinks_outside": [{"path": "/var/data/phi/x", "link": "/srv/x", "resolves_to": "/srv/x"}],
	})
	r := eval([dir(488, "0750", w)])
	r.status == "pass"
	testing.any_reason(r, "note: /var/data/phi/x is a symlink to /srv/x, outside /var/data/phi (not followed)")
	{"path": "/var/data/phi/x", "line": 0, "detail": "symlink to /srv/x (outside /var/data/phi)"} in r.evidence
}

test_more_outside_symlinks_than_listed_are_counted if {
	w := walked({
		"symlinks": 30,
		"symlinks_outside_count": 30,
		"symlinks_outside": [{"path": "/var/data/phi/x", "link": "/srv/x", "resolves_to": "/srv/x"}],
	})
	r := eval([dir(488, "0750", w)])
	testing.any_reason(r, "note: 30 symlinks beneath /var/data/phi point outside it (first 1 listed)")
}

test_unreadable_directory_is_error if {
	r := eval([{"path": "/var/data/phi", "exists": true, "readable": false, "error": "permission denied"}])
	r.status == "error"
	testing.any_reason(r, "/var/data/phi could not be examined (permission denied)")
}

test_walk_errors_are_error if {
	w := walked({"error_count": 1, "errors": [{"path": "/var/data/phi/locked", "error": "permission denied"}]})
	r := eval([dir(488, "0750", w)])
	r.status == "error"
	testing.any_reason(r, concat(" ", [
		"1 entries beneath /var/data/phi could not be read, so the walk is incomplete; first: /var/data/phi/locked",
		"(permission denied)",
	]))
}

test_no_phi_paths_is_manual if {
	r := eval([])
	r.status == "manual"
	testing.any_reason(r, "phi_paths is empty")
}

test_unnamed_owner_is_reported_by_id if {
	d := object.union(dir(488, "0750", walked({})), {"owner": null, "uid": 1234})
	r := eval([d])
	testing.any_reason(r, "owner unnamed (UID 1234)")
}

test_every_directory_is_checked if {
	r := eval([dir(488, "0750", walked({})), object.union(dir(493, "0755", walked({})), {"path": "/srv/phi"})])
	r.status == "fail"
	testing.any_reason(r, "/srv/phi has mode 0755")
}

# integrity.phi-permissions: PHI directories are closed to everyone but their owner and group, and
# nothing beneath them is world-readable or world-writable.
package phipolicy.hipaa.integrity_phi_permissions

metadata := {
	"id": "integrity.phi-permissions",
	"safeguard": "integrity",
	"cfr": ["164.312(c)(1)"],
	"title": "PHI directories are not world-accessible and hold no world-readable or world-writable files",
	"severity": "high",
	"description": concat(" ", [
		"Each directory of the phi_paths parameter must exist and be a directory (through symlinks);",
		"its mode must give others no access at all (no o bits) and its group at most r-x:",
		"0750 and 0700 pass (the guide's chmod 700 then chmod 750 are both fine), 0755 and 0770 fail.",
		"Its owner and group (UID/GID and the names /etc/passwd and /etc/group give them) are reported as evidence.",
		"Then a walk beneath it, which never follows symlinks, looks for entries readable or writable by others",
		"and reports how many there are and the first 20.",
		"The walk stops after 100,000 entries (and does not list directories deeper than 64 levels); a walk",
		"that stopped cannot vouch for the rest, so a tree that large or deep is an error (exit 2) unless",
		"something already failed.",
		"Symlinks beneath the directory that point outside it are reported as evidence.",
		"A directory that cannot be read or listed makes the check an error; no phi_paths at all makes it manual.",
	]),
	"parameters": ["phi_paths"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"phi_paths": ["array"]},
	"remediation": concat("\n", [
		concat(" ", [
			"- Create the PHI directory owned by its service account and the PHI group: `install -d -m 0750 -o root",
			"-g phi-access /var/data/phi`.",
		]),
		"- Close it to others: `chmod 0750 /var/data/phi` (or 0700).",
		"- Remove world access beneath it: `chmod -R o-rwx /var/data/phi`.",
		"- Check with `find /var/data/phi -perm /o+rw -not -type l`.",
	]),
}

facts := input.facts

dirs := facts.phi_paths


world_bits(mode) := mode % 8

group_bits(mode) := floor(mode / 8) % 8

group_writes(mode) if group_bits(mode) in {2, 3, 6, 7}

read_errors contains msg if {
	some d in dirs
	d.exists
	d.readable == false
	msg := sprintf("%s could not be examined (%s)", [d.path, d.error])
}

read_errors contains msg if {
	some d in dirs
	d.walk != null
	d.walk.error_count > 0
	msg := sprintf(
		"%v entries beneath %s could not be read, so the walk is incomplete; first: %s",
		[d.walk.error_count, d.path, concat(", ", [sprintf("%s (%s)", [e.path, e.error]) | some e in d.walk.errors])]
	)
}

failures contains msg if {
	some d in dirs
	not d.exists
	msg := sprintf(
		"PHI directory %s does not exist, so its permissions cannot protect anything (is PHI stored somewhere else?)",
		[d.path]
	)
}

failures contains msg if {
	some d in dirs
	d.exists
	d.readable
	d.kind != "directory"
	msg := sprintf("%s is a %s, not a directory", [d.path, d.kind])
}

failures contains msg if {
	some d in dirs
	d.kind == "directory"
	world_bits(d.mode) != 0
	msg := sprintf(
		"%s has mode %s: others have access (it must be 0750 or stricter, e.g. 0700)",
		[d.path, d.mode_octal]
	)
}

failures contains msg if {
	some d in dirs
	d.kind == "directory"
	group_writes(d.mode)
	msg := sprintf("%s has mode %s: its group may write (at most r-x, e.g. 0750)", [d.path, d.mode_octal])
}

failures contains msg if {
	some d in dirs
	d.walk != null
	d.walk.world_readable_count + d.walk.world_writable_count > 0
	listed := [sprintf("%s (%s)", [e.path, e.mode_octal]) | some e in d.walk.world_accessible]
	msg := sprintf(
		"beneath %s: %v world-readable and %v world-writable entries%s; first %v: %s",
		[
			d.path,
			d.walk.world_readable_count,
			d.walk.world_writable_count,
			truncated_note(d),
			count(listed),
			concat(", ", listed),
		]
	)
}

truncated_note(d) := sprintf(" in the first %v entries walked", [d.walk.entries]) if d.walk.truncated

else := ""

# A walk that a limit stopped did not look at everything: whether something beyond it is
# world-readable is unknown, which is an error (exit 2), never a manual note a CI run passes with.
walk_incomplete contains msg if {
	some d in dirs
	d.walk != null
	d.walk.truncated
	msg := sprintf(concat(" ", [
		"the walk of %s %s; the entries beyond it were not checked, so whether any is world-readable is unknown (run",
		"`find %s -perm /o+rw -not -type l` to settle it)",
	]), [d.path, d.walk.truncated_reason, d.path])
}

incomplete contains "phi_paths is empty: no PHI directory to check (set the parameter to where PHI is stored)" if {
	count(dirs) == 0
}

owner_text(d) := sprintf("owner %s (UID %v), group %s (GID %v)", [name_of(d.owner), d.uid, name_of(d.group), d.gid])

name_of(x) := x.name if x != null

else := "unnamed"

notes contains msg if {
	some d in dirs
	d.walk != null
	some l in d.walk.symlinks_outside
	msg := sprintf("note: %s is a symlink to %s, outside %s (not followed)", [l.path, l.resolves_to, d.path])
}

notes contains msg if {
	some d in dirs
	d.walk != null
	d.walk.symlinks_outside_count > count(d.walk.symlinks_outside)
	msg := sprintf(
		"note: %v symlinks beneath %s point outside it (first %v listed)",
		[d.walk.symlinks_outside_count, d.path, count(d.walk.symlinks_outside)]
	)
}

default status := "pass"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
} else := "error" if {
	count(walk_incomplete) > 0
} else := "manual" if {
	count(incomplete) > 0
}

pass_reasons contains msg if {
	some d in dirs
	msg := sprintf(
		"%s: mode %s, %s; %v entries beneath it walked, none world-readable or world-writable",
		[d.path, d.mode_octal, owner_text(d), d.walk.entries]
	)
}

reasons := array.concat(array.concat(sort(read_errors), sort(walk_incomplete)), sort(notes)) if {
	status == "error"
} else := array.concat(array.concat(sort(failures), sort(walk_incomplete)), sort(notes)) if {
	status == "fail"
} else := array.concat(sort(incomplete), sort(notes)) if {
	status == "manual"
} else := array.concat(sort(pass_reasons), sort(notes))

evidence_items contains {
	"path": d.path,
	"line": 0,
	"detail": sprintf("%s mode %s, %s", [d.kind, d.mode_octal, owner_text(d)]),
} if {
	some d in dirs
	d.exists
	d.readable
}

evidence_items contains {"path": d.path, "line": 0, "detail": "does not exist"} if {
	some d in dirs
	not d.exists
}

evidence_items contains {
	"path": e.path,
	"line": 0,
	"detail": sprintf("%s mode %s (%s)", [e.kind, e.mode_octal, access(e)]),
} if {
	some d in dirs
	d.walk != null
	some e in d.walk.world_accessible
}

evidence_items contains {
	"path": l.path,
	"line": 0,
	"detail": sprintf("symlink to %s (outside %s)", [l.link, d.path]),
} if {
	some d in dirs
	d.walk != null
	some l in d.walk.symlinks_outside
}

evidence_items contains {
	"path": d.path,
	"line": 0,
	"detail": sprintf("walk truncated after %v entries: %s", [d.walk.entries, d.walk.truncated_reason]),
} if {
	some d in dirs
	d.walk != null
	d.walk.truncated
}

access(e) := "world-readable and world-writable" if {
	e.world_readable
	e.world_writable
} else := "world-readable" if {
	e.world_readable
} else := "world-writable"

evidence := sort(evidence_items)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": metadata.remediation,
}

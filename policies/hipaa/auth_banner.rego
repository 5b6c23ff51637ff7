# auth.banner: sshd shows a warning banner before login that says access is for authorized users.
package phipolicy.hipaa.auth_banner

import data.phipolicy.lib

metadata := {
	"id": "auth.banner",
	"safeguard": "authentication",
	"cfr": ["164.312(d)", "164.312(a)(1)"],
	"title": "SSH shows an authorized-use warning banner before login",
	"severity": "low",
	"description": concat(" ", [
		"Checks the effective sshd Banner (read with sshd's rules: the first value wins, drop-ins included by",
		"sshd_config count, a `Match all` block overrides): it must name a file that exists inside the target",
		"(symlinks are followed inside the target, never on the scanning host), is a regular non-empty file and",
		"contains every phrase of banner_required_phrases, compared case-insensitively. `Banner none` or no",
		"Banner line (OpenSSH's default is none) fails, and so does a Match block that sets Banner none.",
		"A banner file the scan may not read (outside the paths the authentication plugin declares, or refused",
		"by permissions) is an error, as is an sshd configuration file that cannot be read. sshd not installed:",
		"not applicable.",
	]),
	"parameters": ["banner_required_phrases"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"banner": ["null", "object"], "sshd": ["object"]},
	"remediation": concat("\n", [
		"Write the warning to /etc/issue.net, for example:",
		"  Authorized use only. Activity on this system is monitored and recorded.",
		concat(" ", [
			"and add `Banner /etc/issue.net` to /etc/ssh/sshd_config.d/00-hipaa.conf (sshd keeps the first Banner it",
			"reads, and that drop-in is read before sshd_config's own lines). Reload sshd.",
		]),
	]),
}

sshd := input.facts.sshd

banner := input.facts.banner

setting := sshd.settings.banner

phrases := input.params.banner_required_phrases

# Where the Banner in force comes from (OpenSSH's default when no line sets it: none).
where := sprintf("OpenSSH default: no Banner line in %s", [lib.sshd_files_read(sshd)]) if {
	setting["default"]
} else := lib.sshd_origin(sshd, setting)

# --- errors: the banner in force, or its text, cannot be known.

read_errors contains msg if {
	some msg in lib.sshd_incomplete(sshd)
}

read_errors contains msg if {
	some u in sshd.unreadable
	msg := sprintf(
		"%s could not be read (%s): sshd reads it and it could set Banner, so the banner in force is unknown",
		[u.path, u.error]
	)
}

read_errors contains msg if {
	not sshd.config_found
	count(sshd.unreadable) == 0
	msg := sprintf(
		"sshd is installed (%s) but /etc/ssh/sshd_config does not exist: there is no configuration to evaluate",
		[sshd.binary]
	)
}

# Read failures that say nothing about the file's contents (not-found and not-regular do: they fail).
unknown_kinds := {
	"undeclared",
	"permission-denied",
	"too-large",
	"too-many-entries",
	"invalid-path",
	"budget-exhausted",
	"io",
}

read_errors contains msg if {
	banner.error_kind == "undeclared"
	msg := sprintf(concat(" ", [
		"Banner names %s (%s), which is outside the paths the authentication plugin may read (/etc/issue,",
		"/etc/issue.net, /etc/motd, /etc/banner*, /etc/*banner*, /etc/hipaa/**, /etc/ssh/**), so its text cannot be",
		"checked: %s",
	]), [banner.path, where, banner.error])
}

read_errors contains msg if {
	banner.error_kind in unknown_kinds
	banner.error_kind != "undeclared"
	msg := sprintf("Banner names %s (%s), which could not be read: %s", [banner.path, where, banner.error])
}

# --- failures

failures contains msg if {
	setting.value == "none"
	msg := sprintf("Banner is none (%s): sshd shows no warning before login", [where])
}

default link_note := ""
link_note := sprintf(" (a symlink to %s)", [banner.symlink_to]) if {
	is_string(banner.symlink_to)
}

failures contains msg if {
	banner.error_kind == "not-found"
	msg := sprintf(
		"Banner names %s%s (%s), which does not exist inside the target: sshd shows no warning before login",
		[banner.path, link_note, where]
	)
}

failures contains msg if {
	banner.error_kind == "not-regular"
	msg := sprintf(
		"Banner names %s (%s), which is a %s, not a regular file: sshd cannot show it",
		[banner.path, where, banner.kind]
	)
}

banner_text := banner.text if {
	is_string(banner.text)
}

failures contains msg if {
	trim_space(banner_text) == ""
	msg := sprintf("the banner file %s (%s) is empty", [banner.path, where])
}

missing := [p | some p in phrases; not contains(lower(banner_text), lower(p))]

default truncation_note := ""
truncation_note := " (only its first 64 KiB were read)" if {
	banner.truncated
}

failures contains msg if {
	trim_space(banner_text) != ""
	count(missing) > 0
	quoted := [sprintf("\"%s\"", [p]) | some p in missing]
	msg := sprintf(
		"the banner file %s (%s) does not contain %s (banner_required_phrases, compared case-insensitively)%s",
		[banner.path, where, concat(", ", quoted), truncation_note]
	)
}

failures contains msg if {
	some b in sshd.match_blocks
	s := b.settings.banner
	s.value == "none"
	msg := sprintf(
		"Match %s (%s:%d) sets Banner none at %s:%d: the connections it matches see no warning",
		[b.criteria, b.path, b.line, s.path, s.line]
	)
}

default status := "pass"
status := "not_applicable" if {
	not sshd.installed
} else := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

quoted_phrases := concat(", ", [sprintf("\"%s\"", [p]) | some p in phrases])

reasons := [lib.sshd_not_installed] if {
	status == "not_applicable"
} else := sort(read_errors) if {
	status == "error"
} else := sort(failures) if {
	status == "fail"
} else := [sprintf(
	"Banner %s (%s) is a %d-byte file that contains %s",
	[banner.path, where, banner.size, quoted_phrases]
)]

# --- evidence

evidence_items contains {
	"path": setting.path,
	"line": setting.line,
	"detail": sprintf("Banner %s (OpenSSH default)", [setting.value]),
} if {
	setting["default"]
}

evidence_items contains {
	"path": setting.path,
	"line": setting.line,
	"detail": sprintf("Banner %s", [setting.value]),
} if {
	not setting["default"]
}

evidence_items contains {
	"path": banner.path,
	"line": 0,
	"detail": sprintf("banner file, %d bytes", [banner.size]),
} if {
	is_string(banner.text)
}

evidence_items contains {
	"path": banner.path,
	"line": 0,
	"detail": sprintf("banner file not read: %s", [banner.error]),
} if {
	is_string(banner.error)
}

evidence_items contains {
	"path": s.path,
	"line": s.line,
	"detail": sprintf("inside Match %s: Banner %s", [b.criteria, s.value]),
} if {
	some b in sshd.match_blocks
	s := b.settings.banner
}

evidence_items contains lib.unreadable_evidence(u) if {
	some u in sshd.unreadable
}

evidence := sort(evidence_items) if {
	sshd.installed
} else := [lib.sshd_not_installed_evidence]

# --- remediation, specific to what failed

default banner_target := "/etc/issue.net"
banner_target := banner.path if {
	banner.error_kind == null
}

remediation := concat("\n", [
	sprintf("Write a warning to %s that contains %s, for example:", [banner_target, quoted_phrases]),
	concat(" ", [
		"    WARNING: this system is for authorized use only. Activity is monitored and recorded; unauthorized",
		"access is prohibited.",
	]),
	concat(" ", [
		"Then make sshd show it: put `Banner /etc/issue.net` (or the file you chose, inside /etc/issue.net,",
		"/etc/ssh/ or /etc/hipaa/) in /etc/ssh/sshd_config.d/00-hipaa.conf. sshd keeps the first Banner it reads and",
		"that drop-in is read before sshd_config's own lines, so a Banner further down sshd_config does not take",
		"effect.",
	]),
	"Remove `Banner none` from any Match block, then reload sshd.",
]) if {
	status == "fail"
} else := concat("\n", [
	concat(" ", [
		"Make the banner file readable to the scan: keep it at /etc/issue.net, under /etc/ssh/ or /etc/hipaa/ (paths",
		"the authentication plugin reads), and make sure every sshd configuration file is readable, then run the",
		"check again.",
	]),
]) if {
	status == "error"
} else := metadata.remediation

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

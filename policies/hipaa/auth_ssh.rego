# auth.ssh: sshd lets only named users in, with keys, never as root, from the effective configuration.
package phipolicy.hipaa.auth_ssh

import data.phipolicy.lib

metadata := {
	"id": "auth.ssh",
	"safeguard": "authentication",
	"cfr": ["164.312(d)", "164.312(a)(1)"],
	"title": "SSH logins require keys, exclude root and are limited to the PHI group",
	"severity": "high",
	"description": concat(" ", [
		"Checks the effective sshd configuration, read with sshd's own rules: keywords are case-insensitive,",
		"the first value sshd reads for a keyword wins, Include expands its globs in lexical order where it",
		"appears (relative paths from /etc/ssh, nested includes followed), and Match blocks apply to the",
		"connections they match. Required: PermitRootLogin no; PasswordAuthentication no;",
		"KbdInteractiveAuthentication (old name ChallengeResponseAuthentication) no whenever UsePAM is yes,",
		"because PAM otherwise still asks for passwords through keyboard-interactive; PermitEmptyPasswords no;",
		"PubkeyAuthentication yes; MaxAuthTries at most ssh_max_auth_tries; and AllowGroups including phi_group",
		"or a non-empty AllowUsers. Keywords that no line sets take OpenSSH's defaults (PermitRootLogin",
		"prohibit-password, PasswordAuthentication yes, KbdInteractiveAuthentication yes, MaxAuthTries 6).",
		"A Match block that sets any of these to a failing value fails with its file and line, and so do lines",
		"sshd would reject. A drop-in such as cloud-init's 50-cloud-init.conf that is read before sshd_config",
		"decides the value. sshd not installed: not applicable. A configuration file that cannot be read: error.",
	]),
	"parameters": ["ssh_max_auth_tries", "phi_group"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"sshd": ["object"]},
	"remediation": concat("\n", [
		"Create /etc/ssh/sshd_config.d/00-hipaa.conf containing:",
		"  PermitRootLogin no",
		"  PasswordAuthentication no",
		"  KbdInteractiveAuthentication no",
		"  PermitEmptyPasswords no",
		"  PubkeyAuthentication yes",
		"  MaxAuthTries 3",
		"  AllowGroups phi-access",
		concat(" ", [
			"sshd keeps the first value it reads for each keyword, and Debian/Ubuntu's sshd_config includes",
			"/etc/ssh/sshd_config.d/*.conf (in lexical order) on its first lines, so a drop-in whose name sorts",
			"first wins over later drop-ins such as 50-cloud-init.conf and over sshd_config itself; editing further",
			"down sshd_config has no effect. Where sshd_config has no Include (Rocky 8), put the lines at its top,",
			"before any Match block. Verify with `sshd -T` and reload sshd.",
		]),
	]),
}

sshd := input.facts.sshd

settings := sshd.settings

max_tries := input.params.ssh_max_auth_tries

phi_group := input.params.phi_group

main_config := "/etc/ssh/sshd_config"

display := {
	"permitrootlogin": "PermitRootLogin",
	"passwordauthentication": "PasswordAuthentication",
	"kbdinteractiveauthentication": "KbdInteractiveAuthentication",
	"permitemptypasswords": "PermitEmptyPasswords",
	"pubkeyauthentication": "PubkeyAuthentication",
	"maxauthtries": "MaxAuthTries",
	"usepam": "UsePAM",
	"allowgroups": "AllowGroups",
	"allowusers": "AllowUsers",
}

# Keywords with one required value, and why it matters.
required := {
	"permitrootlogin": "no",
	"passwordauthentication": "no",
	"permitemptypasswords": "no",
	"pubkeyauthentication": "yes",
}

why := {
	"permitrootlogin": "root can log in directly, so actions are not tied to a unique person",
	"passwordauthentication": "passwords can be guessed or phished over the network; only keys may be used",
	"permitemptypasswords": "accounts with an empty password could log in",
	"pubkeyauthentication": "key-based login, the only method that may remain, is off",
}

files_read := lib.sshd_files_read(sshd)

# Where a global value comes from.
where(s) := lib.sshd_origin(sshd, s)

usepam_on if settings.usepam.value == "yes"

usepam_where := where(settings.usepam)

is_count(v) if regex.match(`^[0-9]+$`, v)

too_many_tries(v) if {
	is_count(v)
	to_number(v) > max_tries
}

# --- errors: the effective configuration cannot be known.

read_errors contains msg if {
	some msg in lib.sshd_incomplete(sshd)
}

read_errors contains msg if {
	some u in sshd.unreadable
	msg := sprintf(concat(" ", [
		"%s could not be read (%s): sshd reads it, so the effective configuration is unknown (and sshd itself would",
		"refuse to start)",
	]), [u.path, u.error])
}

read_errors contains msg if {
	not sshd.config_found
	count(sshd.unreadable) == 0
	msg := sprintf(concat(" ", [
		"sshd is installed (%s) but %s does not exist: sshd does not start without it, and there is no configuration",
		"to evaluate",
	]), [sshd.binary, main_config])
}

# --- failures of the global configuration: {"keyword", "message", "path", "line"}

global_failures contains {"keyword": kw, "message": msg, "path": s.path, "line": s.line} if {
	some kw, want in required
	s := settings[kw]
	s.value != want
	msg := sprintf("%s is %s (%s); it must be %s: %s", [display[kw], s.value, where(s), want, why[kw]])
}

global_failures contains {
	"keyword": "kbdinteractiveauthentication",
	"message": msg,
	"path": s.path,
	"line": s.line,
} if {
	usepam_on
	s := settings.kbdinteractiveauthentication
	s.value != "no"
	msg := sprintf(concat(" ", [
		"KbdInteractiveAuthentication is %s (%s) while UsePAM is yes (%s): PAM asks for the password through",
		"keyboard-interactive, so passwords still work whatever PasswordAuthentication says",
	]), [s.value, where(s), usepam_where])
}

global_failures contains {"keyword": "maxauthtries", "message": msg, "path": s.path, "line": s.line} if {
	s := settings.maxauthtries
	too_many_tries(s.value)
	msg := sprintf(
		"MaxAuthTries is %s (%s), more than ssh_max_auth_tries (%d): more password or key guesses per connection",
		[s.value, where(s), max_tries]
	)
}

global_failures contains {"keyword": "maxauthtries", "message": msg, "path": s.path, "line": s.line} if {
	s := settings.maxauthtries
	not is_count(s.value)
	msg := sprintf("MaxAuthTries is \"%s\" (%s), not a number of attempts (sshd refuses it)", [s.value, where(s)])
}

phi_group_allowed if phi_group in settings.allowgroups.values

users_restricted if count(settings.allowusers.values) > 0

default access_detail := "AllowGroups is not set"
access_detail := sprintf("AllowGroups is %s (%s)", [settings.allowgroups.value, where(settings.allowgroups)]) if {
	count(settings.allowgroups.values) > 0
}

global_failures contains {"keyword": "allowgroups", "message": msg, "path": s.path, "line": s.line} if {
	not phi_group_allowed
	not users_restricted
	s := settings.allowgroups
	msg := sprintf(concat(" ", [
		"%s and AllowUsers is not set: logins are not limited to the group \"%s\" (phi_group), so any account with a",
		"key or password can log in",
	]), [access_detail, phi_group])
}

# --- Match blocks that weaken a checked setting for the connections they match.

block_name(b) := sprintf("Match %s (%s:%d)", [b.criteria, b.path, b.line])

match_failures contains {"keyword": kw, "message": msg, "path": s.path, "line": s.line} if {
	some b in sshd.match_blocks
	some kw, want in required
	s := b.settings[kw]
	s.value != want
	msg := sprintf(
		"%s sets %s %s at %s:%d for the connections it matches; it must be %s: %s",
		[block_name(b), display[kw], s.value, s.path, s.line, want, why[kw]]
	)
}

match_failures contains {
	"keyword": "kbdinteractiveauthentication",
	"message": msg,
	"path": s.path,
	"line": s.line,
} if {
	usepam_on
	some b in sshd.match_blocks
	s := b.settings.kbdinteractiveauthentication
	s.value != "no"
	msg := sprintf(concat(" ", [
		"%s sets KbdInteractiveAuthentication %s at %s:%d while UsePAM is yes (%s): passwords work through PAM for",
		"the connections it matches",
	]), [block_name(b), s.value, s.path, s.line, usepam_where])
}

match_failures contains {"keyword": "maxauthtries", "message": msg, "path": s.path, "line": s.line} if {
	some b in sshd.match_blocks
	s := b.settings.maxauthtries
	too_many_tries(s.value)
	msg := sprintf(
		"%s sets MaxAuthTries %s at %s:%d, more than ssh_max_auth_tries (%d)",
		[block_name(b), s.value, s.path, s.line, max_tries]
	)
}

match_failures contains {"keyword": "allowgroups", "message": msg, "path": s.path, "line": s.line} if {
	some b in sshd.match_blocks
	s := b.settings.allowgroups
	not phi_group in s.values
	not b.settings.allowusers
	msg := sprintf(concat(" ", [
		"%s sets AllowGroups %s at %s:%d, which replaces the global list for the connections it matches and does not",
		"include \"%s\" (phi_group)",
	]), [block_name(b), s.value, s.path, s.line, phi_group])
}

# --- lines sshd rejects

issue_failures contains {"path": i.path, "line": i.line, "message": msg} if {
	some i in sshd.issues
	msg := sprintf(
		"sshd rejects %s:%d: %s (the configuration in force may differ from what was read)",
		[i.path, i.line, i.message]
	)
}

all_failures := (global_failures | match_failures) | issue_failures

failures := {f.message | some f in all_failures}

default status := "pass"
status := "not_applicable" if {
	not sshd.installed
} else := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

# --- reasons

checked_ok contains msg if {
	some kw, want in required
	s := settings[kw]
	s.value == want
	msg := sprintf("%s %s (%s)", [display[kw], s.value, where(s)])
}

checked_ok contains msg if {
	s := settings.kbdinteractiveauthentication
	s.value == "no"
	msg := sprintf("KbdInteractiveAuthentication no (%s)", [where(s)])
}

checked_ok contains msg if {
	not usepam_on
	msg := sprintf(
		"UsePAM is %s (%s), so KbdInteractiveAuthentication does not reach PAM passwords",
		[settings.usepam.value, usepam_where]
	)
}

checked_ok contains msg if {
	s := settings.maxauthtries
	is_count(s.value)
	not too_many_tries(s.value)
	msg := sprintf("MaxAuthTries %s (%s), at most %d", [s.value, where(s), max_tries])
}

checked_ok contains msg if {
	phi_group_allowed
	msg := sprintf("%s, which includes \"%s\"", [access_detail, phi_group])
}

checked_ok contains msg if {
	not phi_group_allowed
	users_restricted
	s := settings.allowusers
	msg := sprintf("AllowUsers is %s (%s): only those users can log in", [s.value, where(s)])
}

pass_reasons := array.concat(
	[sprintf("effective sshd configuration read from %s; no Match block weakens it", [files_read])],
	sort(checked_ok),
)

reasons := [lib.sshd_not_installed] if {
	status == "not_applicable"
} else := sort(read_errors) if {
	status == "error"
} else := sort(failures) if {
	status == "fail"
} else := pass_reasons

# --- evidence

setting_detail(kw, s) := sprintf("%s %s (OpenSSH default; not set)", [display[kw], s.value]) if {
	s["default"]
}

setting_detail(kw, s) := sprintf("%s %s", [display[kw], s.value]) if {
	not s["default"]
}

evidence_items contains {"path": s.path, "line": s.line, "detail": setting_detail(kw, s)} if {
	some kw, s in settings
	display[kw]
	not kw in {"allowgroups", "allowusers"}
}

evidence_items contains {"path": e.path, "line": e.line, "detail": sprintf("%s %s", [display[kw], e.value])} if {
	some kw in ["allowgroups", "allowusers"]
	some e in settings[kw].entries
}

evidence_items contains {"path": main_config, "line": 0, "detail": sprintf("%s not set", [display[kw]])} if {
	some kw in ["allowgroups", "allowusers"]
	count(settings[kw].entries) == 0
}

evidence_items contains {
	"path": main_config,
	"line": 0,
	"detail": sprintf("sshd reads, in order: %s (first value wins)", [files_read]),
} if {
	sshd.config_found
}

evidence_items contains {"path": b.path, "line": b.line, "detail": sprintf("Match %s", [b.criteria])} if {
	some b in sshd.match_blocks
}

evidence_items contains {
	"path": s.path,
	"line": s.line,
	"detail": sprintf("inside Match %s: %s %s", [b.criteria, display[kw], s.value]),
} if {
	some b in sshd.match_blocks
	some kw, s in b.settings
	display[kw]
}

evidence_items contains {
	"path": i.path,
	"line": i.line,
	"detail": sprintf("sshd rejects this line: %s", [i.message]),
} if {
	some i in sshd.issues
}

evidence_items contains lib.unreadable_evidence(u) if {
	some u in sshd.unreadable
}

evidence := sort(evidence_items) if {
	sshd.installed
} else := [lib.sshd_not_installed_evidence]

# --- remediation, specific to what failed

dropin := "/etc/ssh/sshd_config.d/00-hipaa.conf"

fix_line := {
	"permitrootlogin": "PermitRootLogin no",
	"passwordauthentication": "PasswordAuthentication no",
	"kbdinteractiveauthentication": "KbdInteractiveAuthentication no",
	"permitemptypasswords": "PermitEmptyPasswords no",
	"pubkeyauthentication": "PubkeyAuthentication yes",
	"maxauthtries": sprintf("MaxAuthTries %d", [max_tries]),
	"allowgroups": sprintf("AllowGroups %s", [phi_group]),
}

fix_order := [
	"permitrootlogin", "passwordauthentication", "kbdinteractiveauthentication",
	"permitemptypasswords", "pubkeyauthentication", "maxauthtries", "allowgroups",
]

failing_keywords := {f.keyword | some f in global_failures}

dropin_lines := [sprintf("    %s", [fix_line[kw]]) | some kw in fix_order; kw in failing_keywords]

steps contains {"order": 1, "text": text} if {
	count(dropin_lines) > 0
	text := concat("\n", array.concat(
		[sprintf("Create %s with these lines:", [dropin])],
		array.concat(dropin_lines, [concat(" ", [
			"Why this file: sshd keeps the FIRST value it reads for each keyword. Debian/Ubuntu's sshd_config",
			"starts with `Include /etc/ssh/sshd_config.d/*.conf`, read in lexical order, so a drop-in named 00-...",
			"is read before later drop-ins (cloud-init's 50-cloud-init.conf sets PasswordAuthentication yes) and",
			"before the rest of sshd_config: its values win, while an edit further down sshd_config changes nothing.",
			"Where sshd_config has no Include (Rocky 8), put the lines at the top of /etc/ssh/sshd_config,",
			"before any Match block.",
		])]),
	))
}

steps contains {"order": 2, "text": text} if {
	count(match_failures) > 0
	places := {sprintf("%s:%d", [f.path, f.line]) | some f in match_failures}
	text := sprintf(concat(" ", [
		"Remove or correct these lines inside Match blocks (a Match block overrides the global value for the",
		"connections it matches, whatever the drop-in says): %s.",
	]), [concat(", ", sort(places))])
}

steps contains {"order": 3, "text": text} if {
	count(issue_failures) > 0
	places := {sprintf("%s:%d", [f.path, f.line]) | some f in issue_failures}
	text := sprintf("Fix the lines sshd rejects (check with `sshd -t`): %s.", [concat(", ", sort(places))])
}

steps contains {"order": 4, "text": text} if {
	count(read_errors) > 0
	text := concat(" ", [
		"Make every file sshd reads readable to the scan (and present inside the scanned root), then run the check",
		"again.",
	])
}

steps contains {"order": 5, "text": concat(" ", [
	"Verify with `sshd -T` (and `sshd -T -C user=NAME,host=HOST,addr=ADDR` for Match blocks), then reload sshd",
	"(`systemctl reload ssh` on Debian/Ubuntu, `systemctl reload sshd` on Rocky/RHEL).",
])} if {
	status in {"fail", "error"}
}

remediation := concat("\n", lib.step_texts(steps)) if {
	status in {"fail", "error"}
} else := metadata.remediation

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

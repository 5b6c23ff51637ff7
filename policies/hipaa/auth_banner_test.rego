# Tests of auth.banner: every status and every sub-check.
package phipolicy.hipaa.auth_banner_test

import data.phipolicy.testing

main := "/etc/ssh/sshd_config"

dropin := "/etc/ssh/sshd_config.d/00-hipaa.conf"

banner_set := {"value": "/etc/issue.net", "path": dropin, "line": 10, "default": false}

banner_unset := {"value": "none", "path": main, "line": 0, "default": true}

sshd(banner_setting, blocks) := {
	"installed": true,
	"binary": "/usr/sbin/sshd",
	"config_found": true,
	"files": [main, dropin],
	"unreadable": [],
	"issues": [],
	"settings": {"banner": banner_setting},
	"match_blocks": blocks,
}

text := "Authorized use only. All activity on this system is monitored and recorded.\n"

banner_file(t) := {
	"path": "/etc/issue.net",
	"exists": true,
	"kind": "regular",
	"size": count(t),
	"text": t,
	"truncated": false,
	"error": null,
	"error_kind": null,
	"symlink_to": null,
}

unread(kind, error) := {
	"path": "/etc/issue.net",
	"exists": false,
	"kind": null,
	"size": null,
	"text": null,
	"truncated": false,
	"error": error,
	"error_kind": kind,
	"symlink_to": null,
}

params := {"banner_required_phrases": ["authorized"]}

input_for(sshd_facts, banner) := {
	"facts": {"os": {"id": "debian", "version_id": "12"}, "sshd": sshd_facts, "banner": banner},
	"params": params,
	"target": {"kind": "rootfs", "root": "/fixture", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
	"now": "2025-01-01T00:00:00Z",
	"now_unix": 1735689600,
}

result_for(sshd_facts, banner) := r if {
	r := data.phipolicy.hipaa.auth_banner.result with input as input_for(sshd_facts, banner)
}

test_not_installed_is_not_applicable if {
	r := result_for(object.union(sshd(banner_unset, []), {"installed": false, "binary": null}), null)
	r.status == "not_applicable"
	testing.any_reason(r, "not installed")
}

test_banner_with_phrase_passes if {
	r := result_for(sshd(banner_set, []), banner_file(text))
	r.status == "pass"
	testing.any_reason(r, "Banner /etc/issue.net (first set in /etc/ssh/sshd_config.d/00-hipaa.conf:10)")
	some e in r.evidence
	e == {"path": dropin, "line": 10, "detail": "Banner /etc/issue.net"}
	r.remediation == data.phipolicy.hipaa.auth_banner.metadata.remediation
}

test_phrases_are_case_insensitive if {
	r := result_for(sshd(banner_set, []), banner_file("AUTHORIZED PERSONNEL ONLY\n"))
	r.status == "pass"
}

test_banner_none_by_default_fails if {
	r := result_for(sshd(banner_unset, []), null)
	r.status == "fail"
	testing.any_reason(r, "Banner is none (OpenSSH default")
	contains(r.remediation, "Banner /etc/issue.net")
	contains(r.remediation, "00-hipaa.conf")
}

test_banner_none_explicit_fails if {
	r := result_for(sshd({"value": "none", "path": main, "line": 108, "default": false}, []), null)
	r.status == "fail"
	testing.any_reason(r, "Banner is none (first set in /etc/ssh/sshd_config:108)")
}

test_missing_banner_file_fails if {
	r := result_for(sshd(banner_set, []), unread("not-found", "not found"))
	r.status == "fail"
	testing.any_reason(r, "which does not exist inside the target")
}

test_dangling_symlink_is_named if {
	b := object.union(unread("not-found", "not found"), {"symlink_to": "/etc/hostname"})
	r := result_for(sshd(banner_set, []), b)
	r.status == "fail"
	testing.any_reason(r, "/etc/issue.net (a symlink to /etc/hostname)")
}

test_directory_banner_fails if {
	b := object.union(unread("not-regular", "not a regular file (directory)"), {"exists": true, "kind": "directory"})
	r := result_for(sshd(banner_set, []), b)
	r.status == "fail"
	testing.any_reason(r, "which is a directory, not a regular file")
}

test_empty_banner_fails if {
	r := result_for(sshd(banner_set, []), banner_file(" \n"))
	r.status == "fail"
	testing.any_reason(r, "is empty")
}

test_banner_without_phrase_fails if {
	r := result_for(sshd(banner_set, []), banner_file("Welcome to the records server.\n"))
	r.status == "fail"
	testing.any_reason(r, "does not contain \"authorized\"")
	contains(r.remediation, "\"authorized\"")
}

test_every_phrase_is_required if {
	p := {"banner_required_phrases": ["authorized", "monitored", "prosecuted"]}
	r := data.phipolicy.hipaa.auth_banner.result with input as object.union(
		input_for(sshd(banner_set, []), banner_file(text)),
		{"params": p}
	)
	r.status == "fail"
	testing.any_reason(r, "does not contain \"prosecuted\"")
	not testing.any_reason(r, "\"monitored\"")
}

test_truncated_banner_says_so if {
	b := object.union(banner_file("Welcome\n"), {"truncated": true})
	r := result_for(sshd(banner_set, []), b)
	r.status == "fail"
	testing.any_reason(r, "only its first 64 KiB")
}

test_match_block_without_banner_fails if {
	block := {
		"criteria": "User sftp",
		"matches_all": false,
		"path": main,
		"line": 130,
		"settings": {"banner": {"value": "none", "path": main, "line": 131}},
	}
	r := result_for(sshd(banner_set, [block]), banner_file(text))
	r.status == "fail"
	testing.any_reason(r, "Match User sftp (/etc/ssh/sshd_config:130) sets Banner none at /etc/ssh/sshd_config:131")
}

test_match_block_with_other_banner_is_evidence if {
	block := {
		"criteria": "User sftp",
		"matches_all": false,
		"path": main,
		"line": 130,
		"settings": {"banner": {"value": "/etc/ssh/sftp-banner", "path": main, "line": 131}},
	}
	r := result_for(sshd(banner_set, [block]), banner_file(text))
	r.status == "pass"
	some e in r.evidence
	e.detail == "inside Match User sftp: Banner /etc/ssh/sftp-banner"
}

test_undeclared_banner_path_is_error if {
	b := object.union(
		unread("undeclared", "not declared in the plugin manifest: /srv/banner"),
		{"path": "/srv/banner"}
	)
	r := result_for(sshd({"value": "/srv/banner", "path": main, "line": 108, "default": false}, []), b)
	r.status == "error"
	testing.any_reason(r, concat(" ", [
		"Banner names /srv/banner (first set in /etc/ssh/sshd_config:108), which is outside the paths the",
		"authentication plugin may read",
	]))
	contains(r.remediation, "/etc/issue.net")
}

test_unreadable_banner_is_error if {
	r := result_for(sshd(banner_set, []), unread("permission-denied", "permission denied"))
	r.status == "error"
	testing.any_reason(r, "could not be read: permission denied")
}

test_unreadable_sshd_file_is_error if {
	facts := object.union(sshd(banner_set, []), {"unreadable": [{"path": dropin, "error": "permission denied"}]})
	r := result_for(facts, banner_file(text))
	r.status == "error"
	testing.any_reason(r, "could set Banner")
}

test_missing_sshd_config_is_error if {
	facts := object.union(sshd(banner_unset, []), {"config_found": false, "files": []})
	r := result_for(facts, null)
	r.status == "error"
	testing.any_reason(r, "/etc/ssh/sshd_config does not exist")
}

test_includes_past_the_work_bound_are_an_error if {
	f := object.union(
		sshd(banner_set, []),
		{"incomplete": [{"path": main, "line": 12, "message": "phipolicy stopped reading includes here"}]}
	)
	r := result_for(f, banner_file(text))
	r.status == "error"
	testing.any_reason(r, "/etc/ssh/sshd_config:12: phipolicy stopped reading includes here")
}

# Tests for audit.forwarding: TLS forms, the guide's plaintext example, UDP, anon, coverage, journal-upload.
package phipolicy.hipaa.audit_forwarding_test

import data.phipolicy.testing

dropin := "/etc/rsyslog.d/60-hipaa-forward.conf"

loc(value, line) := {"value": value, "path": dropin, "line": line}

all_cov := {"all": true, "auth": true, "authpriv": true}

# The legacy TLS form: directives on lines 2-4, the action on line 6.
legacy_tls := {
	"path": dropin, "line": 6, "syntax": "legacy", "text": "@@logs.internal.example.com:6514",
	"selector": "*.*", "coverage": all_cov, "conditional": null,
	"target": "logs.internal.example.com", "port": "6514", "protocol": "tcp",
	"stream_driver": loc("gtls", 2), "stream_driver_mode": loc("1", 3),
	"stream_driver_auth_mode": loc("x509/name", 4), "ca_file": null, "tls": true,
	"destination": {"host": "logs.internal.example.com", "loopback": false, "why": ""},
	"driver_module": gtls_installed, "ca": null,
}

gtls_installed := {
	"driver": "gtls", "module": "lmnsd_gtls.so", "package": "rsyslog-gnutls",
	"found": "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so",
	"searched": ["/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"],
	"module_dirs_present": ["/usr/lib/x86_64-linux-gnu/rsyslog"],
}

# The hardening guide's line: no TLS directives at all.
guide := object.union(
	legacy_tls,
	{
		"stream_driver": null,
		"stream_driver_mode": null,
		"stream_driver_auth_mode": null,
		"tls": false,
		"line": 2,
		"driver_module": null,
	}
)

udp := object.union(guide, {"protocol": "udp", "port": "514", "text": "@logs.internal.example.com:514"})

link(unit) := {
	"path": sprintf("/etc/systemd/system/multi-user.target.wants/%s", [unit]),
	"target": sprintf("/lib/systemd/system/%s", [unit]),
	"resolves": true,
}

rsyslog(forwards, extra) := object.union(
	{
		"found": true, "installed": true, "binary": "/usr/sbin/rsyslogd",
		"enabled_links": [link("rsyslog.service")],
		"files": ["/etc/rsyslog.conf", dropin], "forwards": forwards,
		"global_stream_driver": null, "issues": [], "unreadable": [],
	},
	extra,
)

no_journal := {
	"installed": false,
	"binary": null,
	"enabled_links": [],
	"url": null,
	"files": [],
	"issues": [],
	"unreadable": [],
}

journal(url) := {
	"installed": true, "binary": "/lib/systemd/systemd-journal-upload",
	"enabled_links": [link("systemd-journal-upload.service")],
	"url": {"value": url, "path": "/etc/systemd/journal-upload.conf.d/50-hipaa.conf", "line": 2},
	"files": ["/etc/systemd/journal-upload.conf"], "issues": [], "unreadable": [],
}

run_with(r, j, tls_required) := res if {
	res := data.phipolicy.hipaa.audit_forwarding.result with input as {
		"facts": {"os": null, "family": "debian", "forwarding": {"rsyslog": r, "journal_upload": j}},
		"params": {"log_forwarding_tls_required": tls_required},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
	}
}

run(forwards) := run_with(rsyslog(forwards, {}), no_journal, true)

test_metadata_names_the_control if {
	m := data.phipolicy.hipaa.audit_forwarding.metadata
	m.id == "audit.forwarding"
	m.parameters == ["log_forwarding_tls_required"]
	contains(m.remediation, "StreamDriverMode=\"1\"")
}

test_legacy_tls_passes if {
	r := run([legacy_tls])
	r.status == "pass"
	testing.any_reason(r, "over TLS (driver gtls, mode 1, module /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so)")
	testing.any_evidence(r, concat(" ", [
		"TCP+TLS (driver gtls at /etc/rsyslog.d/60-hipaa-forward.conf:2, mode 1 at",
		"/etc/rsyslog.d/60-hipaa-forward.conf:3)",
	]))
	testing.any_evidence(r, "StreamDriverAuthMode x509/name")
}

test_guide_example_fails_with_tls_remediation if {
	r := run([guide])
	r.status == "fail"
	testing.any_reason(r, "over plain TCP")
	testing.any_reason(r, "hardening guide's plaintext example")
	testing.any_reason(r, "no stream driver set")
	contains(r.remediation, "$ActionSendStreamDriverMode 1")
	contains(r.remediation, "StreamDriver=\"gtls\" StreamDriverMode=\"1\"")
}

test_driver_without_mode_fails if {
	r := run([object.union(legacy_tls, {"stream_driver_mode": null, "tls": false, "port": "10514"})])
	r.status == "fail"
	testing.any_reason(r, "stream driver gtls (/etc/rsyslog.d/60-hipaa-forward.conf:2) without StreamDriverMode 1")
	not testing.any_reason(r, "hardening guide")
}

test_non_tls_driver_fails if {
	r := run([object.union(guide, {"stream_driver": loc("ptcp", 1)})])
	r.status == "fail"
	testing.any_reason(r, "is not a TLS driver")
}

test_plain_tcp_passes_when_tls_not_required if {
	r := run_with(rsyslog([guide], {}), no_journal, false)
	r.status == "pass"
	testing.any_reason(r, "over plain TCP (log_forwarding_tls_required is false)")
}

test_udp_fails_even_next_to_tls if {
	r := run([legacy_tls, udp])
	r.status == "fail"
	testing.any_reason(r, "over UDP")
	count(r.reasons) == 1
	run_with(rsyslog([udp], {}), no_journal, false).status == "fail"
}

test_anon_passes_with_warning if {
	r := run([object.union(legacy_tls, {"stream_driver_auth_mode": loc("anon", 4)})])
	r.status == "pass"
	testing.any_reason(r, "warning:")
	testing.any_reason(r, "not authenticated")
	contains(r.remediation, "x509/name")
}

test_auth_only_selector_passes_but_mail_only_does_not if {
	auth := object.union(
		legacy_tls,
		{"selector": "auth,authpriv.*", "coverage": {"all": false, "auth": true, "authpriv": true}}
	)
	run([auth]).status == "pass"
	mail := object.union(
		legacy_tls,
		{"selector": "mail.*", "coverage": {"all": false, "auth": false, "authpriv": false}}
	)
	r := run([mail])
	r.status == "fail"
	testing.any_reason(r, "does not include all of auth,authpriv")
}

test_conditional_only_is_manual if {
	c := object.union(
		legacy_tls,
		{"conditional": "if $syslogfacility-text == \"authpriv\" then", "coverage": null, "selector": null}
	)
	r := run([c])
	r.status == "manual"
	testing.any_reason(r, "only inside `if $syslogfacility-text")
	testing.any_evidence(r, "conditional on")
}

test_rsyslog_not_enabled_does_not_count if {
	r := run_with(rsyslog([legacy_tls], {"enabled_links": []}), no_journal, true)
	r.status == "fail"
	testing.any_reason(r, "not enabled at boot")
}

test_rsyslog_not_installed_does_not_count if {
	r := run_with(rsyslog([legacy_tls], {"installed": false, "binary": null}), no_journal, true)
	r.status == "fail"
	testing.any_reason(r, "rsyslog is not installed")
}

test_nothing_forwarded_fails if {
	r := run([])
	r.status == "fail"
	testing.any_reason(r, "logs are not forwarded off the host")
	testing.any_reason(r, "no rsyslog forwarding action")
	testing.any_reason(r, "systemd-journal-upload is not configured")
	testing.any_evidence(r, "no forwarding action found")
}

test_journal_upload_https_passes if {
	r := run_with(rsyslog([], {}), journal("https://logs.internal.example.com:19532"), true)
	r.status == "pass"
	testing.any_reason(r, "systemd-journal-upload is enabled and sends the journal to https://")
	testing.any_evidence(r, "URL=https://")
}

test_journal_upload_http_fails if {
	r := run_with(rsyslog([], {}), journal("http://logs.internal.example.com:19532"), true)
	r.status == "fail"
	testing.any_reason(r, "not an https:// URL")
}

test_journal_upload_not_enabled_does_not_count if {
	j := object.union(journal("https://logs.internal.example.com"), {"enabled_links": []})
	r := run_with(rsyslog([], {}), j, true)
	r.status == "fail"
	testing.any_reason(r, "not installed or not enabled")
}

test_rsyslog_absent_config_is_named if {
	r := run_with(
		rsyslog([], {"found": false, "installed": false, "files": [], "enabled_links": []}),
		no_journal,
		true
	)
	r.status == "fail"
	testing.any_reason(r, "/etc/rsyslog.conf (not present)")
}

test_unreadable_is_error if {
	r := run_with(rsyslog([], {"unreadable": [{"path": dropin, "error": "permission denied"}]}), no_journal, true)
	r.status == "error"
	testing.any_reason(r, "could not be read (permission denied)")
	contains(r.remediation, "readable")
}

test_missing_forwards_fact_is_error if {
	r := run_with(object.remove(rsyslog([], {}), ["forwards"]), no_journal, true)
	r.status == "error"
}

test_ca_file_and_issues_are_evidence if {
	f := object.union(
		legacy_tls,
		{
			"ca_file": loc("/etc/ssl/certs/logs-ca.pem", 3),
			"ca": {"path": "/etc/ssl/certs/logs-ca.pem", "exists": true, "certificates": 1, "problem": null},
		}
	)
	r := run_with(
		rsyslog([f], {"issues": [{"path": dropin, "line": 9, "message": "selector without an action"}]}),
		no_journal,
		true
	)
	r.status == "pass"
	testing.any_evidence(r, "CA file /etc/ssl/certs/logs-ca.pem")
	testing.any_evidence(r, "selector without an action")
	testing.any_evidence(r, "rsyslog.service enable link")
}

test_loopback_destination_is_not_forwarding if {
	f := object.union(
		legacy_tls,
		{
			"target": "127.0.0.1",
			"destination": {
				"host": "127.0.0.1",
				"loopback": true,
				"why": "127.0.0.1 is a loopback address of this host",
			},
		}
	)
	r := run([f])
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "logs do not leave the host")
}

test_missing_tls_driver_fails_naming_the_package if {
	f := object.union(legacy_tls, {"driver_module": object.union(gtls_installed, {"found": null})})
	r := run([f])
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "rsyslog-gnutls")
}

test_missing_or_empty_ca_file_fails if {
	ca_file := loc("/etc/ssl/certs/logs-ca.pem", 3)
	missing := object.union(
		legacy_tls,
		{
			"ca_file": ca_file,
			"ca": {
				"path": "/etc/ssl/certs/logs-ca.pem",
				"exists": false,
				"certificates": 0,
				"problem": "does not exist",
			},
		}
	)
	run([missing]).status == "fail"
	garbage := object.union(
		legacy_tls,
		{
			"ca_file": ca_file,
			"ca": {
				"path": "/etc/ssl/certs/logs-ca.pem",
				"exists": true,
				"certificates": 0,
				"problem": "no `-----BEGIN CERTIFICATE-----` block",
			},
		}
	)
	r := run([garbage])
	r.status == "fail"
	some msg in r.reasons
	contains(msg, "holds no PEM certificate")
}

test_filterless_action_says_what_it_forwards if {
	f := object.union(legacy_tls, {"syntax": "rainerscript", "selector": null})
	r := run([f])
	r.status == "pass"
	some msg in r.reasons
	contains(msg, "every message (an action with no filter)")
}

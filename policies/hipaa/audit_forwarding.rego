# audit.forwarding: logs leave the host, over TLS when log_forwarding_tls_required.
package phipolicy.hipaa.audit_forwarding

metadata := {
	"id": "audit.forwarding",
	"safeguard": "audit-controls",
	"cfr": ["164.312(b)"],
	"title": "Logs are forwarded off the host over TLS",
	"severity": "medium",
	"description": concat(" ", [
		"Logs kept only on the host can be erased by whoever compromises it. Passes when rsyslog (installed and",
		"enabled) forwards *.* or at least auth,authpriv.* to a remote host over TCP,",
		"reading /etc/rsyslog.conf and the files $IncludeConfig and include(file=...) pull in, legacy",
		"@@host:port and RainerScript action(type=\"omfwd\") alike,",
		"or when systemd-journal-upload is enabled with an https:// URL.",
		"With log_forwarding_tls_required, TCP forwarding counts only when TLS is on: StreamDriver gtls (or",
		"ossl) with StreamDriverMode 1,",
		"or legacy $DefaultNetstreamDriver gtls and $ActionSendStreamDriverMode 1 before the action.",
		"The hardening guide's `*.* @@logs.internal.example.com:6514` with no TLS directives is plain TCP and fails.",
		"UDP forwarding (@host) fails: it is lossy and plaintext. StreamDriverAuthMode anon encrypts without",
		"authenticating the server and is reported as a warning.",
		"Forwarding inside if/then, a property filter or a ruleset() is reported as conditional: when nothing",
		"else forwards, the status is manual.",
		"A destination that is this host (127.0.0.0/8, ::1, localhost, the host's own name from /etc/hostname,",
		"or a name /etc/hosts maps to loopback) is not forwarding and fails.",
		"TLS must be able to run: the stream driver's module (lmnsd_gtls.so from rsyslog-gnutls, lmnsd_ossl.so",
		"from rsyslog-openssl) must be in rsyslog's module directory,",
		"and the CA file named by DefaultNetstreamDriverCAFile must exist and hold a PEM certificate; otherwise",
		"rsyslog refuses the action or the TLS session fails, and nothing is forwarded.",
	]),
	"parameters": ["log_forwarding_tls_required"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"forwarding": ["object"]},
	"remediation": remediation_tls,
}

remediation_tls := concat("\n", [
	concat(" ", [
		"Forward logs over TLS (install rsyslog-gnutls; the CA file is the one that signed the log server's",
		"certificate). Legacy syntax, in /etc/rsyslog.d/60-hipaa-forward.conf, directives BEFORE the action:",
	]),
	"  $DefaultNetstreamDriver gtls",
	"  $DefaultNetstreamDriverCAFile /etc/ssl/certs/logs-ca.pem",
	"  $ActionSendStreamDriverMode 1",
	"  $ActionSendStreamDriverAuthMode x509/name",
	"  $ActionSendStreamDriverPermittedPeer logs.internal.example.com",
	"  *.* @@logs.internal.example.com:6514",
	"or RainerScript:",
	"  global(DefaultNetstreamDriverCAFile=\"/etc/ssl/certs/logs-ca.pem\")",
	"  *.* action(type=\"omfwd\" target=\"logs.internal.example.com\" port=\"6514\" protocol=\"tcp\"",
	"             StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/name\"",
	"             StreamDriverPermittedPeers=\"logs.internal.example.com\")",
	concat(" ", [
		"The target must be the central log server, not this host (not 127.0.0.1, ::1, localhost or the host's own",
		"name). Install the driver (`apt install rsyslog-gnutls` / `dnf install rsyslog-gnutls`) and put the CA",
		"certificate (PEM) where DefaultNetstreamDriverCAFile points,",
	]),
	concat(" ", [
		"then `rsyslogd -N1 && systemctl restart rsyslog`. Alternatively enable systemd-journal-upload with",
		"URL=https://... in /etc/systemd/journal-upload.conf.",
	]),
])

rsyslog := input.facts.forwarding.rsyslog

journal := input.facts.forwarding.journal_upload

tls_required := input.params.log_forwarding_tls_required

at(f) := sprintf("%s:%d", [f.path, f.line])

dest(f) := sprintf("%s:%s", [f.target, f.port])

rsyslog_running if {
	rsyslog.installed == true
	some l in rsyslog.enabled_links
	l.resolves == true
}

covers(f) if f.coverage.all == true

covers(f) if {
	f.coverage.auth == true
	f.coverage.authpriv == true
}

secure(f) if {
	f.protocol == "tcp"
	f.tls == true
}

secure(f) if {
	f.protocol == "tcp"
	tls_required == false
}

anon(f) if {
	is_object(f.stream_driver_auth_mode)
	lower(f.stream_driver_auth_mode.value) == "anon"
}

qualifying contains f if {
	rsyslog_running
	some f in rsyslog.forwards
	secure(f)
	leaves_host(f)
	tls_can_run(f)
	f.conditional == null
	covers(f)
}

conditional_ok contains f if {
	rsyslog_running
	some f in rsyslog.forwards
	secure(f)
	leaves_host(f)
	tls_can_run(f)
	f.conditional != null
}

# A destination that is this host (loopback, localhost, its own name, an /etc/hosts loopback name).
leaves_host(f) if f.destination.loopback == false

# TLS that rsyslog can start: the driver's module installed, and the CA file it names holding a
# certificate. Plain TCP (allowed when TLS is not required) needs neither.
tls_can_run(f) if f.tls == false

tls_can_run(f) if {
	f.tls == true
	count(tls_blockers(f)) == 0
}

module_checkable(f) if count(f.driver_module.module_dirs_present) > 0

driver_not_installed(f) := {msg |
	f.driver_module != null
	module_checkable(f)
	f.driver_module.found == null
	msg := sprintf(concat(" ", [
		"its stream driver %s needs %s (package %s), which is not installed (searched %s): rsyslog refuses the",
		"action and forwards nothing",
	]), [
		f.driver_module.driver,
		f.driver_module.module,
		f.driver_module.package,
		concat(", ", f.driver_module.searched),
	])
}

driver_dir_missing(f) := {msg |
	f.driver_module != null
	not module_checkable(f)
	msg := sprintf(concat(" ", [
		"its stream driver %s needs %s (package %s), and no rsyslog module directory exists in the target (searched",
		"%s), so the driver is not installed",
	]), [
		f.driver_module.driver,
		f.driver_module.module,
		f.driver_module.package,
		concat(", ", f.driver_module.searched),
	])
}

ca_missing(f) := {msg |
	f.ca != null
	f.ca.exists == false
	msg := sprintf(
		"the CA file %s (%s:%d) does not exist: rsyslog cannot verify the log server and the TLS session fails",
		[f.ca.path, f.ca_file.path, f.ca_file.line]
	)
}

ca_not_pem(f) := {msg |
	f.ca != null
	f.ca.exists == true
	f.ca.certificates == 0
	msg := sprintf(concat(" ", [
		"the CA file %s (%s:%d) holds no PEM certificate (%s): rsyslog cannot verify the log server and the TLS",
		"session fails",
	]), [f.ca.path, f.ca_file.path, f.ca_file.line, f.ca.problem])
}

tls_blockers(f) := ((driver_not_installed(f) | driver_dir_missing(f)) | ca_missing(f)) | ca_not_pem(f)

journal_url := journal.url.value

journal_running if {
	journal.installed == true
	some l in journal.enabled_links
	l.resolves == true
}

journal_ok if {
	journal_running
	startswith(lower(journal_url), "https://")
}

# --- errors

read_errors contains msg if {
	some u in array.concat(object.get(rsyslog, "unreadable", []), object.get(journal, "unreadable", []))
	msg := sprintf("%s could not be read (%s), so where logs go is unknown", [u.path, u.error])
}

read_errors contains "the plugin did not report the rsyslog configuration, so nothing can be decided" if {
	not is_array(rsyslog.forwards)
}

# --- failures

failures contains msg if {
	some f in rsyslog.forwards
	f.protocol in {"tcp", "udp"}
	f.destination.loopback == true
	msg := sprintf(
		"%s forwards to %s, which is this host (%s): logs do not leave the host",
		[at(f), dest(f), f.destination.why]
	)
}

failures contains msg if {
	some f in rsyslog.forwards
	secure(f)
	f.tls == true
	leaves_host(f)
	some b in tls_blockers(f)
	msg := sprintf("%s forwards to %s over TLS, but %s", [at(f), dest(f), b])
}

failures contains msg if {
	some f in rsyslog.forwards
	f.protocol == "udp"
	msg := sprintf(
		"%s forwards to %s over UDP (%s): UDP drops messages without notice and sends them in plaintext",
		[at(f), dest(f), f.text]
	)
}

failures contains msg if {
	tls_required == true
	some f in rsyslog.forwards
	f.protocol == "tcp"
	f.tls == false
	msg := sprintf(concat(" ", [
		"%s forwards to %s over plain TCP (%s): no TLS (%s), so log records, which may contain PHI, cross the",
		"network in cleartext%s",
	]), [at(f), dest(f), f.text, tls_gap(f), port_note(f)])
}

port_note(f) := concat(" ", [
	"; port 6514 is the syslog-over-TLS port, but rsyslog speaks TLS only when told to, so this is the hardening",
	"guide's plaintext example",
]) if {
	f.port == "6514"
} else := ""

tls_gap(f) := concat(" ", [
	"no stream driver set: add StreamDriver=\"gtls\" and StreamDriverMode=\"1\", or $DefaultNetstreamDriver gtls and",
	"$ActionSendStreamDriverMode 1 before the action",
]) if {
	f.stream_driver == null
} else := sprintf(
	"stream driver %s (%s:%d) without StreamDriverMode 1",
	[f.stream_driver.value, f.stream_driver.path, f.stream_driver.line]
) if {
	lower(f.stream_driver.value) in {"gtls", "ossl", "mbedtls"}
} else := sprintf(
	"stream driver %s (%s:%d) is not a TLS driver",
	[f.stream_driver.value, f.stream_driver.path, f.stream_driver.line]
)

failures contains msg if {
	tls_required == true
	journal_running
	is_string(journal_url)
	not startswith(lower(journal_url), "https://")
	msg := sprintf(concat(" ", [
		"systemd-journal-upload sends to %s (%s:%d), not an https:// URL: the journal crosses the network in",
		"cleartext",
	]), [journal_url, journal.url.path, journal.url.line])
}

# --- status

default status := "fail"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
} else := "pass" if {
	forwarded
} else := "manual" if {
	count(conditional_ok) > 0
}

forwarded if count(qualifying) > 0

forwarded if journal_ok

# Why nothing counts when there are no outright failures.
nothing_reasons contains "rsyslog is not installed (no /usr/sbin/rsyslogd), so /etc/rsyslog.conf forwards nothing" if {
	rsyslog.installed == false
	count(rsyslog.forwards) > 0
}

nothing_reasons contains concat(" ", [
	"rsyslog is installed but not enabled at boot (no *.wants/rsyslog.service link under /etc/systemd/system), so",
	"its forwarding rules do not run",
]) if {
	rsyslog.installed == true
	not rsyslog_running
	count(rsyslog.forwards) > 0
}

nothing_reasons contains msg if {
	rsyslog_running
	some f in rsyslog.forwards
	secure(f)
	f.conditional == null
	not covers(f)
	msg := sprintf(
		"%s forwards only %s to %s, which does not include all of auth,authpriv at info",
		[at(f), what(f), dest(f)]
	)
}

nothing_reasons contains msg if {
	count(rsyslog.forwards) == 0
	msg := sprintf("no rsyslog forwarding action in %s", [concat(", ", files_read)])
}

nothing_reasons contains msg if {
	startswith(lower(journal_url), "https://")
	not journal_running
	msg := sprintf(
		"systemd-journal-upload has URL %s (%s:%d) but is not installed or not enabled at boot",
		[journal_url, journal.url.path, journal.url.line]
	)
}

nothing_reasons contains concat(" ", [
	"systemd-journal-upload is not configured",
	"(no URL= in /etc/systemd/journal-upload.conf or its drop-ins)",
]) if {
	not is_string(journal_url)
}

files_read := rsyslog.files if count(rsyslog.files) > 0

files_read := ["/etc/rsyslog.conf (not present)"] if count(rsyslog.files) == 0

warnings contains msg if {
	some f in rsyslog.forwards
	secure(f)
	anon(f)
	m := f.stream_driver_auth_mode
	msg := sprintf(concat(" ", [
		"warning: %s uses StreamDriverAuthMode anon (%s:%d): traffic is encrypted but the log server is not",
		"authenticated, so anyone who can redirect %s receives the logs; use x509/name with",
		"StreamDriverPermittedPeers",
	]), [at(f), m.path, m.line, f.target])
}

# What an action forwards: its selector, or every message for an action with no filter.
what(f) := sprintf("`%s`", [f.selector]) if {
	is_string(f.selector)
} else := "every message (an action with no filter)"

good_text(f) := sprintf(
	"%s forwards %s to %s over TLS (driver %s, mode %s%s)",
	[at(f), what(f), dest(f), f.stream_driver.value, f.stream_driver_mode.value, module_text(f)]
) if {
	f.tls == true
} else := sprintf(
	"%s forwards %s to %s over plain TCP (log_forwarding_tls_required is false)",
	[at(f), what(f), dest(f)]
)

module_text(f) := sprintf(
	", module %s, CA %s with %d certificate(s)",
	[f.driver_module.found, f.ca.path, f.ca.certificates]
) if {
	f.ca != null
	f.driver_module.found != null
} else := sprintf(", module %s", [f.driver_module.found]) if {
	f.driver_module.found != null
} else := ""

pass_reasons contains good_text(f) if some f in qualifying

pass_reasons contains msg if {
	journal_ok
	msg := sprintf(
		"systemd-journal-upload is enabled and sends the journal to %s (%s:%d)",
		[journal_url, journal.url.path, journal.url.line]
	)
}

manual_reasons contains msg if {
	some f in conditional_ok
	msg := sprintf(concat(" ", [
		"%s forwards to %s over %s only inside `%s`: confirm that the condition passes every auth and authpriv",
		"message (or forward *.* unconditionally)",
	]), [at(f), dest(f), transport(f), f.conditional])
}

transport(f) := "TLS" if f.tls == true

transport(f) := "plain TCP" if f.tls == false

reasons := sort(read_errors) if {
	status == "error"
} else := array.concat(sort(failures), sort(warnings)) if {
	status == "fail"
	count(failures) > 0
} else := array.concat(sort(pass_reasons), sort(warnings)) if {
	status == "pass"
} else := array.concat(sort(manual_reasons), sort(warnings)) if {
	status == "manual"
} else := array.concat(["logs are not forwarded off the host"], sort(nothing_reasons))

# --- evidence

evidence_items contains {"path": f.path, "line": f.line, "detail": detail(f)} if {
	some f in rsyslog.forwards
}

detail(f) := sprintf(
	"%s forward to %s, %s%s%s: %s",
	[f.syntax, dest(f), tls_text(f), cond_text(f), sel_text(f), f.text]
)

tls_text(f) := "UDP" if {
	f.protocol == "udp"
} else := sprintf(
	"TCP+TLS (driver %s at %s:%d, mode 1 at %s:%d)",
	[
		f.stream_driver.value,
		f.stream_driver.path,
		f.stream_driver.line,
		f.stream_driver_mode.path,
		f.stream_driver_mode.line,
	]
) if {
	f.tls == true
} else := "plain TCP"

cond_text(f) := sprintf(", conditional on `%s`", [f.conditional]) if {
	f.conditional != null
} else := ""

sel_text(f) := sprintf(", selector %s", [f.selector]) if {
	is_string(f.selector)
} else := ""

evidence_items contains {
	"path": m.path,
	"line": m.line,
	"detail": sprintf("StreamDriverAuthMode %s for the forward at %s", [m.value, at(f)]),
} if {
	some f in rsyslog.forwards
	m := f.stream_driver_auth_mode
	is_object(m)
}

evidence_items contains {
	"path": c.path,
	"line": c.line,
	"detail": sprintf("CA file %s for the forward at %s", [c.value, at(f)]),
} if {
	some f in rsyslog.forwards
	c := f.ca_file
	is_object(c)
}

evidence_items contains {"path": p, "line": 0, "detail": "rsyslog configuration file read"} if {
	some p in rsyslog.files
}

evidence_items contains {"path": l.path, "line": 0, "detail": sprintf("%s enable link -> %v", [unit, l.target])} if {
	some unit, links in {
		"rsyslog.service": rsyslog.enabled_links,
		"systemd-journal-upload.service": journal.enabled_links,
	}
	some l in links
}

evidence_items contains {
	"path": journal.url.path,
	"line": journal.url.line,
	"detail": sprintf("systemd-journal-upload URL=%s", [journal_url]),
} if {
	is_string(journal_url)
}

evidence_items contains {"path": i.path, "line": i.line, "detail": i.message} if {
	some i in array.concat(object.get(rsyslog, "issues", []), object.get(journal, "issues", []))
}

evidence_items contains {"path": "/etc/rsyslog.conf", "line": 0, "detail": "no forwarding action found"} if {
	count(rsyslog.forwards) == 0
}

evidence := sort(evidence_items)

remediation := "Make the rsyslog and journal-upload configuration readable to the scan, then rerun." if {
	status == "error"
} else := remediation_tls if {
	status != "pass"
} else := concat("\n", [concat(" ", [
	"Use StreamDriverAuthMode=\"x509/name\" with StreamDriverPermittedPeers (legacy: $ActionSendStreamDriverAuthMode",
	"x509/name and $ActionSendStreamDriverPermittedPeer) so rsyslog checks the log server's certificate.",
]), remediation_tls]) if {
	count(warnings) > 0
} else := remediation_tls

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

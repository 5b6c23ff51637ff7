# logoff.ssh-idle: sshd probes its clients and drops dead ones (ClientAliveInterval, ClientAliveCountMax).
package phipolicy.hipaa.logoff_ssh_idle

import data.phipolicy.lib

metadata := {
	"id": "logoff.ssh-idle",
	"safeguard": "automatic-logoff",
	"cfr": ["164.312(a)(2)(iii)"],
	"title": "sshd drops unresponsive clients (ClientAliveInterval and ClientAliveCountMax)",
	"severity": "low",
	"description": concat(" ", [
		"Checks the effective sshd configuration (first value wins, Include expanded in place, Match blocks apart):",
		"ClientAliveInterval must be 1..ssh_client_alive_interval_max_s and ClientAliveCountMax",
		"1..ssh_client_alive_count_max.",
		"OpenSSH's defaults (ClientAliveInterval 0, ClientAliveCountMax 3) fail: with interval 0 sshd never probes.",
		"A Match block that sets either weaker is a failing finding with its line.",
		"Client-alive probes only drop dead peers: an idle client that is still connected answers them and stays",
		"logged in,",
		"so the hardening guide's comment \"ClientAliveInterval 300 = disconnect after 5 minutes idle\" is wrong.",
		"Real idle logoff comes from TMOUT (logoff.shell-timeout) or, on OpenSSH >= 9.2, ChannelTimeout session=...,",
		"which is reported as evidence. Not applicable when sshd is not installed.",
	]),
	"parameters": ["ssh_client_alive_interval_max_s", "ssh_client_alive_count_max"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"sshd": ["object"]},
	"remediation": concat("\n", [
		concat(" ", [
			"Create /etc/ssh/sshd_config.d/00-hipaa.conf (read before the main file's own lines: the first value",
			"wins) with:",
		]),
		"  ClientAliveInterval 300",
		"  ClientAliveCountMax 3",
		"then `sshd -t && systemctl reload ssh` (Debian/Ubuntu) or `systemctl reload sshd` (Rocky/RHEL).",
		concat(" ", [
			"These settings only drop dead connections. To log off idle but connected sessions set TMOUT",
			"(logoff.shell-timeout) and, on OpenSSH >= 9.2, add `ChannelTimeout session=15m`.",
		]),
	]),
}

sshd := input.facts.sshd

settings := sshd.settings

params := input.params

interval_max := params.ssh_client_alive_interval_max_s

count_max := params.ssh_client_alive_count_max

# What client-alive probes do and do not do; part of every applicable result's evidence.
probe_note := concat(" ", [
	"ClientAlive probes only drop dead peers: an idle client that is still connected answers them and stays logged in",
	"(the guide's \"ClientAliveInterval 300 = disconnect after 5 minutes idle\" is wrong).",
	"Real idle logoff comes from TMOUT (logoff.shell-timeout) or, on OpenSSH >= 9.2, ChannelTimeout session=...",
])

integer(v) := to_number(v) if regex.match(`^[0-9]+$`, v)

# Where a setting's value came from, for messages.
origin(s) := lib.sshd_origin(sshd, s)

interval := integer(settings.clientaliveinterval.value)

count_value := integer(settings.clientalivecountmax.value)

# --- not applicable / errors

installed if sshd.installed == true

read_errors contains msg if {
	some msg in lib.sshd_incomplete(sshd)
}

read_errors contains msg if {
	some u in sshd.unreadable
	msg := sprintf(
		"%s could not be read (%s): sshd would refuse to start and the idle settings in force are unknown",
		[u.path, u.error]
	)
}

read_errors contains "the plugin did not report whether sshd is installed, so nothing can be decided" if {
	not is_boolean(sshd.installed)
}

read_errors contains concat(" ", [
	"sshd is installed but /etc/ssh/sshd_config does not exist (sshd refuses to start without it), so the idle",
	"settings cannot be decided",
]) if {
	installed
	not sshd.config_found
	count(sshd.unreadable) == 0
}

# --- failures

failures contains msg if {
	not interval
	msg := sprintf(
		"ClientAliveInterval could not be determined (%v)",
		[object.get(settings, ["clientaliveinterval", "value"], "not in the facts")]
	)
}

failures contains msg if {
	interval == 0
	s := settings.clientaliveinterval
	msg := sprintf(concat(" ", [
		"ClientAliveInterval is 0 (%s): sshd never probes the client, so dead SSH sessions are never dropped; it",
		"must be 1 to %d seconds",
	]), [origin(s), interval_max])
}

failures contains msg if {
	interval > interval_max
	s := settings.clientaliveinterval
	msg := sprintf(
		"ClientAliveInterval is %d seconds (%s), more than ssh_client_alive_interval_max_s (%d)",
		[interval, origin(s), interval_max]
	)
}

failures contains msg if {
	not count_value
	msg := sprintf(
		"ClientAliveCountMax could not be determined (%v)",
		[object.get(settings, ["clientalivecountmax", "value"], "not in the facts")]
	)
}

failures contains msg if {
	count_value == 0
	s := settings.clientalivecountmax
	msg := sprintf(
		"ClientAliveCountMax is 0 (%s): sshd never disconnects an unresponsive client; it must be 1 to %d",
		[origin(s), count_max]
	)
}

failures contains msg if {
	count_value > count_max
	s := settings.clientalivecountmax
	msg := sprintf(
		"ClientAliveCountMax is %d (%s), more than ssh_client_alive_count_max (%d)",
		[count_value, origin(s), count_max]
	)
}

# Match blocks (other than `Match all`, already folded into the global values) that weaken a setting
# for the connections they match.
weak_match(name, v) if {
	name == "clientaliveinterval"
	integer(v) == 0
}

weak_match(name, v) if {
	name == "clientaliveinterval"
	integer(v) > interval_max
}

weak_match(name, v) if {
	name == "clientaliveinterval"
	not integer(v)
}

weak_match(name, v) if {
	name == "clientalivecountmax"
	integer(v) == 0
}

weak_match(name, v) if {
	name == "clientalivecountmax"
	integer(v) > count_max
}

weak_match(name, v) if {
	name == "clientalivecountmax"
	not integer(v)
}

keyword_name := {"clientaliveinterval": "ClientAliveInterval", "clientalivecountmax": "ClientAliveCountMax"}

match_failures contains msg if {
	some b in sshd.match_blocks
	not b.matches_all
	some name, s in b.settings
	keyword_name[name]
	weak_match(name, s.value)
	msg := sprintf(concat(" ", [
		"Match %s (%s:%d) sets %s %s at %s:%d for the connections it matches, outside the allowed range",
		"(ClientAliveInterval 1..%d, ClientAliveCountMax 1..%d)",
	]), [b.criteria, b.path, b.line, keyword_name[name], s.value, s.path, s.line, interval_max, count_max])
}

all_failures := failures | match_failures

# --- status

default status := "fail"
status := "not_applicable" if {
	sshd.installed == false
} else := "error" if {
	count(read_errors) > 0
} else := "pass" if {
	count(all_failures) == 0
	interval >= 1
	interval <= interval_max
	count_value >= 1
	count_value <= count_max
}

not_installed_reason := sprintf(
	"%s; /etc/ssh/sshd_config exists but no server reads it",
	[lib.sshd_not_installed]
) if {
	sshd.config_found
} else := lib.sshd_not_installed

channel_timeout := settings.channeltimeout

session_channel_timeout if {
	some entry in split(channel_timeout.value, " ")
	regex.match(`^(session[^=]*|\*|global)=`, entry)
	not endswith(entry, "=0")
}

channel_note := sprintf(
	"ChannelTimeout %s (%s): sshd closes idle session channels, a real idle logoff for SSH (OpenSSH >= 9.2)",
	[channel_timeout.value, origin(channel_timeout)]
) if {
	not channel_timeout.default
	session_channel_timeout
} else := sprintf(concat(" ", [
	"ChannelTimeout %s (%s) sets no timeout for session channels; `ChannelTimeout session=15m` (OpenSSH >= 9.2)",
	"would log off idle SSH sessions",
]), [channel_timeout.value, origin(channel_timeout)]) if {
	not channel_timeout.default
} else := concat(" ", [
	"ChannelTimeout is not set: SSH sessions have no server-side idle timeout; only TMOUT (logoff.shell-timeout)",
	"logs off an idle shell, or add `ChannelTimeout session=15m` on OpenSSH >= 9.2",
])

pass_reason := sprintf(concat(" ", [
	"ClientAliveInterval %d (%s) and ClientAliveCountMax %d (%s): sshd drops a client that stops answering after",
	"about %d seconds. %s",
]), [
	interval,
	origin(settings.clientaliveinterval),
	count_value,
	origin(settings.clientalivecountmax),
	interval * count_value,
	probe_note,
])

reasons := [not_installed_reason] if {
	status == "not_applicable"
} else := sort(read_errors) if {
	status == "error"
} else := array.concat(sort(all_failures), [probe_note]) if {
	status == "fail"
} else := [pass_reason]

# --- evidence

evidence_items contains {
	"path": s.path,
	"line": s.line,
	"detail": sprintf("%s %s (%s)", [keyword_name[name], s.value, origin(s)]),
} if {
	installed
	some name, s in settings
	keyword_name[name]
}

evidence_items contains {
	"path": b.path,
	"line": b.line,
	"detail": sprintf("Match %s: %s %s at %s:%d", [b.criteria, keyword_name[name], s.value, s.path, s.line]),
} if {
	installed
	some b in sshd.match_blocks
	some name, s in b.settings
	keyword_name[name]
}

evidence_items contains {"path": channel_timeout.path, "line": channel_timeout.line, "detail": channel_note} if {
	installed
}

evidence_items contains {"path": "/etc/ssh/sshd_config", "line": 0, "detail": probe_note} if {
	installed
}

evidence_items contains {"path": i.path, "line": i.line, "detail": i.message} if {
	installed
	some i in sshd.issues
}

evidence_items contains lib.unreadable_evidence(u) if {
	some u in sshd.unreadable
}

evidence_items contains {"path": p, "line": 0, "detail": "sshd binary"} if {
	p := sshd.binary
	is_string(p)
}

evidence := sort(evidence_items)

# --- remediation, specific to what failed

steps contains {"order": 1, "text": s} if {
	count(failures) > 0
	s := concat("\n", [
		concat(" ", [
			"Create /etc/ssh/sshd_config.d/00-hipaa.conf (sshd reads drop-ins where `Include",
			"/etc/ssh/sshd_config.d/*.conf` appears, near the top of the Debian and Rocky 9 default config; the",
			"first value wins, so 00- beats later drop-ins and the main file):",
		]),
		sprintf("     ClientAliveInterval %d", [interval_max]),
		sprintf("     ClientAliveCountMax %d", [count_max]),
		concat(" ", [
			"   On Rocky 8 (no Include in its default sshd_config) put these lines at the top of",
			"/etc/ssh/sshd_config instead.",
		]),
		concat(" ", [
			"   Remove conflicting ClientAliveInterval/ClientAliveCountMax lines that sshd reads before it (above",
			"the Include line of /etc/ssh/sshd_config).",
		]),
	])
}

steps contains {"order": 2, "text": msg} if {
	count(match_failures) > 0
	blocks := {sprintf("%s:%d", [b.path, b.line]) |
		some b in sshd.match_blocks
		not b.matches_all
		some name, s in b.settings
		keyword_name[name]
		weak_match(name, s.value)
	}
	msg := sprintf(
		"Fix the ClientAlive lines in the Match blocks at %s (1..%d seconds, count 1..%d).",
		[concat(", ", sort(blocks)), interval_max, count_max]
	)
}

steps contains {"order": 3, "text": concat(" ", [
	"Check and reload: `sshd -t && systemctl reload ssh` (Debian/Ubuntu) or `sshd -t && systemctl reload sshd`",
	"(Rocky/RHEL).",
])} if {
	count(all_failures) > 0
}

steps contains {"order": 4, "text": concat(" ", [
	"These settings only drop dead connections; an idle client that is still connected stays. For real idle logoff",
	"set TMOUT (see logoff.shell-timeout) and, on OpenSSH >= 9.2, add `ChannelTimeout session=15m` to the same",
	"drop-in.",
])} if {
	count(all_failures) > 0
}

steps contains {"order": 0, "text": msg} if {
	status == "error"
	msg := concat(" ", [
		"Make the sshd configuration readable to the scan (and to sshd): fix the files listed in the reasons, then",
		"rerun.",
	])
}

remediation := lib.remediation(steps, metadata.remediation)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}

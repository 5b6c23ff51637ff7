# Helpers every control's policy may use. The engine loads each module whose package is
# `phipolicy.lib` (or below it) next to every control's module; a policy imports it with
# `import data.phipolicy.lib` and calls `lib.step_texts(steps)`.
package phipolicy.lib

# --- remediation

# The texts of remediation steps in order. `steps` is a set of {"order": n, "text": t}; steps of the
# same order come in the order of their texts.
step_texts(steps) := [text |
	some order in sort({s.order | some s in steps})
	some text in sort({s.text | some s in steps; s.order == order})
]

# A result's remediation: its steps, one a line, or the control's general remediation when no step
# applies.
remediation(steps, general) := concat("\n", step_texts(steps)) if {
	count(steps) > 0
} else := general

# --- evidence

# The evidence of a file the plugin reports as unreadable ({"path": p, "error": e}).
unreadable_evidence(u) := {"path": u.path, "line": 0, "detail": sprintf("could not be read: %s", [u.error])}

# --- sshd (auth.ssh, auth.banner, logoff.ssh-idle read the same `sshd` facts)

# Reason and evidence when no sshd binary exists.
sshd_not_installed := "sshd is not installed (neither /usr/sbin/sshd nor /usr/bin/sshd exists)"

sshd_not_installed_evidence := {"path": "/usr/sbin/sshd", "line": 0, "detail": "not installed (nor /usr/bin/sshd)"}

# The files sshd reads, in order, each named up to a dozen; past that the first ten, the last and the
# count (a host may have thousands of drop-ins).
sshd_files_read(sshd) := concat(", ", sshd.files) if {
	count(sshd.files) <= 12
} else := sprintf("%s, ..., %s (%v files)", [
	concat(", ", array.slice(sshd.files, 0, 10)),
	sshd.files[count(sshd.files) - 1],
	count(sshd.files),
])

# Where the value in force of a global sshd setting ({"value", "path", "line", "default"}) comes
# from: the line that first sets it (sshd keeps the first value it reads), or OpenSSH's default.
sshd_origin(sshd, s) := sprintf("OpenSSH default: no line sets it in %s", [sshd_files_read(sshd)]) if {
	s["default"]
} else := sprintf("first set in %s:%d", [s.path, s.line])

# The places where phipolicy stopped reading includes at its bound on work (sshd itself reads on):
# each one makes the configuration in force unknown.
sshd_incomplete(sshd) := {sprintf("%s:%v: %s", [i.path, i.line, i.message]) |
	some i in object.get(sshd, "incomplete", [])
}

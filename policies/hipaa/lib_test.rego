# Tests of the helpers every policy shares (lib.rego).
package phipolicy.lib_test

import data.phipolicy.lib

sshd(files) := {"files": files}

test_steps_come_by_order_then_text if {
	steps := {{"order": 2, "text": "b"}, {"order": 1, "text": "z"}, {"order": 2, "text": "a"}}
	lib.step_texts(steps) == ["z", "a", "b"]
}

test_remediation_falls_back_to_the_general_text if {
	lib.remediation(set(), "general") == "general"
	lib.remediation({{"order": 0, "text": "one"}, {"order": 1, "text": "two"}}, "general") == "one\ntwo"
}

test_origin_names_the_first_line_or_the_files_read if {
	lib.sshd_origin(
		sshd(["/etc/ssh/sshd_config"]),
		{"path": "/etc/ssh/sshd_config", "line": 3, "default": false}
	) == "first set in /etc/ssh/sshd_config:3"
	lib.sshd_origin(
		sshd(["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/00-hipaa.conf"]),
		{"path": "/etc/ssh/sshd_config", "line": 0, "default": true}
	) == "OpenSSH default: no line sets it in /etc/ssh/sshd_config, /etc/ssh/sshd_config.d/00-hipaa.conf"
}

test_many_files_are_shortened if {
	files := [sprintf("/etc/ssh/sshd_config.d/%02d.conf", [i]) | some i in numbers.range(1, 20)]
	text := lib.sshd_files_read(sshd(files))
	endswith(text, ", ..., /etc/ssh/sshd_config.d/20.conf (20 files)")
	startswith(text, "/etc/ssh/sshd_config.d/01.conf, ")
}

test_incomplete_reads_are_listed if {
	lib.sshd_incomplete({"incomplete": [{
		"path": "/etc/ssh/sshd_config",
		"line": 4,
		"message": "stopped",
	}]}) == {"/etc/ssh/sshd_config:4: stopped"}
	lib.sshd_incomplete({}) == set()
}

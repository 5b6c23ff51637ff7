//! Tests of the profile reader: real distribution profiles, bash semantics, hostile input.

use super::*;
use phipolicy_sdk::testing::tree;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../engine/tests/fixtures");

fn fixture(case: &str, path: &str) -> String {
    let file = format!("{FIXTURES}/{case}/root{path}");
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {file}: {e}"))
}

/// Debian 12's `/etc/profile` (base-files) and `/etc/bash.bashrc` (bash).
fn debian_profile() -> String {
    fixture("logoff-defaults", "/etc/profile")
}

fn debian_bashrc() -> String {
    fixture("logoff-defaults", "/etc/bash.bashrc")
}

/// A Debian tree: the real `/etc/profile` and `/etc/bash.bashrc` plus `extra` files.
fn debian(extra: &[(&str, &str)]) -> LoginTmout {
    let profile = debian_profile();
    let bashrc = debian_bashrc();
    let mut files: Vec<(&str, &str)> =
        vec![("/etc/profile", &profile), ("/etc/bash.bashrc", &bashrc)];
    files.extend_from_slice(extra);
    let (_root, t) = tree(&files);
    login_tmout(&t, Family::Debian)
}

fn paths(m: &LoginTmout) -> Vec<&str> {
    m.files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn debian_defaults_set_no_tmout_and_read_bashrc_before_profile_d() {
    let m = debian(&[(
        "/etc/profile.d/bash_completion.sh",
        &fixture("logoff-defaults", "/etc/profile.d/bash_completion.sh"),
    )]);
    assert!(m.profile_found);
    assert_eq!(
        paths(&m),
        vec![
            "/etc/profile",
            "/etc/bash.bashrc",
            "/etc/profile.d/bash_completion.sh"
        ]
    );
    assert_eq!(
        m.files[1].sourced_from,
        Some(SourcedFrom {
            path: "/etc/profile".into(),
            line: 16
        })
    );
    let lp = m.profile_d_loop.as_ref().expect("profile.d loop");
    assert_eq!(
        (lp.line, lp.patterns.clone()),
        (28, vec!["/etc/profile.d/*.sh".to_string()])
    );
    assert!(m.assignments.is_empty());
    assert!(!m.effective.set);
    assert!(m.effective.readonly.is_none());
    assert!(m.issues.is_empty(), "{:?}", m.issues);
    assert_eq!(
        m.sources_not_followed
            .iter()
            .map(|s| s.file.as_str())
            .collect::<Vec<_>>(),
        vec!["/usr/share/bash-completion/bash_completion"]
    );
    assert!(m.ignored.is_empty());
}

#[test]
fn hardened_profile_d_snippet_is_readonly_and_exported() {
    let m = debian(&[(
        "/etc/profile.d/99-hipaa-timeout.sh",
        "TMOUT=900; readonly TMOUT; export TMOUT\n",
    )]);
    let e = &m.effective;
    assert!(e.set);
    assert_eq!(
        (e.value.as_deref(), e.seconds, e.numeric),
        (Some("900"), Some(900), true)
    );
    assert_eq!(
        (e.path.as_deref(), e.line, e.conditional),
        (Some("/etc/profile.d/99-hipaa-timeout.sh"), 1, false)
    );
    assert_eq!(
        e.readonly.as_ref().map(|r| (r.path.as_str(), r.line)),
        Some(("/etc/profile.d/99-hipaa-timeout.sh", 1))
    );
    assert!(e.exported.is_some());
    assert_eq!(m.assignments.len(), 3);
    assert!(
        m.assignments
            .iter()
            .all(|s| s.outcome == Outcome::Applied && s.sourced && !s.conditional)
    );
    assert_eq!(m.assignments[0].command, "assignment");
    assert_eq!(m.assignments[1].command, "readonly");
    assert_eq!(m.assignments[2].exported, Some(true));
}

#[test]
fn file_without_sh_suffix_is_not_sourced() {
    let m = debian(&[(
        "/etc/profile.d/tmout",
        "TMOUT=900; readonly TMOUT; export TMOUT\n",
    )]);
    assert!(!m.effective.set);
    assert_eq!(m.ignored.len(), 1);
    assert_eq!(m.ignored[0].path, "/etc/profile.d/tmout");
    assert_eq!(
        m.ignored[0].reason,
        "/etc/profile reads only /etc/profile.d/*.sh (loop at /etc/profile:28)"
    );
    assert_eq!(m.assignments.len(), 3);
    assert!(
        m.assignments
            .iter()
            .all(|s| s.outcome == Outcome::NotSourced && !s.sourced)
    );
}

#[test]
fn readonly_then_override_is_refused() {
    let m = debian(&[
        (
            "/etc/profile.d/10-timeout.sh",
            "readonly TMOUT=600\nexport TMOUT\n",
        ),
        ("/etc/profile.d/50-dev.sh", "TMOUT=7200; export TMOUT\n"),
    ]);
    let e = &m.effective;
    assert_eq!(
        (e.seconds, e.path.as_deref(), e.line),
        (Some(600), Some("/etc/profile.d/10-timeout.sh"), 1)
    );
    assert_eq!(e.refused.len(), 1);
    assert_eq!(
        (e.refused[0].path.as_str(), e.refused[0].line),
        ("/etc/profile.d/50-dev.sh", 1)
    );
    assert_eq!(
        (
            e.refused[0].readonly_path.as_str(),
            e.refused[0].readonly_line
        ),
        ("/etc/profile.d/10-timeout.sh", 1)
    );
    let dev: Vec<_> = m
        .assignments
        .iter()
        .filter(|s| s.path == "/etc/profile.d/50-dev.sh")
        .collect();
    assert_eq!(dev[0].outcome, Outcome::Refused);
    // bash abandons the rest of the line after a refused plain assignment.
    assert_eq!(dev[1].outcome, Outcome::NotRun);
}

#[test]
fn later_file_overrides_when_not_yet_readonly() {
    let m = debian(&[
        ("/etc/profile.d/10-hipaa.sh", "export TMOUT=900\n"),
        ("/etc/profile.d/50-dev.sh", "export TMOUT=7200\n"),
        ("/etc/profile.d/90-lock.sh", "readonly TMOUT\n"),
    ]);
    let e = &m.effective;
    assert_eq!(
        (e.seconds, e.path.as_deref()),
        (Some(7200), Some("/etc/profile.d/50-dev.sh"))
    );
    assert_eq!(
        e.readonly.as_ref().map(|r| r.path.as_str()),
        Some("/etc/profile.d/90-lock.sh")
    );
    assert!(e.refused.is_empty());
}

#[test]
fn tmout_zero_and_non_numeric_values() {
    let m = debian(&[("/etc/profile.d/t.sh", "readonly TMOUT=0\n")]);
    assert_eq!((m.effective.seconds, m.effective.numeric), (Some(0), true));
    let m = debian(&[("/etc/profile.d/t.sh", "TMOUT=15min\nreadonly TMOUT\n")]);
    assert_eq!(
        (m.effective.seconds, m.effective.numeric),
        (Some(15), false)
    );
    let m = debian(&[("/etc/profile.d/t.sh", "TMOUT=never\n")]);
    assert_eq!((m.effective.seconds, m.effective.numeric), (Some(0), false));
    let m = debian(&[("/etc/profile.d/t.sh", "TMOUT=$((15*60))\n")]);
    assert!(m.effective.value_expands);
    assert_eq!(
        (m.effective.value.as_deref(), m.effective.seconds),
        (Some("$((15*60))"), None)
    );
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "TMOUT='900'\nexport TMOUT=\"600\" # shorter\n",
    )]);
    assert_eq!(
        (m.effective.value.as_deref(), m.effective.line),
        (Some("600"), 2)
    );
}

#[test]
fn declare_and_typeset_readonly_forms() {
    for (snippet, exported) in [
        ("declare -r TMOUT=900\n", false),
        ("declare -rx TMOUT=900\n", true),
        ("typeset -r TMOUT=900\n", false),
        ("typeset -xr TMOUT=900\n", true),
        ("declare -x -r TMOUT=900\n", true),
        ("TMOUT=900\ndeclare -r TMOUT\n", false),
    ] {
        let m = debian(&[("/etc/profile.d/t.sh", snippet)]);
        let e = &m.effective;
        assert_eq!(e.seconds, Some(900), "{snippet}");
        assert!(e.readonly.is_some(), "{snippet}");
        assert_eq!(e.exported.is_some(), exported, "{snippet}");
    }
}

#[test]
fn export_assignment_on_readonly_keeps_export_but_declare_does_not() {
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "readonly TMOUT=900\nexport TMOUT=60\n",
    )]);
    assert_eq!(m.effective.seconds, Some(900));
    assert_eq!(m.effective.exported.as_ref().map(|x| x.line), Some(2));
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "readonly TMOUT=900\ndeclare -x TMOUT=60\n",
    )]);
    assert_eq!(m.effective.seconds, Some(900));
    assert!(m.effective.exported.is_none());
}

#[test]
fn export_n_unset_and_readonly_without_value() {
    let m = debian(&[("/etc/profile.d/t.sh", "export TMOUT=900\nexport -n TMOUT\n")]);
    assert!(m.effective.exported.is_none());
    let m = debian(&[("/etc/profile.d/t.sh", "export TMOUT=900\nunset TMOUT\n")]);
    assert!(!m.effective.set);
    assert_eq!(m.effective.line, 2);
    let m = debian(&[("/etc/profile.d/t.sh", "readonly TMOUT\nTMOUT=900\n")]);
    assert!(!m.effective.set);
    assert!(m.effective.readonly.is_some());
    assert_eq!(m.effective.refused.len(), 1);
    let m = debian(&[("/etc/profile.d/t.sh", "readonly TMOUT=900\nunset TMOUT\n")]);
    assert!(m.effective.set);
    assert_eq!(m.assignments[1].outcome, Outcome::Refused);
}

#[test]
fn conditional_constructs_are_flagged() {
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "if [ \"$(id -u)\" -ne 0 ]; then\n  TMOUT=900\nfi\nreadonly TMOUT\nexport TMOUT\n",
    )]);
    let e = &m.effective;
    assert_eq!((e.seconds, e.conditional), (Some(900), true));
    assert_eq!(
        m.assignments[0].condition.as_deref(),
        Some("inside `if` at line 1")
    );
    assert!(!e.readonly.as_ref().is_some_and(|r| r.conditional));

    let m = debian(&[("/etc/profile.d/t.sh", "[ -n \"$SSH_TTY\" ] && TMOUT=900\n")]);
    assert!(m.effective.conditional);
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "TMOUT=900 && readonly TMOUT && export TMOUT\n",
    )]);
    assert!(
        m.assignments.iter().all(|s| !s.conditional),
        "{:?}",
        m.assignments
    );
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "case $USER in\n  root) TMOUT=300 ;;\n  *) TMOUT=900 ;;\nesac\n",
    )]);
    assert_eq!(m.assignments.len(), 2);
    assert!(m.assignments.iter().all(|s| s.conditional));
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "set_tmout() {\n  readonly TMOUT=900\n}\n",
    )]);
    assert!(m.effective.conditional);
    assert!(
        m.assignments[0]
            .condition
            .as_deref()
            .is_some_and(|c| c.contains("function `set_tmout`"))
    );
    let m = debian(&[("/etc/profile.d/t.sh", "f() { declare -r TMOUT=900; }\nf\n")]);
    assert_eq!(m.assignments[0].outcome, Outcome::NoEffect);
    assert!(!m.effective.set);
    let m = debian(&[("/etc/profile.d/t.sh", "( TMOUT=900 )\necho x | TMOUT=5\n")]);
    assert!(m.assignments.iter().all(|s| s.outcome == Outcome::NoEffect));
    assert!(!m.effective.set);
}

#[test]
fn one_line_if_and_semicolons() {
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "if true; then TMOUT=900; fi; readonly TMOUT; export TMOUT\n",
    )]);
    assert_eq!(m.assignments.len(), 3);
    assert!(m.assignments[0].conditional);
    assert!(!m.assignments[1].conditional);
    assert!(!m.assignments[2].conditional);
}

#[test]
fn comments_heredocs_and_prefix_assignments_do_not_count() {
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "# TMOUT=900\necho 'TMOUT=900' # readonly TMOUT\ncat <<EOF >/tmp/x\nTMOUT=900\nreadonly TMOUT\nEOF\nTMOUT=900 /bin/true\n",
    )]);
    assert!(!m.effective.set);
    assert_eq!(m.assignments.len(), 1);
    assert_eq!(
        (m.assignments[0].command.as_str(), m.assignments[0].outcome),
        ("prefix-assignment", Outcome::NoEffect)
    );
    assert!(m.issues.is_empty(), "{:?}", m.issues);
}

#[test]
fn top_level_return_stops_the_file() {
    let m = debian(&[("/etc/profile.d/t.sh", "return 0\nreadonly TMOUT=900\n")]);
    assert!(!m.effective.set);
    assert_eq!(m.assignments[0].outcome, Outcome::NotRun);
}

#[test]
fn line_continuation_and_multiple_operands() {
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "readonly \\\n  TMOUT=900 HISTSIZE=1000\nexport PATH TMOUT\n",
    )]);
    assert_eq!((m.effective.seconds, m.effective.line), (Some(900), 1));
    assert!(m.effective.readonly.is_some());
    assert_eq!(m.effective.exported.as_ref().map(|x| x.line), Some(3));
}

#[test]
fn rocky_order_sources_bashrc_after_profile_d_and_sh_local() {
    let case = "logoff-rocky-bashrc";
    let profile = fixture(case, "/etc/profile");
    let bashrc = fixture(case, "/etc/bashrc");
    let (_root, t) = tree(&[
        ("/etc/profile", &profile),
        ("/etc/bashrc", &bashrc),
        ("/etc/profile.d/sh.local", "TMOUT=1800\n"),
        ("/etc/profile.d/colorls.sh", "alias ll='ls -l'\n"),
        ("/etc/profile.d/notes.txt", "TMOUT=5\n"),
    ]);
    let m = login_tmout(&t, Family::Rhel);
    assert_eq!(
        paths(&m),
        vec![
            "/etc/profile",
            "/etc/profile.d/colorls.sh",
            "/etc/profile.d/sh.local",
            "/etc/bashrc"
        ]
    );
    let e = &m.effective;
    assert_eq!(
        (e.seconds, e.path.as_deref()),
        (Some(900), Some("/etc/bashrc"))
    );
    assert!(!e.conditional);
    assert_eq!(
        e.readonly
            .as_ref()
            .map(|r| (r.path.as_str(), r.conditional)),
        Some(("/etc/bashrc", false))
    );
    assert_eq!(
        e.exported.as_ref().map(|r| r.path.as_str()),
        Some("/etc/bashrc")
    );
    assert_eq!(m.ignored.len(), 1);
    assert!(
        m.ignored[0]
            .reason
            .contains("/etc/profile.d/*.sh /etc/profile.d/sh.local")
    );
    assert!(m.issues.is_empty(), "{:?}", m.issues);
}

#[test]
fn rc_file_not_sourced_by_profile_is_ignored() {
    let (_root, t) = tree(&[
        ("/etc/profile", "PATH=/usr/bin:/bin\nexport PATH\n"),
        ("/etc/bash.bashrc", "readonly TMOUT=900; export TMOUT\n"),
        ("/etc/profile.d/a.sh", "TMOUT=1\n"),
    ]);
    let m = login_tmout(&t, Family::Debian);
    assert!(!m.effective.set);
    let ignored: Vec<_> = m
        .ignored
        .iter()
        .map(|i| (i.path.as_str(), i.reason.as_str()))
        .collect();
    assert_eq!(
        ignored,
        vec![
            (
                "/etc/profile.d/a.sh",
                "/etc/profile has no loop that sources /etc/profile.d"
            ),
            (
                "/etc/bash.bashrc",
                "/etc/profile does not source it, so login shells do not read it"
            ),
        ]
    );
}

#[test]
fn missing_profile_and_unreadable_snippets() {
    let (_root, t) = tree(&[("/etc/profile.d/a.sh", "readonly TMOUT=900\n")]);
    let m = login_tmout(&t, Family::Debian);
    assert!(!m.profile_found);
    assert_eq!(
        m.ignored[0].reason,
        "/etc/profile does not exist, so nothing sources /etc/profile.d"
    );

    let profile = debian_profile();
    let (root, t) = tree(&[
        ("/etc/profile", &profile),
        (
            "/etc/profile.d/10-a.sh",
            "readonly TMOUT=900\nexport TMOUT\n",
        ),
    ]);
    root.symlink("/etc/profile.d/20-b.sh", "/etc/profile.d/20-b.sh");
    let m = login_tmout(&t, Family::Debian);
    assert_eq!(m.unreadable.len(), 1);
    assert_eq!(m.unreadable[0].path, "/etc/profile.d/20-b.sh");
    assert!(m.unreadable[0].readonly_before);
}

#[test]
fn sourcing_cycles_are_cut() {
    let (_root, t) = tree(&[
        (
            "/etc/profile",
            "for i in /etc/profile.d/*.sh; do . $i; done\n",
        ),
        ("/etc/profile.d/a.sh", ". /etc/profile.d/b.sh\n"),
        (
            "/etc/profile.d/b.sh",
            ". /etc/profile.d/a.sh\nreadonly TMOUT=900\n",
        ),
    ]);
    let m = login_tmout(&t, Family::Unknown);
    assert!(
        m.issues
            .iter()
            .any(|i| i.message.contains("sources itself"))
    );
    assert_eq!(m.effective.seconds, Some(900));
}

#[test]
fn atoi_semantics() {
    for (v, want) in [
        ("900", 900),
        (" 900", 900),
        ("900abc", 900),
        ("1.5", 1),
        ("-5", -5),
        ("abc", 0),
        ("", 0),
        ("0x10", 0),
    ] {
        assert_eq!(tmout_seconds(v), want, "{v:?}");
    }
    assert_eq!(tmout_seconds("99999999999999999999999"), i64::MAX);
}

#[test]
fn hostile_input_never_panics() {
    let inputs = [
        "",
        "'",
        "\"",
        "$(",
        "${",
        "`",
        "\\",
        "((((",
        "))))",
        "fi fi done esac }",
        "case",
        "for",
        "for i in",
        "a=(",
        "TMOUT=(1 2",
        "<<",
        "cat <<-E\n\tE",
        "$'\\",
        "function",
        "f() ",
        "export -- ",
        "declare +r TMOUT=1",
        "TMOUT+=5",
        "TMOUT=\u{fffd}\u{1F600}",
        "if then else",
        "x |& y && || ;; ;& ;;&",
        "readonly -f TMOUT",
    ];
    for input in inputs {
        let (_root, t) = tree(&[("/etc/profile", input)]);
        let _ = login_tmout(&t, Family::Unknown);
    }
}

/// What real bash ends up with after sourcing `snippets` in order: (value, readonly, exported),
/// value `None` when unset.
fn bash_result(root: &std::path::Path, snippets: &[&str]) -> (Option<String>, bool, bool) {
    let mut script = String::from("set +e\n");
    for path in snippets {
        script.push_str(&format!(". '{}{}' 2>/dev/null\n", root.display(), path));
    }
    script.push_str("declare -p TMOUT 2>/dev/null || echo unset\n");
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .expect("the differential test needs bash on PATH");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text == "unset" {
        return (None, false, false);
    }
    // `declare -rx TMOUT="900"` or `declare -r TMOUT` (readonly, no value).
    let mut parts = text.splitn(3, ' ');
    let (_, flags, rest) = (
        parts.next(),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let value = rest
        .split_once('=')
        .map(|(_, v)| v.trim_matches('"').to_string());
    (value, flags.contains('r'), flags.contains('x'))
}

#[test]
fn agrees_with_real_bash() {
    let cases: &[&[(&str, &str)]] = &[
        &[(
            "/etc/profile.d/a.sh",
            "TMOUT=900; readonly TMOUT; export TMOUT\n",
        )],
        &[
            ("/etc/profile.d/a.sh", "readonly TMOUT=600\nexport TMOUT\n"),
            ("/etc/profile.d/b.sh", "TMOUT=7200; export TMOUT\n"),
        ],
        &[
            ("/etc/profile.d/a.sh", "TMOUT=7200\n"),
            ("/etc/profile.d/b.sh", "readonly TMOUT=900; export TMOUT\n"),
        ],
        &[(
            "/etc/profile.d/a.sh",
            "readonly TMOUT=900\nexport TMOUT=60\n",
        )],
        &[(
            "/etc/profile.d/a.sh",
            "readonly TMOUT=900\ndeclare -x TMOUT=60\n",
        )],
        &[("/etc/profile.d/a.sh", "export TMOUT=900\nexport -n TMOUT\n")],
        &[("/etc/profile.d/a.sh", "export TMOUT=900\nunset TMOUT\n")],
        &[("/etc/profile.d/a.sh", "readonly TMOUT\nTMOUT=900\n")],
        &[("/etc/profile.d/a.sh", "readonly TMOUT=900\nunset TMOUT\n")],
        &[("/etc/profile.d/a.sh", "declare -rx TMOUT=900\n")],
        &[("/etc/profile.d/a.sh", "typeset -xr TMOUT='900'\n")],
        &[("/etc/profile.d/a.sh", "TMOUT=9\nTMOUT+=00\nexport TMOUT\n")],
        &[(
            "/etc/profile.d/a.sh",
            "TMOUT=900 && readonly TMOUT && export TMOUT\n",
        )],
        &[
            ("/etc/profile.d/a.sh", "export TMOUT=900\n"),
            ("/etc/profile.d/b.sh", "export TMOUT=7200\n"),
            ("/etc/profile.d/c.sh", "readonly TMOUT\n"),
        ],
        &[("/etc/profile.d/a.sh", "TMOUT=900 true\n")],
        &[(
            "/etc/profile.d/a.sh",
            "readonly TMOUT=900\nif true; then\n  TMOUT=1\n  export TMOUT\nfi\n",
        )],
        &[(
            "/etc/profile.d/a.sh",
            "readonly TMOUT=900; TMOUT=5; export TMOUT\nexport TMOUT\n",
        )],
        &[(
            "/etc/profile.d/a.sh",
            "readonly TMOUT=900\nTMOUT=5 true; export TMOUT\n",
        )],
        &[(
            "/etc/profile.d/a.sh",
            "export TMOUT=\"9\"'00' # comment\nreadonly -- TMOUT\n",
        )],
        &[
            ("/etc/profile.d/a.sh", "return\nreadonly TMOUT=900\n"),
            ("/etc/profile.d/b.sh", "TMOUT=60\n"),
        ],
        &[("/etc/profile.d/a.sh", "( readonly TMOUT=900 )\nTMOUT=60\n")],
    ];
    let profile = debian_profile();
    for files in cases {
        let mut all: Vec<(&str, &str)> = vec![("/etc/profile", &profile)];
        all.extend_from_slice(files);
        let (root, t) = tree(&all);
        let m = login_tmout(&t, Family::Debian);
        let sourced: Vec<&str> = m
            .files
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| *p != PROFILE)
            .collect();
        let want = bash_result(root.path(), &sourced);
        let e = &m.effective;
        let got = (
            e.value.clone().filter(|_| e.set),
            e.readonly.is_some(),
            e.exported.is_some(),
        );
        assert_eq!(got, want, "case {files:?}");
    }
}

#[test]
fn arithmetic_commands_are_reported_not_evaluated() {
    let m = debian(&[(
        "/etc/profile.d/t.sh",
        "((TMOUT=900)) && readonly TMOUT\n(( x = 1 ))\n",
    )]);
    assert!(
        m.issues
            .iter()
            .any(|i| i.line == 1 && i.message.contains("arithmetic command"))
    );
    assert_eq!(m.issues.len(), 1);
    assert!(m.assignments[0].conditional);
    assert!(m.effective.readonly.is_some());
}

#[test]
fn append_assignment_concatenates() {
    let m = debian(&[("/etc/profile.d/t.sh", "TMOUT=9\nTMOUT+=00\n")]);
    assert_eq!(m.effective.seconds, Some(900));
}

#[test]
fn debian13_run_parts_loop_sources_profile_d_sh_files() {
    let profile = include_str!("../../testdata/debian13/profile");
    let (_root, t) = phipolicy_sdk::testing::tree(&[
        ("/etc/profile", profile),
        ("/etc/profile.d/99-hipaa-timeout.sh", "TMOUT=900\nreadonly TMOUT\nexport TMOUT\n"),
        ("/etc/profile.d/tmout", "TMOUT=5\n"),
    ]);
    let m = login_tmout(&t, Family::Debian);
    assert_eq!(m.effective.seconds, Some(900));
    assert_eq!(m.effective.readonly.as_ref().map(|r| r.path.as_str()), Some("/etc/profile.d/99-hipaa-timeout.sh"));
    assert!(paths(&m).contains(&"/etc/profile.d/99-hipaa-timeout.sh"));
    assert!(!paths(&m).contains(&"/etc/profile.d/tmout"), "run-parts' regex skips names without .sh");
}


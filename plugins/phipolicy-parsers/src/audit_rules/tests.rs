//! Tests of the `audit_rules` parser.

use super::*;
use phipolicy_sdk::testing::tree;

fn rule(line: &str) -> AuditRule {
    match parse_line(line, "/t.rules", 1) {
        Ok(Command::Add(r)) => r,
        other => panic!("not an added rule: {other:?}"),
    }
}

#[test]
fn watch_spellings_normalise_to_the_same_rule() {
    let w = rule("-w /etc/passwd -p aw -k identity");
    let a = rule("-a exit,always -F path=/etc/passwd -F perm=wa -F key=identity");
    assert_eq!(
        (
            w.kind.as_str(),
            w.watch.as_deref(),
            w.perms.as_str(),
            &w.keys
        ),
        (
            a.kind.as_str(),
            a.watch.as_deref(),
            a.perms.as_str(),
            &a.keys
        )
    );
    assert_eq!((a.list.as_str(), a.action.as_str()), ("exit", "always"));
    let d = rule("-a always,exit -F dir=/etc/sudoers.d/ -F perm=wa");
    assert_eq!(
        (d.watch.as_deref(), d.recursive),
        (Some("/etc/sudoers.d"), true)
    );
    assert_eq!(rule("-w /var/data/phi/").perms, "rwxa");
}

#[test]
fn syscalls_by_list_comma_and_number_per_arch() {
    let r =
        rule("-a always,exit -F arch=b64 -S rename -S unlink,unlinkat -F auid>=1000 -k delete");
    assert_eq!(r.syscalls, vec!["rename", "unlink", "unlinkat"]);
    assert_eq!(
        r.fields[0],
        Field {
            name: "auid".into(),
            op: ">=".into(),
            value: "1000".into(),
            compare: false
        }
    );
    assert_eq!(
        rule("-a always,exit -F arch=b64 -S 59 -F euid=0").syscalls,
        vec!["execve"]
    );
    let b32 = rule("-a always,exit -F arch=i386 -S 11 -S 302 -F euid=0");
    assert_eq!(
        (b32.arch.as_deref(), b32.syscalls.clone()),
        (
            Some("b32"),
            vec!["execve".to_string(), "renameat".to_string()]
        )
    );
    assert_eq!(
        rule("-a always,exit -F arch=b64 -F euid=0").syscalls,
        vec!["all"]
    );
    let c = rule("-a always,exit -F arch=b64 -C euid!=uid -F euid=0 -S execve");
    assert!(c.fields[0].compare);
}

#[test]
fn debian_default_rules_file_loads_nothing() {
    // /etc/audit/rules.d/audit.rules from Debian 12's auditd 1:3.0.9-1.
    let text = "## First rule - delete all\n-D\n\n## Increase the buffers to survive stress events.\n## Make this bigger for busy systems\n-b 8192\n\n## This determine how long to wait in burst of events\n--backlog_wait_time 60000\n\n## Set failure mode to syslog\n-f 1\n\n";
    let (_root, t) = tree(&[("/etc/audit/rules.d/audit.rules", text)]);
    let l = load(&t);
    assert_eq!(l.source, "rules.d");
    assert!(l.rules.is_empty());
    assert!(l.issues.is_empty(), "{:?}", l.issues);
    assert_eq!(l.enabled, None);
}

#[test]
fn augenrules_hoists_delete_and_sinks_enable() {
    let (_root, t) = tree(&[
        (
            "/etc/audit/rules.d/10-base.rules",
            "-e 2\n-w /etc/passwd -p wa\n",
        ),
        ("/etc/audit/rules.d/9-first.rules", "-w /etc/shadow -p wa\n"),
        (
            "/etc/audit/rules.d/99-late.rules",
            "-D\n-w /etc/group -p wa\n",
        ),
        ("/etc/audit/rules.d/README", "-w /nope\n"),
    ]);
    let l = load(&t);
    let watches: Vec<_> = l.rules.iter().filter_map(|r| r.watch.clone()).collect();
    assert_eq!(watches, vec!["/etc/shadow", "/etc/passwd", "/etc/group"]);
    assert!(l.immutable_at_end);
    assert!(l.not_loaded.is_empty());
    let notes: Vec<_> = l
        .augenrules_notes
        .iter()
        .map(|n| (n.path.as_str(), n.line))
        .collect();
    assert_eq!(
        notes,
        vec![
            ("/etc/audit/rules.d/99-late.rules", 1),
            ("/etc/audit/rules.d/10-base.rules", 1)
        ]
    );
}

#[test]
fn audit_rules_file_applies_delete_and_immutable_in_order() {
    let (_root, t) = tree(&[(
        "/etc/audit/audit.rules",
        "-w /etc/passwd -p wa\n-D\n-w /etc/shadow -p wa\n-e 2\n-w /etc/group -p wa\n",
    )]);
    let l = load(&t);
    assert_eq!(l.source, "audit.rules");
    assert_eq!(l.rules.len(), 1);
    assert_eq!(l.not_loaded.len(), 2);
    assert!(
        l.not_loaded[0]
            .reason
            .contains("deleted by `-D` at /etc/audit/audit.rules:2")
    );
    assert!(
        l.not_loaded[1]
            .reason
            .contains("after -e 2 at /etc/audit/audit.rules:4")
    );
}

#[test]
fn remove_and_keyed_delete() {
    let lines = parse_file(
        "/r",
        "-w /etc/passwd -p wa -k a\n-w /etc/shadow -p wa -k b\n-W /etc/passwd -p wa -k a\n-D -k b\n",
        &mut Vec::new(),
    );
    let l = apply(&lines, "audit.rules", vec![]);
    assert!(l.rules.is_empty());
    assert_eq!(l.not_loaded.len(), 2);
}

#[test]
fn real_ospp_and_stig_examples_parse_without_issues() {
    let ospp = "-a always,exit -F arch=b32 -S unlink,unlinkat,rename,renameat -F success=1 -F auid>=1000 -F auid!=unset -F key=delete\n-a always,exit -F arch=b64 -S unlink,unlinkat,rename,renameat -F success=1 -F auid>=1000 -F auid!=unset -F key=delete\n";
    let stig = "-a always,exit -F arch=b32 -S execve -C uid!=euid -F euid=0 -F key=execpriv\n-w /etc/sudoers -p wa -k actions\n-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=unset -k privileged\n";
    let mut issues = Vec::new();
    let lines = parse_file("/x", &format!("{ospp}{stig}"), &mut issues);
    assert!(issues.is_empty(), "{issues:?}");
    assert_eq!(lines.len(), 5);
}

#[test]
fn garbage_never_panics() {
    let mut issues = Vec::new();
    let junk = "-\n-a\n-a bogus\n-F\n-w\n-p zz\n-a always,exit -F ==\n-S\n\u{0}\u{ff}é -k\n-e\n--\n--x=1\n-a always,exit -S 99999999999999999999\n-a always,exit -F arch=b32 -S 4294967295\n";
    let lines = parse_file("/g", junk, &mut issues);
    assert!(!issues.is_empty());
    let _ = apply(&lines, "audit.rules", vec![]);
    for a in ["", "1", "a1", "10-x", "9", "\u{e9}1"] {
        for b in ["", "01", "a", "10-y"] {
            let _ = version_cmp(a, b);
        }
    }
    assert_eq!(
        version_cmp("9-a.rules", "10-a.rules"),
        std::cmp::Ordering::Less
    );
}

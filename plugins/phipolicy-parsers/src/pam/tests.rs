//! Tests of the `pam` parser.

use super::*;
use phipolicy_sdk::testing::{TempRoot, tree};

/// `/etc/pam.d/common-password` as pam-auth-update writes it on Debian 12 with libpam-pwquality
/// installed: the libpam-runtime 1.5.2-6+deb12u3 template with the pwquality and unix profiles'
/// Password lines substituted.
const DEBIAN_COMMON_PASSWORD: &str = include_str!("../../testdata/debian12/common-password");
/// libpam-runtime's `/usr/share/pam/common-auth` template with the unix profile substituted.
const DEBIAN_COMMON_AUTH: &str = include_str!("../../testdata/debian12/common-auth");
/// login 1:4.13+dfsg1-1+deb12u2 `/etc/pam.d/login` (Debian 12) as shipped.
const DEBIAN_LOGIN: &str = include_str!("../../testdata/debian12/pam.d-login");
/// Rocky 9 `/etc/authselect/system-auth`, reproduced from authselect's sssd profile output.
const ROCKY_SYSTEM_AUTH: &str = include_str!("../../testdata/rocky9/system-auth");
const ROCKY_PASSWORD_AUTH: &str = include_str!("../../testdata/rocky9/password-auth");

fn rules(file: &PamFile) -> Vec<&PamRule> {
    file.items
        .iter()
        .filter_map(|i| match i {
            PamItem::Rule(r) => Some(r),
            PamItem::AtInclude { .. } => None,
        })
        .collect()
}

#[test]
fn debian_common_password() {
    let f = parse_file("/etc/pam.d/common-password", DEBIAN_COMMON_PASSWORD);
    assert!(f.issues.is_empty(), "{:?}", f.issues);
    let r = rules(&f);
    let summary: Vec<_> = r
        .iter()
        .map(|r| (r.line, r.control.to_string(), r.module.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (25, "requisite".to_string(), "pam_pwquality.so"),
            (26, "[success=1 default=ignore]".to_string(), "pam_unix.so"),
            (28, "requisite".to_string(), "pam_deny.so"),
            (32, "required".to_string(), "pam_permit.so"),
        ]
    );
    assert_eq!(r[0].args, vec!["retry=3"]);
    assert_eq!(
        r[1].args,
        vec!["obscure", "use_authtok", "try_first_pass", "yescrypt"]
    );
    assert_eq!(r[1].control.action("success"), Some("1"));
    assert_eq!(r[1].control.action("auth_err"), Some("ignore"));
    assert!(
        r.iter()
            .all(|r| r.kind == PamType::Password && !r.ignore_if_missing)
    );
}

#[test]
fn debian_login_includes_common_password() {
    let (_root, t) = tree(&[
        ("/etc/pam.d/login", DEBIAN_LOGIN),
        ("/etc/pam.d/common-password", DEBIAN_COMMON_PASSWORD),
        ("/etc/pam.d/common-auth", DEBIAN_COMMON_AUTH),
        (
            "/etc/pam.d/common-account",
            "account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\n",
        ),
        (
            "/etc/pam.d/common-session",
            "session required pam_unix.so\n",
        ),
    ]);
    let stack = load_stack(&t, "login", PamType::Password);
    assert!(
        stack.exists && stack.unreadable.is_empty() && stack.issues.is_empty(),
        "{stack:?}"
    );
    let pw: Vec<_> = stack.entries_for("pam_pwquality.so").collect();
    assert_eq!(pw.len(), 1);
    assert_eq!(
        (pw[0].rule.path.as_str(), pw[0].rule.line),
        ("/etc/pam.d/common-password", 25)
    );
    let login_line = DEBIAN_LOGIN
        .lines()
        .position(|l| l == "@include common-password")
        .unwrap()
        + 1;
    assert_eq!(
        pw[0].via,
        vec![IncludeStep {
            path: "/etc/pam.d/login".into(),
            line: u32::try_from(login_line).unwrap(),
            directive: "@include".into(),
            includes: "/etc/pam.d/common-password".into(),
        }]
    );
    let auth = load_stack(&t, "login", PamType::Auth);
    let modules: Vec<_> = auth.entries.iter().map(|e| e.rule.module_name()).collect();
    assert_eq!(
        modules,
        vec![
            "pam_faildelay.so",
            "pam_nologin.so",
            "pam_unix.so",
            "pam_deny.so",
            "pam_permit.so",
            "pam_group.so"
        ]
    );
}

#[test]
fn rocky_authselect_symlinks_resolve_inside_the_root() {
    let root = TempRoot::new();
    root.write("/etc/authselect/system-auth", ROCKY_SYSTEM_AUTH);
    root.write("/etc/authselect/password-auth", ROCKY_PASSWORD_AUTH);
    root.symlink("/etc/pam.d/system-auth", "/etc/authselect/system-auth");
    root.symlink("/etc/pam.d/password-auth", "/etc/authselect/password-auth");
    root.write("/etc/pam.d/passwd", "#%PAM-1.0\nauth       include\tsystem-auth\npassword   substack     system-auth\n-password   optional    pam_gnome_keyring.so use_authtok\n");
    root.write("/usr/lib64/security/pam_pwquality.so", "");
    root.write("/usr/lib64/security/pam_unix.so", "");
    let t = phipolicy_sdk::testing::DirTarget::new(root.path());

    for service in ["system-auth", "password-auth"] {
        let stack = load_stack(&t, service, PamType::Password);
        assert!(stack.exists, "{service}: {stack:?}");
        assert_eq!(
            stack.files[0].real_path.as_deref(),
            Some(format!("/etc/authselect/{service}").as_str())
        );
        let modules: Vec<_> = stack.entries.iter().map(|e| e.rule.module_name()).collect();
        assert_eq!(
            modules,
            vec![
                "pam_pwquality.so",
                "pam_unix.so",
                "pam_sss.so",
                "pam_deny.so"
            ],
            "{service}"
        );
        let pw = stack.entries_for("pam_pwquality.so").next().unwrap();
        assert_eq!(pw.rule.args, vec!["local_users_only"]);
        assert_eq!(pw.rule.path, format!("/etc/pam.d/{service}"));
    }

    let mut passwd = load_stack(&t, "passwd", PamType::Password);
    let modules: Vec<_> = passwd
        .entries
        .iter()
        .map(|e| (e.rule.module_name(), e.via.len()))
        .collect();
    assert_eq!(
        modules,
        vec![
            ("pam_pwquality.so", 1),
            ("pam_unix.so", 1),
            ("pam_sss.so", 1),
            ("pam_deny.so", 1),
            ("pam_gnome_keyring.so", 0)
        ]
    );
    assert_eq!(passwd.entries[0].via[0].directive, "substack");
    assert!(passwd.entries[4].rule.ignore_if_missing);

    check_modules(&t, &mut passwd, RHEL_MODULE_DIRS);
    let exists: Vec<_> = passwd
        .entries
        .iter()
        .map(|e| e.module_exists.unwrap())
        .collect();
    assert_eq!(exists, vec![true, true, false, false, false]);
    assert_eq!(
        passwd.entries[0].module_file.as_deref(),
        Some("/usr/lib64/security/pam_pwquality.so")
    );
}

#[test]
fn module_lookup_across_debian_dirs() {
    let (root, t) = tree(&[("/usr/lib/x86_64-linux-gnu/security/pam_unix.so", "")]);
    root.symlink("/lib", "usr/lib");
    let found = find_module(&t, "pam_unix.so", DEBIAN_MODULE_DIRS);
    assert_eq!(
        found.found.as_deref(),
        Some("/usr/lib/x86_64-linux-gnu/security/pam_unix.so")
    );
    let tally = find_module(&t, "pam_tally2.so", DEBIAN_MODULE_DIRS);
    assert_eq!((tally.found, tally.searched.len()), (None, 4));
    let absolute = find_module(&t, "/lib/x86_64-linux-gnu/security/pam_unix.so", &[]);
    assert_eq!(
        absolute.found.as_deref(),
        Some("/lib/x86_64-linux-gnu/security/pam_unix.so")
    );
}

#[test]
fn brackets_continuations_and_comments() {
    let text = "\
# comment
password\t[success=1   default=ignore]\tpam_exec.so [arg with spaces] [x\\]y] plain # trailing
-password  optional pam_gnome_keyring.so \\
use_authtok \\
# a comment inside the continuation is skipped
only_if=login
Password REQUIRED /lib/security/pam_permit.so
bogus required pam_x.so
auth [success=ok bad] pam_y.so
session required
@include
auth required pam_unix.so [unclosed arg
";
    let f = parse_file("/etc/pam.d/x", text);
    let r = rules(&f);
    assert_eq!(r[0].args, vec!["arg with spaces", "x]y", "plain"]);
    assert_eq!(
        r[0].control,
        Control::Actions(vec![
            ("success".into(), "1".into()),
            ("default".into(), "ignore".into())
        ])
    );
    assert_eq!((r[1].line, r[1].ignore_if_missing), (3, true));
    assert_eq!(r[1].args, vec!["use_authtok", "only_if=login"]);
    assert_eq!(
        (r[2].kind, r[2].control.clone(), r[2].module_name()),
        (PamType::Password, Control::Required, "pam_permit.so")
    );
    assert_eq!(r[3].args, vec!["unclosed arg"]);
    let issue_lines: Vec<_> = f.issues.iter().map(|i| i.line).collect();
    assert_eq!(issue_lines, vec![8, 9, 10, 11]);
}

#[test]
fn include_loops_depth_and_missing_files() {
    let (_root, t) = tree(&[
        (
            "/etc/pam.d/a",
            "password include b\npassword required pam_a.so\n",
        ),
        (
            "/etc/pam.d/b",
            "password include a\npassword substack missing\npassword required pam_b.so\n",
        ),
        (
            "/etc/pam.d/self",
            "@include self\npassword required pam_self.so\n",
        ),
    ]);
    let a = load_stack(&t, "a", PamType::Password);
    let modules: Vec<_> = a.entries.iter().map(|e| e.rule.module_name()).collect();
    assert_eq!(modules, vec!["pam_b.so", "pam_a.so"]);
    assert!(
        a.issues
            .iter()
            .any(|i| i.path == "/etc/pam.d/b" && i.message.contains("loop"))
    );
    assert_eq!(a.unreadable.len(), 1);
    assert_eq!(a.unreadable[0].path, "/etc/pam.d/missing");

    let s = load_stack(&t, "self", PamType::Password);
    assert_eq!(s.entries.len(), 1);
    assert_eq!(s.issues.len(), 1);

    let none = load_stack(&t, "nonexistent", PamType::Password);
    assert!(!none.exists);
    assert_eq!(none.unreadable[0].error, "not found");

    // A chain deeper than the limit stops expanding instead of recursing forever.
    let mut files: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("/etc/pam.d/d{i}"),
                format!(
                    "password include d{}\npassword required pam_d{i}.so\n",
                    i + 1
                ),
            )
        })
        .collect();
    files.push((
        "/etc/pam.d/d40".into(),
        "password required pam_end.so\n".into(),
    ));
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let (_root, t) = tree(&borrowed);
    let deep = load_stack(&t, "d0", PamType::Password);
    assert_eq!(deep.entries.len(), MAX_INCLUDE_DEPTH + 1);
    assert!(
        deep.issues
            .iter()
            .any(|i| i.message.contains("nested includes"))
    );
}

#[test]
fn never_panics_on_garbage() {
    for text in [
        "[",
        "]",
        "\\",
        "-",
        "-\\\n\\",
        "password [",
        "password [] x",
        "@include [",
        "\u{0}\u{ff} [\\",
        "a b c d\\",
    ] {
        let _ = parse_file("/g", text);
    }
}

#[test]
fn generated_inputs_never_panic() {
    for text in phipolicy_sdk::testing::generated_inputs() {
        let f = parse_file("/g", &text);
        assert!(f.items.len() + f.issues.len() <= text.lines().count());
    }
}

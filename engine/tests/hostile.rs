//! Long file: one test per hostile behaviour, each a few lines over shared helpers that build
//! the hostile plugin and compare with a clean run; splitting them would scatter SECURITY.md's
//! citations (`hostile.rs::<test>`) over several files.
//! Containment of hostile plugins: each misbehaving plugin (built from `tests/hostile-plugin`
//! with a `HOSTILE_MODE`) replaces the built-in `automatic-logoff` plugin through `--plugins`. Its
//! two controls must end as `error` with a one-line reason, every other control must come out
//! exactly as in a clean run, and the run must stay within the runner's limits.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, UNIX_EPOCH};

use engine::document::{ResultDocument, Status};
use engine::eval::{EvalRequest, prepare};
use engine::profile::ProfileSource;
use engine::runner::limits;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/ssh-hardened/root"
);
const HOSTILE_CONTROLS: [&str; 2] = ["logoff.shell-timeout", "logoff.ssh-idle"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A private compile cache for this test process (the user's own cache stays untouched).
fn plugin_cache() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "phipolicy-test-plugin-cache-{}",
            std::process::id()
        ));
        // Private, as phipolicy requires of its cache (engine::cache).
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .unwrap();
        dir
    })
}

/// Builds the hostile plugin with `mode` into its own directory (one `.wasm` per directory).
/// Builds share one target directory and are serialised: only the leaf crate recompiles per mode.
fn hostile(mode: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _guard = BUILD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let target = workspace().join("target").join("hostile");
    let out = target.join("out").join(mode);
    let status = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            "hostile-plugin",
            "--target-dir",
        ])
        .arg(&target)
        .env("HOSTILE_MODE", mode)
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "building the hostile plugin ({mode}) failed"
    );
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(
        target.join("wasm32-wasip2/release/hostile_plugin.wasm"),
        out.join("hostile.wasm"),
    )
    .unwrap();
    out
}

fn eval(plugin_dir: Option<PathBuf>) -> ResultDocument {
    let request = EvalRequest {
        root: PathBuf::from(FIXTURE),
        profile: ProfileSource::builtin().unwrap(),
        params_file: None,
        waivers_file: None,
        controls: None,
        plugin_dirs: plugin_dir.into_iter().collect(),
        plugin_cache: Some(plugin_cache().to_path_buf()),
        no_cache: false,
        // The hostile components are built by this test, not pinned: run them unverified.
        trust: engine::trust::TrustPolicy::load(None, &[], true).unwrap(),
        now: Some(UNIX_EPOCH + Duration::from_secs(1_795_867_200)),
        backend: engine::policy::Backend::Fastest,
    };
    prepare(request).expect("valid inputs").evaluate()
}

/// Runs the hostile plugin and checks containment; returns its reason and the wall time.
fn contained(mode: &str, reason_contains: &str) -> Duration {
    let clean = eval(None);
    let dir = hostile(mode);
    let started = Instant::now();
    let doc = eval(Some(dir));
    let wall = started.elapsed();
    assert_eq!(
        doc.exit_code(),
        2,
        "{mode}: a control in error must make the run exit 2"
    );
    for (clean_r, r) in clean.results.iter().zip(&doc.results) {
        assert_eq!(clean_r.control, r.control);
        if HOSTILE_CONTROLS.contains(&r.control.as_str()) {
            assert_eq!(
                r.status,
                Status::Error,
                "{mode}: {} should be error",
                r.control
            );
            assert_eq!(r.reasons.len(), 1, "{mode}: one reason: {:?}", r.reasons);
            assert!(
                !r.reasons[0].contains('\n'),
                "{mode}: reason is one line: {:?}",
                r.reasons[0]
            );
            assert!(
                r.reasons[0].contains(reason_contains),
                "{mode}: reason {:?} lacks {reason_contains:?}",
                r.reasons[0]
            );
        } else {
            assert_eq!(r.status, clean_r.status, "{mode}: {} changed", r.control);
            assert_eq!(
                r.reasons, clean_r.reasons,
                "{mode}: {} reasons changed",
                r.control
            );
            assert_eq!(
                r.evidence, clean_r.evidence,
                "{mode}: {} evidence changed",
                r.control
            );
        }
    }
    let report = doc
        .plugins
        .iter()
        .find(|p| p.id == "automatic-logoff")
        .expect("plugin report");
    assert!(
        report.origin.ends_with("hostile.wasm"),
        "{mode}: the hostile plugin ran: {}",
        report.origin
    );
    assert!(report.sha256.is_some());
    wall
}

#[test]
fn endless_loop_hits_the_wall_time_limit() {
    let wall = contained("endless-loop", "exceeded the wall-time limit");
    assert!(wall >= limits::PLUGIN_WALL_TIME, "stopped early: {wall:?}");
    assert!(
        wall < limits::PLUGIN_WALL_TIME + Duration::from_secs(20),
        "not stopped in time: {wall:?}"
    );
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    contained("memory-bomb", "memory limit");
}

#[test]
fn huge_output_hits_the_output_cap() {
    contained("huge-output", "byte cap");
}

#[test]
fn stack_overflow_traps() {
    contained("stack-overflow", "stack");
}

#[test]
fn facts_that_are_not_an_object_are_rejected() {
    contained("not-object", "not a JSON object");
}

#[test]
fn a_panic_is_a_trap() {
    contained("panic", "trapped");
}

#[test]
fn undeclared_reads_are_denied_and_recorded() {
    let dir = hostile("undeclared-read");
    let doc = eval(Some(dir));
    let report = doc
        .plugins
        .iter()
        .find(|p| p.id == "automatic-logoff")
        .expect("plugin report");
    assert_eq!(report.denied, vec!["/etc/shadow".to_string()]);
    assert_eq!(report.denied_count, 1);
}

/// A well-behaved third-party plugin copied into its own directory, with its bytes.
fn third_party_plugin() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let built = hostile("well-behaved").join("hostile.wasm");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logoff.wasm");
    std::fs::copy(&built, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (dir, path, bytes)
}

fn request_with(plugin_dir: &Path, trust: engine::trust::TrustPolicy) -> EvalRequest {
    EvalRequest {
        root: PathBuf::from(FIXTURE),
        profile: ProfileSource::builtin().unwrap(),
        params_file: None,
        waivers_file: None,
        controls: None,
        plugin_dirs: vec![plugin_dir.to_path_buf()],
        plugin_cache: Some(plugin_cache().to_path_buf()),
        no_cache: false,
        trust,
        now: None,
        backend: engine::policy::Backend::Fastest,
    }
}

fn verification_of(doc: &ResultDocument) -> engine::trust::Verification {
    doc.plugins
        .iter()
        .find(|p| p.id == "automatic-logoff")
        .unwrap()
        .verification
}

#[test]
fn unverified_plugins_are_refused_unless_allowed_and_then_recorded() {
    use engine::trust::{TrustPolicy, Verification};
    let (dir, path, _) = third_party_plugin();
    let err = prepare(request_with(dir.path(), TrustPolicy::default()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&path.display().to_string()) && err.contains("neither pinned"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_phipolicy"))
        .args(["eval", "--format", "json", "--root", FIXTURE, "--plugins"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let allowed = TrustPolicy::load(None, &[], true).unwrap();
    let doc = prepare(request_with(dir.path(), allowed))
        .unwrap()
        .evaluate();
    assert_eq!(verification_of(&doc), Verification::Unverified);
}

#[test]
fn pinned_plugins_run() {
    use engine::trust::{TrustPolicy, Verification};
    let (dir, _, bytes) = third_party_plugin();
    let lock = dir.path().join("plugins.lock");
    std::fs::write(
        &lock,
        format!(
            "# operator-approved plugins\n{}  logoff.wasm\n",
            engine::digest::sha256_hex(&bytes)
        ),
    )
    .unwrap();
    let trust = TrustPolicy::load(Some(&lock), &[], false).unwrap();
    let doc = prepare(request_with(dir.path(), trust)).unwrap().evaluate();
    assert_eq!(verification_of(&doc), Verification::Pinned);
    // A lock that pins other bytes does not help.
    std::fs::write(&lock, format!("{}  logoff.wasm\n", "0".repeat(64))).unwrap();
    let trust = TrustPolicy::load(Some(&lock), &[], false).unwrap();
    assert!(prepare(request_with(dir.path(), trust)).is_err());
}

#[test]
fn signed_plugins_run_and_bad_signatures_are_always_refused() {
    use engine::trust::{TrustPolicy, Verification};
    let (dir, path, bytes) = third_party_plugin();
    let keys = tempfile::tempdir().unwrap();
    let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let pubkey = keys.path().join("vendor.pub");
    std::fs::write(&pubkey, pair.pk.to_box().unwrap().into_string()).unwrap();
    let signature = PathBuf::from(format!("{}.minisig", path.display()));
    let sig = minisign::sign(
        Some(&pair.pk),
        &pair.sk,
        std::io::Cursor::new(&bytes),
        None,
        None,
    )
    .unwrap();
    std::fs::write(&signature, sig.into_string()).unwrap();
    let trust = TrustPolicy::load(None, std::slice::from_ref(&pubkey), false).unwrap();
    let doc = prepare(request_with(dir.path(), trust)).unwrap().evaluate();
    assert_eq!(verification_of(&doc), Verification::Signed);

    // A signature over other bytes: refused, even with --allow-unverified.
    let other = minisign::sign(
        Some(&pair.pk),
        &pair.sk,
        std::io::Cursor::new(b"tampered".as_slice()),
        None,
        None,
    )
    .unwrap();
    std::fs::write(&signature, other.into_string()).unwrap();
    let trust = TrustPolicy::load(None, &[pubkey], true).unwrap();
    let err = prepare(request_with(dir.path(), trust))
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not verify"), "{err}");
}

/// The facts the hostile plugin (replacing `automatic-logoff`) returned on `root`.
fn hostile_facts(mode: &str, root: &Path) -> serde_json::Value {
    let mut request = request_with(
        &hostile(mode),
        engine::trust::TrustPolicy::load(None, &[], true).unwrap(),
    );
    request.root = root.to_path_buf();
    let doc = prepare(request)
        .expect("valid inputs")
        .facts_document(Some("automatic-logoff"));
    let doc = serde_json::to_value(&doc).expect("the facts document serializes");
    let entry = doc["plugins"]["automatic-logoff"].clone();
    assert!(
        entry["error"].is_null(),
        "{mode}: the plugin failed: {}",
        entry["error"]
    );
    entry["facts"].clone()
}

fn outcome<'a>(facts: &'a serde_json::Value, name: &str) -> (&'a str, bool) {
    let o = &facts[name];
    match (o["ok"].as_str(), o["error"].as_str()) {
        (Some(text), _) => (text, true),
        (_, Some(text)) => (text, false),
        _ => panic!("{name}: no outcome in {facts}"),
    }
}

/// A plugin that declares everything and tries every way out of an image gets only the image.
#[test]
fn escape_attempts_from_an_image_get_nothing_from_the_host() {
    use std::os::unix::fs::symlink;
    let host = tempfile::tempdir().unwrap();
    let secret = host.path().join("secret");
    std::fs::write(&secret, "HOST-SECRET").unwrap();
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("hostname"), "target-hostname\n").unwrap();
    symlink(&secret, etc.join("escape-absolute")).unwrap();
    symlink(
        format!("../../../../../../../..{}", secret.display()),
        etc.join("escape-relative"),
    )
    .unwrap();
    symlink("loop-b", etc.join("loop-a")).unwrap();
    symlink("loop-a", etc.join("loop-b")).unwrap();
    symlink("/dev/null", etc.join("devnull")).unwrap();
    let fifo = etc.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::fs::File::create(etc.join("huge"))
        .unwrap()
        .set_len(engine::fsview::limits::MAX_FILE_BYTES + 1)
        .unwrap();
    std::fs::write(etc.join("garbage"), [0xff, 0xfe, 0x00, 0xc3, 0x28, b'\n']).unwrap();
    // A link from the image to the host's real procfs path: resolves inside the image (nothing).
    symlink("/proc", root.path().join("proc")).unwrap();
    symlink(host.path(), root.path().join("hostonly")).unwrap();

    let facts = hostile_facts("escape", root.path());
    assert!(!facts.to_string().contains("HOST-SECRET"), "{facts}");
    assert_eq!(
        outcome(&facts, "dotdot"),
        ("read 16 bytes: target-hostname\n", true)
    );
    assert_eq!(
        outcome(&facts, "dotdot-inner"),
        ("read 16 bytes: target-hostname\n", true)
    );
    for name in [
        "absolute-link",
        "relative-link",
        "dev-null-link",
        "host-only",
    ] {
        assert_eq!(
            outcome(&facts, name),
            ("not found", false),
            "{name}: {facts}"
        );
    }
    // The image's /proc -> /proc link points at itself inside the root: a loop, not the host.
    for name in [
        "link-loop",
        "proc-self-environ",
        "proc-1-environ",
        "proc-self-mem",
        "proc-self-fd",
        "proc-self-root",
        "proc-self-mountinfo",
    ] {
        let (text, ok) = outcome(&facts, name);
        assert!(
            !ok && text.contains("too many levels of symbolic links"),
            "{name}: {text}"
        );
    }
    assert_eq!(
        outcome(&facts, "fifo"),
        ("not a regular file (FIFO)", false)
    );
    assert!(
        outcome(&facts, "huge")
            .0
            .contains("larger than the read cap"),
        "{facts}"
    );
    assert!(
        outcome(&facts, "non-utf8").1,
        "non-UTF-8 content is served as bytes: {facts}"
    );
}

/// On the live host (`--root /`), procfs is real: a process's environment, memory and
/// descriptors are refused, the mount table is served.
#[test]
fn process_files_of_the_live_host_are_refused() {
    let facts = hostile_facts("escape", Path::new("/"));
    for name in [
        "proc-self-environ",
        "proc-1-environ",
        "proc-self-mem",
        "proc-self-fd",
    ] {
        let (text, ok) = outcome(&facts, name);
        assert!(
            !ok && text.contains("per-process /proc file"),
            "{name}: {text}"
        );
    }
    // /proc/self/root is a magic link: RESOLVE_NO_MAGICLINKS refuses it (ELOOP).
    let (text, ok) = outcome(&facts, "proc-self-root");
    assert!(
        !ok && text.contains("symbolic links"),
        "proc-self-root: {text}"
    );
    let (text, ok) = outcome(&facts, "proc-self-mountinfo");
    assert!(
        ok && text.starts_with("read "),
        "mountinfo must stay readable: {text}"
    );
}

/// Sockets and name lookup are denied, and nothing reaches a listener on loopback.
#[test]
fn plugins_have_no_network() {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", NETWORK_PORT)).expect("the test port is free");
    listener.set_nonblocking(true).unwrap();
    let udp = std::net::UdpSocket::bind(("127.0.0.1", NETWORK_PORT)).unwrap();
    udp.set_nonblocking(true).unwrap();
    let facts = hostile_facts("network", Path::new(FIXTURE));
    for key in ["tcp", "udp", "dns"] {
        let text = facts[key].as_str().unwrap();
        assert!(text.starts_with("Err("), "{key}: {text}");
    }
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "a plugin connected"
    );
    let mut buf = [0u8; 16];
    assert_eq!(
        udp.recv_from(&mut buf).map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "a plugin sent a datagram"
    );
}

/// `fsview::limits::MAX_REQUESTS`: a plugin that asks forever is refused at the budget.
#[test]
fn request_flood_hits_the_request_budget() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/profile"), "# profile\n").unwrap();
    let facts = hostile_facts("request-flood", root.path());
    assert_eq!(facts["last"], "request budget exhausted", "{facts}");
    assert_eq!(
        facts["answered"],
        engine::fsview::limits::MAX_REQUESTS,
        "{facts}"
    );
}

/// `fsview::limits::MAX_TOTAL_BYTES`: re-reading a large file is refused once the run's read
/// budget is spent.
#[test]
fn read_flood_hits_the_byte_budget() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let size = 15 << 20;
    std::fs::File::create(root.path().join("etc/big"))
        .unwrap()
        .set_len(size)
        .unwrap();
    let facts = hostile_facts("read-flood", root.path());
    let total = engine::fsview::limits::MAX_TOTAL_BYTES;
    assert_eq!(facts["reads"], total / size, "{facts}");
    assert!(facts["bytes"].as_u64().unwrap() <= total, "{facts}");
    assert!(
        facts["last"]
            .as_str()
            .unwrap()
            .contains("larger than the read cap"),
        "{facts}"
    );
}

/// The loopback port the `network` mode tries (`hostile-plugin`'s `NETWORK_PORT`).
const NETWORK_PORT: u16 = 47_913;

/// The error `prepare` gives for a plugin directory holding `bytes` as `NAME.wasm`.
fn load_error(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let request = request_with(
        dir.path(),
        engine::trust::TrustPolicy::load(None, &[], true).unwrap(),
    );
    let err = prepare(request)
        .expect_err("the plugin must be refused")
        .to_string();
    assert!(
        err.contains(&path.display().to_string()),
        "names the file: {err}"
    );
    err
}

/// A plugin built against another version of the WIT package is refused with exit 2 and a
/// message that says which ABI it wants.
#[test]
fn a_plugin_built_against_another_abi_is_refused() {
    let mut bytes = std::fs::read(hostile("well-behaved").join("hostile.wasm")).unwrap();
    let (from, to) = (
        b"phipolicy:plugin/target@0.2.0",
        b"phipolicy:plugin/target@0.1.0",
    );
    let mut replaced = 0;
    for i in 0..bytes.len() - from.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            replaced += 1;
        }
    }
    assert!(
        replaced > 0,
        "the component imports phipolicy:plugin/target@0.2.0"
    );
    // A plugin built against the older ABI 0.1.0 (before `cite`): refused, both versions named.
    let err = load_error("other-abi.wasm", &bytes);
    assert!(
        err.contains("built against the plugin ABI phipolicy:plugin@0.1.0"),
        "{err}"
    );
    assert!(
        err.contains(&format!("phipolicy:plugin@{}", engine::runner::ABI_VERSION)),
        "{err}"
    );
    assert!(
        include_str!("../../plugins/phipolicy-sdk/wit/phipolicy.wit").contains(&format!(
            "package phipolicy:plugin@{};",
            engine::runner::ABI_VERSION
        )),
        "runner::ABI_VERSION matches the WIT package"
    );
}

/// Corrupt and truncated components, and a core module that is not a component, are refused.
#[test]
fn corrupt_components_are_refused() {
    let good = std::fs::read(hostile("well-behaved").join("hostile.wasm")).unwrap();
    let err = load_error("garbage.wasm", b"\x7fELF this is not WebAssembly");
    assert!(
        err.contains("not a valid phipolicy plugin component"),
        "{err}"
    );
    let err = load_error("truncated.wasm", &good[..good.len() / 2]);
    assert!(
        err.contains("not a valid phipolicy plugin component"),
        "{err}"
    );
    let err = load_error("core-module.wasm", b"\0asm\x01\0\0\0");
    assert!(
        err.contains("not a valid phipolicy plugin component"),
        "{err}"
    );
}

/// Facts that are an object but whose fields have the wrong types: the engine validates them
/// against the schema of the plugin id they claim (`policies/hipaa/schemas/automatic-logoff.json`,
/// a replacement keeps the built-in contract), and the controls are `error` naming the schema,
/// the JSON path and the keyword.
#[test]
fn facts_of_the_wrong_types_are_errors() {
    contained(
        "wrong-types",
        "plugin automatic-logoff returned facts of the wrong shape: they do not match its schema \
         (policies/hipaa/schemas/automatic-logoff.json): at /",
    );
    let doc = eval(Some(hostile("wrong-types")));
    let r = doc
        .results
        .iter()
        .find(|r| r.control == "logoff.ssh-idle")
        .expect("logoff.ssh-idle");
    assert!(
        r.reasons[0].contains("at /shell: ") && r.reasons[0].contains("(`type`)"),
        "{:?}",
        r.reasons
    );
}

/// A third-party plugin may not feed a control another plugin feeds (unless it takes that
/// plugin's id, replacing it), nor a control the profile does not have: exit 2, naming both.
#[test]
fn plugins_cannot_claim_controls_they_do_not_own() {
    let trust = || engine::trust::TrustPolicy::load(None, &[], true).unwrap();
    let err = prepare(request_with(&hostile("foreign-control"), trust()))
        .expect_err("a second feeder for auth.ssh is refused")
        .to_string();
    assert!(
        err.contains("hostile.wasm")
            && err.contains("`auth.ssh`")
            && err.contains("plugin `authentication` already provides"),
        "{err}"
    );
    let err = prepare(request_with(&hostile("unknown-control"), trust()))
        .expect_err("an unknown control is refused")
        .to_string();
    assert!(
        err.contains("`made.up`") && err.contains("profile `hipaa` does not have"),
        "{err}"
    );
}

/// `std::thread::sleep(40 s)` in `collect`: the monotonic clock's timers are always due (the
/// clock is frozen), so the sleep returns at once instead of holding the run for 40 s.
#[test]
fn a_sleeping_plugin_does_not_hold_the_run() {
    let wall = contained("sleep", "wrong shape");
    assert!(wall < limits::PLUGIN_WALL_TIME, "the sleep held the run: {wall:?}");
}

/// `subscribe-duration(i64::MAX)` then `pollable.block`: returns at once, never hangs the run.
#[test]
fn a_timer_that_never_fires_does_not_hang_the_run() {
    let wall = contained("block", "wrong shape");
    assert!(wall < limits::PLUGIN_WALL_TIME, "the block held the run: {wall:?}");
}

/// A `manifest()` that sleeps 40 s: loading goes on at once.
#[test]
fn a_sleeping_manifest_does_not_hang_loading() {
    let started = Instant::now();
    let doc = eval(Some(hostile("manifest-sleep")));
    assert!(
        started.elapsed() < limits::MANIFEST_WALL_TIME,
        "loading waited: {:?}",
        started.elapsed()
    );
    assert!(doc.plugins.iter().any(|p| p.origin.ends_with("hostile.wasm")));
}

/// 150 undeclared reads of 20 MiB paths and 150 of 4,000-byte paths: refused, and the report
/// keeps at most `MAX_RECORDED_DENIALS` denials of at most `MAX_RECORDED_DENIAL_BYTES` each.
#[test]
fn a_denial_flood_stays_small_in_the_report() {
    let doc = eval(Some(hostile("denial-flood")));
    let report = doc
        .plugins
        .iter()
        .find(|p| p.id == "automatic-logoff")
        .unwrap();
    assert_eq!(report.denied_count, 150, "the 4,000-byte paths are counted");
    assert!(report.denied.len() <= engine::fsview::limits::MAX_RECORDED_DENIALS);
    assert!(
        report
            .denied
            .iter()
            .all(|d| d.len() <= limits::MAX_RECORDED_DENIAL_BYTES + 4),
        "denials are truncated"
    );
    let size = engine::report::json(&doc).len();
    assert!(size < 1 << 20, "result document of {size} bytes");
}

/// 1.5 million `[]` values: refused by counting before any tree is built.
#[test]
fn wide_facts_are_refused_before_parsing() {
    contained("wide-facts", "JSON values");
}

/// A manifest with a 20 MiB version string is refused at load, naming the field.
#[test]
fn long_manifest_strings_are_refused() {
    let bytes = std::fs::read(hostile("long-manifest").join("hostile.wasm")).unwrap();
    let err = load_error("long.wasm", &bytes);
    assert!(err.contains("version") && err.contains("longer than"), "{err}");
}

/// A component written in WAT that implements the plugin world: `extra` adds core-module
/// fields, `collect` runs before `collect` returns `ok("{}")`.
fn wat_plugin(extra: &str, collect: &str) -> Vec<u8> {
    fn le(n: u32) -> String {
        n.to_le_bytes().iter().map(|b| format!("\\{b:02x}")).collect()
    }
    let strings: [(u32, &str); 6] = [
        (100, "automatic-logoff"),
        (120, "0.0.1"),
        (130, "164.312(a)(2)(iii)"),
        (150, "logoff.shell-timeout"),
        (180, "logoff.ssh-idle"),
        (200, "/etc/profile"),
    ];
    let len = |at: u32| strings.iter().find(|s| s.0 == at).unwrap().1.len() as u32;
    let data: String = strings
        .iter()
        .map(|(at, s)| format!("(data (i32.const {at}) \"{s}\")\n"))
        .collect();
    let lists = format!(
        "(data (i32.const 300) \"{}\")\n(data (i32.const 312) \"{}{}{}{}\")\n(data (i32.const 332) \"{}\")\n",
        le(130) + &le(len(130)),
        le(150),
        le(len(150)),
        le(180),
        le(len(180)),
        le(200) + &le(len(200)),
    );
    let record: String = [
        (100, len(100)),
        (120, len(120)),
        (100, len(100)),
        (300, 1),
        (312, 2),
        (332, 1),
    ]
    .iter()
    .map(|(p, l)| le(*p) + &le(*l))
    .collect();
    let wat = format!(
        r#"(component
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      global.get $heap
      i32.const 7
      i32.add
      i32.const -8
      i32.and
      local.set $p
      local.get $p
      local.get 3
      i32.add
      global.set $heap
      local.get $p)
    (func (export "manifest") (result i32) i32.const 400)
    (func (export "collect") (param i32 i32) (result i32)
      {collect}
      i32.const 500)
    {data}{lists}
    (data (i32.const 400) "{record}")
    (data (i32.const 500) "\00\00\00\00{ok}")
    (data (i32.const 600) "{{}}")
    {extra}
  )
  (core instance $i (instantiate $m))
  (type $manifest (record (field "id" string) (field "version" string) (field "safeguard" string)
    (field "cfr" (list string)) (field "controls" (list string)) (field "reads" (list string))))
  (export $manifest-type "manifest-record" (type $manifest))
  (func (export "manifest") (result $manifest-type)
    (canon lift (core func $i "manifest") (memory (core memory $i "memory"))))
  (func (export "collect") (param "params" string) (result (result string (error string)))
    (canon lift (core func $i "collect") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
)"#,
        ok = le(600) + &le(2),
    );
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("WAT plugin: {e}\n{wat}"))
}

fn wat_plugin_dir(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hostile.wasm"), bytes).unwrap();
    dir
}

/// A table grown 65,536 elements at a time until the engine says no: the store's table
/// budget (`MAX_TABLE_ELEMENTS`, all tables together) stops it.
#[test]
fn table_growth_hits_the_table_limit() {
    let grow = "(block $done (loop $again
        ref.null func
        i32.const 65536
        table.grow $t
        i32.const -1
        i32.eq
        br_if $done
        br $again))";
    let bytes = wat_plugin("(table $t 1 funcref)", grow);
    let dir = wat_plugin_dir(&bytes);
    let doc = eval(Some(dir.path().to_path_buf()));
    let r = doc
        .results
        .iter()
        .find(|r| r.control == "logoff.ssh-idle")
        .unwrap();
    assert_eq!(r.status, Status::Error);
    assert!(r.reasons[0].contains("table limit"), "{:?}", r.reasons);
}

/// Sixteen memories of 125 MiB each (every one under the per-memory limit): the store's memory
/// budget counts them together, so the component cannot even be instantiated to read its
/// manifest; it is refused at load (exit 2), naming the limit.
#[test]
fn many_memories_share_one_memory_limit() {
    let memories: String = (1..16).map(|i| format!("(memory $m{i} 2000)\n")).collect();
    let bytes = wat_plugin(&memories, "");
    let err = load_error("hostile.wasm", &bytes);
    assert!(err.contains("memory limit"), "{err}");
}

/// The same component with one memory and no growth runs (the WAT plugin itself is sound).
#[test]
fn the_wat_plugin_runs_when_it_behaves() {
    let bytes = wat_plugin("", "");
    let dir = wat_plugin_dir(&bytes);
    let doc = eval(Some(dir.path().to_path_buf()));
    let r = doc
        .results
        .iter()
        .find(|r| r.control == "logoff.ssh-idle")
        .unwrap();
    assert!(r.reasons[0].contains("wrong shape"), "{:?}", r.reasons);
}

/// A third-party plugin that declares `/**` is refused unless the operator allows broad reads;
/// then its declared reads are in the result document.
#[test]
fn whole_tree_reads_are_refused_unless_allowed() {
    let built = hostile("broad-reads").join("hostile.wasm");
    let bytes = std::fs::read(&built).unwrap();
    let err = load_error("broad.wasm", &bytes);
    assert!(err.contains("`/**`") && err.contains("--allow-broad-reads"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broad.wasm"), &bytes).unwrap();
    let mut trust = engine::trust::TrustPolicy::load(None, &[], true).unwrap();
    trust.allow_broad_reads = true;
    let doc = prepare(request_with(dir.path(), trust)).unwrap().evaluate();
    let report = doc
        .plugins
        .iter()
        .find(|p| p.id == "automatic-logoff")
        .unwrap();
    assert_eq!(report.reads, vec!["/**".to_string()]);
    assert!(report.replaces_builtin);
}

/// Plugin files and signatures are read as small regular files only: a symlinked plugin, a
/// symlinked signature, a FIFO (which would block a plain read) and an oversized file are
/// refused, each naming the file.
#[test]
fn plugin_files_are_regular_files_of_bounded_size() {
    let (dir, path, _) = third_party_plugin();
    let allowed = || engine::trust::TrustPolicy::load(None, &[], true).unwrap();
    // A symlinked signature.
    let signature = PathBuf::from(format!("{}.minisig", path.display()));
    std::os::unix::fs::symlink("/dev/zero", &signature).unwrap();
    let err = prepare(request_with(dir.path(), allowed())).unwrap_err().to_string();
    assert!(err.contains(".minisig") && err.contains("symbolic link"), "{err}");
    std::fs::remove_file(&signature).unwrap();
    // A symlinked plugin.
    let real = dir.path().join("real.bin");
    std::fs::rename(&path, &real).unwrap();
    std::os::unix::fs::symlink(&real, &path).unwrap();
    let err = prepare(request_with(dir.path(), allowed())).unwrap_err().to_string();
    assert!(err.contains("logoff.wasm") && err.contains("symbolic link"), "{err}");
    std::fs::remove_file(&path).unwrap();
    // A FIFO: refused at once, never waited on.
    let status = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let err = prepare(request_with(dir.path(), allowed())).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    std::fs::remove_file(&path).unwrap();
    // Larger than the cap (sparse).
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(engine::eval::limits::MAX_PLUGIN_BYTES + 1).unwrap();
    let err = prepare(request_with(dir.path(), allowed())).unwrap_err().to_string();
    assert!(err.contains("byte limit"), "{err}");
}

/// Issue 9.5: a plugin's error string with terminal escapes reaches the table (and stderr)
/// escaped, never raw.
#[test]
fn plugin_error_strings_reach_the_terminal_escaped() {
    let dir = hostile("terminal-escapes");
    let cache = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_phipolicy"))
        .args(["eval", "--root", FIXTURE, "--plugins"])
        .arg(&dir)
        .args([
            "--allow-unverified",
            "--format",
            "table",
            "--controls",
            "logoff.shell-timeout,logoff.ssh-idle",
        ])
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8(o.stdout).unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    for text in [&table, &stderr] {
        let raw: Vec<char> = text.chars().filter(|c| c.is_control() && *c != '\n').collect();
        assert!(raw.is_empty(), "raw control characters {raw:?} in {text}");
    }
    assert!(
        table.contains("\\u{1b}]0;ALL CONTROLS PASS\\u{7}\\u{1b}[1A\\u{1b}[2K\\rall good\\u{9b}2J"),
        "{table}"
    );
}

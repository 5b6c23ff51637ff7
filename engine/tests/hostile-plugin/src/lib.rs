//! A plugin that misbehaves on purpose, for the runner's containment tests. It impersonates the
//! `automatic-logoff` safeguard (so it replaces the built-in one when loaded with `--plugins`) and
//! does what `HOSTILE_MODE` said at build time: `endless-loop`, `memory-bomb`, `huge-output`,
//! `stack-overflow`, `not-object`, `panic`, `terminal-escapes`, `undeclared-read`, `escape` (tries every way out of the
//! target it can think of and reports what it got), `network` (tries to connect and resolve),
//! `request-flood` and `read-flood` (exhaust the per-run budgets), `sleep` (sleeps 40 s),
//! `block` (blocks on a monotonic-clock timer that never fires), `manifest-sleep` (sleeps 40 s in
//! `manifest()`), `denial-flood` (asks for many long undeclared paths), `wide-facts` (1.5 million
//! `[]` values), `long-manifest` (a 20 MiB version string), `broad-reads` (declares `/**`), or
//! `well-behaved`.

use phipolicy_sdk::{Manifest, Params, Plugin, Target, TargetExt};

/// The misbehaviour compiled into this build.
pub const MODE: &str = match option_env!("HOSTILE_MODE") {
    Some(m) => m,
    None => "well-behaved",
};

/// What the plugin declares: the escape attempts need broad grants, so that what stops them is the
/// target view, not the grant.
const READS: &[&str] = match MODE.as_bytes() {
    b"escape" => &["/etc/**", "/proc/**", "/dev/**", "/hostonly/**"],
    b"read-flood" => &["/etc/**"],
    b"broad-reads" => &["/**"],
    _ => &["/etc/profile"],
};

/// Its id: `automatic-logoff` (so it replaces the built-in plugin), except where the mode is
/// about claiming controls under another id.
const ID: &str = match MODE.as_bytes() {
    b"foreign-control" | b"unknown-control" => "hostile-extra",
    _ => "automatic-logoff",
};

/// The controls it claims to feed.
const CONTROLS: &[&str] = match MODE.as_bytes() {
    b"foreign-control" => &["auth.ssh"],
    b"unknown-control" => &["made.up"],
    _ => &["logoff.shell-timeout", "logoff.ssh-idle"],
};

/// The escape attempts: (name, path, operation).
const ESCAPES: &[(&str, &str, &str)] = &[
    ("dotdot", "/../../../../../../../../etc/hostname", "read"),
    (
        "dotdot-inner",
        "/etc/../../../../../../etc/hostname",
        "read",
    ),
    ("absolute-link", "/etc/escape-absolute", "read"),
    ("relative-link", "/etc/escape-relative", "read"),
    ("link-loop", "/etc/loop-a", "read"),
    ("fifo", "/etc/fifo", "read"),
    ("dev-null-link", "/etc/devnull", "read"),
    ("proc-self-environ", "/proc/self/environ", "read"),
    ("proc-self-mem", "/proc/self/mem", "read"),
    ("proc-1-environ", "/proc/1/environ", "read"),
    ("proc-self-fd", "/proc/self/fd", "list"),
    ("proc-self-root", "/proc/self/root/etc/hostname", "read"),
    ("proc-self-mountinfo", "/proc/self/mountinfo", "read"),
    ("host-only", "/hostonly/secret", "read"),
    ("huge", "/etc/huge", "read"),
    ("non-utf8", "/etc/garbage", "read"),
];

/// The loopback port the `network` mode tries; the test listens there and checks nobody came.
pub const NETWORK_PORT: u16 = 47_913;

pub struct Hostile;

/// Deep recursion with scalar frames only, so it exhausts the wasm call stack (wasmtime's
/// `max_wasm_stack`) rather than Rust's shadow stack in linear memory. The rotate keeps LLVM from
/// turning it into a loop; `n` comes from the target so it cannot be folded.
#[inline(never)]
fn deep(n: u64) -> u64 {
    if n == 0 {
        1
    } else {
        deep(n - 1).rotate_left(1) ^ n
    }
}

/// `wasi:clocks/monotonic-clock.subscribe-duration(i64::MAX)` then `pollable.block`.
#[cfg(target_arch = "wasm32")]
fn block_on_a_timer_that_never_fires() {
    let timer = wasi::clocks::monotonic_clock::subscribe_duration(i64::MAX as u64);
    timer.block();
}

/// The native build (workspace tests compile every crate) never runs the modes.
#[cfg(not(target_arch = "wasm32"))]
fn block_on_a_timer_that_never_fires() {
    std::thread::park();
}

/// The manifest's version: 20 MiB of it in `long-manifest` mode.
fn version() -> &'static str {
    if MODE == "long-manifest" {
        return Box::leak("9".repeat(20 << 20).into_boxed_str());
    }
    "0.0.1"
}

impl Plugin for Hostile {
    fn manifest() -> Manifest {
        if MODE == "manifest-sleep" {
            std::thread::sleep(std::time::Duration::from_secs(40));
        }
        Manifest {
            id: ID,
            version: version(),
            safeguard: "automatic-logoff",
            cfr: &["164.312(a)(2)(iii)"],
            controls: CONTROLS,
            reads: READS,
        }
    }

    fn collect(target: &dyn Target, _params: &Params) -> Result<serde_json::Value, String> {
        match MODE {
            "endless-loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "memory-bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![0xAB; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            // Larger than the 8 MiB facts cap, small enough to fit the 128 MiB memory limit.
            "huge-output" => Ok(serde_json::json!({ "padding": "x".repeat(20 << 20) })),
            "stack-overflow" => {
                let seed = target
                    .read_file("/etc/profile")
                    .map(|b| b.len() as u64)
                    .unwrap_or(0);
                Ok(serde_json::json!({ "depth": deep((1 << 40) + seed) }))
            }
            "not-object" => Ok(serde_json::json!(["facts", "as", "a", "list"])),
            // An object, but every field the policies read has the wrong type.
            "wrong-types" => Ok(serde_json::json!({
                "shell": 42,
                "sshd": "yes",
                "os": [1, 2, 3],
                "profiles": {"files": "none"},
            })),
            "panic" => panic!("hostile plugin panicked on purpose"),
            // An error string that would retitle the window, erase the line above and rewind.
            "terminal-escapes" => Err(
                "\u{1b}]0;ALL CONTROLS PASS\u{7}\u{1b}[1A\u{1b}[2K\rall good\u{9b}2J".into(),
            ),
            "undeclared-read" => {
                let shadow = target.read_text("/etc/shadow").map_err(|e| e.to_string());
                Ok(serde_json::json!({ "shadow": format!("{shadow:?}") }))
            }
            "escape" => {
                let mut got = serde_json::Map::new();
                for (name, path, op) in ESCAPES {
                    let outcome = match *op {
                        "list" => target
                            .list_dir(path)
                            .map(|e| format!("listed {} entries", e.len()))
                            .map_err(|e| e.to_string()),
                        _ => target
                            .read_file(path)
                            .map(|b| {
                                format!(
                                    "read {} bytes: {}",
                                    b.len(),
                                    String::from_utf8_lossy(&b[..b.len().min(64)])
                                )
                            })
                            .map_err(|e| e.to_string()),
                    };
                    got.insert(
                        name.to_string(),
                        match outcome {
                            Ok(text) => serde_json::json!({ "ok": text }),
                            Err(e) => serde_json::json!({ "error": e }),
                        },
                    );
                }
                Ok(serde_json::Value::Object(got))
            }
            "network" => {
                let tcp = std::net::TcpStream::connect(("127.0.0.1", NETWORK_PORT))
                    .map(|_| "connected".to_string())
                    .map_err(|e| e.to_string());
                let udp = std::net::UdpSocket::bind(("0.0.0.0", 0))
                    .and_then(|s| s.send_to(b"hello", ("127.0.0.1", NETWORK_PORT)))
                    .map(|n| format!("sent {n} bytes"))
                    .map_err(|e| e.to_string());
                let dns = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", 80))
                    .map(|a| format!("resolved {}", a.count()))
                    .map_err(|e| e.to_string());
                Ok(serde_json::json!({
                    "tcp": format!("{tcp:?}"),
                    "udp": format!("{udp:?}"),
                    "dns": format!("{dns:?}"),
                }))
            }
            "request-flood" => {
                let mut answered = 0u64;
                let last = loop {
                    match target.stat("/etc/profile") {
                        Ok(_) => answered += 1,
                        Err(e) => break e.to_string(),
                    }
                    if answered > 10_000_000 {
                        break "never refused".to_string();
                    }
                };
                Ok(serde_json::json!({ "answered": answered, "last": last }))
            }
            "read-flood" => {
                let mut bytes = 0u64;
                let mut reads = 0u64;
                let last = loop {
                    match target.read_file("/etc/big") {
                        Ok(b) => {
                            bytes += b.len() as u64;
                            reads += 1;
                        }
                        Err(e) => break e.to_string(),
                    }
                    if reads > 100_000 {
                        break "never refused".to_string();
                    }
                };
                Ok(serde_json::json!({ "bytes": bytes, "reads": reads, "last": last }))
            }
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(40));
                Ok(serde_json::json!({ "mode": MODE, "slept": true }))
            }
            "block" => {
                block_on_a_timer_that_never_fires();
                Ok(serde_json::json!({ "mode": MODE, "blocked": "returned" }))
            }
            "denial-flood" => {
                let mut refused = 0u64;
                for i in 0..150 {
                    let path = format!("/undeclared/{i}/{}", "x".repeat(20 << 20));
                    if target.read_file(&path).is_err() {
                        refused += 1;
                    }
                    let short = format!("/undeclared/{i}/{}", "y".repeat(4000));
                    if target.read_file(&short).is_err() {
                        refused += 1;
                    }
                }
                Ok(serde_json::json!({ "refused": refused }))
            }
            // 1.5 million empty arrays (~4.5 MB of JSON, under the 8 MiB cap): built exactly
            // sized here; the engine must refuse it before building a tree of its own.
            "wide-facts" => {
                let wide = vec![serde_json::Value::Array(Vec::new()); 1_500_000];
                Ok(serde_json::json!({ "wide": serde_json::Value::Array(wide) }))
            }
            _ => Ok(serde_json::json!({ "mode": MODE })),
        }
    }
}

phipolicy_sdk::export_plugin!(Hostile);

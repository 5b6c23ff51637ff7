//! A plugin that misbehaves on purpose, for the runner's containment tests. It impersonates the
//! `automatic-logoff` safeguard (so it replaces the built-in one when loaded with `--plugins`) and
//! does what `HOSTILE_MODE` said at build time: `endless-loop`, `memory-bomb`, `huge-output`,
//! `stack-overflow`, `not-object`, `panic`, `undeclared-read`, or `well-behaved`.

use phipolicy_sdk::{Manifest, Params, Plugin, Target, TargetExt};

/// The misbehaviour compiled into this build.
pub const MODE: &str = match option_env!("HOSTILE_MODE") {
    Some(m) => m,
    None => "well-behaved",
};

pub struct Hostile;

/// Deep recursion with scalar frames only, so it exhausts the wasm call stack (wasmtime's
/// `max_wasm_stack`) rather than Rust's shadow stack in linear memory. The rotate keeps LLVM from
/// turning it into a loop; `n` comes from the target so it cannot be folded.
#[inline(never)]
fn deep(n: u64) -> u64 {
    if n == 0 { 1 } else { deep(n - 1).rotate_left(1) ^ n }
}

impl Plugin for Hostile {
    fn manifest() -> Manifest {
        Manifest {
            id: "automatic-logoff",
            version: "0.0.1",
            safeguard: "automatic-logoff",
            cfr: &["164.312(a)(2)(iii)"],
            controls: &["logoff.shell-timeout", "logoff.ssh-idle"],
            reads: &["/etc/profile"],
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
                let seed = target.read_file("/etc/profile").map(|b| b.len() as u64).unwrap_or(0);
                Ok(serde_json::json!({ "depth": deep((1 << 40) + seed) }))
            }
            "not-object" => Ok(serde_json::json!(["facts", "as", "a", "list"])),
            "panic" => panic!("hostile plugin panicked on purpose"),
            "undeclared-read" => {
                let shadow = target.read_text("/etc/shadow").map_err(|e| e.to_string());
                Ok(serde_json::json!({ "shadow": format!("{shadow:?}") }))
            }
            _ => Ok(serde_json::json!({ "mode": MODE })),
        }
    }
}

phipolicy_sdk::export_plugin!(Hostile);

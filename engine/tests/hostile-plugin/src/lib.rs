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

/// Recursion with no base case: exhausts the wasm stack.
#[allow(unconditional_recursion)]
fn recurse(depth: u64, buf: &mut [u8; 256]) -> u64 {
    buf[(depth % 256) as usize] = depth as u8;
    let mut local = [0u8; 256];
    local[0] = buf[0];
    recurse(depth + 1, &mut local) + local[(depth % 7) as usize] as u64
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
            "huge-output" => Ok(serde_json::json!({ "padding": "x".repeat(64 << 20) })),
            "stack-overflow" => Ok(serde_json::json!({ "depth": recurse(0, &mut [0; 256]) })),
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

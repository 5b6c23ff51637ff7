//! Builds the built-in plugins for `wasm32-wasip2`, precompiles them for this exact engine
//! configuration (`src/wasm_config.rs`) and embeds them, together with the built-in policies, so a
//! bare `phipolicy eval` needs nothing else and never runs Cranelift for a built-in plugin.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/wasm_config.rs"]
mod wasm_config;

/// The marker a plugin crate's manifest carries to be built in: a line `builtin = true` under
/// `[package.metadata.phipolicy]`.
const BUILTIN_MARKER: &str = "[package.metadata.phipolicy]";

/// The built-in plugins: crates under `plugins/` whose Cargo.toml marks them built in, by name.
fn builtin_plugins(workspace: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let dir = workspace.join("plugins");
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let manifest = entry.expect("dir entry").path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        let Some(section) = text.split(BUILTIN_MARKER).nth(1) else { continue };
        let section = section.split("\n[").next().unwrap_or("");
        if !section.lines().any(|l| l.split_whitespace().collect::<String>() == "builtin=true") {
            continue;
        }
        let name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name = ").map(|v| v.trim_matches('"').to_string()))
            .unwrap_or_else(|| panic!("{}: no package name", manifest.display()));
        names.push(name);
    }
    names.sort();
    assert!(!names.is_empty(), "no built-in plugin crates under {}", dir.display());
    names
}

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("workspace root").to_path_buf();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));

    println!(
        "cargo::rerun-if-changed={}",
        workspace.join("plugins").display()
    );
    println!(
        "cargo::rerun-if-changed={}",
        workspace.join("policies").display()
    );
    println!("cargo::rerun-if-changed=src/wasm_config.rs");
    println!("cargo::rerun-if-env-changed=PHIPOLICY_PLUGIN_WASM_DIR");

    embed_policies(&workspace, &out_dir);
    let plugins = builtin_plugins(&workspace);
    let wasm_dir = match std::env::var_os("PHIPOLICY_PLUGIN_WASM_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => build_plugins(&workspace, &out_dir, &plugins),
    };
    embed_plugins(&wasm_dir, &out_dir, &plugins);
}

/// Where the nested cargo builds plugins: `<target>/plugins-wasm`, beside the host build.
fn plugin_target_dir(out_dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        if dir.is_absolute() {
            return dir.join("plugins-wasm");
        }
    }
    // OUT_DIR = <target>/<profile>/build/<pkg>-<hash>/out
    out_dir
        .ancestors()
        .nth(4)
        .map(|t| t.join("plugins-wasm"))
        .unwrap_or_else(|| out_dir.join("plugins-wasm"))
}

fn build_plugins(workspace: &Path, out_dir: &Path, plugins: &[String]) -> PathBuf {
    let target_dir = plugin_target_dir(out_dir);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for p in plugins {
        cmd.args(["-p", p]);
    }
    // The nested build must not inherit the host build's flags or profile settings.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PROFILE_RELEASE_BUILD_OVERRIDE_OPT_LEVEL",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("running cargo to build the built-in plugins: {e}"));
    if !status.success() {
        panic!(
            "building the built-in plugins for wasm32-wasip2 failed ({status}).\n\
             Is the target installed? `rustup target add wasm32-wasip2` \
             (offline: ../shared/toolchain/install-wasm32-wasip2.sh); `cargo xtask build` does both."
        );
    }
    target_dir.join("wasm32-wasip2").join("release")
}

fn embed_plugins(wasm_dir: &Path, out_dir: &Path, plugins: &[String]) {
    let engine = wasmtime::Engine::new(&wasm_config::config()).expect("wasmtime engine");
    let mut table = String::from(
        "/// Built-in plugins, precompiled for this engine.\npub static PLUGINS: &[Artifact] = &[\n",
    );
    for name in plugins {
        let file = name.replace('-', "_");
        let wasm_path = wasm_dir.join(format!("{file}.wasm"));
        let wasm = std::fs::read(&wasm_path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", wasm_path.display()));
        let cwasm = engine
            .precompile_component(&wasm)
            .unwrap_or_else(|e| panic!("precompiling {}: {e:#}", wasm_path.display()));
        let cwasm_path = out_dir.join(format!("{file}.cwasm"));
        std::fs::write(&cwasm_path, cwasm).expect("write precompiled plugin");
        let wasm_copy = out_dir.join(format!("{file}.wasm"));
        std::fs::write(&wasm_copy, &wasm).expect("copy plugin component");
        table.push_str(&format!(
            "    Artifact {{ name: {name:?}, cwasm: include_bytes!({:?}), wasm: include_bytes!({:?}) }},\n",
            cwasm_path.display().to_string(),
            wasm_copy.display().to_string()
        ));
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("builtin_plugins.rs"), table).expect("write builtin_plugins.rs");
}

fn embed_policies(workspace: &Path, out_dir: &Path) {
    let dir = workspace.join("policies").join("hipaa");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rego"))
        .collect();
    files.sort();
    let mut src = format!(
        "/// The built-in profile.\npub static PROFILE_YAML: &str = include_str!({:?});\n\
         /// The built-in Rego modules and tests: (path relative to the workspace, text).\n\
         pub static FILES: &[(&str, &str)] = &[\n",
        dir.join("profile.yaml").display().to_string()
    );
    for f in files {
        let rel = f
            .strip_prefix(workspace)
            .expect("under workspace")
            .display()
            .to_string();
        src.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    src.push_str("];\n");
    std::fs::write(out_dir.join("builtin_policies.rs"), src).expect("write builtin_policies.rs");
}

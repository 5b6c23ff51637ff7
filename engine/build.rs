//! Builds the built-in plugins for `wasm32-wasip2`, precompiles them for this exact engine
//! configuration (`src/wasm_config.rs`) and embeds them, together with the built-in policies, so a
//! bare `phipolicy eval` needs nothing else and never runs Cranelift for a built-in plugin.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/wasm_config.rs"]
mod wasm_config;

#[path = "src/policy/library.rs"]
mod policy_library;

#[path = "src/builtin_crates.rs"]
mod builtin_crates;

/// The built-in plugins: crates under `plugins/` whose Cargo.toml marks them built in, by name.
fn builtin_plugins(workspace: &Path) -> Vec<String> {
    let dir = workspace.join("plugins");
    let names = builtin_crates::builtin_plugins(&dir);
    assert!(
        !names.is_empty(),
        "no built-in plugin crates under {}",
        dir.display()
    );
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
    println!("cargo::rerun-if-changed=src/builtin_crates.rs");
    println!("cargo::rerun-if-env-changed=PHIPOLICY_PLUGIN_WASM_DIR");

    embed_policies(&workspace, &out_dir);
    embed_schemas(&workspace, &out_dir);
    let plugins = builtin_plugins(&workspace);
    let wasm_dir = match std::env::var_os("PHIPOLICY_PLUGIN_WASM_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => build_plugins(&workspace, &out_dir, &plugins),
    };
    let hashes = embed_plugins(&wasm_dir, &out_dir, &plugins);
    write_build_info(&workspace, &out_dir, &hashes);
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

mod bindings {
    wasmtime::component::bindgen!({
        path: "../plugins/phipolicy-sdk/wit",
        world: "phipolicy:plugin/plugin",
    });
}

/// Store state for reading a manifest at build time: WASI with nothing granted.
struct ManifestState {
    wasi: wasmtime_wasi::WasiCtx,
    table: wasmtime::component::ResourceTable,
}

impl wasmtime_wasi::WasiView for ManifestState {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Calls the component's `manifest` export, with no target interface at all (every `target`
/// import traps), exactly as the runner does for a third-party plugin at load time. The runner
/// validates the result; a test checks it against the artifact's own answer.
fn read_manifest(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
    name: &str,
) -> bindings::phipolicy::plugin::types::Manifest {
    let mut linker = wasmtime::component::Linker::<ManifestState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("WASI linker");
    linker
        .define_unknown_imports_as_traps(component)
        .expect("trapping target imports");
    let state = ManifestState {
        wasi: wasmtime_wasi::WasiCtx::builder().build(),
        table: wasmtime::component::ResourceTable::new(),
    };
    let mut store = wasmtime::Store::new(engine, state);
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = linker
        .instantiate(&mut store, component)
        .unwrap_or_else(|e| panic!("instantiating built-in plugin {name}: {e:#}"));
    let plugin = bindings::Plugin::new(&mut store, &instance)
        .unwrap_or_else(|e| panic!("built-in plugin {name} is not a phipolicy plugin: {e:#}"));
    plugin
        .call_manifest(&mut store)
        .unwrap_or_else(|e| panic!("built-in plugin {name}: manifest: {e:#}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A built-in plugin as the build information reports it: (id, version, sha256 of the component).
type PluginHash = (String, String, String);

fn embed_plugins(wasm_dir: &Path, out_dir: &Path, plugins: &[String]) -> Vec<PluginHash> {
    let mut hashes = Vec::new();
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
        // SAFETY: `cwasm` was just produced by `precompile_component` on this very engine.
        #[allow(unsafe_code)]
        let component = unsafe { wasmtime::component::Component::deserialize(&engine, &cwasm) }
            .unwrap_or_else(|e| panic!("loading precompiled {}: {e:#}", wasm_path.display()));
        let m = read_manifest(&engine, &component, name);
        let cwasm_path = out_dir.join(format!("{file}.cwasm"));
        std::fs::write(&cwasm_path, &cwasm).expect("write precompiled plugin");
        let wasm_copy = out_dir.join(format!("{file}.wasm"));
        std::fs::write(&wasm_copy, &wasm).expect("copy plugin component");
        table.push_str(&format!(
            "    Artifact {{ name: {name:?}, cwasm: include_bytes!({:?}), sha256: {:?}, wasm: include_bytes!({:?}),\n        \
             manifest: Manifest {{ id: {:?}, version: {:?}, safeguard: {:?}, cfr: &{:?}, controls: &{:?}, reads: &{:?} }} }},\n",
            cwasm_path.display().to_string(),
            sha256_hex(&cwasm),
            wasm_copy.display().to_string(),
            m.id, m.version, m.safeguard, m.cfr, m.controls, m.reads,
        ));
        hashes.push((m.id.clone(), m.version.clone(), sha256_hex(&wasm)));
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("builtin_plugins.rs"), table).expect("write builtin_plugins.rs");
    hashes
}

/// The version of a package as `Cargo.lock` records it. The build script is compiled against
/// wasmtime and regorus, so a change of either reruns it: no rerun-if-changed on the lock file.
fn locked_version(workspace: &Path, package: &str) -> String {
    let lock = workspace.join("Cargo.lock");
    let text = std::fs::read_to_string(&lock)
        .unwrap_or_else(|e| panic!("reading {}: {e}", lock.display()));
    let versions: Vec<&str> = text
        .split("[[package]]")
        .filter(|entry| {
            entry
                .lines()
                .any(|l| l.trim() == format!("name = {package:?}"))
        })
        .filter_map(|entry| {
            entry
                .lines()
                .find_map(|l| l.trim().strip_prefix("version = "))
                .map(|v| v.trim_matches('"'))
        })
        .collect();
    match versions.as_slice() {
        [one] => one.to_string(),
        other => panic!(
            "{}: expected one {package} package, found {other:?}",
            lock.display()
        ),
    }
}

/// `build_info.rs`: what `engine::build_info` reports about this build, besides the version and
/// the git commit (an environment variable `cargo xtask` sets, read with `option_env!`, so a new
/// commit recompiles the crate without rerunning this script).
fn write_build_info(workspace: &Path, out_dir: &Path, plugins: &[PluginHash]) {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| panic!("`{rustc} --version` failed"));
    let mut src = format!(
        "/// The wasmtime this binary embeds.\npub static WASMTIME: &str = {:?};\n\
         /// The regorus this binary embeds.\npub static REGORUS: &str = {:?};\n\
         /// The target triple it was compiled for.\npub static TARGET: &str = {:?};\n\
         /// The compiler that built it.\npub static RUSTC: &str = {:?};\n\
         /// The built-in plugins: id, version and sha256 of the WebAssembly component.\n\
         pub static PLUGINS: &[BuiltinPlugin] = &[\n",
        locked_version(workspace, "wasmtime"),
        locked_version(workspace, "regorus"),
        std::env::var("TARGET").expect("TARGET"),
        rustc_version,
    );
    for (id, version, sha256) in plugins {
        src.push_str(&format!(
            "    BuiltinPlugin {{ id: {id:?}, version: {version:?}, sha256: {sha256:?} }},\n"
        ));
    }
    src.push_str("];\n");
    std::fs::write(out_dir.join("build_info.rs"), src).expect("write build_info.rs");
}

/// `builtin_schemas.rs`: the JSON Schema of each built-in plugin's facts
/// (`policies/hipaa/schemas/<plugin>.json`, generated from the plugin's Rust fact types), by plugin
/// id, for `policy::facts_schema`.
fn embed_schemas(workspace: &Path, out_dir: &Path) {
    let dir = workspace.join("policies").join("hipaa").join("schemas");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut src = String::from(
        "/// The built-in plugins' facts schemas: (plugin id, JSON Schema text).\n\
         pub static SCHEMAS: &[(&str, &str)] = &[\n",
    );
    for f in files {
        let id = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_else(|| panic!("{}: not a UTF-8 name", f.display()));
        src.push_str(&format!(
            "    ({id:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    src.push_str("];\n");
    std::fs::write(out_dir.join("builtin_schemas.rs"), src).expect("write builtin_schemas.rs");
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
    src.push_str(&compile_policies(&dir, out_dir));
    std::fs::write(out_dir.join("builtin_policies.rs"), src).expect("write builtin_policies.rs");
}

/// Compiles each built-in control's policy module (not the tests, not the library modules, which
/// are compiled into every control's program) to a regorus RVM program with the entry points
/// `metadata` and `result`, and embeds the serialized programs: a run then loads bytecode (about
/// 0.1 ms a module) instead of parsing and analysing Rego (about 1 ms a module). The path is the
/// same `<builtin>/...` path the interpreter reports, so diagnostics name the same file.
/// `engine/tests/fixtures.rs` judges every fixture with both and requires identical results.
fn compile_policies(dir: &Path, out_dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".rego") && !name.ends_with("_test.rego")
        })
        .collect();
    files.sort();
    // Every module as (file, path, package, text); the libraries go into every control's engine.
    let modules: Vec<(PathBuf, String, String, String)> = files
        .into_iter()
        .map(|f| {
            let name = f.file_name().expect("file name").to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&f)
                .unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
            let package = policy_library::package_line(&text)
                .unwrap_or_else(|| panic!("{}: no package line", f.display()));
            (f, format!("<builtin>/policies/hipaa/{name}"), package, text)
        })
        .collect();
    let (libraries, controls): (Vec<_>, Vec<_>) = modules
        .into_iter()
        .partition(|(_, _, package, _)| policy_library::is_library(package));
    let mut table = String::from(
        "/// The built-in policy modules compiled to regorus RVM programs: (path, package, program).\n\
         pub static COMPILED: &[(&str, &str, &[u8])] = &[\n",
    );
    for (f, path, package, text) in controls {
        let mut engine = regorus::Engine::new();
        for (_, lib_path, _, lib_text) in &libraries {
            engine
                .add_policy(lib_path.clone(), lib_text.clone())
                .unwrap_or_else(|e| panic!("{e:#}"));
        }
        engine
            .add_policy(path.clone(), text)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let metadata = format!("data.{package}.metadata");
        let result = format!("data.{package}.result");
        let compiled = engine
            .compile_with_entrypoint(&result.clone().into())
            .unwrap_or_else(|e| panic!("{}: {e:#}", f.display()));
        let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
            &compiled,
            &[&metadata, &result],
        )
        .unwrap_or_else(|e| panic!("{}: compiling to RVM bytecode: {e:#}", f.display()));
        let bytes = program
            .serialize_binary()
            .unwrap_or_else(|e| panic!("{}: serializing the RVM program: {e}", f.display()));
        let name = f.file_name().expect("file name").to_string_lossy();
        let out = out_dir.join(format!("{name}.rvm"));
        std::fs::write(&out, bytes).expect("write RVM program");
        table.push_str(&format!(
            "    ({path:?}, {package:?}, include_bytes!({:?})),\n",
            out.display().to_string()
        ));
    }
    table.push_str("];\n");
    table
}

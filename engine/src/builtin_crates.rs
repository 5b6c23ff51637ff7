//! Which crates under `plugins/` are built-in plugins: those whose `Cargo.toml` has a line
//! `builtin = true` under `[package.metadata.phipolicy]`. Not part of the engine's library: shared
//! by `build.rs` (which builds and embeds them) and `tests/registry.rs` (which checks that the
//! engine embedded exactly these), each with `#[path]`.

use std::path::Path;

/// The section a plugin crate's manifest marks itself built in under.
pub const BUILTIN_MARKER: &str = "[package.metadata.phipolicy]";

/// The package names of the built-in plugin crates under `plugins_dir`, sorted.
pub fn builtin_plugins(plugins_dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(plugins_dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", plugins_dir.display()));
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let manifest = entry.expect("dir entry").path().join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest).ok()?;
            is_builtin(&text).then(|| {
                package_name(&text)
                    .unwrap_or_else(|| panic!("{}: no package name", manifest.display()))
            })
        })
        .collect();
    names.sort();
    names
}

/// Whether a crate manifest marks the crate built in.
fn is_builtin(manifest: &str) -> bool {
    let Some(section) = manifest.split(BUILTIN_MARKER).nth(1) else {
        return false;
    };
    let section = section.split("\n[").next().unwrap_or("");
    section
        .lines()
        .any(|l| l.split_whitespace().collect::<String>() == "builtin=true")
}

/// The `name = "..."` of a crate manifest.
fn package_name(manifest: &str) -> Option<String> {
    manifest.lines().find_map(|l| {
        l.trim()
            .strip_prefix("name = ")
            .map(|v| v.trim_matches('"').to_string())
    })
}

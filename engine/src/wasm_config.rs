//! The one wasmtime configuration: shared by `build.rs` (which precompiles the built-in plugins)
//! and the runner, so precompiled artifacts always match the engine that loads them.

/// Builds the wasmtime `Config` every phipolicy engine uses.
pub fn config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    // Wall-time limits are enforced with epoch interruption (cheap, no fuel accounting).
    config.epoch_interruption(true);
    // Deep recursion traps instead of overflowing the host stack.
    config.max_wasm_stack(512 * 1024);
    // Plugins are small; a small reservation keeps the virtual footprint of many stores low.
    config.memory_reservation(1 << 30);
    config.memory_guard_size(64 << 10);
    config.memory_reservation_for_growth(1 << 20);
    config.parallel_compilation(true);
    // No wasm-offset address maps: they only refine trap backtraces (a trap is reported by its
    // kind), and they are a large part of each precompiled artifact that loads on every run.
    config.generate_address_map(false);
    config
}

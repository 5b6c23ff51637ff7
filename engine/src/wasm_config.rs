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
    config
}

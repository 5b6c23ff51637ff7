//! The sandbox of one plugin run: a fresh `Store` with WASI granting nothing (no preopens,
//! environment, arguments or network), frozen clocks whose timers are always due, fixed bytes for
//! randomness, a [`PluginLimiter`] summing memories and tables, an epoch deadline driven by the
//! [`Ticker`] thread, and the watchdog that stops waiting for a plugin blocked outside wasm code.
//! [`classify`] turns what stopped a run into the reason a user reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::Linker;
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtx;

use super::host::HostState;
use super::{RunError, limits, truncate};
use crate::fsview::{Grant, TargetView};

/// Sums every memory and every table of one store against one budget (wasmtime's
/// `StoreLimits` bounds each memory and table on its own: 16 memories or a growable table went
/// to gigabytes).
#[derive(Debug, Default)]
pub(super) struct PluginLimiter {
    memory_bytes: usize,
    table_elements: usize,
}

impl wasmtime::ResourceLimiter for PluginLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = (self.memory_bytes - current.min(self.memory_bytes)).saturating_add(desired);
        if total > limits::PLUGIN_MEMORY_BYTES {
            wasmtime::bail!(
                "memory limit: all memories of the plugin together would exceed {} MiB",
                limits::PLUGIN_MEMORY_BYTES >> 20
            );
        }
        self.memory_bytes = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total =
            (self.table_elements - current.min(self.table_elements)).saturating_add(desired);
        if total > limits::MAX_TABLE_ELEMENTS {
            wasmtime::bail!(
                "table limit: all tables of the plugin together would exceed {} elements",
                limits::MAX_TABLE_ELEMENTS
            );
        }
        self.table_elements = total;
        Ok(true)
    }

    fn instances(&self) -> usize {
        limits::MAX_INSTANCES
    }
    fn tables(&self) -> usize {
        limits::MAX_TABLES
    }
    fn memories(&self) -> usize {
        limits::MAX_MEMORIES
    }
}

/// A wall clock frozen at the evaluation time: plugins never see the real time.
struct FrozenWallClock(Duration);

impl wasmtime_wasi::HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

/// A monotonic clock that never advances.
struct FrozenMonotonicClock;

impl wasmtime_wasi::HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The monotonic clock's timers, always due: `subscribe-duration` and `subscribe-instant` return
/// a pollable that is ready at once, so `sleep` and `poll` never block the host thread (the clock
/// is frozen: no time passes for a plugin). Replaces wasmtime-wasi's timers, which wait in real
/// time where epoch interruption cannot stop them.
pub(super) fn freeze_timers(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime::StoreContextMut;
    use wasmtime::component::Resource;
    use wasmtime_wasi::p2::DynPollable;

    struct Due;
    #[async_trait::async_trait]
    impl wasmtime_wasi::p2::Pollable for Due {
        async fn ready(&mut self) {}
    }
    fn due(mut cx: StoreContextMut<'_, HostState>) -> wasmtime::Result<Resource<DynPollable>> {
        let table = &mut cx.data_mut().table;
        let timer = table.push(Due)?;
        wasmtime_wasi::p2::subscribe(table, timer)
    }
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("subscribe-duration", |cx, (_,): (u64,)| Ok((due(cx)?,)))?;
    clock.func_wrap("subscribe-instant", |cx, (_,): (u64,)| Ok((due(cx)?,)))?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The WASI clock interface wasmtime-wasi 48 links (components importing any 0.2.x resolve to it).
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// Stops the epoch ticker thread when the runner goes away.
pub(super) struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            // Wake the ticker from its park so the join does not wait out a tick.
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Ticker {
    /// Starts the thread that advances `engine`'s epoch every [`limits::EPOCH_TICK`].
    pub(super) fn start(engine: &Engine) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("phipolicy-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        // park_timeout may wake early (unpark on drop, or spuriously):
                        // tick only when a whole tick has passed, so limits never shrink.
                        let tick_end = Instant::now() + limits::EPOCH_TICK;
                        while !stop.load(Ordering::Relaxed) {
                            let now = Instant::now();
                            if now >= tick_end {
                                break;
                            }
                            std::thread::park_timeout(tick_end - now);
                        }
                        engine.increment_epoch();
                    }
                })?
        };
        Ok(Ticker {
            stop,
            thread: Some(thread),
        })
    }
}

/// A fresh store: WASI with nothing granted (no preopens, environment, arguments or network; a
/// frozen clock whose timers are always due; fixed bytes for randomness), the plugin's resource
/// limits and an epoch deadline of `wall_time`.
pub(super) fn new_store(
    engine: &Engine,
    view: Option<TargetView>,
    grant: Grant,
    now: Duration,
    wall_time: Duration,
) -> Store<HostState> {
    let wasi = WasiCtx::builder()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenWallClock(now))
        .monotonic_clock(FrozenMonotonicClock)
        .secure_random(wasmtime_wasi::Deterministic::new(
            limits::RANDOM_SEED.to_vec(),
        ))
        .insecure_random(wasmtime_wasi::Deterministic::new(
            limits::RANDOM_SEED.to_vec(),
        ))
        .insecure_random_seed(0)
        .build();
    let state = HostState::new(wasi, view, grant);
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    let ticks = (wall_time.as_millis() / limits::EPOCH_TICK.as_millis()) as u64;
    store.set_epoch_deadline(ticks);
    store.epoch_deadline_trap();
    store
}

/// Runs `work` on a thread of its own and waits at most `deadline` for it. `None`: it did not
/// finish in time; the thread is left behind (it holds nothing but its own store) and ends with
/// the process.
pub(super) fn with_watchdog<R: Send + 'static>(
    name: &str,
    deadline: Duration,
    work: impl FnOnce() -> R + Send + 'static,
) -> Option<R> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work());
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a plugin thread");
        return None;
    }
    rx.recv_timeout(deadline).ok()
}

/// Turns a wasmtime error into the reason a user reads.
pub(super) fn classify(e: wasmtime::Error, wall_time: Duration) -> RunError {
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::Interrupt => RunError::Timeout(wall_time),
            wasmtime::Trap::StackOverflow => RunError::StackOverflow,
            other => RunError::Trap(other.to_string()),
        };
    }
    let text = format!("{e:#}");
    if text.contains("forcing trap when growing memory") || text.contains("memory limit") {
        return RunError::Memory(limits::PLUGIN_MEMORY_BYTES >> 20);
    }
    if text.contains("table limit") {
        return RunError::Tables(limits::MAX_TABLE_ELEMENTS);
    }
    RunError::Trap(truncate(&text, 500))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The watchdog stops waiting at its deadline whatever the work is doing (here: blocked in
    /// a sleep far longer than the deadline, as a plugin blocked in a host call would be).
    #[test]
    fn the_watchdog_stops_waiting() {
        let started = Instant::now();
        let got = with_watchdog("test", Duration::from_millis(200), || {
            std::thread::sleep(Duration::from_secs(30));
            1
        });
        assert_eq!(got, None);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(with_watchdog("test", Duration::from_secs(5), || 7), Some(7));
    }
}

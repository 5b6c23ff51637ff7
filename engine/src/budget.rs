//! Memory budgets for policy evaluation: the global allocator charges every allocation made on a
//! thread that runs under a [`Budget`], and [`run_bounded`] runs one evaluation on such a thread.
//!
//! An allocation failure aborts a Rust process (`handle_alloc_error`), and a Rego builtin can ask
//! for any amount (`numbers.range(1, 400000000)` reserves 10 GB at once), so the budget is
//! checked *before* the system allocator is asked. A request that would go over the budget never
//! returns: the evaluating thread is parked for good, holding at most its budget, and the thread
//! that waits for it reports the evaluation as over its memory limit (the control is `error`).
//! Nothing else stops: other evaluations run on their own threads with their own budgets, and the
//! parked thread's memory is returned when the process exits.

// A global allocator is an `unsafe` trait; every `unsafe` below forwards to `System` unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the waiting thread looks whether the evaluation went over its budget: a bomb is
/// reported within this much of being stopped.
const POLL: Duration = Duration::from_millis(2);

/// How long a refused thread sleeps at a time, for ever (not a limit: any long period does).
const PARKED_SLEEP: Duration = Duration::from_secs(3_600);

/// The memory one evaluation may allocate beyond what it was handed.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    /// Bytes allocated minus bytes freed on the evaluating thread since it started.
    used: AtomicI64,
    /// The size of the request that went over the limit; 0 while within it.
    refused: AtomicU64,
}

impl Budget {
    fn new(limit: u64) -> Budget {
        Budget {
            limit,
            used: AtomicI64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Charges `bytes` (negative: freed); parks the calling thread for good when the budget
    /// would be exceeded.
    fn charge(&self, bytes: i64) {
        let used = self.used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if bytes > 0 && used > i64::try_from(self.limit).unwrap_or(i64::MAX) {
            self.refused
                .store(u64::try_from(bytes).unwrap_or(u64::MAX), Ordering::Release);
            // No allocation may happen here (this runs inside the allocator): sleep, the plain
            // nanosleep system call, for ever.
            loop {
                std::thread::sleep(PARKED_SLEEP);
            }
        }
    }
}

thread_local! {
    /// The budget of the evaluation this thread runs, or null. A `const` initialiser and a type
    /// without `Drop`: reading it never allocates and works during thread teardown.
    static CURRENT: Cell<*const Budget> = const { Cell::new(std::ptr::null()) };
}

/// The system allocator, charging allocations to the calling thread's budget when it has one.
pub struct BudgetedAllocator;

fn charge(bytes: i64) {
    CURRENT.with(|current| {
        let budget = current.get();
        if !budget.is_null() {
            // SAFETY: `CURRENT` is non-null only inside `run_bounded`'s evaluating thread, which
            // holds an `Arc<Budget>` for as long as it runs (a parked thread never drops it).
            unsafe { &*budget }.charge(bytes);
        }
    });
}

fn signed(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the budget
// check only runs before the forward (and may never return, which is allowed), never unwinds.
unsafe impl GlobalAlloc for BudgetedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(signed(layout.size()));
        // SAFETY: the caller's contract for `GlobalAlloc::alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        charge(signed(layout.size()));
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        charge(-signed(layout.size()));
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        charge(signed(new_size) - signed(layout.size()));
        // SAFETY: as for `dealloc`, and the caller's contract for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: BudgetedAllocator = BudgetedAllocator;

/// Charges the thread's allocations to a budget until dropped, also when `f` panics: it is
/// declared after the `Arc` that keeps the budget alive, so it is dropped (and the thread stops
/// charging) before the budget can be.
struct Charging;

impl Charging {
    fn enter(budget: &Arc<Budget>) -> Charging {
        CURRENT.with(|c| c.set(Arc::as_ptr(budget)));
        Charging
    }
}

impl Drop for Charging {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(std::ptr::null()));
    }
}

/// Why [`run_bounded`] returned no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stopped {
    #[error(
        "exceeded the memory limit of {limit} MiB for one policy evaluation (a request for {requested} bytes was refused); the evaluation was stopped"
    )]
    Memory { limit: u64, requested: u64 },
    #[error(
        "did not finish within {0:?} (a builtin that never checks the time limit); the evaluation was abandoned"
    )]
    Time(Duration),
    #[error("could not start an evaluation thread: {0}")]
    Spawn(String),
}

/// Runs `f` on a thread of its own under a budget of `limit_bytes` and waits at most `deadline`
/// for it. `f` owns what it works on (it may never give it back).
pub fn run_bounded<R: Send + 'static>(
    limit_bytes: u64,
    deadline: Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Stopped> {
    let budget = Arc::new(Budget::new(limit_bytes));
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let held = Arc::clone(&budget);
    std::thread::Builder::new()
        .name("rego-eval".into())
        .spawn(move || {
            let held = held;
            let charging = Charging::enter(&held);
            let result = f();
            drop(charging);
            // The waiter may have given up (deadline): then nobody receives, which is fine.
            let _ = tx.send(result);
        })
        .map_err(|e| Stopped::Spawn(e.to_string()))?;
    let started = Instant::now();
    loop {
        match rx.recv_timeout(POLL) {
            Ok(result) => return Ok(result),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // The thread ended without sending: it panicked inside `f`.
                return Err(Stopped::Spawn("the evaluation thread panicked".into()));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        let requested = budget.refused.load(Ordering::Acquire);
        if requested > 0 {
            return Err(Stopped::Memory {
                limit: limit_bytes >> 20,
                requested,
            });
        }
        if started.elapsed() >= deadline {
            return Err(Stopped::Time(deadline));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_within_the_budget_succeed_and_the_result_comes_back() {
        let v = run_bounded(64 << 20, Duration::from_secs(10), || vec![7u8; 1 << 20]).unwrap();
        assert_eq!(v.len(), 1 << 20);
    }

    #[test]
    fn one_huge_request_is_refused_before_the_system_allocator_sees_it() {
        let started = Instant::now();
        let err = run_bounded(64 << 20, Duration::from_secs(10), || {
            Vec::<u64>::with_capacity(1 << 37).len()
        })
        .unwrap_err();
        assert_eq!(
            err,
            Stopped::Memory {
                limit: 64,
                requested: 8 << 37
            }
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn growth_in_small_steps_is_stopped_at_the_budget() {
        let err = run_bounded(32 << 20, Duration::from_secs(10), || {
            let mut chunks = Vec::new();
            loop {
                chunks.push(vec![1u8; 4096]);
                if chunks.len() == usize::MAX {
                    return chunks.len();
                }
            }
        })
        .unwrap_err();
        assert!(matches!(err, Stopped::Memory { limit: 32, .. }), "{err:?}");
    }

    #[test]
    fn memory_freed_is_credited() {
        let n = run_bounded(8 << 20, Duration::from_secs(10), || {
            (0..64).map(|_| vec![0u8; 4 << 20].len()).sum::<usize>()
        })
        .unwrap();
        assert_eq!(n, 256 << 20);
    }
}

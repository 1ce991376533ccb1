//! The counting allocator: allocations of the calling thread, with the
//! sizes of one traced call and freed blocks that still held the password.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Counts allocations made by threads that opted in (see [`Counting`]).
pub(crate) struct CountingAllocator;

pub(crate) static ALLOCS: AtomicU64 = AtomicU64::new(0);
pub(crate) static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
/// When set, the sizes of counted allocations are recorded in `TRACE` and
/// freed blocks are searched for `MARKER`.
pub(crate) static TRACING: AtomicBool = AtomicBool::new(false);
pub(crate) static TRACE: [AtomicUsize; 512] = [const { AtomicUsize::new(0) }; 512];
pub(crate) static TRACE_LEN: AtomicUsize = AtomicUsize::new(0);
/// Freed blocks (while tracing) that still contained the password, and
/// their sizes.
pub(crate) static FREED_WITH_SECRET: AtomicUsize = AtomicUsize::new(0);
pub(crate) static FREED_SIZES: [AtomicUsize; 16] = [const { AtomicUsize::new(0) }; 16];
/// The database password used by the bench; unique enough to search for.
pub(crate) const MARKER: &[u8] = b"bench-pw-7f3a9c";

thread_local! {
    static COUNT_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn counting() -> bool {
    COUNT_THIS_THREAD.try_with(Cell::get).unwrap_or(false)
}

pub(crate) fn record(size: usize) {
    if !counting() {
        return;
    }
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    ALLOC_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    if TRACING.load(Ordering::Relaxed) {
        let i = TRACE_LEN.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = TRACE.get(i) {
            slot.store(size, Ordering::Relaxed);
        }
    }
}

pub(crate) fn check_freed(ptr: *mut u8, size: usize) {
    if !(counting() && TRACING.load(Ordering::Relaxed)) || size < MARKER.len() {
        return;
    }
    // SAFETY: `ptr` is a live block of `size` bytes (it is about to be freed).
    let bytes = unsafe { std::slice::from_raw_parts(ptr, size) };
    if bytes.windows(MARKER.len()).any(|w| w == MARKER) {
        let i = FREED_WITH_SECRET.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = FREED_SIZES.get(i) {
            slot.store(size, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping
// only touches atomics and a const-initialized thread-local (no allocation).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        check_freed(ptr, layout.size());
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A realloc may copy: count it as an allocation of the new size, and
        // the old block as freed (it may be left behind unwiped).
        record(new_size);
        check_freed(ptr, layout.size().min(new_size));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
pub(crate) static GLOBAL: CountingAllocator = CountingAllocator;

/// Counts this thread's allocations while alive.
pub(crate) struct Counting;

impl Counting {
    fn start() -> Counting {
        COUNT_THIS_THREAD.with(|c| c.set(true));
        Counting
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        COUNT_THIS_THREAD.with(|c| c.set(false));
    }
}

/// Allocations of one create through the client, averaged over `calls`,
/// plus the block sizes of one traced call.
pub(crate) struct Allocations {
    pub(crate) per_call: f64,
    pub(crate) bytes_per_call: f64,
    pub(crate) traced_sizes: Vec<usize>,
    /// Sizes of the blocks freed during the traced call that still held
    /// the password.
    pub(crate) freed_with_secret: Vec<usize>,
}

pub(crate) fn count_allocations(
    calls: usize,
    mut call: impl FnMut() -> Result<(), String>,
) -> Result<Allocations, String> {
    call()?;
    let (a0, b0) = (
        ALLOCS.load(Ordering::SeqCst),
        ALLOC_BYTES.load(Ordering::SeqCst),
    );
    {
        let _counting = Counting::start();
        for _ in 0..calls {
            call()?;
        }
    }
    let (a1, b1) = (
        ALLOCS.load(Ordering::SeqCst),
        ALLOC_BYTES.load(Ordering::SeqCst),
    );
    TRACE_LEN.store(0, Ordering::SeqCst);
    FREED_WITH_SECRET.store(0, Ordering::SeqCst);
    TRACING.store(true, Ordering::SeqCst);
    let traced = {
        let _counting = Counting::start();
        call()
    };
    TRACING.store(false, Ordering::SeqCst);
    traced?;
    let len = TRACE_LEN.load(Ordering::SeqCst).min(TRACE.len());
    let traced_sizes = TRACE[..len]
        .iter()
        .map(|s| s.load(Ordering::SeqCst))
        .collect();
    Ok(Allocations {
        per_call: (a1 - a0) as f64 / calls as f64,
        bytes_per_call: (b1 - b0) as f64 / calls as f64,
        traced_sizes,
        freed_with_secret: FREED_SIZES[..FREED_WITH_SECRET
            .load(Ordering::SeqCst)
            .min(FREED_SIZES.len())]
            .iter()
            .map(|s| s.load(Ordering::SeqCst))
            .collect(),
    })
}

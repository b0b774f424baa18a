//! What the library takes from the host: memory (`malloc`, `free`) and
//! `abort`, called by the panic handler so that no panic crosses into C.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(ptr: *mut c_void);
}

/// The alignment `malloc` is relied on to give (C guarantees at least
/// this much on every target Tollgate supports); larger alignments are
/// made by over-allocating.
const MALLOC_ALIGN: usize = 8;

/// The allocator over the host's `malloc` and `free`.
struct HostAlloc;

// SAFETY: `alloc` returns null or a block of at least `layout.size()`
// bytes aligned to `layout.align()`, and `dealloc` frees exactly what
// `alloc` returned for the same layout.
unsafe impl GlobalAlloc for HostAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: plain malloc; a zero size still gets a unique block.
            return unsafe { malloc(layout.size().max(1)) }.cast();
        }
        // Over-allocate, align inside the block, and keep the block's start
        // just before the aligned pointer for `dealloc`.
        let Some(total) = layout
            .size()
            .checked_add(layout.align())
            .and_then(|n| n.checked_add(core::mem::size_of::<*mut c_void>()))
        else {
            return core::ptr::null_mut();
        };
        // SAFETY: plain malloc.
        let raw = unsafe { malloc(total) }.cast::<u8>();
        if raw.is_null() {
            return raw;
        }
        let start = raw as usize + core::mem::size_of::<*mut c_void>();
        let aligned = (start + layout.align() - 1) & !(layout.align() - 1);
        let offset = aligned - raw as usize;
        // SAFETY: `offset` + size ≤ total, and the word before `aligned` lies
        // inside the block (offset ≥ one pointer).
        unsafe {
            let out = raw.add(offset);
            out.cast::<*mut u8>().sub(1).write_unaligned(raw);
            out
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: `ptr` came from `malloc` in `alloc`.
            unsafe { free(ptr.cast()) };
            return;
        }
        // SAFETY: `alloc` stored the block's start just before `ptr`.
        unsafe { free(ptr.cast::<*mut u8>().sub(1).read_unaligned().cast()) };
    }
}

#[global_allocator]
static ALLOCATOR: HostAlloc = HostAlloc;

/// A panic is a bug in Tollgate: stop the program rather than unwind into
/// C (the library is built with `panic = "abort"`).
#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    extern "C" {
        fn abort() -> !;
    }
    // SAFETY: the C library's abort never returns.
    unsafe { abort() }
}

/// The unwinding personality the prebuilt `core` still names: never called,
/// since nothing unwinds (`panic = "abort"`), but a shared library must
/// define every symbol it names.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

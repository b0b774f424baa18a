//! Handles: objects that C holds as opaque pointers. Each is allocated
//! behind a tag naming its type, checked on every call, so a handle of one
//! type given where another is expected is an error code, not a crash.

use crate::status::tg_status;
use alloc::boxed::Box;

/// A handle type as C sees it (opaque), and what it holds.
pub(crate) trait Handle {
    /// What the handle holds.
    type Data;
    /// The type's tag (nonzero).
    const TAG: u32;
}

/// A handle's allocation: the tag first (offset 0, `repr(C)`), then the data.
#[repr(C)]
struct Tagged<T> {
    tag: u32,
    data: T,
}

/// Moves `data` to the heap and gives C the handle.
pub(crate) fn into_raw<H: Handle>(data: H::Data) -> *mut H {
    Box::into_raw(Box::new(Tagged { tag: H::TAG, data })).cast()
}

/// Whether `p` is a live handle of type `H`: non-null, and the first four
/// bytes it points at are `H`'s tag.
fn check<H: Handle>(p: *const H) -> Result<*mut Tagged<H::Data>, tg_status> {
    if p.is_null() {
        return Err(tg_status::TG_NULL_POINTER);
    }
    // SAFETY: every handle this library gives out points at a `Tagged`,
    // whose first field is the `u32` tag; the caller passes a pointer it
    // got from this library.
    let tag = unsafe { p.cast::<u32>().read() };
    if tag == H::TAG {
        Ok(p.cast_mut().cast())
    } else {
        Err(tg_status::TG_BAD_HANDLE)
    }
}

/// The data behind a handle, shared.
pub(crate) fn get<'a, H: Handle>(p: *const H) -> Result<&'a H::Data, tg_status> {
    let t = check(p)?;
    // SAFETY: checked above; C keeps the handle alive during the call.
    Ok(unsafe { &(*t).data })
}

/// The data behind a handle, exclusive (the handle belongs to the calling
/// thread, as `docs/ffi.md` requires).
pub(crate) fn get_mut<'a, H: Handle>(p: *mut H) -> Result<&'a mut H::Data, tg_status> {
    let t = check(p)?;
    // SAFETY: checked above; one thread uses a mutable handle at a time.
    Ok(unsafe { &mut (*t).data })
}

/// Frees a handle made by [`into_raw`]: NULL is ignored, and so is a
/// pointer that is not a live handle of type `H`. The tag is cleared
/// first, so a second free of the same handle is most often caught.
pub(crate) fn free<H: Handle>(p: *mut H) {
    let Ok(t) = check(p) else { return };
    // SAFETY: checked above: a live handle of type `H` from `into_raw`.
    unsafe {
        (*t).tag = 0;
        drop(Box::from_raw(t));
    }
}

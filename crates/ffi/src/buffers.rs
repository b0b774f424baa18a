//! Strings in and out of C: NUL-terminated input, and caller buffers for
//! output.

use crate::status::tg_status;
use core::ffi::{c_char, CStr};
use core::fmt::Write;

/// A NUL-terminated UTF-8 string from C.
pub(crate) fn text<'a>(p: *const c_char) -> Result<&'a str, tg_status> {
    if p.is_null() {
        return Err(tg_status::TG_NULL_POINTER);
    }
    // SAFETY: C passes a NUL-terminated string that outlives the call.
    let bytes = unsafe { CStr::from_ptr(p) };
    bytes.to_str().map_err(|_| tg_status::TG_BAD_UTF8)
}

/// The caller's output buffer of `len` bytes.
pub(crate) fn out<'a>(buf: *mut c_char, len: usize) -> Result<&'a mut [u8], tg_status> {
    if buf.is_null() {
        return Err(tg_status::TG_NULL_POINTER);
    }
    // SAFETY: C passes a writable buffer of `len` bytes.
    Ok(unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len) })
}

/// Copies `s` and a NUL into `buf`, or writes an empty string (when it has
/// room for one) and answers `TG_SHORT_BUFFER`.
pub(crate) fn put(buf: &mut [u8], s: &str) -> Result<(), tg_status> {
    let n = s.len();
    match buf.get_mut(..=n) {
        Some(dst) => {
            if let Some((last, body)) = dst.split_last_mut() {
                body.copy_from_slice(s.as_bytes());
                *last = 0;
            }
            Ok(())
        }
        None => {
            if let Some(first) = buf.first_mut() {
                *first = 0;
            }
            Err(tg_status::TG_SHORT_BUFFER)
        }
    }
}

/// Copies as much of `s` as fits, and a NUL, into an optional message
/// buffer (NULL or empty: nothing is written), cutting at a character
/// boundary.
pub(crate) fn message(buf: *mut c_char, len: usize, s: &str) {
    let Ok(buf) = out(buf, len) else { return };
    let Some(room) = buf.len().checked_sub(1) else {
        return;
    };
    let mut end = s.len().min(room);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let _ = put(buf, s.get(..end).unwrap_or(""));
}

/// Writes an error's text into an optional message buffer, as
/// [`message`] writes a string.
pub(crate) fn error_message(buf: *mut c_char, len: usize, e: &impl core::fmt::Display) {
    let mut text = alloc::string::String::new();
    let _ = core::fmt::write(&mut text, format_args!("{e}"));
    message(buf, len, &text);
}

/// Why a call refused its arguments: the status it answers and the reason
/// it writes to the caller's message buffer.
pub(crate) type Refusal = (tg_status, &'static str);

/// Writes `why` into an optional message buffer (as [`message`]) and
/// answers `status`: how a call documented to give its reason in `message`
/// refuses.
pub(crate) fn refuse(buf: *mut c_char, len: usize, status: tg_status, why: &str) -> tg_status {
    message(buf, len, why);
    status
}

/// As [`refuse`], for a handle argument `name` that is NULL
/// (`TG_NULL_POINTER`) or not a live handle of its type (`TG_BAD_HANDLE`).
pub(crate) fn refuse_handle(
    buf: *mut c_char,
    len: usize,
    status: tg_status,
    name: &str,
) -> tg_status {
    if status == tg_status::TG_NULL_POINTER {
        error_message(buf, len, &format_args!("`{name}` is NULL"));
    } else {
        error_message(
            buf,
            len,
            &format_args!("`{name}` is not a live {name} handle"),
        );
    }
    status
}

/// A value's `Display` text in a fixed buffer, without allocating.
pub(crate) struct Small {
    bytes: [u8; 64],
    len: usize,
}

impl Small {
    /// `value` as text (`None` if it needs more than 64 bytes).
    pub(crate) fn of(value: &impl core::fmt::Display) -> Option<Small> {
        let mut s = Small {
            bytes: [0; 64],
            len: 0,
        };
        write!(s, "{value}").ok()?;
        Some(s)
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl Write for Small {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        self.bytes
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

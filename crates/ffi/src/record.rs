//! Building records from C: one reusable builder per handle, fields set by
//! the indexes `tg_policy_field` resolved.

use crate::buffers;
use crate::handle::{self, Handle};
use crate::policy::tg_policy;
use crate::status::tg_status;
use alloc::string::String;
use alloc::sync::Arc;
use core::ffi::c_char;
use tollgate_runtime::artifact::Compiled;
use tollgate_runtime::record::{FieldIndex, RecordBuilder, RecordError};

/// A record being built for one policy, reused from one record to the
/// next (opaque). It belongs to one thread at a time.
pub struct tg_record {
    _opaque: [u8; 0],
}

/// What a record handle holds.
pub(crate) struct Record {
    pub(crate) policy: Arc<Compiled>,
    pub(crate) builder: RecordBuilder,
    /// What went wrong last, for `tg_record_error`.
    pub(crate) message: String,
}

impl Handle for tg_record {
    type Data = Record;
    const TAG: u32 = 0x5447_5245; // "TGRE"
}

impl Record {
    /// Remembers `text` as the last error and answers `status`.
    pub(crate) fn fail(&mut self, status: tg_status, text: core::fmt::Arguments<'_>) -> tg_status {
        self.message.clear();
        let _ = core::fmt::write(&mut self.message, text);
        status
    }

    fn setter(&mut self, result: Result<(), RecordError>) -> tg_status {
        match result {
            Ok(()) => tg_status::TG_OK,
            Err(e) => {
                let status = status_of(&e);
                self.fail(status, format_args!("{e}"))
            }
        }
    }
}

/// The status of a builder's error.
pub(crate) fn status_of(e: &RecordError) -> tg_status {
    match e {
        RecordError::UnknownField(_) | RecordError::NoSuchIndex(_) => tg_status::TG_UNKNOWN_FIELD,
        RecordError::WrongKind { .. } => tg_status::TG_WRONG_TYPE,
        RecordError::UnknownVariant { .. } => tg_status::TG_UNKNOWN_VARIANT,
        RecordError::Number { .. } => tg_status::TG_BAD_NUMBER,
        RecordError::NegativeMoney { .. } => tg_status::TG_NEGATIVE_MONEY,
        RecordError::BadOffset { .. } => tg_status::TG_BAD_TIME,
        RecordError::Missing { .. } => tg_status::TG_MISSING_FIELD,
        _ => tg_status::TG_BAD_NUMBER,
    }
}

/// Makes a record for `policy` in `*out` (free it with `tg_record_free`).
/// Every field starts unset.
///
/// # Safety
/// `policy` is a handle (or NULL); `out` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_new(
    policy: *const tg_policy,
    out: *mut *mut tg_record,
) -> tg_status {
    let p = match handle::get(policy) {
        Ok(p) => p,
        Err(s) => return s,
    };
    if out.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let record: *mut tg_record = handle::into_raw(Record {
        policy: p.compiled.clone(),
        builder: RecordBuilder::new(p.fields()),
        message: String::new(),
    });
    // SAFETY: `out` is writable.
    unsafe { out.write(record) };
    tg_status::TG_OK
}

/// Unsets every field (their buffers are kept for the next record).
///
/// # Safety
/// `record` is a handle (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_reset(record: *mut tg_record) -> tg_status {
    match handle::get_mut(record) {
        Ok(r) => {
            r.builder.reset();
            tg_status::TG_OK
        }
        Err(s) => s,
    }
}

/// Unsets one field: its default applies again.
///
/// # Safety
/// `record` is a handle (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_unset(record: *mut tg_record, field: u32) -> tg_status {
    let r = match handle::get_mut(record) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let result = r.builder.unset(FieldIndex::from(field));
    r.setter(result)
}

/// Runs `set` on the record's builder with a C string argument; an error
/// about a number names it as written (as `eval` does).
fn with_text(
    record: *mut tg_record,
    text: *const c_char,
    set: impl FnOnce(&mut RecordBuilder, &str) -> Result<(), RecordError>,
) -> tg_status {
    let r = match handle::get_mut(record) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let text = match buffers::text(text) {
        Ok(t) => t,
        Err(s) => return r.fail(s, format_args!("the text is NULL or not UTF-8")),
    };
    match set(&mut r.builder, text) {
        Ok(()) => tg_status::TG_OK,
        Err(e) => r.fail(status_of(&e), format_args!("{}", e.as_written(text))),
    }
}

/// Runs `set` on the record's builder.
fn with(
    record: *mut tg_record,
    set: impl FnOnce(&mut RecordBuilder) -> Result<(), RecordError>,
) -> tg_status {
    let r = match handle::get_mut(record) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let result = set(&mut r.builder);
    r.setter(result)
}

/// Sets an enum field to the variant named `variant`.
///
/// # Safety
/// `record` is a handle (or NULL); `variant` is NUL-terminated (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_set_enum(
    record: *mut tg_record,
    field: u32,
    variant: *const c_char,
) -> tg_status {
    with_text(record, variant, |b, v| {
        b.set_enum(FieldIndex::from(field), v)
    })
}

/// Sets a `money`, `decimal` or `integer` field from a decimal text in the
/// records' number grammar (`"800.00"`, `"-12.5"`, `"1e3"`), exactly.
///
/// # Safety
/// `record` is a handle (or NULL); `text` is NUL-terminated (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_set_number(
    record: *mut tg_record,
    field: u32,
    text: *const c_char,
) -> tg_status {
    with_text(record, text, |b, t| {
        b.set_number(FieldIndex::from(field), t)
    })
}

/// Sets a numeric field to `units × 10^-scale`: money in minor units, the
/// scale being the currency's minor-unit exponent (80000 at scale 2 is
/// 800.00 yuan).
///
/// # Safety
/// `record` is a handle (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_set_minor(
    record: *mut tg_record,
    field: u32,
    units: i64,
    scale: u32,
) -> tg_status {
    with(record, |b| {
        b.set_money_minor(FieldIndex::from(field), units, scale)
    })
}

/// Sets a numeric field to a whole number.
///
/// # Safety
/// `record` is a handle (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_set_int(
    record: *mut tg_record,
    field: u32,
    value: i64,
) -> tg_status {
    with(record, |b| b.set_integer(FieldIndex::from(field), value))
}

/// Sets a bool field.
///
/// # Safety
/// `record` is a handle (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_set_bool(
    record: *mut tg_record,
    field: u32,
    value: bool,
) -> tg_status {
    with(record, |b| b.set_bool(FieldIndex::from(field), value))
}

/// Sets a string field (UTF-8, copied).
///
/// # Safety
/// `record` is a handle (or NULL); `value` is NUL-terminated (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_set_string(
    record: *mut tg_record,
    field: u32,
    value: *const c_char,
) -> tg_status {
    with_text(record, value, |b, v| b.set_str(FieldIndex::from(field), v))
}

/// Sets a timestamp field: milliseconds since the Unix epoch, and the UTC
/// offset in seconds east (28800 for China) its local time is read with.
///
/// # Safety
/// `record` is a handle (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_set_time(
    record: *mut tg_record,
    field: u32,
    unix_ms: i64,
    offset_secs: i32,
) -> tg_status {
    with(record, |b| {
        b.set_time(FieldIndex::from(field), unix_ms, offset_secs)
    })
}

/// Writes the message of the record's last error (from a setter,
/// `tg_price` or `tg_decide`) into `buf`, cut to `len` bytes with a NUL.
///
/// # Safety
/// `record` is a handle (or NULL); `buf` is writable for `len` bytes (or
/// NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_record_error(
    record: *const tg_record,
    buf: *mut c_char,
    len: usize,
) -> tg_status {
    let r = match handle::get(record) {
        Ok(r) => r,
        Err(s) => return s,
    };
    if buf.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    buffers::message(buf, len, &r.message);
    tg_status::TG_OK
}

/// Frees a record. NULL is ignored.
///
/// # Safety
/// `record` is a handle from `tg_record_new`, not used after this call.
#[no_mangle]
pub unsafe extern "C" fn tg_record_free(record: *mut tg_record) {
    handle::free(record);
}

//! Pricing a record with a fees policy: the total and each schedule's
//! component, as decimal text and as integer minor units.

use crate::buffers::{self, Small};
use crate::handle::{self, Handle};
use crate::policy::tg_policy;
use crate::record::{status_of, tg_record};
use crate::status::tg_status;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::c_char;
use tollgate_runtime::artifact::Compiled;
use tollgate_runtime::eval::{Component, EvalError};
use tollgate_runtime::Decimal;

/// The price of the last record given to `tg_price` with it: room for
/// every schedule's component is made when it is created, so pricing does
/// not allocate (opaque). It belongs to one thread at a time.
pub struct tg_fee {
    _opaque: [u8; 0],
}

/// What a fee handle holds.
pub(crate) struct Fee {
    policy: Arc<Compiled>,
    components: Vec<Component>,
    total: Option<Decimal>,
}

impl Handle for tg_fee {
    type Data = Fee;
    const TAG: u32 = 0x5447_4645; // "TGFE"
}

/// Makes a fee result for a fees policy in `*out` (free it with
/// `tg_fee_free`).
///
/// # Safety
/// `policy` is a handle (or NULL); `out` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_fee_new(policy: *const tg_policy, out: *mut *mut tg_fee) -> tg_status {
    let p = match handle::get(policy) {
        Ok(p) => p,
        Err(s) => return s,
    };
    let Compiled::Fees(table) = &*p.compiled else {
        return tg_status::TG_WRONG_KIND;
    };
    if out.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let fee: *mut tg_fee = handle::into_raw(Fee {
        policy: p.compiled.clone(),
        components: Vec::with_capacity(table.schedules().len()),
        total: None,
    });
    // SAFETY: `out` is writable.
    unsafe { out.write(fee) };
    tg_status::TG_OK
}

/// Prices `record` (made for `policy`) into `fee`. Fields left unset take
/// their defaults. On `TG_MISSING_FIELD` or `TG_NO_FEE` the record's
/// message (`tg_record_error`) says why, and `fee` holds no price.
///
/// # Safety
/// Each argument is a handle of its type (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_price(
    policy: *const tg_policy,
    record: *mut tg_record,
    fee: *mut tg_fee,
) -> tg_status {
    let p = match handle::get(policy) {
        Ok(p) => p,
        Err(s) => return s,
    };
    let r = match handle::get_mut(record) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let f = match handle::get_mut(fee) {
        Ok(f) => f,
        Err(s) => return s,
    };
    let Compiled::Fees(table) = &*p.compiled else {
        return tg_status::TG_WRONG_KIND;
    };
    if !Arc::ptr_eq(&p.compiled, &r.policy) || !Arc::ptr_eq(&p.compiled, &f.policy) {
        return tg_status::TG_WRONG_POLICY;
    }
    f.total = None;
    let values = match r.builder.finish() {
        Ok(v) => v,
        Err(e) => {
            let status = status_of(&e);
            return r.fail(status, format_args!("{e}"));
        }
    };
    match table.fee(values, &mut f.components) {
        Ok(total) => {
            f.total = Some(total);
            tg_status::TG_OK
        }
        Err(e) => {
            let name = |s: u32| table.schedules().get(s as usize).map_or("?", |s| s.name());
            match e {
                EvalError::NoMatch { schedule } => r.fail(
                    tg_status::TG_NO_FEE,
                    format_args!("no rule of schedule `{}` matches", name(schedule.get())),
                ),
                EvalError::Ambiguous { schedule, .. } => r.fail(
                    tg_status::TG_NO_FEE,
                    format_args!(
                        "two rules of unique schedule `{}` match",
                        name(schedule.get())
                    ),
                ),
                EvalError::NegativeAmount { schedule } => r.fail(
                    tg_status::TG_NO_FEE,
                    format_args!("schedule `{}`: negative amount", name(schedule.get())),
                ),
                e @ EvalError::Internal { .. } => {
                    r.fail(tg_status::TG_INTERNAL, format_args!("{e}"))
                }
                other => r.fail(tg_status::TG_NO_FEE, format_args!("no fee: {other}")),
            }
        }
    }
}

/// The fee's price, or `TG_NO_FEE` when it holds none.
fn priced<'a>(fee: *const tg_fee) -> Result<(&'a Fee, Decimal), tg_status> {
    let f: &Fee = handle::get(fee)?;
    let total = f.total.ok_or(tg_status::TG_NO_FEE)?;
    Ok((f, total))
}

/// `amount` as decimal text in `buf`.
fn text(amount: Decimal, buf: *mut c_char, len: usize) -> tg_status {
    let out = match buffers::out(buf, len) {
        Ok(o) => o,
        Err(s) => return s,
    };
    let Some(s) = Small::of(&amount) else {
        return tg_status::TG_INEXACT;
    };
    match buffers::put(out, s.as_str()) {
        Ok(()) => tg_status::TG_OK,
        Err(s) => s,
    }
}

/// `amount` in units of 10^-scale, exactly, in `*units`.
fn minor(amount: Decimal, scale: u32, units: *mut i64) -> tg_status {
    if units.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let d = amount.normalize();
    let Some(up) = scale.checked_sub(d.scale()) else {
        return tg_status::TG_INEXACT;
    };
    let value = 10i128
        .checked_pow(up)
        .and_then(|f| d.mantissa().checked_mul(f))
        .and_then(|m| i64::try_from(m).ok());
    match value {
        Some(v) => {
            // SAFETY: `units` is writable.
            unsafe { units.write(v) };
            tg_status::TG_OK
        }
        None => tg_status::TG_INEXACT,
    }
}

/// Writes the total fee as decimal text (`"25.00"`) into `buf` (`len`
/// bytes, NUL included; 64 always suffice).
///
/// # Safety
/// `fee` is a handle (or NULL); `buf` is writable for `len` bytes (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_fee_total(
    fee: *const tg_fee,
    buf: *mut c_char,
    len: usize,
) -> tg_status {
    match priced(fee) {
        Ok((_, total)) => text(total, buf, len),
        Err(s) => s,
    }
}

/// Writes the total fee in units of 10^-`scale` (the currency's minor
/// unit: 2500 at scale 2 for 25.00) to `*units`; `TG_INEXACT` when it is
/// not a whole number of them or does not fit.
///
/// # Safety
/// `fee` is a handle (or NULL); `units` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_fee_total_minor(
    fee: *const tg_fee,
    scale: u32,
    units: *mut i64,
) -> tg_status {
    match priced(fee) {
        Ok((_, total)) => minor(total, scale, units),
        Err(s) => s,
    }
}

/// Writes the number of components (one per schedule) to `*count`.
///
/// # Safety
/// `fee` is a handle (or NULL); `count` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_fee_count(fee: *const tg_fee, count: *mut usize) -> tg_status {
    let f = match priced(fee) {
        Ok((f, _)) => f,
        Err(s) => return s,
    };
    if count.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    // SAFETY: `count` is writable.
    unsafe { count.write(f.components.len()) };
    tg_status::TG_OK
}

/// Component `index`'s schedule name, rule name and fee (decimal text),
/// each into its own buffer (`*_len` bytes, NUL included).
///
/// # Safety
/// `fee` is a handle (or NULL); each buffer is writable for its length (or
/// NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_fee_component(
    fee: *const tg_fee,
    index: usize,
    schedule: *mut c_char,
    schedule_len: usize,
    rule: *mut c_char,
    rule_len: usize,
    amount: *mut c_char,
    amount_len: usize,
) -> tg_status {
    let f = match priced(fee) {
        Ok((f, _)) => f,
        Err(s) => return s,
    };
    let Some(c) = f.components.get(index) else {
        return tg_status::TG_OUT_OF_RANGE;
    };
    let Compiled::Fees(table) = &*f.policy else {
        return tg_status::TG_WRONG_KIND;
    };
    let Some(s) = table.schedules().get(c.schedule.get() as usize) else {
        return tg_status::TG_OUT_OF_RANGE;
    };
    let rule_name = s
        .rules()
        .get(c.rule.get() as usize)
        .map_or("", |r| r.name.as_str());
    for (buf, len, name) in [
        (schedule, schedule_len, s.name()),
        (rule, rule_len, rule_name),
    ] {
        let out = match buffers::out(buf, len) {
            Ok(o) => o,
            Err(s) => return s,
        };
        if let Err(s) = buffers::put(out, name) {
            return s;
        }
    }
    text(c.fee.total, amount, amount_len)
}

/// Component `index`'s fee in units of 10^-`scale`, as
/// `tg_fee_total_minor`.
///
/// # Safety
/// `fee` is a handle (or NULL); `units` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_fee_component_minor(
    fee: *const tg_fee,
    index: usize,
    scale: u32,
    units: *mut i64,
) -> tg_status {
    let f = match priced(fee) {
        Ok((f, _)) => f,
        Err(s) => return s,
    };
    match f.components.get(index) {
        Some(c) => minor(c.fee.total, scale, units),
        None => tg_status::TG_OUT_OF_RANGE,
    }
}

/// Frees a fee result. NULL is ignored.
///
/// # Safety
/// `fee` is a handle from `tg_fee_new`, not used after this call.
#[no_mangle]
pub unsafe extern "C" fn tg_fee_free(fee: *mut tg_fee) {
    handle::free(fee);
}

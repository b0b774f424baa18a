//! An amount written as text straight into an output buffer, the bytes
//! [`crate::compile::print::amount`] gives, without the formatter: the
//! batch run writes one per record, and `Decimal`'s `Display` (digits
//! gathered one division at a time into a buffer, then padded by the
//! formatter) was a measured part of its time (`BENCHMARKS.md` section 5).

use rust_decimal::Decimal;
use std::io::Write;

/// The most zeros appended to reach `dp` decimals on the fast path: a
/// 64-bit mantissa times 10^8 still fits the decimal's 96 bits, so
/// `rescale` is exact and the text is the digits with zeros after them.
const MAX_PAD: u32 = 8;

/// Appends `d` with at least `dp` decimals, as
/// [`crate::compile::print::amount`] writes it.
pub fn write_amount(out: &mut Vec<u8>, d: Decimal, dp: u32) {
    let scale = d.scale();
    let pad = dp.saturating_sub(scale);
    let Ok(mut rest) = u64::try_from(d.mantissa().unsigned_abs()) else {
        return write_slow(out, d, dp);
    };
    if pad > MAX_PAD {
        return write_slow(out, d, dp);
    }
    // The digits, last first, from the end of `digits`.
    let mut digits = [b'0'; 20];
    let mut len = 0usize;
    while rest > 0 {
        if let Some(slot) = digits
            .len()
            .checked_sub(len + 1)
            .and_then(|i| digits.get_mut(i))
        {
            *slot = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        len += 1;
    }
    let written = digits.get(digits.len() - len..).unwrap_or(&[]);
    let scale = scale as usize;
    if d.is_sign_negative() {
        out.push(b'-');
    }
    // The whole part (`0` when every digit is a decimal), the point, the
    // decimals: zeros the digits do not reach, the digits, the padding.
    let (whole, decimals) = written.split_at(len.saturating_sub(scale));
    if whole.is_empty() {
        out.push(b'0');
    } else {
        out.extend_from_slice(whole);
    }
    if scale + pad as usize > 0 {
        out.push(b'.');
        out.extend(std::iter::repeat_n(b'0', scale - decimals.len()));
        out.extend_from_slice(decimals);
        out.extend(std::iter::repeat_n(b'0', pad as usize));
    }
}

/// [`crate::compile::print::amount`]'s way, for amounts beyond the fast
/// path.
fn write_slow(out: &mut Vec<u8>, d: Decimal, dp: u32) {
    let mut d = d;
    if d.scale() < dp {
        d.rescale(dp);
    }
    // Writing into a vector cannot fail.
    let _ = write!(out, "{d}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::print::amount;
    use proptest::prelude::*;

    fn text(d: Decimal, dp: u32) -> String {
        let mut out = Vec::new();
        write_amount(&mut out, d, dp);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn amounts_are_written_as_display_writes_them() {
        let mut negative_zero = Decimal::new(0, 2);
        negative_zero.set_sign_negative(true);
        for (d, dp) in [
            (Decimal::ZERO, 0),
            (Decimal::ZERO, 2),
            (Decimal::new(0, 3), 2),
            (negative_zero, 2),
            (Decimal::new(5, 0), 2),
            (Decimal::new(5, 1), 2),
            (Decimal::new(195, 4), 2),
            (Decimal::new(-1234, 2), 2),
            (Decimal::new(1, 28), 2),
            (Decimal::new(i64::MAX, 0), 4),
            (Decimal::MAX, 2),
            (Decimal::MIN, 0),
            (Decimal::new(3, 0), 12),
        ] {
            assert_eq!(text(d, dp), amount(d, dp), "{d:?} at {dp}");
        }
    }

    proptest! {
        #[test]
        fn every_amount_is_written_as_display_writes_it(
            mantissa in prop_oneof![any::<i64>().prop_map(i128::from), -(1i128 << 95)..(1i128 << 95)],
            scale in 0u32..=28,
            negative_zero in any::<bool>(),
            dp in 0u32..=10,
        ) {
            let mut d = Decimal::from_i128_with_scale(mantissa, scale);
            if mantissa == 0 && negative_zero {
                d.set_sign_negative(true);
            }
            prop_assert_eq!(text(d, dp), amount(d, dp));
        }
    }
}

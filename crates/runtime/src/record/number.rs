//! The number grammar of records, exact: what `money`, `decimal` and
//! `integer` fields accept from text, the same on terminals as in
//! `tollgate eval` (`docs/records.md`).

use crate::Decimal;

/// The largest exponent a number may carry: beyond it no value of a
/// `Decimal` (28 digits) is exact.
const MAX_EXPONENT: i64 = 28;

/// The most significant digits a number may have (leading zeros do not
/// count): what a `Decimal` holds exactly whatever the digits are.
pub const MAX_DIGITS: usize = 28;

/// Why a text is not a number a record accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NumberError {
    /// Not in the grammar (spaces, `+`, separators, `.5`, `0100`, `NaN`...).
    Malformed,
    /// An exponent beyond ±28.
    ExponentOutOfRange,
    /// More than 28 significant digits.
    TooManyDigits,
    /// Not exactly representable once scaled (more than 28 decimal places,
    /// or beyond the decimal range).
    NotExact,
    /// An integer field's value is not whole.
    NotWhole,
    /// An integer field's value is outside 64 bits.
    OutOfRange,
}

impl core::fmt::Display for NumberError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            NumberError::Malformed => {
                "is not a decimal number (digits with an optional leading `-`, a `.` and an \
                 exponent, such as `-12.50` or `1e3`; no spaces, `+` or separators)"
            }
            NumberError::ExponentOutOfRange => "is out of range (exponents go up to ±28)",
            NumberError::TooManyDigits => "has more than 28 significant digits",
            NumberError::NotExact => "has more digits than can be represented exactly",
            NumberError::NotWhole => "is not a whole number",
            NumberError::OutOfRange => "is not a 64-bit integer",
        })
    }
}

impl core::error::Error for NumberError {}

/// Whether `text` follows the number grammar of records (JSON's):
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. The host's
/// readers (JSON, CSV and the typed batch reader) use it too, so every
/// path accepts the same numbers.
pub fn is_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b.get(int_start) == Some(&b'0')) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Parses an exact decimal in the number grammar of records: an exponent
/// scales the digits exactly; a value that needs more than 28 significant
/// digits, or an exponent beyond ±28, is refused, never rounded.
///
/// # Errors
/// [`NumberError`] saying why the text is refused.
pub fn parse_decimal(text: &str) -> Result<Decimal, NumberError> {
    if !is_number(text) {
        return Err(NumberError::Malformed);
    }
    let (digits, exponent) = match text.find(['e', 'E']) {
        Some(at) => (
            text.get(..at).unwrap_or(text),
            text.get(at + 1..).unwrap_or("0"),
        ),
        None => (text, "0"),
    };
    let exponent: i64 = exponent
        .parse()
        .map_err(|_| NumberError::ExponentOutOfRange)?;
    if exponent.abs() > MAX_EXPONENT {
        return Err(NumberError::ExponentOutOfRange);
    }
    let significant = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|&b| b == b'0')
        .count();
    if significant > MAX_DIGITS {
        return Err(NumberError::TooManyDigits);
    }
    // Trailing zeros of the fraction do not count against the places a
    // decimal holds (`0.00…010` with 29 places is 28 once they go).
    let mut d = Decimal::from_str_exact(digits)
        .or_else(|e| {
            if digits.contains('.') {
                Decimal::from_str_exact(digits.trim_end_matches('0').trim_end_matches('.'))
            } else {
                Err(e)
            }
        })
        .map_err(|_| NumberError::NotExact)?;
    if exponent > 0 {
        let up = u32::try_from(exponent).unwrap_or(u32::MAX);
        let scale_down = up.min(d.scale());
        d.set_scale(d.scale() - scale_down)
            .map_err(|_| NumberError::NotExact)?;
        for _ in scale_down..up {
            d = d.checked_mul(Decimal::TEN).ok_or(NumberError::NotExact)?;
        }
    } else if exponent < 0 {
        let shift = u32::try_from(-exponent).unwrap_or(u32::MAX);
        if d.set_scale(d.scale().saturating_add(shift)).is_err() {
            // Trailing zeros carry no value: `1.0e-28` is `1e-28`.
            d = d.normalize();
            d.set_scale(d.scale().saturating_add(shift))
                .map_err(|_| NumberError::NotExact)?;
        }
    }
    Ok(d)
}

/// An integer field's value: whole (`90`, `90.0` and `9e1` are all 90) and
/// within 64 bits; kept without a scale.
///
/// # Errors
/// [`NumberError::NotWhole`] or [`NumberError::OutOfRange`].
pub fn whole(d: Decimal) -> Result<Decimal, NumberError> {
    let n = d.normalize();
    if n.scale() != 0 {
        return Err(NumberError::NotWhole);
    }
    if n < Decimal::from(i64::MIN) || n > Decimal::from(i64::MAX) {
        return Err(NumberError::OutOfRange);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn exact_or_refused() {
        let num = parse_decimal;
        assert!(num("1234567890123456789012345678").is_ok());
        assert_eq!(
            num("12345678901234567890123456789"),
            Err(NumberError::TooManyDigits)
        );
        assert!(num("0.0000000000000000000000000001").is_ok());
        assert_eq!(num("1.0e-28").unwrap(), num("1e-28").unwrap());
        assert!(num("1e-29").is_err());
        // Trailing zeros aside, 28 places fit; a 29th significant one does not.
        assert_eq!(
            num("0.00000000000000000000000000010").unwrap(),
            num("1e-28").unwrap()
        );
        assert_eq!(
            num("0.000000000000000000000000000100e1").unwrap(),
            num("1e-27").unwrap()
        );
        assert_eq!(
            num("0.00000000000000000000000000011"),
            Err(NumberError::NotExact)
        );
        assert_eq!(num("1.5E2").unwrap().to_string(), "150");
        assert_eq!(num("-0.000120").unwrap().to_string(), "-0.000120");
        for bad in [
            " 1", "+1", "0100", ".5", "5.", "1_000", "1,0", "NaN", "", "-",
        ] {
            assert_eq!(num(bad), Err(NumberError::Malformed), "{bad}");
        }
        assert_eq!(num("1e29"), Err(NumberError::ExponentOutOfRange));
        assert_eq!(whole(num("9e1").unwrap()).unwrap().to_string(), "90");
        assert_eq!(whole(num("1.5").unwrap()), Err(NumberError::NotWhole));
        assert_eq!(whole(num("1e20").unwrap()), Err(NumberError::OutOfRange));
    }
}

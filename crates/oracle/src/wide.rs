//! Unsigned integers of 256 bits, for the oracle's exact arithmetic: wide
//! enough for the product of two decimal mantissas (96 bits each) raised
//! to a common scale (at most 10^56, 187 bits). Four 64-bit limbs, least
//! significant first; schoolbook multiplication, shift-and-subtract
//! division: slow and plain, which is what an oracle wants.

use std::cmp::Ordering;

/// An unsigned integer below 2^256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wide([u64; 4]);

impl Wide {
    /// Zero.
    pub const ZERO: Wide = Wide([0; 4]);

    /// `n` as a wide integer.
    pub fn from_u128(n: u128) -> Wide {
        Wide([n as u64, (n >> 64) as u64, 0, 0])
    }

    /// The value when it is below 2^128.
    pub fn to_u128(self) -> Option<u128> {
        let [a, b, c, d] = self.0;
        (c == 0 && d == 0).then_some(u128::from(a) | (u128::from(b) << 64))
    }

    /// Whether the value is zero.
    pub fn is_zero(self) -> bool {
        self == Wide::ZERO
    }

    /// Whether the value is odd.
    pub fn is_odd(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// `a × b`, which always fits 256 bits.
    pub fn product(a: u128, b: u128) -> Wide {
        let (a, b) = (limbs(a), limbs(b));
        let mut out = [0u64; 4];
        for (i, &x) in a.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &y) in b.iter().enumerate() {
                if let Some(slot) = out.get_mut(i + j) {
                    let t = u128::from(x) * u128::from(y) + u128::from(*slot) + carry;
                    *slot = t as u64;
                    carry = t >> 64;
                }
            }
            if let Some(slot) = out.get_mut(i + 2) {
                *slot = carry as u64;
            }
        }
        Wide(out)
    }

    /// `self × k`, or `None` past 2^256.
    pub fn times(self, k: u64) -> Option<Wide> {
        let mut out = [0u64; 4];
        let mut carry = 0u128;
        for (slot, &x) in out.iter_mut().zip(self.0.iter()) {
            let t = u128::from(x) * u128::from(k) + carry;
            *slot = t as u64;
            carry = t >> 64;
        }
        (carry == 0).then_some(Wide(out))
    }

    /// `self × 10^n`, or `None` past 2^256.
    pub fn times_ten_to(self, n: u32) -> Option<Wide> {
        (0..n).try_fold(self, |w, _| w.times(10))
    }

    /// `self + other`, or `None` past 2^256.
    pub fn plus(self, other: Wide) -> Option<Wide> {
        let mut out = [0u64; 4];
        let mut carry = false;
        for ((slot, &x), &y) in out.iter_mut().zip(self.0.iter()).zip(other.0.iter()) {
            let (s, c1) = x.overflowing_add(y);
            let (s, c2) = s.overflowing_add(u64::from(carry));
            *slot = s;
            carry = c1 || c2;
        }
        (!carry).then_some(Wide(out))
    }

    /// `self − other`, or `None` below zero.
    pub fn minus(self, other: Wide) -> Option<Wide> {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for ((slot, &x), &y) in out.iter_mut().zip(self.0.iter()).zip(other.0.iter()) {
            let (s, b1) = x.overflowing_sub(y);
            let (s, b2) = s.overflowing_sub(u64::from(borrow));
            *slot = s;
            borrow = b1 || b2;
        }
        (!borrow).then_some(Wide(out))
    }

    /// The quotient and remainder of `self ÷ divisor`, or `None` for a
    /// divisor of zero.
    pub fn div_rem(self, divisor: Wide) -> Option<(Wide, Wide)> {
        if divisor.is_zero() {
            return None;
        }
        if let (Some(n), Some(d)) = (self.to_u128(), divisor.to_u128()) {
            return Some((Wide::from_u128(n / d), Wide::from_u128(n % d)));
        }
        let (mut quotient, mut rest) = ([0u64; 4], Wide::ZERO);
        for bit in (0..256).rev() {
            // rest = rest × 2 + the next bit of self; rest < divisor
            // before, so rest × 2 + 1 < 2 × divisor fits when divisor does.
            rest = rest
                .shifted_left()
                .plus(Wide::from_u128(u128::from(self.bit(bit))))?;
            if rest >= divisor {
                rest = rest.minus(divisor)?;
                if let Some(limb) = quotient.get_mut(bit / 64) {
                    *limb |= 1 << (bit % 64);
                }
            }
        }
        Some((Wide(quotient), rest))
    }

    /// Bit `n` (0 the least significant).
    fn bit(self, n: usize) -> u64 {
        self.0.get(n / 64).map_or(0, |limb| (limb >> (n % 64)) & 1)
    }

    /// `self × 2`, the top bit dropped (callers keep values below 2^255).
    fn shifted_left(self) -> Wide {
        let [a, b, c, d] = self.0;
        Wide([a << 1, b << 1 | a >> 63, c << 1 | b >> 63, d << 1 | c >> 63])
    }
}

impl Ord for Wide {
    fn cmp(&self, other: &Wide) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl PartialOrd for Wide {
    fn partial_cmp(&self, other: &Wide) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The two 64-bit limbs of `n`, least significant first.
fn limbs(n: u128) -> [u64; 2] {
    [n as u64, (n >> 64) as u64]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_quotients_of_known_numbers() {
        let max = u128::MAX;
        let p = Wide::product(max, max);
        // (2^128 − 1)^2 = 2^256 − 2^129 + 1.
        assert_eq!(p, Wide([1, 0, u64::MAX - 1, u64::MAX]));
        let (q, r) = p.div_rem(Wide::from_u128(max)).unwrap();
        assert_eq!((q, r), (Wide::from_u128(max), Wide::ZERO));
        let ten28 = 10u128.pow(28);
        let n = Wide::product(79_228_162_514_264_337_593_543_950_335, ten28);
        let (q, r) = n
            .plus(Wide::from_u128(7))
            .unwrap()
            .div_rem(Wide::from_u128(ten28))
            .unwrap();
        assert_eq!(q.to_u128(), Some(79_228_162_514_264_337_593_543_950_335));
        assert_eq!(r.to_u128(), Some(7));
        assert_eq!(
            Wide::from_u128(5).times_ten_to(3).unwrap().to_u128(),
            Some(5000)
        );
        assert_eq!(Wide::from_u128(5).minus(Wide::from_u128(6)), None);
        assert_eq!(Wide::from_u128(1).div_rem(Wide::ZERO), None);
        assert!(Wide::from_u128(1 << 100) > Wide::from_u128(u128::from(u64::MAX)));
        assert_eq!(Wide([0, 0, 0, 1]).times(2), Some(Wide([0, 0, 0, 2])));
        assert_eq!(Wide([0, 0, 0, 1 << 63]).times(2), None);
    }
}

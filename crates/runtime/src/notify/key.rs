//! A record's key for a rule: the 64-bit hash of the values of the fields
//! the rule counts by. The hash is XXH64 over a fixed encoding of the
//! values; saved states, Redis keys and journals hold it, so the encoding
//! and the seed never change. Keys that fit a small buffer (a terminal or
//! merchant name) are hashed in one call (under 32 bytes, by the last steps
//! of XXH64 alone); longer ones are encoded again and streamed, to the same
//! hash.

use crate::hashes::KeyHash;
use crate::value::Value;
use xxhash_rust::xxh64::{xxh64, Xxh64};

/// The seed every key hash starts from.
const SEED: u64 = 0x7011_6a7e;

/// How many encoded bytes are hashed in one call.
const SHORT: usize = 64;

/// The encoded values while they fit [`SHORT`] bytes: hashed in one call.
struct Short {
    buf: [u8; SHORT],
    len: usize,
}

impl Short {
    /// Appends `bytes`; `false` (and nothing appended) when they do not fit.
    #[inline]
    fn push(&mut self, bytes: &[u8]) -> bool {
        let end = self.len + bytes.len();
        match self.buf.get_mut(self.len..end) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len = end;
                true
            }
            None => false,
        }
    }
}

/// The key of a record for the fields `keys`: a 64-bit hash of their values
/// (numbers normalized, so 1.0 and 1.00 are one key).
pub(crate) fn key_of(record: &[Value], keys: &[u32]) -> KeyHash {
    let mut short = Short {
        buf: [0; SHORT],
        len: 0,
    };
    let mut fits = true;
    encode(record, keys, |bytes| fits = fits && short.push(bytes));
    match (fits, short.buf.get(..short.len)) {
        (true, Some(bytes)) if bytes.len() < 32 => return KeyHash::new(xxh64_short(bytes)),
        (true, Some(bytes)) => return KeyHash::new(xxh64(bytes, SEED)),
        _ => {}
    }
    // Too long for the buffer: the values are encoded again, streamed.
    let mut h = Xxh64::new(SEED);
    encode(record, keys, |bytes| h.update(bytes));
    KeyHash::new(h.digest())
}

/// XXH64's primes.
const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

/// XXH64 of `bytes` under [`SEED`] for inputs shorter than 32 bytes (a
/// terminal's or a merchant's name), where the hash is its final steps
/// alone: the same value as `xxh64(bytes, SEED)` in a few instructions
/// (a decision hashes its key on every message).
fn xxh64_short(bytes: &[u8]) -> u64 {
    let mut h = SEED.wrapping_add(P5).wrapping_add(bytes.len() as u64);
    let mut eights = bytes.chunks_exact(8);
    for c in &mut eights {
        let k = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        h ^= k.wrapping_mul(P2).rotate_left(31).wrapping_mul(P1);
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
    }
    let mut rest = eights.remainder();
    if let Some((four, tail)) = rest.split_first_chunk::<4>() {
        h ^= u64::from(u32::from_le_bytes(*four)).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        rest = tail;
    }
    for &b in rest {
        h ^= u64::from(b).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// Gives `push` the bytes the key hash is taken over: per field, a kind
/// byte and the value.
fn encode(record: &[Value], keys: &[u32], mut push: impl FnMut(&[u8])) {
    for &k in keys {
        match record.get(k as usize) {
            Some(Value::Enum(i)) => {
                push(&[1]);
                push(&i.to_le_bytes());
            }
            Some(Value::Num(d)) => {
                let n = d.normalize();
                push(&[2]);
                push(&n.mantissa().to_le_bytes());
                push(&[n.scale() as u8]);
            }
            Some(Value::Bool(b)) => push(&[3, u8::from(*b)]),
            Some(Value::Str(s)) => {
                push(&[4]);
                push(&(s.len() as u64).to_le_bytes());
                push(s.as_bytes());
            }
            Some(Value::Time { unix_ms, .. }) => {
                push(&[5]);
                push(&unix_ms.to_le_bytes());
            }
            None => push(&[0]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;
    use rust_decimal::Decimal;

    /// The hash as it was always computed: every value streamed.
    fn streamed(record: &[Value], keys: &[u32]) -> u64 {
        let mut h = Xxh64::new(SEED);
        encode(record, keys, |bytes| h.update(bytes));
        h.digest()
    }

    /// The short form is XXH64 for every length it is used for.
    #[test]
    fn the_short_hash_is_xxh64() {
        let bytes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for n in 0..32 {
            assert_eq!(
                xxh64_short(&bytes[..n]),
                xxh64(&bytes[..n], SEED),
                "{n} bytes"
            );
        }
    }

    /// Keys of every kind and of every length around the buffer's size hash
    /// as the streaming hasher does: the hashes saved states hold stay
    /// valid.
    #[test]
    fn one_call_and_streaming_agree() {
        let mut records: Vec<Vec<Value>> = Vec::new();
        for n in 0..140 {
            let s: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            records.push(vec![Value::Str(s.clone()), Value::Enum(n), Value::Str(s)]);
        }
        records.push(vec![
            Value::Num(Decimal::new(1250, 3)),
            Value::Bool(true),
            Value::Time {
                unix_ms: -5,
                offset_secs: 3600,
            },
        ]);
        let key_sets: [&[u32]; 6] = [&[], &[0], &[1], &[0, 1], &[0, 1, 2, 7], &[2, 2, 2]];
        for r in &records {
            for keys in key_sets {
                assert_eq!(key_of(r, keys).get(), streamed(r, keys), "{r:?} {keys:?}");
            }
        }
        assert_eq!(
            key_of(&[Value::Num(Decimal::new(1, 0))], &[0]),
            key_of(&[Value::Num(Decimal::new(100, 2))], &[0])
        );
    }
}

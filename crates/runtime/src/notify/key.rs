//! A record's key for a rule: the 64-bit hash of the values of the fields
//! the rule counts by. The hash is XXH64 over a fixed encoding of the
//! values; saved states, Redis keys and journals hold it, so the encoding
//! and the seed never change. Keys that fit a small buffer (a terminal or
//! merchant name) are hashed in one call; longer ones are streamed, to the
//! same hash.

use crate::hashes::KeyHash;
use crate::value::Value;
use xxhash_rust::xxh64::{xxh64, Xxh64};

/// The seed every key hash starts from.
const SEED: u64 = 0x7011_6a7e;

/// How many encoded bytes are hashed in one call.
const SHORT: usize = 64;

/// Where the encoded values go: a stack buffer while they fit, then the
/// streaming hasher.
struct Sink {
    buf: [u8; SHORT],
    len: usize,
    stream: Option<Xxh64>,
}

impl Sink {
    fn new() -> Sink {
        Sink {
            buf: [0; SHORT],
            len: 0,
            stream: None,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.stream {
            h.update(bytes);
            return;
        }
        let end = self.len + bytes.len();
        if let Some(room) = self.buf.get_mut(self.len..end) {
            room.copy_from_slice(bytes);
            self.len = end;
        } else {
            let mut h = Xxh64::new(SEED);
            h.update(self.buf.get(..self.len).unwrap_or(&[]));
            h.update(bytes);
            self.stream = Some(h);
        }
    }

    fn digest(&self) -> u64 {
        match &self.stream {
            Some(h) => h.digest(),
            None => xxh64(self.buf.get(..self.len).unwrap_or(&[]), SEED),
        }
    }
}

/// The key of a record for the fields `keys`: a 64-bit hash of their values
/// (numbers normalized, so 1.0 and 1.00 are one key).
pub(crate) fn key_of(record: &[Value], keys: &[u32]) -> KeyHash {
    let mut h = Sink::new();
    encode(record, keys, |bytes| h.push(bytes));
    KeyHash::new(h.digest())
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

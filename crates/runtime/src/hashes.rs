//! Typed hashes: what a throttle state is keyed by. A [`KeyHash`] names a
//! rule key (the hash of the values of the fields a rule counts by,
//! [`NotifyRule::key_of`](crate::notify::NotifyRule::key_of)); a [`MessageIdHash`] names a message
//! id ([`NotifyPolicy::message_id_of`](crate::notify::NotifyPolicy::message_id_of)).
//! Both are 64-bit, as the saved states, the Redis keys and the journal
//! write them; a function that takes one cannot be given the other.

use core::hash::Hasher;

/// Defines a `u64` hash newtype with `new` and `get`.
macro_rules! hash {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(u64);

        impl $name {
            /// The hash `h`, as computed or as read back from a saved state.
            pub const fn new(h: u64) -> $name {
                $name(h)
            }

            /// The hash, as saved states write it.
            pub const fn get(self) -> u64 {
                self.0
            }
        }
    };
}

hash! {
    /// A rule key's 64-bit hash: the values of the fields a de-duplication
    /// or limit rule counts by ([`NotifyRule::key_of`](crate::notify::NotifyRule::key_of)). Not a
    /// [`MessageIdHash`]: a key hash given where a message id is wanted
    /// does not compile.
    ///
    /// ```compile_fail,E0308
    /// use tollgate_runtime::hashes::{KeyHash, MessageIdHash};
    /// use tollgate_runtime::notify::{MemoryState, ThrottleState};
    /// let state = MemoryState::new();
    /// assert_eq!(state.decided(MessageIdHash::new(7)), None);
    /// let key: KeyHash = KeyHash::new(7);
    /// let _ = state.decided(key);
    /// ```
    KeyHash
}

hash! {
    /// A message id's 64-bit hash (XXH64 of the id's UTF-8 bytes, see
    /// [`ids`](crate::ids)): what a state remembers decisions by.
    MessageIdHash
}

/// Hashes (rule, key) pairs whose key is already a 64-bit hash: one
/// multiply-and-mix instead of a general-purpose hash function.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

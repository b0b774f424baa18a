//! CRC-32 (IEEE 802.3, the checksum of zlib, PNG and `crc32fast`) of
//! artifacts and saved states, byte by byte with a 1 KiB table built at
//! compile time: a terminal pays 1 KiB of read-only data for it instead of
//! the 16 KiB table of a slice-by-16 implementation (BENCHMARKS.md, "Code
//! size and memory"); artifacts and states are checked once per load, so
//! the speed of a byte-wise table is enough.

/// The reflected polynomial.
const POLY: u32 = 0xEDB8_8320;

/// The remainder of each byte value.
const TABLE: [u32; 256] = table();

// Evaluated at compile time, where an index out of bounds is a build error.
#[allow(clippy::indexing_slicing)]
const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { POLY ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        let i = ((c ^ u32::from(b)) & 0xff) as usize;
        // `i` is below 256, the table's length.
        c = TABLE.get(i).copied().unwrap_or(0) ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn agrees_with_crc32fast() {
        let mut bytes = alloc::vec::Vec::new();
        let mut x: u32 = 1;
        for n in 0..2_000usize {
            assert_eq!(crc32(&bytes), crc32fast::hash(&bytes), "{n} bytes");
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            bytes.push((x >> 16) as u8);
        }
    }
}

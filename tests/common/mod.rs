//! Helpers shared by integration tests.

/// CRC-32 (IEEE), written out so that tests do not share the loaders' code.
#[allow(dead_code)]
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Property-test cases: `default` normally, multiplied by `TOLLGATE_LONG`
/// (a whole number) for the long form run before an engine change lands:
/// `TOLLGATE_LONG=20 cargo test --release --workspace`.
#[allow(dead_code)]
pub fn cases(default: u32) -> u32 {
    let scale = std::env::var("TOLLGATE_LONG")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    default.saturating_mul(scale)
}

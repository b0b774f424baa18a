//! The artifact loader trusts nothing: 100,000+ mutated artifacts (bit flips,
//! truncations, insertions, overwritten lengths), half of them with the
//! checksum and hash recomputed so the damage reaches the decoder, all give
//! either an error or a table that validates and evaluates without panic.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use tollgate::generate::{self, Rng, Shape};
use tollgate_runtime::artifact::{self, ArtifactErrorKind, FORMAT_VERSION, MAGIC};
use tollgate_runtime::table::Table;

fn artifacts() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees");
    let mut out: Vec<Vec<u8>> = tollgate::source::discover(&root)
        .unwrap()
        .iter()
        .map(|p| {
            let (_, table) =
                tollgate::compile_source(&std::fs::read_to_string(p).unwrap()).unwrap();
            artifact::encode(&table)
        })
        .collect();
    for seed in 0..4 {
        let text = generate::policy(
            seed,
            Shape {
                rules: 20,
                schedules: 2,
                unique: true,
                specific: seed % 2 == 0,
            },
        );
        out.push(artifact::encode(
            &tollgate::compile_source(&text).unwrap().1,
        ));
    }
    out
}

/// Recomputes the content hash and checksum over damaged bytes, so that the
/// damage reaches the body decoder.
fn reseal(bytes: &mut [u8]) {
    if bytes.len() < 28 {
        return;
    }
    let body_len = (bytes.len() - 28) as u32;
    bytes[12..16].copy_from_slice(&body_len.to_le_bytes());
    let body_end = bytes.len() - 12;
    let hash = artifact::content_hash(&bytes[16..body_end]);
    bytes[body_end..body_end + 8].copy_from_slice(&hash.to_le_bytes());
    let crc_at = bytes.len() - 4;
    let crc = common::crc32(&bytes[..crc_at]);
    bytes[crc_at..].copy_from_slice(&crc.to_le_bytes());
}

fn mutate(r: &mut Rng, bytes: &mut Vec<u8>) {
    let len = bytes.len().max(1);
    match r.below(7) {
        0 => {
            let i = r.below(len);
            if let Some(b) = bytes.get_mut(i) {
                *b ^= 1 << r.below(8);
            }
        }
        1 => bytes.truncate(r.below(len)),
        2 => {
            let at = r.below(len).min(bytes.len());
            let n = 1 + r.below(16);
            let junk: Vec<u8> = (0..n).map(|_| r.next_u64() as u8).collect();
            bytes.splice(at..at, junk);
        }
        3 => {
            // Overwrite four bytes with a large or boundary count.
            let at = r.below(len.saturating_sub(4).max(1));
            let v: u32 = *r
                .pick(&[u32::MAX, 0x7fff_ffff, 0x0100_0000, 65, 64, 0, 1])
                .unwrap();
            if at + 4 <= bytes.len() {
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        4 => {
            let at = r.below(len);
            let end = (at + 1 + r.below(32)).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        5 => {
            let i = r.below(len);
            if let Some(b) = bytes.get_mut(i) {
                *b = r.next_u64() as u8;
            }
        }
        _ => {
            let at = r.below(len);
            let end = (at + 1 + r.below(64)).min(bytes.len());
            if at < end {
                let copy = bytes[at..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
    }
}

/// A table that loaded must validate and evaluate without panicking.
fn exercise(table: &Table, r: &mut Rng) {
    artifact::validate(table).unwrap();
    let mut out = Vec::new();
    for _ in 0..4 {
        let record = generate::record(r, &table.fields);
        let _ = table.fee(&record, &mut out);
    }
}

#[test]
fn mutated_artifacts_never_panic() {
    let originals = artifacts();
    let mut r = Rng::new(0x7011_6a7e);
    let (mut rejected, mut sealed, mut loaded) = (0usize, 0usize, 0usize);
    let total = 120_000;
    for i in 0..total {
        let mut bytes = originals[i % originals.len()].clone();
        for _ in 0..1 + r.below(3) {
            mutate(&mut r, &mut bytes);
        }
        if i % 2 == 0 {
            reseal(&mut bytes);
            sealed += 1;
        }
        match artifact::decode(&bytes) {
            Ok(table) => {
                loaded += 1;
                exercise(&table, &mut r);
            }
            Err(e) => {
                rejected += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert_eq!(rejected + loaded, total);
    assert!(sealed >= total / 2);
    // Most damage is caught; what loads is a valid (if different) table.
    assert!(
        rejected > total * 9 / 10,
        "only {rejected} of {total} rejected"
    );
}

#[test]
fn round_trip_and_identity() {
    for bytes in artifacts() {
        let table = artifact::decode(&bytes).unwrap();
        assert_eq!(artifact::encode(&table), bytes, "encoding is deterministic");
        let (name, version, hash) = artifact::identify(&bytes).unwrap();
        assert_eq!(
            (name.as_str(), version),
            (table.name.as_str(), table.version)
        );
        assert_eq!(hash, artifact::content_hash(&bytes[16..bytes.len() - 12]));
    }
}

#[test]
fn each_kind_of_damage_has_its_error() {
    let good = artifacts().remove(0);
    let kind = |bytes: &[u8]| artifact::decode(bytes).unwrap_err().kind;
    assert_eq!(kind(&good[..10]), ArtifactErrorKind::TooShort);
    let mut b = good.clone();
    b[0] = b'X';
    assert_eq!(kind(&b), ArtifactErrorKind::BadMagic);
    let mut b = good.clone();
    b[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert_eq!(
        kind(&b),
        ArtifactErrorKind::UnsupportedVersion(FORMAT_VERSION + 1)
    );
    let mut b = good.clone();
    b[10] = 1;
    assert_eq!(kind(&b), ArtifactErrorKind::UnknownFlags);
    assert_eq!(
        kind(&good[..good.len() - 1]),
        ArtifactErrorKind::LengthMismatch
    );
    let mut b = good.clone();
    b[20] ^= 0x40;
    assert_eq!(kind(&b), ArtifactErrorKind::ChecksumMismatch);
    // Damage the hash and reseal only the CRC.
    let mut b = good.clone();
    let at = b.len() - 12;
    b[at] ^= 1;
    let crc_at = b.len() - 4;
    let crc = common::crc32(&b[..crc_at]);
    b[crc_at..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(kind(&b), ArtifactErrorKind::ContentHashMismatch);
    // A body with a lying count.
    let mut b = good.clone();
    b[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    reseal(&mut b);
    assert_eq!(kind(&b), ArtifactErrorKind::CountTooLarge);
    assert!(good.starts_with(MAGIC));
}

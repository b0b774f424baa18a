//! Trusted updates (docs/releases.md): every bit of a signed artifact
//! flipped is refused with the error of the part it hit, spliced artifacts
//! are refused, unknown and missing signatures are told apart, the version
//! floor refuses rollbacks and reused versions, compiling is deterministic,
//! and the CLI's keygen, compile --sign, verify and eval --trusted-key.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tollgate::signing::SecretKey;
use tollgate_runtime::artifact::trust::{
    check_floor, decode_trusted, signer, verify, Floor, TrustedKey, SIGNATURE_BLOCK_LEN,
};
use tollgate_runtime::artifact::{self, ArtifactErrorKind};

const POLICY: &str = "tests/fees/jpy.toll";

fn unsigned_artifact(source: &str) -> Vec<u8> {
    artifact::encode(&tollgate::compile_source(source).unwrap().1)
}

fn source() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(POLICY)).unwrap()
}

fn trusted(key: &SecretKey) -> TrustedKey {
    tollgate::signing::parse_public(&key.public_text()).unwrap()
}

/// The error a flipped bit at `byte` of a signed artifact of format
/// `version` and `len` bytes must give, trusted keys given: header fields
/// their own error, the key id an unknown key, everything else the
/// signature covers (body with its activation window, content hash,
/// checksum) or the signature itself a bad signature.
fn expected(version: u16, byte: usize, bit: u8, len: usize) -> ArtifactErrorKind {
    let key_id_at = len - SIGNATURE_BLOCK_LEN;
    match byte {
        0..=7 => ArtifactErrorKind::BadMagic,
        // Version 3 with bit 0 flipped is 2, the old format, which has no
        // signed flag; any other flip is a version not read.
        8 if version == 3 && bit == 0 => ArtifactErrorKind::UnknownFlags,
        8 => ArtifactErrorKind::UnsupportedVersion(version ^ (1 << bit)),
        9 => ArtifactErrorKind::UnsupportedVersion(version ^ (1u16 << (8 + bit))),
        // The signed flag cleared: the file is a signature block too long.
        10 if bit == 0 => ArtifactErrorKind::LengthMismatch,
        10 | 11 => ArtifactErrorKind::UnknownFlags,
        12..=15 => ArtifactErrorKind::LengthMismatch,
        b if (key_id_at..key_id_at + 8).contains(&b) => ArtifactErrorKind::UnknownKey([0; 8]),
        _ => ArtifactErrorKind::BadSignature,
    }
}

/// The source of the tamper tests with an activation window (format 4).
fn windowed(source: &str) -> String {
    source.replacen(
        "kind fees",
        "kind fees\neffective from 2027-01-01T00:00:00+08:00 until 2028-01-01T00:00:00+08:00",
        1,
    )
}

#[test]
fn every_flipped_bit_of_a_signed_artifact_is_refused_with_its_error() {
    let key = SecretKey::generate().unwrap();
    let keys = [trusted(&key)];
    for (version, text) in [(3u16, source()), (4, windowed(&source()))] {
        let signed = key.sign(&unsigned_artifact(&text)).unwrap();
        assert_eq!(signed[8..10], version.to_le_bytes());
        assert!(decode_trusted(&signed, &keys, None).is_ok());
        let mut flipped = signed.clone();
        for byte in 0..signed.len() {
            for bit in 0..8u8 {
                flipped[byte] ^= 1 << bit;
                let got = decode_trusted(&flipped, &keys, None)
                    .err()
                    .unwrap_or_else(|| panic!("v{version} byte {byte} bit {bit}: accepted"))
                    .kind;
                let want = expected(version, byte, bit, signed.len());
                match (got, want) {
                    (ArtifactErrorKind::UnknownKey(id), ArtifactErrorKind::UnknownKey(_)) => {
                        assert_ne!(id, key.id(), "v{version} byte {byte} bit {bit}")
                    }
                    _ => assert_eq!(got, want, "v{version} byte {byte} bit {bit}"),
                }
                flipped[byte] ^= 1 << bit;
            }
        }
    }
}

/// A signed artifact whose window was changed (and its checksum and
/// content hash recomputed, as an attacker can) is refused: the signature
/// covers the window.
#[test]
fn a_changed_window_breaks_the_signature() {
    let key = SecretKey::generate().unwrap();
    let keys = [trusted(&key)];
    let signed = key.sign(&unsigned_artifact(&windowed(&source()))).unwrap();
    let later = key
        .sign(&unsigned_artifact(
            &windowed(&source()).replace("2028-01-01", "2029-01-01"),
        ))
        .unwrap();
    assert_eq!(signed.len(), later.len());
    let mut forged = later[..later.len() - SIGNATURE_BLOCK_LEN].to_vec();
    forged.extend_from_slice(&signed[signed.len() - SIGNATURE_BLOCK_LEN..]);
    let e = decode_trusted(&forged, &keys, None).unwrap_err();
    assert_eq!(e.kind, ArtifactErrorKind::BadSignature);
}

#[test]
fn spliced_header_and_body_of_two_signed_artifacts_are_refused() {
    let key = SecretKey::generate().unwrap();
    let keys = [trusted(&key)];
    let text = source();
    let a = key.sign(&unsigned_artifact(&text)).unwrap();
    let b = key
        .sign(&unsigned_artifact(&text.replace("version 1", "version 2")))
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(a.len(), b.len());
    let block_at = a.len() - SIGNATURE_BLOCK_LEN;
    // Every cut: the first bytes of one, the rest of the other.
    for cut in 1..a.len() {
        for (x, y) in [(&a, &b), (&b, &a)] {
            let mut spliced = x[..cut].to_vec();
            spliced.extend_from_slice(&y[cut..]);
            if spliced == *x || spliced == *y {
                continue;
            }
            let e = decode_trusted(&spliced, &keys, None).unwrap_err();
            assert_eq!(e.kind, ArtifactErrorKind::BadSignature, "cut at {cut}");
        }
    }
    // One's signature block on the other.
    let mut swapped = a[..block_at].to_vec();
    swapped.extend_from_slice(&b[block_at..]);
    let e = decode_trusted(&swapped, &keys, None).unwrap_err();
    assert_eq!(e.kind, ArtifactErrorKind::BadSignature);
}

#[test]
fn unsigned_unknown_and_foreign_signatures_are_told_apart() {
    let ours = SecretKey::generate().unwrap();
    let theirs = SecretKey::generate().unwrap();
    let unsigned = unsigned_artifact(&source());
    let keys = [trusted(&ours)];
    let e = decode_trusted(&unsigned, &keys, None).unwrap_err();
    assert_eq!(e.kind, ArtifactErrorKind::Unsigned);
    assert_eq!(
        e.to_string(),
        "the artifact is not signed, and trusted keys were given"
    );
    let by_theirs = theirs.sign(&unsigned).unwrap();
    let e = decode_trusted(&by_theirs, &keys, None).unwrap_err();
    assert_eq!(e.kind, ArtifactErrorKind::UnknownKey(theirs.id()));
    // Their signature relabelled with our key id: it does not verify.
    let mut relabelled = by_theirs.clone();
    let at = relabelled.len() - SIGNATURE_BLOCK_LEN;
    relabelled[at..at + 8].copy_from_slice(&ours.id());
    let e = verify(&relabelled, &keys).unwrap_err();
    assert_eq!(e.kind, ArtifactErrorKind::BadSignature);
    // Either key of a set is enough.
    let both = [trusted(&theirs), trusted(&ours)];
    assert!(decode_trusted(&by_theirs, &both, None).is_ok());
    assert_eq!(signer(&by_theirs).unwrap(), Some(theirs.id()));
    assert_eq!(signer(&unsigned).unwrap(), None);
}

#[test]
fn without_keys_unsigned_and_signed_artifacts_decode_as_before() {
    let key = SecretKey::generate().unwrap();
    let unsigned = unsigned_artifact(&source());
    let signed = key.sign(&unsigned).unwrap();
    let a = artifact::decode(&unsigned).unwrap();
    let b = artifact::decode(&signed).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        artifact::identify(&unsigned).unwrap(),
        artifact::identify(&signed).unwrap()
    );
    // A signed artifact is not signed again.
    assert!(key.sign(&signed).is_err());
}

#[test]
fn the_same_source_compiles_to_the_same_bytes_and_hash() {
    let text = source();
    let a = unsigned_artifact(&text);
    let b = unsigned_artifact(&text);
    assert_eq!(a, b);
    // Ed25519 signatures are deterministic too.
    let key = SecretKey::generate().unwrap();
    assert_eq!(key.sign(&a).unwrap(), key.sign(&b).unwrap());
}

#[test]
fn the_floor_refuses_rollbacks_and_reused_versions() {
    let text = source();
    let v1 = unsigned_artifact(&text);
    let v2 = unsigned_artifact(&text.replace("version 1", "version 2"));
    let (name, version, hash) = artifact::identify(&v2).unwrap();
    assert_eq!(version, 2);
    let floor = Floor {
        name: &name,
        version,
        hash,
    };
    let e = check_floor(&v1, &floor).unwrap_err();
    assert_eq!(
        e.kind,
        ArtifactErrorKind::Rollback {
            installed: 2,
            offered: 1
        }
    );
    assert_eq!(
        e.to_string(),
        "rollback refused: version 1 is older than the installed version 2"
    );
    assert!(check_floor(&v2, &floor).is_ok());
    // The same version with other contents.
    let other = Floor {
        hash: hash ^ 1,
        ..floor
    };
    let e = decode_trusted(&v2, &[], Some(&other)).unwrap_err();
    assert_eq!(e.kind, ArtifactErrorKind::VersionReused(2));
    // Another policy's floor does not apply.
    let elsewhere = Floor {
        name: "another",
        version: 9,
        hash: 0,
    };
    assert!(decode_trusted(&v1, &[], Some(&elsewhere)).is_ok());
    // A newer version passes.
    let below = Floor {
        version: 1,
        ..floor
    };
    assert!(decode_trusted(&v2, &[], Some(&below)).is_ok());
}

// ---------------------------------------------------------------------------
// The command line.

fn tollgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tollgate-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs keygen into `dir/name`: the public key's text form.
fn keygen(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    let out = tollgate(&["keygen", "--out", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let public = stdout
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .unwrap()
        .to_string();
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("key id: "))
        .unwrap();
    assert_eq!(id.len(), 16);
    public
}

#[test]
fn keygen_writes_a_private_key_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("keygen");
    keygen(&dir, "k");
    let path = dir.join("k");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(&path).unwrap();
    assert!(text(&before).starts_with("tollgate-ed25519-secret:"));
    let out = tollgate(&["keygen", "--out", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("exists already"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_sign_verify_and_eval_trusted_key() {
    let dir = scratch("verify");
    let public = keygen(&dir, "k");
    let other = keygen(&dir, "other");
    std::fs::write(dir.join("k.pub"), format!("{public}\n")).unwrap();
    let key = dir.join("k");
    let signed = dir.join("signed.bin");
    let unsigned = dir.join("unsigned.bin");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = tollgate(&["compile", POLICY, "-o", &s(&signed), "--sign", &s(&key)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("signed by key"));
    let out = tollgate(&["compile", POLICY, "-o", &s(&unsigned)]);
    assert_eq!(out.status.code(), Some(0));

    // verify: the key as text or as a file.
    let out = tollgate(&["verify", &s(&signed), "--key", &public]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("valid, signed by key"));
    let out = tollgate(&["verify", &s(&signed), "--key", &s(&dir.join("k.pub"))]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = tollgate(&["verify", &s(&signed), "--key", &other]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("which is not trusted"));
    let out = tollgate(&["verify", &s(&unsigned), "--key", &public]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not signed"));
    let mut tampered = std::fs::read(&signed).unwrap();
    tampered[20] ^= 1;
    let bad = dir.join("tampered.bin");
    std::fs::write(&bad, tampered).unwrap();
    let out = tollgate(&["verify", &s(&bad), "--key", &public]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("signature does not verify"));
    let out = tollgate(&["verify", &s(&signed)]);
    assert_eq!(out.status.code(), Some(2));
    let out = tollgate(&["verify", &s(&dir.join("missing")), "--key", &public]);
    assert_eq!(out.status.code(), Some(2));
    let out = tollgate(&[
        "verify",
        &s(&signed),
        "--key",
        "tollgate-ed25519-public:AAAA",
    ]);
    assert_eq!(out.status.code(), Some(2));

    // eval: a trusted key refuses the unsigned artifact and the source.
    let records = dir.join("records.jsonl");
    std::fs::write(
        &records,
        "{\"channel\": \"credit_card\", \"amount\": \"1000\"}\n{\"channel\": \"qr\", \"amount\": \"5000\"}\n",
    )
    .unwrap();
    let input = &s(&records);
    let out = tollgate(&["eval", &s(&unsigned), "-i", input, "--trusted-key", &public]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not signed"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let out = tollgate(&["eval", POLICY, "-i", input, "--trusted-key", &public]);
    assert_eq!(out.status.code(), Some(1));
    let trusted = tollgate(&["eval", &s(&signed), "-i", input, "--trusted-key", &public]);
    let plain = tollgate(&["eval", &s(&unsigned), "-i", input]);
    assert_eq!(trusted.stdout, plain.stdout);
    assert_eq!(trusted.status.code(), plain.status.code());

    // eval --floor: the installed version 2 refuses version 1.
    let (name, _, hash) = artifact::identify(&std::fs::read(&signed).unwrap()).unwrap();
    let floor = format!("{name}=2:{hash:016x}");
    let out = tollgate(&["eval", &s(&signed), "-i", input, "--floor", &floor]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("rollback refused"));
    let same = format!("{name}=1:{hash:016x}");
    let out = tollgate(&["eval", &s(&signed), "-i", input, "--floor", &same]);
    assert_eq!(out.stdout, plain.stdout);
    let reused = format!("{name}=1:{:016x}", hash ^ 1);
    let out = tollgate(&["verify", &s(&signed), "--key", &public, "--floor", &reused]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("version 1 is installed with other contents"));
    let out = tollgate(&["eval", &s(&signed), "-i", input, "--floor", "nohash=1"]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

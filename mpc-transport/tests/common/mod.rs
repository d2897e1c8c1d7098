//! Helpers shared by the integration tests: a runtime, the test-only primes, independent
//! verifiers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mpc_core::{PaillierPrimes, PublicKey, Signature};

/// A two-worker runtime with I/O and timers.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The TEST-ONLY Paillier primes of `test-vectors/` (public: never for a real key).
pub fn test_primes() -> Vec<PaillierPrimes> {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/test-only-paillier-primes.json"
    );
    PaillierPrimes::list_from_json(&std::fs::read(file).unwrap()).unwrap()
}

/// The TEST-ONLY 2-of-3 CGGMP21 key of `test-vectors/test-only-shares/`, by party index:
/// made by this SDK's key generation (`cargo run --release --example gen_test_shares`),
/// every secret in it published. For tests whose subject is not key generation.
pub fn test_only_cggmp21_key() -> Vec<mpc_core::Cggmp21Share> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/test-only-shares/cggmp21-2of3"
    );
    (0..3)
        .map(|i| {
            let bytes = std::fs::read(format!("{dir}/party-{i}.json")).unwrap();
            mpc_core::KeyShare::from_json(&bytes, mpc_core::SchemeId::Cggmp21Secp256k1).unwrap()
        })
        .collect()
}

/// Checks an Ed25519 signature with ed25519-dalek (strict).
pub fn check_ed25519(pk: &PublicKey, msg: &[u8], sig: &Signature) {
    let (PublicKey::Ed25519(pk), Signature::Ed25519 { bytes }) = (pk, sig) else {
        panic!("not Ed25519")
    };
    ed25519_dalek::VerifyingKey::from_bytes(pk)
        .unwrap()
        .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(bytes))
        .unwrap();
}

/// Checks an ECDSA signature over a prehash with libsecp256k1.
pub fn check_ecdsa(pk: &PublicKey, prehash: [u8; 32], sig: &Signature) {
    let Signature::Ecdsa(e) = sig else {
        panic!("not ECDSA")
    };
    secp256k1::Secp256k1::verification_only()
        .verify_ecdsa(
            &secp256k1::Message::from_digest(prehash),
            &secp256k1::ecdsa::Signature::from_compact(&e.to_bytes()).unwrap(),
            &secp256k1::PublicKey::from_slice(pk.as_bytes()).unwrap(),
        )
        .unwrap();
}

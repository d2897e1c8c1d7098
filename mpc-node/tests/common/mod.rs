//! Helpers for the node tests: keys made with the test-only primes, fresh directories and
//! an independent ECDSA verifier (libsecp256k1).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use mpc_core::local::run_local;
use mpc_core::*;

pub fn vectors(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../test-vectors")
        .join(rel)
}

/// 2-of-3 CGGMP21 shares, made with the TEST-ONLY primes of `test-vectors/`.
pub fn cggmp_shares() -> &'static Vec<Cggmp21Share> {
    static S: OnceLock<Vec<Cggmp21Share>> = OnceLock::new();
    S.get_or_init(|| {
        let bytes = std::fs::read(vectors("test-only-paillier-primes.json")).unwrap();
        let primes = PaillierPrimes::list_from_json(&bytes).unwrap();
        local::keygen::<Cggmp21>(2, primes.into_iter().take(3).map(Into::into).collect()).unwrap()
    })
}

/// The tss-lib fixture (5 parties, threshold 3) as GG20 shares, certified for all five.
pub fn gg20_shares() -> &'static Vec<Gg20Share> {
    static S: OnceLock<Vec<Gg20Share>> = OnceLock::new();
    S.get_or_init(|| {
        let shares: Vec<Gg20Share> = (0..5)
            .map(|i| {
                let bytes =
                    std::fs::read(vectors(&format!("tss-lib/ecdsa/keygen_data_{i}.json"))).unwrap();
                mpc_core::import::TssLibKey::from_json(&bytes)
                    .unwrap()
                    .to_gg20()
                    .unwrap()
            })
            .collect();
        let sid = SessionId::random(&mut rand_core::OsRng);
        let runs = (0..5u16)
            .map(|i| {
                let ctx = SessionCtx::keygen(sid, SchemeId::Gg20Secp256k1, i, 5).unwrap();
                Gg20::certify(&ctx, &shares[usize::from(i)]).unwrap()
            })
            .collect();
        run_local(runs).unwrap()
    })
}

/// One presigning run of engine `S` by `signers`; their presignatures, in signer order.
pub fn presign<S: Presigning>(
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    path: Option<&[u32]>,
) -> Vec<S::Presignature> {
    let sid = SessionId::random(&mut rand_core::OsRng);
    let runs = signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(sid, S::ID, i, signers).unwrap();
            S::presign(&ctx, &shares[usize::from(i)], path)
        })
        .collect::<Result<Vec<_>>>()
        .unwrap();
    run_local(runs).unwrap()
}

/// A fresh, empty directory under the system temp dir.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mpc-node-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Checks an ECDSA signature with libsecp256k1 (not the engines' crates).
pub fn check_ecdsa(pk: &PublicKey, prehash: &[u8; 32], sig: &Signature) {
    let Signature::Ecdsa(e) = sig else {
        panic!("not ECDSA: {sig:?}")
    };
    let secp = secp256k1::Secp256k1::verification_only();
    let key = secp256k1::PublicKey::from_slice(pk.as_bytes()).unwrap();
    let s = secp256k1::ecdsa::Signature::from_compact(&e.to_bytes()).unwrap();
    let msg = secp256k1::Message::from_digest(*prehash);
    secp.verify_ecdsa(&msg, &s, &key)
        .expect("libsecp256k1 rejects the signature");
}

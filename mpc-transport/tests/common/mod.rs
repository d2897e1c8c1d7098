//! Helpers shared by the integration tests: a runtime, the test-only primes and keys,
//! independent verifiers, and one signing run of every engine over any party node.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod broker;

use std::time::Duration;

use mpc_core::{
    Cggmp21, FrostEd25519, FrostTaproot, Gg20, KeyShare, PaillierPrimes, PublicKey, SessionCtx,
    SessionId, SignRequest, Signature, ThresholdScheme,
};
use mpc_transport::{drive, DriveOptions, DriveReport, MeshNode, TransportError};

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

/// A TEST-ONLY 2-of-3 key of `test-vectors/test-only-shares/<dir>`, by party index: made
/// by this SDK's key generation (`cargo run --release --example gen_test_shares`), every
/// secret in it published. For tests whose subject is not key generation.
fn test_only_key<D: mpc_core::share::EngineData>(
    dir: &str,
    scheme: mpc_core::SchemeId,
) -> Vec<KeyShare<D>> {
    let dir = format!(
        "{}/../test-vectors/test-only-shares/{dir}",
        env!("CARGO_MANIFEST_DIR")
    );
    (0..3)
        .map(|i| {
            let bytes = std::fs::read(format!("{dir}/party-{i}.json")).unwrap();
            KeyShare::from_json(&bytes, scheme).unwrap()
        })
        .collect()
}

/// The TEST-ONLY 2-of-3 CGGMP21 key (see `test_only_key`).
pub fn test_only_cggmp21_key() -> Vec<mpc_core::Cggmp21Share> {
    test_only_key("cggmp21-2of3", mpc_core::SchemeId::Cggmp21Secp256k1)
}

/// The TEST-ONLY 2-of-3 GG20 key (see `test_only_key`).
pub fn test_only_gg20_key() -> Vec<mpc_core::Gg20Share> {
    test_only_key("gg20-2of3", mpc_core::SchemeId::Gg20Secp256k1)
}

/// What one signer's run ended with.
pub type Outcome = Result<(Signature, DriveReport), TransportError>;

/// One signing run of `signers` over their `nodes`: each signer on its own thread opens
/// the session on its node and drives its run.
pub fn sign_over<S, N>(
    nodes: &[N],
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    req: &SignRequest,
) -> Vec<Outcome>
where
    S: ThresholdScheme,
    KeyShare<S::Data>: Sync,
    N: MeshNode,
{
    let sid = SessionId::random(&mut rand_core::OsRng);
    let opts = DriveOptions {
        round_timeout: Duration::from_secs(20),
        run_timeout: Duration::from_secs(120),
    };
    sign_in_session::<S, N>(sid, &opts, nodes, shares, signers, req)
}

/// As [`sign_over`], in session `sid` with the given timeouts.
pub fn sign_in_session<S, N>(
    sid: SessionId,
    opts: &DriveOptions,
    nodes: &[N],
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    req: &SignRequest,
) -> Vec<Outcome>
where
    S: ThresholdScheme,
    KeyShare<S::Data>: Sync,
    N: MeshNode,
{
    std::thread::scope(|s| {
        let handles: Vec<_> = signers
            .iter()
            .map(|&i| {
                let node = &nodes[usize::from(i)];
                let share = &shares[usize::from(i)];
                s.spawn(move || -> Outcome {
                    let mut t = node.open_session(sid)?;
                    let ctx = SessionCtx::new(sid, S::ID, i, signers)?;
                    let run = S::sign(&ctx, share, req)?;
                    tokio::runtime::Builder::new_current_thread()
                        .enable_time()
                        .build()
                        .unwrap()
                        .block_on(drive(run, &mut t, opts))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Every engine signs once over the three parties' `nodes` (different pairs), and every
/// signature verifies with an independent verifier.
pub fn every_engine_signs<N: MeshNode>(nodes: &[N]) {
    let ed = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    let req = SignRequest::ed25519(b"every engine".to_vec());
    for r in sign_over::<FrostEd25519, N>(nodes, &ed, &[0, 2], &req) {
        let (sig, report) = r.unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        check_ed25519(&ed[0].public_key(), b"every engine", &sig);
    }

    let tr = mpc_core::local::keygen::<FrostTaproot>(2, vec![(); 3]).unwrap();
    let msg = [7u8; 32];
    let out = sign_over::<FrostTaproot, N>(nodes, &tr, &[1, 2], &SignRequest::bip340(msg, None));
    for r in out {
        check_bip340_taproot(&tr[0].public_key(), msg, &r.unwrap().0);
    }

    let prehash = [9u8; 32];
    let ec = test_only_cggmp21_key();
    for r in sign_over::<Cggmp21, N>(nodes, &ec, &[0, 1], &SignRequest::ecdsa(prehash)) {
        check_ecdsa(&ec[0].public_key(), prehash, &r.unwrap().0);
    }
    let gg = test_only_gg20_key();
    for r in sign_over::<Gg20, N>(nodes, &gg, &[1, 2], &SignRequest::ecdsa(prehash)) {
        check_ecdsa(&gg[0].public_key(), prehash, &r.unwrap().0);
    }
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

/// Checks a BIP-340 signature under the Taproot output key of `pk` (no script tree) with
/// libsecp256k1.
pub fn check_bip340_taproot(pk: &PublicKey, digest: [u8; 32], sig: &Signature) {
    let Signature::Bip340 { bytes } = sig else {
        panic!("not BIP-340")
    };
    let (q, _) = pk.taproot_output_key(None).unwrap();
    secp256k1::Secp256k1::verification_only()
        .verify_schnorr(
            &secp256k1::schnorr::Signature::from_slice(bytes).unwrap(),
            &secp256k1::Message::from_digest(digest),
            &secp256k1::XOnlyPublicKey::from_slice(&q).unwrap(),
        )
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

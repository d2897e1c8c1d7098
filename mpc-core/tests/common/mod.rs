//! Helpers for the engine tests. Verifiers here use crates other than the engines'.
// Tests read the fixture files under test-vectors/; the library itself does no file I/O.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use mpc_core::local::run_local;
use mpc_core::*;
use secp256k1::{Message as SecpMessage, Secp256k1};

pub fn vectors(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../test-vectors")
        .join(rel)
}

/// TEST-ONLY primes from the repository (public, never for real keys).
pub fn test_primes() -> Vec<PaillierPrimes> {
    let bytes = std::fs::read(vectors("test-only-paillier-primes.json")).unwrap();
    PaillierPrimes::list_from_json(&bytes).unwrap()
}

/// The TEST-ONLY `t`-of-`n` key of engine `S` in `test-vectors/test-only-shares/`, by
/// party index: made by this SDK's key generation (`cargo run --release --example
/// gen_test_shares`), every secret in it published. For tests whose subject is not key
/// generation (CGGMP21: 2-of-3 and 3-of-5; GG20: 2-of-3).
pub fn test_only_key<S: ThresholdScheme>(t: u16, n: u16) -> Vec<KeyShare<S::Data>> {
    let engine = match S::ID {
        SchemeId::Cggmp21Secp256k1 => "cggmp21",
        SchemeId::Gg20Secp256k1 => "gg20",
        other => panic!("no test-only key for {other}"),
    };
    let dir = vectors(&format!("test-only-shares/{engine}-{t}of{n}"));
    let shares: Vec<KeyShare<S::Data>> = (0..n)
        .map(|i| {
            let bytes = std::fs::read(dir.join(format!("party-{i}.json"))).unwrap();
            KeyShare::from_json(&bytes, S::ID).unwrap()
        })
        .collect();
    assert!(shares.iter().all(|s| s.threshold() == t));
    shares
}

pub fn sid(label: &str) -> SessionId {
    let mut b = SessionId::from_label(label).0;
    let r = SessionId::random(&mut rand_core::OsRng);
    for (x, y) in b.iter_mut().zip(r.0) {
        *x ^= y;
    }
    SessionId(b)
}

pub fn keygen<S: ThresholdScheme>(
    n: u16,
    t: u16,
    mut config: impl FnMut(u16) -> S::KeygenConfig,
) -> Vec<KeyShare<S::Data>> {
    let s = sid("keygen");
    let runs = (0..n)
        .map(|i| S::keygen(&SessionCtx::keygen(s, S::ID, i, n).unwrap(), t, config(i)).unwrap())
        .collect();
    run_local(runs).unwrap()
}

pub fn sign<S: ThresholdScheme>(
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    req: &SignRequest,
) -> Signature {
    let s = sid("sign");
    let runs = signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, S::ID, i, signers).unwrap();
            S::sign(&ctx, &shares[usize::from(i)], req).unwrap()
        })
        .collect();
    let sigs = run_local(runs).unwrap();
    for w in sigs.windows(2) {
        assert_eq!(w[0], w[1], "signers disagree on the signature");
    }
    sigs[0]
}

/// Runs a resharing of `old` (shares of engine `S` by party id; `None` for a party that lost
/// its share) from `dealers` to `new_parties` with threshold `t_new`, all parties in this
/// thread, sessions of engine `target`; returns the new committee's outputs by new share
/// index.
pub fn reshare_outputs<S: mpc_core::reshare::ReshareFrom>(
    old: &[Option<KeyShare<S::Data>>],
    dealers: &[u16],
    new_parties: &[u16],
    t_new: u16,
    target: SchemeId,
) -> Vec<mpc_core::reshare::ReshareOutput<S::Group>> {
    use mpc_core::reshare::reshare;
    let sources: Vec<_> = old
        .iter()
        .map(|s| s.as_ref().map(|s| S::reshare_source(s).unwrap()))
        .collect();
    // Every participant runs the same public setup; a party without a share gets it from
    // the key's public data (here: a dealer's view).
    let any = sources.iter().flatten().next().unwrap();
    let setup = any.setup(None, dealers, new_parties, t_new).unwrap();
    let s = sid("reshare");
    let runs = setup
        .participants()
        .into_iter()
        .map(|p| {
            let ctx = SessionCtx::new(s, target, p, &setup.participants()).unwrap();
            let dealer = dealers.contains(&p).then(|| {
                sources[usize::from(p)]
                    .as_ref()
                    .expect("a dealer has its share")
                    .dealer_input()
            });
            reshare(&ctx, setup.clone(), dealer).unwrap()
        })
        .collect();
    let mut new: Vec<_> = run_local(runs)
        .unwrap()
        .into_iter()
        .filter(|o| o.share.is_some())
        .collect();
    new.sort_by_key(|o| o.share.as_ref().map(|s| s.index()));
    assert_eq!(new.len(), new_parties.len());
    new
}

/// [`reshare_outputs`] made into shares of engine `T`, by new share index.
pub fn reshare_local<S, T>(
    old: &[Option<KeyShare<S::Data>>],
    dealers: &[u16],
    new_parties: &[u16],
    t_new: u16,
) -> Vec<KeyShare<T::Data>>
where
    S: mpc_core::reshare::ReshareFrom,
    T: mpc_core::reshare::ReshareInto<Group = S::Group>,
{
    reshare_outputs::<S>(old, dealers, new_parties, t_new, T::ID)
        .iter()
        .map(|o| T::from_reshare(o).unwrap())
        .collect()
}

/// All subsets of size t of 0..n.
pub fn subsets(n: u16, t: u16) -> Vec<Vec<u16>> {
    (0u32..(1 << n))
        .filter(|m| m.count_ones() == u32::from(t))
        .map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect())
        .collect()
}

/// ECDSA check with `k256` and with `secp256k1` (libsecp256k1), including low-s and the
/// recovery id.
pub fn check_ecdsa(pk: &PublicKey, prehash: &[u8; 32], sig: &Signature) {
    let Signature::Ecdsa(e) = sig else {
        panic!("not ECDSA")
    };
    // k256
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(pk.as_bytes()).unwrap();
    let ks = k256::ecdsa::Signature::from_scalars(e.r, e.s).unwrap();
    vk.verify_prehash(prehash, &ks)
        .expect("k256 rejects the signature");
    assert!(ks.normalize_s().is_none(), "s is not low");
    // libsecp256k1
    let secp = Secp256k1::verification_only();
    let spk = secp256k1::PublicKey::from_slice(pk.as_bytes()).unwrap();
    let ss = secp256k1::ecdsa::Signature::from_compact(&e.to_bytes()).unwrap();
    let msg = SecpMessage::from_digest(*prehash);
    secp.verify_ecdsa(&msg, &ss, &spk)
        .expect("libsecp256k1 rejects the signature");
    let rid = secp256k1::ecdsa::RecoveryId::from_i32(i32::from(e.recovery_id)).unwrap();
    let rs = secp256k1::ecdsa::RecoverableSignature::from_compact(&e.to_bytes(), rid).unwrap();
    assert_eq!(
        secp.recover_ecdsa(&msg, &rs).unwrap(),
        spk,
        "recovery id does not recover the key"
    );
}

/// BIP-341 tweak computed with `secp256k1` and `sha2` only.
pub fn taproot_output_key_secp(
    internal: &PublicKey,
    merkle_root: Option<[u8; 32]>,
) -> secp256k1::XOnlyPublicKey {
    use sha2::{Digest, Sha256};
    let secp = Secp256k1::verification_only();
    let (xonly, _) = secp256k1::PublicKey::from_slice(internal.as_bytes())
        .unwrap()
        .x_only_public_key();
    let tag = Sha256::digest(b"TapTweak");
    let mut h = Sha256::new();
    h.update(tag);
    h.update(tag);
    h.update(xonly.serialize());
    if let Some(r) = merkle_root {
        h.update(r);
    }
    let t: [u8; 32] = h.finalize().into();
    let (q, _) = xonly
        .add_tweak(&secp, &secp256k1::Scalar::from_be_bytes(t).unwrap())
        .unwrap();
    q
}

/// BIP-340 check with libsecp256k1 against the Taproot output key.
pub fn check_bip340(
    internal: &PublicKey,
    merkle_root: Option<[u8; 32]>,
    msg32: &[u8; 32],
    sig: &Signature,
) {
    let Signature::Bip340 { bytes } = sig else {
        panic!("not BIP-340")
    };
    let q = taproot_output_key_secp(internal, merkle_root);
    let secp = Secp256k1::verification_only();
    let s = secp256k1::schnorr::Signature::from_slice(bytes).unwrap();
    secp.verify_schnorr(&s, &SecpMessage::from_digest(*msg32), &q)
        .expect("libsecp256k1 rejects the BIP-340 signature");
}

/// Ed25519 check with ed25519-dalek (strict).
pub fn check_ed25519(pk: &PublicKey, msg: &[u8], sig: &Signature) {
    let Signature::Ed25519 { bytes } = sig else {
        panic!("not Ed25519")
    };
    let PublicKey::Ed25519(pk) = pk else {
        panic!("not an Ed25519 key")
    };
    let vk = ed25519_dalek::VerifyingKey::from_bytes(pk).unwrap();
    vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(bytes))
        .expect("ed25519-dalek rejects the signature");
}

/// BIP-32 public child derivation (CKDpub), with hmac/sha2/libsecp256k1 only.
pub fn bip32_derive(pk: &PublicKey, chain_code: [u8; 32], path: &[u32]) -> PublicKey {
    use hmac::{Hmac, Mac};
    let secp = Secp256k1::verification_only();
    let mut key = secp256k1::PublicKey::from_slice(pk.as_bytes()).unwrap();
    let mut cc = chain_code;
    for &i in path {
        assert!(i < 0x8000_0000);
        let mut mac = Hmac::<sha2::Sha512>::new_from_slice(&cc).unwrap();
        mac.update(&key.serialize());
        mac.update(&i.to_be_bytes());
        let out = mac.finalize().into_bytes();
        let il: [u8; 32] = out[..32].try_into().unwrap();
        key = key
            .add_exp_tweak(&secp, &secp256k1::Scalar::from_be_bytes(il).unwrap())
            .unwrap();
        cc = out[32..].try_into().unwrap();
    }
    PublicKey::secp256k1(&key.serialize()).unwrap()
}

/// Every string or number leaf under a key named like a secret (`x`, `p`, `q`), anywhere.
pub fn secret_values(v: &serde_json::Value, out: &mut Vec<String>) {
    fn leaves(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if s.len() >= 16 => out.push(s.clone()),
            serde_json::Value::Object(m) => m.values().for_each(|x| leaves(x, out)),
            serde_json::Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
            _ => {}
        }
    }
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if ["x", "p", "q"].contains(&k.as_str()) {
                    leaves(x, out);
                }
                secret_values(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| secret_values(x, out)),
        _ => {}
    }
}

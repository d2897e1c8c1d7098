//! Published vectors: RFC 9591 (FROST) and BIP-340.
//!
//! - the vectors' signatures verify with our verification path (`mpc_core::verify`);
//! - the vectors' key shares, imported into our FROST engines, sign a new message that
//!   verifies under the vectors' group key (checked by ed25519-dalek / libsecp256k1).
// Tests read the fixture files under test-vectors/; the library itself does no file I/O.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use curve25519_dalek::{constants::ED25519_BASEPOINT_POINT, Scalar as DalekScalar};
use k256::elliptic_curve::{sec1::ToEncodedPoint, PrimeField};
use mpc_core::engines::frost::{share_from_data, FrostData, FrostSuite};
use mpc_core::local::run_local;
use mpc_core::*;
use serde_json::Value;

fn load(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(vectors(name)).unwrap()).unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// Shares of the vector as (RFC identifier, share bytes).
fn shares_of(v: &Value) -> Vec<(u64, Vec<u8>)> {
    v["inputs"]["participant_shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["identifier"].as_u64().unwrap(),
                h(&s["participant_share"]),
            )
        })
        .collect()
}

/// Imports the vector's shares into our engine and signs `msg` with the vector's
/// participant list.
fn sign_with_vector_shares<C: FrostSuite>(
    v: &Value,
    id_bytes: impl Fn(u64) -> Vec<u8>,
    public_share: impl Fn(&[u8]) -> Vec<u8>,
    req: &SignRequest,
) -> (Vec<KeyShare<FrostData<C>>>, Signature) {
    let shares = shares_of(v);
    let t: u16 = v["config"]["MIN_PARTICIPANTS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let ids: Vec<Vec<u8>> = shares.iter().map(|(id, _)| id_bytes(*id)).collect();
    let pubs: Vec<Vec<u8>> = shares.iter().map(|(_, s)| public_share(s)).collect();
    let group = h(&v["inputs"]["verifying_key_key"]);
    let keys: Vec<KeyShare<FrostData<C>>> = shares
        .iter()
        .enumerate()
        .map(|(i, (_, s))| {
            share_from_data(
                FrostData::<C>::from_parts(i as u16, t, s, &ids, &pubs, &group).unwrap(),
            )
            .unwrap()
        })
        .collect();
    // The vector's participants (RFC identifiers 1-based) as our 0-based indices.
    let signers: Vec<u16> = v["inputs"]["participant_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u16 - 1)
        .collect();
    let s = sid("vector");
    let runs = signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, C::ID, i, &signers).unwrap();
            Frost::<C>::sign(&ctx, &keys[usize::from(i)], req).unwrap()
        })
        .collect();
    let sig = run_local(runs).unwrap()[0];
    (keys, sig)
}

#[test]
fn rfc9591_ed25519_signature_verifies_with_our_path() {
    let v = load("rfc9591/frost-ed25519-sha512.json");
    let pk: [u8; 32] = h(&v["inputs"]["verifying_key_key"]).try_into().unwrap();
    let msg = h(&v["inputs"]["message"]);
    let sig: [u8; 64] = h(&v["final_output"]["sig"]).try_into().unwrap();
    mpc_core::verify::verify_ed25519(&pk, &msg, &sig).unwrap();
    let mut bad = sig;
    bad[63] ^= 1;
    assert!(mpc_core::verify::verify_ed25519(&pk, &msg, &bad).is_err());
}

#[test]
fn rfc9591_ed25519_shares_sign_under_vector_group_key() {
    let v = load("rfc9591/frost-ed25519-sha512.json");
    let msg = b"signed with the RFC 9591 shares".to_vec();
    let req = SignRequest::ed25519(msg.clone());
    let (keys, sig) = sign_with_vector_shares::<givre::ciphersuite::Ed25519>(
        &v,
        |id| {
            let mut b = [0u8; 32];
            b[0] = id as u8;
            b.to_vec()
        },
        |s| {
            let x = DalekScalar::from_canonical_bytes(s.try_into().unwrap()).unwrap();
            (ED25519_BASEPOINT_POINT * x).compress().to_bytes().to_vec()
        },
        &req,
    );
    let group = PublicKey::ed25519(&h(&v["inputs"]["verifying_key_key"])).unwrap();
    assert_eq!(keys[0].public_key(), group);
    check_ed25519(&group, &msg, &sig);
}

#[test]
fn rfc9591_secp256k1_tr_signature_verifies_with_our_path() {
    // The frost-secp256k1-tr vectors sign with the untweaked group key (BIP-340 over its
    // x coordinate); our BIP-340 verifier must accept the vector's signature.
    let v = load("rfc9591/frost-secp256k1-tr-bip340.json");
    let pk = PublicKey::secp256k1(&h(&v["inputs"]["verifying_key_key"])).unwrap();
    let msg = h(&v["inputs"]["message"]);
    let sig: [u8; 64] = h(&v["final_output"]["sig"]).try_into().unwrap();
    mpc_core::verify::verify_bip340(&pk.x_only().unwrap(), &msg, &sig).unwrap();
    let mut bad = sig;
    bad[10] ^= 1;
    assert!(mpc_core::verify::verify_bip340(&pk.x_only().unwrap(), &msg, &bad).is_err());
}

#[test]
fn rfc9591_secp256k1_tr_shares_sign_under_vector_group_key() {
    let v = load("rfc9591/frost-secp256k1-tr-bip340.json");
    let msg = [0x42u8; 32];
    for root in [None, Some([3u8; 32])] {
        let req = SignRequest::bip340(msg.to_vec(), root);
        let (keys, sig) = sign_with_vector_shares::<givre::ciphersuite::Bitcoin>(
            &v,
            |id| {
                let mut b = [0u8; 32];
                b[31] = id as u8;
                b.to_vec()
            },
            |s| {
                let x = k256::Scalar::from_repr(<[u8; 32]>::try_from(s).unwrap().into()).unwrap();
                (k256::ProjectivePoint::GENERATOR * x)
                    .to_affine()
                    .to_encoded_point(true)
                    .as_bytes()
                    .to_vec()
            },
            &req,
        );
        let group = PublicKey::secp256k1(&h(&v["inputs"]["verifying_key_key"])).unwrap();
        assert_eq!(keys[0].public_key(), group);
        check_bip340(&group, root, &msg, &sig);
    }
}

#[test]
fn rfc9591_tampered_share_is_refused_on_import() {
    let v = load("rfc9591/frost-ed25519-sha512.json");
    let shares = shares_of(&v);
    let ids: Vec<Vec<u8>> = (1u8..=3)
        .map(|i| {
            let mut b = vec![0u8; 32];
            b[0] = i;
            b
        })
        .collect();
    let pubs: Vec<Vec<u8>> = shares
        .iter()
        .map(|(_, s)| {
            let x = DalekScalar::from_canonical_bytes(s.clone().try_into().unwrap()).unwrap();
            (ED25519_BASEPOINT_POINT * x).compress().to_bytes().to_vec()
        })
        .collect();
    let group = h(&v["inputs"]["verifying_key_key"]);
    let mut secret = shares[0].1.clone();
    secret[0] ^= 1;
    let r =
        FrostData::<givre::ciphersuite::Ed25519>::from_parts(0, 2, &secret, &ids, &pubs, &group);
    assert!(matches!(r, Err(Error::Invalid { .. })));
    // A wrong group key is refused too.
    let r = FrostData::<givre::ciphersuite::Ed25519>::from_parts(
        0,
        2,
        &shares[0].1,
        &ids,
        &pubs,
        &pubs[1],
    );
    assert!(matches!(r, Err(Error::Invalid { .. })));
}

#[test]
fn bip340_vectors_verify_with_our_path_and_libsecp256k1() {
    let csv = std::fs::read_to_string(vectors("bip340/test-vectors.csv")).unwrap();
    let secp = secp256k1::Secp256k1::verification_only();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (pk, msg, sig, expected) = (f[2], f[4], f[5], f[6] == "TRUE");
        let pk: [u8; 32] = hex::decode(pk).unwrap().try_into().unwrap();
        let msg = hex::decode(msg).unwrap();
        let sig: [u8; 64] = hex::decode(sig).unwrap().try_into().unwrap();
        let ours = mpc_core::verify::verify_bip340(&pk, &msg, &sig).is_ok();
        assert_eq!(ours, expected, "vector {}: our verifier says {ours}", f[0]);
        // libsecp256k1 agrees where it can parse the inputs (it verifies 32-byte messages).
        if let (Ok(x), Ok(s), Ok(m)) = (
            secp256k1::XOnlyPublicKey::from_slice(&pk),
            secp256k1::schnorr::Signature::from_slice(&sig),
            <[u8; 32]>::try_from(msg.as_slice()),
        ) {
            let theirs = secp
                .verify_schnorr(&s, &secp256k1::Message::from_digest(m), &x)
                .is_ok();
            assert_eq!(
                theirs, expected,
                "vector {}: libsecp256k1 says {theirs}",
                f[0]
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} vectors read");
}

//! FROST Ed25519 and FROST Taproot: DKG, then signing by every t-subset (2-of-3) and two
//! subsets (3-of-5); signatures checked by ed25519-dalek / libsecp256k1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use mpc_core::*;

fn ed25519_case(n: u16, t: u16, signer_sets: &[Vec<u16>]) {
    let shares = keygen::<FrostEd25519>(n, t, |_| ());
    let pk = shares[0].public_key();
    for s in &shares {
        assert_eq!(s.public_key(), pk, "parties disagree on the group key");
        assert_eq!((s.threshold(), s.parties()), (t, n));
    }
    for set in signer_sets {
        let msg = format!("ed25519 {t}-of-{n} by {set:?}").into_bytes();
        let sig = sign::<FrostEd25519>(&shares, set, &SignRequest::ed25519(msg.clone()));
        check_ed25519(&pk, &msg, &sig);
        // And a different message does not verify under it.
        let mut other = msg.clone();
        other.push(b'!');
        let Signature::Ed25519 { bytes } = sig else {
            panic!()
        };
        let PublicKey::Ed25519(raw) = pk else {
            panic!()
        };
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
        assert!(vk
            .verify_strict(&other, &ed25519_dalek::Signature::from_bytes(&bytes))
            .is_err());
    }
}

fn taproot_case(n: u16, t: u16, signer_sets: &[Vec<u16>]) {
    let shares = keygen::<FrostTaproot>(n, t, |_| ());
    let pk = shares[0].public_key();
    for set in signer_sets {
        for root in [None, Some([7u8; 32])] {
            let mut msg = [0u8; 32];
            msg[..2].copy_from_slice(&[t as u8, n as u8]);
            msg[2..2 + set.len()]
                .iter_mut()
                .zip(set)
                .for_each(|(m, s)| *m = *s as u8 + 1);
            let sig = sign::<FrostTaproot>(&shares, set, &SignRequest::bip340(msg.to_vec(), root));
            check_bip340(&pk, root, &msg, &sig);
            // Our own k256 path agrees on the output key.
            let (q, _) = pk.taproot_output_key(root).unwrap();
            assert_eq!(q, taproot_output_key_secp(&pk, root).serialize());
        }
    }
}

#[test]
fn frost_ed25519_2_of_3_every_subset() {
    ed25519_case(3, 2, &subsets(3, 2));
}

#[test]
fn frost_ed25519_3_of_5_two_subsets() {
    ed25519_case(5, 3, &[vec![0, 1, 2], vec![1, 3, 4]]);
}

#[test]
fn frost_taproot_2_of_3_every_subset() {
    taproot_case(3, 2, &subsets(3, 2));
}

#[test]
fn frost_taproot_3_of_5_two_subsets() {
    taproot_case(5, 3, &[vec![0, 2, 4], vec![1, 2, 3]]);
}

#[test]
fn frost_taproot_derived_key_signs() {
    let shares = keygen::<FrostTaproot>(3, 2, |_| ());
    let path = [1u32, 999];
    let child = FrostTaproot::signing_key(&shares[0], Some(&path)).unwrap();
    assert_ne!(child, shares[0].public_key());
    let msg = [9u8; 32];
    let req = SignRequest::bip340(msg.to_vec(), None).with_path(&path);
    let sig = sign::<FrostTaproot>(&shares, &[0, 2], &req);
    check_bip340(&child, None, &msg, &sig);
}

//! Resharing for every engine (CGGMP21, FROST Ed25519, FROST Taproot, GG20): one generic
//! suite. A 2-of-3 key grows to 3-of-5, loses a party, is refreshed and is
//! repaired, always under the same group key; the new shares sign (independent verifiers)
//! and never sign together with shares of another epoch.
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
use mpc_core::local::run_local;
use mpc_core::reshare::ReshareFrom;
use mpc_core::*;

type Share<S> = KeyShare<<S as ThresholdScheme>::Data>;

/// What the suite needs of an engine besides resharing.
trait Engine: ReshareFrom + 'static {
    /// A 2-of-3 key (CGGMP21 and GG20: the test-only key of `test-vectors/`).
    fn keygen_2of3() -> Vec<Share<Self>>;
    /// A resharing of `old` (see [`common::reshare_local`]), made ready to sign (CGGMP21:
    /// the new committee's aux info; GG20: its fresh moduli with their proofs).
    fn reshare_ready(
        old: &[Option<Share<Self>>],
        dealers: &[u16],
        new_parties: &[u16],
        t_new: u16,
    ) -> Vec<Share<Self>>;
    fn request(k: u8) -> SignRequest;
    fn check(pk: &PublicKey, request: &SignRequest, sig: &Signature);
}

impl Engine for FrostEd25519 {
    fn keygen_2of3() -> Vec<Share<Self>> {
        keygen::<Self>(3, 2, |_| ())
    }
    fn reshare_ready(
        old: &[Option<Share<Self>>],
        dealers: &[u16],
        new_parties: &[u16],
        t_new: u16,
    ) -> Vec<Share<Self>> {
        reshare_local::<Self, Self>(old, dealers, new_parties, t_new)
    }
    fn request(k: u8) -> SignRequest {
        SignRequest::ed25519(vec![k; 40])
    }
    fn check(pk: &PublicKey, r: &SignRequest, sig: &Signature) {
        let SignPayload::Ed25519 { message } = &r.payload else {
            panic!()
        };
        check_ed25519(pk, message, sig);
    }
}

impl Engine for FrostTaproot {
    fn keygen_2of3() -> Vec<Share<Self>> {
        keygen::<Self>(3, 2, |_| ())
    }
    fn reshare_ready(
        old: &[Option<Share<Self>>],
        dealers: &[u16],
        new_parties: &[u16],
        t_new: u16,
    ) -> Vec<Share<Self>> {
        reshare_local::<Self, Self>(old, dealers, new_parties, t_new)
    }
    fn request(k: u8) -> SignRequest {
        SignRequest::bip340([k; 32], None)
    }
    fn check(pk: &PublicKey, r: &SignRequest, sig: &Signature) {
        let SignPayload::Bip340 {
            message,
            merkle_root,
        } = &r.payload
        else {
            panic!()
        };
        check_bip340(pk, *merkle_root, &message[..].try_into().unwrap(), sig);
    }
}

fn ecdsa_request(k: u8) -> SignRequest {
    SignRequest::ecdsa([k; 32])
}

fn ecdsa_check(pk: &PublicKey, r: &SignRequest, sig: &Signature) {
    let SignPayload::EcdsaPrehash { prehash } = &r.payload else {
        panic!()
    };
    check_ecdsa(pk, prehash, sig);
}

impl Engine for Cggmp21 {
    fn keygen_2of3() -> Vec<Share<Self>> {
        test_only_key::<Self>(2, 3)
    }
    fn reshare_ready(
        old: &[Option<Share<Self>>],
        dealers: &[u16],
        new_parties: &[u16],
        t_new: u16,
    ) -> Vec<Share<Self>> {
        let new = reshare_local::<Self, Self>(old, dealers, new_parties, t_new);
        let primes = test_primes();
        let n = new.len() as u16;
        let s = sid("aux after reshare");
        let runs = new
            .iter()
            .map(|share| {
                let ctx =
                    SessionCtx::keygen(s, SchemeId::Cggmp21Secp256k1, share.index(), n).unwrap();
                Cggmp21::aux_info(&ctx, share, primes[usize::from(share.index())].clone()).unwrap()
            })
            .collect();
        run_local(runs).unwrap()
    }
    fn request(k: u8) -> SignRequest {
        ecdsa_request(k)
    }
    fn check(pk: &PublicKey, r: &SignRequest, sig: &Signature) {
        ecdsa_check(pk, r, sig);
    }
}

impl Engine for Gg20 {
    fn keygen_2of3() -> Vec<Share<Self>> {
        test_only_key::<Self>(2, 3)
    }
    fn reshare_ready(
        old: &[Option<Share<Self>>],
        dealers: &[u16],
        new_parties: &[u16],
        t_new: u16,
    ) -> Vec<Share<Self>> {
        let outputs = reshare_outputs::<Self>(old, dealers, new_parties, t_new, Self::ID);
        // Fresh moduli: the TEST-ONLY primes of another party than at key generation.
        let primes = test_primes();
        let n = outputs.len() as u16;
        let s = sid("gg20 moduli after reshare");
        let runs = outputs
            .iter()
            .map(|o| {
                let j = o.share.as_ref().unwrap().index();
                let ctx = SessionCtx::keygen(s, Self::ID, j, n).unwrap();
                let fresh = primes[(usize::from(j) + 1) % primes.len()].clone();
                Gg20::reshared(&ctx, o, fresh).unwrap()
            })
            .collect();
        run_local(runs).unwrap()
    }
    fn request(k: u8) -> SignRequest {
        ecdsa_request(k)
    }
    fn check(pk: &PublicKey, r: &SignRequest, sig: &Signature) {
        ecdsa_check(pk, r, sig);
    }
}

/// A resharing of `old`, made ready to sign.
fn reshare_ready<S: Engine>(
    old: &[Option<Share<S>>],
    dealers: &[u16],
    new_parties: &[u16],
    t_new: u16,
) -> Vec<Share<S>> {
    S::reshare_ready(old, dealers, new_parties, t_new)
}

fn signs<S: Engine>(shares: &[Share<S>], signers: &[u16], k: u8, pk: &PublicKey) {
    let r = S::request(k);
    let sig = sign::<S>(shares, signers, &r);
    S::check(pk, &r, &sig);
}

fn some<T: Clone>(v: &[T]) -> Vec<Option<T>> {
    v.iter().cloned().map(Some).collect()
}

fn grows_to_3of5_and_refuses_mixed_epochs<S: Engine>() {
    let old = S::keygen_2of3();
    let pk = old[0].public_key();
    let new = reshare_ready::<S>(&some(&old), &[0, 2], &[0, 1, 2, 3, 4], 3);
    for s in &new {
        assert_eq!(
            s.public_key(),
            pk,
            "the group key (and every address) is unchanged"
        );
        assert_eq!((s.threshold(), s.parties(), s.epoch()), (3, 5, 1));
    }
    signs::<S>(&new, &[0, 1, 2], 1, &pk);
    signs::<S>(&new, &[1, 3, 4], 2, &pk);
    // Party 0 with its old share, parties 1 and 2 with new ones: a clear error.
    let mixed = vec![old[0].clone(), new[1].clone(), new[2].clone()];
    let err = local::sign::<S>(&mixed, &[0, 1, 2], &S::request(3)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::EpochMismatch {
                party: 0,
                share_epoch: 0,
                session_epoch: 1
            }
        ),
        "{err}"
    );
}

#[test]
fn frost_ed25519_grows_to_3of5_under_the_same_key() {
    grows_to_3of5_and_refuses_mixed_epochs::<FrostEd25519>();
}

#[test]
fn frost_taproot_grows_to_3of5_under_the_same_key() {
    grows_to_3of5_and_refuses_mixed_epochs::<FrostTaproot>();
}

#[test]
fn cggmp21_grows_to_3of5_under_the_same_key() {
    grows_to_3of5_and_refuses_mixed_epochs::<Cggmp21>();
}

/// Returns the original shares and the refreshed ones.
fn refresh_removal_and_repair<S: Engine>() -> (Vec<Share<S>>, Vec<Share<S>>) {
    let old = S::keygen_2of3();
    let pk = old[0].public_key();
    // Refresh: same committee, every share (and public share) changes.
    let fresh = reshare_ready::<S>(&some(&old), &[1, 2], &[0, 1, 2], 2);
    for (a, b) in old.iter().zip(&fresh) {
        assert_eq!(b.public_key(), pk);
        assert_ne!(a.public_shares().unwrap(), b.public_shares().unwrap());
        assert_eq!(b.epoch(), 1);
    }
    signs::<S>(&fresh, &[0, 1], 4, &pk);
    // Removal: party 1 leaves; parties 0 and 2 become the 2-of-2 indices 0 and 1.
    let smaller = reshare_ready::<S>(&some(&fresh), &[0, 1], &[0, 2], 2);
    assert_eq!((smaller[0].parties(), smaller[0].epoch()), (2, 2));
    signs::<S>(&smaller, &[0, 1], 5, &pk);
    // Repair: party 1 lost its share; parties 0 and 2 help, everyone gets a new share.
    let mut lost = some(&fresh);
    lost[1] = None;
    let repaired = reshare_ready::<S>(&lost, &[0, 2], &[0, 1, 2], 2);
    signs::<S>(&repaired, &[1, 2], 6, &pk);
    assert_eq!(repaired[1].epoch(), 2);
    (old, fresh)
}

#[test]
fn gg20_grows_to_3of5_under_the_same_key() {
    grows_to_3of5_and_refuses_mixed_epochs::<Gg20>();
}

/// The Paillier moduli N of every party, as a GG20 share records them.
fn paillier_moduli(share: &Gg20Share) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&share.to_json().unwrap()).unwrap();
    fn find(v: &serde_json::Value) -> Option<&Vec<serde_json::Value>> {
        match v {
            serde_json::Value::Object(m) => m
                .get("params")
                .and_then(|p| p.as_array())
                .or_else(|| m.values().find_map(find)),
            _ => None,
        }
    }
    find(&v)
        .expect("a GG20 share lists every party's parameters")
        .iter()
        .map(|p| p["n"].clone())
        .collect()
}

/// Presignatures carry the epoch of the share that made them: a store of the refreshed
/// epoch refuses those of the old shares, a store of the old epoch those of the new, and a
/// stored presignature keeps its epoch.
fn presignatures_stay_in_their_epoch<S: Presigning>(old: &[Share<S>], fresh: &[Share<S>]) {
    let presign = |shares: &[Share<S>]| {
        let s = sid("presign in an epoch");
        let runs = [0u16, 1]
            .iter()
            .map(|&i| {
                let ctx = SessionCtx::new(s, S::ID, i, &[0, 1]).unwrap();
                S::presign(&ctx, &shares[usize::from(i)], None).unwrap()
            })
            .collect();
        run_local(runs).unwrap()
    };
    let (mut of_old, mut of_new) = (presign(old), presign(fresh));
    let (p_old, p_new) = (of_old.remove(0), of_new.remove(0));
    assert_eq!((p_old.epoch(), p_new.epoch()), (0, 1));
    let again = S::Presignature::from_bytes(&p_new.to_bytes().unwrap()).unwrap();
    assert_eq!(again.epoch(), 1);
    let refused = MemoryPresignatures::<S>::for_epoch(1).insert(p_old);
    assert!(
        matches!(refused, Err(Error::PresignatureMismatch(_))),
        "{refused:?}"
    );
    let refused = MemoryPresignatures::<S>::new().insert(again);
    assert!(
        matches!(refused, Err(Error::PresignatureMismatch(_))),
        "{refused:?}"
    );
    let mut store = MemoryPresignatures::<S>::for_epoch(1);
    store.insert(p_new).unwrap();
    assert_eq!(store.entries()[0].epoch, 1);
}

#[test]
fn gg20_refresh_removal_and_repair_with_fresh_paillier_keys_and_presignature_epochs() {
    let (old, fresh) = refresh_removal_and_repair::<Gg20>();
    presignatures_stay_in_their_epoch::<Gg20>(&old, &fresh);
    let (before, after) = (paillier_moduli(&old[0]), paillier_moduli(&fresh[0]));
    assert_eq!((before.len(), after.len()), (3, 3));
    for (a, b) in before.iter().zip(&after) {
        assert_ne!(a, b, "every party's Paillier key is new after a refresh");
    }
    assert_eq!(
        paillier_moduli(&fresh[2]),
        after,
        "every party sees the same keys"
    );
}

#[test]
fn frost_ed25519_refresh_removal_and_repair() {
    let _ = refresh_removal_and_repair::<FrostEd25519>();
}

#[test]
fn frost_taproot_refresh_removal_and_repair() {
    let _ = refresh_removal_and_repair::<FrostTaproot>();
}

#[test]
fn cggmp21_refresh_removal_and_repair_keep_the_chain_code_and_presignature_epochs() {
    let (old, fresh) = refresh_removal_and_repair::<Cggmp21>();
    presignatures_stay_in_their_epoch::<Cggmp21>(&old, &fresh);
    let code = Cggmp21::chain_code(&old[0]).expect("CGGMP21 keys have a chain code");
    assert_eq!(Cggmp21::chain_code(&fresh[2]), Some(code));
    // A derived key is the same before and after (BIP-32, computed independently).
    let path = [7u32, 11];
    let derived = bip32_derive(&old[0].public_key(), code, &path);
    assert_eq!(
        Cggmp21::signing_key(&fresh[0], Some(&path)).unwrap(),
        derived
    );
}

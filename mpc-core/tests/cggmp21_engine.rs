//! CGGMP21: DKG + aux info (TEST-ONLY pregenerated primes), signing by every t-subset
//! (2-of-3) and two subsets (3-of-5), presignatures used once, BIP-32 derivation m/1/999,
//! precomputed shares (signing with them, never written or read with the share).
//! Signatures are checked with k256 and libsecp256k1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::OnceLock;

use common::*;
use mpc_core::engines::cggmp21::Cggmp21Presignature;
use mpc_core::local::run_local;
use mpc_core::*;

fn keys(n: u16, t: u16) -> Vec<Cggmp21Share> {
    let primes = test_primes();
    keygen::<Cggmp21>(n, t, |i| Cggmp21KeygenConfig {
        primes: Some(primes[usize::from(i)].clone()),
    })
}

fn keys_2_of_3() -> &'static [Cggmp21Share] {
    static K: OnceLock<Vec<Cggmp21Share>> = OnceLock::new();
    K.get_or_init(|| keys(3, 2))
}

fn prehash(label: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(label.as_bytes()).into()
}

#[test]
fn cggmp21_2_of_3_every_subset_signs() {
    let shares = keys_2_of_3();
    let pk = shares[0].public_key();
    assert!(shares.iter().all(|s| s.public_key() == pk));
    for set in subsets(3, 2) {
        let h = prehash(&format!("cggmp21 by {set:?}"));
        let sig = sign::<Cggmp21>(shares, &set, &SignRequest::ecdsa(h));
        check_ecdsa(&pk, &h, &sig);
    }
}

#[test]
fn cggmp21_3_of_5_two_subsets_sign() {
    // Made by the same key generation as `keys` (`gen_test_shares`), ahead of time.
    let shares = test_only_key::<Cggmp21>(3, 5);
    let pk = shares[0].public_key();
    for set in [vec![0, 1, 2], vec![1, 3, 4]] {
        let h = prehash(&format!("cggmp21 3-of-5 by {set:?}"));
        let sig = sign::<Cggmp21>(&shares, &set, &SignRequest::ecdsa(h));
        check_ecdsa(&pk, &h, &sig);
    }
}

#[test]
fn cggmp21_derived_child_m_1_999_signs_under_bip32_child_key() {
    let shares = keys_2_of_3();
    let path = [1u32, 999];
    let cc = Cggmp21::chain_code(&shares[0]).expect("keys are made with a chain code");
    let expected = bip32_derive(&shares[0].public_key(), cc, &path);
    let child = Cggmp21::signing_key(&shares[0], Some(&path)).unwrap();
    assert_eq!(child, expected, "our derivation differs from BIP-32 CKDpub");
    let h = prehash("child key");
    let sig = sign::<Cggmp21>(shares, &[1, 2], &SignRequest::ecdsa(h).with_path(&path));
    check_ecdsa(&expected, &h, &sig);
    // It does not verify under the master key.
    let Signature::Ecdsa(e) = sig else { panic!() };
    let secp = secp256k1::Secp256k1::verification_only();
    let master = secp256k1::PublicKey::from_slice(shares[0].public_key().as_bytes()).unwrap();
    let ss = secp256k1::ecdsa::Signature::from_compact(&e.to_bytes()).unwrap();
    assert!(secp
        .verify_ecdsa(&secp256k1::Message::from_digest(h), &ss, &master)
        .is_err());
}

fn presign(
    shares: &[Cggmp21Share],
    signers: &[u16],
    path: Option<&[u32]>,
) -> Vec<Cggmp21Presignature> {
    let s = sid("presign");
    let runs = signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, SchemeId::Cggmp21Secp256k1, i, signers).unwrap();
            Cggmp21::presign(&ctx, &shares[usize::from(i)], path).unwrap()
        })
        .collect();
    run_local(runs).unwrap()
}

/// One store per signer, each holding that signer's presignature.
fn stores_of(presigs: Vec<Cggmp21Presignature>) -> Vec<MemoryPresignatures<Cggmp21>> {
    presigs
        .into_iter()
        .map(|p| {
            let mut s = MemoryPresignatures::<Cggmp21>::new();
            s.insert(p).unwrap();
            s
        })
        .collect()
}

#[test]
fn cggmp21_presignature_signs_once_and_second_use_is_refused() {
    let shares = keys_2_of_3();
    let pk = shares[0].public_key();
    let signers = [0u16, 2];
    let presigs = presign(shares, &signers, None);
    let id = presigs[0].id();
    assert!(
        presigs.iter().all(|p| p.id() == id),
        "signers disagree on the presignature id"
    );
    let mut stores = stores_of(presigs);
    let h = prehash("presigned");
    let seen = SeenRequest::hash_message(MessageHash::Sha256, b"presigned");
    let partials: Vec<_> = stores
        .iter_mut()
        .map(|s| s.partial_sign(&id, &pk, &seen).unwrap())
        .collect();
    let sig = Cggmp21::combine(&pk, seen.request(), &partials).unwrap();
    check_ecdsa(&pk, &h, &sig);
    // A second use, for any message, is refused.
    let other = SeenRequest::hash_message(MessageHash::Sha256, b"another message");
    for s in &mut stores {
        assert!(matches!(
            s.partial_sign(&id, &pk, &other),
            Err(Error::PresignatureUsed(_))
        ));
    }
    // A copy of a used presignature cannot be put back.
    let again = presign(shares, &signers, None);
    let mut store = MemoryPresignatures::<Cggmp21>::new();
    let new_id = store.insert(again.into_iter().next().unwrap()).unwrap();
    assert_ne!(new_id, id);
    store.partial_sign(&new_id, &pk, &other).unwrap();
    assert!(store.partial_sign(&new_id, &pk, &other).is_err());
}

#[test]
fn cggmp21_presignature_with_path_and_bad_partials() {
    let shares = keys_2_of_3();
    let path = [1u32, 999];
    let child = Cggmp21::signing_key(&shares[0], Some(&path)).unwrap();
    let presigs = presign(shares, &[1, 2], Some(&path));
    assert!(presigs.iter().all(|p| p.signing_key() == child));
    // A request with another path is refused (the path is fixed at presigning).
    let mut presigs = presigs.into_iter();
    let (p1, p2) = (presigs.next().unwrap(), presigs.next().unwrap());
    let wrong = SeenRequest::hash_message(MessageHash::Sha256, b"presigned child");
    assert!(matches!(
        Cggmp21::partial_sign(p1, &wrong),
        Err(Error::PresignatureMismatch(_))
    ));
    // p1 is gone now (consumed by value); p2 alone cannot make a valid signature.
    let req = wrong.with_path(&path).unwrap();
    let part2 = Cggmp21::partial_sign(p2, &req).unwrap();
    let err = Cggmp21::combine(&child, req.request(), &[part2]).unwrap_err();
    assert!(
        matches!(err, Error::InvalidSignature { ref culprits } if culprits == &[2]),
        "{err}"
    );
}

#[test]
fn cggmp21_full_sign_needs_aux_info() {
    let shares = keygen::<Cggmp21>(3, 2, |_| Cggmp21KeygenConfig { primes: None });
    let s = sid("no aux");
    let ctx = SessionCtx::new(s, SchemeId::Cggmp21Secp256k1, 0, &[0, 1]).unwrap();
    let err = Cggmp21::sign(&ctx, &shares[0], &SignRequest::ecdsa([1; 32])).err();
    assert!(matches!(err, Some(Error::AuxInfoMissing)), "{err:?}");
    let err = Cggmp21::presign(&ctx, &shares[0], None).err();
    assert!(matches!(err, Some(Error::AuxInfoMissing)), "{err:?}");
}

#[test]
fn cggmp21_share_round_trips_signs_and_debug_is_redacted() {
    let shares = keys_2_of_3();
    let restored: Vec<Cggmp21Share> = shares
        .iter()
        .map(|s| KeyShare::from_json(&s.to_json().unwrap(), SchemeId::Cggmp21Secp256k1).unwrap())
        .collect();
    let h = prehash("after reload");
    let sig = sign::<Cggmp21>(&restored, &[0, 1], &SignRequest::ecdsa(h));
    check_ecdsa(&shares[0].public_key(), &h, &sig);

    let json: serde_json::Value = serde_json::from_slice(&shares[0].to_json().unwrap()).unwrap();
    let mut secrets = vec![];
    secret_values(&json, &mut secrets);
    assert!(
        secrets.len() >= 3,
        "expected x, p and q in the share, found {}",
        secrets.len()
    );
    let dbg = format!("{:?} {:#?}", shares[0], shares[0]);
    for s in secrets {
        assert!(!dbg.contains(&s), "Debug output contains a secret value");
    }
}

#[test]
fn cggmp21_bad_request_does_not_burn_a_stored_presignature() {
    let shares = keys_2_of_3();
    let path = [1u32, 999];
    let mut stores = stores_of(presign(shares, &[0, 1], Some(&path)));
    let h = prehash("kept");
    let child = Cggmp21::signing_key(&shares[0], Some(&path)).unwrap();
    let wrong_path = SeenRequest::hash_message(MessageHash::Sha256, b"kept");
    let right = wrong_path.clone().with_path(&path).unwrap();
    // An unknown id is refused.
    let unknown = stores[0].partial_sign(&[0u8; 32], &child, &right);
    assert!(matches!(unknown, Err(Error::PresignatureUsed(_))));
    let wrong_kind = SeenRequest::message(SignRequest::bip340(h.to_vec(), None)).unwrap();
    // The same digest and path, bare: the party did not derive it (RUSTSEC-2025-0127).
    let bare = SeenRequest::unchecked(SignRequest::ecdsa(h).with_path(&path));
    let group = shares[0].public_key();
    let partials: Vec<_> = stores
        .iter_mut()
        .map(|s| {
            let pid = s.entries()[0].id;
            assert!(matches!(
                s.partial_sign(&pid, &child, &wrong_path),
                Err(Error::PresignatureMismatch(_))
            ));
            assert!(matches!(
                s.partial_sign(&pid, &child, &wrong_kind),
                Err(Error::RequestMismatch { .. })
            ));
            assert!(matches!(
                s.partial_sign(&pid, &child, &bare),
                Err(Error::UnseenDigest)
            ));
            // The group key instead of the derived one the presignature signs for.
            assert!(matches!(
                s.partial_sign(&pid, &group, &right),
                Err(Error::PresignatureMismatch(_))
            ));
            assert_eq!(s.len(), 1, "a refused request burned the presignature");
            s.partial_sign(&pid, &child, &right).unwrap()
        })
        .collect();
    let sig = Cggmp21::combine(&child, right.request(), &partials).unwrap();
    check_ecdsa(&child, &h, &sig);
}

#[test]
fn cggmp21_precomputed_shares_sign_and_are_written_without_their_tables() {
    let plain = test_only_key::<Cggmp21>(2, 3);
    assert!(!Cggmp21::is_precomputed(&plain[0]));
    // Party 0 with tables and CRT parameters, party 1 plain, party 2 with CRT parameters
    // only: every pair signs (interactively), verified by k256 and libsecp256k1.
    let full = Cggmp21::precompute(&plain[0]).unwrap();
    let crt = Cggmp21::precompute_crt(&plain[2]).unwrap();
    assert!(Cggmp21::is_precomputed(&full) && Cggmp21::is_precomputed(&crt));
    let pk = plain[0].public_key();
    let mixed = vec![full.clone(), plain[1].clone(), crt.clone()];
    for set in [[0, 1], [0, 2], [1, 2]] {
        let h = prehash(&format!("cggmp21 precomputed {set:?}"));
        let sig = sign::<Cggmp21>(&mixed, &set, &SignRequest::ecdsa(h));
        check_ecdsa(&pk, &h, &sig);
    }

    // The file form is the plain share's ...
    assert_eq!(*full.to_json().unwrap(), *plain[0].to_json().unwrap());
    assert_eq!(*crt.to_json().unwrap(), *plain[2].to_json().unwrap());
    // ... and a file that carries tables (cggmp21's own serialization of the share after
    // its precomputation) reads as a share without them.
    let mut file: serde_json::Value = serde_json::from_slice(&plain[0].to_json().unwrap()).unwrap();
    let with_tables = with_precomputation(file["data"]["share"].clone());
    assert!(with_tables.to_string().len() > 2 * file["data"]["share"].to_string().len());
    file["data"]["share"] = with_tables;
    let read = Cggmp21Share::from_json(&serde_json::to_vec(&file).unwrap(), Cggmp21::ID).unwrap();
    assert!(!Cggmp21::is_precomputed(&read));
    assert_eq!(*read.to_json().unwrap(), *plain[0].to_json().unwrap());
}

/// cggmp21's serialization of a share (JSON) with its precomputation built by cggmp21.
fn with_precomputation(share: serde_json::Value) -> serde_json::Value {
    use cggmp21::supported_curves::Secp256k1;
    let mut dirty: cggmp21::key_share::DirtyKeyShare<Secp256k1> =
        serde_json::from_value(share).unwrap();
    dirty.aux.precompute_multiexp_tables().unwrap();
    dirty.precompute_crt().unwrap();
    serde_json::to_value(&dirty).unwrap()
}

//! tss-lib key import: the fixtures (5 parties, tss-lib threshold 2) sign with GG20 and
//! CGGMP21 (ECDSA) and FROST Ed25519 (EdDSA), each signature checked by an independent
//! verifier (libsecp256k1, ed25519-dalek) against the fixture's `ECDSAPub` / `EDDSAPub`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use mpc_core::import::TssLibKey;
use mpc_core::local::run_local;
use mpc_core::*;

fn fixture(kind: &str, i: usize) -> Vec<u8> {
    std::fs::read(vectors(&format!("tss-lib/{kind}/keygen_data_{i}.json"))).unwrap()
}

fn keys(kind: &str) -> Vec<TssLibKey> {
    (0..5)
        .map(|i| TssLibKey::from_json(&fixture(kind, i)).unwrap())
        .collect()
}

/// The fixture's group key, read with serde_json's arbitrary precision off: decimal text.
fn fixture_pub(kind: &str, field: &str) -> (String, String) {
    let text = String::from_utf8(fixture(kind, 0)).unwrap();
    let at = text.find(&format!("\"{field}\"")).unwrap();
    let coords = &text[at..];
    let c = coords.find("\"Coords\"").unwrap();
    let open = coords[c..].find('[').unwrap() + c + 1;
    let close = coords[open..].find(']').unwrap() + open;
    let mut parts = coords[open..close].split(',');
    (
        parts.next().unwrap().trim().to_owned(),
        parts.next().unwrap().trim().to_owned(),
    )
}

fn dec_to_be32(s: &str) -> [u8; 32] {
    // Decimal to big-endian bytes with schoolbook arithmetic (independent of the importer).
    let mut out = [0u8; 32];
    for ch in s.bytes() {
        let mut carry = u32::from(ch - b'0');
        for b in out.iter_mut().rev() {
            let v = u32::from(*b) * 10 + carry;
            *b = (v & 0xff) as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0);
    }
    out
}

fn ecdsa_pub_from_fixture() -> PublicKey {
    let (x, y) = fixture_pub("ecdsa", "ECDSAPub");
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(&dec_to_be32(&x));
    sec1.extend_from_slice(&dec_to_be32(&y));
    let pk = secp256k1::PublicKey::from_slice(&sec1).unwrap();
    PublicKey::secp256k1(&pk.serialize()).unwrap()
}

fn eddsa_pub_from_fixture() -> PublicKey {
    let (x, y) = fixture_pub("eddsa", "EDDSAPub");
    let mut y_le = dec_to_be32(&y);
    y_le.reverse();
    if dec_to_be32(&x)[31] & 1 == 1 {
        y_le[31] |= 0x80;
    }
    PublicKey::ed25519(&y_le).unwrap()
}

const SIGNER_SETS: [[u16; 3]; 3] = [[0, 1, 2], [0, 2, 4], [1, 3, 4]];

#[test]
fn ecdsa_fixtures_import_with_threshold_and_key() {
    let keys = keys("ecdsa");
    let expected = ecdsa_pub_from_fixture();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(k.index() as usize, i);
        assert_eq!(k.threshold(), 3);
        assert_eq!(k.parties(), 5);
        assert_eq!(k.curve(), CurveId::Secp256k1);
        assert_eq!(k.public_key().unwrap(), expected);
        assert!(format!("{k:?}").contains("<redacted>"));
    }
}

#[test]
fn gg20_signs_with_imported_fixtures() {
    let shares: Vec<Gg20Share> = keys("ecdsa").iter().map(|k| k.to_gg20().unwrap()).collect();
    let expected = ecdsa_pub_from_fixture();
    // Before certification, signing is refused.
    let ctx = SessionCtx::new(sid("gg20-uncert"), SchemeId::Gg20Secp256k1, 0, &[0, 1, 2]).unwrap();
    let err = Gg20::sign(&ctx, &shares[0], &SignRequest::ecdsa([1; 32]))
        .err()
        .unwrap();
    assert!(err.to_string().contains("certify"), "{err}");
    // Certify all five once, then sign with several signer sets.
    let sid_c = sid("gg20-certify");
    let runs = (0..5u16)
        .map(|i| {
            let ctx = SessionCtx::keygen(sid_c, SchemeId::Gg20Secp256k1, i, 5).unwrap();
            Gg20::certify(&ctx, &shares[usize::from(i)]).unwrap()
        })
        .collect();
    let certified = run_local(runs).unwrap();
    for set in SIGNER_SETS {
        let prehash = [set[0] as u8 + 7; 32];
        // `sign` also checks every signer produced the same signature.
        let sig = sign::<Gg20>(&certified, &set, &SignRequest::ecdsa(prehash));
        check_ecdsa(&expected, &prehash, &sig);
    }
}

#[test]
fn cggmp21_signs_with_imported_fixtures() {
    let primes = test_primes();
    let expected = ecdsa_pub_from_fixture();
    let incomplete: Vec<Cggmp21Share> = keys("ecdsa")
        .iter()
        .map(|k| k.to_cggmp21().unwrap())
        .collect();
    let sid_a = sid("import-aux");
    let runs = (0..5u16)
        .map(|i| {
            let ctx = SessionCtx::keygen(sid_a, SchemeId::Cggmp21Secp256k1, i, 5).unwrap();
            Cggmp21::aux_info(
                &ctx,
                &incomplete[usize::from(i)],
                primes[usize::from(i)].clone(),
            )
            .unwrap()
        })
        .collect();
    let shares = run_local(runs).unwrap();
    for set in SIGNER_SETS {
        let prehash = [set[1] as u8 + 3; 32];
        let sig = sign::<Cggmp21>(&shares, &set, &SignRequest::ecdsa(prehash));
        check_ecdsa(&expected, &prehash, &sig);
        assert_eq!(shares[0].public_key(), expected);
    }
}

#[test]
fn frost_ed25519_signs_with_imported_fixtures() {
    let keys = keys("eddsa");
    let expected = eddsa_pub_from_fixture();
    let shares: Vec<_> = keys.iter().map(|k| k.to_frost_ed25519().unwrap()).collect();
    assert_eq!(keys[0].threshold(), 3);
    for set in SIGNER_SETS {
        let msg = format!("imported tss-lib key, signers {set:?}").into_bytes();
        let sig = sign::<FrostEd25519>(&shares, &set, &SignRequest::ed25519(msg.clone()));
        check_ed25519(&expected, &msg, &sig);
    }
}

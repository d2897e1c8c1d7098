//! tss-lib key import: the fixtures (5 parties, tss-lib threshold 2) sign with GG20 and
//! CGGMP21 (ECDSA) and FROST Ed25519 (EdDSA), each signature checked by an independent
//! verifier (libsecp256k1, ed25519-dalek) against the fixture's `ECDSAPub` / `EDDSAPub`.
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
fn gg20_key_migrates_to_a_cggmp21_committee_under_ecdsa_pub() {
    // The fixture's 3-of-5 tss-lib key (arbitrary tss-lib share ids), imported as GG20,
    // reshared by parties 0, 2 and 4 to a 2-of-3 CGGMP21 committee.
    let expected = ecdsa_pub_from_fixture();
    let gg20: Vec<Option<Gg20Share>> = keys("ecdsa")
        .iter()
        .map(|k| Some(k.to_gg20().unwrap()))
        .collect();
    let incomplete = reshare_local::<Gg20, Cggmp21>(&gg20, &[0, 2, 4], &[0, 1, 2], 2);
    let primes = test_primes();
    let s = sid("aux after migration");
    let runs = incomplete
        .iter()
        .map(|share| {
            let ctx = SessionCtx::keygen(s, SchemeId::Cggmp21Secp256k1, share.index(), 3).unwrap();
            Cggmp21::aux_info(&ctx, share, primes[usize::from(share.index())].clone()).unwrap()
        })
        .collect();
    let shares: Vec<Cggmp21Share> = run_local(runs).unwrap();
    for set in [[0u16, 1], [1, 2]] {
        let prehash = [set[0] as u8 + 9; 32];
        let sig = sign::<Cggmp21>(&shares, &set, &SignRequest::ecdsa(prehash));
        check_ecdsa(&expected, &prehash, &sig);
    }
    assert_eq!(shares[0].public_key(), expected);
    assert_eq!(
        (
            shares[0].threshold(),
            shares[0].parties(),
            shares[0].epoch()
        ),
        (2, 3, 1)
    );
}

/// The fixture rewritten as tss-lib 1.3.x wrote it: `PaillierSK` without `P` and `Q`.
fn without_paillier_factors(i: usize) -> Vec<u8> {
    edited("ecdsa", i, |t| {
        let start = t.find("\"PaillierSK\"").unwrap();
        let end = start + t[start..].find('}').unwrap();
        let block: String = t[start..end]
            .lines()
            .filter(|l| {
                let l = l.trim_start();
                !l.starts_with("\"P\":") && !l.starts_with("\"Q\":")
            })
            .collect::<Vec<_>>()
            .join("\n");
        // The last remaining entry ("PhiN") must not end with a comma.
        let block = block.trim_end().trim_end_matches(',').to_owned() + "\n  ";
        assert!(!block.contains("\"P\"") && block.contains("\"PhiN\""));
        t.replace_range(start..end, &block);
    })
}

#[test]
fn tss_lib_1_3_files_without_paillier_factors_import_and_sign_with_gg20() {
    let expected = ecdsa_pub_from_fixture();
    let shares: Vec<Gg20Share> = (0..5)
        .map(|i| {
            let k = TssLibKey::from_json(&without_paillier_factors(i)).unwrap();
            k.to_gg20().unwrap()
        })
        .collect();
    let s = sid("gg20-certify-1.3");
    let runs = (0..5u16)
        .map(|i| {
            let ctx = SessionCtx::keygen(s, SchemeId::Gg20Secp256k1, i, 5).unwrap();
            Gg20::certify(&ctx, &shares[usize::from(i)]).unwrap()
        })
        .collect();
    let certified = run_local(runs).unwrap();
    let prehash = [0x42; 32];
    let sig = sign::<Gg20>(&certified, &[0, 2, 4], &SignRequest::ecdsa(prehash));
    check_ecdsa(&expected, &prehash, &sig);
    // A φ(N) that does not belong to N is refused, naming the field.
    let mut text = String::from_utf8(without_paillier_factors(1)).unwrap();
    let at = text.find("\"PhiN\": ").unwrap() + 12;
    let d = text.as_bytes()[at];
    text.replace_range(at..at + 1, if d == b'1' { "2" } else { "1" });
    let bytes = text.into_bytes();
    refused(&bytes, "PaillierSK");
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

fn edited(kind: &str, i: usize, edit: impl FnOnce(&mut String)) -> Vec<u8> {
    let mut text = String::from_utf8(fixture(kind, i)).unwrap();
    edit(&mut text);
    text.into_bytes()
}

fn refused(bytes: &[u8], field: &str) {
    let err = TssLibKey::from_json(bytes).expect_err("tampered file was accepted");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("`{field}")),
        "error does not name {field}: {msg}"
    );
}

#[test]
fn tampered_fixture_files_are_refused_naming_the_field() {
    // Changed Xi (last digit bumped): no longer matches BigXj[i].
    let bytes = edited("ecdsa", 1, |t| {
        let at = t.find("\"Xi\"").unwrap();
        let digit_end = at + t[at..].find([',', '\n']).unwrap();
        let pos = t[..digit_end].trim_end().len() - 1;
        let d = t.as_bytes()[pos];
        let new = if d == b'9' { '0' } else { (d + 1) as char };
        t.replace_range(pos..pos + 1, &new.to_string());
    });
    refused(&bytes, "Xi");
    // Missing field.
    let bytes = edited("ecdsa", 2, |t| {
        *t = t.replacen("\"ShareID\"", "\"ShareIDx\"", 1)
    });
    refused(&bytes, "ShareID");
    // Wrong curve on one public share.
    let bytes = edited("ecdsa", 0, |t| {
        let at = t.find("\"BigXj\"").unwrap();
        let c = at + t[at..].find("secp256k1").unwrap();
        t.replace_range(c..c + 9, "ed25519");
    });
    refused(&bytes, "BigXj[0].Curve");
    // An EdDSA file whose group key claims secp256k1.
    let bytes = edited("eddsa", 0, |t| {
        let at = t.find("\"EDDSAPub\"").unwrap();
        let c = at + t[at..].find("ed25519").unwrap();
        t.replace_range(c..c + 7, "secp256k1");
    });
    refused(&bytes, "EDDSAPub.Curve");
    // A public share moved off the polynomial: party 4's BigXj entry replaced by party 3's.
    let bytes = edited("ecdsa", 0, |t| {
        let at = t.find("\"BigXj\"").unwrap();
        let end = at + t[at..].find("\"PaillierPKs\"").unwrap_or(t.len() - at);
        let block = t[at..end].to_owned();
        let entries: Vec<usize> = block.match_indices("\"Coords\"").map(|(i, _)| i).collect();
        assert!(entries.len() >= 5);
        let coords = |k: usize| {
            let s = &block[entries[k]..];
            s[..s.find(']').unwrap() + 1].to_owned()
        };
        let new_block = block.replacen(&coords(4), &coords(3), 1);
        t.replace_range(at..end, &new_block);
    });
    refused(&bytes, "BigXj");
    // Not JSON at all / a number that is not an integer.
    refused(b"{\"ECDSAPub\": 1", "(file)");
    let bytes = edited("ecdsa", 4, |t| {
        let at = t.find("\"ShareID\"").unwrap();
        let colon = at + t[at..].find(':').unwrap();
        let digits = colon + t[colon..].find(|c: char| c.is_ascii_digit()).unwrap();
        t.insert(digits, '-');
    });
    refused(&bytes, "ShareID");
}

#[test]
fn points_without_the_curve_field_are_accepted() {
    for kind in ["ecdsa", "eddsa"] {
        let bytes = edited(kind, 0, |t| {
            *t = t
                .replace("\"Curve\": \"secp256k1\",", "")
                .replace("\"Curve\": \"ed25519\",", "");
        });
        assert!(
            !String::from_utf8_lossy(&bytes).contains("\"Curve\""),
            "{kind}: fixture layout changed"
        );
        let k = TssLibKey::from_json(&bytes).unwrap();
        assert_eq!(
            k.public_key().unwrap(),
            TssLibKey::from_json(&fixture(kind, 0))
                .unwrap()
                .public_key()
                .unwrap()
        );
    }
}

#[test]
fn gg20_keygen_makes_certified_keys_that_sign() {
    let primes = test_primes();
    let shares = keygen::<Gg20>(3, 2, |i| {
        Gg20KeygenConfig::from(primes[usize::from(i)].clone())
    });
    let pk = shares[0].public_key();
    for s in &shares {
        assert_eq!(s.public_key(), pk);
        assert!(Gg20::is_certified_for(s, &[0, 1, 2]));
    }
    let sig = sign::<Gg20>(&shares, &[0, 2], &SignRequest::ecdsa([3; 32]));
    check_ecdsa(&pk, &[3; 32], &sig);
    // A share survives a JSON round trip and still signs.
    let back: Vec<Gg20Share> = shares
        .iter()
        .map(|s| Gg20Share::from_json(&s.to_json().unwrap(), SchemeId::Gg20Secp256k1).unwrap())
        .collect();
    let sig = sign::<Gg20>(&back, &[1, 2], &SignRequest::ecdsa([4; 32]));
    check_ecdsa(&pk, &[4; 32], &sig);
}

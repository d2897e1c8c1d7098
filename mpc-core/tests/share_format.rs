//! Key-share envelope: serde round trip still signs, Debug redacts secrets, unknown
//! versions and mismatched data are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use mpc_core::engines::frost::FrostData;
use mpc_core::*;
use serde_json::Value;

#[test]
fn frost_share_round_trips_and_still_signs() {
    let shares = keygen::<FrostEd25519>(3, 2, |_| ());
    let restored: Vec<KeyShare<FrostData<givre::ciphersuite::Ed25519>>> = shares
        .iter()
        .map(|s| KeyShare::from_json(&s.to_json().unwrap(), SchemeId::FrostEd25519).unwrap())
        .collect();
    assert_eq!(restored[1].header(), shares[1].header());
    let sig = sign::<FrostEd25519>(
        &restored,
        &[1, 2],
        &SignRequest::ed25519(b"after reload".to_vec()),
    );
    check_ed25519(&shares[0].public_key(), b"after reload", &sig);
}

#[test]
fn debug_shows_no_secret() {
    let shares = keygen::<FrostTaproot>(3, 2, |_| ());
    let json: Value = serde_json::from_slice(&shares[0].to_json().unwrap()).unwrap();
    let mut secrets = vec![];
    secret_values(&json, &mut secrets);
    assert!(
        !secrets.is_empty(),
        "test found no secret field to look for"
    );
    let dbg = format!("{:?} {:#?}", shares[0], shares[0]);
    assert!(dbg.contains("<redacted>"));
    for s in secrets {
        assert!(!dbg.contains(&s), "Debug output contains a secret value");
    }
}

#[test]
fn unknown_version_other_scheme_and_tampered_header_are_refused() {
    let shares = keygen::<FrostEd25519>(3, 2, |_| ());
    let mut json: Value = serde_json::from_slice(&shares[0].to_json().unwrap()).unwrap();
    json["version"] = Value::from(2);
    let err = KeyShare::<FrostData<givre::ciphersuite::Ed25519>>::from_json(
        &serde_json::to_vec(&json).unwrap(),
        SchemeId::FrostEd25519,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        ),
        "{err}"
    );

    let bytes = shares[0].to_json().unwrap();
    let err = KeyShare::<FrostData<givre::ciphersuite::Bitcoin>>::from_json(
        &bytes,
        SchemeId::FrostSecp256k1Tr,
    )
    .unwrap_err();
    assert!(matches!(err, Error::SchemeMismatch { .. }), "{err}");

    for (field, value) in [
        ("index", Value::from(2)),
        ("t", Value::from(3)),
        ("n", Value::from(4)),
    ] {
        let mut json: Value = serde_json::from_slice(&bytes).unwrap();
        json[field] = value;
        let err = KeyShare::<FrostData<givre::ciphersuite::Ed25519>>::from_json(
            &serde_json::to_vec(&json).unwrap(),
            SchemeId::FrostEd25519,
        )
        .unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{field}: {err}");
    }
    let err = KeyShare::<FrostData<givre::ciphersuite::Ed25519>>::from_json(
        b"{\"version\":1",
        SchemeId::FrostEd25519,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
}

#[test]
fn any_serde_path_validates_the_share() {
    let shares = keygen::<FrostEd25519>(3, 2, |_| ());
    let mut json: Value = serde_json::from_slice(&shares[0].to_json().unwrap()).unwrap();
    // Untouched: reads back through plain serde.
    let ok: KeyShare<FrostData<givre::ciphersuite::Ed25519>> =
        serde_json::from_value(json.clone()).unwrap();
    assert_eq!(ok.header(), shares[0].header());
    // A header that lies about the group key is refused even without `from_json`.
    json["public_key"] = serde_json::to_value(shares[0].public_key()).unwrap();
    json["index"] = Value::from(1);
    let r: Result<KeyShare<FrostData<givre::ciphersuite::Ed25519>>, _> =
        serde_json::from_value(json);
    assert!(r.is_err());
}

//! Bad input gives a clear error, never a panic, and loses nothing: after every rejected
//! message the run still completes with a valid signature.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use mpc_core::*;

#[test]
fn thresholds_are_validated() {
    let s = sid("t");
    for (t, n) in [(0u16, 3u16), (4, 3), (0, 0)] {
        let ctx = SessionCtx::keygen(s, SchemeId::FrostEd25519, 0, n.max(1)).unwrap();
        let err = FrostEd25519::keygen(&ctx, t, ()).err().unwrap();
        assert!(
            matches!(err, Error::InvalidThreshold { .. }),
            "t={t} n={n}: {err}"
        );
    }
    let ctx = SessionCtx::keygen(s, SchemeId::Cggmp21Secp256k1, 0, 3).unwrap();
    let err = Cggmp21::keygen(&ctx, 4, Cggmp21KeygenConfig::default())
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::InvalidThreshold { t: 4, n: 3 }),
        "{err}"
    );
    assert!(check_threshold(3, 3).is_ok());
    // A keygen context for another scheme is refused.
    let err = FrostTaproot::keygen(
        &SessionCtx::keygen(s, SchemeId::FrostEd25519, 0, 3).unwrap(),
        2,
        (),
    )
    .err()
    .unwrap();
    assert!(matches!(err, Error::SchemeMismatch { .. }));
}

#[test]
fn signer_lists_are_validated() {
    let shares = keygen::<FrostEd25519>(3, 2, |_| ());
    let s = sid("signers");
    let req = SignRequest::ed25519(b"m".to_vec());
    // Duplicate signer.
    let err = SessionCtx::new(s, SchemeId::FrostEd25519, 0, &[0, 0]).unwrap_err();
    assert!(matches!(err, Error::DuplicateParty(0)));
    // Fewer than t signers.
    let ctx = SessionCtx::new(s, SchemeId::FrostEd25519, 0, &[0]).unwrap();
    let err = FrostEd25519::sign(&ctx, &shares[0], &req).err().unwrap();
    assert!(
        matches!(err, Error::WrongSignerCount { needed: 2, got: 1 }),
        "{err}"
    );
    // Out-of-range signer.
    let ctx = SessionCtx::new(s, SchemeId::FrostEd25519, 0, &[0, 7]).unwrap();
    let err = FrostEd25519::sign(&ctx, &shares[0], &req).err().unwrap();
    assert!(
        matches!(err, Error::PartyOutOfRange { index: 7, n: 3 }),
        "{err}"
    );
    // Not among the signers.
    assert!(matches!(
        SessionCtx::new(s, SchemeId::FrostEd25519, 2, &[0, 1]),
        Err(Error::NotAParticipant(2))
    ));
    // Request of the wrong kind.
    let ctx = SessionCtx::new(s, SchemeId::FrostEd25519, 0, &[0, 1]).unwrap();
    let err = FrostEd25519::sign(&ctx, &shares[0], &SignRequest::ecdsa([0; 32]))
        .err()
        .unwrap();
    assert!(matches!(err, Error::RequestMismatch { .. }), "{err}");
    // Hardened derivation is refused.
    let err = FrostEd25519::signing_key(&shares[0], Some(&[0x8000_0001])).unwrap_err();
    assert!(matches!(err, Error::Derivation(_)));
}

/// Proceeds a run until it needs a message, collecting what it sends.
fn pump(run: &mut BoxedProtocol<Signature>) -> (Vec<Message>, Option<Signature>) {
    let mut out = vec![];
    loop {
        match run.proceed().unwrap() {
            Step::Send(m) => out.push(m),
            Step::NeedMessage => return (out, None),
            Step::Done(s) => return (out, Some(s)),
        }
    }
}

#[test]
fn malformed_foreign_duplicate_and_oversized_messages_are_rejected_and_lose_nothing() {
    let shares = keygen::<FrostEd25519>(3, 2, |_| ());
    let s = sid("bad messages");
    let req = SignRequest::ed25519(b"robust".to_vec());
    let signers = [0u16, 1];
    let mut runs: Vec<BoxedProtocol<Signature>> = signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, SchemeId::FrostEd25519, i, &signers).unwrap();
            FrostEd25519::sign(&ctx, &shares[usize::from(i)], &req).unwrap()
        })
        .collect();
    let (from0, _) = pump(&mut runs[0]);
    let (from1, _) = pump(&mut runs[1]);
    let good = from1[0].clone();
    assert_eq!((good.from, good.to), (1, Some(0)));

    let r0 = &mut runs[0];
    // Truncated payload.
    let mut m = good.clone();
    m.payload.truncate(m.payload.len() / 2);
    assert!(matches!(
        r0.receive(m),
        Err(Error::MalformedMessage { from: 1, .. })
    ));
    // Garbage payload of the right length.
    let mut m = good.clone();
    m.payload = vec![b'x'; good.payload.len()];
    assert!(matches!(
        r0.receive(m),
        Err(Error::MalformedMessage { from: 1, .. })
    ));
    // Well-formed encoding, but the commitment is not a curve point.
    let text = String::from_utf8(good.payload.clone()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let point_hex = find_hex(&json, 64).expect("a 32-byte point in the payload");
    let mut m = good.clone();
    m.payload = text.replacen(&point_hex, &"ff".repeat(32), 1).into_bytes();
    assert_ne!(m.payload, good.payload);
    assert!(matches!(
        r0.receive(m),
        Err(Error::MalformedMessage { from: 1, .. })
    ));
    // Sender out of range / not a signer / ourselves.
    for from in [9u16, 2, 0] {
        let mut m = good.clone();
        m.from = from;
        assert!(
            matches!(r0.receive(m), Err(Error::UnexpectedSender { .. })),
            "from {from}"
        );
    }
    // Another session.
    let mut m = good.clone();
    m.session = sid("other");
    assert!(matches!(
        r0.receive(m),
        Err(Error::WrongSession { from: 1 })
    ));
    // Addressed to someone else.
    let mut m = good.clone();
    m.to = Some(2);
    assert!(matches!(
        r0.receive(m),
        Err(Error::WrongRecipient { from: 1, to: 2 })
    ));
    // Header round differs from payload round.
    let mut m = good.clone();
    m.round += 1;
    assert!(matches!(
        r0.receive(m),
        Err(Error::MalformedMessage { from: 1, .. })
    ));
    // Oversized.
    let mut m = good.clone();
    m.payload = vec![0; MAX_PAYLOAD + 1];
    assert!(matches!(r0.receive(m), Err(Error::MessageTooLarge { .. })));
    // The real one, then a duplicate of it.
    r0.receive(good.clone()).unwrap();
    assert!(matches!(
        r0.receive(good),
        Err(Error::DuplicateMessage { from: 1, .. })
    ));

    // Nothing was lost: finish the protocol normally.
    runs[1].receive(from0[0].clone()).unwrap();
    let (r2_from0, _) = pump(&mut runs[0]);
    let (r2_from1, _) = pump(&mut runs[1]);
    runs[0].receive(r2_from1[0].clone()).unwrap();
    runs[1].receive(r2_from0[0].clone()).unwrap();
    let (_, s0) = pump(&mut runs[0]);
    let (_, s1) = pump(&mut runs[1]);
    let (s0, s1) = (s0.unwrap(), s1.unwrap());
    assert_eq!(s0, s1);
    check_ed25519(&shares[0].public_key(), b"robust", &s0);
    // Proceeding a finished run is an error, not a panic.
    assert!(matches!(runs[0].proceed(), Err(Error::Misuse(_))));
}

#[test]
fn stalled_local_run_ends_with_an_error_instead_of_hanging() {
    let shares = keygen::<FrostEd25519>(3, 2, |_| ());
    let s = sid("stall");
    let ctx = SessionCtx::new(s, SchemeId::FrostEd25519, 0, &[0, 1]).unwrap();
    let run = FrostEd25519::sign(&ctx, &shares[0], &SignRequest::ed25519(b"m".to_vec())).unwrap();
    // Party 1 never runs.
    let err = mpc_core::local::run_local(vec![run]).unwrap_err();
    assert!(matches!(err, Error::Aborted { .. }), "{err}");
}

/// The first hex string of `len` characters in a JSON value.
fn find_hex(v: &serde_json::Value, len: usize) -> Option<String> {
    match v {
        serde_json::Value::String(s)
            if s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Some(s.clone())
        }
        serde_json::Value::Object(m) => m.values().find_map(|x| find_hex(x, len)),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_hex(x, len)),
        _ => None,
    }
}

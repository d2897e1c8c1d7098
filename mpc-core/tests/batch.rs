//! Batch signing: several requests in one session, each signature checked by an independent
//! verifier; bad batch messages are rejected and the batch still completes; parties that
//! disagree on an item do not produce a signature for it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use mpc_core::batch::{item_session, Batch};
use mpc_core::local::run_local;
use mpc_core::*;

#[test]
fn frost_batches_sign_every_item() {
    let ed = keygen::<FrostEd25519>(3, 2, |_| ());
    let reqs: Vec<SignRequest> = (0..5u8)
        .map(|i| SignRequest::ed25519(vec![i; 40 + usize::from(i)]))
        .collect();
    let sigs = mpc_core::local::sign_batch::<FrostEd25519>(&ed, &[0, 2], &reqs).unwrap();
    assert_eq!(sigs.len(), 5);
    for (r, s) in reqs.iter().zip(&sigs) {
        let SignPayload::Ed25519 { message } = &r.payload else {
            unreachable!()
        };
        check_ed25519(&ed[0].public_key(), message, s);
    }
    let tr = keygen::<FrostTaproot>(3, 3, |_| ());
    let reqs = vec![
        SignRequest::bip340([1u8; 32], None),
        SignRequest::bip340([2u8; 32], Some([9u8; 32])),
    ];
    let sigs = mpc_core::local::sign_batch::<FrostTaproot>(&tr, &[0, 1, 2], &reqs).unwrap();
    check_bip340(&tr[0].public_key(), None, &[1u8; 32], &sigs[0]);
    check_bip340(&tr[0].public_key(), Some([9u8; 32]), &[2u8; 32], &sigs[1]);
}

#[test]
fn cggmp21_batch_signs_every_item() {
    let shares = test_only_key::<Cggmp21>(2, 3);
    let reqs = vec![SignRequest::ecdsa([3u8; 32]), SignRequest::ecdsa([4u8; 32])];
    let sigs = mpc_core::local::sign_batch::<Cggmp21>(&shares, &[1, 2], &reqs).unwrap();
    check_ecdsa(&shares[0].public_key(), &[3u8; 32], &sigs[0]);
    check_ecdsa(&shares[0].public_key(), &[4u8; 32], &sigs[1]);
}

fn batch_runs(
    shares: &[KeyShare<<FrostEd25519 as ThresholdScheme>::Data>],
    signers: &[u16],
    reqs_of: impl Fn(u16) -> Vec<SignRequest>,
) -> (SessionId, Vec<BoxedProtocol<Vec<Signature>>>) {
    let s = sid("batch");
    let runs = signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, SchemeId::FrostEd25519, i, signers).unwrap();
            FrostEd25519::sign_batch(&ctx, &shares[usize::from(i)], &reqs_of(i)).unwrap()
        })
        .collect();
    (s, runs)
}

#[test]
fn bad_batch_messages_are_rejected_and_the_batch_completes() {
    let ed = keygen::<FrostEd25519>(3, 2, |_| ());
    let reqs = vec![
        SignRequest::ed25519(b"a".to_vec()),
        SignRequest::ed25519(b"b".to_vec()),
    ];
    let (s, mut runs) = batch_runs(&ed, &[0, 1], |_| reqs.clone());
    let mut r1 = runs.pop().unwrap();
    let first = match r1.proceed().unwrap() {
        Step::Send(m) => m,
        other => panic!("expected a message, got {other:?}"),
    };
    let mut r0 = runs.pop().unwrap();
    let bad = [
        Message {
            payload: vec![],
            ..first.clone()
        },
        Message {
            payload: vec![0],
            ..first.clone()
        },
        Message {
            payload: [&[0u8, 7][..], &first.payload[2..]].concat(),
            ..first.clone()
        },
        Message {
            session: item_session(s, 0),
            ..first.clone()
        },
        Message {
            payload: [&first.payload[..2], &b"garbage"[..]].concat(),
            ..first.clone()
        },
    ];
    for m in bad {
        assert!(r0.receive(m).is_err());
    }
    // the real runs still finish
    r0.receive(first).unwrap();
    let sigs = run_local(vec![r0, r1]).unwrap();
    check_ed25519(&ed[0].public_key(), b"b", &sigs[0][1]);
}

#[test]
fn parties_that_disagree_on_an_item_get_no_signature() {
    let ed = keygen::<FrostEd25519>(3, 2, |_| ());
    let (_, runs) = batch_runs(&ed, &[0, 1], |i| {
        vec![
            SignRequest::ed25519(b"same".to_vec()),
            SignRequest::ed25519(if i == 0 {
                b"pay 1".to_vec()
            } else {
                b"pay 9".to_vec()
            }),
        ]
    });
    assert!(run_local(runs).is_err());
}

#[test]
fn empty_or_mismatched_batches_are_refused() {
    let ed = keygen::<FrostEd25519>(3, 2, |_| ());
    let ctx = SessionCtx::new(sid("e"), SchemeId::FrostEd25519, 0, &[0, 1]).unwrap();
    assert!(matches!(
        FrostEd25519::sign_batch(&ctx, &ed[0], &[]).err().unwrap(),
        Error::Invalid { .. }
    ));
    // a run made for another session cannot be slotted in as an item
    let stray = FrostEd25519::sign(&ctx, &ed[0], &SignRequest::ed25519(b"x".to_vec())).unwrap();
    assert!(Batch::new(ctx, vec![stray]).is_err());
}

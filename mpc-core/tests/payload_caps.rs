//! Payload caps (`mpc_core::limits`) against the messages honest runs really send: every
//! protocol of every engine and the resharing protocol, 2-of-3 (and 3-of-5 where it is
//! cheap). Each honest payload must stay within half of its round's cap, and each cap must
//! come from an honest size (at most four times the largest honest payload of its round,
//! plus 8 KiB), so caps neither cut honest runs nor let a peer send megabytes where a round
//! needs kilobytes. A message over its cap is refused naming the sender.
//!
//! `cargo test -p mpc-core --test payload_caps -- --nocapture` prints the measured table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;

use common::*;
use mpc_core::limits::{payload_cap, ProtocolKind};
use mpc_core::local::{run_each, Delivery};
use mpc_core::*;

/// Largest payload seen per (phase, engine round).
type Sizes = BTreeMap<(u8, u8), usize>;

/// Runs `runs` honestly, recording every payload size; returns the outputs.
fn measured<O>(runs: Vec<BoxedProtocol<O>>, sizes: &mut Sizes) -> Vec<O> {
    run_each(runs, |_, m| {
        let key = ((m.round >> 8) as u8, (m.round & 0xff) as u8);
        let e = sizes.entry(key).or_default();
        *e = (*e).max(m.payload.len());
        Delivery::Deliver
    })
    .into_iter()
    .map(Result::unwrap)
    .collect()
}

/// Checks the caps of a `kind` run of `scheme` with `parties` participants against what
/// it sent; `kind_of_phase` names the protocol of each message phase.
fn check(
    scheme: SchemeId,
    kind_of_phase: impl Fn(u8) -> ProtocolKind,
    parties: u16,
    sizes: &Sizes,
) {
    assert!(!sizes.is_empty());
    for (&(phase, round), &honest) in sizes {
        let kind = kind_of_phase(phase);
        let cap = payload_cap(scheme, kind, round, parties);
        println!("{scheme} {kind:?} n={parties} round {round}: honest {honest} B, cap {cap} B");
        assert!(
            honest <= cap / 2,
            "{scheme} {kind:?} round {round} with {parties} parties: honest {honest} bytes, cap {cap}"
        );
        // GG20's round 4 is small unless a check failed; then every party sends its
        // identification proofs (27 kB, see `gg20::tests`), which its cap is made for.
        let identification =
            (scheme, kind, round) == (SchemeId::Gg20Secp256k1, ProtocolKind::Presign, 4);
        assert!(
            identification || cap <= 4 * honest + 8192,
            "{scheme} {kind:?} round {round}: cap {cap} is far above the honest {honest} bytes"
        );
    }
}

fn one(kind: ProtocolKind) -> impl Fn(u8) -> ProtocolKind {
    move |_| kind
}

fn keygen_runs<S: ThresholdScheme>(
    n: u16,
    t: u16,
    mut config: impl FnMut(u16) -> S::KeygenConfig,
) -> Vec<BoxedProtocol<KeyShare<S::Data>>> {
    let s = sid("caps keygen");
    (0..n)
        .map(|i| S::keygen(&SessionCtx::keygen(s, S::ID, i, n).unwrap(), t, config(i)).unwrap())
        .collect()
}

fn sign_runs<S: ThresholdScheme>(
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    request: &SignRequest,
) -> Vec<BoxedProtocol<Signature>> {
    let s = sid("caps sign");
    signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, S::ID, i, signers).unwrap();
            S::sign(&ctx, &shares[usize::from(i)], request).unwrap()
        })
        .collect()
}

fn presign_runs<S: Presigning>(
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
) -> Vec<BoxedProtocol<S::Presignature>> {
    let s = sid("caps presign");
    signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, S::ID, i, signers).unwrap();
            S::presign(&ctx, &shares[usize::from(i)], None).unwrap()
        })
        .collect()
}

/// Measures a resharing of `shares` from `dealers` to `new_parties` (threshold `t_new`).
fn reshare_sizes<S: reshare::ReshareFrom>(
    shares: &[KeyShare<S::Data>],
    dealers: &[u16],
    new_parties: &[u16],
    t_new: u16,
) {
    let sources: Vec<_> = shares
        .iter()
        .map(|s| S::reshare_source(s).unwrap())
        .collect();
    let setup = sources[0].setup(None, dealers, new_parties, t_new).unwrap();
    let all = setup.participants();
    let s = sid("caps reshare");
    let runs = all
        .iter()
        .map(|&p| {
            let ctx = SessionCtx::new(s, S::ID, p, &all).unwrap();
            let dealer = dealers
                .contains(&p)
                .then(|| sources[usize::from(p)].dealer_input());
            reshare::reshare(&ctx, setup.clone(), dealer).unwrap()
        })
        .collect();
    let mut sizes = Sizes::new();
    measured(runs, &mut sizes);
    check(S::ID, one(ProtocolKind::Reshare), all.len() as u16, &sizes);
}

fn frost<S: ThresholdScheme<KeygenConfig = ()> + reshare::ReshareFrom>(request: SignRequest) {
    for (n, t) in [(3u16, 2u16), (5, 3)] {
        let mut sizes = Sizes::new();
        let shares = measured(keygen_runs::<S>(n, t, |_| ()), &mut sizes);
        check(S::ID, one(ProtocolKind::Keygen), n, &sizes);
        let signers: Vec<u16> = (0..t).collect();
        let mut sizes = Sizes::new();
        measured(sign_runs::<S>(&shares, &signers, &request), &mut sizes);
        check(S::ID, one(ProtocolKind::Sign), t, &sizes);
        let everyone: Vec<u16> = (0..n).collect();
        reshare_sizes::<S>(&shares, &signers, &everyone, t);
    }
}

#[test]
fn frost_ed25519_messages_fit_their_caps() {
    frost::<FrostEd25519>(SignRequest::ed25519(vec![7; 100]));
}

#[test]
fn frost_taproot_messages_fit_their_caps() {
    frost::<FrostTaproot>(SignRequest::bip340([7; 32], None));
}

#[test]
fn cggmp21_messages_fit_their_caps() {
    let primes = test_primes();
    let mut sizes = Sizes::new();
    let runs = keygen_runs::<Cggmp21>(3, 2, |i| Cggmp21KeygenConfig {
        primes: Some(primes[usize::from(i)].clone()),
    });
    let shares = measured(runs, &mut sizes);
    // Phase 0 is the DKG, phase 1 the auxiliary info run beside it.
    let kind = |phase| match phase {
        0 => ProtocolKind::Keygen,
        _ => ProtocolKind::AuxInfo,
    };
    check(SchemeId::Cggmp21Secp256k1, kind, 3, &sizes);
    let mut sizes = Sizes::new();
    measured(presign_runs::<Cggmp21>(&shares, &[0, 2]), &mut sizes);
    check(
        SchemeId::Cggmp21Secp256k1,
        one(ProtocolKind::Presign),
        2,
        &sizes,
    );
    let mut sizes = Sizes::new();
    let request = SignRequest::ecdsa([9; 32]);
    measured(sign_runs::<Cggmp21>(&shares, &[1, 2], &request), &mut sizes);
    check(
        SchemeId::Cggmp21Secp256k1,
        one(ProtocolKind::Sign),
        2,
        &sizes,
    );
    reshare_sizes::<Cggmp21>(&shares, &[0, 1], &[0, 1, 2], 2);
}

#[test]
fn gg20_messages_fit_their_caps() {
    let primes = test_primes();
    let mut sizes = Sizes::new();
    let runs = keygen_runs::<Gg20>(3, 2, |i| primes[usize::from(i)].clone().into());
    let shares = measured(runs, &mut sizes);
    check(
        SchemeId::Gg20Secp256k1,
        one(ProtocolKind::Keygen),
        3,
        &sizes,
    );
    let mut sizes = Sizes::new();
    measured(presign_runs::<Gg20>(&shares, &[0, 2]), &mut sizes);
    check(
        SchemeId::Gg20Secp256k1,
        one(ProtocolKind::Presign),
        2,
        &sizes,
    );
    let mut sizes = Sizes::new();
    let request = SignRequest::ecdsa([9; 32]);
    measured(sign_runs::<Gg20>(&shares, &[1, 2], &request), &mut sizes);
    check(
        SchemeId::Gg20Secp256k1,
        one(ProtocolKind::Presign),
        2,
        &sizes,
    );
    // Fresh Paillier moduli after a resharing (2-of-3 to the same committee).
    let outputs = reshare_outputs::<Gg20>(
        &shares.iter().cloned().map(Some).collect::<Vec<_>>(),
        &[0, 1],
        &[0, 1, 2],
        2,
        SchemeId::Gg20Secp256k1,
    );
    let s = sid("caps gg20 moduli");
    let runs = outputs
        .iter()
        .map(|o| {
            let j = o.share.as_ref().unwrap().index();
            let ctx = SessionCtx::keygen(s, SchemeId::Gg20Secp256k1, j, 3).unwrap();
            let fresh = primes[(usize::from(j) + 1) % primes.len()].clone();
            Gg20::reshared(&ctx, o, fresh).unwrap()
        })
        .collect();
    let mut sizes = Sizes::new();
    let reshared = measured(runs, &mut sizes);
    check(
        SchemeId::Gg20Secp256k1,
        one(ProtocolKind::AuxInfo),
        3,
        &sizes,
    );
    // Certification of a signer set (the step after a tss-lib import).
    let s = sid("caps gg20 certify");
    let runs = reshared
        .iter()
        .map(|share| {
            let ctx = SessionCtx::keygen(s, SchemeId::Gg20Secp256k1, share.index(), 3).unwrap();
            Gg20::certify(&ctx, share).unwrap()
        })
        .collect();
    let mut sizes = Sizes::new();
    measured(runs, &mut sizes);
    check(
        SchemeId::Gg20Secp256k1,
        one(ProtocolKind::Certify),
        3,
        &sizes,
    );
}

#[test]
fn a_message_over_its_rounds_cap_is_refused_naming_the_sender() {
    let mut runs = keygen_runs::<FrostEd25519>(3, 2, |_| ());
    let mut first = None;
    for r in &mut runs {
        if let Ok(Step::Send(m)) = r.proceed() {
            if m.from == 1 {
                first = Some(m);
            }
        }
    }
    let mut m = first.expect("party 1 sends in round 1");
    let round = (m.round & 0xff) as u8;
    let cap = payload_cap(SchemeId::FrostEd25519, ProtocolKind::Keygen, round, 3);
    m.payload = vec![b' '; cap + 1];
    m.to = None;
    let err = runs[0].receive(m).unwrap_err();
    assert!(
        matches!(err, Error::MalformedMessage { from: 1, ref reason } if reason.contains("cap")),
        "{err}"
    );
}

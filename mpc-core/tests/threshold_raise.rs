//! The 2024 Pedersen-DKG threshold-raise finding: a party that deals a polynomial of higher
//! degree (a commitment vector longer than `t`) would silently raise the key's threshold, so
//! that the honest `t` can no longer sign. Here party 2 runs key generation for `t + 1`,
//! with messages that are otherwise honest and consistent; every honest party must refuse,
//! naming party 2, for every engine. (The resharing protocol's dealing is checked the same
//! way in `mpc_core::reshare` unit tests: `one_commitment_too_many`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use mpc_core::local::{run_each, Delivery};
use mpc_core::*;

fn honest_parties_refuse_naming_2<O>(results: Vec<Result<O>>, what: &str) {
    for (i, r) in results.iter().enumerate().take(2) {
        match r {
            Ok(_) => panic!("{what}: party {i} accepted a raised threshold"),
            Err(e) => assert!(
                error_names(r, 2),
                "{what}: party {i} failed without naming party 2: {e}"
            ),
        }
    }
}

fn error_names<O>(r: &Result<O>, party: PartyIndex) -> bool {
    match r {
        Err(Error::Aborted { culprits, .. }) => culprits == &[party],
        Err(Error::MalformedMessage { from, .. }) => *from == party,
        _ => false,
    }
}

fn dkg_raising_the_threshold<S: ThresholdScheme>(config: impl Fn(u16) -> S::KeygenConfig) {
    let s = sid("threshold-raise");
    let runs = (0..3u16)
        .map(|i| {
            let t = if i == 2 { 3 } else { 2 };
            S::keygen(&SessionCtx::keygen(s, S::ID, i, 3).unwrap(), t, config(i)).unwrap()
        })
        .collect();
    let results = run_each(runs, |_, _| Delivery::Deliver);
    honest_parties_refuse_naming_2(results, &S::ID.to_string());
}

#[test]
fn frost_ed25519_dkg_refuses_a_raised_threshold() {
    dkg_raising_the_threshold::<FrostEd25519>(|_| ());
}

#[test]
fn frost_taproot_dkg_refuses_a_raised_threshold() {
    dkg_raising_the_threshold::<FrostTaproot>(|_| ());
}

#[test]
fn cggmp21_dkg_refuses_a_raised_threshold() {
    dkg_raising_the_threshold::<Cggmp21>(|_| Cggmp21KeygenConfig { primes: None });
}

#[test]
fn gg20_dkg_refuses_a_raised_threshold() {
    let primes = test_primes();
    dkg_raising_the_threshold::<Gg20>(|i| primes[usize::from(i)].clone().into());
}

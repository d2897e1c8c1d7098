//! The share check against honest shares (it must never blame one) and wrong ones (it must
//! name exactly their signers), for both ciphersuites, with and without an HD path and a
//! Taproot script tree. Many runs cover every sign the BIP-340 normalization can take (of
//! the derived key, the tweaked key and the group commitment).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use givre::generic_ec::Scalar;
use givre::signing::round1::{self, PublicCommitments};
use givre::signing::round2::{SigShare, SigningOptions};
use rand_core::{OsRng, RngCore};

use super::share_check::{faulty_signers, Contribution, Signed};
use super::{Frost, FrostSuite};
use crate::ids::PartyIndex;

/// Honest shares of `signers` for `message`.
fn honest_shares<C: FrostSuite>(
    keys: &[crate::share::KeyShare<super::FrostData<C>>],
    signers: &[PartyIndex],
    signed: &Signed<'_, C>,
) -> Vec<Contribution<C>> {
    let nonces: Vec<_> = signers
        .iter()
        .map(|&j| round1::commit::<C>(&mut OsRng, &keys[usize::from(j)].data().share))
        .collect();
    let list: Vec<(PartyIndex, PublicCommitments<C::Curve>)> = signers
        .iter()
        .zip(&nonces)
        .map(|(&j, (_, c))| (j, *c))
        .collect();
    signers
        .iter()
        .zip(nonces)
        .map(|(&j, (secret, comm))| {
            let key = &keys[usize::from(j)].data().share;
            let mut o = SigningOptions::<C>::new(key, secret, signed.message, &list);
            if let Some(p) = signed.path {
                o = o.set_derivation_path(p.iter().copied()).unwrap();
            }
            if let Some(root) = signed.taproot {
                o = o.set_taproot_tweak(root).unwrap();
            }
            (j, comm, o.sign().unwrap())
        })
        .collect()
}

fn check_suite<C: FrostSuite>() {
    let keys = crate::local::keygen::<Frost<C>>(3, vec![(); 4]).unwrap();
    let signers: [PartyIndex; 3] = [3, 0, 2];
    for run in 0..24u32 {
        let mut message = vec![0u8; 32];
        OsRng.fill_bytes(&mut message);
        let path = [run % 5, 7];
        let root = [run as u8; 32];
        let signed = Signed::<C> {
            key: &keys[0].data().share,
            path: (run % 2 == 0).then_some(&path[..]),
            taproot: C::IS_TAPROOT.then_some((run % 3 == 0).then_some(root)),
            message: &message,
        };
        let mut shares = honest_shares(&keys, &signers, &signed);
        assert!(
            faulty_signers(&signed, &shares).unwrap().is_empty(),
            "run {run}: an honest share is blamed"
        );
        // One wrong share (a share plus one), then two.
        let bump = |s: &mut Contribution<C>| s.2 = SigShare(s.2 .0 + Scalar::one());
        bump(&mut shares[1]);
        assert_eq!(
            faulty_signers(&signed, &shares).unwrap(),
            vec![0],
            "run {run}"
        );
        bump(&mut shares[0]);
        assert_eq!(
            faulty_signers(&signed, &shares).unwrap(),
            vec![3, 0],
            "run {run}"
        );
    }
}

#[test]
fn the_share_check_names_exactly_the_wrong_shares_ed25519() {
    check_suite::<givre::ciphersuite::Ed25519>();
}

#[test]
fn the_share_check_names_exactly_the_wrong_shares_taproot() {
    check_suite::<givre::ciphersuite::Bitcoin>();
}

//! Resharing over both groups: the key and its public data survive, thresholds change, and
//! every kind of bad dealer is named.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, VecDeque};

use super::feldman::{lagrange_at_zero, Polynomial};
use super::group::{Ed25519, ReshareGroup, Secp256k1};
use super::rounds::{Dealing, Hex, Round1};
use super::*;
use crate::ids::{SchemeId, SessionId};
use crate::protocol::{Message, Step};

/// An old key made by a TEST-ONLY dealer: the secret, every party's share, the setup's
/// old committee.
struct OldKey<G: ReshareGroup> {
    secret: G::Scalar,
    shares: BTreeMap<PartyIndex, G::Scalar>,
    committee: BTreeMap<PartyIndex, OldParty<G>>,
    group_key: G::Point,
}

fn old_key<G: ReshareGroup>(t: u16, points: &[(PartyIndex, G::Scalar)]) -> OldKey<G> {
    let rng = &mut rand_core::OsRng;
    let secret = G::random_scalar(rng);
    let f = Polynomial::<G>::random(secret, t, rng);
    let mut shares = BTreeMap::new();
    let mut committee = BTreeMap::new();
    for (p, x) in points {
        let s = f.eval(x);
        shares.insert(*p, s);
        committee.insert(
            *p,
            OldParty {
                point: *x,
                public_share: G::mul_base(&s),
            },
        );
    }
    OldKey {
        secret,
        shares,
        committee,
        group_key: G::mul_base(&secret),
    }
}

fn simple_points<G: ReshareGroup>(n: u16) -> Vec<(PartyIndex, G::Scalar)> {
    (0..n).map(|i| (i, G::scalar(u64::from(i) + 1))).collect()
}

fn scheme<G: ReshareGroup>() -> SchemeId {
    match G::CURVE {
        crate::ids::CurveId::Ed25519 => SchemeId::FrostEd25519,
        _ => SchemeId::Cggmp21Secp256k1,
    }
}

const CHAIN_CODE: [u8; 32] = [7u8; 32];

fn start<G: ReshareGroup>(
    key: &OldKey<G>,
    t_old: u16,
    dealers: &[PartyIndex],
    new_parties: &[PartyIndex],
    t_new: u16,
) -> Vec<BoxedProtocol<ReshareOutput<G>>> {
    let setup = ReshareSetup {
        group_key: key.group_key,
        old_threshold: t_old,
        old_parties: key.committee.clone(),
        dealers: dealers.to_vec(),
        new_parties: new_parties.to_vec(),
        new_threshold: t_new,
        epoch: 1,
    };
    let sid = SessionId::random(&mut rand_core::OsRng);
    setup
        .participants()
        .into_iter()
        .map(|p| {
            let ctx = SessionCtx::new(sid, scheme::<G>(), p, &setup.participants()).unwrap();
            let dealer = dealers
                .contains(&p)
                .then(|| DealerInput::new(key.shares[&p], CHAIN_CODE.to_vec()));
            reshare(&ctx, setup.clone(), dealer).unwrap()
        })
        .collect()
}

/// Runs every party to its end (output or error), passing each message through `tamper`.
fn drive<O>(
    mut runs: Vec<BoxedProtocol<O>>,
    mut tamper: impl FnMut(&mut Message),
) -> Vec<Result<O>> {
    let ids: Vec<PartyIndex> = runs.iter().map(|r| r.ctx().me()).collect();
    let mut inbox: Vec<VecDeque<Message>> = runs.iter().map(|_| VecDeque::new()).collect();
    let mut out: Vec<Option<Result<O>>> = runs.iter().map(|_| None).collect();
    loop {
        let mut progressed = false;
        for k in 0..runs.len() {
            if out[k].is_some() {
                continue;
            }
            while let Some(m) = inbox[k].pop_front() {
                let _ = runs[k].receive(m);
                progressed = true;
            }
            loop {
                match runs[k].proceed() {
                    Ok(Step::Send(mut m)) => {
                        progressed = true;
                        tamper(&mut m);
                        for (j, id) in ids.iter().enumerate() {
                            if *id != m.from && m.to.is_none_or(|to| to == *id) {
                                inbox[j].push_back(m.clone());
                            }
                        }
                    }
                    Ok(Step::NeedMessage) => break,
                    Ok(Step::Done(o)) => {
                        out[k] = Some(Ok(o));
                        progressed = true;
                        break;
                    }
                    Err(e) => {
                        out[k] = Some(Err(e));
                        progressed = true;
                        break;
                    }
                }
            }
        }
        if !progressed {
            return out
                .into_iter()
                .map(|o| o.unwrap_or(Err(Error::Misuse("stalled"))))
                .collect();
        }
    }
}

fn reconstruct<G: ReshareGroup>(pairs: &[(G::Scalar, G::Scalar)]) -> G::Scalar {
    let xs: Vec<G::Scalar> = pairs.iter().map(|(x, _)| *x).collect();
    pairs.iter().fold(G::scalar(0), |acc, (x, y)| {
        acc + lagrange_at_zero::<G>(x, &xs).unwrap() * *y
    })
}

/// The new shares by share index, after checking every output agrees.
fn new_shares<G: ReshareGroup>(
    outs: &[ReshareOutput<G>],
    key: &OldKey<G>,
) -> BTreeMap<u16, G::Scalar> {
    let first = &outs[0];
    let mut shares = BTreeMap::new();
    for o in outs {
        assert_eq!(o.group_key, key.group_key);
        assert_eq!(o.public_shares, first.public_shares);
        assert_eq!(o.parties, first.parties);
        assert_eq!(o.public_data, CHAIN_CODE.to_vec());
        if let Some(s) = &o.share {
            assert_eq!(
                first.public_shares[usize::from(s.index())],
                G::mul_base(s.secret())
            );
            shares.insert(s.index(), *s.secret());
        }
    }
    assert_eq!(shares.len(), first.parties.len());
    shares
}

fn grow_2of3_to_3of5<G: ReshareGroup>() {
    let key = old_key::<G>(2, &simple_points::<G>(3));
    let runs = start(&key, 2, &[0, 2], &[0, 1, 2, 3, 4], 3);
    let outs: Vec<_> = drive(runs, |_| {})
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let shares = new_shares(&outs, &key);
    let point = |j: u16| ReshareSetup::<G>::new_point(j);
    for subset in [[0u16, 1, 2], [2, 3, 4], [0, 3, 4]] {
        let pairs: Vec<_> = subset.iter().map(|&j| (point(j), shares[&j])).collect();
        assert_eq!(reconstruct::<G>(&pairs), key.secret);
    }
    let two: Vec<_> = [1u16, 4].iter().map(|&j| (point(j), shares[&j])).collect();
    assert_ne!(
        reconstruct::<G>(&two),
        key.secret,
        "t_new - 1 shares give nothing"
    );
    for p in 0..3u16 {
        assert_ne!(shares[&p], key.shares[&p], "party {p}'s share changed");
    }
}

fn refresh_then_old_and_new_do_not_mix<G: ReshareGroup>() {
    let key = old_key::<G>(2, &simple_points::<G>(3));
    let runs = start(&key, 2, &[1, 2], &[0, 1, 2], 2);
    let outs: Vec<_> = drive(runs, |_| {})
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let shares = new_shares(&outs, &key);
    let point = |j: u16| ReshareSetup::<G>::new_point(j);
    let new = [(point(0), shares[&0]), (point(1), shares[&1])];
    assert_eq!(reconstruct::<G>(&new), key.secret);
    let mixed = [(point(0), key.shares[&0]), (point(1), shares[&1])];
    assert_ne!(
        reconstruct::<G>(&mixed),
        key.secret,
        "shares of two epochs do not combine"
    );
}

/// tss-lib keys use arbitrary evaluation points; a 3-of-4 shrinks to 2-of-2 without party 1.
fn shrink_with_arbitrary_points<G: ReshareGroup>() {
    let rng = &mut rand_core::OsRng;
    let points: Vec<_> = (0..4u16).map(|i| (i, G::random_scalar(rng))).collect();
    let key = old_key::<G>(3, &points);
    let runs = start(&key, 3, &[1, 2, 3], &[0, 3], 2);
    let outs: Vec<_> = drive(runs, |_| {})
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        outs.iter().any(|o| o.share.is_none()),
        "old-only dealers get no share"
    );
    let shares = new_shares(&outs, &key);
    let pairs: Vec<_> = shares
        .iter()
        .map(|(&j, &s)| (ReshareSetup::<G>::new_point(j), s))
        .collect();
    assert_eq!(reconstruct::<G>(&pairs), key.secret);
}

#[test]
fn bad_setups_are_refused_before_any_message() {
    type G = Secp256k1;
    let key = old_key::<G>(2, &simple_points::<G>(3));
    let setup = |dealers: Vec<u16>, new: Vec<u16>, t_new: u16| ReshareSetup::<G> {
        group_key: key.group_key,
        old_threshold: 2,
        old_parties: key.committee.clone(),
        dealers,
        new_parties: new,
        new_threshold: t_new,
        epoch: 1,
    };
    let sid = SessionId::from_label("reshare bad setups");
    let try_start = |s: ReshareSetup<G>, me: u16, share: Option<k256::Scalar>| {
        let ctx = SessionCtx::new(sid, SchemeId::Cggmp21Secp256k1, me, &s.participants())?;
        reshare(&ctx, s, share.map(|x| DealerInput::new(x, Vec::new()))).map(drop)
    };
    let s0 = Some(key.shares[&0]);
    assert!(matches!(
        try_start(setup(vec![0, 1], vec![0, 1], 3), 0, s0),
        Err(Error::InvalidThreshold { t: 3, n: 2 })
    ));
    assert!(matches!(
        try_start(setup(vec![0, 1, 2], vec![0, 1], 2), 0, s0),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        try_start(setup(vec![0, 7], vec![0, 1], 2), 0, s0),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        try_start(setup(vec![0, 1], vec![0, 1, 1], 2), 0, s0),
        Err(Error::DuplicateParty(1))
    ));
    // A dealer whose secret does not match its public share.
    assert!(matches!(
        try_start(setup(vec![0, 1], vec![0, 1], 2), 0, Some(key.shares[&1])),
        Err(Error::Invalid {
            what: "old key share",
            ..
        })
    ));
    // A setup whose public shares do not give the group key.
    let mut wrong = setup(vec![0, 1], vec![0, 1], 2);
    wrong.group_key = G::mul_base(&G::scalar(5));
    assert!(matches!(
        try_start(wrong, 0, s0),
        Err(Error::Invalid { .. })
    ));
    // An Ed25519 session for a secp256k1 setup.
    let s = setup(vec![0, 1], vec![0, 1], 2);
    let ctx = SessionCtx::new(sid, SchemeId::FrostEd25519, 0, &s.participants()).unwrap();
    assert!(reshare(&ctx, s, s0.map(|x| DealerInput::new(x, Vec::new()))).is_err());
}

// ---- malicious dealers -------------------------------------------------------------

/// A dealer that deals consistently (commitments and sub-shares match) from a polynomial
/// of its choice, replacing its honest round-1 messages to the receivers `to`.
fn malicious_round1<G: ReshareGroup>(
    m: &mut Message,
    dealer: PartyIndex,
    to: impl Fn(PartyIndex) -> bool,
    poly: &Polynomial<G>,
    new_parties: &[PartyIndex],
) {
    if m.from != dealer || m.round & 0xff != 1 || !m.to.is_some_and(&to) {
        return;
    }
    let honest: Round1 = serde_json::from_slice(&m.payload).unwrap();
    let receiver = m.to.unwrap();
    let sub_share = new_parties.iter().position(|&p| p == receiver).map(|j| {
        let y = ReshareSetup::<G>::new_point(j as u16);
        Hex(G::scalar_to_bytes(&poly.eval(&y)).to_vec())
    });
    let msg = Round1 {
        setup: honest.setup,
        dealing: Some(Dealing {
            commitments: poly
                .commit()
                .iter()
                .map(|c| Hex(G::point_to_bytes(c)))
                .collect(),
            public_data: Hex(CHAIN_CODE.to_vec()),
            sub_share,
        }),
    };
    m.payload = serde_json::to_vec(&msg).unwrap();
}

/// Every party aborts, every other party naming exactly `culprit`; the reason mentions
/// `what`.
fn all_abort_naming<O>(results: Vec<Result<O>>, culprit: PartyIndex, what: &str) {
    let others: Vec<PartyIndex> = (0..results.len() as u16)
        .filter(|&k| k != culprit)
        .collect();
    all_abort(results, &others, culprit, what);
}

/// Every party aborts; the parties (by position) in `witnesses` name exactly `culprit` and
/// give a reason that mentions `what`, the others name nobody (the culprit's own run ends
/// however it ends, naming nobody else).
fn all_abort<O>(results: Vec<Result<O>>, witnesses: &[u16], culprit: PartyIndex, what: &str) {
    for (k, r) in (0u16..).zip(results) {
        let expected = if witnesses.contains(&k) {
            vec![culprit]
        } else {
            vec![]
        };
        if k == culprit {
            let e = r.err().expect("the culprit's run ends in an error");
            assert!(e.blamed().iter().all(|&p| p == culprit), "{e}");
            continue;
        }
        match r {
            Err(Error::Aborted { culprits, reason }) => {
                assert_eq!(culprits, expected, "party {k}: {reason}");
                assert!(reason.contains(what), "{reason:?} should mention {what:?}");
            }
            Err(e) => panic!("expected an abort, got {e}"),
            Ok(_) => panic!("expected an abort, got an output"),
        }
    }
}

fn lambda_share<G: ReshareGroup>(
    key: &OldKey<G>,
    dealer: PartyIndex,
    dealers: &[u16],
) -> G::Scalar {
    let xs: Vec<G::Scalar> = dealers.iter().map(|d| key.committee[d].point).collect();
    lagrange_at_zero::<G>(&key.committee[&dealer].point, &xs).unwrap() * key.shares[&dealer]
}

const DEALERS: [u16; 2] = [0, 2];
const NEW: [u16; 5] = [0, 1, 2, 3, 4];

fn wrong_sub_share<G: ReshareGroup>() {
    let key = old_key::<G>(2, &simple_points::<G>(3));
    let runs = start(&key, 2, &DEALERS, &NEW, 3);
    let results = drive(runs, |m| {
        if m.from == 0 && m.to == Some(3) && m.round & 0xff == 1 {
            let mut r: Round1 = serde_json::from_slice(&m.payload).unwrap();
            if let Some(d) = r.dealing.as_mut() {
                let bogus = G::random_scalar(&mut rand_core::OsRng);
                d.sub_share = Some(Hex(G::scalar_to_bytes(&bogus).to_vec()));
            }
            m.payload = serde_json::to_vec(&r).unwrap();
        }
    });
    // Party 3 checked the sub-share itself; the others have only its complaint, which could
    // be false.
    all_abort(results, &[3], 0, "sub-share does not match");
}

fn one_commitment_too_many<G: ReshareGroup>() {
    let key = old_key::<G>(2, &simple_points::<G>(3));
    let z = lambda_share(&key, 0, &DEALERS);
    // A consistent dealing of degree t_new: it would raise the threshold to 4.
    let poly = Polynomial::<G>::random(z, 4, &mut rand_core::OsRng);
    let runs = start(&key, 2, &DEALERS, &NEW, 3);
    let results = drive(runs, |m| malicious_round1(m, 0, |_| true, &poly, &NEW));
    all_abort_naming(results, 0, "sent 4 commitments; the new threshold is 3");
}

fn wrong_constant_term<G: ReshareGroup>() {
    let key = old_key::<G>(2, &simple_points::<G>(3));
    // A consistent dealing of another secret (it would change the group key).
    let other = G::random_scalar(&mut rand_core::OsRng);
    let poly = Polynomial::<G>::random(other, 3, &mut rand_core::OsRng);
    let runs = start(&key, 2, &DEALERS, &NEW, 3);
    let results = drive(runs, |m| malicious_round1(m, 2, |_| true, &poly, &NEW));
    all_abort_naming(results, 2, "does not match its old public share");
}

fn equivocation<G: ReshareGroup>() {
    let key = old_key::<G>(2, &simple_points::<G>(3));
    let z = lambda_share(&key, 0, &DEALERS);
    // Two consistent dealings of the same z: each receiver's own checks pass.
    let a = Polynomial::<G>::random(z, 3, &mut rand_core::OsRng);
    let b = Polynomial::<G>::random(z, 3, &mut rand_core::OsRng);
    let runs = start(&key, 2, &DEALERS, &NEW, 3);
    let results = drive(runs, |m| {
        malicious_round1(m, 0, |to| to < 3, &a, &NEW);
        malicious_round1(m, 0, |to| to >= 3, &b, &NEW);
    });
    // Each receiver's own checks pass; the echoes differ, and a false echo would look the
    // same: nobody is named.
    all_abort(results, &[], 0, "equivocated or an echo is false");
}

#[test]
fn a_truncated_dealing_names_its_sender_and_nobody_hangs() {
    type G = Secp256k1;
    let key = old_key::<G>(2, &simple_points::<G>(3));
    let runs = start(&key, 2, &DEALERS, &NEW, 3);
    let results = drive(runs, |m| {
        if m.from == 2 && m.round & 0xff == 1 {
            m.payload.truncate(m.payload.len() / 2);
        }
    });
    all_abort_naming(results, 2, "does not decode");
}

/// For each generic test function `f`, the tests `f::secp256k1` and `f::ed25519`.
macro_rules! on_both_groups {
    ($($f:ident),* $(,)?) => {$(
        mod $f {
            #[test]
            fn secp256k1() {
                super::$f::<super::Secp256k1>();
            }

            #[test]
            fn ed25519() {
                super::$f::<super::Ed25519>();
            }
        }
    )*};
}

on_both_groups!(
    grow_2of3_to_3of5,
    refresh_then_old_and_new_do_not_mix,
    shrink_with_arbitrary_points,
    wrong_sub_share,
    one_commitment_too_many,
    wrong_constant_term,
    equivocation,
);

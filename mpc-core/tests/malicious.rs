//! One malicious-party suite for every protocol of every engine and for the resharing
//! protocol: in each round where party 1 sends, party 1 sends a tampered, truncated,
//! swapped, replayed-from-another-session or equivocated message (see [`Behaviour`]).
//! Every run must end (no hang, no panic) with no honest party blaming an honest party,
//! no honest party finishing on data it did not get honestly, and at least one honest party
//! naming party 1, except where the protocol cannot attribute the fault: those cases are
//! listed in [`UNATTRIBUTABLE`] with the reason, and SECURITY.md lists them too.
//!
//! The cheap protocols (FROST, the DKGs, resharing) run every behaviour in every round.
//! The Paillier-heavy ones take less in a plain test run ([`Mode`]): CGGMP21 and GG20
//! presigning and signing one behaviour per round, in turn; CGGMP21 auxiliary info, GG20
//! key generation, fresh moduli after a resharing and certification a tampered first round. `MPC_MALICIOUS_FULL=1` runs the
//! whole matrix (about 6 minutes on 2 cores:
//! `MPC_MALICIOUS_FULL=1 cargo test -p mpc-core --test malicious`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;

use common::*;
use mpc_core::local::{run_each, Delivery};
use mpc_core::*;

/// The malicious party, in every case.
const ADVERSARY: PartyIndex = 1;

/// What the malicious party does to its message of the attacked round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// One hexadecimal digit of the payload changed (the message still parses as JSON: a
    /// point, scalar, ciphertext or proof value differs), for every receiver.
    Tamper,
    /// The first half of the payload only, for every receiver.
    Truncate,
    /// A direct message: the second receiver gets the payload meant for the first. A
    /// broadcast: the party's payload of its previous round in its place.
    Swap,
    /// The party's honest payload of the same round and receiver from another session.
    Replay,
    /// Tampered for the first receiver only, honest for the others.
    Equivocate,
}

const BEHAVIOURS: [Behaviour; 5] = [
    Behaviour::Tamper,
    Behaviour::Truncate,
    Behaviour::Swap,
    Behaviour::Replay,
    Behaviour::Equivocate,
];

/// Faults the protocol cannot pin on the sender: (protocol, round id, behaviours, why).
/// Each still aborts every honest party that got the bad message, without blaming an
/// honest party; whether the sender is named can depend on the random values (a tampered
/// point that is no longer on the curve is named when it is decoded).
const UNATTRIBUTABLE: &[(&str, u16, &[Behaviour], &str)] = &[
    (
        "frost-ed25519 keygen",
        0x0000,
        BAD_BROADCAST,
        ECHO_BROADCAST,
    ),
    ("frost-ed25519 keygen", 0x0004, BAD_BROADCAST, ECHO),
    (
        "frost-taproot keygen",
        0x0000,
        BAD_BROADCAST,
        ECHO_BROADCAST,
    ),
    ("frost-taproot keygen", 0x0004, BAD_BROADCAST, ECHO),
    ("cggmp21 dkg", 0x0000, BAD_BROADCAST, ECHO_BROADCAST),
    ("cggmp21 dkg", 0x0004, BAD_BROADCAST, ECHO),
    ("cggmp21 aux info", 0x0000, BAD_BROADCAST, ECHO_BROADCAST),
    ("cggmp21 aux info", 0x0003, BAD_BROADCAST, ECHO),
    ("cggmp21 presign", 0x0000, BAD_BROADCAST, ECHO_BROADCAST),
    ("cggmp21 presign", 0x0005, BAD_BROADCAST, ECHO),
    ("cggmp21 sign", 0x0000, BAD_BROADCAST, ECHO_BROADCAST),
    ("cggmp21 sign", 0x0005, BAD_BROADCAST, ECHO),
    ("cggmp21 sign", 0x0004, BAD_BROADCAST, CGGMP21_PARTIAL),
    ("reshare ed25519", 0x5202, BAD_BROADCAST, ECHO),
    ("reshare secp256k1", 0x5202, BAD_BROADCAST, ECHO),
    ("gg20 presign", 0x0003, BAD_BROADCAST, GG20_ECHO),
    ("gg20 presign", 0x0004, BAD_BROADCAST, GG20_ROUND3),
    ("gg20 sign", 0x0003, BAD_BROADCAST, GG20_ECHO),
    ("gg20 sign", 0x0004, BAD_BROADCAST, GG20_ROUND3),
];

/// A message that decodes but differs between receivers or from what the sender echoes.
const BAD_BROADCAST: &[Behaviour] = &[
    Behaviour::Tamper,
    Behaviour::Swap,
    Behaviour::Replay,
    Behaviour::Equivocate,
];

const ECHO_BROADCAST: &str = "the message goes through an echo broadcast: a receiver whose \
    echo differs from another's cannot tell a sender that equivocated from an echo that lies, \
    so it names nobody (with an honest minority, counting echoes proves nothing)";
const ECHO: &str = "this round is an echo of the previous one: a false echo and an \
    equivocating sender look the same to every receiver";
const CGGMP21_PARTIAL: &str = "cggmp21 checks the combined signature, not each partial \
    signature (its `SignatureInvalid` names nobody)";
const GG20_ECHO: &str = "round 3 carries the digest of the public round-1/2 messages each \
    party saw: a differing digest is an equivocation or a false digest";
const GG20_ROUND3: &str = "round 4 carries a digest of the round-3 values: equivocation in \
    round 3 is not attributable (SECURITY.md)";

/// A protocol under attack: `start` makes every participant's run of one fresh session,
/// in the order of `parties`.
struct Case<'a, O> {
    name: &'static str,
    parties: Vec<PartyIndex>,
    start: Box<dyn Fn(SessionId) -> Vec<BoxedProtocol<O>> + 'a>,
    /// How much of the matrix a test run covers (`MPC_MALICIOUS_FULL=1`: all of it).
    mode: Mode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every behaviour in every round.
    Every,
    /// One behaviour per round, in turn.
    Rotating,
    /// A tampered message in party 1's first round only, without an honest reference run
    /// (for protocols where one run takes tens of seconds).
    FirstRound,
}

/// What the malicious party sent in an honest run, by (round id, receiver).
type Transcript = BTreeMap<(u16, Option<PartyIndex>), Vec<u8>>;

fn honest_transcript<O>(case: &Case<'_, O>) -> Transcript {
    let mut sent = Transcript::new();
    let results = run_each((case.start)(sid("reference")), |_, m| {
        if m.from == ADVERSARY {
            sent.insert((m.round, m.to), m.payload.clone());
        }
        Delivery::Deliver
    });
    for r in results {
        r.unwrap_or_else(|e| panic!("{}: the honest run fails: {e}", case.name));
    }
    sent
}

/// Changes one hexadecimal digit: the last one of the longest run of hex digits (a point,
/// scalar, ciphertext or proof value), so the payload still parses as JSON. A payload
/// without one gets its middle byte flipped.
fn tamper(payload: &mut [u8]) {
    let (mut best, mut run) = ((0usize, 0usize), 0usize);
    for (i, b) in payload.iter().enumerate() {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run > best.1 {
            best = (i, run);
        }
    }
    if best.1 >= 8 {
        let b = &mut payload[best.0];
        *b = if *b == b'0' { b'1' } else { b'0' };
    } else if let Some(b) = payload.get_mut(payload.len() / 2) {
        *b ^= 0x01;
    }
}

/// Whether `behaviour` can be applied to round `round` of the transcript.
fn applies(t: &Transcript, round: u16, behaviour: Behaviour) -> bool {
    let receivers: Vec<_> = t.keys().filter(|(r, _)| *r == round).collect();
    let direct = receivers.iter().any(|(_, to)| to.is_some());
    match behaviour {
        Behaviour::Swap if direct => receivers.len() >= 2,
        Behaviour::Swap => t.keys().any(|(r, _)| *r < round),
        _ => true,
    }
}

/// Runs one attacked session; returns every participant's result and the receivers that
/// got a message other than the honest one.
/// `round: None` attacks party 1's first round, whichever it is; the round attacked is
/// returned too.
fn attacked<O>(
    case: &Case<'_, O>,
    reference: &Transcript,
    round: Option<u16>,
    behaviour: Behaviour,
) -> (Vec<Result<O>>, Vec<PartyIndex>, u16) {
    let first = *case.parties.iter().find(|&&p| p != ADVERSARY).unwrap();
    let mut target = round;
    let mut earlier: BTreeMap<u16, Vec<u8>> = BTreeMap::new();
    let mut held: Option<Vec<u8>> = None;
    let mut hit = Vec::new();
    let results = run_each((case.start)(sid("attacked")), |receiver, m| {
        if m.from != ADVERSARY {
            return Delivery::Deliver;
        }
        let round = *target.get_or_insert(m.round);
        if m.round != round {
            earlier.insert(m.round, m.payload.clone());
            return Delivery::Deliver;
        }
        let honest = m.payload.clone();
        match behaviour {
            Behaviour::Tamper => tamper(&mut m.payload),
            Behaviour::Truncate => m.payload.truncate(m.payload.len() / 2),
            Behaviour::Equivocate if receiver == first => tamper(&mut m.payload),
            Behaviour::Equivocate => {}
            Behaviour::Replay => m.payload = reference[&(m.round, m.to)].clone(),
            Behaviour::Swap if m.to.is_some() => match &held {
                None => held = Some(m.payload.clone()),
                Some(other) => m.payload = other.clone(),
            },
            Behaviour::Swap => {
                let (_, previous) = earlier.range(..round).next_back().unwrap();
                m.payload = previous.clone();
            }
        }
        if m.payload != honest && !hit.contains(&receiver) {
            hit.push(receiver);
        }
        Delivery::Deliver
    });
    (results, hit, target.unwrap_or_default())
}

/// Attacks every round party 1 sends in, with every behaviour (or one per round).
fn suite<O>(case: Case<'_, O>) {
    let mode = match std::env::var_os("MPC_MALICIOUS_FULL") {
        Some(_) => Mode::Every,
        None => case.mode,
    };
    if mode == Mode::FirstRound {
        let (results, hit, round) = attacked(&case, &Transcript::new(), None, Behaviour::Tamper);
        if let Err(why) = judge(&case, round, Behaviour::Tamper, &results, &hit) {
            panic!("{why}");
        }
        return;
    }
    let full = mode == Mode::Every;
    let reference = honest_transcript(&case);
    let mut rounds: Vec<u16> = reference.keys().map(|(r, _)| *r).collect();
    rounds.dedup();
    assert!(!rounds.is_empty(), "{}: party 1 sends nothing", case.name);
    let mut ran = 0;
    let mut failures = Vec::new();
    for (k, &round) in rounds.iter().enumerate() {
        let chosen: Vec<Behaviour> = if full {
            BEHAVIOURS.to_vec()
        } else {
            // One behaviour, taking turns over the rounds (the next applicable one).
            (0..BEHAVIOURS.len())
                .map(|j| BEHAVIOURS[(k + j) % BEHAVIOURS.len()])
                .find(|&b| applies(&reference, round, b))
                .into_iter()
                .collect()
        };
        for behaviour in chosen {
            if !applies(&reference, round, behaviour) {
                continue;
            }
            let (results, hit, _) = attacked(&case, &reference, Some(round), behaviour);
            if let Err(why) = judge(&case, round, behaviour, &results, &hit) {
                failures.push(why);
            }
            ran += 1;
        }
    }
    assert!(ran > 0);
    assert!(
        failures.is_empty(),
        "{} of {ran} attacks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The verdict on one attacked run (see the module docs).
fn judge<O>(
    case: &Case<'_, O>,
    round: u16,
    behaviour: Behaviour,
    results: &[Result<O>],
    hit: &[PartyIndex],
) -> Result<(), String> {
    let what = format!("{}: round {round:#06x}, {behaviour:?}", case.name);
    if hit.is_empty() {
        // The change left the message as it was (a replayed value that does not depend
        // on the session): nothing to judge but that the run went through.
        return Ok(());
    }
    let mut named = false;
    for (&party, result) in case.parties.iter().zip(results) {
        if party == ADVERSARY {
            continue;
        }
        match result {
            Ok(_) if hit.contains(&party) => {
                return Err(format!(
                    "{what}: party {party} finished on a message it did not get honestly"
                ))
            }
            Ok(_) => {}
            Err(e) => {
                let blamed = e.blamed();
                if blamed.iter().any(|&p| p != ADVERSARY) {
                    return Err(format!("{what}: party {party} blames an honest party: {e}"));
                }
                named |= blamed.contains(&ADVERSARY);
            }
        }
    }
    let excused = UNATTRIBUTABLE
        .iter()
        .find(|(name, r, bs, _)| *name == case.name && *r == round && bs.contains(&behaviour));
    match (excused, named) {
        (None, false) => Err(format!(
            "{what}: no honest party names party 1: {:?}",
            errors(results)
        )),
        _ => Ok(()),
    }
}

fn errors<O>(results: &[Result<O>]) -> Vec<String> {
    results
        .iter()
        .map(|r| match r {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string().chars().take(600).collect(),
        })
        .collect()
}

// ---- the protocols ----

fn keygen_case<S: ThresholdScheme>(
    name: &'static str,
    config: impl Fn(u16) -> S::KeygenConfig + 'static,
    mode: Mode,
) -> Case<'static, KeyShare<S::Data>> {
    Case {
        name,
        parties: vec![0, 1, 2],
        start: Box::new(move |s| {
            (0..3)
                .map(|i| {
                    S::keygen(&SessionCtx::keygen(s, S::ID, i, 3).unwrap(), 2, config(i)).unwrap()
                })
                .collect()
        }),
        mode,
    }
}

/// A run of `signers` (share indices of `shares`), each started by `run`.
fn signers_case<'a, S: ThresholdScheme, O>(
    name: &'static str,
    shares: &'a [KeyShare<S::Data>],
    signers: Vec<PartyIndex>,
    mode: Mode,
    run: impl Fn(&SessionCtx, &KeyShare<S::Data>) -> Result<BoxedProtocol<O>> + 'a,
) -> Case<'a, O> {
    let parties = signers.clone();
    Case {
        name,
        parties,
        start: Box::new(move |s| {
            signers
                .iter()
                .map(|&i| {
                    let ctx = SessionCtx::new(s, S::ID, i, &signers).unwrap();
                    run(&ctx, &shares[usize::from(i)]).unwrap()
                })
                .collect()
        }),
        mode,
    }
}

fn sign_case<'a, S: ThresholdScheme>(
    name: &'static str,
    shares: &'a [KeyShare<S::Data>],
    signers: Vec<PartyIndex>,
    request: SignRequest,
    mode: Mode,
) -> Case<'a, Signature> {
    signers_case::<S, _>(name, shares, signers, mode, move |ctx, share| {
        S::sign(ctx, share, &request)
    })
}

fn presign_case<'a, S: Presigning>(
    name: &'static str,
    shares: &'a [KeyShare<S::Data>],
    signers: Vec<PartyIndex>,
) -> Case<'a, S::Presignature> {
    signers_case::<S, _>(name, shares, signers, Mode::Rotating, |ctx, share| {
        S::presign(ctx, share, None)
    })
}

/// A refresh of `shares` (dealers 0 and 1, the same committee of three).
fn reshare_case<S: reshare::ReshareFrom>(
    name: &'static str,
    shares: &[KeyShare<S::Data>],
) -> Case<'static, reshare::ReshareOutput<S::Group>> {
    let sources: Vec<_> = shares
        .iter()
        .map(|s| S::reshare_source(s).unwrap())
        .collect();
    let setup = sources[0].setup(None, &[0, 1], &[0, 1, 2], 2).unwrap();
    Case {
        name,
        parties: setup.participants(),
        start: Box::new(move |s| {
            let all = setup.participants();
            all.iter()
                .map(|&p| {
                    let ctx = SessionCtx::new(s, S::ID, p, &all).unwrap();
                    let dealer = (p <= 1).then(|| sources[usize::from(p)].dealer_input());
                    reshare::reshare(&ctx, setup.clone(), dealer).unwrap()
                })
                .collect()
        }),
        mode: Mode::Every,
    }
}

#[test]
fn frost_ed25519_under_attack() {
    suite(keygen_case::<FrostEd25519>(
        "frost-ed25519 keygen",
        |_| (),
        Mode::Every,
    ));
    // 3-of-3, so that party 1 has two receivers.
    let shares = local::keygen::<FrostEd25519>(3, vec![(); 3]).unwrap();
    let request = SignRequest::ed25519(b"under attack".to_vec());
    suite(sign_case::<FrostEd25519>(
        "frost-ed25519 sign",
        &shares,
        vec![0, 1, 2],
        request,
        Mode::Every,
    ));
}

#[test]
fn frost_taproot_under_attack() {
    suite(keygen_case::<FrostTaproot>(
        "frost-taproot keygen",
        |_| (),
        Mode::Every,
    ));
    let shares = local::keygen::<FrostTaproot>(3, vec![(); 3]).unwrap();
    let request = SignRequest::bip340([5; 32], None);
    suite(sign_case::<FrostTaproot>(
        "frost-taproot sign",
        &shares,
        vec![0, 1, 2],
        request,
        Mode::Every,
    ));
}

#[test]
fn resharing_under_attack() {
    let ed = local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    suite(reshare_case::<FrostEd25519>("reshare ed25519", &ed));
    let tr = local::keygen::<FrostTaproot>(2, vec![(); 3]).unwrap();
    suite(reshare_case::<FrostTaproot>("reshare secp256k1", &tr));
}

#[test]
fn cggmp21_dkg_and_aux_info_under_attack() {
    // The DKG alone (an incomplete share), then the auxiliary info on its output.
    let dkg = keygen_case::<Cggmp21>(
        "cggmp21 dkg",
        |_| Cggmp21KeygenConfig { primes: None },
        Mode::Every,
    );
    suite(dkg);
    let incomplete = keygen::<Cggmp21>(3, 2, |_| Cggmp21KeygenConfig { primes: None });
    let primes = test_primes();
    suite(Case {
        name: "cggmp21 aux info",
        parties: vec![0, 1, 2],
        start: Box::new(|s| {
            incomplete
                .iter()
                .map(|share| {
                    let ctx = SessionCtx::keygen(s, Cggmp21::ID, share.index(), 3).unwrap();
                    let p = primes[usize::from(share.index())].clone();
                    Cggmp21::aux_info(&ctx, share, p).unwrap()
                })
                .collect()
        }),
        mode: Mode::FirstRound,
    });
}

#[test]
fn cggmp21_presign_and_sign_under_attack() {
    let shares = test_only_key::<Cggmp21>(2, 3);
    suite(presign_case::<Cggmp21>(
        "cggmp21 presign",
        &shares,
        vec![0, 1],
    ));
    let request = SignRequest::ecdsa([6; 32]);
    suite(sign_case::<Cggmp21>(
        "cggmp21 sign",
        &shares,
        vec![1, 2],
        request,
        Mode::Rotating,
    ));
}

#[test]
fn gg20_under_attack() {
    let primes = test_primes();
    let p = primes.clone();
    suite(keygen_case::<Gg20>(
        "gg20 keygen",
        move |i| p[usize::from(i)].clone().into(),
        Mode::FirstRound,
    ));
    let shares = test_only_key::<Gg20>(2, 3);
    suite(presign_case::<Gg20>("gg20 presign", &shares, vec![0, 1]));
    let request = SignRequest::ecdsa([7; 32]);
    suite(sign_case::<Gg20>(
        "gg20 sign",
        &shares,
        vec![1, 2],
        request,
        Mode::Rotating,
    ));
    // Fresh moduli after a refresh (the step that makes a reshared GG20 share): each
    // party's new Paillier and ring-Pedersen parameters with their proofs, then Π-fac and
    // the echo of everyone's parameters.
    let outputs = reshare_outputs::<Gg20>(
        &shares.iter().cloned().map(Some).collect::<Vec<_>>(),
        &[0, 1],
        &[0, 1, 2],
        2,
        Gg20::ID,
    );
    let fresh_primes = test_primes();
    suite(Case {
        name: "gg20 fresh moduli",
        parties: vec![0, 1, 2],
        start: Box::new(|s| {
            outputs
                .iter()
                .map(|o| {
                    let j = o.share.as_ref().unwrap().index();
                    let ctx = SessionCtx::keygen(s, Gg20::ID, j, 3).unwrap();
                    let p = fresh_primes[(usize::from(j) + 1) % fresh_primes.len()].clone();
                    Gg20::reshared(&ctx, o, p).unwrap()
                })
                .collect()
        }),
        mode: Mode::FirstRound,
    });
    // Certification of the signer set (the step after an import; every party's proofs).
    suite(Case {
        name: "gg20 certify",
        parties: vec![0, 1, 2],
        start: Box::new(|s| {
            shares
                .iter()
                .map(|share| {
                    let ctx = SessionCtx::keygen(s, Gg20::ID, share.index(), 3).unwrap();
                    Gg20::certify(&ctx, share).unwrap()
                })
                .collect()
        }),
        mode: Mode::FirstRound,
    });
}

// ---- equivocation and wrong values that still decode, aimed at one check each ----

/// Replaces a JSON payload by `edit` of it.
fn edit_json(m: &mut Message, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
    edit(&mut v);
    m.payload = serde_json::to_vec(&v).unwrap();
}

/// A 3-of-3 FROST signing of `request` where party 1's messages pass through `hook`.
fn frost_signing<C: engines::frost::FrostSuite>(
    request: SignRequest,
    mut hook: impl FnMut(PartyIndex, &mut Message),
) -> Vec<Result<Signature>> {
    let shares = local::keygen::<engines::frost::Frost<C>>(3, vec![(); 3]).unwrap();
    let s = sid("frost aimed");
    let runs = (0..3)
        .map(|i| {
            let ctx = SessionCtx::new(s, C::ID, i, &[0, 1, 2]).unwrap();
            engines::frost::Frost::<C>::sign(&ctx, &shares[usize::from(i)], &request).unwrap()
        })
        .collect();
    run_each(runs, |receiver, m| {
        if m.from == ADVERSARY {
            hook(receiver, m);
        }
        Delivery::Deliver
    })
}

/// A signature share that decodes but is wrong (the honest one plus one) is named by every
/// honest signer: the per-share check (RFC 9591, section 5.4) after the aggregate fails.
fn frost_wrong_share_is_named<C: engines::frost::FrostSuite>(request: SignRequest) {
    let results = frost_signing::<C>(request, |_, m| {
        if m.round == 0x0002 {
            edit_json(m, |v| {
                let share: givre::signing::round2::SigShare<C::Curve> =
                    serde_json::from_value(v["share"].take()).unwrap();
                let wrong =
                    givre::signing::round2::SigShare(share.0 + givre::generic_ec::Scalar::one());
                v["share"] = serde_json::to_value(wrong).unwrap();
            });
        }
    });
    for honest in [0, 2] {
        let e = results[honest]
            .as_ref()
            .expect_err("no signature from a wrong share");
        assert_eq!(e.blamed().to_vec(), vec![ADVERSARY], "{e}");
    }
}

/// Valid but different round-1 commitments to one receiver (hiding and binding swapped):
/// that receiver names party 1 (its echo states other commitments than it sent there); the
/// other cannot tell who equivocated and names nobody; nobody signs.
fn frost_equivocated_commitments_are_caught<C: engines::frost::FrostSuite>(request: SignRequest) {
    let results = frost_signing::<C>(request, |receiver, m| {
        if m.round == 0x0001 && receiver == 0 {
            edit_json(m, |v| {
                let c = &mut v["commitments"];
                let hiding = c["hiding_comm"].take();
                c["hiding_comm"] = c["binding_comm"].take();
                c["binding_comm"] = hiding;
            });
        }
    });
    let e0 = results[0]
        .as_ref()
        .expect_err("party 0 signs over other commitments");
    assert_eq!(e0.blamed().to_vec(), vec![ADVERSARY], "{e0}");
    let e2 = results[2]
        .as_ref()
        .expect_err("party 2 signs although party 0 cannot");
    assert!(e2.blamed().iter().all(|&p| p == ADVERSARY), "{e2}");
}

#[test]
fn frost_ed25519_wrong_shares_and_equivocation_are_caught() {
    type C = givre::ciphersuite::Ed25519;
    frost_wrong_share_is_named::<C>(SignRequest::ed25519(b"aimed".to_vec()));
    frost_equivocated_commitments_are_caught::<C>(SignRequest::ed25519(b"aimed".to_vec()));
}

#[test]
fn frost_taproot_wrong_shares_and_equivocation_are_caught() {
    type C = givre::ciphersuite::Bitcoin;
    frost_wrong_share_is_named::<C>(SignRequest::bip340([8; 32], Some([9; 32])));
    let mut with_path = SignRequest::bip340([8; 32], None);
    with_path.derivation_path = Some(vec![1, 2]);
    frost_wrong_share_is_named::<C>(with_path);
    frost_equivocated_commitments_are_caught::<C>(SignRequest::bip340([8; 32], None));
}

/// GG20 key generation: party 1 sends party 0 another (well-formed) round-1 commitment than
/// the others. Without the round-2 echo, parties 0 and 2 would disagree on the key; with
/// it, party 0 names party 1 and party 2 aborts too.
#[test]
fn gg20_keygen_equivocation_is_caught_by_the_echo() {
    let primes = test_primes();
    let s = sid("gg20 keygen equivocation");
    let runs = (0..3)
        .map(|i| {
            let ctx = SessionCtx::keygen(s, Gg20::ID, i, 3).unwrap();
            Gg20::keygen(&ctx, 2, primes[usize::from(i)].clone().into()).unwrap()
        })
        .collect();
    let results = run_each(runs, |receiver, m| {
        if m.from == ADVERSARY && m.round == 0x0001 && receiver == 0 {
            edit_json(m, |v| {
                let b = v["commitment"][0].as_u64().unwrap();
                v["commitment"][0] = ((b + 1) % 256).into();
            });
        }
        Delivery::Deliver
    });
    let e0 = results[0].as_ref().expect_err("party 0 ends with a key");
    assert_eq!(e0.blamed().to_vec(), vec![ADVERSARY], "{e0}");
    let e2 = results[2]
        .as_ref()
        .expect_err("party 2 ends with another key than party 0");
    assert!(e2.blamed().iter().all(|&p| p == ADVERSARY), "{e2}");
}

//! Malicious-party tests: each misbehaviour ends in an abort that names the party.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;

use cggmp21::paillier_zk::rug::Integer;
use rand_core::OsRng;

use super::certify::CertifyMsg;
use super::presign::{Faults, Out, R3};
use super::*;
use crate::import::TssLibKey;
use crate::local::run_local;
use crate::protocol::{Message, Protocol, Step};
use crate::seen::MessageHash;
use crate::{Error, SignRequest};

type Hook = Box<dyn FnMut(&mut Message)>;

/// Applies `hook` to every message the wrapped run sends.
struct Tamper<O> {
    inner: BoxedProtocol<O>,
    hook: Hook,
}

impl<O> Protocol for Tamper<O> {
    type Output = O;
    fn ctx(&self) -> &SessionCtx {
        self.inner.ctx()
    }
    fn proceed(&mut self) -> Result<Step<O>> {
        match self.inner.proceed()? {
            Step::Send(mut m) => {
                (self.hook)(&mut m);
                Ok(Step::Send(m))
            }
            other => Ok(other),
        }
    }
    fn receive(&mut self, msg: Message) -> Result<()> {
        self.inner.receive(msg)
    }
}

fn tamper<O: 'static>(
    inner: BoxedProtocol<O>,
    hook: impl FnMut(&mut Message) + 'static,
) -> BoxedProtocol<O> {
    Box::new(Tamper {
        inner,
        hook: Box::new(hook),
    })
}

fn sid() -> SessionId {
    SessionId::random(&mut OsRng)
}

/// The tss-lib fixture files, compiled in (this crate does no file I/O, tests included).
const FIXTURES: [&[u8]; 5] = [
    include_bytes!("../../../../test-vectors/tss-lib/ecdsa/keygen_data_0.json"),
    include_bytes!("../../../../test-vectors/tss-lib/ecdsa/keygen_data_1.json"),
    include_bytes!("../../../../test-vectors/tss-lib/ecdsa/keygen_data_2.json"),
    include_bytes!("../../../../test-vectors/tss-lib/ecdsa/keygen_data_3.json"),
    include_bytes!("../../../../test-vectors/tss-lib/ecdsa/keygen_data_4.json"),
];

fn imported() -> Vec<Gg20Share> {
    FIXTURES
        .iter()
        .map(|bytes| TssLibKey::from_json(bytes).unwrap().to_gg20().unwrap())
        .collect()
}

const SET: [u16; 3] = [0, 1, 2];

/// The fixture shares, certified once among parties 0, 1, 2.
fn certified() -> &'static Vec<Gg20Share> {
    static SHARES: OnceLock<Vec<Gg20Share>> = OnceLock::new();
    SHARES.get_or_init(|| {
        let shares = imported();
        let s = sid();
        let runs = SET
            .iter()
            .map(|&i| {
                Gg20::certify(
                    &SessionCtx::new(s, SchemeId::Gg20Secp256k1, i, &SET).unwrap(),
                    &shares[usize::from(i)],
                )
                .unwrap()
            })
            .collect();
        run_local(runs).unwrap()
    })
}

fn assert_blames<T>(r: Result<T>, party: PartyIndex, words: &str) {
    match r {
        Err(Error::Aborted { culprits, reason }) => {
            assert_eq!(culprits, vec![party], "{reason}");
            assert!(reason.contains(words), "expected {words:?} in {reason:?}");
        }
        Err(e) => panic!("expected an abort naming party {party}, got {e}"),
        Ok(_) => panic!("expected an abort naming party {party}, the run succeeded"),
    }
}

/// A certification run of SET where `bad`'s outgoing messages pass through `hook`.
fn certify_with(
    shares: &[Gg20Share],
    bad: PartyIndex,
    hook: impl FnMut(&mut Message) + Clone + 'static,
) -> Result<Vec<Gg20Share>> {
    let s = sid();
    let runs = SET
        .iter()
        .map(|&i| {
            let run = Gg20::certify(
                &SessionCtx::new(s, SchemeId::Gg20Secp256k1, i, &SET).unwrap(),
                &shares[usize::from(i)],
            )
            .unwrap();
            if i == bad {
                tamper(run, hook.clone())
            } else {
                run
            }
        })
        .collect();
    run_local(runs)
}

fn edit_certify(m: &mut Message, f: impl FnOnce(&mut CertifyMsg)) {
    let mut msg: CertifyMsg = serde_json::from_slice(&m.payload).unwrap();
    f(&mut msg);
    m.payload = serde_json::to_vec(&msg).unwrap();
}

#[test]
fn bitforge_small_factor_modulus_is_refused() {
    // Party 2's Paillier modulus N = f · q (q a ~2040-bit prime, both ≡ 3 mod 4): a
    // Paillier–Blum modulus with a small factor (BitForge). A factor below 2^16 is caught by
    // Π-mod's trial division; a 200-bit one passes Π-mod and is caught by Π-fac.
    let mut rng = OsRng;
    let mut rand = cggmp21::paillier_zk::fast_paillier::utils::external_rand(&mut rng);
    let mut blum = |bits: u32| loop {
        let mut r = Integer::from(Integer::random_bits(bits, &mut rand));
        r.set_bit(bits - 1, true);
        let p = r.next_prime();
        if p.mod_u(4) == 3 {
            break p;
        }
    };
    let big = blum(2040);
    for (small, words) in [
        (
            Integer::from(7919u32),
            "Π-mod proof for N is invalid: N has a prime factor below 2^16",
        ),
        (blum(200), "Π-fac proof for N is invalid"),
    ] {
        let weak = Integer::from(&small * &big);
        let shares: Vec<Gg20Share> = imported()
            .iter()
            .map(|s| {
                let d = s.data();
                let mut params = d.params.clone();
                params[2].n = BigHex(weak.clone());
                let mut own = d.own.clone();
                if s.index() == 2 {
                    own.p = BigHex(small.clone());
                    own.q = BigHex(big.clone());
                }
                Gg20::from_parts(
                    s.index(),
                    s.threshold(),
                    d.x.clone(),
                    d.share_ids.clone(),
                    d.public_shares.clone(),
                    d.public_key,
                    own,
                    params,
                )
                .unwrap()
            })
            .collect();
        assert_blames(certify_with(&shares, 2, |_| {}), 2, words);
    }
}

#[test]
fn pi_mod_with_gcd_w_n_not_one_is_refused() {
    let shares = imported();
    let p2 = shares[2].data().own.p.0.clone();
    assert_blames(
        certify_with(&shares, 2, move |m| {
            edit_certify(m, |c| c.public.mod_n.w = data::BigHex(p2.clone()))
        }),
        2,
        "Π-mod proof for N",
    );
}

#[test]
fn h1_equal_to_h2_is_refused() {
    let shares = imported();
    assert_blames(
        certify_with(&shares, 2, |m| {
            edit_certify(m, |c| c.public.params.h2 = c.public.params.h1.clone())
        }),
        2,
        "h1 = h2",
    );
}

#[test]
fn moduli_other_than_the_imported_ones_are_refused() {
    // Party 1 proves honestly, but about parameters the others' key shares do not hold for it.
    let shares = imported();
    let other = shares[0].data().params[0].clone();
    let own0 = shares[0].data().own.clone();
    let mut swapped: Vec<Gg20Share> = shares.clone();
    let d1 = shares[1].data();
    let mut params = d1.params.clone();
    params[1] = other;
    swapped[1] = Gg20::from_parts(
        1,
        3,
        d1.x.clone(),
        d1.share_ids.clone(),
        d1.public_shares.clone(),
        d1.public_key,
        own0,
        params,
    )
    .unwrap();
    assert_blames(certify_with(&swapped, 1, |_| {}), 1, "differ");
}

fn presign_runs(
    shares: &[Gg20Share],
    s: SessionId,
    faults: impl Fn(u16) -> Faults,
) -> Vec<BoxedProtocol<Out>> {
    runs_for(shares, s, Some([9; 32]), faults)
}

/// Presigning runs of SET: signing `prehash`, or presign-only when it is None.
fn runs_for(
    shares: &[Gg20Share],
    s: SessionId,
    prehash: Option<[u8; 32]>,
    faults: impl Fn(u16) -> Faults,
) -> Vec<BoxedProtocol<Out>> {
    let purpose = if prehash.is_some() { "sign" } else { "presign" };
    SET.iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, SchemeId::Gg20Secp256k1, i, &SET).unwrap();
            let run = presign_run(&ctx, &shares[usize::from(i)], prehash, purpose, faults(i));
            Box::new(run.unwrap()) as BoxedProtocol<Out>
        })
        .collect()
}

#[test]
fn honest_signing_with_certified_fixture_shares() {
    let out = run_local(presign_runs(certified(), sid(), |_| Faults::default())).unwrap();
    let Out::Signature(sig) = &out[0] else {
        panic!("no signature")
    };
    let secp = secp256k1::Secp256k1::verification_only();
    let Signature::Ecdsa(e) = sig else { panic!() };
    let key = secp256k1::PublicKey::from_slice(certified()[0].public_key().as_bytes()).unwrap();
    let s = secp256k1::ecdsa::Signature::from_compact(&e.to_bytes()).unwrap();
    secp.verify_ecdsa(&secp256k1::Message::from_digest([9; 32]), &s, &key)
        .unwrap();
}

#[test]
fn out_of_range_mta_response_is_refused() {
    let huge = Integer::from(1u8) << (zk::ELL_PRIME + zk::EPSILON + 8) as u32;
    let runs = presign_runs(certified(), sid(), |i| Faults {
        mta_y: (i == 1).then(|| huge.clone()),
        ..Faults::default()
    });
    assert_blames(run_local(runs), 1, "range");
}

fn edit_r3(m: &mut Message, f: impl FnOnce(&mut R3)) {
    if m.round == 3 {
        let mut r3: R3 = serde_json::from_slice(&m.payload).unwrap();
        f(&mut r3);
        m.payload = serde_json::to_vec(&r3).unwrap();
    }
}

fn runs_with_bad(
    bad: PartyIndex,
    hook: impl FnMut(&mut Message) + Clone + 'static,
) -> Vec<BoxedProtocol<Out>> {
    presign_runs(certified(), sid(), |_| Faults::default())
        .into_iter()
        .zip(SET)
        .map(|(r, i)| if i == bad { tamper(r, hook.clone()) } else { r })
        .collect()
}

/// A presigning run of SET where party `bad` commits `fault`, in presign-only mode
/// (`prehash` None) or signing mode.
fn faulty_run(
    bad: PartyIndex,
    prehash: Option<[u8; 32]>,
    fault: impl Fn() -> Faults,
) -> Result<Vec<Out>> {
    run_local(runs_for(certified(), sid(), prehash, |i| {
        if i == bad {
            fault()
        } else {
            Faults::default()
        }
    }))
}

#[test]
fn wrong_delta_share_is_refused() {
    let fault = || Faults {
        delta_offset: Some(cggmp21::generic_ec::Scalar::one()),
        ..Faults::default()
    };
    assert_blames(faulty_run(1, Some([9; 32]), fault), 1, "δ_i");
    assert_blames(faulty_run(1, None, fault), 1, "δ_i");
}

#[test]
fn wrong_sigma_share_is_refused() {
    let fault = || Faults {
        sigma_offset: Some(Point::generator().to_point()),
        ..Faults::default()
    };
    assert_blames(faulty_run(2, Some([9; 32]), fault), 2, "σ_i");
    assert_blames(faulty_run(2, None, fault), 2, "σ_i");
}

#[test]
fn wrong_delta_share_then_refusing_to_identify_is_named() {
    let fault = || Faults {
        delta_offset: Some(cggmp21::generic_ec::Scalar::one()),
        refuse_identification: true,
        ..Faults::default()
    };
    assert_blames(faulty_run(0, Some([9; 32]), fault), 0, "did not prove");
}

#[test]
fn round3_values_sent_differently_to_different_parties_abort() {
    // Party 1 tells party 2 a different δ_1 than it told party 0 (and holds itself).
    let runs = runs_with_bad(1, |m| {
        if m.to == Some(2) {
            edit_r3(m, |r| r.public.delta += cggmp21::generic_ec::Scalar::one())
        }
    });
    match run_local(runs) {
        Err(Error::Aborted { culprits, reason }) => {
            assert!(culprits.is_empty(), "{reason}");
            assert!(reason.contains("different round-3 values"), "{reason}");
        }
        other => panic!("expected an abort, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn replayed_proof_from_another_session_is_refused() {
    // Session A: record party 1's round-1 message (K_1 with its Π-enc proof) to party 0.
    let seen: Rc<RefCell<Option<Vec<u8>>>> = Rc::default();
    let rec = Rc::clone(&seen);
    let runs: Vec<_> = presign_runs(certified(), sid(), |_| Faults::default())
        .into_iter()
        .zip(SET)
        .map(|(r, i)| {
            let rec = Rc::clone(&rec);
            if i == 1 {
                tamper(r, move |m| {
                    if m.round == 1 && m.to == Some(0) {
                        *rec.borrow_mut() = Some(m.payload.clone());
                    }
                })
            } else {
                r
            }
        })
        .collect();
    run_local(runs).unwrap();
    let old = seen.borrow().clone().unwrap();
    // Session B: party 1 sends party 0 the old, self-consistent message again.
    let runs = runs_with_bad(1, move |m| {
        if m.round == 1 && m.to == Some(0) {
            m.payload = old.clone();
        }
    });
    assert_blames(run_local(runs), 1, "Π-enc");
}

#[test]
fn replayed_proof_from_another_party_is_refused() {
    // Party 2 forwards party 1's round-1 message to party 0 as its own.
    let copied: Rc<RefCell<Option<Vec<u8>>>> = Rc::default();
    let (w, r) = (Rc::clone(&copied), Rc::clone(&copied));
    let runs: Vec<_> = presign_runs(certified(), sid(), |_| Faults::default())
        .into_iter()
        .zip(SET)
        .map(|(run, i)| match i {
            1 => {
                let w = Rc::clone(&w);
                tamper(run, move |m| {
                    if m.round == 1 && m.to == Some(0) {
                        *w.borrow_mut() = Some(m.payload.clone());
                    }
                })
            }
            2 => {
                let r = Rc::clone(&r);
                tamper(run, move |m| {
                    if m.round == 1 && m.to == Some(0) {
                        if let Some(p) = r.borrow().clone() {
                            m.payload = p;
                        }
                    }
                })
            }
            _ => run,
        })
        .collect();
    // Depending on the two moduli, K_1 is either no ciphertext under N_2 or fails Π-enc.
    assert_blames(run_local(runs), 2, "K is");
}

#[test]
fn wrong_partial_signature_names_its_signer() {
    let s = sid();
    let runs = SET
        .iter()
        .map(|&i| {
            Gg20::presign(
                &SessionCtx::new(s, SchemeId::Gg20Secp256k1, i, &SET).unwrap(),
                &certified()[usize::from(i)],
                None,
            )
            .unwrap()
        })
        .collect();
    let presigs = run_local(runs).unwrap();
    let seen = SeenRequest::hash_message(MessageHash::Sha256, b"gg20 partials");
    let req = seen.request().clone();
    let mut partials: Vec<Gg20Partial> = presigs
        .into_iter()
        .map(|p| Gg20::partial_sign(p, &seen).unwrap())
        .collect();
    let pk = certified()[0].public_key();
    let good = Gg20::combine(&pk, &req, &partials).unwrap();
    assert!(matches!(good, Signature::Ecdsa(_)));
    partials[1].s += cggmp21::generic_ec::Scalar::one();
    match Gg20::combine(&pk, &req, &partials) {
        Err(Error::InvalidSignature { culprits }) => assert_eq!(culprits, vec![1]),
        other => panic!("expected InvalidSignature naming party 1, got {other:?}"),
    }
}

#[test]
fn signing_needs_certified_signers() {
    let shares = imported();
    let ctx = SessionCtx::new(sid(), SchemeId::Gg20Secp256k1, 0, &SET).unwrap();
    let err = Gg20::sign(&ctx, &shares[0], &SignRequest::ecdsa([1; 32]))
        .err()
        .unwrap();
    assert!(err.to_string().contains("[0, 1, 2]"), "{err}");
    // Certified for {0,1,2} is not certified for {0,1,3}.
    let ctx = SessionCtx::new(sid(), SchemeId::Gg20Secp256k1, 0, &[0, 1, 3]).unwrap();
    let err = Gg20::sign(&ctx, &certified()[0], &SignRequest::ecdsa([1; 32]))
        .err()
        .unwrap();
    assert!(err.to_string().contains("[3]"), "{err}");
}

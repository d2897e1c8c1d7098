//! Arbitrary bytes as a protocol message from a peer, offered through `Protocol::receive`
//! to a run of every engine and phase: key generation (CGGMP21, FROST Ed25519, FROST
//! Taproot, GG20), signing (all four), presigning (CGGMP21, GG20) and resharing. The run
//! must refuse the message or go on, with an error and never a panic.
//!
//! Input: byte 0 picks the run, bytes 1-2 are the round id (big-endian), byte 3 bit 0 makes
//! it point-to-point, the rest is the payload.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mpc_core::reshare::{reshare, ReshareFrom};
use mpc_core::*;

/// TEST-ONLY Paillier primes from the repository (public, never for real keys).
const TEST_ONLY_PRIMES: &[u8] = include_bytes!("../../test-vectors/test-only-paillier-primes.json");

/// TEST-ONLY 2-of-3 key shares from the repository (every secret in them published), so the
/// target starts in a second instead of running CGGMP21 and GG20 key generation.
const TEST_ONLY_CGGMP21: [&[u8]; 3] = [
    include_bytes!("../../test-vectors/test-only-shares/cggmp21-2of3/party-0.json"),
    include_bytes!("../../test-vectors/test-only-shares/cggmp21-2of3/party-1.json"),
    include_bytes!("../../test-vectors/test-only-shares/cggmp21-2of3/party-2.json"),
];
const TEST_ONLY_GG20: [&[u8]; 3] = [
    include_bytes!("../../test-vectors/test-only-shares/gg20-2of3/party-0.json"),
    include_bytes!("../../test-vectors/test-only-shares/gg20-2of3/party-1.json"),
    include_bytes!("../../test-vectors/test-only-shares/gg20-2of3/party-2.json"),
];

struct Keys {
    primes: Vec<PaillierPrimes>,
    ed: Vec<KeyShare<<FrostEd25519 as ThresholdScheme>::Data>>,
    tr: Vec<KeyShare<<FrostTaproot as ThresholdScheme>::Data>>,
    cg: Vec<Cggmp21Share>,
    gg: Vec<Gg20Share>,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| Keys {
        ed: local::keygen::<FrostEd25519>(2, vec![(); 3]).expect("keygen"),
        tr: local::keygen::<FrostTaproot>(2, vec![(); 3]).expect("keygen"),
        cg: load(&TEST_ONLY_CGGMP21, SchemeId::Cggmp21Secp256k1),
        gg: load(&TEST_ONLY_GG20, SchemeId::Gg20Secp256k1),
        primes: PaillierPrimes::list_from_json(TEST_ONLY_PRIMES).expect("fixture primes"),
    })
}

fn load<D: share::EngineData>(files: &[&[u8]], scheme: SchemeId) -> Vec<KeyShare<D>> {
    files
        .iter()
        .map(|b| KeyShare::from_json(b, scheme).expect("test-only share"))
        .collect()
}

fn sid() -> SessionId {
    SessionId::from_label("fuzz")
}

/// Party 0's run, chosen by `which`.
fn run(which: u8) -> Result<BoxedProtocol<()>> {
    let k = keys();
    let keygen = |s: SchemeId| SessionCtx::keygen(sid(), s, 0, 3);
    let signing = |s: SchemeId| SessionCtx::new(sid(), s, 0, &[0, 1]);
    let ecdsa = SignRequest::ecdsa([7; 32]);
    Ok(match which % 12 {
        0 => done(FrostEd25519::keygen(
            &keygen(SchemeId::FrostEd25519)?,
            2,
            (),
        )?),
        1 => done(FrostTaproot::keygen(
            &keygen(SchemeId::FrostSecp256k1Tr)?,
            2,
            (),
        )?),
        2 => done(Cggmp21::keygen(
            &keygen(SchemeId::Cggmp21Secp256k1)?,
            2,
            Cggmp21KeygenConfig { primes: None },
        )?),
        3 => done(Gg20::keygen(
            &keygen(SchemeId::Gg20Secp256k1)?,
            2,
            k.primes
                .first()
                .cloned()
                .ok_or(Error::Misuse("no primes"))?
                .into(),
        )?),
        4 => done(FrostEd25519::sign(
            &signing(SchemeId::FrostEd25519)?,
            first(&k.ed)?,
            &SignRequest::ed25519(b"fuzz".to_vec()),
        )?),
        5 => done(FrostTaproot::sign(
            &signing(SchemeId::FrostSecp256k1Tr)?,
            first(&k.tr)?,
            &SignRequest::bip340([7; 32].to_vec(), None),
        )?),
        6 => done(Cggmp21::sign(
            &signing(SchemeId::Cggmp21Secp256k1)?,
            first(&k.cg)?,
            &ecdsa,
        )?),
        7 => done(Gg20::sign(
            &signing(SchemeId::Gg20Secp256k1)?,
            first(&k.gg)?,
            &ecdsa,
        )?),
        8 => done(Cggmp21::presign(
            &signing(SchemeId::Cggmp21Secp256k1)?,
            first(&k.cg)?,
            None,
        )?),
        9 => done(Gg20::presign(
            &signing(SchemeId::Gg20Secp256k1)?,
            first(&k.gg)?,
            None,
        )?),
        10 => {
            // Party 0 deals to the new committee {0, 1, 2, 3} with threshold 3.
            let source = FrostEd25519::reshare_source(first(&k.ed)?)?;
            let setup = source.setup(None, &[0, 1], &[0, 1, 2, 3], 3)?;
            let ctx = SessionCtx::new(sid(), SchemeId::FrostEd25519, 0, &setup.participants())?;
            done(reshare(&ctx, setup, Some(source.dealer_input()))?)
        }
        _ => {
            let source = Cggmp21::reshare_source(first(&k.cg)?)?;
            let setup = source.setup(None, &[0, 1], &[0, 1, 2, 3], 3)?;
            let ctx = SessionCtx::new(sid(), SchemeId::Cggmp21Secp256k1, 0, &setup.participants())?;
            done(reshare(&ctx, setup, Some(source.dealer_input()))?)
        }
    })
}

fn first<T>(v: &[T]) -> Result<&T> {
    v.first().ok_or(Error::Misuse("no share"))
}

/// Forgets a run's output type.
fn done<O: 'static>(run: BoxedProtocol<O>) -> BoxedProtocol<()> {
    struct Unit<O>(BoxedProtocol<O>);
    impl<O> Protocol for Unit<O> {
        type Output = ();
        fn ctx(&self) -> &SessionCtx {
            self.0.ctx()
        }
        fn proceed(&mut self) -> Result<Step<()>> {
            Ok(match self.0.proceed()? {
                Step::Send(m) => Step::Send(m),
                Step::NeedMessage => Step::NeedMessage,
                Step::Done(_) => Step::Done(()),
            })
        }
        fn receive(&mut self, msg: Message) -> Result<()> {
            self.0.receive(msg)
        }
    }
    Box::new(Unit(run))
}

/// Proceeds until the run waits, ends or fails.
fn settle(run: &mut BoxedProtocol<()>) -> Result<()> {
    loop {
        match run.proceed()? {
            Step::Send(_) => {}
            Step::NeedMessage | Step::Done(()) => return Ok(()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [which, r0, r1, flags, payload @ ..] = data else {
        return;
    };
    let Ok(mut run) = run(*which) else {
        return;
    };
    if settle(&mut run).is_err() {
        return;
    }
    let msg = Message {
        session: sid(),
        round: u16::from_be_bytes([*r0, *r1]),
        from: 1,
        to: (flags & 1 == 1).then_some(0),
        payload: payload.to_vec(),
    };
    if run.receive(msg).is_ok() {
        let _ = settle(&mut run);
    }
});

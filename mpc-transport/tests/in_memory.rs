//! Every engine runs over the in-memory transport with the async driver; frames from
//! another session, a wrong sender, duplicates, oversized and truncated frames are rejected
//! with an error while the run completes; missing parties end in a bounded timeout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use mpc_core::*;
use mpc_transport::*;

mod common;
use common::test_primes;

fn sid() -> SessionId {
    SessionId::random(&mut rand_core::OsRng)
}

fn opts() -> DriveOptions {
    DriveOptions {
        round_timeout: Duration::from_secs(120),
        ..Default::default()
    }
}

fn keygen<S: ThresholdScheme + 'static>(
    n: u16,
    t: u16,
    config: impl Fn(u16) -> S::KeygenConfig,
) -> Vec<KeyShare<S::Data>>
where
    S::KeygenConfig: Send + 'static,
    KeyShare<S::Data>: Send,
{
    let s = sid();
    let jobs: Vec<(u16, PartyJob<KeyShare<S::Data>>)> = (0..n)
        .map(|i| {
            let cfg = config(i);
            let job: PartyJob<KeyShare<S::Data>> =
                Box::new(move || S::keygen(&SessionCtx::keygen(s, S::ID, i, n)?, t, cfg));
            (i, job)
        })
        .collect();
    run_parties(n, jobs, InMemoryNetwork::default(), &opts())
        .into_iter()
        .map(|r| r.unwrap().0)
        .collect()
}

fn sign<S: ThresholdScheme + 'static>(
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    req: &SignRequest,
) -> Vec<PartyOutcome<Signature>>
where
    KeyShare<S::Data>: Send,
{
    let s = sid();
    let n = shares[0].parties();
    let jobs = signers
        .iter()
        .map(|&i| {
            let share = shares[usize::from(i)].clone();
            let req = req.clone();
            let signers = signers.to_vec();
            let job: PartyJob<Signature> =
                Box::new(move || S::sign(&SessionCtx::new(s, S::ID, i, &signers)?, &share, &req));
            (i, job)
        })
        .collect();
    run_parties(n, jobs, InMemoryNetwork::default(), &opts())
}

#[test]
fn frost_ed25519_over_in_memory_transport() {
    let shares = keygen::<FrostEd25519>(3, 2, |_| ());
    let out = sign::<FrostEd25519>(
        &shares,
        &[0, 2],
        &SignRequest::ed25519(b"over the wire".to_vec()),
    );
    let PublicKey::Ed25519(pk) = shares[0].public_key() else {
        panic!()
    };
    for r in out {
        let (sig, report) = r.unwrap();
        assert!(report.rejected.is_empty());
        let Signature::Ed25519 { bytes } = sig else {
            panic!()
        };
        ed25519_dalek::VerifyingKey::from_bytes(&pk)
            .unwrap()
            .verify_strict(
                b"over the wire",
                &ed25519_dalek::Signature::from_bytes(&bytes),
            )
            .unwrap();
    }
}

#[test]
fn frost_taproot_over_in_memory_transport() {
    let shares = keygen::<FrostTaproot>(3, 2, |_| ());
    let msg = [5u8; 32];
    let out = sign::<FrostTaproot>(&shares, &[1, 2], &SignRequest::bip340(msg.to_vec(), None));
    let (sig, _) = out.into_iter().next().unwrap().unwrap();
    let Signature::Bip340 { bytes } = sig else {
        panic!()
    };
    let (q, _) = shares[0].public_key().taproot_output_key(None).unwrap();
    let secp = secp256k1::Secp256k1::verification_only();
    secp.verify_schnorr(
        &secp256k1::schnorr::Signature::from_slice(&bytes).unwrap(),
        &secp256k1::Message::from_digest(msg),
        &secp256k1::XOnlyPublicKey::from_slice(&q).unwrap(),
    )
    .unwrap();
}

#[test]
fn cggmp21_keygen_aux_and_sign_over_in_memory_transport() {
    let primes = test_primes();
    let shares = keygen::<Cggmp21>(3, 2, |i| Cggmp21KeygenConfig {
        primes: Some(primes[usize::from(i)].clone()),
    });
    let prehash = [0x11u8; 32];
    let out = sign::<Cggmp21>(&shares, &[0, 1], &SignRequest::ecdsa(prehash));
    let (sig, _) = out.into_iter().next().unwrap().unwrap();
    let Signature::Ecdsa(e) = sig else { panic!() };
    let secp = secp256k1::Secp256k1::verification_only();
    secp.verify_ecdsa(
        &secp256k1::Message::from_digest(prehash),
        &secp256k1::ecdsa::Signature::from_compact(&e.to_bytes()).unwrap(),
        &secp256k1::PublicKey::from_slice(shares[0].public_key().as_bytes()).unwrap(),
    )
    .unwrap();
}

/// A transport that sends every frame twice (a replaying network).
struct Duplicating(InMemoryTransport);

impl Transport for Duplicating {
    fn local(&self) -> PartyIndex {
        self.0.local()
    }
    fn max_frame(&self) -> usize {
        self.0.max_frame()
    }
    async fn send(&mut self, to: PartyIndex, frame: Vec<u8>) -> Result<(), TransportError> {
        self.0.send(to, frame.clone()).await?;
        self.0.send(to, frame).await
    }
    async fn recv(&mut self) -> Result<(PartyIndex, Vec<u8>), TransportError> {
        self.0.recv().await
    }
}

fn frost_keys() -> Vec<KeyShare<mpc_core::engines::frost::FrostData<givre::ciphersuite::Ed25519>>> {
    let s = sid();
    let runs = (0..3)
        .map(|i| {
            FrostEd25519::keygen(
                &SessionCtx::keygen(s, SchemeId::FrostEd25519, i, 3).unwrap(),
                2,
                (),
            )
            .unwrap()
        })
        .collect();
    mpc_core::local::run_local(runs).unwrap()
}

#[tokio::test]
async fn bad_frames_are_rejected_and_the_run_completes() {
    let shares = frost_keys();
    let net = InMemoryNetwork {
        capacity: 64,
        max_frame: 64 * 1024,
    };
    let mut ends = net.connect(3).into_iter();
    let (mut t0, t1, mut attacker) = (
        ends.next().unwrap(),
        ends.next().unwrap(),
        ends.next().unwrap(),
    );
    let session = sid();
    let req = SignRequest::ed25519(b"under attack".to_vec());

    // A genuine-looking round-1 message of party 1, used as a template by the attacker.
    let template = {
        let ctx = SessionCtx::new(session, SchemeId::FrostEd25519, 1, &[0, 1]).unwrap();
        let mut run = FrostEd25519::sign(&ctx, &shares[1], &req).unwrap();
        match run.proceed().unwrap() {
            Step::Send(m) => m,
            other => panic!("{other:?}"),
        }
    };
    let frame = |m: Message| {
        Envelope {
            scheme: SchemeId::FrostEd25519,
            message: m,
        }
        .encode(net.max_frame)
        .unwrap()
    };
    // 1. Claims to be party 1, but the transport knows it is party 2.
    attacker.send(0, frame(template.clone())).await.unwrap();
    // 2. Its own identity, another session.
    let mut m = template.clone();
    m.from = 2;
    m.session = sid();
    attacker.send(0, frame(m)).await.unwrap();
    // 3. Its own identity, right session, but not a signer.
    let mut m = template.clone();
    m.from = 2;
    attacker.send(0, frame(m)).await.unwrap();
    // 4. A header announcing a payload far over the cap (refused before allocating).
    let mut big = frame(Message {
        from: 2,
        ..template.clone()
    });
    big[41..45].copy_from_slice(&u32::MAX.to_be_bytes());
    attacker.send(0, big).await.unwrap();
    // 5. A truncated frame.
    attacker
        .send(
            0,
            frame(Message {
                from: 2,
                ..template.clone()
            })[..30]
                .to_vec(),
        )
        .await
        .unwrap();
    // 6. A frame over the cap cannot even be sent.
    assert!(matches!(
        attacker.send(0, vec![0; net.max_frame + 1]).await,
        Err(TransportError::FrameTooLarge { .. })
    ));

    // Party 1 runs honestly but over a network that replays every frame.
    let share1 = shares[1].clone();
    let req1 = req.clone();
    let p1 = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let ctx = SessionCtx::new(session, SchemeId::FrostEd25519, 1, &[0, 1]).unwrap();
        let run = FrostEd25519::sign(&ctx, &share1, &req1).unwrap();
        let mut t = Duplicating(t1);
        rt.block_on(drive(run, &mut t, &opts())).map(|(s, _)| s)
    });
    let ctx = SessionCtx::new(session, SchemeId::FrostEd25519, 0, &[0, 1]).unwrap();
    let run = FrostEd25519::sign(&ctx, &shares[0], &req).unwrap();
    let (sig, report) = drive(run, &mut t0, &opts()).await.unwrap();
    assert_eq!(p1.join().unwrap().unwrap(), sig);

    let r = &report.rejected;
    let has = |f: &dyn Fn(&TransportError) -> bool| r.iter().any(f);
    assert!(
        has(&|e| matches!(
            e,
            TransportError::WrongSender {
                claimed: 1,
                authenticated: 2
            }
        )),
        "{r:?}"
    );
    assert!(
        has(&|e| matches!(e, TransportError::WrongSession { from: 2 })),
        "{r:?}"
    );
    assert!(
        has(&|e| matches!(e, TransportError::Core(Error::UnexpectedSender { from: 2 }))),
        "{r:?}"
    );
    assert!(
        has(&|e| matches!(e, TransportError::FrameTooLarge { .. })),
        "{r:?}"
    );
    assert!(has(&|e| matches!(e, TransportError::Truncated(_))), "{r:?}");
    assert!(
        has(&|e| matches!(
            e,
            TransportError::Core(Error::DuplicateMessage { from: 1, .. })
        )),
        "{r:?}"
    );
    let PublicKey::Ed25519(pk) = shares[0].public_key() else {
        panic!()
    };
    let Signature::Ed25519 { bytes } = sig else {
        panic!()
    };
    ed25519_dalek::VerifyingKey::from_bytes(&pk)
        .unwrap()
        .verify_strict(
            b"under attack",
            &ed25519_dalek::Signature::from_bytes(&bytes),
        )
        .unwrap();
}

#[tokio::test]
async fn a_missing_signer_ends_in_a_bounded_timeout_naming_it() {
    let shares = frost_keys();
    let mut ends = InMemoryNetwork::default().connect(3).into_iter();
    let mut t0 = ends.next().unwrap();
    let _t1_silent = ends.next().unwrap();
    let ctx = SessionCtx::new(sid(), SchemeId::FrostEd25519, 0, &[0, 1]).unwrap();
    let run = FrostEd25519::sign(&ctx, &shares[0], &SignRequest::ed25519(b"m".to_vec())).unwrap();
    let opts = DriveOptions {
        round_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let err = drive(run, &mut t0, &opts).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(err, TransportError::Timeout { ref waiting_for, .. } if waiting_for == &[1]),
        "{err}"
    );
}

#[test]
fn fewer_than_t_signers_is_an_error_not_a_signature() {
    let shares = frost_keys();
    let out = sign::<FrostEd25519>(&shares, &[2], &SignRequest::ed25519(b"m".to_vec()));
    assert_eq!(out.len(), 1);
    let err = out.into_iter().next().unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            TransportError::Core(Error::WrongSignerCount { needed: 2, got: 1 })
        ),
        "{err}"
    );
}

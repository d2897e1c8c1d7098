//! Parties through a real NATS broker (a `nats-server -js` process started for each test,
//! on a free loopback port): every engine signs; a subscriber to every subject sees only
//! sealed envelopes (no plaintext frame, not even a session id); an envelope the broker
//! replays, re-addresses, alters or claims for another sender is refused naming the sender
//! it claims (a message that is no envelope at all names no party), and nothing reaches the session; a card made under another CA is refused; a
//! restarted party and a restarted broker sign again, and the attempt made while the broker
//! was down fails with a timeout, not a hang or a panic.
//!
//! `nats-server` must be on `PATH` (or at `/usr/sbin/nats-server`); `.ci/run` installs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use futures_util::StreamExt as _;
use mpc_core::*;
use mpc_transport::devpki::DevCa;
use mpc_transport::*;

mod common;
use common::broker::Broker;
use common::{check_ed25519, rt};

const DOMAIN: &str = "mpc.test";

fn party(ca: &DevCa, i: u16) -> TlsIdentity {
    ca.issue(vec![party_name(DOMAIN, i)]).unwrap().identity
}

async fn node(broker: &Broker, ca: &DevCa, i: u16) -> NatsNode {
    let id = party(ca, i);
    let opts = NatsOptions::for_deployment(&id);
    NatsNode::start(i, 3, broker.client().await, &id, opts)
        .await
        .unwrap()
}

fn three(rt: &tokio::runtime::Runtime, broker: &Broker, ca: &DevCa) -> Vec<NatsNode> {
    rt.block_on(async {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(node(broker, ca, i).await);
        }
        v
    })
}

fn ed25519_signs(
    nodes: &[NatsNode],
    ed: &[KeyShare<<FrostEd25519 as ThresholdScheme>::Data>],
    signers: &[u16],
    msg: &[u8],
) {
    let req = SignRequest::ed25519(msg.to_vec());
    for r in common::sign_over::<FrostEd25519, NatsNode>(nodes, ed, signers, &req) {
        check_ed25519(&ed[0].public_key(), msg, &r.unwrap().0);
    }
}

#[test]
fn every_engine_signs_through_the_broker() {
    let rt = rt();
    let broker = Broker::start();
    let nodes = three(&rt, &broker, &DevCa::new(DOMAIN).unwrap());
    common::every_engine_signs(&nodes);
}

/// Byte offsets in a sealed envelope (`mpc_transport::nats::seal`).
const FROM: std::ops::Range<usize> = 7..9;
const SEQ: std::ops::Range<usize> = 75..83;
const CIPHERTEXT: usize = 111;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_broker_reads_nothing_and_what_it_injects_is_refused() {
    let rt = rt();
    let broker = Broker::start();
    let ca = DevCa::new(DOMAIN).unwrap();
    let nodes = three(&rt, &broker, &ca);
    let snooper = rt.block_on(broker.client());
    let mut everything = rt.block_on(snooper.subscribe(">")).unwrap();

    // A real signing run, and one known frame from party 1 to party 0.
    let ed = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    let run = SessionId::random(&mut rand_core::OsRng);
    let opts = DriveOptions::default();
    let req = SignRequest::ed25519(b"snooped".to_vec());
    for r in
        common::sign_in_session::<FrostEd25519, NatsNode>(run, &opts, &nodes, &ed, &[0, 1], &req)
    {
        check_ed25519(&ed[0].public_key(), b"snooped", &r.unwrap().0);
    }
    let sid = SessionId::random(&mut rand_core::OsRng);
    let mut secret = [0u8; 48];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
    let frame = Envelope {
        scheme: SchemeId::FrostEd25519,
        message: Message {
            session: sid,
            round: 1,
            from: 1,
            to: Some(0),
            payload: secret.to_vec(),
        },
    }
    .encode(DEFAULT_MAX_FRAME)
    .unwrap();
    let mut at0 = nodes[0].open_session(sid).unwrap();
    let mut at1 = nodes[1].open_session(sid).unwrap();
    rt.block_on(async {
        at1.send(0, frame.clone()).await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), at0.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, (1, frame.clone()));
    });

    // What the broker saw: sealed envelopes and public cards, no plaintext.
    let seen: Vec<async_nats::Message> = rt.block_on(async {
        snooper.flush().await.unwrap();
        let mut seen = Vec::new();
        while let Ok(Some(m)) =
            tokio::time::timeout(Duration::from_millis(300), everything.next()).await
        {
            seen.push(m);
        }
        seen
    });
    let prefix = NatsOptions::for_deployment(&party(&ca, 0)).subject_prefix;
    let envelopes: Vec<_> = seen
        .iter()
        .filter(|m| m.subject.starts_with(&format!("{prefix}.party.")))
        .collect();
    assert!(envelopes.len() >= 5, "{} envelopes seen", envelopes.len());
    for m in &seen {
        assert!(!contains(&m.payload, &secret), "plaintext on {}", m.subject);
        assert!(!contains(&m.payload, &run.0), "session id on {}", m.subject);
        assert!(!contains(&m.payload, &sid.0), "session id on {}", m.subject);
    }
    for m in &envelopes {
        assert_eq!(&m.payload[..4], b"MPCS", "{}", m.subject);
    }
    let to0 = format!("{prefix}.party.0");
    let captured = envelopes
        .iter()
        .rev()
        .find(|m| m.subject.as_str() == to0 && m.payload[FROM] == 1u16.to_be_bytes())
        .unwrap()
        .payload
        .to_vec();

    // What the broker injects.
    let mut altered = captured.clone();
    altered[SEQ].copy_from_slice(&1000u64.to_be_bytes());
    altered[CIPHERTEXT] ^= 1;
    let mut other_sender = captured.clone();
    other_sender[FROM].copy_from_slice(&2u16.to_be_bytes());
    let before = (nodes[0].rejected().0, nodes[2].rejected().0);
    rt.block_on(async {
        let garbage = b"not an envelope".to_vec();
        for bytes in [captured.clone(), altered, other_sender, garbage] {
            snooper.publish(to0.clone(), bytes.into()).await.unwrap();
        }
        snooper
            .publish(format!("{prefix}.party.2"), captured.clone().into())
            .await
            .unwrap();
        snooper.flush().await.unwrap();
        // Nothing reaches the session.
        let late = tokio::time::timeout(Duration::from_millis(500), at0.recv()).await;
        assert!(late.is_err(), "{late:?}");
    });
    let (n0, reasons0) = nodes[0].rejected();
    let (n2, reasons2) = nodes[2].rejected();
    assert_eq!(
        (n0 - before.0, n2 - before.1),
        (4, 1),
        "{reasons0:?} {reasons2:?}"
    );
    let has = |reasons: &[String], what: &str| reasons.iter().any(|r| r.contains(what));
    assert!(
        has(
            &reasons0,
            "from party 1: sealed envelope refused: envelope replayed"
        ),
        "{reasons0:?}"
    );
    assert!(
        has(
            &reasons0,
            "from party 1: sealed envelope refused: signature"
        ),
        "{reasons0:?}"
    );
    assert!(
        has(&reasons0, "from party 2: sealed envelope refused: sealed under a card that is not the sender's newest"),
        "{reasons0:?}"
    );
    assert!(
        has(
            &reasons0,
            "from no party: sealed envelope refused: not a sealed envelope"
        ),
        "{reasons0:?}"
    );
    assert!(
        has(
            &reasons2,
            "from party 1: sealed envelope refused: addressed to party 0"
        ),
        "{reasons2:?}"
    );

    // A card for party 1 under another CA, put in this deployment's bucket by the broker's
    // side: the parties keep party 1's real card and go on signing with it.
    let impostor = rt.block_on(async {
        let other = DevCa::new(DOMAIN).unwrap();
        let opts = NatsOptions::for_deployment(&party(&ca, 1));
        NatsNode::start(1, 3, broker.client().await, &party(&other, 1), opts)
            .await
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    drop(impostor);
    drop((at0, at1));
    ed25519_signs(&nodes, &ed, &[0, 1], b"after the injections");
}

#[test]
fn a_restarted_party_and_a_restarted_broker_sign_again() {
    let rt = rt();
    let mut broker = Broker::start();
    let ca = DevCa::new(DOMAIN).unwrap();
    let mut nodes = three(&rt, &broker, &ca);
    let ed = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    ed25519_signs(&nodes, &ed, &[0, 2], b"before");

    // Party 2 restarts: a new sealing card, which the others read from the bucket.
    drop(nodes.pop());
    nodes.push(rt.block_on(node(&broker, &ca, 2)));
    ed25519_signs(&nodes, &ed, &[0, 2], b"after a party restart");

    // The broker goes down: the attempt fails with a timeout, naming the missing party.
    broker.stop();
    let short = DriveOptions {
        round_timeout: Duration::from_secs(2),
        run_timeout: Duration::from_secs(10),
    };
    let req = SignRequest::ed25519(b"while down".to_vec());
    let sid = SessionId::random(&mut rand_core::OsRng);
    for r in
        common::sign_in_session::<FrostEd25519, NatsNode>(sid, &short, &nodes, &ed, &[1, 2], &req)
    {
        assert!(matches!(r, Err(TransportError::Timeout { .. })), "{r:?}");
    }
    // It comes back (same port, same store); the clients reconnect by themselves.
    broker.run();
    let back = std::time::Instant::now();
    while !nodes.iter().all(NatsNode::broker_connected) {
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "clients did not reconnect"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    ed25519_signs(&nodes, &ed, &[1, 2], b"after a broker restart");
}

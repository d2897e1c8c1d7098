//! TCP with mutual TLS on 127.0.0.1: every engine signs with three party nodes; identity
//! comes from the certificate (a certificate from another CA, no certificate, or an
//! envelope claiming another index gets nowhere); oversized frames, frames for unknown
//! sessions and replays are rejected while other sessions go on; concurrent sessions
//! share the connections; a dropped node is dialed again; a flooding authenticated peer
//! stays within its byte budget (frames for sessions it is not in are dropped, the rest
//! wait at its own connection) while other sessions sign.
//!
//! Certificates are made for each run (`devpki`, rcgen); no private key is checked in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use mpc_core::*;
use mpc_transport::devpki::DevCa;

mod common;
use common::{check_ed25519, rt};
use mpc_transport::*;
use tokio::net::TcpListener;

const DOMAIN: &str = "mpc.test";

type Ca = DevCa;

fn new_ca() -> Ca {
    DevCa::new(DOMAIN).unwrap()
}

fn identity(ca: &Ca, names: Vec<String>) -> TlsIdentity {
    ca.issue(names).unwrap().identity
}

/// Binds `n` listeners and starts a node on each (party i gets `ids[i]`).
fn start(
    rt: &tokio::runtime::Runtime,
    ids: Vec<TlsIdentity>,
    opts: &[TcpOptions],
) -> (Vec<TcpNode>, HashMap<u16, SocketAddr>) {
    rt.block_on(async {
        let n = ids.len() as u16;
        let mut listeners = Vec::new();
        for _ in 0..n {
            listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        let addrs: HashMap<u16, SocketAddr> = (0..n)
            .zip(listeners.iter().map(|l| l.local_addr().unwrap()))
            .collect();
        let nodes = ids
            .iter()
            .zip(listeners)
            .zip(0..n)
            .map(|((id, l), i)| {
                TcpNode::start(i, n, l, &addrs, id, opts[usize::from(i)].clone()).unwrap()
            })
            .collect();
        (nodes, addrs)
    })
}

fn three(rt: &tokio::runtime::Runtime, ca: &Ca) -> Vec<TcpNode> {
    let ids = (0..3)
        .map(|i| identity(ca, vec![party_name(DOMAIN, i)]))
        .collect();
    start(rt, ids, &vec![TcpOptions::default(); 3]).0
}

fn sign_tcp<S>(
    nodes: &[TcpNode],
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    req: &SignRequest,
) -> Vec<common::Outcome>
where
    S: ThresholdScheme,
    KeyShare<S::Data>: Sync,
{
    common::sign_over::<S, TcpNode>(nodes, shares, signers, req)
}

#[test]
fn every_engine_signs_over_mutual_tls() {
    let rt = rt();
    let ca = new_ca();
    let nodes = three(&rt, &ca);
    common::every_engine_signs(&nodes);
}

#[test]
fn concurrent_sessions_share_the_connections() {
    let rt = rt();
    let nodes = three(&rt, &new_ca());
    let ed = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..8u8)
            .map(|k| {
                let (nodes, ed) = (&nodes, &ed);
                s.spawn(move || {
                    let signers: &[u16] = if k % 2 == 0 { &[0, 1] } else { &[1, 2] };
                    let req = SignRequest::ed25519(vec![k; 10]);
                    for r in sign_tcp::<FrostEd25519>(nodes, ed, signers, &req) {
                        check_ed25519(&ed[0].public_key(), &[k; 10], &r.unwrap().0);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
}

/// Dials party 2 with `id` and says whether the TLS handshake (and a first read) succeeds.
fn handshake_as(
    rt: &tokio::runtime::Runtime,
    id: Option<&TlsIdentity>,
    ca: &Ca,
    addr: SocketAddr,
) -> bool {
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert_der()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match id {
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    rt.block_on(async {
        use tokio::io::AsyncReadExt;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from(party_name(DOMAIN, 2)).unwrap();
        let Ok(mut tls) = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
        else {
            return false;
        };
        // TLS 1.3: the server's verdict on our certificate arrives after the handshake.
        let mut b = [0u8; 1];
        // still open after 500 ms (the read times out): accepted
        tokio::time::timeout(Duration::from_millis(500), tls.read(&mut b))
            .await
            .is_err()
    })
}

#[test]
fn only_certified_parties_join_and_the_index_comes_from_the_certificate() {
    let rt = rt();
    let ca = new_ca();
    // Party 2 alone (nobody else dials it, so a test connection stays up if accepted).
    let (lone, addr2) = rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        let id = identity(&ca, vec![party_name(DOMAIN, 2)]);
        (
            TcpNode::start(2, 3, l, &HashMap::new(), &id, TcpOptions::default()).unwrap(),
            a,
        )
    });
    let as_party = |ca: &Ca, name: String| Some(identity(ca, vec![name]));
    // A party-1 certificate from the deployment CA is accepted (the control case).
    assert!(handshake_as(
        &rt,
        as_party(&ca, party_name(DOMAIN, 1)).as_ref(),
        &ca,
        addr2
    ));
    // A certificate for party 1 issued by another CA, or no certificate: refused.
    let rogue = new_ca();
    assert!(!handshake_as(
        &rt,
        as_party(&rogue, party_name(DOMAIN, 1)).as_ref(),
        &ca,
        addr2
    ));
    assert!(!handshake_as(&rt, None, &ca, addr2));
    // A deployment certificate naming no party, or a higher index dialing: refused.
    assert!(!handshake_as(
        &rt,
        as_party(&ca, "intruder.mpc.test".into()).as_ref(),
        &ca,
        addr2
    ));
    assert!(!handshake_as(
        &rt,
        as_party(&ca, party_name(DOMAIN, 2)).as_ref(),
        &ca,
        addr2
    ));
    drop(lone);

    let ids: Vec<TlsIdentity> = (0..3)
        .map(|i| identity(&ca, vec![party_name(DOMAIN, i)]))
        .collect();
    let (nodes, _) = start(&rt, ids, &vec![TcpOptions::default(); 3]);

    // Party 1 sends an envelope that claims to come from party 0: the receiver sees the
    // authenticated sender (1) and refuses the claim.
    let sid = SessionId::random(&mut rand_core::OsRng);
    let mut at2 = nodes[2].open_session(sid).unwrap();
    let mut at1 = nodes[1].open_session(sid).unwrap();
    let forged = Envelope {
        scheme: SchemeId::FrostEd25519,
        message: Message {
            session: sid,
            round: 0,
            from: 0,
            to: Some(2),
            payload: vec![1, 2, 3],
        },
    }
    .encode(DEFAULT_MAX_FRAME)
    .unwrap();
    rt.block_on(async {
        at1.send(2, forged).await.unwrap();
        let (from, frame) = at2.recv().await.unwrap();
        assert_eq!(from, 1);
        let ctx = SessionCtx::new(sid, SchemeId::FrostEd25519, 2, &[0, 1, 2]).unwrap();
        assert!(matches!(
            accept(&ctx, from, &frame, DEFAULT_MAX_FRAME),
            Err(TransportError::WrongSender {
                claimed: 0,
                authenticated: 1
            })
        ));
    });
}

#[test]
fn bad_frames_are_rejected_and_other_sessions_go_on() {
    let rt = rt();
    let ca = new_ca();
    let ids = (0..3)
        .map(|i| identity(&ca, vec![party_name(DOMAIN, i)]))
        .collect();
    let small = TcpOptions {
        limits: MeshLimits {
            max_frame: 64 * 1024,
            // an even share for each of the two peers: 4 frames, 50 kB
            pending_limit: 8,
            pending_bytes: 100_000,
            ..MeshLimits::default()
        },
        ..TcpOptions::default()
    };
    // Party 1 may send larger frames than party 0 accepts.
    let (nodes, _) = start(&rt, ids, &[small.clone(), TcpOptions::default(), small]);
    let sid = SessionId::random(&mut rand_core::OsRng);
    let other = SessionId::random(&mut rand_core::OsRng);
    let mut at0 = nodes[0].open_session(sid).unwrap();
    let mut at1 = nodes[1].open_session(sid).unwrap();
    let frame = |session: SessionId, len: usize| {
        Envelope {
            scheme: SchemeId::FrostEd25519,
            message: Message {
                session,
                round: 1,
                from: 1,
                to: Some(0),
                payload: vec![7; len],
            },
        }
        .encode(DEFAULT_MAX_FRAME)
        .unwrap()
    };
    rt.block_on(async {
        at1.send(0, frame(sid, 200_000)).await.unwrap(); // over party 0's cap
                                                         // unknown session: the first 40 kB frame is parked, the second is over the byte budget
        at1.send(0, frame(other, 40_000)).await.unwrap();
        at1.send(0, frame(other, 40_000)).await.unwrap();
        for _ in 0..10 {
            at1.send(0, frame(other, 10)).await.unwrap(); // unknown session
        }
        at1.send(0, vec![9; 10]).await.unwrap(); // not an envelope
        let good = frame(sid, 100);
        at1.send(0, good.clone()).await.unwrap();
        at1.send(0, good.clone()).await.unwrap(); // replay
                                                  // the connection is still in sync: the good frame arrives intact
        let (from, got) = tokio::time::timeout(Duration::from_secs(5), at0.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((from, got.clone()), (1, good.clone()));
        // the transport delivers the replay; the run refuses it (per-round duplicate)
        let (_, again) = at0.recv().await.unwrap();
        assert_eq!(again, good);
    });
    let (rejected, reasons) = nodes[0].rejected();
    // one oversized, one over the byte budget, seven unknown-session frames over the buffer
    // of four, one non-envelope
    assert!(rejected >= 10, "{rejected}: {reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("exceeds the cap")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("unknown session")),
        "{reasons:?}"
    );
    // and a real signing session runs on the same connections afterwards
    let ed = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    let req = SignRequest::ed25519(b"still fine".to_vec());
    for r in sign_tcp::<FrostEd25519>(&nodes, &ed, &[0, 1], &req) {
        check_ed25519(&ed[0].public_key(), b"still fine", &r.unwrap().0);
    }
}

#[test]
fn a_restarted_party_is_dialed_again() {
    let rt = rt();
    let ca = new_ca();
    let ids: Vec<TlsIdentity> = (0..3)
        .map(|i| identity(&ca, vec![party_name(DOMAIN, i)]))
        .collect();
    let (mut nodes, addrs) = start(&rt, ids, &vec![TcpOptions::default(); 3]);
    let ed = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    let req = SignRequest::ed25519(b"before".to_vec());
    assert!(sign_tcp::<FrostEd25519>(&nodes, &ed, &[0, 2], &req)
        .into_iter()
        .all(|r| r.is_ok()));
    // party 2 goes away and comes back on the same address
    drop(nodes.pop());
    std::thread::sleep(Duration::from_millis(200));
    let again = rt.block_on(async {
        let l = TcpListener::bind(addrs[&2]).await.unwrap();
        TcpNode::start(
            2,
            3,
            l,
            &addrs,
            &identity(&ca, vec![party_name(DOMAIN, 2)]),
            TcpOptions::default(),
        )
        .unwrap()
    });
    nodes.push(again);
    let req = SignRequest::ed25519(b"after".to_vec());
    for r in sign_tcp::<FrostEd25519>(&nodes, &ed, &[0, 2], &req) {
        check_ed25519(&ed[0].public_key(), b"after", &r.unwrap().0);
    }
}

#[test]
fn a_flooding_peer_stays_within_its_budget_while_other_sessions_finish() {
    let rt = rt();
    let ca = new_ca();
    let ids = (0..3)
        .map(|i| identity(&ca, vec![party_name(DOMAIN, i)]))
        .collect();
    let frame_len = 256 * 1024;
    let opts = TcpOptions {
        limits: MeshLimits {
            max_frame: 300_000,
            session_peer_bytes: 1024 * 1024,
            peer_bytes: 2 * 1024 * 1024,
            pending_limit: 16,
            pending_bytes: 200_000,
            ..MeshLimits::default()
        },
        ..TcpOptions::default()
    };
    let (nodes, _) = start(&rt, ids, &vec![opts.clone(); 3]);
    // Party 0 is in a session with party 2 that it is too busy to read, and in a session
    // of parties 0 and 1 only.
    let busy = SessionId::random(&mut rand_core::OsRng);
    let closed_to_2 = SessionId::random(&mut rand_core::OsRng);
    let among = |members: Vec<u16>| SessionLimits {
        members: Some(members),
        max_frame: 300_000,
    };
    let mut busy_at0 = nodes[0].open_session_with(busy, among(vec![0, 2])).unwrap();
    let _closed_at0 = nodes[0]
        .open_session_with(closed_to_2, among(vec![0, 1]))
        .unwrap();
    // Party 2 (authenticated by its certificate) floods party 0: 64 frames for the session
    // it is not a member of, 64 for sessions that do not exist, then 16 MiB for the busy
    // session.
    let flood_frame = move |session: SessionId, k: usize| {
        let mut f = Envelope {
            scheme: SchemeId::FrostEd25519,
            message: Message {
                session,
                round: 1,
                from: 2,
                to: Some(0),
                payload: vec![0; frame_len],
            },
        }
        .encode(DEFAULT_MAX_FRAME)
        .unwrap();
        let tail = f.len() - 8;
        f[tail..].copy_from_slice(&(k as u64).to_be_bytes());
        f
    };
    let mut at2 = nodes[2].open_session(busy).unwrap();
    let flood = rt.spawn(async move {
        for k in 0..64 {
            at2.send(0, flood_frame(closed_to_2, k)).await.unwrap();
            let unknown = SessionId::random(&mut rand_core::OsRng);
            at2.send(0, flood_frame(unknown, k)[..2000].to_vec())
                .await
                .unwrap();
        }
        for k in 0..64 {
            at2.send(0, flood_frame(busy, k)).await.unwrap();
        }
        at2
    });
    // Meanwhile parties 0 and 1 sign, again and again.
    let ed = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    for k in 0..5u8 {
        let msg = vec![k; 32];
        let req = SignRequest::ed25519(msg.clone());
        for r in sign_tcp::<FrostEd25519>(&nodes, &ed, &[0, 1], &req) {
            check_ed25519(&ed[0].public_key(), &msg, &r.unwrap().0);
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let stats = nodes[0].stats();
    let (_, reasons) = nodes[0].rejected();
    assert!(
        stats.peak_session_peer_bytes <= opts.limits.session_peer_bytes
            && stats.peak_peer_bytes <= opts.limits.peer_bytes
            && stats.queued_bytes <= opts.limits.session_peer_bytes,
        "{stats:?}"
    );
    // The budget was reached (the flood is real), not merely never approached.
    assert!(
        stats.peak_session_peer_bytes
            > opts.limits.session_peer_bytes - frame_len - 2 * FRAME_OVERHEAD,
        "{stats:?}"
    );
    assert!(
        stats.peak_pending_bytes <= opts.limits.pending_bytes / 2,
        "{stats:?}"
    );
    assert!(stats.rejected >= 64 + 56, "{stats:?}: {reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("not a member")),
        "{reasons:?}"
    );
    // Nothing of the busy session was lost: once party 0 reads, every frame arrives, in
    // order, and the flood goes through.
    rt.block_on(async {
        for k in 0..64u64 {
            let (from, frame) = tokio::time::timeout(Duration::from_secs(10), busy_at0.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(from, 2);
            assert_eq!(frame[frame.len() - 8..], k.to_be_bytes());
        }
        tokio::time::timeout(Duration::from_secs(10), flood)
            .await
            .unwrap()
            .unwrap();
    });
    assert!(nodes[0].stats().queued_bytes == 0);
}

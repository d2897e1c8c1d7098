//! The coordinator with three parties, each with its own runtime, real sockets on
//! 127.0.0.1 and mutual TLS: every engine signs; a party killed mid-session is named and
//! the other quorum finishes; a stalled party times out (bounded) and is named; the
//! presignature pool is never reused across a restart of the party server (the pool itself
//! outlives it here, as a durable one does; `mpc-node` tests the durable pool on disk) or by
//! concurrent requests; only the coordinator's certificate can send requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mpc_core::*;
use mpc_transport::control::{FailureKind, Request, Response};
use mpc_transport::devpki::DevCa;

mod common;
use common::{check_ecdsa, check_ed25519, rt, test_only_cggmp21_key};
use mpc_transport::*;

const DOMAIN: &str = "mpc.test";

struct Keys {
    ed: Vec<KeyShare<<FrostEd25519 as ThresholdScheme>::Data>>,
    tr: Vec<KeyShare<<FrostTaproot as ThresholdScheme>::Data>>,
    ec: Vec<Cggmp21Share>,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| Keys {
        ed: mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap(),
        tr: mpc_core::local::keygen::<FrostTaproot>(2, vec![(); 3]).unwrap(),
        ec: test_only_cggmp21_key(),
    })
}

fn key_ref<D>(s: &KeyShare<D>) -> KeyRef {
    KeyRef {
        scheme: s.scheme(),
        public_key: s.public_key(),
        epoch: s.epoch(),
    }
}

/// Signs anything, but blocks the party's thread for a long time while `stall` is set.
struct MaybeStall(Arc<AtomicBool>);

impl RequestPolicy for MaybeStall {
    fn approve(&self, k: &KeyRef, r: &SignRequest) -> Result<SeenRequest, String> {
        if self.0.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(30));
        }
        UncheckedRequests.approve(k, r)
    }
}

/// One party "process": its own runtime, node and control server.
struct PartyProc {
    rt: Option<tokio::runtime::Runtime>,
}

impl PartyProc {
    fn kill(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for PartyProc {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Cluster {
    ca: DevCa,
    mesh: HashMap<u16, SocketAddr>,
    control: HashMap<u16, SocketAddr>,
    parties: Vec<PartyProc>,
    /// Each party's presignature pool; it outlives a party restart, as a durable pool does.
    pools: Vec<SharedStore<Cggmp21>>,
    stall: Vec<Arc<AtomicBool>>,
    /// The listeners reserved for each address until the party first starts: a port only
    /// picked, not held, can be taken meanwhile by an outgoing connection of another test.
    reserved: Mutex<HashMap<SocketAddr, std::net::TcpListener>>,
}

fn reserve() -> (SocketAddr, std::net::TcpListener) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (l.local_addr().unwrap(), l)
}

impl Cluster {
    fn new() -> Self {
        let pools = (0..3)
            .map(|_| Arc::new(Mutex::new(MemoryPresignatures::<Cggmp21>::new())) as SharedStore<_>)
            .collect();
        let mut reserved = HashMap::new();
        let mut addr = |i: u16| {
            let (a, l) = reserve();
            reserved.insert(a, l);
            (i, a)
        };
        let mesh = (0..3).map(&mut addr).collect();
        let control = (0..3).map(&mut addr).collect();
        let mut c = Cluster {
            ca: DevCa::new(DOMAIN).unwrap(),
            mesh,
            control,
            parties: Vec::new(),
            pools,
            stall: (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect(),
            reserved: Mutex::new(reserved),
        };
        for i in 0..3 {
            let p = c.start_party(i);
            c.parties.push(p);
        }
        c
    }

    fn start_party(&self, i: u16) -> PartyProc {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let k = keys();
        let held = vec![
            HeldKey::Cggmp21 {
                share: k.ec[usize::from(i)].clone(),
                pool: Some(self.pools[usize::from(i)].clone()),
            },
            HeldKey::FrostEd25519(k.ed[usize::from(i)].clone()),
            HeldKey::FrostTaproot(k.tr[usize::from(i)].clone()),
        ];
        let id = self.ca.party(i).unwrap().identity;
        let (mesh, control) = (self.mesh.clone(), self.control[&i]);
        let policy = Arc::new(MaybeStall(self.stall[usize::from(i)].clone()));
        let (mesh_listener, control_listener) = {
            let mut r = self.reserved.lock().unwrap();
            (r.remove(&mesh[&i]), r.remove(&control))
        };
        rt.block_on(async move {
            let listener = bind_reserved(mesh_listener, mesh[&i]).await;
            let node = TcpNode::start(i, 3, listener, &mesh, &id, TcpOptions::default()).unwrap();
            let party = Arc::new(Party::new(
                Arc::new(node),
                held,
                policy,
                PartyOptions::default(),
            ));
            let ctl = bind_reserved(control_listener, control).await;
            tokio::spawn(async move { party.serve(ctl, &id).await });
        });
        PartyProc { rt: Some(rt) }
    }

    fn coordinator(
        &self,
        rt: &tokio::runtime::Runtime,
        opts: CoordinatorOptions,
    ) -> Arc<Coordinator> {
        let id = self.ca.coordinator().unwrap().identity;
        rt.block_on(async {
            let c = Coordinator::start(&id, &self.control, opts).unwrap();
            assert_eq!(c.wait_connected(3, Duration::from_secs(10)).await.len(), 3);
            Arc::new(c)
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for p in &mut self.parties {
            p.kill();
        }
    }
}

/// The reserved listener for `addr` on a party's first start; on a restart, `addr` again.
async fn bind_reserved(
    reserved: Option<std::net::TcpListener>,
    addr: SocketAddr,
) -> tokio::net::TcpListener {
    if let Some(l) = reserved {
        l.set_nonblocking(true).unwrap();
        return tokio::net::TcpListener::from_std(l).unwrap();
    }
    bind_retry(addr).await
}

async fn bind_retry(addr: SocketAddr) -> tokio::net::TcpListener {
    for _ in 0..100 {
        if let Ok(l) = tokio::net::TcpListener::bind(addr).await {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot bind {addr}");
}

fn opts(round_ms: u64, attempts: usize) -> CoordinatorOptions {
    CoordinatorOptions {
        round_timeout: Duration::from_millis(round_ms),
        attempt_timeout: Duration::from_secs(60),
        max_attempts: attempts,
        ..CoordinatorOptions::default()
    }
}

#[test]
fn coordinator_signs_with_every_engine() {
    let cluster = Cluster::new();
    let rt = rt();
    let coord = cluster.coordinator(&rt, opts(20_000, 2));
    let k = keys();
    rt.block_on(async {
        let msg = b"coordinated".to_vec();
        let out = coord
            .sign(&key_ref(&k.ed[0]), 2, &[SignRequest::ed25519(msg.clone())])
            .await
            .unwrap();
        check_ed25519(&k.ed[0].public_key(), &msg, &out.signatures[0]);
        // A request for another epoch of the key is refused by the parties, clearly.
        let mut later = key_ref(&k.ed[0]);
        later.epoch = 1;
        let err = coord
            .sign(&later, 2, &[SignRequest::ed25519(msg.clone())])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds epoch 0"), "{err}");
        let a = &out.report.attempts[0];
        assert_eq!(a.quorum, vec![0, 1]);
        assert!(a.parties.iter().all(|p| p.responded_us.is_some()));
        // Both parties accepted one message per round from the other, two rounds.
        assert_eq!(a.rounds().len(), 4, "{}", out.report);
        // The same session id again is refused by the party (no replayed sessions).
        let replay = Request::Sign {
            session: a.session,
            key: key_ref(&k.ed[0]),
            signers: vec![0, 1],
            requests: vec![SignRequest::ed25519(msg.clone())],
            round_timeout_ms: 1_000,
        };
        match coord.call_party(0, replay).await.unwrap() {
            Response::Failed(f) => assert!(f.message.contains("already used"), "{f:?}"),
            other => panic!("{other:?}"),
        }

        let digest = [5u8; 32];
        let out = coord
            .sign(&key_ref(&k.tr[0]), 2, &[SignRequest::bip340(digest, None)])
            .await
            .unwrap();
        common::check_bip340_taproot(&k.tr[0].public_key(), digest, &out.signatures[0]);

        let prehash = [6u8; 32];
        let out = coord
            .sign(&key_ref(&k.ec[0]), 2, &[SignRequest::ecdsa(prehash)])
            .await
            .unwrap();
        check_ecdsa(&k.ec[0].public_key(), prehash, &out.signatures[0]);

        // Presign, then the online step: no protocol round between parties.
        let ec = key_ref(&k.ec[0]);
        coord.presign(&ec, 2, None).await.unwrap();
        assert_eq!(coord.presignatures_ready(&ec, None), 1);
        // A bare digest never takes a presignature (RUSTSEC-2025-0127): it is signed in
        // full and the presignature stays ready.
        let out = coord
            .sign_presigned(&ec, 2, &SignRequest::ecdsa([8u8; 32]))
            .await
            .unwrap();
        check_ecdsa(&k.ec[0].public_key(), [8u8; 32], &out.signatures[0]);
        assert!(out.report.fell_back_to_full);
        assert_eq!(coord.presignatures_ready(&ec, None), 1);
        // A digest with its message (each party hashes it) signs with the presignature.
        let prehash = MessageHash::Sha256.digest(b"online");
        let out = coord
            .sign_presigned(
                &ec,
                2,
                &SignRequest::hashed_message(MessageHash::Sha256, b"online"),
            )
            .await
            .unwrap();
        check_ecdsa(&k.ec[0].public_key(), prehash, &out.signatures[0]);
        assert!(!out.report.fell_back_to_full);
        assert!(out.report.attempts[0].presignature.is_some());
        assert_eq!(coord.presignatures_ready(&ec, None), 0);

        // A derivation path: the coordinator checks the signature under the child key it
        // derives itself from the chain code, never under a key the parties report.
        let path = [3u32, 9];
        let req = SignRequest::ecdsa([9u8; 32]).with_path(&path);
        assert!(matches!(
            coord.sign(&ec, 2, std::slice::from_ref(&req)).await,
            Err(mpc_transport::CoordinatorError::Invalid(_))
        ));
        // Another chain code: the parties' signature does not verify under that child.
        coord.add_chain_code(&ec, [0x55; 32]);
        assert!(coord
            .sign(&ec, 2, std::slice::from_ref(&req))
            .await
            .is_err());
        coord.add_chain_code(&ec, mpc_core::Cggmp21::chain_code(&k.ec[0]).unwrap());
        let out = coord.sign(&ec, 2, &[req]).await.unwrap();
        let child = mpc_core::Cggmp21::signing_key(&k.ec[0], Some(&path)).unwrap();
        check_ecdsa(&child, [9u8; 32], &out.signatures[0]);
    });
}

#[test]
fn killed_party_is_named_and_the_other_quorum_finishes() {
    let mut cluster = Cluster::new();
    let rt = rt();
    // Party 1's death is seen at once (its connection drops); the round timeout only bounds
    // the second quorum's rounds, which on a loaded 2-core runner (the other tests of this
    // file sign with CGGMP21 at the same time) can take seconds.
    let coord = cluster.coordinator(&rt, opts(10_000, 3));
    let k = keys();
    let prehash = [1u8; 32];
    let task = {
        let coord = coord.clone();
        rt.spawn(async move {
            coord
                .sign(&key_ref(&k.ec[0]), 2, &[SignRequest::ecdsa(prehash)])
                .await
        })
    };
    // CGGMP21 full signing takes far longer than this: party 1 dies mid-session.
    std::thread::sleep(Duration::from_millis(300));
    cluster.parties[1].kill();
    let out = rt.block_on(task).unwrap().unwrap();
    check_ecdsa(&k.ec[0].public_key(), prehash, &out.signatures[0]);
    let r = &out.report;
    assert_eq!(r.attempts.len(), 2, "{r}");
    assert_eq!(r.attempts[0].quorum, vec![0, 1]);
    assert_eq!(r.attempts[0].blamed, vec![1], "{r}");
    assert_eq!(r.attempts[1].quorum, vec![0, 2]);
    assert_eq!(
        r.excluded.iter().map(|e| e.party).collect::<Vec<_>>(),
        vec![1]
    );
}

#[test]
fn stalled_party_times_out_and_is_named() {
    let cluster = Cluster::new();
    let rt = rt();
    cluster.stall[1].store(true, Ordering::SeqCst);
    let k = keys();
    let msg = b"stall".to_vec();

    // One attempt only: the error names party 1, within the round timeout (bounded).
    let coord = cluster.coordinator(&rt, opts(500, 1));
    let start = Instant::now();
    let err = rt
        .block_on(coord.sign(&key_ref(&k.ed[0]), 2, &[SignRequest::ed25519(msg.clone())]))
        .unwrap_err();
    let took = start.elapsed();
    let CoordinatorError::Failed { blamed, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(blamed, &vec![1], "{err}");
    assert!(err.to_string().contains("[1]"), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // With retries, the next quorum leaves party 1 out and signs.
    let coord = cluster.coordinator(&rt, opts(500, 3));
    let out = rt
        .block_on(coord.sign(&key_ref(&k.ed[0]), 2, &[SignRequest::ed25519(msg.clone())]))
        .unwrap();
    check_ed25519(&k.ed[0].public_key(), &msg, &out.signatures[0]);
    assert_eq!(out.report.attempts.last().unwrap().quorum, vec![0, 2]);
    assert_eq!(out.report.excluded[0].party, 1, "{}", out.report);
}

fn pool_ids(pool: &SharedStore<Cggmp21>) -> HashSet<String> {
    pool.lock()
        .unwrap()
        .entries()
        .iter()
        .map(|e| hex::encode(e.id))
        .collect()
}

#[test]
fn presignatures_are_never_shared_or_reused_across_a_restart() {
    let mut cluster = Cluster::new();
    let rt = rt();
    let coord = cluster.coordinator(&rt, opts(20_000, 3));
    let k = keys();
    let ec = key_ref(&k.ec[0]);

    // Background fill to depth 4.
    let _guard = rt.enter();
    let filler = coord.spawn_filler(ec.clone(), 2, None, 4);
    let start = Instant::now();
    while coord.presignatures_ready(&ec, None) < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "pool not filled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(filler);

    // Three concurrent requests: three different presignatures, all valid signatures.
    let outs = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for b in 0..3u8 {
            let (coord, ec) = (coord.clone(), ec.clone());
            set.spawn(async move {
                let req = SignRequest::hashed_message(MessageHash::Sha256, &[b + 100; 32]);
                (b, coord.sign_presigned(&ec, 2, &req).await.unwrap())
            });
        }
        set.join_all().await
    });
    let mut used = HashSet::new();
    for (b, out) in &outs {
        let prehash = MessageHash::Sha256.digest(&[b + 100; 32]);
        check_ecdsa(&k.ec[0].public_key(), prehash, &out.signatures[0]);
        assert!(!out.report.fell_back_to_full);
        assert!(used.insert(out.report.attempts[0].presignature.clone().unwrap()));
    }
    assert_eq!(used.len(), 3);

    // The used ones are gone from every pool; one is left.
    let quorum = outs[0].1.report.attempts[0].quorum.clone();
    for &p in &quorum {
        let left = pool_ids(&cluster.pools[usize::from(p)]);
        assert_eq!(left.len(), 1);
        assert!(left.is_disjoint(&used));
    }

    // Restart party quorum[0]: after the restart its pool still refuses the used ids, and
    // a coordinator (restarted too) finds exactly the one left.
    let p = quorum[0];
    cluster.parties[usize::from(p)].kill();
    let restarted = cluster.start_party(p);
    cluster.parties[usize::from(p)] = restarted;
    drop(coord);
    let coord = cluster.coordinator(&rt, opts(20_000, 3));
    assert_eq!(rt.block_on(coord.sync_presignatures(&ec)), 1);

    // Asking the restarted party directly for a used presignature is refused.
    let used_id: [u8; 32] = hex::decode(used.iter().next().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let resp = rt.block_on(async {
        let id = cluster.ca.coordinator().unwrap().identity;
        let only: HashMap<u16, SocketAddr> = [(p, cluster.control[&p])].into();
        let c = Coordinator::start(&id, &only, opts(20_000, 1)).unwrap();
        c.wait_connected(1, Duration::from_secs(10)).await;
        let used = c
            .call_party(
                p,
                Request::PartialSign {
                    key: ec.clone(),
                    presignature: used_id,
                    request: SignRequest::hashed_message(MessageHash::Sha256, &[1; 32]),
                },
            )
            .await;
        // The one left, asked for a bare digest (RUSTSEC-2025-0127): refused, kept.
        let left: [u8; 32] = hex::decode(
            pool_ids(&cluster.pools[usize::from(p)])
                .iter()
                .next()
                .unwrap(),
        )
        .unwrap()
        .try_into()
        .unwrap();
        let bare = c
            .call_party(
                p,
                Request::PartialSign {
                    key: ec.clone(),
                    presignature: left,
                    request: SignRequest::ecdsa([1; 32]),
                },
            )
            .await;
        (used, bare)
    });
    match resp.0 {
        Ok(Response::Failed(f)) => assert_eq!(f.kind, FailureKind::Presignature, "{f:?}"),
        other => panic!("{other:?}"),
    }
    match resp.1 {
        Ok(Response::Failed(f)) => assert_eq!(f.kind, FailureKind::Interactive, "{f:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(pool_ids(&cluster.pools[usize::from(p)]).len(), 1);

    // The last one signs.
    let out = rt
        .block_on(coord.sign_presigned(
            &ec,
            2,
            &SignRequest::hashed_message(MessageHash::Sha256, &[3; 32]),
        ))
        .unwrap();
    check_ecdsa(
        &k.ec[0].public_key(),
        MessageHash::Sha256.digest(&[3; 32]),
        &out.signatures[0],
    );
    assert!(!out.report.fell_back_to_full);
}

#[test]
fn only_the_coordinator_certificate_sends_requests() {
    let cluster = Cluster::new();
    let rt = rt();
    // Party 2's certificate is valid, but not the coordinator's: no control connection.
    let id = cluster.ca.party(2).unwrap().identity;
    let connected = rt.block_on(async {
        let c = Coordinator::start(&id, &cluster.control, opts(1_000, 1)).unwrap();
        c.wait_connected(1, Duration::from_secs(2)).await
    });
    assert!(connected.is_empty(), "{connected:?}");
    // A coordinator certificate from another CA is refused too.
    let other = DevCa::new(DOMAIN).unwrap().coordinator().unwrap().identity;
    let connected = rt.block_on(async {
        let c = Coordinator::start(&other, &cluster.control, opts(1_000, 1)).unwrap();
        c.wait_connected(1, Duration::from_secs(2)).await
    });
    assert!(connected.is_empty(), "{connected:?}");
}

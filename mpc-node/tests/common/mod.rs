//! Helpers for the node tests: keys made with the test-only primes, fresh directories and
//! an independent ECDSA verifier (libsecp256k1).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};

use mpc_node::demo::{self, DemoDeployment, DEMO_PASSPHRASE};
use mpc_node::seal::{Argon2Params, PassphraseKek};

#[path = "../../../mpc-transport/tests/common/broker.rs"]
pub mod broker;
pub mod tx;

use mpc_core::local::run_local;
use mpc_core::*;

pub fn vectors(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../test-vectors")
        .join(rel)
}

/// 2-of-3 CGGMP21 shares, made with the TEST-ONLY primes of `test-vectors/`.
pub fn cggmp_shares() -> &'static Vec<Cggmp21Share> {
    static S: OnceLock<Vec<Cggmp21Share>> = OnceLock::new();
    S.get_or_init(|| {
        let bytes = std::fs::read(vectors("test-only-paillier-primes.json")).unwrap();
        let primes = PaillierPrimes::list_from_json(&bytes).unwrap();
        local::keygen::<Cggmp21>(2, primes.into_iter().take(3).map(Into::into).collect()).unwrap()
    })
}

/// The tss-lib fixture (5 parties, threshold 3) as GG20 shares, certified for all five.
pub fn gg20_shares() -> &'static Vec<Gg20Share> {
    static S: OnceLock<Vec<Gg20Share>> = OnceLock::new();
    S.get_or_init(|| {
        let shares: Vec<Gg20Share> = (0..5)
            .map(|i| {
                let bytes =
                    std::fs::read(vectors(&format!("tss-lib/ecdsa/keygen_data_{i}.json"))).unwrap();
                mpc_core::import::TssLibKey::from_json(&bytes)
                    .unwrap()
                    .to_gg20()
                    .unwrap()
            })
            .collect();
        let sid = SessionId::random(&mut rand_core::OsRng);
        let runs = (0..5u16)
            .map(|i| {
                let ctx = SessionCtx::keygen(sid, SchemeId::Gg20Secp256k1, i, 5).unwrap();
                Gg20::certify(&ctx, &shares[usize::from(i)]).unwrap()
            })
            .collect();
        run_local(runs).unwrap()
    })
}

/// One presigning run of engine `S` by `signers`; their presignatures, in signer order.
pub fn presign<S: Presigning>(
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    path: Option<&[u32]>,
) -> Vec<S::Presignature> {
    let sid = SessionId::random(&mut rand_core::OsRng);
    let runs = signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(sid, S::ID, i, signers).unwrap();
            S::presign(&ctx, &shares[usize::from(i)], path)
        })
        .collect::<Result<Vec<_>>>()
        .unwrap();
    run_local(runs).unwrap()
}

/// A fresh, empty directory under the system temp dir.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mpc-node-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Checks an Ed25519 signature with ed25519-dalek.
pub fn check_ed25519(pk: &PublicKey, msg: &[u8], sig: &Signature) {
    let Signature::Ed25519 { bytes } = sig else {
        panic!("not Ed25519: {sig:?}")
    };
    let vk = ed25519_dalek::VerifyingKey::from_bytes(pk.as_bytes().try_into().unwrap()).unwrap();
    ed25519_dalek::Verifier::verify(&vk, msg, &ed25519_dalek::Signature::from_bytes(bytes))
        .expect("ed25519-dalek rejects the signature");
}

/// Checks an ECDSA signature with libsecp256k1 (not the engines' crates).
pub fn check_ecdsa(pk: &PublicKey, prehash: &[u8; 32], sig: &Signature) {
    let Signature::Ecdsa(e) = sig else {
        panic!("not ECDSA: {sig:?}")
    };
    let secp = secp256k1::Secp256k1::verification_only();
    let key = secp256k1::PublicKey::from_slice(pk.as_bytes()).unwrap();
    let s = secp256k1::ecdsa::Signature::from_compact(&e.to_bytes()).unwrap();
    let msg = secp256k1::Message::from_digest(*prehash);
    secp.verify_ecdsa(&msg, &s, &key)
        .expect("libsecp256k1 rejects the signature");
}

pub const BIN: &str = env!("CARGO_BIN_EXE_mpc-node");

pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

pub struct Deployment {
    pub dir: PathBuf,
    pub parties: Vec<Option<Child>>,
    /// The deployment's own broker, when its parties reach each other through NATS.
    pub broker: Option<broker::Broker>,
}

impl Deployment {
    /// A 2-of-3 demo deployment with TEST-ONLY primes, its three party processes started.
    pub fn new(tag: &str, danger_allow_raw_digests: bool) -> Self {
        Self::with(tag, 3, 2, danger_allow_raw_digests)
    }

    /// A `t`-of-`n` demo deployment with TEST-ONLY primes, its party processes started.
    pub fn with(tag: &str, n: u16, t: u16, danger_allow_raw_digests: bool) -> Self {
        Self::start(tag, n, t, danger_allow_raw_digests, None)
    }

    /// A `t`-of-`n` demo deployment whose parties reach each other through a broker of its
    /// own (`nats-server`), its party processes started.
    pub fn over_nats(tag: &str, n: u16, t: u16, danger_allow_raw_digests: bool) -> Self {
        Self::start(
            tag,
            n,
            t,
            danger_allow_raw_digests,
            Some(broker::Broker::start()),
        )
    }

    fn start(
        tag: &str,
        n: u16,
        t: u16,
        danger_allow_raw_digests: bool,
        broker: Option<broker::Broker>,
    ) -> Self {
        let dir = fresh_dir(tag);
        let mut d = DemoDeployment::local(n, t, 0);
        d.nats_url = broker.as_ref().map(broker::Broker::url);
        d.mesh = (0..n).map(|_| free_addr()).collect();
        d.control = (0..n).map(|_| free_addr()).collect();
        d.danger_test_only_primes = Some(vectors("test-only-paillier-primes.json"));
        d.danger_allow_raw_digests = danger_allow_raw_digests;
        d.argon2 = Argon2Params {
            m_kib: 8 * 1024,
            t: 1,
            p: 1,
        };
        demo::write(&dir, &d).unwrap();
        let mut dep = Deployment {
            dir,
            parties: Vec::new(),
            broker,
        };
        for i in 0..usize::from(n) {
            let c = dep.spawn(i);
            dep.parties.push(Some(c));
        }
        dep
    }

    pub fn spawn(&self, i: usize) -> Child {
        Command::new(BIN)
            .arg("party")
            .arg("--config")
            .arg(self.dir.join(format!("party-{i}.toml")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.parties[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn keygen(&self, scheme: &str) -> std::process::Output {
        Command::new(BIN)
            .args(["keygen", "--json", "--scheme", scheme, "--config"])
            .arg(self.dir.join("coordinator.toml"))
            .output()
            .unwrap()
    }

    /// Runs `mpc-node <args> --json`, which must succeed; its JSON output and stderr.
    pub fn run_json(&self, args: &[&str]) -> (serde_json::Value, String) {
        let out = Command::new(BIN).args(args).arg("--json").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?} failed: {stderr}");
        (serde_json::from_slice(&out.stdout).unwrap(), stderr)
    }

    /// Runs `mpc-node <args> --json --config coordinator.toml`, which must succeed, and
    /// returns its JSON output.
    pub fn command_json(&self, args: &[&str]) -> serde_json::Value {
        let config = self.dir.join("coordinator.toml");
        let mut all = args.to_vec();
        all.extend(["--config", config.to_str().unwrap()]);
        self.run_json(&all).0
    }

    /// Makes a key of engine `scheme` (`mpc-node keygen`, which must succeed); its key id.
    pub fn keygen_id(&self, scheme: &str) -> String {
        let out = self.keygen(scheme);
        assert!(
            out.status.success(),
            "keygen {scheme}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["key_id"].as_str().unwrap().to_string()
    }

    /// The registry's entry for `key_id` now.
    pub fn registered(&self, key_id: &str) -> mpc_node::coordinator::RegisteredKey {
        mpc_node::coordinator::Registry::load(&self.dir.join("keys.json"))
            .unwrap()
            .get(key_id)
            .unwrap()
            .clone()
    }

    /// Signs message `[k; 32]` with `key_id` as the registry names it now, on the first
    /// quorum the coordinator finds among the parties up (checked by an independent
    /// verifier); returns the quorum.
    pub fn signs(&self, key_id: &str, k: u8) -> Vec<u16> {
        let key = self.registered(key_id);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let c = mpc_node::coordinator::CoordinatorClient::connect(
                &self.dir.join("coordinator.toml"),
                std::time::Duration::from_secs(5),
            )
            .await
            .unwrap();
            let msg = [k; 32];
            let signed = c
                .coordinator
                .sign(&key.key_ref(), key.t, &[request(key.scheme, msg)])
                .await
                .unwrap();
            check(key.scheme, &key.public_key, &msg, &signed.signatures[0]);
            signed.report.attempts.last().unwrap().quorum.clone()
        })
    }

    /// A coordinator client connected to the deployment's parties.
    pub async fn client(&self) -> mpc_node::coordinator::CoordinatorClient {
        mpc_node::coordinator::CoordinatorClient::connect(
            &self.dir.join("coordinator.toml"),
            std::time::Duration::from_secs(20),
        )
        .await
        .unwrap()
    }

    pub fn kek(&self) -> Arc<PassphraseKek> {
        let p = std::fs::read_to_string(self.dir.join(DEMO_PASSPHRASE)).unwrap();
        Arc::new(
            PassphraseKek::new(
                p.trim_end().as_bytes(),
                Argon2Params {
                    m_kib: 8 * 1024,
                    t: 1,
                    p: 1,
                },
            )
            .unwrap(),
        )
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for i in 0..self.parties.len() {
            self.kill(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Checks a signature of engine `scheme` under group key `pk` with an independent verifier
/// (libsecp256k1 for ECDSA and BIP-340 under the BIP-341 output key, ed25519-dalek).
pub fn check(scheme: SchemeId, pk: &PublicKey, msg: &[u8; 32], sig: &Signature) {
    match (scheme, sig) {
        (SchemeId::Cggmp21Secp256k1 | SchemeId::Gg20Secp256k1, _) => check_ecdsa(pk, msg, sig),
        (SchemeId::FrostEd25519, _) => check_ed25519(pk, msg, sig),
        (SchemeId::FrostSecp256k1Tr, Signature::Bip340 { bytes }) => {
            // BIP-341: the signature verifies under the tweaked output key.
            let secp = secp256k1::Secp256k1::verification_only();
            let internal = secp256k1::XOnlyPublicKey::from_slice(&pk.as_bytes()[1..]).unwrap();
            let tweak = {
                use bitcoin::hashes::{sha256t_hash_newtype, Hash, HashEngine};
                sha256t_hash_newtype! {
                    struct TapTweakTag = hash_str("TapTweak");
                    #[hash_newtype(forward)]
                    struct TapTweakHash(_);
                }
                let mut e = TapTweakHash::engine();
                e.input(&internal.serialize());
                secp256k1::Scalar::from_be_bytes(TapTweakHash::from_engine(e).to_byte_array())
                    .unwrap()
            };
            let (output, _) = internal.add_tweak(&secp, &tweak).unwrap();
            let s = secp256k1::schnorr::Signature::from_slice(bytes).unwrap();
            secp.verify_schnorr(&s, &secp256k1::Message::from_digest(*msg), &output)
                .unwrap();
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A request of engine `scheme` for the 32-byte message `msg`.
pub fn request(scheme: SchemeId, msg: [u8; 32]) -> SignRequest {
    match scheme {
        SchemeId::FrostEd25519 => SignRequest::ed25519(msg.to_vec()),
        SchemeId::FrostSecp256k1Tr => SignRequest::bip340(msg.to_vec(), None),
        _ => SignRequest::ecdsa(msg),
    }
}

/// What a party's vault does wrong, in a party run in the test process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Stores a new share, then stops before it reports (a party killed after storing).
    HangAfterStoring,
    /// Writes the sealed share but not its `meta.json`, then stops (a party killed while
    /// storing).
    TornWrite,
}

/// A party's vault with a [`Fault`]; it stops (never answers) until `stop` is set.
pub struct FaultyVault {
    pub inner: mpc_node::vault::NodeVault,
    pub store_dir: PathBuf,
    pub fault: Fault,
    pub stop: Arc<std::sync::atomic::AtomicBool>,
}

impl FaultyVault {
    fn stopped(&self) -> String {
        while !self.stop.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        "stopped".into()
    }
}

impl mpc_transport::KeyVault for FaultyVault {
    fn paillier_primes(&self) -> Result<PaillierPrimes, String> {
        self.inner.paillier_primes()
    }
    fn fresh_paillier_primes(&self, epoch: u32) -> Result<PaillierPrimes, String> {
        self.inner.fresh_paillier_primes(epoch)
    }
    fn store_pending(
        &self,
        key_id: &str,
        key: &mpc_transport::HeldKey,
        committee: &[u16],
    ) -> Result<[u8; 32], String> {
        self.inner.store_pending(key_id, key, committee)?;
        if self.fault == Fault::TornWrite {
            let slot = mpc_node::vault::slot_dir(key_id, key.epoch());
            std::fs::remove_file(self.store_dir.join(slot).join("meta.json")).unwrap();
        }
        Err(self.stopped())
    }
    fn read_import(&self, file: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
        self.inner.read_import(file)
    }
    fn activate(
        &self,
        key_id: &str,
        epoch: Option<u32>,
        stored_hash: Option<&str>,
    ) -> Result<mpc_transport::StoredKey, String> {
        self.inner.activate(key_id, epoch, stored_hash)
    }
    fn retire(&self, key_id: &str, epoch: u32, pending_only: bool) -> Result<(), String> {
        mpc_transport::KeyVault::retire(&self.inner, key_id, epoch, pending_only)
    }
}

/// A party run in the test process (its store, config and certificate), with a faulty
/// vault; [`InProcessParty::stop`] ends it and releases its store.
pub struct InProcessParty {
    rt: Option<tokio::runtime::Runtime>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl InProcessParty {
    pub fn stop(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
        }
    }
}

impl Deployment {
    /// Runs party `i` in this process with a vault that has `fault` (its process must be
    /// stopped).
    pub fn in_process(&self, i: u16, fault: Fault) -> InProcessParty {
        let config_path = self.dir.join(format!("party-{i}.toml"));
        let c = mpc_node::config::PartyConfig::load(&config_path).unwrap();
        let store = Arc::new(
            mpc_node::store::SealedStore::open(&c.store, c.open_kek(&config_path).unwrap())
                .unwrap(),
        );
        let inner = mpc_node::vault::NodeVault::new(
            store.clone(),
            i,
            mpc_node::vault::PrimesSource::DangerTestOnlyFixture(vectors(
                "test-only-paillier-primes.json",
            )),
        );
        let active = inner.active_keys().unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let vault = FaultyVault {
            inner,
            store_dir: c.store.clone(),
            fault,
            stop: stop.clone(),
        };
        let net = c.network.clone();
        let id = mpc_node::party::identity(
            &store,
            &net.ca_cert,
            &net.cert,
            &net.tls_key,
            i,
            &net.domain,
        )
        .unwrap();
        drop(store);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let n = net.peers.len() as u16;
        rt.spawn(async move {
            let peers = (0u16..).zip(net.peers.iter().copied()).collect();
            let listener = tokio::net::TcpListener::bind(net.mesh_listen.unwrap())
                .await
                .unwrap();
            let node =
                mpc_transport::TcpNode::start(i, n, listener, &peers, &id, Default::default())
                    .unwrap();
            let control = tokio::net::TcpListener::bind(net.control_listen)
                .await
                .unwrap();
            let party = mpc_transport::Party::new(
                Arc::new(node),
                Vec::new(),
                Arc::new(mpc_transport::UncheckedRequests),
                Default::default(),
            )
            .with_vault(Arc::new(vault), active);
            Arc::new(party).serve(control, &id).await.unwrap();
        });
        InProcessParty { rt: Some(rt), stop }
    }

    /// Bounds every key ceremony of this deployment's coordinator to `seconds`.
    pub fn short_ceremonies(&self, seconds: u64) {
        let path = self.dir.join("coordinator.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("ceremony_timeout_s = {seconds}\n{text}")).unwrap();
    }
}

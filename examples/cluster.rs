//! The latency report's deployment of party processes on 127.0.0.1: its directory (keys,
//! demo certificates, addresses, presignature pools), the party process and the party-side
//! policy that derives every request from the chain payload.
//!
//! BENCHMARK ONLY: its keys are made by `keygen_all` in one process (every share passes
//! through it) and stored in clear. A deployment uses `mpc-node` (networked key
//! ceremonies, sealed stores): see `mpc-node demo`.
//!
//! Layout of a deployment directory:
//!
//! - `deployment.json`: parties, threshold, domain, mesh and control addresses;
//! - `pki/`: a throwaway demo CA and one certificate per party plus the coordinator's
//!   (made with `mpc_transport::devpki`; a real deployment uses its own CA);
//! - `<scheme>-<t>of<n>/party-<i>.json`: key shares (see [`crate::KeyDir`]);
//! - `pools/party-<i>/`: each party's durable CGGMP21 presignature pool, sealed under the
//!   DEMO-ONLY key file `pools/DEMO-ONLY-pool-kek.hex` (`mpc_node::pool::DurablePool`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chain_btc::{AddressKind, BtcEncoder};
use chain_evm::EvmEncoder;
use chain_sol::SolEncoder;
use mpc_core::chain::{derive_request, ChainEncoder};
use mpc_core::*;
use mpc_transport::devpki::DevCa;
use mpc_transport::*;
use serde::{Deserialize, Serialize};

use crate::chains::PublicKeys;
use crate::{write_secret, KeyDir};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// `deployment.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    /// Parties.
    pub n: u16,
    /// Signers needed.
    pub t: u16,
    /// Certificate domain.
    pub domain: String,
    /// Party mesh addresses, by index.
    pub mesh: Vec<SocketAddr>,
    /// Control (coordinator) addresses, by index.
    pub control: Vec<SocketAddr>,
    /// EVM chain id the parties' policy accepts.
    pub evm_chain_id: u64,
    /// The group public keys (so the coordinator never reads a share).
    pub keys: PublicKeys,
}

/// Creates (or reuses) a deployment in `dir`: keys (made once, CGGMP21 primes cached),
/// fresh demo certificates and addresses from `base_port` (mesh `base_port + i`, control
/// `base_port + 100 + i`).
///
/// # Errors
/// I/O, key generation.
pub fn setup(dir: &Path, n: u16, t: u16, base_port: u16, evm_chain_id: u64) -> Res<Deployment> {
    std::fs::create_dir_all(dir)?;
    let (ec, ed, tr) = ensure_keys(&KeyDir(dir.to_path_buf()), t, n)?;
    let pk = |k: Option<PublicKey>| k.ok_or("no shares");
    let keys = PublicKeys {
        ecdsa: pk(ec.first().map(KeyShare::public_key))?,
        ed25519: pk(ed.first().map(KeyShare::public_key))?,
        taproot: pk(tr.first().map(KeyShare::public_key))?,
    };
    let domain = "mpc.local".to_string();
    let ca = DevCa::new(&domain)?;
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki)?;
    std::fs::write(pki.join("ca.pem"), ca.cert_pem())?;
    for (name, id) in (0..n)
        .map(|i| Ok((format!("party-{i}"), ca.party(i)?)))
        .chain(std::iter::once(Ok((
            "coordinator".to_string(),
            ca.coordinator()?,
        ))))
        .collect::<Result<Vec<_>, TransportError>>()?
    {
        std::fs::write(pki.join(format!("{name}.pem")), &id.cert_pem)?;
        write_secret(&pki.join(format!("{name}.key")), id.key_pem.as_bytes())?;
    }
    let addr = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    let d = Deployment {
        n,
        t,
        domain,
        mesh: (0..n).map(|i| addr(base_port + i)).collect(),
        control: (0..n).map(|i| addr(base_port + 100 + i)).collect(),
        evm_chain_id,
        keys,
    };
    std::fs::write(dir.join("deployment.json"), serde_json::to_vec_pretty(&d)?)?;
    Ok(d)
}

/// Reads `deployment.json`.
///
/// # Errors
/// Missing or malformed file.
pub fn load(dir: &Path) -> Res<Deployment> {
    let path = dir.join("deployment.json");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Loads the identity `name` (`party-<i>` or `coordinator`).
///
/// # Errors
/// Missing or malformed PEM files.
pub fn identity(dir: &Path, d: &Deployment, name: &str) -> Res<TlsIdentity> {
    let pki = dir.join("pki");
    let read = |f: String| std::fs::read(pki.join(&f)).map_err(|e| format!("pki/{f}: {e}"));
    let key = zeroize::Zeroizing::new(read(format!("{name}.key"))?);
    Ok(TlsIdentity::from_pem(
        &read("ca.pem".into())?,
        &read(format!("{name}.pem"))?,
        &key,
        &d.domain,
    )?)
}

type EdShares = Vec<KeyShare<<FrostEd25519 as ThresholdScheme>::Data>>;
type TrShares = Vec<KeyShare<<FrostTaproot as ThresholdScheme>::Data>>;

/// Loads the three keys of a `t`-of-`n` deployment, making any that is missing.
///
/// # Errors
/// I/O, key generation.
pub fn ensure_keys(keys: &KeyDir, t: u16, n: u16) -> Res<(Vec<Cggmp21Share>, EdShares, TrShares)> {
    let opts = DriveOptions::default();
    let ed = match keys.load(SchemeId::FrostEd25519, t, n)? {
        Some(s) => s,
        None => {
            let s = keygen_all::<FrostEd25519>(t, vec![(); usize::from(n)], &opts)?;
            keys.save(&s)?;
            s
        }
    };
    let tr = match keys.load(SchemeId::FrostSecp256k1Tr, t, n)? {
        Some(s) => s,
        None => {
            let s = keygen_all::<FrostTaproot>(t, vec![(); usize::from(n)], &opts)?;
            keys.save(&s)?;
            s
        }
    };
    let ec = match keys.load(SchemeId::Cggmp21Secp256k1, t, n)? {
        Some(s) => s,
        None => {
            let configs = keys.primes(n)?.into_iter().map(Into::into).collect();
            eprintln!("CGGMP21 key generation ({t}-of-{n}) ...");
            let s = keygen_all::<Cggmp21>(t, configs, &opts)?;
            keys.save(&s)?;
            s
        }
    };
    Ok((ec, ed, tr))
}

/// The party's policy: a request must carry an unsigned Bitcoin (regtest), EVM (the
/// deployment's chain id) or Solana payload, and the party signs only what it derives from
/// that payload itself. Raw digests are refused unless `allow_raw`.
#[derive(Debug, Clone)]
pub struct ChainPolicy {
    /// EVM chain id accepted.
    pub evm_chain_id: u64,
    /// Also sign requests without a chain payload (benchmarks of the bare protocols).
    pub allow_raw: bool,
}

impl RequestPolicy for ChainPolicy {
    fn approve(&self, key: &KeyRef, r: &SignRequest) -> Result<SignRequest, String> {
        fn derive<C: ChainEncoder>(
            enc: &C,
            key: &PublicKey,
            r: &SignRequest,
        ) -> Result<SignRequest, String> {
            derive_request(enc, key, r, |_| Ok(())).map_err(|e| e.to_string())
        }
        let Some(payload) = &r.chain_payload else {
            return if self.allow_raw {
                Ok(r.clone())
            } else {
                Err(
                    "request carries no chain payload; this party signs only what it derives"
                        .into(),
                )
            };
        };
        let pk = &key.public_key;
        match (payload.chain.as_str(), key.scheme) {
            ("btc", SchemeId::Cggmp21Secp256k1) => derive(
                &BtcEncoder::new(bitcoin::Network::Regtest, AddressKind::P2wpkh),
                pk,
                r,
            ),
            ("btc", SchemeId::FrostSecp256k1Tr) => derive(
                &BtcEncoder::new(bitcoin::Network::Regtest, AddressKind::P2tr),
                pk,
                r,
            ),
            ("evm", SchemeId::Cggmp21Secp256k1) => {
                derive(&EvmEncoder::new(self.evm_chain_id), pk, r)
            }
            ("sol", SchemeId::FrostEd25519) => derive(&SolEncoder::new(), pk, r),
            (chain, scheme) => Err(format!("no policy for {chain} payloads with {scheme}")),
        }
    }
}

/// Party `i`'s durable presignature pool, sealed under the deployment's DEMO-ONLY key
/// file (a real node takes its key-encryption key from its config: passphrase, key file
/// or HSM).
fn demo_pool(dir: &Path, i: u16) -> Res<mpc_node::pool::DurablePool<Cggmp21>> {
    use mpc_node::seal::KeyFileKek;
    let pools = dir.join("pools");
    mpc_node::fsutil::private_dir(&pools)?;
    let kek_path = pools.join("DEMO-ONLY-pool-kek.hex");
    let kek = match KeyFileKek::from_file(&kek_path) {
        Ok(k) => k,
        Err(_) => match KeyFileKek::generate(&kek_path) {
            Ok(k) => k,
            // Another party process made it first.
            Err(mpc_node::NodeError::Exists { .. }) => KeyFileKek::from_file(&kek_path)?,
            Err(e) => return Err(e.into()),
        },
    };
    let store =
        mpc_node::store::SealedStore::open(pools.join(format!("party-{i}")), Arc::new(kek))?;
    Ok(mpc_node::pool::DurablePool::open(
        Arc::new(store),
        "cggmp21",
        i,
        0,
    )?)
}

/// Settings of a party process.
#[derive(Debug, Clone, Default)]
pub struct PartySettings {
    /// Sign raw digests too.
    pub allow_raw: bool,
    /// Simulated one-way delay per message.
    pub delay: Duration,
}

/// Runs party `i` of the deployment in `dir` until killed.
///
/// # Errors
/// Setup errors (files, sockets); the serving loop itself does not return.
pub fn run_party(dir: &Path, i: u16, s: &PartySettings) -> Res<()> {
    let d = load(dir)?;
    let keys = KeyDir(dir.to_path_buf());
    let at = |v: &[SocketAddr]| v.get(usize::from(i)).copied().ok_or("index out of range");
    let (mesh_addr, control_addr) = (at(&d.mesh)?, at(&d.control)?);
    let pool = demo_pool(dir, i)?;
    let held = vec![
        HeldKey::Cggmp21 {
            share: keys.load_one(SchemeId::Cggmp21Secp256k1, d.t, d.n, i)?,
            pool: Some(Arc::new(Mutex::new(pool))),
        },
        HeldKey::FrostEd25519(keys.load_one(SchemeId::FrostEd25519, d.t, d.n, i)?),
        HeldKey::FrostTaproot(keys.load_one(SchemeId::FrostSecp256k1Tr, d.t, d.n, i)?),
    ];
    let id = identity(dir, &d, &format!("party-{i}"))?;
    let policy = Arc::new(ChainPolicy {
        evm_chain_id: d.evm_chain_id,
        allow_raw: s.allow_raw,
    });
    let peers: HashMap<u16, SocketAddr> = (0u16..).zip(d.mesh.iter().copied()).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let delay = s.delay;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(mesh_addr).await?;
        let node = TcpNode::start(
            i,
            d.n,
            listener,
            &peers,
            &id,
            TcpOptions {
                delay,
                ..TcpOptions::default()
            },
        )?;
        let control = tokio::net::TcpListener::bind(control_addr).await?;
        let party = Arc::new(Party::new(
            Arc::new(node),
            held,
            policy,
            PartyOptions {
                delay,
                ..PartyOptions::default()
            },
        ));
        eprintln!("party {i}: mesh {mesh_addr}, control {control_addr}");
        party.serve(control, &id).await?;
        Ok(())
    })
}

/// Party processes started from this executable (it must handle `--party-process I`);
/// killed when dropped.
#[derive(Debug)]
pub struct Processes(Vec<std::process::Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `n` party processes: this executable with `--party-process <i> --dir <dir>` and
/// `extra` arguments.
///
/// # Errors
/// Spawning failed.
pub fn spawn_parties(dir: &Path, n: u16, extra: &[String]) -> Res<Processes> {
    let exe = std::env::current_exe()?;
    let mut out = Processes(Vec::new());
    for i in 0..n {
        out.0.push(
            std::process::Command::new(&exe)
                .arg("--party-process")
                .arg(i.to_string())
                .arg("--dir")
                .arg(dir)
                .args(extra)
                .stdout(std::process::Stdio::null())
                .spawn()?,
        );
    }
    Ok(out)
}

/// If the arguments ask for a party process (`--party-process I --dir D [--allow-raw]
/// [--delay-ms X]`), runs it and never returns; otherwise returns.
pub fn party_process_mode(args: &[String]) {
    let Some(pos) = args.iter().position(|a| a == "--party-process") else {
        return;
    };
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|p| args.get(p + 1))
    };
    let run = || -> Res<()> {
        let i: u16 = args
            .get(pos + 1)
            .ok_or("--party-process needs an index")?
            .parse()?;
        let dir = PathBuf::from(get("--dir").ok_or("--dir needed")?);
        let delay = match get("--delay-ms") {
            Some(v) => Duration::from_secs_f64(v.parse::<f64>()? / 1000.0),
            None => Duration::ZERO,
        };
        run_party(
            &dir,
            i,
            &PartySettings {
                allow_raw: args.iter().any(|a| a == "--allow-raw"),
                delay,
            },
        )
    };
    if let Err(e) = run() {
        eprintln!("party process: {e}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

/// Connects a coordinator to the deployment's parties and waits for all of them.
///
/// # Errors
/// Identity files, or parties not reachable within `wait`.
pub async fn coordinator(
    dir: &Path,
    opts: CoordinatorOptions,
    wait: Duration,
) -> Res<Arc<Coordinator>> {
    let d = load(dir)?;
    let id = identity(dir, &d, "coordinator")?;
    let parties: HashMap<u16, SocketAddr> = (0u16..).zip(d.control.iter().copied()).collect();
    let c = Coordinator::start(&id, &parties, opts)?;
    let up = c.wait_connected(usize::from(d.n), wait).await;
    if up.len() < usize::from(d.n) {
        return Err(format!("only parties {up:?} of {} are reachable", d.n).into());
    }
    Ok(Arc::new(c))
}

//! `mpc-node demo`: a deployment on this machine (written once), its party processes, a
//! key of every engine made by networked ceremonies, and the quickstart's transactions
//! signed through the parties.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mpc_core::{PublicKey, SchemeId, SignRequest, Signature};
use serde::Serialize;

use super::txs::{
    local_runtime_blockhash, sign_demo_transactions_with, DemoSigner, PublicKeys, Report, Settings,
};
use super::DemoDeployment;
use crate::config::MeshTransport;
use crate::coordinator::{CoordinatorClient, RegisteredKey, Registry};
use crate::error::{NodeError, Result};

/// The engines the demo makes a key for, in order.
pub const DEMO_SCHEMES: [SchemeId; 4] = [
    SchemeId::Cggmp21Secp256k1,
    SchemeId::FrostEd25519,
    SchemeId::FrostSecp256k1Tr,
    SchemeId::Gg20Secp256k1,
];

/// What `mpc-node demo --json` prints: the quickstart's object plus the keys.
#[derive(Debug, Clone, Serialize)]
pub struct DemoOutput {
    /// The signed transactions (the quickstart's schema).
    #[serde(flatten)]
    pub report: Report,
    /// The keys, one per engine.
    pub keys: Vec<DemoKey>,
    /// One readable line per transaction (not in the JSON).
    #[serde(skip)]
    pub lines: Vec<String>,
}

/// A key of the demo.
#[derive(Debug, Clone, Serialize)]
pub struct DemoKey {
    /// Key id.
    pub key_id: String,
    /// Scheme.
    pub scheme: String,
    /// Group public key, hex.
    pub public_key_hex: String,
}

/// Party processes, stopped when dropped.
#[derive(Debug)]
pub struct PartyProcesses(Vec<Child>);

impl Drop for PartyProcesses {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `mpc-node party` (the executable `exe`) for each `party-<i>.toml` in `dir`; their
/// stderr (progress of prime generation, errors) goes to ours.
///
/// # Errors
/// Spawning failed.
pub fn spawn_parties(exe: &Path, dir: &Path, n: u16) -> Result<PartyProcesses> {
    let mut out = PartyProcesses(Vec::new());
    for i in 0..n {
        let child = Command::new(exe)
            .arg("party")
            .arg("--config")
            .arg(dir.join(format!("party-{i}.toml")))
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| NodeError::Other(format!("starting party {i}: {e}")))?;
        out.0.push(child);
    }
    Ok(out)
}

struct Remote<'a> {
    rt: &'a tokio::runtime::Runtime,
    client: &'a CoordinatorClient,
    keys: &'a [RegisteredKey],
}

impl DemoSigner for Remote<'_> {
    fn sign(
        &self,
        scheme: SchemeId,
        key: &PublicKey,
        requests: &[SignRequest],
    ) -> core::result::Result<Vec<Signature>, Box<dyn std::error::Error>> {
        let k = self
            .keys
            .iter()
            .find(|k| k.scheme == scheme && k.public_key == *key)
            .ok_or("no such key in the registry")?;
        let signed = self
            .rt
            .block_on(self.client.coordinator.sign(&k.key_ref(), k.t, requests))?;
        Ok(signed.signatures)
    }
}

/// Runs the demo in `dir` (see the module docs) with the party executable `exe`.
///
/// # Errors
/// Setup, ceremonies, signing.
pub fn run(exe: &Path, dir: &Path, deployment: &DemoDeployment) -> Result<DemoOutput> {
    let wanted = if deployment.nats_url.is_some() {
        MeshTransport::Nats
    } else {
        MeshTransport::Tcp
    };
    if dir.join("coordinator.toml").exists() {
        let party0 = crate::config::PartyConfig::load(&dir.join("party-0.toml"))?;
        if party0.network.transport != wanted {
            return Err(NodeError::Other(format!(
                "the deployment in {} runs over {}, not {wanted}: give a new --dir",
                dir.display(),
                party0.network.transport
            )));
        }
    } else {
        eprintln!(
            "writing a {}-of-{} demo deployment over {wanted} to {}",
            deployment.threshold,
            deployment.mesh.len(),
            dir.display()
        );
        super::write(dir, deployment)?;
    }
    let config = crate::config::CoordinatorConfig::load(&dir.join("coordinator.toml"))?;
    let n = u16::try_from(config.parties.len()).map_err(|_| NodeError::Other("parties".into()))?;
    let _parties = spawn_parties(exe, dir, n)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| NodeError::Other(e.to_string()))?;
    let client = rt.block_on(CoordinatorClient::connect(
        &dir.join("coordinator.toml"),
        Duration::from_secs(30),
    ))?;
    let mut registry = Registry::load(&config.registry)?;
    for scheme in DEMO_SCHEMES {
        if registry.keys.iter().any(|k| k.scheme == scheme) {
            continue;
        }
        eprintln!(
            "key ceremony: {scheme} ({}-of-{n}) across the {n} party processes ...",
            config.threshold
        );
        let start = std::time::Instant::now();
        let key = rt.block_on(client.keygen(scheme))?;
        eprintln!("  {} active in {:.1?}", key.key_id, start.elapsed());
        registry = Registry::load(&config.registry)?;
    }
    let pick = |s: SchemeId| -> Result<PublicKey> {
        registry
            .keys
            .iter()
            .find(|k| k.scheme == s)
            .map(|k| k.public_key)
            .ok_or_else(|| NodeError::Other(format!("no {s} key")))
    };
    let pks = PublicKeys {
        ecdsa: pick(SchemeId::Cggmp21Secp256k1)?,
        ed25519: pick(SchemeId::FrostEd25519)?,
        taproot: pick(SchemeId::FrostSecp256k1Tr)?,
    };
    let settings = Settings {
        signers: Vec::new(),
        evm_chain_id: 1,
        sol_blockhash: local_runtime_blockhash(),
        drive: mpc_transport::DriveOptions::default(),
    };
    let signer = Remote {
        rt: &rt,
        client: &client,
        keys: &registry.keys,
    };
    let (report, lines) = sign_demo_transactions_with(&pks, &settings, &signer)
        .map_err(|e| NodeError::Other(e.to_string()))?;
    let keys = DEMO_SCHEMES
        .iter()
        .filter_map(|s| registry.keys.iter().find(|k| k.scheme == *s))
        .map(|k| DemoKey {
            key_id: k.key_id.clone(),
            scheme: k.scheme.to_string(),
            public_key_hex: hex::encode(k.public_key.as_bytes()),
        })
        .collect();
    Ok(DemoOutput {
        report,
        keys,
        lines,
    })
}

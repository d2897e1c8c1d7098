//! DEMO ONLY: writes a whole deployment into one directory on one machine: a throwaway CA
//! (`mpc_transport::devpki`), one certificate and one TOML config per party and one for the
//! coordinator, each party's sealed store with its TLS key, and a passphrase file named
//! `DEMO-ONLY-passphrase.txt`. A real deployment makes each party's config, certificate
//! and store on that party's own machine, with its own CA and key-encryption key.
//!
//! [`txs`] builds and signs the quickstart's transactions (one of each kind per chain).

pub mod add_party;
pub mod run;
pub mod txs;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mpc_transport::devpki::DevCa;

use crate::config::{
    CoordinatorConfig, KekConfig, MeshTransport, NatsConfig, NetworkConfig, PartyConfig,
};
use crate::coordinator::COORDINATOR_LABEL_INDEX;
use crate::error::{io, NodeError, Result};
use crate::party::tls_key_label;
use crate::policy::{BtcConfig, EvmConfig, PolicyConfig, SolConfig};
use crate::seal::{Argon2Params, PassphraseKek};
use crate::store::SealedStore;

/// Name of the demo passphrase file.
pub const DEMO_PASSPHRASE: &str = "DEMO-ONLY-passphrase.txt";

/// Name of party `i`'s demo recovery identity (what opens its backups).
pub fn demo_recovery_identity(i: u16) -> String {
    format!("DEMO-ONLY-recovery-identity-party-{i}.txt")
}

/// What to write.
#[derive(Debug, Clone)]
pub struct DemoDeployment {
    /// Signers needed.
    pub threshold: u16,
    /// Mesh address of each party.
    pub mesh: Vec<SocketAddr>,
    /// Control address of each party.
    pub control: Vec<SocketAddr>,
    /// EVM chain id the parties sign for.
    pub evm_chain_id: u64,
    /// TEST ONLY: pregenerated public primes for the parties.
    pub danger_test_only_primes: Option<PathBuf>,
    /// Let parties sign bare digests (benchmarks, tests of the protocols alone).
    pub danger_allow_raw_digests: bool,
    /// Argon2id parameters of the stores.
    pub argon2: Argon2Params,
    /// The broker, when the parties reach each other through NATS instead of TCP (then
    /// `mesh` only counts the parties).
    pub nats_url: Option<String>,
}

impl DemoDeployment {
    /// `n` parties on 127.0.0.1: mesh ports from `base_port`, control ports from
    /// `base_port + 100`.
    pub fn local(n: u16, threshold: u16, base_port: u16) -> Self {
        let addr = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        DemoDeployment {
            threshold,
            mesh: (0..n).map(|i| addr(base_port + i)).collect(),
            control: (0..n).map(|i| addr(base_port + 100 + i)).collect(),
            evm_chain_id: 1,
            danger_test_only_primes: None,
            danger_allow_raw_digests: false,
            argon2: Argon2Params::default(),
            nats_url: None,
        }
    }
}

pub(crate) fn to_toml<T: serde::Serialize>(v: &T) -> Result<String> {
    toml::to_string(v).map_err(|e| NodeError::Other(e.to_string()))
}

pub(crate) fn write_public(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(io("writing", path))
}

/// Writes the deployment into `dir` (which must not hold one). Party `i`'s config is
/// `party-<i>.toml`, the coordinator's `coordinator.toml`.
///
/// # Errors
/// `dir` holds a deployment already; I/O; certificate generation.
pub fn write(dir: &Path, d: &DemoDeployment) -> Result<()> {
    let n = u16::try_from(d.mesh.len()).map_err(|_| NodeError::Other("too many parties".into()))?;
    mpc_core::check_threshold(d.threshold, n)?;
    if dir.join("coordinator.toml").exists() {
        return Err(NodeError::Exists {
            path: dir.join("coordinator.toml"),
        });
    }
    crate::fsutil::private_dir(dir)?;
    let pass_path = dir.join(DEMO_PASSPHRASE);
    let mut secret = [0u8; 24];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
    let passphrase = zeroize::Zeroizing::new(format!("demo-only-{}\n", hex::encode(secret)));
    crate::fsutil::write_new(&pass_path, passphrase.as_bytes())?;
    let kek = Arc::new(PassphraseKek::new(
        passphrase.trim_end().as_bytes(),
        d.argon2,
    )?);
    let kek_config = KekConfig {
        passphrase_file: Some(PathBuf::from(DEMO_PASSPHRASE)),
        argon2: Some(d.argon2),
        key_file: None,
        pkcs11: None,
    };
    let domain = "mpc.local".to_string();
    let ca = DevCa::new(&domain).map_err(|e| NodeError::Other(e.to_string()))?;
    let pki = dir.join("pki");
    crate::fsutil::private_dir(&pki)?;
    write_public(&pki.join("ca.pem"), ca.cert_pem().as_bytes())?;
    let policy = PolicyConfig {
        danger_allow_raw_digests: d.danger_allow_raw_digests,
        btc: Some(BtcConfig {
            networks: vec!["regtest".into()],
            p2wpkh_sighash: vec!["ALL".into()],
            p2tr_sighash: vec!["DEFAULT".into()],
            require_previous_tx: true,
            max_sent_sats: Some(1_000_000),
            max_fee_sats: Some(50_000),
        }),
        evm: Some(EvmConfig {
            chain_ids: vec![d.evm_chain_id],
            max_value_wei: Some("10000000000000000000".into()),
            allowed_destinations: None,
        }),
        sol: Some(SolConfig {
            max_lamports: Some(10_000_000_000),
            allowed_programs: None,
        }),
    };
    if d.control.len() != d.mesh.len() {
        return Err(NodeError::Other(
            "one control address per mesh address".into(),
        ));
    }
    let nats = d.nats_url.as_ref().map(|url| NatsConfig {
        url: url.clone(),
        parties: n,
    });
    for (i, (&mesh_listen, &control_listen)) in (0u16..).zip(d.mesh.iter().zip(&d.control)) {
        let id = ca.party(i).map_err(|e| NodeError::Other(e.to_string()))?;
        write_public(&pki.join(format!("party-{i}.pem")), id.cert_pem.as_bytes())?;
        let (identity, recipient) = crate::backup::new_recovery_identity();
        crate::fsutil::write_new(
            &dir.join(demo_recovery_identity(i)),
            format!("{}\n", identity.as_str()).as_bytes(),
        )?;
        let store_dir = dir.join(format!("party-{i}"));
        let store = SealedStore::open(&store_dir, kek.clone())?;
        store.put_new("tls/party.key", &tls_key_label(i), id.key_pem.as_bytes())?;
        let config = PartyConfig {
            index: i,
            store: PathBuf::from(format!("party-{i}")),
            audit_log: PathBuf::from(format!("party-{i}/audit.jsonl")),
            network: NetworkConfig {
                domain: domain.clone(),
                transport: if nats.is_some() {
                    MeshTransport::Nats
                } else {
                    MeshTransport::Tcp
                },
                mesh_listen: nats.is_none().then_some(mesh_listen),
                control_listen,
                peers: if nats.is_some() {
                    Vec::new()
                } else {
                    d.mesh.clone()
                },
                nats: nats.clone(),
                ca_cert: PathBuf::from("pki/ca.pem"),
                cert: PathBuf::from(format!("pki/party-{i}.pem")),
                tls_key: "tls/party.key".into(),
            },
            kek: kek_config.clone(),
            policy: policy.clone(),
            danger_test_only_paillier_primes: d.danger_test_only_primes.clone(),
            import_dir: Some(PathBuf::from(format!("party-{i}-import"))),
            backup: Some(crate::config::BackupConfig { recipient }),
        };
        write_public(
            &dir.join(format!("party-{i}.toml")),
            to_toml(&config)?.as_bytes(),
        )?;
    }
    let id = ca
        .coordinator()
        .map_err(|e| NodeError::Other(e.to_string()))?;
    write_public(&pki.join("coordinator.pem"), id.cert_pem.as_bytes())?;
    let store = SealedStore::open(dir.join("coordinator"), kek)?;
    store.put_new(
        "tls/coordinator.key",
        &tls_key_label(COORDINATOR_LABEL_INDEX),
        id.key_pem.as_bytes(),
    )?;
    let config = CoordinatorConfig {
        domain,
        parties: d.control.clone(),
        threshold: d.threshold,
        registry: PathBuf::from("keys.json"),
        ca_cert: PathBuf::from("pki/ca.pem"),
        cert: PathBuf::from("pki/coordinator.pem"),
        store: PathBuf::from("coordinator"),
        tls_key: "tls/coordinator.key".into(),
        kek: kek_config,
        round_timeout_ms: None,
        ceremony_timeout_s: None,
    };
    write_public(&dir.join("coordinator.toml"), to_toml(&config)?.as_bytes())?;
    store.put_new(DEMO_CA_KEY, &ca_key_label(), ca.key_pem().as_bytes())?;
    Ok(())
}

/// Where the demo CA's key is sealed, in the coordinator's store.
pub const DEMO_CA_KEY: &str = "pki/DEMO-ONLY-ca.key";

/// The label of the sealed demo CA key.
pub fn ca_key_label() -> crate::seal::Label {
    crate::seal::Label::new(
        crate::seal::SecretKind::DemoCaKey,
        None,
        "",
        COORDINATOR_LABEL_INDEX,
        0,
    )
}

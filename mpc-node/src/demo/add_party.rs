//! DEMO ONLY: adds a party to a deployment directory written by [`super::write`]: the new
//! party's certificate (issued by the demo CA, whose key the coordinator's store keeps
//! sealed), its sealed store with its TLS key, its recovery identity and its config; every
//! existing party's peer list and the coordinator's party list gain it. The running
//! parties must be restarted to connect to it. A real deployment makes the new party's key
//! and certificate on its own machine with the deployment's CA.
//!
//! The new party holds no share of any key until a resharing gives it one
//! (`mpc-node reshare --parties …`).
//!
//! [`replace`] re-provisions an existing party whose server (and store) was lost: a new
//! certificate and an empty sealed store with a new TLS key under the same index, config
//! and recovery recipient; `mpc-node repair` then gives it its shares back.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mpc_transport::devpki::DevCa;

use super::{ca_key_label, demo_recovery_identity, to_toml, write_public, DEMO_CA_KEY};
use crate::config::{CoordinatorConfig, PartyConfig};
use crate::error::{io, NodeError, Result};
use crate::party::tls_key_label;
use crate::store::SealedStore;

/// The party `add` made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AddedParty {
    /// Its index in the deployment.
    pub party: u16,
    /// Its config file.
    pub config: PathBuf,
    /// Its mesh address (`None` through a broker).
    pub mesh: Option<SocketAddr>,
    /// Its control address.
    pub control: SocketAddr,
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(io("reading", path))?;
    toml::from_str(&text).map_err(|e| NodeError::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Replaces a public config file (write to a temporary file, then rename).
fn replace_file(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(io("writing", path))
}

/// A free port on 127.0.0.1.
fn free_local_addr() -> Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(io("binding", "127.0.0.1:0"))
}

/// Adds one party to the deployment in `dir` (see the module docs).
///
/// # Errors
/// `dir` holds no demo deployment (or one without its CA key), I/O, certificate issue.
pub fn add(dir: &Path) -> Result<AddedParty> {
    let coordinator_path = dir.join("coordinator.toml");
    let mut coordinator: CoordinatorConfig = read(&coordinator_path)?;
    let n = u16::try_from(coordinator.parties.len())
        .map_err(|_| NodeError::Other("too many parties".into()))?;
    let template: PartyConfig = read(&dir.join("party-0.toml"))?;
    let party = n;
    let config_path = dir.join(format!("party-{party}.toml"));
    if config_path.exists() {
        return Err(NodeError::Exists { path: config_path });
    }
    let cert = PathBuf::from(format!("pki/party-{party}.pem"));
    let store_name = PathBuf::from(format!("party-{party}"));
    provision(dir, &template, party, &cert, &store_name)?;
    let (identity, recipient) = crate::backup::new_recovery_identity();
    crate::fsutil::write_new(
        &dir.join(demo_recovery_identity(party)),
        format!("{}\n", identity.as_str()).as_bytes(),
    )?;
    let control = free_local_addr()?;
    // On TCP the new party listens for the mesh too, and every party learns its address;
    // through a broker every party learns there is one more.
    let tcp = template.network.nats.is_none();
    let mesh = if tcp { Some(free_local_addr()?) } else { None };
    let grow = |net: &mut crate::config::NetworkConfig| {
        net.peers.extend(mesh);
        if let Some(nats) = &mut net.nats {
            nats.parties = n.saturating_add(1);
        }
    };
    let mut config = template.clone();
    config.index = party;
    config.store = store_name;
    config.audit_log = PathBuf::from(format!("party-{party}/audit.jsonl"));
    config.import_dir = Some(PathBuf::from(format!("party-{party}-import")));
    config.network.mesh_listen = mesh;
    config.network.control_listen = control;
    grow(&mut config.network);
    config.network.cert = cert;
    config.backup = Some(crate::config::BackupConfig { recipient });
    write_public(&config_path, to_toml(&config)?.as_bytes())?;
    for i in 0..n {
        let path = dir.join(format!("party-{i}.toml"));
        let mut c: PartyConfig = read(&path)?;
        grow(&mut c.network);
        replace_file(&path, &to_toml(&c)?)?;
    }
    coordinator.parties.push(control);
    replace_file(&coordinator_path, &to_toml(&coordinator)?)?;
    Ok(AddedParty {
        party,
        config: config_path,
        mesh,
        control,
    })
}

/// Re-provisions party `party` of the deployment in `dir`, whose store is gone (see the
/// module docs).
///
/// # Errors
/// No such party, its store still exists, I/O, certificate issue.
pub fn replace(dir: &Path, party: u16) -> Result<AddedParty> {
    let config_path = dir.join(format!("party-{party}.toml"));
    let config: PartyConfig = read(&config_path)?;
    let store_dir = dir.join(&config.store);
    if store_dir.exists() {
        return Err(NodeError::Other(format!(
            "{} exists: a party is re-provisioned only when its store is lost (remove it first)",
            store_dir.display()
        )));
    }
    provision(dir, &config, party, &config.network.cert, &config.store)?;
    Ok(AddedParty {
        party,
        config: config_path,
        mesh: config.network.mesh_listen,
        control: config.network.control_listen,
    })
}

/// Issues party `party`'s certificate (written to `cert`) with the demo CA and makes its
/// sealed store `store_name` holding the new TLS key.
fn provision(
    dir: &Path,
    like: &PartyConfig,
    party: u16,
    cert: &Path,
    store_name: &Path,
) -> Result<()> {
    // The demo KEK of every store, and the CA from the coordinator's store.
    let coordinator_path = dir.join("coordinator.toml");
    let coordinator = CoordinatorConfig::load(&coordinator_path)?;
    let kek = coordinator.kek.open(&coordinator_path)?;
    let ca = {
        let store = SealedStore::open(&coordinator.store, kek.clone())?;
        let key = store.get(DEMO_CA_KEY, &ca_key_label())?;
        let key = std::str::from_utf8(&key)
            .map_err(|_| NodeError::Other("the demo CA key is not PEM".into()))?;
        let cert_path = dir.join(&like.network.ca_cert);
        let cert = std::fs::read_to_string(&cert_path).map_err(io("reading", &cert_path))?;
        DevCa::load(&like.network.domain, &cert, key)
            .map_err(|e| NodeError::Other(e.to_string()))?
    };
    let id = ca
        .party(party)
        .map_err(|e| NodeError::Other(e.to_string()))?;
    write_public(&dir.join(cert), id.cert_pem.as_bytes())?;
    let store = SealedStore::open(dir.join(store_name), kek)?;
    store.put_new(
        &like.network.tls_key,
        &tls_key_label(party),
        id.key_pem.as_bytes(),
    )?;
    Ok(())
}

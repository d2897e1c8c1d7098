//! The party process: opens its sealed store and audit log, serves its active keys to the
//! coordinator and joins key ceremonies over the party mesh (mutual TLS).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mpc_transport::{
    party_name, MeshNode, NatsNode, NatsOptions, Party, PartyOptions, TcpNode, TcpOptions,
    TlsIdentity,
};

use crate::audit::AuditLog;
use crate::config::{MeshTransport, NetworkConfig, PartyConfig};
use crate::error::{io, NodeError, Result};
use crate::policy::NodePolicy;
use crate::seal::{Label, SecretKind};
use crate::sessions::FileSessionJournal;
use crate::store::SealedStore;
use crate::vault::{NodeVault, PrimesSource};

/// The label of a node's sealed TLS key.
pub fn tls_key_label(party: u16) -> Label {
    Label::new(SecretKind::TlsKey, None, "", party, 0)
}

/// Reads a TLS identity: CA and certificate files, and the private key sealed in `store`.
///
/// # Errors
/// Missing or unreadable files, a key that does not open.
pub fn identity(
    store: &SealedStore,
    ca: &Path,
    cert: &Path,
    key_name: &str,
    party: u16,
    domain: &str,
) -> Result<TlsIdentity> {
    let ca = std::fs::read(ca).map_err(io("reading", ca))?;
    let cert_pem = std::fs::read(cert).map_err(io("reading", cert))?;
    let key = store.get(key_name, &tls_key_label(party))?;
    TlsIdentity::from_pem(&ca, &cert_pem, &key, domain).map_err(|e| NodeError::Other(e.to_string()))
}

/// How a party process runs, beyond its config file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// BENCHMARK ONLY: a simulated one-way delay on every message the party sends (mesh
    /// and control), for latency measurements of a wide-area deployment. Zero in
    /// production.
    pub benchmark_delay: Duration,
}

/// Runs the party of `config_path` until the process is stopped.
///
/// # Errors
/// Configuration, store (wrong passphrase, locked by another process), sockets.
pub fn run_party(config_path: &Path) -> Result<()> {
    run_party_with(config_path, &RunOptions::default())
}

/// [`run_party`] with [`RunOptions`].
///
/// # Errors
/// As [`run_party`].
pub fn run_party_with(config_path: &Path, run: &RunOptions) -> Result<()> {
    let c = PartyConfig::load(config_path)?;
    let kek = c.open_kek(config_path)?;
    let store = Arc::new(SealedStore::open(&c.store, kek)?);
    let primes = match &c.danger_test_only_paillier_primes {
        Some(p) => PrimesSource::DangerTestOnlyFixture(p.clone()),
        None => PrimesSource::Generate,
    };
    let vault = Arc::new(
        NodeVault::new(store.clone(), c.index, primes).with_import_dir(c.import_dir.clone()),
    );
    let journal = Arc::new(FileSessionJournal::open(
        &store.dir().join(crate::sessions::SESSIONS_FILE),
    )?);
    let active = vault.active_keys()?;
    let pending: Vec<(String, mpc_transport::KeyRef)> = vault
        .keys()?
        .into_iter()
        .filter(|(_, active)| !active)
        .map(|(m, _)| {
            let key = mpc_transport::KeyRef {
                scheme: m.scheme,
                public_key: m.public_key,
                epoch: m.epoch,
            };
            (m.key_id, key)
        })
        .collect();
    let audit = AuditLog::open(&c.audit_log)?;
    let policy = Arc::new(NodePolicy::new(&c.policy, Some(audit))?);
    let net = &c.network;
    let id = identity(
        &store,
        &net.ca_cert,
        &net.cert,
        &net.tls_key,
        c.index,
        &net.domain,
    )?;
    let n = net.parties().map_err(NodeError::Other)?;
    // Make the primes now (if none are cached) so a ceremony does not wait for them.
    {
        let v = vault.clone();
        std::thread::spawn(move || {
            if let Err(e) = v.primes() {
                tracing::warn!(error = %e, "Paillier primes not ready");
            }
        });
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| NodeError::Other(format!("runtime: {e}")))?;
    let index = c.index;
    let keys = active.len();
    let delay = run.benchmark_delay;
    rt.block_on(async move {
        let node = start_mesh(index, n, net, &id, delay).await?;
        let control = tokio::net::TcpListener::bind(net.control_listen)
            .await
            .map_err(io("listening on", net.control_listen.to_string()))?;
        let party = Arc::new(
            Party::new(
                node,
                Vec::new(),
                policy,
                PartyOptions {
                    delay,
                    ..PartyOptions::default()
                },
            )
                .with_vault(vault, active)
                .with_pending(pending)
                .with_session_journal(journal)
                .map_err(NodeError::Other)?,
        );
        tracing::info!(party = index, transport = %net.transport, control = %net.control_listen, keys, "party serving");
        party
            .serve(control, &id)
            .await
            .map_err(|e| NodeError::Other(e.to_string()))
    })
}

/// This party's end of the mesh, on the transport the config names.
async fn start_mesh(
    index: u16,
    n: u16,
    net: &NetworkConfig,
    id: &TlsIdentity,
    delay: std::time::Duration,
) -> Result<Arc<dyn MeshNode>> {
    let other = |e: mpc_transport::TransportError| NodeError::Other(e.to_string());
    match (net.transport, &net.nats, net.mesh_listen) {
        (MeshTransport::Tcp, _, Some(listen)) => {
            let peers: HashMap<u16, SocketAddr> = (0u16..).zip(net.peers.iter().copied()).collect();
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(io("listening on", listen.to_string()))?;
            let opts = TcpOptions {
                delay,
                ..TcpOptions::default()
            };
            let node = TcpNode::start(index, n, listener, &peers, id, opts).map_err(other)?;
            Ok(Arc::new(node))
        }
        (MeshTransport::Nats, Some(nats), _) => {
            let client = async_nats::ConnectOptions::new()
                .name(party_name(&net.domain, index))
                .connect(nats.url.as_str())
                .await
                .map_err(|e| NodeError::Other(format!("broker at {}: {e}", nats.url)))?;
            let opts = NatsOptions {
                delay,
                ..NatsOptions::for_deployment(id)
            };
            let node = NatsNode::start(index, n, client, id, opts)
                .await
                .map_err(other)?;
            Ok(Arc::new(node))
        }
        _ => Err(NodeError::Other(
            "the network section names no usable transport".into(),
        )),
    }
}

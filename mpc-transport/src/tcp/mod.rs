//! TCP with mutual TLS: one connection per pair of parties (the lower index dials the
//! higher), carrying the frames of any number of concurrent sessions.
//!
//! A [`TcpNode`] is a party's end of the network. [`MeshNode::open_session`] gives a
//! [`TcpSession`], the [`Transport`](crate::Transport) for one session; the node routes incoming frames to
//! sessions by the session id in the envelope header. The sender of a frame is the party
//! the connection's certificate names ([`crate::tls`]), never a field of the frame.
//!
//! - Frames are length-delimited (`u32` big-endian + bytes). A length over the cap is never
//!   allocated: the bytes are skipped, the frame is counted as rejected and the connection
//!   goes on.
//! - What a peer can make the node keep is bounded (see [`crate::mesh`]): frames
//!   from outside a session's members are dropped, each session caps its frames, each peer
//!   has a byte budget per session and in all, and frames for a session not opened yet wait
//!   in a small buffer shared evenly between the peers for a short time (a peer may start a
//!   moment earlier). With `C` connections and `S` sessions open, the frames waiting in the
//!   node take at most `min(C * peer_bytes, S * members * session_peer_bytes) +
//!   pending_bytes + C * max_frame` (the last term: one frame being read per connection).
//! - Queues are bounded: a slow peer or session slows its senders (backpressure).
//! - At most `max_handshakes` TLS handshakes run at once; further connections wait in the
//!   listen backlog.
//! - A dropped connection is dialed again with exponential backoff; frames queued for that
//!   peer wait for the new connection (a frame being written when the connection broke is
//!   lost; the protocol's round timeout covers it).

mod conn;

pub use crate::mesh::{MeshSession as TcpSession, MeshStats as TcpStats};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mpc_core::PartyIndex;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::AbortHandle;

use crate::error::TransportError;
use crate::mesh::{Mesh, MeshLimits, MeshNode};
use crate::tls::{TlsConfigs, TlsIdentity};

/// Settings of a [`TcpNode`].
#[derive(Debug, Clone)]
pub struct TcpOptions {
    /// Caps, budgets and queue depths of the party's mesh (the frame cap included).
    pub limits: MeshLimits,
    /// Bound on a TCP connect plus TLS handshake.
    pub handshake_timeout: Duration,
    /// Incoming TLS handshakes run at once at most.
    pub max_handshakes: usize,
    /// First and largest wait between dial attempts.
    pub reconnect: (Duration, Duration),
    /// Simulated one-way delay added to every frame sent (zero in production). Frames keep
    /// their order and are delayed from the moment they are queued, so a burst is not
    /// delayed cumulatively. For measuring WAN-like latency on one machine.
    pub delay: Duration,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            limits: MeshLimits::default(),
            handshake_timeout: Duration::from_secs(5),
            max_handshakes: 32,
            reconnect: (Duration::from_millis(20), Duration::from_secs(1)),
            delay: Duration::ZERO,
        }
    }
}

/// A party's TCP + mutual TLS endpoint. Dropping it closes every connection.
pub struct TcpNode {
    inner: Arc<Inner>,
    tasks: Vec<AbortHandle>,
}

impl core::fmt::Debug for TcpNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpNode")
            .field("me", &self.inner.mesh.me)
            .field("n", &self.inner.mesh.n)
            .finish()
    }
}

/// The link's state beside the mesh.
pub(crate) struct Inner {
    mesh: Arc<Mesh>,
    opts: TcpOptions,
    tls: TlsConfigs,
    /// Incoming handshakes in progress ([`TcpOptions::max_handshakes`]).
    handshakes: Arc<Semaphore>,
}

impl TcpNode {
    /// Starts party `me` of `n` on `listener`, dialing every peer with a higher index at its
    /// address in `peers` and accepting the lower ones. Must be called inside a tokio
    /// runtime; the node's tasks run there.
    ///
    /// # Errors
    /// [`TransportError::Tls`] for an unusable identity, [`TransportError::UnknownParty`]
    /// when `me >= n` or a higher peer has no address.
    pub fn start(
        me: PartyIndex,
        n: u16,
        listener: TcpListener,
        peers: &HashMap<PartyIndex, SocketAddr>,
        identity: &TlsIdentity,
        opts: TcpOptions,
    ) -> Result<Self, TransportError> {
        let mesh = Arc::new(Mesh::new(me, n, opts.limits.clone())?);
        let tls = identity.configs()?;
        let handshakes = Arc::new(Semaphore::new(opts.max_handshakes.max(1)));
        let inner = Arc::new(Inner {
            mesh,
            opts,
            tls,
            handshakes,
        });
        let mut tasks =
            vec![tokio::spawn(conn::accept_loop(inner.clone(), listener)).abort_handle()];
        for p in (me + 1)..n {
            let addr = *peers.get(&p).ok_or(TransportError::UnknownParty(p))?;
            tasks.push(tokio::spawn(conn::dial_loop(inner.clone(), p, addr)).abort_handle());
        }
        Ok(TcpNode { inner, tasks })
    }
}

impl MeshNode for TcpNode {
    fn mesh(&self) -> &Arc<Mesh> {
        &self.inner.mesh
    }

    /// Peers with a live connection right now.
    fn connected(&self) -> Vec<PartyIndex> {
        let r = self.inner.mesh.router();
        let mut v: Vec<_> = r
            .connections
            .iter()
            .filter(|(_, h)| !h.is_finished())
            .map(|(p, _)| *p)
            .collect();
        v.sort_unstable();
        v
    }
}

impl Drop for TcpNode {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for (_, h) in self.inner.mesh.router().connections.drain() {
            h.abort();
        }
    }
}

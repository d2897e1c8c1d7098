//! TCP with mutual TLS: one connection per pair of parties (the lower index dials the
//! higher), carrying the frames of any number of concurrent sessions.
//!
//! A [`TcpNode`] is a party's end of the network. [`TcpNode::open_session`] gives a
//! [`TcpSession`], the [`Transport`] for one session; the node routes incoming frames to
//! sessions by the session id in the envelope header. The sender of a frame is the party
//! the connection's certificate names ([`crate::tls`]), never a field of the frame.
//!
//! - Frames are length-delimited (`u32` big-endian + bytes). A length over the cap is never
//!   allocated: the bytes are skipped, the frame is counted as rejected and the connection
//!   goes on.
//! - Frames for a session not opened yet wait in a small buffer (bounded in frames and in
//!   bytes) for a short time (a peer may start a moment earlier), then are dropped and
//!   counted.
//! - Queues are bounded: a slow peer or session slows its senders (backpressure).
//! - A dropped connection is dialed again with exponential backoff; frames queued for that
//!   peer wait for the new connection (a frame being written when the connection broke is
//!   lost; the protocol's round timeout covers it).

mod conn;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mpc_core::{PartyIndex, SessionId};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::envelope::{Envelope, DEFAULT_MAX_FRAME};
use crate::error::TransportError;
use crate::frame::Queued;
use crate::tls::{TlsConfigs, TlsIdentity};
use crate::transport::Transport;

/// Settings of a [`TcpNode`].
#[derive(Debug, Clone)]
pub struct TcpOptions {
    /// Largest frame accepted or sent.
    pub max_frame: usize,
    /// Frames queued per peer before senders wait.
    pub peer_queue: usize,
    /// Frames queued per session before the connection reader waits.
    pub session_queue: usize,
    /// Frames for not-yet-opened sessions kept at most (all sessions together).
    pub pending_limit: usize,
    /// Bytes of such frames kept at most (all sessions together).
    pub pending_bytes: usize,
    /// How long such frames are kept.
    pub pending_ttl: Duration,
    /// Bound on a TCP connect plus TLS handshake.
    pub handshake_timeout: Duration,
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
            max_frame: DEFAULT_MAX_FRAME,
            peer_queue: 1024,
            session_queue: 1024,
            pending_limit: 256,
            pending_bytes: 32 * 1024 * 1024,
            pending_ttl: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
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
            .field("me", &self.inner.me)
            .field("n", &self.inner.n)
            .finish()
    }
}

struct PeerQueue {
    tx: mpsc::Sender<Queued>,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Queued>>>,
}

struct Pending {
    at: Instant,
    session: SessionId,
    from: PartyIndex,
    frame: Vec<u8>,
}

#[derive(Default)]
struct Router {
    sessions: HashMap<SessionId, mpsc::Sender<(PartyIndex, Vec<u8>)>>,
    pending: VecDeque<Pending>,
    pending_bytes: usize,
    rejected: u64,
    reasons: VecDeque<String>,
    connections: HashMap<PartyIndex, AbortHandle>,
}

impl Router {
    fn reject(&mut self, from: PartyIndex, why: impl core::fmt::Display) {
        self.rejected = self.rejected.saturating_add(1);
        if self.reasons.len() >= 32 {
            self.reasons.pop_front();
        }
        let line = format!("from party {from}: {why}");
        tracing::debug!(%line, "frame rejected");
        self.reasons.push_back(line);
    }
}

pub(crate) struct Inner {
    me: PartyIndex,
    n: u16,
    opts: TcpOptions,
    tls: TlsConfigs,
    peers: HashMap<PartyIndex, PeerQueue>,
    router: Mutex<Router>,
}

impl Inner {
    fn router(&self) -> std::sync::MutexGuard<'_, Router> {
        // A poisoned lock only means another task panicked while routing; the map is still
        // consistent (every critical section is a single insert/remove/push).
        self.router
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn reject(&self, from: PartyIndex, why: impl core::fmt::Display) {
        self.router().reject(from, why);
    }

    /// Hands a frame from `from` to its session, or parks it for a session not open yet.
    pub(crate) async fn route(&self, from: PartyIndex, frame: Vec<u8>) {
        let session = match Envelope::peek_session(&frame) {
            Ok(s) => s,
            Err(e) => return self.reject(from, e),
        };
        let tx = {
            let mut r = self.router();
            match r.sessions.get(&session) {
                Some(tx) => tx.clone(),
                None => {
                    let ttl = self.opts.pending_ttl;
                    while r.pending.front().is_some_and(|p| p.at.elapsed() > ttl) {
                        if let Some(p) = r.pending.pop_front() {
                            r.pending_bytes = r.pending_bytes.saturating_sub(p.frame.len());
                            r.reject(p.from, "frame for a session that was never opened");
                        }
                    }
                    let bytes = r.pending_bytes.saturating_add(frame.len());
                    if r.pending.len() >= self.opts.pending_limit || bytes > self.opts.pending_bytes
                    {
                        r.reject(from, "frame for an unknown session (buffer full)");
                    } else {
                        r.pending_bytes = bytes;
                        r.pending.push_back(Pending {
                            at: Instant::now(),
                            session,
                            from,
                            frame,
                        });
                    }
                    return;
                }
            }
        };
        if tx.send((from, frame)).await.is_err() {
            self.reject(from, "frame for a session that has closed");
        }
    }
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
        if me >= n {
            return Err(TransportError::UnknownParty(me));
        }
        let tls = identity.configs()?;
        let depth = opts.peer_queue.max(1);
        let queues = (0..n).filter(|&p| p != me).map(|p| {
            let (tx, rx) = mpsc::channel(depth);
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            (p, PeerQueue { tx, rx })
        });
        let inner = Arc::new(Inner {
            me,
            n,
            opts,
            tls,
            peers: queues.collect(),
            router: Mutex::new(Router::default()),
        });
        let mut tasks =
            vec![tokio::spawn(conn::accept_loop(inner.clone(), listener)).abort_handle()];
        for p in (me + 1)..n {
            let addr = *peers.get(&p).ok_or(TransportError::UnknownParty(p))?;
            tasks.push(tokio::spawn(conn::dial_loop(inner.clone(), p, addr)).abort_handle());
        }
        Ok(TcpNode { inner, tasks })
    }

    /// This party's index.
    pub fn me(&self) -> PartyIndex {
        self.inner.me
    }

    /// Number of parties of the mesh.
    pub fn parties(&self) -> u16 {
        self.inner.n
    }

    /// Opens the transport for `session`; frames that arrived for it already are delivered
    /// first. Closing (dropping) the [`TcpSession`] unregisters it.
    ///
    /// # Errors
    /// [`TransportError::Core`] with `Misuse` if the session is already open here.
    pub fn open_session(&self, session: SessionId) -> Result<TcpSession, TransportError> {
        let (tx, inbox) = mpsc::channel(self.inner.opts.session_queue.max(1));
        let mut r = self.inner.router();
        if r.sessions.contains_key(&session) {
            return Err(mpc_core::Error::Misuse("session is already open on this node").into());
        }
        let (mine, rest): (VecDeque<_>, VecDeque<_>) =
            r.pending.drain(..).partition(|p| p.session == session);
        r.pending = rest;
        r.pending_bytes = r.pending.iter().map(|p| p.frame.len()).sum();
        for p in mine {
            if tx.try_send((p.from, p.frame)).is_err() {
                r.reject(p.from, "session queue full while delivering early frames");
            }
        }
        r.sessions.insert(session, tx);
        drop(r);
        Ok(TcpSession {
            me: self.inner.me,
            session,
            inner: self.inner.clone(),
            inbox,
        })
    }

    /// Frames rejected so far (oversized, malformed header, unknown or closed session) and
    /// the last few reasons.
    pub fn rejected(&self) -> (u64, Vec<String>) {
        let r = self.inner.router();
        (r.rejected, r.reasons.iter().cloned().collect())
    }

    /// Peers with a live connection right now.
    pub fn connected(&self) -> Vec<PartyIndex> {
        let r = self.inner.router();
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
        for (_, h) in self.inner.router().connections.drain() {
            h.abort();
        }
    }
}

/// The [`Transport`] of one session on a [`TcpNode`].
pub struct TcpSession {
    me: PartyIndex,
    session: SessionId,
    inner: Arc<Inner>,
    inbox: mpsc::Receiver<(PartyIndex, Vec<u8>)>,
}

impl core::fmt::Debug for TcpSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpSession")
            .field("me", &self.me)
            .field("session", &self.session)
            .finish()
    }
}

impl Drop for TcpSession {
    fn drop(&mut self) {
        self.inner.router().sessions.remove(&self.session);
    }
}

impl Transport for TcpSession {
    fn local(&self) -> PartyIndex {
        self.me
    }

    fn max_frame(&self) -> usize {
        self.inner.opts.max_frame
    }

    async fn send(&mut self, to: PartyIndex, frame: Vec<u8>) -> Result<(), TransportError> {
        if frame.len() > self.inner.opts.max_frame {
            return Err(TransportError::FrameTooLarge {
                size: frame.len(),
                limit: self.inner.opts.max_frame,
            });
        }
        let peer = self
            .inner
            .peers
            .get(&to)
            .ok_or(TransportError::UnknownParty(to))?;
        peer.tx
            .send((tokio::time::Instant::now(), frame))
            .await
            .map_err(|_| TransportError::Closed)
    }

    async fn recv(&mut self) -> Result<(PartyIndex, Vec<u8>), TransportError> {
        self.inbox.recv().await.ok_or(TransportError::Closed)
    }
}

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
//! - What a peer can make the node keep is bounded (see [`router`](self::router)): frames
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
mod router;

pub use router::{SessionLimits, TcpStats, FRAME_OVERHEAD};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mpc_core::{PartyIndex, SessionId};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::AbortHandle;

use crate::envelope::DEFAULT_MAX_FRAME;
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
    /// Bytes (frames plus [`FRAME_OVERHEAD`] each) from one peer waiting to be read by one
    /// session; past it the router waits before reading that peer's connection further.
    /// At least the largest frame.
    pub session_peer_bytes: usize,
    /// Bytes from one peer waiting in all sessions together; as above.
    pub peer_bytes: usize,
    /// Frames for not-yet-opened sessions kept at most (all sessions together; each peer
    /// gets an even share).
    pub pending_limit: usize,
    /// Bytes of such frames kept at most (all sessions together; each peer gets an even
    /// share).
    pub pending_bytes: usize,
    /// How long such frames are kept.
    pub pending_ttl: Duration,
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
            max_frame: DEFAULT_MAX_FRAME,
            peer_queue: 1024,
            session_queue: 1024,
            session_peer_bytes: 2 * (DEFAULT_MAX_FRAME + FRAME_OVERHEAD),
            peer_bytes: 4 * (DEFAULT_MAX_FRAME + FRAME_OVERHEAD),
            pending_limit: 256,
            pending_bytes: 32 * 1024 * 1024,
            pending_ttl: Duration::from_secs(10),
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
            .field("me", &self.inner.me)
            .field("n", &self.inner.n)
            .finish()
    }
}

struct PeerQueue {
    tx: mpsc::Sender<Queued>,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Queued>>>,
}

pub(crate) struct Inner {
    me: PartyIndex,
    n: u16,
    opts: TcpOptions,
    tls: TlsConfigs,
    peers: HashMap<PartyIndex, PeerQueue>,
    /// Each peer's budget of bytes waiting in sessions ([`TcpOptions::peer_bytes`]).
    peer_budget: HashMap<PartyIndex, Arc<Semaphore>>,
    /// Incoming handshakes in progress ([`TcpOptions::max_handshakes`]).
    handshakes: Arc<Semaphore>,
    router: Mutex<router::Router>,
}

impl Inner {
    fn router(&self) -> std::sync::MutexGuard<'_, router::Router> {
        // A poisoned lock only means another task panicked while routing; the map is still
        // consistent (every critical section is a single insert/remove/push).
        self.router
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn reject(&self, from: PartyIndex, why: impl core::fmt::Display) {
        self.router().reject(from, why);
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
        if opts.session_peer_bytes < opts.max_frame.saturating_add(FRAME_OVERHEAD)
            || opts.peer_bytes < opts.session_peer_bytes
        {
            return Err(TransportError::Unsupported(
                "budgets must hold the largest frame: max_frame <= session_peer_bytes <= peer_bytes"
                    .into(),
            ));
        }
        let peer_budget = (0..n)
            .filter(|&p| p != me)
            .map(|p| (p, Arc::new(Semaphore::new(opts.peer_bytes))))
            .collect();
        let handshakes = Arc::new(Semaphore::new(opts.max_handshakes.max(1)));
        let inner = Arc::new(Inner {
            me,
            n,
            opts,
            tls,
            peers: queues.collect(),
            peer_budget,
            handshakes,
            router: Mutex::new(router::Router::default()),
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

    /// Opens the transport for `session`, open to every party of the mesh with the node's
    /// frame cap; frames that arrived for it already are delivered first. Closing (dropping)
    /// the [`TcpSession`] unregisters it. A party running a protocol opens its sessions with
    /// [`TcpNode::open_session_with`] instead.
    ///
    /// # Errors
    /// [`TransportError::Core`] with `Misuse` if the session is already open here.
    pub fn open_session(&self, session: SessionId) -> Result<TcpSession, TransportError> {
        let limits = SessionLimits {
            members: None,
            max_frame: self.inner.opts.max_frame,
        };
        self.open_session_with(session, limits)
    }

    /// Opens the transport for `session` among `limits.members` only, with frames capped at
    /// `limits.max_frame` (and the node's cap): frames from other parties, or larger, are
    /// dropped at the router. Early frames that pass these checks are delivered first.
    ///
    /// # Errors
    /// [`TransportError::Core`] with `Misuse` if the session is already open here.
    pub fn open_session_with(
        &self,
        session: SessionId,
        mut limits: SessionLimits,
    ) -> Result<TcpSession, TransportError> {
        let opts = &self.inner.opts;
        limits.max_frame = limits.max_frame.min(opts.max_frame);
        let (tx, inbox) = mpsc::channel(opts.session_queue.max(1));
        let mut r = self.inner.router();
        if r.sessions.contains_key(&session) {
            return Err(mpc_core::Error::Misuse("session is already open on this node").into());
        }
        let (mine, rest): (std::collections::VecDeque<_>, _) =
            r.pending.drain(..).partition(|p| p.session == session);
        r.pending = rest;
        r.pending_bytes = r.pending.iter().map(|p| router::charge(&p.frame)).sum();
        for p in mine {
            let refused = router::admit(&limits, p.from, &p.frame);
            let delivered = router::Delivered {
                from: p.from,
                frame: p.frame,
                _charge: None,
            };
            if let Some(why) = refused {
                r.reject(delivered.from, why);
            } else if let Err(e) = tx.try_send(delivered) {
                let from = match e {
                    mpsc::error::TrySendError::Full(d) | mpsc::error::TrySendError::Closed(d) => {
                        d.from
                    }
                };
                r.reject(from, "session queue full while delivering early frames");
            }
        }
        let budget = (0..self.inner.n)
            .filter(|&p| p != self.inner.me)
            .filter(|p| limits.members.as_ref().is_none_or(|m| m.contains(p)))
            .map(|p| (p, Arc::new(Semaphore::new(opts.session_peer_bytes))))
            .collect();
        r.sessions
            .insert(session, router::SessionRoute { tx, limits, budget });
        drop(r);
        Ok(TcpSession {
            me: self.inner.me,
            session,
            inner: self.inner.clone(),
            inbox,
        })
    }

    /// What peers made this node keep: frames refused, bytes waiting now, and the peaks of
    /// the budgets of [`TcpOptions`].
    pub fn stats(&self) -> TcpStats {
        let queued_bytes = self.inner.queued_bytes();
        let r = self.inner.router();
        TcpStats {
            rejected: r.rejected,
            queued_bytes,
            peak_peer_bytes: r.peak_peer_bytes,
            peak_session_peer_bytes: r.peak_session_peer_bytes,
            peak_pending_bytes: r.peak_pending_bytes,
        }
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
    inbox: mpsc::Receiver<router::Delivered>,
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
        // The frame's budget is released here: from now on it is the run's to keep or drop.
        let d = self.inbox.recv().await.ok_or(TransportError::Closed)?;
        Ok((d.from, d.frame))
    }
}

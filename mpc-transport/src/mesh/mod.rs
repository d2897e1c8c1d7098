//! A party's mesh: the sessions it runs with the other parties, the bounded queues of frames
//! going out to each peer, and the router that hands incoming frames to sessions within
//! the memory bounds of [`MeshLimits`].
//!
//! The mesh does not move bytes itself: a link does. [`crate::tcp`] links it with one
//! mutually authenticated TLS connection per pair of parties, [`crate::nats`] through a
//! message broker with sealed envelopes. Either way a link hands the mesh frames whose
//! sender it has authenticated and takes the frames queued for each peer; the caps,
//! budgets and early-frame buffer are the same.

pub(crate) mod router;

pub use router::{MeshStats, SessionLimits, FRAME_OVERHEAD};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mpc_core::{PartyIndex, SessionId};
use tokio::sync::{mpsc, Semaphore};

use crate::envelope::DEFAULT_MAX_FRAME;
use crate::error::TransportError;
use crate::frame::Queued;
use crate::transport::Transport;

/// What peers can make a party keep, and the queue depths of its mesh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshLimits {
    /// Largest frame accepted or sent.
    pub max_frame: usize,
    /// Frames queued per peer before senders wait.
    pub peer_queue: usize,
    /// Frames queued per session before the link's reader waits.
    pub session_queue: usize,
    /// Bytes (frames plus [`FRAME_OVERHEAD`] each) from one peer waiting to be read by one
    /// session; past it the router waits before reading that peer's frames further. At
    /// least the largest frame.
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
}

impl Default for MeshLimits {
    fn default() -> Self {
        MeshLimits {
            max_frame: DEFAULT_MAX_FRAME,
            peer_queue: 1024,
            session_queue: 1024,
            session_peer_bytes: 2 * (DEFAULT_MAX_FRAME + FRAME_OVERHEAD),
            peer_bytes: 4 * (DEFAULT_MAX_FRAME + FRAME_OVERHEAD),
            pending_limit: 256,
            pending_bytes: 32 * 1024 * 1024,
            pending_ttl: Duration::from_secs(10),
        }
    }
}

pub(crate) struct PeerQueue {
    tx: mpsc::Sender<Queued>,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Queued>>>,
}

/// One party's mesh of `n` parties (see the module documentation). Links hold it in an
/// [`Arc`]; sessions are opened on the link's node ([`crate::TcpNode`],
/// [`crate::NatsNode`]) through [`MeshNode`].
pub struct Mesh {
    pub(crate) me: PartyIndex,
    pub(crate) n: u16,
    pub(crate) limits: MeshLimits,
    peers: HashMap<PartyIndex, PeerQueue>,
    /// Each peer's budget of bytes waiting in sessions ([`MeshLimits::peer_bytes`]).
    pub(crate) peer_budget: HashMap<PartyIndex, Arc<Semaphore>>,
    router: Mutex<router::Router>,
}

impl core::fmt::Debug for Mesh {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mesh")
            .field("me", &self.me)
            .field("n", &self.n)
            .finish()
    }
}

impl Mesh {
    /// The mesh of party `me` of `n`.
    ///
    /// # Errors
    /// [`TransportError::UnknownParty`] when `me >= n`, [`TransportError::Unsupported`] when
    /// a budget cannot hold the largest frame.
    pub(crate) fn new(me: PartyIndex, n: u16, limits: MeshLimits) -> Result<Self, TransportError> {
        if me >= n {
            return Err(TransportError::UnknownParty(me));
        }
        if limits.session_peer_bytes < limits.max_frame.saturating_add(FRAME_OVERHEAD)
            || limits.peer_bytes < limits.session_peer_bytes
        {
            return Err(TransportError::Unsupported(
                "budgets must hold the largest frame: max_frame <= session_peer_bytes <= peer_bytes"
                    .into(),
            ));
        }
        let depth = limits.peer_queue.max(1);
        let peers = (0..n)
            .filter(|&p| p != me)
            .map(|p| {
                let (tx, rx) = mpsc::channel(depth);
                let rx = Arc::new(tokio::sync::Mutex::new(rx));
                (p, PeerQueue { tx, rx })
            })
            .collect();
        let peer_budget = (0..n)
            .filter(|&p| p != me)
            .map(|p| (p, Arc::new(Semaphore::new(limits.peer_bytes))))
            .collect();
        Ok(Mesh {
            me,
            n,
            limits,
            peers,
            peer_budget,
            router: Mutex::new(router::Router::default()),
        })
    }

    pub(crate) fn router(&self) -> std::sync::MutexGuard<'_, router::Router> {
        // A poisoned lock only means another task panicked while routing; the map is still
        // consistent (every critical section is a single insert/remove/push).
        self.router
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a refused frame from `from` (the sender the link authenticated or, for a
    /// frame that failed authentication, the sender it claimed) and keeps the reason.
    pub(crate) fn reject(&self, from: PartyIndex, why: impl core::fmt::Display) {
        self.router().reject(from, why);
    }

    /// The queue of frames waiting to go to `peer`; the link's writer takes them from it.
    pub(crate) fn outbound(
        &self,
        peer: PartyIndex,
    ) -> Option<Arc<tokio::sync::Mutex<mpsc::Receiver<Queued>>>> {
        self.peers.get(&peer).map(|q| q.rx.clone())
    }

    /// See [`MeshNode::open_session_with`].
    pub(crate) fn open_session_with(
        self: &Arc<Self>,
        session: SessionId,
        mut limits: SessionLimits,
    ) -> Result<MeshSession, TransportError> {
        let opts = &self.limits;
        limits.max_frame = limits.max_frame.min(opts.max_frame);
        let (tx, inbox) = mpsc::channel(opts.session_queue.max(1));
        let mut r = self.router();
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
        let budget = (0..self.n)
            .filter(|&p| p != self.me)
            .filter(|p| limits.members.as_ref().is_none_or(|m| m.contains(p)))
            .map(|p| (p, Arc::new(Semaphore::new(opts.session_peer_bytes))))
            .collect();
        r.sessions
            .insert(session, router::SessionRoute { tx, limits, budget });
        drop(r);
        Ok(MeshSession {
            me: self.me,
            session,
            mesh: self.clone(),
            inbox,
        })
    }

    /// See [`MeshNode::stats`].
    pub(crate) fn stats(&self) -> MeshStats {
        let queued_bytes = self.queued_bytes();
        let r = self.router();
        MeshStats {
            rejected: r.rejected,
            queued_bytes,
            peak_peer_bytes: r.peak_peer_bytes,
            peak_session_peer_bytes: r.peak_session_peer_bytes,
            peak_pending_bytes: r.peak_pending_bytes,
        }
    }

    /// See [`MeshNode::rejected`].
    pub(crate) fn rejected(&self) -> (u64, Vec<String>) {
        let r = self.router();
        (r.rejected, r.reasons.iter().cloned().collect())
    }
}

/// A party's node on some link ([`crate::TcpNode`], [`crate::NatsNode`]): protocol
/// sessions are opened on it, and it says what peers made it keep.
pub trait MeshNode: Send + Sync {
    /// The node's mesh.
    fn mesh(&self) -> &Arc<Mesh>;

    /// Peers the link reaches right now (a live connection, a card held).
    fn connected(&self) -> Vec<PartyIndex>;

    /// This party's index.
    fn me(&self) -> PartyIndex {
        self.mesh().me
    }

    /// Number of parties of the deployment.
    fn parties(&self) -> u16 {
        self.mesh().n
    }

    /// Opens the transport for `session`, open to every party with the node's frame cap;
    /// frames that arrived for it already are delivered first. Closing (dropping) the
    /// [`MeshSession`] unregisters it. A party running a protocol opens its sessions with
    /// [`MeshNode::open_session_with`] instead.
    ///
    /// # Errors
    /// [`TransportError::Core`] with `Misuse` if the session is already open here.
    fn open_session(&self, session: SessionId) -> Result<MeshSession, TransportError> {
        let limits = SessionLimits {
            members: None,
            max_frame: self.mesh().limits.max_frame,
        };
        self.open_session_with(session, limits)
    }

    /// Opens the transport for `session` among `limits.members` only, with frames capped at
    /// `limits.max_frame` (and the node's cap): frames from other parties, or larger, are
    /// dropped at the router. Early frames that pass these checks are delivered first.
    ///
    /// # Errors
    /// [`TransportError::Core`] with `Misuse` if the session is already open here.
    fn open_session_with(
        &self,
        session: SessionId,
        limits: SessionLimits,
    ) -> Result<MeshSession, TransportError> {
        self.mesh().open_session_with(session, limits)
    }

    /// What peers made this node keep: frames refused, bytes waiting now, and the peaks of
    /// the budgets of [`MeshLimits`].
    fn stats(&self) -> MeshStats {
        self.mesh().stats()
    }

    /// Frames refused so far (oversized, malformed, unknown or closed session, and for a
    /// broker link envelopes that did not open) and the last few reasons, each naming the
    /// sender.
    fn rejected(&self) -> (u64, Vec<String>) {
        self.mesh().rejected()
    }
}

/// The [`Transport`] of one session on a mesh ([`crate::TcpNode::open_session`],
/// [`crate::NatsNode::open_session`]). Dropping it closes the session.
pub struct MeshSession {
    me: PartyIndex,
    session: SessionId,
    mesh: Arc<Mesh>,
    inbox: mpsc::Receiver<router::Delivered>,
}

impl core::fmt::Debug for MeshSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MeshSession")
            .field("me", &self.me)
            .field("session", &self.session)
            .finish()
    }
}

impl Drop for MeshSession {
    fn drop(&mut self) {
        self.mesh.router().sessions.remove(&self.session);
    }
}

impl Transport for MeshSession {
    fn local(&self) -> PartyIndex {
        self.me
    }

    fn max_frame(&self) -> usize {
        self.mesh.limits.max_frame
    }

    async fn send(&mut self, to: PartyIndex, frame: Vec<u8>) -> Result<(), TransportError> {
        let limit = self.mesh.limits.max_frame;
        if frame.len() > limit {
            return Err(TransportError::FrameTooLarge {
                size: frame.len(),
                limit,
            });
        }
        let peer = self
            .mesh
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

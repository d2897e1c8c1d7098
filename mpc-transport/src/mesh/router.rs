//! Routing of incoming frames to sessions, within the node's memory bounds (the same for
//! every link: TCP connections or a broker).
//!
//! What a peer can make this node keep, whatever it sends:
//!
//! - **A session it is not a member of:** nothing. The frame is dropped and counted.
//! - **A frame over the session's cap** (the scheme's largest honest message with margin,
//!   `mpc_core::limits`): nothing; dropped and counted.
//! - **A session it is a member of:** at most `session_peer_bytes` of frames waiting to be
//!   read, and at most `peer_bytes` over all its sessions. Past either budget the router
//!   stops reading that peer's connection until the session reads (backpressure): an honest
//!   peer loses nothing, a flooding one stalls only its own connection, and the frames of
//!   other peers go on.
//! - **A session not opened yet** (a peer starts a moment earlier): its share of the small
//!   early-frame buffer (`pending_limit` frames and `pending_bytes` bytes split evenly
//!   between the peers), for `pending_ttl`.
//!
//! Each waiting frame is charged its length plus [`FRAME_OVERHEAD`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use mpc_core::{PartyIndex, SessionId};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::envelope::Envelope;

/// Bytes charged per waiting frame on top of its length (its allocation and queue slot).
pub const FRAME_OVERHEAD: usize = 64;

/// A frame handed to a session, with the budget it holds until the session reads it.
pub(crate) struct Delivered {
    pub(crate) from: PartyIndex,
    pub(crate) frame: Vec<u8>,
    /// Released when the session takes the frame (or closes with it unread).
    pub(crate) _charge: Option<[OwnedSemaphorePermit; 2]>,
}

/// Who may send to a session and how large its frames may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLimits {
    /// The parties of the run (deployment indices), or `None` for every party of the mesh.
    /// Frames from anyone else are dropped at the router.
    pub members: Option<Vec<PartyIndex>>,
    /// Largest frame accepted for the session (at most the node's `max_frame`).
    pub max_frame: usize,
}

pub(crate) struct SessionRoute {
    pub(crate) tx: mpsc::Sender<Delivered>,
    pub(crate) limits: SessionLimits,
    /// Per-peer budget of this session.
    pub(crate) budget: HashMap<PartyIndex, Arc<Semaphore>>,
}

pub(crate) struct Pending {
    pub(crate) at: Instant,
    pub(crate) session: SessionId,
    pub(crate) from: PartyIndex,
    pub(crate) frame: Vec<u8>,
}

/// Peaks of what peers made this node keep, for operators and the flooding test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeshStats {
    /// Frames refused so far.
    pub rejected: u64,
    /// Bytes waiting in sessions now (frames and their overhead).
    pub queued_bytes: usize,
    /// Most bytes that ever waited in sessions from one peer (all its sessions together).
    pub peak_peer_bytes: usize,
    /// Most bytes that ever waited in one session from one peer.
    pub peak_session_peer_bytes: usize,
    /// Most bytes the early-frame buffer ever held.
    pub peak_pending_bytes: usize,
}

#[derive(Default)]
pub(crate) struct Router {
    pub(crate) sessions: HashMap<SessionId, SessionRoute>,
    pub(crate) pending: VecDeque<Pending>,
    pub(crate) pending_bytes: usize,
    pub(crate) rejected: u64,
    pub(crate) reasons: VecDeque<String>,
    pub(crate) connections: HashMap<PartyIndex, tokio::task::AbortHandle>,
    pub(crate) peak_peer_bytes: usize,
    pub(crate) peak_session_peer_bytes: usize,
    pub(crate) peak_pending_bytes: usize,
}

impl Router {
    pub(crate) fn reject(&mut self, from: PartyIndex, why: impl core::fmt::Display) {
        self.note_refusal(format!("from party {from}: {why}"));
    }

    /// Counts a refused input that names no sender (a broker message too large or too
    /// short to be an envelope).
    pub(crate) fn reject_unattributed(&mut self, why: impl core::fmt::Display) {
        self.note_refusal(format!("from no party: {why}"));
    }

    fn note_refusal(&mut self, line: String) {
        self.rejected = self.rejected.saturating_add(1);
        if self.reasons.len() >= 32 {
            self.reasons.pop_front();
        }
        tracing::debug!(%line, "frame rejected");
        self.reasons.push_back(line);
    }

    /// Drops early frames older than `ttl`.
    fn expire(&mut self, ttl: std::time::Duration) {
        while self.pending.front().is_some_and(|p| p.at.elapsed() > ttl) {
            if let Some(p) = self.pending.pop_front() {
                self.pending_bytes = self.pending_bytes.saturating_sub(charge(&p.frame));
                self.reject(p.from, "frame for a session that was never opened");
            }
        }
    }

    /// Parks a frame for a session not open yet, within `from`'s share of the buffer.
    fn park(
        &mut self,
        from: PartyIndex,
        session: SessionId,
        frame: Vec<u8>,
        share: (usize, usize),
    ) {
        let (frames, bytes) = self
            .pending
            .iter()
            .filter(|p| p.from == from)
            .fold((0usize, 0usize), |(n, b), p| (n + 1, b + charge(&p.frame)));
        if frames >= share.0 || bytes.saturating_add(charge(&frame)) > share.1 {
            self.reject(
                from,
                "frame for an unknown session (this peer's buffer is full)",
            );
            return;
        }
        self.pending_bytes = self.pending_bytes.saturating_add(charge(&frame));
        self.peak_pending_bytes = self.peak_pending_bytes.max(self.pending_bytes);
        self.pending.push_back(Pending {
            at: Instant::now(),
            session,
            from,
            frame,
        });
    }
}

/// What a waiting frame costs its sender's budgets.
pub(crate) fn charge(frame: &[u8]) -> usize {
    frame.len().saturating_add(FRAME_OVERHEAD)
}

/// Where one incoming frame goes.
enum Decision {
    Drop,
    Deliver {
        tx: mpsc::Sender<Delivered>,
        session_budget: Arc<Semaphore>,
    },
}

impl super::Mesh {
    /// Hands a frame from `from` to its session (waiting while `from` is over a budget), or
    /// parks it for a session not open yet, or drops it.
    pub(crate) async fn route(&self, from: PartyIndex, frame: Vec<u8>) {
        let session = match Envelope::peek_session(&frame) {
            Ok(s) => s,
            Err(e) => return self.reject(from, e),
        };
        let decision = {
            let mut r = self.router();
            match r.sessions.get(&session) {
                Some(route) => {
                    let budget = route.budget.get(&from).cloned();
                    let why = admit(&route.limits, from, &frame);
                    match (why, budget) {
                        (None, Some(session_budget)) => Decision::Deliver {
                            tx: route.tx.clone(),
                            session_budget,
                        },
                        (Some(why), _) => {
                            r.reject(from, why);
                            Decision::Drop
                        }
                        (None, None) => {
                            r.reject(from, "no budget for this party in the session");
                            Decision::Drop
                        }
                    }
                }
                None => {
                    r.expire(self.limits.pending_ttl);
                    let peers = usize::from(self.n.saturating_sub(1)).max(1);
                    let share = (
                        (self.limits.pending_limit / peers).max(1),
                        self.limits.pending_bytes / peers,
                    );
                    r.park(from, session, frame, share);
                    return;
                }
            }
        };
        let Decision::Deliver { tx, session_budget } = decision else {
            return;
        };
        let Some(peer_budget) = self.peer_budget.get(&from).cloned() else {
            return self.reject(from, "no budget for this party");
        };
        let cost = charge(&frame);
        let Ok(permits) = u32::try_from(cost) else {
            return self.reject(from, "frame larger than any budget");
        };
        if cost > self.limits.session_peer_bytes || cost > self.limits.peer_bytes {
            return self.reject(from, "frame larger than the per-peer budget");
        }
        // Backpressure: this connection waits until the session has read enough of this
        // peer's earlier frames.
        let (Ok(in_session), Ok(in_peer)) = (
            session_budget.clone().acquire_many_owned(permits).await,
            peer_budget.clone().acquire_many_owned(permits).await,
        ) else {
            return self.reject(from, "budget closed");
        };
        {
            let used = |s: &Semaphore, total: usize| total.saturating_sub(s.available_permits());
            let mut r = self.router();
            let in_use = used(&session_budget, self.limits.session_peer_bytes);
            r.peak_session_peer_bytes = r.peak_session_peer_bytes.max(in_use);
            let in_use = used(&peer_budget, self.limits.peer_bytes);
            r.peak_peer_bytes = r.peak_peer_bytes.max(in_use);
        }
        let delivered = Delivered {
            from,
            frame,
            _charge: Some([in_session, in_peer]),
        };
        if tx.send(delivered).await.is_err() {
            self.reject(from, "frame for a session that has closed");
        }
    }

    /// Bytes waiting in sessions now, over every peer.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.peer_budget
            .values()
            .map(|s| self.limits.peer_bytes.saturating_sub(s.available_permits()))
            .sum()
    }
}

/// Why a frame from `from` is refused by a session with `limits`, if it is.
pub(crate) fn admit(limits: &SessionLimits, from: PartyIndex, frame: &[u8]) -> Option<String> {
    if let Some(members) = &limits.members {
        if !members.contains(&from) {
            return Some(format!("party {from} is not a member of the session"));
        }
    }
    (frame.len() > limits.max_frame).then(|| {
        format!(
            "frame of {} bytes exceeds the session's cap of {} bytes",
            frame.len(),
            limits.max_frame
        )
    })
}

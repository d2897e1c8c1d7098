//! The session ids a party has joined, so a coordinator cannot make it run a session twice
//! (the same id with other inputs), not even across a restart.
//!
//! The party keeps the most recent [`SEEN_SESSIONS`] ids in memory; a [`SessionJournal`]
//! (in `mpc-node`: a file beside the key store) keeps them across restarts. An id is
//! recorded before its session opens; if it cannot be recorded, the session is refused.

use std::collections::{HashSet, VecDeque};

use mpc_core::SessionId;

/// How many recent session ids a party remembers to refuse their reuse.
pub const SEEN_SESSIONS: usize = 1 << 20;

/// Durable storage of the session ids a party joined.
pub trait SessionJournal: Send + Sync + 'static {
    /// The ids recorded, oldest first (at least the newest [`SEEN_SESSIONS`]).
    ///
    /// # Errors
    /// The journal cannot be read (the party then does not start).
    fn load(&self) -> Result<Vec<SessionId>, String>;

    /// Records `id`, before the session opens.
    ///
    /// # Errors
    /// It cannot be recorded (the session is then refused).
    fn record(&self, id: SessionId) -> Result<(), String>;
}

/// The most recent session ids, in memory.
#[derive(Default)]
pub(crate) struct SeenSessions {
    set: HashSet<SessionId>,
    order: VecDeque<SessionId>,
}

impl SeenSessions {
    /// The ids of a journal, keeping the newest [`SEEN_SESSIONS`].
    pub(crate) fn from_journal(ids: Vec<SessionId>) -> Self {
        let mut seen = SeenSessions::default();
        for id in ids {
            seen.remember(id);
        }
        seen
    }

    /// Whether `id` was joined.
    pub(crate) fn contains(&self, id: &SessionId) -> bool {
        self.set.contains(id)
    }

    /// Remembers `id`, forgetting the oldest beyond [`SEEN_SESSIONS`]. Returns `false` if it
    /// was already there.
    pub(crate) fn remember(&mut self, id: SessionId) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > SEEN_SESSIONS {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

//! Transport errors.

use mpc_core::PartyIndex;

/// What went wrong delivering or accepting a message, or driving a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A frame is larger than the configured cap (checked before allocating).
    #[error("frame of {size} bytes exceeds the cap of {limit} bytes")]
    FrameTooLarge {
        /// Announced size.
        size: usize,
        /// Cap.
        limit: usize,
    },
    /// A frame ends before its header or announced payload.
    #[error("truncated frame: {0}")]
    Truncated(&'static str),
    /// A frame with an unknown envelope version or scheme.
    #[error("unsupported envelope: {0}")]
    Unsupported(String),
    /// An envelope for another session than the one being run.
    #[error("envelope from party {from} belongs to another session")]
    WrongSession {
        /// Authenticated sender.
        from: PartyIndex,
    },
    /// An envelope whose `from` differs from the sender the transport authenticated.
    #[error("party {authenticated} sent an envelope claiming to be from party {claimed}")]
    WrongSender {
        /// Sender named in the envelope.
        claimed: PartyIndex,
        /// Sender the transport authenticated.
        authenticated: PartyIndex,
    },
    /// A party index that the transport does not know.
    #[error("unknown party {0}")]
    UnknownParty(PartyIndex),
    /// No message came in time; `waiting_for` names the parties that had not sent theirs.
    #[error("round {round} timed out after {after_ms} ms waiting for parties {waiting_for:?}")]
    Timeout {
        /// Round id being waited on (engine phase << 8 | round).
        round: u16,
        /// Parties whose message was missing.
        waiting_for: Vec<PartyIndex>,
        /// Timeout that expired.
        after_ms: u64,
    },
    /// TLS setup or the peer's certificate failed.
    #[error("tls: {0}")]
    Tls(String),
    /// A socket error.
    #[error("i/o: {0}")]
    Io(String),
    /// The transport is closed (all peers gone).
    #[error("transport closed")]
    Closed,
    /// A sealed envelope or a sealing card from the broker that does not open or verify.
    #[error("sealed envelope refused: {0}")]
    Sealed(String),
    /// The message broker refused an operation or could not be reached.
    #[error("broker: {0}")]
    Broker(String),
    /// The core refused the message or the protocol aborted.
    #[error(transparent)]
    Core(#[from] mpc_core::Error),
}

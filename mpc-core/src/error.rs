//! Errors of the core crate.

use crate::ids::{PartyIndex, SchemeId};

/// Everything that can go wrong in `mpc-core`.
///
/// Errors caused by a peer name that peer (`from`, `culprits`), so an operator can tell a
/// misbehaving party from a local fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `t` and `n` do not describe a valid threshold setup (`1 <= t <= n`, `n >= 1`).
    #[error("invalid threshold: t = {t}, n = {n} (need 1 <= t <= n)")]
    InvalidThreshold {
        /// Requested threshold.
        t: u16,
        /// Requested number of parties.
        n: u16,
    },
    /// The engine cannot work with this threshold (for example FROST and CGGMP21 need t >= 2).
    #[error("{scheme} does not support t = {t}: {reason}")]
    UnsupportedThreshold {
        /// Scheme that refused.
        scheme: SchemeId,
        /// Requested threshold.
        t: u16,
        /// Why.
        reason: &'static str,
    },
    /// A party index is listed twice.
    #[error("party {0} is listed twice")]
    DuplicateParty(PartyIndex),
    /// A party index is outside `0..n` for the key.
    #[error("party index {index} is out of range (n = {n})")]
    PartyOutOfRange {
        /// The offending index.
        index: PartyIndex,
        /// Number of parties of the key.
        n: u16,
    },
    /// The local party is not in the list of participants.
    #[error("the local party {0} is not among the participants")]
    NotAParticipant(PartyIndex),
    /// The number of signers does not match the key's threshold.
    #[error("need exactly {needed} signers, got {got}")]
    WrongSignerCount {
        /// Signers the key needs.
        needed: u16,
        /// Signers supplied.
        got: usize,
    },
    /// A message names a session other than the one this run belongs to.
    #[error("message from party {from} belongs to another session")]
    WrongSession {
        /// Claimed sender.
        from: PartyIndex,
    },
    /// A message names a sender that is not a participant of this run, or the local party.
    #[error("message from unexpected sender {from}")]
    UnexpectedSender {
        /// Claimed sender.
        from: PartyIndex,
    },
    /// A direct message addressed to somebody else reached this party.
    #[error("message from party {from} is addressed to party {to}, not to us")]
    WrongRecipient {
        /// Sender.
        from: PartyIndex,
        /// Addressee.
        to: PartyIndex,
    },
    /// A second message for the same round from the same sender.
    #[error("duplicate message from party {from} for round {round}")]
    DuplicateMessage {
        /// Sender.
        from: PartyIndex,
        /// Round.
        round: u16,
    },
    /// A message larger than the configured limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Announced or actual size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// A message that cannot be decoded (truncated, wrong type, invalid point or scalar).
    #[error("malformed message from party {from}: {reason}")]
    MalformedMessage {
        /// Sender.
        from: PartyIndex,
        /// Decoder's explanation.
        reason: String,
    },
    /// The protocol aborted. `culprits` lists the parties blamed, when the engine can tell.
    #[error("protocol aborted (blamed parties: {culprits:?}): {reason}")]
    Aborted {
        /// Parties blamed for the abort (may be empty when the engine cannot attribute it).
        culprits: Vec<PartyIndex>,
        /// Engine's explanation.
        reason: String,
    },
    /// The protocol run was driven in a way it does not support (a bug in the caller or here).
    #[error("protocol run misused: {0}")]
    Misuse(&'static str),
    /// The key share belongs to another scheme.
    #[error("key share is for {found}, expected {expected}")]
    SchemeMismatch {
        /// Scheme the operation needs.
        expected: SchemeId,
        /// Scheme the share belongs to.
        found: SchemeId,
    },
    /// A serialized key share (or other structure) uses a format version this build does not know.
    #[error("unsupported format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version found.
        found: u32,
        /// Version supported.
        supported: u32,
    },
    /// A key share, presignature or signature failed to (de)serialize or validate.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The signing request does not fit the scheme (for example a BIP-340 request to ECDSA).
    #[error("signing request does not fit {scheme}: {reason}")]
    RequestMismatch {
        /// Scheme.
        scheme: SchemeId,
        /// Why.
        reason: &'static str,
    },
    /// HD derivation failed (hardened index, key without chain code, ...).
    #[error("key derivation failed: {0}")]
    Derivation(String),
    /// A presignature was already used; using it again would leak the key.
    #[error("presignature {0} was already used")]
    PresignatureUsed(String),
    /// A presignature was asked to sign an ECDSA digest the party did not derive itself
    /// (RUSTSEC-2025-0127): a digest chosen after the presignature's nonce is known can
    /// yield a forgery. See [`crate::seen`].
    #[error("a presignature signs only a digest this party derived from a payload it holds (chain payload or hashed message), not a bare digest")]
    UnseenDigest,
    /// The presignature does not fit the request (other key, other path, other signers).
    #[error("presignature does not fit the request: {0}")]
    PresignatureMismatch(&'static str),
    /// The final signature does not verify under the group key: some signer cheated.
    #[error("combined signature does not verify (blamed parties: {culprits:?})")]
    InvalidSignature {
        /// Parties whose contribution was found invalid, when known.
        culprits: Vec<PartyIndex>,
    },
    /// Durable storage (a presignature pool directory) failed; nothing was issued.
    #[error("storage: {0}")]
    Storage(String),
    /// The share belongs to another epoch of the key than the session: shares of two
    /// epochs never sign together (one was refreshed or reshared, the other not).
    #[error("party {party} holds a share of epoch {share_epoch}, the session is for epoch {session_epoch}")]
    EpochMismatch {
        /// The party whose share does not fit.
        party: PartyIndex,
        /// Its share's epoch.
        share_epoch: u32,
        /// The session's epoch.
        session_epoch: u32,
    },
    /// A check of this party's own computation failed: a bug here, not a peer's fault.
    #[error("internal error (a fault of this party, no peer is blamed): {0}")]
    Internal(String),
    /// CGGMP21 key share without auxiliary info (Paillier keys) cannot sign yet.
    #[error("key share has no auxiliary info; run the aux-info setup first")]
    AuxInfoMissing,
}

impl Error {
    /// The parties this error blames: the sender of a refused message, or the culprits of
    /// an abort or a bad signature. Empty for local faults, misuse, and aborts the engine
    /// cannot attribute.
    pub fn blamed(&self) -> Vec<PartyIndex> {
        match self {
            Error::WrongSession { from }
            | Error::UnexpectedSender { from }
            | Error::WrongRecipient { from, .. }
            | Error::DuplicateMessage { from, .. }
            | Error::MalformedMessage { from, .. } => vec![*from],
            Error::Aborted { culprits, .. } | Error::InvalidSignature { culprits } => {
                culprits.clone()
            }
            _ => Vec::new(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

//! The control protocol between the coordinator and the parties: requests, responses and
//! the timings a party reports. JSON in length-delimited frames over mutual TLS; each frame
//! carries a request id so many requests share one connection.
//!
//! What a party signs is never taken from here as is: a party passes every
//! [`SignRequest`] through its [`crate::party::RequestPolicy`], which derives the request
//! from the unsigned chain payload itself (see `mpc_core::chain::derive_request`).

use mpc_core::engines::cggmp21::Cggmp21Partial;
use mpc_core::{Gg20Partial, PartyIndex, PublicKey, SchemeId, SessionId, SignRequest, Signature};
use serde::{Deserialize, Serialize};

/// A key the parties hold, as the coordinator names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyRef {
    /// Scheme of the key.
    pub scheme: SchemeId,
    /// Group public key.
    pub public_key: PublicKey,
    /// The key's epoch (0 when made, raised by every refresh, reshare or repair). A party
    /// holding another epoch of the key refuses, so shares of two epochs never sign
    /// together; presignatures are indexed per epoch.
    #[serde(default)]
    pub epoch: u32,
}

/// A request from the coordinator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Request {
    /// Liveness check; the party answers with its index.
    Ping,
    /// Join signing session `session` with `signers` and sign `requests` (one run, or one
    /// batch for several).
    Sign {
        /// Fresh session id.
        session: SessionId,
        /// Key to sign with.
        key: KeyRef,
        /// Signers, by key-generation index.
        signers: Vec<PartyIndex>,
        /// What to sign; each is re-derived by the party.
        requests: Vec<SignRequest>,
        /// Per-round timeout the party applies (clamped by the party's own bound).
        round_timeout_ms: u64,
    },
    /// Join presigning session `session` (CGGMP21 or GG20) and keep the presignature in
    /// the pool.
    Presign {
        /// Fresh session id.
        session: SessionId,
        /// Key to presign with.
        key: KeyRef,
        /// Signers, by key-generation index.
        signers: Vec<PartyIndex>,
        /// Derivation path, fixed now.
        path: Option<Vec<u32>>,
        /// Per-round timeout the party applies (clamped by the party's own bound).
        round_timeout_ms: u64,
    },
    /// Issue the partial signature of a pooled presignature (consumes it).
    PartialSign {
        /// Key the presignature belongs to.
        key: KeyRef,
        /// Presignature id.
        #[serde(with = "mpc_core::hexser")]
        presignature: [u8; 32],
        /// What to sign; re-derived by the party.
        request: SignRequest,
    },
    /// List the ready presignatures of a key.
    Pool {
        /// Key.
        key: KeyRef,
    },
    /// Join key generation session `session` of all `n` parties for a new key named
    /// `key_id`; the party stores its share as pending and reports [`Response::KeyStored`].
    Keygen {
        /// Fresh session id.
        session: SessionId,
        /// Scheme of the new key.
        scheme: SchemeId,
        /// Name of the new key (never an existing one).
        key_id: String,
        /// Signers needed.
        t: u16,
        /// Parties (the whole deployment).
        n: u16,
        /// Per-round timeout the party applies (clamped by the party's own bound).
        round_timeout_ms: u64,
    },
    /// Import a key that exists already (a tss-lib keygen file named `file` in the party's
    /// import directory, which must hold this party's share), run the network step the
    /// engine needs (GG20: certification of every party's moduli; CGGMP21: new auxiliary
    /// info; FROST Ed25519: none) in session `session`, and store the share as pending
    /// under `key_id`, like [`Request::Keygen`].
    Import {
        /// Fresh session id.
        session: SessionId,
        /// Engine to import the key into.
        scheme: SchemeId,
        /// Name of the key (never an existing one).
        key_id: String,
        /// File name inside the party's import directory.
        file: String,
        /// Parties (the whole deployment, which must be the key's parties).
        n: u16,
        /// Per-round timeout the party applies (clamped by the party's own bound).
        round_timeout_ms: u64,
    },
    /// Make sure the party's Paillier primes are ready (made now if needed: minutes), so a
    /// CGGMP21 or GG20 key generation does not wait for one party's primes. Answered with
    /// [`Response::Prepared`].
    PreparePrimes,
    /// Make a pending key active: sent only once every party reported the same key.
    Activate {
        /// The key.
        key_id: String,
        /// The epoch to activate (absent: the key's only pending epoch).
        #[serde(default)]
        epoch: Option<u32>,
        /// The hash the party reported for what it stored (hex): the party refuses to
        /// activate anything else (a share a stale run stored later, say).
        #[serde(default)]
        stored_hash: Option<String>,
    },
    /// Describe the resharing of `key` this party's share gives: its committee, every
    /// party's evaluation point and public share (answered with
    /// [`Response::ReshareSetup`]; all public).
    ReshareSetup {
        /// The key (this party must hold exactly this epoch).
        key: KeyRef,
        /// The dealers (deployment parties of the key's committee).
        dealers: Vec<PartyIndex>,
        /// The new committee (deployment parties, in new share-index order).
        new_committee: Vec<PartyIndex>,
        /// Threshold of the new committee.
        new_threshold: u16,
    },
    /// Join resharing session `session` of key `key_id` (refresh, reshare, repair or
    /// migration): a dealer deals from its share of `key`, a member of the new committee
    /// stores its new share (of engine `target`, epoch `key.epoch + 1`) as pending and
    /// reports [`Response::KeyStored`]; a dealer outside the new committee answers
    /// [`Response::Dealt`]. A party that holds `key` derives the setup from its own share
    /// and refuses a `setup` that differs.
    Reshare {
        /// Fresh session id.
        session: SessionId,
        /// Name of the key.
        key_id: String,
        /// The key as it is now (scheme, group key, epoch).
        key: KeyRef,
        /// Engine of the new shares (the key's own, or CGGMP21 for a migrated GG20 key).
        target: SchemeId,
        /// The public setup, in deployment party ids.
        setup: mpc_core::reshare::SetupRecord,
        /// Per-round timeout the party applies (clamped by the party's own bound).
        round_timeout_ms: u64,
    },
    /// Destroy this party's share of epoch `epoch` of key `key_id` and its presignatures:
    /// sent once the next epoch is active at every party of the new committee.
    Retire {
        /// The key.
        key_id: String,
        /// The old epoch.
        epoch: u32,
        /// Destroy the share only if it is pending (never activated): a share of an
        /// epoch this party is not part of, left by an abandoned resharing run.
        #[serde(default)]
        pending_only: bool,
    },
}

/// A ready presignature as listed by a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PooledPresignature {
    /// Id, the same at every signer.
    #[serde(with = "mpc_core::hexser")]
    pub id: [u8; 32],
    /// Signers of the presigning run.
    pub signers: Vec<PartyIndex>,
    /// Derivation path fixed at presigning.
    pub path: Option<Vec<u32>>,
    /// Key it signs for (derived, if it has a path).
    pub signing_key: PublicKey,
}

/// When a party accepted each protocol message of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTimings {
    /// Wall time of the party's run, in microseconds.
    pub elapsed_us: u64,
    /// `(round, sender, microseconds since the run started)`, in order of acceptance.
    pub arrivals: Vec<(u16, PartyIndex, u64)>,
    /// Frames the party refused during the run.
    pub rejected: usize,
}

/// Why a party could not do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FailureKind {
    /// The party's policy refused the request (its own derivation differs, or policy).
    Refused,
    /// A round timed out; `blame` names the parties whose messages were missing.
    Timeout,
    /// The protocol aborted; `blame` names the culprits when known.
    Aborted,
    /// The request is malformed or names a key, signer set or presignature the party does
    /// not have.
    BadRequest,
    /// The presignature was already used or does not fit the request.
    Presignature,
    /// The party signs this request only interactively: a presignature signs only a digest
    /// the party derived itself (RUSTSEC-2025-0127), and this one it took on trust. Nothing
    /// was consumed; the coordinator signs in full instead.
    Interactive,
    /// Anything else (storage, closed transport).
    Internal,
}

/// A party's failure report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Category.
    pub kind: FailureKind,
    /// Parties the reporting party holds responsible (empty: none known).
    pub blame: Vec<PartyIndex>,
    /// Explanation.
    pub message: String,
}

/// A party's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Response {
    /// Answer to [`Request::Ping`].
    Pong {
        /// The party's index (also known from its certificate).
        party: PartyIndex,
    },
    /// The signatures of a [`Request::Sign`], in request order.
    Signed {
        /// Signatures.
        signatures: Vec<Signature>,
        /// The key they verify under, per request (derived keys for paths).
        signing_keys: Vec<PublicKey>,
        /// The party's timings.
        run: RunTimings,
    },
    /// A presignature was made and stored.
    Presigned {
        /// Its id.
        #[serde(with = "mpc_core::hexser")]
        id: [u8; 32],
        /// The key it signs for (derived, if it has a path).
        signing_key: PublicKey,
        /// The party's timings.
        run: RunTimings,
    },
    /// A partial signature (the presignature is consumed).
    Partial {
        /// The partial signature.
        partial: PartialSignature,
        /// The key the combined signature verifies under.
        signing_key: PublicKey,
    },
    /// The ready presignatures of a key.
    Pool {
        /// Entries.
        entries: Vec<PooledPresignature>,
    },
    /// The party stored its share of a new key (pending until activated).
    KeyStored {
        /// The key's name.
        key_id: String,
        /// Scheme and group public key.
        key: KeyRef,
        /// Signers the key needs.
        threshold: u16,
        /// Every party's public share, by party index, as this party's share has them.
        public_shares: Vec<PublicKey>,
        /// Hash of what the party stored (its sealed file).
        #[serde(with = "mpc_core::hexser")]
        stored_hash: [u8; 32],
        /// The key's BIP-32 chain code (public), if it has one.
        #[serde(default)]
        chain_code: Option<[u8; 32]>,
        /// The key's committee: the deployment party of each share index (empty: share
        /// index `i` at party `i`).
        #[serde(default)]
        committee: Vec<PartyIndex>,
    },
    /// The party's primes are ready.
    Prepared,
    /// The setup of a resharing, as the answering party's share gives it.
    ReshareSetup {
        /// The setup.
        setup: mpc_core::reshare::SetupRecord,
    },
    /// A dealer outside the new committee dealt its part of a resharing (it stores
    /// nothing).
    Dealt {
        /// The key's name.
        key_id: String,
    },
    /// The party destroyed its share of an old epoch (or held none).
    Retired {
        /// The key's name.
        key_id: String,
        /// The epoch.
        epoch: u32,
    },
    /// A key is active at the party.
    Activated {
        /// The key's name.
        key_id: String,
        /// Scheme and group public key.
        key: KeyRef,
    },
    /// The request failed.
    Failed(Failure),
}

/// A partial signature of one of the presigning engines.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PartialSignature {
    /// CGGMP21.
    Cggmp21(Cggmp21Partial),
    /// GG20.
    Gg20(Gg20Partial),
}

impl PartialSignature {
    /// The party that issued it.
    pub fn from(&self) -> PartyIndex {
        match self {
            PartialSignature::Cggmp21(p) => p.from,
            PartialSignature::Gg20(p) => p.from,
        }
    }
}

impl From<Cggmp21Partial> for PartialSignature {
    fn from(p: Cggmp21Partial) -> Self {
        PartialSignature::Cggmp21(p)
    }
}

impl From<Gg20Partial> for PartialSignature {
    fn from(p: Gg20Partial) -> Self {
        PartialSignature::Gg20(p)
    }
}

/// One frame of the control channel.
#[derive(Debug, Serialize, Deserialize)]
pub struct Framed<T> {
    /// Request id, echoed in the response.
    pub id: u64,
    /// Body.
    pub body: T,
}

//! # mpc-transport
//!
//! Delivery and orchestration for `mpc-core` protocol runs: the message [`Envelope`] and
//! its frame (size-capped before allocation), the [`Transport`] abstraction, an
//! [`InMemoryTransport`], TCP with mutual TLS ([`TcpNode`], many sessions over one
//! connection per pair of parties), and [`drive`], which runs any engine's protocol over any
//! transport, rejecting frames from another session, a wrong sender, or duplicates.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod committee;
pub mod control;
pub mod coordinator;
#[cfg(feature = "dev-pki")]
pub mod devpki;
pub mod driver;
pub mod envelope;
pub mod error;
mod frame;
pub mod local;
pub mod mesh;
pub mod nats;
pub mod party;
pub mod tcp;
pub mod tls;
pub mod transport;

pub use control::KeyRef;
pub use coordinator::{
    Coordinator, CoordinatorError, CoordinatorOptions, KeygenOutcome, ReshareOutcome, ReshareSpec,
    SessionReport, Signed,
};
pub use driver::{accept, drive, Arrival, DriveOptions, DriveReport};
pub use envelope::{Envelope, DEFAULT_MAX_FRAME, ENVELOPE_VERSION, HEADER_LEN};
pub use error::TransportError;
pub use local::{
    keygen_all, presign_all, run_parties, sign_all, sign_batch_all, PartyJob, PartyOutcome,
};
pub use mesh::{Mesh, MeshLimits, MeshNode, MeshSession, MeshStats, SessionLimits, FRAME_OVERHEAD};
pub use nats::{NatsNode, NatsOptions, NatsSession};
pub use party::{
    HeldKey, KeyVault, Party, PartyOptions, RequestContext, RequestPolicy, SessionJournal,
    SharedStore, StoredKey, UncheckedRequests,
};
pub use tcp::{TcpNode, TcpOptions, TcpSession, TcpStats};
pub use tls::{coordinator_name, party_name, TlsIdentity};
pub use transport::{InMemoryNetwork, InMemoryTransport, Transport};

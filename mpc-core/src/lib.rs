//! # mpc-core
//!
//! The cryptographic core of the threshold-signing SDK: the protocol-agnostic
//! [`ThresholdScheme`] trait, its engines, key shares, signing requests and signatures.
//!
//! - **Engines**: [`Cggmp21`] (threshold ECDSA over secp256k1, with presignatures and BIP-32
//!   non-hardened derivation), [`FrostEd25519`] and [`FrostTaproot`] (FROST with BIP-340 and
//!   the Taproot tweak). New ECDSA keys should use CGGMP21. [`Gg20`] signs with keys that
//!   already exist in GG18/GG20 deployments (see [`import`] for tss-lib), hardened against
//!   the published attacks.
//! - **Sans-IO**: every protocol run is a [`Protocol`] state machine: feed it messages, take
//!   its messages, read its output. No threads, clock, sockets or async runtime, so a party
//!   can run inside an enclave. `mpc-transport` drives runs over real transports;
//!   [`local::run_local`] runs all parties in one thread.
//! - **Key shares**: one versioned envelope ([`KeyShare`]) for every engine. Secrets are
//!   zeroized on drop and never printed.
//!
//! This crate depends on no async runtime, network or chain crate: it can be audited alone.
//!
//! ```no_run
//! use mpc_core::{local::run_local, FrostEd25519, SchemeId, SessionCtx, SessionId, SignRequest, ThresholdScheme};
//!
//! # fn main() -> Result<(), mpc_core::Error> {
//! // 2-of-3 key generation, all parties in this thread.
//! let sid = SessionId::random(&mut rand_core::OsRng);
//! let runs = (0..3)
//!     .map(|i| FrostEd25519::keygen(&SessionCtx::keygen(sid, SchemeId::FrostEd25519, i, 3)?, 2, ()))
//!     .collect::<Result<Vec<_>, _>>()?;
//! let shares = run_local(runs)?;
//!
//! // Parties 0 and 2 sign.
//! let sid = SessionId::random(&mut rand_core::OsRng);
//! let request = SignRequest::ed25519(b"hello".to_vec());
//! let runs = [0usize, 2]
//!     .iter()
//!     .map(|&i| {
//!         let ctx = SessionCtx::new(sid, SchemeId::FrostEd25519, i as u16, &[0, 2])?;
//!         FrostEd25519::sign(&ctx, &shares[i], &request)
//!     })
//!     .collect::<Result<Vec<_>, _>>()?;
//! let signatures = run_local(runs)?;
//! mpc_core::verify::verify(&shares[0].public_key(), &request.payload, &signatures[0])?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod adapter;
pub mod batch;
pub mod chain;
pub mod derive;
pub mod engines;
pub mod error;
pub mod hexser;
pub mod ids;
pub mod import;
pub mod limits;
pub mod local;
pub mod presign_store;
pub mod protocol;
pub mod reshare;
mod rounds;
pub mod scheme;
pub mod seen;
pub mod share;
pub mod sig;
pub mod taproot;
pub mod verify;

pub use engines::cggmp21::{Cggmp21, Cggmp21KeygenConfig, Cggmp21Share};
pub use engines::frost::{Frost, FrostEd25519, FrostTaproot};
pub use engines::gg20::{Gg20, Gg20KeygenConfig, Gg20Partial, Gg20Presignature, Gg20Share};
pub use engines::primes::PaillierPrimes;
pub use error::{Error, Result};
pub use ids::{check_threshold, CurveId, PartyIndex, SchemeId, SessionCtx, SessionId};
pub use presign_store::{MemoryPresignatures, PoolEntry, PresignatureStore, StoredPresignature};
pub use protocol::{BoxedProtocol, Message, Protocol, Step, MAX_PAYLOAD};
pub use scheme::{Presigning, ThresholdScheme};
pub use seen::{MessageHash, SeenRequest};
pub use share::{KeyShare, ShareHeader, KEY_SHARE_FORMAT_VERSION};
pub use sig::{ChainPayload, EcdsaSignature, PublicKey, SignPayload, SignRequest, Signature};

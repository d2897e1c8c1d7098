//! # mpc-node
//!
//! The node a custody vendor deploys, composed of `mpc-core` (cryptography),
//! `mpc-transport` (delivery) and the chain crates (encoding):
//!
//! - [`seal`] and [`store`]: every secret the node writes is sealed at rest (XChaCha20-
//!   Poly1305 under a data key wrapped by a passphrase, a key file or an HSM key), written
//!   atomically, never overwritten, in a store one process owns at a time;
//! - [`pool`]: durable presignature pools for CGGMP21 and GG20 (single use across restarts);
//! - [`policy`] and [`audit`]: the party decodes what it is asked to sign, applies its
//!   rules (networks, chain ids, sighash types, amounts, fees, allowlists) and appends every
//!   decision to a hash-chained audit log before its signature share leaves.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod backup;
pub mod config;
pub mod coordinator;
pub mod demo;
pub mod error;
pub mod fsutil;
pub mod lifecycle;
pub mod party;
pub mod policy;
pub mod pool;
pub mod seal;
pub mod sessions;
pub mod store;
pub mod vault;

pub use error::{NodeError, Result};

/// The workspace README, compiled so its examples stay true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

//! Importers for key material made by other threshold-signing implementations, so existing
//! keys keep their group public key (and their addresses).
//!
//! - [`tss_lib`]: bnb-chain tss-lib keygen output (`keygen_data_*.json`), ECDSA to the
//!   [`crate::Gg20`] or [`crate::Cggmp21`] engine, EdDSA to [`crate::FrostEd25519`].

pub mod tss_lib;
mod tss_lib_json;

pub use tss_lib::TssLibKey;

//! # chain-btc
//!
//! Bitcoin transactions signed by a threshold key, with rust-bitcoin for every encoding:
//! a PSBT (BIP-174), or an unsigned transaction plus its spent outputs, goes in; every
//! input's sighash is computed (BIP-143 for P2WPKH, BIP-341 for P2TR key path); P2WPKH inputs
//! are signed by an ECDSA engine (low-s DER, the PSBT's sighash type, ALL by default) and P2TR
//! inputs by FROST/BIP-340 with the Taproot output-key tweak (no script tree, or the PSBT's
//! `tap_merkle_root`); the PSBT is finalized and the raw transaction extracted.
//!
//! [`BtcEncoder`] implements [`mpc_core::chain::ChainEncoder`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod encoder;
mod error;

pub use bitcoin;
pub use encoder::{p2tr_address, p2wpkh_address, psbt_from_tx, AddressKind, BtcEncoder, InputKind};
pub use error::BtcError;

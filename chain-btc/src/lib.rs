//! Chain encoder crate `chain-btc`: placeholder until the chain-encoders work fills it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

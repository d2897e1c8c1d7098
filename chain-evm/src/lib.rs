//! Chain encoder crate `chain-evm`: placeholder until the chain-encoders work fills it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

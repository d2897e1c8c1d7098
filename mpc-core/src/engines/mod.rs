//! The engines: CGGMP21 (threshold ECDSA) and FROST (Ed25519, secp256k1/BIP-340 Taproot).

pub mod cggmp21;
pub mod frost;
pub mod primes;
mod util;

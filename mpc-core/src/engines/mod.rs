//! The engines: CGGMP21 (threshold ECDSA), FROST (Ed25519, secp256k1/BIP-340 Taproot) and
//! GG20 (threshold ECDSA for existing GG18/GG20 keys).

pub mod cggmp21;
pub mod frost;
pub mod gg20;
pub mod primes;
pub(crate) mod util;

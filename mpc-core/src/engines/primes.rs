//! Paillier primes for CGGMP21 auxiliary info: generation with progress, and caching.

use cggmp21::key_refresh::PregeneratedPrimes;
use serde::{Deserialize, Serialize};

/// A pair of safe primes for one party's Paillier key (CGGMP21 security level 128: 1536-bit
/// primes). Generating them takes tens of seconds, so they can be cached (they are secret:
/// store them like a key share). `Debug` prints no secret.
#[derive(Clone, Serialize, Deserialize)]
pub struct PaillierPrimes(pub(crate) PregeneratedPrimes);

impl core::fmt::Debug for PaillierPrimes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PaillierPrimes(<redacted>)")
    }
}

impl PaillierPrimes {
    /// Bit size of each prime.
    pub const PRIME_BITS: u32 = 4 * <cggmp21::security_level::SecurityLevel128 as cggmp21::security_level::KeygenSecurityLevel>::SECURITY_BITS;

    /// Generates a fresh pair, calling `progress(k)` after prime `k` (1 and 2) is found, so a
    /// caller can show that the slow step is moving.
    pub fn generate<R: rand_core::RngCore>(rng: &mut R, mut progress: impl FnMut(u8)) -> Self {
        loop {
            let p = cggmp21::fast_paillier::utils::generate_safe_prime(&mut *rng, Self::PRIME_BITS);
            progress(1);
            let q = cggmp21::fast_paillier::utils::generate_safe_prime(&mut *rng, Self::PRIME_BITS);
            progress(2);
            // `new` refuses p == q (astronomically unlikely); draw again then.
            if let Some(primes) = PregeneratedPrimes::new(p, q) {
                return PaillierPrimes(primes);
            }
        }
    }
}

#[derive(Deserialize)]
struct PrimesFile {
    primes: Vec<PaillierPrimes>,
}

impl PaillierPrimes {
    /// Reads pregenerated primes from a JSON document `{"primes": [...]}` (other fields are
    /// ignored), the form `examples/gen_test_primes.rs` writes.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] when the document is not of that form.
    pub fn list_from_json(bytes: &[u8]) -> crate::Result<Vec<Self>> {
        serde_json::from_slice::<PrimesFile>(bytes)
            .map(|f| f.primes)
            .map_err(|e| crate::Error::Invalid {
                what: "primes file",
                reason: e.to_string(),
            })
    }
}

impl From<PaillierPrimes> for super::cggmp21::Cggmp21KeygenConfig {
    fn from(primes: PaillierPrimes) -> Self {
        super::cggmp21::Cggmp21KeygenConfig {
            primes: Some(primes),
        }
    }
}

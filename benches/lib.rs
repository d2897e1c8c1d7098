//! Shared setup for the benches: TEST-ONLY Paillier primes from `test-vectors/` so the
//! benches do not spend minutes generating primes. Never use these primes for real keys.
#![forbid(unsafe_code)]

use mpc_core::PaillierPrimes;

/// Loads the TEST-ONLY primes fixture.
///
/// # Errors
/// The fixture is missing or corrupt.
pub fn test_only_primes() -> Result<Vec<PaillierPrimes>, Box<dyn std::error::Error>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-vectors/test-only-paillier-primes.json");
    Ok(PaillierPrimes::list_from_json(&std::fs::read(path)?)?)
}

//! Writes the TEST-ONLY Paillier primes fixture used by the test suite:
//! `cargo run --release --example gen_test_primes -- test-vectors/test-only-paillier-primes.json 5`
//!
//! These primes are published in the repository and therefore worthless as secrets. They
//! exist only so that tests do not spend minutes generating safe primes. Never use them
//! for a real key.

use std::time::Instant;

use mpc_core::PaillierPrimes;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: gen_test_primes OUT.json COUNT")?;
    let count: usize = args
        .next()
        .ok_or("usage: gen_test_primes OUT.json COUNT")?
        .parse()?;
    let handles: Vec<_> = (0..count)
        .map(|k| {
            std::thread::spawn(move || {
                let start = Instant::now();
                let p = PaillierPrimes::generate(&mut rand_core::OsRng, |j| {
                    eprintln!("party {k}: prime {j}/2 after {:.1?}", start.elapsed());
                });
                p
            })
        })
        .collect();
    let mut primes = Vec::new();
    for h in handles {
        primes.push(h.join().map_err(|_| "prime generation thread panicked")?);
    }
    let doc = serde_json::json!({
        "warning": "TEST-ONLY Paillier primes. Public, therefore not secret: never use for a real key.",
        "primes": primes,
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&doc)?)?;
    eprintln!("wrote {count} prime pairs to {path}");
    Ok(())
}

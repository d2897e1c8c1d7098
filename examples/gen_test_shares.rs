//! Writes the TEST-ONLY key shares of `test-vectors/test-only-shares/`: 2-of-3 and 3-of-5
//! CGGMP21 keys (with their auxiliary info) and a 2-of-3 GG20 key, made by this SDK's own distributed
//! key generation with the TEST-ONLY primes of `test-vectors/`. Tests whose subject is not
//! key generation sign with these instead of spending most of their time making a key;
//! they also show that shares written by an earlier version still load and sign. Every
//! secret in them is published: never use them for anything real.
//!
//! ```text
//! cargo run --release --example gen_test_shares -- test-vectors/test-only-shares
//! ```

use std::path::{Path, PathBuf};

use mpc_core::*;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "test-vectors/test-only-shares".into()),
    );
    let primes = PaillierPrimes::list_from_json(&std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../test-vectors/test-only-paillier-primes.json"),
    )?)?;
    let prime = |i: usize| primes.get(i).cloned().ok_or("five fixture primes");
    std::fs::create_dir_all(&out)?;
    for (t, n) in [(2, 3), (3, 5)] {
        eprintln!("making the TEST-ONLY CGGMP21 key ({t}-of-{n})");
        let configs = (0..n)
            .map(|i| {
                Ok(Cggmp21KeygenConfig {
                    primes: Some(prime(i)?),
                })
            })
            .collect::<Res<Vec<_>>>()?;
        let key = local::keygen::<Cggmp21>(t, configs)?;
        write(
            &out.join(format!("cggmp21-{t}of{n}")),
            key.iter().map(|s| s.to_json()),
        )?;
    }
    eprintln!("making the TEST-ONLY GG20 key (2-of-3)");
    let configs = (0..3)
        .map(|i| Ok(prime(i)?.into()))
        .collect::<Res<Vec<_>>>()?;
    let gg20 = local::keygen::<Gg20>(2, configs)?;
    write(&out.join("gg20-2of3"), gg20.iter().map(|s| s.to_json()))?;
    Ok(())
}

/// Writes each share to `dir/party-<i>.json` (its `KeyShare::to_json` form).
fn write<J: AsRef<[u8]>>(dir: &Path, shares: impl Iterator<Item = Result<J>>) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    for (i, share) in shares.enumerate() {
        std::fs::write(dir.join(format!("party-{i}.json")), share?.as_ref())?;
    }
    eprintln!("wrote {}", dir.display());
    Ok(())
}

//! **TEST-ONLY**: writes a tss-lib-format key (one `keygen_data_<i>.json` per party) made
//! by a trusted dealer, to exercise the importer and the GG20 engine at sizes the published
//! fixtures do not have (for example 20 parties, 11 signers). A dealer sees the whole key:
//! never use such a key for funds. The dealer is behind the `danger-trusted-dealer` feature.
//!
//! ```text
//! cargo run --release -p mpc-examples --features danger-trusted-dealer \
//!     --example gen_tss_lib_keys -- --dir DIR --parties 20 --threshold 10
//! ```
//!
//! `--threshold` is tss-lib's t (t + 1 parties sign). Each party gets a 2048-bit Paillier
//! key (Blum primes) and a ring-Pedersen modulus Ñ = (2P+1)(2Q+1) of safe primes with
//! h1, h2 = h1^Alpha, h1 = h2^Beta, as tss-lib writes them; Shamir x-coordinates are random.

use std::path::PathBuf;

use mpc_core::engines::gg20::test_only::{dealer_key, TssLibParty};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let mut dir = None;
    let mut n = 20u16;
    let mut t = 10u16;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--dir" => dir = Some(PathBuf::from(v)),
            "--parties" => n = v.parse()?,
            "--threshold" => t = v.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = dir.ok_or("--dir is required")?;
    std::fs::create_dir_all(&dir)?;
    eprintln!("TEST-ONLY dealer key: {n} parties, tss-lib threshold {t}; generating 2 safe primes per party ...");
    let start = std::time::Instant::now();
    let parties: Vec<TssLibParty> = dealer_key(n, t, &mut rand_core::OsRng, |i| {
        eprintln!("  party {i} ready ({:.0} s)", start.elapsed().as_secs_f64());
    })?;
    for (i, p) in parties.iter().enumerate() {
        std::fs::write(dir.join(format!("keygen_data_{i}.json")), p.to_json())?;
    }
    eprintln!(
        "wrote {n} files to {} in {:.0} s",
        dir.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

//! A party process: loads its key shares from a deployment directory, joins the party mesh
//! with mutual TLS, and serves the coordinator's signing requests. Each request is derived
//! again from its chain payload before the party signs (see `ChainPolicy`).
//!
//! ```text
//! cargo run --release --example sign -- --dir /tmp/mpc-3p --setup     # keys, certificates
//! cargo run --release --example party -- --dir /tmp/mpc-3p --index 0  # one per party
//! cargo run --release --example sign -- --dir /tmp/mpc-3p             # sign through them
//! ```
//!
//! Flags: `--dir DIR --index I [--allow-raw] [--delay-ms D]`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use mpc_examples::cluster::{run_party, PartySettings};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|p| args.get(p + 1))
            .ok_or(format!("{flag} is required"))
    };
    let dir = PathBuf::from(get("--dir")?);
    let index: u16 = get("--index")?.parse()?;
    let delay = match get("--delay-ms") {
        Ok(v) => Duration::from_secs_f64(v.parse::<f64>()? / 1000.0),
        Err(_) => Duration::ZERO,
    };
    run_party(
        &dir,
        index,
        &PartySettings {
            allow_raw: args.iter().any(|a| a == "--allow-raw"),
            delay,
        },
    )
}

//! Asks running party processes to sign one transaction per chain, through the coordinator
//! (quorum choice, retries, report), then prints the signed transactions.
//!
//! ```text
//! # everything in one command: set up, start 3 party processes on 127.0.0.1, sign, stop
//! cargo run --release --example sign -- --spawn
//!
//! # or by hand
//! cargo run --release --example sign -- --dir /tmp/mpc-3p --setup
//! cargo run --release --example party -- --dir /tmp/mpc-3p --index 0   # and 1, 2
//! cargo run --release --example sign -- --dir /tmp/mpc-3p
//! ```
//!
//! Flags: `--dir DIR` (default `mpc-deployment`), `--setup` (write deployment, keys,
//! demo certificates and exit), `--spawn` (set up if needed, start the parties as child
//! processes), `--port P` (first port, default 47100), `--json` (the quickstart's JSON
//! object on stdout), `--presign K` (presign K CGGMP21 presignatures first, default 3).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mpc_examples::chains::{local_runtime_blockhash, sign_demo_transactions_with, Settings};
use mpc_examples::cluster::{self, RemoteSigner};
use mpc_transport::{CoordinatorOptions, DriveOptions, KeyRef};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    cluster::party_process_mode(&args);
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|p| args.get(p + 1))
    };
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let dir = PathBuf::from(get("--dir").map_or("mpc-deployment", String::as_str));
    let port: u16 = get("--port").map_or(Ok(47_100), |p| p.parse())?;
    let presign: usize = get("--presign").map_or(Ok(3), |p| p.parse())?;

    if has("--setup") || (has("--spawn") && cluster::load(&dir).is_err()) {
        let d = cluster::setup(&dir, 3, 2, port, 1)?;
        eprintln!("deployment of {} parties in {}", d.n, dir.display());
        if has("--setup") {
            return Ok(());
        }
    }
    let d = cluster::load(&dir)?;
    let _children = if has("--spawn") {
        eprintln!("starting {} party processes on 127.0.0.1", d.n);
        Some(cluster::spawn_parties(&dir, d.n, &[])?)
    } else {
        None
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let coordinator = rt.block_on(cluster::coordinator(
        &dir,
        CoordinatorOptions::default(),
        Duration::from_secs(30),
    ))?;
    let keys = d.keys;
    eprintln!(
        "coordinator connected to parties {:?}",
        coordinator.reachable()
    );

    let ec = KeyRef {
        scheme: mpc_core::SchemeId::Cggmp21Secp256k1,
        public_key: keys.ecdsa,
    };
    let start = Instant::now();
    for _ in 0..presign {
        rt.block_on(coordinator.presign(&ec, d.t, None))?;
    }
    if presign > 0 {
        eprintln!(
            "{presign} CGGMP21 presignature(s) in {:.0?}",
            start.elapsed()
        );
    }

    let signer = RemoteSigner {
        rt: rt.handle().clone(),
        coordinator,
        t: d.t,
        reports: Mutex::new(Vec::new()),
    };
    let settings = Settings {
        signers: Vec::new(),
        evm_chain_id: d.evm_chain_id,
        sol_blockhash: local_runtime_blockhash(),
        drive: DriveOptions::default(),
    };
    let (report, lines) = sign_demo_transactions_with(&keys, &settings, &signer)?;
    if has("--json") {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for l in &lines {
            println!("{l}");
        }
    }
    for r in signer.reports.lock().map_err(|_| "lock")?.iter() {
        let a = r.attempts.last().ok_or("no attempt")?;
        eprintln!(
            "  quorum {:?}: {:.2} ms{}{}",
            a.quorum,
            r.elapsed_us as f64 / 1000.0,
            if a.presignature.is_some() {
                " (presigned)"
            } else {
                ""
            },
            if r.attempts.len() > 1 {
                format!(", {} attempts", r.attempts.len())
            } else {
                String::new()
            },
        );
    }
    Ok(())
}

//! Latency report: end-to-end signing latency through party processes on loopback (mutual
//! TLS, coordinator), against the same protocols with all parties in this process.
//!
//! ```text
//! cargo run --release --example latency -- --parties 3 --threshold 2 --runs 1000
//!     [--delay-ms D] [--json PATH] [--plot PATH.svg] [--schemes a,b,...]
//!     [--cggmp-runs R] [--dir DIR] [--port P]
//! ```
//!
//! Schemes: `frost-ed25519`, `frost-taproot`, `cggmp21-online` (a presignature made
//! beforehand, then the online step: partial signatures from the quorum, combined and
//! verified by the coordinator), `cggmp21-full` (presigning + signing in one request).
//! Modes: `transport` (request → coordinator → parties over mTLS → verified signature) and
//! `in-process` (all signers on threads of this process over in-memory channels; for
//! `cggmp21-online` the partial signatures and the combination). Requests are raw digests
//! (the parties run with `--allow-raw`), each one fresh. `--delay-ms` delays every message
//! (party to party and coordinator to party, both ways) by D ms one way, in transport mode.
//! `--cggmp-runs` (default: `--runs`) bounds the CGGMP21 runs, whose presigning takes
//! about a second of CPU per run.
#![forbid(unsafe_code)]

#[path = "latency/stats.rs"]
mod stats;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mpc_core::*;
use mpc_examples::cluster;
use mpc_transport::*;
use stats::{Series, Summary};

const ALL: [&str; 4] = [
    "frost-ed25519",
    "frost-taproot",
    "cggmp21-online",
    "cggmp21-full",
];

struct Args {
    n: u16,
    t: u16,
    runs: usize,
    cggmp_runs: usize,
    delay_ms: f64,
    json: Option<PathBuf>,
    plot: Option<PathBuf>,
    schemes: Vec<String>,
    dir: PathBuf,
    port: u16,
}

fn parse() -> Result<Args, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |f: &str| {
        args.iter()
            .position(|a| a == f)
            .and_then(|p| args.get(p + 1))
    };
    let n: u16 = get("--parties").map_or(Ok(3), |v| v.parse())?;
    let t: u16 = get("--threshold").map_or(Ok(2), |v| v.parse())?;
    check_threshold(t, n)?;
    let runs: usize = get("--runs").map_or(Ok(1000), |v| v.parse())?;
    let schemes: Vec<String> = get("--schemes")
        .map_or(ALL.iter().map(|s| s.to_string()).collect(), |v| {
            v.split(',').map(str::to_string).collect()
        });
    if let Some(bad) = schemes.iter().find(|s| !ALL.contains(&s.as_str())) {
        return Err(format!("unknown scheme {bad}; known: {}", ALL.join(",")).into());
    }
    Ok(Args {
        n,
        t,
        runs,
        cggmp_runs: get("--cggmp-runs").map_or(Ok(runs), |v| v.parse())?,
        delay_ms: get("--delay-ms").map_or(Ok(0.0), |v| v.parse())?,
        json: get("--json").map(PathBuf::from),
        plot: get("--plot").map(PathBuf::from),
        schemes,
        dir: get("--dir").map_or_else(
            || PathBuf::from(format!("mpc-latency/{t}of{n}")),
            PathBuf::from,
        ),
        port: get("--port").map_or(Ok(47_300), |v| v.parse())?,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    cluster::party_process_mode(&raw);
    let a = parse()?;
    let d = cluster::setup(&a.dir, a.n, a.t, a.port, 1)?;
    let (ec, ed, tr) = cluster::ensure_keys(&mpc_examples::KeyDir(a.dir.clone()), a.t, a.n)?;
    let mut extra = vec!["--allow-raw".to_string()];
    if a.delay_ms > 0.0 {
        extra.extend(["--delay-ms".to_string(), a.delay_ms.to_string()]);
    }
    let _parties = cluster::spawn_parties(&a.dir, d.n, &extra)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let delay = Duration::from_secs_f64(a.delay_ms / 1000.0);
    let coord = rt.block_on(cluster::coordinator(
        &a.dir,
        CoordinatorOptions {
            delay,
            fallback_to_full: false,
            ..CoordinatorOptions::default()
        },
        Duration::from_secs(30),
    ))?;
    eprintln!(
        "{} party processes on 127.0.0.1, {}-of-{}, one-way delay {} ms",
        a.n, a.t, a.n, a.delay_ms
    );
    let signers: Vec<PartyIndex> = (0..a.t).collect();
    let mut series: Vec<Series> = Vec::new();
    for scheme in &a.schemes {
        let runs = if scheme.starts_with("cggmp21") {
            a.cggmp_runs
        } else {
            a.runs
        };
        let (transport, in_process) = match scheme.as_str() {
            "frost-ed25519" => interactive::<FrostEd25519>(&a, &rt, &coord, &ed, runs, |k| {
                SignRequest::ed25519(msg(k))
            }),
            "frost-taproot" => interactive::<FrostTaproot>(&a, &rt, &coord, &tr, runs, |k| {
                SignRequest::bip340(digest(k), None)
            }),
            "cggmp21-full" => interactive::<Cggmp21>(&a, &rt, &coord, &ec, runs, |k| {
                SignRequest::ecdsa(digest(k))
            }),
            _ => online(&a, &rt, &coord, &ec, &signers, runs)?,
        };
        for (mode, lat) in [("transport", transport), ("in-process", in_process)] {
            let s = Series::new(scheme, mode, &a, runs, lat);
            eprintln!("{}", s.summary.line());
            series.push(s);
        }
    }
    print_table(&series);
    if let Some(p) = &a.json {
        let results: Vec<&Summary> = series.iter().map(|s| &s.summary).collect();
        std::fs::write(
            p,
            serde_json::to_vec_pretty(&serde_json::json!({ "results": results }))?,
        )?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.plot {
        std::fs::write(
            p,
            stats::svg(
                &series,
                &format!("{}-of-{}, one-way delay {} ms", a.t, a.n, a.delay_ms),
            ),
        )?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

impl Series {
    fn new(
        scheme: &str,
        mode: &str,
        a: &Args,
        runs: usize,
        lat: Vec<Result<Duration, String>>,
    ) -> Self {
        Series::from_runs(scheme, mode, a.n, a.t, a.delay_ms, runs, lat)
    }
}

type Latencies = Vec<Result<Duration, String>>;

/// An interactive signing protocol, through the coordinator and in process.
fn interactive<S>(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    coord: &Coordinator,
    shares: &[KeyShare<S::Data>],
    runs: usize,
    request: impl Fn(usize) -> SignRequest,
) -> (Latencies, Latencies)
where
    S: ThresholdScheme + 'static,
    KeyShare<S::Data>: Send,
{
    let signers: Vec<PartyIndex> = (0..a.t).collect();
    let opts = DriveOptions::default();
    let key = match key_ref(shares) {
        Ok(k) => k,
        Err(e) => return (vec![Err(e.clone())], vec![Err(e)]),
    };
    let transport = measure(runs, |k| {
        rt.block_on(coord.sign(&key, a.t, &[request(k)]))
            .map(drop)
            .map_err(|e| e.to_string())
    });
    let in_process = measure(runs, |k| {
        sign_all::<S>(shares, &signers, &request(k), &opts)
            .map(drop)
            .map_err(|e| e.to_string())
    });
    (transport, in_process)
}

/// CGGMP21 online: presignatures are made in chunks before the timed online steps, so
/// presigning never competes with the measured requests for the CPU.
#[allow(clippy::type_complexity)]
fn online(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    coord: &Coordinator,
    ec: &[Cggmp21Share],
    signers: &[PartyIndex],
    runs: usize,
) -> Result<
    (Vec<Result<Duration, String>>, Vec<Result<Duration, String>>),
    Box<dyn std::error::Error>,
> {
    let key = key_ref(ec)?;
    let pk = key.public_key;
    let opts = DriveOptions::default();
    let (mut tr, mut ip) = (Vec::new(), Vec::new());
    let chunk = 50;
    let mut done = 0;
    while done < runs {
        let k = chunk.min(runs - done);
        let start = Instant::now();
        let mut local = Vec::new();
        for _ in 0..k {
            rt.block_on(coord.presign(&key, a.t, None))?;
            local.push(presign_all(ec, signers, None, &opts)?);
        }
        eprintln!(
            "  presigned {} + {} in {:.1?} ({done}/{runs} online runs done)",
            k,
            k,
            start.elapsed()
        );
        for (j, presigs) in local.into_iter().enumerate() {
            let i = done + j;
            tr.extend(measure(1, |_| {
                rt.block_on(coord.sign_presigned(&key, a.t, &SignRequest::ecdsa(digest(i))))
                    .map(drop)
                    .map_err(|e| e.to_string())
            }));
            let mut presigs = Some(presigs);
            ip.extend(measure(1, |_| {
                let presigs = presigs.take().ok_or("presignatures already used")?;
                let req = SignRequest::ecdsa(digest(i));
                let partials = presigs
                    .into_iter()
                    .map(|p| Cggmp21::partial_sign(p, &req))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                Cggmp21::combine(&pk, &req, &partials)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }));
        }
        done += k;
    }
    Ok((tr, ip))
}

fn key_ref<D>(shares: &[KeyShare<D>]) -> Result<KeyRef, String> {
    let s = shares.first().ok_or("no key shares")?;
    Ok(KeyRef {
        scheme: s.scheme(),
        public_key: s.public_key(),
    })
}

fn msg(k: usize) -> Vec<u8> {
    format!("latency report message {k} {:?}", Instant::now()).into_bytes()
}

fn digest(k: usize) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(msg(k)).into()
}

/// Runs `f` `runs` times, one at a time; records each latency or error.
fn measure(
    runs: usize,
    mut f: impl FnMut(usize) -> Result<(), String>,
) -> Vec<Result<Duration, String>> {
    (0..runs)
        .map(|k| {
            let start = Instant::now();
            f(k).map(|()| start.elapsed())
        })
        .collect()
}

fn print_table(series: &[Series]) {
    println!(
        "{:<16} {:<11} {:>5} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "scheme", "mode", "runs", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms", "ratio95"
    );
    for s in series {
        let m = &s.summary;
        let ratio = series
            .iter()
            .find(|o| o.summary.scheme == m.scheme && o.summary.mode == "in-process")
            .filter(|_| m.mode == "transport")
            .map_or(String::new(), |o| {
                format!("{:.2}", m.p95_ms / o.summary.p95_ms.max(1e-9))
            });
        println!(
            "{:<16} {:<11} {:>5} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>8}",
            m.scheme, m.mode, m.runs, m.failures, m.p50_ms, m.p95_ms, m.p99_ms, m.max_ms, ratio
        );
    }
}

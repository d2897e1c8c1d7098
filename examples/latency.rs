//! Latency report: end-to-end signing latency through `mpc-node` party processes on
//! loopback (mutual TLS, sealed stores, the coordinator client), against the same protocols
//! with all signers in this process.
//!
//! ```text
//! cargo run --release --example latency -- --parties 3 --threshold 2 --runs 1000
//!     [--transport tcp|nats] [--nats-url URL] [--delay-ms D] [--json PATH]
//!     [--plot PATH.svg] [--schemes a,b,...] [--cggmp-runs R] [--dir DIR] [--port P]
//! ```
//!
//! Schemes: `frost-ed25519`, `frost-taproot`, `cggmp21-online` (a presignature made
//! beforehand, then the online step: partial signatures from the quorum, combined and
//! verified by the coordinator), `cggmp21-full` (presigning + signing in one request).
//! Modes: `transport` (request → coordinator → `mpc-node` parties → verified signature;
//! the parties reach each other over mutual TLS, or with `--transport nats` through the
//! broker at `--nats-url`, default `nats://127.0.0.1:4222`) and `in-process` (all signers on threads of this process over in-memory
//! channels; for `cggmp21-online` the partial signatures and the combination).
//!
//! The transport mode runs a deployment written by `mpc_node::demo` in `--dir` (default
//! `mpc-latency/<t>of<n>-<transport>`): one sealed store per party, keys made by networked ceremonies
//! (each party generates its own Paillier primes on the first run), presignatures in each
//! party's durable pool. Its parties are this executable started as `latency party
//! --config ...`, and sign raw digests (`danger_allow_raw_digests` in their configs: the
//! report measures the protocols, not chain payload decoding). `--delay-ms` delays every
//! message (party to party and coordinator to party, both ways) by D ms one way.
//!
//! The in-process baseline uses throwaway keys made in memory by `keygen_all` (all shares
//! in this process; CGGMP21 from the TEST-ONLY public primes fixture): never stored, never
//! a wallet. `--cggmp-runs` (default: `--runs`) bounds the CGGMP21 runs, whose presigning
//! takes about a second of CPU per run.
#![forbid(unsafe_code)]

#[path = "latency/stats.rs"]
mod stats;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mpc_core::*;
use mpc_node::coordinator::{CoordinatorClient, Registry};
use mpc_node::demo::DemoDeployment;
use mpc_transport::*;
use stats::{Series, Summary};

/// TEST-ONLY public primes for the in-process baseline's throwaway CGGMP21 key.
const TEST_ONLY_PRIMES: &[u8] = include_bytes!("../test-vectors/test-only-paillier-primes.json");

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
    /// The broker, with `--transport nats`.
    nats_url: Option<String>,
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
    let transport = get("--transport").map_or("tcp", String::as_str);
    if !["tcp", "nats"].contains(&transport) {
        return Err(format!("--transport is tcp or nats, not {transport}").into());
    }
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
            || PathBuf::from(format!("mpc-latency/{t}of{n}-{transport}")),
            PathBuf::from,
        ),
        port: get("--port").map_or(Ok(47_300), |v| v.parse())?,
        nats_url: (transport == "nats").then(|| {
            get("--nats-url").map_or_else(|| "nats://127.0.0.1:4222".to_string(), String::clone)
        }),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some("party") {
        return party_process(&raw);
    }
    let a = parse()?;
    ensure_deployment(&a)?;
    let config = a.dir.join("coordinator.toml");
    let _parties = spawn_parties(&a)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let delay = Duration::from_secs_f64(a.delay_ms / 1000.0);
    let client = rt.block_on(CoordinatorClient::connect_with(
        &config,
        Duration::from_secs(60),
        |o| {
            o.delay = delay;
            o.fallback_to_full = false;
        },
    ))?;
    let coord = &client.coordinator;
    eprintln!(
        "{} mpc-node party processes on 127.0.0.1, {}-of-{}, {}, one-way delay {} ms",
        a.n,
        a.t,
        a.n,
        a.nats_url
            .as_deref()
            .map_or_else(|| "mutual TLS".to_string(), |u| format!("through {u}")),
        a.delay_ms
    );
    // Every key first, the CGGMP21 one always: a fresh deployment's parties generate their
    // Paillier primes at start, and nothing is measured until that work (which the CGGMP21
    // ceremony waits for) is over.
    deployment_key(&rt, &client, SchemeId::Cggmp21Secp256k1)?;
    for scheme in &a.schemes {
        deployment_key(&rt, &client, scheme_id(scheme))?;
    }
    let opts = DriveOptions::default();
    let mut series: Vec<Series> = Vec::new();
    for scheme in &a.schemes {
        let runs = if scheme.starts_with("cggmp21") {
            a.cggmp_runs
        } else {
            a.runs
        };
        let (transport, in_process) = match scheme.as_str() {
            "frost-ed25519" => {
                let key = deployment_key(&rt, &client, SchemeId::FrostEd25519)?;
                let local = keygen_all::<FrostEd25519>(a.t, vec![(); usize::from(a.n)], &opts)?;
                interactive::<FrostEd25519>(&a, &rt, coord, &key, &local, runs, |k| {
                    SignRequest::ed25519(msg(k))
                })
            }
            "frost-taproot" => {
                let key = deployment_key(&rt, &client, SchemeId::FrostSecp256k1Tr)?;
                let local = keygen_all::<FrostTaproot>(a.t, vec![(); usize::from(a.n)], &opts)?;
                interactive::<FrostTaproot>(&a, &rt, coord, &key, &local, runs, |k| {
                    SignRequest::bip340(digest(k), None)
                })
            }
            "cggmp21-full" => {
                let key = deployment_key(&rt, &client, SchemeId::Cggmp21Secp256k1)?;
                let local = baseline_cggmp21(&a)?;
                interactive::<Cggmp21>(&a, &rt, coord, &key, &local, runs, |k| {
                    SignRequest::ecdsa(digest(k))
                })
            }
            _ => {
                let key = deployment_key(&rt, &client, SchemeId::Cggmp21Secp256k1)?;
                let local = baseline_cggmp21(&a)?;
                online(&a, &rt, coord, &key, &local, runs)?
            }
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

/// `latency party --config C [--delay-ms D]`: one `mpc-node` party process.
fn party_process(raw: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let get = |f: &str| raw.iter().position(|a| a == f).and_then(|p| raw.get(p + 1));
    let config = PathBuf::from(get("--config").ok_or("party needs --config")?);
    let delay_ms: f64 = get("--delay-ms").map_or(Ok(0.0), |v| v.parse())?;
    let run = mpc_node::party::RunOptions {
        benchmark_delay: Duration::from_secs_f64(delay_ms / 1000.0),
    };
    Ok(mpc_node::party::run_party_with(&config, &run)?)
}

/// Writes the benchmark deployment in `--dir` unless it is there.
fn ensure_deployment(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    if a.dir.join("coordinator.toml").exists() {
        let c = mpc_node::config::CoordinatorConfig::load(&a.dir.join("coordinator.toml"))?;
        let p0 = mpc_node::config::PartyConfig::load(&a.dir.join("party-0.toml"))?;
        let nats = p0.network.transport == mpc_node::config::MeshTransport::Nats;
        if c.parties.len() != usize::from(a.n) || c.threshold != a.t || nats != a.nats_url.is_some()
        {
            return Err(format!(
                "{} holds a {}-of-{} deployment over {}; use another --dir for {}-of-{}",
                a.dir.display(),
                c.threshold,
                c.parties.len(),
                p0.network.transport,
                a.t,
                a.n
            )
            .into());
        }
        return Ok(());
    }
    eprintln!(
        "writing a {}-of-{} benchmark deployment to {}",
        a.t,
        a.n,
        a.dir.display()
    );
    let d = DemoDeployment {
        danger_allow_raw_digests: true,
        nats_url: a.nats_url.clone(),
        ..DemoDeployment::local(a.n, a.t, a.port)
    };
    Ok(mpc_node::demo::write(&a.dir, &d)?)
}

/// Party processes, stopped when dropped.
struct Parties(Vec<std::process::Child>);

impl Drop for Parties {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_parties(a: &Args) -> Result<Parties, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let mut out = Parties(Vec::new());
    for i in 0..a.n {
        let config: &Path = &a.dir.join(format!("party-{i}.toml"));
        out.0.push(
            std::process::Command::new(&exe)
                .arg("party")
                .arg("--config")
                .arg(config)
                .arg("--delay-ms")
                .arg(a.delay_ms.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()?,
        );
    }
    Ok(out)
}

fn scheme_id(name: &str) -> SchemeId {
    match name {
        "frost-ed25519" => SchemeId::FrostEd25519,
        "frost-taproot" => SchemeId::FrostSecp256k1Tr,
        _ => SchemeId::Cggmp21Secp256k1,
    }
}

/// The deployment's key of `scheme`, made by a networked ceremony if it has none.
fn deployment_key(
    rt: &tokio::runtime::Runtime,
    client: &CoordinatorClient,
    scheme: SchemeId,
) -> Result<KeyRef, Box<dyn std::error::Error>> {
    let registry = Registry::load(&client.config.registry)?;
    if let Some(k) = registry.keys.iter().find(|k| k.scheme == scheme) {
        return Ok(k.key_ref());
    }
    eprintln!("key ceremony: {scheme} across the party processes ...");
    let start = Instant::now();
    let k = rt.block_on(client.keygen(scheme))?;
    eprintln!("  {} active in {:.1?}", k.key_id, start.elapsed());
    Ok(k.key_ref())
}

/// The in-process baseline's throwaway CGGMP21 key (TEST-ONLY primes, never stored).
fn baseline_cggmp21(a: &Args) -> Result<Vec<Cggmp21Share>, Box<dyn std::error::Error>> {
    let primes = PaillierPrimes::list_from_json(TEST_ONLY_PRIMES)?;
    if primes.len() < usize::from(a.n) {
        return Err(format!("the primes fixture holds {} parties' primes", primes.len()).into());
    }
    let configs = primes
        .into_iter()
        .take(usize::from(a.n))
        .map(|p| Cggmp21KeygenConfig { primes: Some(p) })
        .collect();
    eprintln!("in-process baseline: CGGMP21 key generation in memory ...");
    Ok(keygen_all::<Cggmp21>(
        a.t,
        configs,
        &DriveOptions::default(),
    )?)
}

impl Series {
    fn new(
        scheme: &str,
        mode: &str,
        a: &Args,
        runs: usize,
        lat: Vec<Result<Duration, String>>,
    ) -> Self {
        let setting = stats::Setting {
            transport: if a.nats_url.is_some() { "nats" } else { "tcp" },
            parties: a.n,
            threshold: a.t,
            delay_ms: a.delay_ms,
        };
        Series::from_runs(scheme, mode, &setting, runs, lat)
    }
}

type Latencies = Vec<Result<Duration, String>>;

/// An interactive signing protocol, through the coordinator and in process.
fn interactive<S>(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    coord: &Coordinator,
    key: &KeyRef,
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
    let transport = measure(runs, |k| {
        rt.block_on(coord.sign(key, a.t, &[request(k)]))
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

/// CGGMP21 online: presignatures are made in chunks before the timed online steps (the
/// parties' into their durable pools, the baseline's in memory), so presigning never
/// competes with the measured requests for the CPU.
fn online(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    coord: &Coordinator,
    key: &KeyRef,
    ec: &[Cggmp21Share],
    runs: usize,
) -> Result<(Latencies, Latencies), Box<dyn std::error::Error>> {
    let signers: &[PartyIndex] = &(0..a.t).collect::<Vec<_>>();
    let pk = key_ref(ec)?.public_key;
    let opts = DriveOptions::default();
    let (mut tr, mut ip) = (Vec::new(), Vec::new());
    let chunk = 50;
    let mut done = 0;
    while done < runs {
        let k = chunk.min(runs - done);
        let start = Instant::now();
        let mut local = Vec::new();
        for _ in 0..k {
            rt.block_on(coord.presign(key, a.t, None))?;
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
                rt.block_on(coord.sign_presigned(
                    key,
                    a.t,
                    &SignRequest::hashed_message(MessageHash::Sha256, &msg(i)),
                ))
                .map(drop)
                .map_err(|e| e.to_string())
            }));
            let mut presigs = Some(presigs);
            ip.extend(measure(1, |_| {
                let presigs = presigs.take().ok_or("presignatures already used")?;
                let seen = SeenRequest::hash_message(MessageHash::Sha256, &msg(i));
                let req = seen.request();
                let partials = presigs
                    .into_iter()
                    .map(|p| Cggmp21::partial_sign(p, &seen))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                Cggmp21::combine(&pk, req, &partials)
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
        epoch: s.epoch(),
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
        "{:<16} {:<11} {:<10} {:>5} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "scheme",
        "mode",
        "transport",
        "runs",
        "failures",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "ratio95"
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
            "{:<16} {:<11} {:<10} {:>5} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>8}",
            m.scheme,
            m.mode,
            m.transport,
            m.runs,
            m.failures,
            m.p50_ms,
            m.p95_ms,
            m.p99_ms,
            m.max_ms,
            ratio
        );
    }
}

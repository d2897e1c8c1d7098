//! Criterion benches: CGGMP21 keygen (DKG), presign, online sign and full sign (plain and
//! with cggmp21's precomputation, and the time to build it); FROST
//! Ed25519 and Taproot keygen and sign; at 2-of-3 and 3-of-5, all parties in this process
//! (one thread each) over the in-memory transport.
//!
//! `cargo bench -p mpc-benches` (results under `target/criterion/`). CGGMP21 auxiliary-info
//! generation (tens of seconds per run) is not benched here; key shares for the signing
//! benches are made once, with TEST-ONLY primes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use mpc_core::*;
use mpc_transport::{keygen_all, presign_all, sign_all, DriveOptions};

const SETUPS: [(u16, u16); 2] = [(2, 3), (3, 5)];

fn signers(t: u16) -> Vec<u16> {
    (0..t).collect()
}

fn frost<S>(c: &mut Criterion, name: &str, request: SignRequest)
where
    S: ThresholdScheme<KeygenConfig = ()> + 'static,
    KeyShare<S::Data>: Send,
{
    let opts = DriveOptions::default();
    let mut g = c.benchmark_group(name);
    for (t, n) in SETUPS {
        let id = format!("{t}-of-{n}");
        g.bench_function(BenchmarkId::new("keygen", &id), |b| {
            b.iter(|| keygen_all::<S>(t, vec![(); usize::from(n)], &opts).unwrap())
        });
        let shares = keygen_all::<S>(t, vec![(); usize::from(n)], &opts).unwrap();
        g.bench_function(BenchmarkId::new("sign", &id), |b| {
            b.iter(|| sign_all::<S>(&shares, &signers(t), &request, &opts).unwrap())
        });
    }
    g.finish();
}

fn frost_ed25519(c: &mut Criterion) {
    frost::<FrostEd25519>(c, "frost-ed25519", SignRequest::ed25519(b"bench".to_vec()));
}

fn frost_taproot(c: &mut Criterion) {
    frost::<FrostTaproot>(
        c,
        "frost-taproot",
        SignRequest::bip340([7u8; 32].to_vec(), None),
    );
}

/// A t-of-n CGGMP21 key made with the TEST-ONLY primes.
fn cggmp21_keys(
    primes: &[PaillierPrimes],
    t: u16,
    n: u16,
    opts: &DriveOptions,
) -> Vec<Cggmp21Share> {
    let configs = primes
        .iter()
        .take(usize::from(n))
        .cloned()
        .map(|p| Cggmp21KeygenConfig { primes: Some(p) })
        .collect();
    keygen_all::<Cggmp21>(t, configs, opts).unwrap()
}

fn cggmp21(c: &mut Criterion) {
    let opts = DriveOptions::default();
    let primes = mpc_benches::test_only_primes().unwrap();
    let seen = SeenRequest::hash_message(MessageHash::Sha256, b"bench message");
    let request = seen.request().clone();
    let mut g = c.benchmark_group("cggmp21");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for (t, n) in SETUPS {
        let id = format!("{t}-of-{n}");
        g.bench_function(BenchmarkId::new("keygen-dkg", &id), |b| {
            b.iter(|| {
                let configs = (0..n)
                    .map(|_| Cggmp21KeygenConfig { primes: None })
                    .collect();
                keygen_all::<Cggmp21>(t, configs, &opts).unwrap()
            })
        });
        let shares = cggmp21_keys(&primes, t, n, &opts);
        eprintln!(
            "cggmp21 {id}: one share {} bytes as JSON, {} bytes with its precomputation",
            shares[0].to_json().unwrap().len(),
            precomputed_json_len(&shares[0])
        );
        // The same key plain, with cggmp21's full precomputation (multi-exponentiation
        // tables and CRT parameters) and with CRT parameters only, in the same run: the
        // ratios are the speed-ups; building each is measured for one share.
        type Precompute = fn(&Cggmp21Share) -> Result<Cggmp21Share>;
        let variants: [(&str, Option<Precompute>); 3] = [
            ("", None),
            ("-precomputed", Some(Cggmp21::precompute)),
            ("-crt", Some(Cggmp21::precompute_crt)),
        ];
        for (suffix, precompute) in variants {
            let shares: Vec<Cggmp21Share> = match precompute {
                None => shares.clone(),
                Some(f) => {
                    g.bench_function(BenchmarkId::new(format!("build{suffix}"), &id), |b| {
                        b.iter(|| f(&shares[0]).unwrap())
                    });
                    shares.iter().map(|s| f(s).unwrap()).collect()
                }
            };
            g.bench_function(BenchmarkId::new(format!("presign{suffix}"), &id), |b| {
                b.iter(|| presign_all(&shares, &signers(t), None, &opts).unwrap())
            });
            g.bench_function(BenchmarkId::new(format!("full-sign{suffix}"), &id), |b| {
                b.iter(|| sign_all::<Cggmp21>(&shares, &signers(t), &request, &opts).unwrap())
            });
        }
    }
    g.finish();
}

/// The size of cggmp21's own serialization of `share` after its precomputation (tables
/// included): a measure of what the precomputation holds in memory (the SDK never writes
/// it; a share's file is the same with or without).
fn precomputed_json_len(share: &Cggmp21Share) -> usize {
    use cggmp21::supported_curves::Secp256k1;
    let file: serde_json::Value = serde_json::from_slice(&share.to_json().unwrap()).unwrap();
    let mut dirty: cggmp21::key_share::DirtyKeyShare<Secp256k1> =
        serde_json::from_value(file["data"]["share"].clone()).unwrap();
    dirty.aux.precompute_multiexp_tables().unwrap();
    dirty.precompute_crt().unwrap();
    serde_json::to_vec(&dirty).unwrap().len()
}

/// The non-interactive online step (partial signatures + combine + verification). Each
/// iteration consumes a fresh presignature (made outside the timing, about a second each),
/// so this group runs one iteration per sample.
fn cggmp21_online(c: &mut Criterion) {
    let opts = DriveOptions::default();
    let primes = mpc_benches::test_only_primes().unwrap();
    let seen = SeenRequest::hash_message(MessageHash::Sha256, b"bench message");
    let request = seen.request().clone();
    let mut g = c.benchmark_group("cggmp21");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(1));
    for (t, n) in SETUPS {
        let id = format!("{t}-of-{n}");
        let shares = cggmp21_keys(&primes, t, n, &opts);
        let pk = shares[0].public_key();
        g.bench_function(BenchmarkId::new("online-sign", &id), |b| {
            b.iter_batched(
                || presign_all(&shares, &signers(t), None, &opts).unwrap(),
                |presigs| {
                    let partials: Vec<_> = presigs
                        .into_iter()
                        .map(|p| Cggmp21::partial_sign(p, &seen).unwrap())
                        .collect();
                    Cggmp21::combine(&pk, &request, &partials).unwrap()
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    frost_ed25519,
    frost_taproot,
    cggmp21,
    cggmp21_online
);
criterion_main!(benches);

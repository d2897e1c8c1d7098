//! Signs with a key made by bnb-chain tss-lib: reads every `keygen_data_<i>.json` in a
//! directory (party i is file i), detects ECDSA vs EdDSA, runs the chosen engine with the
//! given signers over the in-memory transport (one thread per party) and prints one JSON
//! object.
//!
//! ```text
//! cargo run --release --example import_tss_lib -- --dir DIR --signers 0,2,4 \
//!     --message-hex HEX [--engine gg20|cggmp21|frost-ed25519]
//! ```
//!
//! ECDSA keys default to `gg20` (the key's own Paillier keys; their Π-mod / Π-fac / Π-prm
//! proofs are made and checked among the signers first), EdDSA keys to `frost-ed25519`.
//! `cggmp21` gives all parties new auxiliary info (fresh Paillier primes, with progress).
//! For ECDSA the message is a 32-byte prehash and the signature r‖s with low s. Progress
//! goes to stderr; stdout carries only the JSON object. Every signature is checked with an
//! independent verifier (libsecp256k1, ed25519-dalek) before `"verified": true` is printed.
//!
//! A one-process tour of the importer over test fixtures: it reads every party's file, so it
//! holds every share, and it writes nothing. A deployment imports with `mpc-node import`,
//! where each party reads only its own file and stores only its own sealed share.

use std::path::PathBuf;

use mpc_core::import::TssLibKey;
use mpc_core::*;
use mpc_transport::{run_parties, DriveOptions, InMemoryNetwork, PartyJob};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Args {
    dir: PathBuf,
    signers: Vec<u16>,
    message: Vec<u8>,
    engine: Option<String>,
}

fn usage() -> String {
    "usage: import_tss_lib --dir DIR --signers 0,2,4 --message-hex HEX [--engine gg20|cggmp21|frost-ed25519]".into()
}

fn parse_args() -> Res<Args> {
    let mut dir = None;
    let mut signers = None;
    let mut message = None;
    let mut engine = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value\n{}", usage()))
        };
        match a.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--signers" => {
                let list = value()?
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse::<u16>()
                            .map_err(|_| format!("bad signer index {s:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                signers = Some(list);
            }
            "--message-hex" => {
                message =
                    Some(hex::decode(value()?.trim()).map_err(|e| format!("--message-hex: {e}"))?)
            }
            "--engine" => engine = Some(value()?),
            "-h" | "--help" => return Err(usage().into()),
            other => return Err(format!("unknown argument {other:?}\n{}", usage()).into()),
        }
    }
    Ok(Args {
        dir: dir.ok_or_else(|| format!("--dir is required\n{}", usage()))?,
        signers: signers.ok_or_else(|| format!("--signers is required\n{}", usage()))?,
        message: message.ok_or_else(|| format!("--message-hex is required\n{}", usage()))?,
        engine,
    })
}

/// Reads keygen_data_0.json, keygen_data_1.json, ... until the first missing index, and
/// refuses other keygen_data_* names (a gap would silently drop a party).
fn read_keys(dir: &PathBuf) -> Res<Vec<TssLibKey>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
        .filter(|n| n.starts_with("keygen_data_") && n.ends_with(".json"))
        .collect();
    names.sort();
    let mut keys = Vec::new();
    for i in 0..names.len() {
        let name = format!("keygen_data_{i}.json");
        if !names.contains(&name) {
            return Err(format!(
                "{}: found {} keygen_data_*.json files but no {name}",
                dir.display(),
                names.len()
            )
            .into());
        }
        let bytes = zeroize::Zeroizing::new(std::fs::read(dir.join(&name))?);
        let key = TssLibKey::from_json(&bytes).map_err(|e| format!("{name}: {e}"))?;
        if usize::from(key.index()) != i {
            return Err(format!(
                "{name}: its ShareID is party {} in Ks, not party {i}",
                key.index()
            )
            .into());
        }
        keys.push(key);
    }
    let first = keys
        .first()
        .ok_or_else(|| format!("no keygen_data_*.json in {}", dir.display()))?;
    for (i, k) in keys.iter().enumerate() {
        if k.curve() != first.curve()
            || k.public_key()? != first.public_key()?
            || k.parties() != first.parties()
        {
            return Err(format!(
                "keygen_data_{i}.json belongs to another key than keygen_data_0.json"
            )
            .into());
        }
    }
    if usize::from(first.parties()) != keys.len() {
        return Err(format!(
            "the key has {} parties but {} files were found",
            first.parties(),
            keys.len()
        )
        .into());
    }
    Ok(keys)
}

/// Runs one protocol per party in `parties` over a fresh in-memory network.
fn run<O: Send + 'static>(n: u16, jobs: Vec<(u16, PartyJob<O>)>) -> Res<Vec<O>> {
    run_parties(
        n,
        jobs,
        InMemoryNetwork::default(),
        &DriveOptions::default(),
    )
    .into_iter()
    .map(|r| r.map(|(o, _)| o).map_err(|e| e.into()))
    .collect()
}

/// Builds the context for one signer of a fresh session, given the scheme.
type CtxFor = Box<dyn Fn(SchemeId) -> mpc_core::Result<SessionCtx> + Send>;

/// One job per signer of a fresh session: `make(ctx, share)` starts the signer's run.
fn per_signer<T, O>(
    shares: &[T],
    signers: &[u16],
    make: impl Fn(CtxFor, T) -> mpc_core::Result<BoxedProtocol<O>> + Clone + Send + 'static,
) -> Res<Vec<(u16, PartyJob<O>)>>
where
    T: Clone + Send + 'static,
    O: Send + 'static,
{
    let sid = SessionId::random(&mut rand_core::OsRng);
    signers
        .iter()
        .map(|&i| {
            let share = shares
                .get(usize::from(i))
                .cloned()
                .ok_or("signer out of range")?;
            let set = signers.to_vec();
            let make = make.clone();
            let ctx: CtxFor = Box::new(move |scheme| SessionCtx::new(sid, scheme, i, &set));
            let job: PartyJob<O> = Box::new(move || make(ctx, share));
            Ok((i, job))
        })
        .collect()
}

fn sign_with<S>(
    n: u16,
    shares: &[KeyShare<S::Data>],
    signers: &[u16],
    req: &SignRequest,
) -> Res<Signature>
where
    S: ThresholdScheme + 'static,
    KeyShare<S::Data>: Send,
{
    let req = req.clone();
    let jobs = per_signer(shares, signers, move |ctx, share| {
        S::sign(&ctx(S::ID)?, &share, &req)
    })?;
    let sigs = run(n, jobs)?;
    let first = *sigs.first().ok_or("no signature")?;
    if sigs.iter().any(|s| *s != first) {
        return Err("signers disagree on the signature".into());
    }
    Ok(first)
}

/// The GG20 shares with the signers' moduli proofs (Π-mod, Π-fac, Π-prm) made and
/// verified among them: GG20 signs only with parties it has certified.
fn certify(n: u16, mut shares: Vec<Gg20Share>, signers: &[u16]) -> Res<Vec<Gg20Share>> {
    eprintln!("certifying the signers' moduli (Π-mod, Π-fac, Π-prm) ...");
    let jobs = per_signer(&shares, signers, |ctx, share| {
        Gg20::certify(&ctx(SchemeId::Gg20Secp256k1)?, &share)
    })?;
    for s in run(n, jobs)? {
        let i = usize::from(s.index());
        if let Some(slot) = shares.get_mut(i) {
            *slot = s;
        }
    }
    Ok(shares)
}

fn verify_independently(pk: &PublicKey, message: &[u8], sig: &Signature) -> Res<()> {
    match (pk, sig) {
        (PublicKey::Secp256k1(pk), Signature::Ecdsa(s)) => {
            let key = secp256k1::PublicKey::from_slice(pk)?;
            let sig = secp256k1::ecdsa::Signature::from_compact(&s.to_bytes())?;
            let msg = secp256k1::Message::from_digest_slice(message)?;
            secp256k1::SECP256K1.verify_ecdsa(&msg, &sig, &key)?;
        }
        (PublicKey::Ed25519(pk), Signature::Ed25519 { bytes }) => {
            let key = ed25519_dalek::VerifyingKey::from_bytes(pk)?;
            key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(bytes))?;
        }
        _ => return Err("signature kind does not match the key".into()),
    }
    Ok(())
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Res<()> {
    let args = parse_args()?;
    let keys = read_keys(&args.dir)?;
    let first = keys.first().ok_or("no keys")?;
    let (n, t) = (first.parties(), first.threshold());
    let curve = first.curve();
    let pk = first.public_key()?;
    eprintln!(
        "{} tss-lib key: {n} parties, {t} signers needed (tss-lib threshold {})",
        match curve {
            CurveId::Secp256k1 => "ECDSA",
            _ => "EdDSA",
        },
        t - 1
    );
    let mut signers = args.signers.clone();
    signers.sort_unstable();
    signers.dedup();
    if signers.len() != args.signers.len() {
        return Err("--signers lists a party twice".into());
    }
    if let Some(&bad) = signers.iter().find(|&&s| s >= n) {
        return Err(format!("signer {bad} does not exist (parties are 0..{n})").into());
    }
    if signers.len() < usize::from(t) {
        return Err(format!(
            "too few signers: this key needs {t} (tss-lib threshold {} + 1), got {} ({:?})",
            t - 1,
            signers.len(),
            signers
        )
        .into());
    }
    if signers.len() > usize::from(t) {
        return Err(format!(
            "this key signs with exactly {t} parties; got {} ({signers:?})",
            signers.len()
        )
        .into());
    }
    let default_engine = if curve == CurveId::Secp256k1 {
        "gg20"
    } else {
        "frost-ed25519"
    };
    let engine = args.engine.clone().unwrap_or_else(|| default_engine.into());
    let prehash = |m: &[u8]| -> Res<[u8; 32]> {
        m.try_into().map_err(|_| {
            format!(
                "ECDSA signs a 32-byte prehash; --message-hex has {} bytes",
                m.len()
            )
            .into()
        })
    };
    let start = std::time::Instant::now();
    let sig = match (engine.as_str(), curve) {
        ("gg20", CurveId::Secp256k1) => {
            let req = SignRequest::ecdsa(prehash(&args.message)?);
            let shares = keys
                .iter()
                .map(TssLibKey::to_gg20)
                .collect::<Result<Vec<_>, _>>()?;
            let certified = certify(n, shares, &signers)?;
            eprintln!(
                "moduli certified ({:.1} s); signing ...",
                start.elapsed().as_secs_f64()
            );
            sign_with::<Gg20>(n, &certified, &signers, &req)?
        }
        ("cggmp21", CurveId::Secp256k1) => {
            let req = SignRequest::ecdsa(prehash(&args.message)?);
            let incomplete = keys
                .iter()
                .map(TssLibKey::to_cggmp21)
                .collect::<Result<Vec<_>, _>>()?;
            let primes = mpc_examples::generate_primes_with_progress(n)?;
            eprintln!("generating auxiliary info for all {n} parties ...");
            let sid = SessionId::random(&mut rand_core::OsRng);
            let jobs = incomplete
                .into_iter()
                .zip(primes)
                .zip(0u16..)
                .map(|((share, p), i)| {
                    let job: PartyJob<Cggmp21Share> = Box::new(move || {
                        Cggmp21::aux_info(
                            &SessionCtx::keygen(sid, SchemeId::Cggmp21Secp256k1, i, n)?,
                            &share,
                            p,
                        )
                    });
                    (i, job)
                })
                .collect();
            let shares = run(n, jobs)?;
            sign_with::<Cggmp21>(n, &shares, &signers, &req)?
        }
        ("frost-ed25519", CurveId::Ed25519) => {
            let shares = keys
                .iter()
                .map(TssLibKey::to_frost_ed25519)
                .collect::<Result<Vec<_>, _>>()?;
            sign_with::<FrostEd25519>(
                n,
                &shares,
                &signers,
                &SignRequest::ed25519(args.message.clone()),
            )?
        }
        (e @ ("gg20" | "cggmp21" | "frost-ed25519"), c) => {
            return Err(format!("engine {e} does not sign {c:?} keys").into());
        }
        (e, _) => {
            return Err(format!("unknown engine {e:?} (gg20, cggmp21 or frost-ed25519)").into())
        }
    };
    verify_independently(&pk, &args.message, &sig)?;
    eprintln!(
        "signed and verified in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let signature_hex = match sig {
        Signature::Ecdsa(s) => hex::encode(s.to_bytes()),
        Signature::Ed25519 { bytes } | Signature::Bip340 { bytes } => hex::encode(bytes),
    };
    let out = serde_json::json!({
        "engine": engine,
        "curve": if curve == CurveId::Secp256k1 { "secp256k1" } else { "ed25519" },
        "public_key_hex": hex::encode(pk.as_bytes()),
        "signers": signers,
        "message_hex": hex::encode(&args.message),
        "signature_hex": signature_hex,
        "verified": true,
    });
    println!("{out}");
    Ok(())
}

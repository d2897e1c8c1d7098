//! Quickstart: 2-of-3 keys for CGGMP21, FROST Ed25519 and FROST Taproot, made on the first
//! run and loaded afterwards; one signature per engine over the in-memory transport, each
//! checked by an independent verifier; then real transactions signed through the chain
//! encoders: Bitcoin P2WPKH and P2TR (two inputs, one batch), EVM EIP-1559 and legacy
//! EIP-155, Solana legacy and v0 (see `examples/chains.rs`).
//!
//! ```text
//! cargo run --release --example quickstart [-- --dir PATH] [--json]
//!     [--chain-id ID] [--sol-blockhash BASE58]
//! ```
//!
//! Keys and the Paillier primes live in `./.mpc-quickstart/` (or `--dir`, or the
//! `MPC_QUICKSTART_DIR` environment variable). Delete the directory to start over.
//! With `--json`, stdout carries exactly one JSON object (the signed transactions) and
//! everything meant for a person goes to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mpc_core::*;
use mpc_examples::chains::{local_runtime_blockhash, sign_demo_transactions, Keys, Settings};
use mpc_examples::KeyDir;
use mpc_transport::{keygen_all, presign_all, sign_all, DriveOptions};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const N: u16 = 3;
const T: u16 = 2;
const SIGNERS: [u16; 2] = [0, 2];

struct Row {
    engine: &'static str,
    keys: String,
    steps: Vec<(&'static str, Duration)>,
    verifier: &'static str,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let dir = args.dir.clone();
    let keys = KeyDir(dir.clone());
    let opts = DriveOptions::default();
    // With --json, stdout is reserved for the one JSON object.
    let mut out: Box<dyn Write> = if args.json {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    writeln!(
        out,
        "mpc-wallet-sdk quickstart: {T}-of-{N} keys in {}",
        dir.display()
    )?;
    let message = b"quickstart: hello, threshold world".to_vec();
    let prehash: [u8; 32] = {
        use sha2::Digest;
        sha2::Sha256::digest(&message).into()
    };
    let mut rows = Vec::new();

    // CGGMP21 (threshold ECDSA).
    let (cg, keygen_note) = match keys.load::<mpc_core::engines::cggmp21::Cggmp21Data>(
        SchemeId::Cggmp21Secp256k1,
        T,
        N,
    )? {
        Some(s) => (s, "loaded".to_owned()),
        None => {
            let primes = keys.primes(N)?;
            let start = Instant::now();
            let configs = primes
                .into_iter()
                .map(|p| Cggmp21KeygenConfig { primes: Some(p) })
                .collect();
            let shares = keygen_all::<Cggmp21>(T, configs, &opts)?;
            keys.save(&shares)?;
            (shares, format!("DKG + aux info {}", ms(start.elapsed())))
        }
    };
    let pk = cg.first().ok_or("no shares")?.public_key();
    // Every party hashes the message itself: a presignature signs only a digest its party
    // derived (RUSTSEC-2025-0127), never a bare one.
    let seen = SeenRequest::hash_message(MessageHash::Sha256, &message);
    let req = seen.request().clone();
    let start = Instant::now();
    let sig = sign_all::<Cggmp21>(&cg, &SIGNERS, &req, &opts)?;
    let full = start.elapsed();
    verify_ecdsa(&pk, &prehash, &sig)?;
    let start = Instant::now();
    let presigs = presign_all(&cg, &SIGNERS, None, &opts)?;
    let presign = start.elapsed();
    let start = Instant::now();
    let partials = presigs
        .into_iter()
        .map(|p| Cggmp21::partial_sign(p, &seen))
        .collect::<Result<Vec<_>, _>>()?;
    let sig2 = Cggmp21::combine(&pk, &req, &partials)?;
    let online = start.elapsed();
    verify_ecdsa(&pk, &prehash, &sig2)?;
    rows.push(Row {
        engine: "cggmp21-secp256k1",
        keys: keygen_note,
        steps: vec![
            ("full sign", full),
            ("presign", presign),
            ("online sign", online),
        ],
        verifier: "libsecp256k1 + k256",
    });

    // FROST Ed25519.
    let (ed, note) = load_or_make::<FrostEd25519>(&keys, &opts)?;
    let pk = ed.first().ok_or("no shares")?.public_key();
    let start = Instant::now();
    let sig =
        sign_all::<FrostEd25519>(&ed, &SIGNERS, &SignRequest::ed25519(message.clone()), &opts)?;
    let t_ed = start.elapsed();
    verify_ed25519(&pk, &message, &sig)?;
    rows.push(Row {
        engine: "frost-ed25519",
        keys: note,
        steps: vec![("sign", t_ed)],
        verifier: "ed25519-dalek",
    });

    // FROST secp256k1 BIP-340 with the Taproot tweak.
    let (tr, note) = load_or_make::<FrostTaproot>(&keys, &opts)?;
    let pk = tr.first().ok_or("no shares")?.public_key();
    let start = Instant::now();
    let sig = sign_all::<FrostTaproot>(
        &tr,
        &SIGNERS,
        &SignRequest::bip340(prehash.to_vec(), None),
        &opts,
    )?;
    let t_tr = start.elapsed();
    verify_taproot(&pk, &prehash, &sig)?;
    rows.push(Row {
        engine: "frost-secp256k1-tr",
        keys: note,
        steps: vec![("sign", t_tr)],
        verifier: "libsecp256k1 (tweaked key)",
    });

    writeln!(out)?;
    writeln!(
        out,
        "{:<20} {:<8} {:<28} {:<44} verified by",
        "engine", "signers", "keys", "time per step"
    )?;
    for r in rows {
        let steps = r
            .steps
            .iter()
            .map(|(n, d)| format!("{n} {}", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "{:<20} {:<8} {:<28} {:<44} {}",
            r.engine,
            format!("{:?}", SIGNERS),
            r.keys,
            steps,
            r.verifier
        )?;
    }

    // Chain transactions, signed through the chain encoders.
    let settings = Settings {
        signers: SIGNERS.to_vec(),
        evm_chain_id: args.chain_id,
        sol_blockhash: chain_sol::solana_hash::Hash::new_from_array(args.sol_blockhash.to_bytes()),
        drive: opts.clone(),
    };
    let start = Instant::now();
    let (report, lines) = sign_demo_transactions(
        &Keys {
            ecdsa: &cg,
            ed25519: &ed,
            taproot: &tr,
        },
        &settings,
    )?;
    writeln!(
        out,
        "\nChain transactions signed by parties {SIGNERS:?} in {}:",
        ms(start.elapsed())
    )?;
    for l in lines {
        writeln!(out, "  {l}")?;
    }
    writeln!(
        out,
        "  (Bitcoin prevouts are made up, regtest; EVM nonces 0 and 1 on chain {}; Solana \
         blockhash {}{})",
        args.chain_id,
        args.sol_blockhash,
        if args.sol_blockhash == local_runtime_blockhash() {
            ", a fresh local runtime's genesis"
        } else {
            ""
        }
    )?;
    writeln!(out, "\nAll signatures verified. Run again to sign with the stored keys; delete {} to start over.", dir.display())?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        writeln!(
            out,
            "Add --json for the signed transactions as one JSON object."
        )?;
    }
    Ok(())
}

fn load_or_make<S>(keys: &KeyDir, opts: &DriveOptions) -> Res<(Vec<KeyShare<S::Data>>, String)>
where
    S: ThresholdScheme<KeygenConfig = ()> + 'static,
    KeyShare<S::Data>: Send,
{
    if let Some(s) = keys.load::<S::Data>(S::ID, T, N)? {
        return Ok((s, "loaded".to_owned()));
    }
    let start = Instant::now();
    let shares = keygen_all::<S>(T, vec![(); usize::from(N)], opts)?;
    keys.save(&shares)?;
    Ok((shares, format!("DKG {}", ms(start.elapsed()))))
}

struct Args {
    dir: PathBuf,
    json: bool,
    chain_id: u64,
    sol_blockhash: chain_sol::solana_hash::Hash,
}

const USAGE: &str =
    "usage: quickstart [--dir PATH] [--json] [--chain-id ID] [--sol-blockhash BASE58]
  --dir PATH             keys and primes (default ./.mpc-quickstart, or $MPC_QUICKSTART_DIR)
  --json                 print the signed transactions as one JSON object on stdout
  --chain-id ID          EVM chain id (default 1)
  --sol-blockhash HASH   Solana recent blockhash (default: a fresh LiteSVM's genesis hash)";

fn parse_args() -> Result<Args, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        dir: std::env::var_os("MPC_QUICKSTART_DIR")
            .map_or_else(|| PathBuf::from(".mpc-quickstart"), PathBuf::from),
        json: false,
        chain_id: 1,
        sol_blockhash: local_runtime_blockhash(),
    };
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--dir" => parsed.dir = value("--dir")?.into(),
            "--json" => parsed.json = true,
            "--chain-id" => parsed.chain_id = value("--chain-id")?.parse()?,
            "--sol-blockhash" => parsed.sol_blockhash = value("--sol-blockhash")?.parse()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}; try --help").into()),
        }
    }
    Ok(parsed)
}

/// ECDSA checked with libsecp256k1 (not the engine's arithmetic).
fn verify_ecdsa(
    pk: &PublicKey,
    prehash: &[u8; 32],
    sig: &Signature,
) -> Result<(), Box<dyn std::error::Error>> {
    let Signature::Ecdsa(e) = sig else {
        return Err("not an ECDSA signature".into());
    };
    let secp = secp256k1::Secp256k1::verification_only();
    secp.verify_ecdsa(
        &secp256k1::Message::from_digest(*prehash),
        &secp256k1::ecdsa::Signature::from_compact(&e.to_bytes())?,
        &secp256k1::PublicKey::from_slice(pk.as_bytes())?,
    )?;
    Ok(())
}

/// Ed25519 checked with ed25519-dalek.
fn verify_ed25519(
    pk: &PublicKey,
    msg: &[u8],
    sig: &Signature,
) -> Result<(), Box<dyn std::error::Error>> {
    let (PublicKey::Ed25519(pk), Signature::Ed25519 { bytes }) = (pk, sig) else {
        return Err("not an Ed25519 key/signature".into());
    };
    ed25519_dalek::VerifyingKey::from_bytes(pk)?
        .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(bytes))?;
    Ok(())
}

/// BIP-340 checked with libsecp256k1 against the Taproot output key (tweak computed with
/// libsecp256k1 too).
fn verify_taproot(
    pk: &PublicKey,
    msg: &[u8; 32],
    sig: &Signature,
) -> Result<(), Box<dyn std::error::Error>> {
    use sha2::{Digest, Sha256};
    let Signature::Bip340 { bytes } = sig else {
        return Err("not a BIP-340 signature".into());
    };
    let secp = secp256k1::Secp256k1::verification_only();
    let (internal, _) = secp256k1::PublicKey::from_slice(pk.as_bytes())?.x_only_public_key();
    let tag = Sha256::digest(b"TapTweak");
    let tweak: [u8; 32] = Sha256::new()
        .chain_update(tag)
        .chain_update(tag)
        .chain_update(internal.serialize())
        .finalize()
        .into();
    let (output, _) = internal.add_tweak(&secp, &secp256k1::Scalar::from_be_bytes(tweak)?)?;
    secp.verify_schnorr(
        &secp256k1::schnorr::Signature::from_slice(bytes)?,
        &secp256k1::Message::from_digest(*msg),
        &output,
    )?;
    Ok(())
}

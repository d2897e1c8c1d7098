//! Writes the seed corpora of the fuzz targets (`fuzz/seeds/<target>/`) from honest runs:
//! real protocol messages of every engine, real control frames, key shares, a sealed file,
//! the demo's chain payloads, a node config and the node's own files (presignatures, an
//! audit log, the primes list, a backup's plaintext). FROST keys are made here; CGGMP21 and
//! GG20 keys are the TEST-ONLY shares of `test-vectors/`; nothing in the seeds is a secret
//! of any real key.
//!
//! ```text
//! cargo run --example gen_fuzz_seeds -- fuzz/seeds
//! ```
//! Run it again when a format changes; the fuzz targets read the seeds as they are.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use mpc_core::reshare::{reshare, ReshareFrom};
use mpc_core::*;
use mpc_node::demo::txs::{self, DemoSigner, PublicKeys, Settings};
use mpc_transport::control::{Framed, Request, Response};
use mpc_transport::{DriveOptions, Envelope, KeyRef};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/seeds".into()),
    );
    let primes = PaillierPrimes::list_from_json(&std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../test-vectors/test-only-paillier-primes.json"),
    )?)?;
    eprintln!("making TEST-ONLY keys");
    let ed = local::keygen::<FrostEd25519>(2, vec![(); 3])?;
    let tr = local::keygen::<FrostTaproot>(2, vec![(); 3])?;
    // The fuzz targets hold the TEST-ONLY shares of `test-vectors/test-only-shares/`; the
    // seeds are messages of the same keys.
    let cg: Vec<Cggmp21Share> = test_only_shares("cggmp21-2of3", SchemeId::Cggmp21Secp256k1)?;
    let gg: Vec<Gg20Share> = test_only_shares("gg20-2of3", SchemeId::Gg20Secp256k1)?;

    protocol_messages(&out.join("protocol_message"), &ed, &tr, &cg, &gg, &primes)?;
    envelopes(&out.join("envelope_decode"))?;
    control_frames(&out.join("control_frame"), &ed)?;
    let dir = out.join("key_share_json");
    write(
        &dir,
        "frost-ed25519",
        &ed.first().ok_or("no share")?.to_json()?,
    )?;
    write(
        &dir,
        "frost-taproot",
        &tr.first().ok_or("no share")?.to_json()?,
    )?;
    let dir = out.join("sealed_file");
    write(&dir, "raw-empty", &[0])?;
    write(&dir, "valid-untouched", &[1, 255])?;
    write(&dir, "valid-one-flip-cut-half", &[1, 0, 40, 1, 128])?;
    chain_payloads(&out.join("chain_payloads"), &ed, &tr, &cg)?;
    let dir = out.join("node_config");
    let party = readme_config()?;
    write(&dir, "party-from-readme", party.as_bytes())?;
    let policy = party
        .find("[policy]")
        .and_then(|i| party.get(i..))
        .ok_or("no [policy]")?;
    // The policy alone, as its own table.
    let policy: String = policy.replace("[policy]\n", "").replace("[policy.", "[");
    write(&dir, "policy-from-readme", policy.as_bytes())?;
    let tss = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-vectors/tss-lib/ecdsa/keygen_data_0.json");
    write(
        &out.join("tss_lib_import"),
        "keygen-data-0",
        &std::fs::read(tss)?,
    )?;
    node_files(&out.join("node_files"), &ed, &cg, &gg)?;
    eprintln!("seeds written under {}", out.display());
    Ok(())
}

fn test_only_shares<D: mpc_core::share::EngineData>(
    dir: &str,
    scheme: SchemeId,
) -> Res<Vec<KeyShare<D>>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-vectors/test-only-shares")
        .join(dir);
    (0..3)
        .map(|i| {
            let bytes = std::fs::read(dir.join(format!("party-{i}.json")))?;
            Ok(KeyShare::from_json(&bytes, scheme)?)
        })
        .collect()
}

/// Seeds of `node_files`, each a selector byte and the file: a presignature of each
/// presigning engine, an audit log of two records, the primes list, a backup's plaintext,
/// a registry, a key's metadata.
fn node_files(
    dir: &Path,
    ed: &[KeyShare<<FrostEd25519 as ThresholdScheme>::Data>],
    cg: &[Cggmp21Share],
    gg: &[Gg20Share],
) -> Res<()> {
    let tagged = |tag: u8, bytes: &[u8]| [&[tag][..], bytes].concat();
    let cggmp21 = presignature_bytes::<Cggmp21>(cg)?;
    write(dir, "cggmp21-presignature", &tagged(0, &cggmp21))?;
    let gg20 = presignature_bytes::<Gg20>(gg)?;
    write(dir, "gg20-presignature", &tagged(1, &gg20))?;

    let tmp = std::env::temp_dir().join(format!("gen-fuzz-seeds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let log_path = tmp.join("audit.jsonl");
    {
        use mpc_node::audit::{AuditLog, Decision, Record};
        let mut log = AuditLog::open(&log_path)?;
        log.append(Record::new(Decision::Signed, "allowed"))?;
        log.append(Record::new(Decision::Refused, "raw_digest").reason("no chain payload"))?;
    }
    write(dir, "audit-log", &tagged(2, &std::fs::read(&log_path)?))?;
    let _ = std::fs::remove_dir_all(&tmp);

    let primes = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-vectors/test-only-paillier-primes.json");
    write(dir, "primes", &tagged(3, &std::fs::read(primes)?))?;

    // A backup's plaintext (`mpc_node::backup`): format, facts, public shares, share JSON.
    let share = ed.first().ok_or("no share")?;
    let h = share.header();
    let facts = mpc_node::backup::BackupFacts {
        key_id: "fuzz-ed".into(),
        scheme: h.scheme,
        epoch: h.epoch,
        parties: h.n,
        threshold: h.t,
        party: h.index,
        public_key: h.public_key,
        committee: Vec::new(),
    };
    let body = serde_json::json!({
        "format": mpc_node::backup::BACKUP_FORMAT,
        "facts": facts,
        "public_shares": share.public_shares()?,
        "share": String::from_utf8(share.to_json()?.to_vec())?,
    });
    write(dir, "backup-frost", &tagged(4, &serde_json::to_vec(&body)?))?;

    use mpc_node::coordinator::{RegisteredKey, Registry, Retirement, Transition};
    let registry = Registry {
        keys: vec![RegisteredKey {
            key_id: "fuzz-ed".into(),
            scheme: h.scheme,
            public_key: h.public_key,
            t: h.t,
            n: h.n,
            epoch: 1,
            chain_code: Some(hex::encode([5u8; 32])),
            committee: vec![0, 1, 2],
            transition: Some(Transition {
                scheme: h.scheme,
                epoch: 2,
                t: 2,
                committee: vec![0, 1, 3],
                stored_hashes: vec![hex::encode([6u8; 32]); 3],
            }),
            retire: vec![Retirement {
                party: 2,
                scheme: h.scheme,
                epoch: 0,
                pending_only: false,
            }],
        }],
    };
    write(
        dir,
        "registry",
        &tagged(5, &serde_json::to_vec_pretty(&registry)?),
    )?;

    // The target's key directory is `keys/fuzz`: the meta of key `fuzz` at epoch 0.
    let meta = mpc_node::vault::KeyMeta {
        key_id: "fuzz".into(),
        scheme: h.scheme,
        public_key: h.public_key,
        t: h.t,
        n: h.n,
        party: 0,
        epoch: 0,
        stored_hash: hex::encode([7u8; 32]),
        committee: Vec::new(),
    };
    write(dir, "key-meta", &tagged(6, &serde_json::to_vec(&meta)?))?;
    Ok(())
}

/// Party 0's presignature of signers {0, 1} in its stored byte form.
fn presignature_bytes<S: Presigning>(shares: &[KeyShare<S::Data>]) -> Res<Vec<u8>> {
    use mpc_core::presign_store::StoredPresignature;
    let sid = SessionId::from_label(&format!("fuzz-presign-{}", S::ID));
    let runs = shares
        .iter()
        .take(2)
        .zip(0u16..)
        .map(|(share, i)| S::presign(&SessionCtx::new(sid, S::ID, i, &[0, 1])?, share, None))
        .collect::<mpc_core::Result<Vec<_>>>()?;
    let p = local::run_local(runs)?
        .into_iter()
        .next()
        .ok_or("no presignature")?;
    Ok(p.to_bytes()?.to_vec())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes)?;
    Ok(())
}

fn sid() -> SessionId {
    SessionId::from_label("fuzz")
}

/// Makes one run and returns its first messages.
type FirstMessages<'a> = Box<dyn FnOnce() -> Res<Vec<Message>> + 'a>;

/// Party 1's first messages to party 0 in each run of the `protocol_message` target, in its
/// input form: run number, round id, point-to-point flag, payload.
fn protocol_messages(
    dir: &Path,
    ed: &[KeyShare<<FrostEd25519 as ThresholdScheme>::Data>],
    tr: &[KeyShare<<FrostTaproot as ThresholdScheme>::Data>],
    cg: &[Cggmp21Share],
    gg: &[Gg20Share],
    primes: &[PaillierPrimes],
) -> Res<()> {
    let keygen = |s: SchemeId| SessionCtx::keygen(sid(), s, 1, 3);
    let signing = |s: SchemeId| SessionCtx::new(sid(), s, 1, &[0, 1]);
    let ecdsa = SignRequest::ecdsa([7; 32]);
    let one = 1usize;
    let runs: Vec<(u8, FirstMessages)> = vec![
        (
            0,
            Box::new(|| {
                first_messages(FrostEd25519::keygen(
                    &keygen(SchemeId::FrostEd25519)?,
                    2,
                    (),
                )?)
            }),
        ),
        (
            1,
            Box::new(|| {
                first_messages(FrostTaproot::keygen(
                    &keygen(SchemeId::FrostSecp256k1Tr)?,
                    2,
                    (),
                )?)
            }),
        ),
        (
            2,
            Box::new(|| {
                first_messages(Cggmp21::keygen(
                    &keygen(SchemeId::Cggmp21Secp256k1)?,
                    2,
                    Cggmp21KeygenConfig { primes: None },
                )?)
            }),
        ),
        (
            3,
            Box::new(|| {
                let p = primes.get(1).cloned().ok_or("primes")?;
                first_messages(Gg20::keygen(
                    &keygen(SchemeId::Gg20Secp256k1)?,
                    2,
                    p.into(),
                )?)
            }),
        ),
        (
            4,
            Box::new(|| {
                first_messages(FrostEd25519::sign(
                    &signing(SchemeId::FrostEd25519)?,
                    ed.get(one).ok_or("share")?,
                    &SignRequest::ed25519(b"fuzz".to_vec()),
                )?)
            }),
        ),
        (
            5,
            Box::new(|| {
                first_messages(FrostTaproot::sign(
                    &signing(SchemeId::FrostSecp256k1Tr)?,
                    tr.get(one).ok_or("share")?,
                    &SignRequest::bip340([7; 32].to_vec(), None),
                )?)
            }),
        ),
        (
            6,
            Box::new(|| {
                first_messages(Cggmp21::sign(
                    &signing(SchemeId::Cggmp21Secp256k1)?,
                    cg.get(one).ok_or("share")?,
                    &ecdsa,
                )?)
            }),
        ),
        (
            7,
            Box::new(|| {
                first_messages(Gg20::sign(
                    &signing(SchemeId::Gg20Secp256k1)?,
                    gg.get(one).ok_or("share")?,
                    &ecdsa,
                )?)
            }),
        ),
        (
            8,
            Box::new(|| {
                first_messages(Cggmp21::presign(
                    &signing(SchemeId::Cggmp21Secp256k1)?,
                    cg.get(one).ok_or("share")?,
                    None,
                )?)
            }),
        ),
        (
            9,
            Box::new(|| {
                first_messages(Gg20::presign(
                    &signing(SchemeId::Gg20Secp256k1)?,
                    gg.get(one).ok_or("share")?,
                    None,
                )?)
            }),
        ),
        (
            10,
            Box::new(|| {
                let source = FrostEd25519::reshare_source(ed.get(one).ok_or("share")?)?;
                let setup = source.setup(None, &[0, 1], &[0, 1, 2, 3], 3)?;
                let ctx = SessionCtx::new(sid(), SchemeId::FrostEd25519, 1, &setup.participants())?;
                first_messages(reshare(&ctx, setup, Some(source.dealer_input()))?)
            }),
        ),
        (
            11,
            Box::new(|| {
                let source = Cggmp21::reshare_source(cg.get(one).ok_or("share")?)?;
                let setup = source.setup(None, &[0, 1], &[0, 1, 2, 3], 3)?;
                let ctx =
                    SessionCtx::new(sid(), SchemeId::Cggmp21Secp256k1, 1, &setup.participants())?;
                first_messages(reshare(&ctx, setup, Some(source.dealer_input()))?)
            }),
        ),
    ];
    for (which, make) in runs {
        // Seeds stay small: a message over 64 KiB (GG20's keygen round with its modulus
        // proofs) is left out, and the fuzzer starts that run from the smaller ones.
        let small = make()?.into_iter().filter(|m| m.payload.len() <= 1 << 16);
        for (k, m) in small.enumerate() {
            let mut seed = vec![which];
            seed.extend_from_slice(&m.round.to_be_bytes());
            seed.push(u8::from(m.to.is_some()));
            seed.extend_from_slice(&m.payload);
            write(dir, &format!("run{which:02}-msg{k}"), &seed)?;
        }
    }
    Ok(())
}

/// The messages a run sends to party 0 before it needs input.
fn first_messages<O>(mut run: BoxedProtocol<O>) -> Res<Vec<Message>> {
    let mut out = Vec::new();
    loop {
        match run.proceed()? {
            Step::Send(m) if m.to.is_none() || m.to == Some(0) => out.push(m),
            Step::Send(_) => {}
            Step::NeedMessage | Step::Done(_) => return Ok(out),
        }
    }
}

fn envelopes(dir: &Path) -> Res<()> {
    for (name, to, payload) in [
        ("broadcast", None, b"{}".to_vec()),
        ("p2p", Some(2), vec![7; 40]),
    ] {
        let env = Envelope {
            scheme: SchemeId::FrostEd25519,
            message: Message {
                session: sid(),
                round: 0x0101,
                from: 1,
                to,
                payload,
            },
        };
        write(dir, name, &env.encode(1 << 20)?)?;
    }
    Ok(())
}

fn control_frames(dir: &Path, ed: &[KeyShare<<FrostEd25519 as ThresholdScheme>::Data>]) -> Res<()> {
    let share = ed.first().ok_or("no share")?;
    let key = KeyRef {
        scheme: SchemeId::FrostEd25519,
        public_key: share.public_key(),
        epoch: 0,
    };
    let requests = [
        ("ping", Request::Ping),
        ("pool", Request::Pool { key: key.clone() }),
        (
            "sign",
            Request::Sign {
                session: sid(),
                key: key.clone(),
                signers: vec![0, 1],
                requests: vec![SignRequest::hashed_message(MessageHash::Keccak256, b"fuzz")],
                round_timeout_ms: 1000,
            },
        ),
    ];
    for (name, body) in requests {
        write(
            dir,
            &format!("request-{name}"),
            &serde_json::to_vec(&Framed { id: 1, body })?,
        )?;
    }
    let pong = Response::Pong { party: 1 };
    write(
        dir,
        "response-pong",
        &serde_json::to_vec(&Framed { id: 1, body: pong })?,
    )?;
    Ok(())
}

/// Records the chain payload of every request and signs it with the local keys.
struct Recorder<'a> {
    ed: &'a [KeyShare<<FrostEd25519 as ThresholdScheme>::Data>],
    tr: &'a [KeyShare<<FrostTaproot as ThresholdScheme>::Data>],
    cg: &'a [Cggmp21Share],
    seen: RefCell<Vec<ChainPayload>>,
}

impl DemoSigner for Recorder<'_> {
    fn sign(
        &self,
        scheme: SchemeId,
        _key: &PublicKey,
        requests: &[SignRequest],
    ) -> Res<Vec<Signature>> {
        for r in requests {
            if let Some(p) = &r.chain_payload {
                if !self.seen.borrow().iter().any(|q| q.bytes == p.bytes) {
                    self.seen.borrow_mut().push(p.clone());
                }
            }
        }
        let signers = [0, 1];
        Ok(match scheme {
            SchemeId::FrostEd25519 => {
                local::sign_batch::<FrostEd25519>(self.ed, &signers, requests)?
            }
            SchemeId::FrostSecp256k1Tr => {
                local::sign_batch::<FrostTaproot>(self.tr, &signers, requests)?
            }
            _ => local::sign_batch::<Cggmp21>(self.cg, &signers, requests)?,
        })
    }
}

fn chain_payloads(
    dir: &Path,
    ed: &[KeyShare<<FrostEd25519 as ThresholdScheme>::Data>],
    tr: &[KeyShare<<FrostTaproot as ThresholdScheme>::Data>],
    cg: &[Cggmp21Share],
) -> Res<()> {
    let first = |k: Option<PublicKey>| k.ok_or("no shares");
    let keys = PublicKeys {
        ecdsa: first(cg.first().map(KeyShare::public_key))?,
        ed25519: first(ed.first().map(KeyShare::public_key))?,
        taproot: first(tr.first().map(KeyShare::public_key))?,
    };
    let settings = Settings {
        signers: vec![0, 1],
        evm_chain_id: 1,
        sol_blockhash: txs::local_runtime_blockhash(),
        drive: DriveOptions::default(),
    };
    let recorder = Recorder {
        ed,
        tr,
        cg,
        seen: RefCell::new(Vec::new()),
    };
    txs::sign_demo_transactions_with(&keys, &settings, &recorder)?;
    for (k, p) in recorder.seen.into_inner().into_iter().enumerate() {
        // The target's chain selector: 0 P2WPKH, 1 P2TR, 2 EVM, 3 Solana.
        let which: u8 = match p.chain.as_str() {
            "btc" if k == 0 => 0,
            "btc" => 1,
            "evm" => 2,
            _ => 3,
        };
        let mut seed = vec![which];
        seed.extend_from_slice(&p.bytes);
        write(dir, &format!("{}-{k}", p.chain), &seed)?;
    }
    Ok(())
}

/// The party config documented in the README (its first TOML block).
fn readme_config() -> Res<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))?;
    let start = readme
        .find("```toml\n")
        .ok_or("no TOML block in the README")?
        + 8;
    let len = readme
        .get(start..)
        .and_then(|r| r.find("```"))
        .ok_or("unterminated block")?;
    Ok(readme.get(start..start + len).ok_or("block")?.to_owned())
}

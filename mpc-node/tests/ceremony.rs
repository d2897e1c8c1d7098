//! Networked key ceremonies with three `mpc-node party` processes (real sockets, mutual
//! TLS): a key for every engine, made through `mpc-node keygen`; each party's store holds
//! exactly its own share, sealed (its secret bytes appear nowhere in the party's
//! directory in clear); the keys sign through the parties, checked by independent
//! verifiers. A party killed during a CGGMP21 ceremony is named, no key becomes active, and
//! a second ceremony succeeds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{check, check_ecdsa, request, Deployment, Fault, BIN};
use mpc_core::{SchemeId, SignRequest};
use mpc_node::coordinator::{CoordinatorClient, Registry};
use mpc_node::seal::{Label, SecretKind};
use mpc_node::store::SealedStore;
use mpc_node::vault::KeyMeta;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "keygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The secret values of a share's JSON: everything under the fields named `x` (the
/// secret share) and `p`, `q` (Paillier primes), at any depth.
fn secret_values(v: &serde_json::Value, out: &mut Vec<String>) {
    fn leaves(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if s.len() >= 32 => out.push(s.clone()),
            serde_json::Value::Object(m) => m.values().for_each(|x| leaves(x, out)),
            serde_json::Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
            _ => {}
        }
    }
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if ["x", "p", "q"].contains(&k.as_str()) {
                    leaves(x, out);
                }
                secret_values(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| secret_values(x, out)),
        _ => {}
    }
}

#[test]
fn party_processes_make_a_key_of_every_engine_each_holding_only_its_sealed_share() {
    let mut dep = Deployment::new("ceremony-all", true);
    let schemes = [
        ("frost-ed25519", SchemeId::FrostEd25519),
        ("frost-taproot", SchemeId::FrostSecp256k1Tr),
        ("cggmp21", SchemeId::Cggmp21Secp256k1),
        ("gg20", SchemeId::Gg20Secp256k1),
    ];
    let mut made = Vec::new();
    for (name, id) in schemes {
        let v = json(&dep.keygen(name));
        assert_eq!(v["scheme"], id.to_string());
        assert_eq!((v["t"].as_u64(), v["n"].as_u64()), (Some(2), Some(3)));
        made.push((
            v["key_id"].as_str().unwrap().to_string(),
            id,
            v["public_key_hex"].as_str().unwrap().to_string(),
        ));
    }
    let registry = Registry::load(&dep.dir.join("keys.json")).unwrap();
    assert_eq!(registry.keys.len(), 4);

    // Every key signs through the party processes; independent verifiers check.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = dep.client().await;
        for (key_id, scheme, _) in &made {
            let key = registry.get(key_id).unwrap();
            let msg = [key_id.len() as u8; 32];
            let signed = c
                .coordinator
                .sign(&key.key_ref(), 2, &[request(*scheme, msg)])
                .await
                .unwrap();
            check(*scheme, &key.public_key, &msg, &signed.signatures[0]);
        }
    });

    // Each party's store holds exactly its own share of each key, sealed.
    for i in 0..3u16 {
        dep.kill(usize::from(i));
        let dir = dep.dir.join(format!("party-{i}"));
        let store = SealedStore::open(&dir, dep.kek()).unwrap();
        let shares: Vec<PathBuf> = files_under(&dir)
            .into_iter()
            .filter(|p| p.file_name().unwrap() == "share.sealed")
            .collect();
        assert_eq!(shares.len(), 4, "party {i}: {shares:?}");
        let files: Vec<(PathBuf, Vec<u8>)> = files_under(&dir)
            .into_iter()
            .map(|p| {
                let b = std::fs::read(&p).unwrap();
                (p, b)
            })
            .collect();
        for (key_id, scheme, pk_hex) in &made {
            let meta: KeyMeta = serde_json::from_slice(
                &std::fs::read(dir.join(format!("keys/{key_id}/meta.json"))).unwrap(),
            )
            .unwrap();
            assert_eq!((meta.party, meta.scheme), (i, *scheme));
            assert_eq!(hex::encode(meta.public_key.as_bytes()), *pk_hex);
            let label = Label::new(SecretKind::KeyShare, Some(*scheme), key_id.as_str(), i, 0);
            let clear = store
                .get(&format!("keys/{key_id}/share.sealed"), &label)
                .unwrap();
            let text = std::str::from_utf8(&clear).unwrap();
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(v["index"], i, "party {i} holds its own share");
            // No secret value of the share is on disk in clear, in hex or in bytes.
            let mut secrets = Vec::new();
            secret_values(&v, &mut secrets);
            assert!(
                !secrets.is_empty(),
                "{scheme}: no secret found in the share"
            );
            for (path, bytes) in &files {
                for s in &secrets {
                    assert!(
                        !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                        "{} holds a secret in clear",
                        path.display()
                    );
                    if let Ok(raw) = hex::decode(s) {
                        assert!(
                            !bytes.windows(32).any(|w| raw.windows(32).any(|r| r == w)),
                            "{} holds secret bytes",
                            path.display()
                        );
                    }
                }
            }
        }
        // The other parties' shares are not there: a second store opened with the same
        // passphrase finds only party i's labels.
        drop(store);
    }
}

#[test]
fn a_party_killed_during_a_cggmp21_ceremony_is_named_and_a_second_ceremony_succeeds() {
    let mut dep = Deployment::new("ceremony-kill", true);
    let coordinator = dep.dir.join("coordinator.toml");
    let keygen = Command::new(BIN)
        .args(["keygen", "--json", "--scheme", "cggmp21", "--config"])
        .arg(&coordinator)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Party 2 dies while the key generation (DKG + auxiliary info) runs: once it has
    // joined the ceremony's session (its session journal grows), not after a fixed time.
    let journal = dep
        .dir
        .join("party-2")
        .join(mpc_node::sessions::SESSIONS_FILE);
    let joined_before = std::fs::metadata(&journal).map_or(0, |m| m.len());
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::fs::metadata(&journal).map_or(0, |m| m.len()) == joined_before {
        assert!(
            std::time::Instant::now() < deadline,
            "party 2 never joined the ceremony"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    dep.kill(2);
    let out = keygen.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "the ceremony cannot succeed without party 2"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("parties [2]"),
        "the error names party 2: {err}"
    );
    // No key is active: the registry is empty and no party has an active key.
    assert!(Registry::load(&dep.dir.join("keys.json"))
        .unwrap()
        .keys
        .is_empty());
    for i in 0..2 {
        let keys_dir = dep.dir.join(format!("party-{i}/keys"));
        if keys_dir.exists() {
            for e in std::fs::read_dir(&keys_dir).unwrap() {
                assert!(
                    !e.unwrap().path().join("active").exists(),
                    "party {i} activated a key"
                );
            }
        }
    }
    // Party 2 comes back; a second ceremony makes a key that signs.
    dep.parties[2] = Some(dep.spawn(2));
    let v = json(&dep.keygen("cggmp21"));
    let key_id = v["key_id"].as_str().unwrap().to_string();
    let registry = Registry::load(&dep.dir.join("keys.json")).unwrap();
    let key = registry.get(&key_id).unwrap().clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = CoordinatorClient::connect(&coordinator, Duration::from_secs(20))
            .await
            .unwrap();
        let msg = [9u8; 32];
        let signed = c
            .coordinator
            .sign(&key.key_ref(), 2, &[SignRequest::ecdsa(msg)])
            .await
            .unwrap();
        check_ecdsa(&key.public_key, &msg, &signed.signatures[0]);
    });
}

#[test]
fn a_party_stopped_after_storing_leaves_the_key_pending_and_unable_to_sign() {
    let mut dep = Deployment::new("ceremony-pending", true);
    // Party 2 runs in this process, with a vault that stops after storing.
    dep.kill(2);
    let party_2 = dep.in_process(2, Fault::HangAfterStoring);
    dep.short_ceremonies(8);
    let coordinator = dep.dir.join("coordinator.toml");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = CoordinatorClient::connect(&coordinator, Duration::from_secs(20))
            .await
            .unwrap();
        let err = client
            .keygen(SchemeId::FrostEd25519)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("parties [2]"), "party 2 is named: {err}");
        assert!(Registry::load(&dep.dir.join("keys.json"))
            .unwrap()
            .keys
            .is_empty());

        // Party 2 stored its share; every party has it, pending, and nobody signs with it.
        let keys_dir = dep.dir.join("party-0/keys");
        let key_dir = std::fs::read_dir(&keys_dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let meta: KeyMeta =
            serde_json::from_slice(&std::fs::read(key_dir.join("meta.json")).unwrap()).unwrap();
        for i in 0..3 {
            let d = dep.dir.join(format!("party-{i}/keys/{}", meta.key_id));
            assert!(
                d.join("share.sealed").exists(),
                "party {i} stored its share"
            );
            assert!(!d.join("active").exists(), "party {i} must not activate");
        }
        let key = mpc_transport::KeyRef {
            scheme: meta.scheme,
            public_key: meta.public_key,
            epoch: meta.epoch,
        };
        let err = client
            .coordinator
            .sign(&key, 2, &[SignRequest::ed25519(b"must not sign".to_vec())])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("pending"), "{err}");
    });
    // A restarted party still knows the key as pending (from its store), not as unknown.
    dep.kill(0);
    dep.parties[0] = Some(dep.spawn(0));
    rt.block_on(async {
        let client = dep.client().await;
        let meta = pending_meta(&dep);
        let request = mpc_transport::control::Request::Sign {
            session: mpc_core::SessionId::random(&mut rand_core::OsRng),
            key: mpc_transport::KeyRef {
                scheme: meta.scheme,
                public_key: meta.public_key,
                epoch: meta.epoch,
            },
            signers: vec![0, 1],
            requests: vec![SignRequest::ed25519(b"must not sign".to_vec())],
            round_timeout_ms: 1_000,
        };
        match client.coordinator.call_party(0, request).await.unwrap() {
            mpc_transport::control::Response::Failed(f) => {
                assert!(f.message.contains("pending"), "{f:?}")
            }
            other => panic!("a restarted party signed or answered otherwise: {other:?}"),
        }
    });
    party_2.stop();
}

fn pending_meta(dep: &Deployment) -> KeyMeta {
    let keys_dir = dep.dir.join("party-0/keys");
    let key_dir = std::fs::read_dir(keys_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    serde_json::from_slice(&std::fs::read(key_dir.join("meta.json")).unwrap()).unwrap()
}

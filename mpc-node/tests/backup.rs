//! Backup and restore of one party's share (`mpc-node backup` / `mpc-node restore`, age
//! X25519 to the party's own recovery recipient): a backup restores into a fresh store and
//! the party signs again; a backup of another party, one opened with another party's
//! identity, a tampered one, and a second restore of the same key are refused, each leaving
//! the store as it was.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{check_ed25519, Deployment, BIN};
use mpc_core::{SchemeId, SignRequest};
use mpc_node::demo::demo_recovery_identity;
use mpc_node::party::tls_key_label;
use mpc_node::store::SealedStore;

fn node(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn ok_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn refused(out: &Output, what: &str) {
    assert!(
        !out.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(what), "error should say {what:?}: {err}");
}

/// Every file name under `dir`, sorted (to see a store is unchanged).
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(listing(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn a_backup_restores_into_a_fresh_store_and_only_there() {
    let mut dep = Deployment::new("backup", true);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = rt.block_on(async {
        let client = dep.client().await;
        client.keygen(SchemeId::FrostEd25519).await.unwrap()
    });
    let d = dep.dir.clone();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let cfg = |i: u16| s(&d.join(format!("party-{i}.toml")));
    let identity = |i: u16| s(&d.join(demo_recovery_identity(i)));
    let backup1 = d.join("backup-party-1.age");

    // Party 1, stopped, backs up its share.
    dep.kill(1);
    let facts = ok_json(&node(&[
        "backup",
        "--json",
        "--config",
        &cfg(1),
        "--key",
        &key.key_id,
        "--out",
        &s(&backup1),
    ]));
    assert_eq!(facts["key_id"], key.key_id.as_str());
    assert_eq!(facts["party"], 1);
    assert_eq!(
        (facts["threshold"].as_u64(), facts["parties"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(facts["epoch"], 0);
    let pk_hex = hex::encode(key.public_key.as_bytes());
    assert_eq!(facts["public_key_hex"], pk_hex.as_str());
    // No overwrite of an existing backup file.
    refused(
        &node(&[
            "backup",
            "--config",
            &cfg(1),
            "--key",
            &key.key_id,
            "--out",
            &s(&backup1),
        ]),
        "exists",
    );

    // Party 1 loses its store; a fresh one gets only its TLS key back, then the backup.
    let store_dir = d.join("party-1");
    let tls = SealedStore::open(&store_dir, dep.kek())
        .unwrap()
        .get("tls/party.key", &tls_key_label(1))
        .unwrap();
    std::fs::rename(&store_dir, d.join("party-1-lost")).unwrap();
    SealedStore::open(&store_dir, dep.kek())
        .unwrap()
        .put_new("tls/party.key", &tls_key_label(1), &tls)
        .unwrap();

    // Refused, the fresh store unchanged: another party's identity; a tampered backup.
    let before = listing(&store_dir);
    let restore = |i: u16, file: &Path, id: &str| {
        node(&[
            "restore",
            "--json",
            "--config",
            &cfg(i),
            "--in",
            &s(file),
            "--identity",
            id,
        ])
    };
    refused(
        &restore(1, &backup1, &identity(2)),
        "does not open with this identity",
    );
    let tampered = d.join("backup-tampered.age");
    let mut bytes = std::fs::read(&backup1).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&tampered, bytes).unwrap();
    refused(&restore(1, &tampered, &identity(1)), "does not open");
    assert_eq!(
        listing(&store_dir),
        before,
        "a refused restore changes nothing"
    );

    // Party 1's backup into party 2's store (party 2 stopped) is refused; nothing changes.
    dep.kill(2);
    let party2 = listing(&d.join("party-2"));
    refused(
        &restore(2, &backup1, &identity(1)),
        "a backup of party 1's share; this is party 2",
    );
    assert_eq!(listing(&d.join("party-2")), party2);
    dep.parties[2] = Some(dep.spawn(2));

    // The real restore, then a second one of the same key is refused.
    let restored = ok_json(&restore(1, &backup1, &identity(1)));
    assert_eq!(restored, facts);
    refused(&restore(1, &backup1, &identity(1)), "exists");

    // Party 1 runs again and signs.
    dep.parties[1] = Some(dep.spawn(1));
    rt.block_on(async {
        let client = dep.client().await;
        let msg = b"signed after a restore".to_vec();
        let out = client
            .coordinator
            .sign(&key.key_ref(), 2, &[SignRequest::ed25519(msg.clone())])
            .await
            .unwrap();
        assert!(out.report.attempts.last().unwrap().quorum.contains(&1));
        check_ed25519(&key.public_key, &msg, &out.signatures[0]);
    });
}

//! The node's own files and records, as an attacker could leave or hand them over: a
//! presignature's bytes (CGGMP21, GG20), an audit log, a Paillier primes list, and the
//! plaintext inside an encrypted backup (anyone who knows a party's public recovery
//! recipient can make a backup that opens), the coordinator's key registry, a key's
//! `meta.json` in the vault. Each must be read or refused with an error, never a panic;
//! what reads must hold its invariants.
//!
//! Input: byte 0 picks the file (0 CGGMP21 presignature, 1 GG20 presignature, 2 audit log,
//! 3 primes list, 4 backup plaintext, 5 registry, 6 key metadata), the rest is its bytes.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mpc_core::engines::cggmp21::Cggmp21Presignature;
use mpc_core::presign_store::StoredPresignature;
use mpc_core::{Gg20Presignature, PaillierPrimes};
use mpc_node::audit::{verify, AuditLog, Decision, Record};
use mpc_node::coordinator::Registry;
use mpc_node::seal::KeyFileKek;
use mpc_node::store::SealedStore;
use mpc_node::vault::{NodeVault, PrimesSource};

/// This process's scratch directory (removed and made again at start).
fn scratch() -> &'static Path {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("mpc-fuzz-node-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch directory");
        d
    })
}

/// Party 0's vault in `dir` under the scratch directory.
fn open_vault(dir: &str) -> NodeVault {
    let kek = Arc::new(KeyFileKek::from_bytes([9; 32]));
    let store = SealedStore::open(scratch().join(dir), kek).expect("store");
    let primes = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/test-only-paillier-primes.json"
    ));
    NodeVault::new(
        Arc::new(store),
        0,
        PrimesSource::DangerTestOnlyFixture(primes),
    )
}

/// The vault backups are restored into, and the recipient of its recovery identity.
fn vault() -> &'static (NodeVault, String, String) {
    static V: OnceLock<(NodeVault, String, String)> = OnceLock::new();
    V.get_or_init(|| {
        let (identity, recipient) = mpc_node::backup::new_recovery_identity();
        (open_vault("store"), identity.to_string(), recipient)
    })
}

/// A vault whose one key directory holds the fuzzed `meta.json`.
fn meta_vault() -> &'static NodeVault {
    static V: OnceLock<NodeVault> = OnceLock::new();
    V.get_or_init(|| open_vault("meta-store"))
}

fn presignature<P: StoredPresignature>(bytes: &[u8]) {
    if let Ok(p) = P::from_bytes(bytes) {
        // What reads writes back to bytes that read as the same presignature.
        let again = p.to_bytes().expect("a presignature that read encodes");
        let q = P::from_bytes(&again).expect("its own bytes read");
        assert_eq!(
            p.entry(),
            q.entry(),
            "a presignature changed through its bytes"
        );
    }
}

fn audit_log(bytes: &[u8]) {
    let path = scratch().join("audit.jsonl");
    let head = scratch().join("audit.jsonl.head");
    let _ = std::fs::remove_file(&head);
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    // Opening keeps the whole records; a log that verifies then takes one more record and
    // still verifies, one record longer.
    let Ok(mut log) = AuditLog::open(&path) else {
        return;
    };
    let Ok(before) = verify(&path) else {
        return;
    };
    log.append(Record::new(Decision::Refused, "fuzz").reason("fuzz"))
        .expect("appending to a log that verifies");
    let after = verify(&path).expect("a verified log with one record appended");
    assert_eq!(after.records, before.records + 1);
}

fn backup(plaintext: &[u8]) {
    let (vault, identity, recipient) = vault();
    let Ok(recipient) = recipient.parse::<age::x25519::Recipient>() else {
        return;
    };
    let Ok(sealed) = age::encrypt(&recipient, plaintext) else {
        return;
    };
    let path = scratch().join("backup.age");
    if std::fs::write(&path, sealed).is_ok() {
        let _ = mpc_node::backup::restore(vault, identity, &path);
    }
}

fn registry(bytes: &[u8]) {
    let path = scratch().join("registry.json");
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    if let Ok(r) = Registry::load(&path) {
        // What loads saves and loads back the same.
        r.save(&path).expect("saving a registry that loaded");
        assert_eq!(Registry::load(&path).expect("its own file loads"), r);
    }
}

fn key_meta(bytes: &[u8]) {
    let vault = meta_vault();
    let dir = scratch().join("meta-store/keys/fuzz");
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(dir.join("meta.json"), bytes).is_err()
    {
        return;
    }
    if let Ok(keys) = vault.keys() {
        for (meta, _) in keys {
            // A listed key names its own directory; reading it finds no share, an error.
            assert_eq!(
                vault.meta(&meta.key_id).ok().map(|m| m.key_id),
                Some(meta.key_id.clone())
            );
            assert!(
                vault.open_key(&meta.key_id).is_err(),
                "a key without a share opened"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((which, rest)) = data.split_first() else {
        return;
    };
    match which % 7 {
        0 => presignature::<Cggmp21Presignature>(rest),
        1 => presignature::<Gg20Presignature>(rest),
        2 => audit_log(rest),
        3 => {
            let _ = PaillierPrimes::list_from_json(rest);
        }
        4 => backup(rest),
        5 => registry(rest),
        _ => key_meta(rest),
    }
});

//! tss-lib keys imported through five `mpc-node party` processes: each party reads only its
//! own keygen file from its import directory; GG20 certification runs over the mesh; the
//! group key (and so every address) stays the file's, and the imported keys sign (checked
//! by libsecp256k1 and ed25519-dalek), the GG20 key also with a presignature kept in the
//! parties' sealed pools. A party handed another party's file is named and
//! nothing becomes active.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::process::Command;

use common::{check_ecdsa, check_ed25519, vectors, Deployment, BIN};
use mpc_core::import::TssLibKey;
use mpc_core::{MessageHash, SignRequest};
use mpc_node::coordinator::Registry;

fn place(dep: &Deployment, kind: &str, name: &str, file_of: impl Fn(usize) -> usize) {
    for i in 0..5 {
        let dir = dep.dir.join(format!("party-{i}-import"));
        std::fs::create_dir_all(&dir).unwrap();
        let src = vectors(&format!("tss-lib/{kind}/keygen_data_{}.json", file_of(i)));
        std::fs::copy(src, dir.join(name)).unwrap();
    }
}

fn import(dep: &Deployment, scheme: &str, file: &str) -> std::process::Output {
    Command::new(BIN)
        .args([
            "import", "--json", "--scheme", scheme, "--file", file, "--config",
        ])
        .arg(dep.dir.join("coordinator.toml"))
        .output()
        .unwrap()
}

fn file_key(kind: &str) -> mpc_core::PublicKey {
    let bytes = std::fs::read(vectors(&format!("tss-lib/{kind}/keygen_data_0.json"))).unwrap();
    TssLibKey::from_json(&bytes).unwrap().public_key().unwrap()
}

#[test]
fn tss_lib_keys_import_across_party_processes_and_sign_under_the_same_key() {
    let dep = Deployment::with("import", 5, 3, true);
    place(&dep, "ecdsa", "ecdsa.json", |i| i);
    place(&dep, "eddsa", "eddsa.json", |i| i);
    // Party 1 is handed party 2's file: refused by party 1, nothing active.
    place(
        &dep,
        "ecdsa",
        "swapped.json",
        |i| if i == 1 { 2 } else { i },
    );

    let out = import(&dep, "gg20", "swapped.json");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("parties [1]") && err.contains("party 2"),
        "{err}"
    );
    assert!(Registry::load(&dep.dir.join("keys.json"))
        .unwrap()
        .keys
        .is_empty());

    let mut imported = Vec::new();
    for (scheme, kind, file) in [
        ("gg20", "ecdsa", "ecdsa.json"),
        ("frost-ed25519", "eddsa", "eddsa.json"),
    ] {
        let out = import(&dep, scheme, file);
        assert!(
            out.status.success(),
            "{scheme}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((v["t"].as_u64(), v["n"].as_u64()), (Some(3), Some(5)));
        // The group key is the file's: addresses do not change.
        assert_eq!(v["public_key_hex"], hex::encode(file_key(kind).as_bytes()));
        imported.push(v["key_id"].as_str().unwrap().to_string());
    }

    let registry = Registry::load(&dep.dir.join("keys.json")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = dep.client().await;
        let gg20 = registry.get(&imported[0]).unwrap();
        let msg = [0x5a; 32];
        let signed = c
            .coordinator
            .sign(&gg20.key_ref(), 3, &[SignRequest::ecdsa(msg)])
            .await
            .unwrap();
        check_ecdsa(&gg20.public_key, &msg, &signed.signatures[0]);

        // GG20 presigning through the parties: each keeps its presignature in its sealed
        // pool; the online step is one round trip, and a presignature signs once.
        let (_, report) = c
            .coordinator
            .presign(&gg20.key_ref(), 3, None)
            .await
            .unwrap();
        assert_eq!(report.attempts.len(), 1);
        let msg = MessageHash::Keccak256.digest(b"imported gg20 online");
        let online = c
            .coordinator
            .sign_presigned(
                &gg20.key_ref(),
                3,
                &SignRequest::hashed_message(MessageHash::Keccak256, b"imported gg20 online"),
            )
            .await
            .unwrap();
        assert!(!online.report.fell_back_to_full, "{}", online.report);
        check_ecdsa(&gg20.public_key, &msg, &online.signatures[0]);
        assert_eq!(c.coordinator.presignatures_ready(&gg20.key_ref(), None), 0);
        assert_eq!(c.coordinator.sync_presignatures(&gg20.key_ref()).await, 0);

        let ed = registry.get(&imported[1]).unwrap();
        let request = SignRequest::ed25519(b"imported".to_vec());
        let signed = c
            .coordinator
            .sign(&ed.key_ref(), 3, &[request])
            .await
            .unwrap();
        check_ed25519(&ed.public_key, b"imported", &signed.signatures[0]);
    });
}

/// The tss-lib key, imported as GG20, is refreshed (fresh shares and Paillier keys; its
/// presignatures of the old epoch are destroyed) and then migrated to a CGGMP21 2-of-3
/// committee: it signs under the file's `ECDSAPub` throughout.
#[test]
fn an_imported_gg20_key_is_refreshed_then_migrated_to_a_cggmp21_2of3_committee() {
    let dep = Deployment::with("import-migrate", 5, 3, true);
    place(&dep, "ecdsa", "ecdsa.json", |i| i);
    let out = import(&dep, "gg20", "ecdsa.json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key_id = v["key_id"].as_str().unwrap().to_string();
    let file_pk = hex::encode(file_key("ecdsa").as_bytes());
    let old = Registry::load(&dep.dir.join("keys.json"))
        .unwrap()
        .get(&key_id)
        .unwrap()
        .clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = dep.client().await;
        c.coordinator
            .presign(&old.key_ref(), 3, None)
            .await
            .unwrap();
    });

    let v = dep.command_json(&["refresh", "--key", &key_id]);
    assert_eq!(
        (
            v["scheme"].as_str(),
            v["epoch"].as_u64(),
            v["threshold"].as_u64()
        ),
        (Some("gg20-secp256k1"), Some(1), Some(3))
    );
    assert_eq!(v["public_key_hex"], file_pk);
    for i in 0..5 {
        let pools = dep.dir.join(format!("party-{i}/pools/{key_id}"));
        assert!(
            !pools.exists(),
            "the old epoch's presignatures are destroyed"
        );
    }
    let sign = |expect_scheme: &str, t: u16, msg: [u8; 32]| {
        let key = Registry::load(&dep.dir.join("keys.json"))
            .unwrap()
            .get(&key_id)
            .unwrap()
            .clone();
        assert_eq!(key.scheme.to_string(), expect_scheme);
        rt.block_on(async {
            let c = dep.client().await;
            let signed = c
                .coordinator
                .sign(&key.key_ref(), t, &[SignRequest::ecdsa(msg)])
                .await
                .unwrap();
            check_ecdsa(&file_key("ecdsa"), &msg, &signed.signatures[0]);
        });
    };
    sign("gg20-secp256k1", 3, [0x11; 32]);

    let v = dep.command_json(&[
        "reshare",
        "--key",
        &key_id,
        "--parties",
        "0,1,2",
        "--threshold",
        "2",
        "--scheme",
        "cggmp21",
    ]);
    assert_eq!(
        (
            v["scheme"].as_str(),
            v["epoch"].as_u64(),
            v["threshold"].as_u64()
        ),
        (Some("cggmp21-secp256k1"), Some(2), Some(2))
    );
    assert_eq!(v["parties"], serde_json::json!([0, 1, 2]));
    assert_eq!(v["public_key_hex"], file_pk);
    sign("cggmp21-secp256k1", 2, [0x22; 32]);
    // Parties 3 and 4 left the committee: they hold no share of the key any more.
    for i in 3..5 {
        let keys = dep.dir.join(format!("party-{i}/keys"));
        let left: Vec<_> = std::fs::read_dir(&keys)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with(&key_id))
            .collect();
        assert!(left.is_empty(), "party {i} still holds {left:?}");
    }
}

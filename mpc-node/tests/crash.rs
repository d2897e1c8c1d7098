//! Crash safety of the two-phase epoch switch, through `mpc-node` party processes: a
//! refresh interrupted with a party down before it stores its new share, killed while it
//! writes it, or stopped after storing but before reporting; the coordinator stopped after
//! every new share is stored but before the switch; an old party down when its old share is
//! to be destroyed. In every case the old or the new committee signs (independent
//! verifier), and running the command again finishes the step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::process::Command;

use common::{Deployment, Fault, BIN};
use mpc_node::lifecycle::ReshareRequest;

fn refresh_fails(dep: &Deployment, key_id: &str) -> String {
    let out = Command::new(BIN)
        .args(["refresh", "--key", key_id, "--config"])
        .arg(dep.dir.join("coordinator.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "the refresh cannot finish");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The key is at `epoch` with nothing under way or left to destroy.
fn settled(dep: &Deployment, key_id: &str, epoch: u32) {
    let key = dep.registered(key_id);
    assert_eq!(
        (key.epoch, key.transition, key.retire),
        (epoch, None, Vec::new())
    );
}

#[test]
fn an_interrupted_lifecycle_step_leaves_a_committee_that_signs_and_a_rerun_finishes_it() {
    let mut dep = Deployment::new("crash", true);
    dep.short_ceremonies(8);
    let key_id = dep.keygen_id("frost-ed25519");
    let dir = dep.dir.clone();
    let slot = |party: u16, epoch: u32| {
        dir.join(format!("party-{party}"))
            .join(mpc_node::vault::slot_dir(&key_id, epoch))
    };

    // 1. Party 2 is down before it stores anything: the refresh is refused up front.
    dep.kill(2);
    let err = refresh_fails(&dep, &key_id);
    assert!(err.contains("parties [2]"), "{err}");
    settled(&dep, &key_id, 0);
    assert_eq!(dep.signs(&key_id, 1), vec![0, 1], "the old committee signs");
    dep.parties[2] = Some(dep.spawn(2));
    assert_eq!(dep.command_json(&["refresh", "--key", &key_id])["epoch"], 1);
    settled(&dep, &key_id, 1);

    // 2. Party 2 is killed while it writes its new share (the sealed file, no meta).
    dep.kill(2);
    let party = dep.in_process(2, Fault::TornWrite);
    let err = refresh_fails(&dep, &key_id);
    assert!(err.contains("parties [2]"), "{err}");
    party.stop();
    assert!(slot(2, 2).join("share.sealed").exists());
    assert!(!slot(2, 2).join("meta.json").exists(), "a torn write");
    assert!(
        slot(0, 2).join("meta.json").exists(),
        "party 0 stored epoch 2"
    );
    settled(&dep, &key_id, 1);
    assert_eq!(dep.signs(&key_id, 2), vec![0, 1], "epoch 1 signs");
    dep.parties[2] = Some(dep.spawn(2));
    assert_eq!(dep.command_json(&["refresh", "--key", &key_id])["epoch"], 2);
    settled(&dep, &key_id, 2);
    assert!(!slot(0, 1).exists(), "epoch 1 is destroyed");

    // 3. Party 2 stores its new share, then stops before it reports.
    dep.kill(2);
    let party = dep.in_process(2, Fault::HangAfterStoring);
    let err = refresh_fails(&dep, &key_id);
    assert!(err.contains("parties [2]"), "{err}");
    party.stop();
    assert!(slot(2, 3).join("meta.json").exists());
    assert!(!slot(2, 3).join("active").exists(), "stored, never active");
    settled(&dep, &key_id, 2);
    assert_eq!(dep.signs(&key_id, 3), vec![0, 1], "epoch 2 signs");
    dep.parties[2] = Some(dep.spawn(2));
    dep.kill(0);
    // The old epoch also signs with the party that stored a pending new share.
    assert_eq!(dep.signs(&key_id, 4), vec![1, 2]);
    dep.parties[0] = Some(dep.spawn(0));
    assert_eq!(dep.command_json(&["refresh", "--key", &key_id])["epoch"], 3);
    settled(&dep, &key_id, 3);

    // 4. The coordinator stops after every new share is stored, before the switch.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let staged = rt.block_on(async {
        let c = dep.client().await;
        let key = dep.registered(&key_id);
        c.stage(&ReshareRequest::refresh(&key), &|_| {})
            .await
            .unwrap()
    });
    assert_eq!((staged.epoch, staged.stored_hashes.len()), (4, 3));
    assert_eq!(dep.registered(&key_id).epoch, 3);
    for p in 0..3 {
        assert!(slot(p, 4).join("meta.json").exists());
        assert!(!slot(p, 4).join("active").exists());
    }
    assert_eq!(dep.signs(&key_id, 5), vec![0, 1], "epoch 3 signs");
    let config = dep.dir.join("coordinator.toml");
    let (_, stderr) = dep.run_json(&[
        "refresh",
        "--key",
        &key_id,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains("finishing the resharing to epoch 4"),
        "{stderr}"
    );
    settled(&dep, &key_id, 4);
    assert_eq!(dep.signs(&key_id, 6), vec![0, 1], "epoch 4 signs");

    // 5. Party 1 leaves the committee while it is down: the switch happens without it,
    // and its old share is destroyed when it is back and the command runs again. The new
    // committee is parties 0 and 2 (share indices 0 and 1).
    dep.kill(1);
    let reshare = [
        "reshare",
        "--key",
        &key_id,
        "--parties",
        "0,2",
        "--threshold",
        "2",
    ];
    let v = dep.command_json(&reshare);
    assert_eq!(
        (v["epoch"].as_u64(), v["parties"].clone()),
        (Some(5), serde_json::json!([0, 2]))
    );
    let key = dep.registered(&key_id);
    assert_eq!(key.transition, None);
    let due: Vec<(u16, u32, bool)> = key
        .retire
        .iter()
        .map(|r| (r.party, r.epoch, r.pending_only))
        .collect();
    assert_eq!(
        due,
        vec![(1, 4, false), (1, 5, true)],
        "party 1 still holds epoch 4 (and may hold a pending share of epoch 5)"
    );
    assert_eq!(dep.signs(&key_id, 7), vec![0, 2], "epoch 5 signs");
    assert!(slot(1, 4).exists());
    dep.parties[1] = Some(dep.spawn(1));
    dep.command_json(&reshare);
    settled(&dep, &key_id, 5);
    assert!(!slot(1, 4).exists(), "party 1 destroyed its old share");
    assert_eq!(dep.signs(&key_id, 8), vec![0, 2]);
}

/// A party remembers the session ids it joined across a restart (its session journal): a
/// coordinator cannot make a restarted party run a session again.
#[test]
fn a_session_id_is_refused_after_the_party_restarts() {
    use mpc_transport::control::{FailureKind, Request, Response};
    let mut dep = Deployment::new("replay", true);
    let key_id = dep.keygen_id("frost-ed25519");
    let key = dep.registered(&key_id);
    let session = mpc_core::SessionId([0x5e; 32]);
    let ask = |dep: &Deployment| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let c = dep.client().await;
            c.coordinator
                .call_party(
                    1,
                    Request::Sign {
                        session,
                        key: key.key_ref(),
                        signers: vec![0, 1],
                        requests: vec![common::request(key.scheme, [7; 32])],
                        // Party 0 is never asked: the run waits, then times out.
                        round_timeout_ms: 300,
                    },
                )
                .await
                .unwrap()
        })
    };
    let first = ask(&dep);
    assert!(
        matches!(&first, Response::Failed(f) if f.kind == FailureKind::Timeout),
        "{first:?}"
    );
    dep.kill(1);
    dep.parties[1] = Some(dep.spawn(1));
    let again = ask(&dep);
    assert!(
        matches!(&again, Response::Failed(f) if f.kind == FailureKind::BadRequest && f.message.contains("already used")),
        "{again:?}"
    );
}

//! A key's lifecycle through `mpc-node` party processes (real sockets, sealed stores) and
//! the commands an operator runs: a 2-of-3 key of every engine made by `keygen` grows to
//! 3-of-5 with two parties made by `add-party` (`reshare`), keeps its group key and its
//! Bitcoin, EVM and Solana addresses, signs with two different 3-subsets of the new
//! committee (independent verifiers), and refuses its old epoch. This one runs with the
//! parties reaching each other through a NATS broker (`nats-server`, started for the test):
//! every engine's ceremonies and signatures, parties added, restarted (new sealing cards)
//! and down. A key is refreshed (every public share changes) and a party whose whole store
//! is lost is re-provisioned (`add-party --replace`), repaired (`repair`) and signs again;
//! that one, like the other node tests, over mutual TLS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{request, Deployment};
use mpc_core::chain::ChainEncoder as _;
use mpc_core::{PublicKey, SchemeId};
use mpc_node::coordinator::Registry;
use mpc_transport::control::{Request, Response};

fn add_party(dep: &Deployment) -> u64 {
    let dir = dep.dir.to_str().unwrap();
    dep.run_json(&["add-party", "--dir", dir]).0["party"]
        .as_u64()
        .unwrap()
}

/// Every address the key has on the chains its engine signs for.
fn addresses(scheme: SchemeId, pk: &PublicKey) -> Vec<String> {
    use chain_btc::{AddressKind, BtcEncoder};
    let net = bitcoin::Network::Regtest;
    match scheme {
        SchemeId::FrostEd25519 => vec![chain_sol::SolEncoder::new().address(pk).unwrap()],
        SchemeId::FrostSecp256k1Tr => {
            vec![BtcEncoder::new(net, AddressKind::P2tr).address(pk).unwrap()]
        }
        _ => vec![
            BtcEncoder::new(net, AddressKind::P2wpkh)
                .address(pk)
                .unwrap(),
            chain_evm::EvmEncoder::new(1).address(pk).unwrap(),
        ],
    }
}

/// Each party's public share of the key, as party `from`'s share gives them.
fn public_shares(dep: &Deployment, key_id: &str, from: u16) -> Vec<String> {
    let registry = Registry::load(&dep.dir.join("keys.json")).unwrap();
    let key = registry.get(key_id).unwrap().clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = dep.client().await;
        let committee = key.committee();
        let r = c
            .coordinator
            .call_party(
                from,
                Request::ReshareSetup {
                    key: key.key_ref(),
                    dealers: committee[..usize::from(key.t)].to_vec(),
                    new_committee: committee.clone(),
                    new_threshold: key.t,
                },
            )
            .await
            .unwrap();
        let Response::ReshareSetup { setup } = r else {
            panic!("{r:?}")
        };
        setup
            .old_parties
            .iter()
            .map(|p| hex::encode(&p.public_share))
            .collect()
    })
}

/// The old epoch of a key no longer signs: its parties refuse it by epoch.
fn old_epoch_refused(dep: &Deployment, key: &mpc_node::coordinator::RegisteredKey) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = dep.client().await;
        let err = c
            .coordinator
            .sign(&key.key_ref(), key.t, &[request(key.scheme, [9; 32])])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("epoch"), "{err}");
    });
}

#[test]
fn every_engine_grows_from_2of3_to_3of5_with_two_new_parties_under_the_same_addresses() {
    let mut dep = Deployment::over_nats("lifecycle-grow", 3, 2, true);
    let network = |i: u16| {
        let path = dep.dir.join(format!("party-{i}.toml"));
        mpc_node::config::PartyConfig::load(&path).unwrap().network
    };
    assert_eq!(network(0).transport, mpc_node::config::MeshTransport::Nats);
    assert_eq!((network(0).mesh_listen, network(0).peers.len()), (None, 0));
    let engines = [
        ("frost-ed25519", SchemeId::FrostEd25519),
        ("frost-taproot", SchemeId::FrostSecp256k1Tr),
        ("cggmp21", SchemeId::Cggmp21Secp256k1),
        ("gg20", SchemeId::Gg20Secp256k1),
    ];
    let mut keys = Vec::new();
    for (name, scheme) in engines {
        let key_id = dep.keygen_id(name);
        assert_eq!(dep.signs(&key_id, 1), vec![0, 1]);
        keys.push((key_id, scheme));
    }
    let before = Registry::load(&dep.dir.join("keys.json")).unwrap();

    // Two new parties; the running ones restart to know them.
    assert_eq!((add_party(&dep), add_party(&dep)), (3, 4));
    for i in 0..5 {
        assert_eq!(network(i).nats.unwrap().parties, 5, "party {i}");
    }
    for i in 0..3 {
        dep.kill(i);
    }
    dep.parties.clear();
    for i in 0..5 {
        let c = dep.spawn(i);
        dep.parties.push(Some(c));
    }

    for (key_id, scheme) in &keys {
        let old = before.get(key_id).unwrap();
        let v = dep.command_json(&[
            "reshare",
            "--key",
            key_id,
            "--parties",
            "0,1,2,3,4",
            "--threshold",
            "3",
        ]);
        assert_eq!(v["epoch"], 1);
        assert_eq!(v["threshold"], 3);
        assert_eq!(v["parties"], serde_json::json!([0, 1, 2, 3, 4]));
        assert_eq!(v["public_key_hex"], hex::encode(old.public_key.as_bytes()));
        let now = Registry::load(&dep.dir.join("keys.json")).unwrap();
        let new = now.get(key_id).unwrap();
        assert_eq!(new.transition, None);
        assert!(new.retire.is_empty(), "the old epoch is retired everywhere");
        assert_eq!(
            addresses(*scheme, &new.public_key),
            addresses(*scheme, &old.public_key),
            "every address stays"
        );
        assert_eq!(dep.signs(key_id, 2), vec![0, 1, 2]);
        old_epoch_refused(&dep, old);
    }
    // A second 3-subset, with both new parties.
    dep.kill(0);
    dep.kill(1);
    for (key_id, _) in &keys {
        assert_eq!(dep.signs(key_id, 3), vec![2, 3, 4]);
    }
}

#[test]
fn a_refreshed_key_has_new_shares_and_a_repaired_party_signs_again() {
    let mut dep = Deployment::new("lifecycle-repair", true);
    for (name, scheme) in [
        ("frost-ed25519", SchemeId::FrostEd25519),
        ("cggmp21", SchemeId::Cggmp21Secp256k1),
    ] {
        let key_id = dep.keygen_id(name);
        let old = Registry::load(&dep.dir.join("keys.json"))
            .unwrap()
            .get(&key_id)
            .unwrap()
            .clone();
        let shares_before = public_shares(&dep, &key_id, 0);

        // Refresh: every public share changes, the key does not, the old epoch is refused.
        let v = dep.command_json(&["refresh", "--key", &key_id]);
        assert_eq!(
            (v["epoch"].as_u64(), v["public_key_hex"].as_str()),
            (
                Some(1),
                Some(hex::encode(old.public_key.as_bytes()).as_str())
            )
        );
        let shares_after = public_shares(&dep, &key_id, 0);
        assert_eq!(shares_after.len(), 3);
        for (a, b) in shares_before.iter().zip(&shares_after) {
            assert_ne!(a, b, "{scheme}: every share changes");
        }
        assert_eq!(public_shares(&dep, &key_id, 2), shares_after);
        dep.signs(&key_id, 4);
        old_epoch_refused(&dep, &old);

        // Party 1's server is lost with its whole store; it is re-provisioned (new
        // certificate and TLS key, same index and config) and holds no share.
        dep.kill(1);
        std::fs::remove_dir_all(dep.dir.join("party-1")).unwrap();
        dep.run_json(&[
            "add-party",
            "--replace",
            "1",
            "--dir",
            dep.dir.to_str().unwrap(),
        ]);
        dep.parties[1] = Some(dep.spawn(1));
        let v = dep.command_json(&["repair", "--key", &key_id, "--party", "1"]);
        assert_eq!(v["epoch"], 2);
        // Party 1 signs, with party 2 (party 0 down).
        dep.kill(0);
        assert_eq!(dep.signs(&key_id, 5), vec![1, 2]);
        dep.parties[0] = Some(dep.spawn(0));
    }
}

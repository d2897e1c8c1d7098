//! The party's policy on decoded transactions, and its audit log: a PSBT with SIGHASH_NONE,
//! one with SINGLE|ANYONECANPAY, a P2WPKH input without its previous transaction (or with a
//! previous transaction that disagrees with the claimed amount), a value or fee above the
//! limit, an EVM transaction for another chain id or above its value limit, a Solana
//! transfer above the limit and a bare digest are each refused naming the rule; the
//! allowed ones derive exactly the request the encoder makes. Every decision is one audit
//! record; `mpc-node audit verify` accepts the log, and reports an edited or deleted record.
//! A bare digest asked of a presignature is refused (and logged so) even where the config
//! allows raw digests for interactive signing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bitcoin::psbt::Psbt;
use chain_btc::{AddressKind, BtcEncoder};
use chain_evm::alloy_primitives::U256;
use chain_evm::EvmEncoder;
use chain_sol::SolEncoder;
use common::fresh_dir;
use common::tx::{evm_transfer, p2wpkh_psbt, sol_transfer, Spend};
use mpc_core::chain::ChainEncoder;
use mpc_core::seen::MessageHash;
use mpc_core::{PublicKey, SchemeId, SessionId, SignRequest};
use mpc_node::audit::{AuditLog, Decision};
use mpc_node::policy::{NodePolicy, PolicyConfig};
use mpc_transport::{KeyRef, RequestContext, RequestPolicy};

const POLICY: &str = r#"
[btc]
networks = ["regtest"]
max_sent_sats = 50000
max_fee_sats = 5000

[evm]
chain_ids = [1]
max_value_wei = "1000000000000000000"

[sol]
max_lamports = 1000000
"#;

fn ecdsa_key() -> KeyRef {
    let secp = secp256k1::Secp256k1::new();
    let sk = secp256k1::SecretKey::from_slice(&[0x11; 32]).unwrap();
    let pk = secp256k1::PublicKey::from_secret_key(&secp, &sk).serialize();
    KeyRef {
        scheme: SchemeId::Cggmp21Secp256k1,
        public_key: PublicKey::secp256k1(&pk).unwrap(),
        epoch: 0,
    }
}

fn ed_key() -> KeyRef {
    // The Ed25519 base point: a valid key whose secret nobody needs here.
    let b =
        hex::decode("5866666666666666666666666666666666666666666666666666666666666666").unwrap();
    KeyRef {
        scheme: SchemeId::FrostEd25519,
        public_key: PublicKey::ed25519(&b).unwrap(),
        epoch: 0,
    }
}

/// A spend of 100 000 sats from the key: `send` to a stranger, the rest minus `fee` back
/// to the key. With `prev`, the input carries its previous transaction (claiming `claimed`
/// sats, which the previous transaction may contradict).
fn psbt(send: u64, fee: u64, sighash: Option<u32>, prev: bool, claimed: u64) -> Psbt {
    let spend = Spend {
        sighash,
        with_prev: prev,
        claimed,
        ..Spend::new(100_000, send, fee)
    };
    p2wpkh_psbt(&ecdsa_key().public_key, &spend).0
}

fn btc_request(p: &Psbt) -> SignRequest {
    BtcEncoder::new(bitcoin::Network::Regtest, AddressKind::P2wpkh)
        .requests(p, &ecdsa_key().public_key)
        .unwrap()
        .remove(0)
}

fn evm_request(chain_id: u64, value: U256) -> SignRequest {
    let tx = evm_transfer(chain_id, 0, value);
    EvmEncoder::new(chain_id)
        .requests(&tx, &ecdsa_key().public_key)
        .unwrap()
        .remove(0)
}

fn sol_request(lamports: u64) -> SignRequest {
    let tx = sol_transfer(&ed_key().public_key, lamports);
    SolEncoder::new()
        .requests(&tx, &ed_key().public_key)
        .unwrap()
        .remove(0)
}

#[test]
fn policy_refuses_each_unsafe_transaction_naming_the_rule_and_logs_every_decision() {
    let d = fresh_dir("policy");
    std::fs::create_dir_all(&d).unwrap();
    let log_path = d.join("audit.jsonl");
    let config: PolicyConfig = toml::from_str(POLICY).unwrap();
    let policy = NodePolicy::new(&config, Some(AuditLog::open(&log_path).unwrap())).unwrap();
    let ctx = RequestContext {
        session: Some(SessionId([5; 32])),
        coordinator: Some("coordinator.mpc.test".into()),
        presigned: false,
    };
    let (ec, ed) = (ecdsa_key(), ed_key());
    const ALL: u32 = 1;
    let cases: Vec<(&str, KeyRef, SignRequest, Option<&str>)> = vec![
        (
            "btc allowed",
            ec.clone(),
            btc_request(&psbt(20_000, 1_000, None, true, 100_000)),
            None,
        ),
        (
            "btc ALL explicit",
            ec.clone(),
            btc_request(&psbt(20_000, 1_000, Some(ALL), true, 100_000)),
            None,
        ),
        (
            "btc NONE",
            ec.clone(),
            btc_request(&psbt(20_000, 1_000, Some(2), true, 100_000)),
            Some("btc.sighash"),
        ),
        (
            "btc SINGLE|ACP",
            ec.clone(),
            btc_request(&psbt(20_000, 1_000, Some(0x83), true, 100_000)),
            Some("btc.sighash"),
        ),
        (
            "btc no previous tx",
            ec.clone(),
            btc_request(&psbt(20_000, 1_000, None, false, 100_000)),
            Some("btc.previous_tx"),
        ),
        // The coordinator claims 90 000 sats (the fee looks small); the previous tx says 100 000.
        (
            "btc amount lie",
            ec.clone(),
            btc_request(&psbt(20_000, 1_000, None, true, 90_000)),
            Some("btc.previous_tx"),
        ),
        (
            "btc above value",
            ec.clone(),
            btc_request(&psbt(60_000, 1_000, None, true, 100_000)),
            Some("btc.max_sent"),
        ),
        (
            "btc above fee",
            ec.clone(),
            btc_request(&psbt(20_000, 9_000, None, true, 100_000)),
            Some("btc.max_fee"),
        ),
        (
            "evm allowed",
            ec.clone(),
            evm_request(1, U256::from(10u64).pow(U256::from(17u64))),
            None,
        ),
        (
            "evm chain id",
            ec.clone(),
            evm_request(5, U256::from(1u64)),
            Some("evm.chain_id"),
        ),
        (
            "evm above value",
            ec.clone(),
            evm_request(1, U256::from(10u64).pow(U256::from(19u64))),
            Some("evm.max_value"),
        ),
        ("sol allowed", ed.clone(), sol_request(500_000), None),
        (
            "sol above limit",
            ed.clone(),
            sol_request(2_000_000),
            Some("sol.max_lamports"),
        ),
        (
            "raw digest",
            ec.clone(),
            SignRequest::ecdsa([1; 32]),
            Some("raw_digest"),
        ),
    ];
    for (what, key, req, refused_by) in &cases {
        let out = policy.approve_in(&ctx, key, req);
        match refused_by {
            None => {
                let derived = out.unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(derived.request().payload, req.payload, "{what}");
            }
            Some(rule) => {
                let e = out.expect_err(what);
                assert!(e.contains(&format!("rule {rule}:")), "{what}: {e}");
            }
        }
    }
    // SIGHASH_ALL is not what a P2TR input may use by default, nor is this key Taproot; a
    // FROST Taproot key asked to sign the P2WPKH spend has nothing to sign.
    let tr = KeyRef {
        scheme: SchemeId::FrostSecp256k1Tr,
        ..ec.clone()
    };
    assert!(policy
        .approve_in(
            &ctx,
            &tr,
            &btc_request(&psbt(20_000, 1_000, None, true, 100_000))
        )
        .is_err());
    drop(policy);

    // One record per decision, in order, with the rule, the session and the coordinator.
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), cases.len() + 1);
    for (line, (what, _, _, refused_by)) in lines.iter().zip(&cases) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let r = &v["record"];
        let decision: Decision = serde_json::from_value(r["decision"].clone()).unwrap();
        match refused_by {
            None => {
                assert_eq!(decision, Decision::Signed, "{what}");
                assert!(r["summary"].as_str().unwrap().len() > 10, "{what}");
            }
            Some(rule) => {
                assert_eq!(decision, Decision::Refused, "{what}");
                assert_eq!(r["rule"], *rule, "{what}");
            }
        }
        assert_eq!(r["session"], hex::encode([5u8; 32]));
        assert_eq!(r["coordinator"], "coordinator.mpc.test");
    }

    // `mpc-node audit verify` accepts the log ...
    let config_path = d.join("party-0.toml");
    std::fs::write(
        &config_path,
        concat!(
            "index = 0\nstore = \"store\"\naudit_log = \"audit.jsonl\"\n",
            "[network]\ndomain = \"mpc.test\"\nmesh_listen = \"127.0.0.1:1\"\n",
            "control_listen = \"127.0.0.1:2\"\npeers = [\"127.0.0.1:1\"]\n",
            "ca_cert = \"ca.pem\"\ncert = \"party-0.pem\"\ntls_key = \"tls.key\"\n",
            "[kek]\nkey_file = \"kek\"\n",
        ),
    )
    .unwrap();
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mpc-node"))
            .args(["audit", "verify", "--config"])
            .arg(&config_path)
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains(&format!("{} records", lines.len())));

    // ... reports an edited record (a refusal turned into a signature) ...
    let edited = text.replacen("\"refused\"", "\"signed\"", 1);
    let first_refusal = lines
        .iter()
        .position(|l| l.contains("\"refused\""))
        .unwrap()
        + 1;
    std::fs::write(&log_path, &edited).unwrap();
    let out = verify();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("line {first_refusal}:")) && err.contains("edited"),
        "{err}"
    );

    // ... a deleted record in the middle ...
    let mut cut: Vec<&str> = lines.clone();
    cut.remove(3);
    std::fs::write(&log_path, cut.join("\n") + "\n").unwrap();
    let out = verify();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 4:") && err.contains("record 3 is missing"),
        "{err}"
    );

    // ... and deleted last records (found through the head file).
    let short: Vec<&str> = lines[..lines.len() - 2].to_vec();
    std::fs::write(&log_path, short.join("\n") + "\n").unwrap();
    let out = verify();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("records are missing"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_bare_digest_for_a_presignature_is_logged_as_refused_even_where_raw_digests_are_allowed() {
    let d = fresh_dir("policy-presigned");
    std::fs::create_dir_all(&d).unwrap();
    let log_path = d.join("audit.jsonl");
    let config: PolicyConfig = toml::from_str("danger_allow_raw_digests = true").unwrap();
    let policy = NodePolicy::new(&config, Some(AuditLog::open(&log_path).unwrap())).unwrap();
    let key = ecdsa_key();
    let bare = SignRequest::ecdsa([1; 32]);
    let hashed = SignRequest::hashed_message(MessageHash::Sha256, b"transfer 5 to bob");
    let interactive = RequestContext {
        session: Some(SessionId([6; 32])),
        ..RequestContext::default()
    };
    let online = RequestContext {
        session: Some(SessionId([7; 32])),
        presigned: true,
        ..RequestContext::default()
    };
    // Interactive signing takes the bare digest on trust (the danger the flag names) ...
    assert!(policy.approve_in(&interactive, &key, &bare).is_ok());
    // ... the online step of a presignature refuses it, naming the rule ...
    let e = policy.approve_in(&online, &key, &bare).unwrap_err();
    assert!(e.contains("rule presign_digest:"), "{e}");
    // ... and signs the digest of a message the party hashed itself.
    let seen = policy.approve_in(&online, &key, &hashed).unwrap();
    assert!(seen.for_presignature().is_ok());
    drop(policy);

    let text = std::fs::read_to_string(&log_path).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["record"].clone())
        .collect();
    let decisions: Vec<(Decision, &str)> = records
        .iter()
        .map(|r| {
            (
                serde_json::from_value(r["decision"].clone()).unwrap(),
                r["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            (Decision::Signed, "allowed"),
            (Decision::Refused, "presign_digest"),
            (Decision::Signed, "allowed"),
        ]
    );
    assert_eq!(records[1]["session"], hex::encode([7u8; 32]));
    let _ = std::fs::remove_dir_all(&d);
}

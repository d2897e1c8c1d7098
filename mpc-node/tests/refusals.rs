//! `mpc-node sign` through three party processes whose policies decode what they sign:
//! allowed Bitcoin, EVM and Solana transactions come back signed (checked by Bitcoin Core's
//! interpreter, alloy's signer recovery and ed25519-dalek); a PSBT with SIGHASH_NONE, one
//! with SINGLE|ANYONECANPAY, a P2WPKH input without its previous transaction, a value above
//! the limit, an EVM transaction for another chain id and a Solana transfer above the limit
//! are each refused, the refusal naming the party and the rule, nothing signed; each
//! decision is a record in the asked parties' audit logs, and `mpc-node audit verify`
//! accepts every log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use bitcoin::psbt::Psbt;
use bitcoin::TxOut;
use chain_evm::alloy_primitives::U256;
use common::tx::{evm_transfer, p2wpkh_psbt, sol_transfer, Spend};
use common::{check_ed25519, Deployment, BIN};
use mpc_core::PublicKey;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn key_of(dep: &Deployment, scheme: &str) -> (String, PublicKey) {
    let out = dep.keygen(scheme);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pk = hex::decode(v["public_key_hex"].as_str().unwrap()).unwrap();
    let pk = if pk.len() == 33 {
        PublicKey::secp256k1(&pk).unwrap()
    } else {
        PublicKey::ed25519(&pk).unwrap()
    };
    (v["key_id"].as_str().unwrap().to_string(), pk)
}

fn sign(dep: &Deployment, key: &str, chain: &str, tx: &str) -> std::process::Output {
    let file = dep.dir.join(format!("tx-{chain}-{}.txt", tx.len()));
    std::fs::write(&file, tx).unwrap();
    Command::new(BIN)
        .args(["sign", "--json", "--key", key, "--chain", chain, "--tx"])
        .arg(&file)
        .arg("--config")
        .arg(dep.dir.join("coordinator.toml"))
        .output()
        .unwrap()
}

/// A spend of 2 000 000 sats from the key's P2WPKH address: `send` to a stranger, change
/// back, 1 000 sats fee.
fn psbt(key: &PublicKey, send: u64, sighash: Option<u32>, with_prev: bool) -> (Psbt, TxOut) {
    let spend = Spend {
        sighash,
        with_prev,
        ..Spend::new(2_000_000, send, 1_000)
    };
    p2wpkh_psbt(key, &spend)
}

fn evm_tx(chain_id: u64) -> String {
    let tx = evm_transfer(chain_id, 3, U256::from(1_000_000_000_000_000u64));
    hex::encode(chain_evm::encode_unsigned_2718(&tx))
}

fn sol_tx(key: &PublicKey, lamports: u64) -> String {
    B64.encode(wincode::serialize(&sol_transfer(key, lamports)).unwrap())
}

fn refused(out: &std::process::Output, rule: &str) {
    assert!(!out.status.success(), "signed although it must be refused");
    assert!(out.stdout.is_empty(), "nothing signed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused") && err.contains("party "),
        "names the party: {err}"
    );
    assert!(
        err.contains(&format!("rule {rule}:")),
        "names rule {rule}: {err}"
    );
}

fn audit_records(dir: &Path, i: usize) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join(format!("party-{i}/audit.jsonl")))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["record"].clone())
        .collect()
}

#[test]
fn parties_sign_what_their_policy_allows_and_refuse_the_rest_naming_the_rule() {
    let dep = Deployment::new("refusals", false);
    let (ec_id, ec) = key_of(&dep, "cggmp21");
    let (ed_id, ed) = key_of(&dep, "frost-ed25519");

    // Allowed: a P2WPKH spend with its previous transaction, SIGHASH_ALL.
    let (p, spent) = psbt(&ec, 500_000, None, true);
    let out = sign(&dep, &ec_id, "btc", &B64.encode(p.serialize()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let raw = hex::decode(v["tx"].as_str().unwrap()).unwrap();
    bitcoinconsensus::verify_with_flags(
        spent.script_pubkey.as_bytes(),
        spent.value.to_sat(),
        &raw,
        None,
        0,
        bitcoinconsensus::VERIFY_ALL_PRE_TAPROOT,
    )
    .expect("Bitcoin Core's interpreter accepts the spend");

    // Allowed: an EIP-1559 transfer on chain 1; the signer recovers to the key's address.
    let out = sign(&dep, &ec_id, "evm", &evm_tx(1));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let raw = hex::decode(v["tx"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let env = <chain_evm::alloy_consensus::TxEnvelope as alloy_eips::eip2718::Decodable2718>::decode_2718(&mut raw.as_slice()).unwrap();
    let signer = alloy_consensus::transaction::SignerRecoverable::recover_signer(&env).unwrap();
    assert_eq!(
        signer.to_checksum(None),
        chain_evm::address(&ec).unwrap().to_checksum(None)
    );

    // Allowed: a Solana transfer under the limit; ed25519-dalek checks the fee payer's signature.
    let out = sign(&dep, &ed_id, "sol", &sol_tx(&ed, 5_000_000));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tx: chain_sol::solana_transaction::versioned::VersionedTransaction =
        wincode::deserialize(&B64.decode(v["tx"].as_str().unwrap()).unwrap()).unwrap();
    let sig = mpc_core::Signature::Ed25519 {
        bytes: tx.signatures[0].as_ref().try_into().unwrap(),
    };
    check_ed25519(&ed, &tx.message.serialize(), &sig);

    let before: Vec<usize> = (0..3).map(|i| audit_records(&dep.dir, i).len()).collect();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "btc",
            B64.encode(psbt(&ec, 500_000, Some(2), true).0.serialize()),
            "btc.sighash",
            "SIGHASH_NONE",
        ),
        (
            "btc",
            B64.encode(psbt(&ec, 500_000, Some(0x83), true).0.serialize()),
            "btc.sighash",
            "SINGLE|ANYONECANPAY",
        ),
        (
            "btc",
            B64.encode(psbt(&ec, 500_000, None, false).0.serialize()),
            "btc.previous_tx",
            "no previous tx",
        ),
        (
            "btc",
            B64.encode(psbt(&ec, 1_500_000, None, true).0.serialize()),
            "btc.max_sent",
            "above the value limit",
        ),
        ("evm", evm_tx(5), "evm.chain_id", "another chain id"),
        (
            "sol",
            sol_tx(&ed, 20_000_000_000),
            "sol.max_lamports",
            "above the lamport limit",
        ),
    ];
    for (chain, tx, rule, what) in &cases {
        let key = if *chain == "sol" { &ed_id } else { &ec_id };
        let out = sign(&dep, key, chain, tx);
        eprintln!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim());
        refused(&out, rule);
    }

    // Every asked party logged every refusal; no signature was logged for them.
    let mut asked_total = 0;
    for i in 0..3 {
        let records = audit_records(&dep.dir, i);
        let new = &records[before[i]..];
        for r in new {
            assert_eq!(r["decision"], "refused", "party {i}: {r}");
        }
        asked_total += new.len();
        let rules: Vec<&str> = new.iter().map(|r| r["rule"].as_str().unwrap()).collect();
        for (_, _, rule, _) in &cases {
            if !new.is_empty() {
                assert!(
                    rules.contains(rule),
                    "party {i} has no {rule} record: {rules:?}"
                );
            }
        }
        let out = Command::new(BIN)
            .args(["audit", "verify", "--config"])
            .arg(dep.dir.join(format!("party-{i}.toml")))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Each refusal was decided by at least the two parties of a quorum.
    assert!(asked_total >= 2 * cases.len(), "{asked_total}");
}

//! The quickstart's `--json` object, read back from JSON only, is accepted by each chain's
//! own tooling: Bitcoin Core's script interpreter (every input, all flags, Taproot with the
//! listed prevouts), an EVM (revm: both transfers execute in nonce order and move the value)
//! and Solana's runtime (LiteSVM with signature and blockhash checks: both transfers execute
//! and move the lamports).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction as _, TxEnvelope, Typed2718};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::U256;
use base64::Engine as _;
use chain_sol::solana_address::Address as SolAddress;
use chain_sol::solana_transaction::versioned::VersionedTransaction;
use mpc_core::*;
use mpc_examples::chains::*;
use mpc_transport::DriveOptions;
use revm::context::{ContextTr, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::state::AccountInfo;
use revm::{Context, Database, ExecuteCommitEvm, MainBuilder, MainContext};

fn report_json() -> serde_json::Value {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/test-only-paillier-primes.json"
    );
    let primes = PaillierPrimes::list_from_json(&std::fs::read(file).unwrap()).unwrap();
    let configs = primes.into_iter().take(3).map(Into::into).collect();
    let ecdsa = mpc_core::local::keygen::<Cggmp21>(2, configs).unwrap();
    let ed25519 = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
    let taproot = mpc_core::local::keygen::<FrostTaproot>(2, vec![(); 3]).unwrap();
    let settings = Settings {
        signers: vec![0, 2],
        evm_chain_id: 1,
        sol_blockhash: local_runtime_blockhash(),
        drive: DriveOptions::default(),
    };
    let keys = Keys {
        ecdsa: &ecdsa,
        ed25519: &ed25519,
        taproot: &taproot,
    };
    let (report, _) = sign_demo_transactions(&keys, &settings).unwrap();
    serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap()
}

fn keys_of(v: &serde_json::Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn check_all(json: &serde_json::Value) {
    // `mpc-node demo --json` adds "keys": one entry per key of the deployment.
    let mut fields = keys_of(json);
    if fields.remove("keys") {
        for k in json["keys"].as_array().unwrap() {
            assert_eq!(
                keys_of(k),
                BTreeSet::from(["key_id", "scheme", "public_key_hex"])
            );
            assert!(hex::decode(k["public_key_hex"].as_str().unwrap()).is_ok());
        }
    }
    assert_eq!(fields, BTreeSet::from(["btc", "evm", "sol"]));
    check_btc(&json["btc"]);
    check_evm(&json["evm"]);
    check_sol(&json["sol"]);
}

#[test]
fn quickstart_json_is_accepted_by_each_chains_tooling() {
    check_all(&report_json());
}

/// Checks a file written by `quickstart --json > FILE` when `QUICKSTART_JSON=FILE` is set
/// (made with the default `--chain-id` and `--sol-blockhash`); skipped otherwise.
#[test]
fn quickstart_output_file_if_given() {
    let Some(path) = std::env::var_os("QUICKSTART_JSON") else {
        eprintln!("QUICKSTART_JSON not set: skipped");
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut objects = serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>();
    let json = objects.next().unwrap().unwrap();
    assert!(objects.next().is_none(), "exactly one JSON object");
    check_all(&json);
}

fn check_btc(txs: &serde_json::Value) {
    let txs = txs.as_array().unwrap();
    let kinds: Vec<&str> = txs.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["p2wpkh", "p2tr"]);
    for t in txs {
        assert_eq!(
            keys_of(t),
            BTreeSet::from(["kind", "network", "address", "raw_tx_hex", "prevouts"])
        );
        assert_eq!(t["network"], "regtest");
        let raw = hex::decode(t["raw_tx_hex"].as_str().unwrap()).unwrap();
        let tx: bitcoin::Transaction = bitcoin::consensus::deserialize(&raw).unwrap();
        let prevouts: Vec<(u64, Vec<u8>)> = t["prevouts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["value_sats"].as_u64().unwrap(),
                    hex::decode(p["script_pubkey_hex"].as_str().unwrap()).unwrap(),
                )
            })
            .collect();
        assert_eq!(prevouts.len(), tx.input.len());
        if t["kind"] == "p2tr" {
            assert!(tx.input.len() >= 2, "P2TR spend has at least two inputs");
        }
        // the address is the one the spent outputs pay to
        let addr: bitcoin::Address = t["address"]
            .as_str()
            .unwrap()
            .parse::<bitcoin::Address<_>>()
            .unwrap()
            .require_network(bitcoin::Network::Regtest)
            .unwrap();
        for (_, spk) in &prevouts {
            assert_eq!(addr.script_pubkey().as_bytes(), &spk[..]);
        }
        let utxos: Vec<bitcoinconsensus::Utxo> = prevouts
            .iter()
            .map(|(v, spk)| bitcoinconsensus::Utxo {
                script_pubkey: spk.as_ptr(),
                script_pubkey_len: spk.len() as u32,
                value: *v as i64,
            })
            .collect();
        let flags = bitcoinconsensus::VERIFY_ALL_PRE_TAPROOT | bitcoinconsensus::VERIFY_TAPROOT;
        for (i, (v, spk)) in prevouts.iter().enumerate() {
            bitcoinconsensus::verify_with_flags(spk, *v, &raw, Some(&utxos), i, flags)
                .unwrap_or_else(|e| panic!("{} input {i}: {e:?}", t["kind"]));
        }
    }
}

fn check_evm(txs: &serde_json::Value) {
    let txs = txs.as_array().unwrap();
    let kinds: Vec<&str> = txs.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["eip1559", "legacy"]);
    let sender: alloy_primitives::Address = txs[0]["address"].as_str().unwrap().parse().unwrap();
    let mut db = CacheDB::new(EmptyDB::default());
    let funds = U256::from(10).pow(U256::from(18));
    db.insert_account_info(sender, AccountInfo::from_balance(funds));
    let mut evm = Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|c| c.chain_id = 1)
        .build_mainnet();
    for t in txs {
        assert_eq!(
            keys_of(t),
            BTreeSet::from(["kind", "chain_id", "address", "raw_tx_hex"])
        );
        assert_eq!(t["chain_id"], 1);
        // checksummed: parsing with the checksum check succeeds and prints back the same
        let a = t["address"].as_str().unwrap();
        assert_eq!(
            alloy_primitives::Address::parse_checksummed(a, None).unwrap(),
            sender
        );
        let raw = hex::decode(
            t["raw_tx_hex"]
                .as_str()
                .unwrap()
                .strip_prefix("0x")
                .unwrap(),
        )
        .unwrap();
        let env = TxEnvelope::decode_2718(&mut &raw[..]).unwrap();
        assert_eq!(env.recover_signer().unwrap(), sender);
        assert_eq!(env.chain_id(), Some(1));
        let tx = TxEnv::builder()
            .caller(sender)
            .tx_type(Some(env.ty()))
            .gas_limit(env.gas_limit())
            .nonce(env.nonce())
            .chain_id(env.chain_id())
            .value(env.value())
            .kind(env.kind());
        let tx = match env.gas_price() {
            Some(p) => tx.gas_price(p),
            None => tx
                .max_fee_per_gas(env.max_fee_per_gas())
                .gas_priority_fee(env.max_priority_fee_per_gas()),
        };
        let out = evm.transact_commit(tx.build().unwrap()).unwrap();
        assert!(out.is_success(), "{}: {out:?}", t["kind"]);
    }
    let db = evm.ctx.db_mut();
    let got = db.basic(EVM_RECIPIENT).unwrap().unwrap().balance;
    assert_eq!(got, U256::from(2 * EVM_VALUE_WEI));
    assert_eq!(db.basic(sender).unwrap().unwrap().nonce, 2);
}

fn check_sol(txs: &serde_json::Value) {
    let txs = txs.as_array().unwrap();
    let kinds: Vec<&str> = txs.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["legacy", "v0"]);
    // LiteSVM::new() verifies signatures and checks the blockhash.
    let mut svm = litesvm::LiteSVM::new();
    let payer: SolAddress = txs[0]["fee_payer"].as_str().unwrap().parse().unwrap();
    svm.airdrop(&payer, 1_000_000_000).unwrap();
    for t in txs {
        assert_eq!(
            keys_of(t),
            BTreeSet::from(["kind", "fee_payer", "tx_base64"])
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t["tx_base64"].as_str().unwrap())
            .unwrap();
        let tx: VersionedTransaction = wincode::deserialize(&bytes).unwrap();
        assert_eq!(tx.message.static_account_keys()[0], payer);
        let is_v0 = matches!(
            tx.message,
            chain_sol::solana_message::VersionedMessage::V0(_)
        );
        assert_eq!(is_v0, t["kind"] == "v0");
        svm.send_transaction(tx)
            .unwrap_or_else(|e| panic!("{}: {:?}", t["kind"], e.err));
    }
    assert_eq!(
        svm.get_balance(&sol_recipient()),
        Some(SOL_LAMPORTS.iter().sum())
    );
}

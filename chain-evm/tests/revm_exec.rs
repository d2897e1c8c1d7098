//! Signed transactions of every type decode with alloy, recover to the threshold key's
//! address, and execute successfully in revm (sender funded), moving the value; a wrong
//! chain id is refused before signing; EIP-191 and EIP-712 signatures recover to the
//! address.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::OnceLock;

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::Typed2718;
use alloy_consensus::{
    Transaction as _, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy, TypedTransaction,
};
use alloy_eips::eip2718::Decodable2718;
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{address, Address, Bytes, TxKind, B256, U256};
use chain_evm::{EvmEncoder, EvmError};
use mpc_core::chain::{derive_request, ChainEncoder};
use mpc_core::*;
use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::state::AccountInfo;
use revm::{Context, ExecuteEvm, MainBuilder, MainContext};

const CHAIN: u64 = 1;
const TO: Address = address!("0x00000000000000000000000000000000000000aa");

fn keys() -> &'static [Cggmp21Share] {
    static K: OnceLock<Vec<Cggmp21Share>> = OnceLock::new();
    K.get_or_init(|| {
        // The TEST-ONLY 2-of-3 key of `test-vectors/` (`gen_test_shares`; its secrets are
        // published).
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test-vectors/test-only-shares/cggmp21-2of3"
        );
        (0..3)
            .map(|i| {
                let bytes = std::fs::read(format!("{dir}/party-{i}.json")).unwrap();
                KeyShare::from_json(&bytes, SchemeId::Cggmp21Secp256k1).unwrap()
            })
            .collect()
    })
}

fn sign(req: &SignRequest) -> Signature {
    mpc_core::local::sign::<Cggmp21>(keys(), &[1, 2], req).unwrap()
}

fn sign_tx(enc: &EvmEncoder, tx: TypedTransaction) -> Vec<u8> {
    let key = keys()[0].public_key();
    let req = enc.requests(&tx, &key).unwrap().remove(0);
    let mine = derive_request(enc, &key, &req, |_| Ok(()))
        .unwrap()
        .into_request();
    let sig = sign(&mine);
    enc.finalize(tx, &[(key, vec![sig])]).unwrap().raw
}

fn tx_env(env: &TxEnvelope, caller: Address) -> TxEnv {
    let mut b = TxEnv::builder()
        .caller(caller)
        .tx_type(Some(env.ty()))
        .gas_limit(env.gas_limit())
        .nonce(env.nonce())
        .chain_id(env.chain_id())
        .value(env.value())
        .data(env.input().clone())
        .kind(env.kind());
    b = match env.gas_price() {
        Some(p) => b.gas_price(p),
        None => b
            .max_fee_per_gas(env.max_fee_per_gas())
            .gas_priority_fee(env.max_priority_fee_per_gas()),
    };
    if let Some(al) = env.access_list() {
        b = b.access_list(al.clone());
    }
    if let Some(auths) = env.authorization_list() {
        b = b.authorization_list_signed(auths.to_vec());
    }
    b.build().unwrap()
}

/// Decodes raw bytes, recovers the sender, runs them in revm with the sender funded.
fn execute(
    raw: &[u8],
) -> revm::context::result::ExecResultAndState<revm::context::result::ExecutionResult> {
    let env = TxEnvelope::decode_2718(&mut &raw[..]).unwrap();
    let sender = env.recover_signer().unwrap();
    assert_eq!(
        sender,
        chain_evm::address(&keys()[0].public_key()).unwrap(),
        "recovers to another address"
    );
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        sender,
        AccountInfo::from_balance(U256::from(10).pow(U256::from(20))),
    );
    let mut evm = Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|c| c.chain_id = CHAIN)
        .build_mainnet();
    let out = evm.transact(tx_env(&env, sender)).unwrap();
    assert!(out.result.is_success(), "{:?}", out.result);
    out
}

fn value_at(
    out: &revm::context::result::ExecResultAndState<revm::context::result::ExecutionResult>,
    a: Address,
) -> U256 {
    out.state
        .get(&a)
        .map(|acc| acc.info.balance)
        .unwrap_or_default()
}

#[test]
fn legacy_2930_1559_execute_in_revm() {
    let enc = EvmEncoder::new(CHAIN);
    let value = U256::from(12_345u64);
    let access_list = AccessList(vec![AccessListItem {
        address: TO,
        storage_keys: vec![B256::ZERO],
    }]);
    let txs = [
        TypedTransaction::Legacy(TxLegacy {
            chain_id: Some(CHAIN),
            nonce: 0,
            gas_price: 2_000_000_000,
            gas_limit: 30_000,
            to: TxKind::Call(TO),
            value,
            input: Bytes::new(),
        }),
        TypedTransaction::Eip2930(TxEip2930 {
            chain_id: CHAIN,
            nonce: 0,
            gas_price: 2_000_000_000,
            gas_limit: 40_000,
            to: TxKind::Call(TO),
            value,
            access_list,
            input: Bytes::new(),
        }),
        TypedTransaction::Eip1559(TxEip1559 {
            chain_id: CHAIN,
            nonce: 0,
            gas_limit: 30_000,
            max_fee_per_gas: 3_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(TO),
            value,
            access_list: AccessList::default(),
            input: Bytes::new(),
        }),
    ];
    for tx in txs {
        let ty = tx.ty();
        let raw = sign_tx(&enc, tx);
        if ty != 0 {
            assert_eq!(raw[0], ty, "EIP-2718 type byte");
        }
        let out = execute(&raw);
        assert_eq!(value_at(&out, TO), value, "type {ty}: value not moved");
    }
}

#[test]
fn eip7702_executes_and_sets_the_delegation() {
    let enc = EvmEncoder::new(CHAIN);
    // An ordinary EOA (a local key) authorizes delegation to a contract address.
    let eoa = k256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let eoa_addr = Address::from_public_key(eoa.verifying_key());
    let delegate = address!("0x00000000000000000000000000000000000000bb");
    let auth = alloy_eips::eip7702::Authorization {
        chain_id: U256::from(CHAIN),
        address: delegate,
        nonce: 0,
    };
    let (sig, rid) = eoa
        .sign_prehash_recoverable(auth.signature_hash().as_slice())
        .unwrap();
    let (r, s) = sig.split_bytes();
    let signed_auth = auth.into_signed(alloy_primitives::Signature::new(
        U256::from_be_slice(&r),
        U256::from_be_slice(&s),
        rid.is_y_odd(),
    ));
    let tx = TypedTransaction::Eip7702(TxEip7702 {
        chain_id: CHAIN,
        nonce: 0,
        gas_limit: 100_000,
        max_fee_per_gas: 3_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TO,
        value: U256::from(7u64),
        access_list: AccessList::default(),
        authorization_list: vec![signed_auth],
        input: Bytes::new(),
    });
    let raw = sign_tx(&enc, tx);
    assert_eq!(raw[0], 4);
    let out = execute(&raw);
    assert_eq!(value_at(&out, TO), U256::from(7u64));
    let code = out
        .state
        .get(&eoa_addr)
        .and_then(|a| a.info.code.clone())
        .expect("authority has code");
    let bytes = code.original_bytes();
    assert_eq!(
        &bytes[..3],
        &[0xef, 0x01, 0x00],
        "EIP-7702 delegation designator"
    );
    assert_eq!(&bytes[3..], delegate.as_slice());
}

#[test]
fn wrong_chain_id_is_refused_before_signing() {
    let key = keys()[0].public_key();
    let enc = EvmEncoder::new(CHAIN);
    let tx = TypedTransaction::Eip1559(TxEip1559 {
        chain_id: 5,
        ..Default::default()
    });
    assert!(matches!(
        enc.requests(&tx, &key),
        Err(EvmError::ChainIdMismatch {
            expected: 1,
            found: Some(5)
        })
    ));
    let pre155 = TypedTransaction::Legacy(TxLegacy {
        chain_id: None,
        ..Default::default()
    });
    assert!(matches!(
        enc.requests(&pre155, &key),
        Err(EvmError::ChainIdMismatch { found: None, .. })
    ));
    // A request whose payload was swapped for another chain's transaction fails to derive.
    let good = TypedTransaction::Eip1559(TxEip1559 {
        chain_id: CHAIN,
        ..Default::default()
    });
    let mut req = enc.requests(&good, &key).unwrap().remove(0);
    req.chain_payload.as_mut().unwrap().bytes = enc.encode_unsigned(&tx).unwrap();
    assert!(derive_request(&enc, &key, &req, |_| Ok(())).is_err());
}

#[test]
fn personal_message_and_typed_data_recover_to_the_address() {
    let key = keys()[0].public_key();
    let addr = chain_evm::address(&key).unwrap();
    // EIP-191.
    let msg = b"threshold says hello";
    let req = chain_evm::personal_message_request(msg);
    let hash = alloy_primitives::eip191_hash_message(msg);
    let bytes = chain_evm::message_signature_bytes(&key, hash, &sign(&req)).unwrap();
    assert!(bytes[64] == 27 || bytes[64] == 28);
    let sig = alloy_primitives::Signature::from_raw(&bytes).unwrap();
    assert_eq!(sig.recover_address_from_msg(msg).unwrap(), addr);
    // EIP-712.
    alloy_sol_types::sol! {
        struct Mail { address to; string contents; }
    }
    let domain = alloy_sol_types::eip712_domain! { name: "Test", version: "1", chain_id: CHAIN, verifying_contract: TO, };
    let mail = Mail {
        to: TO,
        contents: "hi".into(),
    };
    let req = chain_evm::typed_data_request(&mail, &domain);
    let hash = alloy_sol_types::SolStruct::eip712_signing_hash(&mail, &domain);
    let sig = chain_evm::to_alloy_signature(&key, hash, &sign(&req)).unwrap();
    assert_eq!(sig.recover_address_from_prehash(&hash).unwrap(), addr);
    // Checksummed address (EIP-55) as alloy prints it.
    assert_eq!(
        EvmEncoder::new(CHAIN).address(&key).unwrap(),
        addr.to_checksum(None)
    );
}

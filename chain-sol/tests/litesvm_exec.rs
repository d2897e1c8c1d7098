//! Legacy and v0 transfers signed by a threshold Ed25519 key execute in LiteSVM (Solana's
//! runtime with signature verification and the blockhash check on) and move the lamports;
//! the threshold key signs as fee payer or as a second signer next to an ordinary key; a
//! transaction in which the threshold key is not a required signer is refused; a party
//! derives the message it signs from the payload.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::OnceLock;

use chain_sol::solana_address::Address;
use chain_sol::solana_hash::Hash;
use chain_sol::solana_message::{v0, Message, VersionedMessage};
use chain_sol::solana_transaction::versioned::VersionedTransaction;
use chain_sol::{unsigned, SolEncoder, SolError};
use ed25519_dalek::Signer as _;
use litesvm::LiteSVM;
use mpc_core::chain::{derive_request, ChainEncoder, DeriveError};
use mpc_core::*;
use solana_instruction::Instruction;
use solana_system_interface::instruction::transfer;

type Share = KeyShare<<FrostEd25519 as ThresholdScheme>::Data>;

const SOL: u64 = 1_000_000_000;

fn keys() -> &'static [Share] {
    static K: OnceLock<Vec<Share>> = OnceLock::new();
    K.get_or_init(|| mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap())
}

fn group_key() -> PublicKey {
    keys()[0].public_key()
}

fn group_address() -> Address {
    chain_sol::address(&group_key()).unwrap()
}

/// Signs `tx` the way parties do: each derives its request from the carried payload.
fn sign(tx: VersionedTransaction, signers: &[u16]) -> chain_sol::SignedTx {
    let enc = SolEncoder::new();
    let key = group_key();
    let reqs = enc.requests(&tx, &key).unwrap();
    assert_eq!(reqs.len(), 1);
    let mine = derive_request(&enc, &key, &reqs[0], |_| Ok(()))
        .unwrap()
        .into_request();
    let sig = mpc_core::local::sign::<FrostEd25519>(keys(), signers, &mine).unwrap();
    enc.finalize(tx, &[(key, vec![sig])]).unwrap()
}

/// Executes the wire bytes (decoded by the SDK's own deserializer) in the runtime.
fn execute(svm: &mut LiteSVM, bytes: &[u8]) -> litesvm::types::TransactionMetadata {
    let tx: VersionedTransaction = wincode::deserialize(bytes).unwrap();
    svm.send_transaction(tx)
        .unwrap_or_else(|e| panic!("runtime rejected the transaction: {:?}", e.err))
}

fn funded() -> LiteSVM {
    let mut svm = LiteSVM::new();
    svm.airdrop(&group_address(), 10 * SOL).unwrap();
    svm
}

fn legacy(ixs: &[Instruction], payer: &Address, bh: Hash) -> VersionedMessage {
    VersionedMessage::Legacy(Message::new_with_blockhash(ixs, Some(payer), &bh))
}

fn v0(ixs: &[Instruction], payer: &Address, bh: Hash) -> VersionedMessage {
    VersionedMessage::V0(v0::Message::try_compile(payer, ixs, &[], bh).unwrap())
}

type MakeMessage = fn(&[Instruction], &Address, Hash) -> VersionedMessage;
const VERSIONS: [(&str, MakeMessage); 2] = [("legacy", legacy), ("v0", v0)];

#[test]
fn legacy_and_v0_transfers_execute_and_move_lamports() {
    for (version, make) in VERSIONS {
        let mut svm = funded();
        let from = group_address();
        let to = Address::new_unique();
        let amount = 1_234_567;
        let msg = make(
            &[transfer(&from, &to, amount)],
            &from,
            svm.latest_blockhash(),
        );
        let signed = sign(unsigned(msg), &[0, 2]);
        assert!(signed.is_complete(), "{version}: all signers signed");
        assert_eq!(signed.tx.signatures.len(), 1);
        // the runtime checks the signature: one flipped bit and it refuses the transaction
        let mut tampered = signed.tx.clone();
        let mut sig: [u8; 64] = tampered.signatures[0].into();
        sig[10] ^= 1;
        tampered.signatures[0] = sig.into();
        assert!(svm.send_transaction(tampered).is_err(), "{version}");
        let before = svm.get_balance(&from).unwrap();
        let meta = execute(&mut svm, &signed.bytes);
        assert_eq!(svm.get_balance(&to), Some(amount), "{version}");
        assert_eq!(
            svm.get_balance(&from),
            Some(before - amount - meta.fee),
            "{version}: payer paid amount and fee"
        );
        assert!(meta.fee > 0);
        assert_eq!(signed.id(), Some(meta.signature.to_string()));
        // base64/base58 forms decode to the same bytes
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD
            .decode(signed.base64())
            .unwrap();
        assert_eq!(b64, signed.bytes);
        assert_eq!(
            bs58::decode(signed.base58()).into_vec().unwrap(),
            signed.bytes
        );
    }
}

#[test]
fn threshold_key_as_second_signer_next_to_an_ordinary_fee_payer() {
    let mut svm = funded();
    let payer_sk = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let payer = Address::from(payer_sk.verifying_key().to_bytes());
    svm.airdrop(&payer, SOL).unwrap();
    let from = group_address();
    let to = Address::new_unique();
    for (version, make) in VERSIONS {
        let msg = make(
            &[transfer(&from, &to, 5_000_000)],
            &payer,
            svm.latest_blockhash(),
        );
        let tx = unsigned(msg);
        assert_eq!(tx.signatures.len(), 2);
        // threshold key signs first: the payer's slot is still empty
        let signed = sign(tx, &[1, 2]);
        assert_eq!(signed.missing_signers, vec![payer], "{version}");
        let mut tx = signed.tx;
        let message = chain_sol::message_bytes(&tx).unwrap();
        let bad = payer_sk.sign(b"something else").to_bytes();
        assert!(matches!(
            chain_sol::place_signature(&mut tx, &payer, bad),
            Err(SolError::BadSignature(_))
        ));
        chain_sol::place_signature(&mut tx, &payer, payer_sk.sign(&message).to_bytes()).unwrap();
        let payer_before = svm.get_balance(&payer).unwrap();
        let to_before = svm.get_balance(&to).unwrap_or(0);
        let meta = execute(&mut svm, &wincode::serialize(&tx).unwrap());
        assert_eq!(
            svm.get_balance(&to),
            Some(to_before + 5_000_000),
            "{version}"
        );
        assert_eq!(svm.get_balance(&payer), Some(payer_before - meta.fee));
    }
}

#[test]
fn unsigned_threshold_key_slot_fails_in_the_runtime() {
    // The runtime's own check: without the threshold signature the transfer is rejected.
    let mut svm = funded();
    let from = group_address();
    let msg = legacy(
        &[transfer(&from, &Address::new_unique(), 1)],
        &from,
        svm.latest_blockhash(),
    );
    assert!(svm.send_transaction(unsigned(msg)).is_err());
}

#[test]
fn refuses_a_transaction_the_threshold_key_does_not_sign() {
    let enc = SolEncoder::new();
    let other = Address::new_unique();
    let to = group_address(); // the key only receives
    for msg in [
        legacy(&[transfer(&other, &to, 1)], &other, Hash::default()),
        v0(&[transfer(&other, &to, 1)], &other, Hash::default()),
    ] {
        let tx = unsigned(msg);
        assert!(matches!(
            enc.requests(&tx, &group_key()),
            Err(SolError::NotASigner(a)) if a == group_address()
        ));
        // a coordinator cannot make a party sign it either
        let mut req = SignRequest::ed25519(chain_sol::message_bytes(&tx).unwrap());
        req.chain_payload = Some(ChainPayload {
            chain: "sol".into(),
            bytes: enc.encode_unsigned(&tx).unwrap(),
            item: 0,
        });
        assert!(matches!(
            derive_request(&enc, &group_key(), &req, |_| Ok(())),
            Err(DeriveError::Encoder(SolError::NotASigner(_)))
        ));
    }
}

/// The threshold key pays `lamports` to a fresh address (legacy message).
fn payment(lamports: u64) -> VersionedTransaction {
    let from = group_address();
    let msg = legacy(
        &[transfer(&from, &Address::new_unique(), lamports)],
        &from,
        Hash::default(),
    );
    unsigned(msg)
}

#[test]
fn party_refuses_a_digest_not_derived_from_the_payload() {
    let enc = SolEncoder::new();
    let tx = payment(7);
    let mut req = enc.requests(&tx, &group_key()).unwrap().remove(0);
    let other = payment(7_000);
    req.payload = SignPayload::Ed25519 {
        message: chain_sol::message_bytes(&other).unwrap(),
    };
    assert!(matches!(
        derive_request(&enc, &group_key(), &req, |_| Ok(())),
        Err(DeriveError::Mismatch)
    ));
}

#[test]
fn bad_payloads_are_errors() {
    let enc = SolEncoder::new();
    let tx = payment(7);
    let good = enc.encode_unsigned(&tx).unwrap();
    assert_eq!(enc.decode_unsigned(&good).unwrap(), tx);
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(enc.decode_unsigned(&trailing).is_err());
    for cut in [0, 1, good.len() / 2, good.len() - 1] {
        assert!(enc.decode_unsigned(&good[..cut]).is_err(), "cut at {cut}");
    }
    assert!(matches!(
        enc.decode_unsigned(&vec![1u8; 5000]),
        Err(SolError::TooLarge(5000))
    ));
    // a secp256k1 key has no Solana address
    let ecdsa = PublicKey::secp256k1(&k256_generator()).unwrap();
    assert!(matches!(enc.address(&ecdsa), Err(SolError::WrongCurve)));
    // a signature of the wrong kind is refused by finalize
    let wrong = Signature::Bip340 { bytes: [1; 64] };
    assert!(enc.finalize(tx, &[(group_key(), vec![wrong])]).is_err());
}

fn k256_generator() -> Vec<u8> {
    // compressed secp256k1 generator G (SEC 1)
    hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap()
}

#[test]
fn address_is_the_key_in_base58() {
    let key = group_key();
    let enc = SolEncoder::new();
    let addr = enc.address(&key).unwrap();
    // independent derivation: base58 of the 32 key bytes, parsed back by the Solana SDK
    assert_eq!(addr, bs58::encode(key.as_bytes()).into_string());
    let parsed: Address = addr.parse().unwrap();
    assert_eq!(parsed.to_bytes().as_slice(), key.as_bytes());
    // and the runtime credits that account
    let svm = funded();
    assert_eq!(svm.get_balance(&parsed), Some(10 * SOL));
}

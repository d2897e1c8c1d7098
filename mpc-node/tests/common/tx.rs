//! Transactions for the policy tests.
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash as _;
use bitcoin::psbt::{Psbt, PsbtSighashType};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use mpc_core::PublicKey;

/// What a test spend looks like.
pub struct Spend {
    /// Value of the output spent (the funding transaction's only output).
    pub total: u64,
    /// Sent to a stranger.
    pub send: u64,
    /// Fee; the rest goes back to the key.
    pub fee: u64,
    /// Sighash type of the input (none: the default).
    pub sighash: Option<u32>,
    /// Whether the input carries its previous transaction.
    pub with_prev: bool,
    /// The amount the PSBT claims the input spends (honest: `total`).
    pub claimed: u64,
}

impl Spend {
    /// An honest spend: previous transaction included, default sighash.
    pub fn new(total: u64, send: u64, fee: u64) -> Self {
        Spend {
            total,
            send,
            fee,
            sighash: None,
            with_prev: true,
            claimed: total,
        }
    }
}

/// A PSBT spending a P2WPKH output of `key` (funded by a made-up transaction), and the
/// output it spends as the PSBT claims it.
pub fn p2wpkh_psbt(key: &PublicKey, s: &Spend) -> (Psbt, TxOut) {
    let own = chain_btc::p2wpkh_address(key, bitcoin::Network::Regtest)
        .unwrap()
        .script_pubkey();
    let funding = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(s.total),
            script_pubkey: own.clone(),
        }],
    };
    let stranger = ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array([7; 20]));
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(funding.compute_txid(), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![
            TxOut {
                value: Amount::from_sat(s.send),
                script_pubkey: stranger,
            },
            TxOut {
                value: Amount::from_sat(s.total - s.send - s.fee),
                script_pubkey: own.clone(),
            },
        ],
    };
    let spent = TxOut {
        value: Amount::from_sat(s.claimed),
        script_pubkey: own,
    };
    let mut p = chain_btc::psbt_from_tx(tx, vec![spent.clone()]).unwrap();
    if s.with_prev {
        p.inputs[0].non_witness_utxo = Some(funding);
    }
    p.inputs[0].sighash_type = s.sighash.map(PsbtSighashType::from_u32);
    (p, spent)
}

/// An EIP-1559 transfer of `value` wei to 0x2222…22 on `chain_id`.
pub fn evm_transfer(
    chain_id: u64,
    nonce: u64,
    value: chain_evm::alloy_primitives::U256,
) -> chain_evm::alloy_consensus::TypedTransaction {
    use chain_evm::alloy_consensus::{TxEip1559, TypedTransaction};
    use chain_evm::alloy_primitives::{Address, Bytes, TxKind};
    TypedTransaction::Eip1559(TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0x22)),
        value,
        access_list: Default::default(),
        input: Bytes::new(),
    })
}

/// A legacy Solana transfer of `lamports` from `key` (the fee payer) to 0x0909…09.
pub fn sol_transfer(
    key: &PublicKey,
    lamports: u64,
) -> chain_sol::solana_transaction::versioned::VersionedTransaction {
    use chain_sol::solana_message::{Message, VersionedMessage};
    let from = chain_sol::address(key).unwrap();
    let to = chain_sol::solana_address::Address::new_from_array([9; 32]);
    let ix = solana_system_interface::instruction::transfer(&from, &to, lamports);
    let bh = chain_sol::solana_hash::Hash::default();
    chain_sol::unsigned(VersionedMessage::Legacy(Message::new_with_blockhash(
        &[ix],
        Some(&from),
        &bh,
    )))
}

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

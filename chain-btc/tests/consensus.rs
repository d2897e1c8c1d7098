//! Transactions signed by threshold keys pass Bitcoin Core's script interpreter
//! (bitcoinconsensus, all flags, Taproot with the spent outputs) for every input; a wrong
//! prevout amount fails; a PSBT input without its spent output is a clear error; a party
//! recomputes each digest from the PSBT itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::OnceLock;

use bitcoin::hashes::Hash;
use bitcoin::psbt::PsbtSighashType;
use bitcoin::sighash::{EcdsaSighashType, TapSighashType};
use bitcoin::{
    absolute, transaction, Amount, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxOut, Txid, Witness,
};
use chain_btc::{p2tr_address, p2wpkh_address, psbt_from_tx, AddressKind, BtcEncoder, BtcError};
use mpc_core::chain::{derive_request, ChainEncoder, DeriveError};
use mpc_core::*;

fn ecdsa_keys() -> &'static [Cggmp21Share] {
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

fn frost_keys() -> &'static [KeyShare<<FrostTaproot as ThresholdScheme>::Data>] {
    static K: OnceLock<Vec<KeyShare<<FrostTaproot as ThresholdScheme>::Data>>> = OnceLock::new();
    K.get_or_init(|| mpc_core::local::keygen::<FrostTaproot>(2, vec![(); 3]).unwrap())
}

fn tx(inputs: usize) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: (0..inputs)
            .map(|i| TxIn {
                previous_output: OutPoint {
                    txid: Txid::from_byte_array([i as u8 + 1; 32]),
                    vout: i as u32,
                },
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: vec![TxOut {
            value: Amount::from_sat(10_000 * inputs as u64),
            script_pubkey: ScriptBuf::new_op_return([0x6a; 4]),
        }],
    }
}

/// Signs every request of `key` (all its inputs) as one batch session, parties 0 and 2.
/// Each party first derives the requests from the carried PSBT and signs those.
fn sign_requests<S: ThresholdScheme>(
    shares: &[KeyShare<S::Data>],
    reqs: &[SignRequest],
    enc: &BtcEncoder,
) -> Vec<Signature> {
    let key = shares[0].public_key();
    let mine: Vec<SignRequest> = reqs
        .iter()
        .map(|r| {
            derive_request(enc, &key, r, |_| Ok(()))
                .unwrap()
                .into_request()
        })
        .collect();
    let sigs = mpc_core::local::sign_batch::<S>(shares, &[0, 2], &mine).unwrap();
    assert_eq!(sigs.len(), reqs.len());
    sigs
}

const FLAGS: u32 = bitcoinconsensus::VERIFY_ALL_PRE_TAPROOT | bitcoinconsensus::VERIFY_TAPROOT;

/// Runs Bitcoin Core's interpreter on every input.
fn consensus_check(
    tx: &Transaction,
    prevouts: &[TxOut],
) -> Result<(), (usize, bitcoinconsensus::Error)> {
    let bytes = bitcoin::consensus::serialize(tx);
    let utxos: Vec<bitcoinconsensus::Utxo> = prevouts
        .iter()
        .map(|p| bitcoinconsensus::Utxo {
            script_pubkey: p.script_pubkey.as_bytes().as_ptr(),
            script_pubkey_len: p.script_pubkey.len() as u32,
            value: p.value.to_sat() as i64,
        })
        .collect();
    for (i, p) in prevouts.iter().enumerate() {
        bitcoinconsensus::verify_with_flags(
            p.script_pubkey.as_bytes(),
            p.value.to_sat(),
            &bytes,
            Some(&utxos),
            i,
            FLAGS,
        )
        .map_err(|e| (i, e))?;
    }
    Ok(())
}

#[test]
fn p2wpkh_spend_passes_bitcoin_core_and_wrong_amount_fails() {
    let shares = ecdsa_keys();
    let key = shares[0].public_key();
    let enc = BtcEncoder::new(Network::Regtest, AddressKind::P2wpkh);
    let spk = p2wpkh_address(&key, Network::Regtest)
        .unwrap()
        .script_pubkey();
    let prevouts: Vec<TxOut> = (0..2)
        .map(|i| TxOut {
            value: Amount::from_sat(100_000 + i),
            script_pubkey: spk.clone(),
        })
        .collect();
    let psbt = psbt_from_tx(tx(2), prevouts.clone()).unwrap();
    let reqs = enc.requests(&psbt, &key).unwrap();
    assert_eq!(reqs.len(), 2);
    let sigs = sign_requests::<Cggmp21>(shares, &reqs, &enc);
    let signed = enc.finalize(psbt, &[(key, sigs)]).unwrap();
    consensus_check(&signed, &prevouts).unwrap();
    // The signature commits to the amount: claim another amount and Core refuses.
    let mut wrong = prevouts.clone();
    wrong[1].value = Amount::from_sat(100_002);
    assert_eq!(consensus_check(&signed, &wrong).unwrap_err().0, 1);
    // Low-s DER with SIGHASH_ALL.
    let sig = bitcoin::ecdsa::Signature::from_slice(&signed.input[0].witness.to_vec()[0]).unwrap();
    assert_eq!(sig.sighash_type, EcdsaSighashType::All);
    let mut norm = sig.signature;
    norm.normalize_s();
    assert_eq!(norm, sig.signature, "s is not low");
}

#[test]
fn p2tr_key_path_two_inputs_default_and_all_pass_bitcoin_core() {
    let shares = frost_keys();
    let key = shares[0].public_key();
    let enc = BtcEncoder::new(Network::Regtest, AddressKind::P2tr);
    let spk = p2tr_address(&key, None, Network::Regtest)
        .unwrap()
        .script_pubkey();
    let prevouts: Vec<TxOut> = (0..2)
        .map(|i| TxOut {
            value: Amount::from_sat(50_000 + i),
            script_pubkey: spk.clone(),
        })
        .collect();
    let mut psbt = psbt_from_tx(tx(2), prevouts.clone()).unwrap();
    psbt.inputs[1].sighash_type = Some(PsbtSighashType::from(TapSighashType::All));
    let reqs = enc.requests(&psbt, &key).unwrap();
    let sigs = sign_requests::<FrostTaproot>(shares, &reqs, &enc);
    let signed = enc.finalize(psbt, &[(key, sigs)]).unwrap();
    consensus_check(&signed, &prevouts).unwrap();
    assert_eq!(
        signed.input[0].witness.to_vec()[0].len(),
        64,
        "SIGHASH_DEFAULT has no type byte"
    );
    assert_eq!(signed.input[1].witness.to_vec()[0].len(), 65);
    let mut wrong = prevouts.clone();
    wrong[0].value = Amount::from_sat(1);
    assert!(consensus_check(&signed, &wrong).is_err());
    // A PSBT that spends more than its inputs is not extracted.
    let small: Vec<TxOut> = prevouts
        .iter()
        .map(|p| TxOut {
            value: Amount::from_sat(100),
            ..p.clone()
        })
        .collect();
    let psbt = psbt_from_tx(tx(2), small).unwrap();
    let reqs = enc.requests(&psbt, &key).unwrap();
    let sigs = sign_requests::<FrostTaproot>(shares, &reqs, &enc);
    assert!(matches!(
        enc.finalize(psbt, &[(key, sigs)]),
        Err(BtcError::Extract(_))
    ));
}

#[test]
fn p2tr_with_merkle_root_and_mixed_inputs_in_one_transaction() {
    let frost = frost_keys();
    let ecdsa = ecdsa_keys();
    let (tr_key, ec_key) = (frost[0].public_key(), ecdsa[0].public_key());
    let enc = BtcEncoder::new(Network::Regtest, AddressKind::P2tr);
    let root = [0x5au8; 32];
    let tr_spk = p2tr_address(&tr_key, Some(root), Network::Regtest)
        .unwrap()
        .script_pubkey();
    let ec_spk = p2wpkh_address(&ec_key, Network::Regtest)
        .unwrap()
        .script_pubkey();
    let prevouts = vec![
        TxOut {
            value: Amount::from_sat(70_000),
            script_pubkey: tr_spk,
        },
        TxOut {
            value: Amount::from_sat(80_000),
            script_pubkey: ec_spk,
        },
    ];
    let mut psbt = psbt_from_tx(tx(2), prevouts.clone()).unwrap();
    let (xonly, _) = bitcoin::secp256k1::PublicKey::from_slice(tr_key.as_bytes())
        .unwrap()
        .x_only_public_key();
    psbt.inputs[0].tap_internal_key = Some(xonly);
    psbt.inputs[0].tap_merkle_root = Some(bitcoin::taproot::TapNodeHash::from_byte_array(root));
    let tr_reqs = enc.requests(&psbt, &tr_key).unwrap();
    let ec_reqs = enc.requests(&psbt, &ec_key).unwrap();
    assert_eq!((tr_reqs.len(), ec_reqs.len()), (1, 1));
    let tr_sigs = sign_requests::<FrostTaproot>(frost, &tr_reqs, &enc);
    let ec_sigs = sign_requests::<Cggmp21>(ecdsa, &ec_reqs, &enc);
    // Only one key's signatures: the other input stays unsigned.
    let err = enc
        .finalize(psbt.clone(), &[(tr_key, tr_sigs.clone())])
        .unwrap_err();
    assert!(matches!(err, BtcError::NotFinalized { input: 1 }), "{err}");
    let signed = enc
        .finalize(psbt, &[(tr_key, tr_sigs), (ec_key, ec_sigs)])
        .unwrap();
    consensus_check(&signed, &prevouts).unwrap();
}

#[test]
fn missing_spent_output_wrong_key_and_tampered_digest_are_refused() {
    let frost = frost_keys();
    let key = frost[0].public_key();
    let enc = BtcEncoder::new(Network::Regtest, AddressKind::P2tr);
    let spk = p2tr_address(&key, None, Network::Regtest)
        .unwrap()
        .script_pubkey();
    let mut psbt = psbt_from_tx(
        tx(2),
        vec![
            TxOut {
                value: Amount::from_sat(1000),
                script_pubkey: spk.clone()
            };
            2
        ],
    )
    .unwrap();
    // A key that owns nothing.
    let other = ecdsa_keys()[0].public_key();
    assert!(matches!(
        enc.requests(&psbt, &other),
        Err(BtcError::NothingToSign)
    ));
    // Tampered digest: a coordinator cannot make a party sign something else.
    let mut req = enc.requests(&psbt, &key).unwrap().remove(0);
    req.payload = SignPayload::Bip340 {
        message: vec![0u8; 32],
        merkle_root: None,
    };
    assert!(matches!(
        derive_request(&enc, &key, &req, |_| Ok(())),
        Err(DeriveError::Mismatch)
    ));
    // A policy can refuse the decoded transaction.
    let good = enc.requests(&psbt, &key).unwrap().remove(0);
    let refused = derive_request(&enc, &key, &good, |p| {
        if p.unsigned_tx
            .output
            .iter()
            .any(|o| o.value > Amount::from_sat(1))
        {
            Err(BtcError::InvalidPsbt("policy: amount over limit".into()))
        } else {
            Ok(())
        }
    });
    assert!(matches!(
        refused,
        Err(DeriveError::Encoder(BtcError::InvalidPsbt(_)))
    ));
    // No spent output.
    psbt.inputs[1].witness_utxo = None;
    let err = enc.requests(&psbt, &key).unwrap_err();
    assert!(
        matches!(err, BtcError::MissingSpentOutput { input: 1 }),
        "{err}"
    );
    // Wrong number of prevouts.
    assert!(matches!(
        psbt_from_tx(tx(2), vec![]),
        Err(BtcError::PrevoutCount {
            inputs: 2,
            prevouts: 0
        })
    ));
    // Garbage PSBT bytes.
    assert!(matches!(
        enc.decode_unsigned(b"not a psbt"),
        Err(BtcError::InvalidPsbt(_))
    ));
}

#[test]
fn addresses_on_every_network_match_rust_bitcoin() {
    let ec = ecdsa_keys()[0].public_key();
    let tr = frost_keys()[0].public_key();
    for (net, p2wpkh_prefix, p2tr_prefix) in [
        (Network::Bitcoin, "bc1q", "bc1p"),
        (Network::Testnet, "tb1q", "tb1p"),
        (Network::Signet, "tb1q", "tb1p"),
        (Network::Regtest, "bcrt1q", "bcrt1p"),
    ] {
        let a = BtcEncoder::new(net, AddressKind::P2wpkh)
            .address(&ec)
            .unwrap();
        assert!(a.starts_with(p2wpkh_prefix), "{a}");
        let pk = bitcoin::PublicKey::from_slice(ec.as_bytes()).unwrap();
        let expected =
            bitcoin::Address::p2wpkh(&bitcoin::CompressedPublicKey::try_from(pk).unwrap(), net);
        assert_eq!(a, expected.to_string());
        let b = BtcEncoder::new(net, AddressKind::P2tr)
            .address(&tr)
            .unwrap();
        assert!(b.starts_with(p2tr_prefix), "{b}");
        // The output key in the address is the one mpc-core computes (k256) for the tweak.
        let (q, _) = tr.taproot_output_key(None).unwrap();
        let parsed = b
            .parse::<bitcoin::Address<_>>()
            .unwrap()
            .require_network(net)
            .unwrap();
        assert_eq!(&parsed.script_pubkey().as_bytes()[2..], &q);
    }
}

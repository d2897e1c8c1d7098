//! The quickstart's chain transactions: a Bitcoin P2WPKH spend (CGGMP21), a Bitcoin P2TR
//! key-path spend with two inputs (FROST Taproot, both inputs in one batch session), EVM
//! EIP-1559 and legacy EIP-155 transfers (CGGMP21) and Solana legacy and v0 transfers
//! (FROST Ed25519), each signed through its chain encoder and the in-memory transport.
//!
//! The [`Report`] serializes to the quickstart's `--json` object. The inputs are made up
//! (the Bitcoin funding transaction, the EVM nonces 0 and 1); the outputs are real
//! transactions that a node accepts once the threshold address holds the funds. The P2WPKH
//! input carries its whole previous transaction, so a party's policy checks the amount.

use bitcoin::hashes::Hash as _;
use bitcoin::{absolute, transaction, Amount, Network, OutPoint, Sequence, TxIn, TxOut, Txid};
use chain_btc::{p2tr_address, p2wpkh_address, psbt_from_tx, AddressKind, BtcEncoder};
use chain_evm::alloy_consensus::{TxEip1559, TxLegacy, TypedTransaction};
use chain_evm::alloy_primitives::{address, Address as EvmAddress, Bytes, TxKind, U256};
use chain_evm::EvmEncoder;
use chain_sol::solana_address::Address as SolAddress;
use chain_sol::solana_hash::Hash as SolHash;
use chain_sol::solana_message::{v0, Message, VersionedMessage};
use chain_sol::SolEncoder;
use mpc_core::chain::ChainEncoder;
use mpc_core::*;
use mpc_transport::{sign_batch_all, DriveOptions};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The quickstart's `--json` object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Bitcoin transactions.
    pub btc: Vec<BtcTx>,
    /// EVM transactions.
    pub evm: Vec<EvmTx>,
    /// Solana transactions.
    pub sol: Vec<SolTx>,
}

/// A signed Bitcoin transaction and the outputs it spends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BtcTx {
    /// `p2wpkh` or `p2tr`.
    pub kind: String,
    /// `regtest`.
    pub network: String,
    /// The threshold key's address (the spent outputs pay to it).
    pub address: String,
    /// The consensus-encoded transaction, hex.
    pub raw_tx_hex: String,
    /// The spent outputs, in input order.
    pub prevouts: Vec<Prevout>,
}

/// A spent output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Prevout {
    /// Amount in satoshis.
    pub value_sats: u64,
    /// Its scriptPubKey, hex.
    pub script_pubkey_hex: String,
}

/// A signed EVM transaction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EvmTx {
    /// `eip1559`, `legacy`, `eip2930` or `eip7702`.
    pub kind: String,
    /// The chain id it is signed for.
    pub chain_id: u64,
    /// The sender: the threshold key's checksummed address.
    pub address: String,
    /// EIP-2718 bytes, `0x` hex (what `eth_sendRawTransaction` takes).
    pub raw_tx_hex: String,
}

/// A signed Solana transaction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SolTx {
    /// `legacy` or `v0`.
    pub kind: String,
    /// The fee payer (the threshold key), base58.
    pub fee_payer: String,
    /// The wire transaction, base64 (what `sendTransaction` takes with base64 encoding).
    pub tx_base64: String,
}

/// The threshold keys the demo signs with.
pub struct Keys<'a> {
    /// CGGMP21 shares (Bitcoin P2WPKH, EVM).
    pub ecdsa: &'a [Cggmp21Share],
    /// FROST Ed25519 shares (Solana).
    pub ed25519: &'a [KeyShare<<FrostEd25519 as ThresholdScheme>::Data>],
    /// FROST Taproot shares (Bitcoin P2TR).
    pub taproot: &'a [KeyShare<<FrostTaproot as ThresholdScheme>::Data>],
}

/// What the demo transactions are made for.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Signing parties.
    pub signers: Vec<PartyIndex>,
    /// EVM chain id.
    pub evm_chain_id: u64,
    /// Solana recent blockhash.
    pub sol_blockhash: SolHash,
    /// Transport timeouts.
    pub drive: DriveOptions,
}

/// The blockhash of a fresh local Solana runtime (LiteSVM starts from SHA-256("genesis")),
/// so the demo transactions run there unchanged. To send to a cluster, use a recent
/// blockhash from `getLatestBlockhash` instead.
pub fn local_runtime_blockhash() -> SolHash {
    SolHash::new_from_array(Sha256::digest(b"genesis").into())
}

/// EVM recipient of the demo transfers.
pub const EVM_RECIPIENT: EvmAddress = address!("0x000000000000000000000000000000000000dEaD");
/// Value of each EVM transfer (0.001 ether).
pub const EVM_VALUE_WEI: u128 = 1_000_000_000_000_000;
/// Max fee per gas and legacy gas price (20 gwei).
pub const EVM_GAS_PRICE: u128 = 20_000_000_000;

/// Solana recipient of the demo transfers.
pub fn sol_recipient() -> SolAddress {
    SolAddress::new_from_array(Sha256::digest(b"mpc-wallet-sdk quickstart recipient").into())
}

/// Lamports of the legacy and the v0 transfer (each above the rent-exempt minimum of an
/// empty account).
pub const SOL_LAMPORTS: [u64; 2] = [1_000_000, 2_000_000];

/// Who signs the demo transactions: the parties on local threads, or party processes
/// through a coordinator.
pub trait DemoSigner {
    /// Signs `requests` (one session, a batch if several) with the key `key` of `scheme`.
    ///
    /// # Errors
    /// Signing failed.
    fn sign(
        &self,
        scheme: SchemeId,
        key: &PublicKey,
        requests: &[SignRequest],
    ) -> Res<Vec<Signature>>;
}

/// The threshold keys' public halves.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PublicKeys {
    /// CGGMP21 key (Bitcoin P2WPKH, EVM).
    pub ecdsa: PublicKey,
    /// FROST Ed25519 key (Solana).
    pub ed25519: PublicKey,
    /// FROST Taproot internal key (Bitcoin P2TR).
    pub taproot: PublicKey,
}

/// All signers on threads of this process, over the in-memory transport.
struct LocalSigner<'a>(&'a Keys<'a>, &'a Settings);

impl DemoSigner for LocalSigner<'_> {
    fn sign(
        &self,
        scheme: SchemeId,
        _key: &PublicKey,
        requests: &[SignRequest],
    ) -> Res<Vec<Signature>> {
        let (k, s) = (self.0, self.1);
        Ok(match scheme {
            SchemeId::Cggmp21Secp256k1 => {
                sign_batch_all::<Cggmp21>(k.ecdsa, &s.signers, requests, &s.drive)?
            }
            SchemeId::FrostEd25519 => {
                sign_batch_all::<FrostEd25519>(k.ed25519, &s.signers, requests, &s.drive)?
            }
            SchemeId::FrostSecp256k1Tr => {
                sign_batch_all::<FrostTaproot>(k.taproot, &s.signers, requests, &s.drive)?
            }
            other => return Err(format!("no demo key for {other}").into()),
        })
    }
}

/// The requests come from the encoder (every party derives them again from the unsigned
/// payload they carry: what you see is what you sign), are signed as one session, and the
/// encoder puts the signatures in place.
fn sign_with<C: ChainEncoder>(
    enc: &C,
    unsigned: C::Unsigned,
    scheme: SchemeId,
    key: &PublicKey,
    signer: &dyn DemoSigner,
) -> Res<C::Signed> {
    let requests = enc.requests(&unsigned, key)?;
    let sigs = signer.sign(scheme, key, &requests)?;
    Ok(enc.finalize(unsigned, &[(*key, sigs)])?)
}

/// Signs all demo transactions. Also returns one readable line per transaction.
///
/// # Errors
/// Signing, encoding or transport errors.
pub fn sign_demo_transactions(keys: &Keys<'_>, s: &Settings) -> Res<(Report, Vec<String>)> {
    let first = |k: Option<PublicKey>| k.ok_or("no shares");
    let pks = PublicKeys {
        ecdsa: first(keys.ecdsa.first().map(KeyShare::public_key))?,
        ed25519: first(keys.ed25519.first().map(KeyShare::public_key))?,
        taproot: first(keys.taproot.first().map(KeyShare::public_key))?,
    };
    sign_demo_transactions_with(&pks, s, &LocalSigner(keys, s))
}

/// Signs all demo transactions with `signer` (for example a coordinator and party
/// processes). `s.signers` and `s.drive` are not used by remote signers.
///
/// # Errors
/// Signing, encoding or transport errors.
pub fn sign_demo_transactions_with(
    keys: &PublicKeys,
    s: &Settings,
    signer: &dyn DemoSigner,
) -> Res<(Report, Vec<String>)> {
    let mut lines = Vec::new();
    let btc = vec![
        btc_spend(keys, signer, AddressKind::P2wpkh, &[100_000], &mut lines)?,
        btc_spend(
            keys,
            signer,
            AddressKind::P2tr,
            &[60_000, 40_000],
            &mut lines,
        )?,
    ];
    let evm = evm_transfers(keys, s, signer, &mut lines)?;
    let sol = sol_transfers(keys, s, signer, &mut lines)?;
    Ok((Report { btc, evm, sol }, lines))
}

fn btc_spend(
    keys: &PublicKeys,
    signer: &dyn DemoSigner,
    kind: AddressKind,
    values: &[u64],
    lines: &mut Vec<String>,
) -> Res<BtcTx> {
    let net = Network::Regtest;
    let (name, addr) = match kind {
        AddressKind::P2wpkh => ("p2wpkh", p2wpkh_address(&keys.ecdsa, net)?),
        AddressKind::P2tr => ("p2tr", p2tr_address(&keys.taproot, None, net)?),
    };
    let prevouts: Vec<TxOut> = values
        .iter()
        .map(|&v| TxOut {
            value: Amount::from_sat(v),
            script_pubkey: addr.script_pubkey(),
        })
        .collect();
    let total: u64 = values.iter().sum();
    // A made-up funding transaction whose outputs are the ones spent.
    let funding = bitcoin::Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: Txid::from_byte_array(
                    Sha256::digest(format!("quickstart {name} funding")).into(),
                ),
                vout: 0,
            },
            ..TxIn::default()
        }],
        output: prevouts.clone(),
    };
    let funding_txid = funding.compute_txid();
    let unsigned = bitcoin::Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: (0u32..)
            .zip(values)
            .map(|(i, _)| TxIn {
                previous_output: OutPoint {
                    txid: funding_txid,
                    vout: i,
                },
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                ..TxIn::default()
            })
            .collect(),
        // pay back to the same address, minus 1000 sats of fee
        output: vec![TxOut {
            value: Amount::from_sat(total.saturating_sub(1_000)),
            script_pubkey: addr.script_pubkey(),
        }],
    };
    let mut psbt = psbt_from_tx(unsigned, prevouts.clone())?;
    if kind == AddressKind::P2wpkh {
        // Segwit v0 signs the amount without committing to the other inputs' amounts: the
        // whole previous transaction lets every party check it.
        for input in &mut psbt.inputs {
            input.non_witness_utxo = Some(funding.clone());
        }
    }
    let enc = BtcEncoder::new(net, kind);
    let signed = match kind {
        AddressKind::P2wpkh => sign_with(&enc, psbt, Cggmp21::ID, &keys.ecdsa, signer)?,
        AddressKind::P2tr => sign_with(&enc, psbt, FrostTaproot::ID, &keys.taproot, signer)?,
    };
    lines.push(format!(
        "btc  {name:<8} regtest   {addr}  txid {} ({} input{}, {} vbytes)",
        signed.compute_txid(),
        signed.input.len(),
        if signed.input.len() == 1 { "" } else { "s" },
        signed.vsize()
    ));
    Ok(BtcTx {
        kind: name.into(),
        network: "regtest".into(),
        address: addr.to_string(),
        raw_tx_hex: bitcoin::consensus::encode::serialize_hex(&signed),
        prevouts: prevouts
            .iter()
            .map(|p| Prevout {
                value_sats: p.value.to_sat(),
                script_pubkey_hex: hex::encode(p.script_pubkey.as_bytes()),
            })
            .collect(),
    })
}

fn evm_transfers(
    keys: &PublicKeys,
    s: &Settings,
    signer: &dyn DemoSigner,
    lines: &mut Vec<String>,
) -> Res<Vec<EvmTx>> {
    let enc = EvmEncoder::new(s.evm_chain_id);
    let key = keys.ecdsa;
    let sender = enc.address(&key)?;
    let txs = [
        (
            "eip1559",
            TypedTransaction::Eip1559(TxEip1559 {
                chain_id: s.evm_chain_id,
                nonce: 0,
                gas_limit: 21_000,
                max_fee_per_gas: EVM_GAS_PRICE,
                max_priority_fee_per_gas: 1_000_000_000,
                to: TxKind::Call(EVM_RECIPIENT),
                value: U256::from(EVM_VALUE_WEI),
                access_list: Default::default(),
                input: Bytes::new(),
            }),
        ),
        (
            "legacy",
            TypedTransaction::Legacy(TxLegacy {
                chain_id: Some(s.evm_chain_id),
                nonce: 1,
                gas_price: EVM_GAS_PRICE,
                gas_limit: 21_000,
                to: TxKind::Call(EVM_RECIPIENT),
                value: U256::from(EVM_VALUE_WEI),
                input: Bytes::new(),
            }),
        ),
    ];
    let mut out = Vec::new();
    for (kind, tx) in txs {
        let signed = sign_with(&enc, tx, Cggmp21::ID, &key, signer)?;
        lines.push(format!(
            "evm  {kind:<8} chain {:<4} {sender}  hash {}",
            s.evm_chain_id,
            signed.envelope.tx_hash()
        ));
        out.push(EvmTx {
            kind: kind.into(),
            chain_id: s.evm_chain_id,
            address: sender.clone(),
            raw_tx_hex: format!("0x{}", hex::encode(&signed.raw)),
        });
    }
    Ok(out)
}

fn sol_transfers(
    keys: &PublicKeys,
    s: &Settings,
    signer: &dyn DemoSigner,
    lines: &mut Vec<String>,
) -> Res<Vec<SolTx>> {
    let key = keys.ed25519;
    let payer = chain_sol::address(&key)?;
    let to = sol_recipient();
    let [l0, l1] = SOL_LAMPORTS;
    // Rebuilt from bytes: `Hash` is `Copy` only with some features of the Solana crates.
    let bh = SolHash::new_from_array(s.sol_blockhash.to_bytes());
    let legacy = Message::new_with_blockhash(
        &[solana_system_interface::instruction::transfer(
            &payer, &to, l0,
        )],
        Some(&payer),
        &bh,
    );
    let v0 = v0::Message::try_compile(
        &payer,
        &[solana_system_interface::instruction::transfer(
            &payer, &to, l1,
        )],
        &[],
        bh,
    )?;
    let mut out = Vec::new();
    for (kind, msg) in [
        ("legacy", VersionedMessage::Legacy(legacy)),
        ("v0", VersionedMessage::V0(v0)),
    ] {
        let enc = SolEncoder::new();
        let signed = sign_with(
            &enc,
            chain_sol::unsigned(msg),
            FrostEd25519::ID,
            &key,
            signer,
        )?;
        lines.push(format!(
            "sol  {kind:<8} fee payer {payer}  signature {}",
            signed.id().unwrap_or_default()
        ));
        out.push(SolTx {
            kind: kind.into(),
            fee_payer: payer.to_string(),
            tx_base64: signed.base64(),
        });
    }
    Ok(out)
}

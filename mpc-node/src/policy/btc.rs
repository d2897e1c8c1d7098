//! Bitcoin rules: networks, sighash types, previous transactions of segwit-v0 inputs, the
//! value sent and the fee.

use std::str::FromStr;

use bitcoin::psbt::Psbt;
use bitcoin::{Address, Network, ScriptBuf};
use chain_btc::{AddressKind, BtcEncoder, InputKind};
use mpc_core::chain::ChainEncoder;
use mpc_core::{PublicKey, SchemeId, SignRequest};
use mpc_transport::KeyRef;

use super::{derive, Approved, BtcConfig, ChainRules, Refusal};
use crate::error::{NodeError, Result};

/// The Bitcoin rules of a party (see [`BtcConfig`]).
#[derive(Debug, Clone)]
pub struct BtcRules {
    networks: Vec<Network>,
    p2wpkh: Vec<u32>,
    p2tr: Vec<u32>,
    require_previous_tx: bool,
    max_sent: Option<u64>,
    max_fee: Option<u64>,
}

fn config_error(reason: String) -> NodeError {
    NodeError::Other(format!("policy.btc: {reason}"))
}

/// `ALL`, `NONE`, `SINGLE` (with `|ANYONECANPAY`), `DEFAULT` → the sighash byte.
fn sighash_value(name: &str) -> Result<u32> {
    let upper = name.trim().to_ascii_uppercase();
    let upper = upper.strip_prefix("SIGHASH_").unwrap_or(&upper);
    let (base, acp) = match upper.split_once('|') {
        Some((b, "ANYONECANPAY")) => (b, 0x80),
        None => (upper, 0),
        Some(_) => return Err(config_error(format!("unknown sighash type {name:?}"))),
    };
    let base = match base {
        "DEFAULT" if acp == 0 => 0,
        "ALL" => 1,
        "NONE" => 2,
        "SINGLE" => 3,
        _ => return Err(config_error(format!("unknown sighash type {name:?}"))),
    };
    Ok(base | acp)
}

fn sighash_name(v: u32) -> String {
    let base = match v & 0x7f {
        0 => "DEFAULT",
        1 => "ALL",
        2 => "NONE",
        3 => "SINGLE",
        _ => "UNKNOWN",
    };
    if v & 0x80 != 0 {
        format!("{base}|ANYONECANPAY")
    } else {
        base.to_string()
    }
}

impl BtcRules {
    /// Rules from the config.
    ///
    /// # Errors
    /// An unknown network or sighash type.
    pub fn new(c: &BtcConfig) -> Result<Self> {
        let networks = c
            .networks
            .iter()
            .map(|n| Network::from_str(n).map_err(|e| config_error(format!("network {n:?}: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        if networks.is_empty() {
            return Err(config_error("networks is empty".into()));
        }
        let parse = |v: &[String]| {
            v.iter()
                .map(|s| sighash_value(s))
                .collect::<Result<Vec<_>>>()
        };
        Ok(BtcRules {
            networks,
            p2wpkh: parse(&c.p2wpkh_sighash)?,
            p2tr: parse(&c.p2tr_sighash)?,
            require_previous_tx: c.require_previous_tx,
            max_sent: c.max_sent_sats,
            max_fee: c.max_fee_sats,
        })
    }

    fn encoder(&self, scheme: SchemeId) -> core::result::Result<BtcEncoder, Refusal> {
        let kind = match scheme {
            SchemeId::Cggmp21Secp256k1 | SchemeId::Gg20Secp256k1 => AddressKind::P2wpkh,
            SchemeId::FrostSecp256k1Tr => AddressKind::P2tr,
            other => {
                return Err(Refusal::new(
                    "btc.scheme",
                    format!("{other} keys do not sign Bitcoin inputs"),
                ))
            }
        };
        let network = self.networks.first().copied().unwrap_or(Network::Regtest);
        Ok(BtcEncoder::new(network, kind))
    }

    fn check_psbt(
        &self,
        enc: &BtcEncoder,
        psbt: &Psbt,
        key: &PublicKey,
    ) -> core::result::Result<String, Refusal> {
        let taproot_key = enc.address_kind == AddressKind::P2tr;
        let ours = enc
            .inputs_of(psbt, key)
            .map_err(|e| Refusal::new("btc.decode", e.to_string()))?;
        if ours.is_empty() {
            return Err(Refusal::new(
                "btc.decode",
                "the key spends no input of this transaction",
            ));
        }
        for (i, kind, _) in &ours {
            if taproot_key != matches!(kind, InputKind::P2tr(..)) {
                return Err(Refusal::new(
                    "btc.scheme",
                    format!("input {i} is not of the kind this key signs (ECDSA keys sign P2WPKH, FROST Taproot keys P2TR)"),
                ));
            }
            let (allowed, ty, what) = match kind {
                InputKind::P2wpkh(t) => (&self.p2wpkh, t.to_u32(), "P2WPKH"),
                InputKind::P2tr(t, _) => (&self.p2tr, *t as u32, "P2TR"),
            };
            if !allowed.contains(&ty) {
                return Err(Refusal::new(
                    "btc.sighash",
                    format!(
                        "input {i} ({what}) asks for SIGHASH_{}, not allowed",
                        sighash_name(ty)
                    ),
                ));
            }
        }
        let tx = &psbt.unsigned_tx;
        let mut total_in: u64 = 0;
        for (i, (input, txin)) in psbt.inputs.iter().zip(&tx.input).enumerate() {
            let utxo = input.witness_utxo.as_ref().ok_or_else(|| {
                Refusal::new("btc.decode", format!("input {i} has no spent output"))
            })?;
            if self.require_previous_tx && !utxo.script_pubkey.is_p2tr() {
                let prev = input.non_witness_utxo.as_ref().ok_or_else(|| {
                    Refusal::new(
                        "btc.previous_tx",
                        format!("input {i} is not Taproot and carries no previous transaction, so its amount cannot be checked"),
                    )
                })?;
                if prev.compute_txid() != txin.previous_output.txid {
                    return Err(Refusal::new(
                        "btc.previous_tx",
                        format!("input {i}: the previous transaction is not the one spent"),
                    ));
                }
                let vout = usize::try_from(txin.previous_output.vout).unwrap_or(usize::MAX);
                if prev.output.get(vout) != Some(utxo) {
                    return Err(Refusal::new(
                        "btc.previous_tx",
                        format!("input {i}: the spent output's amount or script differs from the previous transaction"),
                    ));
                }
            }
            total_in = total_in.saturating_add(utxo.value.to_sat());
        }
        let own: [ScriptBuf; 2] = own_scripts(key)?;
        let mut total_out: u64 = 0;
        let mut sent: u64 = 0;
        let mut outs = Vec::new();
        let network = self.networks.first().copied().unwrap_or(Network::Regtest);
        for o in &tx.output {
            let v = o.value.to_sat();
            total_out = total_out.saturating_add(v);
            let change = own.contains(&o.script_pubkey);
            if !change {
                sent = sent.saturating_add(v);
            }
            let to = Address::from_script(&o.script_pubkey, network).map_or_else(
                |_| format!("script {}", o.script_pubkey.to_hex_string()),
                |a| a.to_string(),
            );
            outs.push(format!(
                "{to}: {v}{}",
                if change { " (change)" } else { "" }
            ));
        }
        let fee = total_in.checked_sub(total_out).ok_or_else(|| {
            Refusal::new(
                "btc.fee",
                format!("outputs ({total_out} sats) exceed inputs ({total_in} sats)"),
            )
        })?;
        if let Some(max) = self.max_sent {
            if sent > max {
                return Err(Refusal::new(
                    "btc.max_sent",
                    format!("sends {sent} sats, above the limit of {max}"),
                ));
            }
        }
        if let Some(max) = self.max_fee {
            if fee > max {
                return Err(Refusal::new(
                    "btc.max_fee",
                    format!("fee {fee} sats, above the limit of {max}"),
                ));
            }
        }
        Ok(format!(
            "txid {}; {} inputs ({} of this key), {total_in} sats in; outputs [{}]; sent {sent} sats; fee {fee} sats",
            tx.compute_txid(),
            tx.input.len(),
            ours.len(),
            outs.join(", ")
        ))
    }
}

fn own_scripts(key: &PublicKey) -> core::result::Result<[ScriptBuf; 2], Refusal> {
    let bad = |e: chain_btc::BtcError| Refusal::new("btc.decode", e.to_string());
    let wpkh = chain_btc::p2wpkh_address(key, Network::Regtest).map_err(bad)?;
    let tr = chain_btc::p2tr_address(key, None, Network::Regtest).map_err(bad)?;
    Ok([wpkh.script_pubkey(), tr.script_pubkey()])
}

impl ChainRules for BtcRules {
    fn chain(&self) -> &'static str {
        "btc"
    }

    fn check(
        &self,
        key: &KeyRef,
        request: &SignRequest,
    ) -> core::result::Result<Approved, Refusal> {
        let enc = self.encoder(key.scheme)?;
        let payload = request
            .chain_payload
            .as_ref()
            .ok_or_else(|| Refusal::new("raw_digest", "no chain payload"))?;
        let psbt = enc
            .decode_unsigned(&payload.bytes)
            .map_err(|e| Refusal::new("btc.decode", e.to_string()))?;
        let summary = self.check_psbt(&enc, &psbt, &key.public_key)?;
        derive(&enc, &key.public_key, request, summary)
    }
}

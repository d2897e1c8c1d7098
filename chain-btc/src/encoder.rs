//! The Bitcoin [`ChainEncoder`].

use bitcoin::hashes::Hash;
use bitcoin::psbt::Psbt;
use bitcoin::secp256k1::{self, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::TapNodeHash;
use bitcoin::{
    Address, CompressedPublicKey, Network, ScriptBuf, Transaction, TxOut, Witness, XOnlyPublicKey,
};
use mpc_core::chain::ChainEncoder;
use mpc_core::{ChainPayload, PublicKey, SignPayload, SignRequest, Signature};

use crate::error::BtcError;

/// Which address [`ChainEncoder::address`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// Native segwit v0 (`bc1q...`), for ECDSA keys.
    P2wpkh,
    /// Taproot key path with no script tree (`bc1p...`), for FROST/BIP-340 keys.
    P2tr,
}

/// How an input is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// P2WPKH: ECDSA over the BIP-143 sighash.
    P2wpkh(EcdsaSighashType),
    /// P2TR key path: BIP-340 over the BIP-341 sighash, under the tweaked key.
    P2tr(TapSighashType, Option<[u8; 32]>),
}

/// The Bitcoin encoder for one network.
#[derive(Debug, Clone, Copy)]
pub struct BtcEncoder {
    /// Network of the addresses.
    pub network: Network,
    /// Address kind for [`ChainEncoder::address`].
    pub address_kind: AddressKind,
}

fn compressed(key: &PublicKey) -> Result<CompressedPublicKey, BtcError> {
    match key {
        PublicKey::Secp256k1(b) => {
            CompressedPublicKey::from_slice(b).map_err(|_| BtcError::WrongCurve)
        }
        PublicKey::Ed25519(_) => Err(BtcError::WrongCurve),
    }
}

fn x_only(key: &PublicKey) -> Result<XOnlyPublicKey, BtcError> {
    Ok(compressed(key)?.0.x_only_public_key().0)
}

/// The P2WPKH address of an ECDSA key.
///
/// # Errors
/// [`BtcError::WrongCurve`].
pub fn p2wpkh_address(key: &PublicKey, network: Network) -> Result<Address, BtcError> {
    Ok(Address::p2wpkh(&compressed(key)?, network))
}

/// The P2TR address of a FROST/BIP-340 internal key with an optional script-tree root.
///
/// # Errors
/// [`BtcError::WrongCurve`].
pub fn p2tr_address(
    key: &PublicKey,
    merkle_root: Option<[u8; 32]>,
    network: Network,
) -> Result<Address, BtcError> {
    let secp = Secp256k1::verification_only();
    let root = merkle_root.map(TapNodeHash::from_byte_array);
    Ok(Address::p2tr(&secp, x_only(key)?, root, network))
}

/// A PSBT for an unsigned transaction and the outputs its inputs spend (in input order).
///
/// # Errors
/// [`BtcError::PrevoutCount`], [`BtcError::InvalidPsbt`] (for example a transaction with
/// signatures already in it).
pub fn psbt_from_tx(tx: Transaction, prevouts: Vec<TxOut>) -> Result<Psbt, BtcError> {
    if tx.input.len() != prevouts.len() {
        return Err(BtcError::PrevoutCount {
            inputs: tx.input.len(),
            prevouts: prevouts.len(),
        });
    }
    let mut psbt = Psbt::from_unsigned_tx(tx).map_err(|e| BtcError::InvalidPsbt(e.to_string()))?;
    for (input, prevout) in psbt.inputs.iter_mut().zip(prevouts) {
        input.witness_utxo = Some(prevout);
    }
    Ok(psbt)
}

impl BtcEncoder {
    /// An encoder for `network` whose [`ChainEncoder::address`] is of `address_kind`.
    pub fn new(network: Network, address_kind: AddressKind) -> Self {
        BtcEncoder {
            network,
            address_kind,
        }
    }

    /// The spent outputs of every input, in order.
    fn prevouts(psbt: &Psbt) -> Result<Vec<TxOut>, BtcError> {
        psbt.inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                input
                    .witness_utxo
                    .clone()
                    .ok_or(BtcError::MissingSpentOutput { input: i })
            })
            .collect()
    }

    /// How `key` spends input `i` with spent output `prevout`, if it does.
    fn kind_of(
        psbt: &Psbt,
        i: usize,
        prevout: &TxOut,
        key: &PublicKey,
    ) -> Result<Option<InputKind>, BtcError> {
        let input = psbt
            .inputs
            .get(i)
            .ok_or(BtcError::MissingSpentOutput { input: i })?;
        let spk = &prevout.script_pubkey;
        if spk.is_p2wpkh() && *spk == ScriptBuf::new_p2wpkh(&compressed(key)?.wpubkey_hash()) {
            let ty = match input.sighash_type {
                None => EcdsaSighashType::All,
                Some(t) => t.ecdsa_hash_ty().map_err(|e| BtcError::Sighash {
                    input: i,
                    reason: e.to_string(),
                })?,
            };
            return Ok(Some(InputKind::P2wpkh(ty)));
        }
        if spk.is_p2tr() {
            let internal = x_only(key)?;
            if input.tap_internal_key.is_some_and(|k| k != internal) {
                return Ok(None);
            }
            let root = input.tap_merkle_root;
            let secp = Secp256k1::verification_only();
            if *spk == ScriptBuf::new_p2tr(&secp, internal, root) {
                let ty = match input.sighash_type {
                    None => TapSighashType::Default,
                    Some(t) => t.taproot_hash_ty().map_err(|e| BtcError::Sighash {
                        input: i,
                        reason: e.to_string(),
                    })?,
                };
                return Ok(Some(InputKind::P2tr(ty, root.map(|r| r.to_byte_array()))));
            }
        }
        Ok(None)
    }

    /// The inputs `key` spends, with how, and their digests.
    pub fn inputs_of(
        &self,
        psbt: &Psbt,
        key: &PublicKey,
    ) -> Result<Vec<(usize, InputKind, [u8; 32])>, BtcError> {
        let prevouts = Self::prevouts(psbt)?;
        let mut cache = SighashCache::new(&psbt.unsigned_tx);
        let mut out = Vec::new();
        for (i, prevout) in prevouts.iter().enumerate() {
            let digest = match Self::kind_of(psbt, i, prevout, key)? {
                None => continue,
                Some(kind @ InputKind::P2wpkh(ty)) => {
                    let h = cache
                        .p2wpkh_signature_hash(i, &prevout.script_pubkey, prevout.value, ty)
                        .map_err(|e| BtcError::Sighash {
                            input: i,
                            reason: e.to_string(),
                        })?;
                    (kind, h.to_byte_array())
                }
                Some(kind @ InputKind::P2tr(ty, _)) => {
                    let h = cache
                        .taproot_key_spend_signature_hash(i, &Prevouts::All(&prevouts), ty)
                        .map_err(|e| BtcError::Sighash {
                            input: i,
                            reason: e.to_string(),
                        })?;
                    (kind, h.to_byte_array())
                }
            };
            out.push((i, digest.0, digest.1));
        }
        Ok(out)
    }
}

fn item(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl ChainEncoder for BtcEncoder {
    type Unsigned = Psbt;
    type Signed = Transaction;
    type Error = BtcError;

    fn chain(&self) -> &'static str {
        "btc"
    }

    fn encode_unsigned(&self, psbt: &Psbt) -> Result<Vec<u8>, BtcError> {
        Ok(psbt.serialize())
    }

    fn decode_unsigned(&self, bytes: &[u8]) -> Result<Psbt, BtcError> {
        Psbt::deserialize(bytes).map_err(|e| BtcError::InvalidPsbt(e.to_string()))
    }

    fn requests(&self, psbt: &Psbt, key: &PublicKey) -> Result<Vec<SignRequest>, BtcError> {
        let bytes = psbt.serialize();
        let inputs = self.inputs_of(psbt, key)?;
        if inputs.is_empty() {
            return Err(BtcError::NothingToSign);
        }
        Ok(inputs
            .into_iter()
            .map(|(i, kind, digest)| {
                let payload = match kind {
                    InputKind::P2wpkh(_) => SignPayload::EcdsaPrehash { prehash: digest },
                    InputKind::P2tr(_, merkle_root) => SignPayload::Bip340 {
                        message: digest.to_vec(),
                        merkle_root,
                    },
                };
                let mut request = SignRequest::from_payload(payload);
                request.chain_payload = Some(ChainPayload {
                    chain: "btc".into(),
                    bytes: bytes.clone(),
                    item: item(i),
                });
                request
            })
            .collect())
    }

    fn finalize(
        &self,
        mut psbt: Psbt,
        signatures: &[(PublicKey, Vec<Signature>)],
    ) -> Result<Transaction, BtcError> {
        for (key, sigs) in signatures {
            let inputs = self.inputs_of(&psbt, key)?;
            if inputs.len() != sigs.len() {
                return Err(BtcError::BadSignature {
                    input: inputs.first().map_or(0, |x| x.0),
                    reason: format!(
                        "{} inputs to sign but {} signatures",
                        inputs.len(),
                        sigs.len()
                    ),
                });
            }
            for ((i, kind, digest), sig) in inputs.into_iter().zip(sigs) {
                let bad = |reason: String| BtcError::BadSignature { input: i, reason };
                let witness = match (kind, sig) {
                    (InputKind::P2wpkh(ty), Signature::Ecdsa(e)) => {
                        mpc_core::verify::verify(
                            key,
                            &SignPayload::EcdsaPrehash { prehash: digest },
                            sig,
                        )
                        .map_err(|e| bad(e.to_string()))?;
                        let mut s = secp256k1::ecdsa::Signature::from_compact(&e.to_bytes())
                            .map_err(|e| bad(e.to_string()))?;
                        s.normalize_s();
                        let pk = compressed(key)?.0;
                        Witness::p2wpkh(
                            &bitcoin::ecdsa::Signature {
                                signature: s,
                                sighash_type: ty,
                            },
                            &pk,
                        )
                    }
                    (InputKind::P2tr(ty, merkle_root), Signature::Bip340 { bytes }) => {
                        let payload = SignPayload::Bip340 {
                            message: digest.to_vec(),
                            merkle_root,
                        };
                        mpc_core::verify::verify(key, &payload, sig)
                            .map_err(|e| bad(e.to_string()))?;
                        let s = secp256k1::schnorr::Signature::from_slice(bytes)
                            .map_err(|e| bad(e.to_string()))?;
                        Witness::p2tr_key_spend(&bitcoin::taproot::Signature {
                            signature: s,
                            sighash_type: ty,
                        })
                    }
                    _ => return Err(bad("signature kind does not fit the input".into())),
                };
                let input = psbt
                    .inputs
                    .get_mut(i)
                    .ok_or(BtcError::MissingSpentOutput { input: i })?;
                input.final_script_witness = Some(witness);
                // BIP-174 finalizer: clear everything but the UTXO and the final fields.
                input.partial_sigs.clear();
                input.sighash_type = None;
                input.tap_key_sig = None;
                input.tap_internal_key = None;
                input.tap_merkle_root = None;
                input.bip32_derivation.clear();
                input.tap_key_origins.clear();
            }
        }
        if let Some(i) = psbt
            .inputs
            .iter()
            .position(|x| x.final_script_witness.is_none() && x.final_script_sig.is_none())
        {
            return Err(BtcError::NotFinalized { input: i });
        }
        psbt.extract_tx()
            .map_err(|e| BtcError::Extract(e.to_string()))
    }

    fn address(&self, key: &PublicKey) -> Result<String, BtcError> {
        Ok(match self.address_kind {
            AddressKind::P2wpkh => p2wpkh_address(key, self.network)?,
            AddressKind::P2tr => p2tr_address(key, None, self.network)?,
        }
        .to_string())
    }
}

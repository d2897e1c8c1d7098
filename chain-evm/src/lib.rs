//! # chain-evm
//!
//! EVM transactions and messages signed by a threshold ECDSA key, with alloy for every
//! encoding: legacy (EIP-155), EIP-2930, EIP-1559 and EIP-7702 transactions → signing hash →
//! signature with `y_parity` (low-s) → signed EIP-2718 envelope bytes; EIP-191 personal
//! messages and EIP-712 typed data; checksummed addresses. A transaction whose chain id
//! differs from the encoder's is refused before anything is signed.
//!
//! [`EvmEncoder`] implements [`mpc_core::chain::ChainEncoder`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use alloy_consensus::{SignableTransaction, Transaction, TxEnvelope, TypedTransaction};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, U256};
use mpc_core::chain::ChainEncoder;
use mpc_core::{ChainPayload, PublicKey, SignPayload, SignRequest, Signature};

mod unsigned;

pub use alloy_consensus;
pub use alloy_primitives;
pub use alloy_sol_types;
pub use unsigned::{decode_unsigned_2718, encode_unsigned_2718};

/// What can go wrong encoding or signing an EVM transaction or message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvmError {
    /// The transaction's chain id differs from the one the encoder signs for (or is missing:
    /// pre-EIP-155 legacy transactions are refused, they replay on every chain).
    #[error("transaction chain id {found:?} differs from the signer's chain id {expected}")]
    ChainIdMismatch {
        /// The encoder's chain id.
        expected: u64,
        /// The transaction's.
        found: Option<u64>,
    },
    /// EIP-4844 blob transactions are not supported.
    #[error("unsupported transaction type: {0}")]
    Unsupported(&'static str),
    /// The key is not a secp256k1 key.
    #[error("EVM keys are secp256k1 keys")]
    WrongCurve,
    /// The unsigned payload does not decode.
    #[error("invalid unsigned transaction: {0}")]
    Invalid(String),
    /// The signature is missing, of the wrong kind, or does not verify / recover.
    #[error("bad signature: {0}")]
    BadSignature(String),
}

/// The EVM encoder for one chain id.
#[derive(Debug, Clone, Copy)]
pub struct EvmEncoder {
    /// The chain id this signer signs for.
    pub chain_id: u64,
}

/// The address of a secp256k1 key: the last 20 bytes of keccak256 of the uncompressed point.
///
/// # Errors
/// [`EvmError::WrongCurve`].
pub fn address(key: &PublicKey) -> Result<Address, EvmError> {
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(key.as_bytes())
        .map_err(|_| EvmError::WrongCurve)?;
    Ok(Address::from_public_key(&vk))
}

/// An ECDSA signature as alloy's, checking it recovers to `key`'s address for `hash`.
///
/// # Errors
/// [`EvmError::BadSignature`].
pub fn to_alloy_signature(
    key: &PublicKey,
    hash: B256,
    sig: &Signature,
) -> Result<alloy_primitives::Signature, EvmError> {
    let Signature::Ecdsa(e) = sig else {
        return Err(EvmError::BadSignature("not an ECDSA signature".into()));
    };
    mpc_core::verify::verify(key, &SignPayload::EcdsaPrehash { prehash: hash.0 }, sig)
        .map_err(|e| EvmError::BadSignature(e.to_string()))?;
    if e.recovery_id > 1 {
        return Err(EvmError::BadSignature(
            "recovery id above 1 (r >= n) has no y_parity".into(),
        ));
    }
    let s = alloy_primitives::Signature::new(
        U256::from_be_bytes(e.r),
        U256::from_be_bytes(e.s),
        e.recovery_id == 1,
    );
    let recovered = s
        .recover_address_from_prehash(&hash)
        .map_err(|e| EvmError::BadSignature(e.to_string()))?;
    if recovered != address(key)? {
        return Err(EvmError::BadSignature(
            "signature recovers to another address".into(),
        ));
    }
    Ok(s)
}

/// A signing request for an EIP-191 personal message (`"\x19Ethereum Signed Message:\n" || len || message`).
pub fn personal_message_request(message: &[u8]) -> SignRequest {
    SignRequest::ecdsa(alloy_primitives::eip191_hash_message(message).0)
}

/// A signing request for EIP-712 typed data under `domain`.
pub fn typed_data_request<T: alloy_sol_types::SolStruct>(
    data: &T,
    domain: &alloy_sol_types::Eip712Domain,
) -> SignRequest {
    SignRequest::ecdsa(data.eip712_signing_hash(domain).0)
}

/// The 65-byte `r || s || v` form wallets use for messages (`v` = 27 + y_parity).
///
/// # Errors
/// As [`to_alloy_signature`].
pub fn message_signature_bytes(
    key: &PublicKey,
    hash: B256,
    sig: &Signature,
) -> Result<[u8; 65], EvmError> {
    Ok(to_alloy_signature(key, hash, sig)?.as_bytes())
}

/// A signed transaction: the envelope and its EIP-2718 bytes.
#[derive(Debug, Clone)]
pub struct SignedTx {
    /// The signed envelope.
    pub envelope: TxEnvelope,
    /// EIP-2718 encoding (what `eth_sendRawTransaction` takes).
    pub raw: Vec<u8>,
}

impl EvmEncoder {
    /// An encoder for `chain_id`.
    pub fn new(chain_id: u64) -> Self {
        EvmEncoder { chain_id }
    }

    fn check(&self, tx: &TypedTransaction) -> Result<B256, EvmError> {
        if matches!(tx, TypedTransaction::Eip4844(_)) {
            return Err(EvmError::Unsupported("EIP-4844 blob transactions"));
        }
        if tx.chain_id() != Some(self.chain_id) {
            return Err(EvmError::ChainIdMismatch {
                expected: self.chain_id,
                found: tx.chain_id(),
            });
        }
        Ok(tx.signature_hash())
    }
}

impl ChainEncoder for EvmEncoder {
    type Unsigned = TypedTransaction;
    type Signed = SignedTx;
    type Error = EvmError;

    fn chain(&self) -> &'static str {
        "evm"
    }

    fn encode_unsigned(&self, tx: &TypedTransaction) -> Result<Vec<u8>, EvmError> {
        serde_json::to_vec(tx).map_err(|e| EvmError::Invalid(e.to_string()))
    }

    fn decode_unsigned(&self, bytes: &[u8]) -> Result<TypedTransaction, EvmError> {
        serde_json::from_slice(bytes).map_err(|e| EvmError::Invalid(e.to_string()))
    }

    fn requests(
        &self,
        tx: &TypedTransaction,
        key: &PublicKey,
    ) -> Result<Vec<SignRequest>, EvmError> {
        address(key)?;
        let hash = self.check(tx)?;
        let mut req = SignRequest::ecdsa(hash.0);
        req.chain_payload = Some(ChainPayload {
            chain: "evm".into(),
            bytes: self.encode_unsigned(tx)?,
            item: 0,
        });
        Ok(vec![req])
    }

    fn finalize(
        &self,
        tx: TypedTransaction,
        signatures: &[(PublicKey, Vec<Signature>)],
    ) -> Result<SignedTx, EvmError> {
        let hash = self.check(&tx)?;
        let [(key, sigs)] = signatures else {
            return Err(EvmError::BadSignature(
                "an EVM transaction has exactly one signer".into(),
            ));
        };
        let [sig] = sigs.as_slice() else {
            return Err(EvmError::BadSignature(
                "expected exactly one signature".into(),
            ));
        };
        let s = to_alloy_signature(key, hash, sig)?;
        let envelope = tx.into_envelope(s);
        let raw = envelope.encoded_2718();
        Ok(SignedTx { envelope, raw })
    }

    fn address(&self, key: &PublicKey) -> Result<String, EvmError> {
        Ok(address(key)?.to_checksum(None))
    }
}

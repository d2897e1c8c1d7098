//! [`SolEncoder`]: the [`ChainEncoder`] for Solana legacy and v0 transactions.

use base64::Engine as _;
use mpc_core::chain::ChainEncoder;
use mpc_core::{ChainPayload, PublicKey, SignRequest, Signature};
use solana_address::Address;
use solana_transaction::versioned::VersionedTransaction;

use crate::{
    address, message_bytes, missing_signers, normalize, place_signature, signer_position, SolError,
    PACKET_DATA_SIZE,
};

/// The Solana encoder. The unsigned payload is a [`VersionedTransaction`] whose signature
/// slots may be empty (or already hold other signers' signatures); it travels to the parties
/// in Solana's wire format, and each party derives the message bytes from it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SolEncoder;

/// A transaction with the threshold key's signature in place.
#[derive(Debug, Clone)]
pub struct SignedTx {
    /// The transaction.
    pub tx: VersionedTransaction,
    /// Its wire format (what `sendTransaction` takes, before base64/base58).
    pub bytes: Vec<u8>,
    /// Required signers whose slot is still empty; empty when the transaction is ready.
    pub missing_signers: Vec<Address>,
}

impl SignedTx {
    /// The wire bytes in base64.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }

    /// The wire bytes in base58.
    pub fn base58(&self) -> String {
        bs58::encode(&self.bytes).into_string()
    }

    /// The transaction id: the fee payer's signature in base58, if present.
    pub fn id(&self) -> Option<String> {
        self.tx.signatures.first().map(ToString::to_string)
    }

    /// Whether every required signer has signed.
    pub fn is_complete(&self) -> bool {
        self.missing_signers.is_empty()
    }
}

impl SolEncoder {
    /// The encoder.
    pub fn new() -> Self {
        SolEncoder
    }
}

fn encode(tx: &VersionedTransaction) -> Result<Vec<u8>, SolError> {
    let bytes = wincode::serialize(tx).map_err(|e| SolError::Invalid(e.to_string()))?;
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(SolError::TooLarge(bytes.len()));
    }
    Ok(bytes)
}

impl ChainEncoder for SolEncoder {
    type Unsigned = VersionedTransaction;
    type Signed = SignedTx;
    type Error = SolError;

    fn chain(&self) -> &'static str {
        "sol"
    }

    fn encode_unsigned(&self, tx: &VersionedTransaction) -> Result<Vec<u8>, SolError> {
        let mut tx = tx.clone();
        normalize(&mut tx)?;
        encode(&tx)
    }

    fn decode_unsigned(&self, bytes: &[u8]) -> Result<VersionedTransaction, SolError> {
        if bytes.len() > PACKET_DATA_SIZE {
            return Err(SolError::TooLarge(bytes.len()));
        }
        let mut tx: VersionedTransaction =
            wincode::deserialize(bytes).map_err(|e| SolError::Invalid(e.to_string()))?;
        normalize(&mut tx)?;
        if encode(&tx)? != bytes {
            return Err(SolError::Invalid(
                "not in canonical wire form (trailing or missing bytes)".into(),
            ));
        }
        Ok(tx)
    }

    fn requests(
        &self,
        tx: &VersionedTransaction,
        key: &PublicKey,
    ) -> Result<Vec<SignRequest>, SolError> {
        let signer = address(key)?;
        let mut tx = tx.clone();
        normalize(&mut tx)?;
        let pos = signer_position(&tx, &signer)?;
        let item = u32::try_from(pos).map_err(|_| SolError::Invalid("signer slot".into()))?;
        let mut req = SignRequest::ed25519(message_bytes(&tx)?);
        req.chain_payload = Some(ChainPayload {
            chain: "sol".into(),
            bytes: encode(&tx)?,
            item,
        });
        Ok(vec![req])
    }

    fn finalize(
        &self,
        mut tx: VersionedTransaction,
        signatures: &[(PublicKey, Vec<Signature>)],
    ) -> Result<SignedTx, SolError> {
        normalize(&mut tx)?;
        for (key, sigs) in signatures {
            let signer = address(key)?;
            let [sig] = sigs.as_slice() else {
                return Err(SolError::BadSignature(format!(
                    "expected exactly one signature from {signer}"
                )));
            };
            let Signature::Ed25519 { bytes } = sig else {
                return Err(SolError::BadSignature(format!(
                    "{signer}: not an Ed25519 signature"
                )));
            };
            place_signature(&mut tx, &signer, *bytes)?;
        }
        let bytes = encode(&tx)?;
        let missing_signers = missing_signers(&tx)?;
        Ok(SignedTx {
            tx,
            bytes,
            missing_signers,
        })
    }

    fn address(&self, key: &PublicKey) -> Result<String, SolError> {
        Ok(address(key)?.to_string())
    }
}

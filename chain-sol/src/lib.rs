//! # chain-sol
//!
//! Solana transactions signed by a threshold Ed25519 key (the FROST engine), with the
//! Solana SDK crates for every encoding: a legacy or v0 transaction → its message bytes →
//! the Ed25519 signature placed in the slot of the key among the message's required signers
//! (fee payer or any other signer) → the serialized transaction (bytes, base64, base58).
//! The address of a key is its 32 bytes in base58.
//!
//! [`SolEncoder`] implements [`mpc_core::chain::ChainEncoder`]. A transaction in which the
//! threshold key is not a required signer is refused before anything is signed.
//!
//! Other signers may sign before or after the threshold key: [`place_signature`] puts a
//! signature in its slot after checking it, and [`SignedTx::missing_signers`] says which
//! slots are still empty.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod encoder;

pub use encoder::{SignedTx, SolEncoder};

use mpc_core::{PublicKey, SignPayload, Signature};
use solana_address::Address;
use solana_message::VersionedMessage;
use solana_signature::Signature as SolSignature;
use solana_transaction::versioned::VersionedTransaction;

pub use solana_address;
pub use solana_hash;
pub use solana_message;
pub use solana_transaction;

/// Largest serialized transaction the network accepts (1280-byte IPv6 MTU minus 48 bytes of
/// headers). Larger payloads are refused before they are parsed.
pub const PACKET_DATA_SIZE: usize = 1232;

/// What can go wrong encoding or signing a Solana transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SolError {
    /// The key is not an Ed25519 key.
    #[error("Solana keys are Ed25519 keys")]
    WrongCurve,
    /// The transaction does not decode or is not well formed (sanitize failed).
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// Message versions other than legacy and v0.
    #[error("unsupported message version: {0}")]
    Unsupported(&'static str),
    /// The key is not among the message's required signers.
    #[error("{0} is not a required signer of this transaction")]
    NotASigner(Address),
    /// The signature is missing, of the wrong kind, or does not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The serialized transaction exceeds [`PACKET_DATA_SIZE`].
    #[error("transaction is {0} bytes, more than the {PACKET_DATA_SIZE}-byte packet limit")]
    TooLarge(usize),
}

/// The Solana address of an Ed25519 key.
///
/// # Errors
/// [`SolError::WrongCurve`].
pub fn address(key: &PublicKey) -> Result<Address, SolError> {
    match key {
        PublicKey::Ed25519(bytes) => Ok(Address::from(*bytes)),
        PublicKey::Secp256k1(_) => Err(SolError::WrongCurve),
    }
}

/// An unsigned transaction for `message`: one empty signature slot per required signer.
pub fn unsigned(message: VersionedMessage) -> VersionedTransaction {
    let slots = usize::from(message.header().num_required_signatures);
    VersionedTransaction {
        signatures: vec![SolSignature::default(); slots],
        message,
    }
}

/// Checks the transaction is legacy or v0 and well formed (Solana's own sanitize rules),
/// giving it empty signature slots if it has none yet.
///
/// # Errors
/// [`SolError::Unsupported`], [`SolError::Invalid`].
pub fn normalize(tx: &mut VersionedTransaction) -> Result<(), SolError> {
    match tx.message {
        VersionedMessage::Legacy(_) | VersionedMessage::V0(_) => {}
        _ => {
            return Err(SolError::Unsupported(
                "only legacy and v0 messages are signed",
            ))
        }
    }
    if tx.signatures.is_empty() {
        let slots = usize::from(tx.message.header().num_required_signatures);
        tx.signatures = vec![SolSignature::default(); slots];
    }
    tx.sanitize()
        .map_err(|e| SolError::Invalid(format!("sanitize: {e}")))
}

/// The bytes every signer of `tx` signs: the serialized message.
///
/// # Errors
/// The message cannot be serialized.
pub fn message_bytes(tx: &VersionedTransaction) -> Result<Vec<u8>, SolError> {
    wincode::serialize(&tx.message).map_err(|e| SolError::Invalid(e.to_string()))
}

/// The slot of `signer` among the required signers of `tx` (0 is the fee payer).
///
/// # Errors
/// [`SolError::NotASigner`].
pub fn signer_position(tx: &VersionedTransaction, signer: &Address) -> Result<usize, SolError> {
    let required = usize::from(tx.message.header().num_required_signatures);
    tx.message
        .static_account_keys()
        .iter()
        .take(required)
        .position(|k| k == signer)
        .ok_or(SolError::NotASigner(*signer))
}

/// Puts `signature` by `signer` in its slot, after checking it verifies (strict Ed25519)
/// over the message of `tx`.
///
/// # Errors
/// [`SolError::NotASigner`], [`SolError::BadSignature`], or an invalid transaction.
pub fn place_signature(
    tx: &mut VersionedTransaction,
    signer: &Address,
    signature: [u8; 64],
) -> Result<(), SolError> {
    normalize(tx)?;
    let message = message_bytes(tx)?;
    let pos = signer_position(tx, signer)?;
    check_signature(signer, &message, signature)?;
    let slot = tx
        .signatures
        .get_mut(pos)
        .ok_or_else(|| SolError::Invalid("fewer signature slots than signers".into()))?;
    *slot = SolSignature::from(signature);
    Ok(())
}

fn check_signature(signer: &Address, message: &[u8], signature: [u8; 64]) -> Result<(), SolError> {
    mpc_core::verify::verify(
        &PublicKey::Ed25519(signer.to_bytes()),
        &SignPayload::Ed25519 {
            message: message.to_vec(),
        },
        &Signature::Ed25519 { bytes: signature },
    )
    .map_err(|e| SolError::BadSignature(format!("signature of {signer}: {e}")))
}

/// The required signers of `tx` whose slot holds no valid signature yet.
///
/// # Errors
/// The transaction is invalid.
pub fn missing_signers(tx: &VersionedTransaction) -> Result<Vec<Address>, SolError> {
    let message = message_bytes(tx)?;
    let required = usize::from(tx.message.header().num_required_signatures);
    Ok(tx
        .message
        .static_account_keys()
        .iter()
        .take(required)
        .zip(&tx.signatures)
        .filter(|(k, s)| check_signature(k, &message, (**s).into()).is_err())
        .map(|(k, _)| *k)
        .collect())
}

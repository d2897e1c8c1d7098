//! Unsigned transactions in their EIP-2718 signing form (what wallets and `cast` hand to a
//! signer): `type || rlp(fields)` for typed transactions, `rlp(fields, chain_id, 0, 0)` for
//! EIP-155 legacy ones.

use alloy_consensus::transaction::RlpEcdsaDecodableTx;
use alloy_consensus::{
    SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxLegacy, TypedTransaction,
};
use alloy_rlp::{Decodable, Header};

use crate::EvmError;

fn invalid(e: impl core::fmt::Display) -> EvmError {
    EvmError::Invalid(e.to_string())
}

/// Decodes an unsigned transaction from its EIP-2718 signing bytes. The bytes must be
/// canonical (re-encoding gives them back); pre-EIP-155 legacy transactions (without a chain
/// id) and blob transactions are refused.
///
/// # Errors
/// [`EvmError::Invalid`], [`EvmError::Unsupported`].
pub fn decode_unsigned_2718(bytes: &[u8]) -> Result<TypedTransaction, EvmError> {
    let (&first, rest) = bytes.split_first().ok_or_else(|| invalid("empty"))?;
    let mut buf = rest;
    let tx = match first {
        0x01 => TypedTransaction::Eip2930(TxEip2930::rlp_decode(&mut buf).map_err(invalid)?),
        0x02 => TypedTransaction::Eip1559(TxEip1559::rlp_decode(&mut buf).map_err(invalid)?),
        0x03 => return Err(EvmError::Unsupported("EIP-4844 blob transactions")),
        0x04 => TypedTransaction::Eip7702(TxEip7702::rlp_decode(&mut buf).map_err(invalid)?),
        b if b >= 0xc0 => {
            buf = bytes;
            let header = Header::decode(&mut buf).map_err(invalid)?;
            if !header.list || header.payload_length != buf.len() {
                return Err(invalid("legacy transaction: not one RLP list"));
            }
            let mut tx = TxLegacy::rlp_decode_fields(&mut buf).map_err(invalid)?;
            if buf.is_empty() {
                return Err(invalid(
                    "legacy transaction without a chain id (pre-EIP-155, replayable on every chain)",
                ));
            }
            let chain_id = u64::decode(&mut buf).map_err(invalid)?;
            let (r, s) = (
                u8::decode(&mut buf).map_err(invalid)?,
                u8::decode(&mut buf).map_err(invalid)?,
            );
            if r != 0 || s != 0 {
                return Err(invalid(
                    "legacy transaction: EIP-155 fields must end in 0, 0",
                ));
            }
            tx.chain_id = Some(chain_id);
            TypedTransaction::Legacy(tx)
        }
        other => return Err(invalid(format!("unknown transaction type 0x{other:02x}"))),
    };
    if !buf.is_empty() {
        return Err(invalid("trailing bytes"));
    }
    if encode_unsigned_2718(&tx) != bytes {
        return Err(invalid("not in canonical form"));
    }
    Ok(tx)
}

/// The EIP-2718 signing bytes of an unsigned transaction (their keccak256 is the signing
/// hash).
pub fn encode_unsigned_2718(tx: &TypedTransaction) -> Vec<u8> {
    let mut out = Vec::new();
    match tx {
        TypedTransaction::Legacy(t) => t.encode_for_signing(&mut out),
        TypedTransaction::Eip2930(t) => t.encode_for_signing(&mut out),
        TypedTransaction::Eip1559(t) => t.encode_for_signing(&mut out),
        TypedTransaction::Eip4844(t) => t.encode_for_signing(&mut out),
        TypedTransaction::Eip7702(t) => t.encode_for_signing(&mut out),
    }
    out
}

//! The port chain crates implement: unsigned payload → signing requests; signatures →
//! signed payload; group public key → address.
//!
//! A chain crate depends on `mpc-core` and its chain library only. Adding a chain means a
//! new crate with a type implementing [`ChainEncoder`]; nothing here changes.
//!
//! **What you see is what you sign.** Every request an encoder makes carries the unsigned
//! payload it came from ([`ChainPayload`]). A party that is asked to sign does not trust the
//! digest in the request: it calls [`derive_request`], which decodes the payload, recomputes
//! the requests with its own encoder, and returns the one it derived itself (after applying
//! its policy to the decoded payload, if it has one). The coordinator cannot choose the
//! digest.

use crate::seen::SeenRequest;
use crate::sig::{ChainPayload, PublicKey, SignRequest, Signature};

/// Encodes transactions or messages of one chain for threshold signing.
///
/// A toy chain whose "transaction" is a UTF-8 memo signed with Ed25519:
///
/// ```
/// use mpc_core::chain::{derive_request, ChainEncoder};
/// use mpc_core::{ChainPayload, PublicKey, SignRequest, Signature};
///
/// struct Memo;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("{0}")]
/// struct MemoError(&'static str);
///
/// impl ChainEncoder for Memo {
///     type Unsigned = String;
///     type Signed = (String, [u8; 64]);
///     type Error = MemoError;
///     fn chain(&self) -> &'static str { "memo" }
///     fn encode_unsigned(&self, memo: &String) -> Result<Vec<u8>, MemoError> { Ok(memo.as_bytes().to_vec()) }
///     fn decode_unsigned(&self, bytes: &[u8]) -> Result<String, MemoError> {
///         String::from_utf8(bytes.to_vec()).map_err(|_| MemoError("not UTF-8"))
///     }
///     fn requests(&self, memo: &String, _key: &PublicKey) -> Result<Vec<SignRequest>, MemoError> {
///         let mut r = SignRequest::ed25519(memo.as_bytes().to_vec());
///         r.chain_payload = Some(ChainPayload { chain: "memo".into(), bytes: memo.as_bytes().to_vec(), item: 0 });
///         Ok(vec![r])
///     }
///     fn finalize(&self, memo: String, sigs: &[(PublicKey, Vec<Signature>)]) -> Result<(String, [u8; 64]), MemoError> {
///         match sigs {
///             [(_, s)] => match s.as_slice() {
///                 [Signature::Ed25519 { bytes }] => Ok((memo, *bytes)),
///                 _ => Err(MemoError("one Ed25519 signature")),
///             },
///             _ => Err(MemoError("one signer")),
///         }
///     }
///     fn address(&self, key: &PublicKey) -> Result<String, MemoError> { Ok(format!("memo:{:?}", key)) }
/// }
///
/// let key = PublicKey::ed25519(&[0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
///     0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
///     0x66, 0x66, 0x66, 0x66, 0x66, 0x66]).unwrap();
/// let request = Memo.requests(&"pay bob 5".to_string(), &key).unwrap().remove(0);
/// // A party re-derives the request from the payload; a digest not derived from it is refused.
/// assert!(derive_request(&Memo, &key, &request, |_| Ok(())).is_ok());
/// let mut forged = request.clone();
/// forged.payload = SignRequest::ed25519(b"pay mallory 500".to_vec()).payload;
/// assert!(derive_request(&Memo, &key, &forged, |_| Ok(())).is_err());
/// ```
pub trait ChainEncoder {
    /// The unsigned payload (a PSBT, a typed transaction, a Solana message, ...).
    type Unsigned;
    /// The signed result (raw transaction bytes, a signed envelope, ...).
    type Signed;
    /// The encoder's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Short tag written into [`ChainPayload::chain`] (`btc`, `evm`, `sol`, ...).
    fn chain(&self) -> &'static str;

    /// Serializes an unsigned payload so it can travel with a request.
    ///
    /// # Errors
    /// The payload cannot be encoded.
    fn encode_unsigned(&self, unsigned: &Self::Unsigned) -> Result<Vec<u8>, Self::Error>;

    /// Parses an unsigned payload received with a request.
    ///
    /// # Errors
    /// The bytes are not a valid payload for this chain.
    fn decode_unsigned(&self, bytes: &[u8]) -> Result<Self::Unsigned, Self::Error>;

    /// The requests `key` must sign for `unsigned`, in order (one per input, per signer
    /// slot...). Each carries the payload, with [`ChainPayload::item`] naming its place.
    ///
    /// An ECDSA digest made here must be the chain's hash of what the payload says (a
    /// sighash, a transaction hash), never bytes of the payload passed through as a digest:
    /// a request derived here may be signed with a presignature, which is safe only for a
    /// digest whose preimage the party has seen (RUSTSEC-2025-0127).
    ///
    /// # Errors
    /// The payload is invalid, or `key` has nothing to sign in it.
    fn requests(
        &self,
        unsigned: &Self::Unsigned,
        key: &PublicKey,
    ) -> Result<Vec<SignRequest>, Self::Error>;

    /// Puts the signatures in place and produces the signed payload. `signatures` lists, per
    /// key, the signatures of its [`ChainEncoder::requests`] in the same order.
    ///
    /// # Errors
    /// A signature is missing, of the wrong kind, or does not verify.
    fn finalize(
        &self,
        unsigned: Self::Unsigned,
        signatures: &[(PublicKey, Vec<Signature>)],
    ) -> Result<Self::Signed, Self::Error>;

    /// The chain address of `key`.
    ///
    /// # Errors
    /// The key's curve does not fit the chain.
    fn address(&self, key: &PublicKey) -> Result<String, Self::Error>;
}

/// Why a party refused a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeriveError<E: std::error::Error + 'static> {
    /// The request carries no unsigned payload, or one for another chain.
    #[error("request carries no payload for chain {0}")]
    NoPayload(&'static str),
    /// The encoder could not read the payload or make requests from it.
    #[error(transparent)]
    Encoder(E),
    /// The payload yields no request at the given item.
    #[error("payload has no signing item {0} for this key")]
    NoSuchItem(u32),
    /// What the request asks to sign differs from what the payload yields.
    #[error("request does not match its payload: the digest was not derived from it")]
    Mismatch,
}

/// What a party runs before it joins a signing session: decodes the request's payload,
/// recomputes the requests for `key` with its own encoder, and returns the one at the
/// request's item, which must equal the request (digest, derivation path). The caller signs
/// the returned request, never the received one; it is a [`SeenRequest`], which a
/// presignature accepts. `policy` sees the decoded payload first
/// and can refuse it.
///
/// # Errors
/// [`DeriveError`]; the policy's refusal is returned as [`DeriveError::Encoder`] only if
/// the policy maps it so, otherwise `policy` errors are wrapped by the caller.
pub fn derive_request<C: ChainEncoder>(
    encoder: &C,
    key: &PublicKey,
    request: &SignRequest,
    policy: impl FnOnce(&C::Unsigned) -> Result<(), C::Error>,
) -> Result<SeenRequest, DeriveError<C::Error>> {
    let payload: &ChainPayload = request
        .chain_payload
        .as_ref()
        .filter(|p| p.chain == encoder.chain())
        .ok_or(DeriveError::NoPayload(encoder.chain()))?;
    let unsigned = encoder
        .decode_unsigned(&payload.bytes)
        .map_err(DeriveError::Encoder)?;
    policy(&unsigned).map_err(DeriveError::Encoder)?;
    let derived = encoder
        .requests(&unsigned, key)
        .map_err(DeriveError::Encoder)?;
    let mine = derived
        .into_iter()
        .find(|r| r.chain_payload.as_ref().map(|p| p.item) == Some(payload.item))
        .ok_or(DeriveError::NoSuchItem(payload.item))?;
    if mine.payload != request.payload || mine.derivation_path != request.derivation_path {
        return Err(DeriveError::Mismatch);
    }
    Ok(SeenRequest::from_chain(mine))
}

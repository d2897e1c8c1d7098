//! Public keys, signing requests and signatures, and the verification of each kind.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hexser;
use crate::ids::CurveId;

/// A group public key. Serialized as `{"curve": "secp256k1"|"ed25519", "hex": "..."}` and
/// checked to be a valid point when read.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicKey {
    /// A secp256k1 point, compressed SEC1 (33 bytes). For FROST/BIP-340 this is the
    /// *internal* key; see [`PublicKey::taproot_output_key`].
    Secp256k1([u8; 33]),
    /// An Ed25519 point, compressed Edwards form (32 bytes).
    Ed25519([u8; 32]),
}

#[derive(Serialize, Deserialize)]
struct PublicKeyRepr {
    curve: CurveId,
    #[serde(with = "hexser::vec")]
    hex: Vec<u8>,
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        PublicKeyRepr {
            curve: self.curve(),
            hex: self.as_bytes().to_vec(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let r = PublicKeyRepr::deserialize(d)?;
        match r.curve {
            CurveId::Secp256k1 => PublicKey::secp256k1(&r.hex),
            CurveId::Ed25519 => PublicKey::ed25519(&r.hex),
        }
        .map_err(serde::de::Error::custom)
    }
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PublicKey::Secp256k1(b) => write!(f, "Secp256k1({})", hexser::to_hex(b)),
            PublicKey::Ed25519(b) => write!(f, "Ed25519({})", hexser::to_hex(b)),
        }
    }
}

impl PublicKey {
    /// Parses a compressed secp256k1 point, checking that it is on the curve.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the bytes are not a valid compressed point.
    pub fn secp256k1(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 33] = bytes.try_into().map_err(|_| invalid_pk("need 33 bytes"))?;
        k256::PublicKey::from_sec1_bytes(&arr).map_err(|_| invalid_pk("not on secp256k1"))?;
        Ok(PublicKey::Secp256k1(arr))
    }

    /// Parses a compressed Ed25519 point, checking that it decompresses.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the bytes are not a valid point.
    pub fn ed25519(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| invalid_pk("need 32 bytes"))?;
        curve25519_dalek::edwards::CompressedEdwardsY(arr)
            .decompress()
            .ok_or_else(|| invalid_pk("not an Ed25519 point"))?;
        Ok(PublicKey::Ed25519(arr))
    }

    /// The curve.
    pub fn curve(&self) -> CurveId {
        match self {
            PublicKey::Secp256k1(_) => CurveId::Secp256k1,
            PublicKey::Ed25519(_) => CurveId::Ed25519,
        }
    }

    /// The encoded bytes (33 for secp256k1, 32 for Ed25519).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            PublicKey::Secp256k1(b) => b,
            PublicKey::Ed25519(b) => b,
        }
    }

    /// The BIP-340 x-only form of a secp256k1 key.
    ///
    /// # Errors
    /// [`Error::RequestMismatch`]-like [`Error::Invalid`] for an Ed25519 key.
    pub fn x_only(&self) -> Result<[u8; 32]> {
        match self {
            PublicKey::Secp256k1(b) => {
                let mut x = [0u8; 32];
                x.copy_from_slice(b.get(1..).ok_or_else(|| invalid_pk("short key"))?);
                Ok(x)
            }
            PublicKey::Ed25519(_) => Err(invalid_pk("x-only form exists only for secp256k1")),
        }
    }

    /// The BIP-341 output key `Q = lift_x(P) + H_TapTweak(P || merkle_root)·G` of this internal
    /// key, as (x-only bytes, y is odd).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an Ed25519 key or the (negligible) case of an invalid tweak.
    pub fn taproot_output_key(&self, merkle_root: Option<[u8; 32]>) -> Result<([u8; 32], bool)> {
        crate::taproot::output_key(&self.x_only()?, merkle_root)
    }
}

fn invalid_pk(reason: &str) -> Error {
    Error::Invalid {
        what: "public key",
        reason: reason.to_owned(),
    }
}

/// What is to be signed, in the form the scheme needs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SignPayload {
    /// ECDSA over a 32-byte prehash (the chain's digest of the transaction or message).
    EcdsaPrehash {
        /// The digest.
        #[serde(with = "hexser")]
        prehash: [u8; 32],
    },
    /// BIP-340 Schnorr over a message, verified under the Taproot output key.
    Bip340 {
        /// The message (a BIP-341 sighash for key-path spends).
        #[serde(with = "hexser::vec")]
        message: Vec<u8>,
        /// Taproot script-tree merkle root; `None` for a key with no script tree.
        #[serde(default, with = "opt_root")]
        merkle_root: Option<[u8; 32]>,
    },
    /// Ed25519 over a message.
    Ed25519 {
        /// The message (a serialized Solana message, for example).
        #[serde(with = "hexser::vec")]
        message: Vec<u8>,
    },
}

mod opt_root {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&crate::hexser::to_hex(b)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
        use serde::de::Error;
        let o = Option::<String>::deserialize(d)?;
        o.map(|s| {
            crate::hexser::from_hex(&s)
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .ok_or_else(|| D::Error::custom("expected 32 hex bytes"))
        })
        .transpose()
    }
}

/// The unsigned chain payload a request was made from, so a party can recompute the digest
/// itself before it joins ("what you see is what you sign").
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
pub struct ChainPayload {
    /// Which encoder understands it (for example `btc`, `evm`, `sol`).
    pub chain: String,
    /// The encoder's serialized unsigned payload.
    #[serde(with = "hexser::vec")]
    pub bytes: Vec<u8>,
    /// Which of the encoder's signing requests this one is (input index, signer slot).
    pub item: u32,
}

/// A request to sign.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
pub struct SignRequest {
    /// What to sign.
    pub payload: SignPayload,
    /// Optional non-hardened derivation path (BIP-32 style indices below 2^31).
    #[serde(default)]
    pub derivation_path: Option<Vec<u32>>,
    /// Optional unsigned chain payload the digest was derived from.
    #[serde(default)]
    pub chain_payload: Option<ChainPayload>,
    /// Optional message an ECDSA digest is the hash of, with its hash function (see
    /// [`crate::seen::SeenRequest::from_preimage`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preimage: Option<crate::seen::Preimage>,
}

impl SignRequest {
    /// ECDSA over a prehash.
    pub fn ecdsa(prehash: [u8; 32]) -> Self {
        Self::from_payload(SignPayload::EcdsaPrehash { prehash })
    }
    /// BIP-340 over a message, with an optional Taproot merkle root.
    pub fn bip340(message: impl Into<Vec<u8>>, merkle_root: Option<[u8; 32]>) -> Self {
        Self::from_payload(SignPayload::Bip340 {
            message: message.into(),
            merkle_root,
        })
    }
    /// Ed25519 over a message.
    pub fn ed25519(message: impl Into<Vec<u8>>) -> Self {
        Self::from_payload(SignPayload::Ed25519 {
            message: message.into(),
        })
    }
    /// ECDSA over the digest of `message` under `hash`, carrying the message so every
    /// party hashes it itself ([`crate::seen::SeenRequest::from_preimage`]).
    pub fn hashed_message(hash: crate::seen::MessageHash, message: &[u8]) -> Self {
        crate::seen::SeenRequest::hash_message(hash, message).into_request()
    }
    /// A request for `payload` with no derivation path.
    pub fn from_payload(payload: SignPayload) -> Self {
        SignRequest {
            payload,
            derivation_path: None,
            chain_payload: None,
            preimage: None,
        }
    }
    /// Sets a non-hardened derivation path.
    pub fn with_path(mut self, path: &[u32]) -> Self {
        self.derivation_path = Some(path.to_vec());
        self
    }
}

/// An ECDSA signature in canonical form: low-s, with the recovery id of `R`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Debug)]
pub struct EcdsaSignature {
    /// `r`, big-endian.
    #[serde(with = "hexser")]
    pub r: [u8; 32],
    /// `s`, big-endian, at most n/2.
    #[serde(with = "hexser")]
    pub s: [u8; 32],
    /// Recovery id (0 or 1: the parity of `R.y`; 2/3 would mean `R.x >= n`).
    pub recovery_id: u8,
}

impl EcdsaSignature {
    /// `r || s`, 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out
    }
}

/// A signature from any engine.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Debug)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Signature {
    /// ECDSA (CGGMP21, GG20).
    Ecdsa(EcdsaSignature),
    /// BIP-340 Schnorr, 64 bytes `R.x || s`.
    Bip340 {
        /// The 64 bytes.
        #[serde(with = "hexser")]
        bytes: [u8; 64],
    },
    /// Ed25519, 64 bytes `R || s`.
    Ed25519 {
        /// The 64 bytes.
        #[serde(with = "hexser")]
        bytes: [u8; 64],
    },
}

impl Signature {
    /// The canonical 64-byte form (`r || s` for ECDSA).
    pub fn to_bytes(&self) -> [u8; 64] {
        match self {
            Signature::Ecdsa(e) => e.to_bytes(),
            Signature::Bip340 { bytes } | Signature::Ed25519 { bytes } => *bytes,
        }
    }
}

//! Signature verification for every signature kind.
//!
//! The engines check their own output with these functions before returning it. They use
//! `k256` (ECDSA, BIP-340) and `ed25519-dalek` (Ed25519), not the engines' own arithmetic.

use k256::ecdsa::signature::hazmat::PrehashVerifier;

use crate::error::{Error, Result};
use crate::sig::{EcdsaSignature, PublicKey, SignPayload, Signature};

fn bad() -> Error {
    Error::InvalidSignature { culprits: vec![] }
}

/// Verifies `sig` over `payload` under `public_key` (for BIP-340, under the Taproot output
/// key of the internal key `public_key` with the payload's merkle root).
///
/// `public_key` is the key that signed: for a derived key, the derived public key.
///
/// # Errors
/// [`Error::InvalidSignature`] if it does not verify, [`Error::Invalid`] if the key does not
/// fit the payload.
pub fn verify(public_key: &PublicKey, payload: &SignPayload, sig: &Signature) -> Result<()> {
    match (payload, sig, public_key) {
        (SignPayload::EcdsaPrehash { prehash }, Signature::Ecdsa(s), PublicKey::Secp256k1(pk)) => {
            verify_ecdsa(pk, prehash, s)
        }
        (
            SignPayload::Bip340 {
                message,
                merkle_root,
            },
            Signature::Bip340 { bytes },
            PublicKey::Secp256k1(_),
        ) => {
            let (q, _) = public_key.taproot_output_key(*merkle_root)?;
            verify_bip340(&q, message, bytes)
        }
        (
            SignPayload::Ed25519 { message },
            Signature::Ed25519 { bytes },
            PublicKey::Ed25519(pk),
        ) => verify_ed25519(pk, message, bytes),
        _ => Err(Error::Invalid {
            what: "signature",
            reason: "signature kind, payload kind and key curve do not match".into(),
        }),
    }
}

/// ECDSA/secp256k1 over a prehash; also requires low-s and a recovery id that recovers the key.
///
/// # Errors
/// [`Error::InvalidSignature`].
pub fn verify_ecdsa(pk: &[u8; 33], prehash: &[u8; 32], sig: &EcdsaSignature) -> Result<()> {
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(pk).map_err(|_| bad())?;
    let s = k256::ecdsa::Signature::from_scalars(sig.r, sig.s).map_err(|_| bad())?;
    if s.normalize_s().is_some() {
        return Err(Error::Invalid {
            what: "signature",
            reason: "ECDSA s is not low (s > n/2)".into(),
        });
    }
    vk.verify_prehash(prehash, &s).map_err(|_| bad())?;
    let rid = k256::ecdsa::RecoveryId::from_byte(sig.recovery_id).ok_or_else(bad)?;
    let recovered =
        k256::ecdsa::VerifyingKey::recover_from_prehash(prehash, &s, rid).map_err(|_| bad())?;
    if recovered != vk {
        return Err(bad());
    }
    Ok(())
}

/// BIP-340 over `message` under the x-only key `xonly`.
///
/// # Errors
/// [`Error::InvalidSignature`].
pub fn verify_bip340(xonly: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> Result<()> {
    let vk = k256::schnorr::VerifyingKey::from_bytes(xonly).map_err(|_| bad())?;
    let s = k256::schnorr::Signature::try_from(&sig[..]).map_err(|_| bad())?;
    vk.verify_raw(message, &s).map_err(|_| bad())
}

/// Ed25519 (RFC 8032, strict: rejects non-canonical encodings and small-order keys).
///
/// # Errors
/// [`Error::InvalidSignature`].
pub fn verify_ed25519(pk: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> Result<()> {
    let vk = ed25519_dalek::VerifyingKey::from_bytes(pk).map_err(|_| bad())?;
    let s = ed25519_dalek::Signature::from_bytes(sig);
    vk.verify_strict(message, &s).map_err(|_| bad())
}

/// Turns an `(r, s)` pair into a canonical [`EcdsaSignature`]: s made low, recovery id found
/// by trial recovery against `pk`.
///
/// # Errors
/// [`Error::InvalidSignature`] if the pair does not verify under `pk`.
pub fn canonical_ecdsa(
    pk: &[u8; 33],
    prehash: &[u8; 32],
    r: [u8; 32],
    s: [u8; 32],
) -> Result<EcdsaSignature> {
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(pk).map_err(|_| bad())?;
    let sig = k256::ecdsa::Signature::from_scalars(r, s).map_err(|_| bad())?;
    let sig = sig.normalize_s().unwrap_or(sig);
    let rid = k256::ecdsa::RecoveryId::trial_recovery_from_prehash(&vk, prehash, &sig)
        .map_err(|_| bad())?;
    let (r, s) = sig.split_bytes();
    Ok(EcdsaSignature {
        r: r.into(),
        s: s.into(),
        recovery_id: rid.to_byte(),
    })
}

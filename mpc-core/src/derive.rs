//! Public key derivation from public data alone: the child key a signature under a
//! derivation path must verify under, computed from the group key and its chain code the
//! same way each engine derives it (SLIP-10 for secp256k1, which matches BIP-32's public
//! derivation; SLIP-10-style Edwards derivation for Ed25519). A coordinator uses it to check
//! signatures without trusting a key the parties report.

use crate::engines::util::check_path;
use crate::error::{Error, Result};
use crate::ids::SchemeId;
use crate::sig::PublicKey;

/// The child of `key` (a group key of `scheme` with BIP-32 chain code `chain_code`) at the
/// non-hardened `path`. An empty path gives `key` itself.
///
/// # Errors
/// [`Error::Derivation`] for a hardened index, a path too deep, a scheme without
/// derivation (GG20), or a key that does not decode.
pub fn child_public_key(
    scheme: SchemeId,
    key: &PublicKey,
    chain_code: [u8; 32],
    path: &[u32],
) -> Result<PublicKey> {
    check_path(path)?;
    if path.is_empty() {
        return Ok(*key);
    }
    let bad_key = || Error::Derivation("the group key does not decode".into());
    match scheme {
        SchemeId::Cggmp21Secp256k1 => {
            use cggmp21::generic_ec::Point;
            use cggmp21::hd_wallet::{ExtendedPublicKey, HdWallet, NonHardenedIndex, Slip10};
            use cggmp21::supported_curves::Secp256k1;
            let public_key =
                Point::<Secp256k1>::from_bytes(key.as_bytes()).map_err(|_| bad_key())?;
            let indices = indices::<NonHardenedIndex>(path)?;
            let child = Slip10::derive_child_public_key_with_path(
                &ExtendedPublicKey {
                    public_key,
                    chain_code,
                },
                indices,
            );
            PublicKey::secp256k1(child.public_key.to_bytes(true).as_bytes())
        }
        SchemeId::FrostSecp256k1Tr => {
            use givre::generic_ec::{curves::Secp256k1, Point};
            use givre::hd_wallet::{ExtendedPublicKey, HdWallet, NonHardenedIndex, Slip10};
            let public_key =
                Point::<Secp256k1>::from_bytes(key.as_bytes()).map_err(|_| bad_key())?;
            let indices = indices::<NonHardenedIndex>(path)?;
            let child = Slip10::derive_child_public_key_with_path(
                &ExtendedPublicKey {
                    public_key,
                    chain_code,
                },
                indices,
            );
            PublicKey::secp256k1(child.public_key.to_bytes(true).as_bytes())
        }
        SchemeId::FrostEd25519 => {
            use givre::generic_ec::{curves::Ed25519, Point};
            use givre::hd_wallet::{Edwards, ExtendedPublicKey, HdWallet, NonHardenedIndex};
            let public_key = Point::<Ed25519>::from_bytes(key.as_bytes()).map_err(|_| bad_key())?;
            let indices = indices::<NonHardenedIndex>(path)?;
            let child = Edwards::derive_child_public_key_with_path(
                &ExtendedPublicKey {
                    public_key,
                    chain_code,
                },
                indices,
            );
            PublicKey::ed25519(child.public_key.to_bytes(true).as_bytes())
        }
        other => Err(Error::Derivation(format!(
            "{other} keys have no chain code; no derivation path"
        ))),
    }
}

fn indices<I: TryFrom<u32>>(path: &[u32]) -> Result<Vec<I>> {
    path.iter()
        .map(|&i| I::try_from(i).map_err(|_| Error::Derivation(format!("index {i} is hardened"))))
        .collect()
}

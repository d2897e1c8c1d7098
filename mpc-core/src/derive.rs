//! Public key derivation from public data alone: the child key a signature under a
//! derivation path must verify under, computed from the group key and its chain code the
//! same way each engine derives it (SLIP-10 for secp256k1, which matches BIP-32's public
//! derivation; SLIP-10-style Edwards derivation for Ed25519). A coordinator uses it to check
//! signatures without trusting a key the parties report.

use crate::engines::util::check_path;
use crate::error::{Error, Result};
use crate::ids::SchemeId;
use crate::sig::PublicKey;

/// The child key at `path` with the HD algorithm `algo` of `krate`'s `hd_wallet` (the
/// engines use two versions of `generic-ec`, one through `cggmp21`, one through `givre`).
macro_rules! child_key {
    ($krate:ident, $curve:ty, $algo:ident, $out:ident, $key:expr, $code:expr, $path:expr) => {{
        use $krate::generic_ec::Point;
        use $krate::hd_wallet::{ExtendedPublicKey, HdWallet, NonHardenedIndex};
        let public_key = Point::<$curve>::from_bytes($key.as_bytes()).map_err(|_| bad_key())?;
        let child = $krate::hd_wallet::$algo::derive_child_public_key_with_path(
            &ExtendedPublicKey {
                public_key,
                chain_code: $code,
            },
            indices::<NonHardenedIndex>($path)?,
        );
        PublicKey::$out(child.public_key.to_bytes(true).as_bytes())
    }};
}

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
    match scheme {
        SchemeId::Cggmp21Secp256k1 => child_key!(
            cggmp21,
            cggmp21::supported_curves::Secp256k1,
            Slip10,
            secp256k1,
            key,
            chain_code,
            path
        ),
        SchemeId::FrostSecp256k1Tr => child_key!(
            givre,
            givre::generic_ec::curves::Secp256k1,
            Slip10,
            secp256k1,
            key,
            chain_code,
            path
        ),
        SchemeId::FrostEd25519 => child_key!(
            givre,
            givre::generic_ec::curves::Ed25519,
            Edwards,
            ed25519,
            key,
            chain_code,
            path
        ),
        other => Err(Error::Derivation(format!(
            "{other} keys have no chain code; no derivation path"
        ))),
    }
}

fn bad_key() -> Error {
    Error::Derivation("the group key does not decode".into())
}

fn indices<I: TryFrom<u32>>(path: &[u32]) -> Result<Vec<I>> {
    path.iter()
        .map(|&i| I::try_from(i).map_err(|_| Error::Derivation(format!("index {i} is hardened"))))
        .collect()
}

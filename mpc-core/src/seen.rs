//! Requests a party derived itself from what it was shown: the only requests a
//! presignature signs (RUSTSEC-2025-0127 / CVE-2025-66017).
//!
//! With a presignature the nonce point `R` exists before the digest is fixed. A party that
//! signs a bare 32-byte digest chosen after `R` is known can be made to sign a forgery: the
//! digest need not be the hash of any message the party would approve. So the online step
//! of every presigning engine ([`crate::Presigning::partial_sign`]) takes a [`SeenRequest`],
//! which exists only in these forms:
//!
//! - derived from an unsigned chain payload by the chain's encoder
//!   ([`crate::chain::derive_request`]);
//! - hashed by the party from a message it holds, with a named hash function
//!   ([`SeenRequest::hash_message`], [`SeenRequest::from_preimage`]);
//! - a BIP-340 or Ed25519 message (the scheme hashes it itself: [`SeenRequest::message`]);
//! - taken on trust ([`SeenRequest::unchecked`]): interactive signing accepts it, a
//!   presignature refuses it for an ECDSA digest.
//!
//! A presignature signs a bare digest only through
//! `SeenRequest::danger_unseen_prehash`, compiled with the feature
//! `danger-presign-unseen-prehash` and for nothing else.
//!
//! ```
//! use mpc_core::seen::{MessageHash, SeenRequest};
//! use mpc_core::SignRequest;
//!
//! let seen = SeenRequest::hash_message(MessageHash::Sha256, b"transfer 5 to bob");
//! assert!(seen.for_presignature().is_ok());
//! // A bare digest taken on trust is refused by a presignature.
//! let bare = SeenRequest::unchecked(SignRequest::ecdsa([7; 32]));
//! assert!(bare.for_presignature().is_err());
//! ```

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::error::{Error, Result};
use crate::hexser;
use crate::sig::{SignPayload, SignRequest};

/// A hash function that makes an ECDSA digest of a message.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum MessageHash {
    /// SHA-256.
    Sha256,
    /// SHA-256 applied twice (Bitcoin's `hash256`).
    Sha256d,
    /// Keccak-256 (Ethereum's hash, the original Keccak padding, not SHA3-256).
    Keccak256,
    /// The BIP-340 tagged hash `SHA-256(SHA-256(tag) || SHA-256(tag) || message)`.
    Tagged {
        /// The tag.
        tag: String,
    },
}

impl MessageHash {
    /// The 32-byte digest of `message`.
    pub fn digest(&self, message: &[u8]) -> [u8; 32] {
        match self {
            MessageHash::Sha256 => sha2::Sha256::digest(message).into(),
            MessageHash::Sha256d => sha2::Sha256::digest(sha2::Sha256::digest(message)).into(),
            MessageHash::Keccak256 => sha3::Keccak256::digest(message).into(),
            MessageHash::Tagged { tag } => {
                let t = sha2::Sha256::digest(tag.as_bytes());
                sha2::Sha256::new()
                    .chain_update(t)
                    .chain_update(t)
                    .chain_update(message)
                    .finalize()
                    .into()
            }
        }
    }
}

/// A message with the hash function its ECDSA digest is made with, carried in a request
/// ([`SignRequest::preimage`]) so a party hashes it itself.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
pub struct Preimage {
    /// The hash function.
    pub hash: MessageHash,
    /// The message.
    #[serde(with = "hexser::vec")]
    pub message: Vec<u8>,
}

/// How a party came to the request it signs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Provenance {
    /// Derived from an unsigned chain payload by that chain's encoder.
    ChainPayload,
    /// Hashed by the party from a message it holds.
    HashedMessage,
    /// A BIP-340 or Ed25519 message, signed as shown (the scheme hashes it).
    Message,
    /// Taken as received: the party saw no more than a digest.
    Unchecked,
    /// A bare digest let through to a presignature by the danger API.
    DangerUnseenPrehash,
}

/// A signing request as the party itself derived it (see the [module docs](self)).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SeenRequest {
    request: SignRequest,
    provenance: Provenance,
}

impl SeenRequest {
    /// An ECDSA request for the digest of `message` under `hash`, hashed here.
    pub fn hash_message(hash: MessageHash, message: &[u8]) -> Self {
        let prehash = hash.digest(message);
        let mut request = SignRequest::ecdsa(prehash);
        request.preimage = Some(Preimage {
            hash,
            message: message.to_vec(),
        });
        SeenRequest {
            request,
            provenance: Provenance::HashedMessage,
        }
    }

    /// Hashes the preimage a received request carries and checks it gives the request's
    /// digest; returns the request (with its derivation path) as seen.
    ///
    /// # Errors
    /// [`Error::RequestMismatch`]-like [`Error::Invalid`] for a request without a preimage,
    /// of another kind, or whose digest is not the hash of its preimage.
    pub fn from_preimage(request: &SignRequest) -> Result<Self> {
        let invalid = |reason: &str| Error::Invalid {
            what: "signing request",
            reason: reason.to_owned(),
        };
        let preimage = request
            .preimage
            .as_ref()
            .ok_or_else(|| invalid("it carries no message to hash"))?;
        let SignPayload::EcdsaPrehash { prehash } = &request.payload else {
            return Err(invalid("a preimage goes only with an ECDSA digest"));
        };
        if preimage.hash.digest(&preimage.message) != *prehash {
            return Err(invalid("its digest is not the hash of its message"));
        }
        Ok(SeenRequest {
            request: request.clone(),
            provenance: Provenance::HashedMessage,
        })
    }

    /// A BIP-340 or Ed25519 request: the message is what is signed, so the party sees it.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an ECDSA digest (use [`SeenRequest::hash_message`], a chain
    /// payload, or [`SeenRequest::unchecked`] for interactive signing only).
    pub fn message(request: SignRequest) -> Result<Self> {
        if matches!(request.payload, SignPayload::EcdsaPrehash { .. }) {
            return Err(Error::Invalid {
                what: "signing request",
                reason: "an ECDSA digest is not a message the party can see".into(),
            });
        }
        Ok(SeenRequest {
            request,
            provenance: Provenance::Message,
        })
    }

    /// A request taken as received. Interactive signing accepts it (its nonce is made after
    /// the digest is fixed); a presignature refuses it if it is an ECDSA digest.
    pub fn unchecked(request: SignRequest) -> Self {
        let provenance = match request.payload {
            SignPayload::EcdsaPrehash { .. } => Provenance::Unchecked,
            _ => Provenance::Message,
        };
        SeenRequest {
            request,
            provenance,
        }
    }

    /// A bare digest that a presignature will sign. **Dangerous**: whoever picks the digest
    /// after seeing the presignature's `R` can obtain a forgery (RUSTSEC-2025-0127). Only
    /// for callers that establish by other means that the digest is the hash of a message
    /// the signer approved.
    #[cfg(feature = "danger-presign-unseen-prehash")]
    pub fn danger_unseen_prehash(request: SignRequest) -> Self {
        SeenRequest {
            request,
            provenance: Provenance::DangerUnseenPrehash,
        }
    }

    /// Derived by a chain encoder (see [`crate::chain::derive_request`]).
    pub(crate) fn from_chain(request: SignRequest) -> Self {
        SeenRequest {
            request,
            provenance: Provenance::ChainPayload,
        }
    }

    /// With the derivation path `path` (the path is part of what the signers approve; a
    /// presignature carries its own and refuses another). A request derived from a chain
    /// payload keeps the path its encoder derived.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a request derived from a chain payload.
    pub fn with_path(mut self, path: &[u32]) -> Result<Self> {
        if self.provenance == Provenance::ChainPayload {
            return Err(Error::Invalid {
                what: "signing request",
                reason: "a request derived from a chain payload keeps its derived path".into(),
            });
        }
        self.request.derivation_path = Some(path.to_vec());
        Ok(self)
    }

    /// How the party came to the request.
    pub fn provenance(&self) -> Provenance {
        self.provenance
    }

    /// The request.
    pub fn request(&self) -> &SignRequest {
        &self.request
    }

    /// The request, by value.
    pub fn into_request(self) -> SignRequest {
        self.request
    }

    /// The request, if a presignature may sign it: anything but an ECDSA digest taken on
    /// trust.
    ///
    /// # Errors
    /// [`Error::UnseenDigest`].
    pub fn for_presignature(&self) -> Result<&SignRequest> {
        match self.provenance {
            Provenance::Unchecked => Err(Error::UnseenDigest),
            _ => Ok(&self.request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preimage_must_hash_to_the_digest() {
        let seen = SeenRequest::hash_message(MessageHash::Keccak256, b"hello");
        let mut received = seen.request().clone();
        assert_eq!(
            SeenRequest::from_preimage(&received)
                .ok()
                .map(|s| s.provenance()),
            Some(Provenance::HashedMessage)
        );
        received.preimage = Some(Preimage {
            hash: MessageHash::Sha256,
            message: b"hello".to_vec(),
        });
        assert!(SeenRequest::from_preimage(&received).is_err());
        assert!(SeenRequest::from_preimage(&SignRequest::ecdsa([1; 32])).is_err());
    }

    #[test]
    fn a_chain_derived_request_keeps_its_path() {
        let derived = SeenRequest::from_chain(SignRequest::ecdsa([1; 32]));
        assert!(derived.with_path(&[1]).is_err());
        let hashed = SeenRequest::hash_message(MessageHash::Sha256, b"m");
        assert_eq!(
            hashed
                .with_path(&[1])
                .ok()
                .and_then(|s| s.request.derivation_path),
            Some(vec![1])
        );
    }

    #[test]
    fn keccak_is_ethereums() {
        // Ethereum's hash of the empty string (the yellow paper's KEC(()) constant).
        assert_eq!(
            hexser::to_hex(&MessageHash::Keccak256.digest(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn messages_pass_bare_digests_do_not() {
        assert!(SeenRequest::message(SignRequest::ecdsa([1; 32])).is_err());
        let ed = SeenRequest::unchecked(SignRequest::ed25519(b"m".to_vec()));
        assert_eq!(ed.provenance(), Provenance::Message);
        assert!(ed.for_presignature().is_ok());
        assert!(matches!(
            SeenRequest::unchecked(SignRequest::ecdsa([1; 32])).for_presignature(),
            Err(Error::UnseenDigest)
        ));
    }
}

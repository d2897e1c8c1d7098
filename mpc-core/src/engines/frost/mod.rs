//! FROST threshold Schnorr via `givre`: Ed25519 (Solana) and secp256k1 with BIP-340
//! signatures and the BIP-341 Taproot tweak (Bitcoin key-path spends).
//!
//! Key generation is the CGGMP21-style DKG givre re-exports (UC-secure, no dealer).
//! Signing is FROST's two rounds, written here (`frost/signing.rs`) on givre's nonce, share and
//! aggregation functions, so that a wrong signature share names its signer
//! (`frost/share_check.rs`). Signing takes no execution id; every message is bound to its session
//! by the envelope check in this crate.
//!
//! HD derivation uses the ciphersuite's algorithm in givre: SLIP-10/BIP-32 public
//! derivation for secp256k1, and givre's own Edwards scheme for Ed25519 (not SLIP-10, which
//! has no non-hardened Ed25519 derivation).

mod share_check;
mod signing;
#[cfg(test)]
mod tests;

use std::marker::PhantomData;

use givre::generic_ec::{NonZero, Point};
use givre::keygen::ExecutionId;
use givre::Ciphersuite;
use rand_core::OsRng;
use round_based::state_machine::wrap_protocol;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::util::{abort, boxed, check_path};
use crate::error::{Error, Result};
use crate::ids::{SchemeId, SessionCtx};
use crate::limits::ProtocolKind;
use crate::protocol::BoxedProtocol;
use crate::rounds::RoundsRun;
use crate::scheme::{check_keygen, check_signers, ThresholdScheme};
use crate::share::{invalid, EngineData, KeyShare, ShareHeader, KEY_SHARE_FORMAT_VERSION};
use crate::sig::{PublicKey, SignPayload, SignRequest, Signature};

/// A givre ciphersuite this SDK offers, with how its keys, requests and signatures map to
/// the SDK's types.
pub trait FrostSuite: Ciphersuite + 'static {
    /// Scheme id.
    const ID: SchemeId;
    /// The group resharing runs over (with the same scalar and point encodings).
    type Group: crate::reshare::group::ReshareGroup;
    /// Encodes a point as a [`PublicKey`].
    fn public_key(p: &Point<Self::Curve>) -> Result<PublicKey>;
    /// The message to sign and, for Taproot, the merkle root.
    fn message(req: &SignPayload) -> Result<(Vec<u8>, Option<[u8; 32]>)>;
    /// Wraps 64 signature bytes.
    fn signature(bytes: [u8; 64]) -> Signature;
}

impl FrostSuite for givre::ciphersuite::Ed25519 {
    const ID: SchemeId = SchemeId::FrostEd25519;
    type Group = crate::reshare::group::Ed25519;
    fn public_key(p: &Point<Self::Curve>) -> Result<PublicKey> {
        PublicKey::ed25519(p.to_bytes(true).as_bytes())
    }
    fn message(req: &SignPayload) -> Result<(Vec<u8>, Option<[u8; 32]>)> {
        match req {
            SignPayload::Ed25519 { message } => Ok((message.clone(), None)),
            _ => Err(Error::RequestMismatch {
                scheme: Self::ID,
                reason: "Ed25519 signs a message",
            }),
        }
    }
    fn signature(bytes: [u8; 64]) -> Signature {
        Signature::Ed25519 { bytes }
    }
}

impl FrostSuite for givre::ciphersuite::Bitcoin {
    const ID: SchemeId = SchemeId::FrostSecp256k1Tr;
    type Group = crate::reshare::group::Secp256k1;
    fn public_key(p: &Point<Self::Curve>) -> Result<PublicKey> {
        PublicKey::secp256k1(p.to_bytes(true).as_bytes())
    }
    fn message(req: &SignPayload) -> Result<(Vec<u8>, Option<[u8; 32]>)> {
        match req {
            SignPayload::Bip340 {
                message,
                merkle_root,
            } => Ok((message.clone(), *merkle_root)),
            _ => Err(Error::RequestMismatch {
                scheme: Self::ID,
                reason: "BIP-340 signs a message with an optional Taproot merkle root",
            }),
        }
    }
    fn signature(bytes: [u8; 64]) -> Signature {
        Signature::Bip340 { bytes }
    }
}

/// The FROST engine for ciphersuite `C`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Frost<C>(PhantomData<C>);

/// FROST over Ed25519.
pub type FrostEd25519 = Frost<givre::ciphersuite::Ed25519>;
/// FROST over secp256k1 with BIP-340 and the Taproot tweak.
pub type FrostTaproot = Frost<givre::ciphersuite::Bitcoin>;

/// FROST engine data: givre's key share.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct FrostData<C: Ciphersuite> {
    share: givre::KeyShare<C::Curve>,
}

impl<C: FrostSuite> FrostData<C> {
    /// Wraps a givre key share (for importers of existing keys).
    pub fn new(share: givre::KeyShare<C::Curve>) -> Self {
        FrostData { share }
    }

    /// Builds a share from existing key material (imported keys, published test vectors),
    /// in the ciphersuite's own encodings (Ed25519: little-endian scalars, 32-byte points;
    /// secp256k1: big-endian scalars, 33-byte compressed points).
    ///
    /// `share_ids[j]` is party `j`'s Shamir x-coordinate and `public_shares[j]` its public
    /// share. Everything is validated: the secret share matches the own public share, and
    /// the public shares interpolate to `group_key`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming what does not fit.
    pub fn from_parts(
        index: u16,
        t: u16,
        secret_share: &[u8],
        share_ids: &[Vec<u8>],
        public_shares: &[Vec<u8>],
        group_key: &[u8],
    ) -> Result<Self> {
        Self::from_parts_with_chain_code(
            index,
            t,
            secret_share,
            share_ids,
            public_shares,
            group_key,
            None,
        )
    }

    /// [`from_parts`](Self::from_parts) with the key's BIP-32 chain code.
    ///
    /// # Errors
    /// As [`from_parts`](Self::from_parts).
    pub fn from_parts_with_chain_code(
        index: u16,
        t: u16,
        secret_share: &[u8],
        share_ids: &[Vec<u8>],
        public_shares: &[Vec<u8>],
        group_key: &[u8],
        chain_code: Option<[u8; 32]>,
    ) -> Result<Self> {
        use givre::generic_ec::{NonZero, SecretScalar};
        let bad = |what: &str| invalid(format!("imported key: invalid {what}"));
        let mut x = C::deserialize_scalar(secret_share).map_err(|_| bad("secret share"))?;
        let x = NonZero::from_secret_scalar(SecretScalar::new(&mut x))
            .ok_or_else(|| bad("secret share (zero)"))?;
        let ids = share_ids
            .iter()
            .map(|b| {
                C::deserialize_scalar(b)
                    .ok()
                    .and_then(NonZero::from_scalar)
                    .ok_or_else(|| bad("share id"))
            })
            .collect::<Result<Vec<_>>>()?;
        let points = public_shares
            .iter()
            .map(|b| {
                C::deserialize_point(b)
                    .ok()
                    .and_then(NonZero::from_point)
                    .ok_or_else(|| bad("public share"))
            })
            .collect::<Result<Vec<_>>>()?;
        let shared_public_key = C::deserialize_point(group_key)
            .ok()
            .and_then(NonZero::from_point)
            .ok_or_else(|| bad("group key"))?;
        let dirty = givre::key_share::DirtyKeyShare::<C::Curve> {
            i: index,
            key_info: givre::key_share::DirtyKeyInfo {
                curve: givre::generic_ec::serde::CurveName::new(),
                shared_public_key,
                public_shares: points,
                vss_setup: Some(givre::key_share::VssSetup {
                    min_signers: t,
                    I: ids,
                }),
                chain_code,
            },
            x,
        };
        let share = givre::KeyShare::<C::Curve>::validate(dirty)
            .map_err(|e| invalid(format!("imported key: {}", e.error())))?;
        Ok(FrostData { share })
    }

    /// The envelope header this data implies.
    pub fn header(&self) -> Result<ShareHeader> {
        Ok(ShareHeader {
            version: KEY_SHARE_FORMAT_VERSION,
            scheme: C::ID,
            curve: C::ID.curve(),
            t: self.share.min_signers(),
            n: self.share.n(),
            index: self.share.i,
            public_key: C::public_key(&self.share.key_info.shared_public_key)?,
            epoch: 0,
        })
    }
}

impl<C: FrostSuite> EngineData for FrostData<C> {
    fn public_shares(&self) -> Result<Vec<PublicKey>> {
        self.share
            .key_info
            .public_shares
            .iter()
            .map(|p| C::public_key(p))
            .collect()
    }

    fn check(&self, h: &ShareHeader) -> Result<()> {
        let own = ShareHeader {
            epoch: h.epoch,
            ..self.header()?
        };
        if own != *h {
            return Err(invalid(format!(
                "engine data (index {}, t {}, n {}, key {:?}) differs from the header",
                own.index, own.t, own.n, own.public_key
            )));
        }
        Ok(())
    }
}

/// Wraps engine data in an envelope.
///
/// # Errors
/// As [`KeyShare::new`].
pub fn share_from_data<C: FrostSuite>(data: FrostData<C>) -> Result<KeyShare<FrostData<C>>> {
    KeyShare::new(data.header()?, data)
}

impl<C: FrostSuite> ThresholdScheme for Frost<C> {
    const ID: SchemeId = C::ID;
    type Data = FrostData<C>;
    type KeygenConfig = ();

    fn keygen(
        ctx: &SessionCtx,
        t: u16,
        _config: (),
    ) -> Result<BoxedProtocol<KeyShare<FrostData<C>>>> {
        let n = check_keygen(ctx, t, Self::ID)?;
        if t < 2 {
            return Err(Error::UnsupportedThreshold {
                scheme: Self::ID,
                t,
                reason: "a threshold key needs t >= 2",
            });
        }
        let eid = ctx.execution_id("keygen", &[]);
        let i = ctx.my_position();
        let machine = wrap_protocol(move |party| async move {
            let share = givre::keygen::<C::Curve>(ExecutionId::new(&eid), i, n)
                .set_threshold(t)
                .hd_wallet(true)
                .start(&mut OsRng, party)
                .await
                .map_err(abort)?;
            share_from_data(FrostData::<C> { share })
        });
        Ok(boxed(ctx, 0, ProtocolKind::Keygen, Box::new(machine)))
    }

    fn sign(
        ctx: &SessionCtx,
        share: &KeyShare<FrostData<C>>,
        request: &SignRequest,
    ) -> Result<BoxedProtocol<Signature>> {
        check_signers(ctx, share, Self::ID)?;
        let (message, merkle_root) = C::message(&request.payload)?;
        let path = request.derivation_path.clone().filter(|p| !p.is_empty());
        let signing_key = Self::signing_key(share, path.as_deref())?;
        let request = signing::Request {
            message,
            taproot: C::IS_TAPROOT.then_some(merkle_root),
            path,
            signing_key,
            payload: request.payload.clone(),
        };
        let run = signing::Signing::new(
            ctx.me(),
            ctx.parties().to_vec(),
            std::sync::Arc::clone(share.data()),
            request,
        );
        Ok(Box::new(RoundsRun::new(ctx.clone(), 0, run)))
    }

    fn signing_key(share: &KeyShare<FrostData<C>>, path: Option<&[u32]>) -> Result<PublicKey> {
        match path {
            None | Some([]) => Ok(share.public_key()),
            Some(p) => {
                check_path(p)?;
                let child = share
                    .data()
                    .share
                    .derive_child_public_key::<C::HdAlgo, _>(p.iter().copied())
                    .map_err(|e| Error::Derivation(e.to_string()))?;
                let pk: NonZero<Point<C::Curve>> = NonZero::from_point(child.public_key)
                    .ok_or_else(|| Error::Derivation("derived key is the identity".into()))?;
                C::public_key(&pk)
            }
        }
    }
}

impl<C: FrostSuite> Frost<C> {
    /// The BIP-32 chain code of the key (keys made here have one; imported keys may not).
    pub fn chain_code(share: &KeyShare<FrostData<C>>) -> Option<[u8; 32]> {
        share.data().share.key_info.chain_code
    }
}

impl<C: FrostSuite> crate::reshare::ReshareFrom for Frost<C> {
    type Group = C::Group;

    fn reshare_source(
        share: &KeyShare<FrostData<C>>,
    ) -> Result<crate::reshare::ReshareSource<C::Group>> {
        let s = &share.data().share;
        let vss = s.key_info.vss_setup.as_ref().ok_or_else(|| {
            invalid("an n-of-n additive share (no Shamir setup) cannot be reshared".into())
        })?;
        let secret = Zeroizing::new(C::serialize_scalar(s.x.as_ref()).as_ref().to_vec());
        let points: Vec<Vec<u8>> = vss
            .I
            .iter()
            .map(|x| C::serialize_scalar(x.as_ref()).as_ref().to_vec())
            .collect();
        let public_shares: Vec<Vec<u8>> = s
            .key_info
            .public_shares
            .iter()
            .map(|p| C::serialize_point(p.as_ref()).as_ref().to_vec())
            .collect();
        crate::reshare::ReshareSource::from_parts(crate::reshare::keys::SourceParts {
            index: s.i,
            threshold: vss.min_signers,
            epoch: share.epoch(),
            secret: &secret,
            points: &points,
            public_shares: &public_shares,
            group_key: C::serialize_point(s.key_info.shared_public_key.as_ref()).as_ref(),
            public_data: s
                .key_info
                .chain_code
                .map(|c| c.to_vec())
                .unwrap_or_default(),
        })
    }
}

impl<C: FrostSuite> crate::reshare::ReshareInto for Frost<C> {
    type Group = C::Group;

    fn from_reshare(
        out: &crate::reshare::ReshareOutput<C::Group>,
    ) -> Result<KeyShare<FrostData<C>>> {
        let e = crate::reshare::keys::EncodedOutput::new(out)?;
        let data = FrostData::<C>::from_parts_with_chain_code(
            e.index,
            e.threshold,
            &e.secret,
            &e.points,
            &e.public_shares,
            &e.group_key,
            e.chain_code,
        )?;
        Ok(share_from_data(data)?.with_epoch(out.epoch))
    }
}

//! The protocol-agnostic API every engine implements.

use crate::error::{Error, Result};
use crate::ids::{SchemeId, SessionCtx};
use crate::protocol::BoxedProtocol;
use crate::seen::SeenRequest;
use crate::share::KeyShare;
use crate::sig::{PublicKey, SignRequest, Signature};

/// A threshold signature scheme: distributed key generation and interactive signing.
///
/// Every method returns a sans-IO [`crate::Protocol`] run for the local party; the caller
/// moves messages between parties (see `mpc-transport` for drivers). Parties are named by
/// their key-generation index throughout.
///
/// Code written against the trait works with every engine:
///
/// ```
/// use mpc_core::{local, FrostEd25519, FrostTaproot, SignRequest, ThresholdScheme};
///
/// /// 2-of-3 keys, signed by parties 0 and 2, all in this thread.
/// fn sign_with<S: ThresholdScheme<KeygenConfig = ()>>(request: &SignRequest) -> mpc_core::Result<()> {
///     let shares = local::keygen::<S>(2, vec![(); 3])?;
///     let signature = local::sign::<S>(&shares, &[0, 2], request)?;
///     mpc_core::verify::verify(&S::public_key(&shares[0]), &request.payload, &signature)
/// }
///
/// sign_with::<FrostEd25519>(&SignRequest::ed25519(b"hello".to_vec()))?;
/// sign_with::<FrostTaproot>(&SignRequest::bip340([7u8; 32].to_vec(), None))?;
/// # Ok::<(), mpc_core::Error>(())
/// ```
pub trait ThresholdScheme {
    /// Stable id written into shares and envelopes.
    const ID: SchemeId;
    /// Engine data inside the [`KeyShare`] envelope.
    type Data: crate::share::EngineData;
    /// Settings for key generation (for CGGMP21: the Paillier primes).
    type KeygenConfig;

    /// Distributed key generation (no dealer) among the parties of `ctx` (which must be
    /// `0..n`), with threshold `t`: any `t` parties can sign, fewer cannot.
    ///
    /// # Errors
    /// [`Error::InvalidThreshold`] unless `1 <= t <= n`, [`Error::UnsupportedThreshold`] if
    /// the engine needs more, [`Error::SchemeMismatch`] if `ctx` is for another scheme.
    fn keygen(
        ctx: &SessionCtx,
        t: u16,
        config: Self::KeygenConfig,
    ) -> Result<BoxedProtocol<KeyShare<Self::Data>>>;

    /// Interactive signing by exactly `t` signers (the parties of `ctx`).
    ///
    /// # Errors
    /// [`Error::WrongSignerCount`], [`Error::PartyOutOfRange`], [`Error::RequestMismatch`] if
    /// the request is of another kind, [`Error::Derivation`] for a bad path.
    fn sign(
        ctx: &SessionCtx,
        share: &KeyShare<Self::Data>,
        request: &SignRequest,
    ) -> Result<BoxedProtocol<Signature>>;

    /// The public key that signs a request with this derivation path (the group key for no
    /// path). For BIP-340 this is the internal key; the signature verifies under its Taproot
    /// output key.
    ///
    /// # Errors
    /// [`Error::Derivation`].
    fn signing_key(share: &KeyShare<Self::Data>, path: Option<&[u32]>) -> Result<PublicKey>;

    /// The group public key.
    fn public_key(share: &KeyShare<Self::Data>) -> PublicKey {
        share.public_key()
    }

    /// Signs several requests in one session (all inputs of one transaction, for example):
    /// one [`ThresholdScheme::sign`] run per request, each in its own item session
    /// ([`crate::batch::item_ctx`]), advancing together. Every party must pass the same
    /// requests in the same order; an item whose request differs between parties aborts.
    ///
    /// # Errors
    /// As [`ThresholdScheme::sign`] for any request, and [`Error::Invalid`] for an empty batch
    /// or more than [`crate::batch::MAX_BATCH`] requests.
    fn sign_batch(
        ctx: &SessionCtx,
        share: &KeyShare<Self::Data>,
        requests: &[SignRequest],
    ) -> Result<BoxedProtocol<Vec<Signature>>> {
        if requests.len() > crate::batch::MAX_BATCH {
            return Err(Error::Invalid {
                what: "batch",
                reason: format!("{} requests", requests.len()),
            });
        }
        let runs = (0u16..)
            .zip(requests)
            .map(|(i, r)| Self::sign(&crate::batch::item_ctx(ctx, i)?, share, r))
            .collect::<Result<Vec<_>>>()?;
        Ok(Box::new(crate::batch::Batch::new(ctx.clone(), runs)?))
    }
}

/// Schemes with a presigning phase: the interactive work is done ahead of time and the
/// online step is non-interactive.
pub trait Presigning: ThresholdScheme {
    /// A presignature: secret, single-use, consumed by value, never `Clone`.
    type Presignature: crate::presign_store::StoredPresignature;
    /// A party's share of a signature, safe to send to a combiner.
    type PartialSignature;

    /// Interactive presigning by exactly `t` signers. The derivation path is fixed here,
    /// before the presignature exists, so it cannot be chosen after seeing `R`.
    ///
    /// # Errors
    /// As [`ThresholdScheme::sign`].
    fn presign(
        ctx: &SessionCtx,
        share: &KeyShare<Self::Data>,
        path: Option<&[u32]>,
    ) -> Result<BoxedProtocol<Self::Presignature>>;

    /// The non-interactive online step. Consumes the presignature. The request is one the
    /// party derived itself ([`SeenRequest`]): a presignature never signs a bare digest
    /// taken on trust (RUSTSEC-2025-0127).
    ///
    /// # Errors
    /// [`Error::UnseenDigest`] for a digest taken on trust; [`Error::PresignatureMismatch`]
    /// if the request's path differs from the presignature's.
    fn partial_sign(
        presignature: Self::Presignature,
        request: &SeenRequest,
    ) -> Result<Self::PartialSignature>;

    /// Combines `t` partial signatures and verifies the result under `public_key` (the
    /// signing key: derived, if the presignature had a path).
    ///
    /// # Errors
    /// [`Error::InvalidSignature`] naming the parties whose partial signatures are bad.
    fn combine(
        public_key: &PublicKey,
        request: &SignRequest,
        partials: &[Self::PartialSignature],
    ) -> Result<Signature>;
}

/// Checks a signing context against a share: scheme, signer indices, signer count.
pub(crate) fn check_signers<D>(ctx: &SessionCtx, share: &KeyShare<D>, id: SchemeId) -> Result<()> {
    if ctx.scheme() != id {
        return Err(Error::SchemeMismatch {
            expected: id,
            found: ctx.scheme(),
        });
    }
    if share.scheme() != id {
        return Err(Error::SchemeMismatch {
            expected: id,
            found: share.scheme(),
        });
    }
    if ctx.me() != share.index() {
        return Err(Error::Misuse(
            "context's own index differs from the share's index",
        ));
    }
    if let Some(e) = ctx.epoch() {
        if e != share.epoch() {
            return Err(Error::EpochMismatch {
                party: share.index(),
                share_epoch: share.epoch(),
                session_epoch: e,
            });
        }
    }
    for &p in ctx.parties() {
        if p >= share.parties() {
            return Err(Error::PartyOutOfRange {
                index: p,
                n: share.parties(),
            });
        }
    }
    if ctx.parties().len() != usize::from(share.threshold()) {
        return Err(Error::WrongSignerCount {
            needed: share.threshold(),
            got: ctx.parties().len(),
        });
    }
    Ok(())
}

/// Checks a keygen context: scheme, parties `0..n`, `1 <= t <= n`.
pub(crate) fn check_keygen(ctx: &SessionCtx, t: u16, id: SchemeId) -> Result<u16> {
    if ctx.scheme() != id {
        return Err(Error::SchemeMismatch {
            expected: id,
            found: ctx.scheme(),
        });
    }
    let n = u16::try_from(ctx.parties().len()).map_err(|_| Error::Misuse("too many parties"))?;
    for (i, &p) in ctx.parties().iter().enumerate() {
        if usize::from(p) != i {
            return Err(Error::PartyOutOfRange { index: p, n });
        }
    }
    crate::ids::check_threshold(t, n)?;
    Ok(n)
}

//! CGGMP21 threshold ECDSA over secp256k1 (via the `cggmp21` crate, 0.6.3 or later).
//!
//! Key generation, auxiliary info (Paillier keys with their proofs), presigning, the
//! non-interactive online step, full signing, and non-hardened BIP-32 derivation (SLIP-10
//! for secp256k1, which matches BIP-32's public derivation).

mod precompute;

use cggmp21::generic_ec::{Point, Scalar};
use cggmp21::hd_wallet::Slip10;
use cggmp21::supported_curves::Secp256k1;
use cggmp21::{DataToSign, ExecutionId};
use rand_core::OsRng;
use round_based::state_machine::wrap_protocol;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::primes::PaillierPrimes;
use super::util::{abort, abort_in, boxed, check_path};
use crate::adapter::Join;
use crate::error::{Error, Result};
use crate::ids::{CurveId, PartyIndex, SchemeId, SessionCtx, SessionId};
use crate::limits::ProtocolKind;
use crate::protocol::BoxedProtocol;
use crate::scheme::{check_keygen, check_signers, Presigning, ThresholdScheme};
use crate::seen::SeenRequest;
use crate::share::{invalid, EngineData, KeyShare, ShareHeader, KEY_SHARE_FORMAT_VERSION};
use crate::sig::{PublicKey, SignPayload, SignRequest, Signature};
use crate::verify::canonical_ecdsa;

/// The CGGMP21 engine.
#[derive(Debug, Clone, Copy)]
pub struct Cggmp21;

/// A CGGMP21 key share.
pub type Cggmp21Share = KeyShare<Cggmp21Data>;

/// CGGMP21 engine data: the key share, with or without auxiliary info.
#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Cggmp21Data {
    /// After key generation, before auxiliary info: cannot sign yet.
    Incomplete {
        /// The core share.
        core: cggmp21::IncompleteKeyShare<Secp256k1>,
    },
    /// Ready to sign.
    Complete {
        /// The full share. Written and read without cggmp21's precomputed tables, which
        /// [`Cggmp21::precompute`] builds in memory.
        #[serde(
            serialize_with = "precompute::serialize",
            deserialize_with = "precompute::deserialize"
        )]
        share: cggmp21::KeyShare<Secp256k1>,
    },
}

impl Cggmp21Data {
    fn core(&self) -> &cggmp21::key_share::DirtyIncompleteKeyShare<Secp256k1> {
        match self {
            Cggmp21Data::Incomplete { core } => core,
            Cggmp21Data::Complete { share } => &share.core,
        }
    }
}

impl EngineData for Cggmp21Data {
    fn public_shares(&self) -> Result<Vec<PublicKey>> {
        self.core()
            .public_shares
            .iter()
            .map(|p| PublicKey::secp256k1(p.to_bytes(true).as_bytes()))
            .collect()
    }

    fn check(&self, h: &ShareHeader) -> Result<()> {
        let core = self.core();
        if core.i != h.index {
            return Err(invalid(format!(
                "engine index {} != header index {}",
                core.i, h.index
            )));
        }
        let n = u16::try_from(core.public_shares.len()).unwrap_or(u16::MAX);
        if n != h.n {
            return Err(invalid(format!(
                "engine has {n} parties, header says {}",
                h.n
            )));
        }
        let t = core.vss_setup.as_ref().map(|v| v.min_signers).unwrap_or(n);
        if t != h.t {
            return Err(invalid(format!(
                "engine threshold {t} != header threshold {}",
                h.t
            )));
        }
        if point_key(&core.shared_public_key)? != h.public_key {
            return Err(invalid(
                "engine public key differs from the header's".into(),
            ));
        }
        Ok(())
    }
}

fn point_key(p: &Point<Secp256k1>) -> Result<PublicKey> {
    PublicKey::secp256k1(p.to_bytes(true).as_bytes())
}

/// Settings for CGGMP21 key generation.
#[derive(Debug, Default)]
pub struct Cggmp21KeygenConfig {
    /// This party's Paillier primes. With them, key generation is followed by the
    /// auxiliary-info protocol and yields a share that can sign; without, it yields an
    /// incomplete share to finish later with [`Cggmp21::aux_info`].
    pub primes: Option<PaillierPrimes>,
}

fn header(core: &cggmp21::key_share::DirtyIncompleteKeyShare<Secp256k1>) -> Result<ShareHeader> {
    let n = u16::try_from(core.public_shares.len()).unwrap_or(u16::MAX);
    Ok(ShareHeader {
        version: KEY_SHARE_FORMAT_VERSION,
        scheme: SchemeId::Cggmp21Secp256k1,
        curve: CurveId::Secp256k1,
        t: core.vss_setup.as_ref().map(|v| v.min_signers).unwrap_or(n),
        n,
        index: core.i,
        public_key: point_key(&core.shared_public_key)?,
        epoch: 0,
    })
}

fn complete(
    core: cggmp21::IncompleteKeyShare<Secp256k1>,
    aux: cggmp21::key_share::AuxInfo,
) -> Result<Cggmp21Share> {
    let share = cggmp21::KeyShare::from_parts((core, aux)).map_err(|e| invalid(e.to_string()))?;
    let h = header(&share.core)?;
    KeyShare::new(h, Cggmp21Data::Complete { share })
}

/// An incomplete share (no auxiliary info yet) from an existing core share (imports).
pub(crate) fn incomplete_share(
    core: cggmp21::IncompleteKeyShare<Secp256k1>,
) -> Result<Cggmp21Share> {
    KeyShare::new(header(&core)?, Cggmp21Data::Incomplete { core })
}

impl Cggmp21 {
    /// The BIP-32 chain code of the key (all CGGMP21 keys made here have one).
    pub fn chain_code(share: &Cggmp21Share) -> Option<[u8; 32]> {
        share.data().core().chain_code
    }

    /// The auxiliary-info protocol for an incomplete share (all `n` parties take part; `ctx`
    /// lists `0..n`). Yields a share that can sign.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the share is already complete, or as [`ThresholdScheme::keygen`].
    pub fn aux_info(
        ctx: &SessionCtx,
        share: &Cggmp21Share,
        primes: PaillierPrimes,
    ) -> Result<BoxedProtocol<Cggmp21Share>> {
        let n = check_keygen(ctx, share.threshold(), SchemeId::Cggmp21Secp256k1)?;
        if n != share.parties() || ctx.me() != share.index() {
            return Err(Error::Misuse(
                "aux info needs all parties of the key, with the share's own index",
            ));
        }
        let Cggmp21Data::Incomplete { core } = &**share.data() else {
            return Err(invalid("share already has auxiliary info".into()));
        };
        let core = core.clone();
        let epoch = share.epoch();
        Ok(aux_run(ctx, n, 0, primes, move |aux| {
            complete(core, aux).map(|s| s.with_epoch(epoch))
        }))
    }
}

/// The auxiliary-info protocol (Paillier keys, ring-Pedersen parameters, their proofs), in
/// message phase `phase`; `finish` turns its output into the run's output.
fn aux_run<O: 'static>(
    ctx: &SessionCtx,
    n: u16,
    phase: u8,
    primes: PaillierPrimes,
    finish: impl FnOnce(cggmp21::key_share::AuxInfo) -> Result<O> + 'static,
) -> BoxedProtocol<O> {
    let eid = ctx.execution_id("aux-info", &[]);
    let i = ctx.my_position();
    let machine = wrap_protocol(move |party| async move {
        let aux = cggmp21::aux_info_gen(ExecutionId::new(&eid), i, n, primes.0)
            .start(&mut OsRng, party)
            .await
            .map_err(abort)?;
        finish(aux)
    });
    boxed(ctx, phase, ProtocolKind::AuxInfo, Box::new(machine))
}

/// The DKG; `finish` turns the incomplete share into the run's output.
fn dkg_run<O: 'static>(
    ctx: &SessionCtx,
    n: u16,
    t: u16,
    finish: impl FnOnce(cggmp21::IncompleteKeyShare<Secp256k1>) -> Result<O> + 'static,
) -> BoxedProtocol<O> {
    let eid = ctx.execution_id("keygen", &[]);
    let i = ctx.my_position();
    let machine = wrap_protocol(move |party| async move {
        let core = cggmp21::keygen::<Secp256k1>(ExecutionId::new(&eid), i, n)
            .set_threshold(t)
            .hd_wallet(true)
            .start(&mut OsRng, party)
            .await
            .map_err(abort)?;
        finish(core)
    });
    boxed(ctx, 0, ProtocolKind::Keygen, Box::new(machine))
}

impl ThresholdScheme for Cggmp21 {
    const ID: SchemeId = SchemeId::Cggmp21Secp256k1;
    type Data = Cggmp21Data;
    type KeygenConfig = Cggmp21KeygenConfig;

    fn keygen(
        ctx: &SessionCtx,
        t: u16,
        config: Cggmp21KeygenConfig,
    ) -> Result<BoxedProtocol<Cggmp21Share>> {
        let n = check_keygen(ctx, t, Self::ID)?;
        if t < 2 {
            return Err(Error::UnsupportedThreshold {
                scheme: Self::ID,
                t,
                reason: "cggmp21 threshold keys need t >= 2",
            });
        }
        match config.primes {
            None => Ok(dkg_run(ctx, n, t, |core| {
                KeyShare::new(header(&core)?, Cggmp21Data::Incomplete { core })
            })),
            // The DKG and the aux-info protocol are independent: run them side by side.
            Some(primes) => Ok(Box::new(Join::new(
                dkg_run(ctx, n, t, Ok),
                aux_run(ctx, n, 1, primes, Ok),
                1,
                Box::new(complete),
            ))),
        }
    }

    fn sign(
        ctx: &SessionCtx,
        share: &Cggmp21Share,
        request: &SignRequest,
    ) -> Result<BoxedProtocol<Signature>> {
        check_signers(ctx, share, Self::ID)?;
        require_aux(share)?;
        let prehash = prehash_of(request)?;
        let path = request.derivation_path.clone();
        let signing_key = Self::signing_key(share, path.as_deref())?;
        let PublicKey::Secp256k1(pk) = signing_key else {
            return Err(Error::Misuse("cggmp21 key is not on secp256k1"));
        };
        let data = std::sync::Arc::clone(share.data());
        let signers: Vec<PartyIndex> = ctx.parties().to_vec();
        let i = ctx.my_position();
        let eid = ctx.execution_id("sign", &request_binding(&signing_key, request)?);
        let machine = wrap_protocol(move |party| async move {
            let builder = signing_builder(&data, &eid, i, &signers, path.as_deref())?;
            let msg = DataToSign::from_scalar(Scalar::from_be_bytes_mod_order(prehash));
            let sig = builder
                .sign(&mut OsRng, party, msg)
                .await
                .map_err(|e| abort_in(&signers)(&e))?;
            finish(&pk, &prehash, &sig)
        });
        Ok(boxed(ctx, 0, ProtocolKind::Sign, Box::new(machine)))
    }

    fn signing_key(share: &Cggmp21Share, path: Option<&[u32]>) -> Result<PublicKey> {
        match path {
            None | Some([]) => Ok(share.public_key()),
            Some(p) => {
                check_path(p)?;
                let core = share.data().core();
                let child = core
                    .derive_child_public_key::<Slip10, _>(p.iter().copied())
                    .map_err(|e| Error::Derivation(e.to_string()))?;
                point_key(&child.public_key)
            }
        }
    }
}

/// What a signing run is bound to besides the session: the signing key and the request,
/// so parties that disagree on what they sign fail at the first proof, not at the end.
fn request_binding(signing_key: &PublicKey, request: &SignRequest) -> Result<Vec<u8>> {
    let mut out = signing_key.as_bytes().to_vec();
    let req = serde_json::to_vec(&(&request.payload, &request.derivation_path)).map_err(|e| {
        Error::Invalid {
            what: "signing request",
            reason: e.to_string(),
        }
    })?;
    out.extend_from_slice(&Sha256::digest(req));
    Ok(out)
}

/// The cggmp21 signing builder for a run, with the derivation path set.
fn signing_builder<'r>(
    data: &'r Cggmp21Data,
    eid: &'r [u8; 32],
    i: u16,
    signers: &'r [PartyIndex],
    path: Option<&[u32]>,
) -> Result<cggmp21::signing::SigningBuilder<'r, Secp256k1>> {
    let Cggmp21Data::Complete { share } = data else {
        return Err(Error::AuxInfoMissing);
    };
    let builder = cggmp21::signing(ExecutionId::new(eid), i, signers, share);
    match path {
        Some(p) => builder
            .set_derivation_path(p.iter().copied())
            .map_err(|e| Error::Derivation(e.to_string())),
        None => Ok(builder),
    }
}

fn require_aux(share: &Cggmp21Share) -> Result<()> {
    match &**share.data() {
        Cggmp21Data::Complete { .. } => Ok(()),
        Cggmp21Data::Incomplete { .. } => Err(Error::AuxInfoMissing),
    }
}

fn prehash_of(request: &SignRequest) -> Result<[u8; 32]> {
    match &request.payload {
        SignPayload::EcdsaPrehash { prehash } => Ok(*prehash),
        _ => Err(Error::RequestMismatch {
            scheme: SchemeId::Cggmp21Secp256k1,
            reason: "ECDSA signs a 32-byte prehash",
        }),
    }
}

fn finish(
    pk: &[u8; 33],
    prehash: &[u8; 32],
    sig: &cggmp21::Signature<Secp256k1>,
) -> Result<Signature> {
    let sig = sig.normalize_s();
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(sig.r.to_be_bytes().as_bytes());
    s.copy_from_slice(sig.s.to_be_bytes().as_bytes());
    Ok(Signature::Ecdsa(canonical_ecdsa(pk, prehash, r, s)?))
}

/// A CGGMP21 presignature: single use, consumed by value, not `Clone`, `Debug` redacted.
pub struct Cggmp21Presignature {
    id: [u8; 32],
    session: SessionId,
    path: Option<Vec<u32>>,
    signing_key: PublicKey,
    me: PartyIndex,
    signers: Vec<PartyIndex>,
    epoch: u32,
    inner: cggmp21::Presignature<Secp256k1>,
}

/// Version of the stored presignature format ([`Cggmp21Presignature::to_json`]). Version 2
/// added the key's epoch; a version-1 presignature reads as one of epoch 0.
pub const PRESIGNATURE_FORMAT_VERSION: u32 = 2;

#[derive(Serialize)]
struct StoredRef<'a> {
    version: u32,
    session: &'a SessionId,
    path: &'a Option<Vec<u32>>,
    signing_key: &'a PublicKey,
    me: PartyIndex,
    signers: &'a [PartyIndex],
    epoch: u32,
    inner: &'a cggmp21::Presignature<Secp256k1>,
}

#[derive(Deserialize)]
struct Stored {
    version: u32,
    session: SessionId,
    path: Option<Vec<u32>>,
    signing_key: PublicKey,
    me: PartyIndex,
    signers: Vec<PartyIndex>,
    #[serde(default)]
    epoch: u32,
    inner: cggmp21::Presignature<Secp256k1>,
}

fn presignature_id(session: &SessionId, inner: &cggmp21::Presignature<Secp256k1>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"mpc-core/cggmp21/presignature-id/v1");
    h.update(session.0);
    h.update(inner.R.to_bytes(true).as_bytes());
    h.finalize().into()
}

impl core::fmt::Debug for Cggmp21Presignature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cggmp21Presignature")
            .field("id", &crate::hexser::to_hex(&self.id))
            .field("path", &self.path)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Cggmp21Presignature {
    /// Identifier (hash of `R` and the session), the same at every signer of one presigning
    /// run; used to track that it is used once.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }
    /// The derivation path fixed at presigning.
    pub fn path(&self) -> Option<&[u32]> {
        self.path.as_deref()
    }
    /// The key the presignature signs for (derived, if it has a path).
    pub fn signing_key(&self) -> PublicKey {
        self.signing_key
    }
    /// The signers of the presigning run (key-generation indices): exactly these parties
    /// must issue partial signatures with it.
    pub fn signers(&self) -> &[PartyIndex] {
        &self.signers
    }
    /// The party holding this presignature.
    pub fn party(&self) -> PartyIndex {
        self.me
    }
    /// The epoch of the key share it was made with: it signs only in a store of that epoch.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Serializes the presignature (secret) for a durable pool. A stored copy can be read
    /// back, so single use then rests on the store (see [`crate::presign_store`]): a durable
    /// one marks an id consumed on disk before its partial signature is issued.
    ///
    /// # Errors
    /// [`Error::Invalid`] if serialization fails.
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>> {
        serde_json::to_vec(&StoredRef {
            version: PRESIGNATURE_FORMAT_VERSION,
            session: &self.session,
            path: &self.path,
            signing_key: &self.signing_key,
            me: self.me,
            signers: &self.signers,
            epoch: self.epoch,
            inner: &self.inner,
        })
        .map(Zeroizing::new)
        .map_err(|e| invalid_presig(e.to_string()))
    }

    /// Reads a presignature written by [`Cggmp21Presignature::to_json`]; the id is
    /// recomputed from the stored session and `R`.
    ///
    /// # Errors
    /// [`Error::UnsupportedVersion`], [`Error::Invalid`] (bad JSON, own index not among the
    /// signers, signing key not on secp256k1).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let s: Stored = serde_json::from_slice(bytes).map_err(|e| invalid_presig(e.to_string()))?;
        if !(1..=PRESIGNATURE_FORMAT_VERSION).contains(&s.version) {
            return Err(Error::UnsupportedVersion {
                found: s.version,
                supported: PRESIGNATURE_FORMAT_VERSION,
            });
        }
        if !s.signers.contains(&s.me) {
            return Err(invalid_presig("own index is not among the signers".into()));
        }
        if !matches!(s.signing_key, PublicKey::Secp256k1(_)) {
            return Err(invalid_presig("signing key is not on secp256k1".into()));
        }
        Ok(Cggmp21Presignature {
            id: presignature_id(&s.session, &s.inner),
            session: s.session,
            path: s.path,
            signing_key: s.signing_key,
            me: s.me,
            signers: s.signers,
            epoch: s.epoch,
            inner: s.inner,
        })
    }

    /// Checks that `request` can be signed with this presignature (an ECDSA prehash, with
    /// the derivation path fixed at presigning), without using it.
    ///
    /// # Errors
    /// [`Error::RequestMismatch`], [`Error::PresignatureMismatch`].
    pub fn check_request(&self, request: &SignRequest) -> Result<()> {
        prehash_of(request)?;
        let req_path = request.derivation_path.as_deref().filter(|p| !p.is_empty());
        if req_path != self.path.as_deref() {
            return Err(Error::PresignatureMismatch(
                "the request's derivation path differs from the one fixed at presigning",
            ));
        }
        Ok(())
    }
}

impl crate::presign_store::StoredPresignature for Cggmp21Presignature {
    fn id(&self) -> [u8; 32] {
        self.id
    }
    fn signers(&self) -> Vec<PartyIndex> {
        self.signers.clone()
    }
    fn path(&self) -> Option<Vec<u32>> {
        self.path.clone()
    }
    fn signing_key(&self) -> PublicKey {
        self.signing_key
    }
    fn epoch(&self) -> u32 {
        self.epoch
    }
    fn check_request(&self, request: &SignRequest) -> Result<()> {
        Cggmp21Presignature::check_request(self, request)
    }
    fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.to_json()
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_json(bytes)
    }
}

/// A party's CGGMP21 partial signature.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cggmp21Partial {
    /// Presignature id it was made with.
    #[serde(with = "crate::hexser")]
    pub presignature: [u8; 32],
    /// Issuing party.
    pub from: PartyIndex,
    inner: cggmp21::PartialSignature<Secp256k1>,
}

impl Presigning for Cggmp21 {
    type Presignature = Cggmp21Presignature;
    type PartialSignature = Cggmp21Partial;

    fn presign(
        ctx: &SessionCtx,
        share: &Cggmp21Share,
        path: Option<&[u32]>,
    ) -> Result<BoxedProtocol<Cggmp21Presignature>> {
        check_signers(ctx, share, Self::ID)?;
        require_aux(share)?;
        let signing_key = Self::signing_key(share, path)?;
        let path: Option<Vec<u32>> = path.filter(|p| !p.is_empty()).map(<[u32]>::to_vec);
        let data = std::sync::Arc::clone(share.data());
        let signers: Vec<PartyIndex> = ctx.parties().to_vec();
        let owned_signers = signers.clone();
        let i = ctx.my_position();
        let me = ctx.me();
        let session = ctx.session();
        let epoch = share.epoch();
        let eid = ctx.execution_id("presign", signing_key.as_bytes());
        let machine = wrap_protocol(move |party| async move {
            let builder = signing_builder(&data, &eid, i, &signers, path.as_deref())?;
            let inner = builder
                .generate_presignature(&mut OsRng, party)
                .await
                .map_err(|e| abort_in(&signers)(&e))?;
            Ok(Cggmp21Presignature {
                id: presignature_id(&session, &inner),
                session,
                path,
                signing_key,
                me,
                signers: owned_signers,
                epoch,
                inner,
            })
        });
        Ok(boxed(ctx, 0, ProtocolKind::Presign, Box::new(machine)))
    }

    fn partial_sign(presig: Cggmp21Presignature, request: &SeenRequest) -> Result<Cggmp21Partial> {
        let request = request.for_presignature()?;
        presig.check_request(request)?;
        let prehash = prehash_of(request)?;
        let msg = DataToSign::from_scalar(Scalar::from_be_bytes_mod_order(prehash));
        Ok(Cggmp21Partial {
            presignature: presig.id,
            from: presig.me,
            inner: presig.inner.issue_partial_signature(msg),
        })
    }

    fn combine(
        public_key: &PublicKey,
        request: &SignRequest,
        partials: &[Cggmp21Partial],
    ) -> Result<Signature> {
        let prehash = prehash_of(request)?;
        let PublicKey::Secp256k1(pk) = public_key else {
            return Err(Error::Misuse("cggmp21 key is not on secp256k1"));
        };
        let Some(first) = partials.first() else {
            return Err(Error::WrongSignerCount { needed: 1, got: 0 });
        };
        if partials
            .iter()
            .any(|p| p.presignature != first.presignature)
        {
            return Err(Error::PresignatureMismatch(
                "partial signatures come from different presignatures",
            ));
        }
        let inner: Vec<_> = partials.iter().map(|p| p.inner.clone()).collect();
        let culprits = || partials.iter().map(|p| p.from).collect::<Vec<_>>();
        let sig =
            cggmp21::PartialSignature::combine(&inner).ok_or_else(|| Error::InvalidSignature {
                culprits: culprits(),
            })?;
        finish(pk, &prehash, &sig).map_err(|_| Error::InvalidSignature {
            culprits: culprits(),
        })
    }
}

fn invalid_presig(reason: String) -> Error {
    Error::Invalid {
        what: "presignature",
        reason,
    }
}

impl crate::reshare::ReshareFrom for Cggmp21 {
    type Group = crate::reshare::group::Secp256k1;

    fn reshare_source(share: &Cggmp21Share) -> Result<crate::reshare::ReshareSource<Self::Group>> {
        let core = share.data().core();
        let vss = core.vss_setup.as_ref().ok_or_else(|| {
            invalid("an n-of-n additive share (no Shamir setup) cannot be reshared".into())
        })?;
        let x: &cggmp21::generic_ec::SecretScalar<Secp256k1> = core.x.as_ref();
        let secret = Zeroizing::new(x.as_ref().to_be_bytes().as_bytes().to_vec());
        let points: Vec<Vec<u8>> = vss
            .I
            .iter()
            .map(|x| x.as_ref().to_be_bytes().as_bytes().to_vec())
            .collect();
        let public_shares: Vec<Vec<u8>> = core
            .public_shares
            .iter()
            .map(|p| p.to_bytes(true).as_bytes().to_vec())
            .collect();
        crate::reshare::ReshareSource::from_parts(crate::reshare::keys::SourceParts {
            index: core.i,
            threshold: vss.min_signers,
            epoch: share.epoch(),
            secret: &secret,
            points: &points,
            public_shares: &public_shares,
            group_key: core.shared_public_key.to_bytes(true).as_bytes(),
            public_data: core.chain_code.map(|c| c.to_vec()).unwrap_or_default(),
        })
    }
}

impl crate::reshare::ReshareInto for Cggmp21 {
    type Group = crate::reshare::group::Secp256k1;

    fn from_reshare(out: &crate::reshare::ReshareOutput<Self::Group>) -> Result<Cggmp21Share> {
        use cggmp21::generic_ec::{NonZero, SecretScalar};
        use cggmp21::key_share::Validate;
        let e = crate::reshare::keys::EncodedOutput::new(out)?;
        let bad = |what: &str| invalid(format!("resharing output: invalid {what}"));
        let mut x = Scalar::<Secp256k1>::from_be_bytes(&*e.secret).map_err(|_| bad("share"))?;
        let x = NonZero::from_secret_scalar(SecretScalar::new(&mut x))
            .ok_or_else(|| bad("share (zero)"))?;
        let ids = e
            .points
            .iter()
            .map(|b| {
                Scalar::<Secp256k1>::from_be_bytes(b)
                    .ok()
                    .and_then(NonZero::from_scalar)
                    .ok_or_else(|| bad("evaluation point"))
            })
            .collect::<Result<Vec<_>>>()?;
        let point = |b: &[u8], what: &str| {
            Point::<Secp256k1>::from_bytes(b)
                .ok()
                .and_then(NonZero::from_point)
                .ok_or_else(|| bad(what))
        };
        let public_shares = e
            .public_shares
            .iter()
            .map(|b| point(b, "public share"))
            .collect::<Result<Vec<_>>>()?;
        let dirty = cggmp21::key_share::DirtyIncompleteKeyShare::<Secp256k1> {
            i: e.index,
            key_info: cggmp21::key_share::DirtyKeyInfo {
                curve: Default::default(),
                shared_public_key: point(&e.group_key, "group key")?,
                public_shares,
                vss_setup: Some(cggmp21::key_share::VssSetup {
                    min_signers: e.threshold,
                    I: ids,
                }),
                chain_code: e.chain_code,
            },
            x,
        };
        let core = dirty
            .validate()
            .map_err(|err| invalid(format!("resharing output: {}", err.error())))?;
        Ok(incomplete_share(core)?.with_epoch(out.epoch))
    }
}

//! GG20 threshold ECDSA over secp256k1 (Gennaro–Goldfeder 2020), for keys that already exist
//! in GG18/GG20 deployments such as bnb-chain's tss-lib. **New keys should use CGGMP21**
//! ([`crate::Cggmp21`]); this engine exists so imported keys keep their addresses.
//!
//! The engine is hardened against the published attacks on GG18/GG20 implementations:
//!
//! - every party's Paillier modulus N and ring-Pedersen modulus Ñ carry Π-mod
//!   (Paillier–Blum) and Π-fac (no small factor) proofs, and h2 ∈ ⟨h1⟩ a Π-prm proof; they
//!   are made at key generation, or by [`Gg20::certify`] once for an imported key, and
//!   signing refuses any signer whose proofs this party has not verified (BitForge,
//!   CVE-2023-33241; there is no option to skip this);
//! - Ñ, h1, h2 are checked (sizes, h1 ≠ h2, not ±1, not of order 2, units) before any proof;
//! - every MtA and MtAwc carries a range proof (Π-enc for K, Π-aff-g for each response, which
//!   also checks the multiplier against Γ_i or W_i in the exponent);
//! - every Fiat–Shamir challenge is a tagged `udigest` hash bound to the session, the purpose,
//!   the prover and the verifier, and every other hash of protocol data (commitments, echoes,
//!   presignature ids) one typed, tagged `udigest` structure (`gg20/transcript.rs`); Π-mod and
//!   Π-prm run 128 repetitions (soundness 2^-128, as cggmp21's);
//! - key generation echoes every party's broadcast, so honest parties never end with
//!   different keys; a sender whose echo misstates its own message or the receiver's is
//!   named;
//! - exponentiations with secret exponents or moduli use GMP's `mpz_powm_sec`, and a
//!   presigning run's secrets are wiped when it is dropped;
//! - Δ_i = k_i·Γ is proven (Π-log*) against K_i; when Σ Δ_i ≠ δ·G or Σ σ_i·Γ ≠ δ·X, every
//!   party proves (Π-aff-g, Π-log*) that its δ_i and σ_i are the plaintexts of ciphertexts
//!   every party computes from the public MtA data, and each partial signature is checked
//!   against its signer's public points, so an abort names the party at fault (an
//!   equivocating party is detected by transcript echoes but not named);
//! - a presignature is consumed by value and cannot be cloned.
//!
//! Message flow: [`messages`] has every message, round by round, with what each field is. Keys have no chain code, so there is no
//! BIP-32 derivation.

mod certify;
mod data;
mod fresh;
mod import_check;
mod keygen;
pub mod messages;
mod moduli;
mod pmod;
mod presign;
#[cfg(feature = "danger-trusted-dealer")]
pub mod test_only;
mod transcript;
mod zk;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use cggmp21::generic_ec::{NonZero, Point, Scalar, SecretScalar};
use cggmp21::supported_curves::Secp256k1;

pub(crate) use data::OwnSecrets;
pub use data::{BigHex, Gg20Data, PartyParams};
pub(crate) use import_check::{core_share, infer_threshold};
pub(crate) use zk::{check_modulus, check_ring_pedersen, order};

use self::presign::{Faults, Out, Presig, Presign};
use crate::error::{Error, Result};
use crate::ids::{CurveId, PartyIndex, SchemeId, SessionCtx, SessionId};
use crate::protocol::BoxedProtocol;
use crate::rounds::RoundsRun;
use crate::scheme::{check_keygen, check_signers, Presigning, ThresholdScheme};
use crate::seen::SeenRequest;
use crate::share::{invalid, KeyShare, ShareHeader, KEY_SHARE_FORMAT_VERSION};
use crate::sig::{PublicKey, SignPayload, SignRequest, Signature};
use crate::PaillierPrimes;

/// The GG20 engine.
#[derive(Debug, Clone, Copy)]
pub struct Gg20;

/// A GG20 key share.
pub type Gg20Share = KeyShare<Gg20Data>;

/// Settings for GG20 key generation: this party's Paillier primes (safe primes, as for
/// CGGMP21; the ring-Pedersen parameters use the same modulus).
#[derive(Debug)]
pub struct Gg20KeygenConfig {
    /// This party's primes.
    pub primes: PaillierPrimes,
}

impl From<PaillierPrimes> for Gg20KeygenConfig {
    fn from(primes: PaillierPrimes) -> Self {
        Gg20KeygenConfig { primes }
    }
}

fn header(data: &Gg20Data, index: PartyIndex, t: u16) -> Result<ShareHeader> {
    Ok(ShareHeader {
        version: KEY_SHARE_FORMAT_VERSION,
        scheme: SchemeId::Gg20Secp256k1,
        curve: CurveId::Secp256k1,
        t,
        n: u16::try_from(data.public_shares.len())
            .map_err(|_| Error::Misuse("too many parties"))?,
        index,
        public_key: PublicKey::secp256k1(data.public_key.to_bytes(true).as_bytes())?,
        epoch: 0,
    })
}

impl Gg20 {
    /// Builds a share from existing key material (see [`crate::import::tss_lib`]). The share
    /// has verified nobody's moduli yet: run [`Gg20::certify`] before signing.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming what does not fit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        index: PartyIndex,
        t: u16,
        x: NonZero<SecretScalar<Secp256k1>>,
        share_ids: Vec<Scalar<Secp256k1>>,
        public_shares: Vec<NonZero<Point<Secp256k1>>>,
        public_key: NonZero<Point<Secp256k1>>,
        own: OwnSecrets,
        params: Vec<PartyParams>,
    ) -> Result<Gg20Share> {
        let data = Gg20Data {
            share_ids,
            public_shares,
            x,
            own,
            params,
            verified: vec![],
            public_key,
        };
        KeyShare::new(header(&data, index, t)?, data)
    }

    /// Certifies the moduli of the parties of `ctx` (any of the key's parties, including
    /// this one): each proves Π-mod, Π-fac and Π-prm for its N, Ñ, h1, h2 and checks the
    /// others'. The returned share records them as verified; store it. Run once per signer
    /// set before an imported key's first signature (keys made by [`Gg20::keygen`] are
    /// certified already).
    ///
    /// # Errors
    /// As [`ThresholdScheme::sign`]; the run aborts naming any party whose proofs fail.
    pub fn certify(ctx: &SessionCtx, share: &Gg20Share) -> Result<BoxedProtocol<Gg20Share>> {
        check_scheme(ctx, share)?;
        if ctx.parties().len() < 2 {
            return Err(Error::Misuse("certification needs at least two parties"));
        }
        let data = Arc::clone(share.data());
        let state = certify::Certify {
            eid: ctx.execution_id("certify", share.public_key().as_bytes()),
            me: ctx.me(),
            parties: ctx.parties().to_vec(),
            data: Arc::clone(&data),
        };
        let header = share.header().clone();
        Ok(Box::new(Map::new(
            RoundsRun::new(ctx.clone(), 0, state),
            move |verified| KeyShare::new(header, data.with_verified(verified)),
        )))
    }

    /// Whether this share has verified the moduli proofs of every party in `signers`.
    pub fn is_certified_for(share: &Gg20Share, signers: &[PartyIndex]) -> bool {
        signers.iter().all(|p| share.data().verified.contains(p))
    }
}

fn check_scheme(ctx: &SessionCtx, share: &Gg20Share) -> Result<()> {
    for found in [ctx.scheme(), share.scheme()] {
        if found != SchemeId::Gg20Secp256k1 {
            return Err(Error::SchemeMismatch {
                expected: SchemeId::Gg20Secp256k1,
                found,
            });
        }
    }
    if ctx.me() != share.index() {
        return Err(Error::Misuse(
            "context's own index differs from the share's index",
        ));
    }
    if let Some(&p) = ctx.parties().iter().find(|&&p| p >= share.parties()) {
        return Err(Error::PartyOutOfRange {
            index: p,
            n: share.parties(),
        });
    }
    Ok(())
}

impl Gg20Data {
    fn with_verified(&self, verified: Vec<PartyIndex>) -> Gg20Data {
        Gg20Data {
            share_ids: self.share_ids.clone(),
            public_shares: self.public_shares.clone(),
            x: self.x.clone(),
            own: self.own.clone(),
            params: self.params.clone(),
            verified,
            public_key: self.public_key,
        }
    }
}

type MapFn<A, O> = Box<dyn FnOnce(A) -> Result<O>>;

/// Maps a run's output.
struct Map<P: crate::Protocol, O> {
    inner: P,
    f: Option<MapFn<P::Output, O>>,
}

impl<P: crate::Protocol, O> Map<P, O> {
    fn new(inner: P, f: impl FnOnce(P::Output) -> Result<O> + 'static) -> Self {
        Map {
            inner,
            f: Some(Box::new(f)),
        }
    }
}

impl<P: crate::Protocol, O> crate::Protocol for Map<P, O> {
    type Output = O;
    fn ctx(&self) -> &SessionCtx {
        self.inner.ctx()
    }
    fn proceed(&mut self) -> Result<crate::Step<O>> {
        match self.inner.proceed()? {
            crate::Step::Send(m) => Ok(crate::Step::Send(m)),
            crate::Step::NeedMessage => Ok(crate::Step::NeedMessage),
            crate::Step::Done(o) => {
                let f = self
                    .f
                    .take()
                    .ok_or(Error::Misuse("proceed called after the run finished"))?;
                f(o).map(crate::Step::Done)
            }
        }
    }
    fn receive(&mut self, msg: crate::Message) -> Result<()> {
        self.inner.receive(msg)
    }
}

fn prehash_of(request: &SignRequest) -> Result<[u8; 32]> {
    if request
        .derivation_path
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(Error::Derivation(
            "GG20 keys have no chain code; no derivation path".into(),
        ));
    }
    match &request.payload {
        SignPayload::EcdsaPrehash { prehash } => Ok(*prehash),
        _ => Err(Error::RequestMismatch {
            scheme: SchemeId::Gg20Secp256k1,
            reason: "ECDSA signs a 32-byte prehash",
        }),
    }
}

fn require_certified(share: &Gg20Share, signers: &[PartyIndex]) -> Result<()> {
    let missing: Vec<PartyIndex> = signers
        .iter()
        .copied()
        .filter(|p| !share.data().verified.contains(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(invalid(format!(
        "the moduli proofs (Π-mod, Π-fac, Π-prm) of parties {missing:?} have not been verified by this party; run Gg20::certify with them first (signing without them is refused)"
    )))
}

pub(crate) fn presign_run(
    ctx: &SessionCtx,
    share: &Gg20Share,
    prehash: Option<[u8; 32]>,
    purpose: &str,
    faults: Faults,
) -> Result<RoundsRun<Presign>> {
    check_signers(ctx, share, SchemeId::Gg20Secp256k1)?;
    require_certified(share, ctx.parties())?;
    let mut bound = share.public_key().as_bytes().to_vec();
    if let Some(m) = prehash {
        bound.extend_from_slice(&m);
    }
    let eid = ctx.execution_id(purpose, &bound);
    let state = Presign::new(
        eid,
        ctx.me(),
        ctx.parties().to_vec(),
        Arc::clone(share.data()),
        prehash,
        faults,
    )?;
    Ok(RoundsRun::new(ctx.clone(), 0, state))
}

impl ThresholdScheme for Gg20 {
    const ID: SchemeId = SchemeId::Gg20Secp256k1;
    type Data = Gg20Data;
    type KeygenConfig = Gg20KeygenConfig;

    fn keygen(
        ctx: &SessionCtx,
        t: u16,
        config: Gg20KeygenConfig,
    ) -> Result<BoxedProtocol<Gg20Share>> {
        let n = check_keygen(ctx, t, Self::ID)?;
        if t < 2 {
            return Err(Error::UnsupportedThreshold {
                scheme: Self::ID,
                t,
                reason: "gg20 threshold keys need t >= 2",
            });
        }
        let (p, q) = config.primes.0.split();
        let (own, params) = keygen::params_from_primes(p, q)?;
        let state =
            keygen::Keygen::new(ctx.execution_id("keygen", &[]), ctx.me(), n, t, own, params);
        let me = ctx.me();
        Ok(Box::new(Map::new(
            RoundsRun::new(ctx.clone(), 0, state),
            move |data| KeyShare::new(header(&data, me, t)?, data),
        )))
    }

    fn sign(
        ctx: &SessionCtx,
        share: &Gg20Share,
        request: &SignRequest,
    ) -> Result<BoxedProtocol<Signature>> {
        let prehash = prehash_of(request)?;
        let run = presign_run(ctx, share, Some(prehash), "sign", Faults::default())?;
        Ok(Box::new(Map::new(run, |out| match out {
            Out::Signature(s) => Ok(s),
            Out::Presignature(_) => Err(Error::Misuse("signing run ended without a signature")),
        })))
    }

    fn signing_key(share: &Gg20Share, path: Option<&[u32]>) -> Result<PublicKey> {
        match path {
            None | Some([]) => Ok(share.public_key()),
            Some(_) => Err(Error::Derivation(
                "GG20 keys have no chain code; no derivation path".into(),
            )),
        }
    }
}

/// A GG20 presignature: single use, consumed by value, not `Clone`, `Debug` redacted.
pub struct Gg20Presignature {
    id: [u8; 32],
    session: SessionId,
    me: PartyIndex,
    public_key: [u8; 33],
    epoch: u32,
    inner: Presig,
}

/// Version of the stored GG20 presignature format. Version 2 added the key's epoch; a
/// version-1 presignature reads as one of epoch 0.
pub const GG20_PRESIGNATURE_FORMAT_VERSION: u32 = 2;

#[derive(serde::Serialize)]
struct StoredRef<'a> {
    version: u32,
    session: &'a SessionId,
    me: PartyIndex,
    #[serde(with = "crate::hexser")]
    public_key: &'a [u8; 33],
    epoch: u32,
    inner: &'a Presig,
}

#[derive(serde::Deserialize)]
struct Stored {
    version: u32,
    session: SessionId,
    me: PartyIndex,
    #[serde(with = "crate::hexser")]
    public_key: [u8; 33],
    #[serde(default)]
    epoch: u32,
    inner: Presig,
}

impl core::fmt::Debug for Gg20Presignature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gg20Presignature")
            .field("id", &crate::hexser::to_hex(&self.id))
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Gg20Presignature {
    /// Identifier (hash of the session and `R`), the same at every signer of one run.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }
    /// The key the presignature signs for (compressed SEC1).
    pub fn public_key(&self) -> [u8; 33] {
        self.public_key
    }
    /// The signers of the presigning run.
    pub fn signers(&self) -> Vec<PartyIndex> {
        self.inner.checks.keys().copied().collect()
    }
    /// The epoch of the key share it was made with: it signs only in a store of that epoch.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }
}

fn invalid_presig(reason: String) -> Error {
    Error::Invalid {
        what: "presignature",
        reason,
    }
}

impl crate::presign_store::StoredPresignature for Gg20Presignature {
    fn id(&self) -> [u8; 32] {
        self.id
    }
    fn signers(&self) -> Vec<PartyIndex> {
        Gg20Presignature::signers(self)
    }
    fn path(&self) -> Option<Vec<u32>> {
        None
    }
    fn signing_key(&self) -> PublicKey {
        PublicKey::Secp256k1(self.public_key)
    }
    fn epoch(&self) -> u32 {
        self.epoch
    }
    fn check_request(&self, request: &SignRequest) -> Result<()> {
        prehash_of(request)?;
        if request
            .derivation_path
            .as_ref()
            .is_some_and(|p| !p.is_empty())
        {
            return Err(Error::PresignatureMismatch(
                "GG20 keys have no derivation; the request carries a path",
            ));
        }
        Ok(())
    }
    fn to_bytes(&self) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        serde_json::to_vec(&StoredRef {
            version: GG20_PRESIGNATURE_FORMAT_VERSION,
            session: &self.session,
            me: self.me,
            public_key: &self.public_key,
            epoch: self.epoch,
            inner: &self.inner,
        })
        .map(zeroize::Zeroizing::new)
        .map_err(|e| invalid_presig(e.to_string()))
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let s: Stored = serde_json::from_slice(bytes).map_err(|e| invalid_presig(e.to_string()))?;
        if !(1..=GG20_PRESIGNATURE_FORMAT_VERSION).contains(&s.version) {
            return Err(Error::UnsupportedVersion {
                found: s.version,
                supported: GG20_PRESIGNATURE_FORMAT_VERSION,
            });
        }
        if !s.inner.checks.contains_key(&s.me) {
            return Err(invalid_presig("own index is not among the signers".into()));
        }
        PublicKey::secp256k1(&s.public_key)?;
        Ok(Gg20Presignature {
            id: presignature_id(&s.session, &s.inner.r_point),
            session: s.session,
            me: s.me,
            public_key: s.public_key,
            epoch: s.epoch,
            inner: s.inner,
        })
    }
}

/// A party's GG20 partial signature (s_i), with what a combiner needs to check it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Gg20Partial {
    /// Presignature id it was made with.
    #[serde(with = "crate::hexser")]
    pub presignature: [u8; 32],
    /// Issuing party.
    pub from: PartyIndex,
    s: Scalar<Secp256k1>,
    r_point: Point<Secp256k1>,
    checks: BTreeMap<PartyIndex, (Point<Secp256k1>, Point<Secp256k1>)>,
}

impl Presigning for Gg20 {
    type Presignature = Gg20Presignature;
    type PartialSignature = Gg20Partial;

    fn presign(
        ctx: &SessionCtx,
        share: &Gg20Share,
        path: Option<&[u32]>,
    ) -> Result<BoxedProtocol<Gg20Presignature>> {
        Self::signing_key(share, path)?;
        let run = presign_run(ctx, share, None, "presign", Faults::default())?;
        let session = ctx.session();
        let me = ctx.me();
        let epoch = share.epoch();
        let mut public_key = [0u8; 33];
        public_key.copy_from_slice(share.public_key().as_bytes());
        Ok(Box::new(Map::new(run, move |out| match out {
            Out::Presignature(inner) => Ok(Gg20Presignature {
                id: presignature_id(&session, &inner.r_point),
                session,
                me,
                public_key,
                epoch,
                inner,
            }),
            Out::Signature(_) => Err(Error::Misuse("presigning run ended with a signature")),
        })))
    }

    fn partial_sign(mut presig: Gg20Presignature, request: &SeenRequest) -> Result<Gg20Partial> {
        let request = request.for_presignature()?;
        crate::presign_store::StoredPresignature::check_request(&presig, request)?;
        let prehash = prehash_of(request)?;
        Ok(Gg20Partial {
            presignature: presig.id,
            from: presig.me,
            s: presign::partial(&presig.inner, &prehash)?,
            r_point: presig.inner.r_point,
            checks: std::mem::take(&mut presig.inner.checks),
        })
    }

    fn combine(
        public_key: &PublicKey,
        request: &SignRequest,
        partials: &[Gg20Partial],
    ) -> Result<Signature> {
        let prehash = prehash_of(request)?;
        let PublicKey::Secp256k1(pk) = public_key else {
            return Err(Error::Misuse("gg20 key is not on secp256k1"));
        };
        let Some(first) = partials.first() else {
            return Err(Error::WrongSignerCount { needed: 1, got: 0 });
        };
        if partials.iter().any(|p| {
            p.presignature != first.presignature
                || p.r_point != first.r_point
                || p.checks != first.checks
        }) {
            return Err(Error::PresignatureMismatch(
                "partial signatures come from different presignatures",
            ));
        }
        let list: Vec<(PartyIndex, Scalar<Secp256k1>)> =
            partials.iter().map(|p| (p.from, p.s)).collect();
        presign::combine(&first.r_point, &first.checks, pk, &prehash, &list)
    }
}

fn presignature_id(session: &SessionId, r: &Point<Secp256k1>) -> [u8; 32] {
    transcript::hash(&transcript::PresignatureId {
        session: &session.0,
        r,
    })
}

impl crate::reshare::ReshareFrom for Gg20 {
    type Group = crate::reshare::group::Secp256k1;

    /// A GG20 key (an imported tss-lib key, with its arbitrary evaluation points) as the
    /// dealers' side of a resharing: how it migrates to a CGGMP21 committee.
    fn reshare_source(share: &Gg20Share) -> Result<crate::reshare::ReshareSource<Self::Group>> {
        let d = share.data();
        let x: &SecretScalar<Secp256k1> = d.x.as_ref();
        let secret = zeroize::Zeroizing::new(x.as_ref().to_be_bytes().as_bytes().to_vec());
        let points: Vec<Vec<u8>> = d
            .share_ids
            .iter()
            .map(|x| x.to_be_bytes().as_bytes().to_vec())
            .collect();
        let public_shares: Vec<Vec<u8>> = d
            .public_shares
            .iter()
            .map(|p| p.to_bytes(true).as_bytes().to_vec())
            .collect();
        crate::reshare::ReshareSource::from_parts(crate::reshare::keys::SourceParts {
            index: share.index(),
            threshold: share.threshold(),
            epoch: share.epoch(),
            secret: &secret,
            points: &points,
            public_shares: &public_shares,
            group_key: d.public_key.to_bytes(true).as_bytes(),
            public_data: Vec::new(),
        })
    }
}

impl Gg20 {
    /// The GG20 share of a new committee member from its resharing output (a refreshed,
    /// reshared or repaired GG20 key): the committee (all `n` new parties, `ctx` listing
    /// `0..n` by new share index) makes fresh Paillier and ring-Pedersen parameters from
    /// each party's `primes` and exchanges them with Π-mod, Π-prm and Π-fac proofs. The
    /// share keeps the resharing's epoch and is certified for every new party.
    ///
    /// # Errors
    /// [`Error::Misuse`] for a party outside the new committee or a context that is not the
    /// committee; [`Error::Invalid`] for a threshold below 2 or carried-over public data
    /// (GG20 keys have no chain code); the run aborts naming a party whose proofs fail.
    pub fn reshared(
        ctx: &SessionCtx,
        out: &crate::reshare::ReshareOutput<crate::reshare::group::Secp256k1>,
        primes: PaillierPrimes,
    ) -> Result<BoxedProtocol<Gg20Share>> {
        let e = crate::reshare::keys::EncodedOutput::new(out)?;
        let n = check_keygen(ctx, e.threshold, Self::ID)?;
        if usize::from(n) != e.points.len() || ctx.me() != e.index {
            return Err(Error::Misuse(
                "the moduli exchange after a resharing needs the whole new committee, by new \
                 share index",
            ));
        }
        if e.threshold < 2 {
            return Err(invalid("gg20 threshold keys need t >= 2".into()));
        }
        if e.chain_code.is_some() {
            return Err(invalid(
                "GG20 keys carry no chain code; this resharing carries one".into(),
            ));
        }
        let bad = |what: &str| invalid(format!("resharing output: invalid {what}"));
        let mut x = Scalar::<Secp256k1>::from_be_bytes(&*e.secret).map_err(|_| bad("share"))?;
        let x = NonZero::from_secret_scalar(SecretScalar::new(&mut x))
            .ok_or_else(|| bad("share (zero)"))?;
        let point = |b: &[u8], what: &str| {
            Point::<Secp256k1>::from_bytes(b)
                .ok()
                .and_then(NonZero::from_point)
                .ok_or_else(|| bad(what))
        };
        let key = fresh::NewKey {
            share_ids: e
                .points
                .iter()
                .map(|b| Scalar::<Secp256k1>::from_be_bytes(b).map_err(|_| bad("point")))
                .collect::<Result<Vec<_>>>()?,
            public_shares: e
                .public_shares
                .iter()
                .map(|b| point(b, "public share"))
                .collect::<Result<Vec<_>>>()?,
            x,
            public_key: point(&e.group_key, "group key")?,
        };
        let (p, q) = primes.0.split();
        let (own, params) = keygen::params_from_primes(p, q)?;
        let state = fresh::FreshModuli {
            eid: ctx.execution_id("reshare-moduli", &e.group_key),
            me: ctx.me(),
            n,
            own,
            params,
            key: Some(key),
            theirs: BTreeMap::new(),
        };
        let (me, t, epoch) = (ctx.me(), e.threshold, out.epoch);
        Ok(Box::new(Map::new(
            RoundsRun::new(ctx.clone(), 0, state),
            move |data| Ok(KeyShare::new(header(&data, me, t)?, data)?.with_epoch(epoch)),
        )))
    }
}

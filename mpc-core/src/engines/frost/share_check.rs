//! Which signers' signature shares are wrong (RFC 9591, section 5.4), run when the
//! aggregate signature does not verify.
//!
//! A share `z_j` of signer `j` is right when `z_j·G = R_j + λ_j·c·Y_j`, where
//! `R_j = D_j + ρ_j·E_j` is its nonce commitment (with its binding factor `ρ_j`), `λ_j` its
//! Lagrange coefficient among the signers, `c` the challenge and `Y_j` its public share.
//! givre signs under the key after the HD shift and, for Taproot, the BIP-341 tweak, and
//! negates a key or a group commitment whose `y` is not even (BIP-340's normalization): the
//! same shifts and negations are applied here to each `Y_j` and `R_j`, in givre's order
//! (shift, normalize, tweak, normalize).

use givre::ciphersuite::NormalizedPoint;
use givre::generic_ec::{NonZero, Point, Scalar};
use givre::signing::round1::PublicCommitments;
use givre::signing::round2::SigShare;
use sha2::digest::{FixedOutput, Update};

use super::FrostSuite;
use crate::error::{Error, Result};
use crate::ids::PartyIndex;

/// One signer's contribution: its index, its round-1 commitments and its share.
pub(super) type Contribution<C> = (
    PartyIndex,
    PublicCommitments<<C as givre::Ciphersuite>::Curve>,
    SigShare<<C as givre::Ciphersuite>::Curve>,
);

/// What every share was made for: the key, the HD path, the Taproot merkle root (`Some`
/// exactly for Taproot ciphersuites) and the message.
pub(super) struct Signed<'a, C: FrostSuite> {
    pub key: &'a givre::KeyShare<C::Curve>,
    pub path: Option<&'a [u32]>,
    pub taproot: Option<Option<[u8; 32]>>,
    pub message: &'a [u8],
}

fn internal(what: &str) -> Error {
    Error::Internal(format!("FROST share check: {what}"))
}

/// The normalized form of `p` and whether it was negated to get it.
fn normalized<C: FrostSuite>(p: Point<C::Curve>) -> (Point<C::Curve>, bool) {
    match NormalizedPoint::<C, Point<C::Curve>>::try_normalize(p) {
        Ok(n) => (*n, false),
        Err(n) => (*n, true),
    }
}

/// The signers (in the order of `shares`) whose share fails the check.
///
/// # Errors
/// [`Error::Internal`] if a signer is not a party of the key or the key cannot be derived
/// as the shares were (the run refuses such inputs before it signs).
pub(super) fn faulty_signers<C: FrostSuite>(
    signed: &Signed<'_, C>,
    shares: &[Contribution<C>],
) -> Result<Vec<PartyIndex>> {
    let info = &signed.key.key_info;
    let additive = info.vss_setup.is_none();
    // A shift of the key moves every Shamir share by the same amount; of additive
    // shares, only the first.
    let shift = |j: PartyIndex, y: Point<C::Curve>, by: Point<C::Curve>| {
        if additive && j != 0 {
            y
        } else {
            y + by
        }
    };

    // The key the shares sign for, and per signer the map from its public share.
    let mut key = info.shared_public_key.into_inner();
    let mut hd_shift = Point::<C::Curve>::zero();
    if let Some(path) = signed.path {
        let child = info
            .derive_child_public_key::<C::HdAlgo, _>(path.iter().copied())
            .map_err(|_| internal("the HD path does not derive"))?;
        hd_shift = child.public_key - key;
        key = child.public_key;
    }
    let (key, negated_1) = normalized::<C>(key);
    let (key, tweak, negated_2) = match signed.taproot {
        Some(root) => {
            let internal_key = NonZero::from_point(key)
                .and_then(|k| NormalizedPoint::<C, _>::try_normalize(k).ok())
                .ok_or_else(|| internal("the internal key is not normalized"))?;
            let t = givre::signing::taproot::tweak::<C>(internal_key, root)
                .ok_or_else(|| internal("the Taproot tweak is undefined"))?;
            let tweak = Point::generator() * t;
            let (key, negated) = normalized::<C>(key + tweak);
            (key, tweak, negated)
        }
        None => (key, Point::zero(), false),
    };
    let key = NonZero::from_point(key)
        .and_then(|k| NormalizedPoint::<C, _>::try_normalize(k).ok())
        .ok_or_else(|| internal("the signing key is the identity"))?;
    let effective_share = |j: PartyIndex, y: Point<C::Curve>| {
        let mut y = shift(j, y, hd_shift);
        if negated_1 {
            y = -y;
        }
        if signed.taproot.is_some() {
            y = shift(j, y, tweak);
        }
        if negated_2 {
            y = -y;
        }
        y
    };

    // Binding factors over the commitment list sorted by share identifier (section 4.4).
    let mut list = shares
        .iter()
        .map(|(j, comm, share)| {
            let id = info
                .share_preimage(*j)
                .ok_or_else(|| internal("a signer is not a party of the key"))?;
            let public = info
                .public_shares
                .get(usize::from(*j))
                .ok_or_else(|| internal("a signer has no public share"))?;
            Ok((id, *j, *comm, share.0, public.into_inner()))
        })
        .collect::<Result<Vec<_>>>()?;
    list.sort_unstable_by_key(|e| e.0);
    let message_hash = FixedOutput::finalize_fixed(Update::chain(C::h4(), signed.message));
    let mut commitments = C::h5();
    for (id, _, comm, _, _) in &list {
        Update::update(&mut commitments, C::serialize_scalar(id).as_ref());
        Update::update(
            &mut commitments,
            C::serialize_point(&comm.hiding_comm).as_ref(),
        );
        Update::update(
            &mut commitments,
            C::serialize_point(&comm.binding_comm).as_ref(),
        );
    }
    let commitments_hash = FixedOutput::finalize_fixed(commitments);
    let key_bytes = C::serialize_point(&key);
    let nonce_commitments: Vec<Point<C::Curve>> = list
        .iter()
        .map(|(id, _, comm, _, _)| {
            let rho = C::h1(&[
                key_bytes.as_ref(),
                &message_hash,
                &commitments_hash,
                C::serialize_scalar(id).as_ref(),
            ]);
            comm.hiding_comm + comm.binding_comm * rho
        })
        .collect();

    // The group commitment and the challenge (sections 4.5 and 5.2).
    let group: Point<C::Curve> = nonce_commitments.iter().sum();
    let (group, negated_r) = match NormalizedPoint::<C, Point<C::Curve>>::try_normalize(group) {
        Ok(r) => (r, false),
        Err(r) => (r, true),
    };
    let challenge = C::compute_challenge(&group, &key, signed.message);

    let ids: Vec<Scalar<C::Curve>> = list.iter().map(|e| *e.0).collect();
    let mut faulty = Vec::new();
    for ((id, j, _, z, public), r) in list.iter().zip(&nonce_commitments) {
        let lambda = if additive {
            Scalar::one()
        } else {
            lagrange_at_zero(&ids, id)?
        };
        let r = if negated_r { -*r } else { *r };
        let expected = r + effective_share(*j, *public) * (lambda * challenge);
        if Point::generator() * z != expected {
            faulty.push(*j);
        }
    }
    // Report in the order the shares came.
    faulty.sort_by_key(|j| shares.iter().position(|s| s.0 == *j));
    Ok(faulty)
}

/// `λ_i = Π_{k≠i} x_k / (x_k − x_i)` over the signers' identifiers `ids` (section 4.2).
fn lagrange_at_zero<E: givre::generic_ec::Curve>(
    ids: &[Scalar<E>],
    x_i: &NonZero<Scalar<E>>,
) -> Result<Scalar<E>> {
    let mut num = Scalar::<E>::one();
    let mut den = Scalar::<E>::one();
    for x_k in ids.iter().filter(|x| *x != x_i.as_ref()) {
        num *= x_k;
        den *= *x_k - x_i.as_ref();
    }
    let inv = den
        .invert()
        .ok_or_else(|| internal("two signers share an identifier"))?;
    Ok(num * inv)
}

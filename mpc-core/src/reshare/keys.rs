//! Engine key shares in and out of a resharing: what a share gives the protocol
//! ([`ReshareSource`], from [`ReshareFrom`]) and the share a new committee member gets
//! ([`ReshareInto`]).
//!
//! Every engine's share crosses as bytes in the group's canonical encodings, so the engines'
//! own curve libraries (two versions of `generic-ec`, GG20's own types) stay inside the
//! engines.

use std::collections::BTreeMap;

use zeroize::{Zeroize, Zeroizing};

use super::group::ReshareGroup;
use super::{DealerInput, OldParty, ReshareOutput, ReshareSetup};
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::scheme::ThresholdScheme;
use crate::share::KeyShare;

/// A key share's parts in the group's canonical encodings (see [`ReshareSource::from_parts`]).
#[derive(Debug)]
pub struct SourceParts<'a> {
    /// The share index.
    pub index: u16,
    /// Signers the key needs.
    pub threshold: u16,
    /// The key's epoch.
    pub epoch: u32,
    /// The secret share (held by the caller in zeroizing memory).
    pub secret: &'a [u8],
    /// Each party's evaluation point, by share index.
    pub points: &'a [Vec<u8>],
    /// Each party's public share, by share index.
    pub public_shares: &'a [Vec<u8>],
    /// The group key.
    pub group_key: &'a [u8],
    /// Public data to carry over (the chain code, or empty).
    pub public_data: Vec<u8>,
}

/// An existing share's view of its key, ready to reshare: the public facts every
/// participant needs and this party's secret, for when it deals.
pub struct ReshareSource<G: ReshareGroup> {
    /// The group key.
    pub group_key: G::Point,
    /// Signers the key needs.
    pub threshold: u16,
    /// Every party of the key by share index: evaluation point and public share.
    pub committee: Vec<OldParty<G>>,
    /// This party's share index.
    pub index: u16,
    /// Public data to carry over: the BIP-32 chain code, or empty.
    pub public_data: Vec<u8>,
    /// The key's current epoch.
    pub epoch: u32,
    secret: G::Scalar,
}

impl<G: ReshareGroup> Drop for ReshareSource<G> {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl<G: ReshareGroup> core::fmt::Debug for ReshareSource<G> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReshareSource")
            .field("threshold", &self.threshold)
            .field("index", &self.index)
            .field("n", &self.committee.len())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl<G: ReshareGroup> ReshareSource<G> {
    /// Builds a source from encoded parts (the group's canonical encodings), checking the
    /// secret against its public share.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad encoding or a secret that does not match.
    pub fn from_parts(parts: SourceParts<'_>) -> Result<Self> {
        let SourceParts {
            index,
            threshold,
            epoch,
            secret,
            points,
            public_shares,
            group_key,
            public_data,
        } = parts;
        let bad = |what: &str| Error::Invalid {
            what: "key share",
            reason: format!("{what} does not decode for resharing"),
        };
        let secret = G::scalar_from_bytes(secret).ok_or_else(|| bad("the secret share"))?;
        if points.len() != public_shares.len() {
            return Err(bad("the committee"));
        }
        let committee = points
            .iter()
            .zip(public_shares)
            .map(|(x, p)| {
                Ok(OldParty {
                    point: G::scalar_from_bytes(x).ok_or_else(|| bad("an evaluation point"))?,
                    public_share: G::point_from_bytes(p).ok_or_else(|| bad("a public share"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let group_key = G::point_from_bytes(group_key).ok_or_else(|| bad("the group key"))?;
        let source = ReshareSource {
            group_key,
            threshold,
            committee,
            index,
            public_data,
            epoch,
            secret,
        };
        let own = source
            .committee
            .get(usize::from(index))
            .ok_or_else(|| bad("the share index"))?;
        if G::mul_base(&source.secret) != own.public_share {
            return Err(Error::Invalid {
                what: "key share",
                reason: "the secret share does not match its public share".into(),
            });
        }
        Ok(source)
    }

    /// The setup of a resharing of this key when share index `i` belongs to party
    /// `old_ids[i]` of the deployment (pass `None` when share indices are party ids). The
    /// new shares get the next epoch.
    ///
    /// # Errors
    /// `old_ids` of the wrong length.
    pub fn setup(
        &self,
        old_ids: Option<&[PartyIndex]>,
        dealers: &[PartyIndex],
        new_parties: &[PartyIndex],
        new_threshold: u16,
    ) -> Result<ReshareSetup<G>> {
        let n = self.committee.len();
        let ids: Vec<PartyIndex> = match old_ids {
            Some(ids) if ids.len() == n => ids.to_vec(),
            Some(ids) => {
                return Err(Error::Invalid {
                    what: "resharing setup",
                    reason: format!("{} party ids for a key of {n} parties", ids.len()),
                })
            }
            None => (0..u16::try_from(n).unwrap_or(u16::MAX)).collect(),
        };
        let old_parties: BTreeMap<PartyIndex, OldParty<G>> = ids
            .into_iter()
            .zip(self.committee.iter().copied())
            .collect();
        Ok(ReshareSetup {
            group_key: self.group_key,
            old_threshold: self.threshold,
            old_parties,
            dealers: dealers.to_vec(),
            new_parties: new_parties.to_vec(),
            new_threshold,
            epoch: self.epoch.checked_add(1).ok_or(Error::Invalid {
                what: "resharing setup",
                reason: "the key's epoch counter is exhausted".into(),
            })?,
        })
    }

    /// This party's input as a dealer.
    pub fn dealer_input(&self) -> DealerInput<G> {
        DealerInput::new(self.secret, self.public_data.clone())
    }
}

/// The public and secret parts of a resharing output in the group's encodings, for an
/// engine to build its share from.
pub(crate) struct EncodedOutput {
    pub(crate) index: u16,
    pub(crate) threshold: u16,
    pub(crate) secret: Zeroizing<Vec<u8>>,
    pub(crate) points: Vec<Vec<u8>>,
    pub(crate) public_shares: Vec<Vec<u8>>,
    pub(crate) group_key: Vec<u8>,
    pub(crate) chain_code: Option<[u8; 32]>,
}

impl EncodedOutput {
    pub(crate) fn new<G: ReshareGroup>(out: &ReshareOutput<G>) -> Result<Self> {
        let share = out.share.as_ref().ok_or(Error::Misuse(
            "this party is not in the new committee: it gets no share",
        ))?;
        let chain_code = match out.public_data.len() {
            0 => None,
            32 => {
                let mut c = [0u8; 32];
                c.copy_from_slice(&out.public_data);
                Some(c)
            }
            n => {
                return Err(Error::Invalid {
                    what: "resharing output",
                    reason: format!("{n} bytes of public data, not a 32-byte chain code"),
                })
            }
        };
        Ok(EncodedOutput {
            index: share.index(),
            threshold: out.threshold,
            secret: Zeroizing::new(G::scalar_to_bytes(share.secret()).to_vec()),
            points: out
                .points
                .iter()
                .map(|x| G::scalar_to_bytes(x).to_vec())
                .collect(),
            public_shares: out.public_shares.iter().map(G::point_to_bytes).collect(),
            group_key: G::point_to_bytes(&out.group_key),
            chain_code,
        })
    }
}

/// An engine whose shares can deal in a resharing.
pub trait ReshareFrom: ThresholdScheme {
    /// The group of its keys.
    type Group: ReshareGroup;
    /// The share's view of its key.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a share the protocol cannot take (for example one without
    /// a threshold setup).
    fn reshare_source(share: &KeyShare<Self::Data>) -> Result<ReshareSource<Self::Group>>;
}

/// An engine a resharing can give shares of.
pub trait ReshareInto: ThresholdScheme {
    /// The group of its keys.
    type Group: ReshareGroup;
    /// The new share of this party from its resharing output. A CGGMP21 share comes without
    /// auxiliary info: the new committee then runs [`crate::Cggmp21::aux_info`] (fresh
    /// Paillier keys with their proofs) before it signs.
    ///
    /// # Errors
    /// [`Error::Misuse`] for a party outside the new committee; [`Error::Invalid`] if the
    /// engine refuses the share.
    fn from_reshare(out: &ReshareOutput<Self::Group>) -> Result<KeyShare<Self::Data>>;
}

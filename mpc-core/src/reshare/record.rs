//! The public setup of a resharing as plain data ([`SetupRecord`]), for a coordinator to
//! hand to the parties that hold no share of the key yet (new parties, a party repairing a
//! lost share). Its encodings are the group's canonical ones; decoding checks every point
//! and scalar. A party that holds the key rebuilds the setup from its own share and refuses
//! a record that differs; the protocol itself binds every participant to one setup.

use serde::{Deserialize, Serialize};

use super::group::ReshareGroup;
use super::{OldParty, ReshareSetup};
use crate::error::{Error, Result};
use crate::ids::{CurveId, PartyIndex};

/// One party of the old committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OldPartyRecord {
    /// The party's id in the resharing session.
    pub id: PartyIndex,
    /// Its evaluation point (32 bytes, the group's scalar encoding).
    #[serde(with = "crate::hexser::vec")]
    pub point: Vec<u8>,
    /// Its public share (the group's point encoding).
    #[serde(with = "crate::hexser::vec")]
    pub public_share: Vec<u8>,
}

/// A [`ReshareSetup`] as plain data (all public).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRecord {
    /// The curve of the key.
    pub curve: CurveId,
    /// The group key (the group's point encoding).
    #[serde(with = "crate::hexser::vec")]
    pub group_key: Vec<u8>,
    /// Threshold of the old committee.
    pub old_threshold: u16,
    /// The old committee.
    pub old_parties: Vec<OldPartyRecord>,
    /// The dealers.
    pub dealers: Vec<PartyIndex>,
    /// The new committee in new share-index order.
    pub new_parties: Vec<PartyIndex>,
    /// Threshold of the new committee.
    pub new_threshold: u16,
    /// Epoch of the new shares.
    pub epoch: u32,
}

impl<G: ReshareGroup> From<&ReshareSetup<G>> for SetupRecord {
    fn from(s: &ReshareSetup<G>) -> Self {
        SetupRecord {
            curve: G::CURVE,
            group_key: G::point_to_bytes(&s.group_key),
            old_threshold: s.old_threshold,
            old_parties: s
                .old_parties
                .iter()
                .map(|(id, p)| OldPartyRecord {
                    id: *id,
                    point: G::scalar_to_bytes(&p.point).to_vec(),
                    public_share: G::point_to_bytes(&p.public_share),
                })
                .collect(),
            dealers: s.dealers.clone(),
            new_parties: s.new_parties.clone(),
            new_threshold: s.new_threshold,
            epoch: s.epoch,
        }
    }
}

impl SetupRecord {
    /// Every participant of the run: the dealers and the new committee, sorted.
    pub fn participants(&self) -> Vec<PartyIndex> {
        super::participants(&self.dealers, &self.new_parties)
    }

    /// The setup, decoded for group `G` (the setup's own checks run when the protocol
    /// starts).
    ///
    /// # Errors
    /// [`Error::Invalid`] for another curve, a point or scalar that does not decode, or an
    /// old party listed twice.
    pub fn to_setup<G: ReshareGroup>(&self) -> Result<ReshareSetup<G>> {
        let bad = |reason: String| Error::Invalid {
            what: "resharing setup",
            reason,
        };
        if self.curve != G::CURVE {
            return Err(bad(format!(
                "a setup for {:?} keys, not {:?}",
                self.curve,
                G::CURVE
            )));
        }
        let group_key = G::point_from_bytes(&self.group_key)
            .ok_or_else(|| bad("the group key does not decode".into()))?;
        let mut old_parties = std::collections::BTreeMap::new();
        for p in &self.old_parties {
            let party = OldParty {
                point: G::scalar_from_bytes(&p.point).ok_or_else(|| {
                    bad(format!(
                        "the evaluation point of party {} does not decode",
                        p.id
                    ))
                })?,
                public_share: G::point_from_bytes(&p.public_share).ok_or_else(|| {
                    bad(format!(
                        "the public share of party {} does not decode",
                        p.id
                    ))
                })?,
            };
            if old_parties.insert(p.id, party).is_some() {
                return Err(Error::DuplicateParty(p.id));
            }
        }
        Ok(ReshareSetup {
            group_key,
            old_threshold: self.old_threshold,
            old_parties,
            dealers: self.dealers.clone(),
            new_parties: self.new_parties.clone(),
            new_threshold: self.new_threshold,
            epoch: self.epoch,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reshare::group::{Ed25519, Secp256k1};

    fn setup() -> ReshareSetup<Secp256k1> {
        let x = |v| Secp256k1::scalar(v);
        let g = |v| Secp256k1::mul_base(&Secp256k1::scalar(v));
        ReshareSetup {
            group_key: g(7),
            old_threshold: 1,
            old_parties: [(
                4,
                OldParty {
                    point: x(1),
                    public_share: g(7),
                },
            )]
            .into(),
            dealers: vec![4],
            new_parties: vec![4, 9],
            new_threshold: 2,
            epoch: 3,
        }
    }

    #[test]
    fn a_record_gives_back_its_setup_and_refuses_bad_encodings() {
        let record = SetupRecord::from(&setup());
        let json = serde_json::to_string(&record).unwrap();
        let back: SetupRecord = serde_json::from_str(&json).unwrap();
        let s = back.to_setup::<Secp256k1>().unwrap();
        assert_eq!(SetupRecord::from(&s), record);
        assert!(back.to_setup::<Ed25519>().is_err(), "another curve");
        let mut broken = record.clone();
        broken.group_key[0] = 0x07;
        assert!(broken.to_setup::<Secp256k1>().is_err(), "not a point");
        let mut twice = record;
        twice.old_parties.push(twice.old_parties[0].clone());
        assert!(matches!(
            twice.to_setup::<Secp256k1>(),
            Err(Error::DuplicateParty(4))
        ));
    }
}

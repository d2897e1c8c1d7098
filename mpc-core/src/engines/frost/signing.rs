//! FROST signing in two rounds (RFC 9591 section 5), with givre's nonce, share and
//! aggregation functions, and blame for every signer that cheats.
//!
//! Round 1: each signer commits to its two nonces, `(D_i, E_i)`, the same for every
//! receiver.
//! Round 2: each signer sends its signature share `z_i` with the list of commitments it
//! signed over (an echo of round 1).
//! Output: every signer compares the echoes with the commitments it received, aggregates
//! the shares, and, when the aggregate does not verify, checks each share on its own
//! ([`super::share_check`]) to name the signers whose share is wrong.
//!
//! Blame rests on what a receiver saw itself ([`crate::rounds::compare_echo`]): a signer
//! whose echo misstates its own commitments or the receiver's has sent different
//! commitments to different signers, or lies, and is named. An echo that differs only in a
//! third signer's commitments shows an equivocation that the receiver cannot pin on either
//! of the two: the run aborts naming nobody.

use std::collections::BTreeMap;
use std::sync::Arc;

use givre::signing::aggregate::{AggregateOptions, Signature as FrostSignature};
use givre::signing::round1::{self, PublicCommitments, SecretNonces};
use givre::signing::round2::{SigShare, SigningOptions};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use super::share_check::{faulty_signers, Contribution, Signed};
use super::{FrostData, FrostSuite};
use crate::adapter::encode;
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::rounds::{blame, compare_echo, decode, equivocation, Echo, Next, Rounds};
use crate::sig::{PublicKey, SignPayload, Signature};

/// Round 1: the sender's nonce commitments.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub(super) struct Round1<E: givre::generic_ec::Curve> {
    commitments: PublicCommitments<E>,
}

/// Round 2: the sender's signature share and the commitments it signed over, by signer
/// (its own included).
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub(super) struct Round2<E: givre::generic_ec::Curve> {
    share: SigShare<E>,
    seen: Vec<(PartyIndex, PublicCommitments<E>)>,
}

/// What a signing run signs, fixed before it starts.
pub(super) struct Request {
    /// The bytes givre signs (the message, or the BIP-341 sighash).
    pub message: Vec<u8>,
    /// `Some` exactly for Taproot: the script tree's merkle root, if any.
    pub taproot: Option<Option<[u8; 32]>>,
    /// Non-hardened HD path, if any.
    pub path: Option<Vec<u32>>,
    /// The key the signature must verify under, and the request it answers (checked with
    /// an independent verifier before the signature leaves the run).
    pub signing_key: PublicKey,
    pub payload: SignPayload,
}

/// One signer's run.
pub(super) struct Signing<C: FrostSuite> {
    me: PartyIndex,
    signers: Vec<PartyIndex>,
    data: Arc<FrostData<C>>,
    request: Request,
    /// This signer's nonces, taken (and dropped, which zeroizes them) by its share.
    nonces: Option<SecretNonces<C::Curve>>,
    commitments: BTreeMap<PartyIndex, PublicCommitments<C::Curve>>,
    own_share: Option<SigShare<C::Curve>>,
}

impl<C: FrostSuite> Signing<C> {
    pub(super) fn new(
        me: PartyIndex,
        signers: Vec<PartyIndex>,
        data: Arc<FrostData<C>>,
        request: Request,
    ) -> Self {
        Signing {
            me,
            signers,
            data,
            request,
            nonces: None,
            commitments: BTreeMap::new(),
            own_share: None,
        }
    }

    fn others(&self) -> impl Iterator<Item = PartyIndex> + '_ {
        self.signers.iter().copied().filter(move |&j| j != self.me)
    }

    /// The same payload for every other signer.
    fn to_others(&self, payload: Vec<u8>) -> BTreeMap<PartyIndex, Vec<u8>> {
        self.others().map(|j| (j, payload.clone())).collect()
    }

    fn signed(&self) -> Signed<'_, C> {
        Signed {
            key: &self.data.share,
            path: self.request.path.as_deref(),
            taproot: self.request.taproot,
            message: &self.request.message,
        }
    }

    /// Round 1 in: every signer's commitments; out: this signer's share.
    fn round1(&mut self, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Signature>> {
        for (from, payload) in inbox {
            let c = commitments_of::<C>(from, &payload)?;
            self.commitments.insert(from, c);
        }
        let list: Vec<(PartyIndex, PublicCommitments<C::Curve>)> =
            self.commitments.iter().map(|(j, c)| (*j, *c)).collect();
        let nonces = self
            .nonces
            .take()
            .ok_or(Error::Misuse("round 1 ran twice"))?;
        let mut options =
            SigningOptions::<C>::new(&self.data.share, nonces, &self.request.message, &list);
        if let Some(p) = &self.request.path {
            options = options
                .set_derivation_path(p.iter().copied())
                .map_err(|e| Error::Derivation(e.to_string()))?;
        }
        if let Some(root) = self.request.taproot {
            options = options
                .set_taproot_tweak(root)
                .map_err(|e| Error::Internal(format!("FROST Taproot tweak: {e}")))?;
        }
        let share = options
            .sign()
            .map_err(|e| Error::Internal(format!("FROST signature share: {e}")))?;
        self.own_share = Some(share);
        let out = encode(&Round2::<C::Curve> { share, seen: list })?;
        Ok(Next::Send(self.to_others(out)))
    }

    /// Round 2 in: every signer's share and echo; out: the signature.
    fn round2(&mut self, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Signature>> {
        let own = self
            .own_share
            .ok_or(Error::Misuse("round 2 before round 1"))?;
        let mut contributions: Vec<Contribution<C>> = Vec::new();
        let mut differs = None;
        for (from, payload) in inbox {
            let m: Round2<C::Curve> = decode(from, &payload)?;
            if let Echo::Differs(j) = compare_echo(self.me, from, &self.commitments, &m.seen)? {
                differs.get_or_insert(j);
            }
            let c = self
                .commitments
                .get(&from)
                .ok_or(Error::Misuse("a signer without commitments"))?;
            contributions.push((from, *c, m.share));
        }
        if let Some(j) = differs {
            return Err(equivocation(j));
        }
        let c = self
            .commitments
            .get(&self.me)
            .ok_or(Error::Misuse("no own commitments"))?;
        contributions.push((self.me, *c, own));
        contributions.sort_by_key(|c| c.0);
        let signature = self.aggregate(&contributions)?;
        Ok(Next::Done(signature))
    }

    fn aggregate(&self, contributions: &[Contribution<C>]) -> Result<Signature> {
        let info: &givre::key_share::KeyInfo<C::Curve> = self.data.share.as_ref();
        let mut options = AggregateOptions::<C>::new(info, contributions, &self.request.message);
        if let Some(p) = &self.request.path {
            options = options
                .set_derivation_path(p.iter().copied())
                .map_err(|e| Error::Derivation(e.to_string()))?;
        }
        if let Some(root) = self.request.taproot {
            options = options
                .set_taproot_tweak(root)
                .map_err(|e| Error::Internal(format!("FROST Taproot tweak: {e}")))?;
        }
        let sig = match options.aggregate() {
            Ok(sig) => sig,
            Err(e) => {
                let culprits = faulty_signers(&self.signed(), contributions)?;
                if culprits.is_empty() {
                    return Err(Error::Internal(format!(
                        "the FROST aggregate does not verify, yet every share does: {e}"
                    )));
                }
                return Err(Error::Aborted {
                    reason: format!("signature shares of parties {culprits:?} are wrong"),
                    culprits,
                });
            }
        };
        if FrostSignature::<C>::serialized_len() != 64 {
            return Err(Error::Misuse("ciphersuite signature is not 64 bytes"));
        }
        let mut bytes = [0u8; 64];
        sig.write_to_slice(&mut bytes);
        let out = C::signature(bytes);
        crate::verify::verify(&self.request.signing_key, &self.request.payload, &out)?;
        Ok(out)
    }
}

/// The commitments of a round-1 payload: two points, neither the identity (RFC 9591).
fn commitments_of<C: FrostSuite>(
    from: PartyIndex,
    payload: &[u8],
) -> Result<PublicCommitments<C::Curve>> {
    let m: Round1<C::Curve> = decode(from, payload)?;
    let c = m.commitments;
    if c.hiding_comm.is_zero() || c.binding_comm.is_zero() {
        return Err(blame(from, "a nonce commitment is the identity"));
    }
    Ok(c)
}

impl<C: FrostSuite> Rounds for Signing<C> {
    type Output = Signature;
    const ROUNDS: u8 = 2;
    const KIND: crate::limits::ProtocolKind = crate::limits::ProtocolKind::Sign;

    fn start(&mut self) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let (nonces, commitments) = round1::commit::<C>(&mut OsRng, &self.data.share);
        self.nonces = Some(nonces);
        self.commitments.insert(self.me, commitments);
        Ok(self.to_others(encode(&Round1::<C::Curve> { commitments })?))
    }

    fn round(&mut self, r: u8, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Signature>> {
        match r {
            1 => self.round1(inbox),
            2 => self.round2(inbox),
            _ => Err(Error::Misuse("no such round")),
        }
    }

    /// Every payload decodes as its round's message when it arrives.
    fn check(&self, r: u8, from: PartyIndex, payload: &[u8]) -> Result<()> {
        let checked = match r {
            1 => commitments_of::<C>(from, payload).map(drop),
            _ => decode::<Round2<C::Curve>>(from, payload).map(drop),
        };
        checked.map_err(|e| Error::MalformedMessage {
            from,
            reason: e.to_string(),
        })
    }
}

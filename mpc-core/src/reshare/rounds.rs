//! The resharing protocol, round by round (see the [module docs](super)).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::feldman::{eval_commitments, Polynomial};
use super::group::ReshareGroup;
use super::{DealerInput, NewShare, ReshareOutput, ReshareSetup, MAX_PUBLIC_DATA};
use crate::error::{Error, Result};
use crate::ids::{PartyIndex, SessionCtx};
use crate::rounds::{decode, Next, Rounds};

/// Phase byte of resharing messages.
pub(super) const PHASE: u8 = 0x52;

/// Bytes as hex on the wire.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Hex(#[serde(with = "crate::hexser::vec")] pub(super) Vec<u8>);

/// Round 1: a dealer's dealing (or nothing, from a party that only receives).
#[derive(Serialize, Deserialize)]
pub(super) struct Round1 {
    /// Digest of the sender's setup: every participant must run the same.
    #[serde(with = "crate::hexser")]
    pub(super) setup: [u8; 32],
    pub(super) dealing: Option<Dealing>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Dealing {
    /// `a_k · G`, exactly `t_new` of them.
    pub(super) commitments: Vec<Hex>,
    /// Public data carried over (the chain code).
    pub(super) public_data: Hex,
    /// `f_i(y_j)` for the receiver, if it is in the new committee.
    pub(super) sub_share: Option<Hex>,
}

/// Round 2: the digest of each accepted dealer's commitments as the sender received them,
/// and the sender's complaints (dealings it refused, with why).
#[derive(Serialize, Deserialize)]
pub(super) struct Round2 {
    pub(super) echo: Vec<(PartyIndex, Hex)>,
    pub(super) complaints: Vec<(PartyIndex, String)>,
}

/// A dealer's public dealing, checked.
struct Received<G: ReshareGroup> {
    commitments: Vec<G::Point>,
    public_data: Vec<u8>,
}

pub(super) struct Reshare<G: ReshareGroup> {
    ctx: SessionCtx,
    setup: ReshareSetup<G>,
    lambdas: BTreeMap<PartyIndex, G::Scalar>,
    setup_digest: [u8; 32],
    dealer: Option<DealerInput<G>>,
    /// Every dealer's dealing (ours included), after round 1.
    dealings: BTreeMap<PartyIndex, Received<G>>,
    /// Our sub-shares, by dealer (when we are in the new committee).
    sub_shares: BTreeMap<PartyIndex, G::Scalar>,
    /// Our echo digests, by dealer.
    echo: BTreeMap<PartyIndex, [u8; 32]>,
    /// Dealings we refused, with why.
    complaints: Vec<(PartyIndex, String)>,
}

impl<G: ReshareGroup> Drop for Reshare<G> {
    fn drop(&mut self) {
        self.sub_shares.values_mut().for_each(Zeroize::zeroize);
    }
}

impl<G: ReshareGroup> Reshare<G> {
    pub(super) fn new(
        ctx: SessionCtx,
        setup: ReshareSetup<G>,
        lambdas: BTreeMap<PartyIndex, G::Scalar>,
        dealer: Option<DealerInput<G>>,
    ) -> Self {
        let setup_digest = setup_digest(&ctx, &setup);
        Reshare {
            ctx,
            setup,
            lambdas,
            setup_digest,
            dealer,
            dealings: BTreeMap::new(),
            sub_shares: BTreeMap::new(),
            echo: BTreeMap::new(),
            complaints: Vec::new(),
        }
    }

    fn new_index(&self, p: PartyIndex) -> Option<u16> {
        self.setup
            .new_parties
            .iter()
            .position(|&q| q == p)
            .and_then(|j| u16::try_from(j).ok())
    }

    fn others(&self) -> impl Iterator<Item = PartyIndex> + '_ {
        let me = self.ctx.me();
        self.ctx.parties().iter().copied().filter(move |&p| p != me)
    }

    /// Checks dealer `from`'s dealing as received by us; returns it and our sub-share.
    fn check_dealing(
        &self,
        from: PartyIndex,
        d: Dealing,
    ) -> core::result::Result<(Received<G>, Option<G::Scalar>), String> {
        let t_new = usize::from(self.setup.new_threshold);
        if d.commitments.len() != t_new {
            return Err(format!(
                "sent {} commitments; the new threshold is {t_new} (a longer vector would raise it)",
                d.commitments.len()
            ));
        }
        let commitments = d
            .commitments
            .iter()
            .map(|c| G::point_from_bytes(&c.0))
            .collect::<Option<Vec<_>>>()
            .ok_or("a commitment is not a valid point")?;
        let (lambda, old) = match (self.lambdas.get(&from), self.setup.old_parties.get(&from)) {
            (Some(l), Some(o)) => (l, o),
            _ => return Err("is not a dealer".into()),
        };
        if commitments.first() != Some(&G::mul(&old.public_share, lambda)) {
            return Err("its constant-term commitment does not match its old public share".into());
        }
        if d.public_data.0.len() > MAX_PUBLIC_DATA {
            return Err(format!(
                "carries over {} bytes of public data",
                d.public_data.0.len()
            ));
        }
        let mine = match (self.new_index(self.ctx.me()), d.sub_share) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err("sent a sub-share to a party outside the new committee".into())
            }
            (Some(_), None) => return Err("sent no sub-share".into()),
            (Some(j), Some(s)) => {
                let s = Zeroizing::new(s.0);
                let share =
                    G::scalar_from_bytes(&s).ok_or("its sub-share is not a valid scalar")?;
                let y = ReshareSetup::<G>::new_point(j);
                if G::mul_base(&share) != eval_commitments::<G>(&commitments, &y) {
                    return Err("its sub-share does not match its commitments".into());
                }
                Some(share)
            }
        };
        Ok((
            Received {
                commitments,
                public_data: d.public_data.0,
            },
            mine,
        ))
    }

    /// The public data every dealer must carry over identically; dealers that differ from
    /// the most common value are named.
    fn agreed_public_data(&self) -> Result<Vec<u8>> {
        let mut counts: BTreeMap<&[u8], usize> = BTreeMap::new();
        for r in self.dealings.values() {
            *counts.entry(&r.public_data).or_default() += 1;
        }
        let Some((&value, _)) = counts.iter().max_by_key(|(_, &c)| c) else {
            return Err(Error::Internal("no dealings".into()));
        };
        let odd: Vec<PartyIndex> = self
            .dealings
            .iter()
            .filter(|(_, r)| r.public_data != value)
            .map(|(&d, _)| d)
            .collect();
        if odd.is_empty() {
            Ok(value.to_vec())
        } else {
            Err(Error::Aborted {
                reason: format!(
                    "dealers {odd:?} carry over other public data (chain code) than the rest"
                ),
                culprits: odd,
            })
        }
    }

    fn output(&mut self) -> Result<ReshareOutput<G>> {
        let t_new = usize::from(self.setup.new_threshold);
        let mut combined = vec![G::identity(); t_new];
        for r in self.dealings.values() {
            for (acc, c) in combined.iter_mut().zip(&r.commitments) {
                *acc = *acc + *c;
            }
        }
        if combined.first() != Some(&self.setup.group_key) {
            return Err(Error::Internal(
                "the combined constant term is not the group key".into(),
            ));
        }
        let n_new = u16::try_from(self.setup.new_parties.len())
            .map_err(|_| Error::Internal("committee size".into()))?;
        let points: Vec<G::Scalar> = (0..n_new).map(ReshareSetup::<G>::new_point).collect();
        let public_shares: Vec<G::Point> = points
            .iter()
            .map(|y| eval_commitments::<G>(&combined, y))
            .collect();
        let share = match self.new_index(self.ctx.me()) {
            None => None,
            Some(j) => {
                let mut secret = G::scalar(0);
                for s in self.sub_shares.values() {
                    secret = secret + *s;
                }
                let share = NewShare { index: j, secret };
                if public_shares.get(usize::from(j)) != Some(&G::mul_base(share.secret())) {
                    return Err(Error::Internal(
                        "our new share does not match its public share".into(),
                    ));
                }
                Some(share)
            }
        };
        Ok(ReshareOutput {
            group_key: self.setup.group_key,
            threshold: self.setup.new_threshold,
            epoch: self.setup.epoch,
            parties: self.setup.new_parties.clone(),
            points,
            public_shares,
            public_data: self.agreed_public_data()?,
            share,
        })
    }
}

impl<G: ReshareGroup> Rounds for Reshare<G> {
    type Output = ReshareOutput<G>;
    const ROUNDS: u8 = 2;
    const KIND: crate::limits::ProtocolKind = crate::limits::ProtocolKind::Reshare;

    /// Round 1: deal (a dealer), or announce the setup (a receiver).
    fn start(&mut self) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let me = self.ctx.me();
        let t_new = self.setup.new_threshold;
        let poly = match &self.dealer {
            Some(d) => {
                let lambda = self
                    .lambdas
                    .get(&me)
                    .ok_or(Error::Internal("no Lagrange coefficient for us".into()))?;
                let z = Zeroizing::new(*lambda * d.share);
                Some(Polynomial::<G>::random(*z, t_new, &mut rand_core::OsRng))
            }
            None => None,
        };
        let commitments = poly.as_ref().map(Polynomial::commit);
        if let (Some(poly), Some(c), Some(d)) = (&poly, &commitments, &self.dealer) {
            if let Some(j) = self.new_index(me) {
                self.sub_shares
                    .insert(me, poly.eval(&ReshareSetup::<G>::new_point(j)));
            }
            self.dealings.insert(
                me,
                Received {
                    commitments: c.clone(),
                    public_data: d.public_data.clone(),
                },
            );
        }
        let public_data = self.dealer.as_ref().map(|d| d.public_data.clone());
        let mut out = BTreeMap::new();
        for p in self.others().collect::<Vec<_>>() {
            let dealing = match (&poly, &commitments, &public_data) {
                (Some(poly), Some(c), Some(data)) => Some(Dealing {
                    commitments: c.iter().map(|c| Hex(G::point_to_bytes(c))).collect(),
                    public_data: Hex(data.clone()),
                    sub_share: self.new_index(p).map(|j| {
                        let mut s = poly.eval(&ReshareSetup::<G>::new_point(j));
                        let bytes = G::scalar_to_bytes(&s).to_vec();
                        s.zeroize();
                        Hex(bytes)
                    }),
                }),
                _ => None,
            };
            let msg = Round1 {
                setup: self.setup_digest,
                dealing,
            };
            out.insert(p, encode(&msg)?);
        }
        Ok(out)
    }

    fn round(&mut self, r: u8, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Self::Output>> {
        match r {
            1 => self.receive_dealings(inbox),
            _ => self.receive_echoes(inbox),
        }
    }
}

impl<G: ReshareGroup> Reshare<G> {
    /// After round 1: check every dealing. A refused dealing does not end the run here: it
    /// becomes a complaint in our echo, so every participant aborts together after round 2
    /// (a fault only we can see, such as a bad sub-share, would otherwise leave the others
    /// waiting).
    fn receive_dealings(
        &mut self,
        inbox: BTreeMap<PartyIndex, Vec<u8>>,
    ) -> Result<Next<ReshareOutput<G>>> {
        for (from, payload) in inbox {
            let msg: Round1 = match decode(from, &payload) {
                Ok(m) => m,
                Err(_) => {
                    self.complaints
                        .push((from, "sent a round-1 message that does not decode".into()));
                    continue;
                }
            };
            if msg.setup != self.setup_digest {
                self.complaints
                    .push((from, "runs another resharing setup".into()));
                continue;
            }
            match (self.lambdas.contains_key(&from), msg.dealing) {
                (true, Some(d)) => match self.check_dealing(from, d) {
                    Ok((received, sub_share)) => {
                        self.dealings.insert(from, received);
                        if let Some(s) = sub_share {
                            self.sub_shares.insert(from, s);
                        }
                    }
                    Err(reason) => self.complaints.push((from, reason)),
                },
                (true, None) => self
                    .complaints
                    .push((from, "is a dealer but sent no dealing".into())),
                (false, Some(_)) => self
                    .complaints
                    .push((from, "is not a dealer but sent a dealing".into())),
                (false, None) => {}
            }
        }
        for (&d, r) in &self.dealings {
            self.echo
                .insert(d, echo_digest::<G>(&self.setup_digest, d, r));
        }
        let msg = Round2 {
            echo: self
                .echo
                .iter()
                .map(|(&d, h)| (d, Hex(h.to_vec())))
                .collect(),
            complaints: self.complaints.clone(),
        };
        let payload = encode(&msg)?;
        Ok(Next::Send(
            self.others().map(|p| (p, payload.clone())).collect(),
        ))
    }

    /// After round 2: nobody complained, and every participant saw the same commitments
    /// from every dealer. A party is named only on this party's own evidence (a dealing it
    /// checked, a message that party sent it); what others report (a complaint about a
    /// dealer, an echo that differs) could be a lie of the reporter, so it aborts the run
    /// without naming anyone.
    fn receive_echoes(
        &mut self,
        inbox: BTreeMap<PartyIndex, Vec<u8>>,
    ) -> Result<Next<ReshareOutput<G>>> {
        let mut faults: Vec<(PartyIndex, String)> = self.complaints.clone();
        let mut disputes: Vec<String> = Vec::new();
        let mut differs: BTreeMap<PartyIndex, Vec<PartyIndex>> = BTreeMap::new();
        let mut echoes = Vec::new();
        for (from, payload) in inbox {
            let msg: Round2 = match decode(from, &payload) {
                Ok(m) => m,
                Err(_) => {
                    faults.push((from, "sent a round-2 message that does not decode".into()));
                    continue;
                }
            };
            for (d, reason) in msg.complaints.into_iter().take(self.ctx.parties().len()) {
                if self.lambdas.contains_key(&d) {
                    let mut reason = reason;
                    reason.truncate(200);
                    disputes.push(format!(
                        "party {from} complains about dealer {d} ({reason}): one of the two is \
                         faulty"
                    ));
                } else {
                    faults.push((from, format!("complains about {d}, who is not a dealer")));
                }
            }
            echoes.push((from, msg.echo));
        }
        if faults.is_empty() && disputes.is_empty() {
            for (from, echo) in echoes {
                let theirs: BTreeMap<PartyIndex, Vec<u8>> =
                    echo.into_iter().map(|(d, h)| (d, h.0)).collect();
                if !theirs.keys().eq(self.echo.keys()) {
                    faults.push((from, "echoed another set of dealers".into()));
                    continue;
                }
                for (d, h) in &self.echo {
                    if theirs.get(d).map(Vec::as_slice) != Some(h.as_slice()) {
                        differs.entry(*d).or_default().push(from);
                    }
                }
            }
        }
        for (d, seen_by) in differs {
            disputes.push(format!(
                "parties {seen_by:?} echo other commitments of dealer {d} than we received: \
                 the dealer equivocated or an echo is false"
            ));
        }
        if !faults.is_empty() || !disputes.is_empty() {
            return Err(aborted(faults, disputes));
        }
        if self.dealings.len() != self.lambdas.len() {
            return Err(Error::Internal("a dealing is missing".into()));
        }
        Ok(Next::Done(self.output()?))
    }
}

fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(msg).map_err(|e| Error::Internal(format!("encoding a message: {e}")))
}

/// An abort naming the parties of `faults`; `disputes` are faults nobody can be named for.
fn aborted(mut faults: Vec<(PartyIndex, String)>, disputes: Vec<String>) -> Error {
    faults.sort_by_key(|(p, _)| *p);
    let reason = faults
        .iter()
        .map(|(p, r)| format!("party {p} {r}"))
        .chain(disputes)
        .collect::<Vec<_>>()
        .join("; ");
    let mut culprits: Vec<PartyIndex> = faults.into_iter().map(|(p, _)| p).collect();
    culprits.sort_unstable();
    culprits.dedup();
    Error::Aborted { culprits, reason }
}

/// Writes `bytes` with its length in front (so concatenations cannot collide).
fn framed(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Digest of everything the participants must agree on: session, scheme, group key,
/// thresholds, old committee (points and public shares), dealers and new committee.
fn setup_digest<G: ReshareGroup>(ctx: &SessionCtx, s: &ReshareSetup<G>) -> [u8; 32] {
    let mut h = Sha256::new();
    framed(&mut h, b"mpc-core/reshare/setup/v1");
    framed(&mut h, &ctx.session().0);
    framed(&mut h, ctx.scheme().to_string().as_bytes());
    framed(&mut h, &G::point_to_bytes(&s.group_key));
    h.update(s.epoch.to_be_bytes());
    h.update(s.old_threshold.to_be_bytes());
    h.update(s.new_threshold.to_be_bytes());
    h.update((s.old_parties.len() as u64).to_be_bytes());
    for (p, o) in &s.old_parties {
        h.update(p.to_be_bytes());
        framed(&mut h, &G::scalar_to_bytes(&o.point));
        framed(&mut h, &G::point_to_bytes(&o.public_share));
    }
    let mut dealers = s.dealers.clone();
    dealers.sort_unstable();
    h.update((dealers.len() as u64).to_be_bytes());
    for d in dealers {
        h.update(d.to_be_bytes());
    }
    h.update((s.new_parties.len() as u64).to_be_bytes());
    for p in &s.new_parties {
        h.update(p.to_be_bytes());
    }
    h.finalize().into()
}

/// Digest of dealer `d`'s public dealing, as echoed in round 2.
fn echo_digest<G: ReshareGroup>(setup: &[u8; 32], d: PartyIndex, r: &Received<G>) -> [u8; 32] {
    let mut h = Sha256::new();
    framed(&mut h, b"mpc-core/reshare/echo/v1");
    framed(&mut h, setup);
    h.update(d.to_be_bytes());
    h.update((r.commitments.len() as u64).to_be_bytes());
    for c in &r.commitments {
        framed(&mut h, &G::point_to_bytes(c));
    }
    framed(&mut h, &r.public_data);
    h.finalize().into()
}

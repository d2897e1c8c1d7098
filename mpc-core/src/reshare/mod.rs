//! Resharing: a threshold key moves to a new committee (new parties, a new threshold, fresh
//! shares) while its group public key, and so every address, stays the same.
//!
//! One protocol, generic over the two groups ([`group::Secp256k1`], [`group::Ed25519`]),
//! gives every lifecycle step: **refresh** (same committee, new shares), **reshare** (add
//! or remove parties, change `t`), **repair** (a party that lost its share gets a new one:
//! the committee reshares to itself, and nobody learns any share) and **migration** (an
//! imported key reshared to a committee of another engine).
//!
//! Any `t_old` parties of the old committee (the *dealers*) take part with their shares;
//! the new committee (`n_new` parties, threshold `t_new`) receives. A party may be both.
//! Dealer `i` with share `s_i` at evaluation point `x_i` and Lagrange coefficient `λ_i`
//! over the dealers shares `z_i = λ_i s_i` with a random polynomial `f_i` of exactly
//! `t_new` coefficients (Feldman VSS):
//!
//! - **Round 1 (deal)**: dealer `i` sends every participant its commitments
//!   `C_i = (a_{i,0} G, …, a_{i,t_new−1} G)` and the public data it carries over (the BIP-32
//!   chain code), and every new party `j` its sub-share `f_i(y_j)` (`y_j = j + 1`, `j` the
//!   new share index). Every participant checks: the vector has exactly `t_new` entries (a
//!   longer one would silently raise the threshold, the 2024 finding on Pedersen DKG
//!   implementations); `C_{i,0} = λ_i X_i` for the dealer's old public share `X_i`; its own
//!   sub-share against `C_i`; every participant runs the same setup.
//! - **Round 2 (echo)**: every participant sends every other the digest of each dealer's
//!   commitments as it received them; a dealer whose commitments were seen differently by
//!   two participants equivocated, and is named (a participant that lies in its echo can
//!   make an honest dealer look guilty; either way the run aborts and nothing is stored).
//! - **Output**: the combined commitments give every new public share
//!   `X'_j = Σ_i Σ_k C_{i,k} y_j^k`; their constant term is `Σ_i λ_i X_i = Y`, the old group
//!   key. New party `j` holds `s'_j = Σ_i f_i(y_j)` and checks `s'_j G = X'_j`.
//!
//! Every abort names the party at fault in [`Error::Aborted`]`.culprits`. The run never
//! reconstructs the key; a dealer's `z_i` is known only to itself, and `t_new − 1` new
//! shares (plus anything the old-only parties keep) reveal nothing about the key beyond
//! what `t_old − 1` old shares did.
//!
//! The outputs of all participants agree when the run succeeds; a deployment makes the
//! new shares active only when every new party has stored its share (two-phase), and
//! raises the key's epoch so shares of different epochs never sign together.

pub mod group;
pub mod keys;
pub mod record;

mod feldman;
mod rounds;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use zeroize::Zeroize;

use self::group::ReshareGroup;
pub use self::keys::{ReshareFrom, ReshareInto, ReshareSource};
pub use self::record::SetupRecord;
use crate::error::{Error, Result};
use crate::ids::{PartyIndex, SessionCtx};
use crate::protocol::BoxedProtocol;

/// Largest public data a dealer may carry over (a BIP-32 chain code is 32 bytes).
pub const MAX_PUBLIC_DATA: usize = 64;

/// An old party's public facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OldParty<G: ReshareGroup> {
    /// Its Shamir evaluation point `x_i` (nonzero; tss-lib keys use arbitrary points).
    pub point: G::Scalar,
    /// Its public share `X_i = s_i G`.
    pub public_share: G::Point,
}

/// What every participant of a resharing must agree on (all public).
#[derive(Debug, Clone)]
pub struct ReshareSetup<G: ReshareGroup> {
    /// The group public key; it does not change.
    pub group_key: G::Point,
    /// Threshold of the old committee.
    pub old_threshold: u16,
    /// The old committee, by party id.
    pub old_parties: BTreeMap<PartyIndex, OldParty<G>>,
    /// The dealers: exactly `old_threshold` parties of the old committee.
    pub dealers: Vec<PartyIndex>,
    /// The new committee, in new share-index order: `new_parties[j]` receives the share of
    /// index `j`, at evaluation point `j + 1`.
    pub new_parties: Vec<PartyIndex>,
    /// Threshold of the new committee (`2 ≤ t_new ≤ n_new`).
    pub new_threshold: u16,
    /// The epoch of the new shares (the old key's epoch + 1).
    pub epoch: u32,
}

/// The participants of a resharing: `dealers` and `new_parties`, sorted, each once.
pub(crate) fn participants(dealers: &[PartyIndex], new_parties: &[PartyIndex]) -> Vec<PartyIndex> {
    let mut all: Vec<PartyIndex> = dealers.iter().chain(new_parties).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

impl<G: ReshareGroup> ReshareSetup<G> {
    /// Every participant of the run: the dealers and the new committee, sorted.
    pub fn participants(&self) -> Vec<PartyIndex> {
        participants(&self.dealers, &self.new_parties)
    }

    /// The evaluation point of new share index `j`: `j + 1`.
    pub fn new_point(j: u16) -> G::Scalar {
        G::scalar(u64::from(j) + 1)
    }

    /// Checks the setup and returns each dealer's Lagrange coefficient.
    fn check(&self) -> Result<BTreeMap<PartyIndex, G::Scalar>> {
        let invalid = |reason: String| Error::Invalid {
            what: "resharing setup",
            reason,
        };
        let n_old = u16::try_from(self.old_parties.len())
            .map_err(|_| invalid("too many old parties".into()))?;
        crate::ids::check_threshold(self.old_threshold, n_old)?;
        let n_new = u16::try_from(self.new_parties.len())
            .map_err(|_| invalid("too many new parties".into()))?;
        crate::ids::check_threshold(self.new_threshold, n_new)?;
        if self.new_threshold < 2 {
            // One signer: every new party would hold the whole key.
            return Err(invalid(
                "the new threshold must be at least 2 (with 1, every new party holds the \
                 whole key)"
                    .into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(d) = self.new_parties.iter().find(|p| !seen.insert(**p)) {
            return Err(Error::DuplicateParty(*d));
        }
        let mut dealers = self.dealers.clone();
        dealers.sort_unstable();
        if let Some(w) = dealers.windows(2).find(|w| w.first() == w.get(1)) {
            return Err(Error::DuplicateParty(
                w.first().copied().unwrap_or_default(),
            ));
        }
        if dealers.len() != usize::from(self.old_threshold) {
            return Err(invalid(format!(
                "{} dealers given; the old threshold is {}",
                dealers.len(),
                self.old_threshold
            )));
        }
        let mut points = Vec::new();
        for d in &dealers {
            let p = self
                .old_parties
                .get(d)
                .ok_or_else(|| invalid(format!("dealer {d} is not in the old committee")))?;
            points.push(p.point);
        }
        let mut all_points: Vec<[u8; 32]> = self
            .old_parties
            .values()
            .map(|p| G::scalar_to_bytes(&p.point))
            .collect();
        all_points.sort_unstable();
        if all_points.windows(2).any(|w| w.first() == w.get(1))
            || self.old_parties.values().any(|p| G::is_zero(&p.point))
        {
            return Err(invalid(
                "old evaluation points must be distinct and nonzero".into(),
            ));
        }
        let mut lambdas = BTreeMap::new();
        let mut sum = G::identity();
        for (d, x) in dealers.iter().zip(&points) {
            let l = feldman::lagrange_at_zero::<G>(x, &points)
                .ok_or_else(|| invalid("evaluation points coincide".into()))?;
            let old = self
                .old_parties
                .get(d)
                .ok_or_else(|| invalid(format!("dealer {d} is not in the old committee")))?;
            sum = sum + G::mul(&old.public_share, &l);
            lambdas.insert(*d, l);
        }
        if sum != self.group_key {
            return Err(invalid(
                "the dealers' public shares do not interpolate to the group key".into(),
            ));
        }
        Ok(lambdas)
    }
}

/// A dealer's secret input: its old share and the public data it carries over.
pub struct DealerInput<G: ReshareGroup> {
    share: G::Scalar,
    public_data: Vec<u8>,
}

impl<G: ReshareGroup> DealerInput<G> {
    /// The dealer's old secret share and the key's public data to carry over (the BIP-32
    /// chain code, or empty).
    pub fn new(share: G::Scalar, public_data: Vec<u8>) -> Self {
        DealerInput { share, public_data }
    }
}

impl<G: ReshareGroup> Drop for DealerInput<G> {
    fn drop(&mut self) {
        self.share.zeroize();
    }
}

impl<G: ReshareGroup> core::fmt::Debug for DealerInput<G> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DealerInput(<redacted>)")
    }
}

/// A new party's secret share; zeroized on drop, never printed.
pub struct NewShare<G: ReshareGroup> {
    index: u16,
    secret: G::Scalar,
}

impl<G: ReshareGroup> NewShare<G> {
    /// The new share index (position in the new committee).
    pub fn index(&self) -> u16 {
        self.index
    }
    /// The secret share `s'_j`.
    pub fn secret(&self) -> &G::Scalar {
        &self.secret
    }
}

impl<G: ReshareGroup> Drop for NewShare<G> {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl<G: ReshareGroup> core::fmt::Debug for NewShare<G> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "NewShare {{ index: {}, secret: <redacted> }}",
            self.index
        )
    }
}

/// What a resharing run gives every participant. The public part is the same for all.
#[derive(Debug)]
pub struct ReshareOutput<G: ReshareGroup> {
    /// The group public key (unchanged).
    pub group_key: G::Point,
    /// The new threshold.
    pub threshold: u16,
    /// The epoch of the new shares.
    pub epoch: u32,
    /// The new committee, by share index.
    pub parties: Vec<PartyIndex>,
    /// Evaluation point of each new share index.
    pub points: Vec<G::Scalar>,
    /// Public share of each new share index.
    pub public_shares: Vec<G::Point>,
    /// The public data the dealers carried over (the same from every dealer).
    pub public_data: Vec<u8>,
    /// This party's new share, if it is in the new committee.
    pub share: Option<NewShare<G>>,
}

/// Starts this party's resharing run. `ctx.parties()` must be
/// [`ReshareSetup::participants`]; `dealer` is this party's old share iff it is a dealer.
///
/// # Errors
/// An invalid setup (thresholds, duplicate or unknown parties, evaluation points, public
/// shares that do not give the group key), a context whose participants differ from the
/// setup's, a dealer input missing or given to a non-dealer, or an old share that does not
/// match its public share.
pub fn reshare<G: ReshareGroup>(
    ctx: &SessionCtx,
    setup: ReshareSetup<G>,
    dealer: Option<DealerInput<G>>,
) -> Result<BoxedProtocol<ReshareOutput<G>>> {
    if ctx.scheme().curve() != G::CURVE {
        return Err(Error::Invalid {
            what: "resharing setup",
            reason: format!("{} keys are not on {:?}", ctx.scheme(), G::CURVE),
        });
    }
    let lambdas = setup.check()?;
    if ctx.parties() != setup.participants().as_slice() {
        return Err(Error::Invalid {
            what: "resharing setup",
            reason: format!(
                "the session's parties {:?} are not the dealers and the new committee {:?}",
                ctx.parties(),
                setup.participants()
            ),
        });
    }
    let me = ctx.me();
    let is_dealer = setup.dealers.contains(&me);
    match (&dealer, is_dealer) {
        (None, true) => return Err(Error::Misuse("a dealer needs its old share")),
        (Some(_), false) => return Err(Error::Misuse("only a dealer has an old share to give")),
        _ => {}
    }
    if let Some(d) = &dealer {
        let old = setup
            .old_parties
            .get(&me)
            .ok_or(Error::NotAParticipant(me))?;
        if G::mul_base(&d.share) != old.public_share {
            return Err(Error::Invalid {
                what: "old key share",
                reason: "the secret share does not match its public share".into(),
            });
        }
        if d.public_data.len() > MAX_PUBLIC_DATA {
            return Err(Error::Invalid {
                what: "resharing setup",
                reason: format!("public data over {MAX_PUBLIC_DATA} bytes"),
            });
        }
    }
    Ok(Box::new(crate::rounds::RoundsRun::new(
        ctx.clone(),
        rounds::PHASE,
        rounds::Reshare::new(ctx.clone(), setup, lambdas, dealer),
    )))
}

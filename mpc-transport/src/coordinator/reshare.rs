//! Resharing seen from the coordinator, in the three steps of a two-phase switch that the
//! caller records durably in between (see `mpc-node`'s registry):
//!
//! 1. [`Coordinator::reshare_store`]: the dealers (`t` parties of the key's committee) and
//!    the new committee run the resharing; every new party stores its share as *pending*
//!    at the next epoch and reports it. The old epoch still signs.
//! 2. [`Coordinator::activate_epoch`]: once every new party reported the same key, public
//!    shares and chain code, each activates the new epoch; the coordinator then signs with
//!    the new committee only.
//! 3. [`Coordinator::retire_epoch`]: every old party destroys its old share and its
//!    presignatures.
//!
//! A failure in step 1 leaves the old committee signing, and a rerun replaces the pending
//! shares; a failure in step 2 or 3 is finished by repeating that step (both are
//! idempotent at the parties). At no point can neither committee sign.

use std::collections::BTreeSet;
use std::time::Instant;

use mpc_core::reshare::SetupRecord;
use mpc_core::{PartyIndex, PublicKey, SchemeId, SessionId};
use tracing::Instrument;

use super::ceremony::ceremony_error;
use super::{us, Coordinator, CoordinatorError, Outcome};
use crate::control::{KeyRef, Request, Response};

/// A resharing to run: the key as it is and the committee it goes to.
#[derive(Debug, Clone)]
pub struct ReshareSpec {
    /// The key's name.
    pub key_id: String,
    /// The key now (scheme, group key, epoch).
    pub key: KeyRef,
    /// The deployment party of each share index now.
    pub committee: Vec<PartyIndex>,
    /// Signers the key needs now (and so the number of dealers).
    pub threshold: u16,
    /// Engine of the new shares: the key's own, or CGGMP21 for a GG20 key.
    pub target: SchemeId,
    /// The new committee (deployment parties, in new share-index order).
    pub new_committee: Vec<PartyIndex>,
    /// Signers the key needs afterwards.
    pub new_threshold: u16,
    /// Parties that must not deal (one repairing a lost share).
    pub not_dealers: Vec<PartyIndex>,
}

/// New shares stored (pending) at every party of the new committee.
#[derive(Debug, Clone)]
pub struct ReshareOutcome {
    /// The key's name.
    pub key_id: String,
    /// The key afterwards: the same group key, the next epoch, the target engine.
    pub key: KeyRef,
    /// The new committee.
    pub committee: Vec<PartyIndex>,
    /// Signers needed.
    pub threshold: u16,
    /// Every new share's public share, by share index.
    pub public_shares: Vec<PublicKey>,
    /// The chain code every new party reported (the old one, carried over).
    pub chain_code: Option<[u8; 32]>,
    /// What each new party stored (hash of its sealed file), by share index.
    pub stored_hashes: Vec<[u8; 32]>,
    /// The dealers of the run.
    pub dealers: Vec<PartyIndex>,
    /// Wall time, in microseconds.
    pub elapsed_us: u64,
}

impl Coordinator {
    /// Step 1: runs the resharing of `spec` and returns the new shares' public facts once
    /// every new party stored its share (pending).
    ///
    /// # Errors
    /// [`CoordinatorError::Invalid`] for an unusable spec; [`CoordinatorError::Ceremony`]
    /// naming the parties missing, failing, refusing or disagreeing (no new share is
    /// active anywhere; the old epoch still signs).
    pub async fn reshare_store(
        &self,
        spec: &ReshareSpec,
    ) -> Result<ReshareOutcome, CoordinatorError> {
        let invalid = |m: String| CoordinatorError::Invalid(m);
        crate::party::check_key_id(&spec.key_id).map_err(invalid)?;
        let n_new = u16::try_from(spec.new_committee.len())
            .map_err(|_| invalid("too many parties".into()))?;
        mpc_core::check_threshold(spec.new_threshold, n_new).map_err(|e| invalid(e.to_string()))?;
        if spec.new_threshold < 2 {
            return Err(invalid(
                "the new threshold must be at least 2 (with 1, every new party holds the whole \
                 key)"
                    .into(),
            ));
        }
        let unique: BTreeSet<PartyIndex> = spec.new_committee.iter().copied().collect();
        if unique.len() != spec.new_committee.len() {
            return Err(invalid("the new committee lists a party twice".into()));
        }
        if let Some(p) = spec
            .new_committee
            .iter()
            .chain(&spec.committee)
            .find(|p| !self.clients.contains_key(p))
        {
            return Err(invalid(format!(
                "party {p} is not in this deployment (add it to the coordinator's config)"
            )));
        }
        let reachable = self.reachable();
        let missing: Vec<PartyIndex> = spec
            .new_committee
            .iter()
            .copied()
            .filter(|p| !reachable.contains(p))
            .collect();
        if !missing.is_empty() {
            return Err(ceremony_error(
                missing,
                "not connected; every party of the new committee must take part",
            ));
        }
        let dealers = self.pick_dealers(spec, &reachable).await?;
        let span = tracing::info_span!("coordinator.reshare", key_id = %spec.key_id, epoch = spec.key.epoch);
        async {
            let start = Instant::now();
            let setup = self
                .setup_from(dealers.first().copied(), spec, &dealers)
                .await?;
            let mut participants: Vec<PartyIndex> =
                dealers.iter().chain(&spec.new_committee).copied().collect();
            participants.sort_unstable();
            participants.dedup();
            let session = SessionId::random(&mut rand_core::OsRng);
            let request = Request::Reshare {
                session,
                key_id: spec.key_id.clone(),
                key: spec.key.clone(),
                target: spec.target,
                setup,
                round_timeout_ms: us(self.opts.ceremony_round_timeout) / 1000,
            };
            let (_, outcome) = self.attempt(participants, session, request, None).await;
            let responses = match outcome {
                Outcome::Done(r) => r,
                Outcome::Retry(excl, why) => {
                    return Err(ceremony_error(excl.iter().map(|e| e.party).collect(), why))
                }
                Outcome::Stop(p, f) => return Err(ceremony_error(vec![p], f.message)),
            };
            let known_code = self
                .chain_codes
                .lock()
                .ok()
                .and_then(|m| m.get(&spec.key).copied());
            let mut out = agree(spec, &responses, known_code)?;
            out.dealers = dealers.clone();
            out.elapsed_us = us(start.elapsed());
            tracing::info!(
                epoch = out.key.epoch,
                "new shares stored at every new party"
            );
            Ok(out)
        }
        .instrument(span)
        .await
    }

    /// The first `t` parties of the key's committee that are reachable, may deal and hold
    /// the key's current share (a party that lost its store is asked, refuses, and is
    /// skipped: it gets a new share as a member of the new committee).
    async fn pick_dealers(
        &self,
        spec: &ReshareSpec,
        reachable: &[PartyIndex],
    ) -> Result<Vec<PartyIndex>, CoordinatorError> {
        let mut dealers = Vec::new();
        let mut without = Vec::new();
        for &p in spec
            .committee
            .iter()
            .filter(|p| reachable.contains(p) && !spec.not_dealers.contains(p))
        {
            if dealers.len() == usize::from(spec.threshold) {
                break;
            }
            match self
                .call_party(
                    p,
                    Request::Pool {
                        key: spec.key.clone(),
                    },
                )
                .await
            {
                Ok(Response::Pool { .. }) => dealers.push(p),
                _ => without.push(p),
            }
        }
        if dealers.len() < usize::from(spec.threshold) {
            let mut named: Vec<PartyIndex> = spec
                .committee
                .iter()
                .copied()
                .filter(|p| !reachable.contains(p))
                .collect();
            named.extend(without);
            return Err(ceremony_error(
                named,
                format!(
                    "a resharing needs {} dealers holding epoch {} of the key among its \
                     committee {:?}; fewer are connected with their share",
                    spec.threshold, spec.key.epoch, spec.committee
                ),
            ));
        }
        Ok(dealers)
    }

    /// The setup as dealer `from`'s share gives it.
    async fn setup_from(
        &self,
        from: Option<PartyIndex>,
        spec: &ReshareSpec,
        dealers: &[PartyIndex],
    ) -> Result<SetupRecord, CoordinatorError> {
        let from = from.ok_or_else(|| ceremony_error(Vec::new(), "no dealer"))?;
        let request = Request::ReshareSetup {
            key: spec.key.clone(),
            dealers: dealers.to_vec(),
            new_committee: spec.new_committee.clone(),
            new_threshold: spec.new_threshold,
        };
        match self.call_party(from, request).await {
            Ok(Response::ReshareSetup { setup }) => Ok(setup),
            Ok(Response::Failed(f)) => Err(ceremony_error(vec![from], f.message)),
            Ok(_) => Err(ceremony_error(
                vec![from],
                "answered ReshareSetup otherwise",
            )),
            Err(e) => Err(ceremony_error(vec![from], e)),
        }
    }

    /// Step 2: activates the new epoch at every party of the new committee and records
    /// its committee and chain code here; signing then uses the new epoch.
    ///
    /// # Errors
    /// [`CoordinatorError::Ceremony`] naming parties that did not confirm (repeat the step;
    /// the old epoch still signs until every new party has confirmed).
    pub async fn activate_epoch(&self, out: &ReshareOutcome) -> Result<(), CoordinatorError> {
        // One request per party, naming the hash it reported for what it stored: a share a
        // stale run stored later is never activated.
        let mut failed = Vec::new();
        let mut why = String::new();
        for (j, &p) in out.committee.iter().enumerate() {
            let request = Request::Activate {
                key_id: out.key_id.clone(),
                epoch: Some(out.key.epoch),
                stored_hash: out
                    .stored_hashes
                    .get(j)
                    .map(|h| mpc_core::hexser::to_hex(h)),
            };
            match self.call_party(p, request).await {
                Ok(Response::Activated { key, .. }) if key == out.key => {}
                Ok(Response::Failed(f)) => {
                    failed.push(p);
                    why = f.message;
                }
                Ok(_) => {
                    failed.push(p);
                    why = "activated another key or answered otherwise".into();
                }
                Err(e) => {
                    failed.push(p);
                    why = e;
                }
            }
        }
        if !failed.is_empty() {
            return Err(ceremony_error(
                failed,
                format!("activation not confirmed ({why}); the old epoch still signs"),
            ));
        }
        self.set_committee(&out.key, out.committee.clone());
        if let Some(code) = out.chain_code {
            self.add_chain_code(&out.key, code);
        }
        Ok(())
    }

    /// Step 3: asks each of `parties` to destroy its share of epoch `epoch` of `key_id`
    /// and its presignatures (with `pending_only`, only a share that was never active:
    /// what an abandoned run left at a party outside the new committee). Returns the
    /// parties that could not be reached or refused, with why (repeat the step for them).
    /// The caller forgets the old epoch's presignature index
    /// ([`Coordinator::forget_presignatures`]).
    pub async fn retire_epoch(
        &self,
        key_id: &str,
        epoch: u32,
        pending_only: bool,
        parties: &[PartyIndex],
    ) -> Vec<(PartyIndex, String)> {
        let mut left = Vec::new();
        for &p in parties {
            let request = Request::Retire {
                key_id: key_id.to_string(),
                epoch,
                pending_only,
            };
            match self.call_party(p, request).await {
                Ok(Response::Retired {
                    key_id: k,
                    epoch: e,
                }) if e == epoch && k == key_id => {}
                Ok(Response::Failed(f)) => left.push((p, f.message)),
                Ok(_) => left.push((p, "answered Retire otherwise".into())),
                Err(e) => left.push((p, e)),
            }
        }
        left
    }
}

/// Every new party must report the same new key (the old group key at the next epoch),
/// threshold, committee, public shares and chain code; a dealer outside the new committee
/// reports that it dealt.
fn agree(
    spec: &ReshareSpec,
    responses: &[(PartyIndex, Response)],
    known_code: Option<[u8; 32]>,
) -> Result<ReshareOutcome, CoordinatorError> {
    let expected = KeyRef {
        scheme: spec.target,
        public_key: spec.key.public_key,
        epoch: spec.key.epoch.saturating_add(1),
    };
    let mut first: Option<(Vec<PublicKey>, Option<[u8; 32]>)> = None;
    let mut hashes = vec![[0u8; 32]; spec.new_committee.len()];
    let mut odd = Vec::new();
    for (p, r) in responses {
        let member = spec.new_committee.iter().position(|q| q == p);
        match (r, member) {
            (Response::Dealt { key_id }, None) if *key_id == spec.key_id => {}
            (
                Response::KeyStored {
                    key_id,
                    key,
                    threshold,
                    public_shares,
                    stored_hash,
                    chain_code,
                    committee,
                },
                Some(j),
            ) if *key_id == spec.key_id
                && *key == expected
                && *threshold == spec.new_threshold
                && *committee == spec.new_committee
                && public_shares.len() == spec.new_committee.len()
                && known_code.is_none_or(|c| Some(c) == *chain_code) =>
            {
                let report = (public_shares.clone(), *chain_code);
                match &first {
                    None => first = Some(report),
                    Some(f) if *f == report => {}
                    Some(_) => odd.push(*p),
                }
                if let Some(h) = hashes.get_mut(j) {
                    *h = *stored_hash;
                }
            }
            _ => odd.push(*p),
        }
    }
    if !odd.is_empty() {
        return Err(ceremony_error(
            odd,
            "reported another key, epoch, committee, public shares or chain code than \
             expected; nothing is activated",
        ));
    }
    let (public_shares, chain_code) =
        first.ok_or_else(|| ceremony_error(Vec::new(), "no new party answered"))?;
    Ok(ReshareOutcome {
        key_id: spec.key_id.clone(),
        key: expected,
        committee: spec.new_committee.clone(),
        threshold: spec.new_threshold,
        public_shares,
        chain_code,
        stored_hashes: hashes,
        dealers: Vec::new(),
        elapsed_us: 0,
    })
}

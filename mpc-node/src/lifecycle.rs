//! A key's lifecycle from the coordinator's side: refresh, reshare (add or remove parties,
//! change `t`), repair and migration, each one resharing to the next epoch under the same
//! group key, so every address stays.
//!
//! The switch is two-phase and recorded in the registry between the steps (see
//! [`Transition`]): new shares stored as pending everywhere → recorded → activated at every
//! new party (only the shares each reported) → recorded (signing moves to the new epoch,
//! old shares are due for destruction, [`Retirement`]) → old shares destroyed → recorded.
//! A crash or a failure at any point leaves the old or the new committee able to sign, and
//! running the command again finishes the step (a resharing that stored nothing, or only
//! part, runs again from the start; the parties replace their pending shares).

use mpc_core::SchemeId;
use mpc_transport::{KeyRef, ReshareOutcome, ReshareSpec};

use crate::coordinator::{CoordinatorClient, RegisteredKey, Registry, Retirement, Transition};
use crate::error::{NodeError, Result};

/// What a lifecycle step is asked to do.
#[derive(Debug, Clone)]
pub struct ReshareRequest {
    /// The key.
    pub key_id: String,
    /// The new committee (deployment parties, in new share-index order).
    pub committee: Vec<u16>,
    /// Signers needed afterwards.
    pub threshold: u16,
    /// Engine of the new shares (`None`: the key's own).
    pub scheme: Option<SchemeId>,
    /// Parties that must not deal (one repairing a lost share).
    pub not_dealers: Vec<u16>,
}

impl ReshareRequest {
    /// A refresh of `key`: its own committee, threshold and engine.
    pub fn refresh(key: &RegisteredKey) -> Self {
        ReshareRequest {
            key_id: key.key_id.clone(),
            committee: key.committee(),
            threshold: key.t,
            scheme: None,
            not_dealers: Vec::new(),
        }
    }
}

fn other(e: impl ToString) -> NodeError {
    NodeError::Other(e.to_string())
}

impl CoordinatorClient {
    /// Refreshes `key_id`: the same committee gets new shares of the same key (epoch + 1).
    ///
    /// # Errors
    /// As [`CoordinatorClient::reshare`].
    pub async fn refresh(&self, key_id: &str, progress: &dyn Fn(&str)) -> Result<RegisteredKey> {
        let key = Registry::load(&self.config.registry)?.get(key_id)?.clone();
        self.reshare(&ReshareRequest::refresh(&key), progress).await
    }

    /// The first phase alone: the new shares are stored (pending) at every new party and
    /// the transition is recorded; the key signs with its current epoch until a later
    /// [`CoordinatorClient::reshare`] (or `refresh`, `repair`) finishes the switch — in a
    /// maintenance window, say.
    ///
    /// # Errors
    /// A transition is recorded already; as [`CoordinatorClient::reshare`].
    pub async fn stage(
        &self,
        request: &ReshareRequest,
        progress: &dyn Fn(&str),
    ) -> Result<Transition> {
        let key = Registry::load(&self.config.registry)?
            .get(&request.key_id)?
            .clone();
        if let Some(t) = &key.transition {
            return Err(other(format!(
                "key {}: a resharing to epoch {} is recorded already; finish it first",
                key.key_id, t.epoch
            )));
        }
        self.store_new_shares(&key, request, progress).await
    }

    /// Repairs party `party`'s share of `key_id` (its store lost or deleted): the other
    /// parties deal, and the whole committee, `party` included, gets new shares.
    ///
    /// # Errors
    /// `party` is not in the key's committee; as [`CoordinatorClient::reshare`].
    pub async fn repair(
        &self,
        key_id: &str,
        party: u16,
        progress: &dyn Fn(&str),
    ) -> Result<RegisteredKey> {
        let key = Registry::load(&self.config.registry)?.get(key_id)?.clone();
        let committee = key.committee();
        if !committee.contains(&party) {
            return Err(other(format!(
                "party {party} is not in the committee {committee:?} of key {key_id}"
            )));
        }
        self.reshare(
            &ReshareRequest {
                key_id: key_id.to_string(),
                committee,
                threshold: key.t,
                scheme: None,
                not_dealers: vec![party],
            },
            progress,
        )
        .await
    }

    /// Reshares a key to `request.committee` with threshold `request.threshold` (and to
    /// `request.scheme`'s shares), in the two phases of the module docs. What the registry
    /// records as unfinished is finished first: shares due for destruction are retired
    /// (parties still down stay listed; they never block a new step), and a recorded
    /// transition is completed and returned. A request for the state the key is in already
    /// while retirements were outstanding only finishes them (the same command run again
    /// finishes its step).
    ///
    /// # Errors
    /// The resharing's error, naming the parties; registry I/O.
    pub async fn reshare(
        &self,
        request: &ReshareRequest,
        progress: &dyn Fn(&str),
    ) -> Result<RegisteredKey> {
        let had_outstanding = !Registry::load(&self.config.registry)?
            .get(&request.key_id)?
            .retire
            .is_empty();
        let key = self.retire_outstanding(&request.key_id, progress).await?;
        let same_state = request.committee == key.committee()
            && request.threshold == key.t
            && request.scheme.unwrap_or(key.scheme) == key.scheme;
        if had_outstanding && key.transition.is_none() && same_state {
            progress(&format!(
                "key {}: the last step is finished; run the command again for a new one",
                key.key_id
            ));
            return Ok(key);
        }
        let transition = match &key.transition {
            Some(t) => {
                progress(&format!(
                    "key {}: finishing the resharing to epoch {} the registry records (committee \
                     {:?}, {}-of-{}) before anything else",
                    key.key_id,
                    t.epoch,
                    t.committee,
                    t.t,
                    t.committee.len()
                ));
                t.clone()
            }
            None => self.store_new_shares(&key, request, progress).await?,
        };
        self.switch_epoch(&key, &transition, progress).await?;
        self.retire_outstanding(&request.key_id, progress).await
    }

    /// Phase 1: the resharing run; its result is recorded as the key's transition.
    async fn store_new_shares(
        &self,
        key: &RegisteredKey,
        request: &ReshareRequest,
        progress: &dyn Fn(&str),
    ) -> Result<Transition> {
        let target = request.scheme.unwrap_or(key.scheme);
        let spec = ReshareSpec {
            key_id: key.key_id.clone(),
            key: key.key_ref(),
            committee: key.committee(),
            threshold: key.t,
            target,
            new_committee: request.committee.clone(),
            new_threshold: request.threshold,
            not_dealers: request.not_dealers.clone(),
        };
        progress(&format!(
            "key {}: resharing epoch {} ({}, {}-of-{} at parties {:?}) to epoch {} ({target}, \
             {}-of-{} at parties {:?}){}",
            key.key_id,
            key.epoch,
            key.scheme,
            key.t,
            key.committee().len(),
            key.committee(),
            key.epoch.saturating_add(1),
            request.threshold,
            request.committee.len(),
            request.committee,
            if matches!(target, SchemeId::Cggmp21Secp256k1 | SchemeId::Gg20Secp256k1) {
                "; each new party makes fresh Paillier primes first (minutes)"
            } else {
                ""
            }
        ));
        let out = self.coordinator.reshare_store(&spec).await.map_err(other)?;
        progress(&format!(
            "key {}: dealers {:?} dealt; every new party stored its share (pending) in {:.1} s",
            key.key_id,
            out.dealers,
            out.elapsed_us as f64 / 1e6
        ));
        if out.chain_code.map(hex::encode) != key.chain_code && key.chain_code.is_some() {
            return Err(other(
                "the new shares carry another chain code than the key's",
            ));
        }
        let transition = Transition {
            scheme: out.key.scheme,
            epoch: out.key.epoch,
            t: out.threshold,
            committee: out.committee.clone(),
            stored_hashes: out.stored_hashes.iter().map(hex::encode).collect(),
        };
        self.update(&key.key_id, |k| k.transition = Some(transition.clone()))?;
        Ok(transition)
    }

    /// Phase 2: activation at every new party (of exactly the shares they reported); the
    /// registry then names the new epoch, and every old share (and any pending share of
    /// the new epoch outside the new committee) is due for destruction.
    async fn switch_epoch(
        &self,
        key: &RegisteredKey,
        t: &Transition,
        progress: &dyn Fn(&str),
    ) -> Result<RegisteredKey> {
        let stored_hashes = t
            .stored_hashes
            .iter()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| other("registry: a stored hash that is not 32 bytes of hex"))
            })
            .collect::<Result<Vec<_>>>()?;
        let new = KeyRef {
            scheme: t.scheme,
            public_key: key.public_key,
            epoch: t.epoch,
        };
        let out = ReshareOutcome {
            key_id: key.key_id.clone(),
            key: new.clone(),
            committee: t.committee.clone(),
            threshold: t.t,
            public_shares: Vec::new(),
            chain_code: key.chain_code_bytes()?,
            stored_hashes,
            dealers: Vec::new(),
            elapsed_us: 0,
        };
        self.coordinator.activate_epoch(&out).await.map_err(other)?;
        self.coordinator.forget_presignatures(&key.key_ref());
        progress(&format!(
            "key {}: epoch {} active at parties {:?}; signing uses it from now on",
            key.key_id, t.epoch, t.committee
        ));
        let n = u16::try_from(t.committee.len()).map_err(other)?;
        let deployment = u16::try_from(self.config.parties.len()).map_err(other)?;
        let mut due: Vec<Retirement> = key
            .committee()
            .into_iter()
            .map(|party| Retirement {
                party,
                scheme: key.scheme,
                epoch: key.epoch,
                pending_only: false,
            })
            .collect();
        due.extend(
            (0..deployment)
                .filter(|p| !t.committee.contains(p))
                .map(|party| Retirement {
                    party,
                    scheme: t.scheme,
                    epoch: t.epoch,
                    pending_only: true,
                }),
        );
        self.update(&key.key_id, |k| {
            k.scheme = t.scheme;
            k.epoch = t.epoch;
            k.t = t.t;
            k.n = n;
            k.committee = if t.committee == (0..n).collect::<Vec<_>>() {
                Vec::new()
            } else {
                t.committee.clone()
            };
            k.transition = None;
            k.retire.extend(due);
        })
    }

    /// Asks every party with a share due for destruction to destroy it; those that cannot
    /// be reached stay listed for the next run. Returns the key as the registry has it.
    async fn retire_outstanding(
        &self,
        key_id: &str,
        progress: &dyn Fn(&str),
    ) -> Result<RegisteredKey> {
        let key = Registry::load(&self.config.registry)?.get(key_id)?.clone();
        if key.retire.is_empty() {
            return Ok(key);
        }
        let mut left = Vec::new();
        let mut groups: Vec<(u32, bool, SchemeId)> = key
            .retire
            .iter()
            .map(|r| (r.epoch, r.pending_only, r.scheme))
            .collect();
        groups.sort_unstable_by_key(|g| (g.0, g.1));
        groups.dedup();
        for (epoch, pending_only, scheme) in groups {
            let parties: Vec<u16> = key
                .retire
                .iter()
                .filter(|r| (r.epoch, r.pending_only, r.scheme) == (epoch, pending_only, scheme))
                .map(|r| r.party)
                .collect();
            let failed = self
                .coordinator
                .retire_epoch(key_id, epoch, pending_only, &parties)
                .await;
            let done: Vec<u16> = parties
                .iter()
                .copied()
                .filter(|p| !failed.iter().any(|(q, _)| q == p))
                .collect();
            if !done.is_empty() {
                progress(&format!(
                    "key {key_id}: epoch {epoch} {} at parties {done:?}",
                    if pending_only {
                        "(pending shares of parties outside the committee) destroyed"
                    } else {
                        "destroyed"
                    }
                ));
            }
            for (p, why) in failed {
                progress(&format!(
                    "key {key_id}: party {p} still holds epoch {epoch} ({why}); run a lifecycle \
                     command again when it is back"
                ));
                left.push(Retirement {
                    party: p,
                    scheme,
                    epoch,
                    pending_only,
                });
            }
        }
        self.update(key_id, |k| k.retire = left)
    }

    /// Changes one registry entry and saves the registry.
    fn update(
        &self,
        key_id: &str,
        change: impl FnOnce(&mut RegisteredKey),
    ) -> Result<RegisteredKey> {
        let mut reg = Registry::load(&self.config.registry)?;
        let entry = reg
            .keys
            .iter_mut()
            .find(|k| k.key_id == key_id)
            .ok_or_else(|| other(format!("no key {key_id:?} in the registry")))?;
        change(entry);
        let out = entry.clone();
        reg.save(&self.config.registry)?;
        Ok(out)
    }
}

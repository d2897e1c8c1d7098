//! Key ceremonies seen from the coordinator: every party runs its side of the key
//! generation over the mesh and stores its share as pending; the coordinator activates the
//! key only when all `n` parties report the same group key and public shares. A ceremony
//! that fails (a party killed, a timeout, an abort, a disagreement) names the party and
//! leaves no active key; running it again (under a new key id) works.

use std::collections::BTreeMap;
use std::time::Instant;

use mpc_core::{PartyIndex, PublicKey, SchemeId, SessionId};
use tracing::Instrument;

use super::{us, AttemptReport, Coordinator, CoordinatorError, Outcome};
use crate::control::{KeyRef, Request, Response};

/// A key made by a ceremony and active at every party.
#[derive(Debug, Clone)]
pub struct KeygenOutcome {
    /// The key's name.
    pub key_id: String,
    /// Scheme and group public key.
    pub key: KeyRef,
    /// Signers needed.
    pub t: u16,
    /// Parties.
    pub n: u16,
    /// Every party's public share, by party index.
    pub public_shares: Vec<PublicKey>,
    /// What each party reported it stored (hash of its sealed file), by party index.
    pub stored_hashes: Vec<[u8; 32]>,
    /// The key's BIP-32 chain code, as every party reported it (public).
    pub chain_code: Option<[u8; 32]>,
    /// The key generation attempt (per-party timings).
    pub report: AttemptReport,
    /// Wall time of the ceremony, activation included, in microseconds.
    pub elapsed_us: u64,
}

pub(super) fn ceremony_error(
    parties: Vec<PartyIndex>,
    reason: impl Into<String>,
) -> CoordinatorError {
    CoordinatorError::Ceremony {
        parties,
        reason: reason.into(),
    }
}

/// What one party reported, without the hash.
type Report = (KeyRef, u16, Vec<PublicKey>, Option<[u8; 32]>);

/// The key every party reported, its threshold, public shares, chain code and each party's
/// stored hash.
type Agreed = (KeyRef, u16, Vec<PublicKey>, Option<[u8; 32]>, Vec<[u8; 32]>);

impl Coordinator {
    /// Runs key generation of a new `t`-of-`n` key of `scheme` named `key_id` among all the
    /// parties (`n` = every party this coordinator knows), then activates it.
    ///
    /// # Errors
    /// [`CoordinatorError::Ceremony`] naming the parties that are missing, failed, timed
    /// out or disagree (the key is then active nowhere: parties that stored it keep it
    /// pending); [`CoordinatorError::Invalid`] for a bad key id or threshold.
    pub async fn keygen(
        &self,
        scheme: SchemeId,
        key_id: &str,
        t: u16,
    ) -> Result<KeygenOutcome, CoordinatorError> {
        let n = self.deployment_size()?;
        mpc_core::check_threshold(t, n).map_err(|e| CoordinatorError::Invalid(e.to_string()))?;
        let needs_primes = matches!(scheme, SchemeId::Cggmp21Secp256k1 | SchemeId::Gg20Secp256k1);
        self.ceremony(scheme, key_id, Some(t), needs_primes, |session| {
            Request::Keygen {
                session,
                scheme,
                key_id: key_id.to_string(),
                t,
                n,
                round_timeout_ms: us(self.opts.ceremony_round_timeout) / 1000,
            }
        })
        .await
    }

    /// Imports an existing key: every party reads its own tss-lib keygen file `file` from
    /// its import directory, runs the engine's network step (GG20 certification, CGGMP21
    /// auxiliary info) and stores its share; the key is activated as after
    /// [`Coordinator::keygen`]. The group key, and so every address, stays the file's.
    ///
    /// # Errors
    /// As [`Coordinator::keygen`].
    pub async fn import(
        &self,
        scheme: SchemeId,
        key_id: &str,
        file: &str,
    ) -> Result<KeygenOutcome, CoordinatorError> {
        let n = self.deployment_size()?;
        let needs_primes = scheme == SchemeId::Cggmp21Secp256k1;
        self.ceremony(scheme, key_id, None, needs_primes, |session| {
            Request::Import {
                session,
                scheme,
                key_id: key_id.to_string(),
                file: file.to_string(),
                n,
                round_timeout_ms: us(self.opts.ceremony_round_timeout) / 1000,
            }
        })
        .await
    }

    fn deployment_size(&self) -> Result<u16, CoordinatorError> {
        u16::try_from(self.clients.len())
            .map_err(|_| CoordinatorError::Invalid("too many parties".into()))
    }

    /// A ceremony among all parties: (primes,) the request made by `request`, agreement,
    /// activation.
    async fn ceremony(
        &self,
        scheme: SchemeId,
        key_id: &str,
        t: Option<u16>,
        needs_primes: bool,
        request: impl FnOnce(SessionId) -> Request,
    ) -> Result<KeygenOutcome, CoordinatorError> {
        crate::party::check_key_id(key_id).map_err(CoordinatorError::Invalid)?;
        let n = self.deployment_size()?;
        let all: Vec<PartyIndex> = self.clients.keys().copied().collect();
        let reachable = self.reachable();
        let missing: Vec<PartyIndex> = all
            .iter()
            .copied()
            .filter(|p| !reachable.contains(p))
            .collect();
        if !missing.is_empty() {
            return Err(ceremony_error(
                missing,
                format!("not connected; a key ceremony needs all {n} parties"),
            ));
        }
        let span = tracing::info_span!("coordinator.ceremony", scheme = %scheme, key_id);
        async {
            let start = Instant::now();
            if needs_primes {
                // Every party's primes first: the run then starts everywhere at once
                // (frames for a session a party has not opened yet wait only briefly).
                self.prepare_everywhere(&all).await?;
            }
            let session = SessionId::random(&mut rand_core::OsRng);
            let (report, outcome) = self
                .attempt(all.clone(), session, request(session), None)
                .await;
            let responses = match outcome {
                Outcome::Done(r) => r,
                Outcome::Retry(excl, why) => {
                    return Err(ceremony_error(excl.iter().map(|e| e.party).collect(), why))
                }
                Outcome::Stop(p, f) => return Err(ceremony_error(vec![p], f.message)),
            };
            let (key, t, public_shares, chain_code, stored_hashes) =
                agree(&responses, scheme, key_id, n, t)?;
            self.activate_everywhere(key_id, &key, &all).await?;
            if let Some(code) = chain_code {
                self.add_chain_code(&key, code);
            }
            tracing::info!(key_id, ?key, "key active at every party");
            Ok(KeygenOutcome {
                key_id: key_id.to_string(),
                key,
                t,
                n,
                public_shares,
                chain_code,
                stored_hashes,
                report,
                elapsed_us: us(start.elapsed()),
            })
        }
        .instrument(span)
        .await
    }

    /// Asks every party to have its Paillier primes ready.
    async fn prepare_everywhere(&self, all: &[PartyIndex]) -> Result<(), CoordinatorError> {
        let session = SessionId::random(&mut rand_core::OsRng);
        let (_, outcome) = self
            .attempt(all.to_vec(), session, Request::PreparePrimes, None)
            .await;
        match outcome {
            Outcome::Done(r) => match r.iter().find(|(_, r)| !matches!(r, Response::Prepared)) {
                None => Ok(()),
                Some((p, _)) => Err(ceremony_error(vec![*p], "answered PreparePrimes otherwise")),
            },
            Outcome::Retry(excl, why) => Err(ceremony_error(
                excl.iter().map(|e| e.party).collect(),
                format!("Paillier primes not ready: {why}"),
            )),
            Outcome::Stop(p, f) => Err(ceremony_error(vec![p], f.message)),
        }
    }

    /// Sends `Activate` to every party; all must confirm the key.
    async fn activate_everywhere(
        &self,
        key_id: &str,
        key: &KeyRef,
        all: &[PartyIndex],
    ) -> Result<(), CoordinatorError> {
        let session = SessionId::random(&mut rand_core::OsRng);
        let request = Request::Activate {
            key_id: key_id.to_string(),
            epoch: Some(key.epoch),
            stored_hash: None,
        };
        let (_, outcome) = self.attempt(all.to_vec(), session, request, None).await;
        let responses = match outcome {
            Outcome::Done(r) => r,
            Outcome::Retry(excl, why) => {
                return Err(ceremony_error(
                    excl.iter().map(|e| e.party).collect(),
                    format!("activation failed ({why}); the key is not active"),
                ))
            }
            Outcome::Stop(p, f) => {
                return Err(ceremony_error(
                    vec![p],
                    format!("activation failed ({}); the key is not active", f.message),
                ))
            }
        };
        for (p, r) in &responses {
            match r {
                Response::Activated { key: k, .. } if k == key => {}
                _ => {
                    return Err(ceremony_error(
                        vec![*p],
                        "activated another key or answered otherwise",
                    ))
                }
            }
        }
        Ok(())
    }
}

/// Every party must report the same key and public shares; a party that differs from the
/// largest agreeing group is named.
fn agree(
    responses: &[(PartyIndex, Response)],
    scheme: SchemeId,
    key_id: &str,
    n: u16,
    t: Option<u16>,
) -> Result<Agreed, CoordinatorError> {
    let mut reports: BTreeMap<PartyIndex, (Report, [u8; 32])> = BTreeMap::new();
    for (p, r) in responses {
        match r {
            Response::KeyStored {
                key_id: id,
                key,
                threshold,
                public_shares,
                stored_hash,
                chain_code,
                ..
            } if id == key_id
                && key.scheme == scheme
                && public_shares.len() == usize::from(n)
                && t.is_none_or(|t| t == *threshold) =>
            {
                reports.insert(
                    *p,
                    (
                        (key.clone(), *threshold, public_shares.clone(), *chain_code),
                        *stored_hash,
                    ),
                );
            }
            _ => {
                return Err(ceremony_error(
                    vec![*p],
                    "answered with something other than its stored key",
                ))
            }
        }
    }
    let mut groups: Vec<(&Report, Vec<PartyIndex>)> = Vec::new();
    for (p, (report, _)) in &reports {
        match groups.iter_mut().find(|(r, _)| *r == report) {
            Some((_, members)) => members.push(*p),
            None => groups.push((report, vec![*p])),
        }
    }
    groups.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    let Some(((key, t, shares, chain_code), _)) =
        groups.first().map(|(r, m)| ((*r).clone(), m.clone()))
    else {
        return Err(ceremony_error(Vec::new(), "no party answered"));
    };
    if groups.len() > 1 {
        let odd: Vec<PartyIndex> = groups.iter().skip(1).flat_map(|(_, m)| m.clone()).collect();
        return Err(ceremony_error(
            odd,
            "reported another group key, other public shares or another chain code than the rest",
        ));
    }
    let hashes = (0..n)
        .map(|p| reports.get(&p).map(|(_, h)| *h).unwrap_or_default())
        .collect();
    Ok((key, t, shares, chain_code, hashes))
}

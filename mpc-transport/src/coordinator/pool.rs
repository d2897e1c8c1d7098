//! Presignatures (CGGMP21 and GG20) seen from the coordinator: an index of what the parties hold,
//! presigning sessions (on demand or in the background) and online signing.
//!
//! Each presignature is taken from the index by one request only (under a lock). The
//! parties do not rely on that: each marks an id consumed on disk before it issues a
//! partial signature and refuses it afterwards.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mpc_core::{Cggmp21, Gg20, PartyIndex, Presigning, PublicKey, SessionId, SignRequest};
use tokio::task::AbortHandle;
use tracing::Instrument;

use super::{
    exclusions, failure_outcome, us, AttemptReport, Coordinator, CoordinatorError, Outcome,
    SessionReport, Signed,
};
use crate::control::{KeyRef, PartialSignature, Request, Response};

type Slot = (KeyRef, Option<Vec<u32>>);

#[derive(Debug, Clone)]
struct Ready {
    id: [u8; 32],
    signers: Vec<PartyIndex>,
    signing_key: PublicKey,
}

/// Ready presignatures per key and derivation path.
#[derive(Debug, Default)]
pub(super) struct PresigIndex {
    ready: HashMap<Slot, VecDeque<Ready>>,
}

impl PresigIndex {
    fn take(&mut self, slot: &Slot, usable: impl Fn(&[PartyIndex]) -> bool) -> Option<Ready> {
        let q = self.ready.get_mut(slot)?;
        let at = q.iter().position(|r| usable(&r.signers))?;
        q.remove(at)
    }
}

/// A background task filling the presignature pool; stops when dropped.
#[derive(Debug)]
pub struct Filler(AbortHandle);

impl Drop for Filler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn norm(path: Option<&[u32]>) -> Option<Vec<u32>> {
    path.filter(|p| !p.is_empty()).map(<[u32]>::to_vec)
}

fn guard<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Coordinator {
    /// Runs one presigning session for `key` (threshold `t`) with the path fixed to `path`,
    /// on a quorum of reachable parties (retried like [`Coordinator::sign`]); the parties
    /// store the presignature and the coordinator indexes it.
    ///
    /// # Errors
    /// As [`Coordinator::sign`].
    pub async fn presign(
        &self,
        key: &KeyRef,
        t: u16,
        path: Option<&[u32]>,
    ) -> Result<([u8; 32], SessionReport), CoordinatorError> {
        let path = norm(path);
        let span = tracing::info_span!("coordinator.request", kind = "presign");
        let ((id, ready), report) = self
            .with_retries(key, t, SessionReport::default(), |quorum, session| {
                let request = Request::Presign {
                    session,
                    key: key.clone(),
                    signers: quorum.clone(),
                    path: path.clone(),
                    round_timeout_ms: us(self.opts.round_timeout) / 1000,
                };
                async move {
                    let (report, outcome) =
                        self.attempt(quorum.clone(), session, request, None).await;
                    (report, agree_presigned(outcome, quorum))
                }
            })
            .instrument(span)
            .await?;
        guard(&self.presigs)
            .ready
            .entry((key.clone(), path))
            .or_default()
            .push_back(ready);
        Ok((id, report))
    }

    /// Drops every presignature of `key` from the index (its epoch was retired: the
    /// parties destroy those presignatures).
    pub fn forget_presignatures(&self, key: &KeyRef) {
        guard(&self.presigs).ready.retain(|(k, _), _| k != key);
    }

    /// Presignatures indexed as ready for `key` and `path`.
    pub fn presignatures_ready(&self, key: &KeyRef, path: Option<&[u32]>) -> usize {
        guard(&self.presigs)
            .ready
            .get(&(key.clone(), norm(path)))
            .map_or(0, VecDeque::len)
    }

    /// Rebuilds the index for `key` from the pools of the reachable parties (after a
    /// coordinator restart, say): a presignature is ready when every one of its signers
    /// lists it. Returns how many are.
    pub async fn sync_presignatures(&self, key: &KeyRef) -> usize {
        let mut listed: HashMap<[u8; 32], (crate::control::PooledPresignature, Vec<PartyIndex>)> =
            HashMap::new();
        for (&p, c) in &self.clients {
            let Ok(Response::Pool { entries }) = c
                .call(&Request::Pool { key: key.clone() }, self.opts.round_timeout)
                .await
            else {
                continue;
            };
            for e in entries {
                listed
                    .entry(e.id)
                    .or_insert_with(|| (e, Vec::new()))
                    .1
                    .push(p);
            }
        }
        let mut index = guard(&self.presigs);
        index.ready.retain(|(k, _), _| k != key);
        let mut count = 0;
        for (e, holders) in listed.into_values() {
            if e.signers.iter().all(|s| holders.contains(s)) {
                count += 1;
                index
                    .ready
                    .entry((key.clone(), e.path))
                    .or_default()
                    .push_back(Ready {
                        id: e.id,
                        signers: e.signers,
                        signing_key: e.signing_key,
                    });
            }
        }
        count
    }

    /// Keeps `depth` presignatures for `key` and `path` ready, presigning in the background
    /// whenever fewer are; stops when the returned [`Filler`] is dropped.
    pub fn spawn_filler(
        self: &Arc<Self>,
        key: KeyRef,
        t: u16,
        path: Option<Vec<u32>>,
        depth: usize,
    ) -> Filler {
        let me = Arc::clone(self);
        let task = tokio::spawn(async move {
            loop {
                if me.presignatures_ready(&key, path.as_deref()) >= depth {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                if let Err(e) = me.presign(&key, t, path.as_deref()).await {
                    tracing::warn!(error = %e, "background presigning failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        });
        Filler(task.abort_handle())
    }

    /// Online signing: takes a ready presignature whose signers are all reachable, asks
    /// each for its partial signature (each party derives the request itself and consumes
    /// the presignature durably first) and combines them into a verified signature. A
    /// failed attempt burns that presignature and tries another without the failed party;
    /// with none left, a full signing runs if [`super::CoordinatorOptions::fallback_to_full`].
    /// A bare ECDSA digest (no chain payload, no preimage) never takes a presignature: the
    /// parties would refuse it (RUSTSEC-2025-0127); it goes to full signing, if allowed.
    ///
    /// # Errors
    /// As [`Coordinator::sign`].
    pub async fn sign_presigned(
        &self,
        key: &KeyRef,
        t: u16,
        request: &SignRequest,
    ) -> Result<Signed, CoordinatorError> {
        let chain_code = self.chain_code_for(key, std::slice::from_ref(request))?;
        let span = tracing::info_span!("coordinator.request", kind = "online");
        async {
            let start = Instant::now();
            let slot = (key.clone(), norm(request.derivation_path.as_deref()));
            let mut report = SessionReport::default();
            let mut last = String::new();
            let attempts = if is_bare_digest(request) {
                last = "a bare digest is never signed with a presignature".into();
                0
            } else {
                self.opts.max_attempts.max(1)
            };
            for _ in 0..attempts {
                let reachable = self.reachable();
                let excluded: Vec<PartyIndex> = report.excluded.iter().map(|e| e.party).collect();
                let usable = |s: &[PartyIndex]| {
                    s.iter()
                        .all(|p| reachable.contains(p) && !excluded.contains(p))
                };
                let Some(ready) = guard(&self.presigs).take(&slot, usable) else {
                    break;
                };
                let (a, outcome) = self.online_attempt(key, request, &ready, chain_code).await;
                report.attempts.push(a);
                match outcome {
                    Outcome::Done(sig) => {
                        report.elapsed_us = us(start.elapsed());
                        return Ok(Signed {
                            signatures: vec![sig],
                            signing_keys: vec![ready.signing_key],
                            report,
                        });
                    }
                    Outcome::Retry(excl, why) => {
                        tracing::warn!(error = %why, "online attempt failed; retrying");
                        report.excluded.extend(excl);
                        last = why;
                    }
                    Outcome::Stop(_, f) if f.kind == crate::control::FailureKind::Interactive => {
                        // The parties sign this request only in full (a digest taken on
                        // trust): the fallback below, if allowed.
                        last = f.message;
                        break;
                    }
                    Outcome::Stop(party, f) => {
                        report.elapsed_us = us(start.elapsed());
                        return Err(CoordinatorError::Refused {
                            party,
                            reason: f.message,
                            report: Box::new(report),
                        });
                    }
                }
            }
            if self.opts.fallback_to_full && report.attempts.len() < self.opts.max_attempts.max(1) {
                report.fell_back_to_full = true;
                return match self
                    .with_retries(key, t, report, |q, s| {
                        self.full_attempt(key, request, q, s, chain_code)
                    })
                    .await
                {
                    Ok(((sig, k), mut report)) => {
                        report.elapsed_us = us(start.elapsed());
                        Ok(Signed {
                            signatures: vec![sig],
                            signing_keys: vec![k],
                            report,
                        })
                    }
                    Err(e) => Err(e),
                };
            }
            report.elapsed_us = us(start.elapsed());
            Err(CoordinatorError::Failed {
                attempts: report.attempts.len(),
                blamed: report.excluded.iter().map(|e| e.party).collect(),
                last: if last.is_empty() {
                    "no usable presignature".into()
                } else {
                    last
                },
                report: Box::new(report),
            })
        }
        .instrument(span)
        .await
    }

    async fn full_attempt(
        &self,
        key: &KeyRef,
        request: &SignRequest,
        quorum: Vec<PartyIndex>,
        session: SessionId,
        chain_code: Option<[u8; 32]>,
    ) -> (AttemptReport, Outcome<(mpc_core::Signature, PublicKey)>) {
        let req = Request::Sign {
            session,
            key: key.clone(),
            signers: quorum.clone(),
            requests: vec![request.clone()],
            round_timeout_ms: us(self.opts.round_timeout) / 1000,
        };
        let (a, outcome) = self.attempt(quorum, session, req, None).await;
        let outcome = match outcome {
            Outcome::Done(r) => {
                match super::check_signed(&r, key, std::slice::from_ref(request), chain_code) {
                    Outcome::Done((s, k)) => match (s.first(), k.first()) {
                        (Some(s), Some(k)) => Outcome::Done((*s, *k)),
                        _ => Outcome::Retry(Vec::new(), "no signature".into()),
                    },
                    Outcome::Retry(e, m) => Outcome::Retry(e, m),
                    Outcome::Stop(p, f) => Outcome::Stop(p, f),
                }
            }
            Outcome::Retry(e, m) => Outcome::Retry(e, m),
            Outcome::Stop(p, f) => Outcome::Stop(p, f),
        };
        (a, outcome)
    }

    async fn online_attempt(
        &self,
        key: &KeyRef,
        request: &SignRequest,
        ready: &Ready,
        chain_code: Option<[u8; 32]>,
    ) -> (AttemptReport, Outcome<mpc_core::Signature>) {
        let req = Request::PartialSign {
            key: key.clone(),
            presignature: ready.id,
            request: request.clone(),
        };
        // Online signing has no protocol session; the id only names the attempt.
        let session = SessionId(ready.id);
        let (mut a, outcome) = self
            .attempt(ready.signers.clone(), session, req, Some(ready.id))
            .await;
        let outcome = match outcome {
            Outcome::Done(responses) => {
                let members = self.committee_of(key);
                combine(
                    &responses,
                    key,
                    request,
                    ready,
                    chain_code,
                    members.as_deref(),
                )
            }
            Outcome::Retry(e, m) => Outcome::Retry(e, m),
            Outcome::Stop(p, f) => failure_stop(p, f),
        };
        if let Outcome::Retry(e, m) = &outcome {
            a.error = Some(m.clone());
            a.blamed = e.iter().map(|x| x.party).collect();
        }
        (a, outcome)
    }
}

fn failure_stop<T>(p: PartyIndex, f: crate::control::Failure) -> Outcome<T> {
    match f.kind {
        crate::control::FailureKind::Refused | crate::control::FailureKind::Interactive => {
            Outcome::Stop(p, f)
        }
        // A presignature the party no longer has (or a bad request for it): this one is
        // burned, try another.
        _ => failure_outcome(
            p,
            crate::control::Failure {
                kind: crate::control::FailureKind::Internal,
                ..f
            },
        ),
    }
}

fn combine(
    responses: &[(PartyIndex, Response)],
    key: &KeyRef,
    request: &SignRequest,
    ready: &Ready,
    chain_code: Option<[u8; 32]>,
    members: Option<&[PartyIndex]>,
) -> Outcome<mpc_core::Signature> {
    // Partial signatures name their signer by share index.
    let party_of = |i: PartyIndex| members.map_or(Some(i), |m| crate::committee::party_of(m, i));
    let expected = match super::expected_key(key, request, chain_code) {
        Ok(k) if k == ready.signing_key => k,
        Ok(_) => {
            return Outcome::Retry(
                Vec::new(),
                "the presignature is for another key than the requested one".into(),
            )
        }
        Err(why) => return Outcome::Retry(Vec::new(), why),
    };
    let mut cggmp = Vec::new();
    let mut gg20 = Vec::new();
    for (p, r) in responses {
        match r {
            Response::Partial {
                partial,
                signing_key,
            } if *signing_key == ready.signing_key && party_of(partial.from()) == Some(*p) => {
                match partial {
                    PartialSignature::Cggmp21(x) => cggmp.push(x.clone()),
                    PartialSignature::Gg20(x) => gg20.push(x.clone()),
                }
            }
            _ => {
                let why = format!("party {p} sent an unusable partial signature");
                return Outcome::Retry(exclusions(&[*p], &why), why);
            }
        }
    }
    let combined = match (cggmp.is_empty(), gg20.is_empty()) {
        (false, true) => Cggmp21::combine(&ready.signing_key, request, &cggmp),
        (true, false) => Gg20::combine(&ready.signing_key, request, &gg20),
        _ => return Outcome::Retry(Vec::new(), "partial signatures of different engines".into()),
    };
    match combined {
        Ok(sig) => match mpc_core::verify::verify(&expected, &request.payload, &sig) {
            Ok(()) => Outcome::Done(sig),
            Err(e) => Outcome::Retry(Vec::new(), format!("signature does not verify: {e}")),
        },
        Err(mpc_core::Error::InvalidSignature { culprits }) => {
            let culprits: Vec<PartyIndex> = match members {
                Some(m) => crate::committee::parties_of(m, &culprits),
                None => culprits,
            };
            let why = format!("partial signatures of parties {culprits:?} are invalid");
            Outcome::Retry(exclusions(&culprits, &why), why)
        }
        Err(e) => Outcome::Retry(Vec::new(), e.to_string()),
    }
}

/// Every member must report the same presignature id.
fn agree_presigned(
    outcome: Outcome<Vec<(PartyIndex, Response)>>,
    quorum: Vec<PartyIndex>,
) -> Outcome<([u8; 32], Ready)> {
    let responses = match outcome {
        Outcome::Done(r) => r,
        Outcome::Retry(e, m) => return Outcome::Retry(e, m),
        Outcome::Stop(p, f) => return Outcome::Stop(p, f),
    };
    let mut agreed: Option<([u8; 32], PublicKey)> = None;
    for (p, r) in &responses {
        let Response::Presigned {
            id, signing_key, ..
        } = r
        else {
            let why = format!("party {p} sent an unexpected response");
            return Outcome::Retry(exclusions(&[*p], &why), why);
        };
        match agreed {
            None => agreed = Some((*id, *signing_key)),
            Some(a) if a == (*id, *signing_key) => {}
            Some(_) => {
                let why = format!("party {p} reports another presignature");
                return Outcome::Retry(exclusions(&[*p], &why), why);
            }
        }
    }
    match agreed {
        Some((id, signing_key)) => Outcome::Done((
            id,
            Ready {
                id,
                signers: quorum,
                signing_key,
            },
        )),
        None => Outcome::Retry(Vec::new(), "no response".into()),
    }
}

/// An ECDSA digest with nothing a party could derive it from: no presignature signs it.
fn is_bare_digest(request: &SignRequest) -> bool {
    matches!(request.payload, mpc_core::SignPayload::EcdsaPrehash { .. })
        && request.chain_payload.is_none()
        && request.preimage.is_none()
}

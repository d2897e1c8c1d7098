//! The coordinator: picks a quorum of reachable parties, starts a session with a fresh id,
//! and when an attempt times out or aborts, retries with another quorum that leaves out
//! the party that was offline or blamed. Every request yields a [`SessionReport`] (also as
//! `tracing` spans: `coordinator.request`, `coordinator.attempt`, `coordinator.party`).
//!
//! The coordinator is trusted with liveness, not with what is signed: parties derive every
//! request themselves ([`crate::party::RequestPolicy`]) and the coordinator verifies every
//! signature before returning it. It also keeps an index of the parties' CGGMP21
//! presignatures, fills it in the background ([`Coordinator::spawn_filler`]) and hands
//! each presignature to one request only (the parties enforce single use on their side,
//! durably).

mod ceremony;
mod client;
mod pool;
mod quorum;
mod report;
mod reshare;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mpc_core::{PartyIndex, PublicKey, SessionId, SignRequest, Signature};
use tokio::task::{AbortHandle, JoinSet};
use tracing::Instrument;

pub use ceremony::KeygenOutcome;
pub use report::{AttemptReport, Exclusion, PartyTiming, RoundTiming, SessionReport};
pub use reshare::{ReshareOutcome, ReshareSpec};

use crate::control::{Failure, FailureKind, KeyRef, Request, Response};
use crate::error::TransportError;
use crate::tls::TlsIdentity;
use client::{CallError, Client};
use pool::PresigIndex;
use quorum::first_untried;

/// Settings of a [`Coordinator`].
#[derive(Debug, Clone)]
pub struct CoordinatorOptions {
    /// Per-round timeout the parties apply.
    pub round_timeout: Duration,
    /// Bound on one attempt (in case every party of the quorum stalls).
    pub attempt_timeout: Duration,
    /// Attempts per request (each with a new quorum and session).
    pub max_attempts: usize,
    /// Run a full signing when no presignature fits an online request.
    pub fallback_to_full: bool,
    /// Largest control frame.
    pub max_frame: usize,
    /// Bound on connect plus TLS handshake.
    pub handshake_timeout: Duration,
    /// First and largest wait between dial attempts.
    pub reconnect: (Duration, Duration),
    /// Simulated one-way delay on every control request (zero in production).
    pub delay: Duration,
    /// Bound on a key ceremony (key generation, which may include a party's Paillier
    /// prime generation: minutes).
    pub ceremony_timeout: Duration,
    /// Per-round timeout of key ceremonies: long enough for a party that is still making
    /// its primes while the others wait.
    pub ceremony_round_timeout: Duration,
}

impl Default for CoordinatorOptions {
    fn default() -> Self {
        CoordinatorOptions {
            round_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(120),
            max_attempts: 3,
            fallback_to_full: true,
            max_frame: 4 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(5),
            reconnect: (Duration::from_millis(20), Duration::from_secs(1)),
            delay: Duration::ZERO,
            ceremony_timeout: Duration::from_secs(900),
            ceremony_round_timeout: Duration::from_secs(600),
        }
    }
}

/// Why a request failed. Every variant carries the report of what was tried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoordinatorError {
    /// Fewer than the threshold of parties are reachable and not excluded.
    #[error("no quorum of {needed}: reachable {reachable:?}, excluded {excluded:?}")]
    NoQuorum {
        /// Signers needed.
        needed: u16,
        /// Parties connected now.
        reachable: Vec<PartyIndex>,
        /// Parties left out, with reasons.
        excluded: Vec<Exclusion>,
        /// What was tried.
        report: Box<SessionReport>,
    },
    /// A party's policy refused the request (not retried: honest parties agree on it).
    #[error("party {party} refused the request: {reason}")]
    Refused {
        /// The party.
        party: PartyIndex,
        /// Its reason.
        reason: String,
        /// What was tried.
        report: Box<SessionReport>,
    },
    /// Every attempt failed.
    #[error("failed after {attempts} attempt(s), blamed parties {blamed:?}: {last}")]
    Failed {
        /// Attempts made.
        attempts: usize,
        /// Parties blamed over all attempts.
        blamed: Vec<PartyIndex>,
        /// The last attempt's error.
        last: String,
        /// What was tried.
        report: Box<SessionReport>,
    },
    /// The request itself is unusable (empty, unknown party, wrong kind).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A key ceremony failed; no key is active.
    #[error("key ceremony failed, parties {parties:?}: {reason}")]
    Ceremony {
        /// The parties that were missing, failed, timed out or disagreed.
        parties: Vec<PartyIndex>,
        /// What happened.
        reason: String,
    },
}

impl CoordinatorError {
    /// The report of what was tried, if any.
    pub fn report(&self) -> Option<&SessionReport> {
        match self {
            CoordinatorError::NoQuorum { report, .. }
            | CoordinatorError::Refused { report, .. }
            | CoordinatorError::Failed { report, .. } => Some(report),
            CoordinatorError::Invalid(_) | CoordinatorError::Ceremony { .. } => None,
        }
    }
}

/// A completed request: the verified signatures (in request order) and the report.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Signatures, each verified under its signing key.
    pub signatures: Vec<Signature>,
    /// The keys they verify under (derived keys for paths).
    pub signing_keys: Vec<PublicKey>,
    /// What happened.
    pub report: SessionReport,
}

/// Outcome of one attempt, before it is folded into the report.
enum Outcome<T> {
    Done(T),
    /// Retry without these parties.
    Retry(Vec<Exclusion>, String),
    /// Stop: a party refused, or the request is bad.
    Stop(PartyIndex, Failure),
}

/// Orchestrates signing across party processes.
pub struct Coordinator {
    clients: BTreeMap<PartyIndex, Client>,
    tasks: Vec<AbortHandle>,
    opts: CoordinatorOptions,
    presigs: Mutex<PresigIndex>,
    /// Chain codes of keys signatures may be derived from (public data).
    chain_codes: Mutex<HashMap<KeyRef, [u8; 32]>>,
    /// Committees of keys not held by the whole deployment (after a resharing).
    committees: Mutex<HashMap<KeyRef, Vec<PartyIndex>>>,
}

impl core::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Coordinator")
            .field("parties", &self.clients.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Coordinator {
    /// Starts connections (mutual TLS, the coordinator's certificate in `identity`) to the
    /// parties' control addresses. Must run inside a tokio runtime. Connections come up in
    /// the background: see [`Coordinator::wait_connected`].
    ///
    /// # Errors
    /// [`TransportError::Tls`] for an unusable identity.
    pub fn start(
        identity: &TlsIdentity,
        parties: &HashMap<PartyIndex, SocketAddr>,
        opts: CoordinatorOptions,
    ) -> Result<Self, TransportError> {
        let tls = identity.configs()?;
        let mut clients = BTreeMap::new();
        let mut tasks = Vec::new();
        for (&p, &addr) in parties {
            let (c, t) = Client::spawn(p, addr, &tls, &opts);
            clients.insert(p, c);
            tasks.push(t);
        }
        Ok(Coordinator {
            clients,
            tasks,
            opts,
            presigs: Mutex::new(PresigIndex::default()),
            chain_codes: Mutex::new(HashMap::new()),
            committees: Mutex::new(HashMap::new()),
        })
    }

    /// Records the BIP-32 chain code of `key` (public data, from the key's ceremony or its
    /// registry entry), so the coordinator can check signatures under a derivation path
    /// against the child key it derives itself. Keys made by [`Coordinator::keygen`] are
    /// recorded automatically.
    pub fn add_chain_code(&self, key: &KeyRef, chain_code: [u8; 32]) {
        if let Ok(mut m) = self.chain_codes.lock() {
            m.insert(key.clone(), chain_code);
        }
    }

    /// Records the committee of `key`: the deployment party holding each share index
    /// (from a resharing, or the key's registry entry). Quorums for the key are picked
    /// among these parties; a key without a recorded committee is held by every party.
    pub fn set_committee(&self, key: &KeyRef, committee: Vec<PartyIndex>) {
        if let Ok(mut m) = self.committees.lock() {
            m.insert(key.clone(), committee);
        }
    }

    /// The parties holding shares of `key`, when a committee is recorded for it.
    pub fn committee_of(&self, key: &KeyRef) -> Option<Vec<PartyIndex>> {
        self.committees
            .lock()
            .ok()
            .and_then(|m| m.get(key).cloned())
    }

    /// The chain code to check derived signatures with: needed (and known) as soon as one
    /// request carries a derivation path.
    fn chain_code_for(
        &self,
        key: &KeyRef,
        requests: &[SignRequest],
    ) -> Result<Option<[u8; 32]>, CoordinatorError> {
        let known = self
            .chain_codes
            .lock()
            .ok()
            .and_then(|m| m.get(key).copied());
        let derives = requests
            .iter()
            .any(|r| r.derivation_path.as_deref().is_some_and(|p| !p.is_empty()));
        if derives && known.is_none() {
            return Err(CoordinatorError::Invalid(
                "a derivation path, but the coordinator knows no chain code for this key to \
                 check the derived signature with (Coordinator::add_chain_code)"
                    .into(),
            ));
        }
        Ok(known)
    }

    /// Parties connected now.
    pub fn reachable(&self) -> Vec<PartyIndex> {
        self.clients
            .iter()
            .filter(|(_, c)| c.connected())
            .map(|(p, _)| *p)
            .collect()
    }

    /// Sends one control request to `party` and returns its response (for operations
    /// tooling: pool listings, pings).
    ///
    /// # Errors
    /// The party is unknown, not connected, or did not answer within the attempt timeout.
    pub async fn call_party(
        &self,
        party: PartyIndex,
        request: Request,
    ) -> Result<Response, String> {
        let client = self
            .clients
            .get(&party)
            .ok_or_else(|| format!("unknown party {party}"))?;
        client
            .call(&request, self.opts.attempt_timeout)
            .await
            .map_err(|e| format!("party {party}: {e}"))
    }

    /// Waits until at least `count` parties are connected, up to `timeout`; returns the
    /// connected parties.
    pub async fn wait_connected(&self, count: usize, timeout: Duration) -> Vec<PartyIndex> {
        let end = Instant::now() + timeout;
        loop {
            let r = self.reachable();
            if r.len() >= count || Instant::now() >= end {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Signs `requests` with `key` (threshold `t`): one session (a batch for several
    /// requests), retried on other quorums. Returns verified signatures.
    ///
    /// # Errors
    /// [`CoordinatorError`]; `Failed` and `NoQuorum` name the parties left out.
    pub async fn sign(
        &self,
        key: &KeyRef,
        t: u16,
        requests: &[SignRequest],
    ) -> Result<Signed, CoordinatorError> {
        if requests.is_empty() {
            return Err(CoordinatorError::Invalid("nothing to sign".into()));
        }
        let chain_code = self.chain_code_for(key, requests)?;
        let span = tracing::info_span!("coordinator.request", kind = "sign", scheme = %key.scheme);
        self.with_retries(key, t, SessionReport::default(), |quorum, session| {
            let request = Request::Sign {
                session,
                key: key.clone(),
                signers: quorum.to_vec(),
                requests: requests.to_vec(),
                round_timeout_ms: us(self.opts.round_timeout) / 1000,
            };
            async move {
                let (report, outcome) = self.attempt(quorum, session, request, None).await;
                let outcome = match outcome {
                    Outcome::Done(responses) => check_signed(&responses, key, requests, chain_code),
                    Outcome::Retry(e, m) => Outcome::Retry(e, m),
                    Outcome::Stop(p, f) => Outcome::Stop(p, f),
                };
                (report, outcome)
            }
        })
        .instrument(span)
        .await
        .map(|((signatures, signing_keys), report)| Signed {
            signatures,
            signing_keys,
            report,
        })
    }

    /// Runs attempts until one succeeds, a party refuses, no quorum is left, or
    /// `max_attempts` is reached.
    async fn with_retries<'a, T, F, Fut>(
        &'a self,
        key: &KeyRef,
        t: u16,
        mut report: SessionReport,
        mut attempt: F,
    ) -> Result<(T, SessionReport), CoordinatorError>
    where
        F: FnMut(Vec<PartyIndex>, SessionId) -> Fut,
        Fut: std::future::Future<Output = (AttemptReport, Outcome<T>)> + 'a,
    {
        let start = Instant::now();
        let mut tried: Vec<Vec<PartyIndex>> = Vec::new();
        let mut last = String::new();
        let members = self.committee_of(key);
        for _ in 0..self.opts.max_attempts.max(1) {
            let Some(quorum) = self.pick(t, members.as_deref(), &report.excluded, &tried) else {
                report.elapsed_us = us(start.elapsed());
                return Err(CoordinatorError::NoQuorum {
                    needed: t,
                    reachable: self.reachable(),
                    excluded: report.excluded.clone(),
                    report: Box::new(report),
                });
            };
            tried.push(quorum.clone());
            let session = SessionId::random(&mut rand_core::OsRng);
            let (a, outcome) = attempt(quorum, session).await;
            report.attempts.push(a);
            match outcome {
                Outcome::Done(v) => {
                    report.elapsed_us = us(start.elapsed());
                    return Ok((v, report));
                }
                Outcome::Retry(excl, why) => {
                    tracing::warn!(error = %why, excluded = ?excl, "attempt failed; retrying");
                    for e in excl {
                        if !report.excluded.iter().any(|x| x.party == e.party) {
                            report.excluded.push(e);
                        }
                    }
                    last = why;
                }
                Outcome::Stop(party, f) => {
                    report.elapsed_us = us(start.elapsed());
                    return Err(if f.kind == FailureKind::Refused {
                        CoordinatorError::Refused {
                            party,
                            reason: f.message,
                            report: Box::new(report),
                        }
                    } else {
                        CoordinatorError::Invalid(format!("party {party}: {}", f.message))
                    });
                }
            }
        }
        report.elapsed_us = us(start.elapsed());
        Err(CoordinatorError::Failed {
            attempts: report.attempts.len(),
            blamed: report.excluded.iter().map(|e| e.party).collect(),
            last,
            report: Box::new(report),
        })
    }

    /// The first `t` reachable, not excluded parties (in index order) among `members`
    /// (every party when `None`) forming a quorum not tried yet.
    fn pick(
        &self,
        t: u16,
        members: Option<&[PartyIndex]>,
        excluded: &[Exclusion],
        tried: &[Vec<PartyIndex>],
    ) -> Option<Vec<PartyIndex>> {
        let candidates: Vec<PartyIndex> = self
            .reachable()
            .into_iter()
            .filter(|p| members.is_none_or(|m| m.contains(p)))
            .filter(|p| !excluded.iter().any(|e| e.party == *p))
            .collect();
        first_untried(&candidates, usize::from(t), tried)
    }

    /// Sends `request` to every member of `quorum` and waits for all responses; stops at
    /// the first failure and says whom to leave out.
    async fn attempt(
        &self,
        quorum: Vec<PartyIndex>,
        session: SessionId,
        request: Request,
        presignature: Option<[u8; 32]>,
    ) -> (AttemptReport, Outcome<Vec<(PartyIndex, Response)>>) {
        let span = tracing::info_span!("coordinator.attempt", session = ?session, quorum = ?quorum);
        let start = Instant::now();
        let mut report = AttemptReport {
            session,
            quorum: quorum.clone(),
            presignature: presignature.map(|p| mpc_core::hexser::to_hex(&p)),
            elapsed_us: 0,
            error: None,
            blamed: Vec::new(),
            parties: quorum
                .iter()
                .map(|&party| PartyTiming {
                    party,
                    ..PartyTiming::default()
                })
                .collect(),
        };
        let timeout = match request {
            Request::PartialSign { .. } => self.opts.round_timeout,
            Request::Keygen { .. }
            | Request::PreparePrimes
            | Request::Import { .. }
            | Request::Reshare { .. } => self.opts.ceremony_timeout,
            _ => self.opts.attempt_timeout,
        };
        let mut calls = JoinSet::new();
        for &p in &quorum {
            let Some(client) = self.clients.get(&p).cloned() else {
                continue;
            };
            let request = request.clone();
            let pspan = tracing::info_span!(parent: &span, "coordinator.party", party = p);
            calls.spawn(
                async move {
                    let r = client.call(&request, timeout).await;
                    tracing::debug!(ok = r.is_ok(), "response");
                    (p, r, start.elapsed())
                }
                .instrument(pspan),
            );
        }
        let mut ok = Vec::new();
        let mut outcome = None;
        while let Some(joined) = calls.join_next().await {
            let Ok((p, result, at)) = joined else {
                continue;
            };
            let timing = report.parties.iter_mut().find(|t| t.party == p);
            match result {
                Ok(Response::Failed(f)) => {
                    if let Some(t) = timing {
                        t.responded_us = Some(us(at));
                        t.error = Some(f.message.clone());
                    }
                    outcome = Some(failure_outcome(p, f));
                    break;
                }
                Ok(r) => {
                    if let Some(t) = timing {
                        t.responded_us = Some(us(at));
                        t.run = run_of(&r);
                    }
                    ok.push((p, r));
                }
                Err(e) => {
                    if let Some(t) = timing {
                        t.error = Some(e.to_string());
                    }
                    let why = format!("party {p}: {e}");
                    let blame = if e == CallError::Timeout {
                        // Everyone who has not answered.
                        quorum
                            .iter()
                            .copied()
                            .filter(|q| !ok.iter().any(|(o, _)| o == q))
                            .collect()
                    } else {
                        vec![p]
                    };
                    outcome = Some(Outcome::Retry(exclusions(&blame, &why), why));
                    break;
                }
            }
        }
        calls.abort_all();
        let outcome = outcome.unwrap_or(Outcome::Done(ok));
        report.elapsed_us = us(start.elapsed());
        match &outcome {
            Outcome::Retry(e, why) => {
                report.blamed = e.iter().map(|x| x.party).collect();
                report.error = Some(why.clone());
            }
            Outcome::Stop(_, f) => report.error = Some(f.message.clone()),
            Outcome::Done(_) => {}
        }
        span.in_scope(
            || tracing::info!(elapsed_us = report.elapsed_us, error = ?report.error, "attempt"),
        );
        (report, outcome)
    }
}

fn exclusions(parties: &[PartyIndex], why: &str) -> Vec<Exclusion> {
    parties
        .iter()
        .map(|&party| Exclusion {
            party,
            reason: why.to_string(),
        })
        .collect()
}

/// What a party's failure means for the request.
fn failure_outcome<T>(from: PartyIndex, f: Failure) -> Outcome<T> {
    match f.kind {
        FailureKind::Refused | FailureKind::BadRequest => Outcome::Stop(from, f),
        _ => {
            let why = format!("party {from} reports: {}", f.message);
            // Without a named culprit the reporter is left out, so the next quorum differs.
            let blame = if f.blame.is_empty() {
                vec![from]
            } else {
                f.blame.clone()
            };
            Outcome::Retry(exclusions(&blame, &why), why)
        }
    }
}

fn run_of(r: &Response) -> Option<crate::control::RunTimings> {
    match r {
        Response::Signed { run, .. } | Response::Presigned { run, .. } => Some(run.clone()),
        _ => None,
    }
}

/// The key a signature for `request` must verify under: the group key the coordinator
/// asked for, or the child key it derives itself from that key and its chain code — never
/// one a party reports.
fn expected_key(
    key: &KeyRef,
    request: &SignRequest,
    chain_code: Option<[u8; 32]>,
) -> Result<PublicKey, String> {
    match request.derivation_path.as_deref() {
        None | Some([]) => Ok(key.public_key),
        Some(path) => {
            let code = chain_code.ok_or(
                "the coordinator knows no chain code for this key, so it cannot check a \
                 derived signature (Coordinator::add_chain_code)",
            )?;
            mpc_core::derive::child_public_key(key.scheme, &key.public_key, code, path)
                .map_err(|e| e.to_string())
        }
    }
}

/// Every party must return the same signatures and keys; each must verify under the key
/// the coordinator asked for.
fn check_signed(
    responses: &[(PartyIndex, Response)],
    key: &KeyRef,
    requests: &[SignRequest],
    chain_code: Option<[u8; 32]>,
) -> Outcome<(Vec<Signature>, Vec<PublicKey>)> {
    let mut agreed: Option<(&Vec<Signature>, &Vec<PublicKey>)> = None;
    for (p, r) in responses {
        let Response::Signed {
            signatures,
            signing_keys,
            ..
        } = r
        else {
            let why = format!("party {p} sent an unexpected response");
            return Outcome::Retry(exclusions(&[*p], &why), why);
        };
        match agreed {
            None => agreed = Some((signatures, signing_keys)),
            Some((s, k)) if s == signatures && k == signing_keys => {}
            Some(_) => {
                let why = format!("party {p} returned a different signature");
                return Outcome::Retry(exclusions(&[*p], &why), why);
            }
        }
    }
    let Some((sigs, keys)) = agreed else {
        return Outcome::Retry(Vec::new(), "no response".into());
    };
    if sigs.len() != requests.len() || keys.len() != requests.len() {
        return Outcome::Retry(Vec::new(), "wrong number of signatures".into());
    }
    for ((sig, reported), req) in sigs.iter().zip(keys).zip(requests) {
        let expected = match expected_key(key, req, chain_code) {
            Ok(k) => k,
            Err(why) => return Outcome::Retry(Vec::new(), why),
        };
        if expected != *reported {
            let blame: Vec<PartyIndex> = responses.iter().map(|(p, _)| *p).collect();
            let why = "parties report another signing key than the one requested".to_string();
            return Outcome::Retry(exclusions(&blame, &why), why);
        }
        if let Err(e) = mpc_core::verify::verify(&expected, &req.payload, sig) {
            // Every party returned this signature: leave them all out of the next quorum.
            let blame: Vec<PartyIndex> = responses.iter().map(|(p, _)| *p).collect();
            let why = format!("signature does not verify under the requested key: {e}");
            return Outcome::Retry(exclusions(&blame, &why), why);
        }
    }
    Outcome::Done((sigs.clone(), keys.clone()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use mpc_core::{FrostEd25519, SchemeId};

    use super::*;
    use crate::control::RunTimings;

    /// Parties that answer with a valid signature under another key than the one asked
    /// for: the coordinator rejects it (and leaves them out), whatever key they report.
    #[test]
    fn a_valid_signature_under_another_key_is_rejected() {
        let asked = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
        let other = mpc_core::local::keygen::<FrostEd25519>(2, vec![(); 3]).unwrap();
        let request = SignRequest::ed25519(b"pay 1 SOL".to_vec());
        let sig = mpc_core::local::sign::<FrostEd25519>(&other, &[0, 1], &request).unwrap();
        // The signature is valid, under the other key.
        mpc_core::verify::verify(&other[0].public_key(), &request.payload, &sig).unwrap();
        let key = KeyRef {
            scheme: SchemeId::FrostEd25519,
            public_key: asked[0].public_key(),
            epoch: 0,
        };
        // Reporting the other key is refused as such; reporting the asked key, the
        // signature does not verify under it.
        for (reported, expected_why) in [
            (other[0].public_key(), "another signing key"),
            (asked[0].public_key(), "does not verify"),
        ] {
            let responses: Vec<(PartyIndex, Response)> = [0u16, 1]
                .iter()
                .map(|&p| {
                    (
                        p,
                        Response::Signed {
                            signatures: vec![sig],
                            signing_keys: vec![reported],
                            run: RunTimings::default(),
                        },
                    )
                })
                .collect();
            match check_signed(&responses, &key, std::slice::from_ref(&request), None) {
                Outcome::Retry(excluded, why) => {
                    assert!(why.contains(expected_why), "{why}");
                    let parties: Vec<PartyIndex> = excluded.iter().map(|e| e.party).collect();
                    assert_eq!(parties, vec![0, 1]);
                }
                Outcome::Done(_) => panic!("accepted a signature under another key"),
                Outcome::Stop(..) => panic!("unexpected stop"),
            }
        }
        // The same signature made by the asked key's parties is accepted.
        let good = mpc_core::local::sign::<FrostEd25519>(&asked, &[0, 2], &request).unwrap();
        let responses = vec![(
            0,
            Response::Signed {
                signatures: vec![good],
                signing_keys: vec![key.public_key],
                run: RunTimings::default(),
            },
        )];
        assert!(matches!(
            check_signed(&responses, &key, std::slice::from_ref(&request), None),
            Outcome::Done(_)
        ));
    }
}

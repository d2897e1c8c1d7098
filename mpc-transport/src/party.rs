//! The party side of the control channel: a party process serves the coordinator's
//! requests (sign, presign, partial signature, pool listing) over mutual TLS and runs the
//! protocol sessions with the other parties over its node ([`crate::TcpNode`] or
//! [`crate::NatsNode`], any [`MeshNode`]).
//!
//! A party never signs what the coordinator sends as is: every request goes through the
//! party's [`RequestPolicy`], which returns the request the party derived itself (from the
//! unsigned chain payload carried along, with `mpc_core::chain::derive_request`) or refuses.
//! Only the coordinator's certificate (`coordinator.<domain>`) may send requests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mpc_core::{
    BoxedProtocol, Cggmp21, Cggmp21Share, FrostEd25519, FrostTaproot, Gg20, Gg20Share, KeyShare,
    PartyIndex, PresignatureStore, Presigning, PublicKey, SchemeId, SeenRequest, SessionCtx,
    SessionId, SignRequest, Signature, ThresholdScheme,
};
use tokio::net::TcpListener;

use crate::control::{
    Failure, FailureKind, KeyRef, PartialSignature, PooledPresignature, Request, Response,
    RunTimings,
};
use crate::driver::{drive, DriveOptions, DriveReport};
use crate::error::TransportError;
use crate::mesh::{MeshNode, MeshSession};

mod ceremony;
mod reshare;
mod serve;
mod sessions;

pub use ceremony::{check_key_id, KeyVault, StoredKey};
use ceremony::{ActiveKey, Keys};
use sessions::SeenSessions;
pub use sessions::{SessionJournal, SEEN_SESSIONS};

/// Where a request comes from, for a policy that logs its decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The signing session, or for online signing the presignature id.
    pub session: Option<SessionId>,
    /// The coordinator's certificate name.
    pub coordinator: Option<String>,
    /// The request is for the online step of a presignature, which signs only a request the
    /// party derived itself ([`SeenRequest::for_presignature`]): a policy that logs its
    /// decisions refuses (and logs) here what the presignature would refuse after it.
    pub presigned: bool,
}

/// Decides what a party signs.
///
/// ```
/// use mpc_core::{PublicKey, SchemeId, SeenRequest, SignPayload, SignRequest};
/// use mpc_transport::{KeyRef, RequestPolicy};
///
/// /// Signs only Ed25519 messages that start with "memo:".
/// struct MemosOnly;
///
/// impl RequestPolicy for MemosOnly {
///     fn approve(&self, _key: &KeyRef, r: &SignRequest) -> Result<SeenRequest, String> {
///         match &r.payload {
///             SignPayload::Ed25519 { message } if message.starts_with(b"memo:") => {
///                 SeenRequest::message(r.clone()).map_err(|e| e.to_string())
///             }
///             _ => Err("only memos".into()),
///         }
///     }
/// }
///
/// let key = KeyRef { scheme: SchemeId::FrostEd25519, public_key: PublicKey::Ed25519([0x58; 32]), epoch: 0 };
/// assert!(MemosOnly.approve(&key, &SignRequest::ed25519(b"memo: hi".to_vec())).is_ok());
/// assert!(MemosOnly.approve(&key, &SignRequest::ecdsa([1; 32])).is_err());
/// ```
pub trait RequestPolicy: Send + Sync + 'static {
    /// Returns the request the party will sign for `key`: derived by the party itself from
    /// what `request` carries (never `request` taken on trust), or a refusal. A
    /// presignature signs the result only if it is not an ECDSA digest taken on trust
    /// ([`SeenRequest::unchecked`]; see `mpc_core::seen`).
    ///
    /// # Errors
    /// A refusal, with the reason sent back to the coordinator.
    fn approve(&self, key: &KeyRef, request: &SignRequest) -> Result<SeenRequest, String>;

    /// [`RequestPolicy::approve`] with where the request comes from; the party server
    /// calls this one. The default ignores the context.
    ///
    /// # Errors
    /// A refusal, with the reason sent back to the coordinator.
    fn approve_in(
        &self,
        ctx: &RequestContext,
        key: &KeyRef,
        request: &SignRequest,
    ) -> Result<SeenRequest, String> {
        let _ = ctx;
        self.approve(key, request)
    }
}

/// Signs whatever the coordinator sends: a digest with a message (a preimage) is hashed
/// and checked, anything else is taken on trust ([`SeenRequest::unchecked`], which a
/// presignature refuses for an ECDSA digest). For tests and benchmarks of the protocols
/// alone, or a deployment where the coordinator is trusted with the digest; a custody
/// deployment derives requests from the chain payload instead.
#[derive(Debug, Default, Clone, Copy)]
pub struct UncheckedRequests;

impl RequestPolicy for UncheckedRequests {
    fn approve(&self, _key: &KeyRef, request: &SignRequest) -> Result<SeenRequest, String> {
        if request.preimage.is_some() {
            SeenRequest::from_preimage(request).map_err(|e| e.to_string())
        } else {
            Ok(SeenRequest::unchecked(request.clone()))
        }
    }
}

/// A presignature store shared by a party's sessions (in memory, or durable: see
/// `mpc-node`).
pub type SharedStore<S> = Arc<Mutex<dyn PresignatureStore<S>>>;

/// A key share a party serves, with the presignature pool of a presigning engine's key.
pub enum HeldKey {
    /// CGGMP21 (ECDSA), with an optional presignature pool.
    Cggmp21 {
        /// The share.
        share: Cggmp21Share,
        /// Pool for presigning requests; without it, only full signing is served.
        pool: Option<SharedStore<Cggmp21>>,
    },
    /// GG20 (ECDSA keys from GG18/GG20 deployments), with an optional presignature pool.
    /// Signs only with signer sets the share is certified for (`Gg20::certify`).
    Gg20 {
        /// The share.
        share: Gg20Share,
        /// Pool for presigning requests; without it, only full signing is served.
        pool: Option<SharedStore<Gg20>>,
    },
    /// FROST Ed25519.
    FrostEd25519(KeyShare<<FrostEd25519 as ThresholdScheme>::Data>),
    /// FROST secp256k1 / BIP-340 with the Taproot tweak.
    FrostTaproot(KeyShare<<FrostTaproot as ThresholdScheme>::Data>),
}

impl core::fmt::Debug for HeldKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HeldKey")
            .field("key", &self.key_ref())
            .finish_non_exhaustive()
    }
}

impl HeldKey {
    /// Parties of the key (its committee's size).
    pub fn parties(&self) -> u16 {
        match self {
            HeldKey::Cggmp21 { share, .. } => share.parties(),
            HeldKey::Gg20 { share, .. } => share.parties(),
            HeldKey::FrostEd25519(s) => s.parties(),
            HeldKey::FrostTaproot(s) => s.parties(),
        }
    }

    /// How the coordinator names this key.
    pub fn key_ref(&self) -> KeyRef {
        let (scheme, public_key, epoch) = match self {
            HeldKey::Cggmp21 { share, .. } => (share.scheme(), share.public_key(), share.epoch()),
            HeldKey::Gg20 { share, .. } => (share.scheme(), share.public_key(), share.epoch()),
            HeldKey::FrostEd25519(s) => (s.scheme(), s.public_key(), s.epoch()),
            HeldKey::FrostTaproot(s) => (s.scheme(), s.public_key(), s.epoch()),
        };
        KeyRef {
            scheme,
            public_key,
            epoch,
        }
    }
}

/// Limits of a party's sessions.
#[derive(Debug, Clone)]
pub struct PartyOptions {
    /// Upper bound on the per-round timeout a coordinator may ask for.
    pub max_round_timeout: Duration,
    /// Upper bound on the per-round timeout of a key ceremony (a peer may still be making
    /// its Paillier primes).
    pub max_ceremony_round_timeout: Duration,
    /// Bound on a whole session.
    pub run_timeout: Duration,
    /// Largest control frame.
    pub max_frame: usize,
    /// Bound on a TLS handshake.
    pub handshake_timeout: Duration,
    /// Control-channel TLS handshakes run at once at most.
    pub max_handshakes: usize,
    /// Requests handled at once at most (all control connections together); each holds at
    /// most one protocol session open on the mesh, which bounds the memory peers can make
    /// this party keep (`mpc_transport::tcp`).
    pub max_requests: usize,
    /// Simulated one-way delay on every control response (zero in production).
    pub delay: Duration,
}

impl Default for PartyOptions {
    fn default() -> Self {
        PartyOptions {
            max_round_timeout: Duration::from_secs(60),
            max_ceremony_round_timeout: Duration::from_secs(600),
            run_timeout: Duration::from_secs(600),
            max_frame: 4 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(5),
            max_handshakes: 16,
            max_requests: 64,
            delay: Duration::ZERO,
        }
    }
}

/// A party: its node on the party mesh, the keys it holds and its policy.
pub struct Party {
    node: Arc<dyn MeshNode>,
    keys: std::sync::RwLock<Keys>,
    vault: Option<Arc<dyn KeyVault>>,
    policy: Arc<dyn RequestPolicy>,
    opts: PartyOptions,
    seen: Mutex<SeenSessions>,
    journal: Option<Arc<dyn SessionJournal>>,
    /// The newest resharing session of each key id this party joined: a run that finishes
    /// after a newer one started stores nothing (see `reshare.rs`).
    resharing: Arc<Mutex<std::collections::HashMap<String, SessionId>>>,
    /// Sessions opened before their run starts (see [`Party::open_early`]).
    opened: Mutex<std::collections::HashMap<SessionId, MeshSession>>,
    /// Requests in progress ([`PartyOptions::max_requests`]).
    requests: Arc<tokio::sync::Semaphore>,
}

impl core::fmt::Debug for Party {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Party")
            .field("me", &self.node.me())
            .field(
                "keys",
                &self.keys.read().map(|k| k.active.len()).unwrap_or(0),
            )
            .finish_non_exhaustive()
    }
}

fn failure(kind: FailureKind, blame: Vec<PartyIndex>, message: impl ToString) -> Failure {
    Failure {
        kind,
        blame,
        message: message.to_string(),
    }
}

fn bad(message: impl ToString) -> Failure {
    failure(FailureKind::BadRequest, Vec::new(), message)
}

impl Party {
    /// A party serving `keys` with `node`, deciding with `policy`.
    pub fn new(
        node: Arc<dyn MeshNode>,
        keys: Vec<HeldKey>,
        policy: Arc<dyn RequestPolicy>,
        opts: PartyOptions,
    ) -> Self {
        Party {
            node,
            keys: std::sync::RwLock::new(Keys {
                active: keys
                    .into_iter()
                    .map(|k| ActiveKey {
                        id: None,
                        committee: crate::committee::whole_deployment(k.parties()).into(),
                        held: Arc::new(k),
                    })
                    .collect(),
                pending: std::collections::BTreeMap::new(),
            }),
            vault: None,
            policy,
            seen: Mutex::new(SeenSessions::default()),
            journal: None,
            resharing: Arc::default(),
            opened: Mutex::default(),
            requests: Arc::new(tokio::sync::Semaphore::new(opts.max_requests.max(1))),
            opts,
        }
    }

    /// Lets the party run key ceremonies, keeping new shares in `vault`; `active` are the
    /// keys the vault holds already (by key id and epoch), served from the start.
    pub fn with_vault(mut self, vault: Arc<dyn KeyVault>, active: Vec<StoredKey>) -> Self {
        if let Ok(keys) = self.keys.get_mut() {
            keys.active.extend(active.into_iter().map(ActiveKey::from));
        }
        self.vault = Some(vault);
        self
    }

    /// Keeps the session ids this party joins in `journal` and refuses the ones it holds
    /// already, so a session cannot be replayed after a restart either.
    ///
    /// # Errors
    /// The journal cannot be read.
    pub fn with_session_journal(
        mut self,
        journal: Arc<dyn SessionJournal>,
    ) -> Result<Self, String> {
        self.seen = Mutex::new(SeenSessions::from_journal(journal.load()?));
        self.journal = Some(journal);
        Ok(self)
    }

    /// Keys stored but not yet activated (read from the vault at start, so a restarted
    /// party still answers "pending" for them, and still activates them when asked).
    pub fn with_pending(self, pending: Vec<(String, KeyRef)>) -> Self {
        if let Ok(mut keys) = self.keys.write() {
            keys.pending.extend(pending);
        }
        self
    }

    /// This party's index.
    pub fn me(&self) -> PartyIndex {
        self.node.me()
    }

    /// Serves the coordinator on `listener` until the task is dropped. Connections whose
    /// certificate is not the coordinator's are refused.
    ///
    /// # Errors
    /// [`TransportError::Tls`] for an unusable identity.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        identity: &crate::tls::TlsIdentity,
    ) -> Result<(), TransportError> {
        serve::serve(self, listener, identity).await
    }

    /// Handles one request (what [`Party::serve`] does for each frame).
    pub async fn handle(&self, request: Request) -> Response {
        self.handle_from(None, request).await
    }

    /// Handles one request from the coordinator named `from` (its certificate name).
    pub async fn handle_from(&self, from: Option<String>, request: Request) -> Response {
        let out = match request {
            Request::Ping => Ok(Response::Pong { party: self.me() }),
            Request::Sign {
                session,
                key,
                signers,
                requests,
                round_timeout_ms,
            } => {
                let ctx = RequestContext {
                    session: Some(session),
                    coordinator: from,
                    presigned: false,
                };
                self.sign(&ctx, session, &key, signers, &requests, round_timeout_ms)
                    .await
            }
            Request::Presign {
                session,
                key,
                signers,
                path,
                round_timeout_ms,
            } => {
                self.presign(session, &key, signers, path, round_timeout_ms)
                    .await
            }
            Request::PartialSign {
                key,
                presignature,
                request,
            } => {
                let ctx = RequestContext {
                    session: Some(SessionId(presignature)),
                    coordinator: from,
                    presigned: true,
                };
                self.partial(&ctx, &key, presignature, &request).await
            }
            Request::Pool { key } => self.pool_entries(&key),
            Request::Keygen {
                session,
                scheme,
                key_id,
                t,
                n,
                round_timeout_ms,
            } => {
                self.keygen(session, scheme, &key_id, t, n, round_timeout_ms)
                    .await
            }
            Request::Activate {
                key_id,
                epoch,
                stored_hash,
            } => self.activate(&key_id, epoch, stored_hash).await,
            Request::ReshareSetup {
                key,
                dealers,
                new_committee,
                new_threshold,
            } => self.reshare_setup(&key, &dealers, &new_committee, new_threshold),
            Request::Reshare {
                session,
                key_id,
                key,
                target,
                setup,
                round_timeout_ms,
            } => {
                self.reshare(session, &key_id, &key, target, setup, round_timeout_ms)
                    .await
            }
            Request::Retire {
                key_id,
                epoch,
                pending_only,
            } => self.retire(&key_id, epoch, pending_only).await,
            Request::PreparePrimes => self.prepare_primes().await,
            Request::Import {
                session,
                scheme,
                key_id,
                file,
                n,
                round_timeout_ms,
            } => {
                self.import(session, scheme, &key_id, &file, n, round_timeout_ms)
                    .await
            }
        };
        out.unwrap_or_else(Response::Failed)
    }

    fn key(&self, key: &KeyRef) -> Result<ActiveKey, Failure> {
        let keys = self
            .keys
            .read()
            .map_err(|_| failure(FailureKind::Internal, Vec::new(), "key lock poisoned"))?;
        if let Some(k) = keys.active.iter().find(|k| k.held.key_ref() == *key) {
            return Ok(k.clone());
        }
        let same_key = |k: &KeyRef| k.scheme == key.scheme && k.public_key == key.public_key;
        if let Some(k) = keys.active.iter().find(|k| same_key(&k.held.key_ref())) {
            return Err(bad(format!(
                "party {} holds epoch {} of this key, the request is for epoch {}: shares of \
                 two epochs never sign together",
                self.me(),
                k.held.key_ref().epoch,
                key.epoch
            )));
        }
        if let Some(id) = keys
            .pending
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(id, _)| id)
        {
            return Err(bad(format!(
                "key {id} is pending: not every party has stored its share yet, so it does not sign"
            )));
        }
        Err(bad(format!("no share of key {:?}", key.public_key)))
    }

    fn no_pool() -> Failure {
        bad("this key has no presignature pool here")
    }

    /// Runs the policy on every request, off the async workers (a policy may decode and
    /// check whole transactions, or wait for an approval).
    async fn approve_all(
        &self,
        ctx: &RequestContext,
        key: &KeyRef,
        requests: &[SignRequest],
    ) -> Result<Vec<SeenRequest>, Failure> {
        let (policy, key, requests) = (self.policy.clone(), key.clone(), requests.to_vec());
        let ctx = ctx.clone();
        blocking(move || {
            requests
                .iter()
                .map(|r| {
                    policy
                        .approve_in(&ctx, &key, r)
                        .map_err(|why| failure(FailureKind::Refused, Vec::new(), why))
                })
                .collect()
        })
        .await
    }

    pub(super) fn ceremony_drive_options(&self, round_timeout_ms: u64) -> DriveOptions {
        DriveOptions {
            round_timeout: Duration::from_millis(round_timeout_ms)
                .min(self.opts.max_ceremony_round_timeout),
            run_timeout: self.opts.run_timeout,
        }
    }

    fn drive_options(&self, round_timeout_ms: u64) -> DriveOptions {
        DriveOptions {
            round_timeout: Duration::from_millis(round_timeout_ms).min(self.opts.max_round_timeout),
            run_timeout: self.opts.run_timeout,
        }
    }

    async fn sign(
        &self,
        ctx: &RequestContext,
        session: SessionId,
        key: &KeyRef,
        signers: Vec<PartyIndex>,
        requests: &[SignRequest],
        round_timeout_ms: u64,
    ) -> Result<Response, Failure> {
        if requests.is_empty() {
            return Err(bad("nothing to sign"));
        }
        let approved: Vec<SignRequest> = self
            .approve_all(ctx, key, requests)
            .await?
            .into_iter()
            .map(SeenRequest::into_request)
            .collect();
        let opts = self.drive_options(round_timeout_ms);
        let k = self.key(key)?;
        let signers = k.share_indices(&signers)?;
        let route = Route::Committee(k.committee.to_vec());
        let (signatures, signing_keys, report) = match &*k.held {
            HeldKey::Cggmp21 { share, .. } => {
                self.sign_with::<Cggmp21>(share, session, signers, route, approved, opts)
                    .await?
            }
            HeldKey::Gg20 { share, .. } => {
                self.sign_with::<Gg20>(share, session, signers, route, approved, opts)
                    .await?
            }
            HeldKey::FrostEd25519(share) => {
                self.sign_with::<FrostEd25519>(share, session, signers, route, approved, opts)
                    .await?
            }
            HeldKey::FrostTaproot(share) => {
                self.sign_with::<FrostTaproot>(share, session, signers, route, approved, opts)
                    .await?
            }
        };
        Ok(Response::Signed {
            signatures,
            signing_keys,
            run: timings(&report),
        })
    }

    async fn sign_with<S>(
        &self,
        share: &KeyShare<S::Data>,
        session: SessionId,
        signers: Vec<PartyIndex>,
        route: Route,
        requests: Vec<SignRequest>,
        opts: DriveOptions,
    ) -> Result<(Vec<Signature>, Vec<PublicKey>, DriveReport), Failure>
    where
        S: ThresholdScheme + 'static,
        KeyShare<S::Data>: Send + Sync + 'static,
    {
        let keys = requests
            .iter()
            .map(|r| S::signing_key(share, r.derivation_path.as_deref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        let share = share.clone();
        let (sigs, report) = self
            .run(S::ID, session, signers, route, opts, move |ctx| {
                if let [one] = requests.as_slice() {
                    let run = S::sign(&ctx, &share, one)?;
                    Ok(Box::new(Single(run)) as BoxedProtocol<Vec<Signature>>)
                } else {
                    S::sign_batch(&ctx, &share, &requests)
                }
            })
            .await?;
        Ok((sigs, keys, report))
    }

    async fn presign(
        &self,
        session: SessionId,
        key: &KeyRef,
        signers: Vec<PartyIndex>,
        path: Option<Vec<u32>>,
        round_timeout_ms: u64,
    ) -> Result<Response, Failure> {
        let opts = self.drive_options(round_timeout_ms);
        let k = self.key(key)?;
        let signers = k.share_indices(&signers)?;
        let route = Route::Committee(k.committee.to_vec());
        match &*k.held {
            HeldKey::Cggmp21 {
                share,
                pool: Some(pool),
            } => {
                self.presign_with::<Cggmp21>(share, pool, session, (signers, route), path, opts)
                    .await
            }
            HeldKey::Gg20 {
                share,
                pool: Some(pool),
            } => {
                self.presign_with::<Gg20>(share, pool, session, (signers, route), path, opts)
                    .await
            }
            _ => Err(Self::no_pool()),
        }
    }

    async fn presign_with<S>(
        &self,
        share: &KeyShare<S::Data>,
        pool: &SharedStore<S>,
        session: SessionId,
        (signers, route): (Vec<PartyIndex>, Route),
        path: Option<Vec<u32>>,
        opts: DriveOptions,
    ) -> Result<Response, Failure>
    where
        S: Presigning + 'static,
        KeyShare<S::Data>: Send + Sync + 'static,
    {
        use mpc_core::StoredPresignature;
        let share = share.clone();
        let (presig, report) = self
            .run(S::ID, session, signers, route, opts, move |ctx| {
                S::presign(&ctx, &share, path.as_deref())
            })
            .await?;
        let pool = pool.clone();
        let signing_key = presig.signing_key();
        let id = blocking(move || Ok(lock(&pool)?.insert(presig)?)).await?;
        Ok(Response::Presigned {
            id,
            signing_key,
            run: timings(&report),
        })
    }

    async fn partial(
        &self,
        ctx: &RequestContext,
        key: &KeyRef,
        id: [u8; 32],
        request: &SignRequest,
    ) -> Result<Response, Failure> {
        let k = self.key(key)?;
        let approved = self
            .approve_all(ctx, key, std::slice::from_ref(request))
            .await?
            .pop()
            .ok_or_else(|| bad("nothing to sign"))?;
        match &*k.held {
            HeldKey::Cggmp21 {
                share,
                pool: Some(pool),
            } => partial_with::<Cggmp21>(share, pool, id, approved).await,
            HeldKey::Gg20 {
                share,
                pool: Some(pool),
            } => partial_with::<Gg20>(share, pool, id, approved).await,
            _ => Err(Self::no_pool()),
        }
    }

    fn pool_entries(&self, key: &KeyRef) -> Result<Response, Failure> {
        let k = self.key(key)?;
        let entries = match &*k.held {
            HeldKey::Cggmp21 {
                share,
                pool: Some(pool),
            } => entries_of::<Cggmp21>(share, pool, &k.committee)?,
            HeldKey::Gg20 {
                share,
                pool: Some(pool),
            } => entries_of::<Gg20>(share, pool, &k.committee)?,
            _ => Vec::new(),
        };
        Ok(Response::Pool { entries })
    }

    /// Opens session `session` of `scheme` on the mesh among the deployment parties
    /// `members` (refusing a session id seen before). The router drops frames from anyone
    /// else and frames over the scheme's largest honest message (`mpc_core::limits`).
    fn open_session(
        &self,
        session: SessionId,
        scheme: SchemeId,
        members: Vec<PartyIndex>,
    ) -> Result<MeshSession, Failure> {
        {
            let mut seen = lock(&self.seen)?;
            if seen.contains(&session) {
                return Err(bad("session id already used here"));
            }
            // On record before the session exists; an id that cannot be recorded is refused.
            if let Some(journal) = &self.journal {
                journal.record(session).map_err(|e| {
                    failure(
                        FailureKind::Internal,
                        Vec::new(),
                        format!("session journal: {e}"),
                    )
                })?;
            }
            seen.remember(session);
        }
        let parties = u16::try_from(members.len()).unwrap_or(u16::MAX);
        let limits = crate::mesh::SessionLimits {
            members: Some(members),
            max_frame: mpc_core::limits::largest_payload(scheme, parties)
                .saturating_add(crate::envelope::HEADER_LEN),
        };
        self.node.open_session_with(session, limits).map_err(bad)
    }

    /// Opens session `session` now, before this party is ready to run it (it is still
    /// making its Paillier primes, say), so the frames of parties that start earlier wait
    /// in the session instead of being dropped; the run takes it over.
    fn open_early(
        &self,
        session: SessionId,
        scheme: SchemeId,
        members: Vec<PartyIndex>,
    ) -> Result<(), Failure> {
        let t = self.open_session(session, scheme, members)?;
        lock(&self.opened)?.insert(session, t);
        Ok(())
    }

    /// Closes a session opened early whose run will not start.
    fn close_early(&self, session: SessionId) {
        if let Ok(mut opened) = self.opened.lock() {
            opened.remove(&session);
        }
    }

    /// [`Party::run`] among deployment parties (key generation, import).
    async fn run_deployment<O, F>(
        &self,
        scheme: SchemeId,
        session: SessionId,
        parties: Vec<PartyIndex>,
        opts: DriveOptions,
        make: F,
    ) -> Result<(O, DriveReport), Failure>
    where
        O: Send + 'static,
        F: FnOnce(SessionCtx) -> mpc_core::Result<BoxedProtocol<O>> + Send + 'static,
    {
        self.run(scheme, session, parties, Route::Deployment, opts, make)
            .await
    }

    /// Runs one protocol session on the mesh: `signers` are share indices of the key whose
    /// committee `route` names, or deployment parties ([`Route::Deployment`], a resharing
    /// run). Protocol runs are not `Send`, so the run is built and driven on a blocking-pool
    /// thread. Parties a failure blames are deployment parties.
    async fn run<O, F>(
        &self,
        scheme: SchemeId,
        session: SessionId,
        signers: Vec<PartyIndex>,
        route: Route,
        opts: DriveOptions,
        make: F,
    ) -> Result<(O, DriveReport), Failure>
    where
        O: Send + 'static,
        F: FnOnce(SessionCtx) -> mpc_core::Result<BoxedProtocol<O>> + Send + 'static,
    {
        let me = match &route {
            Route::Deployment => self.me(),
            Route::Committee(c) => crate::committee::share_index(c, self.me())
                .ok_or_else(|| bad("this party is not in the key's committee"))?,
        };
        let ctx = SessionCtx::new(session, scheme, me, &signers).map_err(bad)?;
        let members = match &route {
            Route::Deployment => signers.clone(),
            Route::Committee(c) => crate::committee::parties_of(c, &signers),
        };
        let early = lock(&self.opened)?.remove(&session);
        let transport = match early {
            Some(t) => t,
            None => self.open_session(session, scheme, members)?,
        };
        let span = tracing::info_span!("party.session", party = self.me(), scheme = %scheme, session = ?session);
        let handle = tokio::runtime::Handle::current();
        let committee = match &route {
            Route::Deployment => None,
            Route::Committee(c) => Some(c.clone()),
        };
        let joined = tokio::task::spawn_blocking(move || {
            let _guard = span.enter();
            let run = make(ctx).map_err(|e| Err(bad(e)))?;
            match route {
                Route::Deployment => {
                    let mut t = transport;
                    handle.block_on(drive(run, &mut t, &opts)).map_err(Ok)
                }
                Route::Committee(c) => {
                    let mut t = crate::committee::CommitteeTransport::new(transport, c)
                        .map_err(|e| Err(bad(e)))?;
                    handle.block_on(drive(run, &mut t, &opts)).map_err(Ok)
                }
            }
        })
        .await;
        let in_deployment = |mut f: Failure| {
            if let Some(c) = &committee {
                f.blame = crate::committee::parties_of(c, &f.blame);
            }
            f
        };
        match joined {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(Err(f))) => Err(f),
            Ok(Err(Ok(e))) => Err(in_deployment(from_transport(e))),
            Err(e) => Err(failure(FailureKind::Internal, Vec::new(), e)),
        }
    }
}

/// Issues the partial signature of pooled presignature `id` for the request the party
/// approved.
async fn partial_with<S>(
    share: &KeyShare<S::Data>,
    pool: &SharedStore<S>,
    id: [u8; 32],
    approved: SeenRequest,
) -> Result<Response, Failure>
where
    S: Presigning + 'static,
    S::PartialSignature: Into<PartialSignature> + Send,
{
    let path = approved.request().derivation_path.clone();
    let signing_key = S::signing_key(share, path.as_deref()).map_err(bad)?;
    let pool = pool.clone();
    // The pool marks the id consumed (a durable pool: on disk, flushed) before the partial
    // signature exists; that runs off the async workers.
    let partial =
        blocking(move || Ok(lock(&pool)?.partial_sign(&id, &signing_key, &approved)?)).await?;
    Ok(Response::Partial {
        partial: partial.into(),
        signing_key,
    })
}

/// The ready presignatures of a pool that sign for this share, their signers named as
/// deployment parties.
fn entries_of<S: Presigning>(
    share: &KeyShare<S::Data>,
    pool: &SharedStore<S>,
    committee: &[PartyIndex],
) -> Result<Vec<PooledPresignature>, Failure> {
    Ok(lock(pool)?
        .entries()
        .into_iter()
        .filter(|e| S::signing_key(share, e.path.as_deref()).is_ok_and(|k| k == e.signing_key))
        .map(|e| PooledPresignature {
            id: e.id,
            signers: crate::committee::parties_of(committee, &e.signers),
            path: e.path,
            signing_key: e.signing_key,
        })
        .collect())
}

/// How a run's party indices reach the mesh.
enum Route {
    /// Share indices of a key with this committee.
    Committee(Vec<PartyIndex>),
    /// Deployment parties (resharing runs, whose setup names deployment parties).
    Deployment,
}

/// A single run presented as a batch of one.
struct Single(BoxedProtocol<Signature>);

impl mpc_core::Protocol for Single {
    type Output = Vec<Signature>;
    fn ctx(&self) -> &SessionCtx {
        self.0.ctx()
    }
    fn proceed(&mut self) -> mpc_core::Result<mpc_core::Step<Vec<Signature>>> {
        Ok(match self.0.proceed()? {
            mpc_core::Step::Send(m) => mpc_core::Step::Send(m),
            mpc_core::Step::NeedMessage => mpc_core::Step::NeedMessage,
            mpc_core::Step::Done(s) => mpc_core::Step::Done(vec![s]),
        })
    }
    fn receive(&mut self, msg: mpc_core::Message) -> mpc_core::Result<()> {
        self.0.receive(msg)
    }
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, Failure> {
    m.lock()
        .map_err(|_| failure(FailureKind::Internal, Vec::new(), "pool lock poisoned"))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| failure(FailureKind::Internal, Vec::new(), e))?
}

impl From<mpc_core::Error> for Failure {
    fn from(e: mpc_core::Error) -> Self {
        use mpc_core::Error as E;
        let kind = match &e {
            E::PresignatureUsed(_) | E::PresignatureMismatch(_) => FailureKind::Presignature,
            E::UnseenDigest => FailureKind::Interactive,
            E::Storage(_) => FailureKind::Internal,
            _ => FailureKind::BadRequest,
        };
        failure(kind, Vec::new(), e)
    }
}

fn from_transport(e: TransportError) -> Failure {
    match e {
        TransportError::Timeout {
            ref waiting_for, ..
        } => failure(FailureKind::Timeout, waiting_for.clone(), &e),
        TransportError::Core(mpc_core::Error::Aborted { ref culprits, .. })
        | TransportError::Core(mpc_core::Error::InvalidSignature { ref culprits }) => {
            failure(FailureKind::Aborted, culprits.clone(), &e)
        }
        other => failure(FailureKind::Internal, Vec::new(), other),
    }
}

fn timings(r: &DriveReport) -> RunTimings {
    let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    RunTimings {
        elapsed_us: us(r.elapsed),
        arrivals: r
            .arrivals
            .iter()
            .map(|a| (a.round, a.from, us(a.at)))
            .collect(),
        rejected: r.rejected_total,
    }
}

//! Parties over a NATS broker: every party connects out to the broker and nothing connects
//! to a party, so parties can sit in enclaves and sites that accept no inbound connection.
//!
//! The broker is not trusted ([`seal`] says how): each party publishes a signed sealing card
//! in a JetStream key-value bucket, and every frame travels as an envelope signed by its
//! sender's identity key and encrypted to its receiver. A [`NatsNode`] runs the same
//! [`Mesh`] as a [`crate::TcpNode`] (caps, budgets, early-frame buffer, sessions); a frame
//! reaches the mesh only once its envelope opened, and its sender is the party whose card
//! opened it.
//!
//! - Party `i` receives on the subject `<prefix>.party.<i>`; its card is the key `party-<i>`
//!   of the bucket [`NatsOptions::cards_bucket`]. [`NatsOptions::for_deployment`] names both
//!   after the domain and the CA certificate, so deployments sharing a broker stay apart.
//! - An envelope is refused (counted in [`NatsNode::rejected`], naming the sender it claims)
//!   when it is larger than the cap, malformed, addressed to another party or to an older
//!   card of this one, from a card that is not the sender's newest, badly signed, replayed
//!   or older than the replay window, or when it does not decrypt.
//! - A frame for a peer whose card is not known yet waits in that peer's queue until the
//!   card is read (backpressure, as for a TCP peer not connected yet). A restarted peer has
//!   a new card; the watch on the bucket brings it.
//! - A frame travels as one broker message: the mesh's frame cap is at most the broker's
//!   `max_payload` less the seal (a GG20 key ceremony's largest message is under 1 MiB,
//!   the broker's default).
//! - The broker may drop envelopes (a broker restart does): the protocol's round timeout
//!   and the coordinator's retry cover it, as for a broken TCP connection.

pub mod seal;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_nats::jetstream;
use futures_util::StreamExt as _;
use mpc_core::PartyIndex;
use tokio::task::AbortHandle;

use crate::error::TransportError;
use crate::mesh::{Mesh, MeshLimits, MeshNode, MeshSession};
use crate::tls::TlsIdentity;
use seal::{LocalSeal, PeerCard, ReplayWindow, SealedHead, SEAL_OVERHEAD};

/// The [`crate::Transport`] of one session on a [`NatsNode`].
pub type NatsSession = MeshSession;

/// Settings of a [`NatsNode`].
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// Caps, budgets and queue depths of the party's mesh.
    pub limits: MeshLimits,
    /// First token(s) of every subject of the deployment (`<prefix>.party.<i>`).
    pub subject_prefix: String,
    /// The key-value bucket of the parties' sealing cards.
    pub cards_bucket: String,
    /// First and largest wait between two reads of a card not published yet.
    pub card_retry: (Duration, Duration),
    /// Simulated one-way delay added to every frame sent (zero in production), as
    /// [`crate::TcpOptions::delay`].
    pub delay: Duration,
}

impl NatsOptions {
    /// The default settings for the deployment of `identity`: its namespace on the broker
    /// is its domain and the first 8 bytes of SHA-256 of its CA certificate, so two
    /// deployments on one broker never share a subject or a bucket, whatever their domains.
    /// Subjects are `mpc.<domain>.<ca>.…` and the bucket `mpc-cards-<domain>-<ca>`, with
    /// every character of the domain other than ASCII letters, digits, `-` and `_`
    /// replaced by `-`.
    pub fn for_deployment(identity: &TlsIdentity) -> Self {
        use sha2::Digest as _;
        let token: String = identity
            .domain
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let ca = sha2::Sha256::digest(identity.ca.as_ref());
        let ca = hex::encode(ca.get(..8).unwrap_or_default());
        NatsOptions {
            limits: MeshLimits::default(),
            subject_prefix: format!("mpc.{token}.{ca}"),
            cards_bucket: format!("mpc-cards-{token}-{ca}"),
            card_retry: (Duration::from_millis(20), Duration::from_secs(1)),
            delay: Duration::ZERO,
        }
    }

    fn subject(&self, party: PartyIndex) -> String {
        format!("{}.party.{party}", self.subject_prefix)
    }
}

/// A party's end of a deployment over a NATS broker. Dropping it stops its tasks (the
/// client connection stays the caller's).
pub struct NatsNode {
    inner: Arc<Inner>,
    tasks: Vec<AbortHandle>,
}

impl core::fmt::Debug for NatsNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NatsNode")
            .field("me", &self.inner.mesh.me)
            .field("n", &self.inner.mesh.n)
            .finish()
    }
}

struct Inner {
    mesh: Arc<Mesh>,
    opts: NatsOptions,
    client: async_nats::Client,
    cards: jetstream::kv::Store,
    seal: LocalSeal,
    /// The newest card accepted from each peer.
    peers: RwLock<HashMap<PartyIndex, Arc<PeerCard>>>,
}

impl NatsNode {
    /// Starts party `me` of `n` on `client`: publishes a fresh sealing card, subscribes to
    /// its subject and starts a sender per peer. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`TransportError::Broker`] when the broker refuses the bucket, the card or the
    /// subscription; [`TransportError::Tls`] for an unusable identity;
    /// [`TransportError::UnknownParty`] when `me >= n`.
    pub async fn start(
        me: PartyIndex,
        n: u16,
        client: async_nats::Client,
        identity: &TlsIdentity,
        opts: NatsOptions,
    ) -> Result<Self, TransportError> {
        // A frame must fit in one broker message with its seal: past the broker's
        // `max_payload` (1 MiB by default) the mesh refuses it when it is sent.
        let mut limits = opts.limits.clone();
        let broker_max = client.server_info().max_payload;
        limits.max_frame = limits
            .max_frame
            .min(broker_max.saturating_sub(SEAL_OVERHEAD));
        let mesh = Arc::new(Mesh::new(me, n, limits)?);
        let seal = LocalSeal::new(me, identity)?;
        let js = jetstream::new(client.clone());
        let broker = |e: &dyn core::fmt::Display| TransportError::Broker(e.to_string());
        // The bucket's stream is made directly, by the key-value conventions (one value
        // per key, rollups, no deletes, direct gets): the client's own `create_key_value`
        // asks for account details that brokers before 2.10 do not send.
        let bucket = &opts.cards_bucket;
        js.get_or_create_stream(jetstream::stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            max_message_size: i32::try_from(seal::MAX_CARD).unwrap_or(i32::MAX),
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: jetstream::stream::DiscardPolicy::New,
            num_replicas: 1,
            ..Default::default()
        })
        .await
        .map_err(|e| broker(&e))?;
        let cards = js
            .get_key_value(bucket.as_str())
            .await
            .map_err(|e| broker(&e))?;
        let subscription = client
            .subscribe(opts.subject(me))
            .await
            .map_err(|e| broker(&e))?;
        cards
            .put(card_key(me), seal.card.clone().into())
            .await
            .map_err(|e| broker(&e))?;
        let inner = Arc::new(Inner {
            mesh,
            opts,
            client,
            cards,
            seal,
            peers: RwLock::new(HashMap::new()),
        });
        let mut tasks = vec![
            tokio::spawn(receive(inner.clone(), subscription)).abort_handle(),
            tokio::spawn(watch_cards(inner.clone())).abort_handle(),
        ];
        for p in (0..n).filter(|&p| p != me) {
            tasks.push(tokio::spawn(send_to(inner.clone(), p)).abort_handle());
        }
        Ok(NatsNode { inner, tasks })
    }

    /// Whether the node's client is connected to the broker now (it reconnects by itself
    /// after a broker restart).
    pub fn broker_connected(&self) -> bool {
        self.inner.client.connection_state() == async_nats::connection::State::Connected
    }
}

impl MeshNode for NatsNode {
    fn mesh(&self) -> &Arc<Mesh> {
        &self.inner.mesh
    }

    /// Peers whose sealing card this node holds.
    fn connected(&self) -> Vec<PartyIndex> {
        let mut v: Vec<_> = self.inner.peers().keys().copied().collect();
        v.sort_unstable();
        v
    }
}

impl Drop for NatsNode {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn card_key(party: PartyIndex) -> String {
    format!("party-{party}")
}

impl Inner {
    fn peers(&self) -> std::sync::RwLockReadGuard<'_, HashMap<PartyIndex, Arc<PeerCard>>> {
        self.peers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn peer(&self, party: PartyIndex) -> Option<Arc<PeerCard>> {
        self.peers().get(&party).cloned()
    }

    /// Checks `bytes` as `party`'s card and keeps it if it is newer than the one held.
    fn offer_card(&self, party: PartyIndex, bytes: &[u8]) -> Result<Arc<PeerCard>, TransportError> {
        let card = Arc::new(self.seal.accept_card(party, bytes)?);
        let mut peers = self
            .peers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match peers.get(&party) {
            Some(held) if held.fingerprint == card.fingerprint => Ok(held.clone()),
            Some(held) if held.created_ms > card.created_ms => Err(TransportError::Sealed(
                "the broker offered an older card than the one held".into(),
            )),
            _ => {
                peers.insert(party, card.clone());
                Ok(card)
            }
        }
    }

    /// Reads `party`'s card from the bucket now.
    async fn fetch_card(&self, party: PartyIndex) -> Result<Option<Arc<PeerCard>>, TransportError> {
        let bytes = self
            .cards
            .get(card_key(party))
            .await
            .map_err(|e| TransportError::Broker(e.to_string()))?;
        bytes.map(|b| self.offer_card(party, &b)).transpose()
    }
}

/// Keeps the peers' cards current from the bucket (a restarted peer has a new one). The
/// watch is made again when the broker ends it (a broker restart does).
async fn watch_cards(inner: Arc<Inner>) {
    let (min, max) = inner.opts.card_retry;
    let mut wait = min;
    loop {
        match inner.cards.watch_with_history(">").await {
            Ok(mut watch) => {
                wait = min;
                while let Some(entry) = watch.next().await {
                    let Ok(entry) = entry else { break };
                    offer_entry(&inner, &entry.key, &entry.value);
                }
            }
            Err(e) => tracing::debug!(error = %e, "watch on the cards not made"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(max);
    }
}

fn offer_entry(inner: &Inner, key: &str, value: &[u8]) {
    let Some(party) = key
        .strip_prefix("party-")
        .and_then(|p| p.parse::<PartyIndex>().ok())
    else {
        return;
    };
    if party == inner.mesh.me || party >= inner.mesh.n {
        return;
    }
    if let Err(e) = inner.offer_card(party, value) {
        tracing::warn!(party, error = %e, "sealing card refused");
    }
}

/// Seals and publishes the frames queued for `peer`, once its card is known.
async fn send_to(inner: Arc<Inner>, peer: PartyIndex) {
    let Some(queue) = inner.mesh.outbound(peer) else {
        return;
    };
    let mut rx = queue.lock().await;
    let subject = inner.opts.subject(peer);
    // Envelopes sent under each card of the peer (a new card starts again at 1).
    let mut seq: (seal::Fingerprint, u64) = ([0; 32], 0);
    while let Some((queued, frame)) = rx.recv().await {
        let card = wait_for_card(&inner, peer).await;
        if !inner.opts.delay.is_zero() {
            tokio::time::sleep_until(queued + inner.opts.delay).await;
        }
        if seq.0 != card.fingerprint {
            seq = (card.fingerprint, 0);
        }
        seq.1 = seq.1.saturating_add(1);
        let sealed = match inner.seal.seal(peer, &card, seq.1, &frame) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(peer, error = %e, "frame not sealed");
                continue;
            }
        };
        if let Err(e) = inner.client.publish(subject.clone(), sealed.into()).await {
            tracing::debug!(peer, error = %e, "publish failed");
        }
    }
}

async fn wait_for_card(inner: &Inner, peer: PartyIndex) -> Arc<PeerCard> {
    let (min, max) = inner.opts.card_retry;
    let mut wait = min;
    loop {
        if let Some(card) = inner.peer(peer) {
            return card;
        }
        match inner.fetch_card(peer).await {
            Ok(Some(card)) => return card,
            Ok(None) => {}
            Err(e) => tracing::debug!(peer, error = %e, "card not read"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(max);
    }
}

/// Opens the envelopes addressed to this party and hands their frames to the mesh.
async fn receive(inner: Arc<Inner>, mut subscription: async_nats::Subscriber) {
    let mut windows: HashMap<PartyIndex, (seal::Fingerprint, ReplayWindow)> = HashMap::new();
    let cap = inner.mesh.limits.max_frame.saturating_add(SEAL_OVERHEAD);
    while let Some(msg) = subscription.next().await {
        match open(&inner, &mut windows, &msg.payload, cap).await {
            Ok((from, frame)) => inner.mesh.route(from, frame).await,
            Err((Some(claimed), why)) => inner.mesh.reject(claimed, why),
            Err((None, why)) => inner.mesh.router().reject_unattributed(why),
        }
    }
}

/// Opens one envelope: `(sender, frame)`, or the sender it claims (none when it is too
/// large or too short to name one) and why it is refused.
async fn open(
    inner: &Inner,
    windows: &mut HashMap<PartyIndex, (seal::Fingerprint, ReplayWindow)>,
    bytes: &[u8],
    cap: usize,
) -> Result<(PartyIndex, Vec<u8>), (Option<PartyIndex>, TransportError)> {
    let me = inner.mesh.me;
    if bytes.len() > cap {
        return Err((
            None,
            TransportError::FrameTooLarge {
                size: bytes.len(),
                limit: cap,
            },
        ));
    }
    let head = SealedHead::parse(bytes).map_err(|e| (None, e))?;
    let from = head.from;
    let refuse = |why: String| (Some(from), TransportError::Sealed(why));
    if from == me || from >= inner.mesh.n {
        return Err(refuse(format!("party {from} is not a peer of this party")));
    }
    if head.to != me {
        return Err(refuse(format!("addressed to party {}", head.to)));
    }
    if head.to_card != inner.seal.fingerprint {
        return Err(refuse("sealed to another card of this party".into()));
    }
    let card = match inner.peer(from) {
        Some(c) if c.fingerprint == head.from_card => c,
        _ => match inner.fetch_card(from).await {
            Ok(Some(c)) if c.fingerprint == head.from_card => c,
            Ok(_) | Err(_) => {
                return Err(refuse(
                    "sealed under a card that is not the sender's newest".into(),
                ))
            }
        },
    };
    let window = windows
        .entry(from)
        .or_insert((card.fingerprint, ReplayWindow::default()));
    if window.0 != card.fingerprint {
        *window = (card.fingerprint, ReplayWindow::default());
    }
    window.1.check(head.seq).map_err(|why| refuse(why.into()))?;
    let frame = inner.seal.open(&head, &card).map_err(|e| (Some(from), e))?;
    window.1.mark(head.seq);
    Ok((from, frame))
}

//! Sealed envelopes: what a party puts on the broker, and how a receiver opens it.
//!
//! The broker is not trusted. Every party has a **sealing card**: its certificate chain
//! (issued by the deployment's CA for `party-<i>.<domain>`), a fresh X25519 public key made
//! when the node starts, and the time it was made, signed with the party's TLS identity key.
//! A receiver accepts a card only if the chain verifies against the CA for that party's name
//! and the signature verifies with the certificate's key; it never goes back to an older card
//! of a party than one it has accepted (by the signed creation time: a party whose clock
//! stepped back past its last start is refused until it passes it again).
//!
//! A frame from party `f` to party `t` travels as:
//!
//! ```text
//! | magic "MPCS" | ver u8 | sig scheme u16 | from u16 | to u16 | from card [32] | to card [32]
//! | seq u64 | nonce [24] | ciphertext len u32 | ciphertext | signature len u16 | signature |
//! ```
//!
//! - The ciphertext is XChaCha20-Poly1305 under a key derived with HKDF-SHA256 from
//!   X25519(f's card key, t's card key), both card fingerprints, the domain and the
//!   direction `f -> t`; everything before it is associated data.
//! - The signature, by `f`'s identity key, covers the domain and every byte before it.
//! - `seq` counts the envelopes of one sender card to one receiver; the receiver keeps a
//!   window of the last [`REPLAY_WINDOW`] and refuses any it has opened before, or older.
//!
//! So the broker can delay, drop or reorder envelopes, but not read a payload, forge or
//! alter an envelope, replay one, or hand one to another party than its addressee.

use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use mpc_core::PartyIndex;
use rand_core::{OsRng, RngCore};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::Signer;
use rustls::SignatureScheme;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::TransportError;
use crate::tls::{party_name, TlsIdentity};

const MAGIC: &[u8; 4] = b"MPCS";
const VERSION: u8 = 1;
const CARD_VERSION: u8 = 1;
const CARD_CONTEXT: &[u8] = b"mpc-transport/nats/card/v1\0";
const ENVELOPE_CONTEXT: &[u8] = b"mpc-transport/nats/envelope/v1\0";
const KEY_CONTEXT: &[u8] = b"mpc-transport/nats/key/v1\0";
/// Bytes before the ciphertext.
const HEAD_LEN: usize = 4 + 1 + 2 + 2 + 2 + 32 + 32 + 8 + 24;
/// Largest signature accepted (an RSA-8192 signature is 1024 bytes).
const MAX_SIGNATURE: usize = 1024;
/// Bytes an envelope adds to the frame it carries, at most.
pub const SEAL_OVERHEAD: usize = HEAD_LEN + 4 + 16 + 2 + MAX_SIGNATURE;
/// Largest card accepted from the broker.
pub(crate) const MAX_CARD: usize = 64 * 1024;
/// Envelopes of one sender card a receiver tracks for replays; older ones are refused.
pub const REPLAY_WINDOW: u64 = 128;

/// The signature schemes a party's identity key may sign with, and their verifiers.
const SCHEMES: [SignatureScheme; 4] = [
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ED25519,
    SignatureScheme::RSA_PSS_SHA256,
];

fn verifier_for(
    scheme: SignatureScheme,
) -> Option<&'static dyn rustls::pki_types::SignatureVerificationAlgorithm> {
    Some(match scheme {
        SignatureScheme::ECDSA_NISTP256_SHA256 => webpki::ring::ECDSA_P256_SHA256,
        SignatureScheme::ECDSA_NISTP384_SHA384 => webpki::ring::ECDSA_P384_SHA384,
        SignatureScheme::ED25519 => webpki::ring::ED25519,
        SignatureScheme::RSA_PSS_SHA256 => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        _ => return None,
    })
}

fn refused(why: impl Into<String>) -> TransportError {
    TransportError::Sealed(why.into())
}

/// A card fingerprint: SHA-256 of what the card's signature covers.
pub(crate) type Fingerprint = [u8; 32];

#[derive(Serialize, Deserialize)]
struct CardBody {
    version: u8,
    domain: String,
    party: PartyIndex,
    created_ms: u64,
    /// Hex of the X25519 public key.
    sealing_key: String,
    /// Hex of each DER certificate, end entity first.
    chain: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct SignedCard {
    /// The JSON of a [`CardBody`], exactly as signed.
    body: String,
    scheme: u16,
    /// Hex of the signature over `CARD_CONTEXT || body`.
    signature: String,
}

/// This party's sealing identity: its signer, its card and the X25519 secret behind it.
pub(crate) struct LocalSeal {
    pub(crate) me: PartyIndex,
    pub(crate) domain: String,
    signer: Box<dyn Signer>,
    secret: x25519_dalek::StaticSecret,
    pub(crate) card: Vec<u8>,
    pub(crate) fingerprint: Fingerprint,
    verifier: Arc<dyn ServerCertVerifier>,
}

impl core::fmt::Debug for LocalSeal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalSeal")
            .field("me", &self.me)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A peer's accepted card and the keys of the two directions with it.
pub(crate) struct PeerCard {
    pub(crate) fingerprint: Fingerprint,
    pub(crate) created_ms: u64,
    cert: CertificateDer<'static>,
    /// Key of the envelopes this party sends to the peer.
    send_key: Zeroizing<[u8; 32]>,
    /// Key of the envelopes the peer sends to this party.
    recv_key: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for PeerCard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PeerCard")
            .field("created_ms", &self.created_ms)
            .field("keys", &"<redacted>")
            .finish()
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl LocalSeal {
    /// A fresh sealing key and card for party `me`, signed with its identity key.
    pub(crate) fn new(me: PartyIndex, identity: &TlsIdentity) -> Result<Self, TransportError> {
        let tls = |e: rustls::Error| TransportError::Tls(e.to_string());
        let key = rustls::crypto::ring::sign::any_supported_type(&identity.key).map_err(tls)?;
        let signer = key.choose_scheme(&SCHEMES).ok_or_else(|| {
            TransportError::Tls("the identity key signs with no usable scheme".into())
        })?;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(identity.ca.clone())
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .map_err(|e| TransportError::Tls(e.to_string()))?;
        let secret = x25519_dalek::StaticSecret::random_from_rng(OsRng);
        let public = x25519_dalek::PublicKey::from(&secret);
        let body = CardBody {
            version: CARD_VERSION,
            domain: identity.domain.clone(),
            party: me,
            created_ms: now_ms(),
            sealing_key: hex::encode(public.as_bytes()),
            chain: identity.chain.iter().map(hex::encode).collect(),
        };
        let body = serde_json::to_string(&body).map_err(|e| refused(e.to_string()))?;
        let signed = [CARD_CONTEXT, body.as_bytes()].concat();
        let signature = signer.sign(&signed).map_err(tls)?;
        let card = SignedCard {
            body,
            scheme: u16::from(signer.scheme()),
            signature: hex::encode(&signature),
        };
        let card = serde_json::to_vec(&card).map_err(|e| refused(e.to_string()))?;
        Ok(LocalSeal {
            me,
            domain: identity.domain.clone(),
            signer,
            secret,
            card,
            fingerprint: Sha256::digest(&signed).into(),
            verifier,
        })
    }

    /// Checks party `party`'s card as read from the broker and derives the keys with it.
    pub(crate) fn accept_card(
        &self,
        party: PartyIndex,
        bytes: &[u8],
    ) -> Result<PeerCard, TransportError> {
        if bytes.len() > MAX_CARD {
            return Err(refused("card larger than any honest one"));
        }
        let card: SignedCard =
            serde_json::from_slice(bytes).map_err(|e| refused(format!("card: {e}")))?;
        let body: CardBody =
            serde_json::from_str(&card.body).map_err(|e| refused(format!("card body: {e}")))?;
        if body.version != CARD_VERSION || body.domain != self.domain || body.party != party {
            return Err(refused(format!(
                "card is for party {} of {:?} (version {}), not this deployment's party {party}",
                body.party, body.domain, body.version
            )));
        }
        let chain = body
            .chain
            .iter()
            .map(|h| hex_decode(h).map(CertificateDer::from))
            .collect::<Result<Vec<_>, _>>()?;
        let (ee, intermediates) = chain
            .split_first()
            .ok_or_else(|| refused("card has no certificate"))?;
        let name = ServerName::try_from(party_name(&self.domain, party))
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        self.verifier
            .verify_server_cert(ee, intermediates, &name, &[], UnixTime::now())
            .map_err(|e| refused(format!("card certificate: {e}")))?;
        let signed = [CARD_CONTEXT, card.body.as_bytes()].concat();
        verify(ee, card.scheme, &signed, &hex_decode(&card.signature)?)
            .map_err(|e| refused(format!("card signature: {e}")))?;
        let public: [u8; 32] = hex_decode(&body.sealing_key)?
            .try_into()
            .map_err(|_| refused("card's sealing key is not 32 bytes"))?;
        let fingerprint: Fingerprint = Sha256::digest(&signed).into();
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(public));
        if !shared.was_contributory() {
            return Err(refused("card's sealing key is a low-order point"));
        }
        let derive =
            |from: PartyIndex, from_fp: &Fingerprint, to: PartyIndex, to_fp: &Fingerprint| {
                let salt = [from_fp.as_slice(), to_fp.as_slice()].concat();
                let hk = hkdf::Hkdf::<Sha256>::new(Some(&salt), shared.as_bytes());
                let info = [
                    KEY_CONTEXT,
                    self.domain.as_bytes(),
                    &[0],
                    &from.to_be_bytes(),
                    &to.to_be_bytes(),
                ]
                .concat();
                let mut key = Zeroizing::new([0u8; 32]);
                hk.expand(&info, key.as_mut_slice())
                    .map(|()| key)
                    .map_err(|_| refused("key derivation"))
            };
        Ok(PeerCard {
            fingerprint,
            created_ms: body.created_ms,
            cert: ee.clone().into_owned(),
            send_key: derive(self.me, &self.fingerprint, party, &fingerprint)?,
            recv_key: derive(party, &fingerprint, self.me, &self.fingerprint)?,
        })
    }

    /// Seals `frame` for `to`, the `seq`-th envelope of this card to it.
    pub(crate) fn seal(
        &self,
        to: PartyIndex,
        peer: &PeerCard,
        seq: u64,
        frame: &[u8],
    ) -> Result<Vec<u8>, TransportError> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(frame.len().saturating_add(SEAL_OVERHEAD));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&u16::from(self.signer.scheme()).to_be_bytes());
        out.extend_from_slice(&self.me.to_be_bytes());
        out.extend_from_slice(&to.to_be_bytes());
        out.extend_from_slice(&self.fingerprint);
        out.extend_from_slice(&peer.fingerprint);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&nonce);
        let aad = self.context(&out);
        let ct = XChaCha20Poly1305::new(peer.send_key.as_slice().into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: frame,
                    aad: &aad,
                },
            )
            .map_err(|_| refused("encryption failed"))?;
        let len = u32::try_from(ct.len()).map_err(|_| refused("frame too long to seal"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&ct);
        let sig = self
            .signer
            .sign(&self.context(&out))
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        let sig_len = u16::try_from(sig.len()).map_err(|_| refused("signature too long"))?;
        out.extend_from_slice(&sig_len.to_be_bytes());
        out.extend_from_slice(&sig);
        Ok(out)
    }

    fn context(&self, bytes: &[u8]) -> Vec<u8> {
        let domain = self.domain.as_bytes();
        let len = u8::try_from(domain.len()).unwrap_or(u8::MAX);
        [ENVELOPE_CONTEXT, &[len], domain, bytes].concat()
    }

    /// Opens an envelope whose header `head` was read by [`SealedHead::parse`]: checks the
    /// signature with `peer`'s certificate and decrypts the frame. The caller has checked
    /// the addressee, both cards and the replay window.
    pub(crate) fn open(
        &self,
        head: &SealedHead<'_>,
        peer: &PeerCard,
    ) -> Result<Vec<u8>, TransportError> {
        verify(
            &peer.cert,
            head.scheme,
            &self.context(head.signed),
            head.signature,
        )
        .map_err(|e| refused(format!("signature: {e}")))?;
        let aad = self.context(head.aad);
        XChaCha20Poly1305::new(peer.recv_key.as_slice().into())
            .decrypt(
                &XNonce::from(head.nonce),
                Payload {
                    msg: head.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| refused("payload does not decrypt"))
    }
}

fn verify(cert: &CertificateDer<'_>, scheme: u16, msg: &[u8], sig: &[u8]) -> Result<(), String> {
    let alg = verifier_for(SignatureScheme::from(scheme))
        .ok_or_else(|| format!("signature scheme {scheme:#06x} is not accepted"))?;
    let ee = webpki::EndEntityCert::try_from(cert).map_err(|e| e.to_string())?;
    ee.verify_signature(alg, msg, sig)
        .map_err(|e| e.to_string())
}

/// The header of a sealed envelope, read without trusting anything in it yet.
#[derive(Debug)]
pub(crate) struct SealedHead<'a> {
    scheme: u16,
    /// The sender the envelope claims.
    pub(crate) from: PartyIndex,
    pub(crate) to: PartyIndex,
    pub(crate) from_card: Fingerprint,
    pub(crate) to_card: Fingerprint,
    pub(crate) seq: u64,
    nonce: [u8; 24],
    aad: &'a [u8],
    ciphertext: &'a [u8],
    signed: &'a [u8],
    signature: &'a [u8],
}

impl<'a> SealedHead<'a> {
    /// Reads the header of `bytes`.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, TransportError> {
        let mut r = Cursor(bytes);
        if &r.array::<4>()? != MAGIC {
            return Err(refused("not a sealed envelope"));
        }
        let version = r.array::<1>()?[0];
        if version != VERSION {
            return Err(TransportError::Unsupported(format!(
                "sealed envelope version {version}"
            )));
        }
        let scheme = u16::from_be_bytes(r.array()?);
        let from = u16::from_be_bytes(r.array()?);
        let to = u16::from_be_bytes(r.array()?);
        let from_card = r.array()?;
        let to_card = r.array()?;
        let seq = u64::from_be_bytes(r.array()?);
        let nonce = r.array()?;
        let ct_len = usize::try_from(u32::from_be_bytes(r.array()?)).unwrap_or(usize::MAX);
        let ciphertext = r.take(ct_len)?;
        let sig_len = usize::from(u16::from_be_bytes(r.array()?));
        if sig_len > MAX_SIGNATURE {
            return Err(refused("signature longer than any accepted one"));
        }
        let signature = r.take(sig_len)?;
        if !r.0.is_empty() {
            return Err(refused("bytes after the signature"));
        }
        let signed_len = HEAD_LEN + 4 + ct_len;
        Ok(SealedHead {
            scheme,
            from,
            to,
            from_card,
            to_card,
            seq,
            nonce,
            aad: bytes
                .get(..HEAD_LEN)
                .ok_or(TransportError::Truncated("sealed header"))?,
            ciphertext,
            signed: bytes
                .get(..signed_len)
                .ok_or(TransportError::Truncated("sealed envelope"))?,
            signature,
        })
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TransportError> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(TransportError::Truncated("sealed envelope"))?;
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], TransportError> {
        self.take(N)?
            .try_into()
            .map_err(|_| TransportError::Truncated("sealed envelope"))
    }
}

/// The envelopes of one sender card a receiver has opened: the highest `seq` and a bitmap
/// of the [`REPLAY_WINDOW`] before it.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ReplayWindow {
    top: u64,
    seen: u128,
}

impl ReplayWindow {
    /// Why `seq` cannot be opened, if it cannot.
    pub(crate) fn check(&self, seq: u64) -> Result<(), &'static str> {
        if seq == 0 {
            return Err("sequence number 0 is never sent");
        }
        if seq > self.top {
            return Ok(());
        }
        let back = self.top - seq;
        if back >= REPLAY_WINDOW {
            return Err("envelope older than the replay window");
        }
        if self.seen & (1u128 << back) != 0 {
            return Err("envelope replayed");
        }
        Ok(())
    }

    /// Records `seq` as opened (after [`ReplayWindow::check`] and a successful open).
    pub(crate) fn mark(&mut self, seq: u64) {
        if seq > self.top {
            let shift = seq - self.top;
            self.seen = if shift >= REPLAY_WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.top = seq;
        } else {
            self.seen |= 1u128 << (self.top - seq);
        }
    }
}

fn hex_decode(s: &str) -> Result<Vec<u8>, TransportError> {
    hex::decode(s).map_err(|e| refused(format!("bad hex in card: {e}")))
}

#[cfg(test)]
mod tests {
    use super::ReplayWindow;

    #[test]
    fn the_replay_window_refuses_repeats_and_old_envelopes_but_allows_reordering() {
        let mut w = ReplayWindow::default();
        assert!(w.check(0).is_err());
        for seq in [3u64, 1, 2, 5] {
            assert!(w.check(seq).is_ok(), "{seq}");
            w.mark(seq);
        }
        for seq in [1u64, 2, 3, 5] {
            assert_eq!(w.check(seq), Err("envelope replayed"), "{seq}");
        }
        assert!(w.check(4).is_ok());
        w.mark(200);
        assert_eq!(w.check(4), Err("envelope older than the replay window"));
        assert!(w.check(199).is_ok());
        assert_eq!(w.check(200), Err("envelope replayed"));
    }
}

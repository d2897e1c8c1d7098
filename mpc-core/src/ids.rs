//! Identifiers: schemes, curves, parties and sessions.

use core::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Index of a party, `0..n`, as assigned at key generation.
pub type PartyIndex = u16;

/// Stable identifier of a threshold scheme, written into key shares and message envelopes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SchemeId {
    /// CGGMP21 threshold ECDSA over secp256k1.
    #[serde(rename = "cggmp21-secp256k1")]
    Cggmp21Secp256k1,
    /// FROST over Ed25519 (RFC 9591), for Solana and other Ed25519 chains.
    #[serde(rename = "frost-ed25519")]
    FrostEd25519,
    /// FROST over secp256k1 with BIP-340 signatures and the BIP-341 Taproot tweak.
    #[serde(rename = "frost-secp256k1-tr")]
    FrostSecp256k1Tr,
    /// GG20 threshold ECDSA over secp256k1 (for keys from existing GG18/GG20 deployments).
    #[serde(rename = "gg20-secp256k1")]
    Gg20Secp256k1,
}

impl SchemeId {
    /// The stable string form (`cggmp21-secp256k1`, `frost-ed25519`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            SchemeId::Cggmp21Secp256k1 => "cggmp21-secp256k1",
            SchemeId::FrostEd25519 => "frost-ed25519",
            SchemeId::FrostSecp256k1Tr => "frost-secp256k1-tr",
            SchemeId::Gg20Secp256k1 => "gg20-secp256k1",
        }
    }

    /// The curve the scheme works on.
    pub const fn curve(self) -> CurveId {
        match self {
            SchemeId::FrostEd25519 => CurveId::Ed25519,
            _ => CurveId::Secp256k1,
        }
    }
}

impl fmt::Display for SchemeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Elliptic curve of a key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CurveId {
    /// secp256k1 (Bitcoin, EVM).
    Secp256k1,
    /// Ed25519 (Solana).
    Ed25519,
}

/// A session identifier: 32 bytes that all parties of one protocol run agree on and that
/// never repeat. It is bound into every message and into the engine's execution id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionId(pub [u8; 32]);

impl SessionId {
    /// A fresh random session id.
    pub fn random<R: rand_core::RngCore + rand_core::CryptoRng>(rng: &mut R) -> Self {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        SessionId(b)
    }

    /// The id of a run that follows this one as part of the same ceremony (for example the
    /// auxiliary-info run after a resharing to CGGMP21): every party derives the same id,
    /// fresh as long as this one is.
    pub fn follow_on(&self, purpose: &str) -> Self {
        let mut h = Sha256::new();
        h.update(b"mpc-core follow-on session\0");
        h.update((purpose.len() as u64).to_be_bytes());
        h.update(purpose.as_bytes());
        h.update(self.0);
        SessionId(h.finalize().into())
    }

    /// A session id derived from a label (deterministic; for tests and examples only, where
    /// the label itself is unique).
    pub fn from_label(label: &str) -> Self {
        SessionId(Sha256::digest(label.as_bytes()).into())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId(")?;
        for b in self.0.iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

/// The context of one protocol run: which session, which scheme, who we are, who takes part.
///
/// Parties are always named by their key-generation index. The list of participants is kept
/// sorted, so every party derives the same execution id from the same set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCtx {
    session: SessionId,
    scheme: SchemeId,
    me: PartyIndex,
    parties: Vec<PartyIndex>,
    epoch: Option<u32>,
}

impl SessionCtx {
    /// Builds a context.
    ///
    /// # Errors
    /// [`Error::DuplicateParty`] if a party is listed twice, [`Error::NotAParticipant`] if
    /// `me` is not in `parties`.
    pub fn new(
        session: SessionId,
        scheme: SchemeId,
        me: PartyIndex,
        parties: &[PartyIndex],
    ) -> Result<Self> {
        let mut sorted = parties.to_vec();
        sorted.sort_unstable();
        for w in sorted.windows(2) {
            if let [a, b] = w {
                if a == b {
                    return Err(Error::DuplicateParty(*a));
                }
            }
        }
        if !sorted.contains(&me) {
            return Err(Error::NotAParticipant(me));
        }
        Ok(SessionCtx {
            session,
            scheme,
            me,
            parties: sorted,
            epoch: None,
        })
    }

    /// Context of a key generation among `n` parties `0..n`.
    ///
    /// # Errors
    /// As [`SessionCtx::new`].
    pub fn keygen(session: SessionId, scheme: SchemeId, me: PartyIndex, n: u16) -> Result<Self> {
        let parties: Vec<PartyIndex> = (0..n).collect();
        Self::new(session, scheme, me, &parties)
    }

    /// The same context for a session of the key's epoch `epoch`: a share of another
    /// epoch refuses to take part ([`Error::EpochMismatch`]), so shares of two epochs never
    /// sign together.
    pub fn with_epoch(mut self, epoch: u32) -> Self {
        self.epoch = Some(epoch);
        self
    }

    /// The key epoch the session is for, if it names one.
    pub fn epoch(&self) -> Option<u32> {
        self.epoch
    }

    /// The session id.
    pub fn session(&self) -> SessionId {
        self.session
    }
    /// The scheme.
    pub fn scheme(&self) -> SchemeId {
        self.scheme
    }
    /// The local party's key-generation index.
    pub fn me(&self) -> PartyIndex {
        self.me
    }
    /// The participants, sorted, by key-generation index.
    pub fn parties(&self) -> &[PartyIndex] {
        &self.parties
    }
    /// Position of the local party in [`Self::parties`].
    pub fn my_position(&self) -> u16 {
        self.position_of(self.me).unwrap_or(0)
    }
    /// Position of a party in [`Self::parties`], if it takes part.
    pub fn position_of(&self, p: PartyIndex) -> Option<u16> {
        self.parties
            .iter()
            .position(|&x| x == p)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// The execution id handed to the engine: a tagged hash of the session id, the scheme,
    /// the purpose of the run, the participant list and `bound` (for signing: the key and
    /// the request), so a run of one kind, for one request, can never be confused with
    /// another.
    pub fn execution_id(&self, purpose: &str, bound: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"mpc-core/execution-id/v1");
        for part in [
            self.scheme.as_str().as_bytes(),
            purpose.as_bytes(),
            &self.session.0[..],
            bound,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.update((self.parties.len() as u64).to_be_bytes());
        for p in &self.parties {
            h.update(p.to_be_bytes());
        }
        h.finalize().into()
    }
}

/// Checks `1 <= t <= n`.
///
/// # Errors
/// [`Error::InvalidThreshold`].
pub fn check_threshold(t: u16, n: u16) -> Result<()> {
    if t == 0 || n == 0 || t > n {
        return Err(Error::InvalidThreshold { t, n });
    }
    Ok(())
}

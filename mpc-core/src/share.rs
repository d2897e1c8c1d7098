//! The versioned key-share envelope shared by every engine.

use std::sync::Arc;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::ids::{check_threshold, CurveId, PartyIndex, SchemeId};
use crate::sig::PublicKey;

/// Format version written by this build; readers refuse any other.
pub const KEY_SHARE_FORMAT_VERSION: u32 = 1;

/// Engine-specific share data inside the envelope.
pub trait EngineData: Serialize + DeserializeOwned {
    /// Checks the data against the envelope's header (index, threshold, public key...).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the inconsistent field.
    fn check(&self, header: &ShareHeader) -> Result<()>;

    /// Every party's public share, by party index (public data: what a key ceremony
    /// compares across parties).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a point that does not encode.
    fn public_shares(&self) -> Result<Vec<crate::sig::PublicKey>>;
}

/// The public part of a key share: what every engine's share has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareHeader {
    /// Format version ([`KEY_SHARE_FORMAT_VERSION`]).
    pub version: u32,
    /// Scheme the share is for.
    pub scheme: SchemeId,
    /// Curve of the key.
    pub curve: CurveId,
    /// Signers needed.
    pub t: u16,
    /// Parties holding shares.
    pub n: u16,
    /// This party's index (`0..n`).
    pub index: PartyIndex,
    /// Group public key.
    pub public_key: PublicKey,
    /// The key's epoch: 0 when the key is made, raised by every refresh, reshare and
    /// repair. Shares of different epochs never sign together. (Shares written before
    /// epochs existed read as epoch 0.)
    #[serde(default)]
    pub epoch: u32,
}

/// One party's share of a threshold key, in one envelope for every engine.
///
/// The secret parts are zeroized when the last copy is dropped (the engines keep secret
/// scalars in self-zeroizing types), `Debug` prints no secret, and serialization is explicit
/// ([`KeyShare::to_json`]). See SECURITY.md for what the engines do not zeroize.
#[derive(Serialize, Deserialize)]
#[serde(bound = "D: EngineData", try_from = "RawKeyShare<D>")]
pub struct KeyShare<D> {
    #[serde(flatten)]
    header: ShareHeader,
    data: Arc<D>,
}

/// The serialized form, checked by `TryFrom` before it becomes a [`KeyShare`]: a share read
/// through any serde path is validated like one read with [`KeyShare::from_json`].
#[derive(Deserialize)]
#[serde(bound = "D: EngineData")]
struct RawKeyShare<D> {
    #[serde(flatten)]
    header: ShareHeader,
    data: D,
}

impl<D: EngineData> TryFrom<RawKeyShare<D>> for KeyShare<D> {
    type Error = Error;
    fn try_from(raw: RawKeyShare<D>) -> Result<Self> {
        if raw.header.version != KEY_SHARE_FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                found: raw.header.version,
                supported: KEY_SHARE_FORMAT_VERSION,
            });
        }
        KeyShare::new(raw.header, raw.data)
    }
}

impl<D> Clone for KeyShare<D> {
    fn clone(&self) -> Self {
        KeyShare {
            header: self.header.clone(),
            data: Arc::clone(&self.data),
        }
    }
}

impl<D> core::fmt::Debug for KeyShare<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyShare")
            .field("scheme", &self.header.scheme)
            .field("t", &self.header.t)
            .field("n", &self.header.n)
            .field("index", &self.header.index)
            .field("public_key", &self.header.public_key)
            .field("data", &"<redacted>")
            .finish()
    }
}

impl<D: EngineData> KeyShare<D> {
    /// Every party's public share, by party index.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a point that does not encode.
    pub fn public_shares(&self) -> Result<Vec<PublicKey>> {
        self.data.public_shares()
    }

    /// Builds and checks an envelope.
    ///
    /// # Errors
    /// [`Error::InvalidThreshold`], [`Error::PartyOutOfRange`] or the engine's check.
    pub fn new(header: ShareHeader, data: D) -> Result<Self> {
        check_header(&header)?;
        data.check(&header)?;
        Ok(KeyShare {
            header,
            data: Arc::new(data),
        })
    }

    /// Serializes to JSON. The bytes hold secrets and are zeroized when dropped.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the engine data cannot be serialized.
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>> {
        serde_json::to_vec(self)
            .map(Zeroizing::new)
            .map_err(|e| invalid(e.to_string()))
    }

    /// Reads a share written by [`KeyShare::to_json`], refusing other format versions and
    /// other schemes before looking at the engine data, then checking the data.
    ///
    /// # Errors
    /// [`Error::UnsupportedVersion`], [`Error::SchemeMismatch`], [`Error::Invalid`].
    pub fn from_json(bytes: &[u8], expected: SchemeId) -> Result<Self> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let v: Version = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if v.version != KEY_SHARE_FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                found: v.version,
                supported: KEY_SHARE_FORMAT_VERSION,
            });
        }
        let header: ShareHeader =
            serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if header.scheme != expected {
            return Err(Error::SchemeMismatch {
                expected,
                found: header.scheme,
            });
        }
        // Deserializing validates (see `RawKeyShare`).
        serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))
    }
}

impl<D> KeyShare<D> {
    /// The public header.
    pub fn header(&self) -> &ShareHeader {
        &self.header
    }
    /// Scheme.
    pub fn scheme(&self) -> SchemeId {
        self.header.scheme
    }
    /// Signers needed.
    pub fn threshold(&self) -> u16 {
        self.header.t
    }
    /// Parties holding shares.
    pub fn parties(&self) -> u16 {
        self.header.n
    }
    /// This party's index.
    pub fn index(&self) -> PartyIndex {
        self.header.index
    }
    /// Group public key.
    pub fn public_key(&self) -> PublicKey {
        self.header.public_key
    }
    /// The key's epoch (see [`ShareHeader::epoch`]).
    pub fn epoch(&self) -> u32 {
        self.header.epoch
    }
    /// The same share, labelled with `epoch` (resharing outputs, and the aux-info step
    /// that completes them).
    pub(crate) fn with_epoch(mut self, epoch: u32) -> Self {
        self.header.epoch = epoch;
        self
    }
    /// Engine data, shared (for the engines).
    pub(crate) fn data(&self) -> &Arc<D> {
        &self.data
    }
}

fn check_header(h: &ShareHeader) -> Result<()> {
    check_threshold(h.t, h.n)?;
    if h.index >= h.n {
        return Err(Error::PartyOutOfRange {
            index: h.index,
            n: h.n,
        });
    }
    if h.curve != h.scheme.curve() || h.public_key.curve() != h.curve {
        return Err(invalid(format!(
            "curve {:?} does not match scheme {} / public key",
            h.curve, h.scheme
        )));
    }
    Ok(())
}

pub(crate) fn invalid(reason: String) -> Error {
    Error::Invalid {
        what: "key share",
        reason,
    }
}

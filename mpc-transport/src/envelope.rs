//! The message envelope and its binary frame.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! 0      1       2          34     36    38   39    41            45
//! | ver  | scheme | session  | round | from | to? | to   | payload len | payload ...
//!   u8     u8       32 bytes   u16     u16    u8    u16    u32
//! ```
//!
//! `to?` is 1 for a direct message (then `to` names the recipient) and 0 for a broadcast
//! (then `to` is 0). The payload length is checked against the cap before any allocation.

use mpc_core::{Message, PartyIndex, SchemeId, SessionId};

use crate::error::TransportError;

/// Envelope format version.
pub const ENVELOPE_VERSION: u8 = 1;
/// Header size in bytes.
pub const HEADER_LEN: usize = 45;
/// Default cap on a frame (header + payload): 16 MiB + header.
pub const DEFAULT_MAX_FRAME: usize = mpc_core::MAX_PAYLOAD + HEADER_LEN;

/// One protocol message with its routing data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// Scheme of the session.
    pub scheme: SchemeId,
    /// The protocol message (session, round, sender, recipient, payload).
    pub message: Message,
}

fn scheme_code(s: SchemeId) -> u8 {
    match s {
        SchemeId::Cggmp21Secp256k1 => 1,
        SchemeId::FrostEd25519 => 2,
        SchemeId::FrostSecp256k1Tr => 3,
        SchemeId::Gg20Secp256k1 => 4,
        _ => 0,
    }
}

fn scheme_from(code: u8) -> Option<SchemeId> {
    Some(match code {
        1 => SchemeId::Cggmp21Secp256k1,
        2 => SchemeId::FrostEd25519,
        3 => SchemeId::FrostSecp256k1Tr,
        4 => SchemeId::Gg20Secp256k1,
        _ => return None,
    })
}

/// A reader over the header of `frame`, past the version byte (checked).
fn header(frame: &[u8]) -> Result<Reader<'_>, TransportError> {
    let header = frame.get(..HEADER_LEN).ok_or(TransportError::Truncated(
        "shorter than the envelope header",
    ))?;
    let mut r = Reader(header);
    let version = r.u8()?;
    if version != ENVELOPE_VERSION {
        return Err(TransportError::Unsupported(format!(
            "envelope version {version}"
        )));
    }
    Ok(r)
}

impl Envelope {
    /// Encodes the envelope as one frame.
    ///
    /// # Errors
    /// [`TransportError::FrameTooLarge`] if the payload is over `max_frame`.
    pub fn encode(&self, max_frame: usize) -> Result<Vec<u8>, TransportError> {
        let m = &self.message;
        let size = HEADER_LEN + m.payload.len();
        if size > max_frame {
            return Err(TransportError::FrameTooLarge {
                size,
                limit: max_frame,
            });
        }
        let len = u32::try_from(m.payload.len()).map_err(|_| TransportError::FrameTooLarge {
            size,
            limit: max_frame,
        })?;
        let mut out = Vec::with_capacity(size);
        out.push(ENVELOPE_VERSION);
        out.push(scheme_code(self.scheme));
        out.extend_from_slice(&m.session.0);
        out.extend_from_slice(&m.round.to_be_bytes());
        out.extend_from_slice(&m.from.to_be_bytes());
        out.push(u8::from(m.to.is_some()));
        out.extend_from_slice(&m.to.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&m.payload);
        Ok(out)
    }

    /// The session a frame belongs to, read from its header without decoding the rest (for
    /// routing).
    ///
    /// # Errors
    /// [`TransportError::Truncated`], [`TransportError::Unsupported`] for another version.
    pub fn peek_session(frame: &[u8]) -> Result<SessionId, TransportError> {
        let mut r = header(frame)?;
        r.u8()?;
        Ok(SessionId(r.array()?))
    }

    /// Decodes one frame, checking the announced payload length against `max_frame` before
    /// allocating for it.
    ///
    /// # Errors
    /// [`TransportError::Truncated`], [`TransportError::FrameTooLarge`],
    /// [`TransportError::Unsupported`].
    pub fn decode(frame: &[u8], max_frame: usize) -> Result<Self, TransportError> {
        let mut r = header(frame)?;
        let code = r.u8()?;
        let scheme = scheme_from(code)
            .ok_or_else(|| TransportError::Unsupported(format!("scheme code {code}")))?;
        let session = SessionId(r.array()?);
        let round = u16::from_be_bytes(r.array()?);
        let from: PartyIndex = u16::from_be_bytes(r.array()?);
        let has_to = r.u8()?;
        let to = u16::from_be_bytes(r.array()?);
        let len = usize::try_from(u32::from_be_bytes(r.array()?)).unwrap_or(usize::MAX);
        if len.saturating_add(HEADER_LEN) > max_frame {
            return Err(TransportError::FrameTooLarge {
                size: len.saturating_add(HEADER_LEN),
                limit: max_frame,
            });
        }
        let payload = frame
            .get(HEADER_LEN..)
            .ok_or(TransportError::Truncated("no payload"))?;
        if payload.len() != len {
            return Err(TransportError::Truncated(
                "payload length differs from the header's",
            ));
        }
        let to = match has_to {
            0 if to == 0 => None,
            1 => Some(to),
            _ => return Err(TransportError::Unsupported("recipient flag".into())),
        };
        Ok(Envelope {
            scheme,
            message: Message {
                session,
                round,
                from,
                to,
                payload: payload.to_vec(),
            },
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, TransportError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], TransportError> {
        let (head, rest) = self
            .0
            .split_at_checked(N)
            .ok_or(TransportError::Truncated("header"))?;
        self.0 = rest;
        head.try_into()
            .map_err(|_| TransportError::Truncated("header"))
    }
}

//! Payload caps: the largest message each round of each protocol accepts.
//!
//! A run refuses a message over its round's cap before decoding it, and a transport can
//! refuse a frame over [`largest_payload`] of its session's scheme before storing it. Each
//! cap is the largest honest payload of that round (measured by `tests/payload_caps.rs`,
//! which fails when an honest message comes within half of its cap) with room to spare:
//! `2 * (base + per_party * parties)`, where `parties` counts the run's participants.
//! [`MAX_PAYLOAD`] bounds them all.

use crate::ids::SchemeId;
use crate::protocol::MAX_PAYLOAD;

/// Which protocol a run is, for its payload caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ProtocolKind {
    /// Distributed key generation (for CGGMP21 the DKG part; its auxiliary info is
    /// [`ProtocolKind::AuxInfo`]).
    Keygen,
    /// CGGMP21 auxiliary info (Paillier keys, ring-Pedersen parameters and their proofs);
    /// GG20's fresh Paillier moduli after a resharing.
    AuxInfo,
    /// Interactive presigning.
    Presign,
    /// Interactive signing (each item of a batch on its own).
    Sign,
    /// GG20 signer-set certification.
    Certify,
    /// The resharing protocol (`crate::reshare`).
    Reshare,
}

/// The largest honest payload of a round is at most `base + per_party * parties` bytes.
#[derive(Debug, Clone, Copy)]
struct Honest {
    base: usize,
    per_party: usize,
}

const fn honest(base: usize, per_party: usize) -> Honest {
    Honest { base, per_party }
}

/// Rounds with small messages (commitments, nonces, shares, a few points): every round of
/// every protocol not listed in [`LARGE`].
const SMALL: Honest = honest(1024, 256);

/// Rounds with large messages (Paillier moduli, ciphertexts and their proofs), by engine
/// round (round-based engines number rounds from 0, the protocols of this crate from 1).
/// Measured payloads with 2 or 3 parties are in the comments.
const LARGE: [(SchemeId, ProtocolKind, u8, Honest); 19] = {
    use ProtocolKind::*;
    use SchemeId::*;
    [
        // Π-prm and the moduli (205 kB), Π-mod and Π-fac (218 kB).
        (Cggmp21Secp256k1, AuxInfo, 1, honest(256 * 1024, 0)),
        (Cggmp21Secp256k1, AuxInfo, 2, honest(256 * 1024, 0)),
        // K and G with Π-enc (3.1 kB), the MtA ciphertexts and Π-aff-g (5.0 kB and 32 kB),
        // δ with Π-log* (5.5 kB); the same for presigning and signing.
        (Cggmp21Secp256k1, Presign, 0, honest(4096, 256)),
        (Cggmp21Secp256k1, Presign, 1, honest(8192, 256)),
        (Cggmp21Secp256k1, Presign, 2, honest(40 * 1024, 0)),
        (Cggmp21Secp256k1, Presign, 3, honest(8192, 256)),
        (Cggmp21Secp256k1, Sign, 0, honest(4096, 256)),
        (Cggmp21Secp256k1, Sign, 1, honest(8192, 256)),
        (Cggmp21Secp256k1, Sign, 2, honest(40 * 1024, 0)),
        (Cggmp21Secp256k1, Sign, 3, honest(8192, 256)),
        // The modulus with Π-mod and Π-prm at 128 repetitions (600 kB), the echo, the
        // share and the encryption key's proof (22 kB); the same for fresh moduli after a
        // resharing, and a certification (621 kB).
        (Gg20Secp256k1, Keygen, 1, honest(800 * 1024, 0)),
        (Gg20Secp256k1, Keygen, 2, honest(32 * 1024, 256)),
        (Gg20Secp256k1, AuxInfo, 1, honest(800 * 1024, 0)),
        (Gg20Secp256k1, AuxInfo, 2, honest(32 * 1024, 256)),
        (Gg20Secp256k1, Certify, 1, honest(800 * 1024, 0)),
        // MtA ciphertexts with their range proofs (6.6 kB), the MtA answers (27 kB), δ and
        // the commitment openings (5.8 kB); signing runs the same rounds.
        (Gg20Secp256k1, Presign, 1, honest(8192, 256)),
        (Gg20Secp256k1, Presign, 2, honest(40 * 1024, 0)),
        (Gg20Secp256k1, Presign, 3, honest(8192, 256)),
        // The identification round, run only after a failed check: Π-aff-g and Π-log*
        // for δ_i and σ_i (27 kB; honest runs never reach it, `gg20::tests` does).
        (Gg20Secp256k1, Presign, 4, honest(40 * 1024, 256)),
    ]
};

/// The honest-size bound of a round.
fn bound(scheme: SchemeId, kind: ProtocolKind, round: u8) -> Honest {
    LARGE
        .iter()
        .find(|(s, k, r, _)| (*s, *k, *r) == (scheme, kind, round))
        .map_or(SMALL, |e| e.3)
}

/// The cap on a payload of `round` of a `kind` run of `scheme` with `parties`
/// participants.
pub fn payload_cap(scheme: SchemeId, kind: ProtocolKind, round: u8, parties: u16) -> usize {
    cap_of(bound(scheme, kind, round), parties)
}

fn cap_of(h: Honest, parties: u16) -> usize {
    h.per_party
        .saturating_mul(usize::from(parties))
        .saturating_add(h.base)
        .saturating_mul(2)
        .min(MAX_PAYLOAD)
}

/// The largest cap of any round of any protocol of `scheme` with `parties` participants:
/// what a transport may refuse before storing a frame of a session of `scheme`.
pub fn largest_payload(scheme: SchemeId, parties: u16) -> usize {
    LARGE
        .iter()
        .filter(|e| e.0 == scheme)
        .map(|e| e.3)
        .chain([SMALL])
        .map(|h| cap_of(h, parties))
        .max()
        .unwrap_or(MAX_PAYLOAD)
}

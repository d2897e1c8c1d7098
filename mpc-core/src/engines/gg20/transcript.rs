//! Every hash the GG20 engine takes of protocol data: one typed structure per use, hashed
//! with `udigest` under its own tag. Each structure says what the hash commits to; no two
//! uses can collide, and no hash depends on a serialization format (integers are hashed as
//! their big-endian magnitude, points and scalars by `generic-ec`'s `udigest` encoding).

use cggmp21::paillier_zk::rug::{integer::Order, Integer};
use sha2::Sha256;

use super::zk::{Fs, GPoint};
use crate::ids::PartyIndex;

type S = cggmp21::generic_ec::Scalar<cggmp21::supported_curves::Secp256k1>;

/// A non-negative integer as its big-endian magnitude.
pub(crate) fn int(x: &Integer) -> udigest::Bytes<Vec<u8>> {
    udigest::Bytes(x.to_digits::<u8>(Order::Msf))
}

/// The SHA-256 `udigest` hash of `value`.
pub(crate) fn hash(value: &impl udigest::Digestable) -> [u8; 32] {
    udigest::hash::<Sha256>(value).into()
}

/// Key generation, round 1: the hash commitment to a party's Feldman coefficients.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.keygen.commitment")]
pub(crate) struct KeygenCommitment<'a> {
    #[udigest(as_bytes)]
    pub execution: &'a [u8; 32],
    pub party: PartyIndex,
    pub coefficients: &'a [GPoint],
    #[udigest(as_bytes)]
    pub blind: &'a [u8; 32],
}

/// Key generation: the Fiat–Shamir challenge of a party's Schnorr proof for its share's
/// public point.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.keygen.schnorr")]
pub(crate) struct KeygenSchnorr<'a> {
    #[udigest(as_bytes)]
    pub execution: &'a [u8; 32],
    pub party: PartyIndex,
    pub public: &'a GPoint,
    pub commitment: &'a GPoint,
}

/// Key generation, round 1: what a party's broadcast fixes (its commitment and its
/// public parameters; the proofs only show these are well formed). Round 2 echoes this
/// hash of every party's round-1 message.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.keygen.round1")]
pub(crate) struct KeygenRound1 {
    pub party: PartyIndex,
    #[udigest(as_bytes)]
    pub commitment: [u8; 32],
    pub n: udigest::Bytes<Vec<u8>>,
    pub ntilde: udigest::Bytes<Vec<u8>>,
    pub h1: udigest::Bytes<Vec<u8>>,
    pub h2: udigest::Bytes<Vec<u8>>,
}

/// Fresh moduli after a resharing, round 1: what a party's broadcast fixes (its public
/// parameters). Round 2 echoes this hash of every party's round-1 message.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.fresh-moduli.round1")]
pub(crate) struct ModuliRound1 {
    pub party: PartyIndex,
    pub n: udigest::Bytes<Vec<u8>>,
    pub ntilde: udigest::Bytes<Vec<u8>>,
    pub h1: udigest::Bytes<Vec<u8>>,
    pub h2: udigest::Bytes<Vec<u8>>,
}

/// The id of a presignature: its session and its R.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.presignature-id")]
pub(crate) struct PresignatureId<'a> {
    #[udigest(as_bytes)]
    pub session: &'a [u8; 32],
    pub r: &'a GPoint,
}

/// Presigning, round 3: the echo of the public round-1 and round-2 values every signer
/// sent, as the sender holds them.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.presign.echo-rounds-1-2")]
pub(crate) struct PresignEcho {
    /// K_j of every signer.
    pub k: Vec<(PartyIndex, udigest::Bytes<Vec<u8>>)>,
    pub round2: Vec<PresignRound2>,
}

/// One signer's public round-2 values in [`PresignEcho`].
#[derive(udigest::Digestable)]
pub(crate) struct PresignRound2 {
    pub party: PartyIndex,
    pub gamma: GPoint,
    /// The MtA ciphertexts with each other signer (D, Y, D̂, Ŷ).
    pub mta: Vec<(PartyIndex, [udigest::Bytes<Vec<u8>>; 4])>,
}

/// Presigning, round 4: the echo of every signer's round-3 public values.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.presign.echo-round-3")]
pub(crate) struct PresignRound3Echo {
    pub parties: Vec<PresignRound3>,
}

/// One signer's round-3 public values in [`PresignRound3Echo`].
#[derive(udigest::Digestable)]
pub(crate) struct PresignRound3 {
    pub party: PartyIndex,
    pub delta: S,
    pub big_delta: GPoint,
    pub sigma_gamma: GPoint,
    #[udigest(as_bytes)]
    pub echo: [u8; 32],
}

/// Π-mod: the seed of the challenges y_i, from the proof's context, N and w.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.pi-mod.seed")]
pub(crate) struct ModSeed<'a> {
    pub context: &'a Fs<'a>,
    pub n: udigest::Bytes<Vec<u8>>,
    pub w: udigest::Bytes<Vec<u8>>,
}

/// Π-prm: the seed of the challenge bits, from the proof's context, Ñ, h1, h2 and the
/// commitments.
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.pi-prm.seed")]
pub(crate) struct PrmSeed<'a> {
    pub context: &'a Fs<'a>,
    pub ntilde: udigest::Bytes<Vec<u8>>,
    pub h1: udigest::Bytes<Vec<u8>>,
    pub h2: udigest::Bytes<Vec<u8>>,
    pub commitments: Vec<udigest::Bytes<Vec<u8>>>,
}

/// One block of the output stream a seed expands to (challenge `index`, `attempt`-th
/// candidate, `block`-th 32 bytes of it).
#[derive(udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.expand")]
pub(crate) struct Expand {
    #[udigest(as_bytes)]
    pub seed: [u8; 32],
    pub index: u64,
    pub attempt: u64,
    pub block: u64,
}

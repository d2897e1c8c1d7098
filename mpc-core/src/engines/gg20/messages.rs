//! Every message the GG20 engine sends, one type per round, in the order the rounds run.
//!
//! A message travels as the serde JSON of its type in a [`crate::Message`] payload; a payload
//! that does not decode as the type its round expects aborts the run naming the sender
//! when that round runs. The fields are the protocol's values as the module docs of
//! each protocol name them (the rounds that read and check them are in `keygen.rs`,
//! `fresh.rs`, `certify.rs` and `presign.rs`); they are not public, since a message is made
//! and checked only by the engine, but each is documented here so that the wire format
//! reads in one place. Every field of every message is checked before it is used: points
//! on the curve and not the identity where that matters, integers as units of their
//! moduli, proofs against the statement the receiver builds from its own view.
//!
//! | protocol | round | type | to |
//! |---|---|---|---|
//! | key generation | 1 | [`keygen::Round1`] | all (the same) |
//! | key generation | 2 | [`keygen::Round2`] | each party |
//! | fresh moduli (after a resharing) | 1 | [`moduli::Public`] | all (the same) |
//! | fresh moduli | 2 | [`moduli::Round2`] | each party |
//! | certification of an import | 1 | [`certify::Round1`] | each party |
//! | presigning / signing | 1 | [`presign::Round1`] | each signer |
//! | presigning / signing | 2 | [`presign::Round2`] | each signer |
//! | presigning / signing | 3 | [`presign::Round3`] | each signer |
//! | presigning / signing | 4 | [`presign::Round4`] | each signer |

/// Proofs about a party's moduli, sent at key generation, after a resharing and when an
/// imported key is certified.
pub mod moduli {
    use cggmp21::paillier_zk::no_small_factor as fac;
    use serde::{Deserialize, Serialize};

    use crate::engines::gg20::data::PartyParams;
    use crate::engines::gg20::pmod::ModProof;
    use crate::engines::gg20::zk::PrmProof;
    use crate::ids::PartyIndex;

    /// A party's moduli with the proofs that are the same for every verifier: N, Ñ, h1, h2,
    /// Π-mod for N and for Ñ (both Paillier–Blum) and Π-prm (h2 ∈ ⟨h1⟩). Round 1 of the
    /// fresh-moduli run; part of key generation's round 1 and of certification.
    #[derive(Clone, Serialize, Deserialize)]
    pub struct Public {
        /// N, Ñ, h1, h2.
        pub params: PartyParams,
        /// Π-mod for N.
        pub(crate) mod_n: ModProof,
        /// Π-mod for Ñ.
        pub(crate) mod_nt: ModProof,
        /// Π-prm: h2 = h1^α mod Ñ for an α the prover knows.
        pub(crate) prm: PrmProof,
    }

    /// A party's Π-fac proofs for one verifier (neither N nor Ñ has a factor below 2^256:
    /// BitForge, CVE-2023-33241), made under the verifier's Ñ, h1, h2.
    #[derive(Serialize, Deserialize)]
    pub struct Fac {
        /// Π-fac for N.
        pub(crate) fac_n: fac::non_interactive::Proof,
        /// Π-fac for Ñ.
        pub(crate) fac_nt: fac::non_interactive::Proof,
    }

    /// Round 2 of the fresh-moduli run, to each party: an echo of round 1 and Π-fac for the
    /// receiver.
    #[derive(Serialize, Deserialize)]
    pub struct Round2 {
        /// The `ModuliRound1` hash (`transcript.rs`) of every party's parameters as the
        /// sender received them (its own included), in party order.
        pub(crate) echo: Vec<(PartyIndex, [u8; 32])>,
        /// Π-fac for the receiver.
        pub(crate) fac: Fac,
    }
}

/// Key generation (Feldman VSS with commit-then-reveal, and fresh moduli).
pub mod keygen {
    use cggmp21::generic_ec::Scalar;
    use cggmp21::supported_curves::Secp256k1;
    use serde::{Deserialize, Serialize};

    use super::moduli;
    use crate::engines::gg20::zk::GPoint;
    use crate::ids::PartyIndex;

    /// Round 1, the same to all: a hash commitment to the sender's coefficient commitments,
    /// and its moduli with their proofs.
    #[derive(Serialize, Deserialize)]
    pub struct Round1 {
        /// The `KeygenCommitment` hash (`transcript.rs`) of the coefficient commitments and
        /// the blind.
        pub(crate) commitment: [u8; 32],
        /// N, Ñ, h1, h2 with Π-mod and Π-prm.
        pub(crate) moduli: moduli::Public,
    }

    /// Round 2, to each party: the echo, the decommitment, a Schnorr proof of the constant
    /// term, Π-fac for the receiver and the receiver's share.
    #[derive(Serialize, Deserialize)]
    pub struct Round2 {
        /// The `KeygenRound1` hash (`transcript.rs`) of every party's round-1 message, as
        /// the sender received it (its own included), in party order.
        pub(crate) echo: Vec<(PartyIndex, [u8; 32])>,
        /// The coefficient commitments a_0·G .. a_{t-1}·G (exactly t of them).
        pub(crate) coefficients: Vec<GPoint>,
        /// The blind of the round-1 commitment.
        pub(crate) blind: [u8; 32],
        /// A Schnorr proof (commitment, response) of a_0.
        pub(crate) schnorr: (GPoint, Scalar<Secp256k1>),
        /// Π-fac for the receiver.
        pub(crate) fac: moduli::Fac,
        /// f(receiver's share id): the receiver's share of the sender's polynomial. Secret:
        /// sent point-to-point, so the transport must keep it confidential (mutual TLS).
        pub(crate) share: Scalar<Secp256k1>,
    }
}

/// Certification of an imported key (one round).
pub mod certify {
    use serde::{Deserialize, Serialize};

    use super::moduli;

    /// Round 1, to each participant: the sender's moduli proofs and Π-fac for the receiver.
    #[derive(Serialize, Deserialize)]
    pub struct Round1 {
        /// N, Ñ, h1, h2 with Π-mod and Π-prm.
        pub(crate) public: moduli::Public,
        /// Π-fac for the receiver.
        pub(crate) fac: moduli::Fac,
    }
}

/// Presigning and signing (MtA / MtAwc with range proofs, the δ and σ shares, and the
/// partial signature or identification).
pub mod presign {
    use std::collections::BTreeMap;

    use cggmp21::generic_ec::Scalar;
    use cggmp21::paillier_zk::{
        group_element_vs_paillier_encryption_in_range as plog,
        paillier_affine_operation_in_range as aff, paillier_encryption_in_range as penc,
    };
    use cggmp21::supported_curves::Secp256k1;
    use serde::{Deserialize, Serialize};

    use crate::engines::gg20::data::BigHex;
    use crate::engines::gg20::zk::GPoint;
    use crate::ids::PartyIndex;

    /// A Π-aff-g proof (commitment, proof).
    pub(crate) type AffProof = (aff::Commitment<Secp256k1>, aff::Proof);
    /// A Π-log* proof (commitment, proof).
    pub(crate) type LogProof = (plog::Commitment<Secp256k1>, plog::Proof);

    /// Round 1, to each signer: K_i = Enc_i(k_i) with Π-enc made for the receiver.
    #[derive(Serialize, Deserialize)]
    pub struct Round1 {
        /// K_i, under the sender's N.
        pub(crate) k: BigHex,
        /// Π-enc: K_i encrypts a value in range, under the receiver's Ñ, h1, h2.
        pub(crate) enc: (penc::Commitment, penc::Proof),
    }

    /// The MtA values the sender (Bob) computed for one other signer j (Alice).
    #[derive(Clone, Serialize, Deserialize)]
    pub struct Mta {
        /// D = K_j^{γ_i}·Enc_j(y), under N_j.
        pub(crate) d: BigHex,
        /// Y = Enc_i(y), under the sender's N.
        pub(crate) y: BigHex,
        /// D̂ = K_j^{w_i}·Enc_j(ŷ), under N_j.
        pub(crate) d_hat: BigHex,
        /// Ŷ = Enc_i(ŷ), under the sender's N.
        pub(crate) y_hat: BigHex,
    }

    /// The part of round 2 that is the same for every receiver (every ciphertext is public,
    /// so identification can recompute every party's δ and σ ciphertexts).
    #[derive(Clone, Serialize, Deserialize)]
    pub struct Round2Public {
        /// Γ_i = γ_i·G.
        pub(crate) gamma: GPoint,
        /// The MtA with each other signer j as Alice.
        pub(crate) mta: BTreeMap<PartyIndex, Mta>,
    }

    /// Round 2, to each signer: the public MtA data and the receiver's Π-aff-g proofs.
    #[derive(Serialize, Deserialize)]
    pub struct Round2 {
        /// The same for every receiver.
        pub(crate) public: Round2Public,
        /// Π-aff-g for D (against Γ_i), under the receiver's Ñ, h1, h2.
        pub(crate) aff_d: AffProof,
        /// Π-aff-g for D̂ (against W_i = λ_i·X_i).
        pub(crate) aff_d_hat: AffProof,
    }

    /// The part of round 3 that is the same for every receiver.
    #[derive(Clone, Serialize, Deserialize)]
    pub struct Round3Public {
        /// δ_i, the sender's share of δ = k·γ.
        pub(crate) delta: Scalar<Secp256k1>,
        /// Δ_i = k_i·Γ.
        pub(crate) big_delta: GPoint,
        /// S_i = σ_i·Γ.
        pub(crate) sigma_gamma: GPoint,
        /// The `PresignEcho` hash (`transcript.rs`) of the public transcript of rounds 1
        /// and 2 as the sender holds it.
        pub(crate) echo: [u8; 32],
    }

    /// Round 3, to each signer: δ_i, Δ_i, S_i, the echo, and Π-log* (Δ_i against K_i) for
    /// the receiver.
    #[derive(Serialize, Deserialize)]
    pub struct Round3 {
        /// The same for every receiver.
        pub(crate) public: Round3Public,
        /// Π-log*: Δ_i = k_i·Γ for the k_i that K_i encrypts.
        pub(crate) log_k: LogProof,
    }

    /// Round 4, to each signer: an echo of the round-3 values the sender holds (so every
    /// party knows all took the same decision), with the body.
    #[derive(Serialize, Deserialize)]
    pub struct Round4 {
        /// The `PresignRound3Echo` hash (`transcript.rs`) of every signer's round-3 values.
        pub(crate) echo: [u8; 32],
        /// What the sender concludes.
        pub(crate) body: Round4Body,
    }

    /// What round 4 carries.
    #[derive(Serialize, Deserialize)]
    pub enum Round4Body {
        /// The partial signature s_i = m·k_i + r·σ_i (signing).
        Partial(Scalar<Secp256k1>),
        /// The presignature is stored (presigning).
        Ack,
        /// A check of round 3 failed: the sender's identification proofs for the receiver.
        Identify(Box<Identify>),
    }

    /// One party's identification message for one verifier: the self terms H (of δ_i) and
    /// Ĥ (of σ_i) with their Y, so the verifier computes the ciphertexts of δ_i and σ_i
    /// from the public MtA data, and proofs that δ_i and σ_i are their plaintexts.
    #[derive(Serialize, Deserialize)]
    pub struct Identify {
        /// H = K_i^{γ_i}·Enc_i(0), which encrypts k_i·γ_i.
        pub(crate) h: BigHex,
        /// Enc_i(0), the Y of H's Π-aff-g statement.
        pub(crate) h_y: BigHex,
        /// Ĥ = K_i^{w_i}·Enc_i(0), which encrypts k_i·w_i.
        pub(crate) h_hat: BigHex,
        /// Enc_i(0), the Y of Ĥ's Π-aff-g statement.
        pub(crate) h_hat_y: BigHex,
        /// Π-aff-g for H.
        pub(crate) aff_h: AffProof,
        /// Π-aff-g for Ĥ.
        pub(crate) aff_h_hat: AffProof,
        /// Π-log*: δ_i·G against U_i, the ciphertext of δ_i the verifier computes from H and
        /// the public MtA data.
        pub(crate) log_delta: LogProof,
        /// Π-log*: S_i = σ_i·Γ against V_i, the ciphertext of σ_i (from Ĥ and the MtAwc data).
        pub(crate) log_sigma: LogProof,
    }
}

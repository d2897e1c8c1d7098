//! The presigning run's proof helpers: Π-aff-g and Π-log* made for, and checked by, one
//! peer, with Paillier operations under our own key done through the decryption key (CRT).

use cggmp21::paillier_zk::fast_paillier::AnyEncryptionKey;
use cggmp21::paillier_zk::rug::Integer;
use cggmp21::paillier_zk::{
    group_element_vs_paillier_encryption_in_range as plog,
    paillier_affine_operation_in_range as aff, paillier_encryption_in_range as penc, IntegerExt,
};
use cggmp21::supported_curves::Secp256k1;
use rand_core::OsRng;

use super::{fail, AffProof, LogProof, Presign};
use crate::engines::gg20::zk::{self, Fs, GPoint, D};
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::rounds::blame;

/// The statement of a Π-aff-g proof: D = C^x·Enc_{key0}(y) and Y = Enc_{key1}(y) with
/// X = x·G, where key1 is the prover's key.
pub(super) struct AffStatement<'a> {
    pub key0: PartyIndex,
    pub c: &'a Integer,
    pub d: &'a Integer,
    pub y: &'a Integer,
    pub big_x: &'a GPoint,
}

/// The witness of a Π-aff-g proof.
pub(super) struct AffWitness<'a> {
    pub x: &'a Integer,
    pub y: &'a Integer,
    /// Nonce of Enc_{key0}(y) inside D.
    pub s: &'a Integer,
    /// Nonce of Y.
    pub r: &'a Integer,
}

impl Presign {
    pub(super) fn fs(
        &self,
        purpose: &'static str,
        prover: PartyIndex,
        verifier: PartyIndex,
    ) -> Fs<'_> {
        Fs {
            purpose,
            session: &self.eid,
            prover,
            verifier: Some(verifier),
        }
    }

    pub(super) fn aux_of(&self, j: PartyIndex) -> Result<penc::Aux> {
        let p = self.data.params_of(j)?;
        Ok(zk::aux(&p.ntilde.0, &p.h1.0, &p.h2.0))
    }

    /// Party `j`'s Paillier key; for ourselves the decryption key, whose operations use
    /// the factorization (CRT) and are several times faster.
    pub(super) fn key(&self, j: PartyIndex) -> Result<&dyn AnyEncryptionKey> {
        if j == self.me {
            return Ok(&self.dk);
        }
        self.eks
            .get(&j)
            .map(|k| k as &dyn AnyEncryptionKey)
            .ok_or(Error::Misuse("unknown signer"))
    }

    /// Proves Π-log* to `fs.verifier`: `c` (under our key) encrypts x with X = x·B.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn prove_log(
        &self,
        fs: Fs<'_>,
        l: usize,
        c: &Integer,
        x: &Integer,
        nonce: &Integer,
        b: &GPoint,
        aux: &penc::Aux,
    ) -> Result<LogProof> {
        let xp = *b * x.to_scalar::<Secp256k1>();
        plog::non_interactive::prove::<Secp256k1, D>(
            &fs.state(),
            aux,
            plog::Data {
                key0: self.key(self.me)?,
                c,
                b,
                x: &xp,
            },
            plog::PrivateData { x, nonce },
            &zk::log_params(l),
            &mut OsRng,
        )
        .map_err(|e| fail(format!("could not prove Π-log*: {e:?}")))
    }

    /// Checks a Π-log* proof `from` made for us: `c` (under `from`'s key) encrypts the
    /// discrete logarithm of X to the base B.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn verify_log(
        &self,
        fs: Fs<'_>,
        l: usize,
        from: PartyIndex,
        c: &Integer,
        x: &GPoint,
        b: &GPoint,
        proof: &LogProof,
        what: &str,
    ) -> Result<()> {
        let aux = self.aux_of(self.me)?;
        plog::non_interactive::verify::<Secp256k1, D>(
            &fs.state(),
            &aux,
            plog::Data {
                key0: self.key(from)?,
                c,
                b,
                x,
            },
            &proof.0,
            &zk::log_params(l),
            &proof.1,
        )
        .map_err(|e| blame(from, format!("{what}: {e:?}")))
    }

    /// Proves Π-aff-g to `to` (with `to`'s ring-Pedersen parameters).
    pub(super) fn prove_aff(
        &self,
        to: PartyIndex,
        st: &AffStatement<'_>,
        w: &AffWitness<'_>,
    ) -> Result<AffProof> {
        aff::non_interactive::prove::<Secp256k1, D>(
            &self.fs("aff", self.me, to).state(),
            &self.aux_of(to)?,
            aff::Data {
                key0: self.key(st.key0)?,
                key1: self.key(self.me)?,
                c: st.c,
                d: st.d,
                y: st.y,
                x: st.big_x,
            },
            aff::PrivateData {
                x: w.x,
                y: w.y,
                nonce: w.s,
                nonce_y: w.r,
            },
            &zk::aff_params(),
            &mut OsRng,
        )
        .map_err(|e| fail(format!("could not prove Π-aff-g: {e:?}")))
    }

    /// Checks a Π-aff-g proof `from` made for us.
    pub(super) fn verify_aff(
        &self,
        from: PartyIndex,
        st: &AffStatement<'_>,
        proof: &AffProof,
        what: &str,
    ) -> Result<()> {
        aff::non_interactive::verify::<Secp256k1, D>(
            &self.fs("aff", from, self.me).state(),
            &self.aux_of(self.me)?,
            aff::Data {
                key0: self.key(st.key0)?,
                key1: self.key(from)?,
                c: st.c,
                d: st.d,
                y: st.y,
                x: st.big_x,
            },
            &proof.0,
            &zk::aff_params(),
            &proof.1,
        )
        .map_err(|e| {
            blame(
                from,
                format!("{what} fails its range / affine proof: {e:?}"),
            )
        })
    }

    /// The affine operation D = C^x·Enc_to(y), Y = Enc_me(y) and its proof for `to`.
    pub(super) fn affine(
        &self,
        to: PartyIndex,
        c: &Integer,
        x: &Integer,
        y: &Integer,
        big_x: &GPoint,
    ) -> Result<(Integer, Integer, AffProof)> {
        let ek_to = self.key(to)?;
        let (enc_y, s) = encrypt(ek_to, y)?;
        let cx = ek_to.omul(x, c).map_err(|_| fail("MtA multiplication"))?;
        let d = ek_to.oadd(&cx, &enc_y).map_err(|_| fail("MtA addition"))?;
        let (yy, r) = encrypt(&self.dk, y)?;
        let st = AffStatement {
            key0: to,
            c,
            d: &d,
            y: &yy,
            big_x,
        };
        let proof = self.prove_aff(to, &st, &AffWitness { x, y, s: &s, r: &r })?;
        Ok((d, yy, proof))
    }
}

/// Enc(x) under `key` with a fresh nonce; returns (ciphertext, nonce).
pub(super) fn encrypt(key: &dyn AnyEncryptionKey, x: &Integer) -> Result<(Integer, Integer)> {
    let nonce =
        cggmp21::paillier_zk::fast_paillier::utils::sample_in_mult_group(&mut OsRng, key.n());
    let c = key
        .encrypt_with(x, &nonce)
        .map_err(|_| fail("plaintext out of range"))?;
    Ok((c, nonce))
}

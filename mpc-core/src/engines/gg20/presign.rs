//! GG20 signing: three presigning rounds (MtA / MtAwc with range proofs, then the δ and σ
//! shares with proofs tying them to the public ciphertexts) and the non-interactive online
//! step (s_i = m·k_i + r·σ_i, each checked against public per-party points).
//!
//! Round 1: K_i = Enc_i(k_i) with Π-enc for every verifier.
//! Round 2: Γ_i; for every other signer j, the MtA ciphertexts D_{j,i} = K_j^{γ_i}·Enc_j(y)
//! and D̂_{j,i} = K_j^{w_i}·Enc_j(ŷ) with Y = Enc_i(y), each with Π-aff-g (against Γ_i and
//! W_i = λ_i·X_i, so MtAwc is checked in the exponent); H_i = K_i^{γ_i}·Enc_i(0) and
//! Ĥ_i = K_i^{w_i}·Enc_i(0) with Π-aff-g. Every ciphertext is public.
//! Round 3: δ_i, Δ_i = k_i·Γ and S_i = σ_i·Γ, with Π-log* proofs that k_i is K_i's plaintext
//! and that δ_i and σ_i are the plaintexts of U_i = H_i·ΠD_{i,j}·ΠY_{i,j}⁻¹ and of V_i (the
//! same with the hatted values), which every party computes from the public ciphertexts.
//! A wrong δ_i or σ_i therefore fails a proof and names its sender; an echo of the public
//! transcript detects equivocation. R = δ⁻¹·Γ, and each party's k_j·R and σ_j·R are public,
//! so every partial signature s_j is checked on its own.

use std::collections::BTreeMap;
use std::sync::Arc;

use cggmp21::generic_ec::{Point, Scalar};
use cggmp21::paillier_zk::fast_paillier::{DecryptionKey, EncryptionKey};
use cggmp21::paillier_zk::rug::Integer;
use cggmp21::paillier_zk::{
    group_element_vs_paillier_encryption_in_range as plog,
    paillier_affine_operation_in_range as aff, paillier_encryption_in_range as penc, IntegerExt,
};
use cggmp21::supported_curves::Secp256k1;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::data::{lagrange, scalar_to_int, BigHex, Gg20Data};
use super::rounds::{blame, decode, Next, Rounds};
use super::zk::{self, Fs, GPoint, D};
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::sig::Signature;

type S = Scalar<Secp256k1>;

#[derive(Serialize, Deserialize)]
struct R1 {
    k: BigHex,
    enc: (penc::Commitment, penc::Proof),
}

#[derive(Clone, Serialize, Deserialize)]
struct Mta {
    d: BigHex,
    y: BigHex,
    d_hat: BigHex,
    y_hat: BigHex,
}

#[derive(Clone, Serialize, Deserialize)]
struct R2Public {
    gamma: GPoint,
    h: BigHex,
    h_y: BigHex,
    h_hat: BigHex,
    h_hat_y: BigHex,
    /// MtA with each other signer j as Alice (ciphertexts under N_j, Y under our key).
    mta: BTreeMap<PartyIndex, Mta>,
}

type AffProof = (aff::Commitment<Secp256k1>, aff::Proof);
type LogProof = (plog::Commitment<Secp256k1>, plog::Proof);

#[derive(Serialize, Deserialize)]
pub(crate) struct R2 {
    public: R2Public,
    aff_d: AffProof,
    aff_d_hat: AffProof,
    aff_h: AffProof,
    aff_h_hat: AffProof,
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct R3Public {
    pub(crate) delta: S,
    pub(crate) big_delta: GPoint,
    pub(crate) sigma_gamma: GPoint,
    echo: [u8; 32],
}

#[derive(Serialize, Deserialize)]
pub(crate) struct R3 {
    pub(crate) public: R3Public,
    log_k: LogProof,
    log_delta: LogProof,
    log_sigma: LogProof,
}

#[derive(Serialize, Deserialize)]
struct R4 {
    s: S,
}

/// Faults a test can make an honest party commit (never set outside tests).
#[derive(Default)]
pub(crate) struct Faults {
    /// Bob's MtA mask y, instead of a sample in ±2^ℓ'.
    pub mta_y: Option<Integer>,
}

/// The presignature a run yields (see [`super::Gg20Presignature`]).
pub(crate) struct Presig {
    pub r_point: GPoint,
    pub k: S,
    pub sigma: S,
    /// k_j·R and σ_j·R of every signer.
    pub checks: BTreeMap<PartyIndex, (GPoint, GPoint)>,
}

pub(crate) enum Out {
    Presignature(Presig),
    Signature(Signature),
}

pub(crate) struct Presign {
    eid: [u8; 32],
    me: PartyIndex,
    signers: Vec<PartyIndex>,
    data: Arc<Gg20Data>,
    dk: DecryptionKey,
    eks: BTreeMap<PartyIndex, EncryptionKey>,
    /// W_j = λ_j·X_j.
    ws: BTreeMap<PartyIndex, GPoint>,
    w: S,
    k: Integer,
    k_nonce: Integer,
    gamma: Integer,
    ks: BTreeMap<PartyIndex, Integer>,
    pubs: BTreeMap<PartyIndex, R2Public>,
    r1_digest: Sha256,
    mine_y: BTreeMap<PartyIndex, (Integer, Integer)>,
    big_gamma: GPoint,
    delta: S,
    sigma: S,
    prehash: Option<[u8; 32]>,
    pk: [u8; 33],
    presig: Option<Presig>,
    faults: Faults,
}

fn fail(e: impl core::fmt::Display) -> Error {
    Error::Aborted {
        culprits: vec![],
        reason: format!("gg20: {e}"),
    }
}

fn ciphertext(from: PartyIndex, c: &BigHex, ek: &EncryptionKey, what: &str) -> Result<Integer> {
    if !cggmp21::paillier_zk::fast_paillier::utils::in_mult_group(&c.0, ek.nn()) {
        return Err(blame(from, format!("{what} is not a Paillier ciphertext")));
    }
    Ok(c.0.clone())
}

impl Presign {
    pub(crate) fn new(
        eid: [u8; 32],
        me: PartyIndex,
        signers: Vec<PartyIndex>,
        data: Arc<Gg20Data>,
        prehash: Option<[u8; 32]>,
        faults: Faults,
    ) -> Result<Self> {
        let own = &data.own;
        let dk = DecryptionKey::from_primes(own.p.0.clone(), own.q.0.clone())
            .map_err(|_| fail("own Paillier key is invalid"))?;
        let mut eks = BTreeMap::new();
        for &j in &signers {
            eks.insert(j, EncryptionKey::from_n(data.params_of(j)?.n.0.clone()));
        }
        let xs = signers
            .iter()
            .map(|&j| data.share_ids.get(usize::from(j)).copied())
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::Misuse("signer without a share id"))?;
        let mut ws = BTreeMap::new();
        let mut w = S::zero();
        for (pos, &j) in signers.iter().enumerate() {
            let l = lagrange(&xs, pos).ok_or(Error::Misuse("share ids are not distinct"))?;
            let x_j = data
                .public_shares
                .get(usize::from(j))
                .ok_or(Error::Misuse("signer without a public share"))?;
            ws.insert(j, **x_j * l);
            if j == me {
                w = l * &data.x;
            }
        }
        let q = zk::order();
        let k: Integer = q
            .random_below_ref(
                &mut cggmp21::paillier_zk::fast_paillier::utils::external_rand(&mut OsRng),
            )
            .into();
        let gamma: Integer = q
            .random_below_ref(
                &mut cggmp21::paillier_zk::fast_paillier::utils::external_rand(&mut OsRng),
            )
            .into();
        Ok(Presign {
            eid,
            me,
            signers,
            pk: [0; 33],
            dk,
            eks,
            ws,
            w,
            k,
            k_nonce: Integer::ZERO,
            gamma,
            ks: BTreeMap::new(),
            pubs: BTreeMap::new(),
            r1_digest: Sha256::new(),
            mine_y: BTreeMap::new(),
            big_gamma: Point::zero(),
            delta: S::zero(),
            sigma: S::zero(),
            prehash,
            presig: None,
            faults,
            data,
        })
        .map(|mut p| {
            p.pk.copy_from_slice(p.data.public_key.to_bytes(true).as_bytes());
            p
        })
    }

    fn fs(&self, purpose: &'static str, prover: PartyIndex, verifier: PartyIndex) -> Fs<'_> {
        Fs {
            purpose,
            session: &self.eid,
            prover,
            verifier: Some(verifier),
        }
    }

    fn aux_of(&self, j: PartyIndex) -> Result<penc::Aux> {
        let p = self.data.params_of(j)?;
        Ok(zk::aux(&p.ntilde.0, &p.h1.0, &p.h2.0))
    }

    fn ek(&self, j: PartyIndex) -> Result<&EncryptionKey> {
        self.eks.get(&j).ok_or(Error::Misuse("unknown signer"))
    }

    fn others(&self) -> impl Iterator<Item = PartyIndex> + '_ {
        self.signers.iter().copied().filter(move |&j| j != self.me)
    }

    /// U_i (δ) or V_i (σ): the ciphertext under N_i whose plaintext is party i's share.
    fn share_ciphertext(&self, i: PartyIndex, hatted: bool) -> Result<Integer> {
        let ek = self.ek(i)?;
        let pub_i = self
            .pubs
            .get(&i)
            .ok_or(Error::Misuse("missing round-2 data"))?;
        let mut acc = if hatted {
            pub_i.h_hat.0.clone()
        } else {
            pub_i.h.0.clone()
        };
        for j in self.signers.iter().copied().filter(|&j| j != i) {
            let from_j = self
                .pubs
                .get(&j)
                .and_then(|p| p.mta.get(&i))
                .ok_or_else(|| blame(j, format!("no MtA ciphertext for party {i}")))?;
            let mine = pub_i
                .mta
                .get(&j)
                .ok_or_else(|| blame(i, format!("no MtA ciphertext for party {j}")))?;
            let (d, y) = if hatted {
                (&from_j.d_hat, &mine.y_hat)
            } else {
                (&from_j.d, &mine.y)
            };
            acc = ek
                .oadd(&acc, &d.0)
                .map_err(|_| blame(j, "MtA ciphertext out of range"))?;
            acc = ek
                .osub(&acc, &y.0)
                .map_err(|_| blame(i, "MtA ciphertext out of range"))?;
        }
        Ok(acc)
    }

    #[allow(clippy::too_many_arguments)]
    fn prove_log(
        &self,
        fs: Fs<'_>,
        l: usize,
        c: &Integer,
        x: &Integer,
        nonce: &Integer,
        b: &GPoint,
        aux: &penc::Aux,
    ) -> Result<LogProof> {
        let ek = self.ek(self.me)?;
        let xp = *b * x.to_scalar::<Secp256k1>();
        plog::non_interactive::prove::<Secp256k1, D>(
            &fs.state(),
            aux,
            plog::Data {
                key0: ek,
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

    #[allow(clippy::too_many_arguments)]
    fn verify_log(
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
                key0: self.ek(from)?,
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

    fn nonce_of(&self, c: &Integer) -> Result<Integer> {
        let p = &self.data.own.p.0;
        let q = &self.data.own.q.0;
        let n = self.dk.n();
        let phi = Integer::from(p - 1u8) * Integer::from(q - 1u8);
        let e = Integer::from(
            n.invert_ref(&phi)
                .ok_or_else(|| fail("N not invertible mod φ(N)"))?,
        );
        let base = Integer::from(c % n);
        Ok(base.pow_mod_ref(&e, n).ok_or_else(|| fail("nonce"))?.into())
    }

    fn affine(
        &self,
        to: PartyIndex,
        c: &Integer,
        x: &Integer,
        y: &Integer,
        big_x: &GPoint,
    ) -> Result<(Integer, Integer, AffProof)> {
        let ek_to = self.ek(to)?;
        let ek_me = self.ek(self.me)?;
        let (enc_y, s) = ek_to
            .encrypt_with_random(&mut OsRng, y)
            .map_err(|_| fail("MtA mask out of range"))?;
        let cx = ek_to.omul(x, c).map_err(|_| fail("MtA multiplication"))?;
        let d = ek_to.oadd(&cx, &enc_y).map_err(|_| fail("MtA addition"))?;
        let (yy, r) = ek_me
            .encrypt_with_random(&mut OsRng, y)
            .map_err(|_| fail("MtA mask out of range"))?;
        let proof = self.prove_aff(to, to, c, &d, &yy, x, y, &s, &r, big_x)?;
        Ok((d, yy, proof))
    }

    #[allow(clippy::too_many_arguments)]
    fn prove_aff(
        &self,
        to: PartyIndex,
        key0: PartyIndex,
        c: &Integer,
        d: &Integer,
        yy: &Integer,
        x: &Integer,
        y: &Integer,
        s: &Integer,
        r: &Integer,
        big_x: &GPoint,
    ) -> Result<AffProof> {
        // key0 is the key C and D are under: the verifier's for MtA, our own for H_i.
        let key0 = self.ek(key0)?;
        aff::non_interactive::prove::<Secp256k1, D>(
            &self.fs("aff", self.me, to).state(),
            &self.aux_of(to)?,
            aff::Data {
                key0,
                key1: self.ek(self.me)?,
                c,
                d,
                y: yy,
                x: big_x,
            },
            aff::PrivateData {
                x,
                y,
                nonce: s,
                nonce_y: r,
            },
            &zk::aff_params(),
            &mut OsRng,
        )
        .map_err(|e| fail(format!("could not prove Π-aff-g: {e:?}")))
    }

    #[allow(clippy::too_many_arguments)]
    fn verify_aff(
        &self,
        from: PartyIndex,
        key0: PartyIndex,
        c: &Integer,
        d: &Integer,
        yy: &Integer,
        big_x: &GPoint,
        proof: &AffProof,
        what: &str,
    ) -> Result<()> {
        aff::non_interactive::verify::<Secp256k1, D>(
            &self.fs("aff", from, self.me).state(),
            &self.aux_of(self.me)?,
            aff::Data {
                key0: self.ek(key0)?,
                key1: self.ek(from)?,
                c,
                d,
                y: yy,
                x: big_x,
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

    fn round1(
        &mut self,
        inbox: BTreeMap<PartyIndex, Vec<u8>>,
    ) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let my_aux = self.aux_of(self.me)?;
        for (&i, payload) in &inbox {
            let m: R1 = decode(i, payload)?;
            let ek = self.ek(i)?;
            let k = ciphertext(i, &m.k, ek, "K")?;
            penc::non_interactive::verify::<D>(
                &self.fs("enc", i, self.me).state(),
                &my_aux,
                penc::Data {
                    key: ek,
                    ciphertext: &k,
                },
                &m.enc.0,
                &zk::enc_params(),
                &m.enc.1,
            )
            .map_err(|e| blame(i, format!("Π-enc proof for K is invalid: {e:?}")))?;
            self.ks.insert(i, k);
        }
        for (i, k) in &self.ks {
            self.r1_digest.update(i.to_be_bytes());
            self.r1_digest
                .update(k.to_digits::<u8>(cggmp21::paillier_zk::rug::integer::Order::Msf));
        }
        // Round 2.
        let g_int = &self.gamma;
        let w_int = scalar_to_int(&self.w);
        let gamma_pt = Point::generator() * g_int.to_scalar::<Secp256k1>();
        let w_pt = *self
            .ws
            .get(&self.me)
            .ok_or(Error::Misuse("own W missing"))?;
        let ek_me = self.ek(self.me)?.clone();
        let my_k = self
            .ks
            .get(&self.me)
            .cloned()
            .ok_or(Error::Misuse("own K missing"))?;
        let bound = Integer::ONE.clone() << zk::ELL_PRIME as u32;
        let mut mta = BTreeMap::new();
        let mut proofs = BTreeMap::new();
        let others: Vec<PartyIndex> = self.others().collect();
        for &j in &others {
            let kj = self.ks.get(&j).cloned().ok_or(Error::Misuse("K missing"))?;
            let y = self
                .faults
                .mta_y
                .clone()
                .unwrap_or_else(|| Integer::from_rng_pm(&bound, &mut OsRng));
            let y_hat = Integer::from_rng_pm(&bound, &mut OsRng);
            let (d, yy, p_d) = self.affine(j, &kj, g_int, &y, &gamma_pt)?;
            let (d_hat, yy_hat, p_d_hat) = self.affine(j, &kj, &w_int, &y_hat, &w_pt)?;
            self.mine_y.insert(j, (y, y_hat));
            mta.insert(
                j,
                Mta {
                    d: BigHex(d),
                    y: BigHex(yy),
                    d_hat: BigHex(d_hat),
                    y_hat: BigHex(yy_hat),
                },
            );
            proofs.insert(j, (p_d, p_d_hat));
        }
        // H_i and Ĥ_i: our own K times γ_i / w_i, with a zero mask.
        let zero = Integer::ZERO;
        let self_affine = |x: &Integer| -> Result<(Integer, Integer, Integer, Integer)> {
            let (enc0, s) = ek_me
                .encrypt_with_random(&mut OsRng, &zero)
                .map_err(|_| fail("encrypt"))?;
            let d = ek_me
                .oadd(&ek_me.omul(x, &my_k).map_err(|_| fail("omul"))?, &enc0)
                .map_err(|_| fail("oadd"))?;
            let (yy, r) = ek_me
                .encrypt_with_random(&mut OsRng, &zero)
                .map_err(|_| fail("encrypt"))?;
            Ok((d, yy, s, r))
        };
        let (h, h_y, hs, hr) = self_affine(g_int)?;
        let (h_hat, h_hat_y, hhs, hhr) = self_affine(&w_int)?;
        let public = R2Public {
            gamma: gamma_pt,
            h: BigHex(h.clone()),
            h_y: BigHex(h_y.clone()),
            h_hat: BigHex(h_hat.clone()),
            h_hat_y: BigHex(h_hat_y.clone()),
            mta,
        };
        let mut out = BTreeMap::new();
        for &j in &others {
            let (p_d, p_d_hat) = proofs.remove(&j).ok_or(Error::Misuse("proof missing"))?;
            let aff_h = self.prove_aff(
                j, self.me, &my_k, &h, &h_y, g_int, &zero, &hs, &hr, &gamma_pt,
            )?;
            let aff_h_hat = self.prove_aff(
                j, self.me, &my_k, &h_hat, &h_hat_y, &w_int, &zero, &hhs, &hhr, &w_pt,
            )?;
            let msg = R2 {
                public: public.clone(),
                aff_d: p_d,
                aff_d_hat: p_d_hat,
                aff_h,
                aff_h_hat,
            };
            out.insert(j, crate::adapter::encode(&msg)?);
        }
        self.pubs.insert(self.me, public);
        Ok(out)
    }

    fn round2(
        &mut self,
        inbox: BTreeMap<PartyIndex, Vec<u8>>,
    ) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let me = self.me;
        let my_k = self
            .ks
            .get(&me)
            .cloned()
            .ok_or(Error::Misuse("own K missing"))?;
        let mut alphas = S::zero();
        let mut alphas_hat = S::zero();
        for (&i, payload) in &inbox {
            let m: R2 = decode(i, payload)?;
            let ek_i = self.ek(i)?.clone();
            let p = &m.public;
            let expected: Vec<PartyIndex> =
                self.signers.iter().copied().filter(|&j| j != i).collect();
            if p.mta.keys().copied().collect::<Vec<_>>() != expected {
                return Err(blame(
                    i,
                    "MtA ciphertexts are not for exactly the other signers",
                ));
            }
            for (&j, c) in &p.mta {
                let ek_j = self.ek(j)?;
                ciphertext(i, &c.d, ek_j, "D")?;
                ciphertext(i, &c.d_hat, ek_j, "D̂")?;
                ciphertext(i, &c.y, &ek_i, "Y")?;
                ciphertext(i, &c.y_hat, &ek_i, "Ŷ")?;
            }
            for c in [&p.h, &p.h_y, &p.h_hat, &p.h_hat_y] {
                ciphertext(i, c, &ek_i, "H")?;
            }
            let mine = p
                .mta
                .get(&me)
                .ok_or_else(|| blame(i, "no MtA ciphertext for us"))?;
            let w_i = *self.ws.get(&i).ok_or(Error::Misuse("W missing"))?;
            let k_i = self.ks.get(&i).cloned().ok_or(Error::Misuse("K missing"))?;
            self.verify_aff(
                i,
                me,
                &my_k,
                &mine.d.0,
                &mine.y.0,
                &p.gamma,
                &m.aff_d,
                "MtA response (k·γ)",
            )?;
            self.verify_aff(
                i,
                me,
                &my_k,
                &mine.d_hat.0,
                &mine.y_hat.0,
                &w_i,
                &m.aff_d_hat,
                "MtAwc response (k·w)",
            )?;
            self.verify_aff(
                i,
                i,
                &k_i,
                &p.h.0,
                &p.h_y.0,
                &p.gamma,
                &m.aff_h,
                "H (k_i·γ_i)",
            )?;
            self.verify_aff(
                i,
                i,
                &k_i,
                &p.h_hat.0,
                &p.h_hat_y.0,
                &w_i,
                &m.aff_h_hat,
                "Ĥ (k_i·w_i)",
            )?;
            let a = self
                .dk
                .decrypt(&mine.d.0)
                .map_err(|_| blame(i, "MtA response does not decrypt"))?;
            let a_hat = self
                .dk
                .decrypt(&mine.d_hat.0)
                .map_err(|_| blame(i, "MtAwc response does not decrypt"))?;
            alphas += a.to_scalar::<Secp256k1>();
            alphas_hat += a_hat.to_scalar::<Secp256k1>();
            self.pubs.insert(i, m.public);
        }
        let mut betas = S::zero();
        let mut betas_hat = S::zero();
        for (y, y_hat) in self.mine_y.values() {
            betas -= y.to_scalar::<Secp256k1>();
            betas_hat -= y_hat.to_scalar::<Secp256k1>();
        }
        let k = self.k.to_scalar::<Secp256k1>();
        let gamma = self.gamma.to_scalar::<Secp256k1>();
        self.delta = k * gamma + alphas + betas;
        self.sigma = k * self.w + alphas_hat + betas_hat;
        self.big_gamma = self.pubs.values().map(|p| p.gamma).sum();
        let echo = self.echo()?;
        let u = self.share_ciphertext(me, false)?;
        let v = self.share_ciphertext(me, true)?;
        let u_plain = self
            .dk
            .decrypt(&u)
            .map_err(|_| fail("U does not decrypt"))?;
        let v_plain = self
            .dk
            .decrypt(&v)
            .map_err(|_| fail("V does not decrypt"))?;
        if u_plain.to_scalar::<Secp256k1>() != self.delta
            || v_plain.to_scalar::<Secp256k1>() != self.sigma
        {
            return Err(fail(
                "own δ/σ share differs from its ciphertext (a peer's MtA data is inconsistent)",
            ));
        }
        let (u_nonce, v_nonce) = (self.nonce_of(&u)?, self.nonce_of(&v)?);
        let public = R3Public {
            delta: self.delta,
            big_delta: self.big_gamma * k,
            sigma_gamma: self.big_gamma * self.sigma,
            echo,
        };
        let g = Point::<Secp256k1>::generator().to_point();
        let mut out = BTreeMap::new();
        for j in self.others().collect::<Vec<_>>() {
            let aux = self.aux_of(j)?;
            let log_k = self.prove_log(
                self.fs("log-k", me, j),
                zk::ELL,
                &my_k,
                &self.k,
                &self.k_nonce,
                &self.big_gamma,
                &aux,
            )?;
            let log_delta = self.prove_log(
                self.fs("log-delta", me, j),
                zk::ELL_SUM,
                &u,
                &u_plain,
                &u_nonce,
                &g,
                &aux,
            )?;
            let log_sigma = self.prove_log(
                self.fs("log-sigma", me, j),
                zk::ELL_SUM,
                &v,
                &v_plain,
                &v_nonce,
                &self.big_gamma,
                &aux,
            )?;
            let msg = R3 {
                public: public.clone(),
                log_k,
                log_delta,
                log_sigma,
            };
            out.insert(j, crate::adapter::encode(&msg)?);
        }
        Ok(out)
    }

    fn echo(&self) -> Result<[u8; 32]> {
        let mut h = self.r1_digest.clone();
        for (i, p) in &self.pubs {
            h.update(i.to_be_bytes());
            h.update(crate::adapter::encode(p)?);
        }
        Ok(h.finalize().into())
    }

    fn round3(&mut self, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Out>> {
        let me = self.me;
        let echo = self.echo()?;
        let g = Point::<Secp256k1>::generator().to_point();
        let mut publics = BTreeMap::new();
        for (&i, payload) in &inbox {
            let m: R3 = decode(i, payload)?;
            if m.public.echo != echo {
                return Err(Error::Aborted {
                    culprits: vec![],
                    reason: format!("gg20: party {i} saw different public round-1/2 messages than we did (a party sent different values to different parties)"),
                });
            }
            let k_i = self.ks.get(&i).cloned().ok_or(Error::Misuse("K missing"))?;
            self.verify_log(
                self.fs("log-k", i, me),
                zk::ELL,
                i,
                &k_i,
                &m.public.big_delta,
                &self.big_gamma,
                &m.log_k,
                "Δ_i = k_i·Γ",
            )?;
            let u = self.share_ciphertext(i, false)?;
            let v = self.share_ciphertext(i, true)?;
            self.verify_log(
                self.fs("log-delta", i, me),
                zk::ELL_SUM,
                i,
                &u,
                &(g * m.public.delta),
                &g,
                &m.log_delta,
                "δ_i share is wrong (does not match its MtA ciphertexts)",
            )?;
            self.verify_log(
                self.fs("log-sigma", i, me),
                zk::ELL_SUM,
                i,
                &v,
                &m.public.sigma_gamma,
                &self.big_gamma,
                &m.log_sigma,
                "σ_i share is wrong (does not match its MtAwc ciphertexts)",
            )?;
            publics.insert(i, m.public);
        }
        publics.insert(
            me,
            R3Public {
                delta: self.delta,
                big_delta: self.big_gamma * self.k.to_scalar::<Secp256k1>(),
                sigma_gamma: self.big_gamma * self.sigma,
                echo,
            },
        );
        let delta: S = publics.values().map(|p| p.delta).sum();
        let delta_inv = delta.invert().ok_or_else(|| fail("δ = 0; run again"))?;
        let sum_delta: GPoint = publics.values().map(|p| p.big_delta).sum();
        let sum_sigma: GPoint = publics.values().map(|p| p.sigma_gamma).sum();
        if sum_delta != g * delta || sum_sigma != *self.data.public_key * delta {
            return Err(fail("presignature consistency check failed"));
        }
        let r_point = self.big_gamma * delta_inv;
        let checks = publics
            .iter()
            .map(|(&j, p)| (j, (p.big_delta * delta_inv, p.sigma_gamma * delta_inv)))
            .collect();
        let presig = Presig {
            r_point,
            k: self.k.to_scalar::<Secp256k1>(),
            sigma: self.sigma,
            checks,
        };
        match self.prehash {
            None => Ok(Next::Done(Out::Presignature(presig))),
            Some(m) => {
                let s = partial(&presig, &m)?;
                self.presig = Some(presig);
                let payload = crate::adapter::encode(&R4 { s })?;
                Ok(Next::Send(
                    self.others().map(|j| (j, payload.clone())).collect(),
                ))
            }
        }
    }

    fn round4(&mut self, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Out>> {
        let presig = self
            .presig
            .take()
            .ok_or(Error::Misuse("round 4 before round 3"))?;
        let m = self.prehash.ok_or(Error::Misuse("no message"))?;
        let mut partials = vec![(self.me, partial(&presig, &m)?)];
        for (&i, payload) in &inbox {
            let r: R4 = decode(i, payload)?;
            partials.push((i, r.s));
        }
        let sig = combine(&presig.r_point, &presig.checks, &self.pk, &m, &partials)?;
        Ok(Next::Done(Out::Signature(sig)))
    }
}

fn r_scalar(r_point: &GPoint) -> Result<S> {
    let enc = r_point.to_bytes(true);
    let x = enc
        .as_bytes()
        .get(1..33)
        .ok_or_else(|| fail("R is the identity"))?;
    let r = S::from_be_bytes_mod_order(x);
    if r == S::zero() {
        return Err(fail("r = 0; run again"));
    }
    Ok(r)
}

/// s_i = m·k_i + r·σ_i.
pub(crate) fn partial(p: &Presig, prehash: &[u8; 32]) -> Result<S> {
    let m = S::from_be_bytes_mod_order(prehash);
    Ok(m * p.k + r_scalar(&p.r_point)? * p.sigma)
}

/// Checks every partial against its signer's public points, adds them, and returns the
/// low-s signature after verifying it.
pub(crate) fn combine(
    r_point: &GPoint,
    checks: &BTreeMap<PartyIndex, (GPoint, GPoint)>,
    pk: &[u8; 33],
    prehash: &[u8; 32],
    partials: &[(PartyIndex, S)],
) -> Result<Signature> {
    let m = S::from_be_bytes_mod_order(prehash);
    let r = r_scalar(r_point)?;
    if partials.len() != checks.len() {
        return Err(Error::WrongSignerCount {
            needed: u16::try_from(checks.len()).unwrap_or(u16::MAX),
            got: partials.len(),
        });
    }
    let mut bad = vec![];
    let mut s = S::zero();
    for (i, s_i) in partials {
        match checks.get(i) {
            Some((kr, sr)) if *r_point * s_i == *kr * m + *sr * r => s += s_i,
            _ => bad.push(*i),
        }
    }
    if !bad.is_empty() {
        return Err(Error::InvalidSignature { culprits: bad });
    }
    let mut rb = [0u8; 32];
    rb.copy_from_slice(r.to_be_bytes().as_bytes());
    let mut sb = [0u8; 32];
    sb.copy_from_slice(s.to_be_bytes().as_bytes());
    Ok(Signature::Ecdsa(crate::verify::canonical_ecdsa(
        pk, prehash, rb, sb,
    )?))
}

impl Rounds for Presign {
    type Output = Out;
    const ROUNDS: u8 = 4;

    fn start(&mut self) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let ek = self.ek(self.me)?.clone();
        let (k_c, nonce) = ek
            .encrypt_with_random(&mut OsRng, &self.k)
            .map_err(|_| fail("encrypt k"))?;
        self.k_nonce = nonce;
        self.ks.insert(self.me, k_c.clone());
        let mut out = BTreeMap::new();
        for j in self.others().collect::<Vec<_>>() {
            let enc = penc::non_interactive::prove::<D>(
                &self.fs("enc", self.me, j).state(),
                &self.aux_of(j)?,
                penc::Data {
                    key: &ek,
                    ciphertext: &k_c,
                },
                penc::PrivateData {
                    plaintext: &self.k,
                    nonce: &self.k_nonce,
                },
                &zk::enc_params(),
                &mut OsRng,
            )
            .map_err(|e| fail(format!("could not prove Π-enc: {e:?}")))?;
            out.insert(
                j,
                crate::adapter::encode(&R1 {
                    k: BigHex(k_c.clone()),
                    enc,
                })?,
            );
        }
        Ok(out)
    }

    fn round(&mut self, r: u8, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Out>> {
        match r {
            1 => self.round1(inbox).map(Next::Send),
            2 => self.round2(inbox).map(Next::Send),
            3 => self.round3(inbox),
            4 => self.round4(inbox),
            _ => Err(Error::Misuse("no such round")),
        }
    }
}

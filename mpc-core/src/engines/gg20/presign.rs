//! GG20 signing: presigning rounds (MtA / MtAwc with range proofs, then the δ and σ shares,
//! identification only when a check fails) and the non-interactive online step
//! (s_i = m·k_i + r·σ_i, each checked against public per-party points).
//!
//! Round 1: K_i = Enc_i(k_i) with Π-enc for every verifier.
//! Round 2: Γ_i; for every other signer j, the MtA ciphertexts D = K_j^{γ_i}·Enc_j(y) and
//! D̂ = K_j^{w_i}·Enc_j(ŷ) with Y = Enc_i(y) (party i as Bob for Alice j), each with Π-aff-g for j (against
//! Γ_i and W_i = λ_i·X_i, so MtAwc is checked in the exponent). Every ciphertext is public.
//! Round 3: δ_i, Δ_i = k_i·Γ (Π-log* against K_i) and S_i = σ_i·Γ, with an echo of the
//! public transcript (detects equivocation). R = δ⁻¹·Γ; the run checks Σ Δ_i = δ·G and
//! Σ S_i = δ·X. Each party's k_j·R and σ_j·R are public, so every partial signature s_j is
//! checked on its own.
//! Round 4: every party sends a hash of the round-3 values it holds with its partial
//! signature (signing) or an acknowledgement (presigning) — or, when a check failed,
//! identification (see [`identify`]): every party whose δ_i or σ_i does not match its
//! public MtA ciphertexts is named.
//!
//! The messages are [`super::messages::presign`].

mod identify;
mod proofs;

use std::collections::BTreeMap;
use std::sync::Arc;

use cggmp21::generic_ec::{Point, Scalar};
use cggmp21::paillier_zk::fast_paillier::{DecryptionKey, EncryptionKey};
use cggmp21::paillier_zk::rug::Integer;
use cggmp21::paillier_zk::{paillier_encryption_in_range as penc, IntegerExt};
use cggmp21::supported_curves::Secp256k1;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use self::proofs::{encrypt, AffStatement};
use super::data::{lagrange, scalar_to_int, wipe, BigHex, Gg20Data};
pub(crate) use super::messages::presign::{
    AffProof, LogProof, Mta, Round1 as R1, Round2 as R2, Round2Public as R2Public, Round3 as R3,
    Round3Public as R3Public, Round4 as R4, Round4Body as R4Body,
};
use super::zk::{self, GPoint, D};
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::rounds::{blame, decode, Next, Rounds};
use crate::sig::Signature;

type S = Scalar<Secp256k1>;

/// Faults a test can make an honest party commit. Only `cfg(test)` builds have them: in
/// every other build the type is empty and each fault reads as absent.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Faults {
    /// Bob's MtA mask y, instead of a sample in ±2^ℓ'.
    pub mta_y: Option<Integer>,
    /// Added to the δ_i the party announces (and keeps as its own record).
    pub delta_offset: Option<S>,
    /// Added to the σ_i·Γ the party announces (and keeps as its own record).
    pub sigma_offset: Option<GPoint>,
    /// The party answers a failed check with its partial signature instead of proving
    /// its shares.
    pub refuse_identification: bool,
}

/// No faults (a build other than `cfg(test)`).
#[cfg(not(test))]
#[derive(Default)]
pub(crate) struct Faults {
    _none: (),
}

#[cfg(test)]
impl Faults {
    fn mta_y(&self) -> Option<Integer> {
        self.mta_y.clone()
    }
    fn delta_offset(&self) -> S {
        self.delta_offset.unwrap_or_else(S::zero)
    }
    fn sigma_offset(&self) -> GPoint {
        self.sigma_offset.unwrap_or_else(Point::zero)
    }
    fn refuse_identification(&self) -> bool {
        self.refuse_identification
    }
}

#[cfg(not(test))]
impl Faults {
    fn mta_y(&self) -> Option<Integer> {
        None
    }
    fn delta_offset(&self) -> S {
        S::zero()
    }
    fn sigma_offset(&self) -> GPoint {
        Point::zero()
    }
    fn refuse_identification(&self) -> bool {
        false
    }
}

/// The presignature a run yields (see [`super::Gg20Presignature`]).
#[derive(Serialize, Deserialize)]
pub(crate) struct Presig {
    pub r_point: GPoint,
    pub k: S,
    pub sigma: S,
    /// k_j·R and σ_j·R of every signer.
    pub checks: BTreeMap<PartyIndex, (GPoint, GPoint)>,
}

impl Drop for Presig {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.k);
        zeroize::Zeroize::zeroize(&mut self.sigma);
    }
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
    mine_y: BTreeMap<PartyIndex, (Integer, Integer)>,
    big_gamma: GPoint,
    delta: S,
    sigma: S,
    prehash: Option<[u8; 32]>,
    pk: [u8; 33],
    presig: Option<Presig>,
    /// Round-3 public values of every signer.
    r3: BTreeMap<PartyIndex, R3Public>,
    /// Set when a presignature check failed and round 4 is identification.
    identifying: bool,
    faults: Faults,
}

impl Drop for Presign {
    /// Wipes the secrets of the run: k_i and its Paillier nonce, γ_i, the MtA masks, w_i
    /// and σ_i. (The Paillier decryption key is `fast-paillier`'s, which does not wipe it.)
    fn drop(&mut self) {
        wipe(&mut self.k);
        wipe(&mut self.k_nonce);
        wipe(&mut self.gamma);
        for (y, y_hat) in self.mine_y.values_mut() {
            wipe(y);
            wipe(y_hat);
        }
        zeroize::Zeroize::zeroize(&mut self.w);
        zeroize::Zeroize::zeroize(&mut self.sigma);
    }
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
            mine_y: BTreeMap::new(),
            big_gamma: Point::zero(),
            delta: S::zero(),
            sigma: S::zero(),
            prehash,
            presig: None,
            r3: BTreeMap::new(),
            identifying: false,
            faults,
            data,
        })
        .map(|mut p| {
            p.pk.copy_from_slice(p.data.public_key.to_bytes(true).as_bytes());
            p
        })
    }

    fn ek(&self, j: PartyIndex) -> Result<&EncryptionKey> {
        self.eks.get(&j).ok_or(Error::Misuse("unknown signer"))
    }

    fn others(&self) -> impl Iterator<Item = PartyIndex> + '_ {
        self.signers.iter().copied().filter(move |&j| j != self.me)
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
        // Round 2.
        let g_int = self.gamma.clone();
        let w_int = scalar_to_int(&self.w);
        let gamma_pt = Point::generator() * g_int.to_scalar::<Secp256k1>();
        let w_pt = *self
            .ws
            .get(&self.me)
            .ok_or(Error::Misuse("own W missing"))?;
        let bound = Integer::ONE.clone() << zk::ELL_PRIME as u32;
        let mut mta = BTreeMap::new();
        let mut proofs = BTreeMap::new();
        for j in self.others().collect::<Vec<_>>() {
            let kj = self.ks.get(&j).cloned().ok_or(Error::Misuse("K missing"))?;
            let y = self
                .faults
                .mta_y()
                .unwrap_or_else(|| Integer::from_rng_pm(&bound, &mut OsRng));
            let y_hat = Integer::from_rng_pm(&bound, &mut OsRng);
            let (d, yy, p_d) = self.affine(j, &kj, &g_int, &y, &gamma_pt)?;
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
        let public = R2Public {
            gamma: gamma_pt,
            mta,
        };
        let mut out = BTreeMap::new();
        for (j, (aff_d, aff_d_hat)) in proofs {
            let msg = R2 {
                public: public.clone(),
                aff_d,
                aff_d_hat,
            };
            out.insert(j, crate::adapter::encode(&msg)?);
        }
        self.pubs.insert(self.me, public);
        Ok(out)
    }

    /// Checks a peer's round-2 message: ciphertexts in range, and the MtA / MtAwc
    /// responses it made for us against Γ_i and W_i. Returns our two MtA plaintexts.
    fn check_r2(&self, i: PartyIndex, m: &R2) -> Result<(S, S)> {
        let me = self.me;
        let ek_i = self.ek(i)?;
        let p = &m.public;
        let expected: Vec<PartyIndex> = self.signers.iter().copied().filter(|&j| j != i).collect();
        if !p.mta.keys().copied().eq(expected) {
            return Err(blame(
                i,
                "MtA ciphertexts are not for exactly the other signers",
            ));
        }
        for (&j, c) in &p.mta {
            let ek_j = if j == me {
                self.dk.encryption_key()
            } else {
                self.ek(j)?
            };
            ciphertext(i, &c.d, ek_j, "D")?;
            ciphertext(i, &c.d_hat, ek_j, "D̂")?;
            ciphertext(i, &c.y, ek_i, "Y")?;
            ciphertext(i, &c.y_hat, ek_i, "Ŷ")?;
        }
        let mine = p
            .mta
            .get(&me)
            .ok_or_else(|| blame(i, "no MtA ciphertext for us"))?;
        let w_i = self.ws.get(&i).ok_or(Error::Misuse("W missing"))?;
        let my_k = self.ks.get(&me).ok_or(Error::Misuse("own K missing"))?;
        let st = |d, y, big_x| AffStatement {
            key0: me,
            c: my_k,
            d,
            y,
            big_x,
        };
        self.verify_aff(
            i,
            &st(&mine.d.0, &mine.y.0, &p.gamma),
            &m.aff_d,
            "MtA response (k·γ)",
        )?;
        self.verify_aff(
            i,
            &st(&mine.d_hat.0, &mine.y_hat.0, w_i),
            &m.aff_d_hat,
            "MtAwc response (k·w)",
        )?;
        let plain = |c: &BigHex, what: &str| {
            self.dk
                .decrypt(&c.0)
                .map(|a| a.to_scalar::<Secp256k1>())
                .map_err(|_| blame(i, format!("{what} does not decrypt")))
        };
        Ok((
            plain(&mine.d, "MtA response")?,
            plain(&mine.d_hat, "MtAwc response")?,
        ))
    }

    fn round2(
        &mut self,
        inbox: BTreeMap<PartyIndex, Vec<u8>>,
    ) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let me = self.me;
        let mut alphas = S::zero();
        let mut alphas_hat = S::zero();
        for (&i, payload) in &inbox {
            let m: R2 = decode(i, payload)?;
            let (a, a_hat) = self.check_r2(i, &m)?;
            alphas += a;
            alphas_hat += a_hat;
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
        let public = R3Public {
            delta: self.delta + self.faults.delta_offset(),
            big_delta: self.big_gamma * k,
            sigma_gamma: self.big_gamma * self.sigma + self.faults.sigma_offset(),
            echo: self.echo()?,
        };
        let my_k = self.ks.get(&me).ok_or(Error::Misuse("own K missing"))?;
        let mut out = BTreeMap::new();
        for j in self.others().collect::<Vec<_>>() {
            let log_k = self.prove_log(
                self.fs("log-k", me, j),
                zk::ELL,
                my_k,
                &self.k,
                &self.k_nonce,
                &self.big_gamma,
                &self.aux_of(j)?,
            )?;
            let msg = R3 {
                public: public.clone(),
                log_k,
            };
            out.insert(j, crate::adapter::encode(&msg)?);
        }
        self.r3.insert(me, public);
        Ok(out)
    }

    /// Hash of every signer's public round-1 and round-2 values as this party holds them.
    fn echo(&self) -> Result<[u8; 32]> {
        use super::transcript::{hash, int, PresignEcho, PresignRound2};
        Ok(hash(&PresignEcho {
            k: self.ks.iter().map(|(j, k)| (*j, int(k))).collect(),
            round2: self
                .pubs
                .iter()
                .map(|(j, p)| PresignRound2 {
                    party: *j,
                    gamma: p.gamma,
                    mta: p
                        .mta
                        .iter()
                        .map(|(i, m)| {
                            (
                                *i,
                                [int(&m.d.0), int(&m.y.0), int(&m.d_hat.0), int(&m.y_hat.0)],
                            )
                        })
                        .collect(),
                })
                .collect(),
        }))
    }

    fn round3(&mut self, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Out>> {
        let me = self.me;
        let echo = self.echo()?;
        for (&i, payload) in &inbox {
            let m: R3 = decode(i, payload)?;
            if m.public.echo != echo {
                return Err(Error::Aborted {
                    culprits: vec![],
                    reason: format!("gg20: party {i} saw different public round-1/2 messages than we did (a party sent different values to different parties)"),
                });
            }
            let k_i = self.ks.get(&i).ok_or(Error::Misuse("K missing"))?;
            self.verify_log(
                self.fs("log-k", i, me),
                zk::ELL,
                i,
                k_i,
                &m.public.big_delta,
                &self.big_gamma,
                &m.log_k,
                "Δ_i = k_i·Γ",
            )?;
            self.r3.insert(i, m.public);
        }
        let g = Point::<Secp256k1>::generator().to_point();
        let delta: S = self.r3.values().map(|p| p.delta).sum();
        let sum_delta: GPoint = self.r3.values().map(|p| p.big_delta).sum();
        let sum_sigma: GPoint = self.r3.values().map(|p| p.sigma_gamma).sum();
        if sum_delta != g * delta || sum_sigma != *self.data.public_key * delta {
            self.identifying = true;
            if !self.faults.refuse_identification() {
                return self.identification().map(Next::Send);
            }
        }
        let delta_inv = delta.invert().ok_or_else(|| fail("δ = 0; run again"))?;
        let r_point = self.big_gamma * delta_inv;
        let checks = self
            .r3
            .iter()
            .map(|(&j, p)| (j, (p.big_delta * delta_inv, p.sigma_gamma * delta_inv)))
            .collect();
        let presig = Presig {
            r_point,
            k: self.k.to_scalar::<Secp256k1>(),
            sigma: self.sigma,
            checks,
        };
        let body = match self.prehash {
            None => R4Body::Ack,
            Some(m) => R4Body::Partial(partial(&presig, &m)?),
        };
        self.presig = Some(presig);
        self.r4_message(body)
            .map(|p| Next::Send(self.others().map(|j| (j, p.clone())).collect()))
    }

    /// Hash of every signer's round-3 public values as this party holds them.
    fn echo3(&self) -> Result<[u8; 32]> {
        use super::transcript::{hash, PresignRound3, PresignRound3Echo};
        Ok(hash(&PresignRound3Echo {
            parties: self
                .r3
                .iter()
                .map(|(j, p)| PresignRound3 {
                    party: *j,
                    delta: p.delta,
                    big_delta: p.big_delta,
                    sigma_gamma: p.sigma_gamma,
                    echo: p.echo,
                })
                .collect(),
        }))
    }

    fn r4_message(&self, body: R4Body) -> Result<Vec<u8>> {
        crate::adapter::encode(&R4 {
            echo: self.echo3()?,
            body,
        })
    }

    fn round4(&mut self, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Out>> {
        let echo = self.echo3()?;
        let mut bodies = BTreeMap::new();
        let mut differ = None;
        for (&i, payload) in &inbox {
            let m: R4 = decode(i, payload)?;
            if m.echo != echo {
                differ.get_or_insert(i);
            }
            bodies.insert(i, (m.echo == echo, m.body));
        }
        // With equal round-3 values every honest party took the same decision. After a
        // failed check, identification messages are checked against our own round-3 values
        // whatever their sender's echo says.
        if self.identifying {
            return Err(self.identify(bodies));
        }
        if let Some(i) = differ {
            return Err(Error::Aborted {
                culprits: vec![],
                reason: format!("gg20: party {i} holds different round-3 values than we do (a party sent different values to different parties)"),
            });
        }
        let presig = self
            .presig
            .take()
            .ok_or(Error::Misuse("round 4 before round 3"))?;
        let mut partials = vec![];
        for (i, (_, body)) in bodies {
            match (body, self.prehash) {
                (R4Body::Partial(s), Some(_)) => partials.push((i, s)),
                (R4Body::Ack, None) => {}
                (R4Body::Identify(_), _) => {
                    return Err(blame(
                        i,
                        "claims a failed presignature check on values for which it passes",
                    ))
                }
                _ => return Err(blame(i, "sent the wrong kind of round-4 message")),
            }
        }
        let Some(m) = self.prehash else {
            return Ok(Next::Done(Out::Presignature(presig)));
        };
        partials.push((self.me, partial(&presig, &m)?));
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
    const KIND: crate::limits::ProtocolKind = crate::limits::ProtocolKind::Presign;

    fn start(&mut self) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let (k_c, nonce) = encrypt(&self.dk, &self.k)?;
        self.k_nonce = nonce;
        self.ks.insert(self.me, k_c.clone());
        let mut out = BTreeMap::new();
        for j in self.others().collect::<Vec<_>>() {
            let enc = penc::non_interactive::prove::<D>(
                &self.fs("enc", self.me, j).state(),
                &self.aux_of(j)?,
                penc::Data {
                    key: &self.dk,
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

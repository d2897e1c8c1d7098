//! Identification after a failed presignature check (Σ k_i·Γ ≠ δ·G or Σ σ_i·Γ ≠ δ·X).
//!
//! Each party i then publishes H_i = K_i^{γ_i}·Enc_i(0) and Ĥ_i = K_i^{w_i}·Enc_i(0) with
//! Π-aff-g proofs (against Γ_i and W_i), and proves with Π-log* that its δ_i and σ_i·Γ are
//! the plaintexts of U_i = H_i·H_y⁻¹·Π_j D_{j→i}·Π_j Y_{i→j}⁻¹ and of V_i (the same with the
//! hatted values), where D_{j→i} is the MtA response party j made for i and Y_{i→j} party
//! i's own mask ciphertext in its response to j; every party computes them from public
//! ciphertexts. Every party whose proof fails against the round-3 values we hold is named,
//! and so is a party that answers with a partial signature although it holds the same
//! round-3 values; an honest party's proofs always pass. The happy path skips all of this.

use std::collections::BTreeMap;

use cggmp21::generic_ec::Point;
use cggmp21::paillier_zk::fast_paillier::AnyEncryptionKey;
use cggmp21::paillier_zk::rug::Integer;
use cggmp21::paillier_zk::IntegerExt;
use cggmp21::supported_curves::Secp256k1;

use super::proofs::{encrypt, AffStatement, AffWitness};
use super::{ciphertext, fail, Presign, R4Body};
use crate::engines::gg20::data::{scalar_to_int, BigHex};
use crate::engines::gg20::messages::presign::Identify as Ident;
use crate::engines::gg20::zk;
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::rounds::blame;

impl Presign {
    /// U_i (δ) or V_i (σ) of party `i`, given its self term `h` and that term's Y.
    fn share_ciphertext(
        &self,
        i: PartyIndex,
        h: &Integer,
        h_y: &Integer,
        hatted: bool,
    ) -> Result<Integer> {
        let key = self.key(i)?;
        let pub_i = self
            .pubs
            .get(&i)
            .ok_or(Error::Misuse("missing round-2 data"))?;
        let mut acc = key
            .osub(h, h_y)
            .map_err(|_| blame(i, "H is not a ciphertext"))?;
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
            acc = key
                .oadd(&acc, &d.0)
                .map_err(|_| blame(j, "MtA ciphertext out of range"))?;
            acc = key
                .osub(&acc, &y.0)
                .map_err(|_| blame(i, "MtA ciphertext out of range"))?;
        }
        Ok(acc)
    }

    /// The Paillier nonce of `c` under our key (c = (1+N)^m·ρ^N ⇒ ρ = (c mod N)^{N⁻¹ mod φ}).
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
        super::super::data::secret_pow_mod(&base, &e, n).ok_or_else(|| fail("nonce"))
    }

    /// H = K^x·Enc(0) under our key, with its zero ciphertext Y and both nonces.
    fn self_term(&self, k: &Integer, x: &Integer) -> Result<[Integer; 4]> {
        let (enc0, s) = encrypt(&self.dk, &Integer::ZERO)?;
        let kx = self.dk.omul(x, k).map_err(|_| fail("omul"))?;
        let h = self.dk.oadd(&kx, &enc0).map_err(|_| fail("oadd"))?;
        let (y, r) = encrypt(&self.dk, &Integer::ZERO)?;
        Ok([h, y, s, r])
    }

    /// Our identification messages, one per peer.
    pub(super) fn identification(&self) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let me = self.me;
        let my_k = self.ks.get(&me).ok_or(Error::Misuse("own K missing"))?;
        let gamma_pt = self
            .pubs
            .get(&me)
            .map(|p| p.gamma)
            .ok_or(Error::Misuse("own Γ missing"))?;
        let w_pt = *self.ws.get(&me).ok_or(Error::Misuse("own W missing"))?;
        let w_int = scalar_to_int(&self.w);
        let [h, h_y, hs, hr] = self.self_term(my_k, &self.gamma)?;
        let [hh, hh_y, hhs, hhr] = self.self_term(my_k, &w_int)?;
        let u = self.share_ciphertext(me, &h, &h_y, false)?;
        let v = self.share_ciphertext(me, &hh, &hh_y, true)?;
        let plain = |c: &Integer| self.dk.decrypt(c).map_err(|_| fail("U/V does not decrypt"));
        let (u_plain, v_plain) = (plain(&u)?, plain(&v)?);
        if u_plain.to_scalar::<Secp256k1>() != self.delta
            || v_plain.to_scalar::<Secp256k1>() != self.sigma
        {
            return Err(fail("own δ/σ share differs from its ciphertext"));
        }
        let (u_nonce, v_nonce) = (self.nonce_of(&u)?, self.nonce_of(&v)?);
        let zero = Integer::ZERO;
        let g = Point::<Secp256k1>::generator().to_point();
        let mut out = BTreeMap::new();
        for j in self.others().collect::<Vec<_>>() {
            let aux = self.aux_of(j)?;
            let aff_h = self.prove_aff(
                j,
                &AffStatement {
                    key0: me,
                    c: my_k,
                    d: &h,
                    y: &h_y,
                    big_x: &gamma_pt,
                },
                &AffWitness {
                    x: &self.gamma,
                    y: &zero,
                    s: &hs,
                    r: &hr,
                },
            )?;
            let aff_h_hat = self.prove_aff(
                j,
                &AffStatement {
                    key0: me,
                    c: my_k,
                    d: &hh,
                    y: &hh_y,
                    big_x: &w_pt,
                },
                &AffWitness {
                    x: &w_int,
                    y: &zero,
                    s: &hhs,
                    r: &hhr,
                },
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
            let msg = self.r4_message(R4Body::Identify(Box::new(Ident {
                h: BigHex(h.clone()),
                h_y: BigHex(h_y.clone()),
                h_hat: BigHex(hh.clone()),
                h_hat_y: BigHex(hh_y.clone()),
                aff_h,
                aff_h_hat,
                log_delta,
                log_sigma,
            })))?;
            out.insert(j, msg);
        }
        Ok(out)
    }

    /// Checks every peer's identification message; the abort names every party whose
    /// δ_i or σ_i does not match its ciphertexts.
    pub(super) fn identify(&self, msgs: BTreeMap<PartyIndex, (bool, R4Body)>) -> Error {
        let mut culprits = vec![];
        let mut reasons = vec![];
        // Our own announced values are checked like everyone's (only a faulty party fails).
        let own = self.r3.get(&self.me);
        if own.is_none_or(|p| p.delta != self.delta || p.sigma_gamma != self.big_gamma * self.sigma)
        {
            culprits.push(self.me);
            reasons.push(format!(
                "party {}: own announced δ_i / σ_i share is wrong (differs from its MtA ciphertexts)",
                self.me
            ));
        }
        let mut views_differ = false;
        for (i, (same_view, body)) in msgs {
            let checked = match body {
                R4Body::Identify(m) => self.check_ident(i, &m),
                _ if same_view => Err(blame(i, "did not prove its δ_i / σ_i shares although the presignature check fails on the round-3 values it holds too")),
                _ => {
                    views_differ = true;
                    Ok(())
                }
            };
            if let Err(e) = checked {
                culprits.push(i);
                reasons.push(e.to_string());
            }
        }
        if !culprits.is_empty() {
            return Error::Aborted {
                culprits,
                reason: format!("gg20 identification: {}", reasons.join("; ")),
            };
        }
        let reason = if views_differ {
            "gg20: the presignature check failed and parties hold different round-3 values (a party sent different values to different parties)"
        } else {
            "gg20: the presignature check failed although every party's δ_i and σ_i match its ciphertexts (the MtA data of two colluding parties disagree; not attributable)"
        };
        Error::Aborted {
            culprits,
            reason: reason.into(),
        }
    }

    fn check_ident(&self, i: PartyIndex, m: &Ident) -> Result<()> {
        let me = self.me;
        let ek_i = self.ek(i)?;
        let h = ciphertext(i, &m.h, ek_i, "H")?;
        let h_y = ciphertext(i, &m.h_y, ek_i, "H's Y")?;
        let hh = ciphertext(i, &m.h_hat, ek_i, "Ĥ")?;
        let hh_y = ciphertext(i, &m.h_hat_y, ek_i, "Ĥ's Y")?;
        let k_i = self.ks.get(&i).ok_or(Error::Misuse("K missing"))?;
        let gamma_i = self
            .pubs
            .get(&i)
            .map(|p| p.gamma)
            .ok_or(Error::Misuse("Γ missing"))?;
        let w_i = self.ws.get(&i).ok_or(Error::Misuse("W missing"))?;
        let r3 = self
            .r3
            .get(&i)
            .ok_or(Error::Misuse("round-3 data missing"))?;
        let st = |d, y, big_x| AffStatement {
            key0: i,
            c: k_i,
            d,
            y,
            big_x,
        };
        self.verify_aff(i, &st(&h, &h_y, &gamma_i), &m.aff_h, "H (k_i·γ_i)")?;
        self.verify_aff(i, &st(&hh, &hh_y, w_i), &m.aff_h_hat, "Ĥ (k_i·w_i)")?;
        let u = self.share_ciphertext(i, &h, &h_y, false)?;
        let v = self.share_ciphertext(i, &hh, &hh_y, true)?;
        let g = Point::<Secp256k1>::generator().to_point();
        self.verify_log(
            self.fs("log-delta", i, me),
            zk::ELL_SUM,
            i,
            &u,
            &(g * r3.delta),
            &g,
            &m.log_delta,
            "δ_i share is wrong (does not match its MtA ciphertexts)",
        )?;
        self.verify_log(
            self.fs("log-sigma", i, me),
            zk::ELL_SUM,
            i,
            &v,
            &r3.sigma_gamma,
            &self.big_gamma,
            &m.log_sigma,
            "σ_i share is wrong (does not match its MtAwc ciphertexts)",
        )
    }
}

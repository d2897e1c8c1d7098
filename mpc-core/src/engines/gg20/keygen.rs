//! GG20 key generation: Feldman VSS with commit-then-reveal (hash commitment to the
//! coefficient commitments, Schnorr proof of the constant term), and each party's fresh
//! Paillier / ring-Pedersen parameters with Π-mod, Π-prm (round 1) and Π-fac (round 2).
//!
//! Round 1 (a broadcast): the hash commitment to the party's coefficient commitments, and
//! its N, Ñ, h1, h2 with Π-mod (N and Ñ) and Π-prm.
//! Round 2 (to each party): an echo of every party's round-1 message (its
//! [`KeygenRound1`] hash), the decommitment, a Schnorr proof of the constant term, Π-fac for
//! the receiver's parameters, and the receiver's share.
//! Output: each party checks the echoes ([`crate::rounds::compare_echo`]: a sender that
//! misstates its own message or the receiver's is named, a difference in a third party's
//! message aborts naming nobody, so honest parties never end with different keys), the
//! decommitments, proofs and shares, and sums the shares.
//!
//! The messages are [`super::messages::keygen`].

use std::collections::BTreeMap;

use cggmp21::generic_ec::{NonZero, Point, Scalar, SecretScalar};
use cggmp21::paillier_zk::rug::Integer;
use cggmp21::supported_curves::Secp256k1;
use rand_core::{OsRng, RngCore};

use super::data::{BigHex, Gg20Data, OwnSecrets, PartyParams};
use super::messages::keygen::{Round1 as R1, Round2 as R2};
use super::moduli::{self, ModuliPublic};
use super::transcript::{self, int, KeygenCommitment, KeygenRound1, KeygenSchnorr};
use super::zk::{Fs, GPoint};
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::rounds::{blame, compare_echo, decode, equivocation, Echo, Next, Rounds};

type S = Scalar<Secp256k1>;

pub(crate) struct Keygen {
    pub eid: [u8; 32],
    pub me: PartyIndex,
    pub n: u16,
    pub t: u16,
    pub own: OwnSecrets,
    pub params: PartyParams,
    coeffs: Vec<SecretScalar<Secp256k1>>,
    commitments: Vec<GPoint>,
    blind: [u8; 32],
    theirs: BTreeMap<PartyIndex, (ModuliPublic, [u8; 32])>,
    /// The [`KeygenRound1`] hash of every party's round-1 message (this party's included).
    round1: BTreeMap<PartyIndex, [u8; 32]>,
}

fn commit(eid: &[u8; 32], i: PartyIndex, coefficients: &[GPoint], blind: &[u8; 32]) -> [u8; 32] {
    transcript::hash(&KeygenCommitment {
        execution: eid,
        party: i,
        coefficients,
        blind,
    })
}

fn schnorr_challenge(eid: &[u8; 32], i: PartyIndex, a: &GPoint, r: &GPoint) -> S {
    S::from_be_bytes_mod_order(transcript::hash(&KeygenSchnorr {
        execution: eid,
        party: i,
        public: a,
        commitment: r,
    }))
}

fn round1_hash(i: PartyIndex, commitment: &[u8; 32], p: &PartyParams) -> [u8; 32] {
    transcript::hash(&KeygenRound1 {
        party: i,
        commitment: *commitment,
        n: int(&p.n.0),
        ntilde: int(&p.ntilde.0),
        h1: int(&p.h1.0),
        h2: int(&p.h2.0),
    })
}

fn id_of(j: PartyIndex) -> S {
    S::from(u64::from(j) + 1)
}

impl Keygen {
    pub(crate) fn new(
        eid: [u8; 32],
        me: PartyIndex,
        n: u16,
        t: u16,
        own: OwnSecrets,
        params: PartyParams,
    ) -> Self {
        let coeffs: Vec<_> = (0..t).map(|_| SecretScalar::random(&mut OsRng)).collect();
        let commitments = coeffs.iter().map(|c| Point::generator() * c).collect();
        let mut blind = [0u8; 32];
        OsRng.fill_bytes(&mut blind);
        Keygen {
            eid,
            me,
            n,
            t,
            own,
            params,
            coeffs,
            commitments,
            blind,
            theirs: BTreeMap::new(),
            round1: BTreeMap::new(),
        }
    }

    fn fs(&self, prover: PartyIndex, verifier: PartyIndex) -> Fs<'_> {
        Fs {
            purpose: "keygen",
            session: &self.eid,
            prover,
            verifier: Some(verifier),
        }
    }

    fn eval(&self, x: &S) -> S {
        self.coeffs
            .iter()
            .rev()
            .fold(S::zero(), |acc, c| acc * x + c.as_ref())
    }

    fn others(&self) -> Vec<PartyIndex> {
        (0..self.n).filter(|&j| j != self.me).collect()
    }
}

fn fail(e: String) -> Error {
    Error::Aborted {
        culprits: vec![],
        reason: format!("gg20 keygen: {e}"),
    }
}

impl Rounds for Keygen {
    type Output = Gg20Data;
    const ROUNDS: u8 = 2;
    const KIND: crate::limits::ProtocolKind = crate::limits::ProtocolKind::Keygen;

    fn start(&mut self) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let moduli = moduli::prove_public(&self.fs(self.me, self.me), &self.own, &self.params)
            .map_err(fail)?;
        let commitment = commit(&self.eid, self.me, &self.commitments, &self.blind);
        self.round1
            .insert(self.me, round1_hash(self.me, &commitment, &self.params));
        let msg = R1 { commitment, moduli };
        let payload = crate::adapter::encode(&msg)?;
        Ok(self
            .others()
            .into_iter()
            .map(|j| (j, payload.clone()))
            .collect())
    }

    fn round(&mut self, r: u8, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Gg20Data>> {
        if r == 1 {
            for (&i, payload) in &inbox {
                let m: R1 = decode(i, payload)?;
                moduli::verify_public(&self.fs(i, self.me), &m.moduli).map_err(|e| blame(i, e))?;
                self.round1
                    .insert(i, round1_hash(i, &m.commitment, &m.moduli.params));
                self.theirs.insert(i, (m.moduli, m.commitment));
            }
            let k = SecretScalar::<Secp256k1>::random(&mut OsRng);
            let big_k = Point::generator() * &k;
            let a = self
                .commitments
                .first()
                .copied()
                .unwrap_or_else(Point::zero);
            let e = schnorr_challenge(&self.eid, self.me, &a, &big_k);
            let u = self
                .coeffs
                .first()
                .map(|c| *c.as_ref())
                .unwrap_or_else(S::zero);
            let z = *k.as_ref() + e * u;
            drop(k);
            let mut out = BTreeMap::new();
            for j in self.others() {
                let verifier = &self
                    .theirs
                    .get(&j)
                    .ok_or(Error::Misuse("missing round 1"))?
                    .0
                    .params;
                let fac =
                    moduli::prove_fac(&self.fs(self.me, j), &self.own, &self.params, verifier)
                        .map_err(fail)?;
                let msg = R2 {
                    echo: self.round1.iter().map(|(j, h)| (*j, *h)).collect(),
                    coefficients: self.commitments.clone(),
                    blind: self.blind,
                    schnorr: (big_k, z),
                    fac,
                    share: self.eval(&id_of(j)),
                };
                out.insert(j, crate::adapter::encode(&msg)?);
            }
            return Ok(Next::Send(out));
        }
        let mut x = self.eval(&id_of(self.me));
        let mut sums: Vec<GPoint> = self.commitments.clone();
        let mut differs = None;
        for (&i, payload) in &inbox {
            let m: R2 = decode(i, payload)?;
            if let Echo::Differs(j) = compare_echo(self.me, i, &self.round1, &m.echo)? {
                differs.get_or_insert(j);
            }
            let (moduli_i, c) = self
                .theirs
                .get(&i)
                .ok_or(Error::Misuse("missing round 1"))?;
            if m.coefficients.len() != usize::from(self.t)
                || commit(&self.eid, i, &m.coefficients, &m.blind) != *c
            {
                return Err(blame(
                    i,
                    "decommitment does not match the round-1 commitment",
                ));
            }
            moduli::verify_fac(&self.fs(i, self.me), &moduli_i.params, &m.fac, &self.params)
                .map_err(|e| blame(i, e))?;
            let a = m.coefficients.first().copied().unwrap_or_else(Point::zero);
            let e = schnorr_challenge(&self.eid, i, &a, &m.schnorr.0);
            if Point::generator() * m.schnorr.1 != m.schnorr.0 + a * e {
                return Err(blame(
                    i,
                    "Schnorr proof of the secret contribution is invalid",
                ));
            }
            let me_id = id_of(self.me);
            let expected: GPoint = m
                .coefficients
                .iter()
                .rev()
                .fold(Point::zero(), |acc, c| acc * me_id + c);
            if Point::generator() * m.share != expected {
                return Err(blame(
                    i,
                    "secret share does not match its Feldman commitments",
                ));
            }
            x += m.share;
            for (s, c) in sums.iter_mut().zip(&m.coefficients) {
                *s += c;
            }
        }
        if let Some(j) = differs {
            return Err(equivocation(j));
        }
        let public_key = sums
            .first()
            .copied()
            .and_then(NonZero::from_point)
            .ok_or_else(|| fail("group key is zero".into()))?;
        let share_ids: Vec<S> = (0..self.n).map(id_of).collect();
        let public_shares = share_ids
            .iter()
            .map(|id| {
                NonZero::from_point(sums.iter().rev().fold(Point::zero(), |acc, c| acc * id + c))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| fail("a public share is zero".into()))?;
        let x = NonZero::from_secret_scalar(SecretScalar::new(&mut x))
            .ok_or_else(|| fail("secret share is zero".into()))?;
        let mut params = Vec::with_capacity(usize::from(self.n));
        for j in 0..self.n {
            params.push(if j == self.me {
                self.params.clone()
            } else {
                self.theirs
                    .get(&j)
                    .ok_or(Error::Misuse("missing party"))?
                    .0
                    .params
                    .clone()
            });
        }
        Ok(Next::Done(Gg20Data {
            share_ids,
            public_shares,
            x,
            own: self.own.clone(),
            params,
            verified: (0..self.n).collect(),
            public_key,
        }))
    }
}

/// Paillier and ring-Pedersen parameters from one pair of safe primes (Ñ = N, as CGGMP21
/// does): h1 a random square, h2 = h1^α, β = α⁻¹ mod the order of the squares.
pub(crate) fn params_from_primes(p: Integer, q: Integer) -> Result<(OwnSecrets, PartyParams)> {
    let n = Integer::from(&p * &q);
    let mut rng = OsRng;
    let mut rand = cggmp21::paillier_zk::fast_paillier::utils::external_rand(&mut rng);
    let r: Integer = n.random_below_ref(&mut rand).into();
    let h1 = Integer::from(r.square_ref()) % &n;
    let order = Integer::from(&p - 1u8) / 2u8 * (Integer::from(&q - 1u8) / 2u8);
    let (alpha, beta) = loop {
        let a: Integer = order.random_below_ref(&mut rand).into();
        if let Ok(b) = a.clone().invert(&order) {
            break (a, b);
        }
    };
    let h2 = super::data::secret_pow_mod(&h1, &alpha, &n).ok_or(Error::Misuse("pow_mod"))?;
    let own = OwnSecrets {
        p: BigHex(p.clone()),
        q: BigHex(q.clone()),
        tp: BigHex(p),
        tq: BigHex(q),
        alpha: BigHex(alpha),
        beta: BigHex(beta),
    };
    let params = PartyParams {
        n: BigHex(n.clone()),
        ntilde: BigHex(n),
        h1: BigHex(h1),
        h2: BigHex(h2),
    };
    Ok((own, params))
}

//! GG20 shares from a resharing (`crate::reshare`): the new committee's secret shares and
//! public shares come from the resharing run; every new party then makes fresh Paillier and
//! ring-Pedersen parameters and the committee exchanges them with their proofs, so a
//! refreshed GG20 key shares no Paillier key with its earlier epochs.
//!
//! - **Round 1**: every party sends every other its parameters with Π-mod (for N and Ñ)
//!   and Π-prm (the same to all); each checks them.
//! - **Round 2**: every party proves Π-fac for its N to each other party, under that
//!   party's ring-Pedersen parameters, with an echo of every party's round-1 parameters;
//!   each checks the proofs and the echo ([`crate::rounds::compare_echo`]).
//!
//! Any failed check aborts the run naming the party; parameters that reached parties
//! differently abort it too (naming the sender where the receiver's own view proves it), so
//! no two parties store different parameters for a third.

use std::collections::BTreeMap;

use cggmp21::generic_ec::{NonZero, Point, Scalar, SecretScalar};
use cggmp21::supported_curves::Secp256k1;

use super::data::{Gg20Data, OwnSecrets, PartyParams};
use super::messages::moduli::Round2 as Fac;
use super::moduli::{self, ModuliPublic};
use super::transcript::{self, int, ModuliRound1};
use super::zk::Fs;
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::rounds::{blame, compare_echo, decode, equivocation, Echo, Next, Rounds};

fn params_hash(party: PartyIndex, p: &PartyParams) -> [u8; 32] {
    transcript::hash(&ModuliRound1 {
        party,
        n: int(&p.n.0),
        ntilde: int(&p.ntilde.0),
        h1: int(&p.h1.0),
        h2: int(&p.h2.0),
    })
}

/// The key material of one new party, before its Paillier parameters are exchanged.
pub(crate) struct NewKey {
    pub share_ids: Vec<Scalar<Secp256k1>>,
    pub public_shares: Vec<NonZero<Point<Secp256k1>>>,
    pub x: NonZero<SecretScalar<Secp256k1>>,
    pub public_key: NonZero<Point<Secp256k1>>,
}

pub(crate) struct FreshModuli {
    pub eid: [u8; 32],
    pub me: PartyIndex,
    pub n: u16,
    pub own: OwnSecrets,
    pub params: PartyParams,
    pub key: Option<NewKey>,
    pub theirs: BTreeMap<PartyIndex, PartyParams>,
}

impl FreshModuli {
    fn fs(&self, prover: PartyIndex, verifier: PartyIndex) -> Fs<'_> {
        Fs {
            purpose: "reshare-moduli",
            session: &self.eid,
            prover,
            verifier: Some(verifier),
        }
    }

    fn others(&self) -> Vec<PartyIndex> {
        (0..self.n).filter(|&j| j != self.me).collect()
    }
}

fn fail(e: String) -> Error {
    Error::Aborted {
        culprits: vec![],
        reason: format!("gg20 moduli after resharing: {e}"),
    }
}

impl Rounds for FreshModuli {
    type Output = Gg20Data;
    const ROUNDS: u8 = 2;
    const KIND: crate::limits::ProtocolKind = crate::limits::ProtocolKind::AuxInfo;

    fn start(&mut self) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let public = moduli::prove_public(&self.fs(self.me, self.me), &self.own, &self.params)
            .map_err(fail)?;
        let payload = crate::adapter::encode(&public)?;
        Ok(self
            .others()
            .into_iter()
            .map(|j| (j, payload.clone()))
            .collect())
    }

    fn round(&mut self, r: u8, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Gg20Data>> {
        if r == 1 {
            for (&i, payload) in &inbox {
                let m: ModuliPublic = decode(i, payload)?;
                moduli::verify_public(&self.fs(i, self.me), &m).map_err(|e| blame(i, e))?;
                self.theirs.insert(i, m.params);
            }
            let mut echo: Vec<(PartyIndex, [u8; 32])> = self
                .theirs
                .iter()
                .map(|(j, p)| (*j, params_hash(*j, p)))
                .collect();
            echo.push((self.me, params_hash(self.me, &self.params)));
            echo.sort_by_key(|e| e.0);
            let mut out = BTreeMap::new();
            for j in self.others() {
                let verifier = self
                    .theirs
                    .get(&j)
                    .ok_or(Error::Misuse("missing round 1"))?;
                let fac =
                    moduli::prove_fac(&self.fs(self.me, j), &self.own, &self.params, verifier)
                        .map_err(fail)?;
                out.insert(
                    j,
                    crate::adapter::encode(&Fac {
                        echo: echo.clone(),
                        fac,
                    })?,
                );
            }
            return Ok(Next::Send(out));
        }
        let mut received: BTreeMap<PartyIndex, [u8; 32]> = self
            .theirs
            .iter()
            .map(|(j, p)| (*j, params_hash(*j, p)))
            .collect();
        received.insert(self.me, params_hash(self.me, &self.params));
        let mut differs = None;
        for (&i, payload) in &inbox {
            let m: Fac = decode(i, payload)?;
            if let Echo::Differs(j) = compare_echo(self.me, i, &received, &m.echo)? {
                differs.get_or_insert(j);
            }
            let params_i = self
                .theirs
                .get(&i)
                .ok_or(Error::Misuse("missing round 1"))?;
            moduli::verify_fac(&self.fs(i, self.me), params_i, &m.fac, &self.params)
                .map_err(|e| blame(i, e))?;
        }
        if let Some(j) = differs {
            return Err(equivocation(j));
        }
        let mut params = Vec::with_capacity(usize::from(self.n));
        for j in 0..self.n {
            params.push(if j == self.me {
                self.params.clone()
            } else {
                self.theirs
                    .get(&j)
                    .ok_or(Error::Misuse("missing party"))?
                    .clone()
            });
        }
        let key = self
            .key
            .take()
            .ok_or(Error::Misuse("resharing output already used"))?;
        Ok(Next::Done(Gg20Data {
            share_ids: key.share_ids,
            public_shares: key.public_shares,
            x: key.x,
            own: self.own.clone(),
            params,
            verified: (0..self.n).collect(),
            public_key: key.public_key,
        }))
    }
}

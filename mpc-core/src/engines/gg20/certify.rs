//! Certification of an imported key: every participant proves its moduli (Π-mod, Π-fac,
//! Π-prm) to every other, once, and each records whom it has verified in its share.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::data::Gg20Data;
pub(crate) use super::messages::certify::Round1 as CertifyMsg;
use super::moduli;
use super::zk::Fs;
use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::rounds::{blame, decode, Next, Rounds};

pub(crate) struct Certify {
    pub eid: [u8; 32],
    pub me: PartyIndex,
    pub parties: Vec<PartyIndex>,
    pub data: Arc<Gg20Data>,
}

impl Certify {
    fn fs(&self, prover: PartyIndex, verifier: PartyIndex) -> Fs<'_> {
        Fs {
            purpose: "certify",
            session: &self.eid,
            prover,
            verifier: Some(verifier),
        }
    }
}

impl Rounds for Certify {
    type Output = Vec<PartyIndex>;
    const ROUNDS: u8 = 1;
    const KIND: crate::limits::ProtocolKind = crate::limits::ProtocolKind::Certify;

    fn start(&mut self) -> Result<BTreeMap<PartyIndex, Vec<u8>>> {
        let params = self.data.params_of(self.me)?;
        let fail = |e: String| Error::Aborted {
            culprits: vec![],
            reason: format!("gg20 certification: {e}"),
        };
        let public = moduli::prove_public(&self.fs(self.me, self.me), &self.data.own, params)
            .map_err(fail)?;
        let mut out = BTreeMap::new();
        for &j in self.parties.iter().filter(|&&j| j != self.me) {
            let fac = moduli::prove_fac(
                &self.fs(self.me, j),
                &self.data.own,
                params,
                self.data.params_of(j)?,
            )
            .map_err(fail)?;
            let msg = CertifyMsg {
                public: public.clone(),
                fac,
            };
            out.insert(j, crate::adapter::encode(&msg)?);
        }
        Ok(out)
    }

    fn round(
        &mut self,
        _r: u8,
        inbox: BTreeMap<PartyIndex, Vec<u8>>,
    ) -> Result<Next<Vec<PartyIndex>>> {
        let mine = self.data.params_of(self.me)?;
        for (&i, payload) in &inbox {
            let m: CertifyMsg = decode(i, payload)?;
            moduli::verify_public(&self.fs(i, self.me), &m.public).map_err(|e| blame(i, e))?;
            if &m.public.params != self.data.params_of(i)? {
                return Err(blame(i, "moduli differ from the ones in the key share"));
            }
            moduli::verify_fac(&self.fs(i, self.me), &m.public.params, &m.fac, mine)
                .map_err(|e| blame(i, e))?;
        }
        let mut verified = self.data.verified.clone();
        verified.extend(self.parties.iter().copied());
        verified.sort_unstable();
        verified.dedup();
        Ok(Next::Done(verified))
    }
}

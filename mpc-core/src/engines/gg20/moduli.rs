//! Proofs about a party's moduli: Π-mod (N and Ñ are Paillier–Blum), Π-fac (neither has a
//! small factor: BitForge, CVE-2023-33241) and Π-prm (h2 = h1^α mod Ñ: h2 is in the group
//! h1 generates, which is what the range proofs' commitments h1^x·h2^r need). Made once per
//! key (at key generation, or when an imported key is first certified) and checked by every
//! party that will sign with the prover.

use cggmp21::paillier_zk::no_small_factor as fac;
use cggmp21::paillier_zk::rug::Integer;
use rand_core::OsRng;

use super::data::{BigHex, OwnSecrets, PartyParams};
pub(crate) use super::messages::moduli::{Fac as ModuliFac, Public as ModuliPublic};
use super::pmod;
use super::zk::{self, Fs, D};

pub(crate) fn prove_public(
    fs: &Fs<'_>,
    own: &OwnSecrets,
    params: &PartyParams,
) -> Result<ModuliPublic, String> {
    let fail = |what: &str| format!("could not prove {what}");
    let fs = Fs {
        verifier: None,
        ..*fs
    };
    let prove_mod = |purpose, p: &BigHex, q: &BigHex, what: &str| {
        pmod::prove(&Fs { purpose, ..fs }, &p.0, &q.0, &mut OsRng).ok_or_else(|| fail(what))
    };
    let mod_n = prove_mod("mod-n", &own.p, &own.q, "Π-mod(N)")?;
    let mod_nt = prove_mod("mod-ntilde", &own.tp, &own.tq, "Π-mod(Ñ)")?;
    let prm = zk::prm_prove(
        &Fs {
            purpose: "prm",
            ..fs
        },
        &own.tp.0,
        &own.tq.0,
        &params.h1.0,
        &params.h2.0,
        &own.alpha.0,
        &mut OsRng,
    )
    .ok_or_else(|| fail("Π-prm"))?;
    Ok(ModuliPublic {
        params: params.clone(),
        mod_n,
        mod_nt,
        prm,
    })
}

/// Π-fac for one verifier (`fs.verifier` names it; `verifier` is its parameters).
pub(crate) fn prove_fac(
    fs: &Fs<'_>,
    own: &OwnSecrets,
    params: &PartyParams,
    verifier: &PartyParams,
) -> Result<ModuliFac, String> {
    let aux = zk::aux(&verifier.ntilde.0, &verifier.h1.0, &verifier.h2.0);
    let fac_one = |purpose, n: &Integer, p: &Integer, q: &Integer| {
        let root = zk::sqrt(n);
        fac::non_interactive::prove::<D>(
            &Fs { purpose, ..*fs }.state(),
            &aux,
            fac::Data { n, n_root: &root },
            fac::PrivateData { p, q },
            &zk::fac_params(),
            &mut OsRng,
        )
        .map_err(|_| format!("could not prove Π-fac ({purpose})"))
    };
    Ok(ModuliFac {
        fac_n: fac_one("fac-n", &params.n.0, &own.p.0, &own.q.0)?,
        fac_nt: fac_one("fac-ntilde", &params.ntilde.0, &own.tp.0, &own.tq.0)?,
    })
}

/// Checks a prover's public proofs: sizes and h1/h2 first, then Π-mod for N and Ñ, then
/// Π-prm. `fs` names the prover.
pub(crate) fn verify_public(fs: &Fs<'_>, msg: &ModuliPublic) -> Result<(), String> {
    let p = &msg.params;
    zk::check_modulus("N", &p.n.0)?;
    zk::check_ring_pedersen(&p.ntilde.0, &p.h1.0, &p.h2.0)?;
    let fs = Fs {
        verifier: None,
        ..*fs
    };
    for (purpose, n, proof, name) in [
        ("mod-n", &p.n, &msg.mod_n, "N"),
        ("mod-ntilde", &p.ntilde, &msg.mod_nt, "Ñ"),
    ] {
        pmod::verify(&Fs { purpose, ..fs }, &n.0, proof, &mut OsRng)
            .map_err(|e| format!("Π-mod proof for {name} is invalid: {e}"))?;
    }
    if !zk::prm_verify(
        &Fs {
            purpose: "prm",
            ..fs
        },
        &p.ntilde.0,
        &p.h1.0,
        &p.h2.0,
        &msg.prm,
    ) {
        return Err("Π-prm proof of the h1/h2 relation is invalid".into());
    }
    Ok(())
}

/// Checks Π-fac for N and Ñ of `params`, made for us (`fs.verifier`, parameters `mine`).
pub(crate) fn verify_fac(
    fs: &Fs<'_>,
    params: &PartyParams,
    msg: &ModuliFac,
    mine: &PartyParams,
) -> Result<(), String> {
    let aux = zk::aux(&mine.ntilde.0, &mine.h1.0, &mine.h2.0);
    for (purpose, n, proof, name) in [
        ("fac-n", &params.n.0, &msg.fac_n, "N"),
        ("fac-ntilde", &params.ntilde.0, &msg.fac_nt, "Ñ"),
    ] {
        let root = zk::sqrt(n);
        fac::non_interactive::verify::<D>(
            &Fs { purpose, ..*fs }.state(),
            &aux,
            fac::Data { n, n_root: &root },
            &zk::fac_params(),
            proof,
        )
        .map_err(|e| format!("Π-fac proof for {name} is invalid (small factor?): {e:?}"))?;
    }
    Ok(())
}

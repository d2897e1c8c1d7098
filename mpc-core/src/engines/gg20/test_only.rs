//! **TEST-ONLY**: a trusted dealer that writes keys in tss-lib's format, for testing the
//! importer and the engine at sizes the published fixtures do not cover. The dealer knows
//! the whole secret key: never use its output for funds.

use cggmp21::generic_ec::{Point, Scalar, SecretScalar};
use cggmp21::paillier_zk::fast_paillier::utils::{external_rand, generate_safe_prime};
use cggmp21::paillier_zk::rug::{integer::Order, Integer};
use cggmp21::supported_curves::Secp256k1;
use rand_core::{CryptoRng, RngCore};

use super::data::scalar_to_int;
use crate::error::{Error, Result};

/// One party's tss-lib `LocalPartySaveData` (ECDSA), as the dealer made it.
pub struct TssLibParty {
    fields: Vec<(&'static str, String)>,
}

impl TssLibParty {
    /// The JSON document tss-lib would write (integers as bare JSON numbers).
    pub fn to_json(&self) -> String {
        let body: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}", body.join(","))
    }
}

fn point_json(p: &Point<Secp256k1>) -> String {
    let enc = p.to_bytes(false);
    let b = enc.as_bytes();
    let x = Integer::from_digits(b.get(1..33).unwrap_or_default(), Order::Msf);
    let y = Integer::from_digits(b.get(33..65).unwrap_or_default(), Order::Msf);
    format!("{{\"Curve\":\"secp256k1\",\"Coords\":[{x},{y}]}}")
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(","))
}

fn blum_prime<R: RngCore>(rng: &mut R, bits: u32) -> Integer {
    let mut rand = external_rand(rng);
    loop {
        let mut r = Integer::from(Integer::random_bits(bits, &mut rand));
        r.set_bit(bits - 1, true);
        let p = r.next_prime();
        if p.mod_u(4) == 3 && p.significant_bits() == bits {
            return p;
        }
    }
}

struct PartyKeys {
    p: Integer,
    q: Integer,
    sp: Integer,
    sq: Integer,
    ntilde: Integer,
    h1: Integer,
    h2: Integer,
    alpha: Integer,
    beta: Integer,
}

fn party_keys<R: RngCore>(rng: &mut R) -> PartyKeys {
    let p = blum_prime(rng, 1024);
    let q = loop {
        let q = blum_prime(rng, 1024);
        if q != p {
            break q;
        }
    };
    let tp = generate_safe_prime(rng, 1024);
    let tq = loop {
        let tq = generate_safe_prime(rng, 1024);
        if tq != tp {
            break tq;
        }
    };
    let sp = Integer::from(&tp - 1u8) / 2u8;
    let sq = Integer::from(&tq - 1u8) / 2u8;
    let ntilde = Integer::from(&tp * &tq);
    let order = Integer::from(&sp * &sq);
    let mut rand = external_rand(rng);
    let (h1, alpha, beta) = loop {
        let r: Integer = ntilde.random_below_ref(&mut rand).into();
        let h1 = Integer::from(r.square_ref()) % &ntilde;
        let a: Integer = order.random_below_ref(&mut rand).into();
        if let Ok(b) = a.clone().invert(&order) {
            break (h1, a, b);
        }
    };
    let h2 = h1
        .pow_mod_ref(&alpha, &ntilde)
        .map(Integer::from)
        .unwrap_or_default();
    PartyKeys {
        p,
        q,
        sp,
        sq,
        ntilde,
        h1,
        h2,
        alpha,
        beta,
    }
}

/// Deals a key of `n` parties with tss-lib threshold `t` (t + 1 sign), calling
/// `progress(i)` when party i's primes are ready.
///
/// # Errors
/// [`Error::InvalidThreshold`] unless 1 ≤ t < n.
pub fn dealer_key<R: RngCore + CryptoRng>(
    n: u16,
    t: u16,
    rng: &mut R,
    mut progress: impl FnMut(u16),
) -> Result<Vec<TssLibParty>> {
    if t == 0 || t >= n {
        return Err(Error::InvalidThreshold { t: t + 1, n });
    }
    let coeffs: Vec<SecretScalar<Secp256k1>> = (0..=t).map(|_| SecretScalar::random(rng)).collect();
    let ids: Vec<Scalar<Secp256k1>> = (0..n).map(|_| Scalar::random(rng)).collect();
    let eval = |x: &Scalar<Secp256k1>| {
        coeffs
            .iter()
            .rev()
            .fold(Scalar::<Secp256k1>::zero(), |acc, c| acc * x + c.as_ref())
    };
    let xs: Vec<Scalar<Secp256k1>> = ids.iter().map(eval).collect();
    let big: Vec<Point<Secp256k1>> = xs.iter().map(|x| Point::generator() * x).collect();
    let public = Point::generator() * eval(&Scalar::zero());
    let keys: Vec<PartyKeys> = (0..n)
        .map(|i| {
            let k = party_keys(rng);
            progress(i);
            k
        })
        .collect();
    let ks = list(ids.iter().map(|s| scalar_to_int(s).to_string()));
    let big_xj = list(big.iter().map(point_json));
    let ntj = list(keys.iter().map(|k| k.ntilde.to_string()));
    let h1j = list(keys.iter().map(|k| k.h1.to_string()));
    let h2j = list(keys.iter().map(|k| k.h2.to_string()));
    let pks = list(
        keys.iter()
            .map(|k| format!("{{\"N\":{}}}", Integer::from(&k.p * &k.q))),
    );
    Ok(keys
        .iter()
        .zip(&xs)
        .zip(&ids)
        .map(|((k, x), id)| {
            let nn = Integer::from(&k.p * &k.q);
            let phi = Integer::from(&k.p - 1u8) * Integer::from(&k.q - 1u8);
            let sk = format!(
                "{{\"N\":{nn},\"LambdaN\":{},\"PhiN\":{phi},\"P\":{},\"Q\":{}}}",
                Integer::from(&phi / 2u8),
                k.p,
                k.q
            );
            TssLibParty {
                fields: vec![
                    ("PaillierSK", sk),
                    ("NTildei", k.ntilde.to_string()),
                    ("H1i", k.h1.to_string()),
                    ("H2i", k.h2.to_string()),
                    ("Alpha", k.alpha.to_string()),
                    ("Beta", k.beta.to_string()),
                    ("P", k.sp.to_string()),
                    ("Q", k.sq.to_string()),
                    ("Xi", scalar_to_int(x).to_string()),
                    ("ShareID", scalar_to_int(id).to_string()),
                    ("Ks", ks.clone()),
                    ("NTildej", ntj.clone()),
                    ("H1j", h1j.clone()),
                    ("H2j", h2j.clone()),
                    ("BigXj", big_xj.clone()),
                    ("PaillierPKs", pks.clone()),
                    ("ECDSAPub", point_json(&public)),
                ],
            }
        })
        .collect())
}

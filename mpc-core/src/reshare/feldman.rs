//! Feldman verifiable secret sharing: a secret polynomial, its public commitments, and
//! Lagrange coefficients over a set of evaluation points.

use zeroize::Zeroize;

use super::group::ReshareGroup;

/// A secret polynomial `f(x) = a_0 + a_1 x + … + a_{t-1} x^{t-1}`; zeroized on drop.
pub(crate) struct Polynomial<G: ReshareGroup> {
    coefficients: Vec<G::Scalar>,
}

impl<G: ReshareGroup> Drop for Polynomial<G> {
    fn drop(&mut self) {
        self.coefficients.iter_mut().for_each(Zeroize::zeroize);
    }
}

impl<G: ReshareGroup> Polynomial<G> {
    /// A random polynomial of `t` coefficients (degree `t - 1`) with `f(0) = secret`.
    pub(crate) fn random(
        secret: G::Scalar,
        t: u16,
        rng: &mut (impl rand_core::RngCore + rand_core::CryptoRng),
    ) -> Self {
        let mut coefficients = Vec::with_capacity(usize::from(t));
        coefficients.push(secret);
        for _ in 1..t {
            coefficients.push(G::random_scalar(rng));
        }
        Polynomial { coefficients }
    }

    /// `f(x)`, by Horner's rule.
    pub(crate) fn eval(&self, x: &G::Scalar) -> G::Scalar {
        let mut acc = G::scalar(0);
        for c in self.coefficients.iter().rev() {
            acc = acc * *x + *c;
        }
        acc
    }

    /// The commitments `a_k · G`, one per coefficient.
    pub(crate) fn commit(&self) -> Vec<G::Point> {
        self.coefficients.iter().map(G::mul_base).collect()
    }
}

/// `Σ_k C_k · x^k`: the commitment to `f(x)` given the commitments `C_k` to the coefficients.
pub(crate) fn eval_commitments<G: ReshareGroup>(
    commitments: &[G::Point],
    x: &G::Scalar,
) -> G::Point {
    let mut acc = G::identity();
    for c in commitments.iter().rev() {
        acc = G::mul(&acc, x) + *c;
    }
    acc
}

/// The Lagrange coefficient at zero of the point `x_i` among `points` (which contains
/// `x_i`): `Π_{j ≠ i} x_j / (x_j − x_i)`. `None` if two points coincide.
pub(crate) fn lagrange_at_zero<G: ReshareGroup>(
    x_i: &G::Scalar,
    points: &[G::Scalar],
) -> Option<G::Scalar> {
    let mut num = G::scalar(1);
    let mut den = G::scalar(1);
    for x_j in points.iter().filter(|x| *x != x_i) {
        num = num * *x_j;
        den = den * (*x_j - *x_i);
    }
    Some(num * G::invert(&den)?)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::super::group::{Ed25519, Secp256k1};
    use super::*;

    fn shares_interpolate_and_match_commitments<G: ReshareGroup>() {
        let rng = &mut rand_core::OsRng;
        let secret = G::random_scalar(rng);
        let f = Polynomial::<G>::random(secret, 3, rng);
        let c = f.commit();
        assert_eq!(c.len(), 3);
        let xs: Vec<G::Scalar> = [1u64, 4, 9].iter().map(|&v| G::scalar(v)).collect();
        let mut sum = G::scalar(0);
        for x in &xs {
            let y = f.eval(x);
            assert_eq!(G::mul_base(&y), eval_commitments::<G>(&c, x));
            sum = sum + lagrange_at_zero::<G>(x, &xs).unwrap() * y;
        }
        assert_eq!(sum, secret);
        // Two shares of a degree-2 polynomial do not give the secret.
        let two = &xs[..2];
        let partial = two.iter().fold(G::scalar(0), |acc, x| {
            acc + lagrange_at_zero::<G>(x, two).unwrap() * f.eval(x)
        });
        assert_ne!(partial, secret);
    }

    #[test]
    fn feldman_over_secp256k1() {
        shares_interpolate_and_match_commitments::<Secp256k1>();
    }

    #[test]
    fn feldman_over_ed25519() {
        shares_interpolate_and_match_commitments::<Ed25519>();
    }
}

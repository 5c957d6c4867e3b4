//! The masking polynomial `g(x) = Σ_i g_i(x_i)` and how it is committed.
//!
//! One random univariate `g_i` of the round degree `d` per variable, with
//! coefficients in `EF`: `d + 1` fresh field elements reach every round
//! message, which is what hides the unmasked round polynomial of that round
//! (`mod.rs`, "Why it hides"). It costs `n·(d + 1)` elements instead of the
//! `(d + 1)^n` of a full random polynomial of the same degrees.
//!
//! # Committed layout
//!
//! `g` is committed as ONE multilinear polynomial over `F` with
//! `m + 1 + k` variables (`m = ⌈log2 n⌉`, `k = ⌈log2 (d + 1)⌉`), coordinate 0
//! first (MSB):
//!
//! ```text
//! T(row ∈ {0,1}^m, c ∈ {0,1}, j ∈ {0,1}^k)
//! ```
//!
//! Row `i` and limb `c` hold the multilinear form `P_{i,c}(z) = Σ_j a_{i,j,c}
//! Π_{b: j_b = 1} z_b` of `g_i`'s coefficients' base coordinate `c`
//! (`g_i(t) = Σ_j (a_{i,j,0} + u·a_{i,j,1}) t^j`, `EF = F[u]`), stored by its
//! values on the hypercube (a subset-sum transform of the coefficients).
//! Then for `pow(t) = (t^{2^{k-1}}, …, t^2, t)`
//!
//! ```text
//! T(bits(i), β, pow(t)) = ((1 − β)·P_{i,0} + β·P_{i,1})(pow(t)) = g_i(t) / (1 + u)
//! with β = u / (1 + u),
//! ```
//!
//! so `g_i(r_i)` is one point evaluation of `T` — one opening claim per
//! variable. `β` weighs the two limbs by `1` and `u` up to the common factor
//! `1/(1 + u)`: one claim reveals `g_i(r_i)` and not each limb's value.

use rand::CryptoRng;

use crate::field::{random_ef, BasedVectorSpace, Field, PrimeCharacteristicRing, EF, F};
use crate::pcs::Claim;

/// A random masking polynomial for a sumcheck over `num_vars` variables whose
/// round polynomials have degree `degree`. Prover-side secret.
#[derive(Clone, Debug)]
pub struct MaskPolynomial {
    degree: usize,
    /// `coeffs[i][j]`: the coefficient of `t^j` in `g_i`.
    coeffs: Vec<Vec<EF>>,
}

impl MaskPolynomial {
    /// Samples every coefficient uniformly from `EF` with `rng` (a CSPRNG:
    /// the masking hides only what the verifier cannot predict).
    ///
    /// # Panics
    ///
    /// If `num_vars == 0`: a sumcheck over no variable sends no round message
    /// and has nothing to mask.
    pub fn random<R: CryptoRng + ?Sized>(num_vars: usize, degree: usize, rng: &mut R) -> Self {
        assert!(num_vars > 0, "a masking polynomial needs a variable");
        let coeffs = (0..num_vars)
            .map(|_| (0..=degree).map(|_| random_ef(rng)).collect())
            .collect();
        Self { degree, coeffs }
    }

    /// The mask with these coefficients (`coeffs[i][j]` of `t^j` in `g_i`).
    #[cfg(test)]
    pub(super) fn from_coeffs(degree: usize, coeffs: Vec<Vec<EF>>) -> Self {
        assert!(coeffs.iter().all(|c| c.len() == degree + 1));
        Self { degree, coeffs }
    }

    #[cfg(test)]
    pub(super) fn coeffs(&self) -> &[Vec<EF>] {
        &self.coeffs
    }

    pub fn num_vars(&self) -> usize {
        self.coeffs.len()
    }

    pub fn degree(&self) -> usize {
        self.degree
    }

    /// `g_i(t)`.
    pub fn eval_var(&self, i: usize, t: EF) -> EF {
        self.coeffs[i]
            .iter()
            .rev()
            .fold(EF::ZERO, |acc, &c| acc * t + c)
    }

    /// `g(point) = Σ_i g_i(point_i)`.
    pub fn evaluate(&self, point: &[EF]) -> EF {
        assert_eq!(point.len(), self.num_vars(), "mask point arity");
        point
            .iter()
            .enumerate()
            .map(|(i, &t)| self.eval_var(i, t))
            .sum()
    }

    /// `g_i(0) + g_i(1)`: variable `i`'s contribution to a hypercube sum.
    pub fn var_sum(&self, i: usize) -> EF {
        self.eval_var(i, EF::ZERO) + self.eval_var(i, EF::ONE)
    }

    /// `G = Σ_{x ∈ {0,1}^n} g(x) = 2^{n-1} · Σ_i (g_i(0) + g_i(1))`.
    pub fn sum(&self) -> EF {
        let n = self.num_vars();
        let total: EF = (0..n).map(|i| self.var_sum(i)).sum();
        total * pow2(n - 1)
    }

    /// The committed polynomial `T` (module doc), `2^table_num_vars` entries.
    pub fn table(&self) -> Vec<F> {
        let k = coeff_vars(self.degree);
        let cols = 1usize << k;
        let mut table = vec![F::ZERO; 1 << table_num_vars(self.num_vars(), self.degree)];
        for (i, row) in self.coeffs.iter().enumerate() {
            for c in 0..2 {
                let block = &mut table[(2 * i + c) * cols..(2 * i + c + 1) * cols];
                for (j, coeff) in row.iter().enumerate() {
                    block[j] = coeff.as_basis_coefficients_slice()[c];
                }
                subset_sum(block);
            }
        }
        table
    }

    /// The opening claims that reveal `g_i(point_i)` for every `i`, on the
    /// committed polynomial with index `poly` (values from the secret).
    pub fn claims(&self, poly: usize, point: &[EF]) -> Vec<Claim> {
        let evals: Vec<EF> = (0..self.num_vars())
            .map(|i| self.eval_var(i, point[i]))
            .collect();
        mask_claims(poly, self.degree, point, &evals)
    }
}

/// Variables of the committed table of a mask over `num_vars` variables of
/// round degree `degree` (module doc: `m + 1 + k`).
pub fn table_num_vars(num_vars: usize, degree: usize) -> usize {
    row_vars(num_vars) + 1 + coeff_vars(degree)
}

/// The claims `T(bits(i), β, pow(point_i)) = evals[i] / (1 + u)`, one per
/// variable, on the committed polynomial with index `poly`: what the verifier
/// holds the opening to, given the prover's `evals[i] = g_i(point_i)`.
pub fn mask_claims(poly: usize, degree: usize, point: &[EF], evals: &[EF]) -> Vec<Claim> {
    assert_eq!(point.len(), evals.len(), "one mask evaluation per variable");
    let m = row_vars(point.len());
    let k = coeff_vars(degree);
    let u = EF::from_basis_coefficients_fn(|c| if c == 1 { F::ONE } else { F::ZERO });
    let inv = (EF::ONE + u).inverse();
    let beta = u * inv;
    point
        .iter()
        .zip(evals)
        .enumerate()
        .map(|(i, (&r, &e))| {
            let mut at: Vec<EF> = (0..m)
                .rev()
                .map(|b| if (i >> b) & 1 == 1 { EF::ONE } else { EF::ZERO })
                .collect();
            at.push(beta);
            // pow(r) = (r^{2^{k-1}}, …, r^2, r): coordinate 0 binds the MSB.
            let mut powers = Vec::with_capacity(k);
            let mut p = r;
            for _ in 0..k {
                powers.push(p);
                p = p.square();
            }
            at.extend(powers.into_iter().rev());
            Claim {
                poly,
                point: at,
                value: e * inv,
            }
        })
        .collect()
}

/// `2^e` in `EF`.
pub(super) fn pow2(e: usize) -> EF {
    EF::from(F::TWO.exp_u64(e as u64))
}

/// `⌈log2 n⌉` row variables (none for one variable).
fn row_vars(num_vars: usize) -> usize {
    num_vars.next_power_of_two().trailing_zeros() as usize
}

/// `⌈log2 (d + 1)⌉` coefficient variables.
fn coeff_vars(degree: usize) -> usize {
    (degree + 1).next_power_of_two().trailing_zeros() as usize
}

/// Coefficients of a multilinear polynomial in the monomial basis → its
/// values on the hypercube: `v[x] = Σ_{j ⊆ x} a[j]`.
fn subset_sum(block: &mut [F]) {
    let mut half = 1;
    while half < block.len() {
        for chunk in block.chunks_mut(2 * half) {
            let (lo, hi) = chunk.split_at_mut(half);
            for (h, &l) in hi.iter_mut().zip(lo.iter()) {
                *h += l;
            }
        }
        half *= 2;
    }
}

//! The zero-knowledge sumcheck prover: the plain prover's rounds with the
//! mask's share added to every message (`RoundMask`), the mask's round
//! polynomial in closed form (`O(d)` per round, no table).

use crate::field::{PrimeCharacteristicRing, EF, F};
use crate::transcript::Transcript;

use super::super::prover::prove_impl;
use super::super::{absorb_header, RoundMask, SumOfProducts};
use super::mask::{pow2, MaskPolynomial};
use super::{absorb_mask_evals, absorb_zk_header, ZkProverOutput, ZkSumcheckProof};

/// Proves `Σ_x poly(x) = H` in zero knowledge with `mask`, whose commitment
/// the caller has absorbed (and opens afterwards at the output's
/// `mask_claims`, a claims list on the committed polynomial `mask_poly`).
///
/// # Panics
///
/// If `mask` does not have `poly.num_vars` variables and degree
/// `poly.degree()`.
pub fn prove(
    poly: SumOfProducts,
    mask: &MaskPolynomial,
    mask_poly: usize,
    transcript: &mut Transcript,
) -> ZkProverOutput {
    prove_masked(poly, None, mask, mask_poly, transcript)
}

/// [`prove`] of `Σ_x eq(eq_point, x) · poly(x)`, as
/// [`prove_eq_weighted`](super::super::prove_eq_weighted): `mask` has degree
/// `poly.degree() + 1`.
pub fn prove_eq_weighted(
    eq_point: &[EF],
    poly: SumOfProducts,
    mask: &MaskPolynomial,
    mask_poly: usize,
    transcript: &mut Transcript,
) -> ZkProverOutput {
    assert_eq!(
        eq_point.len(),
        poly.num_vars,
        "prove_eq_weighted: eq point dimension differs from num_vars"
    );
    prove_masked(poly, Some(eq_point), mask, mask_poly, transcript)
}

pub(super) fn prove_masked(
    poly: SumOfProducts,
    eq_point: Option<&[EF]>,
    mask: &MaskPolynomial,
    mask_poly: usize,
    transcript: &mut Transcript,
) -> ZkProverOutput {
    let n = poly.num_vars;
    let degree = poly.degree() + usize::from(eq_point.is_some());
    assert_eq!(
        mask.num_vars(),
        n,
        "mask variables differ from the sumcheck's"
    );
    assert_eq!(
        mask.degree(),
        degree,
        "mask degree differs from the rounds'"
    );
    let mut masking = Masking::new(mask);
    let out = prove_impl(poly, eq_point, Some(&mut masking), transcript);
    let mask_evals: Vec<EF> = (0..n).map(|i| mask.eval_var(i, out.point[i])).collect();
    absorb_mask_evals(transcript, &mask_evals);
    ZkProverOutput {
        proof: ZkSumcheckProof {
            mask_sum: mask.sum(),
            sumcheck: out.proof,
            mask_evals,
        },
        claimed_sum: out.claimed_sum,
        mask_claims: mask.claims(mask_poly, &out.point),
        point: out.point,
        final_evals: out.final_evals,
    }
}

/// The mask's part in one run: `ρ` once drawn, and the running
/// `Σ_{j<i} g_j(r_j)`.
pub(super) struct Masking<'a> {
    mask: &'a MaskPolynomial,
    rho: EF,
    /// `suffix[i] = Σ_{j>i} (g_j(0) + g_j(1))`.
    suffix: Vec<EF>,
    prefix: EF,
}

impl<'a> Masking<'a> {
    pub(super) fn new(mask: &'a MaskPolynomial) -> Self {
        let n = mask.num_vars();
        let mut suffix = vec![EF::ZERO; n];
        for i in (0..n.saturating_sub(1)).rev() {
            suffix[i] = suffix[i + 1] + mask.var_sum(i + 1);
        }
        Self {
            mask,
            rho: EF::ZERO,
            suffix,
            prefix: EF::ZERO,
        }
    }
}

impl RoundMask for Masking<'_> {
    fn header(&mut self, t: &mut Transcript, num_vars: usize, degree: usize, claimed_sum: EF) {
        let g = self.mask.sum();
        self.rho = absorb_zk_header(t, num_vars, degree, claimed_sum, g);
        absorb_header(t, num_vars, degree, claimed_sum + self.rho * g);
    }

    /// `ρ·G_i(t)` with `G_i(t) = 2^{n-1-i}(Σ_{j<i} g_j(r_j) + g_i(t)) +
    /// 2^{n-2-i}·Σ_{j>i}(g_j(0) + g_j(1))`.
    fn round(&mut self, round: usize, point: &[EF], degree: usize) -> Vec<EF> {
        let n = self.mask.num_vars();
        if round > 0 {
            self.prefix += self.mask.eval_var(round - 1, point[round - 1]);
        }
        let rest = if round + 1 < n {
            pow2(n - 2 - round) * self.suffix[round]
        } else {
            EF::ZERO
        };
        let scale = pow2(n - 1 - round);
        (0..=degree)
            .map(|t| {
                let gt = self.mask.eval_var(round, EF::from(F::from_usize(t)));
                self.rho * (scale * (self.prefix + gt) + rest)
            })
            .collect()
    }
}

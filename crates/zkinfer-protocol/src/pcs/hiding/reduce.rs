//! The hiding commitment's claims reduced to a few before p3 opens them,
//! in zero knowledge.
//!
//! p3's opening does fixed work per claim (`pcs/reduce.rs`; its hiding
//! variant more: ≈ 3 ms per claim here), and a zero-knowledge proof leaves
//! hundreds of claims on its one hiding commitment. The plain reduction's
//! sumcheck `Σ_x T(x)·K(x)`, `K = Σ_j ρ^j eq(z_j, ·)`, would reveal partial
//! sums of the stacked table `T`, and its final `T(r)` a fresh evaluation
//! of every committed polynomial. So here it is a masked-evaluation
//! sumcheck (`sumcheck::zk::masked_eval`): its rounds carry a mask `g`
//! stacked in `T` itself (its `n` claims go to p3 directly), and `T` is
//! committed as `W_T = [T; R_T]` with `R_T` over one head variable, read
//! once, so `T'(r) = T(r) + Z(r)·R_T(r_0)` is uniform. p3 opens `W_T` at
//! `1 + n` points instead of one per claim.
//!
//! Soundness: the combination in `ρ` (`(k − 1)/|EF|`) and the masked
//! sumcheck of degree 3 (`security::masked_eval_sumcheck_bits(n, 3, 1)`),
//! both after the commitment (charged over the candidate list by the
//! caller, [`reduction_bits`]).
//!
//! Transcript: label `b"pcs-hiding-reduce"`, `ρ`, the masked sumcheck.

use serde::{Deserialize, Serialize};

use crate::field::{PrimeCharacteristicRing, EF, F};
use crate::mle::eq_eval;
use crate::pcs::Claim;
use crate::security::{combine_bits, log2_ef_order, masked_eval_sumcheck_bits};
use crate::sumcheck::zk::masked_eval::{self, EvalMask, MaskedMle};
use crate::sumcheck::zk::{MaskPolynomial, ZkSumcheckProof};
use crate::sumcheck::{Mle, SumOfProducts, Term};
use crate::transcript::Transcript;
use crate::VerifyError;

use super::super::reduce::{weights, StackClaim};

/// Round degree of the reduction: `T'·K`, one masked factor.
pub(super) const DEGREE: usize = 3;

/// The index standing for `W_T` itself in the reduction's claims (no
/// stacked polynomial has it).
const W_T: usize = usize::MAX;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct ZkReduction {
    pub sumcheck: ZkSumcheckProof,
    /// `[T'(r), K(r)]`.
    pub final_evals: Vec<EF>,
}

/// What p3 opens: points on `W_T` (`n + 1` variables) and their values.
pub(super) type WPoints = Vec<(Vec<EF>, EF)>;

/// Soundness in bits of the reduction of `num_claims` claims on a stack of
/// `num_vars` variables (before the candidate list).
pub fn reduction_bits(num_claims: usize, num_vars: usize) -> f64 {
    let combination = log2_ef_order() - (num_claims.max(2) as f64 - 1.0).log2();
    combine_bits(&[combination, masked_eval_sumcheck_bits(num_vars, DEGREE, 1)])
}

fn start(tr: &mut Transcript, claims: &[StackClaim]) -> (Vec<EF>, EF) {
    tr.label(b"pcs-hiding-reduce");
    let rho = tr.challenge_ef();
    let powers: Vec<EF> = std::iter::successors(Some(EF::ONE), |p| Some(*p * rho))
        .take(claims.len())
        .collect();
    let sum = claims.iter().zip(&powers).map(|((_, v), &p)| p * *v).sum();
    (powers, sum)
}

fn terms() -> Vec<Term> {
    vec![Term {
        coeff: EF::ONE,
        factors: vec![0, 1],
    }]
}

const MASKED: [MaskedMle; 1] = [MaskedMle {
    mle: 0,
    poly: Some(W_T),
}];

/// The reduction's claims as points on `W_T`: its own claim as is, the
/// mask's (on stacked polynomial `g_poly`) in `T`'s half (`W_T(0, ·)`).
fn w_points(
    stack_point: impl Fn(&Claim) -> Vec<EF>,
    eval_claims: Vec<Claim>,
    mask_claims: Vec<Claim>,
) -> WPoints {
    let mut out: WPoints = eval_claims
        .into_iter()
        .map(|c| {
            debug_assert_eq!(c.poly, W_T);
            (c.point, c.value)
        })
        .collect();
    for c in mask_claims {
        let mut at = vec![EF::ZERO];
        at.extend(stack_point(&c));
        out.push((at, c.value));
    }
    out
}

/// Proves the `claims` on the stacked table `table` (`g` stacked in it as
/// polynomial `g_poly`, `R_T` = `r_t`); returns the message and what p3
/// opens.
pub(super) fn prove(
    table: &[F],
    r_t: &[F],
    g: &MaskPolynomial,
    g_poly: usize,
    stack_point: impl Fn(&Claim) -> Vec<EF>,
    claims: &[StackClaim],
    tr: &mut Transcript,
) -> (ZkReduction, WPoints) {
    let n = table.len().trailing_zeros() as usize;
    let (powers, _) = start(tr, claims);
    let k = weights(n, claims, &powers);
    let mask = EvalMask::from_table(n, r_t.to_vec());
    let out = masked_eval::prove(
        SumOfProducts {
            num_vars: n,
            mles: vec![Mle::Base(table.to_vec()), Mle::Ext(k)],
            terms: terms(),
        },
        None,
        &[(MASKED[0], &mask)],
        g,
        g_poly,
        tr,
    );
    let points = w_points(stack_point, out.eval_claims, out.zk.mask_claims);
    (
        ZkReduction {
            sumcheck: out.zk.proof,
            final_evals: out.zk.final_evals,
        },
        points,
    )
}

/// Checks the reduction of `claims` on a stacked table of `n` variables;
/// returns what p3 must open.
pub(super) fn verify(
    n: usize,
    g_poly: usize,
    stack_point: impl Fn(&Claim) -> Vec<EF>,
    claims: &[StackClaim],
    reduction: &ZkReduction,
    tr: &mut Transcript,
) -> Result<WPoints, VerifyError> {
    let fail = |e: String| VerifyError::Opening(format!("hiding claim reduction: {e}"));
    let (powers, sum) = start(tr, claims);
    if reduction.final_evals.len() != 2 {
        return Err(fail("two final values".into()));
    }
    let sub = masked_eval::verify(
        n,
        &terms(),
        &MASKED,
        None,
        sum,
        &reduction.sumcheck,
        &reduction.final_evals,
        g_poly,
        tr,
    )
    .map_err(|e| fail(e.to_string()))?;
    let k: EF = claims
        .iter()
        .zip(&powers)
        .map(|((z, _), &p)| p * eq_eval(z, &sub.point))
        .sum();
    if k != reduction.final_evals[1] {
        return Err(fail("the claims' weight is another".into()));
    }
    Ok(w_points(stack_point, sub.eval_claims, sub.mask_claims))
}

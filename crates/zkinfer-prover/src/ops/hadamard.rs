//! The claim reduction `Mul` and `MulConst` share: output claims
//! `v_k = y(z_k)` on a pointwise product `y = u ⊙ w`, batched by random `ρ`,
//! reduced by one degree-3 sumcheck
//!
//! `Σ_k ρ_k v_k = Σ_x E(x)·u(x)·w(x)`, `E(x) = Σ_k ρ_k eq(z_k, x)`,
//!
//! to one evaluation of each factor at the final point `r` (the verifier
//! computes `E(r)` itself). Each op absorbs and routes the two evaluations.

use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_eval, eq_table};
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, SumcheckProof, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::batching_coefficients;
use crate::claims::PointClaim;

/// Degree of the sumcheck: `E · u · w`.
pub(super) const DEGREE: usize = 3;

/// Before the sumcheck: the op's label, `ρ` and the claimed sum `Σ ρ_k v_k`.
fn open_step(tr: &mut Transcript, label: &[u8], claims: &[PointClaim]) -> (Vec<EF>, EF) {
    tr.label(label);
    let rho = batching_coefficients(tr, claims.len());
    let claimed = claims.iter().zip(&rho).map(|((_, v), r)| *r * *v).sum();
    (rho, claimed)
}

/// The prover's reduction of `claims` (non-empty) over `num_vars`
/// variables: the sumcheck proof, its point `r`, and `(u(r), w(r))`.
pub(super) fn prove(
    tr: &mut Transcript,
    label: &[u8],
    claims: &[PointClaim],
    num_vars: usize,
    u: Vec<F>,
    w: Vec<F>,
) -> (SumcheckProof, Vec<EF>, (EF, EF)) {
    let (rho, _) = open_step(tr, label, claims);
    let mut e = eq_table(&claims[0].0);
    for ((z, _), &r) in claims.iter().zip(&rho).skip(1) {
        for (acc, x) in e.iter_mut().zip(eq_table(z)) {
            *acc += r * x;
        }
    }
    let sc = sumcheck::prove(
        SumOfProducts {
            num_vars,
            mles: vec![Mle::Ext(e), Mle::Base(u), Mle::Base(w)],
            terms: vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1, 2],
            }],
        },
        tr,
    );
    let evals = (sc.final_evals[1], sc.final_evals[2]);
    (sc.proof, sc.point, evals)
}

/// The verifier's side: checks the sumcheck and `E(r)·u(r)·w(r)` against its
/// final value; returns `r`. `what` names the op and its factors in errors.
pub(super) fn verify(
    tr: &mut Transcript,
    label: &[u8],
    claims: &[PointClaim],
    num_vars: usize,
    proof: &SumcheckProof,
    (u_eval, w_eval): (EF, EF),
    what: &str,
) -> Result<Vec<EF>, VerifyError> {
    let (rho, claimed) = open_step(tr, label, claims);
    let sub = sumcheck::verify(num_vars, DEGREE, claimed, proof, tr)?;
    let e_r: EF = claims
        .iter()
        .zip(&rho)
        .map(|((z, _), &r)| r * eq_eval(z, &sub.point))
        .sum();
    if e_r * u_eval * w_eval != sub.expected_eval {
        return Err(VerifyError::Sumcheck(format!(
            "{what}: the final sumcheck evaluation does not match the factors' evaluations"
        )));
    }
    Ok(sub.point)
}

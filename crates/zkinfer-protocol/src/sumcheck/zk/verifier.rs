//! The zero-knowledge sumcheck verifier: the mixing header, the plain
//! per-round checks on `H + ρ·G`, then the mask's share taken off the final
//! claim.

use crate::field::EF;
use crate::transcript::Transcript;
use crate::VerifyError;

use super::mask::mask_claims;
use super::{absorb_mask_evals, absorb_zk_header, ZkSubclaim, ZkSumcheckProof};

/// Verifies a zero-knowledge sumcheck of `claimed_sum` over `num_vars`
/// variables with round degree `degree`, the mask committed as polynomial
/// `mask_poly` of a commitment the caller has absorbed.
///
/// The caller must then check `f(point) == expected_eval` and verify the
/// mask commitment's opening of `mask_claims` (in that order or the other:
/// both are bound by the transcript already).
pub fn verify(
    num_vars: usize,
    degree: usize,
    claimed_sum: EF,
    proof: &ZkSumcheckProof,
    mask_poly: usize,
    transcript: &mut Transcript,
) -> Result<ZkSubclaim, VerifyError> {
    if num_vars == 0 {
        return Err(VerifyError::Sumcheck(
            "a zero-knowledge sumcheck needs at least one variable".into(),
        ));
    }
    if proof.mask_evals.len() != num_vars {
        return Err(VerifyError::Sumcheck(format!(
            "expected {num_vars} mask evaluations, proof has {}",
            proof.mask_evals.len()
        )));
    }
    let rho = absorb_zk_header(transcript, num_vars, degree, claimed_sum, proof.mask_sum);
    let sub = super::super::verify(
        num_vars,
        degree,
        claimed_sum + rho * proof.mask_sum,
        &proof.sumcheck,
        transcript,
    )?;
    absorb_mask_evals(transcript, &proof.mask_evals);
    let mask_at_point: EF = proof.mask_evals.iter().copied().sum();
    Ok(ZkSubclaim {
        expected_eval: sub.expected_eval - rho * mask_at_point,
        mask_claims: mask_claims(mask_poly, degree, &sub.point, &proof.mask_evals),
        point: sub.point,
    })
}

//! The sumcheck verifier (the per-round checks in the module doc).

use crate::transcript::Transcript;
use crate::VerifyError;
use crate::EF;

use super::{absorb_header, absorb_round, interpolate, Subclaim, SumcheckProof};

/// Verifies a sumcheck proof of `claimed_sum` for a polynomial with `num_vars`
/// variables and round degree `degree` (every round polynomial must have
/// exactly `degree + 1` evaluations).
pub fn verify(
    num_vars: usize,
    degree: usize,
    claimed_sum: EF,
    proof: &SumcheckProof,
    transcript: &mut Transcript,
) -> Result<Subclaim, VerifyError> {
    absorb_header(transcript, num_vars, degree, claimed_sum);
    if proof.round_polys.len() != num_vars {
        return Err(VerifyError::Sumcheck(format!(
            "expected {num_vars} rounds, proof has {}",
            proof.round_polys.len()
        )));
    }
    let mut claim = claimed_sum;
    let mut point = Vec::with_capacity(num_vars);
    for (i, p) in proof.round_polys.iter().enumerate() {
        if p.len() != degree + 1 {
            return Err(VerifyError::Sumcheck(format!(
                "round {i}: expected {} evaluations (degree {degree}), got {}",
                degree + 1,
                p.len()
            )));
        }
        // A degree-0 polynomial is constant: p(1) = p(0).
        let p1 = if degree == 0 { p[0] } else { p[1] };
        if p[0] + p1 != claim {
            return Err(VerifyError::Sumcheck(format!(
                "round {i}: p(0) + p(1) differs from the running claim"
            )));
        }
        let r = absorb_round(transcript, p);
        claim = interpolate(p, r);
        point.push(r);
    }
    Ok(Subclaim {
        point,
        expected_eval: claim,
    })
}

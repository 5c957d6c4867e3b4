//! One zero-knowledge sumcheck with its own mask commitment: sample the
//! mask, commit and absorb it, run the rounds, open it at the final point.
//!
//! The one-sumcheck case of the protocol. A proof with many sumchecks would
//! rather put every mask in one commitment (each mask one polynomial of it,
//! [`super::prove`]'s `mask_poly`) and open them all in one opening; the
//! steps are the same.

use rand::CryptoRng;

use crate::pcs::{CommitmentScheme, PcsError};
use crate::transcript::Transcript;
use crate::VerifyError;
use crate::EF;

use super::super::{Subclaim, SumOfProducts};
use super::{prove_masked, verify, MaskPolynomial, ZkProverOutput, ZkSumcheckProof};

/// A zero-knowledge sumcheck proof with its mask's commitment and opening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedZkProof<C, O> {
    pub mask_commitment: C,
    pub sumcheck: ZkSumcheckProof,
    pub mask_opening: O,
}

/// [`CommittedZkProof`] with scheme `S`'s commitment and opening.
pub type CommittedZkProofOf<S> =
    CommittedZkProof<<S as CommitmentScheme>::Commitment, <S as CommitmentScheme>::Opening>;

/// Proves `Σ_x poly(x)` (or `Σ_x eq(eq_point, x)·poly(x)`) in zero
/// knowledge, the mask sampled from `rng` and committed with `pcs` — which
/// must be hiding ([`CommitmentScheme::HIDING`]) for the proof to be zero
/// knowledge; any scheme gives a sound proof.
pub fn prove_committed<S: CommitmentScheme, R: CryptoRng + ?Sized>(
    pcs: &S,
    poly: SumOfProducts,
    eq_point: Option<&[EF]>,
    rng: &mut R,
    transcript: &mut Transcript,
) -> Result<(CommittedZkProofOf<S>, ZkProverOutput), PcsError> {
    let degree = poly.degree() + usize::from(eq_point.is_some());
    let mask = MaskPolynomial::random(poly.num_vars, degree, rng);
    let (mask_commitment, data) = pcs.commit(&[mask.table()]).map_err(Into::into)?;
    pcs.absorb_commitment(&mask_commitment, transcript);
    let out = prove_masked(poly, eq_point, &mask, 0, transcript);
    let mask_opening = pcs
        .open_consuming(data, &out.mask_claims, transcript)
        .map_err(Into::into)?;
    let proof = CommittedZkProof {
        mask_commitment,
        sumcheck: out.proof.clone(),
        mask_opening,
    };
    Ok((proof, out))
}

/// Verifies a [`prove_committed`] proof: the rounds and the mask's opening.
/// The caller checks `f(point) == expected_eval` of the returned subclaim
/// (for an `eq`-weighted sum, `eq_eval(eq_point, point) · poly(point)`).
pub fn verify_committed<S: CommitmentScheme>(
    pcs: &S,
    num_vars: usize,
    degree: usize,
    claimed_sum: EF,
    proof: &CommittedZkProofOf<S>,
    transcript: &mut Transcript,
) -> Result<Subclaim, VerifyError> {
    pcs.absorb_commitment(&proof.mask_commitment, transcript);
    let sub = verify(
        num_vars,
        degree,
        claimed_sum,
        &proof.sumcheck,
        0,
        transcript,
    )?;
    pcs.verify(
        &proof.mask_commitment,
        &sub.mask_claims,
        &proof.mask_opening,
        transcript,
    )?;
    Ok(Subclaim {
        point: sub.point,
        expected_eval: sub.expected_eval,
    })
}

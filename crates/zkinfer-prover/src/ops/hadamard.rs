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

use super::{batching_coefficients, check_public_factor, LayerProof, LayerProofs};
use crate::claims::PointClaim;
use crate::zk::{BatchedClaims, TensorRead, ZkCheck, ZkPending, ZkProverCtx, ZkVerifierCtx};
use zkinfer_model::ir::TensorId;

/// `E(x) = Σ_k ρ_k eq(z_k, x)` as a table: the public factor of every
/// zero-knowledge step that turns output claims into one sumcheck (the
/// output claims are masked, so they cannot move to the operands as they
/// are: the operands must be read masked at a fresh point).
pub(super) fn eq_combination(points: &[Vec<EF>], rho: &[EF]) -> Vec<EF> {
    let mut e = eq_table(&points[0]);
    e.iter_mut().for_each(|v| *v *= rho[0]);
    for (z, &r) in points.iter().zip(rho).skip(1) {
        for (acc, x) in e.iter_mut().zip(eq_table(z)) {
            *acc += r * x;
        }
    }
    e
}

/// A zero-knowledge step's opening: the op's label, `ρ` and the claimed
/// sum `Σ_k ρ_k v_k` of the (masked) output claims, which the incoming
/// claims' `R` values correct inside the masked sumcheck.
pub(super) fn zk_open(tr: &mut Transcript, label: &[u8], claims: &[ZkPending]) -> (Vec<EF>, EF) {
    tr.label(label);
    let rho = batching_coefficients(tr, claims.len());
    let claimed = claims.iter().zip(&rho).map(|(c, r)| *r * c.value).sum();
    (rho, claimed)
}

/// The claims' points.
pub(super) fn points(claims: &[ZkPending]) -> Vec<Vec<EF>> {
    claims.iter().map(|c| c.point.clone()).collect()
}

/// [`eq_combination`] at `r` (the verifier's side).
pub(super) fn eq_combination_at(points: &[Vec<EF>], rho: &[EF], r: &[EF]) -> EF {
    points
        .iter()
        .zip(rho)
        .map(|(z, &c)| c * eq_eval(z, r))
        .sum()
}

/// A zero-knowledge product step's point and its three factors' final
/// values.
pub(super) type PointAndFinals = (Vec<EF>, [EF; 3]);

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

/// The zero-knowledge form: `Σ_x E(x)·u(x)·w(x) = Σ_k ρ_k v_k` with `E`
/// (factor 0) public and `u`, `w` (factors 1, 2) as `reads` says — the
/// claims on `output` are masked, so both factors are read at the
/// sumcheck's point (masked when private) instead of being sent in the
/// clear.
pub(super) struct ZkProduct<'a> {
    pub op: usize,
    pub label: &'a [u8],
    pub output: TensorId,
    pub reads: &'a [(usize, TensorRead)],
}

fn zk_terms() -> Vec<Term> {
    vec![Term {
        coeff: EF::ONE,
        factors: vec![0, 1, 2],
    }]
}

impl ZkProduct<'_> {
    /// The prover's step and its point (`None` without claims).
    pub fn prove(
        &self,
        p: &mut ZkProverCtx,
        u: Vec<F>,
        w: Vec<F>,
    ) -> Option<(LayerProof, Vec<EF>)> {
        let pending = p.take_claims(self.output);
        if pending.is_empty() {
            return None;
        }
        let (rho, _) = zk_open(p.tr, self.label, &pending);
        let poly = SumOfProducts {
            num_vars: p.layout.num_vars(self.output),
            mles: vec![
                Mle::Ext(eq_combination(&points(&pending), &rho)),
                Mle::Base(u),
                Mle::Base(w),
            ],
            terms: zk_terms(),
        };
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let run = p.prove_claims(self.op, poly, self.reads, batched);
        let point = run.point.clone();
        Some((run.into_layer(Vec::new()), point))
    }

    /// The verifier's step: the point and the three factors' final values
    /// (`None` without claims). `E`'s is checked here; a public `u` or `w`
    /// is the caller's to check.
    pub fn verify(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
        what: &str,
    ) -> Result<Option<PointAndFinals>, VerifyError> {
        let pending = v.take_claims(self.output);
        if pending.is_empty() {
            return Ok(None);
        }
        let (rho, claimed_sum) = zk_open(v.tr, self.label, &pending);
        let terms = zk_terms();
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let n = v.layout.num_vars(self.output);
        let check = ZkCheck::claims(self.op, n, &terms, self.reads, batched, claimed_sum);
        let (point, final_evals) = v.verify_message(proofs, what, 3, &check)?;
        let e = eq_combination_at(&points(&pending), &rho, &point);
        check_public_factor(self.op, what, final_evals[0], e)?;
        Ok(Some((
            point,
            [final_evals[0], final_evals[1], final_evals[2]],
        )))
    }
}

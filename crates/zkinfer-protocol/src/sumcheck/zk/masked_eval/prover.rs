//! The masked-evaluation prover: the kernel runs the first `n − 1` rounds
//! on `f` with its last variable summed out (where `V' = V`), then the last
//! round is computed here from the two halves' evaluations, with `V'`.

use crate::field::{PrimeCharacteristicRing, EF, F};
use crate::mle;
use crate::pcs::Claim;
use crate::transcript::Transcript;

use super::super::super::prover::prove_impl;
use super::super::super::{absorb_round, combine, Mle, RoundMask, SumOfProducts, Term};
use super::super::prover::Masking;
use super::super::{absorb_mask_evals, MaskPolynomial, ZkProverOutput, ZkSumcheckProof};
use super::interlayer::{absorb_r_values, r_claims, WithIncoming};
use super::{
    absorb_final_evals, eval_claims, sent_degree, ClaimMask, EvalMask, IncomingClaim, MaskedMle,
};

/// A [`prove`] run: the zero-knowledge sumcheck's output (its `final_evals`
/// hold `V'(r)` for the masked tables, its `claimed_sum` includes the
/// incoming claims' term), the claims on their `W`s, and for
/// incoming claims the sent `R_j(z_j_head, r_0)` and their claims on the `R`s.
pub struct MaskedProverOutput {
    pub zk: ZkProverOutput,
    pub eval_claims: Vec<Claim>,
    pub r_values: Vec<EF>,
    pub r_claims: Vec<Claim>,
}

/// Proves `Σ_x [eq(eq_point, x)·] poly(x)` in zero knowledge with every
/// `masked` factor read as `V' = V + Z·R`, `g = mask` (of degree
/// [`round_degree`]) committed as polynomial `mask_poly`, each `W` as its
/// `MaskedMle::poly`; the caller has absorbed that commitment and opens
/// `zk.mask_claims` and `eval_claims` afterwards.
///
/// # Panics
///
/// If `poly` has no variable, a mask does not fit it, or
/// `1 + Z(r) = 0` at the final point (probability `1/|EF|`).
pub fn prove(
    poly: SumOfProducts,
    eq_point: Option<&[EF]>,
    masked: &[(MaskedMle, &EvalMask)],
    mask: &MaskPolynomial,
    mask_poly: usize,
    transcript: &mut Transcript,
) -> MaskedProverOutput {
    prove_with_incoming(poly, eq_point, masked, &[], mask, mask_poly, transcript)
}

/// [`prove`] of `Σ_x [eq(eq_point, x)·] poly(x) + E(x)`, `E` the term of the
/// `incoming` claims with their `R`s ([`super::interlayer`]): the claimed
/// sum is `H + Σ_j α_j Z(z_j) S_j(z_j_head)`. The caller has absorbed the
/// commitment holding the `R`s too, and opens `r_claims` with the rest.
///
/// # Panics
///
/// As [`prove`], and if an incoming claim's head is not `1 ≤ h < |z_j|` or
/// does not match its `R`.
pub fn prove_with_incoming(
    poly: SumOfProducts,
    eq_point: Option<&[EF]>,
    masked: &[(MaskedMle, &EvalMask)],
    incoming: &[(IncomingClaim, &ClaimMask)],
    mask: &MaskPolynomial,
    mask_poly: usize,
    transcript: &mut Transcript,
) -> MaskedProverOutput {
    let n = poly.num_vars;
    assert!(n >= 1, "a masked-evaluation sumcheck needs a variable");
    assert!(masked.iter().all(|(_, r)| r.num_vars() == n), "R arity");
    assert!(
        incoming
            .iter()
            .all(|(c, r)| c.is_well_formed() && c.head_vars == r.head_vars()),
        "incoming claim's R"
    );
    let flags: Vec<MaskedMle> = masked.iter().map(|(m, _)| *m).collect();
    let degree = sent_degree(
        &poly.terms,
        &flags,
        eq_point.is_some(),
        !incoming.is_empty(),
    );
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
    let (terms, halves) = split_last_variable(poly, eq_point);

    let mut masking = WithIncoming::new(Masking::new(mask), incoming, n);
    let out = {
        let mut deferred = Deferred {
            inner: &mut masking,
            num_vars: n,
            degree,
        };
        prove_impl(
            halves,
            eq_point.map(|z| &z[..n - 1]),
            Some(&mut deferred),
            transcript,
        )
    };

    // The last round, on V' (module doc): every factor at (r', t).
    let mut point = out.point;
    let r_at: Vec<(usize, EF)> = masked
        .iter()
        .map(|(m, r)| (m.mle, r.share(&point)))
        .collect();
    let factors_at = |t: EF| -> Vec<EF> {
        let mut vals: Vec<EF> = out
            .final_evals
            .chunks(2)
            .map(|h| h[0] + t * (h[1] - h[0]))
            .collect();
        for &(k, zr) in &r_at {
            vals[k] += t * (EF::ONE - t) * zr;
        }
        vals
    };
    let eq_at = |t: EF| -> EF {
        eq_point.map_or(EF::ONE, |z| {
            mle::eq_eval(&z[..n - 1], &point) * mle::eq1(z[n - 1], t)
        })
    };
    let share = masking.round(n - 1, &point, degree);
    let last: Vec<EF> = (0..=degree)
        .zip(&share)
        .map(|(t, &s)| {
            let t = EF::from(F::from_usize(t));
            eq_at(t) * combine(&terms, &factors_at(t)) + s
        })
        .collect();
    let r = absorb_round(transcript, &last);
    let final_evals = factors_at(r);
    let mut round_polys = out.proof.round_polys;
    round_polys.push(last);
    point.push(r);

    let mask_evals: Vec<EF> = (0..n).map(|i| mask.eval_var(i, point[i])).collect();
    absorb_mask_evals(transcript, &mask_evals);
    absorb_final_evals(transcript, &final_evals);
    let r_values = masking.r_values(&point);
    absorb_r_values(transcript, &r_values);
    let eval_claims = eval_claims(&flags, &point, &final_evals)
        .expect("1 + Z(r) vanishes at the final point (probability 1/|EF|)");
    let claims: Vec<IncomingClaim> = incoming.iter().map(|(c, _)| c.clone()).collect();
    let r_claims = r_claims(&claims, point[0], &r_values);
    MaskedProverOutput {
        zk: ZkProverOutput {
            proof: ZkSumcheckProof {
                mask_sum: mask.sum(),
                sumcheck: crate::sumcheck::SumcheckProof { round_polys },
                mask_evals,
            },
            claimed_sum: out.claimed_sum + masking.term_sum(),
            mask_claims: mask.claims(mask_poly, &point),
            point,
            final_evals,
        },
        eval_claims,
        r_values,
        r_claims,
    }
}

/// `Σ_x [eq(z, x)·] f(x) = Σ_y [eq(z', y)·] Σ_{b ∈ {0,1}} [eq1(z_last, b)·] f(y, b)`:
/// table `k` becomes its halves `2k` (`b = 0`) and `2k + 1`, each term one
/// term per `b`. Returns the original terms and the halved polynomial.
fn split_last_variable(poly: SumOfProducts, eq_point: Option<&[EF]>) -> (Vec<Term>, SumOfProducts) {
    let n = poly.num_vars;
    let mut mles = Vec::with_capacity(2 * poly.mles.len());
    for m in poly.mles {
        match m {
            Mle::Base(mut v) => {
                mle::pad_to(&mut v, n);
                mles.push(Mle::Base(v.iter().step_by(2).copied().collect()));
                mles.push(Mle::Base(v.iter().skip(1).step_by(2).copied().collect()));
            }
            Mle::Ext(mut v) => {
                mle::pad_to(&mut v, n);
                mles.push(Mle::Ext(v.iter().step_by(2).copied().collect()));
                mles.push(Mle::Ext(v.iter().skip(1).step_by(2).copied().collect()));
            }
        }
    }
    let weight = |b: usize| match eq_point {
        None => EF::ONE,
        Some(z) => mle::eq1(z[n - 1], EF::from(F::from_usize(b))),
    };
    let halved = poly
        .terms
        .iter()
        .flat_map(|t| {
            (0..2).map(move |b| Term {
                coeff: t.coeff * weight(b),
                factors: t.factors.iter().map(|&k| 2 * k + b).collect(),
            })
        })
        .collect();
    (
        poly.terms,
        SumOfProducts {
            num_vars: n - 1,
            mles,
            terms: halved,
        },
    )
}

/// The mask's part in the kernel's `n − 1` rounds, declared as the full
/// sumcheck's: `n` variables at the masked round degree.
struct Deferred<'a, M> {
    inner: &'a mut M,
    num_vars: usize,
    degree: usize,
}

impl<M: RoundMask> RoundMask for Deferred<'_, M> {
    fn header(&mut self, t: &mut Transcript, _num_vars: usize, _degree: usize, claimed_sum: EF) {
        self.inner
            .header(t, self.num_vars, self.degree, claimed_sum);
    }

    fn round(&mut self, round: usize, point: &[EF], _degree: usize) -> Vec<EF> {
        self.inner.round(round, point, self.degree)
    }

    fn sent_degree(&self, _natural: usize) -> usize {
        self.degree
    }
}

//! Sumcheck for sums of products of multilinear polynomials:
//! `Σ_{x ∈ {0,1}^n} Σ_t coeff_t · Π_{k ∈ factors_t} mle_k(x)`.
//!
//! API CONTRACT (used by the prover crate and LogUp; keep these signatures).
//! Transcript protocol (prover and verifier alike): label `b"sumcheck"`,
//! absorb `num_vars`, `degree` and the claimed sum; then per round absorb the
//! round polynomial (its evaluations at 0, 1, ..., degree) and draw the
//! round challenge. Variables are bound in order, coordinate 0 first (MSB),
//! so the returned point is directly an evaluation point of the input tables.
//! The final evaluations are NOT absorbed: the caller sends and absorbs them.
//!
//! # Exact transcript encoding
//!
//! ```text
//! label(b"sumcheck")
//! absorb_u64(num_vars); absorb_u64(degree); absorb_ef(claimed_sum)
//! for each round i in 0..num_vars:
//!     absorb_efs(round_polys[i])          // length-prefixed, degree + 1 values
//!     r_i = challenge_ef()
//! ```
//!
//! The verifier checks, per round, `len == degree + 1` and
//! `p_i(0) + p_i(1) == claim_i`, then sets `claim_{i+1} = p_i(r_i)` (Lagrange
//! interpolation over the nodes `0..=degree`). It returns the [`Subclaim`]
//! `(point = (r_0, …, r_{n-1}), expected_eval = claim_n)`; the caller must
//! check `poly(point) == expected_eval`, e.g. with [`combine`] on the final
//! evaluations (for [`prove_eq_weighted`]: `eq_eval(eq_point, point) · combine`).
//!
//! # Layout
//!
//! `prover.rs` drives the rounds ([`prove`], [`prove_eq_weighted`]) and
//! `kernel.rs` holds its pass over the tables in each round; `verifier.rs`
//! holds [`verify`]. The transcript steps both sides take are defined once,
//! in this file. [`zk`] is the zero-knowledge variant: the same rounds with a
//! masking polynomial's share added to each (the prover's `RoundMask` hook);
//! [`zk::masked_eval`] also masks the final evaluations of private tables.
//!
//! # What comes from Plonky3 and what is ours
//!
//! Fields and the challenger are Plonky3's. The sumcheck itself is ours: we
//! evaluated `p3-sumcheck` 0.8.0, whose provers are specialised (quadratic
//! `f·w` product polynomial, WHIR constraint layouts, a generic-degree driver
//! that sends `h(0), h(2), …` without `h(1)`) and are bound to its own
//! transcript types and proof formats; our contract needs arbitrary sums of
//! products of mixed base/extension tables, all `degree + 1` evaluations in
//! the proof, and our [`Transcript`]. Inner kernels use the delayed-reduction
//! accumulators from [`crate::mle`].

use serde::{Deserialize, Serialize};

use crate::field::{Field, PrimeCharacteristicRing, EF, F};
use crate::mle;
use crate::transcript::Transcript;

mod kernel;
mod prover;
#[cfg(test)]
mod tests;
mod verifier;
pub mod zk;

pub use prover::{prove, prove_eq_weighted};
pub use verifier::verify;

/// One multilinear factor; base-field tables stay in the base field until the first fold.
#[derive(Clone, Debug)]
pub enum Mle {
    Base(Vec<F>),
    Ext(Vec<EF>),
}

impl Mle {
    /// Number of entries of the table.
    pub fn len(&self) -> usize {
        match self {
            Mle::Base(v) => v.len(),
            Mle::Ext(v) => v.len(),
        }
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Evaluates the MLE at `point` (zero-padded, see [`mle::evaluate_base`]).
    pub fn evaluate(&self, point: &[EF]) -> EF {
        match self {
            Mle::Base(v) => mle::evaluate_base(v, point),
            Mle::Ext(v) => mle::evaluate_ext(v, point),
        }
    }
}

/// `coeff · Π mles[factors[i]]`.
#[derive(Clone, Debug)]
pub struct Term {
    pub coeff: EF,
    pub factors: Vec<usize>,
}

/// The polynomial whose hypercube sum is proven. Every table has length `2^num_vars`.
#[derive(Clone, Debug)]
pub struct SumOfProducts {
    pub num_vars: usize,
    pub mles: Vec<Mle>,
    pub terms: Vec<Term>,
}

impl SumOfProducts {
    /// Largest number of factors in a term (the round polynomials' degree).
    pub fn degree(&self) -> usize {
        self.terms
            .iter()
            .map(|t| t.factors.len())
            .max()
            .unwrap_or(0)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SumcheckProof {
    /// Round `i`: evaluations of the round polynomial at `0, 1, ..., degree`.
    pub round_polys: Vec<Vec<EF>>,
}

pub struct ProverOutput {
    pub proof: SumcheckProof,
    pub claimed_sum: EF,
    /// The random point, one coordinate per variable (coordinate 0 = MSB).
    pub point: Vec<EF>,
    /// Evaluation of each input MLE at `point`, in input order.
    pub final_evals: Vec<EF>,
}

/// What the verifier still has to check: `poly(point) == expected_eval`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subclaim {
    pub point: Vec<EF>,
    pub expected_eval: EF,
}

/// `Σ_t coeff_t · Π final_evals[factors_t]` — the value the final evaluations imply.
pub fn combine(terms: &[Term], final_evals: &[EF]) -> EF {
    terms
        .iter()
        .map(|t| t.coeff * t.factors.iter().map(|&k| final_evals[k]).product::<EF>())
        .sum()
}

/// Evaluates the polynomial given by its values at `0, 1, …, d` at `x`
/// (Lagrange interpolation over integer nodes).
pub fn interpolate(evals: &[EF], x: EF) -> EF {
    let d = match evals.len() {
        0 => return EF::ZERO,
        1 => return evals[0],
        n => n - 1,
    };
    // prefix[i] = Π_{j<i} (x - j), suffix[i] = Π_{j>i} (x - j).
    let nodes: Vec<EF> = (0..=d).map(|j| x - EF::from(F::from_usize(j))).collect();
    let mut prefix = vec![EF::ONE; d + 1];
    for i in 1..=d {
        prefix[i] = prefix[i - 1] * nodes[i - 1];
    }
    let mut suffix = EF::ONE;
    let mut fact = vec![F::ONE; d + 1];
    for i in 1..=d {
        fact[i] = fact[i - 1] * F::from_usize(i);
    }
    let mut acc = EF::ZERO;
    for i in (0..=d).rev() {
        // Π_{j≠i} (i - j) = i! · (d - i)! · (-1)^(d - i).
        let mut denom = fact[i] * fact[d - i];
        if (d - i) % 2 == 1 {
            denom = -denom;
        }
        acc += evals[i] * (prefix[i] * suffix) * denom.inverse();
        suffix *= nodes[i];
    }
    acc
}

/// A masking polynomial's part in a run of the prover ([`zk`]): it replaces the
/// header (binding its own data and drawing its mixing challenge before the
/// first round) and adds its share to every round polynomial sent.
trait RoundMask {
    /// Absorbs the header of a sumcheck whose unmasked polynomial sums to
    /// `claimed_sum` (in place of [`absorb_header`]).
    fn header(&mut self, t: &mut Transcript, num_vars: usize, degree: usize, claimed_sum: EF);
    /// The mask's share of round `round`'s polynomial at `0, 1, …, degree`,
    /// given the challenges `point` of the rounds before.
    fn round(&mut self, round: usize, point: &[EF], degree: usize) -> Vec<EF>;
    /// The degree the sent round polynomials are declared with, at least the
    /// polynomial's own `natural` one: a caller that finishes the last round
    /// itself on a polynomial of higher degree (`zk::masked_eval`) sends
    /// every round at that degree, the lower ones padded by interpolation.
    fn sent_degree(&self, natural: usize) -> usize {
        natural
    }
}

// ---------------------------------------------------------------------------
// Transcript steps shared by prover and verifier (the encoding above).
// ---------------------------------------------------------------------------

fn absorb_header(t: &mut Transcript, num_vars: usize, degree: usize, claimed_sum: EF) {
    t.label(b"sumcheck");
    t.absorb_u64(num_vars as u64);
    t.absorb_u64(degree as u64);
    t.absorb_ef(claimed_sum);
}

/// Absorbs round polynomial `p` and draws the round challenge.
fn absorb_round(t: &mut Transcript, p: &[EF]) -> EF {
    t.absorb_efs(p);
    t.challenge_ef()
}

//! Zero-knowledge sumcheck (Libra-style masking).
//!
//! A plain sumcheck's round polynomials are partial sums of the witness at
//! the verifier's points: they leak it. Here the prover first commits, in a
//! hiding commitment, a random masking polynomial `g = Σ_i g_i(x_i)` with the
//! round degree in every variable (`mask.rs`), and sends its hypercube sum
//! `G`; the verifier's challenge `ρ` mixes it in, and the rounds are those of
//! a plain sumcheck of `f + ρ·g` for the sum `H + ρ·G`. At the final point
//! `r` the prover sends `g_i(r_i)` for every `i` and opens the commitment at
//! them; the caller is left with the claim `f(r) = e − ρ·Σ_i g_i(r_i)`.
//!
//! # Transcript
//!
//! ```text
//! [caller: the mask commitment is absorbed before anything below]
//! label(b"zk-sumcheck")
//! absorb_u64(num_vars); absorb_u64(degree); absorb_ef(H); absorb_ef(G)
//! ρ = challenge_ef()
//! the plain sumcheck (`super`'s encoding) of claimed sum H + ρ·G
//! label(b"zk-sumcheck-mask"); absorb_efs([g_0(r_0), …, g_{n-1}(r_{n-1})])
//! [caller: the mask opening of `mask_claims`, any time later]
//! ```
//!
//! # Why it hides
//!
//! Round `i` sends `F_i(t) + ρ·G_i(t)` with
//!
//! ```text
//! F_i(t) = Σ_x f(r_<i, t, x)
//! G_i(t) = 2^{n-1-i}·(Σ_{j<i} g_j(r_j) + g_i(t)) + 2^{n-2-i}·Σ_{j>i} (g_j(0) + g_j(1))
//! ```
//!
//! For any `f'` with the same sum `H` and the same `f'(r) = f(r)`
//! there is a shift `δ = Σ_i δ_i(x_i)` of the mask (solved backwards from the
//! last variable: `δ_i = ((F_i − F'_i)/ρ − 2^{n-2-i}·Σ_{j>i} σ_j) / 2^{n-1-i}`,
//! `σ_j = δ_j(0) + δ_j(1)`) with `Σ δ = 0` and `δ_i(r_i) = 0` for every `i`
//! that turns `f`'s messages into `f'`'s, leaving `G` and every revealed
//! `g_i(r_i)` unchanged. The uniform mask is a bijection away from the one
//! `f'` would use, so the view — `G`, the round polynomials, the `g_i(r_i)` —
//! depends on `f` only through `H` and `f(r)`: a simulator that knows those
//! two samples it exactly (honest verifier; Fiat–Shamir makes it
//! non-interactive). That is why the mask's coefficients live in `EF`, not
//! `F` (a shift by `(F_i − F'_i)/ρ` is an `EF` polynomial), and why revealing
//! each `g_i(r_i)`, not only their sum, costs nothing. The commitment must
//! hide `g` beyond the opened values (a hiding scheme, `CommitmentScheme::HIDING`);
//! hiding `f(r)` itself is the caller's business: [`masked_eval`] for a
//! committed private table (read as `V + Z·R`, so only `V'(r)` is sent).
//!
//! # Soundness
//!
//! A cheating prover is bound to the committed table `T`, which defines
//! `g*_i(t) = (1 + u)·T(bits(i), β, pow(t))` of degree at most `2^k − 1`.
//! A wrong `H` (with any `G`) survives the mixing only if
//! `(H − H*) + ρ·(G − G*) = 0`: probability at most `1/|EF|`, since `T`, `H`
//! and `G` are bound before `ρ`. The rounds then run on `f + ρ·g*`, whose
//! degree per variable is `max(d, 2^k − 1) < 2d + 1`: the plain sumcheck
//! error with that degree; then the opening's own error
//! ([`crate::security::zk_sumcheck_bits`]).
//!
//! # What comes from Plonky3 and what is ours
//!
//! `p3_sumcheck::zk` implements the same construction (eprint 2026/391,
//! Construction 6.3) for WHIR's own fold sumchecks: a degree-2 product,
//! masks committed under its mask code, its transcript types. Ours masks
//! our sums of products of any degree on our transcript, reusing the plain
//! prover's kernel; the mask's commitment is any [`CommitmentScheme`]
//! (hiding: [`crate::pcs::HidingPcs`], p3's hiding WHIR).
//!
//! [`CommitmentScheme`]: crate::pcs::CommitmentScheme

use serde::{Deserialize, Serialize};

use crate::field::EF;
use crate::pcs::Claim;
use crate::transcript::Transcript;

use super::SumcheckProof;

mod committed;
mod mask;
pub mod masked_eval;
mod prover;
#[cfg(test)]
mod simulator_tests;
#[cfg(test)]
mod tests;
mod verifier;

pub use committed::{prove_committed, verify_committed, CommittedZkProof, CommittedZkProofOf};
pub use mask::{mask_claims, table_num_vars, MaskPolynomial};
use prover::prove_masked;
pub use prover::{prove, prove_eq_weighted};
pub use verifier::verify;

/// What the prover sends besides the mask's commitment and opening.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ZkSumcheckProof {
    /// `G`, the mask's hypercube sum.
    pub mask_sum: EF,
    /// The rounds of the masked polynomial `f + ρ·g`.
    pub sumcheck: SumcheckProof,
    /// `g_i(r_i)`, one per variable.
    pub mask_evals: Vec<EF>,
}

pub struct ZkProverOutput {
    pub proof: ZkSumcheckProof,
    /// `H`, the unmasked polynomial's hypercube sum.
    pub claimed_sum: EF,
    /// The random point, one coordinate per variable (coordinate 0 = MSB).
    pub point: Vec<EF>,
    /// Evaluation of each input MLE at `point`, in input order.
    pub final_evals: Vec<EF>,
    /// The claims to open on the mask's commitment.
    pub mask_claims: Vec<Claim>,
}

/// What the verifier still has to check: `f(point) == expected_eval`, and
/// the mask's opening of `mask_claims`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkSubclaim {
    pub point: Vec<EF>,
    pub expected_eval: EF,
    pub mask_claims: Vec<Claim>,
}

// ---------------------------------------------------------------------------
// Transcript steps shared by prover and verifier (the encoding above).
// ---------------------------------------------------------------------------

/// Absorbs the header and draws the mixing challenge `ρ`.
pub(crate) fn absorb_zk_header(
    t: &mut Transcript,
    num_vars: usize,
    degree: usize,
    claimed_sum: EF,
    mask_sum: EF,
) -> EF {
    t.label(b"zk-sumcheck");
    t.absorb_u64(num_vars as u64);
    t.absorb_u64(degree as u64);
    t.absorb_ef(claimed_sum);
    t.absorb_ef(mask_sum);
    t.challenge_ef()
}

/// Absorbs the mask's evaluations at the final point.
fn absorb_mask_evals(t: &mut Transcript, evals: &[EF]) {
    t.label(b"zk-sumcheck-mask");
    t.absorb_efs(evals);
}

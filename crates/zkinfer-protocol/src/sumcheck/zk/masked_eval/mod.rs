//! Hiding the final evaluations of a zero-knowledge sumcheck (Libra).
//!
//! A zero-knowledge sumcheck still ends in `f(r)`: the evaluations of its
//! tables at the final point, each one linear functional of a private table
//! `V`, in the clear. Here a private `V` enters the sumcheck as
//!
//! ```text
//! V'(x) = V(x) + Z(x)·R(x_0, …, x_{k-1}),   Z(x) = Π_i x_i·(1 − x_i)
//! ```
//!
//! with `R` a uniformly random multilinear table over the first `k` variables
//! (`1 ≤ k < n`). `Z` vanishes on the hypercube, so `V'` equals `V` there and
//! every hypercube relation (the sum `H`) is unchanged; at the sumcheck's
//! non-Boolean point `V'(r) = V(r) + Z(r)·R(r_head)` carries a fresh mask,
//! and it is `V'(r)` the prover sends, never `V(r)`.
//!
//! # Why `Z` is a product and `R` reads the first variables
//!
//! `Z(r_<i, t, x_>i)` vanishes whenever some `x_j` is Boolean, so the rounds
//! `0..n−1` of `f(V')` are those of `f(V)` (the kernel's, on `f` with its
//! last variable summed out) and only the last round changes: there `V'` is
//! `V(r', t) + Z(r')·t(1 − t)·R(r'_head)` — degree 2 in `t`, since `R` does
//! not read the last variable. A term with `a` masked factors rises by `a`
//! ([`round_degree`]); every round is sent at that degree and the
//! zero-knowledge mask `g` has it, so the last round is masked too.
//!
//! # Committed layout and the one claim
//!
//! `V` and `R` are committed as ONE polynomial of `n + 1` variables
//! ([`EvalMask::committed_table`]): `W(0, x) = V(x)`, `W(1, x) = R(x_head)`
//! (tiled over the other variables). For `β = Z(r)/(1 + Z(r))`
//!
//! ```text
//! W(β, r) = (1 − β)·V(r) + β·R(r_head) = V'(r) / (1 + Z(r)),
//! ```
//!
//! so the verifier holds the opening to one claim whose value it computes
//! from the sent `V'(r)` ([`masked_claim`]): a hiding opening reveals that
//! value only, which the verifier has already, and `V(r)` is never revealed.
//! (`1 + Z(r) = 0` has probability `1/|EF|`; both sides refuse it.) The cost
//! is `W`'s second half: the committed size of `V` doubles.
//!
//! # Transcript
//!
//! ```text
//! [caller: the commitment holding W and the mask g is absorbed first]
//! the zero-knowledge sumcheck (`super`'s encoding) of H over n variables,
//!     every round sent at `round_degree`
//! label(b"zk-masked-evals"); absorb_efs(final_evals)   // V'(r) for masked tables
//! [caller: one opening of the mask claims and the W claims]
//! ```
//!
//! # What it hides, and the soundness cost
//!
//! The zero-knowledge sumcheck's view depends on the witness only through
//! `H` and `f'(r)`; `f'(r)` now reads `V'(r)`, which is `V(r)` plus
//! `Z(r)·R(r_head)`. `R`'s entries are in `F` and `r_head` in `EF`, so the
//! mask is uniform over `EF` unless `r_0 ∈ F` (probability `|F|/|EF| =
//! 2^-64`); a table read at `m` points needs `2^k ≥ 2m` entries of `R`. For
//! two `V` with the same `H` (and the same unmasked evaluations) a shift of
//! `R` and of `g` gives the very same proof
//! (`tests::another_private_table_with_shifted_masks_gives_the_same_proof`).
//!
//! Soundness: whatever `W` a cheating prover commits, the claim pins
//! `V'' = W(0,·) + Z·W(1,·)`, which equals the committed `V = W(0,·)` on the
//! hypercube; the sumcheck then proves `f(V'')`, whose last-round degree is
//! at most `round_degree + a` (`W(1,·)` multilinear in the last variable
//! where the honest `R` is constant), the other rounds' as before
//! ([`crate::security::masked_eval_sumcheck_bits`]). The commitment's own
//! error is the opening's.

use rand::CryptoRng;

use crate::field::{random_f, Field, PrimeCharacteristicRing, EF, F};
use crate::mle;
use crate::pcs::Claim;
use crate::transcript::Transcript;
use crate::VerifyError;

use super::super::{combine, Term};
use super::ZkSumcheckProof;

mod interlayer;
#[cfg(test)]
mod interlayer_tests;
mod prover;
#[cfg(test)]
mod tests;

pub use interlayer::{claim_mask_vars, constant_head, ClaimMask, IncomingClaim};
pub use prover::{prove, prove_with_incoming, MaskedProverOutput};

/// The random `R` of one private table: `2^k` entries over the first `k` of
/// `n` variables. Prover-side secret.
#[derive(Clone, Debug)]
pub struct EvalMask {
    num_vars: usize,
    table: Vec<F>,
    /// `Some(a)`: `R` is read at the public point `a` whatever `x` (a
    /// constant mask, for tensors too small to have a head variable that
    /// is not their last; [`ClaimMask::eval_mask_at`]).
    fixed_head: Option<Vec<EF>>,
    /// `Some(t)`: `R`'s table in `EF` (`table` unused), an `EF`-combination
    /// of `F`-tables committed elsewhere ([`EvalMask::from_ext_table`]).
    ext: Option<Vec<EF>>,
    /// `Some(p)`: the private table reads only the sumcheck variables at
    /// positions `p` (its own variables, in its order) and is broadcast over
    /// the others ([`EvalMask::on_vars`]).
    vars: Option<Vec<usize>>,
}

impl EvalMask {
    /// Samples `R` over `head_vars` variables from `rng` (a CSPRNG).
    ///
    /// # Panics
    ///
    /// Unless `1 ≤ head_vars < num_vars`: `R` must not read the last
    /// variable (the last round's degree) and needs one variable so that
    /// `R(r_head)` covers `EF`.
    pub fn random<R: CryptoRng + ?Sized>(num_vars: usize, head_vars: usize, rng: &mut R) -> Self {
        Self::from_table(
            num_vars,
            (0..1 << head_vars).map(|_| random_f(rng)).collect(),
        )
    }

    /// The mask with this table of `R` (`2^k` entries, `1 ≤ k < num_vars`):
    /// for a caller that reads one committed `R` in several proofs (a
    /// column's own sumchecks and its LogUp leaves).
    ///
    /// # Panics
    ///
    /// If the table does not fit (as [`EvalMask::random`]).
    pub fn from_table(num_vars: usize, table: Vec<F>) -> Self {
        assert_head_table(table.len(), num_vars);
        Self {
            num_vars,
            table,
            fixed_head: None,
            ext: None,
            vars: None,
        }
    }

    /// A mask whose `R` is an `EF`-table over the first `k` of `num_vars`
    /// variables (`1 ≤ k < num_vars`): a linear combination, with `EF`
    /// weights, of committed `F`-tables (a LogUp leaf's `q = α − Σ β^c·col_c`
    /// read through its columns' masks). Has no `W` of its own.
    pub fn from_ext_table(num_vars: usize, table: Vec<EF>) -> Self {
        assert_head_table(table.len(), num_vars);
        Self {
            num_vars,
            table: Vec::new(),
            fixed_head: None,
            ext: Some(table),
            vars: None,
        }
    }

    /// The constant mask `S = R(head)` over `num_vars ≥ 1` variables.
    pub fn constant(num_vars: usize, table: Vec<F>, head: &[EF]) -> Self {
        assert!(
            num_vars >= 1 && table.len() == 1 << head.len(),
            "a constant mask needs a variable and a head point matching R"
        );
        Self {
            num_vars,
            table,
            fixed_head: Some(head.to_vec()),
            ext: None,
            vars: None,
        }
    }

    /// The mask of a private table that reads only the sumcheck variables
    /// at `positions` (its own variables, in its order; a product over a
    /// larger index, e.g. a batched matrix product's operands), broadcast
    /// over the others. `Z` and `R` are then over its own variables: the
    /// sent value `V(r_own) + Z(r_own)·R(r_own_head)` is the one the table's
    /// own `W` or claim mask opens to. The last sumcheck variable must be
    /// one of them (so that `Z` still vanishes in every earlier round) and
    /// not one `R` reads (so that only the last round rises by one).
    ///
    /// # Panics
    ///
    /// If the positions do not meet those conditions or exceed the
    /// sumcheck's variables.
    pub fn on_vars(mut self, positions: Vec<usize>) -> Self {
        let n = self.num_vars;
        let mut seen = vec![false; n];
        for &p in &positions {
            assert!(p < n && !seen[p], "positions must be distinct variables");
            seen[p] = true;
        }
        let last = positions.iter().position(|&p| p == n - 1);
        assert!(
            last.is_some_and(|l| l >= self.head_len()),
            "the last variable must be the table's, outside R's head"
        );
        self.vars = Some(positions);
        self
    }

    /// Head variables `R` reads (0 for a constant mask).
    fn head_len(&self) -> usize {
        match (&self.ext, &self.fixed_head) {
            (Some(t), _) => t.len().trailing_zeros() as usize,
            (None, Some(_)) => 0,
            (None, None) => self.table.len().trailing_zeros() as usize,
        }
    }

    /// `Z(point)·R(point_head)` over the table's own variables among
    /// `point`'s (all of them for a table over the whole index): the mask's
    /// share of `V'` at `point` (a prefix of the sumcheck's point whose
    /// missing variables `R` does not read).
    pub fn share(&self, point: &[EF]) -> EF {
        match &self.vars {
            None => vanishing_eval(point) * self.eval(point),
            Some(vars) => {
                let own: Vec<EF> = vars
                    .iter()
                    .filter(|&&p| p < point.len())
                    .map(|&p| point[p])
                    .collect();
                vanishing_eval(&own) * self.eval(&own)
            }
        }
    }

    pub fn num_vars(&self) -> usize {
        self.num_vars
    }

    /// `R(point_0, …, point_{k-1})`: `point` may be longer than `k`
    /// (`R(a)` for a constant mask).
    pub fn eval(&self, point: &[EF]) -> EF {
        if let Some(t) = &self.ext {
            let k = t.len().trailing_zeros() as usize;
            return mle::evaluate_ext(t, &point[..k]);
        }
        let k = self.table.len().trailing_zeros() as usize;
        let head = match &self.fixed_head {
            Some(a) => a,
            None => &point[..k],
        };
        mle::evaluate_base(&self.table, head)
    }

    /// `W`: `v` (zero-padded to `2^n`) followed by `R` tiled over the last
    /// `n − k` variables (module doc).
    pub fn committed_table(&self, v: &[F]) -> Vec<F> {
        let n = self.num_vars;
        assert!(
            self.fixed_head.is_none() && self.ext.is_none() && self.vars.is_none(),
            "a constant, EF or broadcast mask has no W of its own size"
        );
        assert!(v.len() <= 1 << n, "the private table exceeds 2^n entries");
        let tail = n - self.table.len().trailing_zeros() as usize;
        let mut w = Vec::with_capacity(2 << n);
        w.extend_from_slice(v);
        w.resize(1 << n, F::ZERO);
        w.extend((0..1usize << n).map(|x| self.table[x >> tail]));
        w
    }
}

/// `Z(point) = Π_i point_i·(1 − point_i)`.
pub fn vanishing_eval(point: &[EF]) -> EF {
    point.iter().map(|&r| r * (EF::ONE - r)).product()
}

/// A private table's place in the sumcheck and in the commitment: factor
/// `mle` of the polynomial, masked; `W` is committed polynomial `poly`, or
/// `None` for a tensor never committed, whose `V̇(r)` is a claim passed to
/// its producer ([`interlayer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaskedMle {
    pub mle: usize,
    pub poly: Option<usize>,
}

/// The round degree of `Σ_t coeff_t·Π factors` (times `eq` if `eq`) with the
/// `masked` factors replaced by `V'`: each masked factor adds one.
pub fn round_degree(terms: &[Term], masked: &[MaskedMle], eq: bool) -> usize {
    let is_masked = |k: usize| masked.iter().any(|m| m.mle == k);
    let term_degree =
        |t: &Term| t.factors.len() + t.factors.iter().filter(|&&k| is_masked(k)).count();
    terms.iter().map(term_degree).max().unwrap_or(0) + usize::from(eq)
}

/// The claim `W(β, point) = masked_value / (1 + Z(point))` that `W` (polynomial
/// `poly`) opens to when `V'(point) = masked_value`.
pub fn masked_claim(poly: usize, point: &[EF], masked_value: EF) -> Result<Claim, VerifyError> {
    let z = vanishing_eval(point);
    let norm = (EF::ONE + z).try_inverse().ok_or_else(|| {
        VerifyError::Sumcheck("masked evaluation: 1 + Z(r) vanishes at the final point".into())
    })?;
    let mut at = Vec::with_capacity(point.len() + 1);
    at.push(z * norm);
    at.extend_from_slice(point);
    Ok(Claim {
        poly,
        point: at,
        value: masked_value * norm,
    })
}

/// The claims on every committed masked table's `W` given the final
/// evaluations.
fn eval_claims(
    masked: &[MaskedMle],
    point: &[EF],
    final_evals: &[EF],
) -> Result<Vec<Claim>, VerifyError> {
    masked
        .iter()
        .filter_map(|m| {
            m.poly
                .map(|poly| masked_claim(poly, point, final_evals[m.mle]))
        })
        .collect()
}

/// What the verifier still has to check: one opening of `mask_claims` (the
/// sumcheck mask `g`), `eval_claims` (the committed masked tables' `W`) and
/// `r_claims` (the incoming claims' `R`); the unmasked final evaluations are
/// claims at `point` for the caller, and the uncommitted masked ones are
/// claims for their producers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskedSubclaim {
    pub point: Vec<EF>,
    pub mask_claims: Vec<Claim>,
    pub eval_claims: Vec<Claim>,
    pub r_claims: Vec<Claim>,
}

/// The round degree with incoming claims: their term reads one variable
/// linearly, so it needs a degree of at least one.
fn sent_degree(terms: &[Term], masked: &[MaskedMle], eq: bool, incoming: bool) -> usize {
    round_degree(terms, masked, eq).max(usize::from(incoming))
}

/// Verifies a [`prove`] proof of `Σ_x [eq(eq_point, x)·] Σ_t coeff_t·Π
/// factors = claimed_sum` over `num_vars` variables, the `masked` factors
/// read through `V'`, with the prover's `final_evals` (one per factor table,
/// `V'(r)` for masked ones), the mask `g` committed as polynomial `mask_poly`.
#[allow(clippy::too_many_arguments)]
pub fn verify(
    num_vars: usize,
    terms: &[Term],
    masked: &[MaskedMle],
    eq_point: Option<&[EF]>,
    claimed_sum: EF,
    proof: &ZkSumcheckProof,
    final_evals: &[EF],
    mask_poly: usize,
    transcript: &mut Transcript,
) -> Result<MaskedSubclaim, VerifyError> {
    let statement = MaskedStatement {
        num_vars,
        terms,
        masked,
        eq_point,
        incoming: &[],
    };
    let sent = MaskedEvals {
        final_evals,
        r_values: &[],
    };
    verify_with_incoming(&statement, claimed_sum, proof, &sent, mask_poly, transcript)
}

/// What a masked-evaluation sumcheck proves: `Σ_x [eq(eq_point, x)·]
/// Σ_t coeff_t·Π factors + E(x)` over `num_vars` variables, the `masked`
/// factors read through `V'` (or `V̇`), `E` the term of the `incoming`
/// claims ([`interlayer`]).
#[derive(Clone, Copy, Debug)]
pub struct MaskedStatement<'a> {
    pub num_vars: usize,
    pub terms: &'a [Term],
    pub masked: &'a [MaskedMle],
    pub eq_point: Option<&'a [EF]>,
    pub incoming: &'a [IncomingClaim],
}

/// What the prover sends after the rounds: one final evaluation per factor
/// table (`V'(r)` for masked ones) and `R_j(z_j_head, r_0)` per incoming
/// claim.
#[derive(Clone, Copy, Debug)]
pub struct MaskedEvals<'a> {
    pub final_evals: &'a [EF],
    pub r_values: &'a [EF],
}

/// [`verify`] of a [`prove_with_incoming`] proof whose claimed sum holds
/// the `incoming` claims (`claimed_sum = H + Σ_j α_j Z(z_j) S_j(z_j_head)`,
/// in practice `Σ_j α_j V̇(z_j)` as the consumer sent them).
pub fn verify_with_incoming(
    statement: &MaskedStatement<'_>,
    claimed_sum: EF,
    proof: &ZkSumcheckProof,
    sent: &MaskedEvals<'_>,
    mask_poly: usize,
    transcript: &mut Transcript,
) -> Result<MaskedSubclaim, VerifyError> {
    let &MaskedStatement {
        num_vars,
        terms,
        masked,
        eq_point,
        incoming,
    } = statement;
    let final_evals = sent.final_evals;
    if num_vars < 1 {
        return Err(VerifyError::Sumcheck(
            "a masked-evaluation sumcheck needs a variable".into(),
        ));
    }
    if eq_point.is_some_and(|z| z.len() != num_vars)
        || masked.iter().any(|m| m.mle >= final_evals.len())
        || terms
            .iter()
            .any(|t| t.factors.iter().any(|&k| k >= final_evals.len()))
        || sent.r_values.len() != incoming.len()
        || !incoming.iter().all(IncomingClaim::is_well_formed)
    {
        return Err(VerifyError::Malformed(
            "masked-evaluation sumcheck: final evaluations do not fit the polynomial".into(),
        ));
    }
    let degree = sent_degree(terms, masked, eq_point.is_some(), !incoming.is_empty());
    let sub = super::verify(num_vars, degree, claimed_sum, proof, mask_poly, transcript)?;
    absorb_final_evals(transcript, final_evals);
    interlayer::absorb_r_values(transcript, sent.r_values);
    let eq = eq_point.map_or(EF::ONE, |z| mle::eq_eval(z, &sub.point));
    let term = interlayer::term_at_point(incoming, sent.r_values, num_vars);
    if eq * combine(terms, final_evals) + term != sub.expected_eval {
        return Err(VerifyError::Sumcheck(
            "masked evaluations do not give the sumcheck's final claim".into(),
        ));
    }
    Ok(MaskedSubclaim {
        eval_claims: eval_claims(masked, &sub.point, final_evals)?,
        r_claims: interlayer::r_claims(incoming, sub.point[0], sent.r_values),
        point: sub.point,
        mask_claims: sub.mask_claims,
    })
}

/// Absorbs the final evaluations (masked ones as `V'(r)`).
fn absorb_final_evals(t: &mut Transcript, evals: &[EF]) {
    t.label(b"zk-masked-evals");
    t.absorb_efs(evals);
}

/// `R` is a table over `k` head variables of `num_vars`, `1 ≤ k < num_vars`
/// (the last variable must stay free of it: only the last round changes).
fn assert_head_table(len: usize, num_vars: usize) {
    let k = len.trailing_zeros() as usize;
    assert!(
        len.is_power_of_two() && k >= 1 && k < num_vars,
        "R needs 1 ≤ k < n head variables"
    );
}

//! Masked claims passed between layers (Libra, Xie et al. 2019, §4).
//!
//! A tensor `V` that is never committed — an op's output, a GKR layer — has
//! no `W` to open, so [`masked_claim`](super::masked_claim) cannot hide its
//! evaluations. Instead its consumer reads it as
//!
//! ```text
//! V̇(x) = V(x) + Z(x)·S(x_head),   S(x_head) = Σ_{w ∈ {0,1}} R(x_head, w)
//! ```
//!
//! with `R` a uniformly random table over the first `h` of `V`'s variables
//! and one extra variable `w`, committed in the proof's hiding commitment
//! ([`ClaimMask`]). The consumer's sumcheck is a masked-evaluation one with
//! `S` as the factor's [`EvalMask`](super::EvalMask) and no `W`
//! (`MaskedMle::poly == None`): it sends `V̇(r_j)` and the value goes on, as
//! a claim, to `V`'s producer.
//!
//! # The producer's term
//!
//! The producer's sumcheck proves `V(z_j) = Σ_x f_j(x)` (its claims
//! combined with weights `α_j` the verifier drew after the `V̇(z_j)`). It is
//! handed `Σ_j α_j·V̇(z_j)`, so it adds inside its sum, over its own `n`
//! variables,
//!
//! ```text
//! E(x) = 2^{-(n-1)}·Σ_j α_j·Z(z_j)·R_j(z_j_head, x_0),
//! ```
//!
//! whose hypercube sum is `Σ_j α_j·Z(z_j)·S_j(z_j_head)`: the claimed sum
//! becomes exactly `Σ_j α_j·V̇(z_j)`. `E` reads only `x_0` and linearly, so
//! it adds nothing to the round degree; its share of round 0 is
//! `e(t) = Σ_j α_j Z(z_j) R_j(z_j_head, t)`, of round `i ≥ 1` the constant
//! `2^{-i}·e(c_0)`. At the end the prover sends `R_j(z_j_head, c_0)`, claims
//! on the hiding commitment, and the verifier takes `E(c)` off the final
//! value.
//!
//! # Why `V(z_j)` stays hidden
//!
//! Write `R(a, w) = (1 − w)·R_0(a) + w·R_1(a)`: `S = R_0 + R_1` and
//! `R(a, c) = (1 − c)·S(a) + (2c − 1)·R_1(a)`. The view reveals `S(a_j)`
//! (inside `V̇(z_j)`) and `R(a_j, c_0)`; for `c_0 ≠ 1/2` the pair is an
//! invertible image of `(S(a_j), R_1(a_j))`, two independent uniform
//! tables. With entries in `F` and points outside `F`, `m` evaluations of a
//! table over `h` variables are uniform in `EF^m` when `2^h ≥ 2m`
//! ([`claim_mask_vars`]): then the masks `Z(z_j)·S(a_j)` are uniform given
//! everything else the proof shows. The test
//! `interlayer_tests::another_private_tensor_with_shifted_masks_gives_the_same_proof`
//! runs the argument exactly.
//!
//! # Soundness
//!
//! A cheating prover's `R` is any table over `h + 1` variables, bound
//! before the challenges: `S_R` still reads only the head (the consumer's
//! last round rises by the honest amount), and `E_R` is still linear in
//! `x_0`. A false `V̇(z_j)` — one that is not `V(z_j) + Z(z_j)·S_R(a_j)` —
//! makes the producer's claimed sum false, caught by its sumcheck at the
//! unchanged degree ([`crate::security::interlayer_sumcheck_bits`]).
//!
//! # Transcript
//!
//! After the masked-evaluation transcript (`super`), if the sumcheck has
//! incoming claims: `label(b"zk-incoming-masks"); absorb_efs(R_j(a_j, c_0))`.

use rand::CryptoRng;

use crate::field::{random_f, BasedVectorSpace, Field, PrimeCharacteristicRing, EF, F};
use crate::mle;
use crate::pcs::Claim;
use crate::transcript::Transcript;

use super::super::super::RoundMask;
use super::super::mask::pow2;
use super::{vanishing_eval, EvalMask};

/// The `R` of one never-committed tensor: `2^{h+1}` entries over its first
/// `h` variables and `w` (last, least significant). Prover-side secret;
/// [`ClaimMask::table`] is committed in the hiding commitment.
#[derive(Clone, Debug)]
pub struct ClaimMask {
    table: Vec<F>,
}

impl ClaimMask {
    /// Samples `R` with `head_vars` head variables from `rng` (a CSPRNG).
    ///
    /// # Panics
    ///
    /// If `head_vars == 0`: `S(r_head)` must reach `EF`.
    pub fn random<R: CryptoRng + ?Sized>(head_vars: usize, rng: &mut R) -> Self {
        Self::from_table((0..2 << head_vars).map(|_| random_f(rng)).collect())
    }

    /// The mask with this table (`2^{h+1}` entries, `h ≥ 1`).
    pub(super) fn from_table(table: Vec<F>) -> Self {
        assert!(
            table.len().is_power_of_two() && table.len() >= 4,
            "R needs a head variable and w"
        );
        Self { table }
    }

    pub fn head_vars(&self) -> usize {
        self.table.len().trailing_zeros() as usize - 1
    }

    /// The committed table (`head_vars + 1` variables).
    pub fn table(&self) -> &[F] {
        &self.table
    }

    /// The consumer's mask `S = Σ_w R(·, w)` of a tensor over `num_vars`
    /// variables.
    ///
    /// # Panics
    ///
    /// Unless `head_vars < num_vars` (as [`EvalMask`]).
    pub fn eval_mask(&self, num_vars: usize) -> EvalMask {
        let s = self.table.chunks(2).map(|p| p[0] + p[1]).collect();
        EvalMask::from_table(num_vars, s)
    }

    /// The constant consumer's mask `S = Σ_w R(head, w)` over `num_vars ≥ 1`
    /// variables, `head` a public point outside `F^h` ([`constant_head`]):
    /// for tensors without a head variable that is not their last (a
    /// LogUp-GKR layer of one or two variables).
    pub fn eval_mask_at(&self, num_vars: usize, head: &[EF]) -> EvalMask {
        let s = self.table.chunks(2).map(|p| p[0] + p[1]).collect();
        EvalMask::constant(num_vars, s, head)
    }

    /// `R(point_head, w)`: `point` may be longer than the head.
    pub fn eval(&self, point: &[EF], w: EF) -> EF {
        let mut at = point[..self.head_vars()].to_vec();
        at.push(w);
        mle::evaluate_base(&self.table, &at)
    }
}

/// The public head `a = (X)` of a constant mask (`X` generates `EF` over
/// `F`): `R(a, ·)` of an `F`-table over one head variable is uniform in
/// `EF` because `1 − a, a` are `F`-independent. One claim per tensor only
/// (every claim reads the same `S(a)`).
pub fn constant_head() -> Vec<EF> {
    vec![EF::from_basis_coefficients_fn(|i| {
        if i == 1 {
            F::ONE
        } else {
            F::ZERO
        }
    })]
}

/// Head variables of `R` for a tensor claimed at `claims` points:
/// `⌈log2(2·claims)⌉`, so its `claims` revealed evaluations stay uniform.
pub fn claim_mask_vars(claims: usize) -> usize {
    (2 * claims.max(1)).next_power_of_two().trailing_zeros() as usize
}

/// A masked claim `V̇(point)` that enters a sumcheck's claimed sum with
/// weight `coeff`; `V`'s [`ClaimMask`] (with `head_vars` head variables) is
/// committed polynomial `poly`. `fixed_head`: `R` is read at that public
/// head ([`ClaimMask::eval_mask_at`]), not at `point`'s first coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingClaim {
    pub poly: usize,
    pub head_vars: usize,
    pub point: Vec<EF>,
    pub coeff: EF,
    pub fixed_head: Option<Vec<EF>>,
}

impl IncomingClaim {
    /// `α_j·Z(z_j)`, the claim's weight in `e(t)`.
    fn weight(&self) -> EF {
        self.coeff * vanishing_eval(&self.point)
    }

    pub(super) fn is_well_formed(&self) -> bool {
        self.head_vars >= 1
            && match &self.fixed_head {
                Some(h) => h.len() == self.head_vars,
                None => self.head_vars < self.point.len(),
            }
    }

    /// Where `R`'s head is read.
    fn head(&self) -> &[EF] {
        match &self.fixed_head {
            Some(a) => a,
            None => &self.point[..self.head_vars],
        }
    }

    /// The claim `R(head, c_0) = value` on the committed `R`.
    fn r_claim(&self, c0: EF, value: EF) -> Claim {
        let mut at = self.head().to_vec();
        at.push(c0);
        Claim {
            poly: self.poly,
            point: at,
            value,
        }
    }
}

/// `E(c) = 2^{-(n-1)}·Σ_j α_j Z(z_j)·R_j(z_j_head, c_0)` from the sent
/// `R_j(z_j_head, c_0)`.
pub(super) fn term_at_point(claims: &[IncomingClaim], r_values: &[EF], num_vars: usize) -> EF {
    let e: EF = claims
        .iter()
        .zip(r_values)
        .map(|(c, &v)| c.weight() * v)
        .sum();
    e * pow2(num_vars - 1).inverse()
}

/// The claims on the committed `R`s at the final point's `c_0`.
pub(super) fn r_claims(claims: &[IncomingClaim], c0: EF, r_values: &[EF]) -> Vec<Claim> {
    claims
        .iter()
        .zip(r_values)
        .map(|(c, &v)| c.r_claim(c0, v))
        .collect()
}

/// Absorbs the sent `R_j(z_j_head, c_0)` (nothing without incoming claims,
/// so a sumcheck without them keeps its transcript).
pub(super) fn absorb_r_values(t: &mut Transcript, values: &[EF]) {
    if !values.is_empty() {
        t.label(b"zk-incoming-masks");
        t.absorb_efs(values);
    }
}

/// The producer's term `E` in a prover run: wraps the zero-knowledge mask's
/// [`RoundMask`], adding `E`'s sum to the header's claimed sum and its share
/// to every round.
pub(super) struct WithIncoming<'a, M> {
    pub(super) inner: M,
    claims: &'a [(IncomingClaim, &'a ClaimMask)],
    num_vars: usize,
    /// `e(c_0)` once round 0's challenge is known.
    at_c0: EF,
}

impl<'a, M: RoundMask> WithIncoming<'a, M> {
    pub(super) fn new(
        inner: M,
        claims: &'a [(IncomingClaim, &'a ClaimMask)],
        num_vars: usize,
    ) -> Self {
        Self {
            inner,
            claims,
            num_vars,
            at_c0: EF::ZERO,
        }
    }

    /// `e(t) = Σ_j α_j Z(z_j)·R_j(z_j_head, t)`.
    fn e(&self, t: EF) -> EF {
        self.claims
            .iter()
            .map(|(c, r)| c.weight() * r.eval(c.head(), t))
            .sum()
    }

    /// `E`'s hypercube sum, `e(0) + e(1)`.
    pub(super) fn term_sum(&self) -> EF {
        self.e(EF::ZERO) + self.e(EF::ONE)
    }

    /// The values the prover sends at the final point `point`.
    pub(super) fn r_values(&self, point: &[EF]) -> Vec<EF> {
        self.claims
            .iter()
            .map(|(c, r)| r.eval(c.head(), point[0]))
            .collect()
    }
}

impl<M: RoundMask> RoundMask for WithIncoming<'_, M> {
    fn header(&mut self, t: &mut Transcript, num_vars: usize, degree: usize, claimed_sum: EF) {
        let sum = self.term_sum();
        self.inner.header(t, num_vars, degree, claimed_sum + sum);
    }

    fn round(&mut self, round: usize, point: &[EF], degree: usize) -> Vec<EF> {
        let mut share = self.inner.round(round, point, degree);
        if round == 0 {
            for (t, s) in share.iter_mut().enumerate() {
                *s += self.e(EF::from(F::from_usize(t)));
            }
        } else {
            if round == 1 {
                self.at_c0 = self.e(point[0]);
            }
            let add = self.at_c0 * pow2(round).inverse();
            share.iter_mut().for_each(|s| *s += add);
        }
        debug_assert!(round < self.num_vars);
        share
    }

    fn sent_degree(&self, natural: usize) -> usize {
        self.inner.sent_degree(natural)
    }
}

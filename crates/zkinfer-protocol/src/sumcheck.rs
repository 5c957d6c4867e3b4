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
//! # Prover
//!
//! One pass over the tables per round: the fold of the previous challenge
//! (`lo + r·(hi − lo)`, in place for extension tables) is fused with the
//! computation of the next round polynomial, block by block, so each round
//! reads every table once. Base-field tables ([`Mle::Base`]) stay in the base
//! field for round 0 (products and sums in `F`); the first fold lifts them to
//! `EF`. Each factor is extrapolated linearly (`lo + t·(hi − lo)`, by
//! repeated addition of `hi − lo`), products are summed with delayed modular
//! reduction, and `p(1)` is derived from the running claim (round 0 computes
//! it, which also yields the claimed sum without a separate pass). Blocks are
//! processed in parallel (rayon) only for tables of at least 2^14 entries.
//!
//! [`prove_eq_weighted`] proves `Σ_x eq(r, x) · poly(x)` without materialising
//! the `eq` table: the round polynomial factors as
//! `α · eq(r_i, t) · q_i(t)` (Gruen's trick) where `q_i` has the degree of
//! `poly` and is computed with a split (√-size) `eq` table for the remaining
//! variables. Its proof is byte-identical to [`prove`] on the same polynomial
//! with an explicit `eq` table as an extra factor, so [`verify`] checks it with
//! `degree = poly.degree() + 1`.
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

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::field::{BasedVectorSpace, Field, PrimeCharacteristicRing, EF, F};
use crate::mle::{self, ExtScalar, PAR_THRESHOLD};
use crate::transcript::Transcript;
use crate::VerifyError;

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

    fn pad(&mut self, num_vars: usize) {
        match self {
            Mle::Base(v) => mle::pad_to(v, num_vars),
            Mle::Ext(v) => mle::pad_to(v, num_vars),
        }
    }

    fn at(&self, i: usize) -> EF {
        match self {
            Mle::Base(v) => EF::from(v[i]),
            Mle::Ext(v) => v[i],
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

    /// The hypercube sum (computed directly; used by the prover).
    pub fn sum(&self) -> EF {
        self.check_shape();
        let n = self.num_vars;
        if self.mles.iter().any(|m| m.len() != 1 << n) {
            // Short tables: sum over a padded copy.
            let mut padded = self.clone();
            padded.mles.iter_mut().for_each(|m| m.pad(n));
            return padded.sum();
        }
        if n == 0 {
            return combine_at(&self.terms, &self.mles, 0);
        }
        let infos = term_infos(&self.terms, &self.mles);
        let s = round_pass_plain(&self.mles, 1 << (n - 1), &infos, &[0, 1], None);
        let k = infos.len();
        (0..k)
            .map(|j| self.terms[j].coeff * (s[j * 2] + s[j * 2 + 1]))
            .sum()
    }

    fn check_shape(&self) {
        let n = self.num_vars;
        for m in &self.mles {
            assert!(
                m.len() <= 1 << n,
                "sumcheck: table of {} entries exceeds 2^{n}",
                m.len()
            );
        }
        for t in &self.terms {
            for &f in &t.factors {
                assert!(f < self.mles.len(), "sumcheck: factor {f} out of range");
            }
        }
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

/// Proves `Σ_x poly(x) = poly.sum()`.
///
/// Tables shorter than `2^num_vars` are zero-padded (see [`mle::pad_to`]).
pub fn prove(poly: SumOfProducts, transcript: &mut Transcript) -> ProverOutput {
    prove_impl(poly, None, transcript)
}

/// Proves `Σ_x eq(eq_point, x) · poly(x)` (`eq_point.len() == poly.num_vars`)
/// without materialising the `eq` table.
///
/// The round polynomials have degree `poly.degree() + 1`; verify with
/// [`verify`]`(num_vars, poly.degree() + 1, claimed_sum, ..)` and check
/// `eq_eval(eq_point, point) · combine(&poly.terms, &final_evals) == expected_eval`.
/// `final_evals` holds the evaluations of `poly.mles` only (not of `eq`).
/// The proof equals that of [`prove`] on the same polynomial with
/// `Mle::Ext(eq_table(eq_point))` multiplied into every term.
pub fn prove_eq_weighted(
    eq_point: &[EF],
    poly: SumOfProducts,
    transcript: &mut Transcript,
) -> ProverOutput {
    assert_eq!(
        eq_point.len(),
        poly.num_vars,
        "prove_eq_weighted: eq point dimension differs from num_vars"
    );
    prove_impl(poly, Some(eq_point), transcript)
}

/// What the verifier still has to check: `poly(point) == expected_eval`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subclaim {
    pub point: Vec<EF>,
    pub expected_eval: EF,
}

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
        transcript.absorb_efs(p);
        let r = transcript.challenge_ef();
        claim = interpolate(p, r);
        point.push(r);
    }
    Ok(Subclaim {
        point,
        expected_eval: claim,
    })
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

// ---------------------------------------------------------------------------
// Prover internals.
// ---------------------------------------------------------------------------

fn absorb_header(t: &mut Transcript, num_vars: usize, degree: usize, claimed_sum: EF) {
    t.label(b"sumcheck");
    t.absorb_u64(num_vars as u64);
    t.absorb_u64(degree as u64);
    t.absorb_ef(claimed_sum);
}

/// `Σ coeff · Π mles[k][i]` at one table index.
fn combine_at(terms: &[Term], mles: &[Mle], i: usize) -> EF {
    terms
        .iter()
        .map(|t| t.coeff * t.factors.iter().map(|&k| mles[k].at(i)).product::<EF>())
        .sum()
}

/// Factors of a term, split by the field their (current) tables live in.
struct TermInfo {
    base: Vec<usize>,
    ext: Vec<usize>,
}

fn term_infos(terms: &[Term], mles: &[Mle]) -> Vec<TermInfo> {
    terms
        .iter()
        .map(|t| {
            let (base, ext) = t
                .factors
                .iter()
                .partition(|&&k| matches!(mles[k], Mle::Base(_)));
            TermInfo { base, ext }
        })
        .collect()
}

/// Pairs per block of the inner kernel.
const BLOCK: usize = 256;

/// A table during proving (after round 0).
///
/// A base table, once folded, is kept *in its own buffer* as an extension
/// table in struct-of-arrays form: coefficient 0 at `buf[..len]`, coefficient
/// 1 at `buf[h..h + len]`. Folding `(lo, hi) ↦ lo + r·(hi − lo)` then maps
/// the positions `(x, x + h)` to themselves, so it runs in place with no
/// allocation (fresh pages cost ~1 ms/MB here) and half the memory traffic.
enum Table {
    Ext(Vec<EF>),
    Base(Vec<F>),
    Soa { buf: Vec<F>, h: usize, len: usize },
}

/// One table's share of a chunk of pair indices.
enum View<'a> {
    /// Round 0: read-only halves of an unfolded table.
    PlainBase {
        lo: &'a [F],
        hi: &'a [F],
    },
    PlainExt {
        lo: &'a [EF],
        hi: &'a [EF],
    },
    /// Pending fold of an extension table, in place: `lo ← fold(lo, lo2)`, `hi ← fold(hi, hi2)`.
    FoldExt {
        lo: &'a mut [EF],
        hi: &'a mut [EF],
        lo2: &'a [EF],
        hi2: &'a [EF],
    },
    /// Pending fold of a base table into struct-of-arrays form, in place:
    /// `(lo, lo2) ← fold(lo, lo2)` as (coefficient 0, coefficient 1), same for `hi`.
    /// The folded block is also copied to `blo`/`bhi` for the evaluation.
    FoldBase {
        lo: &'a mut [F],
        hi: &'a mut [F],
        lo2: &'a mut [F],
        hi2: &'a mut [F],
        blo: Vec<EF>,
        bhi: Vec<EF>,
    },
    /// Pending fold of a struct-of-arrays table, in place. `c0[0..2]` / `c1[0..2]`
    /// are the (mutable) quarters 0 and 1 of each coefficient array, `c0r` / `c1r`
    /// quarters 2 and 3.
    FoldSoa {
        c0: [&'a mut [F]; 2],
        c1: [&'a mut [F]; 2],
        c0r: [&'a [F]; 2],
        c1r: [&'a [F]; 2],
        blo: Vec<EF>,
        bhi: Vec<EF>,
    },
}

/// The values of one factor on a block.
#[derive(Clone, Copy)]
enum Vals<'a> {
    B(&'a [F]),
    E(&'a [EF]),
}

impl View<'_> {
    fn fold_block(&mut self, s: usize, e: usize, r: &ExtScalar) {
        match self {
            View::FoldExt { lo, hi, lo2, hi2 } => {
                for (a, b) in lo[s..e].iter_mut().zip(&lo2[s..e]) {
                    *a = r.fold(*a, *b);
                }
                for (a, b) in hi[s..e].iter_mut().zip(&hi2[s..e]) {
                    *a = r.fold(*a, *b);
                }
            }
            View::FoldBase {
                lo,
                hi,
                lo2,
                hi2,
                blo,
                bhi,
            } => {
                for (dst, a, b) in [(blo, lo, lo2), (bhi, hi, hi2)] {
                    dst.resize(e - s, EF::ZERO);
                    for ((d, x0), x1) in dst.iter_mut().zip(&mut a[s..e]).zip(&mut b[s..e]) {
                        let v = r.fold_base(*x0, *x1);
                        let c: &[F] = v.as_basis_coefficients_slice();
                        (*x0, *x1) = (c[0], c[1]);
                        *d = v;
                    }
                }
            }
            View::FoldSoa {
                c0,
                c1,
                c0r,
                c1r,
                blo,
                bhi,
            } => {
                for (q, dst) in [blo, bhi].into_iter().enumerate() {
                    dst.resize(e - s, EF::ZERO);
                    let it = dst
                        .iter_mut()
                        .zip(c0[q][s..e].iter_mut().zip(c1[q][s..e].iter_mut()))
                        .zip(c0r[q][s..e].iter().zip(&c1r[q][s..e]));
                    for ((d, (a0, a1)), (&b0, &b1)) in it {
                        let v = r.fold(EF::new([*a0, *a1]), EF::new([b0, b1]));
                        let c: &[F] = v.as_basis_coefficients_slice();
                        (*a0, *a1) = (c[0], c[1]);
                        *d = v;
                    }
                }
            }
            View::PlainBase { .. } | View::PlainExt { .. } => {}
        }
    }

    fn lo(&self, s: usize, e: usize) -> Vals<'_> {
        match self {
            View::PlainBase { lo, .. } => Vals::B(&lo[s..e]),
            View::PlainExt { lo, .. } => Vals::E(&lo[s..e]),
            View::FoldExt { lo, .. } => Vals::E(&lo[s..e]),
            View::FoldBase { blo, .. } | View::FoldSoa { blo, .. } => Vals::E(&blo[..e - s]),
        }
    }

    fn hi(&self, s: usize, e: usize) -> Vals<'_> {
        match self {
            View::PlainBase { hi, .. } => Vals::B(&hi[s..e]),
            View::PlainExt { hi, .. } => Vals::E(&hi[s..e]),
            View::FoldExt { hi, .. } => Vals::E(&hi[s..e]),
            View::FoldBase { bhi, .. } | View::FoldSoa { bhi, .. } => Vals::E(&bhi[..e - s]),
        }
    }
}

/// Per-table extrapolation buffers (`cur = lo + t·diff`).
#[derive(Default)]
struct Scratch {
    cur_f: Vec<F>,
    diff_f: Vec<F>,
    cur_e: Vec<EF>,
    diff_e: Vec<EF>,
}

/// Equality weights of the pair indices: `w(j) = ea[j >> nb] · eb[j & mask]`.
struct EqWeights<'a> {
    ea: &'a [EF],
    eb: &'a [EF],
    nb: usize,
}

/// Chunking of `half` pair indices: (chunk length, block length, parallel?).
fn chunking(half: usize, ntables: usize, weights: Option<&EqWeights>) -> (usize, usize, bool) {
    let parallel = 2 * half * ntables.max(1) >= PAR_THRESHOLD && half >= 2 * BLOCK;
    let chunk = if parallel {
        (half / (rayon::current_num_threads() * 4))
            .next_power_of_two()
            .max(BLOCK)
            .min(half)
    } else {
        half
    };
    let mut block = BLOCK.min(chunk);
    if let Some(w) = weights {
        block = block.min(1 << w.nb);
    }
    (chunk, block, parallel)
}

/// Round sums for round 0 (no pending fold): `S[term][ti] = Σ_j w(j) · Π_k mle_k(t_i; j)`.
fn round_pass_plain(
    mles: &[Mle],
    half: usize,
    infos: &[TermInfo],
    ts: &[usize],
    weights: Option<&EqWeights>,
) -> Vec<EF> {
    let (chunk, block, parallel) = chunking(half, mles.len(), weights);
    let nchunks = half / chunk;
    let mut per_chunk: Vec<Vec<View>> = (0..nchunks)
        .map(|_| Vec::with_capacity(mles.len()))
        .collect();
    for m in mles {
        match m {
            Mle::Base(v) => {
                let (lo, hi) = v.split_at(half);
                for ((pc, lo), hi) in per_chunk
                    .iter_mut()
                    .zip(lo.chunks(chunk))
                    .zip(hi.chunks(chunk))
                {
                    pc.push(View::PlainBase { lo, hi });
                }
            }
            Mle::Ext(v) => {
                let (lo, hi) = v.split_at(half);
                for ((pc, lo), hi) in per_chunk
                    .iter_mut()
                    .zip(lo.chunks(chunk))
                    .zip(hi.chunks(chunk))
                {
                    pc.push(View::PlainExt { lo, hi });
                }
            }
        }
    }
    run_chunks(per_chunk, chunk, block, parallel, None, infos, ts, weights)
}

/// Round sums for rounds >= 1: folds the pending challenge `r` into every
/// table (halving it, in place) fused with the round-sum computation.
fn round_pass_fold(
    tables: &mut [Table],
    r: EF,
    half: usize,
    infos: &[TermInfo],
    ts: &[usize],
    weights: Option<&EqWeights>,
) -> Vec<EF> {
    let (chunk, block, parallel) = chunking(half, tables.len(), weights);
    let nchunks = half / chunk;
    let sums = {
        let mut per_chunk: Vec<Vec<View>> = (0..nchunks)
            .map(|_| Vec::with_capacity(tables.len()))
            .collect();
        for t in tables.iter_mut() {
            match t {
                Table::Base(v) => {
                    let (q01, q23) = v.split_at_mut(2 * half);
                    let (q0, q1) = q01.split_at_mut(half);
                    let (q2, q3) = q23.split_at_mut(half);
                    let it = q0
                        .chunks_mut(chunk)
                        .zip(q1.chunks_mut(chunk))
                        .zip(q2.chunks_mut(chunk).zip(q3.chunks_mut(chunk)));
                    for (pc, ((lo, hi), (lo2, hi2))) in per_chunk.iter_mut().zip(it) {
                        pc.push(View::FoldBase {
                            lo,
                            hi,
                            lo2,
                            hi2,
                            blo: Vec::new(),
                            bhi: Vec::new(),
                        });
                    }
                }
                Table::Soa { buf, h, len } => {
                    debug_assert_eq!(*len, 4 * half);
                    let (a, b) = buf.split_at_mut(*h);
                    let (c0w, c0r) = soa_quarters(&mut a[..4 * half], half, chunk);
                    let (c1w, c1r) = soa_quarters(&mut b[..4 * half], half, chunk);
                    let it = c0w.zip(c0r).zip(c1w.zip(c1r));
                    for (pc, (((a0, a1), (a2, a3)), ((b0, b1), (b2, b3)))) in
                        per_chunk.iter_mut().zip(it)
                    {
                        pc.push(View::FoldSoa {
                            c0: [a0, a1],
                            c1: [b0, b1],
                            c0r: [a2, a3],
                            c1r: [b2, b3],
                            blo: Vec::new(),
                            bhi: Vec::new(),
                        });
                    }
                }
                Table::Ext(v) => {
                    let (q01, q23) = v.split_at_mut(2 * half);
                    let (q0, q1) = q01.split_at_mut(half);
                    let (q2, q3) = q23.split_at(half);
                    let it = q0
                        .chunks_mut(chunk)
                        .zip(q1.chunks_mut(chunk))
                        .zip(q2.chunks(chunk).zip(q3.chunks(chunk)));
                    for (pc, ((lo, hi), (lo2, hi2))) in per_chunk.iter_mut().zip(it) {
                        pc.push(View::FoldExt { lo, hi, lo2, hi2 });
                    }
                }
            }
        }
        run_chunks(
            per_chunk,
            chunk,
            block,
            parallel,
            Some(r),
            infos,
            ts,
            weights,
        )
    };
    for t in tables.iter_mut() {
        match t {
            Table::Base(v) => {
                let buf = std::mem::take(v);
                *t = Table::Soa {
                    buf,
                    h: 2 * half,
                    len: 2 * half,
                };
            }
            Table::Soa { len, .. } => *len = 2 * half,
            Table::Ext(v) => v.truncate(2 * half),
        }
    }
    sums
}

/// Chunk iterators over the quarters of one coefficient array of a
/// struct-of-arrays table: (quarters 0 and 1, mutable; quarters 2 and 3).
#[allow(clippy::type_complexity)]
fn soa_quarters(
    x: &mut [F],
    half: usize,
    chunk: usize,
) -> (
    std::iter::Zip<std::slice::ChunksMut<'_, F>, std::slice::ChunksMut<'_, F>>,
    std::iter::Zip<std::slice::Chunks<'_, F>, std::slice::Chunks<'_, F>>,
) {
    let (q01, q23) = x.split_at_mut(2 * half);
    let (q0, q1) = q01.split_at_mut(half);
    let (q2, q3) = q23.split_at(half);
    (
        q0.chunks_mut(chunk).zip(q1.chunks_mut(chunk)),
        q2.chunks(chunk).zip(q3.chunks(chunk)),
    )
}

#[allow(clippy::too_many_arguments)]
fn run_chunks(
    per_chunk: Vec<Vec<View>>,
    chunk: usize,
    block: usize,
    parallel: bool,
    r: Option<EF>,
    infos: &[TermInfo],
    ts: &[usize],
    weights: Option<&EqWeights>,
) -> Vec<EF> {
    let width = infos.len() * ts.len();
    let work = |(c, views): (usize, Vec<View>)| {
        chunk_kernel(views, c * chunk, block, r, infos, ts, weights)
    };
    let add = |mut a: Vec<EF>, b: Vec<EF>| {
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
        a
    };
    if parallel {
        per_chunk
            .into_par_iter()
            .enumerate()
            .map(work)
            .reduce(|| vec![EF::ZERO; width], add)
    } else {
        per_chunk
            .into_iter()
            .enumerate()
            .map(work)
            .fold(vec![EF::ZERO; width], add)
    }
}

/// Processes one chunk (pair indices `j0 .. j0 + len`) block by block.
fn chunk_kernel(
    mut views: Vec<View>,
    j0: usize,
    block: usize,
    r: Option<EF>,
    infos: &[TermInfo],
    ts: &[usize],
    weights: Option<&EqWeights>,
) -> Vec<EF> {
    let len = views.first().map_or(0, view_len);
    let nt = ts.len();
    let mut out = vec![EF::ZERO; infos.len() * nt];
    let mut block_sums = vec![EF::ZERO; infos.len() * nt];
    let mut used = vec![false; views.len()];
    for info in infos {
        for &k in info.base.iter().chain(&info.ext) {
            used[k] = true;
        }
    }
    let mut scratch: Vec<Scratch> = (0..views.len()).map(|_| Scratch::default()).collect();
    let mut tmp_f = vec![F::ZERO; block];
    let mut tmp_e = vec![EF::ZERO; block];
    let rs = r.map(ExtScalar::new);
    let mut s = 0;
    while s < len {
        let e = (s + block).min(len);
        if let Some(r) = &rs {
            for v in views.iter_mut() {
                v.fold_block(s, e, r);
            }
        }
        let (w, scale) = match weights {
            Some(w) => {
                let j = j0 + s;
                let mask = (1usize << w.nb) - 1;
                let jb = j & mask;
                (Some(&w.eb[jb..jb + (e - s)]), Some(w.ea[j >> w.nb]))
            }
            None => (None, None),
        };
        let sink: &mut [EF] = if scale.is_some() {
            &mut block_sums
        } else {
            &mut out
        };
        eval_block(
            &views,
            &used,
            &mut scratch,
            s,
            e,
            infos,
            ts,
            w,
            sink,
            &mut tmp_f,
            &mut tmp_e,
        );
        if let Some(scale) = scale {
            for (o, b) in out.iter_mut().zip(block_sums.iter_mut()) {
                *o += scale * *b;
                *b = EF::ZERO;
            }
        }
        s = e;
    }
    out
}

fn view_len(v: &View) -> usize {
    match v {
        View::PlainBase { lo, .. } => lo.len(),
        View::PlainExt { lo, .. } => lo.len(),
        View::FoldExt { lo, .. } => lo.len(),
        View::FoldBase { lo, .. } => lo.len(),
        View::FoldSoa { c0, .. } => c0[0].len(),
    }
}

/// Adds the block's contribution `Σ_b w_b · Π_k val_k(t)` to `sink[term * nt + ti]`.
#[allow(clippy::too_many_arguments)]
fn eval_block(
    views: &[View],
    used: &[bool],
    scratch: &mut [Scratch],
    s: usize,
    e: usize,
    infos: &[TermInfo],
    ts: &[usize],
    w: Option<&[EF]>,
    sink: &mut [EF],
    tmp_f: &mut [F],
    tmp_e: &mut [EF],
) {
    let n = e - s;
    let nt = ts.len();
    for (ti, &t) in ts.iter().enumerate() {
        // Advance the extrapolation buffers to t.
        if t >= 2 {
            for (k, v) in views.iter().enumerate() {
                if !used[k] {
                    continue;
                }
                let sc = &mut scratch[k];
                match (v.lo(s, e), v.hi(s, e)) {
                    (Vals::B(lo), Vals::B(hi)) => {
                        if t == 2 {
                            sc.cur_f.resize(n, F::ZERO);
                            sc.diff_f.resize(n, F::ZERO);
                            for (((c, d), &l), &h) in sc.cur_f[..n]
                                .iter_mut()
                                .zip(&mut sc.diff_f[..n])
                                .zip(lo)
                                .zip(hi)
                            {
                                *d = h - l;
                                *c = h + *d;
                            }
                        } else {
                            for (c, d) in sc.cur_f[..n].iter_mut().zip(&sc.diff_f[..n]) {
                                *c += *d;
                            }
                        }
                    }
                    (Vals::E(lo), Vals::E(hi)) => {
                        if t == 2 {
                            sc.cur_e.resize(n, EF::ZERO);
                            sc.diff_e.resize(n, EF::ZERO);
                            for (((c, d), &l), &h) in sc.cur_e[..n]
                                .iter_mut()
                                .zip(&mut sc.diff_e[..n])
                                .zip(lo)
                                .zip(hi)
                            {
                                *d = h - l;
                                *c = h + *d;
                            }
                        } else {
                            for (c, d) in sc.cur_e[..n].iter_mut().zip(&sc.diff_e[..n]) {
                                *c += *d;
                            }
                        }
                    }
                    _ => unreachable!("lo and hi of a table share a field"),
                }
            }
        }
        let val = |k: usize| -> Vals<'_> {
            match t {
                0 => views[k].lo(s, e),
                1 => views[k].hi(s, e),
                _ => match views[k].lo(s, e) {
                    Vals::B(_) => Vals::B(&scratch[k].cur_f[..n]),
                    Vals::E(_) => Vals::E(&scratch[k].cur_e[..n]),
                },
            }
        };
        for (j, info) in infos.iter().enumerate() {
            sink[j * nt + ti] += term_block_sum(info, &val, n, w, tmp_f, tmp_e);
        }
    }
}

/// `Σ_b w_b · Π_{k ∈ term} val_k[b]` (`w_b = 1` when unweighted).
fn term_block_sum<'a>(
    info: &TermInfo,
    val: &dyn Fn(usize) -> Vals<'a>,
    n: usize,
    w: Option<&[EF]>,
    tmp_f: &mut [F],
    tmp_e: &mut [EF],
) -> EF {
    let nb = info.base.len();
    let ne = info.ext.len();
    let bs = |i: usize| match val(info.base[i]) {
        Vals::B(x) => x,
        Vals::E(_) => unreachable!("base factor"),
    };
    let es = |i: usize| match val(info.ext[i]) {
        Vals::E(x) => x,
        Vals::B(_) => unreachable!("extension factor"),
    };
    // Unweighted products of at most two factors: direct delayed-reduction dots.
    if w.is_none() {
        match (nb, ne) {
            (0, 0) => return EF::from(F::from_usize(n)),
            (1, 0) => return EF::from(bs(0).iter().copied().sum::<F>()),
            (0, 1) => return es(0).iter().copied().sum(),
            (2, 0) => return EF::from(mle::dot_ff(bs(0), bs(1))),
            (1, 1) => return mle::dot_eb(es(0), bs(0)),
            (0, 2) => return mle::dot_ee(es(0), es(1)),
            _ => {}
        }
    }
    // Reduce the base factors to one slice.
    let pf: Option<&[F]> = match nb {
        0 => None,
        1 => Some(bs(0)),
        _ => {
            let t = &mut tmp_f[..n];
            let (a, b) = (bs(0), bs(1));
            for ((o, &x), &y) in t.iter_mut().zip(a).zip(b) {
                *o = x * y;
            }
            for i in 2..nb {
                for (o, &x) in t.iter_mut().zip(bs(i)) {
                    *o *= x;
                }
            }
            Some(&tmp_f[..n])
        }
    };
    // Reduce the extension factors (times the base product) to one slice.
    let pe: Option<&[EF]> = match (ne, pf) {
        (0, _) => None,
        (1, None) => Some(es(0)),
        _ => {
            let t = &mut tmp_e[..n];
            t.copy_from_slice(es(0));
            for i in 1..ne {
                for (o, &x) in t.iter_mut().zip(es(i)) {
                    *o = mle::emul(*o, x);
                }
            }
            if let Some(pf) = pf {
                for (o, &x) in t.iter_mut().zip(pf) {
                    *o = mle::emul_base(*o, x);
                }
            }
            Some(&tmp_e[..n])
        }
    };
    match (pe, pf, w) {
        (Some(pe), _, Some(w)) => mle::dot_ee(w, pe),
        (Some(pe), _, None) => pe.iter().copied().sum(),
        (None, Some(pf), Some(w)) => mle::dot_eb(w, pf),
        (None, Some(pf), None) => EF::from(pf.iter().copied().sum::<F>()),
        (None, None, Some(w)) => w.iter().copied().sum(),
        (None, None, None) => EF::from(F::from_usize(n)),
    }
}

fn prove_impl(
    mut poly: SumOfProducts,
    eq_point: Option<&[EF]>,
    transcript: &mut Transcript,
) -> ProverOutput {
    poly.check_shape();
    let n = poly.num_vars;
    for m in poly.mles.iter_mut() {
        if m.len() != 1 << n {
            m.pad(n);
        }
    }
    let d = poly.degree();
    let sent_degree = d + usize::from(eq_point.is_some());
    let coeffs: Vec<EF> = poly.terms.iter().map(|t| t.coeff).collect();

    if n == 0 {
        let claimed_sum = combine_at(&poly.terms, &poly.mles, 0);
        absorb_header(transcript, 0, sent_degree, claimed_sum);
        return ProverOutput {
            proof: SumcheckProof {
                round_polys: Vec::new(),
            },
            claimed_sum,
            point: Vec::new(),
            final_evals: poly.mles.iter().map(|m| m.at(0)).collect(),
        };
    }

    let mut round_polys = Vec::with_capacity(n);
    let mut point: Vec<EF> = Vec::with_capacity(n);
    let mut claim = EF::ZERO;
    let mut alpha = EF::ONE; // Π_{k<i} eq(r_k, ρ_k) in eq mode.
    let mut pending: Option<EF> = None;
    let mut claimed_sum = EF::ZERO;
    let mut tables: Vec<Table> = Vec::new();
    // Term factor kinds as of round 0 (later rounds: all extension).
    let infos0 = term_infos(&poly.terms, &poly.mles);

    for i in 0..n {
        let m = n - 1 - i;
        let half = 1usize << m;
        // Split eq table for the remaining variables r[i+1..].
        let eq_tabs = eq_point.map(|r| {
            let nb = m.div_ceil(2);
            let ea = mle::eq_table(&r[i + 1..n - nb]);
            let eb = mle::eq_table(&r[n - nb..]);
            (ea, eb, nb)
        });
        let weights = eq_tabs
            .as_ref()
            .map(|(ea, eb, nb)| EqWeights { ea, eb, nb: *nb });
        let ri = eq_point.map(|r| r[i]);
        // Derive q(1) from the claim unless this is round 0 (no claim yet)
        // or the eq prefactor at t = 1 vanishes.
        let derive_q1 = i > 0 && d >= 1 && ri.is_none_or(|ri| alpha * ri != EF::ZERO);
        let mut ts = vec![0usize];
        if !derive_q1 {
            ts.push(1);
        }
        ts.extend(2..=d);

        let infos: Vec<TermInfo> = infos0
            .iter()
            .map(|t| TermInfo {
                base: t.base.clone(),
                ext: t.ext.clone(),
            })
            .collect();
        if i == 1 {
            tables = std::mem::take(&mut poly.mles)
                .into_iter()
                .map(|m| match m {
                    Mle::Base(v) => Table::Base(v),
                    Mle::Ext(v) => Table::Ext(v),
                })
                .collect();
        }
        let infos = if pending.is_some() {
            // After the pending fold every table is an extension table.
            infos
                .into_iter()
                .map(|mut t| {
                    t.ext.append(&mut t.base);
                    t
                })
                .collect()
        } else {
            infos
        };
        let sums = match pending {
            None => round_pass_plain(&poly.mles, half, &infos, &ts, weights.as_ref()),
            Some(r) => round_pass_fold(&mut tables, r, half, &infos, &ts, weights.as_ref()),
        };
        let nt = ts.len();
        let at = |ti: usize| -> EF {
            coeffs
                .iter()
                .enumerate()
                .map(|(j, &c)| c * sums[j * nt + ti])
                .sum()
        };
        // q at 0..=d (and the direct q(1) if computed).
        let q0 = at(0);
        let q1_direct = (!derive_q1).then(|| at(1));
        let q1 = match (q1_direct, ri) {
            (Some(v), _) => v,
            (None, None) => claim - q0,
            (None, Some(ri)) => (claim - alpha * (EF::ONE - ri) * q0) * (alpha * ri).inverse(),
        };
        let mut q = vec![q0];
        if d >= 1 {
            q.push(q1);
        }
        let first_t2 = if derive_q1 { 1 } else { 2 };
        for ti in first_t2..nt {
            q.push(at(ti));
        }
        debug_assert_eq!(q.len(), d + 1);

        let p: Vec<EF> = match ri {
            None => q,
            Some(ri) => {
                let q_next = interpolate(&q, EF::from(F::from_usize(d + 1)));
                q.push(q_next);
                q.iter()
                    .enumerate()
                    .map(|(t, &qt)| alpha * mle::eq1(ri, EF::from(F::from_usize(t))) * qt)
                    .collect()
            }
        };
        if i == 0 {
            // Round 0 computed q(1) directly: p(0) + p(1) is the hypercube sum.
            claimed_sum = match ri {
                None => q0 + q1,
                Some(ri) => (EF::ONE - ri) * q0 + ri * q1,
            };
            claim = claimed_sum;
            absorb_header(transcript, n, sent_degree, claimed_sum);
        }
        debug_assert_eq!(
            p[0] + if sent_degree == 0 { p[0] } else { p[1] },
            claim,
            "sumcheck prover: round {i} inconsistent"
        );
        transcript.absorb_efs(&p);
        let r = transcript.challenge_ef();
        claim = interpolate(&p, r);
        if let Some(ri) = ri {
            alpha *= mle::eq1(ri, r);
        }
        round_polys.push(p);
        point.push(r);
        pending = Some(r);
    }

    let r = pending.expect("at least one round");
    let rs = ExtScalar::new(r);
    let final_evals = if n == 1 {
        poly.mles
            .iter()
            .map(|m| match m {
                Mle::Base(v) => rs.fold_base(v[0], v[1]),
                Mle::Ext(v) => rs.fold(v[0], v[1]),
            })
            .collect()
    } else {
        tables
            .iter()
            .map(|t| match t {
                Table::Base(v) => rs.fold_base(v[0], v[1]),
                Table::Ext(v) => rs.fold(v[0], v[1]),
                Table::Soa { buf, h, .. } => {
                    rs.fold(EF::new([buf[0], buf[*h]]), EF::new([buf[1], buf[*h + 1]]))
                }
            })
            .collect()
    };
    ProverOutput {
        proof: SumcheckProof { round_polys },
        claimed_sum,
        point,
        final_evals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::{eq_eval, eq_table, evaluate_base, num_vars_for, pad_to};
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn rf(rng: &mut StdRng) -> F {
        F::from_u64(rng.random::<u64>())
    }
    fn re(rng: &mut StdRng) -> EF {
        EF::new([rf(rng), rf(rng)])
    }

    /// A random polynomial of the given degree over `n` variables: four
    /// tables (two base, two extension), three terms (one of full degree,
    /// one with a repeated factor, one constant-times-linear).
    fn random_poly(rng: &mut StdRng, n: usize, degree: usize) -> SumOfProducts {
        let len = 1usize << n;
        let mles = vec![
            Mle::Base((0..len).map(|_| rf(rng)).collect()),
            Mle::Ext((0..len).map(|_| re(rng)).collect()),
            Mle::Base((0..len).map(|_| rf(rng)).collect()),
            Mle::Ext((0..len).map(|_| re(rng)).collect()),
        ];
        let full: Vec<usize> = (0..degree).map(|i| [0, 1, 2, 3][i % 4]).collect();
        let rep: Vec<usize> = (0..degree).map(|i| [2, 2, 3, 0][i % 4]).collect();
        let terms = vec![
            Term {
                coeff: re(rng),
                factors: full,
            },
            Term {
                coeff: re(rng),
                factors: rep,
            },
            Term {
                coeff: re(rng),
                factors: vec![1],
            },
        ];
        SumOfProducts {
            num_vars: n,
            mles,
            terms,
        }
    }

    fn brute_sum(poly: &SumOfProducts) -> EF {
        (0..1usize << poly.num_vars)
            .map(|x| combine_at(&poly.terms, &poly.mles, x))
            .sum()
    }

    /// Proves, verifies and checks every output against direct evaluation.
    fn check_complete(poly: SumOfProducts) -> (ProverOutput, Subclaim) {
        let (n, d) = (poly.num_vars, poly.degree());
        let expected_sum = brute_sum(&poly);
        assert_eq!(poly.sum(), expected_sum);
        let copy = poly.clone();
        let out = prove(poly, &mut Transcript::new(b"test"));
        assert_eq!(out.claimed_sum, expected_sum);
        assert_eq!(out.proof.round_polys.len(), n);
        assert!(out.proof.round_polys.iter().all(|p| p.len() == d + 1));
        let sub = verify(
            n,
            d,
            out.claimed_sum,
            &out.proof,
            &mut Transcript::new(b"test"),
        )
        .expect("honest proof verifies");
        assert_eq!(sub.point, out.point);
        for (m, &e) in copy.mles.iter().zip(&out.final_evals) {
            assert_eq!(m.evaluate(&out.point), e);
        }
        assert_eq!(combine(&copy.terms, &out.final_evals), sub.expected_eval);
        (out, sub)
    }

    #[test]
    fn completeness_random_instances() {
        let mut rng = StdRng::seed_from_u64(10);
        for n in [0usize, 1, 2, 5, 10] {
            for degree in 1..=4 {
                check_complete(random_poly(&mut rng, n, degree));
            }
        }
    }

    #[test]
    fn completeness_large_parallel_paths() {
        let mut rng = StdRng::seed_from_u64(11);
        // Product of two base tables (the hot path) and a mixed degree-3 instance.
        let n = 16;
        let f: Vec<F> = (0..1 << n).map(|_| rf(&mut rng)).collect();
        let g: Vec<F> = (0..1 << n).map(|_| rf(&mut rng)).collect();
        let poly = SumOfProducts {
            num_vars: n,
            mles: vec![Mle::Base(f), Mle::Base(g)],
            terms: vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1],
            }],
        };
        check_complete(poly);
        check_complete(random_poly(&mut rng, 15, 3));
    }

    #[test]
    fn degree_zero_and_num_vars_zero() {
        let mut rng = StdRng::seed_from_u64(12);
        // Constant term only: Σ_x c = 2^n c, degree 0.
        let c = re(&mut rng);
        for n in [0usize, 3] {
            let poly = SumOfProducts {
                num_vars: n,
                mles: vec![Mle::Base(vec![F::ONE; 1 << n])],
                terms: vec![Term {
                    coeff: c,
                    factors: vec![],
                }],
            };
            let (out, sub) = check_complete(poly);
            assert_eq!(out.claimed_sum, c * EF::from(F::from_usize(1 << n)));
            assert_eq!(sub.expected_eval, c);
        }
        // num_vars = 0: the subclaim is the sum itself at the empty point.
        let poly = random_poly(&mut rng, 0, 3);
        let want = combine_at(&poly.terms, &poly.mles, 0);
        let (out, sub) = check_complete(poly);
        assert!(sub.point.is_empty() && out.proof.round_polys.is_empty());
        assert_eq!(sub.expected_eval, want);
    }

    fn eq_instance(rng: &mut StdRng, n: usize, ext_g: bool) -> (Vec<EF>, SumOfProducts) {
        let r: Vec<EF> = (0..n).map(|_| re(rng)).collect();
        let f = Mle::Base((0..1 << n).map(|_| rf(rng)).collect());
        let g = if ext_g {
            Mle::Ext((0..1 << n).map(|_| re(rng)).collect())
        } else {
            Mle::Base((0..1 << n).map(|_| rf(rng)).collect())
        };
        let poly = SumOfProducts {
            num_vars: n,
            mles: vec![f, g],
            terms: vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1],
            }],
        };
        (r, poly)
    }

    /// Checks prove_eq_weighted against prove with an explicit eq factor.
    fn check_eq_weighted(r: &[EF], poly: SumOfProducts) {
        let n = poly.num_vars;
        let d = poly.degree();
        let mut explicit = poly.clone();
        let e = explicit.mles.len();
        explicit.mles.push(Mle::Ext(eq_table(r)));
        for t in explicit.terms.iter_mut() {
            t.factors.push(e);
        }
        let reference = prove(explicit, &mut Transcript::new(b"eq"));
        let out = prove_eq_weighted(r, poly.clone(), &mut Transcript::new(b"eq"));
        assert_eq!(out.proof, reference.proof);
        assert_eq!(out.claimed_sum, reference.claimed_sum);
        assert_eq!(out.point, reference.point);
        assert_eq!(out.final_evals[..], reference.final_evals[..e]);
        let sub = verify(
            n,
            d + 1,
            out.claimed_sum,
            &out.proof,
            &mut Transcript::new(b"eq"),
        )
        .expect("honest eq-weighted proof verifies");
        assert_eq!(
            eq_eval(r, &sub.point) * combine(&poly.terms, &out.final_evals),
            sub.expected_eval
        );
    }

    #[test]
    fn eq_weighted_product_matches_generic() {
        let mut rng = StdRng::seed_from_u64(13);
        for n in [0usize, 1, 2, 5, 9, 15] {
            let (r, poly) = eq_instance(&mut rng, n, n % 2 == 1);
            check_eq_weighted(&r, poly);
        }
        // Σ eq · (mixed sum of products) of degree 4 (total degree 5).
        for n in [1usize, 4, 7] {
            let r: Vec<EF> = (0..n).map(|_| re(&mut rng)).collect();
            check_eq_weighted(&r, random_poly(&mut rng, n, 4));
        }
    }

    #[test]
    fn eq_weighted_with_boolean_eq_point() {
        // r_i ∈ {0, 1} makes the claim-derivation of q(1) impossible
        // (α·r_i = 0); the prover must fall back to computing it directly.
        let mut rng = StdRng::seed_from_u64(14);
        let (mut r, poly) = eq_instance(&mut rng, 6, true);
        r[0] = EF::ZERO;
        r[2] = EF::ONE;
        r[3] = EF::ZERO;
        check_eq_weighted(&r, poly);
    }

    #[test]
    fn non_power_of_two_tables_are_padded() {
        let mut rng = StdRng::seed_from_u64(15);
        let len = 1000;
        let n = num_vars_for(len);
        assert_eq!(n, 10);
        let f: Vec<F> = (0..len).map(|_| rf(&mut rng)).collect();
        let g: Vec<EF> = (0..len).map(|_| re(&mut rng)).collect();
        let (mut fp, mut gp) = (f.clone(), g.clone());
        pad_to(&mut fp, n);
        pad_to(&mut gp, n);
        let poly = SumOfProducts {
            num_vars: n,
            mles: vec![Mle::Base(fp), Mle::Ext(gp)],
            terms: vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1],
            }],
        };
        let want: EF = f.iter().zip(&g).map(|(&a, &b)| b * a).sum();
        let (out, _) = check_complete(poly);
        assert_eq!(out.claimed_sum, want);
        assert_eq!(out.final_evals[0], evaluate_base(&f, &out.point));
        assert_eq!(out.final_evals[1], crate::mle::evaluate_ext(&g, &out.point));
        // The prover also accepts the short tables directly (implicit padding).
        let short = SumOfProducts {
            num_vars: n,
            mles: vec![Mle::Base(f), Mle::Ext(g)],
            terms: vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1],
            }],
        };
        assert_eq!(short.sum(), want);
        let out2 = prove(short, &mut Transcript::new(b"test"));
        assert_eq!(out2.proof, out.proof);
    }

    #[test]
    fn interpolation_recovers_polynomial() {
        let mut rng = StdRng::seed_from_u64(16);
        for d in 0..6usize {
            let coeffs: Vec<EF> = (0..=d).map(|_| re(&mut rng)).collect();
            let eval = |x: EF| coeffs.iter().rev().fold(EF::ZERO, |acc, &c| acc * x + c);
            let evals: Vec<EF> = (0..=d).map(|t| eval(EF::from(F::from_usize(t)))).collect();
            for x in [re(&mut rng), EF::ZERO, EF::from(F::from_usize(d))] {
                assert_eq!(interpolate(&evals, x), eval(x));
            }
        }
    }

    // ---------------- soundness ----------------

    struct Honest {
        poly: SumOfProducts,
        out: ProverOutput,
    }

    fn honest(seed: u64, n: usize, degree: usize) -> Honest {
        let mut rng = StdRng::seed_from_u64(seed);
        let poly = random_poly(&mut rng, n, degree);
        let out = prove(poly.clone(), &mut Transcript::new(b"test"));
        Honest { poly, out }
    }

    /// Full verifier side: sumcheck + the caller's final check.
    fn accepts(
        h: &Honest,
        claimed: EF,
        proof: &SumcheckProof,
        finals: &[EF],
        prefix: &[u8],
    ) -> bool {
        let mut t = Transcript::new(prefix);
        match verify(h.poly.num_vars, h.poly.degree(), claimed, proof, &mut t) {
            Ok(sub) => {
                // The caller checks the final evaluations against the tables.
                let at_point = h
                    .poly
                    .mles
                    .iter()
                    .zip(finals)
                    .all(|(m, &e)| m.evaluate(&sub.point) == e);
                at_point && combine(&h.poly.terms, finals) == sub.expected_eval
            }
            Err(_) => false,
        }
    }

    #[test]
    fn honest_proof_is_accepted_by_full_check() {
        let h = honest(20, 6, 3);
        assert!(accepts(
            &h,
            h.out.claimed_sum,
            &h.out.proof,
            &h.out.final_evals,
            b"test"
        ));
    }

    #[test]
    fn rejects_perturbed_round_polynomial_in_every_round() {
        let h = honest(21, 6, 3);
        for i in 0..6 {
            for k in 0..=3 {
                let mut proof = h.out.proof.clone();
                proof.round_polys[i][k] += EF::ONE;
                assert!(
                    !accepts(&h, h.out.claimed_sum, &proof, &h.out.final_evals, b"test"),
                    "round {i} eval {k}"
                );
            }
            // Perturbing only p(0) breaks this very round's sum check.
            let mut proof = h.out.proof.clone();
            proof.round_polys[i][0] += EF::ONE;
            let err = verify(
                6,
                3,
                h.out.claimed_sum,
                &proof,
                &mut Transcript::new(b"test"),
            );
            assert!(matches!(err, Err(VerifyError::Sumcheck(_))));
        }
    }

    #[test]
    fn rejects_wrong_claimed_sum() {
        let h = honest(22, 5, 2);
        let wrong = h.out.claimed_sum + EF::ONE;
        assert!(verify(5, 2, wrong, &h.out.proof, &mut Transcript::new(b"test")).is_err());
        assert!(!accepts(
            &h,
            wrong,
            &h.out.proof,
            &h.out.final_evals,
            b"test"
        ));
    }

    #[test]
    fn rejects_wrong_final_evaluation() {
        let h = honest(23, 5, 4);
        for k in 0..h.out.final_evals.len() {
            let mut finals = h.out.final_evals.clone();
            finals[k] += EF::ONE;
            let sub = verify(
                5,
                4,
                h.out.claimed_sum,
                &h.out.proof,
                &mut Transcript::new(b"test"),
            )
            .expect("the sumcheck itself is honest");
            // The caller's check fails (combine differs from expected_eval).
            assert_ne!(
                combine(&h.poly.terms, &finals),
                sub.expected_eval,
                "final eval {k}"
            );
            assert!(!accepts(
                &h,
                h.out.claimed_sum,
                &h.out.proof,
                &finals,
                b"test"
            ));
        }
    }

    #[test]
    fn rejects_wrong_number_of_evaluations() {
        let h = honest(24, 4, 2);
        for i in 0..4 {
            let mut long = h.out.proof.clone();
            long.round_polys[i].push(EF::ZERO);
            assert!(verify(
                4,
                2,
                h.out.claimed_sum,
                &long,
                &mut Transcript::new(b"test")
            )
            .is_err());
            let mut short = h.out.proof.clone();
            short.round_polys[i].pop();
            assert!(verify(
                4,
                2,
                h.out.claimed_sum,
                &short,
                &mut Transcript::new(b"test")
            )
            .is_err());
        }
        // Declaring the wrong degree rejects the honest proof too.
        for d in [1usize, 3] {
            assert!(verify(
                4,
                d,
                h.out.claimed_sum,
                &h.out.proof,
                &mut Transcript::new(b"test")
            )
            .is_err());
        }
    }

    #[test]
    fn rejects_missing_and_extra_rounds() {
        let h = honest(25, 4, 2);
        let mut missing = h.out.proof.clone();
        missing.round_polys.pop();
        assert!(verify(
            4,
            2,
            h.out.claimed_sum,
            &missing,
            &mut Transcript::new(b"test")
        )
        .is_err());
        let mut extra = h.out.proof.clone();
        extra.round_polys.push(vec![EF::ZERO; 3]);
        assert!(verify(
            4,
            2,
            h.out.claimed_sum,
            &extra,
            &mut Transcript::new(b"test")
        )
        .is_err());
        // Verifying against the wrong number of variables.
        assert!(verify(
            3,
            2,
            h.out.claimed_sum,
            &h.out.proof,
            &mut Transcript::new(b"test")
        )
        .is_err());
        assert!(verify(
            5,
            2,
            h.out.claimed_sum,
            &h.out.proof,
            &mut Transcript::new(b"test")
        )
        .is_err());
    }

    #[test]
    fn rejects_replay_under_different_transcript_prefix() {
        let h = honest(26, 6, 3);
        assert!(accepts(
            &h,
            h.out.claimed_sum,
            &h.out.proof,
            &h.out.final_evals,
            b"test"
        ));
        assert!(!accepts(
            &h,
            h.out.claimed_sum,
            &h.out.proof,
            &h.out.final_evals,
            b"other"
        ));
        // Same protocol name, but an extra message absorbed before the sumcheck.
        let mut t = Transcript::new(b"test");
        t.absorb_u64(1);
        let res = verify(6, 3, h.out.claimed_sum, &h.out.proof, &mut t);
        let caught = match res {
            Err(_) => true,
            Ok(sub) => combine(&h.poly.terms, &h.out.final_evals) != sub.expected_eval,
        };
        assert!(caught);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn prop_final_evals_and_subclaim(seed in any::<u64>(), n in 0usize..8, degree in 1usize..=4) {
            let mut rng = StdRng::seed_from_u64(seed);
            let poly = random_poly(&mut rng, n, degree);
            let copy = poly.clone();
            let out = prove(poly, &mut Transcript::new(b"prop"));
            let sub = verify(n, degree, out.claimed_sum, &out.proof, &mut Transcript::new(b"prop"));
            prop_assert!(sub.is_ok());
            let sub = sub.unwrap();
            for (m, &e) in copy.mles.iter().zip(&out.final_evals) {
                prop_assert_eq!(m.evaluate(&sub.point), e);
            }
            prop_assert_eq!(combine(&copy.terms, &out.final_evals), sub.expected_eval);
            prop_assert_eq!(out.claimed_sum, brute_sum(&copy));
        }

        #[test]
        fn prop_eq_weighted_subclaim(seed in any::<u64>(), n in 0usize..9) {
            let mut rng = StdRng::seed_from_u64(seed);
            let (r, poly) = eq_instance(&mut rng, n, seed % 2 == 0);
            let out = prove_eq_weighted(&r, poly.clone(), &mut Transcript::new(b"prop"));
            let sub = verify(n, 3, out.claimed_sum, &out.proof, &mut Transcript::new(b"prop"));
            prop_assert!(sub.is_ok());
            let sub = sub.unwrap();
            for (m, &e) in poly.mles.iter().zip(&out.final_evals) {
                prop_assert_eq!(m.evaluate(&sub.point), e);
            }
            prop_assert_eq!(eq_eval(&r, &sub.point) * combine(&poly.terms, &out.final_evals), sub.expected_eval);
        }
    }
}

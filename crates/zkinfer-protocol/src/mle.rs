//! Dense multilinear extensions (MLEs) as big-endian evaluation tables.
//!
//! API CONTRACT (used by the prover crate; keep these signatures):
//! a table shorter than `2^n` is implicitly zero-padded when evaluated at an
//! `n`-variable point.
//!
//! # What comes from Plonky3 and what is ours
//!
//! The field arithmetic is Plonky3's (`p3-goldilocks`, `p3-field`). The MLE
//! kernels are ours. We evaluated `p3-multilinear-util` 0.8.0: it uses the
//! same big-endian convention (`Poly::new_from_point`, `Poly::eval_base`,
//! `fix_prefix_var_mut`), but it only takes power-of-two tables (our contract
//! pads implicitly), has no matrix row contraction, and its fast paths rely on
//! SIMD packing, which brings nothing for Goldilocks on this machine (no 64-bit
//! vector multiply). Our kernels instead use *delayed modular reduction*:
//! products are accumulated as 128-bit integers (`Acc`) and reduced once per
//! sum, and multiplication by a fixed challenge has its constants hoisted
//! (`ExtScalar`). We did not benchmark the two head to head; the test
//! `eq_table_matches_plonky3` pins our eq tables and evaluations to Plonky3's.
//!
//! Parallelism: rayon is used only for inputs of at least [`PAR_THRESHOLD`]
//! elements (a parallel call costs ~10 µs here).

use p3_field::extension::BinomiallyExtendable;
use p3_field::integers::QuotientMap;
use rayon::prelude::*;

use crate::field::{BasedVectorSpace, PrimeCharacteristicRing, PrimeField64, EF, F};

/// Inputs with at least this many elements are processed in parallel.
pub const PAR_THRESHOLD: usize = 1 << 14;

/// Number of variables of a table of `len` entries after padding (`0` for len <= 1).
pub fn num_vars_for(len: usize) -> usize {
    if len <= 1 {
        0
    } else {
        len.next_power_of_two().trailing_zeros() as usize
    }
}

/// Zero-pads `evals` in place to `2^num_vars` entries (the implicit padding
/// every function here assumes). Panics if the table is already longer.
pub fn pad_to<T: PrimeCharacteristicRing + Clone>(evals: &mut Vec<T>, num_vars: usize) {
    let n = 1usize << num_vars;
    assert!(
        evals.len() <= n,
        "table of {} entries exceeds 2^{num_vars}",
        evals.len()
    );
    evals.resize(n, T::ZERO);
}

// ---------------------------------------------------------------------------
// Delayed-reduction accumulators.
// ---------------------------------------------------------------------------

/// Sum of up to `2^32` products of `u64` values, reduced modulo `p` once.
///
/// Invariant: `lo = Σ v_i mod 2^128` and `hi = Σ (v_i >> 96)`; since
/// `2^96 ≡ -1 (mod p)`, the sum is `(lo - hi·2^96) - hi (mod p)`, where
/// `lo - hi·2^96 (mod 2^128)` is the exact sum of the low 96-bit parts.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Acc {
    lo: u128,
    hi: u64,
}

impl Acc {
    #[inline(always)]
    pub(crate) fn add_prod(&mut self, a: u64, b: u64) {
        let p = (a as u128) * (b as u128);
        self.lo = self.lo.wrapping_add(p);
        self.hi = self.hi.wrapping_add((p >> 96) as u64);
    }

    #[inline(always)]
    pub(crate) fn merge(&mut self, o: Acc) {
        self.lo = self.lo.wrapping_add(o.lo);
        self.hi = self.hi.wrapping_add(o.hi);
    }

    #[inline]
    pub(crate) fn finish(self) -> F {
        let lo = self.lo.wrapping_sub((self.hi as u128) << 96);
        <F as QuotientMap<u128>>::from_int(lo) - F::from_u64(self.hi)
    }
}

#[inline(always)]
pub(crate) fn cu(x: F) -> u64 {
    x.as_canonical_u64()
}

#[inline(always)]
pub(crate) fn ecu(x: &EF) -> [u64; 2] {
    let c: &[F] = x.as_basis_coefficients_slice();
    [c[0].as_canonical_u64(), c[1].as_canonical_u64()]
}

#[inline(always)]
fn w_const() -> F {
    <F as BinomiallyExtendable<2>>::W
}

/// Accumulator for `Σ a_i · b_i` with `a_i ∈ EF`, `b_i ∈ F`.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct AccEB([Acc; 2]);

impl AccEB {
    #[inline(always)]
    pub(crate) fn add(&mut self, a: [u64; 2], b: u64) {
        self.0[0].add_prod(a[0], b);
        self.0[1].add_prod(a[1], b);
    }
    #[inline(always)]
    pub(crate) fn merge(&mut self, o: AccEB) {
        self.0[0].merge(o.0[0]);
        self.0[1].merge(o.0[1]);
    }
    #[inline]
    pub(crate) fn finish(self) -> EF {
        EF::new([self.0[0].finish(), self.0[1].finish()])
    }
}

/// Accumulator for `Σ a_i · b_i` with `a_i, b_i ∈ EF` (`X^2 = W`).
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct AccEE {
    c00: Acc,
    c11: Acc,
    cross: Acc,
}

impl AccEE {
    #[inline(always)]
    pub(crate) fn add(&mut self, a: [u64; 2], b: [u64; 2]) {
        self.c00.add_prod(a[0], b[0]);
        self.c11.add_prod(a[1], b[1]);
        self.cross.add_prod(a[0], b[1]);
        self.cross.add_prod(a[1], b[0]);
    }
    #[inline]
    pub(crate) fn finish(self) -> EF {
        EF::new([
            self.c00.finish() + w_const() * self.c11.finish(),
            self.cross.finish(),
        ])
    }
}

/// Multiplication by a fixed extension element, with its constants hoisted
/// (`r1 · W` precomputed) and fully inlined — the fold kernels' workhorse.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExtScalar {
    r0: F,
    r1: F,
    r1w: F,
}

impl ExtScalar {
    #[inline]
    pub(crate) fn new(r: EF) -> Self {
        let c: &[F] = r.as_basis_coefficients_slice();
        Self {
            r0: c[0],
            r1: c[1],
            r1w: c[1] * w_const(),
        }
    }

    /// `r · d`.
    #[inline(always)]
    pub(crate) fn mul(&self, d: EF) -> EF {
        let c: &[F] = d.as_basis_coefficients_slice();
        let (d0, d1) = (c[0], c[1]);
        EF::new([
            F::dot_product(&[self.r0, self.r1w], &[d0, d1]),
            F::dot_product(&[self.r0, self.r1], &[d1, d0]),
        ])
    }

    /// `lo + r · (hi - lo)`.
    #[inline(always)]
    pub(crate) fn fold(&self, lo: EF, hi: EF) -> EF {
        lo + self.mul(hi - lo)
    }

    /// `lo + r · (hi - lo)` for base inputs.
    #[inline(always)]
    pub(crate) fn fold_base(&self, lo: F, hi: F) -> EF {
        let d = hi - lo;
        EF::new([self.r0 * d + lo, self.r1 * d])
    }
}

/// Inlined `a · b` in `EF`.
#[inline(always)]
pub(crate) fn emul(a: EF, b: EF) -> EF {
    let x: &[F] = a.as_basis_coefficients_slice();
    let y: &[F] = b.as_basis_coefficients_slice();
    EF::new([
        F::dot_product(&[x[0], x[1]], &[y[0], y[1] * w_const()]),
        F::dot_product(&[x[0], x[1]], &[y[1], y[0]]),
    ])
}

/// Inlined `a · b` with `b` in the base field.
#[inline(always)]
pub(crate) fn emul_base(a: EF, b: F) -> EF {
    let x: &[F] = a.as_basis_coefficients_slice();
    EF::new([x[0] * b, x[1] * b])
}

/// `Σ a_i b_i` over the base field.
#[inline]
pub(crate) fn dot_ff(a: &[F], b: &[F]) -> F {
    let mut acc = Acc::default();
    for (x, y) in a.iter().zip(b) {
        acc.add_prod(cu(*x), cu(*y));
    }
    acc.finish()
}

/// `Σ a_i b_i` with extension `a` and base `b`.
#[inline]
pub(crate) fn dot_eb(a: &[EF], b: &[F]) -> EF {
    let mut acc = AccEB::default();
    for (x, y) in a.iter().zip(b) {
        acc.add(ecu(x), cu(*y));
    }
    acc.finish()
}

/// `Σ weights_i · values_i` with extension weights and base values (one
/// modular reduction per sum), for callers that evaluate tables in pieces.
pub fn dot_base(weights: &[EF], values: &[F]) -> EF {
    dot_eb(weights, values)
}

/// `Σ a_i b_i` over the extension field.
#[inline]
pub(crate) fn dot_ee(a: &[EF], b: &[EF]) -> EF {
    let mut acc = AccEE::default();
    for (x, y) in a.iter().zip(b) {
        acc.add(ecu(x), ecu(y));
    }
    acc.finish()
}

// ---------------------------------------------------------------------------
// Equality polynomial.
// ---------------------------------------------------------------------------

/// Sequential `scale · eq(point, ·)` into `out` (length `2^point.len()`).
fn eq_table_seq_into(point: &[EF], scale: EF, out: &mut [EF]) {
    debug_assert_eq!(out.len(), 1 << point.len());
    out[0] = scale;
    let mut size = 1;
    for &r in point {
        let rs = ExtScalar::new(r);
        // Appending a new least-significant bit: x -> (2x, 2x + 1).
        for x in (0..size).rev() {
            let v = out[x];
            let hi = rs.mul(v);
            out[2 * x + 1] = hi;
            out[2 * x] = v - hi;
        }
        size *= 2;
    }
}

/// `scale · eq(point, x)` for every `x` of the hypercube, big-endian.
pub(crate) fn eq_table_scaled(point: &[EF], scale: EF) -> Vec<EF> {
    let n = point.len();
    let mut out = EF::zero_vec(1 << n);
    const LO_VARS: usize = 12;
    if (1usize << n) < PAR_THRESHOLD || n <= LO_VARS {
        eq_table_seq_into(point, scale, &mut out);
        return out;
    }
    // eq(point, (h, l)) = eq(point[..k], h) · eq(point[k..], l).
    let k = n - LO_VARS;
    let hi = eq_table_scaled(&point[..k], scale);
    let mut lo = EF::zero_vec(1 << LO_VARS);
    eq_table_seq_into(&point[k..], EF::ONE, &mut lo);
    out.par_chunks_mut(1 << LO_VARS)
        .zip(hi.par_iter())
        .for_each(|(chunk, &h)| {
            for (o, &l) in chunk.iter_mut().zip(&lo) {
                *o = emul(l, h);
            }
        });
    out
}

/// `eq(point, x)` for every `x` of the hypercube, big-endian (length `2^point.len()`).
pub fn eq_table(point: &[EF]) -> Vec<EF> {
    eq_table_scaled(point, EF::ONE)
}

/// `eq(point, x)` at one hypercube point `x` given by its index (big-endian,
/// as [`eq_table`] orders them): `O(point.len())`, for sparse evaluations.
pub fn eq_at(point: &[EF], x: usize) -> EF {
    let n = point.len();
    debug_assert!(
        n >= usize::BITS as usize || x >> n == 0,
        "index beyond the hypercube"
    );
    point
        .iter()
        .enumerate()
        .map(|(j, &r)| {
            if (x >> (n - 1 - j)) & 1 == 1 {
                r
            } else {
                EF::ONE - r
            }
        })
        .product()
}

/// `eq(a, b) = Π_i (a_i b_i + (1 - a_i)(1 - b_i))`.
pub fn eq_eval(a: &[EF], b: &[EF]) -> EF {
    assert_eq!(a.len(), b.len(), "eq_eval: points of different dimension");
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let xy = x * y;
            xy.double() - x - y + EF::ONE
        })
        .product()
}

/// `eq(r, t)` for one coordinate: `r t + (1 - r)(1 - t)`.
#[inline]
pub(crate) fn eq1(r: EF, t: EF) -> EF {
    let rt = r * t;
    rt.double() - r - t + EF::ONE
}

// ---------------------------------------------------------------------------
// Evaluation.
// ---------------------------------------------------------------------------

/// Element types that can be contracted against an extension weight table.
trait Contract: Copy + Send + Sync {
    /// `Σ w_i · v_i`.
    fn weighted(w: &[EF], v: &[Self]) -> EF;
}

impl Contract for F {
    fn weighted(w: &[EF], v: &[F]) -> EF {
        dot_eb(w, v)
    }
}

impl Contract for EF {
    fn weighted(w: &[EF], v: &[EF]) -> EF {
        dot_ee(w, v)
    }
}

/// Evaluates a full (power-of-two) table: `Σ_h E_hi[h] · Σ_l E_lo[l] · f[h, l]`.
fn evaluate_full<T: Contract>(evals: &[T], point: &[EF]) -> EF {
    let n = point.len();
    debug_assert_eq!(evals.len(), 1 << n);
    let k = n / 2;
    let e_hi = eq_table(&point[..k]);
    let e_lo = eq_table(&point[k..]);
    let row = e_lo.len();
    let inner = |(h, chunk): (&EF, &[T])| *h * T::weighted(&e_lo, chunk);
    if evals.len() >= PAR_THRESHOLD {
        e_hi.par_iter().zip(evals.par_chunks(row)).map(inner).sum()
    } else {
        e_hi.iter().zip(evals.chunks(row)).map(inner).sum()
    }
}

/// Evaluates a table of length `<= 2^point.len()`, zero-padded.
fn evaluate_padded<T: Contract>(evals: &[T], point: &[EF]) -> EF {
    let n = point.len();
    assert!(
        evals.len() <= 1usize << n,
        "table of {} entries has more than 2^{n} entries",
        evals.len()
    );
    if evals.is_empty() {
        return EF::ZERO;
    }
    if evals.len() == 1 << n {
        return evaluate_full(evals, point);
    }
    // Not full: n >= 1. Split on the first (most significant) variable.
    let half = 1usize << (n - 1);
    let r0 = point[0];
    if evals.len() <= half {
        (EF::ONE - r0) * evaluate_padded(evals, &point[1..])
    } else {
        (EF::ONE - r0) * evaluate_full(&evals[..half], &point[1..])
            + r0 * evaluate_padded(&evals[half..], &point[1..])
    }
}

/// Evaluates the MLE of a base-field table at `point` (table zero-padded to `2^point.len()`).
pub fn evaluate_base(evals: &[F], point: &[EF]) -> EF {
    evaluate_padded(evals, point)
}

/// Evaluates the MLE of an extension-field table at `point`.
pub fn evaluate_ext(evals: &[EF], point: &[EF]) -> EF {
    evaluate_padded(evals, point)
}

// ---------------------------------------------------------------------------
// Folding.
// ---------------------------------------------------------------------------

/// Binds the first (most significant) variable to `r`: `lo + r * (hi - lo)`.
///
/// A table that is not a power of two is zero-padded first. Panics on a
/// table of at most one entry (no variable to bind).
pub fn fold_first_base(evals: &[F], r: EF) -> Vec<EF> {
    assert!(evals.len() >= 2, "fold_first_base: no variable to bind");
    let half = evals.len().next_power_of_two() / 2;
    let (lo, hi) = evals.split_at(half);
    let mut out = EF::zero_vec(half);
    let rs = ExtScalar::new(r);
    let f = |(i, o): (usize, &mut EF)| {
        *o = rs.fold_base(lo[i], hi.get(i).copied().unwrap_or(F::ZERO));
    };
    if half >= PAR_THRESHOLD {
        out.par_iter_mut()
            .enumerate()
            .with_min_len(4096)
            .for_each(f);
    } else {
        out.iter_mut().enumerate().for_each(f);
    }
    out
}

/// In-place version of [`fold_first_base`] for extension tables (halves the length).
pub fn fold_first_ext(evals: &mut Vec<EF>, r: EF) {
    assert!(evals.len() >= 2, "fold_first_ext: no variable to bind");
    let n = evals.len().next_power_of_two();
    evals.resize(n, EF::ZERO);
    let half = n / 2;
    let (lo, hi) = evals.split_at_mut(half);
    let rs = ExtScalar::new(r);
    let f = |(l, h): (&mut EF, &EF)| *l = rs.fold(*l, *h);
    if half >= PAR_THRESHOLD {
        lo.par_iter_mut()
            .zip(hi.par_iter())
            .with_min_len(4096)
            .for_each(f);
    } else {
        lo.iter_mut().zip(hi.iter()).for_each(f);
    }
    evals.truncate(half);
}

// ---------------------------------------------------------------------------
// Matrix row contraction.
// ---------------------------------------------------------------------------

/// Accumulates rows `rows` of columns `cols` of `m` into `acc` (one AccEB per
/// column). Four rows per sweep, so each accumulator is loaded and stored once
/// per four products.
/// A base-field matrix entry [`weighted_row_sum`] reads: field elements, or
/// the signed integers of quantized weights, converted as they are read (a
/// prover then keeps no field copy of its weights: 1 GB for GPT-2).
pub trait RowEntry: Copy + Send + Sync {
    /// The entry as a canonical field element.
    fn canonical(self) -> u64;
}

impl RowEntry for F {
    #[inline(always)]
    fn canonical(self) -> u64 {
        cu(self)
    }
}

impl RowEntry for i64 {
    #[inline(always)]
    fn canonical(self) -> u64 {
        cu(crate::field::f_from_i64(self))
    }
}

/// Quantized weights stored at 16 or 32 bits (a model keeps them at the
/// narrowest width that holds them: GPT-2's take 0.36 GB as i16, not 1.44 GB).
impl RowEntry for i16 {
    #[inline(always)]
    fn canonical(self) -> u64 {
        i64::from(self).canonical()
    }
}

impl RowEntry for i32 {
    #[inline(always)]
    fn canonical(self) -> u64 {
        i64::from(self).canonical()
    }
}

fn row_sum_kernel<T: RowEntry>(
    m: &[T],
    ncols: usize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    w: &[[u64; 2]],
    acc: &mut [AccEB],
) {
    let row = |r: usize| &m[r * ncols + cols.start..r * ncols + cols.end];
    let mut r = rows.start;
    while r + 4 <= rows.end {
        let (w0, w1, w2, w3) = (w[r], w[r + 1], w[r + 2], w[r + 3]);
        let it = acc
            .iter_mut()
            .zip(row(r))
            .zip(row(r + 1))
            .zip(row(r + 2))
            .zip(row(r + 3));
        for ((((a, &x0), &x1), &x2), &x3) in it {
            a.add(w0, x0.canonical());
            a.add(w1, x1.canonical());
            a.add(w2, x2.canonical());
            a.add(w3, x3.canonical());
        }
        r += 4;
    }
    for (r, &wr) in w.iter().enumerate().take(rows.end).skip(r) {
        for (a, &x) in acc.iter_mut().zip(row(r)) {
            a.add(wr, x.canonical());
        }
    }
}

/// For a row-major `rows × cols` base matrix `m` (no padding required) and
/// per-row weights `w` (length >= rows), returns `v[c] = Σ_r w[r] * m[r*cols + c]`
/// (length `cols`). With `w = eq_table(r_row)` this is the matrix MLE with its
/// row variables bound — the first step of a matrix-vector sumcheck.
///
/// One pass over `m` with delayed reduction (one modular reduction per output
/// coordinate); parallel over column blocks for wide matrices, over row blocks
/// (with a reduction) for tall narrow ones.
pub fn weighted_row_sum<T: RowEntry>(m: &[T], rows: usize, cols: usize, w: &[EF]) -> Vec<EF> {
    assert_eq!(
        m.len(),
        rows * cols,
        "weighted_row_sum: matrix size mismatch"
    );
    assert!(w.len() >= rows, "weighted_row_sum: too few weights");
    assert!(rows < (1 << 32), "weighted_row_sum: too many rows");
    if cols == 0 {
        return Vec::new();
    }
    let wc: Vec<[u64; 2]> = w[..rows].iter().map(ecu).collect();
    let threads = rayon::current_num_threads();
    let finish = |acc: Vec<AccEB>| acc.into_iter().map(AccEB::finish).collect::<Vec<_>>();

    if rows * cols < PAR_THRESHOLD || threads == 1 {
        let mut acc = vec![AccEB::default(); cols];
        row_sum_kernel(m, cols, 0..rows, 0..cols, &wc, &mut acc);
        return finish(acc);
    }
    const MIN_COL_BLOCK: usize = 256;
    if cols >= MIN_COL_BLOCK * threads {
        // Column blocks: each task streams its segment of every row.
        let block = cols.div_ceil(threads * 4).max(MIN_COL_BLOCK);
        let mut out = vec![EF::ZERO; cols];
        out.par_chunks_mut(block).enumerate().for_each(|(b, o)| {
            let c0 = b * block;
            let mut acc = vec![AccEB::default(); o.len()];
            row_sum_kernel(m, cols, 0..rows, c0..c0 + o.len(), &wc, &mut acc);
            for (x, a) in o.iter_mut().zip(acc) {
                *x = a.finish();
            }
        });
        out
    } else {
        // Row blocks with per-task accumulators, merged at the end.
        let nblocks = (threads * 4).min(rows);
        let block = rows.div_ceil(nblocks);
        let acc = (0..rows.div_ceil(block))
            .into_par_iter()
            .map(|b| {
                let mut acc = vec![AccEB::default(); cols];
                let r0 = b * block;
                row_sum_kernel(m, cols, r0..(r0 + block).min(rows), 0..cols, &wc, &mut acc);
                acc
            })
            .reduce_with(|mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.merge(y);
                }
                a
            })
            .unwrap_or_else(|| vec![AccEB::default(); cols]);
        finish(acc)
    }
}

/// The `bits` binary digits of `index`, most significant first, as a point's
/// Boolean coordinates.
pub fn index_bits(index: usize, bits: usize) -> Vec<EF> {
    (0..bits)
        .rev()
        .map(|b| {
            if (index >> b) & 1 == 1 {
                EF::ONE
            } else {
                EF::ZERO
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p3_multilinear_util::point::Point;
    use p3_multilinear_util::poly::Poly;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn rf(rng: &mut StdRng) -> F {
        F::from_u64(rng.random::<u64>())
    }
    fn re(rng: &mut StdRng) -> EF {
        EF::new([rf(rng), rf(rng)])
    }
    fn bits(x: usize, n: usize) -> Vec<EF> {
        index_bits(x, n)
    }

    /// Reference evaluation by repeated folding on the padded table.
    fn naive_eval(evals: &[EF], point: &[EF]) -> EF {
        let mut t = evals.to_vec();
        t.resize(1 << point.len(), EF::ZERO);
        for &r in point {
            let h = t.len() / 2;
            t = (0..h).map(|i| t[i] + r * (t[i + h] - t[i])).collect();
        }
        t[0]
    }

    #[test]
    fn num_vars_for_pads_up() {
        assert_eq!(num_vars_for(0), 0);
        assert_eq!(num_vars_for(1), 0);
        assert_eq!(num_vars_for(2), 1);
        assert_eq!(num_vars_for(3), 2);
        assert_eq!(num_vars_for(4), 2);
        assert_eq!(num_vars_for(1025), 11);
    }

    #[test]
    fn accumulators_match_field_arithmetic() {
        let mut rng = StdRng::seed_from_u64(1);
        // Extreme values stress the overflow handling.
        let mut a: Vec<F> = (0..5000).map(|_| rf(&mut rng)).collect();
        let mut b: Vec<F> = (0..5000).map(|_| rf(&mut rng)).collect();
        a[..100].fill(-F::ONE);
        b[..100].fill(-F::ONE);
        let want: F = a.iter().zip(&b).map(|(x, y)| *x * *y).sum();
        assert_eq!(dot_ff(&a, &b), want);
        let ea: Vec<EF> = (0..5000).map(|_| re(&mut rng)).collect();
        let eb: Vec<EF> = (0..5000).map(|_| re(&mut rng)).collect();
        let want: EF = ea.iter().zip(&b).map(|(x, y)| *x * *y).sum();
        assert_eq!(dot_eb(&ea, &b), want);
        let want: EF = ea.iter().zip(&eb).map(|(x, y)| *x * *y).sum();
        assert_eq!(dot_ee(&ea, &eb), want);
    }

    #[test]
    fn eq_table_matches_eq_eval() {
        let mut rng = StdRng::seed_from_u64(2);
        for n in [0usize, 1, 2, 5, 8, 13, 15] {
            let p: Vec<EF> = (0..n).map(|_| re(&mut rng)).collect();
            let t = eq_table(&p);
            assert_eq!(t.len(), 1 << n);
            for x in [0usize, 1, (1 << n) / 3, (1 << n) - 1] {
                let x = x.min((1 << n) - 1);
                assert_eq!(t[x], eq_eval(&p, &bits(x, n)), "n={n} x={x}");
                assert_eq!(t[x], eq_at(&p, x), "n={n} x={x}");
            }
            assert_eq!(t.iter().copied().sum::<EF>(), EF::ONE);
        }
    }

    #[test]
    fn eq_table_matches_plonky3() {
        let mut rng = StdRng::seed_from_u64(3);
        for n in [1usize, 4, 11, 15] {
            let p: Vec<EF> = (0..n).map(|_| re(&mut rng)).collect();
            let ours = eq_table(&p);
            let theirs = Poly::new_from_point(&p, EF::ONE).into_evals();
            assert_eq!(ours, theirs);
            let f: Vec<F> = (0..1usize << n).map(|_| rf(&mut rng)).collect();
            let theirs = Poly::new(f.clone()).eval_base(&Point::new(p.clone()));
            assert_eq!(evaluate_base(&f, &p), theirs);
        }
    }

    #[test]
    fn evaluation_at_boolean_points_is_table_entry() {
        let mut rng = StdRng::seed_from_u64(4);
        for n in [0usize, 1, 3, 7, 15] {
            let f: Vec<F> = (0..1usize << n).map(|_| rf(&mut rng)).collect();
            let g: Vec<EF> = (0..1usize << n).map(|_| re(&mut rng)).collect();
            for x in [0, (1usize << n) / 2, (1 << n) - 1] {
                let p = bits(x, n);
                assert_eq!(evaluate_base(&f, &p), EF::from(f[x]));
                assert_eq!(evaluate_ext(&g, &p), g[x]);
            }
        }
    }

    #[test]
    fn evaluation_matches_naive_and_pads_with_zeros() {
        let mut rng = StdRng::seed_from_u64(5);
        for (len, n) in [
            (0usize, 3usize),
            (1, 0),
            (1, 4),
            (3, 2),
            (5, 3),
            (100, 7),
            (100, 9),
            (20000, 15),
            (40000, 16),
        ] {
            let f: Vec<F> = (0..len).map(|_| rf(&mut rng)).collect();
            let fe: Vec<EF> = f.iter().map(|&x| EF::from(x)).collect();
            let p: Vec<EF> = (0..n).map(|_| re(&mut rng)).collect();
            let want = naive_eval(&fe, &p);
            assert_eq!(evaluate_base(&f, &p), want, "len={len} n={n}");
            assert_eq!(evaluate_ext(&fe, &p), want, "len={len} n={n}");
            // Explicit padding gives the same value.
            let mut padded = f.clone();
            pad_to(&mut padded, n);
            assert_eq!(evaluate_base(&padded, &p), want);
        }
    }

    #[test]
    fn fold_consistency() {
        let mut rng = StdRng::seed_from_u64(6);
        for n in [1usize, 2, 6, 15] {
            let f: Vec<F> = (0..1usize << n).map(|_| rf(&mut rng)).collect();
            let p: Vec<EF> = (0..n).map(|_| re(&mut rng)).collect();
            let want = evaluate_base(&f, &p);
            let mut t = fold_first_base(&f, p[0]);
            assert_eq!(t.len(), 1 << (n - 1));
            assert_eq!(evaluate_ext(&t, &p[1..]), want);
            for &r in &p[1..] {
                fold_first_ext(&mut t, r);
            }
            assert_eq!(t, vec![want]);
        }
        // Non-power-of-two input is zero-padded.
        let f: Vec<F> = (1..=5u64).map(F::from_u64).collect();
        let r = EF::from(F::from_u64(3));
        let t = fold_first_base(&f, r);
        let mut fe: Vec<EF> = f.iter().map(|&x| EF::from(x)).collect();
        fold_first_ext(&mut fe, r);
        assert_eq!(t, fe);
        assert_eq!(t.len(), 4);
        // lo + r (hi - lo) with hi = 0 for the padded positions.
        assert_eq!(t[1], EF::from(F::from_u64(2)) * (EF::ONE - r));
    }

    #[test]
    fn weighted_row_sum_matches_naive() {
        let mut rng = StdRng::seed_from_u64(7);
        for (rows, cols) in [
            (1usize, 1usize),
            (3, 5),
            (64, 64),
            (7, 3000),
            (5000, 4),
            (300, 700),
        ] {
            let m: Vec<F> = (0..rows * cols).map(|_| rf(&mut rng)).collect();
            let mut w: Vec<EF> = (0..rows + 2).map(|_| re(&mut rng)).collect();
            w[0] = EF::ZERO;
            let got = weighted_row_sum(&m, rows, cols, &w);
            assert_eq!(got.len(), cols);
            for c in [0, cols / 2, cols - 1] {
                let want: EF = (0..rows).map(|r| w[r] * m[r * cols + c]).sum();
                assert_eq!(got[c], want, "rows={rows} cols={cols} c={c}");
            }
        }
    }

    #[test]
    fn weighted_row_sum_reads_integers_of_every_width() {
        let mut rng = StdRng::seed_from_u64(11);
        let (rows, cols) = (300, 700);
        let m: Vec<i64> = (0..rows * cols)
            .map(|i| match i % 3 {
                0 => rng.random::<i16>() as i64,
                1 => rng.random::<i16>() as i64 * 7,
                _ => -(i as i64),
            })
            .collect();
        let w: Vec<EF> = (0..rows).map(|_| re(&mut rng)).collect();
        let field: Vec<F> = m.iter().map(|&v| crate::field::f_from_i64(v)).collect();
        let want = weighted_row_sum(&field, rows, cols, &w);
        assert_eq!(weighted_row_sum(&m, rows, cols, &w), want);
        let m32: Vec<i32> = m.iter().map(|&v| v as i32).collect();
        assert_eq!(weighted_row_sum(&m32, rows, cols, &w), want);
        let m16: Vec<i16> = m.iter().map(|&v| (v % 30_000) as i16).collect();
        let field16: Vec<F> = m16
            .iter()
            .map(|&v| crate::field::f_from_i64(v.into()))
            .collect();
        assert_eq!(
            weighted_row_sum(&m16, rows, cols, &w),
            weighted_row_sum(&field16, rows, cols, &w)
        );
    }

    #[test]
    fn weighted_row_sum_binds_row_variables() {
        let mut rng = StdRng::seed_from_u64(8);
        let (lr, lc) = (4usize, 3usize);
        let m: Vec<F> = (0..1usize << (lr + lc)).map(|_| rf(&mut rng)).collect();
        let rr: Vec<EF> = (0..lr).map(|_| re(&mut rng)).collect();
        let rc: Vec<EF> = (0..lc).map(|_| re(&mut rng)).collect();
        let v = weighted_row_sum(&m, 1 << lr, 1 << lc, &eq_table(&rr));
        let full: Vec<EF> = rr.iter().chain(&rc).copied().collect();
        assert_eq!(evaluate_ext(&v, &rc), evaluate_base(&m, &full));
    }
}

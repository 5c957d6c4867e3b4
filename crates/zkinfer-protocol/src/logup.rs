//! LogUp lookup arguments: every row of one or more witness tables (1 or 2
//! columns) lies in a public table (range `[0, 2^k)` or a function table
//! `(x, f(x))`), with multiplicities.
//!
//! API CONTRACT (used by the prover crate; keep these signatures).
//! The caller must commit the witness columns and the multiplicities (and
//! absorb those commitments) BEFORE calling `prove`/`verify`: the challenges
//! drawn here must come after the witness is fixed. The verifier checks the
//! table side itself (the table is public); claims on witness columns and on
//! the multiplicities are returned for the caller to check against its
//! commitments.
//!
//! # Statement
//!
//! With `φ(c_0, c_1) = c_0 + β·c_1` (just `c_0` for one-column tables) and a
//! random `α`, LogUp proves
//!
//! ```text
//!   Σ_i Σ_{rows r of witness i} 1 / (α − φ(r))  =  Σ_{table rows j} m_j / (α − φ(t_j))
//! ```
//!
//! which (for random `α, β`, the field being large) implies that every
//! witness row is a table row.
//!
//! # LogUp-GKR (Papini–Haböck)
//!
//! Each side of the equation is a binary tree of fractions `(p, q)` (one tree
//! per witness, one for the table). The leaves (layer `d`, `2^d` entries,
//! `d = num_vars_for(len)`) are
//!
//! - witness `i`: `p = 1` on real rows and `0` on padding rows,
//!   `q = α − φ(row)` where the witness columns are **zero-padded** (the MLE
//!   convention of the crate, so the claims are about the MLE the caller
//!   commits); padding rows thus contribute `0 / α = 0`;
//! - table: `p = m`, `q = α − φ(table row)`, the table padded with copies of
//!   its **last row** (not zeros).
//!
//! **Padding rule.** Witness padding rows have numerator `0`: the witness
//! numerator MLE is the indicator of `[0, len)`, which the verifier evaluates
//! itself in `O(d)`. The table's padding rows repeat a genuine row, because
//! the multiplicity column is committed by the prover over the padded length
//! and nothing forces its padding entries to be zero: with zero padding, a
//! count there would make the all-zero row `(0, 0)` admissible whether or not
//! it is in the table. With a repeated genuine row, a count on a padding row
//! admits only that row. [`multiplicities`] counts at first occurrences, so
//! the honest padding multiplicities are zero.
//!
//! Layer `l` (`2^l` entries) is computed from layer `l + 1` by adding the two
//! halves (the **most significant** index bit splits the children, matching
//! the big-endian MLE convention):
//!
//! ```text
//!   p_l(x) = p_{l+1}(0,x)·q_{l+1}(1,x) + p_{l+1}(1,x)·q_{l+1}(0,x)
//!   q_l(x) = q_{l+1}(0,x)·q_{l+1}(1,x)
//! ```
//!
//! The verifier starts from the roots and reduces claims layer by layer. All
//! trees are **aligned at the root**: at layer `k` every tree that is deeper
//! than `k` has exactly `k` variables, so one batched sumcheck per layer
//! serves all of them, and all trees share the same random point at every
//! layer. Consequently witnesses (and the table) whose padded sizes match get
//! the *same* claim point; the point of a tree of depth `d` is the layer-`d`
//! point (`d` coordinates, `d = num_vars_for(len)`).
//!
//! # Transcript order (prover and verifier alike)
//!
//! 1. label `logup/v1`; absorb table width, table length, the number of
//!    witnesses and every witness length (the table contents are public and
//!    must be bound by the caller, e.g. as part of the circuit description);
//! 2. label `logup/challenges`; draw `β`, then `α`;
//! 3. label `logup/tops`; absorb, per tree (witnesses in order, then the
//!    table), its *top*: `[p_1(0), p_1(1), q_1(0), q_1(1)]` if the tree has
//!    depth `≥ 1`, else the leaf `[p, q]`. The verifier checks the root
//!    equation `P_w · Q_T = P_T · Q_w` (cross-multiplied; every root `Q ≠ 0`),
//!    where `P_w/Q_w` is the sum of the witness roots;
//! 4. if some tree has depth `≥ 1`: draw `μ_0`; the layer-1 claims are the
//!    tops folded at `(μ_0)`;
//! 5. for `k = 1 .. max_depth − 1`: label `logup/layer`, absorb `k`, draw
//!    `λ`; run a degree-3 [`crate::sumcheck`] (its own transcript protocol)
//!    over `k` variables for
//!    `Σ_x eq(r, x) Σ_i [λ^{2i}(p0 q1 + p1 q0)_i(x) + λ^{2i+1}(q0 q1)_i(x)]`
//!    (`i` over the trees deeper than `k`, `p0(x) = p_{k+1}(0, x)` etc.),
//!    whose claimed sum is `Σ_i λ^{2i} p-claim_i + λ^{2i+1} q-claim_i`;
//!    label `logup/layer-evals`, absorb `[p0, p1, q0, q1](ρ)` per tree; draw
//!    `μ`; the next point is `(μ, ρ)`;
//! 6. label `logup/witness-evals`; absorb every witness's column evaluations
//!    at its leaf point.
//!
//! At its leaf layer, a witness's `q`-claim must equal `α − φ(column evals)`
//! (the evals are sent in the proof and returned as [`ColumnClaims`]) and its
//! `p`-claim must equal the indicator MLE; the table's `q`-claim is checked
//! against the public table (closed form `Σ 2^(n−1−i) r_i` for range tables),
//! and its `p`-claim is returned as the multiplicity claim.
//!
//! # Prover
//!
//! The layer sumchecks are the crate's generic eq-weighted sumcheck
//! ([`sumcheck::prove_eq_weighted`], verified by [`sumcheck::verify`] with
//! degree 3); no second sumcheck lives here. What is LogUp-specific:
//!
//! - tree layers are stored as their two halves, which are moved (not
//!   copied) into the sumcheck of the layer above;
//! - for a one-column witness the leaves are never materialised in `EF`:
//!   layer `d − 1` is computed from the base column `w` directly, and the
//!   leaf-layer sumcheck (the largest one) runs on the *base-field* tables
//!   `w(0, ·)`, `w(1, ·)` with `q = α − w` expanded into the polynomial's
//!   terms (`(α − a)(α − b) = α² − α a − α b + a b`), so its first round is
//!   base-field arithmetic;
//! - one-column witnesses reveal their claim without an MLE evaluation
//!   (`w(r) = α − q(r)`); two-column ones evaluate one column and derive the
//!   other from the `q`-claim.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::field::{Field, PrimeCharacteristicRing, PrimeField64, EF, F};
use crate::mle::{eq_eval, evaluate_base, num_vars_for};
use crate::sumcheck::{self, Mle, SumOfProducts, SumcheckProof, Term};
use crate::transcript::Transcript;
use crate::VerifyError;

/// Below this many elements a loop runs sequentially (a rayon call costs ~10 µs).
const PAR_THRESHOLD: usize = 1 << 14;

/// Degree of the layer sumchecks: `eq · p · q`.
const LAYER_DEGREE: usize = 3;

/// A public lookup table: 1 or 2 columns of equal length (padded internally).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupTable {
    pub columns: Vec<Vec<F>>,
}

impl LookupTable {
    /// `[0, 2^bits)`, one column.
    pub fn range(bits: usize) -> Self {
        assert!(bits < 40, "range table of 2^{bits} rows is too large");
        Self {
            columns: vec![(0..1u64 << bits).map(F::from_u64).collect()],
        }
    }
    /// `(inputs[i], outputs[i])`, two columns; inputs must be distinct.
    ///
    /// # Panics
    /// If the lengths differ or an input repeats.
    pub fn function(inputs: Vec<F>, outputs: Vec<F>) -> Self {
        assert_eq!(
            inputs.len(),
            outputs.len(),
            "function table: inputs and outputs differ in length"
        );
        let mut seen: HashMap<u64, (), FastBuild> =
            HashMap::with_capacity_and_hasher(inputs.len(), FastBuild::default());
        for x in &inputs {
            assert!(
                seen.insert(x.as_canonical_u64(), ()).is_none(),
                "function table: input {x} appears twice"
            );
        }
        Self {
            columns: vec![inputs, outputs],
        }
    }
    /// `(a[i], b[i])`, two columns with no functional dependency: a relation
    /// given by its rows (a repeated row is harmless, its multiplicity goes to
    /// the first occurrence).
    ///
    /// # Panics
    /// If the lengths differ.
    pub fn relation(a: Vec<F>, b: Vec<F>) -> Self {
        assert_eq!(a.len(), b.len(), "relation table: columns differ in length");
        Self {
            columns: vec![a, b],
        }
    }
    pub fn width(&self) -> usize {
        self.columns.len()
    }
    pub fn len(&self) -> usize {
        self.columns[0].len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `Some(bits)` iff this table is exactly [`LookupTable::range`]`(bits)`
    /// (checked by `len` comparisons; lets the verifier use the closed-form MLE).
    pub fn range_bits(&self) -> Option<usize> {
        if self.columns.len() != 1 || !self.columns[0].len().is_power_of_two() {
            return None;
        }
        let col = &self.columns[0];
        col.iter()
            .enumerate()
            .all(|(i, x)| x.as_canonical_u64() == i as u64)
            .then(|| col.len().trailing_zeros() as usize)
    }

    fn check_shape(&self) -> Result<(), String> {
        if self.columns.first().is_none_or(Vec::is_empty) {
            return Err("the table has no rows".into());
        }
        match self.columns.len() {
            1 => Ok(()),
            2 if self.columns[0].len() == self.columns[1].len() => Ok(()),
            2 => Err("table columns differ in length".into()),
            w => Err(format!("table width {w} is not 1 or 2")),
        }
    }
}

/// Witness rows that must appear in the table: `columns.len() == table.width()`,
/// all columns of equal length (any length; padded internally in a way that
/// cannot fake membership).
#[derive(Clone, Debug)]
pub struct LookupWitness {
    pub columns: Vec<Vec<F>>,
}

impl LookupWitness {
    /// Row count (0 for a witness without columns).
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LookupError {
    #[error("witness {witness} row {row} is not in the table")]
    NotInTable { witness: usize, row: usize },
    #[error("witness {0} has the wrong number of columns")]
    Width(usize),
    #[error("witness {0} has columns of different lengths")]
    ColumnLengths(usize),
}

/// Multiply-rotate hasher for canonical field elements (SipHash is ~3× slower).
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        // Final avalanche so hashbrown's top-7-bit tags are well distributed.
        let x = self.0 ^ (self.0 >> 29);
        x.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (x >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type FastBuild = BuildHasherDefault<FastHasher>;

fn row_key(columns: &[Vec<F>], row: usize) -> (u64, u64) {
    let c1 = columns.get(1).map_or(0, |c| c[row].as_canonical_u64());
    (columns[0][row].as_canonical_u64(), c1)
}

/// How many times each table row is used (length = table length), or which row is missing.
///
/// Only real witness rows are counted (padding rows have numerator 0, see the
/// module doc). A table row that occurs twice receives all counts at its
/// first occurrence.
pub fn multiplicities(
    table: &LookupTable,
    witnesses: &[LookupWitness],
) -> Result<Vec<F>, LookupError> {
    let width = table.width();
    for (i, w) in witnesses.iter().enumerate() {
        if w.columns.len() != width {
            return Err(LookupError::Width(i));
        }
        if w.columns.iter().any(|c| c.len() != w.columns[0].len()) {
            return Err(LookupError::ColumnLengths(i));
        }
    }
    let mut counts = vec![0u64; table.len()];
    if let Some(bits) = table.range_bits() {
        for (wi, w) in witnesses.iter().enumerate() {
            for (row, x) in w.columns[0].iter().enumerate() {
                let v = x.as_canonical_u64();
                if v >> bits != 0 {
                    return Err(LookupError::NotInTable { witness: wi, row });
                }
                counts[v as usize] += 1;
            }
        }
    } else {
        let mut index: HashMap<(u64, u64), usize, FastBuild> =
            HashMap::with_capacity_and_hasher(table.len(), FastBuild::default());
        for j in (0..table.len()).rev() {
            // Reverse order: a repeated row ends up mapped to its first occurrence.
            index.insert(row_key(&table.columns, j), j);
        }
        for (wi, w) in witnesses.iter().enumerate() {
            for row in 0..w.len() {
                match index.get(&row_key(&w.columns, row)) {
                    Some(&j) => counts[j] += 1,
                    None => return Err(LookupError::NotInTable { witness: wi, row }),
                }
            }
        }
    }
    Ok(counts.into_iter().map(F::from_u64).collect())
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LookupProof {
    /// Per tree (witnesses in input order, then the table): the top layer,
    /// `[p_1(0), p_1(1), q_1(0), q_1(1)]` for a tree of depth `≥ 1`, the leaf
    /// `[p, q]` for a tree of depth 0.
    pub tops: Vec<Vec<EF>>,
    /// GKR layers `k = 1 .. max_depth − 1`, one batched sumcheck each.
    pub layers: Vec<LayerProof>,
    /// Per witness: its column evaluations at its leaf point.
    pub witness_evals: Vec<Vec<EF>>,
}

/// One GKR layer reduction (`k` variables).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LayerProof {
    pub sumcheck: SumcheckProof,
    /// Per tree deeper than `k` (in tree order): `[p0, p1, q0, q1]` at the sumcheck point.
    pub evals: Vec<[EF; 4]>,
}

/// A claim `mle(point) = value` for each column of a committed table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnClaims {
    pub point: Vec<EF>,
    /// One per column.
    pub values: Vec<EF>,
}

/// What the caller must check against its commitments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupClaims {
    /// One per witness, in input order. The point has `num_vars_for(len)` coordinates.
    pub witnesses: Vec<ColumnClaims>,
    /// The multiplicity column (table length, padded), one value.
    pub multiplicities: ColumnClaims,
}

// ---------------------------------------------------------------------------
// Transcript steps shared by prover and verifier.
// ---------------------------------------------------------------------------

fn absorb_statement(t: &mut Transcript, width: usize, table_len: usize, witness_lens: &[usize]) {
    t.label(b"logup/v1");
    t.absorb_u64(width as u64);
    t.absorb_u64(table_len as u64);
    t.absorb_u64(witness_lens.len() as u64);
    for &l in witness_lens {
        t.absorb_u64(l as u64);
    }
}

/// Returns `(α, β)`.
fn draw_alpha_beta(t: &mut Transcript) -> (EF, EF) {
    t.label(b"logup/challenges");
    let beta = t.challenge_ef();
    let alpha = t.challenge_ef();
    (alpha, beta)
}

fn absorb_tops(t: &mut Transcript, tops: &[Vec<EF>]) {
    t.label(b"logup/tops");
    for top in tops {
        t.absorb_efs(top);
    }
}

fn draw_layer_lambda(t: &mut Transcript, k: usize) -> EF {
    t.label(b"logup/layer");
    t.absorb_u64(k as u64);
    t.challenge_ef()
}

fn absorb_layer_evals(t: &mut Transcript, evals: &[[EF; 4]]) {
    t.label(b"logup/layer-evals");
    t.absorb_u64(evals.len() as u64);
    for e in evals {
        for &x in e {
            t.absorb_ef(x);
        }
    }
}

fn absorb_witness_evals(t: &mut Transcript, evals: &[Vec<EF>]) {
    t.label(b"logup/witness-evals");
    for e in evals {
        t.absorb_efs(e);
    }
}

// ---------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------

/// `φ(row) = Σ_c β^c · row_c`.
fn phi(values: &[EF], beta: EF) -> EF {
    values.iter().rev().fold(EF::ZERO, |acc, &v| acc * beta + v)
}

/// The layer combination `cp (p0 q1 + p1 q0) + cq q0 q1` at given values.
fn layer_combination(e: &[EF; 4], cp: EF, cq: EF) -> EF {
    let [p0, p1, q0, q1] = *e;
    cp * (p0 * q1 + p1 * q0) + cq * (q0 * q1)
}

/// `(1 − μ) lo + μ hi`.
fn lerp(lo: EF, hi: EF, mu: EF) -> EF {
    lo + mu * (hi - lo)
}

/// MLE of the indicator of `[0, n)` over `2^point.len()` entries (big-endian), in O(len).
pub fn prefix_indicator_eval(n: usize, point: &[EF]) -> EF {
    let d = point.len();
    if d < usize::BITS as usize && n >= 1usize << d {
        return EF::ONE;
    }
    // x < n iff at the first bit where x and n differ, n has 1 and x has 0.
    let mut acc = EF::ZERO;
    let mut prefix = EF::ONE;
    for (j, &r) in point.iter().enumerate() {
        if (n >> (d - 1 - j)) & 1 == 1 {
            acc += prefix * (EF::ONE - r);
            prefix *= r;
        } else {
            prefix *= EF::ONE - r;
        }
    }
    acc
}

/// MLE of the index column `[0, 2^n)` at an `n`-variable point: `Σ 2^(n−1−i) r_i`.
pub fn range_column_eval(point: &[EF]) -> EF {
    point.iter().fold(EF::ZERO, |acc, &r| acc.double() + r)
}

/// Evaluates the public table's columns, padded with copies of their last
/// row, at `point` (closed form for range tables, which need no padding).
fn table_column_evals(table: &LookupTable, point: &[EF]) -> Vec<EF> {
    match table.range_bits() {
        Some(bits) if bits == point.len() => vec![range_column_eval(point)],
        _ => {
            let padding = EF::ONE - prefix_indicator_eval(table.len(), point);
            table
                .columns
                .iter()
                .map(|c| evaluate_col(c, point) + padding * EF::from(c[c.len() - 1]))
                .collect()
        }
    }
}

/// Zero-padded MLE of a base column; handles the 0-variable case locally.
fn evaluate_col(col: &[F], point: &[EF]) -> EF {
    if point.is_empty() {
        col.first().map_or(EF::ZERO, |&x| EF::from(x))
    } else {
        evaluate_base(col, point)
    }
}

/// `(out[i], out2[i]) = f(i)` for `i < n`, in parallel when large.
fn build2(n: usize, f: impl Fn(usize) -> (EF, EF) + Sync + Send) -> (Vec<EF>, Vec<EF>) {
    let mut a = vec![EF::ZERO; n];
    let mut b = vec![EF::ZERO; n];
    if n >= PAR_THRESHOLD {
        a.par_iter_mut()
            .zip(b.par_iter_mut())
            .enumerate()
            .with_min_len(1 << 12)
            .for_each(|(i, (x, y))| (*x, *y) = f(i));
    } else {
        for (i, (x, y)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
            (*x, *y) = f(i);
        }
    }
    (a, b)
}

fn build1(n: usize, f: impl Fn(usize) -> EF + Sync + Send) -> Vec<EF> {
    if n >= PAR_THRESHOLD {
        (0..n)
            .into_par_iter()
            .with_min_len(1 << 12)
            .map(f)
            .collect()
    } else {
        (0..n).map(f).collect()
    }
}

// ---------------------------------------------------------------------------
// Fraction trees.
// ---------------------------------------------------------------------------

/// Leaf numerators.
enum LeafP {
    /// All ones (a witness whose length is a power of two).
    Ones,
    /// Base-field values (padding indicator or multiplicities), zero-padded.
    Base(Vec<F>),
}

/// Leaf denominators.
enum LeafQ<'a> {
    /// `q = α − w` for a one-column witness `w` (zero-padded): kept in the
    /// base field so the largest sumcheck starts on base-field tables.
    Column(&'a [F]),
    /// Explicit values.
    Ext(Vec<EF>),
}

struct Leaves<'a> {
    p: LeafP,
    q: LeafQ<'a>,
}

/// Layer `l ≥ 1` of a tree stored as its two halves (first index bit 0 / 1):
/// exactly the tables of the layer-`(l − 1)` sumcheck, moved into it unchanged.
struct Halves {
    p: [Vec<EF>; 2],
    q: [Vec<EF>; 2],
}

struct Tree<'a> {
    depth: usize,
    leaves: Leaves<'a>,
    /// `inner[l]` for `1 ≤ l < depth` (`None` elsewhere and once consumed).
    inner: Vec<Option<Halves>>,
    /// See [`LookupProof::tops`].
    top: Vec<EF>,
}

/// Zero-padded entry of a base column.
#[inline]
fn at(col: &[F], i: usize) -> F {
    col.get(i).copied().unwrap_or(F::ZERO)
}

impl<'a> Tree<'a> {
    fn new(depth: usize, leaves: Leaves<'a>, alpha: EF) -> Self {
        let p = |i: usize| match &leaves.p {
            LeafP::Ones => F::ONE,
            LeafP::Base(v) => at(v, i),
        };
        let q = |i: usize| match &leaves.q {
            LeafQ::Column(w) => alpha - at(w, i),
            LeafQ::Ext(v) => v[i],
        };
        let mut inner: Vec<Option<Halves>> = (0..depth.max(1)).map(|_| None).collect();
        let top = match depth {
            0 => vec![EF::from(p(0)), q(0)],
            1 => vec![EF::from(p(0)), EF::from(p(1)), q(0), q(1)],
            _ => {
                // Layer depth − 1 straight from the leaves.
                let h = 1usize << (depth - 1);
                let quarter = h / 2;
                let make = |off: usize| match (&leaves.p, &leaves.q) {
                    (LeafP::Ones, LeafQ::Column(w)) => build2(quarter, |i| {
                        let (a, b) = (at(w, off + i), at(w, off + i + h));
                        // (α − a) + (α − b),  (α − a)(α − b) = α(α − a − b) + ab
                        let s = a + b;
                        (alpha.double() - s, alpha * (alpha - s) + a * b)
                    }),
                    _ => build2(quarter, |i| {
                        let (j, k) = (off + i, off + i + h);
                        let (qj, qk) = (q(j), q(k));
                        (qk * p(j) + qj * p(k), qj * qk)
                    }),
                };
                let (p0, q0) = make(0);
                let (p1, q1) = make(quarter);
                let mut layer = Halves {
                    p: [p0, p1],
                    q: [q0, q1],
                };
                for l in (1..depth - 1).rev() {
                    let next = layer.parent();
                    inner[l + 1] = Some(layer);
                    layer = next;
                }
                let top = vec![layer.p[0][0], layer.p[1][0], layer.q[0][0], layer.q[1][0]];
                inner[1] = Some(layer);
                top
            }
        };
        Self {
            depth,
            leaves,
            inner,
            top,
        }
    }
}

impl Halves {
    /// The layer above (requires halves of length ≥ 2).
    fn parent(&self) -> Halves {
        let h = self.q[0].len();
        let quarter = h / 2;
        let ([a_p, b_p], [a_q, b_q]) = (&self.p, &self.q);
        let make = |off: usize| {
            build2(quarter, |i| {
                let j = off + i;
                (a_p[j] * b_q[j] + b_p[j] * a_q[j], a_q[j] * b_q[j])
            })
        };
        let (p0, q0) = make(0);
        let (p1, q1) = make(quarter);
        Halves {
            p: [p0, p1],
            q: [q0, q1],
        }
    }
}

fn witness_tree(w: &LookupWitness, alpha: EF, beta: EF) -> Tree<'_> {
    let len = w.len();
    let depth = num_vars_for(len);
    let size = 1usize << depth;
    let p = if len == size {
        LeafP::Ones
    } else {
        LeafP::Base(vec![F::ONE; len])
    };
    let q = match w.columns.as_slice() {
        [c0] => LeafQ::Column(c0),
        cols => LeafQ::Ext(build1(size, |i| {
            if i < len {
                alpha - cols.iter().rev().fold(EF::ZERO, |acc, c| acc * beta + c[i])
            } else {
                alpha
            }
        })),
    };
    Tree::new(depth, Leaves { p, q }, alpha)
}

fn table_tree<'a>(table: &LookupTable, m: &[F], alpha: EF, beta: EF) -> Tree<'a> {
    let len = table.len();
    let depth = num_vars_for(len);
    let cols = &table.columns;
    // Padding rows repeat the last row (module doc, "Padding rule").
    let q = build1(1 << depth, |i| {
        let row = i.min(len - 1);
        alpha
            - cols
                .iter()
                .rev()
                .fold(EF::ZERO, |acc, c| acc * beta + c[row])
    });
    Tree::new(
        depth,
        Leaves {
            p: LeafP::Base(m.to_vec()),
            q: LeafQ::Ext(q),
        },
        alpha,
    )
}

// ---------------------------------------------------------------------------
// Layer polynomials for the generic eq-weighted sumcheck.
// ---------------------------------------------------------------------------

/// `c + Σ a_i · mle_i` over the tables of a [`SumOfProducts`].
#[derive(Clone, Debug)]
struct Affine {
    c: EF,
    lin: Vec<(EF, usize)>,
}

impl Affine {
    fn constant(c: EF) -> Self {
        Self { c, lin: vec![] }
    }
    fn mle(idx: usize) -> Self {
        Self {
            c: EF::ZERO,
            lin: vec![(EF::ONE, idx)],
        }
    }
    fn eval(&self, final_evals: &[EF]) -> EF {
        self.c
            + self
                .lin
                .iter()
                .map(|&(a, i)| a * final_evals[i])
                .sum::<EF>()
    }
}

/// Builds `Σ_i [cp_i (p0 q1 + p1 q0)_i + cq_i (q0 q1)_i]` as a sum of products.
#[derive(Default)]
struct LayerPoly {
    mles: Vec<Mle>,
    terms: Vec<Term>,
    /// Per instance: the affine forms of `[p0, p1, q0, q1]`.
    forms: Vec<[Affine; 4]>,
}

impl LayerPoly {
    fn push_mle(&mut self, m: Mle) -> usize {
        self.mles.push(m);
        self.mles.len() - 1
    }

    /// Adds `coeff · a · b`, merging terms with equal factor lists.
    fn push_product(&mut self, coeff: EF, a: &Affine, b: &Affine) {
        let mut add = |c: EF, mut factors: Vec<usize>| {
            factors.sort_unstable();
            match self.terms.iter_mut().find(|t| t.factors == factors) {
                Some(t) => t.coeff += c,
                None => self.terms.push(Term { coeff: c, factors }),
            }
        };
        add(coeff * a.c * b.c, vec![]);
        for &(x, i) in &a.lin {
            add(coeff * x * b.c, vec![i]);
        }
        for &(y, j) in &b.lin {
            add(coeff * a.c * y, vec![j]);
        }
        for &(x, i) in &a.lin {
            for &(y, j) in &b.lin {
                add(coeff * x * y, vec![i, j]);
            }
        }
    }

    fn push_instance(&mut self, forms: [Affine; 4], cp: EF, cq: EF) {
        let [p0, p1, q0, q1] = &forms;
        self.push_product(cp, p0, q1);
        self.push_product(cp, p1, q0);
        self.push_product(cq, q0, q1);
        self.forms.push(forms);
    }

    /// Adds the layer-`k` tables of `tree` (its layer `k + 1`, moved out of the tree).
    fn push_tree(&mut self, tree: &mut Tree, k: usize, alpha: EF, cp: EF, cq: EF) {
        let h = 1usize << k;
        let forms = if k + 1 == tree.depth {
            let split_base = |v: &[F]| {
                let mid = v.len().min(h);
                [v[..mid].to_vec(), v[mid..].to_vec()]
            };
            let p = match &tree.leaves.p {
                LeafP::Ones => [Affine::constant(EF::ONE), Affine::constant(EF::ONE)],
                LeafP::Base(v) => {
                    split_base(v).map(|half| Affine::mle(self.push_mle(Mle::Base(half))))
                }
            };
            let q = match &mut tree.leaves.q {
                LeafQ::Column(w) => split_base(w).map(|half| Affine {
                    c: alpha,
                    lin: vec![(-EF::ONE, self.push_mle(Mle::Base(half)))],
                }),
                LeafQ::Ext(v) => {
                    let hi = v.split_off(h);
                    let lo = std::mem::take(v);
                    [lo, hi].map(|half| Affine::mle(self.push_mle(Mle::Ext(half))))
                }
            };
            let [p0, p1] = p;
            let [q0, q1] = q;
            [p0, p1, q0, q1]
        } else {
            let Halves {
                p: [p0, p1],
                q: [q0, q1],
            } = tree.inner[k + 1].take().expect("layer present");
            [p0, p1, q0, q1].map(|t| Affine::mle(self.push_mle(Mle::Ext(t))))
        };
        self.push_instance(forms, cp, cq);
    }

    fn into_poly(self, num_vars: usize) -> (SumOfProducts, Vec<[Affine; 4]>) {
        (
            SumOfProducts {
                num_vars,
                mles: self.mles,
                terms: self.terms,
            },
            self.forms,
        )
    }
}

// ---------------------------------------------------------------------------
// Prover and verifier.
// ---------------------------------------------------------------------------

/// # Panics
/// On malformed input: table width not 1 or 2, an empty table, a witness of
/// another width or with ragged columns, or `multiplicities` neither the
/// table's length nor its padded length. The prover
/// does not check membership (a false statement yields a rejected proof).
pub fn prove(
    table: &LookupTable,
    witnesses: &[LookupWitness],
    multiplicities: &[F],
    transcript: &mut Transcript,
) -> (LookupProof, LookupClaims) {
    if let Err(e) = table.check_shape() {
        panic!("logup::prove: {e}");
    }
    // Committed multiplicities may come padded (what a caller commits).
    assert!(
        multiplicities.len() == table.len()
            || multiplicities.len() == 1 << num_vars_for(table.len()),
        "logup::prove: multiplicities length"
    );
    for (i, w) in witnesses.iter().enumerate() {
        assert_eq!(
            w.columns.len(),
            table.width(),
            "logup::prove: witness {i} width"
        );
        assert!(
            w.columns.iter().all(|c| c.len() == w.len()),
            "logup::prove: witness {i} ragged"
        );
    }
    let lens: Vec<usize> = witnesses.iter().map(LookupWitness::len).collect();
    absorb_statement(transcript, table.width(), table.len(), &lens);
    let (alpha, beta) = draw_alpha_beta(transcript);

    let mut trees: Vec<Tree> = witnesses
        .iter()
        .map(|w| witness_tree(w, alpha, beta))
        .collect();
    trees.push(table_tree(table, multiplicities, alpha, beta));
    let n_trees = trees.len();
    let depths: Vec<usize> = trees.iter().map(|t| t.depth).collect();
    let max_depth = depths.iter().copied().max().unwrap_or(0);

    let tops: Vec<Vec<EF>> = trees.iter().map(|t| t.top.clone()).collect();
    absorb_tops(transcript, &tops);

    // Current (p, q) claims per tree, and each tree's leaf (point, p, q) once reached.
    let mut claims = vec![(EF::ZERO, EF::ZERO); n_trees];
    let mut leaves: Vec<Option<(Vec<EF>, EF, EF)>> = vec![None; n_trees];
    for (i, top) in tops.iter().enumerate() {
        if depths[i] == 0 {
            leaves[i] = Some((vec![], top[0], top[1]));
        }
    }
    let mut point: Vec<EF> = vec![];
    if max_depth >= 1 {
        let mu = transcript.challenge_ef();
        point = vec![mu];
        for i in (0..n_trees).filter(|&i| depths[i] >= 1) {
            let t = &tops[i];
            claims[i] = (lerp(t[0], t[1], mu), lerp(t[2], t[3], mu));
            if depths[i] == 1 {
                leaves[i] = Some((point.clone(), claims[i].0, claims[i].1));
            }
        }
    }

    let mut layers = Vec::with_capacity(max_depth.saturating_sub(1));
    for k in 1..max_depth {
        let active: Vec<usize> = (0..n_trees).filter(|&i| depths[i] > k).collect();
        let lambda = draw_layer_lambda(transcript, k);
        let mut coeff = EF::ONE;
        let mut layer_poly = LayerPoly::default();
        for &i in &active {
            let (cp, cq) = (coeff, coeff * lambda);
            coeff = cq * lambda;
            layer_poly.push_tree(&mut trees[i], k, alpha, cp, cq);
        }
        let (poly, forms) = layer_poly.into_poly(k);
        let out = sumcheck::prove_eq_weighted(&point, poly, transcript);
        let evals: Vec<[EF; 4]> = forms
            .iter()
            .map(|f| f.clone().map(|a| a.eval(&out.final_evals)))
            .collect();
        absorb_layer_evals(transcript, &evals);
        let mu = transcript.challenge_ef();
        point = std::iter::once(mu)
            .chain(out.point.iter().copied())
            .collect();
        for (&i, e) in active.iter().zip(&evals) {
            claims[i] = (lerp(e[0], e[1], mu), lerp(e[2], e[3], mu));
            if depths[i] == k + 1 {
                leaves[i] = Some((point.clone(), claims[i].0, claims[i].1));
            }
        }
        layers.push(LayerProof {
            sumcheck: out.proof,
            evals,
        });
    }

    // Witness column evaluations at the leaf points. The last column follows
    // from the q-claim `α − φ(values)`, so one evaluation is saved per witness.
    let beta_inv = beta.try_inverse();
    let mut witness_claims = Vec::with_capacity(witnesses.len());
    for (i, w) in witnesses.iter().enumerate() {
        let (pt, _, q_claim) = leaves[i].take().expect("every tree reaches its leaves");
        let width = w.columns.len();
        let mut values: Vec<EF> = w.columns[..width - 1]
            .iter()
            .map(|c| evaluate_col(c, &pt))
            .collect();
        let last = match (width, beta_inv) {
            (1, _) => alpha - q_claim,
            (_, Some(inv)) => {
                (alpha - q_claim - phi(&values, beta)) * inv.exp_u64(width as u64 - 1)
            }
            (_, None) => evaluate_col(&w.columns[width - 1], &pt),
        };
        values.push(last);
        witness_claims.push(ColumnClaims { point: pt, values });
    }
    let witness_evals: Vec<Vec<EF>> = witness_claims.iter().map(|c| c.values.clone()).collect();
    absorb_witness_evals(transcript, &witness_evals);

    let (m_point, m_value, _) = leaves[n_trees - 1]
        .take()
        .expect("table reaches its leaves");
    let claims = LookupClaims {
        witnesses: witness_claims,
        multiplicities: ColumnClaims {
            point: m_point,
            values: vec![m_value],
        },
    };
    (
        LookupProof {
            tops,
            layers,
            witness_evals,
        },
        claims,
    )
}

/// `witness_lens[i]` is the row count of witness `i`.
pub fn verify(
    table: &LookupTable,
    witness_lens: &[usize],
    proof: &LookupProof,
    transcript: &mut Transcript,
) -> Result<LookupClaims, VerifyError> {
    table.check_shape().map_err(VerifyError::Lookup)?;
    let width = table.width();
    let n_trees = witness_lens.len() + 1;
    let depths: Vec<usize> = witness_lens
        .iter()
        .copied()
        .chain(std::iter::once(table.len()))
        .map(num_vars_for)
        .collect();
    let max_depth = depths.iter().copied().max().unwrap_or(0);
    let malformed = |s: &str| VerifyError::Malformed(format!("lookup proof: {s}"));
    if proof.tops.len() != n_trees {
        return Err(malformed("wrong number of tops"));
    }
    for (top, &d) in proof.tops.iter().zip(&depths) {
        if top.len() != if d == 0 { 2 } else { 4 } {
            return Err(malformed("top of wrong size"));
        }
    }
    if proof.layers.len() != max_depth.saturating_sub(1) {
        return Err(malformed("wrong number of layers"));
    }
    if proof.witness_evals.len() != witness_lens.len()
        || proof.witness_evals.iter().any(|e| e.len() != width)
    {
        return Err(malformed("witness evaluations of wrong shape"));
    }

    absorb_statement(transcript, width, table.len(), witness_lens);
    let (alpha, beta) = draw_alpha_beta(transcript);
    absorb_tops(transcript, &proof.tops);

    // Root check: Σ_witness P_i/Q_i = P_T/Q_T, cross-multiplied.
    let roots: Vec<(EF, EF)> = proof
        .tops
        .iter()
        .map(|t| {
            if t.len() == 2 {
                (t[0], t[1])
            } else {
                (t[0] * t[3] + t[1] * t[2], t[2] * t[3])
            }
        })
        .collect();
    if roots.iter().any(|r| r.1 == EF::ZERO) {
        return Err(VerifyError::Lookup("a root denominator is zero".into()));
    }
    let (pw, qw) = roots[..n_trees - 1]
        .iter()
        .fold((EF::ZERO, EF::ONE), |(p, q), &(pi, qi)| {
            (p * qi + pi * q, q * qi)
        });
    let (pt, qt) = roots[n_trees - 1];
    if pw * qt != pt * qw {
        return Err(VerifyError::Lookup(
            "witness and table fraction sums differ".into(),
        ));
    }

    let mut claims = vec![(EF::ZERO, EF::ZERO); n_trees];
    let mut leaves: Vec<Option<(Vec<EF>, EF, EF)>> = vec![None; n_trees];
    for i in 0..n_trees {
        if depths[i] == 0 {
            leaves[i] = Some((vec![], proof.tops[i][0], proof.tops[i][1]));
        }
    }
    let mut point: Vec<EF> = vec![];
    if max_depth >= 1 {
        let mu = transcript.challenge_ef();
        point = vec![mu];
        for i in (0..n_trees).filter(|&i| depths[i] >= 1) {
            let t = &proof.tops[i];
            claims[i] = (lerp(t[0], t[1], mu), lerp(t[2], t[3], mu));
            if depths[i] == 1 {
                leaves[i] = Some((point.clone(), claims[i].0, claims[i].1));
            }
        }
    }

    for (k, layer) in (1..max_depth).zip(&proof.layers) {
        let active: Vec<usize> = (0..n_trees).filter(|&i| depths[i] > k).collect();
        if layer.evals.len() != active.len() {
            return Err(malformed("layer evaluations of wrong count"));
        }
        if layer.sumcheck.round_polys.len() != k
            || layer
                .sumcheck
                .round_polys
                .iter()
                .any(|p| p.len() != LAYER_DEGREE + 1)
        {
            return Err(malformed("layer sumcheck of wrong shape"));
        }
        let lambda = draw_layer_lambda(transcript, k);
        let mut coeff = EF::ONE;
        let mut claim = EF::ZERO;
        let mut combined = EF::ZERO;
        for (&i, e) in active.iter().zip(&layer.evals) {
            let (cp, cq) = (coeff, coeff * lambda);
            coeff = cq * lambda;
            claim += cp * claims[i].0 + cq * claims[i].1;
            combined += layer_combination(e, cp, cq);
        }
        let sub = sumcheck::verify(k, LAYER_DEGREE, claim, &layer.sumcheck, transcript)?;
        if sub.point.len() != k {
            return Err(malformed("sumcheck point of wrong length"));
        }
        if eq_eval(&point, &sub.point) * combined != sub.expected_eval {
            return Err(VerifyError::Lookup(format!(
                "layer {k}: final evaluations inconsistent"
            )));
        }
        absorb_layer_evals(transcript, &layer.evals);
        let mu = transcript.challenge_ef();
        point = std::iter::once(mu)
            .chain(sub.point.iter().copied())
            .collect();
        for (&i, e) in active.iter().zip(&layer.evals) {
            claims[i] = (lerp(e[0], e[1], mu), lerp(e[2], e[3], mu));
            if depths[i] == k + 1 {
                leaves[i] = Some((point.clone(), claims[i].0, claims[i].1));
            }
        }
    }

    // Leaf checks.
    let mut witness_claims = Vec::with_capacity(witness_lens.len());
    for (i, &len) in witness_lens.iter().enumerate() {
        let (pt, p_claim, q_claim) = leaves[i].take().expect("every tree reaches its leaves");
        if p_claim != prefix_indicator_eval(len, &pt) {
            return Err(VerifyError::Lookup(format!(
                "witness {i}: padding numerators are wrong"
            )));
        }
        let values = proof.witness_evals[i].clone();
        if q_claim != alpha - phi(&values, beta) {
            return Err(VerifyError::Lookup(format!(
                "witness {i}: column evaluations inconsistent"
            )));
        }
        witness_claims.push(ColumnClaims { point: pt, values });
    }
    let (m_point, m_value, q_claim) = leaves[n_trees - 1]
        .take()
        .expect("table reaches its leaves");
    if q_claim != alpha - phi(&table_column_evals(table, &m_point), beta) {
        return Err(VerifyError::Lookup(
            "table side does not match the public table".into(),
        ));
    }
    absorb_witness_evals(transcript, &proof.witness_evals);

    Ok(LookupClaims {
        witnesses: witness_claims,
        multiplicities: ColumnClaims {
            point: m_point,
            values: vec![m_value],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::f_from_i64;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn col(v: &[u64]) -> Vec<F> {
        v.iter().map(|&x| F::from_u64(x)).collect()
    }

    fn w1(v: &[u64]) -> LookupWitness {
        LookupWitness {
            columns: vec![col(v)],
        }
    }

    fn rand_ef(rng: &mut StdRng) -> EF {
        EF::new([F::from_u64(rng.random()), F::from_u64(rng.random())])
    }

    /// Random rows of `table` (as a witness of `len` rows).
    fn sample_witness(table: &LookupTable, len: usize, rng: &mut StdRng) -> LookupWitness {
        let rows: Vec<usize> = (0..len).map(|_| rng.random_range(0..table.len())).collect();
        LookupWitness {
            columns: table
                .columns
                .iter()
                .map(|c| rows.iter().map(|&r| c[r]).collect())
                .collect(),
        }
    }

    fn run(
        table: &LookupTable,
        witnesses: &[LookupWitness],
        m: &[F],
    ) -> (LookupProof, LookupClaims, Result<LookupClaims, VerifyError>) {
        let mut tp = Transcript::new(b"logup-test");
        let (proof, claims) = prove(table, witnesses, m, &mut tp);
        let lens: Vec<usize> = witnesses.iter().map(LookupWitness::len).collect();
        let mut tv = Transcript::new(b"logup-test");
        let verdict = verify(table, &lens, &proof, &mut tv);
        if verdict.is_ok() {
            // Both transcripts end in the same state.
            assert_eq!(tp.challenge_ef(), tv.challenge_ef());
        }
        (proof, claims, verdict)
    }

    /// The caller's check of the returned claims against its (here: plain) committed columns.
    fn caller_accepts(witnesses: &[LookupWitness], m: &[F], claims: &LookupClaims) -> bool {
        claims.witnesses.len() == witnesses.len()
            && witnesses.iter().zip(&claims.witnesses).all(|(w, c)| {
                c.point.len() == num_vars_for(w.len())
                    && c.values.len() == w.columns.len()
                    && w.columns
                        .iter()
                        .zip(&c.values)
                        .all(|(col, &v)| evaluate_col(col, &c.point) == v)
            })
            && claims.multiplicities.point.len() == num_vars_for(m.len())
            && claims.multiplicities.values == vec![evaluate_col(m, &claims.multiplicities.point)]
    }

    /// Completeness: honest multiplicities, verify accepts, claims agree and are true.
    fn assert_complete(
        table: &LookupTable,
        witnesses: &[LookupWitness],
    ) -> (LookupProof, LookupClaims) {
        let m = multiplicities(table, witnesses).expect("all rows in table");
        let total: u64 = m.iter().map(|x| x.as_canonical_u64()).sum();
        assert_eq!(
            total as usize,
            witnesses.iter().map(LookupWitness::len).sum::<usize>()
        );
        let (proof, claims, verdict) = run(table, witnesses, &m);
        assert_eq!(
            verdict.as_ref(),
            Ok(&claims),
            "verify must accept and return the prover's claims"
        );
        assert!(
            caller_accepts(witnesses, &m, &claims),
            "claims must be true MLE evaluations"
        );
        (proof, claims)
    }

    /// Soundness: the statement is rejected by `verify` or by the caller's claim check.
    fn rejected(
        table: &LookupTable,
        lens: &[usize],
        proof: &LookupProof,
        witnesses: &[LookupWitness],
        m: &[F],
    ) -> bool {
        let mut t = Transcript::new(b"logup-test");
        match verify(table, lens, proof, &mut t) {
            Err(_) => true,
            Ok(claims) => !caller_accepts(witnesses, m, &claims),
        }
    }

    fn clamp_table() -> LookupTable {
        let xs: Vec<i64> = (-(1 << 15)..1 << 15).collect();
        LookupTable::function(
            xs.iter().map(|&x| f_from_i64(x)).collect(),
            xs.iter().map(|&x| f_from_i64(x.clamp(0, 127))).collect(),
        )
    }

    fn sigmoid_table() -> LookupTable {
        let xs: Vec<i64> = (-2048..2048).collect();
        let sig = |x: i64| (255.0 / (1.0 + (-(x as f64) / 256.0).exp())).round() as i64;
        LookupTable::function(
            xs.iter().map(|&x| f_from_i64(x)).collect(),
            xs.iter().map(|&x| f_from_i64(sig(x))).collect(),
        )
    }

    #[test]
    fn range_tables_complete() {
        let mut rng = StdRng::seed_from_u64(1);
        for bits in [4, 8, 16] {
            let table = LookupTable::range(bits);
            assert_eq!(table.range_bits(), Some(bits));
            let w = sample_witness(&table, 1000, &mut rng);
            let (_, claims) = assert_complete(&table, &[w]);
            assert_eq!(claims.witnesses[0].point.len(), 10);
            assert_eq!(claims.multiplicities.point.len(), bits);
        }
    }

    #[test]
    fn power_of_two_witness_complete() {
        let mut rng = StdRng::seed_from_u64(2);
        let table = LookupTable::range(8);
        let ws = [
            sample_witness(&table, 1 << 12, &mut rng),
            sample_witness(&table, 1 << 8, &mut rng),
        ];
        let (_, claims) = assert_complete(&table, &ws);
        // Same padded size as the table: the same point.
        assert_eq!(claims.witnesses[1].point, claims.multiplicities.point);
    }

    #[test]
    fn function_tables_complete() {
        let mut rng = StdRng::seed_from_u64(3);
        for table in [clamp_table(), sigmoid_table()] {
            assert_eq!(table.width(), 2);
            assert_eq!(table.range_bits(), None);
            let ws = [
                sample_witness(&table, 777, &mut rng),
                sample_witness(&table, 5000, &mut rng),
            ];
            assert_complete(&table, &ws);
        }
        // Values computed from inputs, not sampled rows.
        let table = clamp_table();
        let xs: Vec<i64> = vec![-32768, -5, 0, 3, 127, 128, 32767];
        let w = LookupWitness {
            columns: vec![
                xs.iter().map(|&x| f_from_i64(x)).collect(),
                xs.iter().map(|&x| f_from_i64(x.clamp(0, 127))).collect(),
            ],
        };
        assert_complete(&table, &[w]);
    }

    #[test]
    fn batched_witnesses_of_different_lengths() {
        let mut rng = StdRng::seed_from_u64(4);
        let table = LookupTable::range(6);
        let lens = [3usize, 100, 1, 37, 64, 65, 0, 2, 1000];
        let ws: Vec<_> = lens
            .iter()
            .map(|&l| sample_witness(&table, l, &mut rng))
            .collect();
        let (proof, claims) = assert_complete(&table, &ws);
        for (c, &l) in claims.witnesses.iter().zip(&lens) {
            assert_eq!(c.point.len(), num_vars_for(l));
        }
        // Witnesses of equal padded size share their point.
        assert_eq!(claims.witnesses[1].point, claims.witnesses[5].point);
        assert_ne!(claims.witnesses[1].point, claims.witnesses[3].point);
        assert_eq!(proof.layers.len(), num_vars_for(1000) - 1);
    }

    #[test]
    fn single_row_and_empty_witnesses() {
        let table = LookupTable::range(4);
        let (proof, claims) = assert_complete(&table, &[w1(&[9])]);
        assert!(claims.witnesses[0].point.is_empty());
        assert_eq!(claims.witnesses[0].values, vec![EF::from_u64(9)]);
        assert_eq!(proof.tops[0].len(), 2);
        assert_complete(&table, &[w1(&[]), w1(&[15]), w1(&[0, 1])]);
        assert_complete(&table, &[]);
        // Single-row function table with a single-row witness.
        let t1 = LookupTable::function(col(&[5]), col(&[6]));
        assert_complete(
            &t1,
            &[LookupWitness {
                columns: vec![col(&[5]), col(&[6])],
            }],
        );
        assert_complete(
            &t1,
            &[LookupWitness {
                columns: vec![col(&[5; 3]), col(&[6; 3])],
            }],
        );
    }

    #[test]
    fn non_power_of_two_table() {
        let mut rng = StdRng::seed_from_u64(5);
        let table = LookupTable::function(col(&[10, 20, 30, 40, 50]), col(&[1, 2, 3, 4, 5]));
        let ws = [
            sample_witness(&table, 13, &mut rng),
            sample_witness(&table, 8, &mut rng),
        ];
        assert_complete(&table, &ws);
        // A one-column table that is not a range table.
        let table = LookupTable {
            columns: vec![col(&[7, 3, 9])],
        };
        assert_complete(&table, &[w1(&[3, 3, 9, 7, 9])]);
    }

    #[test]
    fn claims_are_mle_evaluations() {
        let mut rng = StdRng::seed_from_u64(6);
        let table = clamp_table();
        let ws = [
            sample_witness(&table, 300, &mut rng),
            sample_witness(&table, 1, &mut rng),
        ];
        let m = multiplicities(&table, &ws).unwrap();
        let (_, claims, verdict) = run(&table, &ws, &m);
        assert_eq!(verdict.unwrap(), claims);
        for (w, c) in ws.iter().zip(&claims.witnesses) {
            for (column, &v) in w.columns.iter().zip(&c.values) {
                assert_eq!(evaluate_col(column, &c.point), v);
            }
        }
        assert_eq!(
            claims.multiplicities.values[0],
            evaluate_col(&m, &claims.multiplicities.point)
        );
        assert_eq!(claims.multiplicities.point.len(), 16);
    }

    #[test]
    fn multiplicities_counts_and_errors() {
        let table = LookupTable::range(3);
        let ws = [w1(&[1, 1, 7]), w1(&[0, 7, 7, 7])];
        assert_eq!(
            multiplicities(&table, &ws).unwrap(),
            col(&[1, 2, 0, 0, 0, 0, 0, 4])
        );
        assert_eq!(
            multiplicities(&table, &[w1(&[1]), w1(&[2, 8, 3])]),
            Err(LookupError::NotInTable { witness: 1, row: 1 })
        );
        let neg = LookupWitness {
            columns: vec![vec![f_from_i64(-1)]],
        };
        assert_eq!(
            multiplicities(&table, &[neg]),
            Err(LookupError::NotInTable { witness: 0, row: 0 })
        );
        let two = LookupWitness {
            columns: vec![col(&[1]), col(&[1])],
        };
        assert_eq!(
            multiplicities(&table, &[w1(&[1]), two]),
            Err(LookupError::Width(1))
        );
        // Hash-map path (function table) and a permuted one-column table.
        let f = LookupTable::function(col(&[5, 9, 2]), col(&[50, 90, 20]));
        let ok = LookupWitness {
            columns: vec![col(&[9, 9, 2]), col(&[90, 90, 20])],
        };
        assert_eq!(multiplicities(&f, &[ok]).unwrap(), col(&[0, 2, 1]));
        let bad = LookupWitness {
            columns: vec![col(&[9, 2]), col(&[90, 21])],
        };
        assert_eq!(
            multiplicities(&f, &[bad]),
            Err(LookupError::NotInTable { witness: 0, row: 1 })
        );
        let ragged = LookupWitness {
            columns: vec![col(&[9, 2]), col(&[90])],
        };
        assert_eq!(
            multiplicities(&f, &[ragged]),
            Err(LookupError::ColumnLengths(0))
        );
        let perm = LookupTable {
            columns: vec![col(&[3, 0, 1, 2])],
        };
        assert_eq!(perm.range_bits(), None);
        assert_eq!(
            multiplicities(&perm, &[w1(&[0, 3, 3])]).unwrap(),
            col(&[2, 1, 0, 0])
        );
    }

    #[test]
    #[should_panic(expected = "appears twice")]
    fn function_table_rejects_duplicate_inputs() {
        let _ = LookupTable::function(col(&[1, 2, 1]), col(&[0, 0, 0]));
    }

    #[test]
    fn out_of_table_value_is_rejected() {
        let table = LookupTable::range(4);
        let honest = w1(&[1, 2, 3, 4, 5]);
        let m_honest = multiplicities(&table, &[honest]).unwrap();
        // 17 ≡ "1 mod 16", 16 (just outside), p - 1 (= -1).
        for bad in [17u64, 16, crate::field::MODULUS - 1] {
            let w = w1(&[1, 2, 3, bad, 5]);
            assert!(multiplicities(&table, std::slice::from_ref(&w)).is_err());
            // Fake multiplicity vectors: as if the bad row were row 4 (the honest
            // value), row 1, row 0, or simply not counted.
            let mut fakes = vec![m_honest.clone()];
            for j in [1usize, 0] {
                let mut m = m_honest.clone();
                m[4] -= F::ONE;
                m[j] += F::ONE;
                fakes.push(m);
            }
            let mut m = m_honest.clone();
            m[4] -= F::ONE;
            fakes.push(m);
            for m in &fakes {
                let (proof, _, verdict) = run(&table, std::slice::from_ref(&w), m);
                assert!(verdict.is_err(), "out-of-table value {bad} accepted");
                assert!(rejected(&table, &[5], &proof, std::slice::from_ref(&w), m));
            }
        }
        // Two columns: right input, wrong output.
        let f = clamp_table();
        let good = LookupWitness {
            columns: vec![vec![f_from_i64(-3)], vec![f_from_i64(0)]],
        };
        let bad = LookupWitness {
            columns: vec![vec![f_from_i64(-3)], vec![f_from_i64(1)]],
        };
        let m = multiplicities(&f, &[good]).unwrap();
        let (_, _, verdict) = run(&f, &[bad], &m);
        assert!(verdict.is_err());
    }

    /// The forgery of issue 12: a count on a padding row of a table whose
    /// length is not a power of two must not admit a row outside the table
    /// (with zero padding it admitted `(0, 0)` / `0`).
    #[test]
    fn multiplicity_on_a_padding_row_admits_no_foreign_row() {
        // A clamp-like relation without (0, 0), a LUT with f(0) ≠ 0, and a
        // one-column table without 0; all of odd length.
        let relation = LookupTable::relation(
            [0, 0, 0, 1, -1].map(f_from_i64).to_vec(),
            [1, 2, 3, 3, 1].map(f_from_i64).to_vec(),
        );
        let lut = LookupTable::function(
            [-1, 0, 1].map(f_from_i64).to_vec(),
            [5, 7, 9].map(f_from_i64).to_vec(),
        );
        let single = LookupTable {
            columns: vec![[1, 2, 3].map(f_from_i64).to_vec()],
        };
        for table in [relation, lut, single] {
            // Two rows: the table's first row, then the all-zero row (forged)
            // or the first row again (honest).
            let first = |c: &Vec<F>| c[0];
            let zero_row = LookupWitness {
                columns: table
                    .columns
                    .iter()
                    .map(|c| vec![first(c), F::ZERO])
                    .collect(),
            };
            let honest = LookupWitness {
                columns: table.columns.iter().map(|c| vec![first(c); 2]).collect(),
            };
            let padded_len = 1 << num_vars_for(table.len());
            let mut m = multiplicities(&table, std::slice::from_ref(&honest)).unwrap();
            m.resize(padded_len, F::ZERO);
            let (_, _, verdict) = run(&table, std::slice::from_ref(&honest), &m);
            assert!(verdict.is_ok(), "padded honest multiplicities are accepted");
            // The forged witness: one genuine row and one all-zero row, the
            // zero row counted on each padding row in turn.
            for pad_row in table.len()..padded_len {
                let mut forged = vec![F::ZERO; padded_len];
                forged[0] = F::ONE;
                forged[pad_row] = F::ONE;
                let (_, _, verdict) = run(&table, std::slice::from_ref(&zero_row), &forged);
                assert!(
                    verdict.is_err(),
                    "a padding-row count admitted a foreign row (width {})",
                    table.width()
                );
            }
        }
    }

    #[test]
    fn wrong_multiplicity_is_rejected() {
        let mut rng = StdRng::seed_from_u64(7);
        let table = LookupTable::range(5);
        let ws = [
            sample_witness(&table, 21, &mut rng),
            sample_witness(&table, 6, &mut rng),
        ];
        let m = multiplicities(&table, &ws).unwrap();
        let used = m.iter().position(|x| *x != F::ZERO).unwrap();
        let unused = m.iter().position(|x| *x == F::ZERO).unwrap();
        let mut variants = vec![];
        let mut v = m.clone();
        v[used] += F::ONE;
        variants.push(v);
        let mut v = m.clone();
        v[used] -= F::ONE;
        variants.push(v);
        let mut v = m.clone();
        v[used] -= F::ONE;
        v[unused] += F::ONE;
        variants.push(v);
        let mut v = m.clone();
        v[unused] = -F::ONE;
        variants.push(v);
        for v in &variants {
            let (proof, _, verdict) = run(&table, &ws, v);
            assert!(verdict.is_err());
            assert!(rejected(&table, &[21, 6], &proof, &ws, v));
        }
        // An honest proof with the caller holding a different committed multiplicity column.
        let (proof, _, verdict) = run(&table, &ws, &m);
        assert!(verdict.is_ok());
        assert!(rejected(&table, &[21, 6], &proof, &ws, &variants[2]));
    }

    /// Calls `f` on a mutable reference to every field element of the proof, in turn.
    fn for_each_element(proof: &LookupProof, mut f: impl FnMut(&'static str, LookupProof)) {
        for i in 0..proof.tops.len() {
            for j in 0..proof.tops[i].len() {
                let mut p = proof.clone();
                p.tops[i][j] += EF::ONE;
                f("tops", p);
            }
        }
        for l in 0..proof.layers.len() {
            for r in 0..proof.layers[l].sumcheck.round_polys.len() {
                for j in 0..proof.layers[l].sumcheck.round_polys[r].len() {
                    let mut p = proof.clone();
                    p.layers[l].sumcheck.round_polys[r][j] += EF::ONE;
                    f("round_polys", p);
                }
            }
            for e in 0..proof.layers[l].evals.len() {
                for j in 0..4 {
                    let mut p = proof.clone();
                    p.layers[l].evals[e][j] += EF::ONE;
                    f("layer evals", p);
                }
            }
        }
        for i in 0..proof.witness_evals.len() {
            for j in 0..proof.witness_evals[i].len() {
                let mut p = proof.clone();
                p.witness_evals[i][j] += EF::ONE;
                f("witness_evals", p);
            }
        }
    }

    #[test]
    fn every_perturbed_proof_element_is_rejected() {
        let mut rng = StdRng::seed_from_u64(8);
        for table in [
            LookupTable::range(3),
            LookupTable::function(col(&[1, 2, 3]), col(&[4, 5, 6])),
        ] {
            let ws = [
                sample_witness(&table, 1, &mut rng),
                sample_witness(&table, 5, &mut rng),
                sample_witness(&table, 16, &mut rng),
            ];
            let lens = [1, 5, 16];
            let m = multiplicities(&table, &ws).unwrap();
            let (proof, _) = assert_complete(&table, &ws);
            let mut seen = std::collections::BTreeMap::new();
            for_each_element(&proof, |part, p| {
                assert!(
                    rejected(&table, &lens, &p, &ws, &m),
                    "perturbed {part} accepted"
                );
                *seen.entry(part).or_insert(0) += 1;
            });
            assert_eq!(seen.len(), 4, "every part perturbed: {seen:?}");
            // Structural damage.
            let mut p = proof.clone();
            p.layers.pop();
            assert!(matches!(
                verify(&table, &lens, &p, &mut Transcript::new(b"logup-test")),
                Err(VerifyError::Malformed(_))
            ));
            let mut p = proof.clone();
            p.tops[2].push(EF::ZERO);
            assert!(rejected(&table, &lens, &p, &ws, &m));
            let mut p = proof.clone();
            p.layers[0].evals.pop();
            assert!(rejected(&table, &lens, &p, &ws, &m));
            let mut p = proof.clone();
            p.witness_evals[0].pop();
            assert!(rejected(&table, &lens, &p, &ws, &m));
            // Swapping two witnesses' evaluations.
            let mut p = proof.clone();
            p.witness_evals.swap(0, 1);
            assert!(rejected(&table, &lens, &p, &ws, &m));
        }
    }

    #[test]
    fn different_table_at_verification_is_rejected() {
        let mut rng = StdRng::seed_from_u64(9);
        let table = LookupTable::range(6);
        let ws = [sample_witness(&table, 50, &mut rng)];
        let m = multiplicities(&table, &ws).unwrap();
        let (proof, _) = assert_complete(&table, &ws);
        let mut other = table.clone();
        other.columns[0][63] = F::from_u64(64);
        let mut swapped = table.clone();
        swapped.columns[0].swap(3, 4);
        for t in [LookupTable::range(5), LookupTable::range(7), other, swapped] {
            assert!(rejected(&t, &[50], &proof, &ws, &m));
        }
        let f = clamp_table();
        let ws = [sample_witness(&f, 40, &mut rng)];
        let m = multiplicities(&f, &ws).unwrap();
        let (proof, _) = assert_complete(&f, &ws);
        let mut g = f.clone();
        g.columns[1][40000] += F::ONE;
        assert!(rejected(&g, &[40], &proof, &ws, &m));
        let mut g = f.clone();
        g.columns.swap(0, 1);
        assert!(rejected(&g, &[40], &proof, &ws, &m));
    }

    #[test]
    fn witness_length_mismatch_is_rejected() {
        let mut rng = StdRng::seed_from_u64(10);
        let table = LookupTable::range(4);
        let ws = [
            sample_witness(&table, 11, &mut rng),
            sample_witness(&table, 3, &mut rng),
        ];
        let (proof, _) = assert_complete(&table, &ws);
        for lens in [
            vec![12, 3],
            vec![10, 3],
            vec![11, 4],
            vec![3, 11],
            vec![11],
            vec![11, 3, 0],
            vec![16, 3],
        ] {
            let mut t = Transcript::new(b"logup-test");
            assert!(
                verify(&table, &lens, &proof, &mut t).is_err(),
                "lens {lens:?} accepted"
            );
        }
    }

    #[test]
    fn claim_moved_to_another_point_is_rejected() {
        let mut rng = StdRng::seed_from_u64(11);
        let table = LookupTable::range(4);
        let ws = [
            sample_witness(&table, 11, &mut rng),
            sample_witness(&table, 9, &mut rng),
        ];
        let m = multiplicities(&table, &ws).unwrap();
        let (_, claims) = assert_complete(&table, &ws);
        let mut moved = claims.clone();
        moved.witnesses[0].point[1] += EF::ONE;
        assert!(!caller_accepts(&ws, &m, &moved));
        let mut moved = claims.clone();
        moved.multiplicities.point[0] += EF::ONE;
        assert!(!caller_accepts(&ws, &m, &moved));
        // Claims of one witness presented for the other.
        let mut moved = claims.clone();
        moved.witnesses.swap(0, 1);
        assert!(!caller_accepts(&ws, &m, &moved));
        let mut moved = claims.clone();
        moved.witnesses[1].values[0] += EF::ONE;
        assert!(!caller_accepts(&ws, &m, &moved));
    }

    #[test]
    fn indicator_and_range_closed_forms_match_mles() {
        let mut rng = StdRng::seed_from_u64(12);
        for d in 0..7 {
            let pt: Vec<EF> = (0..d).map(|_| rand_ef(&mut rng)).collect();
            for n in 0..=(1usize << d) {
                let ind: Vec<F> = (0..1usize << d).map(|i| F::from_bool(i < n)).collect();
                assert_eq!(
                    prefix_indicator_eval(n, &pt),
                    evaluate_col(&ind, &pt),
                    "n={n} d={d}"
                );
            }
            let idx: Vec<F> = (0..1u64 << d).map(F::from_u64).collect();
            assert_eq!(range_column_eval(&pt), evaluate_col(&idx, &pt));
            assert_eq!(
                table_column_evals(&LookupTable::range(d), &pt),
                vec![evaluate_col(&idx, &pt)]
            );
        }
    }

    /// Process CPU time (user + system) in ms, from `/proc/self/stat`.
    fn cpu_ms() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
            f.iter().map(|x| x.parse::<f64>().unwrap_or(0.0)).sum()
        });
        ticks * 10.0
    }

    /// Rough timing of the full prover (run with `--ignored --nocapture`):
    /// wall time, and process CPU time (robust to other load on the machine).
    #[test]
    #[ignore]
    fn time_prove_2p20() {
        let mut rng = StdRng::seed_from_u64(15);
        let range = LookupTable::range(16);
        let ws = vec![sample_witness(&range, 1 << 20, &mut rng)];
        let func = clamp_table();
        let ws2 = vec![sample_witness(&func, 1 << 20, &mut rng)];
        for (name, table, ws) in [
            ("range16 1-col", &range, &ws),
            ("function16 2-col", &func, &ws2),
        ] {
            let m = multiplicities(table, ws).unwrap();
            let reps = 5;
            let (w0, c0) = (std::time::Instant::now(), cpu_ms());
            let mut proof = None;
            for _ in 0..reps {
                let mut t = Transcript::new(b"t");
                proof = Some(prove(table, ws, &m, &mut t).0);
            }
            let wall = w0.elapsed().as_secs_f64() * 1e3 / reps as f64;
            let cpu = (cpu_ms() - c0) / reps as f64;
            let start = std::time::Instant::now();
            let mut t = Transcript::new(b"t");
            verify(table, &[1 << 20], proof.as_ref().unwrap(), &mut t).unwrap();
            let t_verify = start.elapsed().as_secs_f64() * 1e3;
            println!("{name}: prove wall {wall:.1} ms, cpu {cpu:.1} ms; verify {t_verify:.2} ms");
        }
    }

    /// A random small instance: table (range or function), witnesses sampled from it.
    fn instance(seed: u64) -> (LookupTable, Vec<LookupWitness>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let table = if rng.random_bool(0.5) {
            LookupTable::range(rng.random_range(0..6))
        } else {
            let n = rng.random_range(1..40);
            let mut inputs: Vec<u64> = (0..n).map(|i| i * 7 + rng.random_range(0..7)).collect();
            inputs.reverse();
            let outputs: Vec<u64> = (0..n).map(|_| rng.random()).collect();
            LookupTable::function(col(&inputs), col(&outputs))
        };
        let nw = rng.random_range(0..4);
        let ws = (0..nw).map(|_| {
            let len = rng.random_range(0..40);
            sample_witness(&table, len, &mut rng)
        });
        (table.clone(), ws.collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn prop_random_instances_complete(seed in any::<u64>()) {
            let (table, ws) = instance(seed);
            assert_complete(&table, &ws);
        }

        #[test]
        fn prop_forced_out_of_table_row_rejected(seed in any::<u64>(), which in any::<usize>(), delta in 1u64..1000) {
            let (table, mut ws) = instance(seed);
            prop_assume!(ws.iter().any(|w| !w.is_empty()));
            let m = multiplicities(&table, &ws).unwrap();
            let nonempty: Vec<usize> = (0..ws.len()).filter(|&i| !ws[i].is_empty()).collect();
            let wi = nonempty[which % nonempty.len()];
            let row = (which / 7) % ws[wi].len();
            let c = ws[wi].columns.len() - 1;
            ws[wi].columns[c][row] += F::from_u64(delta);
            prop_assume!(multiplicities(&table, &ws).is_err());
            let lens: Vec<usize> = ws.iter().map(LookupWitness::len).collect();
            let (proof, _, verdict) = run(&table, &ws, &m);
            prop_assert!(verdict.is_err());
            prop_assert!(rejected(&table, &lens, &proof, &ws, &m));
        }

        #[test]
        fn prop_random_perturbation_rejected(seed in any::<u64>(), pick in any::<usize>(), delta in 1u64..u64::MAX) {
            let (table, ws) = instance(seed);
            let m = multiplicities(&table, &ws).unwrap();
            let lens: Vec<usize> = ws.iter().map(LookupWitness::len).collect();
            let (proof, _) = assert_complete(&table, &ws);
            let mut variants = vec![];
            for_each_element(&proof, |_, p| variants.push(p));
            // Undo the +1 of `for_each_element` and apply a random nonzero delta instead.
            let mut p = variants.swap_remove(pick % variants.len());
            let d = EF::from(F::from_u64(delta)) - EF::ONE;
            let diff = |a: &LookupProof, b: &LookupProof| a != b;
            prop_assert!(diff(&p, &proof));
            // Find the perturbed element and apply the new delta.
            for (x, y) in p.tops.iter_mut().flatten().zip(proof.tops.iter().flatten()) {
                if x != y { *x += d; }
            }
            for (lx, ly) in p.layers.iter_mut().zip(&proof.layers) {
                for (x, y) in lx.sumcheck.round_polys.iter_mut().flatten().zip(ly.sumcheck.round_polys.iter().flatten()) {
                    if x != y { *x += d; }
                }
                for (x, y) in lx.evals.iter_mut().flatten().zip(ly.evals.iter().flatten()) {
                    if x != y { *x += d; }
                }
            }
            for (x, y) in p.witness_evals.iter_mut().flatten().zip(proof.witness_evals.iter().flatten()) {
                if x != y { *x += d; }
            }
            prop_assume!(p != proof);
            prop_assert!(rejected(&table, &lens, &p, &ws, &m));
        }
    }
}

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
//! admits only that row. [`multiplicities()`] counts at first occurrences, so
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
//! # Several tables in one proof
//!
//! [`prove_many`] / [`verify_many`] run the protocol below for several
//! tables at once: one `(α, β)`, one root equation per table (each table's
//! rational identity is checked on its own, so a witness row can only be
//! matched by its own table), and the trees of all tables — per table its
//! witnesses, then the table — in one walk. A model with dozens of small
//! function tables thus pays one batched sumcheck per layer in all.
//!
//! # Transcript order (prover and verifier alike)
//!
//! 1. for several tables: label `logup/many`, absorb their count; then per
//!    table: label `logup/v1`; absorb table width, table length, the number of
//!    witnesses and every witness length (the table contents are public and
//!    must be bound by the caller, e.g. as part of the circuit description);
//! 2. label `logup/challenges`; draw `β`, then `α`;
//! 3. label `logup/tops`; absorb, per tree (per table: its witnesses in
//!    order, then the table), its *top*: `[p_1(0), p_1(1), q_1(0), q_1(1)]` if the tree has
//!    depth `≥ 1`, else the leaf `[p, q]`. The verifier checks, per table, the
//!    root equation `P_w · Q_T = P_T · Q_w` (cross-multiplied; every root
//!    `Q ≠ 0`), where `P_w/Q_w` is the sum of the table's witness roots;
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
//! # Layout
//!
//! `multiplicities.rs` counts the witness rows in the table, `tree.rs` builds
//! the fraction trees, `prover.rs` and `verifier.rs` run the protocol, and
//! `transcript.rs` defines the transcript order above once for both.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::field::{PrimeCharacteristicRing, PrimeField64, EF, F};
use crate::mle::evaluate_base;
use crate::sumcheck::SumcheckProof;

mod multiplicities;
mod prover;
#[cfg(test)]
mod tests;
mod transcript;
mod tree;
mod verifier;
pub mod zk;

pub use multiplicities::multiplicities;
use multiplicities::FastBuild;
pub use prover::{prove, prove_many};
pub use verifier::{prefix_indicator_eval, range_column_eval, verify, verify_many};

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
    /// `(first + i, outputs[i])`: a function on consecutive integers, whose
    /// inputs are distinct by construction (no duplicate check: verifiers
    /// build dozens of these per transformer).
    ///
    /// # Panics
    /// If there are `2^40` outputs or more (inputs would not fit the table sizes LogUp supports).
    pub fn function_on_range(first: i64, outputs: Vec<F>) -> Self {
        assert!(outputs.len() < 1 << 40, "function table too large");
        let inputs = (0..outputs.len() as i64)
            .map(|k| crate::field::f_from_i64(first + k))
            .collect();
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

/// One table's lookups in a joint proof ([`prove_many`]): the table, its
/// witnesses and its committed multiplicity column.
#[derive(Clone, Copy, Debug)]
pub struct LookupInstance<'a> {
    pub table: &'a LookupTable,
    pub witnesses: &'a [LookupWitness],
    pub multiplicities: &'a [F],
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

/// `φ(row) = Σ_c β^c · row_c`.
fn phi(values: &[EF], beta: EF) -> EF {
    values.iter().rev().fold(EF::ZERO, |acc, &v| acc * beta + v)
}

/// Zero-padded MLE of a base column; handles the 0-variable case locally.
fn evaluate_col(col: &[F], point: &[EF]) -> EF {
    if point.is_empty() {
        col.first().map_or(EF::ZERO, |&x| EF::from(x))
    } else {
        evaluate_base(col, point)
    }
}

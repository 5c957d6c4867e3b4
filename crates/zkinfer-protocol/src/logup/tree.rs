//! The fraction trees of the module doc, built by the prover (see `prover.rs`
//! for how their layers feed the layer sumchecks).

use rayon::prelude::*;

use crate::field::{PrimeCharacteristicRing, EF, F};
use crate::mle::num_vars_for;

use super::{LookupTable, LookupWitness};

/// Below this many elements a loop runs sequentially (a rayon call costs ~10 µs).
const PAR_THRESHOLD: usize = 1 << 14;

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

/// Leaf numerators.
pub(super) enum LeafP {
    /// All ones (a witness whose length is a power of two).
    Ones,
    /// Base-field values (padding indicator or multiplicities), zero-padded.
    Base(Vec<F>),
}

/// Leaf denominators.
pub(super) enum LeafQ<'a> {
    /// `q = α − w` for a one-column witness `w` (zero-padded): kept in the
    /// base field so the largest sumcheck starts on base-field tables.
    Column(&'a [F]),
    /// Explicit values.
    Ext(Vec<EF>),
}

pub(super) struct Leaves<'a> {
    pub(super) p: LeafP,
    pub(super) q: LeafQ<'a>,
}

/// Layer `l ≥ 1` of a tree stored as its two halves (first index bit 0 / 1):
/// exactly the tables of the layer-`(l − 1)` sumcheck, moved into it unchanged.
pub(super) struct Halves {
    pub(super) p: [Vec<EF>; 2],
    pub(super) q: [Vec<EF>; 2],
}

pub(super) struct Tree<'a> {
    pub(super) depth: usize,
    pub(super) leaves: Leaves<'a>,
    /// `inner[l]` for `1 ≤ l < depth` (`None` elsewhere and once consumed).
    pub(super) inner: Vec<Option<Halves>>,
    /// See [`LookupProof::tops`](super::LookupProof::tops).
    pub(super) top: Vec<EF>,
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

pub(super) fn witness_tree(w: &LookupWitness, alpha: EF, beta: EF) -> Tree<'_> {
    witness_tree_of_depth(w, num_vars_for(w.len()), alpha, beta)
}

/// [`witness_tree`] padded to `depth ≥ num_vars_for(len)` (the padding
/// rows as any others: numerator 0, zero columns).
pub(super) fn witness_tree_of_depth(
    w: &LookupWitness,
    depth: usize,
    alpha: EF,
    beta: EF,
) -> Tree<'_> {
    let len = w.len();
    assert!(depth >= num_vars_for(len), "a tree below its rows");
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

pub(super) fn table_tree<'a>(table: &LookupTable, m: &[F], alpha: EF, beta: EF) -> Tree<'a> {
    table_tree_of_depth(table, m, num_vars_for(table.len()), alpha, beta)
}

/// [`table_tree`] padded to `depth ≥ num_vars_for(len)` (the padding rows
/// repeat the last row, their multiplicities zero-padded).
pub(super) fn table_tree_of_depth<'a>(
    table: &LookupTable,
    m: &[F],
    depth: usize,
    alpha: EF,
    beta: EF,
) -> Tree<'a> {
    let len = table.len();
    assert!(depth >= num_vars_for(len), "a tree below its rows");
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

//! Zero-knowledge LogUp-GKR: blinded roots, every layer's claims masked.
//!
//! The protocol of [`super::prove_many`] (module doc of [`super`]) with
//! two changes. The tops are not sent: per tree the prover sends its root
//! fraction plus a committed blinding, the blindings of a table summing to
//! zero, and proves each tree's layer 1 against it (`roots.rs`). And each
//! layer `k` is a masked-evaluation sumcheck
//! ([`crate::sumcheck::zk::masked_eval`]) of `k` variables that reads the
//! halves `[p0, p1, q0, q1]` of tree layer `k + 1` as never-committed
//! tensors `V̇ = V + Z·S` and proves the masked claims the layer above sent
//! as incoming claims (`masked_eval/interlayer.rs`).
//! So no layer's `[p0, p1, q0, q1]` goes out in the clear, only their
//! masked values.
//!
//! # The mask shape: constant masks
//!
//! A half of layer `k + 1` has `k` variables, as few as one, and its
//! incoming claims sit at a point of `k − 1`: the interlayer mask's head
//! variable (one that is not the last) does not exist at layers 1 and 2.
//! Every half therefore gets a *constant* mask: `S = Σ_w R(a, w)` with `R`
//! an `F`-table over one head variable and `w` (4 entries), read at the
//! public `a = X ∉ F` ([`constant_head`]) instead of at the point. `R(a,
//! 0)`, `R(a, 1)` are independent and uniform in `EF`, so the one revealed
//! `Z(r)·S` and `R(a, c_0)` are uniform (`c_0 ≠ 1/2`), exactly as with a
//! head variable, and one shape serves every layer. It suffices because a
//! half is read at one point only (its consumer's); a tensor read at `m`
//! points would need `2^h ≥ 2m` as before.
//!
//! # Layer 1 and the depth
//!
//! The root step leaves claims on layer 1 at `c` (`p_1`, `q_1`) and at
//! `1 − c` (`q̄_1`), so layer 1 reads its eq weights as two public tables
//! `eq(c, ·)`, `eq(1 − c, ·)`, whose values at its point the prover sends
//! and the verifier checks ([`ZkLookupProof::layer_one_eq`]).
//!
//! # The leaves
//!
//! The committed columns (a witness's, a table's multiplicities) are read
//! as `col + Z·R(b, x_0)`, `R` over the half bit and the layer's first
//! variable (4 entries per column), so a witness's `q` halves and a
//! table's `p` halves go out masked (the other halves are public), and the
//! witness evaluations are the masked `col(μ, r) + Z(r)·R(μ, r_0)`. The
//! caller commits each column as `W = [col; R]`
//! ([`LookupMasks::committed_column`]) and the returned claims are on `W`
//! at `(β, μ, r)`, `β = Z(r)/(1 + Z(r))`: `masked_eval`'s one-claim trick,
//! with `Z` over the leaf layer's variables. `R` reads `x_0`, which must
//! not be the layer's last variable, so every tree is padded to depth ≥ 3:
//! the claims on a column of `len` rows are over `max(num_vars_for(len),
//! 3) + 1` variables. Nothing private is sent in the clear.
//!
//! # Transcript
//!
//! ```text
//! [caller: the commitment holding the masks (and the witness columns) absorbed]
//! label(b"logup/zk")
//! steps 1–2 of the plain transcript (statements, β, α)
//! the root step (`roots.rs`): ũ, γ, its masked sumcheck
//! per layer k: label(b"logup/layer"), k, λ; at k = 1 label(b"logup/zk-layer-one"), ν;
//!     the masked-evaluation sumcheck with incoming claims; step 5's
//!     evaluations and μ
//! step 6 (the witness evaluations)
//! [caller: the opening of the returned mask claims]
//! ```
//!
//! # Masks and cost
//!
//! [`LookupMasks::tables`]: the root step's `g` (one variable, degree 6),
//! per table a blinding table of `4·2^⌈log T⌉` entries (`T` trees), per tree
//! 12 entries (`[p_1, q_1, q̄_1]`'s `R`); per layer `k`, the sumcheck mask
//! `g` (`k` variables, degree 5, or 4 where the only trees at their leaves
//! are tables') and 4 entries per masked half (16 per tree and layer). Each
//! committed column doubles (its `W`). The rounds rise from degree 3 to 5;
//! per tree and layer 4 more sent values (`R(a, c_0)`); per tree 5 values
//! instead of its 4 tops; the leaf layer materialises `q` in `EF`.
//!
//! # Soundness
//!
//! Per layer, [`crate::security::interlayer_sumcheck_bits`]`(k, d_k)` (a
//! cheating prover's `R` is any table, read at the same public `a`; the
//! argument of `interlayer` holds unchanged, as it never used that the head
//! is the point's); at a layer holding leaves, a cheating prover's
//! `W(1, ·)` is any table, so the claim pins `col + Z·W(1, ·)`, which may
//! read the layer's last variable: its last round is charged at `d + a`
//! (`a` committed masked factors per term, 2 for a witness's `q̇·q̇`), as
//! [`crate::security::masked_eval_sumcheck_bits`]; the root step's terms (`roots.rs`,
//! [`crate::security::zk_logup_root_bits`]); the masks' one opening.

use rand::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::field::{random_f, Field, PrimeCharacteristicRing, EF, F};
use crate::mle::{eq_eval, num_vars_for};
use crate::pcs::Claim;
use crate::sumcheck::zk::masked_eval::{
    self, constant_head, vanishing_eval, ClaimMask, EvalMask, IncomingClaim, MaskedEvals,
    MaskedMle, MaskedStatement,
};
use crate::sumcheck::zk::MaskPolynomial;
use crate::sumcheck::{Mle, SumOfProducts, Term};
use crate::transcript::Transcript;
use crate::VerifyError;

use super::prover::leaf_claims;
use super::transcript::{
    absorb_statements, absorb_witness_evals, draw_alpha_beta, Statement, Walk,
};
use super::tree::{table_tree_of_depth, witness_tree_of_depth, LeafP, LeafQ, Tree};
use super::verifier::{check_leaves, check_sent_shapes, LAYER_DEGREE};
use super::{LookupClaims, LookupInstance, LookupTable, LookupWitness};
use roots::{prove_roots, verify_roots, RootLayout, RootMasks};

mod layer;
#[cfg(test)]
mod layer_tests;
mod roots;
#[cfg(test)]
mod simulator_tests;
#[cfg(test)]
mod tests;

pub use layer::{
    prove_masked_layer, verify_masked_layer, HalfMasks, LayerLayout, MaskedLayerClaims,
    MaskedLayerProof, MASKED_LAYER_DEGREE,
};
pub use roots::RootProof;

/// A zero-knowledge LogUp-GKR proof (the masks' commitment and opening are
/// the caller's).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ZkLookupProof {
    /// The blinded root fractions and their step (replaces the tops).
    pub root: RootProof,
    /// Layer 1's eq weights at its point `r`: `eq(c, r)`, `eq(1 − c, r)`.
    pub layer_one_eq: [EF; 2],
    /// GKR layers `k = 1 .. max_depth − 1`: the masked sumcheck, per tree
    /// deeper than `k` its `[p0, p1, q0, q1]` (masked unless they are its
    /// leaves), and the incoming masks' `R(a, c_0)` (at `k = 1` three per
    /// tree, for the root step's `p_1`, `q_1`, `q̄_1`).
    pub layers: Vec<MaskedLayerProof>,
    /// As [`super::LookupProof::witness_evals`].
    pub witness_evals: Vec<Vec<EF>>,
}

/// The prover's masks, in the order of [`LookupMasks::tables`].
#[derive(Clone, Debug)]
pub struct LookupMasks {
    root: RootMasks,
    /// Per tree: its depth, and the `R` of each committed column (a
    /// witness's columns, a table's multiplicities as column 0): a table
    /// over the top `h` bits of the leaf index `(b, x_0, …, x_{h−2})`,
    /// `2 ≤ h < depth` ([`LookupMasks::set_leaf_mask`]).
    depths: Vec<usize>,
    leaves: Vec<Vec<Vec<F>>>,
    /// Per layer `k`: the sumcheck mask `g` and the [`HalfMasks`] of the
    /// halves it sends masked (trees deeper than `k + 1`, in tree order).
    layers: Vec<(MaskPolynomial, Vec<HalfMasks>)>,
}

impl LookupMasks {
    /// Samples the masks of a lookup over `shapes` (per table: its length
    /// and its witnesses' lengths) from `rng` (a CSPRNG).
    pub fn random<R: CryptoRng + ?Sized>(shapes: &[(usize, &[usize])], rng: &mut R) -> Self {
        let trees: Vec<usize> = shapes.iter().map(|(_, l)| l.len() + 1).collect();
        let root = RootMasks::random(&trees, rng);
        let depths = depths_of(shapes);
        let leaves = depths
            .iter()
            .map(|_| {
                (0..2)
                    .map(|_| (0..4).map(|_| random_f(rng)).collect())
                    .collect()
            })
            .collect();
        let layers = layouts(&depths, &tables_of(shapes), 0)
            .iter()
            .map(|l| {
                let g = MaskPolynomial::random(l.num_vars, l.degree, rng);
                let halves = (0..l.masked_trees)
                    .map(|_| [(); 4].map(|_| ClaimMask::random(1, rng)))
                    .collect();
                (g, halves)
            })
            .collect();
        Self {
            root,
            depths,
            leaves,
            layers,
        }
    }

    /// Replaces the `R` of `column` of `tree` by `table`, over the top `h`
    /// bits of the leaf index (`2^h` entries, `2 ≤ h < depth`): a caller
    /// whose own claims on the column read the same committed `W` (a
    /// masked-evaluation sumcheck's `W = [V; R(x_head)]`, the same tiling)
    /// shares one mask between them. `R`'s `2^h` entries hide `2^(h−1)`
    /// evaluations in `EF`; this proof reads it at two (the two halves).
    ///
    /// # Panics
    ///
    /// If the tree, the column or the table's size does not fit.
    pub fn set_leaf_mask(&mut self, tree: usize, column: usize, table: Vec<F>) {
        let h = table.len().trailing_zeros() as usize;
        assert!(
            table.len().is_power_of_two() && h >= 2 && h < self.depths[tree],
            "a leaf mask over 2 ≤ h < depth top bits"
        );
        self.leaves[tree][column] = table;
    }

    /// The depth of tree `tree`'s leaves (`max(num_vars_for(len), 3)`).
    pub fn depth(&self, tree: usize) -> usize {
        self.depths[tree]
    }

    /// What the caller commits for `column` of tree `tree` (trees in
    /// order: per table its witnesses, then the table, whose column 0 is
    /// the multiplicities): `W(0, y) = values` (zero-padded to the tree's
    /// `2^d` leaves), `W(1, y) = R(y's top h bits)`, so that its claim
    /// `W(β, μ, r)` reveals only the masked value the proof sent.
    pub fn committed_column(&self, tree: usize, column: usize, values: &[F]) -> Vec<F> {
        let d = self.depths[tree];
        let r = &self.leaves[tree][column];
        let h = r.len().trailing_zeros() as usize;
        assert!(values.len() <= 1 << d, "a column longer than its tree");
        let mut w = values.to_vec();
        w.resize(1 << d, F::ZERO);
        w.extend((0..1usize << d).map(|y| r[y >> (d - h)]));
        w
    }

    /// `Z(r)·R(μ, r_0, …, r_{h−2})`, the mask of `column` of `tree` at the
    /// leaf point `(μ, r)`.
    fn leaf_mask(&self, tree: usize, column: usize, point: &[EF]) -> EF {
        let r = &self.leaves[tree][column];
        let h = r.len().trailing_zeros() as usize;
        vanishing_eval(&point[1..]) * crate::mle::evaluate_base(r, &point[..h])
    }

    /// The tables to commit, as consecutive polynomials from the
    /// `first_poly` passed to [`prove_many`]: the root step's (`g`, per
    /// table its blinding `W`, per tree the `R` of `[p_1, q_1, q̄_1]`), then
    /// per layer `g` and the `R` of every masked half.
    pub fn tables(&self) -> Vec<Vec<F>> {
        let layers = self.layers.iter().flat_map(|(g, halves)| {
            std::iter::once(g.table()).chain(halves.iter().flatten().map(|r| r.table().to_vec()))
        });
        self.root.tables().into_iter().chain(layers).collect()
    }
}

/// Per table: its witnesses' depths, then the table's; at least
/// [`MIN_DEPTH`] (so every tree also has a layer 1 produced by a sumcheck,
/// which the root step reads masked).
fn depths_of(shapes: &[(usize, &[usize])]) -> Vec<usize> {
    shapes
        .iter()
        .flat_map(|&(table_len, lens)| lens.iter().copied().chain(std::iter::once(table_len)))
        .map(|len| num_vars_for(len).max(MIN_DEPTH))
        .collect()
}

/// The depth every tree is padded to at least: 3, so that the leaf layer
/// has a head variable that is not its last (the leaf masks read `x_0`).
const MIN_DEPTH: usize = 3;

/// Per tree: is it a table's (the last of each table)?
fn tables_of(shapes: &[(usize, &[usize])]) -> Vec<bool> {
    shapes
        .iter()
        .flat_map(|(_, lens)| lens.iter().map(|_| false).chain(std::iter::once(true)))
        .collect()
}

/// The round degree of layers `k = 1 .. max_depth − 1` of a proof over trees
/// of `depths` (per table: its witnesses', then the table's, padded to at
/// least 2): 5, or 3 where
/// every tree in the layer is at its leaves.
pub fn layer_round_degrees(depths: &[usize], is_table: &[bool]) -> Vec<usize> {
    layouts(depths, is_table, 0)
        .iter()
        .map(|l| l.degree)
        .collect()
}

/// Per layer: the most committed masked factors in one term — 2 where a
/// witness is at its leaves (`q̇0·q̇1`), 1 where only tables are
/// (`ṁ·q`), 0 elsewhere (the soundness of its last round).
pub fn layer_committed_factors(depths: &[usize], is_table: &[bool]) -> Vec<usize> {
    let max_depth = depths.iter().copied().max().unwrap_or(0);
    (1..max_depth)
        .map(|k| {
            (0..depths.len())
                .filter(|&i| depths[i] == k + 1)
                .map(|i| if is_table[i] { 1 } else { 2 })
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// Layer `k`'s place in the masks' commitment, known from the depths.
struct Layout {
    num_vars: usize,
    /// `g`'s polynomial; the `R` of the `j`-th masked tree's half `h` is
    /// `mask_poly + 1 + 4j + h`.
    mask_poly: usize,
    /// Round degree: `eq·ṗ·q̇` is 5, a layer of leaves only 3.
    degree: usize,
    /// Trees deeper than `k + 1`: their layer-`(k + 1)` halves go out masked.
    masked_trees: usize,
}

fn layouts(depths: &[usize], is_table: &[bool], first_poly: usize) -> Vec<Layout> {
    let max_depth = depths.iter().copied().max().unwrap_or(0);
    let mut next = first_poly;
    (1..max_depth)
        .map(|k| {
            let masked_trees = depths.iter().filter(|&&d| d > k + 1).count();
            // A witness's leaves read both `q` halves masked (`eq·p·q̇`,
            // `eq·q̇·q̇`), a table's one `p` half per product.
            let witness_leaves = (0..depths.len()).any(|i| depths[i] == k + 1 && !is_table[i]);
            let table_leaves = (0..depths.len()).any(|i| depths[i] == k + 1 && is_table[i]);
            let degree = if masked_trees > 0 || witness_leaves {
                MASKED_LAYER_DEGREE
            } else if table_leaves {
                LAYER_DEGREE + 1
            } else {
                LAYER_DEGREE
            };
            let layout = Layout {
                num_vars: k,
                mask_poly: next,
                degree,
                masked_trees,
            };
            next += 1 + 4 * masked_trees;
            layout
        })
        .collect()
}

/// What layer `k ≥ 2` proves, shared by both sides: the terms over the
/// active trees' halves (tables `4j..4j + 4`), which of them go out masked,
/// and the incoming claims on the masked halves layer `k − 1` sent.
fn layer_statement(
    k: usize,
    layouts: &[Layout],
    active: &[(usize, EF, EF)],
    depths: &[usize],
    is_table: &[bool],
    walk_point: &[EF],
) -> (Vec<Term>, Vec<MaskedMle>, Vec<IncomingClaim>) {
    let mut terms = Vec::with_capacity(3 * active.len());
    let mut masked = Vec::new();
    let mut incoming = Vec::new();
    assert!(k >= 2, "layer 1 has its own statement");
    let (mu, prev) = (walk_point[0], &walk_point[1..]);
    for (j, &(i, cp, cq)) in active.iter().enumerate() {
        let [p0, p1, q0, q1] = [4 * j, 4 * j + 1, 4 * j + 2, 4 * j + 3];
        for (coeff, factors) in [(cp, [p0, q1]), (cp, [p1, q0]), (cq, [q0, q1])] {
            terms.push(Term {
                coeff,
                factors: factors.to_vec(),
            });
        }
        masked.extend(masked_halves(depths[i], is_table[i], k, [p0, p1, q0, q1]));
        // Layer k − 1 sent this tree's halves masked by its j-th `R`s.
        let weights = [cp * (EF::ONE - mu), cp * mu, cq * (EF::ONE - mu), cq * mu];
        let first = layouts[k - 2].mask_poly + 1 + 4 * j;
        incoming.extend(
            weights
                .into_iter()
                .enumerate()
                .map(|(h, coeff)| IncomingClaim {
                    poly: first + h,
                    head_vars: 1,
                    point: prev.to_vec(),
                    coeff,
                    fixed_head: Some(constant_head()),
                }),
        );
    }
    (terms, masked, incoming)
}

/// What layer 1 proves: the root step left claims on every tree's layer 1
/// at `c` (`p_1`, `q_1`) and at `1 − c` (`q̄_1`), weighted `cp`, `cq`,
/// `cq·ν`; the eq weights are the public tables `eq(c, ·)` (table 0) and
/// `eq(1 − c, ·)` (table 1), tree `j`'s halves tables `2 + 4j..`.
fn layer_one_statement(
    root: &RootLayout,
    active: &[(usize, EF, EF)],
    depths: &[usize],
    is_table: &[bool],
    c: EF,
    nu: EF,
) -> (Vec<Term>, Vec<MaskedMle>, Vec<IncomingClaim>) {
    let mut terms = Vec::with_capacity(4 * active.len());
    let mut masked = Vec::new();
    let mut incoming = Vec::new();
    for (j, &(i, cp, cq)) in active.iter().enumerate() {
        let [p0, p1, q0, q1] = [2 + 4 * j, 3 + 4 * j, 4 + 4 * j, 5 + 4 * j];
        for (coeff, factors) in [
            (cp, [0, p0, q1]),
            (cp, [0, p1, q0]),
            (cq, [0, q0, q1]),
            (cq * nu, [1, q0, q1]),
        ] {
            terms.push(Term {
                coeff,
                factors: factors.to_vec(),
            });
        }
        masked.extend(masked_halves(depths[i], is_table[i], 1, [p0, p1, q0, q1]));
        let first = root.tree_polys + 3 * i;
        for (h, coeff) in [cp, cq, cq * nu].into_iter().enumerate() {
            incoming.push(IncomingClaim {
                poly: first + h,
                head_vars: 1,
                point: vec![c],
                coeff,
                fixed_head: Some(constant_head()),
            });
        }
    }
    (terms, masked, incoming)
}

/// Which of a tree's layer-`(k + 1)` halves `mles = [p0, p1, q0, q1]` are
/// read masked: all four in the middle of the tree; at its leaves, a
/// witness's `q` halves (through its columns' masks) and a table's `p`
/// halves (its multiplicities'); none committed here (`poly: None`: the
/// leaf claims become claims on the caller's `W`s, [`w_claims`]).
fn masked_halves(depth: usize, is_table: bool, k: usize, mles: [usize; 4]) -> Vec<MaskedMle> {
    let picked: &[usize] = match (depth > k + 1, is_table) {
        (true, _) => &[0, 1, 2, 3],
        (false, false) => &[2, 3],
        (false, true) => &[0, 1],
    };
    picked
        .iter()
        .map(|&h| MaskedMle {
            mle: mles[h],
            poly: None,
        })
        .collect()
}

/// The [`EvalMask`]s of a tree's leaf halves, in [`masked_halves`]' order:
/// a witness's `q_b` reads `−Σ_c β^c·R_c(b, ·)`, a table's `p_b`
/// (multiplicities) `R_0(b, ·)`.
fn leaf_eval_masks(
    r: &[Vec<F>],
    width: usize,
    is_table: bool,
    k: usize,
    beta: EF,
) -> Vec<EvalMask> {
    // Columns' masks over different numbers of top bits, read over the
    // most: a table over `h` bits is one over `h' ≥ h` bits, tiled.
    let h = r[..width]
        .iter()
        .map(|t| t.len().trailing_zeros() as usize)
        .max()
        .expect("a tree has a column");
    let entry = |c: usize, y: usize| -> EF {
        let hc = r[c].len().trailing_zeros() as usize;
        r[c][y >> (h - hc)].into()
    };
    let half = 1usize << (h - 1);
    (0..2)
        .map(|b| {
            let table: Vec<EF> = (0..half)
                .map(|x| {
                    let y = b * half + x;
                    if is_table {
                        entry(0, y)
                    } else {
                        -(0..width)
                            .rev()
                            .fold(EF::ZERO, |acc, c| acc * beta + entry(c, y))
                    }
                })
                .collect();
            EvalMask::from_ext_table(k, table)
        })
        .collect()
}

/// The leaf claims as claims on the caller's `W`s ([`LookupMasks::
/// committed_column`]): at `(β, μ, r)`, `β = Z(r)/(1 + Z(r))`, the value
/// sent (masked) divided by `1 + Z(r)`.
fn w_claims(claims: &mut [LookupClaims]) -> Result<(), VerifyError> {
    for c in claims.iter_mut() {
        for col in c
            .witnesses
            .iter_mut()
            .chain(std::iter::once(&mut c.multiplicities))
        {
            let z = vanishing_eval(&col.point[1..]);
            let norm = (EF::ONE + z)
                .try_inverse()
                .ok_or_else(|| VerifyError::Sumcheck("leaf claim: 1 + Z(r) vanishes".into()))?;
            col.point.insert(0, z * norm);
            col.values.iter_mut().for_each(|v| *v *= norm);
        }
    }
    Ok(())
}

/// Layer 1's second batching challenge `ν` (for the claims at `1 − c`).
fn draw_nu(t: &mut Transcript) -> EF {
    t.label(b"logup/zk-layer-one");
    t.challenge_ef()
}

/// `[eq(c, ·), eq(1 − c, ·)]` as tables of one variable.
fn layer_one_eq_tables(c: EF) -> [Mle; 2] {
    [c, EF::ONE - c].map(|z| Mle::Ext(vec![EF::ONE - z, z]))
}

/// A tree's layer `k + 1` as the halves `[p0, p1, q0, q1]` (moved out of
/// the tree; its leaves materialised, as the layer reads them as four
/// tables).
fn take_halves(tree: &mut Tree<'_>, k: usize, alpha: EF) -> [Mle; 4] {
    if k + 1 < tree.depth {
        let h = tree.inner[k + 1].take().expect("layer present");
        let [p0, p1] = h.p;
        let [q0, q1] = h.q;
        return [p0, p1, q0, q1].map(Mle::Ext);
    }
    let size = 1usize << (k + 1);
    let mut p: Vec<F> = match &tree.leaves.p {
        LeafP::Ones => vec![F::ONE; size],
        LeafP::Base(v) => v.clone(),
    };
    p.resize(size, F::ZERO);
    let q: Vec<EF> = match &mut tree.leaves.q {
        LeafQ::Column(w) => (0..size)
            .map(|i| alpha - w.get(i).copied().unwrap_or(F::ZERO))
            .collect(),
        LeafQ::Ext(v) => std::mem::take(v),
    };
    let half = size / 2;
    [
        Mle::Base(p[..half].to_vec()),
        Mle::Base(p[half..].to_vec()),
        Mle::Ext(q[..half].to_vec()),
        Mle::Ext(q[half..].to_vec()),
    ]
}

/// [`prove_many`] for one table.
///
/// # Panics
///
/// As [`prove_many`].
pub fn prove(
    table: &LookupTable,
    witnesses: &[LookupWitness],
    multiplicities: &[F],
    masks: &LookupMasks,
    first_poly: usize,
    transcript: &mut Transcript,
) -> (ZkLookupProof, LookupClaims, Vec<Claim>) {
    let instance = LookupInstance {
        table,
        witnesses,
        multiplicities,
    };
    let (proof, mut claims, mask_claims) = prove_many(&[instance], masks, first_poly, transcript);
    let claims = claims.pop().expect("one instance, one set of claims");
    (proof, claims, mask_claims)
}

/// [`super::prove_many`] in zero knowledge (module doc); the commitment
/// holding [`LookupMasks::tables`] from polynomial `first_poly` on (and the
/// witness columns, each as its [`LookupMasks::committed_column`]) has
/// been absorbed. Returns the proof, the claims on the committed columns'
/// `W`s per table, and the claims to open on the masks' polynomials.
///
/// # Panics
///
/// As [`super::prove_many`], and if `masks` were sampled for other shapes.
pub fn prove_many(
    instances: &[LookupInstance<'_>],
    masks: &LookupMasks,
    first_poly: usize,
    transcript: &mut Transcript,
) -> (ZkLookupProof, Vec<LookupClaims>, Vec<Claim>) {
    assert!(!instances.is_empty(), "logup::zk::prove: no table");
    let shapes: Vec<(usize, Vec<usize>)> = instances
        .iter()
        .map(|i| {
            (
                i.table.len(),
                i.witnesses.iter().map(LookupWitness::len).collect(),
            )
        })
        .collect();
    let shape_refs: Vec<(usize, &[usize])> =
        shapes.iter().map(|(t, l)| (*t, l.as_slice())).collect();
    let depths = depths_of(&shape_refs);
    let is_table = tables_of(&shape_refs);
    let widths: Vec<usize> = instances
        .iter()
        .flat_map(|i| std::iter::repeat_n(i.table.width(), i.witnesses.len()).chain([1]))
        .collect();
    let root_layout = RootLayout::new(
        shapes.iter().map(|(_, l)| l.len() + 1).collect(),
        first_poly,
    );
    let layouts = layouts(&depths, &is_table, root_layout.end());
    assert!(
        masks.depths == depths
            && masks.layers.len() == layouts.len()
            && masks.root.trees.len() == depths.len()
            && masks
                .layers
                .iter()
                .zip(&layouts)
                .all(|((g, h), l)| g.num_vars() == l.num_vars
                    && g.degree() == l.degree
                    && h.len() == l.masked_trees),
        "logup::zk::prove: masks of other shapes"
    );
    for inst in instances {
        super::prover::check_instance(inst);
    }
    absorb_zk_label(transcript);
    let statements: Vec<Statement> = instances.iter().map(Statement::of).collect();
    absorb_statements(transcript, &statements);
    let (alpha, beta) = draw_alpha_beta(transcript);
    let mut trees: Vec<Tree> = Vec::new();
    let mut d = depths.iter();
    for inst in instances {
        for w in inst.witnesses {
            let depth = *d.next().expect("a depth per tree");
            trees.push(witness_tree_of_depth(w, depth, alpha, beta));
        }
        let depth = *d.next().expect("a depth per tree");
        trees.push(table_tree_of_depth(
            inst.table,
            inst.multiplicities,
            depth,
            alpha,
            beta,
        ));
    }
    let layer1: Vec<[EF; 4]> = trees
        .iter()
        .map(|t| [t.top[0], t.top[1], t.top[2], t.top[3]])
        .collect();
    let (root, c, mut mask_claims) = prove_roots(&layer1, &masks.root, &root_layout, transcript);
    let mut walk = Walk::from_layer_one(depths.clone());

    let head = constant_head();
    let mut layers = Vec::with_capacity(layouts.len());
    let mut layer_one_eq = [EF::ZERO; 2];
    for (k, layout) in (1..).zip(&layouts) {
        let active = walk.start_layer(transcript, k);
        let (g, out_masks) = &masks.layers[k - 1];
        let mut middle = out_masks.iter();
        let s_out: Vec<EvalMask> = active
            .iter()
            .flat_map(|&(i, _, _)| {
                if depths[i] > k + 1 {
                    let r = middle.next().expect("a mask per middle tree");
                    r.iter().map(|r| r.eval_mask_at(k, &head)).collect()
                } else {
                    leaf_eval_masks(&masks.leaves[i], widths[i], is_table[i], k, beta)
                }
            })
            .collect();
        let mut mles: Vec<Mle> = Vec::new();
        let (terms, masked, with_r, eq_point) = if k == 1 {
            let nu = draw_nu(transcript);
            let (terms, masked, incoming) =
                layer_one_statement(&root_layout, &active, &depths, &is_table, c, nu);
            mles.extend(layer_one_eq_tables(c));
            let with_r: Vec<(IncomingClaim, &ClaimMask)> = incoming
                .into_iter()
                .zip(masks.root.trees.iter().flatten())
                .collect();
            (terms, masked, with_r, None)
        } else {
            let (terms, masked, incoming) =
                layer_statement(k, &layouts, &active, &depths, &is_table, walk.point());
            let with_r: Vec<(IncomingClaim, &ClaimMask)> = incoming
                .into_iter()
                .zip(masks.layers[k - 2].1.iter().flatten())
                .collect();
            (terms, masked, with_r, Some(walk.point()))
        };
        let masked: Vec<(MaskedMle, &EvalMask)> = masked.into_iter().zip(&s_out).collect();
        mles.extend(
            active
                .iter()
                .flat_map(|&(i, _, _)| take_halves(&mut trees[i], k, alpha)),
        );
        let poly = SumOfProducts {
            num_vars: k,
            mles,
            terms,
        };
        let out = masked_eval::prove_with_incoming(
            poly,
            eq_point,
            &masked,
            &with_r,
            g,
            layout.mask_poly,
            transcript,
        );
        let skip = if k == 1 { 2 } else { 0 };
        if k == 1 {
            layer_one_eq = [out.zk.final_evals[0], out.zk.final_evals[1]];
        }
        let evals: Vec<[EF; 4]> = out.zk.final_evals[skip..]
            .chunks(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect();
        walk.finish_layer(transcript, k, &evals, &out.zk.point);
        mask_claims.extend(out.zk.mask_claims);
        mask_claims.extend(out.r_claims);
        layers.push(MaskedLayerProof {
            sumcheck: out.zk.proof,
            evals,
            r_values: out.r_values,
        });
    }
    let (witness_evals, mut claims) =
        leaf_claims(instances, &mut walk, alpha, beta, &|tree, col, pt| {
            masks.leaf_mask(tree, col, pt)
        });
    absorb_witness_evals(transcript, &witness_evals);
    w_claims(&mut claims).expect("1 + Z(r) vanishes (probability 1/|EF|)");
    let proof = ZkLookupProof {
        root,
        layer_one_eq,
        layers,
        witness_evals,
    };
    (proof, claims, mask_claims)
}

/// [`verify_many`] for one table.
pub fn verify(
    table: &LookupTable,
    witness_lens: &[usize],
    proof: &ZkLookupProof,
    first_poly: usize,
    transcript: &mut Transcript,
) -> Result<(LookupClaims, Vec<Claim>), VerifyError> {
    let (mut claims, mask_claims) =
        verify_many(&[(table, witness_lens)], proof, first_poly, transcript)?;
    let claims = claims.pop().expect("one instance, one set of claims");
    Ok((claims, mask_claims))
}

/// Verifies a [`prove_many`] proof, the masks' commitment absorbed.
/// Returns the claims on the committed columns' `W`s per table and the
/// claims on the masks' polynomials (the caller verifies one opening of
/// all of them).
pub fn verify_many(
    instances: &[(&LookupTable, &[usize])],
    proof: &ZkLookupProof,
    first_poly: usize,
    transcript: &mut Transcript,
) -> Result<(Vec<LookupClaims>, Vec<Claim>), VerifyError> {
    let malformed = |s: &str| VerifyError::Malformed(format!("zk lookup proof: {s}"));
    check_sent_shapes(instances, None, &proof.witness_evals)?;
    let shapes: Vec<(usize, &[usize])> = instances.iter().map(|(t, l)| (t.len(), *l)).collect();
    let depths = depths_of(&shapes);
    let is_table = tables_of(&shapes);
    let root_layout = RootLayout::new(
        instances.iter().map(|(_, l)| l.len() + 1).collect(),
        first_poly,
    );
    let layouts = layouts(&depths, &is_table, root_layout.end());
    if proof.layers.len() != layouts.len() {
        return Err(malformed("wrong number of layers"));
    }
    absorb_zk_label(transcript);
    let statements: Vec<Statement> = instances
        .iter()
        .map(|(table, lens)| Statement {
            width: table.width(),
            table_len: table.len(),
            witness_lens: lens.to_vec(),
        })
        .collect();
    absorb_statements(transcript, &statements);
    let (alpha, beta) = draw_alpha_beta(transcript);
    let (c, mut mask_claims) = verify_roots(&proof.root, &root_layout, transcript)?;
    let mut walk = Walk::from_layer_one(depths.clone());

    for ((k, layout), layer) in (1..).zip(&layouts).zip(&proof.layers) {
        let active = walk.start_layer(transcript, k);
        if layer.evals.len() != active.len() {
            return Err(malformed("layer evaluations of wrong count"));
        }
        let mut final_evals: Vec<EF> = Vec::with_capacity(4 * active.len() + 2);
        let (claimed, terms, masked, incoming, eq_point) = if k == 1 {
            let nu = draw_nu(transcript);
            let claimed: EF = active
                .iter()
                .map(|&(i, cp, cq)| {
                    let e = &proof.root.evals[i];
                    cp * e[0] + cq * e[1] + cq * nu * e[2]
                })
                .sum();
            let (terms, masked, incoming) =
                layer_one_statement(&root_layout, &active, &depths, &is_table, c, nu);
            final_evals.extend(proof.layer_one_eq);
            (claimed, terms, masked, incoming, None)
        } else {
            let claimed: EF = active
                .iter()
                .map(|&(i, cp, cq)| {
                    let (p, q) = walk.claim(i);
                    cp * p + cq * q
                })
                .sum();
            let (terms, masked, incoming) =
                layer_statement(k, &layouts, &active, &depths, &is_table, walk.point());
            (claimed, terms, masked, incoming, Some(walk.point()))
        };
        final_evals.extend(layer.evals.iter().flatten());
        let statement = MaskedStatement {
            num_vars: k,
            terms: &terms,
            masked: &masked,
            eq_point,
            incoming: &incoming,
        };
        let sent = MaskedEvals {
            final_evals: &final_evals,
            r_values: &layer.r_values,
        };
        let sub = masked_eval::verify_with_incoming(
            &statement,
            claimed,
            &layer.sumcheck,
            &sent,
            layout.mask_poly,
            transcript,
        )?;
        if k == 1 {
            let r = &sub.point;
            let expected = [eq_eval(&[c], r), eq_eval(&[EF::ONE - c], r)];
            if proof.layer_one_eq != expected {
                return Err(VerifyError::Lookup(
                    "layer 1: eq weights are not eq(c, r), eq(1 − c, r)".into(),
                ));
            }
        }
        walk.finish_layer(transcript, k, &layer.evals, &sub.point);
        mask_claims.extend(sub.mask_claims);
        mask_claims.extend(sub.r_claims);
    }
    let mut claims = check_leaves(instances, &mut walk, &proof.witness_evals, alpha, beta)?;
    absorb_witness_evals(transcript, &proof.witness_evals);
    w_claims(&mut claims)?;
    Ok((claims, mask_claims))
}

/// Separates the zero-knowledge transcript from the plain one's.
fn absorb_zk_label(t: &mut Transcript) {
    t.label(b"logup/zk");
}

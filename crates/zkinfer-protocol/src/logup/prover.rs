//! The LogUp prover.
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

use crate::field::{Field, PrimeCharacteristicRing, EF, F};
use crate::mle::num_vars_for;
use crate::sumcheck::{self, Mle, SumOfProducts, Term};
use crate::transcript::Transcript;

use super::transcript::{
    absorb_statements, absorb_tops, absorb_witness_evals, draw_alpha_beta, Statement, Walk,
};
use super::tree::{table_tree, witness_tree, Halves, LeafP, LeafQ, Tree};
use super::{
    evaluate_col, phi, ColumnClaims, LayerProof, LookupClaims, LookupInstance, LookupProof,
    LookupTable, LookupWitness,
};

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
    let (proof, mut claims) = prove_many(
        &[LookupInstance {
            table,
            witnesses,
            multiplicities,
        }],
        transcript,
    );
    (
        proof,
        claims.pop().expect("one instance, one set of claims"),
    )
}

/// Several tables' lookups in **one** LogUp-GKR proof: one `(α, β)`, one
/// root equation per table, and every table's trees aligned at the root in
/// one batched sumcheck per layer — a model with dozens of small tables pays
/// one GKR instead of one each. Returns the claims per table, in order.
///
/// # Panics
/// As [`prove`], for any instance, or if `instances` is empty.
pub fn prove_many(
    instances: &[LookupInstance<'_>],
    transcript: &mut Transcript,
) -> (LookupProof, Vec<LookupClaims>) {
    let run = prove_gkr(instances, transcript, |_, point, poly, t| {
        let out = sumcheck::prove_eq_weighted(point, poly, t);
        (out.proof, out.point, out.final_evals)
    });
    let layers = run
        .layers
        .into_iter()
        .map(|(sumcheck, evals)| LayerProof { sumcheck, evals })
        .collect();
    let proof = LookupProof {
        tops: run.tops,
        layers,
        witness_evals: run.witness_evals,
    };
    (proof, run.claims)
}

/// What [`prove_gkr`] sends and returns, the layer sumchecks' proofs of type `L`.
pub(super) struct GkrRun<L> {
    pub tops: Vec<Vec<EF>>,
    /// Per layer: its sumcheck's proof and the `[p0, p1, q0, q1]` per tree.
    pub layers: Vec<(L, Vec<[EF; 4]>)>,
    pub witness_evals: Vec<Vec<EF>>,
    /// Per instance.
    pub claims: Vec<LookupClaims>,
}

/// The LogUp-GKR prover with each layer's sumcheck left to `layer_sumcheck`:
/// given `k`, the layer's eq point and the polynomial, it proves
/// `Σ_x eq(point, x)·poly(x)` on the transcript and returns its proof, its
/// final point and the polynomial's tables there. The plain and the
/// zero-knowledge provers differ only in it.
pub(super) fn prove_gkr<L>(
    instances: &[LookupInstance<'_>],
    transcript: &mut Transcript,
    mut layer_sumcheck: impl FnMut(
        usize,
        &[EF],
        SumOfProducts,
        &mut Transcript,
    ) -> (L, Vec<EF>, Vec<EF>),
) -> GkrRun<L> {
    assert!(!instances.is_empty(), "logup::prove: no table");
    for inst in instances {
        check_instance(inst);
    }
    let statements: Vec<Statement> = instances.iter().map(Statement::of).collect();
    absorb_statements(transcript, &statements);
    let (alpha, beta) = draw_alpha_beta(transcript);

    // Trees: per instance, its witnesses, then its table.
    let mut trees: Vec<Tree> = Vec::new();
    for inst in instances {
        trees.extend(inst.witnesses.iter().map(|w| witness_tree(w, alpha, beta)));
        trees.push(table_tree(inst.table, inst.multiplicities, alpha, beta));
    }
    let depths: Vec<usize> = trees.iter().map(|t| t.depth).collect();

    let tops: Vec<Vec<EF>> = trees.iter().map(|t| t.top.clone()).collect();
    absorb_tops(transcript, &tops);
    let mut walk = Walk::start(transcript, depths, &tops);
    let max_depth = walk.max_depth();

    let mut layers = Vec::with_capacity(max_depth.saturating_sub(1));
    for k in 1..max_depth {
        let mut layer_poly = LayerPoly::default();
        for (i, cp, cq) in walk.start_layer(transcript, k) {
            layer_poly.push_tree(&mut trees[i], k, alpha, cp, cq);
        }
        let (poly, forms) = layer_poly.into_poly(k);
        let (proof, point, final_evals) = layer_sumcheck(k, walk.point(), poly, transcript);
        let evals: Vec<[EF; 4]> = forms
            .iter()
            .map(|f| f.clone().map(|a| a.eval(&final_evals)))
            .collect();
        walk.finish_layer(transcript, k, &evals, &point);
        layers.push((proof, evals));
    }

    let (witness_evals, claims) =
        leaf_claims(instances, &mut walk, alpha, beta, &|_, _, _| EF::ZERO);
    absorb_witness_evals(transcript, &witness_evals);
    GkrRun {
        tops,
        layers,
        witness_evals,
        claims,
    }
}

/// The witness column evaluations at the leaf points (step 6's values) and
/// the claims per table, once the walk is over. The last column follows
/// from the q-claim `α − φ(values)`, so one evaluation is saved per witness.
///
/// `mask(tree, column, point)` is added to every column evaluated here (the
/// zero-knowledge prover's leaf masks; zero for the plain one): the last
/// column, derived from the q-claim, carries its mask already.
pub(super) fn leaf_claims(
    instances: &[LookupInstance<'_>],
    walk: &mut Walk,
    alpha: EF,
    beta: EF,
    mask: &dyn Fn(usize, usize, &[EF]) -> EF,
) -> (Vec<Vec<EF>>, Vec<LookupClaims>) {
    let beta_inv = beta.try_inverse();
    let mut witness_claims: Vec<Vec<ColumnClaims>> = Vec::with_capacity(instances.len());
    let mut tree = 0;
    for inst in instances {
        let mut claims = Vec::with_capacity(inst.witnesses.len());
        for w in inst.witnesses {
            let (pt, _, q_claim) = walk.take_leaf(tree);
            let width = w.columns.len();
            let mut values: Vec<EF> = w.columns[..width - 1]
                .iter()
                .enumerate()
                .map(|(c, col)| evaluate_col(col, &pt) + mask(tree, c, &pt))
                .collect();
            let last = match (width, beta_inv) {
                (1, _) => alpha - q_claim,
                (_, Some(inv)) => {
                    (alpha - q_claim - phi(&values, beta)) * inv.exp_u64(width as u64 - 1)
                }
                (_, None) => evaluate_col(&w.columns[width - 1], &pt) + mask(tree, width - 1, &pt),
            };
            tree += 1;
            values.push(last);
            claims.push(ColumnClaims { point: pt, values });
        }
        tree += 1; // the table's tree
        witness_claims.push(claims);
    }
    let witness_evals: Vec<Vec<EF>> = witness_claims
        .iter()
        .flatten()
        .map(|c| c.values.clone())
        .collect();

    let mut claims = Vec::with_capacity(instances.len());
    let mut tree = 0;
    for (inst, witnesses) in instances.iter().zip(witness_claims) {
        tree += inst.witnesses.len();
        let (m_point, m_value, _) = walk.take_leaf(tree);
        tree += 1;
        claims.push(LookupClaims {
            witnesses,
            multiplicities: ColumnClaims {
                point: m_point,
                values: vec![m_value],
            },
        });
    }
    (witness_evals, claims)
}

/// The shape checks behind [`prove`]'s panics.
pub(super) fn check_instance(inst: &LookupInstance<'_>) {
    let table = inst.table;
    if let Err(e) = table.check_shape() {
        panic!("logup::prove: {e}");
    }
    // Committed multiplicities may come padded (what a caller commits).
    assert!(
        inst.multiplicities.len() == table.len()
            || inst.multiplicities.len() == 1 << num_vars_for(table.len()),
        "logup::prove: multiplicities length"
    );
    for (i, w) in inst.witnesses.iter().enumerate() {
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
}

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

//! The transcript steps of the module doc's "Transcript order", one function
//! each, and the walk from the roots to the leaves (steps 4–5) that prover and
//! verifier share, so the two sides cannot drift apart.

use crate::field::PrimeCharacteristicRing;
use crate::transcript::Transcript;
use crate::EF;

/// What step 1 absorbs of one table's lookups.
pub(super) struct Statement {
    pub width: usize,
    pub table_len: usize,
    pub witness_lens: Vec<usize>,
}

impl Statement {
    pub(super) fn of(inst: &super::LookupInstance<'_>) -> Self {
        Self {
            width: inst.table.width(),
            table_len: inst.table.len(),
            witness_lens: inst
                .witnesses
                .iter()
                .map(super::LookupWitness::len)
                .collect(),
        }
    }
}

/// Step 1. One table absorbs exactly what a single-table proof always did;
/// several are preceded by their count.
pub(super) fn absorb_statements(t: &mut Transcript, statements: &[Statement]) {
    if statements.len() != 1 {
        t.label(b"logup/many");
        t.absorb_u64(statements.len() as u64);
    }
    for s in statements {
        t.label(b"logup/v1");
        t.absorb_u64(s.width as u64);
        t.absorb_u64(s.table_len as u64);
        t.absorb_u64(s.witness_lens.len() as u64);
        for &l in &s.witness_lens {
            t.absorb_u64(l as u64);
        }
    }
}

/// Step 2; returns `(α, β)`.
pub(super) fn draw_alpha_beta(t: &mut Transcript) -> (EF, EF) {
    t.label(b"logup/challenges");
    let beta = t.challenge_ef();
    let alpha = t.challenge_ef();
    (alpha, beta)
}

/// Step 3 (the verifier checks the root equation after it).
pub(super) fn absorb_tops(t: &mut Transcript, tops: &[Vec<EF>]) {
    t.label(b"logup/tops");
    for top in tops {
        t.absorb_efs(top);
    }
}

/// Step 5, before layer `k`'s sumcheck: `λ`.
pub(super) fn draw_layer_lambda(t: &mut Transcript, k: usize) -> EF {
    t.label(b"logup/layer");
    t.absorb_u64(k as u64);
    t.challenge_ef()
}

/// Step 5, after layer `k`'s sumcheck (then [`Walk::descend`] draws `μ`).
fn absorb_layer_evals(t: &mut Transcript, evals: &[[EF; 4]]) {
    t.label(b"logup/layer-evals");
    t.absorb_u64(evals.len() as u64);
    for e in evals {
        for &x in e {
            t.absorb_ef(x);
        }
    }
}

/// Step 6.
pub(super) fn absorb_witness_evals(t: &mut Transcript, evals: &[Vec<EF>]) {
    t.label(b"logup/witness-evals");
    for e in evals {
        t.absorb_efs(e);
    }
}

/// The claims both sides hold while walking the trees from the roots to the
/// leaves (steps 4–5): trees in order (witnesses, then the table), the layer
/// point, each tree's current `(p, q)` claim and, once reached, its leaf.
pub(super) struct Walk {
    depths: Vec<usize>,
    /// The current point (`k` coordinates at layer `k`).
    point: Vec<EF>,
    /// Current `(p, q)` claim per tree.
    claims: Vec<(EF, EF)>,
    /// Each tree's leaf `(point, p, q)` once reached.
    leaves: Vec<Option<(Vec<EF>, EF, EF)>>,
}

impl Walk {
    /// Step 4, after the tops (step 3): a tree of depth 0 is its own leaf; if
    /// some tree has depth `≥ 1`, draws `μ_0` and folds the tops at `(μ_0)`.
    pub(super) fn start(t: &mut Transcript, depths: Vec<usize>, tops: &[Vec<EF>]) -> Self {
        let n_trees = depths.len();
        let mut leaves: Vec<Option<(Vec<EF>, EF, EF)>> = vec![None; n_trees];
        for (i, top) in tops.iter().enumerate() {
            if depths[i] == 0 {
                leaves[i] = Some((vec![], top[0], top[1]));
            }
        }
        let mut walk = Self {
            depths,
            point: vec![],
            claims: vec![(EF::ZERO, EF::ZERO); n_trees],
            leaves,
        };
        if walk.max_depth() >= 1 {
            let tops: Vec<&[EF]> = walk.active(0).iter().map(|&i| &tops[i][..]).collect();
            walk.descend(t, 0, &tops, &[]);
        }
        walk
    }

    /// A walk whose layer-1 claims are not the tops' (the zero-knowledge
    /// root step proves them): no `μ_0`, every tree of depth `≥ 2`.
    pub(super) fn from_layer_one(depths: Vec<usize>) -> Self {
        assert!(depths.iter().all(|&d| d >= 2), "every tree has a layer 1");
        let n_trees = depths.len();
        Self {
            depths,
            point: vec![],
            claims: vec![(EF::ZERO, EF::ZERO); n_trees],
            leaves: vec![None; n_trees],
        }
    }

    pub(super) fn max_depth(&self) -> usize {
        self.depths.iter().copied().max().unwrap_or(0)
    }

    /// The trees deeper than `k`: those in layer `k`'s sumcheck, in tree order.
    pub(super) fn active(&self, k: usize) -> Vec<usize> {
        (0..self.depths.len())
            .filter(|&i| self.depths[i] > k)
            .collect()
    }

    pub(super) fn point(&self) -> &[EF] {
        &self.point
    }

    pub(super) fn claim(&self, i: usize) -> (EF, EF) {
        self.claims[i]
    }

    /// Step 5, the start of layer `k ≥ 1`: draws `λ`; returns the trees in
    /// the layer's sumcheck ([`Walk::active`]), the `j`-th with the weights
    /// `(λ^{2j}, λ^{2j+1})` of its `p`- and `q`-claim.
    pub(super) fn start_layer(&self, t: &mut Transcript, k: usize) -> Vec<(usize, EF, EF)> {
        let lambda = draw_layer_lambda(t, k);
        let mut coeff = EF::ONE;
        self.active(k)
            .into_iter()
            .map(|i| {
                let (cp, cq) = (coeff, coeff * lambda);
                coeff = cq * lambda;
                (i, cp, cq)
            })
            .collect()
    }

    /// Step 5, the end of layer `k ≥ 1`: absorbs the `[p0, p1, q0, q1]` of the
    /// active trees at the sumcheck point `rho`, then [`Walk::descend`]s.
    pub(super) fn finish_layer(
        &mut self,
        t: &mut Transcript,
        k: usize,
        evals: &[[EF; 4]],
        rho: &[EF],
    ) {
        absorb_layer_evals(t, evals);
        self.descend(t, k, evals, rho);
    }

    /// Draws `μ`; the next point is `(μ, rho)`, and each tree deeper than `k`
    /// gets its `[p0, p1, q0, q1]` folded at `μ` as its claims (its leaf
    /// claims if its depth is `k + 1`).
    fn descend<E: AsRef<[EF]>>(&mut self, t: &mut Transcript, k: usize, evals: &[E], rho: &[EF]) {
        let mu = t.challenge_ef();
        self.point = std::iter::once(mu).chain(rho.iter().copied()).collect();
        for (i, e) in self.active(k).into_iter().zip(evals) {
            let e = e.as_ref();
            self.claims[i] = (lerp(e[0], e[1], mu), lerp(e[2], e[3], mu));
            if self.depths[i] == k + 1 {
                self.leaves[i] = Some((self.point.clone(), self.claims[i].0, self.claims[i].1));
            }
        }
    }

    /// Tree `i`'s leaf `(point, p-claim, q-claim)`, once the walk is over.
    pub(super) fn take_leaf(&mut self, i: usize) -> (Vec<EF>, EF, EF) {
        self.leaves[i]
            .take()
            .expect("every tree reaches its leaves")
    }
}

/// `(1 − μ) lo + μ hi`.
pub(super) fn lerp(lo: EF, hi: EF, mu: EF) -> EF {
    lo + mu * (hi - lo)
}

//! A masked LogUp-GKR layer: completeness over two chained layers,
//! soundness, and its simulator (issue 16's acceptance for one layer).
//!
//! The simulator sees the incoming (masked) claim and the verifier's
//! challenges `μ, λ, ρ, r` only. A real view is uniform on the views that
//! satisfy the verifier's relations: the masked halves are uniform (`S` of
//! the next layer's halves), the `R(r'_head, c_0)` are uniform and
//! independent of the incoming claim (`c_0 ≠ 1/2`), and given those the
//! sumcheck part is the zero-knowledge sumcheck's (uniform subject to the
//! round sums and the final value, `sumcheck/zk/simulator_tests.rs`).

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::super::transcript::draw_layer_lambda;
use super::layer::layer_statement_at;
use super::*;
use crate::field::{random_ef, Field, PrimeCharacteristicRing};
use crate::mle::{eq_eval, evaluate_ext};
use crate::sumcheck::zk::masked_eval::{vanishing_eval, ClaimMask};
use crate::sumcheck::zk::{absorb_zk_header, ZkSumcheckProof};
use crate::sumcheck::{combine, interpolate, Mle, SumOfProducts, SumcheckProof};
use crate::test_support::{assert_indistinguishable, coordinates};

const K: usize = 3;
const TREES: usize = 2;
const H: usize = 1;

/// `(p, q)` of layer `l` of each tree for `l = K, K + 1, K + 2`: the
/// deepest random, the others by the GKR relation.
struct Trees {
    layers: Vec<Vec<(Vec<EF>, Vec<EF>)>>,
}

fn parent(p: &[EF], q: &[EF]) -> (Vec<EF>, Vec<EF>) {
    let h = p.len() / 2;
    (
        (0..h).map(|x| p[x] * q[h + x] + p[h + x] * q[x]).collect(),
        (0..h).map(|x| q[x] * q[h + x]).collect(),
    )
}

fn trees(seed: u64) -> Trees {
    let mut rng = StdRng::seed_from_u64(seed);
    let layers = (0..TREES)
        .map(|_| {
            let n = 1 << (K + 2);
            let deep: (Vec<EF>, Vec<EF>) = (
                (0..n).map(|_| random_ef(&mut rng)).collect(),
                (0..n).map(|_| random_ef(&mut rng)).collect(),
            );
            let mid = parent(&deep.0, &deep.1);
            let top = parent(&mid.0, &mid.1);
            vec![top, mid, deep]
        })
        .collect();
    Trees { layers }
}

impl Trees {
    /// Tree `i`'s layer `K + d` as halves `[p0, p1, q0, q1]`.
    fn halves(&self, i: usize, d: usize) -> [Vec<EF>; 4] {
        let (p, q) = &self.layers[i][d];
        let h = p.len() / 2;
        [
            p[..h].to_vec(),
            p[h..].to_vec(),
            q[..h].to_vec(),
            q[h..].to_vec(),
        ]
    }

    fn all_halves(&self, d: usize) -> Vec<[Vec<EF>; 4]> {
        (0..TREES).map(|i| self.halves(i, d)).collect()
    }

    /// The unmasked halves of layer `K + d` at `point`, per tree.
    fn evals(&self, d: usize, point: &[EF]) -> Vec<[EF; 4]> {
        (0..TREES)
            .map(|i| self.halves(i, d).map(|t| evaluate_ext(&t, point)))
            .collect()
    }
}

fn half_masks(rng: &mut StdRng) -> Vec<HalfMasks> {
    (0..TREES)
        .map(|_| [(); 4].map(|_| ClaimMask::random(H, rng)))
        .collect()
}

/// `V̇(point)` of each half, as the layer above sent it.
fn masked(evals: &[[EF; 4]], masks: &[HalfMasks], point: &[EF]) -> Vec<[EF; 4]> {
    let z = vanishing_eval(point);
    evals
        .iter()
        .zip(masks)
        .map(|(e, m)| {
            let mut out = *e;
            for (o, r) in out.iter_mut().zip(m) {
                *o += z * (r.eval(point, EF::ZERO) + r.eval(point, EF::ONE));
            }
            out
        })
        .collect()
}

const LAYOUT: LayerLayout = LayerLayout {
    mask_poly: 0,
    incoming_poly: 1,
    head_vars: H,
};

/// One layer-`K` run: the statement (what the layer above sent, absorbed
/// by it) and the masks.
struct Setup {
    trees: Trees,
    incoming: MaskedLayerClaims,
    in_masks: Vec<HalfMasks>,
    out_masks: Vec<HalfMasks>,
    g: MaskPolynomial,
}

fn setup(tree_seed: u64, mask_seed: u64) -> Setup {
    let trees = trees(tree_seed);
    let mut rng = StdRng::seed_from_u64(mask_seed);
    let point: Vec<EF> = {
        let mut fixed = StdRng::seed_from_u64(tree_seed + 1000);
        (0..K - 1).map(|_| random_ef(&mut fixed)).collect()
    };
    let in_masks = half_masks(&mut rng);
    let out_masks = half_masks(&mut rng);
    let g = MaskPolynomial::random(K, MASKED_LAYER_DEGREE, &mut rng);
    let incoming = MaskedLayerClaims {
        evals: masked(&trees.evals(0, &point), &in_masks, &point),
        point,
    };
    Setup {
        trees,
        incoming,
        in_masks,
        out_masks,
        g,
    }
}

/// The transcript as the layer above leaves it.
fn transcript(incoming: &MaskedLayerClaims) -> Transcript {
    let mut t = Transcript::new(b"masked-layer");
    t.label(b"test/layer-above");
    t.absorb_efs(&incoming.point);
    for e in &incoming.evals {
        t.absorb_efs(e);
    }
    t
}

fn prove_layer(s: &Setup) -> (MaskedLayerProof, MaskedLayerClaims, Vec<Claim>) {
    prove_masked_layer(
        K,
        &s.incoming,
        &s.in_masks,
        s.trees.all_halves(1),
        &s.out_masks,
        &s.g,
        &LAYOUT,
        &mut transcript(&s.incoming),
    )
}

fn verify_layer(
    incoming: &MaskedLayerClaims,
    proof: &MaskedLayerProof,
) -> Result<(MaskedLayerClaims, Vec<Claim>), VerifyError> {
    verify_masked_layer(K, incoming, proof, &LAYOUT, &mut transcript(incoming))
}

/// The opening's checks on the tables: `g` at `layout.mask_poly`, the
/// incoming `R`s after it.
fn claims_hold(
    claims: &[Claim],
    layout: &LayerLayout,
    g: &MaskPolynomial,
    r: &[HalfMasks],
) -> bool {
    claims.iter().all(|c| {
        let table = if c.poly == layout.mask_poly {
            g.table()
        } else {
            let j = c.poly - layout.incoming_poly;
            r[j / 4][j % 4].table().to_vec()
        };
        crate::mle::evaluate_base(&table, &c.point) == c.value
    })
}

#[test]
fn two_masked_layers_chain_and_verify() {
    let s = setup(1, 2);
    let (proof, next, claims) = prove_layer(&s);
    let (v_next, v_claims) = verify_layer(&s.incoming, &proof).expect("honest layer");
    assert_eq!((&v_next, &v_claims), (&next, &claims));
    assert!(claims_hold(&claims, &LAYOUT, &s.g, &s.in_masks));
    assert_eq!(claims.len(), K + 4 * TREES, "g_i(r_i), R per half");
    // The layer sent the masked halves of layer K + 1, never the tree's.
    let truth = s.trees.evals(1, &next.point);
    assert_eq!(next.evals, masked(&truth, &s.out_masks, &next.point));
    assert!(next
        .evals
        .iter()
        .flatten()
        .zip(truth.iter().flatten())
        .all(|(a, b)| a != b));

    // Layer K + 1 proves those masked claims; its incoming R are layer K's
    // outgoing ones.
    let mut rng = StdRng::seed_from_u64(3);
    let deeper_masks = half_masks(&mut rng);
    let g2 = MaskPolynomial::random(K + 1, MASKED_LAYER_DEGREE, &mut rng);
    let layout2 = LayerLayout {
        mask_poly: 20,
        incoming_poly: 21,
        head_vars: H,
    };
    let mut t = transcript(&s.incoming);
    let _ = prove_masked_layer(
        K,
        &s.incoming,
        &s.in_masks,
        s.trees.all_halves(1),
        &s.out_masks,
        &s.g,
        &LAYOUT,
        &mut t,
    );
    let mut vt = t.clone();
    let deepest: Vec<[Vec<EF>; 4]> = (0..TREES)
        .map(|i| {
            let (p, q) = &s.trees.layers[i][2];
            let h = p.len() / 2;
            [
                p[..h].to_vec(),
                p[h..].to_vec(),
                q[..h].to_vec(),
                q[h..].to_vec(),
            ]
        })
        .collect();
    let (proof2, next2, claims2) = prove_masked_layer(
        K + 1,
        &next,
        &s.out_masks,
        deepest,
        &deeper_masks,
        &g2,
        &layout2,
        &mut t,
    );
    let (v_next2, v_claims2) =
        verify_masked_layer(K + 1, &next, &proof2, &layout2, &mut vt).expect("layer K + 1");
    assert_eq!((&v_next2, &v_claims2), (&next2, &claims2));
    assert!(claims_hold(&claims2, &layout2, &g2, &s.out_masks));
}

#[test]
fn false_claims_and_tampered_layers_are_rejected() {
    let s = setup(4, 5);
    let (proof, _, _) = prove_layer(&s);
    // A false incoming claim, under the honest prover.
    for i in 0..TREES {
        for j in 0..4 {
            let mut wrong = s.incoming.clone();
            wrong.evals[i][j] += EF::ONE;
            assert!(verify_layer(&wrong, &proof).is_err(), "incoming {i} {j}");
        }
    }
    // The layer below does not produce the claimed layer: another tree.
    let other = Setup {
        trees: trees(6),
        ..setup(4, 5)
    };
    let (proof_other, _, _) = prove_layer(&other);
    assert!(matches!(
        verify_layer(&s.incoming, &proof_other),
        Err(VerifyError::Sumcheck(_))
    ));
    // Every sent value changed.
    let mut tampered = Vec::new();
    let mut p = proof.clone();
    p.sumcheck.mask_sum += EF::ONE;
    tampered.push(p);
    for i in 0..K {
        for c in 0..=MASKED_LAYER_DEGREE {
            let mut p = proof.clone();
            p.sumcheck.sumcheck.round_polys[i][c] += EF::ONE;
            tampered.push(p);
        }
        let mut p = proof.clone();
        p.sumcheck.mask_evals[i] += EF::ONE;
        tampered.push(p);
    }
    for i in 0..TREES {
        for j in 0..4 {
            let mut p = proof.clone();
            p.evals[i][j] += EF::ONE;
            tampered.push(p);
        }
    }
    for j in 0..4 * TREES {
        let mut p = proof.clone();
        p.r_values[j] += EF::ONE;
        tampered.push(p);
    }
    for (n, p) in tampered.iter().enumerate() {
        assert!(verify_layer(&s.incoming, p).is_err(), "tampered value {n}");
    }
    let mut p = proof.clone();
    p.evals.pop();
    assert!(matches!(
        verify_layer(&s.incoming, &p),
        Err(VerifyError::Malformed(_))
    ));
}

// ---------------------------------------------------------------------------
// The simulator.
// ---------------------------------------------------------------------------

const RUNS: usize = 512;

/// What a verifier sees of one layer: its messages and the challenges.
struct View {
    proof: MaskedLayerProof,
    mu: EF,
    lambda: EF,
    rho: EF,
    point: Vec<EF>,
}

/// A real run with fresh masks; the challenges replayed from the transcript.
fn real_view(s: &Setup) -> View {
    let (proof, next, _) = prove_layer(s);
    let mut t = transcript(&s.incoming);
    let mu = t.challenge_ef();
    let lambda = draw_layer_lambda(&mut t, K);
    let (_, claimed, _, _) = layer_statement_at(&s.incoming, &LAYOUT, mu, lambda);
    let rho = absorb_zk_header(
        &mut t,
        K,
        MASKED_LAYER_DEGREE,
        claimed,
        proof.sumcheck.mask_sum,
    );
    View {
        proof,
        mu,
        lambda,
        rho,
        point: next.point,
    }
}

/// `f'(r)`: the layer polynomial at the final point from the sent masked
/// halves, plus the incoming claims' term from the sent `R` values.
fn final_value(incoming: &MaskedLayerClaims, v: &View) -> EF {
    let (eq_point, _, claims, terms) = layer_statement_at(incoming, &LAYOUT, v.mu, v.lambda);
    let evals: Vec<EF> = v.proof.evals.iter().flatten().copied().collect();
    let e: EF = claims
        .iter()
        .zip(&v.proof.r_values)
        .map(|(c, &r)| c.coeff * vanishing_eval(&c.point) * r)
        .sum();
    let scale = EF::from(F::TWO.exp_u64(K as u64 - 1)).inverse();
    eq_eval(&eq_point, &v.point) * combine(&terms, &evals) + e * scale
}

/// Samples a view from the incoming claim and fresh challenges alone.
fn simulate(incoming: &MaskedLayerClaims, rng: &mut StdRng) -> View {
    let (mu, lambda, rho) = (random_ef(rng), random_ef(rng), random_ef(rng));
    let point: Vec<EF> = (0..K).map(|_| random_ef(rng)).collect();
    let (_, claimed, _, _) = layer_statement_at(incoming, &LAYOUT, mu, lambda);
    let mask_sum = random_ef(rng);
    let mut claim = claimed + rho * mask_sum;
    let mut round_polys = Vec::with_capacity(K);
    for &r in &point {
        let mut p: Vec<EF> = (0..=MASKED_LAYER_DEGREE).map(|_| random_ef(rng)).collect();
        p[1] = claim - p[0];
        claim = interpolate(&p, r);
        round_polys.push(p);
    }
    let mut view = View {
        proof: MaskedLayerProof {
            sumcheck: ZkSumcheckProof {
                mask_sum,
                sumcheck: SumcheckProof { round_polys },
                mask_evals: (0..K).map(|_| random_ef(rng)).collect(),
            },
            evals: (0..TREES)
                .map(|_| [(); 4].map(|_| random_ef(rng)))
                .collect(),
            r_values: (0..4 * TREES).map(|_| random_ef(rng)).collect(),
        },
        mu,
        lambda,
        rho,
        point,
    };
    let f_r = final_value(incoming, &view);
    let evals = &mut view.proof.sumcheck.mask_evals;
    let others: EF = evals[1..].iter().copied().sum();
    evals[0] = (claim - f_r) * rho.inverse() - others;
    view
}

/// The verifier's relations, with the view's own challenges.
fn relations_hold(incoming: &MaskedLayerClaims, v: &View) -> bool {
    let (_, claimed, _, _) = layer_statement_at(incoming, &LAYOUT, v.mu, v.lambda);
    let sc = &v.proof.sumcheck;
    let mut claim = claimed + v.rho * sc.mask_sum;
    for (p, &r) in sc.sumcheck.round_polys.iter().zip(&v.point) {
        if p[0] + p[1] != claim {
            return false;
        }
        claim = interpolate(p, r);
    }
    claim == final_value(incoming, v) + v.rho * sc.mask_evals.iter().copied().sum::<EF>()
}

/// A distinguisher that knows the tree: are the sent halves its values?
fn reveals_the_tree(trees: &Trees, evals: &[[EF; 4]], point: &[EF]) -> bool {
    trees.evals(1, point) == evals
}

/// Every sent element, as base coordinates, in view order.
fn sent(p: &MaskedLayerProof) -> Vec<F> {
    let mut elems = vec![p.sumcheck.mask_sum];
    elems.extend(p.sumcheck.sumcheck.round_polys.iter().flatten());
    elems.extend(&p.sumcheck.mask_evals);
    elems.extend(p.evals.iter().flatten());
    elems.extend(&p.r_values);
    coordinates(&elems)
}

fn sent_runs(views: &[View]) -> Vec<Vec<F>> {
    views.iter().map(|v| sent(&v.proof)).collect()
}

#[test]
fn real_and_simulated_layers_satisfy_the_same_relations() {
    for seed in 0..8 {
        let s = setup(7, 100 + seed);
        let real = real_view(&s);
        assert!(relations_hold(&s.incoming, &real), "real {seed}");
        let sim = simulate(&s.incoming, &mut StdRng::seed_from_u64(200 + seed));
        assert!(relations_hold(&s.incoming, &sim), "simulated {seed}");
        // Another incoming claim breaks the simulated view's relations.
        let mut other = s.incoming.clone();
        other.evals[0][0] += EF::ONE;
        assert!(!relations_hold(&other, &sim));
    }
}

/// Over many runs on one tree, each with fresh masks (so a fresh masked
/// incoming claim), every sent coordinate of the real layers and of the
/// simulator's is uniform and the two are alike; a distinguisher that knows
/// the tree recognises the halves the unmasked zero-knowledge layer
/// (`logup::zk` today) sends in every run, and neither real nor simulated
/// masked layers in any.
#[test]
fn simulated_layers_cannot_be_told_from_real_ones() {
    let setups: Vec<Setup> = (0..RUNS as u64).map(|r| setup(8, 1 << 20 | r)).collect();
    let real: Vec<View> = setups.iter().map(real_view).collect();
    let sim: Vec<View> = setups
        .iter()
        .enumerate()
        .map(|(r, s)| simulate(&s.incoming, &mut StdRng::seed_from_u64(1 << 30 | r as u64)))
        .collect();
    let (real_runs, sim_runs) = (sent_runs(&real), sent_runs(&sim));
    assert_eq!(
        real_runs[0].len(),
        2 * (1 + K * (MASKED_LAYER_DEGREE + 1) + K + 8 * TREES)
    );
    assert_indistinguishable(&real_runs, &sim_runs);
    let trees = &setups[0].trees;
    assert!(real
        .iter()
        .chain(&sim)
        .all(|v| !reveals_the_tree(trees, &v.proof.evals, &v.point)));

    // The same layer with only its rounds masked: its final evaluations are
    // the tree's halves at the point, run after run.
    for s in setups.iter().take(16) {
        let (eq_point, _, _, terms) = layer_statement_at(&s.incoming, &LAYOUT, EF::ONE, EF::TWO);
        let poly = SumOfProducts {
            num_vars: K,
            mles: s
                .trees
                .all_halves(1)
                .into_iter()
                .flatten()
                .map(Mle::Ext)
                .collect(),
            terms,
        };
        let g = MaskPolynomial::random(K, 3, &mut StdRng::seed_from_u64(9));
        let out = crate::sumcheck::zk::prove_eq_weighted(
            &eq_point,
            poly,
            &g,
            0,
            &mut transcript(&s.incoming),
        );
        let evals: Vec<[EF; 4]> = out
            .final_evals
            .chunks(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect();
        assert!(reveals_the_tree(trees, &evals, &out.point));
    }
}

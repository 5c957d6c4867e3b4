//! A simulator for the zero-knowledge LogUp-GKR (issue 16's acceptance,
//! for what this driver masks).
//!
//! The simulator sees the public statement, the values this driver still
//! sends in the clear — the tops, the leaf layer's `[p0, p1, q0, q1]` and
//! the witness evaluations (module doc, "Still in the clear") — and
//! challenges it draws itself. Every other sent value it samples uniformly
//! subject to the verifier's relations, layer by layer, as
//! `layer_tests.rs` does for one layer: the masked halves and the `R(a,
//! c_0)` are uniform (constant masks), and given them each layer's
//! sumcheck view is the zero-knowledge sumcheck's.

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::super::transcript::lerp;
use super::*;
use crate::field::{random_ef, Field};
use crate::mle::eq_eval;
use crate::sumcheck::zk::masked_eval::vanishing_eval;
use crate::sumcheck::zk::ZkSumcheckProof;
use crate::sumcheck::{combine, interpolate, SumcheckProof};
use crate::test_support::{assert_indistinguishable, coordinates};

/// A range table of 16 rows and a witness of 16 rows: two trees of depth
/// 4, layers 1–2 masked, layer 3 their leaves.
fn instance() -> (LookupTable, Vec<LookupWitness>, Vec<F>) {
    let table = LookupTable::range(4);
    let rows: Vec<F> = (0..16u64).map(|i| F::from_u64(i * 7 % 16 / 2)).collect();
    let ws = vec![LookupWitness {
        columns: vec![rows],
    }];
    let m = super::super::multiplicities(&table, &ws).unwrap();
    (table, ws, m)
}

const LENS: [usize; 1] = [16];

fn depths() -> Vec<usize> {
    depths_of(&[(16, &LENS)])
}

fn real_proof(mask_seed: u64) -> ZkLookupProof {
    let (table, ws, m) = instance();
    let masks = LookupMasks::random(&[(16, &LENS)], &mut StdRng::seed_from_u64(mask_seed));
    let mut t = Transcript::new(b"zk-logup-sim");
    t.absorb_u64(mask_seed); // as a fresh commitment would
    prove(&table, &ws, &m, &masks, 0, &mut t).0
}

/// The challenges a view is checked with: `μ_0`, then per layer `λ`, `ρ`,
/// the sumcheck point and the next `μ`.
struct Challenges {
    mu0: EF,
    layers: Vec<(EF, EF, Vec<EF>, EF)>,
}

fn random_challenges(rng: &mut StdRng) -> Challenges {
    let layers = (1..depths().into_iter().max().unwrap())
        .map(|k| {
            let point = (0..k).map(|_| random_ef(rng)).collect();
            (random_ef(rng), random_ef(rng), point, random_ef(rng))
        })
        .collect();
    Challenges {
        mu0: random_ef(rng),
        layers,
    }
}

/// Walks the layers with `ch`, calling `layer(k, claimed, final_rest)` per
/// layer, where `final_rest(evals, r_values)` is the final value less the
/// mask's share: `eq·Σ terms + E`. `layer` returns the layer as sent.
fn walk(
    tops: &[Vec<EF>],
    ch: &Challenges,
    mut layer: impl FnMut(usize, EF, &dyn Fn(&[[EF; 4]], &[EF]) -> EF) -> Option<MaskedLayerProof>,
) -> Option<Vec<MaskedLayerProof>> {
    let depths = depths();
    let layouts = layouts(&depths, 0);
    let mut claims: Vec<(EF, EF)> = tops
        .iter()
        .map(|t| (lerp(t[0], t[1], ch.mu0), lerp(t[2], t[3], ch.mu0)))
        .collect();
    let mut walk_point = vec![ch.mu0];
    let mut out = Vec::new();
    for (k, (lambda, _, point, mu)) in (1..).zip(&ch.layers) {
        let active: Vec<(usize, EF, EF)> = (0..depths.len())
            .filter(|&i| depths[i] > k)
            .scan(EF::ONE, |c, i| {
                let (cp, cq) = (*c, *c * *lambda);
                *c = cq * *lambda;
                Some((i, cp, cq))
            })
            .collect();
        let claimed: EF = active
            .iter()
            .map(|&(i, cp, cq)| cp * claims[i].0 + cq * claims[i].1)
            .sum();
        let (terms, _, incoming) = layer_statement(k, &layouts, &active, &depths, &walk_point);
        let eq = eq_eval(&walk_point, point);
        let rest = |evals: &[[EF; 4]], r_values: &[EF]| {
            let flat: Vec<EF> = evals.iter().flatten().copied().collect();
            let e: EF = incoming
                .iter()
                .zip(r_values)
                .map(|(c, &v)| c.coeff * vanishing_eval(&c.point) * v)
                .sum();
            eq * combine(&terms, &flat) + e * EF::from(F::TWO.exp_u64(k as u64 - 1)).inverse()
        };
        let sent = layer(k, claimed, &rest)?;
        for (&(i, _, _), e) in active.iter().zip(&sent.evals) {
            claims[i] = (lerp(e[0], e[1], *mu), lerp(e[2], e[3], *mu));
        }
        walk_point = std::iter::once(*mu).chain(point.iter().copied()).collect();
        out.push(sent);
    }
    Some(out)
}

/// The verifier's relations on `layers`, with the view's own challenges.
fn relations_hold(tops: &[Vec<EF>], layers: &[MaskedLayerProof], ch: &Challenges) -> bool {
    walk(tops, ch, |k, claimed, rest| {
        let l = &layers[k - 1];
        let (_, rho, point, _) = &ch.layers[k - 1];
        let sc = &l.sumcheck;
        let mut claim = claimed + *rho * sc.mask_sum;
        for (p, &r) in sc.sumcheck.round_polys.iter().zip(point) {
            if p[0] + p[1] != claim {
                return None;
            }
            claim = interpolate(p, r);
        }
        let g: EF = sc.mask_evals.iter().copied().sum();
        (claim == rest(&l.evals, &l.r_values) + *rho * g).then(|| l.clone())
    })
    .is_some()
}

/// A view from the public statement, the values in the clear (`tops`, the
/// leaf layer's halves) and fresh challenges.
fn simulate(
    tops: &[Vec<EF>],
    leaf_evals: &[[EF; 4]],
    rng: &mut StdRng,
) -> (Vec<MaskedLayerProof>, Challenges) {
    let ch = random_challenges(rng);
    let depths = depths();
    let layouts = layouts(&depths, 0);
    let layers = walk(tops, &ch, |k, claimed, rest| {
        let (_, rho, point, _) = &ch.layers[k - 1];
        let l = &layouts[k - 1];
        let active = depths.iter().filter(|&&d| d > k).count();
        let evals: Vec<[EF; 4]> = if l.masked_trees == 0 {
            leaf_evals.to_vec()
        } else {
            (0..active)
                .map(|_| [(); 4].map(|_| random_ef(rng)))
                .collect()
        };
        let r_values: Vec<EF> = (0..if k >= 2 { 4 * active } else { 0 })
            .map(|_| random_ef(rng))
            .collect();
        let mask_sum = random_ef(rng);
        let mut claim = claimed + *rho * mask_sum;
        let mut round_polys = Vec::with_capacity(k);
        for &r in point {
            let mut p: Vec<EF> = (0..=l.degree).map(|_| random_ef(rng)).collect();
            p[1] = claim - p[0];
            claim = interpolate(&p, r);
            round_polys.push(p);
        }
        let mut mask_evals: Vec<EF> = (0..k).map(|_| random_ef(rng)).collect();
        let others: EF = mask_evals[1..].iter().copied().sum();
        mask_evals[0] = (claim - rest(&evals, &r_values)) * rho.inverse() - others;
        Some(MaskedLayerProof {
            sumcheck: ZkSumcheckProof {
                mask_sum,
                sumcheck: SumcheckProof { round_polys },
                mask_evals,
            },
            evals,
            r_values,
        })
    })
    .expect("the simulator satisfies every relation");
    (layers, ch)
}

/// Every sent value the simulator produces, as base coordinates: all but
/// the values in the clear (tops, leaf halves, witness evaluations).
fn hidden(layers: &[MaskedLayerProof]) -> Vec<F> {
    let layouts = layouts(&depths(), 0);
    let mut elems = Vec::new();
    for (l, layout) in layers.iter().zip(&layouts) {
        elems.push(l.sumcheck.mask_sum);
        elems.extend(l.sumcheck.sumcheck.round_polys.iter().flatten());
        elems.extend(&l.sumcheck.mask_evals);
        if layout.masked_trees > 0 {
            elems.extend(l.evals.iter().flatten());
        }
        elems.extend(&l.r_values);
    }
    coordinates(&elems)
}

const RUNS: u64 = 512;

#[test]
fn simulated_lookups_satisfy_the_verifiers_relations() {
    let real = real_proof(1);
    let leaf = &real.layers.last().unwrap().evals;
    for seed in 0..8 {
        let mut rng = StdRng::seed_from_u64(seed);
        let (sim, ch) = simulate(&real.tops, leaf, &mut rng);
        assert!(relations_hold(&real.tops, &sim, &ch));
        // Other tops (another statement's claims) break them.
        let mut tops = real.tops.clone();
        tops[0][0] += EF::ONE;
        assert!(!relations_hold(&tops, &sim, &ch));
    }
}

/// Over many runs on one witness, each with fresh masks, every hidden sent
/// coordinate of the real proofs and of the simulator's is uniform and the
/// two are alike.
#[test]
fn simulated_lookups_cannot_be_told_from_real_ones() {
    let real: Vec<ZkLookupProof> = (0..RUNS).map(|s| real_proof(1 << 20 | s)).collect();
    let sim: Vec<Vec<MaskedLayerProof>> = real
        .iter()
        .enumerate()
        .map(|(r, p)| {
            let leaf = &p.layers.last().unwrap().evals;
            let mut rng = StdRng::seed_from_u64(1 << 30 | r as u64);
            simulate(&p.tops, leaf, &mut rng).0
        })
        .collect();
    let real_runs: Vec<Vec<F>> = real.iter().map(|p| hidden(&p.layers)).collect();
    let sim_runs: Vec<Vec<F>> = sim.iter().map(|l| hidden(l)).collect();
    // Layers 1–3: G, rounds (degree 5, 5, 3), g_i(r_i), masked halves of
    // two trees at layers 1–2, R values at layers 2–3.
    let per_layer = [(1, 5, 8, 0), (2, 5, 8, 8), (3, 3, 0, 8)];
    let width: usize = per_layer
        .iter()
        .map(|&(k, d, e, r)| 1 + k * (d + 1) + k + e + r)
        .sum();
    assert_eq!(real_runs[0].len(), 2 * width);
    assert_indistinguishable(&real_runs, &sim_runs);
}

//! A simulator for the zero-knowledge LogUp-GKR (issue 16's acceptance,
//! for what this driver masks).
//!
//! The simulator sees the public statement (the table, the lengths) and
//! challenges it draws itself. It computes the public leaf halves (a
//! witness's padding indicator, a table's `q`) and samples every other
//! sent value uniformly subject to the verifier's relations: the blinded
//! root fractions uniform with sum 0 per table, the masked halves (leaves
//! included) and the `R(a, c_0)` uniform, and given those each sumcheck's
//! view as the zero-knowledge sumcheck's (`sumcheck/zk/simulator_tests.rs`).
//! The witness evaluations are not simulated separately: they follow from
//! the masked leaf `q` (`α − q̇`).

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::super::transcript::lerp;
use super::roots::{signs, terms as root_terms, ROOT_DEGREE};
use super::*;
use crate::field::{random_ef, Field};
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
const TREES: [usize; 1] = [2];
const IS_TABLE: [bool; 2] = [false, true];

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

/// Per sumcheck: `ρ` and its point; per layer also `λ` and the next `μ`;
/// the root step's `γ`, layer 1's `ν`.
struct Challenges {
    alpha: EF,
    gamma: EF,
    root: (EF, EF),
    nu: EF,
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
        alpha: random_ef(rng),
        gamma: random_ef(rng),
        root: (random_ef(rng), random_ef(rng)),
        nu: random_ef(rng),
        layers,
    }
}

/// What a view sends besides the values in the clear.
#[derive(Clone)]
struct View {
    root: RootProof,
    layer_one_eq: [EF; 2],
    layers: Vec<MaskedLayerProof>,
}

/// One sumcheck, checked or sampled: `(claimed sum, ρ, point, degree)` in,
/// and `rest(evals, r_values)` the final value less the mask's share.
type Step<'a> = dyn FnMut(EF, EF, &[EF], usize, &dyn Fn(&[EF], &[EF]) -> EF) -> Option<()> + 'a;

/// Walks the protocol with `ch` on the sent `view`, calling `step` per
/// sumcheck (the root step, then the layers) on the values `view` holds at
/// that time; `fill(k, view)` runs first at each step (the simulator fills
/// the step's values there, the checker does nothing).
fn walk(
    view: &mut View,
    ch: &Challenges,
    fill: &mut dyn FnMut(usize, &mut View),
    step: &mut Step<'_>,
) -> Option<()> {
    let depths = depths();
    let root_layout = RootLayout::new(TREES.to_vec(), 0);
    let layouts = layouts(&depths, &IS_TABLE, root_layout.end());
    let (rho0, c) = ch.root;
    fill(0, view);
    let signs = signs(&TREES);
    if view.root.blinded.iter().copied().sum::<EF>() != EF::ZERO {
        return None;
    }
    let terms = root_terms(&view.root.blinded, &signs, ch.gamma);
    step(EF::ZERO, rho0, &[c], ROOT_DEGREE, &|e, _| {
        combine(&terms, e)
    })?;
    let mut claims: Vec<(EF, EF)> = vec![(EF::ZERO, EF::ZERO); depths.len()];
    let mut walk_point: Vec<EF> = vec![];
    for (k, (lambda, rho, point, mu)) in (1..).zip(&ch.layers) {
        let active: Vec<(usize, EF, EF)> = (0..depths.len())
            .filter(|&i| depths[i] > k)
            .scan(EF::ONE, |c, i| {
                let (cp, cq) = (*c, *c * *lambda);
                *c = cq * *lambda;
                Some((i, cp, cq))
            })
            .collect();
        fill(k, view);
        if k == 1 && view.layer_one_eq != layer_one_eq(c, point) {
            return None;
        }
        let (claimed, terms, incoming, eq, lead): (EF, _, _, EF, Vec<EF>) = if k == 1 {
            let claimed = active
                .iter()
                .map(|&(i, cp, cq)| {
                    let e = &view.root.evals[i];
                    cp * e[0] + cq * e[1] + cq * ch.nu * e[2]
                })
                .sum();
            let (terms, _, incoming) =
                layer_one_statement(&root_layout, &active, &depths, &IS_TABLE, c, ch.nu);
            (
                claimed,
                terms,
                incoming,
                EF::ONE,
                view.layer_one_eq.to_vec(),
            )
        } else {
            let claimed = active
                .iter()
                .map(|&(i, cp, cq)| cp * claims[i].0 + cq * claims[i].1)
                .sum();
            let (terms, _, incoming) =
                layer_statement(k, &layouts, &active, &depths, &IS_TABLE, &walk_point);
            let eq = crate::mle::eq_eval(&walk_point, point);
            (claimed, terms, incoming, eq, vec![])
        };
        let scale = EF::from(F::TWO.exp_u64(k as u64 - 1)).inverse();
        let rest = |evals: &[EF], r_values: &[EF]| {
            let all: Vec<EF> = lead.iter().chain(evals).copied().collect();
            let e: EF = incoming
                .iter()
                .zip(r_values)
                .map(|(c, &v)| c.coeff * vanishing_eval(&c.point) * v)
                .sum();
            eq * combine(&terms, &all) + e * scale
        };
        step(claimed, *rho, point, layouts[k - 1].degree, &rest)?;
        for (&(i, _, _), e) in active.iter().zip(&view.layers[k - 1].evals) {
            claims[i] = (lerp(e[0], e[1], *mu), lerp(e[2], e[3], *mu));
        }
        walk_point = std::iter::once(*mu).chain(point.iter().copied()).collect();
    }
    Some(())
}

/// Layer 1's eq weights at its point.
fn layer_one_eq(c: EF, point: &[EF]) -> [EF; 2] {
    [
        crate::mle::eq_eval(&[c], point),
        crate::mle::eq_eval(&[EF::ONE - c], point),
    ]
}

/// The sumcheck proof and the sent evaluations of step `s` (0 = root).
fn parts(view: &mut View, s: usize) -> (&mut ZkSumcheckProof, Vec<EF>, Vec<EF>) {
    if s == 0 {
        let evals = view.root.evals.iter().flatten().copied().collect();
        (&mut view.root.sumcheck, evals, vec![])
    } else {
        let l = &mut view.layers[s - 1];
        let evals = l.evals.iter().flatten().copied().collect();
        (&mut l.sumcheck, evals, l.r_values.clone())
    }
}

/// The verifier's relations on `view`, with the view's own challenges.
fn relations_hold(view: &View, ch: &Challenges) -> bool {
    let mut v = view.clone();
    let mut s = 0;
    let checked = view.clone();
    walk(
        &mut v,
        ch,
        &mut |_, _| {},
        &mut |claimed, rho, point, _, rest| {
            let mut tmp = checked.clone();
            let (sc, evals, r_values) = parts(&mut tmp, s);
            s += 1;
            let mut claim = claimed + rho * sc.mask_sum;
            for (p, &r) in sc.sumcheck.round_polys.iter().zip(point) {
                if p[0] + p[1] != claim {
                    return None;
                }
                claim = interpolate(p, r);
            }
            let g: EF = sc.mask_evals.iter().copied().sum();
            (claim == rest(&evals, &r_values) + rho * g).then_some(())
        },
    )
    .is_some()
}

/// The leaf layer at point `r`: the witness's `p` halves (16 rows of 16:
/// ones) and the table's `q` halves are public, the rest uniform.
fn leaf_evals(alpha: EF, r: &[EF], rng: &mut StdRng) -> Vec<[EF; 4]> {
    let (table, _, _) = instance();
    let q = |b: u64| {
        let point: Vec<EF> = std::iter::once(EF::from(F::from_u64(b)))
            .chain(r.iter().copied())
            .collect();
        alpha - super::super::verifier::table_column_evals(&table, &point)[0]
    };
    vec![
        [EF::ONE, EF::ONE, random_ef(rng), random_ef(rng)],
        [random_ef(rng), random_ef(rng), q(0), q(1)],
    ]
}

/// A view from the statement and fresh challenges.
fn simulate(rng: &mut StdRng) -> (View, Challenges) {
    let ch = random_challenges(rng);
    let leaf_evals = leaf_evals(ch.alpha, &ch.layers.last().unwrap().2, rng);
    let depths = depths();
    let layouts = layouts(&depths, &IS_TABLE, 0);
    let trees = depths.len();
    let mut blinded: Vec<EF> = (0..trees).map(|_| random_ef(rng)).collect();
    blinded[trees - 1] = -blinded[..trees - 1].iter().copied().sum::<EF>();
    let empty = || ZkSumcheckProof {
        mask_sum: EF::ZERO,
        sumcheck: SumcheckProof {
            round_polys: vec![],
        },
        mask_evals: vec![],
    };
    let mut view = View {
        root: RootProof {
            blinded,
            sumcheck: empty(),
            evals: (0..trees)
                .map(|_| [(); 4].map(|_| random_ef(rng)))
                .collect(),
        },
        layer_one_eq: layer_one_eq(ch.root.1, &ch.layers[0].2),
        layers: layouts
            .iter()
            .map(|l| MaskedLayerProof {
                sumcheck: empty(),
                evals: if l.masked_trees == 0 {
                    leaf_evals.to_vec()
                } else {
                    (0..trees)
                        .map(|_| [(); 4].map(|_| random_ef(rng)))
                        .collect()
                },
                r_values: (0..if l.num_vars == 1 {
                    3 * trees
                } else {
                    4 * trees
                })
                    .map(|_| random_ef(rng))
                    .collect(),
            })
            .collect(),
    };
    let cell = std::cell::RefCell::new(rng);
    let mut s = 0;
    let shared = std::cell::RefCell::new(view.clone());
    walk(
        &mut view,
        &ch,
        &mut |_, v| *v = shared.borrow().clone(),
        &mut |claimed, rho, point, degree, rest| {
            let rng = &mut *cell.borrow_mut();
            let mut current = shared.borrow_mut();
            let (sc, evals, r_values) = parts(&mut current, s);
            s += 1;
            sc.mask_sum = random_ef(rng);
            let mut claim = claimed + rho * sc.mask_sum;
            sc.sumcheck.round_polys = point
                .iter()
                .map(|&r| {
                    let mut p: Vec<EF> = (0..=degree).map(|_| random_ef(rng)).collect();
                    p[1] = claim - p[0];
                    claim = interpolate(&p, r);
                    p
                })
                .collect();
            let mut g: Vec<EF> = (0..point.len()).map(|_| random_ef(rng)).collect();
            let others: EF = g[1..].iter().copied().sum();
            g[0] = (claim - rest(&evals, &r_values)) * rho.inverse() - others;
            sc.mask_evals = g;
            Some(())
        },
    )
    .expect("the simulator satisfies every relation");
    (shared.into_inner(), ch)
}

/// Every hidden sent value, as base coordinates: all but the values in the
/// clear (the leaf halves and the witness evaluations).
fn hidden(view: &View) -> Vec<F> {
    let layouts = layouts(&depths(), &IS_TABLE, 0);
    let sc = |s: &ZkSumcheckProof, out: &mut Vec<EF>| {
        out.push(s.mask_sum);
        out.extend(s.sumcheck.round_polys.iter().flatten());
        out.extend(&s.mask_evals);
    };
    let mut elems = view.root.blinded.clone();
    sc(&view.root.sumcheck, &mut elems);
    elems.extend(view.root.evals.iter().flatten());
    elems.extend(view.layer_one_eq);
    for (l, layout) in view.layers.iter().zip(&layouts) {
        sc(&l.sumcheck, &mut elems);
        if layout.masked_trees > 0 {
            elems.extend(l.evals.iter().flatten());
        } else {
            // The leaves: the witness's q halves, the table's p halves.
            elems.extend(&l.evals[0][2..]);
            elems.extend(&l.evals[1][..2]);
        }
        elems.extend(&l.r_values);
    }
    coordinates(&elems)
}

fn real_view(p: &ZkLookupProof) -> View {
    View {
        root: p.root.clone(),
        layer_one_eq: p.layer_one_eq,
        layers: p.layers.clone(),
    }
}

const RUNS: u64 = 512;

#[test]
fn simulated_lookups_satisfy_the_verifiers_relations() {
    for seed in 0..8 {
        let (sim, ch) = simulate(&mut StdRng::seed_from_u64(seed));
        assert!(relations_hold(&sim, &ch), "simulated {seed}");
        // A false statement's blinded roots (sum 1) break them.
        let mut bad = sim.clone();
        bad.root.blinded[0] += EF::ONE;
        assert!(!relations_hold(&bad, &ch));
        // So does another leaf layer (another witness).
        let mut other = sim.clone();
        other.layers.last_mut().unwrap().evals[0][2] += EF::ONE;
        assert!(!relations_hold(&other, &ch));
    }
}

/// Over many runs on one witness, each with fresh masks, every hidden sent
/// coordinate of the real proofs and of the simulator's is uniform and the
/// two are alike; in particular the blinded roots, which replace the tops.
#[test]
fn simulated_lookups_cannot_be_told_from_real_ones() {
    let real: Vec<ZkLookupProof> = (0..RUNS).map(|s| real_proof(1 << 20 | s)).collect();
    let sim: Vec<View> = real
        .iter()
        .enumerate()
        .map(|(r, _)| simulate(&mut StdRng::seed_from_u64(1 << 30 | r as u64)).0)
        .collect();
    let real_runs: Vec<Vec<F>> = real.iter().map(|p| hidden(&real_view(p))).collect();
    let sim_runs: Vec<Vec<F>> = sim.iter().map(hidden).collect();
    // Root: 2 blinded, G, a degree-6 round, g(c), 8 evals; layer-1 eq: 2;
    // layers 1–3: G, rounds (degree 5), g_i(r_i), masked halves (8, 8,
    // and 4 at the leaves), R values (6, 8, 8).
    let root = 2 + 1 + 7 + 1 + 8 + 2;
    let layers: usize = [(1, 5, 8, 6), (2, 5, 8, 8), (3, 5, 4, 8)]
        .iter()
        .map(|&(k, d, e, r)| 1 + k * (d + 1) + k + e + r)
        .sum();
    assert_eq!(real_runs[0].len(), 2 * (root + layers));
    assert_indistinguishable(&real_runs, &sim_runs);
}

//! The zero-knowledge sumcheck's simulator, and a statistical test that its
//! views cannot be told from real ones.
//!
//! A real view — `G`, the round polynomials, the `g_i(r_i)`, with the
//! challenges `ρ, r` — is an injective affine image of the uniform mask
//! (mod.rs, "Why it hides": the shift solving for `δ` is unique), of
//! dimension `n·(d + 1)`: exactly the dimension of the set of views that
//! satisfy the verifier's `n + 1` relations (each round's `p_i(0) + p_i(1)`,
//! and the final `p_{n-1}(r_{n-1}) = f(r) + ρ·Σ g_i(r_i)`). So the real view
//! is uniform on that set, which the simulator samples from the public
//! claim, the challenges and `f(r)` alone.

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::super::{
    combine, interpolate, prove as prove_plain, Mle, SumOfProducts, SumcheckProof, Term,
};
use super::*;
use crate::field::{random_ef, random_f, Field, PrimeCharacteristicRing, F};
use crate::test_support::{
    assert_indistinguishable, chi2_two_sample, chi2_uniform, coordinates, histograms, CRITICAL,
};

const N: usize = 4;
const D: usize = 2;
const RUNS: usize = 512;

/// What a verifier sees of one run: the proof and the challenges.
struct View {
    proof: ZkSumcheckProof,
    rho: EF,
    point: Vec<EF>,
}

/// A fixed witness: `Σ_x a(x)·b(x)` over `N` variables.
fn witness() -> SumOfProducts {
    let mut rng = StdRng::seed_from_u64(1);
    SumOfProducts {
        num_vars: N,
        mles: vec![
            Mle::Base((0..1 << N).map(|_| random_f(&mut rng)).collect()),
            Mle::Ext((0..1 << N).map(|_| random_ef(&mut rng)).collect()),
        ],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }],
    }
}

fn f_at(poly: &SumOfProducts, point: &[EF]) -> EF {
    let evals: Vec<EF> = poly.mles.iter().map(|m| m.evaluate(point)).collect();
    combine(&poly.terms, &evals)
}

fn real_view(poly: &SumOfProducts, mask_seed: u64) -> View {
    let mask = MaskPolynomial::random(N, D, &mut StdRng::seed_from_u64(mask_seed));
    let out = prove(poly.clone(), &mask, 0, &mut Transcript::new(b"sim"));
    let rho = absorb_zk_header(
        &mut Transcript::new(b"sim"),
        N,
        D,
        out.claimed_sum,
        out.proof.mask_sum,
    );
    View {
        proof: out.proof,
        rho,
        point: out.point,
    }
}

/// Samples a view from `H`, the challenges and `f(r)`: every message
/// uniform subject to the verifier's relations.
fn simulate(claimed_sum: EF, rho: EF, point: &[EF], f_r: EF, rng: &mut StdRng) -> ZkSumcheckProof {
    let mask_sum = random_ef(rng);
    let mut claim = claimed_sum + rho * mask_sum;
    let mut round_polys = Vec::with_capacity(point.len());
    for &r in point {
        let mut p: Vec<EF> = (0..=D).map(|_| random_ef(rng)).collect();
        p[1] = claim - p[0];
        claim = interpolate(&p, r);
        round_polys.push(p);
    }
    let mut mask_evals: Vec<EF> = (0..point.len()).map(|_| random_ef(rng)).collect();
    let others: EF = mask_evals[1..].iter().copied().sum();
    mask_evals[0] = (claim - f_r) * rho.inverse() - others;
    ZkSumcheckProof {
        mask_sum,
        sumcheck: SumcheckProof { round_polys },
        mask_evals,
    }
}

fn simulated_view(poly: &SumOfProducts, seed: u64) -> View {
    let mut rng = StdRng::seed_from_u64(seed);
    let rho = random_ef(&mut rng);
    let point: Vec<EF> = (0..N).map(|_| random_ef(&mut rng)).collect();
    let proof = simulate(poly.sum(), rho, &point, f_at(poly, &point), &mut rng);
    View { proof, rho, point }
}

/// The verifier's relations, with the view's own challenges.
fn relations_hold(view: &View, claimed_sum: EF, f_r: EF) -> bool {
    let p = &view.proof;
    let mut claim = claimed_sum + view.rho * p.mask_sum;
    for (poly, &r) in p.sumcheck.round_polys.iter().zip(&view.point) {
        if poly[0] + poly[1] != claim {
            return false;
        }
        claim = interpolate(poly, r);
    }
    claim == f_r + view.rho * p.mask_evals.iter().copied().sum::<EF>()
}

/// Every sent element, as its base coordinates, in view order.
fn sent(proof: &ZkSumcheckProof) -> Vec<F> {
    let mut elems = vec![proof.mask_sum];
    elems.extend(proof.sumcheck.round_polys.iter().flatten());
    elems.extend(&proof.mask_evals);
    coordinates(&elems)
}

fn sent_runs(proofs: &[ZkSumcheckProof]) -> Vec<Vec<F>> {
    proofs.iter().map(sent).collect()
}

#[test]
fn real_and_simulated_views_satisfy_the_same_relations() {
    let poly = witness();
    let h = poly.sum();
    for seed in 0..8 {
        let real = real_view(&poly, seed);
        assert!(relations_hold(&real, h, f_at(&poly, &real.point)));
        let sim = simulated_view(&poly, 1000 + seed);
        assert!(relations_hold(&sim, h, f_at(&poly, &sim.point)));
        // A simulated view for another final value breaks the last relation.
        assert!(!relations_hold(&sim, h, f_at(&poly, &sim.point) + EF::ONE));
    }
}

/// Over many runs on one witness, every sent coordinate of the real proofs
/// and of the simulator's is uniform, and the two are alike — while the
/// same test flags the plain sumcheck's proofs at once.
#[test]
fn simulated_views_cannot_be_told_from_real_ones() {
    let poly = witness();
    let real: Vec<ZkSumcheckProof> = (0..RUNS as u64)
        .map(|s| real_view(&poly, s).proof)
        .collect();
    let sim: Vec<ZkSumcheckProof> = (0..RUNS as u64)
        .map(|s| simulated_view(&poly, 1 << 20 | s).proof)
        .collect();
    let (real_runs, sim_runs) = (sent_runs(&real), sent_runs(&sim));
    assert_eq!(real_runs[0].len(), 2 * (1 + N * (D + 1) + N));
    assert_indistinguishable(&real_runs, &sim_runs);
    let hs = histograms(&sim_runs);

    // The unmasked rounds of the same witness, as a view of the same shape.
    let plain: Vec<ZkSumcheckProof> = (0..RUNS)
        .map(|_| ZkSumcheckProof {
            mask_sum: EF::ZERO,
            sumcheck: prove_plain(poly.clone(), &mut Transcript::new(b"sim")).proof,
            mask_evals: vec![EF::ZERO; N],
        })
        .collect();
    let hp = histograms(&sent_runs(&plain));
    let round0 = 2..2 + 2 * (D + 1);
    assert!(round0.clone().all(|c| chi2_uniform(&hp[c]) > CRITICAL));
    assert!(round0
        .clone()
        .all(|c| chi2_two_sample(&hp[c], &hs[c]) > CRITICAL));
}

//! Completeness and soundness tests of the sumcheck.

use super::prover::combine_at;
use super::*;
use crate::mle::{eq_eval, eq_table, evaluate_base, num_vars_for, pad_to};
use crate::VerifyError;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn rf(rng: &mut StdRng) -> F {
    F::from_u64(rng.random::<u64>())
}
fn re(rng: &mut StdRng) -> EF {
    EF::new([rf(rng), rf(rng)])
}

/// A random polynomial of the given degree over `n` variables: four
/// tables (two base, two extension), three terms (one of full degree,
/// one with a repeated factor, one constant-times-linear).
fn random_poly(rng: &mut StdRng, n: usize, degree: usize) -> SumOfProducts {
    let len = 1usize << n;
    let mles = vec![
        Mle::Base((0..len).map(|_| rf(rng)).collect()),
        Mle::Ext((0..len).map(|_| re(rng)).collect()),
        Mle::Base((0..len).map(|_| rf(rng)).collect()),
        Mle::Ext((0..len).map(|_| re(rng)).collect()),
    ];
    let full: Vec<usize> = (0..degree).map(|i| [0, 1, 2, 3][i % 4]).collect();
    let rep: Vec<usize> = (0..degree).map(|i| [2, 2, 3, 0][i % 4]).collect();
    let terms = vec![
        Term {
            coeff: re(rng),
            factors: full,
        },
        Term {
            coeff: re(rng),
            factors: rep,
        },
        Term {
            coeff: re(rng),
            factors: vec![1],
        },
    ];
    SumOfProducts {
        num_vars: n,
        mles,
        terms,
    }
}

fn brute_sum(poly: &SumOfProducts) -> EF {
    (0..1usize << poly.num_vars)
        .map(|x| combine_at(&poly.terms, &poly.mles, x))
        .sum()
}

/// Proves, verifies and checks every output against direct evaluation.
fn check_complete(poly: SumOfProducts) -> (ProverOutput, Subclaim) {
    let (n, d) = (poly.num_vars, poly.degree());
    let expected_sum = brute_sum(&poly);
    assert_eq!(poly.sum(), expected_sum);
    let copy = poly.clone();
    let out = prove(poly, &mut Transcript::new(b"test"));
    assert_eq!(out.claimed_sum, expected_sum);
    assert_eq!(out.proof.round_polys.len(), n);
    assert!(out.proof.round_polys.iter().all(|p| p.len() == d + 1));
    let sub = verify(
        n,
        d,
        out.claimed_sum,
        &out.proof,
        &mut Transcript::new(b"test"),
    )
    .expect("honest proof verifies");
    assert_eq!(sub.point, out.point);
    for (m, &e) in copy.mles.iter().zip(&out.final_evals) {
        assert_eq!(m.evaluate(&out.point), e);
    }
    assert_eq!(combine(&copy.terms, &out.final_evals), sub.expected_eval);
    (out, sub)
}

#[test]
fn completeness_random_instances() {
    let mut rng = StdRng::seed_from_u64(10);
    for n in [0usize, 1, 2, 5, 10] {
        for degree in 1..=4 {
            check_complete(random_poly(&mut rng, n, degree));
        }
    }
}

#[test]
fn completeness_large_parallel_paths() {
    let mut rng = StdRng::seed_from_u64(11);
    // Product of two base tables (the hot path) and a mixed degree-3 instance.
    let n = 16;
    let f: Vec<F> = (0..1 << n).map(|_| rf(&mut rng)).collect();
    let g: Vec<F> = (0..1 << n).map(|_| rf(&mut rng)).collect();
    let poly = SumOfProducts {
        num_vars: n,
        mles: vec![Mle::Base(f), Mle::Base(g)],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }],
    };
    check_complete(poly);
    check_complete(random_poly(&mut rng, 15, 3));
}

#[test]
fn degree_zero_and_num_vars_zero() {
    let mut rng = StdRng::seed_from_u64(12);
    // Constant term only: Σ_x c = 2^n c, degree 0.
    let c = re(&mut rng);
    for n in [0usize, 3] {
        let poly = SumOfProducts {
            num_vars: n,
            mles: vec![Mle::Base(vec![F::ONE; 1 << n])],
            terms: vec![Term {
                coeff: c,
                factors: vec![],
            }],
        };
        let (out, sub) = check_complete(poly);
        assert_eq!(out.claimed_sum, c * EF::from(F::from_usize(1 << n)));
        assert_eq!(sub.expected_eval, c);
    }
    // num_vars = 0: the subclaim is the sum itself at the empty point.
    let poly = random_poly(&mut rng, 0, 3);
    let want = combine_at(&poly.terms, &poly.mles, 0);
    let (out, sub) = check_complete(poly);
    assert!(sub.point.is_empty() && out.proof.round_polys.is_empty());
    assert_eq!(sub.expected_eval, want);
}

fn eq_instance(rng: &mut StdRng, n: usize, ext_g: bool) -> (Vec<EF>, SumOfProducts) {
    let r: Vec<EF> = (0..n).map(|_| re(rng)).collect();
    let f = Mle::Base((0..1 << n).map(|_| rf(rng)).collect());
    let g = if ext_g {
        Mle::Ext((0..1 << n).map(|_| re(rng)).collect())
    } else {
        Mle::Base((0..1 << n).map(|_| rf(rng)).collect())
    };
    let poly = SumOfProducts {
        num_vars: n,
        mles: vec![f, g],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }],
    };
    (r, poly)
}

/// Checks prove_eq_weighted against prove with an explicit eq factor.
fn check_eq_weighted(r: &[EF], poly: SumOfProducts) {
    let n = poly.num_vars;
    let d = poly.degree();
    let mut explicit = poly.clone();
    let e = explicit.mles.len();
    explicit.mles.push(Mle::Ext(eq_table(r)));
    for t in explicit.terms.iter_mut() {
        t.factors.push(e);
    }
    let reference = prove(explicit, &mut Transcript::new(b"eq"));
    let out = prove_eq_weighted(r, poly.clone(), &mut Transcript::new(b"eq"));
    assert_eq!(out.proof, reference.proof);
    assert_eq!(out.claimed_sum, reference.claimed_sum);
    assert_eq!(out.point, reference.point);
    assert_eq!(out.final_evals[..], reference.final_evals[..e]);
    let sub = verify(
        n,
        d + 1,
        out.claimed_sum,
        &out.proof,
        &mut Transcript::new(b"eq"),
    )
    .expect("honest eq-weighted proof verifies");
    assert_eq!(
        eq_eval(r, &sub.point) * combine(&poly.terms, &out.final_evals),
        sub.expected_eval
    );
}

#[test]
fn eq_weighted_product_matches_generic() {
    let mut rng = StdRng::seed_from_u64(13);
    for n in [0usize, 1, 2, 5, 9, 15] {
        let (r, poly) = eq_instance(&mut rng, n, n % 2 == 1);
        check_eq_weighted(&r, poly);
    }
    // Σ eq · (mixed sum of products) of degree 4 (total degree 5).
    for n in [1usize, 4, 7] {
        let r: Vec<EF> = (0..n).map(|_| re(&mut rng)).collect();
        check_eq_weighted(&r, random_poly(&mut rng, n, 4));
    }
}

#[test]
fn eq_weighted_with_boolean_eq_point() {
    // r_i ∈ {0, 1} makes the claim-derivation of q(1) impossible
    // (α·r_i = 0); the prover must fall back to computing it directly.
    let mut rng = StdRng::seed_from_u64(14);
    let (mut r, poly) = eq_instance(&mut rng, 6, true);
    r[0] = EF::ZERO;
    r[2] = EF::ONE;
    r[3] = EF::ZERO;
    check_eq_weighted(&r, poly);
}

#[test]
fn non_power_of_two_tables_are_padded() {
    let mut rng = StdRng::seed_from_u64(15);
    let len = 1000;
    let n = num_vars_for(len);
    assert_eq!(n, 10);
    let f: Vec<F> = (0..len).map(|_| rf(&mut rng)).collect();
    let g: Vec<EF> = (0..len).map(|_| re(&mut rng)).collect();
    let (mut fp, mut gp) = (f.clone(), g.clone());
    pad_to(&mut fp, n);
    pad_to(&mut gp, n);
    let poly = SumOfProducts {
        num_vars: n,
        mles: vec![Mle::Base(fp), Mle::Ext(gp)],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }],
    };
    let want: EF = f.iter().zip(&g).map(|(&a, &b)| b * a).sum();
    let (out, _) = check_complete(poly);
    assert_eq!(out.claimed_sum, want);
    assert_eq!(out.final_evals[0], evaluate_base(&f, &out.point));
    assert_eq!(out.final_evals[1], crate::mle::evaluate_ext(&g, &out.point));
    // The prover also accepts the short tables directly (implicit padding).
    let short = SumOfProducts {
        num_vars: n,
        mles: vec![Mle::Base(f), Mle::Ext(g)],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }],
    };
    assert_eq!(short.sum(), want);
    let out2 = prove(short, &mut Transcript::new(b"test"));
    assert_eq!(out2.proof, out.proof);
}

#[test]
fn interpolation_recovers_polynomial() {
    let mut rng = StdRng::seed_from_u64(16);
    for d in 0..6usize {
        let coeffs: Vec<EF> = (0..=d).map(|_| re(&mut rng)).collect();
        let eval = |x: EF| coeffs.iter().rev().fold(EF::ZERO, |acc, &c| acc * x + c);
        let evals: Vec<EF> = (0..=d).map(|t| eval(EF::from(F::from_usize(t)))).collect();
        for x in [re(&mut rng), EF::ZERO, EF::from(F::from_usize(d))] {
            assert_eq!(interpolate(&evals, x), eval(x));
        }
    }
}

// ---------------- soundness ----------------

struct Honest {
    poly: SumOfProducts,
    out: ProverOutput,
}

fn honest(seed: u64, n: usize, degree: usize) -> Honest {
    let mut rng = StdRng::seed_from_u64(seed);
    let poly = random_poly(&mut rng, n, degree);
    let out = prove(poly.clone(), &mut Transcript::new(b"test"));
    Honest { poly, out }
}

/// Full verifier side: sumcheck + the caller's final check.
fn accepts(h: &Honest, claimed: EF, proof: &SumcheckProof, finals: &[EF], prefix: &[u8]) -> bool {
    let mut t = Transcript::new(prefix);
    match verify(h.poly.num_vars, h.poly.degree(), claimed, proof, &mut t) {
        Ok(sub) => {
            // The caller checks the final evaluations against the tables.
            let at_point = h
                .poly
                .mles
                .iter()
                .zip(finals)
                .all(|(m, &e)| m.evaluate(&sub.point) == e);
            at_point && combine(&h.poly.terms, finals) == sub.expected_eval
        }
        Err(_) => false,
    }
}

#[test]
fn honest_proof_is_accepted_by_full_check() {
    let h = honest(20, 6, 3);
    assert!(accepts(
        &h,
        h.out.claimed_sum,
        &h.out.proof,
        &h.out.final_evals,
        b"test"
    ));
}

#[test]
fn rejects_perturbed_round_polynomial_in_every_round() {
    let h = honest(21, 6, 3);
    for i in 0..6 {
        for k in 0..=3 {
            let mut proof = h.out.proof.clone();
            proof.round_polys[i][k] += EF::ONE;
            assert!(
                !accepts(&h, h.out.claimed_sum, &proof, &h.out.final_evals, b"test"),
                "round {i} eval {k}"
            );
        }
        // Perturbing only p(0) breaks this very round's sum check.
        let mut proof = h.out.proof.clone();
        proof.round_polys[i][0] += EF::ONE;
        let err = verify(
            6,
            3,
            h.out.claimed_sum,
            &proof,
            &mut Transcript::new(b"test"),
        );
        assert!(matches!(err, Err(VerifyError::Sumcheck(_))));
    }
}

#[test]
fn rejects_wrong_claimed_sum() {
    let h = honest(22, 5, 2);
    let wrong = h.out.claimed_sum + EF::ONE;
    assert!(verify(5, 2, wrong, &h.out.proof, &mut Transcript::new(b"test")).is_err());
    assert!(!accepts(
        &h,
        wrong,
        &h.out.proof,
        &h.out.final_evals,
        b"test"
    ));
}

#[test]
fn rejects_wrong_final_evaluation() {
    let h = honest(23, 5, 4);
    for k in 0..h.out.final_evals.len() {
        let mut finals = h.out.final_evals.clone();
        finals[k] += EF::ONE;
        let sub = verify(
            5,
            4,
            h.out.claimed_sum,
            &h.out.proof,
            &mut Transcript::new(b"test"),
        )
        .expect("the sumcheck itself is honest");
        // The caller's check fails (combine differs from expected_eval).
        assert_ne!(
            combine(&h.poly.terms, &finals),
            sub.expected_eval,
            "final eval {k}"
        );
        assert!(!accepts(
            &h,
            h.out.claimed_sum,
            &h.out.proof,
            &finals,
            b"test"
        ));
    }
}

#[test]
fn rejects_wrong_number_of_evaluations() {
    let h = honest(24, 4, 2);
    for i in 0..4 {
        let mut long = h.out.proof.clone();
        long.round_polys[i].push(EF::ZERO);
        assert!(verify(
            4,
            2,
            h.out.claimed_sum,
            &long,
            &mut Transcript::new(b"test")
        )
        .is_err());
        let mut short = h.out.proof.clone();
        short.round_polys[i].pop();
        assert!(verify(
            4,
            2,
            h.out.claimed_sum,
            &short,
            &mut Transcript::new(b"test")
        )
        .is_err());
    }
    // Declaring the wrong degree rejects the honest proof too.
    for d in [1usize, 3] {
        assert!(verify(
            4,
            d,
            h.out.claimed_sum,
            &h.out.proof,
            &mut Transcript::new(b"test")
        )
        .is_err());
    }
}

#[test]
fn rejects_missing_and_extra_rounds() {
    let h = honest(25, 4, 2);
    let mut missing = h.out.proof.clone();
    missing.round_polys.pop();
    assert!(verify(
        4,
        2,
        h.out.claimed_sum,
        &missing,
        &mut Transcript::new(b"test")
    )
    .is_err());
    let mut extra = h.out.proof.clone();
    extra.round_polys.push(vec![EF::ZERO; 3]);
    assert!(verify(
        4,
        2,
        h.out.claimed_sum,
        &extra,
        &mut Transcript::new(b"test")
    )
    .is_err());
    // Verifying against the wrong number of variables.
    assert!(verify(
        3,
        2,
        h.out.claimed_sum,
        &h.out.proof,
        &mut Transcript::new(b"test")
    )
    .is_err());
    assert!(verify(
        5,
        2,
        h.out.claimed_sum,
        &h.out.proof,
        &mut Transcript::new(b"test")
    )
    .is_err());
}

#[test]
fn rejects_replay_under_different_transcript_prefix() {
    let h = honest(26, 6, 3);
    assert!(accepts(
        &h,
        h.out.claimed_sum,
        &h.out.proof,
        &h.out.final_evals,
        b"test"
    ));
    assert!(!accepts(
        &h,
        h.out.claimed_sum,
        &h.out.proof,
        &h.out.final_evals,
        b"other"
    ));
    // Same protocol name, but an extra message absorbed before the sumcheck.
    let mut t = Transcript::new(b"test");
    t.absorb_u64(1);
    let res = verify(6, 3, h.out.claimed_sum, &h.out.proof, &mut t);
    let caught = match res {
        Err(_) => true,
        Ok(sub) => combine(&h.poly.terms, &h.out.final_evals) != sub.expected_eval,
    };
    assert!(caught);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn prop_final_evals_and_subclaim(seed in any::<u64>(), n in 0usize..8, degree in 1usize..=4) {
        let mut rng = StdRng::seed_from_u64(seed);
        let poly = random_poly(&mut rng, n, degree);
        let copy = poly.clone();
        let out = prove(poly, &mut Transcript::new(b"prop"));
        let sub = verify(n, degree, out.claimed_sum, &out.proof, &mut Transcript::new(b"prop"));
        prop_assert!(sub.is_ok());
        let sub = sub.unwrap();
        for (m, &e) in copy.mles.iter().zip(&out.final_evals) {
            prop_assert_eq!(m.evaluate(&sub.point), e);
        }
        prop_assert_eq!(combine(&copy.terms, &out.final_evals), sub.expected_eval);
        prop_assert_eq!(out.claimed_sum, brute_sum(&copy));
    }

    #[test]
    fn prop_eq_weighted_subclaim(seed in any::<u64>(), n in 0usize..9) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (r, poly) = eq_instance(&mut rng, n, seed % 2 == 0);
        let out = prove_eq_weighted(&r, poly.clone(), &mut Transcript::new(b"prop"));
        let sub = verify(n, 3, out.claimed_sum, &out.proof, &mut Transcript::new(b"prop"));
        prop_assert!(sub.is_ok());
        let sub = sub.unwrap();
        for (m, &e) in poly.mles.iter().zip(&out.final_evals) {
            prop_assert_eq!(m.evaluate(&sub.point), e);
        }
        prop_assert_eq!(eq_eval(&r, &sub.point) * combine(&poly.terms, &out.final_evals), sub.expected_eval);
    }
}

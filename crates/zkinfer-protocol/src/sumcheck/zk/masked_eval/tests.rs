//! Completeness, soundness and hiding of the masked final evaluations.

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::super::super::{Mle, SumOfProducts, Term};
use super::super::mask::pow2;
use super::super::{absorb_zk_header, MaskPolynomial};
use super::*;
use crate::field::{random_ef, random_f, BasedVectorSpace};
use crate::mle::{evaluate_base, evaluate_ext};
use crate::pcs::{CommitmentScheme, HidingParams, HidingPcs};

const V: MaskedMle = MaskedMle {
    mle: 0,
    poly: Some(1),
};

/// `c_0·V·A + c_1·V·V·B + c_2·B`: `V` private (masked, twice in one term),
/// `A` base and `B` extension tables public to the caller.
fn poly(rng: &mut StdRng, n: usize) -> SumOfProducts {
    let len = 1usize << n;
    SumOfProducts {
        num_vars: n,
        mles: vec![
            Mle::Base((0..len).map(|_| random_f(rng)).collect()),
            Mle::Base((0..len).map(|_| random_f(rng)).collect()),
            Mle::Ext((0..len).map(|_| random_ef(rng)).collect()),
        ],
        terms: vec![
            Term {
                coeff: random_ef(rng),
                factors: vec![0, 1],
            },
            Term {
                coeff: random_ef(rng),
                factors: vec![0, 0, 2],
            },
            Term {
                coeff: random_ef(rng),
                factors: vec![2],
            },
        ],
    }
}

fn v_table(p: &SumOfProducts) -> &[F] {
    match &p.mles[0] {
        Mle::Base(v) => v,
        Mle::Ext(_) => unreachable!("V is a base table"),
    }
}

struct Run {
    poly: SumOfProducts,
    eq_point: Option<Vec<EF>>,
    r: EvalMask,
    g: MaskPolynomial,
    out: MaskedProverOutput,
}

fn run(seed: u64, n: usize, eq: bool) -> Run {
    let mut rng = StdRng::seed_from_u64(seed);
    let poly = poly(&mut rng, n);
    let eq_point = eq.then(|| (0..n).map(|_| random_ef(&mut rng)).collect::<Vec<_>>());
    let r = EvalMask::random(n, 1.max(n / 2), &mut rng);
    let g = MaskPolynomial::random(n, round_degree(&poly.terms, &[V], eq), &mut rng);
    let out = prove(
        poly.clone(),
        eq_point.as_deref(),
        &[(V, &r)],
        &g,
        0,
        &mut Transcript::new(b"masked"),
    );
    Run {
        poly,
        eq_point,
        r,
        g,
        out,
    }
}

fn verify_run(
    r: &Run,
    claimed: EF,
    proof: &ZkSumcheckProof,
    evals: &[EF],
) -> Result<MaskedSubclaim, VerifyError> {
    verify(
        r.poly.num_vars,
        &r.poly.terms,
        &[V],
        r.eq_point.as_deref(),
        claimed,
        proof,
        evals,
        0,
        &mut Transcript::new(b"masked"),
    )
}

/// The opening's checks, made on the tables themselves.
fn claims_hold(r: &Run, sub: &MaskedSubclaim) -> bool {
    let g = r.g.table();
    let w = r.r.committed_table(v_table(&r.poly));
    sub.mask_claims
        .iter()
        .all(|c| evaluate_base(&g, &c.point) == c.value)
        && sub
            .eval_claims
            .iter()
            .all(|c| evaluate_base(&w, &c.point) == c.value)
}

#[test]
fn honest_proofs_verify_and_send_only_the_masked_evaluation() {
    for n in 2..=5 {
        for eq in [false, true] {
            let r = run(n as u64 + 10 * u64::from(eq), n, eq);
            let (zk, evals) = (&r.out.zk, &r.out.zk.final_evals);
            assert_eq!(zk.claimed_sum, {
                let mut with_eq = r.poly.clone();
                if let Some(z) = &r.eq_point {
                    with_eq.mles.push(Mle::Ext(crate::mle::eq_table(z)));
                    with_eq.terms.iter_mut().for_each(|t| t.factors.push(3));
                }
                with_eq.sum()
            });
            let sub = verify_run(&r, zk.claimed_sum, &zk.proof, evals).expect("honest proof");
            assert_eq!(sub.point, zk.point);
            assert_eq!(sub.eval_claims, r.out.eval_claims);
            assert_eq!(sub.mask_claims, zk.mask_claims);
            assert!(claims_hold(&r, &sub), "n {n} eq {eq}");
            let v_at = evaluate_base(v_table(&r.poly), &sub.point);
            let z = vanishing_eval(&sub.point);
            assert_eq!(evals[0], v_at + z * r.r.eval(&sub.point));
            assert_ne!(evals[0], v_at);
            assert_eq!(evals[1], r.poly.mles[1].evaluate(&sub.point));
            assert_eq!(evals[2], r.poly.mles[2].evaluate(&sub.point));
        }
    }
}

#[test]
fn round_degree_counts_each_masked_factor() {
    let terms = poly(&mut StdRng::seed_from_u64(1), 3).terms;
    assert_eq!(round_degree(&terms, &[], false), 3);
    assert_eq!(round_degree(&terms, &[V], false), 5);
    assert_eq!(round_degree(&terms, &[V], true), 6);
    let a = MaskedMle {
        mle: 1,
        poly: Some(2),
    };
    assert_eq!(round_degree(&terms, &[a], false), 3);
}

#[test]
fn rejects_a_wrong_sum_and_tampered_rounds() {
    let r = run(3, 4, true);
    let zk = &r.out.zk;
    let evals = &zk.final_evals;
    assert!(matches!(
        verify_run(&r, zk.claimed_sum + EF::ONE, &zk.proof, evals),
        Err(VerifyError::Sumcheck(_))
    ));
    for i in 0..4 {
        let mut p = zk.proof.clone();
        p.sumcheck.round_polys[i][2] += EF::ONE;
        assert!(
            matches!(
                verify_run(&r, zk.claimed_sum, &p, evals),
                Err(VerifyError::Sumcheck(_))
            ),
            "round {i}"
        );
    }
    // Sent at the unmasked degree, the last round does not parse.
    let mut p = zk.proof.clone();
    p.sumcheck.round_polys[3].pop();
    assert!(verify_run(&r, zk.claimed_sum, &p, evals).is_err());
    // Final evaluations of the wrong count, and a one-variable statement.
    assert!(matches!(
        verify_run(&r, zk.claimed_sum, &zk.proof, &evals[..2]),
        Err(VerifyError::Malformed(_))
    ));
    let one_var = verify(
        1,
        &r.poly.terms,
        &[V],
        None,
        zk.claimed_sum,
        &zk.proof,
        evals,
        0,
        &mut Transcript::new(b"masked"),
    );
    assert!(matches!(one_var, Err(VerifyError::Sumcheck(_))));
}

#[test]
fn rejects_a_wrong_masked_evaluation() {
    let r = run(4, 4, false);
    let zk = &r.out.zk;
    for k in 0..3 {
        let mut evals = zk.final_evals.clone();
        evals[k] += EF::ONE;
        assert!(
            matches!(
                verify_run(&r, zk.claimed_sum, &zk.proof, &evals),
                Err(VerifyError::Sumcheck(_))
            ),
            "final evaluation {k}"
        );
    }
}

/// Everything in one hiding commitment (`g`, then `W`), opened once.
struct Committed {
    commitment: <HidingPcs as CommitmentScheme>::Commitment,
    opening: <HidingPcs as CommitmentScheme>::Opening,
    out: MaskedProverOutput,
}

/// Commits `g` and the `W` of `v` with `r_committed`, proves with
/// `r_proved` (a cheating prover when they differ).
fn committed(
    pcs: &HidingPcs,
    base: &Run,
    r_committed: &EvalMask,
    r_proved: &EvalMask,
) -> Committed {
    let w = r_committed.committed_table(v_table(&base.poly));
    let (commitment, data) = pcs.commit(&[base.g.table(), w]).unwrap();
    let mut t = Transcript::new(b"masked-c");
    pcs.absorb_commitment(&commitment, &mut t);
    let out = prove(
        base.poly.clone(),
        base.eq_point.as_deref(),
        &[(V, r_proved)],
        &base.g,
        0,
        &mut t,
    );
    let claims = [out.zk.mask_claims.clone(), out.eval_claims.clone()].concat();
    let opening = pcs.open_consuming(data, &claims, &mut t).unwrap();
    Committed {
        commitment,
        opening,
        out,
    }
}

fn verify_committed(
    pcs: &HidingPcs,
    base: &Run,
    c: &Committed,
    proof: &ZkSumcheckProof,
    evals: &[EF],
) -> Result<(), VerifyError> {
    let mut t = Transcript::new(b"masked-c");
    pcs.absorb_commitment(&c.commitment, &mut t);
    let sub = verify(
        base.poly.num_vars,
        &base.poly.terms,
        &[V],
        base.eq_point.as_deref(),
        c.out.zk.claimed_sum,
        proof,
        evals,
        0,
        &mut t,
    )?;
    let claims = [sub.mask_claims, sub.eval_claims].concat();
    pcs.verify(&c.commitment, &claims, &c.opening, &mut t)
}

#[test]
fn one_hiding_opening_checks_the_mask_and_the_masked_table() {
    let pcs = HidingPcs::with_seed(HidingParams::default(), 7);
    let base = run(5, 5, true);
    let honest = committed(&pcs, &base, &base.r, &base.r);
    let (proof, evals) = (&honest.out.zk.proof, &honest.out.zk.final_evals);
    assert_eq!(verify_committed(&pcs, &base, &honest, proof, evals), Ok(()));

    // A prover that proves with another R than the committed one: the
    // sumcheck and its final check pass, the W claim does not open.
    let other = EvalMask::random(5, 2, &mut StdRng::seed_from_u64(6));
    let cheat = committed(&pcs, &base, &base.r, &other);
    let (proof, evals) = (&cheat.out.zk.proof, &cheat.out.zk.final_evals);
    assert!(matches!(
        verify_committed(&pcs, &base, &cheat, proof, evals),
        Err(VerifyError::Opening(_))
    ));

    // Another commitment's opening in place of this one's.
    let mut swapped = committed(&pcs, &base, &base.r, &base.r);
    swapped.opening = cheat.opening.clone();
    let (proof, evals) = (&swapped.out.zk.proof, &swapped.out.zk.final_evals);
    assert!(verify_committed(&pcs, &base, &swapped, proof, evals).is_err());
}

/// A wrong `V'(r)` made consistent with the sumcheck by shifting a sent
/// `g_i(r_i)`: every check but the opening passes.
#[test]
fn a_wrong_masked_evaluation_balanced_by_the_mask_is_caught_by_the_opening() {
    let pcs = HidingPcs::with_seed(HidingParams::default(), 8);
    let base = run(9, 4, false);
    let c = committed(&pcs, &base, &base.r, &base.r);
    let zk = &c.out.zk;
    let mut evals = zk.final_evals.clone();
    evals[0] += EF::ONE;
    let rho = {
        let mut t = Transcript::new(b"masked-c");
        pcs.absorb_commitment(&c.commitment, &mut t);
        let d = round_degree(&base.poly.terms, &[V], false);
        absorb_zk_header(&mut t, 4, d, zk.claimed_sum, zk.proof.mask_sum)
    };
    let shift = combine(&base.poly.terms, &evals) - combine(&base.poly.terms, &zk.final_evals);
    let mut proof = zk.proof.clone();
    proof.mask_evals[0] -= shift * rho.inverse();
    assert!(matches!(
        verify_committed(&pcs, &base, &c, &proof, &evals),
        Err(VerifyError::Opening(_))
    ));
}

/// `Σ_j a_j t^j` from the values at `t = 0, 1, …, d` (Lagrange, expanded).
pub(super) fn monomial_coeffs(values: &[EF]) -> Vec<EF> {
    let d = values.len() - 1;
    let mut out = vec![EF::ZERO; d + 1];
    for (i, &v) in values.iter().enumerate() {
        let mut basis = vec![EF::ONE];
        let mut denom = EF::ONE;
        for j in (0..=d).filter(|&j| j != i) {
            let j_f = EF::from(F::from_usize(j));
            let mut next = vec![EF::ZERO; basis.len() + 1];
            for (k, &b) in basis.iter().enumerate() {
                next[k + 1] += b;
                next[k] -= b * j_f;
            }
            basis = next;
            denom *= EF::from(F::from_usize(i)) - j_f;
        }
        let scale = v * denom.inverse();
        for (o, b) in out.iter_mut().zip(&basis) {
            *o += *b * scale;
        }
    }
    out
}

/// The hiding argument, run exactly: a different private table `V₂ = V + Δ`
/// with the same sum `Σ A·V₂ = Σ A·V` but `V₂(r) ≠ V(r)`, proven with `R`
/// shifted so that `V₂'(r) = V'(r)` and `g` shifted to absorb the rounds'
/// difference, gives the very same proof, final evaluations and claims: what
/// the verifier sees does not depend on `V(r)`.
#[test]
fn another_private_table_with_shifted_masks_gives_the_same_proof() {
    let n = 4;
    let mut rng = StdRng::seed_from_u64(21);
    let len = 1usize << n;
    let a: Vec<F> = (0..len).map(|_| random_f(&mut rng)).collect();
    let v: Vec<F> = (0..len).map(|_| random_f(&mut rng)).collect();
    let make = |v: &[F]| SumOfProducts {
        num_vars: n,
        mles: vec![Mle::Base(v.to_vec()), Mle::Base(a.clone())],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }],
    };
    let degree = round_degree(&make(&v).terms, &[V], false);
    let r = EvalMask::random(n, 1, &mut rng);
    let g = MaskPolynomial::random(n, degree, &mut rng);
    let out = prove(
        make(&v),
        None,
        &[(V, &r)],
        &g,
        0,
        &mut Transcript::new(b"x"),
    );
    let point = &out.zk.point;
    let rho = absorb_zk_header(
        &mut Transcript::new(b"x"),
        n,
        degree,
        out.zk.claimed_sum,
        out.zk.proof.mask_sum,
    );

    // Δ = A[b]·e_a − A[a]·e_b: Σ A·Δ = 0.
    let (ia, ib) = (3usize, 12usize);
    let mut delta = vec![F::ZERO; len];
    delta[ia] = a[ib];
    delta[ib] = -a[ia];
    let v2: Vec<F> = v.iter().zip(&delta).map(|(&x, &d)| x + d).collect();
    let d_at_r = evaluate_base(&delta, point);
    assert_ne!(d_at_r, EF::ZERO, "V₂(r) differs from V(r)");

    // ΔR over the head variable: Z(r)·ΔR(r_0) = −Δ(r), solved in F's basis.
    let tau = -d_at_r * vanishing_eval(point).inverse();
    let (r0, tau): (Vec<F>, Vec<F>) = (
        point[0].as_basis_coefficients_slice().to_vec(),
        tau.as_basis_coefficients_slice().to_vec(),
    );
    let c = tau[1] * r0[1].inverse();
    let lo = tau[0] - c * r0[0];
    let r2 = EvalMask::from_table(n, vec![r.table[0] + lo, r.table[1] + lo + c]);
    assert_eq!(
        vanishing_eval(point) * (r2.eval(point) - r.eval(point)),
        -d_at_r
    );

    // F_i − F₂_i = −Σ_x (A·Δ + A·Z·ΔR)(r_<i, t, x); g₂ = g + δ with
    // δ_i = ((F_i − F₂_i)/ρ − 2^{n-2-i}·Σ_{j>i} σ_j) / 2^{n-1-i}.
    let delta_ef: Vec<EF> = delta.iter().map(|&x| EF::from(x)).collect();
    let diff_at = |p: &[EF]| {
        let dr = r2.eval(p) - r.eval(p);
        evaluate_base(&a, p) * (evaluate_ext(&delta_ef, p) + vanishing_eval(p) * dr)
    };
    let round_diff = |i: usize, t: EF| -> EF {
        let rest = n - 1 - i;
        -(0..1usize << rest)
            .map(|x| {
                let mut p = point[..i].to_vec();
                p.push(t);
                p.extend((0..rest).map(|b| EF::from(F::from_usize((x >> (rest - 1 - b)) & 1))));
                diff_at(&p)
            })
            .sum::<EF>()
    };
    let mut shifted = g.coeffs().to_vec();
    let mut sigma_after = EF::ZERO;
    for i in (0..n).rev() {
        let rest = if i + 1 < n {
            pow2(n - 2 - i) * sigma_after
        } else {
            EF::ZERO
        };
        let scale_inv = pow2(n - 1 - i).inverse();
        let values: Vec<EF> = (0..=degree)
            .map(|t| {
                let t = EF::from(F::from_usize(t));
                (round_diff(i, t) * rho.inverse() - rest) * scale_inv
            })
            .collect();
        let d_i = monomial_coeffs(&values);
        let at_r = d_i
            .iter()
            .rev()
            .fold(EF::ZERO, |acc, &c| acc * point[i] + c);
        assert_eq!(at_r, EF::ZERO, "δ_{i}(r_{i}) = 0");
        for (s, c) in shifted[i].iter_mut().zip(&d_i) {
            *s += *c;
        }
        sigma_after += values[0] + values[1];
    }
    let g2 = MaskPolynomial::from_coeffs(degree, shifted);
    let out2 = prove(
        make(&v2),
        None,
        &[(V, &r2)],
        &g2,
        0,
        &mut Transcript::new(b"x"),
    );
    assert_eq!(out2.zk.proof, out.zk.proof);
    assert_eq!(out2.zk.final_evals, out.zk.final_evals);
    assert_eq!(out2.eval_claims, out.eval_claims);
    assert_eq!(out2.zk.mask_claims, out.zk.mask_claims);
    assert_ne!(
        evaluate_base(&v2, point),
        evaluate_base(&v, point),
        "the unmasked evaluations differ"
    );
}

#[test]
fn committed_table_stacks_v_and_tiled_r() {
    let mut rng = StdRng::seed_from_u64(30);
    let r = EvalMask::random(4, 2, &mut rng);
    let v: Vec<F> = (0..16).map(|_| random_f(&mut rng)).collect();
    let w = r.committed_table(&v);
    assert_eq!(&w[..16], &v[..]);
    let point: Vec<EF> = (0..4).map(|_| random_ef(&mut rng)).collect();
    let mut at = vec![EF::ONE];
    at.extend_from_slice(&point);
    assert_eq!(evaluate_base(&w, &at), r.eval(&point));
    let masked = evaluate_base(&v, &point) + vanishing_eval(&point) * r.eval(&point);
    let claim = masked_claim(3, &point, masked).unwrap();
    assert_eq!(claim.poly, 3);
    assert_eq!(evaluate_base(&w, &claim.point), claim.value);
    assert_eq!(claim.value * (EF::ONE + vanishing_eval(&point)), masked);
}

/// A private table over three of four variables (own order `x_0, x_3, x_2`,
/// broadcast over `x_1`), read through a mask on its own variables: the
/// rounds still verify, and the sent value is the table's own masked value
/// `V(r_own) + Z(r_own)·R(r_own_head)`, which a changed value breaks.
#[test]
fn a_table_over_some_variables_is_masked_on_its_own() {
    let mut rng = StdRng::seed_from_u64(41);
    let (n, vars) = (4, vec![0, 3, 2]);
    let own: Vec<F> = (0..8).map(|_| random_f(&mut rng)).collect();
    // Broadcast: index bits (x_0 x_1 x_2 x_3), own index (x_0 x_3 x_2).
    let spread: Vec<F> = (0..16usize)
        .map(|i| {
            let bit = |v: usize| (i >> (n - 1 - v)) & 1;
            own[(bit(0) << 2) | (bit(3) << 1) | bit(2)]
        })
        .collect();
    let public: Vec<EF> = (0..16).map(|_| random_ef(&mut rng)).collect();
    let terms = vec![Term {
        coeff: EF::ONE,
        factors: vec![0, 1],
    }];
    let poly = SumOfProducts {
        num_vars: n,
        mles: vec![Mle::Ext(public.clone()), Mle::Base(spread.clone())],
        terms: terms.clone(),
    };
    let sum: EF = public.iter().zip(&spread).map(|(&p, &v)| p * v).sum();
    let flags = [MaskedMle { mle: 1, poly: None }];
    let r = EvalMask::random(n, 1, &mut rng).on_vars(vars.clone());
    let g = MaskPolynomial::random(n, round_degree(&terms, &flags, false), &mut rng);
    let out = prove(
        poly,
        None,
        &[(flags[0], &r)],
        &g,
        0,
        &mut Transcript::new(b"spread"),
    );
    assert_eq!(out.zk.claimed_sum, sum);
    let point = &out.zk.point;
    let at: Vec<EF> = vars.iter().map(|&v| point[v]).collect();
    let own_eval = evaluate_base(&own, &at);
    let masked = own_eval + vanishing_eval(&at) * r.eval(&at);
    assert_eq!(out.zk.final_evals[1], masked);
    assert_ne!(out.zk.final_evals[1], own_eval);
    let check = |evals: &[EF]| {
        verify(
            n,
            &terms,
            &flags,
            None,
            sum,
            &out.zk.proof,
            evals,
            0,
            &mut Transcript::new(b"spread"),
        )
    };
    check(&out.zk.final_evals).expect("verifies");
    let mut wrong = out.zk.final_evals.clone();
    wrong[1] += EF::ONE;
    assert!(check(&wrong).is_err());
}

#[test]
#[should_panic(expected = "outside R's head")]
fn a_broadcast_mask_must_leave_the_last_variable_to_z() {
    let mut rng = StdRng::seed_from_u64(42);
    // R reads own variable 0, which is the sumcheck's last.
    let _ = EvalMask::random(4, 1, &mut rng).on_vars(vec![3, 0, 1]);
}

//! Completeness, soundness and hiding tests of the zero-knowledge sumcheck.

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::super::{combine, prove as prove_plain, Mle, SumOfProducts, Term};
use super::*;
use crate::field::{random_ef, random_f, Field, PrimeCharacteristicRing, F};
use crate::mle::{eq_eval, evaluate_base, evaluate_ext};
use crate::pcs::{CommitmentScheme, HidingParams, HidingPcs, Pcs, PcsParams};
use crate::VerifyError;

/// Three tables (base, extension, base) and terms of full degree, of a
/// repeated factor, and linear.
fn random_poly(rng: &mut StdRng, n: usize, degree: usize) -> SumOfProducts {
    let len = 1usize << n;
    let mles = vec![
        Mle::Base((0..len).map(|_| random_f(rng)).collect()),
        Mle::Ext((0..len).map(|_| random_ef(rng)).collect()),
        Mle::Base((0..len).map(|_| random_f(rng)).collect()),
    ];
    let terms = vec![
        Term {
            coeff: random_ef(rng),
            factors: (0..degree).map(|i| i % 3).collect(),
        },
        Term {
            coeff: random_ef(rng),
            factors: vec![2; degree],
        },
        Term {
            coeff: random_ef(rng),
            factors: vec![1],
        },
    ];
    SumOfProducts {
        num_vars: n,
        mles,
        terms,
    }
}

/// The caller's final check: the tables at the point give the subclaim.
fn final_check(poly: &SumOfProducts, point: &[EF], expected: EF) -> bool {
    let evals: Vec<EF> = poly.mles.iter().map(|m| m.evaluate(point)).collect();
    combine(&poly.terms, &evals) == expected
}

struct Run {
    poly: SumOfProducts,
    mask: MaskPolynomial,
    out: ZkProverOutput,
}

fn run(seed: u64, mask_seed: u64, n: usize, degree: usize) -> Run {
    let poly = random_poly(&mut StdRng::seed_from_u64(seed), n, degree);
    let mask = MaskPolynomial::random(n, degree, &mut StdRng::seed_from_u64(mask_seed));
    let out = prove(poly.clone(), &mask, 0, &mut Transcript::new(b"zk-test"));
    Run { poly, mask, out }
}

fn verify_run(r: &Run, claimed: EF, proof: &ZkSumcheckProof) -> Result<ZkSubclaim, VerifyError> {
    let degree = r.poly.degree();
    verify(
        r.poly.num_vars,
        degree,
        claimed,
        proof,
        0,
        &mut Transcript::new(b"zk-test"),
    )
}

/// Rounds, final check and the mask's claims, as a verifier holding the
/// mask's table would check them.
fn accepts(r: &Run, claimed: EF, proof: &ZkSumcheckProof) -> bool {
    match verify_run(r, claimed, proof) {
        Ok(sub) => {
            let table = r.mask.table();
            final_check(&r.poly, &sub.point, sub.expected_eval)
                && sub
                    .mask_claims
                    .iter()
                    .all(|c| evaluate_base(&table, &c.point) == c.value)
        }
        Err(_) => false,
    }
}

// ---------------- completeness ----------------

#[test]
fn honest_proofs_verify_for_every_size_and_degree() {
    for n in 1..=6 {
        for degree in 1..=4 {
            let r = run(n as u64 * 10 + degree as u64, 99, n, degree);
            assert_eq!(r.out.claimed_sum, r.poly.sum());
            let sub = verify_run(&r, r.out.claimed_sum, &r.out.proof).expect("honest proof");
            assert_eq!(sub.point, r.out.point);
            assert_eq!(sub.mask_claims, r.out.mask_claims);
            assert!(final_check(&r.poly, &sub.point, sub.expected_eval));
            for (m, &e) in r.poly.mles.iter().zip(&r.out.final_evals) {
                assert_eq!(m.evaluate(&sub.point), e);
            }
            assert!(
                accepts(&r, r.out.claimed_sum, &r.out.proof),
                "n {n} d {degree}"
            );
        }
    }
}

#[test]
fn eq_weighted_sums_verify() {
    let mut rng = StdRng::seed_from_u64(5);
    let n = 5;
    let poly = random_poly(&mut rng, n, 2);
    let eq_point: Vec<EF> = (0..n).map(|_| random_ef(&mut rng)).collect();
    let mask = MaskPolynomial::random(n, 3, &mut rng);
    let out = prove_eq_weighted(
        &eq_point,
        poly.clone(),
        &mask,
        0,
        &mut Transcript::new(b"eq"),
    );
    let sub = verify(
        n,
        3,
        out.claimed_sum,
        &out.proof,
        0,
        &mut Transcript::new(b"eq"),
    )
    .expect("honest eq-weighted proof");
    let evals: Vec<EF> = poly.mles.iter().map(|m| m.evaluate(&sub.point)).collect();
    assert_eq!(evals, out.final_evals);
    assert_eq!(
        eq_eval(&eq_point, &sub.point) * combine(&poly.terms, &evals),
        sub.expected_eval
    );
}

/// The committed table opens to `g_i(t)/(1 + u)` at the claim points, and
/// the mask's sum is its hypercube sum.
#[test]
fn mask_table_and_sum_match_the_polynomial() {
    let mut rng = StdRng::seed_from_u64(6);
    for (n, degree) in [(1, 1), (3, 2), (5, 3), (6, 4), (2, 0)] {
        let mask = MaskPolynomial::random(n, degree, &mut rng);
        let table = mask.table();
        assert_eq!(table.len(), 1 << table_num_vars(n, degree));
        let point: Vec<EF> = (0..n).map(|_| random_ef(&mut rng)).collect();
        for c in mask.claims(3, &point) {
            assert_eq!(c.poly, 3);
            assert_eq!(evaluate_base(&table, &c.point), c.value);
        }
        let brute: EF = (0..1usize << n)
            .map(|x| {
                let bits: Vec<EF> = (0..n)
                    .map(|i| EF::from(F::from_usize((x >> (n - 1 - i)) & 1)))
                    .collect();
                mask.evaluate(&bits)
            })
            .sum();
        assert_eq!(mask.sum(), brute);
    }
}

// ---------------- soundness ----------------

#[test]
fn rejects_wrong_claimed_sum() {
    let r = run(1, 2, 5, 3);
    let wrong = r.out.claimed_sum + EF::ONE;
    assert!(matches!(
        verify_run(&r, wrong, &r.out.proof),
        Err(VerifyError::Sumcheck(_))
    ));
    assert!(!accepts(&r, wrong, &r.out.proof));
}

#[test]
fn rejects_wrong_mask_sum() {
    let r = run(3, 4, 5, 3);
    let mut proof = r.out.proof.clone();
    proof.mask_sum += EF::ONE;
    assert!(matches!(
        verify_run(&r, r.out.claimed_sum, &proof),
        Err(VerifyError::Sumcheck(_))
    ));
}

#[test]
fn rejects_tampered_round_polynomials_in_every_round() {
    let r = run(7, 8, 5, 3);
    for i in 0..5 {
        for k in 0..=3 {
            let mut proof = r.out.proof.clone();
            proof.sumcheck.round_polys[i][k] += EF::ONE;
            assert!(
                !accepts(&r, r.out.claimed_sum, &proof),
                "round {i} eval {k}"
            );
        }
        // Keeping p(0) + p(1) passes this round's check: the final check
        // (or a later round) must catch it.
        let mut proof = r.out.proof.clone();
        proof.sumcheck.round_polys[i][0] += EF::ONE;
        proof.sumcheck.round_polys[i][1] -= EF::ONE;
        assert!(
            !accepts(&r, r.out.claimed_sum, &proof),
            "round {i} balanced"
        );
    }
}

/// A prover that shifts `Σ g_i(r_i)` to fix up the final claim of a
/// tampered last round is caught by the mask's claims: the committed table
/// does not open to the shifted values.
#[test]
fn rejects_mask_evaluations_shifted_to_fix_the_final_claim() {
    let r = run(9, 10, 4, 2);
    let sub = verify_run(&r, r.out.claimed_sum, &r.out.proof).unwrap();
    assert!(final_check(&r.poly, &sub.point, sub.expected_eval));
    for i in 0..4 {
        let mut proof = r.out.proof.clone();
        proof.mask_evals[i] += EF::ONE;
        // The rounds still pass; the mask's claims no longer hold.
        let tampered = verify_run(&r, r.out.claimed_sum, &proof).unwrap();
        assert_ne!(tampered.mask_claims[i], sub.mask_claims[i]);
        assert!(!accepts(&r, r.out.claimed_sum, &proof), "mask eval {i}");
    }
    let mut proof = r.out.proof.clone();
    proof.mask_evals.pop();
    assert!(matches!(
        verify_run(&r, r.out.claimed_sum, &proof),
        Err(VerifyError::Sumcheck(_))
    ));
}

#[test]
fn rejects_a_sumcheck_without_variables() {
    let proof = ZkSumcheckProof {
        mask_sum: EF::ZERO,
        sumcheck: super::super::SumcheckProof {
            round_polys: Vec::new(),
        },
        mask_evals: Vec::new(),
    };
    assert!(verify(0, 1, EF::ZERO, &proof, 0, &mut Transcript::new(b"t")).is_err());
}

// ---------------- with a commitment ----------------

fn pcs() -> Pcs {
    Pcs::new(PcsParams::for_polys(&[table_num_vars(5, 3)]))
}

fn committed_run<S: CommitmentScheme>(
    pcs: &S,
    seed: u64,
) -> (SumOfProducts, CommittedZkProofOf<S>, ZkProverOutput) {
    let poly = random_poly(&mut StdRng::seed_from_u64(seed), 5, 3);
    let mut rng = StdRng::seed_from_u64(seed + 1);
    let (proof, out) = prove_committed(
        pcs,
        poly.clone(),
        None,
        &mut rng,
        &mut Transcript::new(b"c"),
    )
    .expect("commit and open");
    (poly, proof, out)
}

fn verify_committed_run<S: CommitmentScheme>(
    pcs: &S,
    poly: &SumOfProducts,
    claimed: EF,
    proof: &CommittedZkProofOf<S>,
) -> Result<bool, VerifyError> {
    let sub = verify_committed(
        pcs,
        poly.num_vars,
        poly.degree(),
        claimed,
        proof,
        &mut Transcript::new(b"c"),
    )?;
    Ok(final_check(poly, &sub.point, sub.expected_eval))
}

/// Completeness and the tamper matrix of one commitment scheme.
fn committed_soundness<S: CommitmentScheme>(pcs: &S) {
    let (poly, proof, out) = committed_run(pcs, 40);
    assert_eq!(
        verify_committed_run(pcs, &poly, out.claimed_sum, &proof),
        Ok(true)
    );

    let wrong = out.claimed_sum + EF::ONE;
    assert!(verify_committed_run(pcs, &poly, wrong, &proof).is_err());

    // A shifted mask evaluation: the rounds pass, the opening rejects.
    let mut tampered = proof.clone();
    tampered.sumcheck.mask_evals[2] += EF::ONE;
    assert!(matches!(
        verify_committed_run(pcs, &poly, out.claimed_sum, &tampered),
        Err(VerifyError::Opening(_))
    ));

    // A balanced change of the last round polynomial, with the mask
    // evaluations shifted so that the final claim still holds: the rounds
    // and the final check pass; only the opening stands in the way.
    let n = poly.num_vars;
    let mut forged = proof.clone();
    let last = &mut forged.sumcheck.sumcheck.round_polys[n - 1];
    last[0] += EF::ONE;
    last[1] -= EF::ONE;
    let mut t = Transcript::new(b"c");
    pcs.absorb_commitment(&forged.mask_commitment, &mut t);
    let sub = verify(n, 3, out.claimed_sum, &forged.sumcheck, 0, &mut t).unwrap();
    // e − ρ·Σ g_i must equal f(r): shift one g_i(r_i) by the difference / ρ.
    let f_at = {
        let evals: Vec<EF> = poly.mles.iter().map(|m| m.evaluate(&sub.point)).collect();
        combine(&poly.terms, &evals)
    };
    let rho = {
        let mut t = Transcript::new(b"c");
        pcs.absorb_commitment(&forged.mask_commitment, &mut t);
        absorb_zk_header(&mut t, n, 3, out.claimed_sum, forged.sumcheck.mask_sum)
    };
    forged.sumcheck.mask_evals[0] += (sub.expected_eval - f_at) * rho.inverse();
    let mut t = Transcript::new(b"c");
    pcs.absorb_commitment(&forged.mask_commitment, &mut t);
    let sub = verify(n, 3, out.claimed_sum, &forged.sumcheck, 0, &mut t).unwrap();
    assert!(final_check(&poly, &sub.point, sub.expected_eval));
    assert!(matches!(
        verify_committed_run(pcs, &poly, out.claimed_sum, &forged),
        Err(VerifyError::Opening(_))
    ));

    // Another mask's commitment and opening.
    let (_, other, _) = committed_run(pcs, 41);
    let mut swapped = proof.clone();
    swapped.mask_commitment = other.mask_commitment.clone();
    assert!(verify_committed_run(pcs, &poly, out.claimed_sum, &swapped).is_err());
    let mut swapped = proof.clone();
    swapped.mask_opening = other.mask_opening;
    assert!(verify_committed_run(pcs, &poly, out.claimed_sum, &swapped).is_err());
}

#[test]
fn committed_mask_with_plain_whir_is_complete_and_sound() {
    committed_soundness(&pcs());
}

#[test]
fn committed_mask_with_hiding_whir_is_complete_and_sound() {
    committed_soundness(&HidingPcs::with_seed(HidingParams::default(), 42));
}

// ---------------- hiding ----------------

/// The masked round polynomials are not the plain prover's: round 0 (which
/// comes before any challenge, so the plain one is fixed by the witness)
/// differs, and two masks give different messages in every round.
#[test]
fn round_messages_are_masked_and_change_with_the_mask() {
    let (n, d) = (6, 3);
    let a = run(11, 100, n, d);
    let b = run(11, 101, n, d);
    let plain = prove_plain(a.poly.clone(), &mut Transcript::new(b"zk-test"));
    assert_eq!(a.out.claimed_sum, plain.claimed_sum);
    assert_eq!(a.out.claimed_sum, b.out.claimed_sum);
    assert_ne!(
        a.out.proof.sumcheck.round_polys[0],
        plain.proof.round_polys[0]
    );
    for i in 0..n {
        let (pa, pb) = (
            &a.out.proof.sumcheck.round_polys[i],
            &b.out.proof.sumcheck.round_polys[i],
        );
        for k in 0..=d {
            assert_ne!(pa[k], pb[k], "round {i} eval {k}");
        }
    }
    assert!(accepts(&a, a.out.claimed_sum, &a.out.proof));
    assert!(accepts(&b, b.out.claimed_sum, &b.out.proof));
}

/// The simulation argument of the module doc, run exactly: a different
/// witness `f' = f + Δ` with the same sum and the same value at the final
/// point, proven with the mask shifted by `δ`, gives the very same proof
/// (every round message, `G` and every `g_i(r_i)`) — so the proof tells
/// nothing of `f` beyond `H` and `f(r)`.
#[test]
fn another_witness_with_a_shifted_mask_gives_the_same_proof() {
    let (n, d) = (5, 3);
    let r = run(12, 13, n, d);
    let point = &r.out.point;
    let rho = absorb_zk_header(
        &mut Transcript::new(b"zk-test"),
        n,
        d,
        r.out.claimed_sum,
        r.out.proof.mask_sum,
    );

    // Δ = Σ_k λ_k·eq(a_k, x): Σ_k λ_k = 0 (same sum), Σ_k λ_k eq(a_k, r) = 0.
    let corners = [3usize, 17, 28];
    let at = |a: usize| {
        let bits: Vec<EF> = (0..n)
            .map(|i| EF::from(F::from_usize((a >> (n - 1 - i)) & 1)))
            .collect();
        eq_eval(&bits, point)
    };
    let e: Vec<EF> = corners.iter().map(|&a| at(a)).collect();
    let l0 = (e[1] - e[2]) * (e[0] - e[1]).inverse();
    let lambda = [l0, -EF::ONE - l0, EF::ONE];
    let mut delta = vec![EF::ZERO; 1 << n];
    for (&a, &l) in corners.iter().zip(&lambda) {
        delta[a] = l;
    }
    let mut other = r.poly.clone();
    other.mles.push(Mle::Ext(delta.clone()));
    other.terms.push(Term {
        coeff: EF::ONE,
        factors: vec![3],
    });
    assert_eq!(other.sum(), r.out.claimed_sum);
    assert!(evaluate_ext(&delta, point) == EF::ZERO);

    // D_i(t) = −Σ_x Δ(r_<i, t, x) / ρ; δ_i = (D_i − 2^{n-2-i}·Σ_{j>i} σ_j) / 2^{n-1-i}.
    let partial = |i: usize, t: EF| -> EF {
        let chunk = 1usize << (n - 1 - i);
        let sums: Vec<EF> = delta
            .chunks(chunk)
            .map(|c| c.iter().copied().sum())
            .collect();
        let mut at = point[..i].to_vec();
        at.push(t);
        evaluate_ext(&sums, &at)
    };
    let rho_inv = rho.inverse();
    let mut shifted = r.mask.coeffs().to_vec();
    let mut sigma_after = EF::ZERO;
    for i in (0..n).rev() {
        let d_at = |t: EF| -partial(i, t) * rho_inv;
        let rest = if i + 1 < n {
            mask::pow2(n - 2 - i) * sigma_after
        } else {
            EF::ZERO
        };
        let scale_inv = mask::pow2(n - 1 - i).inverse();
        // δ_i is linear: δ_i(t) = c0 + c1·t.
        let c0 = (d_at(EF::ZERO) - rest) * scale_inv;
        let c1 = (d_at(EF::ONE) - rest) * scale_inv - c0;
        assert_eq!(c0 + c1 * point[i], EF::ZERO, "δ_{i}(r_{i}) = 0");
        shifted[i][0] += c0;
        shifted[i][1] += c1;
        sigma_after += c0 + c0 + c1;
    }
    let mask = MaskPolynomial::from_coeffs(d, shifted);
    let out = prove(other, &mask, 0, &mut Transcript::new(b"zk-test"));
    assert_eq!(out.proof, r.out.proof);
    assert_ne!(out.final_evals, r.out.final_evals);
}

/// Two sumchecks of one proof: both masks in one hiding commitment, all
/// their claims in one opening (how a whole proof would use it).
#[test]
fn two_sumchecks_share_one_mask_commitment_and_opening() {
    let pcs = HidingPcs::with_seed(HidingParams::default(), 43);
    let mut rng = StdRng::seed_from_u64(44);
    let (a, b) = (random_poly(&mut rng, 4, 2), random_poly(&mut rng, 6, 3));
    let ma = MaskPolynomial::random(4, 2, &mut rng);
    let mb = MaskPolynomial::random(6, 3, &mut rng);
    let (commitment, data) = pcs.commit(&[ma.table(), mb.table()]).unwrap();
    let mut t = Transcript::new(b"shared");
    pcs.absorb_commitment(&commitment, &mut t);
    let oa = prove(a.clone(), &ma, 0, &mut t);
    let ob = prove(b.clone(), &mb, 1, &mut t);
    let claims = [oa.mask_claims.clone(), ob.mask_claims.clone()].concat();
    let opening = pcs.open_consuming(data, &claims, &mut t).unwrap();

    let verifier = |mask_a: usize, mask_b: usize| -> Result<(), VerifyError> {
        let mut t = Transcript::new(b"shared");
        pcs.absorb_commitment(&commitment, &mut t);
        let sa = verify(4, 2, oa.claimed_sum, &oa.proof, mask_a, &mut t)?;
        let sb = verify(6, 3, ob.claimed_sum, &ob.proof, mask_b, &mut t)?;
        assert!(final_check(&a, &sa.point, sa.expected_eval));
        assert!(final_check(&b, &sb.point, sb.expected_eval));
        let claims = [sa.mask_claims, sb.mask_claims].concat();
        pcs.verify(&commitment, &claims, &opening, &mut t)
    };
    assert_eq!(verifier(0, 1), Ok(()));
    // Each sumcheck must be held to its own mask.
    assert!(matches!(verifier(1, 0), Err(VerifyError::Opening(_))));
}

/// `prove_committed` of an `eq`-weighted sum: the mask has the extra degree.
#[test]
fn committed_eq_weighted_sum_verifies() {
    let mut rng = StdRng::seed_from_u64(45);
    let n = 5;
    let poly = random_poly(&mut rng, n, 2);
    let eq_point: Vec<EF> = (0..n).map(|_| random_ef(&mut rng)).collect();
    let pcs = Pcs::new(PcsParams::for_polys(&[table_num_vars(n, 3)]));
    let (proof, out) = prove_committed(
        &pcs,
        poly.clone(),
        Some(&eq_point),
        &mut rng,
        &mut Transcript::new(b"eq-c"),
    )
    .unwrap();
    let sub = verify_committed(
        &pcs,
        n,
        3,
        out.claimed_sum,
        &proof,
        &mut Transcript::new(b"eq-c"),
    )
    .expect("honest proof");
    let evals: Vec<EF> = poly.mles.iter().map(|m| m.evaluate(&sub.point)).collect();
    assert_eq!(
        eq_eval(&eq_point, &sub.point) * combine(&poly.terms, &evals),
        sub.expected_eval
    );
    // Verified as a degree-2 sumcheck it is refused.
    assert!(verify_committed(
        &pcs,
        n,
        2,
        out.claimed_sum,
        &proof,
        &mut Transcript::new(b"eq-c"),
    )
    .is_err());
}

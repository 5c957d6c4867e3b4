//! Completeness, soundness and hiding tests of the hiding commitment.

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;
use crate::field::PrimeCharacteristicRing;
use crate::field::{random_ef, random_f};
use crate::mle::evaluate_base;
use crate::sumcheck::zk::{prove_committed, verify_committed};
use crate::sumcheck::{Mle, SumOfProducts, Term};

fn rand_poly(rng: &mut StdRng, len: usize) -> Vec<F> {
    (0..len).map(|_| random_f(rng)).collect()
}

fn claim(polys: &[Vec<F>], poly: usize, rng: &mut StdRng) -> Claim {
    let n = log2_len(polys[poly].len());
    let point: Vec<EF> = (0..n).map(|_| random_ef(rng)).collect();
    Claim {
        poly,
        value: evaluate_base(&polys[poly], &point),
        point,
    }
}

/// Three polynomials of different sizes (one not a power of two) and five
/// claims, two of them on one polynomial.
fn instance(seed: u64) -> (Vec<Vec<F>>, Vec<Claim>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let polys = vec![
        rand_poly(&mut rng, 1 << 9),
        rand_poly(&mut rng, 100),
        rand_poly(&mut rng, 1 << 11),
    ];
    let claims = vec![
        claim(&polys, 2, &mut rng),
        claim(&polys, 0, &mut rng),
        claim(&polys, 1, &mut rng),
        claim(&polys, 2, &mut rng),
        claim(&polys, 0, &mut rng),
    ];
    (polys, claims)
}

fn pcs(seed: u64) -> HidingPcs {
    HidingPcs::with_seed(HidingParams::default(), seed)
}

fn open(pcs: &HidingPcs, polys: &[Vec<F>], claims: &[Claim]) -> (HidingCommitment, HidingOpening) {
    let (commitment, data) = pcs.commit(polys).expect("commit");
    let mut t = Transcript::new(b"hiding");
    pcs.absorb_commitment(&commitment, &mut t);
    let opening = pcs.open_consuming(data, claims, &mut t).expect("open");
    (commitment, opening)
}

fn verify(
    pcs: &HidingPcs,
    commitment: &HidingCommitment,
    claims: &[Claim],
    opening: &HidingOpening,
) -> Result<(), VerifyError> {
    let mut t = Transcript::new(b"hiding");
    pcs.absorb_commitment(commitment, &mut t);
    pcs.verify(commitment, claims, opening, &mut t)
}

#[test]
fn commit_open_verify_round_trips() {
    let (polys, claims) = instance(1);
    let p = pcs(10);
    let (commitment, opening) = open(&p, &polys, &claims);
    assert_eq!(commitment.poly_num_vars, vec![9, 7, 11]);
    assert_eq!(verify(&p, &commitment, &claims, &opening), Ok(()));
    // The verifier needs no generator of its own: another seed verifies.
    assert_eq!(verify(&pcs(11), &commitment, &claims, &opening), Ok(()));
    let decoded = HidingOpening::from_bytes(&opening.to_bytes()).unwrap();
    assert_eq!(verify(&p, &commitment, &claims, &decoded), Ok(()));
}

/// The same polynomials, committed twice: different roots and openings
/// (fresh masks), both valid.
#[test]
fn two_commitments_of_the_same_polynomials_differ() {
    let (polys, claims) = instance(2);
    let p = pcs(20);
    let (c1, o1) = open(&p, &polys, &claims);
    let (c2, o2) = open(&p, &polys, &claims);
    assert_ne!(c1.root, c2.root);
    assert_ne!(o1, o2);
    assert_eq!(verify(&p, &c1, &claims, &o1), Ok(()));
    assert_eq!(verify(&p, &c2, &claims, &o2), Ok(()));
    // Two schemes seeded alike commit alike: the masks are the only difference.
    let (c3, _) = open(&pcs(20), &polys, &claims);
    assert_eq!(c1.root, c3.root);
    // Seeded by the operating system: two schemes differ.
    let os = || HidingPcs::new(HidingParams::default());
    let (c4, _) = os().commit(&polys).unwrap();
    let (c5, _) = os().commit(&polys).unwrap();
    assert_ne!(c4.root, c5.root);
}

#[test]
fn rejects_a_wrong_value_in_every_claim() {
    let (polys, claims) = instance(3);
    let p = pcs(30);
    let (commitment, opening) = open(&p, &polys, &claims);
    for i in 0..claims.len() {
        let mut wrong = claims.clone();
        wrong[i].value += EF::ONE;
        assert!(
            matches!(
                verify(&p, &commitment, &wrong, &opening),
                Err(VerifyError::Opening(_))
            ),
            "claim {i}"
        );
    }
}

#[test]
fn rejects_tampered_openings_and_swapped_commitments() {
    let (polys, claims) = instance(4);
    let p = pcs(40);
    let (commitment, opening) = open(&p, &polys, &claims);
    let bytes = opening.to_bytes();
    for pos in [0, 1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 9] {
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        let rejected = match HidingOpening::from_bytes(&b) {
            Err(_) => true,
            Ok(o) => verify(&p, &commitment, &claims, &o).is_err(),
        };
        assert!(rejected, "byte {pos}");
    }
    assert!(HidingOpening::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    assert!(HidingOpening::from_bytes(&[]).is_err());

    // Another commitment to the same polynomials (other masks).
    let (other, other_opening) = open(&p, &polys, &claims);
    assert!(verify(&p, &other, &claims, &opening).is_err());
    assert!(verify(&p, &commitment, &claims, &other_opening).is_err());
    // Claims moved to another polynomial or another point.
    let mut moved = claims.clone();
    moved[0].point[0] += EF::ONE;
    assert!(verify(&p, &commitment, &moved, &opening).is_err());
    let mut t = Transcript::new(b"another prefix");
    p.absorb_commitment(&commitment, &mut t);
    assert!(p.verify(&commitment, &claims, &opening, &mut t).is_err());
}

/// A commitment's masks cover one opening: the second is refused.
#[test]
fn a_second_opening_is_refused() {
    let (polys, claims) = instance(5);
    let p = pcs(50);
    let (commitment, data) = p.commit(&polys).unwrap();
    let mut t = Transcript::new(b"hiding");
    p.absorb_commitment(&commitment, &mut t);
    let opening = p.open(&data, &claims, &mut t).expect("first opening");
    assert_eq!(verify(&p, &commitment, &claims, &opening), Ok(()));
    let mut t = Transcript::new(b"hiding");
    p.absorb_commitment(&commitment, &mut t);
    assert!(matches!(
        p.open(&data, &claims, &mut t),
        Err(PcsError::Opening(_))
    ));
}

#[test]
fn small_and_awkward_sizes_are_padded_to_a_valid_configuration() {
    let p = pcs(60);
    for sizes in [vec![1usize], vec![4, 3], vec![15], vec![19, 2]] {
        let n = p.stacked_num_vars(&sizes).expect("a size p3 accepts");
        assert!(p.params.config(n).is_ok());
        assert!(n >= *sizes.iter().max().unwrap());
    }
    let mut rng = StdRng::seed_from_u64(61);
    let polys = vec![rand_poly(&mut rng, 2), rand_poly(&mut rng, 8)];
    let claims = vec![claim(&polys, 0, &mut rng), claim(&polys, 1, &mut rng)];
    let (commitment, opening) = open(&p, &polys, &claims);
    assert_eq!(verify(&p, &commitment, &claims, &opening), Ok(()));
}

/// The zero-knowledge sumcheck with its mask behind the hiding commitment:
/// complete, and its tamper matrix rejected.
#[test]
fn zero_knowledge_sumcheck_with_a_hiding_mask_commitment() {
    let mut rng = StdRng::seed_from_u64(70);
    let n = 6;
    let len = 1 << n;
    let poly = SumOfProducts {
        num_vars: n,
        mles: vec![
            Mle::Base(rand_poly(&mut rng, len)),
            Mle::Ext((0..len).map(|_| random_ef(&mut rng)).collect()),
        ],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1, 0],
        }],
    };
    let p = pcs(71);
    let (proof, out) = prove_committed(
        &p,
        poly.clone(),
        None,
        &mut rng,
        &mut Transcript::new(b"zk"),
    )
    .unwrap();
    let check = |proof: &_| {
        verify_committed(
            &p,
            n,
            3,
            out.claimed_sum,
            proof,
            &mut Transcript::new(b"zk"),
        )
    };
    let sub = check(&proof).expect("honest proof");
    let evals: Vec<EF> = poly.mles.iter().map(|m| m.evaluate(&sub.point)).collect();
    assert_eq!(
        crate::sumcheck::combine(&poly.terms, &evals),
        sub.expected_eval
    );
    let mut tampered = proof.clone();
    tampered.sumcheck.mask_evals[1] += EF::ONE;
    assert!(matches!(check(&tampered), Err(VerifyError::Opening(_))));
    let mut tampered = proof.clone();
    tampered.sumcheck.sumcheck.round_polys[2][0] += EF::ONE;
    assert!(matches!(check(&tampered), Err(VerifyError::Sumcheck(_))));
    assert!(verify_committed(
        &p,
        n,
        3,
        out.claimed_sum + EF::ONE,
        &proof,
        &mut Transcript::new(b"zk"),
    )
    .is_err());
}

/// No polynomial, or no claim: a valid commitment and an opening that
/// proves nothing, as the seam requires; a claim on the empty commitment is
/// refused.
#[test]
fn empty_commitments_and_claim_free_openings_verify() {
    let p = pcs(80);
    let (commitment, opening) = open(&p, &[], &[]);
    assert!(commitment.poly_num_vars.is_empty());
    assert_eq!(verify(&p, &commitment, &[], &opening), Ok(()));
    let stray = Claim {
        poly: 0,
        point: vec![EF::ONE],
        value: EF::ZERO,
    };
    assert!(verify(&p, &commitment, &[stray], &opening).is_err());

    let (polys, _) = instance(8);
    let (commitment, opening) = open(&p, &polys, &[]);
    assert_eq!(verify(&p, &commitment, &[], &opening), Ok(()));
}

/// The default grinding budget holds for the models' stack sizes; larger
/// stacks, whose fold sumcheck needs more grinding, get a raised budget
/// rather than a refusal — at the same security level, with every derived
/// grinding within the budget. (Some sizes are refused for the masks' slack;
/// `stack` pads those.)
#[test]
fn grinding_budget_is_raised_only_where_the_fold_needs_it() {
    let params = HidingParams::default();
    let mut accepted = Vec::new();
    for n in 16..=28 {
        let config = match params.config(n) {
            Ok(c) => c,
            Err(e) => {
                assert!(!e.to_string().contains("grinding"), "2^{n}: {e}");
                continue;
            }
        };
        accepted.push(n);
        let budget = config.params().pow_bits;
        assert_eq!(config.params().security_level, params.security_level);
        assert!(config.max_pow_bits() <= budget, "2^{n}");
        assert!(budget >= params.pow_bits, "2^{n}");
        if n <= 21 {
            assert_eq!(budget, params.pow_bits, "2^{n}: raised at a model's size");
        }
    }
    for n in [18, 20, 21, 24, 28] {
        assert!(accepted.contains(&n), "2^{n} refused");
    }
    let raised = params.config(28).expect("2^28").params().pow_bits;
    assert!(
        raised > params.pow_bits,
        "2^28 needs more than the default budget"
    );
}

//! Completeness, soundness and hiding of masked claims passed between
//! layers: a never-committed tensor `V = A∘B` read by two consumers
//! (`Σ_x V(x)·C_j(x)`, each sending `V̇(r_j)`) and proven by its producer
//! (`Σ_j α_j V̇(r_j) = Σ_x Σ_j α_j eq(r_j, x)·A(x)·B(x) + E(x)`), `A` itself
//! a masked, never-committed input of the producer.

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::super::super::{Mle, SumOfProducts, Term};
use super::super::mask::pow2;
use super::super::{absorb_zk_header, MaskPolynomial};
use super::tests::monomial_coeffs;
use super::*;
use crate::field::{random_ef, random_f, BasedVectorSpace, Field, PrimeCharacteristicRing, F};
use crate::mle::{eq_eval, eq_table, evaluate_base};
use crate::pcs::{CommitmentScheme, HidingParams, HidingPcs};

const N: usize = 4;
/// Committed polynomials: the three sumchecks' masks, then `R` of `V`.
const R_POLY: usize = 3;
const V_MASKED: MaskedMle = MaskedMle { mle: 0, poly: None };

fn consumer_poly(v: &[F], c: &[F]) -> SumOfProducts {
    SumOfProducts {
        num_vars: N,
        mles: vec![Mle::Base(v.to_vec()), Mle::Base(c.to_vec())],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }],
    }
}

/// `Σ_x Ȧ(x)·B(x)·K(x)` with `K = Σ_j α_j eq(r_j, ·)`.
fn producer_terms() -> Vec<Term> {
    vec![Term {
        coeff: EF::ONE,
        factors: vec![0, 1, 2],
    }]
}

struct Witness {
    a: Vec<F>,
    b: Vec<F>,
    c: [Vec<F>; 2],
}

impl Witness {
    fn random(rng: &mut StdRng) -> Self {
        let mut table = || (0..1 << N).map(|_| random_f(rng)).collect::<Vec<F>>();
        Self {
            a: table(),
            b: table(),
            c: [table(), table()],
        }
    }

    fn v(&self) -> Vec<F> {
        self.a.iter().zip(&self.b).map(|(&x, &y)| x * y).collect()
    }
}

struct Masks {
    /// `R` of `V` (two claims: two head variables) and of `A` (one).
    r_v: ClaimMask,
    r_a: ClaimMask,
    g: [MaskPolynomial; 3],
}

fn masks(seed: u64) -> Masks {
    let mut rng = StdRng::seed_from_u64(seed);
    let consumer_degree = round_degree(&consumer_poly(&[], &[]).terms, &[V_MASKED], false);
    let producer_degree = round_degree(&producer_terms(), &[V_MASKED], false);
    Masks {
        r_v: ClaimMask::random(claim_mask_vars(2), &mut rng),
        r_a: ClaimMask::random(claim_mask_vars(1), &mut rng),
        g: [
            MaskPolynomial::random(N, consumer_degree, &mut rng),
            MaskPolynomial::random(N, consumer_degree, &mut rng),
            MaskPolynomial::random(N, producer_degree, &mut rng),
        ],
    }
}

#[derive(Clone, Debug, PartialEq)]
struct ChainProof {
    consumers: Vec<(ZkSumcheckProof, Vec<EF>)>,
    producer: ZkSumcheckProof,
    producer_evals: Vec<EF>,
    r_values: Vec<EF>,
}

/// The public statement: the consumers' sums.
fn statement(w: &Witness) -> [EF; 2] {
    let v = w.v();
    [0, 1].map(|j| consumer_poly(&v, &w.c[j]).sum())
}

fn draw_alphas(t: &mut Transcript) -> [EF; 2] {
    t.label(b"test/alphas");
    [t.challenge_ef(), t.challenge_ef()]
}

fn incoming(points: &[Vec<EF>], alphas: [EF; 2]) -> Vec<IncomingClaim> {
    points
        .iter()
        .zip(alphas)
        .map(|(p, coeff)| IncomingClaim {
            poly: R_POLY,
            head_vars: claim_mask_vars(2),
            point: p.clone(),
            coeff,
            fixed_head: None,
        })
        .collect()
}

/// `K = Σ_j α_j eq(r_j, ·)`.
fn combined_eq(claims: &[IncomingClaim]) -> Vec<EF> {
    let mut k = vec![EF::ZERO; 1 << N];
    for c in claims {
        for (x, e) in k.iter_mut().zip(eq_table(&c.point)) {
            *x += c.coeff * e;
        }
    }
    k
}

struct Proven {
    proof: ChainProof,
    /// Every claim the hiding commitment must open to.
    claims: Vec<Claim>,
    /// The producer's mixing challenge.
    rho: EF,
}

fn prove_chain(w: &Witness, m: &Masks, t: &mut Transcript) -> Proven {
    let v = w.v();
    let s_v = m.r_v.eval_mask(N);
    let mut claims = Vec::new();
    let mut consumers = Vec::new();
    let mut points = Vec::new();
    for j in 0..2 {
        let out = prove(
            consumer_poly(&v, &w.c[j]),
            None,
            &[(V_MASKED, &s_v)],
            &m.g[j],
            j,
            t,
        );
        assert!(out.eval_claims.is_empty(), "V has no W");
        claims.extend(out.zk.mask_claims);
        points.push(out.zk.point);
        consumers.push((out.zk.proof, out.zk.final_evals));
    }
    let alphas = draw_alphas(t);
    let inc = incoming(&points, alphas);
    let with_r: Vec<(IncomingClaim, &ClaimMask)> =
        inc.iter().map(|c| (c.clone(), &m.r_v)).collect();
    let producer = SumOfProducts {
        num_vars: N,
        mles: vec![
            Mle::Base(w.a.clone()),
            Mle::Base(w.b.clone()),
            Mle::Ext(combined_eq(&inc)),
        ],
        terms: producer_terms(),
    };
    let s_a = m.r_a.eval_mask(N);
    let degree = round_degree(&producer.terms, &[V_MASKED], false);
    let rho = {
        let mut probe = t.clone();
        let sum = alphas[0] * consumers[0].1[0] + alphas[1] * consumers[1].1[0];
        absorb_zk_header(&mut probe, N, degree, sum, m.g[2].sum())
    };
    let out = prove_with_incoming(producer, None, &[(V_MASKED, &s_a)], &with_r, &m.g[2], 2, t);
    claims.extend(out.zk.mask_claims);
    claims.extend(out.r_claims);
    Proven {
        proof: ChainProof {
            consumers,
            producer: out.zk.proof,
            producer_evals: out.zk.final_evals,
            r_values: out.r_values,
        },
        claims,
        rho,
    }
}

/// The verifier of the chain: returns the opening claims and the producer's
/// masked claim `Ȧ(c)` at its point.
fn verify_chain(
    sums: [EF; 2],
    p: &ChainProof,
    t: &mut Transcript,
) -> Result<(Vec<Claim>, Vec<EF>, EF), VerifyError> {
    let mut claims = Vec::new();
    let mut points = Vec::new();
    for (j, (proof, evals)) in p.consumers.iter().enumerate() {
        let sub = verify(
            N,
            &consumer_poly(&[], &[]).terms,
            &[V_MASKED],
            None,
            sums[j],
            proof,
            evals,
            j,
            t,
        )?;
        assert!(sub.eval_claims.is_empty() && sub.r_claims.is_empty());
        claims.extend(sub.mask_claims);
        points.push(sub.point);
    }
    let alphas = draw_alphas(t);
    let inc = incoming(&points, alphas);
    let claimed = alphas[0] * p.consumers[0].1[0] + alphas[1] * p.consumers[1].1[0];
    let statement = MaskedStatement {
        num_vars: N,
        terms: &producer_terms(),
        masked: &[V_MASKED],
        eq_point: None,
        incoming: &inc,
    };
    let sent = MaskedEvals {
        final_evals: &p.producer_evals,
        r_values: &p.r_values,
    };
    let sub = verify_with_incoming(&statement, claimed, &p.producer, &sent, 2, t)?;
    // K is public: the verifier evaluates it itself.
    let k: EF = inc
        .iter()
        .map(|c| c.coeff * eq_eval(&c.point, &sub.point))
        .sum();
    if p.producer_evals.get(2) != Some(&k) {
        return Err(VerifyError::Sumcheck("K at the producer's point".into()));
    }
    claims.extend(sub.mask_claims);
    claims.extend(sub.r_claims);
    Ok((claims, sub.point, p.producer_evals[0]))
}

/// The opening's checks, made on the tables themselves.
fn claims_hold(m: &Masks, claims: &[Claim]) -> bool {
    claims.iter().all(|c| {
        let table = match c.poly {
            0..=2 => m.g[c.poly].table(),
            R_POLY => m.r_v.table().to_vec(),
            _ => return false,
        };
        evaluate_base(&table, &c.point) == c.value
    })
}

fn run(seed: u64) -> (Witness, Masks, Proven) {
    let w = Witness::random(&mut StdRng::seed_from_u64(seed));
    let m = masks(seed + 100);
    let p = prove_chain(&w, &m, &mut Transcript::new(b"chain"));
    (w, m, p)
}

fn verify_run(w: &Witness, p: &ChainProof) -> Result<(Vec<Claim>, Vec<EF>, EF), VerifyError> {
    verify_chain(statement(w), p, &mut Transcript::new(b"chain"))
}

#[test]
fn a_producer_proves_its_consumers_masked_claims() {
    for seed in 0..4 {
        let (w, m, p) = run(seed);
        let (claims, point, a_dot) = verify_run(&w, &p.proof).expect("honest chain");
        assert_eq!(claims, p.claims);
        assert!(claims_hold(&m, &claims), "seed {seed}");
        assert_eq!(claims.len(), 3 * N + 2, "g_i(r_i) per round, R per claim");
        // Each consumer sent V̇(r_j), never V(r_j).
        let v = w.v();
        let (inc, _) = consumer_claims(&w, &p.proof);
        for (j, r_j) in inc.iter().map(|c| &c.point).enumerate() {
            let sent = p.proof.consumers[j].1[0];
            let mask = vanishing_eval(r_j) * (m.r_v.eval(r_j, EF::ZERO) + m.r_v.eval(r_j, EF::ONE));
            assert_eq!(sent, evaluate_base(&v, r_j) + mask);
            assert_ne!(sent, evaluate_base(&v, r_j));
        }
        // The producer's own masked input: Ȧ(c) = A(c) + Z(c)·S_A(c_head).
        let s_a = m.r_a.eval(&point, EF::ZERO) + m.r_a.eval(&point, EF::ONE);
        assert_eq!(
            a_dot,
            evaluate_base(&w.a, &point) + vanishing_eval(&point) * s_a
        );
    }
}

#[test]
fn claim_mask_vars_leave_two_entries_per_claim() {
    assert_eq!(claim_mask_vars(1), 1);
    assert_eq!(claim_mask_vars(2), 2);
    assert_eq!(claim_mask_vars(3), 3);
    assert_eq!(claim_mask_vars(4), 3);
    let r = ClaimMask::random(2, &mut StdRng::seed_from_u64(1));
    assert_eq!(r.table().len(), 8);
    assert_eq!(r.head_vars(), 2);
}

/// A false claim: the consumers' `V̇` and the producer's tensor disagree.
#[test]
fn false_claims_under_the_honest_prover_are_rejected() {
    let (w, m, _) = run(7);
    // The producer proves another tensor than the one the consumers read.
    let mut other = Witness::random(&mut StdRng::seed_from_u64(8));
    other.c = w.c.clone();
    let mut t = Transcript::new(b"chain");
    let honest_consumers = prove_chain(&w, &m, &mut t).proof.consumers;
    let mixed = {
        let mut p = prove_chain(&other, &m, &mut Transcript::new(b"chain")).proof;
        p.consumers = honest_consumers;
        p
    };
    assert!(matches!(
        verify_run(&w, &mixed),
        Err(VerifyError::Sumcheck(_))
    ));
    // A wrong public sum for a consumer.
    let (w, _, p) = run(9);
    let mut sums = statement(&w);
    sums[1] += EF::ONE;
    assert!(matches!(
        verify_chain(sums, &p.proof, &mut Transcript::new(b"chain")),
        Err(VerifyError::Sumcheck(_))
    ));
}

#[test]
fn every_sent_value_changed_is_rejected() {
    let (w, m, p) = run(11);
    let honest = &p.proof;
    let mut tampered: Vec<(&str, ChainProof)> = Vec::new();
    for j in 0..2 {
        let mut q = honest.clone();
        q.consumers[j].1[0] += EF::ONE;
        tampered.push(("consumer V̇", q));
        let mut q = honest.clone();
        q.consumers[j].0.mask_sum += EF::ONE;
        tampered.push(("consumer G", q));
    }
    for i in 0..N {
        let mut q = honest.clone();
        q.producer.sumcheck.round_polys[i][0] += EF::ONE;
        tampered.push(("producer round", q));
        let mut q = honest.clone();
        q.producer.mask_evals[i] += EF::ONE;
        tampered.push(("producer g_i(r_i)", q));
    }
    for k in 0..3 {
        let mut q = honest.clone();
        q.producer_evals[k] += EF::ONE;
        tampered.push(("producer final evaluation", q));
    }
    for j in 0..2 {
        let mut q = honest.clone();
        q.r_values[j] += EF::ONE;
        tampered.push(("R value", q));
    }
    for (what, q) in &tampered {
        assert!(verify_run(&w, q).is_err(), "{what}");
    }
    // Wrong counts are malformed.
    let mut q = honest.clone();
    q.r_values.pop();
    assert!(matches!(verify_run(&w, &q), Err(VerifyError::Malformed(_))));

    // An R value moved with a g_i(r_i) so that the sumcheck balances: only
    // the opening catches it. E(c) grows by 2^{-(n-1)}·α_0·Z(r_0); take it
    // off ρ·Σ g_i(r_i).
    let mut q = honest.clone();
    q.r_values[0] += EF::ONE;
    let (inc, _) = consumer_claims(&w, honest);
    let shift = inc[0].coeff * vanishing_eval(&inc[0].point) * pow2(N - 1).inverse();
    q.producer.mask_evals[0] -= shift * p.rho.inverse();
    let (claims, _, _) = verify_run(&w, &q).expect("the sumcheck balances");
    assert!(!claims_hold(&m, &claims), "the R claim does not open");
}

#[test]
fn one_hiding_opening_checks_the_masks_and_r() {
    let pcs = HidingPcs::with_seed(HidingParams::default(), 5);
    let w = Witness::random(&mut StdRng::seed_from_u64(12));
    let m = masks(13);
    let commit = |r_v: &ClaimMask| {
        let mut tables: Vec<Vec<F>> = m.g.iter().map(MaskPolynomial::table).collect();
        tables.push(r_v.table().to_vec());
        pcs.commit(&tables).unwrap()
    };
    let run_with = |committed: &ClaimMask| {
        let (commitment, data) = commit(committed);
        let mut t = Transcript::new(b"chain-c");
        pcs.absorb_commitment(&commitment, &mut t);
        let p = prove_chain(&w, &m, &mut t);
        let opening = pcs.open_consuming(data, &p.claims, &mut t).unwrap();
        (commitment, opening, p.proof)
    };
    let check = |(commitment, opening, proof): &(_, _, ChainProof)| {
        let mut t = Transcript::new(b"chain-c");
        pcs.absorb_commitment(commitment, &mut t);
        let (claims, _, _) = verify_chain(statement(&w), proof, &mut t)?;
        pcs.verify(commitment, &claims, opening, &mut t)
    };
    assert_eq!(check(&run_with(&m.r_v)), Ok(()));
    // A prover that committed another R than the one it proves with.
    let other = ClaimMask::random(2, &mut StdRng::seed_from_u64(14));
    assert!(matches!(
        check(&run_with(&other)),
        Err(VerifyError::Opening(_))
    ));
}

/// The consumers' incoming claims (points and `α`) as the verifier derives
/// them, and the transcript state after them.
fn consumer_claims(w: &Witness, p: &ChainProof) -> (Vec<IncomingClaim>, Transcript) {
    let mut t = Transcript::new(b"chain");
    let sums = statement(w);
    let points: Vec<Vec<EF>> = (0..2)
        .map(|j| {
            verify(
                N,
                &consumer_poly(&[], &[]).terms,
                &[V_MASKED],
                None,
                sums[j],
                &p.consumers[j].0,
                &p.consumers[j].1,
                j,
                &mut t,
            )
            .unwrap()
            .point
        })
        .collect();
    (incoming(&points, draw_alphas(&mut t)), t)
}

/// `Δ` over `F^{2^h}` with `Δ(a_j) = targets[j]` at each claim's head
/// `a_j`: `2m` equations over `F` in `2^h ≥ 2m` unknowns (Gaussian
/// elimination; the free unknowns are zero).
fn solve_heads(claims: &[IncomingClaim], targets: &[EF]) -> Vec<F> {
    let h = claims[0].head_vars;
    let cols = 1usize << h;
    let mut rows: Vec<Vec<F>> = Vec::new();
    for (c, &t) in claims.iter().zip(targets) {
        let eq = eq_table(&c.point[..h]);
        for coord in 0..2 {
            let mut row: Vec<F> = eq
                .iter()
                .map(|e| e.as_basis_coefficients_slice()[coord])
                .collect();
            row.push(t.as_basis_coefficients_slice()[coord]);
            rows.push(row);
        }
    }
    let mut pivots = Vec::new();
    let mut r = 0;
    for col in 0..cols {
        let Some(p) = (r..rows.len()).find(|&i| rows[i][col] != F::ZERO) else {
            continue;
        };
        rows.swap(r, p);
        let inv = rows[r][col].inverse();
        rows[r].iter_mut().for_each(|x| *x *= inv);
        for i in 0..rows.len() {
            if i != r && rows[i][col] != F::ZERO {
                let f = rows[i][col];
                let pivot = rows[r].clone();
                rows[i]
                    .iter_mut()
                    .zip(&pivot)
                    .for_each(|(x, &y)| *x -= f * y);
            }
        }
        pivots.push(col);
        r += 1;
    }
    assert_eq!(r, rows.len(), "the heads' evaluations are independent");
    let mut x = vec![F::ZERO; cols];
    for (i, &col) in pivots.iter().enumerate() {
        x[col] = rows[i][cols];
    }
    x
}

/// The producer alone, on a fixed transcript, for witness `w` and masks `m`.
fn prove_producer(w: &Witness, m: &Masks, inc: &[IncomingClaim]) -> MaskedProverOutput {
    let with_r: Vec<(IncomingClaim, &ClaimMask)> =
        inc.iter().map(|c| (c.clone(), &m.r_v)).collect();
    let poly = SumOfProducts {
        num_vars: N,
        mles: vec![
            Mle::Base(w.a.clone()),
            Mle::Base(w.b.clone()),
            Mle::Ext(combined_eq(inc)),
        ],
        terms: producer_terms(),
    };
    let s_a = m.r_a.eval_mask(N);
    let mut t = Transcript::new(b"producer");
    prove_with_incoming(poly, None, &[(V_MASKED, &s_a)], &with_r, &m.g[2], 2, &mut t)
}

/// The hiding argument, run exactly on the producer: `A₂ = A + Δ` makes a
/// different tensor `V₂ = A₂∘B` with `V₂(r_j) ≠ V(r_j)`, yet the same public
/// claims `V̇(r_j)` once `S` is shifted by `(V − V₂)(r_j)/Z(r_j)` at the two
/// heads (with `R(·, c_0)` kept, as `c_0 ≠ 1/2` allows), `S_A` shifted to
/// keep `Ȧ(c)`, and `g` shifted to absorb the rounds' difference: the
/// producer's proof, final evaluations, `R` values and claims are identical.
#[test]
fn another_private_tensor_with_shifted_masks_gives_the_same_proof() {
    let mut rng = StdRng::seed_from_u64(21);
    let w = Witness::random(&mut rng);
    let m = masks(22);
    let inc = incoming(
        &[0, 1].map(|_| (0..N).map(|_| random_ef(&mut rng)).collect()),
        [random_ef(&mut rng), random_ef(&mut rng)],
    );
    let out = prove_producer(&w, &m, &inc);
    let point = out.zk.point.clone();
    let c0 = point[0];
    let degree = m.g[2].degree();
    let rho = absorb_zk_header(
        &mut Transcript::new(b"producer"),
        N,
        degree,
        out.zk.claimed_sum,
        out.zk.proof.mask_sum,
    );

    let mut w2 = Witness {
        a: w.a.clone(),
        b: w.b.clone(),
        c: w.c.clone(),
    };
    w2.a[5] += F::ONE;
    w2.a[10] -= F::TWO;
    let (v, v2) = (w.v(), w2.v());

    // ΔS(r_j_head) = (V − V₂)(r_j)/Z(r_j): four F unknowns, two EF targets.
    let targets: Vec<EF> = inc
        .iter()
        .map(|c| {
            (evaluate_base(&v, &c.point) - evaluate_base(&v2, &c.point))
                * vanishing_eval(&c.point).inverse()
        })
        .collect();
    assert!(targets.iter().all(|&x| x != EF::ZERO));
    let ds = solve_heads(&inc, &targets);
    // R(a, c) = (1 − c)·S(a) + (2c − 1)·R_1(a): keep R(r_j_head, c_0) with
    // ΔR_1(r_j_head) = −(1 − c_0)/(2c_0 − 1)·ΔS(r_j_head).
    let k = -(EF::ONE - c0) * (c0.double() - EF::ONE).inverse();
    let dr1 = solve_heads(&inc, &targets.iter().map(|&x| k * x).collect::<Vec<_>>());
    let r_v2 = ClaimMask::from_table(
        m.r_v
            .table()
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let head = i >> 1;
                x + if i & 1 == 1 {
                    dr1[head]
                } else {
                    ds[head] - dr1[head]
                }
            })
            .collect(),
    );
    for c in &inc {
        assert_eq!(r_v2.eval(&c.point, c0), m.r_v.eval(&c.point, c0));
    }

    // ΔS_A(c_head) = (A − A₂)(c)/Z(c) keeps Ȧ(c) (on R_A's w = 0 half).
    let a_claim = IncomingClaim {
        poly: 0,
        head_vars: 1,
        point: point.clone(),
        coeff: EF::ONE,
        fixed_head: None,
    };
    let da = (evaluate_base(&w.a, &point) - evaluate_base(&w2.a, &point))
        * vanishing_eval(&point).inverse();
    let ds_a = solve_heads(&[a_claim], &[da]);
    let r_a2 = ClaimMask::from_table(
        m.r_a
            .table()
            .iter()
            .enumerate()
            .map(|(i, &x)| x + if i & 1 == 0 { ds_a[i >> 1] } else { F::ZERO })
            .collect(),
    );

    // The producer's unmasked polynomial f' = Ȧ·B·K + E for either witness;
    // g₂ = g + δ with δ_i = ((F_i − F₂_i)/ρ − 2^{n-2-i}·Σ_{j>i} σ_j) / 2^{n-1-i}.
    let kk = combined_eq(&inc);
    let f_at = |a: &[F], r_a: &ClaimMask, r_v: &ClaimMask, x: &[EF]| -> EF {
        let s_a = r_a.eval(x, EF::ZERO) + r_a.eval(x, EF::ONE);
        let a_dot = evaluate_base(a, x) + vanishing_eval(x) * s_a;
        let e: EF = inc
            .iter()
            .map(|c| c.coeff * vanishing_eval(&c.point) * r_v.eval(&c.point, x[0]))
            .sum();
        a_dot * evaluate_base(&w.b, x) * crate::mle::evaluate_ext(&kk, x)
            + e * pow2(N - 1).inverse()
    };
    let round_diff = |i: usize, t: EF| -> EF {
        let rest = N - 1 - i;
        (0..1usize << rest)
            .map(|x| {
                let mut q = point[..i].to_vec();
                q.push(t);
                q.extend((0..rest).map(|b| EF::from(F::from_usize((x >> (rest - 1 - b)) & 1))));
                f_at(&w.a, &m.r_a, &m.r_v, &q) - f_at(&w2.a, &r_a2, &r_v2, &q)
            })
            .sum()
    };
    let mut shifted = m.g[2].coeffs().to_vec();
    let mut sigma_after = EF::ZERO;
    for i in (0..N).rev() {
        let rest = if i + 1 < N {
            pow2(N - 2 - i) * sigma_after
        } else {
            EF::ZERO
        };
        let scale_inv = pow2(N - 1 - i).inverse();
        let values: Vec<EF> = (0..=degree)
            .map(|t| {
                let t = EF::from(F::from_usize(t));
                (round_diff(i, t) * rho.inverse() - rest) * scale_inv
            })
            .collect();
        let d_i = monomial_coeffs(&values);
        for (s, c) in shifted[i].iter_mut().zip(&d_i) {
            *s += *c;
        }
        sigma_after += values[0] + values[1];
    }
    let m2 = Masks {
        r_v: r_v2,
        r_a: r_a2,
        g: [
            m.g[0].clone(),
            m.g[1].clone(),
            MaskPolynomial::from_coeffs(degree, shifted),
        ],
    };

    let out2 = prove_producer(&w2, &m2, &inc);
    assert_eq!(out2.zk.claimed_sum, out.zk.claimed_sum, "the public claim");
    assert_eq!(out2.zk.proof, out.zk.proof);
    assert_eq!(out2.zk.final_evals, out.zk.final_evals);
    assert_eq!(out2.r_values, out.r_values);
    assert_eq!(out2.r_claims, out.r_claims);
    assert_eq!(out2.zk.mask_claims, out.zk.mask_claims);
    for c in &inc {
        assert_ne!(
            evaluate_base(&v2, &c.point),
            evaluate_base(&v, &c.point),
            "the private tensors differ at the claimed points"
        );
    }
}

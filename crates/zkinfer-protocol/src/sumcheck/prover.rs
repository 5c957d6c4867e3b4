//! The sumcheck prover.
//!
//! One pass over the tables per round: the fold of the previous challenge
//! (`lo + r·(hi − lo)`, in place for extension tables) is fused with the
//! computation of the next round polynomial, block by block, so each round
//! reads every table once. Base-field tables ([`Mle::Base`]) stay in the base
//! field for round 0 (products and sums in `F`); the first fold lifts them to
//! `EF`. Each factor is extrapolated linearly (`lo + t·(hi − lo)`, by
//! repeated addition of `hi − lo`), products are summed with delayed modular
//! reduction, and `p(1)` is derived from the running claim (round 0 computes
//! it, which also yields the claimed sum without a separate pass). Blocks are
//! processed in parallel (rayon) only for tables of at least 2^14 entries.
//!
//! [`prove_eq_weighted`] proves `Σ_x eq(r, x) · poly(x)` without materialising
//! the `eq` table: the round polynomial factors as
//! `α · eq(r_i, t) · q_i(t)` (Gruen's trick) where `q_i` has the degree of
//! `poly` and is computed with a split (√-size) `eq` table for the remaining
//! variables. Its proof is byte-identical to [`prove`] on the same polynomial
//! with an explicit `eq` table as an extra factor, so
//! [`verify`](super::verify) checks it with `degree = poly.degree() + 1`.

use crate::field::{Field, PrimeCharacteristicRing, EF, F};
use crate::mle::{self, ExtScalar};
use crate::transcript::Transcript;

use super::kernel::{round_pass_fold, round_pass_plain, term_infos, EqWeights, Table, TermInfo};
use super::{
    absorb_header, absorb_round, interpolate, Mle, ProverOutput, RoundMask, SumOfProducts,
    SumcheckProof, Term,
};

/// Proves `Σ_x poly(x) = poly.sum()`.
///
/// Tables shorter than `2^num_vars` are zero-padded (see [`mle::pad_to`]).
pub fn prove(poly: SumOfProducts, transcript: &mut Transcript) -> ProverOutput {
    prove_impl(poly, None, None, transcript)
}

/// Proves `Σ_x eq(eq_point, x) · poly(x)` (`eq_point.len() == poly.num_vars`)
/// without materialising the `eq` table.
///
/// The round polynomials have degree `poly.degree() + 1`; verify with
/// [`verify`](super::verify)`(num_vars, poly.degree() + 1, claimed_sum, ..)`
/// and check
/// `eq_eval(eq_point, point) · combine(&poly.terms, &final_evals) == expected_eval`.
/// `final_evals` holds the evaluations of `poly.mles` only (not of `eq`).
/// The proof equals that of [`prove`] on the same polynomial with
/// `Mle::Ext(eq_table(eq_point))` multiplied into every term.
pub fn prove_eq_weighted(
    eq_point: &[EF],
    poly: SumOfProducts,
    transcript: &mut Transcript,
) -> ProverOutput {
    assert_eq!(
        eq_point.len(),
        poly.num_vars,
        "prove_eq_weighted: eq point dimension differs from num_vars"
    );
    prove_impl(poly, Some(eq_point), None, transcript)
}

impl Mle {
    fn pad(&mut self, num_vars: usize) {
        match self {
            Mle::Base(v) => mle::pad_to(v, num_vars),
            Mle::Ext(v) => mle::pad_to(v, num_vars),
        }
    }

    fn at(&self, i: usize) -> EF {
        match self {
            Mle::Base(v) => EF::from(v[i]),
            Mle::Ext(v) => v[i],
        }
    }
}

impl SumOfProducts {
    /// The hypercube sum (computed directly; used by the prover).
    pub fn sum(&self) -> EF {
        self.check_shape();
        let n = self.num_vars;
        if self.mles.iter().any(|m| m.len() != 1 << n) {
            // Short tables: sum over a padded copy.
            let mut padded = self.clone();
            padded.mles.iter_mut().for_each(|m| m.pad(n));
            return padded.sum();
        }
        if n == 0 {
            return combine_at(&self.terms, &self.mles, 0);
        }
        let infos = term_infos(&self.terms, &self.mles);
        let s = round_pass_plain(&self.mles, 1 << (n - 1), &infos, &[0, 1], None);
        let k = infos.len();
        (0..k)
            .map(|j| self.terms[j].coeff * (s[j * 2] + s[j * 2 + 1]))
            .sum()
    }

    fn check_shape(&self) {
        let n = self.num_vars;
        for m in &self.mles {
            assert!(
                m.len() <= 1 << n,
                "sumcheck: table of {} entries exceeds 2^{n}",
                m.len()
            );
        }
        for t in &self.terms {
            for &f in &t.factors {
                assert!(f < self.mles.len(), "sumcheck: factor {f} out of range");
            }
        }
    }
}

/// `Σ coeff · Π mles[k][i]` at one table index.
pub(super) fn combine_at(terms: &[Term], mles: &[Mle], i: usize) -> EF {
    terms
        .iter()
        .map(|t| t.coeff * t.factors.iter().map(|&k| mles[k].at(i)).product::<EF>())
        .sum()
}

/// The header: the plain one, or the mask's (which binds its own data first).
fn masked_header(
    mask: &mut Option<&mut dyn RoundMask>,
    t: &mut Transcript,
    num_vars: usize,
    degree: usize,
    claimed_sum: EF,
) {
    match mask.as_deref_mut() {
        None => absorb_header(t, num_vars, degree, claimed_sum),
        Some(m) => m.header(t, num_vars, degree, claimed_sum),
    }
}

/// The rounds of [`prove`] / [`prove_eq_weighted`], with an optional
/// [`RoundMask`] that takes over the header and adds its share to every sent
/// round polynomial. The running claim the prover derives `q(1)` from stays
/// the unmasked one; only the sent messages (and so the challenges) change.
pub(super) fn prove_impl(
    mut poly: SumOfProducts,
    eq_point: Option<&[EF]>,
    mut mask: Option<&mut dyn RoundMask>,
    transcript: &mut Transcript,
) -> ProverOutput {
    poly.check_shape();
    let n = poly.num_vars;
    for m in poly.mles.iter_mut() {
        if m.len() != 1 << n {
            m.pad(n);
        }
    }
    let d = poly.degree();
    let natural_degree = d + usize::from(eq_point.is_some());
    let sent_degree = mask
        .as_deref()
        .map_or(natural_degree, |m| m.sent_degree(natural_degree));
    let coeffs: Vec<EF> = poly.terms.iter().map(|t| t.coeff).collect();

    if n == 0 {
        let claimed_sum = combine_at(&poly.terms, &poly.mles, 0);
        masked_header(&mut mask, transcript, n, sent_degree, claimed_sum);
        return ProverOutput {
            proof: SumcheckProof {
                round_polys: Vec::new(),
            },
            claimed_sum,
            point: Vec::new(),
            final_evals: poly.mles.iter().map(|m| m.at(0)).collect(),
        };
    }

    let mut round_polys = Vec::with_capacity(n);
    let mut point: Vec<EF> = Vec::with_capacity(n);
    let mut claim = EF::ZERO;
    let mut alpha = EF::ONE; // Π_{k<i} eq(r_k, ρ_k) in eq mode.
    let mut pending: Option<EF> = None;
    let mut claimed_sum = EF::ZERO;
    let mut tables: Vec<Table> = Vec::new();
    // Term factor kinds as of round 0 (later rounds: all extension).
    let infos0 = term_infos(&poly.terms, &poly.mles);

    for i in 0..n {
        let m = n - 1 - i;
        let half = 1usize << m;
        // Split eq table for the remaining variables r[i+1..].
        let eq_tabs = eq_point.map(|r| {
            let nb = m.div_ceil(2);
            let ea = mle::eq_table(&r[i + 1..n - nb]);
            let eb = mle::eq_table(&r[n - nb..]);
            (ea, eb, nb)
        });
        let weights = eq_tabs
            .as_ref()
            .map(|(ea, eb, nb)| EqWeights { ea, eb, nb: *nb });
        let ri = eq_point.map(|r| r[i]);
        // Derive q(1) from the claim unless this is round 0 (no claim yet)
        // or the eq prefactor at t = 1 vanishes.
        let derive_q1 = i > 0 && d >= 1 && ri.is_none_or(|ri| alpha * ri != EF::ZERO);
        let mut ts = vec![0usize];
        if !derive_q1 {
            ts.push(1);
        }
        ts.extend(2..=d);

        let infos: Vec<TermInfo> = infos0
            .iter()
            .map(|t| TermInfo {
                base: t.base.clone(),
                ext: t.ext.clone(),
            })
            .collect();
        if i == 1 {
            tables = std::mem::take(&mut poly.mles)
                .into_iter()
                .map(|m| match m {
                    Mle::Base(v) => Table::Base(v),
                    Mle::Ext(v) => Table::Ext(v),
                })
                .collect();
        }
        let infos = if pending.is_some() {
            // After the pending fold every table is an extension table.
            infos
                .into_iter()
                .map(|mut t| {
                    t.ext.append(&mut t.base);
                    t
                })
                .collect()
        } else {
            infos
        };
        let sums = match pending {
            None => round_pass_plain(&poly.mles, half, &infos, &ts, weights.as_ref()),
            Some(r) => round_pass_fold(&mut tables, r, half, &infos, &ts, weights.as_ref()),
        };
        let nt = ts.len();
        let at = |ti: usize| -> EF {
            coeffs
                .iter()
                .enumerate()
                .map(|(j, &c)| c * sums[j * nt + ti])
                .sum()
        };
        // q at 0..=d (and the direct q(1) if computed).
        let q0 = at(0);
        let q1_direct = (!derive_q1).then(|| at(1));
        let q1 = match (q1_direct, ri) {
            (Some(v), _) => v,
            (None, None) => claim - q0,
            (None, Some(ri)) => (claim - alpha * (EF::ONE - ri) * q0) * (alpha * ri).inverse(),
        };
        let mut q = vec![q0];
        if d >= 1 {
            q.push(q1);
        }
        let first_t2 = if derive_q1 { 1 } else { 2 };
        for ti in first_t2..nt {
            q.push(at(ti));
        }
        debug_assert_eq!(q.len(), d + 1);

        let p: Vec<EF> = match ri {
            None => q,
            Some(ri) => {
                let q_next = interpolate(&q, EF::from(F::from_usize(d + 1)));
                q.push(q_next);
                q.iter()
                    .enumerate()
                    .map(|(t, &qt)| alpha * mle::eq1(ri, EF::from(F::from_usize(t))) * qt)
                    .collect()
            }
        };
        // A mask declaring a higher degree: the same polynomial, more points.
        let mut p = p;
        for t in p.len()..=sent_degree {
            let extra = interpolate(&p[..=natural_degree], EF::from(F::from_usize(t)));
            p.push(extra);
        }
        if i == 0 {
            // Round 0 computed q(1) directly: p(0) + p(1) is the hypercube sum.
            claimed_sum = match ri {
                None => q0 + q1,
                Some(ri) => (EF::ONE - ri) * q0 + ri * q1,
            };
            claim = claimed_sum;
            masked_header(&mut mask, transcript, n, sent_degree, claimed_sum);
        }
        debug_assert_eq!(
            p[0] + if sent_degree == 0 { p[0] } else { p[1] },
            claim,
            "sumcheck prover: round {i} inconsistent"
        );
        let masked: Option<Vec<EF>> = mask.as_deref_mut().map(|m| {
            let share = m.round(i, &point, sent_degree);
            p.iter().zip(&share).map(|(&a, &b)| a + b).collect()
        });
        let r = absorb_round(transcript, masked.as_ref().unwrap_or(&p));
        claim = interpolate(&p, r);
        if let Some(ri) = ri {
            alpha *= mle::eq1(ri, r);
        }
        round_polys.push(masked.unwrap_or(p));
        point.push(r);
        pending = Some(r);
    }

    let r = pending.expect("at least one round");
    let rs = ExtScalar::new(r);
    let final_evals = if n == 1 {
        poly.mles
            .iter()
            .map(|m| match m {
                Mle::Base(v) => rs.fold_base(v[0], v[1]),
                Mle::Ext(v) => rs.fold(v[0], v[1]),
            })
            .collect()
    } else {
        tables
            .iter()
            .map(|t| match t {
                Table::Base(v) => rs.fold_base(v[0], v[1]),
                Table::Ext(v) => rs.fold(v[0], v[1]),
                Table::Soa { buf, h, .. } => {
                    rs.fold(EF::new([buf[0], buf[*h]]), EF::new([buf[1], buf[*h + 1]]))
                }
            })
            .collect()
    };
    ProverOutput {
        proof: SumcheckProof { round_polys },
        claimed_sum,
        point,
        final_evals,
    }
}

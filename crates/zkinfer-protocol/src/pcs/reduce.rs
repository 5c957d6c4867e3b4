//! Many claims on one stacked table, reduced to one by a sumcheck before
//! WHIR opens it.
//!
//! p3-whir's opening does work per claim that does not shrink with the
//! claimed polynomial (measured here: ≈ 0.4 ms per claim on a 2^20 stack,
//! so a transformer's ~1000 activation claims cost 0.4 s), while our
//! sumcheck is linear in the table. For claims `T(z_j) = v_j`, `j < k`,
//! the verifier draws `ρ` and the prover proves
//! `Σ_x T(x)·W(x) = Σ_j ρ^j v_j` with `W(x) = Σ_j ρ^j eq(z_j, x)` (degree 2);
//! at its point `r` the prover sends `T(r)`, the verifier computes `W(r)`
//! itself (`k` eq evaluations) and checks the product, and WHIR opens the
//! single claim `T(r)`.
//!
//! Soundness: a false claim survives the combination with probability
//! `(k − 1)/|EF|` (a nonzero polynomial of degree `k − 1` in `ρ`) and the
//! sumcheck `2n/|EF|`; both are drawn after the commitment, so in the
//! list-decoding regime the caller charges them over its candidate list
//! ([`reduction_error_log2`]).
//!
//! Transcript: label `b"pcs-reduce"`, `ρ`, the sumcheck, then `T(r)`.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::field::{PrimeCharacteristicRing, EF, F};
use crate::mle::{eq_eval, eq_table_scaled};
use crate::sumcheck::{self, Mle, SumOfProducts, SumcheckProof, Term};
use crate::transcript::Transcript;
use crate::VerifyError;

/// The reduction's message: the sumcheck and the table at its point.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct Reduction {
    pub sumcheck: SumcheckProof,
    pub value: EF,
}

/// A claim on the stacked table: `T(point) = value`.
pub(super) type StackClaim = (Vec<EF>, EF);

fn start(tr: &mut Transcript, num_vars: usize, claims: &[StackClaim]) -> (Vec<EF>, EF) {
    tr.label(b"pcs-reduce");
    let rho = tr.challenge_ef();
    let powers: Vec<EF> = std::iter::successors(Some(EF::ONE), |p| Some(*p * rho))
        .take(claims.len())
        .collect();
    debug_assert!(claims.iter().all(|(z, _)| z.len() == num_vars));
    let sum = claims.iter().zip(&powers).map(|((_, v), &p)| p * *v).sum();
    (powers, sum)
}

/// `W = Σ_j ρ^j eq(z_j, ·)`, built slot by slot: a claim's point starts with
/// its slot's Boolean coordinates, so its `eq` table is zero outside the slot.
pub(super) fn weights(num_vars: usize, claims: &[StackClaim], powers: &[EF]) -> Vec<EF> {
    let mut w = vec![EF::ZERO; 1 << num_vars];
    // Each claim's slot: its leading Boolean coordinates (at least its
    // polynomial's slot bits); aligned slots are nested or disjoint.
    let mut slots: BTreeMap<(usize, std::cmp::Reverse<usize>), Vec<usize>> = BTreeMap::new();
    for (j, (z, _)) in claims.iter().enumerate() {
        let (start, len) = slot_of(z, num_vars);
        slots
            .entry((start, std::cmp::Reverse(len)))
            .or_default()
            .push(j);
    }
    // Slots nested in an earlier one join it: disjoint jobs.
    let mut merged: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    for ((start, std::cmp::Reverse(len)), js) in slots {
        match merged.last_mut() {
            Some(m) if start < m.0 + m.1 => m.2.extend(js),
            _ => merged.push((start, len, js)),
        }
    }
    let mut rest: &mut [EF] = &mut w;
    let mut at = 0;
    let mut jobs = Vec::with_capacity(merged.len());
    for (start, len, js) in merged {
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(start - at);
        let (slot, tail) = tail.split_at_mut(len);
        rest = tail;
        at = start + len;
        jobs.push((start, slot, js));
    }
    jobs.into_par_iter().for_each(|(start, slot, js)| {
        for j in js {
            let z = &claims[j].0;
            let (s, len) = slot_of(z, num_vars);
            let sub = len.trailing_zeros() as usize;
            let table = eq_table_scaled(&z[num_vars - sub..], powers[j]);
            for (o, t) in slot[s - start..s - start + len].iter_mut().zip(table) {
                *o += t;
            }
        }
    });
    w
}

/// The slot `(start, len)` fixed by the leading Boolean coordinates of `z`.
fn slot_of(z: &[EF], num_vars: usize) -> (usize, usize) {
    let prefix = z
        .iter()
        .take_while(|c| **c == EF::ZERO || **c == EF::ONE)
        .count();
    let index = z[..prefix]
        .iter()
        .fold(0usize, |acc, c| (acc << 1) | usize::from(*c == EF::ONE));
    let len = 1usize << (num_vars - prefix);
    (index * len, len)
}

/// Proves the claims on `table` (`2^num_vars` entries); returns the message
/// and the one claim left for WHIR.
pub(super) fn prove(
    table: &[F],
    claims: &[StackClaim],
    tr: &mut Transcript,
) -> (Reduction, StackClaim) {
    prove_owned(table.to_vec(), claims, tr)
}

/// [`prove`], consuming the table (its sumcheck folds it in place of a copy).
pub(super) fn prove_owned(
    table: Vec<F>,
    claims: &[StackClaim],
    tr: &mut Transcript,
) -> (Reduction, StackClaim) {
    let num_vars = table.len().trailing_zeros() as usize;
    let (powers, _) = start(tr, num_vars, claims);
    let w = weights(num_vars, claims, &powers);
    let out = sumcheck::prove(
        SumOfProducts {
            num_vars,
            mles: vec![Mle::Base(table), Mle::Ext(w)],
            terms: vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1],
            }],
        },
        tr,
    );
    let value = out.final_evals[0];
    tr.absorb_ef(value);
    (
        Reduction {
            sumcheck: out.proof,
            value,
        },
        (out.point, value),
    )
}

/// Checks the reduction of `claims` on a table of `num_vars` variables;
/// returns the one claim WHIR must open.
pub(super) fn verify(
    num_vars: usize,
    claims: &[StackClaim],
    reduction: &Reduction,
    tr: &mut Transcript,
) -> Result<StackClaim, VerifyError> {
    let (powers, sum) = start(tr, num_vars, claims);
    // A false claim shows here (a wrong sum) or at the product check: both
    // are the opening's rejection.
    let sub = sumcheck::verify(num_vars, 2, sum, &reduction.sumcheck, tr)
        .map_err(|e| VerifyError::Opening(format!("claim reduction: {e}")))?;
    let w: EF = claims
        .iter()
        .zip(&powers)
        .map(|((z, _), &p)| p * eq_eval(z, &sub.point))
        .sum();
    if w * reduction.value != sub.expected_eval {
        return Err(VerifyError::Opening(
            "claim reduction: the table's value does not match the sumcheck".into(),
        ));
    }
    tr.absorb_ef(reduction.value);
    Ok((sub.point, reduction.value))
}

/// `log2` of the reduction's error for `k` claims on `num_vars` variables
/// (`(k − 1 + 2·num_vars)/|EF|`, before the candidate list); `None` for one
/// claim or none (nothing to reduce).
pub fn reduction_error_log2(num_claims: usize, num_vars: usize) -> Option<f64> {
    (num_claims >= 2)
        .then(|| ((num_claims - 1 + 2 * num_vars) as f64).log2() - crate::security::log2_ef_order())
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::mle::{eq_table, evaluate_base};

    fn ef(r: &mut StdRng) -> EF {
        EF::from(F::from_u64(r.random::<u64>())) * EF::from(F::from_u64(r.random::<u64>()))
            + EF::from(F::from_u64(r.random::<u64>()))
    }

    /// A point on a slot of `sub` variables at `slot` in a table of `n`:
    /// Boolean slot bits, then random coordinates — some of them Boolean
    /// too (a claim's own leading zeros), which nests its slot deeper.
    fn point(r: &mut StdRng, n: usize, sub: usize, slot: usize, zeros: usize) -> Vec<EF> {
        let mut z = super::super::stack::index_bits(slot, n - sub);
        z.extend((0..sub).map(|i| if i < zeros { EF::ZERO } else { ef(r) }));
        z
    }

    fn instance(seed: u64) -> (Vec<F>, Vec<StackClaim>) {
        let mut r = StdRng::seed_from_u64(seed);
        let n = 10;
        let table: Vec<F> = (0..1 << n)
            .map(|_| F::from_u64(r.random::<u64>()))
            .collect();
        let specs = [
            (8, 0, 0),
            (8, 0, 0),
            (8, 0, 2), // nested in the slot above
            (6, 4, 0),
            (6, 5, 1),
            (4, 24, 0),
            (0, 1000, 0), // a single entry
            (10, 0, 0),   // the whole table
        ];
        let claims = specs
            .iter()
            .map(|&(sub, slot, zeros)| {
                let z = point(&mut r, n, sub, slot, zeros);
                let v = evaluate_base(&table, &z);
                (z, v)
            })
            .collect();
        (table, claims)
    }

    #[test]
    fn weights_equal_the_sum_of_the_claims_eq_tables() {
        let (table, claims) = instance(1);
        let n = table.len().trailing_zeros() as usize;
        let powers: Vec<EF> = (0..claims.len())
            .map(|j| EF::from(F::from_u64(3 + j as u64)))
            .collect();
        let mut naive = vec![EF::ZERO; 1 << n];
        for ((z, _), p) in claims.iter().zip(&powers) {
            for (o, e) in naive.iter_mut().zip(eq_table(z)) {
                *o += *p * e;
            }
        }
        assert_eq!(weights(n, &claims, &powers), naive);
    }

    #[test]
    fn reduced_claim_is_the_table_at_the_sumcheck_point() {
        let (table, claims) = instance(2);
        let n = table.len().trailing_zeros() as usize;
        let mut tp = Transcript::new(b"t");
        let (red, (point, value)) = prove(&table, &claims, &mut tp);
        assert_eq!(value, evaluate_base(&table, &point));
        let mut tv = Transcript::new(b"t");
        let out = verify(n, &claims, &red, &mut tv).unwrap();
        assert_eq!(out, (point, value));
        assert_eq!(tp.challenge_ef(), tv.challenge_ef(), "transcripts in sync");
    }

    #[test]
    fn a_false_claim_or_a_changed_message_is_rejected() {
        let (table, claims) = instance(3);
        let n = table.len().trailing_zeros() as usize;
        let (red, _) = prove(&table, &claims, &mut Transcript::new(b"t"));
        let accepts = |claims: &[StackClaim], red: &Reduction| {
            verify(n, claims, red, &mut Transcript::new(b"t")).is_ok()
        };
        assert!(accepts(&claims, &red));
        for j in 0..claims.len() {
            let mut bad = claims.clone();
            bad[j].1 += EF::ONE;
            // The honest prover on the false claims (it proves the table's
            // real sum): rejected.
            let (red2, _) = prove(&table, &bad, &mut Transcript::new(b"t"));
            assert!(!accepts(&bad, &red2), "false claim {j} accepted");
            assert!(!accepts(&bad, &red), "false claim {j} accepted");
        }
        let mut bad = red.clone();
        bad.value += EF::ONE;
        assert!(!accepts(&claims, &bad));
        for i in 0..n {
            for k in 0..3 {
                let mut bad = red.clone();
                bad.sumcheck.round_polys[i][k] += EF::ONE;
                assert!(!accepts(&claims, &bad), "round {i} value {k} changed");
            }
        }
    }
}

//! The LogUp verifier: the root equation, one sumcheck check per layer, and
//! the leaf checks of the module doc.

use crate::field::{PrimeCharacteristicRing, EF};
use crate::mle::{eq_eval, num_vars_for};
use crate::sumcheck::{self, Subclaim, SumcheckProof};
use crate::transcript::Transcript;
use crate::VerifyError;

use super::transcript::{
    absorb_statements, absorb_tops, absorb_witness_evals, draw_alpha_beta, Statement, Walk,
};
use super::{evaluate_col, phi, ColumnClaims, LookupClaims, LookupProof, LookupTable};

/// Degree of the layer sumchecks: `eq · p · q`.
pub(super) const LAYER_DEGREE: usize = 3;

/// `witness_lens[i]` is the row count of witness `i`.
pub fn verify(
    table: &LookupTable,
    witness_lens: &[usize],
    proof: &LookupProof,
    transcript: &mut Transcript,
) -> Result<LookupClaims, VerifyError> {
    let mut claims = verify_many(&[(table, witness_lens)], proof, transcript)?;
    Ok(claims.pop().expect("one instance, one set of claims"))
}

/// The verifier of [`super::prove_many`]: per table, the table and its
/// witnesses' row counts. Returns the claims per table, in order.
pub fn verify_many(
    instances: &[(&LookupTable, &[usize])],
    proof: &LookupProof,
    transcript: &mut Transcript,
) -> Result<Vec<LookupClaims>, VerifyError> {
    let layers: Vec<(&SumcheckProof, &[[EF; 4]])> = proof
        .layers
        .iter()
        .map(|l| (&l.sumcheck, &l.evals[..]))
        .collect();
    let sent = GkrSent {
        tops: &proof.tops,
        layers: &layers,
        witness_evals: &proof.witness_evals,
    };
    verify_gkr(instances, &sent, transcript, |k, claim, sc, t| {
        if sc.round_polys.len() != k || sc.round_polys.iter().any(|p| p.len() != LAYER_DEGREE + 1) {
            return Err(VerifyError::Malformed(
                "lookup proof: layer sumcheck of wrong shape".into(),
            ));
        }
        sumcheck::verify(k, LAYER_DEGREE, claim, sc, t)
    })
}

/// What a LogUp-GKR proof sends, its layer sumchecks' proofs of type `L`.
pub(super) struct GkrSent<'a, L> {
    pub tops: &'a [Vec<EF>],
    pub layers: &'a [(&'a L, &'a [[EF; 4]])],
    pub witness_evals: &'a [Vec<EF>],
}

/// The LogUp-GKR verifier with each layer's sumcheck left to
/// `layer_sumcheck(k, claimed_sum, proof, transcript)`, which verifies the
/// eq-weighted degree-3 sumcheck over `k` variables and returns what its
/// final point must satisfy (the plain and zero-knowledge verifiers differ
/// only in it).
pub(super) fn verify_gkr<L>(
    instances: &[(&LookupTable, &[usize])],
    proof: &GkrSent<'_, L>,
    transcript: &mut Transcript,
    mut layer_sumcheck: impl FnMut(usize, EF, &L, &mut Transcript) -> Result<Subclaim, VerifyError>,
) -> Result<Vec<LookupClaims>, VerifyError> {
    let malformed = |s: &str| VerifyError::Malformed(format!("lookup proof: {s}"));
    let depths = check_sent_shapes(instances, Some(proof.tops), proof.witness_evals)?;
    let max_depth = depths.iter().copied().max().unwrap_or(0);
    if proof.layers.len() != max_depth.saturating_sub(1) {
        return Err(malformed("wrong number of layers"));
    }

    let statements: Vec<Statement> = instances
        .iter()
        .map(|(table, lens)| Statement {
            width: table.width(),
            table_len: table.len(),
            witness_lens: lens.to_vec(),
        })
        .collect();
    absorb_statements(transcript, &statements);
    let (alpha, beta) = draw_alpha_beta(transcript);
    absorb_tops(transcript, proof.tops);

    check_roots(instances, proof.tops)?;

    let mut walk = Walk::start(transcript, depths, proof.tops);

    for (k, &(layer_proof, layer_evals)) in (1..max_depth).zip(proof.layers) {
        if layer_evals.len() != walk.active(k).len() {
            return Err(malformed("layer evaluations of wrong count"));
        }
        let mut claim = EF::ZERO;
        let mut combined = EF::ZERO;
        for ((i, cp, cq), e) in walk.start_layer(transcript, k).into_iter().zip(layer_evals) {
            let (p_claim, q_claim) = walk.claim(i);
            claim += cp * p_claim + cq * q_claim;
            combined += layer_combination(e, cp, cq);
        }
        let sub = layer_sumcheck(k, claim, layer_proof, transcript)?;
        if sub.point.len() != k {
            return Err(malformed("sumcheck point of wrong length"));
        }
        if eq_eval(walk.point(), &sub.point) * combined != sub.expected_eval {
            return Err(VerifyError::Lookup(format!(
                "layer {k}: final evaluations inconsistent"
            )));
        }
        walk.finish_layer(transcript, k, layer_evals, &sub.point);
    }

    let all_claims = check_leaves(instances, &mut walk, proof.witness_evals, alpha, beta)?;
    absorb_witness_evals(transcript, proof.witness_evals);
    Ok(all_claims)
}

/// The tables' shapes and the sizes of the tops and witness evaluations;
/// returns the trees' depths (per table: its witnesses, then the table).
pub(super) fn check_sent_shapes(
    instances: &[(&LookupTable, &[usize])],
    tops: Option<&[Vec<EF>]>,
    witness_evals: &[Vec<EF>],
) -> Result<Vec<usize>, VerifyError> {
    let malformed = |s: &str| VerifyError::Malformed(format!("lookup proof: {s}"));
    if instances.is_empty() {
        return Err(malformed("no table"));
    }
    for (table, _) in instances {
        table.check_shape().map_err(VerifyError::Lookup)?;
    }
    // Trees: per instance, its witnesses, then its table.
    let depths: Vec<usize> = instances
        .iter()
        .flat_map(|(table, lens)| lens.iter().copied().chain(std::iter::once(table.len())))
        .map(num_vars_for)
        .collect();
    let n_trees = depths.len();
    let widths: Vec<usize> = instances
        .iter()
        .flat_map(|(table, lens)| std::iter::repeat_n(table.width(), lens.len()))
        .collect();
    if let Some(tops) = tops {
        if tops.len() != n_trees {
            return Err(malformed("wrong number of tops"));
        }
        for (top, &d) in tops.iter().zip(&depths) {
            if top.len() != if d == 0 { 2 } else { 4 } {
                return Err(malformed("top of wrong size"));
            }
        }
    }
    if witness_evals.len() != widths.len()
        || witness_evals
            .iter()
            .zip(&widths)
            .any(|(e, &w)| e.len() != w)
    {
        return Err(malformed("witness evaluations of wrong shape"));
    }

    Ok(depths)
}

/// The root equation per table on the tops (step 3).
pub(super) fn check_roots(
    instances: &[(&LookupTable, &[usize])],
    tops: &[Vec<EF>],
) -> Result<(), VerifyError> {
    // Root check per table: Σ_witness P_i/Q_i = P_T/Q_T, cross-multiplied.
    let roots: Vec<(EF, EF)> = tops
        .iter()
        .map(|t| {
            if t.len() == 2 {
                (t[0], t[1])
            } else {
                (t[0] * t[3] + t[1] * t[2], t[2] * t[3])
            }
        })
        .collect();
    if roots.iter().any(|r| r.1 == EF::ZERO) {
        return Err(VerifyError::Lookup("a root denominator is zero".into()));
    }
    let mut first = 0;
    for (_, lens) in instances {
        let table_tree = first + lens.len();
        let (pw, qw) = roots[first..table_tree]
            .iter()
            .fold((EF::ZERO, EF::ONE), |(p, q), &(pi, qi)| {
                (p * qi + pi * q, q * qi)
            });
        let (pt, qt) = roots[table_tree];
        if pw * qt != pt * qw {
            return Err(VerifyError::Lookup(
                "witness and table fraction sums differ".into(),
            ));
        }
        first = table_tree + 1;
    }

    Ok(())
}

/// The leaf checks of the module doc, once the walk is over; returns the
/// claims per table.
pub(super) fn check_leaves(
    instances: &[(&LookupTable, &[usize])],
    walk: &mut Walk,
    witness_evals: &[Vec<EF>],
    alpha: EF,
    beta: EF,
) -> Result<Vec<LookupClaims>, VerifyError> {
    // Leaf checks.
    let mut all_claims = Vec::with_capacity(instances.len());
    let mut tree = 0;
    let mut witness = 0;
    for (ti, &(table, lens)) in instances.iter().enumerate() {
        let mut witness_claims = Vec::with_capacity(lens.len());
        for &len in lens {
            let (pt, p_claim, q_claim) = walk.take_leaf(tree);
            tree += 1;
            if p_claim != prefix_indicator_eval(len, &pt) {
                return Err(VerifyError::Lookup(format!(
                    "table {ti}, witness {}: padding numerators are wrong",
                    witness_claims.len()
                )));
            }
            let values = witness_evals[witness].clone();
            witness += 1;
            if q_claim != alpha - phi(&values, beta) {
                return Err(VerifyError::Lookup(format!(
                    "table {ti}, witness {}: column evaluations inconsistent",
                    witness_claims.len()
                )));
            }
            witness_claims.push(ColumnClaims { point: pt, values });
        }
        let (m_point, m_value, q_claim) = walk.take_leaf(tree);
        tree += 1;
        if q_claim != alpha - phi(&table_column_evals(table, &m_point), beta) {
            return Err(VerifyError::Lookup(format!(
                "table {ti}: the table side does not match the public table"
            )));
        }
        all_claims.push(LookupClaims {
            witnesses: witness_claims,
            multiplicities: ColumnClaims {
                point: m_point,
                values: vec![m_value],
            },
        });
    }
    Ok(all_claims)
}

/// The layer combination `cp (p0 q1 + p1 q0) + cq q0 q1` at given values.
pub(super) fn layer_combination(e: &[EF; 4], cp: EF, cq: EF) -> EF {
    let [p0, p1, q0, q1] = *e;
    cp * (p0 * q1 + p1 * q0) + cq * (q0 * q1)
}

/// MLE of the indicator of `[0, n)` over `2^point.len()` entries (big-endian), in O(len).
pub fn prefix_indicator_eval(n: usize, point: &[EF]) -> EF {
    let d = point.len();
    if d < usize::BITS as usize && n >= 1usize << d {
        return EF::ONE;
    }
    // x < n iff at the first bit where x and n differ, n has 1 and x has 0.
    let mut acc = EF::ZERO;
    let mut prefix = EF::ONE;
    for (j, &r) in point.iter().enumerate() {
        if (n >> (d - 1 - j)) & 1 == 1 {
            acc += prefix * (EF::ONE - r);
            prefix *= r;
        } else {
            prefix *= EF::ONE - r;
        }
    }
    acc
}

/// MLE of the index column `[0, 2^n)` at an `n`-variable point: `Σ 2^(n−1−i) r_i`.
pub fn range_column_eval(point: &[EF]) -> EF {
    point.iter().fold(EF::ZERO, |acc, &r| acc.double() + r)
}

/// Evaluates the public table's columns, padded with copies of their last
/// row, at `point` (closed form for range tables, which need no padding).
pub(super) fn table_column_evals(table: &LookupTable, point: &[EF]) -> Vec<EF> {
    match table.range_bits() {
        Some(bits) if bits == point.len() => vec![range_column_eval(point)],
        _ => {
            let padding = EF::ONE - prefix_indicator_eval(table.len(), point);
            table
                .columns
                .iter()
                .map(|c| evaluate_col(c, point) + padding * EF::from(c[c.len() - 1]))
                .collect()
        }
    }
}

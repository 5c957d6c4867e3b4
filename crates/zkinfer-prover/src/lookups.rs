//! The lookup phase: one LogUp-GKR proof per large table and one for all
//! small tables together ([`batches`]; `logup::prove_many`: a root equation
//! per table, one batched sumcheck per layer — a transformer's dozens of
//! small function tables would otherwise pay a GKR each), with a table's
//! witnesses of equal size merged into one longer witness.
//!
//! LogUp-GKR costs each *tree* four field elements per layer, so a deep CNN
//! with dozens of range-checked tensors would pay dozens of trees. Witnesses
//! of the same padded length `2^n` are concatenated instead (member `m` at
//! rows `m·2^n ..`): one tree per size. LogUp then leaves one claim per
//! column on the concatenation at a point `(s, r)`; the prover sends every
//! member's committed columns at `r` and the verifier checks
//! `claim = Σ_m eq(s, m) · (scale · member(r) + offset)`. The member evaluations become
//! claims on the activation commitment.

use std::time::Instant;

use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::logup::{self, LookupClaims, LookupInstance, LookupWitness};
use zkinfer_protocol::mle::{eq_table, evaluate_base};
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::{Transcript, VerifyError, EF};

use crate::claims::ClaimBook;
use crate::layout::{table_for, Layout, TableKey, TableLayout, WitnessGroup};
use crate::proof::LookupsProof;
use crate::prover::PhaseTimes;
use zkinfer_model::ir::{QOp, QuantModel};

/// Every group's concatenated witness, from the committed polynomials.
pub fn group_witnesses(table: &TableLayout, polys: &[Vec<F>]) -> Vec<LookupWitness> {
    let width = table.witnesses.first().map_or(0, Vec::len);
    table
        .groups
        .iter()
        .map(|g| LookupWitness {
            columns: (0..width)
                .map(|c| {
                    let mut col = Vec::with_capacity(g.members.len() << g.num_vars);
                    for &m in &g.members {
                        let r = table.witnesses[m][c];
                        let p = &polys[r.poly];
                        let off = f_from_i64(r.offset);
                        if r.scale == 1 && r.offset == 0 {
                            col.extend_from_slice(p);
                        } else {
                            let k = F::from_u64(r.scale);
                            col.extend(p.iter().map(|&x| x * k + off));
                        }
                    }
                    col
                })
                .collect(),
        })
        .collect()
}

/// Splits a group's claim point into its member selector `s` and row point `r`.
fn split(g: &WitnessGroup, point: &[EF]) -> Option<(Vec<EF>, Vec<EF>)> {
    let sel = point.len().checked_sub(g.num_vars)?;
    Some((point[..sel].to_vec(), point[sel..].to_vec()))
}

/// A table's LogUp rows, padded: its own and its witness groups'.
pub fn table_rows(layout: &Layout, t: &TableLayout) -> usize {
    (1usize << layout.activation_num_vars[t.multiplicity_poly])
        + t.groups
            .iter()
            .map(|g| g.members.len() << g.num_vars)
            .sum::<usize>()
}

/// Tables of at least this many rows get a LogUp proof of their own: their
/// fraction trees are the phase's memory, and live one table at a time.
const OWN_PROOF_ROWS: usize = 1 << 20;

/// Which tables share a LogUp-GKR proof, in proof order: each large table
/// alone, then every small one together (a transformer's dozens of function
/// tables would otherwise pay a GKR each). Derived from the layout alone.
pub fn batches(layout: &Layout) -> Vec<Vec<usize>> {
    let (large, small): (Vec<usize>, Vec<usize>) = (0..layout.tables.len())
        .partition(|&t| table_rows(layout, &layout.tables[t]) >= OWN_PROOF_ROWS);
    let mut out: Vec<Vec<usize>> = large.into_iter().map(|t| vec![t]).collect();
    if !small.is_empty() {
        out.push(small);
    }
    out
}

/// Proves every table's lookups ([`batches`]: one LogUp-GKR proof per
/// batch); files the resulting claims in `book`.
pub fn prove(
    model: &QuantModel,
    layout: &Layout,
    polys: &[Vec<F>],
    book: &mut ClaimBook,
    tr: &mut Transcript,
    timings: &mut PhaseTimes,
) -> LookupsProof {
    let mut logups = Vec::new();
    let mut claims: Vec<Option<LookupClaims>> = vec![None; layout.tables.len()];
    for batch in batches(layout) {
        let clock = Instant::now();
        let tables: Vec<_> = batch
            .iter()
            .map(|&t| table_for(model, &layout.tables[t].key))
            .collect();
        let witnesses: Vec<_> = batch
            .iter()
            .map(|&t| group_witnesses(&layout.tables[t], polys))
            .collect();
        let instances: Vec<LookupInstance<'_>> = batch
            .iter()
            .zip(&tables)
            .zip(&witnesses)
            .map(|((&t, table), ws)| LookupInstance {
                table,
                witnesses: ws,
                multiplicities: &polys[layout.tables[t].multiplicity_poly],
            })
            .collect();
        tr.label(b"lookup");
        let (logup, batch_claims) = logup::prove_many(&instances, tr);
        logups.push(logup);
        for (&t, c) in batch.iter().zip(batch_claims) {
            claims[t] = Some(c);
        }
        // A joint proof's time, apportioned to its tables by rows (its work
        // is linear in them), so reports keep a per-table breakdown.
        let elapsed = clock.elapsed();
        let rows: Vec<usize> = batch
            .iter()
            .map(|&t| table_rows(layout, &layout.tables[t]))
            .collect();
        let total: usize = rows.iter().sum();
        for (&t, &r) in batch.iter().zip(&rows) {
            let share = elapsed.mul_f64(r as f64 / total.max(1) as f64);
            timings.add(table_name(model, &layout.tables[t].key), share);
        }
    }
    let claims: Vec<LookupClaims> = claims
        .into_iter()
        .map(|c| c.expect("every table is in a batch"))
        .collect();
    let clock = Instant::now();
    let mut member_evals = Vec::with_capacity(layout.tables.len());
    for (t, claims) in layout.tables.iter().zip(&claims) {
        let mut table_evals = Vec::with_capacity(t.groups.len());
        for (g, c) in t.groups.iter().zip(&claims.witnesses) {
            let (_, r) = split(g, &c.point).expect("logup returns the group's point");
            let evals: Vec<Vec<EF>> = g
                .members
                .iter()
                .map(|&m| {
                    t.witnesses[m]
                        .iter()
                        .map(|col| evaluate_base(&polys[col.poly], &r))
                        .collect()
                })
                .collect();
            table_evals.push(evals);
        }
        member_evals.push(table_evals);
    }
    timings.add("member evaluations".into(), clock.elapsed());
    let proof = LookupsProof {
        logups,
        member_evals,
    };
    file_all_claims(layout, &claims, &proof, book, tr)
        .expect("honest lookup claims are consistent");
    proof
}

/// A table's name in time reports: its kind, and the function of a LUT.
pub fn table_name(model: &QuantModel, key: &TableKey) -> String {
    match key {
        TableKey::Range { bits } => format!("range 2^{bits}"),
        TableKey::Clamp { .. } => "clamp".into(),
        TableKey::Saturate { bits, .. } => format!("clamp 2^{bits}"),
        TableKey::Lut { op } => match model.ops.get(*op) {
            Some(QOp::Lut { func, .. }) => format!("lut {func}"),
            _ => "lut".into(),
        },
    }
}

/// Checks the lookup proofs of every table; files the resulting claims in `book`.
pub fn verify(
    model: &QuantModel,
    layout: &Layout,
    proof: &LookupsProof,
    book: &mut ClaimBook,
    tr: &mut Transcript,
) -> Result<(), VerifyError> {
    let batches = batches(layout);
    if proof.logups.len() != batches.len() {
        return Err(VerifyError::Malformed(
            "lookup proofs do not match the layout's tables".into(),
        ));
    }
    let mut claims: Vec<Option<LookupClaims>> = vec![None; layout.tables.len()];
    for (batch, logup) in batches.iter().zip(&proof.logups) {
        let tables: Vec<_> = batch
            .iter()
            .map(|&t| table_for(model, &layout.tables[t].key))
            .collect();
        let lens: Vec<Vec<usize>> = batch
            .iter()
            .map(|&t| {
                layout.tables[t]
                    .groups
                    .iter()
                    .map(|g| g.members.len() << g.num_vars)
                    .collect()
            })
            .collect();
        let instances: Vec<(&logup::LookupTable, &[usize])> =
            tables.iter().zip(&lens).map(|(t, l)| (t, &l[..])).collect();
        tr.label(b"lookup");
        for (&t, c) in batch.iter().zip(logup::verify_many(&instances, logup, tr)?) {
            claims[t] = Some(c);
        }
    }
    let claims: Vec<LookupClaims> = claims.into_iter().flatten().collect();
    file_all_claims(layout, &claims, proof, book, tr)
}

/// [`file_claims`] for every table, in order.
fn file_all_claims(
    layout: &Layout,
    claims: &[LookupClaims],
    proof: &LookupsProof,
    book: &mut ClaimBook,
    tr: &mut Transcript,
) -> Result<(), VerifyError> {
    if claims.len() != layout.tables.len() || proof.member_evals.len() != layout.tables.len() {
        return Err(VerifyError::Malformed(
            "lookup claims do not match the layout".into(),
        ));
    }
    for ((t, c), evals) in layout.tables.iter().zip(claims).zip(&proof.member_evals) {
        file_claims(t, c, evals, book, tr)?;
    }
    Ok(())
}

/// Checks the member evaluations against LogUp's claims on the
/// concatenations, absorbs them, and files the claims on committed polys.
fn file_claims(
    t: &TableLayout,
    claims: &LookupClaims,
    member_evals: &[Vec<Vec<EF>>],
    book: &mut ClaimBook,
    tr: &mut Transcript,
) -> Result<(), VerifyError> {
    let malformed = || VerifyError::Malformed("lookup claims do not match the layout".into());
    if claims.witnesses.len() != t.groups.len() || member_evals.len() != t.groups.len() {
        return Err(malformed());
    }
    tr.label(b"lookup-members");
    for ((g, c), evals) in t.groups.iter().zip(&claims.witnesses).zip(member_evals) {
        let (s, r) = split(g, &c.point).ok_or_else(malformed)?;
        if evals.len() != g.members.len() {
            return Err(malformed());
        }
        let sel = eq_table(&s);
        for (c_idx, &claimed) in c.values.iter().enumerate() {
            let mut combined = EF::ZERO;
            for ((&m, e), &w) in g.members.iter().zip(evals).zip(&sel) {
                let col = t.witnesses[m].get(c_idx).ok_or_else(malformed)?;
                let v = *e.get(c_idx).ok_or_else(malformed)?;
                combined +=
                    w * (v * EF::from(F::from_u64(col.scale)) + EF::from(f_from_i64(col.offset)));
            }
            if combined != claimed {
                return Err(VerifyError::Lookup(
                    "the members' evaluations do not combine to the lookup's claim".into(),
                ));
            }
        }
        for (&m, e) in g.members.iter().zip(evals) {
            if e.len() != t.witnesses[m].len() {
                return Err(malformed());
            }
            tr.absorb_efs(e);
            for (col, &v) in t.witnesses[m].iter().zip(e) {
                book.activation.push(Claim {
                    poly: col.poly,
                    point: r.clone(),
                    value: v,
                });
            }
        }
    }
    let m = &claims.multiplicities;
    if m.values.len() != 1 {
        return Err(VerifyError::Malformed(
            "lookup multiplicity claim is malformed".into(),
        ));
    }
    book.activation.push(Claim {
        poly: t.multiplicity_poly,
        point: m.point.clone(),
        value: m.values[0],
    });
    Ok(())
}

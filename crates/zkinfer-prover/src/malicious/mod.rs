//! A malicious prover, for soundness tests only (`cfg(test)` or the
//! `malicious` feature).
//!
//! A tampered *proof* is the easy case; the dangerous one is an internally
//! consistent proof of a false statement. [`prove_forged`] edits one value of
//! the prover's witness — a tensor of the trace (every later op is then
//! re-run on it, so the claimed output follows the edit), a committed
//! tensor's padding entry, or any entry of any committed polynomial — re-derives
//! what the edit forces (the op's other committed columns from the edited
//! value, and multiplicities that count every looked-up row, putting a row
//! that is not in the table on a padding row of the table when there is one),
//! and then runs the honest prover code to the end. The verifier must reject
//! every such proof: [`committed_columns`] and [`sweep_edits`] enumerate the
//! edits the standing sweep (`malicious/tests.rs`) tries for every op.

use std::collections::HashMap;

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, PrimeField64, F};
use zkinfer_protocol::logup::{LookupTable, LookupWitness};
use zkinfer_protocol::mle::num_vars_for;

use crate::keys::ProvingKey;
use crate::layout::{table_for, TensorKind};
use crate::lookups::group_witnesses;
use crate::prover::{
    activation_witness, fill_multiplicities, prove_witness, PaddedEdit, ProveOutput, ProveTimings,
    Witness,
};
use crate::shape::PaddedShape;
use crate::ProveError;

/// One edit of the prover's witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Tensor `tensor`'s logical element `index` (any op's output, committed
    /// or not); every later op is re-run on the edited trace.
    Trace {
        tensor: TensorId,
        index: usize,
        value: i64,
    },
    /// A committed tensor's entry at `index` of its padded arrangement
    /// (padding positions included); the producing op's other committed
    /// columns are re-derived from it.
    Padded {
        tensor: TensorId,
        index: usize,
        value: i64,
    },
    /// Entry `index` of committed polynomial `poly`, nothing re-derived
    /// (multiplicities are, unless `poly` is one).
    Poly { poly: usize, index: usize, value: F },
}

/// What a committed activation polynomial holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedColumn {
    pub poly: usize,
    /// The op that commits it (`None` for a multiplicity column).
    pub op: Option<usize>,
    /// E.g. `"Requant y"`, `"Requant excess limb 1"`, `"multiplicity of Clamp{..}"`.
    pub role: String,
    /// `Some(t)` when the polynomial is tensor `t` itself (an op's output).
    pub tensor: Option<TensorId>,
    /// How its real entries sit in the hypercube; the rest is padding.
    pub shape: PaddedShape,
}

impl CommittedColumn {
    /// Swept positions: `(padded index, logical index)` of the first, a
    /// middle and the last real entry, and of the first and last padding
    /// entry (`None`).
    pub fn positions(&self) -> Vec<(usize, Option<usize>)> {
        let len = self.shape.len();
        let mut real = vec![false; self.shape.padded_len()];
        for i in 0..len {
            real[self.shape.padded_index(i)] = true;
        }
        let mut out: Vec<(usize, Option<usize>)> = [0, len / 2, len - 1]
            .into_iter()
            .map(|i| (self.shape.padded_index(i), Some(i)))
            .collect();
        let padding = || {
            real.iter()
                .enumerate()
                .filter(|(_, r)| !**r)
                .map(|(k, _)| k)
        };
        out.extend(padding().next().map(|k| (k, None)));
        out.extend(padding().next_back().map(|k| (k, None)));
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Every committed activation polynomial, described (each op lists its own).
pub fn committed_columns(pk: &ProvingKey) -> Vec<CommittedColumn> {
    let (model, layout) = (&pk.model, &pk.layout);
    let mut out = Vec::new();
    for op in &layout.ops {
        let i = op.index();
        let t = model.ops[i].io().1;
        for c in op.committed() {
            out.push(CommittedColumn {
                poly: c.poly,
                op: Some(i),
                role: format!("op #{i} {} {}", model.ops[i].name(), c.role),
                tensor: c.is_output.then_some(t),
                shape: layout.shapes[t].clone(),
            });
        }
    }
    for t in &layout.tables {
        let poly = t.multiplicity_poly;
        out.push(CommittedColumn {
            poly,
            op: None,
            role: format!("multiplicity of {:?}", t.key),
            tensor: None,
            shape: PaddedShape::flat(table_for(model, &t.key).len()),
        });
    }
    out
}

/// The edits the standing sweep tries on one column: at its
/// [`CommittedColumn::positions`],
/// the honest value ±1, and for op outputs also 0, the clamp bounds and a
/// MaxPool's padding value.
pub fn sweep_edits(pk: &ProvingKey, input: &[i64], col: &CommittedColumn) -> Vec<Edit> {
    let Ok(values) = crate::prover::run_model(pk, input) else {
        return Vec::new();
    };
    let mut polys = match activation_witness(pk, &values, &[]) {
        Ok(p) => p,
        Err(_) => return Vec::new(),
    };
    if fill_multiplicities(pk, &mut polys).is_err() {
        return Vec::new();
    }
    let honest = &polys[col.poly];
    // Values a padding row, a saturated limb or a padding tap might make
    // admissible.
    let bounds: Option<Vec<i64>> = col.op.and_then(|i| match &pk.model.ops[i] {
        QOp::Requant { min, max, .. } => Some(vec![*min, *max]),
        QOp::MaxPool { input, .. } => Some(vec![crate::ops::maxpool_pad_value(
            pk.model.tensors[*input].bound,
        )]),
        _ => None,
    });
    let mut edits = Vec::new();
    for (k, logical) in col.positions() {
        // Multiplicity columns are stored unpadded.
        let h = signed(honest.get(k).copied().unwrap_or(F::ZERO));
        let mut vals = vec![h + 1, h - 1];
        if col.tensor.is_some() {
            vals.push(0);
            vals.extend(bounds.iter().flatten().copied());
        }
        vals.sort_unstable();
        vals.dedup();
        for v in vals.into_iter().filter(|&v| v != h) {
            edits.push(match (col.tensor, logical) {
                (Some(tensor), Some(index)) => Edit::Trace {
                    tensor,
                    index,
                    value: v,
                },
                (Some(tensor), None) => Edit::Padded {
                    tensor,
                    index: k,
                    value: v,
                },
                (None, _) => Edit::Poly {
                    poly: col.poly,
                    index: k,
                    value: f_from_i64(v),
                },
            });
        }
    }
    edits
}

/// A field element as a signed integer (values near 0 either way).
fn signed(x: F) -> i64 {
    let v = x.as_canonical_u64();
    if v > F::ORDER_U64 / 2 {
        -((F::ORDER_U64 - v) as i64)
    } else {
        v as i64
    }
}

/// The forged statement and its proof.
pub struct Forgery {
    /// The output the proof claims (the edited trace's output).
    pub output: Vec<i64>,
    pub prove: ProveOutput,
}

/// Proves `input` with `edit` applied to the witness (module doc). `Err`
/// when the edit cannot be carried through (e.g. a later op's bound breaks):
/// no such forgery exists.
pub fn prove_forged(pk: &ProvingKey, input: &[i64], edit: Edit) -> Result<Forgery, ProveError> {
    prove_forged_witness(pk, input, forged_witness(pk, input, edit)?)
}

/// Runs the honest prover on a witness a test has forged by hand.
pub(crate) fn prove_forged_witness(
    pk: &ProvingKey,
    input: &[i64],
    witness: Witness,
) -> Result<Forgery, ProveError> {
    let output = witness.values[pk.model.output].clone();
    let prove = prove_witness(pk, input, witness, ProveTimings::default(), &mut |_| {})?;
    Ok(Forgery { output, prove })
}

/// The trace and committed columns after `edit` and what it forces
/// (multiplicities forged to count every looked-up row).
pub(crate) fn forged_witness(
    pk: &ProvingKey,
    input: &[i64],
    edit: Edit,
) -> Result<Witness, ProveError> {
    let model = &pk.model;
    let mut values = crate::prover::run_model(pk, input)?;
    let mut padded: Vec<PaddedEdit> = Vec::new();
    let mut poly_edit = None;
    match edit {
        Edit::Trace {
            tensor,
            index,
            value,
        } => {
            let producer = model
                .ops
                .iter()
                .position(|op| op.io().1 == tensor)
                .ok_or_else(|| ProveError::Model("only op outputs can be edited".into()))?;
            *values[tensor]
                .get_mut(index)
                .ok_or_else(|| ProveError::Model("index out of range".into()))? = value;
            zkinfer_model::eval::evaluate_from(model, &mut values, producer + 1)
                .map_err(|e| ProveError::Inference(e.to_string()))?;
        }
        Edit::Padded {
            tensor,
            index,
            value,
        } => padded.push((tensor, index, value)),
        Edit::Poly { poly, index, value } => poly_edit = Some((poly, index, value)),
    }
    let mut act_polys = activation_witness(pk, &values, &padded)?;
    let edited_poly = poly_edit.map(|(p, _, _)| p);
    if let Some((poly, index, value)) = poly_edit {
        // Multiplicities first (so an edit of one survives), then the edit.
        forge_multiplicities(pk, &mut act_polys, None);
        *act_polys[poly]
            .get_mut(index)
            .ok_or_else(|| ProveError::Model("index out of range".into()))? = value;
    }
    forge_multiplicities(pk, &mut act_polys, edited_poly);
    Ok(Witness { values, act_polys })
}

/// Multiplicities that count every looked-up row: at its first occurrence
/// in the table, or — for a row not in the table — on the table's first
/// padding row (where the issue-12 forgery put it), else on row 0. The
/// multiplicity column `skip` (an edited one) is left alone.
fn forge_multiplicities(pk: &ProvingKey, polys: &mut [Vec<F>], skip: Option<usize>) {
    for t in &pk.layout.tables {
        if Some(t.multiplicity_poly) == skip {
            continue;
        }
        let table: LookupTable = table_for(&pk.model, &t.key);
        polys[t.multiplicity_poly] = forged_multiplicities(&table, &group_witnesses(t, polys));
    }
}

/// Multiplicities that count every looked-up row: a row missing from the
/// table is counted on a padding row of the table when there is one (else
/// on row 0), so the forged proof gets as far as the LogUp's checks.
pub(crate) fn forged_multiplicities(table: &LookupTable, witnesses: &[LookupWitness]) -> Vec<F> {
    let key = |cols: &[Vec<F>], r: usize| -> (u64, u64) {
        let c1 = cols.get(1).map_or(0, |c| c[r].as_canonical_u64());
        (cols[0][r].as_canonical_u64(), c1)
    };
    let mut index = HashMap::new();
    for j in (0..table.len()).rev() {
        index.insert(key(&table.columns, j), j);
    }
    let padded_len = 1usize << num_vars_for(table.len());
    let foreign = if padded_len > table.len() {
        table.len()
    } else {
        0
    };
    let mut counts = vec![0u64; padded_len];
    for w in witnesses {
        for r in 0..w.len() {
            let j = index.get(&key(&w.columns, r)).copied().unwrap_or(foreign);
            counts[j] += 1;
        }
    }
    counts.into_iter().map(F::from_u64).collect()
}

/// Logical positions that are edited by [`Edit::Trace`] for every op output
/// tensor that is not committed (Dense, Conv2d, Add, pools, Reshape,
/// Transpose): a prover lying about a value no lookup sees directly.
pub fn virtual_trace_edits(pk: &ProvingKey, input: &[i64]) -> Vec<(usize, Edit)> {
    let Ok(values) = crate::prover::run_model(pk, input) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, op) in pk.model.ops.iter().enumerate() {
        let (_, t) = op.io();
        if matches!(pk.layout.kind(t).1, TensorKind::Committed { .. }) {
            continue;
        }
        let len = values[t].len();
        for index in [0, len / 2, len - 1] {
            for d in [1, -1] {
                out.push((
                    i,
                    Edit::Trace {
                        tensor: t,
                        index,
                        value: values[t][index] + d,
                    },
                ));
            }
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_requant;

//! Weight matrices two Dense ops share: a language model's output projection
//! is its token embedding transposed, a tied autoencoder decodes with its
//! encoder's transpose. Exported ONNX files hold such a matrix twice; the
//! model states the tie ([`QuantModel::tied_weights`]) so the prover commits
//! it once and sends the tied op's weight claims to the source's polynomial.

use crate::error::{ModelError, Result};
use crate::ir::{IntVec, QOp, QuantModel, TiedWeight};

/// `(input, in_dim, out_dim, weight)` of a Dense op whose rows are the
/// trailing axis of its input (its columns then lie flat in a polynomial).
fn flat_dense(model: &QuantModel, i: usize) -> Option<(usize, usize, &IntVec)> {
    match &model.ops[i] {
        QOp::Dense {
            input,
            in_dim,
            out_dim,
            weight,
            ..
        } if model.tensors[*input].shape.last() == Some(in_dim) => {
            Some((*in_dim, *out_dim, weight))
        }
        _ => None,
    }
}

/// Whether `b` (`in_b × out_b` row-major by output) is `a` or its transpose.
fn same_matrix(a: (usize, usize, &IntVec), b: (usize, usize, &IntVec), transposed: bool) -> bool {
    let ((in_a, out_a, wa), (in_b, out_b, wb)) = (a, b);
    if wa.len() != wb.len() || wa.is_empty() {
        return false;
    }
    if !transposed {
        return (in_a, out_a) == (in_b, out_b) && wa == wb;
    }
    (in_a, out_a) == (out_b, in_b)
        && (0..out_b).all(|o| (0..in_b).all(|c| wb.get(o * in_b + c) == wa.get(c * in_a + o)))
}

/// Finds every Dense op whose weights equal an earlier (untied) Dense op's,
/// or their transpose, and records the ties.
pub fn tie_weights(model: &mut QuantModel) {
    let mut ties: Vec<TiedWeight> = Vec::new();
    // A cheap fingerprint first: the multiset of values, as sum and sum of squares.
    let print = |w: &IntVec| {
        w.iter().fold((0i128, 0i128), |(s, q), v| {
            (s + v as i128, q + (v as i128) * (v as i128))
        })
    };
    let dense: Vec<(usize, (i128, i128))> = (0..model.ops.len())
        .filter_map(|i| flat_dense(model, i).map(|d| (i, print(d.2))))
        .collect();
    for (k, &(i, fi)) in dense.iter().enumerate() {
        let di = flat_dense(model, i).expect("listed");
        let found = dense[..k].iter().find_map(|&(j, fj)| {
            if fj != fi || ties.iter().any(|t| t.op == j) {
                return None;
            }
            let dj = flat_dense(model, j).expect("listed");
            [false, true]
                .into_iter()
                .find(|&tr| same_matrix(dj, di, tr))
                .map(|transposed| TiedWeight {
                    op: i,
                    source: j,
                    transposed,
                })
        });
        ties.extend(found);
    }
    model.tied_weights = ties;
}

/// The ties are well formed: each names a later Dense op tied to an earlier,
/// untied one of matching (or transposed) dimensions, both with flat
/// columns, at most once; with weights present, the matrices agree.
pub(crate) fn check_ties(model: &QuantModel) -> Result<()> {
    let err = |t: &TiedWeight, why: &str| {
        Err(ModelError::Invalid(format!(
            "weight tie of op #{} to op #{}: {why}",
            t.op, t.source
        )))
    };
    for (k, t) in model.tied_weights.iter().enumerate() {
        if t.source >= t.op || t.op >= model.ops.len() {
            return err(t, "ops out of order or out of range");
        }
        let (Some(a), Some(b)) = (flat_dense(model, t.source), flat_dense(model, t.op)) else {
            return err(t, "both must be Dense ops over the last axis");
        };
        let dims_match = if t.transposed {
            (a.0, a.1) == (b.1, b.0)
        } else {
            (a.0, a.1) == (b.0, b.1)
        };
        if !dims_match {
            return err(t, "the matrices' dimensions differ");
        }
        let others = &model.tied_weights[..k];
        if others.iter().any(|o| o.op == t.op)
            || model.tied_weights.iter().any(|o| o.op == t.source)
        {
            return err(t, "an op is tied twice, or to a tied op");
        }
        if !a.2.is_empty() && !b.2.is_empty() && !same_matrix(a, b, t.transposed) {
            return err(t, "the weights differ");
        }
    }
    Ok(())
}

//! The accuracy statement: "the model's top-1 prediction equals the label on
//! `k` of `N` samples". A classifier becomes a model whose public input per
//! sample is the sample followed by its label (one-hot over the classes, or
//! the 0/1 label of a single-output classifier) and whose output per sample
//! is 1 when the prediction is right, else 0: `k` is their sum over the real
//! samples. The head is built from ops the prover already proves and has no
//! weights, so the weight commitment is the classifier's own; prover and
//! verifier both derive this model from the classifier's key.
//!
//! The prediction is `zkinfer eval`'s ([`crate::predicted_class`]): the
//! first maximum of the logits ([`crate::argmax`]), or for a single output
//! `y·scale > 0.5`.

use crate::argmax::{first_max_one_hot, OpSink};
use crate::error::{ModelError, Result};
use crate::float::{InputElem, InputSegment};
use crate::ir::{QOp, QuantModel, TensorId, TensorInfo};

/// How a classifier's output is read as a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classes {
    /// One output: class 1 when its value exceeds 0.5.
    Binary,
    /// One output per class: the first maximum.
    OneHot(usize),
}

impl Classes {
    /// The classes of `model`'s per-sample output, or why it is no classifier.
    pub fn of(model: &QuantModel) -> Result<Classes> {
        if model.output_segments.len() > 1 {
            return Err(ModelError::Invalid(format!(
                "an accuracy statement needs a model with one graph output; this one has {}",
                model.output_segments.len()
            )));
        }
        let shape = &model.tensors[model.output].shape;
        let len = model.output_len();
        if len == 1 {
            return Ok(Classes::Binary);
        }
        if shape.last() != Some(&len) {
            return Err(ModelError::Invalid(format!(
                "an accuracy statement needs one row of class scores per sample; the output is {shape:?} per sample"
            )));
        }
        Ok(Classes::OneHot(len))
    }

    /// Label values per sample in the statement's input.
    pub fn label_len(self) -> usize {
        match self {
            Classes::Binary => 1,
            Classes::OneHot(c) => c,
        }
    }

    /// The number of classes a label may name.
    pub fn count(self) -> usize {
        match self {
            Classes::Binary => 2,
            Classes::OneHot(c) => c,
        }
    }

    /// A label's values in the statement's input.
    fn encode(self, label: usize, out: &mut Vec<i64>) {
        match self {
            Classes::Binary => out.push(label as i64),
            Classes::OneHot(c) => out.extend((0..c).map(|k| i64::from(k == label))),
        }
    }
}

/// The accuracy model of a classifier (module docs). Not validated here: a
/// verifying key's classifier has no weight values; callers holding them
/// validate.
pub fn accuracy_model(base: &QuantModel) -> Result<QuantModel> {
    let classes = Classes::of(base)?;
    let mut m = base.clone();
    m.name = format!("{} (accuracy)", base.name);
    m.output_softmax = false;
    // The output is the 0/1 verdict, not the classifier's graph output.
    m.output_segments = Vec::new();
    let n_in = base.input_len();
    let n_label = classes.label_len();
    let input_info = base.tensors[base.input].clone();
    let statement_input = push(
        &mut m.tensors,
        "statement input (sample, label)",
        vec![n_in + n_label],
        input_info.scale,
        input_info.bound.max(1),
    );
    let label_input = push(
        &mut m.tensors,
        "labels",
        vec![n_label],
        1.0,
        input_info.bound.max(1),
    );
    // The sample and the label are routed out of the statement's input
    // before the classifier's own ops.
    let route = [
        QOp::Select {
            input: statement_input,
            output: base.input,
            source: (0..n_in as i64).collect(),
        },
        QOp::Select {
            input: statement_input,
            output: label_input,
            source: (n_in as i64..(n_in + n_label) as i64).collect(),
        },
    ];
    let routed = route.len();
    m.ops.splice(0..0, route);
    for t in &mut m.tied_weights {
        t.op += routed;
        t.source += routed;
    }
    m.input = statement_input;
    m.input_segments = statement_segments(base, n_label);
    let mut sink = OpSink {
        tensors: &mut m.tensors,
        ops: &mut m.ops,
        name: "accuracy".into(),
    };
    // The label values are 0/1 (the statement's input is built so); the
    // clamp gives them that static bound.
    let labels = push(sink.tensors, "labels (0/1)", vec![n_label], 1.0, 1);
    sink.ops.push(QOp::Requant {
        input: label_input,
        output: labels,
        multiplier: 1,
        shift: 0,
        min: 0,
        max: 1,
    });
    m.output = match classes {
        Classes::OneHot(c) => one_hot_correct(&mut sink, base.output, labels, c)?,
        Classes::Binary => binary_correct(&mut sink, base, labels)?,
    };
    Ok(m)
}

fn push(
    tensors: &mut Vec<TensorInfo>,
    name: &str,
    shape: Vec<usize>,
    scale: f64,
    bound: i64,
) -> TensorId {
    tensors.push(TensorInfo {
        name: name.into(),
        shape,
        scale,
        bound,
    });
    tensors.len() - 1
}

/// The classifier's graph inputs, then the label.
fn statement_segments(base: &QuantModel, n_label: usize) -> Vec<InputSegment> {
    let mut segs = base.input_segments.clone();
    if segs.is_empty() {
        let t = &base.tensors[base.input];
        segs.push(InputSegment {
            name: t.name.clone(),
            shape: std::iter::once(1).chain(t.shape.iter().copied()).collect(),
            elem: InputElem::Float32,
            offset: 0,
            len: t.len(),
            one_hot: None,
        });
    }
    segs.push(InputSegment {
        name: "label".into(),
        shape: vec![1, n_label],
        elem: InputElem::Int64,
        offset: base.input_len(),
        len: n_label,
        one_hot: None,
    });
    segs
}

/// `max_c first_max(z)_c · label_c`: 1 exactly when the label is the argmax.
fn one_hot_correct(
    sink: &mut OpSink,
    logits: TensorId,
    labels: TensorId,
    classes: usize,
) -> Result<TensorId> {
    let pick = first_max_one_hot(sink, logits)?;
    let pick = if sink.tensors[pick].shape == [classes] {
        pick
    } else {
        let flat = push(sink.tensors, "accuracy/prediction", vec![classes], 1.0, 1);
        sink.ops.push(QOp::Reshape {
            input: pick,
            output: flat,
        });
        flat
    };
    let hit = push(sink.tensors, "accuracy/hit", vec![classes], 1.0, 1);
    sink.ops.push(QOp::Mul {
        a: pick,
        b: labels,
        output: hit,
    });
    // At most one hit per sample: their maximum is the 0/1 verdict.
    let verdict = sink.row_max(hit, 1, classes);
    let correct = push(sink.tensors, "accuracy/correct", vec![1], 1.0, 1);
    sink.ops.push(QOp::Reshape {
        input: verdict,
        output: correct,
    });
    Ok(correct)
}

/// `[ (y·scale > 0.5) = label ]` for a single-output classifier.
fn binary_correct(sink: &mut OpSink, base: &QuantModel, labels: TensorId) -> Result<TensorId> {
    let y = &base.tensors[base.output];
    // y·s > 0.5 ⇔ y ≥ ⌊0.5/s⌋ + 1 for integers y: clamp to [t, t + 1].
    let t = (0.5 / y.scale).floor();
    let limit = f64::from(1u32 << 15) - 2.0;
    if !(t.abs() <= limit && y.bound < 1 << 23) {
        return Err(ModelError::Invalid(format!(
            "the single output (scale {:e}, bound {}) is too wide to threshold at 0.5",
            y.scale, y.bound
        )));
    }
    let t = t as i64;
    let clamped = push(
        sink.tensors,
        "accuracy/threshold",
        vec![1],
        1.0,
        t.abs() + 1,
    );
    sink.ops.push(QOp::Requant {
        input: base.output,
        output: clamped,
        multiplier: 1,
        shift: 0,
        min: t,
        max: t + 1,
    });
    let predicted = push(sink.tensors, "accuracy/predicted", vec![1], 1.0, 1);
    sink.ops.push(QOp::Lut {
        input: clamped,
        output: predicted,
        in_min: t,
        table: vec![0, 1],
        func: "above_half".into(),
    });
    let diff = push(sink.tensors, "accuracy/label_diff", vec![1], 1.0, 2);
    // predicted − label ∈ {−1, 0, 1}; the table covers the static bound ±2.
    sink.ops.push(QOp::Add {
        a: predicted,
        b: labels,
        output: diff,
        a_mul: 1,
        b_mul: -1,
    });
    let correct = push(sink.tensors, "accuracy/correct", vec![1], 1.0, 1);
    sink.ops.push(QOp::Lut {
        input: diff,
        output: correct,
        in_min: -2,
        table: vec![0, 0, 1, 0, 0],
        func: "equal".into(),
    });
    Ok(correct)
}

/// The statement's input: each quantized sample followed by its label.
/// `x` holds `labels.len()` samples of the classifier's input.
pub fn accuracy_input(base: &QuantModel, x: &[i64], labels: &[i64]) -> Result<Vec<i64>> {
    let classes = Classes::of(base)?;
    let n_in = base.input_len();
    if labels.is_empty() || x.len() != labels.len() * n_in {
        return Err(ModelError::Invalid(format!(
            "{} label(s) for {} input value(s) ({} per sample)",
            labels.len(),
            x.len(),
            n_in
        )));
    }
    let mut out = Vec::with_capacity(labels.len() * (n_in + classes.label_len()));
    for (s, &label) in labels.iter().enumerate() {
        let label = usize::try_from(label)
            .ok()
            .filter(|&l| l < classes.count())
            .ok_or_else(|| {
                ModelError::Invalid(format!(
                    "label #{s} is {label}; the model has {} classes",
                    classes.count()
                ))
            })?;
        out.extend_from_slice(&x[s * n_in..(s + 1) * n_in]);
        classes.encode(label, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;
    use crate::ir::QUANT_MODEL_VERSION;
    use crate::predicted_class;

    /// `y = W·x` with `classes` outputs whose bound is `wide`-scaled.
    fn classifier(classes: usize, weight: i64) -> QuantModel {
        let n_in = classes;
        let tensor = |name: &str, len: usize, bound: i64| TensorInfo {
            name: name.into(),
            shape: vec![len],
            scale: 0.01,
            bound,
        };
        QuantModel {
            version: QUANT_MODEL_VERSION,
            name: "diag".into(),
            tensors: vec![
                tensor("x", n_in, 1 << 12),
                tensor("y", classes, (1 << 12) * weight),
            ],
            input: 0,
            output: 1,
            batch: 1,
            dynamic_batch: true,
            ops: vec![QOp::Dense {
                input: 0,
                output: 1,
                in_dim: n_in,
                out_dim: classes,
                weight: (0..classes * n_in)
                    .map(|i| if i % (n_in + 1) == 0 { weight } else { 0 })
                    .collect(),
                bias: vec![0; classes],
            }],
            onnx: Vec::new(),
            output_softmax: false,
            input_segments: Vec::new(),
            tied_weights: Vec::new(),
            output_segments: Vec::new(),
        }
    }

    /// The verdicts of the accuracy model against `predicted_class`, for
    /// rows with ties, equal digits and values across digit boundaries.
    fn check(base: &QuantModel, rows: &[Vec<i64>]) {
        let acc = accuracy_model(base).unwrap();
        acc.validate().unwrap();
        for row in rows {
            let y = evaluate(base, row).unwrap().values[base.output].clone();
            let pred = predicted_class(&base.dequantize_output(&y));
            for label in 0..Classes::of(base).unwrap().count() {
                let input = accuracy_input(base, row, &[label as i64]).unwrap();
                let out = evaluate(&acc, &input).unwrap().values[acc.output].clone();
                assert_eq!(
                    out,
                    vec![i64::from(label == pred)],
                    "row {row:?} label {label}"
                );
            }
        }
    }

    #[test]
    fn verdict_is_eval_top1_for_narrow_and_wide_logits() {
        let rows = vec![
            vec![3, 9, 9, 1, -4],
            vec![-7, -7, -7, -7, -7],
            vec![4095, 4094, 4095, -4096, 0],
            vec![-4096, -1, 0, 1, -2],
            vec![100, 2000, 3000, 3000, 2999],
        ];
        // Direct comparison, one digit, and several digits.
        for weight in [1, 1 << 10, (1 << 30) + 12345] {
            check(&classifier(5, weight), &rows);
        }
    }

    #[test]
    fn long_rows_use_a_tree_of_windows() {
        let base = classifier(37, 3);
        let mut row: Vec<i64> = (0..37).map(|i| (i * 7919 % 97) - 48).collect();
        check(&base, std::slice::from_ref(&row));
        row[36] = 48;
        row[20] = 48;
        check(&base, &[row]);
    }

    #[test]
    fn single_output_thresholds_at_one_half() {
        // scale 0.01: 0.5 is 50 units; 50 is class 0, 51 class 1.
        let rows: Vec<Vec<i64>> = [-4096, -1, 0, 49, 50, 51, 4095]
            .into_iter()
            .map(|v| vec![v])
            .collect();
        check(&classifier(1, 1), &rows);
        let err = accuracy_input(&classifier(1, 1), &[0], &[2]).unwrap_err();
        assert!(err.to_string().contains("2 classes"), "{err}");
    }

    #[test]
    fn labels_out_of_range_are_refused() {
        let base = classifier(5, 1);
        let err = accuracy_input(&base, &[0; 5], &[5]).unwrap_err();
        assert!(err.to_string().contains("label #0 is 5"), "{err}");
        let err = accuracy_input(&base, &[0; 5], &[-1]).unwrap_err();
        assert!(err.to_string().contains("label #0 is -1"), "{err}");
        assert!(accuracy_input(&base, &[0; 4], &[1]).is_err());
    }
}

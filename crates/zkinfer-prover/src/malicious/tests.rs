//! The standing soundness sweep: every committed column of every op, at real
//! and padding positions, edited by a malicious prover that then runs the
//! honest prover to the end — and every uncommitted op output lied about —
//! across the fixtures and small synthetic models. Every forged statement
//! must be rejected. A new op gets its committed columns into
//! [`committed_columns`] and a model using it into [`sweep_models`].

use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_model::ir::{QOp, QuantModel};
use zkinfer_protocol::VerifyError;

use super::*;
use crate::synthetic;
use crate::{setup, verify};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

/// A committed fixture compiled at default settings, with its quantized input
/// (one statement, read as `prove --input` reads the fixture's input file).
fn fixture(name: &str) -> (QuantModel, Vec<i64>) {
    let onnx = std::fs::read(format!("{FIXTURES}/{name}.onnx")).expect("fixture exists");
    let file = zkinfer_model::input::load_file(format!("{FIXTURES}/{name}.input.json"))
        .expect("fixture input");
    let opts = CompileOptions {
        tract_check: false,
        ..CompileOptions::default()
    };
    let (m, _) = compile(&onnx, name, &file.entries, &opts).expect("compiles");
    let x = m.statement_input(&file).expect("fixture input fits");
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let q = m.quantize_input(&xf).expect("quantizes");
    (m, q)
}

fn synthetic_model(model: QuantModel, seed: u64) -> (QuantModel, Vec<i64>) {
    let n = model.tensors[model.input].len();
    (model, synthetic::input(n, seed))
}

/// Every fixture the prover supports and small random models covering every
/// op kind: odd widths, both clamp arguments (split and table), clamp ranges
/// and lookup tables that exclude 0, max and average pooling, residual adds,
/// transposes and reshapes; and fixed-batch models, whose batch padding rows
/// (copies of the last sample) are edited like any other position.
fn sweep_models() -> Vec<(String, QuantModel, Vec<i64>)> {
    let mut out: Vec<(String, QuantModel, Vec<i64>)> = [
        "clip_positive_min",
        "clip_negative_max",
        "leaky_zero_unit",
        "mul_sub_activations",
        "clip_leaky",
        "mlp_gemm_relu",
        "mlp_matmul_add",
        "sigmoid",
        "tanh",
        "softmax",
        "affine_bn",
        "reshape_transpose",
        "conv_net",
        "unary_gelu",
        "unary_log",
        "unary_floor",
        "batch_mlp",
        "batch_cnn",
        "batch_gated",
        "lower_depthwise_conv",
        // A wide depthwise Conv by its taps: a Dense of ones summing an
        // unrounded MulConst product; a class token Concat'ed as an
        // AddConst; an additive padding mask made a masked softmax.
        "depthwise_taps",
        "class_token",
        "computed_additive_mask",
        "lower_pow2",
        "seq_linear",
        "broadcast_gate",
        "data_movement",
        "attention_heads",
        "multi_three_batch2",
        // LRN's banded window Dense and Pow table; a sequence-first PyTorch
        // encoder layer (whole-batch rewrite, residual Add of operands that
        // differ by a unit axis)
        "lower_lrn",
        "seq_encoder_seq_first",
        // BatchNorm with spatial = 0: a whole-sample MulConst and AddConst
        // after a Conv (the model zoo's opset 7–8 form).
        "legacy_bn_per_element",
    ]
    .into_iter()
    .map(|name| {
        let (m, x) = fixture(name);
        (name.to_string(), m, x)
    })
    .collect();
    let synthetic = [
        ("mlp 7-5-3", synthetic::mlp(&[7, 5, 3], 11)),
        ("gated mlp 6-5-3", synthetic::gated_mlp(6, 5, 3, 14)),
        ("select mlp 7-6-3", synthetic::select_mlp(15)),
        (
            "strided select mlp 7-6-3",
            synthetic::select_mlp_with(18, vec![-1, 5, 3, 1, -1, -1]),
        ),
        (
            "mlp 9-6-4, 6-bit activations",
            synthetic::mlp_with_act_bits(&[9, 6, 4], 12, 6),
        ),
        ("cnn 2x5x6", synthetic::window_ops_cnn([2, 5, 6], 13)),
        (
            "padded max pool cnn 2x7x6",
            synthetic::padded_pool_cnn([2, 7, 6], 17),
        ),
        (
            "tied autoencoder 6-4-6",
            synthetic::tied_mlp(6, 4, true, 16),
        ),
    ];
    out.push((
        "leaky_zero_unit, f(0) = 1".into(),
        odd_lut_model().0,
        fixture("leaky_zero_unit").1,
    ));
    for (i, (name, m)) in synthetic.into_iter().enumerate() {
        let (m, x) = synthetic_model(m, 20 + i as u64);
        out.push((name.to_string(), m, x));
    }
    out
}

#[test]
fn every_forged_accuracy_head_value_is_rejected() {
    use rayon::prelude::*;
    accuracy_models()
        .into_par_iter()
        .for_each(|(name, model, x)| {
            let n = sweep(&name, model, &x);
            eprintln!("{name}: {n} forged statements rejected");
        });
}

/// Accuracy statements (2 samples) of an MLP with clamped logits (compared
/// directly) and with wide accumulator logits (compared digit by digit).
fn accuracy_models() -> Vec<(String, QuantModel, Vec<i64>)> {
    use zkinfer_model::accuracy::{accuracy_input, accuracy_model};
    let narrow = synthetic::mlp(&[5, 4, 3], 31);
    let mut wide = narrow.clone();
    if let Some(QOp::Requant { input, .. }) = wide.ops.pop() {
        wide.output = input;
    }
    [
        ("accuracy, clamped logits", narrow),
        ("accuracy, wide logits", wide),
    ]
    .into_iter()
    .map(|(name, mut base)| {
        base.dynamic_batch = true;
        let base = base.with_batch(2).expect("symbolic batch");
        let x = synthetic::input(10, 32);
        let input = accuracy_input(&base, &x, &[0, 2]).expect("labels in range");
        let model = accuracy_model(&base).expect("a classifier");
        (name.to_string(), model, input)
    })
    .collect()
}

/// Proves the edit; `Some(verdict)` if the forgery could be built.
fn forge_and_verify(pk: &ProvingKey, x: &[i64], edit: Edit) -> Option<Result<(), VerifyError>> {
    let f = prove_forged(pk, x, edit).ok()?;
    Some(verify(&pk.vk, x, &f.output, &f.prove.proof).map(|_| ()))
}

/// Sweeps one model; returns how many forgeries were built and rejected.
fn sweep(name: &str, model: QuantModel, x: &[i64]) -> usize {
    let pk = setup(model, None).expect("setup");
    let honest = crate::prove(&pk, x).expect("honest proof");
    verify(&pk.vk, x, &honest.output, &honest.proof).expect("honest proof verifies");
    let mut rejected = 0;
    let mut check = |what: &str, edits: Vec<Edit>| {
        let mut built = 0;
        for edit in edits {
            if let Some(verdict) = forge_and_verify(&pk, x, edit) {
                assert!(
                    verdict.is_err(),
                    "{name}: {what}: the forged statement {edit:?} was accepted"
                );
                built += 1;
            }
        }
        assert!(built > 0, "{name}: {what}: no forgery could be built");
        rejected += built;
    };
    for col in committed_columns(&pk) {
        check(&col.role, sweep_edits(&pk, x, &col));
    }
    let mut by_op: Vec<(usize, Vec<Edit>)> = Vec::new();
    for (op, edit) in virtual_trace_edits(&pk, x) {
        match by_op.last_mut() {
            Some((o, edits)) if *o == op => edits.push(edit),
            _ => by_op.push((op, vec![edit])),
        }
    }
    for (op, edits) in by_op {
        let what = format!("op #{op} {} output", pk.model.ops[op].name());
        check(&what, edits);
    }
    rejected
}

#[test]
fn every_forged_witness_value_is_rejected() {
    use rayon::prelude::*;
    let models = sweep_models();
    let kinds: std::collections::BTreeSet<&str> = models
        .iter()
        .flat_map(|(_, m, _)| m.ops.iter().map(QOp::name))
        .collect();
    // Models are independent: sweep them side by side.
    models.into_par_iter().for_each(|(name, model, x)| {
        let n = sweep(&name, model, &x);
        eprintln!("{name}: {n} forged statements rejected");
    });
    // The sweep covers every op kind of the IR.
    let all = [
        "Dense",
        "Conv2d",
        "Requant",
        "Lut",
        "Add",
        "Mul",
        "MaxPool",
        "SumPool",
        "Reshape",
        "Transpose",
        "Select",
        "AddConst",
        "MulConst",
        "MatMul",
    ];
    for k in all {
        assert!(kinds.contains(k), "no sweep model uses {k}");
    }
}

/// A padded MaxPool whose claimed max at every border output is the value a
/// padding tap reads: the range check on that output's real differences
/// (now negative) rejects it, and nothing else about the proof changes.
#[test]
fn a_padding_tap_cannot_be_claimed_as_the_max() {
    let model = synthetic::padded_pool_cnn([2, 7, 6], 17);
    // the input the synthetic model was calibrated on
    let x = synthetic::input(model.tensors[model.input].len(), 17);
    let pk = setup(model, None).expect("setup");
    let (i, input, out, pads) = pk
        .model
        .ops
        .iter()
        .enumerate()
        .find_map(|(i, op)| match op {
            QOp::MaxPool {
                input,
                output,
                pads,
                ..
            } => Some((i, *input, *output, *pads)),
            _ => None,
        })
        .expect("a max pool");
    assert!(
        pads.iter().all(|&p| p > 0),
        "op #{i} is padded on every side"
    );
    let pad = crate::ops::maxpool_pad_value(pk.model.tensors[input].bound);
    let honest = crate::prove(&pk, &x).expect("honest proof");
    verify(&pk.vk, &x, &honest.output, &honest.proof).expect("honest proof verifies");
    let [_, oh, ow] = pk.model.tensors[out].shape[..] else {
        unreachable!("[C, H, W]")
    };
    // The corners and an edge midpoint of channel 0 read padding taps.
    for index in [0, ow - 1, (oh - 1) * ow, oh * ow - 1, ow / 2] {
        let edit = Edit::Trace {
            tensor: out,
            index,
            value: pad,
        };
        let f = prove_forged(&pk, &x, edit).expect("the forgery can be built");
        // Whether or not the edit reaches the model's output, the pooled
        // value is not the window's max: the range lookup must reject it.
        match verify(&pk.vk, &x, &f.output, &f.prove.proof) {
            Err(VerifyError::Lookup(_)) => {}
            other => panic!("output {index}: expected a lookup rejection, got {other:?}"),
        }
    }
}

/// The first requant (clamp) and the forged element: the first hidden unit,
/// whose pre-clamp value is exactly 0 (zero weights and bias).
fn zero_row_forgery(name: &str) -> (ProvingKey, Vec<i64>, Edit) {
    let (model, x) = fixture(name);
    let pk = setup(model, None).expect("setup");
    let (i, out) = pk
        .model
        .ops
        .iter()
        .enumerate()
        .find_map(|(i, op)| matches!(op, QOp::Requant { .. }).then(|| (i, op.io().1)))
        .expect("a requant");
    let QOp::Requant { min, max, .. } = pk.model.ops[i] else {
        unreachable!()
    };
    assert!(min > 0 || max < 0, "{name}: the clamp range must exclude 0");
    let edit = Edit::Trace {
        tensor: out,
        index: 0,
        value: 0,
    };
    (pk, x, edit)
}

fn assert_lookup_rejects(pk: &ProvingKey, x: &[i64], edit: Edit) {
    let honest = crate::prove(pk, x).expect("honest proof");
    let f = prove_forged(pk, x, edit).expect("the forgery can be built");
    assert_ne!(f.output, honest.output, "the forgery changes the output");
    match verify(&pk.vk, x, &f.output, &f.prove.proof) {
        Err(VerifyError::Lookup(_)) => {}
        other => panic!("expected a lookup rejection, got {other:?}"),
    }
}

/// Issue 12: a clamp range excluding 0 let a prover output 0 by counting the
/// all-zero row on a padding row of the clamp table.
#[test]
fn clamp_range_without_zero_padding_row_forgery_is_rejected() {
    for name in ["clip_positive_min", "clip_negative_max"] {
        let (pk, x, edit) = zero_row_forgery(name);
        assert_lookup_rejects(&pk, &x, edit);
    }
}

/// `leaky_zero_unit` (from ONNX) with its LeakyRelu table — of odd length,
/// `2s + 1` entries — edited to `f(0) = 1`, and that Lut's op index.
fn odd_lut_model() -> (QuantModel, usize) {
    let (mut model, _) = fixture("leaky_zero_unit");
    let i = model
        .ops
        .iter()
        .position(|op| matches!(op, QOp::Lut { .. }))
        .expect("a lut");
    let QOp::Lut { in_min, table, .. } = &mut model.ops[i] else {
        unreachable!()
    };
    assert!(!table.len().is_power_of_two(), "the table is padded");
    table[(-*in_min) as usize] = 1;
    (model, i)
}

/// Issue 12: a function table of odd length with `f(0) ≠ 0` admitted `(0, 0)`.
#[test]
fn odd_function_table_padding_row_forgery_is_rejected() {
    let (model, i) = odd_lut_model();
    let (_, x) = fixture("leaky_zero_unit");
    let pk = setup(model, None).expect("setup");
    let (lut_in, out) = pk.model.ops[i].io();
    let values = crate::prover::run_model(&pk, &x).unwrap();
    assert_eq!(values[lut_in[0]][0], 0, "the forged element's input is 0");
    assert_eq!(values[out][0], 1, "f(0) = 1");
    let edit = Edit::Trace {
        tensor: out,
        index: 0,
        value: 0,
    };
    assert_lookup_rejects(&pk, &x, edit);
}

/// The trained models in `../shared/models` (not fixtures: run by hand with
/// `ZKINFER_SHARED_MODELS=../shared/models cargo test --release -p
/// zkinfer-prover shared_models -- --ignored --nocapture`).
#[test]
#[ignore = "needs ZKINFER_SHARED_MODELS"]
fn every_forged_witness_value_is_rejected_on_shared_models() {
    let dir = std::env::var("ZKINFER_SHARED_MODELS").expect("ZKINFER_SHARED_MODELS is set");
    let mut swept = 0;
    for entry in std::fs::read_dir(&dir).expect("a directory") {
        let path = entry.expect("entry").path();
        let onnx = path.join("network.onnx");
        let input = path.join("input.json");
        let (Ok(bytes), Ok(samples)) = (
            std::fs::read(&onnx),
            zkinfer_model::input::load_samples(&input),
        ) else {
            continue;
        };
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Ok((m, _)) = compile(&bytes, &name, &samples, &CompileOptions::default()) else {
            eprintln!("{name}: not compiled, skipped");
            continue;
        };
        let xf: Vec<f32> = samples[0].iter().map(|&v| v as f32).collect();
        let q = m.quantize_input(&xf).expect("quantizes");
        if crate::layout::Layout::new(&m).is_err() {
            eprintln!("{name}: not supported by the prover, skipped");
            continue;
        }
        let n = sweep(&name, m, &q);
        eprintln!("{name}: {n} forged statements rejected");
        swept += 1;
    }
    assert!(swept > 0, "no model swept in {dir}");
}

/// TopK with k > 1 (masked argmaxes), Gather and GatherElements by computed
/// indices (the one-hot staircase) and a ScatterElements `add` (the
/// `index_ops` fixture): a forged pick, one-hot entry, gathered value or
/// scattered sum — any output of those lowerings' ops, committed or not,
/// at a real and a padding position — is rejected. A sample of the full
/// sweep's edits per column keeps this fast.
#[test]
fn forged_top_k_picks_gathered_indices_and_scatters_are_rejected() {
    use rayon::prelude::*;
    let (model, x) = fixture("index_ops");
    // Tensors of the TopK ("v", "i"), gather ("g", "t") and scatter ("s") nodes.
    let ours = |name: &str| {
        ["v", "i", "g", "t", "s"]
            .iter()
            .any(|p| name == *p || name.starts_with(&format!("{p}/")))
    };
    let pk = setup(model, None).expect("setup");
    let honest = crate::prove(&pk, &x).expect("honest proof");
    verify(&pk.vk, &x, &honest.output, &honest.proof).expect("honest proof verifies");
    let mut edits: Vec<(String, Edit)> = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for col in committed_columns(&pk) {
        let Some(op) = col.op else { continue };
        if !ours(&pk.model.tensors[pk.model.ops[op].io().1].name) {
            continue;
        }
        kinds.insert(pk.model.ops[op].name());
        let all = sweep_edits(&pk, &x, &col);
        // The first real and the last (a padding) position's first value.
        let picked = [all.first(), all.last()].into_iter().flatten();
        edits.extend(picked.map(|e| (col.role.clone(), *e)));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (op, edit) in virtual_trace_edits(&pk, &x) {
        let t = pk.model.ops[op].io().1;
        if ours(&pk.model.tensors[t].name) && seen.insert(op) {
            kinds.insert(pk.model.ops[op].name());
            let what = format!("op #{op} {} output", pk.model.ops[op].name());
            edits.push((what, edit));
        }
    }
    for k in [
        "Lut", "Requant", "MaxPool", "Select", "Add", "Dense", "Mul", "MatMul",
    ] {
        assert!(kinds.contains(k), "the index ops use no {k}");
    }
    let built: usize = edits
        .par_iter()
        .map(|(what, edit)| match forge_and_verify(&pk, &x, *edit) {
            Some(verdict) => {
                assert!(
                    verdict.is_err(),
                    "{what}: the forged statement {edit:?} was accepted"
                );
                1
            }
            None => 0,
        })
        .sum();
    assert!(
        built * 2 > edits.len(),
        "only {built} of {} forgeries could be built",
        edits.len()
    );
    eprintln!("index ops: {built} forged statements rejected");
}

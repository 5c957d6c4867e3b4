//! Fixtures checked against the ONNX reference evaluator
//! (`NAME.expected.json`, `scripts/make_fixtures.py`): pooling with every
//! attribute and volumes (`zkinfer-model`'s `lowering_pool.rs`,
//! `lowering_volume.rs`; the prover's padded `MaxPool`), per-element
//! constants (`MulConst`), legacy broadcasting and the model zoo's
//! early-opset forms (`legacy.rs`), and graphs proven as one
//! sample of their whole input (`whole_batch.rs`: among them PyTorch's
//! sequence-first MultiheadAttention and encoder layers, with
//! onnxruntime's reference). Each compiles, proves and
//! verifies, a changed output is rejected, and the verified output,
//! dequantized, stays within its bound of the reference.
//!
//! Bounds, `max |dequantized − reference| / max |reference|`: a few 13–14-bit
//! roundings (5e-3, as `lowering_e2e.rs`); LpPool p = 2 adds the Sqrt table
//! (1e-2). A padded max is exact; a border divisor `K/D` is a 14-bit
//! constant (≤ 2^-14 relative before the next requantization).

mod onnx_common;

use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_model::input::load_file;

use onnx_common::FIXTURES;

const MODELS: &[(&str, f64)] = &[
    ("pool_ceil_exclude_pad", 5e-3),
    ("pool_lp", 1e-2),
    ("prelu_mul_whole", 5e-3),
    ("legacy_prelu_add", 5e-3),
    // The model zoo's early-opset forms: Reshape's `shape` attribute, Concat's
    // default axis, BatchNorm with is_test=1 and with spatial=0 (per element).
    ("legacy_zoo_opset3", 5e-3),
    ("legacy_bn_per_element", 5e-3),
    // ImageScaler (opsets 1–9): a per-channel affine.
    ("image_scaler", 5e-3),
    ("volume_conv_pool", 5e-3),
    ("whole_batch_gemm", 5e-3),
    ("whole_batch_rank1", 5e-3),
    // PyTorch attention exports (onnxruntime's reference): softmax and
    // LayerNorm tables behind several roundings, as the transformer tests.
    ("seq_mha_seq_first", 2e-2),
    ("seq_encoder_batch_first", 2e-2),
    ("seq_encoder_seq_first", 2e-2),
    ("seq_expand_tract_fails", 5e-3),
];

fn reference_output(name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.expected.json"))
        .expect("fixture reference");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["output_data"][0]
        .as_array()
        .expect("output_data")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect()
}

fn check(name: &str, tol: f64) {
    let onnx = std::fs::read(format!("{FIXTURES}/{name}.onnx")).expect("fixture exists");
    let file = load_file(format!("{FIXTURES}/{name}.input.json")).expect("fixture input");
    let reference = reference_output(name);
    // The reference is the specification's evaluator; tract does not read
    // every legacy attribute alike.
    let opts = CompileOptions {
        tract_check: false,
        ..CompileOptions::default()
    };
    let (m, report) =
        compile(&onnx, name, &file.entries, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let x = m.statement_input(&file).expect("the input fits");
    let scale = reference.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let rel = |ys: &[f64]| {
        assert_eq!(ys.len(), reference.len(), "{name}: output length");
        ys.iter()
            .zip(&reference)
            .fold(0.0f64, |a, (p, r)| a.max((p - r).abs()))
            / scale
    };
    let output = onnx_common::prove_verify_and_reject_changed_outputs(name, &m, &x);
    let err = rel(&m.dequantize_output(&output));
    eprintln!(
        "{name:24} max error {err:.2e} of max |output| {scale:.3}  (mean rel {:.2e}, {} ops)",
        report.mean_rel_error,
        m.ops.len()
    );
    assert!(
        err < tol,
        "{name}: max error {err:e} ≥ {tol:e} of the output's range"
    );
}

#[test]
fn reference_fixtures_prove_verify_and_match_the_onnx_reference() {
    onnx_common::all_pass(MODELS, check);
}

//! ONNX patterns the importer lowers onto the proven ops (`zkinfer-model`'s
//! `lowering.rs`): grouped, depthwise (also by taps), dilated and 1-D convolutions, 1-D and
//! global pools, Max/Min/Sum/Mean, Pow, constant ÷ activation, LRN, folded
//! constants. Each fixture's float graph matches tract, it proves and
//! verifies, a changed output is rejected, and the verified output,
//! dequantized, is close to the float model's.
//!
//! Error bound, `max |dequantized − float| / max |float|` over the output:
//! every rounding is relative to the range of the tensor it happens in — the
//! input (14 bits over 4× its calibrated range: 2.4e-4 of that range), each
//! requantized activation (13 bits over 2× its range: ≤ 2.4e-4), weights
//! (14 bits: 6e-5 of the largest), table outputs (16 bits) — so a chain of at
//! most five such roundings through layers of gain ≤ 2 stays below ≈ 2.5e-3
//! of the output's range. The lowerings add no rounding of their own except
//! the ReLU of `max`/`min` (one more requantization, counted above) and a
//! table's input step `ds` times `sup|f'|` (Pow 3: `3x²`, Reciprocal:
//! `1/x²`). The bound is 5e-3, twice that budget, and 1e-2 for the tables of
//! steep functions; measured: 1.1e-4 to 2.4e-3.

mod onnx_common;

use zkinfer_model::compile::{compile, float_model_of, CompileOptions};
use zkinfer_model::input::load_samples;
use zkinfer_prover::{prove, setup, verify};

use onnx_common::FIXTURES;

/// (fixture, bound on `max |dequantized − float| / max |float|`).
const MODELS: &[(&str, f64)] = &[
    ("lower_depthwise_conv", 5e-3),
    ("depthwise_taps", 5e-3),
    ("lower_grouped_conv", 5e-3),
    ("lower_dilated_conv", 5e-3),
    ("lower_conv1d", 5e-3),
    ("lower_global_maxpool", 5e-3),
    ("lower_max_min", 5e-3),
    ("lower_sum_mean", 5e-3),
    ("lower_pow2", 5e-3),
    ("lower_pow3", 1e-2),
    ("lower_pow_frac", 1e-2),
    ("lower_pow_sqrt", 1e-2),
    ("lower_const_div", 1e-2),
    ("lower_constant_of_shape", 5e-3),
    ("lower_folds", 5e-3),
    ("lower_batch_conv1d", 5e-3),
    // The Pow(−0.75) table on the window sums (≥ 1): its slope is below 1.
    ("lower_lrn", 1e-2),
    ("gelu_subgraphs", 1e-2),
    ("div_activations", 1e-2),
];

fn check(name: &str, tol: f64) {
    let onnx = std::fs::read(format!("{FIXTURES}/{name}.onnx")).expect("fixture exists");
    // one statement: every sample of the model's batch
    let x = load_samples(format!("{FIXTURES}/{name}.input.json"))
        .expect("fixture input")
        .remove(0);
    let (m, report) = compile(
        &onnx,
        name,
        std::slice::from_ref(&x),
        &CompileOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let tract = report.tract_max_abs_diff.expect("tract cross-check ran");
    assert!(tract < 1e-4, "{name}: float graph vs tract {tract:e}");
    let fm = float_model_of(&m).expect("re-imports");
    let float: Vec<f64> = x
        .chunks(fm.input_len())
        .flat_map(|s| fm.evaluate(s).expect("float model runs"))
        .collect();

    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let q = m.quantize_input(&xf).expect("quantizes");
    let deq = |y: &[i64]| m.dequantize_output(y);
    let pk = setup(m.clone(), None).unwrap_or_else(|e| panic!("{name}: setup: {e}"));
    let out = prove(&pk, &q).unwrap_or_else(|e| panic!("{name}: prove: {e}"));
    verify(&pk.vk, &q, &out.output, &out.proof)
        .unwrap_or_else(|e| panic!("{name}: honest proof rejected: {e:?}"));
    for i in [0, out.output.len() - 1] {
        let mut wrong = out.output.clone();
        wrong[i] += 1;
        assert!(
            verify(&pk.vk, &q, &wrong, &out.proof).is_err(),
            "{name}: a changed output[{i}] verifies"
        );
    }

    let proven = deq(&out.output);
    assert_eq!(proven.len(), float.len(), "{name}: output length");
    let scale = float.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let err = proven
        .iter()
        .zip(&float)
        .fold(0.0f64, |a, (p, f)| a.max((p - f).abs()));
    let rel = err / scale;
    eprintln!(
        "{name:26} max error {rel:.2e} of max |output| {scale:.3}  (mean rel {:.2e}, tract {tract:.1e}, {} ops)",
        report.mean_rel_error,
        m.ops.len()
    );
    assert!(
        rel < tol,
        "{name}: max error {rel:e} ≥ {tol:e} of the output's range"
    );
}

#[test]
fn lowered_fixtures_match_tract_prove_verify_and_stay_close_to_float() {
    onnx_common::all_pass(MODELS, check);
}

/// A depthwise Conv over more channels than output positions is lowered as
/// its taps (no `C×C` dense kernel): `depthwise_taps` holds no Conv2d, and
/// its weights are the taps' (48 channels × (9 + 4) taps over 16 and 4
/// positions, plus the head), far below the two dense kernels' 48²·(9 + 9).
#[test]
fn a_wide_depthwise_conv_is_lowered_as_its_taps() {
    let onnx = std::fs::read(format!("{FIXTURES}/depthwise_taps.onnx")).expect("fixture");
    let x = load_samples(format!("{FIXTURES}/depthwise_taps.input.json")).expect("input");
    let (m, _) =
        compile(&onnx, "depthwise_taps", &x, &CompileOptions::default()).expect("compiles");
    assert!(
        !m.ops
            .iter()
            .any(|op| matches!(op, zkinfer_model::QOp::Conv2d { .. })),
        "a dense kernel was built"
    );
    assert!(
        m.num_params() < 48 * 48 * 9,
        "{} parameters",
        m.num_params()
    );
}

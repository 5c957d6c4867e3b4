//! Upsampling and recurrent operators lowered onto the proven ops
//! (`zkinfer-model`'s `lowering_upsample.rs` and `lowering_seq.rs`):
//! ConvTranspose 1-D/2-D, Resize/Upsample linear, LSTM, GRU and RNN. Each
//! `seq_*` fixture's float graph reproduces onnxruntime's output
//! (`NAME.expected.json`; tract is not the reference here: onnxruntime is
//! what PyTorch users compare against), it proves and verifies, a changed
//! output is rejected, and the verified output, dequantized, stays within
//! its bound of onnxruntime's.
//!
//! Bounds, `max |dequantized − onnxruntime| / max |onnxruntime|`: the
//! convolution and interpolation lowerings add no rounding of their own
//! beyond one requantization per Dense/Conv (5e-3, as `lowering_e2e.rs`);
//! the recurrent ones apply 10-bit Sigmoid/Tanh tables to every gate of
//! every step, and a step's error feeds the next (3e-2).

mod onnx_common;

use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_model::input::load_samples;
use zkinfer_prover::{prove, setup, verify};

use onnx_common::FIXTURES;

const MODELS: &[(&str, f64)] = &[
    ("seq_deconv2d", 5e-3),
    ("seq_deconv1d", 5e-3),
    ("seq_deconv_output_shape", 5e-3),
    ("seq_upsample_bilinear", 5e-3),
    ("seq_upsample_align_corners", 5e-3),
    ("seq_resize_linear_down", 5e-3),
    ("seq_lstm", 3e-2),
    ("seq_lstm_bidirectional", 3e-2),
    ("seq_gru", 3e-2),
    ("seq_rnn_relu", 3e-2),
    ("seq_gru_layout1", 3e-2),
    ("seq_lstm_peephole", 3e-2),
];

fn onnxruntime_output(name: &str) -> Vec<f64> {
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
    let x = load_samples(format!("{FIXTURES}/{name}.input.json"))
        .expect("fixture input")
        .remove(0);
    let reference = onnxruntime_output(name);
    let opts = CompileOptions {
        tract_check: false,
        ..CompileOptions::default()
    };
    let (m, report) = compile(&onnx, name, std::slice::from_ref(&x), &opts)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let fm = zkinfer_model::compile::float_model_of(&m).expect("re-imports");
    let float = fm.evaluate(&x).expect("float model runs");
    let scale = reference.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let rel = |ys: &[f64]| {
        assert_eq!(ys.len(), reference.len(), "{name}: output length");
        ys.iter()
            .zip(&reference)
            .fold(0.0f64, |a, (p, r)| a.max((p - r).abs()))
            / scale
    };
    let float_err = rel(&float);
    assert!(
        float_err < 1e-5,
        "{name}: float graph vs onnxruntime {float_err:e}"
    );

    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let q = m.quantize_input(&xf).expect("quantizes");
    let pk = setup(m.clone(), None).unwrap_or_else(|e| panic!("{name}: setup: {e}"));
    let start = std::time::Instant::now();
    let out = prove(&pk, &q).unwrap_or_else(|e| panic!("{name}: prove: {e}"));
    let prove_time = start.elapsed();
    verify(&pk.vk, &q, &out.output, &out.proof)
        .unwrap_or_else(|e| panic!("{name}: honest proof rejected: {e:?}"));
    for i in [0, out.output.len() / 2, out.output.len() - 1] {
        let mut wrong = out.output.clone();
        wrong[i] += 1;
        assert!(
            verify(&pk.vk, &q, &wrong, &out.proof).is_err(),
            "{name}: a changed output[{i}] verifies"
        );
    }
    let err = rel(&m.dequantize_output(&out.output));
    eprintln!(
        "{name:28} max error {err:.2e} of max |output| {scale:.3}  (mean rel {:.2e}, {} ops, prove {:.0} ms)",
        report.mean_rel_error,
        m.ops.len(),
        prove_time.as_secs_f64() * 1e3
    );
    assert!(
        err < tol,
        "{name}: max error {err:e} ≥ {tol:e} of the output's range"
    );
}

#[test]
fn upsampling_and_recurrent_fixtures_prove_verify_and_match_onnxruntime() {
    onnx_common::all_pass(MODELS, check);
}

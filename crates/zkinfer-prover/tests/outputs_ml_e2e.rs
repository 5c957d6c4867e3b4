//! Several graph outputs, index outputs (ArgMax, ArgMin, Hardmax, TopK) and
//! `ai.onnx.ml` models end to end: compile, set up, prove a batch of
//! samples, verify through the output file, each named output against
//! onnxruntime's; a changed label (in the proof's output or in the file's
//! `outputs`) is rejected.

use zkinfer_model::input::load_samples;
use zkinfer_model::CompileOptions;
use zkinfer_prover::api::{self, Error, OutputFile};
use zkinfer_prover::CommitmentMode;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

fn expected(name: &str) -> Vec<(String, Vec<f64>)> {
    let text = std::fs::read(format!("{FIXTURES}/{name}.expected.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
    v["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let data = o["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            (o["name"].as_str().unwrap().to_string(), data)
        })
        .collect()
}

/// Proves fixture `name` on all its samples and checks every output.
fn prove_and_check(name: &str, tol: f64) {
    let onnx = std::path::PathBuf::from(format!("{FIXTURES}/{name}.onnx"));
    let samples = load_samples(format!("{FIXTURES}/{name}.input.json")).unwrap();
    let (model, _) = api::compile_onnx(&onnx, &samples, &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(model.dynamic_batch, "{name}: a symbolic batch");
    let integer: Vec<bool> = model
        .output_segments
        .iter()
        .map(|s| s.elem.is_integer())
        .collect();
    let pk = api::setup(model, CommitmentMode::Fast).unwrap();
    let vk = pk.vk.clone();
    let x: Vec<f64> = samples.concat();
    let proven = api::prove_float(pk, &x, &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = proven.output.to_json().to_string();
    let file = OutputFile::parse(&text).unwrap();
    let verified = api::verify_float(&vk, &x, &file, &proven.proof)
        .unwrap_or_else(|e| panic!("{name}: honest proof rejected: {e}"));
    let outputs = file.outputs.clone().expect("named outputs");
    let want = expected(name);
    assert_eq!(outputs.len(), want.len(), "{name}");
    for ((got, (wname, w)), &int) in outputs.iter().zip(&want).zip(&integer) {
        assert_eq!(&got.name, wname, "{name}");
        assert_eq!(got.integer, int, "{name}/{wname}");
        if int {
            assert_eq!(
                &got.values, w,
                "{name}/{wname}: indices differ from onnxruntime's"
            );
        } else {
            let floor = (1e-2 * w.iter().fold(0.0f64, |a, v| a.max(v.abs()))).max(1e-6);
            let e = got
                .values
                .iter()
                .zip(w)
                .map(|(g, w)| (g - w).abs() / w.abs().max(floor))
                .sum::<f64>()
                / w.len() as f64;
            assert!(e <= tol, "{name}/{wname}: mean relative error {e}");
        }
    }
    // Tampering: a changed integer output value, in the proof's statement
    // or only in the file's named outputs, and a dropped `outputs`.
    let seg = vk
        .structure
        .output_segments
        .iter()
        .position(|s| s.elem.is_integer())
        .unwrap_or(0);
    let at = vk.structure.output_segments[seg].offset;
    let mut wrong = file.clone();
    wrong.output_int[at] += 1;
    assert!(
        matches!(
            api::verify_float(&vk, &x, &wrong, &proven.proof),
            Err(Error::Verify(_))
        ),
        "{name}: a changed output_int verifies"
    );
    let mut wrong = file.clone();
    wrong.outputs.as_mut().unwrap()[seg].values[0] += 1.0;
    assert!(
        matches!(
            api::verify_float(&vk, &x, &wrong, &proven.proof),
            Err(Error::OutputFile(_))
        ),
        "{name}: a changed named output verifies"
    );
    let mut wrong = file.clone();
    wrong.outputs = None;
    assert!(
        api::verify_float(&vk, &x, &wrong, &proven.proof).is_err(),
        "{name}: a file without its outputs verifies"
    );
    let mut wrong = file;
    wrong.outputs.as_mut().unwrap()[0].name.push('x');
    assert!(
        api::verify_float(&vk, &x, &wrong, &proven.proof).is_err(),
        "{name}: a renamed output verifies"
    );
    assert_eq!(verified.output_int, proven.output.output_int);
}

#[test]
fn several_outputs_and_index_ops_prove_and_verify() {
    prove_and_check("outs_heads", 1e-2);
    prove_and_check("outs_index_ops", 1e-3);
}

#[test]
fn linear_models_prove_and_verify() {
    prove_and_check("ml_linear_classifier", 1e-2);
    prove_and_check("ml_scaler_svm", 1e-2);
}

#[test]
fn tree_ensembles_prove_and_verify() {
    prove_and_check("ml_tree_classifier", 1e-2);
    prove_and_check("ml_tree_binary", 1e-2);
    prove_and_check("ml_tree_regressor", 1e-2);
}

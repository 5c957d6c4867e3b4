#![allow(dead_code)]
use std::path::PathBuf;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name))
        .unwrap_or_else(|e| panic!("fixture {name}: {e} (run scripts/make_fixtures.py)"))
}

pub fn tmp_path(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zkinfer-model-test-{}-{tag}", std::process::id()));
    d
}

/// The fixture's input and its stored reference output (`NAME.expected.json`:
/// onnxruntime's or the ONNX reference evaluator's, per the fixture script).
pub fn expected_sample(name: &str) -> (Vec<f64>, Vec<f64>) {
    let x = zkinfer_model::input::load_samples(fixture(&format!("{name}.input.json")))
        .unwrap()
        .remove(0);
    let text = String::from_utf8(read(&format!("{name}.expected.json"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let y = v["output_data"][0]
        .as_array()
        .expect("output_data")
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (x, y)
}

/// `max |ours − reference| / max |reference|`.
pub fn max_rel(ours: &[f64], reference: &[f64]) -> f64 {
    assert_eq!(ours.len(), reference.len());
    let scale = reference.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let err = ours
        .iter()
        .zip(reference)
        .fold(0.0f64, |a, (p, r)| a.max((p - r).abs()));
    err / scale
}

/// A fixture's float graph (no tract check).
pub fn imported(name: &str) -> zkinfer_model::float::FloatModel {
    zkinfer_model::onnx_import::import_onnx(&read(&format!("{name}.onnx")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

//! `prove --accuracy` / `verify --accuracy` on the bundled digits MLP: k/N
//! equals `zkinfer eval`'s quantized top-1 on the same samples, and a changed
//! label, a dropped sample, a wrong count or another model's key is rejected.

mod cli_common;

use std::path::{Path, PathBuf};

use cli_common::{fixture, s, stderr, tmpdir, zkinfer};
use serde_json::{json, Value};

const SAMPLES: usize = 40;

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The first `n` test samples and labels of the demo set, as JSON files.
fn dataset(d: &Path, n: usize, tag: &str) -> (PathBuf, PathBuf) {
    let npy = |name: &str| zkinfer_model::input::load_samples(fixture(name)).unwrap();
    let xs = npy("demo_test_inputs.npy");
    let labels = zkinfer_model::input::load_labels(fixture("demo_test_labels.npy")).unwrap();
    let (x, l) = (
        d.join(format!("{tag}.x.json")),
        d.join(format!("{tag}.y.json")),
    );
    std::fs::write(&x, json!({ "input_data": xs[..n] }).to_string()).unwrap();
    std::fs::write(&l, json!(labels[..n]).to_string()).unwrap();
    (x, l)
}

fn keys(d: &Path, onnx: &str, tag: &str) -> PathBuf {
    let zkm = d.join(format!("{tag}.zkm"));
    let o = zkinfer(&[
        "compile",
        &fixture(onnx),
        "-o",
        &s(&zkm),
        "--calibration",
        &fixture("demo_input.json"),
    ]);
    assert!(o.status.success(), "compile: {}", stderr(&o));
    let k = d.join(format!("{tag}-keys"));
    let o = zkinfer(&["setup", &s(&zkm), "-o", &s(&k)]);
    assert!(o.status.success(), "setup: {}", stderr(&o));
    k
}

fn verify(k: &Path, x: &Path, l: &Path, acc: &Path, proof: &Path) -> std::process::Output {
    zkinfer(&[
        "verify",
        "--vk",
        &s(&k.join("model.vk")),
        "--proof",
        &s(proof),
        "--inputs",
        &s(x),
        "--labels",
        &s(l),
        "--accuracy",
        "--output",
        &s(acc),
    ])
}

#[test]
fn accuracy_proofs_match_eval_and_reject_changes() {
    let d = tmpdir("accuracy");
    let k = keys(&d, "demo_mlp.onnx", "demo");
    let (x, l) = dataset(&d, SAMPLES, "set");
    let (acc, proof) = (d.join("acc.json"), d.join("acc.zkp"));
    let o = zkinfer(&[
        "prove",
        "--pk",
        &s(&k.join("model.pk")),
        "--inputs",
        &s(&x),
        "--labels",
        &s(&l),
        "--accuracy",
        "-o",
        &s(&proof),
        "--output",
        &s(&acc),
    ]);
    assert!(o.status.success(), "prove: {}", stderr(&o));
    let file = read_json(&acc);
    assert_eq!(file["samples"], SAMPLES);
    // k/N is eval's quantized top-1 on the same samples.
    let o = zkinfer(&[
        "eval",
        &s(&d.join("demo.zkm")),
        "--inputs",
        &s(&x),
        "--labels",
        &s(&l),
        "--json",
    ]);
    assert!(o.status.success(), "eval: {}", stderr(&o));
    let eval: Value = serde_json::from_slice(&o.stdout).unwrap();
    let k_proven = file["correct"].as_u64().unwrap() as f64;
    assert_eq!(
        eval["quantized_top1"].as_f64().unwrap(),
        k_proven / SAMPLES as f64,
        "{eval}"
    );
    let o = verify(&k, &x, &l, &acc, &proof);
    assert!(o.status.success(), "verify: {}", stderr(&o));

    let rejected = |o: std::process::Output, what: &str| {
        assert!(!o.status.success(), "{what} was accepted");
        assert!(
            stderr(&o).contains("NOT verified"),
            "{what}: {}",
            stderr(&o)
        );
    };
    // A changed label.
    let mut labels: Vec<i64> = serde_json::from_value(read_json(&l)).unwrap();
    labels[0] = (labels[0] + 1) % 10;
    let l2 = d.join("changed.y.json");
    std::fs::write(&l2, json!(labels).to_string()).unwrap();
    rejected(verify(&k, &x, &l2, &acc, &proof), "a changed label");
    // A dropped sample.
    let (x3, l3) = dataset(&d, SAMPLES - 1, "short");
    rejected(verify(&k, &x3, &l3, &acc, &proof), "a dropped sample");
    // A wrong count.
    let mut wrong = file.clone();
    wrong["correct"] = json!(file["correct"].as_u64().unwrap() + 1);
    let acc2 = d.join("wrong.json");
    std::fs::write(&acc2, wrong.to_string()).unwrap();
    rejected(verify(&k, &x, &l, &acc2, &proof), "a wrong count");
    // Another model's key.
    let other = keys(&d, "mlp_gemm_relu.onnx", "other");
    let o = zkinfer(&[
        "verify",
        "--vk",
        &s(&other.join("model.vk")),
        "--proof",
        &s(&proof),
        "--inputs",
        &s(&x),
        "--labels",
        &s(&l),
        "--accuracy",
        "--output",
        &s(&acc),
    ]);
    assert!(!o.status.success(), "another model's key was accepted");
}

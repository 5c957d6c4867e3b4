//! The proof commands through the real binary: compile → setup → prove →
//! verify on a committed fixture, and the user-facing failure modes.

mod cli_common;

use std::path::{Path, PathBuf};
use std::process::Output;

use cli_common::{fixture, s, stderr, tmpdir, zkinfer};

/// Compiles, sets up and proves the demo MLP fixture; returns the work dir.
fn proven(tag: &str) -> PathBuf {
    proven_fixture(tag, "demo_mlp.onnx", "demo_input.json", 10)
}

/// Compiles, sets up and proves a fixture model on its input; returns the work dir.
fn proven_fixture(tag: &str, model: &str, input: &str, outputs: usize) -> PathBuf {
    let d = tmpdir(tag);
    let zkm = d.join("m.zkm");
    let o = zkinfer(&[
        "compile",
        &fixture(model),
        "--calibration",
        &fixture(input),
        "-o",
        &s(&zkm),
    ]);
    assert!(o.status.success(), "compile: {}", stderr(&o));
    let o = zkinfer(&["setup", &s(&zkm), "-o", &s(&d.join("keys")), "--json"]);
    assert!(o.status.success(), "setup: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("setup --json");
    assert_eq!(v["model_id"].as_str().map(str::len), Some(64));
    let o = zkinfer(&[
        "prove",
        "--pk",
        &s(&d.join("keys/model.pk")),
        "--input",
        &fixture(input),
        "-o",
        &s(&d.join("p.zkp")),
        "--output",
        &s(&d.join("out.json")),
        "--json",
    ]);
    assert!(o.status.success(), "prove: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("prove --json");
    assert!(v["proof_bytes"].as_u64().unwrap() > 0);
    assert_eq!(v["output"].as_array().map(Vec::len), Some(outputs));
    d
}

fn verify(d: &Path, input: &str, out: &Path, proof: &Path) -> Output {
    zkinfer(&[
        "verify",
        "--vk",
        &s(&d.join("keys/model.vk")),
        "--proof",
        &s(proof),
        "--input",
        input,
        "--output",
        &s(out),
        "--json",
    ])
}

#[test]
fn prove_and_verify_through_the_cli() {
    let d = proven("ok");
    let o = verify(
        &d,
        &fixture("demo_input.json"),
        &d.join("out.json"),
        &d.join("p.zkp"),
    );
    assert!(o.status.success(), "verify: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
}

#[test]
fn cli_rejects_tampering_with_a_reason() {
    let d = proven("bad");
    // A changed output value.
    let text = std::fs::read_to_string(d.join("out.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let y0 = v["output_int"][0].as_i64().unwrap();
    v["output_int"][0] = serde_json::json!(y0 + 1);
    let bad_out = d.join("bad_out.json");
    std::fs::write(&bad_out, v.to_string()).unwrap();
    let o = verify(&d, &fixture("demo_input.json"), &bad_out, &d.join("p.zkp"));
    assert!(!o.status.success());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["verified"], false);
    assert!(stderr(&o).contains("NOT verified"), "{}", stderr(&o));

    // A changed input value.
    let input = std::fs::read_to_string(fixture("demo_input.json")).unwrap();
    let mut iv: serde_json::Value = serde_json::from_str(&input).unwrap();
    let x0 = iv["input_data"][0][3].as_f64().unwrap();
    iv["input_data"][0][3] = serde_json::json!(x0 + 0.5);
    let bad_in = d.join("bad_in.json");
    std::fs::write(&bad_in, iv.to_string()).unwrap();
    let o = verify(&d, &s(&bad_in), &d.join("out.json"), &d.join("p.zkp"));
    assert!(!o.status.success(), "changed input accepted");

    // A truncated and a garbage proof file.
    let bytes = std::fs::read(d.join("p.zkp")).unwrap();
    let trunc = d.join("trunc.zkp");
    std::fs::write(&trunc, &bytes[..bytes.len() / 3]).unwrap();
    let o = verify(&d, &fixture("demo_input.json"), &d.join("out.json"), &trunc);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    let junk = d.join("junk.zkp");
    std::fs::write(&junk, b"hello").unwrap();
    let o = verify(&d, &fixture("demo_input.json"), &d.join("out.json"), &junk);
    assert!(!o.status.success());
    assert!(!stderr(&o).contains("internal error"), "{}", stderr(&o));

    // A missing key file is an error, not a panic.
    let o = zkinfer(&[
        "verify",
        "--vk",
        "/nonexistent/model.vk",
        "--proof",
        &s(&d.join("p.zkp")),
        "--input",
        &fixture("demo_input.json"),
        "--output",
        &s(&d.join("out.json")),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

/// CNN fixtures (Conv2d, pooling, Transpose, Reshape) prove and verify from
/// ONNX through the CLI, and a changed output is rejected.
#[test]
fn cnn_fixtures_prove_and_verify_through_the_cli() {
    for (model, input, outputs) in [
        ("conv_net.onnx", "conv_net.input.json", 3),
        ("reshape_transpose.onnx", "reshape_transpose.input.json", 4),
    ] {
        let d = proven_fixture(model, model, input, outputs);
        let out = d.join("out.json");
        let o = verify(&d, &fixture(input), &out, &d.join("p.zkp"));
        assert!(o.status.success(), "{model}: verify: {}", stderr(&o));
        // Shift the first output by a whole unit: no longer the model's output.
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        let first = v["output_int"][0].as_i64().expect("output_int");
        v["output_int"][0] = serde_json::json!(first + 1);
        let bad = d.join("bad.json");
        std::fs::write(&bad, serde_json::to_vec(&v).unwrap()).unwrap();
        let o = verify(&d, &fixture(input), &bad, &d.join("p.zkp"));
        assert!(!o.status.success(), "{model}: a changed output verified");
    }
}

#[test]
fn demo_runs() {
    let o = zkinfer(&["demo"]);
    assert!(o.status.success(), "demo: {}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("verified"));
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Writes `v` next to the work dir's files and verifies it as the output file.
fn verify_edited(d: &Path, input: &str, name: &str, v: &serde_json::Value) -> Output {
    let p = d.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    verify(d, input, &p, &d.join("p.zkp"))
}

/// The stdout JSON and stderr of a rejected verification.
fn rejected(o: &Output, what: &str) -> String {
    assert!(!o.status.success(), "{what}: accepted");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("verify --json");
    assert_eq!(j["verified"], false, "{what}");
    let err = stderr(o);
    assert!(err.contains("NOT verified"), "{what}: {err}");
    assert!(!err.contains("internal error"), "{what}: {err}");
    err
}

/// One-op models — nothing committed per proof (Gemm, Conv, BatchNorm, Div by
/// a constant) or no weight layer (ReLU, Sigmoid, Clip, and a lone Softmax,
/// which leaves no integer op at all) — compile, set up, prove and verify;
/// a changed output is rejected.
#[test]
fn single_op_models_prove_and_verify_through_the_cli() {
    for (name, outputs) in [
        ("one_gemm", 3),
        ("one_conv", 50),
        ("one_relu", 7),
        ("one_softmax", 4),
        ("one_batchnorm", 18),
        ("one_div", 6),
        ("one_sigmoid", 5),
        ("one_clip", 6),
    ] {
        let (model, input) = (
            format!("{name}.onnx"),
            fixture(&format!("{name}.input.json")),
        );
        let d = proven_fixture(name, &model, &format!("{name}.input.json"), outputs);
        let out = d.join("out.json");
        let o = verify(&d, &input, &out, &d.join("p.zkp"));
        assert!(o.status.success(), "{name}: verify: {}", stderr(&o));
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let file = read_json(&out);
        assert_eq!(j["output"], file["output"], "{name}: verified output");
        assert_eq!(j["output_int"], file["output_int"], "{name}");
        // Empty commitments contribute no term; every term is a number.
        let o = zkinfer(&["security", "--vk", &s(&d.join("keys/model.vk")), "--json"]);
        assert!(o.status.success(), "{name}: security: {}", stderr(&o));
        let sec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let bits = sec["total_bits"].as_f64().expect("a finite total");
        assert!(bits >= 100.0, "{name}: {bits} bits");
        let comps = sec["components"].as_array().unwrap();
        assert!(
            comps.iter().all(|c| c["bits"].as_f64().is_some()),
            "{name}: {sec}"
        );

        // A whole unit more on one integer output: no longer the model's output.
        let mut v = file.clone();
        let y0 = v["output_int"][0].as_i64().unwrap();
        v["output_int"][0] = serde_json::json!(y0 + 1);
        rejected(&verify_edited(&d, &input, "int.json", &v), name);
        // The dequantized output alone changed.
        let mut v = file.clone();
        let f0 = v["output"][0].as_f64().unwrap();
        v["output"][0] = serde_json::json!(f0 + 100.0);
        let err = rejected(&verify_edited(&d, &input, "float.json", &v), name);
        assert!(err.contains("dequantizes to"), "{name}: {err}");
    }
}

/// The whole output file is bound: `output`, `output_int` and `model_id`;
/// the verified output is printed (and returned with `--json`).
#[test]
fn verify_binds_the_whole_output_file() {
    let d = proven("file");
    let input = fixture("demo_input.json");
    let file = read_json(&d.join("out.json"));

    // The verified output, in text mode too.
    let o = zkinfer(&[
        "verify",
        "--vk",
        &s(&d.join("keys/model.vk")),
        "--proof",
        &s(&d.join("p.zkp")),
        "--input",
        &input,
        "--output",
        &s(&d.join("out.json")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("verified"), "{text}");
    let printed = text
        .lines()
        .find_map(|l| l.strip_prefix("output     "))
        .expect("an output line");
    let printed: serde_json::Value = serde_json::from_str(printed).unwrap();
    assert_eq!(printed, file["output"]);

    // Raising one class score by 100 changes the predicted class: rejected.
    let mut v = file.clone();
    let f3 = v["output"][3].as_f64().unwrap();
    v["output"][3] = serde_json::json!(f3 + 100.0);
    let err = rejected(&verify_edited(&d, &input, "raised.json", &v), "raised");
    assert!(err.contains("\"output\"[3]"), "{err}");
    // The smallest possible change of a float is rejected too (exact check).
    let mut v = file.clone();
    let f0 = v["output"][0].as_f64().unwrap();
    v["output"][0] = serde_json::json!(f64::from_bits(f0.to_bits() + 1));
    let err = rejected(&verify_edited(&d, &input, "ulp.json", &v), "one ulp");
    assert!(err.contains("dequantizes to"), "{err}");
    // Another model id.
    let mut v = file.clone();
    v["model_id"] = serde_json::json!("00".repeat(32));
    let err = rejected(&verify_edited(&d, &input, "id.json", &v), "model id");
    assert!(err.contains("the output file is for model"), "{err}");
    // Missing fields, extra fields, fewer floats.
    for (what, edit, needle) in [
        ("no output", "output", "no \"output\" array"),
        ("no model id", "model_id", "no \"model_id\" string"),
    ] {
        let mut v = file.clone();
        v.as_object_mut().unwrap().remove(edit);
        let o = verify_edited(&d, &input, "missing.json", &v);
        assert!(!o.status.success(), "{what}: accepted");
        assert!(stderr(&o).contains(needle), "{what}: {}", stderr(&o));
    }
    let mut v = file.clone();
    v["note"] = serde_json::json!("hello");
    let o = verify_edited(&d, &input, "extra.json", &v);
    assert!(!o.status.success(), "an extra field was accepted");
    assert!(
        stderr(&o).contains("unexpected field \"note\""),
        "{}",
        stderr(&o)
    );
    let mut v = file.clone();
    v["output"].as_array_mut().unwrap().pop();
    let err = rejected(&verify_edited(&d, &input, "short.json", &v), "short");
    assert!(err.contains("\"output\" has 9 values"), "{err}");
    // An output_int beyond the output tensor's bound is an invalid statement.
    let mut v = file.clone();
    v["output_int"][0] = serde_json::json!(i64::MAX);
    let err = rejected(&verify_edited(&d, &input, "huge.json", &v), "huge");
    assert!(err.contains("invalid statement: output value #0"), "{err}");
}

/// Models exported with a fixed batch size prove all their samples in one
/// statement: the input file holds the batch as one tensor or as one row per
/// sample; the output holds every sample's output; another sample count is a
/// named error, and a changed sample is not verified.
#[test]
fn fixed_batch_models_prove_and_verify_through_the_cli() {
    for (name, batch, outputs) in [
        ("batch_mlp", 3, 3),
        ("batch_cnn", 2, 5),
        ("batch_gated", 5, 4),
    ] {
        let input = fixture(&format!("{name}.input.json"));
        let d = proven_fixture(
            name,
            &format!("{name}.onnx"),
            &format!("{name}.input.json"),
            batch * outputs,
        );
        let out = d.join("out.json");
        let o = verify(&d, &input, &out, &d.join("p.zkp"));
        assert!(o.status.success(), "{name}: verify: {}", stderr(&o));

        // The same samples, one row each.
        let flat: Vec<f64> = read_json(Path::new(&input))["input_data"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let rows: Vec<&[f64]> = flat.chunks(flat.len() / batch).collect();
        let by_row = d.join("rows.json");
        std::fs::write(
            &by_row,
            serde_json::json!({ "input_data": rows }).to_string(),
        )
        .unwrap();
        let o = verify(&d, &s(&by_row), &out, &d.join("p.zkp"));
        assert!(o.status.success(), "{name}: rows: {}", stderr(&o));

        // One sample too few: a named error, not a verdict on another statement.
        let short = d.join("short.json");
        std::fs::write(
            &short,
            serde_json::json!({ "input_data": &rows[1..] }).to_string(),
        )
        .unwrap();
        let o = verify(&d, &s(&short), &out, &d.join("p.zkp"));
        assert!(!o.status.success(), "{name}: short input accepted");
        assert!(
            stderr(&o).contains(&format!("takes {batch} sample(s)")),
            "{name}: {}",
            stderr(&o)
        );

        // The last sample changed: not the proven statement.
        let mut changed = flat.clone();
        *changed.last_mut().unwrap() += 0.5;
        let other = d.join("other.json");
        std::fs::write(
            &other,
            serde_json::json!({ "input_data": [changed] }).to_string(),
        )
        .unwrap();
        rejected(&verify(&d, &s(&other), &out, &d.join("p.zkp")), name);
    }
}

/// A model with a symbolic batch axis proves any number of samples with one
/// key: the model id is the same, each proof binds its own sample count, and
/// a proof of three samples is no proof of one.
#[test]
fn symbolic_batch_models_prove_any_sample_count() {
    for (name, outputs) in [("mlp_gemm_relu", 4), ("conv_net", 3)] {
        let one = fixture(&format!("{name}.input.json"));
        let d = proven_fixture(
            &format!("{name}_dyn"),
            &format!("{name}.onnx"),
            &format!("{name}.input.json"),
            outputs,
        );
        let sample: Vec<f64> = read_json(Path::new(&one))["input_data"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let rows: Vec<Vec<f64>> = [1.0, 0.5, -0.7]
            .iter()
            .map(|k| sample.iter().map(|v| v * k).collect())
            .collect();
        let three = d.join("three.json");
        std::fs::write(
            &three,
            serde_json::json!({ "input_data": rows }).to_string(),
        )
        .unwrap();
        let o = zkinfer(&[
            "prove",
            "--pk",
            &s(&d.join("keys/model.pk")),
            "--input",
            &s(&three),
            "-o",
            &s(&d.join("p3.zkp")),
            "--output",
            &s(&d.join("out3.json")),
        ]);
        assert!(o.status.success(), "{name}: prove 3: {}", stderr(&o));
        let (out1, out3) = (
            read_json(&d.join("out.json")),
            read_json(&d.join("out3.json")),
        );
        assert_eq!(
            out3["output"].as_array().unwrap().len(),
            3 * outputs,
            "{name}"
        );
        assert_eq!(out1["model_id"], out3["model_id"], "{name}: one model id");
        assert_eq!(
            out1["output_int"][0], out3["output_int"][0],
            "{name}: sample 0 alike"
        );
        let o = verify(&d, &s(&three), &d.join("out3.json"), &d.join("p3.zkp"));
        assert!(o.status.success(), "{name}: verify 3: {}", stderr(&o));
        // The three-sample proof and output against the first sample alone.
        let err = rejected(
            &verify(&d, &one, &d.join("out3.json"), &d.join("p3.zkp")),
            name,
        );
        assert!(
            err.contains("1 sample") || err.contains("values"),
            "{name}: {err}"
        );
        // A one-sample proof read as the three-sample statement.
        rejected(
            &verify(&d, &s(&three), &d.join("out3.json"), &d.join("p.zkp")),
            name,
        );
    }
}

/// `bench` on a compiled transformer: a row with the prove time broken down
/// per lookup table and per ONNX module (`prover::module_of`'s unit test
/// covers exporter path names); a compiled model without `--input` is a
/// named error.
#[test]
fn bench_reports_a_compiled_model_per_table_and_module() {
    let d = tmpdir("bench-zkm");
    let zkm = s(&d.join("m.zkm"));
    let input = fixture("tiny_gpt.input.json");
    let o = zkinfer(&[
        "compile",
        &fixture("tiny_gpt.onnx"),
        "--calibration",
        &input,
        "-o",
        &zkm,
    ]);
    assert!(o.status.success(), "compile: {}", stderr(&o));
    let o = zkinfer(&[
        "bench", "--models", &zkm, "--input", &input, "--repeat", "1", "--json",
    ]);
    assert!(o.status.success(), "bench: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = &v["models"][0];
    assert!(row["prove_s"].as_f64().unwrap() > 0.0);
    assert!(row["security_bits"].as_f64().unwrap() >= 100.0);
    let tables = row["lookups_by_table_s"].as_object().unwrap();
    assert!(tables.keys().any(|k| k == "lut exp"), "{tables:?}");
    // This fixture's values carry no exporter path: one group.
    let modules = row["layers_by_module_s"].as_object().unwrap();
    assert_eq!(modules.keys().collect::<Vec<_>>(), ["other"]);
    let o = zkinfer(&["bench", "--models", &zkm]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("pass --input"), "{}", stderr(&o));
}

//! The proof commands through the real binary: compile → setup → prove →
//! verify on a committed fixture, and the user-facing failure modes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .expect("run zkinfer")
}

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name);
    p.to_string_lossy().into_owned()
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zkinfer-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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

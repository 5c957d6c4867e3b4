//! Zero-knowledge proofs through the real binary: `prove --private-input`,
//! `verify` without the input, and what it refuses.

mod cli_common;

use std::path::Path;
use std::process::Output;

use cli_common::{fixture, s, stderr, tmpdir, zkinfer};

fn verify(d: &Path, input: Option<&str>, out: &Path, proof: &Path) -> Output {
    let (vk, proof, out) = (s(&d.join("keys/model.vk")), s(proof), s(out));
    let mut args = vec![
        "verify", "--vk", &vk, "--proof", &proof, "--output", &out, "--json",
    ];
    if let Some(x) = input {
        args.extend(["--input", x]);
    }
    zkinfer(&args)
}

/// The demo MLP compiled and set up in `d` (keys in `d/keys`); returns its
/// input file.
fn demo_keys(d: &Path) -> String {
    let zkm = s(&d.join("m.zkm"));
    let input = fixture("demo_input.json");
    let o = zkinfer(&[
        "compile",
        &fixture("demo_mlp.onnx"),
        "--calibration",
        &input,
        "-o",
        &zkm,
    ]);
    assert!(o.status.success(), "compile: {}", stderr(&o));
    let o = zkinfer(&["setup", &zkm, "-o", &s(&d.join("keys"))]);
    assert!(o.status.success(), "setup: {}", stderr(&o));
    input
}

#[test]
fn a_private_input_is_never_read_by_the_verifier() {
    let d = tmpdir("zk-private-input");
    let input = demo_keys(&d);
    let (proof, out) = (d.join("p.zkp"), d.join("out.json"));
    let o = zkinfer(&[
        "prove",
        "--pk",
        &s(&d.join("keys/model.pk")),
        "--input",
        &input,
        "-o",
        &s(&proof),
        "--output",
        &s(&out),
        "--private-input",
    ]);
    assert!(o.status.success(), "prove: {}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("private"));

    let o = verify(&d, None, &out, &proof);
    assert!(o.status.success(), "verify: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert!(v["security_bits"].as_f64().unwrap() >= 100.0);

    // Handing the verifier an input is refused: the statement has none.
    let o = verify(&d, Some(&input), &out, &proof);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("private"), "{}", stderr(&o));

    // Another output is rejected.
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let first = file["output_int"][0].as_i64().unwrap();
    file["output_int"][0] = (first + 1).into();
    let bad = d.join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&file).unwrap()).unwrap();
    let o = verify(&d, None, &bad, &proof);
    assert!(!o.status.success());

    // A flipped byte in the hiding opening (the proof's end) is rejected.
    let mut bytes = std::fs::read(&proof).unwrap();
    let k = bytes.len() - 100;
    bytes[k] ^= 1;
    let flipped = d.join("flipped.zkp");
    std::fs::write(&flipped, bytes).unwrap();
    let o = verify(&d, None, &out, &flipped);
    assert!(!o.status.success());
}

/// `bench --private-input` proves and verifies in zero knowledge (its bits
/// are the zero-knowledge figure) and reports a model it cannot prove
/// instead of failing the table; `security` prints both figures.
#[test]
fn bench_and_security_report_zero_knowledge() {
    let o = zkinfer(&[
        "bench",
        "--models",
        "64-32-16,lenet5",
        "--private-input",
        "--repeat",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "bench: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (mlp, cnn) = (&v["models"][0], &v["models"][1]);
    assert_eq!(mlp["zero_knowledge"], true);
    assert!(mlp["prove_s"].as_f64().unwrap() > 0.0);
    assert!(mlp["security_bits"].as_f64().unwrap() >= 100.0);
    assert!(
        cnn["error"]
            .as_str()
            .unwrap()
            .contains("no zero-knowledge step"),
        "{cnn}"
    );

    let d = tmpdir("zk-security");
    demo_keys(&d);
    let o = zkinfer(&["security", "--vk", &s(&d.join("keys/model.vk")), "--json"]);
    assert!(o.status.success(), "security: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let zk = &v["zero_knowledge_private_input"];
    assert!(zk["total_bits"].as_f64().unwrap() >= 100.0, "{zk}");
    assert!(zk["components"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["component"]
            .as_str()
            .unwrap()
            .starts_with("hiding opening")));
}

#[test]
fn the_leak_audit_finds_a_twin_input_and_passes() {
    let d = tmpdir("zk-audit");
    let input = demo_keys(&d);
    let pk = s(&d.join("keys/model.pk"));
    let o = zkinfer(&[
        "zk-audit", "--pk", &pk, "--input", &input, "--runs", "8", "--json",
    ]);
    assert!(o.status.success(), "zk-audit: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(v["repeated_numbers"], 0, "{v}");
    assert_eq!(v["hidden_values_found"], 0, "{v}");
    assert!(v["varying_numbers"].as_u64().unwrap() > 100, "{v}");
    assert!(v["hidden_values"].as_u64().unwrap() > 0, "{v}");
    // Too few proofs for the statistics: refused by name.
    let o = zkinfer(&["zk-audit", "--pk", &pk, "--input", &input, "--runs", "2"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("at least 8"), "{}", stderr(&o));
}

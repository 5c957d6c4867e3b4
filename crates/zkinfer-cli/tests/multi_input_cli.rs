//! Models with several graph inputs through the real binary: compile → setup
//! → prove → verify, the proven output against the float model, and input
//! files with inputs missing or out of order (a named error or a rejection,
//! never a panic).

mod cli_common;

use std::path::PathBuf;
use std::process::Output;

use cli_common::{fixture, s, stderr, tmpdir, zkinfer};

use serde_json::{json, Value};

/// A failure the user can act on: exit status 1 with a message, not a panic
/// (which exits 101).
fn assert_named_error(o: &Output, what: &str, contains: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{what}: {e}");
    assert!(!e.contains("panicked"), "{what}: {e}");
    assert!(
        e.contains(contains),
        "{what}: expected `{contains}` in: {e}"
    );
}

struct Proven {
    dir: PathBuf,
    input: String,
}

impl Proven {
    fn prove(&self, input: &str) -> Output {
        zkinfer(&[
            "prove",
            "--pk",
            &s(&self.dir.join("keys/model.pk")),
            "--input",
            input,
            "-o",
            &s(&self.dir.join("other.zkp")),
            "--output",
            &s(&self.dir.join("other.json")),
            "--json",
        ])
    }

    /// Verifies the proof of the fixture's input against `input`.
    fn verify(&self, input: &str) -> Output {
        zkinfer(&[
            "verify",
            "--vk",
            &s(&self.dir.join("keys/model.vk")),
            "--proof",
            &s(&self.dir.join("p.zkp")),
            "--input",
            input,
            "--output",
            &s(&self.dir.join("out.json")),
            "--json",
        ])
    }

    /// An input file with the fixture's entries rearranged.
    fn variant(&self, tag: &str, f: impl FnOnce(&mut Vec<Value>)) -> String {
        let text = std::fs::read_to_string(&self.input).unwrap();
        let mut v: Value = serde_json::from_str(&text).unwrap();
        f(v["input_data"].as_array_mut().unwrap());
        let p = self.dir.join(format!("{tag}.json"));
        std::fs::write(&p, v.to_string()).unwrap();
        s(&p)
    }
}

/// Compiles, sets up, proves and verifies a fixture; checks the verified
/// output against the float model (`zkinfer run`) within 1 % of its scale.
fn proven(name: &str, samples: usize) -> Proven {
    let d = tmpdir(&format!("multi-{name}"));
    let input = fixture(&format!("{name}.input.json"));
    let zkm = s(&d.join("m.zkm"));
    let o = zkinfer(&[
        "compile",
        &fixture(&format!("{name}.onnx")),
        "--calibration",
        &input,
        "-o",
        &zkm,
        "--json",
    ]);
    assert!(o.status.success(), "{name} compile: {}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        report["tract_max_abs_diff"].as_f64().unwrap() < 1e-4,
        "{report}"
    );
    let o = zkinfer(&["setup", &zkm, "-o", &s(&d.join("keys")), "--json"]);
    assert!(o.status.success(), "{name} setup: {}", stderr(&o));
    let o = zkinfer(&[
        "prove",
        "--pk",
        &s(&d.join("keys/model.pk")),
        "--input",
        &input,
        "-o",
        &s(&d.join("p.zkp")),
        "--output",
        &s(&d.join("out.json")),
        "--json",
    ]);
    assert!(o.status.success(), "{name} prove: {}", stderr(&o));
    let p = Proven { dir: d, input };
    let o = p.verify(&p.input);
    assert!(o.status.success(), "{name} verify: {}", stderr(&o));
    let verified: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(verified["verified"], true);
    let o = zkinfer(&["run", &zkm, "--input", &p.input, "--json"]);
    assert!(o.status.success(), "{name} run: {}", stderr(&o));
    let run: Value = serde_json::from_slice(&o.stdout).unwrap();
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let (got, want) = (floats(&verified["output"]), floats(&run["float_output"]));
    assert_eq!(got.len(), want.len(), "{name}");
    assert_eq!(run["class"].as_array().unwrap().len(), samples, "{name}");
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g - w).abs() <= 0.01 * scale,
            "{name}: proven {got:?}, float {want:?}"
        );
    }
    p
}

#[test]
fn two_float_inputs_of_one_shape() {
    let p = proven("multi_add_mul", 1);
    // Swapped inputs of one shape are a different statement: the proof is rejected.
    let swapped = p.variant("swapped", |e| e.swap(0, 1));
    let o = p.verify(&swapped);
    assert_named_error(&o, "verify swapped", "NOT verified");
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["verified"], false);
    // A missing input is named.
    let missing = p.variant("missing", |e| {
        e.pop();
    });
    assert_named_error(&p.prove(&missing), "prove missing", "2 graph inputs");
    assert_named_error(&p.verify(&missing), "verify missing", "2 graph inputs");
    // A symbolic batch: each input holding two samples is one statement of two.
    let two = p.variant("two", |e| {
        for entry in e.iter_mut() {
            let v = entry.as_array().unwrap().clone();
            *entry = json!(v.iter().chain(&v).collect::<Vec<_>>());
        }
    });
    let o = p.prove(&two);
    assert!(o.status.success(), "{}", stderr(&o));
    let out: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["output"].as_array().unwrap().len(), 6);
}

#[test]
fn two_float_inputs_broadcast_against_each_other() {
    let p = proven("multi_broadcast", 1);
    let swapped = p.variant("swapped", |e| e.swap(0, 1));
    assert_named_error(&p.prove(&swapped), "prove swapped", "input `a`");
    assert_named_error(&p.verify(&swapped), "verify swapped", "input `a`");
    let missing = p.variant("missing", |e| {
        e.remove(0);
    });
    assert_named_error(&p.prove(&missing), "prove missing", "found 1 entry");
    // .npy input files hold one array: refused by name for several inputs.
    let npy = p.dir.join("x.npy");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (16,), }";
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend([0u8; 64]);
    std::fs::write(&npy, bytes).unwrap();
    assert_named_error(&p.prove(&s(&npy)), "prove npy", ".npy file holds one array");
}

#[test]
fn an_int64_input_used_arithmetically() {
    let p = proven("multi_int_input", 1);
    let swapped = p.variant("swapped", |e| e.swap(0, 1));
    // The float input's values are not int64 counts.
    assert_named_error(&p.prove(&swapped), "prove swapped", "`counts` is int64");
}

#[test]
fn three_inputs_with_a_fixed_batch_of_two() {
    let p = proven("multi_three_batch2", 2);
    let swapped = p.variant("swapped", |e| e.swap(0, 2));
    assert_named_error(&p.prove(&swapped), "prove swapped", "`mask` is bool");
    let one_sample = p.variant("one_sample", |e| {
        for (entry, len) in e.iter_mut().zip([4, 3, 4]) {
            let v = entry.as_array().unwrap()[..len].to_vec();
            *entry = json!(v);
        }
    });
    assert_named_error(
        &p.prove(&one_sample),
        "prove one sample",
        "the model takes 2",
    );
    let missing = p.variant("missing", |e| {
        e.pop();
    });
    assert_named_error(&p.verify(&missing), "verify missing", "3 graph inputs");
}

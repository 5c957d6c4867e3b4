//! `zkinfer coverage` through the real binary: the committed corpus subset
//! (`scripts/make_op_corpus.py --subset`) all proves and verifies with a small
//! error against onnxruntime, and broken corpus entries are per-model lines,
//! not the end of the run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .expect("run zkinfer")
}

fn subset_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/coverage")
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zkinfer-coverage-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `coverage DIR --json`; returns the report.
fn coverage(dir: &Path, tag: &str) -> Value {
    let json = tmpdir(tag).join("report.json");
    let o = zkinfer(&[
        "coverage",
        &dir.to_string_lossy(),
        "--json",
        &json.to_string_lossy(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "coverage: {stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn the_committed_corpus_subset_proves_and_verifies() {
    let report = coverage(&subset_dir(), "subset");
    let models = report["models"].as_array().unwrap();
    assert!(models.len() >= 8, "{} models", models.len());
    for m in models {
        assert_eq!(m["status"], "verified", "{}: {}", m["name"], m["line"]);
        assert!(m["mean_rel_err"].as_f64().unwrap() < 0.01, "{m}");
    }
    let mean = report["summary"]["mean_mean_rel_err"].as_f64().unwrap();
    assert!(mean < 0.01, "mean relative error {mean}");
    assert_eq!(report["summary"]["counts"]["verified"], models.len());
}

#[test]
fn broken_entries_are_reported_per_model() {
    let d = tmpdir("broken");
    let src = subset_dir().join("relu_alone");
    let copy = |name: &str| {
        let to = d.join(name);
        std::fs::create_dir_all(&to).unwrap();
        for f in ["model.onnx", "input.json", "reference.json"] {
            std::fs::copy(src.join(f), to.join(f)).unwrap();
        }
        to
    };
    copy("ok");
    std::fs::remove_file(copy("no_reference").join("reference.json")).unwrap();
    std::fs::write(copy("garbage_model").join("model.onnx"), b"hello").unwrap();
    std::fs::write(copy("bad_input").join("input.json"), b"{\"x\": 1}").unwrap();
    std::fs::write(
        copy("other_reference").join("reference.json"),
        b"{\"outputs\": [{\"data\": [1, 2]}]}",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("not_a_model")).unwrap();

    let report = coverage(&d, "broken-report");
    let status = |name: &str| {
        let m = report["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report}"));
        (
            m["status"].as_str().unwrap().to_string(),
            m["line"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(status("ok").0, "verified");
    let (s, line) = status("no_reference");
    assert_eq!(s, "bad_entry", "{line}");
    assert!(line.contains("reference.json"), "{line}");
    let (s, line) = status("garbage_model");
    assert!(line.starts_with("refused at compile"), "{s}: {line}");
    assert_eq!(status("bad_input").0, "bad_entry");
    let (s, line) = status("other_reference");
    assert_eq!(s, "wrong_output", "{line}");
    assert_eq!(report["models"].as_array().unwrap().len(), 5);
}

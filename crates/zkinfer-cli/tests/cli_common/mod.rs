//! Shared by the CLI integration tests: run the built binary, find committed
//! fixtures, make scratch directories.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .expect("run zkinfer")
}

pub fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name);
    p.to_string_lossy().into_owned()
}

/// A fresh scratch directory for one test (`tag` keeps tests apart).
pub fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zkinfer-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The demo MLP compiled and set up in `d` (keys in `d/keys`); returns its
/// input file.
pub fn demo_keys(d: &Path) -> String {
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

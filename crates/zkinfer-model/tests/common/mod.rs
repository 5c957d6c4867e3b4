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

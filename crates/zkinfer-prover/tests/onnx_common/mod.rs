//! Shared by the ONNX fixture end-to-end tests: compile a committed fixture,
//! check it against tract and the float model, prove, verify, and reject a
//! changed output.

#![allow(dead_code)] // each test binary uses its own subset

use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_model::ir::QuantModel;
use zkinfer_prover::{prove, setup, verify};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

/// Runs the whole pipeline on fixture `name` (mean relative output error
/// below `tol`); returns the compiled model for op-specific checks.
pub fn prove_fixture(name: &str, tol: f64) -> QuantModel {
    let onnx = std::fs::read(format!("{FIXTURES}/{name}.onnx")).expect("fixture exists");
    let x = zkinfer_model::input::load_samples(format!("{FIXTURES}/{name}.input.json"))
        .expect("fixture input")
        .remove(0);
    let (m, report) = compile(
        &onnx,
        name,
        std::slice::from_ref(&x),
        &CompileOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let tract = report.tract_max_abs_diff.expect("tract cross-check ran");
    assert!(tract < 1e-4, "{name}: float graph vs tract {tract:e}");
    assert!(
        report.mean_rel_error < tol,
        "{name}: mean relative error {:e} ≥ {tol:e} (max abs {:e})",
        report.mean_rel_error,
        report.max_abs_error
    );
    eprintln!(
        "{name:20} mean rel {:.2e}  max abs {:.2e}  tract {:.1e}",
        report.mean_rel_error, report.max_abs_error, tract
    );
    prove_verify_and_reject_changed_outputs(name, &m, &x);
    m
}

/// Runs `check` on every model, collecting the failures into one panic.
pub fn all_pass(models: &[(&str, f64)], check: impl Fn(&str, f64) + std::panic::RefUnwindSafe) {
    let failed: Vec<String> = models
        .iter()
        .filter_map(|&(name, tol)| {
            std::panic::catch_unwind(|| check(name, tol))
                .err()
                .map(|e| match e.downcast::<String>() {
                    Ok(s) => *s,
                    Err(_) => name.to_string(),
                })
        })
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

/// Sets up `m`, checks ≥ 100 computed bits, proves input `x`, verifies, and
/// checks that a changed first or last output is rejected; returns the
/// proven integer output.
pub fn prove_verify_and_reject_changed_outputs(name: &str, m: &QuantModel, x: &[f64]) -> Vec<i64> {
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let q = m.quantize_input(&xf).expect("quantizes");
    let pk = setup(m.clone(), None).unwrap_or_else(|e| panic!("{name}: setup: {e}"));
    let bits = zkinfer_prover::security::report(&pk.vk).total_bits;
    assert!(
        bits >= 100.0,
        "{name}: {bits:.1} bits of computed soundness"
    );
    let out = prove(&pk, &q).unwrap_or_else(|e| panic!("{name}: prove: {e}"));
    verify(&pk.vk, &q, &out.output, &out.proof)
        .unwrap_or_else(|e| panic!("{name}: honest proof rejected: {e:?}"));
    for i in [0, out.output.len() - 1] {
        let mut wrong = out.output.clone();
        wrong[i] += 1;
        assert!(
            verify(&pk.vk, &q, &wrong, &out.proof).is_err(),
            "{name}: a changed output[{i}] verifies"
        );
    }
    out.output
}

//! Unary table functions from ONNX (Exp, Log, Sqrt, Reciprocal, Erf, Gelu, Elu, Selu, Celu,
//! Softplus, Softsign, HardSigmoid, HardSwish, Mish, Abs, Neg, Sign, Sin, Cos, Floor, Ceil,
//! Round): each fixture compiles close to the float model (and the float model to tract),
//! proves, verifies, and a changed output is rejected.

mod onnx_common;

use onnx_common::{all_pass, prove_fixture, FIXTURES};
use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_model::ir::QOp;

/// (fixture, bound on the mean relative output error).
const MODELS: &[(&str, f64)] = &[
    ("unary_exp", 2e-3),
    ("unary_log", 2e-3),
    ("unary_sqrt", 2e-3),
    ("unary_reciprocal", 2e-3),
    ("unary_erf", 2e-3),
    ("unary_gelu", 2e-3),
    ("unary_gelu_tanh", 2e-3),
    ("unary_elu", 2e-3),
    ("unary_selu", 2e-3),
    ("unary_celu", 2e-3),
    ("unary_softplus", 2e-3),
    ("unary_softsign", 2e-3),
    ("unary_hardsigmoid", 2e-3),
    ("unary_hardswish", 2e-3),
    ("unary_mish", 2e-3),
    ("unary_abs", 2e-3),
    ("unary_neg", 2e-3),
    ("unary_sign", 2e-3),
    ("unary_sin", 2e-3),
    ("unary_cos", 2e-3),
    ("unary_floor", 2e-3),
    ("unary_ceil", 2e-3),
    ("unary_round", 2e-3),
    ("unary_tan", 2e-3),
    ("unary_asin", 2e-3),
    ("unary_acos", 2e-3),
    ("unary_atan", 2e-3),
    ("unary_sinh", 2e-3),
    ("unary_cosh", 2e-3),
    ("unary_asinh", 2e-3),
    ("unary_acosh", 2e-3),
    ("unary_atanh", 2e-3),
    ("unary_thresholdedrelu", 2e-3),
    ("unary_shrink", 2e-3),
    ("one_exp", 2e-3),
    ("one_gelu_tanh", 2e-3),
    ("one_floor", 2e-3),
    ("unsupported_cos", 2e-3),
];

fn check(name: &str, tol: f64) {
    let m = prove_fixture(name, tol);
    assert!(
        m.ops.iter().any(|op| matches!(op, QOp::Lut { .. })),
        "{name}: a table"
    );
}

#[test]
fn unary_fixtures_compile_prove_verify_and_reject_a_changed_output() {
    all_pass(MODELS, check);
}

#[test]
fn a_singular_table_domain_is_refused_naming_op_and_node() {
    for (name, node) in [
        ("unary_log", "log_node"),
        ("unary_reciprocal", "reciprocal_node"),
    ] {
        let onnx = std::fs::read(format!("{FIXTURES}/{name}.onnx")).expect("fixture exists");
        let x = zkinfer_model::input::load_samples(format!("{FIXTURES}/{name}.input.json"))
            .expect("fixture input")
            .remove(0);
        // a second sample driving the first layer's outputs through 0
        let far: Vec<f64> = x.iter().map(|v| v * 40.0).collect();
        let opts = CompileOptions {
            tract_check: false,
            ..CompileOptions::default()
        };
        let err = compile(&onnx, name, &[x, far], &opts)
            .expect_err("an input reaching 0 is refused")
            .to_string();
        assert!(
            err.contains(node) && err.contains("reaches 0"),
            "{name}: {err}"
        );
    }
}

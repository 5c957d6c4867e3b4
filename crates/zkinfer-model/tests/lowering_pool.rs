//! Pooling with every ONNX attribute and per-element constants
//! (`lowering_pool.rs`, `MulConst`) on the `pool_*`, `prelu_mul_whole` and
//! `legacy_*` fixtures of `scripts/make_fixtures.py`: each float
//! graph reproduces the ONNX reference evaluator's output
//! (`NAME.expected.json`), the exact integer evaluation stays within its
//! bound of it, and the graphs hold the ops the lowering should produce.

mod common;
use common::*;
use zkinfer_model::compile::{compile, run_quantized, CompileOptions};
use zkinfer_model::float::{FOpKind, FloatModel};
use zkinfer_model::UnaryFn;

/// (fixture, bound on `max |integer − reference| / max |reference|`): a few
/// 13–14-bit roundings and, for LpPool p = 2, the Sqrt table.
const MODELS: &[(&str, f64)] = &[
    ("pool_ceil_exclude_pad", 5e-3),
    ("pool_lp", 1e-2),
    ("prelu_mul_whole", 5e-3),
    ("legacy_prelu_add", 5e-3),
    ("legacy_zoo_opset3", 5e-3),
    ("legacy_bn_per_element", 5e-3),
    ("image_scaler", 5e-3),
    ("volume_conv_pool", 5e-3),
];

#[test]
fn float_graphs_match_the_onnx_reference_and_integer_eval_stays_close() {
    let mut failures = vec![];
    for &(name, tol) in MODELS {
        let (x, reference) = expected_sample(name);
        let float = imported(name).evaluate(&x).unwrap();
        let f_err = max_rel(&float, &reference);
        let opts = CompileOptions {
            tract_check: false,
            ..CompileOptions::default()
        };
        let (m, _) = compile(
            &read(&format!("{name}.onnx")),
            name,
            std::slice::from_ref(&x),
            &opts,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (y, _) = run_quantized(&m, &x).unwrap();
        let q_err = max_rel(&y, &reference);
        eprintln!("{name:24} float vs reference {f_err:.1e}  integer {q_err:.2e}");
        if f_err > 1e-5 || q_err > tol {
            failures.push(format!(
                "{name}: float {f_err:e}, integer {q_err:e} (bound {tol:e})"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn count(fm: &FloatModel, f: impl Fn(&FOpKind) -> bool) -> usize {
    fm.ops.iter().filter(|o| f(&o.kind)).count()
}

#[test]
fn lowered_pools_hold_the_expected_ops() {
    // count_include_pad = 0 with padding: the border divisors are a MulConst
    // after the average; ceil_mode widens the end padding of both pools.
    let fm = imported("pool_ceil_exclude_pad");
    let pads: Vec<[usize; 4]> = fm
        .ops
        .iter()
        .filter_map(|o| match o.kind {
            FOpKind::MaxPool { pads, .. } | FOpKind::AvgPool { pads, .. } => Some(pads),
            _ => None,
        })
        .collect();
    // AveragePool 3×3/2 on 8×7, pads 1: ceil_mode's fifth row of windows
    // reaches one row further; MaxPool 2×2/2 on 5×4, pads [1, 0, 0, 1]: the
    // third column of windows would start in the padding, so it is dropped.
    assert_eq!(pads, [[1, 1, 2, 1], [1, 0, 0, 1]]);
    let mul = fm
        .ops
        .iter()
        .find_map(|o| match &o.kind {
            FOpKind::MulConst { c } => Some(c.clone()),
            _ => None,
        })
        .expect("a MulConst of the divisors");
    // 9 / D: a corner window holds 4 inputs, an edge one 6, an inner one 9.
    assert_eq!((mul[0], mul[1], mul[5]), (9.0 / 4.0, 9.0 / 6.0, 1.0));

    // LpPool p = 1: an Abs table before the sum; p = 2: x·x, then Sqrt.
    let fm = imported("pool_lp");
    let abs = count(&fm, |k| matches!(k, FOpKind::Unary(UnaryFn::Abs)));
    let sqrt = count(&fm, |k| matches!(k, FOpKind::Unary(UnaryFn::Sqrt)));
    let squares = count(&fm, |k| matches!(k, FOpKind::Mul));
    assert_eq!((abs, sqrt, squares), (1, 1, 1));

    // Per-element slopes and whole-sample Mul/Div constants: MulConsts.
    let fm = imported("prelu_mul_whole");
    assert_eq!(count(&fm, |k| matches!(k, FOpKind::MulConst { .. })), 3);

    // Volumes: the Conv3d is one 2-D Conv over (channel, depth) pairs, each
    // 3-D pool two 2-D pools.
    let fm = imported("volume_conv_pool");
    let conv = fm
        .ops
        .iter()
        .find_map(|o| match o.kind {
            FOpKind::Conv { kernel_shape, .. } => Some(kernel_shape),
            _ => None,
        })
        .expect("a Conv");
    // 4 output channels × 3 output depths, 2 channels × 5 depths, kernel
    // 2×2 with height dilation 2: 3×2
    assert_eq!(conv, [12, 10, 3, 2]);
    assert_eq!(count(&fm, |k| matches!(k, FOpKind::MaxPool { .. })), 2);
    assert_eq!(count(&fm, |k| matches!(k, FOpKind::AvgPool { .. })), 2);

    // BatchNorm with spatial = 0: one statistic per element of a sample, a
    // whole-sample MulConst then AddConst (4 channels × 5 × 5), not an Affine.
    let fm = imported("legacy_bn_per_element");
    let per_element: Vec<usize> = fm
        .ops
        .iter()
        .filter_map(|o| match &o.kind {
            FOpKind::MulConst { c } | FOpKind::AddConst { c } => Some(c.len()),
            _ => None,
        })
        .collect();
    assert_eq!(per_element, [100, 100]);
    assert_eq!(count(&fm, |k| matches!(k, FOpKind::Affine { .. })), 0);

    // ImageScaler: one per-channel Affine, `0.5·x + bias[c]`.
    let fm = imported("image_scaler");
    let affine = fm
        .ops
        .iter()
        .find_map(|o| match &o.kind {
            FOpKind::Affine { scale, shift } => Some((scale.clone(), shift.clone())),
            _ => None,
        })
        .expect("an Affine");
    assert_eq!(affine.0, [0.5; 3]);
    assert_eq!(affine.1.len(), 3);
}

/// tract 0.23 has no LpPool: compile at default settings skips the tract
/// cross-check for it (the float graph is checked against the ONNX
/// reference above) instead of refusing the model.
#[test]
fn lp_pool_compiles_at_default_settings() {
    let (x, _) = expected_sample("pool_lp");
    let (_, report) = compile(
        &read("pool_lp.onnx"),
        "pool_lp",
        &[x],
        &CompileOptions::default(),
    )
    .expect("LpPool compiles with the default import check");
    assert_eq!(report.tract_max_abs_diff, None);
    assert!(report.mean_rel_error < 1e-2, "{}", report.mean_rel_error);
}

//! The lowered fixtures (`lower_*`, `scripts/make_fixtures.py`): their float
//! graphs agree with tract on perturbed inputs too, hold the ops each lowering
//! should produce, and the refused patterns name op, node and reason.

mod common;
use common::*;
use zkinfer_model::compile::tract_reference;
use zkinfer_model::float::{FOpKind, FloatModel};
use zkinfer_model::input::load_samples;
use zkinfer_model::onnx_import::import_onnx;
use zkinfer_model::{ModelError, UnaryFn};

/// Deterministic perturbations: each input value scaled by 1 ± 20 % and shifted by ± 0.1.
fn perturbed(x: &[f64], n: usize) -> Vec<Vec<f64>> {
    let mut state = 0x2545f4914f6cdd1du64;
    (0..n)
        .map(|_| {
            x.iter()
                .map(|v| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                    v * (1.0 + 0.4 * u) + 0.2 * u
                })
                .collect()
        })
        .collect()
}

/// The float graph of a fixture, after checking it against tract on the
/// fixture's input and four perturbations of it (whole statements).
fn float_graph(name: &str) -> FloatModel {
    let onnx = read(&format!("{name}.onnx"));
    let x = load_samples(fixture(&format!("{name}.input.json"))).unwrap();
    let fm = import_onnx(&onnx).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut shape = fm.tensors[fm.input].shape.clone();
    shape[0] = fm.batch;
    let mut inputs = x.clone();
    inputs.extend(perturbed(&x[0], 4));
    for s in &inputs {
        let ours: Vec<f64> = s
            .chunks(fm.input_len())
            .flat_map(|sample| fm.evaluate(sample).unwrap())
            .collect();
        let tract = tract_reference(&onnx, &shape, s).unwrap();
        assert_eq!(ours.len(), tract.len(), "{name}");
        for (a, b) in ours.iter().zip(&tract) {
            assert!(
                (a - b).abs() < 1e-4 * (1.0 + b.abs()),
                "{name}: float graph {a} vs tract {b}"
            );
        }
    }
    fm
}

fn kinds(fm: &FloatModel) -> Vec<&'static str> {
    fm.ops
        .iter()
        .map(|o| match o.kind {
            FOpKind::Dense { .. } => "Dense",
            FOpKind::Conv { .. } => "Conv",
            FOpKind::Affine { .. } => "Affine",
            FOpKind::Add => "Add",
            FOpKind::Sub => "Sub",
            FOpKind::Mul => "Mul",
            FOpKind::Relu => "Relu",
            FOpKind::Clip { .. } => "Clip",
            FOpKind::Unary(_) => "Unary",
            FOpKind::MaxPool { .. } => "MaxPool",
            FOpKind::AvgPool { .. } => "AvgPool",
            FOpKind::Reshape => "Reshape",
            _ => "other",
        })
        .collect()
}

fn convs(fm: &FloatModel) -> Vec<[usize; 4]> {
    fm.ops
        .iter()
        .filter_map(|o| match o.kind {
            FOpKind::Conv { kernel_shape, .. } => Some(kernel_shape),
            _ => None,
        })
        .collect()
}

#[test]
fn lowered_graphs_match_tract_and_hold_the_expected_ops() {
    // depthwise (group 4, multiplier 2): an [8, 4, 3, 3] dense kernel
    assert_eq!(
        convs(&float_graph("lower_depthwise_conv")),
        [[4, 2, 3, 3], [8, 4, 3, 3]]
    );
    assert_eq!(
        convs(&float_graph("lower_grouped_conv")),
        [[6, 4, 3, 3], [2, 6, 1, 1]]
    );
    // dilation 2 of 3x3 → 5x5; dilations (1, 3) of 2x2 → 2x4
    assert_eq!(
        convs(&float_graph("lower_dilated_conv")),
        [[3, 2, 5, 5], [2, 3, 2, 4]]
    );
    // 1-D: the BatchNorm folds into the first Conv (no Affine), pools are 2-D windows of height 1
    let fm = float_graph("lower_conv1d");
    let k = kinds(&fm);
    assert!(!k.contains(&"Affine"), "{k:?}");
    assert_eq!(convs(&fm), [[4, 2, 1, 4], [4, 4, 1, 5]]);
    let pools: Vec<[usize; 2]> = fm
        .ops
        .iter()
        .filter_map(|o| match o.kind {
            FOpKind::MaxPool { kernel, .. } | FOpKind::AvgPool { kernel, .. } => Some(kernel),
            _ => None,
        })
        .collect();
    assert_eq!(pools, [[1, 2], [1, 3], [1, 8]]);
    assert!(kinds(&float_graph("lower_global_maxpool")).contains(&"MaxPool"));
    let k = kinds(&float_graph("lower_max_min"));
    assert_eq!(k.iter().filter(|&&o| o == "Relu").count(), 3, "{k:?}");
    assert_eq!(k.iter().filter(|&&o| o == "Clip").count(), 2, "{k:?}");
    let k = kinds(&float_graph("lower_sum_mean"));
    assert_eq!(k.iter().filter(|&&o| o == "Affine").count(), 2, "{k:?}");
    assert!(kinds(&float_graph("lower_pow2")).contains(&"Mul"));
    let pow = |name: &str| {
        float_graph(name).ops.iter().find_map(|o| match o.kind {
            FOpKind::Unary(f) => Some(f),
            _ => None,
        })
    };
    assert_eq!(pow("lower_pow3"), Some(UnaryFn::Pow { p: 3.0 }));
    assert_eq!(pow("lower_pow_frac"), Some(UnaryFn::Pow { p: 1.5 }));
    assert_eq!(pow("lower_pow_sqrt"), Some(UnaryFn::Sqrt));
    assert_eq!(pow("lower_const_div"), Some(UnaryFn::Reciprocal));
    // LRN: the squares' window sum is one banded Dense over the channels,
    // then the Pow(−beta) table and a Mul.
    let k = kinds(&float_graph("lower_lrn"));
    assert!(k.contains(&"Dense") && k.contains(&"Mul"), "{k:?}");
    assert!(float_graph("lower_lrn")
        .ops
        .iter()
        .any(|o| matches!(o.kind, FOpKind::Unary(UnaryFn::Pow { p }) if p == -0.75)));
    // the folded uniform constant is a bias of the Conv: nothing is left of it
    assert_eq!(
        kinds(&float_graph("lower_constant_of_shape")),
        ["Conv", "Relu", "Reshape", "Dense"]
    );
    float_graph("lower_folds");
    assert_eq!(float_graph("lower_batch_conv1d").batch, 2);
}

#[test]
fn refused_patterns_name_op_node_and_reason() {
    for (name, op, node, reason) in [
        (
            "lower_refuse_conv4d",
            "Conv",
            "conv4d",
            "and 3-D (NCDHW) convolutions",
        ),
        (
            "lower_refuse_maxpool_dilation",
            "MaxPool",
            "maxpool_dilated",
            "dilation != 1",
        ),
        ("lower_refuse_lppool_p3", "LpPool", "lppool_p3", "p = 3"),
    ] {
        let err = import_onnx(&read(&format!("{name}.onnx"))).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, ModelError::UnsupportedAttr { .. }),
            "{name}: {msg}"
        );
        assert!(
            msg.contains(&format!("`{op}`")) && msg.contains(node) && msg.contains(reason),
            "{name}: {msg}"
        );
    }
}

/// Exported GELU subgraphs, in either form and factor order, become one
/// `Gelu` each (matching tract); a look-alike that is not GELU stays as is.
#[test]
fn exported_gelu_subgraphs_fuse_into_one_table() {
    let fm = float_graph("gelu_subgraphs");
    let unary: Vec<UnaryFn> = fm
        .ops
        .iter()
        .filter_map(|o| match o.kind {
            FOpKind::Unary(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(
        unary,
        [
            UnaryFn::Gelu { tanh: false },
            UnaryFn::Gelu { tanh: true },
            UnaryFn::Gelu { tanh: false },
            UnaryFn::Erf
        ]
    );
    // Only the look-alike keeps its product of activations.
    let k = kinds(&fm);
    assert_eq!(k.iter().filter(|&&o| o == "Mul").count(), 1, "{k:?}");
}

//! Per-op accuracy on the committed fixtures: our float graph vs tract, and the exact
//! integer evaluator (dequantized) vs float.

mod common;
use common::*;
use zkinfer_model::compile::{accuracy_report, float_model_of, tract_reference};
use zkinfer_model::float::FOpKind;
use zkinfer_model::input::load_samples;
use zkinfer_model::onnx_import::import_onnx;
use zkinfer_model::{compile, evaluate, CompileOptions, QOp, QuantModel};

/// Deterministic perturbations of the fixture input (not used for calibration).
fn perturbed(x: &[f64], n: usize) -> Vec<Vec<f64>> {
    let mut state = 0x9e3779b97f4a7c15u64;
    (0..n)
        .map(|_| {
            x.iter()
                .map(|v| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                    v * (1.0 + 0.2 * u) + 0.1 * u
                })
                .collect()
        })
        .collect()
}

struct Case {
    name: &'static str,
    /// max |float − dequantized| allowed, relative to max |float output| (≥ 1).
    tol: f64,
    expect_ops: &'static [&'static str],
    expect_float_ops: &'static [&'static str],
}

fn qop_names(m: &QuantModel) -> Vec<String> {
    m.ops
        .iter()
        .map(|op| match op {
            QOp::Lut { func, .. } => format!("Lut:{}", func.split('(').next().unwrap()),
            other => other.name().to_string(),
        })
        .collect()
}

fn check(case: &Case) {
    let onnx = read(&format!("{}.onnx", case.name));
    let x = load_samples(fixture(&format!("{}.input.json", case.name))).unwrap();
    let fm = import_onnx(&onnx).unwrap();
    // float graph vs tract, on the fixture input and on perturbed inputs
    let shape = fm.tensors[fm.input].shape.clone();
    let mut inputs = x.clone();
    inputs.extend(perturbed(&x[0], 4));
    for s in &inputs {
        let ours = fm.evaluate(s).unwrap();
        let tract = tract_reference(&onnx, &shape, s).unwrap();
        assert_eq!(ours.len(), tract.len(), "{}", case.name);
        for (a, b) in ours.iter().zip(&tract) {
            assert!(
                (a - b).abs() < 1e-4 * (1.0 + b.abs()),
                "{}: float graph {a} vs tract {b}",
                case.name
            );
        }
    }
    let fops: Vec<&str> = fm.ops.iter().map(|o| o.op_type.as_str()).collect();
    for want in case.expect_float_ops {
        assert!(
            fops.contains(want),
            "{}: float graph lacks {want}: {fops:?}",
            case.name
        );
    }
    // compile with the single example input
    let (m, report) = compile(&onnx, case.name, &x, &CompileOptions::default()).unwrap();
    m.validate().unwrap();
    assert_eq!(report.top1_agreement, 1.0, "{}: {report:?}", case.name);
    assert!(report.tract_max_abs_diff.unwrap() < 1e-4);
    let names = qop_names(&m);
    for want in case.expect_ops {
        assert!(
            names.iter().any(|n| n == want),
            "{}: expected {want} in {names:?}",
            case.name
        );
    }
    // accuracy on calibration and on unseen perturbed inputs
    let fm2 = float_model_of(&m).unwrap();
    let rep = accuracy_report(&m, &fm2, &inputs).unwrap();
    let scale = inputs
        .iter()
        .map(|s| {
            fm2.evaluate(s)
                .unwrap()
                .iter()
                .fold(1.0f64, |a, v| a.max(v.abs()))
        })
        .fold(1.0f64, f64::max);
    assert!(
        rep.max_abs_error <= case.tol * scale,
        "{}: max abs error {} > {} (report {rep:?})",
        case.name,
        rep.max_abs_error,
        case.tol * scale
    );
    // the trace holds every tensor
    let xq = m
        .quantize_input(&x[0].iter().map(|&v| v as f32).collect::<Vec<_>>())
        .unwrap();
    let t = evaluate(&m, &xq).unwrap();
    assert_eq!(t.values.len(), m.tensors.len());
    for (i, v) in t.values.iter().enumerate() {
        assert_eq!(v.len(), m.tensors[i].len(), "{}: tensor {i}", case.name);
        assert!(v.iter().all(|e| e.abs() <= m.tensors[i].bound));
    }
}

#[test]
fn gemm_relu() {
    check(&Case {
        name: "mlp_gemm_relu",
        tol: 0.05,
        expect_ops: &["Dense", "Requant"],
        expect_float_ops: &["Gemm", "Relu"],
    });
}

#[test]
fn matmul_add() {
    let c = Case {
        name: "mlp_matmul_add",
        tol: 0.05,
        expect_ops: &["Dense", "Requant"],
        expect_float_ops: &["MatMul", "Relu"],
    };
    check(&c);
    // bias Adds are folded into the Dense layers
    let fm = import_onnx(&read("mlp_matmul_add.onnx")).unwrap();
    assert!(
        fm.ops
            .iter()
            .all(|o| !matches!(o.kind, FOpKind::Affine { .. })),
        "{:?}",
        fm.ops
    );
}

#[test]
fn sigmoid() {
    check(&Case {
        name: "sigmoid",
        tol: 0.03,
        expect_ops: &["Lut:sigmoid"],
        expect_float_ops: &["Sigmoid"],
    });
}

#[test]
fn tanh() {
    check(&Case {
        name: "tanh",
        tol: 0.05,
        expect_ops: &["Lut:tanh"],
        expect_float_ops: &["Tanh"],
    });
}

#[test]
fn softmax_final() {
    check(&Case {
        name: "softmax",
        tol: 0.03,
        expect_ops: &["Dense"],
        expect_float_ops: &["Softmax"],
    });
    let x = load_samples(fixture("softmax.input.json")).unwrap();
    let (m, _) = compile(
        &read("softmax.onnx"),
        "softmax",
        &x,
        &CompileOptions::default(),
    )
    .unwrap();
    assert!(m.output_softmax);
    let xq = m
        .quantize_input(&x[0].iter().map(|&v| v as f32).collect::<Vec<_>>())
        .unwrap();
    let out = m.dequantize_output(&evaluate(&m, &xq).unwrap().values[m.output]);
    assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn conv_bn_pool_residual() {
    check(&Case {
        name: "conv_net",
        tol: 0.08,
        expect_ops: &["Conv2d", "MaxPool", "SumPool", "Add", "Reshape", "Dense"],
        expect_float_ops: &[
            "Conv",
            "MaxPool",
            "AveragePool",
            "GlobalAveragePool",
            "Add",
            "Flatten",
            "Gemm",
        ],
    });
    // every BatchNormalization directly follows a Conv and is folded away
    let fm = import_onnx(&read("conv_net.onnx")).unwrap();
    assert!(fm.ops.iter().all(|o| o.op_type != "BatchNormalization"));
}

#[test]
fn reshape_transpose_strided_conv() {
    check(&Case {
        name: "reshape_transpose",
        tol: 0.05,
        expect_ops: &["Conv2d", "Transpose", "Reshape", "Dense"],
        expect_float_ops: &["Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten"],
    });
}

#[test]
fn clip_and_leaky_relu() {
    check(&Case {
        name: "clip_leaky",
        tol: 0.05,
        expect_ops: &["Lut:leaky_relu", "Requant"],
        expect_float_ops: &["Clip", "LeakyRelu"],
    });
}

#[test]
fn standalone_batchnorm_and_const_arithmetic() {
    check(&Case {
        name: "affine_bn",
        tol: 0.05,
        expect_ops: &["Conv2d", "SumPool", "Dense"],
        expect_float_ops: &["Sub", "AveragePool"],
    });
    // Sub → Mul → BatchNorm merge into one per-channel affine (a 1x1 conv)
    let fm = import_onnx(&read("affine_bn.onnx")).unwrap();
    assert_eq!(
        fm.ops
            .iter()
            .filter(|o| matches!(o.kind, FOpKind::Affine { .. }))
            .count(),
        1
    );
}

#[test]
fn demo_model_accuracy_on_held_out_set() {
    let x = load_samples(fixture("demo_input.json")).unwrap();
    let (m, report) = compile(
        &read("demo_mlp.onnx"),
        "demo_mlp",
        &x,
        &CompileOptions::default(),
    )
    .unwrap();
    assert_eq!(report.top1_agreement, 1.0);
    let xs = load_samples(fixture("demo_test_inputs.npy")).unwrap();
    let ys = zkinfer_model::input::load_labels(fixture("demo_test_labels.npy")).unwrap();
    assert_eq!(xs.len(), ys.len());
    let fm = float_model_of(&m).unwrap();
    let (mut qc, mut fc) = (0, 0);
    for (x, &y) in xs.iter().zip(&ys) {
        let (q, _) = zkinfer_model::run_quantized(&m, x).unwrap();
        qc += usize::from(zkinfer_model::predicted_class(&q) as i64 == y);
        fc += usize::from(zkinfer_model::predicted_class(&fm.evaluate(x).unwrap()) as i64 == y);
    }
    let (qa, fa) = (qc as f64 / xs.len() as f64, fc as f64 / xs.len() as f64);
    assert!(fa > 0.8, "float accuracy {fa}");
    assert!((qa - fa).abs() <= 0.01, "quantized {qa} vs float {fa}");
}

//! Integer semantics locked by hand-computed values.

use zkinfer_model::eval::requant_quotient;
use zkinfer_model::ir::*;
use zkinfer_model::{evaluate, ModelError, QOp, QuantModel, TensorInfo};

fn t(name: &str, shape: &[usize], bound: i64) -> TensorInfo {
    TensorInfo {
        name: name.into(),
        shape: shape.to_vec(),
        scale: 1.0,
        bound,
    }
}

fn model(tensors: Vec<TensorInfo>, ops: Vec<QOp>) -> QuantModel {
    let output = tensors.len() - 1;
    QuantModel {
        version: QUANT_MODEL_VERSION,
        name: "golden".into(),
        tensors,
        input: 0,
        output,
        ops,
        onnx: vec![],
        output_softmax: false,
        input_segments: vec![],
        tied_weights: Vec::new(),
        output_segments: vec![],
        batch: 1,
        dynamic_batch: false,
    }
}

fn run(m: &QuantModel, x: &[i64]) -> Vec<i64> {
    evaluate(m, x).unwrap().values[m.output].clone()
}

#[test]
fn requant_rounding_and_clamp() {
    // q = floor((x*3 + 2) / 4)
    assert_eq!(requant_quotient(-5, 3, 2), -4); // -3.75 -> -4
    assert_eq!(requant_quotient(-2, 3, 2), -1); // -1.5 -> -1 (half up)
    assert_eq!(requant_quotient(-1, 3, 2), -1); // -0.75 -> -1
    assert_eq!(requant_quotient(1, 3, 2), 1); // 0.75 -> 1
    assert_eq!(requant_quotient(2, 3, 2), 2); // 1.5 -> 2
    assert_eq!(requant_quotient(-3, 1, 1), -1); // -1.5 -> -1
    assert_eq!(requant_quotient(3, 1, 1), 2); // 1.5 -> 2
    assert_eq!(requant_quotient(-7, 5, 0), -35); // shift 0: plain product
    let m = model(
        vec![t("x", &[6], 100), t("y", &[6], 2)],
        vec![QOp::Requant {
            input: 0,
            output: 1,
            multiplier: 3,
            shift: 2,
            min: -2,
            max: 2,
        }],
    );
    m.validate().unwrap();
    assert_eq!(run(&m, &[-5, -2, -1, 1, 2, 100]), vec![-2, -1, -1, 1, 2, 2]);
    // ReLU: min = 0
    let relu = model(
        vec![t("x", &[3], 100), t("y", &[3], 127)],
        vec![QOp::Requant {
            input: 0,
            output: 1,
            multiplier: 1 << 15,
            shift: 16,
            min: 0,
            max: 127,
        }],
    );
    assert_eq!(run(&relu, &[-9, 9, 100]), vec![0, 5, 50]);
}

#[test]
fn requant_window_is_enforced() {
    let m = model(
        vec![t("x", &[2], 1 << 26), t("y", &[2], 127)],
        vec![QOp::Requant {
            input: 0,
            output: 1,
            multiplier: 1,
            shift: 0,
            min: -127,
            max: 127,
        }],
    );
    m.validate().unwrap();
    // q may exceed the clamp range by less than 2^24 on either side.
    let edge = (1 << 24) + 126;
    assert_eq!(run(&m, &[edge, -edge]), vec![127, -127]);
    match evaluate(&m, &[0, edge + 1]) {
        Err(ModelError::RequantWindow { op, tensor, value }) => {
            assert_eq!((op, tensor.as_str(), value), (0, "y", edge as i128 + 1));
        }
        other => panic!("expected a window error, got {other:?}"),
    }
    assert!(matches!(
        evaluate(&m, &[-edge - 1, 0]),
        Err(ModelError::RequantWindow { .. })
    ));
    // input outside its declared bound
    assert!(matches!(
        evaluate(&m, &[1 << 27, 0]),
        Err(ModelError::InputOutOfBound { .. })
    ));
}

#[test]
fn lut_lookup_and_domain() {
    let m = model(
        vec![t("x", &[3], 3), t("y", &[3], 50)],
        vec![QOp::Lut {
            input: 0,
            output: 1,
            in_min: -2,
            table: vec![10, 20, 30, 40, 50],
            func: "test".into(),
        }],
    );
    assert_eq!(run(&m, &[-2, 0, 2]), vec![10, 30, 50]);
    assert!(matches!(
        evaluate(&m, &[3, 0, 0]),
        Err(ModelError::LutDomain { value: 3, .. })
    ));
    // validate refuses a Lut whose input range is not inside the domain
    assert!(m.validate().is_err());
    let ok = model(
        vec![t("x", &[3], 100), t("d", &[3], 2), t("y", &[3], 50)],
        vec![
            QOp::Requant {
                input: 0,
                output: 1,
                multiplier: 1,
                shift: 0,
                min: -2,
                max: 2,
            },
            QOp::Lut {
                input: 1,
                output: 2,
                in_min: -2,
                table: vec![10, 20, 30, 40, 50],
                func: "test".into(),
            },
        ],
    );
    ok.validate().unwrap();
    assert_eq!(run(&ok, &[-50, 1, 50]), vec![10, 40, 50]);
}

#[test]
fn dense_add_transpose() {
    let d = model(
        vec![t("x", &[2], 10), t("y", &[2], 100)],
        vec![QOp::Dense {
            input: 0,
            output: 1,
            in_dim: 2,
            out_dim: 2,
            weight: vec![1, 2, -3, 4].into(),
            bias: vec![10, -10],
        }],
    );
    d.validate().unwrap();
    assert_eq!(run(&d, &[5, -6]), vec![3, -49]);
    let a = QuantModel {
        input: 0,
        ..model(
            vec![t("a", &[2], 10), t("b", &[2], 10), t("y", &[2], 50)],
            vec![QOp::Add {
                a: 0,
                b: 0,
                output: 2,
                a_mul: 2,
                b_mul: -3,
            }],
        )
    };
    a.validate().unwrap();
    assert_eq!(run(&a, &[1, -2]), vec![-1, 2]);
    let tr = model(
        vec![t("x", &[2, 3], 10), t("y", &[3, 2], 10)],
        vec![QOp::Transpose {
            input: 0,
            output: 1,
            perm: vec![1, 0],
        }],
    );
    tr.validate().unwrap();
    assert_eq!(run(&tr, &[0, 1, 2, 3, 4, 5]), vec![0, 3, 1, 4, 2, 5]);
}

#[test]
fn conv_with_padding() {
    // x[r][c] = 3r + c + 1 on a 3x3 image; kernel [[1, 0], [0, -1]], bias 5, pads top/left 1
    let m = model(
        vec![t("x", &[1, 3, 3], 9), t("y", &[1, 3, 3], 100)],
        vec![QOp::Conv2d {
            input: 0,
            output: 1,
            kernel_shape: [1, 1, 2, 2],
            weight: vec![1, 0, 0, -1].into(),
            bias: vec![5],
            strides: [1, 1],
            pads: [1, 1, 0, 0],
        }],
    );
    m.validate().unwrap();
    assert_eq!(
        run(&m, &[1, 2, 3, 4, 5, 6, 7, 8, 9]),
        vec![4, 3, 2, 1, 1, 1, -2, 1, 1]
    );
}

#[test]
fn pools_with_padding_and_negatives() {
    let mk = |max: bool| {
        let op = if max {
            QOp::MaxPool {
                input: 0,
                output: 1,
                kernel: [2, 2],
                strides: [1, 1],
                pads: [1, 1, 0, 0],
            }
        } else {
            QOp::SumPool {
                input: 0,
                output: 1,
                kernel: [2, 2],
                strides: [1, 1],
                pads: [1, 1, 0, 0],
            }
        };
        model(
            vec![t("x", &[1, 2, 2], 9), t("y", &[1, 2, 2], 36)],
            vec![op],
        )
    };
    let x = [-5, -3, -7, -9];
    mk(true).validate().unwrap();
    assert_eq!(run(&mk(true), &x), vec![-5, -3, -5, -3]);
    assert_eq!(run(&mk(false), &x), vec![-5, -8, -12, -24]);
}

#[test]
fn validate_checks_bounds() {
    // declared bound smaller than the worst case 1*10 + 2*10 + 0
    let m = model(
        vec![t("x", &[2], 10), t("y", &[1], 29)],
        vec![QOp::Dense {
            input: 0,
            output: 1,
            in_dim: 2,
            out_dim: 1,
            weight: vec![1, 2].into(),
            bias: vec![0],
        }],
    );
    assert!(m
        .validate()
        .unwrap_err()
        .to_string()
        .contains("exceeds its declared bound"));
    // worst case reaching 2^62
    let big = model(
        vec![t("x", &[2], 1 << 60), t("y", &[1], (1 << 62) - 1)],
        vec![QOp::Dense {
            input: 0,
            output: 1,
            in_dim: 2,
            out_dim: 1,
            weight: vec![4, 4].into(),
            bias: vec![0],
        }],
    );
    assert!(big.validate().is_err());
    // requant multiplier / shift limits
    for (mult, shift) in [(0, 1), (1 << 16, 1), (1, 49)] {
        let r = model(
            vec![t("x", &[1], 10), t("y", &[1], 1)],
            vec![QOp::Requant {
                input: 0,
                output: 1,
                multiplier: mult,
                shift,
                min: -1,
                max: 1,
            }],
        );
        assert!(r.validate().is_err(), "multiplier {mult} shift {shift}");
    }
}

#[test]
fn quantize_input_rounds_half_away_and_clamps() {
    let mut m = model(
        vec![t("x", &[6], 10), t("y", &[6], 10)],
        vec![QOp::Reshape {
            input: 0,
            output: 1,
        }],
    );
    m.tensors[0].scale = 0.5;
    assert_eq!(
        m.quantize_input(&[0.25, -0.25, 0.74, -0.76, 100.0, -100.0])
            .unwrap(),
        vec![1, -1, 1, -2, 10, -10]
    );
    assert!(matches!(
        m.quantize_input(&[0.0; 5]),
        Err(ModelError::InputLength {
            expected: 6,
            got: 5
        })
    ));
    assert!(matches!(
        m.quantize_input(&[0.0, 0.0, f32::NAN, 0.0, 0.0, 0.0]),
        Err(ModelError::NonFinite { index: 2, .. })
    ));
    assert!(m
        .quantize_input(&[0.0, 0.0, 0.0, f32::INFINITY, 0.0, 0.0])
        .is_err());
    // From f64: the same as rounding to f32 first (zeros take a shortcut).
    let xs: [f64; 6] = [0.0, -0.0, 0.2500000001, -0.76, 1e30, -1e-300];
    let as_f32: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
    assert_eq!(
        m.quantize_input_f64(&xs).unwrap(),
        m.quantize_input(&as_f32).unwrap()
    );
    assert!(matches!(
        m.quantize_input_f64(&[0.0, f64::NAN, 0.0, 0.0, 0.0, 0.0]),
        Err(ModelError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        m.quantize_input_f64(&[0.0; 7]),
        Err(ModelError::InputLength { got: 7, .. })
    ));
    m.tensors[1].scale = 0.25;
    assert_eq!(m.dequantize_output(&[4, -2]), vec![1.0, -0.5]);
}

/// Dequantization and the split by graph output, segment by segment: each
/// value at its segment's scale (integers rounded), samples in order, as the
/// per-value definition; and a layout the validator would refuse (segments
/// out of order) still dequantizes by that definition.
#[test]
fn dequantize_and_split_by_output_segment() {
    let mut m = model(
        vec![t("x", &[5], 100), t("y", &[5], 100)],
        vec![QOp::Reshape {
            input: 0,
            output: 1,
        }],
    );
    m.batch = 2;
    let seg = |name: &str, elem, scale, offset, len| OutputSegment {
        name: name.into(),
        shape: vec![1, len],
        elem,
        scale,
        offset,
        len,
    };
    m.output_segments = vec![
        seg("a", InputElem::Float32, 0.5, 0, 2),
        seg("b", InputElem::Int64, 0.3, 2, 3),
    ];
    let y = [1i64, -3, 4, 5, 6, 7, 8, -9, 10, 11];
    let want = [0.5, -1.5, 1.0, 2.0, 2.0, 3.5, 4.0, -3.0, 3.0, 3.0];
    assert_eq!(m.dequantize_output(&y), want);
    let split = m.split_outputs(&want);
    assert_eq!(split[0], ("a".to_string(), vec![0.5, -1.5, 3.5, 4.0]));
    assert_eq!(
        split[1],
        ("b".to_string(), vec![1.0, 2.0, 2.0, -3.0, 3.0, 3.0])
    );
    let slices = m.output_slices(&want);
    assert_eq!(slices[1].1, vec![&want[2..5], &want[7..10]]);
    m.output_segments.reverse();
    assert_eq!(m.dequantize_output(&y), want);
}

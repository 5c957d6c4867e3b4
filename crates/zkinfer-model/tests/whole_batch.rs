//! Fixed-shape graphs whose batch cannot be split into samples
//! (`whole_batch.rs`): the `whole_batch_*` fixtures compile as one sample of
//! their whole input, pass the tract cross-check against the *original*
//! graph, reproduce the ONNX reference evaluator's output in float, and stay
//! close to it in integers.

mod common;
use common::*;
use zkinfer_model::compile::{compile, float_model_of, run_quantized, CompileOptions};
use zkinfer_model::input::load_file;
use zkinfer_model::onnx_import::{import_onnx, parse_proto, whole_batch};

fn expected(name: &str) -> Vec<f64> {
    let text = String::from_utf8(read(&format!("{name}.expected.json"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["output_data"][0]
        .as_array()
        .expect("output_data")
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn batch_coupled_graphs_prove_as_one_sample_and_match_the_reference() {
    for name in ["whole_batch_gemm", "whole_batch_rank1"] {
        let onnx = read(&format!("{name}.onnx"));
        // Per sample, the graph is refused (inputs of different leading
        // sizes, or without a batch axis).
        assert!(import_onnx(&onnx).is_err(), "{name} imports per sample");
        let file = load_file(fixture(&format!("{name}.input.json"))).unwrap();
        let (m, report) = compile(&onnx, name, &file.entries, &CompileOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let tract = report
            .tract_max_abs_diff
            .expect("tract checked the original graph");
        assert!(tract < 1e-4, "{name}: float graph vs tract {tract:e}");
        assert_eq!((m.batch, m.dynamic_batch), (1, false), "{name}");
        // The stored graph is the rewritten one: it re-imports alike.
        let fm = float_model_of(&m).expect("re-imports");
        let x = m.statement_input(&file).unwrap();
        assert_eq!(
            x.len(),
            fm.input_len(),
            "{name}: the whole input is one sample"
        );
        let reference = expected(name);
        let f_err = max_rel(&fm.evaluate(&x).unwrap(), &reference);
        let (y, _) = run_quantized(&m, &x).unwrap();
        let q_err = max_rel(&y, &reference);
        eprintln!("{name:20} float vs reference {f_err:.1e}  integer {q_err:.2e}");
        assert!(f_err < 1e-5 && q_err < 5e-3, "{name}: {f_err:e}, {q_err:e}");
    }
}

#[test]
fn the_rewrite_moves_every_named_axis_and_refuses_channel_ops() {
    let proto = parse_proto(&read("whole_batch_gemm.onnx")).unwrap();
    let g = whole_batch::rewrite(&proto).unwrap();
    let graph = g.graph.unwrap();
    let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
    // Gemm(transB, alpha, beta·C) → Transpose, MatMul, Mul, Mul, Add
    assert_eq!(
        ops,
        ["Transpose", "MatMul", "Mul", "Mul", "Add", "Add", "Softmax"]
    );
    let softmax = graph.node.last().unwrap();
    assert_eq!(softmax.attribute[0].i, 2, "axis 1 moves to 2");
    // An op whose axis 1 means channels cannot move past a new leading axis.
    let proto = parse_proto(&read("batch_cnn.onnx")).unwrap();
    let err = whole_batch::rewrite(&proto).unwrap_err();
    assert!(err.contains("`Conv`"), "{err}");
    // A symbolic batch axis is split into samples, never rewritten.
    let proto = parse_proto(&read("conv_net.onnx")).unwrap();
    let err = whole_batch::rewrite(&proto).unwrap_err();
    assert!(err.contains("symbolic"), "{err}");
}

/// PyTorch's sequence-first MultiheadAttention: refused as samples (its
/// batch axis is axis 1), rewritten as one sample with its shape arithmetic
/// kept — a `Shape` of an activation is sliced back to the original shape,
/// and the computations on it (constant `Mod`, `Slice`, `Concat`) pass
/// through unchanged; a computed `Reshape` target gets the leading 1.
#[test]
fn shape_arithmetic_survives_the_rewrite() {
    let bytes = read("seq_mha_seq_first.onnx");
    assert!(import_onnx(&bytes).is_err(), "not splittable into samples");
    let g = whole_batch::rewrite(&parse_proto(&bytes).unwrap()).unwrap();
    let graph = g.graph.as_ref().unwrap();
    let shapes: Vec<_> = graph.node.iter().filter(|n| n.op_type == "Shape").collect();
    assert!(!shapes.is_empty());
    for s in shapes {
        // Sliced from index 1 (an opset-17 Shape takes `start`).
        assert!(
            s.attribute.iter().any(|a| a.name == "start" && a.i >= 1),
            "{s:?}"
        );
    }
    let (fm, _) = whole_batch::as_one_sample(&bytes).expect("one sample");
    assert_eq!((fm.batch, fm.dynamic_batch), (1, false));
}

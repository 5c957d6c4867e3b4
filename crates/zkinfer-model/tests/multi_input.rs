//! Models with several graph inputs: one combined input tensor, each graph
//! input a Select of its segment; input files with one entry per input.

mod common;
use common::*;
use zkinfer_model::float::{FOpKind, InputElem};
use zkinfer_model::input::{interleave, load_file, InputFile};
use zkinfer_model::onnx_import::import_onnx;
use zkinfer_model::{compile, run_quantized, CompileOptions, QuantModel};

const FIXTURES: [&str; 4] = [
    "multi_add_mul",
    "multi_broadcast",
    "multi_int_input",
    "multi_three_batch2",
];

fn compiled(name: &str) -> (QuantModel, InputFile) {
    let file = load_file(fixture(&format!("{name}.input.json"))).unwrap();
    let onnx = read(&format!("{name}.onnx"));
    let (m, report) = compile(&onnx, name, &file.entries, &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(report.top1_agreement, 1.0, "{name}: {report:?}");
    assert!(
        report.tract_max_abs_diff.unwrap() < 1e-4,
        "{name}: {report:?}"
    );
    (m, file)
}

fn json(entries: &[Vec<f64>]) -> InputFile {
    InputFile {
        entries: entries.to_vec(),
        npy: false,
    }
}

#[test]
fn graph_inputs_are_segments_of_one_input_selected_in_graph_order() {
    let fm = import_onnx(&read("multi_broadcast.onnx")).unwrap();
    let segs: Vec<(&str, &[usize], usize, usize)> = fm
        .input_segments
        .iter()
        .map(|s| (s.name.as_str(), &s.shape[..], s.offset, s.len))
        .collect();
    assert_eq!(
        segs,
        [("a", &[1, 3, 4][..], 0, 12), ("b", &[1, 4][..], 12, 4)]
    );
    assert_eq!(fm.tensors[fm.input].shape, [1, 16]);
    for seg in &fm.input_segments {
        let op = fm
            .ops
            .iter()
            .find(|o| fm.tensors[o.output].name == seg.name)
            .expect("each graph input is an op's output");
        assert_eq!(op.inputs, [fm.input]);
        let want: Vec<i64> = (seg.offset..seg.offset + seg.len)
            .map(|k| k as i64)
            .collect();
        assert_eq!(op.kind, FOpKind::Select { source: want });
    }
    // A single-input model keeps its input tensor, and records it as one segment.
    let single = import_onnx(&read("mlp_gemm_relu.onnx")).unwrap();
    assert_eq!(single.input_segments.len(), 1);
    assert_eq!(single.tensors[single.input].name, "input");
    assert!(!single
        .ops
        .iter()
        .any(|o| matches!(o.kind, FOpKind::Select { .. })));
}

#[test]
fn every_multi_input_fixture_compiles_against_tract_and_keeps_its_layout() {
    for name in FIXTURES {
        let (m, file) = compiled(name);
        let fm = import_onnx(&m.onnx).unwrap();
        assert_eq!(m.input_segments, fm.input_segments, "{name}");
        assert!(m.input_segments.len() > 1, "{name}");
        // The layout survives the .zkm file.
        let back = QuantModel::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(back.input_segments, m.input_segments, "{name}");
        // The statement's integer output follows the float model, sample by sample.
        let x = m.statement_input(&file).unwrap();
        let (q, _) = run_quantized(&m, &x).unwrap();
        let mut f = vec![];
        for s in x.chunks(m.input_len()) {
            f.extend(fm.evaluate(s).unwrap());
        }
        let scale = f.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for (a, b) in q.iter().zip(&f) {
            assert!((a - b).abs() <= 0.01 * scale, "{name}: {q:?} vs {f:?}");
        }
    }
    let (m, _) = compiled("multi_int_input");
    assert_eq!(m.input_segments[1].elem, InputElem::Int64);
    let (m, _) = compiled("multi_three_batch2");
    assert_eq!(m.input_segments[2].elem, InputElem::Bool);
    assert_eq!((m.batch, m.dynamic_batch), (2, false));
}

#[test]
fn input_files_are_interleaved_per_sample() {
    let (m, _) = compiled("multi_three_batch2");
    // a: 4 values, b: 3, mask: 4 per sample; two samples.
    let a: Vec<f64> = (0..8).map(f64::from).collect();
    let b: Vec<f64> = (10..16).map(f64::from).collect();
    let mask = vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let x = m
        .statement_input(&json(&[a.clone(), b.clone(), mask.clone()]))
        .unwrap();
    let mut want: Vec<f64> = vec![];
    for s in 0..2 {
        want.extend(&a[4 * s..4 * s + 4]);
        want.extend(&b[3 * s..3 * s + 3]);
        want.extend(&mask[4 * s..4 * s + 4]);
    }
    assert_eq!(x, want);
    // The fixed batch of 2 is required; a symbolic batch takes any whole count.
    let e = m
        .statement_input(&json(&[
            a[..4].to_vec(),
            b[..3].to_vec(),
            mask[..4].to_vec(),
        ]))
        .unwrap_err();
    assert!(e.contains("1 sample(s); the model takes 2"), "{e}");
    let (dynamic, _) = compiled("multi_add_mul");
    let three = |k: f64| (0..18).map(|v| v as f64 * k).collect::<Vec<_>>();
    let (x, n) = interleave(&[three(1.0), three(-1.0)], &dynamic.input_segments).unwrap();
    assert_eq!((x.len(), n), (36, 3));
    assert_eq!(
        &x[..12],
        &[0., 1., 2., 3., 4., 5., -0., -1., -2., -3., -4., -5.]
    );
    let through_model = dynamic.statement_input(&json(&[three(1.0), three(-1.0)]));
    assert_eq!(through_model.unwrap(), x);
}

#[test]
fn wrong_input_files_are_named_errors() {
    let (m, file) = compiled("multi_broadcast");
    let e = |f: &InputFile| m.statement_input(f).unwrap_err();
    // Missing input, extra input, swapped order (different shapes).
    let msg = e(&json(&file.entries[..1]));
    assert!(
        msg.contains("2 graph inputs") && msg.contains("`b`"),
        "{msg}"
    );
    let mut extra = file.entries.clone();
    extra.push(vec![0.0]);
    assert!(e(&json(&extra)).contains("found 3 entries"));
    let swapped: Vec<Vec<f64>> = file.entries.iter().rev().cloned().collect();
    let msg = e(&json(&swapped));
    assert!(
        msg.contains("input `a`") && msg.contains("whole number"),
        "{msg}"
    );
    // Different sample counts per input.
    let mut uneven = file.entries.clone();
    uneven[1].extend(file.entries[1].clone());
    let msg = e(&json(&uneven));
    assert!(
        msg.contains("`a` holds 1") && msg.contains("`b` holds 2"),
        "{msg}"
    );
    // A .npy file holds one array.
    let npy = InputFile {
        entries: file.entries.clone(),
        npy: true,
    };
    assert!(e(&npy).contains(".npy"));
    // Integer and boolean inputs hold values of their type.
    let (m, file) = compiled("multi_int_input");
    let mut frac = file.entries.clone();
    frac[1][2] = 1.5;
    let msg = m.statement_input(&json(&frac)).unwrap_err();
    assert!(
        msg.contains("`counts` is int64") && msg.contains("1.5"),
        "{msg}"
    );
    // Calibration takes the same format, and says so.
    let onnx = read("multi_int_input.onnx");
    let Err(err) = compile(&onnx, "m", &file.entries[..1], &CompileOptions::default()) else {
        panic!("one entry calibrated a two-input model")
    };
    assert!(err.to_string().starts_with("calibration data:"), "{err}");
}

#[test]
fn inconsistent_segments_in_a_model_file_are_rejected() {
    let (m, _) = compiled("multi_add_mul");
    let mut bad = m.clone();
    bad.input_segments[1].offset += 1;
    assert!(bad.validate().is_err());
    let mut bad = m.clone();
    bad.input_segments[1].len = 5;
    assert!(bad.validate().is_err());
    let mut bad = m;
    bad.input_segments.pop();
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("input segments hold 6 values"), "{e}");
}

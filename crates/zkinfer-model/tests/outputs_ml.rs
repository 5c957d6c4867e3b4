//! Several graph outputs, index outputs (ArgMax, ArgMin, Hardmax, TopK) and
//! `ai.onnx.ml` models: the float import and the exact integer evaluator
//! against onnxruntime's outputs (`fixtures/NAME.expected.json`, written by
//! `scripts/make_fixtures.py`).

mod common;
use common::*;
use zkinfer_model::float::InputElem;
use zkinfer_model::input::load_file;
use zkinfer_model::onnx_import::import_onnx;
use zkinfer_model::{compile, run_quantized, CompileOptions, ModelError, QuantModel};

/// Fixture, and the largest mean relative error of its float outputs after
/// quantization.
const FIXTURES: [(&str, f64); 7] = [
    ("outs_heads", 1e-2),
    ("outs_index_ops", 1e-3),
    ("ml_linear_classifier", 1e-2),
    ("ml_tree_classifier", 1e-2),
    ("ml_tree_binary", 1e-2),
    ("ml_tree_regressor", 1e-2),
    ("ml_scaler_svm", 1e-2),
];

/// onnxruntime's outputs: (name, values over all samples).
fn expected(name: &str) -> Vec<(String, Vec<f64>)> {
    let v: serde_json::Value =
        serde_json::from_slice(&read(&format!("{name}.expected.json"))).unwrap();
    v["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let data = o["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            (o["name"].as_str().unwrap().to_string(), data)
        })
        .collect()
}

fn samples(name: &str) -> Vec<Vec<f64>> {
    load_file(fixture(&format!("{name}.input.json")))
        .unwrap()
        .entries
}

/// Mean of `|a − b| / max(|b|, 1e-2·max|b|)` (the coverage command's measure).
fn mean_rel(got: &[f64], want: &[f64]) -> f64 {
    let floor = (1e-2 * want.iter().fold(0.0f64, |a, v| a.max(v.abs()))).max(1e-6);
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(floor))
        .sum::<f64>()
        / want.len().max(1) as f64
}

/// Per-sample concatenated outputs (`per` values each), split by output
/// lengths and gathered over samples, as onnxruntime lists them.
fn by_output(per_sample: &[Vec<f64>], lens: &[usize]) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); lens.len()];
    for s in per_sample {
        let mut off = 0;
        for (k, &l) in lens.iter().enumerate() {
            out[k].extend_from_slice(&s[off..off + l]);
            off += l;
        }
    }
    out
}

fn compiled(name: &str) -> QuantModel {
    let onnx = read(&format!("{name}.onnx"));
    compile(&onnx, name, &samples(name), &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .0
}

#[test]
fn float_import_matches_onnxruntime() {
    for (name, _) in FIXTURES {
        let fm = import_onnx(&read(&format!("{name}.onnx"))).unwrap();
        let want = expected(name);
        let names: Vec<&str> = fm.outputs.iter().map(|o| o.name.as_str()).collect();
        let want_names: Vec<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, want_names, "{name}");
        let lens: Vec<usize> = fm
            .outputs
            .iter()
            .map(|o| fm.tensors[o.tensor].len())
            .collect();
        let per: Vec<Vec<f64>> = samples(name)
            .iter()
            .map(|s| fm.evaluate(s).unwrap())
            .collect();
        for ((out, got), (_, want)) in fm.outputs.iter().zip(by_output(&per, &lens)).zip(&want) {
            assert_eq!(got.len(), want.len(), "{name}/{}", out.name);
            let d = got
                .iter()
                .zip(want)
                .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()));
            assert!(d < 1e-4, "{name}/{}: float differs by {d}", out.name);
        }
    }
}

#[test]
fn quantized_outputs_match_onnxruntime_and_indices_are_exact() {
    for (name, tol) in FIXTURES {
        let m = compiled(name);
        let want = expected(name);
        assert_eq!(m.output_segments.len(), want.len(), "{name}");
        let lens: Vec<usize> = m.output_segments.iter().map(|s| s.len).collect();
        let per: Vec<Vec<f64>> = samples(name)
            .iter()
            .map(|s| run_quantized(&m, s).unwrap().0)
            .collect();
        for ((seg, got), (_, want)) in m
            .output_segments
            .iter()
            .zip(by_output(&per, &lens))
            .zip(&want)
        {
            if seg.elem.is_integer() {
                // An index is an exact integer at scale 1, equal to onnxruntime's.
                assert_eq!(seg.scale, 1.0, "{name}/{}", seg.name);
                assert_eq!(&got, want, "{name}/{}", seg.name);
            } else {
                let e = mean_rel(&got, want);
                assert!(e <= tol, "{name}/{}: mean relative error {e}", seg.name);
            }
        }
    }
}

#[test]
fn output_segments_lay_the_graph_outputs_side_by_side() {
    let m = compiled("outs_heads");
    let segs: Vec<(&str, &[usize], InputElem, usize, usize)> = m
        .output_segments
        .iter()
        .map(|s| (s.name.as_str(), &s.shape[..], s.elem, s.offset, s.len))
        .collect();
    assert_eq!(
        segs,
        [
            ("logits", &[1, 4][..], InputElem::Float32, 0, 4),
            ("score", &[1, 1][..], InputElem::Float32, 4, 1),
            ("label", &[1][..], InputElem::Int64, 5, 1),
        ]
    );
    assert_eq!(m.output_len(), 6);
    // The .zkm round trip keeps them (format version 2).
    let back = QuantModel::from_bytes(&m.to_bytes()).unwrap();
    assert_eq!(back.output_segments, m.output_segments);
    assert_eq!(back.version, 2);
    // Each output dequantizes at its own scale: the label is the argmax of the logits.
    let x = &samples("outs_heads")[0];
    let (y, _) = run_quantized(&m, x).unwrap();
    let split = m.split_outputs(&y);
    let logits = &split[0].1;
    let top = (0..4).fold(0, |b, i| if logits[i] > logits[b] { i } else { b });
    assert_eq!(split[2], ("label".to_string(), vec![top as f64]));
}

#[test]
fn a_zkm_of_format_version_1_still_reads() {
    let mut m = compiled("ml_tree_regressor");
    m.version = 1;
    m.output_segments.clear();
    let back = QuantModel::from_bytes(&m.to_bytes()).unwrap();
    assert_eq!(back.version, 1);
    // Version 1 cannot state output segments.
    let mut bad = compiled("ml_tree_regressor");
    bad.version = 1;
    assert!(QuantModel::from_bytes(&bad.to_bytes()).is_err());
}

#[test]
fn constant_outputs_are_refused_by_name() {
    let e = import_onnx(&read("outs_refuse_constant.onnx")).unwrap_err();
    assert!(
        matches!(&e, ModelError::Graph(m) if m.contains("`fixed` is a constant")),
        "{e}"
    );
}

#[test]
fn top_k_above_one_picks_the_largest_with_ties_to_the_lower_index() {
    // TopK(k = 2) over 6 values, both outputs: values, then indices.
    let m = import_onnx(&read("outs_refuse_topk2.onnx")).unwrap();
    let x = [0.5, 2.0, -1.0, 2.0, 1.5, 0.0];
    assert_eq!(m.evaluate(&x).unwrap(), vec![2.0, 2.0, 1.0, 3.0]);
    let opts = CompileOptions::default();
    let (q, _) = compile(
        &read("outs_refuse_topk2.onnx"),
        "topk2",
        &[x.to_vec()],
        &opts,
    )
    .unwrap();
    let (y, _) = run_quantized(&q, &x).unwrap();
    let split = q.split_outputs(&y);
    assert_eq!(split[1], ("indices".to_string(), vec![1.0, 3.0]));
    let values = &split[0].1;
    assert!(
        (values[0] - 2.0).abs() < 1e-2 && (values[1] - 2.0).abs() < 1e-2,
        "{values:?}"
    );
}

//! Token embeddings and causal masks end to end (fixture `tiny_gpt`: a Gather
//! from a constant table by int64 ids, a folded position embedding, one
//! attention block with a `Where(triu, −inf, scores)` before its softmax):
//! compile against tract, prove, verify; a changed token id, an id out of
//! range and a changed output are rejected.

use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_model::input::InputFile;
use zkinfer_model::ir::{QOp, QuantModel};
use zkinfer_prover::{prove, setup, verify};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

fn ids_file(ids: &[f64]) -> InputFile {
    InputFile {
        entries: vec![ids.to_vec()],
        npy: false,
    }
}

fn compiled() -> (QuantModel, Vec<f64>) {
    let onnx = std::fs::read(format!("{FIXTURES}/tiny_gpt.onnx")).expect("fixture");
    let ids = zkinfer_model::input::load_samples(format!("{FIXTURES}/tiny_gpt.input.json"))
        .expect("fixture input")
        .remove(0);
    let (m, report) = compile(
        &onnx,
        "tiny_gpt",
        std::slice::from_ref(&ids),
        &CompileOptions::default(),
    )
    .expect("compiles");
    let tract = report.tract_max_abs_diff.expect("tract cross-check ran");
    assert!(tract < 1e-4, "float graph vs tract {tract:e}");
    assert!(
        report.mean_rel_error < 0.02,
        "mean relative error {:e}",
        report.mean_rel_error
    );
    (m, ids)
}

/// The statement's quantized input for these ids.
fn statement(m: &QuantModel, ids: &[f64]) -> Result<Vec<i64>, String> {
    let x = m.statement_input(&ids_file(ids))?;
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    m.quantize_input(&xf).map_err(|e| e.to_string())
}

#[test]
fn ids_become_a_public_one_hot_input_and_the_mask_a_select() {
    let (m, _) = compiled();
    let [seg] = m.input_segments.as_slice() else {
        panic!("one segment expected: {:?}", m.input_segments)
    };
    assert_eq!(seg.one_hot, Some(11), "ids gathered from an 11-row table");
    assert_eq!(seg.shape, vec![1, 6, 11]);
    // The one-hot 1 is exactly an integer: scale 1/k.
    let k = 1.0 / m.tensors[m.input].scale;
    assert_eq!(k, k.round(), "input scale {}", m.tensors[m.input].scale);
    // The masked entries are zeroed by a Select (source −1) before the sum.
    let zeroed = m
        .ops
        .iter()
        .filter_map(|op| match op {
            QOp::Select { source, .. } => Some(source.iter().filter(|&&s| s < 0).count()),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    assert_eq!(
        zeroed,
        2 * 15,
        "2 heads × 15 masked entries of a 6×6 causal mask"
    );
}

#[test]
fn tiny_gpt_proves_and_rejects_changed_ids_and_outputs() {
    let (m, ids) = compiled();
    let q = statement(&m, &ids).expect("in range");
    let pk = setup(m.clone(), None).expect("setup");
    let out = prove(&pk, &q).expect("prove");
    verify(&pk.vk, &q, &out.output, &out.proof).expect("honest proof verifies");

    // Another token at any position is another statement.
    for pos in [0, ids.len() - 1] {
        let mut other = ids.clone();
        other[pos] = (other[pos] + 1.0) % 11.0;
        let q2 = statement(&m, &other).expect("in range");
        assert!(
            verify(&pk.vk, &q2, &out.output, &out.proof).is_err(),
            "a changed id at position {pos} verifies"
        );
    }
    // A negative id is the same row counted from the end (ONNX Gather).
    let mut negative = ids.clone();
    negative[2] -= 11.0;
    assert_eq!(statement(&m, &negative).expect("in range"), q);

    for i in [0, out.output.len() - 1] {
        let mut wrong = out.output.clone();
        wrong[i] += 1;
        assert!(
            verify(&pk.vk, &q, &wrong, &out.proof).is_err(),
            "a changed output[{i}] verifies"
        );
    }
}

#[test]
fn out_of_range_and_fractional_ids_are_refused_by_name() {
    let (m, ids) = compiled();
    for bad in [11.0, -12.0, 2.5] {
        let mut x = ids.clone();
        x[3] = bad;
        let e = statement(&m, &x).expect_err("refused");
        assert!(
            e.contains("input `ids`") && e.contains("not a token id") && e.contains("[-11, 11)"),
            "{e}"
        );
    }
}

#[test]
fn ids_also_read_as_numbers_keep_their_raw_segment_and_prove() {
    let onnx = std::fs::read(format!("{FIXTURES}/ids_numeric.onnx")).expect("fixture");
    let ids = vec![4.0, 0.0, -2.0, 3.0];
    let (m, report) = compile(
        &onnx,
        "ids_numeric",
        std::slice::from_ref(&ids),
        &CompileOptions::default(),
    )
    .expect("compiles");
    assert!(report.tract_max_abs_diff.expect("tract ran") < 1e-4);
    let kinds: Vec<Option<usize>> = m.input_segments.iter().map(|s| s.one_hot).collect();
    assert_eq!(
        kinds,
        vec![None, Some(5)],
        "raw ids, then their one-hot rows"
    );
    let q = statement(&m, &ids).expect("in range");
    let pk = setup(m.clone(), None).expect("setup");
    let out = prove(&pk, &q).expect("prove");
    verify(&pk.vk, &q, &out.output, &out.proof).expect("verifies");
    // −2 and 3 pick the same row but are different numbers: another statement.
    let q2 = statement(&m, &[4.0, 0.0, 3.0, 3.0]).expect("in range");
    assert!(verify(&pk.vk, &q2, &out.output, &out.proof).is_err());
}

#[test]
fn an_infinite_fill_read_by_anything_but_a_softmax_is_refused_by_name() {
    let onnx = std::fs::read(format!("{FIXTURES}/refuse_inf_mask.onnx")).expect("fixture");
    let x = zkinfer_model::input::load_samples(format!("{FIXTURES}/refuse_inf_mask.input.json"))
        .expect("fixture input");
    let e = compile(&onnx, "refuse_inf_mask", &x, &CompileOptions::default())
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("add_masked") && e.contains("-inf") && e.contains("only a Softmax"),
        "{e}"
    );
}

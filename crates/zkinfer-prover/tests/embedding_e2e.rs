//! Token embeddings and causal masks end to end (fixture `tiny_gpt`: a Gather
//! from a constant table by int64 ids, a folded position embedding, one
//! attention block with a `Where(triu, −inf, scores)` before its softmax):
//! compile against tract, prove, verify; a changed token id, an id out of
//! range and a changed output are rejected.

use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_model::input::InputFile;
use zkinfer_model::ir::{BandMap, QOp, QuantModel};
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::EF;
use zkinfer_prover::proof::LayerProof;
use zkinfer_prover::{prove, setup, verify, VerifyingKey};

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

/// The verifying key states both attention maps (the mask's fill and the
/// masked softmax's kept scores) as row bands: a proof verifies under the
/// key and its decoded copy, and a key whose band keeps one column more is
/// another model that rejects it.
#[test]
fn the_key_states_the_causal_maps_as_row_bands() {
    let (m, ids) = compiled();
    let q = statement(&m, &ids).expect("in range");
    let pk = setup(m, None).expect("setup");
    let bands: Vec<(usize, BandMap)> = pk
        .vk
        .structure
        .ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| match op {
            QOp::SelectBands { map, .. } => Some((i, map.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(bands.len(), 2, "{bands:?}");
    for (at, map) in &bands {
        assert_eq!(map.dims, vec![2, 6, 6]);
        assert_eq!(map.bands, (1..=6).map(|hi| (0, hi)).collect::<Vec<_>>());
        // The prover keeps the list the form denotes.
        assert!(
            matches!(&pk.model.ops[*at], QOp::Select { source, .. } if *source == map.source())
        );
    }
    let out = prove(&pk, &q).expect("prove");
    verify(&pk.vk, &q, &out.output, &out.proof).expect("verifies");
    let vk = VerifyingKey::from_bytes(&pk.vk.to_bytes()).expect("decodes");
    assert_eq!(vk, pk.vk);
    verify(&vk, &q, &out.output, &out.proof).expect("the decoded key verifies");
    for (at, _) in &bands {
        let mut vk = pk.vk.clone();
        if let QOp::SelectBands { map, .. } = &mut vk.structure.ops[*at] {
            map.bands[0] = (0, 2);
        }
        assert_ne!(vk.model_id(), pk.vk.model_id());
        let vk = VerifyingKey::from_bytes(&vk.to_bytes()).expect("a valid key of another model");
        assert!(verify(&vk, &q, &out.output, &out.proof).is_err());
    }
    // A Select proof's claimed input value or a sumcheck message changed:
    // the band table's evaluation no longer matches.
    let mut selects = 0;
    for li in 0..out.proof.layers.len() {
        if !matches!(out.proof.layers[li], LayerProof::Select { .. }) {
            continue;
        }
        selects += 1;
        for part in 0..2 {
            let mut p = out.proof.clone();
            let LayerProof::Select {
                sumcheck,
                input_eval,
            } = &mut p.layers[li]
            else {
                unreachable!()
            };
            if part == 0 {
                *input_eval += EF::ONE;
            } else {
                sumcheck.round_polys[0][0] += EF::ONE;
            }
            assert!(
                verify(&pk.vk, &q, &out.output, &p).is_err(),
                "layer {li} part {part}"
            );
        }
    }
    assert!(selects >= 2, "{selects} Select proofs");
}

/// A key whose band map is malformed (a band past its row, reversed, a read
/// outside the row, a row missing, a grid of another length or rank) is
/// refused by the model check and by loading, naming the Select: never a
/// panic.
#[test]
fn malformed_band_maps_are_refused() {
    let (m, _) = compiled();
    let pk = setup(m, None).expect("setup");
    let (at, map) = pk
        .vk
        .structure
        .ops
        .iter()
        .enumerate()
        .find_map(|(i, op)| match op {
            QOp::SelectBands { map, .. } => Some((i, map.clone())),
            _ => None,
        })
        .expect("a band map");
    let bad: Vec<BandMap> = vec![
        BandMap {
            bands: [(0, 7)]
                .into_iter()
                .chain(map.bands[1..].iter().copied())
                .collect(),
            ..map.clone()
        },
        BandMap {
            bands: [(3, 2)]
                .into_iter()
                .chain(map.bands[1..].iter().copied())
                .collect(),
            ..map.clone()
        },
        BandMap {
            outside: [Some(6)]
                .into_iter()
                .chain(map.outside[1..].iter().copied())
                .collect(),
            ..map.clone()
        },
        BandMap {
            bands: map.bands[1..].to_vec(),
            ..map.clone()
        },
        BandMap {
            outside: map.outside[1..].to_vec(),
            ..map.clone()
        },
        BandMap {
            dims: vec![2, 6, 7],
            ..map.clone()
        },
        BandMap {
            dims: vec![72],
            ..map.clone()
        },
        BandMap {
            dims: vec![usize::MAX, 2, 6, 6],
            ..map.clone()
        },
    ];
    // The prover's model (weights kept) with the key's form in place of its
    // list is valid; with a malformed form it is not.
    let with = |map: &BandMap| {
        let mut m = pk.model.clone();
        m.ops[at] = pk.vk.structure.ops[at].clone();
        if let QOp::SelectBands { map: slot, .. } = &mut m.ops[at] {
            *slot = map.clone();
        }
        m
    };
    with(&map).validate().expect("the setup's form is valid");
    for b in bad {
        let err = with(&b).validate().expect_err("invalid");
        assert!(err.to_string().contains("band map"), "{b:?}: {err}");
        let mut vk = pk.vk.clone();
        vk.structure.ops[at] = with(&b).ops[at].clone();
        let err = VerifyingKey::from_bytes(&vk.to_bytes()).expect_err("refused");
        assert!(err.to_string().contains("Select"), "{b:?}: {err}");
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

/// An attention mask added as float32's minimum is a masked softmax only
/// where a Softmax reads it; a Relu reading it is refused by name.
#[test]
fn an_added_float_minimum_read_by_anything_but_a_softmax_is_refused_by_name() {
    let onnx = std::fs::read(format!("{FIXTURES}/refuse_additive_mask.onnx")).expect("fixture");
    let x =
        zkinfer_model::input::load_samples(format!("{FIXTURES}/refuse_additive_mask.input.json"))
            .expect("fixture input");
    let e = compile(
        &onnx,
        "refuse_additive_mask",
        &x,
        &CompileOptions::default(),
    )
    .expect_err("refused")
    .to_string();
    assert!(
        e.contains("add_mask") && e.contains("only a Softmax"),
        "{e}"
    );
}

/// A fixed batch of 1 whose projection works on positions as rows (a Reshape
/// dropping the batch axis around a Gemm, as PyTorch's dynamo export of
/// HF GPT-2 does): compiled as one sample of the whole input, the embedding
/// table indexed along its own axis; proves, verifies, and another id or
/// output is rejected.
#[test]
fn positions_as_rows_after_an_embedding_prove_as_one_sample() {
    let onnx = std::fs::read(format!("{FIXTURES}/ids_flat_rows.onnx")).expect("fixture");
    let ids = vec![6.0, 0.0, 2.0, 2.0];
    let (m, report) = compile(
        &onnx,
        "ids_flat_rows",
        std::slice::from_ref(&ids),
        &CompileOptions::default(),
    )
    .expect("compiles as one sample");
    assert!(report.tract_max_abs_diff.expect("tract ran") < 1e-4);
    assert!(report.mean_rel_error < 3e-3, "{}", report.mean_rel_error);
    let x = statement(&m, &ids).expect("ids fit");
    let pk = setup(m.clone(), None).expect("setup");
    let out = prove(&pk, &x).expect("proves");
    verify(&pk.vk, &x, &out.output, &out.proof).expect("verifies");
    let other = statement(&m, &[6.0, 1.0, 2.0, 2.0]).expect("ids fit");
    assert!(verify(&pk.vk, &other, &out.output, &out.proof).is_err());
    let mut wrong = out.output.clone();
    wrong[0] += 1;
    assert!(verify(&pk.vk, &x, &wrong, &out.proof).is_err());
}

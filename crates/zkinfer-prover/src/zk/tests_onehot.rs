//! A private token input (`one_hot/`): completeness and the full suite on
//! a small token model, the malicious prover's inputs that are not one-hot
//! rows (committed consistently with the rest of the witness, proven by the
//! otherwise honest prover) rejected by the one-hot check, its public
//! factors load-bearing, and the layouts it does not cover refused by name.

use zkinfer_model::float::{InputElem, InputSegment};
use zkinfer_model::ir::{QOp, QuantModel};
use zkinfer_protocol::VerifyError;

use super::ctx::forge::{self, Forged, Site};
use super::one_hot::Form;
use super::plan::ZkPlan;
use super::prover::{self, FORGED_INPUT_ENTRY};
use super::tests::{model_key, rng, zk_suite};
use super::{prove_zk, verify_zk, InputStatement, Visibility};
use crate::keys::ProvingKey;
use crate::synthetic;

/// Token positions (padded to 4 rows) and vocabulary (padded to 16
/// columns): the input has padded rows and padded columns.
const T: usize = 3;
const V: usize = 10;
/// The padded row width.
const W: usize = 16;

/// An embedding-like token model: one-hot rows `[T, V]` (the input scale
/// `1/127`, so a one is 127), a row-wise Dense over them (the embedding),
/// a requant, a second row-wise Dense and its requant: logits `[T, 16]`.
fn token_model() -> QuantModel {
    let mut m = synthetic::mlp(&[V, 32, 16], 5);
    let input = m.input;
    m.tensors[input].shape = vec![T, V];
    for op in &m.ops {
        let out = match op {
            QOp::Dense { output, .. } | QOp::Requant { output, .. } => *output,
            _ => unreachable!("an MLP of Dense and Requant"),
        };
        let width = m.tensors[out].len();
        m.tensors[out].shape = vec![T, width];
    }
    m.input_segments = vec![segment(0, T * V)];
    m.name = "tokens".into();
    m
}

fn segment(offset: usize, len: usize) -> InputSegment {
    InputSegment {
        name: "ids".into(),
        shape: vec![1, T, V],
        elem: InputElem::Int64,
        offset,
        len,
        one_hot: Some(V),
    }
}

/// The quantized one-hot rows of `ids`.
fn rows(ids: &[usize]) -> Vec<i64> {
    let mut x = vec![0; ids.len() * V];
    for (t, &id) in ids.iter().enumerate() {
        x[t * V + id] = 127;
    }
    x
}

fn token_key() -> (ProvingKey, Vec<i64>) {
    let (pk, _) = model_key(token_model(), 1);
    (pk, rows(&[3, 0, 9]))
}

#[test]
fn a_private_token_input_proves_and_verifies() {
    let (pk, x) = token_key();
    let plan = ZkPlan::new(&pk.model, &pk.layout, Visibility::PRIVATE_INPUT).expect("plans");
    let c = plan.one_hot.as_ref().expect("a one-hot check");
    assert_eq!(c.one, 127);
    assert!(
        matches!(
            c.form,
            Form::Rows {
                vocab: V,
                row_vars: 2,
                col_vars: 4,
                ..
            }
        ),
        "{:?}",
        c.form
    );
    // Entries in {0, k} with k within the bound imply the range check.
    assert!(plan.input_range.is_none());
    let public = ZkPlan::new(&pk.model, &pk.layout, Visibility::PUBLIC).expect("plans");
    assert!(public.one_hot.is_none() && public.input_range.is_none());
    let out = prove_zk(&pk, &x, Visibility::PRIVATE_INPUT, &mut rng(1)).expect("proves");
    assert_eq!(out.output, crate::prove(&pk, &x).unwrap().output);
    let v = verify_zk(&pk.vk, None, &out.output, &out.proof).expect("verifies");
    assert!(v.security_bits >= crate::TARGET_BITS, "{}", v.security_bits);
    // Another token sequence gives another output, which this proof is not of.
    let other = crate::prove(&pk, &rows(&[3, 1, 9])).unwrap().output;
    assert_ne!(other, out.output);
    assert!(verify_zk(&pk.vk, None, &other, &out.proof).is_err());
}

/// A committed token input: the one-hot check reads it through its own
/// commitment; the proof verifies against its digest, not another token
/// sequence's.
#[test]
fn a_committed_token_input_verifies_against_its_digest() {
    let (pk, x) = token_key();
    let seed = [9u8; 32];
    let out = super::prove_zk_seeded(
        &pk,
        &x,
        Visibility::COMMITTED_INPUT,
        super::CommitSeeds {
            input: Some(seed),
            output: None,
        },
        &mut rng(2),
    )
    .expect("proves");
    let digest = out.input_digest.expect("a digest");
    assert_eq!(
        super::committed_input_digest(&pk.model, &x, &seed).unwrap(),
        digest
    );
    let with = |d: &[u8; 32]| {
        super::verify_zk_with(
            &pk.vk,
            InputStatement::Committed(d),
            &out.output,
            &out.proof,
        )
    };
    with(&digest).expect("verifies");
    let other = super::committed_input_digest(&pk.model, &rows(&[3, 1, 9]), &seed).unwrap();
    assert!(matches!(with(&other), Err(VerifyError::Statement(_))));
}

/// Completeness in both modes, every sent value changed, no unmasked
/// evaluation (the one-hot check's read of the input included) in the
/// proof, and the malicious prover's sweep over the Dense layers.
#[test]
fn a_private_token_input_passes_the_zk_suite() {
    let (pk, x) = token_key();
    zk_suite(&pk, &x, "Dense");
}

/// The malicious prover: the private input `x` (logical values) with
/// `entry` (a padded position and its value) written into its committed
/// arrangement, the model run honestly on it and every column committed
/// from that trace; the honest prover proves it. The verifier must refuse,
/// at the one-hot check (the last step: every op's check passed).
fn refused_at_the_one_hot_check(pk: &ProvingKey, x: &[i64], entry: Option<(usize, i64)>) {
    let model = &pk.model;
    let honest = vec![0; x.len()];
    let mut values = crate::prover::run_model(pk, &honest).unwrap();
    values[model.input] = x.to_vec();
    zkinfer_model::eval::evaluate_from(model, &mut values, 0).unwrap();
    let act = crate::prover::activation_witness(pk, &values, &[]).unwrap();
    let y = values[model.output].clone();
    FORGED_INPUT_ENTRY.with(|c| c.set(entry));
    let built = prover::prove_zk_witness(
        pk,
        x,
        values,
        act,
        Visibility::PRIVATE_INPUT,
        true,
        &mut rng(70),
    );
    FORGED_INPUT_ENTRY.with(|c| c.set(None));
    let out = built.expect("the forged proof is built");
    match verify_zk(&pk.vk, None, &y, &out.proof) {
        Err(VerifyError::Sumcheck(e)) if e.contains("one-hot") => {}
        other => panic!("{x:?} {entry:?}: not refused by the one-hot check: {other:?}"),
    }
}

#[test]
fn a_row_with_two_ones_is_rejected() {
    let (pk, _) = token_key();
    let mut x = rows(&[3, 0, 9]);
    x[V + 5] = 127;
    refused_at_the_one_hot_check(&pk, &x, None);
}

#[test]
fn a_row_of_zeros_is_rejected() {
    let (pk, _) = token_key();
    let mut x = rows(&[3, 0, 9]);
    x[2 * V + 9] = 0;
    refused_at_the_one_hot_check(&pk, &x, None);
}

/// `[2, −1, 0, …]` and `[½, ½, 0, …]` (64 + 63): sum to one, not Boolean.
#[test]
fn a_row_summing_to_one_that_is_not_boolean_is_rejected() {
    let (pk, _) = token_key();
    for (a, b) in [(2 * 127, -127), (64, 63)] {
        let mut x = rows(&[3, 0, 9]);
        x[V] = a;
        x[V + 1] = b;
        refused_at_the_one_hot_check(&pk, &x, None);
    }
}

/// An id `≥ V`: row 1's one in padded column 12 (its real columns zero),
/// and, alone to the padding identity, a one there beside a real token.
#[test]
fn a_one_in_a_padded_column_is_rejected() {
    let (pk, _) = token_key();
    let mut x = rows(&[3, 0, 9]);
    x[V] = 0;
    refused_at_the_one_hot_check(&pk, &x, Some((W + 12, 127)));
    refused_at_the_one_hot_check(&pk, &rows(&[3, 0, 9]), Some((W + 12, 127)));
}

/// Padding row 3 (beyond `T`) holding a token, and a one in its padded
/// column 15 (Boolean and in no row sum: the padding identity alone).
#[test]
fn a_nonzero_padding_row_is_rejected() {
    let (pk, _) = token_key();
    let x = rows(&[3, 0, 9]);
    refused_at_the_one_hot_check(&pk, &x, Some((3 * W + 2, 127)));
    refused_at_the_one_hot_check(&pk, &x, Some((3 * W + 15, 127)));
}

/// The public factors are load-bearing, in both forms: the prover that
/// runs the sumcheck honestly on a shifted first factor with the same sum
/// is refused by the verifier's own evaluation of it.
#[test]
fn the_one_hot_checks_public_factor_is_checked() {
    let (tokens, _) = token_key();
    let (mixed, _) = model_key(mixed_model(), 2);
    for (pk, x) in [(tokens, rows(&[3, 0, 9])), (mixed, mixed_input(&[3, 0, 9]))] {
        let step = pk.model.ops.len() + 2;
        let (out, log) = forge::armed(step, Site::Outer, || {
            prove_zk(&pk, &x, Visibility::PRIVATE_INPUT, &mut rng(71))
        });
        let out = out.expect("the forged proof is built");
        assert!(
            matches!(log[..], [Forged::Shifted { factor: 0, .. }]),
            "{log:?}"
        );
        match verify_zk(&pk.vk, None, &out.output, &out.proof) {
            Err(VerifyError::Sumcheck(e)) => {
                assert!(e.contains("one-hot") && e.contains("public factor"), "{e}")
            }
            other => panic!("not refused by the public factor's check: {other:?}"),
        }
    }
}

/// The honest prover refuses an input that is not one token per row, by
/// name, rather than build a proof that fails.
#[test]
fn the_prover_refuses_an_input_that_is_not_one_hot() {
    let (pk, _) = token_key();
    let mut x = rows(&[3, 0, 9]);
    x[0] = 1;
    let err = prove_zk(&pk, &x, Visibility::PRIVATE_INPUT, &mut rng(72))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("one-hot row"), "{err}");
}

/// Layouts the check does not cover are refused by name, never proven
/// without it: a one-hot segment that is not whole rows, and an input
/// scale that does not make a one an integer.
#[test]
fn uncovered_one_hot_layouts_are_refused_by_name() {
    let mut partial = token_model();
    partial.input_segments = vec![segment(0, T * V - 5)];
    let mut scaled = token_model();
    let input = scaled.input;
    scaled.tensors[input].scale = 0.3;
    for (model, what) in [(partial, "whole rows"), (scaled, "scale")] {
        let layout = crate::layout::Layout::new_zk(&model).unwrap();
        let err = ZkPlan::new(&model, &layout, Visibility::PRIVATE_INPUT).expect_err("refused");
        assert!(err.to_string().contains(what), "{err}");
        ZkPlan::new(&model, &layout, Visibility::PUBLIC).expect("a public input plans");
    }
}

/// Numeric values beside the token rows, as the importer lays several
/// graph inputs out: one flat row `[8 values | T·V one-hot]` (38 entries
/// padded to 64) read by a one-row Dense.
const NUMERIC: usize = 8;

fn mixed_model() -> QuantModel {
    let n = NUMERIC + T * V;
    let mut m = synthetic::mlp(&[n, 32, 16], 6);
    let input = m.input;
    m.tensors[input].shape = vec![1, n];
    m.input_segments = vec![
        InputSegment {
            name: "x".into(),
            shape: vec![1, NUMERIC],
            elem: InputElem::Float32,
            offset: 0,
            len: NUMERIC,
            one_hot: None,
        },
        segment(NUMERIC, T * V),
    ];
    m.name = "values-and-tokens".into();
    m
}

/// The mixed input: seeded values, then the rows of `ids`.
fn mixed_input(ids: &[usize]) -> Vec<i64> {
    let mut x = synthetic::input(NUMERIC, 3);
    x.extend(rows(ids));
    x
}

/// The rows are checked from their cells' table; the values beside them
/// keep the range check (which now also runs over the rows: 0 and `k` are
/// within the bound).
#[test]
fn token_rows_beside_other_inputs_pass_the_zk_suite() {
    let (pk, _) = model_key(mixed_model(), 2);
    let x = mixed_input(&[3, 0, 9]);
    let plan = ZkPlan::new(&pk.model, &pk.layout, Visibility::PRIVATE_INPUT).expect("plans");
    let c = plan.one_hot.as_ref().expect("a one-hot check");
    assert!(
        matches!(c.form, Form::Cells { rows: T, .. }),
        "{:?}",
        c.form
    );
    assert!(plan.input_range.is_some(), "the values are range-checked");
    zk_suite(&pk, &x, "Dense");
}

/// The mixed input's malicious rows: two ones, none, `[½, ½]`, a one in
/// the padding after the rows; all within the input bound, so the range
/// check passes and the one-hot check refuses.
#[test]
fn forged_token_rows_beside_other_inputs_are_rejected() {
    let (pk, _) = model_key(mixed_model(), 2);
    let at = |t: usize, v: usize| NUMERIC + t * V + v;
    let honest = mixed_input(&[3, 0, 9]);
    let mut two = honest.clone();
    two[at(1, 4)] = 127;
    let mut none = honest.clone();
    none[at(2, 9)] = 0;
    let mut halves = honest.clone();
    halves[at(1, 0)] = 64;
    halves[at(1, 1)] = 63;
    for x in [two, none, halves] {
        refused_at_the_one_hot_check(&pk, &x, None);
    }
    refused_at_the_one_hot_check(&pk, &honest, Some((NUMERIC + T * V + 3, 127)));
}

/// A compiled fixture and the quantized statement input of `ids`.
fn fixture(name: &str, ids: Vec<f64>) -> (ProvingKey, Vec<i64>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
    let onnx = std::fs::read(format!("{dir}/{name}.onnx")).expect("fixture");
    let opts = zkinfer_model::CompileOptions::default();
    let (m, _) =
        zkinfer_model::compile(&onnx, name, std::slice::from_ref(&ids), &opts).expect("compiles");
    let file = zkinfer_model::input::InputFile {
        entries: vec![ids],
        npy: false,
    };
    let x: Vec<f32> = m
        .statement_input(&file)
        .expect("ids in range")
        .iter()
        .map(|&v| v as f32)
        .collect();
    let q = m.quantize_input(&x).expect("quantizes");
    let pk = crate::setup(m, None)
        .expect("setup")
        .into_zk_layout()
        .expect("a zero-knowledge layout");
    (pk, q)
}

/// A token model compiled from ONNX proves with a private prompt: ids read
/// both as numbers and as table rows (`ids_numeric`: the importer lays the
/// raw ids and their rows side by side, the cells form, the raw ids
/// range-checked). (`tiny_gpt` has committed columns of 8 entries, too few
/// to hide their reads in any zero-knowledge proof.)
#[test]
fn a_compiled_token_model_proves_with_a_private_prompt() {
    let (pk, x) = fixture("ids_numeric", vec![4.0, 0.0, -2.0, 3.0]);
    let plan = ZkPlan::new(&pk.model, &pk.layout, Visibility::PRIVATE_INPUT).expect("plans");
    let c = plan.one_hot.as_ref().expect("a one-hot check");
    assert!(
        matches!(c.form, Form::Cells { rows: 4, .. }),
        "{:?}",
        c.form
    );
    assert!(plan.input_range.is_some());
    let out = prove_zk(&pk, &x, Visibility::PRIVATE_INPUT, &mut rng(80)).expect("proves");
    assert_eq!(out.output, crate::prove(&pk, &x).unwrap().output);
    verify_zk(&pk.vk, None, &out.output, &out.proof).expect("verifies");
    let mut y = out.output.clone();
    y[0] += 1;
    assert!(verify_zk(&pk.vk, None, &y, &out.proof).is_err());
}

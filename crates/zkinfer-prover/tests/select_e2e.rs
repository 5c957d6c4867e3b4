//! `Select` (data movement by a public index map, proven by one linear
//! sumcheck): completeness for one sample and a stacked batch, the tamper
//! matrix of its message, and a separable map stated per axis in the key.

use zkinfer_model::ir::{AxisMap, AxisRead, QOp};
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::{VerifyError, EF};
use zkinfer_prover::proof::{LayerProof, Proof};
use zkinfer_prover::synthetic::{input, select_mlp, select_mlp_with};
use zkinfer_prover::{prove, setup, verify, ProvingKey, VerifyingKey};

fn proven(batch: usize, seed: u64) -> (ProvingKey, Vec<i64>) {
    let mut model = select_mlp(seed);
    model.batch = batch;
    let n = batch * model.tensors[model.input].len();
    (setup(model, None).expect("setup"), input(n, seed))
}

#[test]
fn selections_prove_and_verify_for_one_sample_and_a_batch() {
    for (batch, seed) in [(1, 1), (3, 2), (4, 3)] {
        let (pk, x) = proven(batch, seed);
        let out = prove(&pk, &x).expect("prove");
        assert_eq!(out.output.len(), 3 * batch);
        let verified = verify(&pk.vk, &x, &out.output, &out.proof).expect("verifies");
        assert_eq!(verified.output_int, out.output);
        let back = Proof::from_bytes(&out.proof.to_bytes()).expect("decode");
        verify(&pk.vk, &x, &out.output, &back).expect("decoded proof verifies");
    }
}

#[test]
fn a_tampered_select_message_or_output_is_rejected() {
    for batch in [1, 3] {
        let (pk, x) = proven(batch, 4);
        let out = prove(&pk, &x).expect("prove");
        let at = out
            .proof
            .layers
            .iter()
            .position(|l| matches!(l, LayerProof::Select { .. }))
            .expect("a Select message");
        let mut p = out.proof.clone();
        if let LayerProof::Select { input_eval, .. } = &mut p.layers[at] {
            *input_eval += EF::ONE;
        }
        assert!(verify(&pk.vk, &x, &out.output, &p).is_err());
        let mut p = out.proof.clone();
        if let LayerProof::Select { sumcheck, .. } = &mut p.layers[at] {
            sumcheck.round_polys[0][0] += EF::ONE;
        }
        assert!(verify(&pk.vk, &x, &out.output, &p).is_err());
        let mut y = out.output.clone();
        y[batch * 3 - 1] += 1;
        assert!(matches!(
            verify(&pk.vk, &x, &y, &out.proof),
            Err(VerifyError::Sumcheck(_) | VerifyError::Lookup(_) | VerifyError::Opening(_))
        ));
    }
}

/// A reversed strided slice padded with zeros: separable, so the verifying
/// key states it per axis.
const STRIDED: [i64; 6] = [-1, 5, 3, 1, -1, -1];

fn strided_key(batch: usize) -> ProvingKey {
    let mut model = select_mlp_with(9, STRIDED.to_vec());
    model.batch = batch;
    setup(model, None).expect("setup")
}

/// The key's form of the Select and the op index it sits at.
fn axis_map(vk: &VerifyingKey) -> (usize, AxisMap) {
    vk.structure
        .ops
        .iter()
        .enumerate()
        .find_map(|(i, op)| match op {
            QOp::SelectAxes { map, .. } => Some((i, map.clone())),
            _ => None,
        })
        .expect("the separable Select is stated per axis")
}

#[test]
fn a_separable_select_is_stated_per_axis_and_verifies() {
    for batch in [1, 3] {
        let pk = strided_key(batch);
        // The prover keeps the explicit list; the key's form denotes it.
        let (at, map) = axis_map(&pk.vk);
        assert!(matches!(&pk.model.ops[at], QOp::Select { source, .. } if source == &STRIDED));
        assert_eq!(map.source(), STRIDED);
        let x = input(batch * 7, 5);
        let out = prove(&pk, &x).expect("prove");
        verify(&pk.vk, &x, &out.output, &out.proof).expect("verifies");
        let vk = VerifyingKey::from_bytes(&pk.vk.to_bytes()).expect("the key decodes");
        assert_eq!(vk, pk.vk);
        verify(&vk, &x, &out.output, &out.proof).expect("the decoded key verifies");
    }
}

#[test]
fn a_tampered_axis_map_changes_the_model_id_and_is_rejected() {
    let pk = strided_key(1);
    let x = input(7, 6);
    let out = prove(&pk, &x).expect("prove");
    let (at, map) = axis_map(&pk.vk);
    let AxisRead::Affine { axis, start, step } = map.reads[0] else {
        panic!("a strided read: {map:?}")
    };
    // One place further: another map (a different list), another key.
    let mut shifted = map.clone();
    shifted.reads[0] = AxisRead::Affine {
        axis,
        start: start + step,
        step,
    };
    assert_ne!(shifted.source(), map.source());
    let mut vk = pk.vk.clone();
    if let QOp::SelectAxes { map, .. } = &mut vk.structure.ops[at] {
        *map = shifted;
    }
    assert_ne!(vk.model_id(), pk.vk.model_id());
    let vk = VerifyingKey::from_bytes(&vk.to_bytes()).expect("a valid key of another model");
    assert!(verify(&vk, &x, &out.output, &out.proof).is_err());
    // A form that does not fit its tensors: the key does not load.
    let mut vk = pk.vk.clone();
    if let QOp::SelectAxes { map, .. } = &mut vk.structure.ops[at] {
        map.out_dims = vec![5];
    }
    let err = VerifyingKey::from_bytes(&vk.to_bytes()).expect_err("refused");
    assert!(err.to_string().contains("Select"), "{err}");
}

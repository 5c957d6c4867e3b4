//! The public statement: what `verify` returns, the bounds it checks before
//! the proof, `setup`'s model validation, and models that commit nothing
//! (no weight layer, or no activation committed per proof).

use zkinfer_model::ir::{QOp, QuantModel, TensorInfo, QUANT_MODEL_VERSION};
use zkinfer_protocol::VerifyError;
use zkinfer_prover::synthetic::{input, mlp};
use zkinfer_prover::{dequantize_output, prove, setup, verify, ProveError};

fn tensor(name: &str, shape: Vec<usize>, scale: f64, bound: i64) -> TensorInfo {
    TensorInfo {
        name: name.into(),
        shape,
        scale,
        bound,
    }
}

fn model(tensors: Vec<TensorInfo>, output: usize, ops: Vec<QOp>) -> QuantModel {
    QuantModel {
        version: QUANT_MODEL_VERSION,
        name: "hand-made".into(),
        tensors,
        input: 0,
        output,
        ops,
        onnx: Vec::new(),
        output_softmax: false,
        input_segments: vec![],
        tied_weights: Vec::new(),
        output_segments: vec![],
        batch: 1,
        dynamic_batch: false,
    }
}

#[test]
fn verify_returns_the_dequantized_output() {
    let pk = setup(mlp(&[9, 5, 4], 3), None).expect("setup");
    let x = input(9, 3);
    let out = prove(&pk, &x).expect("prove");
    let v = verify(&pk.vk, &x, &out.output, &out.proof).expect("verifies");
    assert_eq!(v.output_int, out.output);
    assert_eq!(v.model_id, pk.vk.model_id());
    assert_eq!(v.output, dequantize_output(&pk.vk, &out.output));
    let scale = pk.vk.structure.tensors[pk.vk.structure.output].scale;
    let direct: Vec<f64> = out.output.iter().map(|&q| q as f64 * scale).collect();
    assert_eq!(v.output, direct);

    // The output scale is part of the model id: a key with another scale is
    // another model, and the proof is refused.
    let mut other = pk.vk.clone();
    other.structure.tensors[other.structure.output].scale *= 2.0;
    assert_ne!(other.model_id(), pk.vk.model_id());
    let err = verify(&other, &x, &out.output, &out.proof).expect_err("other scale");
    assert!(
        matches!(&err, VerifyError::Malformed(m) if m.contains("the proof is for model")),
        "{err}"
    );
    // So is the float softmax after the output.
    let mut other = pk.vk.clone();
    other.structure.output_softmax = true;
    assert_ne!(other.model_id(), pk.vk.model_id());
}

/// A statement's own computed soundness is checked, not only the one-sample
/// figure `setup` checked: a batch so large that its lookups' identities
/// fall below 100 bits is refused by name before any value is read, and an
/// ordinary statement reports its figure.
#[test]
fn verify_refuses_a_statement_below_the_target_security() {
    let mut m = mlp(&[3, 8192, 2], 5);
    m.dynamic_batch = true;
    let pk = setup(m, None).expect("setup");
    let x = input(3, 5);
    let out = prove(&pk, &x).expect("prove");
    let v = verify(&pk.vk, &x, &out.output, &out.proof).expect("verifies");
    assert!(v.security_bits >= 100.0, "{}", v.security_bits);
    // The same model id for any sample count; 2^16 samples of 2^13 hidden
    // values: ≥ 2^29 looked-up rows per lookup table.
    let huge = pk.vk.for_batch(1 << 16).expect("a symbolic batch");
    let err = verify(&huge, &x, &out.output, &out.proof).expect_err("below target");
    assert!(
        matches!(&err, VerifyError::Statement(m) if m.contains("bits of soundness, below the 100")),
        "{err}"
    );
}

#[test]
fn verify_rejects_values_outside_their_bounds() {
    let pk = setup(mlp(&[9, 5, 4], 4), None).expect("setup");
    let x = input(9, 4);
    let out = prove(&pk, &x).expect("prove");
    let m = &pk.vk.structure;
    let (in_bound, out_bound) = (m.tensors[m.input].bound, m.tensors[m.output].bound);

    let mut bad = x.clone();
    bad[2] = in_bound + 1;
    let err = verify(&pk.vk, &bad, &out.output, &out.proof).expect_err("input bound");
    assert_eq!(
        err,
        VerifyError::Statement(format!(
            "input value #2 is {}, outside the input bound [-{in_bound}, {in_bound}] the proof assumes",
            in_bound + 1
        ))
    );
    bad[2] = -in_bound - 1;
    assert!(matches!(
        verify(&pk.vk, &bad, &out.output, &out.proof),
        Err(VerifyError::Statement(m)) if m.starts_with("input value #2")
    ));
    // A value far outside (which would alias another one in the field).
    bad[2] = i64::MIN;
    assert!(matches!(
        verify(&pk.vk, &bad, &out.output, &out.proof),
        Err(VerifyError::Statement(m)) if m.starts_with("input value #2")
    ));

    let mut y = out.output.clone();
    y[1] = out_bound + 1;
    assert!(matches!(
        verify(&pk.vk, &x, &y, &out.proof),
        Err(VerifyError::Statement(m)) if m.starts_with("output value #1")
    ));
    assert!(matches!(
        verify(&pk.vk, &x, &out.output[1..], &out.proof),
        Err(VerifyError::Statement(m)) if m == "the output has 3 values, the model produces 4"
    ));
    assert!(matches!(
        verify(&pk.vk, &x[1..], &out.output, &out.proof),
        Err(VerifyError::Statement(m)) if m == "the input has 8 values, the model expects 9"
    ));
    // The boundary itself is fine as far as the statement goes (the proof
    // then decides).
    let mut edge = x.clone();
    edge[0] = in_bound;
    assert!(!matches!(
        verify(&pk.vk, &edge, &out.output, &out.proof),
        Err(VerifyError::Statement(_))
    ));
}

#[test]
fn setup_validates_the_model() {
    // A requantization whose |x·m| + 2^s may reach 2^62: its input bound
    // raised (still above the Dense's worst case) and a large multiplier.
    let mut m = mlp(&[6, 4, 3], 5);
    let (acc, mult) = m
        .ops
        .iter_mut()
        .find_map(|op| match op {
            QOp::Requant {
                input, multiplier, ..
            } => Some((*input, multiplier)),
            _ => None,
        })
        .unwrap();
    *mult = (1 << 16) - 1;
    m.tensors[acc].bound = 1 << 50;
    let Err(err) = setup(m, None) else {
        panic!("setup accepted a model that may wrap");
    };
    assert!(
        matches!(&err, ProveError::Model(msg) if msg.contains("|x·multiplier| + 2^shift may reach 2^62")),
        "{err}"
    );
    // A static bound below the worst case.
    let mut m = mlp(&[6, 4, 3], 5);
    let first_out = m.ops[0].io().1;
    m.tensors[first_out].bound = 1;
    let Err(err) = setup(m, None) else {
        panic!("setup accepted an unsound bound");
    };
    assert!(
        matches!(&err, ProveError::Model(msg) if msg.contains("exceeds its declared bound 1")),
        "{err}"
    );
}

/// Proves and verifies `m` on `x`; a changed output is rejected.
fn round_trip(m: QuantModel, x: &[i64]) {
    let pk = setup(m, None).expect("setup");
    let out = prove(&pk, x).expect("prove");
    let v = verify(&pk.vk, x, &out.output, &out.proof).expect("verifies");
    assert_eq!(v.output_int, out.output);
    let bytes = out.proof.to_bytes();
    let back = zkinfer_prover::Proof::from_bytes(&bytes).expect("decodes");
    verify(&pk.vk, x, &out.output, &back).expect("decoded proof verifies");
    let mut y = out.output.clone();
    y[0] += 1;
    assert!(matches!(
        verify(&pk.vk, x, &y, &out.proof),
        Err(VerifyError::Sumcheck(_) | VerifyError::Opening(_) | VerifyError::Lookup(_))
    ));
}

#[test]
fn a_model_with_nothing_committed_per_proof_proves() {
    // One Dense: weights committed at setup, no activation per proof.
    let m = model(
        vec![
            tensor("x", vec![5], 0.01, 100),
            tensor("y", vec![3], 1e-4, 100_000),
        ],
        1,
        vec![QOp::Dense {
            input: 0,
            output: 1,
            in_dim: 5,
            out_dim: 3,
            weight: (0..15).map(|i| i % 7 - 3).collect(),
            bias: vec![5, -6, 7],
        }],
    );
    let pk = setup(m.clone(), None).expect("setup");
    assert!(pk.layout.activation_num_vars.is_empty());
    round_trip(m, &[3, -100, 0, 100, 42]);
}

#[test]
fn models_without_weights_prove() {
    // One ReLU: nothing at setup, lookups per proof.
    let relu = model(
        vec![
            tensor("x", vec![7], 0.01, 300),
            tensor("y", vec![7], 0.02, 127),
        ],
        1,
        vec![QOp::Requant {
            input: 0,
            output: 1,
            multiplier: 1,
            shift: 1,
            min: 0,
            max: 127,
        }],
    );
    let pk = setup(relu.clone(), None).expect("setup");
    assert!(pk.vk.weight_commitment.roots.is_empty());
    round_trip(relu, &[-300, -1, 0, 1, 5, 254, 300]);
    // No op at all (e.g. a lone Softmax, applied in float): the output is the input.
    let identity = model(vec![tensor("x", vec![4], 0.01, 100)], 0, Vec::new());
    let pk = setup(identity.clone(), None).expect("setup");
    assert!(pk.vk.weight_commitment.roots.is_empty());
    round_trip(identity, &[1, -2, 3, 100]);
}

#[test]
fn files_of_older_format_versions_are_refused_by_name() {
    use zkinfer_prover::proof::PROOF_FORMAT_VERSION;
    use zkinfer_prover::KEY_FORMAT_VERSION;
    use zkinfer_prover::{Proof, ProvingKey, VerifyingKey};
    let pk = setup(mlp(&[5, 3], 6), None).expect("setup");
    let out = prove(&pk, &input(5, 6)).expect("prove");
    let old = |mut bytes: Vec<u8>, v: u32| {
        bytes[8..12].copy_from_slice(&v.to_le_bytes());
        bytes
    };
    let Err(e) = VerifyingKey::from_bytes(&old(pk.vk.to_bytes(), KEY_FORMAT_VERSION - 1)) else {
        panic!("an old verifying key was accepted");
    };
    assert_eq!(
        e.to_string(),
        format!(
            "invalid key file: verifying key format version {} is not supported (this build reads version {KEY_FORMAT_VERSION}; run `zkinfer setup` again)",
            KEY_FORMAT_VERSION - 1
        )
    );
    let Err(e) = ProvingKey::from_bytes(&old(pk.to_bytes(), KEY_FORMAT_VERSION - 1)) else {
        panic!("an old proving key was accepted");
    };
    assert!(e.to_string().contains("proving key format version"), "{e}");
    let e = Proof::from_bytes(&old(out.proof.to_bytes(), PROOF_FORMAT_VERSION - 1))
        .expect_err("an old proof was accepted");
    assert_eq!(
        e,
        VerifyError::Malformed(format!(
            "proof format version {} is not supported (this build reads version {PROOF_FORMAT_VERSION}; prove again with this build)",
            PROOF_FORMAT_VERSION - 1
        ))
    );
}

//! Zero-knowledge proofs end to end: completeness in both input modes, the
//! statement's visibility enforced, every sent value tampered, the
//! malicious prover's forged witnesses, and no unmasked evaluation in a
//! proof.

use rand::rngs::StdRng;
use rand::SeedableRng;
use zkinfer_model::ir::{QOp, QuantModel, TensorId, TensorInfo};
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::{VerifyError, EF};

use super::*;
use crate::keys::ProvingKey;
use crate::malicious::{committed_columns, forged_witness, sweep_edits, virtual_trace_edits};
use crate::proof::{LayerProof, Proof};
use crate::{setup, synthetic};

/// An MLP whose every committed column is large enough to hide its reads.
pub(super) fn mlp() -> (ProvingKey, Vec<i64>) {
    model_key(synthetic::mlp(&[40, 32, 16], 5), 6)
}

pub(super) fn model_key(model: QuantModel, seed: u64) -> (ProvingKey, Vec<i64>) {
    let n = model.tensors[model.input].len();
    let pk = setup(model, None)
        .expect("setup")
        .into_zk_layout()
        .expect("a zero-knowledge layout");
    (pk, synthetic::input(n, seed))
}

pub(super) fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

#[test]
fn a_private_input_proof_verifies_without_the_input() {
    let (pk, x) = mlp();
    private_input_proof_verifies(&pk, &x);
}

/// Completeness with a private input, and the statement's visibility and
/// output bound by the proof.
pub(super) fn private_input_proof_verifies(pk: &ProvingKey, x: &[i64]) {
    let (pk, x) = (pk, x.to_vec());
    let out = prove_zk(pk, &x, Visibility::PRIVATE_INPUT, &mut rng(1)).expect("proves");
    assert_eq!(out.output, crate::prove(pk, &x).unwrap().output);
    let proof = Proof::from_bytes(&out.proof.to_bytes()).expect("decodes");
    assert_eq!(proof, out.proof);
    let v = verify_zk(&pk.vk, None, &out.output, &proof).expect("verifies");
    assert_eq!(v.output_int, out.output);
    assert!(v.security_bits >= crate::TARGET_BITS, "{}", v.security_bits);
    // The statement's visibility is the proof's: no input is read.
    assert!(matches!(
        verify_zk(&pk.vk, Some(&x), &out.output, &proof),
        Err(VerifyError::Statement(_))
    ));
    assert!(crate::verify(&pk.vk, &x, &out.output, &proof).is_err());
    // Another output is rejected.
    let mut y = out.output.clone();
    y[out.output.len() / 2] += 1;
    assert!(verify_zk(&pk.vk, None, &y, &proof).is_err());
    // Claiming the proof hides nothing is rejected (the transcript binds it).
    let mut public = proof.clone();
    public.zk.as_mut().unwrap().visibility = Visibility::PUBLIC;
    assert!(verify_zk(&pk.vk, Some(&x), &out.output, &public).is_err());
}

#[test]
fn a_public_input_proof_checks_the_input() {
    let (pk, x) = mlp();
    public_input_proof_checks_the_input(&pk, &x);
}

/// Completeness with a public input, which the verifier checks.
fn public_input_proof_checks_the_input(pk: &ProvingKey, x: &[i64]) {
    let out = prove_zk(pk, x, Visibility::PUBLIC, &mut rng(2)).expect("proves");
    crate::verify(&pk.vk, x, &out.output, &out.proof).expect("verifies");
    let mut other = x.to_vec();
    other[0] += 1;
    assert!(crate::verify(&pk.vk, &other, &out.output, &out.proof).is_err());
    assert!(matches!(
        verify_zk(&pk.vk, None, &out.output, &out.proof),
        Err(VerifyError::Statement(_))
    ));
}

/// Every sent field element of every zero-knowledge step, changed, is
/// rejected; so are the lookups' member values and flipped bytes in the
/// zero-knowledge sections.
#[test]
fn every_changed_message_is_rejected() {
    let (pk, x) = mlp();
    changed_messages_are_rejected(&pk, &x);
}

pub(super) fn changed_messages_are_rejected(pk: &ProvingKey, x: &[i64]) {
    let out = prove_zk(pk, x, Visibility::PRIVATE_INPUT, &mut rng(3)).expect("proves");
    let y = &out.output;
    let rejects = |p: &Proof| verify_zk(&pk.vk, None, y, p).is_err();
    let bump = |v: &mut EF| *v += EF::ONE;
    let mut checked = 0;
    for l in 0..out.proof.layers.len() {
        let LayerProof::Zk {
            public,
            sumcheck,
            final_evals,
            r_values,
        } = &out.proof.layers[l]
        else {
            panic!("a zero-knowledge proof has only zero-knowledge steps");
        };
        let counts = [
            public.len(),
            final_evals.len(),
            r_values.len(),
            sumcheck.mask_evals.len(),
            1,
        ];
        for (what, &n) in counts.iter().enumerate() {
            for k in 0..n {
                let mut p = out.proof.clone();
                let LayerProof::Zk {
                    public,
                    sumcheck,
                    final_evals,
                    r_values,
                } = &mut p.layers[l]
                else {
                    unreachable!()
                };
                match what {
                    0 => bump(&mut public[k]),
                    1 => bump(&mut final_evals[k]),
                    2 => bump(&mut r_values[k]),
                    3 => bump(&mut sumcheck.mask_evals[k]),
                    _ => bump(&mut sumcheck.mask_sum),
                }
                assert!(rejects(&p), "layer {l}, part {what}, value {k}");
                checked += 1;
            }
        }
    }
    let zk = out.proof.zk.as_ref().unwrap();
    for t in 0..zk.lookup_members.len() {
        for g in 0..zk.lookup_members[t].len() {
            for m in 0..zk.lookup_members[t][g].len() {
                for c in 0..zk.lookup_members[t][g][m].len() {
                    let mut p = out.proof.clone();
                    bump(&mut p.zk.as_mut().unwrap().lookup_members[t][g][m][c]);
                    assert!(rejects(&p), "member value {t}/{g}/{m}/{c}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 20, "{checked}");
    let bytes = out.proof.to_bytes();
    let sections = Proof::section_ranges(&bytes).unwrap();
    for (name, range) in sections
        .iter()
        .filter(|(n, _)| n.contains("zero") || n.contains("hiding"))
    {
        let len = range.len();
        for k in [0, len / 3, len / 2, len - 1] {
            let mut b = bytes.clone();
            b[range.start + k] ^= 1;
            if let Ok(p) = Proof::from_bytes(&b) {
                assert!(rejects(&p), "{name}: byte {k} flipped");
            }
        }
    }
}

/// The acceptance's leak check: none of the honest unmasked evaluations at
/// the transcript's points (every masked read's true value) appears in the
/// proof, and fresh masks change every masked value sent.
#[test]
fn no_unmasked_evaluation_appears_in_a_proof() {
    let (pk, x) = mlp();
    no_unmasked_evaluation(&pk, &x);
}

fn no_unmasked_evaluation(pk: &ProvingKey, x: &[i64]) {
    let (out, truths) = prover::prove_zk_with_truths(
        pk,
        x,
        Visibility::PRIVATE_INPUT,
        CommitSeeds::default(),
        &mut rng(4),
    )
    .unwrap();
    assert!(truths.len() >= 6, "{} masked reads", truths.len());
    // A column of zeros (an excess limb where nothing clamps) evaluates to 0
    // anywhere: zero bytes are in every encoding, and the value is no secret.
    let sent = audit::message_numbers(&out.proof);
    let (nonzero, found) = audit::truths_in_proof(&truths, &sent, &out.proof.to_bytes());
    assert!(nonzero >= 6, "{nonzero} non-zero masked reads");
    assert_eq!(found, 0, "an unmasked evaluation is in the proof");
    let a = prove_zk(pk, x, Visibility::PRIVATE_INPUT, &mut rng(5)).unwrap();
    let b = prove_zk(pk, x, Visibility::PRIVATE_INPUT, &mut rng(6)).unwrap();
    for (la, lb) in a.proof.layers.iter().zip(&b.proof.layers) {
        let (
            LayerProof::Zk {
                final_evals: fa, ..
            },
            LayerProof::Zk {
                final_evals: fb, ..
            },
        ) = (la, lb)
        else {
            unreachable!()
        };
        assert!(fa.iter().zip(fb).all(|(u, v)| u != v));
    }
}

/// The malicious prover in zero-knowledge mode: every committed column
/// edited at real and padding positions, every uncommitted op output lied
/// about, the honest zero-knowledge prover run to the end — all rejected;
/// and a private input outside its bound.
#[test]
fn every_forged_witness_value_is_rejected() {
    let (pk, x) = mlp();
    forged_witnesses_are_rejected(&pk, &x, None);

    // A private input beyond its bound: the range lookup refuses it.
    let bound = pk.model.tensors[pk.model.input].bound;
    let mut far = x.clone();
    far[1] = bound + 1;
    let mut values = crate::prover::run_model(&pk, &x).unwrap();
    values[pk.model.input] = far.clone();
    zkinfer_model::eval::evaluate_from(&pk.model, &mut values, 0).unwrap();
    let act = crate::prover::activation_witness(&pk, &values, &[]).unwrap();
    let y = values[pk.model.output].clone();
    let out = prover::prove_zk_witness(
        &pk,
        &far,
        values,
        act,
        Visibility::PRIVATE_INPUT,
        true,
        &mut rng(8),
    )
    .expect("the forged proof is built");
    assert!(matches!(
        verify_zk(&pk.vk, None, &y, &out.proof),
        Err(VerifyError::Lookup(_))
    ));
}

/// The malicious prover's sweep in zero-knowledge mode: every committed
/// column edited at real and padding positions, every uncommitted op output
/// lied about, the honest zero-knowledge prover run to the end.
/// `focus` (an op name) limits the sweep to that op's columns and outputs:
/// the per-op suites add one op to a model the full sweep covers.
pub(super) fn forged_witnesses_are_rejected(pk: &ProvingKey, x: &[i64], focus: Option<&str>) {
    let (pk, x) = (pk, x.to_vec());
    let in_focus = |op: usize| focus.is_none_or(|f| pk.model.ops[op].name() == f);
    let mut rejected = 0;
    let mut check = |what: &str, edits: Vec<crate::malicious::Edit>| {
        let mut built = 0;
        for edit in edits {
            let Ok(crate::prover::Witness {
                values,
                act_polys: act,
            }) = forged_witness(pk, &x, edit)
            else {
                continue;
            };
            let y = values[pk.model.output].clone();
            let Ok(out) = prover::prove_zk_witness(
                pk,
                &x,
                values,
                act,
                Visibility::PRIVATE_INPUT,
                true,
                &mut rng(7),
            ) else {
                continue;
            };
            assert!(
                verify_zk(&pk.vk, None, &y, &out.proof).is_err(),
                "{what}: the forged statement {edit:?} was accepted"
            );
            built += 1;
        }
        assert!(built > 0, "{what}: no forgery could be built");
        rejected += built;
    };
    for col in committed_columns(pk)
        .into_iter()
        .filter(|c| c.op.is_some_and(in_focus))
    {
        check(&col.role, sweep_edits(pk, &x, &col));
    }
    for (op, edit) in virtual_trace_edits(pk, &x) {
        if in_focus(op) {
            check(&format!("op #{op} output"), vec![edit]);
        }
    }
    let least = if focus.is_some() { 1 } else { 30 };
    assert!(rejected >= least, "{rejected}");
}

#[test]
fn unsupported_models_are_refused_by_name() {
    // Three outputs: too few entries to hide their masked reads.
    let (pk, x) = model_key(synthetic::mlp(&[7, 5, 3], 11), 1);
    let err = prove_zk(&pk, &x, Visibility::PRIVATE_INPUT, &mut rng(9))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("zero-knowledge"), "{err}");
}

/// A model too small to hide its reads proves copies of its input (symbolic
/// batch axis): the verifier repeats the public values; another copy count
/// is another statement.
#[test]
fn a_small_model_proves_copies_of_its_input() {
    let mut model = synthetic::mlp(&[7, 5, 3], 11);
    model.dynamic_batch = true;
    let (pk, x) = model_key(model, 1);
    assert_eq!(copies_for(&pk.model, Visibility::PRIVATE_INPUT).unwrap(), 4);
    let vk = pk.vk.clone();
    let honest = crate::prove(&pk, &x).unwrap().output;
    let out = prove_zk_copies(
        pk,
        &x,
        Visibility::PRIVATE_INPUT,
        CommitSeeds::default(),
        &mut rng(10),
    )
    .expect("proves");
    assert_eq!(out.output, honest);
    let proof = Proof::from_bytes(&out.proof.to_bytes()).unwrap();
    assert_eq!(proof.zk.as_ref().unwrap().copies, 4);
    verify_zk(&vk, None, &out.output, &proof).expect("verifies");
    let mut y = out.output.clone();
    y[0] += 1;
    assert!(verify_zk(&vk, None, &y, &proof).is_err());
    for copies in [1, 2, 8, 3] {
        let mut p = proof.clone();
        p.zk.as_mut().unwrap().copies = copies;
        assert!(verify_zk(&vk, None, &out.output, &p).is_err(), "{copies}");
    }
}

/// Every zero-knowledge check on one model: completeness in both input
/// modes, every changed message, no unmasked evaluation, and the malicious
/// prover's sweep.
pub(super) fn zk_suite(pk: &ProvingKey, x: &[i64], focus: &str) {
    // A tensor that is zero everywhere makes its consumers' evaluations
    // public (a Dense's output would be its bias): the leak test needs
    // every tensor to carry data.
    let values = crate::prover::run_model(pk, x).unwrap();
    for (info, v) in pk.model.tensors.iter().zip(&values) {
        assert!(v.iter().any(|&a| a != 0), "`{}` is all zero", info.name);
    }
    private_input_proof_verifies(pk, x);
    public_input_proof_checks_the_input(pk, x);
    changed_messages_are_rejected(pk, x);
    no_unmasked_evaluation(pk, x);
    forged_witnesses_are_rejected(pk, x, Some(focus));
}

/// `mlp(&[40, 32, 16])` with ops inserted between its hidden activation
/// and its second layer: `insert` gets the model (to add tensors) and the
/// hidden tensor, and returns the ops and the tensor the layer then reads.
pub(super) fn mlp_with(
    insert: impl FnOnce(&mut QuantModel, TensorId) -> (Vec<QOp>, TensorId),
) -> QuantModel {
    let mut m = synthetic::mlp(&[40, 32, 16], 5);
    let second = m
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| matches!(op, QOp::Dense { .. }))
        .nth(1)
        .map(|(i, _)| i)
        .expect("two layers");
    let QOp::Dense { input: hidden, .. } = m.ops[second] else {
        unreachable!()
    };
    let (ops, last) = insert(&mut m, hidden);
    if let QOp::Dense { input, .. } = &mut m.ops[second] {
        *input = last;
    }
    for (k, op) in ops.into_iter().enumerate() {
        m.ops.insert(second + k, op);
    }
    m
}

/// A new tensor like `like`, with its own name, shape and bound.
pub(super) fn tensor_like(
    m: &mut QuantModel,
    like: TensorId,
    name: &str,
    shape: Vec<usize>,
    bound: i64,
) -> TensorId {
    let info = m.tensors[like].clone();
    m.tensors.push(TensorInfo {
        name: name.into(),
        shape,
        bound,
        ..info
    });
    m.tensors.len() - 1
}

/// Seeded constants in `[-k, k]`.
pub(super) fn constants(n: usize, k: i64) -> Vec<i64> {
    synthetic::input(n, 17)
        .iter()
        .map(|v| v % (2 * k + 1) - k)
        .collect()
}

/// The gated MLP with its `Mul` replaced by `a + 2·b` (two distinct
/// operands).
pub(super) fn add_model() -> QuantModel {
    let mut m = synthetic::gated_mlp(40, 32, 16, 3);
    for op in &mut m.ops {
        if let QOp::Mul { a, b, output } = *op {
            *op = QOp::Add {
                a,
                b,
                output,
                a_mul: 1,
                b_mul: 2,
            };
        }
    }
    m
}

#[test]
fn add_proves_in_zero_knowledge() {
    let (pk, x) = model_key(add_model(), 21);
    zk_suite(&pk, &x, "Add");
}

#[test]
fn add_const_proves_in_zero_knowledge() {
    let (pk, x) = model_key(add_const_model(), 22);
    zk_suite(&pk, &x, "AddConst");
}

/// The hidden activations shifted by seeded constants.
pub(super) fn add_const_model() -> QuantModel {
    mlp_with(|m, h| {
        let n = m.tensors[h].len();
        let bound = m.tensors[h].bound + 20;
        let t = tensor_like(m, h, "shifted", vec![n], bound);
        let op = QOp::AddConst {
            input: h,
            output: t,
            constant: constants(n, 20),
        };
        (vec![op], t)
    })
}

#[test]
fn mul_const_proves_in_zero_knowledge() {
    let (pk, x) = model_key(mul_const_model(), 23);
    zk_suite(&pk, &x, "MulConst");
}

/// The hidden activations scaled by seeded constants.
pub(super) fn mul_const_model() -> QuantModel {
    mlp_with(|m, h| {
        let n = m.tensors[h].len();
        // Factors in [-1, 1] keep the next layer within its declared bound.
        let bound = m.tensors[h].bound;
        let t = tensor_like(m, h, "scaled", vec![n], bound);
        let op = QOp::MulConst {
            input: h,
            output: t,
            constant: constants(n, 1),
        };
        (vec![op], t)
    })
}

#[test]
fn mul_proves_in_zero_knowledge() {
    let (pk, x) = model_key(synthetic::gated_mlp(40, 32, 16, 4), 24);
    zk_suite(&pk, &x, "Mul");
}

#[test]
fn select_proves_in_zero_knowledge() {
    let (pk, x) = model_key(select_model(), 25);
    zk_suite(&pk, &x, "Select");
}

/// A Select that reorders, repeats and zero-fills the hidden activations.
pub(super) fn select_model() -> QuantModel {
    mlp_with(|m, h| {
        let n = m.tensors[h].len() as i64;
        let source: Vec<i64> = (0..n)
            .map(|i| {
                if i % 7 == 3 {
                    -1
                } else {
                    (5 * i + 2) % n / 2 * 2
                }
            })
            .collect();
        let bound = m.tensors[h].bound;
        let t = tensor_like(m, h, "selected", vec![n as usize], bound);
        let op = QOp::Select {
            input: h,
            output: t,
            source,
        };
        (vec![op], t)
    })
}

#[test]
fn transpose_proves_in_zero_knowledge() {
    let (pk, x) = model_key(transpose_model(), 26);
    assert!(pk
        .layout
        .ops
        .iter()
        .any(|op| matches!(pk.model.ops[op.index()], QOp::Transpose { .. })));
    zk_suite(&pk, &x, "Transpose");
}

/// The hidden activations viewed as `[4, 8]`, transposed to `[8, 4]` and
/// flattened again.
pub(super) fn transpose_model() -> QuantModel {
    mlp_with(|m, h| {
        let bound = m.tensors[h].bound;
        let grid = tensor_like(m, h, "grid", vec![4, 8], bound);
        let turned = tensor_like(m, h, "turned", vec![8, 4], bound);
        let flat = tensor_like(m, h, "flat", vec![32], bound);
        let ops = vec![
            QOp::Reshape {
                input: h,
                output: grid,
            },
            QOp::Transpose {
                input: grid,
                output: turned,
                perm: vec![1, 0],
            },
            QOp::Reshape {
                input: turned,
                output: flat,
            },
        ];
        (ops, flat)
    })
}

#[test]
fn sum_pool_and_padded_mul_const_prove_in_zero_knowledge() {
    let (pk, x) = model_key(sum_pool_model(), 27);
    zk_suite(&pk, &x, "SumPool");
}

/// Average pooling (`SumPool`, bottom padding) after a per-position
/// `MulConst` on a padded `[2, 6, 6]` image: both ops read padding
/// positions.
pub(super) fn sum_pool_model() -> QuantModel {
    synthetic::cnn(
        [2, 6, 6],
        &[
            synthetic::CnnLayer::ScaleMap,
            synthetic::CnnLayer::AvgPool {
                kernel: [2, 2],
                strides: [1, 1],
                pads: [0, 0, 1, 0],
            },
            synthetic::CnnLayer::Dense { out: 16 },
        ],
        7,
    )
}

/// Two private inputs with the same public output (the first layer ignores
/// the coordinate they differ in): across many proofs, every number the
/// messages carry either is the same in every proof of both inputs (public
/// structure) or varies in every proof; the varying ones' low bits are
/// uniform for each input, and the two inputs' proofs cannot be told apart
/// by them (`audit`).
#[test]
fn proofs_of_two_inputs_with_one_output_look_alike() {
    let key = || {
        let mut model = synthetic::mlp(&[40, 32, 16], 5);
        if let QOp::Dense { weight, in_dim, .. } = &mut model.ops[0] {
            let k = *in_dim;
            for at in (0..weight.len()).step_by(k) {
                weight.set(at, 0);
            }
        }
        model_key(model, 31)
    };
    let (pk, a) = key();
    let mut b = a.clone();
    b[0] = (a[0] + 50) % 128;
    assert_ne!(a, b);
    // The twin search finds another input with the same output.
    let twin = audit::twin_input(&pk, &a, 10_000).unwrap().expect("a twin");
    assert_ne!(twin, a);
    let y = |x: &[i64]| crate::prove(&pk, x).unwrap().output;
    assert_eq!(y(&twin), y(&a));
    let mut other = a.clone();
    other[1] += 40;
    assert_ne!(y(&other), y(&a));
    let report = audit::audit_two_inputs(pk, &a, &b, 24, &mut rng(1000)).expect("audits");
    assert!(report.passed(), "{report:?}");
    assert!(report.varying_numbers > 500, "{report:?}");
    assert!(report.public_numbers > 0, "{report:?}");
    assert!(report.hidden_values >= 12, "{report:?}");
    // Two inputs whose outputs differ are refused.
    assert!(audit::audit_two_inputs(key().0, &a, &other, 2, &mut rng(7)).is_err());
}

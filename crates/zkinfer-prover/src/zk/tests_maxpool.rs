//! MaxPool in zero knowledge: the full suite (completeness in both input
//! modes, every sent value changed, no unmasked evaluation, the malicious
//! prover's sweep over the pool's output and differences at real and
//! padding positions) on small CNNs without a Conv — plain windows, padded
//! and partial windows, and stacked samples.

use zkinfer_model::ir::{QOp, QuantModel};
use zkinfer_protocol::VerifyError;

use super::tests::{model_key, rng, tensor_like, zk_suite};
use super::{prove_zk, prover, verify_zk, Visibility};
use crate::malicious::{forged_witness, Edit};
use crate::setup;
use crate::synthetic::{self, CnnLayer};

fn pool(kernel: [usize; 2], strides: [usize; 2], pads: [usize; 4]) -> CnnLayer {
    CnnLayer::MaxPool {
        kernel,
        strides,
        pads,
    }
}

/// 2×2 windows at stride 2 over a requantized per-position scaling: no
/// tap reads padding, so the step has no padding factor.
#[test]
fn max_pool_proves_in_zero_knowledge() {
    let model = synthetic::cnn(
        [2, 8, 8],
        &[
            CnnLayer::ScaleMap,
            pool([2, 2], [2, 2], [0; 4]),
            CnnLayer::Dense { out: 16 },
        ],
        41,
    );
    let (pk, x) = model_key(model, 41);
    zk_suite(&pk, &x, "MaxPool");
}

/// Padding on every side (3×3 windows at stride 2, reading the private
/// input itself) and an asymmetric pool whose last windows reach into the
/// right padding (ceil mode's partial windows): `padded_pool_cnn`'s layers
/// with a head wide enough to hide its reads.
#[test]
fn padded_max_pools_prove_in_zero_knowledge() {
    let model = padded_pools_model();
    let pools = model
        .ops
        .iter()
        .filter(|op| matches!(op, QOp::MaxPool { pads, .. } if pads.iter().any(|&p| p > 0)))
        .count();
    assert_eq!(pools, 2, "both pools read padding");
    let (pk, x) = model_key(model, 17);
    zk_suite(&pk, &x, "MaxPool");
}

/// The padded pools' model (above).
pub(super) fn padded_pools_model() -> QuantModel {
    synthetic::cnn(
        [2, 7, 6],
        &[
            pool([3, 3], [2, 2], [1, 1, 1, 1]),
            CnnLayer::ScaleMap,
            pool([2, 2], [1, 2], [1, 0, 0, 1]),
            CnnLayer::Dense { out: 16 },
        ],
        17,
    )
}

/// Three stacked samples (the padded batch row repeats the last one) through
/// a pool with a partial last window.
#[test]
fn a_batched_max_pool_proves_in_zero_knowledge() {
    let mut model: QuantModel = synthetic::cnn(
        [2, 6, 6],
        &[
            CnnLayer::ScaleMap,
            pool([2, 2], [2, 2], [0, 0, 1, 1]),
            CnnLayer::Dense { out: 16 },
        ],
        43,
    );
    model.dynamic_batch = true;
    let model = model.with_batch(3).expect("three samples");
    let n = model.statement_input_len();
    let pk = setup(model, None)
        .expect("setup")
        .into_zk_layout()
        .expect("a zero-knowledge layout");
    let x = synthetic::input(n, 43);
    zk_suite(&pk, &x, "MaxPool");
}

/// A proof's two MaxPool messages are both needed: dropping the inner
/// sumcheck's, or swapping the two, is refused with an error.
#[test]
fn a_max_pool_proof_without_its_inner_step_is_refused() {
    let model = synthetic::cnn(
        [2, 8, 8],
        &[pool([2, 2], [2, 2], [0; 4]), CnnLayer::Dense { out: 16 }],
        44,
    );
    let (pk, x) = model_key(model, 44);
    let out = prove_zk(&pk, &x, Visibility::PRIVATE_INPUT, &mut rng(45)).expect("proves");
    verify_zk(&pk.vk, None, &out.output, &out.proof).expect("verifies");
    // Proving order is backwards: the pool's two messages come last.
    let n = out.proof.layers.len();
    let mut dropped = out.proof.clone();
    dropped.layers.remove(n - 1);
    assert!(verify_zk(&pk.vk, None, &out.output, &dropped).is_err());
    let mut swapped = out.proof.clone();
    swapped.layers.swap(n - 2, n - 1);
    assert!(verify_zk(&pk.vk, None, &out.output, &swapped).is_err());
}

/// A forged pool output, built by the malicious prover and proven by the
/// honest zero-knowledge code: the pool's own zero-check must refuse it
/// (a sumcheck error at the pool), whatever the lookups say.
fn refused_at_the_pool(pk: &crate::keys::ProvingKey, x: &[i64], edit: Edit) {
    let pool = pk
        .model
        .ops
        .iter()
        .position(|op| matches!(op, QOp::MaxPool { .. }))
        .expect("a max pool");
    let w = forged_witness(pk, x, edit).expect("the forgery is built");
    let y = w.values[pk.model.output].clone();
    let out = prover::prove_zk_witness(
        pk,
        x,
        w.values,
        w.act_polys,
        Visibility::PRIVATE_INPUT,
        true,
        &mut rng(46),
    )
    .expect("the forged proof is built");
    match verify_zk(&pk.vk, None, &y, &out.proof) {
        Err(VerifyError::Sumcheck(m)) if m.contains(&format!("op #{pool} ")) => {}
        other => panic!("{edit:?}: expected the pool's sumcheck to refuse it, got {other:?}"),
    }
}

/// 2×2 windows at stride 2 on `[2, 6, 6]`: a `[2, 3, 3]` output padded to
/// `[2, 4, 4]`.
fn odd_pool() -> (crate::keys::ProvingKey, Vec<i64>) {
    let model = synthetic::cnn(
        [2, 6, 6],
        &[
            CnnLayer::ScaleMap,
            pool([2, 2], [2, 2], [0; 4]),
            CnnLayer::Dense { out: 16 },
        ],
        47,
    );
    model_key(model, 47)
}

/// A maximum one above the true one: every difference stays in range (the
/// lookups pass) and none vanishes, which only the product identity sees.
#[test]
fn a_max_that_is_not_attained_is_refused_by_the_zero_check() {
    let (pk, x) = odd_pool();
    let out = pk
        .model
        .ops
        .iter()
        .find_map(|op| match op {
            QOp::MaxPool { output, .. } => Some(*output),
            _ => None,
        })
        .unwrap();
    let honest = crate::prover::run_model(&pk, &x).unwrap()[out].clone();
    for index in [0, 4, honest.len() - 1] {
        let edit = Edit::Trace {
            tensor: out,
            index,
            value: honest[index] + 1,
        };
        refused_at_the_pool(&pk, &x, edit);
    }
}

/// A nonzero output at a padding position (its differences re-derived to
/// equal it, so in range): the zero-check forces every padding output to 0.
#[test]
fn a_nonzero_padding_output_is_refused_by_the_zero_check() {
    let (pk, x) = odd_pool();
    let out = pk
        .model
        .ops
        .iter()
        .find_map(|op| match op {
            QOp::MaxPool { output, .. } => Some(*output),
            _ => None,
        })
        .unwrap();
    // (channel 0, row 0, column 3) and (channel 1, row 3, column 0).
    for index in [3, 16 + 12] {
        let edit = Edit::Padded {
            tensor: out,
            index,
            value: 1,
        };
        refused_at_the_pool(&pk, &x, edit);
    }
}

/// A pool whose input is never committed: the MLP's 36 hidden units
/// relaid out as a `[4, 3, 3]` image (a Select), pooled by 2×2 windows at
/// stride 1 with the last row and column partial, and flattened back. The
/// inner sumcheck's read of the input is a masked claim the relayout
/// proves.
#[test]
fn a_max_pool_of_a_relaid_tensor_proves_in_zero_knowledge() {
    let mut m = synthetic::mlp(&[40, 36, 16], 5);
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
    let bound = m.tensors[hidden].bound;
    let image = tensor_like(&mut m, hidden, "image", vec![4, 3, 3], bound);
    let pooled = tensor_like(&mut m, hidden, "pooled", vec![4, 3, 3], bound);
    let flat = tensor_like(&mut m, hidden, "flat", vec![36], bound);
    let ops = [
        QOp::Reshape {
            input: hidden,
            output: image,
        },
        QOp::MaxPool {
            input: image,
            output: pooled,
            kernel: [2, 2],
            strides: [1, 1],
            pads: [0, 0, 1, 1],
        },
        QOp::Reshape {
            input: pooled,
            output: flat,
        },
    ];
    if let QOp::Dense { input, .. } = &mut m.ops[second] {
        *input = flat;
    }
    for (k, op) in ops.into_iter().enumerate() {
        m.ops.insert(second + k, op);
    }
    let (pk, x) = model_key(m, 48);
    let image_kind = pk.layout.kind(image).1;
    assert!(
        matches!(image_kind, crate::layout::TensorKind::Virtual),
        "the pool's input is never committed: {image_kind:?}"
    );
    zk_suite(&pk, &x, "MaxPool");
}

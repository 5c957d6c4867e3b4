//! Conv2d in zero knowledge: the full suite (`tests::zk_suite`) on
//! synthetic CNNs covering strides, top/left and bottom/right padding,
//! several input channels, non-power-of-two axes, a bias in every layer, a
//! batch with padding samples, a Conv reading the private input and one
//! reading another Conv's activations.

use zkinfer_model::ir::{QuantModel, TensorId};

use super::tests::{model_key, rng, zk_suite};
use super::{prover, verify_zk, Visibility};
use crate::keys::ProvingKey;
use crate::malicious::{committed_columns, forged_witness, sweep_edits, Edit};
use crate::synthetic::{self, CnnLayer};

fn conv(
    out_channels: usize,
    kernel: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
) -> CnnLayer {
    CnnLayer::Conv {
        out_channels,
        kernel,
        strides,
        pads,
    }
}

/// Every Conv2d of the model, with its geometry, for the tests' own checks.
fn convs(model: &QuantModel) -> Vec<&zkinfer_model::ir::QOp> {
    model
        .ops
        .iter()
        .filter(|op| matches!(op, zkinfer_model::ir::QOp::Conv2d { .. }))
        .collect()
}

#[test]
fn a_strided_padded_conv_proves_in_zero_knowledge() {
    let (pk, x) = model_key(strided_conv_model(), 41);
    zk_suite(&pk, &x, "Conv2d");
}

/// Stride 2 with padding on every side, on the private input (one
/// channel), then a Dense head.
pub(super) fn strided_conv_model() -> QuantModel {
    synthetic::cnn(
        [1, 8, 8],
        &[
            conv(4, [3, 3], [2, 2], [1, 1, 1, 1]),
            CnnLayer::Dense { out: 16 },
        ],
        41,
    )
}

/// Three input channels into a 3x3 "same" conv, then a second conv with an
/// uneven kernel, stride and padding on a 6x5 map (non-power-of-two axes,
/// padded channels), each with its bias; ends in Dense. The second Conv
/// reads the first one's (committed) activations, whose padding it ignores.
#[test]
fn stacked_multichannel_convs_with_bias_prove_in_zero_knowledge() {
    let model = synthetic::cnn(
        [3, 6, 5],
        &[
            conv(5, [3, 3], [1, 1], [1, 1, 1, 1]),
            conv(3, [3, 2], [2, 1], [0, 1, 1, 0]),
            CnnLayer::Dense { out: 16 },
        ],
        42,
    );
    let cs = convs(&model);
    assert_eq!(cs.len(), 2);
    for op in cs {
        let zkinfer_model::ir::QOp::Conv2d { bias, .. } = op else {
            unreachable!()
        };
        assert!(bias.iter().any(|&b| b != 0), "every conv carries a bias");
    }
    let (pk, x) = model_key(model, 42);
    zk_suite(&pk, &x, "Conv2d");
    padding_read_by_convs_is_checked(&pk, &x);
}

/// The padding positions of every committed column a Conv reads, edited
/// (the Conv's functional is zero there, so only the column's producer can
/// refuse them): every forgery is rejected.
fn padding_read_by_convs_is_checked(pk: &ProvingKey, x: &[i64]) {
    let inputs: Vec<TensorId> = convs(&pk.model).iter().map(|op| op.io().0[0]).collect();
    let mut rejected = 0;
    for col in committed_columns(pk)
        .into_iter()
        .filter(|c| c.tensor.is_some_and(|t| inputs.contains(&t)))
    {
        for edit in sweep_edits(pk, x, &col)
            .into_iter()
            .filter(|e| matches!(e, Edit::Padded { .. }))
        {
            let w = forged_witness(pk, x, edit).expect("a padding edit is built");
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
            .expect("proves");
            assert!(
                verify_zk(&pk.vk, None, &y, &out.proof).is_err(),
                "{}: {edit:?} was accepted",
                col.role
            );
            rejected += 1;
        }
    }
    assert!(rejected >= 2, "{rejected}");
}

/// Three samples (the batch padded to four with a genuine padding sample)
/// through a conv with a 1x1 stride-2 layer after it; ends in Dense.
#[test]
fn a_batch_of_convs_proves_in_zero_knowledge() {
    let mut model = synthetic::cnn(
        [2, 5, 5],
        &[
            conv(3, [2, 2], [1, 1], [0, 0, 1, 1]),
            conv(4, [1, 1], [2, 2], [0, 0, 0, 0]),
            CnnLayer::Dense { out: 16 },
        ],
        43,
    );
    model.dynamic_batch = true;
    let model = model.with_batch(3).expect("a symbolic batch");
    let n = model.tensors[model.input].len();
    let (pk, _) = model_key(model, 43);
    let x = synthetic::input(3 * n, 43);
    zk_suite(&pk, &x, "Conv2d");
}

/// A prover that lies about one Conv output and proves it with a functional
/// shifted to meet the lie (every other step honest, the masked sumcheck
/// consistent) is refused by the verifier's own evaluation of `K` from the
/// weight claims; without the shift the lie fails the sumcheck.
#[test]
fn a_functional_that_is_not_the_weights_is_rejected() {
    use crate::ops::conv_forge_zk::FUNCTIONAL;
    use zkinfer_protocol::VerifyError;

    let model = synthetic::cnn(
        [2, 6, 6],
        &[
            conv(4, [3, 3], [2, 2], [1, 1, 0, 0]),
            CnnLayer::Dense { out: 16 },
        ],
        44,
    );
    let (pk, x) = model_key(model, 44);
    let output = convs(&pk.model)[0].io().1;
    let values = crate::prover::run_model(&pk, &x).unwrap();
    let index = values[output].len() / 2;
    let edit = Edit::Trace {
        tensor: output,
        index,
        value: values[output][index] + 1,
    };
    let forged = |shift: bool| {
        let w = forged_witness(&pk, &x, edit).expect("the forgery is built");
        let y = w.values[pk.model.output].clone();
        FUNCTIONAL.with(|f| f.set(shift));
        let out = prover::prove_zk_witness(
            &pk,
            &x,
            w.values,
            w.act_polys,
            Visibility::PRIVATE_INPUT,
            true,
            &mut rng(45),
        );
        FUNCTIONAL.with(|f| f.set(false));
        verify_zk(&pk.vk, None, &y, &out.expect("proves").proof)
    };
    let Err(VerifyError::Sumcheck(shifted)) = forged(true) else {
        panic!("the shifted functional was not refused by a check");
    };
    assert!(
        shifted.contains("Conv2d") && shifted.contains("public factor"),
        "{shifted}"
    );
    let plain = forged(false).expect_err("the lie is refused");
    assert!(!plain.to_string().contains("public factor"), "{plain}");
}

//! Conv2d in zero knowledge: the full suite (`tests::zk_suite`) on
//! synthetic CNNs covering strides, top/left and bottom/right padding,
//! several input channels, non-power-of-two axes, a bias in every layer, a
//! batch with padding samples, a Conv reading the private input and one
//! reading another Conv's activations.

use zkinfer_model::ir::QuantModel;

use super::tests::{forged_witnesses_are_rejected, model_key, rng, zk_suite};
use super::{prover, verify_zk, Visibility};
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

/// Stride 2 with padding on every side, on the private input (one
/// channel), then a Dense head.
#[test]
fn a_strided_padded_conv_proves_in_zero_knowledge() {
    let model = synthetic::cnn(
        [1, 8, 8],
        &[
            conv(4, [3, 3], [2, 2], [1, 1, 1, 1]),
            CnnLayer::Dense { out: 16 },
        ],
        41,
    );
    let (pk, x) = model_key(model, 41);
    zk_suite(&pk, &x, "Conv2d");
}

/// Three input channels into a 3x3 "same" conv, then a second conv with an
/// uneven kernel, stride and padding on a 6x5 map (non-power-of-two axes,
/// padded channels), each with its bias; ends in Dense. The second Conv
/// reads the first one's (committed) activations. The sweep also edits
/// the columns of the Requants the Convs read, padding positions included,
/// which the Conv's functional ignores: their own checks must catch them.
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
    forged_witnesses_are_rejected(&pk, &x, Some("Requant"));
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
    use crate::malicious::{forged_witness, Edit};
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
    let zkinfer_model::ir::QOp::Conv2d { output, .. } = convs(&pk.model)[0] else {
        unreachable!()
    };
    let values = crate::prover::run_model(&pk, &x).unwrap();
    let index = values[*output].len() / 2;
    let edit = Edit::Trace {
        tensor: *output,
        index,
        value: values[*output][index] + 1,
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

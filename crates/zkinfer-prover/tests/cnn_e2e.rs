//! End-to-end CNN proofs: completeness on odd geometries (non-square
//! inputs, channel counts that are not powers of two, strides, padding at the
//! borders, residual adds, average and max pooling) and the tamper matrix.

use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::EF;
use zkinfer_prover::proof::{LayerProof, Proof};
use zkinfer_prover::synthetic::{cnn, input, CnnLayer};
use zkinfer_prover::{prove, setup, verify, ProvingKey};

fn conv(oc: usize, k: [usize; 2], s: [usize; 2], p: [usize; 4]) -> CnnLayer {
    CnnLayer::Conv {
        out_channels: oc,
        kernel: k,
        strides: s,
        pads: p,
    }
}

/// Every op the prover supports for CNNs, on awkward sizes.
fn odd_cnn(seed: u64) -> zkinfer_model::ir::QuantModel {
    cnn(
        [3, 11, 7],
        &[
            conv(5, [3, 3], [1, 1], [1, 1, 1, 1]), // 5x11x7
            CnnLayer::MaxPool {
                kernel: [2, 2],
                strides: [2, 2],
                pads: [0; 4],
            }, // 5x5x3
            conv(6, [3, 2], [2, 1], [1, 0, 0, 1]), // 6x2x3
            CnnLayer::Residual,
            CnnLayer::AvgPool {
                kernel: [2, 2],
                strides: [1, 1],
                pads: [0, 0, 1, 0],
            }, // 6x2x2
            CnnLayer::Dense { out: 3 },
        ],
        seed,
    )
}

fn check(model: zkinfer_model::ir::QuantModel, seed: u64) {
    let n = model.tensors[model.input].len();
    let pk = setup(model, None).expect("setup");
    let x = input(n, seed);
    let out = prove(&pk, &x).expect("prove");
    verify(&pk.vk, &x, &out.output, &out.proof).expect("honest proof verifies");
    let back = Proof::from_bytes(&out.proof.to_bytes()).expect("decode");
    verify(&pk.vk, &x, &out.output, &back).expect("decoded proof verifies");
}

#[test]
fn odd_geometries_prove_and_verify() {
    check(odd_cnn(1), 1);
    // Stride-2 conv with asymmetric padding, 3x3 max pool with stride 2, 1x1 conv.
    check(
        cnn(
            [1, 9, 13],
            &[
                conv(3, [3, 3], [2, 2], [0, 1, 1, 0]),
                CnnLayer::MaxPool {
                    kernel: [3, 3],
                    strides: [2, 2],
                    pads: [0; 4],
                },
                conv(7, [1, 1], [1, 1], [0; 4]),
                CnnLayer::Dense { out: 5 },
            ],
            2,
        ),
        2,
    );
    // Global average pooling, LeNet-like.
    check(
        cnn(
            [2, 12, 12],
            &[
                conv(4, [5, 5], [1, 1], [0; 4]),
                CnnLayer::MaxPool {
                    kernel: [2, 2],
                    strides: [2, 2],
                    pads: [0; 4],
                },
                CnnLayer::Residual,
                CnnLayer::AvgPool {
                    kernel: [4, 4],
                    strides: [1, 1],
                    pads: [0; 4],
                },
                CnnLayer::Dense { out: 10 },
            ],
            3,
        ),
        3,
    );
}

struct Fixture {
    pk: ProvingKey,
    x: Vec<i64>,
    y: Vec<i64>,
    proof: Proof,
}

fn fixture() -> Fixture {
    let pk = setup(odd_cnn(7), None).expect("setup");
    let x = input(3 * 11 * 7, 7);
    let out = prove(&pk, &x).expect("prove");
    Fixture {
        pk,
        x,
        y: out.output,
        proof: out.proof,
    }
}

#[test]
fn wrong_statement_is_rejected() {
    let f = fixture();
    for i in 0..f.y.len() {
        let mut y = f.y.clone();
        y[i] -= 1;
        assert!(verify(&f.pk.vk, &f.x, &y, &f.proof).is_err(), "output {i}");
    }
    // Inputs at a corner, in the middle and at the last position (padding borders).
    for i in [0, 6, 40, f.x.len() - 1] {
        let mut x = f.x.clone();
        x[i] += 1;
        assert!(verify(&f.pk.vk, &x, &f.y, &f.proof).is_err(), "input {i}");
    }
    // Another CNN of the same architecture (other weights).
    let other = setup(odd_cnn(8), None).expect("setup");
    assert!(verify(&other.vk, &f.x, &f.y, &f.proof).is_err());
    let mut forged = f.proof.clone();
    forged.model_id = other.vk.model_id();
    assert!(verify(&other.vk, &f.x, &f.y, &forged).is_err());
    // Replayed with another input.
    let x2 = input(f.x.len(), 99);
    let y2 = prove(&f.pk, &x2).expect("prove").output;
    assert!(verify(&f.pk.vk, &x2, &y2, &f.proof).is_err());
}

#[test]
fn a_flipped_byte_in_every_section_is_rejected() {
    let f = fixture();
    let bytes = f.proof.to_bytes();
    for (name, range) in Proof::section_ranges(&bytes).expect("sections") {
        let step = (range.len() / 16).max(1);
        let mut positions: Vec<usize> = range.clone().step_by(step).collect();
        positions.push(range.end - 1);
        for pos in positions {
            let mut b = bytes.clone();
            b[pos] ^= 0x10;
            let accepted = match Proof::from_bytes(&b) {
                Err(_) => false,
                Ok(p) => verify(&f.pk.vk, &f.x, &f.y, &p).is_ok(),
            };
            assert!(
                !accepted,
                "flipped byte {pos} in section {name} was accepted"
            );
        }
    }
}

#[test]
fn every_value_of_every_window_op_proof_is_checked() {
    let f = fixture();
    let mut tampered = 0;
    for li in 0..f.proof.layers.len() {
        // Each variant: every field it sends, one at a time.
        let n_fields = match &f.proof.layers[li] {
            LayerProof::Conv { .. } => 6,
            LayerProof::SumPool { .. } => 2,
            LayerProof::MaxPool { .. } => 5,
            _ => 0,
        };
        for field in 0..n_fields {
            let mut p = f.proof.clone();
            match &mut p.layers[li] {
                LayerProof::Conv {
                    bias_evals,
                    kernel_sumcheck,
                    weight_evals,
                    patch_evals,
                    input_sumcheck,
                    input_eval,
                } => match field {
                    0 => bias_evals[0] += EF::ONE,
                    1 => kernel_sumcheck.round_polys[0][1] += EF::ONE,
                    2 => weight_evals[0] += EF::ONE,
                    3 => patch_evals[0] += EF::ONE,
                    4 => input_sumcheck.round_polys[1][0] += EF::ONE,
                    _ => *input_eval += EF::ONE,
                },
                LayerProof::SumPool {
                    sumcheck,
                    input_eval,
                } => match field {
                    0 => sumcheck.round_polys[0][2] += EF::ONE,
                    _ => *input_eval += EF::ONE,
                },
                LayerProof::MaxPool {
                    product_sumcheck,
                    diff_evals,
                    output_eval,
                    input_sumcheck,
                    input_eval,
                } => match field {
                    0 => product_sumcheck.round_polys[0][0] += EF::ONE,
                    1 => diff_evals[1] += EF::ONE,
                    2 => *output_eval += EF::ONE,
                    3 => input_sumcheck.round_polys[0][1] += EF::ONE,
                    _ => *input_eval += EF::ONE,
                },
                _ => unreachable!(),
            }
            tampered += 1;
            assert!(
                verify(&f.pk.vk, &f.x, &f.y, &p).is_err(),
                "layer {li} field {field} tampered and accepted"
            );
        }
    }
    // Two convs + one residual conv, a max pool and an average pool.
    assert_eq!(tampered, 3 * 6 + 5 + 2);
}

#[test]
fn padded_max_pooling_proves_and_a_window_of_only_padding_is_refused_by_name() {
    // (6 + 1 − 2) / 2 + 1 = 3 rows either way, so only the padding differs:
    // the top-left windows read padding, which never wins the max.
    let pooled = |pads: [usize; 4]| {
        let mut m = cnn(
            [1, 6, 6],
            &[
                conv(2, [3, 3], [1, 1], [1; 4]),
                CnnLayer::MaxPool {
                    kernel: [2, 2],
                    strides: [2, 2],
                    pads: [0; 4],
                },
                CnnLayer::Dense { out: 2 },
            ],
            4,
        );
        for op in &mut m.ops {
            if let zkinfer_model::ir::QOp::MaxPool { pads: p, .. } = op {
                *p = pads;
            }
        }
        m
    };
    let m = pooled([1, 1, 0, 0]);
    let x = input(m.tensors[m.input].len(), 4);
    let pk = setup(m, None).expect("a padded max pool is supported");
    let out = prove(&pk, &x).expect("prove");
    verify(&pk.vk, &x, &out.output, &out.proof).expect("verifies");
    // A pad as wide as the kernel would make a window of padding alone.
    let err = pooled([2, 0, 0, 0])
        .validate()
        .expect_err("refused")
        .to_string();
    assert!(err.contains("smaller than the kernel"), "{err}");
}

#[test]
fn benchmark_cnns_prove_and_verify_in_both_modes() {
    use zkinfer_prover::synthetic::named_cnn;
    use zkinfer_prover::{setup_with_mode, CommitmentMode};
    use zkinfer_prover::{Layout, LimbBits};
    // Both ends of the limb-width choice: narrow limbs for a small model, wide
    // remainder limbs for a large one.
    for (name, mode, limbs) in [
        ("lenet5", CommitmentMode::Compact, (8, 8)),
        ("resnet20", CommitmentMode::Fast, (16, 12)),
    ] {
        let model = named_cnn(name).expect("a benchmark CNN");
        let LimbBits { remainder, excess } = Layout::new(&model).expect("layout").limb_bits;
        assert_eq!((remainder, excess), limbs, "{name}");
        let n = model.tensors[model.input].len();
        let pk = setup_with_mode(model, mode).expect("setup");
        let x = input(n, 5);
        let out = prove(&pk, &x).expect("prove");
        verify(&pk.vk, &x, &out.output, &out.proof).expect("verifies");
        let bits = zkinfer_prover::security::report(&pk.vk).total_bits;
        assert!(bits >= 100.0, "{name}: {bits} bits");
    }
    assert!(named_cnn("alexnet").is_none());
}

#[test]
fn every_merged_lookup_member_evaluation_is_checked() {
    let f = fixture();
    let mut checked = 0;
    let evals = &f.proof.lookups.member_evals;
    for (t, groups) in evals.iter().enumerate() {
        for (g, members) in groups.iter().enumerate() {
            for m in 0..members.len() {
                let mut p = f.proof.clone();
                p.lookups.member_evals[t][g][m][0] += EF::ONE;
                assert!(
                    verify(&f.pk.vk, &f.x, &f.y, &p).is_err(),
                    "table {t} group {g} member {m} tampered and accepted"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} members");
}

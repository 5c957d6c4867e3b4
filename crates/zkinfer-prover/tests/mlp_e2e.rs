//! End-to-end: setup, prove, verify synthetic MLPs, and the tamper matrix —
//! every public part of the statement and every section of the proof file.

use zkinfer_protocol::EF;
use zkinfer_prover::proof::{LayerProof, Proof};
use zkinfer_prover::synthetic::{input, mlp};
use zkinfer_prover::{prove, setup, verify, ProvingKey, VerifyingKey};

fn keys(widths: &[usize], seed: u64) -> ProvingKey {
    setup(mlp(widths, seed), None).expect("setup")
}

#[test]
fn odd_width_mlps_prove_and_verify() {
    for (widths, seed) in [
        (vec![13, 7, 5], 1u64),
        (vec![33, 17, 9, 3], 2),
        (vec![1, 1], 3),
        (vec![64, 32, 10], 4),
    ] {
        let pk = keys(&widths, seed);
        let x = input(widths[0], seed);
        let out = prove(&pk, &x).expect("prove");
        assert_eq!(out.output.len(), *widths.last().unwrap());
        verify(&pk.vk, &x, &out.output, &out.proof).expect("honest proof verifies");
        // Through the file format, too.
        let bytes = out.proof.to_bytes();
        let back = Proof::from_bytes(&bytes).expect("decode");
        assert_eq!(back, out.proof);
        verify(&pk.vk, &x, &out.output, &back).expect("decoded proof verifies");
    }
}

#[test]
fn keys_round_trip_through_files() {
    let pk = keys(&[20, 9, 4], 7);
    let pk2 = ProvingKey::from_bytes(&pk.to_bytes()).expect("pk decodes");
    let vk2 = VerifyingKey::from_bytes(&pk.vk.to_bytes()).expect("vk decodes");
    assert_eq!(vk2, pk.vk);
    assert_eq!(pk2.vk.model_id(), pk.vk.model_id());
    let x = input(20, 7);
    let out = prove(&pk2, &x).expect("prove with reloaded pk");
    verify(&vk2, &x, &out.output, &out.proof).expect("verifies with reloaded vk");
    // Corrupt key files are errors, not panics.
    let mut bad = pk.vk.to_bytes();
    bad.truncate(bad.len() / 2);
    assert!(VerifyingKey::from_bytes(&bad).is_err());
    assert!(VerifyingKey::from_bytes(b"not a key").is_err());
    let mut bad_pk = pk.to_bytes();
    let n = bad_pk.len();
    bad_pk[n - 40] ^= 1; // inside the weights
    assert!(ProvingKey::from_bytes(&bad_pk).is_err());
}

struct Fixture {
    pk: ProvingKey,
    x: Vec<i64>,
    y: Vec<i64>,
    proof: Proof,
}

fn fixture() -> Fixture {
    fixture_with_act_bits(8)
}

/// 13-bit activations: the layout checks these clamps split (`ClampSplit`).
fn fixture_with_act_bits(act_bits: u32) -> Fixture {
    let model = zkinfer_prover::synthetic::mlp_with_act_bits(&[24, 11, 6], 11, act_bits);
    let pk = setup(model, None).expect("setup");
    let x = input(24, 11);
    let out = prove(&pk, &x).expect("prove");
    Fixture {
        pk,
        x,
        y: out.output,
        proof: out.proof,
    }
}

#[test]
fn wrong_output_is_rejected() {
    let f = fixture();
    for i in 0..f.y.len() {
        let mut y = f.y.clone();
        y[i] += 1;
        assert!(
            verify(&f.pk.vk, &f.x, &y, &f.proof).is_err(),
            "output {i} changed"
        );
    }
    assert!(
        verify(&f.pk.vk, &f.x, &f.y[1..], &f.proof).is_err(),
        "short output"
    );
}

#[test]
fn wrong_input_is_rejected() {
    let f = fixture();
    for i in [0, 5, f.x.len() - 1] {
        let mut x = f.x.clone();
        x[i] += 1;
        assert!(
            verify(&f.pk.vk, &x, &f.y, &f.proof).is_err(),
            "input {i} changed"
        );
    }
}

#[test]
fn proof_replayed_with_another_input_is_rejected() {
    let f = fixture();
    let x2 = input(24, 999);
    assert_ne!(x2, f.x);
    let y2 = prove(&f.pk, &x2).expect("prove").output;
    // The old proof with the new statement, and with the new input only.
    assert!(verify(&f.pk.vk, &x2, &y2, &f.proof).is_err());
    assert!(verify(&f.pk.vk, &x2, &f.y, &f.proof).is_err());
}

#[test]
fn another_models_vk_is_rejected() {
    let f = fixture();
    // Same architecture, other weights: only the commitment differs.
    let other = keys(&[24, 11, 6], 12);
    assert_ne!(other.vk.model_id(), f.pk.vk.model_id());
    assert!(verify(&other.vk, &f.x, &f.y, &f.proof).is_err());
    // Even with the proof's model id rewritten to match, the transcript and openings fail.
    let mut forged = f.proof.clone();
    forged.model_id = other.vk.model_id();
    assert!(verify(&other.vk, &f.x, &f.y, &forged).is_err());
}

#[test]
fn a_flipped_byte_in_every_section_is_rejected() {
    let f = fixture();
    let bytes = f.proof.to_bytes();
    let ranges = Proof::section_ranges(&bytes).expect("sections");
    assert_eq!(ranges.len(), 8);
    for (name, range) in ranges {
        assert!(!range.is_empty(), "section {name} is empty");
        // Spread positions over the section, plus its first and last byte.
        let step = (range.len() / 24).max(1);
        let mut positions: Vec<usize> = range.clone().step_by(step).collect();
        positions.push(range.end - 1);
        for pos in positions {
            let mut b = bytes.clone();
            b[pos] ^= 0x01;
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
fn truncated_proofs_are_errors_not_panics() {
    let f = fixture();
    let bytes = f.proof.to_bytes();
    for len in [0, 4, 12, 44, 45, 50, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            Proof::from_bytes(&bytes[..len]).is_err(),
            "truncated at {len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Proof::from_bytes(&longer).is_err(), "trailing byte");
}

/// The output and the limb lists of requant layer `li` of `p`.
#[allow(clippy::type_complexity)]
fn requant_values_of(
    p: &mut Proof,
    li: usize,
) -> (&mut EF, &mut Vec<EF>, &mut Vec<EF>, &mut Vec<EF>) {
    match &mut p.layers[li] {
        LayerProof::Requant {
            y_eval,
            excess_evals,
            limb_evals,
            split_evals,
        } => (y_eval, excess_evals, limb_evals, split_evals),
        other => panic!("layer {li} is not a requant: {other:?}"),
    }
}

#[test]
fn tampered_layer_values_are_rejected() {
    use zkinfer_protocol::field::PrimeCharacteristicRing;
    // Every value of every requant proof: output, excess limbs, remainder limbs,
    // and the parts of a split clamp (13-bit activations).
    for (act_bits, split) in [(8, false), (13, true)] {
        let f = fixture_with_act_bits(act_bits);
        let mut requant_values = 0;
        for li in 0..f.proof.layers.len() {
            let LayerProof::Requant {
                excess_evals,
                limb_evals,
                split_evals,
                ..
            } = &f.proof.layers[li]
            else {
                continue;
            };
            assert!(!excess_evals.is_empty() && !limb_evals.is_empty());
            assert_eq!(
                split_evals.len(),
                if split { 2 } else { 0 },
                "{act_bits} bits"
            );
            let n = 1 + excess_evals.len() + limb_evals.len() + split_evals.len();
            for k in 0..n {
                let mut p = f.proof.clone();
                let (y_eval, excess_evals, limb_evals, split_evals) = requant_values_of(&mut p, li);
                let values = std::iter::once(y_eval)
                    .chain(excess_evals.iter_mut())
                    .chain(limb_evals.iter_mut())
                    .chain(split_evals.iter_mut());
                for (j, v) in values.enumerate() {
                    if j == k {
                        *v += EF::ONE;
                    }
                }
                assert!(
                    verify(&f.pk.vk, &f.x, &f.y, &p).is_err(),
                    "{act_bits} bits: layer {li} value {k}"
                );
                requant_values += 1;
            }
        }
        assert!(requant_values >= 6, "{requant_values}");
        // A requant proof with a value missing or added in any list is malformed.
        let li = f
            .proof
            .layers
            .iter()
            .position(|l| matches!(l, LayerProof::Requant { .. }))
            .expect("a requant layer");
        for list in 0..3 {
            for grow in [false, true] {
                let mut p = f.proof.clone();
                let (_, excess_evals, limb_evals, split_evals) = requant_values_of(&mut p, li);
                let target = match list {
                    0 => excess_evals,
                    1 => limb_evals,
                    _ => split_evals,
                };
                if grow {
                    target.push(EF::ONE);
                } else if target.pop().is_none() {
                    continue;
                }
                let err = verify(&f.pk.vk, &f.x, &f.y, &p).expect_err("count changed");
                assert!(err.to_string().contains("limb"), "{err}");
            }
        }
    }
    let f = fixture();
    for li in 0..f.proof.layers.len() {
        let mut p = f.proof.clone();
        match &mut p.layers[li] {
            LayerProof::Requant { y_eval, .. } => *y_eval += EF::ONE,
            LayerProof::Dense { input_evals, .. } => input_evals[0] += EF::ONE,
            LayerProof::Add { evals } => evals[0].0 += EF::ONE,
            other => panic!("an MLP has no {other:?} layer"),
        }
        assert!(verify(&f.pk.vk, &f.x, &f.y, &p).is_err(), "layer {li}");
    }
    // Dropping a layer proof or adding one is malformed.
    let mut p = f.proof.clone();
    p.layers.pop();
    assert!(verify(&f.pk.vk, &f.x, &f.y, &p).is_err());
    let mut p = f.proof.clone();
    p.layers.push(p.layers[0].clone());
    assert!(verify(&f.pk.vk, &f.x, &f.y, &p).is_err());
}

#[test]
fn consuming_prover_makes_the_same_statement() {
    let pk = keys(&[19, 8, 5], 21);
    let vk = pk.vk.clone();
    let x = input(19, 21);
    let reference = prove(&pk, &x).expect("prove").output;
    let mut phases = Vec::new();
    let out = zkinfer_prover::prove_consuming(pk, &x, &mut |p| phases.push(p.to_string()))
        .expect("prove_consuming");
    assert_eq!(out.output, reference);
    assert!(phases.iter().any(|p| p.contains("weight")), "{phases:?}");
    verify(&vk, &x, &out.output, &out.proof).expect("verifies");
}

/// Over 2^20 weights that would stack mostly to padding: the fast mode
/// commits them as two WHIR instances, and every part is bound.
#[test]
fn split_weight_commitment_proves_and_binds_every_part() {
    use zkinfer_prover::CommitmentMode;
    let widths = [1024, 1024, 256, 10];
    let pk = keys(&widths, 5);
    assert_eq!(pk.vk.weight_commitment.roots.len(), 2, "weights split");
    let x = input(widths[0], 5);
    let out = prove(&pk, &x).expect("prove");
    verify(&pk.vk, &x, &out.output, &out.proof).expect("honest proof verifies");

    // Each part's root, and the parts swapped.
    for part in 0..2 {
        let mut vk = pk.vk.clone();
        vk.weight_commitment.roots[part][0] ^= 1;
        assert!(verify(&vk, &x, &out.output, &out.proof).is_err());
    }
    let mut vk = pk.vk.clone();
    vk.weight_commitment.roots.swap(0, 1);
    assert!(verify(&vk, &x, &out.output, &out.proof).is_err());
    // The same model committed as one instance (compact mode) is another model.
    let compact =
        zkinfer_prover::setup_with_mode(mlp(&widths, 5), CommitmentMode::Compact).expect("setup");
    assert_eq!(compact.vk.weight_commitment.roots.len(), 1);
    assert_ne!(compact.vk.model_id(), pk.vk.model_id());
    assert!(verify(&compact.vk, &x, &out.output, &out.proof).is_err());

    // Flipped bytes across the weight opening (both WHIR proofs).
    let bytes = out.proof.to_bytes();
    let (_, range) = Proof::section_ranges(&bytes)
        .expect("sections")
        .into_iter()
        .find(|(name, _)| name == "weight opening")
        .expect("weight opening section");
    let step = (range.len() / 48).max(1);
    for pos in range.clone().step_by(step).chain([range.end - 1]) {
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        let accepted = match Proof::from_bytes(&b) {
            Err(_) => false,
            Ok(p) => verify(&pk.vk, &x, &out.output, &p).is_ok(),
        };
        assert!(!accepted, "flipped weight-opening byte {pos} was accepted");
    }
}

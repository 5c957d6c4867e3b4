//! Elementwise `Mul` of two activations (a Hadamard-product sumcheck, the
//! requantization after it): completeness on awkward widths and the tamper
//! matrix of its message.

use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::{VerifyError, EF};
use zkinfer_prover::proof::{LayerProof, Proof};
use zkinfer_prover::synthetic::{gated_mlp, input};
use zkinfer_prover::{prove, setup, verify, ProvingKey};

fn proven(n_in: usize, hidden: usize, n_out: usize, seed: u64) -> (ProvingKey, Vec<i64>) {
    let model = gated_mlp(n_in, hidden, n_out, seed);
    assert!(
        model.ops.iter().any(|op| op.name() == "Mul"),
        "the model multiplies two activations"
    );
    let pk = setup(model, None).expect("setup");
    (pk, input(n_in, seed))
}

#[test]
fn gated_mlps_prove_and_verify() {
    for (n_in, hidden, n_out, seed) in [(7, 5, 3, 1), (16, 33, 4, 2), (1, 1, 1, 3)] {
        let (pk, x) = proven(n_in, hidden, n_out, seed);
        let out = prove(&pk, &x).expect("prove");
        let verified = verify(&pk.vk, &x, &out.output, &out.proof).expect("verifies");
        assert_eq!(verified.output_int, out.output);
        let back = Proof::from_bytes(&out.proof.to_bytes()).expect("decode");
        verify(&pk.vk, &x, &out.output, &back).expect("decoded proof verifies");
    }
}

#[test]
fn a_tampered_mul_message_or_output_is_rejected() {
    let (pk, x) = proven(9, 6, 3, 4);
    let out = prove(&pk, &x).expect("prove");
    let at = out
        .proof
        .layers
        .iter()
        .position(|l| matches!(l, LayerProof::Mul { .. }))
        .expect("a Mul message");
    let tamper = |f: &dyn Fn(&mut LayerProof)| {
        let mut p = out.proof.clone();
        f(&mut p.layers[at]);
        verify(&pk.vk, &x, &out.output, &p)
    };
    type Edit<'a> = (&'a str, &'a dyn Fn(&mut LayerProof));
    let edits: [Edit; 3] = [
        ("a(r)", &|l| {
            if let LayerProof::Mul { a_eval, .. } = l {
                *a_eval += EF::ONE;
            }
        }),
        ("b(r)", &|l| {
            if let LayerProof::Mul { b_eval, .. } = l {
                *b_eval += EF::ONE;
            }
        }),
        ("a round polynomial", &|l| {
            if let LayerProof::Mul { sumcheck, .. } = l {
                sumcheck.round_polys[0][1] += EF::ONE;
            }
        }),
    ];
    for (what, edit) in edits {
        match tamper(edit) {
            Err(VerifyError::Sumcheck(_)) => {}
            other => panic!("a changed {what} gave {other:?}"),
        }
    }
    let mut wrong = out.output.clone();
    wrong[0] += 1;
    assert!(
        verify(&pk.vk, &x, &wrong, &out.proof).is_err(),
        "another output verifies"
    );
}

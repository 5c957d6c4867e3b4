//! `Select` (data movement by a public index map, proven by one linear
//! sumcheck): completeness for one sample and a stacked batch, and the
//! tamper matrix of its message.

use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::{VerifyError, EF};
use zkinfer_prover::proof::{LayerProof, Proof};
use zkinfer_prover::synthetic::{input, select_mlp};
use zkinfer_prover::{prove, setup, verify, ProvingKey};

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

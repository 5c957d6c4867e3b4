//! The public statement and the start of every transcript.
//!
//! Fiat–Shamir binds everything public before the first challenge: the
//! protocol version, the model id (digest of structure, quantization, weight
//! commitment and commitment parameters), the sample count, the quantized
//! input and output.

use zkinfer_protocol::field::f_from_i64;
use zkinfer_protocol::Transcript;

use crate::keys::VerifyingKey;
use crate::proof::PROOF_FORMAT_VERSION;

pub fn start_transcript(vk: &VerifyingKey, input: &[i64], output: &[i64]) -> Transcript {
    let mut t = Transcript::new(b"zkinfer-inference-proof");
    t.absorb_u64(PROOF_FORMAT_VERSION as u64);
    t.label(b"model-id");
    t.absorb_bytes(&vk.model_id());
    // The sample count: part of the statement, not of the model id, when the
    // batch axis is symbolic.
    t.label(b"batch");
    t.absorb_u64(vk.structure.batch as u64);
    t.label(b"public-input");
    let input: Vec<_> = input.iter().map(|&v| f_from_i64(v)).collect();
    t.absorb_fs(&input);
    t.label(b"public-output");
    let output: Vec<_> = output.iter().map(|&v| f_from_i64(v)).collect();
    t.absorb_fs(&output);
    t
}

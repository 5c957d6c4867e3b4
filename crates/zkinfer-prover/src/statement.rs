//! The public statement and the start of every transcript.
//!
//! Fiat–Shamir binds everything public before the first challenge: the
//! protocol version, the model id (digest of structure, quantization, weight
//! commitment and commitment parameters), the sample count, the quantized
//! input and output (each by its count and a BLAKE3 digest).

use zkinfer_protocol::field::{f_from_i64, PrimeField64};
use zkinfer_protocol::Transcript;

use crate::keys::VerifyingKey;
use crate::proof::PROOF_FORMAT_VERSION;
use crate::zk::Visibility;

/// `model_id` is `vk.model_id()`, computed once by the caller (it hashes
/// the whole key).
pub fn start_transcript(
    vk: &VerifyingKey,
    model_id: &[u8; 32],
    input: &[i64],
    output: &[i64],
) -> Transcript {
    let mut t = Transcript::new(b"zkinfer-inference-proof");
    t.absorb_u64(PROOF_FORMAT_VERSION as u64);
    t.label(b"model-id");
    t.absorb_bytes(model_id);
    // The sample count: part of the statement, not of the model id, when the
    // batch axis is symbolic.
    t.label(b"batch");
    t.absorb_u64(vk.structure.batch as u64);
    t.label(b"public-input");
    absorb_values(&mut t, input);
    t.label(b"public-output");
    absorb_values(&mut t, output);
    t
}

/// The transcript of a zero-knowledge proof: the same public statement,
/// then what it hides (`visibility`); a private input is absent (`None`),
/// not absorbed.
pub fn start_zk_transcript(
    vk: &VerifyingKey,
    model_id: &[u8; 32],
    visibility: Visibility,
    input: Option<&[i64]>,
    output: &[i64],
) -> Transcript {
    let mut t = Transcript::new(b"zkinfer-zero-knowledge-proof");
    t.absorb_u64(PROOF_FORMAT_VERSION as u64);
    t.label(b"model-id");
    t.absorb_bytes(model_id);
    t.label(b"batch");
    t.absorb_u64(vk.structure.batch as u64);
    t.label(b"visibility");
    t.absorb_u64(visibility.code());
    match input {
        Some(input) => {
            t.label(b"public-input");
            absorb_values(&mut t, input);
        }
        None => t.label(b"private-input"),
    }
    t.label(b"public-output");
    absorb_values(&mut t, output);
    t
}

/// Binds public integers by their count and a BLAKE3 digest of their
/// canonical field encodings: one pass of a fast hash instead of one
/// challenger observation per value (a language model's logits are
/// millions of values), and collision resistance binds them the same.
fn absorb_values(t: &mut Transcript, values: &[i64]) {
    t.absorb_u64(values.len() as u64);
    let mut h = blake3::Hasher::new();
    for chunk in values.chunks(1 << 12) {
        let bytes: Vec<u8> = chunk
            .iter()
            .flat_map(|&v| f_from_i64(v).as_canonical_u64().to_le_bytes())
            .collect();
        h.update(&bytes);
    }
    t.absorb_bytes(h.finalize().as_bytes());
}

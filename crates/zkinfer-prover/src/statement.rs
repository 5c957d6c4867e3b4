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
/// not absorbed; a committed input or output by its digest (`Err` for
/// the output).
pub fn start_zk_transcript(
    vk: &VerifyingKey,
    model_id: &[u8; 32],
    visibility: Visibility,
    input: Option<&[i64]>,
    input_digest: Option<&[u8; 32]>,
    output: Result<&[i64], &[u8; 32]>,
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
    if let Some(d) = input_digest {
        t.label(b"committed-input-digest");
        t.absorb_bytes(d);
    }
    match output {
        Ok(output) => {
            t.label(b"public-output");
            absorb_values(&mut t, output);
        }
        Err(digest) => {
            t.label(b"committed-output-digest");
            t.absorb_bytes(digest);
        }
    }
    t
}

/// Binds public integers by their count and a BLAKE3 digest of their
/// canonical field encodings: one pass of a fast hash instead of one
/// challenger observation per value (a language model's logits are
/// millions of values), and collision resistance binds them the same.
fn absorb_values(t: &mut Transcript, values: &[i64]) {
    t.absorb_u64(values.len() as u64);
    t.absorb_bytes(&values_digest(values));
}

/// BLAKE3 of the values' canonical field encodings (8 bytes each, little-endian).
fn values_digest(values: &[i64]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    // Encoded into one reused buffer, a plain loop per value (collecting
    // each chunk's bytes cost as much as hashing them).
    const CHUNK: usize = 1 << 12;
    let mut bytes = [0u8; 8 * CHUNK];
    for chunk in values.chunks(CHUNK) {
        for (out, &v) in bytes.chunks_exact_mut(8).zip(chunk) {
            out.copy_from_slice(&f_from_i64(v).as_canonical_u64().to_le_bytes());
        }
        h.update(&bytes[..8 * chunk.len()]);
    }
    *h.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_digest_hashes_canonical_encodings() {
        let values: Vec<i64> = (0..10_000i64)
            .map(|k| (k * 7919 - 30_000) * if k % 5 == 0 { 1 << 40 } else { 1 })
            .chain([i64::MIN, i64::MAX, -1, 0])
            .collect();
        for n in [0, 1, 4096, 4097, values.len()] {
            let bytes: Vec<u8> = values[..n]
                .iter()
                .flat_map(|&v| f_from_i64(v).as_canonical_u64().to_le_bytes())
                .collect();
            assert_eq!(
                values_digest(&values[..n]),
                *blake3::hash(&bytes).as_bytes()
            );
        }
    }
}

//! A committed input or output: private, and bound to a published digest.
//!
//! The tensor's `W = [x; R]` (as for a private input) goes into a hiding
//! commitment of its own instead of the proof's, and the proof publishes
//! that commitment; its digest ([`input_digest`], [`output_digest`]) is the
//! statement's "which input" ("which output"). Both the mask `R` and the commitment's randomness derive
//! from a secret 256-bit seed the prover keeps ([`InputSeed`]), so the
//! commitment is a deterministic function of the model, the input and the
//! seed: a commit-reveal, where revealing the input and the seed lets
//! anyone recompute the digest ([`committed_input_digest`]), and the digest
//! can be published before the proof is made.
//!
//! p3's HVZK-WHIR hides one opening only: a digest (a seed) serves **one**
//! proof. Proving again with the same seed would open the same commitment
//! twice; the CLI draws a fresh seed per proof.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use zkinfer_model::ir::QuantModel;
use zkinfer_protocol::field::{random_f, F};
use zkinfer_protocol::pcs::{
    CommitmentScheme, HidingCommitment, HidingData, HidingParams, HidingPcs,
};
use zkinfer_protocol::sumcheck::zk::masked_eval::EvalMask;

use super::plan::{MaskedW, ZkPlan};
use super::Visibility;
use crate::error::ProveError;
use crate::layout::Layout;

/// The secret seed a committed input's commitment derives from.
pub type InputSeed = [u8; 32];

/// A tensor's own commitment, with what the prover needs to open it.
pub(crate) struct InputCommitment {
    pub pcs: HidingPcs,
    pub commitment: HidingCommitment,
    pub data: HidingData,
    /// `R` of the tensor's `W`.
    pub r: Vec<F>,
}

/// Commits the padded tensor `x` as `W` (shape `w`) from `seed`.
pub(crate) fn commit(
    w: &MaskedW,
    x: &[F],
    seed: &InputSeed,
) -> Result<InputCommitment, ProveError> {
    let mut rng = StdRng::from_seed(*seed);
    let r: Vec<F> = (0..1usize << w.head_bits)
        .map(|_| random_f(&mut rng))
        .collect();
    let mut pcs_seed = [0u8; 32];
    rng.fill_bytes(&mut pcs_seed);
    let pcs = HidingPcs::with_secret_seed(HidingParams::default(), pcs_seed);
    let table = EvalMask::from_table(w.num_vars, r.clone()).committed_table(x);
    let (commitment, data) = pcs.commit(&[table])?;
    Ok(InputCommitment {
        pcs,
        commitment,
        data,
        r,
    })
}

/// The published digest of a committed input's commitment: BLAKE3 over its
/// root and sizes, under its own domain.
pub fn input_digest(c: &HidingCommitment) -> [u8; 32] {
    digest(b"zkinfer-committed-input-v1", c)
}

/// [`input_digest`] for a committed output (another domain: an output's
/// digest is never taken for an input's).
pub fn output_digest(c: &HidingCommitment) -> [u8; 32] {
    digest(b"zkinfer-committed-output-v1", c)
}

fn digest(domain: &[u8], c: &HidingCommitment) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(domain);
    h.update(&c.root);
    h.update(&(c.poly_num_vars.len() as u64).to_le_bytes());
    for &n in &c.poly_num_vars {
        h.update(&(n as u64).to_le_bytes());
    }
    *h.finalize().as_bytes()
}

/// The digest a committed-input proof of `model` on `input` (quantized,
/// one statement's samples) with `seed` publishes: the reveal check. The
/// same copies as `prove_zk_copies` are committed.
pub fn committed_input_digest(
    model: &QuantModel,
    input: &[i64],
    seed: &InputSeed,
) -> Result<[u8; 32], ProveError> {
    let visibility = Visibility::COMMITTED_INPUT;
    let copies = super::copies_for(model, visibility)?;
    let model = model
        .with_batch(model.batch * copies)
        .map_err(|e| ProveError::Model(e.to_string()))?;
    let input = input.repeat(copies);
    let layout = Layout::new_zk(&model)?;
    let plan = ZkPlan::new(&model, &layout, visibility)?;
    let w = plan.input.expect("a committed input has a W");
    if input.len() != model.tensors[model.input].len() * model.batch {
        return Err(ProveError::Inference(format!(
            "the input has {} values, the model takes {}",
            input.len(),
            model.tensors[model.input].len() * model.batch
        )));
    }
    let x = layout.arrange(model.input, &input);
    Ok(input_digest(&commit(&w, &x, seed)?.commitment))
}

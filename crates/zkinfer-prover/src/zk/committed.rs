//! A committed input or output: private, and bound to a published digest.
//!
//! The tensor's `W = [x; R]` (as for a private input) goes into a hiding
//! commitment of its own instead of the proof's, and the proof publishes
//! that commitment; its digest ([`input_digest`], [`output_digest`]) is the
//! statement's "which input" ("which output"). Both the mask `R` and the commitment's randomness derive
//! from a secret 256-bit seed the prover keeps ([`InputSeed`]), so the
//! commitment is a deterministic function of the model, the input and the
//! seed: a commit-reveal, where revealing the input and the seed lets
//! anyone recompute the digest ([`committed_input_digest`],
//! [`committed_output_digest`]), and the digest can be published before
//! the proof is made.
//!
//! p3's HVZK-WHIR hides one opening only: a digest (a seed) serves **one**
//! proof. Proving again with the same seed would open the same commitment
//! twice; the CLI draws a fresh seed per proof.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use zkinfer_model::ir::{QuantModel, TensorId};
use zkinfer_protocol::field::{random_f, F};
use zkinfer_protocol::pcs::{
    CommitmentScheme, HidingCommitment, HidingData, HidingParams, HidingPcs,
};
use zkinfer_protocol::sumcheck::zk::masked_eval::EvalMask;

use super::plan::{MaskedW, ZkPlan};
use super::{InputVisibility, OutputVisibility, Visibility};
use crate::error::ProveError;
use crate::layout::Layout;

/// The secret seed a committed input's (or output's) commitment derives
/// from.
pub type InputSeed = [u8; 32];

/// The seeds of a proof's committed input and output; `None` draws a fresh
/// one from the prover's generator. A given seed lets the digest be
/// published before the proof; either way one seed serves one proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitSeeds {
    pub input: Option<InputSeed>,
    pub output: Option<InputSeed>,
}

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
    let pcs = HidingPcs::with_secret_seed(own_params(), pcs_seed);
    let table = EvalMask::from_table(w.num_vars, r.clone()).committed_table(x);
    let (commitment, data) = pcs.commit(&[table])?;
    Ok(InputCommitment {
        pcs,
        commitment,
        data,
        r,
    })
}

/// A committed tensor's own commitment's parameters: unique decoding, whose
/// list of one costs the outer checks nothing (in the Johnson regime its
/// list took char_gpt's committed-input statement to 98.1 bits); the
/// commitment is small, so its extra queries are cheap.
pub(crate) fn own_params() -> HidingParams {
    HidingParams::unique()
}

/// The transcript label before a committed tensor's own opening (`what`:
/// `input` or `output`), which follows the proof's.
pub(crate) fn opening_label(what: &str) -> String {
    format!("committed-{what}-opening")
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
    let at = Copies::of(model, Visibility::COMMITTED_INPUT)?;
    let x = at.arrange(model.input, input, "input")?;
    let w = at.plan.input.expect("a committed input has a W");
    Ok(input_digest(&commit(&w, &x, seed)?.commitment))
}

/// The digest a committed-output proof of `model` publishes for `output`
/// (quantized, one statement's samples: the output file's `output_int`)
/// committed with `seed`, its input stated as `input`: the reveal check.
/// The input's visibility matters only through the copies a small model
/// proves, which it can change.
pub fn committed_output_digest(
    model: &QuantModel,
    output: &[i64],
    input: InputVisibility,
    seed: &InputSeed,
) -> Result<[u8; 32], ProveError> {
    let visibility = Visibility {
        input,
        output: OutputVisibility::Committed,
    };
    let at = Copies::of(model, visibility)?;
    let y = at.arrange(model.output, output, "output")?;
    let w = at.plan.output.expect("a committed output has a W");
    Ok(output_digest(&commit(&w, &y, seed)?.commitment))
}

/// A statement as `prove_zk_copies` proves it: the model over its copies,
/// its zero-knowledge layout and plan.
struct Copies {
    copies: usize,
    model: QuantModel,
    layout: Layout,
    plan: ZkPlan,
}

impl Copies {
    fn of(model: &QuantModel, visibility: Visibility) -> Result<Self, ProveError> {
        let copies = super::copies_for(model, visibility)?;
        let model = model
            .with_batch(model.batch * copies)
            .map_err(|e| ProveError::Model(e.to_string()))?;
        let layout = Layout::new_zk(&model)?;
        let plan = ZkPlan::new(&model, &layout, visibility)?;
        Ok(Self {
            copies,
            model,
            layout,
            plan,
        })
    }

    /// Tensor `t`'s `values` (one copy's) repeated over the copies and
    /// arranged as committed; `what` names it when the length is wrong.
    fn arrange(&self, t: TensorId, values: &[i64], what: &str) -> Result<Vec<F>, ProveError> {
        let per_copy = self.model.tensors[t].len() * self.model.batch / self.copies;
        if values.len() != per_copy {
            return Err(ProveError::Inference(format!(
                "the {what} has {} values, the model's {what} has {per_copy}",
                values.len()
            )));
        }
        Ok(self.layout.arrange(t, &values.repeat(self.copies)))
    }
}

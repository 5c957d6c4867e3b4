//! The zero-knowledge verifier: replays [`super::prove_zk`]'s transcript
//! and checks every masked step, the lookups, and both openings.

use zkinfer_protocol::mle::evaluate_base;
use zkinfer_protocol::pcs::{
    Claim, CommitmentScheme, HidingCommitment, HidingOpening, HidingParams, HidingPcs, Pcs,
};
use zkinfer_protocol::{Transcript, VerifyError};

use super::committed::{input_digest, opening_label, output_digest};
use super::plan::{MaskedW, ZkPlan};
use super::prover::{empty_activation_commitment, split_own_claims};
use super::{lookups, InputVisibility, OutputVisibility, ZkBook, ZkVerifierCtx};
use crate::keys::{hex, VerifyingKey};
use crate::layout::Layout;
use crate::ops::LayerProofs;
use crate::proof::Proof;
use crate::statement::start_zk_transcript;
use crate::verifier::{check_statement, dequantize_output, VerifiedOutput};

fn malformed(msg: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(msg.into())
}

/// What the verifier knows of the input.
#[derive(Clone, Copy, Debug)]
pub enum InputStatement<'a> {
    /// The input itself.
    Public(&'a [i64]),
    /// Nothing: some input within its bound.
    Private,
    /// The digest of its commitment (`zk::input_digest`), published with
    /// the proof or before it.
    Committed(&'a [u8; 32]),
}

/// Accepts iff the zero-knowledge `proof` shows that the model of `vk`
/// maps an input — `input` when the proof's input is public, a hidden one
/// (within the input's bound) when it is private, `input` then `None` — to
/// `output`. A committed input needs [`verify_zk_with`] and its digest.
pub fn verify_zk(
    vk: &VerifyingKey,
    input: Option<&[i64]>,
    output: &[i64],
    proof: &Proof,
) -> Result<VerifiedOutput, VerifyError> {
    let statement = input.map_or(InputStatement::Private, InputStatement::Public);
    verify_zk_with(vk, statement, output, proof)
}

/// What the verifier knows of the output.
#[derive(Clone, Copy, Debug)]
pub enum OutputStatement<'a> {
    /// The output itself.
    Public(&'a [i64]),
    /// The digest of its commitment (`zk::output_digest`).
    Committed(&'a [u8; 32]),
}

/// [`verify_zk`] for any input statement and a public output.
pub fn verify_zk_with(
    vk: &VerifyingKey,
    statement: InputStatement<'_>,
    output: &[i64],
    proof: &Proof,
) -> Result<VerifiedOutput, VerifyError> {
    verify_zk_statement(vk, statement, OutputStatement::Public(output), proof)
}

/// [`verify_zk`] for any statement: the proof's visibility must be the
/// statement's. A committed output's [`VerifiedOutput`] has no values.
pub fn verify_zk_statement(
    vk: &VerifyingKey,
    statement: InputStatement<'_>,
    output: OutputStatement<'_>,
    proof: &Proof,
) -> Result<VerifiedOutput, VerifyError> {
    let zk = proof
        .zk
        .as_ref()
        .ok_or_else(|| malformed("not a zero-knowledge proof"))?;
    let refuse = |m: &str| Err(VerifyError::Statement(m.into()));
    let (input, digest) = match (zk.visibility.input, statement) {
        (InputVisibility::Public, InputStatement::Public(x)) => (Some(x), None),
        (InputVisibility::Private, InputStatement::Private) => (None, None),
        (InputVisibility::Committed, InputStatement::Committed(d)) => (None, Some(d)),
        (InputVisibility::Public, _) => {
            return refuse("this proof's input is public: verifying it needs the input")
        }
        (InputVisibility::Private, _) => {
            return refuse(
                "this proof's input is private: the verifier reads neither an input nor a digest",
            )
        }
        (InputVisibility::Committed, _) => return refuse(
            "this proof's input is committed: verifying it needs the input's digest (and no input)",
        ),
    };
    let output = match (zk.visibility.output, output) {
        (OutputVisibility::Public, OutputStatement::Public(y)) => Ok(y),
        (OutputVisibility::Committed, OutputStatement::Committed(d)) => Err(d),
        (OutputVisibility::Public, _) => {
            return refuse("this proof's output is public: verifying it needs the output")
        }
        (OutputVisibility::Committed, _) => {
            return refuse(
                "this proof's output is committed: verifying it needs the output's digest",
            )
        }
    };
    // A statement of copies: the key for them, the public values repeated.
    let copies = zk.copies;
    if !(1..=64).contains(&copies) || !copies.is_power_of_two() {
        return Err(malformed("copies must be a power of two up to 64"));
    }
    if copies > 1 {
        let big = vk
            .for_batch(vk.structure.batch * copies)
            .map_err(|e| VerifyError::Statement(e.to_string()))?;
        let input = input.map(|x| x.repeat(copies));
        let repeated = output.map(|y| y.repeat(copies));
        let verified = verify_statement(
            &big,
            input.as_deref(),
            digest,
            repeated.as_deref().map_err(|d| *d),
            proof,
        )?;
        let values = output.unwrap_or_default();
        return Ok(VerifiedOutput {
            output_int: values.to_vec(),
            output: dequantize_output(vk, values),
            ..verified
        });
    }
    verify_statement(vk, input, digest, output, proof)
}

/// A committed input's or output's own commitment (`what`), sent iff the
/// statement gives its digest: of the plan's shape `w`, and hashing to the
/// given digest under `digest_of` (the tensor's own domain).
fn own_commitment<'p>(
    what: &str,
    given: Option<&[u8; 32]>,
    sent: &'p Option<(HidingCommitment, HidingOpening)>,
    w: Option<MaskedW>,
    digest_of: fn(&HidingCommitment) -> [u8; 32],
) -> Result<Option<&'p (HidingCommitment, HidingOpening)>, VerifyError> {
    let (d, own) = match (given, sent) {
        (None, None) => return Ok(None),
        (Some(d), Some(own)) => (d, own),
        _ => {
            return Err(malformed(format!(
                "a committed {what}'s commitment is present iff the {what} is committed"
            )))
        }
    };
    let w = w.ok_or_else(|| malformed(format!("the plan has no committed {what}")))?;
    if own.0.poly_num_vars != [w.num_vars + 1] {
        return Err(malformed(format!(
            "the committed {what}'s commitment has the wrong layout"
        )));
    }
    if digest_of(&own.0) != *d {
        return Err(VerifyError::Statement(format!(
            "the committed {what}'s digest is not the given one"
        )));
    }
    Ok(Some(own))
}

/// Verifies a committed input's or output's (`what`) own opening at its
/// `claims`, after the proof's; claims on one that is not there are
/// refused.
fn verify_own(
    what: &str,
    own: Option<&(HidingCommitment, HidingOpening)>,
    claims: &[Claim],
    tr: &mut Transcript,
) -> Result<(), VerifyError> {
    let Some((c, o)) = own else {
        if claims.is_empty() {
            return Ok(());
        }
        return Err(malformed(format!(
            "claims on a committed {what} that is not there"
        )));
    };
    tr.label(opening_label(what).as_bytes());
    HidingPcs::new(super::committed::own_params())
        .verify(c, claims, o, tr)
        .map_err(|e| VerifyError::Opening(format!("committed {what}: {e}")))
}

fn verify_statement(
    vk: &VerifyingKey,
    input: Option<&[i64]>,
    digest: Option<&[u8; 32]>,
    output: Result<&[i64], &[u8; 32]>,
    proof: &Proof,
) -> Result<VerifiedOutput, VerifyError> {
    let zk = proof.zk.as_ref().expect("checked by verify_zk");
    let model = &vk.structure;
    let layout = Layout::new_zk(model).map_err(|e| malformed(format!("verifying key: {e}")))?;
    vk.check_commitment(&layout)
        .map_err(|e| malformed(format!("verifying key: {e}")))?;
    let model_id = vk.model_id();
    if proof.model_id != model_id {
        return Err(malformed(format!(
            "the proof is for model {}, the verifying key is for model {}",
            hex(&proof.model_id),
            vk.model_id_hex()
        )));
    }
    let plan = ZkPlan::new(model, &layout, zk.visibility)
        .map_err(|e| VerifyError::Statement(e.to_string()))?;
    let security_bits = crate::security::zk_total_bits(vk, &layout, &plan);
    if security_bits < crate::keys::TARGET_BITS {
        return Err(VerifyError::Statement(format!(
            "a proof of this statement computes {security_bits:.1} bits of soundness, below the {} bits zkinfer requires",
            crate::keys::TARGET_BITS
        )));
    }
    check_statement(vk, input, output.ok())?;
    let (empty_commitment, empty_opening) =
        empty_activation_commitment().map_err(|e| malformed(e.to_string()))?;
    if proof.activation_commitment != empty_commitment
        || proof.activation_opening != empty_opening
        || proof.lookups != Default::default()
    {
        return Err(malformed(
            "a zero-knowledge proof commits nothing in the clear",
        ));
    }
    if zk.commitment.poly_num_vars != plan.poly_num_vars {
        return Err(malformed("the hiding commitment has the wrong layout"));
    }
    if vk.weight_commitment.poly_num_vars != layout.weight_num_vars {
        return Err(malformed(
            "verifying key: the weight commitment does not match the model",
        ));
    }
    let input_commitment = own_commitment("input", digest, &zk.input, plan.input, input_digest)?;
    let output_commitment = own_commitment(
        "output",
        output.err(),
        &zk.output,
        plan.output,
        output_digest,
    )?;
    let hiding = HidingPcs::new(HidingParams::default());
    let mut tr = start_zk_transcript(vk, &model_id, zk.visibility, input, digest, output);
    hiding.absorb_commitment(&zk.commitment, &mut tr);

    let mut book = ZkBook::new(model.tensors.len());
    let lookup_claims = lookups::verify(
        &plan,
        model,
        zk.lookups.as_ref(),
        &zk.lookup_members,
        &mut tr,
    )?;
    book.hiding.extend(lookup_claims);

    if let Ok(output) = output {
        let out_padded = layout.arrange(model.output, output);
        tr.label(b"output-claim");
        let r0 = tr.challenge_efs(layout.num_vars(model.output));
        let v0 = evaluate_base(&out_padded, &r0);
        book.route_public(&plan, &layout, model.output, r0, v0);
    }

    let mut layers = LayerProofs(proof.layers.iter());
    let mut ctx = ZkVerifierCtx {
        layout: &layout,
        plan: &plan,
        book: &mut book,
        tr: &mut tr,
    };
    if let Some(link) = &plan.output_link {
        link.verify(model, &mut ctx, &mut layers)?;
    }
    for op in layout.ops.iter().rev() {
        op.verify_zk(&mut ctx, &mut layers)?;
    }
    if let Some(r) = &plan.input_range {
        r.verify(model, &mut ctx, &mut layers)?;
    }
    if let Some(c) = &plan.one_hot {
        c.verify(model, &mut ctx, &mut layers)?;
    }
    if layers.0.next().is_some() {
        return Err(malformed("extra layer proofs after the input"));
    }
    if let Some(input) = input {
        let input_padded = layout.arrange(model.input, input);
        for (point, value) in &book.public_input {
            if evaluate_base(&input_padded, point) != *value {
                return Err(VerifyError::Sumcheck(
                    "the proof's claim on the input does not match the given input".into(),
                ));
            }
        }
    } else if !book.public_input.is_empty() {
        return Err(malformed("a claim on a private input left in the clear"));
    }
    if book.pending.iter().any(|c| !c.is_empty()) {
        return Err(malformed("a claim was left unchecked"));
    }
    let n_weight_polys = vk.weight_commitment.poly_num_vars.len();
    if book.weights.iter().any(|c| c.poly >= n_weight_polys) {
        return Err(malformed("weight claims exceed the weight commitment"));
    }
    tr.label(b"weight-opening");
    Pcs::new(vk.pcs_params.clone())
        .verify(
            &vk.weight_commitment,
            &book.weights,
            &proof.weight_opening,
            &mut tr,
        )
        .map_err(|e| VerifyError::Opening(format!("weights: {e}")))?;
    let (main_claims, input_claims, output_claims) =
        split_own_claims(std::mem::take(&mut book.hiding));
    tr.label(b"hiding-opening");
    hiding
        .verify(&zk.commitment, &main_claims, &zk.opening, &mut tr)
        .map_err(|e| VerifyError::Opening(format!("hiding commitment: {e}")))?;
    verify_own("input", input_commitment, &input_claims, &mut tr)?;
    verify_own("output", output_commitment, &output_claims, &mut tr)?;
    Ok(VerifiedOutput {
        model_id: proof.model_id,
        security_bits,
        output_int: output.unwrap_or_default().to_vec(),
        output: dequantize_output(vk, output.unwrap_or_default()),
    })
}

//! The verifier: replays the transcript, checks every lookup and layer proof,
//! the public input and output, and both commitment openings.

use zkinfer_protocol::pcs::{CommitmentScheme, Pcs};
use zkinfer_protocol::VerifyError;

use crate::claims::ClaimBook;
use crate::keys::{activation_params_for, hex, VerifyingKey};
use crate::layout::Layout;
use crate::lookups;
use crate::ops::{LayerProofs, VerifierCtx};
use crate::proof::Proof;
use crate::security::StatementTerms;
use crate::statement::start_transcript;

fn reject(msg: impl Into<String>) -> VerifyError {
    VerifyError::Sumcheck(msg.into())
}

fn malformed(msg: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(msg.into())
}

/// What a successful [`verify`] establishes: the model with id `model_id`
/// maps the given input to `output_int`, whose real values are `output`.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedOutput {
    pub model_id: [u8; 32],
    /// The computed soundness of this statement's proofs, in bits (at least
    /// [`crate::TARGET_BITS`]: `verify` refuses anything below).
    pub security_bits: f64,
    /// The quantized output, as proven.
    pub output_int: Vec<i64>,
    /// [`dequantize_output`] of `output_int`.
    pub output: Vec<f64>,
}

/// The real values of a model's quantized output: the one definition used
/// both to write an output file (prover side) and to check one (verifier
/// side), so that a check can be exact.
///
/// Everything it uses comes from the verifying key (the output tensor's
/// scale, and whether a float softmax follows), so it is bound by the model
/// id: `int · scale` per element (one IEEE-754 multiplication, identical on
/// every platform), then the float softmax if the ONNX graph ended in one
/// (`QuantModel::dequantize_output`).
pub fn dequantize_output(vk: &VerifyingKey, output_int: &[i64]) -> Vec<f64> {
    vk.structure.dequantize_output(output_int)
}

fn statement(msg: impl Into<String>) -> VerifyError {
    VerifyError::Statement(msg.into())
}

/// The public statement's preconditions: lengths, and every value within its
/// tensor's static bound. The input bound is what the no-wrap argument of
/// every layer assumes (`QuantModel::validate` derives the other bounds from
/// it); a value beyond the output bound is no output the model can produce,
/// and would no longer be unique as a field element.
pub(crate) fn check_statement(
    vk: &VerifyingKey,
    input: Option<&[i64]>,
    output: Option<&[i64]>,
) -> Result<(), VerifyError> {
    let model = &vk.structure;
    let public = [
        input.map(|input| ("input", model.input, input, "expects")),
        output.map(|output| ("output", model.output, output, "produces")),
    ];
    for (what, t, values, verb) in public.into_iter().flatten() {
        let info = &model.tensors[t];
        let expected = model.batch * info.len();
        if values.len() != expected {
            let samples = if model.batch > 1 {
                format!(" ({} samples of {})", model.batch, info.len())
            } else {
                String::new()
            };
            return Err(statement(format!(
                "the {what} has {} values, the model {verb} {expected}{samples}",
                values.len(),
            )));
        }
        if let Some((k, v)) = values
            .iter()
            .enumerate()
            .find(|(_, v)| v.unsigned_abs() > info.bound.unsigned_abs())
        {
            return Err(statement(format!(
                "{what} value #{k} is {v}, outside the {what} bound [-{b}, {b}] the proof assumes",
                b = info.bound
            )));
        }
    }
    Ok(())
}

/// Accepts iff `proof` shows that the model of `vk` maps `input` to `output`
/// (both quantized integers); returns the verified output, dequantized.
///
/// Rejects, before looking at the proof, an input or output of the wrong
/// length or with a value outside its tensor's bound
/// ([`VerifyError::Statement`]): the quantizer clamps inputs to that bound,
/// and the proofs' no-wrap arguments assume it.
pub fn verify(
    vk: &VerifyingKey,
    input: &[i64],
    output: &[i64],
    proof: &Proof,
) -> Result<VerifiedOutput, VerifyError> {
    if proof.zk.is_some() {
        return crate::zk::verify_zk(vk, Some(input), output, proof);
    }
    let model = &vk.structure;
    let layout = Layout::new(model).map_err(|e| malformed(format!("verifying key: {e}")))?;
    // Its commitment parameters are valid and its stated mode's (checked on
    // load too; a key built in memory may not be).
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
    // The statement's terms once: the activation parameters weigh several
    // candidates' figures, and the chosen one is reported below.
    let terms = StatementTerms::new(vk, &layout);
    let act_params = activation_params_for(vk, &layout, &terms);
    // The statement's own computed soundness (a batch or an accuracy
    // statement has more claims and rows than the one-sample figure `setup`
    // checked): below the target, nothing is "verified".
    let security_bits = terms.report(vk, &layout, &act_params).total_bits;
    if security_bits < crate::keys::TARGET_BITS {
        return Err(statement(format!(
            "a proof of this statement computes {security_bits:.1} bits of soundness, below the {} bits zkinfer requires (`zkinfer security`)",
            crate::keys::TARGET_BITS
        )));
    }
    check_statement(vk, Some(input), Some(output))?;
    if proof.activation_commitment.poly_num_vars != layout.activation_num_vars {
        return Err(malformed("activation commitment has the wrong layout"));
    }
    if vk.weight_commitment.poly_num_vars != layout.weight_num_vars {
        return Err(malformed(
            "verifying key: the weight commitment does not match the model",
        ));
    }
    let pcs = Pcs::new(vk.pcs_params.clone());
    let act_pcs = Pcs::new(act_params);
    let mut tr = start_transcript(vk, &model_id, input, output);
    act_pcs.absorb_commitment(&proof.activation_commitment, &mut tr);

    let mut book = ClaimBook::new(model.tensors.len());
    lookups::verify(model, &layout, &proof.lookups, &mut book, &mut tr)?;

    tr.label(b"output-claim");
    let r0 = tr.challenge_efs(layout.num_vars(model.output));
    let v0 = layout.evaluate(model.output, output, &r0);
    book.route(&layout, model.output, r0, v0);

    let mut layers = LayerProofs(proof.layers.iter());
    let mut ctx = VerifierCtx {
        layout: &layout,
        book: &mut book,
        tr: &mut tr,
    };
    for op in layout.ops.iter().rev() {
        op.verify(&mut ctx, &mut layers)?;
    }
    if layers.0.next().is_some() {
        return Err(malformed("extra layer proofs after the input"));
    }
    for (point, value) in &book.input {
        if layout.evaluate(model.input, input, point) != *value {
            return Err(reject(
                "the proof's claim on the input does not match the given input",
            ));
        }
    }
    if book.pending.iter().any(|c| !c.is_empty()) {
        return Err(malformed("a claim was left unchecked"));
    }
    let n_weight_polys = vk.weight_commitment.poly_num_vars.len();
    if book.weights.iter().any(|c| c.poly >= n_weight_polys) {
        return Err(malformed("weight claims exceed the weight commitment"));
    }
    tr.label(b"weight-opening");
    pcs.verify(
        &vk.weight_commitment,
        &book.weights,
        &proof.weight_opening,
        &mut tr,
    )
    .map_err(|e| VerifyError::Opening(format!("weights: {e}")))?;
    tr.label(b"activation-opening");
    act_pcs
        .verify(
            &proof.activation_commitment,
            &book.activation,
            &proof.activation_opening,
            &mut tr,
        )
        .map_err(|e| VerifyError::Opening(format!("activations: {e}")))?;
    Ok(VerifiedOutput {
        model_id: proof.model_id,
        security_bits,
        output_int: output.to_vec(),
        output: dequantize_output(vk, output),
    })
}

//! The verifier: replays the transcript, checks every lookup and layer proof,
//! the public input and output, and both commitment openings.

use zkinfer_model::ir::QOp;
use zkinfer_protocol::field::f_from_i64;
use zkinfer_protocol::mle::evaluate_base;
use zkinfer_protocol::pcs::{Claim, Pcs};
use zkinfer_protocol::sumcheck;
use zkinfer_protocol::{VerifyError, EF};

use crate::claims::ClaimBook;
use crate::keys::{activation_params, hex, VerifyingKey};
use crate::layout::Layout;
use crate::proof::{LayerProof, Proof};
use crate::prover::batching_coefficients;
use crate::requant::RequantEvals;
use crate::statement::start_transcript;
use crate::{conv, lookups, pool};

fn reject(msg: impl Into<String>) -> VerifyError {
    VerifyError::Sumcheck(msg.into())
}

/// Names the op in an error from an op's own verifier.
fn at_op(i: usize, what: &str, e: VerifyError) -> VerifyError {
    match e {
        VerifyError::Malformed(m) => malformed(format!("op #{i} ({what}): {m}")),
        VerifyError::Sumcheck(m) => reject(format!("op #{i} ({what}): {m}")),
        other => other,
    }
}

fn malformed(msg: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(msg.into())
}

/// What a successful [`verify`] establishes: the model with id `model_id`
/// maps the given input to `output_int`, whose real values are `output`.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedOutput {
    pub model_id: [u8; 32],
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
fn check_statement(vk: &VerifyingKey, input: &[i64], output: &[i64]) -> Result<(), VerifyError> {
    let model = &vk.structure;
    for (what, t, values, verb) in [
        ("input", model.input, input, "expects"),
        ("output", model.output, output, "produces"),
    ] {
        let info = &model.tensors[t];
        if values.len() != info.len() {
            return Err(statement(format!(
                "the {what} has {} values, the model {verb} {}",
                values.len(),
                info.len()
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
    let model = &vk.structure;
    let layout = Layout::new(model).map_err(|e| malformed(format!("verifying key: {e}")))?;
    if proof.model_id != vk.model_id() {
        return Err(malformed(format!(
            "the proof is for model {}, the verifying key is for model {}",
            hex(&proof.model_id),
            vk.model_id_hex()
        )));
    }
    check_statement(vk, input, output)?;
    if proof.activation_commitment.poly_num_vars != layout.activation_num_vars {
        return Err(malformed("activation commitment has the wrong layout"));
    }
    if vk.weight_commitment.poly_num_vars != layout.weight_num_vars {
        return Err(malformed(
            "verifying key: the weight commitment does not match the model",
        ));
    }
    let pcs = Pcs::new(vk.pcs_params.clone());
    let act_pcs = Pcs::new(activation_params(vk, &layout));
    let mut tr = start_transcript(vk, input, output);
    proof.activation_commitment.absorb_into(&mut tr);

    let mut book = ClaimBook::new(model.tensors.len());
    lookups::verify(model, &layout, &proof.lookups, &mut book, &mut tr)?;

    let out_padded = layout.arrange(model.output, output);
    tr.label(b"output-claim");
    let r0 = tr.challenge_efs(layout.num_vars(model.output));
    let v0 = evaluate_base(&out_padded, &r0);
    book.route(&layout, model.output, r0, v0);

    let mut layers = proof.layers.iter();
    let mut next_layer = |what: &str| {
        layers
            .next()
            .ok_or_else(|| malformed(format!("layer proofs end before the {what} op")))
    };
    for (i, op) in model.ops.iter().enumerate().rev() {
        match op {
            QOp::Requant {
                input,
                multiplier,
                shift,
                ..
            } => {
                let rl = layout.requants[i]
                    .as_ref()
                    .expect("layout has every requant");
                let LayerProof::Requant {
                    y_eval,
                    excess_evals,
                    limb_evals,
                    split_evals,
                } = next_layer("Requant")?
                else {
                    return Err(malformed(format!("op #{i}: expected a Requant proof")));
                };
                if limb_evals.len() != rl.limb_polys.len()
                    || excess_evals.len() != rl.excess_polys.len()
                    || split_evals.len() != if rl.split.is_some() { 2 } else { 0 }
                {
                    return Err(malformed(format!(
                        "op #{i}: wrong number of limb evaluations"
                    )));
                }
                tr.label(b"requant");
                let z = tr.challenge_efs(layout.num_vars(*input));
                tr.absorb_ef(*y_eval);
                tr.absorb_efs(excess_evals);
                tr.absorb_efs(limb_evals);
                tr.absorb_efs(split_evals);
                if let (Some(sp), QOp::Requant { min, .. }) = (rl.split, op) {
                    let parts = EF::from(f_from_i64(*min))
                        + split_evals[0] * EF::from(crate::layout::pow2(sp.lo_bits))
                        + split_evals[1];
                    if parts != *y_eval {
                        return Err(VerifyError::Lookup(format!(
                            "op #{i} (Requant): the output does not match its clamp parts"
                        )));
                    }
                }
                book.requant(
                    &layout,
                    rl,
                    *input,
                    z,
                    RequantEvals {
                        y: *y_eval,
                        excess: excess_evals,
                        limbs: limb_evals,
                        split: split_evals,
                    },
                    *multiplier,
                    *shift,
                );
            }
            QOp::Dense {
                input, output: out, ..
            } => {
                let claims = book.take_pending(&layout, *out);
                if claims.is_empty() {
                    continue;
                }
                let (w_poly, b_poly) = layout.weighted[i].expect("layout has every dense");
                let LayerProof::Dense {
                    bias_evals,
                    sumcheck: sc,
                    weight_evals,
                    input_eval,
                } = next_layer("Dense")?
                else {
                    return Err(malformed(format!("op #{i}: expected a Dense proof")));
                };
                if bias_evals.len() != claims.len() || weight_evals.len() != claims.len() {
                    return Err(malformed(format!("op #{i}: wrong number of evaluations")));
                }
                tr.label(b"dense");
                let rho = batching_coefficients(&mut tr, claims.len());
                tr.absorb_efs(bias_evals);
                let claimed: EF = claims
                    .iter()
                    .zip(bias_evals)
                    .zip(&rho)
                    .map(|(((_, v), b), r)| *r * (*v - *b))
                    .sum();
                let sub = sumcheck::verify(layout.num_vars(*input), 2, claimed, sc, &mut tr)?;
                tr.absorb_efs(weight_evals);
                tr.absorb_ef(*input_eval);
                let w_comb: EF = weight_evals.iter().zip(&rho).map(|(w, r)| *w * *r).sum();
                if w_comb * *input_eval != sub.expected_eval {
                    return Err(reject(format!(
                        "op #{i} (Dense): the final sumcheck evaluation does not match the claimed weight and input evaluations"
                    )));
                }
                for ((z, _), (&w, &b)) in claims.iter().zip(weight_evals.iter().zip(bias_evals)) {
                    let mut zr = z.clone();
                    zr.extend_from_slice(&sub.point);
                    book.weights.push(Claim {
                        poly: w_poly,
                        point: zr,
                        value: w,
                    });
                    book.weights.push(Claim {
                        poly: b_poly,
                        point: z.clone(),
                        value: b,
                    });
                }
                book.route(&layout, *input, sub.point, *input_eval);
            }
            QOp::Add {
                a,
                b,
                output: out,
                a_mul,
                b_mul,
            } => {
                let claims = book.take_pending(&layout, *out);
                if claims.is_empty() {
                    continue;
                }
                let LayerProof::Add { evals } = next_layer("Add")? else {
                    return Err(malformed(format!("op #{i}: expected an Add proof")));
                };
                if evals.len() != claims.len() {
                    return Err(malformed(format!("op #{i}: wrong number of evaluations")));
                }
                tr.label(b"add");
                let (am, bm) = (EF::from(f_from_i64(*a_mul)), EF::from(f_from_i64(*b_mul)));
                for (&(ea, eb), (z, v)) in evals.iter().zip(&claims) {
                    if am * ea + bm * eb != *v {
                        return Err(reject(format!(
                            "op #{i} (Add): the operand evaluations do not add up to the output claim"
                        )));
                    }
                    tr.absorb_ef(ea);
                    tr.absorb_ef(eb);
                    book.route(&layout, *a, z.clone(), ea);
                    book.route(&layout, *b, z.clone(), eb);
                }
            }
            QOp::Conv2d {
                input, output: out, ..
            } => {
                let claims = book.take_pending(&layout, *out);
                if claims.is_empty() {
                    continue;
                }
                let (w_poly, b_poly) = layout.weighted[i].expect("layout has every conv");
                let win = layout.windows[i].expect("layout has every conv");
                let red = conv::verify(&win, &claims, next_layer("Conv2d")?, &mut tr)
                    .map_err(|e| at_op(i, "Conv2d", e))?;
                book.weight_claims(w_poly, red.weight_claims);
                book.weight_claims(b_poly, red.bias_claims);
                book.route(&layout, *input, red.input_claim.0, red.input_claim.1);
            }
            QOp::SumPool {
                input, output: out, ..
            } => {
                let claims = book.take_pending(&layout, *out);
                if claims.is_empty() {
                    continue;
                }
                let win = layout.windows[i].expect("layout has every pool");
                let (point, value) =
                    pool::verify_sum(&win, &claims, next_layer("SumPool")?, &mut tr)
                        .map_err(|e| at_op(i, "SumPool", e))?;
                book.route(&layout, *input, point, value);
            }
            QOp::MaxPool { input, output, .. } => {
                let win = layout.windows[i].expect("layout has every pool");
                let ml = layout.maxpools[i]
                    .as_ref()
                    .expect("layout has every max pool");
                let red = pool::verify_max(
                    &win,
                    layout.num_vars(*output),
                    next_layer("MaxPool")?,
                    &mut tr,
                )
                .map_err(|e| at_op(i, "MaxPool", e))?;
                book.max_pool(&layout, ml, *input, red);
            }
            QOp::Transpose {
                input,
                output: out,
                perm,
            } => book.transpose(&layout, *input, *out, perm),
            QOp::Lut { .. } | QOp::Reshape { .. } => {}
        }
    }
    if layers.next().is_some() {
        return Err(malformed("extra layer proofs after the input"));
    }
    let input_padded = layout.arrange(model.input, input);
    for (point, value) in &book.input {
        if evaluate_base(&input_padded, point) != *value {
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
        output_int: output.to_vec(),
        output: dequantize_output(vk, output),
    })
}

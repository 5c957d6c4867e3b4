//! The prover: runs the quantized model, commits the lookup witnesses, proves
//! the lookups, walks the ops backwards from the output reducing claims
//! (GKR style), and finally opens both commitments.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use zkinfer_model::ir::QOp;
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::logup;
use zkinfer_protocol::mle::{eq_table, evaluate_base, weighted_row_sum};
use zkinfer_protocol::pcs::{Claim, CommittedData, OpeningCopy, Pcs};
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, EF};

use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::keys::{activation_params, ProvingKey};
use crate::layout::{padded_field, table_for, Layout, TensorKind, EXCESS_BITS};
use crate::proof::{LayerProof, Proof};
use crate::requant::{self, RequantEvals};
use crate::statement::start_transcript;
use crate::{conv, lookups, pool};

/// Where the prover's time went.
#[derive(Clone, Debug, Default)]
pub struct ProveTimings {
    pub inference: Duration,
    pub witness: Duration,
    pub commit: Duration,
    pub lookups: Duration,
    pub layers: Duration,
    pub weight_opening: Duration,
    pub activation_opening: Duration,
}

impl ProveTimings {
    pub fn total(&self) -> Duration {
        self.inference
            + self.witness
            + self.commit
            + self.lookups
            + self.layers
            + self.weight_opening
            + self.activation_opening
    }
}

pub struct ProveOutput {
    pub proof: Proof,
    /// The quantized output the proof binds.
    pub output: Vec<i64>,
    pub timings: ProveTimings,
}

/// Runs the integer model: the values of every tensor.
pub fn run_model(pk: &ProvingKey, input: &[i64]) -> Result<Vec<Vec<i64>>, ProveError> {
    zkinfer_model::eval::evaluate(&pk.model, input)
        .map(|t| t.values)
        .map_err(|e| ProveError::Inference(e.to_string()))
}

/// Proves that the model in `pk` maps `input` (quantized) to the returned output.
pub fn prove(pk: &ProvingKey, input: &[i64]) -> Result<ProveOutput, ProveError> {
    prove_with_progress(pk, input, &mut |_| {})
}

/// [`prove`], reporting each phase's name as it starts (for progress display).
pub fn prove_with_progress(
    pk: &ProvingKey,
    input: &[i64],
    progress: &mut dyn FnMut(&str),
) -> Result<ProveOutput, ProveError> {
    // The weight opening consumes a copy of the committed data (p3-whir takes
    // it by value); make it on another thread while the model runs and the
    // activations are proven (0.33 s at 2^25, otherwise on the critical path).
    std::thread::scope(|s| {
        let copy = pk
            .weight_data
            .as_ref()
            .map(|data| s.spawn(|| data.opening_copy()));
        prove_impl(pk, WeightData::Copying(copy), input, progress)
    })
}

/// Where the weight opening's commitment data comes from.
pub(crate) enum WeightData<'scope> {
    /// The key's own data, not needed afterwards.
    Owned(Box<CommittedData>),
    /// A copy of the key's data being made on another thread (`None`: the key
    /// has no data left).
    Copying(Option<std::thread::ScopedJoinHandle<'scope, OpeningCopy>>),
}

/// One proof from a key that is not needed afterwards: the weight opening
/// takes the commitment data instead of copying it (p3-whir's opening
/// consumes its prover data; the copy is ~40 % of a large model's opening).
pub fn prove_consuming(
    mut pk: ProvingKey,
    input: &[i64],
    progress: &mut dyn FnMut(&str),
) -> Result<ProveOutput, ProveError> {
    match pk.weight_data.take() {
        Some(data) => prove_impl(&pk, WeightData::Owned(Box::new(data)), input, progress),
        None => prove_impl(&pk, WeightData::Copying(None), input, progress),
    }
}

/// The prover's private data: the trace and the committed polynomials
/// derived from it.
pub(crate) struct Witness {
    pub values: Vec<Vec<i64>>,
    pub act_polys: Vec<Vec<F>>,
}

/// The honest witness: the integer model's trace and what it commits.
fn honest_witness(
    pk: &ProvingKey,
    input: &[i64],
    timings: &mut ProveTimings,
) -> Result<Witness, ProveError> {
    let clock = Instant::now();
    let values = run_model(pk, input)?;
    timings.inference = clock.elapsed();
    let clock = Instant::now();
    let mut act_polys = activation_witness(pk, &values, &[])?;
    fill_multiplicities(pk, &mut act_polys)?;
    timings.witness = clock.elapsed();
    Ok(Witness { values, act_polys })
}

fn prove_impl(
    pk: &ProvingKey,
    weight_data: WeightData,
    input: &[i64],
    progress: &mut dyn FnMut(&str),
) -> Result<ProveOutput, ProveError> {
    let mut timings = ProveTimings::default();
    progress("running the quantized model");
    let witness = honest_witness(pk, input, &mut timings)?;
    prove_witness(pk, weight_data, input, witness, timings, progress)
}

/// Proves from a given witness. Everything after the witness is the honest
/// prover's code: the malicious-prover tests (`malicious.rs`) enter here.
pub(crate) fn prove_witness(
    pk: &ProvingKey,
    weight_data: WeightData,
    input: &[i64],
    witness: Witness,
    mut timings: ProveTimings,
    progress: &mut dyn FnMut(&str),
) -> Result<ProveOutput, ProveError> {
    let model = &pk.model;
    let layout = &pk.layout;
    let Witness { values, act_polys } = witness;
    let output = values[model.output].clone();
    let mut tr = start_transcript(&pk.vk, input, &output);

    progress("committing activations");
    let clock = Instant::now();
    let act_pcs = Pcs::new(activation_params(&pk.vk, layout));
    let (act_commitment, act_data) = act_pcs.commit(&act_polys);
    act_commitment.absorb_into(&mut tr);
    timings.commit = clock.elapsed();

    progress("proving lookups");
    let clock = Instant::now();
    let mut book = ClaimBook::new(model.tensors.len());
    let lookups = lookups::prove(model, layout, &act_polys, &mut book, &mut tr);
    timings.lookups = clock.elapsed();

    progress("proving layers");
    let clock = Instant::now();
    let out_padded = layout.arrange(model.output, &output);
    tr.label(b"output-claim");
    let r0 = tr.challenge_efs(layout.num_vars(model.output));
    let v0 = evaluate_base(&out_padded, &r0);
    book.route(layout, model.output, r0, v0);

    // A committed tensor is read from its committed polynomial, padding
    // included; the others are arranged from the trace.
    let padded = |t: usize| match layout.kind(t) {
        (_, TensorKind::Committed { poly }) => act_polys[poly].clone(),
        _ => layout.arrange(t, &values[t]),
    };
    let mut layers = Vec::new();
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
                tr.label(b"requant");
                let z = tr.challenge_efs(layout.num_vars(*input));
                let eval_all = |polys: &[usize]| -> Vec<EF> {
                    polys
                        .iter()
                        .map(|&p| evaluate_base(&act_polys[p], &z))
                        .collect()
                };
                let y_eval = evaluate_base(&act_polys[rl.y_poly], &z);
                let excess_evals = eval_all(&rl.excess_polys);
                let limb_evals = eval_all(&rl.limb_polys);
                let split_evals = rl
                    .split
                    .map_or_else(Vec::new, |sp| eval_all(&[sp.hi_poly, sp.lo_poly]));
                tr.absorb_ef(y_eval);
                tr.absorb_efs(&excess_evals);
                tr.absorb_efs(&limb_evals);
                tr.absorb_efs(&split_evals);
                book.requant(
                    layout,
                    rl,
                    *input,
                    z,
                    RequantEvals {
                        y: y_eval,
                        excess: &excess_evals,
                        limbs: &limb_evals,
                        split: &split_evals,
                    },
                    *multiplier,
                    *shift,
                );
                layers.push(LayerProof::Requant {
                    y_eval,
                    excess_evals,
                    limb_evals,
                    split_evals,
                });
            }
            QOp::Dense {
                input,
                output: out,
                in_dim,
                out_dim,
                bias,
                ..
            } => {
                let claims = book.take_pending(layout, *out);
                if claims.is_empty() {
                    continue;
                }
                let (w_poly, b_poly) = layout.weighted[i].expect("layout has every dense");
                let weights = pk.op_weights[i].as_ref().expect("pk has every dense");
                tr.label(b"dense");
                let rho = batching_coefficients(&mut tr, claims.len());
                let bias_p = padded_field(bias, 0);
                let bias_evals: Vec<EF> = claims
                    .iter()
                    .map(|(z, _)| evaluate_base(&bias_p, z))
                    .collect();
                tr.absorb_efs(&bias_evals);
                // Per-claim rows of W bound at z_i (in the input's arrangement),
                // then their rho-combination.
                let per_claim: Vec<Vec<EF>> = claims
                    .iter()
                    .map(|(z, _)| {
                        let v = weighted_row_sum(weights, *out_dim, *in_dim, &eq_table(z));
                        layout.shapes[*input].arrange(&v, EF::ZERO)
                    })
                    .collect();
                let mut combined = per_claim[0].clone();
                for (v, r) in per_claim.iter().zip(&rho).skip(1) {
                    combined
                        .par_iter_mut()
                        .zip(v.par_iter())
                        .for_each(|(c, x)| *c += *r * *x);
                }
                let a_p = padded(*input);
                let sc = sumcheck::prove(
                    SumOfProducts {
                        num_vars: layout.num_vars(*input),
                        mles: vec![Mle::Ext(combined), Mle::Base(a_p)],
                        terms: vec![Term {
                            coeff: EF::ONE,
                            factors: vec![0, 1],
                        }],
                    },
                    &mut tr,
                );
                let r = sc.point;
                let eq_r = eq_table(&r);
                let weight_evals: Vec<EF> = per_claim
                    .iter()
                    .map(|v| v.iter().zip(&eq_r).map(|(a, b)| *a * *b).sum())
                    .collect();
                let input_eval = sc.final_evals[1];
                tr.absorb_efs(&weight_evals);
                tr.absorb_ef(input_eval);
                for ((z, _), (&w, &b)) in claims.iter().zip(weight_evals.iter().zip(&bias_evals)) {
                    let mut zr = z.clone();
                    zr.extend_from_slice(&r);
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
                book.route(layout, *input, r, input_eval);
                layers.push(LayerProof::Dense {
                    bias_evals,
                    sumcheck: sc.proof,
                    weight_evals,
                    input_eval,
                });
            }
            QOp::Add {
                a, b, output: out, ..
            } => {
                let claims = book.take_pending(layout, *out);
                if claims.is_empty() {
                    continue;
                }
                tr.label(b"add");
                let (ap, bp) = (padded(*a), padded(*b));
                let evals: Vec<(EF, EF)> = claims
                    .iter()
                    .map(|(z, _)| (evaluate_base(&ap, z), evaluate_base(&bp, z)))
                    .collect();
                for (&(ea, eb), (z, _)) in evals.iter().zip(&claims) {
                    tr.absorb_ef(ea);
                    tr.absorb_ef(eb);
                    book.route(layout, *a, z.clone(), ea);
                    book.route(layout, *b, z.clone(), eb);
                }
                layers.push(LayerProof::Add { evals });
            }
            QOp::Conv2d {
                input,
                output: out,
                bias,
                ..
            } => {
                let claims = book.take_pending(layout, *out);
                if claims.is_empty() {
                    continue;
                }
                let (w_poly, b_poly) = layout.weighted[i].expect("layout has every conv");
                let win = layout.windows[i].expect("layout has every conv");
                let weights = pk.op_weights[i].as_ref().expect("pk has every conv");
                let (proof, red) =
                    conv::prove(&win, weights, bias, padded(*input), &claims, &mut tr);
                book.weight_claims(w_poly, red.weight_claims);
                book.weight_claims(b_poly, red.bias_claims);
                book.route(layout, *input, red.input_claim.0, red.input_claim.1);
                layers.push(proof);
            }
            QOp::SumPool {
                input, output: out, ..
            } => {
                let claims = book.take_pending(layout, *out);
                if claims.is_empty() {
                    continue;
                }
                let win = layout.windows[i].expect("layout has every pool");
                let (proof, (point, value)) =
                    pool::prove_sum(&win, padded(*input), &claims, &mut tr);
                book.route(layout, *input, point, value);
                layers.push(proof);
            }
            QOp::MaxPool { input, .. } => {
                let win = layout.windows[i].expect("layout has every pool");
                let ml = layout.maxpools[i]
                    .as_ref()
                    .expect("layout has every max pool");
                let diffs: Vec<Vec<F>> = ml
                    .diff_polys
                    .iter()
                    .map(|&p| act_polys[p].clone())
                    .collect();
                let (proof, red) =
                    pool::prove_max(&win, padded(*input), &act_polys[ml.y_poly], &diffs, &mut tr);
                book.max_pool(layout, ml, *input, red);
                layers.push(proof);
            }
            QOp::Lut { .. } | QOp::Reshape { .. } => {}
            QOp::Transpose {
                input,
                output: out,
                perm,
            } => book.transpose(layout, *input, *out, perm),
        }
    }
    timings.layers = clock.elapsed();

    progress("opening the weight commitment");
    let clock = Instant::now();
    tr.label(b"weight-opening");
    let weight_opening = match (weight_data, &pk.weight_data) {
        (WeightData::Owned(data), _) => pk.pcs.open_consuming(*data, &book.weights, &mut tr),
        (WeightData::Copying(Some(copy)), Some(data)) => {
            let copy = copy
                .join()
                .map_err(|_| ProveError::Key("copying the weight commitment data failed".into()))?;
            pk.pcs.open_copy(data, copy, &book.weights, &mut tr)
        }
        (WeightData::Copying(_), _) => {
            return Err(ProveError::Key(
                "this proving key's commitment data was consumed by an earlier proof".into(),
            ))
        }
    };
    timings.weight_opening = clock.elapsed();
    progress("opening the activation commitment");
    let clock = Instant::now();
    tr.label(b"activation-opening");
    let activation_opening = act_pcs.open_consuming(act_data, &book.activation, &mut tr);
    timings.activation_opening = clock.elapsed();

    Ok(ProveOutput {
        proof: Proof {
            model_id: pk.vk.model_id(),
            activation_commitment: act_commitment,
            lookups,
            layers,
            weight_opening,
            activation_opening,
        },
        output,
        timings,
    })
}

/// `ρ_0 = 1`, further coefficients drawn from the transcript.
pub(crate) fn batching_coefficients(tr: &mut Transcript, n: usize) -> Vec<EF> {
    tr.absorb_u64(n as u64);
    let mut rho = vec![EF::ONE];
    rho.extend(tr.challenge_efs(n.saturating_sub(1)));
    rho
}

/// An edit of a committed tensor's padded arrangement: `(tensor, padded
/// index, value)`. Honest proofs pass none; the malicious-prover tests use
/// them to place values on padding positions.
pub(crate) type PaddedEdit = (usize, usize, i64);

/// Every committed activation polynomial, in layout order, except the
/// multiplicities ([`fill_multiplicities`]).
pub(crate) fn activation_witness(
    pk: &ProvingKey,
    values: &[Vec<i64>],
    edits: &[PaddedEdit],
) -> Result<Vec<Vec<F>>, ProveError> {
    let model = &pk.model;
    let layout: &Layout = &pk.layout;
    let ints = |t: usize| {
        let mut v = layout.arrange_ints(t, &values[t]);
        for &(_, k, x) in edits
            .iter()
            .filter(|e| layout.kind(e.0).0 == layout.kind(t).0)
        {
            v[k] = x;
        }
        v
    };
    let field = |v: Vec<i64>| v.into_iter().map(f_from_i64).collect::<Vec<F>>();
    let mut polys: Vec<Vec<F>> = vec![Vec::new(); layout.activation_num_vars.len()];
    for (i, op) in model.ops.iter().enumerate() {
        match op {
            QOp::Requant {
                input,
                output,
                multiplier,
                shift,
                min,
                ..
            } => {
                let rl = layout.requants[i]
                    .as_ref()
                    .expect("layout has every requant");
                let (xs, ys) = (ints(*input), ints(*output));
                let columns = requant::witness(
                    rl,
                    layout.limb_bits,
                    (*multiplier, *shift, *min),
                    &xs,
                    &ys,
                )
                .map_err(|(k, q)| {
                    ProveError::Inference(format!(
                        "op #{i} (Requant) element {k}: pre-clamp value {q} exceeds the clamp range by 2^{EXCESS_BITS} or more"
                    ))
                })?;
                polys[rl.y_poly] = field(ys);
                for (p, column) in columns {
                    polys[p] = column;
                }
            }
            QOp::Lut { output, .. } => {
                let TensorKind::Committed { poly } = layout.kinds[*output] else {
                    unreachable!("lut outputs are committed")
                };
                polys[poly] = field(ints(*output));
            }
            QOp::MaxPool { input, output, .. } => {
                let win = layout.windows[i].expect("layout has every pool");
                let ml = layout.maxpools[i]
                    .as_ref()
                    .expect("layout has every max pool");
                let ys = ints(*output);
                let diffs = pool::differences(&win, &values[*input], &ys);
                polys[ml.y_poly] = field(ys);
                for (&p, d) in ml.diff_polys.iter().zip(diffs) {
                    polys[p] = d;
                }
            }
            _ => {}
        }
    }
    Ok(polys)
}

/// Each table's multiplicity column, from the committed witness columns.
pub(crate) fn fill_multiplicities(pk: &ProvingKey, polys: &mut [Vec<F>]) -> Result<(), ProveError> {
    for t in &pk.layout.tables {
        let table = table_for(&pk.model, &t.key);
        let witnesses = lookups::group_witnesses(t, polys);
        let m = logup::multiplicities(&table, &witnesses).map_err(|e| {
            ProveError::Inference(format!(
                "a lookup witness is outside its table ({:?}): {e}",
                t.key
            ))
        })?;
        polys[t.multiplicity_poly] = m;
    }
    Ok(())
}

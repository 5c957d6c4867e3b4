//! The prover: runs the quantized model, commits the lookup witnesses, proves
//! the lookups, walks the ops backwards from the output reducing claims
//! (GKR style), and finally opens both commitments.

use std::time::{Duration, Instant};

use zkinfer_protocol::field::F;
use zkinfer_protocol::logup;
use zkinfer_protocol::mle::evaluate_base;
use zkinfer_protocol::pcs::{CommitmentScheme, Pcs};

use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::keys::{activation_params_for, ProvingKey};
use crate::layout::{table_for, Layout};
use crate::lookups;
use crate::ops::{ProverCtx, WitnessCtx};
use crate::proof::{LayerProof, Proof};
use crate::security::StatementTerms;
use crate::statement::start_transcript;

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
    /// `lookups` per table kind (`lookups::table_name`: a LUT by its function).
    pub lookup_tables: PhaseTimes,
    /// `layers` per ONNX module or composite op ([`module_of`]).
    pub layer_modules: PhaseTimes,
}

/// Durations summed per name, in first-seen order.
#[derive(Clone, Debug, Default)]
pub struct PhaseTimes(pub Vec<(String, Duration)>);

impl PhaseTimes {
    pub fn add(&mut self, name: String, d: Duration) {
        match self.0.iter_mut().find(|e| e.0 == name) {
            Some(e) => e.1 += d,
            None => self.0.push((name, d)),
        }
    }
}

/// A group for time reports, from an ONNX value's exporter path name: the
/// value's ONNX op when it is a composite one zkinfer lowers into several
/// steps (`…/ln1/LayerNormalization_output_0/center#4` → `LayerNormalization`,
/// also `Softmax`, `Gather`), else its module
/// (`/blocks.0/mlp/mlp.1/Mul_1_output_0` → `mlp`, `/blocks.0/qkv/Add_output_0`
/// → `qkv`); `other` for names without an exporter path. Reports only.
pub fn module_of(tensor_name: &str) -> String {
    const COMPOSITE: [&str; 3] = ["LayerNormalization", "Softmax", "Gather"];
    let parts: Vec<&str> = tensor_name.split('/').filter(|p| !p.is_empty()).collect();
    let Some(k) = parts.iter().position(|p| p.contains("_output_")) else {
        return "other".into();
    };
    let strip = |p: &str| {
        p.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '_')
            .to_string()
    };
    let op = strip(parts[k].split("_output_").next().unwrap_or(""));
    if COMPOSITE.contains(&op.as_str()) || k == 0 {
        return op;
    }
    strip(parts[k - 1])
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

/// Runs the integer model on the statement's `batch` samples: the values of
/// every tensor (samples stacked).
pub fn run_model(pk: &ProvingKey, input: &[i64]) -> Result<Vec<Vec<i64>>, ProveError> {
    let expected = pk.model.statement_input_len();
    if input.len() != expected {
        return Err(ProveError::Inference(format!(
            "the input has {} values; the model proves {} sample(s) of {} = {expected}",
            input.len(),
            pk.model.batch,
            pk.model.input_len()
        )));
    }
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
    let mut timings = ProveTimings::default();
    progress("running the quantized model");
    let witness = honest_witness(pk, input, &mut timings)?;
    prove_witness(pk, input, witness, timings, progress)
}

/// One proof from a key that is not needed afterwards (the key is dropped
/// when the proof is done; the opening no longer consumes its data).
pub fn prove_consuming(
    pk: ProvingKey,
    input: &[i64],
    progress: &mut dyn FnMut(&str),
) -> Result<ProveOutput, ProveError> {
    prove_with_progress(&pk, input, progress)
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

/// Proves from a given witness. Everything after the witness is the honest
/// prover's code: the malicious-prover tests (`malicious.rs`) enter here.
pub(crate) fn prove_witness(
    pk: &ProvingKey,
    input: &[i64],
    witness: Witness,
    mut timings: ProveTimings,
    progress: &mut dyn FnMut(&str),
) -> Result<ProveOutput, ProveError> {
    pk.check_commitment()?;
    let model = &pk.model;
    let layout = &pk.layout;
    let Witness { values, act_polys } = witness;
    let output = values[model.output].clone();
    let model_id = pk.vk.model_id();
    let mut tr = start_transcript(&pk.vk, &model_id, input, &output);

    progress("committing activations");
    let clock = Instant::now();
    let terms = StatementTerms::new(&pk.vk, layout);
    let act_params = activation_params_for(&pk.vk, layout, &terms);
    // The verifier refuses a statement below the target (`verifier.rs`):
    // say so before proving it.
    let bits = terms.report(&pk.vk, layout, &act_params).total_bits;
    if bits < crate::keys::TARGET_BITS {
        return Err(ProveError::Unsupported(format!(
            "a proof of this statement would compute {bits:.1} bits of soundness, below the {} bits zkinfer requires (`zkinfer security`; for many samples, prove fewer at once)",
            crate::keys::TARGET_BITS
        )));
    }
    let act_pcs = Pcs::new(act_params);
    let (act_commitment, mut act_data) = act_pcs.commit(&act_polys)?;
    // p3 keeps the committed activations twice more (stacked and
    // interleaved); they are rebuilt from `act_polys` for the opening, after
    // the weight opening's own copy is gone (GPT-2: 1.1 GB off the peak).
    act_data.release_tables();
    act_pcs.absorb_commitment(&act_commitment, &mut tr);
    timings.commit = clock.elapsed();

    progress("proving lookups");
    let clock = Instant::now();
    let mut book = ClaimBook::new(model.tensors.len());
    let lookups = lookups::prove(
        model,
        layout,
        &act_polys,
        &mut book,
        &mut tr,
        &mut timings.lookup_tables,
    );
    timings.lookups = clock.elapsed();

    progress("proving layers");
    let clock = Instant::now();
    let out_padded = layout.arrange(model.output, &output);
    tr.label(b"output-claim");
    let r0 = tr.challenge_efs(layout.num_vars(model.output));
    let v0 = evaluate_base(&out_padded, &r0);
    book.route(layout, model.output, r0, v0);
    let mut ctx = ProverCtx {
        pk,
        values: &values,
        act_polys: &act_polys,
        book: &mut book,
        tr: &mut tr,
    };
    // The weight opening's tables are rebuilt from the key's weights
    // (`ProvingKey::weight_opening_copy`) beside the layer sumchecks: after
    // the lookups, whose fraction trees are the proof's largest memory.
    // (`rayon::join`, not a thread of its own: a prover running inside a
    // rayon task must not block a worker on work queued to the same pool.)
    let (weight_copy, layers) = rayon::join(
        || pk.weight_opening_copy(),
        || {
            let mut layers: Vec<LayerProof> = Vec::new();
            for op in layout.ops.iter().rev() {
                let op_clock = Instant::now();
                layers.extend(op.prove(&mut ctx));
                let (_, out) = model.ops[op.index()].io();
                timings
                    .layer_modules
                    .add(module_of(&model.tensors[out].name), op_clock.elapsed());
            }
            layers
        },
    );
    timings.layers = clock.elapsed();

    progress("opening the weight commitment");
    let clock = Instant::now();
    tr.label(b"weight-opening");
    let weight_opening = pk.open_weights(weight_copy?, &book.weights, &mut tr)?;
    timings.weight_opening = clock.elapsed();
    progress("opening the activation commitment");
    let clock = Instant::now();
    tr.label(b"activation-opening");
    drop(values);
    let activation_opening =
        act_pcs.open_released(&act_data, act_polys, &book.activation, &mut tr)?;
    timings.activation_opening = clock.elapsed();

    Ok(ProveOutput {
        proof: Proof {
            model_id,
            activation_commitment: act_commitment,
            lookups,
            layers,
            weight_opening,
            activation_opening,
            zk: None,
        },
        output,
        timings,
    })
}

/// An edit of a committed tensor's padded arrangement: `(tensor, padded
/// index, value)`. Honest proofs pass none; the malicious-prover tests use
/// them to place values on padding positions.
pub(crate) type PaddedEdit = (usize, usize, i64);

/// Every committed activation polynomial, in layout order, except the
/// multiplicities ([`fill_multiplicities`]): each op fills its own.
pub(crate) fn activation_witness(
    pk: &ProvingKey,
    values: &[Vec<i64>],
    edits: &[PaddedEdit],
) -> Result<Vec<Vec<F>>, ProveError> {
    activation_witness_with(&pk.layout, values, edits)
}

/// [`activation_witness`] under another layout of the same model (a
/// zero-knowledge proof's, [`Layout::new_zk`]).
pub(crate) fn activation_witness_with(
    layout: &Layout,
    values: &[Vec<i64>],
    edits: &[PaddedEdit],
) -> Result<Vec<Vec<F>>, ProveError> {
    let w = WitnessCtx {
        layout,
        values,
        edits,
    };
    let mut polys: Vec<Vec<F>> = vec![Vec::new(); layout.activation_num_vars.len()];
    for op in &layout.ops {
        op.witness(&w, &mut polys)?;
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

#[cfg(test)]
mod tests {
    use super::module_of;

    #[test]
    fn report_groups_follow_the_exporters_path_names() {
        for (name, group) in [
            (
                "/blocks/blocks.0/ln1/LayerNormalization_output_0/center#4/requant",
                "LayerNormalization",
            ),
            ("/blocks/blocks.1/Softmax_output_0/exp#32/exp_in", "Softmax"),
            ("/blocks/blocks.0/mlp/mlp.1/Mul_1_output_0", "mlp"),
            ("/blocks/blocks.1/qkv/Add_output_0", "qkv"),
            ("/blocks/blocks.1/Reshape_3_output_0/requant", "blocks"),
            ("/Gemm_output_0", "Gemm"),
            ("input:one_hot", "other"),
            ("", "other"),
        ] {
            assert_eq!(module_of(name), group, "{name}");
        }
    }
}

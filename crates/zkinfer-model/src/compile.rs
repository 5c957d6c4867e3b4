//! The compile pipeline (ONNX → float graph → calibration → QuantModel), the accuracy
//! report, and the tract float reference used as a cross-check.

use crate::error::{ModelError, Result};
use crate::eval::evaluate;
use crate::float::{FloatModel, InputElem};
use crate::input::{check_types, composite_values, is_composite, InputFile};
use crate::ir::QuantModel;
use crate::onnx_import::import_onnx;
use crate::quantize::{quantize, CalibStats, QuantConfig};
use serde::{Deserialize, Serialize};

/// Float vs dequantized-integer output on a sample set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccuracyReport {
    pub samples: usize,
    /// max over samples and outputs of |float − dequantized|.
    pub max_abs_error: f64,
    /// mean over samples of ‖float − deq‖₁ / max(‖float‖₁, 0.01·len) (the floor keeps
    /// near-zero outputs, e.g. a saturated sigmoid, from dominating).
    pub mean_rel_error: f64,
    /// fraction of samples whose predicted class agrees (see [`predicted_class`]; a
    /// sequence output's last position, [`class_scores`]).
    pub top1_agreement: f64,
    /// max |tract − our float graph| on the first sample (import cross-check), if run.
    pub tract_max_abs_diff: Option<f64>,
    /// Why the cross-check did not run although asked for: tract itself
    /// failed on the graph (an error of its optimizer, not a disagreement).
    pub tract_failure: Option<String>,
    pub num_params: usize,
    pub num_ops: usize,
}

/// Top-1 class: argmax (first maximum); a single output is a sigmoid-style probability
/// thresholded at 0.5.
pub fn predicted_class(v: &[f64]) -> usize {
    if v.len() == 1 {
        return usize::from(v[0] > 0.5);
    }
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// The scores a sample's class is read from: its whole output, or for a
/// sequence output (per sample `[T, C]` after leading axes of 1, T > 1: a
/// language model's logits at every position) the last position's `C`, the
/// prediction of the next token.
pub fn class_scores<'a>(m: &QuantModel, sample_output: &'a [f64]) -> &'a [f64] {
    let shape: Vec<usize> = m.tensors[m.output]
        .shape
        .iter()
        .copied()
        .skip_while(|&d| d == 1)
        .collect();
    let c = shape.last().copied().unwrap_or(1).max(1);
    if shape.len() >= 2 && sample_output.len() > c && sample_output.len().is_multiple_of(c) {
        &sample_output[sample_output.len() - c..]
    } else {
        sample_output
    }
}

/// Quantized inference on one float sample: (dequantized output, raw integer output).
pub fn run_quantized(m: &QuantModel, x: &[f64]) -> Result<(Vec<f64>, Vec<i64>)> {
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let xq = m.quantize_input(&xf)?;
    let trace = evaluate(m, &xq)?;
    let y = trace.values[m.output].clone();
    Ok((m.dequantize_output(&y), y))
}

pub fn accuracy_report(
    m: &QuantModel,
    fm: &FloatModel,
    samples: &[Vec<f64>],
) -> Result<AccuracyReport> {
    let mut max_abs: f64 = 0.0;
    let mut rel_sum = 0.0;
    let mut agree = 0usize;
    for s in samples {
        let f = fm.evaluate(s)?;
        let (q, _) = run_quantized(m, s)?;
        let mut diff = 0.0;
        let mut norm = 0.0;
        for (a, b) in f.iter().zip(&q) {
            max_abs = max_abs.max((a - b).abs());
            diff += (a - b).abs();
            norm += a.abs();
        }
        rel_sum += diff / norm.max(0.01 * f.len() as f64);
        agree += usize::from(
            predicted_class(class_scores(m, &f)) == predicted_class(class_scores(m, &q)),
        );
    }
    let n = samples.len().max(1) as f64;
    Ok(AccuracyReport {
        samples: samples.len(),
        max_abs_error: max_abs,
        mean_rel_error: rel_sum / n,
        top1_agreement: agree as f64 / n,
        tract_max_abs_diff: None,
        tract_failure: None,
        num_params: m.num_params(),
        num_ops: m.ops.len(),
    })
}

/// Runs the ONNX model with tract (float32) on one sample; `shape` includes the batch axis.
pub fn tract_reference(onnx_bytes: &[u8], shape: &[usize], x: &[f64]) -> Result<Vec<f64>> {
    tract_reference_inputs(
        onnx_bytes,
        &[TractInput {
            shape: shape.to_vec(),
            elem: InputElem::Float32,
            values: x.to_vec(),
        }],
    )
}

/// One graph input for [`tract_reference_inputs`].
#[derive(Clone, Debug)]
pub struct TractInput {
    /// With the batch axis.
    pub shape: Vec<usize>,
    pub elem: InputElem,
    pub values: Vec<f64>,
}

/// Runs the ONNX model with tract on every graph input (in graph order, each
/// given in its own element type); returns the first output.
pub fn tract_reference_inputs(onnx_bytes: &[u8], inputs: &[TractInput]) -> Result<Vec<f64>> {
    Ok(tract_reference_outputs(onnx_bytes, inputs)?.swap_remove(0))
}

/// [`tract_reference_inputs`], every graph output (each flattened, all samples).
/// tract optimizes and runs an untrusted graph: a panic inside it is this model's error,
/// not a crash of the caller.
pub fn tract_reference_outputs(onnx_bytes: &[u8], inputs: &[TractInput]) -> Result<Vec<Vec<f64>>> {
    std::panic::catch_unwind(|| tract_run(onnx_bytes, inputs))
        .unwrap_or_else(|_| Err(ModelError::TractRun("tract panicked on this model".into())))
}

fn tract_run(onnx_bytes: &[u8], inputs: &[TractInput]) -> Result<Vec<Vec<f64>>> {
    use tract_onnx::prelude::*;
    let t = |e: TractError| ModelError::Tract(format!("{e:#}"));
    let dt = |e: InputElem| match e {
        InputElem::Float32 => DatumType::F32,
        InputElem::Float16 => DatumType::F16,
        InputElem::Float64 => DatumType::F64,
        InputElem::Int8 => DatumType::I8,
        InputElem::Int16 => DatumType::I16,
        InputElem::Int32 => DatumType::I32,
        InputElem::Int64 => DatumType::I64,
        InputElem::Uint8 => DatumType::U8,
        InputElem::Uint16 => DatumType::U16,
        InputElem::Uint32 => DatumType::U32,
        InputElem::Uint64 => DatumType::U64,
        InputElem::Bool => DatumType::Bool,
    };
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut &onnx_bytes[..])
        .map_err(t)?;
    let mut values = TVec::new();
    for (i, input) in inputs.iter().enumerate() {
        let d = dt(input.elem);
        model = model
            .with_input_fact(i, InferenceFact::dt_shape(d, &input.shape))
            .map_err(t)?;
        let x = Tensor::from_shape(&input.shape, &input.values)
            .and_then(|x| x.cast_to_dt(d).map(|c| c.into_owned()))
            .map_err(t)?;
        values.push(x.into());
    }
    let failed = |e: TractError| ModelError::TractRun(format!("{e:#}"));
    let model = model
        .into_optimized()
        .map_err(failed)?
        .into_runnable()
        .map_err(failed)?;
    let out = model.run(values).map_err(failed)?;
    out.iter()
        .map(|o| {
            let o = o.cast_to::<f64>().map_err(t)?;
            let view = o.to_plain_array_view::<f64>().map_err(t)?;
            Ok(view.iter().copied().collect())
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct CompileOptions {
    pub config: QuantConfig,
    /// Run tract on the first calibration sample and require agreement with our float graph.
    pub tract_check: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            config: QuantConfig::default(),
            tract_check: true,
        }
    }
}

/// ONNX bytes + calibration data → quantized model and its accuracy report
/// (measured on the calibration samples). The data is an input file's
/// entries: samples for a single-input model, one entry per graph input (each
/// holding all its samples) for a model with several.
pub fn compile(
    onnx: &[u8],
    name: &str,
    calibration: &[Vec<f64>],
    opts: &CompileOptions,
) -> Result<(QuantModel, AccuracyReport)> {
    // A fixed-shape graph whose batch cannot be split into samples is
    // proven as one sample of its whole input (`whole_batch.rs`), checked
    // below against tract on the original graph.
    let original = onnx;
    let (fm, onnx, whole) = match import_onnx(onnx) {
        Ok(fm) => (fm, onnx.to_vec(), false),
        Err(e) => match crate::onnx_import::whole_batch::as_one_sample(onnx) {
            Some((fm, bytes)) => (fm, bytes, true),
            None => return Err(e),
        },
    };
    let onnx = &onnx[..];
    if calibration.is_empty() {
        return Err(ModelError::Quantize("no calibration samples".into()));
    }
    let calibration = &calibration_samples(&fm, calibration)?;
    let st = CalibStats::collect(&fm, calibration)?;
    let m = quantize(&fm, &st, &opts.config, name, onnx.to_vec())?;
    let mut report = accuracy_report(&m, &fm, calibration)?;
    if opts.tract_check {
        // tract runs the ONNX graph at its own batch size: the first `batch`
        // calibration samples (repeated if there are fewer), each graph input
        // in its own type.
        let batch: Vec<&Vec<f64>> = calibration.iter().cycle().take(fm.batch).collect();
        let inputs: Vec<TractInput> =
            crate::onnx_import::embedding::graph_input_values(&fm.input_segments, &batch)
                .into_iter()
                .map(|(mut shape, elem, values)| {
                    if whole {
                        shape.remove(0);
                    } else {
                        shape[0] = fm.batch;
                    }
                    TractInput {
                        shape,
                        elem,
                        values,
                    }
                })
                .collect();
        // tract reads few `ai.onnx.ml` operators, and not always as
        // onnxruntime does, and lacks some standard ones: those models are
        // checked against onnxruntime or the ONNX reference by their tests.
        if tract_cannot_check(original) {
            return Ok((m, report));
        }
        // tract reads the early-opset forms `legacy.rs` rewrites (Reshape's
        // `shape` attribute, Concat without `axis`) only in their current form.
        let current = crate::legacy::current_form(original);
        let t = match tract_reference_outputs(current.as_deref().unwrap_or(original), &inputs) {
            Ok(t) => t,
            // tract could not run the graph (a failure of its optimizer,
            // seen on valid models): compiled unchecked, and reported so.
            Err(ModelError::TractRun(e)) => {
                // Its first line: tract appends whole graph dumps.
                let line = e.lines().next().unwrap_or_default();
                report.tract_failure = Some(line.chars().take(200).collect());
                return Ok((m, report));
            }
            Err(e) => return Err(e),
        };
        // Ours per sample holds the outputs one after the other; tract's
        // each output over all samples.
        let mut per_sample = Vec::new();
        for s in &batch {
            per_sample.push(fm.evaluate(s)?);
        }
        let ids = fm.output_ids();
        let mut f = Vec::new();
        let mut offset = 0;
        for &id in &ids {
            let len = fm.tensors[id].len();
            for s in &per_sample {
                f.extend_from_slice(&s[offset..offset + len]);
            }
            offset += len;
        }
        let t: Vec<f64> = t.concat();
        if t.len() != f.len() {
            return Err(ModelError::Graph(format!(
                "tract gives {} outputs, the importer {}",
                t.len(),
                f.len()
            )));
        }
        let d = t
            .iter()
            .zip(&f)
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        let scale = f.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        if d > 1e-3 * scale {
            return Err(ModelError::Graph(format!(
                "import cross-check failed: our float graph differs from tract by {d:e}"
            )));
        }
        report.tract_max_abs_diff = Some(d);
    }
    Ok((m, report))
}

/// The graph has a node of the classical-ML domain (`ai.onnx.ml`).
/// Whether tract cannot serve as the reference: `ai.onnx.ml` operators, PRelu
/// before opset 7, or a
/// ConvTranspose with `auto_pad` SAME_* (tract 0.23 stops on a `todo!` there;
/// the panic is caught, but capturing it costs allocations the importer's
/// budget does not allow).
fn tract_cannot_check(onnx: &[u8]) -> bool {
    crate::onnx_import::parse_proto(onnx).is_ok_and(|p| {
        p.graph.as_ref().is_some_and(|g| {
            let opset = p
                .opset_import
                .iter()
                .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
                .map_or(0, |o| o.version);
            g.node.iter().any(|n| {
                n.domain == "ai.onnx.ml"
                    // tract broadcasts a PRelu slope numpy-style at every
                    // opset; before 7 a rank-1 slope is per channel.
                    || n.op_type == "PRelu" && opset < 7
                    // tract 0.23 has no ImageScaler (an experimental op).
                    || n.op_type == "ImageScaler"
                    // tract 0.23 refuses BatchNormalization's `spatial`.
                    || n.op_type == "BatchNormalization"
                        && opset < 9
                        && n.attribute.iter().any(|a| a.name == "spatial" && a.i == 0)
                    // tract 0.23 has no LpPool (the lowering is checked
                    // against the ONNX reference evaluator by its tests).
                    || matches!(n.op_type.as_str(), "LpPool" | "GlobalLpPool")
                    || n.op_type == "ConvTranspose"
                        && n.attribute
                            .iter()
                            .any(|a| a.name == "auto_pad" && a.s.starts_with(b"SAME"))
                    // tract 0.23 runs RNN/GRU/LSTM in PyTorch's plain form
                    // only: with explicit activations, clip, input_forget,
                    // layout 1 or peepholes it disagrees with onnxruntime
                    // (our lowering is checked against onnxruntime by the
                    // `seq_*` fixtures' tests).
                    || matches!(n.op_type.as_str(), "RNN" | "GRU" | "LSTM")
                        && (n.attribute.iter().any(|a| {
                            matches!(
                                a.name.as_str(),
                                "activations" | "activation_alpha" | "activation_beta" | "clip"
                            ) || (matches!(a.name.as_str(), "input_forget" | "layout") && a.i != 0)
                        }) || n.input.get(7).is_some_and(|p| !p.is_empty()))
            })
        })
    })
}

/// Calibration data as samples of the model's input. A single-input model
/// takes samples, any of which may hold several whole ones (a batch written
/// as one tensor); a model with several graph inputs takes one entry per
/// input, as input files hold them ([`interleave`]).
fn calibration_samples(fm: &FloatModel, entries: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    let len = fm.input_len();
    let samples = if is_composite(&fm.input_segments) {
        let file = InputFile {
            entries: entries.to_vec(),
            npy: false,
        };
        let (x, _) =
            composite_values(&file, &fm.input_segments).map_err(ModelError::Calibration)?;
        x.chunks(len).map(<[f64]>::to_vec).collect()
    } else {
        let mut out = Vec::with_capacity(entries.len());
        for s in entries {
            if s.is_empty() || !s.len().is_multiple_of(len) {
                return Err(ModelError::InputLength {
                    expected: len,
                    got: s.len(),
                });
            }
            out.extend(s.chunks(len).map(<[f64]>::to_vec));
        }
        out
    };
    for s in &samples {
        check_types(s, &fm.input_segments).map_err(ModelError::Calibration)?;
    }
    Ok(samples)
}

/// The float model behind a compiled model (re-imported from its embedded ONNX bytes).
pub fn float_model_of(m: &QuantModel) -> Result<FloatModel> {
    import_onnx(&m.onnx)
}

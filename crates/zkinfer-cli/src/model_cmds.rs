//! `compile`, `run` and `eval` subcommands.

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use zkinfer_model::compile::float_model_of;
use zkinfer_model::{
    class_scores, predicted_class, run_quantized, CompileOptions, QuantConfig, QuantModel,
};
use zkinfer_prover::api::{read_inputs as read_samples, read_statement_input};

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// ONNX model to compile.
    pub model: PathBuf,
    /// Calibration samples: ezkl-style JSON ({"input_data": [[...], ...]}) or .npy [N, ...].
    /// Default: `input.json` next to the model.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Output `.zkm` file (default: the model path with extension .zkm).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Widen calibrated ranges by this factor.
    #[arg(long, default_value_t = QuantConfig::default().margin)]
    pub margin: f64,
    /// Weight bits (symmetric, per tensor).
    #[arg(long, default_value_t = QuantConfig::default().weight_bits)]
    pub weight_bits: u32,
    /// Activation bits.
    #[arg(long, default_value_t = QuantConfig::default().act_bits)]
    pub act_bits: u32,
    /// log2 of sigmoid/tanh lookup-table size.
    #[arg(long, default_value_t = QuantConfig::default().lut_bits)]
    pub lut_bits: u32,
    /// Input bits.
    #[arg(long, default_value_t = QuantConfig::default().input_bits)]
    pub input_bits: u32,
    /// Widen the calibrated input range by this factor.
    #[arg(long, default_value_t = QuantConfig::default().input_margin)]
    pub input_margin: f64,
    /// Skip the tract cross-check of the importer.
    #[arg(long)]
    pub no_tract_check: bool,
    /// Print one JSON object (the accuracy report) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Compiled model (.zkm).
    pub model: PathBuf,
    /// One input sample (JSON or .npy).
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Compiled model (.zkm).
    pub model: PathBuf,
    /// Test inputs (.npy [N, ...] or JSON).
    #[arg(long)]
    pub inputs: PathBuf,
    /// Integer labels (.npy [N] or JSON array).
    #[arg(long)]
    pub labels: PathBuf,
    #[arg(long)]
    pub json: bool,
}

fn model_name(p: &Path) -> String {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem == "network" || stem == "model" {
        if let Some(parent) = p.parent().and_then(|d| d.file_name()) {
            return parent.to_string_lossy().into_owned();
        }
    }
    stem
}

pub fn load_model(p: &Path) -> Result<QuantModel> {
    QuantModel::load(p).with_context(|| format!("loading compiled model {}", p.display()))
}

pub fn compile(a: CompileArgs) -> Result<()> {
    let onnx = zkinfer_model::external_data::read_onnx(&a.model)
        .with_context(|| format!("reading {}", a.model.display()))?;
    let calib_path = match &a.calibration {
        Some(p) => p.clone(),
        None => {
            let p = a.model.with_file_name("input.json");
            if !p.exists() {
                bail!("no calibration data: pass --calibration FILE (no input.json next to the model)");
            }
            p
        }
    };
    let calib = read_samples(&calib_path)?;
    let opts = CompileOptions {
        config: QuantConfig {
            weight_bits: a.weight_bits,
            act_bits: a.act_bits,
            margin: a.margin,
            lut_bits: a.lut_bits,
            input_bits: a.input_bits,
            input_margin: a.input_margin,
        },
        tract_check: !a.no_tract_check,
    };
    let name = model_name(&a.model);
    let (m, report) = zkinfer_model::compile(&onnx, &name, &calib, &opts)
        .with_context(|| format!("compiling {}", a.model.display()))?;
    let out = a
        .output
        .clone()
        .unwrap_or_else(|| a.model.with_extension("zkm"));
    m.save(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["model"] = json!(name);
        v["output_file"] = json!(out.display().to_string());
        v["input_len"] = json!(m.input_len());
        v["output_len"] = json!(m.output_len());
        v["output_softmax"] = json!(m.output_softmax);
        println!("{v}");
    } else {
        println!("compiled {} -> {}", a.model.display(), out.display());
        println!(
            "  ops: {}, integer parameters: {}, input {} values, output {} values",
            report.num_ops,
            report.num_params,
            m.input_len(),
            m.output_len()
        );
        if m.output_softmax {
            println!("  note: the final Softmax is applied in float after the integer graph (the proved output is the logits)");
        }
        println!(
            "accuracy on {} calibration sample(s) (float vs dequantized integer):",
            report.samples
        );
        println!("  max abs error     {:.6}", report.max_abs_error);
        println!("  mean rel error    {:.6}", report.mean_rel_error);
        println!("  top-1 agreement   {:.2}%", 100.0 * report.top1_agreement);
        match report.tract_max_abs_diff {
            Some(d) => println!("  import check: |tract - float graph| = {d:.2e}"),
            None => match &report.tract_failure {
                Some(e) => println!("  import check: not run (tract failed on this graph: {e})"),
                None => println!("  import check: not run (--no-tract-check, or tract cannot run this model's operators)"),
            },
        }
    }
    Ok(())
}

pub fn run(a: RunArgs) -> Result<()> {
    let m = load_model(&a.model)?;
    let x = read_statement_input(&a.input, &m)?;
    let (q, raw) = run_quantized(&m, &x).context("integer inference")?;
    let fm = float_model_of(&m).context("rebuilding the float reference")?;
    let mut f = Vec::with_capacity(q.len());
    for sample in x.chunks(m.input_len()) {
        f.extend(fm.evaluate(sample).context("float inference")?);
    }
    // One predicted class per sample.
    let classes = |v: &[f64]| -> Vec<usize> {
        v.chunks(m.output_len().max(1))
            .map(predicted_class)
            .collect()
    };
    // Each graph output by name (several outputs are side by side per sample).
    let named: Vec<serde_json::Value> = m
        .split_outputs(&q)
        .into_iter()
        .map(|(name, values)| json!({"name": name, "values": values}))
        .collect();
    if a.json {
        println!(
            "{}",
            json!({"output": q, "float_output": f, "class": classes(&q), "float_class": classes(&f), "outputs": named})
        );
    } else {
        println!(
            "model {} ({} -> {} values)",
            m.name,
            m.input_len(),
            m.output_len()
        );
        println!("integer output:   {raw:?}");
        println!("dequantized:      {}", fmt(&q));
        if m.output_segments.len() > 1 {
            for (name, values) in m.split_outputs(&q) {
                println!("  {name}: {}", fmt(&values));
            }
        }
        println!("float reference:  {}", fmt(&f));
        println!(
            "predicted class:  {:?} (float: {:?})",
            classes(&q),
            classes(&f)
        );
    }
    Ok(())
}

fn fmt(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.5}")).collect();
    format!("[{}]", parts.join(", "))
}

/// A test set as samples of the model's input: as read for a single-input
/// model; for several graph inputs, one entry per input holding every sample,
/// laid out per sample as a statement's input is (any number of samples).
fn eval_samples(m: &QuantModel, path: &Path) -> Result<Vec<Vec<f64>>> {
    if !zkinfer_model::input::is_composite(&m.input_segments) {
        return Ok(read_samples(path)?);
    }
    let file = zkinfer_model::input::load_file(path)?;
    let bad = |reason: String| anyhow::anyhow!("bad input file {}: {reason}", path.display());
    let (x, _) = zkinfer_model::input::composite_values(&file, &m.input_segments).map_err(bad)?;
    zkinfer_model::input::check_types(&x, &m.input_segments).map_err(bad)?;
    Ok(x.chunks(m.input_len()).map(<[f64]>::to_vec).collect())
}

pub fn eval(a: EvalArgs) -> Result<()> {
    let m = load_model(&a.model)?;
    let xs = eval_samples(&m, &a.inputs)?;
    let labels = zkinfer_model::input::load_labels(&a.labels)
        .with_context(|| format!("reading labels {}", a.labels.display()))?;
    if xs.len() != labels.len() {
        bail!("{} samples but {} labels", xs.len(), labels.len());
    }
    let fm = float_model_of(&m).context("rebuilding the float reference")?;
    let (mut qc, mut fc, mut agree) = (0usize, 0usize, 0usize);
    for (i, (x, &y)) in xs.iter().zip(&labels).enumerate() {
        if x.len() != m.input_len() {
            bail!(
                "sample {i} has {} values, the model expects {}",
                x.len(),
                m.input_len()
            );
        }
        let (q, _) =
            run_quantized(&m, x).with_context(|| format!("integer inference on sample {i}"))?;
        let f = fm
            .evaluate(x)
            .with_context(|| format!("float inference on sample {i}"))?;
        let (pq, pf) = (
            predicted_class(class_scores(&m, &q)),
            predicted_class(class_scores(&m, &f)),
        );
        qc += usize::from(pq as i64 == y);
        fc += usize::from(pf as i64 == y);
        agree += usize::from(pq == pf);
    }
    let n = xs.len() as f64;
    let (qa, fa, ag) = (qc as f64 / n, fc as f64 / n, agree as f64 / n);
    if a.json {
        println!(
            "{}",
            json!({"quantized_top1": qa, "float_top1": fa, "samples": xs.len(), "agreement": ag})
        );
    } else {
        println!("model {} on {} samples", m.name, xs.len());
        println!("  quantized top-1  {:.2}%", 100.0 * qa);
        println!("  float top-1      {:.2}%", 100.0 * fa);
        println!("  agreement        {:.2}%", 100.0 * ag);
    }
    Ok(())
}

//! `zkinfer bench`: prove/verify synthetic MLPs and CNNs made on the fly, or
//! compiled models (`.zkm`, with `--input`), and print setup, prove and
//! verify time, proof size, peak memory and the ratio of prove time to plain
//! float inference, with the prove time per phase, per lookup table and per
//! ONNX module. Each model runs in its own child process so that peak RSS is
//! per model.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;
use zkinfer_model::compile::float_model_of;
use zkinfer_model::QuantModel;
use zkinfer_prover::api::{quantize_input, read_statement_input};
use zkinfer_prover::proof::Proof;
use zkinfer_prover::synthetic::{float_forward, input, mlp, named_cnn};
use zkinfer_prover::zk::Visibility;
use zkinfer_prover::{prove, setup_with_mode, verify, CommitmentMode, PhaseTimes};

/// The issues' benchmark models: MLPs of ≈100K, 670K, 3.1M, 18.4M parameters
/// and the CNNs LeNet-5, ResNet-20 and VGG-16 (CIFAR).
const DEFAULT_MODELS: &str =
    "784-128-10,784-512-512-10,1024-1024-1024-1024-10,784-2048-2048-2048-2048-2048-10,lenet5,resnet20,vgg16";

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Comma-separated models: MLPs as dash-separated layer widths, the
    /// CNNs `lenet5`, `resnet20`, `vgg16`, or compiled models (`.zkm` files,
    /// proven on `--input`).
    #[arg(long, default_value = DEFAULT_MODELS)]
    pub models: String,
    /// Input file for the compiled (`.zkm`) models.
    #[arg(long)]
    pub input: Option<String>,
    /// Proofs per model (the median prove time is reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Commitments in the compact mode (smaller proofs; see `setup --compact`).
    #[arg(long)]
    pub compact: bool,
    /// Samples per proof (one statement over a batch; the table then also
    /// shows the prove time per sample).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Zero-knowledge proofs with a private input (`prove --private-input`):
    /// the same table for the zero-knowledge column.
    #[arg(long)]
    pub private_input: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct BenchOneArgs {
    pub model: String,
    #[arg(long)]
    pub input: Option<String>,
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    #[arg(long)]
    pub compact: bool,
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    #[arg(long)]
    pub private_input: bool,
}

const CNNS: [&str; 3] = ["lenet5", "resnet20", "vgg16"];

/// A benchmark model from its name or MLP widths, for statements of
/// `batch` samples.
fn bench_model(spec: &str, batch: usize) -> Result<QuantModel> {
    let mut m = match named_cnn(spec.trim()) {
        Some(m) => m,
        None => mlp(&parse_widths(spec)?, 1),
    };
    m.dynamic_batch = true;
    Ok(m.with_batch(batch)?)
}

fn parse_widths(s: &str) -> Result<Vec<usize>> {
    let w: Vec<usize> = s
        .split('-')
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .with_context(|| format!("bad width in {s:?}"))
        })
        .collect::<Result<_>>()?;
    if w.len() < 2 || w.contains(&0) {
        bail!("an MLP needs at least two positive widths: {s:?}");
    }
    Ok(w)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn is_compiled(spec: &str) -> bool {
    spec.trim().ends_with(".zkm")
}

/// A benchmark model, its quantized statement input and its plain float
/// inference time for the whole statement.
fn model_and_input(a: &BenchOneArgs) -> Result<(QuantModel, Vec<i64>, Duration)> {
    let time = |f: &mut dyn FnMut() -> Result<()>| -> Result<Duration> {
        let mut inf = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            f()?;
            inf.push(t.elapsed());
        }
        Ok(median(inf))
    };
    if is_compiled(&a.model) {
        let model = QuantModel::load(a.model.trim())?;
        let path = a
            .input
            .as_deref()
            .context("a compiled model is benchmarked on an input: pass --input")?;
        let x = read_statement_input(std::path::Path::new(path), &model)?;
        let q = quantize_input(&model, &x)?;
        // Our float graph (the one `compile` checks against tract).
        let float = float_model_of(&model)?;
        let inference = time(&mut || {
            std::hint::black_box(float.evaluate(std::hint::black_box(&x))?);
            Ok(())
        })?;
        return Ok((model, q, inference));
    }
    let model = bench_model(&a.model, a.batch)?;
    let x = input(model.statement_input_len(), 1);
    let xf: Vec<f32> = x[..model.input_len()]
        .iter()
        .map(|&v| v as f32 / 127.0)
        .collect();
    let one = time(&mut || {
        std::hint::black_box(float_forward(&model, std::hint::black_box(&xf)));
        Ok(())
    })?;
    // Float inference of the whole batch: one sample's time per sample.
    Ok((model, x, one * a.batch as u32))
}

/// One model, in this process: prints one JSON object.
pub fn run_bench_one(a: BenchOneArgs) -> Result<()> {
    let (model, x, inference) = model_and_input(&a)?;
    let params = model.num_params();
    let batch = model.batch;

    let mode = if a.compact {
        CommitmentMode::Compact
    } else {
        CommitmentMode::Fast
    };
    let t = Instant::now();
    let pk = setup_with_mode(model, mode)?;
    let setup_t = t.elapsed();
    let bits = if a.private_input {
        zkinfer_prover::security::zk_security(&pk.vk, Visibility::PRIVATE_INPUT)?.total_bits
    } else {
        zkinfer_prover::security::report(&pk.vk).total_bits
    };
    let (bytes, tm, vt) = if a.private_input {
        prove_private(pk, &x, a.repeat)?
    } else {
        let mut runs = Vec::new();
        for _ in 0..a.repeat.max(1) {
            runs.push(prove(&pk, &x)?);
        }
        runs.sort_by_key(|r| r.timings.total());
        let out = runs.swap_remove(runs.len() / 2);
        drop(runs);
        let bytes = out.proof.to_bytes();
        let mut vt = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            verify(&pk.vk, &x, &out.output, &Proof::from_bytes(&bytes)?)?;
            vt.push(t.elapsed());
        }
        (bytes, out.timings, vt)
    };
    let tm = &tm;
    let prove_s = tm.total().as_secs_f64();
    println!(
        "{}",
        json!({
            "model": a.model, "params": params, "mode": format!("{mode:?}").to_lowercase(),
            "zero_knowledge": a.private_input,
            "batch": batch, "setup_s": setup_t.as_secs_f64(), "prove_s": prove_s,
            "prove_per_sample_s": prove_s / batch as f64,
            "verify_s": median(vt).as_secs_f64(), "proof_bytes": bytes.len(),
            "peak_rss_bytes": peak_rss_bytes(),
            "float_inference_s": inference.as_secs_f64(),
            "prove_over_inference": prove_s / inference.as_secs_f64().max(1e-9),
            "security_bits": bits,
            "breakdown_s": breakdown_json(tm),
            "lookups_by_table_s": phase_json(&tm.lookup_tables),
            "layers_by_module_s": phase_json(&tm.layer_modules),
        })
    );
    Ok(())
}

/// `repeat` zero-knowledge proofs with a private input, as `prove
/// --private-input` makes them (the fewest copies of the input that hide
/// every read, `zk::prove_zk_copies`, with the copied key built once): the
/// median one's bytes and phases, and five verify times.
fn prove_private(
    pk: zkinfer_prover::ProvingKey,
    x: &[i64],
    repeat: usize,
) -> Result<(Vec<u8>, zkinfer_prover::ProveTimings, Vec<Duration>)> {
    use rand::SeedableRng;
    use zkinfer_prover::zk::{copies_for, prove_zk, verify_zk};
    let vis = Visibility::PRIVATE_INPUT;
    let vk = pk.vk.clone();
    let copies = copies_for(&pk.model, vis)?;
    let batch = pk.model.batch;
    let pk = pk.for_batch(batch * copies)?;
    let xs = x.repeat(copies);
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut runs = Vec::new();
    for _ in 0..repeat.max(1) {
        runs.push(prove_zk(&pk, &xs, vis, &mut rng)?);
    }
    runs.sort_by_key(|r| r.timings.total());
    let mut out = runs.swap_remove(runs.len() / 2);
    out.output.truncate(out.output.len() / copies);
    if let Some(zk) = out.proof.zk.as_mut() {
        zk.copies = copies;
    }
    let bytes = out.proof.to_bytes();
    let mut vt = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        verify_zk(&vk, None, &out.output, &Proof::from_bytes(&bytes)?)?;
        vt.push(t.elapsed());
    }
    Ok((bytes, out.timings, vt))
}

/// Where one proof's time went, in seconds per phase.
pub fn breakdown_json(tm: &zkinfer_prover::ProveTimings) -> serde_json::Value {
    json!({
        "inference": tm.inference.as_secs_f64(), "witness": tm.witness.as_secs_f64(),
        "activation_commit": tm.commit.as_secs_f64(), "lookups": tm.lookups.as_secs_f64(),
        "layer_sumchecks": tm.layers.as_secs_f64(),
        "weight_opening": tm.weight_opening.as_secs_f64(),
        "activation_opening": tm.activation_opening.as_secs_f64(),
    })
}

/// Named durations in seconds.
pub fn phase_json(p: &PhaseTimes) -> serde_json::Value {
    serde_json::Value::Object(
        p.0.iter()
            .cloned()
            .map(|(k, d)| (k, json!((d.as_secs_f64() * 1e4).round() / 1e4)))
            .collect(),
    )
}

pub fn run_bench(a: BenchArgs) -> Result<()> {
    let exe = std::env::current_exe().context("locating the zkinfer binary")?;
    let mut rows = Vec::new();
    if !a.json {
        println!(
            "{:<34} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9} {:>11} {:>6}",
            "model",
            "params",
            "setup s",
            "prove s",
            "verify ms",
            "proof KB",
            "RSS MB",
            "prove/infer",
            "bits"
        );
    }
    for m in a.models.split(',').filter(|s| !s.trim().is_empty()) {
        if is_compiled(m) {
            if a.input.is_none() {
                bail!("{m} is a compiled model: pass --input");
            }
            if a.batch != 1 {
                bail!("--batch applies to the synthetic models; a compiled model proves the samples its --input holds");
            }
        } else if !CNNS.contains(&m.trim()) {
            parse_widths(m)?;
        }
        let mut args = vec!["bench-one", m.trim(), "--repeat"];
        let (repeat, batch) = (a.repeat.to_string(), a.batch.to_string());
        args.push(&repeat);
        args.extend(["--batch", &batch]);
        if a.compact {
            args.push("--compact");
        }
        if a.private_input {
            args.push("--private-input");
        }
        if let Some(input) = &a.input {
            args.extend(["--input", input]);
        }
        let out = std::process::Command::new(&exe)
            .args(&args)
            .output()
            .context("running a benchmark child process")?;
        if !out.status.success() && a.private_input {
            // Not every op has a zero-knowledge step yet: say which model
            // cannot prove and why, and go on with the table.
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            if !a.json {
                println!("{m:<34} not in zero knowledge: {err}");
            }
            rows.push(json!({"model": m, "zero_knowledge": true, "error": err}));
            continue;
        }
        if !out.status.success() {
            bail!(
                "benchmark of {m} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        if !a.json {
            println!(
                "{:<34} {:>10} {:>9.3} {:>9.3} {:>9.2} {:>10.1} {:>9.0} {:>11.0} {:>6.1}",
                m,
                v["params"],
                v["setup_s"].as_f64().unwrap_or(0.0),
                v["prove_s"].as_f64().unwrap_or(0.0),
                v["verify_s"].as_f64().unwrap_or(0.0) * 1e3,
                v["proof_bytes"].as_f64().unwrap_or(0.0) / 1e3,
                v["peak_rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0,
                v["prove_over_inference"].as_f64().unwrap_or(0.0),
                v["security_bits"].as_f64().unwrap_or(0.0),
            );
            if v["batch"].as_u64().unwrap_or(1) > 1 {
                println!(
                    "    batch {}: {:.1} ms per sample",
                    v["batch"],
                    v["prove_per_sample_s"].as_f64().unwrap_or(0.0) * 1e3
                );
            }
            println!("    breakdown (s): {}", v["breakdown_s"]);
            println!("    lookups by table (s): {}", v["lookups_by_table_s"]);
            println!("    layers by module (s): {}", v["layers_by_module_s"]);
        }
        rows.push(v);
    }
    if a.json {
        println!("{}", json!({ "models": rows }));
    }
    Ok(())
}

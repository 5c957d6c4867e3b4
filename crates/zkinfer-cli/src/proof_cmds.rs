//! `setup`, `prove`, `verify` and `demo`: the proof half of the CLI.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;
use zkinfer_model::QuantModel;
use zkinfer_prover::proof::Proof;
use zkinfer_prover::{
    dequantize_output, prove, prove_consuming, setup, setup_with_mode, verify, CommitmentMode,
    ProvingKey, VerifiedOutput, VerifyingKey,
};

use crate::input::read_single_input;

#[derive(Args, Debug)]
pub struct SetupArgs {
    /// Compiled model (.zkm).
    pub model: PathBuf,
    /// Directory for `model.pk` and `model.vk`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Smaller proofs (about a third), slower proving at scale: Reed–Solomon
    /// rate 1/4 instead of 1/2, same security. Fixed in the keys.
    #[arg(long)]
    pub compact: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ProveArgs {
    /// Proving key (KEYDIR/model.pk).
    #[arg(long)]
    pub pk: PathBuf,
    /// One input sample (ezkl-style JSON or .npy).
    #[arg(long)]
    pub input: PathBuf,
    /// Proof file to write.
    #[arg(short = 'o', long = "proof")]
    pub proof: PathBuf,
    /// Where to write the proven output (JSON: dequantized `output`, exact `output_int`).
    #[arg(long = "output")]
    pub output_json: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Verifying key (KEYDIR/model.vk).
    #[arg(long)]
    pub vk: PathBuf,
    #[arg(long)]
    pub proof: PathBuf,
    /// The public input (same file the prover used).
    #[arg(long)]
    pub input: PathBuf,
    /// The claimed output (JSON written by `prove`).
    #[arg(long = "output")]
    pub output: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn run_setup(a: SetupArgs) -> Result<()> {
    let model =
        QuantModel::load(&a.model).with_context(|| format!("loading {}", a.model.display()))?;
    let t = Instant::now();
    let mode = if a.compact {
        CommitmentMode::Compact
    } else {
        CommitmentMode::Fast
    };
    let pk = setup_with_mode(model, mode)?;
    let secs = t.elapsed().as_secs_f64();
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    pk.save(&a.output.join("model.pk"))?;
    pk.vk.save(&a.output.join("model.vk"))?;
    let bits = zkinfer_prover::security::report(&pk.vk).total_bits;
    if a.json {
        println!(
            "{}",
            json!({"model_id": pk.vk.model_id_hex(), "setup_s": secs, "params": pk.model.num_params(),
                   "mode": pk.vk.mode.to_string(), "security_bits": bits,
                   "pk": a.output.join("model.pk"), "vk": a.output.join("model.vk")})
        );
    } else {
        println!("model id   {}", pk.vk.model_id_hex());
        println!("parameters {}", pk.model.num_params());
        println!("mode       {} commitments", pk.vk.mode);
        println!("security   {bits:.1} bits");
        println!(
            "setup      {secs:.3} s -> {}/model.pk, model.vk",
            a.output.display()
        );
    }
    Ok(())
}

/// The proven-output file: `output` (dequantized, for people), `output_int`
/// (the quantized output the proof binds) and `model_id`. `verify` binds all
/// three (`OutputFile::check`).
fn output_json(vk: &VerifyingKey, y: &[i64]) -> serde_json::Value {
    json!({"output": dequantize_output(vk, y), "output_int": y, "model_id": vk.model_id_hex()})
}

/// An output file as read by `verify`: exactly the three fields `prove` writes.
struct OutputFile {
    output: Vec<f64>,
    output_int: Vec<i64>,
    model_id: String,
}

impl OutputFile {
    fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        Self::parse(&v).with_context(|| {
            format!(
                "{} is not an output file written by `zkinfer prove --output`",
                path.display()
            )
        })
    }

    fn parse(v: &serde_json::Value) -> Result<Self> {
        let Some(obj) = v.as_object() else {
            bail!("not a JSON object");
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !["output", "output_int", "model_id"].contains(&k.as_str()))
        {
            bail!("unexpected field \"{k}\"");
        }
        let array = |name: &str| {
            obj.get(name)
                .and_then(|o| o.as_array())
                .with_context(|| format!("no \"{name}\" array"))
        };
        let output_int = array("output_int")?
            .iter()
            .map(|x| x.as_i64().context("\"output_int\" must hold integers"))
            .collect::<Result<_>>()?;
        let output = array("output")?
            .iter()
            .map(|x| x.as_f64().context("\"output\" must hold numbers"))
            .collect::<Result<_>>()?;
        let model_id = obj
            .get("model_id")
            .and_then(|m| m.as_str())
            .context("no \"model_id\" string")?
            .to_string();
        Ok(Self {
            output,
            output_int,
            model_id,
        })
    }

    /// After the proof verified `output_int`: the file's `model_id` must be
    /// the key's, and its `output` exactly the verified dequantized output.
    ///
    /// Tolerance: none for `int · scale` (one correctly rounded IEEE-754
    /// multiplication: the same on every platform). Each value is compared as
    /// the prover wrote it: the verified value goes through the same JSON
    /// write and read as the file's (`json_round_trip`). A model whose ONNX
    /// graph ends in a Softmax (applied in float after the proven logits)
    /// uses the platform's `exp`, which is not correctly rounded everywhere:
    /// its values may differ by at most `SOFTMAX_ULPS` units in the last place.
    fn check(&self, vk: &VerifyingKey, verified: &VerifiedOutput) -> Result<()> {
        if self.model_id != vk.model_id_hex() {
            bail!(
                "the output file is for model {}, the verifying key is for model {}",
                self.model_id,
                vk.model_id_hex()
            );
        }
        if self.output.len() != verified.output.len() {
            bail!(
                "the output file's \"output\" has {} values, its \"output_int\" {}",
                self.output.len(),
                verified.output.len()
            );
        }
        let ulps = if vk.structure.output_softmax {
            SOFTMAX_ULPS
        } else {
            0
        };
        for (k, (&claimed, &v)) in self.output.iter().zip(&verified.output).enumerate() {
            let expected = json_round_trip(v);
            if !floats_match(claimed, expected, ulps) {
                bail!(
                    "the output file's \"output\"[{k}] is {claimed}, but \"output_int\"[{k}] = {} dequantizes to {expected}",
                    verified.output_int[k]
                );
            }
        }
        Ok(())
    }
}

/// Largest difference, in units in the last place, accepted between a softmax
/// output in a file and the verifier's own (see `OutputFile::check`).
const SOFTMAX_ULPS: u64 = 4;

/// `v` as written to a JSON file and read back.
fn json_round_trip(v: f64) -> f64 {
    serde_json::to_string(&v)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(f64::NAN)
}

/// Equal, or (both finite, same sign) at most `ulps` representable values apart.
fn floats_match(a: f64, b: f64, ulps: u64) -> bool {
    if a == b {
        return true;
    }
    if !(a.is_finite() && b.is_finite()) || a.is_sign_negative() != b.is_sign_negative() {
        return false;
    }
    a.to_bits().abs_diff(b.to_bits()) <= ulps
}

fn quantize(model: &QuantModel, x: &[f64]) -> Result<Vec<i64>> {
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    Ok(model.quantize_input(&xf)?)
}

pub fn run_prove(a: ProveArgs) -> Result<()> {
    let t = Instant::now();
    let pk = ProvingKey::load(&a.pk)?;
    let load_s = t.elapsed().as_secs_f64();
    let x = quantize(&pk.model, &read_single_input(&a.input)?)?;
    if !a.json {
        eprintln!(
            "proving {} ({} parameters, {} ops)...",
            pk.model.name,
            pk.model.num_params(),
            pk.model.ops.len()
        );
    }
    let started = Instant::now();
    let quiet = a.json;
    // The weight-free structure in the vk is all that is needed after proving.
    let vk = pk.vk.clone();
    let out = prove_consuming(pk, &x, &mut |phase| {
        if !quiet {
            eprintln!("  [{:>7.3} s] {phase}", started.elapsed().as_secs_f64());
        }
    })?;
    let bytes = out.proof.to_bytes();
    std::fs::write(&a.proof, &bytes).with_context(|| format!("writing {}", a.proof.display()))?;
    let out_json = output_json(&vk, &out.output);
    if let Some(p) = &a.output_json {
        std::fs::write(p, serde_json::to_string_pretty(&out_json)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let prove_s = out.timings.total().as_secs_f64();
    if a.json {
        println!(
            "{}",
            json!({"prove_s": prove_s, "key_load_s": load_s, "proof_bytes": bytes.len(),
                   "model_id": vk.model_id_hex(), "output": out_json["output"],
                   "breakdown_s": crate::bench_cmd::breakdown_json(&out.timings)})
        );
    } else {
        println!("output     {}", out_json["output"]);
        println!("proof      {} bytes -> {}", bytes.len(), a.proof.display());
        println!("prove      {prove_s:.3} s (key load {load_s:.3} s)");
    }
    Ok(())
}

pub fn run_verify(a: VerifyArgs) -> Result<()> {
    let vk = VerifyingKey::load(&a.vk)?;
    let x = quantize(&vk.structure, &read_single_input(&a.input)?)?;
    let file = OutputFile::read(&a.output)?;
    let bytes =
        std::fs::read(&a.proof).with_context(|| format!("reading {}", a.proof.display()))?;
    let t = Instant::now();
    let result = Proof::from_bytes(&bytes)
        .and_then(|p| verify(&vk, &x, &file.output_int, &p))
        .map_err(anyhow::Error::from)
        .and_then(|v| {
            file.check(&vk, &v)?;
            Ok(v)
        });
    let secs = t.elapsed().as_secs_f64();
    if a.json {
        let (output, output_int) = match &result {
            Ok(v) => (json!(v.output), json!(v.output_int)),
            Err(_) => (json!(null), json!(null)),
        };
        println!(
            "{}",
            json!({"verified": result.is_ok(), "verify_s": secs, "model_id": vk.model_id_hex(),
                   "output": output, "output_int": output_int,
                   "error": result.as_ref().err().map(|e| format!("{e:#}"))})
        );
    }
    match result {
        Ok(v) => {
            if !a.json {
                println!(
                    "verified ({:.1} ms, model {})",
                    secs * 1e3,
                    vk.model_id_hex()
                );
                println!("output     {}", json!(v.output));
                println!("output_int {}", json!(v.output_int));
            }
            Ok(())
        }
        Err(e) => bail!("NOT verified: {e:#}"),
    }
}

const DEMO_ONNX: &[u8] = include_bytes!("../../../fixtures/demo_mlp.onnx");
const DEMO_INPUT: &str = include_str!("../../../fixtures/demo_input.json");

/// Compile the bundled model, prove one inference, verify it, print timings.
pub fn run_demo() -> Result<()> {
    let sample = zkinfer_model::input::parse_json_samples(DEMO_INPUT, "demo_input.json")?;
    let t = Instant::now();
    let (model, report) = zkinfer_model::compile(
        DEMO_ONNX,
        "demo_mlp",
        &sample,
        &zkinfer_model::CompileOptions::default(),
    )?;
    println!(
        "compiled   demo_mlp: {} parameters, {} ops ({:.3} s); quantized vs float: max abs error {:.4}, top-1 agreement {:.0}%",
        model.num_params(),
        model.ops.len(),
        t.elapsed().as_secs_f64(),
        report.max_abs_error,
        report.top1_agreement * 100.0
    );
    let t = Instant::now();
    let pk = setup(model, None)?;
    println!(
        "setup      {:.3} s, model id {}",
        t.elapsed().as_secs_f64(),
        pk.vk.model_id_hex()
    );
    let x = quantize(&pk.model, &sample[0])?;
    let out = prove(&pk, &x)?;
    let bytes = out.proof.to_bytes();
    println!(
        "prove      {:.3} s, proof {} bytes, output {:?}",
        out.timings.total().as_secs_f64(),
        bytes.len(),
        pk.model
            .dequantize_output(&out.output)
            .iter()
            .map(|v| (v * 1e4).round() / 1e4)
            .collect::<Vec<_>>()
    );
    let vk = VerifyingKey::from_bytes(&pk.vk.to_bytes())?;
    let t = Instant::now();
    verify(&vk, &x, &out.output, &Proof::from_bytes(&bytes)?)?;
    println!(
        "verify     {:.1} ms: verified",
        t.elapsed().as_secs_f64() * 1e3
    );
    let bits = zkinfer_prover::security::report(&vk).total_bits;
    println!("security   {bits:.1} bits (computed; see `zkinfer security`)");
    Ok(())
}

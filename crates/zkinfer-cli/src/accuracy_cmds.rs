//! `prove --accuracy` and `verify --accuracy`: one proof of a classifier's
//! top-1 accuracy on a labelled set (`zkinfer_prover::accuracy`).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;
use zkinfer_prover::accuracy::{prove_accuracy, verify_accuracy, AccuracyFile};
use zkinfer_prover::proof::Proof;
use zkinfer_prover::{api, ProvingKey, VerifyingKey};

use crate::proof_cmds::{ProveArgs, VerifyArgs};

fn labels(path: &Path) -> Result<Vec<i64>> {
    zkinfer_model::input::load_labels(path)
        .with_context(|| format!("reading labels {}", path.display()))
}

pub fn prove(
    a: ProveArgs,
    pk: ProvingKey,
    x: &[f64],
    labels_path: &Path,
    load_s: f64,
) -> Result<()> {
    let labels = labels(labels_path)?;
    if !a.json {
        eprintln!(
            "proving the accuracy of {} on {} labelled samples...",
            pk.model.name,
            labels.len()
        );
    }
    let mut progress = crate::proof_cmds::progress_printer(a.json);
    let proven = prove_accuracy(pk, x, &labels, &mut progress)?;
    let bytes = proven.proof.to_bytes();
    std::fs::write(&a.proof, &bytes).with_context(|| format!("writing {}", a.proof.display()))?;
    if let Some(p) = &a.output_json {
        proven.file.write(p)?;
    }
    let f = &proven.file;
    let prove_s = proven.timings.total().as_secs_f64();
    if a.json {
        println!(
            "{}",
            json!({"prove_s": prove_s, "key_load_s": load_s, "proof_bytes": bytes.len(),
                   "model_id": f.model_id, "correct": f.correct, "samples": f.samples,
                   "accuracy": f.accuracy, "dataset_digest": f.dataset_digest})
        );
    } else {
        println!(
            "accuracy   {}/{} = {:.2}%",
            f.correct,
            f.samples,
            100.0 * f.accuracy
        );
        println!("data set   {}", f.dataset_digest);
        println!("proof      {} bytes -> {}", bytes.len(), a.proof.display());
        println!("prove      {prove_s:.3} s (key load {load_s:.3} s)");
    }
    Ok(())
}

pub fn verify(a: &VerifyArgs, vk: &VerifyingKey, x: &[f64], labels_path: &Path) -> Result<()> {
    let labels = labels(labels_path)?;
    let file = AccuracyFile::read(a.output.as_ref().context("--output is needed")?)?;
    let bytes =
        std::fs::read(&a.proof).with_context(|| format!("reading {}", a.proof.display()))?;
    let t = Instant::now();
    let result = Proof::from_bytes(&bytes)
        .map_err(api::Error::from)
        .and_then(|p| verify_accuracy(vk, x, &labels, &file, &p));
    let secs = t.elapsed().as_secs_f64();
    if a.json {
        println!(
            "{}",
            json!({"verified": result.is_ok(), "verify_s": secs, "model_id": vk.model_id_hex(),
                   "security_bits": result.as_ref().ok(), "correct": file.correct, "samples": file.samples, "accuracy": file.accuracy,
                   "dataset_digest": file.dataset_digest,
                   "error": result.as_ref().err().map(|e| format!("{e:#}"))})
        );
    }
    match result {
        Ok(bits) => {
            if !a.json {
                println!(
                    "verified ({:.1} ms, model {}, {bits:.1} bits)",
                    secs * 1e3,
                    vk.model_id_hex()
                );
                println!(
                    "accuracy   {}/{} = {:.2}% on data set {}",
                    file.correct,
                    file.samples,
                    100.0 * file.accuracy,
                    file.dataset_digest
                );
            }
            Ok(())
        }
        Err(api::Error::Verify(e)) => bail!("NOT verified: {e}"),
        Err(e) => bail!("NOT verified: {e:#}"),
    }
}

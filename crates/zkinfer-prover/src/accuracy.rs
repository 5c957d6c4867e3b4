//! Proofs of a classifier's accuracy on a labelled set: one proof over every
//! sample that the model's top-1 prediction equals the label on `k` of `N`
//! ([`zkinfer_model::accuracy`] builds the statement's model). The samples
//! and labels are the public input; the per-sample verdicts are the public
//! output and `k` is their sum, which the verifier recomputes. The file
//! names the data set by a digest so a reader can tell which set was used.

use std::path::Path;

use serde::{Deserialize, Serialize};
use zkinfer_model::accuracy::accuracy_input;

use crate::api::{quantize_input, Error, Result};
use crate::proof::Proof;
use crate::{prove_consuming, verify, ProveTimings, ProvingKey, VerifyingKey};

/// Format of [`AccuracyFile`].
pub const ACCURACY_FILE_VERSION: u32 = 1;

/// What `prove --accuracy` writes and `verify` checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracyFile {
    pub format: u32,
    /// The classifier's model id (its verifying key's).
    pub model_id: String,
    pub samples: usize,
    /// `k`: samples whose prediction equals the label.
    pub correct: usize,
    pub accuracy: f64,
    /// [`dataset_digest`] of the samples and labels.
    pub dataset_digest: String,
    /// Per sample, 1 when its prediction equals its label: the proven output.
    pub verdicts: Vec<i64>,
}

impl AccuracyFile {
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("plain JSON values");
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::OutputFile(format!(
                "{} is not an accuracy file written by `zkinfer prove --accuracy`: {e}",
                path.display()
            ))
        })
    }
}

/// BLAKE3 of the data set: a domain tag, the sample count and length (u64
/// little-endian), every input value (f64 little-endian), every label (i64
/// little-endian). Hex.
pub fn dataset_digest(x: &[f64], labels: &[i64]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"zkinfer-dataset-v1");
    h.update(&(labels.len() as u64).to_le_bytes());
    h.update(&((x.len() / labels.len().max(1)) as u64).to_le_bytes());
    for v in x {
        h.update(&v.to_le_bytes());
    }
    for l in labels {
        h.update(&l.to_le_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// An accuracy proof and its file.
pub struct ProvenAccuracy {
    pub proof: Proof,
    pub file: AccuracyFile,
    pub timings: ProveTimings,
}

/// The statement's quantized input for `x` (whole samples, flattened) and
/// `labels` under `model`, with the sample count.
fn statement(
    model: &zkinfer_model::QuantModel,
    x: &[f64],
    labels: &[i64],
) -> Result<(usize, Vec<i64>)> {
    let per = model.input_len();
    if labels.is_empty() || x.len() != labels.len() * per {
        return Err(Error::OutputFile(format!(
            "{} label(s) for {} input value(s) of {per} per sample",
            labels.len(),
            x.len()
        )));
    }
    let n = labels.len();
    let model = model.with_batch(n)?;
    let q = quantize_input(&model, x)?;
    Ok((n, accuracy_input(&model, &q, labels)?))
}

/// Proves the classifier's accuracy on the samples `x` (flattened) with
/// their `labels`, in one proof.
pub fn prove_accuracy(
    pk: ProvingKey,
    x: &[f64],
    labels: &[i64],
    progress: &mut dyn FnMut(&str),
) -> Result<ProvenAccuracy> {
    let model_id = pk.vk.model_id_hex();
    let (n, input) = statement(&pk.model, x, labels)?;
    let pk = pk.for_batch(n)?.for_accuracy()?;
    let out = prove_consuming(pk, &input, progress)?;
    let correct = out.output.iter().filter(|&&v| v == 1).count();
    Ok(ProvenAccuracy {
        proof: out.proof,
        file: AccuracyFile {
            format: ACCURACY_FILE_VERSION,
            model_id,
            samples: n,
            correct,
            accuracy: correct as f64 / n as f64,
            dataset_digest: dataset_digest(x, labels),
            verdicts: out.output,
        },
        timings: out.timings,
    })
}

/// Verifies an accuracy proof on the data set `x`, `labels` and checks every
/// field of the file against what the proof shows; returns the statement's
/// computed soundness in bits.
pub fn verify_accuracy(
    vk: &VerifyingKey,
    x: &[f64],
    labels: &[i64],
    file: &AccuracyFile,
    proof: &Proof,
) -> Result<f64> {
    let fail = |m: String| Err(Error::OutputFile(m));
    if file.format != ACCURACY_FILE_VERSION {
        return fail(format!(
            "accuracy file format {}, this build reads {ACCURACY_FILE_VERSION}",
            file.format
        ));
    }
    if file.model_id != vk.model_id_hex() {
        return fail(format!(
            "the accuracy file is for model {}, the verifying key is for model {}",
            file.model_id,
            vk.model_id_hex()
        ));
    }
    let digest = dataset_digest(x, labels);
    if file.dataset_digest != digest {
        return fail(format!(
            "the accuracy file is for data set {}, the given samples and labels are {digest}",
            file.dataset_digest
        ));
    }
    let (n, input) = statement(&vk.structure, x, labels)?;
    let vk = vk.for_batch(n)?.for_accuracy()?;
    let security_bits = verify(&vk, &input, &file.verdicts, proof)?.security_bits;
    let correct = file.verdicts.iter().filter(|&&v| v == 1).count();
    if file.samples != n || file.correct != correct {
        return fail(format!(
            "the file states {} of {} correct; the proof shows {correct} of {n}",
            file.correct, file.samples
        ));
    }
    if file.accuracy != correct as f64 / n as f64 {
        return fail(format!(
            "the file states accuracy {}, but {correct}/{n} is {}",
            file.accuracy,
            correct as f64 / n as f64
        ));
    }
    Ok(security_bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{input, mlp};
    use zkinfer_model::{evaluate, predicted_class, QOp, QuantModel};

    fn classifier(seed: u64) -> QuantModel {
        let mut m = mlp(&[7, 5, 4], seed);
        m.dynamic_batch = true;
        m
    }

    /// The classifier without its output clamp: logits are a wide Dense
    /// accumulator, compared digit by digit.
    fn wide_classifier(seed: u64) -> QuantModel {
        let mut m = classifier(seed);
        if let Some(QOp::Requant { input, .. }) = m.ops.last().cloned() {
            m.ops.pop();
            m.output = input;
        }
        m
    }

    /// Samples as floats at the input scale, and the labels that make
    /// `right` of them correct.
    fn dataset(m: &QuantModel, n: usize, right: usize) -> (Vec<f64>, Vec<i64>) {
        let q = input(7 * n, 5);
        let scale = m.tensors[m.input].scale;
        let labels = (0..n)
            .map(|s| {
                let y = evaluate(m, &q[s * 7..(s + 1) * 7]).unwrap().values[m.output].clone();
                let pred = predicted_class(&m.dequantize_output(&y)) as i64;
                if s < right {
                    pred
                } else {
                    (pred + 1) % 4
                }
            })
            .collect();
        (q.iter().map(|&v| v as f64 * scale).collect(), labels)
    }

    fn proven(m: QuantModel, x: &[f64], labels: &[i64]) -> (VerifyingKey, ProvenAccuracy) {
        let pk = crate::setup(m, None).unwrap();
        let vk = pk.vk.clone();
        (vk, prove_accuracy(pk, x, labels, &mut |_| {}).unwrap())
    }

    #[test]
    fn accuracy_proofs_state_eval_top1_and_verify() {
        for m in [classifier(3), wide_classifier(4)] {
            let (x, labels) = dataset(&m, 5, 3);
            let (vk, p) = proven(m, &x, &labels);
            assert_eq!((p.file.correct, p.file.samples), (3, 5));
            assert_eq!(p.file.verdicts, vec![1, 1, 1, 0, 0]);
            verify_accuracy(&vk, &x, &labels, &p.file, &p.proof).unwrap();
        }
    }

    #[test]
    fn changed_data_counts_keys_and_files_are_rejected() {
        let m = classifier(6);
        let (x, labels) = dataset(&m, 4, 2);
        let (vk, p) = proven(m, &x, &labels);
        let rejects = |x: &[f64], labels: &[i64], file: &AccuracyFile, vk: &VerifyingKey| {
            verify_accuracy(vk, x, labels, file, &p.proof).is_err()
        };
        // A changed label (the file's digest updated to match).
        let mut l2 = labels.clone();
        l2[3] = (l2[3] + 1) % 4;
        let mut f2 = p.file.clone();
        f2.dataset_digest = dataset_digest(&x, &l2);
        assert!(rejects(&x, &l2, &f2, &vk));
        // A dropped sample.
        let (x3, l3) = (&x[..21], &labels[..3]);
        let mut f3 = p.file.clone();
        f3.dataset_digest = dataset_digest(x3, l3);
        assert!(rejects(x3, l3, &f3, &vk));
        // Two samples swapped (with their labels).
        let mut xs = x.clone();
        let mut ls = labels.clone();
        for i in 0..7 {
            xs.swap(i, 7 + i);
        }
        ls.swap(0, 1);
        let mut fs = p.file.clone();
        fs.dataset_digest = dataset_digest(&xs, &ls);
        assert!(rejects(&xs, &ls, &fs, &vk));
        // A wrong count, a flipped verdict, a wrong accuracy or digest.
        let mut f = p.file.clone();
        f.correct += 1;
        assert!(rejects(&x, &labels, &f, &vk));
        let mut f = p.file.clone();
        f.verdicts[3] = 1;
        f.correct += 1;
        f.accuracy = 0.75;
        assert!(rejects(&x, &labels, &f, &vk));
        let mut f = p.file.clone();
        f.accuracy = 1.0;
        assert!(rejects(&x, &labels, &f, &vk));
        let mut f = p.file.clone();
        f.dataset_digest = "00".repeat(32);
        assert!(rejects(&x, &labels, &f, &vk));
        // Another model's key (its id in the file too).
        let other = crate::setup(classifier(7), None).unwrap().vk;
        let mut f = p.file.clone();
        f.model_id = other.model_id_hex();
        assert!(rejects(&x, &labels, &f, &other));
        verify_accuracy(&vk, &x, &labels, &p.file, &p.proof).unwrap();
    }
}

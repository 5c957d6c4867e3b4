//! The library surface every front end calls (the CLI, and later Python
//! bindings or a server), so none of them re-implements the glue: compile an
//! ONNX file, set up keys, prove from a float input, verify to a dequantized
//! output, and read and write the input and output files. Every function
//! returns an [`Error`] naming the problem; none panics on bad input.

use std::path::Path;

use serde_json::json;
use zkinfer_model::{AccuracyReport, CompileOptions, ModelError, QuantModel};
use zkinfer_protocol::VerifyError;

use crate::keys::{setup_with_mode, CommitmentMode, ProvingKey, VerifyingKey};
use crate::proof::Proof;
use crate::prover::{prove_consuming, ProveTimings};
use crate::verifier::{dequantize_output, verify, VerifiedOutput};
use crate::zk::Visibility;
use crate::ProveError;

/// Everything the facade can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Prove(#[from] ProveError),
    #[error("NOT verified: {0}")]
    Verify(#[from] VerifyError),
    /// An output file that is malformed or disagrees with the verified output.
    #[error("output file: {0}")]
    OutputFile(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Samples of an input file (ezkl-style JSON `{"input_data": [[...]]}` or `.npy`).
pub fn read_inputs(path: &Path) -> Result<Vec<Vec<f64>>> {
    Ok(zkinfer_model::input::load_samples(path)?)
}

/// Exactly one sample of an input file.
pub fn read_input(path: &Path) -> Result<Vec<f64>> {
    let mut samples = read_inputs(path)?;
    if samples.len() != 1 {
        return Err(ModelError::InputFile {
            path: path.display().to_string(),
            reason: format!("{} samples where one is expected", samples.len()),
        }
        .into());
    }
    Ok(samples.remove(0))
}

/// The input of one statement of `model`: its `batch` samples, given either
/// as that many samples or as one tensor holding them all (as the ONNX
/// model's batched input is written), flattened in order.
/// A model with a symbolic batch axis takes any number of whole samples.
/// A model with several graph inputs takes one entry per input, in graph
/// order, each holding all its samples flattened; they are interleaved into
/// the statement's per-sample order ([`QuantModel::statement_input`]).
pub fn read_statement_input(path: &Path, model: &QuantModel) -> Result<Vec<f64>> {
    let file = zkinfer_model::input::load_file(path)?;
    model.statement_input(&file).map_err(|reason| {
        ModelError::InputFile {
            path: path.display().to_string(),
            reason,
        }
        .into()
    })
}

/// Quantizes and compiles an ONNX model, calibrated on `calibration` (an
/// input file's entries, [`read_inputs`]); reports the quantized model's
/// distance to the float model on it.
pub fn compile_onnx(
    onnx: &Path,
    calibration: &[Vec<f64>],
    opts: &CompileOptions,
) -> Result<(QuantModel, AccuracyReport)> {
    let bytes = zkinfer_model::external_data::read_onnx(onnx)?;
    let name = onnx
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    Ok(zkinfer_model::compile(&bytes, &name, calibration, opts)?)
}

/// Commits the model's weights: the proving key (its `vk` is the verifying key).
pub fn setup(model: QuantModel, mode: CommitmentMode) -> Result<ProvingKey> {
    Ok(setup_with_mode(model, mode)?)
}

/// A float input quantized as the model's input (clamped to its range).
pub fn quantize_input(model: &QuantModel, x: &[f64]) -> Result<Vec<i64>> {
    Ok(model.quantize_input_f64(x)?)
}

/// The sample count of an input of `len` values: whole samples for a model
/// with a symbolic batch axis, else its fixed batch (a wrong length is then
/// reported by the statement check).
fn samples_in(model: &QuantModel, len: usize) -> usize {
    let per = model.input_len().max(1);
    if model.dynamic_batch && len > 0 && len.is_multiple_of(per) {
        len / per
    } else {
        model.batch
    }
}

/// A proof and the output it proves.
pub struct Proven {
    pub proof: Proof,
    pub output: OutputFile,
    pub timings: ProveTimings,
    /// A committed input's published digest and secret seed.
    pub input_digest: Option<[u8; 32]>,
    pub input_seed: Option<crate::zk::InputSeed>,
    /// A committed output's published digest and secret seed.
    pub output_digest: Option<[u8; 32]>,
    pub output_seed: Option<crate::zk::InputSeed>,
}

/// Proves the model on a float input. Takes the key by value: the weight
/// opening then uses its commitment data without copying it (a key that
/// serves many proofs is used through [`crate::prove`] instead).
pub fn prove_float(pk: ProvingKey, x: &[f64], progress: &mut dyn FnMut(&str)) -> Result<Proven> {
    let samples = samples_in(&pk.model, x.len());
    let pk = pk.for_batch(samples)?;
    let q = quantize_input(&pk.model, x)?;
    let vk = pk.vk.clone();
    let out = prove_consuming(pk, &q, progress)?;
    Ok(Proven {
        proof: out.proof,
        output: OutputFile::new(&vk, out.output),
        timings: out.timings,
        input_digest: None,
        input_seed: None,
        output_digest: None,
        output_seed: None,
    })
}

/// A zero-knowledge proof of the model on a float input, hiding what
/// `visibility` makes private (`zk/`); masks drawn from the operating
/// system's generator. A model whose tensors are too small to hide their
/// reads proves copies of its input ([`crate::zk::prove_zk_copies`]). A
/// committed input or output derives from its seed in `seeds`, or a fresh
/// one.
pub fn prove_float_zk(
    pk: ProvingKey,
    x: &[f64],
    visibility: Visibility,
    seeds: crate::zk::CommitSeeds,
) -> Result<Proven> {
    use rand::SeedableRng;
    let samples = samples_in(&pk.model, x.len());
    let pk = pk.for_batch(samples)?;
    let q = quantize_input(&pk.model, x)?;
    let vk = pk.vk.clone();
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let out = crate::zk::prove_zk_copies(pk, &q, visibility, seeds, &mut rng)?;
    Ok(Proven {
        proof: out.proof,
        output: OutputFile::new(&vk, out.output),
        timings: out.timings,
        input_digest: out.input_digest,
        input_seed: out.input_seed,
        output_digest: out.output_digest,
        output_seed: out.output_seed,
    })
}

/// The digest a `prove --commit-input` proof on the float input `x` with
/// `seed` publishes (`model`: the verifying key's structure will do): for
/// publishing it before the proof, and for checking a revealed input and
/// seed against it afterwards.
pub fn committed_input_digest(
    model: &QuantModel,
    x: &[f64],
    seed: &crate::zk::InputSeed,
) -> Result<[u8; 32]> {
    let model = model
        .with_batch(samples_in(model, x.len()))
        .map_err(|e| ProveError::Model(e.to_string()))?;
    let q = quantize_input(&model, x)?;
    Ok(crate::zk::committed_input_digest(&model, &q, seed)?)
}

/// The digest a `prove --commit-output` proof published, recomputed from
/// the revealed output file (its exact `output_int`, one statement's
/// samples) and the output's `seed`, the proof's input stated as `input`.
/// A file of another model, a generation record, or values that do not
/// fill the model's output (whole samples) are refused.
pub fn committed_output_digest(
    vk: &VerifyingKey,
    output: &OutputFile,
    input: crate::zk::InputVisibility,
    seed: &crate::zk::InputSeed,
) -> Result<[u8; 32]> {
    let fail = |m: String| Err(Error::OutputFile(m));
    let model = &vk.structure;
    if output.model_id != vk.model_id_hex() {
        return fail(format!(
            "the output file is for model {}, the verifying key is for model {}",
            output.model_id,
            vk.model_id_hex()
        ));
    }
    if output.generation.is_some() {
        return fail("a generation record: its output is never committed".into());
    }
    let (len, per) = (output.output_int.len(), model.output_len());
    let samples = if per == 0 || len == 0 || !len.is_multiple_of(per) {
        None
    } else if model.dynamic_batch {
        Some(len / per)
    } else {
        (len == model.statement_output_len()).then_some(model.batch)
    };
    let Some(samples) = samples else {
        let expected = if model.dynamic_batch {
            format!("a multiple of {per} (values per sample)")
        } else {
            model.statement_output_len().to_string()
        };
        return fail(format!(
            "\"output_int\" has {len} values, the model's output has {expected}"
        ));
    };
    let model = model.with_batch(samples)?;
    Ok(crate::zk::committed_output_digest(
        &model,
        &output.output_int,
        input,
        seed,
    )?)
}

/// The leak audit (`zk::audit`) of private-input proofs on the float input
/// `a` and a second input with the same output: `b` when given, else one
/// found next to `a` (`None` when no nearby input keeps the output).
pub fn audit_float_zk(
    pk: ProvingKey,
    a: &[f64],
    b: Option<&[f64]>,
    runs: usize,
) -> Result<Option<crate::zk::audit::LeakAudit>> {
    use rand::SeedableRng;
    let samples = samples_in(&pk.model, a.len());
    let pk = pk.for_batch(samples)?;
    let qa = quantize_input(&pk.model, a)?;
    let qb = match b {
        Some(b) => quantize_input(&pk.model, b)?,
        None => match crate::zk::audit::twin_input(&pk, &qa, 20_000)? {
            Some(t) => t,
            None => return Ok(None),
        },
    };
    if qa == qb {
        return Err(Error::OutputFile(
            "the two inputs quantize to the same integers: nothing to tell apart".into(),
        ));
    }
    let mut rng = rand::rngs::StdRng::from_os_rng();
    Ok(Some(crate::zk::audit::audit_two_inputs(
        pk, &qa, &qb, runs, &mut rng,
    )?))
}

/// Verifies a zero-knowledge proof of `output`: on the float input `x` when
/// the proof's input is public, on no input (`None`) when it is private, on
/// the input committed with `digest` when it is committed; and that the
/// file's values and model id are exactly the verified ones.
pub fn verify_float_zk(
    vk: &VerifyingKey,
    x: Option<&[f64]>,
    digest: Option<&[u8; 32]>,
    output: &OutputFile,
    proof: &Proof,
) -> Result<VerifiedOutput> {
    let per = vk.structure.tensors[vk.structure.output].len().max(1);
    let batch = (output.output_int.len() / per).max(1);
    let other;
    let vk = if batch == vk.structure.batch || !vk.structure.dynamic_batch {
        vk
    } else {
        other = vk.for_batch(batch)?;
        &other
    };
    let q = x.map(|x| quantize_input(&vk.structure, x)).transpose()?;
    let statement = input_statement(q.as_deref(), digest)?;
    let verified = crate::zk::verify_zk_with(vk, statement, &output.output_int, proof)?;
    output.check(vk, &verified)?;
    Ok(verified)
}

/// What a zero-knowledge verifier is told of the input: the quantized
/// input `q` (public), its commitment's `digest` (committed), or neither
/// (private); both at once is refused.
fn input_statement<'a>(
    q: Option<&'a [i64]>,
    digest: Option<&'a [u8; 32]>,
) -> Result<crate::zk::InputStatement<'a>> {
    Ok(match (q, digest) {
        (Some(x), None) => crate::zk::InputStatement::Public(x),
        (None, None) => crate::zk::InputStatement::Private,
        (None, Some(d)) => crate::zk::InputStatement::Committed(d),
        (Some(_), Some(_)) => {
            return Err(Error::Verify(VerifyError::Statement(
                "an input and an input digest: a committed input is verified by its digest only"
                    .into(),
            )))
        }
    })
}

/// Verifies a zero-knowledge proof whose output is committed (its digest
/// `output_digest`): on the float input `x` when the input is public, on
/// the input committed with `input_digest` when committed, on none when
/// private. Nothing of the output is returned.
pub fn verify_float_zk_committed_output(
    vk: &VerifyingKey,
    x: Option<&[f64]>,
    input_digest: Option<&[u8; 32]>,
    output_digest: &[u8; 32],
    proof: &Proof,
) -> Result<VerifiedOutput> {
    let other;
    let vk = match x {
        Some(x) if vk.structure.dynamic_batch => {
            other = vk.for_batch(samples_in(&vk.structure, x.len()))?;
            &other
        }
        _ => vk,
    };
    let q = x.map(|x| quantize_input(&vk.structure, x)).transpose()?;
    let input = input_statement(q.as_deref(), input_digest)?;
    let output = crate::zk::OutputStatement::Committed(output_digest);
    Ok(crate::zk::verify_zk_statement(vk, input, output, proof)?)
}

/// Verifies a proof of `output` on a float input: the proof, and that the
/// file's dequantized values and model id are exactly the verified ones.
/// Returns the verified output.
pub fn verify_float(
    vk: &VerifyingKey,
    x: &[f64],
    output: &OutputFile,
    proof: &Proof,
) -> Result<VerifiedOutput> {
    if output.generation.is_some() {
        return Err(Error::OutputFile(
            "a proof of generation: verify it with its prompt (`generation::verify`)".into(),
        ));
    }
    // The key as is for its own sample count (a copy costs GPT-2 ~20 ms).
    let batch = samples_in(&vk.structure, x.len());
    let other;
    let vk = if batch == vk.structure.batch {
        vk
    } else {
        other = vk.for_batch(batch)?;
        &other
    };
    let q = quantize_input(&vk.structure, x)?;
    let verified = verify(vk, &q, &output.output_int, proof)?;
    output.check_for(&crate::keys::hex(&verified.model_id), vk, &verified)?;
    Ok(verified)
}

/// The proven-output file: `output` (dequantized, for people), `output_int`
/// (the quantized output the proof binds), `model_id`, and `outputs`: each
/// graph output by name with its dequantized values over all samples
/// (integer outputs, such as a class label, as integers). Verification binds
/// all of them ([`OutputFile::check`]). A proof of greedy generation adds
/// `generation` ([`crate::generation`]), which its verifier checks too.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputFile {
    pub output: Vec<f64>,
    pub output_int: Vec<i64>,
    pub model_id: String,
    pub generation: Option<crate::generation::Generation>,
    pub outputs: Option<Vec<NamedOutput>>,
}

/// One graph output's values in an [`OutputFile`].
#[derive(Clone, Debug, PartialEq)]
pub struct NamedOutput {
    pub name: String,
    /// All samples' values, in order.
    pub values: Vec<f64>,
    /// Written as JSON integers (an integer-typed output).
    pub integer: bool,
}

impl NamedOutput {
    fn to_json(&self) -> serde_json::Value {
        let values: Vec<serde_json::Value> = self
            .values
            .iter()
            .map(|&v| {
                if self.integer {
                    json!(v as i64)
                } else {
                    json!(v)
                }
            })
            .collect();
        json!({"name": self.name, "values": values})
    }
}

/// The graph outputs of a verified (dequantized) output, by name.
pub fn named_outputs(model: &QuantModel, output: &[f64]) -> Vec<NamedOutput> {
    let integer = |k: usize| {
        model
            .output_segments
            .get(k)
            .is_some_and(|s| s.elem.is_integer())
    };
    model
        .split_outputs(output)
        .into_iter()
        .enumerate()
        .map(|(k, (name, values))| NamedOutput {
            name,
            values,
            integer: integer(k),
        })
        .collect()
}

/// Largest difference, in units in the last place, accepted between a softmax
/// output in a file and the verifier's own (see [`OutputFile::check`]).
const SOFTMAX_ULPS: u64 = 4;

impl OutputFile {
    /// The file for a proven quantized output.
    pub fn new(vk: &VerifyingKey, output_int: Vec<i64>) -> Self {
        let output = dequantize_output(vk, &output_int);
        Self {
            outputs: Some(named_outputs(&vk.structure, &output)),
            output,
            output_int,
            model_id: vk.model_id_hex(),
            generation: None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut v = json!({"output": self.output, "output_int": self.output_int, "model_id": self.model_id});
        if let Some(g) = &self.generation {
            v["generation"] = serde_json::to_value(g).expect("plain JSON values");
        }
        if let Some(outputs) = &self.outputs {
            v["outputs"] = outputs.iter().map(NamedOutput::to_json).collect();
        }
        v
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.to_json()).expect("plain JSON values");
        std::fs::write(path, text).map_err(io(path))
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        Self::parse(&text).map_err(|e| {
            Error::OutputFile(format!(
                "{} is not an output file written by `zkinfer prove --output`: {e}",
                path.display()
            ))
        })
    }

    /// Exactly the fields [`OutputFile::to_json`] writes (`outputs` and
    /// `generation` optional).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let obj = v.as_object().ok_or("not a JSON object")?;
        if let Some(k) = obj.keys().find(|k| {
            !["output", "output_int", "model_id", "generation", "outputs"].contains(&k.as_str())
        }) {
            return Err(format!("unexpected field \"{k}\""));
        }
        let array = |name: &str| {
            obj.get(name)
                .and_then(|o| o.as_array())
                .ok_or(format!("no \"{name}\" array"))
        };
        let output_int = array("output_int")?
            .iter()
            .map(|x| x.as_i64().ok_or("\"output_int\" must hold integers"))
            .collect::<std::result::Result<_, _>>()?;
        let output = array("output")?
            .iter()
            .map(|x| x.as_f64().ok_or("\"output\" must hold numbers"))
            .collect::<std::result::Result<_, _>>()?;
        let model_id = obj
            .get("model_id")
            .and_then(|m| m.as_str())
            .ok_or("no \"model_id\" string")?
            .to_string();
        let generation = match obj.get("generation") {
            Some(g) => Some(
                serde_json::from_value(g.clone())
                    .map_err(|e| format!("bad \"generation\": {e}"))?,
            ),
            None => None,
        };
        let outputs = match obj.get("outputs") {
            None => None,
            Some(o) => Some(
                o.as_array()
                    .ok_or("\"outputs\" must be an array")?
                    .iter()
                    .map(parse_named_output)
                    .collect::<std::result::Result<_, _>>()?,
            ),
        };
        Ok(Self {
            output,
            output_int,
            model_id,
            generation,
            outputs,
        })
    }

    /// After the proof verified `output_int`: the file's `model_id` must be
    /// the key's, and its `output` exactly the verified dequantized output.
    ///
    /// Tolerance: none for `int · scale` (one correctly rounded IEEE-754
    /// multiplication: the same on every platform). Each value is compared as
    /// the prover wrote it: the verified value goes through the same JSON
    /// write and read as the file's. A model whose ONNX graph ends in a
    /// Softmax (applied in float after the proven logits) uses the platform's
    /// `exp`, which is not correctly rounded everywhere: its values may differ
    /// by at most `SOFTMAX_ULPS` units in the last place.
    pub fn check(&self, vk: &VerifyingKey, verified: &VerifiedOutput) -> Result<()> {
        self.check_for(&vk.model_id_hex(), vk, verified)
    }

    /// [`OutputFile::check`] with the key's model id (hex) given: `verify`
    /// returns it (checked against the key), and hashing the key again
    /// costs GPT-2's verifier ~5 ms.
    fn check_for(
        &self,
        model_id: &str,
        vk: &VerifyingKey,
        verified: &VerifiedOutput,
    ) -> Result<()> {
        let fail = |m: String| Err(Error::OutputFile(m));
        if self.model_id != model_id {
            return fail(format!(
                "the output file is for model {}, the verifying key is for model {model_id}",
                self.model_id,
            ));
        }
        if self.output.len() != verified.output.len() {
            return fail(format!(
                "the output file's \"output\" has {} values, its \"output_int\" {}",
                self.output.len(),
                verified.output.len()
            ));
        }
        let ulps = if vk.structure.output_softmax {
            SOFTMAX_ULPS
        } else {
            0
        };
        for (k, (&claimed, &v)) in self.output.iter().zip(&verified.output).enumerate() {
            // The verified value itself (what a writer wrote and a reader
            // read back exactly): no round trip needed (GPT-2's 1.6M logits).
            if claimed == v {
                continue;
            }
            let expected = json_round_trip(v);
            if !floats_match(claimed, expected, ulps) {
                return fail(format!(
                    "the output file's \"output\"[{k}] is {claimed}, but \"output_int\"[{k}] = {} dequantizes to {expected}",
                    verified.output_int[k]
                ));
            }
        }
        self.check_named(vk, verified)
    }

    /// The file's `outputs` are exactly the verified output split by graph
    /// output (required unless the model predates output segments).
    fn check_named(&self, vk: &VerifyingKey, verified: &VerifiedOutput) -> Result<()> {
        let fail = |m: String| Err(Error::OutputFile(m));
        let Some(claimed) = &self.outputs else {
            if !vk.structure.output_segments.is_empty() {
                return fail("the file has no \"outputs\"".into());
            }
            return Ok(());
        };
        let model = &vk.structure;
        // The verified output split by graph output, as slices (no copy).
        let expected = model.output_slices(&verified.output);
        if claimed.len() != expected.len() {
            return fail(format!(
                "the output file lists {} outputs, the model has {}",
                claimed.len(),
                expected.len()
            ));
        }
        let ulps = if model.output_softmax {
            SOFTMAX_ULPS
        } else {
            0
        };
        for (k, (c, (name, parts))) in claimed.iter().zip(&expected).enumerate() {
            // `named_outputs`' entry, compared without building it.
            let integer = model
                .output_segments
                .get(k)
                .is_some_and(|s| s.elem.is_integer());
            let mut at = 0;
            let exact = c.name == *name
                && c.integer == integer
                && c.values.len() == parts.iter().map(|p| p.len()).sum::<usize>()
                && parts.iter().all(|p| {
                    at += p.len();
                    c.values[at - p.len()..at] == **p
                });
            if exact {
                continue; // exactly the verified values
            }
            let e = NamedOutput {
                name: name.to_string(),
                values: parts.concat(),
                integer,
            };
            // Compared as written: through the same JSON write and read.
            let e = parse_named_output(&e.to_json()).expect("own JSON");
            let same = c.name == e.name
                && c.integer == e.integer
                && c.values.len() == e.values.len()
                && c.values
                    .iter()
                    .zip(&e.values)
                    .all(|(&a, &b)| floats_match(a, b, ulps));
            if !same {
                return fail(format!(
                    "the output file's output `{}` is not the verified output `{}` ({:?})",
                    c.name, e.name, e.values
                ));
            }
        }
        Ok(())
    }
}

/// One entry of an output file's `outputs`: `{"name", "values"}`.
fn parse_named_output(v: &serde_json::Value) -> std::result::Result<NamedOutput, String> {
    let obj = v
        .as_object()
        .ok_or("an \"outputs\" entry is not an object")?;
    if let Some(k) = obj
        .keys()
        .find(|k| !["name", "values"].contains(&k.as_str()))
    {
        return Err(format!("unexpected field \"{k}\" in an \"outputs\" entry"));
    }
    let name = obj
        .get("name")
        .and_then(|n| n.as_str())
        .ok_or("an \"outputs\" entry has no \"name\" string")?
        .to_string();
    let raw = obj
        .get("values")
        .and_then(|n| n.as_array())
        .ok_or("an \"outputs\" entry has no \"values\" array")?;
    let integer = !raw.is_empty() && raw.iter().all(|x| x.is_i64() || x.is_u64());
    let values = raw
        .iter()
        .map(|x| x.as_f64().ok_or("\"values\" must hold numbers"))
        .collect::<std::result::Result<_, _>>()?;
    Ok(NamedOutput {
        name,
        values,
        integer,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{input, mlp};

    #[test]
    fn float_prove_and_verify_round_trip_through_the_output_file() {
        let pk = crate::setup(mlp(&[6, 5, 3], 3), None).unwrap();
        let vk = pk.vk.clone();
        let x: Vec<f64> = input(6, 3).iter().map(|&v| v as f64 / 127.0).collect();
        let proven = prove_float(pk, &x, &mut |_| {}).unwrap();
        let text = serde_json::to_string(&proven.output.to_json()).unwrap();
        let file = OutputFile::parse(&text).unwrap();
        let verified = verify_float(&vk, &x, &file, &proven.proof).unwrap();
        assert_eq!(verified.output_int, proven.output.output_int);
        // A changed score, output or model id is rejected.
        let mut wrong = file.clone();
        wrong.output[0] += 100.0;
        assert!(matches!(
            verify_float(&vk, &x, &wrong, &proven.proof),
            Err(Error::OutputFile(_))
        ));
        let mut wrong = file.clone();
        wrong.output_int[0] += 1;
        assert!(matches!(
            verify_float(&vk, &x, &wrong, &proven.proof),
            Err(Error::Verify(_))
        ));
        let mut wrong = file;
        wrong.model_id = "00".repeat(32);
        assert!(matches!(
            verify_float(&vk, &x, &wrong, &proven.proof),
            Err(Error::OutputFile(_))
        ));
    }

    #[test]
    fn malformed_output_files_are_named() {
        for (text, what) in [
            ("[]", "not a JSON object"),
            (
                r#"{"output": [], "output_int": [], "model_id": "x", "extra": 1}"#,
                "extra",
            ),
            (r#"{"output": [], "model_id": "x"}"#, "output_int"),
            (
                r#"{"output": ["a"], "output_int": [], "model_id": "x"}"#,
                "numbers",
            ),
        ] {
            let e = OutputFile::parse(text).unwrap_err();
            assert!(e.contains(what), "{e}");
        }
    }
}

//! Proofs of greedy generation: "text C came out of model M on prompt X".
//!
//! A language model whose input is token ids (one-hot rows, `embedding.rs`
//! in the model crate) and whose output is logits at every position of its
//! context `[T, V]` generates `N` tokens after a prompt of `P` greedily:
//! token `t` is the first argmax of the logits at position `t − 1`. Attention
//! is causal, so ONE forward pass over the filled context (prompt, generated
//! tokens, then the last token repeated to position `T`) proves every step:
//! the proof binds the context (public input) and the logits (public
//! output), and the verifier checks, on those proven values, that the first
//! `P` ids are the prompt it was given and that every generated id is the
//! argmax before it. Nothing else is trusted from the output file: its
//! `generation` record only says where the prompt ends and how many tokens
//! follow, and both are checked against the verifier's own prompt.
//!
//! The prover runs the quantized model's exact integer evaluator, so the
//! generated text is what the proven integer model produces (it may differ
//! from the float model's where two logits are within quantization error).

use serde::{Deserialize, Serialize};
use zkinfer_model::input::InputFile;
use zkinfer_model::QuantModel;

use crate::api::{self, Error, OutputFile, Result};
use crate::keys::{ProvingKey, VerifyingKey};
use crate::proof::Proof;
use crate::verifier::VerifiedOutput;

/// The statement kind a generation record states (the only one so far).
pub const GREEDY: &str = "greedy";

/// What an output file says about a proof of generation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    /// [`GREEDY`]: each generated id is the first argmax of the logits at
    /// the position before it.
    pub statement: String,
    /// Ids of the prompt, at the start of the context.
    pub prompt_len: usize,
    /// Ids generated after the prompt.
    pub generated: usize,
    /// The whole context the proof's input holds: prompt, generated ids,
    /// then the last one repeated.
    pub ids: Vec<i64>,
    /// The generated ids as text (with a vocabulary), for people; not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Generation {
    /// The generated ids.
    pub fn generated_ids(&self) -> &[i64] {
        let end = (self.prompt_len + self.generated).min(self.ids.len());
        &self.ids[self.prompt_len.min(end)..end]
    }
}

/// The context length `T` and vocabulary `V` of a model that can generate:
/// one graph input of token ids gathered from a `V`-row table (its one-hot
/// rows alone), one sample, and `T × V` logits out.
pub fn context(model: &QuantModel) -> Result<(usize, usize)> {
    let fail = |m: &str| {
        Err(Error::Model(zkinfer_model::ModelError::Invalid(format!(
            "generation needs a language model: {m}"
        ))))
    };
    let [seg] = model.input_segments.as_slice() else {
        return fail("exactly one graph input (token ids)");
    };
    let Some(v) = seg.one_hot else {
        return fail("its input must be token ids gathered from an embedding table");
    };
    let t = seg.ids_len();
    if model.batch != 1 {
        return fail("one sample per statement");
    }
    if model.output_len() != t * v {
        return fail(&format!(
            "{} output values, not logits over {v} tokens at each of {t} positions",
            model.output_len()
        ));
    }
    Ok((t, v))
}

/// The statement input of a context of ids (their one-hot rows).
pub fn context_input(model: &QuantModel, ids: &[i64]) -> Result<Vec<f64>> {
    let file = InputFile {
        entries: vec![ids.iter().map(|&i| i as f64).collect()],
        npy: false,
    };
    model.statement_input(&file).map_err(|reason| {
        Error::Model(zkinfer_model::ModelError::Invalid(format!(
            "the context ids: {reason}"
        )))
    })
}

/// First index of the largest value.
fn argmax(v: &[i64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// The quantized model's logits (exact integers) on a context.
fn logits(model: &QuantModel, ids: &[i64]) -> Result<Vec<i64>> {
    let x = context_input(model, ids)?;
    Ok(zkinfer_model::run_quantized(model, &x)?.1)
}

/// The context filled from `prefix`: its last id repeated to length `t`.
fn filled(prefix: &[i64], t: usize) -> Vec<i64> {
    let mut ids = prefix.to_vec();
    let last = *prefix.last().expect("a non-empty prompt");
    ids.resize(t, last);
    ids
}

/// Generates `n` ids after `prompt` greedily with the integer model (one
/// forward pass per token) and returns the filled context. Refused when the
/// prompt is empty or `prompt + n` exceeds the context, and when the final
/// pass over the filled context does not reproduce every step (a model whose
/// logits at a position depend on later ones: not causal).
pub fn generate(model: &QuantModel, prompt: &[i64], n: usize) -> Result<Generation> {
    let (t, v) = context(model)?;
    let bad = |m: String| Err(Error::Model(zkinfer_model::ModelError::Invalid(m)));
    if prompt.is_empty() || prompt.len() + n > t {
        return bad(format!(
            "a prompt of {} ids and {n} generated ones must fit the context of {t} (and the prompt be non-empty)",
            prompt.len()
        ));
    }
    let mut ids = prompt.to_vec();
    for _ in 0..n {
        let pos = ids.len();
        let y = logits(model, &filled(&ids, t))?;
        ids.push(argmax(&y[(pos - 1) * v..pos * v]) as i64);
    }
    let g = Generation {
        statement: GREEDY.into(),
        prompt_len: prompt.len(),
        generated: n,
        ids: filled(&ids, t),
        text: None,
    };
    let y = logits(model, &g.ids)?;
    check_steps(&g, &y, v).map_err(|e| {
        Error::Model(zkinfer_model::ModelError::Invalid(format!(
            "the model is not causal: one pass over the generated context does not reproduce the generation ({e})"
        )))
    })?;
    Ok(g)
}

/// Every generated id is the first argmax of the logits before it.
fn check_steps(g: &Generation, logits: &[i64], v: usize) -> std::result::Result<(), String> {
    for t in g.prompt_len..g.prompt_len + g.generated {
        let best = argmax(&logits[(t - 1) * v..t * v]) as i64;
        if g.ids[t] != best {
            return Err(format!(
                "id {} at position {t} is not the argmax {best} of the logits at position {}",
                g.ids[t],
                t - 1
            ));
        }
    }
    Ok(())
}

/// Generates `n` tokens after `prompt` and proves one forward pass over the
/// context: the output file holds the logits and the generation record.
pub fn prove(
    pk: ProvingKey,
    prompt: &[i64],
    n: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<(api::Proven, Generation)> {
    let g = generate(&pk.model, prompt, n)?;
    let x = context_input(&pk.model, &g.ids)?;
    let mut proven = api::prove_float(pk, &x, progress)?;
    proven.output.generation = Some(g.clone());
    Ok((proven, g))
}

/// Verifies a proof of greedy generation on `prompt`: the record's kind,
/// prompt length and prompt ids against the verifier's own prompt, the proof
/// on the record's context, then each generated id against the proven
/// logits. Returns the verified output.
pub fn verify(
    vk: &VerifyingKey,
    prompt: &[i64],
    file: &OutputFile,
    proof: &Proof,
) -> Result<VerifiedOutput> {
    let fail = |m: String| Err(Error::OutputFile(m));
    let Some(g) = &file.generation else {
        return fail("no \"generation\" record: not a proof of generation".into());
    };
    let (t, v) = context(&vk.structure)?;
    if g.statement != GREEDY {
        return fail(format!("unknown generation statement \"{}\"", g.statement));
    }
    if g.prompt_len != prompt.len() || prompt.is_empty() {
        return fail(format!(
            "the record's prompt has {} ids, the given prompt {}",
            g.prompt_len,
            prompt.len()
        ));
    }
    if g.ids.len() != t || g.prompt_len + g.generated > t {
        return fail(format!(
            "the record's context holds {} ids ({} prompt + {} generated); the model's is {t}",
            g.ids.len(),
            g.prompt_len,
            g.generated
        ));
    }
    if g.ids[..g.prompt_len] != *prompt {
        return fail("the record's context does not start with the given prompt".into());
    }
    let x = context_input(&vk.structure, &g.ids)?;
    let plain = OutputFile {
        generation: None,
        ..file.clone()
    };
    let verified = api::verify_float(vk, &x, &plain, proof)?;
    check_steps(g, &verified.output_int, v).map_err(Error::OutputFile)?;
    Ok(verified)
}

/// The prompt's ids from an input file (one entry, or several concatenated):
/// integers.
pub fn read_prompt(path: &std::path::Path) -> Result<Vec<i64>> {
    let file = zkinfer_model::input::load_file(path)?;
    file.entries
        .concat()
        .iter()
        .map(|&x| {
            if x.fract() == 0.0 && x.abs() < 9.0e15 {
                Ok(x as i64)
            } else {
                Err(Error::Model(zkinfer_model::ModelError::InputFile {
                    path: path.display().to_string(),
                    reason: format!("{x} is not a token id"),
                }))
            }
        })
        .collect()
}

/// `ids` as text through a vocabulary (a JSON array of strings, one per id).
pub fn text(vocab: &[String], ids: &[i64]) -> Option<String> {
    ids.iter()
        .map(|&i| usize::try_from(i).ok().and_then(|i| vocab.get(i)).cloned())
        .collect()
}

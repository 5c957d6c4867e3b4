//! `setup`, `prove`, `verify` and `demo`: the proof half of the CLI.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;
use zkinfer_model::QuantModel;
use zkinfer_prover::proof::Proof;
use zkinfer_prover::zk::{CommitSeeds, InputVisibility, Visibility};
use zkinfer_prover::{
    api, generation, prove, setup, setup_with_mode, verify, CommitmentMode, ProvingKey,
    VerifyingKey,
};

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
    /// Write the keys even when proofs under them would compute less than
    /// the 100 bits of soundness zkinfer targets (for inspecting such a
    /// model with `zkinfer security`: `prove` and `verify` refuse every
    /// statement below the target).
    #[arg(long)]
    pub allow_weak_soundness: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ProveArgs {
    /// Proving key (KEYDIR/model.pk).
    #[arg(long)]
    pub pk: PathBuf,
    /// The input: one sample, or several (a model with a symbolic batch axis
    /// proves every row of the file in one proof). ezkl-style JSON or .npy.
    #[arg(long, alias = "inputs")]
    pub input: PathBuf,
    /// Proof file to write.
    #[arg(short = 'o', long = "proof")]
    pub proof: PathBuf,
    /// Where to write the proven output (JSON: dequantized `output`, exact
    /// `output_int`; with `--accuracy`: k, N, the accuracy, the data set's
    /// digest and the per-sample verdicts).
    #[arg(long = "output")]
    pub output_json: Option<PathBuf>,
    /// Prove the model's top-1 accuracy on the input rows against `--labels`
    /// (one proof: "the prediction equals the label on k of N samples").
    #[arg(long, requires = "labels")]
    pub accuracy: bool,
    /// Integer class labels, one per input row (.npy [N] or a JSON array).
    #[arg(long, requires = "accuracy")]
    pub labels: Option<PathBuf>,
    /// Generate N tokens greedily after the prompt `--input` holds (token ids)
    /// and prove one forward pass over the context; the output file records
    /// the generated ids (needs `--output`).
    #[arg(long, value_name = "N")]
    pub generate: Option<usize>,
    /// With `--generate`: a vocabulary (JSON array of strings, one per id) to
    /// write the generated text too.
    #[arg(long, requires = "generate")]
    pub vocab: Option<PathBuf>,
    /// Zero knowledge: the input stays private — committed and range-checked
    /// (token ids: proven one-hot rows) inside the proof, every message
    /// masked; `verify` then takes no `--input`. The weights stay public-committed, the output public.
    #[arg(long, conflicts_with_all = ["accuracy", "generate"])]
    pub private_input: bool,
    /// Zero knowledge with a committed input: private as with
    /// `--private-input`, and bound to a published digest (printed, and in
    /// the `--json` record) that `verify --input-digest` checks. The digest
    /// derives from the input and a secret seed (fresh unless
    /// `--input-seed`); revealing both lets anyone recompute it. One seed
    /// serves one proof: never prove twice with the same seed.
    #[arg(long, conflicts_with_all = ["accuracy", "generate", "private_input"])]
    pub commit_input: bool,
    /// With `--commit-input`: read the seed (64 hex digits) from this file,
    /// for a digest published before the proof.
    #[arg(long, requires = "commit_input")]
    pub input_seed: Option<PathBuf>,
    /// With `--commit-input`: write the seed used (64 hex digits) to this
    /// file, to reveal the input later. Keep it secret until then.
    #[arg(long, requires = "commit_input")]
    pub input_seed_out: Option<PathBuf>,
    /// Zero knowledge with a committed output: the output stays hidden,
    /// bound to a published digest (printed, and in the `--json` record)
    /// that `verify --output-digest` checks; with `--private-input` or
    /// `--commit-input`, or a public input. The `--output` file still
    /// records the values for the prover: keep it private until the output
    /// is revealed (with its seed, `--output-seed-out`).
    #[arg(long, conflicts_with_all = ["accuracy", "generate"])]
    pub commit_output: bool,
    /// With `--commit-output`: read the output's seed (64 hex digits) from
    /// this file instead of drawing a fresh one. One seed serves one proof:
    /// never prove twice with the same seed.
    #[arg(long, requires = "commit_output")]
    pub output_seed: Option<PathBuf>,
    /// With `--commit-output`: write the output's seed used (64 hex digits)
    /// to this file, to reveal the output later (`zkinfer output-digest`
    /// recomputes the digest from the `--output` file and the seed). Keep
    /// it secret until then.
    #[arg(long, requires = "commit_output")]
    pub output_seed_out: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct InputDigestArgs {
    /// Verifying key (KEYDIR/model.vk): the model's structure.
    #[arg(long)]
    pub vk: PathBuf,
    /// The input (JSON or .npy, as `prove` reads it).
    #[arg(long)]
    pub input: PathBuf,
    /// The seed (64 hex digits) to recompute a digest with: a revealed one,
    /// or one `--seed-out` wrote earlier.
    #[arg(long, conflicts_with = "seed_out")]
    pub seed: Option<PathBuf>,
    /// Draw a fresh seed and write it here (keep it secret; pass it to
    /// `prove --commit-input --input-seed` for the one proof of this
    /// digest).
    #[arg(long)]
    pub seed_out: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct OutputDigestArgs {
    /// Verifying key (KEYDIR/model.vk): the model's structure.
    #[arg(long)]
    pub vk: PathBuf,
    /// The revealed output: the file `prove --commit-output --output`
    /// wrote. Its exact integers (`output_int`) are what was committed;
    /// the dequantized `output` is not read.
    #[arg(long)]
    pub output: PathBuf,
    /// The output's seed (64 hex digits), as `prove --output-seed-out`
    /// wrote it or `--output-seed` read it.
    #[arg(long)]
    pub seed: PathBuf,
    /// How the proof's input was stated: a model too small to hide its
    /// reads proves copies of its sample, and how many can depend on it.
    /// Without it the digest is computed for every visibility the model
    /// proves with, and refused if they disagree.
    #[arg(long, value_enum)]
    pub input_visibility: Option<InputKind>,
    #[arg(long)]
    pub json: bool,
}

/// A proof's input, as `prove` states it.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Given in the clear (`prove` without `--private-input` or `--commit-input`).
    Public,
    /// `prove --private-input`.
    Private,
    /// `prove --commit-input`.
    Committed,
}

impl InputKind {
    const ALL: [Self; 3] = [Self::Public, Self::Private, Self::Committed];

    fn visibility(self) -> InputVisibility {
        match self {
            Self::Public => InputVisibility::Public,
            Self::Private => InputVisibility::Private,
            Self::Committed => InputVisibility::Committed,
        }
    }
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Verifying key (KEYDIR/model.vk).
    #[arg(long)]
    pub vk: PathBuf,
    #[arg(long)]
    pub proof: PathBuf,
    /// The public input (same file the prover used); none for a proof whose
    /// input is private (`prove --private-input`) or committed.
    #[arg(long, alias = "inputs")]
    pub input: Option<PathBuf>,
    /// The digest of a committed input (`prove --commit-input`, 64 hex
    /// digits): the proof must be of the input committed with it.
    #[arg(long, conflicts_with = "input")]
    pub input_digest: Option<String>,
    /// The digest of a committed output (`prove --commit-output`, 64 hex
    /// digits): then no `--output` file is read.
    #[arg(long)]
    pub output_digest: Option<String>,
    /// The claimed output (JSON written by `prove`).
    #[arg(long = "output", required_unless_present = "output_digest")]
    pub output: Option<PathBuf>,
    /// The proof is an accuracy proof (`prove --accuracy`) on `--labels`.
    #[arg(long, requires = "labels")]
    pub accuracy: bool,
    /// The labels the accuracy proof was made on.
    #[arg(long, requires = "accuracy")]
    pub labels: Option<PathBuf>,
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
    // A key whose proofs would compute below the target is refused before
    // anything is written: a "verified" under it would mean less than it says.
    let bits = zkinfer_prover::security::report(&pk.vk).total_bits;
    if bits < zkinfer_prover::TARGET_BITS {
        let msg = format!(
            "proofs under this key compute {bits:.1} bits of soundness, below the {} bits zkinfer targets (see `zkinfer security`)",
            zkinfer_prover::TARGET_BITS
        );
        if !a.allow_weak_soundness {
            bail!("{msg}; no key written (`--allow-weak-soundness` writes it anyway, for `zkinfer security`; prove and verify refuse it)");
        }
        eprintln!("warning: {msg}");
    }
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    pk.save(&a.output.join("model.pk"))?;
    pk.vk.save(&a.output.join("model.vk"))?;
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

pub fn run_prove(a: ProveArgs) -> Result<()> {
    if a.generate.is_some() {
        return run_prove_generation(a);
    }
    let t = Instant::now();
    let pk = ProvingKey::load(&a.pk)?;
    let load_s = t.elapsed().as_secs_f64();
    let x = api::read_statement_input(&a.input, &pk.model)?;
    if let Some(labels) = &a.labels {
        return crate::accuracy_cmds::prove(a.clone(), pk, &x, labels, load_s);
    }
    if !a.json {
        eprintln!(
            "proving {} ({} parameters, {} ops)...",
            pk.model.name,
            pk.model.num_params(),
            pk.model.ops.len()
        );
    }
    let mut progress = progress_printer(a.json);
    let proven = if a.commit_input || a.commit_output {
        let mut visibility = if a.commit_input {
            Visibility::COMMITTED_INPUT
        } else if a.private_input {
            Visibility::PRIVATE_INPUT
        } else {
            Visibility::PUBLIC
        };
        if a.commit_output {
            visibility = visibility.with_committed_output();
        }
        progress("proving in zero knowledge (committed input or output)");
        let seeds = CommitSeeds {
            input: a.input_seed.as_deref().map(read_seed).transpose()?,
            output: a.output_seed.as_deref().map(read_seed).transpose()?,
        };
        let proven = api::prove_float_zk(pk, &x, visibility, seeds)?;
        write_seed(a.input_seed_out.as_deref(), proven.input_seed.as_ref())?;
        write_seed(a.output_seed_out.as_deref(), proven.output_seed.as_ref())?;
        proven
    } else if a.private_input {
        progress("proving in zero knowledge (private input)");
        api::prove_float_zk(pk, &x, Visibility::PRIVATE_INPUT, CommitSeeds::default())?
    } else {
        api::prove_float(pk, &x, &mut progress)?
    };
    let bytes = proven.proof.to_bytes();
    std::fs::write(&a.proof, &bytes).with_context(|| format!("writing {}", a.proof.display()))?;
    if let Some(p) = &a.output_json {
        proven.output.write(p)?;
    }
    let prove_s = proven.timings.total().as_secs_f64();
    let output = json!(proven.output.output);
    if a.json {
        println!(
            "{}",
            json!({"prove_s": prove_s, "key_load_s": load_s, "proof_bytes": bytes.len(),
                   "model_id": proven.output.model_id, "output": output,
                   "input_digest": proven.input_digest.map(|d| hex(&d)),
                   "output_digest": proven.output_digest.map(|d| hex(&d)),
                   "outputs": proven.output.to_json().get("outputs"),
                   "breakdown_s": crate::bench_cmd::breakdown_json(&proven.timings),
                   "lookups_by_table_s": crate::bench_cmd::phase_json(&proven.timings.lookup_tables),
                   "layers_by_module_s": crate::bench_cmd::phase_json(&proven.timings.layer_modules)})
        );
    } else {
        if a.private_input {
            println!(
                "input      private (committed; range-checked, or token rows proven one-hot, in the proof; zero knowledge)"
            );
        }
        if let Some(d) = &proven.input_digest {
            println!(
                "input      committed, digest {} (private; verify with --input-digest)",
                hex(d)
            );
        }
        if let Some(d) = &proven.output_digest {
            println!(
                "output     committed, digest {} (hidden from the verifier; verify with --output-digest)",
                hex(d)
            );
        }
        println!("output     {}", preview(&proven.output.output));
        println!("proof      {} bytes -> {}", bytes.len(), a.proof.display());
        println!("prove      {prove_s:.3} s (key load {load_s:.3} s)");
    }
    Ok(())
}

/// `prove --generate N`: greedy generation after the prompt, one proof.
fn run_prove_generation(a: ProveArgs) -> Result<()> {
    let n = a.generate.expect("called with --generate");
    let Some(out_path) = &a.output_json else {
        bail!("--generate needs --output FILE: the output file records the generated ids verify checks");
    };
    let pk = ProvingKey::load(&a.pk)?;
    let prompt = generation::read_prompt(&a.input)?;
    let vocab: Option<Vec<String>> = match &a.vocab {
        Some(p) => Some(
            serde_json::from_slice(
                &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            )
            .with_context(|| format!("{}: a JSON array of strings", p.display()))?,
        ),
        None => None,
    };
    let started = Instant::now();
    let mut progress = progress_printer(a.json);
    let (mut proven, g) = generation::prove(pk, &prompt, n, &mut progress)?;
    let text = vocab
        .as_deref()
        .and_then(|v| generation::text(v, g.generated_ids()));
    if let Some(gen) = proven.output.generation.as_mut() {
        gen.text = text.clone();
    }
    let bytes = proven.proof.to_bytes();
    std::fs::write(&a.proof, &bytes).with_context(|| format!("writing {}", a.proof.display()))?;
    proven.output.write(out_path)?;
    let prove_s = proven.timings.total().as_secs_f64();
    if a.json {
        println!(
            "{}",
            json!({"prove_s": prove_s, "proof_bytes": bytes.len(), "model_id": proven.output.model_id,
                   "generated": g.generated_ids(), "text": text})
        );
    } else {
        println!("generated  {:?}", g.generated_ids());
        if let Some(t) = &text {
            println!("text       {t:?}");
        }
        println!("proof      {} bytes -> {}", bytes.len(), a.proof.display());
        println!(
            "prove      {prove_s:.3} s (one forward pass; with the generation {:.3} s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

pub fn run_verify(a: VerifyArgs) -> Result<()> {
    let vk = VerifyingKey::load(&a.vk)?;
    if let Some(d) = &a.output_digest {
        return run_verify_committed_output(&a, &vk, d);
    }
    let input_path = || {
        a.input
            .as_ref()
            .context("--input is needed: this proof's input is public")
    };
    if let Some(labels) = &a.labels {
        let x = api::read_statement_input(input_path()?, &vk.structure)?;
        return crate::accuracy_cmds::verify(&a, &vk, &x, labels);
    }
    let file = api::OutputFile::read(a.output.as_ref().context("--output is needed")?)?;
    let bytes =
        std::fs::read(&a.proof).with_context(|| format!("reading {}", a.proof.display()))?;
    let proof = Proof::from_bytes(&bytes);
    let input_visibility = match &proof {
        Ok(p) => p.zk.as_ref().map(|z| z.visibility.input),
        Err(_) => None,
    };
    let private_input = input_visibility == Some(InputVisibility::Private);
    // A proof that does not decode is reported as such on the digest's path.
    let committed_input = input_visibility == Some(InputVisibility::Committed)
        || (proof.is_err() && a.input_digest.is_some());
    if private_input && (a.input.is_some() || a.input_digest.is_some()) {
        bail!("this proof's input is private: the verifier reads neither an input nor a digest (verify without --input and --input-digest)");
    }
    if committed_input && a.input_digest.is_none() {
        bail!("this proof's input is committed: verify it with --input-digest (the digest `prove --commit-input` printed)");
    }
    if !committed_input && a.input_digest.is_some() {
        bail!("--input-digest is for a proof of a committed input (`prove --commit-input`); this proof's input is not committed");
    }
    let digest = a.input_digest.as_deref().map(parse_digest).transpose()?;
    let t = Instant::now();
    let result = if file.generation.is_some() {
        // The input is the prompt; the context comes from the record, checked.
        let prompt = generation::read_prompt(input_path()?)?;
        proof
            .map_err(api::Error::from)
            .and_then(|p| generation::verify(&vk, &prompt, &file, &p))
    } else if private_input || committed_input {
        proof
            .map_err(api::Error::from)
            .and_then(|p| api::verify_float_zk(&vk, None, digest.as_ref(), &file, &p))
    } else {
        let x = api::read_statement_input(input_path()?, &vk.structure)?;
        proof
            .map_err(api::Error::from)
            .and_then(|p| api::verify_float(&vk, &x, &file, &p))
    };
    let secs = t.elapsed().as_secs_f64();
    if a.json {
        let (output, output_int) = match &result {
            Ok(v) => (json!(v.output), json!(v.output_int)),
            Err(_) => (json!(null), json!(null)),
        };
        println!(
            "{}",
            json!({"verified": result.is_ok(), "verify_s": secs, "model_id": vk.model_id_hex(),
                   "security_bits": result.as_ref().ok().map(|v| v.security_bits),
                   "output": output, "output_int": output_int,
                   "error": result.as_ref().err().map(|e| format!("{e:#}"))})
        );
    }
    match result {
        Ok(v) => {
            if !a.json {
                println!(
                    "verified ({:.1} ms, model {}, {:.1} bits)",
                    secs * 1e3,
                    vk.model_id_hex(),
                    v.security_bits
                );
                if private_input {
                    println!("input      private: never read (zero-knowledge proof; the weights and the output are public)");
                }
                if committed_input {
                    println!("input      committed: never read, the one committed with digest {} (zero-knowledge proof; the weights and the output are public)", a.input_digest.as_deref().unwrap_or_default());
                }
                if let Some(g) = &file.generation {
                    println!(
                        "generation {} ids after a prompt of {}, each the argmax of the proven logits: {:?}{}",
                        g.generated,
                        g.prompt_len,
                        g.generated_ids(),
                        g.text.as_ref().map(|t| format!(" ({t:?})")).unwrap_or_default()
                    );
                }
                println!("output     {}", preview(&v.output));
                println!("output_int {}", preview(&v.output_int));
            }
            Ok(())
        }
        Err(api::Error::Verify(e)) => bail!("NOT verified: {e}"),
        Err(e) => bail!("NOT verified: {e:#}"),
    }
}

/// Values for the terminal: all of a small output, the first ones of a
/// large one (a language model's logits are millions; `--output` and
/// `--json` keep every value).
fn preview<T: serde::Serialize>(values: &[T]) -> String {
    const SHOWN: usize = 32;
    if values.len() <= SHOWN {
        return json!(values).to_string();
    }
    let head = json!(&values[..SHOWN]).to_string();
    format!(
        "{}, … ] ({} values; all of them in the output file)",
        head.trim_end_matches(']'),
        values.len()
    )
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
    let x = api::quantize_input(&pk.model, &sample[0])?;
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

/// Prints each proving phase with the time since the start, unless `quiet`.
pub fn progress_printer(quiet: bool) -> impl FnMut(&str) {
    let started = Instant::now();
    move |phase| {
        if !quiet {
            eprintln!("  [{:>7.3} s] {phase}", started.elapsed().as_secs_f64());
        }
    }
}

/// 32 bytes as 64 hex digits (surrounding whitespace allowed).
fn parse_hex32(text: &str, what: &str) -> Result<[u8; 32]> {
    let t = text.trim();
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{what}: expected 64 hex digits");
    }
    let mut out = [0u8; 32];
    for (k, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&t[2 * k..2 * k + 2], 16).expect("hex digits checked");
    }
    Ok(out)
}

fn parse_digest(text: &str) -> Result<[u8; 32]> {
    parse_hex32(text, "--input-digest")
}

/// `input-digest`: a committed input's digest without a proof — to publish
/// it before proving, or to check a revealed input and seed.
pub fn run_input_digest(a: InputDigestArgs) -> Result<()> {
    let vk = VerifyingKey::load(&a.vk)?;
    let x = api::read_statement_input(&a.input, &vk.structure)?;
    let seed = match (&a.seed, &a.seed_out) {
        (Some(p), _) => read_seed(p)?,
        (None, Some(p)) => {
            let mut seed = [0u8; 32];
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
            rand::RngCore::fill_bytes(&mut rng, &mut seed);
            std::fs::write(p, format!("{}\n", hex(&seed)))
                .with_context(|| format!("writing {}", p.display()))?;
            seed
        }
        (None, None) => bail!("give --seed (recompute a digest) or --seed-out (draw a fresh seed)"),
    };
    let digest = hex(&api::committed_input_digest(&vk.structure, &x, &seed)?);
    if a.json {
        println!(
            "{}",
            json!({"input_digest": digest, "model_id": vk.model_id_hex()})
        );
    } else {
        println!("input digest {digest}");
    }
    Ok(())
}

/// `output-digest`: a committed output's digest from the revealed output
/// file and seed, to check against the digest its proof published.
pub fn run_output_digest(a: OutputDigestArgs) -> Result<()> {
    let vk = VerifyingKey::load(&a.vk)?;
    let file = api::OutputFile::read(&a.output)?;
    let seed = read_seed(&a.seed)?;
    let digest = match a.input_visibility {
        Some(kind) => api::committed_output_digest(&vk, &file, kind.visibility(), &seed)?,
        None => output_digest_any_input(&vk, &file, &seed)?,
    };
    let digest = hex(&digest);
    if a.json {
        println!(
            "{}",
            json!({"output_digest": digest, "model_id": vk.model_id_hex()})
        );
    } else {
        println!("output digest {digest}");
    }
    Ok(())
}

/// The digest for every input visibility the model proves a committed
/// output with; they agree unless the copies it proves differ.
fn output_digest_any_input(
    vk: &VerifyingKey,
    file: &api::OutputFile,
    seed: &[u8; 32],
) -> Result<[u8; 32]> {
    let mut found: Vec<(InputKind, [u8; 32])> = Vec::new();
    let mut first_err = None;
    for kind in InputKind::ALL {
        match api::committed_output_digest(vk, file, kind.visibility(), seed) {
            Ok(d) => found.push((kind, d)),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match found.as_slice() {
        [] => Err(first_err.expect("three attempts").into()),
        [(_, d), rest @ ..] if rest.iter().all(|(_, e)| e == d) => Ok(*d),
        _ => bail!(
            "this model's committed-output digest depends on how the proof's input was stated (it proves another number of copies): give --input-visibility ({})",
            found
                .iter()
                .map(|(k, _)| format!("{k:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A committed input's or output's seed from its file.
fn read_seed(path: &std::path::Path) -> Result<[u8; 32]> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_hex32(&text, &format!("seed file {}", path.display()))
}

/// Writes a seed the prover used to `path` (when both are there).
fn write_seed(path: Option<&std::path::Path>, seed: Option<&[u8; 32]>) -> Result<()> {
    if let (Some(path), Some(seed)) = (path, seed) {
        std::fs::write(path, format!("{}\n", hex(seed)))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `verify --output-digest`: a proof whose output is committed; no output
/// file is read, and nothing of the output is printed.
fn run_verify_committed_output(a: &VerifyArgs, vk: &VerifyingKey, digest: &str) -> Result<()> {
    let output_digest = parse_hex32(digest, "--output-digest")?;
    let input_digest = a.input_digest.as_deref().map(parse_digest).transpose()?;
    let x = match &a.input {
        Some(p) => Some(api::read_statement_input(p, &vk.structure)?),
        None => None,
    };
    let bytes =
        std::fs::read(&a.proof).with_context(|| format!("reading {}", a.proof.display()))?;
    let t = Instant::now();
    let result = Proof::from_bytes(&bytes)
        .map_err(api::Error::from)
        .and_then(|p| {
            api::verify_float_zk_committed_output(
                vk,
                x.as_deref(),
                input_digest.as_ref(),
                &output_digest,
                &p,
            )
        });
    let secs = t.elapsed().as_secs_f64();
    if a.json {
        println!(
            "{}",
            json!({"verified": result.is_ok(), "verify_s": secs, "model_id": vk.model_id_hex(),
                   "security_bits": result.as_ref().ok().map(|v| v.security_bits),
                   "output_digest": digest, "error": result.as_ref().err().map(|e| format!("{e:#}"))})
        );
    }
    match result {
        Ok(v) => {
            if !a.json {
                println!(
                    "verified ({:.1} ms, model {}, {:.1} bits)",
                    secs * 1e3,
                    vk.model_id_hex(),
                    v.security_bits
                );
                let input = match (&a.input, &a.input_digest) {
                    (Some(_), _) => "public (the given one)".to_string(),
                    (None, Some(d)) => {
                        format!("committed: never read, the one committed with digest {d}")
                    }
                    (None, None) => "private: never read".to_string(),
                };
                println!("input      {input}");
                println!(
                    "output     committed: never revealed, the one committed with digest {digest}"
                );
            }
            Ok(())
        }
        Err(api::Error::Verify(e)) => bail!("NOT verified: {e}"),
        Err(e) => bail!("NOT verified: {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn small_outputs_print_whole_large_ones_by_their_head() {
        assert_eq!(preview(&[1, -2, 3]), "[1,-2,3]");
        let many: Vec<i64> = (0..100).collect();
        let p = preview(&many);
        assert!(p.starts_with("[0,1,2,"), "{p}");
        assert!(p.contains("31, … ]"), "{p}");
        assert!(!p.contains(",32"), "{p}");
        assert!(
            p.ends_with("(100 values; all of them in the output file)"),
            "{p}"
        );
    }
}

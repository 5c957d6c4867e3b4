//! `zkinfer coverage DIR`: how much of an operator corpus (`scripts/make_op_corpus.py`) zkinfer
//! proves. Each subdirectory holding `model.onnx` goes through compile → setup → prove → verify
//! in this process, through the same `api` facade as the other commands, and its verified output
//! is compared with onnxruntime's (`reference.json`). One model's error or panic is that model's
//! line, never the end of the run: the point is the whole table.
//!
//! Corpus conventions (written by the script): `input.json` holds one `input_data` entry per graph
//! input, so a single-input model's file is exactly what `prove --input` reads; `reference.json`
//! is `{"outputs": [{"name", "shape", "data"}]}`, outputs in graph order, flattened.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::{json, Value};
use zkinfer_prover::proof::Proof;
use zkinfer_prover::{api, CommitmentMode, VerifyingKey};

#[derive(Args, Debug)]
pub struct CoverageArgs {
    /// Corpus directory: one subdirectory per model with model.onnx, input.json, reference.json.
    pub dir: PathBuf,
    /// Write the per-model results and the summary to this JSON file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Only models whose directory name contains this.
    #[arg(long, value_name = "SUBSTR")]
    pub filter: Option<String>,
    /// Stop waiting for a model after this many seconds and report it as timed out. Its work
    /// cannot be interrupted: it goes on in the background until it ends or the run does.
    #[arg(long, value_name = "SECS")]
    pub timeout_secs: Option<f64>,
    /// Largest mean relative error of a verified output that still counts as correct.
    #[arg(long, default_value_t = 0.01)]
    pub tolerance: f64,
}

/// Where a model stopped; stored in an atomic so a panic can be attributed to its stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Load = 0,
    Compile = 1,
    Setup = 2,
    Prove = 3,
    Verify = 4,
}

impl Stage {
    fn from_u8(v: u8) -> Stage {
        [
            Stage::Load,
            Stage::Compile,
            Stage::Setup,
            Stage::Prove,
            Stage::Verify,
        ][v.min(4) as usize]
    }

    fn name(self) -> &'static str {
        match self {
            Stage::Load => "load",
            Stage::Compile => "compile",
            Stage::Setup => "setup",
            Stage::Prove => "prove",
            Stage::Verify => "verify",
        }
    }
}

#[derive(Clone, Debug)]
enum Status {
    Verified,
    /// The proof verified, but its output is not onnxruntime's (length, or error over tolerance).
    WrongOutput(String),
    Refused(Stage, String),
    Panicked(Stage, String),
    /// The corpus entry itself is unusable (missing or malformed reference.json or input.json).
    BadEntry(String),
    TimedOut(f64),
}

impl Status {
    fn kind(&self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::WrongOutput(_) => "wrong_output",
            Status::Refused(..) => "refused",
            Status::Panicked(..) => "panicked",
            Status::BadEntry(_) => "bad_entry",
            Status::TimedOut(_) => "timed_out",
        }
    }

    fn line(&self) -> String {
        match self {
            Status::Verified => "verified".into(),
            Status::WrongOutput(m) => format!("wrong output: {m}"),
            Status::Refused(s, m) => format!("refused at {}: {m}", s.name()),
            Status::Panicked(s, m) => format!("panicked at {}: {m}", s.name()),
            Status::BadEntry(m) => format!("bad corpus entry: {m}"),
            Status::TimedOut(t) => format!("timed out after {t} s"),
        }
    }

    /// The key failures are grouped by: the stage and the message without what names one
    /// model (node and tensor names, counts, shapes), so one missing op is one group.
    fn group(&self) -> Option<String> {
        match self {
            Status::Verified => None,
            Status::WrongOutput(_) => Some("wrong output".into()),
            Status::Refused(s, m) => Some(format!("{}: {}", s.name(), group_key(m))),
            Status::Panicked(s, m) => Some(format!("panic at {}: {}", s.name(), group_key(m))),
            Status::BadEntry(m) => Some(format!("bad corpus entry: {}", group_key(m))),
            Status::TimedOut(_) => Some("timed out".into()),
        }
    }
}

struct Outcome {
    name: String,
    status: Status,
    prove_s: Option<f64>,
    proof_bytes: Option<usize>,
    /// Over every model whose proof verified, in tolerance or not.
    errors: Option<RelErrors>,
    ops: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
struct RelErrors {
    max: f64,
    mean: f64,
}

/// Relative error of `got` against the reference `want`, element by element:
/// `|got − want| / max(|want|, floor)`, with `floor = 1e-2 · max|want|` over the whole output
/// (at least 1e-6). Plain relative error explodes on reference values near 0 (a ReLU's zeros, a
/// probability of 1e-5) although an absolute error of a percent of the output's scale is the
/// same quantization noise there as anywhere; the floor measures those entries against the
/// output's scale instead. Non-finite values give an infinite error.
fn relative_errors(got: &[f64], want: &[f64]) -> RelErrors {
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let floor = (1e-2 * scale).max(1e-6);
    let mut max = 0.0f64;
    let mut sum = 0.0;
    for (&g, &w) in got.iter().zip(want) {
        let e = if g.is_finite() && w.is_finite() {
            (g - w).abs() / w.abs().max(floor)
        } else {
            f64::INFINITY
        };
        max = max.max(e);
        sum += e;
    }
    RelErrors {
        max,
        mean: if want.is_empty() {
            0.0
        } else {
            sum / want.len() as f64
        },
    }
}

/// The message with what is specific to one model replaced: backquoted names other than op
/// types (`Pad` stays, `/layer1/Pad_3` goes), the "(node …, position …)" parenthetical and
/// the supported-operator list, and runs of digits.
fn group_key(msg: &str) -> String {
    let msg = msg.split("; supported operators").next().unwrap_or(msg);
    let mut out = String::new();
    let mut rest = msg;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('`') {
            Some(end) => {
                let name = &after[..end];
                let op_like = name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric());
                out.push('`');
                out.push_str(if op_like { name } else { "…" });
                out.push('`');
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    // "(node `…`, position N in the graph)" and "(node `…`, position N)" name one node.
    while let Some(start) = out.find(" (node `") {
        match out[start..].find(')') {
            Some(len) => out.replace_range(start..start + len + 1, ""),
            None => break,
        }
    }
    // Numbers that vary per model ("found 3", "[1, 4]", "op #2"), not those that name a case
    // ("float32", "2-D", "ceil_mode=1", "2^24").
    let chars: Vec<char> = out.chars().collect();
    let mut key = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let fixed = prev.is_some_and(|p| p.is_ascii_alphanumeric() || "_=^".contains(p));
        if !c.is_ascii_digit() || fixed {
            key.push(c);
            i += 1;
            continue;
        }
        let end = (i..chars.len())
            .find(|&j| !chars[j].is_ascii_digit())
            .unwrap_or(chars.len());
        if chars[end..].starts_with(&['-', 'D']) {
            key.extend(&chars[i..end]);
        } else {
            key.push('N');
        }
        i = end;
    }
    key
}

/// The first line of an error, cut before the list of every supported operator.
fn first_line(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("").to_string();
    match line.find("; supported operators") {
        Some(i) => line[..i].to_string(),
        None => line,
    }
}

struct Reference {
    outputs: Vec<Vec<f64>>,
}

fn read_reference(path: &Path) -> std::result::Result<Reference, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reference.json: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("reference.json: {e}"))?;
    let outs = v
        .get("outputs")
        .and_then(Value::as_array)
        .filter(|o| !o.is_empty())
        .ok_or("reference.json: no non-empty \"outputs\" array")?;
    let outputs = outs
        .iter()
        .map(|o| {
            o.get("data")
                .and_then(Value::as_array)
                .ok_or("reference.json: an output without a \"data\" array")?
                .iter()
                .map(|x| x.as_f64().ok_or("reference.json: a non-numeric value"))
                .collect::<std::result::Result<Vec<f64>, _>>()
        })
        .collect::<std::result::Result<_, _>>()?;
    Ok(Reference { outputs })
}

/// The op types `meta.json` lists, if it is there (for the JSON report only).
fn read_ops(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("meta.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v.get("ops")?
                .as_array()?
                .iter()
                .map(|o| o.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// What one model's run produced.
struct Run {
    status: Status,
    prove_s: Option<f64>,
    proof_bytes: Option<usize>,
    errors: Option<RelErrors>,
}

/// Compile → setup → prove → verify → compare; `stage` is advanced before each stage so that a
/// panic can be attributed to it.
fn run_model(dir: &Path, tolerance: f64, stage: &AtomicU8) -> Run {
    let mut run = Run::of(Status::Verified);
    // Messages name files relative to the model's directory, so they group across models.
    let prefix = format!("{}{}", dir.display(), std::path::MAIN_SEPARATOR);
    let line = |e: &dyn std::fmt::Display| first_line(e).replace(&prefix, "");
    let reference = match read_reference(&dir.join("reference.json")) {
        Ok(r) => r,
        Err(e) => {
            run.status = Status::BadEntry(e);
            return run;
        }
    };
    let inputs = match api::read_inputs(&dir.join("input.json")) {
        Ok(x) => x,
        Err(e) => {
            run.status = Status::BadEntry(format!("input.json: {}", line(&e)));
            return run;
        }
    };
    let refuse = |s: Stage, e: &dyn std::fmt::Display| Status::Refused(s, line(e));
    stage.store(Stage::Compile as u8, Ordering::SeqCst);
    // One entry per graph input: calibration and the statement read them as input files do.
    let model = match api::compile_onnx(&dir.join("model.onnx"), &inputs, &Default::default()) {
        Ok((m, _report)) => m,
        Err(e) => {
            run.status = refuse(Stage::Compile, &e);
            return run;
        }
    };
    let x = match api::read_statement_input(&dir.join("input.json"), &model) {
        Ok(x) => x,
        Err(e) => {
            run.status = refuse(Stage::Compile, &e);
            return run;
        }
    };
    stage.store(Stage::Setup as u8, Ordering::SeqCst);
    let pk = match api::setup(model, CommitmentMode::Fast) {
        Ok(pk) => pk,
        Err(e) => {
            run.status = refuse(Stage::Setup, &e);
            return run;
        }
    };
    let vk_bytes = pk.vk.to_bytes();
    let vk_structure = pk.vk.structure.clone();
    stage.store(Stage::Prove as u8, Ordering::SeqCst);
    let proven = match api::prove_float(pk, &x, &mut |_| {}) {
        Ok(p) => p,
        Err(e) => {
            run.status = refuse(Stage::Prove, &e);
            return run;
        }
    };
    run.prove_s = Some(proven.timings.total().as_secs_f64());
    // Verify what a verifier receives: the key, proof and output file as bytes.
    stage.store(Stage::Verify as u8, Ordering::SeqCst);
    let bytes = proven.proof.to_bytes();
    run.proof_bytes = Some(bytes.len());
    let verified = VerifyingKey::from_bytes(&vk_bytes)
        .map_err(api::Error::from)
        .and_then(|vk| {
            let proof = Proof::from_bytes(&bytes)?;
            let file = api::OutputFile::parse(&proven.output.to_json().to_string())
                .map_err(api::Error::OutputFile)?;
            api::verify_float(&vk, &x, &file, &proof)
        });
    let verified = match verified {
        Ok(v) => v,
        Err(e) => {
            run.status = refuse(Stage::Verify, &e);
            return run;
        }
    };
    // Each graph output against onnxruntime's: the worst output decides.
    let got = api::named_outputs(&vk_structure, &verified.output);
    run.status = if reference.outputs.len() != got.len() {
        Status::WrongOutput(format!(
            "the reference has {} outputs, the proof {}",
            reference.outputs.len(),
            got.len()
        ))
    } else if let Some((g, w)) = got
        .iter()
        .zip(&reference.outputs)
        .find(|(g, w)| g.values.len() != w.len())
    {
        Status::WrongOutput(format!(
            "output `{}`: {} values, the reference {}",
            g.name,
            g.values.len(),
            w.len()
        ))
    } else {
        let err = got
            .iter()
            .zip(&reference.outputs)
            .map(|(g, w)| relative_errors(&g.values, w))
            .fold(
                RelErrors {
                    max: 0.0,
                    mean: 0.0,
                },
                |a, e| RelErrors {
                    max: a.max.max(e.max),
                    mean: a.mean.max(e.mean),
                },
            );
        run.errors = Some(err);
        if err.mean <= tolerance {
            Status::Verified
        } else {
            Status::WrongOutput(format!(
                "mean relative error {:.3} % over the tolerance {} %",
                err.mean * 100.0,
                tolerance * 100.0
            ))
        }
    };
    run
}

/// The last panic's message and location, recorded by the hook `run_coverage` installs (a
/// panic in a rayon worker reaches the model's thread with its payload only).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(m) = LAST_PANIC.lock().ok().and_then(|mut p| p.take()) {
        return m;
    }
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Runs one model on its own thread: a panic is caught there, and a timeout can stop the wait.
fn run_isolated(dir: PathBuf, tolerance: f64, timeout: Option<Duration>) -> Run {
    isolate(move |stage| run_model(&dir, tolerance, stage), timeout)
}

impl Run {
    /// A run that got no further than `status`.
    fn of(status: Status) -> Run {
        Run {
            status,
            prove_s: None,
            proof_bytes: None,
            errors: None,
        }
    }
}

fn isolate(work: impl FnOnce(&AtomicU8) -> Run + Send + 'static, timeout: Option<Duration>) -> Run {
    let stage = Arc::new(AtomicU8::new(Stage::Load as u8));
    let (tx, rx) = mpsc::channel();
    let st = stage.clone();
    let spawned = std::thread::Builder::new()
        .name("coverage-model".into())
        .stack_size(64 << 20)
        .spawn(move || {
            let run = catch_unwind(AssertUnwindSafe(|| work(&st))).unwrap_or_else(|payload| {
                Run::of(Status::Panicked(
                    Stage::from_u8(st.load(Ordering::SeqCst)),
                    panic_message(payload.as_ref()),
                ))
            });
            let _ = tx.send(run);
        });
    if let Err(e) = spawned {
        return Run::of(Status::Panicked(
            Stage::Load,
            format!("cannot start a thread: {e}"),
        ));
    }
    let received = match timeout {
        Some(t) => rx.recv_timeout(t).map_err(|_| t.as_secs_f64()),
        None => rx.recv().map_err(|_| 0.0),
    };
    received.unwrap_or_else(|t| Run::of(Status::TimedOut(t)))
}

fn model_dirs(dir: &Path, filter: Option<&str>) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("reading the corpus {}", dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("model.onnx").is_file())
        .filter(|p| filter.is_none_or(|f| dir_name(p).contains(f)))
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn dir_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn fmt_opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".into(), f)
}

fn print_line(o: &Outcome, width: usize) {
    println!(
        "{:<width$}  {:>8}  {:>9}  {:>9}  {}",
        o.name,
        fmt_opt(o.prove_s, |s| format!("{s:.3}")),
        fmt_opt(o.errors.map(|e| e.max), |e| format!("{e:.2e}")),
        fmt_opt(o.errors.map(|e| e.mean), |e| format!("{e:.2e}")),
        o.status.line()
    );
}

pub fn run_coverage(a: CoverageArgs) -> Result<()> {
    if a.tolerance.is_nan() || a.tolerance < 0.0 {
        bail!("--tolerance must be a non-negative number");
    }
    let timeout = match a.timeout_secs {
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(_) => bail!("--timeout-secs must be a positive number of seconds"),
        None => None,
    };
    let dirs = model_dirs(&a.dir, a.filter.as_deref())?;
    if dirs.is_empty() {
        bail!(
            "no model directories (holding model.onnx) in {}{}",
            a.dir.display(),
            a.filter
                .as_ref()
                .map_or(String::new(), |f| format!(" matching {f:?}"))
        );
    }
    let width = dirs
        .iter()
        .map(|d| dir_name(d).len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "{:<width$}  {:>8}  {:>9}  {:>9}  status",
        "model", "prove s", "max rel", "mean rel"
    );
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let msg = info.payload_as_str().unwrap_or("(no message)");
        let at = info
            .location()
            .map_or(String::new(), |l| format!(" ({}:{})", l.file(), l.line()));
        if let Ok(mut p) = LAST_PANIC.lock() {
            *p = Some(format!("{}{at}", msg.lines().next().unwrap_or("")));
        }
    }));
    let started = Instant::now();
    let mut outcomes = vec![];
    for d in &dirs {
        if let Ok(mut p) = LAST_PANIC.lock() {
            *p = None;
        }
        let run = run_isolated(d.clone(), a.tolerance, timeout);
        let o = Outcome {
            name: dir_name(d),
            status: run.status,
            prove_s: run.prove_s,
            proof_bytes: run.proof_bytes,
            errors: run.errors,
            ops: read_ops(d),
        };
        print_line(&o, width);
        outcomes.push(o);
    }
    std::panic::set_hook(previous_hook);
    let summary = summarize(&outcomes, started.elapsed());
    print_summary(&summary, outcomes.len());
    if let Some(path) = &a.json {
        let report = json!({
            "dir": a.dir,
            "tolerance": a.tolerance,
            "relative_error": "|a-b| / max(|b|, max(1e-2 * max|b| over the output, 1e-6))",
            "models": outcomes.iter().map(outcome_json).collect::<Vec<_>>(),
            "summary": summary_json(&summary),
        });
        let text = serde_json::to_string_pretty(&report).expect("plain JSON values");
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

struct Summary {
    counts: BTreeMap<&'static str, usize>,
    /// Mean over the models whose proof verified of their mean relative error.
    mean_mean_rel: Option<f64>,
    total_prove_s: f64,
    slowest: Option<(String, f64)>,
    /// Failure groups, largest first: (reason, models).
    groups: Vec<(String, Vec<String>)>,
    wall_s: f64,
}

fn summarize(outcomes: &[Outcome], wall: Duration) -> Summary {
    let mut counts = BTreeMap::new();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in outcomes {
        *counts.entry(o.status.kind()).or_insert(0) += 1;
        if let Some(g) = o.status.group() {
            groups.entry(g).or_default().push(o.name.clone());
        }
    }
    let errs: Vec<f64> = outcomes
        .iter()
        .filter_map(|o| o.errors.map(|e| e.mean))
        .collect();
    let mut groups: Vec<(String, Vec<String>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    Summary {
        counts,
        mean_mean_rel: (!errs.is_empty()).then(|| errs.iter().sum::<f64>() / errs.len() as f64),
        total_prove_s: outcomes.iter().filter_map(|o| o.prove_s).sum(),
        slowest: outcomes
            .iter()
            .filter_map(|o| o.prove_s.map(|s| (o.name.clone(), s)))
            .max_by(|a, b| a.1.total_cmp(&b.1)),
        groups,
        wall_s: wall.as_secs_f64(),
    }
}

fn print_summary(s: &Summary, total: usize) {
    let n = |k: &str| s.counts.get(k).copied().unwrap_or(0);
    println!();
    println!(
        "proven and verified: {} / {total} ({:.1} %)",
        n("verified"),
        100.0 * n("verified") as f64 / total as f64
    );
    println!(
        "  wrong output {}, refused {}, panicked {}, bad corpus entries {}, timed out {}",
        n("wrong_output"),
        n("refused"),
        n("panicked"),
        n("bad_entry"),
        n("timed_out")
    );
    match s.mean_mean_rel {
        Some(m) => println!(
            "mean of mean relative errors (every model whose proof verified): {:.4} %",
            m * 100.0
        ),
        None => println!("mean of mean relative errors: - (no proof verified)"),
    }
    match &s.slowest {
        Some((name, t)) => println!(
            "prove time: {:.3} s in total, slowest {name} ({t:.3} s); run {:.1} s",
            s.total_prove_s, s.wall_s
        ),
        None => println!("run {:.1} s", s.wall_s),
    }
    if !s.groups.is_empty() {
        println!();
        println!("failures by reason:");
        for (reason, models) in &s.groups {
            let shown: Vec<&str> = models.iter().take(6).map(String::as_str).collect();
            let more = if models.len() > shown.len() {
                format!(", … {} more", models.len() - shown.len())
            } else {
                String::new()
            };
            println!("{:>5}  {reason}", models.len());
            println!("       {}{more}", shown.join(", "));
        }
    }
}

fn outcome_json(o: &Outcome) -> Value {
    let (stage, reason) = match &o.status {
        Status::Verified => (None, None),
        Status::WrongOutput(m) | Status::BadEntry(m) => (None, Some(m.clone())),
        Status::Refused(s, m) | Status::Panicked(s, m) => (Some(s.name()), Some(m.clone())),
        Status::TimedOut(t) => (None, Some(format!("timed out after {t} s"))),
    };
    json!({
        "name": o.name,
        "status": o.status.kind(),
        "stage": stage,
        "reason": reason,
        "group": o.status.group(),
        "line": o.status.line(),
        "prove_s": o.prove_s,
        "proof_bytes": o.proof_bytes,
        "max_rel_err": o.errors.map(|e| e.max),
        "mean_rel_err": o.errors.map(|e| e.mean),
        "ops": o.ops,
    })
}

fn summary_json(s: &Summary) -> Value {
    json!({
        "counts": s.counts,
        "total": s.counts.values().sum::<usize>(),
        "mean_mean_rel_err": s.mean_mean_rel,
        "total_prove_s": s.total_prove_s,
        "slowest": s.slowest.as_ref().map(|(n, t)| json!({"name": n, "prove_s": t})),
        "failures": s.groups.iter().map(|(r, m)| json!({"reason": r, "count": m.len(), "models": m}))
            .collect::<Vec<_>>(),
        "wall_s": s.wall_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_error_is_floored_at_a_percent_of_the_output_scale() {
        let e = relative_errors(&[1.01, 0.0, 0.001], &[1.0, 0.0, 0.0]);
        assert!((e.max - 0.1).abs() < 1e-9, "{e:?}"); // 0.001 / (1e-2 · 1)
        assert!((e.mean - (0.01 + 0.0 + 0.1) / 3.0).abs() < 1e-9, "{e:?}");
        assert!(relative_errors(&[f64::NAN], &[1.0]).max.is_infinite());
        assert_eq!(relative_errors(&[0.0], &[0.0]).max, 0.0);
    }

    #[test]
    fn a_panic_is_one_models_status_and_names_its_stage() {
        let run = isolate(
            |stage| {
                stage.store(Stage::Prove as u8, Ordering::SeqCst);
                panic!("boom")
            },
            None,
        );
        match run.status {
            Status::Panicked(Stage::Prove, m) => assert!(m.contains("boom"), "{m}"),
            s => panic!("{s:?}"),
        }
        let run = isolate(
            |_| {
                std::thread::sleep(Duration::from_secs(2));
                Run::of(Status::Verified)
            },
            Some(Duration::from_millis(50)),
        );
        assert!(
            matches!(run.status, Status::TimedOut(_)),
            "{:?}",
            run.status
        );
    }

    #[test]
    fn failures_group_by_op_not_by_node() {
        let a = "unsupported ONNX operator `Pad` (node `/Pad_3`, position 2 in the graph); supported operators: Gemm";
        let b = "unsupported ONNX operator `Pad` (node `pad`, position 0 in the graph)";
        assert_eq!(group_key(a), group_key(b));
        assert_eq!(group_key(a), "unsupported ONNX operator `Pad`");
        assert_ne!(
            group_key(a),
            group_key("unsupported ONNX operator `Concat` (node `c`, position 0 in the graph)")
        );
        assert_eq!(
            group_key("the model must have exactly one (non-constant) input, found 3"),
            "the model must have exactly one (non-constant) input, found N"
        );
        assert_eq!(
            group_key(
                "input `x.1`: element type 7 is not float32, shape [1, 12], 2-D, ceil_mode=1"
            ),
            "input `…`: element type N is not float32, shape [N, N], 2-D, ceil_mode=1"
        );
    }
}

//! `zk-audit`: the leak audit of private-input proofs on a user's model.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use zkinfer_prover::{api, ProvingKey};

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Proving key (KEYDIR/model.pk).
    #[arg(long)]
    pub pk: PathBuf,
    /// One private input (JSON or .npy, as `prove` reads it).
    #[arg(long)]
    pub input: PathBuf,
    /// A second input with the same quantized output; without it, one is
    /// searched next to `--input` (one value moved by a few steps).
    #[arg(long)]
    pub other: Option<PathBuf>,
    /// Proofs per input.
    #[arg(long, default_value_t = 24)]
    pub runs: usize,
    #[arg(long)]
    pub json: bool,
}

pub fn run_audit(a: AuditArgs) -> Result<()> {
    if a.runs < 8 {
        bail!(
            "--runs {}: the statistics need at least 8 proofs per input",
            a.runs
        );
    }
    let pk = ProvingKey::load(&a.pk)?;
    let x = api::read_statement_input(&a.input, &pk.model)?;
    let other = a
        .other
        .as_ref()
        .map(|p| api::read_statement_input(p, &pk.model))
        .transpose()?;
    if !a.json {
        eprintln!(
            "auditing {} private-input proofs of each of two inputs with one output...",
            a.runs
        );
    }
    let Some(report) = api::audit_float_zk(pk, &x, other.as_deref(), a.runs)? else {
        bail!("no input next to --input keeps its output; give a second input with --other");
    };
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["passed"] = report.passed().into();
        println!("{v}");
    } else {
        println!(
            "numbers    {} per proof: {} public, {} fresh per proof ({} repeated)",
            report.numbers_per_proof,
            report.public_numbers,
            report.varying_numbers,
            report.repeated_numbers
        );
        println!(
            "low bits   chi2 {:.1} (input A), {:.1} (input B), {:.1} (A vs B); limit {:.1}",
            report.chi_square_a,
            report.chi_square_b,
            report.chi_square_a_vs_b,
            zkinfer_prover::zk::audit::CHI_SQUARE_LIMIT
        );
        println!(
            "hidden     {} true values behind masked reads, {} found in the proof bytes",
            report.hidden_values, report.hidden_values_found
        );
        println!(
            "verdict    {}",
            if report.passed() {
                "no leak found"
            } else {
                "LEAK SUSPECTED"
            }
        );
    }
    if !report.passed() {
        bail!("the audit found a difference between the proofs");
    }
    Ok(())
}

//! `zkinfer`: compile ONNX models into quantized integer models, run and evaluate them,
//! and (proof subcommands, added separately) prove and verify their inference.

mod accuracy_cmds;
mod audit_cmd;
mod bench_cmd;
mod coverage_cmd;
mod model_cmds;
mod proof_cmds;
mod security_cmd;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: zkinfer_protocol::huge_pages::HugePageAlloc =
    zkinfer_protocol::huge_pages::HugePageAlloc;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "zkinfer",
    version,
    about = "Zero-knowledge proofs of ML inference"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import an ONNX model, calibrate, quantize and write a compiled `.zkm` model.
    Compile(model_cmds::CompileArgs),
    /// Run a compiled model on one input (exact integer inference + float reference).
    Run(model_cmds::RunArgs),
    /// Top-1 accuracy of a compiled model (quantized and float) on a labelled test set.
    Eval(model_cmds::EvalArgs),
    /// Commit a compiled model's weights: KEYDIR/model.pk and KEYDIR/model.vk.
    Setup(proof_cmds::SetupArgs),
    /// Prove one inference.
    Prove(proof_cmds::ProveArgs),
    /// Verify a proof against a verifying key, an input and a claimed output.
    Verify(proof_cmds::VerifyArgs),
    /// Compile the bundled model, prove one inference, verify it, print timings.
    Demo,
    /// Benchmark synthetic MLPs and CNNs: setup, prove, verify, proof size, peak memory.
    Bench(bench_cmd::BenchArgs),
    #[command(hide = true)]
    BenchOne(bench_cmd::BenchOneArgs),
    /// Print the computed soundness of proofs under a verifying key.
    Security(security_cmd::SecurityArgs),
    /// A committed input's digest without a proof: publish it before proving, or check a revealed input and seed.
    InputDigest(proof_cmds::InputDigestArgs),
    /// A committed output's digest from the revealed output file and seed: check a reveal against the digest its proof published.
    OutputDigest(proof_cmds::OutputDigestArgs),
    /// Audit private-input proofs for leaks: two inputs with one output, many proofs each.
    ZkAudit(audit_cmd::AuditArgs),
    /// Compile, set up, prove and verify every model of a corpus directory; compare with the reference outputs.
    Coverage(coverage_cmd::CoverageArgs),
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Compile(a) => model_cmds::compile(a),
        Command::Run(a) => model_cmds::run(a),
        Command::Eval(a) => model_cmds::eval(a),
        Command::Setup(a) => proof_cmds::run_setup(a),
        Command::Prove(a) => proof_cmds::run_prove(a),
        Command::Verify(a) => proof_cmds::run_verify(a),
        Command::Demo => proof_cmds::run_demo(),
        Command::Bench(a) => bench_cmd::run_bench(a),
        Command::BenchOne(a) => bench_cmd::run_bench_one(a),
        Command::Security(a) => security_cmd::run_security(a),
        Command::Coverage(a) => coverage_cmd::run_coverage(a),
        Command::ZkAudit(a) => audit_cmd::run_audit(a),
        Command::InputDigest(a) => proof_cmds::run_input_digest(a),
        Command::OutputDigest(a) => proof_cmds::run_output_digest(a),
    }
}

fn main() -> ExitCode {
    // Output piped into `head` that closes early ends the process quietly,
    // as other command-line tools do, instead of a write error reported as
    // an internal error.
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE before any thread
    // starts; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // A panic is a bug; still report it as an error with a non-zero exit, never a backtrace dump.
    std::panic::set_hook(Box::new(|info| eprintln!("error: internal error: {info}")));
    match std::panic::catch_unwind(|| dispatch(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::from(101),
    }
}

//! `zkinfer security`: the computed soundness of proofs under a verifying key.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde_json::json;
use zkinfer_prover::zk::Visibility;
use zkinfer_prover::VerifyingKey;

#[derive(Args, Debug)]
pub struct SecurityArgs {
    /// Verifying key (KEYDIR/model.vk).
    #[arg(long)]
    pub vk: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn run_security(a: SecurityArgs) -> Result<()> {
    let vk = VerifyingKey::load(&a.vk)?;
    let r = zkinfer_prover::security::report(&vk);
    // The activation commitment's parameters follow from the key and the
    // statement's layout (one sample here; `prove` derives them per batch).
    let act = zkinfer_prover::Layout::new(&vk.structure)
        .ok()
        .map(|l| zkinfer_prover::activation_params(&vk, &l));
    // A zero-knowledge proof with a private input adds masked sumchecks and
    // the hiding commitment's opening: its own figure, or why it cannot be made.
    let zk = zkinfer_prover::security::zk_security(&vk, Visibility::PRIVATE_INPUT);
    // A committed input adds its own commitment's opening.
    let committed = zkinfer_prover::security::zk_security(&vk, Visibility::COMMITTED_INPUT)
        .map(|z| z.total_bits);
    if a.json {
        let zk_json = match &zk {
            Ok(z) => {
                json!({"total_bits": z.total_bits, "components": z.components.iter().map(|(n, b)| json!({"component": n, "bits": b})).collect::<Vec<_>>()})
            }
            Err(e) => json!({"unavailable": e.to_string()}),
        };
        let comps: Vec<_> = r
            .components
            .iter()
            .map(|(n, b)| json!({"component": n, "bits": b}))
            .collect();
        println!(
            "{}",
            json!({"total_bits": r.total_bits, "components": comps, "assumption": r.assumption, "mode": vk.mode.to_string(), "pcs_params": vk.pcs_params, "activation_pcs_params": act, "zero_knowledge_private_input": zk_json,
                   "zero_knowledge_committed_input_bits": committed.as_ref().ok()})
        );
    } else {
        for (n, b) in &r.components {
            println!("{b:>7.1} bits  {n}");
        }
        println!("{:>7.1} bits  total ({})", r.total_bits, r.assumption);
        println!("commitment mode: {}", vk.mode);
        println!("parameters: {:?}", vk.pcs_params);
        if let Some(p) = act {
            println!("activation parameters: {p:?}");
        }
        println!();
        match &zk {
            Ok(z) => {
                println!("zero knowledge, private input (prove --private-input):");
                for (n, b) in &z.components {
                    println!("{b:>7.1} bits  {n}");
                }
                println!("{:>7.1} bits  total ({})", z.total_bits, z.assumption);
            }
            Err(e) => println!("zero knowledge, private input: not available ({e})"),
        }
        if let Ok(bits) = committed {
            println!("{bits:>7.1} bits  total with a committed input (prove --commit-input: its own hiding opening added)");
        }
    }
    Ok(())
}

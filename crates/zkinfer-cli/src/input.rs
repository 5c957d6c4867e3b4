//! Input-file helpers for the CLI (parsing itself lives in `zkinfer_model::input`).

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Reads exactly one sample (ezkl-style JSON or `.npy`).
pub fn read_single_input(path: &Path) -> Result<Vec<f64>> {
    let mut samples = zkinfer_model::input::load_samples(path)
        .with_context(|| format!("reading input {}", path.display()))?;
    if samples.len() != 1 {
        bail!(
            "{} holds {} samples; this command takes exactly one",
            path.display(),
            samples.len()
        );
    }
    Ok(samples.remove(0))
}

/// Reads one or more samples.
pub fn read_samples(path: &Path) -> Result<Vec<Vec<f64>>> {
    zkinfer_model::input::load_samples(path)
        .with_context(|| format!("reading samples {}", path.display()))
}

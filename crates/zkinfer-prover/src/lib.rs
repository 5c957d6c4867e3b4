//! zkinfer's prover and verifier: maps a quantized model's ops onto the
//! protocol pieces (sumcheck for linear layers, LogUp lookups for
//! requantization and table functions, WHIR openings for weights and
//! committed activations) and defines the proof and key files.
//!
//! Front ends use [`api`] (compile, setup, prove from float input, verify to
//! a dequantized output, the input and output files); the items re-exported
//! here are the rest of the public surface. Everything else is private.

pub mod accuracy;
pub mod api;
mod claims;
mod error;
pub mod generation;
mod keys;
mod layout;
mod lookups;
#[cfg(any(test, feature = "malicious"))]
pub mod malicious;
mod ops;
pub mod proof;
mod prover;
pub mod security;
mod shape;
mod spatial;
mod statement;
#[cfg(any(test, feature = "synthetic"))]
pub mod synthetic;
mod verifier;
mod weight_blocks;
pub mod zk;

pub use error::ProveError;
pub use keys::{
    activation_params, setup, setup_with_mode, CommitmentMode, ProvingKey, VerifyingKey,
    KEY_FORMAT_VERSION, TARGET_BITS,
};
pub use layout::{table_for, Layout, LimbBits};
pub use proof::Proof;
pub use prover::{
    module_of, prove, prove_consuming, prove_with_progress, PhaseTimes, ProveOutput, ProveTimings,
};
pub use verifier::{dequantize_output, verify, VerifiedOutput};

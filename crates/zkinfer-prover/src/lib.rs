//! zkinfer's prover and verifier: maps a quantized model's ops onto the
//! protocol pieces (sumcheck for linear layers, LogUp lookups for
//! requantization and table functions, WHIR openings for weights and
//! committed activations) and defines the proof and key files.

pub mod claims;
pub mod error;
pub mod keys;
pub mod layout;
pub mod lookups;
#[cfg(any(test, feature = "malicious"))]
pub mod malicious;
mod ops;
pub mod proof;
pub mod prover;
pub mod security;
pub mod shape;
pub mod spatial;
pub mod statement;
pub mod synthetic;
pub mod verifier;

pub use error::ProveError;
pub use keys::{setup, setup_with_mode, CommitmentMode, ProvingKey, VerifyingKey};
pub use proof::Proof;
pub use prover::{prove, prove_consuming, prove_with_progress, ProveOutput, ProveTimings};
pub use verifier::{dequantize_output, verify, VerifiedOutput};

//! zkinfer's proof-system core: fields, transcript, multilinear polynomials,
//! sumcheck, LogUp lookups and the multilinear commitment seam.
//!
//! Knows nothing about machine learning. Conventions shared by every module:
//! - multilinear extensions are stored as evaluation tables over the boolean
//!   hypercube, **big-endian**: coordinate 0 of a point binds the most
//!   significant bit of the table index (the same as p3-multilinear-util);
//! - a table of length `n` that is not a power of two is padded with zeros to
//!   `n.next_power_of_two()`.

pub mod field;
#[cfg(feature = "huge-pages")]
pub mod huge_pages;
pub mod logup;
pub mod mle;
pub mod pcs;
pub mod security;
pub mod sumcheck;
#[cfg(test)]
mod test_support;
pub mod transcript;
pub mod transcript_hasher;

pub use field::{EF, F};
pub use transcript::Transcript;

/// Errors a verifier reports. Each names the check that failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("sumcheck rejected: {0}")]
    Sumcheck(String),
    #[error("lookup rejected: {0}")]
    Lookup(String),
    #[error("commitment opening rejected: {0}")]
    Opening(String),
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The public statement (input or claimed output) is outside what the
    /// model's proofs can speak about, e.g. a value beyond its tensor's bound.
    #[error("invalid statement: {0}")]
    Statement(String),
}

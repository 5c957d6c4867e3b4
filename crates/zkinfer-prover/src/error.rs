//! Errors of setup, proving and file handling. Verification failures are
//! [`zkinfer_protocol::VerifyError`]s, each naming the check that failed.

use zkinfer_protocol::pcs::PcsError;
use zkinfer_protocol::VerifyError;

#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("unsupported by the prover: {0}")]
    Unsupported(String),
    #[error("invalid model: {0}")]
    Model(String),
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("invalid input: {0}")]
    Input(String),
    #[error("invalid key file: {0}")]
    Key(String),
    /// A commitment or opening could not be made (e.g. parameters the
    /// commitment scheme cannot use).
    #[error(transparent)]
    Commitment(#[from] PcsError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

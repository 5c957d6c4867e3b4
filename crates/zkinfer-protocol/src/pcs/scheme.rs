//! The commitment seam: what the prover and verifier need of a multilinear
//! commitment scheme, independent of how it is built.
//!
//! Two implementations: [`super::Pcs`] (stacked, non-hiding WHIR) and
//! [`super::HidingPcs`] (p3's hiding WHIR over our own stacking); callers
//! do not change between them, see "Hiding" below.

use crate::field::F;
use crate::transcript::Transcript;
use crate::VerifyError;

use super::Claim;

/// Why a commitment or an opening could not be made. Returned, never a
/// panic: parameters come from key files, and a bad file must be an error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PcsError {
    /// The parameters are not a valid configuration (for this size).
    #[error("invalid commitment parameters: {0}")]
    Params(String),
    /// The committed polynomials are too large to commit.
    #[error("commitment too large: {0}")]
    Size(String),
    /// A claim names no committed polynomial or has a point of the wrong
    /// arity.
    #[error("invalid opening claim: {0}")]
    Claims(String),
    /// Prover data (or a copy of it) that does not belong to this scheme or
    /// commitment.
    #[error("commitment data mismatch: {0}")]
    Data(String),
    /// The underlying scheme refused to open (e.g. more claims than its
    /// parameters can batch at their security level).
    #[error("opening failed: {0}")]
    Opening(String),
}

/// A commitment to a list of multilinear polynomials over `F` (each given by
/// its evaluations on the hypercube, zero-padded to a power of two), opened
/// at points the caller chooses (our sumchecks' points), many claims in one
/// opening.
///
/// # Protocol
///
/// - [`commit`](Self::commit) touches no transcript. Both sides absorb the
///   commitment ([`absorb_commitment`](Self::absorb_commitment)) before any
///   challenge the committed data must not depend on.
/// - [`open`](Self::open) (or one of its variants) and
///   [`verify`](Self::verify) then run on the shared transcript, in the same
///   position on both sides. The opened values are the claims' values: the
///   verifier rebuilds them from the claims, so a wrong claimed value is
///   rejected by `verify`.
/// - A commitment to no polynomial is valid: it admits no claim, and its
///   opening proves nothing.
///
/// # Errors
///
/// The prover side returns [`PcsError`] (`Self::Error` converts into it) on
/// parameters the scheme cannot use, sizes it cannot commit, claims that do
/// not fit the commitment, or prover data of another commitment — never a
/// panic. The verifier side returns [`VerifyError`], naming the check that
/// failed (bad parameters included).
///
/// # Reusing prover data
///
/// A proving key opens one commitment in many proofs, while an opening may
/// consume its prover data (p3-whir's does). So there are three ways to
/// open: [`open`](Self::open) copies what the opening consumes;
/// [`opening_copy`](Self::opening_copy) + [`open_copy`](Self::open_copy)
/// make that copy beforehand (e.g. on another thread, off the critical path);
/// [`open_consuming`](Self::open_consuming) spends the data (last use).
///
/// # Hiding
///
/// [`HIDING`](Self::HIDING) says whether commitments and openings reveal
/// nothing about the committed polynomials beyond the claimed evaluations.
/// Randomness is part of the *scheme value*, not of the method signatures:
/// a hiding implementation is constructed with its masking parameters and a
/// cryptographically secure generator (as `p3_whir::HidingWhirPcs::new(config,
/// dft, mmcs, rng)` is, which keeps it behind a mutex and forks a fresh
/// generator per call), so every method keeps `&self` and the callers do not
/// change. [`super::HidingPcs`] wraps `HidingWhirPcs` (one polynomial per
/// instance, point openings, prefix variable order, opening consumes its
/// data) so:
///
/// - it stacks the committed polynomials into the single hiding polynomial
///   itself, each claim lifted into the stack's frame;
/// - [`opening_copy`](Self::opening_copy) takes the data out: p3 sizes the
///   masking randomness for one opening, so a second `open*` returns
///   [`PcsError::Opening`];
/// - `Self::Commitment` and `Self::Opening` are byte-encodable for the key
///   and proof files; the masking parameters ([`super::HidingParams`]) are
///   to go in the verifying key next to the commitment mode, so that they
///   are part of the model id.
pub trait CommitmentScheme {
    /// Whether this scheme hides the committed values (zero knowledge).
    const HIDING: bool;

    /// The public commitment (what the verifier holds).
    type Commitment: Clone + std::fmt::Debug + PartialEq + Eq;
    /// Prover data kept from `commit` to `open`; reusable across openings.
    type ProverData;
    /// What one opening consumes of the prover data, made ahead of time by
    /// [`opening_copy`](Self::opening_copy) (possibly on another thread).
    type OpeningCopy: Send;
    /// The opening proof.
    type Opening: Clone + std::fmt::Debug + PartialEq + Eq;
    /// Prover-side failures.
    type Error: std::error::Error + Into<PcsError> + Send + Sync + 'static;

    /// Commits to `polys` (each zero-padded to a power of two). An empty list
    /// gives the empty commitment.
    fn commit(&self, polys: &[Vec<F>])
        -> Result<(Self::Commitment, Self::ProverData), Self::Error>;

    /// Binds `commitment` into `transcript` (both sides, same position).
    fn absorb_commitment(&self, commitment: &Self::Commitment, transcript: &mut Transcript);

    /// The part of `data` that one opening consumes, copied.
    fn opening_copy(&self, data: &Self::ProverData) -> Self::OpeningCopy;

    /// Proves every claim (claims may repeat a polynomial at different
    /// points) against the commitment `data` belongs to, consuming `copy`
    /// (made from `data` by [`opening_copy`](Self::opening_copy)).
    fn open_copy(
        &self,
        data: &Self::ProverData,
        copy: Self::OpeningCopy,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<Self::Opening, Self::Error>;

    /// [`open_copy`](Self::open_copy) for the last use of `data`: no copy.
    fn open_consuming(
        &self,
        data: Self::ProverData,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<Self::Opening, Self::Error>;

    /// Proves every claim, keeping `data` for later openings.
    fn open(
        &self,
        data: &Self::ProverData,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<Self::Opening, Self::Error> {
        self.open_copy(data, self.opening_copy(data), claims, transcript)
    }

    /// Checks `opening` proves every claim against `commitment`.
    fn verify(
        &self,
        commitment: &Self::Commitment,
        claims: &[Claim],
        opening: &Self::Opening,
        transcript: &mut Transcript,
    ) -> Result<(), VerifyError>;
}

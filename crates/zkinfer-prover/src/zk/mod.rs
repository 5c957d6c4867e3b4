//! Zero-knowledge proofs: the statement's private parts stay hidden.
//!
//! The same backward pass as the plain prover, with every message masked
//! (docs/zero-knowledge.md has the constructions and arguments):
//!
//! - everything committed per proof goes into ONE hiding commitment
//!   (`pcs::HidingPcs`, p3's HVZK-WHIR), opened once at the end
//!   ([`plan::ZkPlan`] lists it): each committed column as `W = [V; R]`,
//!   the private input likewise, the sumcheck masks, the claim masks;
//! - each op's sumcheck is a zero-knowledge masked-evaluation sumcheck
//!   (`sumcheck::zk::masked_eval`): its round polynomials carry the mask
//!   `g`, a committed tensor it reads goes out as `V + Z·R`, a
//!   never-committed one as `V + Z·S` (its producer proves those claims as
//!   incoming claims, `interlayer`); ops whose plain proof is a check at a
//!   point (`Requant`) prove their identity by a zero-check sumcheck so
//!   that they can read masked values; an op whose relations pass a value
//!   from one sumcheck to another (MaxPool's shifted views) reads it as an
//!   inner tensor through its own claim mask and proves that claim in a
//!   second, inner sumcheck (`plan::ZkInner`);
//! - the lookups run the zero-knowledge LogUp-GKR (`logup::zk`), each
//!   witness its own tree, its leaf masks those of the committed columns;
//! - the weights are public (today's model id) and opened as in a plain
//!   proof; the output is public.
//!
//! Ops without a zero-knowledge step are refused by name
//! ([`plan::ZkPlan::new`]).

pub mod audit;
mod book;
mod ctx;
mod lookups;
pub(crate) mod plan;
mod prover;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_conv;
#[cfg(test)]
mod tests_factors;
#[cfg(test)]
mod tests_matmul;
#[cfg(test)]
mod tests_maxpool;
mod verifier;

use serde::{Deserialize, Serialize};

pub(crate) use book::{point_claims, ZkBook, ZkPending};
pub(crate) use ctx::{TensorRead, VarMap, ZkCheck, ZkProverCtx, ZkVerifierCtx};
pub(crate) use plan::{ZkInner, ZkStep};
pub use prover::{copies_for, prove_zk, prove_zk_copies, ZkProveOutput};
pub use verifier::verify_zk;

/// Who sees the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputVisibility {
    /// The verifier reads the input and checks it.
    Public,
    /// Committed and range-checked inside the proof; the verifier never
    /// reads it.
    Private,
}

/// What a zero-knowledge proof's statement makes public (the weights are
/// public-committed and the output public in this version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visibility {
    pub input: InputVisibility,
}

impl Visibility {
    pub const PRIVATE_INPUT: Self = Self {
        input: InputVisibility::Private,
    };
    pub const PUBLIC: Self = Self {
        input: InputVisibility::Public,
    };

    pub(crate) fn code(self) -> u64 {
        match self.input {
            InputVisibility::Public => 0,
            InputVisibility::Private => 1,
        }
    }
}

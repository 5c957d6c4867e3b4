//! Zero-knowledge proofs: the statement's private parts stay hidden.
//!
//! The same backward pass as the plain prover, with every message masked
//! (docs/zero-knowledge.md has the constructions and arguments):
//!
//! - everything committed per proof goes into ONE hiding commitment
//!   (`pcs::HidingPcs`, p3's HVZK-WHIR), opened once at the end
//!   ([`plan::ZkPlan`] lists it): each committed column as `W = [V; R]`,
//!   the private input likewise (a committed input in a commitment of its
//!   own, whose digest the statement binds: `committed.rs`) and its
//!   range check's limb columns (`input_range.rs`; a private token input
//!   is proven one-hot instead, `one_hot/`), the sumcheck masks,
//!   the claim masks;
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
pub(crate) mod committed;
mod ctx;
mod input_range;
mod lookups;
mod one_hot;
mod output_link;
pub(crate) mod plan;
mod prover;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_conv;
#[cfg(test)]
mod tests_factors;
#[cfg(test)]
mod tests_io;
#[cfg(test)]
mod tests_matmul;
#[cfg(test)]
mod tests_maxpool;
#[cfg(test)]
mod tests_onehot;
mod verifier;

use serde::{Deserialize, Serialize};

pub(crate) use book::{point_claims, ZkBook, ZkPending};
pub use committed::{
    committed_input_digest, committed_output_digest, input_digest, output_digest, CommitSeeds,
    InputSeed,
};
pub(crate) use ctx::{BatchedClaims, TensorRead, VarMap, ZkCheck, ZkProverCtx, ZkVerifierCtx};
pub(crate) use plan::{ZkInner, ZkStep};
pub use prover::{copies_for, prove_zk, prove_zk_copies, prove_zk_seeded, ZkProveOutput};
pub use verifier::{
    verify_zk, verify_zk_statement, verify_zk_with, InputStatement, OutputStatement,
};

/// Who sees the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputVisibility {
    /// The verifier reads the input and checks it.
    Public,
    /// Committed and range-checked (token ids: proven one-hot) inside the
    /// proof; the verifier never reads it.
    Private,
    /// Private, and committed on its own (`committed.rs`): the proof
    /// publishes that commitment's digest, which a verifier checks against
    /// the one it was given, so a later party can tell the same input was
    /// used (revealing the input and the prover's seed reproduces it).
    Committed,
}

/// Who sees the output. There is no private output without a commitment:
/// the model is a total function, so "the input maps to some output"
/// holds for every input within its bound and would prove nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputVisibility {
    /// The verifier is given the output and checks it.
    Public,
    /// Hidden, and committed on its own (`committed.rs`) with its digest
    /// published: the statement is "the output committed with this digest"
    /// (`output_link.rs` ties the commitment to the computed output).
    Committed,
}

/// What a zero-knowledge proof's statement makes public (the weights are
/// public-committed in this version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visibility {
    pub input: InputVisibility,
    pub output: OutputVisibility,
}

impl Visibility {
    pub const PRIVATE_INPUT: Self = Self {
        input: InputVisibility::Private,
        output: OutputVisibility::Public,
    };
    pub const PUBLIC: Self = Self {
        input: InputVisibility::Public,
        output: OutputVisibility::Public,
    };
    pub const COMMITTED_INPUT: Self = Self {
        input: InputVisibility::Committed,
        output: OutputVisibility::Public,
    };

    pub(crate) fn code(self) -> u64 {
        let input = match self.input {
            InputVisibility::Public => 0,
            InputVisibility::Private => 1,
            InputVisibility::Committed => 2,
        };
        let output = match self.output {
            OutputVisibility::Public => 0,
            OutputVisibility::Committed => 1,
        };
        input + 3 * output
    }

    /// The same input, with the output committed.
    pub const fn with_committed_output(self) -> Self {
        Self {
            input: self.input,
            output: OutputVisibility::Committed,
        }
    }

    /// The verifier never reads the input.
    pub fn hides_input(self) -> bool {
        self.input != InputVisibility::Public
    }
}

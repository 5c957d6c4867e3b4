//! One module per op, each owning everything about how its op is proven:
//! what it commits and which tables it feeds (its layout entry, built by
//! [`lay_out`]), its witness, its prover and verifier steps (sharing one
//! definition of the transcript order), its claim routing, and its soundness
//! terms. The drivers (`prover.rs`, `verifier.rs`, `security.rs`) are loops
//! over [`OpProof`]s.
//!
//! **Adding an op:** a new file implementing [`OpProof`], a `mod` line and
//! one arm in [`lay_out`] (exhaustive over `QOp`, so a new IR op does not
//! compile until it is registered), a [`LayerProof`] variant if it sends
//! messages, and a model using it in the malicious-prover sweep
//! (`malicious/tests.rs`). The trait has no default for the soundness terms,
//! the claim counts or the committed columns.

mod add;
mod add_const;
mod conv;
mod dense;
mod hadamard;
mod lut;
mod matmul;
mod maxpool;
mod mul;
mod mul_const;
mod public_linear;
pub(crate) mod requant;
mod reshape;
mod select;
mod sumpool;
mod transpose;

use std::fmt::Debug;

#[cfg(test)]
pub(crate) use conv::forge_zk as conv_forge_zk;
#[cfg(any(test, feature = "malicious"))]
pub(crate) use maxpool::pad_value as maxpool_pad_value;
pub(crate) use select::in_closed_form as select_in_closed_form;

use rayon::prelude::*;

use serde::{Deserialize, Serialize};
use zkinfer_model::ir::{QOp, QuantModel, TensorId};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::eq_table;
use zkinfer_protocol::security::log2_ef_order;
use zkinfer_protocol::sumcheck::zk::ZkSumcheckProof;
use zkinfer_protocol::sumcheck::SumcheckProof;
use zkinfer_protocol::{Transcript, VerifyError, EF};

use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::keys::ProvingKey;
use crate::layout::{Layout, LayoutBuilder, TensorKind};
use crate::zk::{ZkProverCtx, ZkStep, ZkVerifierCtx};

/// A committed activation polynomial an op owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    pub poly: usize,
    /// E.g. `"output y"`, `"excess limb 1"`.
    pub role: String,
    /// Whether the polynomial is the op's output tensor itself.
    pub is_output: bool,
}

/// How an op is proven. Implementations live one per file in this folder.
pub(crate) trait OpProof: Debug + Send + Sync {
    /// The op's index in the model.
    fn index(&self) -> usize;
    /// The committed activation polynomials it owns (witness columns).
    fn committed(&self) -> Vec<Committed>;
    /// Fills its committed polynomials from the trace (none by default).
    fn witness(&self, _w: &WitnessCtx, _polys: &mut [Vec<F>]) -> Result<(), ProveError> {
        Ok(())
    }
    /// Its polynomials under the weight commitment, in layout order (none by
    /// default).
    fn weight_polys(
        &self,
        _model: &QuantModel,
        _layout: &Layout,
    ) -> Result<Vec<Vec<F>>, ProveError> {
        Ok(Vec::new())
    }
    /// Reduces the claims on its output; `Some` message when it sends one.
    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof>;
    /// Checks its message (taken from `proofs` when it sent one) and routes
    /// the resulting claims.
    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError>;
    /// Replays its claim routing on counts (for the opening's security).
    fn count_claims(&self, c: &mut ClaimCounter);
    /// Each of its random checks, named, with its soundness in bits
    /// (`−log2` of the error); exact steps contribute none.
    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)>;

    /// Zero-knowledge proofs (`zk/`): what its step reads, for the plan of
    /// the hiding commitment (`masked(t)`: whether tensor `t` is private,
    /// read masked); `None` while the op has no zero-knowledge step (the
    /// plan refuses the model, naming the op).
    fn zk_step(&self, _layout: &Layout, _masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        None
    }
    /// A second masked sumcheck, for an op whose relations pass a value
    /// between two sumchecks (MaxPool): the first reads the op's inner
    /// tensor masked ([`crate::zk::TensorRead::Inner`]), the second proves
    /// that claim ([`ZkProverCtx::inner_sumcheck`]). `None` by default.
    fn zk_inner(
        &self,
        _layout: &Layout,
        _masked: &dyn Fn(TensorId) -> bool,
    ) -> Option<crate::zk::ZkInner> {
        None
    }
    /// Per tensor its step reads over a larger index, the head bits its
    /// mask must stay below (checked by the plan once the masks are sized):
    /// such a read leaves the sumcheck's last variable to `Z`.
    fn zk_head_limits(&self) -> Vec<(TensorId, usize)> {
        Vec::new()
    }
    /// Its zero-knowledge prover step (only called when [`OpProof::zk_step`]
    /// is `Some`); a step with two messages sends the first through
    /// [`ZkProverCtx::send`] and returns the second.
    fn prove_zk(&self, _p: &mut ZkProverCtx) -> Option<LayerProof> {
        unreachable!("op #{} has no zero-knowledge step", self.index())
    }
    /// Its zero-knowledge verifier step.
    fn verify_zk(
        &self,
        _v: &mut ZkVerifierCtx,
        _proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        Err(VerifyError::Malformed(format!(
            "op #{} has no zero-knowledge step",
            self.index()
        )))
    }
}

/// Builds op `i`'s layout entry (the registry: one arm per op kind).
pub(crate) fn lay_out(
    i: usize,
    op: &QOp,
    b: &mut LayoutBuilder,
) -> Result<Box<dyn OpProof>, ProveError> {
    Ok(match op {
        QOp::Dense { .. } => Box::new(dense::Dense::lay_out(i, op, b)?),
        QOp::Conv2d { .. } => Box::new(conv::Conv::lay_out(i, op, b)?),
        QOp::Requant { .. } => Box::new(requant::Requant::lay_out(i, op, b)?),
        QOp::Lut { .. } => Box::new(lut::Lut::lay_out(i, op, b)?),
        QOp::Add { .. } => Box::new(add::Add::lay_out(i, op, b)?),
        QOp::Mul { .. } => Box::new(mul::Mul::lay_out(i, op, b)?),
        QOp::MaxPool { .. } => Box::new(maxpool::MaxPool::lay_out(i, op, b)?),
        QOp::SumPool { .. } => Box::new(sumpool::SumPool::lay_out(i, op, b)?),
        QOp::Reshape { input, output } => match reshape::Reshape::lay_out(i, op, b)? {
            Some(alias) => Box::new(alias),
            None => Box::new(select::Select::relayout(i, *input, *output, b)?),
        },
        QOp::Transpose { .. } => Box::new(transpose::Transpose::lay_out(i, op, b)?),
        QOp::Select { .. } | QOp::SelectAxes { .. } | QOp::SelectBands { .. } => {
            Box::new(select::Select::lay_out(i, op, b)?)
        }
        QOp::AddConst { .. } => Box::new(add_const::AddConst::lay_out(i, op, b)?),
        QOp::MulConst { .. } => Box::new(mul_const::MulConst::lay_out(i, op, b)?),
        QOp::MatMul { .. } => Box::new(matmul::MatMul::lay_out(i, op, b)?),
    })
}

/// The message of one op, in backward (output-to-input) order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum LayerProof {
    /// Evaluations of the output, the excess limbs, the remainder limbs and
    /// (for a split clamp) the two parts of `y − min` at the op's random point.
    Requant {
        y_eval: EF,
        excess_evals: Vec<EF>,
        limb_evals: Vec<EF>,
        split_evals: Vec<EF>,
    },
    /// Per output claim: the bias evaluation; then the sumcheck over the input
    /// index, per claim the evaluation of each block of the weight matrix
    /// (`weight_blocks.rs`; one block unless the matrix is cut) and the input
    /// evaluation(s).
    Dense {
        bias_evals: Vec<EF>,
        sumcheck: SumcheckProof,
        weight_evals: Vec<EF>,
        /// One per output claim with several samples, else one.
        input_evals: Vec<EF>,
    },
    /// Per output claim: `(a(z), b(z))`.
    Add { evals: Vec<(EF, EF)> },
    /// Per output claim: the bias evaluation; a sumcheck over the kernel index
    /// (input channel, ky, kx) giving per claim the weight and the patch
    /// evaluation; then a sumcheck over the input reducing the patch claims.
    Conv {
        bias_evals: Vec<EF>,
        kernel_sumcheck: SumcheckProof,
        weight_evals: Vec<EF>,
        patch_evals: Vec<EF>,
        input_sumcheck: SumcheckProof,
        input_eval: EF,
    },
    /// A sumcheck over the input reducing the output claims.
    SumPool {
        sumcheck: SumcheckProof,
        input_eval: EF,
    },
    /// `Σ eq(z,o)·Π_k d_k(o) = 0` by sumcheck, the differences and the output
    /// at its point, then a sumcheck over the input for the shifted views.
    MaxPool {
        product_sumcheck: SumcheckProof,
        diff_evals: Vec<EF>,
        output_eval: EF,
        input_sumcheck: SumcheckProof,
        input_eval: EF,
    },
    /// Per output claim: the constant's evaluation (checked by the weight
    /// opening).
    AddConst { c_evals: Vec<EF> },
    /// The sumcheck `Σ E·C·x` over every variable, then the constant and the
    /// input at its point.
    MulConst {
        sumcheck: SumcheckProof,
        c_eval: EF,
        x_eval: EF,
    },
    /// A degree-3 sumcheck over the head and inner indices, then per output
    /// claim the two operand folds at its point.
    MatMul {
        sumcheck: SumcheckProof,
        evals: Vec<(EF, EF)>,
    },
    /// A zero-knowledge step's masked sumcheck (`zk/`): the op's public
    /// values (weight evaluations), the rounds, every factor's final value
    /// (private ones masked) and the incoming claims' mask values.
    Zk {
        public: Vec<EF>,
        sumcheck: ZkSumcheckProof,
        final_evals: Vec<EF>,
        r_values: Vec<EF>,
    },
    /// A sumcheck over the input reducing the output claims (data movement).
    Select {
        sumcheck: SumcheckProof,
        input_eval: EF,
    },
    /// The Hadamard-product sumcheck `Σ_x eq(z, x)·a(x)·b(x)` and `(a, b)` at
    /// its point.
    Mul {
        sumcheck: SumcheckProof,
        a_eval: EF,
        b_eval: EF,
    },
}

/// The verifier's cursor over the proof's layer messages.
pub(crate) struct LayerProofs<'a>(pub std::slice::Iter<'a, LayerProof>);

impl<'a> LayerProofs<'a> {
    /// The next message, which op `i` (`what`) expects.
    pub fn next(&mut self, i: usize, what: &str) -> Result<&'a LayerProof, VerifyError> {
        self.0.next().ok_or_else(|| {
            VerifyError::Malformed(format!("layer proofs end before op #{i} ({what})"))
        })
    }
}

/// A zero-knowledge step's message, borrowed from the proof: `(public
/// values, rounds, final values, incoming claims' R values)`.
pub(crate) type ZkMessage<'a> = (&'a [EF], &'a ZkSumcheckProof, &'a [EF], &'a [EF]);

/// A zero-knowledge step's message for op `i` (`what`), with `public`
/// public values and `factors` final values.
pub(crate) fn zk_message<'a>(
    proofs: &mut LayerProofs<'a>,
    i: usize,
    what: &str,
    public: usize,
    factors: usize,
) -> Result<ZkMessage<'a>, VerifyError> {
    let LayerProof::Zk {
        public: p,
        sumcheck,
        final_evals,
        r_values,
    } = proofs.next(i, what)?
    else {
        return Err(VerifyError::Malformed(format!(
            "op #{i}: expected a zero-knowledge {what} proof"
        )));
    };
    if p.len() != public || final_evals.len() != factors {
        return Err(VerifyError::Malformed(format!(
            "op #{i} ({what}): wrong number of evaluations"
        )));
    }
    Ok((p, sumcheck, final_evals, r_values))
}

/// A zero-knowledge step's public factor (an eq combination, a constant
/// tiled over samples): its final value must be the one the verifier
/// computes.
pub(crate) fn check_public_factor(
    i: usize,
    what: &str,
    sent: EF,
    expected: EF,
) -> Result<(), VerifyError> {
    if sent != expected {
        return Err(VerifyError::Sumcheck(format!(
            "op #{i} ({what}): a public factor's final value is wrong"
        )));
    }
    Ok(())
}

/// What a witness step reads: the trace and the committed tensors' padded
/// arrangements (with the malicious-prover tests' edits applied).
pub(crate) struct WitnessCtx<'a> {
    pub layout: &'a Layout,
    pub values: &'a [Vec<i64>],
    /// `(tensor, padded index, value)` edits (none in honest proofs).
    pub edits: &'a [(TensorId, usize, i64)],
}

impl WitnessCtx<'_> {
    /// Tensor `t` in its padded arrangement, as integers.
    pub fn ints(&self, t: TensorId) -> Vec<i64> {
        let mut v = self.layout.arrange_ints(t, &self.values[t]);
        let target = self.layout.kind(t).0;
        for &(_, k, x) in self
            .edits
            .iter()
            .filter(|e| self.layout.kind(e.0).0 == target)
        {
            v[k] = x;
        }
        v
    }
    /// [`WitnessCtx::ints`] as field elements.
    pub fn field(&self, t: TensorId) -> Vec<F> {
        self.ints(t).into_iter().map(f_from_i64).collect()
    }
}

/// What a prover step reads and writes.
pub(crate) struct ProverCtx<'a> {
    pub pk: &'a ProvingKey,
    pub values: &'a [Vec<i64>],
    pub act_polys: &'a [Vec<F>],
    pub book: &'a mut ClaimBook,
    pub tr: &'a mut Transcript,
}

impl ProverCtx<'_> {
    /// Tensor `t`'s polynomial: a committed tensor as committed (padding
    /// included), the others arranged from the trace.
    pub fn padded(&self, t: TensorId) -> Vec<F> {
        let layout = &self.pk.layout;
        match layout.kind(t) {
            (_, TensorKind::Committed { poly }) => self.act_polys[poly].clone(),
            (_, TensorKind::PublicInput | TensorKind::Virtual | TensorKind::Alias(_)) => {
                layout.arrange(t, &self.values[t])
            }
        }
    }
}

/// What a verifier step reads and writes.
pub(crate) struct VerifierCtx<'a> {
    pub layout: &'a Layout,
    pub book: &'a mut ClaimBook,
    pub tr: &'a mut Transcript,
}

/// Claim counts per commitment, replayed from the structure.
pub(crate) struct ClaimCounter<'a> {
    pub layout: &'a Layout,
    pub pending: Vec<usize>,
    pub activation: usize,
    pub weights: usize,
}

impl ClaimCounter<'_> {
    /// Routes `k` claims on tensor `t` (as `ClaimBook::route` would).
    pub fn route(&mut self, t: TensorId, k: usize) {
        let (r, kind) = self.layout.kind(t);
        match kind {
            TensorKind::Committed { .. } => self.activation += k,
            TensorKind::Virtual => self.pending[r] += k,
            TensorKind::PublicInput | TensorKind::Alias(_) => {}
        }
    }
    /// Takes the pending claims on tensor `t`.
    pub fn take(&mut self, t: TensorId) -> usize {
        std::mem::take(&mut self.pending[self.layout.kind(t).0])
    }
}

/// `ρ_0 = 1`, further coefficients drawn from the transcript: a random
/// linear combination of `n` claims (error `n/|EF|` per batch).
pub(crate) fn batching_coefficients(tr: &mut Transcript, n: usize) -> Vec<EF> {
    tr.absorb_u64(n as u64);
    let mut rho = vec![EF::ONE];
    rho.extend(tr.challenge_efs(n.saturating_sub(1)));
    rho
}

/// A check that a multilinear polynomial in `num_vars` variables vanishes at
/// a random point (Schwartz–Zippel: `num_vars / |EF|`).
pub(crate) fn random_point_bits(num_vars: usize) -> f64 {
    log2_ef_order() - (num_vars.max(1) as f64).log2()
}

/// A random linear combination of claims, charged `2^6 / |EF|` (up to 64
/// claims per batch; more than any op sees).
pub(crate) fn batching_bits() -> f64 {
    log2_ef_order() - 6.0
}

/// Names op `i` in an error from its verifier step.
pub(crate) fn at_op(i: usize, what: &str, e: VerifyError) -> VerifyError {
    match e {
        VerifyError::Malformed(m) => VerifyError::Malformed(format!("op #{i} ({what}): {m}")),
        VerifyError::Sumcheck(m) => VerifyError::Sumcheck(format!("op #{i} ({what}): {m}")),
        other => other,
    }
}

/// `X(j) = Σ_b eq(z_b, b)·x(b, j)`: a stacked tensor folded at a batch point
/// (its batch variables come first, so each sample is one contiguous row).
pub(crate) fn fold_batch(x: &[F], z_b: &[EF]) -> Vec<EF> {
    let eq_b = eq_table(z_b);
    let row = x.len() / eq_b.len();
    (0..row)
        .into_par_iter()
        .map(|j| {
            eq_b.iter()
                .enumerate()
                .map(|(b, &e)| e * x[b * row + j])
                .sum()
        })
        .collect()
}

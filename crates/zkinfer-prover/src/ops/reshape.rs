//! `Reshape` (Flatten, Squeeze, Unsqueeze): the output aliases the input —
//! the same row-major data, laid out the same way, is the same polynomial,
//! so claims on it are claims on the input and nothing is proven. When the
//! output must have its own axes (a consumer reads them) and they pad
//! differently, the registry proves it as a relayout instead (`select.rs`).

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::VerifyError;

use super::{ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx, VerifierCtx};
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder, TensorKind};
use crate::shape::PaddedShape;
use crate::zk::{ZkProverCtx, ZkStep, ZkVerifierCtx};

#[derive(Debug)]
pub(crate) struct Reshape {
    i: usize,
}

impl Reshape {
    /// `None` when the output needs its own layout and the input's differs.
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Option<Self>, ProveError> {
        let QOp::Reshape { input, output } = *op else {
            unreachable!("registered for Reshape")
        };
        if b.len(input) != b.len(output) {
            return Err(ProveError::Model(format!(
                "op #{i} (Reshape): length mismatch"
            )));
        }
        // Same polynomial; viewed with the output's own axes when they put
        // every element at the same place (e.g. flat rows of a power-of-two
        // width), so a row-wise op after the Reshape sees its rows.
        let own = PaddedShape::for_logical(&b.model.tensors[output].shape).batched(b.model.batch);
        // Samples sit at the same stride in both, so one sample decides.
        let same = own.padded_len() == b.shapes[input].padded_len()
            && own.same_sample_placement(&b.shapes[input]);
        if !same && b.needs_own_layout(output) {
            return Ok(None);
        }
        b.kinds[output] = TensorKind::Alias(input);
        b.shapes[output] = if same { own } else { b.shapes[input].clone() };
        b.pads[output] = b.pads[input];
        Ok(Some(Self { i }))
    }
}

impl OpProof for Reshape {
    fn index(&self) -> usize {
        self.i
    }
    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }
    fn prove(&self, _: &mut ProverCtx) -> Option<LayerProof> {
        None
    }
    fn verify(&self, _: &mut VerifierCtx, _: &mut LayerProofs) -> Result<(), VerifyError> {
        Ok(())
    }
    fn count_claims(&self, _: &mut ClaimCounter) {}
    fn soundness_terms(&self, _: &Layout) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// No step of its own in zero knowledge either (an alias: the same polynomial).
    fn zk_step(&self, _: &Layout, _: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(ZkStep::default())
    }
    fn prove_zk(&self, _: &mut ZkProverCtx) -> Option<LayerProof> {
        None
    }
    fn verify_zk(&self, _: &mut ZkVerifierCtx, _: &mut LayerProofs) -> Result<(), VerifyError> {
        Ok(())
    }
}

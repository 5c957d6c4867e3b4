//! `Reshape` (Flatten, Squeeze, Unsqueeze): the output aliases the input —
//! the same row-major data, laid out the same way, is the same polynomial,
//! so claims on it are claims on the input and nothing is proven.

use zkinfer_model::ir::QOp;
use zkinfer_protocol::VerifyError;

use super::{ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx, VerifierCtx};
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder, TensorKind};

#[derive(Debug)]
pub(crate) struct Reshape {
    i: usize,
}

impl Reshape {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Reshape { input, output } = *op else {
            unreachable!("registered for Reshape")
        };
        if b.len(input) != b.len(output) {
            return Err(ProveError::Model(format!(
                "op #{i} (Reshape): length mismatch"
            )));
        }
        b.kinds[output] = TensorKind::Alias(input);
        b.shapes[output] = b.shapes[input].clone();
        b.pads[output] = b.pads[input];
        Ok(Self { i })
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
}

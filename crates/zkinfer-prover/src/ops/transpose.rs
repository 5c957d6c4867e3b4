//! `Transpose` of an image: per-axis padding makes a transpose a permutation
//! of the polynomial's variable groups, so each output claim is a claim on
//! the input at the point whose groups are permuted back. No proof.

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::VerifyError;

use super::{ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx, VerifierCtx};
use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::shape::PaddedShape;

#[derive(Debug)]
pub(crate) struct Transpose {
    i: usize,
    input: TensorId,
    output: TensorId,
    perm: Vec<usize>,
}

impl Transpose {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Transpose {
            input,
            output,
            ref perm,
        } = *op
        else {
            unreachable!("registered for Transpose")
        };
        let dims = &b.shapes[input].dims;
        let logical = &b.model.tensors[input].shape;
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        if dims != logical
            || perm.len() != dims.len()
            || sorted != (0..dims.len()).collect::<Vec<_>>()
        {
            return Err(ProveError::Unsupported(format!(
                "op #{i} (Transpose of a tensor that is not laid out as an image) is not supported by the prover yet"
            )));
        }
        let out_dims: Vec<usize> = perm.iter().map(|&a| dims[a]).collect();
        if out_dims != b.model.tensors[output].shape {
            return Err(ProveError::Model(format!(
                "op #{i} (Transpose): output shape does not match the permutation"
            )));
        }
        b.shapes[output] = PaddedShape::of(out_dims).batched(b.model.batch);
        b.pads[output] = b.pads[input];
        Ok(Self {
            i,
            input,
            output,
            perm: perm.clone(),
        })
    }

    fn route(&self, book: &mut ClaimBook, layout: &Layout) {
        let shape = &layout.shapes[self.output];
        let out_vars = shape.axis_vars();
        let batch_vars = shape.batch_vars();
        let mut groups = Vec::with_capacity(out_vars.len());
        for (point, value) in book.take_pending(layout, self.output) {
            groups.clear();
            // The batch axis stays first.
            let mut at = batch_vars;
            for &n in &out_vars {
                groups.push(point[at..at + n].to_vec());
                at += n;
            }
            let mut src = point[..batch_vars].to_vec();
            for axis in 0..self.perm.len() {
                let j = self
                    .perm
                    .iter()
                    .position(|&a| a == axis)
                    .expect("a permutation");
                src.extend_from_slice(&groups[j]);
            }
            book.route(layout, self.input, src, value);
        }
    }
}

impl OpProof for Transpose {
    fn index(&self) -> usize {
        self.i
    }
    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }
    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        self.route(p.book, &p.pk.layout);
        None
    }
    fn verify(&self, v: &mut VerifierCtx, _: &mut LayerProofs) -> Result<(), VerifyError> {
        self.route(v.book, v.layout);
        Ok(())
    }
    fn count_claims(&self, c: &mut ClaimCounter) {
        let k = c.take(self.output);
        c.route(self.input, k);
    }
    fn soundness_terms(&self, _: &Layout) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

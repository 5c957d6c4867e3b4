//! `Transpose` of an image: per-axis padding makes a transpose a permutation
//! of the polynomial's variable groups, so each output claim is a claim on
//! the input at the point whose groups are permuted back. No proof.
//!
//! Zero knowledge: an output claim is masked by the output's claim mask,
//! which the input does not share, so the step proves
//! `Σ_x E'(x)·in(x) = Σ_k ρ_k v_k` with `E' = Σ_k ρ_k eq(π⁻¹(z_k), ·)`
//! public (`π⁻¹` the groups permuted back), reading the input masked at
//! the sumcheck's point. The permutation keeps every pad where it is, as
//! in a plain proof.

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::{VerifyError, EF};

use super::public_linear::PublicLinear;
use super::{
    hadamard, ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::shape::PaddedShape;
use crate::zk::{ZkPending, ZkProverCtx, ZkStep, ZkVerifierCtx};

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

    /// The input point of an output point: its axis groups permuted back
    /// (the batch axis stays first).
    fn source_point(&self, layout: &Layout, point: &[EF]) -> Vec<EF> {
        let shape = &layout.shapes[self.output];
        let batch_vars = shape.batch_vars();
        let mut groups = Vec::new();
        let mut at = batch_vars;
        for n in shape.axis_vars() {
            groups.push(&point[at..at + n]);
            at += n;
        }
        let mut src = point[..batch_vars].to_vec();
        for axis in 0..self.perm.len() {
            let j = self
                .perm
                .iter()
                .position(|&a| a == axis)
                .expect("a permutation");
            src.extend_from_slice(groups[j]);
        }
        src
    }

    fn route(&self, book: &mut ClaimBook, layout: &Layout) {
        for (point, value) in book.take_pending(layout, self.output) {
            let src = self.source_point(layout, &point);
            book.route(layout, self.input, src, value);
        }
    }

    /// The zero-knowledge step: `E'·x`, `E'` the eq combination of the
    /// output claims' points permuted back to the input's axes.
    fn public_linear(&self, layout: &Layout) -> PublicLinear {
        PublicLinear {
            op: self.i,
            what: "Transpose",
            label: b"transpose",
            output: self.output,
            inputs: vec![(self.input, EF::ONE)],
            num_vars: layout.num_vars(self.input),
        }
    }

    fn source_points(&self, layout: &Layout, claims: &[ZkPending]) -> Vec<Vec<EF>> {
        claims
            .iter()
            .map(|c| self.source_point(layout, &c.point))
            .collect()
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

    fn zk_step(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(self.public_linear(layout).step(masked))
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        let layout = p.layout;
        self.public_linear(layout).prove(p, |pending, rho| {
            hadamard::eq_combination(&self.source_points(layout, pending), rho)
        })
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let layout = v.layout;
        self.public_linear(layout)
            .verify(v, proofs, |pending, rho, point| {
                hadamard::eq_combination_at(&self.source_points(layout, pending), rho, point)
            })
    }
}

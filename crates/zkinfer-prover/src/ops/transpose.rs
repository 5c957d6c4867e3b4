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
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{VerifyError, EF};

use super::{
    check_public_factor, hadamard, zk_message, ClaimCounter, Committed, LayerProof, LayerProofs,
    OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::shape::PaddedShape;
use crate::zk::{TensorRead, ZkCheck, ZkPending, ZkProverCtx, ZkStep, ZkVerifierCtx};

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

    /// The zero-knowledge step's opening: `ρ`, the claimed sum and the
    /// claims' input points.
    fn zk_open(
        &self,
        tr: &mut zkinfer_protocol::Transcript,
        layout: &Layout,
        claims: &[ZkPending],
    ) -> (Vec<EF>, EF, Vec<Vec<EF>>) {
        let (rho, claimed) = hadamard::zk_open(tr, b"transpose", claims);
        let points = claims
            .iter()
            .map(|c| self.source_point(layout, &c.point))
            .collect();
        (rho, claimed, points)
    }

    /// `E'` (factor 0) times the input (factor 1, a private read).
    fn zk_terms(&self) -> (Vec<Term>, Vec<(usize, TensorRead)>) {
        let terms = vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }];
        (terms, vec![(1, TensorRead::Tensor(self.input))])
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
        Some(ZkStep {
            sumcheck: Some((
                layout.num_vars(self.input),
                2 + usize::from(masked(self.input)),
            )),
            tensors: vec![self.input],
            columns: Vec::new(),
        })
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        let pending = p.take_claims(self.output);
        if pending.is_empty() {
            return None;
        }
        let layout = &p.layout;
        let (rho, _, points) = self.zk_open(p.tr, layout, &pending);
        let (terms, reads) = self.zk_terms();
        let poly = SumOfProducts {
            num_vars: layout.num_vars(self.input),
            mles: vec![
                Mle::Ext(hadamard::eq_combination(&points, &rho)),
                Mle::Base(p.padded(self.input)),
            ],
            terms,
        };
        let run = p.sumcheck(
            self.i,
            poly,
            None,
            &reads,
            Some(self.output),
            &pending,
            &rho,
        );
        Some(LayerProof::Zk {
            public: Vec::new(),
            sumcheck: run.proof,
            final_evals: run.final_evals,
            r_values: run.r_values,
        })
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let i = self.i;
        let pending = v.take_claims(self.output);
        if pending.is_empty() {
            return Ok(());
        }
        let (_, sumcheck, final_evals, r_values) = zk_message(proofs, i, "Transpose", 0, 2)?;
        let (rho, claimed_sum, points) = self.zk_open(v.tr, v.layout, &pending);
        let (terms, reads) = self.zk_terms();
        let check = ZkCheck {
            op: i,
            num_vars: v.layout.num_vars(self.input),
            terms: &terms,
            eq_point: None,
            reads: &reads,
            output: Some(self.output),
            claims: &pending,
            coeffs: &rho,
            claimed_sum,
        };
        let point = v.sumcheck(&check, sumcheck, final_evals, r_values)?;
        let e = hadamard::eq_combination_at(&points, &rho, &point);
        check_public_factor(i, "Transpose", final_evals[0], e)
    }
}

//! `Mul` (`y = a ⊙ b`, two activation tensors of one layout): the output
//! claims `v_k = y(z_k)`, batched by random `ρ`, are reduced by one degree-3
//! sumcheck of the Hadamard product
//!
//! `Σ_k ρ_k v_k = Σ_x E(x)·a(x)·b(x)`, `E(x) = Σ_k ρ_k eq(z_k, x)`,
//!
//! to one claim on each operand at its final point `r` (the verifier computes
//! `E(r)` itself). Padding: `y`'s pad value is the product of the operands'.
//! The requantization after it is the following `Requant` op.
//!
//! Zero knowledge: the same sumcheck with both operands read masked at its
//! point ([`hadamard::ZkProduct`]; round degree 5).

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::security::sumcheck_bits;
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::add::same_layout;
use super::hadamard;
use super::{
    batching_bits, ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx,
    VerifierCtx,
};
use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::zk::{TensorRead, ZkProverCtx, ZkStep, ZkVerifierCtx};

#[derive(Debug)]
pub(crate) struct Mul {
    i: usize,
    a: TensorId,
    b: TensorId,
    output: TensorId,
}

impl Mul {
    pub fn lay_out(i: usize, op: &QOp, lb: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Mul { a, b, output } = *op else {
            unreachable!("registered for Mul")
        };
        same_layout(lb, i, "Mul", a, b, output)?;
        lb.pads[output] = lb.pads[a] * lb.pads[b];
        Ok(Self { i, a, b, output })
    }

    /// Both operands are private reads.
    fn zk_reads(&self) -> [(usize, TensorRead); 2] {
        [
            (1, TensorRead::Tensor(self.a)),
            (2, TensorRead::Tensor(self.b)),
        ]
    }

    /// After the sumcheck at `r`: absorbs the operand evaluations and routes them.
    fn close_step(
        &self,
        tr: &mut Transcript,
        book: &mut ClaimBook,
        layout: &Layout,
        r: Vec<EF>,
        (a_eval, b_eval): (EF, EF),
    ) {
        tr.absorb_ef(a_eval);
        tr.absorb_ef(b_eval);
        book.route(layout, self.a, r.clone(), a_eval);
        book.route(layout, self.b, r, b_eval);
    }
}

impl OpProof for Mul {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let layout = &p.pk.layout;
        let claims = p.book.take_pending(layout, self.output);
        if claims.is_empty() {
            return None;
        }
        let (proof, point, (a_eval, b_eval)) = hadamard::prove(
            p.tr,
            b"mul",
            &claims,
            layout.num_vars(self.output),
            p.padded(self.a),
            p.padded(self.b),
        );
        self.close_step(p.tr, p.book, layout, point, (a_eval, b_eval));
        Some(LayerProof::Mul {
            sumcheck: proof,
            a_eval,
            b_eval,
        })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let LayerProof::Mul {
            sumcheck: sc,
            a_eval,
            b_eval,
        } = proofs.next(i, "Mul")?
        else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected a Mul proof"
            )));
        };
        let point = hadamard::verify(
            v.tr,
            b"mul",
            &claims,
            v.layout.num_vars(self.output),
            sc,
            (*a_eval, *b_eval),
            &format!("op #{i} (Mul)"),
        )?;
        self.close_step(v.tr, v.book, v.layout, point, (*a_eval, *b_eval));
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        if c.take(self.output) > 0 {
            c.route(self.a, 1);
            c.route(self.b, 1);
        }
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        vec![
            (
                "Hadamard sumcheck",
                sumcheck_bits(layout.num_vars(self.output), hadamard::DEGREE),
            ),
            ("claim batching ρ", batching_bits()),
        ]
    }

    fn zk_step(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(ZkStep {
            sumcheck: Some((
                layout.num_vars(self.output),
                3 + usize::from(masked(self.a)) + usize::from(masked(self.b)),
            )),
            tensors: vec![self.a, self.b],
            columns: Vec::new(),
        })
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        let reads = self.zk_reads();
        let (u, w) = (p.padded(self.a), p.padded(self.b));
        hadamard::ZkProduct {
            op: self.i,
            label: b"mul",
            output: self.output,
            reads: &reads,
        }
        .prove(p, u, w)
        .map(|(layer, _)| layer)
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let reads = self.zk_reads();
        hadamard::ZkProduct {
            op: self.i,
            label: b"mul",
            output: self.output,
            reads: &reads,
        }
        .verify(v, proofs, "Mul")?;
        Ok(())
    }
}

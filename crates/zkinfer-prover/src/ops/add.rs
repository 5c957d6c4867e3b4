//! `Add` (`y = a·a_mul + b·b_mul`, elementwise): every output claim becomes
//! one claim on each operand at the same point; the verifier checks the
//! combination. No sumcheck, no commitment.
//!
//! Zero knowledge: the output claims are masked, so the relation becomes
//! one sumcheck `Σ_x E(x)·(a_mul·a(x) + b_mul·b(x)) = Σ_k ρ_k v_k`,
//! `E = Σ_k ρ_k eq(z_k, ·)` public, reading both operands masked at its
//! point. The output's pad is the operands' combination, so the identity
//! holds on the whole hypercube as in a plain proof.

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::field::f_from_i64;
use zkinfer_protocol::mle::evaluate_base;
use zkinfer_protocol::{VerifyError, EF};

use super::public_linear::PublicLinear;
use super::{
    hadamard, ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx, VerifierCtx,
};
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::zk::{ZkProverCtx, ZkStep, ZkVerifierCtx};

#[derive(Debug)]
pub(crate) struct Add {
    i: usize,
    a: TensorId,
    b: TensorId,
    output: TensorId,
    a_mul: i64,
    b_mul: i64,
}

impl Add {
    pub fn lay_out(i: usize, op: &QOp, lb: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Add {
            a,
            b,
            output,
            a_mul,
            b_mul,
        } = *op
        else {
            unreachable!("registered for Add")
        };
        same_layout(lb, i, "Add", a, b, output)?;
        lb.pads[output] = a_mul * lb.pads[a] + b_mul * lb.pads[b];
        Ok(Self {
            i,
            a,
            b,
            output,
            a_mul,
            b_mul,
        })
    }
}

impl Add {
    /// The zero-knowledge step: `E·(a_mul·a + b_mul·b)`, `E` the eq
    /// combination of the output claims' points.
    fn public_linear(&self, layout: &Layout) -> PublicLinear {
        let c = |m: i64| EF::from(f_from_i64(m));
        PublicLinear {
            op: self.i,
            what: "Add",
            label: b"add",
            output: self.output,
            inputs: vec![(self.a, c(self.a_mul)), (self.b, c(self.b_mul))],
            num_vars: layout.num_vars(self.output),
        }
    }
}

/// An elementwise binary op's operands and output share one layout.
pub(super) fn same_layout(
    lb: &mut LayoutBuilder,
    i: usize,
    what: &str,
    a: TensorId,
    b: TensorId,
    output: TensorId,
) -> Result<(), ProveError> {
    if lb.len(a) != lb.len(output) || lb.len(b) != lb.len(output) {
        return Err(ProveError::Model(format!(
            "op #{i} ({what}): length mismatch"
        )));
    }
    // `[T, E]` and `[T, 1, E]` (a view's unit axis) are one arrangement.
    if !lb.shapes[a].same_arrangement(&lb.shapes[b]) {
        return Err(ProveError::Unsupported(format!(
            "op #{i} ({what}): its operands are laid out differently ({:?} vs {:?}); use tensors of the same shape",
            lb.shapes[a].dims, lb.shapes[b].dims
        )));
    }
    lb.shapes[output] = lb.shapes[a].clone();
    Ok(())
}

impl OpProof for Add {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let claims = p.book.take_pending(&p.pk.layout, self.output);
        if claims.is_empty() {
            return None;
        }
        p.tr.label(b"add");
        let (ap, bp) = (p.padded(self.a), p.padded(self.b));
        let evals: Vec<(EF, EF)> = claims
            .iter()
            .map(|(z, _)| (evaluate_base(&ap, z), evaluate_base(&bp, z)))
            .collect();
        for (&(ea, eb), (z, _)) in evals.iter().zip(&claims) {
            p.tr.absorb_ef(ea);
            p.tr.absorb_ef(eb);
            p.book.route(&p.pk.layout, self.a, z.clone(), ea);
            p.book.route(&p.pk.layout, self.b, z.clone(), eb);
        }
        Some(LayerProof::Add { evals })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let LayerProof::Add { evals } = proofs.next(i, "Add")? else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected an Add proof"
            )));
        };
        if evals.len() != claims.len() {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: wrong number of evaluations"
            )));
        }
        v.tr.label(b"add");
        let (am, bm) = (
            EF::from(f_from_i64(self.a_mul)),
            EF::from(f_from_i64(self.b_mul)),
        );
        for (&(ea, eb), (z, val)) in evals.iter().zip(&claims) {
            if am * ea + bm * eb != *val {
                return Err(VerifyError::Sumcheck(format!(
                    "op #{i} (Add): the operand evaluations do not add up to the output claim"
                )));
            }
            v.tr.absorb_ef(ea);
            v.tr.absorb_ef(eb);
            v.book.route(v.layout, self.a, z.clone(), ea);
            v.book.route(v.layout, self.b, z.clone(), eb);
        }
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        let k = c.take(self.output);
        c.route(self.a, k);
        c.route(self.b, k);
    }

    fn soundness_terms(&self, _: &Layout) -> Vec<(&'static str, f64)> {
        // The claims move to the operands at the same point: exact (the
        // zero-knowledge sumcheck is charged by the plan's mask).
        Vec::new()
    }

    fn zk_step(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(self.public_linear(layout).step(masked))
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        self.public_linear(p.layout).prove(p, |pending, rho| {
            hadamard::eq_combination(&hadamard::points(pending), rho)
        })
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        self.public_linear(v.layout)
            .verify(v, proofs, |pending, rho, point| {
                hadamard::eq_combination_at(&hadamard::points(pending), rho, point)
            })
    }
}

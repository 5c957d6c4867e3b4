//! `AddConst`: `y = x + C` with a constant tensor `C` committed among the
//! weights (laid out like one input sample, padding 0). A claim on the output
//! at `(z_b, z_s)` is `x(z) + C(z_s)` — the batch weights sum to 1 and the
//! batch padding rows are genuine samples — so the op sends `C(z_s)`, files
//! it as a weight claim and routes `v − C(z_s)` to the input: no sumcheck.
//!
//! Zero knowledge: `v` is masked, so `v − C(z_s)` cannot go to the input
//! as it is; the step sends the same `C(z_s)` and proves
//! `Σ_x E(x)·x(x) = Σ_k ρ_k (v_k − C(z_ks))`, `E = Σ_k ρ_k eq(z_k, ·)`
//! public, reading the input masked at the sumcheck's point.

use zkinfer_model::ir::{QOp, QuantModel, TensorId};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::evaluate_base;
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::{
    batching_coefficients, check_public_factor, hadamard, zk_message, ClaimCounter, Committed,
    LayerProof, LayerProofs, OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::{ClaimBook, PointClaim};
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::shape::PaddedShape;
use crate::zk::{
    BatchedClaims, TensorRead, ZkCheck, ZkPending, ZkProverCtx, ZkStep, ZkVerifierCtx,
};

#[derive(Debug)]
pub(crate) struct AddConst {
    i: usize,
    input: TensorId,
    output: TensorId,
    /// The constant's polynomial under the weight commitment.
    c_poly: usize,
    /// One sample's layout (the constant's).
    sample: PaddedShape,
    batch_vars: usize,
}

impl AddConst {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::AddConst {
            input,
            output,
            ref constant,
        } = *op
        else {
            unreachable!("registered for AddConst")
        };
        // Weight-free structures (in a verifying key) carry an empty constant.
        if b.len(input) != b.len(output) || !constant.is_empty() && constant.len() != b.len(input) {
            return Err(ProveError::Model(format!(
                "op #{i} (AddConst): the constant does not match the shapes"
            )));
        }
        let shape = b.shapes[input].clone();
        let sample = shape.sample();
        let c_poly = b.weight(sample.num_vars());
        b.shapes[output] = shape.clone();
        // The constant's padding is 0: padding maps to padding.
        b.pads[output] = b.pads[input];
        Ok(Self {
            i,
            input,
            output,
            c_poly,
            sample,
            batch_vars: shape.batch_vars(),
        })
    }

    /// Absorbs the constant's evaluations, files them as weight claims and
    /// routes the input claims.
    fn route(
        &self,
        tr: &mut Transcript,
        book: &mut ClaimBook,
        layout: &Layout,
        claims: Vec<PointClaim>,
        c_evals: &[EF],
    ) {
        tr.label(b"add-const");
        tr.absorb_efs(c_evals);
        for ((z, v), &c) in claims.into_iter().zip(c_evals) {
            book.weights.push(Claim {
                poly: self.c_poly,
                point: z[self.batch_vars..].to_vec(),
                value: c,
            });
            book.route(layout, self.input, z, v - c);
        }
    }
}

impl AddConst {
    /// The constant in one sample's padded arrangement.
    fn constant(&self, model: &QuantModel) -> Vec<F> {
        let QOp::AddConst { constant, .. } = &model.ops[self.i] else {
            unreachable!("op {} is an AddConst", self.i)
        };
        let c: Vec<F> = constant.iter().map(|&v| f_from_i64(v)).collect();
        self.sample.arrange(&c, F::default())
    }

    /// The zero-knowledge step's transcript before its sumcheck: absorbs
    /// `C(z_ks)`, files them as weight claims; returns `ρ` and the claimed
    /// sum `Σ_k ρ_k (v_k − C(z_ks))`.
    fn zk_open(
        &self,
        tr: &mut Transcript,
        book_weights: &mut Vec<Claim>,
        claims: &[ZkPending],
        c_evals: &[EF],
    ) -> (Vec<EF>, EF) {
        tr.label(b"add-const");
        tr.absorb_efs(c_evals);
        let rho = batching_coefficients(tr, claims.len());
        let mut claimed = EF::ZERO;
        for ((c, &ce), &r) in claims.iter().zip(c_evals).zip(&rho) {
            book_weights.push(Claim {
                poly: self.c_poly,
                point: c.point[self.batch_vars..].to_vec(),
                value: ce,
            });
            claimed += r * (c.value - ce);
        }
        (rho, claimed)
    }

    /// `E` (factor 0) times the input (factor 1, a private read).
    fn zk_terms(&self) -> (Vec<Term>, Vec<(usize, TensorRead)>) {
        let terms = vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }];
        (terms, vec![(1, TensorRead::Tensor(self.input))])
    }
}

impl OpProof for AddConst {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    fn weight_polys(&self, model: &QuantModel, _: &Layout) -> Result<Vec<Vec<F>>, ProveError> {
        let QOp::AddConst { constant, .. } = &model.ops[self.i] else {
            unreachable!("op {} is an AddConst", self.i)
        };
        if constant.len() != self.sample.len() {
            return Err(ProveError::Model(format!(
                "op #{} (AddConst) has no constant: a proving key needs the full model",
                self.i
            )));
        }
        let c: Vec<F> = constant.iter().map(|&v| f_from_i64(v)).collect();
        Ok(vec![self.sample.arrange(&c, F::default())])
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let layout = &p.pk.layout;
        let claims = p.book.take_pending(layout, self.output);
        if claims.is_empty() {
            return None;
        }
        let QOp::AddConst { constant, .. } = &p.pk.model.ops[self.i] else {
            unreachable!("op {} is an AddConst", self.i)
        };
        let c: Vec<F> = constant.iter().map(|&v| f_from_i64(v)).collect();
        let c = self.sample.arrange(&c, F::default());
        let c_evals: Vec<EF> = claims
            .iter()
            .map(|(z, _)| evaluate_base(&c, &z[self.batch_vars..]))
            .collect();
        self.route(p.tr, p.book, layout, claims, &c_evals);
        Some(LayerProof::AddConst { c_evals })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let LayerProof::AddConst { c_evals } = proofs.next(i, "AddConst")? else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected an AddConst proof"
            )));
        };
        if c_evals.len() != claims.len() {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: wrong number of constant evaluations"
            )));
        }
        self.route(v.tr, v.book, v.layout, claims, c_evals);
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        let k = c.take(self.output);
        c.weights += k;
        c.route(self.input, k);
    }

    /// Exact: the constant's evaluations are checked by the weight opening.
    fn soundness_terms(&self, _: &Layout) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    fn zk_step(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(ZkStep {
            sumcheck: Some((
                layout.num_vars(self.output),
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
        let c = self.constant(&p.pk.model);
        let c_evals: Vec<EF> = pending
            .iter()
            .map(|z| evaluate_base(&c, &z.point[self.batch_vars..]))
            .collect();
        let (rho, _) = self.zk_open(p.tr, &mut p.book.weights, &pending, &c_evals);
        let (terms, reads) = self.zk_terms();
        let poly = SumOfProducts {
            num_vars: p.layout.num_vars(self.output),
            mles: vec![
                Mle::Ext(hadamard::eq_combination(&hadamard::points(&pending), &rho)),
                Mle::Base(p.padded(self.input)),
            ],
            terms,
        };
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let run = p.prove_claims(self.i, poly, &reads, batched);
        Some(run.into_layer(c_evals))
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
        let (c_evals, sumcheck, final_evals, r_values) =
            zk_message(proofs, i, "AddConst", pending.len(), 2)?;
        let (rho, claimed_sum) = self.zk_open(v.tr, &mut v.book.weights, &pending, c_evals);
        let (terms, reads) = self.zk_terms();
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let n = v.layout.num_vars(self.output);
        let check = ZkCheck::claims(i, n, &terms, &reads, batched, claimed_sum);
        let point = v.sumcheck(&check, sumcheck, final_evals, r_values)?;
        let e = hadamard::eq_combination_at(&hadamard::points(&pending), &rho, &point);
        check_public_factor(i, "AddConst", final_evals[0], e)
    }
}

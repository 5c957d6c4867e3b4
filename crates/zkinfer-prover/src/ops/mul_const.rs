//! `MulConst`: `y = x ⊙ C` with a constant tensor `C` committed among the
//! weights (laid out like one input sample, padding 0). Unlike `AddConst`,
//! a claim on `y` cannot be split into claims on the factors, so the output
//! claims `v_k = y(z_k)`, batched by random `ρ`, are reduced by one degree-3
//! sumcheck over every variable (batch first):
//!
//! `Σ_k ρ_k v_k = Σ_{b,s} E(b,s)·C(s)·x(b,s)`, `E = Σ_k ρ_k eq(z_k, ·)`,
//!
//! `C` read the same in every sample (it does not depend on the batch
//! variables, so at the final point `(r_b, r_s)` its value is `C(r_s)`: a
//! weight claim). Padding: `C` is 0 on every padding position of a sample,
//! so `y` pads with 0 there; the batch padding rows repeat the last sample in
//! `x` and `y` alike, where the product holds as on any real sample.
//!
//! Zero knowledge: the same sumcheck with `x` read masked at its point
//! ([`hadamard::ZkProduct`]); `C(r_s)`, a public factor's final value, is
//! the weight claim.

use zkinfer_model::ir::{QOp, QuantModel, TensorId};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::security::sumcheck_bits;
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::hadamard;
use super::{
    batching_bits, ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx,
    VerifierCtx,
};
use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::shape::PaddedShape;
use crate::zk::{TensorRead, ZkProverCtx, ZkStep, ZkVerifierCtx};

#[derive(Debug)]
pub(crate) struct MulConst {
    i: usize,
    input: TensorId,
    output: TensorId,
    /// The constant's polynomial under the weight commitment.
    c_poly: usize,
    /// One sample's layout (the constant's).
    sample: PaddedShape,
    batch_vars: usize,
}

impl MulConst {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::MulConst {
            input,
            output,
            ref constant,
        } = *op
        else {
            unreachable!("registered for MulConst")
        };
        // Weight-free structures (in a verifying key) carry an empty constant.
        if b.len(input) != b.len(output) || !constant.is_empty() && constant.len() != b.len(input) {
            return Err(ProveError::Model(format!(
                "op #{i} (MulConst): the constant does not match the shapes"
            )));
        }
        let shape = b.shapes[input].clone();
        let sample = shape.sample();
        let c_poly = b.weight(sample.num_vars());
        b.shapes[output] = shape.clone();
        b.pads[output] = 0;
        Ok(Self {
            i,
            input,
            output,
            c_poly,
            sample,
            batch_vars: shape.batch_vars(),
        })
    }

    /// The constant in one sample's padded arrangement.
    fn constant(&self, model: &QuantModel) -> Result<Vec<F>, ProveError> {
        let QOp::MulConst { constant, .. } = &model.ops[self.i] else {
            unreachable!("op {} is a MulConst", self.i)
        };
        if constant.len() != self.sample.len() {
            return Err(ProveError::Model(format!(
                "op #{} (MulConst) has no constant: a proving key needs the full model",
                self.i
            )));
        }
        let c: Vec<F> = constant.iter().map(|&v| f_from_i64(v)).collect();
        Ok(self.sample.arrange(&c, F::ZERO))
    }

    /// `C` repeated over the batch rows (batch variables come first).
    fn constant_rows(&self, model: &QuantModel) -> Vec<F> {
        let c = self
            .constant(model)
            .expect("a proving key holds the full model");
        let n = c.len() << self.batch_vars;
        c.into_iter().cycle().take(n).collect()
    }

    /// The zero-knowledge product `E·C·x`: `x` (factor 2) is the private read.
    fn zk_product<'a>(&self, reads: &'a [(usize, TensorRead)]) -> hadamard::ZkProduct<'a> {
        hadamard::ZkProduct {
            op: self.i,
            label: b"mul-const",
            output: self.output,
            reads,
        }
    }

    /// After the sumcheck at `r`: absorbs `C(r_s)` and `x(r)`, files the
    /// first as a weight claim and routes the second.
    fn close_step(
        &self,
        tr: &mut Transcript,
        book: &mut ClaimBook,
        layout: &Layout,
        r: Vec<EF>,
        (c_eval, x_eval): (EF, EF),
    ) {
        tr.absorb_ef(c_eval);
        tr.absorb_ef(x_eval);
        book.weights.push(Claim {
            poly: self.c_poly,
            point: r[self.batch_vars..].to_vec(),
            value: c_eval,
        });
        book.route(layout, self.input, r, x_eval);
    }
}

impl OpProof for MulConst {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    fn weight_polys(&self, model: &QuantModel, _: &Layout) -> Result<Vec<Vec<F>>, ProveError> {
        Ok(vec![self.constant(model)?])
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let layout = &p.pk.layout;
        let claims = p.book.take_pending(layout, self.output);
        if claims.is_empty() {
            return None;
        }
        let c_rows = self.constant_rows(&p.pk.model);
        let (proof, point, (c_eval, x_eval)) = hadamard::prove(
            p.tr,
            b"mul-const",
            &claims,
            layout.num_vars(self.output),
            c_rows,
            p.padded(self.input),
        );
        self.close_step(p.tr, p.book, layout, point, (c_eval, x_eval));
        Some(LayerProof::MulConst {
            sumcheck: proof,
            c_eval,
            x_eval,
        })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let LayerProof::MulConst {
            sumcheck: sc,
            c_eval,
            x_eval,
        } = proofs.next(i, "MulConst")?
        else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected a MulConst proof"
            )));
        };
        let point = hadamard::verify(
            v.tr,
            b"mul-const",
            &claims,
            v.layout.num_vars(self.output),
            sc,
            (*c_eval, *x_eval),
            &format!("op #{i} (MulConst)"),
        )?;
        self.close_step(v.tr, v.book, v.layout, point, (*c_eval, *x_eval));
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        if c.take(self.output) > 0 {
            c.weights += 1;
            c.route(self.input, 1);
        }
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        vec![
            (
                "product sumcheck",
                sumcheck_bits(layout.num_vars(self.output), hadamard::DEGREE),
            ),
            ("claim batching ρ", batching_bits()),
        ]
    }

    fn zk_step(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(ZkStep {
            sumcheck: Some((
                layout.num_vars(self.output),
                3 + usize::from(masked(self.input)),
            )),
            tensors: vec![self.input],
            columns: Vec::new(),
        })
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        let reads = [(2, TensorRead::Tensor(self.input))];
        let c_rows = self.constant_rows(&p.pk.model);
        let x = p.padded(self.input);
        // The constant's final value is public: its weight claim.
        let (layer, point) = self.zk_product(&reads).prove(p, c_rows, x)?;
        let LayerProof::Zk { final_evals, .. } = &layer else {
            unreachable!("a zero-knowledge step")
        };
        p.book.weights.push(Claim {
            poly: self.c_poly,
            point: point[self.batch_vars..].to_vec(),
            value: final_evals[1],
        });
        Some(layer)
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let reads = [(2, TensorRead::Tensor(self.input))];
        if let Some((point, evals)) = self.zk_product(&reads).verify(v, proofs, "MulConst")? {
            v.book.weights.push(Claim {
                poly: self.c_poly,
                point: point[self.batch_vars..].to_vec(),
                value: evals[1],
            });
        }
        Ok(())
    }
}

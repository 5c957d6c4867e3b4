//! `Dense` (Gemm/MatMul with a constant matrix): the claims on the output are
//! batched by random `ρ` and reduced by one sumcheck over the input index of
//! `Σ_j W(z, j)·a(j)` to claims on the weights, the bias (weight opening) and
//! the input. The weight columns follow the input's arrangement, so an image
//! flattened by a Reshape keeps its per-axis padding.
//!
//! With several samples, a claim at `(z_b, z_o)` reads the input folded at its
//! batch point, `X_k(j) = Σ_b eq(z_b, b)·a(b, j)` (batch padding rows are
//! genuine samples, so the bias term is exactly `b(z_o)`): the sumcheck runs
//! over `Σ_k ρ_k W(z_o,k, j)·X_k(j)` and ends in one input claim per output
//! claim.

use rayon::prelude::*;
use zkinfer_model::ir::{QOp, QuantModel, TensorId};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_table, evaluate_base, weighted_row_sum};
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::security::sumcheck_bits;
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::{
    batching_bits, batching_coefficients, fold_batch, ClaimCounter, Committed, LayerProof,
    LayerProofs, OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::{ClaimBook, PointClaim};
use crate::error::ProveError;
use crate::layout::{nv, padded_field, weight_count, Layout, LayoutBuilder};
use crate::shape::PaddedShape;

#[derive(Debug)]
pub(crate) struct Dense {
    i: usize,
    input: TensorId,
    output: TensorId,
    in_dim: usize,
    out_dim: usize,
    /// Weight and bias polynomials under the weight commitment.
    w_poly: usize,
    b_poly: usize,
    /// Leading batch variables of every output point (0 for one sample).
    batch_vars: usize,
}

impl Dense {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Dense {
            input,
            output,
            in_dim,
            out_dim,
            ref weight,
            ref bias,
        } = *op
        else {
            unreachable!("registered for Dense")
        };
        if b.len(input) != in_dim || b.len(output) != out_dim {
            return Err(ProveError::Model(format!(
                "op #{i} (Dense): shapes do not match in_dim/out_dim"
            )));
        }
        // Weight-free structures (in a verifying key) carry empty vectors.
        let size = weight_count(&[in_dim, out_dim]);
        if size.is_none()
            || !weight.is_empty() && size != Some(weight.len())
            || !bias.is_empty() && bias.len() != out_dim
        {
            return Err(ProveError::Model(format!(
                "op #{i} (Dense): weight or bias size mismatch"
            )));
        }
        let w_poly = b.weight(nv(out_dim) + b.shapes[input].sample_vars());
        let b_poly = b.weight(nv(out_dim));
        b.shapes[output] = PaddedShape::flat(out_dim).batched(b.model.batch);
        b.pads[output] = 0;
        Ok(Self {
            i,
            input,
            output,
            in_dim,
            out_dim,
            w_poly,
            b_poly,
            batch_vars: b.shapes[input].batch_vars(),
        })
    }

    /// Several samples: one folded input per claim (else one shared input).
    fn batched(&self) -> bool {
        self.batch_vars > 0
    }

    /// Absorbs the bias evaluations and returns `ρ` and the claimed sum
    /// `Σ ρ_k (v_k − b(z_k))`: the transcript step before the sumcheck.
    fn open_step(tr: &mut Transcript, claims: &[PointClaim], bias_evals: &[EF]) -> (Vec<EF>, EF) {
        tr.label(b"dense");
        let rho = batching_coefficients(tr, claims.len());
        tr.absorb_efs(bias_evals);
        let claimed = claims
            .iter()
            .zip(bias_evals)
            .zip(&rho)
            .map(|(((_, v), b), r)| *r * (*v - *b))
            .sum();
        (rho, claimed)
    }

    /// After the sumcheck at `r`: absorbs the final evaluations and files the
    /// weight, bias and input claims (one input claim per output claim at its
    /// batch point, or one in all for a single sample).
    fn close_step(
        &self,
        tr: &mut Transcript,
        book: &mut ClaimBook,
        layout: &Layout,
        claims: &[PointClaim],
        r: Vec<EF>,
        (bias_evals, weight_evals, input_evals): (&[EF], &[EF], &[EF]),
    ) {
        tr.absorb_efs(weight_evals);
        tr.absorb_efs(input_evals);
        for ((z, _), (&w, &b)) in claims.iter().zip(weight_evals.iter().zip(bias_evals)) {
            let z_o = &z[self.batch_vars..];
            let mut zr = z_o.to_vec();
            zr.extend_from_slice(&r);
            book.weights.push(Claim {
                poly: self.w_poly,
                point: zr,
                value: w,
            });
            book.weights.push(Claim {
                poly: self.b_poly,
                point: z_o.to_vec(),
                value: b,
            });
        }
        if self.batched() {
            for ((z, _), &x) in claims.iter().zip(input_evals) {
                let mut point = z[..self.batch_vars].to_vec();
                point.extend_from_slice(&r);
                book.route(layout, self.input, point, x);
            }
        } else {
            book.route(layout, self.input, r, input_evals[0]);
        }
    }
}

impl OpProof for Dense {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    /// `[out, input arrangement]` (an image flattened by a Reshape keeps its
    /// per-axis padding, so its columns are scattered), then the bias.
    fn weight_polys(&self, model: &QuantModel, layout: &Layout) -> Result<Vec<Vec<F>>, ProveError> {
        let QOp::Dense { weight, bias, .. } = &model.ops[self.i] else {
            unreachable!("op {} is a Dense", self.i)
        };
        let (in_dim, out_dim) = (self.in_dim, self.out_dim);
        if weight.len() != in_dim * out_dim || bias.len() != out_dim {
            return Err(ProveError::Model(format!(
                "op #{} (Dense) has no weights: a proving key needs the full model",
                self.i
            )));
        }
        let shape = &layout.shapes[self.input];
        let cols = shape.sample_padded_len();
        let col_at: Vec<usize> = (0..in_dim).map(|c| shape.padded_index(c)).collect();
        let mut w = vec![F::default(); out_dim.next_power_of_two() * cols];
        for r in 0..out_dim {
            for (c, &at) in col_at.iter().enumerate() {
                w[r * cols + at] = f_from_i64(weight[r * in_dim + c]);
            }
        }
        Ok(vec![w, padded_field(bias, 0)])
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let layout = &p.pk.layout;
        let claims = p.book.take_pending(layout, self.output);
        if claims.is_empty() {
            return None;
        }
        let QOp::Dense { bias, .. } = &p.pk.model.ops[self.i] else {
            unreachable!("op {} is a Dense", self.i)
        };
        let bias_p = padded_field(bias, 0);
        let bias_evals: Vec<EF> = claims
            .iter()
            .map(|(z, _)| evaluate_base(&bias_p, &z[self.batch_vars..]))
            .collect();
        let (rho, _) = Self::open_step(p.tr, &claims, &bias_evals);
        // Per-claim rows of W bound at z_o (in the input's arrangement).
        let weights = p.pk.op_weights[self.i].as_deref().unwrap_or(&[]);
        let in_shape = &layout.shapes[self.input];
        let sample = in_shape.sample();
        let per_claim: Vec<Vec<EF>> = claims
            .iter()
            .map(|(z, _)| {
                let eq_o = eq_table(&z[self.batch_vars..]);
                let v = weighted_row_sum(weights, self.out_dim, self.in_dim, &eq_o);
                sample.arrange(&v, EF::ZERO)
            })
            .collect();
        let x = p.padded(self.input);
        let (mles, terms) = if self.batched() {
            // Each claim reads the input folded at its own batch point.
            let mut mles = Vec::with_capacity(2 * claims.len());
            let mut terms = Vec::with_capacity(claims.len());
            for (k, (((z, _), w), &coeff)) in claims.iter().zip(&per_claim).zip(&rho).enumerate() {
                mles.push(Mle::Ext(w.clone()));
                mles.push(Mle::Ext(fold_batch(&x, &z[..self.batch_vars])));
                terms.push(Term {
                    coeff,
                    factors: vec![2 * k, 2 * k + 1],
                });
            }
            (mles, terms)
        } else {
            let mut combined = per_claim[0].clone();
            for (v, r) in per_claim.iter().zip(&rho).skip(1) {
                combined
                    .par_iter_mut()
                    .zip(v.par_iter())
                    .for_each(|(c, x)| *c += *r * *x);
            }
            let terms = vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1],
            }];
            (vec![Mle::Ext(combined), Mle::Base(x)], terms)
        };
        let sc = sumcheck::prove(
            SumOfProducts {
                num_vars: in_shape.sample_vars(),
                mles,
                terms,
            },
            p.tr,
        );
        let eq_r = eq_table(&sc.point);
        let weight_evals: Vec<EF> = per_claim
            .iter()
            .map(|v| v.iter().zip(&eq_r).map(|(a, b)| *a * *b).sum())
            .collect();
        let input_evals: Vec<EF> = sc.final_evals.iter().skip(1).step_by(2).copied().collect();
        self.close_step(
            p.tr,
            p.book,
            layout,
            &claims,
            sc.point,
            (&bias_evals, &weight_evals, &input_evals),
        );
        Some(LayerProof::Dense {
            bias_evals,
            sumcheck: sc.proof,
            weight_evals,
            input_evals,
        })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let LayerProof::Dense {
            bias_evals,
            sumcheck: sc,
            weight_evals,
            input_evals,
        } = proofs.next(i, "Dense")?
        else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected a Dense proof"
            )));
        };
        let inputs = if self.batched() { claims.len() } else { 1 };
        if bias_evals.len() != claims.len()
            || weight_evals.len() != claims.len()
            || input_evals.len() != inputs
        {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: wrong number of evaluations"
            )));
        }
        let (rho, claimed) = Self::open_step(v.tr, &claims, bias_evals);
        let sample_vars = v.layout.shapes[self.input].sample_vars();
        let sub = sumcheck::verify(sample_vars, 2, claimed, sc, v.tr)?;
        let expected: EF = if self.batched() {
            (weight_evals.iter().zip(input_evals))
                .zip(&rho)
                .map(|((w, x), r)| *r * *w * *x)
                .sum()
        } else {
            let w_comb: EF = weight_evals.iter().zip(&rho).map(|(w, r)| *w * *r).sum();
            w_comb * input_evals[0]
        };
        if expected != sub.expected_eval {
            return Err(VerifyError::Sumcheck(format!(
                "op #{i} (Dense): the final sumcheck evaluation does not match the claimed weight and input evaluations"
            )));
        }
        self.close_step(
            v.tr,
            v.book,
            v.layout,
            &claims,
            sub.point,
            (bias_evals, weight_evals, input_evals),
        );
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        let k = c.take(self.output);
        if k > 0 {
            c.weights += 2 * k;
            c.route(self.input, if self.batched() { k } else { 1 });
        }
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        vec![
            (
                "sumcheck",
                sumcheck_bits(layout.shapes[self.input].sample_vars(), 2),
            ),
            ("claim batching ρ", batching_bits()),
        ]
    }
}

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
use zkinfer_model::ir::{IntVec, QOp, QuantModel, TensorId};
use zkinfer_model::with_int_slice;
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_eval, eq_table, evaluate_base, weighted_row_sum};
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::security::sumcheck_bits;
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::{
    batching_bits, batching_coefficients, fold_batch, ClaimCounter, Committed, LayerProof,
    LayerProofs, OpProof, ProverCtx, VerifierCtx,
};
use super::{check_public_factor, zk_message};
use crate::claims::{ClaimBook, PointClaim};
use crate::error::ProveError;
use crate::layout::{nv, padded_field, weight_count, Layout, LayoutBuilder};
use crate::shape::PaddedShape;
use crate::spatial::{masked_eq_at, valid_mass};
use crate::weight_blocks::{AxisPieces, BlockedMatrix};
use crate::zk::{BatchedClaims, TensorRead, ZkCheck, ZkProverCtx, ZkStep, ZkVerifierCtx};

#[derive(Debug)]
pub(crate) struct Dense {
    i: usize,
    input: TensorId,
    output: TensorId,
    in_dim: usize,
    out_dim: usize,
    /// The weight matrix (as blocks, `weight_blocks.rs`) and the bias
    /// polynomial under the weight commitment. A tied op's matrix is its
    /// source's ([`zkinfer_model::tied`]).
    weights: BlockedMatrix,
    b_poly: usize,
    /// The weights are the source's transpose: claims swap their output and
    /// column variables.
    tied: Option<bool>,
    /// Leading variables of every output point that select a row (the batch,
    /// then the row axes of a MatMul over rows); 0 for one sample of one row.
    batch_vars: usize,
    /// The row axes' lengths (empty for one row): their padding is masked.
    row_dims: Vec<usize>,
    /// How one row of the input sits in its polynomial (a flattened image
    /// keeps its per-axis padding).
    col_shape: PaddedShape,
    /// The input's padding value: its padding rows are excluded from the
    /// sum by subtracting their share from the folded input.
    input_pad: i64,
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
        let rows = b.len(input) / in_dim.max(1);
        if in_dim == 0 || rows * in_dim != b.len(input) || rows * out_dim != b.len(output) {
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
        let in_shape = b.shapes[input].clone();
        let (row_dims, col_shape) = if rows == 1 {
            (Vec::new(), in_shape.sample())
        } else {
            // Rows are the input's leading axes, a row its trailing ones.
            let dims = &in_shape.dims;
            let split = (0..dims.len()).find(|&k| dims[k..].iter().product::<usize>() == in_dim);
            let Some(k) = split.filter(|&k| k > 0) else {
                return Err(ProveError::Unsupported(format!(
                    "op #{i} (Dense over {rows} rows): its input must be laid out as rows of {in_dim} (it is {dims:?})"
                )));
            };
            (dims[..k].to_vec(), PaddedShape::of(dims[k..].to_vec()))
        };
        let tie = b.model.tied_weights.iter().find(|t| t.op == i);
        // Columns lie flat: a column's padded position is its index.
        let flat = col_shape.dims.iter().filter(|&&d| d != 1).count() <= 1;
        let (weights, tied) = match tie {
            None => {
                let m = b.weight_matrix(out_dim, in_dim, col_shape.num_vars(), flat);
                b.record_dense_weight(i, m.clone());
                (m, None)
            }
            Some(t) => {
                let Some(src) = b.dense_weight(t.source).filter(|_| flat) else {
                    return Err(ProveError::Model(format!(
                        "op #{i} (Dense): its weight tie to op #{} cannot be laid out",
                        t.source
                    )));
                };
                (src.clone(), Some(t.transposed))
            }
        };
        let b_poly = b.weight(nv(out_dim));
        let mut out_dims = row_dims.clone();
        out_dims.push(out_dim);
        b.shapes[output] = PaddedShape::of(out_dims).batched(b.model.batch);
        b.pads[output] = 0;
        Ok(Self {
            i,
            input,
            output,
            in_dim,
            out_dim,
            weights,
            b_poly,
            tied,
            batch_vars: in_shape.num_vars() - col_shape.num_vars(),
            row_dims,
            col_shape,
            input_pad: b.pads[input],
        })
    }

    /// The folded input's shift for a claim at `z`: padding rows hold the
    /// input's pad value, and the output's padding rows are 0, so the sum
    /// runs over `X(j) − pad·(1 − m)` (the verifier adds it back).
    fn row_padding_shift(&self, z: &[EF]) -> EF {
        EF::from(f_from_i64(self.input_pad)) * (EF::ONE - self.bias_mass(z))
    }

    /// The bias's weight in a claim at `z`: the mass of its row variables on
    /// real rows (batch padding rows are genuine samples and count).
    fn bias_mass(&self, z: &[EF]) -> EF {
        let mut at = self.batch_vars - self.row_dims.iter().map(|&d| nv(d)).sum::<usize>();
        let mut mass = EF::ONE;
        for &d in &self.row_dims {
            mass *= valid_mass(&z[at..at + nv(d)], d);
            at += nv(d);
        }
        mass
    }

    /// `eq(z_b, ·)` over the batch and row variables with the padding rows
    /// zeroed (the zero-knowledge weight factor's row weights): the output's
    /// padding rows are 0, whatever the input's pad, so they must not read
    /// the input's padding rows. Batch padding rows are genuine samples and
    /// keep their weight.
    fn row_eq(&self, z_b: &[EF]) -> Vec<EF> {
        let mut t = eq_table(z_b);
        let mut low = 0;
        for &d in self.row_dims.iter().rev() {
            let (bits, mask) = (nv(d), (1usize << nv(d)) - 1);
            for (x, v) in t.iter_mut().enumerate() {
                if (x >> low) & mask >= d {
                    *v = EF::ZERO;
                }
            }
            low += bits;
        }
        t
    }

    /// [`Dense::row_eq`] at `r_b` (the verifier's side): the batch axes'
    /// `eq` times each row axis's masked `eq`.
    fn row_eq_at(&self, z_b: &[EF], r_b: &[EF]) -> EF {
        let at = self.batch_vars - self.row_dims.iter().map(|&d| nv(d)).sum::<usize>();
        let mut value = eq_eval(&z_b[..at], &r_b[..at]);
        let mut at = at;
        for &d in &self.row_dims {
            let k = nv(d);
            value *= masked_eq_at(&z_b[at..at + k], &r_b[at..at + k], d);
            at += k;
        }
        value
    }

    /// A claim's point on the weight matrix's (rows, columns): the output
    /// point `z_o` and the input point `r`, swapped for a transposed tie.
    fn matrix_point<'a>(&self, z_o: &'a [EF], r: &'a [EF]) -> (&'a [EF], &'a [EF]) {
        match self.tied {
            Some(true) => (r, z_o),
            _ => (z_o, r),
        }
    }

    /// The matrix's pieces along this op's (output, input) axes.
    fn op_pieces(&self) -> (&AxisPieces, &AxisPieces) {
        match self.tied {
            Some(true) => (&self.weights.cols, &self.weights.rows),
            _ => (&self.weights.rows, &self.weights.cols),
        }
    }

    /// Block `(p, q)` of this op's (output, input) pieces in the matrix's
    /// block order.
    fn block_index(&self, p: usize, q: usize) -> usize {
        let (out_n, in_n) = (
            self.op_pieces().0.pieces.len(),
            self.op_pieces().1.pieces.len(),
        );
        match self.tied {
            Some(true) => q * out_n + p,
            _ => p * in_n + q,
        }
    }

    /// Per output piece of the weight matrix, its rows bound at the claim's
    /// point `z_o` (in the input's arrangement): `v_p(j) = Σ_{i∈p}
    /// eq(z_o,low, i)·W(i, j)`. The matrix bound at `z_o` is
    /// `Σ_p sel_p(z_o)·v_p`; block `(p, q)` is `v_p` at the piece `q` of the
    /// sumcheck's point. Reads the weights at their stored width.
    fn bound_rows(&self, weights: &IntVec, z_o: &[EF]) -> Vec<Vec<EF>> {
        let (out_pieces, _) = self.op_pieces();
        out_pieces
            .pieces
            .iter()
            .enumerate()
            .map(|(p, &(start, _))| {
                let end = (start + (1 << out_pieces.pieces[p].1)).min(self.out_dim);
                let rows = start * self.in_dim..end * self.in_dim;
                let eq = eq_table(out_pieces.low(p, z_o));
                let v = with_int_slice!(weights, w => {
                    weighted_row_sum(&w[rows], end - start, self.in_dim, &eq)
                });
                self.col_shape.arrange(&v, EF::ZERO)
            })
            .collect()
    }

    /// One evaluation per block per claim at the sumcheck's point `r`, in
    /// the matrix's block order, from each claim's [`Dense::bound_rows`].
    fn block_evals(&self, bound: &[Vec<Vec<EF>>], r: &[EF]) -> Vec<EF> {
        let (_, in_pieces) = self.op_pieces();
        let in_eqs: Vec<Vec<EF>> = (0..in_pieces.pieces.len())
            .map(|q| eq_table(in_pieces.low(q, r)))
            .collect();
        let mut weight_evals = vec![EF::ZERO; bound.len() * self.weights.num_blocks()];
        for (k, parts) in bound.iter().enumerate() {
            let evals = &mut weight_evals[k * self.weights.num_blocks()..];
            for (p, part) in parts.iter().enumerate() {
                for (q, eq) in in_eqs.iter().enumerate() {
                    let start = in_pieces.pieces[q].0;
                    evals[self.block_index(p, q)] = part[start..start + eq.len()]
                        .iter()
                        .zip(eq)
                        .map(|(a, b)| *a * *b)
                        .sum();
                }
            }
        }
        weight_evals
    }

    /// The zero-knowledge step's weight factor over the whole input index
    /// `(b, j)`: `C(b, j) = Σ_k ρ_k·eq(z_b,k, b)·W(z_o,k, j)`, so that the
    /// input is read whole (masked) at the sumcheck's point instead of
    /// folded per claim.
    fn combined_rows(&self, bound: &[Vec<Vec<EF>>], claims: &[PointClaim], rho: &[EF]) -> Vec<EF> {
        let (out_pieces, _) = self.op_pieces();
        let row = self.col_shape.padded_len();
        let mut combined = vec![EF::ZERO; row << self.batch_vars];
        for ((z, _), (parts, &r)) in claims.iter().zip(bound.iter().zip(rho)) {
            let (z_b, z_o) = z.split_at(self.batch_vars);
            let mut w = vec![EF::ZERO; row];
            for (p, part) in parts.iter().enumerate() {
                let s = out_pieces.selector(p, z_o);
                w.par_iter_mut()
                    .zip(part.par_iter())
                    .for_each(|(a, b)| *a += s * *b);
            }
            let eq_b = self.row_eq(z_b);
            combined
                .par_chunks_mut(row)
                .zip(eq_b.par_iter())
                .for_each(|(dst, &e)| {
                    let s = r * e;
                    dst.iter_mut().zip(&w).for_each(|(a, b)| *a += s * *b);
                });
        }
        combined
    }

    /// The weight and bias claims of every output claim at the sumcheck's
    /// point `r`.
    fn weight_claims(
        &self,
        claims: &[PointClaim],
        r: &[EF],
        bias_evals: &[EF],
        weight_evals: &[EF],
    ) -> Vec<Claim> {
        let blocks = weight_evals.chunks(self.weights.num_blocks());
        let mut out = Vec::new();
        for ((z, _), (w, &b)) in claims.iter().zip(blocks.zip(bias_evals)) {
            let z_o = &z[self.batch_vars..];
            let (x, y) = self.matrix_point(z_o, r);
            out.extend(self.weights.claims(x, y, w));
            out.push(Claim {
                poly: self.b_poly,
                point: z_o.to_vec(),
                value: b,
            });
        }
        out
    }

    /// The zero-knowledge step's polynomial: `Σ_j W̃(j)·a(j)` with `W̃` the
    /// combined rows (factor 0) and the input (factor 1, a private read
    /// unless it is a public input).
    fn zk_terms(&self) -> (Vec<Term>, Vec<(usize, TensorRead)>) {
        let terms = vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }];
        (terms, vec![(1, TensorRead::Tensor(self.input))])
    }

    /// Several samples: one folded input per claim (else one shared input).
    fn batched(&self) -> bool {
        self.batch_vars > 0
    }

    /// Absorbs the bias evaluations and returns `ρ` and the claimed sum
    /// `Σ ρ_k (v_k − m_k·b(z_k))`: the transcript step before the sumcheck.
    fn open_step(
        &self,
        tr: &mut Transcript,
        claims: &[PointClaim],
        bias_evals: &[EF],
    ) -> (Vec<EF>, EF) {
        tr.label(b"dense");
        let rho = batching_coefficients(tr, claims.len());
        tr.absorb_efs(bias_evals);
        let claimed = claims
            .iter()
            .zip(bias_evals)
            .zip(&rho)
            .map(|(((z, v), b), r)| *r * (*v - *b * self.bias_mass(z)))
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
        book.weights
            .extend(self.weight_claims(claims, &r, bias_evals, weight_evals));
        if self.batched() {
            for ((z, _), &x) in claims.iter().zip(input_evals) {
                let mut point = z[..self.batch_vars].to_vec();
                point.extend_from_slice(&r);
                book.route(layout, self.input, point, x + self.row_padding_shift(z));
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
    fn weight_polys(&self, model: &QuantModel, _: &Layout) -> Result<Vec<Vec<F>>, ProveError> {
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
        if self.tied.is_some() {
            return Ok(vec![padded_field(bias, 0)]);
        }
        let shape = &self.col_shape;
        let mut col_of = vec![usize::MAX; shape.padded_len()];
        for c in 0..in_dim {
            col_of[shape.padded_index(c)] = c;
        }
        let mut polys = with_int_slice!(weight, w => {
            self.weights.tables(|r, at| match col_of.get(at) {
                Some(&c) if r < out_dim && c != usize::MAX => f_from_i64(w[r * in_dim + c].into()),
                _ => F::ZERO,
            })
        });
        polys.push(padded_field(bias, 0));
        Ok(polys)
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let layout = &p.pk.layout;
        let claims = p.book.take_pending(layout, self.output);
        if claims.is_empty() {
            return None;
        }
        let QOp::Dense { bias, weight, .. } = &p.pk.model.ops[self.i] else {
            unreachable!("op {} is a Dense", self.i)
        };
        let bias_p = padded_field(bias, 0);
        let bias_evals: Vec<EF> = claims
            .iter()
            .map(|(z, _)| evaluate_base(&bias_p, &z[self.batch_vars..]))
            .collect();
        let (rho, _) = self.open_step(p.tr, &claims, &bias_evals);
        // Per-claim rows of W bound at z_o (in the input's arrangement).
        let sample = &self.col_shape;
        let bound: Vec<Vec<Vec<EF>>> = claims
            .iter()
            .map(|(z, _)| self.bound_rows(weight, &z[self.batch_vars..]))
            .collect();
        let (out_pieces, _) = self.op_pieces();
        let per_claim: Vec<Vec<EF>> = claims
            .iter()
            .zip(&bound)
            .map(|((z, _), parts)| {
                let z_o = &z[self.batch_vars..];
                let mut v = vec![EF::ZERO; sample.padded_len()];
                for (p, part) in parts.iter().enumerate() {
                    let s = out_pieces.selector(p, z_o);
                    v.par_iter_mut()
                        .zip(part.par_iter())
                        .for_each(|(a, b)| *a += s * *b);
                }
                v
            })
            .collect();
        let x = p.padded(self.input);
        let (mles, terms) = if self.batched() {
            // Each claim reads the input folded at its own batch point.
            let mut mles = Vec::with_capacity(2 * claims.len());
            let mut terms = Vec::with_capacity(claims.len());
            for (k, (((z, _), w), &coeff)) in claims.iter().zip(&per_claim).zip(&rho).enumerate() {
                mles.push(Mle::Ext(w.clone()));
                let shift = self.row_padding_shift(z);
                let mut folded = fold_batch(&x, &z[..self.batch_vars]);
                if shift != EF::ZERO {
                    folded.par_iter_mut().for_each(|v| *v -= shift);
                }
                mles.push(Mle::Ext(folded));
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
                num_vars: self.col_shape.num_vars(),
                mles,
                terms,
            },
            p.tr,
        );
        let weight_evals = self.block_evals(&bound, &sc.point);
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
            || weight_evals.len() != claims.len() * self.weights.num_blocks()
            || input_evals.len() != inputs
        {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: wrong number of evaluations"
            )));
        }
        let (rho, claimed) = self.open_step(v.tr, &claims, bias_evals);
        let sub = sumcheck::verify(self.col_shape.num_vars(), 2, claimed, sc, v.tr)?;
        // The matrix at each claim's point, from its blocks' evaluations.
        let matrix_evals: Vec<EF> = claims
            .iter()
            .zip(weight_evals.chunks(self.weights.num_blocks()))
            .map(|((z, _), blocks)| {
                let (x, y) = self.matrix_point(&z[self.batch_vars..], &sub.point);
                self.weights.combine(x, y, blocks)
            })
            .collect();
        let expected: EF = if self.batched() {
            (matrix_evals.iter().zip(input_evals))
                .zip(&rho)
                .map(|((w, x), r)| *r * *w * *x)
                .sum()
        } else {
            let w_comb: EF = matrix_evals.iter().zip(&rho).map(|(w, r)| *w * *r).sum();
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
            c.weights += k * (self.weights.num_blocks() + 1);
            c.route(self.input, if self.batched() { k } else { 1 });
        }
    }

    fn soundness_terms(&self, _: &Layout) -> Vec<(&'static str, f64)> {
        vec![
            ("sumcheck", sumcheck_bits(self.col_shape.num_vars(), 2)),
            ("claim batching ρ", batching_bits()),
        ]
    }

    /// The sumcheck runs over the whole input index (samples and rows
    /// too), so the input is one masked read; its weight factor is zero on
    /// padding rows ([`Dense::row_eq`]), which a plain proof handles by
    /// subtracting their share per claim instead.
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
        let claims = crate::zk::point_claims(&pending);
        let QOp::Dense { bias, weight, .. } = &p.pk.model.ops[self.i] else {
            unreachable!("op {} is a Dense", self.i)
        };
        let bias_p = padded_field(bias, 0);
        let bias_evals: Vec<EF> = claims
            .iter()
            .map(|(z, _)| evaluate_base(&bias_p, &z[self.batch_vars..]))
            .collect();
        let (rho, _) = self.open_step(p.tr, &claims, &bias_evals);
        let bound: Vec<Vec<Vec<EF>>> = claims
            .iter()
            .map(|(z, _)| self.bound_rows(weight, &z[self.batch_vars..]))
            .collect();
        let (terms, reads) = self.zk_terms();
        let poly = SumOfProducts {
            num_vars: p.layout.num_vars(self.input),
            mles: vec![
                Mle::Ext(self.combined_rows(&bound, &claims, &rho)),
                Mle::Base(p.padded(self.input)),
            ],
            terms,
        };
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let run = p.prove_claims(self.i, poly, &reads, batched);
        let r_j = &run.point[self.batch_vars..];
        let weight_evals = self.block_evals(&bound, r_j);
        let weight_claims = self.weight_claims(&claims, r_j, &bias_evals, &weight_evals);
        Some(p.with_weight_evals(run, bias_evals, weight_evals, weight_claims))
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
        let k = pending.len();
        let (public, sumcheck, final_evals, r_values) =
            zk_message(proofs, i, "Dense", k * (1 + self.weights.num_blocks()), 2)?;
        let claims = crate::zk::point_claims(&pending);
        let (bias_evals, weight_evals) = public.split_at(k);
        let (rho, claimed_sum) = self.open_step(v.tr, &claims, bias_evals);
        let (terms, reads) = self.zk_terms();
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let n = v.layout.num_vars(self.input);
        let check = ZkCheck::claims(i, n, &terms, &reads, batched, claimed_sum);
        let point = v.sumcheck(&check, sumcheck, final_evals, r_values)?;
        let (r_b, r_j) = point.split_at(self.batch_vars);
        // The weight factor's final value: the matrix recombined from its
        // blocks at every claim's point, weighted by its samples' eq.
        let combined: EF = claims
            .iter()
            .zip(weight_evals.chunks(self.weights.num_blocks()))
            .zip(&rho)
            .map(|(((z, _), blocks), &r)| {
                let (z_b, z_o) = z.split_at(self.batch_vars);
                let (x, y) = self.matrix_point(z_o, r_j);
                r * self.row_eq_at(z_b, r_b) * self.weights.combine(x, y, blocks)
            })
            .sum();
        check_public_factor(i, "Dense", final_evals[0], combined)?;
        let weight_claims = self.weight_claims(&claims, r_j, bias_evals, weight_evals);
        v.weight_evals(weight_evals, weight_claims);
        Ok(())
    }
}

//! Conv2d: claims on the output reduced to claims on the weights, the bias
//! and the input by two sumchecks, without a patch (im2col) matrix.
//!
//! For an output claim at `z = (z_oc, z_y, z_x)`:
//!
//! `y(z) − b(z_oc)·m_y·m_x = Σ_{ic,ky,kx} W(z_oc, ic, ky, kx) · P(ic, ky, kx)`
//!
//! where `m_*` is the mass of `eq(z_*, ·)` on the valid rows and the *patch
//! table* `P[ic,ky,kx] = Σ_{oy,ox} eq(z_y,oy)·eq(z_x,ox)·x[ic, oy·s+ky−p, ox·s+kx−p]`
//! is built separably in `O(input · kernel)` time. The first sumcheck (over
//! the kernel index) ends at `r = (r_ic, r_ky, r_kx)` with a weight claim
//! `W(z_oc, r)` and a patch claim `P(r)`; the patch claim is a separable linear
//! functional of the input (`spatial.rs`), reduced by the second sumcheck.
//! Several output claims are batched by random coefficients.
//!
//! Zero knowledge (`zk.rs`): one masked sumcheck over the input with the
//! claims' public functional of it as a factor.

mod zk;

#[cfg(test)]
pub(crate) use zk::forge as forge_zk;

use rayon::prelude::*;
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_table, evaluate_base, weighted_row_sum};
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use zkinfer_model::ir::{IntVec, QOp, QuantModel, TensorId};
use zkinfer_model::with_int_slice;
use zkinfer_protocol::field::f_from_i64;
use zkinfer_protocol::security::sumcheck_bits;

use super::{
    at_op, batching_bits, batching_coefficients, fold_batch, ClaimCounter, Committed, LayerProof,
    LayerProofs, OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::PointClaim;
use crate::error::ProveError;
use crate::layout::{nv, padded_field, weight_count, Layout, LayoutBuilder};
use crate::shape::PaddedShape;
use crate::spatial::{masked_eq, prove_linear, valid_mass, verify_linear, Separable, Window};
use crate::zk::{ZkProverCtx, ZkStep, ZkVerifierCtx};

/// Where a Conv2d's output claims went.
struct ConvReduction {
    /// Claims on the weight polynomial (`[OC, IC, KH, KW]`, each axis padded).
    weight_claims: Vec<PointClaim>,
    bias_claims: Vec<PointClaim>,
    input_claim: PointClaim,
}

/// A kernel's weights as field elements, for one proof (the key keeps them
/// once, as integers at their stored width).
fn field_weights(weight: &IntVec) -> Vec<F> {
    with_int_slice!(weight, w => w.par_iter().map(|&v| f_from_i64(v.into())).collect())
}

fn kernel_shape(win: &Window) -> PaddedShape {
    PaddedShape::of(vec![win.in_channels, win.y.kernel, win.x.kernel])
}

/// The patch table `P` of one output point, arranged `[IC, KH, KW]` (padded),
/// from one sample's image (or several folded at the point's batch variables).
fn patch_table<T>(win: &Window, x: &[T], zy: &[EF], zx: &[EF]) -> Vec<EF>
where
    T: Copy + Send + Sync,
    EF: std::ops::Mul<T, Output = EF> + std::ops::Mul<EF, Output = EF>,
{
    let (eqy, eqx) = (eq_table(zy), eq_table(zx));
    let sparse = |axis: &crate::spatial::WindowAxis, eq: &[EF], k: usize| -> Vec<(usize, EF)> {
        axis.reads(k).map(|(o, i)| (i, eq[o])).collect()
    };
    let ay: Vec<_> = (0..win.y.kernel).map(|k| sparse(&win.y, &eqy, k)).collect();
    let ax: Vec<_> = (0..win.x.kernel).map(|k| sparse(&win.x, &eqx, k)).collect();
    let (h, kh, kw) = (win.y.in_len, win.y.kernel, win.x.kernel);
    let hp = h.next_power_of_two();
    let wp = win.x.in_len.next_power_of_two();
    let (khp, kwp) = (kh.next_power_of_two(), kw.next_power_of_two());
    let mut out = vec![EF::ZERO; win.in_channels.next_power_of_two() * khp * kwp];
    out.par_chunks_mut(khp * kwp)
        .take(win.in_channels)
        .enumerate()
        .for_each(|(c, dst)| {
            let img = &x[c * hp * wp..(c + 1) * hp * wp];
            // g[iy][kx] = Σ_ix x[c,iy,ix]·A_x^{kx}[ix]
            let mut g = vec![EF::ZERO; h * kw];
            for iy in 0..h {
                let row = &img[iy * wp..(iy + 1) * wp];
                for (kx, reads) in ax.iter().enumerate() {
                    g[iy * kw + kx] = reads.iter().map(|&(ix, w)| w * row[ix]).sum();
                }
            }
            for (ky, reads) in ay.iter().enumerate() {
                for kx in 0..kw {
                    dst[ky * kwp + kx] = reads.iter().map(|&(iy, w)| g[iy * kw + kx] * w).sum();
                }
            }
        });
    out
}

/// The patch claims `Σ_j σ_j P_j(r)` as a linear functional of the input.
fn patch_functional(win: &Window, points: &[&[EF]], r: &[EF], sigma: &[EF]) -> Separable {
    let (nc, ny) = (nv(win.in_channels), nv(win.y.kernel));
    let channels = masked_eq(&r[..nc], win.in_channels);
    let ky = eq_table(&r[nc..nc + ny]);
    let kx = eq_table(&r[nc + ny..]);
    let mut sep = Separable::default();
    for (z, &s) in points.iter().zip(sigma) {
        let (zb, _, zy, zx) = win.split_output(z);
        sep.push(
            s,
            eq_table(&zb),
            channels.clone(),
            win.y.table(&eq_table(&zy), &ky),
            win.x.table(&eq_table(&zx), &kx),
        );
    }
    sep
}

/// Proves the output claims of one Conv2d. `weights` are `[OC, IC·KH·KW]`
/// row-major (unpadded), `x` is the input in its padded arrangement.
fn prove(
    win: &Window,
    weights: &[F],
    bias: &[i64],
    x: Vec<F>,
    claims: &[PointClaim],
    tr: &mut Transcript,
) -> (LayerProof, ConvReduction) {
    tr.label(b"conv");
    let rho = batching_coefficients(tr, claims.len());
    let bias_p = padded_field(bias, 0);
    let bias_evals: Vec<EF> = claims
        .iter()
        .map(|(z, _)| evaluate_base(&bias_p, &win.split_output(z).1))
        .collect();
    tr.absorb_efs(&bias_evals);

    let kshape = kernel_shape(win);
    let kernel_len = kshape.len();
    let mut mles = Vec::with_capacity(2 * claims.len());
    let mut terms = Vec::with_capacity(claims.len());
    for (j, (z, _)) in claims.iter().enumerate() {
        let (zb, zc, zy, zx) = win.split_output(z);
        let wz = weighted_row_sum(weights, win.out_channels, kernel_len, &eq_table(&zc));
        mles.push(Mle::Ext(kshape.arrange(&wz, EF::ZERO)));
        let patches = if zb.is_empty() {
            patch_table(win, &x, &zy, &zx)
        } else {
            patch_table(win, &fold_batch(&x, &zb), &zy, &zx)
        };
        mles.push(Mle::Ext(patches));
        terms.push(Term {
            coeff: rho[j],
            factors: vec![2 * j, 2 * j + 1],
        });
    }
    let sc = sumcheck::prove(
        SumOfProducts {
            num_vars: kshape.num_vars(),
            mles,
            terms,
        },
        tr,
    );
    let weight_evals: Vec<EF> = sc.final_evals.iter().step_by(2).copied().collect();
    let patch_evals: Vec<EF> = sc.final_evals.iter().skip(1).step_by(2).copied().collect();
    tr.absorb_efs(&weight_evals);
    tr.absorb_efs(&patch_evals);

    let sigma = batching_coefficients(tr, claims.len());
    let points: Vec<&[EF]> = claims.iter().map(|(z, _)| z.as_slice()).collect();
    let sep = patch_functional(win, &points, &sc.point, &sigma);
    let (input_sumcheck, input_point, input_eval) = prove_linear(x, &sep, tr);

    let reduction = reduction(
        win,
        claims,
        &sc.point,
        &weight_evals,
        &bias_evals,
        input_point,
        input_eval,
    );
    (
        LayerProof::Conv {
            bias_evals,
            kernel_sumcheck: sc.proof,
            weight_evals,
            patch_evals,
            input_sumcheck,
            input_eval,
        },
        reduction,
    )
}

fn reduction(
    win: &Window,
    claims: &[PointClaim],
    r: &[EF],
    weight_evals: &[EF],
    bias_evals: &[EF],
    input_point: Vec<EF>,
    input_eval: EF,
) -> ConvReduction {
    let mut weight_claims = Vec::new();
    let mut bias_claims = Vec::new();
    for ((z, _), (&w, &b)) in claims.iter().zip(weight_evals.iter().zip(bias_evals)) {
        let zc = win.split_output(z).1;
        let mut point = zc.clone();
        point.extend_from_slice(r);
        weight_claims.push((point, w));
        bias_claims.push((zc, b));
    }
    ConvReduction {
        weight_claims,
        bias_claims,
        input_claim: (input_point, input_eval),
    }
}

/// Checks one Conv2d's proof against its output claims.
fn verify(
    win: &Window,
    claims: &[PointClaim],
    proof: &LayerProof,
    tr: &mut Transcript,
) -> Result<ConvReduction, VerifyError> {
    let LayerProof::Conv {
        bias_evals,
        kernel_sumcheck,
        weight_evals,
        patch_evals,
        input_sumcheck,
        input_eval,
    } = proof
    else {
        return Err(VerifyError::Malformed("expected a Conv proof".into()));
    };
    let n = claims.len();
    if bias_evals.len() != n || weight_evals.len() != n || patch_evals.len() != n {
        return Err(VerifyError::Malformed(
            "Conv proof: wrong number of evaluations".into(),
        ));
    }
    tr.label(b"conv");
    let rho = batching_coefficients(tr, n);
    tr.absorb_efs(bias_evals);
    let claimed: EF = claims
        .iter()
        .zip(bias_evals)
        .zip(&rho)
        .map(|(((z, v), b), r)| {
            // Batch padding rows are genuine samples: the batch weighs 1.
            let (_, _, zy, zx) = win.split_output(z);
            *r * (*v - *b * valid_mass(&zy, win.y.out_len) * valid_mass(&zx, win.x.out_len))
        })
        .sum();
    let sub = sumcheck::verify(
        kernel_shape(win).num_vars(),
        2,
        claimed,
        kernel_sumcheck,
        tr,
    )?;
    tr.absorb_efs(weight_evals);
    tr.absorb_efs(patch_evals);
    let combined: EF = rho
        .iter()
        .zip(weight_evals.iter().zip(patch_evals))
        .map(|(r, (w, p))| *r * *w * *p)
        .sum();
    if combined != sub.expected_eval {
        return Err(VerifyError::Sumcheck(
            "Conv: the kernel sumcheck's final evaluation does not match the weight and patch evaluations".into(),
        ));
    }
    let sigma = batching_coefficients(tr, n);
    let points: Vec<&[EF]> = claims.iter().map(|(z, _)| z.as_slice()).collect();
    let sep = patch_functional(win, &points, &sub.point, &sigma);
    let claimed: EF = sigma.iter().zip(patch_evals).map(|(s, p)| *s * *p).sum();
    let input_point = verify_linear(&sep, claimed, input_sumcheck, *input_eval, tr)
        .map_err(|e| VerifyError::Sumcheck(format!("Conv input reduction: {e}")))?;
    Ok(reduction(
        win,
        claims,
        &sub.point,
        weight_evals,
        bias_evals,
        input_point,
        *input_eval,
    ))
}

/// A `Conv2d` op: geometry and weight polynomials.
#[derive(Debug)]
pub(crate) struct Conv {
    i: usize,
    input: TensorId,
    output: TensorId,
    win: Window,
    w_poly: usize,
    b_poly: usize,
}

impl Conv {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Conv2d {
            input,
            output,
            kernel_shape,
            ref weight,
            ref bias,
            strides,
            pads,
        } = *op
        else {
            unreachable!("registered for Conv2d")
        };
        let [oc, ic, kh, kw] = kernel_shape;
        let win = Window::of(b, i, "Conv2d", (input, output), ([kh, kw], strides, pads))?;
        if win.in_channels != ic || win.out_channels != oc {
            return Err(ProveError::Model(format!(
                "op #{i} (Conv2d): kernel {kernel_shape:?} does not match the input/output channels"
            )));
        }
        let size = weight_count(&kernel_shape);
        if size.is_none()
            || !weight.is_empty() && size != Some(weight.len())
            || !bias.is_empty() && bias.len() != oc
        {
            return Err(ProveError::Model(format!(
                "op #{i} (Conv2d): weight or bias size mismatch"
            )));
        }
        let w_poly = b.weight(nv(oc) + nv(ic) + nv(kh) + nv(kw));
        let b_poly = b.weight(nv(oc));
        b.pads[output] = 0;
        Ok(Self {
            i,
            input,
            output,
            win,
            w_poly,
            b_poly,
        })
    }
}

impl OpProof for Conv {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    /// `[OC, IC, KH, KW]` with every axis padded, then the bias.
    fn weight_polys(&self, model: &QuantModel, _: &Layout) -> Result<Vec<Vec<F>>, ProveError> {
        let QOp::Conv2d {
            kernel_shape,
            weight,
            bias,
            ..
        } = &model.ops[self.i]
        else {
            unreachable!("op {} is a Conv2d", self.i)
        };
        if weight.len() != kernel_shape.iter().product::<usize>() || bias.len() != kernel_shape[0] {
            return Err(ProveError::Model(format!(
                "op #{} (Conv2d) has no weights: a proving key needs the full model",
                self.i
            )));
        }
        let shape = PaddedShape::of(kernel_shape.to_vec());
        let w = field_weights(weight);
        Ok(vec![shape.arrange(&w, F::default()), padded_field(bias, 0)])
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let claims = p.book.take_pending(&p.pk.layout, self.output);
        if claims.is_empty() {
            return None;
        }
        let QOp::Conv2d { bias, weight, .. } = &p.pk.model.ops[self.i] else {
            unreachable!("op {} is a Conv2d", self.i)
        };
        let x = p.padded(self.input);
        // Field elements for this op only: a key keeps its weights once, as
        // integers.
        let weights = field_weights(weight);
        let (proof, red) = prove(&self.win, &weights, bias, x, &claims, p.tr);
        p.book.weight_claims(self.w_poly, red.weight_claims);
        p.book.weight_claims(self.b_poly, red.bias_claims);
        let (point, value) = red.input_claim;
        p.book.route(&p.pk.layout, self.input, point, value);
        Some(proof)
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let red = verify(&self.win, &claims, proofs.next(self.i, "Conv2d")?, v.tr)
            .map_err(|e| at_op(self.i, "Conv2d", e))?;
        v.book.weight_claims(self.w_poly, red.weight_claims);
        v.book.weight_claims(self.b_poly, red.bias_claims);
        let (point, value) = red.input_claim;
        v.book.route(v.layout, self.input, point, value);
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        let k = c.take(self.output);
        if k > 0 {
            // Zero knowledge: one weight claim per tap, and the bias's.
            let per_claim = if c.layout.zk {
                self.win.kernel_len() + 1
            } else {
                2
            };
            c.weights += per_claim * k;
            c.route(self.input, 1);
        }
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        let w = &self.win;
        let kernel_vars = nv(w.in_channels) + nv(w.y.kernel) + nv(w.x.kernel);
        vec![
            ("kernel sumcheck", sumcheck_bits(kernel_vars, 2)),
            (
                "input sumcheck",
                sumcheck_bits(layout.num_vars(self.input), 2),
            ),
            ("claim batching ρ", batching_bits()),
            ("patch batching σ", batching_bits()),
        ]
    }

    fn zk_step(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        self.zk_plan_step(layout, masked)
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        self.zk_prove(p)
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        self.zk_verify(v, proofs)
    }
}

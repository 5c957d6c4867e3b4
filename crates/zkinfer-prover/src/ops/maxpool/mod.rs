//! `MaxPool`: commits its output `y` and, per kernel offset `k`, the
//! difference `d_k = y − x_k` with the shifted view `x_k[o] = x[window_k(o)]`.
//! The range table shows every `d_k ∈ [0, 2^16)`, so `y ≥` every window
//! value; a sumcheck of `Σ_o eq(z,o)·Π_k d_k(o) = 0` at a random `z` shows
//! some `d_k` vanishes at each `o`, so `y` *is* one of them. At that
//! sumcheck's point the `x_k` follow from `y` and `d_k`, and one linear
//! sumcheck reduces them all to a claim on the input.
//!
//! **Padding** (ONNX pads, and `ceil_mode`'s extra partial windows): a tap
//! that falls outside the input reads [`pad_value`], `−(bound + 1)` for the
//! input's static bound, which no input value reaches. Its difference
//! `y − pad ≥ 1` then never vanishes, so the product identity forces `y` to be
//! a real window value: a padding position cannot be claimed as the max. The
//! view is `x_k = S_k(x) + pad·M_k` with `M_k` the 0/1 mask of the real
//! outputs whose tap `k` is in the padding; `M_k` is separable (real rows ×
//! real columns minus the rows and columns tap `k` reads), so the verifier
//! evaluates it itself and subtracts `pad·Σ_k ρ_k M_k(r)` from the input
//! reduction's claim. Every window holds a real element (pads are smaller
//! than the kernel), so this is the IR's max with padding reading −∞.
//!
//! The zero-knowledge step is [`zk`]'s.

mod zk;

use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_eval, eq_table, evaluate_base};
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use zkinfer_model::ir::{QOp, TensorId};

use crate::zk::{ZkInner, ZkProverCtx, ZkStep, ZkVerifierCtx};
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::security::sumcheck_bits;

use super::{
    at_op, batching_bits, batching_coefficients, random_point_bits, ClaimCounter, Committed,
    LayerProof, LayerProofs, OpProof, ProverCtx, VerifierCtx, WitnessCtx,
};
use crate::claims::{ClaimBook, PointClaim};
use crate::error::ProveError;
use crate::layout::{col, Layout, LayoutBuilder, TableKey};
use crate::spatial::{
    masked_eq, one_hot, prove_linear, valid_mass, verify_linear, Separable, Window,
};

/// MaxPool inputs stay below this in magnitude (differences fit 16 bits).
pub const MAXPOOL_INPUT_BOUND: i64 = 1 << 15;

/// What a tap outside the input reads: below every value the input may hold.
pub(crate) fn pad_value(input_bound: i64) -> i64 {
    -(input_bound + 1)
}

/// Per kernel offset `k`, `d_k = y − x_k` over the whole padded output,
/// where the shifted view `x_k` reads `pad` at the real outputs whose tap
/// falls outside the input, and 0 at padding outputs: `y` is the output in
/// its padded arrangement, `x` the input's logical values (samples stacked;
/// batch padding rows repeat the last sample, as in `y`).
fn differences(win: &Window, x: &[i64], y: &[i64], pad: i64) -> Vec<Vec<F>> {
    let (h, w) = (win.y.in_len, win.x.in_len);
    let (ohp, owp) = (
        win.y.out_len.next_power_of_two(),
        win.x.out_len.next_power_of_two(),
    );
    let in_sample = win.in_channels * h * w;
    let out_sample = win.out_channels.next_power_of_two() * ohp * owp;
    let mut out = Vec::with_capacity(win.kernel_len());
    for ky in 0..win.y.kernel {
        for kx in 0..win.x.kernel {
            let mut d = y.to_vec();
            for (s, dy) in d.chunks_mut(out_sample).enumerate() {
                let xs = &x[s.min(win.batch - 1) * in_sample..];
                for c in 0..win.out_channels {
                    for oy in 0..win.y.out_len {
                        for ox in 0..win.x.out_len {
                            let v = match (win.y.source(oy, ky), win.x.source(ox, kx)) {
                                (Some(iy), Some(ix)) => xs[(c * h + iy) * w + ix],
                                _ => pad,
                            };
                            dy[(c * ohp + oy) * owp + ox] -= v;
                        }
                    }
                }
            }
            out.push(d.into_iter().map(f_from_i64).collect());
        }
    }
    out
}

/// `Σ_k ρ_k · M_k(r)`, `M_k` the mask of the real outputs whose tap `k` falls
/// in the padding: per tap, (real rows × real columns) − (rows tap `ky`
/// reads × columns tap `kx` reads), over the real channels and every batch
/// row (the batch weights sum to 1).
fn padding_mass(win: &Window, r: &[EF], rho: &[EF]) -> EF {
    let (_, rc, ry, rx) = win.split_output(r);
    let (eqy, eqx) = (eq_table(&ry), eq_table(&rx));
    let read = |eq: &[EF], axis: &crate::spatial::WindowAxis, k: usize| -> EF {
        axis.reads(k).map(|(o, _)| eq[o]).sum()
    };
    let all_y: EF = eqy.iter().take(win.y.out_len).copied().sum();
    let all_x: EF = eqx.iter().take(win.x.out_len).copied().sum();
    let mut mass = EF::ZERO;
    for ky in 0..win.y.kernel {
        let ry_k = read(&eqy, &win.y, ky);
        for kx in 0..win.x.kernel {
            let m = all_y * all_x - ry_k * read(&eqx, &win.x, kx);
            mass += rho[ky * win.x.kernel + kx] * m;
        }
    }
    mass * valid_mass(&rc, win.out_channels)
}

/// `Σ_k ρ_k · x_k(r)` as a functional of `x`.
fn shift_functional(win: &Window, r: &[EF], rho: &[EF]) -> Separable {
    let (rb, rc, ry, rx) = win.split_output(r);
    let samples = eq_table(&rb);
    let channels = masked_eq(&rc, win.in_channels);
    let (eqy, eqx) = (eq_table(&ry), eq_table(&rx));
    let mut sep = Separable::default();
    for ky in 0..win.y.kernel {
        let ty = win.y.table(&eqy, &one_hot(win.y.kernel, ky));
        for kx in 0..win.x.kernel {
            sep.push(
                rho[ky * win.x.kernel + kx],
                samples.clone(),
                channels.clone(),
                ty.clone(),
                win.x.table(&eqx, &one_hot(win.x.kernel, kx)),
            );
        }
    }
    sep
}

/// What a MaxPool proof leaves to check: the committed output and
/// differences at `point`, and a claim on the input.
struct MaxPoolReduction {
    point: Vec<EF>,
    output_eval: EF,
    diff_evals: Vec<EF>,
    input_claim: PointClaim,
}

/// `y` and `diffs` are the committed output and differences, `x` the input
/// in its padded arrangement.
fn prove_max(
    win: &Window,
    x: Vec<F>,
    y: &[F],
    diffs: &[Vec<F>],
    tr: &mut Transcript,
) -> (LayerProof, MaxPoolReduction) {
    tr.label(b"maxpool");
    let n_out = y.len().trailing_zeros() as usize;
    let z = tr.challenge_efs(n_out);
    let product = sumcheck::prove_eq_weighted(
        &z,
        SumOfProducts {
            num_vars: n_out,
            mles: diffs.iter().map(|d| Mle::Base(d.clone())).collect(),
            terms: vec![Term {
                coeff: EF::ONE,
                factors: (0..diffs.len()).collect(),
            }],
        },
        tr,
    );
    debug_assert_eq!(
        product.claimed_sum,
        EF::ZERO,
        "some d_k vanishes everywhere"
    );
    let r = product.point;
    let diff_evals = product.final_evals;
    let output_eval = evaluate_base(y, &r);
    tr.absorb_efs(&diff_evals);
    tr.absorb_ef(output_eval);
    let rho = batching_coefficients(tr, diffs.len());
    let sep = shift_functional(win, &r, &rho);
    let (input_sumcheck, input_point, input_eval) = prove_linear(x, &sep, tr);
    (
        LayerProof::MaxPool {
            product_sumcheck: product.proof,
            diff_evals: diff_evals.clone(),
            output_eval,
            input_sumcheck,
            input_eval,
        },
        MaxPoolReduction {
            point: r,
            output_eval,
            diff_evals,
            input_claim: (input_point, input_eval),
        },
    )
}

fn verify_max(
    win: &Window,
    pad: i64,
    n_out: usize,
    proof: &LayerProof,
    tr: &mut Transcript,
) -> Result<MaxPoolReduction, VerifyError> {
    let LayerProof::MaxPool {
        product_sumcheck,
        diff_evals,
        output_eval,
        input_sumcheck,
        input_eval,
    } = proof
    else {
        return Err(VerifyError::Malformed("expected a MaxPool proof".into()));
    };
    let k = win.kernel_len();
    if diff_evals.len() != k {
        return Err(VerifyError::Malformed(
            "MaxPool proof: wrong number of difference evaluations".into(),
        ));
    }
    tr.label(b"maxpool");
    let z = tr.challenge_efs(n_out);
    let sub = sumcheck::verify(n_out, k + 1, EF::ZERO, product_sumcheck, tr)?;
    let product: EF = diff_evals.iter().copied().product();
    if eq_eval(&z, &sub.point) * product != sub.expected_eval {
        return Err(VerifyError::Sumcheck(
            "MaxPool: the product sumcheck's final evaluation does not match the differences"
                .into(),
        ));
    }
    tr.absorb_efs(diff_evals);
    tr.absorb_ef(*output_eval);
    let rho = batching_coefficients(tr, k);
    let sep = shift_functional(win, &sub.point, &rho);
    // Σ ρ_k x_k(r), less the padding taps' share (which reads no input).
    let claimed: EF = rho
        .iter()
        .zip(diff_evals)
        .map(|(r, d)| *r * (*output_eval - *d))
        .sum::<EF>()
        - EF::from(f_from_i64(pad)) * padding_mass(win, &sub.point, &rho);
    let input_point = verify_linear(&sep, claimed, input_sumcheck, *input_eval, tr)
        .map_err(|e| VerifyError::Sumcheck(format!("MaxPool input reduction: {e}")))?;
    Ok(MaxPoolReduction {
        point: sub.point,
        output_eval: *output_eval,
        diff_evals: diff_evals.clone(),
        input_claim: (input_point, *input_eval),
    })
}

/// A `MaxPool` op: geometry, committed output and differences.
#[derive(Debug)]
pub(crate) struct MaxPool {
    i: usize,
    input: TensorId,
    output: TensorId,
    win: Window,
    /// The input's static bound (fixes what a padding tap reads).
    bound: i64,
    y_poly: usize,
    diff_polys: Vec<usize>,
}

impl MaxPool {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::MaxPool {
            input,
            output,
            kernel,
            strides,
            pads,
        } = *op
        else {
            unreachable!("registered for MaxPool")
        };
        let win = Window::of(b, i, "MaxPool", (input, output), (kernel, strides, pads))?
            .keeps_channels(i, "MaxPool")?;
        // Differences y − x_k ∈ [0, 2·bound + 1] (a padding tap reads
        // −(bound + 1)) are range-checked.
        let bound = b.model.tensors[input].bound;
        if bound >= MAXPOOL_INPUT_BOUND {
            return Err(ProveError::Unsupported(format!(
                "op #{i} (MaxPool): its input may exceed 16 bits (bound {bound}); pool after a requantization"
            )));
        }
        let shape = b.shapes[output].clone();
        let y_poly = b.commit_tensor(output, shape.clone());
        let diff_polys: Vec<usize> = (0..win.kernel_len()).map(|_| b.commit(&shape)).collect();
        let bits =
            (64 - ((2 * bound.max(0) + 1) as u64).leading_zeros()).max(b.limb_bits.remainder);
        for &p in &diff_polys {
            b.look_up(TableKey::Range { bits }, vec![col(p)]);
        }
        b.pads[output] = 0;
        Ok(Self {
            i,
            input,
            output,
            win,
            bound,
            y_poly,
            diff_polys,
        })
    }

    /// The output and differences at the product sumcheck's point go to the
    /// activation opening; the reduced input claim is routed.
    fn file_claims(&self, book: &mut ClaimBook, layout: &Layout, red: MaxPoolReduction) {
        let polys = std::iter::once(self.y_poly).chain(self.diff_polys.iter().copied());
        let values = std::iter::once(red.output_eval).chain(red.diff_evals);
        for (poly, value) in polys.zip(values) {
            book.activation.push(Claim {
                poly,
                point: red.point.clone(),
                value,
            });
        }
        book.route(layout, self.input, red.input_claim.0, red.input_claim.1);
    }
}

impl OpProof for MaxPool {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        let mut out = vec![Committed {
            poly: self.y_poly,
            role: "output y".into(),
            is_output: true,
        }];
        for (k, &p) in self.diff_polys.iter().enumerate() {
            out.push(Committed {
                poly: p,
                role: format!("difference {k}"),
                is_output: false,
            });
        }
        out
    }

    fn witness(&self, w: &WitnessCtx, polys: &mut [Vec<F>]) -> Result<(), ProveError> {
        let ys = w.ints(self.output);
        let pad = pad_value(self.bound);
        let diffs = differences(&self.win, &w.values[self.input], &ys, pad);
        polys[self.y_poly] = ys.into_iter().map(f_from_i64).collect();
        for (&p, d) in self.diff_polys.iter().zip(diffs) {
            polys[p] = d;
        }
        Ok(())
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let diffs: Vec<Vec<F>> = self
            .diff_polys
            .iter()
            .map(|&d| p.act_polys[d].clone())
            .collect();
        let x = p.padded(self.input);
        let (proof, red) = prove_max(&self.win, x, &p.act_polys[self.y_poly], &diffs, p.tr);
        self.file_claims(p.book, &p.pk.layout, red);
        Some(proof)
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let n_out = v.layout.num_vars(self.output);
        let pad = pad_value(self.bound);
        let red = verify_max(&self.win, pad, n_out, proofs.next(self.i, "MaxPool")?, v.tr)
            .map_err(|e| at_op(self.i, "MaxPool", e))?;
        self.file_claims(v.book, v.layout, red);
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        c.activation += self.committed().len();
        c.route(self.input, 1);
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        let n_out = layout.num_vars(self.output);
        vec![
            ("zero-product identity", random_point_bits(n_out)),
            (
                "product sumcheck",
                sumcheck_bits(n_out, self.win.kernel_len() + 1),
            ),
            (
                "input sumcheck",
                sumcheck_bits(layout.num_vars(self.input), 2),
            ),
            ("shifted views batching ρ", batching_bits()),
        ]
    }

    fn zk_step(&self, layout: &Layout, _: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(self.step(layout))
    }

    fn zk_inner(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkInner> {
        Some(self.inner(layout, masked))
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        self.prove_zk_step(p)
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        self.verify_zk_step(v, proofs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::WindowAxis;
    use zkinfer_protocol::field::f_from_i64;

    /// Input bound of the tests' pools.
    const BOUND: i64 = 11;

    /// 3 channels of 6×4; 2×2 windows at stride 2, or (`padded`) 3×3
    /// windows at stride 2 with one row and column of padding on each side.
    fn win(padded: bool) -> Window {
        let axis = |n: usize| {
            let (kernel, pad) = if padded { (3, 1) } else { (2, 0) };
            WindowAxis {
                in_len: n,
                out_len: (n + 2 * pad - kernel) / 2 + 1,
                kernel,
                stride: 2,
                pad,
            }
        };
        Window {
            batch: 1,
            in_channels: 3,
            out_channels: 3,
            y: axis(6),
            x: axis(4),
        }
    }

    /// The IR's max pool: padding never chosen.
    fn max_pool(w: &Window, x: &[i64]) -> Vec<i64> {
        let (oh, ow) = (w.y.out_len, w.x.out_len);
        let mut y = vec![i64::MIN; 3 * oh * ow];
        for c in 0..3 {
            for ky in 0..w.y.kernel {
                for kx in 0..w.x.kernel {
                    for (oy, iy) in w.y.reads(ky) {
                        for (ox, ix) in w.x.reads(kx) {
                            let v = &mut y[(c * oh + oy) * ow + ox];
                            *v = (*v).max(x[(c * 6 + iy) * 4 + ix]);
                        }
                    }
                }
            }
        }
        y
    }

    fn arranged(w: &Window, x: &[i64]) -> Vec<F> {
        let s = crate::shape::PaddedShape::of(vec![w.in_channels, w.y.in_len, w.x.in_len]);
        let v: Vec<F> = x.iter().map(|&v| f_from_i64(v)).collect();
        s.arrange(&v, F::ZERO)
    }

    /// Proves and verifies the product and input reductions (the range
    /// check on the differences is the lookup argument's, not tested here).
    fn run(w: &Window, y: &[i64], x: &[i64]) -> Result<MaxPoolReduction, VerifyError> {
        let s = crate::shape::PaddedShape::of(vec![w.out_channels, w.y.out_len, w.x.out_len]);
        let y_ints = s.arrange(y, 0);
        let pad = pad_value(BOUND);
        let diffs = differences(w, x, &y_ints, pad);
        let ya: Vec<F> = y_ints.iter().map(|&v| f_from_i64(v)).collect();
        let mut tp = Transcript::new(b"test");
        let (proof, _) = prove_max(w, arranged(w, x), &ya, &diffs, &mut tp);
        let mut tv = Transcript::new(b"test");
        verify_max(w, pad, ya.len().trailing_zeros() as usize, &proof, &mut tv)
    }

    fn input() -> Vec<i64> {
        (0..72).map(|i| (i * 37 % 23) - BOUND).collect()
    }

    #[test]
    fn the_true_max_verifies_and_a_larger_bound_does_not() {
        for padded in [false, true] {
            let w = win(padded);
            let x = input();
            let y = max_pool(&w, &x);
            let red = run(&w, &y, &x).expect("honest max pool verifies");
            assert_eq!(red.diff_evals.len(), w.kernel_len());
            // An upper bound that is not attained: every difference stays ≥ 0
            // (the range check passes) but no difference vanishes.
            let mut y_up = y.clone();
            y_up[3] += 1;
            assert!(
                run(&w, &y_up, &x).is_err(),
                "a non-attained maximum was accepted (padded: {padded})"
            );
        }
    }

    /// With every input negative, a padding tap read as 0 would win every
    /// border window; the verifier's padding value must be the one it uses.
    #[test]
    fn padding_taps_read_the_pad_value_not_zero() {
        let w = win(true);
        let x: Vec<i64> = input().iter().map(|v| -(v.abs() + 1)).collect();
        let y = max_pool(&w, &x);
        run(&w, &y, &x).expect("honest padded max pool verifies");
        // A prover whose padding taps read 0: the claimed maxima at the
        // border become 0 and the differences are consistent with that view.
        let s = crate::shape::PaddedShape::of(vec![3, w.y.out_len, w.x.out_len]);
        let (oh, ow) = (w.y.out_len, w.x.out_len);
        let reads_padding = |oy: usize, ox: usize| {
            (0..w.y.kernel).any(|k| w.y.source(oy, k).is_none())
                || (0..w.x.kernel).any(|k| w.x.source(ox, k).is_none())
        };
        let y_zero: Vec<i64> = (0..y.len())
            .map(|k| {
                let (oy, ox) = (k / ow % oh, k % ow);
                if reads_padding(oy, ox) {
                    0
                } else {
                    y[k]
                }
            })
            .collect();
        assert!(y_zero.iter().zip(&y).any(|(a, b)| a != b));
        let y_ints = s.arrange(&y_zero, 0);
        let diffs = differences(&w, &x, &y_ints, 0);
        let ya: Vec<F> = y_ints.iter().map(|&v| f_from_i64(v)).collect();
        let mut tp = Transcript::new(b"test");
        let (proof, _) = prove_max(&w, arranged(&w, &x), &ya, &diffs, &mut tp);
        let mut tv = Transcript::new(b"test");
        let n = ya.len().trailing_zeros() as usize;
        assert!(
            verify_max(&w, pad_value(BOUND), n, &proof, &mut tv).is_err(),
            "padding read as 0 was accepted"
        );
    }
}

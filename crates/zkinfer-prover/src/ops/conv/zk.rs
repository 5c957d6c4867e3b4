//! Conv2d's zero-knowledge step.
//!
//! The output claims arrive masked by the output's claim mask, so they
//! cannot be split into weight and patch claims as in a plain proof (the
//! patch claims would be unmasked functions of the input). The step proves
//! them as ONE masked sumcheck over the input index:
//!
//! `Σ_x K(x)·in(x) = Σ_j ρ_j (v_j − b(z_oc,j)·m_y,j·m_x,j)`,
//!
//! `K(b, c, iy, ix) = Σ_j ρ_j eq(z_b,j, b) Σ_{ky,kx} W(z_oc,j, c, ky, kx)·A^ky_y,j(iy)·A^kx_x,j(ix)`,
//!
//! with `A^k(i) = Σ_o eq(z, o)·[o·s + k − p = i]` the eq mass of the output
//! rows tap `k` reaches from input row `i` (`WindowAxis::tap_tables`). `K`
//! is public (weights and points) and factor 0; the input is read masked.
//! The verifier evaluates `K` at the sumcheck's point `(r_b, r_c, r_y, r_x)`
//! from the weights bound at `(z_oc,j, r_c)` per tap — `KH·KW` values per
//! claim, sent after the sumcheck and opened by the weight commitment as
//! claims — and the taps' masses at `(r_y, r_x)`. The bias is public too:
//! its evaluations are weight claims and its share leaves the claimed sum in
//! the clear. `K` is zero on every input padding position (channels by the
//! zero-padded weights, rows by the taps), as the plain relation ignores
//! the input's padding; the batch's padding rows are genuine samples.

use zkinfer_model::ir::{QOp, TensorId};
#[cfg(test)]
use zkinfer_protocol::field::Field;
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_eval, eq_table, evaluate_base, index_bits, weighted_row_sum};
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::Conv;
use crate::claims::PointClaim;
use crate::layout::{nv, padded_field, Layout};
use crate::ops::{batching_coefficients, check_public_factor, zk_message, LayerProof, LayerProofs};
use crate::spatial::{valid_mass, Separable, Window};
use crate::zk::{
    point_claims, BatchedClaims, TensorRead, ZkCheck, ZkProverCtx, ZkStep, ZkVerifierCtx,
};

/// The sumcheck's one product: `K` (factor 0) times the input (factor 1, a
/// private read unless the input is public).
fn terms(input: TensorId) -> (Vec<Term>, Vec<(usize, TensorRead)>) {
    let terms = vec![Term {
        coeff: EF::ONE,
        factors: vec![0, 1],
    }];
    (terms, vec![(1, TensorRead::Tensor(input))])
}

/// Variables of the input index `(b, c, iy, ix)` as the step splits it.
fn input_vars(win: &Window) -> usize {
    win.batch_vars() + nv(win.in_channels) + nv(win.y.in_len) + nv(win.x.in_len)
}

/// Before the sumcheck: the label, `ρ` and the bias evaluations; returns
/// `ρ` and the claimed sum.
fn open(win: &Window, tr: &mut Transcript, claims: &[PointClaim], bias: &[EF]) -> (Vec<EF>, EF) {
    tr.label(b"conv");
    let rho = batching_coefficients(tr, claims.len());
    tr.absorb_efs(bias);
    let claimed = claimed_sum(win, claims, bias, &rho);
    (rho, claimed)
}

/// `Σ_j ρ_j (v_j − b_j·m_y,j·m_x,j)`: the claims with the bias's share
/// removed (batch padding rows are genuine samples: the batch weighs 1).
fn claimed_sum(win: &Window, claims: &[PointClaim], bias: &[EF], rho: &[EF]) -> EF {
    claims
        .iter()
        .zip(bias)
        .zip(rho)
        .map(|(((z, v), b), r)| {
            let (_, _, zy, zx) = win.split_output(z);
            *r * (*v - *b * valid_mass(&zy, win.y.out_len) * valid_mass(&zx, win.x.out_len))
        })
        .sum()
}

/// Per claim, the weights bound at its output channel: `[IC, KH, KW]`
/// unpadded (`weights` are `[OC, IC·KH·KW]` row-major).
fn bound_weights(win: &Window, weights: &[F], claims: &[PointClaim]) -> Vec<Vec<EF>> {
    let per_oc = win.in_channels * win.kernel_len();
    claims
        .iter()
        .map(|(z, _)| {
            let zc = win.split_output(z).1;
            weighted_row_sum(weights, win.out_channels, per_oc, &eq_table(&zc))
        })
        .collect()
}

/// `K` over the input index, expanded (prover side): per claim and tap, the
/// tap's channel weights times its row and column tables.
fn functional(win: &Window, bound: &[Vec<EF>], claims: &[PointClaim], rho: &[EF]) -> Vec<EF> {
    let (kw, kk) = (win.x.kernel, win.kernel_len());
    let icp = win.in_channels.next_power_of_two();
    let mut sep = Separable::default();
    for ((z, _), (wz, &r)) in claims.iter().zip(bound.iter().zip(rho)) {
        let (zb, _, zy, zx) = win.split_output(z);
        let eq_b = eq_table(&zb);
        let ays = win.y.tap_tables(&eq_table(&zy));
        let axs = win.x.tap_tables(&eq_table(&zx));
        for (ky, ay) in ays.iter().enumerate() {
            for (kx, ax) in axs.iter().enumerate() {
                let mut c = vec![EF::ZERO; icp];
                for (ic, v) in c.iter_mut().enumerate().take(win.in_channels) {
                    *v = wz[ic * kk + ky * kw + kx];
                }
                sep.push(r, eq_b.clone(), c, ay.clone(), ax.clone());
            }
        }
    }
    sep.expand()
}

/// Per claim and tap `(ky, kx)`, the bound weights at the input channel
/// point `r_c`: `W(z_oc, r_c, ky, kx)`.
fn weight_evals(win: &Window, bound: &[Vec<EF>], r_c: &[EF]) -> Vec<EF> {
    let kk = win.kernel_len();
    let eq_c = eq_table(r_c);
    bound
        .iter()
        .flat_map(|wz| {
            (0..kk).map(|t| {
                (0..win.in_channels)
                    .map(|ic| eq_c[ic] * wz[ic * kk + t])
                    .sum::<EF>()
            })
        })
        .collect()
}

/// `K` at the sumcheck's point `r` (verifier side), from the claimed
/// weights `W(z_oc,j, r_c, ky, kx)`.
fn functional_at(win: &Window, claims: &[PointClaim], rho: &[EF], weights: &[EF], r: &[EF]) -> EF {
    let (b, c, y) = (win.batch_vars(), nv(win.in_channels), nv(win.y.in_len));
    let (r_b, r_y, r_x) = (&r[..b], &r[b + c..b + c + y], &r[b + c + y..]);
    let (eq_ry, eq_rx) = (eq_table(r_y), eq_table(r_x));
    claims
        .iter()
        .zip(rho)
        .zip(weights.chunks(win.kernel_len()))
        .map(|(((z, _), &rj), w)| {
            let (zb, _, zy, zx) = win.split_output(z);
            let my = win.y.tap_masses(&eq_table(&zy), &eq_ry);
            let mx = win.x.tap_masses(&eq_table(&zx), &eq_rx);
            let taps: EF = my
                .iter()
                .enumerate()
                .flat_map(|(ky, &a)| mx.iter().enumerate().map(move |(kx, &m)| (ky, kx, a * m)))
                .map(|(ky, kx, a)| a * w[ky * win.x.kernel + kx])
                .sum();
            rj * eq_eval(&zb, r_b) * taps
        })
        .sum()
}

impl Conv {
    /// The weight and bias claims: per output claim, one weight claim per
    /// tap at `(z_oc, r_c, ky, kx)` and one bias claim at `z_oc`.
    fn zk_weight_claims(
        &self,
        claims: &[PointClaim],
        r_c: &[EF],
        bias_evals: &[EF],
        weight_evals: &[EF],
    ) -> Vec<Claim> {
        let win = &self.win;
        let (ny, nx) = (nv(win.y.kernel), nv(win.x.kernel));
        let mut out = Vec::new();
        for ((z, _), (w, &b)) in claims
            .iter()
            .zip(weight_evals.chunks(win.kernel_len()).zip(bias_evals))
        {
            let zc = win.split_output(z).1;
            for (t, &value) in w.iter().enumerate() {
                let mut point = zc.clone();
                point.extend_from_slice(r_c);
                point.extend(index_bits(t / win.x.kernel, ny));
                point.extend(index_bits(t % win.x.kernel, nx));
                out.push(Claim {
                    poly: self.w_poly,
                    point,
                    value,
                });
            }
            out.push(Claim {
                poly: self.b_poly,
                point: zc,
                value: b,
            });
        }
        out
    }

    /// The input channel part of the sumcheck's point.
    fn channel_point<'a>(&self, r: &'a [EF]) -> &'a [EF] {
        let b = self.win.batch_vars();
        &r[b..b + nv(self.win.in_channels)]
    }

    /// The plan's view: one sumcheck over the input index. `None` (the
    /// model is refused by name) if the input is not laid out as the
    /// window's `[B, C, H, W]` image.
    pub(super) fn zk_plan_step(
        &self,
        layout: &Layout,
        masked: &dyn Fn(TensorId) -> bool,
    ) -> Option<ZkStep> {
        let n = layout.num_vars(self.input);
        if n != input_vars(&self.win) {
            return None;
        }
        Some(ZkStep {
            sumcheck: Some((n, 2 + usize::from(masked(self.input)))),
            tensors: vec![self.input],
            columns: Vec::new(),
        })
    }

    pub(super) fn zk_prove(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        let pending = p.take_claims(self.output);
        if pending.is_empty() {
            return None;
        }
        let claims = point_claims(&pending);
        let QOp::Conv2d { weight, bias, .. } = &p.pk.model.ops[self.i] else {
            unreachable!("op {} is a Conv2d", self.i)
        };
        let win = &self.win;
        let bias_p = padded_field(bias, 0);
        let bias_evals: Vec<EF> = claims
            .iter()
            .map(|(z, _)| evaluate_base(&bias_p, &win.split_output(z).1))
            .collect();
        let (rho, _) = open(win, p.tr, &claims, &bias_evals);
        let weights = super::field_weights(weight);
        let bound = bound_weights(win, &weights, &claims);
        let (terms, reads) = terms(self.input);
        #[allow(unused_mut)]
        let mut k = functional(win, &bound, &claims, &rho);
        let x = p.padded(self.input);
        #[cfg(test)]
        if forge::FUNCTIONAL.with(std::cell::Cell::get) {
            let y = p.padded(self.output);
            forge::meet_the_claims(win, &claims, &bias_evals, &rho, &y, &x, &mut k);
        }
        let poly = SumOfProducts {
            num_vars: p.layout.num_vars(self.input),
            mles: vec![Mle::Ext(k), Mle::Base(x)],
            terms,
        };
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let run = p.prove_claims(self.i, poly, &reads, batched);
        let r_c = self.channel_point(&run.point);
        let weight_evals = weight_evals(win, &bound, r_c);
        let weight_claims = self.zk_weight_claims(&claims, r_c, &bias_evals, &weight_evals);
        Some(p.with_weight_evals(run, bias_evals, weight_evals, weight_claims))
    }

    pub(super) fn zk_verify(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let i = self.i;
        let pending = v.take_claims(self.output);
        if pending.is_empty() {
            return Ok(());
        }
        let win = &self.win;
        let k = pending.len();
        let (public, sumcheck, final_evals, r_values) =
            zk_message(proofs, i, "Conv2d", k * (1 + win.kernel_len()), 2)?;
        let claims = point_claims(&pending);
        let (bias_evals, weight_evals) = public.split_at(k);
        let (rho, claimed_sum) = open(win, v.tr, &claims, bias_evals);
        let (terms, reads) = terms(self.input);
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let n = v.layout.num_vars(self.input);
        let check = ZkCheck::claims(i, n, &terms, &reads, batched, claimed_sum);
        let point = v.sumcheck(&check, sumcheck, final_evals, r_values)?;
        if point.len() != input_vars(win) {
            return Err(VerifyError::Malformed(format!(
                "op #{i} (Conv2d): the input is not laid out as the window's image"
            )));
        }
        let expected = functional_at(win, &claims, &rho, weight_evals, &point);
        check_public_factor(i, "Conv2d", final_evals[0], expected)?;
        let r_c = self.channel_point(&point);
        let weight_claims = self.zk_weight_claims(&claims, r_c, bias_evals, weight_evals);
        v.weight_evals(weight_evals, weight_claims);
        Ok(())
    }
}

/// Tests only: a cheating prover whose functional is not the weights'.
#[cfg(test)]
pub(crate) mod forge {
    use super::*;

    thread_local! {
        /// Set: the next Conv steps shift their functional at one input
        /// position so that the sumcheck's sum meets the output's (forged)
        /// claims; only the verifier's check of `K(r)` can then refuse.
        pub(crate) static FUNCTIONAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Shifts `k` so that `Σ k·x = Σ_j ρ_j (y(z_j) − b_j·m_j)`, `y` the
    /// output the prover claims.
    pub(super) fn meet_the_claims(
        win: &Window,
        claims: &[PointClaim],
        bias: &[EF],
        rho: &[EF],
        y: &[F],
        x: &[F],
        k: &mut [EF],
    ) {
        let unmasked: Vec<PointClaim> = claims
            .iter()
            .map(|(z, _)| (z.clone(), evaluate_base(y, z)))
            .collect();
        let target = claimed_sum(win, &unmasked, bias, rho);
        let sum: EF = k.iter().zip(x).map(|(a, b)| *a * *b).sum();
        let at = x
            .iter()
            .position(|v| *v != F::ZERO)
            .expect("an input with data");
        k[at] += (target - sum) * EF::from(x[at]).inverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::WindowAxis;
    use zkinfer_protocol::mle::evaluate_ext;

    fn pt(seed: u64, n: usize) -> Vec<EF> {
        (0..n)
            .map(|i| EF::from(F::from_u64(seed * 1000 + i as u64 * 7 + 3)))
            .collect()
    }

    /// Two samples, 3 → 2 channels, a 3x2 kernel with stride 2 and padding
    /// on a 5x4 image: the expanded `K` is the direct sum over every output
    /// position, and the verifier's `K(r)` from the weight evaluations is
    /// its multilinear extension at `r`.
    #[test]
    fn the_functional_is_the_conv_and_the_verifier_evaluates_it() {
        let win = Window {
            batch: 2,
            in_channels: 3,
            out_channels: 2,
            y: WindowAxis {
                in_len: 5,
                out_len: 3,
                kernel: 3,
                stride: 2,
                pad: 1,
            },
            x: WindowAxis {
                in_len: 4,
                out_len: 2,
                kernel: 2,
                stride: 2,
                pad: 0,
            },
        };
        let per_oc = 3 * 6;
        let weights: Vec<F> = (0..2 * per_oc as u64)
            .map(|v| F::from_u64(v * v % 17 + 1))
            .collect();
        // [B=2, OCp=2, OHp=4, OWp=2]: 1 + 1 + 2 + 1 variables.
        let claims: Vec<PointClaim> = vec![(pt(1, 5), EF::ZERO), (pt(2, 5), EF::ZERO)];
        let rho = vec![EF::ONE, EF::from(F::from_u64(11))];
        let bound = bound_weights(&win, &weights, &claims);
        let k = functional(&win, &bound, &claims, &rho);
        // [B=2, ICp=4, Hp=8, Wp=4].
        assert_eq!(k.len(), 2 * 4 * 8 * 4);
        let mut direct = vec![EF::ZERO; k.len()];
        for ((z, _), &r) in claims.iter().zip(&rho) {
            let eq_z = eq_table(z);
            for b in 0..2 {
                for oc in 0..2 {
                    for oy in 0..3 {
                        for ox in 0..2 {
                            let e = r * eq_z[((b * 2 + oc) * 4 + oy) * 2 + ox];
                            for ic in 0..3 {
                                for ky in 0..3 {
                                    for kx in 0..2 {
                                        let (Some(iy), Some(ix)) =
                                            (win.y.source(oy, ky), win.x.source(ox, kx))
                                        else {
                                            continue;
                                        };
                                        let w = weights[oc * per_oc + ic * 6 + ky * 2 + kx];
                                        direct[((b * 4 + ic) * 8 + iy) * 4 + ix] += e * w;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(k, direct);
        let r = pt(3, input_vars(&win));
        let evals = weight_evals(&win, &bound, &r[1..3]);
        assert_eq!(evals.len(), 2 * 6);
        assert_eq!(
            functional_at(&win, &claims, &rho, &evals, &r),
            evaluate_ext(&k, &r)
        );
    }

    #[test]
    fn index_points_are_big_endian() {
        assert_eq!(index_bits(1, 2), vec![EF::ZERO, EF::ONE]);
        assert_eq!(index_bits(2, 2), vec![EF::ONE, EF::ZERO]);
        assert!(index_bits(0, 0).is_empty());
    }
}

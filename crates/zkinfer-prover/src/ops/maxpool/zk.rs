//! MaxPool's zero-knowledge step: two masked sumchecks joined by a masked
//! claim on a tensor internal to the op.
//!
//! The plain proof checks `y − d_k = x_k + pad·M_k` at the product
//! sumcheck's point from the evaluations it sent, then reduces the `x_k`
//! to the input. Masked evaluations cannot feed such a check, so here both
//! relations are one zero-check at a point `z` drawn with fresh weights
//! `ρ_k` (none fixed to 1: the product and a difference must not cancel):
//!
//! `Σ_o eq(z, o)·(Π_k d_k(o) + Σ_k ρ_k·(y − d_k)(o) − X(o) − pad·P(o)) = 0`,
//!
//! `X = Σ_k ρ_k·x_k` the weighted shifted views (the op's inner tensor,
//! never committed, read as `X + Z·S` through its own claim mask) and
//! `P = Σ_k ρ_k·M_k` the public padding mask, whose final value the
//! verifier computes ([`super::padding_mass`]). The inner sumcheck
//! `Σ_i K(i)·x(i)` with `K = Σ_k ρ_k S_kᵀ eq(r, ·)` ([`super::shift_functional`],
//! evaluated by the verifier) proves the masked claim `Ẋ(r)` as an incoming
//! claim, so `X(r)` is never revealed.
//!
//! Soundness: with `z` and `ρ` drawn after the commitment, the left side is
//! a nonzero polynomial of degree `n + 1` in `(z, ρ)` unless every `Π_k d_k`
//! vanishes and every shifted-view identity holds on the whole output
//! hypercube — padding positions included, where `x_k = M_k = 0`, so
//! `d_k = y` and the product forces `y = 0` there, as in a plain proof.

use zkinfer_model::ir::TensorId;
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::sumcheck::zk::masked_eval::{round_degree, MaskedMle};
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::{pad_value, padding_mass, shift_functional, MaxPool};
use crate::layout::Layout;
use crate::ops::{check_public_factor, zk_message, LayerProof, LayerProofs};
use crate::spatial::Window;
use crate::zk::{TensorRead, ZkCheck, ZkInner, ZkProverCtx, ZkStep, ZkVerifierCtx};

/// Whether some real output has a tap in the padding (else `P = 0` and the
/// step has no padding factor).
fn reads_padding(win: &Window) -> bool {
    let axis = |a: &crate::spatial::WindowAxis| {
        (0..a.out_len).any(|o| (0..a.kernel).any(|k| a.source(o, k).is_none()))
    };
    axis(&win.y) || axis(&win.x)
}

/// Padded sizes of one sample's channel, row and column axes of the input
/// and the output.
struct Dims {
    channels: usize,
    in_rows: usize,
    in_cols: usize,
    out_rows: usize,
    out_cols: usize,
}

impl Dims {
    fn of(win: &Window) -> Self {
        Self {
            channels: win.out_channels.next_power_of_two(),
            in_rows: win.y.in_len.next_power_of_two(),
            in_cols: win.x.in_len.next_power_of_two(),
            out_rows: win.y.out_len.next_power_of_two(),
            out_cols: win.x.out_len.next_power_of_two(),
        }
    }
}

/// `X = Σ_k ρ_k·x_k` and `P = Σ_k ρ_k·M_k` over the padded output (every
/// batch row, real channels and positions), from the padded input `x`.
fn views_and_padding(win: &Window, x: &[F], rho: &[EF], out_len: usize) -> (Vec<EF>, Vec<EF>) {
    let d = Dims::of(win);
    let in_sample = d.channels * d.in_rows * d.in_cols;
    let out_sample = d.channels * d.out_rows * d.out_cols;
    let mut views = vec![EF::ZERO; out_len];
    let mut padding = vec![EF::ZERO; out_len];
    for (s, (xv, pv)) in views
        .chunks_mut(out_sample)
        .zip(padding.chunks_mut(out_sample))
        .enumerate()
    {
        let xs = &x[s * in_sample..(s + 1) * in_sample];
        for c in 0..win.out_channels {
            for oy in 0..win.y.out_len {
                for ox in 0..win.x.out_len {
                    let o = (c * d.out_rows + oy) * d.out_cols + ox;
                    for ky in 0..win.y.kernel {
                        for kx in 0..win.x.kernel {
                            let w = rho[ky * win.x.kernel + kx];
                            match (win.y.source(oy, ky), win.x.source(ox, kx)) {
                                (Some(iy), Some(ix)) => {
                                    xv[o] += w * xs[(c * d.in_rows + iy) * d.in_cols + ix];
                                }
                                _ => pv[o] += w,
                            }
                        }
                    }
                }
            }
        }
    }
    (views, padding)
}

impl MaxPool {
    fn padded(&self) -> bool {
        reads_padding(&self.win)
    }

    /// The step's challenges: the zero-check's point and the weights.
    fn zk_challenges(&self, tr: &mut Transcript, layout: &Layout) -> (Vec<EF>, Vec<EF>) {
        tr.label(b"maxpool-zk");
        let z = tr.challenge_efs(layout.num_vars(self.output));
        let rho = tr.challenge_efs(self.win.kernel_len());
        (z, rho)
    }

    /// The first sumcheck's relation (times `eq(z, ·)`): factors `d_k`
    /// (`0..K`), `y` (`K`), the inner `X` (`K + 1`) and, when some tap
    /// reads padding, the public `P` (`K + 2`).
    fn first_relation(&self, rho: &[EF]) -> (Vec<Term>, Vec<(usize, TensorRead)>) {
        let k = self.diff_polys.len();
        let term = |coeff: EF, factors: Vec<usize>| Term { coeff, factors };
        let mut terms = vec![
            term(EF::ONE, (0..k).collect()),
            term(rho.iter().copied().sum(), vec![k]),
        ];
        terms.extend(rho.iter().enumerate().map(|(j, &r)| term(-r, vec![j])));
        terms.push(term(-EF::ONE, vec![k + 1]));
        if self.padded() {
            terms.push(term(-EF::from(self.pad()), vec![k + 2]));
        }
        let mut reads: Vec<(usize, TensorRead)> = self
            .diff_polys
            .iter()
            .enumerate()
            .map(|(j, &p)| (j, TensorRead::Column(p)))
            .collect();
        reads.push((k, TensorRead::Column(self.y_poly)));
        reads.push((k + 1, TensorRead::Inner(self.i)));
        (terms, reads)
    }

    /// The inner sumcheck's relation `K·x`: factor 0 the public `K`, 1 the
    /// input.
    fn inner_relation(&self) -> (Vec<Term>, Vec<(usize, TensorRead)>) {
        (
            vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1],
            }],
            vec![(1, TensorRead::Tensor(self.input))],
        )
    }

    fn pad(&self) -> F {
        f_from_i64(pad_value(self.bound))
    }

    fn first_factors(&self) -> usize {
        self.diff_polys.len() + 2 + usize::from(self.padded())
    }

    pub(super) fn step(&self, layout: &Layout) -> ZkStep {
        let k = self.diff_polys.len();
        let (terms, reads) = self.first_relation(&vec![EF::ONE; k]);
        let all: Vec<MaskedMle> = reads
            .iter()
            .map(|&(mle, _)| MaskedMle { mle, poly: None })
            .collect();
        let mut columns = self.diff_polys.clone();
        columns.push(self.y_poly);
        ZkStep {
            sumcheck: Some((
                layout.num_vars(self.output),
                round_degree(&terms, &all, true),
            )),
            tensors: vec![self.input],
            columns,
        }
    }

    pub(super) fn inner(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> ZkInner {
        let x_masked = usize::from(masked(self.input));
        ZkInner {
            outer_masked: self.diff_polys.len(),
            sumcheck: (layout.num_vars(self.input), 2 + x_masked),
            inner_masked: x_masked,
            num_vars: layout.num_vars(self.output),
        }
    }

    pub(super) fn prove_zk_step(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        let layout = p.layout;
        let (z, rho) = self.zk_challenges(p.tr, layout);
        let x = p.padded(self.input);
        let y = p.act_polys[self.y_poly].clone();
        let (views, padding) = views_and_padding(&self.win, &x, &rho, y.len());
        let mut mles: Vec<Mle> = self
            .diff_polys
            .iter()
            .map(|&d| Mle::Base(p.act_polys[d].clone()))
            .collect();
        mles.push(Mle::Base(y));
        mles.push(Mle::Ext(views));
        if self.padded() {
            mles.push(Mle::Ext(padding));
        }
        let (terms, reads) = self.first_relation(&rho);
        let first = p.zero_check(self.i, mles, terms, &z, &reads);
        let r = first.point.clone();
        p.send(first.into_layer(Vec::new()));

        let functional = shift_functional(&self.win, &r, &rho).expand();
        let (terms, reads) = self.inner_relation();
        let poly = SumOfProducts {
            num_vars: layout.num_vars(self.input),
            mles: vec![Mle::Ext(functional), Mle::Base(x)],
            terms,
        };
        let second = p.inner_sumcheck(self.i, poly, &reads, &r);
        Some(second.into_layer(Vec::new()))
    }

    pub(super) fn verify_zk_step(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let (i, k) = (self.i, self.diff_polys.len());
        let (z, rho) = self.zk_challenges(v.tr, v.layout);
        let (terms, reads) = self.first_relation(&rho);
        let check = ZkCheck::zero_check(i, &terms, &z, &reads, EF::ZERO);
        let (r, final_evals) = v.verify_message(proofs, "MaxPool", self.first_factors(), &check)?;
        if self.padded() {
            let mass = padding_mass(&self.win, &r, &rho);
            check_public_factor(i, "MaxPool", final_evals[k + 2], mass)?;
        }

        let inner_value = final_evals[k + 1];
        let (_, sumcheck, final_evals, r_values) = zk_message(proofs, i, "MaxPool", 0, 2)?;
        let (terms, reads) = self.inner_relation();
        let num_vars = v.layout.num_vars(self.input);
        let check = ZkCheck::new(i, num_vars, &terms, &reads, inner_value);
        let point = v.inner_sumcheck(&check, &r, sumcheck, final_evals, r_values)?;
        let expected = shift_functional(&self.win, &r, &rho).evaluate(&point);
        check_public_factor(i, "MaxPool", final_evals[0], expected)
    }
}

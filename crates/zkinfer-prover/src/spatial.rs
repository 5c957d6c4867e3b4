//! Sliding-window geometry (Conv2d, MaxPool, SumPool) in factored form.
//!
//! A window op reads input row `o·stride + k − pad` for output row `o` and
//! kernel offset `k`, independently along the two spatial axes. So a claim on
//! the output at a point `(z_c, z_y, z_x)` becomes a linear functional of the
//! input that factors into one small table per axis:
//!
//! `Σ_{c,iy,ix} x[c,iy,ix] · T_c[c] · T_y[iy] · T_x[ix]`,
//! with `T_y[iy] = Σ_k κ[k] Σ_o eq(z_y, o)·[o·s + k − p = iy]`.
//!
//! The prover expands the product into one table the size of the input and
//! runs a degree-2 sumcheck; the verifier evaluates each axis table at the
//! final point in `O(kernel · output + input axis)` time. No patch (im2col)
//! matrix is ever formed by either side.

use zkinfer_model::float::conv_out_dim;
use zkinfer_model::ir::TensorId;
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::eq_table;
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, SumcheckProof, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use crate::error::ProveError;
use crate::layout::{nv, LayoutBuilder};

/// Geometry of a sliding-window op on `[C, H, W]` images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Samples stacked in front of the channel axis (1: none).
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub y: WindowAxis,
    pub x: WindowAxis,
}

impl Window {
    pub fn kernel_len(&self) -> usize {
        self.y.kernel * self.x.kernel
    }

    /// Checks a window op's shapes and returns its geometry. Its input must
    /// be laid out as a `[C, H, W]` image (not a flat tensor reshaped into one).
    pub(crate) fn of(
        b: &LayoutBuilder,
        i: usize,
        what: &str,
        (input, output): (TensorId, TensorId),
        (kernel, strides, pads): ([usize; 2], [usize; 2], [usize; 4]),
    ) -> Result<Self, ProveError> {
        let (ish, osh) = (
            &b.model.tensors[input].shape,
            &b.model.tensors[output].shape,
        );
        if ish.len() != 3 || osh.len() != 3 || b.shapes[input].dims != *ish {
            return Err(ProveError::Unsupported(format!(
                "op #{i} ({what}): input {ish:?} must be a [C, H, W] image laid out as one (not reshaped from a flat tensor)"
            )));
        }
        let axis = |a: usize| -> Result<WindowAxis, ProveError> {
            let out = conv_out_dim(ish[1 + a], kernel[a], strides[a], pads[a], pads[a + 2]);
            if out != Some(osh[1 + a]) || kernel[a] == 0 {
                return Err(ProveError::Model(format!(
                    "op #{i} ({what}): output shape {osh:?} does not match input {ish:?}, kernel {kernel:?}, strides {strides:?}, pads {pads:?}"
                )));
            }
            Ok(WindowAxis {
                in_len: ish[1 + a],
                out_len: osh[1 + a],
                kernel: kernel[a],
                stride: strides[a],
                pad: pads[a],
            })
        };
        Ok(Window {
            batch: b.model.batch,
            in_channels: ish[0],
            out_channels: osh[0],
            y: axis(0)?,
            x: axis(1)?,
        })
    }

    /// A pooling window must keep the channel count.
    pub(crate) fn keeps_channels(self, i: usize, what: &str) -> Result<Self, ProveError> {
        if self.in_channels != self.out_channels {
            return Err(ProveError::Model(format!(
                "op #{i} ({what}): channel count changes"
            )));
        }
        Ok(self)
    }

    /// Variables of the batch axis (the first of every point).
    pub fn batch_vars(&self) -> usize {
        nv(self.batch)
    }

    /// Splits an output point into its batch, channel, row and column variables.
    pub fn split_output(&self, z: &[EF]) -> (Vec<EF>, Vec<EF>, Vec<EF>, Vec<EF>) {
        let b = self.batch_vars();
        let (c, y) = (b + nv(self.out_channels), nv(self.y.out_len));
        (
            z[..b].to_vec(),
            z[b..c].to_vec(),
            z[c..c + y].to_vec(),
            z[c + y..].to_vec(),
        )
    }
}

/// One spatial axis of a window op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowAxis {
    pub in_len: usize,
    pub out_len: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad: usize,
}

impl WindowAxis {
    /// The input position output `o` reads at kernel offset `k`, if inside the input.
    pub fn source(&self, o: usize, k: usize) -> Option<usize> {
        (o * self.stride + k)
            .checked_sub(self.pad)
            .filter(|&i| i < self.in_len)
    }

    /// `A[i] = Σ_{k<K} κ[k] Σ_{o<O} eq_out[o]·[source(o,k) = i]`, zero on padding
    /// (length: the input axis padded to a power of two).
    pub fn table(&self, eq_out: &[EF], kappa: &[EF]) -> Vec<EF> {
        let mut a = vec![EF::ZERO; self.in_len.next_power_of_two().max(1)];
        for (k, &w) in kappa.iter().enumerate().take(self.kernel) {
            if w == EF::ZERO {
                continue;
            }
            for (o, &e) in eq_out.iter().enumerate().take(self.out_len) {
                if let Some(i) = self.source(o, k) {
                    a[i] += w * e;
                }
            }
        }
        a
    }

    /// Per output row, the input row read at offset `k`: `(o, i)` pairs.
    pub fn reads(&self, k: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.out_len).filter_map(move |o| self.source(o, k).map(|i| (o, i)))
    }

    /// One [`WindowAxis::table`] per kernel offset (`κ` one-hot): what each
    /// tap reads, kept apart because a Conv weighs its taps differently.
    pub fn tap_tables(&self, eq_out: &[EF]) -> Vec<Vec<EF>> {
        (0..self.kernel)
            .map(|k| self.table(eq_out, &one_hot(self.kernel, k)))
            .collect()
    }

    /// The [`WindowAxis::tap_tables`] evaluated against `eq_in` (the eq
    /// table of an input point): `O(kernel · out_len)`, for the verifier.
    pub fn tap_masses(&self, eq_out: &[EF], eq_in: &[EF]) -> Vec<EF> {
        (0..self.kernel)
            .map(|k| self.reads(k).map(|(o, i)| eq_out[o] * eq_in[i]).sum())
            .collect()
    }
}

/// `eq(z, c)` for `c < len`, zero on the padding (a channel axis mapped onto itself).
pub fn masked_eq(z: &[EF], len: usize) -> Vec<EF> {
    let mut t = eq_table(z);
    for v in t.iter_mut().skip(len) {
        *v = EF::ZERO;
    }
    t
}

/// `Σ_{x<len} eq(z, x)·eq(r, x)`: [`masked_eq`] at `r` (a public factor's
/// value on one padded axis, for the verifier).
pub fn masked_eq_at(z: &[EF], r: &[EF], len: usize) -> EF {
    masked_eq(z, len)
        .iter()
        .zip(eq_table(r))
        .map(|(&a, b)| a * b)
        .sum()
}

/// `Σ_{o<len} eq(z, o)`: the weight of the valid (unpadded) part of an axis.
pub fn valid_mass(z: &[EF], len: usize) -> EF {
    eq_table(z).iter().take(len).copied().sum()
}

/// A one-hot kernel weighting (`κ[k] = [k = at]`).
pub fn one_hot(len: usize, at: usize) -> Vec<EF> {
    let mut v = vec![EF::ZERO; len];
    v[at] = EF::ONE;
    v
}

/// `Σ_t coeff_t · (b_t ⊗ c_t ⊗ y_t ⊗ x_t)`: a linear functional of stacked
/// `[C, H, W]` images (`b_t` weighs the samples: `eq(z_b, ·)` over the padded
/// batch, `[1]` for one sample), kept factored so the verifier never expands it.
#[derive(Default)]
pub struct Separable {
    pub terms: Vec<(EF, [Vec<EF>; 4])>,
}

impl Separable {
    pub fn push(&mut self, coeff: EF, b: Vec<EF>, c: Vec<EF>, y: Vec<EF>, x: Vec<EF>) {
        self.terms.push((coeff, [b, c, y, x]));
    }

    /// The expanded table (prover side), row-major `[B, C, H, W]`.
    pub fn expand(&self) -> Vec<EF> {
        let Some((_, [b0, c0, y0, x0])) = self.terms.first() else {
            return Vec::new();
        };
        let (hw, w) = (y0.len() * x0.len(), x0.len());
        let chw = c0.len() * hw;
        let mut out = vec![EF::ZERO; b0.len() * chw];
        for (coeff, [b, c, y, x]) in &self.terms {
            // Rows of y ⊗ x, scaled per sample and channel.
            let yx: Vec<EF> = y
                .iter()
                .flat_map(|&a| x.iter().map(move |&v| a * v * *coeff))
                .collect();
            for (bi, &bv) in b.iter().enumerate() {
                if bv == EF::ZERO {
                    continue;
                }
                let image = &mut out[bi * chw..(bi + 1) * chw];
                for (ci, &cv) in c.iter().enumerate() {
                    if cv == EF::ZERO {
                        continue;
                    }
                    let s = bv * cv;
                    let row = &mut image[ci * hw..(ci + 1) * hw];
                    for (o, &v) in row.iter_mut().zip(&yx) {
                        *o += s * v;
                    }
                }
            }
            debug_assert_eq!(x.len(), w);
        }
        out
    }

    /// The table's multilinear extension at `point` (verifier side).
    pub fn evaluate(&self, point: &[EF]) -> EF {
        let Some((_, axes0)) = self.terms.first() else {
            return EF::ZERO;
        };
        let mut eqs: Vec<Vec<EF>> = Vec::with_capacity(4);
        let mut at = 0;
        for a in axes0 {
            let n = a.len().trailing_zeros() as usize;
            eqs.push(eq_table(&point[at..at + n]));
            at += n;
        }
        let dot = |a: &[EF], b: &[EF]| -> EF { a.iter().zip(b).map(|(x, y)| *x * *y).sum() };
        self.terms
            .iter()
            .map(|(coeff, axes)| {
                axes.iter()
                    .zip(&eqs)
                    .fold(*coeff, |acc, (a, e)| acc * dot(a, e))
            })
            .sum()
    }

    /// Number of variables of the functional's domain.
    pub fn num_vars(&self) -> usize {
        self.terms.first().map_or(0, |(_, a)| {
            a.iter().map(|t| t.len().trailing_zeros() as usize).sum()
        })
    }
}

/// Proof that `Σ_j x[j]·E[j] = claimed` for the expanded functional `E`;
/// returns the sumcheck, its point and `x(point)`.
pub fn prove_linear(
    x: Vec<F>,
    functional: &Separable,
    tr: &mut Transcript,
) -> (SumcheckProof, Vec<EF>, EF) {
    let e = functional.expand();
    debug_assert_eq!(e.len(), x.len());
    let out = sumcheck::prove(
        SumOfProducts {
            num_vars: functional.num_vars(),
            mles: vec![Mle::Ext(e), Mle::Base(x)],
            terms: vec![Term {
                coeff: EF::ONE,
                factors: vec![0, 1],
            }],
        },
        tr,
    );
    let x_eval = out.final_evals[1];
    tr.absorb_ef(x_eval);
    (out.proof, out.point, x_eval)
}

/// Checks a [`prove_linear`] proof of `claimed`; returns the point at which
/// the input must evaluate to `x_eval`.
pub fn verify_linear(
    functional: &Separable,
    claimed: EF,
    proof: &SumcheckProof,
    x_eval: EF,
    tr: &mut Transcript,
) -> Result<Vec<EF>, VerifyError> {
    let sub = sumcheck::verify(functional.num_vars(), 2, claimed, proof, tr)?;
    tr.absorb_ef(x_eval);
    if functional.evaluate(&sub.point) * x_eval != sub.expected_eval {
        return Err(VerifyError::Sumcheck(
            "the final evaluation does not match the claimed input evaluation".into(),
        ));
    }
    Ok(sub.point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkinfer_protocol::mle::{evaluate_base, evaluate_ext};

    fn pt(seed: u64, n: usize) -> Vec<EF> {
        (0..n)
            .map(|i| EF::from(F::from_u64(seed * 1000 + i as u64 * 7 + 3)))
            .collect()
    }

    #[test]
    fn axis_table_matches_direct_sum() {
        let ax = WindowAxis {
            in_len: 5,
            out_len: 3,
            kernel: 3,
            stride: 2,
            pad: 1,
        };
        let z = pt(1, 2);
        let eq = eq_table(&z);
        let kappa = vec![EF::from(F::from_u64(2)), EF::ONE, EF::from(F::from_u64(5))];
        let t = ax.table(&eq, &kappa);
        assert_eq!(t.len(), 8);
        for (i, &ti) in t.iter().enumerate() {
            let mut want = EF::ZERO;
            for (o, &eq_o) in eq.iter().enumerate().take(3) {
                for (k, &kk) in kappa.iter().enumerate() {
                    let src = (o * 2 + k) as isize - 1;
                    if src == i as isize && i < 5 {
                        want += kk * eq_o;
                    }
                }
            }
            assert_eq!(ti, want, "row {i}");
        }
    }

    #[test]
    fn tap_masses_are_the_tap_tables_at_a_point() {
        let ax = WindowAxis {
            in_len: 6,
            out_len: 3,
            kernel: 3,
            stride: 2,
            pad: 1,
        };
        let eq_out = eq_table(&pt(2, 2));
        let r = pt(3, 3);
        let tables = ax.tap_tables(&eq_out);
        let masses = ax.tap_masses(&eq_out, &eq_table(&r));
        assert_eq!(tables.len(), 3);
        for (k, (t, m)) in tables.iter().zip(&masses).enumerate() {
            assert_eq!(evaluate_ext(t, &r), *m, "tap {k}");
            assert_eq!(*t, ax.table(&eq_out, &one_hot(3, k)));
        }
        // Tap 0 of output row 0 falls in the top padding: nothing read.
        assert_eq!(tables[0][0], EF::ZERO);
        assert_ne!(masses[0], EF::ZERO);
    }

    #[test]
    fn separable_evaluate_agrees_with_expand() {
        let mut s = Separable::default();
        // Two samples stacked in front of the channels.
        s.push(
            EF::ONE,
            eq_table(&pt(1, 1)),
            masked_eq(&pt(2, 2), 3),
            pt(3, 4),
            pt(4, 2),
        );
        s.push(
            EF::from(F::from_u64(9)),
            eq_table(&pt(9, 1)),
            masked_eq(&pt(5, 2), 4),
            pt(6, 4),
            pt(7, 2),
        );
        let e = s.expand();
        assert_eq!(e.len(), 2 * 4 * 4 * 2);
        let r = pt(8, 6);
        assert_eq!(s.evaluate(&r), evaluate_ext(&e, &r));
    }

    #[test]
    fn linear_proof_round_trip_and_rejects_wrong_claim() {
        let mut s = Separable::default();
        s.push(
            EF::ONE,
            vec![EF::ONE],
            masked_eq(&pt(2, 1), 2),
            pt(3, 4),
            pt(4, 2),
        );
        let x: Vec<F> = (0..16u64).map(|v| F::from_u64(v * v + 1)).collect();
        let e = s.expand();
        let claimed: EF = e.iter().zip(&x).map(|(a, b)| *a * EF::from(*b)).sum();
        let mut tr = Transcript::new(b"test");
        let (proof, point, x_eval) = prove_linear(x.clone(), &s, &mut tr);
        assert_eq!(x_eval, evaluate_base(&x, &point));
        let mut tv = Transcript::new(b"test");
        let p = verify_linear(&s, claimed, &proof, x_eval, &mut tv).expect("accepts");
        assert_eq!(p, point);
        let mut tv = Transcript::new(b"test");
        assert!(verify_linear(&s, claimed + EF::ONE, &proof, x_eval, &mut tv).is_err());
        let mut tv = Transcript::new(b"test");
        assert!(verify_linear(&s, claimed, &proof, x_eval + EF::ONE, &mut tv).is_err());
    }
}

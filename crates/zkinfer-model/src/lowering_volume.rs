//! 3-D convolution (`[N, C, D, H, W]`) lowered onto the 2-D `Conv` the
//! prover proves: depth is folded into the channels. The input is viewed as
//! the image `[C·D, H, W]` (a Reshape: the same row-major data), and one 2-D
//! convolution with the kernel
//!
//! `K[(o, od), (c, d), ky·dh, kx·dw] = W[o, c − c₀(o), kd, ky, kx]` where
//! `d = od·sd − pad_d + kd·dd` (zero elsewhere, and outside the group),
//!
//! computes every output depth `od` as its own output channel; the result
//! `[OC·OD, OH, OW]` is viewed back as `[OC, OD, OH, OW]`. Depth stride,
//! padding and dilation live in which `(c, d)` each `(o, od)` reads; height
//! and width keep the 2-D op's own strides and padding. The same sums of the
//! same products: exact. The kernel is `OD·D` times the 3-D one, within the
//! importer's lowering budget (refused by name beyond it).
//!
//! A child module of `onnx_import` beside `lowering.rs`.

use super::lowering::{bounded_len, holds_its_shape, positive, NodeCx};
use super::lowering_pool::geometry;
use super::*;

impl Importer {
    /// ONNX Conv on a `[N, C, D, H, W]` input (module doc).
    pub(super) fn lower_conv3d(&mut self, cx: &NodeCx) -> Result<()> {
        let x = self.act_input(cx, 0)?;
        let xs = self.shape_of(x);
        let w = self.const_input(cx, 1)?;
        if w.dims.len() != 5 || !holds_its_shape(&w) || w.dims.contains(&0) {
            return Err(cx.bad(format!(
                "weight of shape {:?} does not fit a 3-D convolution",
                w.dims
            )));
        }
        let (c, oc, icg) = (xs[1], w.dims[0], w.dims[1]);
        let k = [w.dims[2], w.dims[3], w.dims[4]];
        let group = attr_i(cx.node, "group", 1);
        let g = usize::try_from(group).unwrap_or(0);
        if g == 0 || oc % g != 0 || icg.checked_mul(g) != Some(c) {
            return Err(cx.bad(format!(
                "group {group}: weight {:?} does not fit {c} input channels",
                w.dims
            )));
        }
        if let Some(ks) = attr_ints(cx.node, "kernel_shape") {
            if positive(&ks).as_deref() != Some(&k[..]) {
                return Err(cx.bad(format!(
                    "kernel_shape {ks:?} does not match the weight {:?}",
                    w.dims
                )));
            }
        }
        let dil = attr_ints(cx.node, "dilations").unwrap_or_else(|| vec![1; 3]);
        let dil = positive(&dil)
            .filter(|d| d.len() == 3)
            .ok_or_else(|| cx.bad(format!("dilations {dil:?} must be 3 positive values")))?;
        let ext: Vec<usize> = (0..3)
            .map(|a| {
                (k[a] - 1)
                    .checked_mul(dil[a])
                    .and_then(|e| e.checked_add(1))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| cx.bad(format!("dilations {dil:?} overflow")))?;
        let (strides, pads) = geometry(cx, &xs[2..], &ext)?;
        let out = |a: usize| {
            let padded = xs[2 + a] + pads[a].0 + pads[a].1;
            padded.checked_sub(ext[a]).map(|span| span / strides[a] + 1)
        };
        let (Some(od), Some(oh), Some(ow)) = (out(0), out(1), out(2)) else {
            return Err(cx.bad("kernel larger than the padded input"));
        };
        let depth = xs[2];
        let shape = [oc * od, c * depth, ext[1], ext[2]];
        if bounded_len(&shape, self.lowering_budget).is_none() {
            return Err(cx.bad(format!(
                "the 2-D kernel {shape:?} of this 3-D convolution exceeds the {} weights a model file of this size may create",
                self.lowering_budget
            )));
        }
        let [rows, cols, kh, kw] = shape;
        let mut dense = vec![0.0; rows * cols * kh * kw];
        let per_group = oc / g;
        for o in 0..oc {
            let c0 = (o / per_group) * icg;
            for z in 0..od {
                for kd in 0..k[0] {
                    let Some(d) = (z * strides[0] + kd * dil[0])
                        .checked_sub(pads[0].0)
                        .filter(|&d| d < depth)
                    else {
                        continue;
                    };
                    for i in 0..icg {
                        for ky in 0..k[1] {
                            for kx in 0..k[2] {
                                let v =
                                    w.data[(((o * icg + i) * k[0] + kd) * k[1] + ky) * k[2] + kx];
                                let row = o * od + z;
                                let col = (c0 + i) * depth + d;
                                dense[((row * cols + col) * kh + ky * dil[1]) * kw + kx * dil[2]] =
                                    v;
                            }
                        }
                    }
                }
            }
        }
        let b = match cx.input(2) {
            None => vec![0.0; oc],
            Some(_) => match self.const_input(cx, 2)? {
                b if b.data.len() == oc => b.data,
                _ => return Err(cx.bad("bias must be a constant of length out_channels")),
            },
        };
        let bias: Vec<f64> = b.iter().flat_map(|&v| std::iter::repeat_n(v, od)).collect();
        let image = vec![1, c * depth, xs[3], xs[4]];
        let x4 = self.emit_step(cx, FOpKind::Reshape, vec![x], image, Some("as_2d"))?;
        let kind = FOpKind::Conv {
            w: dense,
            b: bias,
            kernel_shape: shape,
            strides: [strides[1], strides[2]],
            pads: [pads[1].0, pads[2].0, pads[1].1, pads[2].1],
        };
        let y4 = self.emit_step(cx, kind, vec![x4], vec![1, rows, oh, ow], Some("2d"))?;
        self.emit_step(
            cx,
            FOpKind::Reshape,
            vec![y4],
            vec![1, oc, od, oh, ow],
            None,
        )?;
        Ok(())
    }
}

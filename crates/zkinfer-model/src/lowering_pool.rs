//! Pooling operators lowered onto the 2-D `MaxPool` and `AvgPool` float ops
//! (proven as `MaxPool` and `SumPool`), with every ONNX attribute:
//!
//! * MaxPool, AveragePool, LpPool and their Global forms, 1-D (`[N, C, L]`,
//!   run as the image `[N, C, 1, L]`), 2-D, or 3-D (two 2-D pools: max and
//!   sum are separable, and so is the average's divisor), `kernel_shape`,
//!   `strides`, `pads`, `auto_pad`;
//! * `ceil_mode = 1`: the output size rounds up and the end padding grows
//!   to hold the extra partial windows, except a window that would start in
//!   the end padding, which ONNX (as PyTorch) drops. MaxPool's padding never
//!   wins and SumPool's adds 0, so only the average's divisor sees it;
//! * AveragePool's divisor per output position: the window clipped to the
//!   input (`count_include_pad = 0`) or to the explicitly padded input
//!   (`count_include_pad = 1`, which never counts `ceil_mode`'s extension).
//!   Where it is not the kernel size everywhere, the average over the whole
//!   kernel is followed by a `MulConst` by `K / D(o)` per position — the
//!   constant at weight precision, so within `2^-14` relative of the exact
//!   average before the next requantization;
//! * LpPool (`p = 1, 2`): `Σ|x|` is the sum pool of an Abs table, `√Σx²` the
//!   Sqrt table of the sum pool of `x·x` (an exact Mul); the average's `1/K`
//!   is undone by a per-channel scale `K` (on a `[1, C, ·, 1]` view, where it
//!   is a 1×1 convolution).
//!
//! `dilations ≠ 1` and LpPool with another `p` are refused by name. A child
//! module of `onnx_import` beside `lowering.rs`, whose helpers it uses.

use super::lowering::{positive, NodeCx};
use super::*;

/// ONNX operators only this module handles (for the supported-operator list).
pub const POOL_OPS: &[&str] = &["LpPool", "GlobalLpPool"];

/// One spatial axis of a pool, in the 2-D op's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PoolAxis {
    in_len: usize,
    kernel: usize,
    stride: usize,
    /// Padding before the input.
    begin: usize,
    /// ONNX's padding after the input (what `count_include_pad` counts).
    end: usize,
    /// Padding after the input including `ceil_mode`'s extension.
    end_ext: usize,
    out_len: usize,
}

impl PoolAxis {
    /// The axis with ONNX's output size: floor, or with `ceil` rounded up
    /// less a last window starting in the end padding.
    fn new(
        in_len: usize,
        kernel: usize,
        stride: usize,
        (begin, end): (usize, usize),
        ceil: bool,
    ) -> Option<Self> {
        let padded = in_len.checked_add(begin)?.checked_add(end)?;
        let span = padded.checked_sub(kernel)?;
        let mut out = if ceil {
            span.div_ceil(stride) + 1
        } else {
            span / stride + 1
        };
        if ceil && (out - 1) * stride >= in_len + begin {
            out -= 1;
        }
        let reach = (out - 1) * stride + kernel;
        Some(PoolAxis {
            in_len,
            kernel,
            stride,
            begin,
            end,
            end_ext: end.max(reach.saturating_sub(in_len + begin)),
            out_len: out,
        })
    }

    /// The average's divisor at output `o`: the window clipped to the input,
    /// or with `include_pad` to the explicitly padded input.
    fn divisor(&self, o: usize, include_pad: bool) -> usize {
        let start = (o * self.stride) as isize - self.begin as isize;
        let stop = start + self.kernel as isize;
        let (lo, hi) = if include_pad {
            (-(self.begin as isize), (self.in_len + self.end) as isize)
        } else {
            (0, self.in_len as isize)
        };
        (stop.min(hi) - start.max(lo)).max(0) as usize
    }
}

/// What a pool computes over each window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reduction {
    Max,
    Average {
        include_pad: bool,
    },
    /// `(Σ|x|^p)^(1/p)`, p = 1 or 2.
    Lp(i64),
}

/// `(begin, end)` padding of one spatial axis.
pub(super) type AxisPads = (usize, usize);

/// `strides` and `(begin, end)` pads per spatial axis, honouring `auto_pad`
/// (SAME_* centre the window's extent `k`).
pub(super) fn geometry(
    cx: &NodeCx,
    spatial: &[usize],
    k: &[usize],
) -> Result<(Vec<usize>, Vec<AxisPads>)> {
    let n = spatial.len();
    let s = attr_ints(cx.node, "strides").unwrap_or_else(|| vec![1; n]);
    let s = positive(&s)
        .filter(|s| s.len() == n)
        .ok_or_else(|| cx.bad(format!("strides {s:?} must be {n} positive values")))?;
    let auto = attr_s(cx.node, "auto_pad").unwrap_or_else(|| "NOTSET".into());
    let pads = match auto.as_str() {
        "NOTSET" => {
            let p = attr_ints(cx.node, "pads").unwrap_or_else(|| vec![0; 2 * n]);
            let p: Vec<usize> = p
                .iter()
                .map(|&v| usize::try_from(v).ok())
                .collect::<Option<_>>()
                .filter(|p: &Vec<usize>| p.len() == 2 * n)
                .ok_or_else(|| {
                    cx.bad(format!("pads {p:?} must be {} non-negative values", 2 * n))
                })?;
            // ONNX order: every axis's begin, then every axis's end
            (0..n).map(|a| (p[a], p[n + a])).collect()
        }
        "VALID" => vec![(0, 0); n],
        "SAME_UPPER" | "SAME_LOWER" => (0..n)
            .map(|a| {
                let out = spatial[a].div_ceil(s[a]);
                let total = (out.saturating_sub(1))
                    .saturating_mul(s[a])
                    .saturating_add(k[a])
                    .saturating_sub(spatial[a]);
                let (small, big) = (total / 2, total - total / 2);
                if auto == "SAME_UPPER" {
                    (small, big)
                } else {
                    (big, small)
                }
            })
            .collect(),
        other => return Err(cx.bad(format!("auto_pad={other} is not supported"))),
    };
    Ok((s, pads))
}

impl Importer {
    /// ONNX MaxPool, AveragePool, LpPool and their Global forms, 1-D, 2-D or
    /// 3-D (module doc). A 3-D pool is two 2-D ones — over (H, W) on the
    /// `[C·D, H, W]` view, then over D on the `[C, D, OH·OW]` view — as max
    /// and sum are separable, and so is the average's divisor.
    pub(super) fn lower_pool(&mut self, cx: &NodeCx) -> Result<()> {
        let x = self.act_input(cx, 0)?;
        let xs = self.shape_of(x);
        if !(3..=5).contains(&xs.len()) {
            return Err(cx.bad(format!(
                "only 1-D (NCL), 2-D (NCHW) and 3-D (NCDHW) pooling is supported, input is {xs:?}"
            )));
        }
        let n = xs.len() - 2;
        if cx.node.output.iter().skip(1).any(|s| !s.is_empty()) {
            return Err(cx.bad("the Indices output of MaxPool is not supported"));
        }
        let global = cx.op.starts_with("Global");
        let reduction = if cx.op.ends_with("MaxPool") {
            Reduction::Max
        } else if cx.op.ends_with("LpPool") {
            match attr_i(cx.node, "p", 2) {
                p @ (1 | 2) => Reduction::Lp(p),
                p => return Err(cx.bad(format!("LpPool with p = {p} (only 1 and 2)"))),
            }
        } else {
            Reduction::Average {
                include_pad: attr_i(cx.node, "count_include_pad", 0) != 0,
            }
        };
        let spatial: Vec<usize> = xs[2..].to_vec();
        let axes: Vec<Option<PoolAxis>> = if global {
            spatial
                .iter()
                .map(|&d| PoolAxis::new(d, d, 1, (0, 0), false))
                .collect()
        } else {
            let k =
                attr_ints(cx.node, "kernel_shape").ok_or_else(|| cx.bad("missing kernel_shape"))?;
            let k = positive(&k)
                .filter(|k| k.len() == n)
                .ok_or_else(|| cx.bad(format!("kernel_shape {k:?} is not {n}-D")))?;
            if attr_ints(cx.node, "dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
                return Err(cx.bad("dilation != 1 is not supported for pooling"));
            }
            let (strides, pads) = geometry(cx, &spatial, &k)?;
            if pads.iter().zip(&k).any(|(&(b, e), &k)| b >= k || e >= k) {
                return Err(cx.bad("padding must be smaller than the kernel"));
            }
            let ceil = attr_i(cx.node, "ceil_mode", 0) != 0;
            (0..n)
                .map(|a| PoolAxis::new(spatial[a], k[a], strides[a], pads[a], ceil))
                .collect()
        };
        let axes: Vec<PoolAxis> = axes
            .into_iter()
            .collect::<Option<_>>()
            .ok_or_else(|| cx.bad("kernel larger than the padded input"))?;
        let unit = |len: usize| PoolAxis::new(len, 1, 1, (0, 0), false).expect("a unit window");
        let c = xs[1];
        let mut cur = x;
        let mut count = 0;
        let mut step = |imp: &mut Self, kind: FOpKind, inputs: Vec<FId>, shape: Vec<usize>| {
            count += 1;
            imp.emit_step(cx, kind, inputs, shape, Some(&format!("pool{count}")))
        };
        if let Reduction::Lp(p) = reduction {
            let (pre, inputs) = match p {
                1 => (FOpKind::Unary(UnaryFn::Abs), vec![cur]),
                _ => (FOpKind::Mul, vec![cur, cur]),
            };
            cur = step(self, pre, inputs, xs.clone())?;
        }
        // (channels of the view, the two axes) per 2-D stage
        let stages: Vec<(usize, [PoolAxis; 2])> = match n {
            1 => vec![(c, [unit(1), axes[0]])],
            2 => vec![(c, [axes[0], axes[1]])],
            _ => vec![
                (c * spatial[0], [axes[1], axes[2]]),
                (c, [axes[0], unit(axes[1].out_len * axes[2].out_len)]),
            ],
        };
        for (ch, [ay, ax]) in stages {
            let view = vec![1, ch, ay.in_len, ax.in_len];
            if self.shape_of(cur) != view {
                cur = step(self, FOpKind::Reshape, vec![cur], view)?;
            }
            let window = (
                [ay.kernel, ax.kernel],
                [ay.stride, ax.stride],
                [ay.begin, ax.begin, ay.end_ext, ax.end_ext],
            );
            let (kernel, strides, pads) = window;
            let kind = match reduction {
                Reduction::Max => FOpKind::MaxPool {
                    kernel,
                    strides,
                    pads,
                },
                _ => FOpKind::AvgPool {
                    kernel,
                    strides,
                    pads,
                },
            };
            let (oh, ow) = (ay.out_len, ax.out_len);
            cur = step(self, kind, vec![cur], vec![1, ch, oh, ow])?;
            if let Reduction::Average { include_pad } = reduction {
                let ksize = (ay.kernel * ax.kernel) as f64;
                let per_pos: Vec<f64> = (0..oh * ow)
                    .map(|o| {
                        let d = ay.divisor(o / ow, include_pad) * ax.divisor(o % ow, include_pad);
                        ksize / d.max(1) as f64
                    })
                    .collect();
                if per_pos.iter().any(|&f| f != 1.0) {
                    let c = (0..ch).flat_map(|_| per_pos.iter().copied()).collect();
                    cur = step(
                        self,
                        FOpKind::MulConst { c },
                        vec![cur],
                        vec![1, ch, oh, ow],
                    )?;
                }
            }
        }
        let out: Vec<usize> = std::iter::once(1)
            .chain(std::iter::once(c))
            .chain(axes.iter().map(|a| a.out_len))
            .collect();
        if let Reduction::Lp(p) = reduction {
            // the averages' 1/K undone, per channel on the `[1, C, ·, 1]` view
            let ksize: usize = axes.iter().map(|a| a.kernel).product();
            let flat = vec![1, c, out[2..].iter().product(), 1];
            cur = step(self, FOpKind::Reshape, vec![cur], flat.clone())?;
            let scale = FOpKind::Affine {
                scale: vec![ksize as f64; c],
                shift: vec![0.0; c],
            };
            cur = step(self, scale, vec![cur], flat.clone())?;
            if p == 2 {
                cur = step(self, FOpKind::Unary(UnaryFn::Sqrt), vec![cur], flat)?;
            }
        }
        self.emit_step(cx, FOpKind::Reshape, vec![cur], out, None)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::PoolAxis;

    #[test]
    fn ceil_mode_adds_partial_windows_but_none_starting_in_the_padding() {
        // 6 inputs, kernel 3, stride 2: floor 2 windows, ceil 3 (the last
        // covers inputs 4, 5 and one padding position).
        let floor = PoolAxis::new(6, 3, 2, (0, 0), false).unwrap();
        let ceil = PoolAxis::new(6, 3, 2, (0, 0), true).unwrap();
        assert_eq!((floor.out_len, floor.end_ext), (2, 0));
        assert_eq!((ceil.out_len, ceil.end_ext), (3, 1));
        // 5 inputs, kernel 2, stride 2, one pad each side: ceil would give
        // 4 windows, the last starting at position 5 = in the end padding.
        let dropped = PoolAxis::new(5, 2, 2, (1, 1), true).unwrap();
        assert_eq!(dropped.out_len, 3);
        assert!(dropped.end_ext < 2, "padding stays below the kernel");
    }

    #[test]
    fn average_divisors_at_the_borders() {
        let a = PoolAxis::new(5, 3, 2, (1, 1), true).unwrap();
        assert_eq!(a.out_len, 3);
        let excl: Vec<usize> = (0..3).map(|o| a.divisor(o, false)).collect();
        let incl: Vec<usize> = (0..3).map(|o| a.divisor(o, true)).collect();
        // windows [-1, 2), [1, 4), [3, 6): 2, 3, 2 inputs; with the padding 3, 3, 3
        assert_eq!(excl, vec![2, 3, 2]);
        assert_eq!(incl, vec![3, 3, 3]);
        // ceil_mode's extension is never counted: window [4, 7) on 6 inputs
        let c = PoolAxis::new(6, 3, 2, (0, 0), true).unwrap();
        assert_eq!(c.divisor(2, true), 2);
    }
}

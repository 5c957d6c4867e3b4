//! Upsampling operators lowered onto ops the prover already proves:
//!
//! * ConvTranspose (1-D and 2-D, any stride, pads, output_padding,
//!   output_shape, dilation, group, auto_pad) → one `Select` that spreads the
//!   input over a zero grid (`stride − 1` zeros between neighbours, the
//!   transposed padding around it, or a crop where that padding is negative),
//!   then a stride-1 Conv with the spatially flipped kernel whose input and
//!   output channels are swapped (groups through the dense-kernel lowering).
//!   Both compute `y[o] = b + Σ w[k]·x[i]` over `o = i·s + k·d − pad`, the
//!   same sums of the same products: exact.
//! * Resize / Upsample in `linear` mode → one row-wise Dense per resized axis
//!   (moved last by a Transpose when it is not), whose constant matrix holds
//!   each output's two interpolation weights. Linear interpolation in d axes
//!   is the product of 1-D ones, so the chain computes each output's
//!   `≤ 2^d`-term weighted sum exactly in reals; quantized, each Dense adds
//!   one requantization of its input (weights in `[0, 1]` at 14 bits).
//!
//! A child module of `onnx_import` beside `lowering.rs`, whose helpers it uses.

use super::lowering::{bounded_len, dense_kernel, holds_its_shape, positive, spatial_axes, NodeCx};
use super::*;

impl Importer {
    /// ONNX ConvTranspose: a zero-insertion `Select`, then a Conv (see the module doc).
    pub(super) fn lower_conv_transpose(&mut self, cx: &NodeCx) -> Result<()> {
        let x = self.act_input(cx, 0)?;
        let xs = self.shape_of(x);
        let n = spatial_axes(cx, &xs, "transposed convolutions")?;
        let w = self.const_input(cx, 1)?;
        if w.dims.len() != xs.len() || !holds_its_shape(&w) || w.dims.contains(&0) {
            return Err(cx.bad(format!(
                "weight of shape {:?} does not fit a {n}-D transposed convolution",
                w.dims
            )));
        }
        let (c, ocg) = (xs[1], w.dims[1]);
        let group = attr_i(cx.node, "group", 1);
        let g = usize::try_from(group).unwrap_or(0);
        if g == 0 || w.dims[0] != c || c % g != 0 || ocg == 0 {
            return Err(cx.bad(format!(
                "group {group}: weight {:?} does not fit {c} input channels",
                w.dims
            )));
        }
        let (icg, oc) = (c / g, ocg * g);
        let k: Vec<usize> = w.dims[2..].to_vec();
        if let Some(ks) = attr_ints(cx.node, "kernel_shape") {
            if positive(&ks).as_deref() != Some(&k[..]) {
                return Err(cx.bad(format!(
                    "kernel_shape {ks:?} does not match the weight {:?}",
                    w.dims
                )));
            }
        }
        let ints =
            |name: &str, default: i64| attr_ints(cx.node, name).unwrap_or_else(|| vec![default; n]);
        let s = ints("strides", 1);
        let s = positive(&s)
            .filter(|s| s.len() == n)
            .ok_or_else(|| cx.bad(format!("strides {s:?} must be {n} positive values")))?;
        let d = ints("dilations", 1);
        let d = positive(&d)
            .filter(|d| d.len() == n)
            .ok_or_else(|| cx.bad(format!("dilations {d:?} must be {n} positive values")))?;
        let op = ints("output_padding", 0);
        if op.len() != n || op.iter().any(|&v| v < 0) {
            return Err(cx.bad(format!(
                "output_padding {op:?} must be {n} non-negative values"
            )));
        }
        let geometry = transposed_geometry(cx, &xs[2..], &k, &s, &d, &op)?;
        // The equivalent Conv's kernel: [OC, C/g, k..], flipped in space.
        let ksize: usize = k.iter().product();
        let mut flipped = vec![0.0; oc * icg * ksize];
        for gi in 0..g {
            for i in 0..icg {
                for o in 0..ocg {
                    for t in 0..ksize {
                        let v = w.data[((gi * icg + i) * ocg + o) * ksize + t];
                        flipped[(((gi * ocg + o) * icg + i) * ksize) + ksize - 1 - t] = v;
                    }
                }
            }
        }
        let (k2, d2) = if n == 1 {
            ([1, k[0]], [1, d[0]])
        } else {
            ([k[0], k[1]], [d[0], d[1]])
        };
        let (kernel_shape, dense) =
            dense_kernel(&flipped, oc, icg, g, k2, d2, self.lowering_budget)
                .map_err(|e| cx.bad(e))?;
        let b = match cx.input(2) {
            None => vec![0.0; oc],
            Some(_) => match self.const_input(cx, 2)? {
                b if b.data.len() == oc => b.data,
                _ => return Err(cx.bad("bias must be a constant of length out_channels")),
            },
        };
        // The grid: output o of the Conv reads grid[o + k'·d]; input i sits at
        // grid position i·s + lead, lead = extent − 1 − pad_begin.
        let grid: Vec<usize> = geometry.iter().map(|a| a.grid).collect();
        let mut gshape = vec![1, c];
        gshape.extend(&grid);
        let glen = bounded_len(&gshape, self.lowering_budget).ok_or_else(|| {
            cx.bad(format!(
                "the zero-inserted input {gshape:?} exceeds the {} elements a model file of this size may create",
                self.lowering_budget
            ))
        })?;
        let spatial: usize = xs[2..].iter().product();
        let gsp: usize = grid.iter().product();
        let mut source = vec![-1i64; glen];
        for (p, slot) in source.iter_mut().enumerate() {
            let (ch, mut rest) = (p / gsp, p % gsp);
            let mut flat = 0usize;
            let mut hit = true;
            for (a, ax) in geometry.iter().enumerate().rev() {
                let pos = (rest % grid[a]) as i64;
                rest /= grid[a];
                let q = pos - ax.lead;
                let i = q.div_euclid(ax.stride as i64);
                if q < 0 || q % ax.stride as i64 != 0 || i >= ax.len as i64 {
                    hit = false;
                    break;
                }
                let inner: usize = xs[2 + a + 1..].iter().product();
                flat += i as usize * inner;
            }
            if hit {
                *slot = (ch * spatial + flat) as i64;
            }
        }
        let spread = self.emit_step(
            cx,
            FOpKind::Select { source },
            vec![x],
            gshape.clone(),
            Some("spread"),
        )?;
        let out: Vec<usize> = geometry.iter().map(|a| a.out).collect();
        let kind = FOpKind::Conv {
            w: dense,
            b,
            kernel_shape,
            strides: [1, 1],
            pads: [0; 4],
        };
        let (oh, ow) = if n == 1 {
            (1, out[0])
        } else {
            (out[0], out[1])
        };
        let [_, _, kh, kw] = kernel_shape;
        let (gh, gw) = if n == 1 {
            (1, grid[0])
        } else {
            (grid[0], grid[1])
        };
        debug_assert_eq!((gh + 1 - kh, gw + 1 - kw), (oh, ow));
        self.window_op(cx, spread, kind, [oc, oh, ow])
    }

    /// ONNX Resize (any opset) and Upsample in `linear`/`bilinear` mode (see
    /// the module doc); `cubic` is refused by name.
    pub(super) fn lower_resize_linear(&mut self, cx: &NodeCx) -> Result<()> {
        let x = self.act_input(cx, 0)?;
        let xs = self.shape_of(x);
        let mode = attr_s(cx.node, "mode").unwrap_or_default();
        if mode == "cubic" {
            return Err(cx.bad("mode cubic is not supported (nearest and linear are)"));
        }
        let floats = |i: usize| -> Result<Option<Vec<f64>>> {
            match cx.input(i) {
                Some(_) => Ok(Some(self.const_input(cx, i)?.data)),
                None => Ok(None),
            }
        };
        let (plan, coord_mode) = if cx.op == "Upsample" || self.opset < 11 {
            let scales = if cx.op == "Upsample" && self.opset < 9 {
                attr(cx.node, "scales").map(|a| a.floats.iter().map(|&v| v as f64).collect())
            } else {
                floats(1)?
            }
            .ok_or_else(|| cx.bad("missing scales"))?;
            let plan = index_map::resize10_plan(&xs, &scales).map_err(|e| cx.bad(e))?;
            (plan, "asymmetric".to_string())
        } else {
            let scales = floats(2)?.filter(|v| !v.is_empty());
            let mut sizes: Option<Vec<usize>> = floats(3)?
                .filter(|v| !v.is_empty())
                .map(|v| v.iter().map(|&d| d.max(0.0) as usize).collect());
            let axes = attr_ints(cx.node, "axes");
            // the sizes of a fixed batch name the statement's batch on axis 0
            if let (Some(sz), None) = (sizes.as_mut(), &axes) {
                if sz.first() == Some(&self.batch) {
                    sz[0] = 1;
                }
            }
            let policy =
                attr_s(cx.node, "keep_aspect_ratio_policy").unwrap_or_else(|| "stretch".into());
            let plan = index_map::resize_plan(
                &xs,
                scales.as_deref(),
                sizes.as_deref(),
                axes.as_deref(),
                &policy,
            )
            .map_err(|e| cx.bad(e))?;
            let coord = attr_s(cx.node, "coordinate_transformation_mode")
                .unwrap_or_else(|| "half_pixel".into());
            (plan, coord)
        };
        if matches!(
            coord_mode.as_str(),
            "tf_crop_and_resize" | "tf_half_pixel_for_nn"
        ) {
            return Err(cx.bad(format!(
                "coordinate_transformation_mode {coord_mode} is not supported in linear mode"
            )));
        }
        let coord = index_map::resize_coordinate(&coord_mode).map_err(|e| cx.bad(e))?;
        // antialias only changes the weights of a downsampled axis
        if attr_i(cx.node, "antialias", 0) != 0 && plan.iter().zip(&xs).any(|(p, &d)| p.1 < d) {
            return Err(cx.bad("antialias=1 (a wider filter when downsampling) is not supported"));
        }
        if plan[0].1 != 1 {
            return Err(cx.bad("resizing the batch axis mixes samples"));
        }
        let mut y = x;
        let mut shape = xs.clone();
        let resized: Vec<usize> = (1..xs.len())
            .filter(|&a| plan[a].0 != 1.0 || plan[a].1 != xs[a])
            .collect();
        if resized.is_empty() {
            self.alias_output(cx, x);
            return Ok(());
        }
        let last = xs.len() - 1;
        for (step, &a) in resized.iter().enumerate() {
            let (scale, len) = plan[a];
            if len == 0 {
                return Err(cx.bad(format!("axis {a} would become empty")));
            }
            let dim = xs[a];
            let cells = len.checked_mul(dim).filter(|&v| v <= self.lowering_budget);
            let Some(cells) = cells else {
                return Err(cx.bad(format!(
                    "the interpolation matrix {len}x{dim} exceeds the {} weights a model file of this size may create",
                    self.lowering_budget
                )));
            };
            let mut w = vec![0.0; cells];
            for j in 0..len {
                let pos = coord(j as f32, scale, len as f32, dim as f32);
                for (i, v) in linear_taps(pos, dim) {
                    w[j * dim + i] += v;
                }
            }
            let perm: Vec<usize> = (0..xs.len())
                .map(|i| match i {
                    _ if i == a => last,
                    _ if i == last => a,
                    _ => i,
                })
                .collect();
            let moved = if a == last {
                y
            } else {
                shape.swap(a, last);
                self.emit_step(
                    cx,
                    FOpKind::Transpose { perm: perm.clone() },
                    vec![y],
                    shape.clone(),
                    Some(&format!("axis{a}_last")),
                )?
            };
            *shape.last_mut().expect("rank >= 2") = len;
            let is_final = step + 1 == resized.len();
            let dense = FOpKind::Dense {
                w,
                b: vec![0.0; len],
                in_dim: dim,
                out_dim: len,
            };
            let name = format!("axis{a}");
            y = self.emit_step(
                cx,
                dense,
                vec![moved],
                shape.clone(),
                (!is_final || a != last).then_some(name.as_str()),
            )?;
            if a != last {
                shape.swap(a, last);
                y = self.emit_step(
                    cx,
                    FOpKind::Transpose { perm },
                    vec![y],
                    shape.clone(),
                    (!is_final).then_some(format!("axis{a}_back").as_str()),
                )?;
            }
        }
        Ok(())
    }
}

/// One spatial axis of a ConvTranspose as the equivalent Conv sees it.
struct Axis {
    /// Input length.
    len: usize,
    stride: usize,
    /// Grid position of input element 0 (negative: the first ones are cropped).
    lead: i64,
    /// Grid length: `out + extent − 1`.
    grid: usize,
    /// Output length.
    out: usize,
}

/// Per spatial axis, the output length and the zero-insertion grid of a
/// ConvTranspose with strides `s`, dilations `d`, output padding `op`, from
/// `pads`, or from `output_shape` / `auto_pad` as the ONNX specification
/// derives the pads (`total = s·(in−1) + op + extent − out`; SAME_UPPER puts
/// the odd unit at the end, anything else at the beginning). An
/// `output_shape` beyond the natural size (negative total) extends the end
/// with bias-only outputs, as onnxruntime does.
fn transposed_geometry(
    cx: &NodeCx,
    spatial: &[usize],
    k: &[usize],
    s: &[usize],
    d: &[usize],
    op: &[i64],
) -> Result<Vec<Axis>> {
    let n = spatial.len();
    let auto = attr_s(cx.node, "auto_pad").unwrap_or_else(|| "NOTSET".into());
    let output_shape = attr_ints(cx.node, "output_shape").map(|v| {
        // spatial sizes only, or the whole [N, C, ..] shape
        if v.len() == n + 2 {
            v[2..].to_vec()
        } else {
            v
        }
    });
    let pads = attr_ints(cx.node, "pads");
    let mut axes = Vec::with_capacity(n);
    for a in 0..n {
        let big = |v: usize| i64::try_from(v).ok().filter(|&v| v < 1 << 40);
        let (Some(len), Some(stride), Some(extent)) = (
            big(spatial[a]),
            big(s[a]),
            (k[a] - 1).checked_mul(d[a]).and_then(|e| big(e + 1)),
        ) else {
            return Err(cx.bad("sizes out of range"));
        };
        let natural = stride * (len - 1) + op[a] + extent;
        let split = |total: i64| {
            let (small, large) = (total / 2, total - total / 2);
            if auto == "SAME_UPPER" {
                (small, large)
            } else {
                (large, small)
            }
        };
        let (begin, end) = match (&output_shape, auto.as_str()) {
            (Some(os), _) => {
                let Some(&o) = os.get(a).filter(|&&o| o > 0 && os.len() == n) else {
                    return Err(cx.bad(format!(
                        "output_shape {os:?} must be {n} positive spatial sizes"
                    )));
                };
                // a larger output than the natural one is zero-extended at
                // the end (onnxruntime), not padded negatively on both sides
                let total = natural - o;
                (split(total.max(0)).0, total - split(total.max(0)).0)
            }
            (None, "SAME_UPPER" | "SAME_LOWER") => split(natural - len * stride),
            (None, "VALID") => (0, 0),
            (None, "NOTSET") => {
                let p = pads.clone().unwrap_or_else(|| vec![0; 2 * n]);
                if p.len() != 2 * n || p.iter().any(|&v| !(0..1 << 40).contains(&v)) {
                    return Err(cx.bad(format!("pads {p:?} must be {} non-negative values", 2 * n)));
                }
                (p[a], p[a + n])
            }
            (None, other) => return Err(cx.bad(format!("auto_pad={other} is not supported"))),
        };
        let out = natural - begin - end;
        if out <= 0 {
            return Err(cx.bad(format!(
                "the output would be empty along spatial axis {a} (pads {begin}, {end})"
            )));
        }
        axes.push(Axis {
            len: spatial[a],
            stride: s[a],
            lead: extent - 1 - begin,
            grid: (out + extent - 1) as usize,
            out: out as usize,
        });
    }
    Ok(axes)
}

/// The two inputs (index, weight) a linear interpolation at input coordinate
/// `pos` reads on an axis of `dim` elements: `pos` clamped into `[0, dim−1]`,
/// then its floor and the next element (the edge repeats past the end).
fn linear_taps(pos: f32, dim: usize) -> [(usize, f64); 2] {
    let top = (dim - 1) as f32;
    let p = pos.clamp(0.0, top);
    let i0 = (p as usize).min(dim - 1);
    let i1 = (i0 + 1).min(dim - 1);
    let frac = f64::from(p - i0 as f32);
    [(i0, 1.0 - frac), (i1, frac)]
}

#[cfg(test)]
mod tests {
    use super::super::lowering::budget;
    use super::*;

    #[test]
    fn linear_taps_clamp_at_the_edges() {
        assert_eq!(linear_taps(-0.25, 4), [(0, 1.0), (1, 0.0)]);
        assert_eq!(linear_taps(1.25, 4), [(1, 0.75), (2, 0.25)]);
        assert_eq!(linear_taps(3.5, 4), [(3, 1.0), (3, 0.0)]);
        assert_eq!(linear_taps(0.0, 1), [(0, 1.0), (0, 0.0)]);
    }

    fn ints(name: &str, v: &[i64]) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.into(),
            ints: v.to_vec(),
            ..Default::default()
        }
    }

    /// ConvTranspose by its definition: every input element scatters
    /// `x·w[k]` to output `i·s + k·d − pad_begin` of its group's channels.
    #[allow(clippy::too_many_arguments)]
    fn scatter(
        x: &[f64],
        w: &[f64],
        b: &[f64],
        (c, h, wd): (usize, usize, usize),
        (ocg, kh, kw): (usize, usize, usize),
        g: usize,
        s: [usize; 2],
        d: [usize; 2],
        pads: [i64; 2],
        (oh, ow): (usize, usize),
    ) -> Vec<f64> {
        let oc = ocg * g;
        let mut y: Vec<f64> = (0..oc * oh * ow).map(|i| b[i / (oh * ow)]).collect();
        let icg = c / g;
        for ci in 0..c {
            let gi = ci / icg;
            for iy in 0..h {
                for ix in 0..wd {
                    for o in 0..ocg {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let oy = (iy * s[0] + ky * d[0]) as i64 - pads[0];
                                let ox = (ix * s[1] + kx * d[1]) as i64 - pads[1];
                                if oy < 0 || ox < 0 || oy >= oh as i64 || ox >= ow as i64 {
                                    continue;
                                }
                                let wv = w[((ci * ocg + o) * kh + ky) * kw + kx];
                                let oc_i = gi * ocg + o;
                                y[(oc_i * oh + oy as usize) * ow + ox as usize] +=
                                    wv * x[(ci * h + iy) * wd + ix];
                            }
                        }
                    }
                }
            }
        }
        y
    }

    #[test]
    fn conv_transpose_matches_its_definition() {
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        // (c, h, w, ocg, kh, kw, group, strides, dilations, pads [t, l, b, r], output_padding)
        type Case = (
            usize,
            usize,
            usize,
            usize,
            usize,
            usize,
            usize,
            [i64; 2],
            [i64; 2],
            [i64; 4],
            [i64; 2],
        );
        let cases: &[Case] = &[
            (2, 3, 3, 3, 3, 3, 1, [2, 2], [1, 1], [1, 1, 1, 1], [1, 1]),
            (4, 3, 4, 1, 2, 3, 4, [3, 2], [1, 2], [0, 2, 1, 0], [2, 0]),
            (4, 2, 3, 2, 3, 2, 2, [1, 3], [2, 1], [2, 0, 0, 1], [0, 1]),
            (1, 1, 5, 2, 1, 4, 1, [1, 2], [1, 1], [0, 0, 0, 3], [0, 1]),
        ];
        for &(c, h, wd, ocg, kh, kw, g, s, d, pads, op) in cases {
            let x: Vec<f64> = (0..c * h * wd).map(|_| rand()).collect();
            let w: Vec<f64> = (0..c * ocg * kh * kw).map(|_| rand()).collect();
            let b: Vec<f64> = (0..ocg * g).map(|_| rand()).collect();
            let mut imp = Importer {
                opset: 17,
                batch: 1,
                graph_outputs: vec!["y".into()],
                lowering_budget: budget(100_000),
                relaid: HashMap::new(),
                one_hot: HashMap::new(),
                masked: HashMap::new(),
                consts: [
                    (
                        "w".to_string(),
                        Const {
                            dims: vec![c, ocg, kh, kw],
                            data: w.clone(),
                        },
                    ),
                    (
                        "b".to_string(),
                        Const {
                            dims: vec![ocg * g],
                            data: b.clone(),
                        },
                    ),
                ]
                .into_iter()
                .collect(),
                values: HashMap::new(),
                tensors: vec![],
                ops: vec![],
            };
            imp.new_tensor("x", vec![1, c, h, wd]);
            let node = pb::NodeProto {
                input: vec!["x".into(), "w".into(), "b".into()],
                output: vec!["y".into()],
                name: "deconv".into(),
                op_type: "ConvTranspose".into(),
                attribute: vec![
                    pb::AttributeProto {
                        name: "group".into(),
                        i: g as i64,
                        ..Default::default()
                    },
                    ints("strides", &s),
                    ints("dilations", &d),
                    ints("pads", &pads),
                    ints("output_padding", &op),
                ],
                ..Default::default()
            };
            imp.node(0, &node).unwrap();
            let y = imp.values["y"];
            let ys = imp.tensors[y].shape.clone();
            let out = |a: usize| {
                let (s, d, k, len) = (s[a] as usize, d[a] as usize, [kh, kw][a], [h, wd][a]);
                s * (len - 1) + op[a] as usize + (k - 1) * d + 1 - (pads[a] + pads[a + 2]) as usize
            };
            assert_eq!(ys, [1, ocg * g, out(0), out(1)]);
            let m = FloatModel {
                tensors: imp.tensors,
                input: 0,
                output: y,
                batch: 1,
                dynamic_batch: false,
                ops: imp.ops,
                input_segments: vec![],
                outputs: vec![],
            };
            let ours = m.evaluate(&x).unwrap();
            let want = scatter(
                &x,
                &w,
                &b,
                (c, h, wd),
                (ocg, kh, kw),
                g,
                [s[0] as usize, s[1] as usize],
                [d[0] as usize, d[1] as usize],
                [pads[0], pads[1]],
                (out(0), out(1)),
            );
            for (a, b) in ours.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
        }
    }
}

//! Lowerings: ONNX patterns the importer rewrites into float ops the prover
//! already proves, so they need no new integer op:
//!
//! * Conv with `group > 1` or `dilations` → one dense `[OC, C, KH, KW]`
//!   kernel, zero outside each group's block and between dilated taps: the
//!   same sums, exactly;
//! * 3-D Conv → `lowering_volume.rs`; pools → `lowering_pool.rs`;
//! * 1-D Conv and pools (`[N, C, L]`) → Reshape to `[N, C, 1, L]`, the 2-D op
//!   with a `[1, k]` window, Reshape back; GlobalMaxPool → MaxPool over the
//!   whole spatial extent;
//! * Max/Min of activations → `a + relu(b − a)` / `a − relu(a − b)`; with a
//!   scalar constant → Clip; Sum → Adds; Mean → Adds and one constant scale;
//! * Pow with a constant exponent → identity, Mul, Sqrt, Reciprocal or a
//!   `Pow(p)` table; a constant divided by an activation → Reciprocal and a
//!   constant scale;
//! * ConstantOfShape, Range, EyeLike, Shape, Cast, and Max/Min/Sum/Mean/Pow of
//!   constants → folded to a constant.
//!
//! A child module of `onnx_import` (it extends the importer), in its own file
//! so the importer's match arms stay one-line hooks. Error bounds:
//! `docs/operators.md`.

use super::*;

/// ONNX operators only this module handles (for the supported-operator list).
pub const LOWERED_OPS: &[&str] = &[
    "GlobalMaxPool",
    "Max",
    "Min",
    "Sum",
    "Mean",
    "Pow",
    "ConstantOfShape",
    "Range",
    "EyeLike",
];

/// Whether this module folds node `op`: those of [`FOLDED`] whose inputs
/// are all constants, and ConstantOfShape, Range and EyeLike always (they
/// must have constant inputs: anything else is refused by name).
pub(super) fn folds(op: &str, all_const: bool) -> bool {
    FOLDED.contains(&op) && (all_const || ["ConstantOfShape", "Range", "EyeLike"].contains(&op))
}

/// Operators folded here when every input is a constant.
const FOLDED: &[&str] = &[
    "ConstantOfShape",
    "Range",
    "EyeLike",
    "Shape",
    "Cast",
    "Max",
    "Min",
    "Sum",
    "Mean",
    "Pow",
];

/// Most elements a folded constant or a lowered kernel may ever have.
pub const MAX_LOWERED_ELEMENTS: usize = 1 << 24;

/// Most elements one folded constant or lowered kernel of a `file_bytes`-byte
/// model may have: the importer's contract as a decoder (fuzzed) is no single
/// allocation above 64× its input plus 1 MiB, so a few bytes of ONNX (a huge
/// ConstantOfShape, a dilation of 10^6) cannot make it allocate gigabytes.
/// 8-byte values, with room for a growing vector: `4·bytes + 2^16`, capped
/// at [`MAX_LOWERED_ELEMENTS`].
pub(super) fn budget(file_bytes: usize) -> usize {
    file_bytes
        .saturating_mul(4)
        .saturating_add(1 << 16)
        .min(MAX_LOWERED_ELEMENTS)
}

/// The node being imported, for attributes and named errors.
pub(super) struct NodeCx<'a> {
    pub node: &'a pb::NodeProto,
    pub op: &'a str,
    pub name: &'a str,
    pub index: usize,
}

impl NodeCx<'_> {
    pub(super) fn bad(&self, reason: impl Into<String>) -> ModelError {
        ModelError::UnsupportedAttr {
            op: self.op.to_string(),
            node: self.name.to_string(),
            index: self.index,
            reason: reason.into(),
        }
    }
    pub(super) fn input(&self, i: usize) -> Option<&str> {
        self.node
            .input
            .get(i)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
    pub(super) fn output(&self) -> &str {
        self.node
            .output
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// Number of elements of `dims`, if at most `limit`.
pub(super) fn bounded_len(dims: &[usize], limit: usize) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= limit)
}

/// Positive integer attribute values (strides, dilations, kernel sizes).
pub(super) fn positive(v: &[i64]) -> Option<Vec<usize>> {
    v.iter()
        .map(|&x| usize::try_from(x).ok().filter(|&x| x > 0))
        .collect()
}

impl Importer {
    pub(super) fn act_input(&self, cx: &NodeCx, i: usize) -> Result<FId> {
        cx.input(i)
            .and_then(|n| self.values.get(n).copied())
            .ok_or_else(|| {
                cx.bad(format!(
                    "input #{i} (`{}`) must be a computed activation",
                    cx.input(i).unwrap_or("")
                ))
            })
    }

    pub(super) fn const_input(&self, cx: &NodeCx, i: usize) -> Result<Const> {
        cx.input(i)
            .and_then(|n| self.consts.get(n).cloned())
            .ok_or_else(|| {
                cx.bad(format!(
                    "input #{i} (`{}`) must be a constant (initializer)",
                    cx.input(i).unwrap_or("")
                ))
            })
    }

    pub(super) fn shape_of(&self, t: FId) -> Vec<usize> {
        self.tensors[t].shape.clone()
    }

    /// Appends one op of the lowering. `step: None` writes the node's output
    /// (registered under its ONNX name); `Some(step)` an intermediate tensor
    /// named `<output>/<step>`, which no later node can read.
    pub(super) fn emit_step(
        &mut self,
        cx: &NodeCx,
        kind: FOpKind,
        inputs: Vec<FId>,
        shape: Vec<usize>,
        step: Option<&str>,
    ) -> Result<FId> {
        let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if shape.first() != Some(&1) || !matches!(len, Some(n) if n > 0) {
            return Err(cx.bad(format!(
                "result shape {shape:?} must keep a batch axis of 1 and be non-empty"
            )));
        }
        let out = match step {
            None => self.new_tensor(cx.output(), shape),
            Some(step) => {
                self.tensors.push(FTensor {
                    name: format!("{}/{step}", cx.output()),
                    shape,
                });
                self.tensors.len() - 1
            }
        };
        self.ops.push(FOp {
            kind,
            inputs,
            output: out,
            node: cx.name.to_string(),
            op_type: cx.op.to_string(),
        });
        Ok(out)
    }

    /// The node's output is `x` itself (no op).
    pub(super) fn alias_output(&mut self, cx: &NodeCx, x: FId) {
        self.values.insert(cx.output().to_string(), x);
    }

    /// A 2-D window op (`kind`, its output `[C, H, W]` without batch) on `x`;
    /// a 1-D input `[1, C, L]` runs as the image `[1, C, 1, L]` and the result
    /// is reshaped back to `[1, C', L']`.
    pub(super) fn window_op(
        &mut self,
        cx: &NodeCx,
        x: FId,
        kind: FOpKind,
        out: [usize; 3],
    ) -> Result<()> {
        let xs = self.shape_of(x);
        if xs.len() == 4 {
            self.emit_step(cx, kind, vec![x], vec![1, out[0], out[1], out[2]], None)?;
            return Ok(());
        }
        let x4 = self.emit_step(
            cx,
            FOpKind::Reshape,
            vec![x],
            vec![1, xs[1], 1, xs[2]],
            Some("as_2d"),
        )?;
        let y4 = self.emit_step(cx, kind, vec![x4], vec![1, out[0], 1, out[2]], Some("2d"))?;
        self.emit_step(
            cx,
            FOpKind::Reshape,
            vec![y4],
            vec![1, out[0], out[2]],
            None,
        )?;
        Ok(())
    }

    /// ONNX Conv, 1-D or 2-D, any group and dilation: a 2-D Conv with the
    /// dense kernel of [`dense_kernel`] (exact), through [`Importer::window_op`].
    pub(super) fn lower_conv(&mut self, cx: &NodeCx) -> Result<()> {
        let x = self.act_input(cx, 0)?;
        let xs = self.shape_of(x);
        match xs.len() {
            5 => return self.lower_conv3d(cx),
            r if r > 5 => {
                return Err(cx.bad(format!(
                    "only 1-D (NCL), 2-D (NCHW) and 3-D (NCDHW) convolutions are supported, input is {xs:?}"
                )))
            }
            _ => {}
        }
        let w = self.const_input(cx, 1)?;
        let n = spatial_axes(cx, &xs, "convolutions")?;
        if w.dims.len() != xs.len() || !holds_its_shape(&w) {
            return Err(cx.bad(format!(
                "weight of shape {:?} does not fit a {n}-D convolution",
                w.dims
            )));
        }
        let (c, oc, icg) = (xs[1], w.dims[0], w.dims[1]);
        let group = attr_i(cx.node, "group", 1);
        let g = usize::try_from(group).unwrap_or(0);
        if g == 0 || oc % g != 0 || icg.checked_mul(g) != Some(c) {
            return Err(cx.bad(format!(
                "group {group}: weight {:?} does not fit {c} input channels",
                w.dims
            )));
        }
        if let Some(ks) = attr_ints(cx.node, "kernel_shape") {
            if positive(&ks).as_deref() != Some(&w.dims[2..]) {
                return Err(cx.bad(format!(
                    "kernel_shape {ks:?} does not match the weight {:?}",
                    w.dims
                )));
            }
        }
        let d = attr_ints(cx.node, "dilations").unwrap_or_else(|| vec![1; n]);
        let d = positive(&d)
            .filter(|d| d.len() == n)
            .ok_or_else(|| cx.bad(format!("dilations {d:?} must be {n} positive values")))?;
        let (k, d) = if n == 1 {
            ([1, w.dims[2]], [1, d[0]])
        } else {
            ([w.dims[2], w.dims[3]], [d[0], d[1]])
        };
        let b = match cx.input(2) {
            None => vec![0.0; oc],
            Some(_) => match self.const_input(cx, 2)? {
                b if b.data.len() == oc => b.data,
                _ => return Err(cx.bad("bias must be a constant of length out_channels")),
            },
        };
        if n == 2
            && g > 1
            && icg == 1
            && oc == g
            && self.depthwise_by_taps(cx, x, &w.data, &b, k, d)?
        {
            return Ok(());
        }
        let (kernel_shape, dense) =
            dense_kernel(&w.data, oc, icg, g, k, d, self.lowering_budget).map_err(|e| cx.bad(e))?;
        let [_, _, kh, kw] = kernel_shape;
        let extent = if n == 1 { vec![kw] } else { vec![kh, kw] };
        let (strides, pads) = window_geometry(cx, &xs[2..], &extent)?;
        let (h, wd) = if n == 1 { (1, xs[2]) } else { (xs[2], xs[3]) };
        let oh = conv_out_dim(h, kh, strides[0], pads[0], pads[2]);
        let ow = conv_out_dim(wd, kw, strides[1], pads[1], pads[3]);
        let (Some(oh), Some(ow)) = (oh, ow) else {
            return Err(cx.bad("kernel larger than the padded input"));
        };
        let kind = FOpKind::Conv {
            w: dense,
            b,
            kernel_shape,
            strides,
            pads,
        };
        self.window_op(cx, x, kind, [oc, oh, ow])
    }

    /// A 2-D depthwise Conv (one input channel per group, one output channel
    /// per input channel) as its taps, where that is smaller than the dense
    /// kernel (`OH·OW·K < C·KH·KW`: a late, narrow stage with many channels,
    /// whose dense kernel grows as `C²`): a `Select` gathers every output
    /// position's `K` taps (0 where they read padding), a `MulConst` weighs
    /// each by its channel's weight, a row-wise `Dense` of ones sums them,
    /// then the bias. `Ok(false)`: the dense kernel is no larger.
    fn depthwise_by_taps(
        &mut self,
        cx: &NodeCx,
        x: FId,
        w: &[f64],
        bias: &[f64],
        k: [usize; 2],
        d: [usize; 2],
    ) -> Result<bool> {
        let xs = self.shape_of(x);
        let (c, h, wd) = (xs[1], xs[2], xs[3]);
        let ext = |a: usize| (k[a] - 1).checked_mul(d[a]).and_then(|e| e.checked_add(1));
        let (Some(eh), Some(ew)) = (ext(0), ext(1)) else {
            return Ok(false);
        };
        let (strides, pads) = window_geometry(cx, &xs[2..], &[eh, ew])?;
        let (Some(oh), Some(ow)) = (
            conv_out_dim(h, eh, strides[0], pads[0], pads[2]),
            conv_out_dim(wd, ew, strides[1], pads[1], pads[3]),
        ) else {
            return Err(cx.bad("kernel larger than the padded input"));
        };
        let taps = k[0] * k[1];
        let positions = oh * ow;
        let tap_cost = positions.checked_mul(taps);
        let dense_cost = c.checked_mul(eh).and_then(|v| v.checked_mul(ew));
        let len = tap_cost.and_then(|t| t.checked_mul(c));
        match (tap_cost, dense_cost, len) {
            (Some(t), Some(dc), Some(n)) if t < dc && n <= self.lowering_budget => {}
            _ => return Ok(false),
        }
        let mut source = Vec::with_capacity(c * positions * taps);
        let mut weights = Vec::with_capacity(c * positions * taps);
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ky in 0..k[0] {
                        for kx in 0..k[1] {
                            let iy = (oy * strides[0] + ky * d[0]).checked_sub(pads[0]);
                            let ix = (ox * strides[1] + kx * d[1]).checked_sub(pads[1]);
                            source.push(match (iy, ix) {
                                (Some(iy), Some(ix)) if iy < h && ix < wd => {
                                    ((ch * h + iy) * wd + ix) as i64
                                }
                                _ => -1,
                            });
                            weights.push(w[ch * taps + ky * k[1] + kx]);
                        }
                    }
                }
            }
        }
        let gathered = self.emit_step(
            cx,
            FOpKind::Select { source },
            vec![x],
            vec![1, c, positions, taps],
            Some("taps"),
        )?;
        let weighed = self.emit_step(
            cx,
            FOpKind::MulConst { c: weights },
            vec![gathered],
            vec![1, c, positions, taps],
            Some("weighed_taps"),
        )?;
        let summed = self.emit_step(
            cx,
            FOpKind::Dense {
                w: vec![1.0; taps],
                b: vec![0.0],
                in_dim: taps,
                out_dim: 1,
            },
            vec![weighed],
            vec![1, c, positions, 1],
            Some("tap_sum"),
        )?;
        let biased = if bias.iter().any(|&v| v != 0.0) {
            let c_per = bias.iter().flat_map(|&v| std::iter::repeat_n(v, positions));
            self.emit_step(
                cx,
                FOpKind::AddConst { c: c_per.collect() },
                vec![summed],
                vec![1, c, positions, 1],
                Some("bias"),
            )?
        } else {
            summed
        };
        self.emit_step(cx, FOpKind::Reshape, vec![biased], vec![1, c, oh, ow], None)?;
        Ok(true)
    }

    /// ONNX Max, Min, Sum, Mean with at least one activation (all-constant
    /// ones are folded). Activations must share one shape; the constants,
    /// combined first, must broadcast into it.
    pub(super) fn lower_variadic(&mut self, cx: &NodeCx) -> Result<()> {
        let names: Vec<&str> = cx
            .node
            .input
            .iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        let (mut acts, mut consts) = (vec![], vec![]);
        for name in &names {
            if let Some(&a) = self.values.get(*name) {
                acts.push(a);
            } else if let Some(c) = self.consts.get(*name) {
                consts.push(c.clone());
            } else {
                return Err(cx.bad(format!("input `{name}` is never computed")));
            }
        }
        let Some(&first) = acts.first() else {
            return Err(cx.bad("needs at least one activation input"));
        };
        let shape = self.shape_of(first);
        if let Some(&a) = acts.iter().find(|&&a| self.tensors[a].shape != shape) {
            return Err(cx.bad(format!(
                "{} of activations needs equal shapes, got {shape:?} and {:?}",
                cx.op, self.tensors[a].shape
            )));
        }
        let combine: fn(f64, f64) -> f64 = match cx.op {
            "Max" => f64::max,
            "Min" => f64::min,
            _ => |a, b| a + b,
        };
        let c = match consts.split_first() {
            None => None,
            Some((c0, rest)) => Some(rest.iter().try_fold(c0.clone(), |acc, c| {
                broadcast2(&acc, c, combine, self.lowering_budget)
                    .ok_or_else(|| cx.bad("its constant inputs do not broadcast together"))
            })?),
        };
        let not_per_channel = |c: &Const| {
            cx.bad(format!(
                "a constant of shape {:?} does not broadcast over the activation {shape:?} \
                 (a scalar or a per-channel constant does)",
                c.dims
            ))
        };
        match cx.op {
            "Max" | "Min" => {
                let is_max = cx.op == "Max";
                let bound = c
                    .as_ref()
                    .map(|c| uniform_value(c, &shape, self.batch).ok_or_else(|| not_per_channel(c)))
                    .transpose()?;
                let steps = acts.len() - 1;
                let mut acc = first;
                for (i, &b) in acts[1..].iter().enumerate() {
                    // max(a, b) = a + relu(b − a), min(a, b) = a − relu(a − b): exact
                    // in floats; quantized, only the ReLU's requantization rounds.
                    let (p, q) = if is_max { (b, acc) } else { (acc, b) };
                    let d = self.emit_step(
                        cx,
                        FOpKind::Sub,
                        vec![p, q],
                        shape.clone(),
                        Some(&format!("diff{i}")),
                    )?;
                    let r = self.emit_step(
                        cx,
                        FOpKind::Relu,
                        vec![d],
                        shape.clone(),
                        Some(&format!("relu{i}")),
                    )?;
                    let last = i + 1 == steps && bound.is_none();
                    let step = format!("step{i}");
                    let kind = if is_max { FOpKind::Add } else { FOpKind::Sub };
                    acc = self.emit_step(
                        cx,
                        kind,
                        vec![acc, r],
                        shape.clone(),
                        (!last).then_some(step.as_str()),
                    )?;
                }
                match bound {
                    Some(v) => {
                        let (min, max) = if is_max {
                            (v, f64::INFINITY)
                        } else {
                            (f64::NEG_INFINITY, v)
                        };
                        self.emit_step(cx, FOpKind::Clip { min, max }, vec![acc], shape, None)?;
                    }
                    None if steps == 0 => self.alias_output(cx, first),
                    None => {}
                }
            }
            _ => {
                let count = names.len() as f64;
                let ch = shape.get(1).copied().unwrap_or(1);
                let mut shift = match &c {
                    None => vec![0.0; ch],
                    Some(c) => {
                        per_channel(&collapse_uniform(c.clone(), &shape, self.batch), &shape)
                            .ok_or_else(|| not_per_channel(c))?
                    }
                };
                let mean = cx.op == "Mean";
                // a Mean of one input, without constants, is that input
                let affine = c.is_some() || (mean && names.len() > 1);
                let mut acc = first;
                for (i, &b) in acts[1..].iter().enumerate() {
                    let last = i + 2 == acts.len() && !affine;
                    let step = format!("sum{i}");
                    acc = self.emit_step(
                        cx,
                        FOpKind::Add,
                        vec![acc, b],
                        shape.clone(),
                        (!last).then_some(step.as_str()),
                    )?;
                }
                if affine {
                    let scale = if mean { 1.0 / count } else { 1.0 };
                    shift.iter_mut().for_each(|s| *s *= scale);
                    let kind = FOpKind::Affine {
                        scale: vec![scale; ch],
                        shift,
                    };
                    self.emit_step(cx, kind, vec![acc], shape, None)?;
                } else if acts.len() == 1 {
                    self.alias_output(cx, first);
                }
            }
        }
        Ok(())
    }

    /// ONNX Pow of an activation by a constant scalar exponent `p`: 1 is the
    /// identity, 2 an exact `x·x` (Mul), 0.5 Sqrt and −1 Reciprocal (their
    /// tables), any other `p` the `Pow(p)` table.
    pub(super) fn lower_pow(&mut self, cx: &NodeCx) -> Result<()> {
        let x = self.act_input(cx, 0).map_err(|_| {
            cx.bad("the base must be an activation (a constant base with an activation exponent is not supported)")
        })?;
        let xs = self.shape_of(x);
        let e = self
            .const_input(cx, 1)
            .map_err(|_| cx.bad("the exponent must be a constant"))?;
        let p = match e.data[..] {
            [p] if e.dims.len() <= xs.len() && p.is_finite() => p,
            _ => {
                return Err(cx.bad(format!(
                    "the exponent must be one finite constant value, got shape {:?}",
                    e.dims
                )))
            }
        };
        let kind = if p == 1.0 {
            self.alias_output(cx, x);
            return Ok(());
        } else if p == 2.0 {
            self.emit_step(cx, FOpKind::Mul, vec![x, x], xs, None)?;
            return Ok(());
        } else if p == 0.5 {
            UnaryFn::Sqrt
        } else if p == -1.0 {
            UnaryFn::Reciprocal
        } else {
            UnaryFn::Pow { p }
        };
        self.emit_step(cx, FOpKind::Unary(kind), vec![x], xs, None)?;
        Ok(())
    }

    /// `c / x` for a constant `c` (per channel, `v`) and an activation `x`:
    /// the Reciprocal table, then the scale `c` unless it is 1.
    pub(super) fn lower_const_div(&mut self, cx: &NodeCx, x: FId, v: Vec<f64>) -> Result<()> {
        let xs = self.shape_of(x);
        let recip = FOpKind::Unary(UnaryFn::Reciprocal);
        if v.iter().all(|&c| c == 1.0) {
            self.emit_step(cx, recip, vec![x], xs, None)?;
            return Ok(());
        }
        let r = self.emit_step(cx, recip, vec![x], xs.clone(), Some("reciprocal"))?;
        let shift = vec![0.0; v.len()];
        self.emit_step(cx, FOpKind::Affine { scale: v, shift }, vec![r], xs, None)?;
        Ok(())
    }

    /// `x·C`, `x / C`, `C / x` or `C − x` for a constant `C` of the whole
    /// sample's shape (`full`): `C` becomes a constant activation
    /// (`constant_like`, committed with the weights) and the product is the
    /// Hadamard sumcheck; `C − x` is `−x` (a Dense by `−I`) plus `C`.
    pub(super) fn whole_constant_op(
        &mut self,
        at: &Lowering,
        op: &str,
        const_first: bool,
        x: FId,
        full: Vec<f64>,
    ) -> std::result::Result<FId, String> {
        let shape = self.shape_of(x);
        match (op, const_first) {
            ("Mul", _) => {
                let c = self.constant_like(at, x, full);
                Ok(self.emit(at, "product", FOpKind::Mul, vec![x, c], shape))
            }
            ("Div", false) => {
                if full.contains(&0.0) {
                    return Err("division by a zero constant".into());
                }
                let inv = full.iter().map(|v| 1.0 / v).collect();
                let c = self.constant_like(at, x, inv);
                Ok(self.emit(at, "quotient", FOpKind::Mul, vec![x, c], shape))
            }
            ("Div", true) => {
                let r = self.unary(at, x, UnaryFn::Reciprocal, "reciprocal");
                let c = self.constant_like(at, r, full);
                Ok(self.emit(at, "quotient", FOpKind::Mul, vec![r, c], shape))
            }
            ("Sub", true) => {
                let n = self.negated(at, x);
                Ok(self.emit(
                    at,
                    "difference",
                    FOpKind::AddConst { c: full },
                    vec![n],
                    shape,
                ))
            }
            _ => Err(format!("{op} by a whole-tensor constant")),
        }
    }

    /// Folds a node that [`folds`] selects.
    pub(super) fn fold_lowered(&mut self, cx: &NodeCx) -> Result<()> {
        let c = self.fold_value(cx)?;
        self.consts.insert(cx.output().to_string(), c);
        Ok(())
    }

    fn fold_value(&self, cx: &NodeCx) -> Result<Const> {
        let scalar = |i: usize| -> Result<f64> {
            match self.const_input(cx, i)?.data[..] {
                [v] => Ok(v),
                _ => Err(cx.bad(format!("input #{i} must be a scalar"))),
            }
        };
        let limit = self.lowering_budget;
        let too_big = || {
            cx.bad(format!(
                "the result exceeds the {limit} elements a model file of this size may create"
            ))
        };
        match cx.op {
            "ConstantOfShape" => {
                let s = self.const_input(cx, 0)?;
                let dims: Vec<usize> = s
                    .data
                    .iter()
                    .map(|&d| (d >= 0.0 && d.fract() == 0.0).then_some(d as usize))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        cx.bad(format!("shape {:?} is not non-negative integers", s.data))
                    })?;
                let n = bounded_len(&dims, limit).ok_or_else(too_big)?;
                let value = match attr(cx.node, "value").and_then(|a| a.t.as_ref()) {
                    None => 0.0,
                    Some(t) => match decode_tensor(t)?.data[..] {
                        [v] => v,
                        _ => return Err(cx.bad("value must hold exactly one element")),
                    },
                };
                Ok(Const {
                    dims,
                    data: vec![value; n],
                })
            }
            "Range" => {
                let (start, stop, delta) = (scalar(0)?, scalar(1)?, scalar(2)?);
                if delta == 0.0 || !(start.is_finite() && stop.is_finite() && delta.is_finite()) {
                    return Err(cx.bad(format!(
                        "range ({start}, {stop}, {delta}) is not finite or has delta 0"
                    )));
                }
                let n = ((stop - start) / delta).ceil().max(0.0);
                if n > limit as f64 {
                    return Err(too_big());
                }
                let n = n as usize;
                Ok(Const {
                    dims: vec![n],
                    data: (0..n).map(|i| start + i as f64 * delta).collect(),
                })
            }
            "EyeLike" => {
                let c = self.const_input(cx, 0)?;
                let [rows, cols] = c.dims[..] else {
                    return Err(cx.bad(format!("input of shape {:?} is not 2-D", c.dims)));
                };
                let k = attr_i(cx.node, "k", 0) as i128;
                let data = (0..rows * cols)
                    .map(|i| f64::from(u8::from((i % cols) as i128 - (i / cols) as i128 == k)))
                    .collect();
                Ok(Const { dims: c.dims, data })
            }
            "Shape" => {
                let dims = self.const_input(cx, 0)?.dims;
                let r = dims.len() as i64;
                let norm = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                let start = norm(attr_i(cx.node, "start", 0));
                let end = norm(attr_i(cx.node, "end", r)).max(start);
                Ok(Const {
                    dims: vec![end - start],
                    data: dims[start..end].iter().map(|&d| d as f64).collect(),
                })
            }
            "Cast" => {
                let c = self.const_input(cx, 0)?;
                let to = attr_i(cx.node, "to", 0);
                let f: fn(f64) -> f64 = match to {
                    1 => |v| v as f32 as f64,
                    // (u)int8/16/32/64: toward zero, as numpy and onnxruntime do
                    2..=7 | 12 | 13 => f64::trunc,
                    9 => |v| f64::from(u8::from(v != 0.0)),
                    10 | 11 | 16 => |v| v,
                    _ => return Err(cx.bad(format!("cast of a constant to type {to}"))),
                };
                Ok(Const {
                    dims: c.dims,
                    data: c.data.into_iter().map(f).collect(),
                })
            }
            "Max" | "Min" | "Sum" | "Mean" | "Pow" => {
                let f: fn(f64, f64) -> f64 = match cx.op {
                    "Max" => f64::max,
                    "Min" => f64::min,
                    "Pow" => f64::powf,
                    _ => |a, b| a + b,
                };
                let ins: Vec<Const> = (0..cx.node.input.len())
                    .filter(|&i| cx.input(i).is_some())
                    .map(|i| self.const_input(cx, i))
                    .collect::<Result<_>>()?;
                let Some((first, rest)) = ins.split_first() else {
                    return Err(cx.bad("needs at least one input"));
                };
                let mut acc = first.clone();
                for c in rest {
                    acc = broadcast2(&acc, c, f, limit).ok_or_else(|| {
                        cx.bad("inputs do not broadcast together (or the result is too large)")
                    })?;
                }
                if cx.op == "Mean" {
                    let n = ins.len() as f64;
                    acc.data.iter_mut().for_each(|v| *v /= n);
                }
                Ok(acc)
            }
            _ => Err(cx.bad("cannot be folded")),
        }
    }
}

/// 1 or 2: the spatial axes of a `[1, C, L]` or `[1, C, H, W]` input.
pub(super) fn spatial_axes(cx: &NodeCx, xs: &[usize], what: &str) -> Result<usize> {
    match xs.len() {
        3 => Ok(1),
        4 => Ok(2),
        _ => Err(cx.bad(format!(
            "only 1-D (NCL) and 2-D (NCHW) {what} are supported, input is {xs:?}"
        ))),
    }
}

/// A window op's strides and `[top, left, bottom, right]` pads as 2-D (a 1-D
/// op is the 2-D one on a height-1 image), honouring `auto_pad`. `extent` is
/// the window's size on the input per spatial axis (dilated for a Conv), which
/// is what the SAME paddings centre.
fn window_geometry(
    cx: &NodeCx,
    spatial: &[usize],
    extent: &[usize],
) -> Result<([usize; 2], [usize; 4])> {
    let n = spatial.len();
    let s = attr_ints(cx.node, "strides").unwrap_or_else(|| vec![1; n]);
    let s = positive(&s)
        .filter(|s| s.len() == n)
        .ok_or_else(|| cx.bad(format!("strides {s:?} must be {n} positive values")))?;
    let auto = attr_s(cx.node, "auto_pad").unwrap_or_else(|| "NOTSET".into());
    let (begin, end): (Vec<usize>, Vec<usize>) = match auto.as_str() {
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
            (p[..n].to_vec(), p[n..].to_vec())
        }
        "VALID" => (vec![0; n], vec![0; n]),
        "SAME_UPPER" | "SAME_LOWER" => (0..n)
            .map(|a| {
                let out = spatial[a].div_ceil(s[a]);
                let total = (out.saturating_sub(1))
                    .saturating_mul(s[a])
                    .saturating_add(extent[a])
                    .saturating_sub(spatial[a]);
                let (small, big) = (total / 2, total - total / 2);
                if auto == "SAME_UPPER" {
                    (small, big)
                } else {
                    (big, small)
                }
            })
            .unzip(),
        other => return Err(cx.bad(format!("auto_pad={other} is not supported"))),
    };
    Ok(if n == 1 {
        ([1, s[0]], [0, begin[0], 0, end[0]])
    } else {
        ([s[0], s[1]], [begin[0], begin[1], end[0], end[1]])
    })
}

/// The dense `[OC, C, KH, KW]` kernel of a grouped, dilated one (`w`:
/// `[OC, C/group, kh, kw]`, dilations `d`): output channel `o` reads only its
/// group's input channels, tap `(ky, kx)` sits at `(ky·dh, kx·dw)`, and every
/// other entry is 0, so each output is the same sum of the same products.
pub(super) fn dense_kernel(
    w: &[f64],
    oc: usize,
    icg: usize,
    group: usize,
    k: [usize; 2],
    d: [usize; 2],
    limit: usize,
) -> std::result::Result<([usize; 4], Vec<f64>), String> {
    if oc == 0 || icg == 0 || k.contains(&0) {
        return Err(format!("empty kernel {:?}", [oc, icg, k[0], k[1]]));
    }
    if group == 1 && d == [1, 1] {
        return Ok(([oc, icg, k[0], k[1]], w.to_vec()));
    }
    let ext = |a: usize| (k[a] - 1).checked_mul(d[a])?.checked_add(1);
    let c = icg * group;
    let shape = match (ext(0), ext(1)) {
        (Some(kh), Some(kw)) => [oc, c, kh, kw],
        _ => return Err(format!("dilations {d:?} overflow")),
    };
    if bounded_len(&shape, limit).is_none() {
        return Err(format!(
            "the dense kernel {shape:?} of group {group}, dilations {d:?} exceeds the {limit} weights a model file of this size may create"
        ));
    }
    let [_, _, kh, kw] = shape;
    let per_group = oc / group;
    let mut dense = vec![0.0; oc * c * kh * kw];
    for o in 0..oc {
        let c0 = (o / per_group) * icg;
        for i in 0..icg {
            for ky in 0..k[0] {
                for kx in 0..k[1] {
                    let v = w[((o * icg + i) * k[0] + ky) * k[1] + kx];
                    dense[((o * c + c0 + i) * kh + ky * d[0]) * kw + kx * d[1]] = v;
                }
            }
        }
    }
    Ok((shape, dense))
}

/// A constant with exactly as many values as its dims say (what indexing it
/// by its dims assumes).
pub(super) fn holds_its_shape(c: &Const) -> bool {
    c.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) == Some(c.data.len())
}

/// `f(a, b)` elementwise with numpy broadcasting; `None` if the shapes do
/// not broadcast or the result exceeds `limit` elements.
fn broadcast2(a: &Const, b: &Const, f: impl Fn(f64, f64) -> f64, limit: usize) -> Option<Const> {
    if !(holds_its_shape(a) && holds_its_shape(b)) {
        return None;
    }
    let r = a.dims.len().max(b.dims.len());
    let lift = |d: &[usize]| [vec![1; r - d.len()], d.to_vec()].concat();
    let (da, db) = (lift(&a.dims), lift(&b.dims));
    let dims = da
        .iter()
        .zip(&db)
        .map(|(&x, &y)| match (x, y) {
            _ if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect::<Option<Vec<usize>>>()?;
    let n = bounded_len(&dims, limit)?;
    // row-major strides, 0 along a broadcast axis
    let strides = |d: &[usize]| {
        let mut s = vec![0; r];
        let mut acc = 1;
        for i in (0..r).rev() {
            s[i] = if d[i] == 1 { 0 } else { acc };
            acc *= d[i];
        }
        s
    };
    let (sa, sb) = (strides(&da), strides(&db));
    let mut idx = vec![0; r];
    let mut data = Vec::with_capacity(n);
    for _ in 0..n {
        let ia: usize = idx.iter().zip(&sa).map(|(i, s)| i * s).sum();
        let ib: usize = idx.iter().zip(&sb).map(|(i, s)| i * s).sum();
        data.push(f(a.data[ia], b.data[ib]));
        for ax in (0..r).rev() {
            idx[ax] += 1;
            if idx[ax] < dims[ax] {
                break;
            }
            idx[ax] = 0;
        }
    }
    Some(Const { dims, data })
}

/// The value of a constant whose entries are all equal and which broadcasts
/// into the activation `shape` without growing it (its leading axis may be
/// the statement's batch size: `ConstantOfShape(Shape(x))` of a fixed batch).
pub(super) fn uniform_value(c: &Const, shape: &[usize], batch: usize) -> Option<f64> {
    let v = *c.data.first()?;
    if c.data.iter().any(|&u| u != v) || c.dims.len() > shape.len() {
        return None;
    }
    let off = shape.len() - c.dims.len();
    let fits = c.dims.iter().enumerate().all(|(i, &d)| {
        let a = i + off;
        d == 1 || d == shape[a] || (a == 0 && d == batch)
    });
    fits.then_some(v)
}

/// A constant of one repeated value that broadcasts into `shape` (as
/// [`uniform_value`]) as that scalar, which broadcasts per channel; any other
/// constant unchanged.
pub(super) fn collapse_uniform(c: Const, shape: &[usize], batch: usize) -> Const {
    match uniform_value(&c, shape, batch) {
        Some(v) => Const {
            dims: vec![],
            data: vec![v],
        },
        None => c,
    }
}

/// Per-channel affines (BatchNorm, constant Add/Mul, Mean's scale) on a 1-D
/// activation `[1, C, L]`, which the quantizer only knows on images: after a
/// lowered 1-D Conv (the Reshape of its `[1, C, 1, L]` output, read by the
/// affine alone) the affine moves before that Reshape, where the import folds
/// it into the Conv like a 2-D BatchNorm; any other runs on `[1, C, 1, L]`
/// between two Reshapes.
pub(super) fn lift_rank3_affines(m: &mut FloatModel) {
    let mut i = 0;
    while i < m.ops.len() {
        let op = &m.ops[i];
        let x = op.inputs[0];
        let xs = m.tensors[x].shape.clone();
        if !matches!(op.kind, FOpKind::Affine { .. }) || xs.len() != 3 {
            i += 1;
            continue;
        }
        let s4 = vec![1, xs[1], 1, xs[2]];
        let y = op.output;
        let a4 = m.tensors.len();
        m.tensors.push(FTensor {
            name: format!("{}/as_2d", m.tensors[y].name),
            shape: s4.clone(),
        });
        let p = m.producer(x).filter(|&p| {
            matches!(m.ops[p].kind, FOpKind::Reshape)
                && m.num_consumers(x) == 1
                && m.tensors[m.ops[p].inputs[0]].shape == s4
        });
        if let Some(p) = p {
            // x4 → Reshape → x → Affine → y   becomes   x4 → Affine → a4 → Reshape → y
            let x4 = m.ops[p].inputs[0];
            (m.ops[i].inputs[0], m.ops[i].output) = (x4, a4);
            (m.ops[p].inputs[0], m.ops[p].output) = (a4, y);
            m.ops.swap(p, i);
            i += 1;
            continue;
        }
        let x4 = m.tensors.len();
        m.tensors.push(FTensor {
            name: format!("{}/as_2d", m.tensors[x].name),
            shape: s4,
        });
        let reshape = |input, output| FOp {
            kind: FOpKind::Reshape,
            inputs: vec![input],
            output,
            node: m.ops[i].node.clone(),
            op_type: m.ops[i].op_type.clone(),
        };
        let (before, after) = (reshape(x, x4), reshape(a4, y));
        (m.ops[i].inputs[0], m.ops[i].output) = (x4, a4);
        m.ops.insert(i + 1, after);
        m.ops.insert(i, before);
        i += 3;
    }
}

/// The float domain `[lo, hi]` of the `Pow(p)` table. Integer `p ≥ 0`: any.
/// Fractional `p > 0`: `x ≥ 0`, as Sqrt (ONNX gives NaN below 0; the table
/// gives `0^p = 0` there, saturating). Negative `p`: singular at 0, so the
/// calibrated range `[m0, m1]` must stay away from 0, as for Reciprocal, and
/// be positive when `p` is fractional, as for Log.
pub(crate) fn pow_domain(
    p: f64,
    (lo, hi): (f64, f64),
    (m0, m1): (f64, f64),
    margin: f64,
) -> std::result::Result<(f64, f64), String> {
    let fractional = p.fract() != 0.0;
    if p >= 0.0 {
        return Ok(if fractional {
            (lo.max(0.0), hi)
        } else {
            (lo, hi)
        });
    }
    if m0 <= 0.0 && m1 >= 0.0 {
        return Err(format!(
            "the input's calibrated range [{m0}, {m1}] reaches 0, where pow(x, {p}) is singular; \
             a table needs an input bounded away from 0"
        ));
    }
    if m0 > 0.0 {
        Ok((lo.max(m0 / margin), hi))
    } else if fractional {
        Err(format!(
            "the input's calibrated range [{m0}, {m1}] is negative: pow(x, {p}) is undefined"
        ))
    } else {
        Ok((lo, hi.min(m1 / margin)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(dims: &[usize], data: &[f64]) -> Const {
        Const {
            dims: dims.to_vec(),
            data: data.to_vec(),
        }
    }

    /// An importer whose activation `x` has `shape`, with the given constants.
    fn importer(shape: &[usize], consts: &[(&str, Const)]) -> Importer {
        let mut imp = Importer {
            opset: 17,
            batch: 1,
            graph_outputs: vec!["y".into()],
            lowering_budget: budget(1000),
            relaid: HashMap::new(),
            consts: consts
                .iter()
                .map(|(n, c)| (n.to_string(), c.clone()))
                .collect(),
            values: HashMap::new(),
            tensors: vec![],
            ops: vec![],
            one_hot: HashMap::new(),
            masked: HashMap::new(),
        };
        imp.new_tensor("x", shape.to_vec());
        imp
    }

    enum A {
        I(i64),
        Ints(&'static [i64]),
        T(f32),
    }

    fn node(op: &str, inputs: &[&str], attrs: &[(&str, A)]) -> pb::NodeProto {
        let attribute = attrs
            .iter()
            .map(|(name, a)| {
                let mut p = pb::AttributeProto {
                    name: name.to_string(),
                    ..Default::default()
                };
                match a {
                    A::I(i) => p.i = *i,
                    A::Ints(v) => p.ints = v.to_vec(),
                    A::T(v) => {
                        p.t = Some(pb::TensorProto {
                            dims: vec![1],
                            data_type: 1,
                            float_data: vec![*v],
                            ..Default::default()
                        })
                    }
                }
                p
            })
            .collect();
        pb::NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec!["y".into()],
            name: format!("{op}_node"),
            op_type: op.into(),
            attribute,
            ..Default::default()
        }
    }

    /// Imports one node; the folded constant `y`, or the error's text.
    fn folded(imp: &mut Importer, n: &pb::NodeProto) -> std::result::Result<Const, String> {
        imp.node(0, n).map_err(|e| e.to_string())?;
        imp.consts
            .get("y")
            .cloned()
            .ok_or_else(|| "not folded".into())
    }

    #[test]
    fn folds_constant_of_shape_range_eye_like_shape_and_cast() {
        let mut imp = importer(
            &[1, 2],
            &[
                ("shape", c(&[2], &[2.0, 3.0])),
                ("r", c(&[], &[1.0])),
                ("lim", c(&[], &[2.0])),
                ("neg", c(&[], &[-0.5])),
                ("sq", c(&[2, 3], &[7.0; 6])),
                ("f", c(&[4], &[2.7, -2.7, 0.0, 1e-3])),
            ],
        );
        let zeros = folded(&mut imp, &node("ConstantOfShape", &["shape"], &[])).unwrap();
        assert_eq!((zeros.dims, zeros.data), (vec![2, 3], vec![0.0; 6]));
        let v = node("ConstantOfShape", &["shape"], &[("value", A::T(1.5))]);
        assert_eq!(folded(&mut imp, &v).unwrap().data, [1.5; 6]);
        // Range(1, 2, -0.5) is empty; Range(2, 1, -0.5) = [2, 1.5]
        assert!(folded(&mut imp, &node("Range", &["r", "lim", "neg"], &[]))
            .unwrap()
            .data
            .is_empty());
        let r = folded(&mut imp, &node("Range", &["lim", "r", "neg"], &[])).unwrap();
        assert_eq!((r.dims, r.data), (vec![2], vec![2.0, 1.5]));
        let eye = folded(&mut imp, &node("EyeLike", &["sq"], &[("k", A::I(1))])).unwrap();
        assert_eq!(eye.data, [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let sh = folded(&mut imp, &node("Shape", &["sq"], &[("start", A::I(-1))])).unwrap();
        assert_eq!((sh.dims, sh.data), (vec![1], vec![3.0]));
        let to_int = folded(&mut imp, &node("Cast", &["f"], &[("to", A::I(7))])).unwrap();
        assert_eq!(to_int.data, [2.0, -2.0, 0.0, 0.0]);
        let to_bool = folded(&mut imp, &node("Cast", &["f"], &[("to", A::I(9))])).unwrap();
        assert_eq!(to_bool.data, [1.0, 1.0, 0.0, 1.0]);
        let mean = folded(&mut imp, &node("Mean", &["shape", "r"], &[])).unwrap();
        assert_eq!(mean.data, [1.5, 2.0]);
        let pow = folded(&mut imp, &node("Pow", &["shape", "lim"], &[])).unwrap();
        assert_eq!(pow.data, [4.0, 9.0]);
        for (n, want) in [
            (node("Range", &["r", "lim", "f"], &[]), "must be a scalar"),
            (
                node("Range", &["r", "lim", "zero"], &[]),
                "must be a constant",
            ),
            (node("EyeLike", &["shape"], &[]), "not 2-D"),
            (
                node("ConstantOfShape", &["f"], &[]),
                "not non-negative integers",
            ),
            (node("Max", &["shape", "sq"], &[]), "do not broadcast"),
        ] {
            let err = folded(&mut imp, &n).unwrap_err();
            assert!(err.contains(want) && err.contains("_node"), "{err}");
        }
        let huge = importer(&[1, 2], &[("s", c(&[3], &[1e4; 3]))]);
        let err = folded(&mut { huge }, &node("ConstantOfShape", &["s"], &[])).unwrap_err();
        assert!(err.contains("exceeds"), "{err}");
    }

    #[test]
    fn lowerings_build_the_expected_float_ops() {
        let kinds = |imp: &Importer| -> Vec<String> {
            imp.ops
                .iter()
                .map(|o| {
                    format!("{:?}", o.kind)
                        .split([' ', '(', '{'])
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect()
        };
        let w = c(&[4, 1, 3], &[0.5; 12]);
        let mut imp = importer(&[1, 2, 10], &[("w", w), ("e", c(&[], &[3.0]))]);
        imp.node(
            0,
            &node(
                "Conv",
                &["x", "w"],
                &[
                    ("group", A::I(2)),
                    ("dilations", A::Ints(&[2])),
                    ("strides", A::Ints(&[2])),
                ],
            ),
        )
        .unwrap();
        assert_eq!(kinds(&imp), ["Reshape", "Conv", "Reshape"]);
        let FOpKind::Conv {
            kernel_shape,
            strides,
            ..
        } = &imp.ops[1].kind
        else {
            unreachable!()
        };
        assert_eq!((*kernel_shape, *strides), ([4, 2, 1, 5], [1, 2]));
        assert_eq!(imp.tensors[imp.values["y"]].shape, [1, 4, 3]);

        let mut imp = importer(
            &[1, 3],
            &[("lo", c(&[1, 1], &[0.5])), ("e", c(&[1], &[3.0]))],
        );
        imp.values.insert("x2".into(), 0);
        imp.node(0, &node("Max", &["x", "x2", "lo"], &[])).unwrap();
        assert_eq!(kinds(&imp), ["Sub", "Relu", "Add", "Clip"]);
        imp.node(1, &node("Pow", &["x", "e"], &[])).unwrap();
        assert!(matches!(imp.ops[4].kind, FOpKind::Unary(UnaryFn::Pow { p }) if p == 3.0));

        for (n, shape, want) in [
            (
                node("Conv", &["x", "w"], &[]),
                vec![1, 1, 2, 2, 2],
                "does not fit a 3-D convolution",
            ),
            (
                node("Conv", &["x", "w"], &[("group", A::I(3))]),
                vec![1, 2, 10],
                "group 3",
            ),
            (
                node(
                    "MaxPool",
                    &["x"],
                    &[
                        ("kernel_shape", A::Ints(&[2])),
                        ("dilations", A::Ints(&[2])),
                    ],
                ),
                vec![1, 2, 10],
                "dilation",
            ),
            (
                node(
                    "LpPool",
                    &["x"],
                    &[("kernel_shape", A::Ints(&[3])), ("p", A::I(3))],
                ),
                vec![1, 2, 10],
                "p = 3",
            ),
            (
                node(
                    "MaxPool",
                    &["x"],
                    &[("kernel_shape", A::Ints(&[2])), ("pads", A::Ints(&[2, 0]))],
                ),
                vec![1, 2, 10],
                "smaller than the kernel",
            ),
            (
                node("Pow", &["x", "x"], &[]),
                vec![1, 2],
                "exponent must be a constant",
            ),
            (
                node("Pow", &["x", "w"], &[]),
                vec![1, 2],
                "one finite constant value",
            ),
            (
                node("Max", &["x", "w"], &[]),
                vec![1, 2],
                "does not broadcast",
            ),
            (node("Sum", &["x", "x3"], &[]), vec![1, 2], "equal shapes"),
        ] {
            let mut imp = importer(&shape, &[("w", c(&[4, 1, 3], &[0.5; 12]))]);
            imp.new_tensor("x3", vec![1, 3]);
            let err = imp.node(7, &n).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("position 7"), "{err}");
        }
    }

    #[test]
    fn dense_kernel_of_a_depthwise_dilated_kernel() {
        // 2 groups, 2 output channels per group, 1 input channel each, k = [1, 2], d = [1, 3]
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let big = MAX_LOWERED_ELEMENTS;
        let (shape, dense) = dense_kernel(&w, 4, 1, 2, [1, 2], [1, 3], big).unwrap();
        assert_eq!(shape, [4, 2, 1, 4]);
        let row = |o: usize, ch: usize| &dense[(o * 2 + ch) * 4..(o * 2 + ch + 1) * 4];
        assert_eq!(row(0, 0), [1.0, 0.0, 0.0, 2.0]);
        assert_eq!(row(0, 1), [0.0; 4]);
        assert_eq!(row(1, 0), [3.0, 0.0, 0.0, 4.0]);
        assert_eq!(row(2, 0), [0.0; 4]);
        assert_eq!(row(2, 1), [5.0, 0.0, 0.0, 6.0]);
        assert_eq!(row(3, 1), [7.0, 0.0, 0.0, 8.0]);
        assert!(dense_kernel(&w, 4, 1, 2, [1, 2], [1, usize::MAX], big).is_err());
        assert!(dense_kernel(&[0.0; 4], 1, 1, 1, [2, 2], [1 << 13, 1 << 13], big).is_err());
        assert!(dense_kernel(&w, 4, 1, 2, [1, 2], [1, 3], 31).is_err());
    }

    #[test]
    fn broadcasting_and_uniform_constants() {
        let a = c(&[2, 1], &[1.0, 2.0]);
        let b = c(&[3], &[10.0, 20.0, 30.0]);
        let s = broadcast2(&a, &b, |x, y| x + y, 6).unwrap();
        assert_eq!(s.dims, [2, 3]);
        assert_eq!(s.data, [11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
        assert!(broadcast2(&c(&[2], &[0.0; 2]), &b, f64::max, 6).is_none());
        assert!(broadcast2(&a, &b, f64::max, 5).is_none());
        assert_eq!(budget(1000), 4000 + (1 << 16));
        assert_eq!(budget(usize::MAX), MAX_LOWERED_ELEMENTS);
        let z = c(&[3, 4, 5, 5], &[0.5; 300]);
        assert_eq!(uniform_value(&z, &[1, 4, 5, 5], 3), Some(0.5));
        assert_eq!(uniform_value(&z, &[1, 4, 5, 5], 1), None);
        assert_eq!(
            uniform_value(&c(&[1, 4, 6, 5], &[0.5; 120]), &[1, 4, 5, 5], 1),
            None
        );
        assert_eq!(uniform_value(&c(&[2], &[0.5, 0.6]), &[1, 2], 1), None);
    }

    #[test]
    fn pow_domains() {
        let r = (-2.0, 2.0);
        assert_eq!(pow_domain(3.0, r, (-1.0, 1.0), 2.0), Ok(r));
        assert_eq!(pow_domain(1.5, r, (-1.0, 1.0), 2.0), Ok((0.0, 2.0)));
        assert!(pow_domain(-2.0, r, (-1.0, 1.0), 2.0).is_err());
        assert_eq!(
            pow_domain(-2.0, (0.1, 3.0), (0.5, 1.5), 2.0),
            Ok((0.25, 3.0))
        );
        assert_eq!(
            pow_domain(-1.0, (-3.0, -0.1), (-1.5, -0.5), 2.0),
            Ok((-3.0, -0.25))
        );
        assert!(pow_domain(-0.5, (-3.0, -0.1), (-1.5, -0.5), 2.0).is_err());
    }
}

//! Float graph + calibration → [`QuantModel`].
//!
//! Scheme (all scales are arbitrary positive reals, not powers of two):
//! * weights: symmetric per-tensor, `w_q = round(w / s_w)`, `s_w = max|w| / (2^(weight_bits-1) - 1)`;
//! * linear layers (Dense / Conv2d) write an exact accumulator at scale `s_in·s_w`, bias
//!   `round(b / (s_in·s_w))` as i64; no rounding happens inside a layer;
//! * activations are requantized only where needed: before a linear layer, at a ReLU /
//!   Clip (clamp fused into the Requant), before a Lut. Clamped activation ranges come
//!   from calibration: `r = margin · max|x|` over the calibration set; a tensor proven
//!   non-negative (ReLU, sigmoid, Clip(min ≥ 0), pools/reshapes of those) uses
//!   `[0, 2^act_bits - 1]`, any other `[-(2^(act_bits-1) - 1), 2^(act_bits-1) - 1]`;
//! * Sigmoid/Tanh: Requant to a `2^lut_bits`-entry domain covering `[-r, r)` with
//!   `r = clamp(margin·max|x|, cap/4, cap)` (cap 8 for sigmoid, 4 for tanh), then a Lut;
//! * LeakyRelu: Requant to the signed activation range, then a Lut (`v` or `round(α v)`);
//! * other unary functions (Exp, Log, Erf, Gelu, …, [`UnaryFn`]): Requant onto a domain of
//!   `2^max(act_bits, lut_bits)` consecutive integers (at most 2^15) covering the calibrated
//!   input range widened by the margin (restricted per function: see [`Q::unary`]), then a
//!   Lut to a 16-bit output at scale `max|f| / (2^15 − 1)` over the domain (scale 1 for
//!   integer-valued Sign/Floor/Ceil/Round, the domain's scale for Abs/Neg: exact);
//! * residual Add: `y = a·a_mul + b·b_mul` at scale `min(s_a, s_b)/256` (exact when the
//!   ratio of scales is an integer);
//! * MaxPool keeps scale; AveragePool is a SumPool whose output scale is `s_in / k`
//!   (exact average, no rounding);
//! * Softmax (final op only) is NOT in the integer graph: see [`QuantModel::output_softmax`];
//! * a Requant's (multiplier, shift) approximates `s_in / s_out` with a 16-bit multiplier
//!   in `[2^15, 2^16)` (≥ 15 bits of precision) whenever the shift limit allows.

use crate::error::{ModelError, Result};
use crate::float::{FId, FOp, FOpKind, FloatModel, InputElem};
use crate::ir::*;
use crate::unary::UnaryFn;

#[derive(Clone, Debug, PartialEq)]
pub struct QuantConfig {
    /// Weight bits (symmetric): 14 → weights in [-8191, 8191].
    pub weight_bits: u32,
    /// Activation bits: 13 → [-4096, 4095] signed, [0, 8191] non-negative.
    pub act_bits: u32,
    /// Calibrated ranges are widened by this factor so unseen inputs rarely saturate.
    pub margin: f64,
    /// Sigmoid/Tanh lookup tables have 2^lut_bits entries.
    pub lut_bits: u32,
    /// Input bits (the input is not rescaled by any layer, so clipping it loses
    /// information for good: it gets more bits and a wider margin than activations).
    pub input_bits: u32,
    /// Range factor for the input: `r = input_margin · max|x|` over the calibration set.
    pub input_margin: f64,
}

impl Default for QuantConfig {
    fn default() -> Self {
        QuantConfig {
            // Weights and input cost the prover nothing per bit; activations cost
            // clamp-table rows (2^act_bits). 14/13/14 keeps MNIST-size models'
            // output error ≈ 4e-4 at about 15 ms over int8.
            weight_bits: 14,
            act_bits: 13,
            margin: 2.0,
            lut_bits: 10,
            input_bits: 14,
            input_margin: 4.0,
        }
    }
}

/// Per-tensor min/max over the calibration set.
#[derive(Clone, Debug)]
pub struct CalibStats {
    pub min: Vec<f64>,
    pub max: Vec<f64>,
}

impl CalibStats {
    pub fn collect(fm: &FloatModel, samples: &[Vec<f64>]) -> Result<CalibStats> {
        if samples.is_empty() {
            return Err(ModelError::Quantize(
                "calibration needs at least one sample".into(),
            ));
        }
        let n = fm.tensors.len();
        let mut st = CalibStats {
            min: vec![f64::INFINITY; n],
            max: vec![f64::NEG_INFINITY; n],
        };
        for s in samples {
            let vals = fm.evaluate_all(s)?;
            for (t, v) in vals.iter().enumerate() {
                for &x in v {
                    st.min[t] = st.min[t].min(x);
                    st.max[t] = st.max[t].max(x);
                }
            }
        }
        Ok(st)
    }
    fn absmax(&self, t: FId) -> f64 {
        let a = self.min[t].abs().max(self.max[t].abs());
        if a.is_finite() {
            a
        } else {
            0.0
        }
    }
}

/// Approximates a positive real `m` by `multiplier / 2^shift` (multiplier < 2^16, shift ≤ 36),
/// keeping `in_bound·multiplier + 2^shift < 2^62`.
pub fn approx_multiplier(m: f64, in_bound: i64) -> Result<(i64, u32)> {
    if !(m.is_finite() && m > 0.0) {
        return Err(ModelError::Quantize(format!("invalid rescale factor {m}")));
    }
    let mut best = None;
    for s in (0..=MAX_REQUANT_SHIFT).rev() {
        let v = (m * (2f64).powi(s as i32)).round();
        if v < MAX_REQUANT_MULTIPLIER as f64 {
            best = Some(((v as i64).max(1), s));
            break;
        }
    }
    let (mut mult, mut shift) = best.ok_or_else(|| {
        ModelError::Quantize(format!("rescale factor {m} ≥ 2^16 cannot be represented"))
    })?;
    while (in_bound as i128) * mult as i128 + (1i128 << shift) >= VALUE_BOUND as i128 {
        if shift == 0 {
            return Err(ModelError::Quantize("requant input bound too large".into()));
        }
        shift -= 1;
        mult = ((m * (2f64).powi(shift as i32)).round() as i64).max(1);
    }
    Ok((mult, shift))
}

struct Q<'a> {
    fm: &'a FloatModel,
    st: &'a CalibStats,
    cfg: &'a QuantConfig,
    tensors: Vec<TensorInfo>,
    ops: Vec<QOp>,
    map: Vec<Option<TensorId>>,
    nonneg: Vec<bool>,
}

const SMALL: i64 = 1 << 16;

fn levels(bits: u32) -> i64 {
    (1i64 << (bits - 1)) - 1
}

impl<'a> Q<'a> {
    fn add_tensor(
        &mut self,
        name: &str,
        fshape: &[usize],
        scale: f64,
        bound: i64,
    ) -> Result<TensorId> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(ModelError::Quantize(format!(
                "tensor `{name}` got invalid scale {scale}"
            )));
        }
        if !(0..VALUE_BOUND).contains(&bound) {
            return Err(ModelError::Quantize(format!(
                "tensor `{name}` bound {bound} reaches 2^62"
            )));
        }
        self.tensors.push(TensorInfo {
            name: name.to_string(),
            shape: fshape[1..].to_vec(),
            scale,
            bound,
        });
        Ok(self.tensors.len() - 1)
    }

    fn q(&self, f: FId) -> TensorId {
        self.map[f].expect("topological order")
    }

    /// Calibrated range of a float tensor, widened by the margin.
    fn range(&self, f: FId) -> f64 {
        let r = self.st.absmax(f) * self.cfg.margin;
        if r > 1e-12 {
            r
        } else {
            1.0
        }
    }

    /// (scale, min, max) of the clamped activation representing float tensor `f`.
    fn act_params(&self, f: FId, r: f64) -> (f64, i64, i64) {
        let s = levels(self.cfg.act_bits);
        // Both ranges are exactly 2^act_bits wide: the prover range-checks
        // such a clamp in two half-width limbs instead of one 2^act_bits table.
        if self.nonneg[f] {
            let u = 2 * s + 1;
            (r / u as f64, 0, u)
        } else {
            (r / s as f64, -s - 1, s)
        }
    }

    fn requant(
        &mut self,
        src: TensorId,
        scale_out: f64,
        min: i64,
        max: i64,
        name: &str,
        fshape: &[usize],
    ) -> Result<TensorId> {
        let (multiplier, shift) =
            approx_multiplier(self.tensors[src].scale / scale_out, self.tensors[src].bound)?;
        let out = self.add_tensor(name, fshape, scale_out, min.abs().max(max.abs()))?;
        self.ops.push(QOp::Requant {
            input: src,
            output: out,
            multiplier,
            shift,
            min,
            max,
        });
        Ok(out)
    }

    /// The quantized version of `f`, requantized to a clamped activation if it is an
    /// unbounded accumulator.
    fn ensure_small(&mut self, f: FId) -> Result<TensorId> {
        let q = self.q(f);
        if self.tensors[q].bound <= SMALL {
            return Ok(q);
        }
        let (s, lo, hi) = self.act_params(f, self.range(f));
        let name = format!("{}/requant", self.fm.tensors[f].name);
        let shape = self.fm.tensors[f].shape.clone();
        let out = self.requant(q, s, lo, hi, &name, &shape)?;
        self.map[f] = Some(out);
        Ok(out)
    }

    /// Weights at scale `max|w| / levels`; or at scale 1 when they are
    /// small integers applied to a 0/1 tensor (`exact_ints`: a count, a
    /// tree's path test, the index of a one-hot), so that the result is an
    /// exact integer at scale 1.
    fn quant_weights(&self, w: &[f64], exact_ints: bool) -> (Vec<i64>, f64) {
        let wmax = w.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let l = levels(self.cfg.weight_bits) as f64;
        let ints = exact_ints && wmax <= l && w.iter().all(|v| v.fract() == 0.0);
        let sw = if ints {
            1.0
        } else if wmax > 0.0 {
            wmax / l
        } else {
            1.0
        };
        (w.iter().map(|v| (v / sw).round() as i64).collect(), sw)
    }

    fn quant_bias(&self, b: &[f64], s: f64, name: &str) -> Result<Vec<i64>> {
        b.iter()
            .map(|v| {
                let q = (v / s).round();
                if q.abs() >= 2f64.powi(52) {
                    Err(ModelError::Quantize(format!(
                        "bias of `{name}` does not fit at scale {s:e}"
                    )))
                } else {
                    Ok(q as i64)
                }
            })
            .collect()
    }

    fn linear(
        &mut self,
        op: &FOp,
        w: &[f64],
        b: &[f64],
        conv: Option<([usize; 4], [usize; 2], [usize; 4])>,
    ) -> Result<()> {
        let x = op.inputs[0];
        // A sum of unscaled terms (a depthwise Conv's weighed taps) adds its
        // input exactly, at the input's scale: no rounding of every term
        // first, and none of their lookups.
        let in_dim = w.len() / b.len().max(1);
        let exact_sum = conv.is_none()
            && w.iter().all(|&v| v == 1.0)
            && b.iter().all(|&v| v == 0.0)
            && (self.tensors[self.q(x)].bound as i128) * (in_dim as i128) < VALUE_BOUND as i128;
        let qx = if exact_sum {
            self.q(x)
        } else {
            self.ensure_small(x)?
        };
        let (sx, bx) = (self.tensors[qx].scale, self.tensors[qx].bound as i128);
        let (wq, sw) = self.quant_weights(w, exact_sum || (sx == 1.0 && bx <= 1));
        let s_acc = sx * sw;
        let oname = self.fm.tensors[op.output].name.clone();
        let bq = self.quant_bias(b, s_acc, &oname)?;
        let oc = b.len();
        let per = wq.len() / oc;
        let bound = (0..oc)
            .map(|o| {
                wq[o * per..(o + 1) * per]
                    .iter()
                    .map(|v| v.unsigned_abs() as i128)
                    .sum::<i128>()
                    * bx
                    + bq[o].unsigned_abs() as i128
            })
            .max()
            .unwrap_or(0);
        if bound >= VALUE_BOUND as i128 {
            return Err(ModelError::Quantize(format!(
                "accumulator of `{oname}` may reach 2^62"
            )));
        }
        let shape = self.fm.tensors[op.output].shape.clone();
        let out = self.add_tensor(&oname, &shape, s_acc, bound as i64)?;
        self.ops.push(match conv {
            None => QOp::Dense {
                input: qx,
                output: out,
                in_dim: per,
                out_dim: oc,
                weight: wq.into(),
                bias: bq,
            },
            Some((kernel_shape, strides, pads)) => QOp::Conv2d {
                input: qx,
                output: out,
                kernel_shape,
                weight: wq.into(),
                bias: bq,
                strides,
                pads,
            },
        });
        self.map[op.output] = Some(out);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn lut(
        &mut self,
        op: &FOp,
        func: &str,
        dom_scale: f64,
        half: i64,
        out_scale: f64,
        out_bound: i64,
        f: impl Fn(i64) -> i64,
    ) -> Result<()> {
        let x = op.inputs[0];
        let qx = self.q(x);
        let shape = self.fm.tensors[op.output].shape.clone();
        let dname = format!("{}/{func}_in", self.fm.tensors[op.output].name);
        let d = self.requant(qx, dom_scale, -half, half - 1, &dname, &shape)?;
        let table: Vec<i64> = (-half..half).map(f).collect();
        let oname = self.fm.tensors[op.output].name.clone();
        let out = self.add_tensor(&oname, &shape, out_scale, out_bound)?;
        self.ops.push(QOp::Lut {
            input: d,
            output: out,
            in_min: -half,
            table,
            func: func.to_string(),
        });
        self.map[op.output] = Some(out);
        Ok(())
    }

    /// A unary function as Requant + Lut. The float domain `[lo, hi]` is the calibrated
    /// input range `[m0, m1]` widened by the margin about its centre, cut to `x ≥ 0` when the
    /// input is non-negative, and per function: Exp keeps `[hi − ln 2^16, m1 + ln 4]` (below,
    /// e^x is under one output unit; above, 4× the largest calibrated output), Log and
    /// Reciprocal keep `x ≥ min/margin` of a calibrated range that must not reach or cross 0,
    /// Sqrt keeps `x ≥ 0`. Its grid step `ds` makes the domain `2^b` integers `[in_min,
    /// in_min + 2^b)` inside the clamp limits `[−2^15, 2^15)` (a range far from 0 is
    /// widened towards 0 to fit). Error bound: `sup|f'|·ds/2 + s_out/2` inside the domain.
    fn unary(&mut self, op: &FOp, f: UnaryFn) -> Result<()> {
        let x = op.inputs[0];
        let refuse = |reason: String| ModelError::UnsupportedAttr {
            op: op.op_type.clone(),
            node: op.node.clone(),
            index: 0,
            reason,
        };
        let (m0, m1) = (self.st.min[x], self.st.max[x]);
        if !(m0.is_finite() && m1.is_finite()) {
            return Err(refuse(format!(
                "the input's calibrated range [{m0}, {m1}] is not finite"
            )));
        }
        let margin = self.cfg.margin;
        let c = 0.5 * (m0 + m1);
        let h = (0.5 * (m1 - m0))
            .max(1e-3 * m0.abs().max(m1.abs()))
            .max(1e-6);
        let (mut lo, mut hi) = (c - margin * h, c + margin * h);
        if self.nonneg[x] {
            lo = lo.max(0.0);
        }
        match f {
            UnaryFn::Exp => {
                hi = hi.min(m1 + 4f64.ln());
                lo = lo.max(hi - 16.0 * 2f64.ln());
            }
            UnaryFn::Log | UnaryFn::Reciprocal => {
                if m0 <= 0.0 && m1 >= 0.0 {
                    return Err(refuse(format!(
                        "the input's calibrated range [{m0}, {m1}] reaches 0, where {} is singular; \
                         a table needs an input bounded away from 0",
                        f.name()
                    )));
                }
                if m0 > 0.0 {
                    lo = lo.max(m0 / margin);
                } else if matches!(f, UnaryFn::Log) {
                    return Err(refuse(format!(
                        "the input's calibrated range [{m0}, {m1}] is negative: Log is undefined"
                    )));
                } else {
                    hi = hi.min(m1 / margin);
                }
            }
            UnaryFn::Sqrt => lo = lo.max(0.0),
            UnaryFn::Asin | UnaryFn::Acos | UnaryFn::Acosh | UnaryFn::Atanh | UnaryFn::Tan => {
                (lo, hi) = bounded_domain(f, (lo, hi), (m0, m1)).map_err(refuse)?
            }
            // Exponential growth on both sides: as Exp, up to 4× the largest calibrated output.
            UnaryFn::Sinh | UnaryFn::Cosh => {
                lo = lo.max(m0.min(0.0) - 4f64.ln());
                hi = hi.min(m1.max(0.0) + 4f64.ln());
            }
            // A comparison with 0 needs 0 inside the domain, with room on
            // both sides: clamping then keeps every value's sign.
            UnaryFn::Compare(_) => {
                lo = lo.min(-h);
                hi = hi.max(h);
            }
            UnaryFn::Pow { p } => {
                (lo, hi) = crate::onnx_import::lowering::pow_domain(p, (lo, hi), (m0, m1), margin)
                    .map_err(refuse)?
            }
            _ => {}
        }
        if hi <= lo {
            hi = lo + 1e-6 * lo.abs().max(1.0);
        }
        let bits = self.cfg.act_bits.max(self.cfg.lut_bits).min(15);
        let n = 1i64 << bits;
        let top = (1i64 << (CLAMP_BITS - 1)) - 1;
        let ds = ((hi - lo) / (n - 1) as f64).max(lo.abs().max(hi.abs()) / (top - 1) as f64);
        let mut in_min = if hi < 0.0 {
            (hi / ds).ceil() as i64 - (n - 1)
        } else {
            (lo / ds).floor() as i64
        };
        in_min = in_min.clamp(-top - 1, top - (n - 1));
        if lo > 0.0 {
            in_min = in_min.max(1);
        }
        if hi < 0.0 {
            in_min = in_min.min(-n);
        }
        let fv: Vec<f64> = (in_min..in_min + n)
            .map(|v| f.eval(v as f64 * ds))
            .collect();
        if let Some(i) = fv.iter().position(|v| !v.is_finite()) {
            return Err(refuse(format!(
                "{} is not finite at {} inside the table domain",
                f.name(),
                (in_min + i as i64) as f64 * ds
            )));
        }
        let omax = fv.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let levels_out = top;
        let (out_scale, table): (f64, Vec<i64>) = match f {
            UnaryFn::Abs | UnaryFn::Neg => (
                ds,
                (in_min..in_min + n)
                    .map(|v| {
                        if matches!(f, UnaryFn::Abs) {
                            v.abs()
                        } else {
                            -v
                        }
                    })
                    .collect(),
            ),
            _ if f.integer_valued() && omax <= levels_out as f64 => {
                (1.0, fv.iter().map(|v| *v as i64).collect())
            }
            _ => {
                let s = if omax > 0.0 {
                    omax / levels_out as f64
                } else {
                    1.0
                };
                (s, fv.iter().map(|v| (v / s).round() as i64).collect())
            }
        };
        let bound = table.iter().map(|v| v.abs()).max().unwrap_or(0);
        let qx = self.q(x);
        let shape = self.fm.tensors[op.output].shape.clone();
        let oname = self.fm.tensors[op.output].name.clone();
        let func = f.name();
        let dname = format!("{oname}/{func}_in");
        let d = self.requant(qx, ds, in_min, in_min + n - 1, &dname, &shape)?;
        let out = self.add_tensor(&oname, &shape, out_scale, bound)?;
        self.ops.push(QOp::Lut {
            input: d,
            output: out,
            in_min,
            table,
            func,
        });
        self.map[op.output] = Some(out);
        Ok(())
    }

    fn op(&mut self, op: &FOp) -> Result<()> {
        let x = op.inputs[0];
        let fout = op.output;
        let oshape = self.fm.tensors[fout].shape.clone();
        let oname = self.fm.tensors[fout].name.clone();
        let is_final = self.fm.output_ids().contains(&fout);
        self.nonneg[fout] = match &op.kind {
            FOpKind::Relu | FOpKind::Sigmoid => true,
            FOpKind::Clip { min, .. } => *min >= 0.0,
            FOpKind::MaxPool { .. }
            | FOpKind::AvgPool { .. }
            | FOpKind::Reshape
            | FOpKind::Transpose { .. } => self.nonneg[x],
            FOpKind::MulConst { c } => self.nonneg[x] && c.iter().all(|&v| v >= 0.0),
            _ => false,
        };
        match &op.kind {
            FOpKind::Dense { w, b, .. } => self.linear(op, w, b, None)?,
            FOpKind::Conv {
                w,
                b,
                kernel_shape,
                strides,
                pads,
            } => self.linear(op, w, b, Some((*kernel_shape, *strides, *pads)))?,
            FOpKind::Affine { scale, shift } => {
                let shape = &self.fm.tensors[x].shape;
                let c = scale.len();
                let mut w = vec![0.0; c * c];
                for i in 0..c {
                    w[i * c + i] = scale[i];
                }
                match shape.len() {
                    2 => self.linear(op, &w, shift, None)?,
                    4 => self.linear(op, &w, shift, Some(([c, c, 1, 1], [1, 1], [0; 4])))?,
                    _ => {
                        return Err(ModelError::UnsupportedAttr {
                            op: op.op_type.clone(),
                            node: op.node.clone(),
                            index: 0,
                            reason: format!(
                            "per-channel affine on a tensor of shape {shape:?} (need rank 2 or 4)"
                        ),
                        })
                    }
                }
            }
            FOpKind::Relu | FOpKind::Clip { .. } => {
                let (lo_f, hi_f) = match op.kind {
                    FOpKind::Clip { min, max } => (min, max),
                    _ => (0.0, f64::INFINITY),
                };
                let mut r = self.range(fout);
                let lim = lo_f.abs().max(hi_f.abs());
                if lim.is_finite() && lim > 0.0 {
                    r = r.min(lim);
                }
                let (s, lo, hi) = self.act_params(fout, r);
                let lo = if lo_f.is_finite() {
                    lo.max((lo_f / s).round() as i64)
                } else {
                    lo
                };
                let hi = if hi_f.is_finite() {
                    hi.min((hi_f / s).round() as i64)
                } else {
                    hi
                };
                let qx = self.q(x);
                let out = self.requant(qx, s, lo.min(hi), hi, &oname, &oshape)?;
                self.map[fout] = Some(out);
            }
            FOpKind::Sigmoid | FOpKind::Tanh => {
                let sig = matches!(op.kind, FOpKind::Sigmoid);
                let cap = if sig { 8.0 } else { 4.0 };
                let r = (self.st.absmax(x) * self.cfg.margin).clamp(cap / 4.0, cap);
                let half = 1i64 << (self.cfg.lut_bits - 1);
                let ds = r / half as f64;
                let l = if is_final {
                    4095
                } else {
                    2 * levels(self.cfg.act_bits) + 1
                };
                if sig {
                    let f =
                        move |v: i64| (l as f64 / (1.0 + (-(v as f64) * ds).exp())).round() as i64;
                    self.lut(op, "sigmoid", ds, half, 1.0 / l as f64, l, f)?;
                } else {
                    let l = l / 2;
                    let f = move |v: i64| ((v as f64 * ds).tanh() * l as f64).round() as i64;
                    self.lut(op, "tanh", ds, half, 1.0 / l as f64, l, f)?;
                }
            }
            FOpKind::LeakyRelu { alpha } => {
                let alpha = *alpha;
                let s = levels(self.cfg.act_bits);
                let r = self.st.absmax(x).max(self.st.absmax(fout)) * self.cfg.margin;
                let r = if r > 1e-12 { r } else { 1.0 };
                let sc = r / s as f64;
                let bound = s.max((alpha.abs() * s as f64).round() as i64);
                let x_q = self.q(x);
                let dname = format!("{oname}/leaky_in");
                let d = self.requant(x_q, sc, -s, s, &dname, &oshape)?;
                let table: Vec<i64> = (-s..=s)
                    .map(|v| {
                        if v >= 0 {
                            v
                        } else {
                            (alpha * v as f64).round() as i64
                        }
                    })
                    .collect();
                let out = self.add_tensor(&oname, &oshape, sc, bound)?;
                self.ops.push(QOp::Lut {
                    input: d,
                    output: out,
                    in_min: -s,
                    table,
                    func: format!("leaky_relu({alpha})"),
                });
                self.map[fout] = Some(out);
            }
            FOpKind::Unary(f) => {
                self.nonneg[fout] = f.non_negative();
                let qx = self.q(x);
                let rounding = matches!(
                    f,
                    UnaryFn::Trunc | UnaryFn::Floor | UnaryFn::Ceil | UnaryFn::Round
                );
                if rounding && self.tensors[qx].scale == 1.0 {
                    // Integers already (an index, a 0/1 test): exact identity.
                    self.nonneg[fout] = self.nonneg[x];
                    self.map[fout] = Some(qx);
                } else {
                    self.unary(op, *f)?;
                }
            }
            FOpKind::MatMul => {
                // Both operands requantized to activations; exact sums of
                // products at scale s_a·s_b, rescaled by whatever reads them.
                let (qa, qb) = (
                    self.ensure_small(op.inputs[0])?,
                    self.ensure_small(op.inputs[1])?,
                );
                let (ta, tb) = (&self.tensors[qa], &self.tensors[qb]);
                let k = *ta.shape.last().unwrap_or(&1) as i128;
                let bound = ta.bound as i128 * tb.bound as i128 * k;
                if bound >= VALUE_BOUND as i128 {
                    return Err(ModelError::Quantize(format!(
                        "MatMul `{oname}` may reach 2^62"
                    )));
                }
                let scale = ta.scale * tb.scale;
                let out = self.add_tensor(&oname, &oshape, scale, bound as i64)?;
                self.ops.push(QOp::MatMul {
                    a: qa,
                    b: qb,
                    output: out,
                });
                self.map[fout] = Some(out);
            }
            FOpKind::Mul => {
                // Both operands requantized to activations; the exact product
                // at scale s_a·s_b, rescaled by the Requant of whatever reads it.
                let (qa, qb) = (
                    self.ensure_small(op.inputs[0])?,
                    self.ensure_small(op.inputs[1])?,
                );
                let (ta, tb) = (&self.tensors[qa], &self.tensors[qb]);
                let bound = ta.bound as i128 * tb.bound as i128;
                if bound >= VALUE_BOUND as i128 {
                    return Err(ModelError::Quantize(format!(
                        "Mul `{oname}` may reach 2^62"
                    )));
                }
                let scale = ta.scale * tb.scale;
                let out = self.add_tensor(&oname, &oshape, scale, bound as i64)?;
                self.ops.push(QOp::Mul {
                    a: qa,
                    b: qb,
                    output: out,
                });
                self.map[fout] = Some(out);
            }
            FOpKind::Add | FOpKind::Sub => {
                let (fa, fb) = (op.inputs[0], op.inputs[1]);
                let (mut qa, mut qb) = (self.q(fa), self.q(fb));
                if self.tensors[qa].bound > 1 << 32 {
                    qa = self.ensure_small(fa)?;
                }
                if self.tensors[qb].bound > 1 << 32 {
                    qb = self.ensure_small(fb)?;
                }
                // Exact at a common fine scale; operands whose scales are too far
                // apart (chains of exact products) are requantized first.
                let common = |t: &Self, qa: TensorId, qb: TensorId| {
                    let (sa, sb) = (t.tensors[qa].scale, t.tensors[qb].scale);
                    let smin = sa.min(sb);
                    let ratio = sa.max(sb) / smin;
                    let sy = if (ratio - ratio.round()).abs() < 1e-9 * ratio {
                        smin
                    } else {
                        smin / 256.0
                    };
                    (
                        sy,
                        ratio,
                        (sa / sy).round() as i64,
                        (sb / sy).round() as i64,
                    )
                };
                let (mut sy, mut ratio, mut am, mut bm) = common(self, qa, qb);
                if am.max(bm) >= 1 << 30 {
                    qa = self.ensure_small(fa)?;
                    qb = self.ensure_small(fb)?;
                    (sy, ratio, am, bm) = common(self, qa, qb);
                }
                if am.max(bm) >= 1 << 30 {
                    return Err(ModelError::Quantize(format!(
                        "Add `{oname}`: operand scales differ by {ratio:e}"
                    )));
                }
                let bound = self.tensors[qa].bound as i128 * am as i128
                    + self.tensors[qb].bound as i128 * bm as i128;
                if bound >= VALUE_BOUND as i128 {
                    return Err(ModelError::Quantize(format!(
                        "Add `{oname}` may reach 2^62"
                    )));
                }
                let out = self.add_tensor(&oname, &oshape, sy, bound as i64)?;
                let sign = if matches!(op.kind, FOpKind::Sub) {
                    -1
                } else {
                    1
                };
                self.ops.push(QOp::Add {
                    a: qa,
                    b: qb,
                    output: out,
                    a_mul: am,
                    b_mul: sign * bm,
                });
                self.map[fout] = Some(out);
            }
            FOpKind::MaxPool {
                kernel,
                strides,
                pads,
            } => {
                // The prover range-checks window differences in 16 bits.
                let qx = self.ensure_small(x)?;
                let (s, b) = (self.tensors[qx].scale, self.tensors[qx].bound);
                let out = self.add_tensor(&oname, &oshape, s, b)?;
                self.ops.push(QOp::MaxPool {
                    input: qx,
                    output: out,
                    kernel: *kernel,
                    strides: *strides,
                    pads: *pads,
                });
                self.map[fout] = Some(out);
            }
            FOpKind::AvgPool {
                kernel,
                strides,
                pads,
            } => {
                let qx = self.ensure_small(x)?;
                let k = (kernel[0] * kernel[1]) as i64;
                let (s, b) = (self.tensors[qx].scale, self.tensors[qx].bound);
                let out = self.add_tensor(&oname, &oshape, s / k as f64, b * k)?;
                self.ops.push(QOp::SumPool {
                    input: qx,
                    output: out,
                    kernel: *kernel,
                    strides: *strides,
                    pads: *pads,
                });
                self.map[fout] = Some(out);
            }
            FOpKind::AddConst { c } => {
                // Keeps the input's scale: the constant is rounded to it.
                let mut qx = self.q(x);
                if self.tensors[qx].bound > 1 << 32 {
                    qx = self.ensure_small(x)?;
                }
                let (s, b) = (self.tensors[qx].scale, self.tensors[qx].bound);
                let constant: Vec<i64> = c.iter().map(|v| (v / s).round() as i64).collect();
                let cmax = constant.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
                if cmax >= 1 << 40 {
                    return Err(ModelError::Quantize(format!(
                        "`{oname}`: the added constant is {cmax:e} activation units"
                    )));
                }
                let out = self.add_tensor(&oname, &oshape, s, b + cmax as i64)?;
                self.ops.push(QOp::AddConst {
                    input: qx,
                    output: out,
                    constant,
                });
                self.map[fout] = Some(out);
            }
            FOpKind::MulConst { c } => {
                // The constant at weight precision (symmetric, per tensor);
                // the product is exact at scale s_x·s_c, like a Dense's
                // accumulator, and the next Requant rescales it.
                let mut qx = self.q(x);
                if self.tensors[qx].bound > 1 << 32 {
                    qx = self.ensure_small(x)?;
                }
                let cmax_f = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                if !cmax_f.is_finite() {
                    return Err(ModelError::Quantize(format!(
                        "`{oname}`: the multiplying constant is not finite"
                    )));
                }
                let sc = if cmax_f > 0.0 {
                    cmax_f / levels(self.cfg.weight_bits) as f64
                } else {
                    1.0
                };
                let constant: Vec<i64> = c.iter().map(|v| (v / sc).round() as i64).collect();
                let cmax = constant.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
                let (s, b) = (self.tensors[qx].scale, self.tensors[qx].bound);
                let out = self.add_tensor(&oname, &oshape, s * sc, b * cmax.max(1) as i64)?;
                self.ops.push(QOp::MulConst {
                    input: qx,
                    output: out,
                    constant,
                });
                self.map[fout] = Some(out);
            }
            FOpKind::Select { source } => {
                // Moves values: scale and bound unchanged (a fill of 0 is in range).
                let qx = self.q(x);
                let (s, b) = (self.tensors[qx].scale, self.tensors[qx].bound);
                let out = self.add_tensor(&oname, &oshape, s, b)?;
                self.ops.push(QOp::Select {
                    input: qx,
                    output: out,
                    source: source.clone(),
                });
                self.map[fout] = Some(out);
            }
            FOpKind::Reshape | FOpKind::Transpose { .. } => {
                let qx = self.q(x);
                if matches!(op.kind, FOpKind::Reshape) && self.tensors[qx].shape[..] == oshape[1..]
                {
                    self.map[fout] = Some(qx);
                    return Ok(());
                }
                let (s, b) = (self.tensors[qx].scale, self.tensors[qx].bound);
                let out = self.add_tensor(&oname, &oshape, s, b)?;
                self.ops.push(match &op.kind {
                    FOpKind::Transpose { perm } => QOp::Transpose {
                        input: qx,
                        output: out,
                        perm: perm[1..].iter().map(|p| p - 1).collect(),
                    },
                    _ => QOp::Reshape {
                        input: qx,
                        output: out,
                    },
                });
                self.map[fout] = Some(out);
            }
            FOpKind::ArgMaxOneHot => {
                // Exact on the quantized values (ties in them resolve to the
                // first, as in float); 0/1 at scale 1.
                let qx = self.q(x);
                let mut sink = crate::argmax::OpSink {
                    tensors: &mut self.tensors,
                    ops: &mut self.ops,
                    name: oname.clone(),
                };
                let out = crate::argmax::first_max_one_hot(&mut sink, qx)?;
                self.nonneg[fout] = true;
                self.map[fout] = Some(out);
            }
            FOpKind::TopKOneHot { k } => {
                // As ArgMaxOneHot, `k` times (`argmax::top_k_one_hots`).
                let qx = self.q(x);
                let mut sink = crate::argmax::OpSink {
                    tensors: &mut self.tensors,
                    ops: &mut self.ops,
                    name: oname.clone(),
                };
                let out = crate::argmax::top_k_one_hots(&mut sink, qx, *k)?;
                self.nonneg[fout] = true;
                self.map[fout] = Some(out);
            }
            FOpKind::Softmax => {
                // Not part of the integer statement: the proved output is the logits.
                self.map[fout] = Some(self.q(x));
            }
        }
        Ok(())
    }
}

impl Q<'_> {
    /// The statement's output tensor and where each graph output sits in it.
    /// One output is its own tensor. Several are placed side by side per
    /// sample, each by a `Select` into its segment (zeros elsewhere), and
    /// summed with multipliers 1: every output keeps its integers and scale
    /// (the segments record the scales), nothing is rescaled.
    fn outputs(&mut self) -> Result<(TensorId, Vec<OutputSegment>)> {
        let fm = self.fm;
        let graph: Vec<(String, FId, InputElem)> = if fm.outputs.is_empty() {
            let t = fm.output;
            vec![(fm.tensors[t].name.clone(), t, InputElem::Float32)]
        } else {
            fm.outputs
                .iter()
                .map(|o| (o.name.clone(), o.tensor, o.elem))
                .collect()
        };
        let mut segments = Vec::with_capacity(graph.len());
        let mut offset = 0;
        for (name, f, elem) in &graph {
            let t = &self.tensors[self.q(*f)];
            let mut shape = vec![1];
            shape.extend_from_slice(&fm.tensors[*f].shape[1..]);
            segments.push(OutputSegment {
                name: name.clone(),
                shape,
                elem: *elem,
                scale: t.scale,
                offset,
                len: t.len(),
            });
            offset += t.len();
        }
        if let [(_, f, _)] = graph[..] {
            return Ok((self.q(f), segments));
        }
        let mut sum: Option<TensorId> = None;
        for ((name, f, _), seg) in graph.iter().zip(&segments) {
            let qf = self.q(*f);
            let source = (0..offset)
                .map(|k| {
                    if (seg.offset..seg.offset + seg.len).contains(&k) {
                        (k - seg.offset) as i64
                    } else {
                        -1
                    }
                })
                .collect();
            let bound = self.tensors[qf].bound;
            let placed = self.add_tensor(&format!("{name}/placed"), &[1, offset], 1.0, bound)?;
            self.ops.push(QOp::Select {
                input: qf,
                output: placed,
                source,
            });
            sum = Some(match sum {
                None => placed,
                Some(acc) => {
                    let bound = self.tensors[acc].bound as i128 + bound as i128;
                    if bound >= VALUE_BOUND as i128 {
                        return Err(ModelError::Quantize(
                            "the graph outputs together may reach 2^62".into(),
                        ));
                    }
                    let out = self.add_tensor(
                        &format!("{name}/outputs"),
                        &[1, offset],
                        1.0,
                        bound as i64,
                    )?;
                    self.ops.push(QOp::Add {
                        a: acc,
                        b: placed,
                        output: out,
                        a_mul: 1,
                        b_mul: 1,
                    });
                    out
                }
            });
        }
        Ok((sum.expect("several outputs"), segments))
    }
}

/// Quantizes a float graph with calibration statistics.
/// The input scale `s`, made `1/k` for a whole `k` (never finer, so the
/// clamp still holds the calibrated range) when the input holds one-hot rows
/// of token ids: their 1 is then exactly the integer `k`, and ids beside them
/// are exact too.
fn one_hot_exact(s: f64, fm: &FloatModel) -> Result<f64> {
    if fm.input_segments.iter().all(|seg| seg.one_hot.is_none()) {
        return Ok(s);
    }
    let k = (1.0 / s).floor();
    if k < 1.0 {
        return Err(ModelError::Quantize(format!(
            "the input's step {s} is above 1: one-hot token rows need a step of 1/k; other inputs next to the ids are too large for the input bits"
        )));
    }
    Ok(1.0 / k)
}

pub fn quantize(
    fm: &FloatModel,
    st: &CalibStats,
    cfg: &QuantConfig,
    name: &str,
    onnx: Vec<u8>,
) -> Result<QuantModel> {
    if !(2..=16).contains(&cfg.weight_bits)
        || !(2..=14).contains(&cfg.act_bits)
        || !(2..=16).contains(&cfg.lut_bits)
        || !(2..=16).contains(&cfg.input_bits)
    {
        return Err(ModelError::Quantize(
            "weight_bits, lut_bits and input_bits must be in 2..=16, act_bits in 2..=14".into(),
        ));
    }
    if !(cfg.margin.is_finite()
        && cfg.margin >= 1.0
        && cfg.input_margin.is_finite()
        && cfg.input_margin >= 1.0)
    {
        return Err(ModelError::Quantize("margins must be ≥ 1".into()));
    }
    let n = fm.tensors.len();
    let mut q = Q {
        fm,
        st,
        cfg,
        tensors: vec![],
        ops: vec![],
        map: vec![None; n],
        nonneg: vec![false; n],
    };
    // input
    let fin = fm.input;
    // The input clamp is symmetric ([-bound, bound]); a non-negative calibration set only
    // halves the scale (one more bit for the values seen). Several graph inputs share
    // this one tensor, so they share the scale of the widest calibrated range: an input
    // of much smaller magnitude than another keeps fewer significant bits.
    let r_in = {
        let r = st.absmax(fin) * cfg.input_margin;
        if r > 1e-12 {
            r
        } else {
            1.0
        }
    };
    let lv = levels(cfg.input_bits);
    let (s, hi) = if st.min[fin] >= 0.0 {
        (r_in / (2 * lv + 1) as f64, 2 * lv + 1)
    } else {
        (r_in / lv as f64, lv)
    };
    let s = one_hot_exact(s, fm)?;
    let tin = q.add_tensor(&fm.tensors[fin].name, &fm.tensors[fin].shape, s, hi)?;
    q.map[fin] = Some(tin);
    for op in &fm.ops {
        q.op(op)?;
    }
    let output_softmax = fm
        .ops
        .last()
        .is_some_and(|o| matches!(o.kind, FOpKind::Softmax));
    let (output, output_segments) = q.outputs()?;
    let m = QuantModel {
        version: QUANT_MODEL_VERSION,
        name: name.to_string(),
        tensors: q.tensors,
        input: tin,
        output,
        batch: fm.batch,
        dynamic_batch: fm.dynamic_batch,
        ops: q.ops,
        onnx,
        output_softmax,
        input_segments: fm.input_segments.clone(),
        tied_weights: Vec::new(),
        output_segments,
    };
    m.validate()?;
    Ok(m)
}

/// The table domain of a function defined on part of the line only: Asin and
/// Acos on `[−1, 1]`, Acosh on `x ≥ 1`, Atanh on `(−1, 1)`, Tan between two
/// poles. A calibrated range outside that set is refused (the float model
/// gives NaN or infinity there); otherwise the widened domain `[lo, hi]` is
/// cut to it — towards an infinite end (Atanh, Tan) only halfway from the
/// calibrated range, so the table's output scale stays finite.
fn bounded_domain(
    f: UnaryFn,
    (lo, hi): (f64, f64),
    (m0, m1): (f64, f64),
) -> std::result::Result<(f64, f64), String> {
    let outside = |set: &str| {
        Err(format!(
            "the input's calibrated range [{m0}, {m1}] leaves {set}, where {} is defined",
            f.name()
        ))
    };
    match f {
        UnaryFn::Asin | UnaryFn::Acos => {
            if m0 < -1.0 || m1 > 1.0 {
                return outside("[-1, 1]");
            }
            Ok((lo.max(-1.0), hi.min(1.0)))
        }
        UnaryFn::Acosh => {
            if m0 < 1.0 {
                return outside("[1, ∞)");
            }
            Ok((lo.max(1.0), hi))
        }
        UnaryFn::Atanh => {
            let m = m0.abs().max(m1.abs());
            if m >= 1.0 {
                return outside("(-1, 1)");
            }
            let a = m + 0.5 * (1.0 - m);
            Ok((lo.max(-a), hi.min(a)))
        }
        UnaryFn::Tan => {
            use std::f64::consts::{FRAC_PI_2, PI};
            let k = (0.5 * (m0 + m1) / PI).round();
            let (p0, p1) = (k * PI - FRAC_PI_2, k * PI + FRAC_PI_2);
            if m0 <= p0 || m1 >= p1 {
                return outside(&format!("({p0}, {p1}) (it crosses a pole)"));
            }
            let gap = (m0 - p0).min(p1 - m1);
            Ok((lo.max(p0 + 0.5 * gap), hi.min(p1 - 0.5 * gap)))
        }
        _ => Ok((lo, hi)),
    }
}

#[cfg(test)]
mod bounded_domain_tests {
    use super::*;

    #[test]
    fn partial_functions_keep_their_domain_or_are_refused() {
        assert_eq!(
            bounded_domain(UnaryFn::Asin, (-1.4, 0.9), (-0.8, 0.5)),
            Ok((-1.0, 0.9))
        );
        assert!(bounded_domain(UnaryFn::Acos, (-1.4, 1.4), (-1.2, 0.5)).is_err());
        assert_eq!(
            bounded_domain(UnaryFn::Acosh, (0.5, 4.0), (1.5, 3.0)),
            Ok((1.0, 4.0))
        );
        assert!(bounded_domain(UnaryFn::Acosh, (0.0, 4.0), (0.9, 3.0)).is_err());
        // Atanh: halfway from the calibrated range to ±1.
        let (lo, hi) = bounded_domain(UnaryFn::Atanh, (-2.0, 2.0), (-0.2, 0.6)).unwrap();
        assert!((lo + 0.8).abs() < 1e-12 && (hi - 0.8).abs() < 1e-12);
        assert!(bounded_domain(UnaryFn::Atanh, (-2.0, 2.0), (-1.0, 0.6)).is_err());
        // Tan: between the poles around the range, halfway to the nearer one.
        let (lo, hi) = bounded_domain(UnaryFn::Tan, (-3.0, 3.0), (-1.0, 0.5)).unwrap();
        let gap = std::f64::consts::FRAC_PI_2 - 1.0;
        assert!((lo - (-1.0 - gap / 2.0)).abs() < 1e-12 && (hi - (1.0 + gap / 2.0)).abs() < 1e-12);
        assert!(UnaryFn::Tan.eval(hi).is_finite() && UnaryFn::Tan.eval(lo).is_finite());
        assert!(bounded_domain(UnaryFn::Tan, (0.0, 3.0), (0.5, 2.0)).is_err());
        // Around the next period.
        let (lo, hi) = bounded_domain(UnaryFn::Tan, (2.0, 4.5), (2.5, 3.5)).unwrap();
        assert!(lo > std::f64::consts::FRAC_PI_2 && hi < 1.5 * std::f64::consts::PI);
        assert_eq!(
            bounded_domain(UnaryFn::Sin, (-9.0, 9.0), (-1.0, 1.0)),
            Ok((-9.0, 9.0))
        );
    }
}

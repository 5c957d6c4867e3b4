//! [`QuantModel`] methods: static validation (bounds), input quantization, output
//! dequantization and the `.zkm` file format.

use crate::error::{ModelError, Result};
use crate::float::conv_out_dim as window_out;
use crate::input::InputFile;
use crate::ir::*;
use std::path::Path;

/// `.zkm` layout: MAGIC (8 bytes) ‖ format version (u32 LE) ‖ body length (u64 LE)
/// ‖ blake3(body) (32 bytes) ‖ body (serde_json of [`QuantModel`]).
pub const ZKM_MAGIC: &[u8; 8] = b"ZKINFERM";

impl QOp {
    /// (inputs, output) tensor ids.
    pub fn io(&self) -> (Vec<TensorId>, TensorId) {
        match self {
            QOp::Dense { input, output, .. }
            | QOp::Conv2d { input, output, .. }
            | QOp::Requant { input, output, .. }
            | QOp::Lut { input, output, .. }
            | QOp::MaxPool { input, output, .. }
            | QOp::SumPool { input, output, .. }
            | QOp::Reshape { input, output }
            | QOp::Select { input, output, .. }
            | QOp::SelectAxes { input, output, .. }
            | QOp::SelectBands { input, output, .. }
            | QOp::AddConst { input, output, .. }
            | QOp::MulConst { input, output, .. }
            | QOp::Transpose { input, output, .. } => (vec![*input], *output),
            QOp::Add { a, b, output, .. }
            | QOp::Mul { a, b, output }
            | QOp::MatMul { a, b, output } => (vec![*a, *b], *output),
        }
    }
    /// Drops the weight values (what a verifying key keeps of the op).
    pub fn strip_weights(&mut self) {
        match self {
            QOp::Dense { weight, bias, .. } | QOp::Conv2d { weight, bias, .. } => {
                *weight = IntVec::default();
                *bias = Vec::new();
            }
            QOp::AddConst { constant, .. } | QOp::MulConst { constant, .. } => {
                *constant = Vec::new()
            }
            QOp::Requant { .. }
            | QOp::Lut { .. }
            | QOp::Add { .. }
            | QOp::Mul { .. }
            | QOp::MatMul { .. }
            | QOp::MaxPool { .. }
            | QOp::SumPool { .. }
            | QOp::Reshape { .. }
            | QOp::Select { .. }
            | QOp::SelectAxes { .. }
            | QOp::SelectBands { .. }
            | QOp::Transpose { .. } => {}
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            QOp::Dense { .. } => "Dense",
            QOp::Conv2d { .. } => "Conv2d",
            QOp::Requant { .. } => "Requant",
            QOp::Lut { .. } => "Lut",
            QOp::Add { .. } => "Add",
            QOp::Mul { .. } => "Mul",
            QOp::MatMul { .. } => "MatMul",
            QOp::MaxPool { .. } => "MaxPool",
            QOp::SumPool { .. } => "SumPool",
            QOp::Reshape { .. } => "Reshape",
            // One op to a reader, however its map is stated.
            QOp::Select { .. } | QOp::SelectAxes { .. } | QOp::SelectBands { .. } => "Select",
            QOp::AddConst { .. } => "AddConst",
            QOp::MulConst { .. } => "MulConst",
            QOp::Transpose { .. } => "Transpose",
        }
    }
}

fn sat(v: i128) -> i128 {
    v.min(i128::MAX / 4)
}

impl QuantModel {
    pub fn input_len(&self) -> usize {
        self.tensors[self.input].len()
    }
    pub fn output_len(&self) -> usize {
        self.tensors[self.output].len()
    }

    /// Number of integer parameters (weights + biases + table entries).
    pub fn num_params(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op {
                QOp::Dense { weight, bias, .. } | QOp::Conv2d { weight, bias, .. } => {
                    weight.len() + bias.len()
                }
                QOp::Lut { table, .. } => table.len(),
                QOp::AddConst { constant, .. } | QOp::MulConst { constant, .. } => constant.len(),
                _ => 0,
            })
            .sum()
    }

    /// The model for statements of `batch` samples: any count when its batch
    /// axis is symbolic, else only its fixed batch size.
    pub fn with_batch(&self, batch: usize) -> Result<QuantModel> {
        if batch == self.batch {
            return Ok(self.clone());
        }
        if !self.dynamic_batch {
            return Err(ModelError::Invalid(format!(
                "the model was exported with a fixed batch of {} sample(s), not {batch}",
                self.batch
            )));
        }
        if !(1..=MAX_BATCH).contains(&batch) {
            return Err(ModelError::Invalid(format!(
                "batch {batch} outside [1, {MAX_BATCH}]"
            )));
        }
        let mut m = self.clone();
        m.batch = batch;
        Ok(m)
    }

    /// Input elements of a whole statement (`batch` samples).
    pub fn statement_input_len(&self) -> usize {
        self.batch * self.input_len()
    }
    /// Output elements of a whole statement (`batch` samples).
    pub fn statement_output_len(&self) -> usize {
        self.batch * self.output_len()
    }

    /// One statement's input, in per-sample order, from an input file's
    /// entries. A single-input model takes its `batch` samples as that many
    /// entries or as one entry holding them all (any whole number of samples
    /// when the batch axis is symbolic). A model with several graph inputs
    /// takes one entry per input, in graph order, each holding all its samples
    /// ([`crate::input::interleave`]); a `.npy` file cannot hold several.
    /// Ids gathered from a constant table are expanded to their one-hot rows
    /// (checked to be in range). Integer and boolean inputs must hold values of their type. The error
    /// is the reason, for the caller to attach the file's name to.
    pub fn statement_input(&self, file: &InputFile) -> std::result::Result<Vec<f64>, String> {
        let entries = &file.entries;
        let x = if crate::input::is_composite(&self.input_segments) {
            let (x, n) = crate::input::composite_values(file, &self.input_segments)?;
            if !self.dynamic_batch && n != self.batch {
                return Err(format!(
                    "each input holds {n} sample(s); the model takes {}",
                    self.batch
                ));
            }
            x
        } else {
            let len = self.input_len();
            let total: usize = entries.iter().map(Vec::len).sum();
            let batch = if self.dynamic_batch && total > 0 && total.is_multiple_of(len) {
                total / len
            } else {
                self.batch
            };
            let fits = (entries.len() == batch && entries.iter().all(|s| s.len() == len))
                || (entries.len() == 1 && total == batch * len);
            if !fits {
                return Err(format!(
                    "{} sample(s) of {} value(s); the model takes {batch} sample(s) of {len}",
                    entries.len(),
                    entries.first().map_or(0, Vec::len)
                ));
            }
            entries.concat()
        };
        crate::input::check_types(&x, &self.input_segments)?;
        Ok(x)
    }

    /// Deterministic input quantization: `round_half_away_from_zero(x / scale)`,
    /// clamped to `[-bound, bound]` of the input tensor. `x` holds one or more
    /// whole samples.
    pub fn quantize_input(&self, x: &[f32]) -> Result<Vec<i64>> {
        self.quantize_values(x.len(), x.iter().copied())
    }

    /// [`Self::quantize_input`] of `x` rounded to `f32` (the input files'
    /// precision), without an `f32` copy of it (a one-hot input of GPT-2's
    /// vocabulary is 1.6 M values).
    pub fn quantize_input_f64(&self, x: &[f64]) -> Result<Vec<i64>> {
        self.quantize_values(x.len(), x.iter().map(|&v| v as f32))
    }

    fn quantize_values(&self, len: usize, x: impl Iterator<Item = f32>) -> Result<Vec<i64>> {
        let t = &self.tensors[self.input];
        if len == 0 || !len.is_multiple_of(t.len()) {
            return Err(ModelError::InputLength {
                expected: self.statement_input_len(),
                got: len,
            });
        }
        let bound = t.bound as f64;
        let mut out = Vec::with_capacity(len);
        for (i, v) in x.enumerate() {
            if !v.is_finite() {
                return Err(ModelError::NonFinite {
                    index: i,
                    value: v as f64,
                });
            }
            // Zero quantizes to zero (no division or rounding): most of a
            // one-hot input.
            let q = if v == 0.0 {
                0
            } else {
                // f64::round: half away from zero.
                (v as f64 / t.scale).round().clamp(-bound, bound) as i64
            };
            out.push(q);
        }
        Ok(out)
    }

    /// Real values of the output (`int * scale`, each graph output at its
    /// own scale, integer outputs rounded: [`OutputSegment`]), followed by the
    /// float softmax when [`QuantModel::output_softmax`] is set (per sample
    /// when `y` holds several).
    pub fn dequantize_output(&self, y: &[i64]) -> Vec<f64> {
        let v: Vec<f64> = if self.output_segments.is_empty() {
            let s = self.tensors[self.output].scale;
            y.iter().map(|&q| q as f64 * s).collect()
        } else {
            let per = self.output_len().max(1);
            let value = |seg: &OutputSegment, q: i64| {
                let v = q as f64 * seg.scale;
                if seg.elem.is_integer() {
                    v.round()
                } else {
                    v
                }
            };
            if self.segments_tile_the_output() {
                // Sample by sample, segment by segment: no search per value
                // (GPT-2's logits are 1.6 M values).
                let mut out = Vec::with_capacity(y.len());
                for sample in y.chunks(per) {
                    for seg in &self.output_segments {
                        let end = (seg.offset + seg.len).min(sample.len());
                        let part = &sample[seg.offset.min(end)..end];
                        out.extend(part.iter().map(|&q| value(seg, q)));
                    }
                }
                out
            } else {
                y.iter()
                    .enumerate()
                    .map(|(i, &q)| {
                        let k = i % per;
                        let seg = self
                            .output_segments
                            .iter()
                            .find(|s| (s.offset..s.offset + s.len).contains(&k))
                            .expect("validated: the segments cover the output");
                        value(seg, q)
                    })
                    .collect()
            }
        };
        if self.output_softmax {
            v.chunks(self.output_len().max(1))
                .flat_map(softmax)
                .collect()
        } else {
            v
        }
    }

    /// Whether the output segments lie in order, one after the other, over
    /// exactly one sample's output (what `validate` requires of them).
    fn segments_tile_the_output(&self) -> bool {
        let mut offset = 0usize;
        for seg in &self.output_segments {
            if seg.offset != offset {
                return false;
            }
            offset = offset.saturating_add(seg.len);
        }
        offset == self.output_len()
    }

    /// Static checks: ids, shapes, parameters and worst-case bounds of every value.
    pub fn validate(&self) -> Result<()> {
        let err = |s: String| Err(ModelError::Invalid(s));
        if !(1..=QUANT_MODEL_VERSION).contains(&self.version)
            || (self.version == 1 && !self.output_segments.is_empty())
        {
            return err(format!(
                "version {} (expected {QUANT_MODEL_VERSION}, or 1 without output segments)",
                self.version
            ));
        }
        let nt = self.tensors.len();
        if self.input >= nt || self.output >= nt {
            return err("input/output tensor id out of range".into());
        }
        if !(1..=crate::ir::MAX_BATCH).contains(&self.batch) {
            return err(format!(
                "batch {} outside [1, {}]",
                self.batch,
                crate::ir::MAX_BATCH
            ));
        }
        for (i, t) in self.tensors.iter().enumerate() {
            if !(t.scale.is_finite() && t.scale > 0.0) {
                return err(format!("tensor #{i} `{}` has scale {}", t.name, t.scale));
            }
            if t.bound < 0 || t.bound >= VALUE_BOUND {
                return err(format!(
                    "tensor #{i} `{}` has bound {} outside [0, 2^62)",
                    t.name, t.bound
                ));
            }
            // A size that overflows would wrap in `len()` (files are untrusted).
            if t.shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .is_none()
            {
                return err(format!("tensor #{i} `{}` is too large", t.name));
            }
            if t.is_empty() {
                return err(format!("tensor #{i} `{}` is empty", t.name));
            }
        }
        if !self.input_segments.is_empty() {
            // Untrusted files: readers slice input files by these.
            let mut offset = 0usize;
            for (k, seg) in self.input_segments.iter().enumerate() {
                let len = seg.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                if seg.offset != offset || len != Some(seg.len) || seg.shape.first() != Some(&1) {
                    return err(format!(
                        "input segment #{k} `{}` (offset {}, {} values, shape {:?}) does not follow the one before it",
                        seg.name, seg.offset, seg.len, seg.shape
                    ));
                }
                offset = offset.saturating_add(seg.len);
            }
            if offset != self.input_len() {
                return err(format!(
                    "the input segments hold {offset} values per sample, the input tensor {}",
                    self.input_len()
                ));
            }
        }
        self.validate_output_segments()?;
        let mut defined = vec![false; nt];
        defined[self.input] = true;
        for (k, op) in self.ops.iter().enumerate() {
            let (ins, out) = op.io();
            let e = |s: String| ModelError::Invalid(format!("op #{k} ({}): {s}", op.name()));
            for &i in &ins {
                if i >= nt || !defined[i] {
                    return Err(e(format!("input tensor {i} is not defined before use")));
                }
            }
            if out >= nt || defined[out] {
                return Err(e(format!(
                    "output tensor {out} is out of range or defined twice"
                )));
            }
            defined[out] = true;
            let ti = &self.tensors[ins[0]];
            let to = &self.tensors[out];
            let bin = ti.bound as i128;
            // worst case |value| of the output
            let worst: i128 = match op {
                QOp::Dense {
                    in_dim,
                    out_dim,
                    weight,
                    bias,
                    ..
                } => {
                    // Applied to each of the input's rows of `in_dim`.
                    let rows = ti.len() / (*in_dim).max(1);
                    if *in_dim == 0
                        || rows * in_dim != ti.len()
                        || rows.checked_mul(*out_dim) != Some(to.len())
                        || in_dim.checked_mul(*out_dim) != Some(weight.len())
                        || bias.len() != *out_dim
                    {
                        return Err(e("dimension mismatch".into()));
                    }
                    (0..*out_dim)
                        .map(|o| {
                            let s: i128 = weight
                                .range(o * in_dim..(o + 1) * in_dim)
                                .map(|w| w.unsigned_abs() as i128)
                                .sum();
                            sat(s
                                .saturating_mul(bin)
                                .saturating_add(bias[o].unsigned_abs() as i128))
                        })
                        .max()
                        .unwrap_or(0)
                }
                QOp::Conv2d {
                    kernel_shape,
                    weight,
                    bias,
                    strides,
                    pads,
                    ..
                } => {
                    let [oc, ic, kh, kw] = *kernel_shape;
                    if ti.shape.len() != 3
                        || to.shape.len() != 3
                        || ti.shape[0] != ic
                        || to.shape[0] != oc
                    {
                        return Err(e(format!(
                            "shapes {:?} -> {:?} do not match kernel {kernel_shape:?}",
                            ti.shape, to.shape
                        )));
                    }
                    let size = [ic, kh, kw].iter().try_fold(oc, |a, &d| a.checked_mul(d));
                    if size != Some(weight.len()) || bias.len() != oc {
                        return Err(e("weight/bias length mismatch".into()));
                    }
                    let oh = window_out(ti.shape[1], kh, strides[0], pads[0], pads[2]);
                    let ow = window_out(ti.shape[2], kw, strides[1], pads[1], pads[3]);
                    if oh != Some(to.shape[1]) || ow != Some(to.shape[2]) {
                        return Err(e("output spatial size does not match the geometry".into()));
                    }
                    let per = ic * kh * kw;
                    (0..oc)
                        .map(|o| {
                            let s: i128 = weight
                                .range(o * per..(o + 1) * per)
                                .map(|w| w.unsigned_abs() as i128)
                                .sum();
                            sat(s
                                .saturating_mul(bin)
                                .saturating_add(bias[o].unsigned_abs() as i128))
                        })
                        .max()
                        .unwrap_or(0)
                }
                QOp::Requant {
                    multiplier,
                    shift,
                    min,
                    max,
                    ..
                } => {
                    if !(1..MAX_REQUANT_MULTIPLIER).contains(multiplier) {
                        return Err(e(format!("multiplier {multiplier} outside [1, 2^16)")));
                    }
                    if *shift > MAX_REQUANT_SHIFT {
                        return Err(e(format!("shift {shift} > {MAX_REQUANT_SHIFT}")));
                    }
                    if min > max {
                        return Err(e("min > max".into()));
                    }
                    let half = 1i64 << (CLAMP_BITS - 1);
                    if *min < -half || *max >= half {
                        return Err(e(format!(
                            "clamp range [{min}, {max}] outside [-2^15, 2^15)"
                        )));
                    }
                    if bin * *multiplier as i128 + (1i128 << shift) >= VALUE_BOUND as i128 {
                        return Err(e("|x·multiplier| + 2^shift may reach 2^62".into()));
                    }
                    if ti.len() != to.len() {
                        return Err(e("length mismatch".into()));
                    }
                    min.unsigned_abs().max(max.unsigned_abs()) as i128
                }
                QOp::Lut {
                    input,
                    in_min,
                    table,
                    ..
                } => {
                    if table.is_empty() || table.len() > 1 << 20 || ti.len() != to.len() {
                        return Err(e("table empty, larger than 2^20, or length mismatch".into()));
                    }
                    let Some(hi) = in_min.checked_add(table.len() as i64 - 1) else {
                        return Err(e("table domain overflows".into()));
                    };
                    // input range: the clamp of a producing Requant, else its bound
                    let (lo_in, hi_in) = self
                        .ops
                        .iter()
                        .find_map(|p| match p {
                            QOp::Requant {
                                output, min, max, ..
                            } if output == input => Some((*min, *max)),
                            _ => None,
                        })
                        .unwrap_or((-ti.bound, ti.bound));
                    if lo_in < *in_min || hi_in > hi {
                        return Err(e(format!("input range [{lo_in}, {hi_in}] is not inside the table domain [{in_min}, {hi}]")));
                    }
                    table
                        .iter()
                        .map(|v| v.unsigned_abs() as i128)
                        .max()
                        .unwrap_or(0)
                }
                QOp::Add {
                    b, a_mul, b_mul, ..
                } => {
                    let tb = &self.tensors[*b];
                    if ti.len() != to.len() || tb.len() != to.len() {
                        return Err(e("length mismatch".into()));
                    }
                    sat(bin * a_mul.unsigned_abs() as i128
                        + tb.bound as i128 * b_mul.unsigned_abs() as i128)
                }
                QOp::Mul { b, .. } => {
                    let tb = &self.tensors[*b];
                    if ti.len() != to.len() || tb.len() != to.len() {
                        return Err(e("length mismatch".into()));
                    }
                    sat(bin * tb.bound as i128)
                }
                QOp::MatMul { b, .. } => {
                    let tb = &self.tensors[*b];
                    let Some((m, k, n, lead)) = crate::ir::matmul_dims(&ti.shape, &tb.shape) else {
                        return Err(e("operands are not [.., M, K] and [.., K, N]".into()));
                    };
                    let mut want = lead;
                    want.extend([m, n]);
                    if to.shape != want {
                        return Err(e("output shape is not [.., M, N]".into()));
                    }
                    sat(bin
                        .saturating_mul(tb.bound as i128)
                        .saturating_mul(k as i128))
                }
                QOp::MaxPool {
                    kernel,
                    strides,
                    pads,
                    ..
                }
                | QOp::SumPool {
                    kernel,
                    strides,
                    pads,
                    ..
                } => {
                    if ti.shape.len() != 3 || to.shape.len() != 3 || ti.shape[0] != to.shape[0] {
                        return Err(e("pooling needs [C, H, W] tensors with equal C".into()));
                    }
                    if kernel.contains(&0) || strides.contains(&0) {
                        return Err(e("zero kernel or stride".into()));
                    }
                    if pads[0] >= kernel[0]
                        || pads[2] >= kernel[0]
                        || pads[1] >= kernel[1]
                        || pads[3] >= kernel[1]
                    {
                        return Err(e("padding must be smaller than the kernel".into()));
                    }
                    let oh = window_out(ti.shape[1], kernel[0], strides[0], pads[0], pads[2]);
                    let ow = window_out(ti.shape[2], kernel[1], strides[1], pads[1], pads[3]);
                    if oh != Some(to.shape[1]) || ow != Some(to.shape[2]) {
                        return Err(e("output spatial size does not match the geometry".into()));
                    }
                    if matches!(op, QOp::MaxPool { .. }) {
                        bin
                    } else {
                        sat(bin
                            .saturating_mul((kernel[0] as i128).saturating_mul(kernel[1] as i128)))
                    }
                }
                QOp::Reshape { .. } => {
                    if ti.len() != to.len() {
                        return Err(e("length mismatch".into()));
                    }
                    bin
                }
                QOp::AddConst { constant, .. } => {
                    if ti.len() != to.len() || constant.len() != ti.len() {
                        return Err(e("constant does not match the shapes".into()));
                    }
                    let cmax = constant.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
                    sat(bin + cmax as i128)
                }
                QOp::MulConst { constant, .. } => {
                    if ti.len() != to.len() || constant.len() != ti.len() {
                        return Err(e("constant does not match the shapes".into()));
                    }
                    let cmax = constant.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
                    sat(bin.saturating_mul(cmax as i128))
                }
                QOp::Select { source, .. } => {
                    if source.len() != to.len()
                        || source.iter().any(|&k| k >= ti.len() as i64)
                        || ti.len() > 1 << 32
                    {
                        return Err(e("source indices do not match the shapes".into()));
                    }
                    bin
                }
                QOp::SelectAxes { map, .. } => {
                    if ti.len() > 1 << 32 {
                        return Err(e("the input is too long".into()));
                    }
                    map.check(ti.len(), to.len()).map_err(e)?;
                    bin
                }
                QOp::SelectBands { map, .. } => {
                    if ti.len() > 1 << 32 {
                        return Err(e("the input is too long".into()));
                    }
                    map.check(ti.len(), to.len()).map_err(e)?;
                    bin
                }
                QOp::Transpose { perm, .. } => {
                    let mut p = perm.clone();
                    p.sort();
                    if p != (0..ti.shape.len()).collect::<Vec<_>>() {
                        return Err(e(format!("invalid permutation {perm:?}")));
                    }
                    if perm.iter().map(|&i| ti.shape[i]).collect::<Vec<_>>() != to.shape {
                        return Err(e("output shape is not the permuted input shape".into()));
                    }
                    bin
                }
            };
            if worst >= VALUE_BOUND as i128 {
                return Err(e(format!(
                    "worst-case |value| {worst} of `{}` reaches 2^62",
                    to.name
                )));
            }
            if worst > to.bound as i128 {
                return Err(e(format!(
                    "worst-case |value| {worst} of `{}` exceeds its declared bound {}",
                    to.name, to.bound
                )));
            }
        }
        if !defined[self.output] {
            return err("the output tensor is never computed".into());
        }
        crate::tied::check_ties(self)
    }

    /// Untrusted files: readers split output files by these, and the
    /// several-output tensor is a sum of placed outputs (multipliers 1).
    fn validate_output_segments(&self) -> Result<()> {
        let err = |s: String| Err(ModelError::Invalid(s));
        if self.output_segments.is_empty() {
            return Ok(());
        }
        if self.output_softmax && self.output_segments.len() > 1 {
            return err("a float softmax tail needs a single output".into());
        }
        let mut offset = 0usize;
        for (k, seg) in self.output_segments.iter().enumerate() {
            let len = seg.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if seg.offset != offset
                || len != Some(seg.len)
                || seg.shape.first() != Some(&1)
                || !(seg.scale.is_finite() && seg.scale > 0.0)
            {
                return err(format!(
                    "output segment #{k} `{}` (offset {}, {} values, shape {:?}, scale {}) does not follow the one before it",
                    seg.name, seg.offset, seg.len, seg.shape, seg.scale
                ));
            }
            offset = offset.saturating_add(seg.len);
        }
        if offset != self.output_len() {
            return err(format!(
                "the output segments hold {offset} values per sample, the output tensor {}",
                self.output_len()
            ));
        }
        Ok(())
    }

    /// The graph outputs of a statement's output values (`batch` samples,
    /// as [`QuantModel::dequantize_output`] gives them): each output's name
    /// and its values over all samples, in graph order. A model without
    /// segments has one output, named after the output tensor.
    pub fn split_outputs<T: Copy>(&self, values: &[T]) -> Vec<(String, Vec<T>)> {
        self.output_slices(values)
            .into_iter()
            .map(|(name, parts)| (name.to_string(), parts.concat()))
            .collect()
    }

    /// [`QuantModel::split_outputs`] without copying: each graph output's
    /// name and its values as one slice per sample (a verifier compares a
    /// file's outputs against them; GPT-2's are 1.6 M logits).
    pub fn output_slices<'a, T>(&'a self, values: &'a [T]) -> Vec<(&'a str, Vec<&'a [T]>)> {
        let per = self.output_len().max(1);
        if self.output_segments.is_empty() {
            return vec![(self.tensors[self.output].name.as_str(), vec![values])];
        }
        self.output_segments
            .iter()
            .map(|seg| {
                let parts = values
                    .chunks(per)
                    .map(|s| &s[seg.offset.min(s.len())..(seg.offset + seg.len).min(s.len())])
                    .collect();
                (seg.name.as_str(), parts)
            })
            .collect()
    }

    /// Serializes to the `.zkm` format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = serde_json::to_vec(self).expect("QuantModel serializes");
        let mut out = Vec::with_capacity(body.len() + 52);
        out.extend_from_slice(ZKM_MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(blake3::hash(&body).as_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Parses and validates a `.zkm` image; every corruption is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<QuantModel> {
        let bad = |s: &str| ModelError::ModelFile(s.to_string());
        if bytes.len() < 52 || &bytes[..8] != ZKM_MAGIC {
            return Err(bad("not a zkinfer compiled model (bad magic)"));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        if !(1..=QUANT_MODEL_VERSION).contains(&version) {
            return Err(ModelError::ModelFile(format!(
                "format version {version}, this build reads 1 to {QUANT_MODEL_VERSION}"
            )));
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap());
        let body = &bytes[52..];
        if body.len() as u64 != len {
            return Err(ModelError::ModelFile(format!(
                "truncated: body has {} bytes, header says {len}",
                body.len()
            )));
        }
        if blake3::hash(body).as_bytes() != &bytes[20..52] {
            return Err(bad("checksum mismatch (file corrupted)"));
        }
        let m: QuantModel = serde_json::from_slice(body)
            .map_err(|e| ModelError::ModelFile(format!("bad body: {e}")))?;
        if m.version != version {
            return Err(ModelError::ModelFile(format!(
                "the header says format version {version}, the body {}",
                m.version
            )));
        }
        m.validate()?;
        Ok(m)
    }

    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let p = path.as_ref();
        std::fs::write(p, self.to_bytes()).map_err(|e| ModelError::Io {
            path: p.display().to_string(),
            source: e,
        })
    }

    pub fn load(path: impl AsRef<Path>) -> Result<QuantModel> {
        let p = path.as_ref();
        let bytes = std::fs::read(p).map_err(|e| ModelError::Io {
            path: p.display().to_string(),
            source: e,
        })?;
        Self::from_bytes(&bytes)
    }
}

pub fn softmax(v: &[f64]) -> Vec<f64> {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = v.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

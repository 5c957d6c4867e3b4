//! The exact integer evaluator: the reference semantics of every [`QOp`]. The prover
//! must reproduce these values bit for bit; the whole [`Trace`] is its witness.

use crate::error::{ModelError, Result};
use crate::ir::{QOp, QuantModel, TensorId, REQUANT_EXCESS_BITS};
use crate::with_int_slice;

/// Every tensor's values, indexed by [`TensorId`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    pub values: Vec<Vec<i64>>,
}

impl Trace {
    pub fn get(&self, t: TensorId) -> &[i64] {
        &self.values[t]
    }
}

/// `floor((x*m + 2^(s-1)) / 2^s)` (or `x*m` for `s = 0`), exactly, in i128.
pub fn requant_quotient(x: i64, multiplier: i64, shift: u32) -> i128 {
    let p = x as i128 * multiplier as i128;
    if shift == 0 {
        p
    } else {
        (p + (1i128 << (shift - 1))) >> shift
    }
}

/// Runs the model on an already quantized input (see [`QuantModel::quantize_input`])
/// of one or more whole samples; each tensor of the trace holds the samples stacked.
pub fn evaluate(model: &QuantModel, input: &[i64]) -> Result<Trace> {
    let t_in = &model.tensors[model.input];
    if input.is_empty() || !input.len().is_multiple_of(t_in.len()) {
        return Err(ModelError::InputLength {
            expected: model.statement_input_len(),
            got: input.len(),
        });
    }
    if let Some((index, &value)) = input.iter().enumerate().find(|(_, v)| v.abs() > t_in.bound) {
        return Err(ModelError::InputOutOfBound {
            index,
            value,
            bound: t_in.bound,
        });
    }
    let mut values: Vec<Vec<i64>> = vec![Vec::new(); model.tensors.len()];
    values[model.input] = input.to_vec();
    evaluate_from(model, &mut values, 0)?;
    Ok(Trace { values })
}

/// Re-runs ops `start..` over `values`, whose tensors read by those ops are
/// already filled (a test that edits a tensor re-derives everything after it).
/// With several samples stacked, elementwise and row-wise ops run once over
/// all of them (a Dense streams its weights once per batch), the others once
/// per sample.
pub fn evaluate_from(model: &QuantModel, values: &mut [Vec<i64>], start: usize) -> Result<()> {
    let per_sample = model.tensors[model.input].len().max(1);
    let samples = values[model.input].len() / per_sample;
    if samples <= 1 {
        return evaluate_sample_from(model, values, start);
    }
    let mut scratch: Vec<Vec<i64>> = vec![Vec::new(); values.len()];
    for (k, op) in model.ops.iter().enumerate().skip(start) {
        let (ins, out) = op.io();
        let y = if acts_on_rows(op) {
            eval_op(model, k, op, values)?.1
        } else {
            let mut y = Vec::with_capacity(samples * model.tensors[out].len());
            for s in 0..samples {
                for &i in &ins {
                    let n = model.tensors[i].len();
                    scratch[i] = values[i].get(s * n..(s + 1) * n).unwrap_or(&[]).to_vec();
                }
                y.extend(eval_op(model, k, op, &scratch)?.1);
            }
            y
        };
        store(model, k, out, y, samples, values)?;
    }
    Ok(())
}

/// `y[i] = x[source[i]]`, or 0 where `source[i] < 0`.
fn select(x: &[i64], source: &[i64]) -> Vec<i64> {
    source
        .iter()
        .map(|&k| if k < 0 { 0 } else { x[k as usize] })
        .collect()
}

/// Ops whose semantics on stacked samples is their semantics per sample:
/// elementwise ones and a Dense (applied to every row of its input).
fn acts_on_rows(op: &QOp) -> bool {
    matches!(
        op,
        QOp::Dense { .. }
            | QOp::Requant { .. }
            | QOp::Lut { .. }
            | QOp::Add { .. }
            | QOp::Mul { .. }
            | QOp::Reshape { .. }
    )
}

/// Checks an op's result (`samples` stacked) against its tensor and stores it.
fn store(
    model: &QuantModel,
    k: usize,
    out: TensorId,
    y: Vec<i64>,
    samples: usize,
    values: &mut [Vec<i64>],
) -> Result<()> {
    let info = &model.tensors[out];
    if y.len() != samples * info.len() {
        return Err(ModelError::Invalid(format!(
            "op #{k} produced {} values for `{}`",
            y.len(),
            info.name
        )));
    }
    if let Some(v) = y.iter().find(|v| v.abs() > info.bound) {
        return Err(ModelError::BoundViolation {
            op: k,
            tensor: info.name.clone(),
            value: *v as i128,
            bound: info.bound,
        });
    }
    values[out] = y;
    Ok(())
}

fn evaluate_sample_from(model: &QuantModel, values: &mut [Vec<i64>], start: usize) -> Result<()> {
    for (k, op) in model.ops.iter().enumerate().skip(start) {
        let (out, y) = eval_op(model, k, op, values)?;
        store(model, k, out, y, 1, values)?;
    }
    Ok(())
}

/// Integers below `2^F64_EXACT_BITS` in magnitude are exact in f64.
const F64_EXACT_BITS: u32 = 53;

/// `Σ a_i·b_i` with eight independent accumulators (so it vectorises). Exact
/// when the caller has bounded every partial sum below `2^53`.
fn dot_exact_f64(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// The largest magnitude in `v` (0 when empty).
fn amax<T: Copy + Into<i64>>(v: &[T]) -> u128 {
    v.iter()
        .map(|&a| a.into().unsigned_abs() as u128)
        .max()
        .unwrap_or(0)
}

/// `y[r, o] = b[o] + Σ_i w[o, i]·x[r, i]` in i64 when no accumulator can
/// overflow (from the actual magnitudes), else `None` (the caller uses i128).
/// Weight-stationary: each weight row meets every input row while cached, in
/// parallel over output units — the same exact sums. Generic over the
/// weights' storage ([`crate::IntVec`]: i16 for quantized weights).
fn dense_i64<W: Copy + Into<i64> + Sync>(
    x: &[i64],
    weight: &[W],
    bias: &[i64],
    in_dim: usize,
) -> Option<Vec<i64>> {
    use rayon::prelude::*;
    let worst = amax(x) * amax(weight) * in_dim as u128 + amax(bias);
    if worst >= 1u128 << 62 || in_dim == 0 {
        return None;
    }
    let out_dim = bias.len();
    let rows = x.len() / in_dim;
    let columns: Vec<Vec<i64>> = if worst < 1u128 << F64_EXACT_BITS {
        // Every product and partial sum is an integer below 2^53 in
        // magnitude, so f64 arithmetic is exact in any order — and vectorises
        // (fused multiply-adds), where 64-bit integer multiplies do not.
        let xf: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        weight
            .par_chunks(in_dim)
            .zip(bias)
            .map_init(
                || vec![0f64; in_dim],
                |wf, (w, &b)| {
                    for (d, &a) in wf.iter_mut().zip(w) {
                        *d = a.into() as f64;
                    }
                    xf.chunks(in_dim)
                        .map(|xr| b + dot_exact_f64(wf, xr) as i64)
                        .collect()
                },
            )
            .collect()
    } else {
        weight
            .par_chunks(in_dim)
            .zip(bias)
            .map(|(w, &b)| {
                x.chunks(in_dim)
                    .map(|xr| b + w.iter().zip(xr).map(|(&a, &v)| a.into() * v).sum::<i64>())
                    .collect()
            })
            .collect()
    };
    let mut y = vec![0i64; rows * out_dim];
    for (o, col) in columns.iter().enumerate() {
        for (r, &v) in col.iter().enumerate() {
            y[r * out_dim + o] = v;
        }
    }
    Some(y)
}

/// Conv2d in i64 when no accumulator can overflow (checked from the actual
/// magnitudes: `max|w| · max|x| · fan_in + max|b| < 2^62`), else `None` and
/// the caller uses the i128 loops. Weight-stationary over output rows, in
/// parallel over output channels: the same exact sums, 5–10× faster.
#[allow(clippy::too_many_arguments)]
fn conv2d_i64<W: Copy + Into<i64> + Sync>(
    x: &[i64],
    weight: &[W],
    bias: &[i64],
    [ic, h, w]: [usize; 3],
    [oc, oh, ow]: [usize; 3],
    [kh, kw]: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
) -> Option<Vec<i64>> {
    use rayon::prelude::*;
    let worst = amax(x) * amax(weight) * (ic * kh * kw) as u128 + amax(bias);
    if worst >= 1u128 << 62 || oh == 0 || ow == 0 {
        return None;
    }
    let (sy, sx) = (strides[0], strides[1]);
    let mut y = vec![0i64; oc * oh * ow];
    y.par_chunks_mut(oh * ow).enumerate().for_each(|(o, acc)| {
        acc.fill(bias[o]);
        for c in 0..ic {
            for ky in 0..kh {
                for kx in 0..kw {
                    let wv: i64 = weight[((o * ic + c) * kh + ky) * kw + kx].into();
                    if wv == 0 {
                        continue;
                    }
                    // Output columns whose input column ox·sx + kx − pl lies in [0, w).
                    let lo = pads[1].saturating_sub(kx).div_ceil(sx);
                    let hi = (w + pads[1]).saturating_sub(kx).div_ceil(sx).min(ow);
                    for oy in 0..oh {
                        let Some(iy) = (oy * sy + ky).checked_sub(pads[0]).filter(|&v| v < h)
                        else {
                            continue;
                        };
                        let xrow = &x[(c * h + iy) * w..(c * h + iy + 1) * w];
                        let arow = &mut acc[oy * ow..(oy + 1) * ow];
                        for ox in lo..hi {
                            arow[ox] += wv * xrow[ox * sx + kx - pads[1]];
                        }
                    }
                }
            }
        }
    });
    Some(y)
}

fn checked(k: usize, name: &str, v: i128, bound: i64) -> Result<i64> {
    if v.unsigned_abs() > bound as u128 {
        return Err(ModelError::BoundViolation {
            op: k,
            tensor: name.to_string(),
            value: v,
            bound,
        });
    }
    Ok(v as i64)
}

fn eval_op(m: &QuantModel, k: usize, op: &QOp, vals: &[Vec<i64>]) -> Result<(TensorId, Vec<i64>)> {
    let name = |t: TensorId| m.tensors[t].name.as_str();
    Ok(match op {
        QOp::Dense {
            input,
            output,
            in_dim,
            out_dim,
            weight,
            bias,
        } => {
            let x = &vals[*input];
            if let Some(y) = with_int_slice!(weight, w => dense_i64(x, w, bias, *in_dim)) {
                return Ok((*output, y));
            }
            let mut y = Vec::with_capacity(x.len() / in_dim * out_dim);
            for x in x.chunks(*in_dim) {
                for (o, &b) in bias[..*out_dim].iter().enumerate() {
                    let row = weight.range(o * in_dim..(o + 1) * in_dim);
                    let acc: i128 = b as i128
                        + row
                            .zip(x)
                            .map(|(w, &v)| w as i128 * v as i128)
                            .sum::<i128>();
                    y.push(checked(k, name(*output), acc, m.tensors[*output].bound)?);
                }
            }
            (*output, y)
        }
        QOp::Conv2d {
            input,
            output,
            kernel_shape,
            weight,
            bias,
            strides,
            pads,
        } => {
            let [oc, ic, kh, kw] = *kernel_shape;
            let (ish, osh) = (&m.tensors[*input].shape, &m.tensors[*output].shape);
            let (h, w) = (ish[1], ish[2]);
            let (oh, ow) = (osh[1], osh[2]);
            let x = &vals[*input];
            let y = with_int_slice!(weight, wt => {
                conv2d_i64(x, wt, bias, [ic, h, w], [oc, oh, ow], [kh, kw], *strides, *pads)
            });
            if let Some(y) = y {
                let bound = m.tensors[*output].bound;
                if let Some(v) = y.iter().find(|v| v.unsigned_abs() > bound as u64) {
                    return Err(ModelError::BoundViolation {
                        op: k,
                        tensor: name(*output).to_string(),
                        value: *v as i128,
                        bound,
                    });
                }
                return Ok((*output, y));
            }
            let mut y = vec![0i64; oc * oh * ow];
            for o in 0..oc {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = bias[o] as i128;
                        for c in 0..ic {
                            for ky in 0..kh {
                                let iy = (oy * strides[0] + ky) as isize - pads[0] as isize;
                                if iy < 0 || iy >= h as isize {
                                    continue;
                                }
                                for kx in 0..kw {
                                    let ix = (ox * strides[1] + kx) as isize - pads[1] as isize;
                                    if ix < 0 || ix >= w as isize {
                                        continue;
                                    }
                                    acc += weight.get(((o * ic + c) * kh + ky) * kw + kx) as i128
                                        * x[(c * h + iy as usize) * w + ix as usize] as i128;
                                }
                            }
                        }
                        y[(o * oh + oy) * ow + ox] =
                            checked(k, name(*output), acc, m.tensors[*output].bound)?;
                    }
                }
            }
            (*output, y)
        }
        QOp::Requant {
            input,
            output,
            multiplier,
            shift,
            min,
            max,
        } => {
            let excess = 1i128 << REQUANT_EXCESS_BITS;
            let (lo, hi) = (*min as i128 - excess, *max as i128 + excess);
            let mut y = Vec::with_capacity(vals[*input].len());
            for &v in &vals[*input] {
                let q = requant_quotient(v, *multiplier, *shift);
                if q <= lo || q >= hi {
                    return Err(ModelError::RequantWindow {
                        op: k,
                        tensor: name(*output).to_string(),
                        value: q,
                    });
                }
                y.push((q as i64).clamp(*min, *max));
            }
            (*output, y)
        }
        QOp::Lut {
            input,
            output,
            in_min,
            table,
            ..
        } => {
            let hi = in_min + table.len() as i64;
            let mut y = Vec::with_capacity(vals[*input].len());
            for &v in &vals[*input] {
                if v < *in_min || v >= hi {
                    return Err(ModelError::LutDomain {
                        op: k,
                        tensor: name(*input).to_string(),
                        value: v,
                        lo: *in_min,
                        hi,
                    });
                }
                y.push(table[(v - in_min) as usize]);
            }
            (*output, y)
        }
        QOp::MatMul { a, b, output } => {
            let bound = m.tensors[*output].bound;
            let (rows, inner, n, lead) =
                crate::ir::matmul_dims(&m.tensors[*a].shape, &m.tensors[*b].shape)
                    .ok_or_else(|| ModelError::Invalid(format!("op #{k}: MatMul shapes")))?;
            let heads: usize = lead.iter().product();
            let (va, vb) = (&vals[*a], &vals[*b]);
            let mut y = Vec::with_capacity(heads * rows * n);
            for h in 0..heads {
                let (ah, bh) = (&va[h * rows * inner..], &vb[h * inner * n..]);
                for i in 0..rows {
                    for j in 0..n {
                        let acc: i128 = (0..inner)
                            .map(|t| ah[i * inner + t] as i128 * bh[t * n + j] as i128)
                            .sum();
                        y.push(checked(k, name(*output), acc, bound)?);
                    }
                }
            }
            (*output, y)
        }
        QOp::Mul { a, b, output } => {
            let bound = m.tensors[*output].bound;
            let y = vals[*a]
                .iter()
                .zip(&vals[*b])
                .map(|(&x, &z)| checked(k, name(*output), x as i128 * z as i128, bound))
                .collect::<Result<Vec<i64>>>()?;
            (*output, y)
        }
        QOp::Add {
            a,
            b,
            output,
            a_mul,
            b_mul,
        } => {
            let bound = m.tensors[*output].bound;
            let y = vals[*a]
                .iter()
                .zip(&vals[*b])
                .map(|(&x, &z)| {
                    checked(
                        k,
                        name(*output),
                        x as i128 * *a_mul as i128 + z as i128 * *b_mul as i128,
                        bound,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            (*output, y)
        }
        QOp::MaxPool {
            input,
            output,
            kernel,
            strides,
            pads,
        }
        | QOp::SumPool {
            input,
            output,
            kernel,
            strides,
            pads,
        } => {
            let is_max = matches!(op, QOp::MaxPool { .. });
            let (ish, osh) = (&m.tensors[*input].shape, &m.tensors[*output].shape);
            let (c, h, w) = (ish[0], ish[1], ish[2]);
            let (oh, ow) = (osh[1], osh[2]);
            let x = &vals[*input];
            let mut y = vec![0i64; c * oh * ow];
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc: i128 = if is_max { i64::MIN as i128 } else { 0 };
                        for ky in 0..kernel[0] {
                            let iy = (oy * strides[0] + ky) as isize - pads[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kernel[1] {
                                let ix = (ox * strides[1] + kx) as isize - pads[1] as isize;
                                if ix < 0 || ix >= w as isize {
                                    continue;
                                }
                                let v = x[(ch * h + iy as usize) * w + ix as usize] as i128;
                                if is_max {
                                    acc = acc.max(v)
                                } else {
                                    acc += v
                                }
                            }
                        }
                        y[(ch * oh + oy) * ow + ox] =
                            checked(k, name(*output), acc, m.tensors[*output].bound)?;
                    }
                }
            }
            (*output, y)
        }
        QOp::Reshape { input, output } => (*output, vals[*input].clone()),
        QOp::MulConst {
            input,
            output,
            constant,
        } => {
            let y = vals[*input]
                .iter()
                .zip(constant)
                .map(|(&x, &c)| {
                    checked(
                        k,
                        name(*output),
                        x as i128 * c as i128,
                        m.tensors[*output].bound,
                    )
                })
                .collect::<Result<_>>()?;
            (*output, y)
        }
        QOp::AddConst {
            input,
            output,
            constant,
        } => {
            let y = vals[*input]
                .iter()
                .zip(constant)
                .map(|(&x, &c)| {
                    checked(
                        k,
                        name(*output),
                        x as i128 + c as i128,
                        m.tensors[*output].bound,
                    )
                })
                .collect::<Result<_>>()?;
            (*output, y)
        }
        QOp::Select {
            input,
            output,
            source,
        } => (*output, select(&vals[*input], source)),
        QOp::SelectAxes { input, output, map } => (*output, select(&vals[*input], &map.source())),
        QOp::SelectBands { input, output, map } => (*output, select(&vals[*input], &map.source())),
        QOp::Transpose {
            input,
            output,
            perm,
        } => (
            *output,
            crate::float::transpose(&vals[*input], &m.tensors[*input].shape, perm),
        ),
    })
}

#[cfg(test)]
mod conv_tests {
    use super::*;

    /// The reference loops (as in `eval_op`'s i128 path), for comparison.
    #[allow(clippy::too_many_arguments)] // the conv's shape, spelled out
    fn reference(
        x: &[i64],
        wt: &[i64],
        b: &[i64],
        [ic, h, w]: [usize; 3],
        [oc, oh, ow]: [usize; 3],
        [kh, kw]: [usize; 2],
        s: [usize; 2],
        p: [usize; 4],
    ) -> Vec<i64> {
        let mut y = vec![0i64; oc * oh * ow];
        for o in 0..oc {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = b[o] as i128;
                    for c in 0..ic {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * s[0] + ky) as isize - p[0] as isize;
                                let ix = (ox * s[1] + kx) as isize - p[1] as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    acc += wt[((o * ic + c) * kh + ky) * kw + kx] as i128
                                        * x[(c * h + iy as usize) * w + ix as usize] as i128;
                                }
                            }
                        }
                    }
                    y[(o * oh + oy) * ow + ox] = acc as i64;
                }
            }
        }
        y
    }

    #[test]
    fn i64_path_matches_the_reference_on_odd_geometry() {
        let mut seed = 7u64;
        let mut rnd = |lo: i64, hi: i64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + ((seed >> 33) % (hi - lo + 1) as u64) as i64
        };
        for (ic, h, w, oc, kh, kw, s, p) in [
            (3, 7, 5, 4, 3, 3, [1, 1], [1, 1, 1, 1]),
            (2, 9, 13, 3, 3, 2, [2, 3], [0, 2, 1, 0]),
            (1, 4, 4, 2, 5, 5, [1, 1], [2, 2, 2, 2]),
        ] {
            let oh = (h + p[0] + p[2] - kh) / s[0] + 1;
            let ow = (w + p[1] + p[3] - kw) / s[1] + 1;
            let x: Vec<i64> = (0..ic * h * w).map(|_| rnd(-128, 127)).collect();
            let wt: Vec<i64> = (0..oc * ic * kh * kw).map(|_| rnd(-127, 127)).collect();
            let b: Vec<i64> = (0..oc).map(|_| rnd(-1000, 1000)).collect();
            let geo = ([ic, h, w], [oc, oh, ow], [kh, kw]);
            let fast = conv2d_i64(&x, &wt, &b, geo.0, geo.1, geo.2, s, p).expect("fits i64");
            assert_eq!(fast, reference(&x, &wt, &b, geo.0, geo.1, geo.2, s, p));
        }
        // Magnitudes that could overflow i64 take the i128 path.
        let big = vec![1i64 << 40; 4];
        assert!(conv2d_i64(
            &big,
            &big,
            &[0],
            [1, 2, 2],
            [1, 1, 1],
            [2, 2],
            [1, 1],
            [0; 4]
        )
        .is_none());
    }
}

#[cfg(test)]
mod dense_tests {
    use super::*;

    fn reference(x: &[i64], w: &[i64], b: &[i64], in_dim: usize) -> Vec<i64> {
        let out = b.len();
        let mut y = Vec::new();
        for xr in x.chunks(in_dim) {
            for o in 0..out {
                let row = &w[o * in_dim..(o + 1) * in_dim];
                let acc: i128 = b[o] as i128
                    + row
                        .iter()
                        .zip(xr)
                        .map(|(&a, &v)| a as i128 * v as i128)
                        .sum::<i128>();
                y.push(acc as i64);
            }
        }
        y
    }

    /// Both the f64 path (sums below 2^53) and the i64 path (above) give the
    /// exact sums, including odd lengths (the unrolled dot's tail) and
    /// magnitudes right at the f64 limit.
    #[test]
    fn dense_paths_are_exact() {
        let mut seed = 11u64;
        let mut rnd = |lo: i64, hi: i64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + ((seed >> 11) % (hi - lo + 1) as u64) as i64
        };
        for (rows, in_dim, out, xmax, wmax) in [
            (3, 13, 5, 1 << 13, 1 << 12),
            (2, 64, 7, 1 << 20, 1 << 26), // 2^52·64 > 2^53: the i64 path
            (4, 9, 3, (1 << 22) - 1, (1 << 27) - 1), // just under 2^53 with 9 terms
            (1, 1, 1, 5, 5),
        ] {
            let x: Vec<i64> = (0..rows * in_dim).map(|_| rnd(-xmax, xmax)).collect();
            let w: Vec<i64> = (0..out * in_dim).map(|_| rnd(-wmax, wmax)).collect();
            let b: Vec<i64> = (0..out).map(|_| rnd(-1000, 1000)).collect();
            let fast = dense_i64(&x, &w, &b, in_dim).expect("fits i64");
            assert_eq!(fast, reference(&x, &w, &b, in_dim), "{rows}x{in_dim}x{out}");
        }
        // Values whose products are odd and near 2^52: f64 must not round.
        let x = vec![(1i64 << 26) - 1; 3];
        let w = vec![(1i64 << 26) + 1; 3];
        assert_eq!(
            dense_i64(&x, &w, &[1], 3).unwrap(),
            reference(&x, &w, &[1], 3)
        );
    }
}

//! The exact integer evaluator: the reference semantics of every [`QOp`]. The prover
//! must reproduce these values bit for bit; the whole [`Trace`] is its witness.

use crate::error::{ModelError, Result};
use crate::ir::{QOp, QuantModel, TensorId, REQUANT_WINDOW_BITS};

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

/// Runs the model on an already quantized input (see [`QuantModel::quantize_input`]).
pub fn evaluate(model: &QuantModel, input: &[i64]) -> Result<Trace> {
    let t_in = &model.tensors[model.input];
    if input.len() != t_in.len() {
        return Err(ModelError::InputLength {
            expected: t_in.len(),
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
    for (k, op) in model.ops.iter().enumerate() {
        let (out, y) = eval_op(model, k, op, &values)?;
        let info = &model.tensors[out];
        if y.len() != info.len() {
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
    }
    Ok(Trace { values })
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
            let mut y = Vec::with_capacity(*out_dim);
            for o in 0..*out_dim {
                let row = &weight[o * in_dim..(o + 1) * in_dim];
                let acc: i128 = bias[o] as i128
                    + row
                        .iter()
                        .zip(x)
                        .map(|(&w, &v)| w as i128 * v as i128)
                        .sum::<i128>();
                y.push(checked(k, name(*output), acc, m.tensors[*output].bound)?);
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
                                    acc += weight[((o * ic + c) * kh + ky) * kw + kx] as i128
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
            let half = 1i128 << (REQUANT_WINDOW_BITS - 1);
            let mut y = Vec::with_capacity(vals[*input].len());
            for &v in &vals[*input] {
                let q = requant_quotient(v, *multiplier, *shift);
                if q < -half || q >= half {
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

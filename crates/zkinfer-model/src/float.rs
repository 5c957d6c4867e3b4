//! zkinfer's own float graph: the ONNX model after import (one sample: the
//! batch axis is bound to 1 and the batch size kept aside; constants folded,
//! BatchNorm folded where possible). Its evaluator is the float
//! reference (f64) for calibration and accuracy reports — no tract needed at run time.

use crate::error::{ModelError, Result};
use crate::unary::UnaryFn;
use serde::{Deserialize, Serialize};

/// Index into [`FloatModel::tensors`].
pub type FId = usize;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FTensor {
    pub name: String,
    /// Full ONNX shape; the leading (batch) axis is always 1.
    pub shape: Vec<usize>,
}

impl FTensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum FOpKind {
    /// `y[r, o] = Σ w[o*in+i] x[r, i] + b[o]` for each row `r` of `in` elements.
    Dense {
        w: Vec<f64>,
        b: Vec<f64>,
        in_dim: usize,
        out_dim: usize,
    },
    /// NCHW conv, group 1, dilation 1. `kernel_shape = [oc, ic, kh, kw]`, pads `[t, l, b, r]`.
    Conv {
        w: Vec<f64>,
        b: Vec<f64>,
        kernel_shape: [usize; 4],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// Per-channel (axis 1) affine `y = x * scale[c] + shift[c]` (BatchNorm, Add/Mul of constants).
    Affine {
        scale: Vec<f64>,
        shift: Vec<f64>,
    },
    Add,
    /// `x + c` with a constant of one sample's shape.
    AddConst {
        c: Vec<f64>,
    },
    /// `x · c` elementwise with a constant of one sample's shape.
    MulConst {
        c: Vec<f64>,
    },
    /// `a − b` of two activations of one shape.
    Sub,
    /// `a · b` (elementwise) of two activations of one shape.
    Mul,
    /// Matrix product of two activations `[1, .., M, K]·[1, .., K, N]`
    /// (equal leading axes).
    MatMul,
    Relu,
    Sigmoid,
    Tanh,
    LeakyRelu {
        alpha: f64,
    },
    Clip {
        min: f64,
        max: f64,
    },
    /// A unary elementwise function proven by lookup table (Exp, Erf, Gelu, Elu, …).
    Unary(UnaryFn),
    MaxPool {
        kernel: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// Average pooling, divisor = kernel size (padding counted).
    AvgPool {
        kernel: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    Reshape,
    /// Data movement by a constant index map: `y[i] = x[source[i]]`, or 0
    /// where `source[i] < 0` (per sample).
    Select {
        source: Vec<i64>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    /// Softmax over all non-batch elements (only allowed as the final op).
    Softmax,
    /// The 0/1 one-hot of the first maximum along the last axis (ArgMax,
    /// ArgMin, Hardmax, TopK with k = 1; quantized by [`crate::argmax`]).
    ArgMaxOneHot,
    /// The `k` one-hots of a row's `k` largest entries, largest first and
    /// of tied values the lower index first (ONNX TopK): `[.., L]` →
    /// `[.., k, L]` (quantized by [`crate::argmax::top_k_one_hots`]).
    TopKOneHot {
        k: usize,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FOp {
    pub kind: FOpKind,
    pub inputs: Vec<FId>,
    pub output: FId,
    /// ONNX node name and op type, for messages.
    pub node: String,
    pub op_type: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FloatModel {
    pub tensors: Vec<FTensor>,
    pub input: FId,
    pub output: FId,
    /// The ONNX model's fixed batch size (1 when symbolic): samples per
    /// statement. Every tensor here describes one sample.
    pub batch: usize,
    /// The batch axis is symbolic: a statement may hold any number of samples.
    pub dynamic_batch: bool,
    pub ops: Vec<FOp>,
    /// The graph inputs, in graph order, as segments of each sample of
    /// [`FloatModel::input`] (one segment, the whole tensor, for a
    /// single-input model; empty in files written before there were several).
    #[serde(default)]
    pub input_segments: Vec<InputSegment>,
    /// The graph outputs, in graph order (empty in files written before
    /// there were several: then [`FloatModel::output`] is the one output).
    /// [`FloatModel::evaluate`] returns their values one after the other.
    #[serde(default)]
    pub outputs: Vec<GraphOutput>,
}

/// One ONNX graph output: the tensor computing it and its element type.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GraphOutput {
    pub name: String,
    pub tensor: FId,
    /// An integer type (a class label, an index) is reported as integers.
    pub elem: InputElem,
}

/// Where one ONNX graph input sits in the model's single input tensor. The
/// statement has one public input, so several graph inputs are laid side by
/// side per sample: sample `s` of the statement is `[in_1 of s, in_2 of s, …]`,
/// and graph input `i` is the values `offset..offset + len` of each sample.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InputSegment {
    /// The graph input's name.
    pub name: String,
    /// Its shape for one sample (batch axis 1).
    pub shape: Vec<usize>,
    /// Its element type: every type is read as numbers.
    pub elem: InputElem,
    pub offset: usize,
    pub len: usize,
    /// `Some(V)`: this segment is not the input's values but their one-hot
    /// encoding of depth `V` (1 at each id, 0 elsewhere; `shape` is the ids'
    /// shape followed by `V`), for the constant tables gathered by these
    /// integer ids ([`crate::embedding`]). Input files still hold the ids; the
    /// prover and the verifier both expand them ([`crate::input::interleave`]).
    #[serde(default)]
    pub one_hot: Option<usize>,
}

impl InputSegment {
    /// Values of the graph input this segment comes from, per sample.
    pub fn ids_len(&self) -> usize {
        match self.one_hot {
            Some(v) => self.len / v.max(1),
            None => self.len,
        }
    }
}

/// Element type of a graph input. Integers and booleans are taken as the
/// numbers they are (a boolean is 0 or 1), so a mask or a count can enter the
/// arithmetic; input files must then hold such values ([`InputElem::admits`]).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum InputElem {
    Float32,
    Float16,
    Float64,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Bool,
}

impl InputElem {
    /// The type of an ONNX `TensorProto.DataType` code; an error naming the
    /// type for those that are not numbers (strings, complex) or that we
    /// cannot represent (bfloat16, 8- and 4-bit floats and integers).
    pub fn from_onnx(code: i32) -> std::result::Result<InputElem, String> {
        use InputElem::*;
        Ok(match code {
            1 => Float32,
            2 => Uint8,
            3 => Int8,
            4 => Uint16,
            5 => Int16,
            6 => Int32,
            7 => Int64,
            9 => Bool,
            10 => Float16,
            11 => Float64,
            12 => Uint32,
            13 => Uint64,
            8 => return Err("element type string is not a number".into()),
            14 | 15 => {
                return Err(format!(
                    "element type complex{} is not supported (real numbers only)",
                    if code == 14 { 64 } else { 128 }
                ))
            }
            16 => return Err("element type bfloat16 is not supported".into()),
            c => return Err(format!("element type {c} is not supported")),
        })
    }

    /// The ONNX name of the type (`float`, `int64`, `bool`, …).
    pub fn onnx_name(self) -> &'static str {
        use InputElem::*;
        match self {
            Float32 => "float",
            Float16 => "float16",
            Float64 => "double",
            Int8 => "int8",
            Int16 => "int16",
            Int32 => "int32",
            Int64 => "int64",
            Uint8 => "uint8",
            Uint16 => "uint16",
            Uint32 => "uint32",
            Uint64 => "uint64",
            Bool => "bool",
        }
    }

    /// An integer or boolean type (its values are reported as integers).
    pub fn is_integer(self) -> bool {
        !matches!(
            self,
            InputElem::Float32 | InputElem::Float16 | InputElem::Float64
        )
    }

    /// Whether `v` is a value of this type: any finite number for a float,
    /// an integer in range for an integer type, 0 or 1 for a boolean.
    pub fn admits(self, v: f64) -> bool {
        use InputElem::*;
        let (lo, hi) = match self {
            Float32 | Float16 | Float64 => return v.is_finite(),
            Bool => (0.0, 1.0),
            Int8 => (-128.0, 127.0),
            Int16 => (-32768.0, 32767.0),
            Int32 => (-2147483648.0, 2147483647.0),
            Int64 => (-9.223372036854776e18, 9.223372036854776e18),
            Uint8 => (0.0, 255.0),
            Uint16 => (0.0, 65535.0),
            Uint32 => (0.0, 4294967295.0),
            Uint64 => (0.0, 1.8446744073709552e19),
        };
        v.fract() == 0.0 && (lo..=hi).contains(&v)
    }
}

/// Output size of a window op (conv or pool) along one axis; `None` if the kernel does not fit.
pub fn conv_out_dim(
    inp: usize,
    k: usize,
    stride: usize,
    pad_a: usize,
    pad_b: usize,
) -> Option<usize> {
    // Untrusted model files may carry any sizes: overflow is "no output".
    let padded = inp.checked_add(pad_a)?.checked_add(pad_b)?;
    if stride == 0 || padded < k {
        return None;
    }
    Some((padded - k) / stride + 1)
}

impl FloatModel {
    pub fn input_len(&self) -> usize {
        self.tensors[self.input].len()
    }
    /// The tensors of the graph outputs, in graph order.
    pub fn output_ids(&self) -> Vec<FId> {
        if self.outputs.is_empty() {
            vec![self.output]
        } else {
            self.outputs.iter().map(|o| o.tensor).collect()
        }
    }
    /// Values per sample of all graph outputs together.
    pub fn output_len(&self) -> usize {
        self.output_ids()
            .iter()
            .map(|&t| self.tensors[t].len())
            .sum()
    }
    pub fn num_consumers(&self, t: FId) -> usize {
        self.ops
            .iter()
            .map(|o| o.inputs.iter().filter(|&&i| i == t).count())
            .sum::<usize>()
            + self.output_ids().iter().filter(|&&o| o == t).count()
    }
    pub fn producer(&self, t: FId) -> Option<usize> {
        self.ops.iter().position(|o| o.output == t)
    }

    /// Evaluates every tensor (f64). `x` is the flattened input.
    pub fn evaluate_all(&self, x: &[f64]) -> Result<Vec<Vec<f64>>> {
        if x.len() != self.input_len() {
            return Err(ModelError::InputLength {
                expected: self.input_len(),
                got: x.len(),
            });
        }
        if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                index: i,
                value: *v,
            });
        }
        let mut vals: Vec<Vec<f64>> = vec![Vec::new(); self.tensors.len()];
        vals[self.input] = x.to_vec();
        for op in &self.ops {
            let y = self.eval_op(op, &vals);
            debug_assert_eq!(y.len(), self.tensors[op.output].len());
            vals[op.output] = y;
        }
        Ok(vals)
    }

    /// The graph outputs' values, one output after the other.
    pub fn evaluate(&self, x: &[f64]) -> Result<Vec<f64>> {
        let all = self.evaluate_all(x)?;
        Ok(self
            .output_ids()
            .iter()
            .flat_map(|&t| all[t].iter().copied())
            .collect())
    }

    fn eval_op(&self, op: &FOp, vals: &[Vec<f64>]) -> Vec<f64> {
        let x = &vals[op.inputs[0]];
        let in_shape = &self.tensors[op.inputs[0]].shape;
        let out_shape = &self.tensors[op.output].shape;
        match &op.kind {
            FOpKind::Dense {
                w,
                b,
                in_dim,
                out_dim,
            } => x
                .chunks(*in_dim)
                .flat_map(|row| {
                    (0..*out_dim).map(move |o| {
                        b[o] + (0..*in_dim)
                            .map(|i| w[o * in_dim + i] * row[i])
                            .sum::<f64>()
                    })
                })
                .collect(),
            FOpKind::Conv {
                w,
                b,
                kernel_shape,
                strides,
                pads,
            } => {
                let [oc, ic, kh, kw] = *kernel_shape;
                let (h, wd) = (in_shape[2], in_shape[3]);
                let (oh, ow) = (out_shape[2], out_shape[3]);
                let mut y = vec![0.0; oc * oh * ow];
                for o in 0..oc {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let mut acc = b[o];
                            for c in 0..ic {
                                for ky in 0..kh {
                                    let iy = (oy * strides[0] + ky) as isize - pads[0] as isize;
                                    if iy < 0 || iy >= h as isize {
                                        continue;
                                    }
                                    for kx in 0..kw {
                                        let ix = (ox * strides[1] + kx) as isize - pads[1] as isize;
                                        if ix < 0 || ix >= wd as isize {
                                            continue;
                                        }
                                        acc += w[((o * ic + c) * kh + ky) * kw + kx]
                                            * x[(c * h + iy as usize) * wd + ix as usize];
                                    }
                                }
                            }
                            y[(o * oh + oy) * ow + ox] = acc;
                        }
                    }
                }
                y
            }
            FOpKind::Affine { scale, shift } => {
                let c = in_shape.get(1).copied().unwrap_or(1).max(1);
                let inner = x.len() / c;
                x.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let ch = i / inner.max(1);
                        v * scale[ch] + shift[ch]
                    })
                    .collect()
            }
            FOpKind::Add => {
                let b = &vals[op.inputs[1]];
                x.iter().zip(b).map(|(a, b)| a + b).collect()
            }
            FOpKind::AddConst { c } => x.iter().zip(c).map(|(a, b)| a + b).collect(),
            FOpKind::MulConst { c } => x.iter().zip(c).map(|(a, b)| a * b).collect(),
            FOpKind::Sub => {
                let b = &vals[op.inputs[1]];
                x.iter().zip(b).map(|(a, b)| a - b).collect()
            }
            FOpKind::Mul => {
                let b = &vals[op.inputs[1]];
                x.iter().zip(b).map(|(a, b)| a * b).collect()
            }
            FOpKind::MatMul => {
                let b = &vals[op.inputs[1]];
                let bs = &self.tensors[op.inputs[1]].shape;
                let (r, k, n) = (
                    in_shape.len(),
                    in_shape[in_shape.len() - 1],
                    bs[bs.len() - 1],
                );
                let m = in_shape[r - 2];
                let heads: usize = in_shape[..r - 2].iter().product();
                let mut y = Vec::with_capacity(heads * m * n);
                for h in 0..heads {
                    for i in 0..m {
                        for j in 0..n {
                            y.push(
                                (0..k)
                                    .map(|t| x[(h * m + i) * k + t] * b[(h * k + t) * n + j])
                                    .sum(),
                            );
                        }
                    }
                }
                y
            }
            FOpKind::Relu => x.iter().map(|v| v.max(0.0)).collect(),
            FOpKind::Sigmoid => x.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect(),
            FOpKind::Tanh => x.iter().map(|v| v.tanh()).collect(),
            FOpKind::LeakyRelu { alpha } => x
                .iter()
                .map(|&v| if v >= 0.0 { v } else { alpha * v })
                .collect(),
            FOpKind::Clip { min, max } => x.iter().map(|v| v.max(*min).min(*max)).collect(),
            FOpKind::Unary(f) => x.iter().map(|&v| f.eval(v)).collect(),
            FOpKind::MaxPool {
                kernel,
                strides,
                pads,
            }
            | FOpKind::AvgPool {
                kernel,
                strides,
                pads,
            } => {
                let is_max = matches!(op.kind, FOpKind::MaxPool { .. });
                let (c, h, wd) = (in_shape[1], in_shape[2], in_shape[3]);
                let (oh, ow) = (out_shape[2], out_shape[3]);
                let mut y = vec![0.0; c * oh * ow];
                for ch in 0..c {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let mut acc = if is_max { f64::NEG_INFINITY } else { 0.0 };
                            for ky in 0..kernel[0] {
                                let iy = (oy * strides[0] + ky) as isize - pads[0] as isize;
                                if iy < 0 || iy >= h as isize {
                                    continue;
                                }
                                for kx in 0..kernel[1] {
                                    let ix = (ox * strides[1] + kx) as isize - pads[1] as isize;
                                    if ix < 0 || ix >= wd as isize {
                                        continue;
                                    }
                                    let v = x[(ch * h + iy as usize) * wd + ix as usize];
                                    if is_max {
                                        acc = acc.max(v)
                                    } else {
                                        acc += v
                                    }
                                }
                            }
                            if !is_max {
                                acc /= (kernel[0] * kernel[1]) as f64;
                            }
                            y[(ch * oh + oy) * ow + ox] = acc;
                        }
                    }
                }
                y
            }
            FOpKind::Reshape => x.clone(),
            FOpKind::Select { source } => source
                .iter()
                .map(|&k| if k < 0 { 0.0 } else { x[k as usize] })
                .collect(),
            FOpKind::Transpose { perm } => transpose(x, in_shape, perm),
            FOpKind::ArgMaxOneHot => {
                let len = in_shape.last().copied().unwrap_or(1).max(1);
                x.chunks(len)
                    .flat_map(|row| {
                        let first = row
                            .iter()
                            .enumerate()
                            .fold(0, |b, (i, &v)| if v > row[b] { i } else { b });
                        (0..row.len()).map(move |i| f64::from(u8::from(i == first)))
                    })
                    .collect()
            }
            FOpKind::TopKOneHot { k } => {
                let len = in_shape.last().copied().unwrap_or(1).max(1);
                x.chunks(len)
                    .flat_map(|row| {
                        let mut order: Vec<usize> = (0..row.len()).collect();
                        // Stable: equal values keep the lower index first.
                        order.sort_by(|&a, &b| {
                            row[b]
                                .partial_cmp(&row[a])
                                .unwrap_or(std::cmp::Ordering::Equal)
                        });
                        order[..*k]
                            .iter()
                            .flat_map(|&pick| {
                                (0..row.len()).map(move |i| f64::from(u8::from(i == pick)))
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect()
            }
            FOpKind::Softmax => {
                let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
                let s: f64 = e.iter().sum();
                e.iter().map(|v| v / s).collect()
            }
        }
    }
}

/// Row-major transpose: `out.shape[i] = in.shape[perm[i]]`.
pub fn transpose<T: Copy>(x: &[T], in_shape: &[usize], perm: &[usize]) -> Vec<T> {
    let rank = in_shape.len();
    let out_shape: Vec<usize> = perm.iter().map(|&p| in_shape[p]).collect();
    let mut in_strides = vec![1usize; rank];
    for i in (0..rank.saturating_sub(1)).rev() {
        in_strides[i] = in_strides[i + 1] * in_shape[i + 1];
    }
    let n = x.len();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; rank];
    for _ in 0..n {
        let off: usize = (0..rank).map(|i| idx[i] * in_strides[perm[i]]).sum();
        out.push(x[off]);
        for i in (0..rank).rev() {
            idx[i] += 1;
            if idx[i] < out_shape[i] {
                break;
            }
            idx[i] = 0;
        }
    }
    out
}

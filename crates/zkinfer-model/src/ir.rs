//! The quantized model: the exact integer statement zkinfer proves.
//!
//! A [`QuantModel`] is a list of integer operations over flat, row-major
//! tensors of one sample; a statement covers [`QuantModel::batch`] samples,
//! each run through the same ops (no op mixes samples). Each tensor `t` holds integers whose
//! real value is `int * tensors[t].scale`. The evaluator (`eval.rs`) defines
//! the semantics of every op; the prover must reproduce them bit for bit.
//!
//! Bounds: every value fits well inside (-2^62, 2^62), so field arithmetic in
//! Goldilocks (p ≈ 2^64) never wraps. [`QuantModel::validate`] checks the
//! static bounds; the evaluator checks the dynamic ones (e.g. the requant
//! window) and reports a violation as an error rather than producing a value
//! that no proof could support.

pub use crate::axis_map::{AxisMap, AxisRead};
pub use crate::band_map::BandMap;
pub use crate::float::{InputElem, InputSegment};
/// Dense and Conv2d weights: at most 16 bits from quantization, stored at
/// the narrowest width that holds them (a proving key keeps them through
/// every proof: GPT-2's are 0.36 GB as i16, 1.44 GB as i64).
pub use crate::int_vec::IntVec;
use serde::{Deserialize, Serialize};

/// Index into [`QuantModel::tensors`].
pub type TensorId = usize;

/// Format version of the compiled model file (`.zkm`). 2: a model states
/// its graph outputs ([`QuantModel::output_segments`]), and an input segment
/// may be the one-hot rows of token ids ([`InputSegment::one_hot`]); version
/// 1 files (one output) are still read.
pub const QUANT_MODEL_VERSION: u32 = 2;

/// A requantization's pre-clamp quotient `q` may exceed its clamp range
/// `[min, max]` by less than `2^REQUANT_EXCESS_BITS` on either side: the prover
/// shows `q = clamp(q) + e` with `e` in small signed limbs, so this window costs
/// no table size (wide enough that calibrated models never reach it).
pub const REQUANT_EXCESS_BITS: u32 = 24;
/// Clamp ranges lie in `[-2^15, 2^15)`.
pub const CLAMP_BITS: u32 = 16;
/// Largest right shift of a requantization: with `|q| < 2^25`, `q·2^shift`
/// stays below 2^61, so the prover's field identity cannot wrap.
pub const MAX_REQUANT_SHIFT: u32 = 36;
/// Largest requantization multiplier (exclusive).
pub const MAX_REQUANT_MULTIPLIER: i64 = 1 << 16;
/// Every tensor value, accumulator and product stays below this in magnitude.
pub const VALUE_BOUND: i64 = 1 << 62;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TensorInfo {
    /// ONNX name of the value this tensor represents (for error messages).
    pub name: String,
    /// Logical shape without the batch axis.
    pub shape: Vec<usize>,
    /// Real value = integer * scale.
    pub scale: f64,
    /// Static bound: every element satisfies |v| <= bound.
    pub bound: i64,
}

impl TensorInfo {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One integer operation. Shapes live in the referenced [`TensorInfo`]s.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum QOp {
    /// Fully connected, applied to each row of `in_dim` input elements
    /// (MatMul of a `[.., T, K]` activation by a constant `[K, N]`):
    /// `y[r, o] = Σ_i weight[o*in_dim + i] * x[r, i] + bias[o]`; one row for a
    /// flattened input.
    Dense {
        input: TensorId,
        output: TensorId,
        in_dim: usize,
        out_dim: usize,
        /// Row-major `out_dim × in_dim`.
        weight: IntVec,
        #[serde(deserialize_with = "crate::exact_vec::deserialize")]
        bias: Vec<i64>,
    },
    /// 2-D convolution, NCHW without N, group 1, dilation 1:
    /// `y[oc,oy,ox] = bias[oc] + Σ_{ic,ky,kx} weight[oc,ic,ky,kx] * x[ic, oy*sh+ky-pt, ox*sw+kx-pl]`
    /// (out-of-range input positions read as 0).
    Conv2d {
        input: TensorId,
        output: TensorId,
        /// `[out_channels, in_channels, kh, kw]`.
        kernel_shape: [usize; 4],
        weight: IntVec,
        #[serde(deserialize_with = "crate::exact_vec::deserialize")]
        bias: Vec<i64>,
        strides: [usize; 2],
        /// `[top, left, bottom, right]`.
        pads: [usize; 4],
    },
    /// Elementwise requantization + clamp (ReLU is `min = 0`):
    /// `q = floor((x * multiplier + 2^(shift-1)) / 2^shift)` (for shift = 0: `q = x * multiplier`),
    /// `y = clamp(q, min, max)`. `q` must lie in the requant window.
    Requant {
        input: TensorId,
        output: TensorId,
        multiplier: i64,
        shift: u32,
        min: i64,
        max: i64,
    },
    /// Elementwise table function (sigmoid, tanh, exp, ...) on a small domain:
    /// `y = table[x - in_min]`; `x` must lie in `[in_min, in_min + table.len())`.
    Lut {
        input: TensorId,
        output: TensorId,
        in_min: i64,
        #[serde(deserialize_with = "crate::exact_vec::deserialize")]
        table: Vec<i64>,
        /// Human-readable function name for reports, e.g. "sigmoid".
        func: String,
    },
    /// Elementwise `y = a * a_mul + b * b_mul` (scale alignment by integer multipliers).
    Add {
        a: TensorId,
        b: TensorId,
        output: TensorId,
        a_mul: i64,
        b_mul: i64,
    },
    /// Elementwise `y = x + constant` with a constant of the input's
    /// per-sample shape (a positional embedding, a fixed offset map), the
    /// same for every sample; committed with the weights.
    AddConst {
        input: TensorId,
        output: TensorId,
        #[serde(deserialize_with = "crate::exact_vec::deserialize")]
        constant: Vec<i64>,
    },
    /// Elementwise `y = x * constant` with a constant of the input's
    /// per-sample shape, the same for every sample; committed with the
    /// weights (an AveragePool's per-position divisor, PRelu's per-element
    /// slopes, a Mul by a whole-sample constant). Exact; a following Requant
    /// rescales it.
    MulConst {
        input: TensorId,
        output: TensorId,
        #[serde(deserialize_with = "crate::exact_vec::deserialize")]
        constant: Vec<i64>,
    },
    /// Elementwise product of two tensors of the same shape, `y = a * b`
    /// (exact; a following Requant rescales it).
    Mul {
        a: TensorId,
        b: TensorId,
        output: TensorId,
    },
    /// Matrix product of two activations, per sample and batched over the
    /// leading axes: `a` is `[.., M, K]`, `b` is `[.., K, N]` (equal leading
    /// axes), `y[.., m, n] = Σ_k a[.., m, k]·b[.., k, n]` exactly (a following
    /// Requant rescales it). Attention's `Q·Kᵀ` and `P·V`.
    MatMul {
        a: TensorId,
        b: TensorId,
        output: TensorId,
    },
    /// Max pooling over `kernel` windows, NCHW without N; padding reads as `i64::MIN` (never chosen).
    MaxPool {
        input: TensorId,
        output: TensorId,
        kernel: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// Sum pooling (average pooling's numerator; a following Requant divides):
    /// `y[c,oy,ox] = Σ_window x` (padding reads as 0).
    SumPool {
        input: TensorId,
        output: TensorId,
        kernel: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// Same data, new shape (Flatten, Reshape, Squeeze, Unsqueeze).
    Reshape { input: TensorId, output: TensorId },
    /// Data movement, per sample: `y[i] = x[source[i]]`, or 0 where
    /// `source[i] < 0` (Slice, Gather by constant indices, Pad, Split, Tile,
    /// Expand, DepthToSpace, nearest Resize, Trilu; a Concat is a sum of
    /// these). Proven by one linear sumcheck, nothing committed.
    Select {
        input: TensorId,
        output: TensorId,
        #[serde(deserialize_with = "crate::exact_vec::deserialize")]
        source: Vec<i64>,
    },
    /// Axis permutation of the input's logical shape.
    Transpose {
        input: TensorId,
        output: TensorId,
        perm: Vec<usize>,
    },
    /// A [`QOp::Select`] whose map moves whole axes, stated in closed form
    /// ([`AxisMap`]): `y[i] = x[map.source()[i]]`, or 0 for a fill. Setup
    /// writes the verifying key's separable Selects this way (a few numbers
    /// instead of one per output element, and a table the verifier evaluates
    /// per axis); compiled models keep explicit lists. A variant of its own,
    /// appended last, rather than a second form of `Select::source`: the
    /// `.zkm` (JSON) and key (postcard) encodings of every other op, and of
    /// explicit Selects, stay as they were.
    SelectAxes {
        input: TensorId,
        output: TensorId,
        map: AxisMap,
    },
    /// A [`QOp::Select`] whose map keeps a run of columns per row and fills
    /// the rest (attention masks), stated as row bands ([`BandMap`]):
    /// `y[i] = x[map.source()[i]]`, or 0. Setup writes the verifying key's
    /// masks this way (an [`AxisMap`] cannot state them); appended last, as
    /// [`QOp::SelectAxes`] was, so every other op encodes as before.
    SelectBands {
        input: TensorId,
        output: TensorId,
        map: BandMap,
    },
}

fn one_sample() -> usize {
    1
}

/// Largest batch a statement may hold (keeps `batch × tensor` sizes far
/// from overflow in keys read from untrusted files).
pub const MAX_BATCH: usize = 1 << 16;

/// `(M, K, N, leading axes)` of a [`QOp::MatMul`] of `a` by `b`, if their
/// shapes are `[.., M, K]` and `[.., K, N]` with equal leading axes.
pub fn matmul_dims(a: &[usize], b: &[usize]) -> Option<(usize, usize, usize, Vec<usize>)> {
    if a.len() < 2 || a.len() != b.len() {
        return None;
    }
    let r = a.len();
    let (m, k, k2, n) = (a[r - 2], a[r - 1], b[r - 2], b[r - 1]);
    (k == k2 && a[..r - 2] == b[..r - 2]).then(|| (m, k, n, a[..r - 2].to_vec()))
}

/// A compiled, quantized model.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QuantModel {
    pub version: u32,
    /// File name or graph name, for reports.
    pub name: String,
    pub tensors: Vec<TensorInfo>,
    pub input: TensorId,
    pub output: TensorId,
    /// Samples per statement (an ONNX model's fixed batch axis; 1 when it is
    /// symbolic). Every tensor then holds `batch` stacked copies of its
    /// per-sample shape, and the input and output files hold `batch` samples.
    #[serde(default = "one_sample")]
    pub batch: usize,
    /// The ONNX batch axis is symbolic: a statement may hold any number of
    /// samples ([`QuantModel::with_batch`]); `batch` is then a default.
    #[serde(default)]
    pub dynamic_batch: bool,
    /// Topologically ordered.
    pub ops: Vec<QOp>,
    /// The original ONNX bytes, so float inference can be reported next to the integer one.
    pub onnx: Vec<u8>,
    /// ADDED by the model front end: the ONNX graph ends in a Softmax that is NOT part of
    /// the integer statement. The proved output is the pre-softmax logits; softmax is
    /// applied in float by [`QuantModel::dequantize_output`] (monotone, so top-1 is
    /// unchanged). `false` for every other model.
    #[serde(default)]
    pub output_softmax: bool,
    /// The ONNX graph inputs as segments of each sample of the input tensor
    /// ([`InputSegment`]): how input files map onto the statement's one public
    /// input. Empty in files written before models had several inputs (then
    /// the input tensor is the one graph input).
    #[serde(default)]
    pub input_segments: Vec<InputSegment>,
    /// The ONNX graph outputs as segments of each sample of the output
    /// tensor ([`OutputSegment`]), in graph order. Empty in files written
    /// before models had several outputs (then the output tensor is the one
    /// graph output, at its own scale).
    #[serde(default)]
    pub output_segments: Vec<OutputSegment>,
    /// Dense ops whose weight matrix is another's (equal, or its transpose:
    /// a tied embedding and output projection): committed once
    /// ([`crate::tied::tie_weights`] finds them at setup).
    #[serde(default)]
    pub tied_weights: Vec<TiedWeight>,
}

/// Op `op`'s weight matrix is op `source`'s (`source < op`, both Dense),
/// or its transpose.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TiedWeight {
    pub op: usize,
    pub source: usize,
    pub transposed: bool,
}

/// Where one ONNX graph output sits in the model's single output tensor. The
/// statement has one public output: several graph outputs are laid side by
/// side per sample (sample `s` is `[out_1 of s, out_2 of s, …]`), each keeping
/// its own integers and scale (the output tensor is a sum of `Select`s that
/// place each, with multipliers 1: no rescaling), so its
/// [`TensorInfo::scale`] is not the values' (it is 1).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputSegment {
    /// The graph output's name.
    pub name: String,
    /// Its shape for one sample (batch axis 1).
    pub shape: Vec<usize>,
    /// Its ONNX element type: integer outputs (a class label, an index) are
    /// reported as integers, `round(int · scale)` (exact: their scale is 1).
    pub elem: InputElem,
    /// Real value = integer · scale.
    pub scale: f64,
    pub offset: usize,
    pub len: usize,
}

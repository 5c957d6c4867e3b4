//! Errors of the model front end. Every failure on user input is one of these; nothing panics.

use thiserror::Error;

/// ONNX operators the importer understands besides the unary table
/// functions ([`supported_ops`] lists both, as "unsupported op" errors do).
pub const SUPPORTED_OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Sigmoid",
    "Tanh",
    "LeakyRelu",
    "Clip",
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "BatchNormalization",
    "ImageScaler",
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "Softmax",
    "LogSoftmax",
    "ReduceMax",
    "ReduceMin",
    "ReduceSum",
    "ReduceMean",
    "ReduceSumSquare",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSumExp",
    "Identity",
    "Dropout",
    "IsNaN",
    "Constant",
    "Shape",
    "Gather",
    "Concat",
    "Cast",
    "Slice",
    "Split",
    "GatherElements",
    "GatherND",
    "ScatterElements",
    "Scatter",
    "ScatterND",
    "Pad",
    "Tile",
    "Expand",
    "DepthToSpace",
    "SpaceToDepth",
    "Resize",
    "Upsample",
    "Trilu",
    "LayerNormalization",
    "InstanceNormalization",
    "LpNormalization",
    "LRN",
    "PRelu",
    "Greater",
    "Less",
    "GreaterOrEqual",
    "LessOrEqual",
    "Equal",
    "And",
    "Or",
    "Not",
    "Where",
];

/// Every ONNX operator the importer understands.
pub fn supported_ops() -> Vec<&'static str> {
    SUPPORTED_OPS
        .iter()
        .chain(crate::unary::UNARY_OPS)
        .chain(crate::onnx_import::lowering::LOWERED_OPS)
        .chain(crate::onnx_import::lowering_pool::POOL_OPS)
        .chain(crate::onnx_import::lowering_seq::RECURRENT_OPS)
        .copied()
        .collect()
}

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("i/o error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("not a valid ONNX model: {0}")]
    OnnxParse(String),
    #[error(
        "unsupported ONNX operator `{op}` (node `{node}`, position {index} in the graph); supported operators: {}",
        supported_ops().join(", ")
    )]
    UnsupportedOp {
        op: String,
        node: String,
        index: usize,
    },
    #[error("unsupported use of `{op}` (node `{node}`, position {index}): {reason}")]
    UnsupportedAttr {
        op: String,
        node: String,
        index: usize,
        reason: String,
    },
    #[error("invalid model graph: {0}")]
    Graph(String),
    #[error("quantization failed: {0}")]
    Quantize(String),
    #[error("invalid quantized model: {0}")]
    Invalid(String),
    #[error("input has {got} values, the model expects {expected}")]
    InputLength { expected: usize, got: usize },
    #[error("input value #{index} is not finite ({value})")]
    NonFinite { index: usize, value: f64 },
    #[error("input value #{index} = {value} is outside the input bound ±{bound}")]
    InputOutOfBound {
        index: usize,
        value: i64,
        bound: i64,
    },
    #[error(
        "requantization window exceeded in op #{op} (output tensor `{tensor}`): pre-clamp value {value} exceeds the clamp range by 2^24 or more; the input is far outside the calibrated range — recalibrate with representative inputs"
    )]
    RequantWindow {
        op: usize,
        tensor: String,
        value: i128,
    },
    #[error("lookup input out of domain in op #{op} (tensor `{tensor}`): value {value}, domain [{lo}, {hi})")]
    LutDomain {
        op: usize,
        tensor: String,
        value: i64,
        lo: i64,
        hi: i64,
    },
    #[error("value bound violated in op #{op} (tensor `{tensor}`): |{value}| > {bound}")]
    BoundViolation {
        op: usize,
        tensor: String,
        value: i128,
        bound: i64,
    },
    #[error("bad input file {path}: {reason}")]
    InputFile { path: String, reason: String },
    #[error("calibration data: {0}")]
    Calibration(String),
    #[error("bad compiled model file: {0}")]
    ModelFile(String),
    #[error("float reference (tract) failed: {0} (the import cross-check runs tract; `compile --no-tract-check` skips it)")]
    Tract(String),
    /// tract read the graph and its inputs but its optimizer or runtime
    /// failed (or panicked): a failure of tract's, not of the model.
    #[error("tract failed to run the graph: {0}")]
    TractRun(String),
}

pub type Result<T> = std::result::Result<T, ModelError>;

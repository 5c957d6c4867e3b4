//! zkinfer's model front end: ONNX import, quantization, the exact integer
//! evaluator and the accuracy report. Knows nothing about cryptography.
//!
//! Pipeline: `onnx_import` (ONNX protobuf → [`float::FloatModel`]) → `quantize`
//! (calibration → [`QuantModel`]) → `eval` (exact integer semantics, the prover's
//! reference) → `compile` (glue + [`compile::AccuracyReport`]).

pub mod accuracy;
pub mod argmax;
pub mod axis_map;
pub mod band_map;
pub mod compile;
pub mod error;
pub mod eval;
pub mod exact_vec;
pub mod external_data;
pub mod float;
mod gelu_fusion;
pub mod index_map;
pub mod input;
pub mod int_vec;
pub mod ir;
mod legacy;
pub mod model;
mod onnx_argmax;
pub mod onnx_import;
mod onnx_reduce;
mod onnx_topk;
pub mod quantize;
#[cfg(test)]
mod test_protos;
pub mod tied;
pub mod unary;

pub use compile::{
    class_scores, compile, predicted_class, run_quantized, AccuracyReport, CompileOptions,
};
pub use error::{supported_ops, ModelError, SUPPORTED_OPS};
pub use eval::{evaluate, Trace};
pub use int_vec::IntVec;
pub use ir::{QOp, QuantModel, TensorId, TensorInfo};
pub use quantize::QuantConfig;
pub use unary::UnaryFn;

//! Constant folding by tract, for an all-constant node the importer's own
//! folds do not cover (a Gemm of PyTorch's zero initial state in an
//! LSTMCell export, a Less/Not/ReduceSum in a shape subgraph): the node runs
//! alone in a one-node ONNX graph whose inputs are its constants as
//! initializers. Folding is not proven — its result becomes a constant of
//! the model, as every fold's does — so using tract, ONNX's reference
//! semantics here, is what a fold needs.
//!
//! [`Const`] keeps values, not element types: the node is tried with every
//! input as float32 (arithmetic keeps its float meaning), then, if tract
//! refuses that (an index or shape input must be an integer), with the
//! integer-valued inputs as int64.

use super::Const;
use tract_onnx::pb;
use tract_onnx::prelude::*;

/// The node's (named) outputs, each folded to a constant, or `None` when
/// tract cannot run it (or an output exceeds `limit` elements).
pub(super) fn fold(
    node: &pb::NodeProto,
    inputs: &[Option<Const>],
    opset: i64,
    limit: usize,
) -> Option<Vec<(String, Const)>> {
    let integral = |c: &Const| c.data.iter().all(|v| v.fract() == 0.0 && v.abs() < 9e15);
    let any_integral = inputs.iter().flatten().any(integral);
    for ints in [false, true] {
        if ints && !any_integral {
            break;
        }
        let protos = inputs
            .iter()
            .zip(&node.input)
            .filter_map(|(c, name)| c.as_ref().map(|c| tensor(name, c, ints && integral(c))))
            .collect();
        let run = std::panic::catch_unwind(|| run_one(node, protos, opset));
        if let Ok(Some(out)) = run {
            return out
                .iter()
                .all(|(_, c)| c.data.len() <= limit)
                .then_some(out);
        }
    }
    None
}

fn tensor(name: &str, c: &Const, int: bool) -> pb::TensorProto {
    let mut t = pb::TensorProto {
        name: name.to_string(),
        dims: c.dims.iter().map(|&d| d as i64).collect(),
        ..Default::default()
    };
    if int {
        t.data_type = 7;
        t.int64_data = c.data.iter().map(|&v| v as i64).collect();
    } else {
        t.data_type = 1;
        t.float_data = c.data.iter().map(|&v| v as f32).collect();
    }
    t
}

fn run_one(
    node: &pb::NodeProto,
    inits: Vec<pb::TensorProto>,
    opset: i64,
) -> Option<Vec<(String, Const)>> {
    let outputs: Vec<&String> = node.output.iter().filter(|o| !o.is_empty()).collect();
    let graph = pb::GraphProto {
        name: "fold".into(),
        node: vec![node.clone()],
        initializer: inits,
        output: outputs
            .iter()
            .map(|o| pb::ValueInfoProto {
                name: (*o).clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let proto = pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(graph),
        ..Default::default()
    };
    let model = tract_onnx::onnx()
        .model_for_proto_model(&proto)
        .ok()?
        .into_optimized()
        .ok()?
        .into_runnable()
        .ok()?;
    let out = model.run(tvec![]).ok()?;
    if out.len() != outputs.len() {
        return None;
    }
    out.iter()
        .zip(outputs)
        .map(|(o, name)| {
            let dims = o.shape().to_vec();
            let o = o.cast_to::<f64>().ok()?;
            let data = o
                .to_plain_array_view::<f64>()
                .ok()?
                .iter()
                .copied()
                .collect();
            Some((name.clone(), Const { dims, data }))
        })
        .collect()
}

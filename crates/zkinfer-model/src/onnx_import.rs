//! ONNX → [`FloatModel`]: reads the raw protobuf (prost types from tract-onnx) and
//! maps each node onto our float graph, folding constants and BatchNorm.
//! Every tensor describes one sample: the batch axis (axis 0) is bound to 1
//! and a fixed batch size `N > 1` is kept as [`FloatModel::batch`]. An op that
//! would mix samples (move, flatten or reduce axis 0) is refused.

use crate::error::{ModelError, Result};
use crate::float::{
    conv_out_dim, FId, FOp, FOpKind, FTensor, FloatModel, GraphOutput, InputElem, InputSegment,
};
use crate::index_map;
use crate::onnx_reduce::{broadcast_shape, Lowering, PreluSlope, Reduce};
use crate::unary::{CmpOp, UnaryFn, UNARY_OPS};
use std::collections::HashMap;
use tract_onnx::pb;
use tract_onnx::prelude::Framework;

#[derive(Clone, Debug)]
pub(crate) struct Const {
    dims: Vec<usize>,
    data: Vec<f64>,
}

#[path = "lowering.rs"]
pub(crate) mod lowering;
#[path = "lowering_pool.rs"]
pub(crate) mod lowering_pool;
#[path = "lowering_seq.rs"]
pub(crate) mod lowering_seq;
#[path = "lowering_upsample.rs"]
mod lowering_upsample;
#[path = "lowering_volume.rs"]
mod lowering_volume;
#[path = "whole_batch.rs"]
pub mod whole_batch;

#[path = "embedding.rs"]
pub(crate) mod embedding;

#[path = "const_fold_tract.rs"]
mod const_fold_tract;
#[path = "gather_computed.rs"]
mod gather_computed;
#[path = "masked_fill.rs"]
mod masked_fill;
#[path = "onnx_ml.rs"]
mod ml;
#[path = "scatter.rs"]
mod scatter;

/// Parses ONNX bytes into a protobuf model (errors on garbage / truncation).
pub fn parse_proto(bytes: &[u8]) -> Result<pb::ModelProto> {
    if bytes.is_empty() {
        return Err(ModelError::OnnxParse("empty file".into()));
    }
    let mut proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| ModelError::OnnxParse(format!("{e:#}")))?;
    crate::legacy::normalize(&mut proto);
    match &proto.graph {
        Some(g) if !g.node.is_empty() && !g.output.is_empty() => Ok(proto),
        _ => Err(ModelError::OnnxParse(
            "the file holds no ONNX graph (no nodes or no outputs)".into(),
        )),
    }
}

/// Imports ONNX bytes into the float graph. A symbolic batch axis takes any
/// sample count only if the graph never mixes samples: the graph is imported
/// a second time as if its batch were fixed at 2, and a refusal there (an op
/// moving, flattening or reducing axis 0) pins the model to one sample.
pub fn import_onnx(bytes: &[u8]) -> Result<FloatModel> {
    let mut m = import_at(bytes, None)?;
    if m.dynamic_batch && import_at(bytes, Some(2)).is_err() {
        m.dynamic_batch = false;
    }
    Ok(m)
}

/// [`import_onnx`] with the batch size optionally forced.
fn import_at(bytes: &[u8], force_batch: Option<usize>) -> Result<FloatModel> {
    let proto = parse_proto(bytes)?;
    let opset = crate::legacy::default_opset(&proto);
    let graph = proto.graph.as_ref().expect("checked");
    let mut imp = Importer {
        opset,
        batch: 1,
        graph_outputs: graph.output.iter().map(|o| o.name.clone()).collect(),
        lowering_budget: lowering::budget(bytes.len()),
        relaid: HashMap::new(),
        consts: HashMap::new(),
        values: HashMap::new(),
        tensors: vec![],
        ops: vec![],
        one_hot: HashMap::new(),
        masked: HashMap::new(),
    };
    for init in &graph.initializer {
        let c = decode_tensor(init)?;
        imp.consts.insert(init.name.clone(), c);
    }
    let real_inputs: Vec<&pb::ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !imp.consts.contains_key(&i.name))
        .collect();
    let inputs: Vec<GraphInput> = real_inputs
        .iter()
        .map(|vi| graph_input(vi))
        .collect::<Result<_>>()?;
    let (batch, dynamic_batch) = common_batch(&inputs)?;
    imp.batch = force_batch.unwrap_or(batch);
    let uses = embedding::scan(graph, &imp.consts, &inputs)?;
    let (input, input_segments) = if uses.iter().any(Option::is_some) {
        imp.combine_inputs_with_ids(graph, &inputs, &uses)?
    } else {
        imp.combine_inputs(graph, &inputs)
    };
    let scalars = constant_scalars(graph, &imp.consts);
    let outputs: std::collections::HashSet<String> =
        graph.output.iter().map(|o| o.name.clone()).collect();
    let nodes = crate::gelu_fusion::fuse(&graph.node, &|n| scalars.get(n).copied(), &outputs);
    for (index, node) in &nodes {
        imp.node(*index, node)?;
    }
    let outputs = graph
        .output
        .iter()
        .map(|o| imp.graph_output(o))
        .collect::<Result<Vec<_>>>()?;
    let mut m = FloatModel {
        tensors: imp.tensors,
        input,
        output: outputs[0].tensor,
        batch,
        dynamic_batch,
        ops: imp.ops,
        input_segments,
        outputs,
    };
    prune_and_fold(&mut m)?;
    Ok(m)
}

/// Every one-element constant of the graph (initializers and `Constant`
/// nodes), by name: what graph rewrites match on before the import.
fn constant_scalars(
    graph: &pb::GraphProto,
    inits: &HashMap<String, Const>,
) -> HashMap<String, f64> {
    let mut out: HashMap<String, f64> = inits
        .iter()
        .filter(|(_, c)| c.data.len() == 1)
        .map(|(k, c)| (k.clone(), c.data[0]))
        .collect();
    for n in graph.node.iter().filter(|n| n.op_type == "Constant") {
        let value = if let Some(t) = attr(n, "value").and_then(|a| a.t.as_ref()) {
            decode_tensor(t)
                .ok()
                .filter(|c| c.data.len() == 1)
                .map(|c| c.data[0])
        } else {
            attr(n, "value_float").map(|a| a.f as f64)
        };
        if let (Some(v), Some(o)) = (value, n.output.first()) {
            out.insert(o.clone(), v);
        }
    }
    out
}

impl Importer {
    /// A graph output: the tensor computing it, and its element type (a
    /// sequence, ZipMap's list of maps, is its input's probabilities). A
    /// constant output is refused: the statement proves what the input
    /// determines, and a constant is no part of it.
    fn graph_output(&self, vi: &pb::ValueInfoProto) -> Result<GraphOutput> {
        use pb::type_proto::Value as TV;
        let name = &vi.name;
        let tensor = match self.values.get(name) {
            Some(&t) => t,
            None if self.consts.contains_key(name) => {
                return Err(ModelError::Graph(format!(
                    "graph output `{name}` is a constant (it does not depend on the input), which a proof cannot report; remove it from the graph outputs"
                )))
            }
            None => {
                return Err(ModelError::Graph(format!(
                    "graph output `{name}` is never computed"
                )))
            }
        };
        let elem = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(TV::TensorType(t)) => InputElem::from_onnx(t.elem_type)
                .map_err(|r| ModelError::Graph(format!("graph output `{name}`: {r}")))?,
            _ => InputElem::Float32,
        };
        Ok(GraphOutput {
            name: name.clone(),
            tensor,
            elem,
        })
    }
}

/// A graph input as the importer sees it.
struct GraphInput {
    name: String,
    /// One sample's shape (batch axis 1).
    shape: Vec<usize>,
    /// The batch size (1 when symbolic).
    pub(crate) batch: usize,
    /// The batch axis is symbolic (each statement takes it from its input).
    dynamic: bool,
    elem: InputElem,
}

fn graph_input(vi: &pb::ValueInfoProto) -> Result<GraphInput> {
    use pb::tensor_shape_proto::dimension::Value as DV;
    use pb::type_proto::Value as TV;
    let bad = |r: String| ModelError::Graph(format!("input `{}`: {r}", vi.name));
    let t = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(TV::TensorType(t)) => t,
        _ => return Err(bad("not a tensor input".into())),
    };
    let elem = InputElem::from_onnx(t.elem_type).map_err(bad)?;
    let dims = &t.shape.as_ref().ok_or_else(|| bad("no shape".into()))?.dim;
    if dims.len() < 2 {
        return Err(bad(
            "the input needs a batch axis followed by the feature axes (rank ≥ 2)".into(),
        ));
    }
    let mut shape = vec![];
    let dynamic = !matches!(dims[0].value, Some(DV::DimValue(v)) if v > 0);
    for (i, d) in dims.iter().enumerate() {
        let v = match &d.value {
            Some(DV::DimValue(v)) if *v > 0 => *v as usize,
            Some(DV::DimValue(v)) if i == 0 && *v <= 0 => 1,
            Some(DV::DimParam(_)) | None if i == 0 => 1,
            _ => {
                return Err(bad(format!(
                    "axis {i} is symbolic or not positive; only the batch axis may be symbolic"
                )))
            }
        };
        shape.push(v);
    }
    let batch = shape[0];
    if batch > crate::ir::MAX_BATCH {
        return Err(bad(format!(
            "batch axis is {batch}; at most {} samples fit one statement",
            crate::ir::MAX_BATCH
        )));
    }
    shape[0] = 1;
    Ok(GraphInput {
        name: vi.name.clone(),
        shape,
        batch,
        dynamic,
        elem,
    })
}

/// The statement's batch: every graph input must have the same one (one
/// fixed size, or all symbolic), since a statement's samples run together.
fn common_batch(inputs: &[GraphInput]) -> Result<(usize, bool)> {
    let first = inputs
        .first()
        .ok_or_else(|| ModelError::Graph("the model has no (non-constant) input".into()))?;
    let describe = |i: &GraphInput| {
        if i.dynamic {
            format!("`{}` has a symbolic batch axis", i.name)
        } else {
            format!("`{}` has a batch of {}", i.name, i.batch)
        }
    };
    if let Some(other) = inputs
        .iter()
        .find(|i| i.dynamic != first.dynamic || i.batch != first.batch)
    {
        return Err(ModelError::Graph(format!(
            "the graph inputs need one batch size: {}, {}",
            describe(first),
            describe(other)
        )));
    }
    Ok((first.batch, first.dynamic))
}

/// A name for the combined input tensor that no graph value uses.
fn unused_name(graph: &pb::GraphProto, base: &str) -> String {
    let used = |n: &str| {
        graph.input.iter().any(|i| i.name == n)
            || graph.initializer.iter().any(|i| i.name == n)
            || graph
                .node
                .iter()
                .any(|node| node.output.iter().any(|o| o == n))
    };
    let mut name = base.to_string();
    let mut k = 1;
    while used(&name) {
        name = format!("{base}_{k}");
        k += 1;
    }
    name
}

fn decode_tensor(t: &pb::TensorProto) -> Result<Const> {
    let name = &t.name;
    if t.data_location == Some(1) || !t.external_data.is_empty() {
        return Err(ModelError::Graph(format!(
            "tensor `{name}` uses external data, which is not supported"
        )));
    }
    let dims: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    let n: usize = dims.iter().product();
    let raw = &t.raw_data;
    let data: Vec<f64> = match t.data_type {
        1 => {
            if !raw.is_empty() {
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
                    .collect()
            } else {
                t.float_data.iter().map(|&v| v as f64).collect()
            }
        }
        11 => {
            if !raw.is_empty() {
                raw.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect()
            } else {
                t.double_data.clone()
            }
        }
        7 => {
            if !raw.is_empty() {
                raw.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect()
            } else {
                t.int64_data.iter().map(|&v| v as f64).collect()
            }
        }
        6 => {
            if !raw.is_empty() {
                raw.chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect()
            } else {
                t.int32_data.iter().map(|&v| v as f64).collect()
            }
        }
        // bool, uint8, int8 (one byte each), uint16, int16: raw bytes or int32_data.
        9 | 2 | 3 | 4 | 5 => {
            if raw.is_empty() {
                t.int32_data.iter().map(|&v| v as f64).collect()
            } else {
                match t.data_type {
                    9 | 2 => raw.iter().map(|&b| b as f64).collect(),
                    3 => raw.iter().map(|&b| b as i8 as f64).collect(),
                    4 => raw
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]) as f64)
                        .collect(),
                    _ => raw
                        .chunks_exact(2)
                        .map(|c| i16::from_le_bytes([c[0], c[1]]) as f64)
                        .collect(),
                }
            }
        }
        dt => {
            return Err(ModelError::Graph(format!(
                "tensor `{name}` has unsupported data type {dt}"
            )))
        }
    };
    if data.len() != n {
        return Err(ModelError::Graph(format!(
            "tensor `{name}`: {} values for shape {dims:?} (truncated?)",
            data.len()
        )));
    }
    Ok(Const { dims, data })
}

pub(crate) struct Importer {
    opset: i64,
    /// Samples per statement: axis 0 of every activation.
    pub(crate) batch: usize,
    consts: HashMap<String, Const>,
    pub(crate) values: HashMap<String, FId>,
    pub(crate) tensors: Vec<FTensor>,
    pub(crate) ops: Vec<FOp>,
    /// Names of the graph's outputs (a Softmax there stays a float tail).
    graph_outputs: Vec<String>,
    /// Most elements one lowering may create (`lowering::budget`).
    lowering_budget: usize,
    /// Ids graph inputs gathered from constant tables: their one-hot tensor
    /// and depth (`embedding.rs`).
    one_hot: HashMap<String, (FId, usize)>,
    /// Deferred `Where`s of a constant attention mask (`masked_fill.rs`).
    masked: HashMap<String, masked_fill::MaskedFill>,
    /// Tensors whose axis 0 is not the batch axis (`lowering_seq`).
    relaid: HashMap<String, lowering_seq::Relaid>,
}

fn attr<'a>(node: &'a pb::NodeProto, name: &str) -> Option<&'a pb::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}
fn attr_i(node: &pb::NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map(|a| a.i).unwrap_or(default)
}
fn attr_f(node: &pb::NodeProto, name: &str, default: f64) -> f64 {
    attr(node, name).map(|a| a.f as f64).unwrap_or(default)
}
fn attr_ints(node: &pb::NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}
fn attr_s(node: &pb::NodeProto, name: &str) -> Option<String> {
    attr(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

/// ONNX Reshape's output shape: `0` copies the input's axis (unless
/// `allowzero`), one `-1` takes the rest; `None` when the element counts differ.
fn reshaped_dims(dims: &[usize], target: &[i64], allowzero: bool) -> Option<Vec<usize>> {
    let n: usize = dims.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            0 if !allowzero => out.push(*dims.get(i)?),
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            t if t >= 0 => out.push(t as usize),
            _ => return None,
        }
    }
    let known: usize = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || !n.is_multiple_of(known) {
            return None;
        }
        out[i] = n / known;
    }
    (out.iter().product::<usize>() == n).then_some(out)
}

/// ONNX Squeeze: the given axes (each of size 1), or every axis of size 1.
fn squeezed_dims(dims: &[usize], axes: Option<&[i64]>) -> Option<Vec<usize>> {
    let r = dims.len() as i64;
    let drop: Vec<usize> = match axes {
        Some(a) if !a.is_empty() => a
            .iter()
            .map(|&v| {
                let v = if v < 0 { v + r } else { v };
                ((0..r).contains(&v) && dims[v as usize] == 1).then_some(v as usize)
            })
            .collect::<Option<_>>()?,
        _ => (0..dims.len()).filter(|&i| dims[i] == 1).collect(),
    };
    Some(
        dims.iter()
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, &d)| d)
            .collect(),
    )
}

/// ONNX Unsqueeze: axes of size 1 inserted at the given output positions.
fn unsqueezed_dims(dims: &[usize], axes: &[i64]) -> Option<Vec<usize>> {
    let r = (dims.len() + axes.len()) as i64;
    let mut at: Vec<usize> = axes
        .iter()
        .map(|&v| {
            let v = if v < 0 { v + r } else { v };
            (0..r).contains(&v).then_some(v as usize)
        })
        .collect::<Option<_>>()?;
    at.sort_unstable();
    at.dedup();
    if at.len() != axes.len() {
        return None;
    }
    let mut rest = dims.iter();
    (0..r as usize)
        .map(|i| {
            if at.contains(&i) {
                Some(1)
            } else {
                rest.next().copied()
            }
        })
        .collect()
}

/// Broadcast a constant against a `[1, C, ...]` activation into a per-channel vector.
fn per_channel(c: &Const, shape: &[usize]) -> Option<Vec<f64>> {
    let ch = shape.get(1).copied().unwrap_or(1);
    if c.data.len() == 1 {
        return Some(vec![c.data[0]; ch]);
    }
    if c.dims.len() > shape.len() {
        return None;
    }
    // right-align c.dims against shape; every non-1 dim must sit on axis 1 (or on the
    // only feature axis of a rank-2 tensor).
    let off = shape.len() - c.dims.len();
    for (i, &d) in c.dims.iter().enumerate() {
        let axis = i + off;
        if d != 1 && !(axis == 1 && d == shape[1]) {
            return None;
        }
    }
    if c.data.len() == ch {
        Some(c.data.clone())
    } else {
        None
    }
}

/// A constant broadcast (numpy rules) to one sample of `shape`: its axis
/// aligned with the batch axis must be 1 (the same for every sample).
pub(crate) fn whole_sample(c: &Const, shape: &[usize]) -> Option<Vec<f64>> {
    if c.dims.len() > shape.len() || c.dims.len() == shape.len() && c.dims[0] != 1 {
        return None;
    }
    let map = crate::index_map::expand(
        &c.dims,
        &shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
    )
    .ok()?;
    (map.out_shape == shape).then(|| crate::index_map::apply(&map, &c.data, 0.0))
}

/// A constant that varies only along the last axis of `shape` (rank ≥ 3):
/// its values, one per position of that axis.
fn along_last_axis(c: &Const, shape: &[usize]) -> Option<Vec<f64>> {
    let last = *shape.last()?;
    if shape.len() < 3 || c.dims.len() > shape.len() || c.data.len() != last {
        return None;
    }
    let (lead, tail) = c.dims.split_at(c.dims.len().saturating_sub(1));
    (lead.iter().all(|&d| d == 1) && tail.iter().all(|&d| d == last)).then(|| c.data.clone())
}

impl Importer {
    pub(crate) fn new_tensor(&mut self, name: &str, shape: Vec<usize>) -> FId {
        self.tensors.push(FTensor {
            name: name.to_string(),
            shape,
        });
        let id = self.tensors.len() - 1;
        self.values.insert(name.to_string(), id);
        id
    }

    /// The model's input tensor and where each graph input sits in it. One
    /// graph input is that tensor itself. Several are laid side by side per
    /// sample in one tensor `[1, Σ len_i]`, because a statement has one public
    /// input; each graph input is then a Select of its segment, data movement
    /// the prover already proves, so nothing downstream knows there were several.
    fn combine_inputs(
        &mut self,
        graph: &pb::GraphProto,
        inputs: &[GraphInput],
    ) -> (FId, Vec<InputSegment>) {
        let mut segments = Vec::with_capacity(inputs.len());
        let mut offset = 0;
        for i in inputs {
            let len = i.shape.iter().product();
            segments.push(InputSegment {
                name: i.name.clone(),
                shape: i.shape.clone(),
                elem: i.elem,
                offset,
                len,
                one_hot: None,
            });
            offset += len;
        }
        if let [only] = inputs {
            return (self.new_tensor(&only.name, only.shape.clone()), segments);
        }
        let combined = self.new_tensor(&unused_name(graph, "inputs"), vec![1, offset]);
        for (i, seg) in inputs.iter().zip(&segments) {
            let out = self.new_tensor(&i.name, i.shape.clone());
            self.ops.push(FOp {
                kind: FOpKind::Select {
                    source: (seg.offset..seg.offset + seg.len)
                        .map(|k| k as i64)
                        .collect(),
                },
                inputs: vec![combined],
                output: out,
                node: i.name.clone(),
                op_type: "Input".into(),
            });
        }
        (combined, segments)
    }

    /// Whether a Dropout node is the identity, as at inference; the reason
    /// otherwise. Before opset 7 `is_test` = 0 (its default) drops at random;
    /// from opset 12 a `training_mode` input that is true does, unless the
    /// `ratio` input is 0.
    fn dropout_is_identity(&self, node: &pb::NodeProto) -> std::result::Result<(), String> {
        let input = |i: usize| node.input.get(i).filter(|s| !s.is_empty());
        if self.opset < 7 && attr_i(node, "is_test", 0) == 0 {
            return Err(format!(
                "is_test=0 at opset {} is training mode (random dropout), which cannot be proven; set is_test=1 for inference",
                self.opset
            ));
        }
        let Some(mode) = input(2).filter(|_| self.opset >= 12) else {
            return Ok(());
        };
        let Some(mode) = self.consts.get(mode) else {
            return Err(format!(
                "training_mode (`{mode}`) is computed in the graph: it must be a constant false"
            ));
        };
        let ratio = match input(1) {
            Some(r) => self.consts.get(r).map(|c| c.data.clone()),
            None => Some(vec![0.5]),
        };
        let training = mode.data.iter().any(|&v| v != 0.0);
        if training && ratio.is_none_or(|r| r.iter().any(|&v| v != 0.0)) {
            return Err(
                "training_mode is true: random dropout cannot be proven (only ratio 0 keeps the input)"
                    .into(),
            );
        }
        Ok(())
    }

    fn node(&mut self, index: usize, node: &pb::NodeProto) -> Result<()> {
        let op = node.op_type.as_str();
        let nname = if node.name.is_empty() {
            node.output.first().cloned().unwrap_or_default()
        } else {
            node.name.clone()
        };
        let unsupported = || ModelError::UnsupportedOp {
            op: op.to_string(),
            node: nname.clone(),
            index,
        };
        let bad = |reason: String| ModelError::UnsupportedAttr {
            op: op.to_string(),
            node: nname.clone(),
            index,
            reason,
        };
        if node.domain == "ai.onnx.ml" {
            return self.ml_node(node, &nname, index);
        }
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(unsupported());
        }
        let inp = |i: usize| {
            node.input
                .get(i)
                .map(|s| s.as_str())
                .filter(|s| !s.is_empty())
        };
        let out_name = node
            .output
            .first()
            .cloned()
            .ok_or_else(|| bad("node has no output".into()))?;
        // Input i as an activation, or its constant.
        let act = |s: &Self, i: usize| inp(i).and_then(|n| s.values.get(n).copied());
        let cst = |s: &Self, i: usize| inp(i).and_then(|n| s.consts.get(n).cloned());
        let need_act = |s: &Self, i: usize| {
            act(s, i).ok_or_else(|| {
                bad(format!(
                    "input #{i} (`{}`) must be a computed activation",
                    inp(i).unwrap_or("")
                ))
            })
        };
        let need_cst = |s: &Self, i: usize| {
            cst(s, i).ok_or_else(|| {
                bad(format!(
                    "input #{i} (`{}`) must be a constant (initializer)",
                    inp(i).unwrap_or("")
                ))
            })
        };
        let all_const = node
            .input
            .iter()
            .filter(|s| !s.is_empty())
            .all(|n| self.consts.contains_key(n));

        let cx = lowering::NodeCx {
            node,
            op,
            name: &nname,
            index,
        };
        if self.reads_relaid(node) {
            return self.lower_relaid(&cx);
        }
        if let Some(r) = self.use_masked_fill(&cx) {
            return r;
        }
        if op == "Where" {
            if let Some(r) = self.defer_masked_fill(&cx) {
                return r;
            }
        }
        if op == "Add" {
            if let Some(r) = self.defer_additive_mask(&cx) {
                return r;
            }
        }
        if op == "Gather" {
            if let Some(r) = self.lower_embedding(&cx) {
                return r;
            }
        }
        if matches!(op, "Gather" | "GatherElements") && act(self, 1).is_some() {
            return self.lower_gather_computed(&cx);
        }
        if matches!(op, "ScatterElements" | "Scatter" | "ScatterND") {
            return self.lower_scatter(&cx);
        }
        if lowering::folds(op, all_const) {
            return self.fold_lowered(&cx);
        }
        // Constant-only arithmetic (shape computations, etc.)
        if op != "Constant" && all_const && !node.input.is_empty() {
            if let Ok(c) = self.fold_const(node, op) {
                self.consts.insert(out_name, c);
                return Ok(());
            }
            let inputs: Vec<Option<Const>> = node
                .input
                .iter()
                .map(|n| self.consts.get(n).cloned())
                .collect();
            let outs = const_fold_tract::fold(node, &inputs, self.opset, self.lowering_budget)
                .ok_or_else(unsupported)?;
            self.consts.extend(outs);
            return Ok(());
        }
        let mk = |s: &mut Self, kind: FOpKind, inputs: Vec<FId>, shape: Vec<usize>| -> Result<()> {
            if shape.first() != Some(&1) || shape.iter().product::<usize>() == 0 {
                return Err(bad(format!(
                    "result shape {shape:?} must keep a batch axis of 1 and be non-empty"
                )));
            }
            let out = s.new_tensor(&out_name, shape);
            s.ops.push(FOp {
                kind,
                inputs,
                output: out,
                node: nname.clone(),
                op_type: op.to_string(),
            });
            Ok(())
        };
        match op {
            "Constant" => {
                let c = if let Some(a) = attr(node, "value") {
                    decode_tensor(a.t.as_ref().ok_or_else(|| bad("no tensor value".into()))?)?
                } else if let Some(a) = attr(node, "value_float") {
                    Const {
                        dims: vec![],
                        data: vec![a.f as f64],
                    }
                } else if let Some(a) = attr(node, "value_floats") {
                    Const {
                        dims: vec![a.floats.len()],
                        data: a.floats.iter().map(|&v| v as f64).collect(),
                    }
                } else if let Some(a) = attr(node, "value_int") {
                    Const {
                        dims: vec![],
                        data: vec![a.i as f64],
                    }
                } else if let Some(a) = attr(node, "value_ints") {
                    Const {
                        dims: vec![a.ints.len()],
                        data: a.ints.iter().map(|&v| v as f64).collect(),
                    }
                } else {
                    return Err(bad("unsupported Constant encoding".into()));
                };
                self.consts.insert(out_name, c);
            }
            // An activation is a finite number, never NaN (Hugging Face's
            // softmax guard `Where(IsNaN(p), 0, p)` folds away).
            "IsNaN" => {
                let x = need_act(self, 0)?;
                let dims = self.tensors[x].shape.clone();
                let data = vec![0.0; dims.iter().product()];
                self.consts.insert(out_name, Const { dims, data });
            }
            "Identity" | "Dropout" | "Cast" => {
                let x = need_act(self, 0)?;
                if op == "Dropout" {
                    self.dropout_is_identity(node).map_err(bad)?;
                }
                let to = attr_i(node, "to", 1);
                let f = match to {
                    _ if op != "Cast" => None,
                    1 | 10 | 11 | 16 => None,
                    9 => Some(UnaryFn::Compare(CmpOp::Ne)),
                    2..=7 | 12 | 13 => Some(UnaryFn::Trunc),
                    _ => {
                        return Err(bad(format!(
                            "casts to element type {to} are not supported on activations"
                        )))
                    }
                };
                match f {
                    None => {
                        self.values.insert(out_name, x);
                    }
                    Some(f) => {
                        let shape = self.tensors[x].shape.clone();
                        mk(self, FOpKind::Unary(f), vec![x], shape)?;
                    }
                }
            }
            "Shape" => {
                let x = need_act(self, 0)?;
                let mut dims = self.tensors[x].shape.clone();
                dims[0] = self.batch;
                let r = dims.len() as i64;
                let norm = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                let start = norm(attr_i(node, "start", 0));
                let end = norm(attr_i(node, "end", r));
                let data: Vec<f64> = dims[start..end.max(start)]
                    .iter()
                    .map(|&d| d as f64)
                    .collect();
                self.consts.insert(
                    out_name,
                    Const {
                        dims: vec![data.len()],
                        data,
                    },
                );
            }
            "Gemm" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                if xs.len() != 2 {
                    return Err(bad(format!("input A must be 2-D [batch, K], got {xs:?}")));
                }
                if attr_i(node, "transA", 0) != 0 {
                    return Err(bad("transA=1 is not supported".into()));
                }
                let b = need_cst(self, 1)?;
                if b.dims.len() != 2 {
                    return Err(bad("B must be a 2-D constant".into()));
                }
                let trans_b = attr_i(node, "transB", 0) != 0;
                let (k, n) = if trans_b {
                    (b.dims[1], b.dims[0])
                } else {
                    (b.dims[0], b.dims[1])
                };
                if k != xs[1] {
                    return Err(bad(format!(
                        "inner dimension mismatch: A is {xs:?}, B is {:?}",
                        b.dims
                    )));
                }
                let alpha = attr_f(node, "alpha", 1.0);
                let beta = attr_f(node, "beta", 1.0);
                let mut w = vec![0.0; n * k];
                for o in 0..n {
                    for i in 0..k {
                        let v = if trans_b {
                            b.data[o * k + i]
                        } else {
                            b.data[i * n + o]
                        };
                        w[o * k + i] = alpha * v;
                    }
                }
                let bias = match cst(self, 2) {
                    None if inp(2).is_none() => vec![0.0; n],
                    None => return Err(bad("C must be a constant".into())),
                    Some(c) if c.data.len() == 1 => vec![beta * c.data[0]; n],
                    Some(c) if c.data.len() == n => c.data.iter().map(|v| beta * v).collect(),
                    Some(c) => {
                        return Err(bad(format!(
                            "C of shape {:?} cannot broadcast to [1, {n}]",
                            c.dims
                        )))
                    }
                };
                mk(
                    self,
                    FOpKind::Dense {
                        w,
                        b: bias,
                        in_dim: k,
                        out_dim: n,
                    },
                    vec![x],
                    vec![1, n],
                )?;
            }
            "MatMul" if act(self, 0).is_some() && act(self, 1).is_some() => {
                // Two activations (attention): leading axes broadcast alike.
                let (a, b) = (need_act(self, 0)?, need_act(self, 1)?);
                let (sa, sb) = (self.tensors[a].shape.clone(), self.tensors[b].shape.clone());
                if sa.len() < 3 || sb.len() < 3 {
                    return Err(bad(format!(
                        "MatMul of activations needs matrices per sample, got {sa:?} and {sb:?}"
                    )));
                }
                if sa.len() != sb.len() && self.batch > 1 {
                    return Err(bad(
                        "operands of different rank would align the batch axis with another axis"
                            .into(),
                    ));
                }
                let (ra, rb) = (sa.len(), sb.len());
                let lead = broadcast_shape(&sa[..ra - 2], &sb[..rb - 2]).ok_or_else(|| {
                    bad(format!(
                        "leading axes of {sa:?} and {sb:?} do not broadcast"
                    ))
                })?;
                if sa[ra - 1] != sb[rb - 2] {
                    return Err(bad(format!("inner dimensions differ: {sa:?} by {sb:?}")));
                }
                let at = Lowering {
                    node: &nname,
                    op_type: op,
                    out_name: &out_name,
                };
                let full =
                    |m: usize, n: usize| lead.iter().copied().chain([m, n]).collect::<Vec<_>>();
                let a = self
                    .broadcast_to(&at, a, &full(sa[ra - 2], sa[ra - 1]))
                    .expect("broadcastable");
                let b = self
                    .broadcast_to(&at, b, &full(sb[rb - 2], sb[rb - 1]))
                    .expect("broadcastable");
                mk(
                    self,
                    FOpKind::MatMul,
                    vec![a, b],
                    full(sa[ra - 2], sb[rb - 1]),
                )?;
            }
            "MatMul" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let b = need_cst(self, 1)?;
                if b.dims.len() != 2 {
                    return Err(bad(
                        "only MatMul of an activation by a constant 2-D weight is supported".into(),
                    ));
                }
                let (k, n) = (b.dims[0], b.dims[1]);
                if xs.len() < 2 || xs[xs.len() - 1] != k {
                    return Err(bad(format!(
                        "activation {xs:?} must end in an axis of length {k}"
                    )));
                }
                let mut w = vec![0.0; n * k];
                for o in 0..n {
                    for i in 0..k {
                        w[o * k + i] = b.data[i * n + o];
                    }
                }
                let mut shape = xs.clone();
                *shape.last_mut().unwrap() = n;
                mk(
                    self,
                    FOpKind::Dense {
                        w,
                        b: vec![0.0; n],
                        in_dim: k,
                        out_dim: n,
                    },
                    vec![x],
                    shape,
                )?;
            }
            "Add" | "Sub" | "Mul" | "Div" => {
                let (a, b) = (act(self, 0), act(self, 1));
                // Before opset 7: no broadcasting unless `broadcast = 1`, and
                // then B's axes sit at A's `axis` (default: its last ones).
                let legacy = (self.opset < 7).then(|| {
                    (
                        attr_i(node, "broadcast", 0) != 0,
                        node.attribute
                            .iter()
                            .any(|a| a.name == "axis")
                            .then(|| attr_i(node, "axis", 0)),
                    )
                });
                let onnx_shape = |s: &Self, i: usize| -> Option<Vec<usize>> {
                    match (act(s, i), cst(s, i)) {
                        (Some(t), _) => {
                            let mut shape = s.tensors[t].shape.clone();
                            shape[0] = s.batch;
                            Some(shape)
                        }
                        (None, Some(c)) => Some(c.dims),
                        _ => None,
                    }
                };
                let realign = match (legacy, onnx_shape(self, 0), onnx_shape(self, 1)) {
                    (Some((broadcast, axis)), Some(sa), Some(sb)) if sa != sb => {
                        if !broadcast {
                            return Err(bad(format!(
                                "opset {} without broadcast=1 needs equal shapes, got {sa:?} and {sb:?}",
                                self.opset
                            )));
                        }
                        let suffix = sa.len().checked_sub(sb.len());
                        let axis = match axis {
                            Some(v) if v < 0 => (sa.len() as i64 + v).max(-1),
                            Some(v) => v,
                            None => suffix.map_or(-1, |s| s as i64),
                        };
                        if suffix.is_none() || axis < 0 || axis as usize + sb.len() > sa.len() {
                            return Err(bad(format!(
                                "broadcast of {sb:?} into {sa:?} at axis {axis} does not fit"
                            )));
                        }
                        let axis = axis as usize;
                        if a.is_none() {
                            return Err(bad(
                                "a legacy broadcast into a constant first operand is not supported"
                                    .into(),
                            ));
                        }
                        if Some(axis) != suffix {
                            if b.is_some() {
                                return Err(bad(format!(
                                    "legacy broadcast of the activation {sb:?} at axis {axis} of {sa:?} (not its last axes) is not supported"
                                )));
                            }
                            // B's axes at `axis`, unit axes after them.
                            Some(sa.len() - axis - sb.len())
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                match (a, b) {
                    (Some(a), Some(b)) => {
                        let kind = match op {
                            "Add" => FOpKind::Add,
                            "Sub" => FOpKind::Sub,
                            // a / b = a · (1/b), 1/b by the Reciprocal table (b's
                            // calibrated range must not reach 0).
                            _ => FOpKind::Mul,
                        };
                        let (sa, sb) =
                            (self.tensors[a].shape.clone(), self.tensors[b].shape.clone());
                        let shape = broadcast_shape(&sa, &sb).ok_or_else(|| {
                            bad(format!("shapes {sa:?} and {sb:?} do not broadcast"))
                        })?;
                        if sa.len() != sb.len() && self.batch > 1 {
                            return Err(bad(format!(
                                "operands of rank {} and {} would align the batch axis with another axis",
                                sa.len(),
                                sb.len()
                            )));
                        }
                        let at = Lowering {
                            node: &nname,
                            op_type: op,
                            out_name: &out_name,
                        };
                        let a = self.broadcast_to(&at, a, &shape).expect("broadcastable");
                        let mut b = self.broadcast_to(&at, b, &shape).expect("broadcastable");
                        if op == "Div" {
                            b = self.unary(&at, b, UnaryFn::Reciprocal, "reciprocal");
                        }
                        mk(self, kind, vec![a, b], shape)?;
                    }
                    (Some(x), None) | (None, Some(x)) => {
                        let const_first = a.is_none();
                        let mut c = need_cst(self, if const_first { 0 } else { 1 })?;
                        if let Some(trailing) = realign {
                            c.dims.extend(std::iter::repeat_n(1, trailing));
                        }
                        let mut shape = self.tensors[x].shape.clone();
                        let mut x = x;
                        // A constant wider than the activation: the activation
                        // is broadcast to the result's shape first (a Select).
                        if let Some(wide) = broadcast_shape(&shape, &c.dims)
                            .filter(|w| *w != shape && w.first() == Some(&1))
                        {
                            if self.batch > 1 && wide.len() != shape.len() {
                                return Err(bad(format!(
                                    "a constant of rank {} would align the batch axis with another axis",
                                    c.dims.len()
                                )));
                            }
                            let at = Lowering {
                                node: &nname,
                                op_type: op,
                                out_name: &out_name,
                            };
                            x = self.broadcast_to(&at, x, &wide).expect("broadcastable");
                            shape = wide;
                        }
                        let c = lowering::collapse_uniform(c, &shape, self.batch);
                        // Per channel (axis 1), or else along the last axis of a
                        // sequence (a Linear's bias after a MatMul over rows), or
                        // else (adding) a constant of the whole sample's shape.
                        let (v, last_axis) = match per_channel(&c, &shape) {
                            Some(v) => (v, false),
                            None => match along_last_axis(&c, &shape) {
                                Some(v) => (v, true),
                                None => {
                                    let Some(full) = whole_sample(&c, &shape) else {
                                        return Err(bad(format!(
                                            "constant of shape {:?} does not broadcast into one sample of {shape:?} (it may not vary along the batch axis)",
                                            c.dims,
                                        )));
                                    };
                                    let kind = match (op, const_first) {
                                        ("Add", _) => FOpKind::AddConst { c: full },
                                        ("Sub", false) => FOpKind::AddConst {
                                            c: full.iter().map(|v| -v).collect(),
                                        },
                                        ("Mul", _) => FOpKind::MulConst { c: full },
                                        ("Div", false) => {
                                            if full.contains(&0.0) {
                                                return Err(bad(
                                                    "division by a zero constant".into()
                                                ));
                                            }
                                            FOpKind::MulConst {
                                                c: full.iter().map(|v| 1.0 / v).collect(),
                                            }
                                        }
                                        // A constant minus, or divided by, the activation.
                                        _ => {
                                            let at = Lowering {
                                                node: &nname,
                                                op_type: op,
                                                out_name: &out_name,
                                            };
                                            let y = self
                                                .whole_constant_op(&at, op, const_first, x, full)
                                                .map_err(bad)?;
                                            self.name_result(&at, y, shape);
                                            return Ok(());
                                        }
                                    };
                                    mk(self, kind, vec![x], shape)?;
                                    return Ok(());
                                }
                            },
                        };
                        let ones = vec![1.0; v.len()];
                        let zeros = vec![0.0; v.len()];
                        let (scale, shift) = match (op, const_first) {
                            ("Add", _) => (ones, v),
                            ("Sub", false) => (ones, v.iter().map(|c| -c).collect()),
                            ("Sub", true) => (vec![-1.0; v.len()], v),
                            ("Mul", _) => (v, zeros),
                            ("Div", false) => {
                                if v.contains(&0.0) {
                                    return Err(bad("division by a zero constant".into()));
                                }
                                (v.iter().map(|c| 1.0 / c).collect(), zeros)
                            }
                            _ => return self.lower_const_div(&cx, x, v),
                        };
                        // Adding zero or multiplying by one (a freshly
                        // initialized bias, a folded no-op scale): the input.
                        if scale.iter().all(|&a| a == 1.0) && shift.iter().all(|&b| b == 0.0) {
                            self.values.insert(out_name, x);
                            return Ok(());
                        }
                        // Ranks other than 2 and 4 have no per-channel integer
                        // op: a uniform affine is a diagonal row-wise Dense over
                        // the last axis, a per-channel one goes through a rank-4
                        // view.
                        let uniform = scale.iter().all(|&a| a == scale[0])
                            && shift.iter().all(|&b| b == shift[0]);
                        let rank_ok = shape.len() == 2 || shape.len() == 4;
                        if last_axis || (!rank_ok && uniform) {
                            let n = if last_axis {
                                scale.len()
                            } else {
                                *shape.last().unwrap_or(&1)
                            };
                            let mut w = vec![0.0; n * n];
                            for i in 0..n {
                                w[i * n + i] = if last_axis { scale[i] } else { scale[0] };
                            }
                            let b = if last_axis { shift } else { vec![shift[0]; n] };
                            let kind = FOpKind::Dense {
                                w,
                                b,
                                in_dim: n,
                                out_dim: n,
                            };
                            mk(self, kind, vec![x], shape)?;
                        } else if rank_ok {
                            mk(self, FOpKind::Affine { scale, shift }, vec![x], shape)?;
                        } else {
                            let at = Lowering {
                                node: &nname,
                                op_type: op,
                                out_name: &out_name,
                            };
                            let y = self.per_channel_affine(&at, x, scale, shift);
                            self.name_result(&at, y, shape);
                        }
                    }
                    (None, None) => {
                        return Err(bad("inputs are neither activations nor constants".into()))
                    }
                }
            }
            "Relu" | "Sigmoid" | "Tanh" | "LeakyRelu" | "Clip" => {
                let x = need_act(self, 0)?;
                let kind = match op {
                    "Relu" => FOpKind::Relu,
                    "Sigmoid" => FOpKind::Sigmoid,
                    "Tanh" => FOpKind::Tanh,
                    "LeakyRelu" => FOpKind::LeakyRelu {
                        alpha: attr_f(node, "alpha", 0.01),
                    },
                    _ => {
                        let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
                        if self.opset < 11 {
                            lo = attr_f(node, "min", lo);
                            hi = attr_f(node, "max", hi);
                        } else {
                            if inp(1).is_some() {
                                lo = need_cst(self, 1)?.data.first().copied().unwrap_or(lo);
                            }
                            if inp(2).is_some() {
                                hi = need_cst(self, 2)?.data.first().copied().unwrap_or(hi);
                            }
                        }
                        if lo > hi {
                            return Err(bad(format!("min {lo} > max {hi}")));
                        }
                        FOpKind::Clip { min: lo, max: hi }
                    }
                };
                let shape = self.tensors[x].shape.clone();
                mk(self, kind, vec![x], shape)?;
            }
            _ if UNARY_OPS.contains(&op) => {
                let x = need_act(self, 0)?;
                let f = UnaryFn::from_onnx(op, |n, d| attr_f(node, n, d), |n| attr_s(node, n))
                    .map_err(bad)?
                    .ok_or_else(unsupported)?;
                let shape = self.tensors[x].shape.clone();
                mk(self, FOpKind::Unary(f), vec![x], shape)?;
            }
            "Conv" => self.lower_conv(&cx)?,
            "ConvTranspose" => self.lower_conv_transpose(&cx)?,
            "RNN" | "GRU" | "LSTM" => self.lower_recurrent(&cx)?,
            "Resize" | "Upsample"
                if matches!(
                    attr_s(node, "mode").as_deref(),
                    Some("linear" | "bilinear" | "cubic")
                ) =>
            {
                self.lower_resize_linear(&cx)?
            }
            "MaxPool" | "AveragePool" | "GlobalAveragePool" | "GlobalMaxPool" | "LpPool"
            | "GlobalLpPool" => self.lower_pool(&cx)?,
            "Max" | "Min" | "Sum" | "Mean" => self.lower_variadic(&cx)?,
            "Pow" => self.lower_pow(&cx)?,
            "BatchNormalization" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                if attr_i(node, "training_mode", 0) != 0 {
                    return Err(bad("training_mode=1 is not supported".into()));
                }
                // Before opset 7, `is_test` = 0 (its default) is training mode:
                // the output is normalized by the batch's own statistics.
                if self.opset < 7 && attr_i(node, "is_test", 0) == 0 {
                    return Err(bad(format!(
                        "is_test=0 at opset {} is training mode (normalizing by the batch's own statistics), which is not supported; set is_test=1 for inference",
                        self.opset
                    )));
                }
                let c = xs.get(1).copied().unwrap_or(0);
                let p: Vec<Const> = (1..5).map(|i| need_cst(self, i)).collect::<Result<_>>()?;
                // Before opset 9, `spatial` = 0 gives every element of a
                // sample (`[C, D1, ..]`) its own statistics at opsets 7–8.
                let per_element = xs.iter().skip(1).product::<usize>();
                let spatial = self.opset >= 9 || attr_i(node, "spatial", 1) != 0;
                let n = if !spatial && p.iter().all(|t| t.data.len() == per_element) {
                    per_element
                } else {
                    c
                };
                if p.iter().any(|t| t.data.len() != n) {
                    return Err(bad(if spatial {
                        format!("parameters must have {c} channels")
                    } else {
                        format!(
                            "with spatial=0 the parameters must have {c} channels or one value per element of a sample ({per_element})"
                        )
                    }));
                }
                let eps = attr_f(node, "epsilon", 1e-5);
                let scale: Vec<f64> = (0..n)
                    .map(|i| p[0].data[i] / (p[3].data[i] + eps).sqrt())
                    .collect();
                let shift: Vec<f64> = (0..n)
                    .map(|i| p[1].data[i] - p[2].data[i] * scale[i])
                    .collect();
                if n != c {
                    // Per element: a whole-sample product, then a whole-sample shift.
                    let at = Lowering {
                        node: &nname,
                        op_type: op,
                        out_name: &out_name,
                    };
                    let m = self.emit(
                        &at,
                        "scale",
                        FOpKind::MulConst { c: scale },
                        vec![x],
                        xs.clone(),
                    );
                    let y = self.emit(
                        &at,
                        "shift",
                        FOpKind::AddConst { c: shift },
                        vec![m],
                        xs.clone(),
                    );
                    self.name_result(&at, y, xs);
                } else if xs.len() > 4 {
                    // 3-D (volumes): the affine on the `[1, C, D·H·W, 1]` view.
                    let at = Lowering {
                        node: &nname,
                        op_type: op,
                        out_name: &out_name,
                    };
                    let y = self.per_channel_affine(&at, x, scale, shift);
                    self.name_result(&at, y, xs);
                } else {
                    mk(self, FOpKind::Affine { scale, shift }, vec![x], xs)?;
                }
            }
            // An experimental op of opsets 1–9 (Tiny YOLOv2, Caffe2 exports):
            // `scale·x + bias[c]` on an NCHW image, a per-channel affine.
            "ImageScaler" if self.opset < 10 => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                if xs.len() != 4 {
                    return Err(bad(format!("input {xs:?} is not an NCHW image")));
                }
                let c = xs[1];
                let scale = attr_f(node, "scale", 1.0);
                let bias: Vec<f64> = attr(node, "bias")
                    .map(|a| a.floats.iter().map(|&v| v as f64).collect())
                    .unwrap_or_else(|| vec![0.0; c]);
                if bias.len() != c {
                    return Err(bad(format!(
                        "bias has {} values for {c} channels",
                        bias.len()
                    )));
                }
                let kind = FOpKind::Affine {
                    scale: vec![scale; c],
                    shift: bias,
                };
                mk(self, kind, vec![x], xs)?;
            }
            "Flatten" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let r = xs.len() as i64;
                let mut axis = attr_i(node, "axis", 1);
                if axis < 0 {
                    axis += r;
                }
                if !(0..=r).contains(&axis) {
                    return Err(bad(format!("axis {axis} out of range")));
                }
                if axis == 0 && self.batch > 1 {
                    return Err(bad(format!(
                        "axis 0 would flatten the batch of {} samples into one",
                        self.batch
                    )));
                }
                let a: usize = xs[..axis as usize].iter().product();
                let b: usize = xs[axis as usize..].iter().product();
                let shape = if a == 1 { vec![1, b] } else { vec![a, b] };
                mk(self, FOpKind::Reshape, vec![x], shape)?;
            }
            "Reshape" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let mut target = need_cst(self, 1)?;
                // A target that keeps the batch first reshapes each sample alike.
                if self.batch > 1 && target.data.first() == Some(&(self.batch as f64)) {
                    target.data[0] = 1.0;
                }
                let allowzero = attr_i(node, "allowzero", 0) != 0;
                let shape = resolve_reshape(&xs, &target.data, allowzero).map_err(bad)?;
                mk(self, FOpKind::Reshape, vec![x], shape)?;
            }
            "Squeeze" | "Unsqueeze" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let axes: Option<Vec<i64>> = if inp(1).is_some() {
                    Some(need_cst(self, 1)?.data.iter().map(|&v| v as i64).collect())
                } else {
                    attr_ints(node, "axes")
                };
                let shape = if op == "Squeeze" {
                    let r = xs.len() as i64;
                    let axes: Vec<usize> = match axes {
                        Some(a) => a
                            .iter()
                            .map(|&v| (if v < 0 { v + r } else { v }) as usize)
                            .collect(),
                        None => (1..xs.len()).filter(|&i| xs[i] == 1).collect(),
                    };
                    if axes.contains(&0) {
                        return Err(bad("squeezing the batch axis is not supported".into()));
                    }
                    if axes.iter().any(|&a| a >= xs.len() || xs[a] != 1) {
                        return Err(bad(format!("cannot squeeze axes {axes:?} of {xs:?}")));
                    }
                    xs.iter()
                        .enumerate()
                        .filter(|(i, _)| !axes.contains(i))
                        .map(|(_, &d)| d)
                        .collect()
                } else {
                    let axes = axes.ok_or_else(|| bad("missing axes".into()))?;
                    let r = (xs.len() + axes.len()) as i64;
                    let mut axes: Vec<usize> = axes
                        .iter()
                        .map(|&v| (if v < 0 { v + r } else { v }) as usize)
                        .collect();
                    axes.sort();
                    if axes.first() == Some(&0) && self.batch > 1 {
                        return Err(bad("a new axis 0 would move the batch axis".into()));
                    }
                    let mut shape = xs.clone();
                    for a in axes {
                        if a > shape.len() {
                            return Err(bad("axis out of range".into()));
                        }
                        shape.insert(a, 1);
                    }
                    shape
                };
                mk(self, FOpKind::Reshape, vec![x], shape)?;
            }
            "Greater" | "Less" | "GreaterOrEqual" | "LessOrEqual" | "Equal" | "And" | "Or"
            | "Not" | "Where" => {
                let at = Lowering {
                    node: &nname,
                    op_type: op,
                    out_name: &out_name,
                };
                // Operand `i`: an activation, or a finite constant added to a
                // zero activation shaped like `like`.
                let operand = |s: &mut Self, i: usize, like: FId| -> Result<FId> {
                    if let Some(a) = act(s, i) {
                        let shape = s.tensors[like].shape.clone();
                        if s.tensors[a].shape == shape || a == like {
                            return Ok(a);
                        }
                        // The activation that was broadcast to `like`'s shape.
                        return s.broadcast_to(&at, a, &shape).ok_or_else(|| {
                            bad(format!("input #{i} does not broadcast to {shape:?}"))
                        });
                    }
                    let c = need_cst(s, i)?;
                    if c.data.iter().any(|v| !v.is_finite()) {
                        return Err(bad(format!("input #{i} holds a non-finite constant")));
                    }
                    let shape = s.tensors[like].shape.clone();
                    let full = whole_sample(&c, &shape).ok_or_else(|| {
                        bad(format!(
                            "constant of shape {:?} does not broadcast to {shape:?}",
                            c.dims
                        ))
                    })?;
                    Ok(s.constant_like(&at, like, full))
                };
                // An activation every constant operand broadcasts to: the
                // first one, itself broadcast to the result's shape where a
                // constant is larger (a padding mask `[1, 1, 1, L]` and'ed
                // with an all-true `[1, 1, L, L]`).
                let widened = |s: &mut Self, anchor: FId| -> Result<FId> {
                    let mut shape = s.tensors[anchor].shape.clone();
                    for i in 0..node.input.len() {
                        let other = match (act(s, i), cst(s, i)) {
                            (Some(a), _) => s.tensors[a].shape.clone(),
                            (None, Some(c)) => c.dims,
                            _ => continue,
                        };
                        shape = crate::onnx_reduce::broadcast_shape(&shape, &other).ok_or_else(
                            || {
                                bad(format!(
                                    "input #{i} of shape {other:?} does not broadcast to {shape:?}"
                                ))
                            },
                        )?;
                    }
                    s.broadcast_to(&at, anchor, &shape)
                        .ok_or_else(|| bad(format!("cannot broadcast to {shape:?}")))
                };
                let y = match op {
                    "Not" => {
                        let x = need_act(self, 0)?;
                        self.compare(&at, x, CmpOp::Eq)
                    }
                    "Where" => {
                        let anchor = act(self, 1)
                            .or_else(|| act(self, 2))
                            .or_else(|| act(self, 0))
                            .ok_or_else(|| bad("all inputs are constants".into()))?;
                        let anchor = widened(self, anchor)?;
                        let c = operand(self, 0, anchor)?;
                        let x = operand(self, 1, anchor)?;
                        let y = operand(self, 2, anchor)?;
                        self.select_where(&at, c, x, y).map_err(bad)?
                    }
                    _ => {
                        let anchor = act(self, 0)
                            .or_else(|| act(self, 1))
                            .ok_or_else(|| bad("both inputs are constants".into()))?;
                        let anchor = widened(self, anchor)?;
                        let a = operand(self, 0, anchor)?;
                        let b = operand(self, 1, anchor)?;
                        match op {
                            "And" => self.binary(&at, FOpKind::Mul, a, b).map_err(bad)?,
                            "Or" => {
                                let s = self.binary(&at, FOpKind::Add, a, b).map_err(bad)?;
                                self.compare(&at, s, CmpOp::Gt)
                            }
                            _ => {
                                let d = self.binary(&at, FOpKind::Sub, a, b).map_err(bad)?;
                                let rel = match op {
                                    "Greater" => CmpOp::Gt,
                                    "Less" => CmpOp::Lt,
                                    "GreaterOrEqual" => CmpOp::Ge,
                                    "LessOrEqual" => CmpOp::Le,
                                    _ => CmpOp::Eq,
                                };
                                self.compare(&at, d, rel)
                            }
                        }
                    }
                };
                let shape = self.tensors[y].shape.clone();
                self.name_result(&at, y, shape);
            }
            "LayerNormalization"
            | "InstanceNormalization"
            | "LpNormalization"
            | "LRN"
            | "PRelu" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let r = xs.len() as i64;
                if node.output.iter().skip(1).any(|o| !o.is_empty()) {
                    return Err(bad("only the first output is supported".into()));
                }
                let at = Lowering {
                    node: &nname,
                    op_type: op,
                    out_name: &out_name,
                };
                let y = match op {
                    "LayerNormalization" => {
                        let mut axis = attr_i(node, "axis", -1);
                        if axis < 0 {
                            axis += r;
                        }
                        if !(0..r).contains(&axis) || (axis == 0 && self.batch > 1) {
                            return Err(bad(format!("axis {axis} of {xs:?} is not supported")));
                        }
                        let axes: Vec<usize> = (axis.max(1) as usize..xs.len()).collect();
                        let n: usize = axes.iter().map(|&a| xs[a]).product();
                        let expand = |c: Const, what: &str| match c.data.len() {
                            1 => Ok(vec![c.data[0]; n]),
                            k if k == n => Ok(c.data),
                            k => Err(bad(format!(
                                "{what} has {k} values for {n} normalized elements"
                            ))),
                        };
                        let scale = expand(need_cst(self, 1)?, "Scale")?;
                        let bias = match cst(self, 2) {
                            Some(c) => expand(c, "B")?,
                            None if inp(2).is_none() => vec![0.0; n],
                            None => return Err(bad("B must be a constant".into())),
                        };
                        let eps = attr_f(node, "epsilon", 1e-5);
                        self.normalize(&at, x, &axes, eps, Some((scale, bias)))
                    }
                    "InstanceNormalization" => {
                        if xs.len() < 3 {
                            return Err(bad(format!("input {xs:?} has no spatial axes")));
                        }
                        let c = xs[1];
                        let (scale, bias) = (need_cst(self, 1)?, need_cst(self, 2)?);
                        if scale.data.len() != c || bias.data.len() != c {
                            return Err(bad(format!("scale and B must have {c} values")));
                        }
                        let eps = attr_f(node, "epsilon", 1e-5);
                        let axes: Vec<usize> = (2..xs.len()).collect();
                        let y = self.normalize(&at, x, &axes, eps, None);
                        self.per_channel_affine(&at, y, scale.data, bias.data)
                    }
                    "LpNormalization" => {
                        let mut axis = attr_i(node, "axis", -1);
                        if axis < 0 {
                            axis += r;
                        }
                        let p = attr_i(node, "p", 2);
                        if !(1..r).contains(&axis) || !(p == 1 || p == 2) {
                            return Err(bad(format!(
                                "axis {axis} (batch axis or out of range) or p = {p} (1 or 2)"
                            )));
                        }
                        self.lp_normalize(&at, x, axis as usize, p)
                    }
                    "LRN" => {
                        let size = attr_i(node, "size", 0);
                        let (alpha, beta) =
                            (attr_f(node, "alpha", 1e-4), attr_f(node, "beta", 0.75));
                        let bias = attr_f(node, "bias", 1.0);
                        if xs.len() < 2 || !(1..=xs[1] as i64 * 2 + 1).contains(&size) {
                            return Err(bad(format!(
                                "size {size} for input {xs:?} (1 to twice the channels, plus one)"
                            )));
                        }
                        // The powered sum must stay positive (ONNX gives NaN or
                        // inf otherwise): a positive bias and alpha keep it at
                        // least `bias`.
                        if !(bias > 0.0 && alpha >= 0.0 && beta.is_finite()) {
                            return Err(bad(format!(
                                "bias {bias}, alpha {alpha}, beta {beta} (bias > 0, alpha ≥ 0 and a finite beta are supported)"
                            )));
                        }
                        self.lrn(&at, x, size as usize, alpha, beta, bias)
                    }
                    _ => {
                        // PRelu. Before opset 7 a rank-1 slope of C values is
                        // per channel (no numpy broadcasting yet).
                        let mut slope = need_cst(self, 1)?;
                        if self.opset < 7
                            && slope.dims.len() == 1
                            && slope.data.len() > 1
                            && xs.len() >= 2
                            && slope.data.len() == xs[1]
                        {
                            slope.dims = vec![xs[1]];
                            slope.dims.extend(std::iter::repeat_n(1, xs.len() - 2));
                        }
                        if let Some(v) = per_channel(&slope, &xs) {
                            self.prelu(&at, x, PreluSlope::PerChannel(v))
                        } else if let Some(v) = along_last_axis(&slope, &xs) {
                            self.prelu(&at, x, PreluSlope::LastAxis(v))
                        } else if let Some(v) = whole_sample(&slope, &xs) {
                            self.prelu(&at, x, PreluSlope::PerElement(v))
                        } else {
                            return Err(bad(format!(
                                "slope of shape {:?} does not broadcast into one sample of {xs:?} (it may not vary along the batch axis)",
                                slope.dims
                            )));
                        }
                    }
                };
                self.name_result(&at, y, xs);
            }
            "Slice" | "Gather" | "GatherElements" | "GatherND" | "Pad" | "Tile" | "Expand"
            | "DepthToSpace" | "SpaceToDepth" | "Resize" | "Upsample" | "Trilu" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let ints = |s: &Self, i: usize| -> Result<Option<Vec<i64>>> {
                    match inp(i) {
                        Some(_) => Ok(Some(
                            need_cst(s, i)?.data.iter().map(|&v| v as i64).collect(),
                        )),
                        None => Ok(None),
                    }
                };
                let floats = |s: &Self, i: usize| -> Result<Option<Vec<f64>>> {
                    match inp(i) {
                        Some(_) => Ok(Some(need_cst(s, i)?.data)),
                        None => Ok(None),
                    }
                };
                let rank = xs.len() as i64;
                let norm = |a: i64| if a < 0 { a + rank } else { a };
                let batched = self.batch > 1;
                let mixes = |axes: &[i64]| batched && axes.iter().any(|&a| norm(a) == 0);
                let batch_err = || bad(format!("{op} on the batch axis mixes samples"));
                // A Pad's non-zero constant, added where nothing is selected.
                let mut fill = 0.0;
                // An attribute (a Resize scale, Tile repeats) must not blow a
                // small tensor up into an allocation the file does not carry.
                let n_in = self.tensors[x].len();
                let _limit = index_map::limit_outputs((1 << 16).max(64 * n_in));
                let map = match op {
                    "Slice" => {
                        let (starts, ends, axes, steps) = if self.opset < 10 {
                            (
                                attr_ints(node, "starts").unwrap_or_default(),
                                attr_ints(node, "ends").unwrap_or_default(),
                                attr_ints(node, "axes"),
                                None,
                            )
                        } else {
                            (
                                ints(self, 1)?.unwrap_or_default(),
                                ints(self, 2)?.unwrap_or_default(),
                                ints(self, 3)?,
                                ints(self, 4)?,
                            )
                        };
                        let all: Vec<i64> = (0..starts.len() as i64).collect();
                        if mixes(axes.as_deref().unwrap_or(&all)) {
                            return Err(batch_err());
                        }
                        index_map::slice(&xs, &starts, &ends, axes.as_deref(), steps.as_deref())
                    }
                    "Gather" | "GatherElements" | "GatherND" => {
                        let idx = cst(self, 1).ok_or_else(|| {
                            bad("GatherND by indices computed in the graph is not supported (Gather and GatherElements by computed indices are)".into())
                        })?;
                        let data: Vec<i64> = idx.data.iter().map(|&v| v as i64).collect();
                        match op {
                            "GatherND" => {
                                let bd = attr_i(node, "batch_dims", 0);
                                if batched && bd == 0 {
                                    return Err(batch_err());
                                }
                                index_map::gather_nd(&xs, &data, &idx.dims, bd)
                            }
                            _ => {
                                let axis = attr_i(node, "axis", 0);
                                if mixes(&[axis]) || (op == "GatherElements" && batched) {
                                    return Err(batch_err());
                                }
                                if op == "Gather" {
                                    index_map::gather(&xs, &data, &idx.dims, axis)
                                } else {
                                    index_map::gather_elements(&xs, &data, &idx.dims, axis)
                                }
                            }
                        }
                    }
                    "Pad" => {
                        let mode = attr_s(node, "mode").unwrap_or_else(|| "constant".into());
                        let (pads, value, axes) = if self.opset < 11 {
                            (
                                attr_ints(node, "pads").unwrap_or_default(),
                                attr_f(node, "value", 0.0),
                                None,
                            )
                        } else {
                            let v = floats(self, 2)?.and_then(|v| v.first().copied());
                            (ints(self, 1)?.unwrap_or_default(), v.unwrap_or(0.0), ints(self, 3)?)
                        };
                        if mode == "constant" && value != 0.0 {
                            if !value.is_finite() {
                                return Err(bad(format!("padding with {value}")));
                            }
                            fill = value;
                        }
                        let naxes = pads.len() / 2;
                        let axes_v: Vec<i64> =
                            axes.clone().unwrap_or_else(|| (0..naxes as i64).collect());
                        if batched
                            && axes_v.iter().enumerate().any(|(k, &a)| {
                                norm(a) == 0 && (pads[k] != 0 || pads[k + naxes] != 0)
                            })
                        {
                            return Err(batch_err());
                        }
                        index_map::pad(&xs, &pads, axes.as_deref(), &mode)
                    }
                    "Tile" => {
                        let reps = ints(self, 1)?.unwrap_or_default();
                        if batched && reps.first().is_some_and(|&r| r != 1) {
                            return Err(batch_err());
                        }
                        index_map::tile(&xs, &reps)
                    }
                    "Expand" => {
                        let mut target = ints(self, 1)?.unwrap_or_default();
                        if batched && target.len() == xs.len() && target[0] == self.batch as i64 {
                            target[0] = 1;
                        }
                        if batched && target.len() > xs.len() {
                            return Err(batch_err());
                        }
                        index_map::expand(&xs, &target)
                    }
                    "DepthToSpace" => index_map::depth_to_space(
                        &xs,
                        attr_i(node, "blocksize", 0),
                        &attr_s(node, "mode").unwrap_or_else(|| "DCR".into()),
                    ),
                    "SpaceToDepth" => index_map::space_to_depth(&xs, attr_i(node, "blocksize", 0)),
                    "Trilu" => {
                        if batched && xs.len() < 3 {
                            return Err(batch_err());
                        }
                        let k = ints(self, 1)?.and_then(|v| v.first().copied()).unwrap_or(0);
                        index_map::trilu(&xs, k, attr_i(node, "upper", 1) != 0)
                    }
                    "Upsample" => {
                        let mode = attr_s(node, "mode").unwrap_or_else(|| "nearest".into());
                        index_map::check_resize_mode(&mode).map_err(bad)?;
                        let scales = if self.opset < 9 {
                            attr(node, "scales").map(|a| a.floats.iter().map(|&v| v as f64).collect())
                        } else {
                            floats(self, 1)?
                        }
                        .ok_or_else(|| bad("missing scales".into()))?;
                        if batched && scales.first().is_some_and(|&v| v != 1.0) {
                            return Err(batch_err());
                        }
                        index_map::upsample_nearest(&xs, &scales)
                    }
                    _ => {
                        // Resize
                        let mode = attr_s(node, "mode").unwrap_or_else(|| "nearest".into());
                        index_map::check_resize_mode(&mode).map_err(bad)?;
                        if self.opset < 11 {
                            let scales =
                                floats(self, 1)?.ok_or_else(|| bad("missing scales".into()))?;
                            if batched && scales.first().is_some_and(|&v| v != 1.0) {
                                return Err(batch_err());
                            }
                            index_map::resize10_nearest(&xs, &scales)
                        } else {
                            let scales = floats(self, 2)?.filter(|v| !v.is_empty());
                            let mut sizes: Option<Vec<usize>> = ints(self, 3)?
                                .filter(|v| !v.is_empty())
                                .map(|v| v.iter().map(|&d| d.max(0) as usize).collect());
                            let axes = attr_ints(node, "axes");
                            if batched && axes.is_none() {
                                if scales.as_ref().is_some_and(|v| v.first() != Some(&1.0)) {
                                    return Err(batch_err());
                                }
                                if let Some(sz) = sizes.as_mut() {
                                    if sz.first() != Some(&self.batch) {
                                        return Err(batch_err());
                                    }
                                    sz[0] = 1;
                                }
                            }
                            index_map::resize_nearest(
                                &xs,
                                scales.as_deref(),
                                sizes.as_deref(),
                                &attr_s(node, "coordinate_transformation_mode")
                                    .unwrap_or_else(|| "half_pixel".into()),
                                &attr_s(node, "nearest_mode")
                                    .unwrap_or_else(|| "round_prefer_floor".into()),
                                axes.as_deref(),
                                &attr_s(node, "keep_aspect_ratio_policy")
                                    .unwrap_or_else(|| "stretch".into()),
                            )
                        }
                    }
                }
                .map_err(bad)?;
                let source = map
                    .source
                    .iter()
                    .map(|s| s.map_or(-1, |k| k as i64))
                    .collect();
                if fill == 0.0 {
                    mk(self, FOpKind::Select { source }, vec![x], map.out_shape)?;
                } else {
                    let at = Lowering {
                        node: &nname,
                        op_type: op,
                        out_name: &out_name,
                    };
                    let y = self.select_then_fill(&at, x, source, &map.out_shape, fill);
                    self.name_result(&at, y, map.out_shape);
                }
            }
            "Split" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let axis = attr_i(node, "axis", 0);
                if self.batch > 1 && (axis == 0 || axis == -(xs.len() as i64)) {
                    return Err(bad("Split on the batch axis mixes samples".into()));
                }
                let sizes: Option<Vec<usize>> = if self.opset >= 13 {
                    cst(self, 1).map(|c| c.data.iter().map(|&v| v.max(0.0) as usize).collect())
                } else {
                    attr_ints(node, "split").map(|v| v.iter().map(|&d| d.max(0) as usize).collect())
                };
                let outputs: Vec<&String> = node.output.iter().filter(|o| !o.is_empty()).collect();
                let num = attr(node, "num_outputs")
                    .map(|a| a.i.max(0) as usize)
                    .or((sizes.is_none()).then_some(outputs.len()));
                let maps = index_map::split(&xs, axis, sizes.as_deref(), num).map_err(bad)?;
                if maps.len() != node.output.len() {
                    return Err(bad(format!(
                        "{} parts for {} outputs",
                        maps.len(),
                        node.output.len()
                    )));
                }
                for (name, map) in node.output.iter().zip(maps) {
                    if name.is_empty() {
                        continue;
                    }
                    let source = map
                        .source
                        .iter()
                        .map(|s| s.map_or(-1, |k| k as i64))
                        .collect();
                    let out = self.new_tensor(name, map.out_shape);
                    self.ops.push(FOp {
                        kind: FOpKind::Select { source },
                        inputs: vec![x],
                        output: out,
                        node: nname.clone(),
                        op_type: op.to_string(),
                    });
                }
            }
            "Concat" => {
                // Each input is an activation or a constant (a vision
                // transformer's class token): the activations are placed and
                // summed, and the constants' places filled by one AddConst.
                let parts: Vec<std::result::Result<FId, Const>> = (0..node.input.len())
                    .map(|i| match (act(self, i), cst(self, i)) {
                        (Some(a), _) => Ok(Ok(a)),
                        (None, Some(c)) if lowering::holds_its_shape(&c) => Ok(Err(c)),
                        _ => need_act(self, i).map(Ok),
                    })
                    .collect::<Result<_>>()?;
                if parts.iter().all(|p| p.is_err()) {
                    need_act(self, 0)?;
                }
                let shapes: Vec<Vec<usize>> = parts
                    .iter()
                    .map(|p| match p {
                        Ok(a) => self.tensors[*a].shape.clone(),
                        Err(c) => c.dims.clone(),
                    })
                    .collect();
                let axis = attr_i(node, "axis", 0);
                let rank = shapes.first().map_or(0, Vec::len) as i64;
                if self.batch > 1 && (axis == 0 || axis == -rank) {
                    return Err(bad("Concat on the batch axis mixes samples".into()));
                }
                let (shape, maps) = index_map::concat(&shapes, axis).map_err(bad)?;
                let at = Lowering {
                    node: &nname,
                    op_type: op,
                    out_name: &out_name,
                };
                let mut placed: Vec<FId> = Vec::new();
                let mut fill: Option<Vec<f64>> = None;
                for (part, map) in parts.iter().zip(maps) {
                    match part {
                        Ok(a) => placed.push(self.place(&at, *a, &map, &shape)),
                        Err(c) => {
                            let f = fill.get_or_insert_with(|| vec![0.0; map.source.len()]);
                            for (v, src) in f.iter_mut().zip(&map.source) {
                                if let Some(k) = src {
                                    *v = c.data[*k];
                                }
                            }
                        }
                    }
                }
                // The last op writes the node's output.
                let last = placed.pop().expect("an activation part");
                let mut acc = match placed
                    .into_iter()
                    .reduce(|a, b| self.sum_part(&at, a, b, &shape))
                {
                    Some(sum) if fill.is_some() => self.sum_part(&at, sum, last, &shape),
                    Some(sum) => {
                        mk(self, FOpKind::Add, vec![sum, last], shape.clone())?;
                        self.values[&out_name]
                    }
                    None => last,
                };
                if let Some(c) = fill {
                    mk(self, FOpKind::AddConst { c }, vec![acc], shape.clone())?;
                    acc = self.values[&out_name];
                }
                self.values.insert(out_name, acc);
            }
            "Transpose" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let perm: Vec<usize> = match attr_ints(node, "perm") {
                    Some(p) => p.iter().map(|&v| v as usize).collect(),
                    None => (0..xs.len()).rev().collect(),
                };
                let mut sorted = perm.clone();
                sorted.sort();
                if sorted != (0..xs.len()).collect::<Vec<_>>() {
                    return Err(bad(format!("invalid perm {perm:?}")));
                }
                if perm[0] != 0 {
                    return self.transpose_batch_away(&cx, x, &perm);
                }
                let shape = perm.iter().map(|&p| xs[p]).collect();
                mk(self, FOpKind::Transpose { perm }, vec![x], shape)?;
            }
            "Softmax" | "LogSoftmax" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let r = xs.len() as i64;
                let mut axis = attr_i(node, "axis", if self.opset < 13 { 1 } else { -1 });
                if axis < 0 {
                    axis += r;
                }
                if !(0..r).contains(&axis) {
                    return Err(bad(format!("axis {axis} out of range for {xs:?}")));
                }
                // Before opset 13 the input is coerced to 2-D at `axis`.
                let axes: Vec<usize> = if self.opset < 13 {
                    (axis as usize..xs.len()).collect()
                } else {
                    vec![axis as usize]
                };
                if axes.contains(&0) && self.batch > 1 {
                    return Err(bad(format!("{op} over the batch axis mixes samples")));
                }
                let axes: Vec<usize> = axes.into_iter().filter(|&a| a != 0).collect();
                let whole_sample = xs
                    .iter()
                    .enumerate()
                    .all(|(i, &d)| i == 0 || d == 1 || axes.contains(&i));
                // Only the one output of a single-output graph can be a float tail.
                if op == "Softmax" && whole_sample && self.graph_outputs == [out_name.clone()] {
                    // Applied in float after the proven logits (monotone: top-1 kept).
                    mk(self, FOpKind::Softmax, vec![x], xs)?;
                } else if axes.is_empty() {
                    return Err(bad(
                        "a softmax over the batch axis alone is not supported".into()
                    ));
                } else {
                    let at = Lowering {
                        node: &nname,
                        op_type: op,
                        out_name: &out_name,
                    };
                    self.lower_softmax(&at, x, &axes, op == "LogSoftmax");
                }
            }
            "ArgMax" | "ArgMin" | "Hardmax" | "TopK" => {
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let r = xs.len() as i64;
                let default_axis = match op {
                    "ArgMax" | "ArgMin" => 0,
                    "Hardmax" if self.opset < 13 => 1,
                    _ => -1,
                };
                let mut axis = attr_i(node, "axis", default_axis);
                if axis < 0 {
                    axis += r;
                }
                if !(0..r).contains(&axis) {
                    return Err(bad(format!("axis {axis} out of range for {xs:?}")));
                }
                // Hardmax before opset 13 works on the input coerced to 2-D at `axis`.
                let axes: Vec<usize> = if op == "Hardmax" && self.opset < 13 {
                    (axis as usize..xs.len()).collect()
                } else {
                    vec![axis as usize]
                };
                if axes.contains(&0) && (self.batch > 1 || op != "Hardmax") {
                    return Err(bad(format!(
                        "{op} over the batch axis (axis 0) compares samples; only per-sample axes are supported"
                    )));
                }
                let axes: Vec<usize> = axes.into_iter().filter(|&a| a != 0).collect();
                let at = Lowering {
                    node: &nname,
                    op_type: op,
                    out_name: &out_name,
                };
                match op {
                    "Hardmax" => {
                        if axes.is_empty() {
                            return Err(bad(
                                "a Hardmax over the batch axis alone is not supported".into(),
                            ));
                        }
                        self.lower_hardmax(&at, x, &axes);
                    }
                    "TopK" => {
                        let k = if self.opset < 10 {
                            attr_i(node, "k", 0)
                        } else {
                            let c = need_cst(self, 1)?;
                            c.data.first().map_or(0, |&v| v as i64)
                        };
                        let len = xs[axes[0]] as i64;
                        if !(1..=len).contains(&k) {
                            return Err(bad(format!(
                                "k = {k} for an axis of {len}: ONNX needs 1 ≤ k ≤ the axis length"
                            )));
                        }
                        let largest = attr_i(node, "largest", 1) != 0;
                        let idx_name = node.output.get(1).filter(|s| !s.is_empty()).cloned();
                        let idx_at = idx_name.as_deref().map(|n| Lowering {
                            node: &nname,
                            op_type: op,
                            out_name: n,
                        });
                        if k == 1 {
                            self.lower_top1(&at, idx_at.as_ref(), x, axes[0], largest);
                        } else {
                            let k = k as usize;
                            self.lower_top_k(&at, idx_at.as_ref(), x, axes[0], k, largest);
                        }
                    }
                    _ => {
                        let pick = crate::onnx_argmax::Pick {
                            min: op == "ArgMin",
                            last: attr_i(node, "select_last_index", 0) != 0,
                        };
                        let keepdims = attr_i(node, "keepdims", 1) != 0;
                        self.lower_argmax(&at, x, axes[0], keepdims, pick);
                    }
                }
            }
            _ if Reduce::of(op).is_some() => {
                let how = Reduce::of(op).expect("guarded");
                let x = need_act(self, 0)?;
                let xs = self.tensors[x].shape.clone();
                let r = xs.len() as i64;
                let axes_from_input = self.opset >= 18 || (op == "ReduceSum" && self.opset >= 13);
                let axes: Option<Vec<i64>> = if axes_from_input {
                    match inp(1) {
                        Some(_) => {
                            Some(need_cst(self, 1)?.data.iter().map(|&v| v as i64).collect())
                        }
                        None => None,
                    }
                } else {
                    attr_ints(node, "axes")
                };
                let keepdims = attr_i(node, "keepdims", 1) != 0;
                let noop = attr_i(node, "noop_with_empty_axes", 0) != 0;
                let mut axes: Vec<usize> = match axes {
                    Some(a) if !a.is_empty() => a
                        .iter()
                        .map(|&v| {
                            let v = if v < 0 { v + r } else { v };
                            if (0..r).contains(&v) {
                                Ok(v as usize)
                            } else {
                                Err(bad(format!("axis {v} out of range for {xs:?}")))
                            }
                        })
                        .collect::<Result<_>>()?,
                    _ if noop => {
                        self.values.insert(out_name, x);
                        return Ok(());
                    }
                    _ => (0..xs.len()).collect(),
                };
                axes.sort_unstable();
                axes.dedup();
                if axes.contains(&0) && self.batch > 1 {
                    return Err(bad(format!("{op} over the batch axis mixes samples")));
                }
                axes.retain(|&a| a != 0);
                if axes.is_empty() {
                    // Only the batch axis (of one sample) is reduced.
                    self.values.insert(out_name, x);
                    return Ok(());
                }
                let at = Lowering {
                    node: &nname,
                    op_type: op,
                    out_name: &out_name,
                };
                self.lower_reduce(&at, x, &axes, keepdims, how);
            }
            _ => return Err(unsupported()),
        }
        Ok(())
    }

    fn fold_const(&self, node: &pb::NodeProto, op: &str) -> std::result::Result<Const, ()> {
        let get = |i: usize| {
            node.input
                .get(i)
                .and_then(|n| self.consts.get(n))
                .cloned()
                .ok_or(())
        };
        match op {
            "Identity" | "Cast" => get(0),
            _ if UNARY_OPS.contains(&op) => {
                let f = UnaryFn::from_onnx(op, |n, d| attr_f(node, n, d), |n| attr_s(node, n))
                    .map_err(|_| ())?
                    .ok_or(())?;
                let c = get(0)?;
                Ok(Const {
                    dims: c.dims,
                    data: c.data.iter().map(|&v| f.eval(v)).collect(),
                })
            }
            "Unsqueeze" | "Squeeze" | "Reshape" | "Flatten" => {
                let c = get(0)?;
                let axes = if self.opset >= 13 && op != "Flatten" {
                    node.input
                        .get(1)
                        .filter(|s| !s.is_empty())
                        .map(|_| get(1).map(|a| a.data.iter().map(|&v| v as i64).collect()))
                        .transpose()?
                } else {
                    attr_ints(node, "axes")
                };
                let dims = match op {
                    "Reshape" => {
                        let target = get(1)?.data.iter().map(|&v| v as i64).collect::<Vec<_>>();
                        reshaped_dims(&c.dims, &target, attr_i(node, "allowzero", 0) != 0)
                    }
                    "Flatten" => {
                        let r = c.dims.len() as i64;
                        let a = attr_i(node, "axis", 1);
                        let a = if a < 0 { a + r } else { a };
                        (0..=r).contains(&a).then(|| {
                            let (lead, tail) = c.dims.split_at(a as usize);
                            vec![lead.iter().product(), tail.iter().product()]
                        })
                    }
                    "Squeeze" => squeezed_dims(&c.dims, axes.as_deref()),
                    _ => unsqueezed_dims(&c.dims, &axes.unwrap_or_default()),
                }
                .ok_or(())?;
                Ok(Const { dims, data: c.data })
            }
            "Gather" => {
                // Any axis and index rank (a position embedding's rows by a constant range).
                let (c, idx) = (get(0)?, get(1)?);
                let ids: Vec<i64> = idx.data.iter().map(|&v| v as i64).collect();
                let map = index_map::gather(&c.dims, &ids, &idx.dims, attr_i(node, "axis", 0))
                    .map_err(|_| ())?;
                Ok(Const {
                    data: index_map::apply(&map, &c.data, 0.0),
                    dims: map.out_shape,
                })
            }
            "Concat" => {
                let parts: Vec<&Const> = node
                    .input
                    .iter()
                    .map(|n| self.consts.get(n).ok_or(()))
                    .collect::<std::result::Result<_, ()>>()?;
                if parts.iter().all(|c| c.dims.len() <= 1) {
                    let data: Vec<f64> = parts.iter().flat_map(|c| c.data.clone()).collect();
                    return Ok(Const {
                        dims: vec![data.len()],
                        data,
                    });
                }
                let shapes: Vec<Vec<usize>> = parts.iter().map(|c| c.dims.clone()).collect();
                let (dims, maps) =
                    index_map::concat(&shapes, attr_i(node, "axis", 0)).map_err(|_| ())?;
                let mut data = vec![0.0; dims.iter().product()];
                for (c, map) in parts.iter().zip(&maps) {
                    for (d, src) in data.iter_mut().zip(&map.source) {
                        if let Some(k) = src {
                            *d = c.data[*k];
                        }
                    }
                }
                Ok(Const { dims, data })
            }
            "Slice" | "Expand" | "Tile" | "Transpose" | "Trilu"
                if self.opset >= 10 || op != "Slice" =>
            {
                let c = get(0)?;
                let ints = |i: usize| {
                    get(i)
                        .ok()
                        .map(|c| c.data.iter().map(|&v| v as i64).collect::<Vec<_>>())
                };
                let map = match op {
                    "Slice" => index_map::slice(
                        &c.dims,
                        &ints(1).ok_or(())?,
                        &ints(2).ok_or(())?,
                        ints(3).as_deref(),
                        ints(4).as_deref(),
                    ),
                    "Expand" => index_map::expand(&c.dims, &ints(1).ok_or(())?),
                    "Tile" => index_map::tile(&c.dims, &ints(1).ok_or(())?),
                    // A causal mask's triangle.
                    "Trilu" => {
                        let k = ints(1).and_then(|v| v.first().copied()).unwrap_or(0);
                        index_map::trilu(&c.dims, k, attr_i(node, "upper", 1) != 0)
                    }
                    _ => {
                        let perm: Option<Vec<usize>> = attr_ints(node, "perm")
                            .map(|p| p.iter().map(|&v| v as usize).collect());
                        index_map::transpose(&c.dims, perm.as_deref())
                    }
                }
                .map_err(|_| ())?;
                Ok(Const {
                    data: index_map::apply(&map, &c.data, 0.0),
                    dims: map.out_shape,
                })
            }
            "Where" => {
                // Shape arithmetic (`Expand` targets): equal lengths or scalars.
                let (c, a, b) = (get(0)?, get(1)?, get(2)?);
                let n = c.data.len().max(a.data.len()).max(b.data.len());
                let at = |t: &Const, i: usize| match t.data.len() {
                    1 => Ok(t.data[0]),
                    l if l == n => Ok(t.data[i]),
                    _ => Err(()),
                };
                let data = (0..n)
                    .map(|i| {
                        Ok(if at(&c, i)? != 0.0 {
                            at(&a, i)?
                        } else {
                            at(&b, i)?
                        })
                    })
                    .collect::<std::result::Result<Vec<f64>, ()>>()?;
                let dims = [&c, &a, &b]
                    .iter()
                    .find(|t| t.data.len() == n)
                    .map_or(vec![n], |t| t.dims.clone());
                Ok(Const { dims, data })
            }
            "Add" | "Sub" | "Mul" | "Div" | "Equal" => {
                let (a, b) = (get(0)?, get(1)?);
                let f = |x: f64, y: f64| match op {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    "Equal" => f64::from(u8::from(x == y)),
                    _ => x / y,
                };
                if a.data.len() == b.data.len() {
                    Ok(Const {
                        dims: a.dims.clone(),
                        data: a.data.iter().zip(&b.data).map(|(x, y)| f(*x, *y)).collect(),
                    })
                } else if b.data.len() == 1 {
                    Ok(Const {
                        dims: a.dims.clone(),
                        data: a.data.iter().map(|x| f(*x, b.data[0])).collect(),
                    })
                } else if a.data.len() == 1 {
                    Ok(Const {
                        dims: b.dims.clone(),
                        data: b.data.iter().map(|y| f(a.data[0], *y)).collect(),
                    })
                } else {
                    Err(())
                }
            }
            _ => Err(()),
        }
    }
}

fn resolve_reshape(
    xs: &[usize],
    target: &[f64],
    allowzero: bool,
) -> std::result::Result<Vec<usize>, String> {
    let total: usize = xs.iter().product();
    let mut shape = vec![];
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        let t = t as i64;
        match t {
            -1 => {
                if infer.is_some() {
                    return Err("more than one -1 in the target shape".into());
                }
                infer = Some(i);
                shape.push(1);
            }
            0 if !allowzero => shape.push(*xs.get(i).ok_or("0 refers to a missing axis")?),
            t if t >= 0 => shape.push(t as usize),
            _ => return Err(format!("invalid target dimension {t}")),
        }
    }
    let known: usize = shape.iter().product();
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot reshape {xs:?} to {target:?}"));
        }
        shape[i] = total / known;
    }
    if shape.iter().product::<usize>() != total {
        return Err(format!(
            "cannot reshape {xs:?} ({total} elements) to {shape:?}"
        ));
    }
    Ok(shape)
}

/// Removes unused ops, folds Affine into a preceding Dense/Conv (single consumer)
/// and merges consecutive Affines; checks Softmax is final.
/// The diagonal of an `n × n` matrix that has nothing off it.
fn diagonal(w: &[f64], n: usize) -> Option<Vec<f64>> {
    let off = (0..n * n).any(|k| k / n != k % n && w[k] != 0.0);
    (!off && w.len() == n * n).then(|| (0..n).map(|i| w[i * n + i]).collect())
}

fn prune_and_fold(m: &mut FloatModel) -> Result<()> {
    lowering::lift_rank3_affines(m);
    loop {
        let mut changed = false;
        for i in 0..m.ops.len() {
            // An Affine (per channel), or a diagonal row-wise Dense (a
            // Linear's bias or scale along the last axis): `row_wise` folds
            // into a Dense over any number of rows.
            let (scale, shift, row_wise) = match &m.ops[i].kind {
                FOpKind::Affine { scale, shift } => (scale.clone(), shift.clone(), false),
                FOpKind::Dense {
                    w,
                    b,
                    in_dim,
                    out_dim,
                } if in_dim == out_dim => match diagonal(w, *in_dim) {
                    Some(d) => (d, b.clone(), true),
                    None => continue,
                },
                _ => continue,
            };
            let src = m.ops[i].inputs[0];
            let Some(p) = m.producer(src) else { continue };
            if m.num_consumers(src) != 1 {
                continue;
            }
            let out = m.ops[i].output;
            // Affine scales axis 1; a Dense over several rows has them there.
            let one_row = m.tensors[src].len();
            let ok = match &mut m.ops[p].kind {
                FOpKind::Dense {
                    w,
                    b,
                    in_dim,
                    out_dim,
                } if scale.len() == *out_dim && (row_wise || one_row == *out_dim) => {
                    for o in 0..*out_dim {
                        for k in 0..*in_dim {
                            w[o * *in_dim + k] *= scale[o];
                        }
                        b[o] = b[o] * scale[o] + shift[o];
                    }
                    true
                }
                FOpKind::Conv {
                    w, b, kernel_shape, ..
                } if !row_wise && scale.len() == kernel_shape[0] => {
                    let per = kernel_shape[1] * kernel_shape[2] * kernel_shape[3];
                    for o in 0..kernel_shape[0] {
                        for v in &mut w[o * per..(o + 1) * per] {
                            *v *= scale[o];
                        }
                        b[o] = b[o] * scale[o] + shift[o];
                    }
                    true
                }
                FOpKind::Affine {
                    scale: s2,
                    shift: t2,
                } if !row_wise && s2.len() == scale.len() => {
                    for c in 0..scale.len() {
                        s2[c] *= scale[c];
                        t2[c] = t2[c] * scale[c] + shift[c];
                    }
                    true
                }
                _ => false,
            };
            if ok {
                // the producer now writes the Affine's output tensor
                m.ops[p].output = out;
                m.ops.remove(i);
                changed = true;
                break;
            }
        }
        if !changed {
            break;
        }
    }
    // drop ops whose results are never used
    loop {
        let before = m.ops.len();
        let live: Vec<bool> = m
            .ops
            .iter()
            .map(|o| m.num_consumers(o.output) > 0)
            .collect();
        let mut it = live.iter();
        m.ops.retain(|_| *it.next().unwrap());
        if m.ops.len() == before {
            break;
        }
    }
    for (i, op) in m.ops.iter().enumerate() {
        if matches!(op.kind, FOpKind::Softmax)
            && (op.output != m.output || i + 1 != m.ops.len() || m.outputs.len() > 1)
        {
            return Err(ModelError::UnsupportedAttr {
                op: "Softmax".into(),
                node: op.node.clone(),
                index: i,
                reason: "Softmax is only supported as the final op of the graph".into(),
            });
        }
    }
    if m.ops.is_empty() {
        // The output is the input (an Identity graph): one identity Select,
        // so the statement still binds the output to the input.
        if m.output_ids().iter().any(|&o| o != m.input) {
            return Err(ModelError::Graph("the graph computes nothing".into()));
        }
        let shape = m.tensors[m.input].shape.clone();
        let n: usize = shape.iter().product();
        let name = format!("{}/identity", m.tensors[m.input].name);
        m.tensors.push(FTensor { name, shape });
        let out = m.tensors.len() - 1;
        m.ops.push(FOp {
            kind: FOpKind::Select {
                source: (0..n as i64).collect(),
            },
            inputs: vec![m.input],
            output: out,
            node: "identity".into(),
            op_type: "Identity".into(),
        });
        m.output = out;
        for o in &mut m.outputs {
            o.tensor = out;
        }
    }
    Ok(())
}

#[cfg(test)]
mod input_tests;

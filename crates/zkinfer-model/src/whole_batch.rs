//! Models whose batch cannot be split into samples, proven as one sample.
//!
//! zkinfer proves a statement per sample: the ONNX axis 0 is the batch, and
//! no op may mix samples. Some fixed-shape graphs are not of that form: a
//! constant that differs per batch row (`x + c` with `c` of the input's whole
//! shape), graph inputs of different batch sizes (`A·B` of two inputs, as a
//! Gemm), inputs without a batch axis (`[3]`), a Squeeze or Split of axis 0.
//! Their semantics is still one function of the whole input, so the graph is
//! rewritten to compute it on a single sample: every graph input and output
//! gets a new leading axis of 1, and every axis an op names moves by one
//! (non-negative axes, permutations, pads, shape and repeat constants;
//! negative axes count from the end and stay). Gemm becomes MatMul (batched
//! over the new axis) and constant Mul/Add; Flatten flattens after the new
//! axis and puts it back with an Unsqueeze.
//!
//! Only ops whose axis semantics this module knows are rewritten; any other
//! (convolutions and pools, whose axis 1 is the channel axis, among them)
//! refuses the rewrite, and the import's first error stands.
//! `compile` checks the rewritten graph against tract on the *original*
//! graph, so a wrong rewrite cannot pass silently.

use super::*;
use tract_onnx::pb::tensor_shape_proto::{dimension::Value as DimValue, Dimension};

/// Ops with no axis attribute or input, numpy-broadcasting binary ops
/// (opset ≥ 7) and MatMul (its leading axes are batch axes).
const AXIS_FREE: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Max",
    "Min",
    "Sum",
    "Mean",
    "Equal",
    "Greater",
    "Less",
    "GreaterOrEqual",
    "LessOrEqual",
    "And",
    "Or",
    "Not",
    "IsNaN",
    "Where",
    "Relu",
    "Sigmoid",
    "Tanh",
    "LeakyRelu",
    "Elu",
    "Selu",
    "Celu",
    "Softplus",
    "Softsign",
    "HardSigmoid",
    "HardSwish",
    "Exp",
    "Log",
    "Sqrt",
    "Abs",
    "Neg",
    "Reciprocal",
    "Floor",
    "Ceil",
    "Round",
    "Sign",
    "Clip",
    "Erf",
    "Sin",
    "Cos",
    "Gelu",
    "Mish",
    "Identity",
    "Dropout",
    "Cast",
    "Constant",
    "MatMul",
];

type Rewrite = std::result::Result<(), String>;

/// The model as one sample of its whole fixed-shape input, re-encoded, and
/// its float graph; `None` if the graph cannot be rewritten or still does not
/// import.
pub fn as_one_sample(bytes: &[u8]) -> Option<(FloatModel, Vec<u8>)> {
    use prost::Message;
    let proto = parse_proto(bytes).ok()?;
    let bytes = rewrite(&proto).ok()?.encode_to_vec();
    let fm = import_onnx(&bytes).ok()?;
    (fm.batch == 1 && !fm.dynamic_batch).then_some((fm, bytes))
}

/// The graph computing the same function of the whole input as one sample
/// (module doc); `Err` names what cannot be rewritten.
pub fn rewrite(proto: &pb::ModelProto) -> std::result::Result<pb::ModelProto, String> {
    let opset = proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(13, |o| o.version);
    let mut out = proto.clone();
    let graph = out.graph.as_mut().ok_or("no graph")?;
    let mut w = Writer {
        opset,
        consts: graph.initializer.iter().map(|t| t.name.clone()).collect(),
        unchanged: graph.initializer.iter().map(|t| t.name.clone()).collect(),
        initializers: graph
            .initializer
            .iter()
            .map(|t| (t.name.clone(), t.clone()))
            .collect(),
        new_inits: Vec::new(),
        nodes: Vec::new(),
        fresh: 0,
    };
    for vi in graph.input.iter_mut() {
        if w.consts.contains(&vi.name) {
            continue;
        }
        let name = vi.name.clone();
        let dims = dims_mut(vi).ok_or_else(|| format!("input `{name}` has no shape"))?;
        if dims
            .iter()
            .any(|d| !matches!(d.value, Some(DimValue::DimValue(v)) if v > 0))
        {
            return Err(format!("input `{}` has a symbolic dimension", vi.name));
        }
        dims.insert(0, unit_dim());
    }
    for vi in graph.output.iter_mut() {
        if let Some(dims) = dims_mut(vi) {
            dims.insert(0, unit_dim());
        }
    }
    // Intermediate shapes change: drop the stale annotations.
    graph.value_info.clear();
    for node in std::mem::take(&mut graph.node) {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(format!("operator domain `{}`", node.domain));
        }
        w.node(node)?;
    }
    graph.node = w.nodes;
    graph.initializer.extend(w.new_inits);
    Ok(out)
}

fn unit_dim() -> Dimension {
    Dimension {
        value: Some(DimValue::DimValue(1)),
        ..Default::default()
    }
}

fn dims_mut(vi: &mut pb::ValueInfoProto) -> Option<&mut Vec<Dimension>> {
    use tract_onnx::pb::type_proto::Value;
    match vi.r#type.as_mut()?.value.as_mut()? {
        Value::TensorType(t) => Some(&mut t.shape.as_mut()?.dim),
    }
}

/// A non-negative axis moves past the new leading axis; a negative one
/// counts from the end and stays.
fn shift(a: i64) -> i64 {
    if a >= 0 {
        a + 1
    } else {
        a
    }
}

struct Writer {
    opset: i64,
    /// Names of constant values (initializers and Constant outputs).
    consts: std::collections::HashSet<String>,
    /// Values the rewrite leaves as they were (no leading axis): the
    /// constants, a `Shape` of an activation (sliced back to the original
    /// shape) and anything computed from such values only — the shape
    /// arithmetic exporters emit (`Shape → Slice → Concat → Reshape`).
    unchanged: std::collections::HashSet<String>,
    initializers: HashMap<String, pb::TensorProto>,
    new_inits: Vec<pb::TensorProto>,
    nodes: Vec<pb::NodeProto>,
    fresh: usize,
}

impl Writer {
    fn name(&mut self, base: &str) -> String {
        self.fresh += 1;
        format!("{base}__whole_batch_{}", self.fresh)
    }

    /// The int64 values of constant input `name`.
    fn ints(&self, name: &str) -> std::result::Result<Vec<i64>, String> {
        let t = self
            .initializers
            .get(name)
            .ok_or_else(|| format!("`{name}` is not an initializer"))?;
        let c = decode_tensor(t).map_err(|e| e.to_string())?;
        Ok(c.data.iter().map(|&v| v as i64).collect())
    }

    /// A new int64 initializer; returns its name.
    fn int_init(&mut self, base: &str, v: Vec<i64>) -> String {
        let dims = vec![v.len() as i64];
        self.int_init_shaped(base, v, dims)
    }

    /// A new int64 initializer of shape `dims`; returns its name.
    fn int_init_shaped(&mut self, base: &str, v: Vec<i64>, dims: Vec<i64>) -> String {
        let name = self.name(base);
        let t = pb::TensorProto {
            name: name.clone(),
            dims,
            data_type: 7,
            int64_data: v,
            ..Default::default()
        };
        self.initializers.insert(name.clone(), t.clone());
        self.consts.insert(name.clone());
        self.new_inits.push(t);
        name
    }

    /// A new float initializer of `dims`; returns its name.
    fn float_init(&mut self, base: &str, dims: Vec<i64>, v: Vec<f32>) -> String {
        let name = self.name(base);
        self.new_inits.push(pb::TensorProto {
            name: name.clone(),
            dims,
            data_type: 1,
            float_data: v,
            ..Default::default()
        });
        self.consts.insert(name.clone());
        name
    }

    fn emit(
        &mut self,
        op: &str,
        inputs: Vec<String>,
        output: String,
        attrs: Vec<pb::AttributeProto>,
    ) {
        // Before opset 7 an elementwise op broadcasts only with `broadcast=1`
        // (suffix alignment, numpy's for these operands).
        let mut attribute = attrs;
        if self.opset < 7 && matches!(op, "Add" | "Mul") {
            attribute.push(int_attr("broadcast", 1));
        }
        let name = self.name(op);
        self.nodes.push(pb::NodeProto {
            input: inputs,
            output: vec![output],
            name,
            op_type: op.into(),
            attribute,
            ..Default::default()
        });
    }

    /// The `axes` of Squeeze/Unsqueeze (attribute before opset 13, input
    /// from 13), shifted; `required` refuses a missing one.
    fn shift_axes_attr_or_input(&mut self, node: &mut pb::NodeProto, input: usize) -> Rewrite {
        if let Some(a) = node.attribute.iter_mut().find(|a| a.name == "axes") {
            a.ints.iter_mut().for_each(|v| *v = shift(*v));
            return Ok(());
        }
        match node.input.get(input).filter(|s| !s.is_empty()).cloned() {
            Some(name) => {
                let v = self.ints(&name)?.into_iter().map(shift).collect();
                node.input[input] = self.int_init(&name, v);
                Ok(())
            }
            None => Err(format!(
                "{} without axes would act on the new leading axis",
                node.op_type
            )),
        }
    }

    fn node(&mut self, mut node: pb::NodeProto) -> Rewrite {
        let op = node.op_type.clone();
        let attr_i =
            |n: &pb::NodeProto, k: &str| n.attribute.iter().find(|a| a.name == k).map(|a| a.i);
        let mut inputs = node.input.iter().filter(|s| !s.is_empty()).peekable();
        if op != "Constant" && inputs.peek().is_some() && inputs.all(|s| self.unchanged.contains(s))
        {
            // Arithmetic on unchanged values (shape computations, constant
            // folding the exporter left): the same values as before.
            self.unchanged.extend(node.output.iter().cloned());
            self.nodes.push(node);
            return Ok(());
        }
        match op.as_str() {
            "Shape" => return self.shape_of_activation(node),
            "Reshape" | "Tile" | "Expand"
                if node.input.get(1).is_some_and(|s| {
                    self.unchanged.contains(s) && !self.initializers.contains_key(s)
                }) =>
            {
                // A computed shape (or repeats): the leading 1 is concatenated.
                let v = node.input[1].clone();
                let one = self.int_init("lead_one", vec![1]);
                let lifted = self.name(&v);
                self.emit(
                    "Concat",
                    vec![one, v],
                    lifted.clone(),
                    vec![int_attr("axis", 0)],
                );
                node.input[1] = lifted;
                self.nodes.push(node);
                return Ok(());
            }
            "Add" | "Sub" | "Mul" | "Div" if self.opset < 7 => {
                // Legacy `axis` places B's axes in A's: a constant B keeps
                // its rank, so its axis moves; an activation B gained the
                // leading axis too, which now sits at the old position.
                let b_const = node.input.get(1).is_some_and(|b| self.consts.contains(b));
                if attr_i(&node, "broadcast").unwrap_or(0) == 0 {
                    // Equal shapes (the spec requires them): a constant operand
                    // gains the leading axis too.
                    for i in 0..node.input.len().min(2) {
                        let name = node.input[i].clone();
                        if let Some(t) = self.initializers.get(&name).cloned() {
                            let lifted = self.name(&name);
                            let mut t = t;
                            t.name = lifted.clone();
                            t.dims.insert(0, 1);
                            self.initializers.insert(lifted.clone(), t.clone());
                            self.consts.insert(lifted.clone());
                            self.new_inits.push(t);
                            node.input[i] = lifted;
                        }
                    }
                } else if b_const {
                    if let Some(a) = node.attribute.iter_mut().find(|a| a.name == "axis") {
                        a.i = shift(a.i);
                    }
                }
            }
            "PRelu" if self.opset < 7 => {
                return Err("PRelu before opset 7 (a per-channel slope)".into())
            }
            _ if AXIS_FREE.contains(&op.as_str()) => {}
            "Softmax" | "LogSoftmax" | "Hardmax" => {
                match node.attribute.iter_mut().find(|a| a.name == "axis") {
                    Some(a) => a.i = shift(a.i),
                    // default 1 before opset 13, −1 from 13
                    None if self.opset < 13 => node.attribute.push(int_attr("axis", 2)),
                    None => {}
                }
            }
            "LayerNormalization" | "LpNormalization" => {
                // default −1 (the last axis) stays
                if let Some(a) = node.attribute.iter_mut().find(|a| a.name == "axis") {
                    a.i = shift(a.i);
                }
            }
            // A table gathered by lifted indices (an embedding): the axis is
            // the table's own, and the output takes the indices' new axis.
            "Gather"
                if node
                    .input
                    .first()
                    .is_some_and(|d| self.unchanged.contains(d)) => {}
            "Concat" | "Split" | "Gather" | "ArgMax" | "ArgMin" => {
                let axis = attr_i(&node, "axis").unwrap_or(0);
                node.attribute.retain(|a| a.name != "axis");
                node.attribute.push(int_attr("axis", shift(axis)));
            }
            // Constant index tuples into lifted data: each gains a leading 0
            // (the new axis), and the tuples a leading axis of 1, which the
            // result then has too.
            "GatherND"
                if attr_i(&node, "batch_dims").unwrap_or(0) == 0
                    && node
                        .input
                        .get(1)
                        .is_some_and(|i| self.initializers.contains_key(i)) =>
            {
                let name = node.input[1].clone();
                let dims = self.initializers[&name].dims.clone();
                let k = *dims.last().ok_or("GatherND indices of rank 0")? as usize;
                if k == 0 {
                    return Err("GatherND with empty index tuples".into());
                }
                let v: Vec<i64> = self
                    .ints(&name)?
                    .chunks(k)
                    .flat_map(|tuple| std::iter::once(0).chain(tuple.iter().copied()))
                    .collect();
                let mut lifted = vec![1];
                lifted.extend_from_slice(&dims[..dims.len() - 1]);
                lifted.push(k as i64 + 1);
                node.input[1] = self.int_init_shaped(&name, v, lifted);
            }
            "Squeeze" | "Unsqueeze" => self.shift_axes_attr_or_input(&mut node, 1)?,
            "ReduceSum" | "ReduceMean" | "ReduceMax" | "ReduceMin" | "ReduceProd"
            | "ReduceSumSquare" | "ReduceL1" | "ReduceL2" | "ReduceLogSumExp" => {
                self.shift_axes_attr_or_input(&mut node, 1)?
            }
            "Transpose" => {
                let a = node
                    .attribute
                    .iter_mut()
                    .find(|a| a.name == "perm")
                    .ok_or("Transpose without perm")?;
                a.ints = std::iter::once(0)
                    .chain(a.ints.iter().map(|p| p + 1))
                    .collect();
            }
            "Flatten" => {
                let axis = attr_i(&node, "axis").unwrap_or(1);
                let out = node
                    .output
                    .first()
                    .cloned()
                    .ok_or("Flatten without output")?;
                let flat = self.name(&out);
                node.attribute.retain(|a| a.name != "axis");
                node.attribute.push(int_attr("axis", shift(axis)));
                node.output = vec![flat.clone()];
                self.nodes.push(node);
                return self.unsqueeze0(flat, out);
            }
            "Reshape" | "Tile" | "Expand" => {
                let name = node.input.get(1).cloned().ok_or("missing shape input")?;
                let mut v = self.ints(&name)?;
                v.insert(0, 1);
                node.input[1] = self.int_init(&name, v);
            }
            "Slice" if self.opset < 10 => {
                let n = node
                    .attribute
                    .iter()
                    .find(|a| a.name == "starts")
                    .map_or(0, |a| a.ints.len());
                match node.attribute.iter_mut().find(|a| a.name == "axes") {
                    Some(a) => a.ints.iter_mut().for_each(|v| *v = shift(*v)),
                    None => node
                        .attribute
                        .push(ints_attr("axes", (1..=n as i64).collect())),
                }
            }
            "Slice" => {
                let starts = node.input.get(1).cloned().ok_or("Slice without starts")?;
                let axes = match node.input.get(3).filter(|s| !s.is_empty()).cloned() {
                    Some(a) => self.ints(&a)?.into_iter().map(shift).collect(),
                    None => (1..=self.ints(&starts)?.len() as i64).collect(),
                };
                let axes = self.int_init("slice_axes", axes);
                node.input.resize(node.input.len().max(4), String::new());
                node.input[3] = axes;
            }
            "Pad" => {
                if node.input.get(3).is_some_and(|s| !s.is_empty()) {
                    return Err("Pad with axes".into());
                }
                let insert = |p: &[i64]| {
                    let n = p.len() / 2;
                    let mut v = vec![0];
                    v.extend_from_slice(&p[..n]);
                    v.push(0);
                    v.extend_from_slice(&p[n..]);
                    v
                };
                if let Some(a) = node.attribute.iter_mut().find(|a| a.name == "pads") {
                    a.ints = insert(&a.ints);
                } else {
                    let name = node.input.get(1).cloned().ok_or("Pad without pads")?;
                    let v = insert(&self.ints(&name)?);
                    node.input[1] = self.int_init(&name, v);
                }
            }
            "Gemm" => return self.gemm(node),
            other => return Err(format!("`{other}` when the whole batch is one sample")),
        }
        if op == "Constant" {
            self.consts.extend(node.output.iter().cloned());
            self.unchanged.extend(node.output.iter().cloned());
            let value = node.attribute.iter().find(|a| a.name == "value");
            if let (Some(t), Some(out)) = (value.and_then(|a| a.t.clone()), node.output.first()) {
                self.initializers.insert(out.clone(), t);
            }
        }
        self.nodes.push(node);
        Ok(())
    }

    /// `Shape` of an activation: the shape without the new leading axis (its
    /// `start`/`end` moved past it), so every computation on it sees the
    /// original values.
    fn shape_of_activation(&mut self, mut node: pb::NodeProto) -> Rewrite {
        let out = node.output.first().cloned().ok_or("Shape without output")?;
        let has = |n: &pb::NodeProto, k: &str| n.attribute.iter().any(|a| a.name == k);
        if self.opset >= 15 || has(&node, "start") || has(&node, "end") {
            match node.attribute.iter_mut().find(|a| a.name == "start") {
                Some(a) => a.i = shift(a.i),
                None => node.attribute.push(int_attr("start", 1)),
            }
            if let Some(a) = node.attribute.iter_mut().find(|a| a.name == "end") {
                a.i = shift(a.i);
            }
            self.nodes.push(node);
        } else {
            let full = self.name(&out);
            node.output = vec![full.clone()];
            self.nodes.push(node);
            if self.opset < 10 {
                let attrs = vec![
                    ints_attr("starts", vec![1]),
                    ints_attr("ends", vec![i64::MAX]),
                ];
                self.emit("Slice", vec![full], out.clone(), attrs);
            } else {
                let starts = self.int_init("shape_start", vec![1]);
                let ends = self.int_init("shape_end", vec![i64::MAX]);
                self.emit("Slice", vec![full, starts, ends], out.clone(), vec![]);
            }
        }
        self.unchanged.insert(out);
        Ok(())
    }

    /// `out = Unsqueeze(x, axes = [0])` in the opset's form.
    fn unsqueeze0(&mut self, x: String, out: String) -> Rewrite {
        if self.opset < 13 {
            self.emit("Unsqueeze", vec![x], out, vec![ints_attr("axes", vec![0])]);
        } else {
            let axes = self.int_init("unsqueeze_axes", vec![0]);
            self.emit("Unsqueeze", vec![x, axes], out, vec![]);
        }
        Ok(())
    }

    /// `alpha·op(A)·op(B) + beta·C` as MatMul (batched over the new axis),
    /// Transposes, and constant Mul/Add.
    fn gemm(&mut self, node: pb::NodeProto) -> Rewrite {
        let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
        let int = |k: &str| attr(k).map_or(0, |a| a.i);
        let float = |k: &str| attr(k).map_or(1.0, |a| a.f);
        let (alpha, beta) = (float("alpha"), float("beta"));
        let out = node.output.first().cloned().ok_or("Gemm without output")?;
        let operand =
            |w: &mut Self, i: usize, trans: bool| -> std::result::Result<String, String> {
                let x = node.input.get(i).cloned().ok_or("Gemm operand missing")?;
                if !trans {
                    return Ok(x);
                }
                // a constant stays 2-D; an activation gained the leading axis
                let perm = if w.consts.contains(&x) {
                    vec![1, 0]
                } else {
                    vec![0, 2, 1]
                };
                let t = w.name(&x);
                w.emit(
                    "Transpose",
                    vec![x],
                    t.clone(),
                    vec![ints_attr("perm", perm)],
                );
                Ok(t)
            };
        let a = operand(self, 0, int("transA") != 0)?;
        let b = operand(self, 1, int("transB") != 0)?;
        let c = node.input.get(2).filter(|s| !s.is_empty()).cloned();
        let scaled = alpha != 1.0;
        let biased = c.is_some() && beta != 0.0;
        let product = if scaled || biased {
            self.name(&out)
        } else {
            out.clone()
        };
        self.emit("MatMul", vec![a, b], product.clone(), vec![]);
        let mut y = product;
        if scaled {
            let k = self.float_init("gemm_alpha", vec![], vec![alpha]);
            let next = if biased { self.name(&out) } else { out.clone() };
            self.emit("Mul", vec![y, k], next.clone(), vec![]);
            y = next;
        }
        if let (Some(c), true) = (c, biased) {
            let c = if beta != 1.0 {
                let k = self.float_init("gemm_beta", vec![], vec![beta]);
                let cb = self.name(&c);
                self.emit("Mul", vec![c, k], cb.clone(), vec![]);
                cb
            } else {
                c
            };
            self.emit("Add", vec![y, c], out, vec![]);
        }
        Ok(())
    }
}

fn int_attr(name: &str, i: i64) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: 2,
        i,
        ..Default::default()
    }
}

fn ints_attr(name: &str, ints: Vec<i64>) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: 7,
        ints,
        ..Default::default()
    }
}

//! Token embeddings: `Gather(table, ids)` from a constant table by an integer
//! graph input, with no new prover op.
//!
//! The ids are public, so the statement's input holds them as one-hot rows
//! (a segment `[.., V]` of value 1 at each id, [`InputSegment::one_hot`]);
//! the gather is then a row-wise `Dense` of those rows by the table, which the
//! prover already proves, and the verifier evaluates the public input's MLE
//! itself. Input files still hold the ids: the prover and the verifier expand
//! them alike ([`crate::input::interleave`]), checking each is an integer in
//! `[-V, V)` (a negative id counts from the end, as ONNX reads it). An ids
//! input also used as numbers keeps its raw segment next to the one-hot one.
//!
//! A child module of `onnx_import` (it extends the importer).

use super::*;

/// How a graph input's ids are used: gathered from constant tables of
/// `depth` rows, and whether its values are also read as numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct IdsUse {
    pub depth: usize,
    pub keep_raw: bool,
}

/// The dims of `name` if it is a constant: an initializer or a Constant
/// node's tensor.
fn const_dims(
    graph: &pb::GraphProto,
    consts: &HashMap<String, Const>,
    name: &str,
) -> Option<Vec<usize>> {
    if let Some(c) = consts.get(name) {
        return Some(c.dims.clone());
    }
    graph.node.iter().find_map(|n| {
        (n.op_type == "Constant" && n.output.first().is_some_and(|o| o == name))
            .then(|| attr(n, "value").and_then(|a| a.t.as_ref()))
            .flatten()
            .map(|t| t.dims.iter().map(|&d| d.max(0) as usize).collect())
    })
}

/// For each graph input: `Some` when it indexes constant tables (`Gather`
/// input #1 with a constant input #0), with their row count along the
/// gathered axis. Only integer inputs qualify (ONNX indices are int32/int64).
/// One input gathering tables of different row counts is refused: its ids
/// would have two meanings (a negative id, an id in range of one only).
pub(super) fn scan(
    graph: &pb::GraphProto,
    consts: &HashMap<String, Const>,
    inputs: &[GraphInput],
) -> Result<Vec<Option<IdsUse>>> {
    inputs
        .iter()
        .map(|g| {
            if matches!(
                g.elem,
                InputElem::Float32 | InputElem::Float16 | InputElem::Float64 | InputElem::Bool
            ) {
                return Ok(None);
            }
            let mut depth: Option<(usize, &str)> = None;
            let mut keep_raw = graph.output.iter().any(|o| o.name == g.name);
            for node in &graph.node {
                for (slot, name) in node.input.iter().enumerate() {
                    if *name != g.name {
                        continue;
                    }
                    let table = (node.op_type == "Gather" && slot == 1 && node.domain.is_empty())
                        .then(|| const_dims(graph, consts, &node.input[0]))
                        .flatten();
                    match table {
                        Some(dims) => {
                            let rank = dims.len() as i64;
                            let mut axis = attr_i(node, "axis", 0);
                            if axis < 0 {
                                axis += rank;
                            }
                            // An invalid axis is refused by the node's lowering.
                            let Some(&v) = usize::try_from(axis).ok().and_then(|a| dims.get(a))
                            else {
                                continue;
                            };
                            match depth {
                                Some((d, other)) if d != v => {
                                    return Err(ModelError::Graph(format!(
                                        "input `{}` indexes tables of {d} rows (node `{other}`) and of {v} rows (node `{}`): one id would have two meanings",
                                        g.name, node.name
                                    )))
                                }
                                _ => depth = Some((v, node.name.as_str())),
                            }
                        }
                        None if node.op_type == "Shape" => {}
                        None => keep_raw = true,
                    }
                }
            }
            Ok(depth.map(|(depth, _)| IdsUse { depth, keep_raw }))
        })
        .collect()
}

impl Importer {
    /// [`Importer::combine_inputs`] for a model some of whose inputs are ids
    /// gathered from tables: each such input gives a one-hot segment (after
    /// its raw one when that is kept), and its one-hot tensor is recorded for
    /// [`Importer::lower_embedding`]. An ids input read only by gathers and
    /// Shape has no raw segment: its name stays a tensor of its shape (for
    /// Shape) that no op computes or reads.
    pub(super) fn combine_inputs_with_ids(
        &mut self,
        graph: &pb::GraphProto,
        inputs: &[GraphInput],
        uses: &[Option<IdsUse>],
    ) -> Result<(FId, Vec<InputSegment>)> {
        let mut segments = Vec::new();
        let mut offset = 0;
        for (i, u) in inputs.iter().zip(uses) {
            let len: usize = i.shape.iter().product();
            if u.is_none_or(|u| u.keep_raw) {
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
            if let Some(u) = u {
                let mut shape = i.shape.clone();
                shape.push(u.depth);
                let n = len
                    .checked_mul(u.depth)
                    .filter(|&n| n <= self.lowering_budget);
                let Some(n) = n else {
                    return Err(ModelError::Graph(format!(
                        "input `{}`: the one-hot rows of its {len} ids over a table of {} rows are too large",
                        i.name, u.depth
                    )));
                };
                segments.push(InputSegment {
                    name: i.name.clone(),
                    shape,
                    elem: i.elem,
                    offset,
                    len: n,
                    one_hot: Some(u.depth),
                });
                offset += n;
            }
        }
        let tensor_name = |seg: &InputSegment| match seg.one_hot {
            Some(_) => format!("{}:one_hot", seg.name),
            None => seg.name.clone(),
        };
        let combined = match segments.as_slice() {
            [only] => {
                let t = self.new_tensor(&tensor_name(only), only.shape.clone());
                self.values.remove(&tensor_name(only));
                t
            }
            _ => self.new_tensor(&unused_name(graph, "inputs"), vec![1, offset]),
        };
        for seg in &segments {
            let t = if segments.len() == 1 {
                combined
            } else {
                let out = self.new_tensor(&tensor_name(seg), seg.shape.clone());
                self.ops.push(FOp {
                    kind: FOpKind::Select {
                        source: (seg.offset..seg.offset + seg.len)
                            .map(|k| k as i64)
                            .collect(),
                    },
                    inputs: vec![combined],
                    output: out,
                    node: seg.name.clone(),
                    op_type: "Input".into(),
                });
                self.values.remove(&tensor_name(seg));
                out
            };
            match seg.one_hot {
                Some(depth) => {
                    self.one_hot.insert(seg.name.clone(), (t, depth));
                }
                None => {
                    self.values.insert(seg.name.clone(), t);
                }
            }
        }
        for (i, u) in inputs.iter().zip(uses) {
            if u.is_some_and(|u| !u.keep_raw) {
                // Shape(ids) reads only the shape.
                self.new_tensor(&i.name, i.shape.clone());
            }
        }
        Ok((combined, segments))
    }

    /// A `Gather` whose data (#0) is a constant table and whose indices (#1)
    /// are an ids graph input: a row-wise Dense of the ids' one-hot rows by
    /// the table. `None` when the node is not of that form.
    pub(super) fn lower_embedding(&mut self, cx: &lowering::NodeCx) -> Option<Result<()>> {
        let node = cx.node;
        let ids = node.input.get(1)?;
        let &(one_hot, depth) = self.one_hot.get(ids)?;
        let table = self.consts.get(node.input.first()?)?.clone();
        let bad = |reason: String| ModelError::UnsupportedAttr {
            op: cx.op.to_string(),
            node: cx.name.to_string(),
            index: cx.index,
            reason,
        };
        let rank = table.dims.len() as i64;
        let mut axis = attr_i(node, "axis", 0);
        if axis < 0 {
            axis += rank;
        }
        if !(0..rank).contains(&axis) {
            return Some(Err(bad(format!(
                "axis {} out of range for a table of shape {:?}",
                attr_i(node, "axis", 0),
                table.dims
            ))));
        }
        let a = axis as usize;
        if table.dims[a] != depth {
            return Some(Err(bad(format!(
                "the table has {} rows along axis {a}, the ids' one-hot rows {depth}",
                table.dims[a]
            ))));
        }
        // Output: table.dims[..a] ++ ids shape ++ table.dims[a+1..]. The
        // samples' axis (the ids' first) must stay first: leading table axes
        // of size 1 only, and then a single-sample statement.
        if table.dims[..a].iter().any(|&d| d != 1) || (a > 0 && self.batch > 1) {
            return Some(Err(bad(format!(
                "gathering along axis {a} of a table of shape {:?} would move the batch axis of the ids (only leading axes of size 1, one sample)",
                table.dims
            ))));
        }
        let post: usize = table.dims[a + 1..].iter().product();
        // Dense weight `[post, V]`: w[o·V + v] = table[v, o] (leading 1s dropped).
        let mut w = vec![0.0; post * depth];
        for v in 0..depth {
            for o in 0..post {
                w[o * depth + v] = table.data[v * post + o];
            }
        }
        let ids_shape = {
            let mut s = self.tensors[one_hot].shape.clone();
            s.pop();
            s
        };
        let mut rows_shape = ids_shape.clone();
        rows_shape.push(post);
        let out_name = node.output.first()?.clone();
        let dense_name = format!("{out_name}/embedding#{}", self.ops.len());
        let dense = self.new_tensor(&dense_name, rows_shape.clone());
        self.ops.push(FOp {
            kind: FOpKind::Dense {
                w,
                b: vec![0.0; post],
                in_dim: depth,
                out_dim: post,
            },
            inputs: vec![one_hot],
            output: dense,
            node: cx.name.to_string(),
            op_type: cx.op.to_string(),
        });
        let out_shape: Vec<usize> = table.dims[..a]
            .iter()
            .chain(&ids_shape)
            .chain(&table.dims[a + 1..])
            .copied()
            .collect();
        if out_shape == rows_shape {
            self.values.insert(out_name, dense);
        } else {
            let out = self.new_tensor(&out_name, out_shape);
            self.ops.push(FOp {
                kind: FOpKind::Reshape,
                inputs: vec![dense],
                output: out,
                node: cx.name.to_string(),
                op_type: cx.op.to_string(),
            });
        }
        Some(Ok(()))
    }
}

/// Each graph input's shape, type and values over `samples` (statement
/// inputs, one sample each), as ONNX runtimes take them: a one-hot-only
/// input's ids are read back from their rows (a negative id as its positive
/// equivalent, which a Gather reads alike).
pub(crate) fn graph_input_values(
    segments: &[InputSegment],
    samples: &[&Vec<f64>],
) -> Vec<(Vec<usize>, InputElem, Vec<f64>)> {
    let mut out: Vec<(String, Vec<usize>, InputElem, Vec<f64>)> = Vec::new();
    for seg in segments {
        let prior = out.iter().position(|(n, ..)| *n == seg.name);
        if let (Some(_), Some(_)) = (prior, seg.one_hot) {
            continue; // the raw segment came first
        }
        let mut shape = seg.shape.clone();
        let values: Vec<f64> = match seg.one_hot {
            None => samples
                .iter()
                .flat_map(|s| s[seg.offset..seg.offset + seg.len].iter().copied())
                .collect(),
            Some(v) => {
                shape.pop();
                samples
                    .iter()
                    .flat_map(|s| {
                        s[seg.offset..seg.offset + seg.len]
                            .chunks(v)
                            .map(|row| row.iter().position(|&x| x == 1.0).unwrap_or(0) as f64)
                    })
                    .collect()
            }
        };
        out.push((seg.name.clone(), shape, seg.elem, values));
    }
    out.into_iter().map(|(_, s, e, v)| (s, e, v)).collect()
}

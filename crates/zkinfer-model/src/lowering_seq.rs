//! Recurrent operators (RNN, GRU, LSTM) unrolled over their fixed sequence
//! length onto ops the prover already proves, and the tensors around them
//! whose axis 0 is not the batch axis.
//!
//! Unrolling: the input projection of every step and direction is one
//! row-wise Dense over `[1, seq·batch, input]` (W, with `Wb + Rb` as bias);
//! each step `Select`s its rows and gate, adds the Dense of the previous
//! hidden state by R, clips, and applies the gate's activation (Sigmoid,
//! Tanh, Relu or another table); the cell is Mul/Add/Sub of activations,
//! peepholes and `1 − i` (input_forget) a diagonal Dense. A zero initial
//! state drops the terms it would zero. Y, Y_h and Y_c are the step
//! results placed by `Select` and summed, as Concat is. Error: the gates'
//! tables (`lut_bits` input steps) and one requantization per Dense, per
//! step; they compound over the sequence (`docs/operators.md`).
//!
//! Layout 0 puts the sequence on axis 0, which zkinfer reads as the batch
//! axis. PyTorch's `batch_first` export transposes a `[N, T, I]` input to
//! `[T, N, I]` first: with one sample per statement (`N = 1`) that tensor is
//! one sample's data, so the importer keeps such "relaid" tensors (axis 0
//! not the batch) by their ONNX shape and flat data, and follows them
//! through Transpose, Reshape, Squeeze, Unsqueeze, Flatten, Shape, Gather and
//! Slice until a result has the batch axis first again. With several samples
//! per statement these are refused: they would mix samples.

use super::lowering::NodeCx;
use super::*;
use crate::onnx_reduce::Lowering;

/// ONNX operators only this module handles (for the supported-operator list).
pub const RECURRENT_OPS: &[&str] = &["RNN", "GRU", "LSTM", "ConvTranspose"];

/// An ONNX tensor whose axis 0 is not the batch axis (only with one sample
/// per statement): the row-major values of `shape` are those of `data`.
#[derive(Clone, Debug)]
pub(crate) struct Relaid {
    data: FId,
    shape: Vec<usize>,
}

/// An activation function of a recurrent gate.
#[derive(Clone, Debug, PartialEq)]
enum Act {
    Op(FOpKind),
    /// `alpha·x + beta`
    Affine(f64, f64),
    /// `alpha·tanh(beta·x)`
    ScaledTanh(f64, f64),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Rnn,
    Gru,
    Lstm,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }
    /// The default activations of one direction (ONNX).
    fn default_acts(self) -> &'static [&'static str] {
        match self {
            Cell::Rnn => &["Tanh"],
            Cell::Gru => &["Sigmoid", "Tanh"],
            Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
        }
    }
}

/// Emits the gate input of a step: `(importer, t, direction, gate, step name)`.
type Pick<'a> = dyn Fn(&mut Importer, usize, usize, usize, &str) -> Result<FId> + 'a;

/// The constant parameters of one recurrent node.
struct Params {
    cell: Cell,
    hidden: usize,
    dirs: Vec<bool>,
    layout0: bool,
    seq: usize,
    bsz: usize,
    input: usize,
    w: Const,
    r: Const,
    /// `[D, 2·G·H]`: Wb then Rb per direction.
    b: Vec<f64>,
    /// `[D, 3·H]` (LSTM peepholes i, o, f).
    p: Option<Vec<f64>>,
    clip: Option<f64>,
    /// Per direction, the activations `f, g, h` (as many as the cell has).
    acts: Vec<Vec<Act>>,
    linear_before_reset: bool,
    input_forget: bool,
}

impl Params {
    /// Row of `[1, seq·bsz, ·]` holding step `t` of batch row `b`.
    fn row(&self, t: usize, b: usize) -> usize {
        if self.layout0 {
            t * self.bsz + b
        } else {
            b * self.seq + t
        }
    }
    fn g(&self) -> usize {
        self.cell.gates()
    }
    /// The shape of one step's state `[1, bsz, H]`, or `[1, H]` for one row:
    /// the layout a row-wise Dense gives a single row, so that the Adds and
    /// Muls between Selects and Denses see operands of one layout.
    fn state(&self) -> Vec<usize> {
        if self.bsz == 1 {
            vec![1, self.hidden]
        } else {
            vec![1, self.bsz, self.hidden]
        }
    }
}

impl Importer {
    /// Whether node reads a relaid tensor (then [`Importer::lower_relaid`] handles it).
    pub(super) fn reads_relaid(&self, node: &pb::NodeProto) -> bool {
        node.input.iter().any(|n| self.relaid.contains_key(n))
    }

    /// A Transpose that moves the batch axis off axis 0 (`perm[0] ≠ 0`): its
    /// result is relaid, which needs one sample per statement.
    pub(super) fn transpose_batch_away(
        &mut self,
        cx: &NodeCx,
        x: FId,
        perm: &[usize],
    ) -> Result<()> {
        self.need_one_sample(cx)?;
        let xs = self.shape_of(x);
        let data = self.transposed(cx, x, &xs, perm)?;
        let shape = perm.iter().map(|&p| xs[p]).collect();
        self.register(cx, cx.output(), data, shape)
    }

    fn need_one_sample(&self, cx: &NodeCx) -> Result<()> {
        if self.batch > 1 {
            return Err(cx.bad(format!(
                "the batch axis must stay first: with {} samples per statement, a tensor whose axis 0 is not the batch would mix them",
                self.batch
            )));
        }
        Ok(())
    }

    /// The flat data of `x` (ONNX shape `xs`) transposed by `perm`, as `[1, n]`.
    fn transposed(&mut self, cx: &NodeCx, x: FId, xs: &[usize], perm: &[usize]) -> Result<FId> {
        let map = index_map::transpose(xs, Some(perm)).map_err(|e| cx.bad(e))?;
        self.select_flat(cx, x, &map, "transpose")
    }

    /// `Select` of `x` by `map`, as a `[1, n]` tensor.
    fn select_flat(
        &mut self,
        cx: &NodeCx,
        x: FId,
        map: &index_map::IndexMap,
        step: &str,
    ) -> Result<FId> {
        let source: Vec<i64> = map
            .source
            .iter()
            .map(|s| s.map_or(-1, |k| k as i64))
            .collect();
        let n = source.len();
        self.emit_step(
            cx,
            FOpKind::Select { source },
            vec![x],
            vec![1, n],
            Some(step),
        )
    }

    /// Names `data` (flat values of ONNX `shape`) as `name`: an ordinary
    /// tensor when axis 0 has length 1 (the batch axis of one sample), else
    /// a relaid one.
    fn register(&mut self, cx: &NodeCx, name: &str, data: FId, shape: Vec<usize>) -> Result<()> {
        if name.is_empty() {
            return Ok(());
        }
        if shape.first() == Some(&1) {
            let t = if self.shape_of(data) == shape {
                data
            } else {
                self.emit_step(
                    cx,
                    FOpKind::Reshape,
                    vec![data],
                    shape,
                    Some(&format!("{name}/shaped")),
                )?
            };
            self.values.insert(name.to_string(), t);
        } else {
            self.need_one_sample(cx)?;
            self.relaid.insert(name.to_string(), Relaid { data, shape });
        }
        Ok(())
    }

    /// Input `i` as (flat data, ONNX shape): a relaid tensor, or an
    /// activation (whose axis 0 is the batch axis, of one sample).
    fn data_input(&self, cx: &NodeCx, i: usize) -> Result<(FId, Vec<usize>, bool)> {
        if let Some(r) = cx.input(i).and_then(|n| self.relaid.get(n)) {
            return Ok((r.data, r.shape.clone(), true));
        }
        let x = self.act_input(cx, i)?;
        Ok((x, self.shape_of(x), false))
    }

    /// A node reading a relaid tensor.
    pub(super) fn lower_relaid(&mut self, cx: &NodeCx) -> Result<()> {
        if matches!(cx.op, "RNN" | "GRU" | "LSTM") {
            return self.lower_recurrent(cx);
        }
        let relaid_input = (0..cx.node.input.len())
            .find(|&i| cx.input(i).is_some_and(|n| self.relaid.contains_key(n)));
        if relaid_input != Some(0) {
            return Err(cx.bad(format!(
                "input #{} has its batch axis moved off axis 0 (by a Transpose); {} reads it only as a data input",
                relaid_input.unwrap_or(0),
                cx.op
            )));
        }
        let (x, xs, _) = self.data_input(cx, 0)?;
        let r = xs.len() as i64;
        let norm = |a: i64| if a < 0 { a + r } else { a };
        let ints = |s: &Self, i: usize| -> Result<Option<Vec<i64>>> {
            match cx.input(i) {
                Some(_) => Ok(Some(
                    s.const_input(cx, i)?
                        .data
                        .iter()
                        .map(|&v| v as i64)
                        .collect(),
                )),
                None => Ok(None),
            }
        };
        match cx.op {
            "Shape" => {
                let start = norm(attr_i(cx.node, "start", 0)).clamp(0, r) as usize;
                let end = (norm(attr_i(cx.node, "end", r)).clamp(0, r) as usize).max(start);
                let c = Const {
                    dims: vec![end - start],
                    data: xs[start..end].iter().map(|&d| d as f64).collect(),
                };
                self.consts.insert(cx.output().to_string(), c);
                Ok(())
            }
            "Identity" => self.register(cx, cx.output(), x, xs),
            "Dropout" => {
                self.dropout_is_identity(cx.node).map_err(|e| cx.bad(e))?;
                self.register(cx, cx.output(), x, xs)
            }
            "Transpose" => {
                let perm: Vec<usize> = match attr_ints(cx.node, "perm") {
                    Some(p) => p.iter().map(|&v| v.max(0) as usize).collect(),
                    None => (0..xs.len()).rev().collect(),
                };
                let data = self.transposed(cx, x, &xs, &perm)?;
                let shape = perm.iter().map(|&p| xs[p]).collect();
                self.register(cx, cx.output(), data, shape)
            }
            "Reshape" => {
                let target = self.const_input(cx, 1)?;
                let allowzero = attr_i(cx.node, "allowzero", 0) != 0;
                let shape = resolve_reshape(&xs, &target.data, allowzero).map_err(|e| cx.bad(e))?;
                self.register(cx, cx.output(), x, shape)
            }
            "Flatten" => {
                let axis = norm(attr_i(cx.node, "axis", 1));
                if !(0..=r).contains(&axis) {
                    return Err(cx.bad(format!("axis {axis} out of range")));
                }
                let a: usize = xs[..axis as usize].iter().product();
                let b: usize = xs[axis as usize..].iter().product();
                self.register(cx, cx.output(), x, vec![a, b])
            }
            "Squeeze" | "Unsqueeze" => {
                let axes = match ints(self, 1)? {
                    Some(a) => Some(a),
                    None => attr_ints(cx.node, "axes"),
                };
                let shape = if cx.op == "Squeeze" {
                    let axes: Vec<usize> = match axes {
                        Some(a) => a.iter().map(|&v| norm(v).max(0) as usize).collect(),
                        None => (0..xs.len()).filter(|&i| xs[i] == 1).collect(),
                    };
                    if axes.iter().any(|&a| a >= xs.len() || xs[a] != 1) {
                        return Err(cx.bad(format!("cannot squeeze axes {axes:?} of {xs:?}")));
                    }
                    (0..xs.len())
                        .filter(|i| !axes.contains(i))
                        .map(|i| xs[i])
                        .collect()
                } else {
                    let axes = axes.ok_or_else(|| cx.bad("missing axes"))?;
                    let rank = (xs.len() + axes.len()) as i64;
                    let mut axes: Vec<usize> = axes
                        .iter()
                        .map(|&v| (if v < 0 { v + rank } else { v }).max(0) as usize)
                        .collect();
                    axes.sort_unstable();
                    let mut shape = xs.clone();
                    for a in axes {
                        if a > shape.len() {
                            return Err(cx.bad("axis out of range"));
                        }
                        shape.insert(a, 1);
                    }
                    shape
                };
                self.register(cx, cx.output(), x, shape)
            }
            "Gather" | "Slice" => {
                let map = if cx.op == "Gather" {
                    let idx = self.const_input(cx, 1).map_err(|_| {
                        cx.bad("indices computed by the model (data-dependent gather) are not supported yet")
                    })?;
                    let data: Vec<i64> = idx.data.iter().map(|&v| v as i64).collect();
                    index_map::gather(&xs, &data, &idx.dims, attr_i(cx.node, "axis", 0))
                } else {
                    let (starts, ends, axes, steps) = if self.opset < 10 {
                        (
                            attr_ints(cx.node, "starts").unwrap_or_default(),
                            attr_ints(cx.node, "ends").unwrap_or_default(),
                            attr_ints(cx.node, "axes"),
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
                    index_map::slice(&xs, &starts, &ends, axes.as_deref(), steps.as_deref())
                }
                .map_err(|e| cx.bad(e))?;
                let shape = map.out_shape.clone();
                if shape.contains(&0) {
                    return Err(cx.bad("the result is empty"));
                }
                let data = self.select_flat(cx, x, &map, "select")?;
                self.register(cx, cx.output(), data, shape)
            }
            op => Err(cx.bad(format!(
                "input #0 has its batch axis moved off axis 0 (by a Transpose); {op} of such a tensor is not supported (Transpose it back first)"
            ))),
        }
    }

    /// ONNX RNN, GRU and LSTM, unrolled (see the module doc).
    pub(super) fn lower_recurrent(&mut self, cx: &NodeCx) -> Result<()> {
        let (x, xs, relaid) = self.data_input(cx, 0)?;
        let p = self.recurrent_params(cx, &xs, relaid)?;
        let (h, g, d_count) = (p.hidden, p.g(), p.dirs.len());
        let rows = p.seq * p.bsz;
        let at = Lowering {
            node: cx.name,
            op_type: cx.op,
            out_name: cx.output(),
        };
        let xr = if self.shape_of(x) == [1, rows, p.input] {
            x
        } else {
            self.emit_step(
                cx,
                FOpKind::Reshape,
                vec![x],
                vec![1, rows, p.input],
                Some("rows"),
            )?
        };
        // input projections of every step, gate and direction
        let width = d_count * g * h;
        let mut w = vec![0.0; width * p.input];
        let mut bias = vec![0.0; width];
        for d in 0..d_count {
            for j in 0..g * h {
                let o = d * g * h + j;
                w[o * p.input..(o + 1) * p.input]
                    .copy_from_slice(&p.w.data[o * p.input..(o + 1) * p.input]);
                let rb = p.b[d * 2 * g * h + g * h + j];
                let keep_rb = !(p.cell == Cell::Gru && p.linear_before_reset && j >= 2 * h);
                bias[o] = p.b[d * 2 * g * h + j] + if keep_rb { rb } else { 0.0 };
            }
        }
        let dense = FOpKind::Dense {
            w,
            b: bias,
            in_dim: p.input,
            out_dim: width,
        };
        let xw = self.emit_step(cx, dense, vec![xr], vec![1, rows, width], Some("xw"))?;
        let state = p.state();
        // the gate `k` input of step t, direction d: [1, bsz, H]
        let pick = |s: &mut Self, t: usize, d: usize, k: usize, step: &str| -> Result<FId> {
            let source = (0..p.bsz)
                .flat_map(|b| {
                    let base = p.row(t, b) * width + (d * g + k) * h;
                    (base..base + h).map(|i| i as i64)
                })
                .collect();
            s.emit_step(
                cx,
                FOpKind::Select { source },
                vec![xw],
                state.clone(),
                Some(step),
            )
        };
        let initial = |s: &mut Self, i: usize, d: usize| -> Result<Option<FId>> {
            s.initial_state(cx, &at, &p, i, d, xw, width)
        };
        let mut ys: Vec<Vec<FId>> = vec![Vec::new(); d_count];
        let mut finals_h = Vec::with_capacity(d_count);
        let mut finals_c = Vec::with_capacity(d_count);
        for (d, &reverse) in p.dirs.clone().iter().enumerate() {
            let mut hp = initial(self, 5, d)?;
            let mut cp = if p.cell == Cell::Lstm {
                initial(self, 6, d)?
            } else {
                None
            };
            let mut per_t = vec![None; p.seq];
            for k in 0..p.seq {
                let t = if reverse { p.seq - 1 - k } else { k };
                let tag = format!("d{d}t{t}");
                let (hn, cn) = self.recurrent_step(cx, &p, d, t, &tag, hp, cp, &pick)?;
                per_t[t] = Some(hn);
                hp = Some(hn);
                cp = cn;
            }
            ys[d] = per_t
                .into_iter()
                .map(|v| v.expect("every step ran"))
                .collect();
            finals_h.push(hp.expect("at least one step"));
            finals_c.push(cp);
        }
        // outputs: Y [T, D, B, H] / [B, T, D, H]; Y_h, Y_c [D, B, H] / [B, D, H]
        let (t_n, b_n) = (p.seq, p.bsz);
        let y_shape = if p.layout0 {
            vec![t_n, d_count, b_n, h]
        } else {
            vec![b_n, t_n, d_count, h]
        };
        let y_index = |t: usize, d: usize, b: usize, j: usize| {
            if p.layout0 {
                ((t * d_count + d) * b_n + b) * h + j
            } else {
                ((b * t_n + t) * d_count + d) * h + j
            }
        };
        let outputs: Vec<String> = cx.node.output.clone();
        if let Some(name) = outputs.first().filter(|n| !n.is_empty()) {
            let parts: Vec<(FId, Vec<usize>)> = (0..t_n)
                .flat_map(|t| (0..d_count).map(move |d| (t, d)))
                .map(|(t, d)| {
                    let at: Vec<usize> = (0..b_n)
                        .flat_map(|b| (0..h).map(move |j| y_index(t, d, b, j)))
                        .collect();
                    (ys[d][t], at)
                })
                .collect();
            let y = self.assemble(cx, &parts, y_shape.iter().product(), "y")?;
            self.register(cx, name, y, y_shape)?;
        }
        let s_shape = if p.layout0 {
            vec![d_count, b_n, h]
        } else {
            vec![b_n, d_count, h]
        };
        let s_index = |d: usize, b: usize, j: usize| {
            if p.layout0 {
                (d * b_n + b) * h + j
            } else {
                (b * d_count + d) * h + j
            }
        };
        let state_parts = |finals: &[FId]| -> Vec<(FId, Vec<usize>)> {
            finals
                .iter()
                .enumerate()
                .map(|(d, &f)| {
                    let at = (0..b_n)
                        .flat_map(|b| (0..h).map(move |j| s_index(d, b, j)))
                        .collect();
                    (f, at)
                })
                .collect()
        };
        if let Some(name) = outputs.get(1).filter(|n| !n.is_empty()) {
            let parts = state_parts(&finals_h);
            let y = self.assemble(cx, &parts, s_shape.iter().product(), "y_h")?;
            self.register(cx, name, y, s_shape.clone())?;
        }
        if let Some(name) = outputs.get(2).filter(|n| !n.is_empty()) {
            if p.cell != Cell::Lstm {
                return Err(cx.bad("only LSTM has a third output"));
            }
            let finals: Vec<FId> = finals_c
                .iter()
                .map(|c| c.expect("an LSTM step writes its cell"))
                .collect();
            let parts = state_parts(&finals);
            let y = self.assemble(cx, &parts, s_shape.iter().product(), "y_c")?;
            self.register(cx, name, y, s_shape)?;
        }
        Ok(())
    }

    /// A flat `[1, n]` tensor whose element `at[k]` is element `k` of `part`,
    /// for each part: `Select`s into place, then Adds (one part: a Select).
    fn assemble(
        &mut self,
        cx: &NodeCx,
        parts: &[(FId, Vec<usize>)],
        n: usize,
        step: &str,
    ) -> Result<FId> {
        let identity = |at: &[usize]| at.len() == n && at.iter().enumerate().all(|(i, &a)| i == a);
        if let [(only, at)] = parts {
            if identity(at) {
                return self.emit_step(cx, FOpKind::Reshape, vec![*only], vec![1, n], Some(step));
            }
        }
        let mut acc: Option<FId> = None;
        for (i, (part, at)) in parts.iter().enumerate() {
            let mut source = vec![-1i64; n];
            for (k, &a) in at.iter().enumerate() {
                source[a] = k as i64;
            }
            let placed = self.emit_step(
                cx,
                FOpKind::Select { source },
                vec![*part],
                vec![1, n],
                Some(&format!("{step}/place{i}")),
            )?;
            acc = Some(match acc {
                None => placed,
                Some(a) => self.emit_step(
                    cx,
                    FOpKind::Add,
                    vec![a, placed],
                    vec![1, n],
                    Some(&format!("{step}/sum{i}")),
                )?,
            });
        }
        acc.ok_or_else(|| cx.bad("no output"))
    }

    /// One step of direction `d` at time `t`: the new hidden state and (LSTM) cell.
    #[allow(clippy::too_many_arguments)]
    fn recurrent_step(
        &mut self,
        cx: &NodeCx,
        p: &Params,
        d: usize,
        t: usize,
        tag: &str,
        hp: Option<FId>,
        cp: Option<FId>,
        pick: &Pick<'_>,
    ) -> Result<(FId, Option<FId>)> {
        let h = p.hidden;
        let state = p.state();
        let acts = &p.acts[d];
        // x·W_k (+ biases) + h·R_k, clipped
        let pre = |s: &mut Self, k: usize, with_r: bool| -> Result<FId> {
            let xg = pick(s, t, d, k, &format!("{tag}/x{k}"))?;
            let mut v = xg;
            if let (Some(hv), true) = (hp, with_r) {
                let rk = s.r_block(p, d, k, None);
                let rh = s.emit_step(
                    cx,
                    rk,
                    vec![hv],
                    state.clone(),
                    Some(&format!("{tag}/r{k}")),
                )?;
                v = s.emit_step(
                    cx,
                    FOpKind::Add,
                    vec![xg, rh],
                    state.clone(),
                    Some(&format!("{tag}/pre{k}")),
                )?;
            }
            Ok(v)
        };
        let clip = |s: &mut Self, v: FId, k: usize| -> Result<FId> {
            match p.clip {
                None => Ok(v),
                Some(c) => s.emit_step(
                    cx,
                    FOpKind::Clip { min: -c, max: c },
                    vec![v],
                    state.clone(),
                    Some(&format!("{tag}/clip{k}")),
                ),
            }
        };
        let mul = |s: &mut Self, a: FId, b: FId, step: &str| {
            s.emit_step(
                cx,
                FOpKind::Mul,
                vec![a, b],
                state.clone(),
                Some(&format!("{tag}/{step}")),
            )
        };
        let add = |s: &mut Self, kind: FOpKind, a: FId, b: FId, step: &str| {
            s.emit_step(
                cx,
                kind,
                vec![a, b],
                state.clone(),
                Some(&format!("{tag}/{step}")),
            )
        };
        match p.cell {
            Cell::Rnn => {
                let v = pre(self, 0, true)?;
                let v = clip(self, v, 0)?;
                let hn = self.activate(cx, &acts[0], v, &format!("{tag}/h"))?;
                Ok((hn, None))
            }
            Cell::Gru => {
                // gates z, r, h
                let z = pre(self, 0, true)?;
                let z = clip(self, z, 0)?;
                let z = self.activate(cx, &acts[0], z, &format!("{tag}/z"))?;
                let xh = pick(self, t, d, 2, &format!("{tag}/x2"))?;
                let hin = match (hp, p.linear_before_reset) {
                    (Some(hv), false) => {
                        let r = pre(self, 1, true)?;
                        let r = clip(self, r, 1)?;
                        let r = self.activate(cx, &acts[0], r, &format!("{tag}/rg"))?;
                        let rh = mul(self, r, hv, "r_h")?;
                        let rk = self.r_block(p, d, 2, None);
                        let v = self.emit_step(
                            cx,
                            rk,
                            vec![rh],
                            state.clone(),
                            Some(&format!("{tag}/rh_r")),
                        )?;
                        add(self, FOpKind::Add, xh, v, "pre2")?
                    }
                    (hv, true) if hv.is_some() || p.rb_h(d).iter().any(|&v| v != 0.0) => {
                        let r = pre(self, 1, true)?;
                        let r = clip(self, r, 1)?;
                        let r = self.activate(cx, &acts[0], r, &format!("{tag}/rg"))?;
                        let rbh = p.rb_h(d);
                        let v = match hv {
                            Some(hv) => {
                                let rk = self.r_block(p, d, 2, Some(rbh));
                                let hr = self.emit_step(
                                    cx,
                                    rk,
                                    vec![hv],
                                    state.clone(),
                                    Some(&format!("{tag}/h_r")),
                                )?;
                                mul(self, r, hr, "r_hr")?
                            }
                            None => self.emit_step(
                                cx,
                                diagonal(&rbh, None),
                                vec![r],
                                state.clone(),
                                Some(&format!("{tag}/r_rb")),
                            )?,
                        };
                        add(self, FOpKind::Add, xh, v, "pre2")?
                    }
                    _ => xh,
                };
                let hin = clip(self, hin, 2)?;
                let ht = self.activate(cx, &acts[1], hin, &format!("{tag}/ht"))?;
                // H = ht + z ⊙ (H_prev − ht)
                let hn = match hp {
                    Some(hv) => {
                        let diff = add(self, FOpKind::Sub, hv, ht, "h_minus")?;
                        let zd = mul(self, z, diff, "z_diff")?;
                        add(self, FOpKind::Add, ht, zd, "h")?
                    }
                    None => {
                        let zh = mul(self, z, ht, "z_ht")?;
                        add(self, FOpKind::Sub, ht, zh, "h")?
                    }
                };
                Ok((hn, None))
            }
            Cell::Lstm => {
                // W order i, o, f, c; peepholes i, o, f
                let peep = |s: &mut Self, v: FId, k: usize, c: Option<FId>| -> Result<FId> {
                    let (Some(pv), Some(c)) = (&p.p, c) else {
                        return Ok(v);
                    };
                    let w = &pv[(d * 3 + k) * h..(d * 3 + k + 1) * h];
                    if w.iter().all(|&x| x == 0.0) {
                        return Ok(v);
                    }
                    let pc = s.emit_step(
                        cx,
                        diagonal(w, None),
                        vec![c],
                        state.clone(),
                        Some(&format!("{tag}/peep{k}")),
                    )?;
                    s.emit_step(
                        cx,
                        FOpKind::Add,
                        vec![v, pc],
                        state.clone(),
                        Some(&format!("{tag}/prep{k}")),
                    )
                };
                let i = pre(self, 0, true)?;
                let i = peep(self, i, 0, cp)?;
                let i = clip(self, i, 0)?;
                let i = self.activate(cx, &acts[0], i, &format!("{tag}/i"))?;
                let c_in = pre(self, 3, true)?;
                let c_in = clip(self, c_in, 3)?;
                let c_in = self.activate(cx, &acts[1], c_in, &format!("{tag}/c_in"))?;
                let ic = mul(self, i, c_in, "i_c")?;
                let c = match cp {
                    None => ic,
                    Some(cv) => {
                        let f = if p.input_forget {
                            self.emit_step(
                                cx,
                                diagonal(&vec![-1.0; h], Some(vec![1.0; h])),
                                vec![i],
                                state.clone(),
                                Some(&format!("{tag}/f")),
                            )?
                        } else {
                            let f = pre(self, 2, true)?;
                            let f = peep(self, f, 2, cp)?;
                            let f = clip(self, f, 2)?;
                            self.activate(cx, &acts[0], f, &format!("{tag}/f"))?
                        };
                        let fc = mul(self, f, cv, "f_c")?;
                        add(self, FOpKind::Add, fc, ic, "c")?
                    }
                };
                let o = pre(self, 1, true)?;
                let o = peep(self, o, 1, Some(c))?;
                let o = clip(self, o, 1)?;
                let o = self.activate(cx, &acts[0], o, &format!("{tag}/o"))?;
                let hc = self.activate(cx, &acts[2], c, &format!("{tag}/h_c"))?;
                let hn = mul(self, o, hc, "h")?;
                Ok((hn, Some(c)))
            }
        }
    }

    /// The Dense of `R` for gate `k` of direction `d` (a `[H, H]` block), with `bias`.
    fn r_block(&self, p: &Params, d: usize, k: usize, bias: Option<Vec<f64>>) -> FOpKind {
        let (h, g) = (p.hidden, p.g());
        let start = (d * g + k) * h * h;
        FOpKind::Dense {
            w: p.r.data[start..start + h * h].to_vec(),
            b: bias.unwrap_or_else(|| vec![0.0; h]),
            in_dim: h,
            out_dim: h,
        }
    }

    /// `act(x)` as float ops.
    fn activate(&mut self, cx: &NodeCx, act: &Act, x: FId, step: &str) -> Result<FId> {
        let shape = self.shape_of(x);
        let h = *shape.last().expect("a state has axes");
        match act {
            Act::Op(kind) => self.emit_step(cx, kind.clone(), vec![x], shape, Some(step)),
            Act::Affine(a, b) => self.emit_step(
                cx,
                diagonal(&vec![*a; h], Some(vec![*b; h])),
                vec![x],
                shape,
                Some(step),
            ),
            Act::ScaledTanh(a, b) => {
                let inner = self.emit_step(
                    cx,
                    diagonal(&vec![*b; h], None),
                    vec![x],
                    shape.clone(),
                    Some(&format!("{step}/scale_in")),
                )?;
                let t = self.emit_step(
                    cx,
                    FOpKind::Tanh,
                    vec![inner],
                    shape.clone(),
                    Some(&format!("{step}/tanh")),
                )?;
                self.emit_step(cx, diagonal(&vec![*a; h], None), vec![t], shape, Some(step))
            }
        }
    }

    /// The initial hidden (input 5) or cell (input 6) state of direction `d`
    /// as a `[1, bsz, H]` activation, or `None` for zeros.
    #[allow(clippy::too_many_arguments)]
    fn initial_state(
        &mut self,
        cx: &NodeCx,
        at: &Lowering,
        p: &Params,
        i: usize,
        d: usize,
        xw: FId,
        width: usize,
    ) -> Result<Option<FId>> {
        let Some(name) = cx.input(i) else {
            return Ok(None);
        };
        let (h, b_n, d_n) = (p.hidden, p.bsz, p.dirs.len());
        let want = if p.layout0 {
            vec![d_n, b_n, h]
        } else {
            vec![b_n, d_n, h]
        };
        let index = |b: usize, j: usize| {
            if p.layout0 {
                (d * b_n + b) * h + j
            } else {
                (b * d_n + d) * h + j
            }
        };
        let state = p.state();
        if let Some(c) = self.consts.get(name).cloned() {
            if c.data.len() != want.iter().product::<usize>() {
                return Err(cx.bad(format!(
                    "initial state `{name}` of shape {:?} is not {want:?}",
                    c.dims
                )));
            }
            let vals: Vec<f64> = (0..b_n)
                .flat_map(|b| (0..h).map(move |j| (b, j)))
                .map(|(b, j)| c.data[index(b, j)])
                .collect();
            if vals.iter().all(|&v| v == 0.0) {
                return Ok(None);
            }
            // any [1, bsz, H] activation to hold the constant
            let source = (0..b_n * h)
                .map(|k| ((k / h) * width + k % h) as i64)
                .collect();
            let like = self.emit_step(
                cx,
                FOpKind::Select { source },
                vec![xw],
                state,
                Some(&format!("init{i}/like{d}")),
            )?;
            return Ok(Some(self.constant_like(at, like, vals)));
        }
        let (x, xs, relaid) = self.data_input(cx, i)?;
        if xs.iter().product::<usize>() != want.iter().product::<usize>() {
            return Err(cx.bad(format!(
                "initial state `{name}` of shape {xs:?} is not {want:?}"
            )));
        }
        if p.layout0 && !relaid && self.batch > 1 {
            return Err(cx.bad(format!(
                "initial state `{name}` (layout 0: axis 0 is the direction) would be read across the {} samples of a statement",
                self.batch
            )));
        }
        let source = (0..b_n)
            .flat_map(|b| (0..h).map(move |j| index(b, j) as i64))
            .collect();
        Ok(Some(self.emit_step(
            cx,
            FOpKind::Select { source },
            vec![x],
            state,
            Some(&format!("init{i}/d{d}")),
        )?))
    }

    /// The attributes and constant inputs of a recurrent node, checked.
    fn recurrent_params(&self, cx: &NodeCx, xs: &[usize], relaid: bool) -> Result<Params> {
        let cell = match cx.op {
            "RNN" => Cell::Rnn,
            "GRU" => Cell::Gru,
            _ => Cell::Lstm,
        };
        let g = cell.gates();
        let layout = attr_i(cx.node, "layout", 0);
        if !(layout == 0 || layout == 1) {
            return Err(cx.bad(format!("layout {layout} (0 or 1)")));
        }
        let layout0 = layout == 0;
        let &[a0, a1, input] = xs else {
            return Err(cx.bad(format!("input X of shape {xs:?} is not 3-D")));
        };
        if layout0 && !relaid && self.batch > 1 {
            return Err(cx.bad(format!(
                "layout 0 reads axis 0 as the sequence, but it is the model's batch axis ({} samples per statement): export with batch_first (Transpose + the op) or one sample",
                self.batch
            )));
        }
        let (seq, bsz) = if layout0 { (a0, a1) } else { (a1, a0) };
        let dirs = match attr_s(cx.node, "direction").as_deref().unwrap_or("forward") {
            "forward" => vec![false],
            "reverse" => vec![true],
            "bidirectional" => vec![false, true],
            other => return Err(cx.bad(format!("direction {other:?}"))),
        };
        let dn = dirs.len();
        let w = self.const_input(cx, 1)?;
        let r = self.const_input(cx, 2)?;
        let hidden = match (attr(cx.node, "hidden_size"), r.dims.get(2)) {
            (Some(a), _) => usize::try_from(a.i).ok().filter(|&h| h > 0),
            (None, d) => d.copied().filter(|&h| h > 0),
        }
        .ok_or_else(|| cx.bad("hidden_size must be positive"))?;
        let h = hidden;
        if w.dims != [dn, g * h, input] || w.data.len() != dn * g * h * input {
            return Err(cx.bad(format!(
                "W of shape {:?} is not [{dn}, {}, {input}]",
                w.dims,
                g * h
            )));
        }
        if r.dims != [dn, g * h, h] || r.data.len() != dn * g * h * h {
            return Err(cx.bad(format!(
                "R of shape {:?} is not [{dn}, {}, {h}]",
                r.dims,
                g * h
            )));
        }
        let b = match cx.input(3) {
            None => vec![0.0; dn * 2 * g * h],
            Some(_) => {
                let b = self.const_input(cx, 3)?;
                if b.data.len() != dn * 2 * g * h {
                    return Err(cx.bad(format!(
                        "B of shape {:?} is not [{dn}, {}]",
                        b.dims,
                        2 * g * h
                    )));
                }
                b.data
            }
        };
        if cx.input(4).is_some() {
            let lens = self.const_input(cx, 4).map_err(|_| {
                cx.bad("sequence_lens computed by the model is not supported (a constant is)")
            })?;
            if lens.data.iter().any(|&l| l != seq as f64) {
                return Err(cx.bad(format!(
                    "sequence_lens {:?}: every sequence must have the full length {seq}",
                    lens.data
                )));
            }
        }
        let p = match cx.input(7) {
            Some(_) if cell == Cell::Lstm => {
                let p = self.const_input(cx, 7)?;
                if p.data.len() != dn * 3 * h {
                    return Err(cx.bad(format!(
                        "P of shape {:?} is not [{dn}, {}]",
                        p.dims,
                        3 * h
                    )));
                }
                Some(p.data)
            }
            _ => None,
        };
        let clip = match attr(cx.node, "clip") {
            None => None,
            Some(a) if a.f > 0.0 && a.f.is_finite() => Some(a.f as f64),
            Some(a) => return Err(cx.bad(format!("clip {} must be positive", a.f))),
        };
        let per_dir = cell.default_acts().len();
        let names: Vec<String> = match attr(cx.node, "activations") {
            Some(a) if !a.strings.is_empty() => a
                .strings
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
            _ => (0..dn)
                .flat_map(|_| cell.default_acts().iter().map(|s| s.to_string()))
                .collect(),
        };
        if names.len() != per_dir * dn {
            return Err(cx.bad(format!(
                "{} activations for {dn} direction(s) of {per_dir}",
                names.len()
            )));
        }
        let alphas: Vec<f64> = attr(cx.node, "activation_alpha")
            .map(|a| a.floats.iter().map(|&v| v as f64).collect())
            .unwrap_or_default();
        let betas: Vec<f64> = attr(cx.node, "activation_beta")
            .map(|a| a.floats.iter().map(|&v| v as f64).collect())
            .unwrap_or_default();
        let (mut ai, mut bi) = (0, 0);
        let mut acts = vec![Vec::new(); dn];
        for (k, name) in names.iter().enumerate() {
            let mut alpha = |default: f64| {
                let v = alphas.get(ai).copied().unwrap_or(default);
                ai += 1;
                v
            };
            let mut beta = |default: f64| {
                let v = betas.get(bi).copied().unwrap_or(default);
                bi += 1;
                v
            };
            let act = match name.to_ascii_lowercase().as_str() {
                "sigmoid" => Act::Op(FOpKind::Sigmoid),
                "tanh" => Act::Op(FOpKind::Tanh),
                "relu" => Act::Op(FOpKind::Relu),
                "leakyrelu" => Act::Op(FOpKind::LeakyRelu { alpha: alpha(0.01) }),
                "hardsigmoid" => Act::Op(FOpKind::Unary(UnaryFn::HardSigmoid {
                    alpha: alpha(0.2),
                    beta: beta(0.5),
                })),
                "elu" => Act::Op(FOpKind::Unary(UnaryFn::Elu { alpha: alpha(1.0) })),
                "softsign" => Act::Op(FOpKind::Unary(UnaryFn::Softsign)),
                "softplus" => Act::Op(FOpKind::Unary(UnaryFn::Softplus)),
                "affine" => Act::Affine(alpha(1.0), beta(0.0)),
                "scaledtanh" => Act::ScaledTanh(alpha(1.0), beta(1.0)),
                _ => {
                    return Err(cx.bad(format!(
                        "activation {name:?} is not supported (Sigmoid, Tanh, Relu, LeakyRelu, HardSigmoid, Elu, Softsign, Softplus, Affine, ScaledTanh are)"
                    )))
                }
            };
            acts[k / per_dir].push(act);
        }
        Ok(Params {
            cell,
            hidden,
            dirs,
            layout0,
            seq,
            bsz,
            input,
            w,
            r,
            b,
            p,
            clip,
            acts,
            linear_before_reset: attr_i(cx.node, "linear_before_reset", 0) != 0,
            input_forget: attr_i(cx.node, "input_forget", 0) != 0,
        })
    }
}

impl Params {
    /// GRU's `Rb` of the hidden gate, direction `d`.
    fn rb_h(&self, d: usize) -> Vec<f64> {
        let (g, h) = (self.g(), self.hidden);
        let start = d * 2 * g * h + g * h + 2 * h;
        self.b[start..start + h].to_vec()
    }
}

/// A row-wise Dense `y = a ⊙ x + b` (a diagonal matrix): a per-element
/// constant scale along the last axis.
fn diagonal(a: &[f64], b: Option<Vec<f64>>) -> FOpKind {
    let n = a.len();
    let mut w = vec![0.0; n * n];
    for (i, &v) in a.iter().enumerate() {
        w[i * n + i] = v;
    }
    FOpKind::Dense {
        w,
        b: b.unwrap_or_else(|| vec![0.0; n]),
        in_dim: n,
        out_dim: n,
    }
}

#[cfg(test)]
mod tests {
    use super::super::lowering::budget;
    use super::*;

    fn importer(batch: usize, consts: &[(&str, Vec<usize>, Vec<f64>)]) -> Importer {
        let mut imp = Importer {
            opset: 17,
            batch,
            graph_outputs: vec!["y".into()],
            lowering_budget: budget(100_000),
            relaid: HashMap::new(),
            one_hot: HashMap::new(),
            masked: HashMap::new(),
            consts: consts
                .iter()
                .map(|(n, dims, data)| {
                    let c = Const {
                        dims: dims.clone(),
                        data: data.clone(),
                    };
                    (n.to_string(), c)
                })
                .collect(),
            values: HashMap::new(),
            tensors: vec![],
            ops: vec![],
        };
        imp.new_tensor("x", vec![1, 3, 2]);
        imp
    }

    fn node(
        op: &str,
        inputs: &[&str],
        output: &str,
        attrs: Vec<pb::AttributeProto>,
    ) -> pb::NodeProto {
        pb::NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: format!("{op}_node"),
            op_type: op.into(),
            attribute: attrs,
            ..Default::default()
        }
    }

    fn ints(name: &str, v: &[i64]) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.into(),
            ints: v.to_vec(),
            ..Default::default()
        }
    }

    fn int(name: &str, i: i64) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.into(),
            i,
            ..Default::default()
        }
    }

    #[test]
    fn relaid_tensors_follow_their_onnx_shape_and_are_refused_with_several_samples() {
        let perm = || vec![ints("perm", &[1, 0, 2])];
        // one sample: [1, 3, 2] → [3, 1, 2] (relaid) → its Shape, and back
        let mut imp = importer(1, &[]);
        imp.node(0, &node("Transpose", &["x"], "t", perm()))
            .unwrap();
        assert_eq!(imp.relaid["t"].shape, [3, 1, 2]);
        imp.node(1, &node("Shape", &["t"], "s", vec![])).unwrap();
        assert_eq!(imp.consts["s"].data, [3.0, 1.0, 2.0]);
        imp.node(2, &node("Transpose", &["t"], "back", perm()))
            .unwrap();
        assert_eq!(imp.tensors[imp.values["back"]].shape, [1, 3, 2]);
        // Gather of the last step: [1, 2], a tensor with the batch first again
        imp.consts.insert(
            "last".into(),
            Const {
                dims: vec![],
                data: vec![-1.0],
            },
        );
        imp.node(
            3,
            &node("Gather", &["t", "last"], "g", vec![int("axis", 0)]),
        )
        .unwrap();
        let g = imp.values["g"];
        assert_eq!(imp.tensors[g].shape, [1, 2]);
        let m = FloatModel {
            tensors: imp.tensors.clone(),
            input: 0,
            output: g,
            batch: 1,
            dynamic_batch: false,
            ops: imp.ops.clone(),
            input_segments: vec![],
            outputs: vec![],
        };
        assert_eq!(
            m.evaluate(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap(),
            [5.0, 6.0]
        );
        let err = imp
            .node(4, &node("Relu", &["t"], "r", vec![]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("moved off axis 0") && err.contains("Relu"),
            "{err}"
        );
        // two samples per statement: the Transpose itself is refused
        let mut imp = importer(2, &[]);
        let err = imp
            .node(0, &node("Transpose", &["x"], "t", perm()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("must stay first") && err.contains("2 samples"),
            "{err}"
        );
    }

    #[test]
    fn recurrent_attributes_are_checked_by_name() {
        // RNN, hidden 2, input 2, layout 1: x [1, 3, 2] is 3 steps of one row
        let w = ("w", vec![1, 2, 2], vec![0.5; 4]);
        let r = ("r", vec![1, 2, 2], vec![0.25; 4]);
        let lens = ("lens", vec![1], vec![2.0]);
        let rnn = |inputs: &[&str], attrs: Vec<pb::AttributeProto>| node("RNN", inputs, "y", attrs);
        let layout1 = || vec![int("layout", 1)];
        let mut imp = importer(1, &[w.clone(), r.clone(), lens.clone()]);
        imp.node(0, &rnn(&["x", "w", "r"], layout1())).unwrap();
        assert_eq!(imp.tensors[imp.values["y"]].shape, [1, 3, 1, 2]);
        for (inputs, attrs, want) in [
            (vec!["x", "w", "r", "", "lens"], layout1(), "full length 3"),
            (
                vec!["x", "w", "r", "", "x"],
                layout1(),
                "sequence_lens computed",
            ),
            (
                vec!["x", "r", "r"],
                vec![int("layout", 1), int("hidden_size", 3)],
                "W of shape",
            ),
            (
                vec!["x", "w", "r"],
                vec![
                    int("layout", 1),
                    pb::AttributeProto {
                        name: "activations".into(),
                        strings: vec![b"ThresholdedRelu".to_vec()],
                        ..Default::default()
                    },
                ],
                "activation \"ThresholdedRelu\"",
            ),
            (vec!["x", "w", "r"], vec![int("layout", 2)], "layout 2"),
        ] {
            let mut imp = importer(1, &[w.clone(), r.clone(), lens.clone()]);
            let err = imp.node(5, &rnn(&inputs, attrs)).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("RNN_node"), "{err}");
        }
        // layout 0 reads axis 0 as the sequence: refused when it holds samples
        let mut imp = importer(3, &[w, r]);
        let err = imp
            .node(0, &rnn(&["x", "w", "r"], vec![]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("layout 0"), "{err}");
    }
}

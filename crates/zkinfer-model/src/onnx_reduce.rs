//! Reductions and softmax inside the graph, lowered to ops the prover already
//! proves: the reduced axes are moved to the end (Transpose) and merged
//! (Reshape); a max is a MaxPool whose window is the whole last axis, a sum or
//! mean a row-wise Dense with a constant row, a broadcast back a `Select`.
//! Softmax is `e = exp(x − max)`, `y = e · (1/Σe)` (Exp and Reciprocal by
//! table, the product by the Hadamard sumcheck); LogSoftmax is
//! `x − max − log Σe`. Samples are never mixed: the batch axis stays first.

use crate::float::{FId, FOp, FOpKind};
use crate::onnx_import::Importer;
use crate::unary::{CmpOp, UnaryFn};

/// How a reduction combines the elements of its last axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reduce {
    Max,
    Min,
    Sum,
    Mean,
    SumSquare,
    L1,
    L2,
    LogSumExp,
}

impl Reduce {
    pub fn of(op: &str) -> Option<Self> {
        Some(match op {
            "ReduceMax" => Reduce::Max,
            "ReduceMin" => Reduce::Min,
            "ReduceSum" => Reduce::Sum,
            "ReduceMean" => Reduce::Mean,
            "ReduceSumSquare" => Reduce::SumSquare,
            "ReduceL1" => Reduce::L1,
            "ReduceL2" => Reduce::L2,
            "ReduceLogSumExp" => Reduce::LogSumExp,
            _ => return None,
        })
    }
}

/// The node being lowered: its name and op type (for the emitted ops), and
/// the name its result takes.
pub(crate) struct Lowering<'a> {
    pub node: &'a str,
    pub op_type: &'a str,
    pub out_name: &'a str,
}

/// How a PRelu slope broadcasts over one sample.
pub(crate) enum PreluSlope {
    /// One value per channel (axis 1).
    PerChannel(Vec<f64>),
    /// One value per position of the last axis.
    LastAxis(Vec<f64>),
    /// One value per element of the sample.
    PerElement(Vec<f64>),
}

impl Importer {
    /// Appends `kind` on `inputs` producing a fresh internal tensor.
    pub(crate) fn emit(
        &mut self,
        at: &Lowering,
        step: &str,
        kind: FOpKind,
        inputs: Vec<FId>,
        shape: Vec<usize>,
    ) -> FId {
        let name = format!("{}/{step}#{}", at.out_name, self.ops.len());
        let out = self.new_tensor(&name, shape);
        self.ops.push(FOp {
            kind,
            inputs,
            output: out,
            node: at.node.to_string(),
            op_type: at.op_type.to_string(),
        });
        out
    }

    pub(crate) fn shape(&self, x: FId) -> Vec<usize> {
        self.tensors[x].shape.clone()
    }

    pub(crate) fn reshape(&mut self, at: &Lowering, x: FId, shape: Vec<usize>) -> FId {
        if self.shape(x) == shape {
            return x;
        }
        self.emit(at, "reshape", FOpKind::Reshape, vec![x], shape)
    }

    pub(crate) fn unary(&mut self, at: &Lowering, x: FId, f: UnaryFn, step: &str) -> FId {
        let shape = self.shape(x);
        self.emit(at, step, FOpKind::Unary(f), vec![x], shape)
    }

    /// `x` with the (sorted, non-batch) `axes` moved to the end and merged
    /// into one: `[1, kept.., prod(axes)]`, and the permutation used.
    pub(crate) fn gather_axes_last(
        &mut self,
        at: &Lowering,
        x: FId,
        axes: &[usize],
    ) -> (FId, Option<Vec<usize>>) {
        let shape = self.shape(x);
        let kept: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
        let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
        let moved = if perm.iter().enumerate().all(|(i, &p)| i == p) {
            (x, None)
        } else {
            let tshape = perm.iter().map(|&p| shape[p]).collect();
            let t = self.emit(
                at,
                "transpose",
                FOpKind::Transpose { perm: perm.clone() },
                vec![x],
                tshape,
            );
            (t, Some(perm))
        };
        let mut merged: Vec<usize> = kept.iter().map(|&a| shape[a]).collect();
        merged.push(axes.iter().map(|&a| shape[a]).product());
        (self.reshape(at, moved.0, merged), moved.1)
    }

    /// Reduces the last axis of `x` (`[1, .., L]` → `[1, .., 1]`).
    pub(crate) fn reduce_last(&mut self, at: &Lowering, x: FId, how: Reduce) -> FId {
        let shape = self.shape(x);
        let l = *shape.last().expect("a reduced tensor has axes");
        let mut out_shape = shape.clone();
        *out_shape.last_mut().expect("non-empty") = 1;
        match how {
            Reduce::Max => {
                // A MaxPool over an image [1, rows, L] whose window is a row.
                let rows: usize = shape[1..shape.len() - 1].iter().product();
                let image = self.reshape(at, x, vec![1, 1, rows, l]);
                let pooled = self.emit(
                    at,
                    "max",
                    FOpKind::MaxPool {
                        kernel: [1, l],
                        strides: [1, l],
                        pads: [0; 4],
                    },
                    vec![image],
                    vec![1, 1, rows, 1],
                );
                self.reshape(at, pooled, out_shape)
            }
            Reduce::Min => {
                let neg = self.unary(at, x, UnaryFn::Neg, "neg");
                let max = self.reduce_last(at, neg, Reduce::Max);
                self.unary(at, max, UnaryFn::Neg, "neg")
            }
            Reduce::Sum | Reduce::Mean => {
                let w = if how == Reduce::Mean {
                    1.0 / l as f64
                } else {
                    1.0
                };
                let kind = FOpKind::Dense {
                    w: vec![w; l],
                    b: vec![0.0],
                    in_dim: l,
                    out_dim: 1,
                };
                self.emit(at, "sum", kind, vec![x], out_shape)
            }
            Reduce::SumSquare => {
                let sq = self.emit(at, "square", FOpKind::Mul, vec![x, x], shape);
                self.reduce_last(at, sq, Reduce::Sum)
            }
            Reduce::L1 => {
                let abs = self.unary(at, x, UnaryFn::Abs, "abs");
                self.reduce_last(at, abs, Reduce::Sum)
            }
            Reduce::L2 => {
                let ss = self.reduce_last(at, x, Reduce::SumSquare);
                self.unary(at, ss, UnaryFn::Sqrt, "sqrt")
            }
            Reduce::LogSumExp => {
                let (m, _, _, s) = self.shifted_exp_sum(at, x);
                let log = self.unary(at, s, UnaryFn::Log, "log");
                self.emit(at, "add_max", FOpKind::Add, vec![log, m], out_shape)
            }
        }
    }

    /// `[1, .., 1]` → `[1, .., L]`, repeating each value along the last axis.
    pub(crate) fn broadcast_last(&mut self, at: &Lowering, y: FId, l: usize) -> FId {
        let mut shape = self.shape(y);
        *shape.last_mut().expect("non-empty") = l;
        let n: usize = shape.iter().product();
        let source = (0..n).map(|i| (i / l) as i64).collect();
        self.emit(at, "broadcast", FOpKind::Select { source }, vec![y], shape)
    }

    /// For the last axis of `x`: its max `m`, `d = x − m`, `e = exp(d)` and `Σ e`.
    fn shifted_exp_sum(&mut self, at: &Lowering, x: FId) -> (FId, FId, FId, FId) {
        let shape = self.shape(x);
        let l = *shape.last().expect("non-empty");
        let m = self.reduce_last(at, x, Reduce::Max);
        let mb = self.broadcast_last(at, m, l);
        let d = self.emit(at, "shift", FOpKind::Sub, vec![x, mb], shape);
        let e = self.unary(at, d, UnaryFn::Exp, "exp");
        let s = self.reduce_last(at, e, Reduce::Sum);
        (m, d, e, s)
    }

    /// Softmax (or LogSoftmax) of `x` over its last axis.
    fn softmax_last(&mut self, at: &Lowering, x: FId, log: bool) -> FId {
        let shape = self.shape(x);
        let l = *shape.last().expect("non-empty");
        let (_, d, e, s) = self.shifted_exp_sum(at, x);
        if log {
            let ls = self.unary(at, s, UnaryFn::Log, "log");
            let lb = self.broadcast_last(at, ls, l);
            return self.emit(at, "log_softmax", FOpKind::Sub, vec![d, lb], shape);
        }
        let r = self.unary(at, s, UnaryFn::Reciprocal, "reciprocal");
        let rb = self.broadcast_last(at, r, l);
        self.emit(at, "softmax", FOpKind::Mul, vec![e, rb], shape)
    }

    /// A Reduce* node over the per-sample `axes` (sorted, unique, none 0),
    /// with the ONNX `keepdims`; the result is registered as `at.out_name`.
    pub(crate) fn lower_reduce(
        &mut self,
        at: &Lowering,
        x: FId,
        axes: &[usize],
        keepdims: bool,
        how: Reduce,
    ) -> FId {
        let shape = self.shape(x);
        let (merged, _) = self.gather_axes_last(at, x, axes);
        let r = self.reduce_last(at, merged, how);
        let out_shape: Vec<usize> = shape
            .iter()
            .enumerate()
            .filter_map(|(a, &d)| match axes.contains(&a) {
                true if keepdims => Some(1),
                true => None,
                false => Some(d),
            })
            .collect();
        let out_shape = if out_shape.is_empty() {
            vec![1]
        } else {
            out_shape
        };
        self.finish(at, r, out_shape)
    }

    /// Softmax/LogSoftmax over the per-sample `axes` (the ONNX `axis`, or for
    /// opset < 13 every axis from it on), registered as `at.out_name`.
    pub(crate) fn lower_softmax(
        &mut self,
        at: &Lowering,
        x: FId,
        axes: &[usize],
        log: bool,
    ) -> FId {
        let shape = self.shape(x);
        let (merged, perm) = self.gather_axes_last(at, x, axes);
        let y = self.softmax_last(at, merged, log);
        let y = self.unmerge(at, y, &shape, perm);
        self.finish(at, y, shape)
    }

    /// Softmax over the per-sample `axes` of `x` with the entries where
    /// `keep` (one sample, `x`'s layout) is false masked out, as a constant
    /// `Where(mask, −inf, x)` before it means: each masked entry replaced by
    /// a kept one of its row (a `Select`), shifted by the row max, exp, the
    /// masked entries zeroed exactly by a `Select` (source −1) before the row
    /// sum, so their outputs are exactly 0 and −inf never enters the
    /// arithmetic. An error if a row
    /// is masked entirely (ONNX gives NaN there).
    pub(crate) fn lower_masked_softmax(
        &mut self,
        at: &Lowering,
        x: FId,
        axes: &[usize],
        keep: &[bool],
    ) -> Result<FId, String> {
        let shape = self.shape(x);
        let (merged, perm) = self.gather_axes_last(at, x, axes);
        let keep = match &perm {
            Some(p) => crate::float::transpose(keep, &shape, p),
            None => keep.to_vec(),
        };
        let mshape = self.shape(merged);
        let l = *mshape.last().expect("non-empty");
        if let Some(row) = keep.chunks(l).position(|r| !r.contains(&true)) {
            return Err(format!(
                "softmax row {row} is masked entirely (a softmax of only −inf is NaN)"
            ));
        }
        // Masked entries read a kept one of their row, so the max, the shift
        // and the exp table's input depend on kept entries only: the quantized
        // softmax is causal too (a row's result never depends on the scores
        // it masks, e.g. on later tokens), as greedy generation needs.
        let kept_only: Vec<i64> = keep
            .chunks(l)
            .enumerate()
            .flat_map(|(r, row)| {
                let first = row.iter().position(|&k| k).expect("checked above");
                row.iter()
                    .enumerate()
                    .map(move |(j, &k)| (r * l + if k { j } else { first }) as i64)
            })
            .collect();
        let xk = self.emit(
            at,
            "kept",
            FOpKind::Select { source: kept_only },
            vec![merged],
            mshape.clone(),
        );
        let m = self.reduce_last(at, xk, Reduce::Max);
        let mb = self.broadcast_last(at, m, l);
        let d = self.emit(at, "shift", FOpKind::Sub, vec![xk, mb], mshape.clone());
        let e = self.unary(at, d, UnaryFn::Exp, "exp");
        let source = keep
            .iter()
            .enumerate()
            .map(|(i, &k)| if k { i as i64 } else { -1 })
            .collect();
        let em = self.emit(
            at,
            "mask",
            FOpKind::Select { source },
            vec![e],
            mshape.clone(),
        );
        let s = self.reduce_last(at, em, Reduce::Sum);
        let r = self.unary(at, s, UnaryFn::Reciprocal, "reciprocal");
        let rb = self.broadcast_last(at, r, l);
        let y = self.emit(at, "softmax", FOpKind::Mul, vec![em, rb], mshape);
        let y = self.unmerge(at, y, &shape, perm);
        Ok(self.finish(at, y, shape))
    }

    /// Softmax over the last axis of `x` with a mask the model computes:
    /// `keep` a 0/1 activation broadcasting to `x` (a padding mask from a
    /// boolean input). As [`Importer::lower_masked_softmax`], but the masked
    /// entries are zeroed by a product with `keep` and the shift is the row
    /// max of all entries (which entries are kept is not known at import). A
    /// row masked entirely gives zeros (ONNX: NaN for −inf, uniform for a
    /// finite fill).
    pub(crate) fn lower_masked_softmax_by(
        &mut self,
        at: &Lowering,
        x: FId,
        keep: FId,
    ) -> Result<FId, String> {
        let shape = self.shape(x);
        let l = *shape.last().expect("non-empty");
        let keep = self.broadcast_to(at, keep, &shape).ok_or_else(|| {
            format!(
                "the mask {:?} does not broadcast to the scores {shape:?}",
                self.shape(keep)
            )
        })?;
        let m = self.reduce_last(at, x, Reduce::Max);
        let mb = self.broadcast_last(at, m, l);
        let d = self.emit(at, "shift", FOpKind::Sub, vec![x, mb], shape.clone());
        let e = self.unary(at, d, UnaryFn::Exp, "exp");
        let em = self.emit(at, "mask", FOpKind::Mul, vec![e, keep], shape.clone());
        let s = self.reduce_last(at, em, Reduce::Sum);
        let r = self.unary(at, s, UnaryFn::Reciprocal, "reciprocal");
        let rb = self.broadcast_last(at, r, l);
        let y = self.emit(at, "softmax", FOpKind::Mul, vec![em, rb], shape.clone());
        Ok(self.finish(at, y, shape))
    }

    /// `x` broadcast to `shape` by the ONNX (numpy) rules, as a `Select`;
    /// `None` when the shapes are not broadcast-compatible.
    pub(crate) fn broadcast_to(&mut self, at: &Lowering, x: FId, shape: &[usize]) -> Option<FId> {
        let from = self.shape(x);
        if from == shape {
            return Some(x);
        }
        let source = broadcast_source(&from, shape)?;
        Some(self.emit(
            at,
            "broadcast",
            FOpKind::Select { source },
            vec![x],
            shape.to_vec(),
        ))
    }

    /// `Select` by `source`, then `fill` (an AddConst) where it selects
    /// nothing: a Pad with a non-zero constant.
    pub(crate) fn select_then_fill(
        &mut self,
        at: &Lowering,
        x: FId,
        source: Vec<i64>,
        shape: &[usize],
        fill: f64,
    ) -> FId {
        let c = source
            .iter()
            .map(|&k| if k < 0 { fill } else { 0.0 })
            .collect();
        let sel = self.emit(
            at,
            "select",
            FOpKind::Select { source },
            vec![x],
            shape.to_vec(),
        );
        self.emit(
            at,
            "fill",
            FOpKind::AddConst { c },
            vec![sel],
            shape.to_vec(),
        )
    }

    /// Input `x` of a Concat placed into the output (zeros elsewhere).
    pub(crate) fn place(
        &mut self,
        at: &Lowering,
        x: FId,
        map: &crate::index_map::IndexMap,
        shape: &[usize],
    ) -> FId {
        let source = map
            .source
            .iter()
            .map(|s| s.map_or(-1, |k| k as i64))
            .collect();
        self.emit(
            at,
            "place",
            FOpKind::Select { source },
            vec![x],
            shape.to_vec(),
        )
    }

    /// A partial sum of placed Concat inputs.
    pub(crate) fn sum_part(&mut self, at: &Lowering, a: FId, b: FId, shape: &[usize]) -> FId {
        self.emit(at, "concat", FOpKind::Add, vec![a, b], shape.to_vec())
    }

    /// `(x − mean) / sqrt(var + eps)` over the trailing per-sample `axes`
    /// (LayerNormalization, InstanceNormalization), then `scale·y + bias`
    /// when given (one value per normalized element, row-wise Dense), at
    /// `x`'s shape. The variance is the mean of squared deviations; the
    /// reciprocal square root is two tables.
    pub(crate) fn normalize(
        &mut self,
        at: &Lowering,
        x: FId,
        axes: &[usize],
        eps: f64,
        affine: Option<(Vec<f64>, Vec<f64>)>,
    ) -> FId {
        let shape = self.shape(x);
        let (xm, _) = self.gather_axes_last(at, x, axes);
        let mshape = self.shape(xm);
        let l = *mshape.last().expect("non-empty");
        let mean = self.reduce_last(at, xm, Reduce::Mean);
        let mb = self.broadcast_last(at, mean, l);
        let c = self.emit(at, "center", FOpKind::Sub, vec![xm, mb], mshape.clone());
        let sq = self.emit(at, "square", FOpKind::Mul, vec![c, c], mshape.clone());
        let var = self.reduce_last(at, sq, Reduce::Mean);
        let vshape = self.shape(var);
        let shifted = self.emit(
            at,
            "add_eps",
            FOpKind::Dense {
                w: vec![1.0],
                b: vec![eps],
                in_dim: 1,
                out_dim: 1,
            },
            vec![var],
            vshape,
        );
        let sd = self.unary(at, shifted, UnaryFn::Sqrt, "sqrt");
        let inv = self.unary(at, sd, UnaryFn::Reciprocal, "reciprocal");
        let ib = self.broadcast_last(at, inv, l);
        let mut y = self.emit(at, "normalize", FOpKind::Mul, vec![c, ib], mshape.clone());
        if let Some((scale, bias)) = affine {
            let mut w = vec![0.0; l * l];
            for (i, &a) in scale.iter().enumerate() {
                w[i * l + i] = a;
            }
            let kind = FOpKind::Dense {
                w,
                b: bias,
                in_dim: l,
                out_dim: l,
            };
            y = self.emit(at, "scale_bias", kind, vec![y], mshape);
        }
        self.reshape(at, y, shape)
    }

    /// `x / ‖x‖_p` along the per-sample `axis` (LpNormalization, p = 1 or 2).
    pub(crate) fn lp_normalize(&mut self, at: &Lowering, x: FId, axis: usize, p: i64) -> FId {
        let shape = self.shape(x);
        let (xm, perm) = self.gather_axes_last(at, x, &[axis]);
        let mshape = self.shape(xm);
        let l = *mshape.last().expect("non-empty");
        let how = if p == 1 { Reduce::L1 } else { Reduce::L2 };
        let norm = self.reduce_last(at, xm, how);
        let inv = self.unary(at, norm, UnaryFn::Reciprocal, "reciprocal");
        let ib = self.broadcast_last(at, inv, l);
        let y = self.emit(at, "lp_normalize", FOpKind::Mul, vec![xm, ib], mshape);
        self.unmerge(at, y, &shape, perm)
    }

    /// LRN: `x / (bias + alpha/size · Σ_window x²)^beta`, the window `size`
    /// channels around each (ONNX: `[c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]`,
    /// cut at the edges). The squares' window sum, scaled and shifted, is one
    /// Dense over the channel axis with a banded constant matrix (its bias is
    /// `bias`); the power is the `Pow(−beta)` table, defined because the sum
    /// is at least `bias > 0`.
    pub(crate) fn lrn(
        &mut self,
        at: &Lowering,
        x: FId,
        size: usize,
        alpha: f64,
        beta: f64,
        bias: f64,
    ) -> FId {
        let shape = self.shape(x);
        if beta == 0.0 {
            return x;
        }
        let (xm, perm) = self.gather_axes_last(at, x, &[1]);
        let mshape = self.shape(xm);
        let c = *mshape.last().expect("non-empty");
        let sq = self.emit(at, "square", FOpKind::Mul, vec![xm, xm], mshape.clone());
        let (below, above) = ((size - 1) / 2, size / 2);
        let mut w = vec![0.0; c * c];
        for o in 0..c {
            for i in o.saturating_sub(below)..(o + above + 1).min(c) {
                w[o * c + i] = alpha / size as f64;
            }
        }
        let kind = FOpKind::Dense {
            w,
            b: vec![bias; c],
            in_dim: c,
            out_dim: c,
        };
        let s = self.emit(at, "window_sum", kind, vec![sq], mshape.clone());
        let d = self.unary(at, s, UnaryFn::Pow { p: -beta }, "pow");
        let y = self.emit(at, "lrn", FOpKind::Mul, vec![xm, d], mshape);
        self.unmerge(at, y, &shape, perm)
    }

    /// Undoes [`Importer::gather_axes_last`]: the merge, then the transpose.
    pub(crate) fn unmerge(
        &mut self,
        at: &Lowering,
        y: FId,
        shape: &[usize],
        perm: Option<Vec<usize>>,
    ) -> FId {
        let moved: Vec<usize> = match &perm {
            Some(p) => p.iter().map(|&a| shape[a]).collect(),
            None => shape.to_vec(),
        };
        let y = self.reshape(at, y, moved);
        match perm {
            Some(p) => {
                let mut inverse = vec![0; p.len()];
                for (i, &a) in p.iter().enumerate() {
                    inverse[a] = i;
                }
                self.emit(
                    at,
                    "transpose_back",
                    FOpKind::Transpose { perm: inverse },
                    vec![y],
                    shape.to_vec(),
                )
            }
            None => y,
        }
    }

    /// Registers `y` under the node's output name (reshaped to `shape`).
    pub(crate) fn name_result(&mut self, at: &Lowering, y: FId, shape: Vec<usize>) -> FId {
        self.finish(at, y, shape)
    }

    /// `x·scale[c] + shift[c]` per channel (axis 1), as a per-channel Affine
    /// on a rank-2 or rank-4 view of `x`.
    pub(crate) fn per_channel_affine(
        &mut self,
        at: &Lowering,
        x: FId,
        scale: Vec<f64>,
        shift: Vec<f64>,
    ) -> FId {
        let shape = self.shape(x);
        let view = if shape.len() == 2 || shape.len() == 4 {
            shape.clone()
        } else {
            vec![
                1,
                shape.get(1).copied().unwrap_or(1),
                shape[2..].iter().product(),
                1,
            ]
        };
        let v = self.reshape(at, x, view.clone());
        let y = self.emit(
            at,
            "affine",
            FOpKind::Affine { scale, shift },
            vec![v],
            view,
        );
        self.reshape(at, y, shape)
    }

    /// PReLU, `relu(x) − slope·relu(−x)`, the slope applied per channel
    /// (an affine), along the last axis (a diagonal Dense) or per element of
    /// one sample (a `MulConst`).
    pub(crate) fn prelu(&mut self, at: &Lowering, x: FId, slope: PreluSlope) -> FId {
        let shape = self.shape(x);
        let pos = self.emit(at, "relu", FOpKind::Relu, vec![x], shape.clone());
        let nx = self.unary(at, x, UnaryFn::Neg, "neg");
        let neg = self.emit(at, "relu_neg", FOpKind::Relu, vec![nx], shape.clone());
        let scaled = match slope {
            PreluSlope::LastAxis(slope) => {
                let l = slope.len();
                let mut w = vec![0.0; l * l];
                for (i, &a) in slope.iter().enumerate() {
                    w[i * l + i] = a;
                }
                let kind = FOpKind::Dense {
                    w,
                    b: vec![0.0; l],
                    in_dim: l,
                    out_dim: l,
                };
                self.emit(at, "slope", kind, vec![neg], shape.clone())
            }
            PreluSlope::PerChannel(slope) => {
                let zeros = vec![0.0; slope.len()];
                self.per_channel_affine(at, neg, slope, zeros)
            }
            PreluSlope::PerElement(c) => self.emit(
                at,
                "slope",
                FOpKind::MulConst { c },
                vec![neg],
                shape.clone(),
            ),
        };
        self.emit(at, "prelu", FOpKind::Sub, vec![pos, scaled], shape)
    }

    /// A constant tensor (one sample's values) as an activation: `0·like + c`
    /// (a diagonal Dense with zero weights, then an AddConst).
    pub(crate) fn constant_like(&mut self, at: &Lowering, like: FId, c: Vec<f64>) -> FId {
        let shape = self.shape(like);
        let l = *shape.last().expect("non-empty");
        let zero = self.emit(
            at,
            "zero",
            FOpKind::Dense {
                w: vec![0.0; l * l],
                b: vec![0.0; l],
                in_dim: l,
                out_dim: l,
            },
            vec![like],
            shape.clone(),
        );
        self.emit(at, "constant", FOpKind::AddConst { c }, vec![zero], shape)
    }

    /// `kind` (Add, Sub, Mul) of two activations, broadcast by numpy rules.
    pub(crate) fn binary(
        &mut self,
        at: &Lowering,
        kind: FOpKind,
        a: FId,
        b: FId,
    ) -> Result<FId, String> {
        let (sa, sb) = (self.shape(a), self.shape(b));
        let shape = broadcast_shape(&sa, &sb)
            .ok_or_else(|| format!("shapes {sa:?} and {sb:?} do not broadcast"))?;
        if sa.len() != sb.len() && self.batch > 1 {
            return Err(
                "operands of different rank would align the batch axis with another axis".into(),
            );
        }
        let a = self.broadcast_to(at, a, &shape).expect("broadcastable");
        let b = self.broadcast_to(at, b, &shape).expect("broadcastable");
        Ok(self.emit(at, "binary", kind, vec![a, b], shape))
    }

    /// `1` where `x (rel) 0`, else `0` (an exact 0/1 table).
    pub(crate) fn compare(&mut self, at: &Lowering, x: FId, rel: CmpOp) -> FId {
        self.unary(at, x, UnaryFn::Compare(rel), "compare")
    }

    /// `Where(c, x, y) = y + c·(x − y)` for a 0/1 condition `c`.
    pub(crate) fn select_where(
        &mut self,
        at: &Lowering,
        c: FId,
        x: FId,
        y: FId,
    ) -> Result<FId, String> {
        let d = self.binary(at, FOpKind::Sub, x, y)?;
        let picked = self.binary(at, FOpKind::Mul, c, d)?;
        self.binary(at, FOpKind::Add, y, picked)
    }

    /// Gives the lowered result the node's output name and shape.
    pub(crate) fn finish(&mut self, at: &Lowering, y: FId, shape: Vec<usize>) -> FId {
        let out = if self.shape(y) == shape {
            y
        } else {
            self.emit(at, "reshape", FOpKind::Reshape, vec![y], shape)
        };
        self.values.insert(at.out_name.to_string(), out);
        out
    }
}

/// The common shape of two broadcast operands (numpy rules, right-aligned).
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], i: usize| (i + s.len()).checked_sub(n).map_or(1, |k| s[k]);
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// For each element of `to` (row-major), the element of `from` it repeats.
fn broadcast_source(from: &[usize], to: &[usize]) -> Option<Vec<i64>> {
    if from.len() > to.len() {
        return None;
    }
    let off = to.len() - from.len();
    let mut strides = vec![0usize; to.len()];
    let mut stride = 1;
    for (k, &d) in from.iter().enumerate().rev() {
        match (d, to[k + off]) {
            (1, _) => {}
            (x, y) if x == y => strides[k + off] = stride,
            _ => return None,
        }
        stride *= d;
    }
    let n: usize = to.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; to.len()];
    for _ in 0..n {
        out.push(idx.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>() as i64);
        for k in (0..to.len()).rev() {
            idx[k] += 1;
            if idx[k] < to[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape(&[1, 3, 1], &[4]), Some(vec![1, 3, 4]));
        assert_eq!(broadcast_shape(&[2, 3], &[3, 2]), None);
        assert_eq!(
            broadcast_source(&[1, 3, 1], &[1, 3, 2]),
            Some(vec![0, 0, 1, 1, 2, 2])
        );
        assert_eq!(
            broadcast_source(&[2], &[1, 3, 2]),
            Some(vec![0, 1, 0, 1, 0, 1])
        );
        assert_eq!(broadcast_source(&[3], &[1, 2]), None);
    }
}

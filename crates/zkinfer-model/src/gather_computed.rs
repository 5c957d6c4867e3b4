//! Gather and GatherElements by indices the model computes (an ArgMax
//! result, a cast activation, an integer graph input read as numbers): the
//! gather becomes a contraction with the indices' one-hot, built from ops
//! the prover already proves, so no new relation and no committed index.
//!
//! `hot[.., j] = [idx rounds to j] + [idx rounds to j − L]` (the second
//! term takes ONNX's negative indices, counted from the end), from one
//! exact 0/1 comparison table on `idx − m + ¼` for every step `m`
//! ([`Importer::index_one_hot`]). The table binds every row of `hot` to the
//! proven index: a valid index has exactly one 1, so the contraction picks
//! exactly the indexed element. An index off an integer by more than ¼
//! (a computed float index) or on an axis longer than about 1000 (whose
//! comparison table is coarser than ½) may pick a neighbour. Then
//! - Gather from a constant table: a row-wise Dense of `hot` by the table
//!   (as a token embedding, `embedding.rs`, but with the one-hot proven
//!   instead of public);
//! - Gather from an activation: a batched MatMul of `hot` with the data,
//!   its gathered axis moved first by a `Select`;
//! - GatherElements: the data spread to `[.., L]` per index by a `Select`,
//!   multiplied by `hot` (Hadamard sumcheck) and summed along `L`, or, from
//!   a constant, one Dense of the flattened `hot`.
//!
//! An index outside `[−L, L)` (an ONNX error) selects nothing and gives 0.

use super::lowering::NodeCx;
use super::{attr_i, Const, Importer};
use crate::error::Result;
use crate::float::{FId, FOpKind};
use crate::onnx_reduce::{Lowering, Reduce};
use crate::unary::CmpOp;

/// The data input: a computed tensor or a constant.
enum Data {
    Act(FId),
    Const(Const),
}

/// Row-major flat index of `coords` in `shape`.
fn flat(coords: &[usize], shape: &[usize]) -> usize {
    coords.iter().zip(shape).fold(0, |a, (&c, &d)| a * d + c)
}

/// Row-major coordinates of `i` in `shape`.
fn coords(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut c = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        c[d] = i % shape[d].max(1);
        i /= shape[d].max(1);
    }
    c
}

impl Importer {
    /// Gather / GatherElements whose indices (input 1) are an activation.
    pub(super) fn lower_gather_computed(&mut self, cx: &NodeCx) -> Result<()> {
        let idx = self.act_input(cx, 1)?;
        let name = cx.input(0).unwrap_or_default();
        let data = if let Some(&a) = self.values.get(name) {
            Data::Act(a)
        } else if let Some(c) = self.consts.get(name) {
            Data::Const(c.clone())
        } else {
            return Err(cx.bad(format!("input #0 (`{name}`) is never computed")));
        };
        let dshape = match &data {
            Data::Act(a) => self.shape_of(*a),
            Data::Const(c) => c.dims.clone(),
        };
        let rank = dshape.len() as i64;
        let axis = attr_i(cx.node, "axis", 0);
        let axis = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&axis) {
            return Err(cx.bad(format!("axis {axis} out of range for {dshape:?}")));
        }
        let axis = axis as usize;
        let l = dshape[axis];
        if matches!(data, Data::Act(_)) && axis == 0 {
            return Err(
                cx.bad("gathering along the batch axis of an activation mixes samples".to_string())
            );
        }
        let at = Lowering {
            node: cx.name,
            op_type: cx.op,
            out_name: cx.output(),
        };
        let ishape = self.shape_of(idx);
        let size = ishape.iter().product::<usize>().saturating_mul(l);
        if size > self.lowering_budget {
            return Err(cx.bad(format!(
                "the one-hot of {ishape:?} indices into an axis of {l} is too large"
            )));
        }
        let hot = self.index_one_hot(&at, idx, l);
        let y = if cx.op == "GatherElements" {
            self.gather_elements_by(cx, &at, data, &dshape, axis, hot)?
        } else {
            self.gather_by(cx, &at, data, &dshape, axis, hot)?
        };
        let out_shape = if cx.op == "GatherElements" {
            ishape
        } else {
            let mut s = dshape[..axis].to_vec();
            s.extend(&ishape);
            s.extend(&dshape[axis + 1..]);
            s
        };
        self.finish(&at, y, out_shape);
        Ok(())
    }

    /// `[idx = j]` (or `idx = j − L`) for `j < l`: `idx`'s shape + `[l]`.
    /// A staircase `G[m] = [idx ≥ m − ¼]` for `m ∈ [−l, l]` (one 0/1
    /// table), then `hot[j] = G[j] − G[j+1] + G[j−l] − G[j−l+1]` (a
    /// row-wise Dense by ±1: exact on 0/1 values). The ¼ rounds away at
    /// scale 1, where an index is an exact integer, and elsewhere absorbs a
    /// requantized index's error below ¼.
    fn index_one_hot(&mut self, at: &Lowering, idx: FId, l: usize) -> FId {
        let steps = 2 * l + 1;
        let mut col = self.shape(idx);
        col.push(1);
        let c = self.reshape(at, idx, col);
        let spread = self.broadcast_last(at, c, steps);
        let shape = self.shape(spread);
        let n: usize = shape.iter().product();
        let c = (0..n)
            .map(|p| 0.25 - ((p % steps) as f64 - l as f64))
            .collect();
        let d = self.emit(
            at,
            "index_minus_step",
            FOpKind::AddConst { c },
            vec![spread],
            shape.clone(),
        );
        let g = self.compare(at, d, CmpOp::Ge);
        // G[m] sits at column m + l.
        let mut w = vec![0.0; l * steps];
        for j in 0..l {
            let row = &mut w[j * steps..(j + 1) * steps];
            row[j + l] += 1.0;
            row[j + l + 1] -= 1.0;
            row[j] += 1.0;
            row[j + 1] -= 1.0;
        }
        let mut hshape = shape;
        *hshape.last_mut().expect("non-empty") = l;
        let kind = FOpKind::Dense {
            w,
            b: vec![0.0; l],
            in_dim: steps,
            out_dim: l,
        };
        self.emit(at, "one_hot", kind, vec![g], hshape)
    }

    /// Gather: `y[pre, q, post] = Σ_j hot[q, j]·data[pre, j, post]`.
    fn gather_by(
        &mut self,
        cx: &NodeCx,
        at: &Lowering,
        data: Data,
        dshape: &[usize],
        axis: usize,
        hot: FId,
    ) -> Result<FId> {
        let l = dshape[axis];
        let pre: usize = dshape[..axis].iter().product();
        let post: usize = dshape[axis + 1..].iter().product();
        let hshape = self.shape(hot);
        let q: usize = hshape[..hshape.len() - 1].iter().product();
        if axis > 0 && self.batch > 1 {
            return Err(cx.bad(format!(
                "computed indices into axis {axis} would put the indices' batch axis at axis {axis}; \
                 only one sample per statement is supported here"
            )));
        }
        if axis > 0 && dshape[0] != 1 {
            return Err(cx.bad(format!(
                "a table of shape {dshape:?} indexed along axis {axis} has no batch axis of 1"
            )));
        }
        let n = pre * post;
        // `[.., q, pre·post]`, row `q` holding every `(pre, post)` pick.
        let picked = match data {
            Data::Const(c) => {
                if n.saturating_mul(l) > self.lowering_budget {
                    return Err(cx.bad(format!("a table of {dshape:?} is too large to index")));
                }
                let mut w = vec![0.0; n * l];
                for p in 0..pre {
                    for j in 0..l {
                        for t in 0..post {
                            w[(p * post + t) * l + j] = c.data[(p * l + j) * post + t];
                        }
                    }
                }
                let mut shape = hshape.clone();
                *shape.last_mut().expect("non-empty") = n;
                let kind = FOpKind::Dense {
                    w,
                    b: vec![0.0; n],
                    in_dim: l,
                    out_dim: n,
                };
                self.emit(at, "gather", kind, vec![hot], shape)
            }
            Data::Act(x) => {
                let source = (0..l * n)
                    .map(|i| {
                        let (j, pt) = (i / n, i % n);
                        ((pt / post * l + j) * post + pt % post) as i64
                    })
                    .collect();
                let xt = self.emit(
                    at,
                    "axis_first",
                    FOpKind::Select { source },
                    vec![x],
                    vec![1, l, n],
                );
                let h = self.reshape(at, hot, vec![1, q, l]);
                self.emit(at, "gather", FOpKind::MatMul, vec![h, xt], vec![1, q, n])
            }
        };
        if pre == 1 {
            return Ok(picked);
        }
        // `(q, pre, post)` → `(pre, q, post)`.
        let source = (0..pre * q * post)
            .map(|i| {
                let (p, qq, t) = (i / (q * post), i / post % q, i % post);
                ((qq * pre + p) * post + t) as i64
            })
            .collect();
        Ok(self.emit(
            at,
            "gather_order",
            FOpKind::Select { source },
            vec![picked],
            vec![1, pre * q * post],
        ))
    }

    /// GatherElements: `y[p] = Σ_j hot[p, j]·data[p with axis := j]`.
    fn gather_elements_by(
        &mut self,
        cx: &NodeCx,
        at: &Lowering,
        data: Data,
        dshape: &[usize],
        axis: usize,
        hot: FId,
    ) -> Result<FId> {
        let hshape = self.shape(hot);
        let ishape = &hshape[..hshape.len() - 1];
        let l = dshape[axis];
        if ishape.len() != dshape.len()
            || (0..dshape.len()).any(|d| d != axis && ishape[d] > dshape[d])
        {
            return Err(cx.bad(format!(
                "indices of shape {ishape:?} do not index data of shape {dshape:?} along axis {axis}"
            )));
        }
        if axis == 0 {
            return Err(cx.bad("GatherElements along the batch axis mixes samples".to_string()));
        }
        let q: usize = ishape.iter().product();
        // For each index position and candidate j, the data element it would read.
        let source: Vec<usize> = (0..q * l)
            .map(|i| {
                let mut c = coords(i / l, ishape);
                c[axis] = i % l;
                flat(&c, dshape)
            })
            .collect();
        Ok(match data {
            Data::Act(x) => {
                // Both factors as `[1, q, l]` (`[1, l]` for one index), so
                // the prover lays them out alike.
                let source = source.iter().map(|&s| s as i64).collect();
                let rows = if q == 1 { vec![1, l] } else { vec![1, q, l] };
                let spread = self.emit(
                    at,
                    "candidates",
                    FOpKind::Select { source },
                    vec![x],
                    rows.clone(),
                );
                let hot = self.reshape(at, hot, rows.clone());
                let prod = self.emit(at, "pick", FOpKind::Mul, vec![hot, spread], rows);
                self.reduce_last(at, prod, Reduce::Sum)
            }
            Data::Const(c) => {
                if q.saturating_mul(q * l) > self.lowering_budget {
                    return Err(cx.bad(format!(
                        "{q} computed indices into a constant are too many to gather"
                    )));
                }
                let mut w = vec![0.0; q * q * l];
                for (i, &s) in source.iter().enumerate() {
                    w[(i / l) * q * l + i] = c.data[s];
                }
                let flat_hot = self.reshape(at, hot, vec![1, q * l]);
                let kind = FOpKind::Dense {
                    w,
                    b: vec![0.0; q],
                    in_dim: q * l,
                    out_dim: q,
                };
                self.emit(at, "gather", kind, vec![flat_hot], vec![1, q])
            }
        })
    }
}

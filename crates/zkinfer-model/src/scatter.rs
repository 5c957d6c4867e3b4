//! ScatterElements and ScatterND (and the deprecated Scatter) with constant
//! indices, as claim routing: every output position reads the data, or the
//! updates aimed at it, through public index maps (`Select`s), so nothing is
//! committed and no relation is new. Per `reduction`:
//! - `none`: `y = Select(data, untouched) + Select(updates, last aimed)`
//!   (of duplicate targets the last update wins, as onnxruntime does);
//! - `add`: `y = data + Σ_m Select_m(updates)`, layer `m` carrying each
//!   position's `m`-th update (as many layers as the most-hit position);
//! - `mul`: `y = data ⊙ Π_m Select_m(updates)`, absent updates read as 1
//!   (Hadamard sumchecks);
//! - `max` / `min`: `y = max(data, cand_1, …)`, `cand_m` the `m`-th update
//!   or the data where there is none, each max `a + relu(b − a)`.
//!
//! A constant operand becomes a constant activation at its partner's scale
//! (`Select` of nothing, then `AddConst`), committed with the weights.

use super::lowering::NodeCx;
use super::{attr_i, attr_s, Const, Importer};
use crate::error::Result;
use crate::float::{FId, FOpKind};
use crate::onnx_reduce::Lowering;

/// An input: a computed tensor or a constant.
enum Operand {
    Act(FId),
    Const(Const),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Reduction {
    None,
    Add,
    Mul,
    Max,
    Min,
}

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// `i` (possibly negative, counted from the end) as an index into `dim`.
fn resolve(i: f64, dim: usize) -> std::result::Result<usize, String> {
    let v = i as i64;
    let r = if v < 0 { v + dim as i64 } else { v };
    if i.fract() != 0.0 || !(0..dim as i64).contains(&r) {
        return Err(format!("index {i} is outside an axis of {dim}"));
    }
    Ok(r as usize)
}

/// ScatterElements: `(target, update)` flat positions, in update order.
pub(crate) fn elements_pairs(
    dshape: &[usize],
    idx: &Const,
    ushape: &[usize],
    axis: usize,
) -> std::result::Result<Vec<(usize, usize)>, String> {
    if idx.dims != ushape || idx.dims.len() != dshape.len() {
        return Err(format!(
            "indices {:?} and updates {ushape:?} need the data's rank ({dshape:?}) and one shape",
            idx.dims
        ));
    }
    if (0..dshape.len()).any(|d| d != axis && ushape[d] > dshape[d]) {
        return Err(format!(
            "updates {ushape:?} exceed the data {dshape:?} off axis {axis}"
        ));
    }
    let (ds, us) = (strides(dshape), strides(ushape));
    (0..idx.data.len())
        .map(|u| {
            let mut t = 0;
            for d in 0..dshape.len() {
                let c = u / us[d] % ushape[d];
                let c = if d == axis {
                    resolve(idx.data[u], dshape[d])?
                } else {
                    c
                };
                t += c * ds[d];
            }
            Ok((t, u))
        })
        .collect()
}

/// ScatterND: `(target, update)` flat positions, in update order. The
/// indices' last axis holds `m` coordinates; each tuple addresses a slice
/// `data[i_0, …, i_{m−1}, :, …]`.
pub(crate) fn nd_pairs(
    dshape: &[usize],
    idx: &Const,
    ushape: &[usize],
) -> std::result::Result<Vec<(usize, usize)>, String> {
    let (&m, lead) = idx
        .dims
        .split_last()
        .ok_or_else(|| "indices need at least one axis".to_string())?;
    if m == 0 || m > dshape.len() {
        return Err(format!(
            "index tuples of {m} into data of rank {}",
            dshape.len()
        ));
    }
    let mut want = lead.to_vec();
    want.extend(&dshape[m..]);
    if want != ushape {
        return Err(format!("updates {ushape:?} should have shape {want:?}"));
    }
    let ds = strides(dshape);
    let slice: usize = dshape[m..].iter().product();
    let tuples = lead.iter().product::<usize>();
    let mut out = Vec::with_capacity(tuples * slice);
    for t in 0..tuples {
        let mut base = 0;
        for d in 0..m {
            base += resolve(idx.data[t * m + d], dshape[d])? * ds[d];
        }
        out.extend((0..slice).map(|s| (base + s, t * slice + s)));
    }
    Ok(out)
}

/// The float semantics on constants (for folding).
fn fold(data: &[f64], updates: &[f64], pairs: &[(usize, usize)], how: Reduction) -> Vec<f64> {
    let mut y = data.to_vec();
    for &(t, u) in pairs {
        let v = updates[u];
        y[t] = match how {
            Reduction::None => v,
            Reduction::Add => y[t] + v,
            Reduction::Mul => y[t] * v,
            Reduction::Max => y[t].max(v),
            Reduction::Min => y[t].min(v),
        };
    }
    y
}

impl Importer {
    /// ScatterElements / Scatter / ScatterND whose indices are constant.
    pub(super) fn lower_scatter(&mut self, cx: &NodeCx) -> Result<()> {
        let operand = |s: &Self, i: usize| -> Result<Operand> {
            let name = cx.input(i).unwrap_or_default();
            if let Some(&a) = s.values.get(name) {
                Ok(Operand::Act(a))
            } else if let Some(c) = s.consts.get(name) {
                Ok(Operand::Const(c.clone()))
            } else {
                Err(cx.bad(format!("input #{i} (`{name}`) is never computed")))
            }
        };
        let idx = match operand(self, 1)? {
            Operand::Const(c) => c,
            Operand::Act(_) => return Err(cx.bad(
                "indices computed by the model are not supported; Scatter needs constant indices",
            )),
        };
        let (data, updates) = (operand(self, 0)?, operand(self, 2)?);
        let shape_of = |s: &Self, o: &Operand| match o {
            Operand::Act(a) => s.shape_of(*a),
            Operand::Const(c) => c.dims.clone(),
        };
        let (dshape, ushape) = (shape_of(self, &data), shape_of(self, &updates));
        let how = match attr_s(cx.node, "reduction").as_deref().unwrap_or("none") {
            "none" => Reduction::None,
            "add" => Reduction::Add,
            "mul" => Reduction::Mul,
            "max" => Reduction::Max,
            "min" => Reduction::Min,
            r => return Err(cx.bad(format!("reduction `{r}` is not an ONNX reduction"))),
        };
        let pairs = if cx.op == "ScatterND" {
            nd_pairs(&dshape, &idx, &ushape)
        } else {
            let rank = dshape.len() as i64;
            let a = attr_i(cx.node, "axis", 0);
            let a = if a < 0 { a + rank } else { a };
            if !(0..rank).contains(&a) {
                return Err(cx.bad(format!("axis {a} out of range for {dshape:?}")));
            }
            elements_pairs(&dshape, &idx, &ushape, a as usize)
        }
        .map_err(|e| cx.bad(e))?;
        if let (Operand::Const(d), Operand::Const(u)) = (&data, &updates) {
            let data = fold(&d.data, &u.data, &pairs, how);
            let c = Const { dims: dshape, data };
            self.consts.insert(cx.output().to_string(), c);
            return Ok(());
        }
        if self.batch > 1 {
            return Err(cx.bad(
                "a statement of several samples: constant indices would address the first sample only",
            ));
        }
        if dshape.first() != Some(&1) {
            return Err(cx.bad(format!("data of shape {dshape:?} has no batch axis of 1")));
        }
        let at = Lowering {
            node: cx.name,
            op_type: cx.op,
            out_name: cx.output(),
        };
        let y = self.scatter(&at, data, updates, &dshape, &pairs, how);
        self.finish(&at, y, dshape);
        Ok(())
    }

    /// `o` as an activation of `shape` (a constant at `like`'s scale).
    fn materialize(&mut self, at: &Lowering, o: Operand, like: FId, shape: &[usize]) -> FId {
        match o {
            Operand::Act(a) => a,
            Operand::Const(c) => {
                // Flat `[1, n]`: a constant's leading axis need not be 1.
                let n: usize = shape.iter().product();
                let nothing = self.emit(
                    at,
                    "nothing",
                    FOpKind::Select {
                        source: vec![-1; n],
                    },
                    vec![like],
                    vec![1, n],
                );
                self.emit(
                    at,
                    "constant",
                    FOpKind::AddConst { c: c.data },
                    vec![nothing],
                    vec![1, n],
                )
            }
        }
    }

    fn scatter(
        &mut self,
        at: &Lowering,
        data: Operand,
        updates: Operand,
        dshape: &[usize],
        pairs: &[(usize, usize)],
        how: Reduction,
    ) -> FId {
        let n: usize = dshape.iter().product();
        // Each target's updates, in order.
        let mut aimed: Vec<Vec<usize>> = vec![vec![]; n];
        for &(t, u) in pairs {
            aimed[t].push(u);
        }
        let layers = aimed.iter().map(Vec::len).max().unwrap_or(0);
        let (d_like, u_like) = match (&data, &updates) {
            (Operand::Act(d), Operand::Act(u)) => (*d, *u),
            (Operand::Act(d), _) => (*d, *d),
            (_, Operand::Act(u)) => (*u, *u),
            _ => unreachable!("constants fold"),
        };
        let ushape = match &updates {
            Operand::Act(u) => self.shape(*u),
            Operand::Const(c) => c.dims.clone(),
        };
        let d = self.materialize(at, data, u_like, dshape);
        let u = self.materialize(at, updates, d_like, &ushape);
        let sel = |s: &mut Self, x: FId, source: Vec<i64>, step: &str| {
            s.emit(
                at,
                step,
                FOpKind::Select { source },
                vec![x],
                dshape.to_vec(),
            )
        };
        let layer = |m: usize| -> Vec<i64> {
            aimed
                .iter()
                .map(|a| a.get(m).map_or(-1, |&u| u as i64))
                .collect()
        };
        match how {
            Reduction::None => {
                let kept = (0..n)
                    .map(|t| if aimed[t].is_empty() { t as i64 } else { -1 })
                    .collect();
                let last = aimed
                    .iter()
                    .map(|a| a.last().map_or(-1, |&u| u as i64))
                    .collect();
                let k = sel(self, d, kept, "kept");
                let w = sel(self, u, last, "written");
                self.emit(at, "scatter", FOpKind::Add, vec![k, w], dshape.to_vec())
            }
            Reduction::Add => (0..layers).fold(d, |acc, m| {
                let w = sel(self, u, layer(m), "added");
                self.emit(
                    at,
                    "scatter_add",
                    FOpKind::Add,
                    vec![acc, w],
                    dshape.to_vec(),
                )
            }),
            Reduction::Mul => (0..layers).fold(d, |acc, m| {
                let source = layer(m);
                let w = self.select_then_fill(at, u, source, dshape, 1.0);
                self.emit(
                    at,
                    "scatter_mul",
                    FOpKind::Mul,
                    vec![acc, w],
                    dshape.to_vec(),
                )
            }),
            Reduction::Max | Reduction::Min => (0..layers).fold(d, |acc, m| {
                let source = layer(m);
                let rest = source
                    .iter()
                    .enumerate()
                    .map(|(t, &s)| if s < 0 { t as i64 } else { -1 })
                    .collect();
                let w = sel(self, u, source, "candidate");
                let r = sel(self, d, rest, "candidate_rest");
                let cand = self.emit(at, "candidate", FOpKind::Add, vec![w, r], dshape.to_vec());
                // max(a, b) = a + relu(b − a); min(a, b) = a − relu(a − b).
                let (p, q) = if how == Reduction::Max {
                    (cand, acc)
                } else {
                    (acc, cand)
                };
                let diff = self.emit(at, "diff", FOpKind::Sub, vec![p, q], dshape.to_vec());
                let r = self.emit(at, "relu", FOpKind::Relu, vec![diff], dshape.to_vec());
                let kind = if how == Reduction::Max {
                    FOpKind::Add
                } else {
                    FOpKind::Sub
                };
                self.emit(at, "scatter_extreme", kind, vec![acc, r], dshape.to_vec())
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(dims: &[usize], data: &[f64]) -> Const {
        Const {
            dims: dims.to_vec(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn scatter_elements_follows_the_onnx_example() {
        // ONNX ScatterElements example 2: axis 1, data [[1,2,3,4,5]],
        // indices [[1,3]], updates [[1.1,2.1]] → [[1,1.1,3,2.1,5]].
        let pairs = elements_pairs(&[1, 5], &c(&[1, 2], &[1.0, -2.0]), &[1, 2], 1).unwrap();
        assert_eq!(pairs, vec![(1, 0), (3, 1)]);
        let y = fold(
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[1.1, 2.1],
            &pairs,
            Reduction::None,
        );
        assert_eq!(y, vec![1.0, 1.1, 3.0, 2.1, 5.0]);
        let dup = elements_pairs(&[1, 3], &c(&[1, 2], &[1.0, 1.0]), &[1, 2], 1).unwrap();
        assert_eq!(
            fold(&[1.0, 2.0, 3.0], &[5.0, 7.0], &dup, Reduction::Add),
            vec![1.0, 14.0, 3.0]
        );
        assert_eq!(
            fold(&[1.0, 2.0, 3.0], &[5.0, 7.0], &dup, Reduction::Mul),
            vec![1.0, 70.0, 3.0]
        );
        assert_eq!(
            fold(&[1.0, 9.0, 3.0], &[5.0, 7.0], &dup, Reduction::Max),
            vec![1.0, 9.0, 3.0]
        );
        assert_eq!(
            fold(&[1.0, 9.0, 3.0], &[5.0, 7.0], &dup, Reduction::Min),
            vec![1.0, 5.0, 3.0]
        );
        assert!(elements_pairs(&[1, 3], &c(&[1, 1], &[3.0]), &[1, 1], 1).is_err());
    }

    #[test]
    fn scatter_nd_addresses_slices() {
        // data [1, 2, 3]; indices [[0, 1]] (m = 2) → the slice data[0, 1, :].
        let pairs = nd_pairs(&[1, 2, 3], &c(&[1, 2], &[0.0, 1.0]), &[1, 3]).unwrap();
        assert_eq!(pairs, vec![(3, 0), (4, 1), (5, 2)]);
        // A full-rank tuple addresses one element; negative coordinates count from the end.
        let one = nd_pairs(
            &[1, 2, 3],
            &c(&[2, 3], &[0.0, 0.0, -1.0, 0.0, 1.0, 0.0]),
            &[2],
        )
        .unwrap();
        assert_eq!(one, vec![(2, 0), (3, 1)]);
        assert!(nd_pairs(&[1, 2, 3], &c(&[1, 2], &[0.0, 1.0]), &[1, 2]).is_err());
    }
}

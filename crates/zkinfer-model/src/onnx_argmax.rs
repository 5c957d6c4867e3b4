//! ArgMax, ArgMin, Hardmax and TopK (k = 1) lowered onto one float op,
//! [`FOpKind::ArgMaxOneHot`] (the one-hot of the first maximum along the
//! last axis, quantized exactly by [`crate::argmax`]): the axis is moved last
//! (Transpose, Reshape), ArgMin negates first (a row-wise Dense by `−I`,
//! exact), `select_last_index` reverses the axis (a `Select`), and an index
//! is the one-hot's row-wise Dense by `[0, 1, …, L−1]` — integer weights on
//! a 0/1 tensor, so the quantized index is an exact integer at scale 1.

use crate::float::{FId, FOpKind};
use crate::onnx_import::Importer;
use crate::onnx_reduce::{Lowering, Reduce};

/// Which extreme is looked for, and which of tied positions wins.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pick {
    /// The smallest value instead of the largest (ArgMin, TopK largest=0).
    pub min: bool,
    /// The last of tied positions instead of the first (`select_last_index`).
    pub last: bool,
}

impl Importer {
    /// The one-hot of the picked extreme of each row of `xm` (`[1, .., L]`,
    /// the reduced axis last), in `xm`'s orientation, and `xm` as compared
    /// (negated for a minimum).
    fn picked_one_hot(&mut self, at: &Lowering, xm: FId, pick: Pick) -> (FId, FId) {
        let shape = self.shape(xm);
        let l = *shape.last().expect("non-empty");
        let n: usize = shape.iter().product();
        let cmp = if pick.min { self.negated(at, xm) } else { xm };
        // The last of tied positions is the first of the reversed row.
        let reverse = |i: usize| (i - i % l + (l - 1 - i % l)) as i64;
        let oriented = if pick.last {
            let source = (0..n).map(reverse).collect();
            self.emit(
                at,
                "reverse",
                FOpKind::Select { source },
                vec![cmp],
                shape.clone(),
            )
        } else {
            cmp
        };
        let hot = self.emit(
            at,
            "one_hot",
            FOpKind::ArgMaxOneHot,
            vec![oriented],
            shape.clone(),
        );
        let hot = if pick.last {
            let source = (0..n).map(reverse).collect();
            self.emit(
                at,
                "unreverse",
                FOpKind::Select { source },
                vec![hot],
                shape,
            )
        } else {
            hot
        };
        (hot, cmp)
    }

    /// `−x` along the last axis by a row-wise Dense by `−I`: exact, where
    /// a Neg table would requantize.
    pub(crate) fn negated(&mut self, at: &Lowering, x: FId) -> FId {
        let shape = self.shape(x);
        let l = *shape.last().expect("non-empty");
        let mut w = vec![0.0; l * l];
        for i in 0..l {
            w[i * l + i] = -1.0;
        }
        let kind = FOpKind::Dense {
            w,
            b: vec![0.0; l],
            in_dim: l,
            out_dim: l,
        };
        self.emit(at, "negate", kind, vec![x], shape)
    }

    /// The position (0-based) of each row's 1 in a one-hot `[1, .., L]`:
    /// `[1, .., 1]`, an exact integer.
    pub(crate) fn one_hot_index(&mut self, at: &Lowering, hot: FId) -> FId {
        let mut shape = self.shape(hot);
        let l = *shape.last().expect("non-empty");
        *shape.last_mut().expect("non-empty") = 1;
        let kind = FOpKind::Dense {
            w: (0..l).map(|i| i as f64).collect(),
            b: vec![0.0],
            in_dim: l,
            out_dim: 1,
        };
        self.emit(at, "index", kind, vec![hot], shape)
    }

    /// The shape of a reduction of `shape` over `axis`: the axis kept as 1,
    /// or dropped (a per-sample scalar keeps one axis of 1).
    fn reduced_shape(shape: &[usize], axis: usize, keepdims: bool) -> Vec<usize> {
        let mut out = shape.to_vec();
        if keepdims {
            out[axis] = 1;
        } else {
            out.remove(axis);
            if out.is_empty() {
                out.push(1);
            }
        }
        out
    }

    /// ArgMax / ArgMin over the per-sample `axis` (not 0), registered as
    /// `at.out_name` with the ONNX `keepdims`.
    pub(crate) fn lower_argmax(
        &mut self,
        at: &Lowering,
        x: FId,
        axis: usize,
        keepdims: bool,
        pick: Pick,
    ) -> FId {
        let shape = self.shape(x);
        let (xm, _) = self.gather_axes_last(at, x, &[axis]);
        let (hot, _) = self.picked_one_hot(at, xm, pick);
        let idx = self.one_hot_index(at, hot);
        self.finish(at, idx, Self::reduced_shape(&shape, axis, keepdims))
    }

    /// Hardmax over the per-sample `axis` (opset ≥ 13: that axis alone).
    pub(crate) fn lower_hardmax(&mut self, at: &Lowering, x: FId, axes: &[usize]) -> FId {
        let shape = self.shape(x);
        let (xm, perm) = self.gather_axes_last(at, x, axes);
        let pick = Pick {
            min: false,
            last: false,
        };
        let (hot, _) = self.picked_one_hot(at, xm, pick);
        let y = self.unmerge(at, hot, &shape, perm);
        self.finish(at, y, shape)
    }

    /// TopK with k = 1 over `axis`: the values (the row's extreme, by
    /// MaxPool) as `at.out_name` and the indices as `indices.out_name`
    /// (either may be unused). `sorted` is moot for one element.
    pub(crate) fn lower_top1(
        &mut self,
        at: &Lowering,
        indices: Option<&Lowering>,
        x: FId,
        axis: usize,
        largest: bool,
    ) {
        let shape = self.shape(x);
        let out_shape = Self::reduced_shape(&shape, axis, true);
        let (xm, _) = self.gather_axes_last(at, x, &[axis]);
        let pick = Pick {
            min: !largest,
            last: false,
        };
        let (hot, cmp) = self.picked_one_hot(at, xm, pick);
        let m = self.reduce_last(at, cmp, Reduce::Max);
        let values = if largest {
            m
        } else {
            let kind = FOpKind::Dense {
                w: vec![-1.0],
                b: vec![0.0],
                in_dim: 1,
                out_dim: 1,
            };
            let s = self.shape(m);
            self.emit(at, "negate", kind, vec![m], s)
        };
        self.finish(at, values, out_shape.clone());
        if let Some(ix) = indices {
            let idx = self.one_hot_index(ix, hot);
            self.finish(ix, idx, out_shape);
        }
    }
}

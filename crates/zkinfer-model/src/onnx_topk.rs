//! ONNX TopK for any `k`, lowered onto one float op, [`FOpKind::TopKOneHot`]
//! (the `k` one-hots of each row's picks, quantized by
//! [`crate::argmax::top_k_one_hots`] as `k` masked argmaxes — a pick is
//! proven exactly as ArgMax is, so no sort is needed): the axis is moved
//! last, `largest = 0` negates first (ties still resolve to the lower
//! index, as ONNX requires for both orders), the values are the one-hots'
//! batched MatMul with the row (exact: one 1 per row of the one-hot), and
//! the indices their row-wise Dense by `[0, 1, …, L−1]` (exact integers at
//! scale 1). `sorted = 0` leaves the order to the implementation: sorted
//! output is one valid order.

use crate::float::{FId, FOpKind};
use crate::onnx_import::Importer;
use crate::onnx_reduce::Lowering;

impl Importer {
    /// TopK over the per-sample `axis`: the values as `at.out_name` and the
    /// indices as `indices.out_name` (either may be unused). The caller
    /// checks `1 ≤ k ≤` the axis length.
    pub(crate) fn lower_top_k(
        &mut self,
        at: &Lowering,
        indices: Option<&Lowering>,
        x: FId,
        axis: usize,
        k: usize,
        largest: bool,
    ) {
        let shape = self.shape(x);
        let mut out_shape = shape.clone();
        out_shape[axis] = k;
        let (xm, perm) = self.gather_axes_last(at, x, &[axis]);
        let mshape = self.shape(xm);
        let l = *mshape.last().expect("non-empty");
        let cmp = if largest { xm } else { self.negated(at, xm) };
        let mut hot_shape = mshape.clone();
        hot_shape.pop();
        hot_shape.extend([k, l]);
        let hot = self.emit(at, "top_k", FOpKind::TopKOneHot { k }, vec![cmp], hot_shape);
        // [.., k, L]·[.., L, 1]: each pick's value, exactly.
        let mut column = mshape.clone();
        column.push(1);
        let xc = self.reshape(at, xm, column);
        let mut picked = mshape.clone();
        *picked.last_mut().expect("non-empty") = k;
        let mut picked_col = picked.clone();
        picked_col.push(1);
        let values = self.emit(at, "values", FOpKind::MatMul, vec![hot, xc], picked_col);
        let values = self.reshape(at, values, picked.clone());
        let values = self.unmerge(at, values, &out_shape, perm.clone());
        self.finish(at, values, out_shape.clone());
        if let Some(ix) = indices {
            let idx = self.one_hot_index(ix, hot);
            let idx = self.reshape(ix, idx, picked);
            let idx = self.unmerge(ix, idx, &out_shape, perm);
            self.finish(ix, idx, out_shape);
        }
    }
}

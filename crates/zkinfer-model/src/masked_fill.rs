//! Attention masks: `Where(mask, fill, scores)` (or `Where(keep, scores,
//! fill)`) with a constant mask (causal) or one the model computes (a padding
//! mask from a boolean input), and a uniform fill of −inf or a constant ≤
//! [`MASK_FILL_MAX`] (PyTorch's `masked_fill`) — or `scores + M` with a
//! constant `M` of zeros and one value ≤ [`ADDITIVE_MASK_MAX`] (an exported
//! Hugging Face mask) —, read by a Softmax, is a
//! masked softmax (`Importer::lower_masked_softmax`): the masked entries'
//! outputs are exactly 0, and the fill never enters the arithmetic, so the
//! scores keep their own calibrated range (a −1e4 in them would widen the exp
//! table's input by orders of magnitude).
//!
//! The Where is deferred: its result is recorded, not computed. A Softmax
//! reading it lowers the masked softmax; any other reader computes the Where
//! as before (`y + c·(x − y)`) when the fill is finite, and is refused by
//! name when it is −inf (no quantized value holds it).
//!
//! A child module of `onnx_import` (it extends the importer).

use super::*;

/// Largest fill that counts as "masked out": `exp(fill − max)` underflows
/// to 0 in f64 for any scores within 10^4 of each other.
pub(super) const MASK_FILL_MAX: f64 = -1e4;

/// Largest entry of an added constant that counts as a mask: beyond `2^24`
/// times any score's magnitude, the float32 sum is the entry itself.
pub(super) const ADDITIVE_MASK_MAX: f64 = -1e30;

/// A deferred `Where` of a constant mask.
#[derive(Clone, Debug)]
pub(super) struct MaskedFill {
    scores: FId,
    /// A condition the model computes (a 0/1 activation); `masked` and
    /// `cond` are then empty.
    cond_act: Option<FId>,
    /// One sample of the scores' layout: true where the fill is taken.
    masked: Vec<bool>,
    /// The condition broadcast to one sample (to compute the Where after all).
    cond: Vec<f64>,
    fill: f64,
    /// The fill is the Where's `X` (taken where the condition holds).
    fill_is_x: bool,
    node: String,
    /// An additive mask the model computes, `Where(cond, fill, 0)` (or
    /// `Where(cond, 0, fill)`), still waiting for the scores an `Add` brings:
    /// `scores` is then `cond_act`'s.
    scores_pending: bool,
}

impl Importer {
    /// Defers a `Where` of that form; `None` for any other.
    pub(super) fn defer_masked_fill(&mut self, cx: &lowering::NodeCx) -> Option<Result<()>> {
        let node = cx.node;
        if node.input.len() != 3 {
            return None;
        }
        let cond_act = self.values.get(&node.input[0]).copied();
        let cond_const = self.consts.get(&node.input[0]);
        if cond_act.is_none() && cond_const.is_none() {
            return None;
        }
        let fill_is_x = match (
            self.consts.get(&node.input[1]),
            self.consts.get(&node.input[2]),
        ) {
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => {
                let (x, y) = (x.clone(), y.clone());
                return self.defer_computed_additive_mask(cx, cond_act?, &x, &y);
            }
            _ => return None,
        };
        let (fill_slot, scores_slot) = if fill_is_x { (1, 2) } else { (2, 1) };
        let scores = *self.values.get(&node.input[scores_slot])?;
        let fill_c = self.consts.get(&node.input[fill_slot])?;
        let fill = *fill_c.data.first()?;
        if !(fill <= MASK_FILL_MAX && fill_c.data.iter().all(|&v| v == fill)) {
            return None;
        }
        let shape = self.tensors[scores].shape.clone();
        // The condition and the fill must broadcast into the scores' shape (no larger output).
        whole_sample(fill_c, &shape)?;
        let (cond, masked) = match (cond_act, cond_const) {
            (Some(c), _) => {
                let cs = self.tensors[c].shape.clone();
                if crate::onnx_reduce::broadcast_shape(&cs, &shape).as_ref() != Some(&shape)
                    || (cs.len() != shape.len() && self.batch > 1)
                {
                    return None;
                }
                (Vec::new(), Vec::new())
            }
            (None, Some(c)) => {
                let cond = whole_sample(c, &shape)?;
                let masked = cond.iter().map(|&c| (c != 0.0) == fill_is_x).collect();
                (cond, masked)
            }
            (None, None) => return None,
        };
        let out = node.output.first()?.clone();
        self.masked.insert(
            out,
            MaskedFill {
                scores,
                cond_act,
                masked,
                cond,
                fill,
                fill_is_x,
                node: cx.name.to_string(),
                scores_pending: false,
            },
        );
        Some(Ok(()))
    }

    /// Defers `Where(cond, fill, 0)` (or `Where(cond, 0, fill)`) of a
    /// condition the model computes and a fill ≤ [`ADDITIVE_MASK_MAX`]: an
    /// additive mask (Hugging Face's padding mask), which an `Add` to the
    /// scores turns into a masked fill ([`Importer::use_masked_fill`]).
    fn defer_computed_additive_mask(
        &mut self,
        cx: &lowering::NodeCx,
        cond: FId,
        x: &Const,
        y: &Const,
    ) -> Option<Result<()>> {
        let uniform = |c: &Const| {
            let v = *c.data.first()?;
            c.data.iter().all(|&w| w == v).then_some(v)
        };
        let (fill, fill_is_x) = match (uniform(x)?, uniform(y)?) {
            (f, 0.0) if f <= ADDITIVE_MASK_MAX => (f, true),
            (0.0, f) if f <= ADDITIVE_MASK_MAX => (f, false),
            _ => return None,
        };
        let out = cx.node.output.first()?.clone();
        self.masked.insert(
            out,
            MaskedFill {
                scores: cond,
                cond_act: Some(cond),
                masked: Vec::new(),
                cond: Vec::new(),
                fill,
                fill_is_x,
                node: cx.name.to_string(),
                scores_pending: true,
            },
        );
        Some(Ok(()))
    }

    /// Defers `Add(scores, M)` (either order) with a constant `M` whose
    /// entries are 0 or one value ≤ [`ADDITIVE_MASK_MAX`] (Hugging Face's
    /// exported attention masks add `finfo.min`): in float32 such an entry
    /// absorbs any score, so the sum is exactly `Where(M ≠ 0, fill, scores)`
    /// and is deferred as that Where. `None` for any other Add.
    pub(super) fn defer_additive_mask(&mut self, cx: &lowering::NodeCx) -> Option<Result<()>> {
        let node = cx.node;
        if node.input.len() != 2 {
            return None;
        }
        let (scores, mask) = match (
            self.values.get(&node.input[0]),
            self.consts.get(&node.input[1]),
            self.values.get(&node.input[1]),
            self.consts.get(&node.input[0]),
        ) {
            (Some(&s), Some(m), _, _) | (_, _, Some(&s), Some(m)) => (s, m),
            _ => return None,
        };
        let fill = mask.data.iter().copied().fold(0.0, f64::min);
        if !(fill <= ADDITIVE_MASK_MAX && mask.data.iter().all(|&v| v == 0.0 || v == fill)) {
            return None;
        }
        let shape = self.tensors[scores].shape.clone();
        let cond = whole_sample(mask, &shape)?;
        let masked: Vec<bool> = cond.iter().map(|&v| v != 0.0).collect();
        let out = node.output.first()?.clone();
        self.masked.insert(
            out,
            MaskedFill {
                scores,
                cond_act: None,
                cond: masked.iter().map(|&m| f64::from(u8::from(m))).collect(),
                masked,
                fill,
                fill_is_x: true,
                node: cx.name.to_string(),
                scores_pending: false,
            },
        );
        Some(Ok(()))
    }

    /// A node reading deferred masked fills: a Softmax lowers the masked
    /// softmax (`Some`); any other node has each finite one computed as the
    /// Where it is and proceeds as usual (`None`), and is refused for a −inf
    /// one.
    pub(super) fn use_masked_fill(&mut self, cx: &lowering::NodeCx) -> Option<Result<()>> {
        let node = cx.node;
        let read: Vec<String> = node
            .input
            .iter()
            .filter(|n| self.masked.contains_key(*n))
            .cloned()
            .collect();
        if read.is_empty() {
            return None;
        }
        let bad = |reason: String| ModelError::UnsupportedAttr {
            op: cx.op.to_string(),
            node: cx.name.to_string(),
            index: cx.index,
            reason,
        };
        let pending = |s: &Self, n: &String| s.masked.get(n).is_some_and(|m| m.scores_pending);
        if cx.op == "Add" && read.len() == 1 && pending(self, &read[0]) && node.input.len() == 2 {
            let other = node.input.iter().find(|n| **n != read[0])?;
            if let (Some(&scores), Some(out)) = (self.values.get(other), node.output.first()) {
                let shape = self.tensors[scores].shape.clone();
                // Kept for the other layers' Adds (one mask serves them all).
                let mf = self.masked[&read[0]].clone();
                let cs = self.tensors[mf.scores].shape.clone();
                if crate::onnx_reduce::broadcast_shape(&cs, &shape).as_ref() != Some(&shape)
                    || (cs.len() != shape.len() && self.batch > 1)
                {
                    return Some(Err(bad(format!(
                        "the additive mask `{}` does not broadcast to the scores {shape:?}",
                        read[0]
                    ))));
                }
                let mf = MaskedFill {
                    scores,
                    scores_pending: false,
                    ..mf
                };
                self.masked.insert(out.clone(), mf);
                return Some(Ok(()));
            }
        }
        if cx.op == "Softmax" && node.input.first() == read.first() && !pending(self, &read[0]) {
            return Some(self.masked_softmax(cx, &read[0]).map_err(bad));
        }
        for name in read {
            let mf = self.masked.remove(&name).expect("listed");
            // No quantized value holds −inf or a float32 minimum.
            if !mf.fill.is_finite() || mf.fill <= ADDITIVE_MASK_MAX {
                return Some(Err(bad(format!(
                    "input `{name}` is filled with {} where masked (node `{}`); only a Softmax may read it",
                    mf.fill, mf.node
                ))));
            }
            let at = Lowering {
                node: &mf.node,
                op_type: "Where",
                out_name: &name,
            };
            let n = self.tensors[mf.scores].len();
            let c = match mf.cond_act {
                Some(c) => c,
                None => self.constant_like(&at, mf.scores, mf.cond.clone()),
            };
            let f = self.constant_like(&at, mf.scores, vec![mf.fill; n]);
            let (x, y) = if mf.fill_is_x {
                (f, mf.scores)
            } else {
                (mf.scores, f)
            };
            let shape = self.tensors[mf.scores].shape.clone();
            match self.select_where(&at, c, x, y) {
                Ok(w) => {
                    self.name_result(&at, w, shape);
                }
                Err(e) => return Some(Err(bad(e))),
            }
        }
        None
    }

    /// The Softmax node `cx` over the deferred masked fill `name`.
    fn masked_softmax(
        &mut self,
        cx: &lowering::NodeCx,
        name: &str,
    ) -> std::result::Result<(), String> {
        let mf = self.masked.get(name).expect("listed").clone();
        let xs = self.tensors[mf.scores].shape.clone();
        let r = xs.len() as i64;
        let mut axis = attr_i(cx.node, "axis", if self.opset < 13 { 1 } else { -1 });
        if axis < 0 {
            axis += r;
        }
        if !(0..r).contains(&axis) {
            return Err(format!("axis {axis} out of range for {xs:?}"));
        }
        // Before opset 13 the input is coerced to 2-D at `axis`.
        let axes: Vec<usize> = if self.opset < 13 {
            (axis as usize..xs.len()).collect()
        } else {
            vec![axis as usize]
        };
        if axes.contains(&0) && self.batch > 1 {
            return Err("Softmax over the batch axis mixes samples".into());
        }
        let axes: Vec<usize> = axes.into_iter().filter(|&a| a != 0).collect();
        if axes.is_empty() {
            return Err("a softmax over the batch axis alone is not supported".into());
        }
        let out = cx.node.output.first().cloned().unwrap_or_default();
        let at = Lowering {
            node: cx.name,
            op_type: cx.op,
            out_name: &out,
        };
        if let Some(c) = mf.cond_act {
            if axes != [xs.len() - 1] {
                return Err(
                    "a mask computed by the model is supported for a softmax over the last axis"
                        .into(),
                );
            }
            // Kept where the fill is not taken: `c` for Where(c, x, fill), else `not c`.
            let keep = if mf.fill_is_x {
                self.compare(&at, c, CmpOp::Eq)
            } else {
                c
            };
            return self
                .lower_masked_softmax_by(&at, mf.scores, keep)
                .map(|_| ());
        }
        let keep: Vec<bool> = mf.masked.iter().map(|&m| !m).collect();
        self.lower_masked_softmax(&at, mf.scores, &axes, &keep)
            .map(|_| ())
    }
}

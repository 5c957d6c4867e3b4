//! The one-hot of the *first* maximum along a tensor's last axis, built only
//! from integer ops the prover already proves (Requant, Add, MaxPool, Select,
//! Lut) — no new relation and no weights, so a head built from it leaves the
//! model's weight commitment, and so its id, unchanged. Used by the accuracy
//! statement ([`crate::accuracy`]) and by ONNX ArgMax-like operators.
//!
//! Exact for any bound: the MaxPool argument range-checks differences in 16
//! bits, so a wide value is compared digit by digit, most significant first.
//! `x = Σ_j d_j·2^(s_j)` with balanced digits `|d_j| ≤ 2^12` (each a
//! rounding Requant of the remainder); after digit `j` the positions still
//! tied with the maximum are `E_j = [v_j = max v_j]`, with
//! `v_j = d_j + 2^14·E_{j−1}` lifting the tied positions above all others.
//! `E_last` marks every position equal to the maximum of `x`. The first of
//! them is where the prefix count `P` of `E` reaches 1 with `E = 1`, i.e.
//! where `2P − E = 1`.

use crate::error::{ModelError, Result};
use crate::ir::{QOp, TensorId, TensorInfo, VALUE_BOUND};

/// Digits stay within `±DIGIT_CLAMP` (their Requant clamp); `|d| ≤ 2^12` in fact.
const DIGIT_CLAMP: i64 = 1 << 13;
/// The lift of tied positions: above any digit, and `DIGIT_CLAMP + LIFT`
/// stays below the MaxPool input bound `2^15`.
const LIFT: i64 = 1 << 14;
/// A tensor this small is compared directly (no digit split).
const DIRECT_BOUND: i64 = 3 * (1 << 13);
/// Largest MaxPool window of a row maximum.
const MAX_FAN_IN: usize = 16;
/// Bits per digit step: remainders shrink by this many bits per digit.
const DIGIT_BITS: u32 = 12;

/// Appends ops to a model's tensor and op lists.
pub struct OpSink<'a> {
    pub tensors: &'a mut Vec<TensorInfo>,
    pub ops: &'a mut Vec<QOp>,
    /// Prefix of the new tensors' names (for messages).
    pub name: String,
}

impl OpSink<'_> {
    fn tensor(&mut self, step: &str, shape: &[usize], scale: f64, bound: i64) -> TensorId {
        self.tensors.push(TensorInfo {
            name: format!("{}/{step}", self.name),
            shape: shape.to_vec(),
            scale,
            bound,
        });
        self.tensors.len() - 1
    }

    fn requant(&mut self, x: TensorId, shift: u32, min: i64, max: i64, step: &str) -> TensorId {
        let shape = self.tensors[x].shape.clone();
        let scale = self.tensors[x].scale * 2f64.powi(shift as i32);
        let out = self.tensor(step, &shape, scale, min.abs().max(max.abs()));
        self.ops.push(QOp::Requant {
            input: x,
            output: out,
            multiplier: 1,
            shift,
            min,
            max,
        });
        out
    }

    /// `a·a_mul + b·b_mul`, at `a`'s scale.
    fn add(&mut self, a: TensorId, b: TensorId, a_mul: i64, b_mul: i64, step: &str) -> TensorId {
        let (ta, tb) = (&self.tensors[a], &self.tensors[b]);
        // Saturating: a bound that reaches 2^62 is reported by `validate`.
        let bound = ta
            .bound
            .saturating_mul(a_mul.abs())
            .saturating_add(tb.bound.saturating_mul(b_mul.abs()));
        let (shape, scale) = (ta.shape.clone(), ta.scale);
        let out = self.tensor(step, &shape, scale, bound);
        self.ops.push(QOp::Add {
            a,
            b,
            output: out,
            a_mul,
            b_mul,
        });
        out
    }

    /// `table[x − in_min]` for a 0/1-valued table (scale 1).
    fn table(&mut self, x: TensorId, in_min: i64, table: Vec<i64>, func: &str) -> TensorId {
        let shape = self.tensors[x].shape.clone();
        let out = self.tensor(func, &shape, 1.0, 1);
        self.ops.push(QOp::Lut {
            input: x,
            output: out,
            in_min,
            table,
            func: func.to_string(),
        });
        out
    }

    fn select(&mut self, x: TensorId, shape: &[usize], source: Vec<i64>, step: &str) -> TensorId {
        let (scale, bound) = (self.tensors[x].scale, self.tensors[x].bound);
        let out = self.tensor(step, shape, scale, bound);
        self.ops.push(QOp::Select {
            input: x,
            output: out,
            source,
        });
        out
    }

    /// `[v = max of its row]` (0/1) for `|v| < 2^15`.
    fn is_row_max(&mut self, v: TensorId, rows: usize, len: usize) -> TensorId {
        let shape = self.tensors[v].shape.clone();
        let max = self.row_max(v, rows, len);
        let source = (0..rows * len).map(|i| (i / len) as i64).collect();
        let spread = self.select(max, &shape, source, "row_max_spread");
        let below = self.add(v, spread, 1, -1, "below_max");
        // −1 where below the maximum, 0 at it.
        let sign = self.requant(below, 0, -1, 0, "below_sign");
        self.tensors[sign].scale = 1.0;
        self.table(sign, -1, vec![0, 1], "is_max")
    }

    /// The maximum of each row of `v` (`[1, rows, 1]`), by a tree of
    /// MaxPools of fan-in at most [`MAX_FAN_IN`] (the MaxPool argument's
    /// degree grows with its window); a row whose length the fan-in does not
    /// divide is first extended by copies of its first element.
    pub(crate) fn row_max(&mut self, v: TensorId, rows: usize, len: usize) -> TensorId {
        let (scale, bound) = (self.tensors[v].scale, self.tensors[v].bound);
        let mut cur = self.tensor("rows", &[1, rows, len], scale, bound);
        self.ops.push(QOp::Reshape {
            input: v,
            output: cur,
        });
        let mut len = len;
        loop {
            let fan = len.min(MAX_FAN_IN);
            let padded = len.div_ceil(fan) * fan;
            if padded != len {
                let source = (0..rows * padded)
                    .map(|i| {
                        let (r, c) = (i / padded, i % padded);
                        (r * len + if c < len { c } else { 0 }) as i64
                    })
                    .collect();
                cur = self.select(cur, &[1, rows, padded], source, "max_fill");
            }
            let out_len = padded / fan;
            let max = self.tensor("row_max", &[1, rows, out_len], scale, bound);
            self.ops.push(QOp::MaxPool {
                input: cur,
                output: max,
                kernel: [1, fan],
                strides: [1, fan],
                pads: [0; 4],
            });
            if out_len == 1 {
                return max;
            }
            (cur, len) = (max, out_len);
        }
    }

    /// Inclusive prefix sums of a 0/1 tensor along its rows, by doubling:
    /// `P += P shifted by 2^j` (zero-filled) for `2^j < len`.
    fn prefix_count(&mut self, e: TensorId, rows: usize, len: usize) -> TensorId {
        let shape = self.tensors[e].shape.clone();
        let mut p = e;
        let mut step = 1usize;
        while step < len {
            let source = (0..rows * len)
                .map(|i| {
                    if i % len >= step {
                        (i - step) as i64
                    } else {
                        -1
                    }
                })
                .collect();
            let shifted = self.select(p, &shape, source, "prefix_shift");
            p = self.add(p, shifted, 1, 1, "prefix");
            step *= 2;
        }
        p
    }
}

/// Appends the ops computing the 0/1 one-hot (scale 1) of the first maximum
/// along the last axis of `x`, and returns it.
pub fn first_max_one_hot(sink: &mut OpSink, x: TensorId) -> Result<TensorId> {
    let shape = sink.tensors[x].shape.clone();
    let len = *shape.last().unwrap_or(&1);
    let total: usize = shape.iter().product();
    if len == 0 || total == 0 {
        return Err(ModelError::Invalid(format!(
            "`{}`: an argmax over an empty axis",
            sink.name
        )));
    }
    let rows = total / len;
    let bound = sink.tensors[x].bound;
    if !(0..VALUE_BOUND).contains(&bound) {
        return Err(ModelError::Invalid(format!(
            "`{}`: bound {bound} outside [0, 2^62)",
            sink.name
        )));
    }
    let ties = if bound <= DIRECT_BOUND {
        sink.is_row_max(x, rows, len)
    } else {
        tied_with_max(sink, x, rows, len)
    };
    let count = sink.prefix_count(ties, rows, len);
    // 2P − E is 1 exactly at the first tied position; clamped to [0, 2].
    let key = sink.add(count, ties, 2, -1, "first_key");
    let key = sink.requant(key, 0, 0, 2, "first_key_clamped");
    sink.tensors[key].scale = 1.0;
    Ok(sink.table(key, 0, vec![0, 1, 0], "first_max"))
}

/// Appends the ops computing the one-hots of the `k` largest entries of each
/// row of `x` (`[.., L]` → `[.., k, L]`, 0/1 at scale 1), largest first and
/// of tied values the lower index first (ONNX TopK). Selection `i + 1` is the
/// first maximum of `x` with the `i` rows already picked pushed below every
/// entry (`x − (2B + 1)·h`, `B` the bound of `x`): exact integer ops, so
/// each pick is proven by the same relations as one argmax — no sort.
pub fn top_k_one_hots(sink: &mut OpSink, x: TensorId, k: usize) -> Result<TensorId> {
    let shape = sink.tensors[x].shape.clone();
    let len = *shape.last().unwrap_or(&1);
    let total: usize = shape.iter().product();
    if k == 0 || k > len {
        return Err(ModelError::Invalid(format!(
            "`{}`: top {k} of a row of {len}",
            sink.name
        )));
    }
    let bound = sink.tensors[x].bound;
    // A picked entry lands in [−3B − 1, −B − 1], below every unpicked one;
    // the static bound of the masked tensor grows by 2B + 1 per pick.
    let drop = bound.saturating_mul(2).saturating_add(1);
    if drop.saturating_mul(k as i64).saturating_add(bound) >= VALUE_BOUND {
        return Err(ModelError::Invalid(format!(
            "`{}`: bound {bound} too wide for a top {k}",
            sink.name
        )));
    }
    let rows = total / len.max(1);
    let mut hots = Vec::with_capacity(k);
    let mut cur = x;
    for i in 0..k {
        let h = first_max_one_hot(sink, cur)?;
        hots.push(h);
        if i + 1 < k {
            cur = sink.add(cur, h, 1, -drop, "top_k_masked");
        }
    }
    let mut out_shape = shape[..shape.len() - 1].to_vec();
    out_shape.extend([k, len]);
    let mut stacked: Option<TensorId> = None;
    for (i, &h) in hots.iter().enumerate() {
        let source = (0..rows * k * len)
            .map(|p| {
                let (r, pick, j) = (p / (k * len), p / len % k, p % len);
                if pick == i {
                    (r * len + j) as i64
                } else {
                    -1
                }
            })
            .collect();
        let placed = sink.select(h, &out_shape, source, "top_k_place");
        stacked = Some(match stacked {
            None => placed,
            Some(acc) => sink.add(acc, placed, 1, 1, "top_k_stack"),
        });
    }
    Ok(stacked.expect("k ≥ 1"))
}

/// `[x = max of its row]` for a wide `x`, digit by digit (module docs).
fn tied_with_max(sink: &mut OpSink, x: TensorId, rows: usize, len: usize) -> TensorId {
    let bits = 64 - sink.tensors[x].bound.leading_zeros();
    let mut shift = bits.saturating_sub(DIGIT_BITS);
    let mut rest = x;
    let mut ties: Option<TensorId> = None;
    loop {
        let digit = sink.requant(rest, shift, -DIGIT_CLAMP, DIGIT_CLAMP, "digit");
        let lifted = match ties {
            Some(e) => sink.add(digit, e, 1, LIFT, "lifted_digit"),
            None => digit,
        };
        ties = Some(sink.is_row_max(lifted, rows, len));
        if shift == 0 {
            break;
        }
        // The remainder `rest − digit·2^shift` lies in [−2^(shift−1), 2^(shift−1)].
        // (its static bound stays the looser `bound(rest) + 2^(shift+13)`).
        rest = sink.add(rest, digit, 1, -(1i64 << shift), "remainder");
        shift = shift.saturating_sub(DIGIT_BITS);
    }
    ties.expect("at least one digit")
}

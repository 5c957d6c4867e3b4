//! How a `Requant` is proven without tables that grow with its window.
//!
//! `x·m + 2^(s−1) = q·2^s + Σ_j 2^(bj) r_j` with remainder limbs `r_j` in a
//! range table, and `q = y + Σ_j 2^(b'j) e_j` with signed excess limbs `e_j`
//! looked up together with the clamped output: either `(e_j, y)` in a clamp
//! table (`TableKey::Clamp`), or — for a clamp range exactly `2^k` wide —
//! `(e_j, hi)` and `(e_j, lo)` in half-width saturation tables
//! (`TableKey::Saturate`) with `y = min + 2^lo_bits·hi + lo` checked at a
//! random point. A positive limb forces the maximum, a negative one the
//! minimum, so `y = clamp(q)` for any `q` within `2^EXCESS_BITS` of the range.
//! Limb widths and the split-or-direct choice come from a cost estimate over
//! the model structure, so prover and verifier agree.

use zkinfer_model::ir::{QOp, QuantModel};
use zkinfer_protocol::field::{f_from_i64, Field, PrimeCharacteristicRing, F};
use zkinfer_protocol::EF;

use crate::layout::pow2;

/// `(remainder, excess)` limb widths the layout chooses from (see [`choose_limb_bits`]).
pub const LIMB_BITS_CHOICES: [LimbBits; 3] = [
    LimbBits {
        remainder: 8,
        excess: 8,
    },
    LimbBits {
        remainder: 12,
        excess: 12,
    },
    LimbBits {
        remainder: 16,
        excess: 12,
    },
];

/// Limb widths of requant remainders (and of the shared range table) and of
/// the signed excess limbs (and of the clamp tables' excess rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimbBits {
    pub remainder: u32,
    pub excess: u32,
}
/// A requant's pre-clamp quotient exceeds its clamp range by less than `2^EXCESS_BITS`.
pub const EXCESS_BITS: u32 = zkinfer_model::ir::REQUANT_EXCESS_BITS;
/// How one `Requant` is proven. With `b` = [`Layout::limb_bits`]:
/// `x·m + 2^(s−1) = q·2^s + Σ_j 2^(bj) r_j` (remainder limbs, range-checked)
/// and `q = y + Σ_j 2^(bj) e_j`, where each signed excess limb `e_j` is looked
/// up together with `y` in the clamp table: a nonzero positive limb forces
/// `y = max`, a negative one `y = min`, so `y = clamp(q)` for any `q` in the
/// window, and no table grows with the window.
#[derive(Clone, Debug)]
pub struct RequantLayout {
    pub y_poly: usize,
    /// Little-endian signed limbs of the excess `q − y`.
    pub excess_polys: Vec<usize>,
    /// Little-endian limbs of the remainder.
    pub limb_polys: Vec<usize>,
    /// Bits of the top remainder limb (1..=limb_bits).
    pub top_bits: u32,
    /// For a wide clamp range `[min, max]` of width `2^k`: `y − min` in two
    /// committed parts, each looked up with every excess limb in a
    /// [`TableKey::Saturate`] table instead of `(e_j, y)` in a `2^k`-row clamp
    /// table.
    pub split: Option<ClampSplit>,
}

/// `y = min + 2^lo_bits·hi + lo`, with `hi < 2^hi_bits`, `lo < 2^lo_bits`:
/// every excess limb is looked up with `hi` and with `lo`, so a positive limb
/// forces both to their maximum (`y = max`), a negative one both to zero
/// (`y = min`). The verifier checks the sum at the requant's random point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClampSplit {
    pub hi_poly: usize,
    pub lo_poly: usize,
    pub hi_bits: u32,
    pub lo_bits: u32,
}

/// Rows `(e, y)` of [`TableKey::Clamp`].
pub(crate) fn clamp_rows(min: i64, max: i64, limb_bits: u32) -> impl Iterator<Item = (i64, i64)> {
    let top = 1i64 << limb_bits;
    (min..=max)
        .map(|y| (0, y))
        .chain((1..top).map(move |e| (e, max)))
        .chain((1..top).map(move |e| (-e, min)))
}

/// Rows `(e, u)` of [`TableKey::Saturate`].
pub(crate) fn saturate_rows(bits: u32, limb_bits: u32) -> impl Iterator<Item = (i64, i64)> {
    let top = 1i64 << limb_bits;
    let full = (1i64 << bits) - 1;
    (0..=full)
        .map(|u| (0, u))
        .chain((1..top).map(move |e| (e, full)))
        .chain((1..top).map(move |e| (-e, 0)))
}

/// Lookup rows of a table with `n` rows once padded.
fn padded_rows(n: u128) -> u128 {
    n.next_power_of_two()
}

/// `(min, max, Some((hi_bits, lo_bits)))` for a clamp range checked split.
pub(crate) type ClampChoice = (i64, i64, Option<(u32, u32)>);

/// Per distinct clamp range `(min, max)` of the model's requants: whether it
/// is checked split ([`ClampSplit`]: `Some((hi_bits, lo_bits))`) or directly
/// against a clamp table — whichever costs fewer lookup rows and committed
/// columns. Only ranges exactly `2^k` wide can be split.
pub(crate) fn clamp_splits(model: &QuantModel, exc_bits: u32) -> Vec<ClampChoice> {
    let n_excess = EXCESS_BITS.div_ceil(exc_bits) as u128;
    let mut ranges: Vec<(i64, i64, u128)> = Vec::new();
    for op in &model.ops {
        if let QOp::Requant {
            output, min, max, ..
        } = op
        {
            let len = model.tensors[*output].len() as u128;
            match ranges.iter_mut().find(|r| (r.0, r.1) == (*min, *max)) {
                Some(r) => r.2 += len,
                None => ranges.push((*min, *max, len)),
            }
        }
    }
    let excess_rows = 2u128 << exc_bits;
    ranges
        .into_iter()
        .map(|(min, max, len)| {
            let width = (max as i128 - min as i128 + 1).max(1) as u128;
            // Both parts at least one bit wide, so each is range-checked.
            let split = (width.is_power_of_two() && width >= 4).then(|| {
                let k = width.trailing_zeros();
                (k - k / 2, k / 2)
            });
            let split = split.filter(|&(hi, lo)| {
                let direct = padded_rows(width + excess_rows) + 2 * len * n_excess;
                let tables = padded_rows((1 << hi) + excess_rows)
                    + if lo != hi {
                        padded_rows((1 << lo) + excess_rows)
                    } else {
                        0
                    };
                // Two more columns, and every excess limb is looked up twice.
                tables + len * (3 * n_excess + 2) < direct
            });
            (min, max, split)
        })
        .collect()
}

/// The limb widths that minimise the lookup work of the model's requants:
/// narrow limbs keep tables tiny (what small models pay for), wide limbs mean
/// fewer committed columns and lookups per element (what large models pay
/// for). Derived from the structure alone, so prover and verifier agree.
pub fn choose_limb_bits(model: &QuantModel) -> LimbBits {
    let cost = |b: LimbBits| -> u128 {
        let mut rows: u128 = 1 << b.remainder;
        let mut clamps: Vec<(i64, i64)> = Vec::new();
        for op in &model.ops {
            if let QOp::Requant {
                output,
                shift,
                min,
                max,
                ..
            } = op
            {
                let columns = shift.div_ceil(b.remainder) + EXCESS_BITS.div_ceil(b.excess);
                let lookups = columns + u32::from(shift % b.remainder != 0);
                let len = model.tensors[*output].len() as u128;
                rows += len * (columns + lookups) as u128;
                if !clamps.contains(&(*min, *max)) {
                    clamps.push((*min, *max));
                    let width = (*max as i128 - *min as i128 + 1).max(1) as u128;
                    rows += (width + (2u128 << b.excess)).next_power_of_two();
                }
            }
        }
        rows
    };
    LIMB_BITS_CHOICES
        .into_iter()
        .min_by_key(|&b| cost(b))
        .expect("choices are not empty")
}

/// A requant's evaluations at one point (see [`crate::layout::RequantLayout`]).
pub(crate) struct RequantEvals<'a> {
    pub y: EF,
    pub excess: &'a [EF],
    pub limbs: &'a [EF],
    /// `[hi, lo]` of a split clamp, else empty.
    pub split: &'a [EF],
}

/// `Σ_j 2^(bj) v_j`: a little-endian limb combination.
fn combine_limbs(limbs: &[EF], limb_bits: u32) -> EF {
    limbs
        .iter()
        .rev()
        .fold(EF::ZERO, |acc, &l| acc * EF::from(pow2(limb_bits)) + l)
}

/// From `q = y + Σ_j 2^(bj) e_j` and `x·m + 2^(s-1) = q·2^s + Σ_j 2^(bj) r_j`:
/// the input's evaluation at the same point.
pub(crate) fn requant_input_eval(ev: &RequantEvals, bits: LimbBits, m: i64, s: u32) -> EF {
    let q = ev.y + combine_limbs(ev.excess, bits.excess);
    let mut t = q * EF::from(pow2(s)) + combine_limbs(ev.limbs, bits.remainder);
    if s > 0 {
        t -= EF::from(pow2(s - 1));
    }
    let m_inv = f_from_i64(m).inverse();
    t * EF::from(m_inv)
}

/// A committed polynomial's index and values.
pub(crate) type Column = (usize, Vec<F>);

/// The committed columns of one requant besides its output, as
/// `(polynomial, values)`: excess limbs, remainder limbs and split parts.
/// `xs`, `ys` are the input and output in their padded arrangement.
/// Fails with `(element, q)` where the pre-clamp value leaves the window.
pub(crate) fn witness(
    rl: &RequantLayout,
    bits: LimbBits,
    (multiplier, shift, min): (i64, u32, i64),
    xs: &[i64],
    ys: &[i64],
) -> Result<Vec<Column>, (usize, i128)> {
    let (rmask, emask) = ((1u64 << bits.remainder) - 1, (1u64 << bits.excess) - 1);
    let n = xs.len();
    let mut excess = vec![Vec::with_capacity(n); rl.excess_polys.len()];
    let mut limbs = vec![Vec::with_capacity(n); rl.limb_polys.len()];
    for (k, (&x, &y)) in xs.iter().zip(ys).enumerate() {
        let t = x as i128 * multiplier as i128 + if shift > 0 { 1i128 << (shift - 1) } else { 0 };
        let q = t >> shift;
        let e = q - y as i128;
        if e.unsigned_abs() >> EXCESS_BITS != 0 {
            return Err((k, q));
        }
        let r = (t - (q << shift)) as u64;
        let (sign, mag) = (e.signum() as i64, e.unsigned_abs() as u64);
        for (j, l) in excess.iter_mut().enumerate() {
            l.push(f_from_i64(
                sign * ((mag >> (bits.excess * j as u32)) & emask) as i64,
            ));
        }
        for (j, l) in limbs.iter_mut().enumerate() {
            l.push(F::from_u64((r >> (bits.remainder * j as u32)) & rmask));
        }
    }
    let mut columns: Vec<Column> = rl.excess_polys.iter().copied().zip(excess).collect();
    columns.extend(rl.limb_polys.iter().copied().zip(limbs));
    if let Some(sp) = rl.split {
        let lo_mask = (1i64 << sp.lo_bits) - 1;
        let (his, los) = ys
            .iter()
            .map(|&y| {
                let u = y - min;
                (
                    F::from_u64((u >> sp.lo_bits) as u64),
                    F::from_u64((u & lo_mask) as u64),
                )
            })
            .unzip();
        columns.push((sp.hi_poly, his));
        columns.push((sp.lo_poly, los));
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::{clamp_rows, saturate_rows};

    /// A split clamp: limbs admitted with both parts of `y − min` give
    /// `y = clamp(q)` (soundness); every `q` in the window has such limbs.
    #[test]
    fn saturate_tables_admit_exactly_the_clamp() {
        let (b, hi_bits, lo_bits) = (2, 2, 1);
        let (min, max) = (-5i64, -5 + (1 << (hi_bits + lo_bits)) - 1);
        let hi_rows: Vec<(i64, i64)> = saturate_rows(hi_bits, b).collect();
        let lo_rows: Vec<(i64, i64)> = saturate_rows(lo_bits, b).collect();
        let admitted =
            |e: i64, hi: i64, lo: i64| hi_rows.contains(&(e, hi)) && lo_rows.contains(&(e, lo));
        let limbs: Vec<i64> = (-(1 << b) + 1..1 << b).collect();
        for hi in 0..1 << hi_bits {
            for lo in 0..1 << lo_bits {
                let y = min + (hi << lo_bits) + lo;
                for &e0 in &limbs {
                    for &e1 in &limbs {
                        if admitted(e0, hi, lo) && admitted(e1, hi, lo) {
                            let q = y + e0 + (e1 << b);
                            assert_eq!(y, q.clamp(min, max), "y={y} e=({e0},{e1})");
                        }
                    }
                }
            }
        }
        let window = 1i64 << (2 * b);
        for q in min - window + 1..max + window {
            let y = q.clamp(min, max);
            let (u, sign, mag) = (y - min, (q - y).signum(), (q - y).abs());
            let (hi, lo) = (u >> lo_bits, u & ((1 << lo_bits) - 1));
            for e in [sign * (mag & 3), sign * (mag >> b)] {
                assert!(admitted(e, hi, lo), "q={q}");
            }
        }
    }

    /// Any limbs the clamp table admits together with one `y` give
    /// `y = clamp(y + Σ 2^(bj) e_j)` (soundness), and every `q` in the window
    /// has such limbs (completeness).
    #[test]
    fn clamp_table_admits_exactly_the_clamp() {
        let b = 2;
        for (min, max) in [(-3, 5), (0, 7), (4, 4), (-8, -2)] {
            let rows: Vec<(i64, i64)> = clamp_rows(min, max, b).collect();
            for y in min..=max {
                let limbs: Vec<i64> = rows.iter().filter(|r| r.1 == y).map(|r| r.0).collect();
                for &e0 in &limbs {
                    for &e1 in &limbs {
                        let q = y + e0 + (e1 << b);
                        assert_eq!(y, q.clamp(min, max), "({min},{max}) y={y} e=({e0},{e1})");
                    }
                }
            }
            let window = 1i64 << (2 * b);
            for q in min - window + 1..max + window {
                let y = q.clamp(min, max);
                let (sign, mag) = ((q - y).signum(), (q - y).abs());
                let limbs = [sign * (mag & 3), sign * (mag >> b)];
                assert!(limbs.iter().all(|&e| rows.contains(&(e, y))), "q={q}");
            }
        }
    }
}

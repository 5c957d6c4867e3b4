//! How a `Requant` is proven without tables that grow with its window.
//!
//! `x·m + 2^(s−1) = q·2^s + Σ_j 2^(bj) r_j` with remainder limbs `r_j` in a
//! range table, and `q = y + Σ_j 2^(b'j) e_j` with signed excess limbs `e_j`
//! looked up together with the clamped output: either `(e_j, y − min)` in
//! the clamp table of the range's width (`TableKey::Clamp`, shared by every
//! range of that width), or — for a clamp range exactly `2^k` wide —
//! `(e_j, hi)` and `(e_j, lo)` in half-width saturation tables
//! (`TableKey::Saturate`) with `y = min + 2^lo_bits·hi + lo` checked at a
//! random point. A positive limb forces the maximum, a negative one the
//! minimum, so `y = clamp(q)` for any `q` within `2^EXCESS_BITS` of the range.
//! Limb widths and the split-or-direct choice come from a cost estimate over
//! the model structure, so prover and verifier agree.

use zkinfer_model::eval::requant_quotient;
use zkinfer_model::ir::{
    QOp, QuantModel, TensorId, CLAMP_BITS, MAX_REQUANT_MULTIPLIER, MAX_REQUANT_SHIFT,
};
use zkinfer_protocol::field::{f_from_i64, Field, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::evaluate_base;
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::sumcheck::{Mle, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::{
    random_point_bits, ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx,
    VerifierCtx, WitnessCtx,
};
use crate::claims::ClaimBook;
use crate::error::ProveError;
use crate::layout::{col, Layout, LayoutBuilder, TableKey};
use crate::zk::{TensorRead, ZkCheck, ZkProverCtx, ZkStep, ZkVerifierCtx};

/// Round degree of the zero-knowledge zero-check: `eq` times one masked
/// factor.
const ZK_DEGREE: usize = 3;

/// `2^k` as a field element.
pub(crate) fn pow2(k: u32) -> F {
    F::from_u64(1u64 << k)
}

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
/// columns (`always`: every range that can be, for a zero-knowledge layout).
/// Only ranges exactly `2^k` wide can be split.
pub(crate) fn clamp_splits(model: &QuantModel, exc_bits: u32, always: bool) -> Vec<ClampChoice> {
    let n_excess = EXCESS_BITS.div_ceil(exc_bits) as u128;
    let mut ranges: Vec<(i64, i64, u128)> = Vec::new();
    for op in &model.ops {
        if let QOp::Requant {
            output, min, max, ..
        } = op
        {
            let len = (model.batch * model.tensors[*output].len()) as u128;
            match ranges.iter_mut().find(|r| (r.0, r.1) == (*min, *max)) {
                Some(r) => r.2 += len,
                None => ranges.push((*min, *max, len)),
            }
        }
    }
    let excess_rows = 2u128 << exc_bits;
    // A width's half-width saturation tables are shared by every range of
    // that width, so the choice is made per width over all its ranges.
    let halves = |width: u128| {
        (width.is_power_of_two() && width >= 4).then(|| {
            let k = width.trailing_zeros();
            (k - k / 2, k / 2)
        })
    };
    let width_of = |min: i64, max: i64| (max as i128 - min as i128 + 1).max(1) as u128;
    let split_pays = |width: u128| -> bool {
        let Some((hi, lo)) = halves(width) else {
            return false;
        };
        let members = ranges.iter().filter(|r| width_of(r.0, r.1) == width);
        let len: u128 = members.map(|r| r.2).sum();
        // Direct clamps of one width share one table (looked up as `y − min`).
        let direct = padded_rows(width + excess_rows) + 2 * len * n_excess;
        let tables = padded_rows((1 << hi) + excess_rows)
            + if lo != hi {
                padded_rows((1 << lo) + excess_rows)
            } else {
                0
            };
        // Two more columns, and every excess limb is looked up twice.
        tables + len * (3 * n_excess + 2) < direct
    };
    ranges
        .iter()
        .map(|&(min, max, _)| {
            let width = width_of(min, max);
            (
                min,
                max,
                halves(width).filter(|_| always || split_pays(width)),
            )
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
        let mut clamp_widths: Vec<i128> = Vec::new();
        for op in &model.ops {
            if let QOp::Requant {
                output,
                shift,
                min,
                max,
                ..
            } = op
            {
                let shift = aligned_shift(*shift, b.remainder);
                let columns = shift.div_ceil(b.remainder) + EXCESS_BITS.div_ceil(b.excess);
                let lookups = columns + u32::from(!shift.is_multiple_of(b.remainder));
                let len = (model.batch * model.tensors[*output].len()) as u128;
                rows += len * (columns + lookups) as u128;
                let width = (*max as i128 - *min as i128 + 1).max(1);
                if !clamp_widths.contains(&width) {
                    clamp_widths.push(width);
                    rows += (width as u128 + (2u128 << b.excess)).next_power_of_two();
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

/// The shift a requant is proven with: `shift` rounded up to a multiple of
/// the remainder limb width where that stays within [`MAX_REQUANT_SHIFT`].
/// Scaling the multiplier by the same power of two leaves every quotient and
/// its rounding unchanged, and a remainder that fills its limbs needs no
/// second, scaled lookup of its top limb (a third fewer range lookups on
/// GPT-2). The field identity still cannot wrap: `|q·2^shift| < 2^61`.
pub(crate) fn aligned_shift(shift: u32, remainder_bits: u32) -> u32 {
    let aligned = shift.next_multiple_of(remainder_bits);
    if aligned <= MAX_REQUANT_SHIFT {
        aligned
    } else {
        shift
    }
}

/// A requant's evaluations at one point (see [`RequantLayout`]).
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

/// A `Requant` op: its parameters and committed columns.
#[derive(Debug)]
pub(crate) struct Requant {
    i: usize,
    input: TensorId,
    output: TensorId,
    multiplier: i64,
    shift: u32,
    min: i64,
    rl: RequantLayout,
    limb_bits: LimbBits,
}

impl Requant {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Requant {
            input,
            output,
            multiplier,
            shift,
            min,
            max,
        } = *op
        else {
            unreachable!("registered for Requant")
        };
        if b.len(input) != b.len(output) {
            return Err(ProveError::Model(format!(
                "op #{i} (Requant): length mismatch"
            )));
        }
        if !(1..MAX_REQUANT_MULTIPLIER).contains(&multiplier)
            || shift > MAX_REQUANT_SHIFT
            || min > max
        {
            return Err(ProveError::Model(format!(
                "op #{i} (Requant): parameters out of the provable range"
            )));
        }
        let half = 1i64 << (CLAMP_BITS - 1);
        if min < -half || max >= half {
            return Err(ProveError::Model(format!(
                "op #{i} (Requant): clamp range outside [-2^15, 2^15)"
            )));
        }
        let LimbBits {
            remainder: rem_bits,
            excess: exc_bits,
        } = b.limb_bits;
        // The same quotients with a remainder that fills its limbs.
        let aligned = aligned_shift(shift, rem_bits);
        let (multiplier, shift) = (multiplier << (aligned - shift), aligned);
        let shape = b.shapes[input].clone();
        let y_poly = b.commit_tensor(output, shape.clone());
        let n_excess = EXCESS_BITS.div_ceil(exc_bits) as usize;
        let excess_polys: Vec<usize> = (0..n_excess).map(|_| b.commit(&shape)).collect();
        let n_limbs = shift.div_ceil(rem_bits) as usize;
        let limb_polys: Vec<usize> = (0..n_limbs).map(|_| b.commit(&shape)).collect();
        let top_bits = if n_limbs == 0 {
            0
        } else {
            shift - rem_bits * (n_limbs as u32 - 1)
        };
        let split = b
            .clamp_splits
            .iter()
            .find(|c| (c.0, c.1) == (min, max))
            .and_then(|c| c.2)
            .map(|(hi_bits, lo_bits)| ClampSplit {
                hi_poly: b.commit(&shape),
                lo_poly: b.commit(&shape),
                hi_bits,
                lo_bits,
            });
        match split {
            Some(sp) => {
                for (part, bits) in [(sp.hi_poly, sp.hi_bits), (sp.lo_poly, sp.lo_bits)] {
                    for &e in &excess_polys {
                        let key = TableKey::Saturate {
                            bits,
                            limb_bits: exc_bits,
                        };
                        b.look_up(key, vec![col(e), col(part)]);
                    }
                }
            }
            None => {
                // `y − min` against the table of the range's width: every
                // clamp range of one width shares one table.
                let key = TableKey::Clamp {
                    min: 0,
                    max: max - min,
                    limb_bits: exc_bits,
                };
                let shifted = crate::layout::ColumnRef {
                    offset: -min,
                    ..col(y_poly)
                };
                for &e in &excess_polys {
                    b.look_up(key.clone(), vec![col(e), shifted]);
                }
            }
        }
        let range = TableKey::Range { bits: rem_bits };
        for &p in &limb_polys {
            b.look_up(range.clone(), vec![col(p)]);
        }
        if let (Some(&top), true) = (limb_polys.last(), top_bits < rem_bits) {
            // top < 2^top_bits  <=>  top·2^(b−top_bits) < 2^b (top is also in range).
            let scaled = crate::layout::ColumnRef {
                poly: top,
                scale: 1 << (rem_bits - top_bits),
                offset: 0,
            };
            b.look_up(range, vec![scaled]);
        }
        let q = requant_quotient(b.pads[input], multiplier, shift);
        b.pads[output] = q.clamp(min as i128, max as i128) as i64;
        Ok(Self {
            i,
            input,
            output,
            multiplier,
            shift,
            min,
            rl: RequantLayout {
                y_poly,
                excess_polys,
                limb_polys,
                split,
            },
            limb_bits: b.limb_bits,
        })
    }

    /// The step's transcript, shared by prover and verifier: the point, then
    /// the evaluations.
    fn point(&self, tr: &mut Transcript, layout: &Layout) -> Vec<EF> {
        tr.label(b"requant");
        tr.challenge_efs(layout.num_vars(self.input))
    }

    fn absorb(ev: &RequantEvals, tr: &mut Transcript) {
        tr.absorb_ef(ev.y);
        tr.absorb_efs(ev.excess);
        tr.absorb_efs(ev.limbs);
        tr.absorb_efs(ev.split);
    }

    /// The zero-knowledge step's challenges: the zero-check's point `τ`
    /// and, for a split clamp, `γ` joining its second identity.
    fn zk_challenges(&self, tr: &mut Transcript, layout: &Layout) -> (Vec<EF>, Option<EF>) {
        tr.label(b"requant-zk");
        let tau = tr.challenge_efs(layout.num_vars(self.input));
        let gamma = self.rl.split.map(|_| tr.challenge_ef());
        (tau, gamma)
    }

    /// The limb identities as one zero-check (each term times `eq(τ, x)`):
    /// factor 0 the input, then the committed columns in
    /// [`OpProof::committed`] order,
    /// `m·x − 2^s·(y + Σ_j 2^(bj) e_j) − Σ_j 2^(bj) r_j = −2^(s−1)` plus
    /// `γ·(y − 2^lo·hi − lo) = γ·min` for a split clamp. Every factor is a
    /// private read.
    fn zk_relation(&self, gamma: Option<EF>) -> (Vec<Term>, EF, Vec<(usize, TensorRead)>) {
        let rl = &self.rl;
        let two_s = EF::from(pow2(self.shift));
        let term = |coeff: EF, k: usize| Term {
            coeff,
            factors: vec![k],
        };
        let mut terms = vec![
            term(EF::from(f_from_i64(self.multiplier)), 0),
            term(-two_s + gamma.unwrap_or(EF::ZERO), 1),
        ];
        let mut k = 2;
        for j in 0..rl.excess_polys.len() {
            let w = EF::from(pow2(self.limb_bits.excess * j as u32));
            terms.push(term(-two_s * w, k));
            k += 1;
        }
        for j in 0..rl.limb_polys.len() {
            terms.push(term(
                -EF::from(pow2(self.limb_bits.remainder * j as u32)),
                k,
            ));
            k += 1;
        }
        let mut claimed = if self.shift > 0 {
            -EF::from(pow2(self.shift - 1))
        } else {
            EF::ZERO
        };
        if let (Some(sp), Some(g)) = (rl.split, gamma) {
            terms.push(term(-g * EF::from(pow2(sp.lo_bits)), k));
            terms.push(term(-g, k + 1));
            claimed += g * EF::from(f_from_i64(self.min));
        }
        let mut reads = vec![(0, TensorRead::Tensor(self.input))];
        reads.extend(
            self.committed()
                .iter()
                .enumerate()
                .map(|(j, c)| (j + 1, TensorRead::Column(c.poly))),
        );
        (terms, claimed, reads)
    }

    /// Every committed column at `z` goes to the activation opening; the
    /// input's evaluation follows from them.
    fn file_claims(&self, book: &mut ClaimBook, layout: &Layout, z: Vec<EF>, ev: &RequantEvals) {
        let x_eval = requant_input_eval(ev, self.limb_bits, self.multiplier, self.shift);
        let polys = self.committed().into_iter().map(|c| c.poly);
        let values = std::iter::once(&ev.y)
            .chain(ev.excess)
            .chain(ev.limbs)
            .chain(ev.split);
        for (poly, &value) in polys.zip(values) {
            book.activation.push(Claim {
                poly,
                point: z.clone(),
                value,
            });
        }
        book.route(layout, self.input, z, x_eval);
    }
}

impl OpProof for Requant {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        let c = |poly, role: String, is_output| Committed {
            poly,
            role,
            is_output,
        };
        let rl = &self.rl;
        let mut out = vec![c(rl.y_poly, "output y".into(), true)];
        for (j, &p) in rl.excess_polys.iter().enumerate() {
            out.push(c(p, format!("excess limb {j}"), false));
        }
        for (j, &p) in rl.limb_polys.iter().enumerate() {
            out.push(c(p, format!("remainder limb {j}"), false));
        }
        if let Some(sp) = rl.split {
            out.push(c(sp.hi_poly, "split high part".into(), false));
            out.push(c(sp.lo_poly, "split low part".into(), false));
        }
        out
    }

    fn witness(&self, w: &WitnessCtx, polys: &mut [Vec<F>]) -> Result<(), ProveError> {
        let (xs, ys) = (w.ints(self.input), w.ints(self.output));
        let i = self.i;
        let columns = witness(
            &self.rl,
            self.limb_bits,
            (self.multiplier, self.shift, self.min),
            &xs,
            &ys,
        )
        .map_err(|(k, q)| {
            ProveError::Inference(format!(
                "op #{i} (Requant) element {k}: pre-clamp value {q} exceeds the clamp range by 2^{EXCESS_BITS} or more"
            ))
        })?;
        polys[self.rl.y_poly] = ys.into_iter().map(f_from_i64).collect();
        for (p, column) in columns {
            polys[p] = column;
        }
        Ok(())
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let pk = p.pk;
        let z = self.point(p.tr, &pk.layout);
        let eval = |poly: usize| evaluate_base(&p.act_polys[poly], &z);
        let all = |polys: &[usize]| polys.iter().map(|&q| eval(q)).collect::<Vec<EF>>();
        let rl = &self.rl;
        let y_eval = eval(rl.y_poly);
        let excess_evals = all(&rl.excess_polys);
        let limb_evals = all(&rl.limb_polys);
        let split_evals = rl
            .split
            .map_or_else(Vec::new, |sp| all(&[sp.hi_poly, sp.lo_poly]));
        let ev = RequantEvals {
            y: y_eval,
            excess: &excess_evals,
            limbs: &limb_evals,
            split: &split_evals,
        };
        Self::absorb(&ev, p.tr);
        self.file_claims(p.book, &p.pk.layout, z, &ev);
        Some(LayerProof::Requant {
            y_eval,
            excess_evals,
            limb_evals,
            split_evals,
        })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let LayerProof::Requant {
            y_eval,
            excess_evals,
            limb_evals,
            split_evals,
        } = proofs.next(i, "Requant")?
        else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected a Requant proof"
            )));
        };
        let rl = &self.rl;
        if limb_evals.len() != rl.limb_polys.len()
            || excess_evals.len() != rl.excess_polys.len()
            || split_evals.len() != if rl.split.is_some() { 2 } else { 0 }
        {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: wrong number of limb evaluations"
            )));
        }
        let z = self.point(v.tr, v.layout);
        let ev = RequantEvals {
            y: *y_eval,
            excess: excess_evals,
            limbs: limb_evals,
            split: split_evals,
        };
        Self::absorb(&ev, v.tr);
        if let Some(sp) = rl.split {
            let parts = EF::from(f_from_i64(self.min))
                + split_evals[0] * EF::from(pow2(sp.lo_bits))
                + split_evals[1];
            if parts != *y_eval {
                return Err(VerifyError::Lookup(format!(
                    "op #{i} (Requant): the output does not match its clamp parts"
                )));
            }
        }
        self.file_claims(v.book, v.layout, z, &ev);
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        c.activation += self.committed().len();
        c.route(self.input, 1);
    }

    fn zk_step(&self, layout: &Layout, _: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(ZkStep {
            sumcheck: Some((layout.num_vars(self.input), ZK_DEGREE)),
            tensors: vec![self.input],
            columns: self.committed().iter().map(|c| c.poly).collect(),
        })
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        let layout = p.layout;
        let (tau, gamma) = self.zk_challenges(p.tr, layout);
        let (terms, _, reads) = self.zk_relation(gamma);
        let mut mles = vec![Mle::Base(p.padded(self.input))];
        mles.extend(
            self.committed()
                .iter()
                .map(|c| Mle::Base(p.act_polys[c.poly].clone())),
        );
        let run = p.zero_check(self.i, mles, terms, &tau, &reads);
        Some(run.into_layer(Vec::new()))
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let (tau, gamma) = self.zk_challenges(v.tr, v.layout);
        let (terms, claimed_sum, reads) = self.zk_relation(gamma);
        let check = ZkCheck::zero_check(self.i, &terms, &tau, &reads, claimed_sum);
        let factors = 1 + self.committed().len();
        v.verify_message(proofs, "Requant", factors, &check)?;
        Ok(())
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        // The limb identities at a random point; a split clamp adds
        // `y = min + 2^lo·hi + lo` at the same point.
        let identity = random_point_bits(layout.num_vars(self.input));
        let mut terms = vec![("identity at a random point", identity)];
        if self.rl.split.is_some() {
            terms.push(("split parts at the same point", identity));
        }
        terms
    }
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

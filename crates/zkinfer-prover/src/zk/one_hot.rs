//! A private token input proven one-hot.
//!
//! A public one-hot input is checked by whoever expands the token ids; a
//! private one is only committed, so without this check the statement
//! would be "some integer matrix", not "some tokens". The input holds one
//! row of `V` entries per token position, each entry `0` or `k` (the
//! quantized `1.0`: the input scale is exactly `1/k`), laid out with the
//! vocabulary as its last axis: the last `c` variables name a column, the
//! `h` before them a row (samples and the ids' axes, each padded to a power
//! of two). One masked zero-check over the whole padded input
//!
//! `Σ_y eq(τ, y)·(x(x − k) + λ·P·x)(y) + μ·Σ_y eq(τ_h, y_h)·C(y_c)·x(y)
//!    = μ·k·Σ_{ρ real} eq(τ_h, ρ)`
//!
//! (`P` the padding positions, `C` the columns below `V`, `τ_h` the row
//! variables of `τ`) proves at every position `x ∈ {0, k}`, `x = 0` on
//! padding (padded columns, padded rows and samples: an id `≥ V` has
//! nowhere to go), and every real row summing to `k`, so holding exactly
//! one `k` (`V < p`). The left side is a polynomial in `(τ, λ, μ)` of
//! degree `≤ n + 2`, zero only if all three tables vanish. The verifier
//! computes both public factors and the right side in closed form
//! (per-axis prefix masses), never reading the input. With every entry in
//! `{0, k}` and `k ≤ B` the input's range check is implied, so a one-hot
//! input has none.

use zkinfer_model::ir::QuantModel;
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_eval, eq_table, num_vars_for};
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::ctx::{TensorRead, ZkCheck, ZkProverCtx, ZkVerifierCtx};
use crate::error::ProveError;
use crate::layout::Layout;
use crate::ops::{zk_message, LayerProofs};
use crate::proof::LayerProof;
use crate::spatial::{masked_eq_at, valid_mass};

/// The zero-check's round degree: `eq·x·x` with `x` masked twice.
pub(crate) const DEGREE: usize = 5;

/// How the private input's one-hot rows are checked (derived from the
/// model and layout alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OneHot {
    /// The quantized `1.0`.
    pub one: i64,
    /// The vocabulary `V` (real columns per row).
    pub vocab: usize,
    /// Real extent and variables of each row axis, samples first.
    pub rows: Vec<(usize, usize)>,
    /// Variables of a row (the leading ones) and of a column.
    pub row_vars: usize,
    pub col_vars: usize,
    /// Its sumcheck's index in `ZkPlan::op_masks` (three past the last op).
    pub step: usize,
}

fn unsupported(msg: String) -> ProveError {
    ProveError::Unsupported(format!("zero-knowledge proofs: {msg}"))
}

impl OneHot {
    /// The check for `model`'s private input, `None` without a one-hot
    /// segment; layouts it does not cover are refused by name.
    pub fn new(model: &QuantModel, layout: &Layout) -> Result<Option<Self>, ProveError> {
        let Some(seg) = model.input_segments.iter().find(|s| s.one_hot.is_some()) else {
            return Ok(None);
        };
        let vocab = seg.one_hot.expect("found by it");
        let info = &model.tensors[model.input];
        if model.input_segments.len() != 1 || seg.offset != 0 || seg.len != info.len() {
            return Err(unsupported(format!(
                "input '{}' holds token ids as one-hot rows beside other graph inputs in one flat row; a private token input is proven one-hot only when it is the model's only input",
                seg.name
            )));
        }
        let shape = &layout.shapes[model.input];
        if vocab < 1 || shape.dims.last() != Some(&vocab) || shape.sample_len() != seg.len {
            return Err(unsupported(format!(
                "input '{}': its one-hot rows of {vocab} entries are not the input's last axis ({:?})",
                seg.name, shape.dims
            )));
        }
        // The input scale is exactly `1/k` for one-hot inputs (the
        // quantizer makes it so); anything else is refused, not rounded.
        let k = (1.0 / info.scale).round();
        let exact = info.scale > 0.0 && ((1.0 / info.scale) - k).abs() <= 1e-9 * k;
        if !exact || k < 1.0 || k > info.bound as f64 {
            return Err(unsupported(format!(
                "input '{}': its scale {} does not make a one-hot 1 an integer within the input bound {}",
                seg.name, info.scale, info.bound
            )));
        }
        let mut rows = vec![(shape.batch, shape.batch_vars())];
        let axes = &shape.dims[..shape.dims.len() - 1];
        rows.extend(axes.iter().map(|&d| (d, num_vars_for(d))));
        let row_vars: usize = rows.iter().map(|r| r.1).sum();
        let col_vars = num_vars_for(vocab);
        // The honest input pads with 0 (no op writes it), which the
        // padding identity states.
        if row_vars + col_vars != layout.num_vars(model.input) || layout.pads[model.input] != 0 {
            return Err(unsupported(format!(
                "input '{}': its arrangement is not rows of one-hot columns padded with 0",
                seg.name
            )));
        }
        Ok(Some(Self {
            one: k as i64,
            vocab,
            rows,
            row_vars,
            col_vars,
            step: model.ops.len() + 2,
        }))
    }

    pub fn num_vars(&self) -> usize {
        self.row_vars + self.col_vars
    }

    /// Whether padded row index `row` is a real row.
    fn real_row(&self, row: usize) -> bool {
        let mut low = 0;
        for &(len, vars) in self.rows.iter().rev() {
            if (row >> low) & ((1 << vars) - 1) >= len {
                return false;
            }
            low += vars;
        }
        true
    }

    /// The first padded row of the input `x` that an honest input would
    /// not hold (not exactly one `k` among its real columns, or anything
    /// nonzero on padding), for a clear error before proving.
    pub fn first_bad_row(&self, x: &[F]) -> Option<usize> {
        let (zero, one) = (F::ZERO, f_from_i64(self.one));
        let width = 1usize << self.col_vars;
        x.chunks(width).enumerate().find_map(|(r, row)| {
            let real = if self.real_row(r) { self.vocab } else { 0 };
            let (cols, pad) = row.split_at(real.min(row.len()));
            let ones = cols.iter().filter(|&&v| v == one).count();
            let bad = pad.iter().any(|&v| v != zero)
                || cols.iter().any(|&v| v != zero && v != one)
                || (real > 0 && ones != 1);
            bad.then_some(r)
        })
    }

    fn challenges(&self, tr: &mut Transcript) -> (Vec<EF>, EF, EF) {
        tr.label(b"input-one-hot");
        let tau = tr.challenge_efs(self.num_vars());
        let lambda = tr.challenge_ef();
        let mu = tr.challenge_ef();
        (tau, lambda, mu)
    }

    /// Factors: 0 `eq(τ, ·)`, 1 `λ·eq(τ, ·)·P + μ·eq(τ_h, ·)·C`, 2 the
    /// input (the only read). Returns the terms, the claimed sum and the
    /// reads.
    fn relation(
        &self,
        model: &QuantModel,
        tau: &[EF],
        mu: EF,
    ) -> (Vec<Term>, EF, Vec<(usize, TensorRead)>) {
        let k = EF::from(f_from_i64(self.one));
        let terms = vec![
            Term {
                coeff: EF::ONE,
                factors: vec![0, 2, 2],
            },
            Term {
                coeff: -k,
                factors: vec![0, 2],
            },
            Term {
                coeff: EF::ONE,
                factors: vec![1, 2],
            },
        ];
        let claimed = mu * k * self.real_mass(&tau[..self.row_vars]);
        (terms, claimed, vec![(2, TensorRead::Tensor(model.input))])
    }

    /// `Σ_{ρ real} eq(z, ρ)` over the row variables, axis by axis.
    fn real_mass(&self, z: &[EF]) -> EF {
        let mut at = 0;
        let mut mass = EF::ONE;
        for &(len, vars) in &self.rows {
            mass *= valid_mass(&z[at..at + vars], len);
            at += vars;
        }
        mass
    }

    /// Factor 1's table over the padded input.
    fn weight_table(&self, tau: &[EF], lambda: EF, mu: EF) -> Vec<EF> {
        let eq = eq_table(tau);
        let eq_rows = eq_table(&tau[..self.row_vars]);
        let width = 1usize << self.col_vars;
        let mut t = Vec::with_capacity(eq.len());
        for (row, &e_row) in eq_rows.iter().enumerate() {
            let real = self.real_row(row);
            for c in 0..width {
                let e = eq[row * width + c];
                let counted = c < self.vocab;
                let padding = !(real && counted);
                let mut v = EF::ZERO;
                if padding {
                    v += lambda * e;
                }
                if counted {
                    v += mu * e_row;
                }
                t.push(v);
            }
        }
        t
    }

    /// Factor 1 at `r` (the verifier's side): `eq(τ, r)` minus its real
    /// part, by axes, and the row weight times the counted columns' mass.
    fn weight_at(&self, tau: &[EF], r: &[EF], lambda: EF, mu: EF) -> EF {
        let h = self.row_vars;
        let mut real = masked_eq_at(&tau[h..], &r[h..], self.vocab);
        let mut at = 0;
        for &(len, vars) in &self.rows {
            real *= masked_eq_at(&tau[at..at + vars], &r[at..at + vars], len);
            at += vars;
        }
        let padding = eq_eval(tau, r) - real;
        lambda * padding + mu * eq_eval(&tau[..h], &r[..h]) * valid_mass(&r[h..], self.vocab)
    }

    /// Proves the rows one-hot (after the ops: the input is the backward
    /// pass's last tensor).
    pub fn prove(&self, p: &mut ZkProverCtx) -> LayerProof {
        let model = &p.pk.model;
        let (tau, lambda, mu) = self.challenges(p.tr);
        let (terms, _, reads) = self.relation(model, &tau, mu);
        let poly = SumOfProducts {
            num_vars: self.num_vars(),
            mles: vec![
                Mle::Ext(eq_table(&tau)),
                Mle::Ext(self.weight_table(&tau, lambda, mu)),
                Mle::Base(p.padded(model.input)),
            ],
            terms,
        };
        let run = p.sumcheck(self.step, poly, None, &reads, None, &[], &[]);
        run.into_layer(Vec::new())
    }

    pub fn verify(
        &self,
        model: &QuantModel,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let (_, sumcheck, final_evals, r_values) =
            zk_message(proofs, self.step, "private one-hot input", 0, 3)?;
        let (tau, lambda, mu) = self.challenges(v.tr);
        let (terms, claimed_sum, reads) = self.relation(model, &tau, mu);
        let check = ZkCheck {
            op: self.step,
            num_vars: self.num_vars(),
            terms: &terms,
            eq_point: None,
            reads: &reads,
            output: None,
            claims: &[],
            coeffs: &[],
            claimed_sum,
        };
        let context = |m: String| VerifyError::Sumcheck(format!("the private one-hot input: {m}"));
        let r = v
            .sumcheck(&check, sumcheck, final_evals, r_values)
            .map_err(|e| match e {
                VerifyError::Sumcheck(m) => context(m),
                e => e,
            })?;
        // Sound only because the verifier computes both public factors.
        if final_evals[0] != eq_eval(&tau, &r)
            || final_evals[1] != self.weight_at(&tau, &r, lambda, mu)
        {
            return Err(context("a public factor's final value is wrong".into()));
        }
        Ok(())
    }
}

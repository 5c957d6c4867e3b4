//! A private token input proven one-hot.
//!
//! A public one-hot input is checked by whoever expands the token ids; a
//! private one is only committed, so without this check the statement
//! would be "some integer matrix", not "some tokens". Each token is a row
//! of `V` entries, each `0` or `k` (the quantized `1.0`: the input scale is
//! exactly `1/k`). One masked zero-check over the whole padded input `x`
//!
//! `Σ_y eq(τ, y)·(H·x(x − k) + λ·P·x)(y) + μ·Σ_y E_r(y)·x(y)
//!    = μ·k·Σ_{ρ real} eq(τ_r, ρ)`
//!
//! (`H` the one-hot entries, `P` the padding positions, `E_r(y)` the weight
//! `eq(τ_r, ρ)` of the row `ρ` that `y` is an entry of, `0` elsewhere)
//! proves every one-hot entry in `{0, k}`, every padding position `0` (an
//! id `≥ V` lands in a padded column, a padded row or the next row: nowhere
//! it is accepted), and every row summing to `k`, so holding exactly one
//! `k` (`V < p`). The left side minus the right is a polynomial in
//! `(τ, τ_r, λ, μ)` of degree `≤ n + ρ_vars + 2`, zero only if the three
//! tables vanish. Where the rows sit is [`form::Form`]'s business; the
//! verifier computes both public factors itself, never reading the input.
//! An input that is nothing but rows has every entry in `{0, k}`, `k ≤ B`:
//! its range check is implied and dropped; other graph inputs beside the
//! rows keep theirs.

use zkinfer_model::ir::QuantModel;
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::ctx::{in_step, TensorRead, ZkCheck, ZkProverCtx, ZkVerifierCtx};
use crate::error::ProveError;
use crate::layout::Layout;
use crate::ops::LayerProofs;
use crate::proof::LayerProof;

mod form;

use form::Challenges;
pub(crate) use form::Form;

/// The zero-check's round degree: `H·x·x` with `x` masked twice.
pub(crate) const DEGREE: usize = 5;

/// How the private input's one-hot rows are checked (derived from the
/// model and layout alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OneHot {
    /// The quantized `1.0`.
    pub one: i64,
    pub form: Form,
    pub num_vars: usize,
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
        let info = &model.tensors[model.input];
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
        // The honest input pads with 0 (no op writes it), which the
        // padding identity states.
        if layout.pads[model.input] != 0 {
            return Err(unsupported(format!(
                "input '{}': a one-hot input padded with {}",
                seg.name, layout.pads[model.input]
            )));
        }
        let form = Form::new(model, &layout.shapes[model.input]).map_err(unsupported)?;
        Ok(Some(Self {
            one: k as i64,
            form,
            num_vars: layout.num_vars(model.input),
            step: model.ops.len() + 2,
        }))
    }

    /// Whether the check implies the input's range (no range check then).
    pub fn implies_range(&self) -> bool {
        self.form.covers_input()
    }

    /// Why the padded input `x` would not pass (an honest prover refuses it
    /// by name instead of building a proof that fails).
    pub fn dishonest(&self, x: &[F]) -> Option<String> {
        self.form.dishonest(x, self.one)
    }

    fn challenges(&self, tr: &mut Transcript) -> Challenges {
        tr.label(b"input-one-hot");
        let tau = tr.challenge_efs(self.num_vars);
        let own = tr.challenge_efs(self.form.own_row_vars());
        let lambda = tr.challenge_ef();
        let mu = tr.challenge_ef();
        let tau_rows = self.form.row_point(&tau, own);
        Challenges {
            tau,
            tau_rows,
            lambda,
            mu,
        }
    }

    /// Factors: 0 `eq(τ, ·)·H`, 1 `λ·eq(τ, ·)·P + μ·E_r`, 2 the input (the
    /// only read). Returns the terms, the claimed sum and the reads.
    fn relation(
        &self,
        model: &QuantModel,
        ch: &Challenges,
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
        let claimed = ch.mu * k * self.form.row_mass(&ch.tau_rows);
        (terms, claimed, vec![(2, TensorRead::Tensor(model.input))])
    }

    /// Proves the rows one-hot (after the ops: the input is the backward
    /// pass's last tensor).
    pub fn prove(&self, p: &mut ZkProverCtx) -> LayerProof {
        let model = &p.pk.model;
        let ch = self.challenges(p.tr);
        let (terms, _, reads) = self.relation(model, &ch);
        let (boolean, weight) = self.form.tables(&ch);
        let poly = SumOfProducts {
            num_vars: self.num_vars,
            mles: vec![
                Mle::Ext(boolean),
                Mle::Ext(weight),
                Mle::Base(p.padded(model.input)),
            ],
            terms,
        };
        let run = p.relation_sumcheck(self.step, poly, &reads);
        run.into_layer(Vec::new())
    }

    pub fn verify(
        &self,
        model: &QuantModel,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let ch = self.challenges(v.tr);
        let (terms, claimed_sum, reads) = self.relation(model, &ch);
        let check = ZkCheck::new(self.step, self.num_vars, &terms, &reads, claimed_sum);
        let what = "the private one-hot input";
        let (r, final_evals) = v
            .verify_message(proofs, "private one-hot input", 3, &check)
            .map_err(in_step(what))?;
        // Sound only because the verifier computes both public factors.
        if (final_evals[0], final_evals[1]) != self.form.tables_at(&ch, &r) {
            return Err(VerifyError::Sumcheck(format!(
                "{what}: a public factor's final value is wrong"
            )));
        }
        Ok(())
    }
}

//! The private input's range check `|x| ≤ B` by limbs.
//!
//! The no-wrap arguments downstream assume every input entry lies in
//! `[−B, B]` (`B` the input's bound). A lookup of `x + B` in a table of
//! `[0, 2B]` would cost a table of `2B + 1` rows, whose multiplicities the
//! hiding commitment holds twice (`W = [V; R]`): 2^15 rows for `B = 16383`,
//! most of a small model's proof. Instead both `a = x + B` and `b = B − x`
//! are split into `L` limbs of `w` bits, each limb a committed column looked
//! up in the small range table `[0, 2^w)`, and one masked zero-check
//!
//! `Σ_y eq(τ, y)·((1 − λ)·x − Σ_j 2^(wj)·a_j − λ·Σ_j 2^(wj)·b_j) = −(1 + λ)·B`
//!
//! proves both recompositions at every row (padding rows included).
//! Exactness for any `B`: the limbs make `a, b ∈ [0, 2^(Lw))` as integers,
//! the identities give `a + b = 2B` in `F`, and since `a + b < 2^(Lw+1) < p`
//! that holds over the integers, so `a ∈ [0, 2B]`, i.e. `x ∈ [−B, B]` —
//! no power-of-two range has to match the bound.

use zkinfer_model::ir::QuantModel;
use zkinfer_protocol::field::{f_from_i64, f_to_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::sumcheck::{Mle, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::ctx::{in_step, TensorRead, ZkCheck, ZkProverCtx, ZkVerifierCtx};
use crate::error::ProveError;
use crate::layout::{Layout, TableKey};
use crate::ops::LayerProofs;
use crate::proof::LayerProof;

/// The zero-check's round degree: `eq` times one masked factor.
pub(crate) const DEGREE: usize = 3;

/// Limb widths above this would make the limb table the cost it replaces.
const MAX_LIMB_BITS: u32 = 12;

/// How the private input's range is checked (derived from the layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InputRange {
    /// Each limb lies in `[0, 2^bits)`.
    pub bits: u32,
    /// Limbs per side (`a = x + B`, `b = B − x`).
    pub limbs: usize,
    pub bound: i64,
    /// The limb columns' indices in `ZkPlan::act`: `a`'s limbs then `b`'s,
    /// least significant first.
    pub first_column: usize,
    /// Its sumcheck's index in `ZkPlan::op_masks` (one past the last op).
    pub step: usize,
    pub num_vars: usize,
}

impl InputRange {
    /// The check for `model`'s input; the limbs reuse the requant remainder
    /// width when the layout already has that range table (no further
    /// table), else 8 bits.
    pub fn new(
        model: &QuantModel,
        layout: &Layout,
        first_column: usize,
    ) -> Result<Self, ProveError> {
        let bound = model.tensors[model.input].bound;
        let reuse = layout.limb_bits.remainder;
        let bits = if reuse <= MAX_LIMB_BITS
            && layout
                .tables
                .iter()
                .any(|t| t.key == TableKey::Range { bits: reuse })
        {
            reuse
        } else {
            8
        };
        let span = u64::try_from(bound)
            .ok()
            .and_then(|b| b.checked_mul(2))
            .ok_or_else(|| {
                ProveError::Unsupported(format!(
                    "zero-knowledge proofs: the input bound {bound} is not a small nonnegative integer"
                ))
            })?;
        let needed = 64 - span.leading_zeros();
        let limbs = needed.div_ceil(bits).max(1);
        // `a + b < 2^(Lw + 1)` must stay below the modulus.
        if limbs * bits > 62 {
            return Err(ProveError::Unsupported(format!(
                "zero-knowledge proofs: the input bound {bound} is too large for a range check"
            )));
        }
        Ok(Self {
            bits,
            limbs: limbs as usize,
            bound,
            first_column,
            step: model.ops.len(),
            num_vars: layout.num_vars(model.input),
        })
    }

    pub fn key(&self) -> TableKey {
        TableKey::Range { bits: self.bits }
    }

    /// The limb columns' indices in `ZkPlan::act`.
    pub fn columns(&self) -> std::ops::Range<usize> {
        self.first_column..self.first_column + 2 * self.limbs
    }

    /// The limb columns of the padded input `x`: `a`'s then `b`'s. Every
    /// limb but the top one is the bits it stands for; the top one takes
    /// the rest, so an input beyond its bound leaves a top limb outside
    /// the table (`Err` unless `forge`, the malicious-prover tests).
    pub fn limb_columns(&self, x: &[F], forge: bool) -> Result<Vec<Vec<F>>, ProveError> {
        let (w, l) = (self.bits, self.limbs);
        let mut cols = vec![Vec::with_capacity(x.len()); 2 * l];
        for &v in x {
            let v = f_to_i64(v);
            for (side, value) in [
                (0, v.saturating_add(self.bound)),
                (1, self.bound.saturating_sub(v)),
            ] {
                if !forge && !(0..1i64 << (l as u32 * w)).contains(&value) {
                    return Err(ProveError::Inference(format!(
                        "the private input has a value {v} outside its bound ±{}",
                        self.bound
                    )));
                }
                for j in 0..l {
                    let shifted = value >> (j as u32 * w);
                    let limb = if j + 1 == l {
                        shifted
                    } else {
                        shifted & ((1 << w) - 1)
                    };
                    cols[side * l + j].push(f_from_i64(limb));
                }
            }
        }
        Ok(cols)
    }

    fn challenges(&self, tr: &mut Transcript) -> (Vec<EF>, EF) {
        tr.label(b"input-range");
        let tau = tr.challenge_efs(self.num_vars);
        let lambda = tr.challenge_ef();
        (tau, lambda)
    }

    /// Factor 0 the input, then the limb columns; every factor a masked read.
    fn relation(
        &self,
        model: &QuantModel,
        lambda: EF,
    ) -> (Vec<Term>, EF, Vec<(usize, TensorRead)>) {
        let term = |coeff: EF, k: usize| Term {
            coeff,
            factors: vec![k],
        };
        let mut terms = vec![term(EF::ONE - lambda, 0)];
        for side in 0..2 {
            let weight = if side == 0 { EF::ONE } else { lambda };
            for j in 0..self.limbs {
                let place = EF::from(F::from_u64(1u64 << (j as u32 * self.bits)));
                terms.push(term(-weight * place, 1 + side * self.limbs + j));
            }
        }
        let claimed = -(EF::ONE + lambda) * EF::from(f_from_i64(self.bound));
        let mut reads = vec![(0, TensorRead::Tensor(model.input))];
        reads.extend(
            self.columns()
                .enumerate()
                .map(|(k, p)| (k + 1, TensorRead::Column(p))),
        );
        (terms, claimed, reads)
    }

    /// Proves the recompositions (after the ops: the input is the backward
    /// pass's last tensor).
    pub fn prove(&self, p: &mut ZkProverCtx) -> LayerProof {
        let model = &p.pk.model;
        let (tau, lambda) = self.challenges(p.tr);
        let (terms, _, reads) = self.relation(model, lambda);
        let mut mles = vec![Mle::Base(p.padded(model.input))];
        mles.extend(self.columns().map(|c| Mle::Base(p.act_polys[c].clone())));
        p.zero_check(self.step, mles, terms, &tau, &reads)
            .into_layer(Vec::new())
    }

    pub fn verify(
        &self,
        model: &QuantModel,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let (tau, lambda) = self.challenges(v.tr);
        let (terms, claimed_sum, reads) = self.relation(model, lambda);
        let check = ZkCheck::zero_check(self.step, &terms, &tau, &reads, claimed_sum);
        let factors = 1 + 2 * self.limbs;
        v.verify_message(proofs, "private input range", factors, &check)
            .map_err(in_step("the private input's range check"))?;
        Ok(())
    }
}

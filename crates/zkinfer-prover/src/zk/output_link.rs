//! A committed output tied to the computed one.
//!
//! With a public output the verifier evaluates it at a random point and
//! hands that claim to the output's producer. A committed output is in its
//! own commitment (`committed.rs`) and the computed output is whatever the
//! backward pass proves, so one masked zero-check at a random point `r`
//!
//! `Σ_x eq(r, x)·(y(x) − y_c(x)) = 0`
//!
//! ties them: `y` (the computed output) read masked goes on as a claim its
//! producer proves, `y_c` (the committed copy) read masked is a claim on its
//! own commitment. A difference anywhere, padding included, is a nonzero
//! multilinear polynomial, nonzero at `r` except with probability
//! `n/|EF|`. Proven before the ops (it files the output's first claim).

use zkinfer_model::ir::QuantModel;
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::sumcheck::{Mle, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::ctx::{in_step, TensorRead, ZkCheck, ZkProverCtx, ZkVerifierCtx};
use crate::ops::LayerProofs;
use crate::proof::LayerProof;

/// The zero-check's round degree: `eq` times one masked factor.
pub(crate) const DEGREE: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OutputLink {
    /// Its sumcheck's index in `ZkPlan::op_masks` (two past the last op).
    pub step: usize,
    pub num_vars: usize,
}

impl OutputLink {
    fn point(&self, tr: &mut Transcript) -> Vec<EF> {
        tr.label(b"output-link");
        tr.challenge_efs(self.num_vars)
    }

    fn relation(model: &QuantModel) -> (Vec<Term>, Vec<(usize, TensorRead)>) {
        let terms = vec![
            Term {
                coeff: EF::ONE,
                factors: vec![0],
            },
            Term {
                coeff: -EF::ONE,
                factors: vec![1],
            },
        ];
        let reads = vec![
            (0, TensorRead::Tensor(model.output)),
            (1, TensorRead::CommittedOutput),
        ];
        (terms, reads)
    }

    pub fn prove(
        &self,
        p: &mut ZkProverCtx,
        committed: &[zkinfer_protocol::field::F],
    ) -> LayerProof {
        let model = &p.pk.model;
        let r = self.point(p.tr);
        let (terms, reads) = Self::relation(model);
        let mles = vec![
            Mle::Base(p.padded(model.output)),
            Mle::Base(committed.to_vec()),
        ];
        p.zero_check(self.step, mles, terms, &r, &reads)
            .into_layer(Vec::new())
    }

    pub fn verify(
        &self,
        model: &QuantModel,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let r = self.point(v.tr);
        let (terms, reads) = Self::relation(model);
        let check = ZkCheck::zero_check(self.step, &terms, &r, &reads, EF::ZERO);
        v.verify_message(proofs, "committed output", 2, &check)
            .map_err(in_step("the committed output's link"))?;
        Ok(())
    }
}

//! The zero-knowledge step of an op whose output is a public linear map of
//! its inputs (Add, Select, Transpose, SumPool).
//!
//! A plain proof moves such an op's output claims to its inputs, at the
//! same point or through a public functional. In zero knowledge the output
//! claims arrive masked by the output's own claim mask, so the step proves
//! them as one masked sumcheck `Σ_x L(x)·Σ_k c_k·u_k(x) = Σ_j ρ_j v_j`:
//! `L` the batched claims' public functional (factor 0, whose final value
//! the verifier recomputes), the inputs `u_k` read masked at the
//! sumcheck's point (factors 1, 2, …), `c_k` the op's constant weights.

use zkinfer_model::ir::TensorId;
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{VerifyError, EF};

use super::{check_public_factor, hadamard, LayerProof, LayerProofs};
use crate::zk::{
    BatchedClaims, TensorRead, ZkCheck, ZkPending, ZkProverCtx, ZkStep, ZkVerifierCtx,
};

/// One op's public linear map, as the step needs it.
pub(super) struct PublicLinear {
    pub op: usize,
    /// The op's name in errors.
    pub what: &'static str,
    /// The transcript label that opens the step.
    pub label: &'static [u8],
    pub output: TensorId,
    /// The inputs with their constant weights `c_k`.
    pub inputs: Vec<(TensorId, EF)>,
    /// Variables of the sumcheck (the inputs' index).
    pub num_vars: usize,
}

impl PublicLinear {
    /// The plan's view: one sumcheck of degree 2, plus one where an input
    /// is masked.
    pub fn step(&self, masked: &dyn Fn(TensorId) -> bool) -> ZkStep {
        let any_masked = self.inputs.iter().any(|&(t, _)| masked(t));
        ZkStep {
            sumcheck: Some((self.num_vars, 2 + usize::from(any_masked))),
            tensors: self.inputs.iter().map(|&(t, _)| t).collect(),
            columns: Vec::new(),
        }
    }

    /// `L·c_k·u_k` per input, and the inputs as private reads.
    fn terms(&self) -> (Vec<Term>, Vec<(usize, TensorRead)>) {
        self.inputs
            .iter()
            .enumerate()
            .map(|(k, &(t, coeff))| {
                let term = Term {
                    coeff,
                    factors: vec![0, k + 1],
                };
                (term, (k + 1, TensorRead::Tensor(t)))
            })
            .unzip()
    }

    /// The prover's step; `functional` builds `L` over the sumcheck's
    /// variables from the pending claims and their coefficients `ρ`.
    pub fn prove(
        &self,
        p: &mut ZkProverCtx,
        functional: impl FnOnce(&[ZkPending], &[EF]) -> Vec<EF>,
    ) -> Option<LayerProof> {
        let pending = p.take_claims(self.output);
        if pending.is_empty() {
            return None;
        }
        let (rho, _) = hadamard::zk_open(p.tr, self.label, &pending);
        let (terms, reads) = self.terms();
        let mut mles = vec![Mle::Ext(functional(&pending, &rho))];
        mles.extend(self.inputs.iter().map(|&(t, _)| Mle::Base(p.padded(t))));
        let poly = SumOfProducts {
            num_vars: self.num_vars,
            mles,
            terms,
        };
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let run = p.prove_claims(self.op, poly, &reads, batched);
        Some(run.into_layer(Vec::new()))
    }

    /// The verifier's step; `functional_at` evaluates `L` at the
    /// sumcheck's point from the pending claims and `ρ`.
    pub fn verify(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
        functional_at: impl FnOnce(&[ZkPending], &[EF], &[EF]) -> EF,
    ) -> Result<(), VerifyError> {
        let pending = v.take_claims(self.output);
        if pending.is_empty() {
            return Ok(());
        }
        let (rho, claimed_sum) = hadamard::zk_open(v.tr, self.label, &pending);
        let (terms, reads) = self.terms();
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let check = ZkCheck::claims(self.op, self.num_vars, &terms, &reads, batched, claimed_sum);
        let factors = 1 + self.inputs.len();
        let (point, final_evals) = v.verify_message(proofs, self.what, factors, &check)?;
        let expected = functional_at(&pending, &rho, &point);
        check_public_factor(self.op, self.what, final_evals[0], expected)
    }
}

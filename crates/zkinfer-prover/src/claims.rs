//! Bookkeeping of evaluation claims during the backward pass, shared by
//! prover and verifier so both route every claim the same way.

use zkinfer_model::ir::TensorId;
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::EF;

use crate::layout::{Layout, TensorKind};

/// `mle(point) = value` for a tensor.
pub type PointClaim = (Vec<EF>, EF);

#[derive(Default)]
pub struct ClaimBook {
    /// Pending claims on virtual tensors, reduced when their producer is reached.
    pub pending: Vec<Vec<PointClaim>>,
    /// Claims on committed activation polynomials (checked by one opening).
    pub activation: Vec<Claim>,
    /// Claims on weight polynomials (checked by one opening of the model commitment).
    pub weights: Vec<Claim>,
    /// Claims on the public input (checked by the verifier directly).
    pub input: Vec<PointClaim>,
}

impl ClaimBook {
    pub fn new(num_tensors: usize) -> Self {
        Self {
            pending: vec![Vec::new(); num_tensors],
            ..Default::default()
        }
    }

    /// Files a claim on tensor `t` where it will be checked.
    pub fn route(&mut self, layout: &Layout, t: TensorId, point: Vec<EF>, value: EF) {
        let (t, kind) = layout.kind(t);
        match kind {
            TensorKind::PublicInput => self.input.push((point, value)),
            TensorKind::Committed { poly } => self.activation.push(Claim { poly, point, value }),
            TensorKind::Virtual => self.pending[t].push((point, value)),
            TensorKind::Alias(_) => unreachable!("resolved by Layout::kind"),
        }
    }

    /// Claims on weight polynomial `poly`.
    pub fn weight_claims(&mut self, poly: usize, claims: Vec<PointClaim>) {
        self.weights.extend(
            claims
                .into_iter()
                .map(|(point, value)| Claim { poly, point, value }),
        );
    }

    /// Takes the pending claims on tensor `t`, to be reduced by its producer.
    pub fn take_pending(&mut self, layout: &Layout, t: TensorId) -> Vec<PointClaim> {
        let (t, _) = layout.kind(t);
        std::mem::take(&mut self.pending[t])
    }
}

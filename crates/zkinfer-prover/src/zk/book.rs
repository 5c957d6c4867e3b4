//! The claims of a zero-knowledge backward pass, routed the same way by
//! prover and verifier.

use zkinfer_model::ir::TensorId;
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::sumcheck::zk::masked_eval::masked_claim;
use zkinfer_protocol::{VerifyError, EF};

use super::plan::ZkPlan;
use crate::claims::PointClaim;
use crate::layout::{Layout, TensorKind};

/// A claim on a never-committed tensor, for its producer: `masked` when its
/// value is `V̇(point) = V(point) + Z(point)·S(point_head)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ZkPending {
    pub point: Vec<EF>,
    pub value: EF,
    pub masked: bool,
}

/// The claims as `(point, value)` pairs (a step whose public factor is
/// built as in a plain proof).
pub(crate) fn point_claims(pending: &[ZkPending]) -> Vec<PointClaim> {
    pending.iter().map(|c| (c.point.clone(), c.value)).collect()
}

#[derive(Default)]
pub(crate) struct ZkBook {
    pub pending: Vec<Vec<ZkPending>>,
    /// Claims on the hiding commitment (one opening at the end).
    pub hiding: Vec<Claim>,
    /// Claims on the weight commitment.
    pub weights: Vec<Claim>,
    /// Claims on a public input (the verifier evaluates it).
    pub public_input: Vec<PointClaim>,
    /// The unmasked values of every masked read (prover side: none may
    /// appear in a proof, `audit`).
    pub truths: Vec<EF>,
}

impl ZkBook {
    pub fn new(num_tensors: usize) -> Self {
        Self {
            pending: vec![Vec::new(); num_tensors],
            ..Default::default()
        }
    }

    pub fn take_pending(&mut self, layout: &Layout, t: TensorId) -> Vec<ZkPending> {
        std::mem::take(&mut self.pending[layout.kind(t).0])
    }

    /// Files a masked sumcheck's final value of tensor `t` (its `V'` or
    /// `V̇` at `point`).
    pub fn route_masked(
        &mut self,
        plan: &ZkPlan,
        layout: &Layout,
        t: TensorId,
        point: Vec<EF>,
        value: EF,
    ) -> Result<(), VerifyError> {
        match layout.kind(t) {
            (_, TensorKind::Committed { poly }) => {
                let w = plan.act[poly].expect("a read column has a W");
                self.hiding.push(masked_claim(w.poly, &point, value)?);
            }
            (r, TensorKind::Virtual) => self.pending[r].push(ZkPending {
                point,
                value,
                masked: true,
            }),
            (_, TensorKind::PublicInput) => match plan.input {
                Some(w) => self.hiding.push(masked_claim(w.poly, &point, value)?),
                None => self.public_input.push((point, value)),
            },
            (_, TensorKind::Alias(_)) => unreachable!("resolved by Layout::kind"),
        }
        Ok(())
    }

    /// Files a claim whose value is public (the output's): on a committed
    /// tensor, a claim on `W(0, ·)`, which is `V`.
    pub fn route_public(
        &mut self,
        plan: &ZkPlan,
        layout: &Layout,
        t: TensorId,
        point: Vec<EF>,
        value: EF,
    ) {
        let on_w = |poly: usize| {
            let mut at = vec![EF::ZERO];
            at.extend_from_slice(&point);
            Claim {
                poly,
                point: at,
                value,
            }
        };
        match layout.kind(t) {
            (_, TensorKind::Committed { poly }) => {
                let w = plan.act[poly].expect("a committed tensor has a W");
                self.hiding.push(on_w(w.poly));
            }
            (r, TensorKind::Virtual) => self.pending[r].push(ZkPending {
                point,
                value,
                masked: false,
            }),
            (_, TensorKind::PublicInput) => match plan.input {
                Some(w) => self.hiding.push(on_w(w.poly)),
                None => self.public_input.push((point, value)),
            },
            (_, TensorKind::Alias(_)) => unreachable!("resolved by Layout::kind"),
        }
    }
}

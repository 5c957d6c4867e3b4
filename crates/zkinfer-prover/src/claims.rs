//! Bookkeeping of evaluation claims during the backward pass, shared by
//! prover and verifier so both route every claim the same way.

use zkinfer_model::ir::TensorId;
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::EF;

use crate::layout::{Layout, MaxPoolLayout, RequantLayout, TensorKind};
use crate::pool::MaxPoolReduction;
use crate::requant::{requant_input_eval, RequantEvals};

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

    /// A requant's step at point `z`: the output, excess and remainder limb
    /// evaluations are checked by the activation opening; the input's
    /// evaluation follows from them (`RequantLayout`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn requant(
        &mut self,
        layout: &Layout,
        rl: &RequantLayout,
        input: TensorId,
        z: Vec<EF>,
        evals: RequantEvals,
        multiplier: i64,
        shift: u32,
    ) {
        let x_eval = requant_input_eval(&evals, layout.limb_bits, multiplier, shift);
        let split_polys = rl.split.map(|sp| [sp.hi_poly, sp.lo_poly]);
        let polys = std::iter::once(&rl.y_poly)
            .chain(&rl.excess_polys)
            .chain(&rl.limb_polys)
            .chain(split_polys.iter().flatten());
        let values = std::iter::once(&evals.y)
            .chain(evals.excess)
            .chain(evals.limbs)
            .chain(evals.split);
        for (&poly, &value) in polys.zip(values) {
            self.activation.push(Claim {
                poly,
                point: z.clone(),
                value,
            });
        }
        self.route(layout, input, z, x_eval);
    }

    /// Claims on weight polynomial `poly`.
    pub fn weight_claims(&mut self, poly: usize, claims: Vec<PointClaim>) {
        self.weights.extend(
            claims
                .into_iter()
                .map(|(point, value)| Claim { poly, point, value }),
        );
    }

    /// A MaxPool's output and differences at its point (committed), and its input claim.
    pub fn max_pool(
        &mut self,
        layout: &Layout,
        ml: &MaxPoolLayout,
        input: TensorId,
        red: MaxPoolReduction,
    ) {
        self.activation.push(Claim {
            poly: ml.y_poly,
            point: red.point.clone(),
            value: red.output_eval,
        });
        for (&p, &v) in ml.diff_polys.iter().zip(&red.diff_evals) {
            self.activation.push(Claim {
                poly: p,
                point: red.point.clone(),
                value: v,
            });
        }
        self.route(layout, input, red.input_claim.0, red.input_claim.1);
    }

    /// A Transpose: each output claim is a claim on the input at the point
    /// whose per-axis variable groups are permuted back.
    pub fn transpose(
        &mut self,
        layout: &Layout,
        input: TensorId,
        output: TensorId,
        perm: &[usize],
    ) {
        let out_vars = layout.shapes[output].axis_vars();
        let mut groups = Vec::with_capacity(out_vars.len());
        for (point, value) in self.take_pending(layout, output) {
            groups.clear();
            let mut at = 0;
            for &n in &out_vars {
                groups.push(point[at..at + n].to_vec());
                at += n;
            }
            let mut src = Vec::with_capacity(point.len());
            for axis in 0..perm.len() {
                let j = perm.iter().position(|&a| a == axis).expect("a permutation");
                src.extend_from_slice(&groups[j]);
            }
            self.route(layout, input, src, value);
        }
    }

    pub fn take_pending(&mut self, layout: &Layout, t: TensorId) -> Vec<PointClaim> {
        let (t, _) = layout.kind(t);
        std::mem::take(&mut self.pending[t])
    }
}

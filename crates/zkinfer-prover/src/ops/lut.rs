//! `Lut` (a table function such as sigmoid or tanh): input and output are
//! committed and every pair `(x, y)` — padding included — is looked up in
//! the function table, so claims on the output go to the activation opening
//! and the op sends nothing of its own.

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::field::F;
use zkinfer_protocol::VerifyError;

use super::{
    ClaimCounter, Committed, LayerProof, LayerProofs, OpProof, ProverCtx, VerifierCtx, WitnessCtx,
};
use crate::error::ProveError;
use crate::layout::{col, Layout, LayoutBuilder, TableKey, TensorKind};
use crate::zk::{ZkProverCtx, ZkStep, ZkVerifierCtx};

#[derive(Debug)]
pub(crate) struct Lut {
    i: usize,
    output: TensorId,
    y_poly: usize,
}

impl Lut {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Lut {
            input,
            output,
            in_min,
            ref table,
            ..
        } = *op
        else {
            unreachable!("registered for Lut")
        };
        let TensorKind::Committed { poly: x_poly } = b.kind(input).1 else {
            return Err(ProveError::Unsupported(format!(
                "op #{i} (Lut): its input must be the output of a Requant or Lut"
            )));
        };
        if b.len(input) != b.len(output) || table.is_empty() {
            return Err(ProveError::Model(format!("op #{i} (Lut): bad shapes")));
        }
        let pad_in = b.pads[input];
        let Some(&pad_out) = usize::try_from(pad_in - in_min)
            .ok()
            .and_then(|k| table.get(k))
        else {
            return Err(ProveError::Model(format!(
                "op #{i} (Lut): the domain does not contain the padding value {pad_in}"
            )));
        };
        let y_poly = b.commit_tensor(output, b.shapes[input].clone());
        b.look_up(TableKey::Lut { op: i }, vec![col(x_poly), col(y_poly)]);
        b.pads[output] = pad_out;
        Ok(Self { i, output, y_poly })
    }
}

impl OpProof for Lut {
    fn index(&self) -> usize {
        self.i
    }
    fn committed(&self) -> Vec<Committed> {
        vec![Committed {
            poly: self.y_poly,
            role: "output y".into(),
            is_output: true,
        }]
    }
    fn witness(&self, w: &WitnessCtx, polys: &mut [Vec<F>]) -> Result<(), ProveError> {
        polys[self.y_poly] = w.field(self.output);
        Ok(())
    }
    fn prove(&self, _: &mut ProverCtx) -> Option<LayerProof> {
        None
    }
    fn verify(&self, _: &mut VerifierCtx, _: &mut LayerProofs) -> Result<(), VerifyError> {
        Ok(())
    }
    fn count_claims(&self, _: &mut ClaimCounter) {}
    fn soundness_terms(&self, _: &Layout) -> Vec<(&'static str, f64)> {
        // Its lookup is charged with the lookups (`security.rs`).
        Vec::new()
    }

    /// No step of its own in zero knowledge either (its lookup proves it; its output is a committed column).
    fn zk_step(&self, _: &Layout, _: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(ZkStep::default())
    }
    fn prove_zk(&self, _: &mut ZkProverCtx) -> Option<LayerProof> {
        None
    }
    fn verify_zk(&self, _: &mut ZkVerifierCtx, _: &mut LayerProofs) -> Result<(), VerifyError> {
        Ok(())
    }
}

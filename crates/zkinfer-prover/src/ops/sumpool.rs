//! `SumPool` (average pooling's numerator; the division is the following
//! Requant's rounded shift, range-checked there) is linear: output claims are
//! a separable functional of the input (`spatial.rs`), one sumcheck.
//!
//! Zero knowledge: the same sumcheck, the functional a public factor (the
//! verifier evaluates it at the point) and the input a masked read; the
//! claims are masked values, corrected by the incoming claims' `R` values.

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::eq_table;
use zkinfer_protocol::security::sumcheck_bits;
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::public_linear::PublicLinear;
use super::{
    at_op, batching_bits, batching_coefficients, ClaimCounter, Committed, LayerProof, LayerProofs,
    OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::PointClaim;
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::spatial::{masked_eq, prove_linear, verify_linear, Separable, Window};
use crate::zk::{ZkPending, ZkProverCtx, ZkStep, ZkVerifierCtx};

/// `Σ_j ρ_j · SumPool(x)(z_j)` as a functional of `x`.
fn sum_functional(win: &Window, claims: &[PointClaim], rho: &[EF]) -> Separable {
    let (ones_y, ones_x) = (vec![EF::ONE; win.y.kernel], vec![EF::ONE; win.x.kernel]);
    let mut sep = Separable::default();
    for ((z, _), &r) in claims.iter().zip(rho) {
        let (zb, zc, zy, zx) = win.split_output(z);
        sep.push(
            r,
            eq_table(&zb),
            masked_eq(&zc, win.in_channels),
            win.y.table(&eq_table(&zy), &ones_y),
            win.x.table(&eq_table(&zx), &ones_x),
        );
    }
    sep
}

/// Proves a SumPool's output claims; returns the claim on its input.
fn prove_sum(
    win: &Window,
    x: Vec<F>,
    claims: &[PointClaim],
    tr: &mut Transcript,
) -> (LayerProof, PointClaim) {
    tr.label(b"sumpool");
    let rho = batching_coefficients(tr, claims.len());
    let sep = sum_functional(win, claims, &rho);
    let (sumcheck, point, input_eval) = prove_linear(x, &sep, tr);
    (
        LayerProof::SumPool {
            sumcheck,
            input_eval,
        },
        (point, input_eval),
    )
}

fn verify_sum(
    win: &Window,
    claims: &[PointClaim],
    proof: &LayerProof,
    tr: &mut Transcript,
) -> Result<PointClaim, VerifyError> {
    let LayerProof::SumPool {
        sumcheck,
        input_eval,
    } = proof
    else {
        return Err(VerifyError::Malformed("expected a SumPool proof".into()));
    };
    tr.label(b"sumpool");
    let rho = batching_coefficients(tr, claims.len());
    let sep = sum_functional(win, claims, &rho);
    let claimed: EF = claims.iter().zip(&rho).map(|((_, v), r)| *r * *v).sum();
    let point = verify_linear(&sep, claimed, sumcheck, *input_eval, tr)
        .map_err(|e| VerifyError::Sumcheck(format!("SumPool: {e}")))?;
    Ok((point, *input_eval))
}

/// A `SumPool` op: its geometry.
#[derive(Debug)]
pub(crate) struct SumPool {
    i: usize,
    input: TensorId,
    output: TensorId,
    win: Window,
}

impl SumPool {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::SumPool {
            input,
            output,
            kernel,
            strides,
            pads,
        } = *op
        else {
            unreachable!("registered for SumPool")
        };
        let win = Window::of(b, i, "SumPool", (input, output), (kernel, strides, pads))?
            .keeps_channels(i, "SumPool")?;
        b.pads[output] = 0;
        Ok(Self {
            i,
            input,
            output,
            win,
        })
    }
}

impl SumPool {
    /// The zero-knowledge step: the window functional of the output
    /// claims times the input.
    fn public_linear(&self, layout: &Layout) -> PublicLinear {
        PublicLinear {
            op: self.i,
            what: "SumPool",
            label: b"sumpool",
            output: self.output,
            inputs: vec![(self.input, EF::ONE)],
            num_vars: layout.num_vars(self.input),
        }
    }

    fn functional(&self, pending: &[ZkPending], rho: &[EF]) -> Separable {
        sum_functional(&self.win, &crate::zk::point_claims(pending), rho)
    }
}

impl OpProof for SumPool {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let claims = p.book.take_pending(&p.pk.layout, self.output);
        if claims.is_empty() {
            return None;
        }
        let (proof, (point, value)) = prove_sum(&self.win, p.padded(self.input), &claims, p.tr);
        p.book.route(&p.pk.layout, self.input, point, value);
        Some(proof)
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let (point, value) = verify_sum(&self.win, &claims, proofs.next(self.i, "SumPool")?, v.tr)
            .map_err(|e| at_op(self.i, "SumPool", e))?;
        v.book.route(v.layout, self.input, point, value);
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        if c.take(self.output) > 0 {
            c.route(self.input, 1);
        }
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        vec![
            ("sumcheck", sumcheck_bits(layout.num_vars(self.input), 2)),
            ("claim batching ρ", batching_bits()),
        ]
    }

    fn zk_step(&self, layout: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(self.public_linear(layout).step(masked))
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        self.public_linear(p.layout)
            .prove(p, |pending, rho| self.functional(pending, rho).expand())
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        self.public_linear(v.layout)
            .verify(v, proofs, |pending, rho, point| {
                self.functional(pending, rho).evaluate(point)
            })
    }
}

//! `Mul` (`y = a ⊙ b`, two activation tensors of one layout): the output
//! claims `v_k = y(z_k)`, batched by random `ρ`, are reduced by one degree-3
//! sumcheck of the Hadamard product
//!
//! `Σ_k ρ_k v_k = Σ_x E(x)·a(x)·b(x)`, `E(x) = Σ_k ρ_k eq(z_k, x)`,
//!
//! to one claim on each operand at its final point `r` (the verifier computes
//! `E(r)` itself). Padding: `y`'s pad value is the product of the operands'.
//! The requantization after it is the following `Requant` op.

use zkinfer_model::ir::{QOp, TensorId};
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::mle::{eq_eval, eq_table};
use zkinfer_protocol::security::sumcheck_bits;
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::add::same_layout;
use super::{
    batching_bits, batching_coefficients, ClaimCounter, Committed, LayerProof, LayerProofs,
    OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::{ClaimBook, PointClaim};
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};

/// Degree of the sumcheck: `E · a · b`.
const DEGREE: usize = 3;

#[derive(Debug)]
pub(crate) struct Mul {
    i: usize,
    a: TensorId,
    b: TensorId,
    output: TensorId,
}

impl Mul {
    pub fn lay_out(i: usize, op: &QOp, lb: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::Mul { a, b, output } = *op else {
            unreachable!("registered for Mul")
        };
        same_layout(lb, i, "Mul", a, b, output)?;
        lb.pads[output] = lb.pads[a] * lb.pads[b];
        Ok(Self { i, a, b, output })
    }

    /// Before the sumcheck: `ρ` and the claimed sum `Σ ρ_k v_k`.
    fn open_step(tr: &mut Transcript, claims: &[PointClaim]) -> (Vec<EF>, EF) {
        tr.label(b"mul");
        let rho = batching_coefficients(tr, claims.len());
        let claimed = claims.iter().zip(&rho).map(|((_, v), r)| *r * *v).sum();
        (rho, claimed)
    }

    /// After the sumcheck at `r`: absorbs the operand evaluations and routes them.
    fn close_step(
        &self,
        tr: &mut Transcript,
        book: &mut ClaimBook,
        layout: &Layout,
        r: Vec<EF>,
        (a_eval, b_eval): (EF, EF),
    ) {
        tr.absorb_ef(a_eval);
        tr.absorb_ef(b_eval);
        book.route(layout, self.a, r.clone(), a_eval);
        book.route(layout, self.b, r, b_eval);
    }
}

impl OpProof for Mul {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let layout = &p.pk.layout;
        let claims = p.book.take_pending(layout, self.output);
        if claims.is_empty() {
            return None;
        }
        let (rho, _) = Self::open_step(p.tr, &claims);
        let mut e = eq_table(&claims[0].0);
        for ((z, _), &r) in claims.iter().zip(&rho).skip(1) {
            for (acc, x) in e.iter_mut().zip(eq_table(z)) {
                *acc += r * x;
            }
        }
        let sc = sumcheck::prove(
            SumOfProducts {
                num_vars: layout.num_vars(self.output),
                mles: vec![
                    Mle::Ext(e),
                    Mle::Base(p.padded(self.a)),
                    Mle::Base(p.padded(self.b)),
                ],
                terms: vec![Term {
                    coeff: EF::ONE,
                    factors: vec![0, 1, 2],
                }],
            },
            p.tr,
        );
        let (a_eval, b_eval) = (sc.final_evals[1], sc.final_evals[2]);
        self.close_step(p.tr, p.book, layout, sc.point, (a_eval, b_eval));
        Some(LayerProof::Mul {
            sumcheck: sc.proof,
            a_eval,
            b_eval,
        })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let LayerProof::Mul {
            sumcheck: sc,
            a_eval,
            b_eval,
        } = proofs.next(i, "Mul")?
        else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected a Mul proof"
            )));
        };
        let (rho, claimed) = Self::open_step(v.tr, &claims);
        let n = v.layout.num_vars(self.output);
        let sub = sumcheck::verify(n, DEGREE, claimed, sc, v.tr)?;
        let e_r: EF = claims
            .iter()
            .zip(&rho)
            .map(|((z, _), &r)| r * eq_eval(z, &sub.point))
            .sum();
        if e_r * *a_eval * *b_eval != sub.expected_eval {
            return Err(VerifyError::Sumcheck(format!(
                "op #{i} (Mul): the final sumcheck evaluation does not match the operand evaluations"
            )));
        }
        self.close_step(v.tr, v.book, v.layout, sub.point, (*a_eval, *b_eval));
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        if c.take(self.output) > 0 {
            c.route(self.a, 1);
            c.route(self.b, 1);
        }
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        vec![
            (
                "Hadamard sumcheck",
                sumcheck_bits(layout.num_vars(self.output), DEGREE),
            ),
            ("claim batching ρ", batching_bits()),
        ]
    }
}

//! What an op's zero-knowledge step reads and writes, and the one masked
//! sumcheck every such step runs (prover and verifier side by side, so the
//! masks, the incoming claims and the routing of the final values cannot
//! drift apart).

use zkinfer_model::ir::TensorId;
use zkinfer_protocol::field::F;
use zkinfer_protocol::sumcheck::zk::masked_eval::{
    self, ClaimMask, EvalMask, IncomingClaim, MaskedEvals, MaskedMle, MaskedStatement,
};
use zkinfer_protocol::sumcheck::zk::{MaskPolynomial, ZkSumcheckProof};
use zkinfer_protocol::sumcheck::{SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::book::{ZkBook, ZkPending};
use super::plan::ZkPlan;
use crate::keys::ProvingKey;
use crate::layout::{Layout, TensorKind};
use crate::proof::LayerProof;

/// A factor of an op's sumcheck that is private data: a tensor (masked as
/// its kind says) or one of the op's own committed columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TensorRead {
    Tensor(TensorId),
    Column(usize),
    /// A committed output's own copy (`output_link.rs`).
    CommittedOutput,
}

/// The prover's secret masks.
pub(crate) struct ZkMasks {
    /// Per activation polynomial, `R` of its `W` (`None`: multiplicities).
    pub act_r: Vec<Option<Vec<F>>>,
    pub input_r: Option<Vec<F>>,
    /// `R` of a committed output's `W`.
    pub output_r: Option<Vec<F>>,
    /// Per op, the mask `g` of its sumcheck.
    pub op_g: Vec<Option<MaskPolynomial>>,
    /// Per never-committed tensor with masked claims.
    pub claim: Vec<Option<ClaimMask>>,
}

/// Where a read's mask comes from (`None`: a public input, read unmasked).
#[derive(Clone, Copy, Debug)]
enum MaskOf {
    Column(usize),
    Input,
    Output,
    Claims(TensorId),
}

fn mask_of(plan: &ZkPlan, layout: &Layout, read: TensorRead) -> Option<(MaskOf, Option<usize>)> {
    let column = |p: usize| {
        let w = plan.act[p].expect("a read column has a W");
        (MaskOf::Column(p), Some(w.poly))
    };
    match read {
        TensorRead::Column(p) => Some(column(p)),
        TensorRead::CommittedOutput => plan.output.map(|w| (MaskOf::Output, Some(w.poly))),
        TensorRead::Tensor(t) => match layout.kind(t) {
            (_, TensorKind::Committed { poly }) => Some(column(poly)),
            (r, TensorKind::Virtual) => Some((MaskOf::Claims(r), None)),
            (_, TensorKind::PublicInput) => plan.input.map(|w| (MaskOf::Input, Some(w.poly))),
            (_, TensorKind::Alias(_)) => unreachable!("resolved by Layout::kind"),
        },
    }
}

/// The masked factors' flags, from the reads `(factor, read)`.
fn masked_flags(plan: &ZkPlan, layout: &Layout, reads: &[(usize, TensorRead)]) -> Vec<MaskedMle> {
    reads
        .iter()
        .filter_map(|&(mle, read)| {
            mask_of(plan, layout, read).map(|(_, poly)| MaskedMle { mle, poly })
        })
        .collect()
}

/// The incoming claims on `output` (masked ones only: a public claim is
/// plain in the claimed sum), each with its batching coefficient.
fn incoming_claims(
    plan: &ZkPlan,
    layout: &Layout,
    output: TensorId,
    claims: &[ZkPending],
    coeffs: &[EF],
) -> Vec<IncomingClaim> {
    let (r, _) = layout.kind(output);
    claims
        .iter()
        .zip(coeffs)
        .filter(|(c, _)| c.masked)
        .map(|(c, &coeff)| {
            let m = plan.claim_masks[r].expect("a tensor with masked claims has a claim mask");
            IncomingClaim {
                poly: m.poly,
                head_vars: m.head_vars,
                point: c.point.clone(),
                coeff,
                fixed_head: None,
            }
        })
        .collect()
}

/// Files the final values of the reads: committed ones became claims on
/// their `W` inside the masked sumcheck; the others go on here.
fn route_reads(
    book: &mut ZkBook,
    plan: &ZkPlan,
    layout: &Layout,
    reads: &[(usize, TensorRead)],
    point: &[EF],
    final_evals: &[EF],
) -> Result<(), VerifyError> {
    for &(mle, read) in reads {
        if let (TensorRead::Tensor(t), Some((MaskOf::Claims(_), _)) | None) =
            (read, mask_of(plan, layout, read))
        {
            book.route_masked(plan, layout, t, point.to_vec(), final_evals[mle])?;
        }
    }
    Ok(())
}

/// One op's masked sumcheck as sent: the rounds, every factor's final
/// value (masked for private reads) and the incoming claims' `R` values.
pub(crate) struct ZkRun {
    pub proof: ZkSumcheckProof,
    pub point: Vec<EF>,
    pub final_evals: Vec<EF>,
    pub r_values: Vec<EF>,
}

impl ZkRun {
    /// The op's message: this sumcheck with the step's `public` values.
    pub fn into_layer(self, public: Vec<EF>) -> LayerProof {
        LayerProof::Zk {
            public,
            sumcheck: self.proof,
            final_evals: self.final_evals,
            r_values: self.r_values,
        }
    }
}

pub(crate) struct ZkProverCtx<'a> {
    pub pk: &'a ProvingKey,
    /// The zero-knowledge layout ([`Layout::new_zk`]), not necessarily the
    /// key's.
    pub layout: &'a Layout,
    pub plan: &'a ZkPlan,
    pub masks: &'a ZkMasks,
    pub values: &'a [Vec<i64>],
    pub act_polys: &'a [Vec<F>],
    pub book: &'a mut ZkBook,
    pub tr: &'a mut Transcript,
}

impl ZkProverCtx<'_> {
    /// Tensor `t`'s polynomial, as [`crate::ops::ProverCtx::padded`].
    pub fn padded(&self, t: TensorId) -> Vec<F> {
        let layout = self.layout;
        match layout.kind(t) {
            (_, TensorKind::Committed { poly }) => self.act_polys[poly].clone(),
            _ => layout.arrange(t, &self.values[t]),
        }
    }

    pub fn take_claims(&mut self, t: TensorId) -> Vec<ZkPending> {
        self.book.take_pending(self.layout, t)
    }

    /// Op `op`'s masked sumcheck of `poly` (times `eq(eq_point, ·)`), whose
    /// `reads` are private factors, proving the `claims` on `output` with
    /// weights `coeffs` as incoming claims. Files every resulting claim.
    #[allow(clippy::too_many_arguments)]
    pub fn sumcheck(
        &mut self,
        op: usize,
        poly: SumOfProducts,
        eq_point: Option<&[EF]>,
        reads: &[(usize, TensorRead)],
        output: Option<TensorId>,
        claims: &[ZkPending],
        coeffs: &[EF],
    ) -> ZkRun {
        let (plan, layout, masks) = (self.plan, self.layout, self.masks);
        let n = poly.num_vars;
        let eval_masks: Vec<EvalMask> = reads
            .iter()
            .filter_map(|&(_, read)| {
                mask_of(plan, layout, read).map(|(m, _)| match m {
                    MaskOf::Column(p) => EvalMask::from_table(
                        n,
                        masks.act_r[p].clone().expect("a read column has an R"),
                    ),
                    MaskOf::Input => {
                        EvalMask::from_table(n, masks.input_r.clone().expect("a private input"))
                    }
                    MaskOf::Output => {
                        EvalMask::from_table(n, masks.output_r.clone().expect("a committed output"))
                    }
                    MaskOf::Claims(t) => masks.claim[t]
                        .as_ref()
                        .expect("a read tensor has a claim mask")
                        .eval_mask(n),
                })
            })
            .collect();
        let flags = masked_flags(plan, layout, reads);
        let masked: Vec<(MaskedMle, &EvalMask)> = flags.iter().copied().zip(&eval_masks).collect();
        let incoming = output.map_or_else(Vec::new, |t| {
            incoming_claims(plan, layout, t, claims, coeffs)
        });
        let claim_mask = output.and_then(|t| masks.claim[layout.kind(t).0].as_ref());
        let with_r: Vec<(IncomingClaim, &ClaimMask)> = incoming
            .into_iter()
            .map(|c| (c, claim_mask.expect("masked claims have a mask")))
            .collect();
        let mask = plan.op_masks[op].expect("a step with a sumcheck has a mask");
        let g = masks.op_g[op]
            .as_ref()
            .expect("a step with a sumcheck has g");
        let out = masked_eval::prove_with_incoming(
            poly, eq_point, &masked, &with_r, g, mask.poly, self.tr,
        );
        #[cfg(test)]
        {
            let z = masked_eval::vanishing_eval(&out.zk.point);
            for (m, r) in &masked {
                let truth = out.zk.final_evals[m.mle] - z * r.eval(&out.zk.point);
                self.book.truths.push(truth);
            }
        }
        self.book.hiding.extend(out.zk.mask_claims);
        self.book.hiding.extend(out.eval_claims);
        self.book.hiding.extend(out.r_claims);
        route_reads(
            self.book,
            plan,
            layout,
            reads,
            &out.zk.point,
            &out.zk.final_evals,
        )
        .expect("1 + Z(r) vanishes (probability 1/|EF|)");
        ZkRun {
            proof: out.zk.proof,
            point: out.zk.point,
            final_evals: out.zk.final_evals,
            r_values: out.r_values,
        }
    }
}

pub(crate) struct ZkVerifierCtx<'a> {
    pub layout: &'a Layout,
    pub plan: &'a ZkPlan,
    pub book: &'a mut ZkBook,
    pub tr: &'a mut Transcript,
}

/// What the verifier checks of a step's masked sumcheck.
pub(crate) struct ZkCheck<'a> {
    pub op: usize,
    pub num_vars: usize,
    pub terms: &'a [Term],
    pub eq_point: Option<&'a [EF]>,
    pub reads: &'a [(usize, TensorRead)],
    pub output: Option<TensorId>,
    pub claims: &'a [ZkPending],
    pub coeffs: &'a [EF],
    pub claimed_sum: EF,
}

impl ZkVerifierCtx<'_> {
    pub fn take_claims(&mut self, t: TensorId) -> Vec<ZkPending> {
        self.book.take_pending(self.layout, t)
    }

    /// Verifies a [`ZkProverCtx::sumcheck`] run; returns its point. The
    /// caller checks the final values of the factors that are not reads
    /// (weights, public tables) and files their claims.
    pub fn sumcheck(
        &mut self,
        check: &ZkCheck<'_>,
        proof: &ZkSumcheckProof,
        final_evals: &[EF],
        r_values: &[EF],
    ) -> Result<Vec<EF>, VerifyError> {
        let (plan, layout) = (self.plan, self.layout);
        let mask = plan.op_masks[check.op].ok_or_else(|| {
            VerifyError::Malformed(format!("op #{}: no sumcheck mask planned", check.op))
        })?;
        if check.reads.iter().any(|&(mle, _)| mle >= final_evals.len()) {
            return Err(VerifyError::Malformed(format!(
                "op #{}: too few final evaluations",
                check.op
            )));
        }
        let flags = masked_flags(plan, layout, check.reads);
        let incoming = check.output.map_or_else(Vec::new, |t| {
            incoming_claims(plan, layout, t, check.claims, check.coeffs)
        });
        // The committed mask `g` has the plan's shape: the rounds must too.
        let degree = masked_eval::round_degree(check.terms, &flags, check.eq_point.is_some())
            .max(usize::from(!incoming.is_empty()));
        if (mask.num_vars, mask.degree) != (check.num_vars, degree) {
            return Err(VerifyError::Malformed(format!(
                "op #{}: the sumcheck's shape differs from the plan's",
                check.op
            )));
        }
        let statement = MaskedStatement {
            num_vars: check.num_vars,
            terms: check.terms,
            masked: &flags,
            eq_point: check.eq_point,
            incoming: &incoming,
        };
        let sent = MaskedEvals {
            final_evals,
            r_values,
        };
        let sub = masked_eval::verify_with_incoming(
            &statement,
            check.claimed_sum,
            proof,
            &sent,
            mask.poly,
            self.tr,
        )
        .map_err(|e| crate::ops::at_op(check.op, "zero-knowledge step", e))?;
        self.book.hiding.extend(sub.mask_claims);
        self.book.hiding.extend(sub.eval_claims);
        self.book.hiding.extend(sub.r_claims);
        route_reads(
            self.book,
            plan,
            layout,
            check.reads,
            &sub.point,
            final_evals,
        )?;
        Ok(sub.point)
    }
}

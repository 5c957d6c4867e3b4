//! What an op's zero-knowledge step reads and writes, and the one masked
//! sumcheck every such step runs (prover and verifier side by side, so the
//! masks, the incoming claims and the routing of the final values cannot
//! drift apart).

use zkinfer_model::ir::TensorId;
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::sumcheck::zk::masked_eval::{
    self, ClaimMask, EvalMask, IncomingClaim, MaskedEvals, MaskedMle, MaskedStatement,
};
use zkinfer_protocol::sumcheck::zk::{MaskPolynomial, ZkSumcheckProof};
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::book::{ZkBook, ZkPending};
use super::plan::{OpMask, ZkPlan};
use crate::keys::ProvingKey;
use crate::layout::{Layout, TensorKind};
use crate::ops::{zk_message, LayerProofs};
use crate::proof::LayerProof;

/// A factor of an op's sumcheck that is private data: a tensor (masked as
/// its kind says), one of the op's own committed columns, or op `i`'s inner
/// tensor (read through its claim mask; the value goes to the op's inner
/// sumcheck, not to the book).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TensorRead {
    Tensor(TensorId),
    Column(usize),
    Inner(usize),
    /// A tensor over some of the sumcheck's variables, broadcast over the
    /// others (a batched matrix product's operands): read through a mask
    /// on its own variables, so its final value is its own masked value at
    /// its own point and is filed there.
    Spread(TensorId, VarMap),
    /// A committed output's own copy (`output_link.rs`).
    CommittedOutput,
}

/// Where a tensor's own variables sit among a sumcheck's: consecutive
/// blocks `(first position, length)`, in the tensor's variable order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VarMap {
    pub blocks: [(usize, usize); 3],
}

impl VarMap {
    /// The sumcheck positions of the tensor's variables, in its order.
    pub fn positions(&self) -> Vec<usize> {
        self.blocks
            .iter()
            .flat_map(|&(first, len)| first..first + len)
            .collect()
    }

    /// The tensor's own point within the sumcheck's `point`.
    pub fn restrict(&self, point: &[EF]) -> Vec<EF> {
        self.positions().into_iter().map(|p| point[p]).collect()
    }
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
    /// Per op with an inner step, its inner sumcheck's `g` and its inner
    /// tensor's claim mask.
    pub inner: Vec<Option<(MaskPolynomial, ClaimMask)>>,
}

/// Where a read's mask comes from (`None`: a public input, read unmasked).
#[derive(Clone, Copy, Debug)]
enum MaskOf {
    Column(usize),
    Input,
    Output,
    Claims(TensorId),
    Inner(usize),
}

fn mask_of(plan: &ZkPlan, layout: &Layout, read: TensorRead) -> Option<(MaskOf, Option<usize>)> {
    let column = |p: usize| {
        let w = plan.act[p].expect("a read column has a W");
        (MaskOf::Column(p), Some(w.poly))
    };
    match read {
        TensorRead::Column(p) => Some(column(p)),
        TensorRead::Inner(op) => Some((MaskOf::Inner(op), None)),
        TensorRead::CommittedOutput => plan.output.map(|w| (MaskOf::Output, Some(w.poly))),
        TensorRead::Tensor(t) | TensorRead::Spread(t, _) => match layout.kind(t) {
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
            // A spread read's `W` claim is at its own point, filed by
            // `route_reads`, not by the sumcheck at the full point.
            let own_w = !matches!(read, TensorRead::Spread(..));
            mask_of(plan, layout, read).map(|(_, poly)| MaskedMle {
                mle,
                poly: poly.filter(|_| own_w),
            })
        })
        .collect()
}

/// The masked claims on an op's output that its step proves, batched by
/// `coeffs` (drawn after the claims' values were absorbed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BatchedClaims<'a> {
    pub output: TensorId,
    pub claims: &'a [ZkPending],
    pub coeffs: &'a [EF],
}

impl<'a> BatchedClaims<'a> {
    pub fn new(output: TensorId, claims: &'a [ZkPending], coeffs: &'a [EF]) -> Self {
        Self {
            output,
            claims,
            coeffs,
        }
    }
}

/// Names a step that is no op (the input's range check, the output's link)
/// in its sumcheck's errors, which otherwise cite an op index past the
/// model's.
pub(crate) fn in_step(what: &'static str) -> impl Fn(VerifyError) -> VerifyError {
    move |e| match e {
        VerifyError::Sumcheck(m) => VerifyError::Sumcheck(format!("{what}: {m}")),
        e => e,
    }
}

/// The incoming claims of `batched` (masked ones only: a public claim is
/// plain in the claimed sum), each with its batching coefficient.
fn incoming_claims(plan: &ZkPlan, layout: &Layout, batched: BatchedClaims) -> Vec<IncomingClaim> {
    let (r, _) = layout.kind(batched.output);
    batched
        .claims
        .iter()
        .zip(batched.coeffs)
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

/// The one masked claim on an op's inner tensor, at `point`, weight 1.
fn inner_claim(claim: super::plan::ClaimMaskAt, point: &[EF]) -> IncomingClaim {
    IncomingClaim {
        poly: claim.poly,
        head_vars: claim.head_vars,
        point: point.to_vec(),
        coeff: EF::ONE,
        fixed_head: None,
    }
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
        match (read, mask_of(plan, layout, read)) {
            (TensorRead::Tensor(t), Some((MaskOf::Claims(_), _)) | None) => {
                book.route_masked(plan, layout, t, point.to_vec(), final_evals[mle])?;
            }
            (TensorRead::Spread(t, map), _) => {
                book.route_masked(plan, layout, t, map.restrict(point), final_evals[mle])?;
            }
            _ => {}
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
    /// The private input as committed (its padded arrangement).
    pub input_poly: Option<&'a [F]>,
    pub act_polys: &'a [Vec<F>],
    pub book: &'a mut ZkBook,
    pub tr: &'a mut Transcript,
    /// Messages a step sends before the one it returns (in order).
    pub sent: Vec<LayerProof>,
}

impl ZkProverCtx<'_> {
    /// Sends a step's earlier message (a step with an inner sumcheck has
    /// two); the driver puts it before the step's returned one.
    pub fn send(&mut self, message: LayerProof) {
        self.sent.push(message);
    }

    /// Tensor `t`'s polynomial, as [`crate::ops::ProverCtx::padded`].
    pub fn padded(&self, t: TensorId) -> Vec<F> {
        let layout = self.layout;
        match (layout.kind(t), self.input_poly) {
            ((_, TensorKind::Committed { poly }), _) => self.act_polys[poly].clone(),
            ((_, TensorKind::PublicInput), Some(x)) => x.to_vec(),
            _ => layout.arrange(t, &self.values[t]),
        }
    }

    pub fn take_claims(&mut self, t: TensorId) -> Vec<ZkPending> {
        self.book.take_pending(self.layout, t)
    }

    /// Op `op`'s masked zero-check `Σ_x eq(tau, x)·Σ terms(x) = 0` (or the
    /// relation's constant) over `tau`'s variables, whose `reads` are
    /// private factors: a relation of the step's own, no output claims
    /// proven. Files every resulting claim.
    pub fn zero_check(
        &mut self,
        op: usize,
        mles: Vec<Mle>,
        terms: Vec<Term>,
        tau: &[EF],
        reads: &[(usize, TensorRead)],
    ) -> ZkRun {
        let poly = SumOfProducts {
            num_vars: tau.len(),
            mles,
            terms,
        };
        self.outer(op, poly, Some(tau), reads, None)
    }

    /// Step `op`'s masked sumcheck of `poly`, whose `reads` are private
    /// factors and whose sum is the relation's own public constant: no
    /// `eq` factor, no output claims (the one-hot check builds its own
    /// weights). Files every resulting claim.
    pub fn relation_sumcheck(
        &mut self,
        op: usize,
        poly: SumOfProducts,
        reads: &[(usize, TensorRead)],
    ) -> ZkRun {
        self.outer(op, poly, None, reads, None)
    }

    /// Op `op`'s masked sumcheck of `poly`, whose `reads` are private
    /// factors, proving the `batched` output claims as incoming claims.
    /// Files every resulting claim.
    pub fn prove_claims(
        &mut self,
        op: usize,
        poly: SumOfProducts,
        reads: &[(usize, TensorRead)],
        batched: BatchedClaims,
    ) -> ZkRun {
        self.outer(op, poly, None, reads, Some(batched))
    }

    /// Sends a step's weight evaluations at its sumcheck's point (absorbed
    /// after it; `claims` are what the weight commitment opens them by) and
    /// returns the step's message: its `earlier` public values (sent
    /// before the sumcheck), then the evaluations.
    pub fn with_weight_evals(
        &mut self,
        run: ZkRun,
        earlier: Vec<EF>,
        evals: Vec<EF>,
        claims: Vec<Claim>,
    ) -> LayerProof {
        self.tr.absorb_efs(&evals);
        self.book.weights.extend(claims);
        let mut public = earlier;
        public.extend(evals);
        run.into_layer(public)
    }

    /// Op `op`'s first masked sumcheck (times `eq(eq_point, ·)`), proving
    /// the `batched` claims if any.
    fn outer(
        &mut self,
        op: usize,
        poly: SumOfProducts,
        eq_point: Option<&[EF]>,
        reads: &[(usize, TensorRead)],
        batched: Option<BatchedClaims>,
    ) -> ZkRun {
        let (plan, layout, masks) = (self.plan, self.layout, self.masks);
        let incoming = batched.map_or_else(Vec::new, |b| incoming_claims(plan, layout, b));
        let claim_mask = batched.and_then(|b| masks.claim[layout.kind(b.output).0].as_ref());
        let with_r: Vec<(IncomingClaim, &ClaimMask)> = incoming
            .into_iter()
            .map(|c| (c, claim_mask.expect("masked claims have a mask")))
            .collect();
        let mask = plan.op_masks[op].expect("a step with a sumcheck has a mask");
        let g = masks.op_g[op]
            .as_ref()
            .expect("a step with a sumcheck has g");
        #[cfg(test)]
        let poly = forge::apply(op, forge::Site::Outer, poly, eq_point, reads);
        self.run(poly, eq_point, reads, &with_r, mask, g)
    }

    /// Op `op`'s inner sumcheck of `poly`, whose `reads` are private
    /// factors, proving the masked claim its first sumcheck made on its
    /// inner tensor at `point` (weight 1: the claimed sum is that value).
    pub fn inner_sumcheck(
        &mut self,
        op: usize,
        poly: SumOfProducts,
        reads: &[(usize, TensorRead)],
        point: &[EF],
    ) -> ZkRun {
        let at = self.plan.inner[op].expect("an op with an inner step");
        let (g, claim_mask) = self.masks.inner[op]
            .as_ref()
            .expect("an op with an inner step has its masks");
        let incoming = vec![(inner_claim(at.claim, point), claim_mask)];
        #[cfg(test)]
        let poly = forge::apply(op, forge::Site::Inner, poly, None, reads);
        self.run(poly, None, reads, &incoming, at.mask, g)
    }

    fn run(
        &mut self,
        poly: SumOfProducts,
        eq_point: Option<&[EF]>,
        reads: &[(usize, TensorRead)],
        with_r: &[(IncomingClaim, &ClaimMask)],
        mask: OpMask,
        g: &MaskPolynomial,
    ) -> ZkRun {
        let (plan, layout, masks) = (self.plan, self.layout, self.masks);
        let n = poly.num_vars;
        let eval_masks: Vec<EvalMask> = reads
            .iter()
            .filter_map(|&(_, read)| {
                let mask = mask_of(plan, layout, read).map(|(m, _)| match m {
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
                    MaskOf::Inner(op) => masks.inner[op]
                        .as_ref()
                        .expect("an op with an inner step has its masks")
                        .1
                        .eval_mask(n),
                });
                match read {
                    TensorRead::Spread(_, map) => mask.map(|m| m.on_vars(map.positions())),
                    _ => mask,
                }
            })
            .collect();
        let flags = masked_flags(plan, layout, reads);
        let masked: Vec<(MaskedMle, &EvalMask)> = flags.iter().copied().zip(&eval_masks).collect();
        let out = masked_eval::prove_with_incoming(
            poly, eq_point, &masked, with_r, g, mask.poly, self.tr,
        );
        // What the masks hide, kept for the leak audit (one small mask
        // evaluation per read).
        {
            for (m, r) in &masked {
                let truth = out.zk.final_evals[m.mle] - r.share(&out.zk.point);
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
    pub batched: Option<BatchedClaims<'a>>,
    pub claimed_sum: EF,
}

impl<'a> ZkCheck<'a> {
    /// A masked sumcheck of `terms` over `num_vars` variables with sum
    /// `claimed_sum`, no `eq` factor and no output claims: as is, a
    /// [`ZkProverCtx::inner_sumcheck`] (its sum the inner claim's masked
    /// value).
    pub fn new(
        op: usize,
        num_vars: usize,
        terms: &'a [Term],
        reads: &'a [(usize, TensorRead)],
        claimed_sum: EF,
    ) -> Self {
        Self {
            op,
            num_vars,
            terms,
            eq_point: None,
            reads,
            batched: None,
            claimed_sum,
        }
    }

    /// A [`ZkProverCtx::zero_check`]: `Σ_x eq(tau, x)·Σ terms = claimed_sum`.
    pub fn zero_check(
        op: usize,
        terms: &'a [Term],
        tau: &'a [EF],
        reads: &'a [(usize, TensorRead)],
        claimed_sum: EF,
    ) -> Self {
        Self {
            eq_point: Some(tau),
            ..Self::new(op, tau.len(), terms, reads, claimed_sum)
        }
    }

    /// A [`ZkProverCtx::prove_claims`], whose sum `claimed_sum` is the
    /// batched claims' (less the op's public shares).
    pub fn claims(
        op: usize,
        num_vars: usize,
        terms: &'a [Term],
        reads: &'a [(usize, TensorRead)],
        batched: BatchedClaims<'a>,
        claimed_sum: EF,
    ) -> Self {
        Self {
            batched: Some(batched),
            ..Self::new(op, num_vars, terms, reads, claimed_sum)
        }
    }
}

impl ZkVerifierCtx<'_> {
    pub fn take_claims(&mut self, t: TensorId) -> Vec<ZkPending> {
        self.book.take_pending(self.layout, t)
    }

    /// Verifies a [`ZkProverCtx::zero_check`] or
    /// [`ZkProverCtx::prove_claims`] run; returns its point. The
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
        let incoming = check
            .batched
            .map_or_else(Vec::new, |b| incoming_claims(plan, layout, b));
        self.run(check, &incoming, mask, proof, final_evals, r_values)
    }

    /// Takes step `check.op`'s message (`what`: no public values, `factors`
    /// final values) from `proofs` and verifies its sumcheck; returns the
    /// point and the final values.
    pub fn verify_message<'p>(
        &mut self,
        proofs: &mut LayerProofs<'p>,
        what: &str,
        factors: usize,
        check: &ZkCheck<'_>,
    ) -> Result<(Vec<EF>, &'p [EF]), VerifyError> {
        let (_, sumcheck, final_evals, r_values) = zk_message(proofs, check.op, what, 0, factors)?;
        let point = self.sumcheck(check, sumcheck, final_evals, r_values)?;
        Ok((point, final_evals))
    }

    /// Files a step's weight evaluations (absorbed after its sumcheck) and
    /// the weight claims they make.
    pub fn weight_evals(&mut self, evals: &[EF], claims: Vec<Claim>) {
        self.tr.absorb_efs(evals);
        self.book.weights.extend(claims);
    }

    /// Verifies a [`ZkProverCtx::inner_sumcheck`] run (`check` from
    /// [`ZkCheck::new`], for the inner claim at `point`); returns its
    /// point.
    pub fn inner_sumcheck(
        &mut self,
        check: &ZkCheck<'_>,
        point: &[EF],
        proof: &ZkSumcheckProof,
        final_evals: &[EF],
        r_values: &[EF],
    ) -> Result<Vec<EF>, VerifyError> {
        let at = self.plan.inner[check.op].ok_or_else(|| {
            VerifyError::Malformed(format!("op #{}: no inner step planned", check.op))
        })?;
        if check.batched.is_some() || at.step.num_vars != point.len() {
            return Err(VerifyError::Malformed(format!(
                "op #{}: the inner claim differs from the plan's",
                check.op
            )));
        }
        let incoming = vec![inner_claim(at.claim, point)];
        self.run(check, &incoming, at.mask, proof, final_evals, r_values)
    }

    fn run(
        &mut self,
        check: &ZkCheck<'_>,
        incoming: &[IncomingClaim],
        mask: OpMask,
        proof: &ZkSumcheckProof,
        final_evals: &[EF],
        r_values: &[EF],
    ) -> Result<Vec<EF>, VerifyError> {
        let (plan, layout) = (self.plan, self.layout);
        if check.reads.iter().any(|&(mle, _)| mle >= final_evals.len()) {
            return Err(VerifyError::Malformed(format!(
                "op #{}: too few final evaluations",
                check.op
            )));
        }
        let flags = masked_flags(plan, layout, check.reads);
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
            incoming,
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

/// Tests only: a cheating prover whose public factor is not the one the
/// verifier computes, but whose sumcheck is otherwise consistent.
///
/// Armed for one op's outer or inner sumcheck, it replaces that sumcheck's
/// first public factor `L` (the lowest factor that is not a private read)
/// by `L' = L + Δ`, `Δ` nonzero on two hypercube points `a`, `b` with
/// `Δ(a) = cof(b)`, `Δ(b) = −cof(a)`: `cof` is `L`'s cofactor on the
/// hypercube (per term holding `L`, its coefficient times the other
/// factors, times `eq(τ, ·)` for a zero-check; masks vanish there), so the
/// claimed sum is unchanged and every round is honest for `L'`. Only the
/// verifier's own evaluation of `L` at the sumcheck's point can then refuse
/// (`L'(r) ≠ L(r)` unless `r` is a root of `Δ`'s multilinear extension).
#[cfg(test)]
pub(crate) mod forge {
    use std::cell::{Cell, RefCell};

    use zkinfer_protocol::mle::eq_table;
    use zkinfer_protocol::sumcheck::{Mle, SumOfProducts};
    use zkinfer_protocol::EF;

    use super::{PrimeCharacteristicRing, TensorRead};

    /// Which of an op's masked sumchecks.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Site {
        /// The op's (first) sumcheck ([`super::ZkProverCtx::zero_check`] or
        /// [`super::ZkProverCtx::prove_claims`]).
        Outer,
        /// Its inner sumcheck, [`super::ZkProverCtx::inner_sumcheck`].
        Inner,
    }

    /// What the armed hook did to one sumcheck.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) enum Forged {
        /// The sumcheck has no factor outside its private reads.
        NoPublicFactor,
        /// `factor` was shifted at the hypercube points `points`.
        Shifted { factor: usize, points: Vec<usize> },
    }

    thread_local! {
        static ARMED: Cell<Option<(usize, Site)>> = const { Cell::new(None) };
        static LOG: RefCell<Vec<Forged>> = const { RefCell::new(Vec::new()) };
    }

    /// Runs `f` (a proof) with the hook armed for op `op`'s `site`
    /// sumcheck; returns its result and what the hook did, once per run of
    /// that sumcheck.
    pub(crate) fn armed<T>(op: usize, site: Site, f: impl FnOnce() -> T) -> (T, Vec<Forged>) {
        LOG.with(|l| l.borrow_mut().clear());
        ARMED.with(|a| a.set(Some((op, site))));
        let out = f();
        ARMED.with(|a| a.set(None));
        (out, LOG.with(|l| std::mem::take(&mut *l.borrow_mut())))
    }

    /// `poly`, forged if the hook is armed for `(op, site)`.
    pub(super) fn apply(
        op: usize,
        site: Site,
        mut poly: SumOfProducts,
        eq_point: Option<&[EF]>,
        reads: &[(usize, TensorRead)],
    ) -> SumOfProducts {
        if ARMED.with(Cell::get) != Some((op, site)) {
            return poly;
        }
        let public = (0..poly.mles.len()).find(|f| reads.iter().all(|&(mle, _)| mle != *f));
        let forged = match public {
            None => Forged::NoPublicFactor,
            Some(factor) => {
                let points = shift(&mut poly, factor, eq_point);
                Forged::Shifted { factor, points }
            }
        };
        LOG.with(|l| l.borrow_mut().push(forged));
        poly
    }

    fn at(mle: &Mle, x: usize) -> EF {
        match mle {
            Mle::Base(v) => EF::from(v[x]),
            Mle::Ext(v) => v[x],
        }
    }

    /// Shifts factor `f` of `poly` by a `Δ` the sum does not see; returns
    /// the points it moved.
    fn shift(poly: &mut SumOfProducts, f: usize, eq_point: Option<&[EF]>) -> Vec<usize> {
        let size = 1usize << poly.num_vars;
        let eq = eq_point.map(eq_table);
        let cofactor = |x: usize| -> EF {
            let sum: EF = poly
                .terms
                .iter()
                .filter(|t| t.factors.contains(&f))
                .map(|t| {
                    assert_eq!(
                        t.factors.iter().filter(|&&g| g == f).count(),
                        1,
                        "the forged factor enters its terms linearly"
                    );
                    t.factors
                        .iter()
                        .filter(|&&g| g != f)
                        .fold(t.coeff, |acc, &g| acc * at(&poly.mles[g], x))
                })
                .sum();
            eq.as_ref().map_or(sum, |e| sum * e[x])
        };
        let cof: Vec<EF> = (0..size).map(cofactor).collect();
        let nonzero: Vec<usize> = (0..size).filter(|&x| cof[x] != EF::ZERO).take(2).collect();
        // Two points with nonzero cofactors cancel each other; otherwise a
        // point the sum does not read takes any shift.
        let delta: Vec<(usize, EF)> = match nonzero[..] {
            [a, b] => vec![(a, cof[b]), (b, -cof[a])],
            _ => {
                let free = (0..size)
                    .find(|&x| cof[x] == EF::ZERO)
                    .expect("a hypercube of one point with a nonzero cofactor");
                vec![(free, EF::ONE)]
            }
        };
        let mut table: Vec<EF> = (0..size).map(|x| at(&poly.mles[f], x)).collect();
        for &(x, d) in &delta {
            table[x] += d;
        }
        poly.mles[f] = Mle::Ext(table);
        delta.into_iter().map(|(x, _)| x).collect()
    }
}

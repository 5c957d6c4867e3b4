//! `MatMul` of two activations (attention's `Q·Kᵀ` and `P·V`), batched over
//! the leading axes: a claim on the output at `(z_h, z_m, z_n)` (`z_h` the
//! batch and head variables) is reduced by one degree-3 sumcheck over the
//! head and inner indices,
//!
//! `v = Σ_{h,k} eq(z_h,h)·A(h,k)·B(h,k)`, `A(h,k) = Σ_{m<M} eq(z_m,m)·a[h,m,k]`,
//! `B(h,k) = Σ_{n<N} eq(z_n,n)·b[h,k,n]`,
//!
//! to a claim on `a` at `(r_h, z_m, r_k)` and one on `b` at `(r_h, r_k, z_n)`
//! (the head sum stays outside the product: both operands depend on it).
//! The output's padding is 0 (its padded rows and columns are masked out of
//! the folds); a padded row of `a` holds its pad value, so the fold is the
//! MLE at the point minus `pad·(1 − mass)` — the verifier adds it back, as
//! for a row-wise Dense. Padded inner indices contribute `pad_a·pad_b`, so
//! one operand must pad with 0.
//!
//! Zero knowledge: one masked sumcheck over the whole product index
//! (`zk.rs`).

use rayon::prelude::*;
use zkinfer_model::ir::{matmul_dims, QOp, TensorId};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_eval, eq_table};
use zkinfer_protocol::security::sumcheck_bits;
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::{
    batching_bits, batching_coefficients, ClaimCounter, Committed, LayerProof, LayerProofs,
    OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::{ClaimBook, PointClaim};
use crate::error::ProveError;
use crate::layout::{nv, Layout, LayoutBuilder};
use crate::spatial::{masked_eq, valid_mass};
use crate::zk::{ZkProverCtx, ZkStep, ZkVerifierCtx};

mod zk;

#[derive(Debug)]
pub(crate) struct MatMul {
    i: usize,
    a: TensorId,
    b: TensorId,
    output: TensorId,
    m: usize,
    k: usize,
    n: usize,
    /// Batch and head variables (the first of every point).
    lead_vars: usize,
    pads: (i64, i64),
}

impl MatMul {
    pub fn lay_out(i: usize, op: &QOp, lb: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let QOp::MatMul { a, b, output } = *op else {
            unreachable!("registered for MatMul")
        };
        let (sa, sb) = (&lb.model.tensors[a].shape, &lb.model.tensors[b].shape);
        let Some((m, k, n, _)) = matmul_dims(sa, sb) else {
            return Err(ProveError::Model(format!(
                "op #{i} (MatMul): operands are not [.., M, K] and [.., K, N]"
            )));
        };
        // Each operand laid out by its own axes (per-axis padding).
        if lb.shapes[a].dims != *sa || lb.shapes[b].dims != *sb {
            return Err(ProveError::Unsupported(format!(
                "op #{i} (MatMul): an operand is not laid out by its own axes ({:?}, {:?})",
                lb.shapes[a].dims, lb.shapes[b].dims
            )));
        }
        let pads = (lb.pads[a], lb.pads[b]);
        if pads.0 != 0 && pads.1 != 0 {
            return Err(ProveError::Unsupported(format!(
                "op #{i} (MatMul): both operands pad with non-zero values ({}, {})",
                pads.0, pads.1
            )));
        }
        let lead_vars = lb.shapes[a].num_vars() - nv(m) - nv(k);
        lb.pads[output] = 0;
        Ok(Self {
            i,
            a,
            b,
            output,
            m,
            k,
            n,
            lead_vars,
            pads,
        })
    }

    /// `(z_h, z_m, z_n)` of an output point.
    fn split<'z>(&self, z: &'z [EF]) -> (&'z [EF], &'z [EF], &'z [EF]) {
        let (h, rest) = z.split_at(self.lead_vars);
        let (zm, zn) = rest.split_at(nv(self.m));
        (h, zm, zn)
    }

    /// What the folds miss against the operands' MLEs at the routed points.
    fn shifts(&self, z: &[EF]) -> (EF, EF) {
        let (_, zm, zn) = self.split(z);
        let shift = |pad: i64, mass: EF| EF::from(f_from_i64(pad)) * (EF::ONE - mass);
        (
            shift(self.pads.0, valid_mass(zm, self.m)),
            shift(self.pads.1, valid_mass(zn, self.n)),
        )
    }

    /// `eq(z_h, ·)` and the folds `A`, `B` of one claim over `(h, k)`
    /// (prover side).
    fn folds(&self, a: &[F], b: &[F], z: &[EF]) -> [Vec<EF>; 3] {
        let (zh, zm, zn) = self.split(z);
        let (kp, mp, np) = (
            self.k.next_power_of_two(),
            self.m.next_power_of_two(),
            self.n.next_power_of_two(),
        );
        let eq_h = eq_table(zh);
        let (eq_m, eq_n) = (masked_eq(zm, self.m), masked_eq(zn, self.n));
        let heads = eq_h.len();
        let fold_a: Vec<EF> = (0..heads * kp)
            .into_par_iter()
            .map(|hk| {
                let (h, t) = (hk / kp, hk % kp);
                (0..self.m)
                    .map(|i| eq_m[i] * a[(h * mp + i) * kp + t])
                    .sum()
            })
            .collect();
        let fold_b: Vec<EF> = (0..heads * kp)
            .into_par_iter()
            .map(|hk| {
                let row = &b[hk * np..];
                (0..self.n).map(|j| eq_n[j] * row[j]).sum()
            })
            .collect();
        let eq_hk: Vec<EF> = eq_h
            .iter()
            .flat_map(|&e| std::iter::repeat_n(e, kp))
            .collect();
        [eq_hk, fold_a, fold_b]
    }

    /// After the sumcheck at `r = (r_h, r_k)`: absorbs the folds' values and
    /// routes the operand claims (shifted back to MLE values).
    fn close(
        &self,
        tr: &mut Transcript,
        book: &mut ClaimBook,
        layout: &Layout,
        claims: &[PointClaim],
        r: &[EF],
        evals: &[(EF, EF)],
    ) {
        for &(x, y) in evals {
            tr.absorb_ef(x);
            tr.absorb_ef(y);
        }
        let (rh, rk) = r.split_at(self.lead_vars);
        for ((z, _), &(fa, fb)) in claims.iter().zip(evals) {
            let (_, zm, zn) = self.split(z);
            let (sa, sb) = self.shifts(z);
            let pa: Vec<EF> = rh.iter().chain(zm).chain(rk).copied().collect();
            let pb: Vec<EF> = rh.iter().chain(rk).chain(zn).copied().collect();
            book.route(layout, self.a, pa, fa + sa);
            book.route(layout, self.b, pb, fb + sb);
        }
    }
}

impl OpProof for MatMul {
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
        p.tr.label(b"matmul");
        let rho = batching_coefficients(p.tr, claims.len());
        let (a, b) = (p.padded(self.a), p.padded(self.b));
        let mut mles = Vec::with_capacity(3 * claims.len());
        let mut terms = Vec::with_capacity(claims.len());
        for (j, ((z, _), &c)) in claims.iter().zip(&rho).enumerate() {
            mles.extend(self.folds(&a, &b, z).map(Mle::Ext));
            terms.push(Term {
                coeff: c,
                factors: vec![3 * j, 3 * j + 1, 3 * j + 2],
            });
        }
        let sc = sumcheck::prove(
            SumOfProducts {
                num_vars: self.lead_vars + nv(self.k),
                mles,
                terms,
            },
            p.tr,
        );
        let evals: Vec<(EF, EF)> = sc.final_evals.chunks(3).map(|t| (t[1], t[2])).collect();
        self.close(p.tr, p.book, layout, &claims, &sc.point, &evals);
        Some(LayerProof::MatMul {
            sumcheck: sc.proof,
            evals,
        })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let LayerProof::MatMul {
            sumcheck: sc,
            evals,
        } = proofs.next(i, "MatMul")?
        else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected a MatMul proof"
            )));
        };
        if evals.len() != claims.len() {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: wrong number of operand evaluations"
            )));
        }
        v.tr.label(b"matmul");
        let rho = batching_coefficients(v.tr, claims.len());
        let claimed: EF = claims.iter().zip(&rho).map(|((_, y), r)| *r * *y).sum();
        let sub = sumcheck::verify(self.lead_vars + nv(self.k), 3, claimed, sc, v.tr)?;
        let rh = &sub.point[..self.lead_vars];
        let expected: EF = claims
            .iter()
            .zip(evals)
            .zip(&rho)
            .map(|(((z, _), (x, y)), r)| *r * eq_eval(self.split(z).0, rh) * *x * *y)
            .sum();
        if expected != sub.expected_eval {
            return Err(VerifyError::Sumcheck(format!(
                "op #{i} (MatMul): the final evaluation does not match the operand folds"
            )));
        }
        self.close(v.tr, v.book, v.layout, &claims, &sub.point, evals);
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        let k = c.take(self.output);
        if k > 0 {
            c.route(self.a, k);
            c.route(self.b, k);
        }
    }

    fn soundness_terms(&self, _: &Layout) -> Vec<(&'static str, f64)> {
        vec![
            ("sumcheck", sumcheck_bits(self.lead_vars + nv(self.k), 3)),
            ("claim batching ρ", batching_bits()),
        ]
    }

    /// Needs an inner variable: it is the last of the sumcheck, the one
    /// both operands read (a `K = 1` outer product has no step).
    fn zk_step(&self, _: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        if nv(self.k) == 0 {
            return None;
        }
        Some(ZkStep {
            sumcheck: Some((
                self.zk_num_vars(),
                3 + usize::from(masked(self.a)) + usize::from(masked(self.b)),
            )),
            tensors: vec![self.a, self.b],
            columns: Vec::new(),
        })
    }

    fn zk_head_limits(&self) -> Vec<(TensorId, usize)> {
        self.head_limits()
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        self.prove_zk_step(p)
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        self.verify_zk_step(v, proofs)
    }
}

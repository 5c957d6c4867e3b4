//! `MatMul`'s zero-knowledge step.
//!
//! The plain step folds `a` at each claim's own `z_m` and `b` at its `z_n`
//! and moves the claims to those folds; in zero knowledge the output claims
//! arrive masked by the output's claim mask (and batched), and both operands
//! are private, so nothing may be opened at a claim's own coordinates.
//! Instead one masked sumcheck runs over the whole product index
//! `x = (h, m, n, k)`:
//!
//! `Σ_j ρ_j v_j = Σ_x E(h, m, n)·a(h, m, k)·b(h, k, n)`,
//! `E = Σ_j ρ_j eq(z_jh, h)·eq(z_jm, m)·[m < M]·eq(z_jn, n)·[n < N]`,
//!
//! `E` a public factor (its final value the verifier recomputes per axis),
//! each operand a table over its own variables broadcast over the others
//! (`TensorRead::Spread`): it is read through a mask over its own
//! variables, so the value sent is `a(r_a) + Z(r_a)·R(r_a_head)` at its own
//! point `r_a = (r_h, r_m, r_k)` — the claim its `W` opens to, or the masked
//! claim its producer proves — and the same for `b` at `(r_h, r_k, r_n)`.
//! The last variable (the least significant of `k`) is read by both
//! operands, which `Z` needs; `b`'s mask must not read it (`head_limits`).
//!
//! Padding as in the plain step: `E` is zero on the output's padded rows
//! and columns, which defines the output's pad as 0; padded inner indices
//! and padded heads contribute `pad_a·pad_b = 0`.
//!
//! Cost: tables of `H·M·N·K` entries (the product's own work), round degree
//! 5 with both operands private.

use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_eval, eq_table};
use zkinfer_protocol::sumcheck::{Mle, SumOfProducts, Term};
use zkinfer_protocol::{VerifyError, EF};

use super::super::{check_public_factor, hadamard, LayerProof, LayerProofs};
use super::MatMul;
use crate::layout::nv;
use crate::spatial::{masked_eq, masked_eq_at};
use crate::zk::{
    BatchedClaims, TensorRead, VarMap, ZkCheck, ZkPending, ZkProverCtx, ZkVerifierCtx,
};

const LABEL: &[u8] = b"matmul";

impl MatMul {
    /// `(h, m, n, k)` variable counts.
    fn zk_blocks(&self) -> [usize; 4] {
        [self.lead_vars, nv(self.m), nv(self.n), nv(self.k)]
    }

    /// Variables of the zero-knowledge sumcheck.
    pub(super) fn zk_num_vars(&self) -> usize {
        self.zk_blocks().iter().sum()
    }

    /// Where `a`'s `(h, m, k)` and `b`'s `(h, k, n)` sit in `(h, m, n, k)`.
    fn var_maps(&self) -> (VarMap, VarMap) {
        let [l, m, n, k] = self.zk_blocks();
        let a = VarMap {
            blocks: [(0, l), (l, m), (l + m + n, k)],
        };
        let b = VarMap {
            blocks: [(0, l), (l + m + n, k), (l + m, n)],
        };
        (a, b)
    }

    /// `E` (factor 0) times the two operands (factors 1, 2, spread reads).
    fn zk_terms(&self) -> (Vec<Term>, [(usize, TensorRead); 2]) {
        let (ma, mb) = self.var_maps();
        let term = Term {
            coeff: EF::ONE,
            factors: vec![0, 1, 2],
        };
        (
            vec![term],
            [
                (1, TensorRead::Spread(self.a, ma)),
                (2, TensorRead::Spread(self.b, mb)),
            ],
        )
    }

    /// The most head bits each operand's mask may read: `b`'s head must
    /// stop before the last variable (`k`'s least significant), `a`'s
    /// holds it as its own last.
    pub(super) fn head_limits(&self) -> Vec<(zkinfer_model::ir::TensorId, usize)> {
        let [l, m, _, k] = self.zk_blocks();
        vec![(self.a, l + m + k), (self.b, l + k)]
    }

    /// `E` over `(h, m, n, k)` (constant in `k`).
    fn e_table(&self, pending: &[ZkPending], rho: &[EF]) -> Vec<EF> {
        let [_, mv, nv_, kv] = self.zk_blocks();
        let mut e = vec![EF::ZERO; 1 << (self.lead_vars + mv + nv_)];
        for (c, &r) in pending.iter().zip(rho) {
            let (zh, zm, zn) = self.split(&c.point);
            let (eh, em, en) = (eq_table(zh), masked_eq(zm, self.m), masked_eq(zn, self.n));
            for (h, &x) in eh.iter().enumerate() {
                for (m, &y) in em.iter().enumerate().take(self.m) {
                    let xy = r * x * y;
                    let row = ((h << mv) | m) << nv_;
                    for (n, &w) in en.iter().enumerate().take(self.n) {
                        e[row | n] += xy * w;
                    }
                }
            }
        }
        e.iter()
            .flat_map(|&v| std::iter::repeat_n(v, 1 << kv))
            .collect()
    }

    /// `E` at the sumcheck's point (the verifier's side).
    fn e_at(&self, pending: &[ZkPending], rho: &[EF], point: &[EF]) -> EF {
        let [l, m, n, _] = self.zk_blocks();
        let (rh, rest) = point.split_at(l);
        let (rm, rest) = rest.split_at(m);
        let rn = &rest[..n];
        pending
            .iter()
            .zip(rho)
            .map(|(c, &r)| {
                let (zh, zm, zn) = self.split(&c.point);
                r * eq_eval(zh, rh) * masked_eq_at(zm, rm, self.m) * masked_eq_at(zn, rn, self.n)
            })
            .sum()
    }

    /// The operands' tables broadcast over `(h, m, n, k)`.
    fn spread(&self, a: &[F], b: &[F]) -> (Vec<F>, Vec<F>) {
        let [_, mv, nv_, kv] = self.zk_blocks();
        let len = 1usize << self.zk_num_vars();
        let (km, nm, mm) = ((1 << kv) - 1, (1 << nv_) - 1, (1 << mv) - 1);
        let at = |x: usize| {
            let (k, n, m, h) = (
                x & km,
                (x >> kv) & nm,
                (x >> (kv + nv_)) & mm,
                x >> (kv + nv_ + mv),
            );
            (
                a[(((h << mv) | m) << kv) | k],
                b[(((h << kv) | k) << nv_) | n],
            )
        };
        (0..len).map(at).unzip()
    }

    pub(super) fn prove_zk_step(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        let pending = p.take_claims(self.output);
        if pending.is_empty() {
            return None;
        }
        let (rho, _) = hadamard::zk_open(p.tr, LABEL, &pending);
        let (terms, reads) = self.zk_terms();
        let (a, b) = self.spread(&p.padded(self.a), &p.padded(self.b));
        let poly = SumOfProducts {
            num_vars: self.zk_num_vars(),
            mles: vec![
                Mle::Ext(self.e_table(&pending, &rho)),
                Mle::Base(a),
                Mle::Base(b),
            ],
            terms,
        };
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let run = p.prove_claims(self.i, poly, &reads, batched);
        Some(run.into_layer(Vec::new()))
    }

    pub(super) fn verify_zk_step(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        let pending = v.take_claims(self.output);
        if pending.is_empty() {
            return Ok(());
        }
        let (rho, claimed_sum) = hadamard::zk_open(v.tr, LABEL, &pending);
        let (terms, reads) = self.zk_terms();
        let batched = BatchedClaims::new(self.output, &pending, &rho);
        let n = self.zk_num_vars();
        let check = ZkCheck::claims(self.i, n, &terms, &reads, batched, claimed_sum);
        let (point, final_evals) = v.verify_message(proofs, "MatMul", 3, &check)?;
        check_public_factor(
            self.i,
            "MatMul",
            final_evals[0],
            self.e_at(&pending, &rho, &point),
        )
    }
}

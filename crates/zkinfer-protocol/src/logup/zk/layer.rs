//! One LogUp-GKR layer whose claims in and out are masked
//! ([`crate::sumcheck::zk::masked_eval::interlayer`]).
//!
//! Layer `k`'s sumcheck consumes the halves `[p0, p1, q0, q1]` of tree
//! layer `k + 1` (each over `k` variables) and proves the claims on layer
//! `k`, which the layer above left as the halves of layer `k` at its point
//! `r'`, folded at `μ`. Here every half is a never-committed tensor with
//! its own [`ClaimMask`] (`HalfMasks`, one per tree and layer):
//!
//! - **out**: the halves of layer `k + 1` are read as `V̇ = V + Z·S`, so the
//!   layer sends `[ṗ0, ṗ1, q̇0, q̇1](r)`, never the tree's values;
//! - **in**: the claimed sum is the masked one the layer above sent,
//!   `Σ_i cp_i·((1 − μ)·ṗ0_i + μ·ṗ1_i)(r') + cq_i·(…q̇…)`, each of the four
//!   halves an incoming claim at `r'` with weight `cp_i·(1 − μ)`, `cp_i·μ`,
//!   `cq_i·(1 − μ)`, `cq_i·μ`; the layer sends `R(r'_head, c_0)` for each.
//!
//! Each term of the layer polynomial has two masked factors, so the rounds
//! have degree [`MASKED_LAYER_DEGREE`] `= 3 + 2`, and the zero-knowledge mask
//! `g` has it. The view — `G`, the rounds, the `g_i(r_i)`, the masked
//! halves, the `R` values — is uniform given the incoming (masked) claim
//! and the challenges (`layer_tests::simulated_layers_cannot_be_told_from_real_ones`).
//!
//! Needs `k ≥ 3`: the halves' masks are read at the point's head, which
//! must be a variable that is not the last. The driver ([`super::prove_many`])
//! uses constant masks read at a public head instead, which serve every
//! layer; this step stays as the head-read variant (a tensor read at
//! several points needs it) with its simulator (`layer_tests.rs`).
//!
//! # Transcript
//!
//! ```text
//! [the layer above absorbed the incoming halves]
//! μ = challenge_ef()
//! label(b"logup/layer"); absorb_u64(k); λ = challenge_ef()
//! the masked-evaluation sumcheck with incoming claims (`masked_eval`),
//!     eq point (μ, r'), its final evaluations the masked halves
//! ```

use serde::{Deserialize, Serialize};

use crate::field::{PrimeCharacteristicRing, EF};
use crate::pcs::Claim;
use crate::sumcheck::zk::masked_eval::{
    self, ClaimMask, EvalMask, IncomingClaim, MaskedEvals, MaskedMle, MaskedStatement,
};
use crate::sumcheck::zk::{MaskPolynomial, ZkSumcheckProof};
use crate::sumcheck::{Mle, SumOfProducts, Term};
use crate::transcript::Transcript;
use crate::VerifyError;

use super::super::transcript::{draw_layer_lambda, lerp};

/// Round degree of a masked layer: `eq · ṗ · q̇`, each masked factor one
/// more.
pub const MASKED_LAYER_DEGREE: usize = 5;

/// The [`ClaimMask`]s of one tree's halves `[p0, p1, q0, q1]` at one layer.
pub type HalfMasks = [ClaimMask; 4];

/// The claims a masked layer leaves to the next: its sumcheck's point and,
/// per tree, the masked halves there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskedLayerClaims {
    pub point: Vec<EF>,
    pub evals: Vec<[EF; 4]>,
}

/// What a masked layer sends.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MaskedLayerProof {
    pub sumcheck: ZkSumcheckProof,
    /// Per tree: `[ṗ0, ṗ1, q̇0, q̇1]` at the sumcheck point.
    pub evals: Vec<[EF; 4]>,
    /// Per tree and incoming half: `R(r'_head, c_0)`.
    pub r_values: Vec<EF>,
}

/// Where a layer's masks sit in the hiding commitment: the zero-knowledge
/// mask `g` is polynomial `mask_poly`; the incoming halves' `R` of tree `i`
/// are polynomials `incoming_poly + 4i ..= incoming_poly + 4i + 3`, each
/// with `head_vars` head variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerLayout {
    pub mask_poly: usize,
    pub incoming_poly: usize,
    pub head_vars: usize,
}

/// Layer `k`'s statement, shared by prover and verifier: draws `μ` and `λ`,
/// then [`layer_statement_at`].
fn layer_statement(
    t: &mut Transcript,
    k: usize,
    incoming: &MaskedLayerClaims,
    layout: &LayerLayout,
) -> (Vec<EF>, EF, Vec<IncomingClaim>, Vec<Term>) {
    let mu = t.challenge_ef();
    let lambda = draw_layer_lambda(t, k);
    layer_statement_at(incoming, layout, mu, lambda)
}

/// The statement at challenges `μ`, `λ`: the eq point `(μ, r')`, the
/// claimed sum, the incoming claims and the layer polynomial's terms (tree
/// `i`'s halves are tables `4i..4i + 4`).
pub(super) fn layer_statement_at(
    incoming: &MaskedLayerClaims,
    layout: &LayerLayout,
    mu: EF,
    lambda: EF,
) -> (Vec<EF>, EF, Vec<IncomingClaim>, Vec<Term>) {
    let eq_point: Vec<EF> = std::iter::once(mu)
        .chain(incoming.point.iter().copied())
        .collect();
    let mut claimed = EF::ZERO;
    let mut claims = Vec::with_capacity(4 * incoming.evals.len());
    let mut terms = Vec::with_capacity(3 * incoming.evals.len());
    let mut cp = EF::ONE;
    for (i, e) in incoming.evals.iter().enumerate() {
        let cq = cp * lambda;
        claimed += cp * lerp(e[0], e[1], mu) + cq * lerp(e[2], e[3], mu);
        let weights = [cp * (EF::ONE - mu), cp * mu, cq * (EF::ONE - mu), cq * mu];
        for (j, coeff) in weights.into_iter().enumerate() {
            claims.push(IncomingClaim {
                poly: layout.incoming_poly + 4 * i + j,
                head_vars: layout.head_vars,
                point: incoming.point.clone(),
                coeff,
                fixed_head: None,
            });
        }
        let [p0, p1, q0, q1] = [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3];
        for (coeff, factors) in [(cp, [p0, q1]), (cp, [p1, q0]), (cq, [q0, q1])] {
            terms.push(Term {
                coeff,
                factors: factors.to_vec(),
            });
        }
        cp = cq * lambda;
    }
    (eq_point, claimed, claims, terms)
}

/// Every half of every tree read as `V̇`, none committed.
fn masked_halves(trees: usize) -> Vec<MaskedMle> {
    (0..4 * trees)
        .map(|mle| MaskedMle { mle, poly: None })
        .collect()
}

/// Proves layer `k` (`k ≥ 3`, `k` variables): `halves[i]` are tree `i`'s
/// layer-`(k + 1)` halves `[p0, p1, q0, q1]` (`2^k` entries each), read
/// through `out_masks[i]`; `incoming` is what layer `k − 1` sent, masked by
/// `in_masks[i]` (committed as `layout` says, as is `mask`, of `k`
/// variables and degree [`MASKED_LAYER_DEGREE`]). Returns the proof, the
/// claims it leaves to layer `k + 1`, and its claims on the hiding
/// commitment (`g`'s and the incoming `R`s').
///
/// # Panics
///
/// On shapes that do not fit (`k < 3`, a mask of another size, a tree
/// count that differs between the arguments).
#[allow(clippy::too_many_arguments)]
pub fn prove_masked_layer(
    k: usize,
    incoming: &MaskedLayerClaims,
    in_masks: &[HalfMasks],
    halves: Vec<[Vec<EF>; 4]>,
    out_masks: &[HalfMasks],
    mask: &MaskPolynomial,
    layout: &LayerLayout,
    transcript: &mut Transcript,
) -> (MaskedLayerProof, MaskedLayerClaims, Vec<Claim>) {
    let trees = halves.len();
    assert!(k >= 3, "masked layers start at k = 3");
    assert_eq!(incoming.point.len(), k - 1, "incoming point");
    assert!(
        incoming.evals.len() == trees && in_masks.len() == trees && out_masks.len() == trees,
        "one claim and two mask sets per tree"
    );
    assert!(in_masks
        .iter()
        .flatten()
        .all(|r| r.head_vars() == layout.head_vars));
    let (eq_point, _, claims, terms) = layer_statement(transcript, k, incoming, layout);
    let with_r: Vec<(IncomingClaim, &ClaimMask)> =
        claims.into_iter().zip(in_masks.iter().flatten()).collect();
    let s_out: Vec<EvalMask> = out_masks.iter().flatten().map(|r| r.eval_mask(k)).collect();
    let masked: Vec<(MaskedMle, &EvalMask)> =
        masked_halves(trees).into_iter().zip(&s_out).collect();
    let poly = SumOfProducts {
        num_vars: k,
        mles: halves.into_iter().flatten().map(Mle::Ext).collect(),
        terms,
    };
    let out = masked_eval::prove_with_incoming(
        poly,
        Some(&eq_point),
        &masked,
        &with_r,
        mask,
        layout.mask_poly,
        transcript,
    );
    let evals: Vec<[EF; 4]> = out
        .zk
        .final_evals
        .chunks(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect();
    let proof = MaskedLayerProof {
        sumcheck: out.zk.proof,
        evals: evals.clone(),
        r_values: out.r_values,
    };
    let claims = [out.zk.mask_claims, out.r_claims].concat();
    let next = MaskedLayerClaims {
        point: out.zk.point,
        evals,
    };
    (proof, next, claims)
}

/// Verifies layer `k` of a [`prove_masked_layer`] proof given the claims
/// layer `k − 1` left; returns the claims for layer `k + 1` and those the
/// hiding commitment must open to.
pub fn verify_masked_layer(
    k: usize,
    incoming: &MaskedLayerClaims,
    proof: &MaskedLayerProof,
    layout: &LayerLayout,
    transcript: &mut Transcript,
) -> Result<(MaskedLayerClaims, Vec<Claim>), VerifyError> {
    let trees = incoming.evals.len();
    if k < 3 || incoming.point.len() != k - 1 || proof.evals.len() != trees {
        return Err(VerifyError::Malformed(
            "masked lookup layer of wrong shape".into(),
        ));
    }
    let (eq_point, claimed, claims, terms) = layer_statement(transcript, k, incoming, layout);
    let final_evals: Vec<EF> = proof.evals.iter().flatten().copied().collect();
    let statement = MaskedStatement {
        num_vars: k,
        terms: &terms,
        masked: &masked_halves(trees),
        eq_point: Some(&eq_point),
        incoming: &claims,
    };
    let sent = MaskedEvals {
        final_evals: &final_evals,
        r_values: &proof.r_values,
    };
    let sub = masked_eval::verify_with_incoming(
        &statement,
        claimed,
        &proof.sumcheck,
        &sent,
        layout.mask_poly,
        transcript,
    )?;
    let next = MaskedLayerClaims {
        point: sub.point,
        evals: proof.evals.clone(),
    };
    Ok((next, [sub.mask_claims, sub.r_claims].concat()))
}

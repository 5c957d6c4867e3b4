//! Zero-knowledge LogUp-GKR: the layer sumchecks masked.
//!
//! The same protocol as [`super::prove`] / [`super::verify`] (module doc of
//! [`super`]), with every layer's eq-weighted degree-3 sumcheck run as a
//! zero-knowledge sumcheck ([`crate::sumcheck::zk`]). Layer `k`'s mask has
//! `k` variables and degree 3 ([`layer_masks`]); all masks are committed by
//! the caller in **one** hiding commitment, mask of layer `k` its polynomial
//! `first_mask_poly + k − 1` (so it can sit beside the witness columns, which
//! are committed at the same moment), and opened **once** with every layer's
//! [`mask claims`](crate::sumcheck::zk::mask_claims).
//!
//! # Transcript
//!
//! ```text
//! [caller: the commitment holding the masks, and the witness columns', absorbed]
//! label(b"logup/zk")
//! the plain LogUp-GKR transcript, each layer's sumcheck the zero-knowledge one
//! [caller: the opening of the returned mask claims]
//! ```
//!
//! # What it hides, what it does not
//!
//! It hides the layers' round polynomials. Still in the clear: the tops (the
//! trees' first layer, so each witness tree's root fraction), each layer's
//! `[p0, p1, q0, q1]` at its point (the layer sumcheck's final evaluations)
//! and the witness column evaluations at the leaves. [`prove_masked_layer`]
//! is the layer step that hides a middle layer's `[p0, p1, q0, q1]`
//! (masked claims in and out, `layer.rs`); this driver does not use it yet
//! (docs/zero-knowledge.md).
//!
//! # Soundness
//!
//! The plain LogUp-GKR terms, with each layer's sumcheck charged as a
//! zero-knowledge one of `k` variables and degree 3
//! ([`crate::security::zk_sumcheck_bits`]), and the masks' opening once.

use rand::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::field::{EF, F};
use crate::mle::num_vars_for;
use crate::pcs::Claim;
use crate::sumcheck::zk::{self as zk_sumcheck, MaskPolynomial, ZkSumcheckProof};
use crate::sumcheck::Subclaim;
use crate::transcript::Transcript;
use crate::VerifyError;

use super::prover::prove_gkr;
use super::verifier::{verify_gkr, GkrSent, LAYER_DEGREE};
use super::{LookupClaims, LookupInstance, LookupTable, LookupWitness};

mod layer;
#[cfg(test)]
mod layer_tests;
#[cfg(test)]
mod tests;

pub use layer::{
    prove_masked_layer, verify_masked_layer, HalfMasks, LayerLayout, MaskedLayerClaims,
    MaskedLayerProof, MASKED_LAYER_DEGREE,
};

/// A zero-knowledge LogUp-GKR proof (the masks' commitment and opening are
/// the caller's).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ZkLookupProof {
    /// As [`super::LookupProof::tops`].
    pub tops: Vec<Vec<EF>>,
    /// GKR layers `k = 1 .. max_depth − 1`.
    pub layers: Vec<ZkLayerProof>,
    /// As [`super::LookupProof::witness_evals`].
    pub witness_evals: Vec<Vec<EF>>,
}

/// One GKR layer reduction with a masked sumcheck.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ZkLayerProof {
    pub sumcheck: ZkSumcheckProof,
    /// Per tree deeper than `k`: `[p0, p1, q0, q1]` at the sumcheck point.
    pub evals: Vec<[EF; 4]>,
}

/// The layers' masks of a lookup over `table_len` rows with witnesses of
/// `witness_lens` rows: layer `k` (`1 ≤ k < max_depth`) gets `k` variables
/// of degree 3, sampled from `rng` (a CSPRNG). Commit their
/// [`MaskPolynomial::table`]s, in order, as consecutive polynomials.
pub fn layer_masks<R: CryptoRng + ?Sized>(
    table_len: usize,
    witness_lens: &[usize],
    rng: &mut R,
) -> Vec<MaskPolynomial> {
    (1..max_depth(table_len, witness_lens))
        .map(|k| MaskPolynomial::random(k, LAYER_DEGREE, rng))
        .collect()
}

fn max_depth(table_len: usize, witness_lens: &[usize]) -> usize {
    witness_lens
        .iter()
        .chain(std::iter::once(&table_len))
        .map(|&l| num_vars_for(l))
        .max()
        .unwrap_or(0)
}

/// [`super::prove`] with masked layer sumchecks; the masks' commitment has
/// been absorbed. Returns the proof, the claims on the committed columns and
/// the claims to open on the masks' commitment.
///
/// # Panics
///
/// As [`super::prove`], and if `masks` are not [`layer_masks`]' shapes.
pub fn prove(
    table: &LookupTable,
    witnesses: &[LookupWitness],
    multiplicities: &[F],
    masks: &[MaskPolynomial],
    first_mask_poly: usize,
    transcript: &mut Transcript,
) -> (ZkLookupProof, LookupClaims, Vec<Claim>) {
    let lens: Vec<usize> = witnesses.iter().map(LookupWitness::len).collect();
    assert_eq!(
        masks.len(),
        max_depth(table.len(), &lens).saturating_sub(1),
        "logup::zk::prove: one mask per layer"
    );
    absorb_zk_label(transcript);
    let mut mask_claims = Vec::new();
    let instance = LookupInstance {
        table,
        witnesses,
        multiplicities,
    };
    let mut run = prove_gkr(&[instance], transcript, |k, point, poly, t| {
        let out =
            zk_sumcheck::prove_eq_weighted(point, poly, &masks[k - 1], first_mask_poly + k - 1, t);
        mask_claims.extend(out.mask_claims);
        (out.proof, out.point, out.final_evals)
    });
    let claims = run.claims.pop().expect("one instance, one set of claims");
    let layers = run
        .layers
        .into_iter()
        .map(|(sumcheck, evals)| ZkLayerProof { sumcheck, evals })
        .collect();
    let proof = ZkLookupProof {
        tops: run.tops,
        layers,
        witness_evals: run.witness_evals,
    };
    (proof, claims, mask_claims)
}

/// [`super::verify`] of a [`prove`] proof, the masks' commitment absorbed.
/// Returns the claims on the committed columns and the claims the masks'
/// commitment must open to (the caller verifies that opening).
pub fn verify(
    table: &LookupTable,
    witness_lens: &[usize],
    proof: &ZkLookupProof,
    first_mask_poly: usize,
    transcript: &mut Transcript,
) -> Result<(LookupClaims, Vec<Claim>), VerifyError> {
    absorb_zk_label(transcript);
    let layers: Vec<(&ZkSumcheckProof, &[[EF; 4]])> = proof
        .layers
        .iter()
        .map(|l| (&l.sumcheck, &l.evals[..]))
        .collect();
    let sent = GkrSent {
        tops: &proof.tops,
        layers: &layers,
        witness_evals: &proof.witness_evals,
    };
    let mut mask_claims = Vec::new();
    let mut claims = verify_gkr(
        &[(table, witness_lens)],
        &sent,
        transcript,
        |k, claim, sc, t| {
            let sub = zk_sumcheck::verify(k, LAYER_DEGREE, claim, sc, first_mask_poly + k - 1, t)?;
            mask_claims.extend(sub.mask_claims);
            Ok(Subclaim {
                point: sub.point,
                expected_eval: sub.expected_eval,
            })
        },
    )?;
    let claims = claims.pop().expect("one instance, one set of claims");
    Ok((claims, mask_claims))
}

/// Separates the zero-knowledge transcript from the plain one's.
fn absorb_zk_label(t: &mut Transcript) {
    t.label(b"logup/zk");
}

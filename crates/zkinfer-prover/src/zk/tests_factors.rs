//! The public factors' checks are load-bearing: for every op kind whose
//! zero-knowledge step multiplies a private read by a public functional,
//! a prover that runs its sumcheck honestly on another functional with the
//! same hypercube sum (`ctx::forge`) is refused — by that op's own check
//! of the functional's final value, not by anything incidental.

use zkinfer_protocol::VerifyError;

use super::ctx::forge::{self, Forged, Site};
use super::tests::{
    add_const_model, add_model, mlp, model_key, mul_const_model, rng, select_model, sum_pool_model,
    transpose_model,
};
use super::tests_conv::strided_conv_model;
use super::tests_matmul::input_product_model;
use super::tests_maxpool::padded_pools_model;
use super::{prove_zk, verify_zk, Visibility};
use crate::keys::ProvingKey;
use crate::synthetic;

/// Every step's check ([`crate::ops::check_public_factor`]).
const PUBLIC_FACTOR: &str = "a public factor's final value is wrong";

/// Every op named `kind` in turn, its `site` sumcheck's public factor
/// forged: the proof is built, and the verifier refuses it with `check`
/// (the op's public-factor error) at that op.
fn refused_by_the_public_factor(pk: &ProvingKey, x: &[i64], kind: &str, site: Site, check: &str) {
    let ops: Vec<usize> = (0..pk.model.ops.len())
        .filter(|&i| pk.model.ops[i].name() == kind)
        .collect();
    assert!(!ops.is_empty(), "the model has no {kind}");
    for op in ops {
        let (out, log) = forge::armed(op, site, || {
            prove_zk(pk, x, Visibility::PRIVATE_INPUT, &mut rng(60 + op as u64))
        });
        let out = out.expect("the forged proof is built");
        assert!(
            matches!(log[..], [Forged::Shifted { .. }]),
            "op #{op} ({kind}): {log:?}"
        );
        match verify_zk(&pk.vk, None, &out.output, &out.proof) {
            Err(VerifyError::Sumcheck(e)) if e.contains(&format!("op #{op} ({kind})")) => {
                assert!(e.contains(check), "op #{op}: {e}");
            }
            other => panic!("op #{op} ({kind}) {site:?}: not refused by its check: {other:?}"),
        }
    }
}

/// Dense's weight factor, recombined from the weight evaluations (both
/// layers: the first reads the private input). Requant's zero-check has no
/// public factor (its `eq(τ, ·)` is the masked sumcheck's own, which the
/// protocol evaluates): the armed hook finds none and the proof stands.
#[test]
fn dense_weight_factors_are_checked_and_requant_has_none() {
    let (pk, x) = mlp();
    refused_by_the_public_factor(&pk, &x, "Dense", Site::Outer, PUBLIC_FACTOR);
    let requant = (0..pk.model.ops.len())
        .find(|&i| pk.model.ops[i].name() == "Requant")
        .expect("a Requant");
    let (out, log) = forge::armed(requant, Site::Outer, || {
        prove_zk(&pk, &x, Visibility::PRIVATE_INPUT, &mut rng(59))
    });
    assert_eq!(log, vec![Forged::NoPublicFactor]);
    let out = out.expect("proves");
    verify_zk(&pk.vk, None, &out.output, &out.proof).expect("an unforged proof verifies");
}

#[test]
fn add_functional_is_checked() {
    let (pk, x) = model_key(add_model(), 21);
    refused_by_the_public_factor(&pk, &x, "Add", Site::Outer, PUBLIC_FACTOR);
}

#[test]
fn add_const_functional_is_checked() {
    let (pk, x) = model_key(add_const_model(), 22);
    refused_by_the_public_factor(&pk, &x, "AddConst", Site::Outer, PUBLIC_FACTOR);
}

#[test]
fn mul_const_functional_is_checked() {
    let (pk, x) = model_key(mul_const_model(), 23);
    refused_by_the_public_factor(&pk, &x, "MulConst", Site::Outer, PUBLIC_FACTOR);
}

#[test]
fn mul_functional_is_checked() {
    let (pk, x) = model_key(synthetic::gated_mlp(40, 32, 16, 4), 24);
    refused_by_the_public_factor(&pk, &x, "Mul", Site::Outer, PUBLIC_FACTOR);
}

#[test]
fn select_functional_is_checked() {
    let (pk, x) = model_key(select_model(), 25);
    refused_by_the_public_factor(&pk, &x, "Select", Site::Outer, PUBLIC_FACTOR);
}

#[test]
fn transpose_functional_is_checked() {
    let (pk, x) = model_key(transpose_model(), 26);
    refused_by_the_public_factor(&pk, &x, "Transpose", Site::Outer, PUBLIC_FACTOR);
}

/// The window functional, and the padded per-position `MulConst` before it.
#[test]
fn sum_pool_functional_is_checked() {
    let (pk, x) = model_key(sum_pool_model(), 27);
    refused_by_the_public_factor(&pk, &x, "SumPool", Site::Outer, PUBLIC_FACTOR);
    refused_by_the_public_factor(&pk, &x, "MulConst", Site::Outer, PUBLIC_FACTOR);
}

#[test]
fn conv_functional_is_checked() {
    let (pk, x) = model_key(strided_conv_model(), 41);
    refused_by_the_public_factor(&pk, &x, "Conv2d", Site::Outer, PUBLIC_FACTOR);
}

/// Both of MaxPool's sumchecks: the zero-check's padding mask `P` and the
/// inner sumcheck's shift functional `K` (both pools read padding).
#[test]
fn max_pool_padding_mask_and_shift_functional_are_checked() {
    let (pk, x) = model_key(padded_pools_model(), 17);
    refused_by_the_public_factor(&pk, &x, "MaxPool", Site::Outer, PUBLIC_FACTOR);
    refused_by_the_public_factor(&pk, &x, "MaxPool", Site::Inner, PUBLIC_FACTOR);
}

#[test]
fn mat_mul_functional_is_checked() {
    let (pk, x) = model_key(input_product_model(), 36);
    refused_by_the_public_factor(&pk, &x, "MatMul", Site::Outer, PUBLIC_FACTOR);
}

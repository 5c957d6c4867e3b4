//! The statement's input and output: the private input's range check by
//! limbs (`input_range.rs`), its completeness at both ends of the bound and
//! the malicious prover's forged inputs and limbs.

use zkinfer_model::ir::QuantModel;
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::VerifyError;

use super::input_range::InputRange;
use super::plan::ZkPlan;
use super::tests::{mlp, model_key, rng};
use super::*;
use crate::keys::ProvingKey;
use crate::layout::TableKey;
use crate::synthetic;

/// An MLP whose input bound needs two limbs per side (`2B = 2000`).
fn wide_input_mlp() -> (ProvingKey, Vec<i64>) {
    let mut model = synthetic::mlp(&[40, 32, 16], 5);
    model.tensors[model.input].bound = 1000;
    // The first layer's accumulator grows with it.
    let zkinfer_model::ir::QOp::Dense { output, .. } = model.ops[0] else {
        unreachable!("an MLP starts with a Dense")
    };
    model.tensors[output].bound = model.tensors[output].bound * 1000 / 127 + 1;
    model_key(model, 6)
}

fn range_of(pk: &ProvingKey) -> InputRange {
    ZkPlan::new(&pk.model, &pk.layout, Visibility::PRIVATE_INPUT)
        .expect("a plan")
        .input_range
        .expect("a private input is range-checked")
}

/// The honest trace and committed columns for input `x` (possibly beyond
/// its bound), the limb columns appended by `limbs` from the honest ones.
fn prove_with_limbs(
    pk: &ProvingKey,
    x: &[i64],
    limbs: impl FnOnce(&InputRange, &mut Vec<Vec<F>>),
) -> Result<crate::proof::Proof, VerifyError> {
    let model: &QuantModel = &pk.model;
    let bound = model.tensors[model.input].bound;
    let within: Vec<i64> = x.iter().map(|&v| v.clamp(-bound, bound)).collect();
    let mut values = crate::prover::run_model(pk, &within).unwrap();
    values[model.input] = x.to_vec();
    zkinfer_model::eval::evaluate_from(model, &mut values, 0).unwrap();
    let mut act = crate::prover::activation_witness(pk, &values, &[]).unwrap();
    let range = range_of(pk);
    let padded = pk.layout.arrange(model.input, x);
    let mut cols = range.limb_columns(&padded, true).unwrap();
    limbs(&range, &mut cols);
    act.extend(cols);
    let y = values[model.output].clone();
    let out = prover::prove_zk_witness(
        pk,
        x,
        values,
        act,
        Visibility::PRIVATE_INPUT,
        true,
        &mut rng(40),
    )
    .expect("the forged proof is built");
    verify_zk(&pk.vk, None, &y, &out.proof).map(|_| out.proof)
}

#[test]
fn the_private_input_is_range_checked_by_small_limb_tables() {
    for (pk, limbs) in [(mlp().0, 1), (wide_input_mlp().0, 2)] {
        let bound = pk.model.tensors[pk.model.input].bound;
        let plan = ZkPlan::new(&pk.model, &pk.layout, Visibility::PRIVATE_INPUT).unwrap();
        let r = plan.input_range.expect("a range check");
        assert_eq!((r.limbs, r.bound), (limbs, bound));
        assert!(r.bits <= 12 && (limbs as u32) * r.bits >= 64 - (2 * bound as u64).leading_zeros());
        // No table of the bound's width; the limbs are one tree of the
        // range table.
        assert!(plan.tables.iter().all(|t| !matches!(
            t.key,
            TableKey::Clamp { min: 0, max, .. } if max == 2 * bound
        )));
        let table = plan.tables.iter().find(|t| t.key == r.key()).unwrap();
        assert!(table.groups.iter().any(|g| g.members.len() == 2 * limbs));
        // A public input has no range check and no limbs.
        let public = ZkPlan::new(&pk.model, &pk.layout, Visibility::PUBLIC).unwrap();
        assert!(public.input_range.is_none());
        assert_eq!(public.act.len(), pk.layout.activation_num_vars.len());
        assert_eq!(plan.act.len(), public.act.len() + 2 * limbs);
    }
}

/// Inputs at both ends of the bound prove and verify (the check is exact
/// there), with one and with two limbs per side.
#[test]
fn inputs_at_both_ends_of_the_bound_verify() {
    for (pk, x) in [mlp(), wide_input_mlp()] {
        let bound = pk.model.tensors[pk.model.input].bound;
        let mut x = x;
        x[0] = bound;
        x[1] = -bound;
        let proof = prove_with_limbs(&pk, &x, |_, _| {}).expect("verifies");
        assert_eq!(proof.zk.unwrap().visibility, Visibility::PRIVATE_INPUT);
    }
}

/// An input one beyond its bound at either end is rejected, whichever limbs
/// the prover commits: the honest split leaves a top limb outside its table
/// (the lookup fails), a split within the table recomposes to another value
/// (the zero-check fails).
#[test]
fn an_input_beyond_its_bound_is_rejected() {
    for (pk, x) in [mlp(), wide_input_mlp()] {
        let bound = pk.model.tensors[pk.model.input].bound;
        for (k, far) in [(0, bound + 1), (1, -bound - 1)] {
            let mut x = x.clone();
            x[k] = far;
            let err = prove_with_limbs(&pk, &x, |_, _| {}).expect_err("rejected");
            assert!(matches!(err, VerifyError::Lookup(_)), "{far}: {err}");
            // The same value in range limbs: the recomposition is off.
            let err = prove_with_limbs(&pk, &x, |r, cols| {
                // `b = B − x = −1` (or `a = −1`) as all ones.
                let full = 1i64 << (r.limbs as u32 * r.bits);
                let side = usize::from(far > 0);
                for j in 0..r.limbs {
                    let limb = (full - 1) >> (j as u32 * r.bits) & ((1 << r.bits) - 1);
                    cols[side * r.limbs + j][k] = F::from_u64(limb as u64);
                }
            })
            .expect_err("rejected");
            assert!(matches!(err, VerifyError::Sumcheck(_)), "{far}: {err}");
        }
    }
}

/// A limb outside its table, with the recomposition kept, is rejected by
/// the lookup; a recomposition off by one (a limb changed within its table,
/// at a real row and at a padding row, on either side) by the zero-check.
#[test]
fn forged_limbs_are_rejected() {
    for (pk, x) in [mlp(), wide_input_mlp()] {
        let r = range_of(&pk);
        let pad_row = x.len() + 1;
        assert!(pad_row < 1 << r.num_vars, "a padding row");
        // Lowest limb past its table; with two limbs the next one keeps the
        // value (the lookups are checked first).
        let err = prove_with_limbs(&pk, &x, |r, cols| {
            cols[0][2] += F::from_u64(1 << r.bits);
            if r.limbs > 1 {
                cols[1][2] -= F::ONE;
            }
        })
        .expect_err("rejected");
        assert!(matches!(err, VerifyError::Lookup(_)), "{err}");
        for (col, row) in [
            (0, 4),
            (2 * r.limbs - 1, 5),
            (0, pad_row),
            (r.limbs, pad_row),
        ] {
            let err = prove_with_limbs(&pk, &x, |_, cols| {
                // Within the table: up by one unless at its top.
                let v = &mut cols[col][row];
                if *v == F::ZERO {
                    *v = F::ONE;
                } else {
                    *v -= F::ONE;
                }
            })
            .expect_err("rejected");
            assert!(
                matches!(err, VerifyError::Sumcheck(_)),
                "{col}/{row}: {err}"
            );
        }
    }
}

/// The range check's two soundness terms (the random point and the masked
/// sumcheck) are charged to a private input's proofs only.
#[test]
fn the_range_check_is_charged_in_the_security_report() {
    let (pk, _) = mlp();
    let layer_terms = |v: Visibility| -> usize {
        let r = crate::security::zk_security(&pk.vk, v).expect("a report");
        let (name, _) = r
            .components
            .iter()
            .find(|(n, _)| n.starts_with("output point, layer sumchecks"))
            .expect("layer terms");
        let count = name.split('(').nth(1).and_then(|s| s.split(' ').next());
        count.and_then(|c| c.parse().ok()).expect("a term count")
    };
    assert_eq!(
        layer_terms(Visibility::PRIVATE_INPUT),
        layer_terms(Visibility::PUBLIC) + 2
    );
}

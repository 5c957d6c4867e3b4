//! A requant's remainder range against the one forgery its identity allows:
//! the quotient one below the honest one, `q − 1`, with the remainder
//! carrying `2^s` (`x·m + 2^(s−1) = (q − 1)·2^s + (r + 2^s)`) and no excess.
//! The identity, the clamp lookups and every later op are then consistent;
//! only the remainder's range can reject it. Both ways a remainder is
//! range-checked are covered: limbs that fill their width (the shift rounded
//! up to a multiple of the limb width) and, where that would pass
//! `MAX_REQUANT_SHIFT`, a top limb also looked up scaled.

use zkinfer_model::ir::{QOp, QuantModel};
use zkinfer_protocol::field::{f_from_i64, F};
use zkinfer_protocol::VerifyError;

use super::*;
use crate::ops::requant::aligned_shift;
use crate::prover::run_model;
use crate::{setup, synthetic, verify};

/// The synthetic MLP with its first requant taking `(multiplier, shift)` and
/// a clamp range around zero (so a quotient one below zero is admissible).
fn mlp_with_first_requant(multiplier: i64, shift: u32) -> (QuantModel, usize) {
    let mut m = synthetic::mlp(&[40, 32, 16], 5);
    let i = m
        .ops
        .iter()
        .position(|op| matches!(op, QOp::Requant { .. }))
        .expect("an MLP requantizes");
    if let QOp::Requant {
        multiplier: m_,
        shift: s_,
        min,
        max,
        ..
    } = &mut m.ops[i]
    {
        (*m_, *s_) = (multiplier, shift);
        *min = -*max - 1;
    }
    (m, i)
}

/// Proves the statement whose requant `i` outputs `q − 1` at one unclamped
/// element, with the remainder limbs holding `r + 2^s` exactly as the range
/// argument sees them (the top limb takes the overflow). Returns the
/// verifier's verdict. `proven_as` is the `(limb width, shift)` the layout
/// must have chosen for the case the caller means.
fn quotient_below_verdict(
    model: QuantModel,
    i: usize,
    proven_as: (u32, u32),
) -> Result<(), VerifyError> {
    let pk = setup(model, None).expect("setup");
    let x = synthetic::input(pk.model.tensors[pk.model.input].len(), 3);
    let honest = crate::prove(&pk, &x).expect("honest proof");
    verify(&pk.vk, &x, &honest.output, &honest.proof).expect("honest proof verifies");

    let QOp::Requant {
        input,
        output,
        multiplier,
        shift,
        min,
        max,
    } = pk.model.ops[i].clone()
    else {
        unreachable!("op {i} is the requant")
    };
    let mut values = run_model(&pk, &x).expect("runs");
    let k = (0..values[output].len())
        .find(|&k| (min + 1..max).contains(&values[output][k]))
        .expect("an unclamped element");
    let b = pk.layout.limb_bits.remainder;
    let s = aligned_shift(shift, b);
    assert_eq!((b, s), proven_as, "limb width and proven shift");
    let m = (multiplier as i128) << (s - shift);
    let t = values[input][k] as i128 * m + (1i128 << (s - 1));
    let q = values[output][k] as i128;
    let r = t - (q << s);
    assert!((0..1i128 << s).contains(&r), "the honest remainder");

    values[output][k] -= 1;
    zkinfer_model::eval::evaluate_from(&pk.model, &mut values, i + 1).expect("re-runs");
    let mut polys = activation_witness(&pk, &values, &[]).expect("witness");
    let forged = r + (1i128 << s);
    let columns: Vec<CommittedColumn> = committed_columns(&pk)
        .into_iter()
        .filter(|c| c.op == Some(i))
        .collect();
    let limbs: Vec<&CommittedColumn> = columns
        .iter()
        .filter(|c| c.role.contains("remainder limb"))
        .collect();
    assert_eq!(limbs.len(), s.div_ceil(b) as usize);
    for (j, c) in limbs.iter().enumerate() {
        let limb = forged >> (b * j as u32);
        let limb = if j + 1 == limbs.len() {
            limb
        } else {
            limb & ((1 << b) - 1)
        };
        polys[c.poly][k] = f_from_i64(limb as i64);
    }
    for c in columns.iter().filter(|c| c.role.contains("excess limb")) {
        polys[c.poly][k] = F::ZERO;
    }
    forge_multiplicities(&pk, &mut polys, None);
    let output = values[pk.model.output].clone();
    let forgery = prove_forged_witness(
        &pk,
        &x,
        Witness {
            values,
            act_polys: polys,
        },
    )
    .expect("the forged witness proves");
    assert_ne!(output, honest.output, "the forgery changes the output");
    verify(&pk.vk, &x, &output, &forgery.prove.proof).map(|_| ())
}

#[test]
fn a_quotient_below_with_full_width_limbs_is_rejected() {
    // Shift 20 over 8-bit limbs is proven as shift 24: three full limbs.
    let (model, i) = mlp_with_first_requant(1 << 7, 20);
    let err = quotient_below_verdict(model, i, (8, 24)).expect_err("the forgery is rejected");
    assert!(matches!(err, VerifyError::Lookup(_)), "{err}");
}

#[test]
fn a_quotient_below_with_a_short_top_limb_is_rejected() {
    // Shift 34 over 8-bit limbs would round up past 36: five limbs, the top
    // one of 2 bits, looked up once more scaled by 2^6.
    let (model, i) = mlp_with_first_requant(1 << 15, 34);
    let err = quotient_below_verdict(model, i, (8, 34)).expect_err("the forgery is rejected");
    assert!(matches!(err, VerifyError::Lookup(_)), "{err}");
}

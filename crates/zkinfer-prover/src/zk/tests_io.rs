//! The statement's input and output: the private input's range check by
//! limbs (`input_range.rs`), its completeness at both ends of the bound and
//! the malicious prover's forged inputs and limbs; a committed input
//! (`committed.rs`) checked against its digest.

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
    prove_forged(pk, x, Visibility::PRIVATE_INPUT, limbs)
}

fn prove_forged(
    pk: &ProvingKey,
    x: &[i64],
    visibility: Visibility,
    limbs: impl FnOnce(&InputRange, &mut Vec<Vec<F>>),
) -> Result<crate::proof::Proof, VerifyError> {
    let model: &QuantModel = &pk.model;
    let bound = model.tensors[model.input].bound;
    let within: Vec<i64> = x.iter().map(|&v| v.clamp(-bound, bound)).collect();
    let mut values = crate::prover::run_model(pk, &within).unwrap();
    values[model.input] = x.to_vec();
    zkinfer_model::eval::evaluate_from(model, &mut values, 0).unwrap();
    let mut act = crate::prover::activation_witness(pk, &values, &[]).unwrap();
    let range = ZkPlan::new(model, &pk.layout, visibility)
        .expect("a plan")
        .input_range
        .expect("a hidden input is range-checked");
    let padded = pk.layout.arrange(model.input, x);
    let mut cols = range.limb_columns(&padded, true).unwrap();
    limbs(&range, &mut cols);
    act.extend(cols);
    let y = values[model.output].clone();
    let out = prover::prove_zk_witness(pk, x, values, act, visibility, true, &mut rng(40))
        .expect("the forged proof is built");
    let statement = match &out.input_digest {
        Some(d) => InputStatement::Committed(d),
        None => InputStatement::Private,
    };
    verify_zk_with(&pk.vk, statement, &y, &out.proof).map(|_| out.proof)
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

/// A committed input verifies against its digest, which its seed and the
/// input reproduce; not against another digest, nor as a private or public
/// input; the visibility is bound by the transcript.
#[test]
fn a_committed_input_verifies_against_its_digest_only() {
    let (pk, x) = mlp();
    let seed = [7u8; 32];
    let out = prove_zk_seeded(
        &pk,
        &x,
        Visibility::COMMITTED_INPUT,
        CommitSeeds {
            input: Some(seed),
            output: None,
        },
        &mut rng(50),
    )
    .expect("proves");
    let digest = out.input_digest.expect("a digest");
    assert_eq!(out.input_seed, Some(seed));
    assert_eq!(
        committed_input_digest(&pk.model, &x, &seed).unwrap(),
        digest
    );
    let proof = crate::proof::Proof::from_bytes(&out.proof.to_bytes()).expect("decodes");
    assert_eq!(proof, out.proof);
    let y = &out.output;
    let with = |s: InputStatement<'_>, p: &crate::proof::Proof| verify_zk_with(&pk.vk, s, y, p);
    with(InputStatement::Committed(&digest), &proof).expect("verifies");
    // Another digest: another input, or the same input with another seed.
    let mut other = digest;
    other[0] ^= 1;
    let reseeded = committed_input_digest(&pk.model, &x, &[8u8; 32]).unwrap();
    assert_ne!(reseeded, digest);
    let mut y2 = x.clone();
    y2[0] += 1;
    let other_input = committed_input_digest(&pk.model, &y2, &seed).unwrap();
    for d in [other, reseeded, other_input] {
        assert!(matches!(
            with(InputStatement::Committed(&d), &proof),
            Err(VerifyError::Statement(_))
        ));
    }
    // Without the digest, or with the input itself.
    assert!(matches!(
        verify_zk(&pk.vk, None, y, &proof),
        Err(VerifyError::Statement(_))
    ));
    assert!(matches!(
        verify_zk(&pk.vk, Some(&x), y, &proof),
        Err(VerifyError::Statement(_))
    ));
    // Another output.
    let mut y3 = y.clone();
    y3[0] += 1;
    assert!(verify_zk_with(&pk.vk, InputStatement::Committed(&digest), &y3, &proof).is_err());
    // The visibility is the statement's: relabelled private (its own
    // commitment dropped, or kept), it is rejected.
    let mut private = proof.clone();
    private.zk.as_mut().unwrap().visibility = Visibility::PRIVATE_INPUT;
    assert!(with(InputStatement::Private, &private).is_err());
    private.zk.as_mut().unwrap().input = None;
    assert!(with(InputStatement::Private, &private).is_err());
    // A private-input proof claimed committed.
    let plain = prove_zk(&pk, &x, Visibility::PRIVATE_INPUT, &mut rng(51)).unwrap();
    let mut claimed = plain.proof.clone();
    claimed.zk.as_mut().unwrap().visibility = Visibility::COMMITTED_INPUT;
    assert!(with(InputStatement::Committed(&digest), &claimed).is_err());
}

/// The committed input's commitment and opening: another proof's
/// commitment (with its own digest), a changed root, the openings swapped
/// and flipped opening bytes are all rejected; and no unmasked value of the
/// input's reads is in the proof.
#[test]
fn a_committed_input_rejects_tampered_commitments_and_openings() {
    let (pk, x) = mlp();
    let a = prove_zk(&pk, &x, Visibility::COMMITTED_INPUT, &mut rng(52)).unwrap();
    let b = prove_zk(&pk, &x, Visibility::COMMITTED_INPUT, &mut rng(53)).unwrap();
    let (da, db) = (a.input_digest.unwrap(), b.input_digest.unwrap());
    assert_ne!(da, db, "fresh seeds give fresh digests");
    assert_ne!(a.input_seed, b.input_seed);
    let y = &a.output;
    let check = |p: &crate::proof::Proof, d: &[u8; 32]| {
        verify_zk_with(&pk.vk, InputStatement::Committed(d), y, p)
    };
    check(&a.proof, &da).expect("verifies");
    let zk_b = b.proof.zk.clone().unwrap();
    // b's input commitment (and opening) in a, checked against b's digest.
    let mut swapped = a.proof.clone();
    swapped.zk.as_mut().unwrap().input = zk_b.input.clone();
    assert!(check(&swapped, &db).is_err());
    assert!(check(&swapped, &da).is_err());
    // b's input opening under a's commitment.
    let mut opening = a.proof.clone();
    opening.zk.as_mut().unwrap().input.as_mut().unwrap().1 = zk_b.input.unwrap().1;
    assert!(check(&opening, &da).is_err());
    // A changed root, against the digest it now has.
    let mut root = a.proof.clone();
    let c = &mut root.zk.as_mut().unwrap().input.as_mut().unwrap().0;
    c.root[3] ^= 1;
    let d = input_digest(c);
    assert!(check(&root, &d).is_err());
    // The main and the input openings exchanged.
    let mut both = a.proof.clone();
    let zk = both.zk.as_mut().unwrap();
    let (_, input_opening) = zk.input.as_mut().unwrap();
    std::mem::swap(&mut zk.opening, input_opening);
    assert!(check(&both, &da).is_err());
    // Flipped bytes in the zero-knowledge section (which carries the input
    // commitment and opening) and in the hiding opening.
    let bytes = a.proof.to_bytes();
    let sections = crate::proof::Proof::section_ranges(&bytes).unwrap();
    let mut flipped = 0;
    for (_, range) in sections
        .iter()
        .filter(|(n, _)| n.contains("zero") || n.contains("hiding"))
    {
        let len = range.len();
        for k in [len / 5, len / 2, len - 10, len - 1] {
            let mut b = bytes.clone();
            b[range.start + k] ^= 1;
            if let Ok(p) = crate::proof::Proof::from_bytes(&b) {
                assert!(check(&p, &da).is_err(), "byte {k} flipped");
                flipped += 1;
            }
        }
    }
    assert!(flipped > 0);
    // The leak check with a committed input.
    let (out, truths) = prover::prove_zk_with_truths(
        &pk,
        &x,
        Visibility::COMMITTED_INPUT,
        CommitSeeds::default(),
        &mut rng(54),
    )
    .unwrap();
    let sent = super::audit::message_numbers(&out.proof);
    let (checked, found) = super::audit::truths_in_proof(&truths, &sent, &out.proof.to_bytes());
    assert_eq!(found, 0, "an unmasked evaluation is in the proof");
    assert!(checked >= 6, "{checked}");
}

/// A committed input beyond its bound is rejected as a private one is.
#[test]
fn a_committed_input_beyond_its_bound_is_rejected() {
    let (pk, mut x) = mlp();
    x[0] = pk.model.tensors[pk.model.input].bound + 1;
    let err = prove_forged(&pk, &x, Visibility::COMMITTED_INPUT, |_, _| {}).expect_err("rejected");
    assert!(matches!(err, VerifyError::Lookup(_)), "{err}");
}

/// A committed input's or output's own opening is charged, and the figure
/// stays above the target.
#[test]
fn a_committed_inputs_opening_is_charged() {
    let (pk, _) = mlp();
    let r = crate::security::zk_security(&pk.vk, Visibility::COMMITTED_INPUT).unwrap();
    assert!(r
        .components
        .iter()
        .any(|(n, _)| n.starts_with("committed input's hiding opening")));
    assert!(r.total_bits >= crate::TARGET_BITS, "{}", r.total_bits);
    let private = crate::security::zk_security(&pk.vk, Visibility::PRIVATE_INPUT).unwrap();
    assert!(!private
        .components
        .iter()
        .any(|(n, _)| n.starts_with("committed input")));
    let output = Visibility::PRIVATE_INPUT.with_committed_output();
    let r = crate::security::zk_security(&pk.vk, output).unwrap();
    assert!(r
        .components
        .iter()
        .any(|(n, _)| n.starts_with("committed output's hiding opening")));
    assert!(r.total_bits >= crate::TARGET_BITS, "{}", r.total_bits);
}

/// A committed output (with a private or a committed input): the proof
/// verifies against the output's digest and reveals no output value; not
/// against another digest nor with the output itself; a fresh proof
/// commits it under a fresh digest.
#[test]
fn a_committed_output_verifies_against_its_digest_only() {
    let (pk, x) = mlp();
    for vis in [Visibility::PRIVATE_INPUT, Visibility::COMMITTED_INPUT] {
        let vis = vis.with_committed_output();
        let out = prove_zk(&pk, &x, vis, &mut rng(60)).expect("proves");
        let digest = out.output_digest.expect("an output digest");
        let proof = crate::proof::Proof::from_bytes(&out.proof.to_bytes()).expect("decodes");
        assert_eq!(proof, out.proof);
        let input_digest = out.input_digest;
        let input = || match &input_digest {
            Some(d) => InputStatement::Committed(d),
            None => InputStatement::Private,
        };
        let check = |o: OutputStatement<'_>, p: &crate::proof::Proof| {
            verify_zk_statement(&pk.vk, input(), o, p)
        };
        let v = check(OutputStatement::Committed(&digest), &proof).expect("verifies");
        assert!(v.output_int.is_empty() && v.output.is_empty());
        let mut other = digest;
        other[5] ^= 1;
        assert!(matches!(
            check(OutputStatement::Committed(&other), &proof),
            Err(VerifyError::Statement(_))
        ));
        assert!(matches!(
            check(OutputStatement::Public(&out.output), &proof),
            Err(VerifyError::Statement(_))
        ));
        // Relabelled public (the true output given), it is rejected.
        let mut public = proof.clone();
        public.zk.as_mut().unwrap().visibility.output = OutputVisibility::Public;
        assert!(check(OutputStatement::Public(&out.output), &public).is_err());
        public.zk.as_mut().unwrap().output = None;
        assert!(check(OutputStatement::Public(&out.output), &public).is_err());
        // Another proof of the same output: another digest, not
        // interchangeable.
        let again = prove_zk(&pk, &x, vis, &mut rng(61)).unwrap();
        let d2 = again.output_digest.unwrap();
        assert_ne!(d2, digest);
        let mut swapped = proof.clone();
        swapped.zk.as_mut().unwrap().output = again.proof.zk.clone().unwrap().output;
        assert!(check(OutputStatement::Committed(&d2), &swapped).is_err());
        assert!(check(OutputStatement::Committed(&digest), &swapped).is_err());
        // The link step (the first layer message) changed anywhere.
        let crate::proof::LayerProof::Zk {
            final_evals,
            r_values,
            sumcheck,
            ..
        } = &proof.layers[0]
        else {
            panic!("a zero-knowledge step")
        };
        let (nf, nr, nm) = (final_evals.len(), r_values.len(), sumcheck.mask_evals.len());
        assert_eq!(nf, 2);
        for (part, n) in [(0, nf), (1, nr), (2, nm)] {
            for k in 0..n {
                let mut p = proof.clone();
                let crate::proof::LayerProof::Zk {
                    final_evals,
                    r_values,
                    sumcheck,
                    ..
                } = &mut p.layers[0]
                else {
                    unreachable!()
                };
                let v = match part {
                    0 => &mut final_evals[k],
                    1 => &mut r_values[k],
                    _ => &mut sumcheck.mask_evals[k],
                };
                *v += zkinfer_protocol::EF::ONE;
                assert!(
                    check(OutputStatement::Committed(&digest), &p).is_err(),
                    "part {part}, value {k}"
                );
            }
        }
    }
}

/// A committed output's digest is recomputed from the output and its seed
/// (the one the prover drew and returned, or one given), over the copies a
/// small model proves; another seed, one changed value or another length
/// is not it.
#[test]
fn a_committed_output_digest_is_recomputed_from_its_output_and_seed() {
    let vis = Visibility::PRIVATE_INPUT.with_committed_output();
    let mut small = synthetic::mlp(&[7, 5, 3], 11);
    small.dynamic_batch = true;
    let given = [9u8; 32];
    for ((pk, x), seed) in [(mlp(), None), (model_key(small, 1), Some(given))] {
        let model = pk.model.clone();
        let copies = copies_for(&model, vis).unwrap();
        let seeds = CommitSeeds {
            input: None,
            output: seed,
        };
        let out = prove_zk_copies(pk, &x, vis, seeds, &mut rng(62)).expect("proves");
        assert_eq!(out.proof.zk.as_ref().unwrap().copies, copies);
        let digest = out.output_digest.expect("an output digest");
        let used = out.output_seed.expect("the output's seed");
        if let Some(s) = seed {
            assert_eq!(used, s);
        }
        let recompute = |y: &[i64], s: &InputSeed| {
            committed_output_digest(&model, y, InputVisibility::Private, s)
        };
        assert_eq!(recompute(&out.output, &used).unwrap(), digest);
        assert_ne!(recompute(&out.output, &[10u8; 32]).unwrap(), digest);
        let mut y = out.output.clone();
        y[0] += 1;
        assert_ne!(recompute(&y, &used).unwrap(), digest);
        y.pop();
        let err = recompute(&y, &used).unwrap_err();
        assert!(err.to_string().contains("values"), "{err}");
    }
}

/// A committed output that is not the computed one (the trace's output
/// edited, committed as it stands) is rejected by the link.
#[test]
fn a_forged_committed_output_is_rejected() {
    let (pk, x) = mlp();
    let vis = Visibility::PRIVATE_INPUT.with_committed_output();
    let model = &pk.model;
    for k in [0, 7] {
        let mut values = crate::prover::run_model(&pk, &x).unwrap();
        values[model.output][k] += 1;
        let act = crate::prover::activation_witness(&pk, &values, &[]).unwrap();
        let out = prover::prove_zk_witness(&pk, &x, values, act, vis, true, &mut rng(62))
            .expect("the forged proof is built");
        let d = out.output_digest.unwrap();
        assert!(verify_zk_statement(
            &pk.vk,
            InputStatement::Private,
            OutputStatement::Committed(&d),
            &out.proof
        )
        .is_err());
    }
}

/// The malicious prover of the output link: the trace is honest, but the
/// committed copy of the output differs from it at one real position and
/// at one padding position (the copy's other values, its masks and every
/// other message are the honest prover's) — rejected by the link.
#[test]
fn a_committed_output_copy_unlike_the_trace_is_rejected() {
    let (pk, x) = model_key(synthetic::mlp(&[40, 32, 12], 5), 6);
    let vis = Visibility::PRIVATE_INPUT.with_committed_output();
    let real = pk.model.tensors[pk.model.output].len();
    let padded = 1usize << pk.layout.num_vars(pk.model.output);
    assert!(padded > real, "the output has padding positions");
    let honest = prove_zk(&pk, &x, vis, &mut rng(70)).expect("proves");
    let d = honest.output_digest.unwrap();
    let check = |proof: &crate::proof::Proof, d: &[u8; 32]| {
        verify_zk_statement(
            &pk.vk,
            InputStatement::Private,
            OutputStatement::Committed(d),
            proof,
        )
    };
    check(&honest.proof, &d).expect("the honest proof verifies");
    for k in [0, real - 1, real, padded - 1] {
        prover::FORGED_OUTPUT_COPY.with(|c| c.set(Some((k, 1))));
        let forged = prove_zk(&pk, &x, vis, &mut rng(71));
        prover::FORGED_OUTPUT_COPY.with(|c| c.set(None));
        let forged = forged.expect("the forged proof is built");
        let d = forged.output_digest.unwrap();
        let err = check(&forged.proof, &d).expect_err("a copy unlike the trace is rejected");
        assert!(
            matches!(err, VerifyError::Sumcheck(_)),
            "position {k}: rejected by the link's zero-check, not {err:?}"
        );
    }
}

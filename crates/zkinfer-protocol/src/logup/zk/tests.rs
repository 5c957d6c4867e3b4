//! Completeness and soundness of the zero-knowledge LogUp-GKR, the masks in
//! one hiding commitment opened once.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::super::transcript::{absorb_statements, draw_alpha_beta, Statement};
use super::super::{evaluate_col, multiplicities};
use super::*;
use crate::field::PrimeCharacteristicRing;
use crate::pcs::{Claim, CommitmentScheme, HidingParams, HidingPcs};

fn pcs() -> HidingPcs {
    HidingPcs::with_seed(HidingParams::default(), 11)
}

/// Random rows of `table`.
fn sample(table: &LookupTable, len: usize, rng: &mut StdRng) -> LookupWitness {
    let rows: Vec<usize> = (0..len).map(|_| rng.random_range(0..table.len())).collect();
    LookupWitness {
        columns: table
            .columns
            .iter()
            .map(|c| rows.iter().map(|&r| c[r]).collect())
            .collect(),
    }
}

/// `x ↦ x² mod 97` over 40 inputs: a two-column table, not a power of two.
fn square_table() -> LookupTable {
    let inputs: Vec<F> = (0..40).map(F::from_u64).collect();
    let outputs = (0..40u64).map(|x| F::from_u64(x * x % 97)).collect();
    LookupTable::function(inputs, outputs)
}

/// The caller's committed columns (each as its `W`), per table: its
/// witnesses' columns, then its multiplicities.
fn committed_columns(
    masks: &LookupMasks,
    inst: &[(&LookupTable, &[LookupWitness], &[F])],
) -> Vec<Vec<F>> {
    let mut out = Vec::new();
    let mut tree = 0;
    for (_, ws, m) in inst {
        for w in ws.iter() {
            for (c, col) in w.columns.iter().enumerate() {
                out.push(masks.committed_column(tree, c, col));
            }
            tree += 1;
        }
        out.push(masks.committed_column(tree, 0, m));
        tree += 1;
    }
    out
}

/// The returned column claims as claims on those `W`s (polynomials
/// `first..`, in [`committed_columns`]' order).
fn column_claims(claims: &[LookupClaims], first: usize) -> Vec<Claim> {
    let mut out = Vec::new();
    for c in claims {
        for col in c.witnesses.iter().chain(std::iter::once(&c.multiplicities)) {
            for &value in &col.values {
                out.push(Claim {
                    poly: first + out.len(),
                    point: col.point.clone(),
                    value,
                });
            }
        }
    }
    out
}

struct Run {
    lens: Vec<usize>,
    masks: LookupMasks,
    commitment: <HidingPcs as CommitmentScheme>::Commitment,
    opening: <HidingPcs as CommitmentScheme>::Opening,
    proof: ZkLookupProof,
    claims: LookupClaims,
}

/// Commits the masks, proves, opens every mask claim in one opening.
fn zk_prove(pcs: &HidingPcs, table: &LookupTable, ws: &[LookupWitness], m: &[F]) -> Run {
    let lens: Vec<usize> = ws.iter().map(LookupWitness::len).collect();
    let masks = LookupMasks::random(&[(table.len(), &lens)], &mut StdRng::seed_from_u64(3));
    let mut tables = masks.tables();
    let n_masks = tables.len();
    tables.extend(committed_columns(&masks, &[(table, ws, m)]));
    let (commitment, data) = pcs.commit(&tables).unwrap();
    let mut t = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&commitment, &mut t);
    let (proof, claims, mut all) = prove(table, ws, m, &masks, 0, &mut t);
    all.extend(column_claims(std::slice::from_ref(&claims), n_masks));
    let opening = pcs.open_consuming(data, &all, &mut t).unwrap();
    Run {
        lens,
        masks,
        commitment,
        opening,
        proof,
        claims,
    }
}

fn zk_verify(
    pcs: &HidingPcs,
    table: &LookupTable,
    run: &Run,
    proof: &ZkLookupProof,
) -> Result<LookupClaims, VerifyError> {
    let mut t = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&run.commitment, &mut t);
    let (claims, mut all) = verify(table, &run.lens, proof, 0, &mut t)?;
    let n_masks = run.masks.tables().len();
    all.extend(column_claims(std::slice::from_ref(&claims), n_masks));
    pcs.verify(&run.commitment, &all, &run.opening, &mut t)?;
    Ok(claims)
}

/// The claims are the committed `W`s' MLE evaluations (the opening checks
/// them too), and no witness claim is the column's own value at the leaf
/// point: only masked values leave the prover. Trees from `first_tree`.
fn claims_true(
    masks: &LookupMasks,
    first_tree: usize,
    ws: &[LookupWitness],
    m: &[F],
    claims: &LookupClaims,
) -> bool {
    use crate::mle::evaluate_base;
    let mut ok = true;
    for (tree, (w, c)) in (first_tree..).zip(ws.iter().zip(&claims.witnesses)) {
        for (i, (col, &v)) in w.columns.iter().zip(&c.values).enumerate() {
            let wt = masks.committed_column(tree, i, col);
            ok &= evaluate_base(&wt, &c.point) == v && evaluate_col(col, &c.point[1..]) != v;
        }
    }
    let tree = first_tree + ws.len();
    let wt = masks.committed_column(tree, 0, m);
    let mc = &claims.multiplicities;
    ok && evaluate_base(&wt, &mc.point) == mc.values[0]
}

fn range_instance() -> (LookupTable, Vec<LookupWitness>, Vec<F>) {
    let mut rng = StdRng::seed_from_u64(1);
    let table = LookupTable::range(5);
    let ws = vec![sample(&table, 21, &mut rng), sample(&table, 70, &mut rng)];
    let m = multiplicities(&table, &ws).unwrap();
    (table, ws, m)
}

#[test]
fn zk_lookups_are_complete() {
    let pcs = pcs();
    let (table, ws, m) = range_instance();
    let run = zk_prove(&pcs, &table, &ws, &m);
    assert_eq!(run.proof.layers.len(), 6, "witness of 70 rows: 7 layers");
    assert_eq!(
        zk_verify(&pcs, &table, &run, &run.proof),
        Ok(run.claims.clone())
    );
    assert!(claims_true(&run.masks, 0, &ws, &m, &run.claims));

    let table = square_table();
    let mut rng = StdRng::seed_from_u64(2);
    let ws = vec![sample(&table, 13, &mut rng), sample(&table, 9, &mut rng)];
    let m = multiplicities(&table, &ws).unwrap();
    let run = zk_prove(&pcs, &table, &ws, &m);
    assert_eq!(
        zk_verify(&pcs, &table, &run, &run.proof),
        Ok(run.claims.clone())
    );
    assert!(claims_true(&run.masks, 0, &ws, &m, &run.claims));
}

/// A caller's leaf masks over more top bits (shared with its own masked
/// reads of the columns) keep the proof complete and the claims masked.
#[test]
fn caller_leaf_masks_over_more_bits_are_complete() {
    let pcs = pcs();
    let (table, ws, m) = range_instance();
    let lens: Vec<usize> = ws.iter().map(LookupWitness::len).collect();
    let mut rng = StdRng::seed_from_u64(9);
    let mut masks = LookupMasks::random(&[(table.len(), &lens)], &mut rng);
    // Tree 1 (70 rows, depth 7) over 4 bits, the table's (depth 5) over 3;
    // tree 0 keeps its 2.
    masks.set_leaf_mask(1, 0, (0..16).map(|_| random_f(&mut rng)).collect());
    masks.set_leaf_mask(2, 0, (0..8).map(|_| random_f(&mut rng)).collect());
    let mut tables = masks.tables();
    let n_masks = tables.len();
    tables.extend(committed_columns(&masks, &[(&table, &ws, &m)]));
    let (commitment, data) = pcs.commit(&tables).unwrap();
    let mut t = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&commitment, &mut t);
    let (proof, claims, mut all) = prove(&table, &ws, &m, &masks, 0, &mut t);
    all.extend(column_claims(std::slice::from_ref(&claims), n_masks));
    let opening = pcs.open_consuming(data, &all, &mut t).unwrap();
    assert!(claims_true(&masks, 0, &ws, &m, &claims));
    let run = Run {
        lens,
        masks,
        commitment,
        opening,
        proof,
        claims,
    };
    assert_eq!(
        zk_verify(&pcs, &table, &run, &run.proof),
        Ok(run.claims.clone())
    );
}

#[test]
#[should_panic(expected = "2 ≤ h < depth")]
fn a_leaf_mask_reading_the_last_variable_is_refused() {
    let (table, ws, _) = range_instance();
    let lens: Vec<usize> = ws.iter().map(LookupWitness::len).collect();
    let mut masks = LookupMasks::random(&[(table.len(), &lens)], &mut StdRng::seed_from_u64(9));
    // Tree 0: 21 rows, depth 5; a mask over all 5 bits would read the
    // leaf layer's last variable.
    masks.set_leaf_mask(0, 0, vec![F::ONE; 32]);
}

#[test]
fn a_wrong_multiplicity_is_rejected() {
    let pcs = pcs();
    let (table, ws, m) = range_instance();
    let used = m.iter().position(|x| *x != F::ZERO).unwrap();
    let unused = m.iter().position(|x| *x == F::ZERO).unwrap();
    let mut more = m.clone();
    more[used] += F::ONE;
    let mut moved = m.clone();
    moved[used] -= F::ONE;
    moved[unused] += F::ONE;
    for bad in [more, moved] {
        let run = zk_prove(&pcs, &table, &ws, &bad);
        assert!(matches!(
            zk_verify(&pcs, &table, &run, &run.proof),
            Err(VerifyError::Lookup(_))
        ));
    }
}

#[test]
fn a_wrong_witness_entry_is_rejected() {
    let pcs = pcs();
    let (table, ws, m) = range_instance();
    // Outside the table, and another table row than the counted one.
    for value in [40u64, 0] {
        let mut bad = ws.clone();
        let old = bad[1].columns[0][5];
        bad[1].columns[0][5] = F::from_u64(if old == F::from_u64(value) {
            value + 1
        } else {
            value
        });
        let run = zk_prove(&pcs, &table, &bad, &m);
        assert!(
            matches!(
                zk_verify(&pcs, &table, &run, &run.proof),
                Err(VerifyError::Lookup(_))
            ),
            "entry {value}"
        );
    }
}

#[test]
fn tampered_layers_are_rejected() {
    let pcs = pcs();
    let (table, ws, m) = range_instance();
    let run = zk_prove(&pcs, &table, &ws, &m);
    for k in 0..run.proof.layers.len() {
        // A round polynomial of every round of the layer.
        for i in 0..=k {
            let mut p = run.proof.clone();
            p.layers[k].sumcheck.sumcheck.round_polys[i][1] += EF::ONE;
            assert!(
                matches!(
                    zk_verify(&pcs, &table, &run, &p),
                    Err(VerifyError::Sumcheck(_))
                ),
                "layer {k} round {i}"
            );
        }
        // The mask's sum, its evaluations, the layer's final evaluations.
        let mut p = run.proof.clone();
        p.layers[k].sumcheck.mask_sum += EF::ONE;
        assert!(zk_verify(&pcs, &table, &run, &p).is_err(), "layer {k} G");
        let mut p = run.proof.clone();
        p.layers[k].sumcheck.mask_evals[0] += EF::ONE;
        assert!(zk_verify(&pcs, &table, &run, &p).is_err(), "layer {k} g(r)");
        let mut p = run.proof.clone();
        p.layers[k].evals[0][2] += EF::ONE;
        assert!(
            zk_verify(&pcs, &table, &run, &p).is_err(),
            "layer {k} evals"
        );
    }
    // Another proof's mask opening.
    let mut other = zk_prove(&pcs, &table, &ws, &m);
    other.opening = run.opening.clone();
    assert!(matches!(
        zk_verify(&pcs, &table, &other, &other.proof),
        Err(VerifyError::Opening(_))
    ));
}

#[test]
fn the_plain_verifier_refuses_a_zk_proof() {
    let pcs = pcs();
    let (table, ws, m) = range_instance();
    let run = zk_prove(&pcs, &table, &ws, &m);
    // Same shape, plain transcript: the masked rounds do not pass.
    let plain = super::super::LookupProof {
        tops: run.proof.root.evals.iter().map(|e| e.to_vec()).collect(),
        layers: run
            .proof
            .layers
            .iter()
            .map(|l| super::super::LayerProof {
                sumcheck: l.sumcheck.sumcheck.clone(),
                evals: l.evals.clone(),
            })
            .collect(),
        witness_evals: run.proof.witness_evals.clone(),
    };
    let mut t = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&run.commitment, &mut t);
    assert!(super::super::verify(&table, &run.lens, &plain, &mut t).is_err());
}

// ---------------------------------------------------------------------------
// Several tables, every sent value, the masked halves.
// ---------------------------------------------------------------------------

/// One proof over several tables: commits the masks, proves, opens once.
struct ManyRun {
    commitment: <HidingPcs as CommitmentScheme>::Commitment,
    opening: <HidingPcs as CommitmentScheme>::Opening,
    proof: ZkLookupProof,
    claims: Vec<LookupClaims>,
    masks: LookupMasks,
}

type Owned = (LookupTable, Vec<LookupWitness>, Vec<F>);

fn lens_of(inst: &[Owned]) -> Vec<Vec<usize>> {
    inst.iter()
        .map(|(_, ws, _)| ws.iter().map(LookupWitness::len).collect())
        .collect()
}

fn zk_prove_many(pcs: &HidingPcs, inst: &[Owned], mask_seed: u64) -> ManyRun {
    let lens = lens_of(inst);
    let shapes: Vec<(usize, &[usize])> = inst
        .iter()
        .zip(&lens)
        .map(|((t, _, _), l)| (t.len(), l.as_slice()))
        .collect();
    let masks = LookupMasks::random(&shapes, &mut StdRng::seed_from_u64(mask_seed));
    let mut tables = masks.tables();
    let n_masks = tables.len();
    let refs: Vec<(&LookupTable, &[LookupWitness], &[F])> = inst
        .iter()
        .map(|(t, w, m)| (t, w.as_slice(), m.as_slice()))
        .collect();
    tables.extend(committed_columns(&masks, &refs));
    let (commitment, data) = pcs.commit(&tables).unwrap();
    let mut t = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&commitment, &mut t);
    let instances: Vec<LookupInstance> = inst
        .iter()
        .map(|(table, witnesses, multiplicities)| LookupInstance {
            table,
            witnesses,
            multiplicities,
        })
        .collect();
    let (proof, claims, mut all) = prove_many(&instances, &masks, 0, &mut t);
    all.extend(column_claims(&claims, n_masks));
    let opening = pcs.open_consuming(data, &all, &mut t).unwrap();
    ManyRun {
        commitment,
        opening,
        proof,
        claims,
        masks,
    }
}

fn zk_verify_many(
    pcs: &HidingPcs,
    inst: &[Owned],
    run: &ManyRun,
    proof: &ZkLookupProof,
) -> Result<Vec<LookupClaims>, VerifyError> {
    let lens = lens_of(inst);
    let statement: Vec<(&LookupTable, &[usize])> = inst
        .iter()
        .zip(&lens)
        .map(|((t, _, _), l)| (t, l.as_slice()))
        .collect();
    let mut t = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&run.commitment, &mut t);
    let (claims, mut all) = verify_many(&statement, proof, 0, &mut t)?;
    all.extend(column_claims(&claims, run.masks.tables().len()));
    pcs.verify(&run.commitment, &all, &run.opening, &mut t)?;
    Ok(claims)
}

/// A range table, a two-column table with witnesses of several depths
/// (0, 2, 4), and a one-row table: trees of depths 0 to 7 in one walk.
fn several_tables() -> Vec<Owned> {
    let mut rng = StdRng::seed_from_u64(21);
    let range = LookupTable::range(5);
    let range_ws = vec![sample(&range, 70, &mut rng), sample(&range, 3, &mut rng)];
    let square = square_table();
    let square_ws = vec![
        sample(&square, 1, &mut rng),
        sample(&square, 16, &mut rng),
        sample(&square, 4, &mut rng),
    ];
    let one = LookupTable::function(vec![F::from_u64(5)], vec![F::from_u64(7)]);
    let one_ws = vec![sample(&one, 2, &mut rng)];
    [(range, range_ws), (square, square_ws), (one, one_ws)]
        .into_iter()
        .map(|(t, ws)| {
            let m = multiplicities(&t, &ws).unwrap();
            (t, ws, m)
        })
        .collect()
}

#[test]
fn several_tables_in_one_zk_proof_are_complete() {
    let pcs = pcs();
    let inst = several_tables();
    let run = zk_prove_many(&pcs, &inst, 4);
    assert_eq!(run.proof.layers.len(), 6);
    assert_eq!(
        zk_verify_many(&pcs, &inst, &run, &run.proof),
        Ok(run.claims.clone())
    );
    let mut first_tree = 0;
    for ((_, ws, m), claims) in inst.iter().zip(&run.claims) {
        assert!(claims_true(&run.masks, first_tree, ws, m, claims));
        first_tree += ws.len() + 1;
    }
    // A wrong multiplicity in one table among several is caught.
    let mut bad = several_tables();
    let used = bad[1].2.iter().position(|x| *x != F::ZERO).unwrap();
    bad[1].2[used] += F::ONE;
    let run = zk_prove_many(&pcs, &bad, 4);
    assert!(matches!(
        zk_verify_many(&pcs, &bad, &run, &run.proof),
        Err(VerifyError::Lookup(_))
    ));
}

#[test]
fn every_sent_value_changed_is_rejected() {
    let pcs = pcs();
    let inst = several_tables();
    let run = zk_prove_many(&pcs, &inst, 5);
    let mut tampered: Vec<(String, ZkLookupProof)> = Vec::new();
    let mut push = |name: String, f: &dyn Fn(&mut ZkLookupProof)| {
        let mut p = run.proof.clone();
        f(&mut p);
        tampered.push((name, p));
    };
    let root = &run.proof.root;
    for i in 0..root.blinded.len() {
        // Moved between two trees of one table: the sum stays 0.
        let other = if i == 0 { 1 } else { i - 1 };
        push(format!("blinded root {i}"), &|p| {
            p.root.blinded[i] += EF::ONE;
            p.root.blinded[other] -= EF::ONE;
        });
        for j in 0..4 {
            push(format!("root evals {i} {j}"), &|p| {
                p.root.evals[i][j] += EF::ONE
            });
        }
    }
    push("root G".into(), &|p| p.root.sumcheck.mask_sum += EF::ONE);
    for c in 0..root.sumcheck.sumcheck.round_polys[0].len() {
        push(format!("root round coeff {c}"), &|p| {
            p.root.sumcheck.sumcheck.round_polys[0][c] += EF::ONE
        });
    }
    push("root g(c)".into(), &|p| {
        p.root.sumcheck.mask_evals[0] += EF::ONE
    });
    for j in 0..2 {
        push(format!("layer 1 eq {j}"), &|p| p.layer_one_eq[j] += EF::ONE);
    }
    for (k, layer) in run.proof.layers.iter().enumerate() {
        push(format!("layer {k} G"), &|p| {
            p.layers[k].sumcheck.mask_sum += EF::ONE
        });
        for (r, poly) in layer.sumcheck.sumcheck.round_polys.iter().enumerate() {
            for c in 0..poly.len() {
                push(format!("layer {k} round {r} coeff {c}"), &|p| {
                    p.layers[k].sumcheck.sumcheck.round_polys[r][c] += EF::ONE
                });
            }
            push(format!("layer {k} g_{r}(r_{r})"), &|p| {
                p.layers[k].sumcheck.mask_evals[r] += EF::ONE
            });
        }
        for i in 0..layer.evals.len() {
            for j in 0..4 {
                push(format!("layer {k} tree {i} half {j}"), &|p| {
                    p.layers[k].evals[i][j] += EF::ONE
                });
            }
        }
        for j in 0..layer.r_values.len() {
            push(format!("layer {k} R value {j}"), &|p| {
                p.layers[k].r_values[j] += EF::ONE
            });
        }
    }
    for i in 0..run.proof.witness_evals.len() {
        for j in 0..run.proof.witness_evals[i].len() {
            push(format!("witness {i} column {j}"), &|p| {
                p.witness_evals[i][j] += EF::ONE
            });
        }
    }
    assert!(tampered.len() > 200);
    for (name, p) in &tampered {
        assert!(zk_verify_many(&pcs, &inst, &run, p).is_err(), "{name}");
    }
}

/// The tree of one witness or table at its challenges: `(p, q)` per layer.
fn tree_layers(leaves_p: Vec<EF>, leaves_q: Vec<EF>) -> Vec<(Vec<EF>, Vec<EF>)> {
    let mut layers = vec![(leaves_p, leaves_q)];
    while layers[0].0.len() > 1 {
        let (p, q) = &layers[0];
        let h = p.len() / 2;
        let up = (
            (0..h).map(|x| p[x] * q[h + x] + p[h + x] * q[x]).collect(),
            (0..h).map(|x| q[x] * q[h + x]).collect(),
        );
        layers.insert(0, up);
    }
    layers
}

/// Every middle layer's halves go out as `V + Z(r)·S` with the committed
/// mask's `S`, the leaves' committed halves (a witness's `q`, a table's
/// multiplicities) through their columns' `R`: never a private value.
#[test]
fn middle_halves_go_out_masked() {
    use crate::mle::evaluate_ext;
    use crate::sumcheck::zk::masked_eval::{constant_head, vanishing_eval};
    let pcs = pcs();
    let (table, ws, m) = range_instance();
    let inst = vec![(table.clone(), ws.clone(), m.clone())];
    let run = zk_prove_many(&pcs, &inst, 6);
    // Replay the challenges.
    let mut t = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&run.commitment, &mut t);
    t.label(b"logup/zk");
    let lens = lens_of(&inst);
    absorb_statements(
        &mut t,
        &[Statement {
            width: 1,
            table_len: table.len(),
            witness_lens: lens[0].clone(),
        }],
    );
    let (alpha, _) = draw_alpha_beta(&mut t);
    let leaves = |col: &[F], p: Vec<EF>| {
        let n = p.len();
        let q = (0..n)
            .map(|i| alpha - EF::from(col.get(i).copied().unwrap_or(F::ZERO)))
            .collect();
        tree_layers(p, q)
    };
    let pad = |len: usize| 1usize << num_vars_for(len);
    let mut trees: Vec<Vec<(Vec<EF>, Vec<EF>)>> = ws
        .iter()
        .map(|w| {
            let p = (0..pad(w.len()))
                .map(|i| EF::from(F::from_bool(i < w.len())))
                .collect();
            leaves(&w.columns[0], p)
        })
        .collect();
    trees.push(leaves(
        &table.columns[0],
        m.iter().map(|&x| EF::from(x)).collect(),
    ));
    let depths: Vec<usize> = trees.iter().map(|t| t.len() - 1).collect();
    // Each layer's point: the last coordinate of its k claims on `g`
    // (one per variable, `r_i` last), which precede its `R` claims.
    let mut vt = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&run.commitment, &mut vt);
    let (_, mask_claims) = verify(&table, &lens[0], &run.proof, 0, &mut vt).unwrap();
    // The root step's claims come first: g's one, then the blinding
    // table's (3 trees, 1 padding row, the sum).
    let mut claims = mask_claims.iter().skip(1 + 4 + 1);
    let head = constant_head();
    let mut masked_layers = 0;
    let mut leaves = 0;
    for (k, layer) in (1..).zip(&run.proof.layers) {
        let point: Vec<EF> = claims
            .by_ref()
            .take(k)
            .map(|c| *c.point.last().unwrap())
            .collect();
        claims.by_ref().take(layer.r_values.len()).for_each(drop);
        let active: Vec<usize> = (0..trees.len()).filter(|&i| depths[i] > k).collect();
        let mut j = 0;
        for (e, &i) in layer.evals.iter().zip(&active) {
            let (p, q) = &trees[i][k + 1];
            let h = p.len() / 2;
            let truth = [&p[..h], &p[h..], &q[..h], &q[h..]].map(|v| evaluate_ext(v, &point));
            if depths[i] > k + 1 {
                let r = &run.masks.layers[k - 1].1[j];
                j += 1;
                for x in 0..4 {
                    let s = r[x].eval(&head, EF::ZERO) + r[x].eval(&head, EF::ONE);
                    assert_eq!(e[x], truth[x] + vanishing_eval(&point) * s);
                    assert_ne!(e[x], truth[x]);
                }
                masked_layers += 1;
            } else {
                // Leaves: the committed column's half through its `R(b, ·)`
                // (`q = α − w` for a witness), the public half in the clear.
                let r = &run.masks.leaves[i][0];
                let z = vanishing_eval(&point);
                let s = |b: usize| z * crate::mle::evaluate_base(&r[2 * b..2 * b + 2], &point[..1]);
                let (masked, sign) = if i + 1 == trees.len() {
                    (0, EF::ONE)
                } else {
                    (2, -EF::ONE)
                };
                for b in 0..2 {
                    assert_eq!(e[masked + b], truth[masked + b] + sign * s(b));
                    assert_ne!(e[masked + b], truth[masked + b]);
                    assert_eq!(e[2 - masked + b], truth[2 - masked + b]);
                }
                leaves += 1;
            }
        }
    }
    assert_eq!(
        masked_layers,
        5 + 3 + 3,
        "70 rows: 5 masked layers; 21 and 32: 3"
    );
    assert_eq!(leaves, 3);
}

//! Completeness and soundness of the zero-knowledge LogUp-GKR, the masks in
//! one hiding commitment opened once.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::super::{evaluate_col, multiplicities};
use super::*;
use crate::field::PrimeCharacteristicRing;
use crate::pcs::{CommitmentScheme, HidingParams, HidingPcs};

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

struct Run {
    lens: Vec<usize>,
    commitment: <HidingPcs as CommitmentScheme>::Commitment,
    opening: <HidingPcs as CommitmentScheme>::Opening,
    proof: ZkLookupProof,
    claims: LookupClaims,
}

/// Commits the masks, proves, opens every mask claim in one opening.
fn zk_prove(pcs: &HidingPcs, table: &LookupTable, ws: &[LookupWitness], m: &[F]) -> Run {
    let lens: Vec<usize> = ws.iter().map(LookupWitness::len).collect();
    let masks = LookupMasks::random(&[(table.len(), &lens)], &mut StdRng::seed_from_u64(3));
    let tables = masks.tables();
    let (commitment, data) = pcs.commit(&tables).unwrap();
    let mut t = Transcript::new(b"zk-logup");
    pcs.absorb_commitment(&commitment, &mut t);
    let (proof, claims, mask_claims) = prove(table, ws, m, &masks, 0, &mut t);
    let opening = pcs.open_consuming(data, &mask_claims, &mut t).unwrap();
    Run {
        lens,
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
    let (claims, mask_claims) = verify(table, &run.lens, proof, 0, &mut t)?;
    pcs.verify(&run.commitment, &mask_claims, &run.opening, &mut t)?;
    Ok(claims)
}

/// The claims are the committed columns' MLE evaluations.
fn claims_true(ws: &[LookupWitness], m: &[F], claims: &LookupClaims) -> bool {
    ws.iter().zip(&claims.witnesses).all(|(w, c)| {
        w.columns
            .iter()
            .zip(&c.values)
            .all(|(col, &v)| evaluate_col(col, &c.point) == v)
    }) && claims.multiplicities.values == vec![evaluate_col(m, &claims.multiplicities.point)]
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
    assert!(claims_true(&ws, &m, &run.claims));

    let table = square_table();
    let mut rng = StdRng::seed_from_u64(2);
    let ws = vec![sample(&table, 13, &mut rng), sample(&table, 9, &mut rng)];
    let m = multiplicities(&table, &ws).unwrap();
    let run = zk_prove(&pcs, &table, &ws, &m);
    assert_eq!(
        zk_verify(&pcs, &table, &run, &run.proof),
        Ok(run.claims.clone())
    );
    assert!(claims_true(&ws, &m, &run.claims));
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
        tops: run.proof.tops.clone(),
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

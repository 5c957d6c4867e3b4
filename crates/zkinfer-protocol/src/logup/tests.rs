//! Completeness and soundness tests of LogUp.

use super::verifier::table_column_evals;
use super::*;
use crate::field::f_from_i64;
use crate::mle::num_vars_for;
use crate::transcript::Transcript;
use crate::VerifyError;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn col(v: &[u64]) -> Vec<F> {
    v.iter().map(|&x| F::from_u64(x)).collect()
}

fn w1(v: &[u64]) -> LookupWitness {
    LookupWitness {
        columns: vec![col(v)],
    }
}

fn rand_ef(rng: &mut StdRng) -> EF {
    EF::new([F::from_u64(rng.random()), F::from_u64(rng.random())])
}

/// Random rows of `table` (as a witness of `len` rows).
fn sample_witness(table: &LookupTable, len: usize, rng: &mut StdRng) -> LookupWitness {
    let rows: Vec<usize> = (0..len).map(|_| rng.random_range(0..table.len())).collect();
    LookupWitness {
        columns: table
            .columns
            .iter()
            .map(|c| rows.iter().map(|&r| c[r]).collect())
            .collect(),
    }
}

fn run(
    table: &LookupTable,
    witnesses: &[LookupWitness],
    m: &[F],
) -> (LookupProof, LookupClaims, Result<LookupClaims, VerifyError>) {
    let mut tp = Transcript::new(b"logup-test");
    let (proof, claims) = prove(table, witnesses, m, &mut tp);
    let lens: Vec<usize> = witnesses.iter().map(LookupWitness::len).collect();
    let mut tv = Transcript::new(b"logup-test");
    let verdict = verify(table, &lens, &proof, &mut tv);
    if verdict.is_ok() {
        // Both transcripts end in the same state.
        assert_eq!(tp.challenge_ef(), tv.challenge_ef());
    }
    (proof, claims, verdict)
}

/// The caller's check of the returned claims against its (here: plain) committed columns.
fn caller_accepts(witnesses: &[LookupWitness], m: &[F], claims: &LookupClaims) -> bool {
    claims.witnesses.len() == witnesses.len()
        && witnesses.iter().zip(&claims.witnesses).all(|(w, c)| {
            c.point.len() == num_vars_for(w.len())
                && c.values.len() == w.columns.len()
                && w.columns
                    .iter()
                    .zip(&c.values)
                    .all(|(col, &v)| evaluate_col(col, &c.point) == v)
        })
        && claims.multiplicities.point.len() == num_vars_for(m.len())
        && claims.multiplicities.values == vec![evaluate_col(m, &claims.multiplicities.point)]
}

/// Completeness: honest multiplicities, verify accepts, claims agree and are true.
fn assert_complete(
    table: &LookupTable,
    witnesses: &[LookupWitness],
) -> (LookupProof, LookupClaims) {
    let m = multiplicities(table, witnesses).expect("all rows in table");
    let total: u64 = m.iter().map(|x| x.as_canonical_u64()).sum();
    assert_eq!(
        total as usize,
        witnesses.iter().map(LookupWitness::len).sum::<usize>()
    );
    let (proof, claims, verdict) = run(table, witnesses, &m);
    assert_eq!(
        verdict.as_ref(),
        Ok(&claims),
        "verify must accept and return the prover's claims"
    );
    assert!(
        caller_accepts(witnesses, &m, &claims),
        "claims must be true MLE evaluations"
    );
    (proof, claims)
}

/// Soundness: the statement is rejected by `verify` or by the caller's claim check.
fn rejected(
    table: &LookupTable,
    lens: &[usize],
    proof: &LookupProof,
    witnesses: &[LookupWitness],
    m: &[F],
) -> bool {
    let mut t = Transcript::new(b"logup-test");
    match verify(table, lens, proof, &mut t) {
        Err(_) => true,
        Ok(claims) => !caller_accepts(witnesses, m, &claims),
    }
}

fn clamp_table() -> LookupTable {
    let xs: Vec<i64> = (-(1 << 15)..1 << 15).collect();
    LookupTable::function(
        xs.iter().map(|&x| f_from_i64(x)).collect(),
        xs.iter().map(|&x| f_from_i64(x.clamp(0, 127))).collect(),
    )
}

fn sigmoid_table() -> LookupTable {
    let xs: Vec<i64> = (-2048..2048).collect();
    let sig = |x: i64| (255.0 / (1.0 + (-(x as f64) / 256.0).exp())).round() as i64;
    LookupTable::function(
        xs.iter().map(|&x| f_from_i64(x)).collect(),
        xs.iter().map(|&x| f_from_i64(sig(x))).collect(),
    )
}

#[test]
fn range_tables_complete() {
    let mut rng = StdRng::seed_from_u64(1);
    for bits in [4, 8, 16] {
        let table = LookupTable::range(bits);
        assert_eq!(table.range_bits(), Some(bits));
        let w = sample_witness(&table, 1000, &mut rng);
        let (_, claims) = assert_complete(&table, &[w]);
        assert_eq!(claims.witnesses[0].point.len(), 10);
        assert_eq!(claims.multiplicities.point.len(), bits);
    }
}

#[test]
fn power_of_two_witness_complete() {
    let mut rng = StdRng::seed_from_u64(2);
    let table = LookupTable::range(8);
    let ws = [
        sample_witness(&table, 1 << 12, &mut rng),
        sample_witness(&table, 1 << 8, &mut rng),
    ];
    let (_, claims) = assert_complete(&table, &ws);
    // Same padded size as the table: the same point.
    assert_eq!(claims.witnesses[1].point, claims.multiplicities.point);
}

#[test]
fn function_tables_complete() {
    let mut rng = StdRng::seed_from_u64(3);
    for table in [clamp_table(), sigmoid_table()] {
        assert_eq!(table.width(), 2);
        assert_eq!(table.range_bits(), None);
        let ws = [
            sample_witness(&table, 777, &mut rng),
            sample_witness(&table, 5000, &mut rng),
        ];
        assert_complete(&table, &ws);
    }
    // Values computed from inputs, not sampled rows.
    let table = clamp_table();
    let xs: Vec<i64> = vec![-32768, -5, 0, 3, 127, 128, 32767];
    let w = LookupWitness {
        columns: vec![
            xs.iter().map(|&x| f_from_i64(x)).collect(),
            xs.iter().map(|&x| f_from_i64(x.clamp(0, 127))).collect(),
        ],
    };
    assert_complete(&table, &[w]);
}

#[test]
fn batched_witnesses_of_different_lengths() {
    let mut rng = StdRng::seed_from_u64(4);
    let table = LookupTable::range(6);
    let lens = [3usize, 100, 1, 37, 64, 65, 0, 2, 1000];
    let ws: Vec<_> = lens
        .iter()
        .map(|&l| sample_witness(&table, l, &mut rng))
        .collect();
    let (proof, claims) = assert_complete(&table, &ws);
    for (c, &l) in claims.witnesses.iter().zip(&lens) {
        assert_eq!(c.point.len(), num_vars_for(l));
    }
    // Witnesses of equal padded size share their point.
    assert_eq!(claims.witnesses[1].point, claims.witnesses[5].point);
    assert_ne!(claims.witnesses[1].point, claims.witnesses[3].point);
    assert_eq!(proof.layers.len(), num_vars_for(1000) - 1);
}

#[test]
fn single_row_and_empty_witnesses() {
    let table = LookupTable::range(4);
    let (proof, claims) = assert_complete(&table, &[w1(&[9])]);
    assert!(claims.witnesses[0].point.is_empty());
    assert_eq!(claims.witnesses[0].values, vec![EF::from_u64(9)]);
    assert_eq!(proof.tops[0].len(), 2);
    assert_complete(&table, &[w1(&[]), w1(&[15]), w1(&[0, 1])]);
    assert_complete(&table, &[]);
    // Single-row function table with a single-row witness.
    let t1 = LookupTable::function(col(&[5]), col(&[6]));
    assert_complete(
        &t1,
        &[LookupWitness {
            columns: vec![col(&[5]), col(&[6])],
        }],
    );
    assert_complete(
        &t1,
        &[LookupWitness {
            columns: vec![col(&[5; 3]), col(&[6; 3])],
        }],
    );
}

#[test]
fn non_power_of_two_table() {
    let mut rng = StdRng::seed_from_u64(5);
    let table = LookupTable::function(col(&[10, 20, 30, 40, 50]), col(&[1, 2, 3, 4, 5]));
    let ws = [
        sample_witness(&table, 13, &mut rng),
        sample_witness(&table, 8, &mut rng),
    ];
    assert_complete(&table, &ws);
    // A one-column table that is not a range table.
    let table = LookupTable {
        columns: vec![col(&[7, 3, 9])],
    };
    assert_complete(&table, &[w1(&[3, 3, 9, 7, 9])]);
}

#[test]
fn claims_are_mle_evaluations() {
    let mut rng = StdRng::seed_from_u64(6);
    let table = clamp_table();
    let ws = [
        sample_witness(&table, 300, &mut rng),
        sample_witness(&table, 1, &mut rng),
    ];
    let m = multiplicities(&table, &ws).unwrap();
    let (_, claims, verdict) = run(&table, &ws, &m);
    assert_eq!(verdict.unwrap(), claims);
    for (w, c) in ws.iter().zip(&claims.witnesses) {
        for (column, &v) in w.columns.iter().zip(&c.values) {
            assert_eq!(evaluate_col(column, &c.point), v);
        }
    }
    assert_eq!(
        claims.multiplicities.values[0],
        evaluate_col(&m, &claims.multiplicities.point)
    );
    assert_eq!(claims.multiplicities.point.len(), 16);
}

#[test]
fn multiplicities_counts_and_errors() {
    let table = LookupTable::range(3);
    let ws = [w1(&[1, 1, 7]), w1(&[0, 7, 7, 7])];
    assert_eq!(
        multiplicities(&table, &ws).unwrap(),
        col(&[1, 2, 0, 0, 0, 0, 0, 4])
    );
    assert_eq!(
        multiplicities(&table, &[w1(&[1]), w1(&[2, 8, 3])]),
        Err(LookupError::NotInTable { witness: 1, row: 1 })
    );
    let neg = LookupWitness {
        columns: vec![vec![f_from_i64(-1)]],
    };
    assert_eq!(
        multiplicities(&table, &[neg]),
        Err(LookupError::NotInTable { witness: 0, row: 0 })
    );
    let two = LookupWitness {
        columns: vec![col(&[1]), col(&[1])],
    };
    assert_eq!(
        multiplicities(&table, &[w1(&[1]), two]),
        Err(LookupError::Width(1))
    );
    // Hash-map path (function table) and a permuted one-column table.
    let f = LookupTable::function(col(&[5, 9, 2]), col(&[50, 90, 20]));
    let ok = LookupWitness {
        columns: vec![col(&[9, 9, 2]), col(&[90, 90, 20])],
    };
    assert_eq!(multiplicities(&f, &[ok]).unwrap(), col(&[0, 2, 1]));
    let bad = LookupWitness {
        columns: vec![col(&[9, 2]), col(&[90, 21])],
    };
    assert_eq!(
        multiplicities(&f, &[bad]),
        Err(LookupError::NotInTable { witness: 0, row: 1 })
    );
    let ragged = LookupWitness {
        columns: vec![col(&[9, 2]), col(&[90])],
    };
    assert_eq!(
        multiplicities(&f, &[ragged]),
        Err(LookupError::ColumnLengths(0))
    );
    let perm = LookupTable {
        columns: vec![col(&[3, 0, 1, 2])],
    };
    assert_eq!(perm.range_bits(), None);
    assert_eq!(
        multiplicities(&perm, &[w1(&[0, 3, 3])]).unwrap(),
        col(&[2, 1, 0, 0])
    );
}

#[test]
#[should_panic(expected = "appears twice")]
fn function_table_rejects_duplicate_inputs() {
    let _ = LookupTable::function(col(&[1, 2, 1]), col(&[0, 0, 0]));
}

#[test]
fn function_on_range_is_the_function_table_of_consecutive_inputs() {
    let outputs = col(&[7, 7, 9, 1]);
    let inputs: Vec<F> = (-2..2).map(f_from_i64).collect();
    assert_eq!(
        LookupTable::function_on_range(-2, outputs.clone()),
        LookupTable::function(inputs, outputs)
    );
}

#[test]
fn out_of_table_value_is_rejected() {
    let table = LookupTable::range(4);
    let honest = w1(&[1, 2, 3, 4, 5]);
    let m_honest = multiplicities(&table, &[honest]).unwrap();
    // 17 ≡ "1 mod 16", 16 (just outside), p - 1 (= -1).
    for bad in [17u64, 16, crate::field::MODULUS - 1] {
        let w = w1(&[1, 2, 3, bad, 5]);
        assert!(multiplicities(&table, std::slice::from_ref(&w)).is_err());
        // Fake multiplicity vectors: as if the bad row were row 4 (the honest
        // value), row 1, row 0, or simply not counted.
        let mut fakes = vec![m_honest.clone()];
        for j in [1usize, 0] {
            let mut m = m_honest.clone();
            m[4] -= F::ONE;
            m[j] += F::ONE;
            fakes.push(m);
        }
        let mut m = m_honest.clone();
        m[4] -= F::ONE;
        fakes.push(m);
        for m in &fakes {
            let (proof, _, verdict) = run(&table, std::slice::from_ref(&w), m);
            assert!(verdict.is_err(), "out-of-table value {bad} accepted");
            assert!(rejected(&table, &[5], &proof, std::slice::from_ref(&w), m));
        }
    }
    // Two columns: right input, wrong output.
    let f = clamp_table();
    let good = LookupWitness {
        columns: vec![vec![f_from_i64(-3)], vec![f_from_i64(0)]],
    };
    let bad = LookupWitness {
        columns: vec![vec![f_from_i64(-3)], vec![f_from_i64(1)]],
    };
    let m = multiplicities(&f, &[good]).unwrap();
    let (_, _, verdict) = run(&f, &[bad], &m);
    assert!(verdict.is_err());
}

/// The forgery of issue 12: a count on a padding row of a table whose
/// length is not a power of two must not admit a row outside the table
/// (with zero padding it admitted `(0, 0)` / `0`).
#[test]
fn multiplicity_on_a_padding_row_admits_no_foreign_row() {
    // A clamp-like relation without (0, 0), a LUT with f(0) ≠ 0, and a
    // one-column table without 0; all of odd length.
    let relation = LookupTable::relation(
        [0, 0, 0, 1, -1].map(f_from_i64).to_vec(),
        [1, 2, 3, 3, 1].map(f_from_i64).to_vec(),
    );
    let lut = LookupTable::function(
        [-1, 0, 1].map(f_from_i64).to_vec(),
        [5, 7, 9].map(f_from_i64).to_vec(),
    );
    let single = LookupTable {
        columns: vec![[1, 2, 3].map(f_from_i64).to_vec()],
    };
    for table in [relation, lut, single] {
        // Two rows: the table's first row, then the all-zero row (forged)
        // or the first row again (honest).
        let first = |c: &Vec<F>| c[0];
        let zero_row = LookupWitness {
            columns: table
                .columns
                .iter()
                .map(|c| vec![first(c), F::ZERO])
                .collect(),
        };
        let honest = LookupWitness {
            columns: table.columns.iter().map(|c| vec![first(c); 2]).collect(),
        };
        let padded_len = 1 << num_vars_for(table.len());
        let mut m = multiplicities(&table, std::slice::from_ref(&honest)).unwrap();
        m.resize(padded_len, F::ZERO);
        let (_, _, verdict) = run(&table, std::slice::from_ref(&honest), &m);
        assert!(verdict.is_ok(), "padded honest multiplicities are accepted");
        // The forged witness: one genuine row and one all-zero row, the
        // zero row counted on each padding row in turn.
        for pad_row in table.len()..padded_len {
            let mut forged = vec![F::ZERO; padded_len];
            forged[0] = F::ONE;
            forged[pad_row] = F::ONE;
            let (_, _, verdict) = run(&table, std::slice::from_ref(&zero_row), &forged);
            assert!(
                verdict.is_err(),
                "a padding-row count admitted a foreign row (width {})",
                table.width()
            );
        }
    }
}

#[test]
fn wrong_multiplicity_is_rejected() {
    let mut rng = StdRng::seed_from_u64(7);
    let table = LookupTable::range(5);
    let ws = [
        sample_witness(&table, 21, &mut rng),
        sample_witness(&table, 6, &mut rng),
    ];
    let m = multiplicities(&table, &ws).unwrap();
    let used = m.iter().position(|x| *x != F::ZERO).unwrap();
    let unused = m.iter().position(|x| *x == F::ZERO).unwrap();
    let mut variants = vec![];
    let mut v = m.clone();
    v[used] += F::ONE;
    variants.push(v);
    let mut v = m.clone();
    v[used] -= F::ONE;
    variants.push(v);
    let mut v = m.clone();
    v[used] -= F::ONE;
    v[unused] += F::ONE;
    variants.push(v);
    let mut v = m.clone();
    v[unused] = -F::ONE;
    variants.push(v);
    for v in &variants {
        let (proof, _, verdict) = run(&table, &ws, v);
        assert!(verdict.is_err());
        assert!(rejected(&table, &[21, 6], &proof, &ws, v));
    }
    // An honest proof with the caller holding a different committed multiplicity column.
    let (proof, _, verdict) = run(&table, &ws, &m);
    assert!(verdict.is_ok());
    assert!(rejected(&table, &[21, 6], &proof, &ws, &variants[2]));
}

/// Calls `f` on a mutable reference to every field element of the proof, in turn.
fn for_each_element(proof: &LookupProof, mut f: impl FnMut(&'static str, LookupProof)) {
    for i in 0..proof.tops.len() {
        for j in 0..proof.tops[i].len() {
            let mut p = proof.clone();
            p.tops[i][j] += EF::ONE;
            f("tops", p);
        }
    }
    for l in 0..proof.layers.len() {
        for r in 0..proof.layers[l].sumcheck.round_polys.len() {
            for j in 0..proof.layers[l].sumcheck.round_polys[r].len() {
                let mut p = proof.clone();
                p.layers[l].sumcheck.round_polys[r][j] += EF::ONE;
                f("round_polys", p);
            }
        }
        for e in 0..proof.layers[l].evals.len() {
            for j in 0..4 {
                let mut p = proof.clone();
                p.layers[l].evals[e][j] += EF::ONE;
                f("layer evals", p);
            }
        }
    }
    for i in 0..proof.witness_evals.len() {
        for j in 0..proof.witness_evals[i].len() {
            let mut p = proof.clone();
            p.witness_evals[i][j] += EF::ONE;
            f("witness_evals", p);
        }
    }
}

#[test]
fn every_perturbed_proof_element_is_rejected() {
    let mut rng = StdRng::seed_from_u64(8);
    for table in [
        LookupTable::range(3),
        LookupTable::function(col(&[1, 2, 3]), col(&[4, 5, 6])),
    ] {
        let ws = [
            sample_witness(&table, 1, &mut rng),
            sample_witness(&table, 5, &mut rng),
            sample_witness(&table, 16, &mut rng),
        ];
        let lens = [1, 5, 16];
        let m = multiplicities(&table, &ws).unwrap();
        let (proof, _) = assert_complete(&table, &ws);
        let mut seen = std::collections::BTreeMap::new();
        for_each_element(&proof, |part, p| {
            assert!(
                rejected(&table, &lens, &p, &ws, &m),
                "perturbed {part} accepted"
            );
            *seen.entry(part).or_insert(0) += 1;
        });
        assert_eq!(seen.len(), 4, "every part perturbed: {seen:?}");
        // Structural damage.
        let mut p = proof.clone();
        p.layers.pop();
        assert!(matches!(
            verify(&table, &lens, &p, &mut Transcript::new(b"logup-test")),
            Err(VerifyError::Malformed(_))
        ));
        let mut p = proof.clone();
        p.tops[2].push(EF::ZERO);
        assert!(rejected(&table, &lens, &p, &ws, &m));
        let mut p = proof.clone();
        p.layers[0].evals.pop();
        assert!(rejected(&table, &lens, &p, &ws, &m));
        let mut p = proof.clone();
        p.witness_evals[0].pop();
        assert!(rejected(&table, &lens, &p, &ws, &m));
        // Swapping two witnesses' evaluations.
        let mut p = proof.clone();
        p.witness_evals.swap(0, 1);
        assert!(rejected(&table, &lens, &p, &ws, &m));
    }
}

#[test]
fn different_table_at_verification_is_rejected() {
    let mut rng = StdRng::seed_from_u64(9);
    let table = LookupTable::range(6);
    let ws = [sample_witness(&table, 50, &mut rng)];
    let m = multiplicities(&table, &ws).unwrap();
    let (proof, _) = assert_complete(&table, &ws);
    let mut other = table.clone();
    other.columns[0][63] = F::from_u64(64);
    let mut swapped = table.clone();
    swapped.columns[0].swap(3, 4);
    for t in [LookupTable::range(5), LookupTable::range(7), other, swapped] {
        assert!(rejected(&t, &[50], &proof, &ws, &m));
    }
    let f = clamp_table();
    let ws = [sample_witness(&f, 40, &mut rng)];
    let m = multiplicities(&f, &ws).unwrap();
    let (proof, _) = assert_complete(&f, &ws);
    let mut g = f.clone();
    g.columns[1][40000] += F::ONE;
    assert!(rejected(&g, &[40], &proof, &ws, &m));
    let mut g = f.clone();
    g.columns.swap(0, 1);
    assert!(rejected(&g, &[40], &proof, &ws, &m));
}

#[test]
fn witness_length_mismatch_is_rejected() {
    let mut rng = StdRng::seed_from_u64(10);
    let table = LookupTable::range(4);
    let ws = [
        sample_witness(&table, 11, &mut rng),
        sample_witness(&table, 3, &mut rng),
    ];
    let (proof, _) = assert_complete(&table, &ws);
    for lens in [
        vec![12, 3],
        vec![10, 3],
        vec![11, 4],
        vec![3, 11],
        vec![11],
        vec![11, 3, 0],
        vec![16, 3],
    ] {
        let mut t = Transcript::new(b"logup-test");
        assert!(
            verify(&table, &lens, &proof, &mut t).is_err(),
            "lens {lens:?} accepted"
        );
    }
}

#[test]
fn claim_moved_to_another_point_is_rejected() {
    let mut rng = StdRng::seed_from_u64(11);
    let table = LookupTable::range(4);
    let ws = [
        sample_witness(&table, 11, &mut rng),
        sample_witness(&table, 9, &mut rng),
    ];
    let m = multiplicities(&table, &ws).unwrap();
    let (_, claims) = assert_complete(&table, &ws);
    let mut moved = claims.clone();
    moved.witnesses[0].point[1] += EF::ONE;
    assert!(!caller_accepts(&ws, &m, &moved));
    let mut moved = claims.clone();
    moved.multiplicities.point[0] += EF::ONE;
    assert!(!caller_accepts(&ws, &m, &moved));
    // Claims of one witness presented for the other.
    let mut moved = claims.clone();
    moved.witnesses.swap(0, 1);
    assert!(!caller_accepts(&ws, &m, &moved));
    let mut moved = claims.clone();
    moved.witnesses[1].values[0] += EF::ONE;
    assert!(!caller_accepts(&ws, &m, &moved));
}

#[test]
fn indicator_and_range_closed_forms_match_mles() {
    let mut rng = StdRng::seed_from_u64(12);
    for d in 0..7 {
        let pt: Vec<EF> = (0..d).map(|_| rand_ef(&mut rng)).collect();
        for n in 0..=(1usize << d) {
            let ind: Vec<F> = (0..1usize << d).map(|i| F::from_bool(i < n)).collect();
            assert_eq!(
                prefix_indicator_eval(n, &pt),
                evaluate_col(&ind, &pt),
                "n={n} d={d}"
            );
        }
        let idx: Vec<F> = (0..1u64 << d).map(F::from_u64).collect();
        assert_eq!(range_column_eval(&pt), evaluate_col(&idx, &pt));
        assert_eq!(
            table_column_evals(&LookupTable::range(d), &pt),
            vec![evaluate_col(&idx, &pt)]
        );
    }
}

/// Process CPU time (user + system) in ms, from `/proc/self/stat`.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().map(|x| x.parse::<f64>().unwrap_or(0.0)).sum()
    });
    ticks * 10.0
}

/// Rough timing of the full prover (run with `--ignored --nocapture`):
/// wall time, and process CPU time (robust to other load on the machine).
#[test]
#[ignore]
fn time_prove_2p20() {
    let mut rng = StdRng::seed_from_u64(15);
    let range = LookupTable::range(16);
    let ws = vec![sample_witness(&range, 1 << 20, &mut rng)];
    let func = clamp_table();
    let ws2 = vec![sample_witness(&func, 1 << 20, &mut rng)];
    for (name, table, ws) in [
        ("range16 1-col", &range, &ws),
        ("function16 2-col", &func, &ws2),
    ] {
        let m = multiplicities(table, ws).unwrap();
        let reps = 5;
        let (w0, c0) = (std::time::Instant::now(), cpu_ms());
        let mut proof = None;
        for _ in 0..reps {
            let mut t = Transcript::new(b"t");
            proof = Some(prove(table, ws, &m, &mut t).0);
        }
        let wall = w0.elapsed().as_secs_f64() * 1e3 / reps as f64;
        let cpu = (cpu_ms() - c0) / reps as f64;
        let start = std::time::Instant::now();
        let mut t = Transcript::new(b"t");
        verify(table, &[1 << 20], proof.as_ref().unwrap(), &mut t).unwrap();
        let t_verify = start.elapsed().as_secs_f64() * 1e3;
        println!("{name}: prove wall {wall:.1} ms, cpu {cpu:.1} ms; verify {t_verify:.2} ms");
    }
}

/// A random small instance: table (range or function), witnesses sampled from it.
fn instance(seed: u64) -> (LookupTable, Vec<LookupWitness>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let table = if rng.random_bool(0.5) {
        LookupTable::range(rng.random_range(0..6))
    } else {
        let n = rng.random_range(1..40);
        let mut inputs: Vec<u64> = (0..n).map(|i| i * 7 + rng.random_range(0..7)).collect();
        inputs.reverse();
        let outputs: Vec<u64> = (0..n).map(|_| rng.random()).collect();
        LookupTable::function(col(&inputs), col(&outputs))
    };
    let nw = rng.random_range(0..4);
    let ws = (0..nw).map(|_| {
        let len = rng.random_range(0..40);
        sample_witness(&table, len, &mut rng)
    });
    (table.clone(), ws.collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_random_instances_complete(seed in any::<u64>()) {
        let (table, ws) = instance(seed);
        assert_complete(&table, &ws);
    }

    #[test]
    fn prop_forced_out_of_table_row_rejected(seed in any::<u64>(), which in any::<usize>(), delta in 1u64..1000) {
        let (table, mut ws) = instance(seed);
        prop_assume!(ws.iter().any(|w| !w.is_empty()));
        let m = multiplicities(&table, &ws).unwrap();
        let nonempty: Vec<usize> = (0..ws.len()).filter(|&i| !ws[i].is_empty()).collect();
        let wi = nonempty[which % nonempty.len()];
        let row = (which / 7) % ws[wi].len();
        let c = ws[wi].columns.len() - 1;
        ws[wi].columns[c][row] += F::from_u64(delta);
        prop_assume!(multiplicities(&table, &ws).is_err());
        let lens: Vec<usize> = ws.iter().map(LookupWitness::len).collect();
        let (proof, _, verdict) = run(&table, &ws, &m);
        prop_assert!(verdict.is_err());
        prop_assert!(rejected(&table, &lens, &proof, &ws, &m));
    }

    #[test]
    fn prop_random_perturbation_rejected(seed in any::<u64>(), pick in any::<usize>(), delta in 1u64..u64::MAX) {
        let (table, ws) = instance(seed);
        let m = multiplicities(&table, &ws).unwrap();
        let lens: Vec<usize> = ws.iter().map(LookupWitness::len).collect();
        let (proof, _) = assert_complete(&table, &ws);
        let mut variants = vec![];
        for_each_element(&proof, |_, p| variants.push(p));
        // Undo the +1 of `for_each_element` and apply a random nonzero delta instead.
        let mut p = variants.swap_remove(pick % variants.len());
        let d = EF::from(F::from_u64(delta)) - EF::ONE;
        let diff = |a: &LookupProof, b: &LookupProof| a != b;
        prop_assert!(diff(&p, &proof));
        // Find the perturbed element and apply the new delta.
        for (x, y) in p.tops.iter_mut().flatten().zip(proof.tops.iter().flatten()) {
            if x != y { *x += d; }
        }
        for (lx, ly) in p.layers.iter_mut().zip(&proof.layers) {
            for (x, y) in lx.sumcheck.round_polys.iter_mut().flatten().zip(ly.sumcheck.round_polys.iter().flatten()) {
                if x != y { *x += d; }
            }
            for (x, y) in lx.evals.iter_mut().flatten().zip(ly.evals.iter().flatten()) {
                if x != y { *x += d; }
            }
        }
        for (x, y) in p.witness_evals.iter_mut().flatten().zip(proof.witness_evals.iter().flatten()) {
            if x != y { *x += d; }
        }
        prop_assume!(p != proof);
        prop_assert!(rejected(&table, &lens, &p, &ws, &m));
    }
}

/// Several tables in one proof: proves, verifies, and each table's claims
/// equal those its caller checks.
fn run_many(
    instances: &[(LookupTable, Vec<LookupWitness>, Vec<F>)],
) -> (LookupProof, Vec<LookupClaims>) {
    let insts: Vec<LookupInstance<'_>> = instances
        .iter()
        .map(|(table, witnesses, m)| LookupInstance {
            table,
            witnesses,
            multiplicities: m,
        })
        .collect();
    let mut tp = Transcript::new(b"logup-test");
    let (proof, claims) = prove_many(&insts, &mut tp);
    (proof, claims)
}

fn verify_many_of(
    instances: &[(LookupTable, Vec<LookupWitness>, Vec<F>)],
    proof: &LookupProof,
) -> Result<Vec<LookupClaims>, VerifyError> {
    let lens: Vec<Vec<usize>> = instances
        .iter()
        .map(|(_, ws, _)| ws.iter().map(LookupWitness::len).collect())
        .collect();
    let insts: Vec<(&LookupTable, &[usize])> = instances
        .iter()
        .zip(&lens)
        .map(|((t, _, _), l)| (t, &l[..]))
        .collect();
    verify_many(&insts, proof, &mut Transcript::new(b"logup-test"))
}

fn many_rejected(
    instances: &[(LookupTable, Vec<LookupWitness>, Vec<F>)],
    proof: &LookupProof,
) -> bool {
    match verify_many_of(instances, proof) {
        Err(_) => true,
        Ok(claims) => !instances
            .iter()
            .zip(&claims)
            .all(|((_, ws, m), c)| caller_accepts(ws, m, c)),
    }
}

fn three_instances(rng: &mut StdRng) -> Vec<(LookupTable, Vec<LookupWitness>, Vec<F>)> {
    [
        (LookupTable::range(4), vec![3, 16]),
        (sigmoid_table(), vec![100]),
        (
            LookupTable::function(col(&[1, 2, 3]), col(&[4, 5, 6])),
            vec![1, 7, 2],
        ),
    ]
    .into_iter()
    .map(|(table, lens)| {
        let ws: Vec<LookupWitness> = lens
            .iter()
            .map(|&l| sample_witness(&table, l, rng))
            .collect();
        let m = multiplicities(&table, &ws).unwrap();
        (table, ws, m)
    })
    .collect()
}

#[test]
fn several_tables_in_one_proof_complete() {
    let mut rng = StdRng::seed_from_u64(21);
    let instances = three_instances(&mut rng);
    let (proof, claims) = run_many(&instances);
    assert_eq!(verify_many_of(&instances, &proof).as_ref(), Ok(&claims));
    for ((_, ws, m), c) in instances.iter().zip(&claims) {
        assert!(caller_accepts(ws, m, c), "claims must be true evaluations");
    }
    // One GKR for all: as many layers as the deepest tree needs.
    let deepest = instances
        .iter()
        .flat_map(|(t, ws, _)| ws.iter().map(LookupWitness::len).chain([t.len()]))
        .map(num_vars_for)
        .max()
        .unwrap();
    assert_eq!(proof.layers.len(), deepest - 1);
}

#[test]
fn one_instance_of_many_is_the_single_table_proof() {
    let mut rng = StdRng::seed_from_u64(22);
    let table = sigmoid_table();
    let ws = vec![sample_witness(&table, 33, &mut rng)];
    let m = multiplicities(&table, &ws).unwrap();
    let (single, _, verdict) = run(&table, &ws, &m);
    assert!(verdict.is_ok());
    let (many, _) = run_many(&[(table, ws, m)]);
    assert_eq!(single, many);
}

#[test]
fn a_row_of_another_table_is_rejected() {
    // A witness of table 1 holds a row only table 2 has. A cheating prover
    // balances the *union*: table 2 counts the foreign row, table 1 no
    // longer counts the row it replaced. The per-table root equations reject.
    let mut rng = StdRng::seed_from_u64(23);
    let mut instances = three_instances(&mut rng);
    let foreign = [instances[2].0.columns[0][1], instances[2].0.columns[1][1]];
    let replaced = instances[1].1[0].columns[0][5];
    let j = instances[1].0.columns[0]
        .iter()
        .position(|&x| x == replaced)
        .unwrap();
    instances[1].2[j] -= F::ONE;
    instances[2].2[1] += F::ONE;
    let ws = &mut instances[1].1;
    ws[0].columns[0][5] = foreign[0];
    ws[0].columns[1][5] = foreign[1];
    assert!(multiplicities(&instances[1].0, &instances[1].1).is_err());
    let (proof, _) = run_many(&instances);
    assert!(many_rejected(&instances, &proof));
}

#[test]
fn every_perturbed_element_of_a_joint_proof_is_rejected() {
    let mut rng = StdRng::seed_from_u64(24);
    let instances = three_instances(&mut rng);
    let (proof, _) = run_many(&instances);
    let mut seen = std::collections::BTreeMap::new();
    for_each_element(&proof, |part, p| {
        assert!(many_rejected(&instances, &p), "perturbed {part} accepted");
        *seen.entry(part).or_insert(0) += 1;
    });
    assert_eq!(seen.len(), 4, "every part perturbed: {seen:?}");
    // Tables in another order, a table dropped, a witness moved between tables.
    let mut reordered = instances.clone();
    reordered.swap(0, 2);
    assert!(many_rejected(&reordered, &proof));
    assert!(verify_many_of(&instances[..2], &proof).is_err());
    let mut moved = instances.clone();
    let w = moved[0].1.pop().unwrap();
    moved[2].1.push(w);
    assert!(many_rejected(&moved, &proof));
}

//! Multiplicities: how many times each table row is used (the honest
//! prover's multiplicity column).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::field::{PrimeCharacteristicRing, PrimeField64, F};

use super::{LookupError, LookupTable, LookupWitness};

/// Multiply-rotate hasher for canonical field elements (SipHash is ~3× slower).
#[derive(Default)]
pub(super) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        // Final avalanche so hashbrown's top-7-bit tags are well distributed.
        let x = self.0 ^ (self.0 >> 29);
        x.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (x >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

pub(super) type FastBuild = BuildHasherDefault<FastHasher>;

fn row_key(columns: &[Vec<F>], row: usize) -> (u64, u64) {
    let c1 = columns.get(1).map_or(0, |c| c[row].as_canonical_u64());
    (columns[0][row].as_canonical_u64(), c1)
}

/// How many times each table row is used (length = table length), or which row is missing.
///
/// Only real witness rows are counted (padding rows have numerator 0, see the
/// module doc). A table row that occurs twice receives all counts at its
/// first occurrence.
pub fn multiplicities(
    table: &LookupTable,
    witnesses: &[LookupWitness],
) -> Result<Vec<F>, LookupError> {
    let width = table.width();
    for (i, w) in witnesses.iter().enumerate() {
        if w.columns.len() != width {
            return Err(LookupError::Width(i));
        }
        if w.columns.iter().any(|c| c.len() != w.columns[0].len()) {
            return Err(LookupError::ColumnLengths(i));
        }
    }
    let mut counts = vec![0u64; table.len()];
    if let Some(bits) = table.range_bits() {
        for (wi, w) in witnesses.iter().enumerate() {
            for (row, x) in w.columns[0].iter().enumerate() {
                let v = x.as_canonical_u64();
                if v >> bits != 0 {
                    return Err(LookupError::NotInTable { witness: wi, row });
                }
                counts[v as usize] += 1;
            }
        }
    } else {
        let mut index: HashMap<(u64, u64), usize, FastBuild> =
            HashMap::with_capacity_and_hasher(table.len(), FastBuild::default());
        for j in (0..table.len()).rev() {
            // Reverse order: a repeated row ends up mapped to its first occurrence.
            index.insert(row_key(&table.columns, j), j);
        }
        for (wi, w) in witnesses.iter().enumerate() {
            for row in 0..w.len() {
                match index.get(&row_key(&w.columns, row)) {
                    Some(&j) => counts[j] += 1,
                    None => return Err(LookupError::NotInTable { witness: wi, row }),
                }
            }
        }
    }
    Ok(counts.into_iter().map(F::from_u64).collect())
}

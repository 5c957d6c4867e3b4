//! A `Select`'s index map as row bands ([`QOp::SelectBands`]), for the maps
//! an [`AxisMap`] cannot state: attention masks. In every row of a grid's
//! last two axes a run of columns reads itself, and every other column reads
//! 0 or one fixed column of its own row, the same for every leading
//! coordinate (head, image). A causal mask keeps columns `0..=i` of row `i`
//! and fills the rest; the masked softmax's "kept" scores read their row's
//! first kept column instead (`onnx_reduce.rs`).
//!
//! The form states the map's semantics on its own: [`BandMap::source`] is
//! the explicit list it denotes. It takes three numbers per row where the
//! list takes one per element (GPT-2: 24 maps of `12 × 32 × 32`), and its
//! table is a sum over rows of prefix sums over columns, which a verifier
//! evaluates in `O(Σ dims)` (the prover's `ops/select`).
//!
//! [`QOp::SelectBands`]: crate::ir::QOp::SelectBands
//! [`AxisMap`]: crate::ir::AxisMap

use serde::{Deserialize, Serialize};

/// See the module documentation. Input and output share the grid.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct BandMap {
    /// One sample as a row-major grid (the product is its length): leading
    /// axes, then rows, then columns.
    pub dims: Vec<usize>,
    /// Per row: the columns `lo..hi` that read themselves.
    pub bands: Vec<(usize, usize)>,
    /// Per row: what its other columns read, nothing (0) or this column of
    /// the row.
    pub outside: Vec<Option<usize>>,
}

impl BandMap {
    /// Rows (the grid's second-to-last axis) and columns (its last).
    pub fn rows_cols(&self) -> (usize, usize) {
        match self.dims[..] {
            [.., rows, cols] => (rows, cols),
            _ => (0, 0),
        }
    }

    /// Checks the form describes a map between tensors of `in_len` and
    /// `out_len` elements (a form may come from a key file).
    pub fn check(&self, in_len: usize, out_len: usize) -> Result<(), String> {
        let len = self.dims.iter().try_fold(1usize, |a, &n| a.checked_mul(n));
        if self.dims.len() < 2 || len != Some(in_len) || len != Some(out_len) {
            return Err(format!(
                "band map grid {:?} does not match lengths {in_len} -> {out_len}",
                self.dims
            ));
        }
        let (rows, cols) = self.rows_cols();
        if self.bands.len() != rows || self.outside.len() != rows {
            return Err("band map: one band and one outside read per row".into());
        }
        let bad_band = self.bands.iter().any(|&(lo, hi)| lo > hi || hi > cols);
        if bad_band || self.outside.iter().flatten().any(|&c| c >= cols) {
            return Err("band map: a band or a read outside its row".into());
        }
        Ok(())
    }

    /// The explicit map: per element (row-major), the element it reads, or
    /// −1 for a fill. Assumes [`BandMap::check`] passed.
    pub fn source(&self) -> Vec<i64> {
        let (rows, cols) = self.rows_cols();
        let len: usize = self.dims.iter().product();
        let mut out = Vec::with_capacity(len);
        for lead in 0..len / (rows * cols).max(1) {
            for (i, (&(lo, hi), &outside)) in self.bands.iter().zip(&self.outside).enumerate() {
                let row = (lead * rows + i) * cols;
                let other = outside.map_or(-1, |c| (row + c) as i64);
                out.extend((0..cols).map(|j| {
                    if (lo..hi).contains(&j) {
                        (row + j) as i64
                    } else {
                        other
                    }
                }));
            }
        }
        out
    }

    /// The form of `source` on the grid `dims` (rank ≥ 2), if it has one.
    /// Per row of the first leading coordinate: the columns that do not
    /// read themselves must all read one thing (nothing, or a column `c` of
    /// the row); the band is the columns that read themselves, or those but
    /// `c` (which reads itself too), whichever is one run. The whole list is
    /// then compared with the form's.
    pub fn of_source(source: &[i64], dims: &[usize]) -> Option<Self> {
        let [.., rows, cols] = *dims else {
            return None;
        };
        let len = dims.iter().try_fold(1usize, |a, &n| a.checked_mul(n))?;
        if len == 0 || source.len() != len {
            return None;
        }
        let mut bands = Vec::with_capacity(rows);
        let mut outside = Vec::with_capacity(rows);
        for (i, row) in source[..rows * cols].chunks(cols).enumerate() {
            let start = (i * cols) as i64;
            let own: Vec<usize> = (0..cols).filter(|&j| row[j] == start + j as i64).collect();
            let mut others = (0..cols).filter(|&j| row[j] != start + j as i64);
            let read = others.next().map(|j| row[j]);
            if others.any(|j| Some(row[j]) != read) {
                return None;
            }
            let column = read
                .filter(|k| (start..start + cols as i64).contains(k))
                .map(|k| (k - start) as usize);
            let run = |cols: &[usize]| match cols {
                [] => Some((0, 0)),
                [first, .., last] if last - first + 1 == cols.len() => Some((*first, last + 1)),
                [only] => Some((*only, only + 1)),
                _ => None,
            };
            let without_c: Vec<usize> =
                own.iter().copied().filter(|&j| Some(j) != column).collect();
            bands.push(run(&own).or_else(|| run(&without_c))?);
            outside.push(column);
        }
        let map = Self {
            dims: dims.to_vec(),
            bands,
            outside,
        };
        (map.check(len, len).is_ok() && map.source() == source).then_some(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two attention maps on `[heads, t, t]`, by their definitions.
    fn causal(heads: usize, t: usize, kept_reads_first: bool) -> Vec<i64> {
        let mut s = Vec::new();
        for h in 0..heads {
            for i in 0..t {
                for j in 0..t {
                    let row = ((h * t + i) * t) as i64;
                    s.push(if j <= i {
                        row + j as i64
                    } else if kept_reads_first {
                        row
                    } else {
                        -1
                    });
                }
            }
        }
        s
    }

    #[test]
    fn attention_masks_have_band_forms_that_denote_them() {
        for (heads, t) in [(1, 1), (2, 5), (12, 32)] {
            for first in [false, true] {
                let source = causal(heads, t, first);
                let dims = vec![heads, t, t];
                let map = BandMap::of_source(&source, &dims).expect("a band form");
                assert_eq!(map.source(), source);
                assert_eq!(map.bands[t - 1], (0, t));
                if t > 1 {
                    assert_eq!(map.outside[0], first.then_some(0));
                }
            }
        }
    }

    #[test]
    fn other_maps_have_none() {
        let dims = [2, 3, 4];
        // Columns kept in two runs; a read across rows; a different band per head.
        let mut two_runs = causal(2, 4, false)[..24].to_vec();
        two_runs[2] = 2;
        assert!(BandMap::of_source(&two_runs, &dims).is_none());
        let mut across = causal(2, 4, true)[..24].to_vec();
        across[5] = 0;
        assert!(BandMap::of_source(&across, &dims).is_none());
        let mut per_head = causal(2, 4, false)[..24].to_vec();
        per_head[13] = -1;
        assert!(BandMap::of_source(&per_head, &dims).is_none());
        assert!(BandMap::of_source(&[0, 1], &[2]).is_none());
    }

    #[test]
    fn check_refuses_malformed_forms() {
        let ok = BandMap {
            dims: vec![2, 3],
            bands: vec![(0, 1), (1, 3)],
            outside: vec![Some(2), None],
        };
        ok.check(6, 6).unwrap();
        assert_eq!(ok.source(), [0, 2, 2, -1, 4, 5]);
        assert!(ok.check(6, 5).is_err());
        for bad in [
            BandMap {
                bands: vec![(0, 1)],
                ..ok.clone()
            },
            BandMap {
                bands: vec![(2, 1), (0, 3)],
                ..ok.clone()
            },
            BandMap {
                bands: vec![(0, 4), (0, 3)],
                ..ok.clone()
            },
            BandMap {
                outside: vec![Some(3), None],
                ..ok.clone()
            },
            BandMap {
                dims: vec![6],
                ..ok.clone()
            },
        ] {
            assert!(bad.check(6, 6).is_err(), "{bad:?}");
        }
    }
}

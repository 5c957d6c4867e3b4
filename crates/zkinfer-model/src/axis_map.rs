//! A `Select`'s index map in closed form ([`QOp::SelectAxes`]), for the maps
//! that move whole axes: slices and splits (with steps and reversals), pads,
//! broadcasts, axis permutations, and Tile or reshapes where the pieces meet
//! at a power of two.
//!
//! Both tensors are viewed as row-major grids (`out_dims`, `in_dims`, each a
//! factorization of one sample's length), and each input coordinate is either
//! a constant or `start + step · o[axis]` of one output coordinate `o[axis]`.
//! An output element whose input coordinates all fall inside the input grid
//! reads that element; any other reads the fill value 0. The map is then a
//! product over output axes, which is what lets a verifier evaluate its table
//! in `O(Σ dims)` instead of `O(elements)` (the prover's `ops/select`).
//!
//! The form states the map's semantics on its own (no padding, no layout):
//! [`AxisMap::source`] is the explicit list it denotes, and two different
//! lists never share a form.
//!
//! [`QOp::SelectAxes`]: crate::ir::QOp::SelectAxes

use serde::{Deserialize, Serialize};

/// Where one input coordinate comes from.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum AxisRead {
    /// Always this coordinate (outside `[0, dim)`: every element is a fill).
    Const(i64),
    /// `start + step · o[axis]` (a negative step reverses; 0 never occurs, it
    /// is a `Const`).
    Affine { axis: usize, start: i64, step: i64 },
}

/// See the module documentation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct AxisMap {
    /// One output sample as a row-major grid (the product is its length).
    pub out_dims: Vec<usize>,
    /// One input sample as a row-major grid (the product is its length).
    pub in_dims: Vec<usize>,
    /// What each input axis reads, one per `in_dims` entry.
    pub reads: Vec<AxisRead>,
}

/// Starts and steps stay below this in magnitude, so `start + step · o`
/// cannot overflow in `i128` and a form from an untrusted key stays small.
const COEFF_BOUND: i64 = 1 << 40;

impl AxisMap {
    /// The identity between two row-major grids of the same data.
    pub fn identity(dims: Vec<usize>) -> Self {
        let reads = (0..dims.len())
            .map(|axis| AxisRead::Affine {
                axis,
                start: 0,
                step: 1,
            })
            .collect();
        Self {
            out_dims: dims.clone(),
            in_dims: dims,
            reads,
        }
    }

    /// Checks the form describes a map from an input of `in_len` elements to
    /// an output of `out_len` elements (a form may come from a key file).
    pub fn check(&self, in_len: usize, out_len: usize) -> Result<(), String> {
        let product = |d: &[usize]| d.iter().try_fold(1usize, |a, &n| a.checked_mul(n));
        if product(&self.out_dims) != Some(out_len) || product(&self.in_dims) != Some(in_len) {
            return Err(format!(
                "axis map grids {:?} -> {:?} do not match lengths {in_len} -> {out_len}",
                self.in_dims, self.out_dims
            ));
        }
        if self.reads.len() != self.in_dims.len() {
            return Err("axis map: one read per input axis".into());
        }
        for r in &self.reads {
            let ok = match *r {
                AxisRead::Const(c) => c.abs() < COEFF_BOUND,
                AxisRead::Affine { axis, start, step } => {
                    axis < self.out_dims.len()
                        && step != 0
                        && start.abs() < COEFF_BOUND
                        && step.abs() < COEFF_BOUND
                }
            };
            if !ok {
                return Err(format!("axis map: invalid read {r:?}"));
            }
        }
        Ok(())
    }

    /// Input coordinate `a` at output coordinate `v` of the axis it reads
    /// (any `v` for a constant); `None` outside the input grid.
    pub fn coordinate(&self, a: usize, v: usize) -> Option<usize> {
        let c = match self.reads[a] {
            AxisRead::Const(c) => c as i128,
            AxisRead::Affine { start, step, .. } => start as i128 + step as i128 * v as i128,
        };
        (0..self.in_dims[a] as i128)
            .contains(&c)
            .then_some(c as usize)
    }

    /// The explicit map: per output element (row-major), its input element
    /// (row-major), or −1 for a fill. Assumes [`AxisMap::check`] passed.
    pub fn source(&self) -> Vec<i64> {
        let out_len: usize = self.out_dims.iter().product();
        let rank = self.out_dims.len();
        // in_strides[a]: the row-major stride of input axis `a`.
        let mut in_strides = vec![1usize; self.in_dims.len()];
        for a in (1..self.in_dims.len()).rev() {
            in_strides[a - 1] = in_strides[a] * self.in_dims[a];
        }
        // Per output axis and coordinate: the offset its readers add, `None`
        // if one of them leaves the grid; constants fold into `base`.
        let mut base = Some(0usize);
        let mut terms: Vec<Vec<Option<usize>>> = self
            .out_dims
            .iter()
            .map(|&d| vec![Some(0usize); d])
            .collect();
        for (a, r) in self.reads.iter().enumerate() {
            match *r {
                AxisRead::Const(_) => {
                    base = base
                        .zip(self.coordinate(a, 0))
                        .map(|(b, c)| b + c * in_strides[a]);
                }
                AxisRead::Affine { axis, .. } => {
                    for (v, t) in terms[axis].iter_mut().enumerate() {
                        *t = t
                            .zip(self.coordinate(a, v))
                            .map(|(t, c)| t + c * in_strides[a]);
                    }
                }
            }
        }
        let Some(base) = base else {
            return vec![-1; out_len];
        };
        let mut out = Vec::with_capacity(out_len);
        if out_len == 0 {
            return out;
        }
        // An odometer over the output grid, with the partial sums per axis.
        let mut pos = vec![0usize; rank];
        let mut partial = vec![Some(base); rank + 1];
        for a in 0..rank {
            partial[a + 1] = partial[a].zip(terms[a][0]).map(|(p, t)| p + t);
        }
        loop {
            out.push(partial[rank].map_or(-1, |k| k as i64));
            let mut a = rank;
            loop {
                if a == 0 {
                    return out;
                }
                a -= 1;
                pos[a] += 1;
                if pos[a] < self.out_dims[a] {
                    break;
                }
                pos[a] = 0;
            }
            for b in a..rank {
                partial[b + 1] = partial[b].zip(terms[b][pos[b]]).map(|(p, t)| p + t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index_map;

    fn as_list(m: &index_map::IndexMap) -> Vec<i64> {
        m.source
            .iter()
            .map(|s| s.map_or(-1, |k| k as i64))
            .collect()
    }

    #[test]
    fn source_is_the_elementwise_definition() {
        // in [3, 4] → out [2, 5, 3]: in0 = 2 − o2 (reversed), in1 = −1 + o1
        // (a pad of one on each side of a length-4 axis, then one more).
        let m = AxisMap {
            out_dims: vec![2, 5, 3],
            in_dims: vec![3, 4],
            reads: vec![
                AxisRead::Affine {
                    axis: 2,
                    start: 2,
                    step: -1,
                },
                AxisRead::Affine {
                    axis: 1,
                    start: -1,
                    step: 1,
                },
            ],
        };
        m.check(12, 30).unwrap();
        let mut expected = Vec::new();
        for _o0 in 0..2 {
            for o1 in 0..5i64 {
                for o2 in 0..3i64 {
                    let (i0, i1) = (2 - o2, o1 - 1);
                    expected.push(if (0..4).contains(&i1) {
                        i0 * 4 + i1
                    } else {
                        -1
                    });
                }
            }
        }
        assert_eq!(m.source(), expected);
    }

    #[test]
    fn the_forms_of_slice_and_transpose_denote_their_maps() {
        // Slice [6, 8] → rows 1..6 step 2, columns 7 down to 1 step −3.
        let slice =
            index_map::slice(&[6, 8], &[1, 7], &[6, 0], Some(&[0, 1]), Some(&[2, -3])).unwrap();
        let form = AxisMap {
            out_dims: slice.out_shape.clone(),
            in_dims: vec![6, 8],
            reads: vec![
                AxisRead::Affine {
                    axis: 0,
                    start: 1,
                    step: 2,
                },
                AxisRead::Affine {
                    axis: 1,
                    start: 7,
                    step: -3,
                },
            ],
        };
        assert_eq!(form.source(), as_list(&slice));
        let t = index_map::transpose(&[2, 3, 4], Some(&[2, 0, 1])).unwrap();
        let form = AxisMap {
            out_dims: vec![4, 2, 3],
            in_dims: vec![2, 3, 4],
            reads: [1, 2, 0]
                .map(|axis| AxisRead::Affine {
                    axis,
                    start: 0,
                    step: 1,
                })
                .to_vec(),
        };
        assert_eq!(form.source(), as_list(&t));
    }

    #[test]
    fn an_out_of_grid_constant_fills_everything() {
        let m = AxisMap {
            out_dims: vec![3],
            in_dims: vec![2],
            reads: vec![AxisRead::Const(2)],
        };
        assert_eq!(m.source(), vec![-1, -1, -1]);
        let m = AxisMap {
            reads: vec![AxisRead::Const(1)],
            ..m
        };
        assert_eq!(m.source(), vec![1, 1, 1]);
    }

    #[test]
    fn check_refuses_forms_that_do_not_fit() {
        let ok = AxisMap::identity(vec![2, 3]);
        assert!(ok.check(6, 6).is_ok());
        assert!(ok.check(6, 5).is_err());
        let mut bad = ok.clone();
        bad.reads[0] = AxisRead::Affine {
            axis: 2,
            start: 0,
            step: 1,
        };
        assert!(bad.check(6, 6).is_err());
        let mut bad = ok.clone();
        bad.reads[1] = AxisRead::Affine {
            axis: 1,
            start: 0,
            step: 0,
        };
        assert!(bad.check(6, 6).is_err());
        let mut bad = ok.clone();
        bad.reads.pop();
        assert!(bad.check(6, 6).is_err());
        let mut bad = ok;
        bad.out_dims = vec![usize::MAX, 3];
        assert!(bad.check(6, 6).is_err());
    }
}

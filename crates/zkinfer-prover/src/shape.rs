//! How a tensor's values sit in its multilinear polynomial.
//!
//! Images (`[C, H, W]`) pad every axis to a power of two on its own, so the
//! polynomial's variables split into channel, row and column variables. That
//! split is what lets convolutions and pools be proven axis by axis (see
//! `spatial.rs`) instead of through a patch matrix. Every other tensor is one
//! flat axis padded at the end.

use rayon::prelude::*;
use zkinfer_protocol::field::{f_from_i64, F};
use zkinfer_protocol::mle::{dot_base, eq_at, eq_table, num_vars_for, PAR_THRESHOLD};
use zkinfer_protocol::EF;

/// Logical axis lengths of one sample; each axis is padded to a power of two
/// independently (row-major, the first axis gives the first — most
/// significant — variables). A statement of several samples stacks them in
/// front: the batch axis gives the first variables, and its padding rows
/// repeat the last sample, so every op's relation holds on them too (they are
/// a genuine run of the model) without any masking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaddedShape {
    pub dims: Vec<usize>,
    /// Samples stacked in front (1: no batch axis, no batch variables).
    pub batch: usize,
}

impl PaddedShape {
    pub fn flat(len: usize) -> Self {
        Self {
            dims: vec![len],
            batch: 1,
        }
    }

    /// One sample laid out by `dims`.
    pub fn of(dims: Vec<usize>) -> Self {
        Self { dims, batch: 1 }
    }

    /// Tensors of rank ≥ 2 (images, sequences of rows) keep their axes, so
    /// window ops, transposes and row-wise Dense see them; vectors are flat.
    pub fn for_logical(shape: &[usize]) -> Self {
        if shape.len() >= 2 {
            Self::of(shape.to_vec())
        } else {
            Self::flat(shape.iter().product())
        }
    }

    /// The same per-sample layout for `batch` stacked samples.
    pub fn batched(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// One sample's layout (no batch axis).
    pub fn sample(&self) -> Self {
        Self::of(self.dims.clone())
    }

    /// Elements of the statement (all samples, no padding).
    pub fn len(&self) -> usize {
        self.batch * self.sample_len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements of one sample.
    pub fn sample_len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn padded_dims(&self) -> Vec<usize> {
        self.dims
            .iter()
            .map(|d| d.next_power_of_two().max(1))
            .collect()
    }

    /// One sample's padded length.
    pub fn sample_padded_len(&self) -> usize {
        self.padded_dims().iter().product()
    }

    pub fn padded_len(&self) -> usize {
        self.padded_batch() * self.sample_padded_len()
    }

    /// The batch axis padded to a power of two.
    pub fn padded_batch(&self) -> usize {
        self.batch.next_power_of_two()
    }

    /// Variables of the batch axis (the point's first coordinates).
    pub fn batch_vars(&self) -> usize {
        num_vars_for(self.batch)
    }

    pub fn num_vars(&self) -> usize {
        self.batch_vars() + self.sample_vars()
    }

    /// Variables of one sample.
    pub fn sample_vars(&self) -> usize {
        self.dims.iter().map(|&d| num_vars_for(d)).sum()
    }

    /// Number of variables of each per-sample axis (after the batch variables).
    pub fn axis_vars(&self) -> Vec<usize> {
        self.dims.iter().map(|&d| num_vars_for(d)).collect()
    }

    /// Position of logical (row-major) element `i` in the padded arrangement.
    /// Whether `other` places every element where this shape does: the same
    /// samples and the same axes but for axes of length 1 (a unit axis pads
    /// to 1 and scales no stride in [`PaddedShape::padded_index`]).
    pub fn same_arrangement(&self, other: &PaddedShape) -> bool {
        let real = |d: &[usize]| d.iter().copied().filter(|&n| n != 1).collect::<Vec<_>>();
        self.batch == other.batch && real(&self.dims) == real(&other.dims)
    }

    /// [`Self::padded_index`] of every element, in order, by an odometer:
    /// no division per element (index maps of transformer-sized models
    /// are laid out at every key load and verification).
    pub fn padded_indices(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.len());
        if self.dims.contains(&0) {
            return out;
        }
        let padded = self.padded_dims();
        let sample_stride: usize = padded.iter().product();
        let rank = self.dims.len();
        // strides[a]: the padded stride of axis `a`.
        let mut strides = vec![1usize; rank];
        for a in (0..rank.saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * padded[a + 1];
        }
        let last = self.dims.last().copied().unwrap_or(1);
        let rows = self.sample_len() / last.max(1);
        for sample in 0..self.batch {
            let base = sample * sample_stride;
            // The odometer over every axis but the last, and its row's start.
            let mut pos = vec![0usize; rank];
            let mut row = base;
            for _ in 0..rows {
                out.extend(row..row + last);
                let mut a = rank - 1;
                while a > 0 {
                    a -= 1;
                    pos[a] += 1;
                    row += strides[a];
                    if pos[a] < self.dims[a] {
                        break;
                    }
                    row -= self.dims[a] * strides[a];
                    pos[a] = 0;
                }
            }
        }
        out
    }

    /// Whether every element of a sample sits at the same padded position in
    /// both shapes, in `O(rank)`: unit axes place nothing, and an axis
    /// without padding merges into the axis outside it, which leaves one
    /// canonical list of `(length, padded length)` per placement (the
    /// outermost axis's padding is invisible within a sample).
    pub fn same_sample_placement(&self, other: &Self) -> bool {
        fn canonical(dims: &[usize]) -> Vec<(usize, usize)> {
            let mut inner_first: Vec<(usize, usize)> = Vec::new();
            for &d in dims.iter().rev().filter(|&&d| d != 1) {
                let p = d.next_power_of_two();
                match inner_first.last_mut() {
                    Some(axis) if axis.0 == axis.1 => *axis = (axis.0 * d, axis.1 * p),
                    _ => inner_first.push((d, p)),
                }
            }
            if let Some(outer) = inner_first.last_mut() {
                outer.1 = 0;
            }
            inner_first
        }
        if self.sample_len() == 0 || other.sample_len() == 0 {
            return self.sample_len() == other.sample_len();
        }
        canonical(&self.dims) == canonical(&other.dims)
    }

    pub fn padded_index(&self, i: usize) -> usize {
        // Hot in layouts of index maps: no allocation.
        let per = self.sample_len().max(1);
        let (sample, mut i) = (i / per, i % per);
        let mut out = 0;
        let mut stride = 1;
        for &d in self.dims.iter().rev() {
            out += (i % d.max(1)) * stride;
            i /= d.max(1);
            stride *= d.next_power_of_two().max(1);
        }
        sample * stride + out
    }

    /// The values in the padded arrangement, `pad` everywhere else within a
    /// sample; batch padding rows repeat the last sample.
    pub fn arrange<T: Copy + Send + Sync>(&self, values: &[T], pad: T) -> Vec<T> {
        debug_assert_eq!(values.len(), self.len());
        let mut out = vec![pad; self.padded_len()];
        let last = *self.dims.last().unwrap_or(&1);
        if last == 0 {
            return out;
        }
        for (row, chunk) in values.chunks(last).enumerate() {
            let at = self.padded_index(row * last);
            out[at..at + chunk.len()].copy_from_slice(chunk);
        }
        let per = self.sample_padded_len();
        if self.batch > 1 {
            let (filled, rest) = out.split_at_mut(self.batch * per);
            let last_sample = &filled[(self.batch - 1) * per..];
            for row in rest.chunks_mut(per) {
                row.copy_from_slice(last_sample);
            }
        }
        out
    }

    /// The MLE of [`Self::arrange`]`(values, pad)` (as field elements) at
    /// `point`, exactly, without building the arrangement: `pad` plus
    /// `Σ_i (x_i − pad)·eq(point, position of i)` per sample (`eq` sums to
    /// one over the hypercube), the last sample weighted by the batch padding
    /// rows' `eq` too (they repeat it). The verifier evaluates its public
    /// input and output so: GPT-2's are 1.6 M values each, and its input is
    /// one-hot rows of token ids — mostly `pad` — read entry by entry in
    /// `O(nonzeros · variables)` after one scan.
    pub fn evaluate(&self, values: &[i64], pad: i64, point: &[EF]) -> EF {
        assert_eq!(values.len(), self.len(), "values of another shape");
        assert_eq!(point.len(), self.num_vars(), "a point of another shape");
        let (r_b, r_s) = point.split_at(self.batch_vars());
        let pad_f = f_from_i64(pad);
        let per = self.sample_len();
        if per == 0 {
            return EF::from(pad_f);
        }
        let eq_b = eq_table(r_b);
        let sample = self.sample();
        (0..self.batch)
            .map(|s| {
                let weight = if s + 1 < self.batch {
                    eq_b[s]
                } else {
                    eq_b[s..].iter().copied().sum()
                };
                let x = &values[s * per..(s + 1) * per];
                weight * (EF::from(pad_f) + sample.sample_sum(x, pad, r_s))
            })
            .sum()
    }

    /// `Σ_i (x_i − pad)·eq(r, padded position of i)` over one sample: entry
    /// by entry where few differ from `pad` (a one-hot input), else row by
    /// row against two half-size `eq` tables (every row starts at a multiple
    /// of its padded length, so it spans whole aligned chunks of the low
    /// table and the high table weighs each chunk).
    fn sample_sum(&self, x: &[i64], pad: i64, r: &[EF]) -> EF {
        let diff = |v: i64| f_from_i64(v) - f_from_i64(pad);
        // Sparse while an entry's `eq` (one product over the variables)
        // costs less in all than a dense pass.
        let limit = x.len() / (4 * r.len().max(1));
        let mut sparse = Vec::new();
        for (i, &v) in x.iter().enumerate() {
            if v != pad {
                if sparse.len() == limit {
                    return self.dense_sample_sum(x, pad, r);
                }
                sparse.push(i);
            }
        }
        sparse
            .iter()
            .map(|&i| eq_at(r, self.padded_index(i)) * diff(x[i]))
            .sum()
    }

    /// [`Self::sample_sum`] by rows: `Σ_chunks eq_hi(chunk)·Σ_j eq_lo(j)·(x − pad)`.
    fn dense_sample_sum(&self, x: &[i64], pad: i64, r: &[EF]) -> EF {
        let last = *self.dims.last().expect("a non-empty sample has an axis");
        let last_vars = num_vars_for(last);
        // Low variables: within a row, and about half of all.
        let lo_vars = last_vars.min(r.len().div_ceil(2));
        let (eq_hi, eq_lo) = (
            eq_table(&r[..r.len() - lo_vars]),
            eq_table(&r[r.len() - lo_vars..]),
        );
        let chunk = 1usize << lo_vars;
        let per_row = last.div_ceil(chunk);
        let pad_f = f_from_i64(pad);
        let piece = |k: usize| -> EF {
            let (row, c) = (k / per_row, k % per_row);
            let start = row * last + c * chunk;
            let end = ((row + 1) * last).min(start + chunk);
            let diffs: Vec<F> = x[start..end]
                .iter()
                .map(|&v| f_from_i64(v) - pad_f)
                .collect();
            let at = self.padded_index(start);
            eq_hi[at >> lo_vars] * dot_base(&eq_lo[..diffs.len()], &diffs)
        };
        let pieces = (x.len() / last) * per_row;
        if x.len() >= PAR_THRESHOLD {
            (0..pieces).into_par_iter().map(piece).sum()
        } else {
            (0..pieces).map(piece).sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkinfer_protocol::field::PrimeCharacteristicRing;

    #[test]
    fn same_sample_placement_is_the_elementwise_comparison() {
        let dims_of = |mut x: u64| {
            let rank = 1 + (x % 4) as usize;
            x /= 4;
            (0..rank)
                .map(|_| {
                    let d = [1, 2, 3, 4, 5, 8, 6][(x % 7) as usize];
                    x /= 7;
                    d
                })
                .collect::<Vec<usize>>()
        };
        let mut checked = 0;
        for a in 0..3000u64 {
            let da = dims_of(a.wrapping_mul(2654435761));
            for b in 0..40u64 {
                let db = dims_of(b.wrapping_mul(40503).wrapping_add(a));
                let (sa, sb) = (PaddedShape::of(da.clone()), PaddedShape::of(db.clone()));
                if sa.sample_len() != sb.sample_len() {
                    continue;
                }
                let elementwise =
                    (0..sa.sample_len()).all(|k| sa.padded_index(k) == sb.padded_index(k));
                assert_eq!(
                    sa.same_sample_placement(&sb),
                    elementwise,
                    "{da:?} vs {db:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn padded_indices_are_padded_index_of_every_element() {
        for (dims, batch) in [
            (vec![5], 1),
            (vec![8], 3),
            (vec![3, 5, 6], 1),
            (vec![2, 3], 3),
            (vec![1, 7, 1, 2], 2),
            (vec![4, 4], 1),
            (vec![0, 3], 2),
        ] {
            let s = PaddedShape::of(dims.clone()).batched(batch);
            let expected: Vec<usize> = (0..s.len()).map(|i| s.padded_index(i)).collect();
            assert_eq!(s.padded_indices(), expected, "{dims:?} × {batch}");
        }
    }

    #[test]
    fn image_axes_pad_independently() {
        let s = PaddedShape::for_logical(&[3, 5, 6]);
        assert_eq!(s.padded_dims(), vec![4, 8, 8]);
        assert_eq!(s.num_vars(), 2 + 3 + 3);
        // element (c=1, y=2, x=3) = 1*30 + 2*6 + 3
        assert_eq!(s.padded_index(30 + 12 + 3), 64 + 2 * 8 + 3);
        let v: Vec<i64> = (0..90).collect();
        let a = s.arrange(&v, -1);
        assert_eq!(a.len(), 256);
        assert_eq!(a[64 + 16 + 3], 45);
        assert_eq!(a[7], -1);
        assert_eq!(a.iter().filter(|&&x| x >= 0).count(), 90);
    }

    #[test]
    fn batch_padding_repeats_the_last_sample() {
        let s = PaddedShape::for_logical(&[3]).batched(3);
        assert_eq!((s.padded_len(), s.num_vars(), s.batch_vars()), (16, 4, 2));
        let a = s.arrange(&[1i64, 2, 3, 4, 5, 6, 7, 8, 9], 0);
        assert_eq!(a, [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 7, 8, 9, 0]);
        assert_eq!(s.padded_index(4), 5);
    }

    #[test]
    fn unit_axes_do_not_change_the_arrangement() {
        let a = PaddedShape::of(vec![5, 16]);
        let b = PaddedShape::of(vec![5, 1, 16]);
        assert!(a.same_arrangement(&b));
        assert!((0..80).all(|i| a.padded_index(i) == b.padded_index(i)));
        assert!(!a.same_arrangement(&PaddedShape::of(vec![16, 5])));
        assert!(!a.same_arrangement(&PaddedShape::of(vec![80])));
        assert!(!a.same_arrangement(&a.clone().batched(2)));
    }

    #[test]
    fn flat_pads_at_the_end() {
        let s = PaddedShape::for_logical(&[10]);
        assert_eq!(s.dims, vec![10]);
        assert_eq!(s.arrange(&[1i64; 10], 0)[9..], [1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(s.num_vars(), 4);
    }

    /// `evaluate` equals the dense evaluation of the arrangement, on the
    /// sparse path (one-hot rows against the pad), the dense one (rows and
    /// a flat tensor split into chunks) and with batch padding rows.
    #[test]
    fn evaluate_is_the_mle_of_the_arrangement() {
        use zkinfer_protocol::mle::evaluate_base;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let shapes: [(&[usize], usize); 9] = [
            (&[5], 1),
            (&[1, 1], 1),
            (&[3, 5], 1),
            (&[2, 3, 5], 1),
            (&[4, 40], 1),
            (&[6, 300], 1),
            (&[3000], 1),
            (&[3, 7], 3),
            (&[5, 1, 33], 4),
        ];
        let mut paths = [0usize; 2];
        for (dims, batch) in shapes {
            let shape = PaddedShape::for_logical(dims).batched(batch);
            for pad in [0i64, -3, 7] {
                for density in [0u64, 1, 50, 100] {
                    // `density` % of the entries differ from the pad.
                    let values: Vec<i64> = (0..shape.len())
                        .map(|_| {
                            if next() % 100 < density {
                                (next() % 2001) as i64 - 1000
                            } else {
                                pad
                            }
                        })
                        .collect();
                    let field: Vec<F> = values.iter().map(|&v| f_from_i64(v)).collect();
                    let dense = shape.arrange(&field, f_from_i64(pad));
                    let point: Vec<EF> = (0..shape.num_vars())
                        .map(|_| EF::new([F::from_u64(next()), F::from_u64(next())]))
                        .collect();
                    assert_eq!(
                        shape.evaluate(&values, pad, &point),
                        evaluate_base(&dense, &point),
                        "{dims:?} × {batch}, pad {pad}, {density}%"
                    );
                    let nonzero = values.iter().filter(|&&v| v != pad).count();
                    let per = shape.sample_len();
                    let limit = per / (4 * shape.sample_vars().max(1));
                    paths[usize::from(nonzero > limit)] += 1;
                }
            }
        }
        assert!(paths.iter().all(|&n| n > 0), "both paths: {paths:?}");
    }

    /// A one-hot input (GPT-2's shape, a few rows): sparse evaluation,
    /// against the dense one.
    #[test]
    fn evaluate_one_hot_rows_sparsely() {
        use zkinfer_protocol::mle::evaluate_base;
        let shape = PaddedShape::for_logical(&[4, 50257]);
        let mut values = vec![0i64; shape.len()];
        for (row, id) in [17usize, 50256, 0, 31337].into_iter().enumerate() {
            values[row * 50257 + id] = 127;
        }
        let point: Vec<EF> = (0..shape.num_vars() as u64)
            .map(|k| EF::new([F::from_u64(3 + 7 * k), F::from_u64(11 * k + 1)]))
            .collect();
        let field: Vec<F> = values.iter().map(|&v| f_from_i64(v)).collect();
        assert_eq!(
            shape.evaluate(&values, 0, &point),
            evaluate_base(&shape.arrange(&field, F::ZERO), &point)
        );
    }
}

//! A vector of integers stored at the narrowest width that holds all of them.
//!
//! Dense and Conv2d weights are quantized to at most 16 bits
//! ([`crate::QuantConfig::weight_bits`]), and a proving key holds its model
//! in memory through every proof: GPT-2's 124M weights took 1.44 GB as `i64`
//! where `i16` takes 0.36 GB — about what kept its prover above an 8 GB peak.
//! [`IntVec`] stores `i16` when every value fits, else `i32`, else `i64`
//! (weights made by lowering, not quantization, can be wider): exact for
//! every `i64`.
//!
//! Its serde form is a `Vec<i64>`'s, so model files, keys and model ids are
//! byte for byte those of the `Vec<i64>` it replaced; it deserializes into
//! exactly its length's capacity, as [`crate::exact_vec`] does.

use std::fmt;
use std::ops::Range;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

/// Integers stored as `i16`, `i32` or `i64`, whichever is the narrowest that
/// holds every value (see the module documentation).
#[derive(Clone)]
pub struct IntVec(Storage);

#[derive(Clone)]
enum Storage {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

/// An [`IntVec`]'s storage, borrowed as a typed slice, for kernels generic
/// over the element type ([`with_int_slice!`](crate::with_int_slice)).
#[derive(Clone, Copy, Debug)]
pub enum IntSlice<'a> {
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

/// Evaluates `$body` with `$w` bound to an [`IntVec`]'s values as a typed
/// slice (`&[i16]`, `&[i32]` or `&[i64]`; the body is compiled for each):
/// a tight loop then reads the narrow integers directly, with no `i64` copy
/// of a weight matrix and no per-element dispatch.
///
/// ```
/// use zkinfer_model::{with_int_slice, IntVec};
/// let v = IntVec::from(vec![1, -2, 3]);
/// let sum: i64 = with_int_slice!(v, w => w.iter().map(|&x| i64::from(x)).sum());
/// assert_eq!(sum, 2);
/// ```
#[macro_export]
macro_rules! with_int_slice {
    ($v:expr, $w:ident => $body:expr) => {
        match $v.as_slice() {
            $crate::int_vec::IntSlice::I16($w) => $body,
            $crate::int_vec::IntSlice::I32($w) => $body,
            // The body's `.into()` to i64 is the identity here.
            #[allow(clippy::useless_conversion)]
            $crate::int_vec::IntSlice::I64($w) => $body,
        }
    };
}

/// Applies `$body` to the vector inside a [`Storage`].
macro_rules! each {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            Storage::I16($v) => $body,
            Storage::I32($v) => $body,
            #[allow(clippy::useless_conversion)]
            Storage::I64($v) => $body,
        }
    };
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Width {
    W16,
    W32,
    W64,
}

impl Width {
    fn of(v: i64) -> Width {
        if i16::try_from(v).is_ok() {
            Width::W16
        } else if i32::try_from(v).is_ok() {
            Width::W32
        } else {
            Width::W64
        }
    }
}

impl Storage {
    fn width(&self) -> Width {
        match self {
            Storage::I16(_) => Width::W16,
            Storage::I32(_) => Width::W32,
            Storage::I64(_) => Width::W64,
        }
    }

    /// `values` (each fitting `width`) in a vector of capacity `capacity`.
    fn build(width: Width, capacity: usize, values: impl Iterator<Item = i64>) -> Storage {
        match width {
            Width::W16 => {
                let mut v = Vec::with_capacity(capacity);
                v.extend(values.map(|x| x as i16));
                Storage::I16(v)
            }
            Width::W32 => {
                let mut v = Vec::with_capacity(capacity);
                v.extend(values.map(|x| x as i32));
                Storage::I32(v)
            }
            Width::W64 => {
                let mut v = Vec::with_capacity(capacity);
                v.extend(values);
                Storage::I64(v)
            }
        }
    }

    /// Re-stores the values at `width` if it is wider, keeping the capacity.
    fn widen_to(&mut self, width: Width) {
        if width > self.width() {
            let wider = Storage::build(width, self.capacity(), IntVec::iter_of(self));
            *self = wider;
        }
    }

    fn capacity(&self) -> usize {
        each!(self, v => v.capacity())
    }

    fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    fn push(&mut self, x: i64) {
        self.widen_to(Width::of(x));
        match self {
            Storage::I16(v) => v.push(x as i16),
            Storage::I32(v) => v.push(x as i32),
            Storage::I64(v) => v.push(x),
        }
    }
}

impl IntVec {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i`; panics when `i >= len()`, as indexing does.
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        each!(&self.0, v => v[i].into())
    }

    /// Sets element `i` to `value`, re-storing every element at a wider
    /// width if `value` needs it; panics when `i >= len()`.
    pub fn set(&mut self, i: usize, value: i64) {
        let len = self.len();
        assert!(
            i < len,
            "IntVec::set: index {i} out of range for length {len}"
        );
        self.0.widen_to(Width::of(value));
        match &mut self.0 {
            Storage::I16(v) => v[i] = value as i16,
            Storage::I32(v) => v[i] = value as i32,
            Storage::I64(v) => v[i] = value,
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        Self::iter_of(&self.0)
    }

    fn iter_of(s: &Storage) -> Iter<'_> {
        Iter(match s {
            Storage::I16(v) => IterInner::I16(v.iter()),
            Storage::I32(v) => IterInner::I32(v.iter()),
            Storage::I64(v) => IterInner::I64(v.iter()),
        })
    }

    /// The elements in `range`; panics when it is out of bounds, as slicing does.
    pub fn range(&self, range: Range<usize>) -> Iter<'_> {
        Iter(match &self.0 {
            Storage::I16(v) => IterInner::I16(v[range].iter()),
            Storage::I32(v) => IterInner::I32(v[range].iter()),
            Storage::I64(v) => IterInner::I64(v[range].iter()),
        })
    }

    pub fn to_vec(&self) -> Vec<i64> {
        self.iter().collect()
    }

    /// The storage as a typed slice; see [`with_int_slice!`](crate::with_int_slice).
    pub fn as_slice(&self) -> IntSlice<'_> {
        match &self.0 {
            Storage::I16(v) => IntSlice::I16(v),
            Storage::I32(v) => IntSlice::I32(v),
            Storage::I64(v) => IntSlice::I64(v),
        }
    }
}

impl Default for IntVec {
    fn default() -> Self {
        IntVec(Storage::I16(Vec::new()))
    }
}

impl From<Vec<i64>> for IntVec {
    fn from(v: Vec<i64>) -> Self {
        let width = v.iter().map(|&x| Width::of(x)).max().unwrap_or(Width::W16);
        if width == Width::W64 {
            return IntVec(Storage::I64(v));
        }
        IntVec(Storage::build(width, v.len(), v.into_iter()))
    }
}

impl FromIterator<i64> for IntVec {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut s = Storage::I16(Vec::with_capacity(iter.size_hint().0));
        for x in iter {
            s.push(x);
        }
        IntVec(s)
    }
}

/// Equal values, whatever their storage widths (`set` widens and never
/// narrows, so equal vectors may be stored differently).
impl PartialEq for IntVec {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Storage::I16(a), Storage::I16(b)) => a == b,
            (Storage::I32(a), Storage::I32(b)) => a == b,
            (Storage::I64(a), Storage::I64(b)) => a == b,
            _ => self.len() == other.len() && self.iter().eq(other.iter()),
        }
    }
}

impl Eq for IntVec {}

/// As a `Vec<i64>` prints.
impl fmt::Debug for IntVec {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An [`IntVec`]'s elements as `i64`.
#[derive(Clone, Debug)]
pub struct Iter<'a>(IterInner<'a>);

#[derive(Clone, Debug)]
enum IterInner<'a> {
    I16(std::slice::Iter<'a, i16>),
    I32(std::slice::Iter<'a, i32>),
    I64(std::slice::Iter<'a, i64>),
}

macro_rules! each_iter {
    ($s:expr, $it:ident => $body:expr) => {
        match $s {
            IterInner::I16($it) => $body,
            IterInner::I32($it) => $body,
            #[allow(clippy::useless_conversion)]
            IterInner::I64($it) => $body,
        }
    };
}

impl Iterator for Iter<'_> {
    type Item = i64;

    #[inline]
    fn next(&mut self) -> Option<i64> {
        each_iter!(&mut self.0, it => it.next().map(|&x| x.into()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        each_iter!(&self.0, it => it.size_hint())
    }

    fn nth(&mut self, n: usize) -> Option<i64> {
        each_iter!(&mut self.0, it => it.nth(n).map(|&x| x.into()))
    }

    fn fold<B, G: FnMut(B, i64) -> B>(self, init: B, mut g: G) -> B {
        each_iter!(self.0, it => it.fold(init, |acc, &x| g(acc, x.into())))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<i64> {
        each_iter!(&mut self.0, it => it.next_back().map(|&x| x.into()))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

/// A sequence of `i64`, exactly as `Vec<i64>` serializes.
impl Serialize for IntVec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// From a sequence of `i64` (a `Vec<i64>`'s form), at the narrowest width.
impl<'de> Deserialize<'de> for IntVec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(IntVecVisitor)
    }
}

struct IntVecVisitor;

/// The first reservation, before any element was read (elements).
const FIRST: usize = 1 << 16;

impl<'de> Visitor<'de> for IntVecVisitor {
    type Value = IntVec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence of integers")
    }

    /// Grows towards the announced length, never by more than what was
    /// already read, as [`crate::exact_vec`] does: an honest length gives an
    /// exact fit, a lying one costs at most twice the data present. Without
    /// an announced length (JSON) it grows by doubling and then shrinks to fit.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IntVec, A::Error> {
        let announced = seq.size_hint();
        let mut s = Storage::I16(Vec::with_capacity(announced.unwrap_or(0).min(FIRST)));
        while let Some(x) = seq.next_element::<i64>()? {
            let len = s.len();
            if len == s.capacity() {
                match announced {
                    Some(n) => {
                        let rest = n.saturating_sub(len).clamp(1, len.max(FIRST));
                        each!(&mut s, v => v.reserve_exact(rest))
                    }
                    None => each!(&mut s, v => v.reserve(1)),
                }
            }
            s.push(x);
        }
        if announced.is_none() {
            each!(&mut s, v => v.shrink_to_fit());
        }
        Ok(IntVec(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes per stored element.
    fn element_bytes(v: &IntVec) -> usize {
        match v.0.width() {
            Width::W16 => 2,
            Width::W32 => 4,
            Width::W64 => 8,
        }
    }

    /// Values at and across every width boundary.
    fn boundaries() -> Vec<i64> {
        let (a, b, c) = (i16::MAX as i64, i32::MAX as i64, i64::MAX);
        let (d, e, f) = (i16::MIN as i64, i32::MIN as i64, i64::MIN);
        vec![
            0,
            1,
            -1,
            a,
            a + 1,
            d,
            d - 1,
            b,
            b + 1,
            e,
            e - 1,
            c,
            c - 1,
            f,
            f + 1,
        ]
    }

    #[test]
    fn storage_is_the_narrowest_width_that_holds_every_value() {
        let cases: [(&[i64], usize); 10] = [
            (&[], 2),
            (&[0, 5, -7], 2),
            (&[i16::MAX as i64, i16::MIN as i64], 2),
            (&[i16::MAX as i64 + 1], 4),
            (&[i16::MIN as i64 - 1], 4),
            (&[1, i32::MAX as i64, i32::MIN as i64], 4),
            (&[i32::MAX as i64 + 1], 8),
            (&[i32::MIN as i64 - 1], 8),
            (&[i64::MAX, 0], 8),
            (&[3, i64::MIN], 8),
        ];
        for (values, bytes) in cases {
            for v in [
                IntVec::from(values.to_vec()),
                values.iter().copied().collect(),
            ] {
                assert_eq!(element_bytes(&v), bytes, "{values:?}");
                assert_eq!(v.to_vec(), values, "{values:?}");
                assert_eq!(v.len(), values.len());
                assert_eq!(v.is_empty(), values.is_empty());
                for (i, &x) in values.iter().enumerate() {
                    assert_eq!(v.get(i), x);
                }
            }
        }
    }

    #[test]
    fn every_boundary_value_round_trips() {
        for x in boundaries() {
            for pad in [0i64, 1, -300] {
                let values = vec![pad, x, pad];
                let v = IntVec::from(values.clone());
                assert_eq!(v.to_vec(), values);
                assert_eq!(v.iter().rev().collect::<Vec<_>>(), [pad, x, pad]);
                let bytes = postcard::to_allocvec(&v).unwrap();
                let back: IntVec = postcard::from_bytes(&bytes).unwrap();
                assert_eq!(back.to_vec(), values);
                assert_eq!(element_bytes(&back), element_bytes(&v));
                let json = serde_json::to_string(&v).unwrap();
                assert_eq!(serde_json::from_str::<IntVec>(&json).unwrap(), v);
            }
        }
    }

    #[test]
    fn set_widens_when_a_value_needs_it() {
        let mut v = IntVec::from(vec![1, -2, 3]);
        assert_eq!(element_bytes(&v), 2);
        v.set(0, i16::MIN as i64);
        assert_eq!(element_bytes(&v), 2);
        v.set(1, i16::MAX as i64 + 1);
        assert_eq!(element_bytes(&v), 4);
        assert_eq!(v.to_vec(), [i16::MIN as i64, i16::MAX as i64 + 1, 3]);
        v.set(2, i64::MIN);
        assert_eq!(element_bytes(&v), 8);
        assert_eq!(v.to_vec(), [i16::MIN as i64, i16::MAX as i64 + 1, i64::MIN]);
        // Never narrows, yet equals a narrow vector of the same values.
        v.set(1, 0);
        v.set(2, 0);
        assert_eq!(element_bytes(&v), 8);
        assert_eq!(v, IntVec::from(vec![i16::MIN as i64, 0, 0]));
        assert_ne!(v, IntVec::from(vec![i16::MIN as i64, 0]));
        assert_ne!(v, IntVec::from(vec![i16::MIN as i64, 0, 1]));
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn set_past_the_end_panics() {
        IntVec::from(vec![1]).set(1, 2);
    }

    #[test]
    fn serializes_exactly_as_a_vec_of_i64() {
        let mut values = boundaries();
        values.extend((0..1000).map(|i| i * 37 - 9000));
        for values in [vec![], vec![7, -7], values.clone(), values[..4].to_vec()] {
            let v = IntVec::from(values.clone());
            assert_eq!(
                postcard::to_allocvec(&v).unwrap(),
                postcard::to_allocvec(&values).unwrap()
            );
            assert_eq!(
                serde_json::to_string(&v).unwrap(),
                serde_json::to_string(&values).unwrap()
            );
            assert_eq!(format!("{v:?}"), format!("{values:?}"));
        }
    }

    #[test]
    fn a_dense_op_encodes_as_with_a_vec_of_i64() {
        use crate::ir::QOp;
        // QOp::Dense as it was declared before its weight became an IntVec.
        #[derive(serde::Serialize)]
        enum OldQOp {
            Dense {
                input: usize,
                output: usize,
                in_dim: usize,
                out_dim: usize,
                weight: Vec<i64>,
                bias: Vec<i64>,
            },
        }
        let weight = vec![3, -4, 40_000, 7, i16::MIN as i64, 0];
        let bias = vec![1 << 40, -2];
        let old = OldQOp::Dense {
            input: 0,
            output: 1,
            in_dim: 3,
            out_dim: 2,
            weight: weight.clone(),
            bias: bias.clone(),
        };
        let new = QOp::Dense {
            input: 0,
            output: 1,
            in_dim: 3,
            out_dim: 2,
            weight: weight.into(),
            bias,
        };
        let bytes = postcard::to_allocvec(&new).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&old).unwrap());
        assert_eq!(postcard::from_bytes::<QOp>(&bytes).unwrap(), new);
        let json = serde_json::to_string(&new).unwrap();
        assert_eq!(json, serde_json::to_string(&old).unwrap());
        assert_eq!(serde_json::from_str::<QOp>(&json).unwrap(), new);
    }

    /// Deserializes `values`' postcard form; the storage's capacity.
    fn capacity_after_reading(values: &[i64]) -> (IntVec, usize) {
        let bytes = postcard::to_allocvec(values).unwrap();
        let v: IntVec = postcard::from_bytes(&bytes).unwrap();
        let capacity = v.0.capacity();
        (v, capacity)
    }

    #[test]
    fn an_announced_length_gives_an_exact_fit() {
        for n in [0usize, 1, 1000, (1 << 16) + 1, 300_001] {
            // Narrow, then widened late (past the first reservation), then wide.
            for wide_at in [usize::MAX, n / 2, 0] {
                let values: Vec<i64> = (0..n as i64)
                    .map(|i| {
                        if i as usize >= wide_at {
                            i * (1 << 20)
                        } else {
                            i % 1000 - 500
                        }
                    })
                    .collect();
                let (v, capacity) = capacity_after_reading(&values);
                assert_eq!(v.to_vec(), values);
                assert_eq!(capacity, n, "length {n}, wide from {wide_at}");
            }
        }
    }

    #[test]
    fn json_without_a_length_fits_exactly_too() {
        let values: Vec<i64> = (0..100_003).map(|i| i - 50_000).collect();
        let v: IntVec = serde_json::from_str(&serde_json::to_string(&values).unwrap()).unwrap();
        assert_eq!(v.to_vec(), values);
        assert_eq!(element_bytes(&v), 4);
        assert_eq!(v.0.capacity(), values.len());
    }

    #[test]
    fn a_lying_length_fails_without_a_huge_reservation() {
        let bytes = crate::exact_vec::lying_length();
        assert!(postcard::from_bytes::<IntVec>(&bytes).is_err());
    }

    #[test]
    fn typed_slices_and_ranges_read_the_same_values() {
        for values in [
            vec![1i64, -2, 3, 4],
            vec![1, 1 << 20, 3, 4],
            vec![1, 1 << 40, 3, 4],
        ] {
            let v = IntVec::from(values.clone());
            let typed: Vec<i64> = with_int_slice!(v, w => w.iter().map(|&x| x.into()).collect());
            assert_eq!(typed, values);
            assert_eq!(v.range(1..3).collect::<Vec<_>>(), values[1..3]);
            assert_eq!(v.range(1..4).nth(1), Some(values[2]));
            assert_eq!(v.range(1..4).len(), 3);
            assert_eq!(v.iter().sum::<i64>(), values.iter().sum::<i64>());
        }
    }
}

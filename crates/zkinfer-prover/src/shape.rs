//! How a tensor's values sit in its multilinear polynomial.
//!
//! Images (`[C, H, W]`) pad every axis to a power of two on its own, so the
//! polynomial's variables split into channel, row and column variables. That
//! split is what lets convolutions and pools be proven axis by axis (see
//! `spatial.rs`) instead of through a patch matrix. Every other tensor is one
//! flat axis padded at the end.

use zkinfer_protocol::mle::num_vars_for;

/// Logical axis lengths; each axis is padded to a power of two independently
/// (row-major, the first axis gives the first — most significant — variables).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaddedShape {
    pub dims: Vec<usize>,
}

impl PaddedShape {
    pub fn flat(len: usize) -> Self {
        Self { dims: vec![len] }
    }

    /// Images keep their three axes; everything else is flat.
    pub fn for_logical(shape: &[usize]) -> Self {
        if shape.len() == 3 {
            Self {
                dims: shape.to_vec(),
            }
        } else {
            Self::flat(shape.iter().product())
        }
    }

    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn padded_dims(&self) -> Vec<usize> {
        self.dims
            .iter()
            .map(|d| d.next_power_of_two().max(1))
            .collect()
    }

    pub fn padded_len(&self) -> usize {
        self.padded_dims().iter().product()
    }

    pub fn num_vars(&self) -> usize {
        self.dims.iter().map(|&d| num_vars_for(d)).sum()
    }

    /// Number of variables of each axis.
    pub fn axis_vars(&self) -> Vec<usize> {
        self.dims.iter().map(|&d| num_vars_for(d)).collect()
    }

    /// Position of logical (row-major) element `i` in the padded arrangement.
    pub fn padded_index(&self, mut i: usize) -> usize {
        let pd = self.padded_dims();
        let mut out = 0;
        let mut stride = 1;
        for (d, p) in self.dims.iter().zip(&pd).rev() {
            out += (i % d) * stride;
            i /= d;
            stride *= p;
        }
        out
    }

    /// The values in the padded arrangement, `pad` everywhere else.
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
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn flat_pads_at_the_end() {
        let s = PaddedShape::for_logical(&[2, 5]);
        assert_eq!(s.dims, vec![10]);
        assert_eq!(s.arrange(&[1i64; 10], 0)[9..], [1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(s.num_vars(), 4);
    }
}

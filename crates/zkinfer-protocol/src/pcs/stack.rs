//! The stacked table behind a commitment: every committed polynomial in one
//! power-of-two table, largest first, each at an offset aligned to its size,
//! so a polynomial's slot is a fixed prefix of the stacked variables and a
//! claim `p(z) = v` is the single point `T(slot bits, z) = v`. Both schemes
//! commit one such table per WHIR instance: p3 then sees one table, and many
//! claims reduce to one (`reduce.rs`).

use p3_multilinear_util::point::Point;

use crate::field::{PrimeCharacteristicRing, EF, F};

use super::Claim;

/// Where each polynomial sits in the stacked table.
#[derive(Clone, Debug)]
pub(super) struct Stack {
    pub num_vars: usize,
    /// Per polynomial: its slot's first index in the stacked table.
    pub offsets: Vec<usize>,
}

impl Stack {
    /// Largest first, each slot aligned to its size, in a table of at least
    /// `2^min_vars`; `None` on overflow.
    pub fn new(poly_num_vars: &[usize], min_vars: usize) -> Option<Self> {
        let mut order: Vec<usize> = (0..poly_num_vars.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(poly_num_vars[i]));
        let mut offsets = vec![0; poly_num_vars.len()];
        let mut next: usize = 0;
        for i in order {
            if poly_num_vars[i] >= 48 {
                return None;
            }
            offsets[i] = next;
            next = next.checked_add(1 << poly_num_vars[i])?;
        }
        let total = next.checked_next_power_of_two()?;
        let num_vars = (total.trailing_zeros() as usize).max(min_vars);
        Some(Self { num_vars, offsets })
    }

    /// A claim's point in the stack's frame: the slot's index bits, then the
    /// claim's point.
    pub fn point(&self, claim: &Claim) -> Point<EF> {
        let prefix = self.num_vars - claim.point.len();
        let slot = self.offsets[claim.poly] >> claim.point.len();
        let mut coords = index_bits(slot, prefix);
        coords.extend_from_slice(&claim.point);
        Point::new(coords)
    }
}

impl Stack {
    /// The stacked table of `polys` (each at its offset, zeros elsewhere).
    pub fn fill(&self, polys: &[&[F]]) -> Vec<F> {
        let mut table = vec![F::ZERO; 1 << self.num_vars];
        for (p, &offset) in polys.iter().zip(&self.offsets) {
            table[offset..offset + p.len()].copy_from_slice(p);
        }
        table
    }
}

pub use crate::mle::index_bits;

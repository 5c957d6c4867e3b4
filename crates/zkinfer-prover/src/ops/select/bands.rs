//! The table of a `Select` stated as row bands ([`BandMap`]: attention
//! masks), evaluated per axis.
//!
//! When the band grid places every element where both tensors' padded
//! arrangements do, each grid axis owns a block of consecutive variables.
//! With `z` a claim's output point and `r` the sumcheck's input point, split
//! into leading axes `a`, rows `i` and columns `j`, and `ζ(v) = eq(z, v)`,
//! `ρ(v) = eq(r, v)` per block:
//!
//! `Σ_o eq(z, o)·eq(r, src(o))`
//! `= Π_a Σ_{v < dim_a} ζ_a(v)·ρ_a(v) · Σ_{i < rows} ζ_i(i)·ρ_i(i)·[Σ_{lo_i ≤ j < hi_i} ζ_j(j)·ρ_j(j) + ρ_j(c_i)·Σ_{j ∉ [lo_i, hi_i)} ζ_j(j)]`,
//!
//! the last term only for a row whose other columns read column `c_i` (a
//! fill reads nothing). With prefix sums over the columns that is
//! `O(Σ padded dims)` per claim instead of a walk over every element.

use zkinfer_model::ir::BandMap;
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::mle::eq_table;
use zkinfer_protocol::EF;

use crate::shape::PaddedShape;

#[derive(Debug)]
pub(crate) struct BandForm {
    map: BandMap,
    /// Variables of each grid axis, outermost first.
    vars: Vec<usize>,
}

impl BandForm {
    /// The form of `map` between tensors arranged as `ins` and `outs`, if
    /// its grid fits both arrangements (`map` passed [`BandMap::check`]).
    pub fn new(map: &BandMap, ins: &PaddedShape, outs: &PaddedShape) -> Option<Self> {
        let grid = PaddedShape::of(map.dims.clone());
        let fits = |shape: &PaddedShape| {
            grid.sample_vars() == shape.sample_vars() && grid.same_sample_placement(&shape.sample())
        };
        (fits(ins) && fits(outs)).then(|| Self {
            vars: grid.axis_vars(),
            map: map.clone(),
        })
    }

    pub fn map(&self) -> &BandMap {
        &self.map
    }

    /// `Σ_k w_k Σ_o eq(z_k, o)·eq(r, src(o))` over one sample, for output
    /// sample points `z_k` with weights `w_k` and an input sample point `r`.
    pub fn evaluate(&self, claims: &[(&[EF], EF)], r: &[EF]) -> EF {
        let m = &self.map;
        let rank = m.dims.len();
        let (rows, cols) = m.rows_cols();
        // Each axis's block of a point, and its eq table over the real coordinates.
        let blocks = |p: &[EF]| -> Vec<Vec<EF>> {
            let mut at = 0;
            self.vars
                .iter()
                .zip(&m.dims)
                .map(|(&nv, &d)| {
                    let mut t = eq_table(&p[at..at + nv]);
                    at += nv;
                    t.truncate(d);
                    t
                })
                .collect()
        };
        let rho = blocks(r);
        let (rho_i, rho_j) = (&rho[rank - 2], &rho[rank - 1]);
        let per_claim = |z: &[EF]| -> EF {
            let zeta = blocks(z);
            let lead: EF = zeta[..rank - 2]
                .iter()
                .zip(&rho)
                .map(|(z, r)| z.iter().zip(r).map(|(&a, &b)| a * b).sum::<EF>())
                .product();
            let zeta_j = &zeta[rank - 1];
            // Prefix sums over the columns: of ζ·ρ (kept) and of ζ (read elsewhere).
            let mut kept = vec![EF::ZERO; cols + 1];
            let mut weight = vec![EF::ZERO; cols + 1];
            for j in 0..cols {
                kept[j + 1] = kept[j] + zeta_j[j] * rho_j[j];
                weight[j + 1] = weight[j] + zeta_j[j];
            }
            let rows_sum: EF = (0..rows)
                .map(|i| {
                    let (lo, hi) = m.bands[i];
                    let mut row = kept[hi] - kept[lo];
                    if let Some(c) = m.outside[i] {
                        row += rho_j[c] * (weight[cols] - (weight[hi] - weight[lo]));
                    }
                    zeta[rank - 2][i] * rho_i[i] * row
                })
                .sum();
            lead * rows_sum
        };
        claims.iter().map(|&(z, w)| w * per_claim(z)).sum()
    }
}

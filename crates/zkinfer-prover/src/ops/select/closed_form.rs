//! The table of a `Select` stated as an [`AxisMap`], evaluated per axis.
//!
//! When each grid of the map places every element where its tensor's padded
//! arrangement does (each grid axis padded to a power of two on its own, the
//! same number of variables), grid axis `s` owns a block of consecutive
//! variables, so with `z|s` the claim point's block of output axis `s` and
//! `r|a` the sumcheck point's block of input axis `a`,
//!
//! `Σ_o eq(z, o)·eq(r, src(o))`
//! `= Π_{a const} eq(r|a, c_a) · Π_s Σ_{v < dim_s} eq(z|s, v) · Π_{a reads s} eq(r|a, start_a + step_a·v)`,
//!
//! where a coordinate outside its input axis contributes 0 (a fill reads
//! nothing), and `v` runs over the output axis's real coordinates only (its
//! padding positions carry no weight). That is `O(Σ padded dims)` per claim
//! instead of a walk over every element.

use zkinfer_model::ir::{AxisMap, AxisRead};
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::mle::eq_table;
use zkinfer_protocol::EF;

use crate::shape::PaddedShape;

#[derive(Debug)]
pub(crate) struct ClosedForm {
    map: AxisMap,
    /// Variables of each output grid axis, outermost first.
    out_vars: Vec<usize>,
    /// Variables of each input grid axis, outermost first.
    in_vars: Vec<usize>,
}

impl ClosedForm {
    /// The closed form of `map` between tensors arranged as `ins` and `outs`,
    /// if both grids fit their arrangements (`map` passed
    /// [`AxisMap::check`]). `O(rank)`.
    pub fn new(map: &AxisMap, ins: &PaddedShape, outs: &PaddedShape) -> Option<Self> {
        let fits = |grid: &[usize], shape: &PaddedShape| {
            let grid = PaddedShape::of(grid.to_vec());
            grid.sample_vars() == shape.sample_vars() && grid.same_sample_placement(&shape.sample())
        };
        (fits(&map.in_dims, ins) && fits(&map.out_dims, outs)).then(|| Self {
            out_vars: PaddedShape::of(map.out_dims.clone()).axis_vars(),
            in_vars: PaddedShape::of(map.in_dims.clone()).axis_vars(),
            map: map.clone(),
        })
    }

    pub fn map(&self) -> &AxisMap {
        &self.map
    }

    /// `Σ_k w_k Σ_o eq(z_k, o)·eq(r, src(o))` over one sample, for output
    /// sample points `z_k` with weights `w_k` and an input sample point `r`.
    pub fn evaluate(&self, claims: &[(&[EF], EF)], r: &[EF]) -> EF {
        let m = &self.map;
        // Per output axis and real coordinate: the product of its readers'
        // eq factors; constants fold into one factor.
        let mut readers: Vec<Vec<EF>> = m.out_dims.iter().map(|&d| vec![EF::ONE; d]).collect();
        let mut constant = EF::ONE;
        let mut at = 0;
        for (a, (&read, &nv)) in m.reads.iter().zip(&self.in_vars).enumerate() {
            let eq_a = eq_table(&r[at..at + nv]);
            at += nv;
            let factor = |v: usize| m.coordinate(a, v).map_or(EF::ZERO, |c| eq_a[c]);
            match read {
                AxisRead::Const(_) => constant *= factor(0),
                AxisRead::Affine { axis, .. } => {
                    for (v, x) in readers[axis].iter_mut().enumerate() {
                        *x *= factor(v);
                    }
                }
            }
        }
        if constant == EF::ZERO {
            return EF::ZERO;
        }
        let per_claim = |z: &[EF]| -> EF {
            let mut at = 0;
            let mut product = EF::ONE;
            for (row, &nv) in readers.iter().zip(&self.out_vars) {
                let eq_s = eq_table(&z[at..at + nv]);
                at += nv;
                product *= row.iter().zip(&eq_s).map(|(&x, &e)| x * e).sum::<EF>();
            }
            product
        };
        constant * claims.iter().map(|&(z, w)| w * per_claim(z)).sum::<EF>()
    }
}

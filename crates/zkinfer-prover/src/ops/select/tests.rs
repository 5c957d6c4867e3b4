//! The closed form against the explicit walk, and what detection accepts.

use zkinfer_model::index_map::{self, IndexMap};
use zkinfer_model::ir::{AxisMap, AxisRead, BandMap};
use zkinfer_protocol::field::{BasedVectorSpace, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::eq_table;
use zkinfer_protocol::EF;

use super::bands::BandForm;
use super::closed_form::ClosedForm;
use super::detect::{detect, identity};
use super::{moves_of, Form, Select};
use crate::shape::PaddedShape;
use crate::synthetic::SplitMix;

fn random_ef(rng: &mut SplitMix) -> EF {
    EF::from_basis_coefficients_fn(|_| F::from_u64(rng.next_u64() >> 1))
}

fn point(rng: &mut SplitMix, n: usize) -> Vec<EF> {
    (0..n).map(|_| random_ef(rng)).collect()
}

fn pick<T: Copy>(rng: &mut SplitMix, from: &[T]) -> T {
    from[(rng.next_u64() % from.len() as u64) as usize]
}

/// A Select over batched tensors `ins` → `outs` by `source`, its table per
/// axis when `closed` is given.
fn select(source: &[i64], closed: Option<Form>, ins: &PaddedShape, outs: &PaddedShape) -> Select {
    Select {
        i: 0,
        input: 0,
        output: 1,
        closed,
        moves: moves_of(source, &ins.sample(), &outs.sample()).into(),
        in_shape: ins.sample(),
        out_shape: outs.sample(),
        batch_vars: ins.batch_vars(),
        in_sample_vars: ins.sample_vars(),
    }
}

/// `T(r)` by the definition: over every sample `b` of the padded batch and
/// every element `i` that reads something,
/// `Σ_k ρ_k eq(z_k, (b, i))·eq(r, (b, src(i)))`.
fn by_definition(
    source: &[i64],
    ins: &PaddedShape,
    outs: &PaddedShape,
    claims: &[(Vec<EF>, EF)],
    rho: &[EF],
    r: &[EF],
) -> EF {
    let eq_r = eq_table(r);
    let (per_in, per_out) = (ins.sample_padded_len(), outs.sample_padded_len());
    let mut total = EF::ZERO;
    for ((z, _), &c) in claims.iter().zip(rho) {
        let eq_z = eq_table(z);
        for b in 0..ins.padded_batch() {
            for (i, &k) in source.iter().enumerate() {
                if k >= 0 {
                    let o = b * per_out + outs.sample().padded_index(i);
                    let j = b * per_in + ins.sample().padded_index(k as usize);
                    total += c * eq_z[o] * eq_r[j];
                }
            }
        }
    }
    total
}

/// Checks, at random points for 1 to 3 claims, that the table of `map`
/// per axis, the walk over its moves and the definition agree between
/// tensors arranged by `in_dims` and `out_dims` (stacked `batch` times).
fn assert_closed_form_is_the_walk(
    map: &AxisMap,
    in_dims: &[usize],
    out_dims: &[usize],
    batch: usize,
    rng: &mut SplitMix,
) {
    let ins = PaddedShape::of(in_dims.to_vec()).batched(batch);
    let outs = PaddedShape::of(out_dims.to_vec()).batched(batch);
    let closed = ClosedForm::new(map, &ins, &outs).expect("the grids fit the arrangements");
    let source = map.source();
    let per_axis = select(&source, Some(Form::Axes(closed)), &ins, &outs);
    let walk = select(&source, None, &ins, &outs);
    assert_forms_agree(
        &per_axis,
        &walk,
        &source,
        &ins,
        &outs,
        rng,
        &format!("{map:?}"),
    );
}

/// `T(r)` of `closed` (a Select with a form), of `walk` (the same by its
/// moves) and by the definition agree at random points for 1 to 3 claims.
fn assert_forms_agree(
    closed: &Select,
    walk: &Select,
    source: &[i64],
    ins: &PaddedShape,
    outs: &PaddedShape,
    rng: &mut SplitMix,
    what: &str,
) {
    for claims in 1..=3 {
        let claims: Vec<(Vec<EF>, EF)> = (0..claims)
            .map(|_| (point(rng, outs.num_vars()), EF::ZERO))
            .collect();
        let rho = point(rng, claims.len());
        let r = point(rng, ins.num_vars());
        let expected = by_definition(source, ins, outs, &claims, &rho, &r);
        assert_eq!(
            walk.evaluate_table(&claims, &rho, &r),
            expected,
            "walk {what}"
        );
        assert_eq!(
            closed.evaluate_table(&claims, &rho, &r),
            expected,
            "closed form {what} over {:?} -> {:?} × {}",
            ins.dims,
            outs.dims,
            ins.batch
        );
    }
}

/// Merges grid axes into the axis outside them where the inner one is a
/// power of two (what a split at a power of two undoes): an arrangement
/// the grid fits.
fn coarsen(grid: &[usize], rng: &mut SplitMix) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for &d in grid.iter().rev() {
        match out.last_mut() {
            Some(inner) if inner.is_power_of_two() && rng.next_u64().is_multiple_of(2) => {
                *inner *= d
            }
            _ => out.push(d),
        }
    }
    out.reverse();
    out
}

/// A random separable map; `fills` allows coordinates to leave the input
/// (pads, overhanging slices, out-of-grid constants).
fn random_map(rng: &mut SplitMix, fills: bool) -> AxisMap {
    const LENS: [usize; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 16];
    let out_dims: Vec<usize> = (0..1 + rng.next_u64() % 4)
        .map(|_| pick(rng, &LENS))
        .collect();
    let in_dims: Vec<usize> = (0..1 + rng.next_u64() % 4)
        .map(|_| pick(rng, &LENS))
        .collect();
    let reads = in_dims
        .iter()
        .map(|&d| {
            let d = d as i64;
            if rng.next_u64().is_multiple_of(5) {
                let c = rng.range(0, d - 1);
                return AxisRead::Const(if fills && rng.next_u64().is_multiple_of(8) {
                    d
                } else {
                    c
                });
            }
            let axis = (rng.next_u64() % out_dims.len() as u64) as usize;
            let len = out_dims[axis] as i64;
            let step = pick(rng, &[-2i64, -1, 1, 1, 1, 2, 3]);
            // Starts that keep every coordinate inside when they can.
            let (lo, hi) = if step > 0 {
                (0, d - 1 - step * (len - 1))
            } else {
                (-step * (len - 1), d - 1)
            };
            let start = if fills || lo > hi {
                rng.range(lo.min(hi) - 2, lo.max(hi) + 2)
            } else {
                rng.range(lo, hi)
            };
            AxisRead::Affine { axis, start, step }
        })
        .collect();
    AxisMap {
        out_dims,
        in_dims,
        reads,
    }
}

#[test]
fn the_closed_form_is_the_explicit_walk_on_random_separable_maps() {
    let mut rng = SplitMix(7);
    let mut detected = 0;
    for case in 0..400 {
        let map = random_map(&mut rng, case % 2 == 0);
        let in_len: usize = map.in_dims.iter().product();
        let out_len: usize = map.out_dims.iter().product();
        map.check(in_len, out_len).expect("a valid form");
        // Arrangements the grids fit, with any batch.
        let in_dims = coarsen(&map.in_dims, &mut rng);
        let out_dims = coarsen(&map.out_dims, &mut rng);
        let batch = 1 + (rng.next_u64() % 3) as usize;
        assert_closed_form_is_the_walk(&map, &in_dims, &out_dims, batch, &mut rng);
        // Detection from the explicit list, relative to the arrangements:
        // exact when it answers, and it answers for every map that reads
        // inside the input.
        let source = map.source();
        match detect(&source, &in_dims, &out_dims) {
            Some(found) => {
                assert_eq!(found.source(), source);
                assert_closed_form_is_the_walk(&found, &in_dims, &out_dims, batch, &mut rng);
                detected += 1;
            }
            None => assert!(
                source.contains(&-1),
                "a map without fills is separable: {map:?} over {in_dims:?} -> {out_dims:?}"
            ),
        }
    }
    // Every map without fills (half of them), and half of the others.
    assert!(detected > 290, "{detected}");
}

fn as_list(m: &IndexMap) -> Vec<i64> {
    m.source
        .iter()
        .map(|s| s.map_or(-1, |k| k as i64))
        .collect()
}

/// Detects the map from `in_shape` to its output as a layout arranges both
/// (`PaddedShape::for_logical`); when found, checks the closed form.
fn detected(in_shape: &[usize], m: &IndexMap, rng: &mut SplitMix) -> bool {
    let in_dims = PaddedShape::for_logical(in_shape).dims;
    let out_dims = PaddedShape::for_logical(&m.out_shape).dims;
    let source = as_list(m);
    let Some(found) = detect(&source, &in_dims, &out_dims) else {
        return false;
    };
    assert_eq!(found.source(), source);
    for batch in [1, 2] {
        assert_closed_form_is_the_walk(&found, &in_dims, &out_dims, batch, rng);
    }
    true
}

#[test]
fn every_separable_index_map_kind_is_detected() {
    let mut rng = SplitMix(3);
    let slices = [
        // steps and a reversal crossing the padding of [6, 8] → [3, 3]
        index_map::slice(&[6, 8], &[1, 7], &[6, 0], None, Some(&[2, -3])).unwrap(),
        // a flat window
        index_map::slice(&[10], &[2], &[9], None, None).unwrap(),
        // GPT-2's query/key/value split: columns 768..1536 of [32, 2304]
        index_map::slice(&[4, 2304], &[768], &[1536], Some(&[1]), None).unwrap(),
    ];
    for m in &slices {
        let in_shape = match m.out_shape.len() {
            1 => vec![10],
            _ if m.out_shape[1] == 768 => vec![4, 2304],
            _ => vec![6, 8],
        };
        assert!(detected(&in_shape, m, &mut rng), "{:?}", m.out_shape);
    }
    let cases: Vec<(&str, Vec<usize>, IndexMap)> = vec![
        (
            "gather by a scalar index",
            vec![4, 5],
            index_map::gather(&[4, 5], &[3], &[], 1).unwrap(),
        ),
        (
            "constant pad",
            vec![3, 5],
            index_map::pad(&[3, 5], &[1, 0, 2, 3], None, "constant").unwrap(),
        ),
        (
            "split",
            vec![6, 12],
            index_map::split(&[6, 12], 1, Some(&[5, 7]), None).unwrap()[1].clone(),
        ),
        (
            "concat piece",
            vec![3, 4],
            index_map::concat(&[vec![2, 4], vec![3, 4]], 0).unwrap().1[1].clone(),
        ),
        (
            "tile of a power-of-two axis",
            vec![4, 3],
            index_map::tile(&[4, 3], &[2, 1]).unwrap(),
        ),
        (
            "expand",
            vec![3, 1],
            index_map::expand(&[3, 1], &[3, 5]).unwrap(),
        ),
        (
            "expand with a new axis",
            vec![1, 4],
            index_map::expand(&[1, 4], &[2, 3, 4]).unwrap(),
        ),
        (
            "GPT-2's mean broadcast",
            vec![32, 1],
            index_map::expand(&[32, 1], &[32, 768]).unwrap(),
        ),
        (
            "transpose",
            vec![2, 3, 4],
            index_map::transpose(&[2, 3, 4], Some(&[2, 0, 1])).unwrap(),
        ),
        (
            "depth to space (DCR)",
            vec![1, 8, 2, 3],
            index_map::depth_to_space(&[1, 8, 2, 3], 2, "DCR").unwrap(),
        ),
        (
            "depth to space (CRD)",
            vec![1, 8, 2, 3],
            index_map::depth_to_space(&[1, 8, 2, 3], 2, "CRD").unwrap(),
        ),
        (
            "space to depth",
            vec![1, 2, 4, 6],
            index_map::space_to_depth(&[1, 2, 4, 6], 2).unwrap(),
        ),
        (
            "nearest upsampling by 2",
            vec![1, 2, 3],
            index_map::upsample_nearest(&[1, 2, 3], &[1.0, 2.0, 2.0]).unwrap(),
        ),
    ];
    for (what, in_shape, m) in &cases {
        assert!(detected(in_shape, m, &mut rng), "{what} is separable");
    }
    let refused: Vec<(&str, Vec<usize>, IndexMap)> = vec![
        (
            "gather by arbitrary indices",
            vec![5, 3],
            index_map::gather(&[5, 3], &[2, 0, 4, 1], &[4], 0).unwrap(),
        ),
        (
            "lower triangle",
            vec![4, 4],
            index_map::trilu(&[4, 4], 0, false).unwrap(),
        ),
        (
            "upper triangle",
            vec![2, 5, 5],
            index_map::trilu(&[2, 5, 5], 1, true).unwrap(),
        ),
        (
            "nearest resize by 5/3",
            vec![3, 3],
            index_map::upsample_nearest(&[3, 3], &[1.0, 5.0 / 3.0]).unwrap(),
        ),
        (
            "reflect pad",
            vec![3, 5],
            index_map::pad(&[3, 5], &[0, 2, 0, 2], None, "reflect").unwrap(),
        ),
        (
            "tile of an odd axis",
            vec![3],
            index_map::tile(&[3], &[4]).unwrap(),
        ),
    ];
    for (what, in_shape, m) in &refused {
        assert!(!detected(in_shape, m, &mut rng), "{what} is not separable");
    }
}

#[test]
fn a_map_that_reads_nothing_has_a_form() {
    let source = vec![-1i64; 12];
    let found = detect(&source, &[5], &[3, 4]).expect("a form");
    assert_eq!(found.source(), source);
    assert_closed_form_is_the_walk(&found, &[5], &[3, 4], 2, &mut SplitMix(1));
}

#[test]
fn a_relayout_is_the_identity_on_the_grid_refining_both_arrangements() {
    let mut rng = SplitMix(5);
    // Axes 4 | 6 cross: no grid refines both.
    assert_eq!(identity(&[6, 4], &[4, 6]), None);
    for (a, b, fits) in [
        (vec![32, 768], vec![32, 12, 64], true),
        (vec![12, 64], vec![768], true),
        (vec![3, 8], vec![6, 4], true),
        (vec![4, 6], vec![24], false),
        (vec![5, 3], vec![15], false),
    ] {
        let map = identity(&a, &b).expect("boundaries of one side nest in the other's");
        assert_eq!(
            map.source(),
            (0..a.iter().product::<usize>() as i64).collect::<Vec<_>>()
        );
        let ins = PaddedShape::of(a.clone());
        let outs = PaddedShape::of(b.clone());
        let closed = ClosedForm::new(&map, &ins, &outs);
        assert_eq!(closed.is_some(), fits, "{a:?} -> {b:?}");
        if fits {
            assert_closed_form_is_the_walk(&map, &a, &b, 3, &mut rng);
        }
    }
}

#[test]
fn a_grid_that_does_not_fit_the_arrangement_has_no_closed_form() {
    let fits = |grid: Vec<usize>, arrangement: Vec<usize>| {
        let map = AxisMap::identity(grid.clone());
        let (ins, outs) = (PaddedShape::of(arrangement), PaddedShape::of(grid));
        ClosedForm::new(&map, &ins, &outs).is_some()
    };
    // [4, 6] padded per axis is not [24] padded as one axis.
    assert!(!fits(vec![4, 6], vec![24]));
    assert!(!fits(vec![5, 3], vec![15]));
    // [6, 4] and [3, 8] are: the splits are at powers of two.
    assert!(fits(vec![6, 4], vec![24]));
    assert!(fits(vec![3, 8], vec![24]));
    assert!(fits(vec![3, 2, 4], vec![6, 4]));
    // Another number of variables: [3, 1] is not [3, 2].
    assert!(!fits(vec![3, 1], vec![3, 2]));
}

#[test]
fn the_verifier_evaluates_a_key_s_separable_select_per_axis() {
    let pk = crate::setup(
        crate::synthetic::select_mlp_with(2, vec![-1, 5, 3, 1, -1, -1]),
        None,
    )
    .unwrap();
    let layout = crate::Layout::new(&pk.vk.structure).unwrap();
    let at = pk
        .vk
        .structure
        .ops
        .iter()
        .position(|op| matches!(op, zkinfer_model::ir::QOp::SelectAxes { .. }))
        .expect("stated per axis");
    let op = format!("{:?}", layout.ops[at]);
    assert!(op.contains("closed: Some("), "{op}");
    // No moves laid out: they are made only if a prover asks.
    assert!(op.contains("moves: OnceLock(<uninit>)"), "{op}");
}

/// A random band map: leading axes, rows and columns of any length, per row
/// a run of columns (possibly empty or whole) and a fill or a column.
fn random_bands(rng: &mut SplitMix) -> BandMap {
    const LENS: [usize; 8] = [1, 2, 3, 4, 5, 7, 8, 9];
    let mut dims: Vec<usize> = (0..rng.next_u64() % 3).map(|_| pick(rng, &LENS)).collect();
    let (rows, cols) = (pick(rng, &LENS), pick(rng, &LENS));
    dims.extend([rows, cols]);
    let bands = (0..rows)
        .map(|_| {
            let lo = (rng.next_u64() % (cols as u64 + 1)) as usize;
            let hi = lo + (rng.next_u64() % (cols - lo + 1) as u64) as usize;
            (lo, hi)
        })
        .collect();
    let outside = (0..rows)
        .map(|_| {
            (!rng.next_u64().is_multiple_of(3)).then(|| (rng.next_u64() % cols as u64) as usize)
        })
        .collect();
    BandMap {
        dims,
        bands,
        outside,
    }
}

#[test]
fn the_band_form_is_the_explicit_walk_on_random_band_maps() {
    let mut rng = SplitMix(11);
    for round in 0..300 {
        let map = random_bands(&mut rng);
        let len = map.dims.iter().product();
        map.check(len, len).expect("a valid form");
        let batch = [1, 2, 3][round % 3];
        let shape = PaddedShape::of(map.dims.clone()).batched(batch);
        let form = BandForm::new(&map, &shape, &shape).expect("its own grid fits");
        let source = map.source();
        let closed = select(&source, Some(Form::Bands(form)), &shape, &shape);
        let walk = select(&source, None, &shape, &shape);
        assert_forms_agree(
            &closed,
            &walk,
            &source,
            &shape,
            &shape,
            &mut rng,
            &format!("{map:?}"),
        );
        // Detection finds a form of the same list (not always this one: a
        // column read from outside may extend the band it adjoins).
        let found = BandMap::of_source(&source, &map.dims).expect("detected");
        assert_eq!(found.source(), source);
    }
}

#[test]
fn a_band_grid_must_fit_the_arrangement() {
    let map = BandMap {
        dims: vec![3, 4, 6],
        bands: vec![(0, 1), (0, 2), (0, 3), (0, 4)],
        outside: vec![None; 4],
    };
    let fits = |dims: Vec<usize>| {
        let shape = PaddedShape::of(dims);
        BandForm::new(&map, &shape, &shape).is_some()
    };
    assert!(fits(vec![3, 4, 6]));
    // [12, 6] places rows as [3, 4] does (4 is a power of two); [3, 24] does not.
    assert!(fits(vec![12, 6]));
    assert!(!fits(vec![3, 24]));
    assert!(!fits(vec![72]));
}

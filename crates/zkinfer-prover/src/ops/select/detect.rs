//! Finding the [`AxisMap`] of an explicit `Select` map, relative to the axes
//! its tensors are padded by, so that the form's grids fit the padded
//! arrangements ([`super::closed_form`]).
//!
//! A grid may only split an arrangement's axis of length `d` into
//! `(d / 2^t, 2^t)`: the inner part then owns the axis's `t` lowest
//! variables and the padding stays on the outer part. Splitting every axis
//! at every such point gives the finest grid of the output; a separable map
//! is affine in the finest output coordinates on the elements it reads, so
//! one element that reads something and its neighbour along each fine axis
//! give every input coordinate's steps. Fine axes merge back while the outer
//! one's steps are the inner group's times its length (a slice, a whole
//! reshaped axis); an input axis reading several output groups splits off
//! its low part per group (heads folded into a row). Whatever this guesses,
//! the form is used only if it reproduces the explicit list exactly.

use zkinfer_model::ir::{AxisMap, AxisRead};

/// The form of `source` (per output element, the input element or −1) from
/// an input arranged by axes `in_dims` to an output arranged by `out_dims`,
/// if the map is separable; checked against every element.
pub(crate) fn detect(source: &[i64], in_dims: &[usize], out_dims: &[usize]) -> Option<AxisMap> {
    let in_len = in_dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    let out_len = out_dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    if source.len() != out_len || in_len == 0 || out_len == 0 {
        return None;
    }
    candidates(source, in_dims, out_dims)
        .into_iter()
        .flatten()
        .find(|map| map.check(in_len, out_len).is_ok() && map.source() == source)
}

/// The identity between two arrangements of the same row-major data (a
/// Reshape proven as a relayout) on the grid refining both, if their axis
/// boundaries nest. `O(rank)`; the grid fits both arrangements when every
/// split it makes is at a power of two ([`super::closed_form::ClosedForm`]
/// decides).
pub(crate) fn identity(in_dims: &[usize], out_dims: &[usize]) -> Option<AxisMap> {
    // Row-major boundaries: the products of each list's innermost axes.
    let cuts = |dims: &[usize]| {
        let mut c = vec![1usize];
        for &d in dims.iter().rev() {
            c.push(c.last()?.checked_mul(d)?);
        }
        Some(c)
    };
    let mut all = cuts(in_dims)?;
    all.extend(cuts(out_dims)?);
    all.sort_unstable();
    all.dedup();
    if all.first() != Some(&1) {
        return None;
    }
    let grid: Option<Vec<usize>> = all
        .windows(2)
        .rev()
        .map(|w| w[1].is_multiple_of(w[0]).then(|| w[1] / w[0]))
        .collect();
    let grid = grid?;
    Some(AxisMap::identity(if grid.is_empty() {
        vec![1]
    } else {
        grid
    }))
}

/// Output axes merged from fine ones: the length and the steps (per input
/// axis) of one unit.
struct Group {
    len: usize,
    steps: Vec<i64>,
}

/// Forms to try (at most two): the steps of each fine output axis measured
/// on it, where it has two neighbours that both read something, else its
/// share of its whole axis's step; and the whole axes' steps everywhere they
/// are measured (a pad or slice leaves too few neighbours on the fine axes of
/// a short axis).
fn candidates(source: &[i64], in_dims: &[usize], out_dims: &[usize]) -> Vec<Option<AxisMap>> {
    let Some(base) = source.iter().position(|&k| k >= 0) else {
        // Nothing read: a constant outside the grid.
        let mut reads = vec![AxisRead::Const(0); in_dims.len()];
        reads[0] = AxisRead::Const(-1);
        return vec![Some(AxisMap {
            out_dims: out_dims.to_vec(),
            in_dims: in_dims.to_vec(),
            reads,
        })];
    };
    let coords = |k: i64| -> Vec<i64> {
        let mut k = k as usize;
        let mut c = vec![0i64; in_dims.len()];
        for (x, &d) in c.iter_mut().zip(in_dims).rev() {
            *x = (k % d) as i64;
            k /= d;
        }
        c
    };
    // The input step between two elements `stride` apart on an axis of
    // length `len`, both reading something: at the base element or the one
    // before it if they do, else the first such pair.
    let step_along = |stride: usize, len: usize| -> Option<Vec<i64>> {
        let reads_next =
            |i: usize| i / stride % len + 1 < len && source[i] >= 0 && source[i + stride] >= 0;
        let i = [Some(base), base.checked_sub(stride)]
            .into_iter()
            .flatten()
            .find(|&i| reads_next(i))
            .or_else(|| (0..source.len()).find(|&i| reads_next(i)))?;
        let (from, to) = (coords(source[i]), coords(source[i + stride]));
        Some(to.iter().zip(&from).map(|(t, f)| t - f).collect())
    };
    // The finest output grid: per axis, its odd part, then its factors 2;
    // with each fine axis's stride and the whole axis it belongs to.
    let mut fine: Vec<(usize, usize, usize)> = Vec::new();
    let mut whole: Vec<Option<Vec<i64>>> = vec![None; out_dims.len()];
    let mut stride = 1usize;
    for (b, &d) in out_dims.iter().enumerate().rev() {
        whole[b] = step_along(stride, d);
        let t = d.trailing_zeros() as usize;
        let parts = std::iter::repeat_n(2, t).chain(Some(d >> t).filter(|&odd| odd > 1));
        for len in parts {
            fine.push((len, stride, b));
            stride *= len;
        }
    }
    fine.reverse();
    // Per fine axis: its steps as measured (else its share of its whole
    // axis's), and its share of its whole axis's (else as measured).
    let zero = vec![0i64; in_dims.len()];
    let (mut measured, mut shared) = (Vec::new(), Vec::new());
    for &(len, stride, b) in &fine {
        let unit = (stride / out_stride(out_dims, b)) as i64;
        let share = whole[b]
            .as_ref()
            .map(|w| w.iter().map(|&x| x * unit).collect::<Vec<_>>());
        let own = step_along(stride, len);
        let first = |x: &Option<Vec<i64>>, y: &Option<Vec<i64>>| {
            x.clone()
                .or_else(|| y.clone())
                .unwrap_or_else(|| zero.clone())
        };
        measured.push((len, first(&own, &share)));
        shared.push((len, first(&share, &own)));
    }
    let at_base = coords(source[base]);
    let mut out = vec![form(&measured, base, &at_base, in_dims)];
    if shared != measured {
        out.push(form(&shared, base, &at_base, in_dims));
    }
    out
}

/// Row-major stride of output axis `b`.
fn out_stride(out_dims: &[usize], b: usize) -> usize {
    out_dims[b + 1..].iter().product()
}

/// The form whose fine output axes (outermost first) have these lengths and
/// steps, through the base element (output index `base`, input coordinates
/// `at_base`).
fn form(
    fine: &[(usize, Vec<i64>)],
    base: usize,
    at_base: &[i64],
    in_dims: &[usize],
) -> Option<AxisMap> {
    let mut groups: Vec<Group> = Vec::new();
    for (len, steps) in fine.iter().rev().cloned() {
        // Merge into the inner group when this axis continues it.
        match groups.last_mut() {
            Some(g)
                if g.len.is_power_of_two()
                    && steps
                        .iter()
                        .zip(&g.steps)
                        .all(|(&o, &i)| o as i128 == i as i128 * g.len as i128) =>
            {
                g.len *= len;
            }
            _ => groups.push(Group { len, steps }),
        }
    }
    groups.reverse();
    // The base element's coordinate in every group.
    let mut at = vec![0usize; groups.len()];
    let mut rest = base;
    for (x, g) in at.iter_mut().zip(&groups).rev() {
        *x = rest % g.len;
        rest /= g.len;
    }
    let mut grid = Vec::new();
    let mut reads = Vec::new();
    for (a, &d) in in_dims.iter().enumerate() {
        let start = groups.iter().zip(&at).try_fold(at_base[a], |c, (g, &v)| {
            c.checked_sub(g.steps[a].checked_mul(v as i64)?)
        })?;
        let mut terms: Vec<(usize, i64)> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.steps[a] != 0)
            .map(|(g, x)| (g, x.steps[a]))
            .collect();
        terms.sort_by_key(|&(g, step)| (step.unsigned_abs(), g));
        let (pieces, outer) = split_axis(d, start, &terms, &groups)?;
        grid.push(outer.0);
        reads.push(outer.1);
        for (len, read) in pieces.into_iter().rev() {
            grid.push(len);
            reads.push(read);
        }
    }
    let out_dims = if groups.is_empty() {
        vec![1]
    } else {
        groups.iter().map(|g| g.len).collect()
    };
    Some(AxisMap {
        out_dims,
        in_dims: grid,
        reads,
    })
}

type Piece = (usize, AxisRead);

/// Input axis `d` with coordinate `start + Σ step·v_g` over `terms` (by
/// increasing |step|): its low parts (innermost first), one per term but the
/// last, each of a power-of-two length that holds its term's values; then
/// the outer part with the last term (or a constant).
fn split_axis(
    d: usize,
    start: i64,
    terms: &[(usize, i64)],
    groups: &[Group],
) -> Option<(Vec<Piece>, Piece)> {
    let (mut d, mut start) = (d, start);
    let mut steps: Vec<(usize, i64)> = terms.to_vec();
    let mut pieces = Vec::new();
    while steps.len() > 1 {
        let (g, step) = steps.remove(0);
        let last = (groups[g].len - 1) as i64;
        let t = (1..=d.trailing_zeros()).find(|&t| {
            let m = 1i64 << t;
            let lo = start.rem_euclid(m);
            steps.iter().all(|&(_, s)| s % m == 0) && (0..m).contains(&(lo + step * last))
        })?;
        let m = 1i64 << t;
        pieces.push((
            m as usize,
            AxisRead::Affine {
                axis: g,
                start: start.rem_euclid(m),
                step,
            },
        ));
        start = start.div_euclid(m);
        d >>= t;
        for (_, s) in &mut steps {
            *s /= m;
        }
    }
    let outer = match steps[..] {
        [] => AxisRead::Const(start),
        [(axis, step)] => AxisRead::Affine { axis, start, step },
        _ => unreachable!("all but one term split off"),
    };
    Some((pieces, (d, outer)))
}

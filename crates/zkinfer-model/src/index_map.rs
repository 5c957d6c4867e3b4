//! Index maps of ONNX data-movement operators: Slice, Gather, GatherElements, GatherND, Pad,
//! Tile, Expand, Transpose, DepthToSpace, SpaceToDepth, Resize/Upsample (nearest), Trilu, Split
//! and Concat.
//!
//! Each of these copies, for every output element, one input element or a fill value. That
//! routing is the operator's whole semantics, independent of the element type, so the prover can
//! prove any of them with one linear sumcheck (`QOp::Select`) once the map is known. Attributes
//! and constant inputs arrive already resolved as plain Rust values; the functions follow the
//! ONNX specification (opset differences are noted per function) and return `Err` with a reason,
//! never panic, on invalid arguments. Where the specification leaves a case open, the map matches
//! onnxruntime, which produces the reference outputs of the coverage corpus.

/// Largest output, in elements, that a map may describe (2^28).
pub const MAX_ELEMENTS: usize = 1 << 28;

/// Where every output element (row-major over `out_shape`) comes from: `Some(k)` = input element k
/// (row-major over the input shape), `None` = the fill value (e.g. a Pad constant or Trilu's zeros).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexMap {
    pub out_shape: Vec<usize>,
    pub source: Vec<Option<usize>>,
}

type Res<T> = Result<T, String>;

/// Runs a map on concrete data: the operator's output for input `x`.
///
/// # Panics
/// If `map` refers past the end of `x`, i.e. it was built for a larger input shape.
pub fn apply<T: Copy>(map: &IndexMap, x: &[T], fill: T) -> Vec<T> {
    map.source
        .iter()
        .map(|s| s.map_or(fill, |k| x[k]))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Shapes, axes and indices
// ---------------------------------------------------------------------------------------------

/// Element count of `shape`; `None` if it overflows `usize` (a zero dimension makes it 0).
fn numel(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// An input's element count must fit `usize`, so that every source index does.
fn check_input(shape: &[usize], op: &str) -> Res<()> {
    numel(shape)
        .map(|_| ())
        .ok_or_else(|| format!("{op}: input shape {shape:?} has too many elements"))
}

thread_local! {
    static OUTPUT_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_ELEMENTS) };
}

/// Lowers the output-size limit on this thread until the guard drops: the
/// importer bounds a map by what its input can justify before it is built.
pub fn limit_outputs(limit: usize) -> OutputLimit {
    let previous = OUTPUT_LIMIT.with(|l| l.replace(limit.min(MAX_ELEMENTS)));
    OutputLimit { previous }
}

/// Restores the previous output-size limit when dropped.
pub struct OutputLimit {
    previous: usize,
}

impl Drop for OutputLimit {
    fn drop(&mut self) {
        OUTPUT_LIMIT.with(|l| l.set(self.previous));
    }
}

/// Output element count, refusing anything above the limit ([`MAX_ELEMENTS`]
/// or what [`limit_outputs`] set).
fn out_len(shape: &[usize]) -> Res<usize> {
    let limit = OUTPUT_LIMIT.with(|l| l.get());
    match numel(shape) {
        Some(n) if n <= limit => Ok(n),
        _ => Err(format!(
            "output shape {shape:?} exceeds the limit of {limit} elements (never above 2^28)"
        )),
    }
}

/// Row-major strides of an input whose element count fits `usize` and is non-zero.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for d in (1..shape.len()).rev() {
        s[d - 1] = s[d] * shape[d];
    }
    s
}

/// ONNX axis in `[-rank, rank-1]`, negative counting from the back.
fn norm_axis(axis: i64, rank: usize, op: &str) -> Res<usize> {
    let r = rank as i128;
    let a = if axis < 0 {
        axis as i128 + r
    } else {
        axis as i128
    };
    if (0..r).contains(&a) {
        Ok(a as usize)
    } else {
        Err(format!("{op}: axis {axis} is out of range for rank {rank}"))
    }
}

/// The `count` axes an operator's per-axis lists refer to: `axes` normalised and free of
/// repeats (ONNX leaves repeats undefined), or `0..count` when absent.
fn norm_axes(axes: Option<&[i64]>, count: usize, rank: usize, op: &str) -> Res<Vec<usize>> {
    let Some(axes) = axes else {
        return if count <= rank {
            Ok((0..count).collect())
        } else {
            Err(format!("{op}: {count} entries for a rank-{rank} input"))
        };
    };
    if axes.len() != count {
        return Err(format!("{op}: {} axes for {count} entries", axes.len()));
    }
    let mut seen = vec![false; rank];
    axes.iter()
        .map(|&a| {
            let a = norm_axis(a, rank, op)?;
            if std::mem::replace(&mut seen[a], true) {
                return Err(format!("{op}: axis {a} is repeated"));
            }
            Ok(a)
        })
        .collect()
}

/// ONNX index in `[-dim, dim-1]`, negative counting from the back.
fn norm_index(index: i64, dim: usize, op: &str) -> Res<usize> {
    let d = dim as i128;
    let i = if index < 0 {
        index as i128 + d
    } else {
        index as i128
    };
    if (0..d).contains(&i) {
        Ok(i as usize)
    } else {
        Err(format!(
            "{op}: index {index} is out of range for an axis of length {dim}"
        ))
    }
}

/// Constant indices of shape `indices_shape`, each resolved against an axis of length `dim`.
fn resolve_indices(
    indices: &[i64],
    indices_shape: &[usize],
    dim: usize,
    op: &str,
) -> Res<Vec<usize>> {
    if numel(indices_shape) != Some(indices.len()) {
        return Err(format!(
            "{op}: {} indices for indices shape {indices_shape:?}",
            indices.len()
        ));
    }
    indices.iter().map(|&i| norm_index(i, dim, op)).collect()
}

fn to_usize(v: i64, what: &str, op: &str) -> Res<usize> {
    usize::try_from(v).map_err(|_| format!("{op}: {what} {v} must be non-negative"))
}

// ---------------------------------------------------------------------------------------------
// Map builders
// ---------------------------------------------------------------------------------------------

/// The map whose source offset is a sum of one term per group of output axes: `terms[g][j]` is
/// what coordinate `j` of group `g` adds (`None` makes the element a fill). Every operator here
/// except GatherElements and Trilu has this form, which makes building a map one pass.
///
/// `terms` receives the input strides and runs only for a non-empty output of a non-empty input:
/// an empty input has no element to copy, so all of its output is fill. The product of the
/// group lengths must equal the output's element count.
fn build(
    input: &[usize],
    out_shape: Vec<usize>,
    terms: impl FnOnce(&[usize]) -> Vec<Vec<Option<usize>>>,
) -> Res<IndexMap> {
    let n = out_len(&out_shape)?;
    if n == 0 || numel(input) == Some(0) {
        return Ok(IndexMap {
            out_shape,
            source: vec![None; n],
        });
    }
    let terms = terms(&strides(input));
    let mut source = Vec::with_capacity(n);
    walk(&terms, Some(0), &mut source);
    debug_assert_eq!(source.len(), n);
    Ok(IndexMap { out_shape, source })
}

fn walk(terms: &[Vec<Option<usize>>], base: Option<usize>, out: &mut Vec<Option<usize>>) {
    match terms.split_first() {
        None => out.push(base),
        Some((first, rest)) => {
            for &t in first {
                walk(rest, base.zip(t).map(|(b, t)| b + t), out);
            }
        }
    }
}

/// The map given per output element: `f(flat_index, coordinates, input_strides)`. Same
/// guarantees as [`build`].
fn build_each(
    input: &[usize],
    out_shape: Vec<usize>,
    mut f: impl FnMut(usize, &[usize], &[usize]) -> Option<usize>,
) -> Res<IndexMap> {
    let n = out_len(&out_shape)?;
    if n == 0 || numel(input) == Some(0) {
        return Ok(IndexMap {
            out_shape,
            source: vec![None; n],
        });
    }
    let st = strides(input);
    let mut coords = vec![0usize; out_shape.len()];
    let mut source = Vec::with_capacity(n);
    for flat in 0..n {
        source.push(f(flat, &coords, &st));
        for d in (0..coords.len()).rev() {
            coords[d] += 1;
            if coords[d] < out_shape[d] {
                break;
            }
            coords[d] = 0;
        }
    }
    Ok(IndexMap { out_shape, source })
}

/// Term of an output axis of length `len` that reads input coordinate `coord(j)` on an input
/// axis of stride `stride`.
fn axis_term(
    len: usize,
    stride: usize,
    coord: impl Fn(usize) -> Option<usize>,
) -> Vec<Option<usize>> {
    (0..len).map(|j| coord(j).map(|c| c * stride)).collect()
}

/// Term of an output axis that is the input axis itself.
fn same_axis(len: usize, stride: usize) -> Vec<Option<usize>> {
    axis_term(len, stride, Some)
}

// ---------------------------------------------------------------------------------------------
// Slice, Gather, GatherElements, GatherND
// ---------------------------------------------------------------------------------------------

/// ONNX Slice (opset 10+ inputs; opset 1 attributes are the same with `steps = None`).
///
/// Negative `starts`/`ends` count from the back; the results are clamped to `[0, dim]` for a
/// positive step and `[0, dim-1]` / `[-1, dim-1]` for a negative one, so `i64::MAX`/`i64::MIN`
/// ends mean "to the end". `axes` defaults to `0..starts.len()`, `steps` to ones; a zero step
/// is an error.
pub fn slice(
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<IndexMap, String> {
    const OP: &str = "Slice";
    check_input(shape, OP)?;
    let n = starts.len();
    if ends.len() != n || steps.is_some_and(|s| s.len() != n) {
        return Err(format!("{OP}: starts, ends and steps differ in length"));
    }
    let axes = norm_axes(axes, n, shape.len(), OP)?;
    // Per input axis: first coordinate, step, output length. Axes not sliced are kept whole.
    let mut ranges: Vec<(i128, i128, usize)> = shape.iter().map(|&d| (0, 1, d)).collect();
    for (i, &a) in axes.iter().enumerate() {
        let step = steps.map_or(1, |s| s[i]);
        if step == 0 {
            return Err(format!("{OP}: step 0 on axis {a}"));
        }
        ranges[a] = slice_range(shape[a], starts[i], ends[i], step);
    }
    let out_shape = ranges.iter().map(|r| r.2).collect();
    build(shape, out_shape, |st| {
        ranges
            .iter()
            .zip(st)
            .map(|(&(first, step, len), &s)| {
                axis_term(len, s, |j| Some((first + j as i128 * step) as usize))
            })
            .collect()
    })
}

/// One axis of Slice, clamped as the specification says: (first coordinate, step, length).
fn slice_range(dim: usize, start: i64, end: i64, step: i64) -> (i128, i128, usize) {
    let (d, step) = (dim as i128, step as i128);
    if d == 0 {
        return (0, step, 0);
    }
    let resolve = |v: i64| if v < 0 { v as i128 + d } else { v as i128 };
    let (start, end) = if step > 0 {
        (resolve(start).clamp(0, d), resolve(end).clamp(0, d))
    } else {
        (
            resolve(start).clamp(0, d - 1),
            resolve(end).clamp(-1, d - 1),
        )
    };
    let span = if step > 0 { end - start } else { start - end };
    let len = if span > 0 {
        (span + step.abs() - 1) / step.abs()
    } else {
        0
    };
    (start, step, len as usize)
}

/// ONNX Gather with constant `indices` of shape `indices_shape` (empty = a scalar index);
/// negative indices (opset 11+) count from the back. Output shape
/// `shape[..axis] + indices_shape + shape[axis+1..]`.
pub fn gather(
    shape: &[usize],
    indices: &[i64],
    indices_shape: &[usize],
    axis: i64,
) -> Result<IndexMap, String> {
    const OP: &str = "Gather";
    check_input(shape, OP)?;
    let a = norm_axis(axis, shape.len(), OP)?;
    let picks = resolve_indices(indices, indices_shape, shape[a], OP)?;
    let out_shape = [&shape[..a], indices_shape, &shape[a + 1..]].concat();
    build(shape, out_shape, |st| {
        let mut terms: Vec<_> = (0..a).map(|d| same_axis(shape[d], st[d])).collect();
        terms.push(picks.iter().map(|&k| Some(k * st[a])).collect());
        terms.extend((a + 1..shape.len()).map(|d| same_axis(shape[d], st[d])));
        terms
    })
}

/// ONNX GatherElements: `out[i..] = x[i..]` with coordinate `axis` replaced by `indices[i..]`.
/// `indices` has the input's rank; its other dimensions may be smaller than the input's (as
/// onnxruntime and PyTorch's `gather` allow), never larger.
pub fn gather_elements(
    shape: &[usize],
    indices: &[i64],
    indices_shape: &[usize],
    axis: i64,
) -> Result<IndexMap, String> {
    const OP: &str = "GatherElements";
    check_input(shape, OP)?;
    let a = norm_axis(axis, shape.len(), OP)?;
    if indices_shape.len() != shape.len() {
        return Err(format!("{OP}: indices rank differs from the input's"));
    }
    if (0..shape.len()).any(|d| d != a && indices_shape[d] > shape[d]) {
        return Err(format!(
            "{OP}: indices shape {indices_shape:?} exceeds input shape {shape:?} off axis {a}"
        ));
    }
    let picks = resolve_indices(indices, indices_shape, shape[a], OP)?;
    build_each(shape, indices_shape.to_vec(), |flat, coords, st| {
        let at = |d: usize| if d == a { picks[flat] } else { coords[d] };
        Some((0..coords.len()).map(|d| at(d) * st[d]).sum())
    })
}

/// ONNX GatherND (opset 12+; opset 11 is `batch_dims = 0`): the last indices dimension holds
/// tuples of `m` coordinates into input axes `b..b+m` (each may be negative), the first `b`
/// dimensions are batch dimensions shared with the input. Output shape
/// `indices_shape[..q-1] + shape[b+m..]`.
pub fn gather_nd(
    shape: &[usize],
    indices: &[i64],
    indices_shape: &[usize],
    batch_dims: i64,
) -> Result<IndexMap, String> {
    const OP: &str = "GatherND";
    check_input(shape, OP)?;
    let (r, q) = (shape.len(), indices_shape.len());
    if r == 0 || q == 0 {
        return Err(format!("{OP}: input and indices need rank >= 1"));
    }
    let b = usize::try_from(batch_dims)
        .ok()
        .filter(|&b| b < r.min(q))
        .ok_or_else(|| format!("{OP}: batch_dims {batch_dims} must be in [0, min(ranks))"))?;
    if indices_shape[..b] != shape[..b] {
        return Err(format!(
            "{OP}: batch dimensions of indices and input differ"
        ));
    }
    let m = indices_shape[q - 1];
    if m == 0 || m > r - b {
        return Err(format!(
            "{OP}: index tuples of length {m} for {} axes",
            r - b
        ));
    }
    if numel(indices_shape) != Some(indices.len()) {
        return Err(format!(
            "{OP}: {} indices for shape {indices_shape:?}",
            indices.len()
        ));
    }
    let coords = indices
        .iter()
        .enumerate()
        .map(|(i, &v)| norm_index(v, shape[b + i % m], OP))
        .collect::<Res<Vec<usize>>>()?;
    let tuples = indices.len() / m;
    let per_batch = numel(&indices_shape[b..q - 1]).unwrap_or(1).max(1);
    let out_shape = [&indices_shape[..q - 1], &shape[b + m..]].concat();
    build(shape, out_shape, |st| {
        // A batch position selects a whole block of the input: offset batch * stride[b-1].
        let batch_stride = if b == 0 { 0 } else { st[b - 1] };
        let tuple = |p: usize| {
            let inner: usize = (0..m).map(|t| coords[p * m + t] * st[b + t]).sum();
            Some(p / per_batch * batch_stride + inner)
        };
        let mut terms = vec![(0..tuples).map(tuple).collect()];
        terms.extend((b + m..r).map(|d| same_axis(shape[d], st[d])));
        terms
    })
}

// ---------------------------------------------------------------------------------------------
// Pad, Tile, Expand, Transpose
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum PadMode {
    Constant,
    Reflect,
    Edge,
    Wrap,
}

/// One axis of Pad: the kept input range `lo..lo+kept` (after negative pads crop it), placed
/// after `before` padded positions in an output axis of `len`.
struct PadAxis {
    lo: usize,
    kept: usize,
    before: usize,
    len: usize,
}

/// ONNX Pad (opset 18+ with `axes`; earlier opsets' `pads`/`paddings` attribute is the same
/// with `axes = None`). `pads` is `[begin per axis.., end per axis..]`; negative pads crop first,
/// then the remaining data is padded, as onnxruntime does. Modes: `constant` (output `None`),
/// `reflect`, `edge`, `wrap` (opset 19).
///
/// Pads wider than the axis repeat the pattern like `numpy.pad`, which the specification's own
/// `reflect` example needs (onnxruntime reads out of bounds there).
pub fn pad(
    shape: &[usize],
    pads: &[i64],
    axes: Option<&[i64]>,
    mode: &str,
) -> Result<IndexMap, String> {
    const OP: &str = "Pad";
    check_input(shape, OP)?;
    let mode = match mode {
        "constant" => PadMode::Constant,
        "reflect" => PadMode::Reflect,
        "edge" => PadMode::Edge,
        "wrap" => PadMode::Wrap,
        _ => return Err(format!("{OP}: unknown mode {mode:?}")),
    };
    if !pads.len().is_multiple_of(2) {
        return Err(format!("{OP}: odd number of pads ({})", pads.len()));
    }
    let n = pads.len() / 2;
    if axes.is_none() && n != shape.len() {
        return Err(format!(
            "{OP}: {} pads for rank {}",
            pads.len(),
            shape.len()
        ));
    }
    let axes = norm_axes(axes, n, shape.len(), OP)?;
    let mut edges = vec![(0, 0); shape.len()];
    for (i, &a) in axes.iter().enumerate() {
        edges[a] = (pads[i], pads[n + i]);
    }
    let plans = shape
        .iter()
        .zip(&edges)
        .map(|(&d, &(begin, end))| PadAxis::new(d, begin, end, mode))
        .collect::<Res<Vec<_>>>()?;
    let out_shape = plans.iter().map(|p| p.len).collect();
    build(shape, out_shape, |st| {
        plans
            .iter()
            .zip(st)
            .map(|(p, &s)| axis_term(p.len, s, |j| p.source(j, mode)))
            .collect()
    })
}

impl PadAxis {
    fn new(dim: usize, begin: i64, end: i64, mode: PadMode) -> Res<PadAxis> {
        let (begin, end) = (begin as i128, end as i128);
        let kept = dim as i128 + begin.min(0) + end.min(0);
        if kept < 0 {
            return Err(format!(
                "Pad: pads {begin}, {end} crop more than the axis length {dim}"
            ));
        }
        let (before, after) = (begin.max(0), end.max(0));
        if mode != PadMode::Constant && kept == 0 && before.max(after) > 0 {
            return Err(format!(
                "Pad: nothing to copy from an axis cropped from {dim} to 0"
            ));
        }
        let len = usize::try_from(kept + before + after)
            .map_err(|_| "Pad: output axis too long".to_string())?;
        Ok(PadAxis {
            lo: (-begin.min(0)) as usize,
            kept: kept as usize,
            before: before as usize,
            len,
        })
    }

    /// Input coordinate of output position `j`, `None` for a constant pad.
    fn source(&self, j: usize, mode: PadMode) -> Option<usize> {
        let (k, t) = (self.kept as i128, j as i128 - self.before as i128);
        let t = if (0..k).contains(&t) {
            t
        } else {
            match mode {
                PadMode::Constant => return None,
                PadMode::Edge => t.clamp(0, k - 1),
                // A triangle wave of period 2(k-1): mirrored at both ends, again and again.
                PadMode::Reflect if k == 1 => 0,
                PadMode::Reflect => {
                    let m = t.rem_euclid(2 * (k - 1));
                    m.min(2 * (k - 1) - m)
                }
                PadMode::Wrap => t.rem_euclid(k),
            }
        };
        Some(self.lo + t as usize)
    }
}

/// ONNX Tile: `repeats` (one non-negative count per axis) copies of the input along each axis.
pub fn tile(shape: &[usize], repeats: &[i64]) -> Result<IndexMap, String> {
    const OP: &str = "Tile";
    check_input(shape, OP)?;
    if repeats.len() != shape.len() {
        return Err(format!(
            "{OP}: {} repeats for rank {}",
            repeats.len(),
            shape.len()
        ));
    }
    let out_shape = shape
        .iter()
        .zip(repeats)
        .map(|(&d, &r)| {
            d.checked_mul(to_usize(r, "repeat", OP)?)
                .ok_or_else(|| format!("{OP}: output axis too long"))
        })
        .collect::<Res<Vec<_>>>()?;
    build(shape, out_shape.clone(), |st| {
        (0..shape.len())
            .map(|d| axis_term(out_shape[d], st[d], |j| Some(j % shape[d])))
            .collect()
    })
}

/// ONNX Expand: bidirectional (numpy) broadcast of the input against `target_shape`, aligned
/// from the back; equal dimensions or a 1 on either side, the output taking the other one.
pub fn expand(shape: &[usize], target_shape: &[i64]) -> Result<IndexMap, String> {
    const OP: &str = "Expand";
    check_input(shape, OP)?;
    let target = target_shape
        .iter()
        .map(|&t| to_usize(t, "dimension", OP))
        .collect::<Res<Vec<_>>>()?;
    let rank = shape.len().max(target.len());
    // Dimension of `s` on output axis `d`, 1 where `s` has no such (leading) axis.
    let dim_at = |s: &[usize], d: usize| (d + s.len()).checked_sub(rank).map_or(1, |i| s[i]);
    let out_shape = (0..rank)
        .map(|d| match (dim_at(shape, d), dim_at(&target, d)) {
            (a, t) if a == t || a == 1 => Ok(t),
            (a, 1) => Ok(a),
            (a, t) => Err(format!("{OP}: cannot broadcast dimension {a} to {t}")),
        })
        .collect::<Res<Vec<_>>>()?;
    build(shape, out_shape.clone(), |st| {
        (0..rank)
            .map(|d| match (d + shape.len()).checked_sub(rank) {
                Some(i) if shape[i] != 1 => same_axis(out_shape[d], st[i]),
                _ => vec![Some(0); out_shape[d]],
            })
            .collect()
    })
}

/// ONNX Transpose: output axis `d` is input axis `perm[d]`; `perm` defaults to reversing.
pub fn transpose(shape: &[usize], perm: Option<&[usize]>) -> Result<IndexMap, String> {
    const OP: &str = "Transpose";
    check_input(shape, OP)?;
    let rank = shape.len();
    let perm: Vec<usize> = perm.map_or_else(|| (0..rank).rev().collect(), <[usize]>::to_vec);
    let mut seen = vec![false; rank];
    let valid = perm.len() == rank
        && perm
            .iter()
            .all(|&p| p < rank && !std::mem::replace(&mut seen[p], true));
    if !valid {
        return Err(format!(
            "{OP}: {perm:?} is not a permutation of rank {rank}"
        ));
    }
    let out_shape = perm.iter().map(|&p| shape[p]).collect();
    build(shape, out_shape, |st| {
        perm.iter().map(|&p| same_axis(shape[p], st[p])).collect()
    })
}

// ---------------------------------------------------------------------------------------------
// DepthToSpace, SpaceToDepth
// ---------------------------------------------------------------------------------------------

/// `[N, C, H, W]` and the block size, validated for the depth/space operators.
fn nchw_block(shape: &[usize], blocksize: i64, op: &str) -> Res<([usize; 4], usize)> {
    let dims: [usize; 4] = shape
        .try_into()
        .map_err(|_| format!("{op}: input must have rank 4, got {shape:?}"))?;
    match usize::try_from(blocksize) {
        Ok(b) if b > 0 => Ok((dims, b)),
        _ => Err(format!("{op}: blocksize {blocksize} must be positive")),
    }
}

/// ONNX DepthToSpace: `[N, C, H, W]` → `[N, C/b², H·b, W·b]`, moving channel blocks into
/// spatial `b×b` blocks. `DCR` (the default) splits the channel as (row, column, channel), `CRD`
/// as (channel, row, column).
pub fn depth_to_space(shape: &[usize], blocksize: i64, mode: &str) -> Result<IndexMap, String> {
    const OP: &str = "DepthToSpace";
    check_input(shape, OP)?;
    let ([n, c, h, w], b) = nchw_block(shape, blocksize, OP)?;
    let crd = match mode {
        "DCR" => false,
        "CRD" => true,
        _ => return Err(format!("{OP}: unknown mode {mode:?}")),
    };
    let bb = b
        .checked_mul(b)
        .filter(|bb| c % bb == 0)
        .ok_or_else(|| format!("{OP}: {c} channels are not a multiple of {b}²"))?;
    let c_out = c / bb;
    let grow = |d: usize| {
        d.checked_mul(b)
            .ok_or_else(|| format!("{OP}: output too large"))
    };
    let out_shape = vec![n, c_out, grow(h)?, grow(w)?];
    build(shape, out_shape, |st| {
        // Channel read for output channel k and in-block offsets (i, j): DCR (i·b + j)·C' + k,
        // CRD k·b² + i·b + j; so each of k, i, j adds a fixed multiple of the channel stride.
        let cs = st[1];
        let (k_step, i_step, j_step) = if crd {
            (bb, b, 1)
        } else {
            (1, b * c_out, c_out)
        };
        vec![
            same_axis(n, st[0]),
            (0..c_out).map(|k| Some(k * k_step * cs)).collect(),
            (0..h * b)
                .map(|y| Some(y / b * st[2] + y % b * i_step * cs))
                .collect(),
            (0..w * b)
                .map(|x| Some(x / b * st[3] + x % b * j_step * cs))
                .collect(),
        ]
    })
}

/// ONNX SpaceToDepth: `[N, C, H, W]` → `[N, C·b², H/b, W/b]`, output channel
/// `(i·b + j)·C + k` holding input channel `k` at offset `(i, j)` of each `b×b` block.
pub fn space_to_depth(shape: &[usize], blocksize: i64) -> Result<IndexMap, String> {
    const OP: &str = "SpaceToDepth";
    check_input(shape, OP)?;
    let ([n, c, h, w], b) = nchw_block(shape, blocksize, OP)?;
    if h % b != 0 || w % b != 0 {
        return Err(format!(
            "{OP}: spatial size {h}×{w} is not a multiple of {b}"
        ));
    }
    let c_out = c
        .checked_mul(b)
        .and_then(|cb| cb.checked_mul(b))
        .ok_or_else(|| format!("{OP}: output too large"))?;
    let out_shape = vec![n, c_out, h / b, w / b];
    build(shape, out_shape, |st| {
        let channel = |q: usize| {
            let (k, ij) = (q % c, q / c);
            Some(k * st[1] + ij / b * st[2] + ij % b * st[3])
        };
        vec![
            same_axis(n, st[0]),
            (0..c_out).map(channel).collect(),
            (0..h / b).map(|y| Some(y * b * st[2])).collect(),
            (0..w / b).map(|x| Some(x * b * st[3])).collect(),
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// Resize / Upsample (nearest)
// ---------------------------------------------------------------------------------------------

/// Resize's `coordinate_transformation_mode`: output coordinate → input coordinate.
#[derive(Clone, Copy)]
enum Coord {
    HalfPixel,
    HalfPixelSymmetric,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    TfHalfPixelForNn,
}

/// Resize's `nearest_mode`, plus the rule of Resize-10 and Upsample, which predate it.
#[derive(Clone, Copy)]
enum Rounding {
    PreferFloor,
    PreferCeil,
    Floor,
    Ceil,
    /// Opset 10 and Upsample do not specify the rounding; onnxruntime truncates when upsampling
    /// and rounds up when downsampling.
    Legacy,
}

impl Coord {
    fn parse(mode: &str) -> Res<Coord> {
        Ok(match mode {
            "half_pixel" => Coord::HalfPixel,
            "half_pixel_symmetric" => Coord::HalfPixelSymmetric,
            "pytorch_half_pixel" => Coord::PytorchHalfPixel,
            "align_corners" => Coord::AlignCorners,
            "asymmetric" => Coord::Asymmetric,
            "tf_half_pixel_for_nn" => Coord::TfHalfPixelForNn,
            "tf_crop_and_resize" => {
                return Err(
                    "Resize: tf_crop_and_resize needs roi and extrapolation, not supported".into(),
                )
            }
            _ => {
                return Err(format!(
                    "Resize: unknown coordinate_transformation_mode {mode:?}"
                ))
            }
        })
    }

    /// The specification's formula, evaluated in float32 (the type of `scales`) in the order
    /// onnxruntime uses, so that rounding ties fall the same way. `x` is the output coordinate,
    /// `len`/`dim` the output/input axis lengths.
    fn original(self, x: f32, scale: f32, len: f32, dim: f32) -> f32 {
        match self {
            Coord::HalfPixel => (x + 0.5) / scale - 0.5,
            Coord::PytorchHalfPixel if len > 1.0 => (x + 0.5) / scale - 0.5,
            Coord::PytorchHalfPixel => 0.0,
            Coord::AlignCorners if len == 1.0 => 0.0,
            Coord::AlignCorners => x * (dim - 1.0) / (len - 1.0),
            Coord::Asymmetric => x / scale,
            Coord::TfHalfPixelForNn => (x + 0.5) / scale,
            Coord::HalfPixelSymmetric => {
                let adjustment = len / (scale * dim);
                let offset = dim / 2.0 * (1.0 - adjustment);
                (f64::from(offset) + (f64::from(x) + 0.5) / f64::from(scale) - 0.5) as f32
            }
        }
    }
}

impl Rounding {
    fn parse(mode: &str) -> Res<Rounding> {
        Ok(match mode {
            "round_prefer_floor" => Rounding::PreferFloor,
            "round_prefer_ceil" => Rounding::PreferCeil,
            "floor" => Rounding::Floor,
            "ceil" => Rounding::Ceil,
            _ => return Err(format!("Resize: unknown nearest_mode {mode:?}")),
        })
    }

    /// Nearest input coordinate (before clamping) of `x`.
    fn apply(self, x: f32, downsampling: bool) -> i64 {
        match self {
            Rounding::PreferFloor if x == (x as i64) as f32 + 0.5 => x.floor() as i64,
            Rounding::PreferFloor | Rounding::PreferCeil => x.round() as i64,
            Rounding::Floor => x.floor() as i64,
            Rounding::Ceil => x.ceil() as i64,
            Rounding::Legacy if downsampling => x.ceil() as i64,
            Rounding::Legacy => x as i64,
        }
    }
}

/// Rejects Resize interpolation modes that are not index maps: `linear` and `cubic` output
/// weighted sums of several inputs. Call before [`resize_nearest`], which assumes `nearest`.
pub fn check_resize_mode(mode: &str) -> Result<(), String> {
    match mode {
        "nearest" => Ok(()),
        "linear" | "cubic" => Err(format!(
            "Resize mode {mode:?} outputs weighted sums of inputs, not an index map"
        )),
        _ => Err(format!("Resize: unknown mode {mode:?}")),
    }
}

/// ONNX Resize (opset 11+) with `mode = "nearest"`. Exactly one of `scales` (positive, as
/// float32) and `sizes` is given (an empty one counts as absent, ONNX's way of omitting it),
/// one entry per axis of `axes` (opset 18; default all axes). Defaults of the attributes:
/// `coordinate_transformation_mode = "half_pixel"`, `nearest_mode = "round_prefer_floor"`,
/// `keep_aspect_ratio_policy = "stretch"` (opset 18; used only with `sizes`). `antialias`,
/// `cubic_coeff_a` and `exclude_outside` do not affect nearest mode; `tf_crop_and_resize` (which
/// needs `roi`) is refused.
///
/// Output lengths are `floor(dim · scale)` in float32, or `sizes` (rounded half up after the
/// aspect-ratio policy). Coordinates follow the specification's formulas evaluated in float32
/// in onnxruntime's order: exact arithmetic would break a few rounding ties differently when a
/// scale is not a power of two, and onnxruntime is the reference. An axis whose scale is
/// exactly 1 is copied unchanged (as onnxruntime does for inputs of rank 2 and more).
pub fn resize_nearest(
    shape: &[usize],
    scales: Option<&[f64]>,
    sizes: Option<&[usize]>,
    coordinate_transformation_mode: &str,
    nearest_mode: &str,
    axes: Option<&[i64]>,
    keep_aspect_ratio_policy: &str,
) -> Result<IndexMap, String> {
    let coord = Coord::parse(coordinate_transformation_mode)?;
    let rounding = Rounding::parse(nearest_mode)?;
    let plan = resize_plan(shape, scales, sizes, axes, keep_aspect_ratio_policy)?;
    resample(shape, &plan, coord, rounding)
}

/// Per input axis `(scale, output length)` of a Resize (opset 11+), from
/// `scales` or `sizes` exactly as [`resize_nearest`] reads them: the plan the
/// linear lowering interpolates along.
pub(crate) fn resize_plan(
    shape: &[usize],
    scales: Option<&[f64]>,
    sizes: Option<&[usize]>,
    axes: Option<&[i64]>,
    keep_aspect_ratio_policy: &str,
) -> Result<Vec<(f32, usize)>, String> {
    const OP: &str = "Resize";
    check_input(shape, OP)?;
    let policy = match keep_aspect_ratio_policy {
        "stretch" => None,
        "not_larger" => Some(f32::min as fn(f32, f32) -> f32),
        "not_smaller" => Some(f32::max as fn(f32, f32) -> f32),
        p => return Err(format!("{OP}: unknown keep_aspect_ratio_policy {p:?}")),
    };
    let scales = scales.filter(|s| !s.is_empty());
    let sizes = sizes.filter(|s| !s.is_empty());
    let count = match (scales, sizes) {
        (Some(s), None) => s.len(),
        (None, Some(s)) => s.len(),
        (Some(_), Some(_)) => return Err(format!("{OP}: both scales and sizes given")),
        (None, None) => return Err(format!("{OP}: neither scales nor sizes given")),
    };
    if axes.is_none() && count != shape.len() {
        return Err(format!(
            "{OP}: {count} scales/sizes for rank {}",
            shape.len()
        ));
    }
    let axes = norm_axes(axes, count, shape.len(), OP)?;
    match sizes {
        Some(sizes) => lengths_from_sizes(shape, sizes, &axes, policy),
        None => lengths_from_scales(shape, scales.unwrap_or_default(), &axes),
    }
}

/// The plan of Resize-10 and Upsample: one scale per axis.
pub(crate) fn resize10_plan(shape: &[usize], scales: &[f64]) -> Result<Vec<(f32, usize)>, String> {
    check_input(shape, "Resize")?;
    if scales.len() != shape.len() {
        return Err(format!(
            "Resize: {} scales for rank {}",
            scales.len(),
            shape.len()
        ));
    }
    let axes: Vec<usize> = (0..shape.len()).collect();
    lengths_from_scales(shape, scales, &axes)
}

/// Resize's input coordinate of output coordinate `x` (an axis of output
/// length `len` and input length `dim`, scaled by `scale`) under
/// `coordinate_transformation_mode`, in float32 as onnxruntime computes it.
pub(crate) fn resize_coordinate(mode: &str) -> Result<impl Fn(f32, f32, f32, f32) -> f32, String> {
    let coord = Coord::parse(mode)?;
    Ok(move |x, scale, len, dim| coord.original(x, scale, len, dim))
}

/// ONNX Upsample (opset 7–9, `mode = "nearest"`, scales ≥ 1): asymmetric coordinates,
/// truncated to an integer.
pub fn upsample_nearest(shape: &[usize], scales: &[f64]) -> Result<IndexMap, String> {
    if scales.iter().any(|&s| s.is_nan() || s < 1.0) {
        return Err(format!("Upsample: scales {scales:?} must be >= 1"));
    }
    resize10_nearest(shape, scales)
}

/// ONNX Resize-10 with `mode = "nearest"`: one positive scale per axis, asymmetric
/// coordinates. Opset 10 does not say how to round; like onnxruntime, this truncates when
/// upsampling and rounds up when downsampling.
pub fn resize10_nearest(shape: &[usize], scales: &[f64]) -> Result<IndexMap, String> {
    let plan = resize10_plan(shape, scales)?;
    resample(shape, &plan, Coord::Asymmetric, Rounding::Legacy)
}

/// Per input axis (scale, output length) from `scales` on `axes`; other axes keep scale 1.
fn lengths_from_scales(shape: &[usize], scales: &[f64], axes: &[usize]) -> Res<Vec<(f32, usize)>> {
    let mut plan: Vec<(f32, usize)> = shape.iter().map(|&d| (1.0, d)).collect();
    for (&a, &s) in axes.iter().zip(scales) {
        let scale = s as f32;
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(format!("Resize: scale {s} must be positive and finite"));
        }
        let len = (scale * shape[a] as f32).floor();
        if len > MAX_ELEMENTS as f32 {
            return Err(format!("Resize: output axis of length {len} is too long"));
        }
        plan[a] = (scale, len as usize);
    }
    Ok(plan)
}

/// Per input axis (scale, output length) from `sizes` on `axes`; the scale is `size / dim`,
/// or with an aspect-ratio policy the min/max of those over `axes`, applied to all of them.
fn lengths_from_sizes(
    shape: &[usize],
    sizes: &[usize],
    axes: &[usize],
    policy: Option<fn(f32, f32) -> f32>,
) -> Res<Vec<(f32, usize)>> {
    let mut plan: Vec<(f32, usize)> = shape.iter().map(|&d| (1.0, d)).collect();
    for (&a, &size) in axes.iter().zip(sizes) {
        plan[a] = match (shape[a], size) {
            (0, 0) => (1.0, 0),
            (0, _) => return Err(format!("Resize: empty axis {a} cannot grow to {size}")),
            (_, 0) => return Err(format!("Resize: size 0 for non-empty axis {a}")),
            (d, _) => (size as f32 / d as f32, size),
        };
    }
    if let Some(pick) = policy {
        let scale = axes.iter().map(|&a| plan[a].0).reduce(pick).unwrap_or(1.0);
        for &a in axes {
            let len = (scale * shape[a] as f32).round();
            if len > MAX_ELEMENTS as f32 {
                return Err(format!("Resize: output axis of length {len} is too long"));
            }
            plan[a] = (scale, len as usize);
        }
    }
    Ok(plan)
}

fn resample(
    shape: &[usize],
    plan: &[(f32, usize)],
    coord: Coord,
    rounding: Rounding,
) -> Res<IndexMap> {
    let out_shape = plan.iter().map(|p| p.1).collect();
    build(shape, out_shape, |st| {
        plan.iter()
            .zip(shape)
            .zip(st)
            .map(|((&(scale, len), &dim), &s)| {
                axis_term(len, s, |j| {
                    if scale == 1.0 {
                        return Some(j.min(dim - 1));
                    }
                    let x = coord.original(j as f32, scale, len as f32, dim as f32);
                    let i = rounding.apply(x, scale < 1.0).max(0) as usize;
                    Some(i.min(dim - 1))
                })
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Trilu, Split, Concat
// ---------------------------------------------------------------------------------------------

/// ONNX Trilu on `[.., N, M]`: keeps element (i, j) when `j - i >= k` (upper) or `j - i <= k`
/// (lower); the rest become the fill (zero).
pub fn trilu(shape: &[usize], k: i64, upper: bool) -> Result<IndexMap, String> {
    const OP: &str = "Trilu";
    check_input(shape, OP)?;
    let r = shape.len();
    if r < 2 {
        return Err(format!("{OP}: input must have rank >= 2, got {shape:?}"));
    }
    let (rows, cols) = (shape[r - 2], shape[r - 1]);
    build_each(shape, shape.to_vec(), |flat, _, _| {
        let (i, j) = (flat / cols % rows, flat % cols);
        let diagonal = j as i128 - i as i128;
        let keep = if upper {
            diagonal >= k as i128
        } else {
            diagonal <= k as i128
        };
        keep.then_some(flat)
    })
}

/// ONNX Split along `axis`: by `split_sizes` (summing to the axis length), or into
/// `num_outputs` parts of `ceil(dim / num_outputs)` with a smaller, non-empty last part (opset
/// 18). Exactly one of the two is given. Opsets before 18 split evenly into as many parts as
/// the node has outputs: pass that as `num_outputs` after checking it divides the axis.
pub fn split(
    shape: &[usize],
    axis: i64,
    split_sizes: Option<&[usize]>,
    num_outputs: Option<usize>,
) -> Result<Vec<IndexMap>, String> {
    const OP: &str = "Split";
    check_input(shape, OP)?;
    let a = norm_axis(axis, shape.len(), OP)?;
    let dim = shape[a];
    let sizes = match (split_sizes, num_outputs) {
        (Some(s), None) => {
            let total = s.iter().try_fold(0usize, |t, &x| t.checked_add(x));
            if total != Some(dim) {
                return Err(format!(
                    "{OP}: sizes {s:?} do not sum to the axis length {dim}"
                ));
            }
            s.to_vec()
        }
        (None, Some(n)) => even_parts(dim, n)?,
        (Some(_), Some(_)) => return Err(format!("{OP}: both split and num_outputs given")),
        (None, None) => return Err(format!("{OP}: neither split nor num_outputs given")),
    };
    let mut start = 0;
    sizes
        .iter()
        .map(|&len| {
            let part = window(shape, a, start, len);
            start += len;
            part
        })
        .collect()
}

/// Opset-18 `num_outputs` parts: `ceil(dim / n)` each, the rest last. onnxruntime refuses an
/// empty last part (the specification only says "smaller"), so this does too.
fn even_parts(dim: usize, n: usize) -> Res<Vec<usize>> {
    if n == 0 || n > MAX_ELEMENTS {
        return Err(format!("Split: num_outputs {n} is out of range"));
    }
    let chunk = dim.div_ceil(n);
    let last = chunk
        .checked_mul(n - 1)
        .and_then(|head| dim.checked_sub(head))
        .filter(|&last| last > 0 || dim == 0)
        .ok_or_else(|| format!("Split: {dim} cannot be split into {n} parts of {chunk}"))?;
    let mut sizes = vec![chunk; n - 1];
    sizes.push(last);
    Ok(sizes)
}

/// The input restricted to `start..start+len` on `axis`.
fn window(shape: &[usize], axis: usize, start: usize, len: usize) -> Res<IndexMap> {
    let mut out_shape = shape.to_vec();
    out_shape[axis] = len;
    build(shape, out_shape.clone(), |st| {
        (0..shape.len())
            .map(|d| {
                let first = if d == axis { start } else { 0 };
                axis_term(out_shape[d], st[d], |j| Some(first + j))
            })
            .collect()
    })
}

/// ONNX Concat along `axis`. Returns the output shape and, per input, a map over the whole
/// output that is `Some(k)` exactly where the output is that input's element `k`: the output is
/// the sum of the per-input selections.
pub fn concat(shapes: &[Vec<usize>], axis: i64) -> Result<(Vec<usize>, Vec<IndexMap>), String> {
    const OP: &str = "Concat";
    let first = shapes.first().ok_or_else(|| format!("{OP}: no inputs"))?;
    let a = norm_axis(axis, first.len(), OP)?;
    let mut total = 0usize;
    for s in shapes {
        check_input(s, OP)?;
        let same_rest = s.len() == first.len() && (0..s.len()).all(|d| d == a || s[d] == first[d]);
        if !same_rest {
            return Err(format!(
                "{OP}: shapes {s:?} and {first:?} differ off axis {a}"
            ));
        }
        total = total
            .checked_add(s[a])
            .ok_or_else(|| format!("{OP}: output axis too long"))?;
    }
    let mut out_shape = first.clone();
    out_shape[a] = total;
    out_len(&out_shape)?;
    let mut offset = 0;
    let maps = shapes
        .iter()
        .map(|s| {
            let (lo, hi) = (offset, offset + s[a]);
            offset = hi;
            build(s, out_shape.clone(), |st| {
                (0..s.len())
                    .map(|d| {
                        if d == a {
                            axis_term(total, st[d], |p| (lo..hi).contains(&p).then(|| p - lo))
                        } else {
                            same_axis(s[d], st[d])
                        }
                    })
                    .collect()
            })
        })
        .collect::<Res<Vec<_>>>()?;
    Ok((out_shape, maps))
}

#[cfg(test)]
mod tests {
    //! Expected arrays in the `*_matches_onnxruntime` tests come from onnxruntime 1.23.2: a
    //! throwaway script (run once by hand) built a one-node model per case, fed `arange + 1`
    //! as float32 (pad constant / Trilu zero = 0), and recorded each output value minus one,
    //! i.e. the input element it copies, -1 for the fill. Where onnxruntime reads out of bounds
    //! (marked), `numpy.pad` on the cropped data gave the expectation. The script also compared
    //! ~40 000 random cases, which agreed except where onnxruntime contradicts the
    //! specification (a negative-step Slice ending at `INT_MAX`, an empty Split or Pad input).

    use super::*;

    /// Sources as integers, -1 for the fill.
    fn sources(map: &IndexMap) -> Vec<i64> {
        map.source
            .iter()
            .map(|s| s.map_or(-1, |k| k as i64))
            .collect()
    }

    #[track_caller]
    fn expect(got: Result<IndexMap, String>, shape: &[usize], want: &[i64]) {
        let map = got.unwrap();
        assert_eq!(map.out_shape, shape);
        assert_eq!(sources(&map), want);
    }

    #[track_caller]
    fn expect_all(got: Result<Vec<IndexMap>, String>, want: &[(&[usize], &[i64])]) {
        let maps = got.unwrap();
        assert_eq!(maps.len(), want.len());
        for (map, (shape, src)) in maps.iter().zip(want) {
            assert_eq!(
                (map.out_shape.as_slice(), sources(map).as_slice()),
                (*shape, *src)
            );
        }
    }

    /// Concat's per-input maps, merged into indices over all inputs laid end to end (how the
    /// expectations number them); every output element must come from exactly one input.
    #[track_caller]
    fn expect_concat(
        got: Result<(Vec<usize>, Vec<IndexMap>), String>,
        shape: &[usize],
        want: &[i64],
    ) {
        let (out_shape, maps) = got.unwrap();
        assert_eq!(out_shape, shape);
        let mut merged = vec![-1i64; want.len()];
        let mut base = 0;
        for map in &maps {
            assert_eq!(map.out_shape, shape);
            for (m, s) in merged.iter_mut().zip(&map.source) {
                if let Some(k) = s {
                    assert_eq!(*m, -1, "two inputs claim one output element");
                    *m = base + *k as i64;
                }
            }
            base += map.source.iter().flatten().count() as i64;
        }
        assert_eq!(merged, want);
    }

    #[track_caller]
    fn refuses<T: std::fmt::Debug>(got: Result<T, String>, reason: &str) {
        let err = got.unwrap_err();
        assert!(
            err.contains(reason),
            "error {err:?} does not mention {reason:?}"
        );
    }

    #[test]
    fn slice_matches_onnxruntime() {
        // Spec example 1
        expect(
            slice(&[2, 4], &[1, 0], &[2, 3], Some(&[0, 1]), Some(&[1, 2])),
            &[1, 2],
            &[4, 6],
        );
        // Spec example 2: no axes, opset-1 form
        expect(
            slice(&[2, 4], &[0, 1], &[-1, 1000], None, None),
            &[1, 3],
            &[1, 2, 3],
        );
        // Reverse with INT_MIN end
        expect(
            slice(&[5], &[-1], &[i64::MIN], None, Some(&[-1])),
            &[5],
            &[4, 3, 2, 1, 0],
        );
        // Start clamped to dim-1, end to -1
        expect(
            slice(&[5], &[i64::MAX], &[-6], None, Some(&[-2])),
            &[3],
            &[4, 2, 0],
        );
        // Negative axis and start, INT_MAX end
        expect(
            slice(&[3, 4], &[-2], &[i64::MAX], Some(&[-1]), None),
            &[3, 2],
            &[2, 3, 6, 7, 10, 11],
        );
        expect(
            slice(
                &[2, 3, 4],
                &[3, -1, 0],
                &[0, -3, 2],
                Some(&[-1, 1, 0]),
                Some(&[-2, -1, 1]),
            ),
            &[2, 2, 2],
            &[11, 9, 7, 5, 23, 21, 19, 17],
        );
        // Empty
        expect(slice(&[4], &[3], &[1], None, None), &[0], &[]);
        // Start below 0 clamps to 0 for a negative step (spec; numpy differs)
        expect(
            slice(&[3], &[-5], &[-5], Some(&[0]), Some(&[-2])),
            &[1],
            &[0],
        );
    }

    #[test]
    fn gather_matches_onnxruntime() {
        // Spec example
        expect(
            gather(&[3, 2], &[0, 1, 1, 2], &[2, 2], 0),
            &[2, 2, 2],
            &[0, 1, 2, 3, 2, 3, 4, 5],
        );
        // Negative axis and index
        expect(gather(&[2, 3], &[-1, 0], &[2], -1), &[2, 2], &[2, 0, 5, 3]);
        // Scalar index drops the axis
        expect(gather(&[2, 3, 2], &[-1], &[], 1), &[2, 2], &[4, 5, 10, 11]);
        expect(
            gather(&[3, 2], &[2, -3, 1, 0, 2, 1, 0, 0], &[2, 2, 2], 0),
            &[2, 2, 2, 2],
            &[4, 5, 0, 1, 2, 3, 0, 1, 4, 5, 2, 3, 0, 1, 0, 1],
        );
        // No indices
        expect(gather(&[2, 2], &[], &[0], 1), &[2, 0], &[]);
    }

    #[test]
    fn gather_elements_matches_onnxruntime() {
        // Spec example 1
        expect(
            gather_elements(&[2, 2], &[0, 0, 1, 0], &[2, 2], 1),
            &[2, 2],
            &[0, 0, 3, 2],
        );
        // Spec example 2
        expect(
            gather_elements(&[3, 3], &[1, 2, 0, 2, 0, 0], &[2, 3], 0),
            &[2, 3],
            &[3, 7, 2, 6, 1, 2],
        );
        // Negative axis and indices; indices narrower than data
        expect(
            gather_elements(&[2, 3], &[-1, 0, -3, 1], &[2, 2], -1),
            &[2, 2],
            &[2, 0, 3, 4],
        );
        expect(
            gather_elements(
                &[2, 2, 3],
                &[1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0],
                &[2, 2, 3],
                1,
            ),
            &[2, 2, 3],
            &[3, 1, 5, 0, 1, 5, 9, 10, 8, 9, 7, 8],
        );
    }

    #[test]
    fn gather_nd_matches_onnxruntime() {
        // Spec example 1
        expect(gather_nd(&[2, 2], &[0, 0, 1, 1], &[2, 2], 0), &[2], &[0, 3]);
        // Spec example 2
        expect(
            gather_nd(&[2, 2], &[1, 0], &[2, 1], 0),
            &[2, 2],
            &[2, 3, 0, 1],
        );
        // Spec example 3
        expect(
            gather_nd(&[2, 2, 2], &[0, 1, 1, 0], &[2, 2], 0),
            &[2, 2],
            &[2, 3, 4, 5],
        );
        // Spec example 4
        expect(
            gather_nd(&[2, 2, 2], &[0, 1, 1, 0], &[2, 1, 2], 0),
            &[2, 1, 2],
            &[2, 3, 4, 5],
        );
        // Spec example 5
        expect(
            gather_nd(&[2, 2, 2], &[1, 0], &[2, 1], 1),
            &[2, 2],
            &[2, 3, 4, 5],
        );
        // Negative indices, full tuples
        expect(
            gather_nd(&[2, 3, 4], &[-1, 2, 0, -2, 1, -3], &[2, 1, 3], 0),
            &[2, 1],
            &[20, 5],
        );
        // Batch_dims 1 with more index dims
        expect(
            gather_nd(&[2, 3, 2, 2], &[2, -1, 0, 1, -2, 0], &[2, 3, 1], 1),
            &[2, 3, 2, 2],
            &[
                8, 9, 10, 11, 8, 9, 10, 11, 0, 1, 2, 3, 16, 17, 18, 19, 16, 17, 18, 19, 12, 13, 14,
                15,
            ],
        );
    }

    #[test]
    fn pad_matches_onnxruntime() {
        // Spec example 1
        expect(
            pad(&[3, 2], &[0, 2, 0, 0], None, "constant"),
            &[3, 4],
            &[-1, -1, 0, 1, -1, -1, 2, 3, -1, -1, 4, 5],
        );
        // Spec example 2; numpy.pad (onnxruntime reads out of bounds)
        expect(
            pad(&[3, 2], &[0, 2, 0, 0], None, "reflect"),
            &[3, 4],
            &[0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5],
        );
        // Spec example 3
        expect(
            pad(&[3, 2], &[0, 2, 0, 0], None, "edge"),
            &[3, 4],
            &[0, 0, 0, 1, 2, 2, 2, 3, 4, 4, 4, 5],
        );
        // Spec example 4
        expect(
            pad(&[3, 2], &[2, 1, 1, 1], None, "wrap"),
            &[6, 4],
            &[
                3, 2, 3, 2, 5, 4, 5, 4, 1, 0, 1, 0, 3, 2, 3, 2, 5, 4, 5, 4, 1, 0, 1, 0,
            ],
        );
        // Crop first, then reflect the cropped data
        expect(pad(&[5], &[2, -2], None, "reflect"), &[5], &[2, 1, 0, 1, 2]);
        expect(
            pad(&[5], &[-1, 3], None, "reflect"),
            &[7],
            &[1, 2, 3, 4, 3, 2, 1],
        );
        expect(pad(&[5], &[-2, 2], None, "edge"), &[5], &[2, 3, 4, 4, 4]);
        expect(pad(&[5], &[-2, 3], None, "wrap"), &[6], &[2, 3, 4, 2, 3, 4]);
        expect(
            pad(&[5], &[3, -1], None, "wrap"),
            &[7],
            &[1, 2, 3, 0, 1, 2, 3],
        );
        expect(
            pad(&[3, 3], &[-1, 1, 1, -1], None, "constant"),
            &[3, 3],
            &[-1, 3, 4, -1, 6, 7, -1, -1, -1],
        );
        // Axes (negative allowed)
        expect(
            pad(&[2, 3, 2], &[1, -1, 2, 0], Some(&[-2, 0]), "edge"),
            &[1, 6, 2],
            &[6, 7, 6, 7, 8, 9, 10, 11, 10, 11, 10, 11],
        );
        expect(
            pad(&[2, 3], &[1, 1], Some(&[-1]), "reflect"),
            &[2, 5],
            &[1, 0, 1, 2, 1, 4, 3, 4, 5, 4],
        );
        // Wrap pad equal to the length
        expect(
            pad(&[3], &[3, 3], None, "wrap"),
            &[9],
            &[0, 1, 2, 0, 1, 2, 0, 1, 2],
        );
        // Pads wider than the axis repeat; numpy.pad (onnxruntime reads out of bounds)
        expect(
            pad(&[3], &[4, 5], None, "reflect"),
            &[12],
            &[0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1],
        );
        // numpy.pad (onnxruntime reads out of bounds)
        expect(
            pad(&[3], &[7, 2], None, "wrap"),
            &[12],
            &[2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1],
        );
        // A length-1 axis reflects to itself; numpy.pad (onnxruntime reads out of bounds)
        expect(
            pad(&[1, 2], &[0, 2, 1, 1], None, "reflect"),
            &[2, 5],
            &[0, 1, 0, 1, 0, 0, 1, 0, 1, 0],
        );
        // Cropped to nothing, then padded; numpy.pad (onnxruntime reads out of bounds)
        expect(pad(&[3], &[-3, 2], None, "constant"), &[2], &[-1, -1]);
    }

    #[test]
    fn tile_matches_onnxruntime() {
        expect(
            tile(&[2, 3], &[2, 1]),
            &[4, 3],
            &[0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5],
        );
        expect(
            tile(&[2, 1, 2], &[1, 3, 2]),
            &[2, 3, 4],
            &[
                0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3,
            ],
        );
        // Zero repeats
        expect(tile(&[2], &[0]), &[0], &[]);
    }

    #[test]
    fn expand_matches_onnxruntime() {
        expect(
            expand(&[3, 1], &[2, 1, 6]),
            &[2, 3, 6],
            &[
                0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
                1, 1, 2, 2, 2, 2, 2, 2,
            ],
        );
        expect(expand(&[2, 3], &[1]), &[2, 3], &[0, 1, 2, 3, 4, 5]);
        // Broadcast to an empty axis
        expect(expand(&[1, 2], &[0, 1]), &[0, 2], &[]);
        // Scalar
        expect(expand(&[], &[2, 2]), &[2, 2], &[0, 0, 0, 0]);
    }

    #[test]
    fn transpose_matches_onnxruntime() {
        // Default reverses
        expect(
            transpose(&[2, 3, 4], None),
            &[4, 3, 2],
            &[
                0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11,
                23,
            ],
        );
        expect(
            transpose(&[2, 3, 4], Some(&[1, 0, 2])),
            &[3, 2, 4],
            &[
                0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22,
                23,
            ],
        );
        expect(
            transpose(&[2, 1, 3, 2], Some(&[3, 0, 2, 1])),
            &[2, 2, 3, 1],
            &[0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11],
        );
    }

    #[test]
    fn depth_to_space_matches_onnxruntime() {
        // Spec DCR example
        expect(
            depth_to_space(&[1, 8, 2, 3], 2, "DCR"),
            &[1, 2, 4, 6],
            &[
                0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4, 16, 5, 17, 27, 39, 28, 40,
                29, 41, 6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22, 11, 23, 33, 45,
                34, 46, 35, 47,
            ],
        );
        // Spec CRD example
        expect(
            depth_to_space(&[1, 8, 2, 3], 2, "CRD"),
            &[1, 2, 4, 6],
            &[
                0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17,
                23, 24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45,
                40, 46, 41, 47,
            ],
        );
        expect(
            depth_to_space(&[1, 18, 1, 2], 3, "DCR"),
            &[1, 2, 3, 6],
            &[
                0, 4, 8, 1, 5, 9, 12, 16, 20, 13, 17, 21, 24, 28, 32, 25, 29, 33, 2, 6, 10, 3, 7,
                11, 14, 18, 22, 15, 19, 23, 26, 30, 34, 27, 31, 35,
            ],
        );
        expect(
            depth_to_space(&[1, 18, 1, 2], 3, "CRD"),
            &[1, 2, 3, 6],
            &[
                0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11, 12, 14, 16, 13, 15, 17, 18, 20, 22, 19, 21,
                23, 24, 26, 28, 25, 27, 29, 30, 32, 34, 31, 33, 35,
            ],
        );
    }

    #[test]
    fn space_to_depth_matches_onnxruntime() {
        expect(
            space_to_depth(&[1, 2, 4, 6], 2),
            &[1, 8, 2, 3],
            &[
                0, 2, 4, 12, 14, 16, 24, 26, 28, 36, 38, 40, 1, 3, 5, 13, 15, 17, 25, 27, 29, 37,
                39, 41, 6, 8, 10, 18, 20, 22, 30, 32, 34, 42, 44, 46, 7, 9, 11, 19, 21, 23, 31, 33,
                35, 43, 45, 47,
            ],
        );
        expect(
            space_to_depth(&[2, 1, 3, 3], 3),
            &[2, 9, 1, 1],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
        );
    }

    #[test]
    fn trilu_matches_onnxruntime() {
        expect(
            trilu(&[3, 4], 0, true),
            &[3, 4],
            &[0, 1, 2, 3, -1, 5, 6, 7, -1, -1, 10, 11],
        );
        expect(
            trilu(&[3, 4], 0, false),
            &[3, 4],
            &[0, -1, -1, -1, 4, 5, -1, -1, 8, 9, 10, -1],
        );
        expect(
            trilu(&[3, 4], 1, true),
            &[3, 4],
            &[-1, 1, 2, 3, -1, -1, 6, 7, -1, -1, -1, 11],
        );
        expect(
            trilu(&[3, 4], 1, false),
            &[3, 4],
            &[0, 1, -1, -1, 4, 5, 6, -1, 8, 9, 10, 11],
        );
        expect(
            trilu(&[3, 4], -1, true),
            &[3, 4],
            &[0, 1, 2, 3, 4, 5, 6, 7, -1, 9, 10, 11],
        );
        expect(
            trilu(&[3, 4], -1, false),
            &[3, 4],
            &[-1, -1, -1, -1, 4, -1, -1, -1, 8, 9, -1, -1],
        );
        expect(
            trilu(&[3, 4], 5, true),
            &[3, 4],
            &[-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1],
        );
        expect(
            trilu(&[3, 4], 5, false),
            &[3, 4],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        );
        expect(
            trilu(&[3, 4], -5, true),
            &[3, 4],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        );
        expect(
            trilu(&[3, 4], -5, false),
            &[3, 4],
            &[-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1],
        );
        // Batched, non-square, more rows than columns
        expect(
            trilu(&[2, 4, 3], -1, true),
            &[2, 4, 3],
            &[
                0, 1, 2, 3, 4, 5, -1, 7, 8, -1, -1, 11, 12, 13, 14, 15, 16, 17, -1, 19, 20, -1, -1,
                23,
            ],
        );
        expect(
            trilu(&[2, 4, 3], 2, false),
            &[2, 4, 3],
            &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                23,
            ],
        );
        expect(
            trilu(&[2, 1, 3, 2], 1, true),
            &[2, 1, 3, 2],
            &[-1, 1, -1, -1, -1, -1, -1, 7, -1, -1, -1, -1],
        );
        expect(
            trilu(&[3, 3], i64::MAX, false),
            &[3, 3],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        );
    }

    #[test]
    fn resize_matches_onnxruntime() {
        // Every coordinate mode with every nearest mode: [2, 5] scaled by [1, 0.7] (3.5 columns,
        // Truncated to 3, where half_pixel_symmetric recentres) ...
        let scaled: &[(&str, &str, [i64; 6])] = &[
            ("half_pixel", "round_prefer_floor", [0, 2, 3, 5, 7, 8]),
            ("half_pixel", "round_prefer_ceil", [0, 2, 3, 5, 7, 8]),
            ("half_pixel", "floor", [0, 1, 3, 5, 6, 8]),
            ("half_pixel", "ceil", [1, 2, 4, 6, 7, 9]),
            (
                "half_pixel_symmetric",
                "round_prefer_floor",
                [1, 2, 3, 6, 7, 8],
            ),
            (
                "half_pixel_symmetric",
                "round_prefer_ceil",
                [1, 2, 3, 6, 7, 8],
            ),
            ("half_pixel_symmetric", "floor", [0, 2, 3, 5, 7, 8]),
            ("half_pixel_symmetric", "ceil", [1, 2, 4, 6, 7, 9]),
            (
                "pytorch_half_pixel",
                "round_prefer_floor",
                [0, 2, 3, 5, 7, 8],
            ),
            (
                "pytorch_half_pixel",
                "round_prefer_ceil",
                [0, 2, 3, 5, 7, 8],
            ),
            ("pytorch_half_pixel", "floor", [0, 1, 3, 5, 6, 8]),
            ("pytorch_half_pixel", "ceil", [1, 2, 4, 6, 7, 9]),
            ("align_corners", "round_prefer_floor", [0, 2, 4, 5, 7, 9]),
            ("align_corners", "round_prefer_ceil", [0, 2, 4, 5, 7, 9]),
            ("align_corners", "floor", [0, 2, 4, 5, 7, 9]),
            ("align_corners", "ceil", [0, 2, 4, 5, 7, 9]),
            ("asymmetric", "round_prefer_floor", [0, 1, 3, 5, 6, 8]),
            ("asymmetric", "round_prefer_ceil", [0, 1, 3, 5, 6, 8]),
            ("asymmetric", "floor", [0, 1, 2, 5, 6, 7]),
            ("asymmetric", "ceil", [0, 2, 3, 5, 7, 8]),
        ];
        for &(ctm, nearest, want) in scaled {
            let map = resize_nearest(
                &[2, 5],
                Some(&[1.0, 0.7f32.into()]),
                None,
                ctm,
                nearest,
                None,
                "stretch",
            );
            expect(map, &[2, 3], &want);
        }
        // ... and resized to sizes [3, 8] with both roundings to nearest.
        let sized: &[(&str, &str, [i64; 24])] = &[
            (
                "half_pixel",
                "round_prefer_floor",
                [
                    0, 0, 1, 2, 2, 3, 4, 4, 0, 0, 1, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 9, 9,
                ],
            ),
            (
                "half_pixel",
                "round_prefer_ceil",
                [
                    0, 0, 1, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 9, 9, 5, 5, 6, 7, 7, 8, 9, 9,
                ],
            ),
            (
                "half_pixel_symmetric",
                "round_prefer_floor",
                [
                    0, 0, 1, 2, 2, 3, 4, 4, 0, 0, 1, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 9, 9,
                ],
            ),
            (
                "half_pixel_symmetric",
                "round_prefer_ceil",
                [
                    0, 0, 1, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 9, 9, 5, 5, 6, 7, 7, 8, 9, 9,
                ],
            ),
            (
                "pytorch_half_pixel",
                "round_prefer_floor",
                [
                    0, 0, 1, 2, 2, 3, 4, 4, 0, 0, 1, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 9, 9,
                ],
            ),
            (
                "pytorch_half_pixel",
                "round_prefer_ceil",
                [
                    0, 0, 1, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 9, 9, 5, 5, 6, 7, 7, 8, 9, 9,
                ],
            ),
            (
                "align_corners",
                "round_prefer_floor",
                [
                    0, 1, 1, 2, 2, 3, 3, 4, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 6, 7, 7, 8, 8, 9,
                ],
            ),
            (
                "align_corners",
                "round_prefer_ceil",
                [
                    0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 6, 7, 7, 8, 8, 9, 5, 6, 6, 7, 7, 8, 8, 9,
                ],
            ),
            (
                "asymmetric",
                "round_prefer_floor",
                [
                    0, 1, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 7, 8, 9, 9, 5, 6, 6, 7, 7, 8, 9, 9,
                ],
            ),
            (
                "asymmetric",
                "round_prefer_ceil",
                [
                    0, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 9, 5, 6, 6, 7, 8, 8, 9, 9,
                ],
            ),
        ];
        for &(ctm, nearest, want) in sized {
            let map = resize_nearest(&[2, 5], None, Some(&[3, 8]), ctm, nearest, None, "stretch");
            expect(map, &[3, 8], &want);
        }
        // Per coordinate mode: [4] → [1], and [3, 2] scaled by [0.5, 2].
        let small: &[(&str, i64, [i64; 4])] = &[
            ("half_pixel", 1, [0, 0, 1, 1]),
            ("half_pixel_symmetric", 1, [2, 2, 3, 3]),
            ("pytorch_half_pixel", 0, [0, 0, 1, 1]),
            ("align_corners", 0, [0, 0, 1, 1]),
            ("asymmetric", 0, [0, 0, 1, 1]),
        ];
        for &(ctm, one, mixed) in small {
            let floor = "round_prefer_floor";
            expect(
                resize_nearest(&[4], None, Some(&[1]), ctm, floor, None, "stretch"),
                &[1],
                &[one],
            );
            let map = resize_nearest(
                &[3, 2],
                Some(&[0.5, 2.0]),
                None,
                ctm,
                floor,
                None,
                "stretch",
            );
            expect(map, &[1, 4], &mixed);
        }
        // An exact tie at 1.5: round_prefer_floor vs round_prefer_ceil
        expect(
            resize_nearest(
                &[3],
                None,
                Some(&[10]),
                "asymmetric",
                "round_prefer_floor",
                None,
                "stretch",
            ),
            &[10],
            &[0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
        );
        expect(
            resize_nearest(
                &[3],
                None,
                Some(&[10]),
                "asymmetric",
                "round_prefer_ceil",
                None,
                "stretch",
            ),
            &[10],
            &[0, 0, 1, 1, 1, 2, 2, 2, 2, 2],
        );
        // Downsampling lands on ties 2j + 0.5
        expect(
            resize_nearest(
                &[10],
                Some(&[0.5]),
                None,
                "half_pixel",
                "round_prefer_floor",
                None,
                "stretch",
            ),
            &[5],
            &[0, 2, 4, 6, 8],
        );
        expect(
            resize_nearest(
                &[10],
                Some(&[0.5]),
                None,
                "half_pixel",
                "round_prefer_ceil",
                None,
                "stretch",
            ),
            &[5],
            &[1, 3, 5, 7, 9],
        );
        // Aspect-ratio policies on a subset of axes
        expect(
            resize_nearest(
                &[2, 3, 4],
                None,
                Some(&[6, 6]),
                "half_pixel",
                "round_prefer_floor",
                Some(&[1, 2]),
                "not_larger",
            ),
            &[2, 5, 6],
            &[
                0, 0, 1, 2, 2, 3, 0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 10, 10, 11, 8, 8, 9,
                10, 10, 11, 12, 12, 13, 14, 14, 15, 12, 12, 13, 14, 14, 15, 16, 16, 17, 18, 18, 19,
                20, 20, 21, 22, 22, 23, 20, 20, 21, 22, 22, 23,
            ],
        );
        expect(
            resize_nearest(
                &[2, 3, 4],
                None,
                Some(&[6, 6]),
                "half_pixel",
                "round_prefer_floor",
                Some(&[1, 2]),
                "not_smaller",
            ),
            &[2, 6, 8],
            &[
                0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 4, 4, 5, 5,
                6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
                14, 14, 15, 15, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 16,
                16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 20, 20, 21, 21, 22, 22,
                23, 23,
            ],
        );
        expect(
            resize_nearest(
                &[2, 3, 4],
                Some(&[2.0]),
                None,
                "asymmetric",
                "floor",
                Some(&[2]),
                "stretch",
            ),
            &[2, 3, 8],
            &[
                0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
                13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23,
                23,
            ],
        );
        // PyTorch nearest export
        expect(
            resize_nearest(
                &[1, 1, 2, 2],
                Some(&[1.0, 1.0, 2.0, 3.0]),
                None,
                "asymmetric",
                "floor",
                None,
                "stretch",
            ),
            &[1, 1, 4, 6],
            &[
                0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 2, 2, 2, 3, 3, 3,
            ],
        );
        // tf_half_pixel_for_nn exists in opset 11 only
        expect(
            resize_nearest(
                &[2, 3],
                Some(&[1.5, 2.5]),
                None,
                "tf_half_pixel_for_nn",
                "round_prefer_ceil",
                None,
                "stretch",
            ),
            &[3, 7],
            &[
                0, 1, 1, 1, 2, 2, 2, 3, 4, 4, 4, 5, 5, 5, 3, 4, 4, 4, 5, 5, 5,
            ],
        );
        // Resize-10 downsampling rounds up
        expect(resize10_nearest(&[10], &[0.3]), &[3], &[0, 4, 7]);
        // Resize-10 upsampling truncates
        expect(
            resize10_nearest(&[2, 4], &[1.0, 2.5]),
            &[2, 10],
            &[0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7],
        );
        // Upsample spec example (rank 3)
        expect(
            upsample_nearest(&[1, 2, 2], &[1.0, 2.0, 3.0]),
            &[1, 4, 6],
            &[
                0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 2, 2, 2, 3, 3, 3,
            ],
        );
        expect(
            upsample_nearest(&[4], &[2.5]),
            &[10],
            &[0, 0, 0, 1, 1, 2, 2, 2, 3, 3],
        );
    }

    #[test]
    fn split_matches_onnxruntime() {
        expect_all(
            split(&[5], 0, Some(&[2, 3]), None),
            &[(&[2], &[0, 1]), (&[3], &[2, 3, 4])],
        );
        // Empty part
        expect_all(
            split(&[2, 6], -1, Some(&[1, 0, 5]), None),
            &[
                (&[2, 1], &[0, 6]),
                (&[2, 0], &[]),
                (&[2, 5], &[1, 2, 3, 4, 5, 7, 8, 9, 10, 11]),
            ],
        );
        // Uneven: ceil(7/3) = 3, last part 1
        expect_all(
            split(&[7], 0, None, Some(3)),
            &[(&[3], &[0, 1, 2]), (&[3], &[3, 4, 5]), (&[1], &[6])],
        );
        expect_all(
            split(&[2, 6], -1, None, Some(2)),
            &[
                (&[2, 3], &[0, 1, 2, 6, 7, 8]),
                (&[2, 3], &[3, 4, 5, 9, 10, 11]),
            ],
        );
        expect_all(
            split(&[4, 2], 0, None, Some(1)),
            &[(&[4, 2], &[0, 1, 2, 3, 4, 5, 6, 7])],
        );
    }

    #[test]
    fn concat_matches_onnxruntime() {
        expect_concat(
            concat(&[vec![2, 1], vec![2, 3]], -1),
            &[2, 4],
            &[0, 2, 3, 4, 1, 5, 6, 7],
        );
        // An empty input contributes nothing
        expect_concat(
            concat(&[vec![1, 2], vec![2, 2], vec![0, 2]], 0),
            &[3, 2],
            &[0, 1, 2, 3, 4, 5],
        );
        expect_concat(
            concat(&[vec![2, 2, 1], vec![2, 2, 2]], 2),
            &[2, 2, 3],
            &[0, 4, 5, 1, 6, 7, 2, 8, 9, 3, 10, 11],
        );
    }
    #[test]
    fn hand_checked() {
        // Every second element of [0..5] backwards.
        expect(
            slice(&[5], &[-1], &[i64::MIN], None, Some(&[-2])),
            &[3],
            &[4, 2, 0],
        );
        // Rows 2 and -3 (= 0) of a 3×2 matrix.
        expect(gather(&[3, 2], &[2, -3], &[2], 0), &[2, 2], &[4, 5, 0, 1]);
        // [a b c] reflected by 2 in front: c b a b c.
        expect(pad(&[3], &[2, 0], None, "reflect"), &[5], &[2, 1, 0, 1, 2]);
        expect(transpose(&[2, 3], None), &[3, 2], &[0, 3, 1, 4, 2, 5]);
        expect(expand(&[2], &[2, 1]), &[2, 2], &[0, 1, 0, 1]);
        expect(tile(&[2], &[3]), &[6], &[0, 1, 0, 1, 0, 1]);
        // Channels c0..c7 into 2×2 blocks: DCR reads (i·2 + j)·2 + c, CRD c·4 + i·2 + j.
        expect(
            depth_to_space(&[1, 8, 1, 1], 2, "DCR"),
            &[1, 2, 2, 2],
            &[0, 2, 4, 6, 1, 3, 5, 7],
        );
        expect(
            depth_to_space(&[1, 8, 1, 1], 2, "CRD"),
            &[1, 2, 2, 2],
            &[0, 1, 2, 3, 4, 5, 6, 7],
        );
        // ... and SpaceToDepth undoes DCR.
        expect(
            space_to_depth(&[1, 2, 2, 2], 2),
            &[1, 8, 1, 1],
            &[0, 4, 1, 5, 2, 6, 3, 7],
        );
        // Nearest 2× upsampling the PyTorch way (asymmetric, floor): a a b b.
        let up = resize_nearest(
            &[2],
            Some(&[2.0]),
            None,
            "asymmetric",
            "floor",
            None,
            "stretch",
        );
        expect(up, &[4], &[0, 0, 1, 1]);
        // 4 → 2 with half_pixel: x = 2j + 0.5, exact ties broken by the nearest mode.
        let half = |mode| {
            resize_nearest(
                &[4],
                Some(&[0.5]),
                None,
                "half_pixel",
                mode,
                None,
                "stretch",
            )
        };
        expect(half("round_prefer_floor"), &[2], &[0, 2]);
        expect(half("round_prefer_ceil"), &[2], &[1, 3]);
        // 3 → 2 with half_pixel: x = (j + 0.5)·1.5 - 0.5 = 0.25, 1.75.
        let sizes = resize_nearest(
            &[3],
            None,
            Some(&[2]),
            "half_pixel",
            "round_prefer_floor",
            None,
            "stretch",
        );
        expect(sizes, &[2], &[0, 2]);
        // Upper triangle of a 2×3 matrix above the main diagonal, and the lower one below it.
        expect(trilu(&[2, 3], 1, true), &[2, 3], &[-1, 1, 2, -1, -1, 5]);
        expect(trilu(&[2, 3], -1, false), &[2, 3], &[-1, -1, -1, 3, -1, -1]);
        expect_all(
            split(&[2, 3], -1, Some(&[1, 2]), None),
            &[(&[2, 1], &[0, 3]), (&[2, 2], &[1, 2, 4, 5])],
        );
        let (shape, maps) = concat(&[vec![1, 2], vec![1, 1]], 1).unwrap();
        assert_eq!(shape, [1, 3]);
        assert_eq!(sources(&maps[0]), [0, 1, -1]);
        assert_eq!(sources(&maps[1]), [-1, -1, 0]);
    }

    #[test]
    fn apply_copies_and_fills() {
        let map = pad(&[2], &[1, 1], None, "constant").unwrap();
        assert_eq!(apply(&map, &[7, 8], 0), [0, 7, 8, 0]);
        let map = gather(&[3], &[2, 2, 0], &[3], 0).unwrap();
        assert_eq!(apply(&map, &['a', 'b', 'c'], ' '), ['c', 'c', 'a']);
    }

    #[test]
    fn negative_and_positive_axes_agree() {
        let resize = |axes: &[i64]| {
            resize_nearest(
                &[2, 3, 4],
                Some(&[2.0, 0.5]),
                None,
                "asymmetric",
                "floor",
                Some(axes),
                "stretch",
            )
        };
        assert_eq!(resize(&[-2, -1]).unwrap(), resize(&[1, 2]).unwrap());
        assert_eq!(
            slice(&[3, 4], &[1], &[3], Some(&[-1]), None).unwrap(),
            slice(&[3, 4], &[1], &[3], Some(&[1]), None).unwrap()
        );
        assert_eq!(
            split(&[2, 4], -1, None, Some(2)).unwrap(),
            split(&[2, 4], 1, None, Some(2)).unwrap()
        );
    }

    #[test]
    fn resize_forms() {
        // An empty `scales` is ONNX's "absent": the sizes decide.
        let sizes = resize_nearest(
            &[2],
            Some(&[]),
            Some(&[4]),
            "asymmetric",
            "floor",
            None,
            "stretch",
        );
        expect(sizes, &[4], &[0, 0, 1, 1]);
        // Axes outside `axes` (and at scale 1) are copied: tf_half_pixel_for_nn would map column
        // j to ceil(j + 0.5), i.e. [1, 1] after clamping. Rows: ceil((i + 0.5) / 2) = 1, clamped.
        let partial = resize_nearest(
            &[2, 2],
            Some(&[2.0]),
            None,
            "tf_half_pixel_for_nn",
            "ceil",
            Some(&[0]),
            "stretch",
        );
        expect(partial, &[4, 2], &[2, 3, 2, 3, 2, 3, 2, 3]);
        assert!(check_resize_mode("nearest").is_ok());
    }

    #[test]
    fn invalid_arguments_are_refused() {
        refuses(slice(&[4], &[0], &[4], None, Some(&[0])), "step 0");
        refuses(
            slice(&[4, 4], &[0, 0], &[1, 1], Some(&[1, -1]), None),
            "repeated",
        );
        refuses(slice(&[4], &[0], &[1], Some(&[1]), None), "out of range");
        refuses(slice(&[4], &[0, 0], &[1], None, None), "differ in length");
        refuses(slice(&[4], &[0, 0], &[1, 1], None, None), "rank-1");
        refuses(gather(&[3], &[3], &[1], 0), "out of range");
        refuses(gather(&[3], &[-4], &[1], 0), "out of range");
        refuses(gather(&[3], &[0, 1], &[3], 0), "indices shape");
        refuses(gather(&[], &[0], &[], 0), "axis");
        refuses(gather_elements(&[2, 2], &[0; 6], &[3, 2], 1), "exceeds");
        refuses(gather_elements(&[2, 2], &[0, 0], &[2], 0), "rank");
        refuses(
            gather_elements(&[2, 2], &[0, 2], &[1, 2], 1),
            "out of range",
        );
        refuses(gather_nd(&[2, 2], &[0, 0, 0], &[1, 3], 0), "tuples");
        refuses(gather_nd(&[2, 2], &[0, 0], &[2, 1], 2), "batch_dims");
        refuses(
            gather_nd(&[2, 2], &[0, 0, 0], &[3, 1], 1),
            "batch dimensions",
        );
        refuses(gather_nd(&[2, 2], &[0, -3], &[1, 2], 0), "out of range");
        refuses(gather_nd(&[2, 2], &[0], &[], 0), "rank");
        refuses(pad(&[3], &[1], None, "constant"), "odd");
        refuses(pad(&[3], &[0, 0], None, "mirror"), "unknown mode");
        refuses(pad(&[3], &[-2, -2], None, "constant"), "crop more");
        refuses(pad(&[3], &[-3, 1], None, "edge"), "nothing to copy");
        refuses(pad(&[2, 2], &[1, 1], None, "constant"), "for rank");
        refuses(
            pad(&[2, 2], &[1, 1, 1, 1], Some(&[0, -2]), "constant"),
            "repeated",
        );
        refuses(tile(&[2], &[-1]), "non-negative");
        refuses(tile(&[2], &[1, 1]), "repeats");
        refuses(expand(&[2, 3], &[4, 3]), "broadcast");
        refuses(expand(&[2], &[-1]), "non-negative");
        refuses(transpose(&[2, 3], Some(&[0, 0])), "permutation");
        refuses(transpose(&[2, 3], Some(&[0, 2])), "permutation");
        refuses(transpose(&[2, 3], Some(&[0])), "permutation");
        refuses(depth_to_space(&[1, 6, 1, 1], 2, "DCR"), "multiple");
        refuses(depth_to_space(&[1, 4, 1, 1], 2, "RCD"), "unknown mode");
        refuses(depth_to_space(&[4, 1, 1], 1, "DCR"), "rank 4");
        refuses(depth_to_space(&[1, 4, 1, 1], 0, "DCR"), "positive");
        refuses(space_to_depth(&[1, 1, 3, 4], 2), "multiple");
        refuses(space_to_depth(&[1, 1, 2, 2], -2), "positive");
        refuses(trilu(&[3], 0, true), "rank");
        refuses(check_resize_mode("linear"), "weighted sums");
        refuses(check_resize_mode("cubic"), "weighted sums");
        refuses(check_resize_mode("bilinear"), "unknown mode");
        let resize = |scales: Option<&[f64]>, sizes: Option<&[usize]>, ctm, nearest, policy| {
            resize_nearest(&[2, 2], scales, sizes, ctm, nearest, None, policy)
        };
        let two: &[f64] = &[2.0, 2.0];
        refuses(
            resize(Some(two), None, "tf_crop_and_resize", "floor", "stretch"),
            "roi",
        );
        refuses(
            resize(Some(two), None, "center", "floor", "stretch"),
            "coordinate_transformation_mode",
        );
        refuses(
            resize(Some(two), None, "asymmetric", "nearest", "stretch"),
            "nearest_mode",
        );
        refuses(
            resize(Some(two), None, "asymmetric", "floor", "fit"),
            "keep_aspect_ratio_policy",
        );
        refuses(
            resize(Some(two), Some(&[4, 4]), "asymmetric", "floor", "stretch"),
            "both",
        );
        refuses(
            resize(None, None, "asymmetric", "floor", "stretch"),
            "neither",
        );
        refuses(
            resize(Some(&[2.0]), None, "asymmetric", "floor", "stretch"),
            "for rank",
        );
        refuses(
            resize(Some(&[0.0, 1.0]), None, "asymmetric", "floor", "stretch"),
            "positive",
        );
        refuses(
            resize(None, Some(&[0, 2]), "asymmetric", "floor", "stretch"),
            "size 0",
        );
        refuses(
            resize_nearest(
                &[0, 2],
                None,
                Some(&[1, 2]),
                "asymmetric",
                "floor",
                None,
                "stretch",
            ),
            "empty axis",
        );
        refuses(upsample_nearest(&[2], &[0.5]), ">= 1");
        refuses(resize10_nearest(&[2], &[1.0, 1.0]), "for rank");
        refuses(split(&[5], 0, Some(&[2, 2]), None), "sum");
        refuses(split(&[5], 0, Some(&[5]), Some(1)), "both");
        refuses(split(&[5], 0, None, None), "neither");
        refuses(split(&[5], 0, None, Some(4)), "cannot be split");
        refuses(split(&[5], 0, None, Some(0)), "out of range");
        refuses(split(&[5], 1, None, Some(1)), "axis");
        refuses(concat(&[], 0), "no inputs");
        refuses(concat(&[vec![2, 2], vec![2]], 0), "differ");
        refuses(concat(&[vec![2, 2], vec![3, 3]], 0), "differ");
        refuses(concat(&[vec![2, 2]], 2), "axis");
    }

    #[test]
    fn extreme_arguments_are_errors_not_panics() {
        let big = usize::MAX;
        refuses(
            slice(&[big, 2], &[0], &[1], None, None),
            "too many elements",
        );
        refuses(tile(&[1 << 14, 1 << 14], &[2, 1]), "2^28");
        refuses(tile(&[2], &[i64::MAX]), "2^28");
        refuses(tile(&[4], &[i64::MAX]), "too long");
        refuses(pad(&[2], &[i64::MAX, i64::MAX], None, "edge"), "too long");
        refuses(
            pad(&[2], &[i64::MIN, i64::MAX], None, "constant"),
            "crop more",
        );
        refuses(gather(&[2], &[i64::MIN], &[1], 0), "out of range");
        refuses(gather(&[2], &[0], &[1], i64::MIN), "axis");
        refuses(gather(&[2], &[0], &[big, big], 0), "indices shape");
        refuses(gather_nd(&[2], &[0], &[1], i64::MAX), "batch_dims");
        refuses(expand(&[1], &[i64::MAX]), "2^28");
        refuses(depth_to_space(&[1, 4, 1, 1], i64::MAX, "DCR"), "multiple");
        refuses(depth_to_space(&[1, 0, big, 2], 2, "DCR"), "too large");
        refuses(space_to_depth(&[0, big / 2, 2, 2], 2), "too large");
        let resize = |scales: Option<&[f64]>, sizes: Option<&[usize]>, policy| {
            resize_nearest(
                &[2],
                scales,
                sizes,
                "half_pixel",
                "round_prefer_floor",
                None,
                policy,
            )
        };
        refuses(resize(Some(&[1e30]), None, "stretch"), "too long");
        refuses(resize(Some(&[f64::NAN]), None, "stretch"), "positive");
        refuses(resize(Some(&[f64::INFINITY]), None, "stretch"), "positive");
        refuses(resize(None, Some(&[big]), "stretch"), "2^28");
        refuses(resize(None, Some(&[big]), "not_larger"), "too long");
        refuses(upsample_nearest(&[2], &[f64::NAN]), ">= 1");
        refuses(split(&[4], 0, None, Some(big)), "out of range");
        refuses(split(&[4], 0, Some(&[big, 5]), None), "sum");
        refuses(concat(&[vec![big], vec![big]], 0), "too long");
        refuses(slice(&[4], &[0], &[4], Some(&[i64::MIN]), None), "axis");
        // Extreme values that are valid: an always-true Trilu bound, clamped slice ends.
        expect(trilu(&[2, 2], i64::MIN, true), &[2, 2], &[0, 1, 2, 3]);
        // (onnxruntime keeps everything here: its diagonal arithmetic overflows.)
        expect(trilu(&[2, 2], i64::MIN, false), &[2, 2], &[-1, -1, -1, -1]);
        expect(
            slice(&[3], &[i64::MIN], &[i64::MAX], None, Some(&[i64::MAX])),
            &[1],
            &[0],
        );
        expect(
            slice(&[3], &[i64::MAX], &[i64::MIN], None, Some(&[i64::MIN])),
            &[1],
            &[2],
        );
    }

    #[test]
    fn empty_tensors() {
        // Nothing to copy: a constant pad of an empty input is all fill.
        expect(
            pad(&[0, 2], &[1, 0, 0, 0], None, "constant"),
            &[1, 2],
            &[-1, -1],
        );
        // An empty axis makes an empty output whatever the other axes hold.
        expect(
            slice(&[0, usize::MAX], &[0], &[1], Some(&[1]), None),
            &[0, 1],
            &[],
        );
        expect(gather(&[2, 0], &[1, 0], &[2], 0), &[2, 0], &[]);
        expect(tile(&[0, 3], &[5, 1]), &[0, 3], &[]);
        expect(transpose(&[], None), &[], &[0]);
        expect_all(
            split(&[0, 2], 0, None, Some(2)),
            &[(&[0, 2], &[]), (&[0, 2], &[])],
        );
    }
}

//! The prover's pass over the tables in one round: the pending fold of the
//! previous challenge fused with the round sums, block by block (see
//! `prover.rs` for the whole prover).

use rayon::prelude::*;

use crate::field::{BasedVectorSpace, PrimeCharacteristicRing, EF, F};
use crate::mle::{self, ExtScalar, PAR_THRESHOLD};

use super::{Mle, Term};

/// Factors of a term, split by the field their (current) tables live in.
pub(super) struct TermInfo {
    pub(super) base: Vec<usize>,
    pub(super) ext: Vec<usize>,
}

pub(super) fn term_infos(terms: &[Term], mles: &[Mle]) -> Vec<TermInfo> {
    terms
        .iter()
        .map(|t| {
            let (base, ext) = t
                .factors
                .iter()
                .partition(|&&k| matches!(mles[k], Mle::Base(_)));
            TermInfo { base, ext }
        })
        .collect()
}

/// Pairs per block of the inner kernel.
const BLOCK: usize = 256;

/// A table during proving (after round 0).
///
/// A base table, once folded, is kept *in its own buffer* as an extension
/// table in struct-of-arrays form: coefficient 0 at `buf[..len]`, coefficient
/// 1 at `buf[h..h + len]`. Folding `(lo, hi) ↦ lo + r·(hi − lo)` then maps
/// the positions `(x, x + h)` to themselves, so it runs in place with no
/// allocation (fresh pages cost ~1 ms/MB here) and half the memory traffic.
pub(super) enum Table {
    Ext(Vec<EF>),
    Base(Vec<F>),
    Soa { buf: Vec<F>, h: usize, len: usize },
}

/// One table's share of a chunk of pair indices.
enum View<'a> {
    /// Round 0: read-only halves of an unfolded table.
    PlainBase {
        lo: &'a [F],
        hi: &'a [F],
    },
    PlainExt {
        lo: &'a [EF],
        hi: &'a [EF],
    },
    /// Pending fold of an extension table, in place: `lo ← fold(lo, lo2)`, `hi ← fold(hi, hi2)`.
    FoldExt {
        lo: &'a mut [EF],
        hi: &'a mut [EF],
        lo2: &'a [EF],
        hi2: &'a [EF],
    },
    /// Pending fold of a base table into struct-of-arrays form, in place:
    /// `(lo, lo2) ← fold(lo, lo2)` as (coefficient 0, coefficient 1), same for `hi`.
    /// The folded block is also copied to `blo`/`bhi` for the evaluation.
    FoldBase {
        lo: &'a mut [F],
        hi: &'a mut [F],
        lo2: &'a mut [F],
        hi2: &'a mut [F],
        blo: Vec<EF>,
        bhi: Vec<EF>,
    },
    /// Pending fold of a struct-of-arrays table, in place. `c0[0..2]` / `c1[0..2]`
    /// are the (mutable) quarters 0 and 1 of each coefficient array, `c0r` / `c1r`
    /// quarters 2 and 3.
    FoldSoa {
        c0: [&'a mut [F]; 2],
        c1: [&'a mut [F]; 2],
        c0r: [&'a [F]; 2],
        c1r: [&'a [F]; 2],
        blo: Vec<EF>,
        bhi: Vec<EF>,
    },
}

/// The values of one factor on a block.
#[derive(Clone, Copy)]
enum Vals<'a> {
    B(&'a [F]),
    E(&'a [EF]),
}

impl View<'_> {
    fn fold_block(&mut self, s: usize, e: usize, r: &ExtScalar) {
        match self {
            View::FoldExt { lo, hi, lo2, hi2 } => {
                for (a, b) in lo[s..e].iter_mut().zip(&lo2[s..e]) {
                    *a = r.fold(*a, *b);
                }
                for (a, b) in hi[s..e].iter_mut().zip(&hi2[s..e]) {
                    *a = r.fold(*a, *b);
                }
            }
            View::FoldBase {
                lo,
                hi,
                lo2,
                hi2,
                blo,
                bhi,
            } => {
                for (dst, a, b) in [(blo, lo, lo2), (bhi, hi, hi2)] {
                    dst.resize(e - s, EF::ZERO);
                    for ((d, x0), x1) in dst.iter_mut().zip(&mut a[s..e]).zip(&mut b[s..e]) {
                        let v = r.fold_base(*x0, *x1);
                        let c: &[F] = v.as_basis_coefficients_slice();
                        (*x0, *x1) = (c[0], c[1]);
                        *d = v;
                    }
                }
            }
            View::FoldSoa {
                c0,
                c1,
                c0r,
                c1r,
                blo,
                bhi,
            } => {
                for (q, dst) in [blo, bhi].into_iter().enumerate() {
                    dst.resize(e - s, EF::ZERO);
                    let it = dst
                        .iter_mut()
                        .zip(c0[q][s..e].iter_mut().zip(c1[q][s..e].iter_mut()))
                        .zip(c0r[q][s..e].iter().zip(&c1r[q][s..e]));
                    for ((d, (a0, a1)), (&b0, &b1)) in it {
                        let v = r.fold(EF::new([*a0, *a1]), EF::new([b0, b1]));
                        let c: &[F] = v.as_basis_coefficients_slice();
                        (*a0, *a1) = (c[0], c[1]);
                        *d = v;
                    }
                }
            }
            View::PlainBase { .. } | View::PlainExt { .. } => {}
        }
    }

    fn lo(&self, s: usize, e: usize) -> Vals<'_> {
        match self {
            View::PlainBase { lo, .. } => Vals::B(&lo[s..e]),
            View::PlainExt { lo, .. } => Vals::E(&lo[s..e]),
            View::FoldExt { lo, .. } => Vals::E(&lo[s..e]),
            View::FoldBase { blo, .. } | View::FoldSoa { blo, .. } => Vals::E(&blo[..e - s]),
        }
    }

    fn hi(&self, s: usize, e: usize) -> Vals<'_> {
        match self {
            View::PlainBase { hi, .. } => Vals::B(&hi[s..e]),
            View::PlainExt { hi, .. } => Vals::E(&hi[s..e]),
            View::FoldExt { hi, .. } => Vals::E(&hi[s..e]),
            View::FoldBase { bhi, .. } | View::FoldSoa { bhi, .. } => Vals::E(&bhi[..e - s]),
        }
    }
}

/// Per-table extrapolation buffers (`cur = lo + t·diff`).
#[derive(Default)]
struct Scratch {
    cur_f: Vec<F>,
    diff_f: Vec<F>,
    cur_e: Vec<EF>,
    diff_e: Vec<EF>,
}

/// Equality weights of the pair indices: `w(j) = ea[j >> nb] · eb[j & mask]`.
pub(super) struct EqWeights<'a> {
    pub(super) ea: &'a [EF],
    pub(super) eb: &'a [EF],
    pub(super) nb: usize,
}

/// Chunking of `half` pair indices: (chunk length, block length, parallel?).
fn chunking(half: usize, ntables: usize, weights: Option<&EqWeights>) -> (usize, usize, bool) {
    let parallel = 2 * half * ntables.max(1) >= PAR_THRESHOLD && half >= 2 * BLOCK;
    let chunk = if parallel {
        (half / (rayon::current_num_threads() * 4))
            .next_power_of_two()
            .max(BLOCK)
            .min(half)
    } else {
        half
    };
    let mut block = BLOCK.min(chunk);
    if let Some(w) = weights {
        block = block.min(1 << w.nb);
    }
    (chunk, block, parallel)
}

/// Round sums for round 0 (no pending fold): `S[term][ti] = Σ_j w(j) · Π_k mle_k(t_i; j)`.
pub(super) fn round_pass_plain(
    mles: &[Mle],
    half: usize,
    infos: &[TermInfo],
    ts: &[usize],
    weights: Option<&EqWeights>,
) -> Vec<EF> {
    let (chunk, block, parallel) = chunking(half, mles.len(), weights);
    let nchunks = half / chunk;
    let mut per_chunk: Vec<Vec<View>> = (0..nchunks)
        .map(|_| Vec::with_capacity(mles.len()))
        .collect();
    for m in mles {
        match m {
            Mle::Base(v) => {
                let (lo, hi) = v.split_at(half);
                for ((pc, lo), hi) in per_chunk
                    .iter_mut()
                    .zip(lo.chunks(chunk))
                    .zip(hi.chunks(chunk))
                {
                    pc.push(View::PlainBase { lo, hi });
                }
            }
            Mle::Ext(v) => {
                let (lo, hi) = v.split_at(half);
                for ((pc, lo), hi) in per_chunk
                    .iter_mut()
                    .zip(lo.chunks(chunk))
                    .zip(hi.chunks(chunk))
                {
                    pc.push(View::PlainExt { lo, hi });
                }
            }
        }
    }
    run_chunks(per_chunk, chunk, block, parallel, None, infos, ts, weights)
}

/// Round sums for rounds >= 1: folds the pending challenge `r` into every
/// table (halving it, in place) fused with the round-sum computation.
pub(super) fn round_pass_fold(
    tables: &mut [Table],
    r: EF,
    half: usize,
    infos: &[TermInfo],
    ts: &[usize],
    weights: Option<&EqWeights>,
) -> Vec<EF> {
    let (chunk, block, parallel) = chunking(half, tables.len(), weights);
    let nchunks = half / chunk;
    let sums = {
        let mut per_chunk: Vec<Vec<View>> = (0..nchunks)
            .map(|_| Vec::with_capacity(tables.len()))
            .collect();
        for t in tables.iter_mut() {
            match t {
                Table::Base(v) => {
                    let (q01, q23) = v.split_at_mut(2 * half);
                    let (q0, q1) = q01.split_at_mut(half);
                    let (q2, q3) = q23.split_at_mut(half);
                    let it = q0
                        .chunks_mut(chunk)
                        .zip(q1.chunks_mut(chunk))
                        .zip(q2.chunks_mut(chunk).zip(q3.chunks_mut(chunk)));
                    for (pc, ((lo, hi), (lo2, hi2))) in per_chunk.iter_mut().zip(it) {
                        pc.push(View::FoldBase {
                            lo,
                            hi,
                            lo2,
                            hi2,
                            blo: Vec::new(),
                            bhi: Vec::new(),
                        });
                    }
                }
                Table::Soa { buf, h, len } => {
                    debug_assert_eq!(*len, 4 * half);
                    let (a, b) = buf.split_at_mut(*h);
                    let (c0w, c0r) = soa_quarters(&mut a[..4 * half], half, chunk);
                    let (c1w, c1r) = soa_quarters(&mut b[..4 * half], half, chunk);
                    let it = c0w.zip(c0r).zip(c1w.zip(c1r));
                    for (pc, (((a0, a1), (a2, a3)), ((b0, b1), (b2, b3)))) in
                        per_chunk.iter_mut().zip(it)
                    {
                        pc.push(View::FoldSoa {
                            c0: [a0, a1],
                            c1: [b0, b1],
                            c0r: [a2, a3],
                            c1r: [b2, b3],
                            blo: Vec::new(),
                            bhi: Vec::new(),
                        });
                    }
                }
                Table::Ext(v) => {
                    let (q01, q23) = v.split_at_mut(2 * half);
                    let (q0, q1) = q01.split_at_mut(half);
                    let (q2, q3) = q23.split_at(half);
                    let it = q0
                        .chunks_mut(chunk)
                        .zip(q1.chunks_mut(chunk))
                        .zip(q2.chunks(chunk).zip(q3.chunks(chunk)));
                    for (pc, ((lo, hi), (lo2, hi2))) in per_chunk.iter_mut().zip(it) {
                        pc.push(View::FoldExt { lo, hi, lo2, hi2 });
                    }
                }
            }
        }
        run_chunks(
            per_chunk,
            chunk,
            block,
            parallel,
            Some(r),
            infos,
            ts,
            weights,
        )
    };
    for t in tables.iter_mut() {
        match t {
            Table::Base(v) => {
                let buf = std::mem::take(v);
                *t = Table::Soa {
                    buf,
                    h: 2 * half,
                    len: 2 * half,
                };
            }
            Table::Soa { len, .. } => *len = 2 * half,
            Table::Ext(v) => v.truncate(2 * half),
        }
    }
    sums
}

/// Chunk iterators over the quarters of one coefficient array of a
/// struct-of-arrays table: (quarters 0 and 1, mutable; quarters 2 and 3).
#[allow(clippy::type_complexity)]
fn soa_quarters(
    x: &mut [F],
    half: usize,
    chunk: usize,
) -> (
    std::iter::Zip<std::slice::ChunksMut<'_, F>, std::slice::ChunksMut<'_, F>>,
    std::iter::Zip<std::slice::Chunks<'_, F>, std::slice::Chunks<'_, F>>,
) {
    let (q01, q23) = x.split_at_mut(2 * half);
    let (q0, q1) = q01.split_at_mut(half);
    let (q2, q3) = q23.split_at(half);
    (
        q0.chunks_mut(chunk).zip(q1.chunks_mut(chunk)),
        q2.chunks(chunk).zip(q3.chunks(chunk)),
    )
}

#[allow(clippy::too_many_arguments)]
fn run_chunks(
    per_chunk: Vec<Vec<View>>,
    chunk: usize,
    block: usize,
    parallel: bool,
    r: Option<EF>,
    infos: &[TermInfo],
    ts: &[usize],
    weights: Option<&EqWeights>,
) -> Vec<EF> {
    let width = infos.len() * ts.len();
    let work = |(c, views): (usize, Vec<View>)| {
        chunk_kernel(views, c * chunk, block, r, infos, ts, weights)
    };
    let add = |mut a: Vec<EF>, b: Vec<EF>| {
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
        a
    };
    if parallel {
        per_chunk
            .into_par_iter()
            .enumerate()
            .map(work)
            .reduce(|| vec![EF::ZERO; width], add)
    } else {
        per_chunk
            .into_iter()
            .enumerate()
            .map(work)
            .fold(vec![EF::ZERO; width], add)
    }
}

/// Processes one chunk (pair indices `j0 .. j0 + len`) block by block.
fn chunk_kernel(
    mut views: Vec<View>,
    j0: usize,
    block: usize,
    r: Option<EF>,
    infos: &[TermInfo],
    ts: &[usize],
    weights: Option<&EqWeights>,
) -> Vec<EF> {
    let len = views.first().map_or(0, view_len);
    let nt = ts.len();
    let mut out = vec![EF::ZERO; infos.len() * nt];
    let mut block_sums = vec![EF::ZERO; infos.len() * nt];
    let mut used = vec![false; views.len()];
    for info in infos {
        for &k in info.base.iter().chain(&info.ext) {
            used[k] = true;
        }
    }
    let mut scratch: Vec<Scratch> = (0..views.len()).map(|_| Scratch::default()).collect();
    let mut tmp_f = vec![F::ZERO; block];
    let mut tmp_e = vec![EF::ZERO; block];
    let rs = r.map(ExtScalar::new);
    let mut s = 0;
    while s < len {
        let e = (s + block).min(len);
        if let Some(r) = &rs {
            for v in views.iter_mut() {
                v.fold_block(s, e, r);
            }
        }
        let (w, scale) = match weights {
            Some(w) => {
                let j = j0 + s;
                let mask = (1usize << w.nb) - 1;
                let jb = j & mask;
                (Some(&w.eb[jb..jb + (e - s)]), Some(w.ea[j >> w.nb]))
            }
            None => (None, None),
        };
        let sink: &mut [EF] = if scale.is_some() {
            &mut block_sums
        } else {
            &mut out
        };
        eval_block(
            &views,
            &used,
            &mut scratch,
            s,
            e,
            infos,
            ts,
            w,
            sink,
            &mut tmp_f,
            &mut tmp_e,
        );
        if let Some(scale) = scale {
            for (o, b) in out.iter_mut().zip(block_sums.iter_mut()) {
                *o += scale * *b;
                *b = EF::ZERO;
            }
        }
        s = e;
    }
    out
}

fn view_len(v: &View) -> usize {
    match v {
        View::PlainBase { lo, .. } => lo.len(),
        View::PlainExt { lo, .. } => lo.len(),
        View::FoldExt { lo, .. } => lo.len(),
        View::FoldBase { lo, .. } => lo.len(),
        View::FoldSoa { c0, .. } => c0[0].len(),
    }
}

/// Adds the block's contribution `Σ_b w_b · Π_k val_k(t)` to `sink[term * nt + ti]`.
#[allow(clippy::too_many_arguments)]
fn eval_block(
    views: &[View],
    used: &[bool],
    scratch: &mut [Scratch],
    s: usize,
    e: usize,
    infos: &[TermInfo],
    ts: &[usize],
    w: Option<&[EF]>,
    sink: &mut [EF],
    tmp_f: &mut [F],
    tmp_e: &mut [EF],
) {
    let n = e - s;
    let nt = ts.len();
    for (ti, &t) in ts.iter().enumerate() {
        // Advance the extrapolation buffers to t.
        if t >= 2 {
            for (k, v) in views.iter().enumerate() {
                if !used[k] {
                    continue;
                }
                let sc = &mut scratch[k];
                match (v.lo(s, e), v.hi(s, e)) {
                    (Vals::B(lo), Vals::B(hi)) => {
                        if t == 2 {
                            sc.cur_f.resize(n, F::ZERO);
                            sc.diff_f.resize(n, F::ZERO);
                            for (((c, d), &l), &h) in sc.cur_f[..n]
                                .iter_mut()
                                .zip(&mut sc.diff_f[..n])
                                .zip(lo)
                                .zip(hi)
                            {
                                *d = h - l;
                                *c = h + *d;
                            }
                        } else {
                            for (c, d) in sc.cur_f[..n].iter_mut().zip(&sc.diff_f[..n]) {
                                *c += *d;
                            }
                        }
                    }
                    (Vals::E(lo), Vals::E(hi)) => {
                        if t == 2 {
                            sc.cur_e.resize(n, EF::ZERO);
                            sc.diff_e.resize(n, EF::ZERO);
                            for (((c, d), &l), &h) in sc.cur_e[..n]
                                .iter_mut()
                                .zip(&mut sc.diff_e[..n])
                                .zip(lo)
                                .zip(hi)
                            {
                                *d = h - l;
                                *c = h + *d;
                            }
                        } else {
                            for (c, d) in sc.cur_e[..n].iter_mut().zip(&sc.diff_e[..n]) {
                                *c += *d;
                            }
                        }
                    }
                    _ => unreachable!("lo and hi of a table share a field"),
                }
            }
        }
        let val = |k: usize| -> Vals<'_> {
            match t {
                0 => views[k].lo(s, e),
                1 => views[k].hi(s, e),
                _ => match views[k].lo(s, e) {
                    Vals::B(_) => Vals::B(&scratch[k].cur_f[..n]),
                    Vals::E(_) => Vals::E(&scratch[k].cur_e[..n]),
                },
            }
        };
        for (j, info) in infos.iter().enumerate() {
            sink[j * nt + ti] += term_block_sum(info, &val, n, w, tmp_f, tmp_e);
        }
    }
}

/// `Σ_b w_b · Π_{k ∈ term} val_k[b]` (`w_b = 1` when unweighted).
fn term_block_sum<'a>(
    info: &TermInfo,
    val: &dyn Fn(usize) -> Vals<'a>,
    n: usize,
    w: Option<&[EF]>,
    tmp_f: &mut [F],
    tmp_e: &mut [EF],
) -> EF {
    let nb = info.base.len();
    let ne = info.ext.len();
    let bs = |i: usize| match val(info.base[i]) {
        Vals::B(x) => x,
        Vals::E(_) => unreachable!("base factor"),
    };
    let es = |i: usize| match val(info.ext[i]) {
        Vals::E(x) => x,
        Vals::B(_) => unreachable!("extension factor"),
    };
    // Unweighted products of at most two factors: direct delayed-reduction dots.
    if w.is_none() {
        match (nb, ne) {
            (0, 0) => return EF::from(F::from_usize(n)),
            (1, 0) => return EF::from(bs(0).iter().copied().sum::<F>()),
            (0, 1) => return es(0).iter().copied().sum(),
            (2, 0) => return EF::from(mle::dot_ff(bs(0), bs(1))),
            (1, 1) => return mle::dot_eb(es(0), bs(0)),
            (0, 2) => return mle::dot_ee(es(0), es(1)),
            _ => {}
        }
    }
    // Reduce the base factors to one slice.
    let pf: Option<&[F]> = match nb {
        0 => None,
        1 => Some(bs(0)),
        _ => {
            let t = &mut tmp_f[..n];
            let (a, b) = (bs(0), bs(1));
            for ((o, &x), &y) in t.iter_mut().zip(a).zip(b) {
                *o = x * y;
            }
            for i in 2..nb {
                for (o, &x) in t.iter_mut().zip(bs(i)) {
                    *o *= x;
                }
            }
            Some(&tmp_f[..n])
        }
    };
    // Reduce the extension factors (times the base product) to one slice.
    let pe: Option<&[EF]> = match (ne, pf) {
        (0, _) => None,
        (1, None) => Some(es(0)),
        _ => {
            let t = &mut tmp_e[..n];
            t.copy_from_slice(es(0));
            for i in 1..ne {
                for (o, &x) in t.iter_mut().zip(es(i)) {
                    *o = mle::emul(*o, x);
                }
            }
            if let Some(pf) = pf {
                for (o, &x) in t.iter_mut().zip(pf) {
                    *o = mle::emul_base(*o, x);
                }
            }
            Some(&tmp_e[..n])
        }
    };
    match (pe, pf, w) {
        (Some(pe), _, Some(w)) => mle::dot_ee(w, pe),
        (Some(pe), _, None) => pe.iter().copied().sum(),
        (None, Some(pf), Some(w)) => mle::dot_eb(w, pf),
        (None, Some(pf), None) => EF::from(pf.iter().copied().sum::<F>()),
        (None, None, Some(w)) => w.iter().copied().sum(),
        (None, None, None) => EF::from(F::from_usize(n)),
    }
}

//! A large weight matrix committed as the blocks of its real entries, not
//! as its padded table.
//!
//! Padding each axis to a power of two wastes up to half of each: GPT-2's
//! `768 × 2304` attention matrix pads to `1024 × 4096` (2.4× its size), its
//! `50257 × 768` embedding to `65536 × 1024`, and the whole model's weights
//! to a `2^28` table instead of `2^27` — twice the commitment's codeword, key
//! memory, key load and opening time. An axis of length `768` is instead cut
//! into aligned power-of-two pieces `[0, 512) ∪ [512, 768)`; a block is one
//! piece per axis, committed as its own polynomial, and the padded table is
//! implicitly zero outside the blocks. Because a piece of `2^k` entries at
//! offset `o` (a multiple of `2^k`) fixes the axis' top variables to the bits
//! of `o >> k`, the padded matrix's MLE is
//!
//! `W(x, y) = Σ_{p,q} eq(x_top, o_p) · eq(y_top, o_q) · B_pq(x_low, y_low)`,
//!
//! so a claim on `W` is the exact linear combination of one evaluation per
//! block (sent by the prover, each a claim on the commitment): no challenge,
//! no soundness term, and the zero padding is now structural.

use rayon::prelude::*;
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::eq_eval;
use zkinfer_protocol::pcs::{index_bits, Claim};
use zkinfer_protocol::EF;

/// Matrices smaller than `2^MIN_SPLIT_VARS` padded entries stay one table:
/// their openings are cheap, and each block costs a claim and a sent value.
/// (Unit tests cut from `2^8`, so the small models of the prover's tests and
/// malicious-prover sweep run through blocks; integration tests and builds
/// keep the real threshold.)
pub const MIN_SPLIT_VARS: usize = if cfg!(test) { 8 } else { 20 };
/// At most this many pieces per axis (blocks are their product).
const MAX_PIECES: usize = 3;

/// How one axis of `2^vars` padded entries is cut: `(offset, vars)` per
/// piece, ascending, each offset a multiple of the piece's size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisPieces {
    pub vars: usize,
    pub pieces: Vec<(usize, usize)>,
}

impl AxisPieces {
    /// The whole padded axis as one piece.
    pub fn whole(vars: usize) -> Self {
        Self {
            vars,
            pieces: vec![(0, vars)],
        }
    }

    /// Covers `[0, len)` by descending powers of two, the last rounded up
    /// once the rest wastes at most `len/16` (or at the piece limit).
    pub fn cover(len: usize) -> Self {
        let vars = len.max(1).next_power_of_two().trailing_zeros() as usize;
        let mut pieces = Vec::new();
        let mut offset = 0;
        while offset < len {
            let rest = len - offset;
            let up = rest.next_power_of_two();
            let size = if pieces.len() + 1 == MAX_PIECES || up - rest <= len / 16 {
                up
            } else {
                up >> usize::from(up != rest)
            };
            pieces.push((offset, size.trailing_zeros() as usize));
            offset += size;
        }
        if pieces.is_empty() {
            return Self::whole(vars);
        }
        Self { vars, pieces }
    }

    /// Entries the pieces cover.
    pub fn covered(&self) -> usize {
        self.pieces.iter().map(|&(_, k)| 1usize << k).sum()
    }

    /// `eq(top coordinates, piece offset's bits)`: the piece's share of a
    /// point on the padded axis.
    pub fn selector(&self, piece: usize, coords: &[EF]) -> EF {
        let (offset, k) = self.pieces[piece];
        let top = self.vars - k;
        eq_eval(&coords[..top], &index_bits(offset >> k, top))
    }

    /// The coordinates a piece's own variables take.
    pub fn low<'a>(&self, piece: usize, coords: &'a [EF]) -> &'a [EF] {
        &coords[self.vars - self.pieces[piece].1..]
    }
}

/// A matrix (rows × columns, both padded) committed as blocks: block
/// `(p, q)` is rows piece `p` by columns piece `q`, committed polynomial
/// `polys[p · cols.pieces.len() + q]` over the pieces' low variables (rows
/// first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedMatrix {
    pub rows: AxisPieces,
    pub cols: AxisPieces,
    pub polys: Vec<usize>,
}

impl BlockedMatrix {
    /// How a `rows × cols` matrix (columns possibly in a multi-axis
    /// arrangement of `col_vars` variables, `flat_cols` when they lie flat)
    /// is cut: whole unless it is large and the pieces save an eighth.
    pub fn plan(
        rows: usize,
        cols: usize,
        col_vars: usize,
        flat_cols: bool,
    ) -> (AxisPieces, AxisPieces) {
        let r = AxisPieces::cover(rows);
        let c = if flat_cols {
            AxisPieces::cover(cols)
        } else {
            AxisPieces::whole(col_vars)
        };
        let padded = 1u128 << (r.vars + c.vars);
        let covered = (r.covered() * c.covered()) as u128;
        if r.vars + c.vars < MIN_SPLIT_VARS || covered * 8 > padded * 7 {
            (AxisPieces::whole(r.vars), AxisPieces::whole(c.vars))
        } else {
            (r, c)
        }
    }

    /// Variables of each block, in block order.
    pub fn block_vars(rows: &AxisPieces, cols: &AxisPieces) -> Vec<usize> {
        rows.pieces
            .iter()
            .flat_map(|&(_, a)| cols.pieces.iter().map(move |&(_, b)| a + b))
            .collect()
    }

    pub fn num_blocks(&self) -> usize {
        self.polys.len()
    }

    /// `(p, q)` of block `b`.
    fn pieces_of(&self, b: usize) -> (usize, usize) {
        (b / self.cols.pieces.len(), b % self.cols.pieces.len())
    }

    /// The padded matrix's value at `(x, y)` from one evaluation per block.
    pub fn combine(&self, x: &[EF], y: &[EF], block_evals: &[EF]) -> EF {
        let sx: Vec<EF> = (0..self.rows.pieces.len())
            .map(|p| self.rows.selector(p, x))
            .collect();
        let sy: Vec<EF> = (0..self.cols.pieces.len())
            .map(|q| self.cols.selector(q, y))
            .collect();
        block_evals
            .iter()
            .enumerate()
            .map(|(b, &e)| {
                let (p, q) = self.pieces_of(b);
                sx[p] * sy[q] * e
            })
            .sum()
    }

    /// The claims `B_pq(x_low, y_low) = e_pq` on the commitment.
    pub fn claims(&self, x: &[EF], y: &[EF], block_evals: &[EF]) -> Vec<Claim> {
        block_evals
            .iter()
            .enumerate()
            .map(|(b, &value)| {
                let (p, q) = self.pieces_of(b);
                Claim {
                    poly: self.polys[b],
                    point: [self.rows.low(p, x), self.cols.low(q, y)].concat(),
                    value,
                }
            })
            .collect()
    }

    /// The blocks' tables, from the padded matrix's entries (`entry(row,
    /// padded column)`, zero outside the real matrix).
    pub fn tables(&self, entry: impl Fn(usize, usize) -> F + Sync) -> Vec<Vec<F>> {
        (0..self.num_blocks())
            .map(|b| {
                let (p, q) = self.pieces_of(b);
                let ((r0, rk), (c0, ck)) = (self.rows.pieces[p], self.cols.pieces[q]);
                let width = 1usize << ck;
                let mut t = vec![F::ZERO; width << rk];
                t.par_chunks_mut(width).enumerate().for_each(|(i, row)| {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = entry(r0 + i, c0 + j);
                    }
                });
                t
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkinfer_protocol::field::f_from_i64;
    use zkinfer_protocol::mle::evaluate_base;
    use zkinfer_protocol::Transcript;

    #[test]
    fn axes_are_covered_by_aligned_pieces_with_little_waste() {
        for len in [
            1,
            2,
            3,
            5,
            7,
            100,
            768,
            784,
            1000,
            2304,
            3072,
            50257,
            1 << 16,
        ] {
            let a = AxisPieces::cover(len);
            assert!(a.pieces.len() <= MAX_PIECES, "{len}: {:?}", a.pieces);
            assert!(a.covered() >= len && a.covered() <= 1 << a.vars, "{len}");
            let mut next = 0;
            for &(o, k) in &a.pieces {
                assert_eq!(o, next, "{len}: contiguous");
                assert_eq!(o % (1 << k), 0, "{len}: aligned");
                next = o + (1 << k);
            }
        }
        assert_eq!(AxisPieces::cover(768).pieces, vec![(0, 9), (512, 8)]);
        assert_eq!(AxisPieces::cover(1 << 16).pieces, vec![(0, 16)]);
        // GPT-2's vocabulary: 51200 of 65536 rows committed.
        assert_eq!(AxisPieces::cover(50257).covered(), 51200);
    }

    #[test]
    fn small_or_nearly_full_matrices_stay_whole() {
        let (r, c) = BlockedMatrix::plan(5, 10, 4, true);
        assert_eq!((r.pieces.len(), c.pieces.len()), (1, 1), "2^7 < 2^8: small");
        let (r, c) = BlockedMatrix::plan(1000, 1000, 10, true);
        assert_eq!((r.pieces.len(), c.pieces.len()), (1, 1), "98 % full");
        let (r, c) = BlockedMatrix::plan(2304, 768, 10, true);
        assert_eq!((r.pieces.len(), c.pieces.len()), (2, 2));
        let (_, c) = BlockedMatrix::plan(2304, 768, 12, false);
        assert_eq!(
            c,
            AxisPieces::whole(12),
            "a multi-axis arrangement stays whole"
        );
    }

    /// The blocks' evaluations recombine to the padded matrix's MLE at any
    /// point, and their claims hold on the blocks' tables.
    #[test]
    fn blocks_recombine_to_the_padded_matrix() {
        let mut tr = Transcript::new(b"blocks-test");
        for (rows, cols) in [(3, 5), (768, 300), (50, 2304)] {
            let (rp, cp) = (AxisPieces::cover(rows), AxisPieces::cover(cols));
            let n = BlockedMatrix::block_vars(&rp, &cp).len();
            let m = BlockedMatrix {
                rows: rp,
                cols: cp,
                polys: (0..n).collect(),
            };
            let entry = |i: usize, j: usize| {
                if i < rows && j < cols {
                    f_from_i64((i * 7 + j * 3) as i64 % 11 - 5)
                } else {
                    F::ZERO
                }
            };
            let width = 1 << m.cols.vars;
            let padded: Vec<F> = (0..(width << m.rows.vars))
                .map(|k| entry(k / width, k % width))
                .collect();
            let x = tr.challenge_efs(m.rows.vars);
            let y = tr.challenge_efs(m.cols.vars);
            let tables = m.tables(entry);
            let claims = m.claims(&x, &y, &vec![EF::ZERO; n]);
            let evals: Vec<EF> = claims
                .iter()
                .map(|c| evaluate_base(&tables[c.poly], &c.point))
                .collect();
            let full = evaluate_base(&padded, &[x.clone(), y.clone()].concat());
            assert_eq!(m.combine(&x, &y, &evals), full, "{rows}×{cols}");
            // One block's evaluation off by one: the combination moves.
            let mut wrong = evals.clone();
            wrong[n - 1] += EF::ONE;
            assert_ne!(m.combine(&x, &y, &wrong), full);
            let covered: usize = tables.iter().map(Vec::len).sum();
            assert!(covered <= padded.len());
        }
    }

    /// A model whose matrices are cut, plain and tied (transposed and not):
    /// honest proofs verify, and a prover with one other weight anywhere —
    /// the commitment unchanged — or one other block evaluation is rejected.
    #[test]
    fn cut_matrices_bind_every_weight() {
        use crate::ops::LayerProof;
        use crate::synthetic::{input, mlp, tied_mlp};
        use zkinfer_model::ir::QOp;
        for (model, dense) in [
            (mlp(&[300, 200, 10], 4), 0),
            (tied_mlp(300, 200, true, 5), 2),
            (tied_mlp(300, 200, false, 6), 2),
        ] {
            let pk = crate::keys::setup(model.clone(), None).unwrap();
            let cut = pk.layout.weight_num_vars.len();
            assert!(
                cut > 4,
                "the 200×300 matrix is cut: {cut} weight polynomials"
            );
            let x = input(300, 1);
            let honest = crate::prove(&pk, &x).unwrap();
            crate::verify(&pk.vk, &x, &honest.output, &honest.proof).unwrap();
            // Every block evaluation the Dense op sends is bound.
            let mut blocks = 0;
            for (l, layer) in honest.proof.layers.iter().enumerate() {
                let LayerProof::Dense { weight_evals, .. } = layer else {
                    continue;
                };
                for k in 0..weight_evals.len() {
                    let mut bad = honest.proof.clone();
                    let LayerProof::Dense { weight_evals, .. } = &mut bad.layers[l] else {
                        unreachable!()
                    };
                    weight_evals[k] += EF::ONE;
                    assert!(crate::verify(&pk.vk, &x, &honest.output, &bad).is_err());
                    blocks += 1;
                }
            }
            assert!(blocks > 4);
            // Another weight in the first row, a middle one and the last one.
            let QOp::Dense { weight, .. } = &model.ops[dense] else {
                unreachable!("a Dense")
            };
            for at in [0, weight.len() / 2 + 7, weight.len() - 1] {
                let mut cheat = crate::keys::setup(model.clone(), None).unwrap();
                if let QOp::Dense { weight, .. } = &mut cheat.model.ops[dense] {
                    weight.set(at, weight.get(at) + 1);
                }
                if let Ok(forged) = crate::prove(&cheat, &x) {
                    assert!(
                        crate::verify(&pk.vk, &x, &forged.output, &forged.proof).is_err(),
                        "weight {at} of op {dense}"
                    );
                }
            }
        }
    }
}

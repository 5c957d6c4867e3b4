//! `Select` (Slice, Gather by constant indices, Pad, Split, Tile, Expand,
//! DepthToSpace, nearest Resize, Trilu): every output element is one input
//! element or 0, so a claim on the output is a linear functional of the input
//! and one sumcheck routes it — nothing is committed or copied.
//!
//! For claims `(z_k, v_k)` batched by `ρ`, with `z_k = (z_kb, z_ks)` split
//! into batch and sample variables and `src` the public index map:
//!
//! `Σ_k ρ_k v_k = Σ_j x(j) · T(j)`,
//! `T(b, j) = Σ_k ρ_k eq(z_kb, b) Σ_{i: src(i) = j} eq(z_ks, i)`.
//!
//! The output's padding entries are 0 (no index reaches them), and its batch
//! padding rows are the selection of the input's (a genuine sample), so the
//! identity holds over the whole hypercube. The verifier evaluates `T` at the
//! sumcheck's point itself: per axis in `O(Σ dims)` per claim when the map
//! is stated as an [`AxisMap`] whose grids fit both arrangements
//! (`closed_form.rs`; setup states every separable map so, `detect.rs`, and
//! a relayout is one) or as row bands ([`BandMap`], `bands.rs`: attention
//! masks), else by a walk over the map's moves in `O(output + input)`.
//!
//! Zero knowledge: the same sumcheck, `T` a public factor and the input a
//! masked read; the claims are masked values, which the incoming claims'
//! `R` values correct inside the masked sumcheck.

mod bands;
mod closed_form;
mod detect;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use rayon::prelude::*;
use zkinfer_model::ir::{AxisMap, BandMap, QOp, TensorId};
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::mle::eq_table;
use zkinfer_protocol::security::sumcheck_bits;
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{VerifyError, EF};

use super::{
    batching_bits, batching_coefficients, ClaimCounter, Committed, LayerProof, LayerProofs,
    OpProof, ProverCtx, VerifierCtx,
};
use crate::claims::PointClaim;
use crate::error::ProveError;
use crate::layout::{Layout, LayoutBuilder};
use crate::ops::public_linear::PublicLinear;
use crate::shape::PaddedShape;
use crate::zk::point_claims;
use crate::zk::{ZkProverCtx, ZkStep, ZkVerifierCtx};
use bands::BandForm;
use closed_form::ClosedForm;

/// A map's form the verifier evaluates without its moves.
#[derive(Debug)]
enum Form {
    Axes(ClosedForm),
    Bands(BandForm),
}

impl Form {
    /// The explicit list the form denotes.
    fn source(&self) -> Vec<i64> {
        match self {
            Form::Axes(f) => f.map().source(),
            Form::Bands(f) => f.map().source(),
        }
    }

    fn evaluate(&self, claims: &[(&[EF], EF)], r: &[EF]) -> EF {
        match self {
            Form::Axes(f) => f.evaluate(claims, r),
            Form::Bands(f) => f.evaluate(claims, r),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Select {
    i: usize,
    input: TensorId,
    output: TensorId,
    /// The table per axis, when the map has a form that fits both tensors'
    /// arrangements: the verifier then needs no moves.
    closed: Option<Form>,
    /// Per output element (logical, one sample): the padded position of its
    /// input element within a sample, and its own padded position. Laid out
    /// with an explicit map; for a closed form, made on first use (the
    /// prover's table is per element anyway).
    moves: OnceLock<Vec<(usize, usize)>>,
    /// One sample of each tensor's arrangement (to make the moves).
    in_shape: PaddedShape,
    out_shape: PaddedShape,
    /// Batch variables (the first of every point).
    batch_vars: usize,
    /// Variables of one input sample.
    in_sample_vars: usize,
}

/// The verifying key's form of a Select (`keys::model_structure`): a
/// [`QOp::SelectAxes`] when its map is separable with grids that fit the
/// tensors' arrangements in `layout`, else a [`QOp::SelectBands`] when it
/// keeps a run of columns per row (an attention mask) on a grid that fits;
/// either checked against every element.
pub(crate) fn in_closed_form(op: &QOp, layout: &Layout) -> Option<QOp> {
    let QOp::Select {
        input,
        output,
        ref source,
    } = *op
    else {
        return None;
    };
    let (ins, outs) = (&layout.shapes[input], &layout.shapes[output]);
    if let Some(map) = detect::detect(source, &ins.dims, &outs.dims) {
        if ClosedForm::new(&map, ins, outs).is_some() {
            return Some(QOp::SelectAxes { input, output, map });
        }
    }
    let map = BandMap::of_source(source, &outs.dims)?;
    BandForm::new(&map, ins, outs)?;
    Some(QOp::SelectBands { input, output, map })
}

/// Per output element: the padded position of its input element within a
/// sample and its own (fills move nothing).
fn moves_of(source: &[i64], ins: &PaddedShape, outs: &PaddedShape) -> Vec<(usize, usize)> {
    let out_at = outs.padded_indices();
    // A whole input's index map unless the Select reads a small part of
    // a large input (an embedding row, a slice).
    let in_at = (ins.len() <= 4 * outs.len()).then(|| ins.padded_indices());
    source
        .iter()
        .zip(&out_at)
        .filter(|&(&k, _)| k >= 0)
        .map(|(&k, &o)| {
            let k = k as usize;
            (
                in_at.as_ref().map_or_else(|| ins.padded_index(k), |m| m[k]),
                o,
            )
        })
        .collect()
}

impl Select {
    pub fn lay_out(i: usize, op: &QOp, b: &mut LayoutBuilder) -> Result<Self, ProveError> {
        let (input, output) = match *op {
            QOp::Select { input, output, .. }
            | QOp::SelectAxes { input, output, .. }
            | QOp::SelectBands { input, output, .. } => (input, output),
            _ => unreachable!("registered for Select"),
        };
        let (in_len, out_len) = (b.len(input), b.len(output));
        let mismatch = || {
            ProveError::Model(format!(
                "op #{i} (Select): source indices do not match the shapes"
            ))
        };
        match op {
            QOp::Select { source, .. } => {
                if source.len() != out_len || source.iter().any(|&k| k >= in_len as i64) {
                    return Err(mismatch());
                }
                Ok(Self::explicit(i, input, output, source, b))
            }
            QOp::SelectAxes { map, .. } => {
                map.check(in_len, out_len)
                    .map_err(|e| ProveError::Model(format!("op #{i} (Select): {e}")))?;
                Ok(Self::axes(i, input, output, map, b))
            }
            QOp::SelectBands { map, .. } => {
                map.check(in_len, out_len)
                    .map_err(|e| ProveError::Model(format!("op #{i} (Select): {e}")))?;
                Ok(Self::bands(i, input, output, map, b))
            }
            _ => unreachable!("registered for Select"),
        }
    }

    /// A Reshape whose output gets its own axes: the identity map between two
    /// layouts of the same row-major data.
    pub fn relayout(
        i: usize,
        input: TensorId,
        output: TensorId,
        b: &mut LayoutBuilder,
    ) -> Result<Self, ProveError> {
        let (ins, outs) = (&b.shapes[input], &b.shapes[output]);
        if let Some(map) = detect::identity(&ins.dims, &outs.dims) {
            if ClosedForm::new(&map, ins, outs).is_some() {
                return Ok(Self::axes(i, input, output, &map, b));
            }
        }
        let source: Vec<i64> = (0..b.len(output) as i64).collect();
        Ok(Self::explicit(i, input, output, &source, b))
    }

    fn explicit(
        i: usize,
        input: TensorId,
        output: TensorId,
        source: &[i64],
        b: &mut LayoutBuilder,
    ) -> Self {
        let mut s = Self::new(i, input, output, None, b);
        let moves = moves_of(source, &s.in_shape, &s.out_shape);
        s.moves = OnceLock::from(moves);
        s
    }

    /// A checked form: per axis if its grids fit, else by its moves.
    fn axes(
        i: usize,
        input: TensorId,
        output: TensorId,
        map: &AxisMap,
        b: &mut LayoutBuilder,
    ) -> Self {
        match ClosedForm::new(map, &b.shapes[input], &b.shapes[output]) {
            Some(closed) => Self::new(i, input, output, Some(Form::Axes(closed)), b),
            None => Self::explicit(i, input, output, &map.source(), b),
        }
    }

    /// A checked band form: per axis if its grid fits, else by its moves.
    fn bands(
        i: usize,
        input: TensorId,
        output: TensorId,
        map: &BandMap,
        b: &mut LayoutBuilder,
    ) -> Self {
        match BandForm::new(map, &b.shapes[input], &b.shapes[output]) {
            Some(form) => Self::new(i, input, output, Some(Form::Bands(form)), b),
            None => Self::explicit(i, input, output, &map.source(), b),
        }
    }

    fn new(
        i: usize,
        input: TensorId,
        output: TensorId,
        closed: Option<Form>,
        b: &mut LayoutBuilder,
    ) -> Self {
        let (ins, outs) = (&b.shapes[input], &b.shapes[output]);
        let s = Self {
            i,
            input,
            output,
            closed,
            moves: OnceLock::new(),
            in_shape: ins.sample(),
            out_shape: outs.sample(),
            batch_vars: ins.batch_vars(),
            in_sample_vars: ins.sample_vars(),
        };
        b.pads[output] = 0;
        s
    }

    fn moves(&self) -> &[(usize, usize)] {
        self.moves.get_or_init(|| {
            let source = self
                .closed
                .as_ref()
                .expect("an explicit map's moves are laid out")
                .source();
            moves_of(&source, &self.in_shape, &self.out_shape)
        })
    }

    /// `Σ_{i: src(i) = j} eq(z_s, i)` over one input sample's padded positions.
    fn sample_table(&self, z_s: &[EF]) -> Vec<EF> {
        let eq = eq_table(z_s);
        let mut t = vec![EF::ZERO; 1 << self.in_sample_vars];
        for &(j, o) in self.moves() {
            t[j] += eq[o];
        }
        t
    }

    /// `T` over the input's whole index (prover side).
    fn table(&self, claims: &[PointClaim], rho: &[EF]) -> Vec<EF> {
        let sample = 1usize << self.in_sample_vars;
        let mut table = vec![EF::ZERO; sample << self.batch_vars];
        for ((z, _), &c) in claims.iter().zip(rho) {
            let (z_b, z_s) = z.split_at(self.batch_vars);
            let t = self.sample_table(z_s);
            let eq_b = eq_table(z_b);
            table
                .par_chunks_mut(sample)
                .zip(eq_b.par_iter())
                .for_each(|(row, &e)| {
                    let s = c * e;
                    for (dst, &v) in row.iter_mut().zip(&t) {
                        *dst += s * v;
                    }
                });
        }
        table
    }

    /// The zero-knowledge step: the index map's table `T` of the output
    /// claims times the input.
    fn public_linear(&self) -> PublicLinear {
        PublicLinear {
            op: self.i,
            what: "Select",
            label: b"select",
            output: self.output,
            inputs: vec![(self.input, EF::ONE)],
            num_vars: self.batch_vars + self.in_sample_vars,
        }
    }

    /// `T(r)` for the batched claims (verifier side): per axis for a closed
    /// form, else by the moves.
    fn evaluate_table(&self, claims: &[PointClaim], rho: &[EF], r: &[EF]) -> EF {
        let (r_b, r_s) = r.split_at(self.batch_vars);
        let scales: Vec<EF> = claims
            .iter()
            .zip(rho)
            .map(|((z, _), &c)| c * zkinfer_protocol::mle::eq_eval(&z[..self.batch_vars], r_b))
            .collect();
        if let Some(closed) = &self.closed {
            let weighted: Vec<(&[EF], EF)> = claims
                .iter()
                .zip(&scales)
                .map(|((z, _), &s)| (&z[self.batch_vars..], s))
                .collect();
            return closed.evaluate(&weighted, r_s);
        }
        self.walk_moves(claims, &scales, r_s)
    }

    /// `T(r)` by the moves. A transformer's verifier walks ~100 index maps
    /// of ~25 K moves each, so the moves cost one addition each:
    /// `Σ_moves w(o)·eq(r, j) = Σ_j eq(r, j)·Σ_{o→j} w(o)`, with `w` the
    /// claims' eq tables combined, and `eq(r, ·)` read from two half-size
    /// tables only where some output reads `j`.
    fn walk_moves(&self, claims: &[PointClaim], scales: &[EF], r_s: &[EF]) -> EF {
        // One claim: its eq table as is, scaled once at the end.
        let (weights, scale) = match claims {
            [] => return EF::ZERO,
            [(z, _)] => (eq_table(&z[self.batch_vars..]), scales[0]),
            _ => {
                let mut w = vec![EF::ZERO; 1 << (claims[0].0.len() - self.batch_vars)];
                for ((z, _), &s) in claims.iter().zip(scales) {
                    for (w, e) in w.iter_mut().zip(eq_table(&z[self.batch_vars..])) {
                        *w += s * e;
                    }
                }
                (w, EF::ONE)
            }
        };
        let mut read = vec![EF::ZERO; 1 << self.in_sample_vars];
        for &(j, o) in self.moves() {
            read[j] += weights[o];
        }
        let lo_bits = r_s.len() / 2;
        let (hi, lo) = r_s.split_at(r_s.len() - lo_bits);
        let (eq_hi, eq_lo) = (eq_table(hi), eq_table(lo));
        let total: EF = read
            .par_chunks(1 << lo_bits)
            .zip(eq_hi.par_iter())
            .map(|(chunk, &h)| {
                let inner: EF = chunk
                    .iter()
                    .zip(&eq_lo)
                    .filter(|(v, _)| **v != EF::ZERO)
                    .map(|(&v, &l)| v * l)
                    .sum();
                inner * h
            })
            .sum();
        scale * total
    }
}

impl OpProof for Select {
    fn index(&self) -> usize {
        self.i
    }

    fn committed(&self) -> Vec<Committed> {
        Vec::new()
    }

    fn prove(&self, p: &mut ProverCtx) -> Option<LayerProof> {
        let layout = &p.pk.layout;
        let claims = p.book.take_pending(layout, self.output);
        if claims.is_empty() {
            return None;
        }
        p.tr.label(b"select");
        let rho = batching_coefficients(p.tr, claims.len());
        let table = self.table(&claims, &rho);
        let sc = sumcheck::prove(
            SumOfProducts {
                num_vars: self.batch_vars + self.in_sample_vars,
                mles: vec![Mle::Ext(table), Mle::Base(p.padded(self.input))],
                terms: vec![Term {
                    coeff: EF::ONE,
                    factors: vec![0, 1],
                }],
            },
            p.tr,
        );
        let input_eval = sc.final_evals[1];
        p.tr.absorb_ef(input_eval);
        p.book.route(layout, self.input, sc.point, input_eval);
        Some(LayerProof::Select {
            sumcheck: sc.proof,
            input_eval,
        })
    }

    fn verify(&self, v: &mut VerifierCtx, proofs: &mut LayerProofs) -> Result<(), VerifyError> {
        let i = self.i;
        let claims = v.book.take_pending(v.layout, self.output);
        if claims.is_empty() {
            return Ok(());
        }
        let LayerProof::Select {
            sumcheck: sc,
            input_eval,
        } = proofs.next(i, "Select")?
        else {
            return Err(VerifyError::Malformed(format!(
                "op #{i}: expected a Select proof"
            )));
        };
        v.tr.label(b"select");
        let rho = batching_coefficients(v.tr, claims.len());
        let claimed: EF = claims.iter().zip(&rho).map(|((_, y), r)| *r * *y).sum();
        let n = self.batch_vars + self.in_sample_vars;
        let sub = sumcheck::verify(n, 2, claimed, sc, v.tr)?;
        v.tr.absorb_ef(*input_eval);
        if self.evaluate_table(&claims, &rho, &sub.point) * *input_eval != sub.expected_eval {
            return Err(VerifyError::Sumcheck(format!(
                "op #{i} (Select): the final evaluation does not match the claimed input evaluation"
            )));
        }
        v.book.route(v.layout, self.input, sub.point, *input_eval);
        Ok(())
    }

    fn count_claims(&self, c: &mut ClaimCounter) {
        if c.take(self.output) > 0 {
            c.route(self.input, 1);
        }
    }

    fn soundness_terms(&self, layout: &Layout) -> Vec<(&'static str, f64)> {
        vec![
            ("sumcheck", sumcheck_bits(layout.num_vars(self.input), 2)),
            ("claim batching ρ", batching_bits()),
        ]
    }

    fn zk_step(&self, _: &Layout, masked: &dyn Fn(TensorId) -> bool) -> Option<ZkStep> {
        Some(self.public_linear().step(masked))
    }

    fn prove_zk(&self, p: &mut ZkProverCtx) -> Option<LayerProof> {
        self.public_linear()
            .prove(p, |pending, rho| self.table(&point_claims(pending), rho))
    }

    fn verify_zk(
        &self,
        v: &mut ZkVerifierCtx,
        proofs: &mut LayerProofs,
    ) -> Result<(), VerifyError> {
        self.public_linear()
            .verify(v, proofs, |pending, rho, point| {
                self.evaluate_table(&point_claims(pending), rho, point)
            })
    }
}

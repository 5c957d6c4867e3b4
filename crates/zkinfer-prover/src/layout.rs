//! The proof's shape, derived from the model structure alone.
//!
//! Prover and verifier both build a [`Layout`] from the (weight-free) model
//! structure in the verifying key, so they agree on which tensors are
//! committed, which polynomials sit under the weight and activation
//! commitments, and which rows are looked up in which table — nothing of
//! this is sent in the proof.
//!
//! Tensor kinds:
//! - the model input is public (the verifier evaluates its MLE itself);
//! - outputs of `Requant`, `Lut` and `MaxPool` are committed (they are lookup
//!   witnesses);
//! - outputs of linear ops (`Dense`, `Conv2d`, `Add`, `Mul`, `SumPool`) are
//!   virtual: claims on them are reduced to claims on their inputs by the
//!   op's proof;
//! - `Reshape` outputs alias their input (same row-major data, same MLE).
//!
//! Each op's entry is built by its own module (`ops::lay_out`) through a
//! [`LayoutBuilder`].

use std::sync::Arc;

use zkinfer_model::ir::{QOp, QuantModel, TensorId};
use zkinfer_protocol::field::{f_from_i64, F};
use zkinfer_protocol::logup::LookupTable;
use zkinfer_protocol::mle::num_vars_for;
use zkinfer_protocol::EF;

use crate::error::ProveError;
pub use crate::ops::requant::LimbBits;
use crate::ops::requant::{choose_limb_bits, clamp_rows, clamp_splits, saturate_rows, ClampChoice};
use crate::ops::{self, OpProof};
use crate::shape::PaddedShape;
use crate::weight_blocks::BlockedMatrix;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    PublicInput,
    Committed { poly: usize },
    Virtual,
    Alias(TensorId),
}

/// A lookup table, identified by what it encodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableKey {
    /// `[0, 2^bits)`.
    Range { bits: u32 },
    /// Pairs `(e, y)` with `y ∈ [min, max]` and `e = 0`, or `y = max` and
    /// `e ∈ [1, 2^limb_bits)`, or `y = min` and `e ∈ (−2^limb_bits, −1]`: a
    /// signed excess limb and the clamped value it allows.
    Clamp { min: i64, max: i64, limb_bits: u32 },
    /// Pairs `(e, u)` with `u ∈ [0, 2^bits)` and `e = 0`, or `u = 2^bits − 1`
    /// and `e ∈ [1, 2^limb_bits)`, or `u = 0` and `e ∈ (−2^limb_bits, −1]`: a
    /// clamp range of width `2^k` checked in two half-width parts.
    Saturate { bits: u32, limb_bits: u32 },
    /// `(in_min + i, table[i])` of the `Lut` op at this index.
    Lut { op: usize },
}

/// One looked-up column: committed polynomial `poly`, multiplied by `scale`,
/// plus `offset` on every row. The offset lets tensors with different value
/// ranges share one table (a clamp range `[min, max]` is looked up as
/// `y − min` in the table of its width) at no cost: it is a public constant
/// the verifier adds to the member's evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnRef {
    pub poly: usize,
    pub scale: u64,
    pub offset: i64,
}

#[derive(Clone, Debug)]
pub struct TableLayout {
    pub key: TableKey,
    /// Each witness is a tuple of columns as wide as the table.
    pub witnesses: Vec<Vec<ColumnRef>>,
    /// Witnesses of equal size, looked up as one concatenation (`lookups.rs`).
    pub groups: Vec<WitnessGroup>,
    /// Committed polynomial holding this table's multiplicities.
    pub multiplicity_poly: usize,
}

/// Witnesses (indices into [`TableLayout::witnesses`]) whose polynomials all
/// have `num_vars` variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessGroup {
    pub members: Vec<usize>,
    pub num_vars: usize,
}

/// What sits under each commitment and how ops map onto protocol pieces.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Laid out for a zero-knowledge proof ([`Layout::new_zk`]).
    pub zk: bool,
    pub kinds: Vec<TensorKind>,
    /// Widths of remainder and excess limbs.
    pub limb_bits: LimbBits,
    /// `num_vars` of every activation polynomial, in commit order.
    pub activation_num_vars: Vec<usize>,
    /// `num_vars` of every weight polynomial, in commit order.
    pub weight_num_vars: Vec<usize>,
    pub tables: Vec<TableLayout>,
    /// Padding value of every tensor (elementwise ops map padding to padding).
    pub pads: Vec<i64>,
    /// How every tensor sits in its polynomial.
    pub shapes: Vec<PaddedShape>,
    /// How each op is proven, in model order.
    pub(crate) ops: Vec<Arc<dyn OpProof>>,
}

/// Element count of a weight tensor, `None` beyond 2^32 (like tensors: a
/// weight-free key must not announce a size that would wrap or be sized).
pub(crate) fn weight_count(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= 1 << 32)
}

/// Number of variables of a tensor of `len` elements.
pub fn nv(len: usize) -> usize {
    num_vars_for(len)
}

/// The layout under construction, as the op modules see it.
pub(crate) struct LayoutBuilder<'m> {
    pub model: &'m QuantModel,
    pub kinds: Vec<TensorKind>,
    pub pads: Vec<i64>,
    pub shapes: Vec<PaddedShape>,
    pub limb_bits: LimbBits,
    /// Per distinct clamp range, whether it is checked split.
    pub clamp_splits: Vec<ClampChoice>,
    act_nv: Vec<usize>,
    weight_nv: Vec<usize>,
    tables: Vec<TableLayout>,
    /// Each Dense op's own weight matrix (what a tied op reads).
    dense_weights: Vec<(usize, BlockedMatrix)>,
}

impl LayoutBuilder<'_> {
    /// Records Dense op `op`'s own weight matrix.
    pub fn record_dense_weight(&mut self, op: usize, matrix: BlockedMatrix) {
        self.dense_weights.push((op, matrix));
    }
    /// Dense op `op`'s own weight matrix, if laid out.
    pub fn dense_weight(&self, op: usize) -> Option<&BlockedMatrix> {
        self.dense_weights
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, m)| m)
    }
    /// Elements of tensor `t`.
    pub fn len(&self, t: TensorId) -> usize {
        self.model.tensors[t].len()
    }
    /// A new committed activation polynomial shaped like `shape`.
    pub fn commit(&mut self, shape: &PaddedShape) -> usize {
        self.act_nv.push(shape.num_vars());
        self.act_nv.len() - 1
    }
    /// Commits tensor `t` itself, laid out as `shape`.
    pub fn commit_tensor(&mut self, t: TensorId, shape: PaddedShape) -> usize {
        let poly = self.commit(&shape);
        self.shapes[t] = shape;
        self.kinds[t] = TensorKind::Committed { poly };
        poly
    }
    /// A new polynomial of `num_vars` variables under the weight commitment.
    pub fn weight(&mut self, num_vars: usize) -> usize {
        self.weight_nv.push(num_vars);
        self.weight_nv.len() - 1
    }
    /// A `rows × cols` matrix under the weight commitment, as blocks
    /// ([`BlockedMatrix::plan`]; one block when cutting does not pay).
    pub fn weight_matrix(
        &mut self,
        rows: usize,
        cols: usize,
        col_vars: usize,
        flat_cols: bool,
    ) -> BlockedMatrix {
        let (rows, cols) = BlockedMatrix::plan(rows, cols, col_vars, flat_cols);
        let polys = BlockedMatrix::block_vars(&rows, &cols)
            .into_iter()
            .map(|n| self.weight(n))
            .collect();
        BlockedMatrix { rows, cols, polys }
    }
    /// Looks up the columns `cols` (as wide as the table) in table `key`.
    pub fn look_up(&mut self, key: TableKey, cols: Vec<ColumnRef>) {
        let t = match self.tables.iter().position(|t| t.key == key) {
            Some(t) => t,
            None => {
                self.tables.push(TableLayout {
                    key,
                    witnesses: Vec::new(),
                    groups: Vec::new(),
                    multiplicity_poly: usize::MAX,
                });
                self.tables.len() - 1
            }
        };
        self.tables[t].witnesses.push(cols);
    }
    /// Tensor `t` after following aliases, and its kind.
    pub fn kind(&self, t: TensorId) -> (TensorId, TensorKind) {
        let r = resolve(&self.kinds, t);
        (r, self.kinds[r])
    }

    /// Whether some op reads `t` (or what keeps its layout: a Requant, Lut or
    /// Reshape output) by its own axes: window ops, transposes, row-wise
    /// Dense, and two-operand ops (whose operands must be laid out alike). A
    /// Select or a one-row Dense reads any layout.
    pub fn needs_own_layout(&self, t: TensorId) -> bool {
        self.model.ops.iter().any(|op| {
            let (inputs, output) = op.io();
            if !inputs.contains(&t) {
                return false;
            }
            match op {
                QOp::Select { .. } | QOp::SelectAxes { .. } | QOp::SelectBands { .. } => false,
                QOp::Dense { in_dim, .. } => self.len(t) != *in_dim,
                QOp::Requant { .. }
                | QOp::Lut { .. }
                | QOp::Reshape { .. }
                | QOp::AddConst { .. }
                | QOp::MulConst { .. } => self.needs_own_layout(output),
                QOp::Conv2d { .. }
                | QOp::MaxPool { .. }
                | QOp::SumPool { .. }
                | QOp::Transpose { .. }
                | QOp::Add { .. }
                | QOp::Mul { .. }
                | QOp::MatMul { .. } => true,
            }
        })
    }
}

/// One looked-up column, unscaled.
pub(crate) fn col(poly: usize) -> ColumnRef {
    ColumnRef {
        poly,
        scale: 1,
        offset: 0,
    }
}

impl Layout {
    pub fn new(model: &QuantModel) -> Result<Self, ProveError> {
        Self::build(model, false)
    }

    /// The layout of a zero-knowledge proof: every clamp range that can be
    /// checked in two half-width parts is (`ClampSplit`). A hiding
    /// commitment costs by its committed size, and a direct clamp table of
    /// a 16-bit activation range is `2^16` rows of multiplicities (doubled as
    /// their `W`) against two `2^8`-row tables and two columns.
    pub fn new_zk(model: &QuantModel) -> Result<Self, ProveError> {
        Self::build(model, true)
    }

    fn build(model: &QuantModel, zk: bool) -> Result<Self, ProveError> {
        let n = model.tensors.len();
        if model.input >= n || model.output >= n {
            return Err(ProveError::Model(
                "input/output tensor id out of range".into(),
            ));
        }
        // Keys may come from untrusted files: refuse absurd shapes before sizing anything.
        for t in &model.tensors {
            let len = t
                .shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .and_then(|l| l.checked_mul(model.batch))
                .filter(|&l| (1..=1 << 32).contains(&l));
            if len.is_none() {
                return Err(ProveError::Model(format!(
                    "tensor '{}' has an unsupported shape {:?}",
                    t.name, t.shape
                )));
            }
        }
        // Tensor ids too: the limb-width choice below reads tensors by id.
        for (i, op) in model.ops.iter().enumerate() {
            let (inputs, output) = op.io();
            if inputs.iter().chain([&output]).any(|&t| t >= n) {
                return Err(ProveError::Model(format!(
                    "op #{i} refers to a tensor out of range"
                )));
            }
        }
        let limb_bits = choose_limb_bits(model);
        let mut kinds = vec![TensorKind::Virtual; n];
        kinds[model.input] = TensorKind::PublicInput;
        let mut b = LayoutBuilder {
            model,
            kinds,
            pads: vec![0i64; n],
            shapes: model
                .tensors
                .iter()
                .map(|t| PaddedShape::for_logical(&t.shape).batched(model.batch))
                .collect(),
            limb_bits,
            clamp_splits: clamp_splits(model, limb_bits.excess, zk),
            act_nv: Vec::new(),
            weight_nv: Vec::new(),
            tables: Vec::new(),
            dense_weights: Vec::new(),
        };
        let mut produced = vec![false; n];
        produced[model.input] = true;
        let mut op_proofs: Vec<Arc<dyn OpProof>> = Vec::with_capacity(model.ops.len());
        for (i, op) in model.ops.iter().enumerate() {
            let (inputs, output) = op.io();
            for &t in &inputs {
                if t >= n || !produced[t] {
                    return Err(ProveError::Model(format!(
                        "op #{i} reads tensor {t} before it is produced"
                    )));
                }
            }
            if output >= n || produced[output] {
                return Err(ProveError::Model(format!(
                    "op #{i} writes tensor {output} twice or out of range"
                )));
            }
            produced[output] = true;
            let proof = ops::lay_out(i, op, &mut b)?;
            debug_assert_eq!(proof.index(), i, "an op module records its own index");
            op_proofs.push(Arc::from(proof));
        }
        if !produced[model.output] {
            return Err(ProveError::Model(
                "the output tensor is never produced".into(),
            ));
        }
        let LayoutBuilder {
            kinds,
            pads,
            shapes,
            mut act_nv,
            weight_nv,
            mut tables,
            ..
        } = b;
        for t in &mut tables {
            for (w, cols) in t.witnesses.iter().enumerate() {
                let n = act_nv[cols[0].poly];
                match t.groups.iter_mut().find(|g| g.num_vars == n) {
                    Some(g) => g.members.push(w),
                    None => t.groups.push(WitnessGroup {
                        members: vec![w],
                        num_vars: n,
                    }),
                }
            }
            let len = table_len(model, &t.key);
            act_nv.push(PaddedShape::flat(len).num_vars());
            t.multiplicity_poly = act_nv.len() - 1;
        }
        Ok(Self {
            zk,
            kinds,
            limb_bits,
            activation_num_vars: act_nv,
            weight_num_vars: weight_nv,
            tables,
            pads,
            shapes,
            ops: op_proofs,
        })
    }

    /// Number of variables of tensor `t`'s polynomial.
    pub fn num_vars(&self, t: TensorId) -> usize {
        self.shapes[t].num_vars()
    }

    /// Tensor `t`'s values as its polynomial's evaluations (padding included).
    pub fn arrange(&self, t: TensorId, values: &[i64]) -> Vec<F> {
        let v: Vec<F> = values.iter().map(|&x| f_from_i64(x)).collect();
        self.shapes[t].arrange(&v, f_from_i64(self.pads[t]))
    }

    /// The MLE of [`Self::arrange`]`(t, values)` at `point`, without the
    /// arrangement ([`PaddedShape::evaluate`]: the verifier's public input
    /// and output, sparse where mostly padding).
    pub fn evaluate(&self, t: TensorId, values: &[i64], point: &[EF]) -> EF {
        self.shapes[t].evaluate(values, self.pads[t], point)
    }

    /// Tensor `t`'s values in its padded arrangement, as integers.
    pub fn arrange_ints(&self, t: TensorId, values: &[i64]) -> Vec<i64> {
        self.shapes[t].arrange(values, self.pads[t])
    }

    /// The kind of `t` after following aliases.
    pub fn kind(&self, t: TensorId) -> (TensorId, TensorKind) {
        let r = resolve(&self.kinds, t);
        (r, self.kinds[r])
    }
}

fn resolve(kinds: &[TensorKind], mut t: TensorId) -> TensorId {
    while let TensorKind::Alias(s) = kinds[t] {
        t = s;
    }
    t
}

/// The public table a key denotes.
pub fn table_for(model: &QuantModel, key: &TableKey) -> LookupTable {
    match key {
        TableKey::Range { bits } => LookupTable::range(*bits as usize),
        TableKey::Clamp {
            min,
            max,
            limb_bits,
        } => {
            let (es, ys) = clamp_rows(*min, *max, *limb_bits)
                .map(|(e, y)| (f_from_i64(e), f_from_i64(y)))
                .unzip();
            LookupTable::relation(es, ys)
        }
        TableKey::Saturate { bits, limb_bits } => {
            let (es, us) = saturate_rows(*bits, *limb_bits)
                .map(|(e, u)| (f_from_i64(e), f_from_i64(u)))
                .unzip();
            LookupTable::relation(es, us)
        }
        TableKey::Lut { op } => {
            let QOp::Lut { in_min, table, .. } = &model.ops[*op] else {
                unreachable!("only Lut ops name Lut tables")
            };
            let ys = table.iter().map(|&v| f_from_i64(v)).collect();
            LookupTable::function_on_range(*in_min, ys)
        }
    }
}

/// The number of rows of [`table_for`]`(model, key)`, without building it
/// (the soundness figure and the layout need only the count; a range or
/// clamp table has up to millions of rows).
pub fn table_len(model: &QuantModel, key: &TableKey) -> usize {
    // Rows of clamp-style tables: the free range, then `e = ±1..2^limb_bits`.
    let limbs = |limb_bits: u32| 2 * ((1usize << limb_bits) - 1);
    match key {
        TableKey::Range { bits } => 1usize << bits,
        TableKey::Clamp {
            min,
            max,
            limb_bits,
        } => (max - min + 1).max(0) as usize + limbs(*limb_bits),
        TableKey::Saturate { bits, limb_bits } => (1usize << bits) + limbs(*limb_bits),
        TableKey::Lut { op } => {
            let QOp::Lut { table, .. } = &model.ops[*op] else {
                unreachable!("only Lut ops name Lut tables")
            };
            table.len()
        }
    }
}

/// A signed integer tensor as field elements, padded to a power of two with `pad`.
pub fn padded_field(values: &[i64], pad: i64) -> Vec<F> {
    let n = values.len().next_power_of_two().max(1);
    let mut out: Vec<F> = values.iter().map(|&v| f_from_i64(v)).collect();
    out.resize(n, f_from_i64(pad));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    /// A fixture model compiled at default settings.
    fn fixture(name: &str) -> QuantModel {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
        let onnx = std::fs::read(format!("{dir}/{name}.onnx")).expect("fixture exists");
        let file = zkinfer_model::input::load_file(format!("{dir}/{name}.input.json"))
            .expect("fixture input");
        let opts = zkinfer_model::CompileOptions {
            tract_check: false,
            ..Default::default()
        };
        zkinfer_model::compile(&onnx, name, &file.entries, &opts)
            .expect("compiles")
            .0
    }

    #[test]
    fn table_len_counts_the_rows_table_for_builds() {
        let models = [
            synthetic::mlp(&[13, 7, 5], 1),
            synthetic::mlp_with_act_bits(&[9, 6, 4], 2, 6),
            synthetic::gated_mlp(6, 5, 3, 3),
            fixture("softmax"),
            fixture("clip_leaky"),
            fixture("unary_gelu"),
        ];
        let mut kinds = std::collections::HashSet::new();
        for model in &models {
            let layout = Layout::new(model).expect("lays out");
            for t in &layout.tables {
                assert_eq!(
                    table_len(model, &t.key),
                    table_for(model, &t.key).len(),
                    "{:?}",
                    t.key
                );
                kinds.insert(std::mem::discriminant(&t.key));
            }
        }
        // Range, Lut and at least one clamp kind.
        assert!(kinds.len() >= 3, "{kinds:?}");
    }

    #[test]
    fn table_len_of_clamp_style_keys() {
        let model = synthetic::mlp(&[3, 2], 1);
        for key in [
            TableKey::Range { bits: 5 },
            TableKey::Clamp {
                min: -3,
                max: 9,
                limb_bits: 0,
            },
            TableKey::Clamp {
                min: 4,
                max: 4,
                limb_bits: 3,
            },
            TableKey::Clamp {
                min: -128,
                max: 127,
                limb_bits: 4,
            },
            TableKey::Saturate {
                bits: 4,
                limb_bits: 2,
            },
            TableKey::Saturate {
                bits: 0,
                limb_bits: 1,
            },
        ] {
            assert_eq!(
                table_len(&model, &key),
                table_for(&model, &key).len(),
                "{key:?}"
            );
        }
    }
}

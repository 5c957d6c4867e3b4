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
//! - outputs of `Requant` and `Lut` are committed (they are lookup witnesses);
//! - outputs of `Dense` and `Add` are virtual: claims on them are reduced to
//!   claims on their inputs by the op's proof;
//! - `Reshape` outputs alias their input (same row-major data, same MLE).

use zkinfer_model::eval::requant_quotient;
use zkinfer_model::float::conv_out_dim;
use zkinfer_model::ir::{QOp, QuantModel, TensorId};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::logup::LookupTable;
use zkinfer_protocol::mle::num_vars_for;

use crate::error::ProveError;
use crate::requant::{choose_limb_bits, clamp_rows, clamp_splits, saturate_rows};
pub use crate::requant::{ClampSplit, LimbBits, RequantLayout, EXCESS_BITS};
use crate::shape::PaddedShape;
use crate::spatial::WindowAxis;

/// MaxPool inputs stay below this in magnitude (differences fit 16 bits).
pub const MAXPOOL_INPUT_BOUND: i64 = 1 << 15;

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

/// One looked-up column: committed polynomial `poly`, multiplied by `scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnRef {
    pub poly: usize,
    pub scale: u64,
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
    pub kinds: Vec<TensorKind>,
    /// Widths of remainder and excess limbs.
    pub limb_bits: LimbBits,
    /// `num_vars` of every activation polynomial, in commit order.
    pub activation_num_vars: Vec<usize>,
    /// Per op: `Some` for Requant.
    pub requants: Vec<Option<RequantLayout>>,
    /// Per op: `Some((weight_poly, bias_poly))` for Dense and Conv2d, indices under the weight commitment.
    pub weighted: Vec<Option<(usize, usize)>>,
    pub weight_num_vars: Vec<usize>,
    pub tables: Vec<TableLayout>,
    /// Padding value of every tensor (elementwise ops map padding to padding).
    pub pads: Vec<i64>,
    /// How every tensor sits in its polynomial.
    pub shapes: Vec<PaddedShape>,
    /// Per op: the geometry of Conv2d, MaxPool and SumPool.
    pub windows: Vec<Option<Window>>,
    /// Per op: `Some` for MaxPool.
    pub maxpools: Vec<Option<MaxPoolLayout>>,
}

/// Geometry of a sliding-window op on `[C, H, W]` images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub in_channels: usize,
    pub out_channels: usize,
    pub y: WindowAxis,
    pub x: WindowAxis,
}

impl Window {
    pub fn kernel_len(&self) -> usize {
        self.y.kernel * self.x.kernel
    }
}

/// How one `MaxPool` is proven: the committed output and, per kernel offset
/// `k`, the committed difference `d_k = y − x_k ≥ 0` (range-checked); a
/// sumcheck shows `Π_k d_k = 0`, i.e. the maximum is one of the window's values.
#[derive(Clone, Debug)]
pub struct MaxPoolLayout {
    pub y_poly: usize,
    pub diff_polys: Vec<usize>,
}

/// Element count of a weight tensor, `None` beyond 2^32 (like tensors: a
/// weight-free key must not announce a size that would wrap or be sized).
fn weight_count(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= 1 << 32)
}

/// Number of variables of a tensor of `len` elements.
pub fn nv(len: usize) -> usize {
    num_vars_for(len)
}

impl Layout {
    pub fn new(model: &QuantModel) -> Result<Self, ProveError> {
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
        let unsupported = |i: usize, what: &str| {
            Err(ProveError::Unsupported(format!(
                "op #{i} ({what}) is not supported by the prover yet; supported: Dense, Conv2d, MaxPool, SumPool (average pooling), Requant, Lut, Add, Reshape, Transpose (of images)"
            )))
        };
        let mut kinds = vec![TensorKind::Virtual; n];
        kinds[model.input] = TensorKind::PublicInput;
        let mut pads = vec![0i64; n];
        let mut act_nv = Vec::new();
        let mut requants = vec![None; model.ops.len()];
        let mut weighted = vec![None; model.ops.len()];
        let mut shapes: Vec<PaddedShape> = model
            .tensors
            .iter()
            .map(|t| PaddedShape::for_logical(&t.shape))
            .collect();
        let mut windows = vec![None; model.ops.len()];
        let mut maxpools = vec![None; model.ops.len()];
        let mut weight_nv = Vec::new();
        let mut tables: Vec<TableLayout> = Vec::new();
        let limb_bits = choose_limb_bits(model);
        let LimbBits {
            remainder: rem_bits,
            excess: exc_bits,
        } = limb_bits;
        let clamp_splits = clamp_splits(model, exc_bits);
        let mut produced = vec![false; n];
        produced[model.input] = true;

        let new_poly = |shape: &PaddedShape, act_nv: &mut Vec<usize>| {
            act_nv.push(shape.num_vars());
            act_nv.len() - 1
        };
        // Witness lists are filled first; multiplicity polys are appended at the end.
        let table_index = |tables: &mut Vec<TableLayout>, key: TableKey| match tables
            .iter()
            .position(|t| t.key == key)
        {
            Some(i) => i,
            None => {
                tables.push(TableLayout {
                    key,
                    witnesses: Vec::new(),
                    groups: Vec::new(),
                    multiplicity_poly: usize::MAX,
                });
                tables.len() - 1
            }
        };

        for (i, op) in model.ops.iter().enumerate() {
            let (inputs, output): (Vec<TensorId>, TensorId) = match op {
                QOp::Dense { input, output, .. } => (vec![*input], *output),
                QOp::Requant { input, output, .. } => (vec![*input], *output),
                QOp::Lut { input, output, .. } => (vec![*input], *output),
                QOp::Add { a, b, output, .. } => (vec![*a, *b], *output),
                QOp::Reshape { input, output } => (vec![*input], *output),
                QOp::Conv2d { input, output, .. }
                | QOp::MaxPool { input, output, .. }
                | QOp::SumPool { input, output, .. } => (vec![*input], *output),
                QOp::Transpose { input, output, .. } => (vec![*input], *output),
            };
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
            let len = |t: TensorId| model.tensors[t].len();
            match op {
                QOp::Dense {
                    input,
                    in_dim,
                    out_dim,
                    weight,
                    bias,
                    ..
                } => {
                    if len(*input) != *in_dim || len(output) != *out_dim {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Dense): shapes do not match in_dim/out_dim"
                        )));
                    }
                    // Weight-free structures (in a verifying key) carry empty vectors.
                    let size = weight_count(&[*in_dim, *out_dim]);
                    if size.is_none()
                        || !weight.is_empty() && size != Some(weight.len())
                        || !bias.is_empty() && bias.len() != *out_dim
                    {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Dense): weight or bias size mismatch"
                        )));
                    }
                    // The weight columns follow the input's arrangement (an image
                    // flattened by a Reshape keeps its per-axis padding).
                    weight_nv.push(nv(*out_dim) + shapes[*input].num_vars());
                    weight_nv.push(nv(*out_dim));
                    weighted[i] = Some((weight_nv.len() - 2, weight_nv.len() - 1));
                    shapes[output] = PaddedShape::flat(*out_dim);
                    pads[output] = 0;
                }
                QOp::Requant {
                    input,
                    multiplier,
                    shift,
                    min,
                    max,
                    ..
                } => {
                    if len(*input) != len(output) {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Requant): length mismatch"
                        )));
                    }
                    if *multiplier < 1
                        || *multiplier >= zkinfer_model::ir::MAX_REQUANT_MULTIPLIER
                        || *shift > zkinfer_model::ir::MAX_REQUANT_SHIFT
                        || min > max
                    {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Requant): parameters out of the provable range"
                        )));
                    }
                    let half = 1i64 << (zkinfer_model::ir::CLAMP_BITS - 1);
                    if *min < -half || *max >= half {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Requant): clamp range outside [-2^15, 2^15)"
                        )));
                    }
                    shapes[output] = shapes[*input].clone();
                    let l = &shapes[output];
                    let y_poly = new_poly(l, &mut act_nv);
                    kinds[output] = TensorKind::Committed { poly: y_poly };
                    let n_excess = EXCESS_BITS.div_ceil(exc_bits) as usize;
                    let excess_polys: Vec<usize> =
                        (0..n_excess).map(|_| new_poly(l, &mut act_nv)).collect();
                    let n_limbs = shift.div_ceil(rem_bits) as usize;
                    let limb_polys: Vec<usize> =
                        (0..n_limbs).map(|_| new_poly(l, &mut act_nv)).collect();
                    let top_bits = if n_limbs == 0 {
                        0
                    } else {
                        shift - rem_bits * (n_limbs as u32 - 1)
                    };
                    let split = clamp_splits
                        .iter()
                        .find(|c| (c.0, c.1) == (*min, *max))
                        .and_then(|c| c.2)
                        .map(|(hi_bits, lo_bits)| ClampSplit {
                            hi_poly: new_poly(l, &mut act_nv),
                            lo_poly: new_poly(l, &mut act_nv),
                            hi_bits,
                            lo_bits,
                        });
                    let col = |poly: usize| ColumnRef { poly, scale: 1 };
                    match split {
                        Some(sp) => {
                            for (part, bits) in [(sp.hi_poly, sp.hi_bits), (sp.lo_poly, sp.lo_bits)]
                            {
                                let t = table_index(
                                    &mut tables,
                                    TableKey::Saturate {
                                        bits,
                                        limb_bits: exc_bits,
                                    },
                                );
                                for &e in &excess_polys {
                                    tables[t].witnesses.push(vec![col(e), col(part)]);
                                }
                            }
                        }
                        None => {
                            let clamp = table_index(
                                &mut tables,
                                TableKey::Clamp {
                                    min: *min,
                                    max: *max,
                                    limb_bits: exc_bits,
                                },
                            );
                            for &e in &excess_polys {
                                tables[clamp].witnesses.push(vec![col(e), col(y_poly)]);
                            }
                        }
                    }
                    if n_limbs > 0 {
                        let range = table_index(&mut tables, TableKey::Range { bits: rem_bits });
                        for &p in &limb_polys {
                            tables[range]
                                .witnesses
                                .push(vec![ColumnRef { poly: p, scale: 1 }]);
                        }
                        if top_bits < rem_bits {
                            // top < 2^top_bits  <=>  top·2^(b−top_bits) < 2^b (top is also in range).
                            tables[range].witnesses.push(vec![ColumnRef {
                                poly: *limb_polys.last().expect("n_limbs > 0"),
                                scale: 1 << (rem_bits - top_bits),
                            }]);
                        }
                    }
                    requants[i] = Some(RequantLayout {
                        y_poly,
                        excess_polys,
                        limb_polys,
                        top_bits,
                        split,
                    });
                    let q = requant_quotient(pads[*input], *multiplier, *shift);
                    pads[output] = q.clamp(*min as i128, *max as i128) as i64;
                }
                QOp::Lut {
                    input,
                    in_min,
                    table,
                    ..
                } => {
                    let TensorKind::Committed { poly: x_poly } = kinds[resolve(&kinds, *input)]
                    else {
                        return Err(ProveError::Unsupported(format!(
                            "op #{i} (Lut): its input must be the output of a Requant or Lut"
                        )));
                    };
                    if len(*input) != len(output) || table.is_empty() {
                        return Err(ProveError::Model(format!("op #{i} (Lut): bad shapes")));
                    }
                    let pad_in = pads[*input];
                    let Some(&pad_out) = usize::try_from(pad_in - in_min)
                        .ok()
                        .and_then(|k| table.get(k))
                    else {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Lut): the domain does not contain the padding value {pad_in}"
                        )));
                    };
                    shapes[output] = shapes[*input].clone();
                    let y_poly = new_poly(&shapes[output], &mut act_nv);
                    kinds[output] = TensorKind::Committed { poly: y_poly };
                    let t = table_index(&mut tables, TableKey::Lut { op: i });
                    tables[t].witnesses.push(vec![
                        ColumnRef {
                            poly: x_poly,
                            scale: 1,
                        },
                        ColumnRef {
                            poly: y_poly,
                            scale: 1,
                        },
                    ]);
                    pads[output] = pad_out;
                }
                QOp::Add {
                    a, b, a_mul, b_mul, ..
                } => {
                    if len(*a) != len(output) || len(*b) != len(output) {
                        return Err(ProveError::Model(format!("op #{i} (Add): length mismatch")));
                    }
                    if shapes[*a] != shapes[*b] {
                        return Err(ProveError::Unsupported(format!(
                            "op #{i} (Add): its operands are laid out differently ({:?} vs {:?}); add tensors of the same shape",
                            shapes[*a].dims, shapes[*b].dims
                        )));
                    }
                    shapes[output] = shapes[*a].clone();
                    pads[output] = a_mul * pads[*a] + b_mul * pads[*b];
                }
                QOp::Reshape { input, .. } => {
                    if len(*input) != len(output) {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Reshape): length mismatch"
                        )));
                    }
                    kinds[output] = TensorKind::Alias(*input);
                    shapes[output] = shapes[*input].clone();
                    pads[output] = pads[*input];
                }
                QOp::Transpose { input, perm, .. } => {
                    // Per-axis padding makes a transpose a permutation of the
                    // polynomial's variable groups: no proof, only claim routing.
                    let dims = &shapes[*input].dims;
                    let logical = &model.tensors[*input].shape;
                    let mut sorted = perm.clone();
                    sorted.sort_unstable();
                    if dims != logical
                        || perm.len() != dims.len()
                        || sorted != (0..dims.len()).collect::<Vec<_>>()
                    {
                        return unsupported(
                            i,
                            "Transpose of a tensor that is not laid out as an image",
                        );
                    }
                    let out_dims: Vec<usize> = perm.iter().map(|&a| dims[a]).collect();
                    if out_dims != model.tensors[output].shape {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Transpose): output shape does not match the permutation"
                        )));
                    }
                    shapes[output] = PaddedShape { dims: out_dims };
                    pads[output] = pads[*input];
                }
                QOp::Conv2d {
                    input,
                    kernel_shape,
                    weight,
                    bias,
                    strides,
                    pads: conv_pads,
                    ..
                } => {
                    let [oc, ic, kh, kw] = *kernel_shape;
                    let w = window(
                        model,
                        &shapes,
                        i,
                        "Conv2d",
                        *input,
                        output,
                        [kh, kw],
                        *strides,
                        *conv_pads,
                    )?;
                    if w.in_channels != ic || w.out_channels != oc {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Conv2d): kernel {kernel_shape:?} does not match the input/output channels"
                        )));
                    }
                    let size = weight_count(kernel_shape);
                    if size.is_none()
                        || !weight.is_empty() && size != Some(weight.len())
                        || !bias.is_empty() && bias.len() != oc
                    {
                        return Err(ProveError::Model(format!(
                            "op #{i} (Conv2d): weight or bias size mismatch"
                        )));
                    }
                    weight_nv.push(nv(oc) + nv(ic) + nv(kh) + nv(kw));
                    weight_nv.push(nv(oc));
                    weighted[i] = Some((weight_nv.len() - 2, weight_nv.len() - 1));
                    windows[i] = Some(w);
                    pads[output] = 0;
                }
                QOp::SumPool {
                    input,
                    kernel,
                    strides,
                    pads: pool_pads,
                    ..
                } => {
                    let w = keeps_channels(
                        window(
                            model, &shapes, i, "SumPool", *input, output, *kernel, *strides,
                            *pool_pads,
                        )?,
                        i,
                        "SumPool",
                    )?;
                    windows[i] = Some(w);
                    pads[output] = 0;
                }
                QOp::MaxPool {
                    input,
                    kernel,
                    strides,
                    pads: pool_pads,
                    ..
                } => {
                    let w = keeps_channels(
                        window(
                            model, &shapes, i, "MaxPool", *input, output, *kernel, *strides,
                            *pool_pads,
                        )?,
                        i,
                        "MaxPool",
                    )?;
                    if pool_pads.iter().any(|&p| p != 0) {
                        return Err(ProveError::Unsupported(format!(
                            "op #{i} (MaxPool): padded max pooling is not supported by the prover yet"
                        )));
                    }
                    // Differences y − x_k ∈ [0, 2·bound] are range-checked.
                    let bound = model.tensors[*input].bound;
                    if bound >= MAXPOOL_INPUT_BOUND {
                        return Err(ProveError::Unsupported(format!(
                            "op #{i} (MaxPool): its input may exceed 16 bits (bound {}); pool after a requantization",
                            model.tensors[*input].bound
                        )));
                    }
                    let y_poly = new_poly(&shapes[output], &mut act_nv);
                    kinds[output] = TensorKind::Committed { poly: y_poly };
                    let diff_polys: Vec<usize> = (0..w.kernel_len())
                        .map(|_| new_poly(&shapes[output], &mut act_nv))
                        .collect();
                    let bits = (64 - (2 * bound.max(0) as u64).leading_zeros()).max(rem_bits);
                    let range = table_index(&mut tables, TableKey::Range { bits });
                    for &p in &diff_polys {
                        tables[range]
                            .witnesses
                            .push(vec![ColumnRef { poly: p, scale: 1 }]);
                    }
                    maxpools[i] = Some(MaxPoolLayout { y_poly, diff_polys });
                    windows[i] = Some(w);
                    pads[output] = 0;
                }
            }
        }
        if !produced[model.output] {
            return Err(ProveError::Model(
                "the output tensor is never produced".into(),
            ));
        }
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
            let len = table_for(model, &t.key).len();
            t.multiplicity_poly = new_poly(&PaddedShape::flat(len), &mut act_nv);
        }
        Ok(Self {
            kinds,
            limb_bits,
            activation_num_vars: act_nv,
            requants,
            weighted,
            weight_num_vars: weight_nv,
            tables,
            pads,
            shapes,
            windows,
            maxpools,
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
                unreachable!("layout only names Lut ops here")
            };
            let xs = (0..table.len() as i64)
                .map(|k| f_from_i64(in_min + k))
                .collect();
            let ys = table.iter().map(|&v| f_from_i64(v)).collect();
            LookupTable::function(xs, ys)
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

/// `2^k` as a field element.
pub fn pow2(k: u32) -> F {
    F::from_u64(1u64 << k)
}

/// A pooling op's [`window`] must keep the channel count.
fn keeps_channels(w: Window, i: usize, what: &str) -> Result<Window, ProveError> {
    if w.in_channels != w.out_channels {
        return Err(ProveError::Model(format!(
            "op #{i} ({what}): channel count changes"
        )));
    }
    Ok(w)
}

/// Checks a window op's shapes and returns its geometry. Its input must be
/// laid out as a `[C, H, W]` image (not a flat tensor reshaped into one).
#[allow(clippy::too_many_arguments)]
fn window(
    model: &QuantModel,
    shapes: &[PaddedShape],
    i: usize,
    what: &str,
    input: TensorId,
    output: TensorId,
    kernel: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
) -> Result<Window, ProveError> {
    let (ish, osh) = (&model.tensors[input].shape, &model.tensors[output].shape);
    if ish.len() != 3 || osh.len() != 3 || shapes[input].dims != *ish {
        return Err(ProveError::Unsupported(format!(
            "op #{i} ({what}): input {ish:?} must be a [C, H, W] image laid out as one (not reshaped from a flat tensor)"
        )));
    }
    let axis = |a: usize| -> Result<WindowAxis, ProveError> {
        let out = conv_out_dim(ish[1 + a], kernel[a], strides[a], pads[a], pads[a + 2]);
        if out != Some(osh[1 + a]) || kernel[a] == 0 {
            return Err(ProveError::Model(format!(
                "op #{i} ({what}): output shape {osh:?} does not match input {ish:?}, kernel {kernel:?}, strides {strides:?}, pads {pads:?}"
            )));
        }
        Ok(WindowAxis {
            in_len: ish[1 + a],
            out_len: osh[1 + a],
            kernel: kernel[a],
            stride: strides[a],
            pad: pads[a],
        })
    };
    Ok(Window {
        in_channels: ish[0],
        out_channels: osh[0],
        y: axis(0)?,
        x: axis(1)?,
    })
}

//! Where every polynomial of a zero-knowledge proof's one hiding commitment
//! sits, derived from the layout alone so that prover and verifier agree.
//!
//! Order: each committed activation column's `W = [V; R]` (layout order,
//! multiplicities excepted), the private input's limb columns' `W`s
//! (`input_range.rs`), the private input's `W`, each lookup table's
//! multiplicities as their LogUp `W`, each op's sumcheck mask `g` (op
//! order), each never-committed tensor's claim mask (tensor order), each
//! op's inner step (op order: its `g`, then its inner tensor's claim mask),
//! then the LogUp-GKR's own masks.
//!
//! A committed column's `R` reads its top `h` bits: `2^h ≥ 2·reads`, the
//! reads being the op sumchecks that read it (one each) and the lookup
//! trees it is a column of (two each: both halves of the leaf layer), so
//! every revealed masked value stays uniform.

use rand::rngs::StdRng;
use rand::SeedableRng;
use zkinfer_model::ir::{QuantModel, TensorId};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::logup::zk::LookupMasks;
use zkinfer_protocol::logup::LookupTable;
use zkinfer_protocol::mle::num_vars_for;
use zkinfer_protocol::sumcheck::zk::masked_eval::claim_mask_vars;
use zkinfer_protocol::sumcheck::zk::table_num_vars;

use super::input_range::{self, InputRange};
use super::one_hot::{self, OneHot};
use super::output_link::{self, OutputLink};
use super::Visibility;
use crate::error::ProveError;
use crate::layout::{table_for, Layout, TableKey, TensorKind};

/// Where a looked-up column comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Committed activation polynomial `p`.
    Act(usize),
}

/// One looked-up column: `scale·source + offset`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ZkColumn {
    pub source: Source,
    pub scale: F,
    pub offset: F,
}

/// A lookup table and its witnesses, merged as in a plain proof: the
/// witnesses of one size are one LogUp tree (`lookups.rs`), whose leaf
/// halves split the members, so each member column is read once there (a
/// lone member twice: its halves are its own).
#[derive(Clone, Debug)]
pub(crate) struct ZkTable {
    pub key: TableKey,
    /// Per tree, its members (each a tuple of columns as wide as the table),
    /// all over `num_vars` variables.
    pub groups: Vec<ZkGroup>,
    /// Its multiplicities' `W` in the hiding commitment.
    pub multiplicity_poly: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct ZkGroup {
    pub members: Vec<Vec<ZkColumn>>,
    pub num_vars: usize,
}

impl ZkGroup {
    /// Leaf-layer reads of each member column: one, or two for a lone member.
    pub fn reads_per_column(&self) -> usize {
        if self.members.len() == 1 {
            2
        } else {
            1
        }
    }

    /// Member-selector variables in front of a member's own.
    pub fn selector_vars(&self) -> usize {
        num_vars_for(self.members.len())
    }
}

/// A committed input's `W` index: it is alone in its own commitment
/// (`committed.rs`); claims filed with this index are moved to that
/// commitment's opening (as its polynomial 0) before the openings.
pub(crate) const COMMITTED_INPUT_POLY: usize = usize::MAX;
/// A committed output's `W` index, as [`COMMITTED_INPUT_POLY`].
pub(crate) const COMMITTED_OUTPUT_POLY: usize = usize::MAX - 1;

/// A committed tensor's `W`: its index and `R`'s head bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MaskedW {
    pub poly: usize,
    pub num_vars: usize,
    pub head_bits: usize,
}

/// One op's masked sumcheck: its mask `g`'s index and shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpMask {
    pub poly: usize,
    pub num_vars: usize,
    pub degree: usize,
}

/// What an op's zero-knowledge step reads, for the plan: its sumcheck's
/// shape and every tensor and committed column it reads as a masked factor.
#[derive(Clone, Debug, Default)]
pub(crate) struct ZkStep {
    /// `(num_vars, degree)` of its sumcheck, if it runs one.
    pub sumcheck: Option<(usize, usize)>,
    pub tensors: Vec<TensorId>,
    pub columns: Vec<usize>,
}

/// An op's second masked sumcheck ([`crate::ops::OpProof::zk_inner`]): its
/// first sumcheck reads a tensor internal to the op (never committed, no
/// model tensor) through a claim mask, and this one proves that claim as
/// an incoming claim, so the value passed between the two stays masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ZkInner {
    /// Masked factors in one term of the op's first sumcheck (its
    /// soundness charge: a cheating `W` raises the last round by as many).
    pub outer_masked: usize,
    /// `(num_vars, degree)` of the inner sumcheck.
    pub sumcheck: (usize, usize),
    /// Masked factors in one term of the inner sumcheck.
    pub inner_masked: usize,
    /// Variables of the inner tensor (its one masked claim's point).
    pub num_vars: usize,
}

/// Where an op's inner step sits in the hiding commitment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InnerAt {
    pub step: ZkInner,
    pub mask: OpMask,
    pub claim: ClaimMaskAt,
}

/// A never-committed tensor's claim mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClaimMaskAt {
    pub poly: usize,
    pub head_vars: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct ZkPlan {
    /// Per activation polynomial (`None` for multiplicities), then the
    /// private input's limb columns ([`InputRange::columns`]).
    pub act: Vec<Option<MaskedW>>,
    /// The private input's `W` (`poly` is [`COMMITTED_INPUT_POLY`] for a
    /// committed input).
    pub input: Option<MaskedW>,
    /// The private input's range check (none for an input of one-hot rows
    /// alone: the one-hot check implies it).
    pub input_range: Option<InputRange>,
    /// The private input's one-hot check.
    pub one_hot: Option<OneHot>,
    /// A committed output's `W` (`poly` is [`COMMITTED_OUTPUT_POLY`]) and
    /// the step tying it to the computed output.
    pub output: Option<MaskedW>,
    pub output_link: Option<OutputLink>,
    pub tables: Vec<ZkTable>,
    /// Per op index, then the input range check's (index `ops.len()`),
    /// the output link's (`ops.len() + 1`) and the one-hot check's
    /// (`ops.len() + 2`).
    pub op_masks: Vec<Option<OpMask>>,
    /// Per tensor (never-committed ones with masked claims).
    pub claim_masks: Vec<Option<ClaimMaskAt>>,
    /// Per op index, its inner step if it has one.
    pub inner: Vec<Option<InnerAt>>,
    /// Index of the LogUp-GKR's first mask table.
    pub lookup_first_poly: usize,
    /// Every committed polynomial's variables, in order.
    pub poly_num_vars: Vec<usize>,
}

fn unsupported(msg: String) -> ProveError {
    ProveError::Unsupported(format!("zero-knowledge proofs: {msg}"))
}

/// `R`'s head bits for `reads` revealed evaluations of a table over
/// `num_vars` variables (at least 2, fewer than `num_vars`).
fn head_bits(reads: usize, num_vars: usize, what: &str) -> Result<usize, ProveError> {
    let h = claim_mask_vars(reads).max(2);
    if h >= num_vars {
        return Err(unsupported(format!(
            "{what} has 2^{num_vars} entries, too few to hide its {reads} masked evaluations (it needs more than 2^{h})"
        )));
    }
    Ok(h)
}

impl ZkPlan {
    pub fn new(
        model: &QuantModel,
        layout: &Layout,
        visibility: Visibility,
    ) -> Result<Self, ProveError> {
        let private_input = visibility.hides_input();
        let separate_input = visibility.input == super::InputVisibility::Committed;
        // A private token input is proven one-hot (which implies the range
        // of an input that is nothing but the rows).
        let one_hot = if private_input {
            OneHot::new(model, layout)?
        } else {
            None
        };
        let n_act = layout.activation_num_vars.len();
        let input_range = (private_input && !one_hot.as_ref().is_some_and(OneHot::implies_range))
            .then(|| InputRange::new(model, layout, n_act))
            .transpose()?;
        let tables = zk_tables(model, layout, input_range.as_ref())?;
        // The ops' steps, in proving order (backwards).
        let masked =
            |t: TensorId| !matches!(layout.kind(t).1, TensorKind::PublicInput) || private_input;
        let mut steps: Vec<(usize, ZkStep, Option<ZkInner>)> = Vec::new();
        for op in layout.ops.iter().rev() {
            let i = op.index();
            let step = op.zk_step(layout, &masked).ok_or_else(|| {
                unsupported(format!(
                    "op #{i} ({}) has no zero-knowledge step yet",
                    model.ops[i].name()
                ))
            })?;
            steps.push((i, step, op.zk_inner(layout, &masked)));
        }
        let n_cols = n_act + input_range.map_or(0, |r| 2 * r.limbs);
        let mut col_reads = vec![0usize; n_cols];
        // The range check's zero-check reads the input and each limb once.
        // So does the one-hot check.
        let mut input_reads = usize::from(input_range.is_some()) + usize::from(one_hot.is_some());
        if let Some(r) = &input_range {
            col_reads_of(&r.columns().collect::<Vec<_>>(), &mut col_reads);
        }
        let mut tensor_claims = vec![0usize; model.tensors.len()];
        let output_link =
            (visibility.output == super::OutputVisibility::Committed).then(|| OutputLink {
                step: model.ops.len() + 1,
                num_vars: layout.num_vars(model.output),
            });
        if output_link.is_some() {
            // The link reads the computed output once.
            match layout.kind(model.output) {
                (_, TensorKind::Committed { poly }) => col_reads[poly] += 1,
                (r, TensorKind::Virtual) => tensor_claims[r] += 1,
                _ => {
                    return Err(unsupported(
                        "a committed output that is the model's input".into(),
                    ))
                }
            }
        }
        for (_, step, _) in &steps {
            col_reads_of(&step.columns, &mut col_reads);
            for &t in &step.tensors {
                match layout.kind(t) {
                    (_, TensorKind::Committed { poly }) => col_reads[poly] += 1,
                    (r, TensorKind::Virtual) => tensor_claims[r] += 1,
                    (_, TensorKind::PublicInput) => input_reads += usize::from(private_input),
                    (_, TensorKind::Alias(_)) => unreachable!("resolved"),
                }
            }
        }
        for t in &tables {
            for g in &t.groups {
                for c in g.members.iter().flatten().filter(|c| c.scale != F::ZERO) {
                    let Source::Act(p) = c.source;
                    col_reads[p] += g.reads_per_column();
                }
            }
        }
        let multiplicity: Vec<bool> = {
            let mut m = vec![false; n_act];
            for t in &layout.tables {
                m[t.multiplicity_poly] = true;
            }
            m
        };
        let mut poly_num_vars = Vec::new();
        let mut push = |n: usize| {
            poly_num_vars.push(n);
            poly_num_vars.len() - 1
        };
        let mut act = Vec::with_capacity(n_cols);
        for p in 0..n_cols {
            if p < n_act && multiplicity[p] {
                act.push(None);
                continue;
            }
            let n = match input_range {
                Some(r) if p >= n_act => r.num_vars,
                _ => layout.activation_num_vars[p],
            };
            let h = head_bits(col_reads[p], n, &format!("committed column {p}"))?;
            act.push(Some(MaskedW {
                poly: push(n + 1),
                num_vars: n,
                head_bits: h,
            }));
        }
        let input = if private_input {
            let n = layout.num_vars(model.input);
            let h = head_bits(input_reads, n, "the private input")?;
            Some(MaskedW {
                poly: if separate_input {
                    COMMITTED_INPUT_POLY
                } else {
                    push(n + 1)
                },
                num_vars: n,
                head_bits: h,
            })
        } else {
            None
        };
        let output = match output_link {
            Some(link) => Some(MaskedW {
                poly: COMMITTED_OUTPUT_POLY,
                num_vars: link.num_vars,
                head_bits: head_bits(1, link.num_vars, "the committed output")?,
            }),
            None => None,
        };
        let tables: Vec<ZkTable> = tables
            .into_iter()
            .map(|mut t| {
                let rows = table_for(model, &t.key).len();
                t.multiplicity_poly = push(tree_depth(rows) + 1);
                t
            })
            .collect();
        // In op order (the prover commits them so).
        let mut op_masks = vec![None; model.ops.len() + 3];
        let mut mask = |(n, d): (usize, usize)| {
            Some(OpMask {
                poly: push(table_num_vars(n, d)),
                num_vars: n,
                degree: d,
            })
        };
        for (i, step, _) in steps.iter().rev() {
            if let Some(shape) = step.sumcheck {
                op_masks[*i] = mask(shape);
            }
        }
        if let Some(r) = &input_range {
            op_masks[r.step] = mask((r.num_vars, input_range::DEGREE));
        }
        if let Some(l) = &output_link {
            op_masks[l.step] = mask((l.num_vars, output_link::DEGREE));
        }
        if let Some(c) = &one_hot {
            op_masks[c.step] = mask((c.num_vars, one_hot::DEGREE));
        }
        let mut claim_masks = vec![None; model.tensors.len()];
        for (t, &claims) in tensor_claims.iter().enumerate() {
            if claims == 0 {
                continue;
            }
            let head_vars = claim_mask_vars(claims);
            if head_vars >= layout.num_vars(t) {
                return Err(unsupported(format!(
                    "tensor '{}' has too few entries to hide its {claims} masked claims",
                    model.tensors[t].name
                )));
            }
            claim_masks[t] = Some(ClaimMaskAt {
                poly: push(head_vars + 1),
                head_vars,
            });
        }
        let mut inner = vec![None; model.ops.len()];
        for (i, _, step) in steps.iter().rev() {
            let Some(step) = *step else { continue };
            let head_vars = claim_mask_vars(1);
            if head_vars >= step.num_vars {
                return Err(unsupported(format!(
                    "op #{i} ({}) has too few outputs to hide its inner claim",
                    model.ops[*i].name()
                )));
            }
            let (n, d) = step.sumcheck;
            let mask = OpMask {
                poly: push(table_num_vars(n, d)),
                num_vars: n,
                degree: d,
            };
            let claim = ClaimMaskAt {
                poly: push(head_vars + 1),
                head_vars,
            };
            inner[*i] = Some(InnerAt { step, mask, claim });
        }
        for op in &layout.ops {
            for (t, limit) in op.zk_head_limits() {
                let head = match layout.kind(t) {
                    (_, TensorKind::Committed { poly }) => act[poly].map(|w| w.head_bits),
                    (r, TensorKind::Virtual) => claim_masks[r].map(|c| c.head_vars),
                    (_, TensorKind::PublicInput) => input.map(|w| w.head_bits),
                    (_, TensorKind::Alias(_)) => unreachable!("resolved"),
                };
                if let Some(h) = head.filter(|&h| h >= limit) {
                    let i = op.index();
                    return Err(unsupported(format!(
                        "op #{i} ({}): the mask of '{}' reads {h} head variables, its read allows fewer than {limit}",
                        model.ops[i].name(),
                        model.tensors[t].name
                    )));
                }
            }
        }
        let lookup_first_poly = poly_num_vars.len();
        if !tables.is_empty() {
            let lens = table_shapes(model, &tables);
            let shapes: Vec<(usize, &[usize])> =
                lens.iter().map(|(t, w)| (*t, w.as_slice())).collect();
            // The LogUp masks' sizes depend on the shapes only: the values
            // drawn here are never used.
            let masks = LookupMasks::random(&shapes, &mut StdRng::seed_from_u64(0));
            poly_num_vars.extend(masks.tables().iter().map(|t| num_vars_for(t.len())));
        }
        Ok(Self {
            act,
            input,
            input_range,
            one_hot,
            output,
            output_link,
            tables,
            op_masks,
            claim_masks,
            inner,
            lookup_first_poly,
            poly_num_vars,
        })
    }

    /// `(table rows, tree lengths)` per table, as the LogUp proof sees them.
    pub fn lookup_shapes(&self, model: &QuantModel) -> Vec<(usize, Vec<usize>)> {
        table_shapes(model, &self.tables)
    }

    /// The LogUp tables, built.
    pub fn lookup_tables(&self, model: &QuantModel) -> Vec<LookupTable> {
        self.tables
            .iter()
            .map(|t| table_for(model, &t.key))
            .collect()
    }
}

/// A LogUp tree's depth for `len` leaves (`logup::zk`: at least 3).
pub(crate) fn tree_depth(len: usize) -> usize {
    num_vars_for(len).max(3)
}

fn col_reads_of(columns: &[usize], reads: &mut [usize]) {
    for &p in columns {
        reads[p] += 1;
    }
}

fn table_shapes(model: &QuantModel, tables: &[ZkTable]) -> Vec<(usize, Vec<usize>)> {
    tables
        .iter()
        .map(|t| {
            let lens = t
                .groups
                .iter()
                .map(|g| g.members.len() << g.num_vars)
                .collect();
            (table_for(model, &t.key).len(), lens)
        })
        .collect()
}

/// The layout's tables with every witness on its own, plus the private
/// input's limbs in their range table (`input_range.rs`; a public input is
/// checked by the verifier instead).
fn zk_tables(
    model: &QuantModel,
    layout: &Layout,
    input_range: Option<&InputRange>,
) -> Result<Vec<ZkTable>, ProveError> {
    let mut tables: Vec<ZkTable> = layout
        .tables
        .iter()
        .map(|t| ZkTable {
            key: t.key.clone(),
            groups: t
                .groups
                .iter()
                .map(|g| ZkGroup {
                    members: g
                        .members
                        .iter()
                        .map(|&m| {
                            t.witnesses[m]
                                .iter()
                                .map(|c| ZkColumn {
                                    source: Source::Act(c.poly),
                                    scale: F::from_u64(c.scale),
                                    offset: f_from_i64(c.offset),
                                })
                                .collect()
                        })
                        .collect(),
                    num_vars: g.num_vars,
                })
                .collect(),
            multiplicity_poly: usize::MAX,
        })
        .collect();
    if let Some(r) = input_range {
        // One tree of all the limb columns: each read once by it.
        let members = r
            .columns()
            .map(|p| {
                vec![ZkColumn {
                    source: Source::Act(p),
                    scale: F::ONE,
                    offset: F::ZERO,
                }]
            })
            .collect();
        let group = ZkGroup {
            members,
            num_vars: layout.num_vars(model.input),
        };
        let key = r.key();
        match tables.iter_mut().find(|t| t.key == key) {
            Some(t) => t.groups.push(group),
            None => tables.push(ZkTable {
                key,
                groups: vec![group],
                multiplicity_poly: usize::MAX,
            }),
        }
    }
    // A tree's leaf masks read a head variable that is not its last.
    for t in &tables {
        for g in &t.groups {
            if g.num_vars + g.selector_vars() < 3 {
                return Err(unsupported(format!(
                    "a looked-up column of {} entries (at least 8 needed)",
                    1usize << g.num_vars
                )));
            }
        }
    }
    Ok(tables)
}

//! The whole proof's soundness, computed from the model structure and the
//! commitment parameters (never assumed).
//!
//! Components (union bound, `security::combine_bits`):
//! - the two WHIR openings, as p3-whir computes them for the stacked size and
//!   claim count (proven Johnson-bound regime);
//! - every sumcheck (`rounds · degree / |EF|`), every LogUp GKR layer and the
//!   LogUp rational identity (`rows / |EF|`), every random-point reduction,
//!   every random linear combination:
//!   - the output's random point (the claimed output's MLE at a fresh point);
//!   - every op's own terms (`OpProof::soundness_terms`): a Requant's
//!     entrywise identity at its point (and a split clamp's); the claim
//!     batching of Dense/Conv/SumPool/MaxPool/Mul (independent coefficients
//!     ρ, σ: `1/|EF|` each, charged conservatively as 64 claims' worth), every
//!     sumcheck, MaxPool's zero-product identity;
//!   - per LogUp table: the rational identity in `α` and the column
//!     combination `β`; per GKR layer the batching of every tree's two claims
//!     by powers of `λ` (`(2·trees − 1)/|EF|`), the degree-3 sumcheck and
//!     the line reduction `μ` (the top's fold `μ_0` is covered by charging
//!     one sumcheck more than there are layers).
//!
//! Add, Reshape, Transpose, the lookups' member combination and the check of
//! claims on the public input are exact (no randomness, no error). An empty
//! commitment is never opened: no term. In the list-decoding regime the outer
//! checks are charged over the candidate lists of the commitments they read
//! (`pcs_list_size_bits` lost per commitment): layer reductions over both,
//! lookups — which read only committed activations — over the activation
//! commitment's.

use zkinfer_protocol::pcs::{commitment_security, part_num_vars};
use zkinfer_protocol::pcs::{hiding_reduction_bits, HidingParams, HidingPcs, PcsParams};
use zkinfer_protocol::security::{
    combine_bits, log2_ef_order, masked_eval_sumcheck_bits, pcs_list_size_bits, sumcheck_bits,
    zk_logup_layer_bits, zk_logup_root_bits,
};

use crate::keys::{activation_params_for, VerifyingKey};
use crate::layout::{nv, table_len, Layout};
use crate::ops::{random_point_bits, ClaimCounter};
use crate::zk::plan::{tree_depth, MaskedW, ZkPlan, COMMITTED_INPUT_POLY};

#[derive(Clone, Debug)]
pub struct SecurityReport {
    /// `(component, bits)`.
    pub components: Vec<(String, f64)>,
    pub total_bits: f64,
    pub assumption: &'static str,
}

/// Claim counts per commitment, by replaying the claim routing on counts only.
pub(crate) fn claim_counts(vk: &VerifyingKey, layout: &Layout) -> (usize, usize) {
    let model = &vk.structure;
    let mut c = ClaimCounter {
        layout,
        pending: vec![0; model.tensors.len()],
        activation: 0,
        weights: 0,
    };
    for t in &layout.tables {
        c.activation += t.witnesses.iter().map(|w| w.len()).sum::<usize>() + 1;
    }
    c.route(model.output, 1);
    for op in layout.ops.iter().rev() {
        op.count_claims(&mut c);
    }
    (c.weights, c.activation)
}

/// A commitment's WHIR instance sizes for the report: `2^24 + 2^22`.
fn sizes(params: &zkinfer_protocol::pcs::PcsParams, nvs: &[usize]) -> String {
    part_num_vars(params, nvs).map_or_else(
        || "overflowing size".into(),
        |v| {
            v.iter()
                .map(|n| format!("2^{n}"))
                .collect::<Vec<_>>()
                .join(" + ")
        },
    )
}

/// Every outer (non-opening) soundness term, `(what, bits)`, in two groups:
/// layer terms read both commitments, lookup terms only the activations.
#[derive(Clone, Debug, Default)]
pub(crate) struct OuterTerms {
    pub layers: Vec<(String, f64)>,
    pub lookups: Vec<(String, f64)>,
}

fn outer_terms(vk: &VerifyingKey, layout: &Layout) -> OuterTerms {
    let model = &vk.structure;
    let mut terms = OuterTerms::default();
    let layers = &mut terms.layers;
    // The claimed output's MLE at a fresh random point stands for the output.
    layers.push((
        "output random point".into(),
        random_point_bits(layout.num_vars(model.output)),
    ));
    for op in &layout.ops {
        let i = op.index();
        let name = model.ops[i].name();
        for (what, bits) in op.soundness_terms(layout) {
            layers.push((format!("op #{i} ({name}): {what}"), bits));
        }
    }
    // A rational identity per table; per LogUp-GKR proof (a batch of
    // tables, `lookups::batches`) one walk over its tables' trees.
    for (ti, t) in layout.tables.iter().enumerate() {
        let at = |what: &str| format!("table #{ti} ({:?}): {what}", t.key);
        let rows: usize = table_len(model, &t.key)
            + t.witnesses
                .iter()
                .map(|w| 1usize << layout.activation_num_vars[w[0].poly])
                .sum::<usize>();
        // Rational identity in α (degree ≤ rows) and the column combination in β.
        terms.lookups.push((
            at("rational identity (α, β)"),
            log2_ef_order() - (2.0 * rows as f64).log2(),
        ));
    }
    for (bi, batch) in crate::lookups::batches(layout).iter().enumerate() {
        // One tree per witness group and one per table.
        let trees: usize = batch
            .iter()
            .map(|&t| layout.tables[t].groups.len() + 1)
            .sum();
        let depth = batch
            .iter()
            .map(|&t| nv(crate::lookups::table_rows(layout, &layout.tables[t])))
            .max()
            .unwrap_or(0);
        // Each layer batches every tree's two claims by powers of λ, then runs
        // a degree-3 sumcheck and a line reduction.
        let at = |what: &str| format!("LogUp proof #{bi}: {what}");
        let lambda = log2_ef_order() - ((2 * trees - 1) as f64).log2();
        for layer in 1..=depth {
            terms.lookups.push((at("GKR layer batching λ"), lambda));
            terms
                .lookups
                .push((at("GKR layer sumcheck"), sumcheck_bits(layer, 3)));
            terms
                .lookups
                .push((at("GKR line reduction μ"), log2_ef_order() - 2f64.log2()));
        }
    }
    terms
}

/// Bits and log2 candidate-list size of a commitment's opening; `None` for an
/// empty commitment (nothing opened: no error, a single candidate). Fails
/// closed (0 bits, an infinite list) when p3 gives no figure.
fn opening(params: &PcsParams, nvs: &[usize], claims: usize) -> Option<(f64, f64)> {
    if nvs.is_empty() {
        return None;
    }
    Some(commitment_security(params, nvs, claims.max(1)).unwrap_or((0.0, f64::INFINITY)))
}

/// Composes the report: the openings as given, the layer terms over both
/// candidate lists, the lookup terms over the activation list; union bound.
fn compose(
    mut components: Vec<(String, f64)>,
    terms: &OuterTerms,
    weight_list_bits: f64,
    act_list_bits: f64,
) -> SecurityReport {
    let bits_of = |t: &[(String, f64)]| t.iter().map(|(_, b)| *b).collect::<Vec<_>>();
    if !terms.layers.is_empty() {
        components.push((
            format!(
                "output point, layer sumchecks and reductions ({} terms, over both candidate lists)",
                terms.layers.len()
            ),
            combine_bits(&bits_of(&terms.layers)) - weight_list_bits - act_list_bits,
        ));
    }
    if !terms.lookups.is_empty() {
        components.push((
            format!(
                "lookups ({} terms, over the activation candidate list)",
                terms.lookups.len()
            ),
            combine_bits(&bits_of(&terms.lookups)) - act_list_bits,
        ));
    }
    let bits: Vec<f64> = components.iter().map(|c| c.1).collect();
    SecurityReport {
        total_bits: combine_bits(&bits),
        components,
        assumption: "proven (WHIR in the Johnson-bound list-decoding or, where its parameters say so, the unique-decoding regime; Schwartz–Zippel elsewhere); hashes modelled as random oracles",
    }
}

pub fn report(vk: &VerifyingKey) -> SecurityReport {
    let Ok(layout) = Layout::new(&vk.structure) else {
        return SecurityReport {
            components: Vec::new(),
            total_bits: 0.0,
            assumption: "invalid model",
        };
    };
    let terms = StatementTerms::new(vk, &layout);
    terms.report(vk, &layout, &activation_params_for(vk, &layout, &terms))
}

/// A statement's claim counts and outer terms: everything of its figure but
/// the openings, which depend on the activation parameters. Computed once per
/// key and layout, since choosing those parameters weighs several candidates
/// (GPT-2's verifier composed four reports, each replaying the claim routing).
#[derive(Clone, Debug)]
pub(crate) struct StatementTerms {
    pub n_weight_claims: usize,
    pub n_act_claims: usize,
    outer: OuterTerms,
}

impl StatementTerms {
    pub fn new(vk: &VerifyingKey, layout: &Layout) -> Self {
        let (n_weight_claims, n_act_claims) = claim_counts(vk, layout);
        Self {
            n_weight_claims,
            n_act_claims,
            outer: outer_terms(vk, layout),
        }
    }

    /// The report with the activation commitment made with `act_params`
    /// (what [`crate::activation_params`] weighs before it chooses).
    pub fn report(
        &self,
        vk: &VerifyingKey,
        layout: &Layout,
        act_params: &PcsParams,
    ) -> SecurityReport {
        let params = &vk.pcs_params;
        let w_nvs = &vk.weight_commitment.poly_num_vars;
        let a_nvs = &layout.activation_num_vars;
        let mut components = Vec::new();
        // An empty commitment is never opened: no term, a single candidate.
        let mut list = |what: &str, params: &PcsParams, nvs: &[usize], claims: usize| {
            opening(params, nvs, claims).map_or(0.0, |(bits, list)| {
                components.push((
                    format!("{what} opening ({}, {claims} claims)", sizes(params, nvs)),
                    bits,
                ));
                list
            })
        };
        let w_list = list("weight", params, w_nvs, self.n_weight_claims);
        let a_list = list("activation", act_params, a_nvs, self.n_act_claims);
        compose(components, &self.outer, w_list, a_list)
    }
}

/// The computed soundness of a zero-knowledge statement (`zk/`): the weight
/// opening as in a plain proof; the hiding commitment's opening at the
/// level its parameters configure (p3's HVZK-WHIR targets it per error
/// term; p3 0.8.0 composes no figure of its own, see
/// docs/zero-knowledge.md); every op's plain terms plus its masked
/// sumcheck (`masked_eval_sumcheck_bits`, two masked factors per term
/// charged); the zero-knowledge LogUp-GKR's root step and layers with the
/// plain batching, line-reduction and rational-identity terms. Outer terms
/// are charged over the candidate lists of both commitments.
pub(crate) fn zk_report(vk: &VerifyingKey, layout: &Layout, plan: &ZkPlan) -> SecurityReport {
    let model = &vk.structure;
    let mut components = Vec::new();
    let (n_weight_claims, _) = claim_counts(vk, layout);
    let w_nvs = &vk.weight_commitment.poly_num_vars;
    let w_list = opening(&vk.pcs_params, w_nvs, n_weight_claims).map_or(0.0, |(bits, list)| {
        components.push((
            format!(
                "weight opening ({}, {n_weight_claims} claims)",
                sizes(&vk.pcs_params, w_nvs)
            ),
            bits,
        ));
        list
    });
    let hiding = HidingParams::default();
    let like = PcsParams {
        security_level: hiding.security_level,
        pow_bits: hiding.pow_bits,
        folding_factor: hiding.folding_factor,
        starting_log_inv_rate: hiding.starting_log_inv_rate,
        ..PcsParams::default()
    };
    let stacked = HidingPcs::new(hiding.clone()).stacked_num_vars(&plan.poly_num_vars);
    let h_list = match stacked {
        Ok(n) => {
            components.push((
                format!(
                    "hiding opening (HVZK-WHIR at 2^{n}; p3's configured level per term, no composed figure from p3)"
                ),
                hiding.security_level as f64,
            ));
            components.push((
                format!(
                    "hiding claim reduction ({} claims)",
                    n_hiding_claims(vk, layout, plan)
                ),
                hiding_reduction_bits(n_hiding_claims(vk, layout, plan), n - 1)
                    - pcs_list_size_bits(&like, n),
            ));
            pcs_list_size_bits(&like, n)
        }
        Err(_) => {
            components.push(("hiding opening (no configuration)".into(), 0.0));
            f64::INFINITY
        }
    };
    // A committed input's or output's own commitment: its opening, and its
    // candidate list joins the outer terms' (its `W` is read by them too).
    let own = crate::zk::committed::own_params();
    let own_like = PcsParams {
        unique_decoding: own.unique_decoding,
        ..like.clone()
    };
    let mut own_opening = |what: &str, w: Option<MaskedW>| -> f64 {
        let Some(w) = w else { return 0.0 };
        match HidingPcs::new(own.clone()).stacked_num_vars(&[w.num_vars + 1]) {
            Ok(n) => {
                components.push((
                    format!("committed {what}'s hiding opening (HVZK-WHIR at 2^{n}, unique decoding; p3's configured level per term)"),
                    own.security_level as f64,
                ));
                components.push((
                    format!("committed {what}'s claim reduction (64 claims)"),
                    hiding_reduction_bits(64, n - 1) - pcs_list_size_bits(&own_like, n),
                ));
                pcs_list_size_bits(&own_like, n)
            }
            Err(_) => {
                components.push((
                    format!("committed {what}'s hiding opening (no configuration)"),
                    0.0,
                ));
                f64::INFINITY
            }
        }
    };
    let input_list = own_opening(
        "input",
        plan.input.filter(|w| w.poly == COMMITTED_INPUT_POLY),
    );
    let output_list = own_opening("output", plan.output);
    let mut terms = OuterTerms::default();
    terms.layers.push((
        "output random point".into(),
        random_point_bits(layout.num_vars(model.output)),
    ));
    for op in &layout.ops {
        let i = op.index();
        let name = model.ops[i].name();
        for (what, bits) in op.soundness_terms(layout) {
            terms
                .layers
                .push((format!("op #{i} ({name}): {what}"), bits));
        }
        // An op with an inner step declares its terms' masked factors.
        let inner = plan.inner[i];
        if let Some(m) = plan.op_masks[i] {
            let masked = inner.map_or(2, |a| a.step.outer_masked);
            terms.layers.push((
                format!("op #{i} ({name}): masked sumcheck"),
                masked_eval_sumcheck_bits(m.num_vars, m.degree, masked),
            ));
        }
        if let Some(a) = inner {
            terms.layers.push((
                format!("op #{i} ({name}): inner masked sumcheck"),
                masked_eval_sumcheck_bits(a.mask.num_vars, a.mask.degree, a.step.inner_masked),
            ));
        }
    }
    if let Some(l) = &plan.output_link {
        terms.layers.push((
            "committed output: link at a random point".into(),
            random_point_bits(l.num_vars),
        ));
        if let Some(m) = plan.op_masks[l.step] {
            terms.layers.push((
                "committed output: masked sumcheck".into(),
                masked_eval_sumcheck_bits(m.num_vars, m.degree, 2),
            ));
        }
    }
    if let (Some(r), Some(m)) = (
        &plan.input_range,
        plan.op_masks.get(model.ops.len()).copied().flatten(),
    ) {
        // Both recompositions joined by λ, then checked at τ.
        terms.layers.push((
            "private input range: recompositions at a random point (τ, λ)".into(),
            random_point_bits(r.num_vars + 1),
        ));
        terms.layers.push((
            "private input range: masked sumcheck".into(),
            masked_eval_sumcheck_bits(m.num_vars, m.degree, 2),
        ));
    }
    if let Some(c) = &plan.one_hot {
        // Booleanity, padding and row sums joined by λ, μ, checked at τ
        // (and τ_r): a polynomial of degree ≤ n + vars(τ_r) + 2 in them.
        terms.layers.push((
            "private one-hot input: identities at a random point (τ, λ, μ)".into(),
            random_point_bits(c.num_vars + c.form.own_row_vars() + 2),
        ));
        if let Some(m) = plan.op_masks[c.step] {
            terms.layers.push((
                "private one-hot input: masked sumcheck".into(),
                masked_eval_sumcheck_bits(m.num_vars, m.degree, 2),
            ));
        }
    }
    let shapes = plan.lookup_shapes(model);
    if !shapes.is_empty() {
        let mut depths = Vec::new();
        let mut is_table = Vec::new();
        for ((rows, lens), t) in shapes.iter().zip(&plan.tables) {
            let all: usize = rows + lens.iter().sum::<usize>();
            terms.lookups.push((
                format!("table {:?}: rational identity (α, β)", t.key),
                log2_ef_order() - (2.0 * all as f64).log2(),
            ));
            for &l in lens {
                depths.push(tree_depth(l));
                is_table.push(false);
            }
            depths.push(tree_depth(*rows));
            is_table.push(true);
        }
        let trees = depths.len();
        terms
            .lookups
            .push(("LogUp root step".into(), zk_logup_root_bits(trees)));
        let lambda = log2_ef_order() - ((2 * trees - 1) as f64).log2();
        for bits in zk_logup_layer_bits(&depths, &is_table) {
            terms.lookups.push(("GKR layer batching λ".into(), lambda));
            terms
                .lookups
                .push(("GKR masked layer sumcheck".into(), bits));
            terms
                .lookups
                .push(("GKR line reduction μ".into(), log2_ef_order() - 1.0));
        }
    }
    compose(
        components,
        &terms,
        w_list,
        h_list + input_list + output_list,
    )
}

/// An upper bound on the claims a zero-knowledge proof leaves on its hiding
/// commitment (the reduction's error grows with their count): per
/// committed polynomial a generous 64.
fn n_hiding_claims(_: &VerifyingKey, _: &Layout, plan: &ZkPlan) -> usize {
    64 * plan.poly_num_vars.len().max(1)
}

/// The computed soundness of a zero-knowledge proof under `vk` with
/// `visibility` (one sample, or the copies `prove --private-input` would
/// prove for a model too small to hide its reads); an error names why such
/// a proof cannot be made (an op without a zero-knowledge step, say).
pub fn zk_security(
    vk: &VerifyingKey,
    visibility: crate::zk::Visibility,
) -> Result<SecurityReport, crate::error::ProveError> {
    let copies = crate::zk::copies_for(&vk.structure, visibility)?;
    let other;
    let vk = if copies == 1 {
        vk
    } else {
        other = vk.for_batch(vk.structure.batch * copies)?;
        &other
    };
    let layout = Layout::new_zk(&vk.structure)?;
    let plan = ZkPlan::new(&vk.structure, &layout, visibility)?;
    Ok(zk_report(vk, &layout, &plan))
}

/// [`zk_report`]'s total.
pub(crate) fn zk_total_bits(vk: &VerifyingKey, layout: &Layout, plan: &ZkPlan) -> f64 {
    zk_report(vk, layout, plan).total_bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::setup;
    use crate::synthetic::mlp;

    #[test]
    fn output_point_and_logup_batching_are_charged() {
        let pk = setup(mlp(&[13, 7, 5], 1), None).expect("setup");
        let layout = Layout::new(&pk.vk.structure).unwrap();
        let terms = outer_terms(&pk.vk, &layout);
        let n_out = layout.num_vars(pk.vk.structure.output);
        let out = terms
            .layers
            .iter()
            .find(|(n, _)| n == "output random point")
            .expect("output point charged");
        assert_eq!(out.1, log2_ef_order() - (n_out.max(1) as f64).log2());
        assert!(!layout.tables.is_empty());
        let count = |what: &str| {
            terms
                .lookups
                .iter()
                .filter(|(n, _)| n.ends_with(what))
                .count()
        };
        assert_eq!(count("rational identity (α, β)"), layout.tables.len());
        // The joint GKR: one batching term per layer of the deepest tree.
        assert!(count("GKR layer batching λ") >= 1);
        // The report is the composition of exactly these terms.
        let r = report(&pk.vk);
        let openings: Vec<_> = r.components[..2].to_vec();
        let (n_w, n_a) = claim_counts(&pk.vk, &layout);
        let w_nvs = &pk.vk.weight_commitment.poly_num_vars;
        let w_list = opening(&pk.vk.pcs_params, w_nvs, n_w).unwrap().1;
        let a_params = crate::keys::activation_params(&pk.vk, &layout);
        let a_list = opening(&a_params, &layout.activation_num_vars, n_a)
            .unwrap()
            .1;
        let again = compose(openings.clone(), &terms, w_list, a_list);
        assert_eq!(again.total_bits, r.total_bits);
        // Every term counts: adding one lowers the total, removing one raises it.
        for group in [0, 1] {
            let mut more = terms.clone();
            let mut fewer = terms.clone();
            let (m, f) = if group == 0 {
                (&mut more.layers, &mut fewer.layers)
            } else {
                (&mut more.lookups, &mut fewer.lookups)
            };
            m.push(("extra".into(), 110.0));
            f.remove(0);
            let more = compose(openings.clone(), &more, w_list, a_list).total_bits;
            let fewer = compose(openings.clone(), &fewer, w_list, a_list).total_bits;
            assert!(
                more < r.total_bits,
                "group {group}: {more} vs {}",
                r.total_bits
            );
            assert!(
                fewer > r.total_bits,
                "group {group}: {fewer} vs {}",
                r.total_bits
            );
        }
    }

    #[test]
    fn empty_commitments_have_no_opening_term() {
        assert_eq!(opening(&PcsParams::default(), &[], 3), None);
        let r = compose(Vec::new(), &OuterTerms::default(), 0.0, 0.0);
        assert!(r.components.is_empty());
        assert_eq!(r.total_bits, f64::INFINITY);
    }
}

//! The whole proof's soundness, computed from the model structure and the
//! commitment parameters (never assumed).
//!
//! Components (union bound, `security::combine_bits`):
//! - the two WHIR openings, as p3-whir computes them for the stacked size and
//!   claim count (proven Johnson-bound regime);
//! - every sumcheck (`rounds · degree / |EF|`), every LogUp GKR layer and the
//!   LogUp rational identity (`rows / |EF|`), every random-point reduction.
//!   In the list-decoding regime these outer checks are charged over the
//!   commitment's candidate list (`pcs_list_size_bits` lost per commitment).

use zkinfer_model::ir::QOp;
use zkinfer_protocol::pcs::{stacked_num_vars, PcsParams};
use zkinfer_protocol::security::{
    combine_bits, log2_ef_order, pcs_bits, pcs_list_size_bits, sumcheck_bits,
};

use crate::keys::VerifyingKey;
use crate::layout::{nv, table_for, Layout, TensorKind};

#[derive(Clone, Debug)]
pub struct SecurityReport {
    /// `(component, bits)`.
    pub components: Vec<(String, f64)>,
    pub total_bits: f64,
    pub assumption: &'static str,
}

/// Claim counts per commitment, by replaying the claim routing on counts only.
fn claim_counts(vk: &VerifyingKey, layout: &Layout) -> (usize, usize) {
    let model = &vk.structure;
    let mut pending = vec![0usize; model.tensors.len()];
    let mut act = 0usize;
    let mut weights = 0usize;
    for t in &layout.tables {
        act += t.witnesses.iter().map(|w| w.len()).sum::<usize>() + 1;
    }
    let route = |t: usize, k: usize, act: &mut usize, pending: &mut Vec<usize>| {
        let (r, kind) = layout.kind(t);
        match kind {
            TensorKind::Committed { .. } => *act += k,
            TensorKind::Virtual => pending[r] += k,
            _ => {}
        }
    };
    route(model.output, 1, &mut act, &mut pending);
    for (i, op) in model.ops.iter().enumerate().rev() {
        match op {
            QOp::Requant { input, .. } => {
                act += 1 + layout.requants[i]
                    .as_ref()
                    .map_or(0, |r| r.limb_polys.len());
                route(*input, 1, &mut act, &mut pending);
            }
            QOp::Dense { input, output, .. } => {
                let k = std::mem::take(&mut pending[layout.kind(*output).0]);
                if k > 0 {
                    weights += 2 * k;
                    route(*input, 1, &mut act, &mut pending);
                }
            }
            QOp::Add { a, b, output, .. } => {
                let k = std::mem::take(&mut pending[layout.kind(*output).0]);
                route(*a, k, &mut act, &mut pending);
                route(*b, k, &mut act, &mut pending);
            }
            _ => {}
        }
    }
    (weights, act)
}

pub fn report(vk: &VerifyingKey) -> SecurityReport {
    let mut components = Vec::new();
    let Ok(layout) = Layout::new(&vk.structure) else {
        return SecurityReport {
            components,
            total_bits: 0.0,
            assumption: "invalid model",
        };
    };
    let params = &vk.pcs_params;
    let act_params = PcsParams::for_polys(&layout.activation_num_vars);
    let (n_weight_claims, n_act_claims) = claim_counts(vk, &layout);
    let w_vars =
        stacked_num_vars(params, &vk.weight_commitment.poly_num_vars).unwrap_or(usize::MAX);
    let a_vars = stacked_num_vars(&act_params, &layout.activation_num_vars).unwrap_or(usize::MAX);
    components.push((
        format!("weight opening (2^{w_vars}, {n_weight_claims} claims)"),
        pcs_bits(params, w_vars, n_weight_claims.max(1)),
    ));
    components.push((
        format!("activation opening (2^{a_vars}, {n_act_claims} claims)"),
        pcs_bits(&act_params, a_vars, n_act_claims.max(1)),
    ));

    // Outer checks, charged over both commitments' candidate lists.
    let list_bits = pcs_list_size_bits(params, w_vars) + pcs_list_size_bits(&act_params, a_vars);
    let mut outer = Vec::new();
    let model = &vk.structure;
    for (i, op) in model.ops.iter().enumerate() {
        match op {
            QOp::Dense { in_dim, .. } => outer.push(sumcheck_bits(nv(*in_dim), 2)),
            QOp::Requant { input, .. } => {
                outer.push(log2_ef_order() - (nv(model.tensors[*input].len()).max(1) as f64).log2())
            }
            _ => {}
        }
        let _ = i;
    }
    for t in &layout.tables {
        let table_len = table_for(model, &t.key).len();
        let rows: usize = table_len
            + t.witnesses
                .iter()
                .map(|w| 1usize << layout.activation_num_vars[w[0].poly])
                .sum::<usize>();
        // Rational identity in α (degree ≤ rows) and the column combination in β.
        outer.push(log2_ef_order() - (2.0 * rows as f64).log2());
        // GKR layers: a degree-3 sumcheck plus a line reduction per layer.
        let depth = nv(rows);
        for layer in 1..=depth {
            outer.push(sumcheck_bits(layer, 3));
            outer.push(log2_ef_order() - 2f64.log2());
        }
    }
    let outer_bits = combine_bits(&outer) - list_bits;
    components.push((
        format!(
            "sumchecks, lookups, reductions ({} terms, over the candidate lists)",
            outer.len()
        ),
        outer_bits,
    ));
    let bits: Vec<f64> = components.iter().map(|c| c.1).collect();
    SecurityReport {
        total_bits: combine_bits(&bits),
        components,
        assumption: "proven (Johnson-bound list decoding for WHIR; Schwartz–Zippel elsewhere); hashes modelled as random oracles",
    }
}

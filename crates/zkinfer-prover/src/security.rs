//! The whole proof's soundness, computed from the model structure and the
//! commitment parameters (never assumed).
//!
//! Components (union bound, `security::combine_bits`):
//! - the two WHIR openings, as p3-whir computes them for the stacked size and
//!   claim count (proven Johnson-bound regime);
//! - every sumcheck (`rounds · degree / |EF|`), every LogUp GKR layer and the
//!   LogUp rational identity (`rows / |EF|`), every random-point reduction.
//!   In the list-decoding regime these outer checks are charged over the
//!   candidate lists of the commitments they read (`pcs_list_size_bits` lost
//!   per commitment): layer reductions over both, lookups — which read only
//!   committed activations — over the activation commitment's.

use zkinfer_protocol::pcs::{commitment_security, part_num_vars};
use zkinfer_protocol::security::{combine_bits, log2_ef_order, sumcheck_bits};

use crate::keys::{activation_params, VerifyingKey};
use crate::layout::{nv, table_for, Layout};
use crate::ops::ClaimCounter;

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
    let act_params = activation_params(vk, &layout);
    let (n_weight_claims, n_act_claims) = claim_counts(vk, &layout);
    let w_nvs = &vk.weight_commitment.poly_num_vars;
    let a_nvs = &layout.activation_num_vars;
    // Bits and log2 candidate-list size of a commitment's opening (fail
    // closed: 0 bits, an infinite list).
    let opening = |params, nvs, claims: usize| {
        commitment_security(params, nvs, claims.max(1)).unwrap_or((0.0, f64::INFINITY))
    };
    let (w_bits, w_list) = opening(params, w_nvs, n_weight_claims);
    let (a_bits, a_list) = opening(&act_params, a_nvs, n_act_claims);
    components.push((
        format!(
            "weight opening ({}, {n_weight_claims} claims)",
            sizes(params, w_nvs)
        ),
        w_bits,
    ));
    components.push((
        format!(
            "activation opening ({}, {n_act_claims} claims)",
            sizes(&act_params, a_nvs)
        ),
        a_bits,
    ));

    // Outer checks, charged over the candidate lists of the commitments they
    // depend on: layer reductions over both, lookups (which read activation
    // polynomials only) over the activation commitment's.
    let act_list_bits = a_list;
    let list_bits = w_list + act_list_bits;
    let model = &vk.structure;
    let mut outer = Vec::new();
    for op in &layout.ops {
        outer.extend(op.soundness_bits(&layout));
    }
    let outer_bits = combine_bits(&outer) - list_bits;
    components.push((
        format!(
            "layer sumchecks and reductions ({} terms, over both candidate lists)",
            outer.len()
        ),
        outer_bits,
    ));
    let mut lookups = Vec::new();
    for t in &layout.tables {
        let table_len = table_for(model, &t.key).len();
        let rows: usize = table_len
            + t.witnesses
                .iter()
                .map(|w| 1usize << layout.activation_num_vars[w[0].poly])
                .sum::<usize>();
        // Rational identity in α (degree ≤ rows) and the column combination in β.
        lookups.push(log2_ef_order() - (2.0 * rows as f64).log2());
        // GKR layers: a degree-3 sumcheck plus a line reduction per layer.
        let depth = nv(rows);
        for layer in 1..=depth {
            lookups.push(sumcheck_bits(layer, 3));
            lookups.push(log2_ef_order() - 2f64.log2());
        }
    }
    components.push((
        format!(
            "lookups ({} terms, over the activation candidate list)",
            lookups.len()
        ),
        combine_bits(&lookups) - act_list_bits,
    ));
    let bits: Vec<f64> = components.iter().map(|c| c.1).collect();
    SecurityReport {
        total_bits: combine_bits(&bits),
        components,
        assumption: "proven (Johnson-bound list decoding for WHIR; Schwartz–Zippel elsewhere); hashes modelled as random oracles",
    }
}

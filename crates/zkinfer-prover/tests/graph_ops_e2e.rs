//! Softmax, LogSoftmax and reductions inside the graph (lowered to MaxPool
//! over a row, row-wise Dense, Exp/Log/Reciprocal/Sqrt tables, Select
//! broadcasts), broadcasting between activations, and data movement (Slice,
//! Pad (also with a non-zero constant), Concat (also of a constant: a class
//! token), DepthToSpace, Split, Gather, Trilu, Resize, Tile as Select),
//! two-head attention (MatMul of activations, a whole-sample constant added),
//! an attention mask added as float32's minimum (a masked softmax), a
//! computed padding mask and'ed with a larger constant causal one, and one
//! made additive (`Where(keep, 0, float32 min)`) for two layers,
//! comparisons, Not/Or, Cast and Where (exact 0/1 tables on differences),
//! and normalisation (LayerNormalization, InstanceNormalization,
//! LpNormalization) and PRelu lowered to the same ops:
//! each fixture compiles
//! close to the float model (and the float model to tract), proves,
//! verifies, and a changed output is rejected.

mod onnx_common;

use onnx_common::{all_pass, prove_fixture};

/// (fixture, bound on the mean relative output error).
const MODELS: &[(&str, f64)] = &[
    ("softmax_mid", 3e-3),
    ("log_softmax_rows", 3e-3),
    ("reduce_center_l2", 3e-3),
    ("reduce_max_min_sum", 3e-3),
    ("reduce_logsumexp", 3e-3),
    ("broadcast_gate", 3e-3),
    ("data_movement", 3e-3),
    ("upsample_tile", 3e-3),
    ("pad_value", 3e-3),
    ("class_token", 3e-3),
    ("additive_mask", 5e-3),
    ("widened_mask", 5e-3),
    ("computed_additive_mask", 5e-3),
    ("layer_norm_seq", 5e-3),
    ("instance_norm_prelu", 5e-3),
    ("attention_heads", 5e-3),
    ("compare_where", 1e-2),
];

#[test]
fn graph_op_fixtures_compile_prove_verify_and_reject_a_changed_output() {
    all_pass(MODELS, |name, tol| {
        prove_fixture(name, tol);
    });
}

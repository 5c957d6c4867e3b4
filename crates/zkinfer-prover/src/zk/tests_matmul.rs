//! `MatMul` of two activations in zero knowledge: the full suite on
//! attention-like blocks inserted into the MLP (batched heads, dims that
//! are not powers of two, a transposed operand, an operand with a nonzero
//! pad), and the plan's refusal of a mask that would read the last
//! variable; and a Dense over padded rows of an input that pads with 1
//! (what transformer blocks also need); and a token model's private
//! one-hot input refused (what char_gpt would need next).

use zkinfer_model::ir::{QOp, QuantModel, TensorId};

use super::tests::{mlp_with, model_key, tensor_like, zk_suite};

/// `s = h[source]` shaped `shape` (a Select, so every operand is laid out
/// by its own axes).
fn pick(m: &mut QuantModel, h: TensorId, name: &str, shape: Vec<usize>) -> (QOp, TensorId) {
    let len: usize = shape.iter().product();
    let n = m.tensors[h].len() as i64;
    let source = (0..len as i64)
        .map(|i| if i % 11 == 7 { -1 } else { (3 * i + 1) % n })
        .collect();
    let bound = m.tensors[h].bound;
    let t = tensor_like(m, h, name, shape, bound);
    (
        QOp::Select {
            input: h,
            output: t,
            source,
        },
        t,
    )
}

/// `Requant` of `input` into `[min, max]` by `2^-shift`.
fn requant(
    m: &mut QuantModel,
    input: TensorId,
    name: &str,
    shift: u32,
    (min, max): (i64, i64),
) -> (QOp, TensorId) {
    let shape = m.tensors[input].shape.clone();
    let t = tensor_like(m, input, name, shape, max.max(-min) + 1);
    (
        QOp::Requant {
            input,
            output: t,
            multiplier: 1,
            shift,
            min,
            max,
        },
        t,
    )
}

/// The block's `[.., M, N]` product, requantized and selected back to the
/// hidden width the MLP's second layer reads.
fn close_block(
    m: &mut QuantModel,
    h: TensorId,
    a: TensorId,
    b: TensorId,
    shape: Vec<usize>,
    ops: &mut Vec<QOp>,
) -> TensorId {
    let inner = *m.tensors[a].shape.last().expect("a matrix");
    let bound = m.tensors[h].bound;
    let out = tensor_like(m, h, "product", shape, inner as i64 * bound * bound);
    ops.push(QOp::MatMul { a, b, output: out });
    let (op, scaled) = requant(m, out, "scaled", 9, (0, bound - 1));
    ops.push(op);
    let (op, back) = pick(m, scaled, "back", vec![m.tensors[h].len()]);
    ops.push(op);
    back
}

/// `q·kᵀ` over 2 heads of `3×5` (`Q·Kᵀ`): `q` requantized into
/// `[1, 127]`, so it pads with 1 and is committed; `kᵀ` a transpose, never
/// committed (or, `committed_key`, requantized into `[1, 127]` too, the
/// second operand padding with 1 instead).
fn scores_model(committed_key: bool) -> QuantModel {
    mlp_with(|m, h| {
        let mut ops = Vec::new();
        let (op, s) = pick(m, h, "s", vec![2, 3, 5]);
        ops.push(op);
        let bound = m.tensors[h].bound;
        let kt = tensor_like(m, h, "k_t", vec![2, 5, 3], bound);
        ops.push(QOp::Transpose {
            input: s,
            output: kt,
            perm: vec![0, 2, 1],
        });
        let (a, b) = if committed_key {
            let (op, k) = requant(m, kt, "k_shifted", 0, (1, bound - 1));
            ops.push(op);
            (s, k)
        } else {
            let (op, q) = requant(m, s, "q", 0, (1, bound - 1));
            ops.push(op);
            (q, kt)
        };
        let last = close_block(m, h, a, b, vec![2, 3, 3], &mut ops);
        (ops, last)
    })
}

/// `p·v` over 3 heads (padded to 4) of `3×6` by `6×5` (`P·V`), both
/// operands never committed.
fn values_model() -> QuantModel {
    mlp_with(|m, h| {
        let mut ops = Vec::new();
        let (op, p) = pick(m, h, "p", vec![3, 3, 6]);
        ops.push(op);
        let (op, v) = pick(m, h, "v", vec![3, 6, 5]);
        ops.push(op);
        let last = close_block(m, h, p, v, vec![3, 3, 5], &mut ops);
        (ops, last)
    })
}

/// `x·xᵀ` of the model's own input viewed as 2 heads of `4×5` (its first
/// layer reads it flat), added back into the hidden activations: the
/// product reads the input itself — the private input's `W`, or in the
/// clear when the input is public.
pub(super) fn input_product_model() -> QuantModel {
    mlp_with(|m, h| {
        let x = m.input;
        m.tensors[x].shape = vec![2, 4, 5];
        let mut ops = Vec::new();
        let bound = m.tensors[h].bound;
        let xt = tensor_like(m, x, "x_t", vec![2, 5, 4], m.tensors[x].bound);
        ops.push(QOp::Transpose {
            input: x,
            output: xt,
            perm: vec![0, 2, 1],
        });
        let product = close_block(m, h, x, xt, vec![2, 4, 4], &mut ops);
        let sum = tensor_like(m, h, "sum", vec![m.tensors[h].len()], 2 * bound);
        ops.push(QOp::Add {
            a: h,
            b: product,
            output: sum,
            a_mul: 1,
            b_mul: 1,
        });
        let (op, mixed) = requant(m, sum, "mixed", 1, (0, bound - 1));
        ops.push(op);
        (ops, mixed)
    })
}

#[test]
fn a_product_of_the_input_proves_in_zero_knowledge() {
    let (pk, x) = model_key(input_product_model(), 36);
    zk_suite(&pk, &x, "MatMul");
}

fn pads_of(pk: &crate::keys::ProvingKey, name: &str) -> i64 {
    let t = pk
        .model
        .tensors
        .iter()
        .position(|t| t.name == name)
        .expect("the tensor");
    pk.layout.pads[t]
}

#[test]
fn scores_with_a_padded_operand_and_a_transposed_one_prove_in_zero_knowledge() {
    let (pk, x) = model_key(scores_model(false), 31);
    assert_eq!(pads_of(&pk, "q"), 1, "the first operand pads with 1");
    zk_suite(&pk, &x, "MatMul");
}

/// The second operand's mask reads `(h, k)` head bits in its own order; one
/// that reaches `k`'s last bit (the sumcheck's last variable, the one `Z`
/// needs) is refused by name, never proven unmasked.
#[test]
fn a_second_operand_whose_mask_reaches_the_last_variable_is_refused() {
    let (pk, x) = model_key(scores_model(true), 34);
    assert_eq!(pads_of(&pk, "k_shifted"), 1);
    crate::prove(&pk, &x).expect("the plain proof");
    let err = super::prove_zk(
        &pk,
        &x,
        super::Visibility::PRIVATE_INPUT,
        &mut super::tests::rng(3),
    )
    .err()
    .expect("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("MatMul") && msg.contains("k_shifted") && msg.contains("head variables"),
        "{msg}"
    );
}

#[test]
fn values_over_padded_heads_prove_in_zero_knowledge() {
    let (pk, x) = model_key(values_model(), 32);
    zk_suite(&pk, &x, "MatMul");
}

/// A Dense over the 3 rows (padded to 4) of an input that pads with 1: the
/// zero-knowledge weight factor is zero on the padding rows.
fn row_dense_model() -> QuantModel {
    mlp_with(|m, h| {
        let mut ops = Vec::new();
        let (op, rows) = pick(m, h, "rows", vec![3, 10]);
        ops.push(op);
        let bound = m.tensors[h].bound;
        let (op, shifted) = requant(m, rows, "shifted_rows", 0, (1, bound - 1));
        ops.push(op);
        let (in_dim, out_dim) = (10, 5);
        let weight = super::tests::constants(in_dim * out_dim, 3);
        let bias = super::tests::constants(out_dim, 50);
        let acc = tensor_like(
            m,
            h,
            "row_acc",
            vec![3, out_dim],
            50 + 3 * bound * in_dim as i64,
        );
        ops.push(QOp::Dense {
            input: shifted,
            output: acc,
            in_dim,
            out_dim,
            weight: weight.into(),
            bias,
        });
        let (op, scaled) = requant(m, acc, "row_scaled", 2, (0, bound - 1));
        ops.push(op);
        let (op, back) = pick(m, scaled, "row_back", vec![m.tensors[h].len()]);
        ops.push(op);
        (ops, back)
    })
}

#[test]
fn a_row_dense_over_a_padded_input_proves_in_zero_knowledge() {
    let (pk, x) = model_key(row_dense_model(), 33);
    assert_eq!(pads_of(&pk, "shifted_rows"), 1, "the input pads with 1");
    zk_suite(&pk, &x, "Dense");
}

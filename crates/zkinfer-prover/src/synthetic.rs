//! Synthetic quantized MLPs made on the fly, for benchmarks and completeness
//! tests at arbitrary (odd) widths. Weights are seeded pseudo-random int8;
//! each layer's requantization is calibrated on a seeded input so activations
//! use the int8 range without leaving the requant window.

use zkinfer_model::ir::{QOp, QuantModel, TensorInfo, QUANT_MODEL_VERSION};

/// SplitMix64: a tiny deterministic generator (reproducible benchmarks, no deps).
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
}

/// An MLP `widths[0] → widths[1] → … → widths[n]` with ReLU after every hidden
/// layer (Dense → Requant(clamp [0,127])) and a final Dense → Requant(clamp [-128,127]).
pub fn mlp(widths: &[usize], seed: u64) -> QuantModel {
    assert!(widths.len() >= 2, "an MLP needs at least one layer");
    let mut rng = SplitMix(seed);
    let mut tensors = vec![TensorInfo {
        name: "input".into(),
        shape: vec![widths[0]],
        scale: 1.0 / 127.0,
        bound: 127,
    }];
    let mut ops = Vec::new();
    let mut x: Vec<i64> = (0..widths[0]).map(|_| rng.range(0, 127)).collect();
    let mut cur = 0usize;
    for (l, w) in widths.windows(2).enumerate() {
        let (n_in, n_out) = (w[0], w[1]);
        let last = l + 2 == widths.len();
        let weight: Vec<i64> = (0..n_in * n_out).map(|_| rng.range(-127, 127)).collect();
        let bias: Vec<i64> = (0..n_out).map(|_| rng.range(-1000, 1000)).collect();
        let acc: Vec<i64> = (0..n_out)
            .map(|o| bias[o] + (0..n_in).map(|i| weight[o * n_in + i] * x[i]).sum::<i64>())
            .collect();
        let max_acc = acc.iter().map(|v| v.abs()).max().unwrap_or(1).max(1);
        // Map the calibration maximum to ~100: multiplier/2^shift ≈ 100/max_acc.
        let shift = 30u32;
        let multiplier = ((100i128 << shift) / max_acc as i128).clamp(1, (1 << 16) - 1) as i64;
        let (min, max) = if last { (-128, 127) } else { (0, 127) };
        let acc_bound = bias.iter().map(|b| b.abs()).max().unwrap_or(0) + 127 * 127 * n_in as i64;
        tensors.push(TensorInfo {
            name: format!("dense{l}"),
            shape: vec![n_out],
            scale: 1.0,
            bound: acc_bound,
        });
        let acc_t = tensors.len() - 1;
        tensors.push(TensorInfo {
            name: format!("act{l}"),
            shape: vec![n_out],
            scale: 1.0 / 127.0,
            bound: 128,
        });
        let out_t = tensors.len() - 1;
        ops.push(QOp::Dense {
            input: cur,
            output: acc_t,
            in_dim: n_in,
            out_dim: n_out,
            weight,
            bias,
        });
        ops.push(QOp::Requant {
            input: acc_t,
            output: out_t,
            multiplier,
            shift,
            min,
            max,
        });
        x = acc
            .iter()
            .map(|&a| {
                zkinfer_model::eval::requant_quotient(a, multiplier, shift)
                    .clamp(min as i128, max as i128) as i64
            })
            .collect();
        cur = out_t;
    }
    QuantModel {
        version: QUANT_MODEL_VERSION,
        name: format!(
            "mlp-{}",
            widths
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join("-")
        ),
        tensors,
        input: 0,
        output: cur,
        ops,
        onnx: Vec::new(),
        output_softmax: false,
    }
}

/// A seeded input in the model's input range `[0, 127]`.
pub fn input(len: usize, seed: u64) -> Vec<i64> {
    let mut rng = SplitMix(seed ^ 0xA5A5);
    (0..len).map(|_| rng.range(0, 127)).collect()
}

/// Plain float inference of the same MLP (f32, the work an unproven server does),
/// for the prove-time ÷ inference-time ratio.
pub fn float_forward(model: &QuantModel, input: &[f32]) -> Vec<f32> {
    let mut x = input.to_vec();
    for op in &model.ops {
        if let QOp::Dense {
            in_dim,
            out_dim,
            weight,
            bias,
            ..
        } = op
        {
            let mut y = vec![0f32; *out_dim];
            for (o, yo) in y.iter_mut().enumerate() {
                let row = &weight[o * in_dim..(o + 1) * in_dim];
                *yo = bias[o] as f32 + row.iter().zip(&x).map(|(w, v)| *w as f32 * v).sum::<f32>();
            }
            x = y.into_iter().map(|v| v.max(0.0)).collect();
        }
    }
    x
}

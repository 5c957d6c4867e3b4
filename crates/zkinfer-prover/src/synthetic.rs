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
    mlp_with_act_bits(widths, seed, 8)
}

/// [`mlp`] with `act_bits`-bit activations: hidden clamps `[0, 2^(b−1) − 1]`,
/// the output clamp `[−2^(b−1), 2^(b−1) − 1]`.
pub fn mlp_with_act_bits(widths: &[usize], seed: u64, act_bits: u32) -> QuantModel {
    assert!(widths.len() >= 2, "an MLP needs at least one layer");
    assert!((2..=16).contains(&act_bits), "act_bits in 2..=16");
    let half = 1i64 << (act_bits - 1);
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
        // Map the calibration maximum to ~0.78 of the range: multiplier/2^shift ≈ 100/128·half/max_acc.
        let (multiplier, shift) = calibrated(max_acc, 100 * half as i128 / 128);
        let (min, max) = if last {
            (-half, half - 1)
        } else {
            (0, half - 1)
        };
        let in_bound = if l == 0 { 127 } else { half };
        let acc_bound =
            bias.iter().map(|b| b.abs()).max().unwrap_or(0) + 127 * in_bound * n_in as i64;
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
            scale: 1.0 / (half - 1) as f64,
            bound: half,
        });
        let out_t = tensors.len() - 1;
        ops.push(QOp::Dense {
            input: cur,
            output: acc_t,
            in_dim: n_in,
            out_dim: n_out,
            weight: weight.into(),
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
        input_segments: vec![],
        tied_weights: Vec::new(),
        output_segments: vec![],
        batch: 1,
        dynamic_batch: false,
    }
}

/// `(multiplier, shift)` mapping `max_abs` to about 0.78 of `half`.
fn requant_params(max_abs: i64, half: i64) -> (i64, u32) {
    calibrated(max_abs, 100 * half as i128 / 128)
}

/// The 16-bit multiplier and shift (≤ 30) mapping `max_abs` to about
/// `target`: the largest shift whose multiplier fits, so a small
/// accumulator is not clamped to a multiplier that rounds it all to zero.
fn calibrated(max_abs: i64, target: i128) -> (i64, u32) {
    let max_abs = max_abs.max(1) as i128;
    (0..=30u32)
        .rev()
        .map(|shift| ((target << shift) / max_abs, shift))
        .find(|&(m, _)| m < 1 << 16)
        .map_or((1, 0), |(m, shift)| (m.max(1) as i64, shift))
}

/// An MLP `[7, 6, 3]` whose hidden activations reach the second layer
/// through a `Select` that reorders, repeats and zero-fills them (data
/// movement as Slice, Gather, Pad and Tile produce it).
pub fn select_mlp(seed: u64) -> QuantModel {
    select_mlp_with(seed, vec![5, -1, 0, 2, 2, 1])
}

/// [`select_mlp`] with another map of its 6 hidden activations; a
/// separable one (e.g. `[-1, 5, 3, 1, -1, -1]`, a reversed strided slice
/// padded with zeros) is stated per axis in the verifying key.
pub fn select_mlp_with(seed: u64, source: Vec<i64>) -> QuantModel {
    let mut m = mlp(&[7, 6, 3], seed);
    let second = m
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| matches!(op, QOp::Dense { .. }))
        .nth(1)
        .map(|(i, _)| i)
        .expect("two layers");
    let QOp::Dense { input: hidden, .. } = m.ops[second] else {
        unreachable!()
    };
    let info = m.tensors[hidden].clone();
    m.tensors.push(TensorInfo {
        name: "selected".into(),
        ..info
    });
    let selected = m.tensors.len() - 1;
    if let QOp::Dense { input, .. } = &mut m.ops[second] {
        *input = selected;
    }
    m.ops.insert(
        second,
        QOp::Select {
            input: hidden,
            output: selected,
            source,
        },
    );
    m.name = "select-mlp".into();
    m
}

/// A gated MLP, `n_in → (a ⊙ b) → n_out` with `a = act(W_a x)` (signed),
/// `b = relu(W_b x)`: an elementwise `Mul` of two activations, each
/// requantized, the product requantized again (as a GLU block is).
pub fn gated_mlp(n_in: usize, hidden: usize, n_out: usize, seed: u64) -> QuantModel {
    let half = 1i64 << 7;
    let mut rng = SplitMix(seed);
    let x: Vec<i64> = (0..n_in).map(|_| rng.range(0, 127)).collect();
    let mut tensors = vec![TensorInfo {
        name: "input".into(),
        shape: vec![n_in],
        scale: 1.0 / 127.0,
        bound: 127,
    }];
    let mut ops = Vec::new();
    let tensor = |tensors: &mut Vec<TensorInfo>, name: &str, len: usize, bound: i64| {
        tensors.push(TensorInfo {
            name: name.into(),
            shape: vec![len],
            scale: 1.0,
            bound,
        });
        tensors.len() - 1
    };
    // Dense + Requant from `input` (values `xv`, bound `xb`) to `n` outputs in [min, max].
    let mut layer = |tensors: &mut Vec<TensorInfo>,
                     ops: &mut Vec<QOp>,
                     (input, xv, xb): (usize, &[i64], i64),
                     n: usize,
                     (min, max): (i64, i64),
                     name: &str| {
        let k = xv.len();
        let weight: Vec<i64> = (0..k * n).map(|_| rng.range(-127, 127)).collect();
        let bias: Vec<i64> = (0..n).map(|_| rng.range(-1000, 1000)).collect();
        let acc: Vec<i64> = (0..n)
            .map(|o| bias[o] + (0..k).map(|i| weight[o * k + i] * xv[i]).sum::<i64>())
            .collect();
        let bound = 1000 + 127 * xb * k as i64;
        let acc_t = tensor(tensors, &format!("{name}_acc"), n, bound);
        let out_t = tensor(tensors, name, n, half);
        let (multiplier, shift) =
            requant_params(acc.iter().map(|v| v.abs()).max().unwrap_or(1), half);
        ops.push(QOp::Dense {
            input,
            output: acc_t,
            in_dim: k,
            out_dim: n,
            weight: weight.into(),
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
        let y: Vec<i64> = acc
            .iter()
            .map(|&a| {
                zkinfer_model::eval::requant_quotient(a, multiplier, shift)
                    .clamp(min as i128, max as i128) as i64
            })
            .collect();
        (out_t, y)
    };
    let (a, av) = layer(
        &mut tensors,
        &mut ops,
        (0, &x, 127),
        hidden,
        (-half, half - 1),
        "a",
    );
    let (b, bv) = layer(
        &mut tensors,
        &mut ops,
        (0, &x, 127),
        hidden,
        (0, half - 1),
        "b",
    );
    let prod = tensor(&mut tensors, "a*b", hidden, half * half);
    ops.push(QOp::Mul { a, b, output: prod });
    let pv: Vec<i64> = av.iter().zip(&bv).map(|(p, q)| p * q).collect();
    let g = tensor(&mut tensors, "gated", hidden, half);
    let (multiplier, shift) = requant_params(pv.iter().map(|v| v.abs()).max().unwrap_or(1), half);
    ops.push(QOp::Requant {
        input: prod,
        output: g,
        multiplier,
        shift,
        min: -half,
        max: half - 1,
    });
    let gv: Vec<i64> = pv
        .iter()
        .map(|&v| {
            zkinfer_model::eval::requant_quotient(v, multiplier, shift)
                .clamp(-half as i128, half as i128 - 1) as i64
        })
        .collect();
    let (out, _) = layer(
        &mut tensors,
        &mut ops,
        (g, &gv, half),
        n_out,
        (-half, half - 1),
        "out",
    );
    QuantModel {
        version: QUANT_MODEL_VERSION,
        name: format!("gated-mlp-{n_in}-{hidden}-{n_out}"),
        tensors,
        input: 0,
        output: out,
        ops,
        onnx: Vec::new(),
        output_softmax: false,
        input_segments: vec![],
        tied_weights: Vec::new(),
        output_segments: vec![],
        batch: 1,
        dynamic_batch: false,
    }
}

/// A small CNN with every window op on an awkward `[C, H, W]` input: a
/// padded 3×3 conv, 2×2 max pooling, an asymmetrically padded 2×2 conv, a
/// residual add, a padded average pool and a dense head (the soundness
/// sweep and the decoder fuzzer share it).
pub fn window_ops_cnn(input_shape: [usize; 3], seed: u64) -> QuantModel {
    let conv = |oc, k, s, p| CnnLayer::Conv {
        out_channels: oc,
        kernel: k,
        strides: s,
        pads: p,
    };
    cnn(
        input_shape,
        &[
            conv(3, [3, 3], [1, 1], [1, 1, 1, 1]),
            CnnLayer::MaxPool {
                kernel: [2, 2],
                strides: [2, 2],
                pads: [0; 4],
            },
            conv(3, [2, 2], [1, 1], [1, 0, 0, 1]),
            CnnLayer::Residual,
            CnnLayer::AvgPool {
                kernel: [2, 2],
                strides: [1, 1],
                pads: [0, 0, 1, 0],
            },
            CnnLayer::Dense { out: 3 },
        ],
        seed,
    )
}

/// Max pooling with padding on every side (3×3 windows, stride 2, and an
/// asymmetric 2×2 pool whose last windows reach into the right padding)
/// between a per-position `MulConst` and a dense head: padding taps and
/// committed constants for the soundness sweep.
pub fn padded_pool_cnn(input_shape: [usize; 3], seed: u64) -> QuantModel {
    cnn(
        input_shape,
        &[
            CnnLayer::MaxPool {
                kernel: [3, 3],
                strides: [2, 2],
                pads: [1, 1, 1, 1],
            },
            CnnLayer::ScaleMap,
            CnnLayer::MaxPool {
                kernel: [2, 2],
                strides: [1, 2],
                pads: [1, 0, 0, 1],
            },
            CnnLayer::Dense { out: 3 },
        ],
        seed,
    )
}

/// A seeded input in the model's input range `[0, 127]`.
pub fn input(len: usize, seed: u64) -> Vec<i64> {
    let mut rng = SplitMix(seed ^ 0xA5A5);
    (0..len).map(|_| rng.range(0, 127)).collect()
}

/// Two Dense layers sharing one matrix: an `n → hidden → n` autoencoder
/// whose decoder is its encoder's transpose, or (`transposed = false`) an
/// `n → n → n` MLP whose layers are equal.
pub fn tied_mlp(n: usize, hidden: usize, transposed: bool, seed: u64) -> QuantModel {
    let hidden = if transposed { hidden } else { n };
    let mut m = mlp(&[n, hidden, n], seed);
    let QOp::Dense { weight: w0, .. } = m.ops[0].clone() else {
        unreachable!("an MLP starts with a Dense")
    };
    let QOp::Dense { weight, .. } = &mut m.ops[2] else {
        unreachable!("the second layer is a Dense")
    };
    // Row o, column c of the decoder is row c, column o of the encoder.
    *weight = (0..n * hidden)
        .map(|k| {
            if transposed {
                w0.get((k % hidden) * n + k / hidden)
            } else {
                w0.get(k)
            }
        })
        .collect();
    m
}

/// One layer of a synthetic CNN (see [`cnn`]).
#[derive(Clone, Debug)]
pub enum CnnLayer {
    /// Conv2d → ReLU requant.
    Conv {
        out_channels: usize,
        kernel: [usize; 2],
        strides: [usize; 2],
        /// `[top, left, bottom, right]`.
        pads: [usize; 4],
    },
    /// Max pooling; a tap in the padding reads below every input value.
    MaxPool {
        kernel: [usize; 2],
        strides: [usize; 2],
        /// `[top, left, bottom, right]`.
        pads: [usize; 4],
    },
    /// A `MulConst` by seeded per-position factors in `[-63, 63]` (as an
    /// AveragePool's border divisors or PRelu's per-element slopes) →
    /// requant.
    ScaleMap,
    /// Average pooling: SumPool → dividing requant.
    AvgPool {
        kernel: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// `relu(x + conv3x3(x))` with scale alignment on the skip path.
    Residual,
    /// A ResNet basic block: `relu(conv3x3(relu(conv3x3_s(x))) + shortcut(x))`,
    /// the shortcut a strided 1x1 conv when the shape changes.
    Block { out_channels: usize, stride: usize },
    /// Flatten → Dense → requant (ReLU unless it is the last layer).
    Dense { out: usize },
}

/// A seeded synthetic CNN on a `[C, H, W]` input; every requantization is
/// calibrated on the seeded input so activations use the int8 range.
pub fn cnn(input_shape: [usize; 3], layers: &[CnnLayer], seed: u64) -> QuantModel {
    use zkinfer_model::float::conv_out_dim;
    let mut rng = SplitMix(seed);
    let mut m = QuantModel {
        version: QUANT_MODEL_VERSION,
        name: format!("cnn-{seed}"),
        tensors: vec![TensorInfo {
            name: "input".into(),
            shape: input_shape.to_vec(),
            scale: 1.0 / 127.0,
            bound: 127,
        }],
        input: 0,
        output: 0,
        ops: Vec::new(),
        onnx: Vec::new(),
        output_softmax: false,
        input_segments: vec![],
        tied_weights: Vec::new(),
        output_segments: vec![],
        batch: 1,
        dynamic_batch: false,
    };
    let x0 = input(input_shape.iter().product(), seed);
    let tensor = |m: &mut QuantModel, name: String, shape: Vec<usize>, bound: i64| {
        m.tensors.push(TensorInfo {
            name,
            shape,
            scale: 1.0,
            bound,
        });
        m.tensors.len() - 1
    };
    // Appends a requant of `acc` calibrated to map its largest magnitude to ~100.
    let requant = |m: &mut QuantModel, acc: usize, last: bool, x0: &[i64]| -> usize {
        m.output = acc;
        let trace = zkinfer_model::eval::evaluate(m, x0).expect("calibration run");
        let max_acc = trace.values[acc]
            .iter()
            .map(|v| v.abs())
            .max()
            .unwrap_or(1)
            .max(1);
        let (multiplier, shift) = calibrated(max_acc, 100);
        let (min, max) = if last { (-128, 127) } else { (0, 127) };
        let shape = m.tensors[acc].shape.clone();
        let out = tensor(m, format!("act{}", m.ops.len()), shape, 128);
        m.ops.push(QOp::Requant {
            input: acc,
            output: out,
            multiplier,
            shift,
            min,
            max,
        });
        m.output = out;
        out
    };
    let mut cur = 0usize;
    for (l, layer) in layers.iter().enumerate() {
        let last = l + 1 == layers.len();
        let shape = m.tensors[cur].shape.clone();
        let conv = |m: &mut QuantModel,
                    rng: &mut SplitMix,
                    input: usize,
                    oc: usize,
                    kernel: [usize; 2],
                    strides: [usize; 2],
                    pads: [usize; 4]| {
            let s = m.tensors[input].shape.clone();
            let oh = conv_out_dim(s[1], kernel[0], strides[0], pads[0], pads[2]).expect("fits");
            let ow = conv_out_dim(s[2], kernel[1], strides[1], pads[1], pads[3]).expect("fits");
            let n = oc * s[0] * kernel[0] * kernel[1];
            let weight: Vec<i64> = (0..n).map(|_| rng.range(-127, 127)).collect();
            let bias: Vec<i64> = (0..oc).map(|_| rng.range(-1000, 1000)).collect();
            let bound = 1000 + 128 * 127 * (n / oc) as i64;
            let out = tensor(m, format!("conv{}", m.ops.len()), vec![oc, oh, ow], bound);
            m.ops.push(QOp::Conv2d {
                input,
                output: out,
                kernel_shape: [oc, s[0], kernel[0], kernel[1]],
                weight: weight.into(),
                bias,
                strides,
                pads,
            });
            out
        };
        cur = match layer {
            CnnLayer::Conv {
                out_channels,
                kernel,
                strides,
                pads,
            } => {
                let acc = conv(
                    &mut m,
                    &mut rng,
                    cur,
                    *out_channels,
                    *kernel,
                    *strides,
                    *pads,
                );
                requant(&mut m, acc, last, &x0)
            }
            CnnLayer::MaxPool {
                kernel,
                strides,
                pads,
            } => {
                let oh =
                    conv_out_dim(shape[1], kernel[0], strides[0], pads[0], pads[2]).expect("fits");
                let ow =
                    conv_out_dim(shape[2], kernel[1], strides[1], pads[1], pads[3]).expect("fits");
                let bound = m.tensors[cur].bound;
                let out = tensor(&mut m, format!("maxpool{l}"), vec![shape[0], oh, ow], bound);
                m.ops.push(QOp::MaxPool {
                    input: cur,
                    output: out,
                    kernel: *kernel,
                    strides: *strides,
                    pads: *pads,
                });
                out
            }
            CnnLayer::ScaleMap => {
                let n: usize = shape.iter().product();
                let constant: Vec<i64> = (0..n).map(|_| rng.range(-63, 63)).collect();
                let bound = m.tensors[cur].bound * 63;
                let acc = tensor(&mut m, format!("scaled{l}"), shape.clone(), bound);
                m.ops.push(QOp::MulConst {
                    input: cur,
                    output: acc,
                    constant,
                });
                requant(&mut m, acc, true, &x0)
            }
            CnnLayer::AvgPool {
                kernel,
                strides,
                pads,
            } => {
                let oh =
                    conv_out_dim(shape[1], kernel[0], strides[0], pads[0], pads[2]).expect("fits");
                let ow =
                    conv_out_dim(shape[2], kernel[1], strides[1], pads[1], pads[3]).expect("fits");
                let bound = 128 * (kernel[0] * kernel[1]) as i64;
                let acc = tensor(&mut m, format!("sumpool{l}"), vec![shape[0], oh, ow], bound);
                m.ops.push(QOp::SumPool {
                    input: cur,
                    output: acc,
                    kernel: *kernel,
                    strides: *strides,
                    pads: *pads,
                });
                requant(&mut m, acc, last, &x0)
            }
            CnnLayer::Block {
                out_channels,
                stride,
            } => {
                let s2 = [*stride, *stride];
                let a = conv(&mut m, &mut rng, cur, *out_channels, [3, 3], s2, [1; 4]);
                let a = requant(&mut m, a, false, &x0);
                let acc = conv(&mut m, &mut rng, a, *out_channels, [3, 3], [1, 1], [1; 4]);
                let (skip, b_mul) = if *stride != 1 || *out_channels != shape[0] {
                    let sc = conv(&mut m, &mut rng, cur, *out_channels, [1, 1], s2, [0; 4]);
                    (sc, 1)
                } else {
                    (cur, 64)
                };
                let bound = m.tensors[acc].bound + m.tensors[skip].bound * b_mul;
                let out_shape = m.tensors[acc].shape.clone();
                let sum = tensor(&mut m, format!("block{l}"), out_shape, bound);
                m.ops.push(QOp::Add {
                    a: acc,
                    b: skip,
                    output: sum,
                    a_mul: 1,
                    b_mul,
                });
                requant(&mut m, sum, last, &x0)
            }
            CnnLayer::Residual => {
                let acc = conv(&mut m, &mut rng, cur, shape[0], [3, 3], [1, 1], [1; 4]);
                let b_mul = 64;
                let bound = m.tensors[acc].bound + 128 * b_mul;
                let sum = tensor(&mut m, format!("residual{l}"), shape.clone(), bound);
                m.ops.push(QOp::Add {
                    a: acc,
                    b: cur,
                    output: sum,
                    a_mul: 1,
                    b_mul,
                });
                requant(&mut m, sum, last, &x0)
            }
            CnnLayer::Dense { out } => {
                let in_dim: usize = shape.iter().product();
                let mut src = cur;
                if shape.len() != 1 {
                    let bound = m.tensors[cur].bound;
                    src = tensor(&mut m, format!("flat{l}"), vec![in_dim], bound);
                    m.ops.push(QOp::Reshape {
                        input: cur,
                        output: src,
                    });
                }
                let weight: Vec<i64> = (0..in_dim * out).map(|_| rng.range(-127, 127)).collect();
                let bias: Vec<i64> = (0..*out).map(|_| rng.range(-1000, 1000)).collect();
                let acc = tensor(
                    &mut m,
                    format!("dense{l}"),
                    vec![*out],
                    1000 + 128 * 127 * in_dim as i64,
                );
                m.ops.push(QOp::Dense {
                    input: src,
                    output: acc,
                    in_dim,
                    out_dim: *out,
                    weight: weight.into(),
                    bias,
                });
                requant(&mut m, acc, last, &x0)
            }
        };
    }
    m.output = cur;
    m
}

fn conv_layer(oc: usize, k: usize, pad: usize) -> CnnLayer {
    CnnLayer::Conv {
        out_channels: oc,
        kernel: [k, k],
        strides: [1, 1],
        pads: [pad; 4],
    }
}

const POOL2: CnnLayer = CnnLayer::MaxPool {
    kernel: [2, 2],
    strides: [2, 2],
    pads: [0; 4],
};

/// The benchmark CNNs by name: `lenet5` (1×28×28), `resnet20` and `vgg16`
/// (CIFAR, 3×32×32), with seeded synthetic weights.
pub fn named_cnn(name: &str) -> Option<QuantModel> {
    let mut m = match name {
        "lenet5" => cnn(
            [1, 28, 28],
            &[
                conv_layer(6, 5, 2),
                POOL2,
                conv_layer(16, 5, 0),
                POOL2,
                CnnLayer::Dense { out: 120 },
                CnnLayer::Dense { out: 84 },
                CnnLayer::Dense { out: 10 },
            ],
            5,
        ),
        "resnet20" => {
            let mut layers = vec![conv_layer(16, 3, 1)];
            for (stage, ch) in [16, 32, 64].into_iter().enumerate() {
                for b in 0..3 {
                    let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                    layers.push(CnnLayer::Block {
                        out_channels: ch,
                        stride,
                    });
                }
            }
            layers.push(CnnLayer::AvgPool {
                kernel: [8, 8],
                strides: [1, 1],
                pads: [0; 4],
            });
            layers.push(CnnLayer::Dense { out: 10 });
            cnn([3, 32, 32], &layers, 20)
        }
        "vgg16" => {
            let mut layers = Vec::new();
            for stage in [
                &[64, 64][..],
                &[128, 128],
                &[256, 256, 256],
                &[512, 512, 512],
                &[512, 512, 512],
            ] {
                layers.extend(stage.iter().map(|&c| conv_layer(c, 3, 1)));
                layers.push(POOL2);
            }
            layers.push(CnnLayer::Dense { out: 512 });
            layers.push(CnnLayer::Dense { out: 10 });
            cnn([3, 32, 32], &layers, 16)
        }
        _ => return None,
    };
    m.name = name.to_string();
    Some(m)
}

/// `y[i] = x[source[i]]`, or 0 where `source[i] < 0`.
fn select(x: &[f32], source: &[i64]) -> Vec<f32> {
    source
        .iter()
        .map(|&k| if k < 0 { 0.0 } else { x[k as usize] })
        .collect()
}

/// Plain f32 inference of a synthetic model (the work an unproven server
/// does), for the prove-time ÷ inference-time ratio. Requantizations are
/// float rescale + clamp.
pub fn float_forward(model: &QuantModel, input: &[f32]) -> Vec<f32> {
    let mut vals: Vec<Vec<f32>> = vec![Vec::new(); model.tensors.len()];
    vals[model.input] = input.to_vec();
    let shape = |t: usize| model.tensors[t].shape.clone();
    for op in &model.ops {
        match op {
            QOp::Dense {
                input,
                output,
                in_dim,
                out_dim,
                weight,
                bias,
            } => {
                let x = &vals[*input];
                let y: Vec<f32> = (0..*out_dim)
                    .map(|o| {
                        let row = weight.range(o * in_dim..(o + 1) * in_dim);
                        bias[o] as f32 + row.zip(x).map(|(w, v)| w as f32 * v).sum::<f32>()
                    })
                    .collect();
                vals[*output] = y;
            }
            QOp::Conv2d {
                input,
                output,
                kernel_shape: [oc, ic, kh, kw],
                weight,
                bias,
                strides,
                pads,
            } => {
                let (is, os) = (shape(*input), shape(*output));
                let (h, w, oh, ow) = (is[1], is[2], os[1], os[2]);
                let x = &vals[*input];
                let mut y = vec![0f32; oc * oh * ow];
                // Weight-stationary loops over contiguous output rows.
                for o in 0..*oc {
                    let acc = &mut y[o * oh * ow..(o + 1) * oh * ow];
                    acc.fill(bias[o] as f32);
                    for c in 0..*ic {
                        for ky in 0..*kh {
                            for kx in 0..*kw {
                                let wv = weight.get(((o * ic + c) * kh + ky) * kw + kx) as f32;
                                let lo = pads[1].saturating_sub(kx).div_ceil(strides[1]);
                                let hi = (w + pads[1])
                                    .saturating_sub(kx)
                                    .div_ceil(strides[1])
                                    .min(ow);
                                for oy in 0..oh {
                                    let Some(iy) = (oy * strides[0] + ky)
                                        .checked_sub(pads[0])
                                        .filter(|&v| v < h)
                                    else {
                                        continue;
                                    };
                                    let xrow = &x[(c * h + iy) * w..(c * h + iy + 1) * w];
                                    let arow = &mut acc[oy * ow..(oy + 1) * ow];
                                    for ox in lo..hi {
                                        arow[ox] += wv * xrow[ox * strides[1] + kx - pads[1]];
                                    }
                                }
                            }
                        }
                    }
                }
                vals[*output] = y;
            }
            QOp::Requant {
                input,
                output,
                multiplier,
                shift,
                min,
                max,
            } => {
                let k = *multiplier as f32 / (1u64 << shift) as f32;
                vals[*output] = vals[*input]
                    .iter()
                    .map(|v| (v * k).clamp(*min as f32, *max as f32))
                    .collect();
            }
            QOp::Mul { a, b, output } => {
                vals[*output] = vals[*a].iter().zip(&vals[*b]).map(|(x, y)| x * y).collect();
            }
            QOp::MatMul { a, b, output } => {
                let (rows, inner, n, lead) =
                    zkinfer_model::ir::matmul_dims(&shape(*a), &shape(*b)).expect("MatMul shapes");
                let (va, vb) = (&vals[*a], &vals[*b]);
                let mut y = Vec::new();
                for h in 0..lead.iter().product::<usize>() {
                    for i in 0..rows {
                        for j in 0..n {
                            y.push(
                                (0..inner)
                                    .map(|t| {
                                        va[(h * rows + i) * inner + t] * vb[(h * inner + t) * n + j]
                                    })
                                    .sum(),
                            );
                        }
                    }
                }
                vals[*output] = y;
            }
            QOp::Add {
                a,
                b,
                output,
                a_mul,
                b_mul,
            } => {
                vals[*output] = vals[*a]
                    .iter()
                    .zip(&vals[*b])
                    .map(|(x, y)| x * *a_mul as f32 + y * *b_mul as f32)
                    .collect();
            }
            QOp::MaxPool {
                input,
                output,
                kernel,
                strides,
                ..
            }
            | QOp::SumPool {
                input,
                output,
                kernel,
                strides,
                ..
            } => {
                let is_max = matches!(op, QOp::MaxPool { .. });
                let (is, os) = (shape(*input), shape(*output));
                let x = &vals[*input];
                let mut y = Vec::with_capacity(os.iter().product());
                for c in 0..os[0] {
                    for oy in 0..os[1] {
                        for ox in 0..os[2] {
                            let mut acc = if is_max { f32::MIN } else { 0.0 };
                            for ky in 0..kernel[0] {
                                for kx in 0..kernel[1] {
                                    let (iy, ix) = (oy * strides[0] + ky, ox * strides[1] + kx);
                                    if iy < is[1] && ix < is[2] {
                                        let v = x[(c * is[1] + iy) * is[2] + ix];
                                        acc = if is_max { acc.max(v) } else { acc + v };
                                    }
                                }
                            }
                            y.push(acc);
                        }
                    }
                }
                vals[*output] = y;
            }
            QOp::Reshape { input, output } | QOp::Transpose { input, output, .. } => {
                vals[*output] = vals[*input].clone();
            }
            QOp::Lut { input, output, .. } => vals[*output] = vals[*input].clone(),
            QOp::AddConst {
                input,
                output,
                constant,
            } => {
                vals[*output] = vals[*input]
                    .iter()
                    .zip(constant)
                    .map(|(x, &c)| x + c as f32)
                    .collect();
            }
            QOp::MulConst {
                input,
                output,
                constant,
            } => {
                vals[*output] = vals[*input]
                    .iter()
                    .zip(constant)
                    .map(|(x, &c)| x * c as f32)
                    .collect();
            }
            QOp::Select {
                input,
                output,
                source,
            } => vals[*output] = select(&vals[*input], source),
            QOp::SelectAxes { input, output, map } => {
                vals[*output] = select(&vals[*input], &map.source())
            }
            QOp::SelectBands { input, output, map } => {
                vals[*output] = select(&vals[*input], &map.source())
            }
        }
    }
    std::mem::take(&mut vals[model.output])
}

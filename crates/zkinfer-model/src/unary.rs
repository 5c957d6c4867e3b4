//! Unary elementwise functions proven by lookup table (ONNX Exp, Log, Sqrt, Reciprocal, Erf,
//! Gelu, Elu, Selu, Celu, Softplus, Softsign, HardSigmoid, HardSwish, Mish, Abs, Neg, Sign,
//! Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, ThresholdedRelu, Shrink,
//! Floor, Ceil, Round, and Pow by a constant exponent): their ONNX attributes, their float semantics (the
//! reference), and which of them are non-negative or need a restricted domain.
//!
//! Quantization (`quantize.rs`, `Q::unary`) turns one into a Requant onto a bounded integer
//! domain and a `QOp::Lut`; the table is the exact integer semantics. Error bounds:
//! `docs/operators.md`.

use serde::{Deserialize, Serialize};

/// ONNX Selu defaults (opset 6+): the float32 values 1.67326319217681884765625 and
/// 1.05070102214813232421875.
pub const SELU_ALPHA: f64 = 1.673_263_2_f32 as f64;
pub const SELU_GAMMA: f64 = 1.050_701_f32 as f64;

/// ONNX operator types handled as [`UnaryFn`].
pub const UNARY_OPS: &[&str] = &[
    "Exp",
    "Log",
    "Sqrt",
    "Reciprocal",
    "Erf",
    "Gelu",
    "Elu",
    "Selu",
    "Celu",
    "Softplus",
    "Softsign",
    "HardSigmoid",
    "HardSwish",
    "Mish",
    "Abs",
    "Neg",
    "Sign",
    "Sin",
    "Cos",
    "Tan",
    "Asin",
    "Acos",
    "Atan",
    "Sinh",
    "Cosh",
    "Asinh",
    "Acosh",
    "Atanh",
    "ThresholdedRelu",
    "Shrink",
    "Floor",
    "Ceil",
    "Round",
];

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum UnaryFn {
    Exp,
    Log,
    Sqrt,
    Reciprocal,
    Erf,
    /// `0.5·x·(1 + erf(x/√2))`, or with `tanh` the approximation
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (ONNX `approximate="tanh"`).
    Gelu {
        tanh: bool,
    },
    Elu {
        alpha: f64,
    },
    Selu {
        alpha: f64,
        gamma: f64,
    },
    Celu {
        alpha: f64,
    },
    Softplus,
    Softsign,
    HardSigmoid {
        alpha: f64,
        beta: f64,
    },
    HardSwish,
    Mish,
    Abs,
    Neg,
    Sign,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Asinh,
    Acosh,
    Atanh,
    /// `x` where `x > alpha`, else 0.
    ThresholdedRelu {
        alpha: f64,
    },
    /// `x + bias` below `−lambd`, `x − bias` above `lambd`, 0 between.
    Shrink {
        bias: f64,
        lambd: f64,
    },
    Floor,
    Ceil,
    /// Round half to even (ONNX Round).
    Round,
    /// `1` where `x (op) 0` holds, else `0`: comparisons (on a difference),
    /// Not (`x == 0`), Cast to bool (`x != 0`).
    Compare(CmpOp),
    /// Toward zero (a Cast from float to an integer type).
    Trunc,
    /// `x^p`, ONNX Pow by a constant exponent (see `lowering.rs`: 1, 2, 0.5
    /// and −1 become other ops). A fractional `p` is defined for `x ≥ 0` only.
    Pow {
        p: f64,
    },
}

/// The relation of a [`UnaryFn::Compare`] to 0.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn holds(self, x: f64) -> bool {
        match self {
            CmpOp::Gt => x > 0.0,
            CmpOp::Ge => x >= 0.0,
            CmpOp::Lt => x < 0.0,
            CmpOp::Le => x <= 0.0,
            CmpOp::Eq => x == 0.0,
            CmpOp::Ne => x != 0.0,
        }
    }
}

/// `erf` to ≈ 1e-15: `erf(x) = 2/√π · e^(−x²) · Σ_n 2^n x^(2n+1) / (1·3·…·(2n+1))`
/// (all terms positive, no cancellation); `±1` beyond |x| = 6 (1 − erf(6) < 3e-17).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    if a == 0.0 {
        return x;
    }
    if a >= 6.0 {
        return x.signum();
    }
    let x2 = a * a;
    let mut term = a;
    let mut sum = a;
    let mut n = 0.0;
    loop {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
        if term <= sum * 1e-17 {
            break;
        }
    }
    let v = (2.0 / std::f64::consts::PI.sqrt()) * (-x2).exp() * sum;
    v.min(1.0).copysign(x)
}

fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

impl UnaryFn {
    /// Parses an ONNX node of one of [`UNARY_OPS`] with its attributes (and ONNX defaults);
    /// `Ok(None)` if `op` is not a unary table function.
    pub fn from_onnx(
        op: &str,
        f: impl Fn(&str, f64) -> f64,
        s: impl Fn(&str) -> Option<String>,
    ) -> std::result::Result<Option<UnaryFn>, String> {
        Ok(Some(match op {
            "Exp" => UnaryFn::Exp,
            "Log" => UnaryFn::Log,
            "Sqrt" => UnaryFn::Sqrt,
            "Reciprocal" => UnaryFn::Reciprocal,
            "Erf" => UnaryFn::Erf,
            "Gelu" => match s("approximate").as_deref() {
                None | Some("none") => UnaryFn::Gelu { tanh: false },
                Some("tanh") => UnaryFn::Gelu { tanh: true },
                Some(o) => return Err(format!("approximate=\"{o}\" (need \"none\" or \"tanh\")")),
            },
            "Elu" => UnaryFn::Elu {
                alpha: f("alpha", 1.0),
            },
            "Selu" => UnaryFn::Selu {
                alpha: f("alpha", SELU_ALPHA),
                gamma: f("gamma", SELU_GAMMA),
            },
            "Celu" => {
                let alpha = f("alpha", 1.0);
                if alpha == 0.0 {
                    return Err("alpha = 0 (Celu divides by alpha)".into());
                }
                UnaryFn::Celu { alpha }
            }
            "Softplus" => UnaryFn::Softplus,
            "Softsign" => UnaryFn::Softsign,
            "HardSigmoid" => UnaryFn::HardSigmoid {
                alpha: f("alpha", 0.2),
                beta: f("beta", 0.5),
            },
            "HardSwish" => UnaryFn::HardSwish,
            "Mish" => UnaryFn::Mish,
            "Abs" => UnaryFn::Abs,
            "Neg" => UnaryFn::Neg,
            "Sign" => UnaryFn::Sign,
            "Sin" => UnaryFn::Sin,
            "Cos" => UnaryFn::Cos,
            "Tan" => UnaryFn::Tan,
            "Asin" => UnaryFn::Asin,
            "Acos" => UnaryFn::Acos,
            "Atan" => UnaryFn::Atan,
            "Sinh" => UnaryFn::Sinh,
            "Cosh" => UnaryFn::Cosh,
            "Asinh" => UnaryFn::Asinh,
            "Acosh" => UnaryFn::Acosh,
            "Atanh" => UnaryFn::Atanh,
            "ThresholdedRelu" => UnaryFn::ThresholdedRelu {
                alpha: f("alpha", 1.0),
            },
            "Shrink" => {
                let lambd = f("lambd", 0.5);
                if lambd < 0.0 {
                    return Err(format!("lambd = {lambd} (must be ≥ 0)"));
                }
                UnaryFn::Shrink {
                    bias: f("bias", 0.0),
                    lambd,
                }
            }
            "Floor" => UnaryFn::Floor,
            "Ceil" => UnaryFn::Ceil,
            "Round" => UnaryFn::Round,
            _ => return Ok(None),
        }))
    }

    /// The float function (ONNX semantics, f64).
    pub fn eval(&self, x: f64) -> f64 {
        match *self {
            UnaryFn::Exp => x.exp(),
            UnaryFn::Log => x.ln(),
            UnaryFn::Sqrt => x.sqrt(),
            UnaryFn::Reciprocal => 1.0 / x,
            UnaryFn::Erf => erf(x),
            UnaryFn::Gelu { tanh: false } => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
            UnaryFn::Gelu { tanh: true } => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
            }
            UnaryFn::Elu { alpha } => {
                if x >= 0.0 {
                    x
                } else {
                    alpha * x.exp_m1()
                }
            }
            UnaryFn::Selu { alpha, gamma } => {
                if x > 0.0 {
                    gamma * x
                } else {
                    gamma * (alpha * x.exp() - alpha)
                }
            }
            UnaryFn::Celu { alpha } => x.max(0.0) + (alpha * (x / alpha).exp_m1()).min(0.0),
            UnaryFn::Softplus => softplus(x),
            UnaryFn::Softsign => x / (1.0 + x.abs()),
            UnaryFn::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
            UnaryFn::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            UnaryFn::Mish => x * softplus(x).tanh(),
            UnaryFn::Abs => x.abs(),
            UnaryFn::Neg => -x,
            UnaryFn::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            UnaryFn::Sin => x.sin(),
            UnaryFn::Cos => x.cos(),
            UnaryFn::Tan => x.tan(),
            UnaryFn::Asin => x.asin(),
            UnaryFn::Acos => x.acos(),
            UnaryFn::Atan => x.atan(),
            UnaryFn::Sinh => x.sinh(),
            UnaryFn::Cosh => x.cosh(),
            UnaryFn::Asinh => x.asinh(),
            UnaryFn::Acosh => x.acosh(),
            UnaryFn::Atanh => x.atanh(),
            UnaryFn::ThresholdedRelu { alpha } => {
                if x > alpha {
                    x
                } else {
                    0.0
                }
            }
            UnaryFn::Shrink { bias, lambd } => {
                if x < -lambd {
                    x + bias
                } else if x > lambd {
                    x - bias
                } else {
                    0.0
                }
            }
            UnaryFn::Floor => x.floor(),
            UnaryFn::Ceil => x.ceil(),
            UnaryFn::Round => x.round_ties_even(),
            UnaryFn::Compare(op) => f64::from(u8::from(op.holds(x))),
            UnaryFn::Trunc => x.trunc(),
            UnaryFn::Pow { p } => x.powf(p),
        }
    }

    /// Name in reports (the Lut's `func`), attributes included.
    pub fn name(&self) -> String {
        match *self {
            UnaryFn::Gelu { tanh } => format!("gelu({})", if tanh { "tanh" } else { "none" }),
            UnaryFn::Elu { alpha } => format!("elu({alpha})"),
            UnaryFn::Selu { alpha, gamma } => format!("selu({alpha},{gamma})"),
            UnaryFn::Celu { alpha } => format!("celu({alpha})"),
            UnaryFn::HardSigmoid { alpha, beta } => format!("hard_sigmoid({alpha},{beta})"),
            UnaryFn::Pow { p } => format!("pow({p})"),
            UnaryFn::ThresholdedRelu { alpha } => format!("thresholded_relu({alpha})"),
            UnaryFn::Shrink { bias, lambd } => format!("shrink({bias},{lambd})"),
            f => format!("{f:?}").to_lowercase(),
        }
    }

    /// `f(x) ≥ 0` for every x where it is defined (Pow: an even or a
    /// fractional power, the latter defined for `x ≥ 0` only).
    pub fn non_negative(&self) -> bool {
        match self {
            UnaryFn::Pow { p } => p.fract() != 0.0 || p % 2.0 == 0.0,
            UnaryFn::ThresholdedRelu { alpha } => *alpha >= 0.0,
            f => matches!(
                f,
                UnaryFn::Exp
                    | UnaryFn::Sqrt
                    | UnaryFn::Abs
                    | UnaryFn::Softplus
                    | UnaryFn::HardSigmoid { .. }
                    | UnaryFn::Compare(_)
                    | UnaryFn::Acos
                    | UnaryFn::Cosh
                    | UnaryFn::Acosh
            ),
        }
    }

    /// Integer-valued output (Sign, Floor, Ceil, Round): the table is exact at output scale 1.
    pub fn integer_valued(&self) -> bool {
        matches!(
            self,
            UnaryFn::Sign
                | UnaryFn::Floor
                | UnaryFn::Ceil
                | UnaryFn::Round
                | UnaryFn::Compare(_)
                | UnaryFn::Trunc
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // erf(0.5), erf(1), erf(2), erf(3) to 15 digits
        for (x, v) in [
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
        ] {
            assert!((erf(x) - v).abs() < 1e-14, "erf({x})");
            assert!((erf(-x) + v).abs() < 1e-14);
        }
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(7.0), 1.0);
    }

    #[test]
    fn onnx_defaults_and_semantics() {
        let none = |_: &str| None;
        let dflt = |_: &str, d: f64| d;
        let selu = UnaryFn::from_onnx("Selu", dflt, none).unwrap().unwrap();
        assert!((selu.eval(-1.0) - (-1.111_330_7)).abs() < 1e-6);
        let hs = UnaryFn::from_onnx("HardSigmoid", dflt, none)
            .unwrap()
            .unwrap();
        assert_eq!(hs.eval(1.0), 0.7);
        assert!((SELU_ALPHA - 1.673_263_192_176_818_8).abs() < 1e-15);
        assert!((SELU_GAMMA - 1.050_701_022_148_132_3).abs() < 1e-15);
        assert_eq!(UnaryFn::Round.eval(2.5), 2.0);
        assert_eq!(UnaryFn::Round.eval(-1.5), -2.0);
        assert_eq!(UnaryFn::HardSwish.eval(1.0), 1.0 * (1.0 / 6.0 + 0.5));
        assert!((UnaryFn::Mish.eval(1.0) - 0.865_098_388_267_31).abs() < 1e-9);
        // ONNX Celu scales the negative part by alpha (tract 0.23 omits it).
        let celu = UnaryFn::Celu { alpha: 2.0 };
        assert!((celu.eval(-1.0) - (-0.786_938_680_574_733)).abs() < 1e-12);
        assert_eq!(celu.eval(1.5), 1.5);
        assert!(UnaryFn::from_onnx("Gelu", dflt, |_| Some("exact".into())).is_err());
        assert!(UnaryFn::from_onnx("Celu", |_, _| 0.0, none).is_err());
        assert_eq!(UnaryFn::from_onnx("Mod", dflt, none), Ok(None));
        let tr = UnaryFn::from_onnx("ThresholdedRelu", dflt, none)
            .unwrap()
            .unwrap();
        assert_eq!((tr.eval(1.0), tr.eval(1.5), tr.eval(-3.0)), (0.0, 1.5, 0.0));
        assert!(tr.non_negative());
        assert!(!UnaryFn::ThresholdedRelu { alpha: -1.0 }.non_negative());
        let shrink = UnaryFn::from_onnx("Shrink", |n, d| if n == "bias" { 0.25 } else { d }, none)
            .unwrap()
            .unwrap();
        assert_eq!(
            shrink,
            UnaryFn::Shrink {
                bias: 0.25,
                lambd: 0.5
            }
        );
        assert_eq!(
            (shrink.eval(-1.0), shrink.eval(0.5), shrink.eval(1.0)),
            (-0.75, 0.0, 0.75)
        );
        assert!(UnaryFn::from_onnx("Shrink", |_, _| -1.0, none).is_err());
        assert!((UnaryFn::Atanh.eval(0.5) - 0.549_306_144_334_054_9).abs() < 1e-15);
        assert!((UnaryFn::Acosh.eval(2.0) - 1.316_957_896_924_816_6).abs() < 1e-15);
    }
}

//! Fuzzing every decoder of untrusted bytes: proofs, keys, `.zkm` models,
//! input files (JSON, `.npy`) and ONNX import; and structurally mutated
//! verifying keys through `Layout::new`, the security report and `verify`.
//! The harness is `fuzz_common` (budgets and the long-run command:
//! docs/fuzzing.md). Each target's CI budget is a few seconds in release.

mod fuzz_common;

use std::sync::OnceLock;

use fuzz_common::{fixture, mutate, run, Rng, Target, EXTREMES};
use serde_json::Value;
use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_model::input::{parse_json_samples, parse_npy};
use zkinfer_model::ir::{IntVec, QOp, QuantModel, TensorInfo, QUANT_MODEL_VERSION};
use zkinfer_prover::proof::Proof;
use zkinfer_prover::synthetic::{input, mlp, window_ops_cnn};
use zkinfer_prover::Layout;
use zkinfer_prover::{prove, security, setup, verify, ProvingKey, VerifyingKey};

/// A model with its keys, one input, the claimed output and an honest proof.
struct Proven {
    model: QuantModel,
    pk: ProvingKey,
    x: Vec<i64>,
    y: Vec<i64>,
    proof: Proof,
}

fn proven(model: QuantModel, x: Vec<i64>) -> Proven {
    let pk = setup(model.clone(), None).expect("setup");
    let out = prove(&pk, &x).expect("prove");
    verify(&pk.vk, &x, &out.output, &out.proof).expect("honest proof verifies");
    Proven {
        model,
        pk,
        x,
        y: out.output,
        proof: out.proof,
    }
}

/// Seeds: an MLP, a CNN with every window op (Conv with padding and stride,
/// MaxPool, residual Add, AvgPool, Dense) and a model compiled from ONNX with
/// a lookup table (Sigmoid).
fn corpus() -> &'static [Proven] {
    static C: OnceLock<Vec<Proven>> = OnceLock::new();
    C.get_or_init(|| {
        let cnn_model = window_ops_cnn([2, 7, 5], 5);
        let onnx = fixture("sigmoid.onnx");
        let sample = parse_json_samples(
            std::str::from_utf8(&fixture("sigmoid.input.json")).unwrap(),
            "sigmoid.input.json",
        )
        .unwrap();
        let (lut_model, _) =
            compile(&onnx, "sigmoid", &sample, &CompileOptions::default()).expect("compile");
        let xf: Vec<f32> = sample[0].iter().map(|&v| v as f32).collect();
        let lut_x = lut_model.quantize_input(&xf).unwrap();
        vec![
            proven(mlp(&[12, 7, 4], 3), input(12, 3)),
            proven(cnn_model, input(70, 5)),
            proven(lut_model, lut_x),
        ]
    })
}

/// The proof whose model id matches, to verify a mutated proof that decodes.
fn owner(model_id: &[u8; 32]) -> Option<&'static Proven> {
    corpus().iter().find(|p| &p.proof.model_id == model_id)
}

#[test]
fn fuzz_proof_decoder() {
    let _serial = fuzz_common::serial();
    let seeds: Vec<Vec<u8>> = corpus().iter().map(|p| p.proof.to_bytes()).collect();
    run(
        Target {
            name: "proof",
            seeds: seeds.clone(),
            iters: 4000,
            alloc_factor: 64,
            fixup: None,
            mutator: None,
        },
        |bytes| {
            let Ok(proof) = Proof::from_bytes(bytes) else {
                return false;
            };
            // A proof that decodes but differs from the honest one must not verify.
            if let Some(p) = owner(&proof.model_id) {
                if proof != p.proof {
                    assert!(
                        verify(&p.pk.vk, &p.x, &p.y, &proof).is_err(),
                        "a mutated proof verifies"
                    );
                }
            }
            true
        },
    );
}

#[test]
fn fuzz_verifying_key_decoder() {
    let _serial = fuzz_common::serial();
    let seeds: Vec<Vec<u8>> = corpus().iter().map(|p| p.pk.vk.to_bytes()).collect();
    run(
        Target {
            name: "verifying_key",
            seeds,
            iters: 80000,
            alloc_factor: 64,
            fixup: None,
            mutator: None,
        },
        |bytes| {
            let Ok(vk) = VerifyingKey::from_bytes(bytes) else {
                return false;
            };
            // What `zkinfer security --vk` does with a key file.
            let _ = security::report(&vk);
            true
        },
    );
}

#[test]
fn fuzz_proving_key_decoder() {
    let _serial = fuzz_common::serial();
    // Loading a proving key re-commits its weights: fewer, costlier cases. The
    // commitment's codeword is a fixed multiple of the padded weights, which
    // the weights in the file justify (a varint byte per small weight becomes
    // 8 bytes, ×4 for axis padding, ×4 for the code rate).
    let seeds: Vec<Vec<u8>> = corpus()[..1].iter().map(|p| p.pk.to_bytes()).collect();
    run(
        Target {
            name: "proving_key",
            seeds,
            iters: 20000,
            alloc_factor: 256,
            fixup: None,
            mutator: None,
        },
        |bytes| ProvingKey::from_bytes(bytes).is_ok(),
    );
}

/// `.zkm`: header ‖ blake3(body) ‖ JSON body. Most cases get a recomputed
/// length and checksum (and half of them a structural JSON edit of the body),
/// so the JSON parser and `QuantModel::validate` are reached, not only the
/// checksum.
fn zkm_fixup(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.len() < 52 {
        return bytes;
    }
    let mut body = bytes.split_off(52);
    if rng.below(2) == 0 {
        body = json_mutate(rng, &body);
    }
    bytes[12..20].copy_from_slice(&(body.len() as u64).to_le_bytes());
    bytes[20..52].copy_from_slice(blake3::hash(&body).as_bytes());
    bytes.extend_from_slice(&body);
    bytes
}

#[test]
fn fuzz_zkm_decoder() {
    let _serial = fuzz_common::serial();
    let seeds: Vec<Vec<u8>> = corpus().iter().map(|p| p.model.to_bytes()).collect();
    run(
        Target {
            name: "zkm",
            seeds,
            iters: 30000,
            alloc_factor: 64,
            fixup: Some(&zkm_fixup),
            mutator: None,
        },
        |bytes| QuantModel::from_bytes(bytes).is_ok(),
    );
}

#[test]
fn fuzz_input_json() {
    let _serial = fuzz_common::serial();
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.ends_with(".json").then(|| fixture(&name))
        })
        .collect();
    run(
        Target {
            name: "input_json",
            seeds,
            iters: 300000,
            alloc_factor: 64,
            fixup: None,
            mutator: None,
        },
        |bytes| {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| parse_json_samples(t, "fuzz.json").ok())
                .is_some()
        },
    );
}

#[test]
fn fuzz_npy() {
    let _serial = fuzz_common::serial();
    run(
        Target {
            name: "npy",
            seeds: vec![
                fixture("demo_test_labels.npy"),
                fixture("demo_test_inputs.npy"),
            ],
            iters: 30000,
            alloc_factor: 64,
            fixup: None,
            mutator: None,
        },
        |bytes| parse_npy(bytes, "fuzz.npy").map(|a| a.rows()).is_ok(),
    );
}

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// ONNX import of mutated fixtures; an import that succeeds is compiled on the
/// fixture's calibration input when the lengths still match (tract runs as
/// the cross-check there).
#[test]
fn fuzz_onnx_import() {
    let _serial = fuzz_common::serial();
    let names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".onnx").map(str::to_string)
        })
        .collect();
    let seeds: Vec<Vec<u8>> = names
        .iter()
        .map(|n| fixture(&format!("{n}.onnx")))
        .collect();
    let samples: Vec<Vec<Vec<f64>>> = names
        .iter()
        .filter_map(|n| {
            let t = std::fs::read_to_string(fixture_dir().join(format!("{n}.input.json"))).ok()?;
            parse_json_samples(&t, n).ok()
        })
        .collect();
    run(
        Target {
            name: "onnx_import",
            seeds,
            iters: 3000,
            alloc_factor: 64,
            fixup: None,
            mutator: None,
        },
        |bytes| {
            let Ok(fm) = zkinfer_model::onnx_import::import_onnx(bytes) else {
                return false;
            };
            if let Some(s) = samples.iter().find(|s| s[0].len() == fm.input_len()) {
                let _ = compile(bytes, "fuzz", s, &CompileOptions::default());
            }
            true
        },
    );
}

// ---------------------------------------------------------------------------
// Structural mutation: decoded keys re-encoded with absurd shapes.

/// Edits 1–3 nodes of a JSON document: numbers become extreme or off by one,
/// arrays lose, gain or repeat elements, strings empty, booleans flip. Long
/// arrays (weights, tables, ONNX bytes) are sampled, not enumerated, so the
/// edits land on structure.
pub fn json_mutate(rng: &mut Rng, text: &[u8]) -> Vec<u8> {
    let Ok(mut doc) = serde_json::from_slice::<Value>(text) else {
        return mutate(rng, text, text);
    };
    fn paths(v: &Value, at: String, rng: &mut Rng, out: &mut Vec<String>) {
        match v {
            Value::Array(a) => {
                let picks: Vec<usize> = if a.len() > 16 {
                    (0..4).map(|_| rng.below(a.len())).collect()
                } else {
                    (0..a.len()).collect()
                };
                for i in picks {
                    paths(&a[i], format!("{at}/{i}"), rng, out);
                }
            }
            Value::Object(o) => {
                for (k, x) in o {
                    let k = k.replace('~', "~0").replace('/', "~1"); // JSON pointer escapes
                    paths(x, format!("{at}/{k}"), rng, out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
    for _ in 0..1 + rng.below(3) {
        let mut all = Vec::new();
        paths(&doc, String::new(), rng, &mut all);
        let p = rng.pick(&all).clone();
        let node = doc.pointer_mut(&p).expect("collected path");
        *node = match std::mem::take(node) {
            Value::Number(n) => {
                let v = n.as_i64().unwrap_or(0);
                match rng.below(4) {
                    0 => Value::from(*rng.pick(&EXTREMES)),
                    1 => Value::from(-(*rng.pick(&EXTREMES) as i64)),
                    2 => Value::from(v.wrapping_add(*rng.pick(&[-1, 1]))),
                    _ => Value::from(v.wrapping_mul(2 << rng.below(40))),
                }
            }
            Value::Array(mut a) => {
                match rng.below(4) {
                    0 => a.clear(),
                    1 => {
                        a.pop();
                    }
                    2 if !a.is_empty() => {
                        let x = a[rng.below(a.len())].clone();
                        a.insert(rng.below(a.len() + 1), x);
                    }
                    _ => a.push(Value::from(*rng.pick(&EXTREMES))),
                }
                Value::Array(a)
            }
            Value::String(_) => Value::String(String::new()),
            Value::Bool(b) => Value::Bool(!b),
            other => other,
        };
    }
    serde_json::to_vec(&doc).expect("re-encode")
}

/// Verifying keys as JSON, structurally mutated: shapes, ids, kernels,
/// strides, pads, requant parameters, tables, commitment parameters. Each key
/// that still deserializes goes through `Layout::new`, the file round trip,
/// the security report and `verify` (with the proof's model id set to the
/// mutated key's, so verification gets past the id check). A key that
/// differs from the honest one must never accept the honest proof.
///
/// The allocation limit here is generous (the verifier's work is sized by the
/// model structure — tables, public input — not by the proof bytes); it still
/// catches a shape field turned into a multi-gigabyte buffer.
#[test]
fn fuzz_verifying_key_structure() {
    let _serial = fuzz_common::serial();
    let seeds: Vec<Vec<u8>> = corpus()
        .iter()
        .map(|p| serde_json::to_vec(&p.pk.vk).unwrap())
        .collect();
    run(
        Target {
            name: "verifying_key_structure",
            seeds,
            iters: 2500,
            alloc_factor: 4096,
            fixup: None,
            mutator: Some(&|rng, seed, _| json_mutate(rng, seed)),
        },
        |bytes| {
            let Ok(vk) = serde_json::from_slice::<VerifyingKey>(bytes) else {
                return false;
            };
            let _ = Layout::new(&vk.structure);
            let _ = security::report(&vk);
            if let Ok(back) = VerifyingKey::from_bytes(&vk.to_bytes()) {
                assert_eq!(back, vk, "vk file round trip");
            }
            for p in corpus() {
                let mut proof = p.proof.clone();
                proof.model_id = vk.model_id();
                if verify(&vk, &p.x, &p.y, &proof).is_ok() {
                    assert_eq!(vk, p.pk.vk, "a mutated verifying key accepts a proof");
                }
            }
            true
        },
    );
}

/// Proofs whose structure is mutated after decoding: the activation
/// commitment, the lookup proofs and the layer proofs as JSON (vectors too
/// short or too long, sumchecks with missing rounds, absurd `num_vars`), the
/// openings kept. `verify` must reject every change without panicking — it
/// indexes these vectors by what the layout expects.
#[test]
fn fuzz_proof_structure() {
    let _serial = fuzz_common::serial();
    let c = corpus();
    let seeds: Vec<Vec<u8>> = c
        .iter()
        .enumerate()
        .map(|(i, p)| {
            serde_json::to_vec(&serde_json::json!({
                "seed": i,
                "commitment": p.proof.activation_commitment,
                "lookups": p.proof.lookups,
                "layers": p.proof.layers,
            }))
            .unwrap()
        })
        .collect();
    run(
        Target {
            name: "proof_structure",
            seeds,
            iters: 400,
            alloc_factor: 4096,
            fixup: None,
            mutator: Some(&|rng, seed, _| json_mutate(rng, seed)),
        },
        |bytes| {
            let Ok(doc) = serde_json::from_slice::<Value>(bytes) else {
                return false;
            };
            let part = |k: &str| doc.get(k).cloned().unwrap_or_default();
            let Some(p) = part("seed").as_u64().and_then(|i| c.get(i as usize)) else {
                return false;
            };
            let (Ok(commitment), Ok(lookups), Ok(layers)) = (
                serde_json::from_value(part("commitment")),
                serde_json::from_value(part("lookups")),
                serde_json::from_value(part("layers")),
            ) else {
                return false;
            };
            let proof = Proof {
                activation_commitment: commitment,
                lookups,
                layers,
                ..p.proof.clone()
            };
            let ok = verify(&p.pk.vk, &p.x, &p.y, &proof).is_ok();
            assert!(!ok || proof == p.proof, "a mutated proof verifies");
            ok
        },
    );
}

// ---------------------------------------------------------------------------
// Regressions: inputs the fuzzer (or the review that went with it) found.

/// `.zkm` sizes and sums that used to wrap in `QuantModel::validate`.
#[test]
fn zkm_with_overflowing_sizes_is_refused() {
    let _serial = fuzz_common::serial();
    let edit = |widths: &[usize], f: &dyn Fn(&mut QuantModel)| {
        let mut m = mlp(widths, 1);
        f(&mut m);
        QuantModel::from_bytes(&m.to_bytes())
    };
    fn first_dense(m: &mut QuantModel, f: impl FnOnce(&mut usize, &mut IntVec)) {
        match &mut m.ops[0] {
            QOp::Dense { in_dim, weight, .. } => f(in_dim, weight),
            op => panic!("first op is {}", op.name()),
        }
    }
    // Σ|w|·bound beyond i128 wrapped to a small "worst case": accepted with a
    // bound the values do not respect.
    let r = edit(&[16, 4], &|m| {
        m.tensors[m.input].bound = 1 << 61;
        first_dense(m, |_, w| *w = vec![i64::MIN; w.len()].into());
    });
    assert!(r.is_err(), "{r:?}");
    // A shape whose element count wraps (2^63·3 ≡ 2^63, 2^63·4 ≡ 0): weights
    // were then sliced out of range (a panic).
    let r = edit(&[16, 4], &|m| {
        m.tensors[m.input].shape = vec![1 << 63, 3];
        first_dense(m, |d, w| {
            *d = 1 << 63;
            *w = IntVec::default();
        });
    });
    assert!(r.is_err(), "{r:?}");
}

/// A key whose op refers to a tensor out of range (indexed while choosing
/// limb widths, before the op checks); a proving key with commitment
/// parameters WHIR cannot configure (the re-commit panicked) or with a rate
/// or folding no mode uses (a 389-byte key with rate 2^-9 made the re-commit
/// allocate 2 MiB; larger exponents, gigabytes).
#[test]
fn keys_with_bad_ids_or_parameters_are_refused() {
    let _serial = fuzz_common::serial();
    let p = &corpus()[0];
    let mut vk = p.pk.vk.clone();
    for op in &mut vk.structure.ops {
        if let QOp::Requant { output, .. } = op {
            *output = 1 << 40;
        }
    }
    assert!(VerifyingKey::from_bytes(&vk.to_bytes()).is_err());
    assert!(Layout::new(&vk.structure).is_err());

    #[derive(serde::Serialize)]
    struct PkFile<'a> {
        model: &'a QuantModel,
        weight_commitment: &'a zkinfer_protocol::pcs::Commitment,
        pcs_params: zkinfer_protocol::pcs::PcsParams,
    }
    // (folding, log inverse rate, security level, grinding budget); the fourth
    // is the fuzzer's find.
    let bad_params: Vec<Vec<u8>> = [
        (1 << 40, 1, 100, 20),
        (0, 1, 100, 20),
        (4, 1 << 40, 100, 20),
        (64, 64, 100, 20),
        (4, 9, 45, 8),
        (9, 1, 100, 20),
    ]
    .into_iter()
    .map(|(folding, rate, security_level, pow_bits)| {
        let pcs_params = zkinfer_protocol::pcs::PcsParams {
            folding_factor: folding,
            starting_log_inv_rate: rate,
            security_level,
            pow_bits,
            ..p.pk.vk.pcs_params.clone()
        };
        let mut bytes = b"ZKINFPK\0".to_vec();
        bytes.extend_from_slice(&zkinfer_prover::KEY_FORMAT_VERSION.to_le_bytes());
        let file = PkFile {
            model: &p.model,
            weight_commitment: &p.pk.vk.weight_commitment,
            pcs_params,
        };
        bytes.extend(postcard::to_allocvec(&file).unwrap());
        bytes
    })
    .collect();
    // Refused, without panicking or allocating beyond the proving_key target's limit.
    let out = run(
        Target {
            name: "proving_key_params",
            seeds: bad_params,
            iters: 0,
            alloc_factor: 256,
            fixup: None,
            mutator: None,
        },
        |bytes| ProvingKey::from_bytes(bytes).is_ok(),
    );
    assert_eq!(out.accepted, 0);
}

/// A Conv2d kernel whose element count wraps (`1·2^32·2^32·1 ≡ 0`) passed the
/// "weights complete" check with no weights at all; the layout now refuses
/// weight tensors beyond 2^32 elements, as it does tensors.
#[test]
fn wrapping_kernel_size_is_refused() {
    let _serial = fuzz_common::serial();
    let t = |shape: Vec<usize>| TensorInfo {
        name: "t".into(),
        shape,
        scale: 1.0,
        bound: 1,
    };
    let model = QuantModel {
        version: QUANT_MODEL_VERSION,
        name: "wrap".into(),
        tensors: vec![t(vec![1 << 32, 1, 1]), t(vec![1, 1, 1])],
        input: 0,
        output: 1,
        ops: vec![QOp::Conv2d {
            input: 0,
            output: 1,
            kernel_shape: [1, 1 << 32, 1 << 32, 1],
            weight: IntVec::default(),
            bias: vec![0],
            strides: [1, 1],
            pads: [(1 << 32) - 1, 0, 0, 0],
        }],
        onnx: vec![],
        output_softmax: false,
        input_segments: vec![],
        tied_weights: Vec::new(),
        output_segments: vec![],
        batch: 1,
        dynamic_batch: false,
    };
    assert!(Layout::new(&model).is_err());
    assert!(QuantModel::from_bytes(&model.to_bytes()).is_err());
}

/// The harness itself: a panic and an oversized allocation both fail a run.
#[test]
fn harness_catches_panics_and_oversized_allocations() {
    let _serial = fuzz_common::serial();
    for bad in [0, 1] {
        let target = Target {
            name: "harness_selftest",
            seeds: vec![vec![1, 2, 3]],
            iters: 1,
            alloc_factor: 64,
            fixup: None,
            mutator: None,
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(target, |_| {
                assert!(bad != 0, "decoder panic");
                !std::hint::black_box(vec![0u8; 4 << 20]).is_empty()
            })
        }));
        assert!(r.is_err());
    }
}

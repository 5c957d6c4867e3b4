//! Bad inputs are errors (never panics); `.zkm` round trip and corruption.

mod common;
use common::*;
use zkinfer_model::input::{load_samples, parse_json_samples, parse_npy};
use zkinfer_model::onnx_import::import_onnx;
use zkinfer_model::{compile, CompileOptions, ModelError, QOp, QuantModel};

fn compiled(name: &str) -> QuantModel {
    let x = load_samples(fixture(&format!("{name}.input.json"))).unwrap();
    compile(
        &read(&format!("{name}.onnx")),
        name,
        &x,
        &CompileOptions::default(),
    )
    .unwrap()
    .0
}

#[test]
fn non_onnx_and_truncated_files() {
    assert!(matches!(
        import_onnx(b"this is not an onnx model at all"),
        Err(ModelError::OnnxParse(_))
    ));
    assert!(matches!(import_onnx(b""), Err(ModelError::OnnxParse(_))));
    let bytes = read("conv_net.onnx");
    for cut in [1, 10, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            import_onnx(&bytes[..cut]).is_err(),
            "truncated at {cut} should fail"
        );
    }
    // a .zkm or JSON file fed as ONNX
    assert!(import_onnx(&read("demo_input.json")).is_err());
}

#[test]
fn unsupported_op_names_op_node_and_position() {
    // (unsupported_cos.onnx imports since Cos became a table function)
    assert!(import_onnx(&read("unsupported_cos.onnx")).is_ok());
    let err = import_onnx(&read("unsupported_isinf.onnx")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ModelError::UnsupportedOp { .. }));
    assert!(msg.contains("`IsInf`"), "{msg}");
    assert!(msg.contains("my_isinf_node"), "{msg}");
    assert!(msg.contains("position 1"), "{msg}");
    assert!(
        msg.contains("Gemm") && msg.contains("Conv"),
        "lists supported ops: {msg}"
    );
}

#[test]
fn wrong_input_length_and_non_finite() {
    let onnx = read("mlp_gemm_relu.onnx");
    let err = compile(&onnx, "m", &[vec![0.0; 7]], &CompileOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::InputLength {
                expected: 8,
                got: 7
            }
        ),
        "{err}"
    );
    let m = compiled("mlp_gemm_relu");
    assert!(matches!(
        zkinfer_model::run_quantized(&m, &[0.0; 9]),
        Err(ModelError::InputLength { .. })
    ));
    let mut x = vec![0.0; 8];
    x[3] = f64::NAN;
    assert!(matches!(
        zkinfer_model::run_quantized(&m, &x),
        Err(ModelError::NonFinite { index: 3, .. })
    ));
    let fm = import_onnx(&onnx).unwrap();
    assert!(fm.evaluate(&x).is_err());
    // NaN / inf spelled in an input file
    let dir = tmp_path("nan");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("nan.json");
    std::fs::write(&p, r#"{"input_data": [[1.0, "NaN", 2.0]]}"#).unwrap();
    assert!(load_samples(&p)
        .unwrap_err()
        .to_string()
        .contains("not finite"));
    std::fs::write(&p, r#"{"input_data": [[1.0, "inf"]]}"#).unwrap();
    assert!(load_samples(&p).is_err());
    std::fs::write(&p, r#"{"input_data": [[1.0, true]]}"#).unwrap();
    assert!(load_samples(&p).is_err());
    std::fs::write(&p, r#"{"wrong": 1}"#).unwrap();
    assert!(load_samples(&p).is_err());
    std::fs::write(&p, "{\"input_data\": [[1.0, 2.").unwrap();
    assert!(load_samples(&p).is_err());
    assert!(load_samples(dir.join("missing.json")).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(h.len() as u16).to_le_bytes());
    v.extend_from_slice(h.as_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn npy_and_json_parsing() {
    let body: Vec<u8> = [1.5f32, -2.0, 3.25, 4.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let a = parse_npy(&npy("<f4", "(2, 2)", &body), "t").unwrap();
    assert_eq!(a.shape, vec![2, 2]);
    assert_eq!(a.rows(), vec![vec![1.5, -2.0], vec![3.25, 4.0]]);
    let body: Vec<u8> = [0.5f64, 7.0, -1.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    assert_eq!(
        parse_npy(&npy("<f8", "(3,)", &body), "t").unwrap().data,
        vec![0.5, 7.0, -1.0]
    );
    let body: Vec<u8> = [3i64, 9].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(
        parse_npy(&npy("<i8", "(2,)", &body), "t").unwrap().data,
        vec![3.0, 9.0]
    );
    // truncated data, bad dtype, big-endian, garbage
    assert!(parse_npy(&npy("<f4", "(2, 2)", &[0u8; 15]), "t").is_err());
    assert!(parse_npy(&npy(">f4", "(1,)", &[0u8; 4]), "t").is_err());
    assert!(parse_npy(&npy("<c8", "(1,)", &[0u8; 8]), "t").is_err());
    assert!(parse_npy(b"\x93NUMPY\x01\x00\xff\xff", "t").is_err());
    assert!(parse_npy(b"garbage", "t").is_err());
    let s = parse_json_samples(r#"{"input_data": [[1, 2], [3, 4]]}"#, "t").unwrap();
    assert_eq!(s, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    let s = parse_json_samples(r#"{"input_data": [[[1, 2], [3, 4]]]}"#, "t").unwrap();
    assert_eq!(s, vec![vec![1.0, 2.0, 3.0, 4.0]]);
    assert_eq!(
        parse_json_samples(r#"{"input_data": [5, 6]}"#, "t").unwrap(),
        vec![vec![5.0, 6.0]]
    );
    assert!(parse_json_samples(r#"{"input_data": []}"#, "t").is_err());
}

#[test]
fn zkm_round_trip_and_corruption() {
    let m = compiled("conv_net");
    let bytes = m.to_bytes();
    assert!(QuantModel::from_bytes(&bytes).unwrap() == m, "round trip");
    let dir = tmp_path("zkm");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("m.zkm");
    m.save(&p).unwrap();
    assert!(QuantModel::load(&p).unwrap() == m, "save/load");
    // flipped body byte -> checksum error
    let mut bad = bytes.clone();
    let i = bytes.len() - 100;
    bad[i] ^= 0x01;
    assert!(QuantModel::from_bytes(&bad)
        .unwrap_err()
        .to_string()
        .contains("checksum"));
    // truncation anywhere
    for cut in [0, 4, 20, 51, 52, bytes.len() / 2, bytes.len() - 1] {
        assert!(QuantModel::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
    }
    // bad magic / version
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert!(QuantModel::from_bytes(&bad).is_err());
    let mut bad = bytes.clone();
    bad[8] = 99;
    assert!(QuantModel::from_bytes(&bad)
        .unwrap_err()
        .to_string()
        .contains("version"));
    // a well-formed file whose model breaks an invariant is rejected by validate()
    let mut broken = m.clone();
    for op in &mut broken.ops {
        if let QOp::Requant { multiplier, .. } = op {
            *multiplier = 0;
        }
    }
    assert!(matches!(
        QuantModel::from_bytes(&broken.to_bytes()),
        Err(ModelError::Invalid(_))
    ));
    // an ONNX file is not a .zkm
    assert!(QuantModel::from_bytes(&read("conv_net.onnx")).is_err());
    assert!(QuantModel::load(dir.join("missing.zkm")).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compiled_model_facts() {
    let m = compiled("mlp_gemm_relu");
    // 8->16->4: weights + biases
    assert_eq!(m.num_params(), 8 * 16 + 16 + 16 * 4 + 4);
    assert_eq!(m.input_len(), 8);
    assert_eq!(m.output_len(), 4);
    for op in &m.ops {
        if let QOp::Requant {
            multiplier, shift, ..
        } = op
        {
            assert!(
                *multiplier >= 1 << 15,
                "≥ 15 bits of precision: {multiplier} >> {shift}"
            );
        }
    }
}

#[test]
fn corrupted_onnx_never_panics() {
    let x = load_samples(fixture("conv_net.input.json")).unwrap();
    let opts = CompileOptions {
        tract_check: false,
        ..CompileOptions::default()
    };
    for name in [
        "conv_net.onnx",
        "mlp_gemm_relu.onnx",
        "reshape_transpose.onnx",
    ] {
        let bytes = read(name);
        let mut state = 0x2545f4914f6cdd1du64;
        for _ in 0..300 {
            let mut b = bytes.clone();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state % b.len() as u64) as usize;
                b[i] = (state >> 32) as u8;
            }
            let r = std::panic::catch_unwind(|| {
                if import_onnx(&b).is_ok() {
                    let _ = compile(&b, "fuzz", &x, &opts);
                }
            });
            assert!(r.is_ok(), "{name}: panic on a corrupted model");
        }
    }
}

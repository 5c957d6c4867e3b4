//! Fuzzing the output file `zkinfer verify --output` reads (the only decoder
//! that lives in the binary): mutated copies of an honest `out.json` through
//! the real command. The binary turns a panic into exit code 101 and
//! "internal error", so a case passes if the exit code is 0 or 1 without that
//! message — and a file that differs from the proven one in any field
//! (`output`, `output_int`, `model_id`; whitespace aside) never verifies. The harness is the prover crate's `fuzz_common`.

#[path = "../../zkinfer-prover/tests/fuzz_common/mod.rs"]
mod fuzz_common;

use std::path::Path;
use std::process::Command;

use fuzz_common::{run, Target};

fn zkinfer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .expect("run zkinfer")
}

fn output_ints(text: &[u8]) -> Option<Vec<i64>> {
    let v: serde_json::Value = serde_json::from_slice(text).ok()?;
    v.get("output_int")?
        .as_array()?
        .iter()
        .map(|x| x.as_i64())
        .collect()
}

#[test]
fn fuzz_output_file() {
    let _serial = fuzz_common::serial();
    let d = std::env::temp_dir().join(format!("zkinfer-fuzz-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let p = |name: &str| d.join(name).to_string_lossy().into_owned();
    let fx = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(name)
            .to_string_lossy()
            .into_owned()
    };
    let input = fx("mlp_gemm_relu.input.json");
    let steps: [&[&str]; 3] = [
        &[
            "compile",
            &fx("mlp_gemm_relu.onnx"),
            "--calibration",
            &input,
            "-o",
            &p("m.zkm"),
        ],
        &["setup", &p("m.zkm"), "-o", &p("keys")],
        &[
            "prove",
            "--pk",
            &p("keys/model.pk"),
            "--input",
            &input,
            "-o",
            &p("p.zkp"),
            "--output",
            &p("out.json"),
        ],
    ];
    for args in steps {
        let o = zkinfer(args);
        assert!(o.status.success(), "{args:?}: {o:?}");
    }
    let honest = std::fs::read(d.join("out.json")).unwrap();
    let honest_ints = output_ints(&honest).unwrap();
    let honest_json: serde_json::Value = serde_json::from_slice(&honest).unwrap();
    let case_file = p("case.json");
    run(
        Target {
            name: "output_file",
            // The honest file and a compact one (other offsets for the mutations).
            seeds: vec![
                honest.clone(),
                serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&honest).unwrap())
                    .unwrap(),
            ],
            iters: 150,
            alloc_factor: 64,
            fixup: None,
            mutator: None,
        },
        |bytes| {
            std::fs::write(&case_file, bytes).unwrap();
            let o = zkinfer(&[
                "verify",
                "--vk",
                &p("keys/model.vk"),
                "--proof",
                &p("p.zkp"),
                "--input",
                &input,
                "--output",
                &case_file,
            ]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                matches!(o.status.code(), Some(0 | 1)) && !err.contains("internal error"),
                "verify crashed: {o:?}"
            );
            if o.status.success() {
                assert_eq!(
                    output_ints(bytes).as_ref(),
                    Some(&honest_ints),
                    "a changed output_int verifies"
                );
                assert_eq!(
                    serde_json::from_slice::<serde_json::Value>(bytes).ok(),
                    Some(honest_json.clone()),
                    "a changed output file verifies"
                );
            }
            o.status.success()
        },
    );
    let _ = std::fs::remove_dir_all(&d);
}

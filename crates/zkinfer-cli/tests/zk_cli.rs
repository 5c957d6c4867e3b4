//! Zero-knowledge proofs through the real binary: `prove --private-input`,
//! `verify` without the input, and what it refuses.

mod cli_common;

use std::path::Path;
use std::process::Output;

use cli_common::{demo_keys, s, stderr, tmpdir, zkinfer};

fn verify(d: &Path, input: Option<&str>, out: &Path, proof: &Path) -> Output {
    let (vk, proof, out) = (s(&d.join("keys/model.vk")), s(proof), s(out));
    let mut args = vec![
        "verify", "--vk", &vk, "--proof", &proof, "--output", &out, "--json",
    ];
    if let Some(x) = input {
        args.extend(["--input", x]);
    }
    zkinfer(&args)
}

#[test]
fn a_private_input_is_never_read_by_the_verifier() {
    let d = tmpdir("zk-private-input");
    let input = demo_keys(&d);
    let (proof, out) = (d.join("p.zkp"), d.join("out.json"));
    let o = zkinfer(&[
        "prove",
        "--pk",
        &s(&d.join("keys/model.pk")),
        "--input",
        &input,
        "-o",
        &s(&proof),
        "--output",
        &s(&out),
        "--private-input",
    ]);
    assert!(o.status.success(), "prove: {}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("private"));

    let o = verify(&d, None, &out, &proof);
    assert!(o.status.success(), "verify: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert!(v["security_bits"].as_f64().unwrap() >= 100.0);

    // Handing the verifier an input is refused: the statement has none.
    let o = verify(&d, Some(&input), &out, &proof);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("private"), "{}", stderr(&o));

    // Another output is rejected.
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let first = file["output_int"][0].as_i64().unwrap();
    file["output_int"][0] = (first + 1).into();
    let bad = d.join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&file).unwrap()).unwrap();
    let o = verify(&d, None, &bad, &proof);
    assert!(!o.status.success());

    // A flipped byte in the hiding opening (the proof's end) is rejected.
    let mut bytes = std::fs::read(&proof).unwrap();
    let k = bytes.len() - 100;
    bytes[k] ^= 1;
    let flipped = d.join("flipped.zkp");
    std::fs::write(&flipped, bytes).unwrap();
    let o = verify(&d, None, &out, &flipped);
    assert!(!o.status.success());
}

/// `bench --private-input` proves and verifies in zero knowledge (its bits
/// are the zero-knowledge figure) and reports a model it cannot prove
/// instead of failing the table; `security` prints both figures.
#[test]
fn bench_and_security_report_zero_knowledge() {
    let o = zkinfer(&[
        "bench",
        "--models",
        "64-32-16,lenet5",
        "--private-input",
        "--repeat",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "bench: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (mlp, cnn) = (&v["models"][0], &v["models"][1]);
    assert_eq!(mlp["zero_knowledge"], true);
    assert!(mlp["prove_s"].as_f64().unwrap() > 0.0);
    assert!(mlp["security_bits"].as_f64().unwrap() >= 100.0);
    // CNNs prove in zero knowledge too (Conv, MaxPool).
    assert_eq!(cnn["zero_knowledge"], true, "{cnn}");
    assert!(cnn["security_bits"].as_f64().unwrap() >= 100.0, "{cnn}");

    let d = tmpdir("zk-security");
    demo_keys(&d);
    let o = zkinfer(&["security", "--vk", &s(&d.join("keys/model.vk")), "--json"]);
    assert!(o.status.success(), "security: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let committed = v["zero_knowledge_committed_input_bits"].as_f64().unwrap();
    assert!(committed >= 100.0, "{v}");
    let zk = &v["zero_knowledge_private_input"];
    assert!(zk["total_bits"].as_f64().unwrap() >= 100.0, "{zk}");
    assert!(zk["components"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["component"]
            .as_str()
            .unwrap()
            .starts_with("hiding opening")));
}

#[test]
fn the_leak_audit_finds_a_twin_input_and_passes() {
    let d = tmpdir("zk-audit");
    let input = demo_keys(&d);
    let pk = s(&d.join("keys/model.pk"));
    let o = zkinfer(&[
        "zk-audit", "--pk", &pk, "--input", &input, "--runs", "8", "--json",
    ]);
    assert!(o.status.success(), "zk-audit: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(v["repeated_numbers"], 0, "{v}");
    assert_eq!(v["hidden_values_found"], 0, "{v}");
    assert!(v["varying_numbers"].as_u64().unwrap() > 100, "{v}");
    assert!(v["hidden_values"].as_u64().unwrap() > 0, "{v}");
    // Too few proofs for the statistics: refused by name.
    let o = zkinfer(&["zk-audit", "--pk", &pk, "--input", &input, "--runs", "2"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("at least 8"), "{}", stderr(&o));
}

/// `prove --commit-input` publishes a digest: `verify --input-digest`
/// accepts the proof with it, rejects it with another digest, without one,
/// and with the input; a given seed reproduces the digest, and a fresh seed
/// gives another.
#[test]
fn a_committed_input_verifies_against_its_digest_only() {
    let d = tmpdir("zk-committed-input");
    let input = demo_keys(&d);
    let pk = s(&d.join("keys/model.pk"));
    let prove = |proof: &Path, out: &Path, extra: &[&str]| -> serde_json::Value {
        let (proof, out) = (s(proof), s(out));
        let mut args = vec![
            "prove",
            "--pk",
            &pk,
            "--input",
            &input,
            "-o",
            &proof,
            "--output",
            &out,
            "--commit-input",
            "--json",
        ];
        args.extend(extra);
        let o = zkinfer(&args);
        assert!(o.status.success(), "prove: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let (proof, out, seed) = (d.join("p.zkp"), d.join("out.json"), d.join("seed.hex"));
    let v = prove(&proof, &out, &["--input-seed-out", &s(&seed)]);
    let digest = v["input_digest"].as_str().expect("a digest").to_string();
    assert_eq!(digest.len(), 64);
    let with_digest = |digest: &str, proof: &Path| {
        let (vk, proof, out) = (s(&d.join("keys/model.vk")), s(proof), s(&out));
        zkinfer(&[
            "verify",
            "--vk",
            &vk,
            "--proof",
            &proof,
            "--output",
            &out,
            "--input-digest",
            digest,
        ])
    };
    let o = with_digest(&digest, &proof);
    assert!(o.status.success(), "verify: {}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&digest));

    // Another digest, no digest, or the input: refused.
    let mut other = digest.clone().into_bytes();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    let o = with_digest(std::str::from_utf8(&other).unwrap(), &proof);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("digest"), "{}", stderr(&o));
    let o = verify(&d, None, &out, &proof);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--input-digest"), "{}", stderr(&o));
    let o = verify(&d, Some(&input), &out, &proof);
    assert!(!o.status.success());
    let o = with_digest("not hex", &proof);
    assert!(!o.status.success());

    // The seed reproduces the digest (a digest published before the
    // proof); a fresh seed gives another, which the first does not verify.
    let (proof2, out2) = (d.join("p2.zkp"), d.join("out2.json"));
    let again = prove(&proof2, &out2, &["--input-seed", &s(&seed)]);
    assert_eq!(again["input_digest"].as_str().unwrap(), digest);
    let (proof3, out3) = (d.join("p3.zkp"), d.join("out3.json"));
    let fresh = prove(&proof3, &out3, &[]);
    let fresh_digest = fresh["input_digest"].as_str().unwrap();
    assert_ne!(fresh_digest, digest);
    assert!(!with_digest(fresh_digest, &proof).status.success());
    assert!(with_digest(fresh_digest, &proof3).status.success());

    // A flipped byte in the proof's last section is rejected.
    let mut bytes = std::fs::read(&proof).unwrap();
    let k = bytes.len() - 100;
    bytes[k] ^= 1;
    let flipped = d.join("flipped.zkp");
    std::fs::write(&flipped, bytes).unwrap();
    assert!(!with_digest(&digest, &flipped).status.success());
}

/// `prove --commit-output` (with a committed input here): `verify` checks
/// the proof against both digests without an output file, reveals no
/// output value, and rejects another output digest or the output given in
/// the clear.
#[test]
fn a_committed_output_verifies_against_its_digest_only() {
    let d = tmpdir("zk-committed-output");
    let input = demo_keys(&d);
    let (proof, out) = (d.join("p.zkp"), d.join("out.json"));
    let o = zkinfer(&[
        "prove",
        "--pk",
        &s(&d.join("keys/model.pk")),
        "--input",
        &input,
        "-o",
        &s(&proof),
        "--output",
        &s(&out),
        "--commit-input",
        "--commit-output",
        "--json",
    ]);
    assert!(o.status.success(), "prove: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (din, dout) = (
        v["input_digest"].as_str().unwrap().to_string(),
        v["output_digest"].as_str().unwrap().to_string(),
    );
    let vk = s(&d.join("keys/model.vk"));
    let pf = s(&proof);
    let check = |extra: &[&str]| {
        let mut args = vec!["verify", "--vk", &vk, "--proof", &pf, "--json"];
        args.extend(extra);
        zkinfer(&args)
    };
    let o = check(&["--input-digest", &din, "--output-digest", &dout]);
    assert!(o.status.success(), "verify: {}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["verified"], true);
    assert!(r.get("output").is_none() && r.get("output_int").is_none());
    // Another output digest, the output in the clear, or no input digest.
    let mut other = dout.clone().into_bytes();
    other[63] = if other[63] == b'0' { b'1' } else { b'0' };
    let other = String::from_utf8(other).unwrap();
    assert!(!check(&["--input-digest", &din, "--output-digest", &other])
        .status
        .success());
    assert!(!check(&["--input-digest", &din, "--output", &s(&out)])
        .status
        .success());
    assert!(!check(&["--output-digest", &dout]).status.success());
}

/// `input-digest`: a digest published before the proof (a fresh seed
/// written), the one proof made with that seed verifies against it, and
/// the revealed input and seed recompute it; another input does not.
#[test]
fn an_input_digest_is_published_before_its_proof_and_checked_after() {
    let d = tmpdir("zk-input-digest");
    let input = demo_keys(&d);
    let (vk, pk) = (s(&d.join("keys/model.vk")), s(&d.join("keys/model.pk")));
    let seed = s(&d.join("seed.hex"));
    let digest_of = |input: &str, seed_flag: &str| -> String {
        let o = zkinfer(&[
            "input-digest",
            "--vk",
            &vk,
            "--input",
            input,
            seed_flag,
            &seed,
            "--json",
        ]);
        assert!(o.status.success(), "input-digest: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["input_digest"].as_str().unwrap().to_string()
    };
    let published = digest_of(&input, "--seed-out");
    assert_eq!(published.len(), 64);
    let (proof, out) = (d.join("p.zkp"), d.join("out.json"));
    let o = zkinfer(&[
        "prove",
        "--pk",
        &pk,
        "--input",
        &input,
        "-o",
        &s(&proof),
        "--output",
        &s(&out),
        "--commit-input",
        "--input-seed",
        &seed,
        "--json",
    ]);
    assert!(o.status.success(), "prove: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["input_digest"].as_str().unwrap(), published);
    let o = zkinfer(&[
        "verify",
        "--vk",
        &vk,
        "--proof",
        &s(&proof),
        "--output",
        &s(&out),
        "--input-digest",
        &published,
    ]);
    assert!(o.status.success(), "verify: {}", stderr(&o));
    // The reveal: input and seed recompute the digest; another input not.
    assert_eq!(digest_of(&input, "--seed"), published);
    let mut x: serde_json::Value = serde_json::from_slice(&std::fs::read(&input).unwrap()).unwrap();
    let first = &mut x["input_data"][0][0];
    *first = serde_json::json!(first.as_f64().unwrap() + 0.5);
    let other = d.join("other.json");
    std::fs::write(&other, x.to_string()).unwrap();
    assert_ne!(digest_of(&s(&other), "--seed"), published);
    // Neither a seed nor a place for one: refused by name.
    let o = zkinfer(&["input-digest", "--vk", &vk, "--input", &input]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--seed"), "{}", stderr(&o));
}

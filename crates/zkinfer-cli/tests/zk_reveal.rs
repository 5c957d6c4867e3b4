//! Revealing a committed output through the real binary: `prove
//! --commit-output` writes (or reads) the output's seed, and `output-digest`
//! recomputes the published digest from the revealed output file and seed.

mod cli_common;

use std::path::Path;

use cli_common::{demo_keys, s, stderr, tmpdir, zkinfer};

/// `prove` with `flags`, writing the proof and output file into `d`;
/// returns its `--json` record.
fn prove(d: &Path, input: &str, flags: &[&str]) -> serde_json::Value {
    let (pk, proof, out) = (
        s(&d.join("keys/model.pk")),
        s(&d.join("p.zkp")),
        s(&d.join("out.json")),
    );
    let mut args = vec![
        "prove", "--pk", &pk, "--input", input, "-o", &proof, "--output", &out, "--json",
    ];
    args.extend(flags);
    let o = zkinfer(&args);
    assert!(o.status.success(), "prove: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("a JSON record")
}

/// `output-digest` of the output file `out` with the seed file `seed`
/// (and `flags`): the digest, or the error it printed.
fn output_digest(d: &Path, out: &Path, seed: &Path, flags: &[&str]) -> Result<String, String> {
    let (vk, out, seed) = (s(&d.join("keys/model.vk")), s(out), s(seed));
    let mut args = vec![
        "output-digest",
        "--vk",
        &vk,
        "--output",
        &out,
        "--seed",
        &seed,
        "--json",
    ];
    args.extend(flags);
    let o = zkinfer(&args);
    if !o.status.success() {
        return Err(stderr(&o));
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a JSON record");
    Ok(v["output_digest"].as_str().expect("a digest").to_string())
}

/// The output file `out` with `edit` applied, written next to it as `name`.
fn edited(out: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> std::path::PathBuf {
    let mut file: serde_json::Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    edit(&mut file);
    let path = out.with_file_name(name);
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    path
}

/// The seed `prove --output-seed-out` wrote and the output file recompute
/// the digest `prove` published (with the input's visibility given or
/// inferred); another seed or one changed output value gives another
/// digest; a file of another shape or model is refused by name.
#[test]
fn a_revealed_output_and_its_seed_recompute_the_digest() {
    let d = tmpdir("zk-reveal-output");
    let input = demo_keys(&d);
    let seed = d.join("output.seed");
    let v = prove(
        &d,
        &input,
        &[
            "--private-input",
            "--commit-output",
            "--output-seed-out",
            &s(&seed),
        ],
    );
    let published = v["output_digest"].as_str().expect("a digest").to_string();
    let out = d.join("out.json");
    assert_eq!(output_digest(&d, &out, &seed, &[]).unwrap(), published);
    assert_eq!(
        output_digest(&d, &out, &seed, &["--input-visibility", "private"]).unwrap(),
        published
    );

    // Another seed: another digest.
    let text = std::fs::read_to_string(&seed).unwrap();
    assert_eq!(text.trim().len(), 64);
    let mut other = text.trim().as_bytes().to_vec();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    let other_seed = d.join("other.seed");
    std::fs::write(&other_seed, other).unwrap();
    let reseeded = output_digest(&d, &out, &other_seed, &[]).unwrap();
    assert_ne!(reseeded, published);

    // One output value changed: another digest.
    let changed = edited(&out, "changed.json", |f| {
        let first = f["output_int"][0].as_i64().unwrap();
        f["output_int"][0] = (first + 1).into();
    });
    let moved = output_digest(&d, &changed, &seed, &[]).unwrap();
    assert_ne!(moved, published);

    // A value too few, or another model's file: refused, naming why.
    let short = edited(&out, "short.json", |f| {
        f["output_int"].as_array_mut().unwrap().pop();
    });
    let e = output_digest(&d, &short, &seed, &[]).unwrap_err();
    assert!(e.contains("output_int") && e.contains("values"), "{e}");
    let foreign = edited(&out, "foreign.json", |f| {
        f["model_id"] = "00".repeat(32).into();
    });
    let e = output_digest(&d, &foreign, &seed, &[]).unwrap_err();
    assert!(e.contains("model"), "{e}");
    // A malformed seed file: refused.
    std::fs::write(&other_seed, "not hex").unwrap();
    let e = output_digest(&d, &out, &other_seed, &[]).unwrap_err();
    assert!(e.contains("64 hex digits"), "{e}");
}

/// The output's seed flags only make sense with a committed output.
#[test]
fn output_seed_flags_need_a_committed_output() {
    let d = tmpdir("zk-reveal-flags");
    let input = demo_keys(&d);
    let (pk, proof, seed) = (
        s(&d.join("keys/model.pk")),
        s(&d.join("p.zkp")),
        s(&d.join("output.seed")),
    );
    for flag in ["--output-seed-out", "--output-seed"] {
        for extra in [&[][..], &["--private-input"][..], &["--commit-input"][..]] {
            let mut args = vec![
                "prove", "--pk", &pk, "--input", &input, "-o", &proof, flag, &seed,
            ];
            args.extend(extra);
            let o = zkinfer(&args);
            assert!(!o.status.success(), "{flag} {extra:?} accepted");
            assert!(stderr(&o).contains("--commit-output"), "{}", stderr(&o));
        }
    }
    assert!(!d.join("p.zkp").exists(), "no proof was written");
}

/// `prove --output-seed` fixes the output's seed: the digest it publishes
/// is the one `output-digest` computes from that seed (here with a
/// committed input too, whose visibility the reveal is told), and the
/// proof verifies against it.
#[test]
fn a_given_output_seed_fixes_the_published_digest() {
    let d = tmpdir("zk-reveal-given-seed");
    let input = demo_keys(&d);
    let seed = d.join("output.seed");
    std::fs::write(&seed, format!("{}\n", "5a".repeat(32))).unwrap();
    let v = prove(
        &d,
        &input,
        &[
            "--commit-input",
            "--commit-output",
            "--output-seed",
            &s(&seed),
        ],
    );
    let (din, dout) = (
        v["input_digest"].as_str().unwrap().to_string(),
        v["output_digest"].as_str().unwrap().to_string(),
    );
    let out = d.join("out.json");
    let flags = ["--input-visibility", "committed"];
    assert_eq!(output_digest(&d, &out, &seed, &flags).unwrap(), dout);
    let (vk, proof) = (s(&d.join("keys/model.vk")), s(&d.join("p.zkp")));
    let o = zkinfer(&[
        "verify",
        "--vk",
        &vk,
        "--proof",
        &proof,
        "--input-digest",
        &din,
        "--output-digest",
        &dout,
    ]);
    assert!(o.status.success(), "verify: {}", stderr(&o));
}

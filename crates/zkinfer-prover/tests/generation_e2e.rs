//! Proofs of greedy generation (fixture `tiny_gpt`, context 6, vocabulary
//! 11): generate after a prompt, prove one pass, verify; a changed generated
//! token, a changed prompt, a wrong prompt length and a changed filler token
//! are rejected.

use zkinfer_model::compile::{compile, CompileOptions};
use zkinfer_prover::api::OutputFile;
use zkinfer_prover::generation::{self, Generation};
use zkinfer_prover::{setup, Proof, VerifyingKey};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

fn proven(prompt: &[i64], n: usize) -> (VerifyingKey, OutputFile, Proof) {
    let onnx = std::fs::read(format!("{FIXTURES}/tiny_gpt.onnx")).expect("fixture");
    let calib = zkinfer_model::input::load_samples(format!("{FIXTURES}/tiny_gpt.input.json"))
        .expect("fixture input");
    let (m, _) = compile(&onnx, "tiny_gpt", &calib, &CompileOptions::default()).expect("compiles");
    let pk = setup(m, None).expect("setup");
    let vk = pk.vk.clone();
    let (p, g) = generation::prove(pk, prompt, n, &mut |_| {}).expect("generates and proves");
    assert_eq!(g.ids.len(), 6);
    assert_eq!(&g.ids[..prompt.len()], prompt);
    assert_eq!(g.generated_ids().len(), n);
    // Positions after the generated ones repeat the last token.
    assert!(g.ids[prompt.len() + n..]
        .iter()
        .all(|&i| i == g.ids[prompt.len() + n - 1]));
    // Through the file format and back.
    let text = serde_json::to_string(&p.output.to_json()).expect("json");
    (vk, OutputFile::parse(&text).expect("parses"), p.proof)
}

fn edit(file: &OutputFile, f: impl FnOnce(&mut Generation)) -> OutputFile {
    let mut file = file.clone();
    f(file.generation.as_mut().expect("a generation record"));
    file
}

#[test]
fn greedy_generation_verifies_and_changes_are_rejected() {
    let prompt = [3, 7, 1];
    let (vk, file, proof) = proven(&prompt, 2);
    generation::verify(&vk, &prompt, &file, &proof).expect("honest generation verifies");

    // Each generated token changed to any other id.
    for pos in [3, 4] {
        for delta in [1, 5] {
            let wrong = edit(&file, |g| g.ids[pos] = (g.ids[pos] + delta) % 11);
            assert!(
                generation::verify(&vk, &prompt, &wrong, &proof).is_err(),
                "a changed token at {pos} verifies"
            );
        }
    }
    // Another prompt (same length), in the verifier's hands or in the record.
    assert!(generation::verify(&vk, &[3, 7, 2], &file, &proof).is_err());
    let wrong = edit(&file, |g| g.ids[0] = 4);
    assert!(generation::verify(&vk, &prompt, &wrong, &proof).is_err());
    // A wrong prompt length: the verifier's prompt against the record's.
    assert!(generation::verify(&vk, &prompt[..2], &file, &proof).is_err());
    let wrong = edit(&file, |g| g.prompt_len = 2);
    assert!(generation::verify(&vk, &prompt, &wrong, &proof).is_err());
    // More generated tokens claimed than were generated.
    let wrong = edit(&file, |g| g.generated = 3);
    assert!(generation::verify(&vk, &prompt, &wrong, &proof).is_err());
    // The filler is part of the proven input.
    let wrong = edit(&file, |g| g.ids[5] = (g.ids[5] + 1) % 11);
    assert!(generation::verify(&vk, &prompt, &wrong, &proof).is_err());
    // An unknown statement kind.
    let wrong = edit(&file, |g| g.statement = "sampled".into());
    assert!(generation::verify(&vk, &prompt, &wrong, &proof).is_err());
    // A generation file is not accepted as a plain inference.
    let ids: Vec<f64> = file
        .generation
        .as_ref()
        .unwrap()
        .ids
        .iter()
        .map(|&i| i as f64)
        .collect();
    let x = generation::context_input(&vk.structure, &file.generation.as_ref().unwrap().ids)
        .expect("context");
    assert_eq!(x.len(), ids.len() * 11);
    assert!(zkinfer_prover::api::verify_float(&vk, &x, &file, &proof).is_err());
}

#[test]
fn a_prompt_too_long_for_the_context_is_refused() {
    let onnx = std::fs::read(format!("{FIXTURES}/tiny_gpt.onnx")).expect("fixture");
    let calib = zkinfer_model::input::load_samples(format!("{FIXTURES}/tiny_gpt.input.json"))
        .expect("fixture input");
    let (m, _) = compile(&onnx, "tiny_gpt", &calib, &CompileOptions::default()).expect("compiles");
    let e = generation::generate(&m, &[1, 2, 3, 4], 3).expect_err("4 + 3 > 6");
    assert!(e.to_string().contains("context of 6"), "{e}");
    let e = generation::generate(&m, &[1, 2, 11], 1).expect_err("id out of range");
    assert!(e.to_string().contains("not a token id"), "{e}");
}

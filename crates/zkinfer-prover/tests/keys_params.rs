//! Commitment parameters in keys: absurd or inconsistent parameters are a
//! clear error from setup, loading, proving and verifying — never a panic —
//! and the commitment mode is a stated field of the verifying key.

use zkinfer_protocol::pcs::PcsParams;
use zkinfer_protocol::VerifyError;
use zkinfer_prover::synthetic::{input, mlp};
use zkinfer_prover::{
    prove, setup, setup_with_mode, verify, CommitmentMode, ProveError, ProvingKey, VerifyingKey,
};

/// Parameters no key should hold, each with a word its error must name.
fn absurd() -> Vec<(PcsParams, &'static str)> {
    let d = PcsParams::default();
    vec![
        (
            PcsParams {
                folding_factor: 0,
                ..d.clone()
            },
            "folding factor 0",
        ),
        (
            PcsParams {
                folding_factor: 40,
                ..d.clone()
            },
            "folding factor 40",
        ),
        (
            PcsParams {
                starting_log_inv_rate: 30,
                ..d.clone()
            },
            "rate 2^-30",
        ),
        (
            PcsParams {
                pow_bits: 200,
                ..d.clone()
            },
            "grinding budget 200",
        ),
        (
            PcsParams {
                security_level: 1000,
                ..d.clone()
            },
            "security level 1000",
        ),
    ]
}

fn key() -> ProvingKey {
    setup(mlp(&[9, 5, 4], 11), None).expect("setup")
}

#[test]
fn setup_with_absurd_parameters_is_an_error() {
    for (params, what) in absurd() {
        let err = setup(mlp(&[9, 5, 4], 11), Some(params))
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains(what), "{what}: {err}");
    }
}

#[test]
fn setup_with_parameters_of_no_mode_is_an_error() {
    // Valid WHIR parameters, but not what any mode uses for these weights.
    let params = PcsParams {
        security_level: 100,
        ..PcsParams::default()
    };
    let err = setup(mlp(&[9, 5, 4], 11), Some(params))
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("not those of any commitment mode"), "{err}");
    // A mode's own parameters are accepted, and the key records that mode.
    let pk = key();
    for mode in CommitmentMode::ALL {
        let p = setup_with_mode(mlp(&[9, 5, 4], 11), mode).expect("setup");
        let again = setup(mlp(&[9, 5, 4], 11), Some(p.vk.pcs_params.clone())).expect("setup");
        assert_eq!(again.vk.mode, mode);
        assert_eq!(again.vk.model_id(), p.vk.model_id());
    }
    assert_eq!(pk.vk.mode, CommitmentMode::default());
}

#[test]
fn key_files_with_absurd_parameters_do_not_load() {
    for (params, what) in absurd() {
        let mut pk = key();
        pk.vk.pcs_params = params;
        let Err(err) = ProvingKey::from_bytes(&pk.to_bytes()) else {
            panic!("{what}: proving key loaded");
        };
        assert!(matches!(err, ProveError::Key(_)), "{what}: {err:?}");
        assert!(err.to_string().contains(what), "{what}: {err}");
        let Err(err) = VerifyingKey::from_bytes(&pk.vk.to_bytes()) else {
            panic!("{what}: verifying key loaded");
        };
        assert!(err.to_string().contains(what), "{what}: {err}");
    }
}

#[test]
fn keys_whose_parameters_are_not_their_modes_do_not_load() {
    let pk = key();
    // Another mode's parameters under the stated mode.
    let compact = setup_with_mode(mlp(&[9, 5, 4], 11), CommitmentMode::Compact).expect("setup");
    let mut vk = pk.vk.clone();
    vk.pcs_params = compact.vk.pcs_params.clone();
    let err = VerifyingKey::from_bytes(&vk.to_bytes())
        .expect_err("refused")
        .to_string();
    assert!(err.contains("inconsistent"), "{err}");
    // The stated mode changed (the model id changes with it).
    let mut vk = pk.vk.clone();
    vk.mode = CommitmentMode::Compact;
    assert_ne!(vk.model_id(), pk.vk.model_id());
    assert!(VerifyingKey::from_bytes(&vk.to_bytes()).is_err());
    let mut pk2 = key();
    pk2.vk.mode = CommitmentMode::Compact;
    assert!(ProvingKey::from_bytes(&pk2.to_bytes()).is_err());
    // Untouched keys round-trip.
    let back = ProvingKey::from_bytes(&pk.to_bytes()).expect("loads");
    assert_eq!(back.vk, pk.vk);
    assert_eq!(
        VerifyingKey::from_bytes(&pk.vk.to_bytes()).expect("loads"),
        pk.vk
    );
}

#[test]
fn proving_and_verifying_with_absurd_parameters_is_an_error() {
    let x = input(9, 11);
    let honest = key();
    let out = prove(&honest, &x).expect("prove");
    for (params, what) in absurd() {
        // A key edited in memory (its fields are public).
        let mut pk = key();
        pk.vk.pcs_params = params.clone();
        let Err(err) = prove(&pk, &x) else {
            panic!("{what}: proved");
        };
        assert!(err.to_string().contains(what), "{what}: {err}");

        let mut vk = honest.vk.clone();
        vk.pcs_params = params;
        match verify(&vk, &x, &out.output, &out.proof) {
            Err(VerifyError::Malformed(m)) => assert!(m.contains(what), "{what}: {m}"),
            other => panic!("{what}: {other:?}"),
        }
        // The security report of such a key does not panic either.
        let _ = zkinfer_prover::security::report(&vk);
    }
    // A mode changed in memory: proving refuses, and the honest proof does
    // not verify under it.
    let mut pk = key();
    pk.vk.mode = CommitmentMode::Compact;
    assert!(matches!(prove(&pk, &x), Err(ProveError::Key(_))));
    assert!(verify(&pk.vk, &x, &out.output, &out.proof).is_err());
    assert!(verify(&honest.vk, &x, &out.output, &out.proof).is_ok());
}

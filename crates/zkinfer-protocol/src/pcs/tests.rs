//! Completeness and soundness tests of the WHIR seam.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::field::{BasedVectorSpace, PrimeCharacteristicRing};

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn rand_f(r: &mut StdRng) -> F {
    F::from_u64(r.random::<u64>() >> 1)
}

fn rand_ef(r: &mut StdRng) -> EF {
    EF::from_basis_coefficients_fn(|_| rand_f(r))
}

fn rand_poly(r: &mut StdRng, len: usize) -> Vec<F> {
    (0..len).map(|_| rand_f(r)).collect()
}

fn rand_point(r: &mut StdRng, n: usize) -> Vec<EF> {
    (0..n).map(|_| rand_ef(r)).collect()
}

/// Independent big-endian MLE evaluation of a zero-padded table:
/// coordinate 0 binds the most significant index bit.
fn eval_mle(table: &[F], point: &[EF]) -> EF {
    let mut cur: Vec<EF> = table.iter().map(|&x| EF::from(x)).collect();
    cur.resize(1 << point.len(), EF::ZERO);
    for &r in point {
        let half = cur.len() / 2;
        let (lo, hi) = cur.split_at(half);
        cur = lo.iter().zip(hi).map(|(&l, &h)| l + r * (h - l)).collect();
    }
    cur[0]
}

fn claim(polys: &[Vec<F>], poly: usize, point: Vec<EF>) -> Claim {
    let value = eval_mle(&polys[poly], &point);
    Claim { poly, point, value }
}

/// Small parameters for fast tests: the same regime and code, a lower
/// per-term target (most tests are about completeness and binding).
fn test_params() -> PcsParams {
    PcsParams::default()
}

/// The default parameters in either layout (`part_layout.rs`).
fn params_in(reduce: bool) -> PcsParams {
    PcsParams {
        reduce_claims: reduce,
        ..PcsParams::default()
    }
}

/// Prover side: absorbs the commitment into a fresh transcript, opens.
fn prove(pcs: &Pcs, data: &CommittedData, claims: &[Claim], prefix: &[u8]) -> OpeningProof {
    let mut t = Transcript::new(prefix);
    data.commitment().absorb_into(&mut t);
    pcs.open(data, claims, &mut t).unwrap()
}

/// Verifier side; also checks the transcripts stay in sync on success.
fn check(
    pcs: &Pcs,
    com: &Commitment,
    claims: &[Claim],
    proof: &OpeningProof,
    prefix: &[u8],
) -> Result<(), VerifyError> {
    let mut t = Transcript::new(prefix);
    com.absorb_into(&mut t);
    pcs.verify(com, claims, proof, &mut t)
}

struct Fixture {
    pcs: Pcs,
    polys: Vec<Vec<F>>,
    com: Commitment,
    data: CommittedData,
    claims: Vec<Claim>,
    proof: OpeningProof,
}

/// Three polynomials (2^4, 2^10, 2^12), five claims, two on the largest.
fn fixture() -> Fixture {
    fixture_in(false)
}

/// [`fixture`] in the tables layout or (`reduce`) the stacked one, whose
/// five claims are reduced to one before WHIR.
fn fixture_in(reduce: bool) -> Fixture {
    let mut r = rng(7);
    let pcs = Pcs::new(params_in(reduce));
    let polys = vec![
        rand_poly(&mut r, 16),
        rand_poly(&mut r, 1 << 10),
        rand_poly(&mut r, 1 << 12),
    ];
    let (com, data) = pcs.commit(&polys).unwrap();
    let claims = vec![
        claim(&polys, 2, rand_point(&mut r, 12)),
        claim(&polys, 0, rand_point(&mut r, 4)),
        claim(&polys, 1, rand_point(&mut r, 10)),
        claim(&polys, 2, rand_point(&mut r, 12)),
        claim(&polys, 1, rand_point(&mut r, 10)),
    ];
    let proof = prove(&pcs, &data, &claims, b"test");
    Fixture {
        pcs,
        polys,
        com,
        data,
        claims,
        proof,
    }
}

#[test]
fn pcs_one_poly() {
    let mut r = rng(1);
    let pcs = Pcs::new(test_params());
    let polys = vec![rand_poly(&mut r, 1 << 10)];
    let (com, data) = pcs.commit(&polys).unwrap();
    assert_eq!(com.poly_num_vars, vec![10]);
    let claims = vec![claim(&polys, 0, rand_point(&mut r, 10))];

    let mut tp = Transcript::new(b"test");
    com.absorb_into(&mut tp);
    let proof = pcs.open(&data, &claims, &mut tp).unwrap();
    let mut tv = Transcript::new(b"test");
    com.absorb_into(&mut tv);
    assert_eq!(pcs.verify(&com, &claims, &proof, &mut tv), Ok(()));
    // Both sides end in the same transcript state.
    assert_eq!(tp.challenge_ef(), tv.challenge_ef());
    // Round trip through bytes.
    let back = OpeningProof::from_bytes(&proof.to_bytes()).unwrap();
    assert_eq!(back, proof);
    assert_eq!(check(&pcs, &com, &claims, &back, b"test"), Ok(()));
}

#[test]
fn pcs_several_polys_of_different_sizes() {
    for reduce in [false, true] {
        let f = fixture_in(reduce);
        assert_eq!(f.com.poly_num_vars, vec![4, 10, 12]);
        assert_eq!(check(&f.pcs, &f.com, &f.claims, &f.proof, b"test"), Ok(()));
    }
}

#[test]
fn pcs_several_claims_on_one_poly() {
    for reduce in [false, true] {
        several_claims_on_one_poly(reduce);
    }
}

fn several_claims_on_one_poly(reduce: bool) {
    let mut r = rng(2);
    let pcs = Pcs::new(params_in(reduce));
    let polys = vec![rand_poly(&mut r, 1 << 11)];
    let (com, data) = pcs.commit(&polys).unwrap();
    let p = rand_point(&mut r, 11);
    let mut claims: Vec<Claim> = (0..6)
        .map(|_| claim(&polys, 0, rand_point(&mut r, 11)))
        .collect();
    // Repeated point, and a boolean (hypercube) point.
    claims.push(claim(&polys, 0, p.clone()));
    claims.push(claim(&polys, 0, p));
    let bits: Vec<EF> = (0..11).map(|i| EF::from_u64((i % 2) as u64)).collect();
    claims.push(claim(&polys, 0, bits));
    let proof = prove(&pcs, &data, &claims, b"test");
    assert_eq!(check(&pcs, &com, &claims, &proof, b"test"), Ok(()));
}

#[test]
fn pcs_non_power_of_two_lengths_are_zero_padded() {
    let mut r = rng(3);
    let pcs = Pcs::new(test_params());
    let polys = vec![
        rand_poly(&mut r, 1000),
        rand_poly(&mut r, 3),
        rand_poly(&mut r, 1),
        vec![],
    ];
    let (com, data) = pcs.commit(&polys).unwrap();
    assert_eq!(com.poly_num_vars, vec![10, 2, 0, 0]);
    let claims = vec![
        claim(&polys, 0, rand_point(&mut r, 10)),
        claim(&polys, 1, rand_point(&mut r, 2)),
        claim(&polys, 2, vec![]),
        claim(&polys, 3, vec![]),
    ];
    assert_eq!(claims[2].value, EF::from(polys[2][0]));
    assert_eq!(claims[3].value, EF::ZERO);
    let proof = prove(&pcs, &data, &claims, b"test");
    assert_eq!(check(&pcs, &com, &claims, &proof, b"test"), Ok(()));
    // The padding really is zero: claiming a non-zero value there fails.
    let mut bad = claims.clone();
    bad[3].value = EF::ONE;
    assert!(check(&pcs, &com, &bad, &proof, b"test").is_err());
}

#[test]
fn pcs_committed_data_is_reusable() {
    let f = fixture();
    let mut r = rng(4);
    let claims2 = vec![claim(&f.polys, 1, rand_point(&mut r, 10))];
    let proof2 = prove(&f.pcs, &f.data, &claims2, b"second");
    assert_eq!(check(&f.pcs, &f.com, &claims2, &proof2, b"second"), Ok(()));
    // The first opening is unaffected, and a third one still works.
    assert_eq!(check(&f.pcs, &f.com, &f.claims, &f.proof, b"test"), Ok(()));
    // (Not byte-identical to the first: parallel grinding may find another witness.)
    let proof3 = prove(&f.pcs, &f.data, &f.claims, b"test");
    assert_eq!(check(&f.pcs, &f.com, &f.claims, &proof3, b"test"), Ok(()));
}

#[test]
fn pcs_open_consuming_matches_open() {
    let f = fixture();
    let mut t = Transcript::new(b"test");
    f.com.absorb_into(&mut t);
    let proof = f.pcs.open_consuming(f.data, &f.claims, &mut t).unwrap();
    assert_eq!(check(&f.pcs, &f.com, &f.claims, &proof, b"test"), Ok(()));
}

#[test]
fn pcs_open_copy_matches_open() {
    let f = fixture();
    let copy = std::thread::scope(|s| s.spawn(|| f.data.opening_copy()).join().unwrap());
    let mut t = Transcript::new(b"test");
    f.com.absorb_into(&mut t);
    let proof = f.pcs.open_copy(&f.data, copy, &f.claims, &mut t).unwrap();
    assert_eq!(check(&f.pcs, &f.com, &f.claims, &proof, b"test"), Ok(()));
}

#[test]
fn pcs_open_copy_refuses_a_copy_of_other_data() {
    let f = fixture();
    let mut r = rng(9);
    let (_, other) = f.pcs.commit(&[rand_poly(&mut r, 1 << 10)]).unwrap();
    let mut t = Transcript::new(b"test");
    f.com.absorb_into(&mut t);
    assert_eq!(
        f.pcs
            .open_copy(&f.data, other.opening_copy(), &f.claims, &mut t)
            .err(),
        Some(PcsError::Data(
            "opening copy made from other commitment data".into()
        ))
    );
}

#[test]
fn pcs_rejects_wrong_value() {
    for reduce in [false, true] {
        rejects_wrong_value(fixture_in(reduce));
    }
}

fn rejects_wrong_value(f: Fixture) {
    for i in 0..f.claims.len() {
        let mut bad = f.claims.clone();
        bad[i].value += EF::ONE;
        assert!(
            check(&f.pcs, &f.com, &bad, &f.proof, b"test").is_err(),
            "claim {i}"
        );
    }
}

#[test]
fn pcs_rejects_other_point() {
    for reduce in [false, true] {
        rejects_other_point(fixture_in(reduce));
    }
}

fn rejects_other_point(f: Fixture) {
    for i in 0..f.claims.len() {
        for coord in [0, f.claims[i].point.len() - 1] {
            let mut bad = f.claims.clone();
            bad[i].point[coord] += EF::ONE;
            // Even with the value that is right at the new point.
            bad[i].value = eval_mle(&f.polys[bad[i].poly], &bad[i].point);
            assert!(
                check(&f.pcs, &f.com, &bad, &f.proof, b"test").is_err(),
                "claim {i}"
            );
        }
    }
}

#[test]
fn pcs_rejects_other_poly_index() {
    let mut r = rng(5);
    let pcs = Pcs::new(test_params());
    let polys = vec![
        rand_poly(&mut r, 1 << 10),
        rand_poly(&mut r, 1 << 10),
        rand_poly(&mut r, 1 << 9),
    ];
    let (com, data) = pcs.commit(&polys).unwrap();
    let claims = vec![
        claim(&polys, 0, rand_point(&mut r, 10)),
        claim(&polys, 2, rand_point(&mut r, 9)),
    ];
    let proof = prove(&pcs, &data, &claims, b"test");
    assert_eq!(check(&pcs, &com, &claims, &proof, b"test"), Ok(()));
    let mut bad = claims.clone();
    bad[0].poly = 1;
    assert!(check(&pcs, &com, &bad, &proof, b"test").is_err());
    // Same claim on poly 1 with poly 1's true value: still not what was proven.
    bad[0].value = eval_mle(&polys[1], &bad[0].point);
    assert!(check(&pcs, &com, &bad, &proof, b"test").is_err());
    // Out-of-range index / wrong arity are rejected, not panics.
    let mut bad = claims.clone();
    bad[1].poly = 3;
    assert!(matches!(
        check(&pcs, &com, &bad, &proof, b"test"),
        Err(VerifyError::Opening(_))
    ));
    let mut bad = claims.clone();
    bad[1].poly = 0;
    assert!(matches!(
        check(&pcs, &com, &bad, &proof, b"test"),
        Err(VerifyError::Opening(_))
    ));
    // Dropping or adding a claim.
    assert!(check(&pcs, &com, &claims[..1], &proof, b"test").is_err());
    let mut more = claims.clone();
    more.push(claims[0].clone());
    assert!(check(&pcs, &com, &more, &proof, b"test").is_err());
}

#[test]
fn pcs_rejects_other_commitment() {
    let f = fixture();
    // Other root, same layout.
    let mut r = rng(6);
    let mut other_polys = f.polys.clone();
    other_polys[0][3] += F::ONE;
    let (other_com, _) = f.pcs.commit(&other_polys).unwrap();
    assert_eq!(other_com.poly_num_vars, f.com.poly_num_vars);
    assert_ne!(other_com.roots, f.com.roots);
    assert!(check(&f.pcs, &other_com, &f.claims, &f.proof, b"test").is_err());
    let mut flipped = f.com.clone();
    flipped.roots[0][0] ^= 1;
    assert!(check(&f.pcs, &flipped, &f.claims, &f.proof, b"test").is_err());
    // Same root, other layouts (one that keeps every claim's arity valid).
    let mut layout = f.com.clone();
    layout.poly_num_vars.push(4);
    assert!(check(&f.pcs, &layout, &f.claims, &f.proof, b"test").is_err());
    let mut layout = f.com.clone();
    layout.poly_num_vars[0] = 5;
    assert!(check(&f.pcs, &layout, &f.claims, &f.proof, b"test").is_err());
    let empty = Commitment {
        roots: f.com.roots.clone(),
        poly_num_vars: vec![],
    };
    assert!(check(&f.pcs, &empty, &[], &f.proof, b"test").is_err());
    // Absurd layouts are rejected, not panics.
    let huge = Commitment {
        roots: f.com.roots.clone(),
        poly_num_vars: vec![63, 4],
    };
    assert!(check(&f.pcs, &huge, &[], &f.proof, b"test").is_err());
    let huge = Commitment {
        roots: f.com.roots.clone(),
        poly_num_vars: vec![40, 40, 4],
    };
    let mut c = [claim(&f.polys, 0, rand_point(&mut r, 4))];
    c[0].poly = 2;
    assert!(check(&f.pcs, &huge, &c, &f.proof, b"test").is_err());
    // Verifying with other parameters than the prover's.
    let other = Pcs::new(PcsParams {
        folding_factor: 3,
        ..test_params()
    });
    assert!(check(&other, &f.com, &f.claims, &f.proof, b"test").is_err());
}

#[test]
fn pcs_rejects_other_transcript_prefix() {
    let f = fixture();
    assert!(check(&f.pcs, &f.com, &f.claims, &f.proof, b"tesT").is_err());
    // A transcript that saw something extra before the opening.
    let mut t = Transcript::new(b"test");
    f.com.absorb_into(&mut t);
    t.absorb_u64(0);
    assert!(f.pcs.verify(&f.com, &f.claims, &f.proof, &mut t).is_err());
    // A transcript that did not absorb the commitment.
    let mut t = Transcript::new(b"test");
    assert!(f.pcs.verify(&f.com, &f.claims, &f.proof, &mut t).is_err());
    // Claims in another order.
    let mut swapped = f.claims.clone();
    swapped.swap(0, 3);
    assert!(check(&f.pcs, &f.com, &swapped, &f.proof, b"test").is_err());
}

#[test]
fn pcs_rejects_truncated_and_garbage_bytes() {
    let f = fixture();
    let bytes = f.proof.to_bytes();
    for len in [
        0,
        1,
        2,
        9,
        40,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 32,
        bytes.len() - 1,
    ] {
        assert!(
            matches!(
                OpeningProof::from_bytes(&bytes[..len]),
                Err(VerifyError::Malformed(_))
            ),
            "truncated to {len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        OpeningProof::from_bytes(&longer),
        Err(VerifyError::Malformed(_))
    ));
    for version in [1, PROOF_FORMAT_VERSION + 1] {
        let mut wrong_version = bytes.clone();
        wrong_version[0] = version;
        assert!(matches!(
            OpeningProof::from_bytes(&wrong_version),
            Err(VerifyError::Malformed(_))
        ));
    }
    let mut r = rng(8);
    for len in [1usize, 8, 100, 5000, bytes.len()] {
        for _ in 0..20 {
            let mut garbage: Vec<u8> = (0..len).map(|_| r.random()).collect();
            garbage[0] = PROOF_FORMAT_VERSION;
            if let Ok(p) = OpeningProof::from_bytes(&garbage) {
                assert!(check(&f.pcs, &f.com, &f.claims, &p, b"test").is_err());
            }
        }
    }
    // Huge length prefixes do not allocate or panic.
    let mut huge = vec![PROOF_FORMAT_VERSION];
    huge.extend_from_slice(&[
        1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    assert!(OpeningProof::from_bytes(&huge).is_err());
    let mut many = vec![PROOF_FORMAT_VERSION, 0xff];
    many.extend_from_slice(&bytes[2..]);
    assert!(OpeningProof::from_bytes(&many).is_err());
}

/// Byte ranges of each section of the encoding, computed from p3's proofs
/// (postcard writes struct fields back to back, without tags).
fn sections(bytes: &[u8]) -> Vec<(String, usize, usize)> {
    let parts = decode_parts(bytes).unwrap();
    let len = |v: &dyn erased::Ser| v.size();
    let mut out = vec![
        ("version".to_string(), 0, 1),
        ("part count".to_string(), 1, 2),
    ];
    let mut at = 2usize;
    let mut push = |name: String, size: usize, out: &mut Vec<(String, usize, usize)>| {
        out.push((name, at, at + size));
        at += size;
    };
    for (k, part) in parts.iter().enumerate() {
        let proof = &part.whir;
        let mut fields: Vec<(String, usize)> = vec![
            ("length".into(), 4),
            ("reduction".into(), len(&part.reduction)),
            (
                "initial_ood_answers".into(),
                len(&proof.initial_ood_answers),
            ),
            ("initial_sumcheck".into(), len(&proof.initial_sumcheck)),
            // Vec length prefix of `rounds`.
            ("rounds.len".into(), len(&proof.rounds.len())),
        ];
        for (i, round) in proof.rounds.iter().enumerate() {
            let round_fields: [(&str, &dyn erased::Ser); 5] = [
                ("commitment", &round.commitment),
                ("ood_answers", &round.ood_answers),
                ("pow_witness", &round.pow_witness),
                ("openings", &round.openings),
                ("sumcheck", &round.sumcheck),
            ];
            for (name, value) in round_fields {
                fields.push((format!("round{i}.{name}"), len(value)));
            }
        }
        fields.extend([
            ("final_poly".into(), len(&proof.final_poly)),
            ("final_pow_witness".into(), len(&proof.final_pow_witness)),
            ("final_openings".into(), len(&proof.final_openings)),
            ("final_sumcheck".into(), len(&proof.final_sumcheck)),
        ]);
        for (name, size) in fields {
            push(format!("part{k}.{name}"), size, &mut out);
        }
    }
    assert_eq!(at, bytes.len(), "sections cover the whole encoding");
    out
}

/// postcard size of any serializable value (object-safe helper).
mod erased {
    pub trait Ser {
        fn size(&self) -> usize;
    }
    impl<T: serde::Serialize> Ser for T {
        fn size(&self) -> usize {
            postcard::to_allocvec(self).unwrap().len()
        }
    }
}

#[test]
fn pcs_rejects_flipped_bytes_in_every_section() {
    for reduce in [false, true] {
        rejects_flipped_bytes(fixture_in(reduce));
    }
}

fn rejects_flipped_bytes(f: Fixture) {
    let bytes = f.proof.to_bytes();
    let secs = sections(&bytes);
    assert!(
        secs.iter().any(|(n, _, _)| n.starts_with("part0.round0")),
        "proof has rounds"
    );
    eprintln!("proof {} bytes, sections:", bytes.len());
    let mut positions = Vec::new();
    for (name, start, end) in &secs {
        eprintln!("  {name:<22} {start:>6}..{end:<6} ({} bytes)", end - start);
        if end > start {
            positions.extend([*start, start + (end - start) / 2, end - 1]);
            // A spread inside large sections (at most ~16 more per section).
            let step = ((end - start) / 16).max(1);
            positions.extend((*start..*end).step_by(step));
        }
    }
    positions.sort_unstable();
    positions.dedup();
    let (mut parse_fail, mut verify_fail) = (0, 0);
    for &pos in &positions {
        for mask in [0x01u8, 0x80] {
            let mut bad = bytes.clone();
            bad[pos] ^= mask;
            match OpeningProof::from_bytes(&bad) {
                Err(VerifyError::Malformed(_)) => parse_fail += 1,
                Err(e) => panic!("from_bytes returned {e:?}"),
                Ok(p) => {
                    let res = check(&f.pcs, &f.com, &f.claims, &p, b"test");
                    assert!(res.is_err(), "flip {mask:#x} at byte {pos} accepted");
                    verify_fail += 1;
                }
            }
        }
    }
    eprintln!(
        "{} flips: {parse_fail} rejected by parsing, {verify_fail} by verification",
        2 * positions.len()
    );
    assert!(verify_fail > 0 && parse_fail > 0);
}

#[test]
fn pcs_zero_claims() {
    let f = fixture();
    let proof = prove(&f.pcs, &f.data, &[], b"test");
    assert_eq!(check(&f.pcs, &f.com, &[], &proof, b"test"), Ok(()));
    assert!(check(&f.pcs, &f.com, &f.claims[..1], &proof, b"test").is_err());
}

/// Prints p3's derived schedule (queries, grinding per phase) per size.
#[test]
fn pcs_print_schedule() {
    let params = PcsParams::default();
    for n in [12, 20, 22, 24] {
        let c = params.whir_config(n).unwrap();
        eprintln!(
            "2^{n}: folding {:?}, commit ood {}, start fold pow {}, final fold pow {}, final sumcheck rounds {}, terminal {:?}",
            c.folding_schedule(),
            c.commitment_ood_samples(),
            c.starting_folding_pow_bits(),
            c.final_folding_pow_bits(),
            c.final_sumcheck_rounds(),
            c.terminal()
        );
        for r in c.round_parameters() {
            eprintln!(
                "    round: vars {} queries {} pow {} fold pow {} ood {} rate 2^-{}",
                r.num_variables,
                r.num_queries,
                r.pow_bits,
                r.folding_pow_bits,
                r.ood_samples,
                r.log_inv_rate
            );
        }
        let (bits, list) = prescribed_security(&params, n, 1).unwrap();
        eprintln!("    composed {bits:.4} bits, list 2^{list:.2}");
    }
}

/// Exploration of the levers (run with `--ignored --nocapture`): composed
/// bits and a grinding-cost estimate (hash evaluations) per configuration.
/// `ZKINFER_EXPLORE="sec,pow,fold,rate,round_rate;..."` (round_rate 0 = `PcsParams::round_log_inv_rate`),
/// `ZKINFER_EXPLORE_VARS="20,22,24"`.
#[test]
#[ignore]
fn pcs_explore_parameters() {
    let spec = std::env::var("ZKINFER_EXPLORE").unwrap_or_else(|_| "106,24,4,1,0".into());
    let sizes = std::env::var("ZKINFER_EXPLORE_VARS").unwrap_or_else(|_| "20,22,24".into());
    for n in sizes.split(',').map(|v| v.trim().parse::<usize>().unwrap()) {
        for cfg in spec.split(';') {
            let v: Vec<usize> = cfg.split(',').map(|x| x.trim().parse().unwrap()).collect();
            let (sec, pow, fold, rate, rr) = (v[0], v[1], v[2], v[3], v[4]);
            let mut pp = PcsParams {
                security_level: sec,
                pow_bits: pow,
                folding_factor: fold,
                starting_log_inv_rate: rate,
                split_padding: false,
                reduce_claims: false,
                unique_decoding: false,
            }
            .protocol_parameters(n);
            if rr > 0 {
                pp.round_log_inv_rates = vec![rr; pp.round_log_inv_rates.len()];
            }
            let desc = format!(
                "2^{n} sec {sec} pow {pow} fold {fold} rate {rate} rates {:?}",
                pp.round_log_inv_rates
            );
            match WhirConfig::<EF, F, Challenger>::new(n, pp) {
                Err(e) => eprintln!("{desc}: {e}"),
                Ok(c) => {
                    let mut grind =
                        (1u64 << c.starting_folding_pow_bits()) * c.folding_schedule()[0] as u64;
                    let mut queries = vec![];
                    for (i, r) in c.round_parameters().iter().enumerate() {
                        grind += (1u64 << r.pow_bits)
                            + (1u64 << r.folding_pow_bits) * c.folding_schedule()[i + 1] as u64;
                        queries.push(r.num_queries);
                    }
                    grind += 1u64 << c.terminal().pow_bits;
                    grind +=
                        (1u64 << c.final_folding_pow_bits()) * c.final_sumcheck_rounds() as u64;
                    queries.push(c.terminal().num_queries);
                    let whir = Whir::new(c, Dft::default(), mmcs());
                    let protocol = OpeningProtocol::new(vec![TableSpec::new(
                        TableShape::new(n, 1),
                        vec![OpeningBatch::new(vec![0], Vec::new())],
                    )]);
                    let bits = whir
                        .prescribed_security(&protocol)
                        .map(|s| s.error().bits());
                    eprintln!(
                        "{desc}: bits {bits:?}, grind 2^{:.2} hashes, queries {queries:?}",
                        (grind as f64).log2()
                    );
                }
            }
        }
    }
}

/// Where an opening's time goes (run with `--ignored --nocapture`;
/// `ZKINFER_PROFILE_VARS`, default 24).
#[test]
#[ignore]
fn pcs_profile_open() {
    use p3_challenger::GrindingChallenger;
    use std::time::Instant;
    let n: usize = std::env::var("ZKINFER_PROFILE_VARS").map_or(24, |v| v.parse().unwrap());
    let mut r = rng(9);
    let pcs = Pcs::new(PcsParams::default());
    let polys = vec![rand_poly(&mut r, 1 << n)];
    let t = Instant::now();
    let (com, data) = pcs.commit(&polys).unwrap();
    eprintln!("2^{n}: commit {:?}", t.elapsed());
    let claims = vec![claim(&polys, 0, rand_point(&mut r, n))];
    let t = Instant::now();
    let copy = data.p3_data.clone();
    eprintln!("2^{n}: clone of prover data {:?}", t.elapsed());
    drop(copy);
    let c = pcs.params.whir_config(n).unwrap();
    let mut grinds: Vec<usize> = vec![c.starting_folding_pow_bits(); c.folding_schedule()[0]];
    for (i, rp) in c.round_parameters().iter().enumerate() {
        grinds.push(rp.pow_bits);
        grinds.extend(vec![rp.folding_pow_bits; c.folding_schedule()[i + 1]]);
    }
    grinds.push(c.terminal().pow_bits);
    grinds.extend(vec![c.final_folding_pow_bits(); c.final_sumcheck_rounds()]);
    let mut tr = Transcript::new(b"grind");
    let t = Instant::now();
    for &b in &grinds {
        let _ = tr.challenger().grind(b);
    }
    eprintln!("2^{n}: grinding alone ({grinds:?}) {:?}", t.elapsed());
    for _ in 0..2 {
        let t = Instant::now();
        let proof = prove(&pcs, &data, &claims, b"p");
        eprintln!("2^{n}: open {:?}, {} bytes", t.elapsed(), proof.size());
        let t = Instant::now();
        assert_eq!(check(&pcs, &com, &claims, &proof, b"p"), Ok(()));
        eprintln!("2^{n}: verify {:?}", t.elapsed());
    }
}

/// Polynomials of 2^20, 1000 and 2^17 entries committed split in two WHIR
/// instances (2^20 and 2^18) in either layout.
fn split_commitment(
    r: &mut StdRng,
    reduce: bool,
) -> (PcsParams, Pcs, Vec<Vec<F>>, Commitment, CommittedData) {
    let params = PcsParams {
        split_padding: true,
        reduce_claims: reduce,
        ..PcsParams::for_polys(&[20, 10, 17])
    };
    let pcs = Pcs::new(params.clone());
    let polys = vec![
        rand_poly(r, 1 << 20),
        rand_poly(r, 1000),
        rand_poly(r, 1 << 17),
    ];
    let (com, data) = pcs.commit(&polys).unwrap();
    assert_eq!(com.roots.len(), 2);
    assert_eq!(data.part_num_vars(), vec![20, 18]);
    assert_eq!(
        part_num_vars(&params, &com.poly_num_vars),
        Some(vec![20, 18])
    );
    (params, pcs, polys, com, data)
}

/// A commitment split into two WHIR instances (`split_padding`): complete,
/// and every binding the single-instance tests check holds per part.
#[test]
fn pcs_split_commitment_is_complete_and_binding() {
    let mut r = rng(21);
    let (params, pcs, polys, com, data) = split_commitment(&mut r, false);
    let claims = vec![
        claim(&polys, 2, rand_point(&mut r, 17)),
        claim(&polys, 0, rand_point(&mut r, 20)),
        claim(&polys, 1, rand_point(&mut r, 10)),
        claim(&polys, 0, rand_point(&mut r, 20)),
    ];
    let proof = prove(&pcs, &data, &claims, b"split");
    assert_eq!(check(&pcs, &com, &claims, &proof, b"split"), Ok(()));
    let (bits, _) = commitment_security(&params, &com.poly_num_vars, claims.len()).unwrap();
    assert!(bits >= 100.0, "{bits}");

    // A wrong value, or a claim moved to another point, in either part.
    for k in [0, 1, 2] {
        let mut bad = claims.clone();
        bad[k].value += EF::ONE;
        assert!(
            check(&pcs, &com, &bad, &proof, b"split").is_err(),
            "value {k}"
        );
        let mut moved = claims.clone();
        moved[k].point[0] += EF::ONE;
        assert!(
            check(&pcs, &com, &moved, &proof, b"split").is_err(),
            "point {k}"
        );
    }
    // Roots: flipped in either part, swapped, or one missing.
    for part in [0, 1] {
        let mut flipped = com.clone();
        flipped.roots[part][5] ^= 1;
        assert!(check(&pcs, &flipped, &claims, &proof, b"split").is_err());
    }
    let mut swapped = com.clone();
    swapped.roots.swap(0, 1);
    assert!(check(&pcs, &swapped, &claims, &proof, b"split").is_err());
    let mut one = com.clone();
    one.roots.pop();
    assert!(matches!(
        check(&pcs, &one, &claims, &proof, b"split"),
        Err(VerifyError::Opening(_))
    ));
    // The same polynomials committed as one instance: its commitment and
    // proof do not pass for the split layout, nor the other way round.
    let single = Pcs::new(PcsParams {
        split_padding: false,
        ..params.clone()
    });
    let (single_com, single_data) = single.commit(&polys).unwrap();
    assert_eq!(single_com.roots.len(), 1);
    let single_proof = prove(&single, &single_data, &claims, b"split");
    assert_eq!(
        check(&single, &single_com, &claims, &single_proof, b"split"),
        Ok(())
    );
    assert!(check(&pcs, &com, &claims, &single_proof, b"split").is_err());
    assert!(check(&single, &single_com, &claims, &proof, b"split").is_err());

    // The two WHIR proofs swapped in the file.
    let bytes = proof.to_bytes();
    let secs = sections(&bytes);
    let start = |name: &str| secs.iter().find(|s| s.0 == name).unwrap().1;
    let (p1, end) = (start("part1.length"), bytes.len());
    let mut swapped = bytes[..2].to_vec();
    swapped.extend_from_slice(&bytes[p1..end]);
    swapped.extend_from_slice(&bytes[2..p1]);
    match OpeningProof::from_bytes(&swapped) {
        Err(VerifyError::Malformed(_)) => {}
        Err(e) => panic!("{e:?}"),
        Ok(p) => assert!(check(&pcs, &com, &claims, &p, b"split").is_err()),
    }
    // A flipped byte in every section of both parts.
    for (name, start, end) in &secs {
        if end <= start {
            continue;
        }
        for pos in [*start, (start + end) / 2, end - 1] {
            let mut bad = bytes.clone();
            bad[pos] ^= 0x01;
            match OpeningProof::from_bytes(&bad) {
                Err(VerifyError::Malformed(_)) => {}
                Err(e) => panic!("from_bytes returned {e:?}"),
                Ok(p) => assert!(
                    check(&pcs, &com, &claims, &p, b"split").is_err(),
                    "flip in {name} at {pos} accepted"
                ),
            }
        }
    }
    // Truncated.
    assert!(OpeningProof::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    assert!(OpeningProof::from_bytes(&bytes[..p1]).is_err());
}

/// A commitment to nothing: no root, an opening with no WHIR proof, no claim
/// admitted, and a non-empty opening or a root refused.
#[test]
fn empty_commitment_commits_and_opens_nothing() {
    let pcs = Pcs::new(test_params());
    let (com, data) = pcs.commit(&[]).unwrap();
    assert!(com.roots.is_empty() && com.poly_num_vars.is_empty());
    let proof = prove(&pcs, &data, &[], b"empty");
    assert_eq!(proof.to_bytes(), vec![PROOF_FORMAT_VERSION, 0]);
    assert_eq!(check(&pcs, &com, &[], &proof, b"empty"), Ok(()));
    assert_eq!(
        check(
            &pcs,
            &com,
            &[],
            &OpeningProof::from_bytes(&proof.to_bytes()).unwrap(),
            b"empty"
        ),
        Ok(())
    );
    // No claim can be made on it.
    let c = Claim {
        poly: 0,
        point: Vec::new(),
        value: EF::ZERO,
    };
    assert!(matches!(
        check(&pcs, &com, &[c], &proof, b"empty"),
        Err(VerifyError::Opening(m)) if m.contains("names polynomial 0 of 0")
    ));
    // A root on an empty layout, or a WHIR proof in its opening, is refused.
    let with_root = Commitment {
        roots: vec![[7; 32]],
        poly_num_vars: Vec::new(),
    };
    assert!(matches!(
        check(&pcs, &with_root, &[], &proof, b"empty"),
        Err(VerifyError::Opening(m)) if m.contains("1 roots, its layout 0 parts")
    ));
    let mut r = rng(5);
    let polys = vec![rand_poly(&mut r, 1 << 10)];
    let (_, full) = pcs.commit(&polys).unwrap();
    let other = prove(
        &pcs,
        &full,
        &[claim(&polys, 0, rand_point(&mut r, 10))],
        b"empty",
    );
    assert!(matches!(
        check(&pcs, &com, &[], &other, b"empty"),
        Err(VerifyError::Malformed(m)) if m.contains("1 WHIR proofs, the commitment 0 parts")
    ));
}

/// Parameters no key should hold: each is an error from every entry point
/// (never a panic, an absurd allocation or an endless grinding search).
fn absurd_params() -> Vec<(PcsParams, &'static str)> {
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
                starting_log_inv_rate: 0,
                ..d.clone()
            },
            "rate 2^-0",
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
                security_level: 0,
                ..d.clone()
            },
            "security level 0",
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

#[test]
fn absurd_parameters_are_errors_not_panics() {
    let f = fixture();
    for (params, what) in absurd_params() {
        assert!(matches!(params.check(), Err(PcsError::Params(_))), "{what}");
        assert!(params.whir_config(12).is_err(), "{what}");
        assert_eq!(prescribed_security(&params, 12, 1), None, "{what}");
        let pcs = Pcs::new(params);
        match pcs.commit(&f.polys) {
            Err(PcsError::Params(m)) => assert!(!m.is_empty()),
            Err(e) => panic!("{what}: {e:?}"),
            Ok(_) => panic!("{what}: committed"),
        }
        // Opening the good data with the bad scheme, and verifying.
        let mut t = Transcript::new(b"test");
        assert!(pcs.open(&f.data, &f.claims, &mut t).is_err(), "{what}");
        assert!(
            matches!(
                check(&pcs, &f.com, &f.claims, &f.proof, b"test"),
                Err(VerifyError::Opening(_))
            ),
            "{what}"
        );
    }
    // The empty commitment too: its parameters are still checked.
    let pcs = Pcs::new(PcsParams {
        folding_factor: 0,
        ..PcsParams::default()
    });
    assert!(pcs.commit(&[]).is_err());
}

#[test]
fn claims_that_do_not_fit_are_errors_not_panics() {
    let f = fixture();
    let mut wrong_poly = f.claims.clone();
    wrong_poly[0].poly = 3;
    let mut wrong_arity = f.claims.clone();
    wrong_arity[1].point.push(EF::ONE);
    for bad in [wrong_poly, wrong_arity] {
        let mut t = Transcript::new(b"test");
        assert!(matches!(
            f.pcs.open(&f.data, &bad, &mut t),
            Err(PcsError::Claims(_))
        ));
        assert!(check(&f.pcs, &f.com, &bad, &f.proof, b"test").is_err());
    }
    // Data opened with other parameters than it was committed with.
    let other = Pcs::new(PcsParams {
        folding_factor: 3,
        ..test_params()
    });
    let mut t = Transcript::new(b"test");
    assert!(matches!(
        other.open(&f.data, &f.claims, &mut t),
        Err(PcsError::Data(_))
    ));
}

/// The stacked layout (`reduce_claims`) with a split commitment: each part
/// reduces its own claims (one part's many, the other's one claim goes to
/// WHIR as it is); wrong values in either part, and a proof made in the other
/// layout, are rejected.
#[test]
fn stacked_layout_reduces_per_part_and_is_binding() {
    let mut r = rng(23);
    let (params, pcs, polys, com, data) = split_commitment(&mut r, true);
    let claims = vec![
        claim(&polys, 2, rand_point(&mut r, 17)),
        claim(&polys, 0, rand_point(&mut r, 20)),
        claim(&polys, 1, rand_point(&mut r, 10)),
        claim(&polys, 2, rand_point(&mut r, 17)),
    ];
    let proof = prove(&pcs, &data, &claims, b"stack");
    assert_eq!(check(&pcs, &com, &claims, &proof, b"stack"), Ok(()));
    let parts = decode_parts(&proof.to_bytes()).unwrap();
    // Part 0 holds one claim (no reduction), part 1 three (reduced).
    assert!(parts[0].reduction.is_none() && parts[1].reduction.is_some());
    for k in 0..claims.len() {
        let mut bad = claims.clone();
        bad[k].value += EF::ONE;
        assert!(
            check(&pcs, &com, &bad, &proof, b"stack").is_err(),
            "value {k}"
        );
    }
    // A claim dropped changes the reduction's batch: rejected.
    assert!(check(&pcs, &com, &claims[..3], &proof, b"stack").is_err());
    // The tables layout's commitment and proof of the same polynomials.
    let tables = Pcs::new(PcsParams {
        reduce_claims: false,
        ..params
    });
    let (t_com, t_data) = tables.commit(&polys).unwrap();
    let t_proof = prove(&tables, &t_data, &claims, b"stack");
    assert_eq!(check(&tables, &t_com, &claims, &t_proof, b"stack"), Ok(()));
    assert!(check(&pcs, &com, &claims, &t_proof, b"stack").is_err());
    assert!(check(&tables, &t_com, &claims, &proof, b"stack").is_err());
}

/// WHIR in the unique-decoding regime: complete and binding in both layouts,
/// and its candidate list is one polynomial (no bits lost by the outer
/// checks), where the Johnson regime's is larger.
#[test]
fn unique_decoding_is_binding_with_a_list_of_one() {
    for reduce in [false, true] {
        let mut r = rng(29);
        let polys = vec![rand_poly(&mut r, 1 << 12), rand_poly(&mut r, 1 << 9)];
        let johnson = PcsParams {
            reduce_claims: reduce,
            ..PcsParams::for_polys(&[12, 9])
        };
        let n = stacked_num_vars(&johnson, &[12, 9]).unwrap();
        let params = PcsParams {
            unique_decoding: true,
            ..johnson.clone()
        }
        .least_grinding(n);
        let pcs = Pcs::new(params.clone());
        let (com, data) = pcs.commit(&polys).unwrap();
        let claims = vec![
            claim(&polys, 0, rand_point(&mut r, 12)),
            claim(&polys, 1, rand_point(&mut r, 9)),
            claim(&polys, 0, rand_point(&mut r, 12)),
        ];
        let proof = prove(&pcs, &data, &claims, b"ud");
        assert_eq!(check(&pcs, &com, &claims, &proof, b"ud"), Ok(()));
        for k in 0..claims.len() {
            let mut bad = claims.clone();
            bad[k].value += EF::ONE;
            assert!(check(&pcs, &com, &bad, &proof, b"ud").is_err(), "value {k}");
        }
        // A Johnson-regime proof of the same data does not pass as this one.
        let j = Pcs::new(johnson.clone());
        let (j_com, j_data) = j.commit(&polys).unwrap();
        let j_proof = prove(&j, &j_data, &claims, b"ud");
        assert!(check(&pcs, &j_com, &claims, &j_proof, b"ud").is_err());
        let (bits, list) = commitment_security(&params, &[12, 9], claims.len()).unwrap();
        assert!(bits >= 100.0, "{bits}");
        assert_eq!(list, 0.0);
        let (_, j_list) = commitment_security(&johnson, &[12, 9], claims.len()).unwrap();
        assert!(j_list > 0.0, "{j_list}");
    }
}

/// Released tables (`release_tables`): the data refuses every opening, and a
/// copy rebuilt from the committed polynomials opens exactly as before, in
/// either layout; rebuilt from other polynomials, its opening is rejected.
#[test]
fn released_tables_open_only_once_rebuilt_from_the_polynomials() {
    for reduce in [false, true] {
        let mut r = rng(31);
        let (_, pcs, polys, com, mut data) = split_commitment(&mut r, reduce);
        let claims = vec![
            claim(&polys, 2, rand_point(&mut r, 17)),
            claim(&polys, 0, rand_point(&mut r, 20)),
            claim(&polys, 1, rand_point(&mut r, 10)),
        ];
        data.release_tables();
        assert!(data.tables_released());
        let mut t = Transcript::new(b"released");
        assert!(matches!(
            pcs.open(&data, &claims, &mut t),
            Err(PcsError::Data(_))
        ));
        let stale = data.opening_copy();
        assert!(pcs.open_copy(&data, stale, &claims, &mut t).is_err());

        let copy = pcs
            .opening_copy_from(&data, &mut polys.clone().into_iter())
            .unwrap();
        let mut t = Transcript::new(b"released");
        com.absorb_into(&mut t);
        let after = pcs.open_copy(&data, copy, &claims, &mut t).unwrap();
        assert_eq!(
            check(&pcs, &com, &claims, &after, b"released"),
            Ok(()),
            "reduce={reduce}"
        );

        // Other polynomials (one value changed), claimed at their own values.
        let mut other = polys.clone();
        other[1][7] += F::ONE;
        let other_claims: Vec<Claim> = claims
            .iter()
            .map(|c| claim(&other, c.poly, c.point.clone()))
            .collect();
        let copy = pcs
            .opening_copy_from(&data, &mut other.into_iter())
            .unwrap();
        let mut t = Transcript::new(b"released");
        com.absorb_into(&mut t);
        let forged = pcs.open_copy(&data, copy, &other_claims, &mut t).unwrap();
        assert!(check(&pcs, &com, &other_claims, &forged, b"released").is_err());

        // Too few or too many polynomials, or one longer than committed.
        let short = polys[..2].to_vec();
        assert!(pcs
            .opening_copy_from(&data, &mut short.into_iter())
            .is_err());
        let mut long = polys.clone();
        long.push(vec![F::ONE]);
        assert!(pcs.opening_copy_from(&data, &mut long.into_iter()).is_err());
        let mut wide = polys.clone();
        wide[1].resize(1 << 11, F::ONE);
        assert!(pcs.opening_copy_from(&data, &mut wide.into_iter()).is_err());
    }
}

/// `open_released` rebuilds each part from the polynomials and opens with
/// `open`'s transcript (proofs differ only by the grinding nonces p3 finds in
/// parallel): the verifier accepts it, rejects other polynomials; a wrong
/// count or length is refused by the prover.
#[test]
fn released_tables_open_part_by_part() {
    for reduce in [false, true] {
        let mut r = rng(37);
        let (_, pcs, polys, com, mut data) = split_commitment(&mut r, reduce);
        let claims = vec![
            claim(&polys, 2, rand_point(&mut r, 17)),
            claim(&polys, 0, rand_point(&mut r, 20)),
            claim(&polys, 1, rand_point(&mut r, 10)),
            claim(&polys, 0, rand_point(&mut r, 20)),
        ];
        let open = |data: &CommittedData, polys: Vec<Vec<F>>, claims: &[Claim]| {
            let mut t = Transcript::new(b"released");
            com.absorb_into(&mut t);
            pcs.open_released(data, polys, claims, &mut t)
        };
        data.release_tables();
        let rebuilt = open(&data, polys.clone(), &claims).unwrap();
        assert_eq!(
            check(&pcs, &com, &claims, &rebuilt, b"released"),
            Ok(()),
            "reduce={reduce}"
        );

        let mut other = polys.clone();
        other[2][5] += F::ONE;
        let other_claims: Vec<Claim> = claims
            .iter()
            .map(|c| claim(&other, c.poly, c.point.clone()))
            .collect();
        let forged = open(&data, other, &other_claims).unwrap();
        assert!(check(&pcs, &com, &other_claims, &forged, b"released").is_err());

        assert!(open(&data, polys[..2].to_vec(), &claims).is_err());
        let mut wide = polys.clone();
        wide[1].resize(1 << 11, F::ONE);
        assert!(open(&data, wide, &claims).is_err());
    }
}

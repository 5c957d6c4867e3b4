//! Soundness accounting, computed from the parameters (never assumed).
//!
//! API CONTRACT: keep these signatures.
//!
//! All figures are "bits of security" `b`, meaning a soundness error of at
//! most `2^-b`. Hash (Merkle/Fiat–Shamir) collision resistance is not
//! included: BLAKE3 with 256-bit outputs is far above these figures.

use crate::field::MODULUS;
use crate::pcs::PcsParams;

// The formula below is for this modulus.
const _: () = assert!(MODULUS == 0xFFFF_FFFF_0000_0001);

/// `log2 |EF|` for EF = Goldilocks², exactly `2·log2(p)` with
/// `p = 2^64 − 2^32 + 1` (≈ 128 − 3.4·10⁻¹⁰).
pub fn log2_ef_order() -> f64 {
    // log2(p) = 64 + log2(1 − 2^-32 + 2^-64), computed without cancellation.
    let delta = -(2f64.powi(-32)) + 2f64.powi(-64);
    2.0 * (64.0 + delta.ln_1p() / std::f64::consts::LN_2)
}

/// log2 of the soundness error of one sumcheck over the challenge field:
/// `-(log2(num_vars * degree) - log2|EF|)`, reported as bits of security.
///
/// (Schwartz–Zippel per round, union bound over rounds.) A sumcheck with no
/// rounds or degree 0 has no error: `f64::INFINITY`.
pub fn sumcheck_bits(num_vars: usize, degree: usize) -> f64 {
    let rounds_times_degree = num_vars as f64 * degree as f64;
    if rounds_times_degree == 0.0 {
        return f64::INFINITY;
    }
    log2_ef_order() - rounds_times_degree.log2()
}

/// log2 of the soundness error of one zero-knowledge sumcheck
/// (`sumcheck::zk`) over `num_vars` variables of round degree `degree`, as
/// bits of security, the mask's opening excluded (its commitment's figure
/// counts separately): the mixing challenge `ρ` (`1/|EF|`) plus the rounds,
/// charged at the degree a cheating prover's committed mask can have,
/// `max(d, 2^⌈log2(d+1)⌉ − 1)` per variable.
pub fn zk_sumcheck_bits(num_vars: usize, degree: usize) -> f64 {
    let committed_degree = (degree + 1).next_power_of_two() - 1;
    combine_bits(&[log2_ef_order(), sumcheck_bits(num_vars, committed_degree)])
}

/// [`zk_sumcheck_bits`] for a sumcheck with masked final evaluations
/// (`sumcheck::zk::masked_eval`) of round degree `degree` whose terms hold
/// at most `masked_factors` masked tables: the last round is charged at
/// `degree + masked_factors` too, since the `R` half of a cheating prover's
/// committed `W` may read the last variable (the honest one does not).
pub fn masked_eval_sumcheck_bits(num_vars: usize, degree: usize, masked_factors: usize) -> f64 {
    let committed_degree = (degree + 1).next_power_of_two() - 1;
    let last = committed_degree.max(degree + masked_factors);
    let rounds = (num_vars.saturating_sub(1) * committed_degree + last) as f64;
    if rounds == 0.0 {
        return log2_ef_order();
    }
    combine_bits(&[log2_ef_order(), log2_ef_order() - rounds.log2()])
}

/// [`zk_sumcheck_bits`] for a sumcheck that reads never-committed tensors
/// through their masks (`V̇ = V + Z·S`) or proves incoming masked claims
/// (`sumcheck::zk::masked_eval::interlayer`), of round degree `degree` with
/// the masked factors counted (`masked_eval::round_degree`). No further
/// rise: a cheating prover's `R` is its own committed table over the head
/// variables and `w`, so `S_R` never reads the last variable (the last round
/// rises by the honest amount, already in `degree`) and the producer's term
/// is linear in the one variable it reads. The weights combining the claims
/// are the caller's term; `R`'s opening counts once per commitment.
pub fn interlayer_sumcheck_bits(num_vars: usize, degree: usize) -> f64 {
    zk_sumcheck_bits(num_vars, degree.max(1))
}

/// The layer sumchecks of one zero-knowledge LogUp-GKR proof
/// (`logup::zk`) over trees of `depths` (per table: its witnesses', then
/// the table's, each `max(num_vars_for(len), 2)` as the proof pads them),
/// one term per layer `k = 1 .. max_depth − 1`:
/// [`interlayer_sumcheck_bits`]`(k, d_k)` at the layer's round degree (5;
/// 4 where the only trees at their leaves are tables', whose `q` is
/// public; `is_table` marks each table's own tree); a layer holding leaves
/// reads committed columns through their `W`, so it is charged as
/// [`masked_eval_sumcheck_bits`] (last round at `d + a`, `a` = 2 for a
/// witness's `q̇·q̇`, 1 for a table's `ṁ·q`). The constant masks change
/// nothing: a cheating prover's `R` is still its own committed table,
/// read at a public head, so `S_R` reads no variable and the producer's
/// term stays linear in `x_0`. The GKR's batching (`λ`) and line
/// reduction (`μ`) terms, the rational identity and the masks' one
/// opening are as for the plain proof (the caller's accounting).
pub fn zk_logup_layer_bits(depths: &[usize], is_table: &[bool]) -> Vec<f64> {
    let committed = crate::logup::zk::layer_committed_factors(depths, is_table);
    crate::logup::zk::layer_round_degrees(depths, is_table)
        .into_iter()
        .zip(committed)
        .zip(1..)
        .map(|((d, a), k)| {
            if a == 0 {
                interlayer_sumcheck_bits(k, d)
            } else {
                masked_eval_sumcheck_bits(k, d, a)
            }
        })
        .collect()
}

/// The root step of one zero-knowledge LogUp-GKR proof over `trees` trees
/// (`logup::zk`, blinded root fractions): its masked sumcheck of one
/// variable and degree 6 ([`interlayer_sumcheck_bits`]`(1, 6)`), the
/// trees' relations batched by powers of `γ` (`(trees − 1)/|EF|`) and
/// layer 1's second batching challenge `ν` (`1/|EF|`). A cheating prover's
/// blinding table is any table: its claims pin `v_i + Z(c)·S_i` for the
/// committed pair, so the factor has the honest degree, and the sum claim
/// pins `Σ_i v_i = 0`. A vanishing root denominator needs `α = φ(row)` for
/// a row fixed before `α`: inside the rational identity's term.
pub fn zk_logup_root_bits(trees: usize) -> f64 {
    let batching = log2_ef_order() - (trees.max(2) as f64 - 1.0).log2();
    combine_bits(&[interlayer_sumcheck_bits(1, 6), batching, log2_ef_order()])
}

/// Bits of security of a WHIR opening of `num_vars` variables with `num_claims` claims, as p3-whir reports it.
///
/// This is p3-whir's `PrescribedPointPcs::prescribed_security` for a stacked
/// polynomial of `num_vars` variables opened at `num_claims` points: the
/// union bound over every WHIR error term (claim batching, out-of-domain
/// samples, every fold's proximity gap and sumcheck, every query phase,
/// including grinding), in the regime named by [`PcsParams`] (proven
/// Johnson bound). Returns 0.0 (fail closed) when p3 gives no figure: an
/// invalid configuration, or more claims than the batching budget allows.
///
/// Note for the caller's own accounting: in the list-decoding regime, any
/// reduction the outer protocol draws *after* the commitment (e.g. the
/// sumchecks that choose the opening points) must be charged over the
/// candidate list, i.e. lose [`pcs_list_size_bits`] bits.
pub fn pcs_bits(params: &PcsParams, num_vars: usize, num_claims: usize) -> f64 {
    crate::pcs::prescribed_security(params, num_vars, num_claims).map_or(0.0, |(bits, _)| bits)
}

/// log2 of the candidate-list size the commitment leaves open (Johnson
/// regime; p3-whir's `log2_max_candidates`). `f64::INFINITY` (fail closed)
/// when p3 gives no figure.
pub fn pcs_list_size_bits(params: &PcsParams, num_vars: usize) -> f64 {
    crate::pcs::prescribed_security(params, num_vars, 1).map_or(f64::INFINITY, |(_, l)| l)
}

/// Union bound over independent components given in bits: `-log2(Σ 2^-b_i)`.
///
/// Computed relative to the weakest term so that large values do not
/// underflow. No terms: `f64::INFINITY`.
pub fn combine_bits(bits: &[f64]) -> f64 {
    let weakest = bits.iter().copied().fold(f64::INFINITY, f64::min);
    if !weakest.is_finite() {
        // Empty, all-infinite, or a NaN/−∞ term.
        return if bits.iter().any(|b| b.is_nan()) {
            f64::NAN
        } else {
            weakest
        };
    }
    let sum: f64 = bits.iter().map(|&b| (weakest - b).exp2()).sum();
    weakest - sum.log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ef_order_is_just_below_128_bits() {
        let b = log2_ef_order();
        assert!(b < 128.0 && b > 128.0 - 1e-9, "{b}");
    }

    #[test]
    fn combine_two_equal_terms_loses_one_bit() {
        assert!((combine_bits(&[100.0, 100.0]) - 99.0).abs() < 1e-12);
        assert!((combine_bits(&[100.0; 4]) - 98.0).abs() < 1e-12);
        assert!((combine_bits(&[100.0]) - 100.0).abs() < 1e-12);
        // A much stronger term barely matters.
        let c = combine_bits(&[100.0, 140.0]);
        assert!(c < 100.0 && c > 100.0 - 1e-9, "{c}");
        // Large values do not underflow.
        assert!((combine_bits(&[2000.0, 2000.0]) - 1999.0).abs() < 1e-9);
        assert_eq!(combine_bits(&[]), f64::INFINITY);
        assert_eq!(combine_bits(&[f64::INFINITY, 80.0]), 80.0);
        assert_eq!(combine_bits(&[f64::INFINITY]), f64::INFINITY);
    }

    #[test]
    fn masked_eval_sumcheck_charges_the_last_round_higher() {
        for (n, d) in [(4, 3), (20, 4), (30, 6)] {
            assert_eq!(masked_eval_sumcheck_bits(n, d, 0), zk_sumcheck_bits(n, d));
        }
        // Degree 3 (mask degree 3) with one masked factor: the last round at 4.
        let expected = combine_bits(&[
            log2_ef_order(),
            log2_ef_order() - (9.0f64 * 3.0 + 4.0).log2(),
        ]);
        assert_eq!(masked_eval_sumcheck_bits(10, 3, 1), expected);
        assert!(masked_eval_sumcheck_bits(10, 3, 1) < zk_sumcheck_bits(10, 3));
        // Degree 5: the committed mask's degree 7 already covers 5 + 2.
        assert_eq!(masked_eval_sumcheck_bits(10, 5, 2), zk_sumcheck_bits(10, 5));
    }

    #[test]
    fn zk_logup_charges_each_layer_at_its_masked_degree() {
        // Depths 3 and 5: layers 1–2 read masked halves of both or one
        // tree (degree 5), layers 3–4 the deeper tree's, its layer 4 leaves.
        // A witness tree of depth 3 and a table's of 5: layers 1–3 read
        // masked halves (5), layer 4 the table's leaves, `p` masked (4).
        // The witness's leaves sit in layer 2, the table's in layer 4.
        let bits = zk_logup_layer_bits(&[3, 5], &[false, true]);
        assert_eq!(bits.len(), 4);
        assert_eq!(bits[0], interlayer_sumcheck_bits(1, 5));
        assert_eq!(bits[1], masked_eval_sumcheck_bits(2, 5, 2));
        assert_eq!(bits[2], interlayer_sumcheck_bits(3, 5));
        assert_eq!(bits[3], masked_eval_sumcheck_bits(4, 4, 1));
        assert!(zk_logup_layer_bits(&[30], &[true])
            .iter()
            .all(|&b| b > 120.0));
        assert!(zk_logup_layer_bits(&[0, 1], &[false, true]).is_empty());
        // The root step: a degree-6 mask is charged at 7, one variable.
        let root = zk_logup_root_bits(64);
        assert!(root > 120.0 && root < interlayer_sumcheck_bits(1, 6));
    }

    #[test]
    fn interlayer_sumcheck_costs_what_its_round_degree_costs() {
        // A LogUp layer with masked halves: degree 3 + 2 masked factors = 5,
        // charged at the committed mask's degree 7.
        assert_eq!(interlayer_sumcheck_bits(10, 5), zk_sumcheck_bits(10, 5));
        let expected = combine_bits(&[log2_ef_order(), sumcheck_bits(10, 7)]);
        assert_eq!(interlayer_sumcheck_bits(10, 5), expected);
        // The producer's term needs a degree of one.
        assert_eq!(interlayer_sumcheck_bits(4, 0), zk_sumcheck_bits(4, 1));
    }

    #[test]
    fn sumcheck_bits_formula() {
        // 2^20 variables... 20 rounds of degree 3: 128 - log2(60).
        let b = sumcheck_bits(20, 3);
        assert!((b - (log2_ef_order() - 60f64.log2())).abs() < 1e-12);
        assert!((sumcheck_bits(32, 2) - (log2_ef_order() - 6.0)).abs() < 1e-12);
        assert!(sumcheck_bits(24, 4) > 121.0);
        assert_eq!(sumcheck_bits(0, 3), f64::INFINITY);
    }

    #[test]
    fn default_pcs_reaches_100_bits_for_every_size() {
        let params = PcsParams::default();
        for n in 10..=24 {
            for claims in [1, 2, 16, 128] {
                let b = pcs_bits(&params, n, claims);
                assert!(b >= 100.0, "2^{n}, {claims} claims: {b} bits");
                assert!(b < 128.0, "2^{n}: {b}");
            }
        }
    }

    #[test]
    fn pcs_bits_print_table() {
        let params = PcsParams::default();
        for n in [10, 12, 16, 20, 22, 24] {
            eprintln!(
                "pcs_bits(default, 2^{n}): 1 claim {:.2}, 64 claims {:.2}; list size 2^{:.2}",
                pcs_bits(&params, n, 1),
                pcs_bits(&params, n, 64),
                pcs_list_size_bits(&params, n)
            );
        }
    }

    #[test]
    fn pcs_bits_fails_closed() {
        // A grinding budget of 0 cannot reach 106 bits per term in the
        // Johnson regime over a 128-bit field: no figure, reported as 0.
        let weak = PcsParams {
            pow_bits: 0,
            ..PcsParams::default()
        };
        assert_eq!(pcs_bits(&weak, 20, 1), 0.0);
        // Lower targets give lower figures.
        let low = PcsParams {
            security_level: 80,
            ..PcsParams::default()
        };
        let b = pcs_bits(&low, 16, 1);
        assert!(b > 70.0 && b < 80.0, "{b}");
    }
}

//! Splitting a commitment into WHIR instances ("parts") so that large
//! commitments are not mostly zero padding.
//!
//! A WHIR instance commits to a power-of-two number of elements, and every
//! step of its opening (out-of-domain evaluations, the first sumcheck, the
//! first fold) costs in proportion to that size, padding included. Weights
//! of 2^24 + 2^21 elements stack to 2^25, 44 % zeros. With
//! [`PcsParams::split_padding`] the largest tables that exactly fill 2^k
//! form one instance and the rest a second: at that size the opening takes
//! ≈ 0.55 s instead of ≈ 0.87 s, for about 200 KB more proof (a second WHIR
//! proof). Prover and verifier derive the same partition from the public
//! polynomial sizes.

use super::PcsParams;

/// Splitting starts where an opening is dominated by size-proportional work
/// (below, a second instance's fixed costs eat the gain).
pub const SPLIT_FROM_VARS: usize = 20;

/// The polynomials of each part, ascending within a part; the union is every
/// index of `table_vars` exactly once. `None` if the total size overflows.
///
/// One part unless [`PcsParams::split_padding`] is set, the total `T` is not
/// a power of two, its highest power of two `H ≤ T` is at least
/// 2^[`SPLIT_FROM_VARS`], and the rest fits in `H / 2` (so the second part
/// is at most a quarter of the single stack it replaces).
pub fn partition(params: &PcsParams, table_vars: &[usize]) -> Option<Vec<Vec<usize>>> {
    if table_vars.is_empty() {
        // Nothing committed: no part, no root, no WHIR proof.
        return Some(Vec::new());
    }
    let all: Vec<usize> = (0..table_vars.len()).collect();
    let mut total: usize = 0;
    for &n in table_vars {
        if n >= 48 {
            return None;
        }
        total = total.checked_add(1usize << n)?;
    }
    if !params.split_padding || total.is_power_of_two() || total == 0 {
        return Some(vec![all]);
    }
    let high = 1usize << (usize::BITS - 1 - total.leading_zeros());
    if high < 1 << SPLIT_FROM_VARS || total - high > high / 2 {
        return Some(vec![all]);
    }
    // Powers of two taken largest first fill `high` exactly (each fits the
    // space left, which stays a multiple of it).
    let mut by_size = all;
    by_size.sort_by_key(|&i| std::cmp::Reverse(table_vars[i]));
    let mut filled = 0;
    let mut first = Vec::new();
    let mut rest = Vec::new();
    for i in by_size {
        if filled < high {
            filled += 1usize << table_vars[i];
            first.push(i);
        } else {
            rest.push(i);
        }
    }
    debug_assert_eq!(filled, high);
    first.sort_unstable();
    rest.sort_unstable();
    Some(vec![first, rest])
}

/// Parameters of one part of `num_vars` stacked variables: `params` itself
/// for an unsplit commitment (as chosen for it), otherwise with the
/// smallest grinding budget p3 accepts at the part's size (p3 keeps the
/// security level whatever the budget; a smaller one means less grinding).
pub fn part_params(params: &PcsParams, num_parts: usize, num_vars: usize) -> PcsParams {
    if num_parts == 1 {
        return params.clone();
    }
    (8..=params.pow_bits)
        .map(|pow_bits| PcsParams {
            pow_bits,
            ..params.clone()
        })
        .find(|p| p.whir_config(num_vars).is_ok())
        .unwrap_or_else(|| params.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split() -> PcsParams {
        PcsParams {
            split_padding: true,
            ..PcsParams::default()
        }
    }

    #[test]
    fn mlp_weights_split_into_exact_power_and_rest() {
        // The 18.4M-parameter MLP: 784×2048 (padded 2^21), four 2048×2048,
        // 2048×10 (2^15), biases.
        let tv = [21, 11, 22, 11, 22, 11, 22, 11, 22, 11, 15, 9];
        let parts = partition(&split(), &tv).unwrap();
        assert_eq!(
            parts,
            vec![vec![2, 4, 6, 8], vec![0, 1, 3, 5, 7, 9, 10, 11]]
        );
        let size = |p: &Vec<usize>| p.iter().map(|&i| 1usize << tv[i]).sum::<usize>();
        assert_eq!(size(&parts[0]), 1 << 24);
        // Without the setting: one part.
        assert_eq!(partition(&PcsParams::default(), &tv).unwrap().len(), 1);
    }

    #[test]
    fn no_split_when_exact_small_or_mostly_full() {
        let p = split();
        // Exactly a power of two.
        assert_eq!(partition(&p, &[22, 22, 22, 22]).unwrap().len(), 1);
        // Too small to be worth a second instance.
        assert_eq!(partition(&p, &[19, 17]).unwrap().len(), 1);
        // The rest is more than half of the highest power: the stack is
        // more than 3/4 full.
        assert_eq!(partition(&p, &[20, 19, 18]).unwrap().len(), 1);
        assert_eq!(partition(&p, &[20, 19]).unwrap().len(), 2);
        // Nothing committed: no part at all (the empty commitment).
        assert_eq!(partition(&p, &[]).unwrap(), Vec::<Vec<usize>>::new());
        assert_eq!(partition(&p, &[60]), None);
    }

    #[test]
    fn every_polynomial_is_in_exactly_one_part() {
        let p = split();
        for tv in [vec![20, 8, 8, 9, 18, 10], vec![8, 21, 8, 12, 12, 19]] {
            let parts = partition(&p, &tv).unwrap();
            assert_eq!(parts.len(), 2);
            let mut all: Vec<usize> = parts.concat();
            all.sort_unstable();
            assert_eq!(all, (0..tv.len()).collect::<Vec<_>>());
            assert!(parts.iter().all(|q| q.windows(2).all(|w| w[0] < w[1])));
        }
    }
}

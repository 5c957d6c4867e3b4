//! Statistics shared by the simulator tests: per sent coordinate, a
//! histogram of its top three bits over many runs, and Pearson's χ²
//! against the uniform distribution and between two samples.

use crate::field::{BasedVectorSpace, PrimeField64, EF, F};

pub(crate) const BUCKETS: usize = 8;

/// 7 degrees of freedom: exceeded with probability ≈ 10^-6 by chance.
pub(crate) const CRITICAL: f64 = 41.0;

/// The base coordinates of `elems`, in order.
pub(crate) fn coordinates(elems: &[EF]) -> Vec<F> {
    elems
        .iter()
        .flat_map(|e| e.as_basis_coefficients_slice().to_vec())
        .collect()
}

/// Per coordinate, the histogram of its top three bits over the runs
/// (every run the same number of coordinates).
pub(crate) fn histograms(runs: &[Vec<F>]) -> Vec<[usize; BUCKETS]> {
    let mut h = vec![[0usize; BUCKETS]; runs[0].len()];
    for run in runs {
        assert_eq!(run.len(), h.len(), "runs of different widths");
        for (c, x) in run.iter().enumerate() {
            h[c][(x.as_canonical_u64() >> 61) as usize] += 1;
        }
    }
    h
}

/// Pearson's statistic against the uniform distribution (7 degrees of freedom).
pub(crate) fn chi2_uniform(h: &[usize; BUCKETS]) -> f64 {
    let e = h.iter().sum::<usize>() as f64 / BUCKETS as f64;
    h.iter().map(|&o| (o as f64 - e).powi(2) / e).sum()
}

/// Two-sample statistic (7 degrees of freedom, equal sample sizes).
pub(crate) fn chi2_two_sample(a: &[usize; BUCKETS], b: &[usize; BUCKETS]) -> f64 {
    a.iter()
        .zip(b)
        .filter(|(&x, &y)| x + y > 0)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2) / (x + y) as f64)
        .sum()
}

/// Asserts that every coordinate of `real` and `sim` is uniform and that
/// the two samples are alike.
pub(crate) fn assert_indistinguishable(real: &[Vec<F>], sim: &[Vec<F>]) {
    let (hr, hs) = (histograms(real), histograms(sim));
    assert_eq!(hr.len(), hs.len(), "views of different widths");
    for c in 0..hr.len() {
        assert!(chi2_uniform(&hr[c]) < CRITICAL, "real coordinate {c}");
        assert!(chi2_uniform(&hs[c]) < CRITICAL, "simulated coordinate {c}");
        assert!(chi2_two_sample(&hr[c], &hs[c]) < CRITICAL, "coordinate {c}");
    }
}

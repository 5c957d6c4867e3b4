//! A leak audit of zero-knowledge proofs on a user's own model: two private
//! inputs with the same public output, many proofs of each, and the
//! questions a distinguisher would ask of them.
//!
//! A private-input proof is zero-knowledge when its messages are a function
//! of the public statement and fresh randomness alone. The audit checks the
//! observable consequences on real proofs: every number the messages carry
//! is either public structure (equal in every proof of both inputs) or
//! fresh in every proof; the fresh ones' low bits are uniform for each
//! input and alike between the two; and none of the true (unmasked) values
//! the prover's masked reads hide appears anywhere in a proof's bytes. It is
//! a statistical regression guard run on trained models, not the proof of
//! hiding (docs/zero-knowledge.md has the simulator arguments).

use rand::{CryptoRng, RngCore};
use zkinfer_protocol::field::{BasedVectorSpace, PrimeField64, F};
use zkinfer_protocol::EF;

use super::{copies_for, prover, Visibility};
use crate::error::ProveError;
use crate::keys::ProvingKey;
use crate::proof::Proof;
use crate::prover::run_model;

/// Pearson's χ² over 16 cells at the 0.1 % tail (15 degrees of freedom).
pub const CHI_SQUARE_LIMIT: f64 = 37.7;

/// What the audit saw.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LeakAudit {
    /// Proofs made of each input.
    pub proofs_per_input: usize,
    /// Numbers in one proof's zero-knowledge messages.
    pub numbers_per_proof: usize,
    /// Numbers equal in every proof of both inputs (the statement's
    /// structure: degrees, lengths, public values).
    pub public_numbers: usize,
    /// Numbers that vary between proofs.
    pub varying_numbers: usize,
    /// Varying numbers that took one value twice (a fresh uniform field
    /// element repeats with probability ≈ 2^-64 per pair).
    pub repeated_numbers: usize,
    /// χ² of the varying numbers' low four bits against uniform, per input.
    pub chi_square_a: f64,
    pub chi_square_b: f64,
    /// χ² of input A's low-bit histogram against input B's.
    pub chi_square_a_vs_b: f64,
    /// True values behind the masked reads of one proof per input (zero
    /// values left out: zero bytes are in every encoding).
    pub hidden_values: usize,
    /// Of those, how many appear verbatim in their proof's bytes.
    pub hidden_values_found: usize,
}

impl LeakAudit {
    /// No distinguisher among the audit's found anything.
    pub fn passed(&self) -> bool {
        self.repeated_numbers == 0
            && self.hidden_values_found == 0
            && self.varying_numbers > 0
            && self.chi_square_a < CHI_SQUARE_LIMIT
            && self.chi_square_b < CHI_SQUARE_LIMIT
            && self.chi_square_a_vs_b < CHI_SQUARE_LIMIT
    }
}

/// Another input with the same quantized output as `x`: each coordinate
/// moved by ±1, ±2, … (within the input's bound) until the model's output
/// does not change, at most `tries` evaluations. Many models round a small
/// change of one input away, which is what makes two private inputs with
/// one public output easy to find.
pub fn twin_input(
    pk: &ProvingKey,
    x: &[i64],
    tries: usize,
) -> Result<Option<Vec<i64>>, ProveError> {
    let model = &pk.model;
    let bound = model.tensors[model.input].bound;
    let output = |x: &[i64]| -> Result<Vec<i64>, ProveError> {
        Ok(run_model(pk, x)?.swap_remove(model.output))
    };
    let target = output(x)?;
    let mut left = tries;
    for delta in [1i64, -1, 2, -2, 4, -4, 8, -8] {
        for i in 0..x.len() {
            let moved = x[i] + delta;
            if moved.abs() > bound {
                continue;
            }
            if left == 0 {
                return Ok(None);
            }
            left -= 1;
            let mut y = x.to_vec();
            y[i] = moved;
            if output(&y)? == target {
                return Ok(Some(y));
            }
        }
    }
    Ok(None)
}

/// Audits `runs` private-input proofs of each of `a` and `b` (quantized
/// statement inputs with the same output), as `zkinfer prove
/// --private-input` makes them (copies of a small model's samples
/// included).
pub fn audit_two_inputs<R: CryptoRng + RngCore>(
    pk: ProvingKey,
    a: &[i64],
    b: &[i64],
    runs: usize,
    rng: &mut R,
) -> Result<LeakAudit, ProveError> {
    let visibility = Visibility::PRIVATE_INPUT;
    let copies = copies_for(&pk.model, visibility)?;
    let batch = pk.model.batch * copies;
    let pk = &pk.for_batch(batch)?;
    let (a, b) = (a.repeat(copies), b.repeat(copies));
    let (ya, yb) = (run_model(pk, &a)?, run_model(pk, &b)?);
    if ya[pk.model.output] != yb[pk.model.output] {
        return Err(ProveError::Inference(
            "the two inputs' outputs differ: the audit needs one public output".into(),
        ));
    }
    let mut hidden_values = 0;
    let mut hidden_values_found = 0;
    let mut numbers = Vec::with_capacity(2 * runs);
    for x in [&a, &b] {
        let (out, truths) =
            prover::prove_zk_with_truths(pk, x, visibility, super::CommitSeeds::default(), rng)?;
        let sent = message_numbers(&out.proof);
        let (n, found) = truths_in_proof(&truths, &sent, &out.proof.to_bytes());
        hidden_values += n;
        hidden_values_found += found;
        numbers.push(sent);
        for _ in 1..runs {
            let out = super::prove_zk(pk, x, visibility, rng)?;
            numbers.push(message_numbers(&out.proof));
        }
    }
    let mut audit = statistics(&numbers, runs);
    audit.hidden_values = hidden_values;
    audit.hidden_values_found = hidden_values_found;
    Ok(audit)
}

/// The non-zero true values, and how many of them the proof carries: as
/// one of its messages' field elements (`numbers`, two consecutive
/// coordinates), or anywhere in its bytes in their canonical encoding. The
/// byte search skips values whose encoding is mostly zero bytes (a small
/// integer such as a constant tensor's value: 8 bytes followed by 8 zero
/// bytes occur by chance in any long encoding), which the message search
/// still covers.
pub(crate) fn truths_in_proof(truths: &[EF], numbers: &[u64], bytes: &[u8]) -> (usize, usize) {
    let nonzero: Vec<&EF> = truths.iter().filter(|t| **t != EF::default()).collect();
    let found = nonzero
        .iter()
        .filter(|t| {
            let coeffs: Vec<u64> = t
                .as_basis_coefficients_slice()
                .iter()
                .map(|c: &F| c.as_canonical_u64())
                .collect();
            if numbers
                .windows(coeffs.len())
                .any(|w| w == coeffs.as_slice())
            {
                return true;
            }
            let sparse = coeffs.iter().skip(1).all(|&c| c == 0) && coeffs[0] < 1 << 32;
            let enc: Vec<u8> = coeffs.iter().flat_map(|c| c.to_le_bytes()).collect();
            !sparse && bytes.windows(enc.len()).any(|w| w == enc.as_slice())
        })
        .count();
    (nonzero.len(), found)
}

/// Every number a proof's zero-knowledge messages carry (layer steps, the
/// LogUp-GKR, the members' values), in order.
pub(crate) fn message_numbers(proof: &Proof) -> Vec<u64> {
    fn walk(v: &serde_json::Value, out: &mut Vec<u64>) {
        match v {
            serde_json::Value::Number(n) => out.extend(n.as_u64()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let Some(zk) = proof.zk.as_ref() else {
        return out;
    };
    let value = |x: Result<serde_json::Value, _>| x.unwrap_or(serde_json::Value::Null);
    walk(&value(serde_json::to_value(&proof.layers)), &mut out);
    walk(&value(serde_json::to_value(&zk.lookups)), &mut out);
    walk(&value(serde_json::to_value(&zk.lookup_members)), &mut out);
    out
}

/// The statistics over `numbers`: the first `runs` vectors are input A's
/// proofs, the rest input B's.
fn statistics(numbers: &[Vec<u64>], runs: usize) -> LeakAudit {
    let len = numbers.first().map_or(0, Vec::len);
    let (mut hist_a, mut hist_b) = ([0u64; 16], [0u64; 16]);
    let (mut public_numbers, mut varying, mut repeated) = (0, 0, 0);
    // Proofs of different lengths cannot be compared number by number: the
    // shape itself would tell them apart.
    let comparable = numbers.iter().all(|v| v.len() == len);
    for i in (0..len).filter(|_| comparable) {
        let column: Vec<u64> = numbers.iter().map(|v| v[i]).collect();
        if column.iter().all(|&c| c == column[0]) {
            public_numbers += 1;
            continue;
        }
        varying += 1;
        let mut distinct = column.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != column.len() {
            repeated += 1;
        }
        for (k, &c) in column.iter().enumerate() {
            let h = if k < runs { &mut hist_a } else { &mut hist_b };
            h[(c & 15) as usize] += 1;
        }
    }
    if !comparable {
        repeated = len.max(1);
    }
    LeakAudit {
        proofs_per_input: runs,
        numbers_per_proof: len,
        public_numbers,
        varying_numbers: varying,
        repeated_numbers: repeated,
        chi_square_a: chi_square(&hist_a),
        chi_square_b: chi_square(&hist_b),
        chi_square_a_vs_b: two_sample_chi_square(&hist_a, &hist_b),
        hidden_values: 0,
        hidden_values_found: 0,
    }
}

/// Pearson's statistic of `counts` against the uniform distribution.
fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// Pearson's statistic of a 2 × k table: are the two histograms draws from
/// one distribution (equal totals)?
fn two_sample_chi_square(a: &[u64], b: &[u64]) -> f64 {
    a.iter()
        .zip(b)
        .filter(|(x, y)| **x + **y > 0)
        .map(|(&x, &y)| {
            let (x, y) = (x as f64, y as f64);
            let e = (x + y) / 2.0;
            (x - e).powi(2) / e + (y - e).powi(2) / e
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_flag_a_repeated_number_and_skewed_bits() {
        // Number 0 is public, number 1 fresh and spread, number 2 repeats.
        let numbers: Vec<Vec<u64>> = (0..32u64)
            .map(|k| vec![7, k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 3, k % 4])
            .collect();
        let s = statistics(&numbers, 16);
        assert_eq!(s.public_numbers, 1);
        assert_eq!(s.varying_numbers, 2);
        assert_eq!(s.repeated_numbers, 1);
        assert!(!s.passed());
        // Low bits always 0: far from uniform.
        let skewed: Vec<Vec<u64>> = (0..64u64).map(|k| vec![k << 4]).collect();
        let s = statistics(&skewed, 32);
        assert_eq!(s.repeated_numbers, 0);
        assert!(s.chi_square_a > CHI_SQUARE_LIMIT, "{}", s.chi_square_a);
        // Proofs of different shapes are told apart by their length alone.
        let s = statistics(&[vec![1, 2], vec![1]], 1);
        assert!(!s.passed());
    }

    #[test]
    fn a_value_in_the_messages_or_the_bytes_is_found() {
        let t = EF::from(F::new(0x0123_4567_89ab_cdef));
        let mut bytes = vec![0u8; 7];
        let coeffs: &[F] = t.as_basis_coefficients_slice();
        for c in coeffs {
            bytes.extend(c.as_canonical_u64().to_le_bytes());
        }
        bytes.push(9);
        assert_eq!(truths_in_proof(&[t, EF::default()], &[], &bytes), (1, 1));
        let other = t + EF::from(F::new(1));
        assert_eq!(truths_in_proof(&[other], &[], &bytes), (1, 0));
        // A small value: its bytes are no evidence, a sent element is.
        let small = EF::from(F::new(174));
        let mut zeros = vec![174u8];
        zeros.extend([0u8; 20]);
        assert_eq!(truths_in_proof(&[small], &[3, 7], &zeros), (1, 0));
        assert_eq!(truths_in_proof(&[small], &[3, 174, 0, 7], &zeros), (1, 1));
    }
}

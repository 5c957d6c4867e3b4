//! A hiding commitment behind the seam: p3-whir's `HidingWhirPcs`
//! (HVZK-WHIR, eprint 2026/391).
//!
//! Only the claimed evaluations leave the prover: the Reed–Solomon encoding
//! carries randomness rows, WHIR's fold sumchecks are masked, out-of-domain
//! answers are padded and the final message is one-time padded (p3's
//! `pcs/zk`). Honest-verifier zero knowledge, non-interactive by Fiat–Shamir.
//!
//! # How it maps onto p3-whir 0.8.0
//!
//! `HidingWhirPcs` commits ONE polynomial (no stacking of its own), opens
//! it at points only, and its opening consumes the prover data. So:
//!
//! - the committed polynomials are stacked here into one table, largest
//!   first, each at an offset aligned to its size (so a slot is a fixed
//!   prefix of the stacked variables): a claim `p(z) = v` becomes
//!   `T(slot bits, z) = v`, one opening point per claim. The stack is padded
//!   with zeros to the smallest size p3 can configure
//!   [`HidingPcs::stacked_num_vars`]);
//! - a commitment is opened **once**: every opening spends masking
//!   randomness (p3 sizes it for one opening's queries), so a second
//!   `open` of the same data is refused ([`PcsError::Opening`]) instead of
//!   revealing more of the codeword than the masks cover;
//! - the opened values are p3's `evals`: the verifier requires them to be
//!   the claims' values.
//!
//! # Transcript
//!
//! As [`super::Pcs`]: `open`/`verify` absorb the claims under `b"pcs-open"`,
//! then p3 binds the commitment and the claims (its own domain separation)
//! and runs on the shared challenger. `commit` hands p3 a scratch
//! challenger; callers absorb [`HidingCommitment`] themselves.
//!
//! # Randomness
//!
//! Masks come from a generator seeded once per scheme ([`HidingPcs::new`]
//! from the operating system, [`HidingPcs::with_seed`] for reproducible
//! tests); every commit and opening draws a fresh ChaCha seed from it.

use std::sync::Mutex;

use p3_blake3::Blake3;
use p3_commit::MultilinearPcs;
use p3_dft::Radix2DFTSmallBatch;
use p3_merkle_tree::MerkleTreeMmcs;
use p3_multilinear_util::point::Point;
use p3_multilinear_util::poly::Poly;
use p3_symmetric::{CompressionFunctionFromHasher, MerkleCap, SerializingHasher};
use p3_whir::{
    FoldingFactor, HidingWhirPcs, HidingWhirProverData, ProtocolParameters, SecurityAssumption,
    WhirConfigError, ZkConfigError, ZkParameters, ZkWhirConfig, ZkWhirProof,
};
use rand::{Rng, SeedableRng};
use rand_p3::SeedableRng as _;
use serde::{Deserialize, Serialize};

use crate::field::{random_f, EF, F};
use crate::sumcheck::zk::masked_eval::EvalMask;
use crate::sumcheck::zk::{table_num_vars, MaskPolynomial};
use crate::transcript::{Challenger, Transcript};
use crate::VerifyError;

use super::stack::Stack;
use super::{absorb_claims, check_claims, log2_len, Claim, CommitmentScheme, PcsError};

type Dft = Radix2DFTSmallBatch<F>;
type HidingMmcs = MerkleTreeMmcs<
    F,
    u8,
    SerializingHasher<Blake3>,
    CompressionFunctionFromHasher<Blake3, 2, 32>,
    2,
    32,
>;
type P3Rng = rand_p3::rngs::StdRng;
type P3Hiding = HidingWhirPcs<EF, F, Dft, HidingMmcs, Challenger, P3Rng>;
type P3Data = HidingWhirProverData<F, EF, HidingMmcs>;
type P3Proof = ZkWhirProof<F, EF, HidingMmcs>;
type Root = MerkleCap<F, [u8; 32]>;

/// Format version byte at the start of [`HidingOpening::to_bytes`].
/// 2: the claims reduced in zero knowledge before p3 (`hiding/reduce.rs`).
/// 3: 20-bit grinding budget ([`HidingParams`]): an
/// older opening is refused by its version, not by a failing WHIR check.
const HIDING_PROOF_VERSION: u8 = 3;

/// Parameters of the hiding commitment; part of what a verifier must agree
/// on (a verifying key would state them next to the commitment).
///
/// - `security_level`, `pow_bits`, `folding_factor`, `starting_log_inv_rate`:
///   as [`super::PcsParams`]; `pow_bits` is a budget p3 splits per round
///   (every term still reaches `security_level`), raised for a stack whose
///   fold sumcheck needs more ([`HidingParams::config`]);
/// - `round_log_inv_rate`: `log2(1/rate)` after each intermediate round.
///   Higher than the plain scheme's: each oracle's randomness rows must fit
///   in its codeword's spare rows (p3 refuses otherwise);
/// - `ell_zk`: length of the masks of WHIR's own fold sumchecks (≥ 3: they
///   are degree 2), `mask_log_inv_rate`: the rate of the code that commits
///   those masks (≥ 1).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HidingParams {
    pub security_level: usize,
    pub pow_bits: usize,
    pub folding_factor: usize,
    pub starting_log_inv_rate: usize,
    pub round_log_inv_rate: usize,
    pub ell_zk: usize,
    pub mask_log_inv_rate: usize,
    /// WHIR's unique-decoding regime instead of the Johnson bound: a list of
    /// one candidate, so the checks drawn after the commitment lose nothing
    /// to it, for more queries (a small commitment's choice, see
    /// [`HidingParams::unique`]).
    #[serde(default)]
    pub unique_decoding: bool,
}

impl Default for HidingParams {
    /// 109 bits per term in the proven Johnson regime, folding 4, round rate
    /// 2^-5 (the lowest p3 accepts with masks at these sizes) and p3's test
    /// mask shape. Grinding was most of the prove time: p3 grinds the full
    /// budget once per query phase (4–5 per opening), so 24 bits cost ~1–2 s
    /// where 20 bits cost ~0.1 s and a few more queries (<1 % of the proof).
    /// Starting rate 1/2: 1/4 would save ~10 % of the proof, but its larger
    /// Johnson list, multiplied over a committed input's and output's own
    /// openings, takes such statements below 100 computed bits.
    fn default() -> Self {
        Self {
            security_level: 109,
            pow_bits: 20,
            folding_factor: 4,
            starting_log_inv_rate: 1,
            round_log_inv_rate: 5,
            ell_zk: 4,
            mask_log_inv_rate: 2,
            unique_decoding: false,
        }
    }
}

/// How far [`HidingPcs::stacked_num_vars`] pads a stack to find a size p3
/// can configure.
const MAX_PADDING_VARS: usize = 12;

impl HidingParams {
    /// The default parameters in the unique-decoding regime.
    pub fn unique() -> Self {
        Self {
            unique_decoding: true,
            ..Self::default()
        }
    }

    fn protocol_parameters(&self, num_vars: usize) -> ProtocolParameters {
        let folding_factor = FoldingFactor::Constant(self.folding_factor);
        let rounds = folding_factor
            .compute_folding_schedule(num_vars)
            .map_or(0, |s| s.len().saturating_sub(1));
        ProtocolParameters {
            security_level: self.security_level,
            pow_bits: self.pow_bits,
            folding_factor,
            soundness_type: if self.unique_decoding {
                SecurityAssumption::UniqueDecoding
            } else {
                SecurityAssumption::JohnsonBound
            },
            starting_log_inv_rate: self.starting_log_inv_rate,
            round_log_inv_rates: vec![self.round_log_inv_rate; rounds],
        }
    }

    /// p3's hiding configuration for a stack of `num_vars` variables.
    ///
    /// The fold sumcheck's grinding grows with the stack (about a bit per
    /// variable); where it exceeds `pow_bits`, the budget is raised to what
    /// p3 requires rather than refusing the size: p3 then buys the queries
    /// for the same `security_level`, so no term is weaker. Deterministic,
    /// so prover and verifier derive the same configuration.
    pub fn config(&self, num_vars: usize) -> Result<ZkWhirConfig<EF, F, Challenger>, PcsError> {
        let zk = ZkParameters {
            ell_zk: self.ell_zk,
            mask_log_inv_rate: self.mask_log_inv_rate,
        };
        let mut params = self.protocol_parameters(num_vars);
        loop {
            match ZkWhirConfig::new(num_vars, params.clone(), zk.clone()) {
                Err(ZkConfigError::Whir(WhirConfigError::PowBitsExceedBudget {
                    required,
                    budget,
                })) if required > budget && required < params.security_level => {
                    params.pow_bits = required;
                }
                r => {
                    return r.map_err(|e| {
                        PcsError::Params(format!("hiding WHIR configuration for 2^{num_vars}: {e}"))
                    })
                }
            }
        }
    }
}

/// Public hiding commitment: one Merkle root and the committed sizes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HidingCommitment {
    pub root: [u8; 32],
    /// `num_vars` of each committed polynomial, in commit order.
    pub poly_num_vars: Vec<usize>,
}

impl HidingCommitment {
    pub fn absorb_into(&self, transcript: &mut Transcript) {
        transcript.label(b"pcs-hiding-commitment");
        transcript.absorb_bytes(&self.root);
        transcript.absorb_u64(self.poly_num_vars.len() as u64);
        for &n in &self.poly_num_vars {
            transcript.absorb_u64(n as u64);
        }
    }
}

/// Prover data of one hiding commitment: usable for one opening.
pub struct HidingData {
    commitment: HidingCommitment,
    params: HidingParams,
    /// The stacked table `T` (the committed polynomials and the claim
    /// reduction's mask `g`), `R_T` and `g` (`hiding/reduce.rs`).
    stack: Stack,
    table: Vec<F>,
    r_t: Vec<F>,
    g: MaskPolynomial,
    p3_data: Mutex<Option<P3Data>>,
}

impl HidingData {
    pub fn commitment(&self) -> &HidingCommitment {
        &self.commitment
    }
}

/// The p3 data one opening consumes, taken out of [`HidingData`] (`None` once
/// an opening has spent it).
pub struct HidingOpeningCopy {
    commitment: HidingCommitment,
    p3_data: Option<P3Data>,
}

/// A hiding opening; canonical bytes (a version byte, then the postcard
/// encoding of p3's `ZkWhirProof`).
#[derive(Clone, PartialEq, Eq)]
pub struct HidingOpening {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for HidingOpening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HidingOpening {{ {} bytes }}", self.bytes.len())
    }
}

impl HidingOpening {
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// Never panics on arbitrary bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        decode_proof(bytes)?;
        Ok(Self {
            bytes: bytes.to_vec(),
        })
    }

    pub fn size(&self) -> usize {
        self.bytes.len()
    }
}

/// An opening: the claim reduction and p3's proof of its few points.
#[derive(Serialize, Deserialize)]
struct OpeningBody {
    reduction: reduce::ZkReduction,
    whir: P3Proof,
}

fn decode_proof(bytes: &[u8]) -> Result<OpeningBody, VerifyError> {
    let malformed = |e: String| VerifyError::Malformed(format!("hiding opening: {e}"));
    match bytes.split_first() {
        Some((&HIDING_PROOF_VERSION, body)) => {
            let (proof, rest): (OpeningBody, &[u8]) =
                postcard::take_from_bytes(body).map_err(|e| malformed(e.to_string()))?;
            if !rest.is_empty() {
                return Err(malformed(format!("{} trailing bytes", rest.len())));
            }
            let canonical = postcard::to_allocvec(&proof).map_err(|e| malformed(e.to_string()))?;
            if canonical != body {
                return Err(malformed("non-canonical encoding".into()));
            }
            Ok(proof)
        }
        Some((v, _)) => Err(malformed(format!("unknown version {v}"))),
        None => Err(malformed("empty".into())),
    }
}

/// The hiding commitment scheme (module doc).
pub struct HidingPcs {
    pub params: HidingParams,
    rng: Mutex<rand::rngs::StdRng>,
}

impl HidingPcs {
    /// A scheme whose masks are seeded from the operating system.
    pub fn new(params: HidingParams) -> Self {
        Self {
            params,
            rng: Mutex::new(rand::rngs::StdRng::from_os_rng()),
        }
    }

    /// A scheme with reproducible masks: tests only (predictable masks hide
    /// nothing).
    pub fn with_seed(params: HidingParams, seed: u64) -> Self {
        Self {
            params,
            rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)),
        }
    }

    /// A scheme whose masks derive from a secret 256-bit seed: a
    /// commitment its owner can re-derive (and reveal by revealing the seed
    /// with the data), as hiding as one seeded by the system while the
    /// seed stays secret.
    pub fn with_secret_seed(params: HidingParams, seed: [u8; 32]) -> Self {
        Self {
            params,
            rng: Mutex::new(rand::rngs::StdRng::from_seed(seed)),
        }
    }

    /// p3's scheme for a stack of `num_vars` variables, with a fresh seed.
    fn p3(&self, num_vars: usize) -> Result<P3Hiding, PcsError> {
        let config = self.params.config(num_vars)?;
        let seed: [u8; 32] = self
            .rng
            .lock()
            .map_err(|_| PcsError::Data("mask generator poisoned".into()))?
            .random();
        Ok(HidingWhirPcs::new(
            config,
            Dft::default(),
            mmcs(),
            P3Rng::from_seed(seed),
        ))
    }

    /// Variables of the stacked table for polynomials of these sizes: their
    /// stack's, raised to the first size p3 accepts with these parameters.
    ///
    /// Each oracle's masking randomness (as many rows as its round's queries)
    /// must fit in its codeword's spare rows, so small stacks (below ≈ 2^12
    /// at rate 1/2) and some sizes whose last round is small are refused by
    /// p3: padding by a variable or two costs less than a special case.
    pub fn stacked_num_vars(&self, poly_num_vars: &[usize]) -> Result<usize, PcsError> {
        Ok(self.stack(poly_num_vars)?.num_vars + 1)
    }

    /// The stack `T` of the polynomials and the claim reduction's mask `g`
    /// (polynomial `poly_num_vars.len()`), sized so that p3 accepts
    /// `W_T = [T; R_T]`; `g`'s size follows `T`'s, so the two are found
    /// together.
    fn stack(&self, poly_num_vars: &[usize]) -> Result<Stack, PcsError> {
        let overflow = || PcsError::Size("committed size overflows".into());
        let mut g_vars = table_num_vars(2, reduce::DEGREE);
        loop {
            let mut nvs = poly_num_vars.to_vec();
            nvs.push(g_vars);
            let base = Stack::new(&nvs, 2).ok_or_else(overflow)?.num_vars;
            let mut last = None;
            let mut found = None;
            for n in base..=base + MAX_PADDING_VARS {
                match self.params.config(n + 1) {
                    Ok(_) => {
                        found = Some(n);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            let n = match found {
                Some(n) => n,
                None => return Err(last.expect("at least one size tried")),
            };
            let need = table_num_vars(n, reduce::DEGREE);
            if need <= g_vars {
                return Stack::new(&nvs, n).ok_or_else(overflow);
            }
            g_vars = need;
        }
    }

    /// A claim's point in `T`'s frame.
    fn stack_point(stack: &Stack) -> impl Fn(&Claim) -> Vec<EF> + '_ {
        |c: &Claim| stack.point(c).as_slice().to_vec()
    }
}

fn mmcs() -> HidingMmcs {
    MerkleTreeMmcs::new(
        SerializingHasher::new(Blake3 {}),
        CompressionFunctionFromHasher::new(Blake3 {}),
        0,
    )
}

impl CommitmentScheme for HidingPcs {
    const HIDING: bool = true;
    type Commitment = HidingCommitment;
    type ProverData = HidingData;
    type OpeningCopy = HidingOpeningCopy;
    type Opening = HidingOpening;
    type Error = PcsError;

    /// Stacks `polys` into one table and commits it with fresh masks. An
    /// empty list is committed as a zero table of the minimum size (its
    /// commitment admits no claim).
    fn commit(&self, polys: &[Vec<F>]) -> Result<(HidingCommitment, HidingData), PcsError> {
        let poly_num_vars: Vec<usize> = polys.iter().map(|p| log2_len(p.len())).collect();
        let stack = self.stack(&poly_num_vars)?;
        let n = stack.num_vars;
        let (g, r_t) = {
            let mut rng = self
                .rng
                .lock()
                .map_err(|_| PcsError::Data("mask generator poisoned".into()))?;
            let g = MaskPolynomial::random(n, reduce::DEGREE, &mut *rng);
            let r_t: Vec<F> = (0..2).map(|_| random_f(&mut *rng)).collect();
            (g, r_t)
        };
        let g_table = g.table();
        let mut refs: Vec<&[F]> = polys.iter().map(Vec::as_slice).collect();
        refs.push(&g_table);
        let table = stack.fill(&refs);
        let w = EvalMask::from_table(n, r_t.clone()).committed_table(&table);
        let pcs = self.p3(n + 1)?;
        let mut scratch = Transcript::new(b"zkinfer-pcs-commit-scratch");
        let (root, p3_data) = pcs
            .commit(Poly::new(w), scratch.challenger())
            .map_err(|e| PcsError::Params(format!("hiding WHIR commit: {e}")))?;
        let root = match root.roots() {
            [r] => *r,
            _ => return Err(PcsError::Params("hiding commitment is not one root".into())),
        };
        let commitment = HidingCommitment {
            root,
            poly_num_vars,
        };
        let data = HidingData {
            commitment: commitment.clone(),
            params: self.params.clone(),
            stack,
            table,
            r_t,
            g,
            p3_data: Mutex::new(Some(p3_data)),
        };
        Ok((commitment, data))
    }

    fn absorb_commitment(&self, commitment: &HidingCommitment, transcript: &mut Transcript) {
        commitment.absorb_into(transcript);
    }

    /// Takes the data out: the commitment's one opening.
    fn opening_copy(&self, data: &HidingData) -> HidingOpeningCopy {
        HidingOpeningCopy {
            commitment: data.commitment.clone(),
            p3_data: data.p3_data.lock().ok().and_then(|mut d| d.take()),
        }
    }

    /// Fails if the commitment was opened before (its masks are spent), if
    /// `copy` belongs to another commitment, or as [`super::Pcs`]'s opening.
    fn open_copy(
        &self,
        data: &HidingData,
        copy: HidingOpeningCopy,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<HidingOpening, PcsError> {
        if copy.commitment != data.commitment {
            return Err(PcsError::Data(
                "opening copy made from other commitment data".into(),
            ));
        }
        if self.params != data.params {
            return Err(PcsError::Data(
                "open with other parameters than the commitment's".into(),
            ));
        }
        let p3_data = copy.p3_data.ok_or_else(|| {
            PcsError::Opening("a hiding commitment is opened once: its masks are spent".into())
        })?;
        check_claims(&data.commitment.poly_num_vars, claims).map_err(PcsError::Claims)?;
        absorb_claims(transcript, claims);
        let stack_point = Self::stack_point(&data.stack);
        let stack_claims: Vec<(Vec<EF>, EF)> =
            claims.iter().map(|c| (stack_point(c), c.value)).collect();
        let (reduction, w_points) = reduce::prove(
            &data.table,
            &data.r_t,
            &data.g,
            data.commitment.poly_num_vars.len(),
            &stack_point,
            &stack_claims,
            transcript,
        );
        let points: Vec<Point<EF>> = w_points
            .iter()
            .map(|(p, _)| Point::new(p.clone()))
            .collect();
        let pcs = self.p3(data.stack.num_vars + 1)?;
        let root = Root::new(vec![data.commitment.root]);
        let challenger = transcript.challenger();
        pcs.observe_commitment(&root, challenger);
        let whir = pcs
            .open(p3_data, points, challenger)
            .map_err(|e| PcsError::Opening(format!("hiding WHIR opening: {e}")))?;
        debug_assert!(
            whir.evals.iter().zip(&w_points).all(|(e, (_, v))| e == v),
            "a reduced claim is not the committed polynomial's evaluation"
        );
        let mut bytes = vec![HIDING_PROOF_VERSION];
        bytes.extend(
            postcard::to_allocvec(&OpeningBody { reduction, whir })
                .expect("serializing a hiding opening cannot fail"),
        );
        Ok(HidingOpening { bytes })
    }

    fn open_consuming(
        &self,
        data: HidingData,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<HidingOpening, PcsError> {
        let copy = self.opening_copy(&data);
        self.open_copy(&data, copy, claims, transcript)
    }

    fn verify(
        &self,
        commitment: &HidingCommitment,
        claims: &[Claim],
        opening: &HidingOpening,
        transcript: &mut Transcript,
    ) -> Result<(), VerifyError> {
        let fail = |e: String| VerifyError::Opening(e);
        check_claims(&commitment.poly_num_vars, claims).map_err(fail)?;
        let stack = self
            .stack(&commitment.poly_num_vars)
            .map_err(|e| fail(e.to_string()))?;
        let pcs = self
            .p3(stack.num_vars + 1)
            .map_err(|e| fail(e.to_string()))?;
        let proof = decode_proof(&opening.bytes)?;
        absorb_claims(transcript, claims);
        let stack_point = Self::stack_point(&stack);
        let stack_claims: Vec<(Vec<EF>, EF)> =
            claims.iter().map(|c| (stack_point(c), c.value)).collect();
        let w_points = reduce::verify(
            stack.num_vars,
            commitment.poly_num_vars.len(),
            &stack_point,
            &stack_claims,
            &proof.reduction,
            transcript,
        )?;
        if proof.whir.evals.len() != w_points.len() {
            return Err(fail(format!(
                "{} opened values for {} reduced claims",
                proof.whir.evals.len(),
                w_points.len()
            )));
        }
        if let Some(i) = (0..w_points.len()).find(|&i| proof.whir.evals[i] != w_points[i].1) {
            return Err(fail(format!(
                "reduced claim {i}: the opened value is another"
            )));
        }
        let points: Vec<Point<EF>> = w_points.into_iter().map(|(p, _)| Point::new(p)).collect();
        let root = Root::new(vec![commitment.root]);
        pcs.verify(&root, &proof.whir, transcript.challenger(), points)
            .map_err(|e| fail(format!("hiding WHIR: {e}")))
    }
}

mod reduce;
#[cfg(test)]
mod tests;

pub use reduce::reduction_bits as hiding_reduction_bits;

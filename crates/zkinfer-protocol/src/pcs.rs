//! Multilinear polynomial commitments: our seam over Plonky3's WHIR.
//!
//! The seam is the [`CommitmentScheme`] trait (`pcs/scheme.rs`: commit, open
//! a batch of claims at chosen points, verify; errors, never panics, on bad
//! parameters); [`Pcs`] implements it with today's non-hiding WHIR,
//! [`HidingPcs`] (`pcs/hiding.rs`) with p3's hiding WHIR.
//! `commit` does not touch any transcript: the caller absorbs the commitment
//! (`Commitment::absorb_into`) on both sides before any challenge that the
//! committed data must not depend on. `open`/`verify` then run on the shared
//! transcript. Several polynomials (of different sizes, each zero-padded to a
//! power of two) live under one commitment; many claims, at arbitrary points
//! chosen by our sumchecks, are proven by one opening.
//!
//! # How it maps onto p3-whir 0.8.0
//!
//! - The committed polynomials are stacked by us (`pcs/stack.rs`: largest
//!   first, each slot aligned to its size, zero-padded to at least
//!   [`MIN_TABLE_VARS`]` + folding` variables) into one p3 `Table` of width 1,
//!   Reed–Solomon encoded and committed under one BLAKE3 Merkle root
//!   (`MerkleTreeMmcs`, cap height 0) — or, with [`PcsParams::split_padding`],
//!   into two such instances when one stack would be mostly padding
//!   (`pcs/parts.rs`); a commitment then has a root per part and an opening a
//!   WHIR proof per part. A claim `f(z) = v` is the stack's claim
//!   `T(slot bits, z) = v`.
//! - Many claims on a part are first reduced to one by a sumcheck of ours
//!   (`pcs/reduce.rs`): p3's opening does fixed work per claim (≈ 0.4 ms
//!   each at 2^20), ours is linear in the stack, so it runs from
//!   `2^(stack vars − 14)` claims on. WHIR then opens
//!   one point (`OpeningProtocol` / `TableSpec` / `OpeningBatch`,
//!   `PrescribedPointPcs::open_at` / `verify_at`).
//! - The opened values are **not** sent: the verifier rebuilds p3's
//!   `evals` from the claims, so a wrong claimed value makes WHIR reject.
//!
//! # Transcript
//!
//! `open`/`verify` first absorb, under label `b"pcs-open"`, the number of
//! claims and every claim (poly index, point, value); per part, the claim
//! reduction's transcript (`pcs/reduce.rs`), then p3 binds its own
//! commitment phase (`observe_commitment`, domain-separated) and the opening
//! batches, and runs WHIR on the same challenger ([`Transcript::challenger`]).
//! `commit` gives p3 a throw-away challenger (p3's `commit` absorbs the root
//! into the challenger it is handed); nothing of it is kept.
//!
//! # Soundness regime
//!
//! Proven Johnson-bound list decoding (`SecurityAssumption::JohnsonBound`),
//! challenge field Goldilocks² (|EF| ≈ 2^128). p3-whir targets
//! `security_level` bits per error term, buys the shortfall with grinding up
//! to `pow_bits` per phase, and [`crate::security::pcs_bits`] reports p3's own
//! composed (union-bound) figure for the whole opening.

use p3_blake3::Blake3;
use p3_commit::MultilinearPcs;
use p3_dft::Radix2DFTSmallBatch;
use p3_matrix::dense::RowMajorMatrix;
use p3_merkle_tree::MerkleTreeMmcs;
use p3_sumcheck::layout::{Layout, PrefixProver, Table};
use p3_sumcheck::{OpeningBatch, OpeningProtocol, PrescribedPointPcs, TableShape, TableSpec};
use p3_symmetric::{CompressionFunctionFromHasher, MerkleCap, SerializingHasher};
use p3_whir::{
    FoldingFactor, PcsProof, ProtocolParameters, SecurityAssumption, WhirConfig, WhirProof,
    WhirProver, WhirProverData,
};
use serde::{Deserialize, Serialize};

use crate::field::{PrimeCharacteristicRing, EF, F};
use crate::transcript::{Challenger, Transcript};
use crate::VerifyError;
use part_layout::{layout_vars, PartLayout, WhirClaims};
use reduce::Reduction;
use shared_mmcs::SharedMmcs;

// ---------------------------------------------------------------------------
// Concrete p3 types.
// ---------------------------------------------------------------------------

type Dft = Radix2DFTSmallBatch<F>;
type LeafHash = SerializingHasher<Blake3>;
type NodeCompress = CompressionFunctionFromHasher<Blake3, 2, 32>;
/// BLAKE3 Merkle tree over Goldilocks rows, binary, 32-byte digests; its
/// prover data shared so a proving key opens without copying its codeword.
pub type Mmcs = SharedMmcs<MerkleTreeMmcs<F, u8, LeafHash, NodeCompress, 2, 32>>;
/// Stacked-layout mode (prefix-first variable binding).
type Lay = PrefixProver<F, EF>;
/// The p3-whir prover/verifier instance we drive.
type Whir = WhirProver<EF, F, Dft, Mmcs, Challenger, Lay>;
type WhirRoot = MerkleCap<F, [u8; 32]>;
type P3ProverData = WhirProverData<F, EF, Mmcs, Lay>;
type P3WhirProof = WhirProof<F, EF, Mmcs>;

/// Every table is padded to at least `folding_factor + MIN_TABLE_VARS`
/// variables: p3's prefix layout needs a full SIMD vector left after the
/// first fold (Goldilocks packs 4 lanes on AVX2, 8 on AVX-512).
pub const MIN_TABLE_VARS: usize = 3;

/// Largest folding factor [`PcsParams::check`] accepts (the modes use 4 and 5;
/// every table is padded to `folding_factor + MIN_TABLE_VARS` variables).
pub const MAX_FOLDING_FACTOR: usize = 8;
/// Largest `starting_log_inv_rate` [`PcsParams::check`] accepts (the modes use
/// 1 and 2; the codeword is `2^rate` times the data).
pub const MAX_LOG_INV_RATE: usize = 6;
/// Largest grinding budget per phase [`PcsParams::check`] accepts (the sizes
/// we commit need at most 24; each bit doubles a phase's hashing).
pub const MAX_POW_BITS: usize = 28;
/// Largest per-term security target [`PcsParams::check`] accepts: the
/// challenge field has ≈ 2^128 elements.
pub const MAX_SECURITY_LEVEL: usize = 128;

/// Format version byte at the start of [`OpeningProof::to_bytes`]
/// (3: a count of parts, then each length-prefixed: its claim reduction, if
/// any, and its WHIR proof).
const PROOF_FORMAT_VERSION: u8 = 3;

/// Tunable parameters. `Default` gives >= 100 bits (see `security.rs`).
///
/// - `security_level`: bits p3-whir targets for **each** error term (proven
///   Johnson regime). The composed (union-bound) figure for a whole opening is
///   a few bits lower; 109 per term gives ≈ 103 bits composed for every
///   size we commit (2^10 … 2^24 stacked; the claim count does not matter
///   until ~2^16 claims), leaving room for a whole proof's two openings and
///   its sumchecks to compose to ≥ 100 bits (`zkinfer security`).
/// - `pow_bits`: grinding **budget** per phase. p3 derives each phase's
///   grinding as `ceil(security_level − algebraic bits)` and refuses a
///   configuration that would need more than this budget.
/// - `folding_factor`: variables folded per WHIR round.
/// - `starting_log_inv_rate`: `log2(1/rate)` of the first Reed–Solomon code.
/// - `split_padding`: commit as two WHIR instances when one stack would be
///   mostly padding (`pcs/parts.rs`): a faster opening, a larger proof.
/// - `reduce_claims`: commit each part as one stacked table and reduce an
///   opening's claims to one by a sumcheck (`pcs/part_layout.rs`): for
///   commitments opened at many points ([`claims_worth_reducing`]).
/// - `unique_decoding`: WHIR in the unique-decoding regime instead of the
///   Johnson bound: a list of one candidate, so the checks the outer protocol
///   draws after the commitment lose no bits to a candidate list, for
///   somewhat larger openings (≈ +20 % at rate 1/2). For a commitment whose
///   outer checks would otherwise fall below the target.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PcsParams {
    pub security_level: usize,
    pub pow_bits: usize,
    pub folding_factor: usize,
    pub starting_log_inv_rate: usize,
    pub split_padding: bool,
    pub reduce_claims: bool,
    pub unique_decoding: bool,
}

impl Default for PcsParams {
    /// Proven Johnson bound, Goldilocks² challenges, starting rate 1/2,
    /// folding 4, intermediate rates 1/8, 109 bits per term, grinding budget
    /// 20 bits per phase (`for_num_vars` lowers it to what each size needs).
    fn default() -> Self {
        Self {
            security_level: 109,
            pow_bits: 20,
            folding_factor: 4,
            starting_log_inv_rate: 1,
            split_padding: false,
            reduce_claims: false,
            unique_decoding: false,
        }
    }
}

impl PcsParams {
    /// Parameters for a commitment of `num_vars` stacked variables: the
    /// default with the smallest grinding budget p3 accepts at that size.
    ///
    /// p3 keeps the composed security at `security_level` whatever the budget
    /// (a smaller budget buys more queries), so the budget only trades
    /// grinding time against proof size: at 2^16–2^18, budget 12 instead of 20
    /// cuts an opening from ~300 ms to ~25 ms for ~5 % more proof
    /// (`cargo run --release -p zkinfer-protocol --example pow_probe`).
    pub fn for_num_vars(num_vars: usize) -> Self {
        let d = Self::default();
        Self::for_num_vars_with(num_vars, d.starting_log_inv_rate, d.folding_factor)
    }

    /// [`PcsParams::for_num_vars`] with starting rate `2^-log_inv_rate` and
    /// folding factor `folding_factor`.
    ///
    /// Rate 1/4 instead of 1/2 gives each query twice the distance, so about
    /// a third less proof, for a codeword (commit time) twice as large and a
    /// little more grinding. Folding 5 instead of 4 opens ≈ 40 % faster at
    /// 2^24 for ≈ 15 % more proof (`examples/size_probe.rs`).
    pub fn for_num_vars_with(num_vars: usize, log_inv_rate: usize, folding_factor: usize) -> Self {
        Self {
            starting_log_inv_rate: log_inv_rate,
            folding_factor,
            ..Self::default()
        }
        .least_grinding(num_vars)
    }

    /// These parameters with the smallest grinding budget p3 accepts for a
    /// stack of `num_vars` variables (searched from 8 to the default's + 4
    /// bits; unchanged if none is accepted).
    pub fn least_grinding(self, num_vars: usize) -> Self {
        let base = Self {
            pow_bits: Self::default().pow_bits,
            ..self
        };
        (8..=base.pow_bits + 4)
            .map(|pow_bits| Self {
                pow_bits,
                ..base.clone()
            })
            .find(|p| p.whir_config(num_vars).is_ok())
            .unwrap_or(base)
    }

    /// Parameters for a commitment to polynomials of these sizes.
    pub fn for_polys(poly_num_vars: &[usize]) -> Self {
        let d = Self::default();
        Self::for_polys_with(poly_num_vars, d.starting_log_inv_rate, d.folding_factor)
    }

    /// [`PcsParams::for_polys`] with the given rate and folding factor.
    pub fn for_polys_with(
        poly_num_vars: &[usize],
        log_inv_rate: usize,
        folding_factor: usize,
    ) -> Self {
        let base = Self {
            starting_log_inv_rate: log_inv_rate,
            folding_factor,
            ..Self::default()
        };
        let n = stacked_num_vars(&base, poly_num_vars).unwrap_or(0);
        Self::for_num_vars_with(n, log_inv_rate, folding_factor)
    }

    /// `log2(1/rate)` of the codewords committed after each intermediate
    /// round: `starting_log_inv_rate + folding_factor / 2`, constant.
    ///
    /// p3's default schedule instead grows the inverse rate by
    /// `folding_factor − 1` every round (the domain only halves while the
    /// polynomial shrinks by `2^folding`). At 2^24 that reaches rate 2^-13, where
    /// the Johnson-regime fold error is so large that each late fold needs
    /// ~24 bits of grinding (≈ 2^27 hashes per opening in total, seconds on
    /// 2 cores). A constant low inverse rate shrinks the domain faster: a few
    /// more queries per round, but ≈ 2^22 hashes of grinding in total.
    pub fn round_log_inv_rate(&self) -> usize {
        self.starting_log_inv_rate + self.folding_factor / 2
    }

    /// The p3-whir protocol parameters these map to, for `num_vars` variables.
    pub fn protocol_parameters(&self, num_vars: usize) -> ProtocolParameters {
        let folding_factor = FoldingFactor::Constant(self.folding_factor);
        // One rate per intermediate round (p3 validates the count; an invalid
        // folding factor is reported by `WhirConfig::new`).
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
            round_log_inv_rates: vec![self.round_log_inv_rate(); rounds],
        }
    }

    /// Variables each table is padded to at least.
    fn min_table_vars(&self) -> usize {
        self.folding_factor + MIN_TABLE_VARS
    }

    /// Checks the parameters are within what this seam supports, before any
    /// of them sizes an allocation or a grinding search: a folding factor in
    /// `1..=`[`MAX_FOLDING_FACTOR`], a starting rate `2^-1 … 2^-`[`MAX_LOG_INV_RATE`],
    /// a grinding budget of at most [`MAX_POW_BITS`] bits per phase and a
    /// per-term target of at most [`MAX_SECURITY_LEVEL`] bits.
    pub fn check(&self) -> Result<(), PcsError> {
        let bad = |what: String| Err(PcsError::Params(what));
        if !(1..=MAX_FOLDING_FACTOR).contains(&self.folding_factor) {
            return bad(format!(
                "folding factor {} (supported: 1 to {MAX_FOLDING_FACTOR})",
                self.folding_factor
            ));
        }
        if !(1..=MAX_LOG_INV_RATE).contains(&self.starting_log_inv_rate) {
            return bad(format!(
                "Reed–Solomon rate 2^-{} (supported: 2^-1 to 2^-{MAX_LOG_INV_RATE})",
                self.starting_log_inv_rate
            ));
        }
        if self.pow_bits > MAX_POW_BITS {
            return bad(format!(
                "grinding budget {} bits (supported: at most {MAX_POW_BITS})",
                self.pow_bits
            ));
        }
        if !(1..=MAX_SECURITY_LEVEL).contains(&self.security_level) {
            return bad(format!(
                "security level {} bits (supported: 1 to {MAX_SECURITY_LEVEL})",
                self.security_level
            ));
        }
        Ok(())
    }

    /// Derives p3's configuration for a stacked polynomial of `num_vars`
    /// variables. Fails on parameters outside [`PcsParams::check`] or that p3
    /// rejects (e.g. grinding budget).
    pub fn whir_config(&self, num_vars: usize) -> Result<WhirConfig<EF, F, Challenger>, PcsError> {
        self.check()?;
        WhirConfig::new(num_vars, self.protocol_parameters(num_vars))
            .map_err(|e| PcsError::Params(format!("WHIR configuration for 2^{num_vars}: {e}")))
    }
}

/// Public commitment (a Merkle root per part plus what the verifier needs to
/// know of the layout).
///
/// A commitment to no polynomial is valid and explicit: no root, and its
/// opening holds no WHIR proof (count 0) and admits no claim. Callers decide
/// from their own layout whether a commitment is empty (both sides alike).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Commitment {
    /// One root per WHIR instance, in part order (`pcs/parts.rs`).
    pub roots: Vec<[u8; 32]>,
    /// `num_vars` of each committed polynomial, in commit order.
    pub poly_num_vars: Vec<usize>,
}

impl Commitment {
    pub fn absorb_into(&self, transcript: &mut Transcript) {
        transcript.label(b"pcs-commitment");
        transcript.absorb_u64(self.roots.len() as u64);
        for root in &self.roots {
            transcript.absorb_bytes(root);
        }
        transcript.absorb_u64(self.poly_num_vars.len() as u64);
        for &n in &self.poly_num_vars {
            transcript.absorb_u64(n as u64);
        }
    }
}

/// Prover-side data kept from `commit` to `open` (reusable across proofs).
///
/// Holds p3's prover data (the stacked tables, the Reed–Solomon codeword and
/// its Merkle tree) plus the configured prover. p3-whir's `open` consumes its
/// prover data; the codeword and tree are shared (`shared_mmcs.rs`), so every
/// [`CommitmentScheme::open`] copies only the stacked tables (measured 0.33 s
/// at 2^25 base elements; the codeword copy it replaces took ≈ 1.4 s more).
/// [`CommitmentScheme::open_consuming`] skips even that for the last use.
pub struct CommittedData {
    meta: CommittedMeta,
    /// One per part.
    p3_data: Vec<P3ProverData>,
    /// The tables were freed ([`CommittedData::release_tables`]): only
    /// [`Pcs::opening_copy_from`] can open it.
    tables_released: bool,
}

/// A copy of a commitment's prover data for one
/// [`CommitmentScheme::open_copy`]: p3 consumes the data an opening uses, and
/// making this copy is all that [`CommitmentScheme::open`] costs over
/// [`CommitmentScheme::open_consuming`] — so a prover can make it in parallel
/// with other work.
pub struct OpeningCopy {
    commitment: Commitment,
    p3_data: Vec<P3ProverData>,
    tables_released: bool,
}

impl CommittedData {
    /// The copy [`CommitmentScheme::open_copy`] consumes (the stacked tables;
    /// the codeword is shared). Of released data, a copy that no opening
    /// accepts.
    pub fn opening_copy(&self) -> OpeningCopy {
        OpeningCopy {
            commitment: self.meta.commitment.clone(),
            p3_data: self.p3_data.clone(),
            tables_released: self.tables_released,
        }
    }

    /// Frees p3's copies of the committed tables — the stacked table and the
    /// tables it was stacked from, twice the committed size — and keeps the
    /// codeword and Merkle tree. A proving key holds its weights anyway, so
    /// between proofs it need not hold them again as field elements (GPT-2:
    /// 2.1 GB); [`Pcs::opening_copy_from`] rebuilds them for an opening.
    pub fn release_tables(&mut self) {
        let folding = self.meta.params.folding_factor;
        for data in &mut self.p3_data {
            data.layout = placeholder_layout(folding);
        }
        self.tables_released = true;
    }

    /// Whether [`CommittedData::release_tables`] freed the tables.
    pub fn tables_released(&self) -> bool {
        self.tables_released
    }
}

/// The least p3 layout, standing in for released tables (never opened).
fn placeholder_layout(folding: usize) -> Lay {
    let n = folding + MIN_TABLE_VARS;
    let table = Table::new(RowMajorMatrix::new(vec![F::ZERO; 1 << n], 1 << n));
    Lay::from_witness(Lay::new_witness(vec![table], folding))
}

/// Everything of [`CommittedData`] but p3's (large, consumed) prover data.
struct CommittedMeta {
    commitment: Commitment,
    /// The parameters it was committed with.
    params: PcsParams,
    parts: Vec<PartMeta>,
}

/// One WHIR instance of a commitment.
struct PartMeta {
    prover: Whir,
    /// p3's commitment value (the cap holding this part's root).
    p3_root: WhirRoot,
    /// The committed polynomials in this part, ascending.
    polys: Vec<usize>,
    /// How its polynomials are laid out for p3.
    layout: PartLayout,
}

impl CommittedData {
    /// The public commitment this data belongs to.
    pub fn commitment(&self) -> &Commitment {
        &self.meta.commitment
    }

    /// Number of variables of each part's stacked (committed) polynomial.
    pub fn part_num_vars(&self) -> Vec<usize> {
        self.meta
            .parts
            .iter()
            .map(|p| p.prover.num_variables())
            .collect()
    }
}

/// `poly(point) = value` for the polynomial with index `poly` under a commitment.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claim {
    pub poly: usize,
    pub point: Vec<EF>,
    pub value: EF,
}

/// An opening proof; serializes to/from bytes for the proof file.
///
/// Stored in its canonical byte encoding: a version byte, the number of parts
/// (one byte), then each as a 4-byte LE length and the postcard encoding of
/// its claim reduction (an option: the sumcheck's rounds and the stacked
/// table's value) and p3's `WhirProof` (field elements are fixed 8-byte LE,
/// digests 32 bytes, lengths varints). [`OpeningProof::from_bytes`]
/// accepts only canonical encodings (decode, re-encode, compare), so a proof
/// has exactly one byte representation.
#[derive(Clone, PartialEq, Eq)]
pub struct OpeningProof {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for OpeningProof {
    /// Size and a short BLAKE3 fingerprint, not the (large) bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use p3_symmetric::CryptographicHasher;
        let digest: [u8; 32] = Blake3 {}.hash_iter(self.bytes.iter().copied());
        write!(
            f,
            "OpeningProof {{ {} bytes, blake3 {:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}… }}",
            self.bytes.len(),
            digest[0],
            digest[1],
            digest[2],
            digest[3],
            digest[4],
            digest[5],
            digest[6],
            digest[7]
        )
    }
}

impl OpeningProof {
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// Never panics on arbitrary bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        decode_parts(bytes)?;
        Ok(Self {
            bytes: bytes.to_vec(),
        })
    }

    /// Serialized size in bytes.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    fn from_parts(proofs: &[PartOpening]) -> Self {
        let mut bytes = vec![PROOF_FORMAT_VERSION];
        bytes.push(u8::try_from(proofs.len()).expect("at most two parts"));
        for proof in proofs {
            let body =
                postcard::to_allocvec(proof).expect("serializing an opening part cannot fail");
            let len = u32::try_from(body.len()).expect("a WHIR proof is far below 4 GiB");
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&body);
        }
        Self { bytes }
    }
}

/// One part's opening: the claim reduction (when the part has two or more
/// claims) and p3's WHIR proof of the claim left.
#[derive(Serialize, Deserialize)]
struct PartOpening {
    reduction: Option<Reduction>,
    whir: P3WhirProof,
}

/// Decodes and checks canonicity; never panics.
fn decode_parts(bytes: &[u8]) -> Result<Vec<PartOpening>, VerifyError> {
    let malformed = |e: String| VerifyError::Malformed(format!("opening proof: {e}"));
    let (&version, rest) = bytes
        .split_first()
        .ok_or_else(|| VerifyError::Malformed("empty opening proof".into()))?;
    if version != PROOF_FORMAT_VERSION {
        return Err(VerifyError::Malformed(format!(
            "unknown opening proof version {version}"
        )));
    }
    let (&count, mut rest) = rest
        .split_first()
        .ok_or_else(|| malformed("no WHIR proof count".into()))?;
    let mut proofs = Vec::with_capacity(count as usize);
    for part in 0..count {
        let (len, after) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| malformed(format!("part {part}: truncated length")))?;
        let len = u32::from_le_bytes(*len) as usize;
        if after.len() < len {
            return Err(malformed(format!(
                "part {part}: {len} bytes announced, {} left",
                after.len()
            )));
        }
        let (body, after) = after.split_at(len);
        let (proof, trailing): (PartOpening, &[u8]) =
            postcard::take_from_bytes(body).map_err(|e| malformed(format!("part {part}: {e}")))?;
        if !trailing.is_empty() {
            return Err(malformed(format!(
                "part {part}: {} trailing bytes",
                trailing.len()
            )));
        }
        let canonical =
            postcard::to_allocvec(&proof).map_err(|e| malformed(format!("part {part}: {e}")))?;
        if canonical != body {
            return Err(malformed(format!("part {part}: non-canonical encoding")));
        }
        proofs.push(proof);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(malformed(format!("{} trailing bytes", rest.len())));
    }
    Ok(proofs)
}

pub struct Pcs {
    pub params: PcsParams,
}

/// Variables of the stacked polynomial that commits to polynomials of
/// `poly_num_vars` variables in one part (`None` on overflow).
pub fn stacked_num_vars(params: &PcsParams, poly_num_vars: &[usize]) -> Option<usize> {
    let all: Vec<usize> = (0..poly_num_vars.len()).collect();
    PartLayout::new(params, &all, poly_num_vars).map(|l| l.num_vars())
}

/// Whether an opening of `num_claims` claims on a stack of `2^num_vars`
/// entries is faster with [`PcsParams::reduce_claims`]: from
/// `2^(num_vars − 14)` claims (p3's fixed work per claim, ≈ 0.4 ms, against
/// our reduction's pass over the stack, ≈ 30 ns an entry).
pub fn claims_worth_reducing(num_claims: usize, num_vars: usize) -> bool {
    num_claims >= 2 && (num_claims as u128) << 14 >= 1u128 << num_vars.min(120)
}

/// Absorbs the claims (count, then poly index, point and value of each).
fn absorb_claims(transcript: &mut Transcript, claims: &[Claim]) {
    transcript.label(b"pcs-open");
    transcript.absorb_u64(claims.len() as u64);
    for c in claims {
        transcript.absorb_u64(c.poly as u64);
        transcript.absorb_efs(&c.point);
        transcript.absorb_ef(c.value);
    }
}

/// Checks claims against a commitment layout.
fn check_claims(poly_num_vars: &[usize], claims: &[Claim]) -> Result<(), String> {
    for (i, c) in claims.iter().enumerate() {
        let Some(&n) = poly_num_vars.get(c.poly) else {
            return Err(format!(
                "claim {i} names polynomial {} of {}",
                c.poly,
                poly_num_vars.len()
            ));
        };
        if c.point.len() != n {
            return Err(format!(
                "claim {i}: point has {} coordinates, polynomial {} has {n} variables",
                c.point.len(),
                c.poly
            ));
        }
    }
    Ok(())
}

fn log2_len(len: usize) -> usize {
    len.max(1).next_power_of_two().trailing_zeros() as usize
}

/// Released tables cannot be opened: p3 would open its placeholder.
fn check_tables(released: bool) -> Result<(), PcsError> {
    if released {
        return Err(PcsError::Data(
            "the committed tables were released: rebuild them (`opening_copy_from`)".into(),
        ));
    }
    Ok(())
}

impl Pcs {
    pub fn new(params: PcsParams) -> Self {
        Self { params }
    }

    /// An opening copy of `data` with its tables rebuilt from the committed
    /// polynomials, which `polys` yields in order (one at a time, so a caller
    /// holding them in another form never holds all of them twice). An
    /// opening of other polynomials than the committed ones is rejected by
    /// the verifier: the codeword is the commitment's.
    pub fn opening_copy_from(
        &self,
        data: &CommittedData,
        polys: &mut dyn Iterator<Item = Vec<F>>,
    ) -> Result<OpeningCopy, PcsError> {
        let num_vars = &data.meta.commitment.poly_num_vars;
        // Where each polynomial goes: its part and its place in the part.
        let mut place = vec![(0, 0); num_vars.len()];
        for (k, part) in data.meta.parts.iter().enumerate() {
            for (j, &i) in part.polys.iter().enumerate() {
                place[i] = (k, j);
            }
        }
        // Per part: the stacked table being filled, or each padded table.
        let mut fills: Vec<Vec<Vec<F>>> = data
            .meta
            .parts
            .iter()
            .map(|part| match &part.layout {
                PartLayout::Stacked(stack) => vec![vec![F::ZERO; 1 << stack.num_vars]],
                PartLayout::Tables(tv) => tv.iter().map(|_| Vec::new()).collect(),
            })
            .collect();
        let mut count = 0;
        for (i, poly) in polys.enumerate() {
            let Some(&n) = num_vars.get(i) else {
                return Err(PcsError::Data("more polynomials than committed".into()));
            };
            if poly.len() > 1 << n {
                return Err(PcsError::Data(format!(
                    "polynomial {i} is longer than committed"
                )));
            }
            let (k, j) = place[i];
            match &data.meta.parts[k].layout {
                PartLayout::Stacked(stack) => {
                    let at = stack.offsets[j];
                    fills[k][0][at..at + poly.len()].copy_from_slice(&poly);
                }
                PartLayout::Tables(tv) => {
                    let mut v = poly;
                    v.resize(1 << tv[j], F::ZERO);
                    fills[k][j] = v;
                }
            }
            count += 1;
        }
        if count != num_vars.len() {
            return Err(PcsError::Data("fewer polynomials than committed".into()));
        }
        let mut p3_data = data.p3_data.clone();
        let folding = self.params.folding_factor;
        for (d, (part, tables)) in p3_data.iter_mut().zip(data.meta.parts.iter().zip(fills)) {
            let tables: Vec<Table<F>> = tables
                .into_iter()
                .map(|v| {
                    let width = v.len();
                    Table::new(RowMajorMatrix::new(v, width))
                })
                .collect();
            let witness = Lay::new_witness(tables, folding);
            debug_assert_eq!(witness.num_variables(), part.prover.num_variables());
            d.layout = Lay::from_witness(witness);
        }
        Ok(OpeningCopy {
            commitment: data.meta.commitment.clone(),
            p3_data,
            tables_released: false,
        })
    }

    /// Opens `data`, whose tables were released, at `claims`, rebuilding
    /// them from `polys` (the committed polynomials, consumed) one part at a
    /// time. The transcript is [`CommitmentScheme::open`]'s. A stacked part's
    /// claim reduction runs on a stack built for it and consumed by its
    /// sumcheck before p3's two copies of the part exist, so the reduction's
    /// tables and p3's never coexist (GPT-2's activations: 1.1 GB less at
    /// the opening than [`Pcs::opening_copy_from`] + `open_copy`).
    pub fn open_released(
        &self,
        data: &CommittedData,
        polys: Vec<Vec<F>>,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<OpeningProof, PcsError> {
        let meta = &data.meta;
        let num_vars = &meta.commitment.poly_num_vars;
        if polys.len() != num_vars.len() {
            return Err(PcsError::Data(format!(
                "{} polynomials given, {} committed",
                polys.len(),
                num_vars.len()
            )));
        }
        if let Some(i) = (0..polys.len()).find(|&i| polys[i].len() > 1 << num_vars[i]) {
            return Err(PcsError::Data(format!(
                "polynomial {i} is longer than committed"
            )));
        }
        if self.params != meta.params {
            return Err(PcsError::Data(
                "open with other parameters than the commitment's".into(),
            ));
        }
        check_claims(num_vars, claims).map_err(PcsError::Claims)?;
        absorb_claims(transcript, claims);

        let mut polys: Vec<Option<Vec<F>>> = polys.into_iter().map(Some).collect();
        let folding = self.params.folding_factor;
        let mut proofs = Vec::with_capacity(meta.parts.len());
        for (part, p3_data) in meta.parts.iter().zip(&data.p3_data) {
            let local = part_claims(&part.polys, claims);
            let (reduction, whir_claims) = match &part.layout {
                PartLayout::Tables(tv) => (None, PartLayout::table_claims(tv, &local)),
                PartLayout::Stacked(stack) => {
                    let stacked = PartLayout::stack_claims(stack, &local);
                    if stacked.len() >= 2 {
                        let refs: Vec<&[F]> = part
                            .polys
                            .iter()
                            .map(|&i| polys[i].as_deref().unwrap_or_default())
                            .collect();
                        let table = stack.fill(&refs);
                        let (reduction, claim) = reduce::prove_owned(table, &stacked, transcript);
                        (
                            Some(reduction),
                            PartLayout::stacked_claims(stack.num_vars, vec![claim]),
                        )
                    } else {
                        (None, PartLayout::stacked_claims(stack.num_vars, stacked))
                    }
                }
            };
            // This part's polynomials are not needed after its tables exist.
            let own: Vec<Vec<F>> = part
                .polys
                .iter()
                .map(|&i| polys[i].take().unwrap_or_default())
                .collect();
            let refs: Vec<&[F]> = own.iter().map(Vec::as_slice).collect();
            let tables = part.layout.tables(&refs);
            drop(refs);
            drop(own);
            let mut p3_data = p3_data.clone();
            p3_data.layout = Lay::from_witness(Lay::new_witness(tables, folding));
            proofs.push(open_part(
                part,
                p3_data,
                reduction,
                &whir_claims,
                transcript,
            )?);
        }
        Ok(OpeningProof::from_parts(&proofs))
    }

    /// The parts of a commitment to polynomials with these tables.
    fn partition(&self, poly_num_vars: &[usize]) -> Result<Vec<Vec<usize>>, PcsError> {
        parts::partition(&self.params, &layout_vars(&self.params, poly_num_vars))
            .ok_or_else(|| PcsError::Size("committed size overflows".into()))
    }

    /// The layout of one part (the polynomials `polys` of a commitment to
    /// polynomials of `poly_num_vars` variables).
    fn part_layout(
        &self,
        polys: &[usize],
        poly_num_vars: &[usize],
    ) -> Result<PartLayout, PcsError> {
        PartLayout::new(&self.params, polys, poly_num_vars)
            .ok_or_else(|| PcsError::Size("committed size overflows".into()))
    }

    /// The configured WHIR instance for one of `num_parts` parts with a stack
    /// of `stacked` variables.
    fn part_whir(&self, num_parts: usize, stacked: usize) -> Result<Whir, PcsError> {
        if stacked >= 64 {
            return Err(PcsError::Size("committed size overflows".into()));
        }
        let params = parts::part_params(&self.params, num_parts, stacked);
        let config = params.whir_config(stacked)?;
        Ok(Whir::new(config, Dft::default(), mmcs()))
    }

    fn open_with(
        &self,
        meta: &CommittedMeta,
        p3_data: Vec<P3ProverData>,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<OpeningProof, PcsError> {
        if self.params != meta.params {
            return Err(PcsError::Data(
                "open with other parameters than the commitment's".into(),
            ));
        }
        check_claims(&meta.commitment.poly_num_vars, claims).map_err(PcsError::Claims)?;
        absorb_claims(transcript, claims);

        let mut proofs = Vec::with_capacity(meta.parts.len());
        for (part, data) in meta.parts.iter().zip(p3_data) {
            let local = part_claims(&part.polys, claims);
            let (reduction, whir_claims) = match &part.layout {
                PartLayout::Tables(tv) => (None, PartLayout::table_claims(tv, &local)),
                PartLayout::Stacked(stack) => {
                    let stacked = PartLayout::stack_claims(stack, &local);
                    if stacked.len() >= 2 {
                        let table =
                            data.table(0).iter_polys().next().ok_or_else(|| {
                                PcsError::Data("the stacked table is missing".into())
                            })?;
                        let (reduction, claim) = reduce::prove(table, &stacked, transcript);
                        (
                            Some(reduction),
                            PartLayout::stacked_claims(stack.num_vars, vec![claim]),
                        )
                    } else {
                        (None, PartLayout::stacked_claims(stack.num_vars, stacked))
                    }
                }
            };
            proofs.push(open_part(part, data, reduction, &whir_claims, transcript)?);
        }
        Ok(OpeningProof::from_parts(&proofs))
    }
}

/// p3's WHIR opening of one part at its (reduced) claims.
fn open_part(
    part: &PartMeta,
    data: P3ProverData,
    reduction: Option<Reduction>,
    whir_claims: &WhirClaims,
    transcript: &mut Transcript,
) -> Result<PartOpening, PcsError> {
    let challenger = transcript.challenger();
    part.prover.observe_commitment(&part.p3_root, challenger);
    let pcs_proof = part
        .prover
        .open_at(data, &whir_claims.protocol, &whir_claims.points, challenger)
        .map_err(|e| PcsError::Opening(format!("WHIR opening: {e}")))?;
    debug_assert!(
        whir_claims
            .values
            .iter()
            .zip(&pcs_proof.evals)
            .all(|(v, e)| e.current() == &[*v][..]),
        "a claimed value is not the committed polynomial's evaluation"
    );
    Ok(PartOpening {
        reduction,
        whir: pcs_proof.whir,
    })
}

impl CommitmentScheme for Pcs {
    const HIDING: bool = false;
    type Commitment = Commitment;
    type ProverData = CommittedData;
    type OpeningCopy = OpeningCopy;
    type Opening = OpeningProof;
    type Error = PcsError;

    /// Commits to `polys` (each zero-padded to a power of two). An empty list
    /// gives the empty commitment (no part, no root). Fails if the parameters
    /// are not a valid WHIR configuration for the stacked size.
    fn commit(&self, polys: &[Vec<F>]) -> Result<(Commitment, CommittedData), PcsError> {
        // Checked before the tables are sized from `folding_factor`.
        self.params.check()?;
        let poly_num_vars: Vec<usize> = polys.iter().map(|p| log2_len(p.len())).collect();
        let partition = self.partition(&poly_num_vars)?;
        let num_parts = partition.len();
        let mut parts = Vec::with_capacity(num_parts);
        let mut p3_data = Vec::with_capacity(num_parts);
        let mut roots = Vec::with_capacity(num_parts);
        for polys_in_part in partition {
            let layout = self.part_layout(&polys_in_part, &poly_num_vars)?;
            let prover = self.part_whir(num_parts, layout.num_vars())?;
            let part_polys: Vec<&[F]> =
                polys_in_part.iter().map(|&i| polys[i].as_slice()).collect();
            let witness = Lay::new_witness(layout.tables(&part_polys), self.params.folding_factor);
            debug_assert_eq!(witness.num_variables(), prover.num_variables());

            // p3 absorbs the root into the challenger it is given: hand it a
            // scratch one. The caller binds the roots via `Commitment::absorb_into`.
            let mut scratch = Transcript::new(b"zkinfer-pcs-commit-scratch");
            let (p3_root, data) = prover
                .commit(witness, scratch.challenger())
                .map_err(|e| PcsError::Params(format!("WHIR commit: {e}")))?;
            let root = single_root(&p3_root)
                .ok_or_else(|| PcsError::Params("WHIR commitment is not a single root".into()))?;
            roots.push(root);
            p3_data.push(data);
            parts.push(PartMeta {
                prover,
                p3_root,
                polys: polys_in_part,
                layout,
            });
        }
        let commitment = Commitment {
            roots,
            poly_num_vars,
        };
        let data = CommittedData {
            meta: CommittedMeta {
                commitment: commitment.clone(),
                params: self.params.clone(),
                parts,
            },
            p3_data,
            tables_released: false,
        };
        Ok((commitment, data))
    }

    fn absorb_commitment(&self, commitment: &Commitment, transcript: &mut Transcript) {
        commitment.absorb_into(transcript);
    }

    /// The stacked tables (the codeword and Merkle tree are shared).
    fn opening_copy(&self, data: &CommittedData) -> OpeningCopy {
        data.opening_copy()
    }

    /// Copies the stacked tables (p3 consumes them; the codeword is shared):
    /// ≈ 0.33 s at 2^25 on this machine. For a last (or only) use of `data`,
    /// prefer [`CommitmentScheme::open_consuming`], which skips the copy.
    ///
    /// Fails if a claim names a polynomial that is not committed or has a
    /// point of the wrong arity, or if there are more claims than the
    /// parameters' batching budget allows (p3 refuses to batch so many that
    /// the random combination drops below `security_level`: ~2^16 claims by
    /// default).
    fn open(
        &self,
        data: &CommittedData,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<OpeningProof, PcsError> {
        check_tables(data.tables_released)?;
        self.open_with(&data.meta, data.p3_data.clone(), claims, transcript)
    }

    /// Fails as [`CommitmentScheme::open`]; also if `copy` was made from
    /// other data.
    fn open_copy(
        &self,
        data: &CommittedData,
        copy: OpeningCopy,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<OpeningProof, PcsError> {
        if copy.commitment != data.meta.commitment {
            return Err(PcsError::Data(
                "opening copy made from other commitment data".into(),
            ));
        }
        check_tables(copy.tables_released)?;
        self.open_with(&data.meta, copy.p3_data, claims, transcript)
    }

    fn open_consuming(
        &self,
        data: CommittedData,
        claims: &[Claim],
        transcript: &mut Transcript,
    ) -> Result<OpeningProof, PcsError> {
        check_tables(data.tables_released)?;
        self.open_with(&data.meta, data.p3_data, claims, transcript)
    }

    fn verify(
        &self,
        commitment: &Commitment,
        claims: &[Claim],
        proof: &OpeningProof,
        transcript: &mut Transcript,
    ) -> Result<(), VerifyError> {
        let opening = |e: String| VerifyError::Opening(e);
        let pcs = |e: PcsError| VerifyError::Opening(e.to_string());
        // An empty commitment has no part: it must have no root, the opening
        // no WHIR proof, and `check_claims` admits no claim on it.
        check_claims(&commitment.poly_num_vars, claims).map_err(opening)?;
        self.params.check().map_err(pcs)?;
        let partition = self.partition(&commitment.poly_num_vars).map_err(pcs)?;
        if commitment.roots.len() != partition.len() {
            return Err(opening(format!(
                "commitment has {} roots, its layout {} parts",
                commitment.roots.len(),
                partition.len()
            )));
        }
        let part_proofs = decode_parts(&proof.bytes)?;
        if part_proofs.len() != partition.len() {
            return Err(VerifyError::Malformed(format!(
                "opening proof has {} WHIR proofs, the commitment {} parts",
                part_proofs.len(),
                partition.len()
            )));
        }

        absorb_claims(transcript, claims);
        for (((polys, root), part_proof), part) in partition
            .iter()
            .zip(&commitment.roots)
            .zip(part_proofs)
            .zip(0..)
        {
            let layout = self
                .part_layout(polys, &commitment.poly_num_vars)
                .map_err(pcs)?;
            let whir = self
                .part_whir(partition.len(), layout.num_vars())
                .map_err(pcs)?;
            let local = part_claims(polys, claims);
            let whir_claims = match (&layout, &part_proof.reduction) {
                (PartLayout::Tables(tv), None) => PartLayout::table_claims(tv, &local),
                (PartLayout::Stacked(stack), reduction) => {
                    let stacked = PartLayout::stack_claims(stack, &local);
                    let to_open = match (stacked.len() >= 2, reduction) {
                        (true, Some(reduction)) => {
                            vec![reduce::verify(
                                stack.num_vars,
                                &stacked,
                                reduction,
                                transcript,
                            )?]
                        }
                        (false, None) => stacked,
                        (true, None) => {
                            return Err(VerifyError::Malformed(format!(
                                "opening part {part}: the claim reduction is missing"
                            )))
                        }
                        (false, Some(_)) => {
                            return Err(VerifyError::Malformed(format!(
                                "opening part {part}: a claim reduction where none is due"
                            )))
                        }
                    };
                    PartLayout::stacked_claims(stack.num_vars, to_open)
                }
                (PartLayout::Tables(_), Some(_)) => {
                    return Err(VerifyError::Malformed(format!(
                        "opening part {part}: a claim reduction where none is due"
                    )))
                }
            };
            // The opened values are the claimed ones: p3 checks them.
            let evals = whir_claims
                .values
                .iter()
                .map(|v| OpeningBatch::new(vec![*v], Vec::new()))
                .collect();
            let pcs_proof = PcsProof {
                whir: part_proof.whir,
                evals,
            };
            let root = WhirRoot::new(vec![*root]);
            let challenger = transcript.challenger();
            whir.observe_commitment(&root, challenger);
            whir.verify_at(
                &root,
                &pcs_proof,
                &whir_claims.protocol,
                &whir_claims.points,
                challenger,
            )
            .map_err(|e| opening(format!("WHIR (part {part}): {e}")))?;
        }
        Ok(())
    }
}

/// The claims on one part's polynomials, renumbered to their index within
/// the part (claims keep their relative order).
fn part_claims(polys: &[usize], claims: &[Claim]) -> Vec<Claim> {
    claims
        .iter()
        .filter_map(|c| {
            polys.binary_search(&c.poly).ok().map(|local| Claim {
                poly: local,
                point: c.point.clone(),
                value: c.value,
            })
        })
        .collect()
}

fn mmcs() -> Mmcs {
    SharedMmcs(MerkleTreeMmcs::new(
        SerializingHasher::new(Blake3 {}),
        CompressionFunctionFromHasher::new(Blake3 {}),
        0,
    ))
}

fn single_root(root: &WhirRoot) -> Option<[u8; 32]> {
    match root.roots() {
        [r] => Some(*r),
        _ => None,
    }
}

/// Soundness of an opening of `num_claims` claims on a stacked polynomial of
/// `num_vars` variables, as p3-whir computes it (`prescribed_security`):
/// `(bits, log2 of the candidate list size)`. `None` if the parameters are
/// not a valid configuration or the claim count exceeds the batching budget.
///
/// The candidate-list size matters to the caller: any reduction the outer
/// protocol draws after the commitment (our sumchecks choosing the opening
/// points) must be charged over that many candidate polynomials.
pub fn prescribed_security(
    params: &PcsParams,
    num_vars: usize,
    num_claims: usize,
) -> Option<(f64, f64)> {
    let config = params.whir_config(num_vars).ok()?;
    let whir = Whir::new(config, Dft::default(), mmcs());
    let protocol = OpeningProtocol::new(vec![TableSpec::new(
        TableShape::new(num_vars, 1),
        vec![OpeningBatch::new(vec![0], Vec::new()); num_claims.max(1)],
    )]);
    let sec = whir.prescribed_security(&protocol)?;
    Some((sec.error().bits(), sec.log2_max_candidates))
}

/// Stacked variable count of each part of a commitment to polynomials of
/// `poly_num_vars` variables (`None` on overflow).
pub fn part_num_vars(params: &PcsParams, poly_num_vars: &[usize]) -> Option<Vec<usize>> {
    parts::partition(params, &layout_vars(params, poly_num_vars))?
        .iter()
        .map(|polys| PartLayout::new(params, polys, poly_num_vars).map(|l| l.num_vars()))
        .collect()
}

/// [`prescribed_security`] of a whole commitment's opening: every part's
/// opening charged with all `num_claims` claims, errors added (union bound),
/// candidate lists multiplied. `None` as [`prescribed_security`], or on overflow.
pub fn commitment_security(
    params: &PcsParams,
    poly_num_vars: &[usize],
    num_claims: usize,
) -> Option<(f64, f64)> {
    let vars = part_num_vars(params, poly_num_vars)?;
    let mut bits = Vec::with_capacity(vars.len());
    let mut list = 0.0;
    for &n in &vars {
        // Charged as if WHIR batched all claims (a part that reduces its
        // claims opens one: no more error), plus the claim reduction
        // (`reduce.rs`) over the part's candidate list where it may run.
        let (b, l) =
            prescribed_security(&parts::part_params(params, vars.len(), n), n, num_claims)?;
        bits.push(b);
        if let Some(e) = params
            .reduce_claims
            .then(|| reduce::reduction_error_log2(num_claims, n))
            .flatten()
        {
            bits.push(-(e + l));
        }
        list += l;
    }
    Some((crate::security::combine_bits(&bits), list))
}

#[cfg(test)]
mod tests;

mod hiding;
mod part_layout;
mod parts;
mod reduce;
mod scheme;
mod shared_mmcs;
mod stack;
pub use hiding::{
    hiding_reduction_bits, HidingCommitment, HidingData, HidingOpening, HidingOpeningCopy,
    HidingParams, HidingPcs,
};
pub use parts::SPLIT_FROM_VARS;
pub use scheme::{CommitmentScheme, PcsError};
pub use stack::index_bits;

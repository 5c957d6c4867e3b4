//! Setup: commit the model's weights once, giving a proving key (the model
//! plus cached commitment data) and a small verifying key (the model's public
//! identity).
//!
//! The verifying key holds the weight-free model structure (graph, shapes,
//! quantization parameters, lookup tables), the weight commitment, the
//! commitment mode and the weight commitment's parameters. Its BLAKE3 digest
//! is the model id, absorbed first by every proof's transcript. A key is
//! accepted only if its parameters are its mode's for its weights' sizes.

use std::path::Path;

use serde::{Deserialize, Serialize};
use zkinfer_model::accuracy::accuracy_model;
use zkinfer_model::ir::QuantModel;
use zkinfer_model::tied::tie_weights;
use zkinfer_protocol::field::F;
use zkinfer_protocol::pcs::{
    claims_worth_reducing, stacked_num_vars, Claim, Commitment, CommitmentScheme, CommittedData,
    OpeningCopy, OpeningProof, Pcs, PcsParams,
};
use zkinfer_protocol::Transcript;

use crate::error::ProveError;
use crate::layout::Layout;
use crate::security::StatementTerms;

const VK_MAGIC: &[u8; 8] = b"ZKINFVK\0";
const PK_MAGIC: &[u8; 8] = b"ZKINFPK\0";
/// Version of the key file formats (and of the proof statement they bind).
/// 4: a model without weight layers has an empty weight commitment (no root).
/// 5: the commitment mode is a field of the verifying key (so of the model id).
/// 7: the model structure states where each graph input sits in the input.
/// 8: the model structure states which Dense ops share (tied) weights, where
/// each graph output sits in the output (at which scale), and an input
/// segment may be the one-hot rows of token ids (`InputSegment::one_hot`).
/// 9: the commitment parameters state whether claims are reduced before WHIR
/// (`PcsParams::reduce_claims`, a stacked commitment layout).
/// 10: the verifying key states separable Select maps in closed form
/// (`QOp::SelectAxes`).
/// 11: large Dense matrices are committed as blocks of their real entries
/// (`weight_blocks.rs`): the same model commits other polynomials.
/// 12: the verifying key states attention masks' Select maps as row bands
/// (`QOp::SelectBands`).
pub const KEY_FORMAT_VERSION: u32 = 12;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VerifyingKey {
    /// The model without weight values and ONNX bytes.
    pub structure: QuantModel,
    pub weight_commitment: Commitment,
    /// How the weight and activation commitments are made, stated (not
    /// re-derived from the parameters): the activation commitments' parameters
    /// follow from it ([`activation_params`]). Zero-knowledge adds whether
    /// (and with what masking parameters) the commitments hide next to it, a
    /// field of the key and so of the model id, with a new
    /// [`KEY_FORMAT_VERSION`].
    pub mode: CommitmentMode,
    /// Parameters of the weight commitment: exactly
    /// `mode.params_for(weight sizes)` ([`VerifyingKey::check_commitment`]).
    pub pcs_params: PcsParams,
}

impl VerifyingKey {
    /// The model's public identity: BLAKE3 over the canonical vk encoding.
    /// A symbolic batch axis is no part of it (one model, any sample count;
    /// each statement binds its own count, `statement.rs`).
    pub fn model_id(&self) -> [u8; 32] {
        if self.structure.dynamic_batch && self.structure.batch != 1 {
            let mut one = self.clone();
            one.structure.batch = 1;
            return one.model_id();
        }
        blake3_of_encoding(self)
    }

    /// The key for statements of `batch` samples (a symbolic batch axis
    /// takes any count; the weight commitment does not depend on it).
    pub fn for_batch(&self, batch: usize) -> Result<VerifyingKey, ProveError> {
        let structure = self
            .structure
            .with_batch(batch)
            .map_err(|e| ProveError::Model(e.to_string()))?;
        Ok(VerifyingKey {
            structure,
            ..self.clone()
        })
    }

    /// The key of the accuracy statement on this key's samples
    /// ([`zkinfer_model::accuracy`]): the same weight commitment under a
    /// model with a weightless verdict head, so its own model id.
    pub fn for_accuracy(&self) -> Result<VerifyingKey, ProveError> {
        let model =
            accuracy_model(&self.structure).map_err(|e| ProveError::Model(e.to_string()))?;
        let vk = VerifyingKey {
            structure: model,
            ..self.clone()
        };
        vk.check_commitment(&Layout::new(&vk.structure)?)?;
        Ok(vk)
    }

    pub fn model_id_hex(&self) -> String {
        hex(&self.model_id())
    }

    fn encode_body(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("in-memory encoding cannot fail")
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        framed(VK_MAGIC, &self.encode_body())
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProveError> {
        let body = unframe(VK_MAGIC, bytes, "verifying key")?;
        let vk: Self = postcard::from_bytes(body)
            .map_err(|e| ProveError::Key(format!("verifying key is corrupt: {e}")))?;
        let layout = Layout::new(&vk.structure)?;
        vk.check_commitment(&layout)?;
        Ok(vk)
    }

    /// Checks the weight commitment's parameters are valid and are the
    /// mode's for the model's weight sizes, and the commitment has the model's
    /// layout. A key that fails this is rejected by loading and by `verify`.
    pub fn check_commitment(&self, layout: &Layout) -> Result<(), ProveError> {
        check_mode_params(self.mode, &self.pcs_params, &layout.weight_num_vars)?;
        if self.weight_commitment.poly_num_vars != layout.weight_num_vars {
            return Err(ProveError::Key(
                "verifying key is inconsistent: the weight commitment does not match the model"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// `params` must be valid and exactly `mode`'s for weights of these sizes.
fn check_mode_params(
    mode: CommitmentMode,
    params: &PcsParams,
    weight_num_vars: &[usize],
) -> Result<(), ProveError> {
    params.check().map_err(|e| {
        ProveError::Key(format!(
            "the key's weight commitment parameters are unusable: {e}"
        ))
    })?;
    let expected = mode.params_for(weight_num_vars);
    if *params != expected {
        return Err(ProveError::Key(format!(
            "the key is inconsistent: its weight commitment parameters {params:?} are not the {mode} mode's for its weights ({expected:?})"
        )));
    }
    Ok(())
}

/// Everything the prover needs; weights stay here, never in the verifying key.
pub struct ProvingKey {
    pub model: QuantModel,
    pub vk: VerifyingKey,
    pub layout: Layout,
    /// The weight commitment's codeword and tree, its tables released
    /// ([`CommittedData::release_tables`]): the weights are in `model`.
    pub(crate) weight_data: Option<CommittedData>,
    pub(crate) pcs: Pcs,
}

#[derive(Serialize, Deserialize)]
struct PkFile {
    model: QuantModel,
    weight_commitment: Commitment,
    mode: CommitmentMode,
    pcs_params: PcsParams,
}

/// What a verifier may know of a model: its weight values and ONNX bytes
/// stripped, and every separable Select map stated in closed form
/// (`QOp::SelectAxes`), every attention mask as row bands
/// (`QOp::SelectBands`), each checked element by element against the list
/// it replaces (GPT-2's key: 6.9 MB with every map listed, 2.0 MB so; all
/// its Selects verify per axis). The form only restates the map: the key,
/// so the model id, still binds every element's source.
fn model_structure(model: &QuantModel, layout: &Layout) -> QuantModel {
    let mut s = model.clone();
    s.onnx = Vec::new();
    for op in &mut s.ops {
        op.strip_weights();
        if let Some(closed) = crate::ops::select_in_closed_form(op, layout) {
            *op = closed;
        }
    }
    s
}

/// The polynomials under the weight commitment, in layout order: each op
/// lays out its own (and fails if the model has no weights for it).
fn weight_polys(model: &QuantModel, layout: &Layout) -> Result<Vec<Vec<F>>, ProveError> {
    let mut polys = Vec::with_capacity(layout.weight_num_vars.len());
    for op in &layout.ops {
        polys.extend(op.weight_polys(model, layout)?);
    }
    Ok(polys)
}

fn build_pk(
    mut model: QuantModel,
    mode: CommitmentMode,
    params: PcsParams,
    expected: Option<&Commitment>,
) -> Result<ProvingKey, ProveError> {
    // The original ONNX bytes serve float reports from the `.zkm`; a key
    // never reads them (GPT-2: 650 MB of memory and key file).
    model.onnx = Vec::new();
    // The requantization argument's no-wrap bounds (|x·m| + 2^s < 2^62) and
    // every static tensor bound the proofs rely on.
    model
        .validate()
        .map_err(|e| ProveError::Model(e.to_string()))?;
    let layout = Layout::new(&model)?;
    check_mode_params(mode, &params, &layout.weight_num_vars)?;
    // A model without a weight layer commits to nothing: an empty commitment.
    let polys = weight_polys(&model, &layout)?;
    let pcs = Pcs::new(params.clone());
    let (weight_commitment, mut weight_data) = pcs.commit(&polys)?;
    drop(polys);
    weight_data.release_tables();
    if let Some(exp) = expected {
        if exp != &weight_commitment {
            return Err(ProveError::Key(
                "proving key is corrupt: its weights do not match its commitment".into(),
            ));
        }
    }
    let vk = VerifyingKey {
        structure: model_structure(&model, &layout),
        weight_commitment,
        mode,
        pcs_params: params,
    };
    Ok(ProvingKey {
        model,
        vk,
        layout,
        weight_data: Some(weight_data),
        pcs,
    })
}

/// How the commitments trade proof size against prover time. Both keep the
/// same computed security; the choice is fixed at setup (it is a field of the
/// verifying key, so part of the model id) and applies to the weight and
/// activation commitments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommitmentMode {
    /// Reed–Solomon rate 1/2; folding 5 from 2^18 stacked elements up (openings
    /// about twice as fast for 15–35 % more proof), 4 below; activation
    /// commitments up to 2^17 at rate 1/4; a commitment that would be mostly
    /// padding is split into two WHIR instances (`split_padding`).
    #[default]
    Fast,
    /// Rate 1/4, folding 4: about a third smaller proofs; commits and large
    /// openings take up to three times as long.
    Compact,
}

/// Stacked size from which the fast mode folds 5 variables per round.
/// From 2^18 up, folding 5 opens in about half the time of folding 4 for
/// +15–35 % proof size (`size_probe`, BENCHMARKS.md); the compact mode is the
/// one that minimises size.
const FAST_FOLD5_FROM_VARS: usize = 18;

impl std::fmt::Display for CommitmentMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fast => "fast",
            Self::Compact => "compact",
        })
    }
}

impl CommitmentMode {
    /// Every mode.
    pub const ALL: [Self; 2] = [Self::Fast, Self::Compact];

    /// The mode's parameters for a commitment to polynomials of these sizes.
    /// Claims are reduced before WHIR (`reduce_claims`) when the polynomials
    /// are many for the stack's size: the weights' claims (about one per
    /// polynomial) are not known at setup, and the weight commitment must
    /// serve statements of any batch size.
    pub fn params_for(self, poly_num_vars: &[usize]) -> PcsParams {
        with_claim_reduction(
            self.params_for_size(poly_num_vars),
            poly_num_vars,
            poly_num_vars.len(),
        )
    }

    fn params_for_size(self, poly_num_vars: &[usize]) -> PcsParams {
        match self {
            Self::Compact => PcsParams::for_polys_with(poly_num_vars, 2, 4),
            Self::Fast => {
                let p = PcsParams::for_polys_with(poly_num_vars, 1, 4);
                let big =
                    stacked_num_vars(&p, poly_num_vars).is_some_and(|n| n >= FAST_FOLD5_FROM_VARS);
                let p = if big {
                    PcsParams::for_polys_with(poly_num_vars, 1, 5)
                } else {
                    p
                };
                PcsParams {
                    split_padding: true,
                    ..p
                }
            }
        }
    }
}

/// `params` with `reduce_claims` set when an opening of `num_claims` claims
/// on these polynomials is faster reduced ([`claims_worth_reducing`]).
fn with_claim_reduction(
    params: PcsParams,
    poly_num_vars: &[usize],
    num_claims: usize,
) -> PcsParams {
    let stacked = PcsParams {
        reduce_claims: true,
        ..params.clone()
    };
    let reduce = stacked_num_vars(&stacked, poly_num_vars)
        .is_some_and(|n| claims_worth_reducing(num_claims, n));
    PcsParams {
        reduce_claims: reduce,
        ..params
    }
}

/// Commits the model's weights: returns the proving key (its `vk` field is
/// the verifying key). `params: None` picks the default
/// [`CommitmentMode`]'s parameters for the weights' size; `Some` must be
/// one mode's parameters for them (the key records that mode), else an error.
pub fn setup(mut model: QuantModel, params: Option<PcsParams>) -> Result<ProvingKey, ProveError> {
    tie_weights(&mut model);
    let Some(params) = params else {
        return setup_with_mode(model, CommitmentMode::default());
    };
    params.check()?;
    let nvs = Layout::new(&model)?.weight_num_vars;
    let Some(mode) = CommitmentMode::ALL
        .into_iter()
        .find(|m| m.params_for(&nvs) == params)
    else {
        return Err(ProveError::Key(format!(
            "commitment parameters {params:?} are not those of any commitment mode for this model's weights"
        )));
    };
    build_pk(model, mode, params, None)
}

/// [`setup`] with the parameters of `mode` for the weights' size.
/// Weights two Dense ops share are committed once ([`zkinfer_model::tied`]).
pub fn setup_with_mode(
    mut model: QuantModel,
    mode: CommitmentMode,
) -> Result<ProvingKey, ProveError> {
    tie_weights(&mut model);
    let params = mode.params_for(&Layout::new(&model)?.weight_num_vars);
    build_pk(model, mode, params, None)
}

/// The computed soundness every proof is held to.
pub const TARGET_BITS: f64 = 100.0;

/// Activation commitments up to this stacked size use rate 1/4 in the fast
/// mode too: they open in milliseconds at either rate, and rate 1/4 makes the
/// opening about a third smaller.
const FAST_ACTIVATION_RATE4_UP_TO_VARS: usize = 17;

/// The activation commitment's parameters: the weight commitment's mode
/// applied to the activations' size (both sides derive it).
pub fn activation_params(vk: &VerifyingKey, layout: &Layout) -> PcsParams {
    activation_params_for(vk, layout, &StatementTerms::new(vk, layout))
}

/// [`activation_params`] from the statement's terms, computed once by a
/// caller that also reports its soundness.
pub(crate) fn activation_params_for(
    vk: &VerifyingKey,
    layout: &Layout,
    terms: &StatementTerms,
) -> PcsParams {
    let nvs = &layout.activation_num_vars;
    // The statement's claim count is known here (unlike the weights'):
    // it decides the claim reduction.
    let num_claims = terms.n_act_claims;
    let params_of =
        |mode: CommitmentMode| with_claim_reduction(mode.params_for_size(nvs), nvs, num_claims);
    let below_target = |p: &PcsParams| terms.report(vk, layout, p).total_bits < TARGET_BITS;
    let p = match vk.mode {
        CommitmentMode::Fast => {
            let p = params_of(CommitmentMode::Fast);
            let small =
                stacked_num_vars(&p, nvs).is_some_and(|n| n <= FAST_ACTIVATION_RATE4_UP_TO_VARS);
            // Rate 1/2's larger candidate lists cost the lookups and layer
            // reductions bits: where the proof would fall below the target,
            // the activations take rate 1/4.
            if small || below_target(&p) {
                params_of(CommitmentMode::Compact)
            } else {
                p
            }
        }
        CommitmentMode::Compact => params_of(CommitmentMode::Compact),
    };
    if !below_target(&p) {
        return p;
    }
    // Still below (GPT-2's ~2^26 looked-up rows): unique decoding, whose
    // list of one candidate costs the outer checks nothing — at the mode's
    // own rate where that reaches the target (GPT-2: rate 1/2 halves the
    // codeword, 2 GB less memory and a faster commit, for ≈ 5 % more proof
    // than rate 1/4), else at rate 1/4. Statements this large grind the
    // default budget in negligible time next to their commit, and it saves
    // ≈ 12 % of the queries (proof and verify) over the least grinding.
    let unique = |p: PcsParams| {
        let n = stacked_num_vars(&p, nvs).unwrap_or(0);
        let q = PcsParams {
            unique_decoding: true,
            pow_bits: PcsParams::default().pow_bits,
            ..p
        };
        if q.whir_config(n).is_ok() {
            q
        } else {
            q.least_grinding(n)
        }
    };
    let own_rate = unique(params_of(vk.mode));
    if below_target(&own_rate) {
        unique(p)
    } else {
        own_rate
    }
}

impl ProvingKey {
    /// This key laid out for zero-knowledge proofs ([`Layout::new_zk`]), as
    /// the malicious-prover tests need it (the prover lays out its own).
    #[cfg(test)]
    pub(crate) fn into_zk_layout(self) -> Result<ProvingKey, ProveError> {
        let layout = Layout::new_zk(&self.model)?;
        Ok(ProvingKey { layout, ..self })
    }

    /// The key for statements of `batch` samples (see
    /// [`VerifyingKey::for_batch`]): the same weight commitment, a new layout.
    pub fn for_batch(self, batch: usize) -> Result<ProvingKey, ProveError> {
        if batch == self.model.batch {
            return Ok(self);
        }
        let model = self
            .model
            .with_batch(batch)
            .map_err(|e| ProveError::Model(e.to_string()))?;
        let layout = Layout::new(&model)?;
        if layout.weight_num_vars != self.layout.weight_num_vars {
            return Err(ProveError::Key(
                "the weight polynomials would change with the batch size".into(),
            ));
        }
        let vk = self.vk.for_batch(batch)?;
        Ok(ProvingKey {
            model,
            vk,
            layout,
            ..self
        })
    }

    /// The key of the accuracy statement ([`VerifyingKey::for_accuracy`]).
    pub fn for_accuracy(self) -> Result<ProvingKey, ProveError> {
        let model = accuracy_model(&self.model).map_err(|e| ProveError::Model(e.to_string()))?;
        model
            .validate()
            .map_err(|e| ProveError::Model(e.to_string()))?;
        let layout = Layout::new(&model)?;
        if layout.weight_num_vars != self.layout.weight_num_vars {
            return Err(ProveError::Key(
                "the accuracy head would change the weight polynomials".into(),
            ));
        }
        let vk = self.vk.for_accuracy()?;
        Ok(ProvingKey {
            model,
            vk,
            layout,
            ..self
        })
    }

    /// Checks the key can prove: its verifying key passes
    /// [`VerifyingKey::check_commitment`], and its commitment data was made
    /// with that key's parameters for that key's commitment (its public
    /// fields may have been edited since setup).
    /// A weight opening's copy of the commitment data, its tables rebuilt
    /// from the model's weights one op at a time (the key keeps none:
    /// GPT-2's would be 2.1 GB held through every proof).
    pub(crate) fn weight_opening_copy(&self) -> Result<OpeningCopy, ProveError> {
        let data = self.weight_data.as_ref().ok_or_else(|| {
            ProveError::Key("this proving key has no weight commitment data".into())
        })?;
        let mut failed = None;
        let mut polys = self.layout.ops.iter().flat_map(|op| {
            op.weight_polys(&self.model, &self.layout)
                .unwrap_or_else(|e| {
                    failed.get_or_insert(e);
                    Vec::new()
                })
        });
        let copy = self.pcs.opening_copy_from(data, &mut polys);
        drop(polys);
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(copy?)
    }

    /// Opens the weight commitment at `claims` with a copy from
    /// [`ProvingKey::weight_opening_copy`].
    pub(crate) fn open_weights(
        &self,
        copy: OpeningCopy,
        claims: &[Claim],
        tr: &mut Transcript,
    ) -> Result<OpeningProof, ProveError> {
        let data = self.weight_data.as_ref().ok_or_else(|| {
            ProveError::Key("this proving key has no weight commitment data".into())
        })?;
        Ok(self.pcs.open_copy(data, copy, claims, tr)?)
    }

    pub fn check_commitment(&self) -> Result<(), ProveError> {
        self.vk.check_commitment(&self.layout)?;
        let data_matches = self
            .weight_data
            .as_ref()
            .is_none_or(|d| d.commitment() == &self.vk.weight_commitment);
        if self.pcs.params != self.vk.pcs_params || !data_matches {
            return Err(ProveError::Key(
                "proving key is inconsistent: its commitment data is not its verifying key's"
                    .into(),
            ));
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let file = PkFile {
            model: self.model.clone(),
            weight_commitment: self.vk.weight_commitment.clone(),
            mode: self.vk.mode,
            pcs_params: self.vk.pcs_params.clone(),
        };
        framed(
            PK_MAGIC,
            &postcard::to_allocvec(&file).expect("in-memory encoding cannot fail"),
        )
    }

    /// Loads a proving key, re-deriving the commitment data (and checking it
    /// against the stored commitment, so a corrupt key cannot prove anything).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProveError> {
        let body = unframe(PK_MAGIC, bytes, "proving key")?;
        let file: PkFile = postcard::from_bytes(body)
            .map_err(|e| ProveError::Key(format!("proving key is corrupt: {e}")))?;
        // `build_pk` checks the parameters are the mode's before committing:
        // a few bytes of parameters can never size a huge re-commit.
        build_pk(
            file.model,
            file.mode,
            file.pcs_params,
            Some(&file.weight_commitment),
        )
    }

    pub fn save(&self, path: &Path) -> Result<(), ProveError> {
        Ok(std::fs::write(path, self.to_bytes())?)
    }

    pub fn load(path: &Path) -> Result<Self, ProveError> {
        Self::from_bytes(&read(path)?)
    }
}

impl VerifyingKey {
    pub fn save(&self, path: &Path) -> Result<(), ProveError> {
        Ok(std::fs::write(path, self.to_bytes())?)
    }

    pub fn load(path: &Path) -> Result<Self, ProveError> {
        Self::from_bytes(&read(path)?)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ProveError> {
    std::fs::read(path).map_err(|e| ProveError::Key(format!("cannot read {}: {e}", path.display())))
}

fn framed(magic: &[u8; 8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(magic);
    out.extend_from_slice(&KEY_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(body);
    out
}

fn unframe<'a>(magic: &[u8; 8], bytes: &'a [u8], what: &str) -> Result<&'a [u8], ProveError> {
    if bytes.len() < 12 || &bytes[..8] != magic {
        return Err(ProveError::Key(format!("not a zkinfer {what} file")));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != KEY_FORMAT_VERSION {
        return Err(ProveError::Key(format!(
            "{what} format version {version} is not supported (this build reads version {KEY_FORMAT_VERSION}; run `zkinfer setup` again)"
        )));
    }
    Ok(&bytes[12..])
}

/// BLAKE3 of `value`'s postcard encoding, hashed as it is written: the model
/// id without the encoding in memory, and without a vector write per varint
/// (GPT-2's 2.5 MB key, mostly Lut table entries: 4.7 ms so, 1.9 ms here).
fn blake3_of_encoding<T: Serialize>(value: &T) -> [u8; 32] {
    let flavor = HashingFlavor {
        hasher: blake3::Hasher::new(),
        buf: Box::new([0; HASH_BUF]),
        len: 0,
    };
    postcard::serialize_with_flavor(value, flavor).expect("in-memory encoding cannot fail")
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const HASH_BUF: usize = 1 << 16;

/// A postcard output feeding BLAKE3 through a fixed buffer.
struct HashingFlavor {
    hasher: blake3::Hasher,
    buf: Box<[u8; HASH_BUF]>,
    len: usize,
}

impl postcard::ser_flavors::Flavor for HashingFlavor {
    type Output = [u8; 32];

    #[inline(always)]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        if self.len == HASH_BUF {
            self.hasher.update(&self.buf[..]);
            self.len = 0;
        }
        self.buf[self.len] = byte;
        self.len += 1;
        Ok(())
    }

    #[inline(always)]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        let (len, n) = (self.len, data.len());
        if n <= 16 && len + 16 <= HASH_BUF {
            // A varint or a small field, with room for any: one bounds
            // check and a short loop instead of a copy call.
            let dst = &mut self.buf[len..len + 16];
            let mut k = 0;
            while k < n {
                dst[k] = data[k];
                k += 1;
            }
            self.len = len + n;
            return Ok(());
        }
        data.iter().try_for_each(|&b| self.try_push(b))
    }

    fn finalize(mut self) -> postcard::Result<[u8; 32]> {
        self.hasher.update(&self.buf[..self.len]);
        Ok(*self.hasher.finalize().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed hash is BLAKE3 of the encoding: small and large writes,
    /// across buffer boundaries; and the model id is its key's.
    #[test]
    fn hashing_flavor_is_blake3_of_the_encoding() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 1000, 70_000, 300_000] {
            let ints: Vec<i64> = (0..n).map(|_| next() as i64 >> (next() % 64)).collect();
            let blob: Vec<u8> = (0..n / 3).map(|_| next() as u8).collect();
            let value = (
                ints,
                "a string".to_string(),
                blob,
                vec![vec![1u8; 70_000]; n % 3],
            );
            let encoded = postcard::to_allocvec(&value).unwrap();
            assert_eq!(
                blake3_of_encoding(&value),
                *blake3::hash(&encoded).as_bytes()
            );
        }
        let vk = setup(crate::synthetic::mlp(&[5, 4, 3], 2), None)
            .unwrap()
            .vk;
        assert_eq!(vk.model_id(), *blake3::hash(&vk.encode_body()).as_bytes());
    }

    /// A matrix two Dense ops share is committed once, equal or transposed;
    /// proofs verify, and a prover using other weights for the tied op (the
    /// commitment unchanged) is rejected.
    #[test]
    fn tied_weights_are_committed_once_and_bound() {
        use crate::synthetic::{input, tied_mlp};
        use zkinfer_model::ir::QOp;
        for transposed in [true, false] {
            let model = tied_mlp(6, 4, transposed, 9);
            let untied = Layout::new(&model).unwrap().weight_num_vars.len();
            let pk = setup(model, None).unwrap();
            assert_eq!(pk.vk.structure.tied_weights.len(), 1);
            assert_eq!(pk.layout.weight_num_vars.len(), untied - 1);
            let x = input(6, 2);
            let honest = crate::prove(&pk, &x).unwrap();
            crate::verify(&pk.vk, &x, &honest.output, &honest.proof).unwrap();
            let vk = VerifyingKey::from_bytes(&pk.vk.to_bytes()).unwrap();
            assert_eq!(vk.model_id(), pk.vk.model_id());
            // Other decoder weights, consistently used by the prover.
            let mut cheat = setup(tied_mlp(6, 4, transposed, 9), None).unwrap();
            if let QOp::Dense { weight, .. } = &mut cheat.model.ops[2] {
                weight.set(0, weight.get(0) + 1);
            }
            let forged = crate::prove(&cheat, &x).unwrap();
            assert!(crate::verify(&pk.vk, &x, &forged.output, &forged.proof).is_err());
        }
    }

    #[test]
    fn modes_pick_their_codes_by_size() {
        let small = CommitmentMode::Fast.params_for(&[16, 10]);
        assert_eq!((small.starting_log_inv_rate, small.folding_factor), (1, 4));
        let big = CommitmentMode::Fast.params_for(&[23]);
        assert_eq!((big.starting_log_inv_rate, big.folding_factor), (1, 5));
        let compact = CommitmentMode::Compact.params_for(&[23]);
        assert_eq!(
            (compact.starting_log_inv_rate, compact.folding_factor),
            (2, 4)
        );
        for p in [&small, &big, &compact] {
            assert!(p.whir_config(16).is_ok() || p.whir_config(23).is_ok());
        }
    }

    /// A statement too large for the Johnson regime (here: an MLP over 2^15
    /// samples) takes unique decoding, at rate 1/2 when that reaches the
    /// target, and computes at least 100 bits.
    #[test]
    fn a_statement_below_target_takes_unique_decoding_at_its_own_rate() {
        let mut model = crate::synthetic::mlp(&[64, 64, 16], 3);
        model.dynamic_batch = true;
        let vk = setup(model, None).unwrap().vk;
        let (vk, layout, params) = (10..=16)
            .map(|k| {
                let vk = vk.for_batch(1 << k).unwrap();
                let layout = Layout::new(&vk.structure).unwrap();
                let params = activation_params(&vk, &layout);
                (vk, layout, params)
            })
            .find(|(_, _, p)| p.unique_decoding)
            .expect("a batch large enough for the fallback");
        let terms = StatementTerms::new(&vk, &layout);
        let bits = |p: &PcsParams| terms.report(&vk, &layout, p).total_bits;
        assert!(bits(&params) >= TARGET_BITS, "{}", bits(&params));
        let nvs = &layout.activation_num_vars;
        for mode in [CommitmentMode::Fast, CommitmentMode::Compact] {
            let johnson = with_claim_reduction(mode.params_for_size(nvs), nvs, terms.n_act_claims);
            assert!(bits(&johnson) < TARGET_BITS, "{mode:?} needed no fallback");
        }
        assert_eq!(
            params.starting_log_inv_rate, 1,
            "rate 1/2 reaches the target"
        );
        assert_eq!(params.pow_bits, PcsParams::default().pow_bits);
    }

    #[test]
    fn the_mode_is_stated_in_the_vk_and_in_the_model_id() {
        let model = crate::synthetic::mlp(&[9, 5, 4], 3);
        let fast = setup_with_mode(model.clone(), CommitmentMode::Fast).unwrap();
        let compact = setup_with_mode(model, CommitmentMode::Compact).unwrap();
        assert_eq!(fast.vk.mode, CommitmentMode::Fast);
        assert_eq!(compact.vk.mode, CommitmentMode::Compact);
        let back = VerifyingKey::from_bytes(&compact.vk.to_bytes()).unwrap();
        assert_eq!(back.mode, CommitmentMode::Compact);
        // The same parameters under another stated mode: another model id, and
        // a key that does not load (its parameters are not that mode's).
        let mut relabelled = fast.vk.clone();
        relabelled.mode = CommitmentMode::Compact;
        assert_ne!(relabelled.model_id(), fast.vk.model_id());
        let err = VerifyingKey::from_bytes(&relabelled.to_bytes())
            .expect_err("refused")
            .to_string();
        assert!(err.contains("not the compact mode's"), "{err}");
    }
}

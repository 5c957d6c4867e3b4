//! The zero-knowledge prover: the plain pass (`prover.rs`) with every
//! message masked and everything committed in one hiding commitment.

use rand::{CryptoRng, RngCore};
use zkinfer_protocol::field::{random_f, F};
use zkinfer_protocol::mle::evaluate_base;
use zkinfer_protocol::pcs::{
    Claim, CommitmentScheme, HidingCommitment, HidingOpening, HidingParams, HidingPcs, Pcs,
    PcsParams,
};
use zkinfer_protocol::sumcheck::zk::masked_eval::{ClaimMask, EvalMask};
use zkinfer_protocol::sumcheck::zk::MaskPolynomial;
use zkinfer_protocol::Transcript;

use super::committed::{self, CommitSeeds, InputCommitment, InputSeed};
use super::ctx::ZkMasks;
use super::plan::{MaskedW, ZkPlan, COMMITTED_INPUT_POLY, COMMITTED_OUTPUT_POLY};
use super::{lookups, InputVisibility, Visibility, ZkBook, ZkProverCtx};
use crate::error::ProveError;
use crate::keys::ProvingKey;
use crate::layout::Layout;
use crate::proof::{LayerProof, LookupsProof, Proof, ZkParts};
use crate::prover::{activation_witness_with, run_model, ProveTimings};
use crate::statement::start_zk_transcript;
use std::time::Instant;
use zkinfer_model::ir::QuantModel;

pub struct ZkProveOutput {
    pub proof: Proof,
    /// The quantized output the proof binds (public).
    pub output: Vec<i64>,
    /// Phases as in a plain proof: `witness` draws the masks and builds the
    /// committed tables, `commit` is the hiding commitment, and
    /// `activation_opening` its opening.
    pub timings: ProveTimings,
    /// A committed input's published digest and the secret seed it derives
    /// from (keep it to reveal the input later; never reuse it).
    pub input_digest: Option<[u8; 32]>,
    pub input_seed: Option<InputSeed>,
    /// A committed output's, likewise.
    pub output_digest: Option<[u8; 32]>,
    pub output_seed: Option<InputSeed>,
}

/// Proves that the model in `pk` maps `input` (quantized) to the returned
/// output, revealing nothing of what `visibility` keeps private. `rng`
/// draws every mask: a CSPRNG seeded by the operating system outside
/// tests.
pub fn prove_zk<R: CryptoRng + RngCore>(
    pk: &ProvingKey,
    input: &[i64],
    visibility: Visibility,
    rng: &mut R,
) -> Result<ZkProveOutput, ProveError> {
    prove_zk_seeded(pk, input, visibility, CommitSeeds::default(), rng)
}

/// [`prove_zk`] with a committed input's or output's seed given (their
/// digests are then [`super::committed_input_digest`] and
/// [`super::committed_output_digest`] of the tensor and the seed); a
/// missing one is drawn from `rng`.
pub fn prove_zk_seeded<R: CryptoRng + RngCore>(
    pk: &ProvingKey,
    input: &[i64],
    visibility: Visibility,
    seeds: CommitSeeds,
    rng: &mut R,
) -> Result<ZkProveOutput, ProveError> {
    prove_zk_with_truths(pk, input, visibility, seeds, rng).map(|(out, _)| out)
}

/// [`prove_zk_seeded`], with the true values of its masked reads (what the
/// masks hide: the leak audit looks for them in the proof).
pub(crate) fn prove_zk_with_truths<R: CryptoRng + RngCore>(
    pk: &ProvingKey,
    input: &[i64],
    visibility: Visibility,
    seeds: CommitSeeds,
    rng: &mut R,
) -> Result<(ZkProveOutput, Vec<zkinfer_protocol::EF>), ProveError> {
    pk.check_commitment()?;
    let clock = Instant::now();
    let values = run_model(pk, input)?;
    let inference = clock.elapsed();
    let own;
    let layout = if pk.layout.zk {
        &pk.layout
    } else {
        own = Layout::new_zk(&pk.model)?;
        &own
    };
    let act_polys = activation_witness_with(layout, &values, &[])?;
    let inputs = ProofInputs {
        input,
        values,
        act_polys,
        seeds,
    };
    let (mut out, book) = prove_inner(pk, layout, inputs, visibility, false, rng)?;
    out.timings.inference = inference;
    Ok((out, book.truths))
}

/// [`prove_zk`] for a model whose tensors may be too small to hide their
/// reads: proves the fewest copies (a power of two, at most 64) of the
/// input's samples that the plan accepts, as one statement whose output is
/// the copies' shared output (`ZkParts::copies`). Needs a symbolic batch
/// axis when copies are needed.
pub fn prove_zk_copies<R: CryptoRng + RngCore>(
    pk: ProvingKey,
    input: &[i64],
    visibility: Visibility,
    seeds: CommitSeeds,
    rng: &mut R,
) -> Result<ZkProveOutput, ProveError> {
    let copies = copies_for(&pk.model, visibility)?;
    if copies == 1 {
        return prove_zk_seeded(&pk, input, visibility, seeds, rng);
    }
    let batch = pk.model.batch;
    let big = pk.for_batch(batch * copies)?;
    let mut out = prove_zk_seeded(&big, &input.repeat(copies), visibility, seeds, rng)?;
    out.output.truncate(out.output.len() / copies);
    if let Some(zk) = out.proof.zk.as_mut() {
        zk.copies = copies;
    }
    Ok(out)
}

/// The fewest copies of the model's samples whose zero-knowledge plan hides
/// every read (1 unless some tensor is too small).
pub fn copies_for(model: &QuantModel, visibility: Visibility) -> Result<usize, ProveError> {
    let first = ZkPlan::new(model, &Layout::new_zk(model)?, visibility);
    let Err(first_err) = first else {
        return Ok(1);
    };
    if !model.dynamic_batch {
        return Err(first_err);
    }
    for copies in [2, 4, 8, 16, 32, 64] {
        let Ok(m) = model.with_batch(model.batch * copies) else {
            break;
        };
        if ZkPlan::new(&m, &Layout::new_zk(&m)?, visibility).is_ok() {
            return Ok(copies);
        }
    }
    Err(first_err)
}

/// A committed tensor's seed: 256 bits from the caller's CSPRNG.
fn fresh_seed<R: CryptoRng + RngCore>(rng: &mut R) -> [u8; 32] {
    let mut s = [0u8; 32];
    rng.fill_bytes(&mut s);
    s
}

fn random_table<R: CryptoRng + RngCore>(bits: usize, rng: &mut R) -> Vec<F> {
    (0..1usize << bits).map(|_| random_f(rng)).collect()
}

#[cfg(test)]
thread_local! {
    /// The malicious prover of a committed output (tests): its committed
    /// copy differs from the honest trace's output by `delta` at padded
    /// position `k`; everything else is the honest prover's.
    pub(crate) static FORGED_OUTPUT_COPY: std::cell::Cell<Option<(usize, i64)>> =
        const { std::cell::Cell::new(None) };
}

#[cfg(test)]
thread_local! {
    /// The malicious prover of a private input (tests): its arranged input
    /// holds `value` at padded position `k` (a padding entry, which no
    /// logical input reaches); everything else is the honest prover's.
    pub(crate) static FORGED_INPUT_ENTRY: std::cell::Cell<Option<(usize, i64)>> =
        const { std::cell::Cell::new(None) };
}

/// Proves from a given trace and committed columns, laid out by the key's
/// own layout, which must be a zero-knowledge one (the malicious-prover
/// tests enter here, with `forge` counting rows missing from a table on a
/// padding row); everything after is the honest prover's code.
#[cfg(test)]
pub(crate) fn prove_zk_witness<R: CryptoRng + RngCore>(
    pk: &ProvingKey,
    input: &[i64],
    values: Vec<Vec<i64>>,
    act_polys: Vec<Vec<F>>,
    visibility: Visibility,
    forge: bool,
    rng: &mut R,
) -> Result<ZkProveOutput, ProveError> {
    assert!(pk.layout.zk, "a zero-knowledge layout");
    let inputs = ProofInputs {
        input,
        values,
        act_polys,
        seeds: CommitSeeds::default(),
    };
    prove_inner(pk, &pk.layout, inputs, visibility, forge, rng).map(|(out, _)| out)
}

/// What one proof is of: the input, its trace and committed columns, and a
/// committed input's and output's seeds.
struct ProofInputs<'a> {
    input: &'a [i64],
    values: Vec<Vec<i64>>,
    act_polys: Vec<Vec<F>>,
    seeds: CommitSeeds,
}

fn prove_inner<R: CryptoRng + RngCore>(
    pk: &ProvingKey,
    layout: &Layout,
    inputs: ProofInputs<'_>,
    visibility: Visibility,
    forge: bool,
    rng: &mut R,
) -> Result<(ZkProveOutput, ZkBook), ProveError> {
    let ProofInputs {
        input,
        values,
        mut act_polys,
        seeds,
    } = inputs;
    pk.check_commitment()?;
    let mut timings = ProveTimings::default();
    let clock = Instant::now();
    let model = &pk.model;
    let plan = ZkPlan::new(model, layout, visibility)?;
    // The verifier refuses a statement below the target (`verifier.rs`):
    // say so before proving it (char_gpt with a committed input: 98.0 bits).
    let bits = crate::security::zk_total_bits(&pk.vk, layout, &plan);
    if bits < crate::keys::TARGET_BITS {
        return Err(ProveError::Unsupported(format!(
            "a zero-knowledge proof of this statement would compute {bits:.1} bits of soundness, below the {} bits zkinfer requires (`zkinfer security`)",
            crate::keys::TARGET_BITS
        )));
    }
    let output = values[model.output].clone();
    #[allow(unused_mut)]
    let mut input_poly = plan
        .input
        .map(|_| layout.arrange(model.input, &values[model.input]));
    #[cfg(test)]
    if let (Some((k, v)), Some(x)) = (FORGED_INPUT_ENTRY.with(|c| c.get()), &mut input_poly) {
        x[k] = zkinfer_protocol::field::f_from_i64(v);
    }
    // A private token input an honest prover could not prove one-hot.
    if let (Some(c), Some(x), false) = (&plan.one_hot, &input_poly, forge) {
        if let Some(why) = c.dishonest(x) {
            return Err(ProveError::Inference(format!(
                "the private input is not one-hot token rows: {why}"
            )));
        }
    }
    // The input's limb columns follow the activations: computed here, or
    // given by a malicious-prover test.
    if let (Some(r), Some(x)) = (&plan.input_range, &input_poly) {
        if act_polys.len() == layout.activation_num_vars.len() {
            act_polys.extend(r.limb_columns(x, forge)?);
        }
    }
    if act_polys.len() != plan.act.len() {
        return Err(ProveError::Key(
            "zero-knowledge proof: the committed columns differ from the plan".into(),
        ));
    }
    // Every mask, drawn before the commitment.
    let act_r: Vec<Option<Vec<F>>> = plan
        .act
        .iter()
        .map(|w| w.map(|w| random_table(w.head_bits, rng)))
        .collect();
    // A committed input's `R` and commitment derive from its seed.
    let committed = match (&plan.input, visibility.input) {
        (Some(w), InputVisibility::Committed) => {
            let seed = seeds.input.unwrap_or_else(|| fresh_seed(rng));
            let x = input_poly.as_deref().expect("a private input is arranged");
            Some((committed::commit(w, x, &seed)?, seed))
        }
        _ => None,
    };
    let input_r = match &committed {
        Some((c, _)) => Some(c.r.clone()),
        None => plan.input.map(|w| random_table(w.head_bits, rng)),
    };
    // A committed output likewise.
    #[allow(unused_mut)]
    let mut output_padded = layout.arrange(model.output, &output);
    #[cfg(test)]
    if let Some((k, delta)) = FORGED_OUTPUT_COPY.with(|c| c.get()) {
        output_padded[k] += zkinfer_protocol::field::f_from_i64(delta);
    }
    let committed_output = match &plan.output {
        Some(w) => {
            let seed = seeds.output.unwrap_or_else(|| fresh_seed(rng));
            Some((committed::commit(w, &output_padded, &seed)?, seed))
        }
        None => None,
    };
    let src = lookups::Sources {
        act_polys: &act_polys,
        act_r: &act_r,
    };
    let data = lookups::data(&plan, model, &src, forge)?;
    let op_g: Vec<Option<MaskPolynomial>> = plan
        .op_masks
        .iter()
        .map(|m| m.map(|m| MaskPolynomial::random(m.num_vars, m.degree, rng)))
        .collect();
    let claim: Vec<Option<ClaimMask>> = plan
        .claim_masks
        .iter()
        .map(|m| m.map(|m| ClaimMask::random(m.head_vars, rng)))
        .collect();
    let inner: Vec<Option<(MaskPolynomial, ClaimMask)>> = plan
        .inner
        .iter()
        .map(|a| {
            a.map(|a| {
                let g = MaskPolynomial::random(a.mask.num_vars, a.mask.degree, rng);
                (g, ClaimMask::random(a.claim.head_vars, rng))
            })
        })
        .collect();
    let shapes = plan.lookup_shapes(model);
    let lookup_masks = (!plan.tables.is_empty()).then(|| lookups::masks(&plan, &shapes, &src, rng));

    // The hiding commitment, in the plan's order.
    let w_of = |w: &MaskedW, r: &[F], v: &[F]| {
        EvalMask::from_table(w.num_vars, r.to_vec()).committed_table(v)
    };
    let mut polys: Vec<Vec<F>> = Vec::with_capacity(plan.poly_num_vars.len());
    for (p, w) in plan.act.iter().enumerate() {
        if let Some(w) = w {
            polys.push(w_of(
                w,
                act_r[p].as_deref().expect("planned"),
                &act_polys[p],
            ));
        }
    }
    if let (Some(w), Some(r), Some(v), None) = (&plan.input, &input_r, &input_poly, &committed) {
        polys.push(w_of(w, r, v));
    }
    if let Some(masks) = &lookup_masks {
        polys.extend(lookups::committed_multiplicities(&plan, masks, &data));
    }
    polys.extend(op_g.iter().flatten().map(MaskPolynomial::table));
    polys.extend(claim.iter().flatten().map(|m| m.table().to_vec()));
    for (g, m) in inner.iter().flatten() {
        polys.push(g.table());
        polys.push(m.table().to_vec());
    }
    if let Some(masks) = &lookup_masks {
        polys.extend(masks.tables());
    }
    if polys.len() != plan.poly_num_vars.len()
        || polys
            .iter()
            .zip(&plan.poly_num_vars)
            .any(|(p, &n)| p.len() != 1 << n)
    {
        return Err(ProveError::Key(
            "zero-knowledge proof: the committed tables differ from the plan".into(),
        ));
    }
    timings.witness = clock.elapsed();
    let clock = Instant::now();
    // The commitment's own randomness: a full 256-bit seed from the
    // caller's CSPRNG (a 64-bit one could be searched).
    let mut pcs_seed = [0u8; 32];
    rng.fill_bytes(&mut pcs_seed);
    let hiding = HidingPcs::with_secret_seed(HidingParams::default(), pcs_seed);
    let (commitment, hiding_data) = hiding.commit(&polys)?;
    drop(polys);
    timings.commit = clock.elapsed();

    let model_id = pk.vk.model_id();
    let public_input = plan.input.is_none().then_some(input);
    let input_digest = committed
        .as_ref()
        .map(|(c, _)| committed::input_digest(&c.commitment));
    let output_digest = committed_output
        .as_ref()
        .map(|(c, _)| committed::output_digest(&c.commitment));
    let mut tr = start_zk_transcript(
        &pk.vk,
        &model_id,
        visibility,
        public_input,
        input_digest.as_ref(),
        output_digest.as_ref().map_or(Ok(output.as_slice()), Err),
    );
    hiding.absorb_commitment(&commitment, &mut tr);

    let mut book = ZkBook::new(model.tensors.len());
    let clock = Instant::now();
    let (zk_lookups, lookup_members, lookup_claims) = match &lookup_masks {
        Some(masks) => lookups::prove(&plan, &data, masks, &src, &mut tr),
        None => (None, Vec::new(), Vec::new()),
    };
    book.hiding.extend(lookup_claims);
    drop(data);
    timings.lookups = clock.elapsed();
    let clock = Instant::now();

    if plan.output_link.is_none() {
        tr.label(b"output-claim");
        let r0 = tr.challenge_efs(layout.num_vars(model.output));
        let v0 = evaluate_base(&output_padded, &r0);
        book.route_public(&plan, layout, model.output, r0, v0);
    }
    let masks = ZkMasks {
        act_r,
        input_r,
        output_r: committed_output.as_ref().map(|(c, _)| c.r.clone()),
        op_g,
        claim,
        inner,
    };
    let mut ctx = ZkProverCtx {
        pk,
        layout,
        plan: &plan,
        masks: &masks,
        values: &values,
        input_poly: input_poly.as_deref(),
        act_polys: &act_polys,
        book: &mut book,
        tr: &mut tr,
        sent: Vec::new(),
    };
    let mut layers: Vec<LayerProof> = Vec::new();
    if let Some(link) = &plan.output_link {
        layers.push(link.prove(&mut ctx, &output_padded));
    }
    for op in layout.ops.iter().rev() {
        let last = op.prove_zk(&mut ctx);
        layers.append(&mut ctx.sent);
        layers.extend(last);
    }
    if let Some(r) = &plan.input_range {
        layers.push(r.prove(&mut ctx));
    }
    if let Some(c) = &plan.one_hot {
        layers.push(c.prove(&mut ctx));
    }
    if book.pending.iter().any(|c| !c.is_empty()) {
        return Err(ProveError::Key(
            "zero-knowledge proof: a claim was left unproven".into(),
        ));
    }

    timings.layers = clock.elapsed();
    let clock = Instant::now();
    tr.label(b"weight-opening");
    let copy = pk.weight_opening_copy()?;
    let weight_opening = pk.open_weights(copy, &book.weights, &mut tr)?;
    timings.weight_opening = clock.elapsed();
    let clock = Instant::now();
    let (main_claims, input_claims, output_claims) =
        split_own_claims(std::mem::take(&mut book.hiding));
    tr.label(b"hiding-opening");
    let opening = hiding.open_consuming(hiding_data, &main_claims, &mut tr)?;
    let input_part = open_own(committed, "input", &input_claims, &mut tr)?;
    let output_part = open_own(committed_output, "output", &output_claims, &mut tr)?;
    book.hiding = main_claims;
    book.hiding.extend(input_claims);
    book.hiding.extend(output_claims);
    timings.activation_opening = clock.elapsed();
    let (activation_commitment, activation_opening) = empty_activation_commitment()?;
    let out = ZkProveOutput {
        proof: Proof {
            model_id,
            activation_commitment,
            lookups: LookupsProof::default(),
            layers,
            weight_opening,
            activation_opening,
            zk: Some(ZkParts {
                visibility,
                commitment,
                lookups: zk_lookups,
                lookup_members,
                copies: 1,
                opening,
                input: input_part.as_ref().map(|(c, o, _)| (c.clone(), o.clone())),
                output: output_part.as_ref().map(|(c, o, _)| (c.clone(), o.clone())),
            }),
        },
        output,
        timings,
        input_digest,
        input_seed: input_part.map(|(_, _, s)| s),
        output_digest,
        output_seed: output_part.map(|(_, _, s)| s),
    };
    Ok((out, book))
}

/// Opens a committed input's or output's (`what`) own commitment at its
/// `claims` (its one opening); keeps the seed for the caller.
fn open_own(
    own: Option<(InputCommitment, InputSeed)>,
    what: &str,
    claims: &[Claim],
    tr: &mut Transcript,
) -> Result<Option<(HidingCommitment, HidingOpening, InputSeed)>, ProveError> {
    let Some((c, seed)) = own else {
        return Ok(None);
    };
    tr.label(committed::opening_label(what).as_bytes());
    let opening = c.pcs.open_consuming(c.data, claims, tr)?;
    Ok(Some((c.commitment, opening, seed)))
}

/// The claims on the proof's hiding commitment, and those on a committed
/// input's and output's own (re-indexed to their polynomial 0).
pub(crate) fn split_own_claims(claims: Vec<Claim>) -> (Vec<Claim>, Vec<Claim>, Vec<Claim>) {
    let (mut input, mut output, mut main) = (Vec::new(), Vec::new(), Vec::new());
    for c in claims {
        match c.poly {
            COMMITTED_INPUT_POLY => input.push(Claim { poly: 0, ..c }),
            COMMITTED_OUTPUT_POLY => output.push(Claim { poly: 0, ..c }),
            _ => main.push(c),
        }
    }
    (main, input, output)
}

/// A zero-knowledge proof commits nothing in the clear: the plain
/// activation commitment and its opening are the canonical empty ones.
pub(crate) fn empty_activation_commitment() -> Result<
    (
        zkinfer_protocol::pcs::Commitment,
        zkinfer_protocol::pcs::OpeningProof,
    ),
    ProveError,
> {
    let pcs = Pcs::new(PcsParams::for_polys(&[]));
    let (commitment, data) = pcs.commit(&[])?;
    let mut scratch = Transcript::new(b"zkinfer-empty-commitment");
    let opening = pcs.open_consuming(data, &[], &mut scratch)?;
    Ok((commitment, opening))
}

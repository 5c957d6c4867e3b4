//! The lookups of a zero-knowledge proof: one zero-knowledge LogUp-GKR
//! proof over every table (`logup::zk::prove_many`), one tree per group of
//! equal-size witnesses as in a plain proof (`lookups.rs`).
//!
//! A member column is `scale·V + offset` of a committed column `V` (or
//! zeros). The LogUp leaf reads a tree's
//! concatenated column through the `W` it assumes, `[cat; R_cat]`; we
//! commit only each `V`'s own `W_V = [V; R_V]` and give the LogUp
//! `R_cat(m, x) = scale_m·R_{V_m}(x)` (zeros past the last member), so that
//! `W_cat(β, s, r) = Σ_m eq(s, m)·(scale_m·W_{V_m}(β, r) + offset_m·(1 − β))`.
//! The prover sends each `W_{V_m}(β, r)` — member `m`'s masked value at
//! `r`, which its leaf half already revealed (a lone member's halves are
//! its own top bit: two reads) — and the verifier checks the combination:
//! one commitment and one mask per column, read by the op sumchecks and the
//! lookups alike (the plan sizes `R_V` for all those reads).

use rand::CryptoRng;
use zkinfer_model::ir::QuantModel;
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::logup::zk::{self as logup_zk, LookupMasks, ZkLookupProof};
use zkinfer_protocol::logup::{self, LookupClaims, LookupInstance, LookupTable, LookupWitness};
use zkinfer_protocol::mle::{eq_eval, evaluate_base};
use zkinfer_protocol::pcs::Claim;
use zkinfer_protocol::{Transcript, VerifyError, EF};

use super::plan::{Source, ZkColumn, ZkGroup, ZkPlan};
use crate::error::ProveError;

/// Per table, per group, per member, per column: `W_V(β, r)`.
pub(crate) type MemberEvals = Vec<Vec<Vec<Vec<EF>>>>;

/// The tables with their trees' witnesses (materialised) and multiplicities.
pub(super) struct LookupData {
    pub tables: Vec<LookupTable>,
    pub witnesses: Vec<Vec<LookupWitness>>,
    pub multiplicities: Vec<Vec<F>>,
}

/// A source column's values and `R`.
pub(super) struct Sources<'a> {
    pub act_polys: &'a [Vec<F>],
    pub act_r: &'a [Option<Vec<F>>],
}

impl Sources<'_> {
    fn values(&self, s: Source) -> Option<&[F]> {
        let Source::Act(p) = s;
        Some(&self.act_polys[p])
    }
    fn r(&self, s: Source) -> Option<&[F]> {
        let Source::Act(p) = s;
        self.act_r[p].as_deref()
    }
}

/// A group's concatenated column `c` (members at rows `m·2^n ..`).
fn cat_column(g: &ZkGroup, c: usize, src: &Sources<'_>) -> Vec<F> {
    let len = 1usize << g.num_vars;
    let mut out = Vec::with_capacity(g.members.len() * len);
    for m in &g.members {
        let col: &ZkColumn = &m[c];
        match src.values(col.source) {
            Some(v) => out.extend(v.iter().map(|&x| col.scale * x + col.offset)),
            None => out.extend(std::iter::repeat_n(col.offset, len)),
        }
    }
    out
}

/// Every table's trees and multiplicities from the committed columns.
/// `forge` (malicious-prover tests only) counts a row missing from its
/// table on a padding row of the table instead of failing.
pub(super) fn data(
    plan: &ZkPlan,
    model: &QuantModel,
    src: &Sources<'_>,
    forge: bool,
) -> Result<LookupData, ProveError> {
    let tables = plan.lookup_tables(model);
    let mut witnesses = Vec::with_capacity(tables.len());
    let mut multiplicities = Vec::with_capacity(tables.len());
    for (t, table) in plan.tables.iter().zip(&tables) {
        let ws: Vec<LookupWitness> = t
            .groups
            .iter()
            .map(|g| LookupWitness {
                columns: (0..table.width()).map(|c| cat_column(g, c, src)).collect(),
            })
            .collect();
        let m = if forge {
            forged_multiplicities(table, &ws)
        } else {
            logup::multiplicities(table, &ws).map_err(|e| {
                ProveError::Inference(format!(
                    "a lookup witness is outside its table ({:?}): {e}",
                    t.key
                ))
            })?
        };
        witnesses.push(ws);
        multiplicities.push(m);
    }
    Ok(LookupData {
        tables,
        witnesses,
        multiplicities,
    })
}

#[cfg(any(test, feature = "malicious"))]
fn forged_multiplicities(table: &LookupTable, ws: &[LookupWitness]) -> Vec<F> {
    crate::malicious::forged_multiplicities(table, ws)
}

#[cfg(not(any(test, feature = "malicious")))]
fn forged_multiplicities(_: &LookupTable, _: &[LookupWitness]) -> Vec<F> {
    unreachable!("only the malicious-prover tests forge multiplicities")
}

/// The LogUp masks: each tree's leaf mask per column is its members'
/// `scale·R` side by side (each tiled to the widest), zeros past the last
/// member and for columns of zeros.
pub(super) fn masks<R: CryptoRng + ?Sized>(
    plan: &ZkPlan,
    shapes: &[(usize, Vec<usize>)],
    src: &Sources<'_>,
    rng: &mut R,
) -> LookupMasks {
    let refs: Vec<(usize, &[usize])> = shapes.iter().map(|(t, w)| (*t, w.as_slice())).collect();
    let mut masks = LookupMasks::random(&refs, rng);
    let mut tree = 0;
    for t in &plan.tables {
        for g in &t.groups {
            let width = g.members[0].len();
            for c in 0..width {
                let rs: Vec<Option<&[F]>> = g.members.iter().map(|m| src.r(m[c].source)).collect();
                let h = rs
                    .iter()
                    .flatten()
                    .map(|r| r.len().trailing_zeros() as usize)
                    .max()
                    .unwrap_or(2);
                let slots = 1usize << g.selector_vars();
                let mut table = vec![F::ZERO; slots << h];
                for (m, (member, r)) in g.members.iter().zip(&rs).enumerate() {
                    if let Some(r) = r {
                        let shift = h - r.len().trailing_zeros() as usize;
                        for x in 0..1usize << h {
                            table[(m << h) + x] = member[c].scale * r[x >> shift];
                        }
                    }
                }
                masks.set_leaf_mask(tree, c, table);
            }
            tree += 1;
        }
        tree += 1;
    }
    masks
}

/// Each table's multiplicities as the `W` its LogUp tree reads.
pub(super) fn committed_multiplicities(
    plan: &ZkPlan,
    masks: &LookupMasks,
    data: &LookupData,
) -> Vec<Vec<F>> {
    let mut tree = 0;
    plan.tables
        .iter()
        .zip(&data.multiplicities)
        .map(|(t, m)| {
            tree += t.groups.len();
            let w = masks.committed_column(tree, 0, m);
            tree += 1;
            w
        })
        .collect()
}

/// Proves every table's lookups; returns the proof, the member values and
/// every claim on the hiding commitment it leaves.
pub(super) fn prove(
    plan: &ZkPlan,
    data: &LookupData,
    masks: &LookupMasks,
    src: &Sources<'_>,
    tr: &mut Transcript,
) -> (Option<ZkLookupProof>, MemberEvals, Vec<Claim>) {
    if plan.tables.is_empty() {
        return (None, Vec::new(), Vec::new());
    }
    let instances: Vec<LookupInstance<'_>> = data
        .tables
        .iter()
        .zip(&data.witnesses)
        .zip(&data.multiplicities)
        .map(|((table, witnesses), m)| LookupInstance {
            table,
            witnesses,
            multiplicities: m,
        })
        .collect();
    tr.label(b"zk-lookups");
    let (proof, claims, mut hiding) =
        logup_zk::prove_many(&instances, masks, plan.lookup_first_poly, tr);
    // Each member column's W at (β, r): (1 − β)·V(r) + β·R(r_head).
    let w_at = |s: Source, point: &[EF]| -> EF {
        let (Some(v), Some(r)) = (src.values(s), src.r(s)) else {
            return EF::ZERO;
        };
        let (beta, rest) = (point[0], &point[1..]);
        let h = r.len().trailing_zeros() as usize;
        (EF::ONE - beta) * evaluate_base(v, rest) + beta * evaluate_base(r, &rest[..h])
    };
    let members: MemberEvals = plan
        .tables
        .iter()
        .zip(&claims)
        .map(|(t, c)| {
            t.groups
                .iter()
                .zip(&c.witnesses)
                .map(|(g, wc)| {
                    let at = member_point(g, &wc.point);
                    g.members
                        .iter()
                        .map(|m| m.iter().map(|col| w_at(col.source, &at)).collect())
                        .collect()
                })
                .collect()
        })
        .collect();
    absorb_members(tr, &members);
    hiding
        .extend(column_claims(plan, &claims, &members).expect("honest leaf claims are consistent"));
    (Some(proof), members, hiding)
}

/// `(β, r)` from a group's leaf claim point `(β, s, r)`.
fn member_point(g: &ZkGroup, point: &[EF]) -> Vec<EF> {
    let mut at = vec![point[0]];
    at.extend_from_slice(&point[1 + g.selector_vars()..]);
    at
}

fn absorb_members(tr: &mut Transcript, members: &MemberEvals) {
    tr.label(b"zk-lookup-members");
    for v in members.iter().flatten().flatten() {
        tr.absorb_efs(v);
    }
}

/// Verifies the lookups; returns every claim on the hiding commitment.
pub(super) fn verify(
    plan: &ZkPlan,
    model: &QuantModel,
    proof: Option<&ZkLookupProof>,
    members: &MemberEvals,
    tr: &mut Transcript,
) -> Result<Vec<Claim>, VerifyError> {
    let proof = match (proof, plan.tables.is_empty()) {
        (None, true) if members.is_empty() => return Ok(Vec::new()),
        (Some(p), false) => p,
        _ => {
            return Err(VerifyError::Malformed(
                "zero-knowledge lookups: a proof where none is expected, or none where one is"
                    .into(),
            ))
        }
    };
    let tables = plan.lookup_tables(model);
    let shapes = plan.lookup_shapes(model);
    let instances: Vec<(&LookupTable, &[usize])> = tables
        .iter()
        .zip(&shapes)
        .map(|(t, (_, lens))| (t, lens.as_slice()))
        .collect();
    tr.label(b"zk-lookups");
    let (claims, mut hiding) =
        logup_zk::verify_many(&instances, proof, plan.lookup_first_poly, tr)?;
    absorb_members(tr, members);
    hiding.extend(column_claims(plan, &claims, members)?);
    Ok(hiding)
}

/// The leaf claims (on each tree's `W_cat` at `(β, s, r)`) checked against
/// the member values, which become claims on the committed `W`s.
fn column_claims(
    plan: &ZkPlan,
    claims: &[LookupClaims],
    members: &MemberEvals,
) -> Result<Vec<Claim>, VerifyError> {
    let malformed = |s: &str| VerifyError::Malformed(format!("zero-knowledge lookups: {s}"));
    if claims.len() != plan.tables.len() || members.len() != plan.tables.len() {
        return Err(malformed("one claim set per table"));
    }
    let mut out = Vec::new();
    for ((t, c), tm) in plan.tables.iter().zip(claims).zip(members) {
        if c.witnesses.len() != t.groups.len() || tm.len() != t.groups.len() {
            return Err(malformed("one claim per tree"));
        }
        for ((g, wc), gm) in t.groups.iter().zip(&c.witnesses).zip(tm) {
            let width = g.members[0].len();
            let sel = g.selector_vars();
            if wc.values.len() != width
                || wc.point.len() != 1 + sel + g.num_vars
                || gm.len() != g.members.len()
                || gm.iter().any(|m| m.len() != width)
            {
                return Err(malformed("member values do not fit the tree"));
            }
            let beta = wc.point[0];
            let s = &wc.point[1..1 + sel];
            let at = member_point(g, &wc.point);
            for (col, &v) in wc.values.iter().enumerate() {
                let mut combined = EF::ZERO;
                for (m, (member, values)) in g.members.iter().zip(gm).enumerate() {
                    let zc = &member[col];
                    let u = values[col];
                    let sel_m = eq_eval(s, &index_point(m, sel));
                    combined +=
                        sel_m * (EF::from(zc.scale) * u + EF::from(zc.offset) * (EF::ONE - beta));
                    let Source::Act(p) = zc.source;
                    let poly = plan.act[p].expect("a looked-up column has a W").poly;
                    out.push(Claim {
                        poly,
                        point: at.clone(),
                        value: u,
                    });
                }
                if combined != v {
                    return Err(VerifyError::Lookup(
                        "the members' values do not give their tree's leaf claim".into(),
                    ));
                }
            }
        }
        let m = &c.multiplicities;
        if m.values.len() != 1 {
            return Err(malformed("one multiplicity value"));
        }
        out.push(Claim {
            poly: t.multiplicity_poly,
            point: m.point.clone(),
            value: m.values[0],
        });
    }
    Ok(out)
}

/// Member `m`'s selector bits as a point (most significant first).
fn index_point(m: usize, bits: usize) -> Vec<EF> {
    zkinfer_protocol::mle::index_bits(m, bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_selector_bits_are_most_significant_first() {
        assert_eq!(index_point(2, 3), vec![EF::ZERO, EF::ONE, EF::ZERO]);
        assert!(index_point(0, 0).is_empty());
    }
}

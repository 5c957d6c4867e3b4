//! The root step: blinded root fractions instead of the tops.
//!
//! Per table, the prover has committed (before `α`) blinding values
//! `v_i ∈ EF`, one per tree, with `Σ_i v_i = 0`. With `σ_i = 1` for a
//! witness tree and `−1` for the table's, it sends `ũ_i = σ_i·P_i/Q_i + v_i`
//! per tree — uniform subject to `Σ_i ũ_i = 0`, which the verifier checks:
//! exactly the statement `Σ_w P_w/Q_w = P_T/Q_T` — and proves
//! `σ_i·P_i − (ũ_i − v_i)·Q_i = 0` for every tree in one masked sumcheck of
//! one variable over layer 1 (a tensor `p_1, q_1` of two entries):
//!
//! ```text
//! σP − w·Q = Σ_{y∈{0,1}} σ·p_1(y)·q̄_1(y) − (w/2)·q_1(y)·q̄_1(y),   q̄_1(y) = q_1(1 − y)
//! ```
//!
//! with `p_1`, `q_1`, `q̄_1` and the constant `v_i` all read masked
//! (constant masks; `q̄_1` has its own, since one mask read at `c` and
//! `1 − c` would reveal `q_1(1) − q_1(0)`). `v_i` and its mask are one
//! committed table per table, `W(0, i, e) = V(i, e)`, `W(1, i, e) = R(i,
//! e)`, `v_i = V(i, a)`: the masked `v̇_i = v_i + Z(c)·R(i, a)` is the claim
//! `W(β, i, a)` (`β = Z(c)/(1 + Z(c))`), `Σ_i v_i = 0` the claim
//! `W(0, ½, …, ½, a) = 0` (padding rows: `W(0, i, a) = 0`). The claims on
//! layer 1 (`p_1, q_1` at `c`, `q_1` at `1 − c`) go to layer 1 as
//! incoming claims.
//!
//! # Soundness
//!
//! `v` is bound by the commitment before `α`, the `ũ_i` before `γ` and `c`.
//! The opening forces `Σ_i v_i = 0`; the sumcheck (degree 6, one
//! variable) forces `σ_i·P_i = (ũ_i − v_i)·Q_i` for every tree (batched by
//! powers of `γ`); so `Σ_i σ_i·P_i/Q_i = Σ_i ũ_i − Σ_i v_i = 0` whenever
//! every `Q_i ≠ 0`. No `Q_i ≠ 0` check (nor `Q_i`) is needed: `Q_i` is the
//! product of the tree's leaf denominators `α − φ(row)`, every row fixed
//! before `α`, so `Q_i = 0` has probability `≤ rows/|EF|`, inside the
//! rational identity's term.
//!
//! # Transcript
//!
//! ```text
//! label(b"logup/zk-roots"); absorb_efs(ũ); γ = challenge_ef()
//! the masked-evaluation sumcheck (1 variable, degree 6, claimed sum 0)
//! ```

use rand::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::field::{random_f, Field, PrimeCharacteristicRing, EF, F};
use crate::mle::num_vars_for;
use crate::pcs::Claim;
use crate::sumcheck::zk::masked_eval::{
    self, constant_head, vanishing_eval, ClaimMask, EvalMask, MaskedEvals, MaskedMle,
    MaskedStatement,
};
use crate::sumcheck::zk::{MaskPolynomial, ZkSumcheckProof};
use crate::sumcheck::{Mle, SumOfProducts, Term};
use crate::transcript::Transcript;
use crate::VerifyError;

/// Round degree of the root step: `v̇·q̇·q̄̇`.
pub(super) const ROOT_DEGREE: usize = 6;

/// What the root step sends.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RootProof {
    /// Per tree: `ũ_i = P_i/Q_i + v_i`.
    pub blinded: Vec<EF>,
    pub sumcheck: ZkSumcheckProof,
    /// Per tree: `[ṗ_1(c), q̇_1(c), q̄̇_1(c), v̇_i(c)]`.
    pub evals: Vec<[EF; 4]>,
}

/// One table's blinding values and their committed table `W`.
#[derive(Clone, Debug)]
pub(super) struct Blind {
    trees: usize,
    table: Vec<F>,
}

/// Tree-index variables of a table with `trees` trees.
fn index_vars(trees: usize) -> usize {
    num_vars_for(trees)
}

impl Blind {
    /// `V` uniform subject to `Σ_i V(i, e) = 0` for both `e` (so
    /// `Σ_i v_i = 0`), zero on padding rows; `R` uniform.
    pub(super) fn random<R: CryptoRng + ?Sized>(trees: usize, rng: &mut R) -> Self {
        let s = index_vars(trees);
        let half = 2usize << s;
        let mut table: Vec<F> = (0..2 * half).map(|_| random_f(rng)).collect();
        for e in 0..2 {
            for i in trees..1 << s {
                table[2 * i + e] = F::ZERO;
            }
            let others: F = (0..trees - 1).map(|i| table[2 * i + e]).sum();
            table[2 * (trees - 1) + e] = -others;
        }
        Self { trees, table }
    }

    pub(super) fn table(&self) -> &[F] {
        &self.table
    }

    /// `v_i = V(i, a)`.
    fn v(&self, i: usize) -> EF {
        let a = constant_head()[0];
        EF::from(self.table[2 * i]) * (EF::ONE - a) + EF::from(self.table[2 * i + 1]) * a
    }

    /// Tree `i`'s mask `S = R(i, a)` as a constant [`EvalMask`].
    fn mask(&self) -> Vec<EvalMask> {
        let half = self.table.len() / 2;
        (0..self.trees)
            .map(|i| {
                let row = self.table[half + 2 * i..half + 2 * i + 2].to_vec();
                EvalMask::constant(1, row, &constant_head())
            })
            .collect()
    }
}

/// `bits(i)` over `s` variables, most significant first.
fn bits(i: usize, s: usize) -> Vec<EF> {
    crate::mle::index_bits(i, s)
}

/// The claims on one table's `W` (polynomial `poly`, `trees` trees) given
/// the sent `v̇_i(c)`.
fn blind_claims(poly: usize, trees: usize, c: EF, v_dot: &[EF]) -> Result<Vec<Claim>, VerifyError> {
    let s = index_vars(trees);
    let a = constant_head()[0];
    let z = vanishing_eval(&[c]);
    let norm = (EF::ONE + z)
        .try_inverse()
        .ok_or_else(|| VerifyError::Sumcheck("root step: 1 + Z(c) vanishes".into()))?;
    let at = |b: EF, index: Vec<EF>| -> Vec<EF> {
        std::iter::once(b)
            .chain(index)
            .chain(std::iter::once(a))
            .collect()
    };
    let mut claims: Vec<Claim> = v_dot
        .iter()
        .enumerate()
        .map(|(i, &v)| Claim {
            poly,
            point: at(z * norm, bits(i, s)),
            value: v * norm,
        })
        .collect();
    claims.extend((trees..1 << s).map(|i| Claim {
        poly,
        point: at(EF::ZERO, bits(i, s)),
        value: EF::ZERO,
    }));
    let half = EF::from(F::TWO).inverse();
    claims.push(Claim {
        poly,
        point: at(EF::ZERO, vec![half; s]),
        value: EF::ZERO,
    });
    Ok(claims)
}

/// `σ_i` per tree: `−1` for each table's own tree (its last).
pub(super) fn signs(trees: &[usize]) -> Vec<EF> {
    trees
        .iter()
        .flat_map(|&n| (0..n).map(move |i| if i + 1 == n { -EF::ONE } else { EF::ONE }))
        .collect()
}

/// The root step's polynomial terms: tree `j`'s tables are
/// `4j..4j + 4` = `[p_1, q_1, q̄_1, v]`.
pub(super) fn terms(blinded: &[EF], signs: &[EF], gamma: EF) -> Vec<Term> {
    let half = EF::from(F::TWO).inverse();
    let mut coeff = EF::ONE;
    let mut out = Vec::with_capacity(3 * blinded.len());
    for (j, (&u, &sign)) in blinded.iter().zip(signs).enumerate() {
        let [p, q, qb, v] = [4 * j, 4 * j + 1, 4 * j + 2, 4 * j + 3];
        out.push(Term {
            coeff: coeff * sign,
            factors: vec![p, qb],
        });
        out.push(Term {
            coeff: -coeff * u * half,
            factors: vec![q, qb],
        });
        out.push(Term {
            coeff: coeff * half,
            factors: vec![v, q, qb],
        });
        coeff *= gamma;
    }
    out
}

fn all_masked(trees: usize) -> Vec<MaskedMle> {
    (0..4 * trees)
        .map(|mle| MaskedMle { mle, poly: None })
        .collect()
}

fn draw_gamma(t: &mut Transcript, blinded: &[EF]) -> EF {
    t.label(b"logup/zk-roots");
    t.absorb_efs(blinded);
    t.challenge_ef()
}

/// Where the root step's masks sit: `g` is `g_poly`, table `j`'s `W` is
/// `blind_polys[j]`, tree `i`'s `[R_p, R_q, R_q̄]` are
/// `tree_polys + 3i ..= tree_polys + 3i + 2`.
pub(super) struct RootLayout {
    pub g_poly: usize,
    pub blind_polys: Vec<usize>,
    pub tree_polys: usize,
    /// Per table, its tree count.
    pub trees: Vec<usize>,
}

impl RootLayout {
    pub(super) fn new(trees: Vec<usize>, first_poly: usize) -> Self {
        let blind_polys = (first_poly + 1..).take(trees.len()).collect();
        Self {
            g_poly: first_poly,
            tree_polys: first_poly + 1 + trees.len(),
            blind_polys,
            trees,
        }
    }

    /// The first polynomial after the root step's.
    pub(super) fn end(&self) -> usize {
        self.tree_polys + 3 * self.trees.iter().sum::<usize>()
    }
}

/// The root step's masks: `g`, per table its [`Blind`], per tree the
/// [`ClaimMask`]s of `[p_1, q_1, q̄_1]`.
#[derive(Clone, Debug)]
pub(super) struct RootMasks {
    pub g: MaskPolynomial,
    pub blinds: Vec<Blind>,
    pub trees: Vec<[ClaimMask; 3]>,
}

impl RootMasks {
    pub(super) fn random<R: CryptoRng + ?Sized>(trees: &[usize], rng: &mut R) -> Self {
        Self {
            g: MaskPolynomial::random(1, ROOT_DEGREE, rng),
            blinds: trees.iter().map(|&t| Blind::random(t, rng)).collect(),
            trees: (0..trees.iter().sum())
                .map(|_| [(); 3].map(|_| ClaimMask::random(1, rng)))
                .collect(),
        }
    }

    pub(super) fn tables(&self) -> Vec<Vec<F>> {
        std::iter::once(self.g.table())
            .chain(self.blinds.iter().map(|b| b.table().to_vec()))
            .chain(self.trees.iter().flatten().map(|r| r.table().to_vec()))
            .collect()
    }
}

/// Proves the root step from every tree's layer 1 `[p(0), p(1), q(0),
/// q(1)]` (trees in order, per table its witnesses then the table).
/// Returns the proof, the point `c` and the claims on the commitment.
pub(super) fn prove_roots(
    layer1: &[[EF; 4]],
    masks: &RootMasks,
    layout: &RootLayout,
    t: &mut Transcript,
) -> (RootProof, EF, Vec<Claim>) {
    let signs = signs(&layout.trees);
    let mut blinded = Vec::with_capacity(layer1.len());
    let mut v_of = Vec::with_capacity(layer1.len());
    let mut tree = 0;
    for (blind, &n) in masks.blinds.iter().zip(&layout.trees) {
        for i in 0..n {
            let [p0, p1, q0, q1] = layer1[tree];
            let u = (p0 * q1 + p1 * q0) * (q0 * q1).inverse();
            v_of.push(blind.v(i));
            blinded.push(signs[tree] * u + blind.v(i));
            tree += 1;
        }
    }
    let gamma = draw_gamma(t, &blinded);
    let mles: Vec<Mle> = layer1
        .iter()
        .zip(&v_of)
        .flat_map(|(&[p0, p1, q0, q1], &v)| {
            [vec![p0, p1], vec![q0, q1], vec![q1, q0], vec![v, v]].map(Mle::Ext)
        })
        .collect();
    let head = constant_head();
    let v_masks: Vec<EvalMask> = masks.blinds.iter().flat_map(Blind::mask).collect();
    let s_masks: Vec<EvalMask> = masks
        .trees
        .iter()
        .zip(&v_masks)
        .flat_map(|(r, v)| {
            let [p, q, qb] = r;
            [
                p.eval_mask_at(1, &head),
                q.eval_mask_at(1, &head),
                qb.eval_mask_at(1, &head),
                v.clone(),
            ]
        })
        .collect();
    let masked: Vec<(MaskedMle, &EvalMask)> =
        all_masked(layer1.len()).into_iter().zip(&s_masks).collect();
    let poly = SumOfProducts {
        num_vars: 1,
        mles,
        terms: terms(&blinded, &signs, gamma),
    };
    let out = masked_eval::prove(poly, None, &masked, &masks.g, layout.g_poly, t);
    let c = out.zk.point[0];
    let evals: Vec<[EF; 4]> = out
        .zk
        .final_evals
        .chunks(4)
        .map(|e| [e[0], e[1], e[2], e[3]])
        .collect();
    let mut claims = out.zk.mask_claims;
    let mut tree = 0;
    for (&poly, &n) in layout.blind_polys.iter().zip(&layout.trees) {
        let v_dot: Vec<EF> = evals[tree..tree + n].iter().map(|e| e[3]).collect();
        claims.extend(blind_claims(poly, n, c, &v_dot).expect("1 + Z(c) ≠ 0"));
        tree += n;
    }
    let proof = RootProof {
        blinded,
        sumcheck: out.zk.proof,
        evals,
    };
    (proof, c, claims)
}

/// Verifies the root step; returns `c` and the claims on the commitment.
pub(super) fn verify_roots(
    proof: &RootProof,
    layout: &RootLayout,
    t: &mut Transcript,
) -> Result<(EF, Vec<Claim>), VerifyError> {
    let n: usize = layout.trees.iter().sum();
    if proof.blinded.len() != n || proof.evals.len() != n {
        return Err(VerifyError::Malformed(
            "zk lookup proof: root step of wrong shape".into(),
        ));
    }
    let mut tree = 0;
    for (j, &trees) in layout.trees.iter().enumerate() {
        if proof.blinded[tree..tree + trees]
            .iter()
            .copied()
            .sum::<EF>()
            != EF::ZERO
        {
            return Err(VerifyError::Lookup(format!(
                "table {j}: witness and table fraction sums differ"
            )));
        }
        tree += trees;
    }
    let gamma = draw_gamma(t, &proof.blinded);
    let terms = terms(&proof.blinded, &signs(&layout.trees), gamma);
    let masked = all_masked(n);
    let final_evals: Vec<EF> = proof.evals.iter().flatten().copied().collect();
    let statement = MaskedStatement {
        num_vars: 1,
        terms: &terms,
        masked: &masked,
        eq_point: None,
        incoming: &[],
    };
    let sent = MaskedEvals {
        final_evals: &final_evals,
        r_values: &[],
    };
    let sub = masked_eval::verify_with_incoming(
        &statement,
        EF::ZERO,
        &proof.sumcheck,
        &sent,
        layout.g_poly,
        t,
    )?;
    let c = sub.point[0];
    let mut claims = sub.mask_claims;
    let mut tree = 0;
    for (&poly, &trees) in layout.blind_polys.iter().zip(&layout.trees) {
        let v_dot: Vec<EF> = proof.evals[tree..tree + trees]
            .iter()
            .map(|e| e[3])
            .collect();
        claims.extend(blind_claims(poly, trees, c, &v_dot)?);
        tree += trees;
    }
    Ok((c, claims))
}

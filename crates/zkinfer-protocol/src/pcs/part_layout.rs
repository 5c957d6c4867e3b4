//! How one WHIR instance ("part") holds its polynomials, and what WHIR opens
//! for a batch of claims on them.
//!
//! Two layouts, chosen by [`PcsParams::reduce_claims`]:
//! - **tables**: one p3 table per polynomial (each padded to at least
//!   [`super::MIN_TABLE_VARS`]` + folding` variables), stacked by p3; each claim is
//!   one opening batch on its own table. p3's work per claim grows with the
//!   claimed table only, so few claims on a large commitment (a big model's
//!   weights) open fastest this way;
//! - **stacked**: one table of ours (`stack.rs`), and two or more claims are
//!   first reduced to one by a sumcheck (`reduce.rs`). p3 also does a fixed
//!   amount of work per claim (≈ 0.4 ms at 2^20), which dominates when there
//!   are hundreds of claims (a transformer's activations).
//!
//! Prover and verifier derive the same layout from the parameters and the
//! public polynomial sizes.

use p3_matrix::dense::RowMajorMatrix;
use p3_multilinear_util::point::Point;
use p3_sumcheck::layout::Table;
use p3_sumcheck::{OpeningBatch, OpeningProtocol, TableShape, TableSpec};

use crate::field::{PrimeCharacteristicRing, EF, F};

use super::stack::Stack;
use super::{Claim, PcsParams};

/// One part's layout (module doc).
pub(super) enum PartLayout {
    /// Variables of each polynomial's (padded) table, in part order.
    Tables(Vec<usize>),
    Stacked(Stack),
}

/// What WHIR opens: the protocol, the points in p3's batch order and the
/// values in that order.
pub(super) struct WhirClaims {
    pub protocol: OpeningProtocol,
    pub points: Vec<Point<EF>>,
    pub values: Vec<EF>,
}

/// The sizes the parts are formed from: each polynomial's table in the
/// tables layout, the polynomial itself in the stacked one.
pub(super) fn layout_vars(params: &PcsParams, poly_num_vars: &[usize]) -> Vec<usize> {
    if params.reduce_claims {
        poly_num_vars.to_vec()
    } else {
        let min = params.min_table_vars();
        poly_num_vars.iter().map(|&n| n.max(min)).collect()
    }
}

impl PartLayout {
    /// The layout of the polynomials `polys` of a commitment to polynomials
    /// of `poly_num_vars` variables (`None` on overflow).
    pub fn new(params: &PcsParams, polys: &[usize], poly_num_vars: &[usize]) -> Option<Self> {
        let nvs: Vec<usize> = polys.iter().map(|&i| poly_num_vars[i]).collect();
        let layout = if params.reduce_claims {
            Self::Stacked(Stack::new(&nvs, params.min_table_vars())?)
        } else {
            Self::Tables(layout_vars(params, &nvs))
        };
        layout.checked_num_vars().map(|_| layout)
    }

    fn checked_num_vars(&self) -> Option<usize> {
        match self {
            Self::Stacked(s) => Some(s.num_vars),
            Self::Tables(tv) => {
                let mut total: usize = 0;
                for &n in tv {
                    if n >= 48 {
                        return None;
                    }
                    total = total.checked_add(1usize << n)?;
                }
                Some(total.checked_next_power_of_two()?.trailing_zeros() as usize)
            }
        }
    }

    /// Variables of the part's stacked polynomial.
    pub fn num_vars(&self) -> usize {
        self.checked_num_vars()
            .expect("checked when the layout was made")
    }

    /// p3's tables holding `polys` (the part's polynomials, in part order).
    pub fn tables(&self, polys: &[&[F]]) -> Vec<Table<F>> {
        match self {
            Self::Stacked(stack) => vec![Table::new(RowMajorMatrix::new(
                stack.fill(polys),
                1 << stack.num_vars,
            ))],
            Self::Tables(tv) => polys
                .iter()
                .zip(tv)
                .map(|(p, &n)| {
                    let mut values = Vec::with_capacity(1 << n);
                    values.extend_from_slice(p);
                    values.resize(1 << n, F::ZERO);
                    Table::new(RowMajorMatrix::new(values, 1 << n))
                })
                .collect(),
        }
    }

    /// The claims (numbered within the part) as stack claims: the stacked
    /// layout's input to the reduction.
    pub fn stack_claims(stack: &Stack, claims: &[Claim]) -> Vec<(Vec<EF>, EF)> {
        claims
            .iter()
            .map(|c| (stack.point(c).as_slice().to_vec(), c.value))
            .collect()
    }

    /// What WHIR opens for `claims` in the tables layout: one batch per
    /// claim on its own table (p3 iterates batches table by table).
    pub fn table_claims(table_vars: &[usize], claims: &[Claim]) -> WhirClaims {
        let mut per_table: Vec<Vec<usize>> = vec![Vec::new(); table_vars.len()];
        for (i, c) in claims.iter().enumerate() {
            per_table[c.poly].push(i);
        }
        let specs = table_vars
            .iter()
            .zip(&per_table)
            .map(|(&n, idx)| {
                TableSpec::new(
                    TableShape::new(n, 1),
                    vec![OpeningBatch::new(vec![0], Vec::new()); idx.len()],
                )
            })
            .collect();
        let order = per_table.concat();
        WhirClaims {
            protocol: OpeningProtocol::new(specs),
            // Padding adds zero most-significant coordinates.
            points: order
                .iter()
                .map(|&i| {
                    let c = &claims[i];
                    let mut coords = vec![EF::ZERO; table_vars[c.poly] - c.point.len()];
                    coords.extend_from_slice(&c.point);
                    Point::new(coords)
                })
                .collect(),
            values: order.iter().map(|&i| claims[i].value).collect(),
        }
    }

    /// What WHIR opens for claims already on the stacked table.
    pub fn stacked_claims(num_vars: usize, claims: Vec<(Vec<EF>, EF)>) -> WhirClaims {
        WhirClaims {
            protocol: OpeningProtocol::new(vec![TableSpec::new(
                TableShape::new(num_vars, 1),
                vec![OpeningBatch::new(vec![0], Vec::new()); claims.len()],
            )]),
            values: claims.iter().map(|(_, v)| *v).collect(),
            points: claims.into_iter().map(|(z, _)| Point::new(z)).collect(),
        }
    }
}

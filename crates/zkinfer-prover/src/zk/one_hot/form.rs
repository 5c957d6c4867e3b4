//! Where the one-hot rows sit in the padded input, and the check's public
//! factors there: in closed form when the input is nothing but the rows
//! (the vocabulary its last axis), else from a table of every padded
//! position's role (one-hot segments beside other graph inputs in one flat
//! sample; `O(2^n)` for the verifier, as reading a public input would be).

use zkinfer_model::ir::QuantModel;
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing, F};
use zkinfer_protocol::mle::{eq_eval, eq_table, evaluate_ext, num_vars_for};
use zkinfer_protocol::EF;

use crate::shape::PaddedShape;
use crate::spatial::{masked_eq_at, valid_mass};

/// What a padded position of the input holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cell {
    /// An entry of one-hot row `.0`.
    Hot(usize),
    /// A value of another graph input (range-checked, not constrained here).
    Value,
    /// Padding: 0 in an honest input.
    Padding,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// The whole input is rows of `vocab` entries, the vocabulary its last
    /// axis: a row is named by the leading `row_vars` variables (samples
    /// then the ids' axes, `rows` their real extents and variables), a
    /// column by the last `col_vars`.
    Rows {
        vocab: usize,
        rows: Vec<(usize, usize)>,
        row_vars: usize,
        col_vars: usize,
    },
    /// Every padded position's role; `rows` one-hot rows in all.
    Cells { cells: Vec<Cell>, rows: usize },
}

/// The check's challenges: `τ` over the input, `τ_r` over the rows (the
/// row variables of `τ` in [`Form::Rows`]), `λ` for padding, `μ` for the
/// row sums.
pub(crate) struct Challenges {
    pub tau: Vec<EF>,
    pub tau_rows: Vec<EF>,
    pub lambda: EF,
    pub mu: EF,
}

impl Form {
    /// The one-hot segments of `model`'s input laid out by `shape`: rows
    /// when the single segment is the whole input with the vocabulary last,
    /// cells otherwise. `Err` names a segment that is not whole rows inside
    /// a sample, or overlaps another.
    pub fn new(model: &QuantModel, shape: &PaddedShape) -> Result<Self, String> {
        let per = shape.sample_len();
        if let [seg] = model.input_segments.as_slice() {
            if let Some(v) = seg.one_hot {
                if seg.offset == 0 && seg.len == per && shape.dims.last() == Some(&v) && v > 0 {
                    let mut rows = vec![(shape.batch, shape.batch_vars())];
                    let axes = &shape.dims[..shape.dims.len() - 1];
                    rows.extend(axes.iter().map(|&d| (d, num_vars_for(d))));
                    return Ok(Self::Rows {
                        vocab: v,
                        row_vars: rows.iter().map(|r| r.1).sum(),
                        col_vars: num_vars_for(v),
                        rows,
                    });
                }
            }
        }
        let positions = shape.padded_indices();
        let mut cells = vec![Cell::Padding; 1 << shape.num_vars()];
        for &p in &positions {
            cells[p] = Cell::Value;
        }
        let mut rows = 0;
        for s in 0..shape.batch {
            for seg in &model.input_segments {
                let Some(v) = seg.one_hot else { continue };
                if v == 0 || seg.len % v != 0 || seg.offset + seg.len > per {
                    return Err(format!(
                        "input '{}': its one-hot segment is not whole rows of {v} inside a sample",
                        seg.name
                    ));
                }
                for row in 0..seg.len / v {
                    for c in 0..v {
                        let p = positions[s * per + seg.offset + row * v + c];
                        if cells[p] != Cell::Value {
                            return Err(format!(
                                "input '{}': its one-hot segment overlaps another",
                                seg.name
                            ));
                        }
                        cells[p] = Cell::Hot(rows);
                    }
                    rows += 1;
                }
            }
        }
        Ok(Self::Cells { cells, rows })
    }

    /// Whether every input entry is in a one-hot row or padding (then the
    /// check implies the input's range).
    pub fn covers_input(&self) -> bool {
        match self {
            Self::Rows { .. } => true,
            Self::Cells { cells, .. } => !cells.contains(&Cell::Value),
        }
    }

    /// Variables of `τ_r` drawn on their own (none for rows: `τ`'s).
    pub fn own_row_vars(&self) -> usize {
        match self {
            Self::Rows { .. } => 0,
            Self::Cells { rows, .. } => num_vars_for(*rows),
        }
    }

    /// `τ_r`, from `τ` and the challenges drawn for it.
    pub fn row_point(&self, tau: &[EF], own: Vec<EF>) -> Vec<EF> {
        match self {
            Self::Rows { row_vars, .. } => tau[..*row_vars].to_vec(),
            Self::Cells { .. } => own,
        }
    }

    /// `Σ_{ρ real} eq(τ_r, ρ)`: the row sums' right side, over `k`.
    pub fn row_mass(&self, tau_rows: &[EF]) -> EF {
        match self {
            Self::Rows { rows, .. } => {
                let mut at = 0;
                let mut mass = EF::ONE;
                for &(len, vars) in rows {
                    mass *= valid_mass(&tau_rows[at..at + vars], len);
                    at += vars;
                }
                mass
            }
            Self::Cells { rows, .. } => valid_mass(tau_rows, *rows),
        }
    }

    /// Whether padded row `row` of [`Form::Rows`] is a real row.
    fn real_row(rows: &[(usize, usize)], row: usize) -> bool {
        let mut low = 0;
        for &(len, vars) in rows.iter().rev() {
            if (row >> low) & ((1 << vars) - 1) >= len {
                return false;
            }
            low += vars;
        }
        true
    }

    /// Every padded position's role (materialised for rows too: the
    /// prover's tables and the honest-input check walk them).
    fn cell(&self, y: usize) -> Cell {
        match self {
            Self::Rows {
                vocab,
                rows,
                col_vars,
                ..
            } => {
                let (row, c) = (y >> col_vars, y & ((1 << col_vars) - 1));
                if c < *vocab && Self::real_row(rows, row) {
                    Cell::Hot(row)
                } else {
                    Cell::Padding
                }
            }
            Self::Cells { cells, .. } => cells[y],
        }
    }

    /// The public factors' tables: 0 `eq(τ, ·)` where Booleanity binds
    /// (everywhere for rows: padding must be 0, which is Boolean; the
    /// one-hot entries for cells), 1 `λ·eq(τ, ·)` on padding plus
    /// `μ·eq(τ_r, row)` on a row's entries (for rows, every padded row's
    /// columns below `V`: a padded row must sum to 0).
    pub fn tables(&self, ch: &Challenges) -> (Vec<EF>, Vec<EF>) {
        let eq = eq_table(&ch.tau);
        let eq_rows = eq_table(&ch.tau_rows);
        let mut boolean = Vec::with_capacity(eq.len());
        let mut weight = Vec::with_capacity(eq.len());
        for (y, &e) in eq.iter().enumerate() {
            let cell = self.cell(y);
            let counted = match (self, cell) {
                (
                    Self::Rows {
                        vocab, col_vars, ..
                    },
                    _,
                ) => ((y & ((1 << col_vars) - 1)) < *vocab).then_some(y >> col_vars),
                (Self::Cells { .. }, Cell::Hot(row)) => Some(row),
                _ => None,
            };
            let binds = matches!(self, Self::Rows { .. }) || matches!(cell, Cell::Hot(_));
            boolean.push(if binds { e } else { EF::ZERO });
            let mut w = EF::ZERO;
            if cell == Cell::Padding {
                w += ch.lambda * e;
            }
            if let Some(row) = counted {
                w += ch.mu * eq_rows[row];
            }
            weight.push(w);
        }
        (boolean, weight)
    }

    /// [`Form::tables`] at `r` (the verifier's side): in closed form for
    /// rows, by the tables for cells.
    pub fn tables_at(&self, ch: &Challenges, r: &[EF]) -> (EF, EF) {
        let Self::Rows {
            vocab,
            rows,
            row_vars,
            ..
        } = self
        else {
            let (boolean, weight) = self.tables(ch);
            return (evaluate_ext(&boolean, r), evaluate_ext(&weight, r));
        };
        let (h, tau) = (*row_vars, &ch.tau);
        let eq = eq_eval(tau, r);
        // `eq(τ, r)` on the real entries, axis by axis; the rest is padding.
        let mut real = masked_eq_at(&tau[h..], &r[h..], *vocab);
        let mut at = 0;
        for &(len, vars) in rows {
            real *= masked_eq_at(&tau[at..at + vars], &r[at..at + vars], len);
            at += vars;
        }
        let counted = eq_eval(&tau[..h], &r[..h]) * valid_mass(&r[h..], *vocab);
        (eq, ch.lambda * (eq - real) + ch.mu * counted)
    }

    /// Why the padded input `x` is not what an honest one-hot input holds
    /// (a row without exactly one `one` among entries in `{0, one}`, or
    /// nonzero padding), for a clear error before proving.
    pub fn dishonest(&self, x: &[F], one: i64) -> Option<String> {
        let (zero, one) = (F::ZERO, f_from_i64(one));
        let mut ones = std::collections::BTreeMap::<usize, usize>::new();
        for (y, &v) in x.iter().enumerate() {
            match self.cell(y) {
                Cell::Padding if v != zero => {
                    return Some(format!("padding position {y} is not 0"));
                }
                Cell::Hot(row) => {
                    if v != zero && v != one {
                        return Some(format!(
                            "one-hot row {row} holds a value other than 0 and 1"
                        ));
                    }
                    *ones.entry(row).or_default() += usize::from(v == one);
                }
                _ => {}
            }
        }
        let bad = ones.iter().find(|&(_, &n)| n != 1)?;
        Some(format!("one-hot row {} holds {} ones", bad.0, bad.1))
    }
}

//! Input files: ezkl-style JSON `{"input_data": [[...], ...]}` and NumPy `.npy`
//! (f32/f64/i32/i64, little-endian, C order). Errors, never panics.
//!
//! A model with several graph inputs takes one `input_data` entry per input,
//! in graph order ([`interleave`]); a `.npy` file holds a single input.

use crate::error::{ModelError, Result};
use crate::float::InputSegment;
use std::path::Path;

/// A dense array read from a `.npy` file (values widened to f64).
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl NpyArray {
    /// Splits along the first axis (a 1-D array is one sample... unless `as_rows` is false).
    pub fn rows(&self) -> Vec<Vec<f64>> {
        if self.shape.len() <= 1 {
            return vec![self.data.clone()];
        }
        let n = self.shape[0];
        if n == 0 {
            return vec![];
        }
        let per = self.data.len() / n;
        self.data.chunks(per.max(1)).map(|c| c.to_vec()).collect()
    }
}

fn ferr(path: &str, reason: impl Into<String>) -> ModelError {
    ModelError::InputFile {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// Parses `.npy` bytes.
pub fn parse_npy(bytes: &[u8], path: &str) -> Result<NpyArray> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(ferr(path, "not a .npy file (bad magic)"));
    }
    let major = bytes[6];
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(ferr(path, "truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(ferr(path, format!("unsupported .npy version {v}"))),
    };
    let end = start
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| ferr(path, "truncated header"))?;
    let header =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| ferr(path, "header is not text"))?;
    let field = |key: &str| -> Option<&str> {
        let i = header.find(&format!("'{key}'"))?;
        let rest = &header[i + key.len() + 2..];
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        Some(rest)
    };
    let descr = field("descr").ok_or_else(|| ferr(path, "header has no descr"))?;
    let descr = descr
        .get(1..)
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| ferr(path, "bad descr"))?;
    let fortran =
        field("fortran_order").ok_or_else(|| ferr(path, "header has no fortran_order"))?;
    if fortran.starts_with("True") {
        return Err(ferr(path, "Fortran-order arrays are not supported"));
    }
    let shape_s = field("shape").ok_or_else(|| ferr(path, "header has no shape"))?;
    let shape_s = shape_s
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| ferr(path, "bad shape"))?;
    let shape: Vec<usize> = shape_s
        .split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| ferr(path, format!("bad shape entry `{s}`")))
        })
        .collect::<Result<_>>()?;
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| ferr(path, "shape overflows"))?;
    let (width, kind) = match descr {
        "<f4" => (4, 'f'),
        "<f8" => (8, 'f'),
        "<i4" => (4, 'i'),
        "<i8" => (8, 'i'),
        "|u1" | "|i1" => (1, if descr == "|u1" { 'u' } else { 'i' }),
        d => {
            return Err(ferr(
                path,
                format!("unsupported dtype `{d}` (need little-endian f4/f8/i4/i8)"),
            ))
        }
    };
    let body = &bytes[end..];
    let need = n
        .checked_mul(width)
        .ok_or_else(|| ferr(path, "shape overflows"))?;
    if body.len() < need {
        return Err(ferr(
            path,
            format!(
                "truncated: {} data bytes, shape {shape:?} needs {need}",
                body.len()
            ),
        ));
    }
    let data = body[..need]
        .chunks_exact(width)
        .map(|c| match (width, kind) {
            (4, 'f') => f32::from_le_bytes(c.try_into().unwrap()) as f64,
            (8, 'f') => f64::from_le_bytes(c.try_into().unwrap()),
            (4, _) => i32::from_le_bytes(c.try_into().unwrap()) as f64,
            (8, _) => i64::from_le_bytes(c.try_into().unwrap()) as f64,
            (1, 'u') => c[0] as f64,
            _ => c[0] as i8 as f64,
        })
        .collect();
    Ok(NpyArray { shape, data })
}

fn flatten_json(v: &serde_json::Value, out: &mut Vec<f64>, path: &str) -> Result<()> {
    match v {
        serde_json::Value::Number(n) => {
            out.push(
                n.as_f64()
                    .ok_or_else(|| ferr(path, "number out of range"))?,
            );
            Ok(())
        }
        serde_json::Value::Array(a) => a.iter().try_for_each(|x| flatten_json(x, out, path)),
        serde_json::Value::String(s) => {
            // allow "NaN"/"inf" spellings so they are rejected later with a clear message
            let x: f64 = s
                .trim()
                .parse()
                .map_err(|_| ferr(path, format!("`{s}` is not a number")))?;
            out.push(x);
            Ok(())
        }
        other => {
            let mut s = other.to_string();
            if s.len() > 60 {
                s = format!("{}…", s.chars().take(60).collect::<String>());
            }
            Err(ferr(path, format!("expected numbers, found `{s}`")))
        }
    }
}

/// Parses ezkl-style JSON: `{"input_data": [[sample 0 ...], [sample 1 ...]]}`; a flat
/// `{"input_data": [...]}` or a bare array is one sample.
pub fn parse_json_samples(text: &str, path: &str) -> Result<Vec<Vec<f64>>> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ferr(path, format!("invalid JSON: {e}")))?;
    let data = match &v {
        serde_json::Value::Object(o) => o
            .get("input_data")
            .ok_or_else(|| ferr(path, "JSON object has no \"input_data\" field"))?,
        serde_json::Value::Array(_) => &v,
        _ => return Err(ferr(path, "expected {\"input_data\": [[...]]}")),
    };
    let arr = data
        .as_array()
        .ok_or_else(|| ferr(path, "\"input_data\" must be an array"))?;
    if arr.is_empty() {
        return Err(ferr(path, "\"input_data\" is empty"));
    }
    let samples: Vec<Vec<f64>> = if arr.iter().all(|x| x.is_array()) {
        arr.iter()
            .map(|s| {
                let mut out = vec![];
                flatten_json(s, &mut out, path)?;
                Ok(out)
            })
            .collect::<Result<_>>()?
    } else {
        let mut out = vec![];
        flatten_json(data, &mut out, path)?;
        vec![out]
    };
    Ok(samples)
}

/// An input file's entries as read: the JSON file's `input_data` entries (or
/// the rows of a `.npy` array), each flattened.
#[derive(Clone, Debug, PartialEq)]
pub struct InputFile {
    pub entries: Vec<Vec<f64>>,
    /// Read from a `.npy` array, which holds one graph input only.
    pub npy: bool,
}

/// Reads samples from a `.npy` (`[N, ...]`, or one 1-D sample) or JSON file.
pub fn load_samples(path: impl AsRef<Path>) -> Result<Vec<Vec<f64>>> {
    Ok(load_file(path)?.entries)
}

/// Reads a `.npy` (its rows) or JSON (its `input_data` entries) input file;
/// every value must be finite.
pub fn load_file(path: impl AsRef<Path>) -> Result<InputFile> {
    let p = path.as_ref();
    let ps = p.display().to_string();
    let bytes = std::fs::read(p).map_err(|e| ModelError::Io {
        path: ps.clone(),
        source: e,
    })?;
    let npy = bytes.starts_with(b"\x93NUMPY");
    let samples = if npy {
        parse_npy(&bytes, &ps)?.rows()
    } else {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ferr(&ps, "neither a .npy file nor UTF-8 JSON"))?;
        parse_json_samples(text, &ps)?
    };
    if samples.is_empty() {
        return Err(ferr(&ps, "no samples"));
    }
    for (i, s) in samples.iter().enumerate() {
        if let Some((j, v)) = s.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ferr(
                &ps,
                format!("sample {i}, value #{j} is not finite ({v})"),
            ));
        }
    }
    Ok(InputFile {
        entries: samples,
        npy,
    })
}

/// The graph inputs behind `segments`, in graph order: name, per-sample
/// shape and length of the values an input file holds for each. A graph input
/// gives one segment, or two when its ids are also used as numbers (its
/// values, then their one-hot encoding).
pub fn graph_inputs(segments: &[InputSegment]) -> Vec<(&str, Vec<usize>, usize)> {
    let mut out: Vec<(&str, Vec<usize>, usize)> = Vec::new();
    for seg in segments {
        if out.iter().any(|(n, _, _)| *n == seg.name) {
            continue;
        }
        let mut shape = seg.shape.clone();
        if seg.one_hot.is_some() {
            shape.pop();
        }
        out.push((&seg.name, shape, seg.ids_len()));
    }
    out
}

/// Whether the statement's input is not simply the values an input file
/// holds: several graph inputs, or ids expanded to one-hot rows.
pub fn is_composite(segments: &[InputSegment]) -> bool {
    segments.len() > 1 || segments.iter().any(|s| s.one_hot.is_some())
}

/// Lays out the entries of an input file — one per graph input, in graph
/// order, each holding all its samples flattened (ezkl's convention) — in the
/// statement's per-sample order: sample `s` is `[in_1 of s, in_2 of s, …]`
/// ([`InputSegment`]), a one-hot segment holding the one-hot rows of its
/// input's ids ([`one_hot`]). Returns the values and the sample count; every
/// input must hold the same whole number of samples. Errors name the input.
pub fn interleave(
    entries: &[Vec<f64>],
    segments: &[InputSegment],
) -> std::result::Result<(Vec<f64>, usize), String> {
    let inputs = graph_inputs(segments);
    let names = || {
        inputs
            .iter()
            .map(|(name, shape, _)| format!("`{name}` {shape:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if entries.len() != inputs.len() {
        return Err(format!(
            "the model has {} graph input{} ({}) and takes one \"input_data\" entry per input, in this order; found {} entr{}",
            inputs.len(),
            if inputs.len() == 1 { "" } else { "s" },
            names(),
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" }
        ));
    }
    let mut samples = None;
    for (k, (e, (name, shape, len))) in entries.iter().zip(&inputs).enumerate() {
        if *len == 0 || e.is_empty() || !e.len().is_multiple_of(*len) {
            return Err(format!(
                "entry #{k} holds {} values, not a whole number of samples of input `{name}` ({len} values, shape {shape:?}); the inputs are, in order: {}",
                e.len(),
                names()
            ));
        }
        let n = e.len() / len;
        match samples {
            None => samples = Some((n, *name)),
            Some((m, first)) if m != n => {
                return Err(format!(
                    "input `{first}` holds {m} sample(s) but input `{name}` holds {n}"
                ))
            }
            Some(_) => {}
        }
    }
    let n = samples.map_or(0, |(n, _)| n);
    let per: usize = segments.iter().map(|s| s.len).sum();
    let mut out = Vec::with_capacity(n * per);
    for s in 0..n {
        for seg in segments {
            let g = inputs
                .iter()
                .position(|(name, _, _)| *name == seg.name)
                .expect("every segment names a graph input");
            let len = inputs[g].2;
            let vals = &entries[g][s * len..(s + 1) * len];
            match seg.one_hot {
                None => out.extend_from_slice(vals),
                Some(depth) => out.extend(
                    one_hot(vals, depth)
                        .map_err(|e| format!("input `{}`, sample {s}: {e}", seg.name))?,
                ),
            }
        }
    }
    Ok((out, n))
}

/// One-hot rows of depth `v` for integer `ids` in `[-v, v)` (a negative id
/// counts from the end, as ONNX Gather reads it): what a Gather from a table
/// of `v` rows by these ids multiplies the table by.
pub fn one_hot(ids: &[f64], v: usize) -> std::result::Result<Vec<f64>, String> {
    let mut out = vec![0.0; ids.len() * v];
    for (j, &id) in ids.iter().enumerate() {
        let vi = v as f64;
        if id.fract() != 0.0 || !(-vi..vi).contains(&id) {
            return Err(format!(
                "value #{j} is {id}, not a token id: ids index a table of {v} rows and must be integers in [-{v}, {v})"
            ));
        }
        let row = if id < 0.0 { id + vi } else { id } as usize;
        out[j * v + row] = 1.0;
    }
    Ok(out)
}

/// One statement's input values and sample count from an input file whose
/// statement input is composite ([`is_composite`]): one entry per graph input
/// ([`interleave`]). A model with a single graph input (its ids one-hot) also
/// takes its samples as several entries or `.npy` rows, concatenated.
pub fn composite_values(
    file: &InputFile,
    segments: &[InputSegment],
) -> std::result::Result<(Vec<f64>, usize), String> {
    let inputs = graph_inputs(segments);
    if inputs.len() == 1 {
        return interleave(&[file.entries.concat()], segments);
    }
    if file.npy {
        return Err(format!(
            "a .npy file holds one array, and the model has {} graph inputs ({}): give a JSON file with one \"input_data\" entry per input",
            inputs.len(),
            inputs
                .iter()
                .map(|(n, _, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    interleave(&file.entries, segments)
}

/// Checks that the values of each integer or boolean graph input in `x`
/// (whole samples in the statement's order) are of its type: such an input is
/// the number it holds, and a fraction would be read differently by ONNX.
pub fn check_types(x: &[f64], segments: &[InputSegment]) -> std::result::Result<(), String> {
    let per: usize = segments.iter().map(|s| s.len).sum();
    if per == 0 {
        return Ok(());
    }
    for seg in segments.iter().filter(|s| s.one_hot.is_none()) {
        for (s, sample) in x.chunks(per).enumerate() {
            let end = seg.offset.saturating_add(seg.len);
            let vals = sample.get(seg.offset..end).unwrap_or(&[]);
            if let Some((j, v)) = vals.iter().enumerate().find(|(_, v)| !seg.elem.admits(**v)) {
                return Err(format!(
                    "input `{}` is {}: value #{j} of sample {s} is {v}, not a value of that type",
                    seg.name,
                    seg.elem.onnx_name()
                ));
            }
        }
    }
    Ok(())
}

/// Reads integer class labels from a `.npy` (any supported dtype) or JSON array.
pub fn load_labels(path: impl AsRef<Path>) -> Result<Vec<i64>> {
    let p = path.as_ref();
    let ps = p.display().to_string();
    let bytes = std::fs::read(p).map_err(|e| ModelError::Io {
        path: ps.clone(),
        source: e,
    })?;
    let vals = if bytes.starts_with(b"\x93NUMPY") {
        parse_npy(&bytes, &ps)?.data
    } else {
        let text = std::str::from_utf8(&bytes).map_err(|_| ferr(&ps, "neither .npy nor JSON"))?;
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ferr(&ps, format!("invalid JSON: {e}")))?;
        let mut out = vec![];
        flatten_json(&v, &mut out, &ps)?;
        out
    };
    vals.iter()
        .map(|&v| {
            if v.is_finite() && v.fract() == 0.0 {
                Ok(v as i64)
            } else {
                Err(ferr(&ps, format!("label {v} is not an integer")))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::float::InputElem;

    fn seg(offset: usize, len: usize, one_hot: Option<usize>) -> InputSegment {
        let shape = match one_hot {
            Some(v) => vec![1, len / v, v],
            None => vec![1, len],
        };
        InputSegment {
            name: "ids".into(),
            shape,
            elem: InputElem::Int64,
            offset,
            len,
            one_hot,
        }
    }

    #[test]
    fn ids_expand_to_one_hot_rows_and_negative_ids_count_from_the_end() {
        assert_eq!(
            one_hot(&[2.0, -1.0], 3).unwrap(),
            vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
        );
        for bad in [3.0, -4.0, 0.5] {
            let e = one_hot(&[bad], 3).unwrap_err();
            assert!(e.contains("not a token id") && e.contains("[-3, 3)"), "{e}");
        }
    }

    #[test]
    fn an_input_read_as_ids_and_as_numbers_fills_both_its_segments_per_sample() {
        // Two samples of two ids each: raw values, then their one-hot rows (depth 3).
        let segments = [seg(0, 2, None), seg(2, 6, Some(3))];
        assert_eq!(graph_inputs(&segments).len(), 1);
        let (x, n) = interleave(&[vec![1.0, 0.0, 2.0, 2.0]], &segments).unwrap();
        assert_eq!(n, 2);
        #[rustfmt::skip]
        let want = vec![
            1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0,
            2.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0,
        ];
        assert_eq!(x, want);
        let e = interleave(&[vec![1.0, 0.0, 2.0]], &segments).unwrap_err();
        assert!(e.contains("not a whole number of samples"), "{e}");
    }
}

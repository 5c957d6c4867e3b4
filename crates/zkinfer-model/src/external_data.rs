//! ONNX files whose tensors live in a side file ("external data"): PyTorch's
//! exporter writes `model.onnx` with its weights in `model.onnx.data` by
//! default. The importer works on one self-contained byte string (so does
//! the float report a compiled model keeps), so [`read_onnx`] inlines every
//! external tensor into the model before anything else reads it.
//!
//! Each tensor names its file (`location`, relative to the model's folder),
//! an `offset` and a `length` (default: to the end of the file). A location
//! that is absolute or climbs out of the folder is refused, as is a range
//! past the end of its file: a model file must not read arbitrary files.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use prost::Message;
use tract_onnx::pb;

use crate::error::{ModelError, Result};
use crate::onnx_import::parse_proto;

/// `TensorProto.data_location` of a tensor stored in a side file.
const EXTERNAL: i32 = 1;

/// The ONNX model at `path` as self-contained bytes: the file itself when no
/// tensor is external, else the model re-encoded with every external tensor
/// read into its `raw_data`.
pub fn read_onnx(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
    let Ok(mut proto) = parse_proto(&bytes) else {
        // Not parseable here: the importer reports it with its own message.
        return Ok(bytes);
    };
    let Some(graph) = proto.graph.as_mut() else {
        return Ok(bytes);
    };
    let mut files = SideFiles {
        dir: path.parent().unwrap_or(Path::new("")).to_path_buf(),
        read: HashMap::new(),
    };
    if !inline_graph(graph, &mut files)? {
        return Ok(bytes);
    }
    Ok(proto.encode_to_vec())
}

/// The side files read so far, by location.
struct SideFiles {
    dir: PathBuf,
    read: HashMap<String, Vec<u8>>,
}

impl SideFiles {
    fn get(&mut self, location: &str, tensor: &str) -> Result<&[u8]> {
        let relative = Path::new(location);
        let inside = !location.is_empty()
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !inside {
            return Err(ModelError::Graph(format!(
                "tensor `{tensor}`: external data location `{location}` must be a file inside the model's folder"
            )));
        }
        if !self.read.contains_key(location) {
            let path = self.dir.join(relative);
            let data = std::fs::read(&path).map_err(|source| io_error(&path, source))?;
            self.read.insert(location.to_string(), data);
        }
        Ok(&self.read[location])
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ModelError {
    ModelError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Inlines the graph's external tensors (initializers and node attributes,
/// subgraphs included); whether any was.
fn inline_graph(graph: &mut pb::GraphProto, files: &mut SideFiles) -> Result<bool> {
    let mut any = false;
    for t in &mut graph.initializer {
        any |= inline_tensor(t, files)?;
    }
    for node in &mut graph.node {
        for a in &mut node.attribute {
            for t in a.t.iter_mut().chain(a.tensors.iter_mut()) {
                any |= inline_tensor(t, files)?;
            }
            for g in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                any |= inline_graph(g, files)?;
            }
        }
    }
    Ok(any)
}

/// Reads an external tensor's bytes into `raw_data`; whether it was external.
fn inline_tensor(t: &mut pb::TensorProto, files: &mut SideFiles) -> Result<bool> {
    if t.data_location != Some(EXTERNAL) && t.external_data.is_empty() {
        return Ok(false);
    }
    let name = t.name.clone();
    let entry = |key: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.clone())
    };
    let number = |key: &str| -> Result<Option<usize>> {
        entry(key)
            .map(|v| {
                v.parse::<usize>().map_err(|_| {
                    ModelError::Graph(format!(
                        "tensor `{name}`: external data {key} `{v}` is not a byte count"
                    ))
                })
            })
            .transpose()
    };
    let location = entry("location").ok_or_else(|| {
        ModelError::Graph(format!(
            "tensor `{name}` is stored externally but names no location"
        ))
    })?;
    let offset = number("offset")?.unwrap_or(0);
    let length = number("length")?;
    let file = files.get(&location, &name)?;
    let end = match length {
        Some(n) => offset.checked_add(n),
        None => Some(file.len()),
    };
    let range = end
        .filter(|&e| offset <= e && e <= file.len())
        .map(|e| offset..e)
        .ok_or_else(|| {
            ModelError::Graph(format!(
                "tensor `{name}`: external data at offset {offset}{} lies past the end of `{location}` ({} bytes)",
                length.map_or(String::new(), |n| format!(", length {n},")),
                file.len()
            ))
        })?;
    t.raw_data = file[range].to_vec();
    t.external_data.clear();
    t.data_location = None;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-node model `y = x·W` whose `W` lives in `weights.bin` at an
    /// offset, as PyTorch's exporter lays it out.
    fn external_model(dir: &Path, location: &str, offset: usize, length: Option<usize>) -> PathBuf {
        let w: Vec<f32> = vec![0.5, -1.0, 2.0, 0.25, 1.5, -0.75];
        let mut side = vec![0u8; offset];
        side.extend(w.iter().flat_map(|v| v.to_le_bytes()));
        std::fs::write(dir.join("weights.bin"), &side).unwrap();
        let entry = |key: &str, value: String| pb::StringStringEntryProto {
            key: key.into(),
            value,
        };
        let mut external_data = vec![
            entry("location", location.into()),
            entry("offset", offset.to_string()),
        ];
        if let Some(n) = length {
            external_data.push(entry("length", n.to_string()));
        }
        let weight = pb::TensorProto {
            name: "w".into(),
            dims: vec![3, 2],
            data_type: 1,
            data_location: Some(EXTERNAL),
            external_data,
            ..Default::default()
        };
        let value = crate::test_protos::float_value;
        let proto = pb::ModelProto {
            ir_version: 8,
            opset_import: vec![pb::OperatorSetIdProto {
                domain: String::new(),
                version: 13,
            }],
            graph: Some(pb::GraphProto {
                name: "external".into(),
                node: vec![pb::NodeProto {
                    op_type: "MatMul".into(),
                    input: vec!["input".into(), "w".into()],
                    output: vec!["output".into()],
                    name: "matmul".into(),
                    ..Default::default()
                }],
                initializer: vec![weight],
                input: vec![value("input", &[1, 3])],
                output: vec![value("output", &[1, 2])],
                ..Default::default()
            }),
            ..Default::default()
        };
        let path = dir.join("model.onnx");
        std::fs::write(&path, proto.encode_to_vec()).unwrap();
        path
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("zkinfer-external-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn external_weights_are_inlined_and_compute_as_stored() {
        for (tag, length) in [("length", Some(24)), ("to-end", None)] {
            let dir = temp_dir(tag);
            let path = external_model(&dir, "weights.bin", 16, length);
            let bytes = read_onnx(&path).expect("inlined");
            let fm = crate::onnx_import::import_onnx(&bytes).expect("imports");
            let all = fm.evaluate_all(&[1.0, 2.0, -1.0]).expect("runs");
            // [1, 2, -1] · [[0.5, -1], [2, 0.25], [1.5, -0.75]]
            assert_eq!(all[fm.output], vec![3.0, 0.25], "{tag}");
            std::fs::remove_dir_all(dir).ok();
        }
    }

    #[test]
    fn external_data_outside_the_folder_or_the_file_is_refused_by_name() {
        let dir = temp_dir("refused");
        for (location, offset, length, want) in [
            ("../weights.bin", 0, Some(24), "inside the model's folder"),
            ("/etc/passwd", 0, Some(24), "inside the model's folder"),
            ("weights.bin", 16, Some(64), "past the end of `weights.bin`"),
            ("missing.bin", 0, None, "missing.bin"),
        ] {
            let path = external_model(&dir, location, offset, length);
            let err = read_onnx(&path).expect_err(location).to_string();
            assert!(err.contains(want), "{location}: {err}");
        }
        std::fs::remove_dir_all(dir).ok();
    }
}

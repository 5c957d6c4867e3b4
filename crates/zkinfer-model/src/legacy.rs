//! Operator forms of early opsets rewritten at parse time into their current
//! form, so that every reader of the graph (the importer, the whole-batch
//! rewrite, the recurrent lowering, the constant folds) sees one form. The
//! model zoo's classics were exported at opsets 3 to 9:
//! - Reshape before opset 5 holds its target in the `shape` attribute (input
//!   #1 since): the target becomes an int64 initializer;
//! - Concat before opset 4 has an optional `axis`, default 1 (required since);
//! - Pad before opset 2 names its pads `paddings`;
//! - Cast before opset 6 names its target type (`"FLOAT"`), since by its
//!   `TensorProto` code.
//!
//! Attributes that only change meaning (BatchNormalization's `is_test` and
//! `spatial`, Dropout's `is_test`) and the experimental ImageScaler of
//! opsets 1–9 are read by the importer itself (tested here).

use std::collections::HashSet;
use tract_onnx::pb;

/// The version of the default (`ai.onnx`) domain the model imports.
pub(crate) fn default_opset(proto: &pb::ModelProto) -> i64 {
    proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .unwrap_or(13)
}

/// `TensorProto` element type of a Cast-1 type name.
fn type_code(name: &str) -> Option<i64> {
    Some(match name {
        "FLOAT" => 1,
        "UINT8" => 2,
        "INT8" => 3,
        "UINT16" => 4,
        "INT16" => 5,
        "INT32" => 6,
        "INT64" => 7,
        "STRING" => 8,
        "BOOL" => 9,
        "FLOAT16" => 10,
        "DOUBLE" => 11,
        "UINT32" => 12,
        "UINT64" => 13,
        _ => return None,
    })
}

/// A name no value, initializer or input of the graph has yet.
fn fresh(taken: &mut HashSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut k = 0;
    while taken.contains(&name) {
        k += 1;
        name = format!("{base}_{k}");
    }
    taken.insert(name.clone());
    name
}

/// Rewrites the legacy forms above in place (top-level graph).
pub(crate) fn normalize(proto: &mut pb::ModelProto) {
    let opset = default_opset(proto);
    if opset >= 6 {
        return;
    }
    let Some(g) = proto.graph.as_mut() else {
        return;
    };
    let mut taken: HashSet<String> = g
        .initializer
        .iter()
        .map(|t| t.name.clone())
        .chain(g.input.iter().map(|i| i.name.clone()))
        .chain(g.node.iter().flat_map(|n| n.output.iter().cloned()))
        .collect();
    let mut new_inits = Vec::new();
    for node in &mut g.node {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            continue;
        }
        match node.op_type.as_str() {
            "Reshape" if opset < 5 && node.input.len() == 1 => {
                let Some(pos) = node.attribute.iter().position(|a| a.name == "shape") else {
                    continue;
                };
                let a = node.attribute.remove(pos);
                let base = format!("{}__shape", node.output.first().map_or("reshape", |s| s));
                let name = fresh(&mut taken, &base);
                new_inits.push(pb::TensorProto {
                    name: name.clone(),
                    dims: vec![a.ints.len() as i64],
                    data_type: 7,
                    int64_data: a.ints,
                    ..Default::default()
                });
                node.input.push(name);
            }
            "Concat" if opset < 4 && !node.attribute.iter().any(|a| a.name == "axis") => {
                node.attribute.push(pb::AttributeProto {
                    name: "axis".into(),
                    r#type: 2,
                    i: 1,
                    ..Default::default()
                });
            }
            "Pad" if opset < 2 => {
                for a in &mut node.attribute {
                    if a.name == "paddings" {
                        a.name = "pads".into();
                    }
                }
            }
            "Cast" => {
                for a in &mut node.attribute {
                    if a.name == "to" && !a.s.is_empty() {
                        // An unknown name stays as it is: the importer refuses
                        // the cast by its (absent) code.
                        if let Some(code) = type_code(&String::from_utf8_lossy(&a.s)) {
                            a.i = code;
                            a.s.clear();
                            a.r#type = 2;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    g.initializer.extend(new_inits);
}

/// The model's bytes with the legacy forms rewritten, for readers of the
/// original bytes (tract); `None` at opset 6 and later, where nothing changes.
pub(crate) fn current_form(bytes: &[u8]) -> Option<Vec<u8>> {
    use prost::Message;
    let proto = crate::onnx_import::parse_proto(bytes).ok()?;
    (default_opset(&proto) < 6).then(|| proto.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr_int(name: &str, i: i64) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.into(),
            r#type: 2,
            i,
            ..Default::default()
        }
    }

    fn model(opset: i64, nodes: Vec<pb::NodeProto>) -> pb::ModelProto {
        pb::ModelProto {
            opset_import: vec![pb::OperatorSetIdProto {
                domain: String::new(),
                version: opset,
            }],
            graph: Some(pb::GraphProto {
                node: nodes,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn node(
        op: &str,
        inputs: &[&str],
        out: &str,
        attribute: Vec<pb::AttributeProto>,
    ) -> pb::NodeProto {
        pb::NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.into()],
            attribute,
            ..Default::default()
        }
    }

    #[test]
    fn early_opset_forms_become_current_ones() {
        let shape = pb::AttributeProto {
            name: "shape".into(),
            r#type: 7,
            ints: vec![0, -1],
            ..Default::default()
        };
        let to = pb::AttributeProto {
            name: "to".into(),
            r#type: 3,
            s: b"INT64".to_vec(),
            ..Default::default()
        };
        let paddings = pb::AttributeProto {
            name: "paddings".into(),
            r#type: 7,
            ints: vec![0, 0, 1, 1],
            ..Default::default()
        };
        let mut m = model(
            1,
            vec![
                // `r__shape` is taken: the target gets the next free name.
                node("Reshape", &["x"], "r", vec![shape]),
                node("Identity", &["r"], "r__shape", vec![]),
                node("Concat", &["r", "r"], "c", vec![]),
                node("Concat", &["r", "r"], "c0", vec![attr_int("axis", 0)]),
                node("Pad", &["c"], "p", vec![paddings]),
                node("Cast", &["p"], "k", vec![to]),
            ],
        );
        normalize(&mut m);
        let g = m.graph.unwrap();
        assert_eq!(g.node[0].input, ["x", "r__shape_1"]);
        assert!(g.node[0].attribute.is_empty());
        assert_eq!(g.initializer[0].name, "r__shape_1");
        assert_eq!(g.initializer[0].int64_data, [0, -1]);
        assert_eq!(g.initializer[0].dims, [2]);
        assert_eq!(
            (
                g.node[2].attribute[0].name.as_str(),
                g.node[2].attribute[0].i
            ),
            ("axis", 1)
        );
        assert_eq!(g.node[3].attribute[0].i, 0);
        assert_eq!(g.node[4].attribute[0].name, "pads");
        assert_eq!(
            (g.node[5].attribute[0].i, g.node[5].attribute[0].r#type),
            (7, 2)
        );
    }

    #[test]
    fn current_opsets_are_left_alone() {
        let nodes = vec![node("Concat", &["a", "b"], "c", vec![])];
        let mut m = model(11, nodes.clone());
        normalize(&mut m);
        assert_eq!(m.graph.unwrap().node, nodes);
        // Reshape-5 and Concat-4 already have their current form.
        let mut m = model(5, vec![node("Concat", &["a", "b"], "c", vec![])]);
        normalize(&mut m);
        assert_eq!(m.graph.unwrap().node[0].attribute.len(), 0);
    }

    use crate::test_protos::float_value as value;

    /// `x [1, 2, 2, 2]` through one node to `output`, imported; the error's text.
    fn import_one(opset: i64, n: pb::NodeProto, inits: Vec<pb::TensorProto>) -> Result<(), String> {
        use prost::Message;
        let mut m = model(opset, vec![n]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![value("x", &[1, 2, 2, 2])];
        g.output = vec![value("output", &[1, 2, 2, 2])];
        g.initializer = inits;
        crate::onnx_import::import_onnx(&m.encode_to_vec())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn floats(name: &str, v: &[f32]) -> pb::TensorProto {
        pb::TensorProto {
            name: name.into(),
            dims: vec![v.len() as i64],
            data_type: 1,
            float_data: v.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn training_mode_batch_norm_and_dropout_are_refused_by_name() {
        let bn = |attrs: Vec<pb::AttributeProto>| {
            let mut n = node(
                "BatchNormalization",
                &["x", "s", "b", "m", "v"],
                "output",
                attrs,
            );
            n.name = "bn0".into();
            n
        };
        let params = || {
            ["s", "b", "m", "v"]
                .iter()
                .map(|p| floats(p, &[1.0, 0.5]))
                .collect::<Vec<_>>()
        };
        // is_test defaults to 0 (training) before opset 7.
        let err = import_one(6, bn(vec![]), params()).unwrap_err();
        assert!(err.contains("bn0") && err.contains("is_test=0"), "{err}");
        import_one(6, bn(vec![attr_int("is_test", 1)]), params()).unwrap();
        import_one(7, bn(vec![]), params()).unwrap();
        // spatial = 0 with per-channel parameters: the same in inference.
        import_one(7, bn(vec![attr_int("spatial", 0)]), params()).unwrap();
        let mut bad = params();
        bad[0] = floats("s", &[1.0; 3]);
        let err = import_one(8, bn(vec![attr_int("spatial", 0)]), bad).unwrap_err();
        assert!(err.contains("spatial=0") && err.contains("(8)"), "{err}");

        let drop = |inputs: &[&str], attrs| {
            let mut n = node("Dropout", inputs, "output", attrs);
            n.name = "drop0".into();
            n
        };
        let err = import_one(6, drop(&["x"], vec![]), vec![]).unwrap_err();
        assert!(
            err.contains("drop0") && err.contains("random dropout"),
            "{err}"
        );
        import_one(6, drop(&["x"], vec![attr_int("is_test", 1)]), vec![]).unwrap();
        import_one(10, drop(&["x"], vec![]), vec![]).unwrap();
        let flag = |v: bool| pb::TensorProto {
            name: "t".into(),
            data_type: 9,
            int32_data: vec![v as i32],
            ..Default::default()
        };
        let err = import_one(13, drop(&["x", "", "t"], vec![]), vec![flag(true)]).unwrap_err();
        assert!(err.contains("training_mode is true"), "{err}");
        import_one(13, drop(&["x", "", "t"], vec![]), vec![flag(false)]).unwrap();
        // ratio 0 in training mode keeps the input.
        let zero = pb::TensorProto {
            dims: vec![],
            ..floats("r", &[0.0])
        };
        import_one(13, drop(&["x", "r", "t"], vec![]), vec![flag(true), zero]).unwrap();
    }

    #[test]
    fn image_scaler_is_read_before_opset_10_only() {
        let scaler = |bias: &[f32]| {
            let mut n = node("ImageScaler", &["x"], "output", vec![]);
            n.name = "scaler0".into();
            n.attribute.push(pb::AttributeProto {
                name: "bias".into(),
                r#type: 6,
                floats: bias.to_vec(),
                ..Default::default()
            });
            n
        };
        import_one(8, scaler(&[0.5, -0.5]), vec![]).unwrap();
        let err = import_one(8, scaler(&[0.5]), vec![]).unwrap_err();
        assert!(
            err.contains("scaler0") && err.contains("1 values for 2 channels"),
            "{err}"
        );
        // Removed from the standard at opset 10.
        let err = import_one(10, scaler(&[0.5, -0.5]), vec![]).unwrap_err();
        assert!(
            err.contains("`ImageScaler`") && err.contains("scaler0"),
            "{err}"
        );
    }
}

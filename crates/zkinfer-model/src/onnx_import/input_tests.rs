//! The graph-input helpers: element types and the common batch axis.

use super::*;
use pb::tensor_shape_proto::{dimension::Value as DV, Dimension};
use pb::type_proto::{Tensor, Value as TV};

fn input(name: &str, elem_type: i32, dims: &[Option<i64>]) -> pb::ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Some(v) => DV::DimValue(*v),
                None => DV::DimParam("batch".into()),
            }),
            ..Default::default()
        })
        .collect();
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(TV::TensorType(Tensor {
                elem_type,
                shape: Some(pb::TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn integer_and_boolean_inputs_are_numbers_strings_and_complex_are_refused_by_name() {
    for (code, elem) in [
        (1, InputElem::Float32),
        (6, InputElem::Int32),
        (7, InputElem::Int64),
        (9, InputElem::Bool),
        (10, InputElem::Float16),
        (11, InputElem::Float64),
    ] {
        let i = graph_input(&input("x", code, &[None, Some(3)])).unwrap();
        assert_eq!((i.elem, i.shape, i.dynamic), (elem, vec![1, 3], true));
    }
    for (code, name) in [(8, "string"), (14, "complex64"), (15, "complex128")] {
        let Err(e) = graph_input(&input("tokens", code, &[None, Some(3)])) else {
            panic!("element type {code} accepted")
        };
        let e = e.to_string();
        assert!(e.contains("`tokens`") && e.contains(name), "{e}");
    }
}

#[test]
fn graph_inputs_need_one_batch_size() {
    let ins = |dims: [Option<i64>; 2]| {
        dims.iter()
            .enumerate()
            .map(|(k, &b)| graph_input(&input(&format!("in{k}"), 1, &[b, Some(4)])).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(common_batch(&ins([None, None])).unwrap(), (1, true));
    assert_eq!(common_batch(&ins([Some(2), Some(2)])).unwrap(), (2, false));
    for mixed in [[None, Some(2)], [Some(3), Some(2)], [Some(1), None]] {
        let e = common_batch(&ins(mixed)).unwrap_err().to_string();
        assert!(
            e.contains("one batch size") && e.contains("`in0`") && e.contains("`in1`"),
            "{e}"
        );
    }
    assert!(common_batch(&[]).is_err());
}

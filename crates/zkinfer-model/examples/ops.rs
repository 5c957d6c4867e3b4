//! Prints a compiled model's op list with tensor shapes (a debugging aid).
use zkinfer_model::ir::QuantModel;
fn main() {
    let path = std::env::args().nth(1).expect("usage: ops MODEL.zkm");
    let m = QuantModel::load(&path).expect("load");
    for (i, op) in m.ops.iter().enumerate() {
        let (ins, out) = op.io();
        let shapes: Vec<_> = ins.iter().map(|&t| m.tensors[t].shape.clone()).collect();
        println!(
            "#{i} {} {:?} -> {:?}",
            op.name(),
            shapes,
            m.tensors[out].shape
        );
    }
}

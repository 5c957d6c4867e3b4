#[derive(serde::Deserialize, Debug)]
struct PkFile {
    model: zkinfer_model::ir::QuantModel,
    weight_commitment: zkinfer_protocol::pcs::Commitment,
    pcs_params: zkinfer_protocol::pcs::PcsParams,
}
#[test]
fn dbg() {
    let b = std::fs::read("/work/wt-fuzz/target/tmp/fuzz-repro/proving_key-4057640.bin").unwrap();
    let f: PkFile = postcard::from_bytes(&b[12..]).unwrap();
    eprintln!("{:?}\n{:?}", f.pcs_params, f.weight_commitment);
    for t in &f.model.tensors {
        eprintln!("{:?} {:?} {}", t.name, t.shape, t.bound);
    }
    for o in &f.model.ops {
        eprintln!(
            "{}",
            match o {
                zkinfer_model::ir::QOp::Dense {
                    in_dim, out_dim, ..
                } => format!("dense {in_dim} {out_dim}"),
                x => format!("{x:?}"),
            }
        );
    }
    let l = zkinfer_prover::layout::Layout::new(&f.model).unwrap();
    eprintln!("{:?} {:?}", l.weight_num_vars, l.activation_num_vars);
}

//! Prints the size of every section of a proof file, and of each table's
//! lookup proof (trees, depth, where its bytes go):
//! `cargo run --release -p zkinfer-prover --example sections -- PROOF.zkp`
fn main() {
    let path = std::env::args().nth(1).expect("usage: sections PROOF.zkp");
    let bytes = std::fs::read(&path).expect("read proof");
    let proof = zkinfer_prover::Proof::from_bytes(&bytes).expect("decode");
    for (name, range) in zkinfer_prover::Proof::section_ranges(&bytes).expect("sections") {
        println!("{:>9} bytes  {name}", range.len());
    }
    let size = |v: &dyn Fn() -> Vec<u8>| v().len();
    let layers: Vec<usize> = proof
        .layers
        .iter()
        .map(|l| postcard::to_allocvec(l).map_or(0, |v| v.len()))
        .collect();
    println!(
        "layer proofs: {} ({} bytes)",
        layers.len(),
        layers.iter().sum::<usize>()
    );
    for (i, l) in proof.lookups.logups.iter().enumerate() {
        let rounds: usize = l.layers.iter().map(|x| x.sumcheck.round_polys.len()).sum();
        let sumchecks: Vec<_> = l.layers.iter().map(|x| &x.sumcheck).collect();
        let eval_count: usize = l.layers.iter().map(|x| x.evals.len()).sum();
        println!(
            "LogUp proof {i}: {} trees, {} layers, {rounds} rounds ({} B), {eval_count} layer evals ({} B), {} witness evals",
            l.tops.len(),
            l.layers.len(),
            size(&|| postcard::to_allocvec(&sumchecks).unwrap()),
            eval_count * 64,
            l.witness_evals.iter().map(Vec::len).sum::<usize>(),
        );
    }
    for (i, t) in proof.lookups.member_evals.iter().enumerate() {
        let members: usize = t
            .iter()
            .map(|g| g.iter().map(Vec::len).sum::<usize>())
            .sum();
        if members > 2 {
            println!("  table {i}: {members} member evals ({} B)", members * 16);
        }
    }
}

//! Prints the size of every section of a proof file:
//! `cargo run --release -p zkinfer-prover --example sections -- PROOF.zkp`
fn main() {
    let path = std::env::args().nth(1).expect("usage: sections PROOF.zkp");
    let bytes = std::fs::read(&path).expect("read proof");
    let proof = zkinfer_prover::Proof::from_bytes(&bytes).expect("decode");
    for (name, range) in zkinfer_prover::Proof::section_ranges(&bytes).expect("sections") {
        println!("{:>9} bytes  {name}", range.len());
    }
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
    println!("lookups: {}", proof.lookups.len());
}

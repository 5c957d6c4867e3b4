//! Prints how a benchmark model's activations are laid out (limb width,
//! committed polynomials, stacked size, tables):
//! `cargo run --release -p zkinfer-prover --example layout_stats -- resnet20`
fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "resnet20".into());
    let model = zkinfer_prover::synthetic::named_cnn(&name).expect("lenet5, resnet20 or vgg16");
    let layout = zkinfer_prover::Layout::new(&model).expect("layout");
    let total: usize = layout
        .activation_num_vars
        .iter()
        .map(|&n| 1usize << n)
        .sum();
    println!(
        "limb bits {:?}, {} activation polynomials, {} elements (2^{:.2})",
        layout.limb_bits,
        layout.activation_num_vars.len(),
        total,
        (total as f64).log2()
    );
    for t in &layout.tables {
        let rows = zkinfer_prover::table_for(&model, &t.key).len();
        println!(
            "table {:?}: {rows} rows, {} witnesses",
            t.key,
            t.witnesses.len()
        );
    }
}

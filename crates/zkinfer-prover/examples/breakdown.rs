//! Prints where a synthetic MLP's proving time goes:
//! `cargo run --release -p zkinfer-prover --example breakdown -- 784,128,10 [ACT_BITS]`

/// Large buffers on transparent huge pages, as in the `zkinfer` binary.
#[global_allocator]
static ALLOC: zkinfer_protocol::huge_pages::HugePageAlloc =
    zkinfer_protocol::huge_pages::HugePageAlloc;
fn main() {
    let widths: Vec<usize> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "784,128,10".into())
        .split(',')
        .map(|w| w.parse().expect("comma-separated widths"))
        .collect();
    let t = std::time::Instant::now();
    let act_bits: u32 = std::env::args()
        .nth(2)
        .map_or(8, |b| b.parse().expect("activation bits"));
    let model = zkinfer_prover::synthetic::mlp_with_act_bits(&widths, 1, act_bits);
    let pk = zkinfer_prover::setup(model, None).expect("setup");
    println!(
        "setup {:?}, weight params {:?}",
        t.elapsed(),
        pk.vk.pcs_params
    );
    let x = zkinfer_prover::synthetic::input(widths[0], 1);
    let out = zkinfer_prover::prove(&pk, &x).expect("prove");
    println!("{:#?}\ntotal {:?}", out.timings, out.timings.total());
    let t = std::time::Instant::now();
    zkinfer_prover::verify(&pk.vk, &x, &out.output, &out.proof).expect("verify");
    let bits = zkinfer_prover::security::report(&pk.vk).total_bits;
    println!(
        "verify {:?}, proof {} bytes, {bits:.1} bits",
        t.elapsed(),
        out.proof.to_bytes().len()
    );
    let bytes = out.proof.to_bytes();
    for (name, range) in zkinfer_prover::Proof::section_ranges(&bytes).expect("sections") {
        println!("{:>9} bytes  {name}", range.len());
    }
}

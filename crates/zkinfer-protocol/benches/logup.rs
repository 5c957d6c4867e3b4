//! LogUp-GKR prover and verifier on 2^20 lookups.
//!
//! `cargo bench -p zkinfer-protocol --bench logup`

/// Large buffers on transparent huge pages, as in the `zkinfer` binary.
#[global_allocator]
static ALLOC: zkinfer_protocol::huge_pages::HugePageAlloc =
    zkinfer_protocol::huge_pages::HugePageAlloc;

use divan::Bencher;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zkinfer_protocol::field::{f_from_i64, PrimeCharacteristicRing};
use zkinfer_protocol::logup::{self, LookupProof, LookupTable, LookupWitness};
use zkinfer_protocol::{Transcript, F};

fn main() {
    divan::main();
}

const LOOKUPS: usize = 1 << 20;

/// 2^20 one-column lookups into the 2^16 range table.
fn range_instance() -> (LookupTable, Vec<LookupWitness>, Vec<F>) {
    let mut rng = StdRng::seed_from_u64(1);
    let table = LookupTable::range(16);
    let w = LookupWitness {
        columns: vec![(0..LOOKUPS)
            .map(|_| F::from_u64(rng.random_range(0..1 << 16)))
            .collect()],
    };
    let m = logup::multiplicities(&table, std::slice::from_ref(&w)).unwrap();
    (table, vec![w], m)
}

/// 2^20 two-column lookups `(x, clamp(x, 0, 127))`, `x ∈ [-2^15, 2^15)`, into a 2^16 function table.
fn function_instance() -> (LookupTable, Vec<LookupWitness>, Vec<F>) {
    let mut rng = StdRng::seed_from_u64(2);
    let f = |x: i64| x.clamp(0, 127);
    let xs: Vec<i64> = (-(1 << 15)..1 << 15).collect();
    let table = LookupTable::function(
        xs.iter().map(|&x| f_from_i64(x)).collect(),
        xs.iter().map(|&x| f_from_i64(f(x))).collect(),
    );
    let inputs: Vec<i64> = (0..LOOKUPS)
        .map(|_| rng.random_range(-(1 << 15)..1 << 15))
        .collect();
    let w = LookupWitness {
        columns: vec![
            inputs.iter().map(|&x| f_from_i64(x)).collect(),
            inputs.iter().map(|&x| f_from_i64(f(x))).collect(),
        ],
    };
    let m = logup::multiplicities(&table, std::slice::from_ref(&w)).unwrap();
    (table, vec![w], m)
}

fn prove(inst: &(LookupTable, Vec<LookupWitness>, Vec<F>)) -> LookupProof {
    let mut t = Transcript::new(b"bench");
    logup::prove(&inst.0, &inst.1, &inst.2, &mut t).0
}

fn verify(inst: &(LookupTable, Vec<LookupWitness>, Vec<F>), proof: &LookupProof) {
    let lens: Vec<usize> = inst.1.iter().map(LookupWitness::len).collect();
    let mut t = Transcript::new(b"bench");
    logup::verify(&inst.0, &lens, proof, &mut t).unwrap();
}

#[divan::bench(sample_count = 10)]
fn prove_range16_2p20(bencher: Bencher) {
    let inst = range_instance();
    bencher.bench_local(|| prove(&inst));
}

#[divan::bench(sample_count = 20)]
fn verify_range16_2p20(bencher: Bencher) {
    let inst = range_instance();
    let proof = prove(&inst);
    bencher.bench_local(|| verify(&inst, &proof));
}

#[divan::bench(sample_count = 10)]
fn prove_function16_2col_2p20(bencher: Bencher) {
    let inst = function_instance();
    bencher.bench_local(|| prove(&inst));
}

#[divan::bench(sample_count = 20)]
fn verify_function16_2col_2p20(bencher: Bencher) {
    let inst = function_instance();
    let proof = prove(&inst);
    bencher.bench_local(|| verify(&inst, &proof));
}

#[divan::bench(sample_count = 10)]
fn multiplicities_range16_2p20(bencher: Bencher) {
    let inst = range_instance();
    bencher.bench_local(|| logup::multiplicities(&inst.0, &inst.1).unwrap());
}

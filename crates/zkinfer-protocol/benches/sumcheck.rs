//! Sumcheck and MLE kernels. Run: `cargo bench -p zkinfer-protocol --bench sumcheck`.

/// Large buffers on transparent huge pages, as in the `zkinfer` binary.
#[global_allocator]
static ALLOC: zkinfer_protocol::huge_pages::HugePageAlloc =
    zkinfer_protocol::huge_pages::HugePageAlloc;

use divan::Bencher;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zkinfer_protocol::field::PrimeCharacteristicRing;
use zkinfer_protocol::mle;
use zkinfer_protocol::sumcheck::{self, Mle, SumOfProducts, Term};
use zkinfer_protocol::{Transcript, EF, F};

fn main() {
    divan::main();
}

fn rand_base(rng: &mut StdRng, n: usize) -> Vec<F> {
    (0..n).map(|_| F::from_u64(rng.random::<u64>())).collect()
}

fn rand_ext(rng: &mut StdRng, n: usize) -> Vec<EF> {
    (0..n)
        .map(|_| EF::new([F::from_u64(rng.random()), F::from_u64(rng.random())]))
        .collect()
}

fn product_poly(log_n: usize) -> SumOfProducts {
    let mut rng = StdRng::seed_from_u64(1);
    SumOfProducts {
        num_vars: log_n,
        mles: vec![
            Mle::Base(rand_base(&mut rng, 1 << log_n)),
            Mle::Base(rand_base(&mut rng, 1 << log_n)),
        ],
        terms: vec![Term {
            coeff: EF::ONE,
            factors: vec![0, 1],
        }],
    }
}

/// Σ f·g over two base tables of 2^log_n entries (input cloning excluded).
#[divan::bench(args = [16, 18, 20], sample_count = 20)]
fn prove_product_base(bencher: Bencher, log_n: usize) {
    let poly = product_poly(log_n);
    bencher
        .with_inputs(|| poly.clone())
        .bench_local_values(|p| sumcheck::prove(p, &mut Transcript::new(b"bench")));
}

/// Σ eq(r,x)·f(x)·g(x), specialised prover (no eq table).
#[divan::bench(args = [20], sample_count = 20)]
fn prove_eq_product_base(bencher: Bencher, log_n: usize) {
    let poly = product_poly(log_n);
    let mut rng = StdRng::seed_from_u64(2);
    let r = rand_ext(&mut rng, log_n);
    bencher
        .with_inputs(|| poly.clone())
        .bench_local_values(|p| sumcheck::prove_eq_weighted(&r, p, &mut Transcript::new(b"bench")));
}

/// Σ eq·f·g through the generic prover with a materialised eq table (for comparison).
#[divan::bench(args = [20], sample_count = 10)]
fn prove_eq_product_generic(bencher: Bencher, log_n: usize) {
    let mut poly = product_poly(log_n);
    let mut rng = StdRng::seed_from_u64(2);
    let r = rand_ext(&mut rng, log_n);
    poly.mles.push(Mle::Ext(mle::eq_table(&r)));
    poly.terms[0].factors.push(2);
    bencher
        .with_inputs(|| poly.clone())
        .bench_local_values(|p| sumcheck::prove(p, &mut Transcript::new(b"bench")));
}

#[divan::bench(args = [2048], sample_count = 20)]
fn weighted_row_sum(bencher: Bencher, n: usize) {
    let mut rng = StdRng::seed_from_u64(3);
    let m = rand_base(&mut rng, n * n);
    let w = rand_ext(&mut rng, n);
    bencher.bench_local(|| mle::weighted_row_sum(&m, n, n, &w));
}

#[divan::bench(args = [20], sample_count = 20)]
fn eq_table(bencher: Bencher, log_n: usize) {
    let mut rng = StdRng::seed_from_u64(4);
    let r = rand_ext(&mut rng, log_n);
    bencher.bench_local(|| mle::eq_table(&r));
}

#[divan::bench(args = [20], sample_count = 20)]
fn evaluate_base(bencher: Bencher, log_n: usize) {
    let mut rng = StdRng::seed_from_u64(5);
    let f = rand_base(&mut rng, 1 << log_n);
    let r = rand_ext(&mut rng, log_n);
    bencher.bench_local(|| mle::evaluate_base(&f, &r));
}

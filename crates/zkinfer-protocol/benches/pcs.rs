//! WHIR commitment benchmarks: commit, open (one claim), verify, and the
//! proof size and security bits printed to stderr, for 2^20, 2^22 and 2^24
//! base-field elements under `PcsParams::default()` (or `ZKINFER_PCS_PARAMS=
//! "security_level,pow_bits,folding_factor,starting_log_inv_rate"`).
//!
//! `cargo bench -p zkinfer-protocol --bench pcs`

/// Large buffers on transparent huge pages, as in the `zkinfer` binary.
#[global_allocator]
static ALLOC: zkinfer_protocol::huge_pages::HugePageAlloc =
    zkinfer_protocol::huge_pages::HugePageAlloc;

use divan::Bencher;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zkinfer_protocol::field::{BasedVectorSpace, PrimeCharacteristicRing};
use zkinfer_protocol::pcs::{Claim, Commitment, CommitmentScheme, CommittedData, Pcs, PcsParams};
use zkinfer_protocol::security::pcs_bits;
use zkinfer_protocol::{Transcript, EF, F};

const SIZES: &[usize] = &[20, 22, 24];

fn main() {
    divan::main();
}

fn params() -> PcsParams {
    match std::env::var("ZKINFER_PCS_PARAMS") {
        Ok(s) => {
            let v: Vec<usize> = s.split(',').map(|x| x.trim().parse().unwrap()).collect();
            PcsParams {
                security_level: v[0],
                pow_bits: v[1],
                folding_factor: v[2],
                starting_log_inv_rate: v[3],
                split_padding: false,
                reduce_claims: false,
                unique_decoding: false,
            }
        }
        Err(_) => PcsParams::default(),
    }
}

fn poly(n: usize) -> Vec<F> {
    let mut r = StdRng::seed_from_u64(n as u64);
    (0..1usize << n)
        .map(|_| F::from_u64(r.random::<u64>() >> 1))
        .collect()
}

/// One claim at a random point, with its value (computed by a big-endian fold).
fn one_claim(poly: &[F], n: usize) -> Claim {
    let mut r = StdRng::seed_from_u64(1000 + n as u64);
    let point: Vec<EF> = (0..n)
        .map(|_| EF::from_basis_coefficients_fn(|_| F::from_u64(r.random::<u64>() >> 1)))
        .collect();
    let half = poly.len() / 2;
    let r0 = point[0];
    let mut cur: Vec<EF> = poly[..half]
        .iter()
        .zip(&poly[half..])
        .map(|(&l, &h)| EF::from(l) + r0 * EF::from(h - l))
        .collect();
    for &ri in &point[1..] {
        let half = cur.len() / 2;
        let (lo, hi) = cur.split_at(half);
        cur = lo.iter().zip(hi).map(|(&l, &h)| l + ri * (h - l)).collect();
    }
    Claim {
        poly: 0,
        point,
        value: cur[0],
    }
}

fn setup(n: usize) -> (Pcs, Commitment, CommittedData, Vec<Claim>) {
    let pcs = Pcs::new(params());
    let p = poly(n);
    let claims = vec![one_claim(&p, n)];
    let (com, data) = pcs.commit(&[p]).unwrap();
    (pcs, com, data, claims)
}

fn transcript(com: &Commitment) -> Transcript {
    let mut t = Transcript::new(b"bench");
    com.absorb_into(&mut t);
    t
}

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn commit(bencher: Bencher, n: usize) {
    let pcs = Pcs::new(params());
    let p = vec![poly(n)];
    bencher.bench(|| pcs.commit(divan::black_box(&p)));
}

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn open(bencher: Bencher, n: usize) {
    let (pcs, com, data, claims) = setup(n);
    let t0 = transcript(&com);
    bencher.bench(|| {
        let mut t = t0.clone();
        pcs.open(&data, &claims, &mut t).unwrap()
    });
}

/// The opening proper, for data used once (a one-shot proof): no copy of the
/// stacked tables. The commitment for each sample is made outside the timing.
#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn open_consuming(bencher: Bencher, n: usize) {
    bencher
        .with_inputs(|| setup(n))
        .bench_values(|(pcs, com, data, claims)| {
            let mut t = transcript(&com);
            pcs.open_consuming(data, &claims, &mut t).unwrap()
        });
}

#[divan::bench(args = SIZES, sample_count = 20, sample_size = 1)]
fn verify(bencher: Bencher, n: usize) {
    let (pcs, com, data, claims) = setup(n);
    let t0 = transcript(&com);
    let proof = pcs.open(&data, &claims, &mut t0.clone()).unwrap();
    drop(data);
    let bytes = proof.to_bytes();
    let params = params();
    eprintln!(
        "[pcs 2^{n}] params {params:?}: proof {} bytes ({:.1} KiB), {:.2} bits (p3 prescribed_security, 1 claim)",
        bytes.len(),
        bytes.len() as f64 / 1024.0,
        pcs_bits(&params, data_stacked_vars(n), 1),
    );
    bencher.bench(|| {
        let mut t = t0.clone();
        // Parsing is part of verification.
        let p = zkinfer_protocol::pcs::OpeningProof::from_bytes(&bytes).unwrap();
        pcs.verify(&com, &claims, &p, &mut t).unwrap()
    });
}

/// One polynomial of `n >= folding + 3` variables stacks to exactly `n`.
fn data_stacked_vars(n: usize) -> usize {
    n
}

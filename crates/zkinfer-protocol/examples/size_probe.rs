//! Commit/open time and proof size of one WHIR commitment per folding factor
//! and rate, for choosing the commitment modes:
//! `cargo run --release -p zkinfer-protocol --example size_probe -- NUM_VARS [CLAIMS] [FOLDING RATE_BITS]`
//! (the last two pick one configuration, e.g. for a profiler).

/// Large buffers on transparent huge pages, as in the `zkinfer` binary.
#[global_allocator]
static ALLOC: zkinfer_protocol::huge_pages::HugePageAlloc =
    zkinfer_protocol::huge_pages::HugePageAlloc;
use std::time::Instant;

use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::pcs::{prescribed_security, Claim, CommitmentScheme, Pcs, PcsParams};
use zkinfer_protocol::{Transcript, EF};

fn main() {
    let mut args = std::env::args().skip(1);
    let nv: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let n_claims: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let poly: Vec<F> = (0..1u64 << nv).map(|i| F::from_u64(i * 7 + 1)).collect();
    let only: Option<(usize, usize)> = match (args.next(), args.next()) {
        (Some(f), Some(r)) => f.parse().ok().zip(r.parse().ok()),
        _ => None,
    };
    let configs = [(4, 1), (5, 1), (6, 1), (4, 2), (5, 2), (6, 2)];
    for (folding, rate) in configs.into_iter().filter(|c| only.is_none_or(|o| o == *c)) {
        let p = PcsParams::for_num_vars_with(nv, rate, folding);
        if p.whir_config(nv).is_err() {
            println!(
                "folding {folding}, rate 1/{}: no valid configuration",
                1 << rate
            );
            continue;
        }
        let pcs = Pcs::new(p.clone());
        let t = Instant::now();
        let (_, data) = pcs.commit(std::slice::from_ref(&poly)).expect("commit");
        let commit = t.elapsed();
        // Honest claims: the values are the polynomial's evaluations.
        let claims: Vec<Claim> = (0..n_claims as u64)
            .map(|k| {
                let point: Vec<EF> = (0..nv as u64)
                    .map(|i| EF::from(F::from_u64(3 + i + 1000 * k)))
                    .collect();
                let value = zkinfer_protocol::mle::evaluate_base(&poly, &point);
                Claim {
                    poly: 0,
                    point,
                    value,
                }
            })
            .collect();
        let mut tr = Transcript::new(b"size-probe");
        let faults = minor_faults();
        let t = Instant::now();
        let proof = pcs.open_consuming(data, &claims, &mut tr).expect("open");
        let open = t.elapsed();
        let faults = minor_faults() - faults;
        let bits = prescribed_security(&p, nv, n_claims).map_or(0.0, |s| s.0);
        println!(
            "folding {folding}, rate 1/{}, grinding {}: commit {commit:.2?}, open {open:.2?}, proof {} KB, {bits:.1} bits, {faults} page faults in the opening",
            1 << rate,
            p.pow_bits,
            proof.to_bytes().len() / 1000,
        );
    }
}

/// Minor page faults so far (field 10 of `/proc/self/stat`): each is a page
/// the kernel zeroed on first touch, a cost hidden inside "open".
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after_name = &s[s.rfind(')')? + 2..];
            after_name.split(' ').nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

use std::time::Instant;
use zkinfer_protocol::field::{PrimeCharacteristicRing, F};
use zkinfer_protocol::pcs::{prescribed_security, Claim, Pcs, PcsParams};
use zkinfer_protocol::{Transcript, EF};
fn main() {
    let nv: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let poly: Vec<F> = (0..1u64 << nv).map(|i| F::from_u64(i * 7 + 1)).collect();
    for ff in [4usize, 6] {
        for rate in [1usize] {
            let Some(p) = (8..=30)
                .map(|pow_bits| PcsParams {
                    security_level: 109,
                    pow_bits,
                    folding_factor: ff,
                    starting_log_inv_rate: rate,
                })
                .find(|p| p.whir_config(nv).is_ok())
            else {
                println!("ff {ff} rate {rate}: none");
                continue;
            };
            let sec = prescribed_security(&p, nv, 20);
            let pcs = Pcs::new(p.clone());
            let t = Instant::now();
            let (_c, data) = pcs.commit(&[poly.clone()]);
            let tc = t.elapsed();
            let point: Vec<EF> = (0..nv)
                .map(|i| EF::from(F::from_u64(i as u64 + 3)))
                .collect();
            let claims: Vec<Claim> = (0..20)
                .map(|k| Claim {
                    poly: 0,
                    point: point
                        .iter()
                        .map(|x| *x + EF::from(F::from_u64(k)))
                        .collect(),
                    value: EF::ZERO,
                })
                .collect();
            let mut tr = Transcript::new(b"p");
            let t = Instant::now();
            let proof = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pcs.open_consuming(data, &claims, &mut tr)
            }));
            let to = t.elapsed();
            match proof {
                Ok(pr) => println!(
                    "ff {ff} rate {rate} pow {}: commit {tc:?} open {to:?} size {} sec {:?}",
                    p.pow_bits,
                    pr.to_bytes().len(),
                    sec
                ),
                Err(_) => println!(
                    "ff {ff} rate {rate}: open panicked (values wrong) commit {tc:?} open {to:?}"
                ),
            }
        }
    }
}

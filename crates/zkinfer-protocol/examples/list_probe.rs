use zkinfer_protocol::pcs::{prescribed_security, PcsParams};
fn main() {
    for nv in [18usize, 20, 22, 24] {
        for rate in [1usize, 2, 3] {
            for sec in [109usize, 115] {
                let mut p = PcsParams::for_num_vars(nv);
                p.starting_log_inv_rate = rate;
                p.security_level = sec;
                println!(
                    "nv {nv} rate {rate} sec {sec}: {:?} pow {}",
                    prescribed_security(&p, nv, 10),
                    p.pow_bits
                );
            }
        }
    }
}

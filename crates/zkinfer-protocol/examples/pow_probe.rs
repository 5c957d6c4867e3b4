//! Prints, per committed size, the smallest WHIR grinding budget reaching the
//! default security target (used to choose `PcsParams::for_num_vars`).
use zkinfer_protocol::pcs::{prescribed_security, PcsParams};
fn main() {
    for n in [8usize, 10, 12, 14, 16, 18, 20, 22, 24, 25, 26] {
        let mut row = format!("2^{n}:");
        for pow in [8usize, 10, 12, 14, 16, 18, 20] {
            let p = PcsParams {
                pow_bits: pow,
                ..PcsParams::default()
            };
            let b = prescribed_security(&p, n, 32).map(|(b, _)| b);
            row += &format!(
                " pow{pow}={}",
                b.map_or("refused".into(), |b| format!("{b:.1}"))
            );
        }
        println!("{row}");
    }
}

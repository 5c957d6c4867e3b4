//! Fiat–Shamir transcript: one BLAKE3 sponge for the whole proof.
//!
//! The same Plonky3 challenger is handed to the WHIR commitment scheme
//! ([`Transcript::challenger`]), so sumchecks, lookups and openings all draw
//! from one hash chain. Every protocol step first absorbs a domain-separation
//! label ([`Transcript::label`]) so that messages of different steps can never
//! be confused with each other.
//!
//! Encoding: a label is absorbed as its length (u64 LE, as a field element)
//! followed by its bytes; field elements are absorbed canonically (8 bytes LE
//! per base coordinate) by `SerializingChallenger64`.

use p3_challenger::{CanObserve, FieldChallenger, HashChallenger, SerializingChallenger64};

use crate::field::{PrimeCharacteristicRing, EF, F};
use crate::transcript_hasher::TranscriptHasher;

/// The concrete Plonky3 challenger shared by all protocol parts.
pub type Challenger = SerializingChallenger64<F, HashChallenger<u8, TranscriptHasher, 32>>;

/// Fiat–Shamir transcript. Prover and verifier must perform the same calls in
/// the same order; any divergence changes every later challenge.
#[derive(Clone)]
pub struct Transcript {
    challenger: Challenger,
}

impl Transcript {
    /// Starts a transcript bound to a protocol name and version.
    pub fn new(protocol: &[u8]) -> Self {
        let mut t = Self {
            challenger: SerializingChallenger64::from_hasher(Vec::new(), TranscriptHasher),
        };
        t.label(b"zkinfer-transcript-v1");
        t.absorb_bytes(protocol);
        t
    }

    /// Absorbs a domain-separation label for the step that follows.
    pub fn label(&mut self, label: &[u8]) {
        self.absorb_bytes(label);
    }

    /// Absorbs a length-prefixed byte string.
    pub fn absorb_bytes(&mut self, bytes: &[u8]) {
        self.absorb_u64(bytes.len() as u64);
        for chunk in bytes.chunks(7) {
            // 7 bytes always fit below p, so each chunk is one canonical element.
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.absorb_f(F::from_u64(u64::from_le_bytes(buf)));
        }
    }

    pub fn absorb_u64(&mut self, v: u64) {
        // Split so values >= p are absorbed injectively.
        self.absorb_f(F::from_u32(v as u32));
        self.absorb_f(F::from_u32((v >> 32) as u32));
    }

    pub fn absorb_f(&mut self, x: F) {
        self.challenger.observe(x);
    }

    pub fn absorb_fs(&mut self, xs: &[F]) {
        self.absorb_u64(xs.len() as u64);
        for &x in xs {
            self.challenger.observe(x);
        }
    }

    pub fn absorb_ef(&mut self, x: EF) {
        self.challenger.observe_algebra_element(x);
    }

    pub fn absorb_efs(&mut self, xs: &[EF]) {
        self.absorb_u64(xs.len() as u64);
        for &x in xs {
            self.challenger.observe_algebra_element(x);
        }
    }

    /// Draws one challenge in the extension field.
    pub fn challenge_ef(&mut self) -> EF {
        self.challenger.sample_algebra_element()
    }

    pub fn challenge_efs(&mut self, n: usize) -> Vec<EF> {
        (0..n).map(|_| self.challenge_ef()).collect()
    }

    /// The underlying challenger, for the commitment scheme.
    pub fn challenger(&mut self) -> &mut Challenger {
        &mut self.challenger
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_order_sensitive() {
        let run = |a: u64, b: u64| {
            let mut t = Transcript::new(b"test");
            t.label(b"step");
            t.absorb_u64(a);
            t.absorb_u64(b);
            t.challenge_ef()
        };
        assert_eq!(run(1, 2), run(1, 2));
        assert_ne!(run(1, 2), run(2, 1));
        assert_ne!(run(1, 2), run(1, 3));
    }

    #[test]
    fn labels_separate_domains() {
        let mut a = Transcript::new(b"test");
        a.label(b"x");
        let mut b = Transcript::new(b"test");
        b.label(b"y");
        assert_ne!(a.challenge_ef(), b.challenge_ef());
        let mut c = Transcript::new(b"other");
        let mut d = Transcript::new(b"test");
        assert_ne!(c.challenge_ef(), d.challenge_ef());
        // A label is not the same message as the bytes split differently.
        let mut e = Transcript::new(b"t");
        e.absorb_bytes(b"ab");
        e.absorb_bytes(b"");
        let mut g = Transcript::new(b"t");
        g.absorb_bytes(b"a");
        g.absorb_bytes(b"b");
        assert_ne!(e.challenge_ef(), g.challenge_ef());
    }
}

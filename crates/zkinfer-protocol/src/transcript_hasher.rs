//! The transcript's hash: BLAKE3, with proof-of-work grinding eight lanes wide.
//!
//! Grinding is a quarter of a large WHIR opening: about 2^23 candidate
//! digests, each `BLAKE3(32-byte transcript state ‖ 8-byte witness)`.
//! p3's challenger already hashes candidates in batches through
//! [`CryptographicHasher::hash_many`], but `p3-blake3` (like the `blake3`
//! crate's batch entry point) only batches whole 64-byte blocks; a 40-byte
//! message falls back to one scalar compression per candidate.
//!
//! [`TranscriptHasher`] is BLAKE3 everywhere — every call other than a batch of
//! single-block messages goes to `p3-blake3` — and, on x86-64 builds with
//! AVX2, evaluates such batches with our own eight-lane compression (one
//! 256-bit register per state word; about 3× the scalar throughput here).
//! Nothing a verifier computes goes through the batched path: it only
//! searches for a witness, which the challenger re-checks with the scalar hash
//! before using it, and the unit tests pin its digests to the `blake3` crate
//! for every message length it serves.

use p3_blake3::Blake3;
use p3_symmetric::CryptographicHasher;

/// BLAKE3 for the Fiat–Shamir transcript (see the module comment).
#[derive(Copy, Clone, Debug, Default)]
pub struct TranscriptHasher;

impl CryptographicHasher<u8, [u8; 32]> for TranscriptHasher {
    const LANES: usize = 8;

    fn hash_iter<I: IntoIterator<Item = u8>>(&self, input: I) -> [u8; 32] {
        Blake3.hash_iter(input)
    }

    fn hash_iter_slices<'a, I: IntoIterator<Item = &'a [u8]>>(&self, input: I) -> [u8; 32] {
        Blake3.hash_iter_slices(input)
    }

    fn hash_slice(&self, input: &[u8]) -> [u8; 32] {
        Blake3.hash_slice(input)
    }

    fn hash_many(&self, input: &[u8], out: &mut [[u8; 32]]) {
        #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
        if !out.is_empty() && input.len().is_multiple_of(out.len()) {
            let len = input.len() / out.len();
            if (1..=avx2::BLOCK_LEN).contains(&len) {
                for (messages, digests) in input
                    .chunks(len * avx2::LANES)
                    .zip(out.chunks_mut(avx2::LANES))
                {
                    avx2::hash_single_blocks(messages, len, digests);
                }
                return;
            }
        }
        Blake3.hash_many(input, out)
    }
}

/// Eight single-block BLAKE3 hashes at once: state word `i` of every lane
/// lives in one 256-bit register.
#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
mod avx2 {
    use std::arch::x86_64::*;

    pub(super) const LANES: usize = 8;
    pub(super) const BLOCK_LEN: usize = 64;
    /// BLAKE3's initialization vector (the SHA-256 one).
    const IV: [u32; 8] = [
        0x6A09_E667,
        0xBB67_AE85,
        0x3C6E_F372,
        0xA54F_F53A,
        0x510E_527F,
        0x9B05_688C,
        0x1F83_D9AB,
        0x5BE0_CD19,
    ];
    /// CHUNK_START | CHUNK_END | ROOT: a message of at most one block is a
    /// whole chunk whose only compression produces the digest.
    const SINGLE_BLOCK_FLAGS: i32 = 1 | 2 | 8;
    const MSG_PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
    /// Message word order of each round: the permutation applied `r` times.
    const SCHEDULE: [[usize; 16]; 7] = {
        let mut s = [[0; 16]; 7];
        let mut i = 0;
        while i < 16 {
            s[0][i] = i;
            i += 1;
        }
        let mut r = 1;
        while r < 7 {
            let mut i = 0;
            while i < 16 {
                s[r][i] = s[r - 1][MSG_PERMUTATION[i]];
                i += 1;
            }
            r += 1;
        }
        s
    };

    /// Digests of up to [`LANES`] messages of `len` (1..=64) bytes each,
    /// laid out back to back in `messages`.
    pub(super) fn hash_single_blocks(messages: &[u8], len: usize, digests: &mut [[u8; 32]]) {
        // Zero-padded blocks, one per lane; idle lanes hash an empty block.
        let mut blocks = [[0u8; BLOCK_LEN]; LANES];
        for (block, message) in blocks.iter_mut().zip(messages.chunks_exact(len)) {
            block[..len].copy_from_slice(message);
        }
        // SAFETY: AVX2 is enabled at compile time (cfg above); every load
        // and store is unaligned and stays inside a local 32-byte-multiple
        // array.
        unsafe {
            let half = |h: usize| -> [__m256i; 8] {
                transpose(std::array::from_fn(|lane| {
                    _mm256_loadu_si256(blocks[lane][32 * h..].as_ptr().cast())
                }))
            };
            let (lo, hi) = (half(0), half(1));
            let m: [__m256i; 16] = std::array::from_fn(|i| if i < 8 { lo[i] } else { hi[i - 8] });
            let mut v: [__m256i; 16] = std::array::from_fn(|i| match i {
                0..8 => _mm256_set1_epi32(IV[i] as i32),
                8..12 => _mm256_set1_epi32(IV[i - 8] as i32),
                // The chunk counter, zero for a message's only chunk.
                12 | 13 => _mm256_setzero_si256(),
                14 => _mm256_set1_epi32(len as i32),
                _ => _mm256_set1_epi32(SINGLE_BLOCK_FLAGS),
            });
            for s in &SCHEDULE {
                round(&mut v, &m, s);
            }
            let out = transpose(std::array::from_fn(|i| _mm256_xor_si256(v[i], v[i + 8])));
            let mut lanes = [[0u8; 32]; LANES];
            for (bytes, word) in lanes.iter_mut().zip(out) {
                _mm256_storeu_si256(bytes.as_mut_ptr().cast(), word);
            }
            digests.copy_from_slice(&lanes[..digests.len()]);
        }
    }

    #[inline(always)]
    unsafe fn round(v: &mut [__m256i; 16], m: &[__m256i; 16], s: &[usize; 16]) {
        unsafe {
            g(v, [0, 4, 8, 12], m[s[0]], m[s[1]]);
            g(v, [1, 5, 9, 13], m[s[2]], m[s[3]]);
            g(v, [2, 6, 10, 14], m[s[4]], m[s[5]]);
            g(v, [3, 7, 11, 15], m[s[6]], m[s[7]]);
            g(v, [0, 5, 10, 15], m[s[8]], m[s[9]]);
            g(v, [1, 6, 11, 12], m[s[10]], m[s[11]]);
            g(v, [2, 7, 8, 13], m[s[12]], m[s[13]]);
            g(v, [3, 4, 9, 14], m[s[14]], m[s[15]]);
        }
    }

    /// BLAKE3's quarter-round on four state words, in every lane at once.
    #[inline(always)]
    unsafe fn g(v: &mut [__m256i; 16], [a, b, c, d]: [usize; 4], mx: __m256i, my: __m256i) {
        unsafe {
            v[a] = _mm256_add_epi32(_mm256_add_epi32(v[a], v[b]), mx);
            v[d] = rotr_bytes::<2>(_mm256_xor_si256(v[d], v[a]));
            v[c] = _mm256_add_epi32(v[c], v[d]);
            v[b] = rotr::<12, 20>(_mm256_xor_si256(v[b], v[c]));
            v[a] = _mm256_add_epi32(_mm256_add_epi32(v[a], v[b]), my);
            v[d] = rotr_bytes::<1>(_mm256_xor_si256(v[d], v[a]));
            v[c] = _mm256_add_epi32(v[c], v[d]);
            v[b] = rotr::<7, 25>(_mm256_xor_si256(v[b], v[c]));
        }
    }

    /// Rotation right by `R` (`L` = 32 − `R`) of every 32-bit lane.
    #[inline(always)]
    unsafe fn rotr<const R: i32, const L: i32>(x: __m256i) -> __m256i {
        unsafe { _mm256_or_si256(_mm256_srli_epi32::<R>(x), _mm256_slli_epi32::<L>(x)) }
    }

    /// Rotation right by `BYTES` whole bytes of every 32-bit lane: one shuffle.
    #[inline(always)]
    unsafe fn rotr_bytes<const BYTES: usize>(x: __m256i) -> __m256i {
        // Byte `j` of each word takes byte `(j + BYTES) mod 4` of the same word.
        const fn pattern(bytes: usize) -> [u8; 32] {
            let mut idx = [0u8; 32];
            let mut p = 0;
            while p < 32 {
                let q = p % 16;
                idx[p] = (q / 4 * 4 + (q % 4 + bytes) % 4) as u8;
                p += 1;
            }
            idx
        }
        let idx = const { pattern(BYTES) };
        unsafe { _mm256_shuffle_epi8(x, _mm256_loadu_si256(idx.as_ptr().cast())) }
    }

    /// 8×8 transpose of 32-bit words: row `r`, word `w` ↦ row `w`, word `r`.
    #[inline(always)]
    unsafe fn transpose(r: [__m256i; 8]) -> [__m256i; 8] {
        unsafe {
            // Interleave 32-bit words of row pairs, then 64-bit pairs...
            let a0 = _mm256_unpacklo_epi32(r[0], r[1]);
            let a1 = _mm256_unpackhi_epi32(r[0], r[1]);
            let a2 = _mm256_unpacklo_epi32(r[2], r[3]);
            let a3 = _mm256_unpackhi_epi32(r[2], r[3]);
            let a4 = _mm256_unpacklo_epi32(r[4], r[5]);
            let a5 = _mm256_unpackhi_epi32(r[4], r[5]);
            let a6 = _mm256_unpacklo_epi32(r[6], r[7]);
            let a7 = _mm256_unpackhi_epi32(r[6], r[7]);
            let b0 = _mm256_unpacklo_epi64(a0, a2);
            let b1 = _mm256_unpackhi_epi64(a0, a2);
            let b2 = _mm256_unpacklo_epi64(a1, a3);
            let b3 = _mm256_unpackhi_epi64(a1, a3);
            let b4 = _mm256_unpacklo_epi64(a4, a6);
            let b5 = _mm256_unpackhi_epi64(a4, a6);
            let b6 = _mm256_unpacklo_epi64(a5, a7);
            let b7 = _mm256_unpackhi_epi64(a5, a7);
            // ...then swap 128-bit halves between rows 0-3 and 4-7.
            [
                _mm256_permute2x128_si256::<0x20>(b0, b4),
                _mm256_permute2x128_si256::<0x20>(b1, b5),
                _mm256_permute2x128_si256::<0x20>(b2, b6),
                _mm256_permute2x128_si256::<0x20>(b3, b7),
                _mm256_permute2x128_si256::<0x31>(b0, b4),
                _mm256_permute2x128_si256::<0x31>(b1, b5),
                _mm256_permute2x128_si256::<0x31>(b2, b6),
                _mm256_permute2x128_si256::<0x31>(b3, b7),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    /// Every message length and batch size the batched path serves agrees
    /// with the `blake3` crate, and longer messages still do.
    #[test]
    fn batched_digests_equal_blake3() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for len in (1..=70).chain([128, 1024, 1100]) {
            for count in [1, 3, 8, 9, 17] {
                let mut input = vec![0u8; len * count];
                rng.fill_bytes(&mut input);
                let mut out = vec![[0u8; 32]; count];
                TranscriptHasher.hash_many(&input, &mut out);
                for (message, digest) in input.chunks_exact(len).zip(&out) {
                    assert_eq!(
                        *digest,
                        *blake3::hash(message).as_bytes(),
                        "len {len}, batch {count}"
                    );
                }
            }
        }
    }

    #[test]
    fn single_hashes_are_blake3() {
        let message = b"zkinfer transcript hasher";
        let expected = *blake3::hash(message).as_bytes();
        assert_eq!(TranscriptHasher.hash_slice(message), expected);
        assert_eq!(
            TranscriptHasher.hash_iter(message.iter().copied()),
            expected
        );
        let mut out = [[0u8; 32]; 0];
        TranscriptHasher.hash_many(&[], &mut out);
    }
}

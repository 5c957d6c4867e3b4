//! Deserializes a large vector into exactly its length's capacity.
//!
//! serde's own `Vec` visitor preallocates at most 1 MiB (it cannot trust a
//! file's announced length) and then grows by doubling, so a model's weight
//! vectors end up with up to twice the capacity they need: 1 GB of a GPT-2
//! proving key's 2.4 GB of weights was slack. Here the vector grows towards
//! the announced length, never by more than what was already read — an
//! honest length gives an exact fit, a lying one costs at most twice the data
//! actually present, as before.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

/// The first reservation, before any element was read (elements).
const FIRST: usize = 1 << 16;

/// `#[serde(deserialize_with = "exact_vec::deserialize")]`.
pub fn deserialize<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_seq(ExactVec(PhantomData))
}

struct ExactVec<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ExactVec<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let announced = seq.size_hint();
        let mut v: Vec<T> = Vec::with_capacity(announced.unwrap_or(0).min(FIRST));
        while let Some(x) = seq.next_element()? {
            if v.len() == v.capacity() {
                match announced.map(|n| n.saturating_sub(v.len())) {
                    Some(rest) if rest > 0 => v.reserve_exact(rest.min(v.len().max(FIRST))),
                    // No length (JSON) or more than announced: amortized growth.
                    _ => v.reserve(1),
                }
            }
            v.push(x);
        }
        if announced.is_none() {
            v.shrink_to_fit();
        }
        Ok(v)
    }
}

/// postcard bytes of a sequence announcing 2^40 elements and holding three.
#[cfg(test)]
pub(crate) fn lying_length() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut n: u64 = 1 << 40;
    while n >= 0x80 {
        bytes.push((n as u8) | 0x80);
        n >>= 7;
    }
    bytes.push(n as u8);
    bytes.extend_from_slice(&[2, 4, 6]);
    bytes
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "super::deserialize")]
        v: Vec<i64>,
    }

    #[test]
    fn an_announced_length_gives_an_exact_fit() {
        for n in [0, 1, 1000, (1 << 16) + 1, 300_001] {
            let h = Holder {
                v: (0..n as i64).map(|i| i * 7 - 3).collect(),
            };
            let bytes = postcard::to_allocvec(&h).unwrap();
            let back: Holder = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back.v, h.v);
            assert_eq!(back.v.capacity(), n, "length {n}");
        }
    }

    #[test]
    fn without_a_length_it_grows_amortized_and_fits() {
        let h = Holder {
            v: (0..200_000).collect(),
        };
        let json = serde_json::to_string(&h).unwrap();
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.v, h.v);
        assert_eq!(back.v.capacity(), h.v.len());
    }

    #[test]
    fn a_lying_length_fails_without_a_huge_reservation() {
        assert!(postcard::from_bytes::<Holder>(&super::lying_length()).is_err());
    }
}

//! The one place that names concrete Plonky3 field types.
//!
//! Everything else in zkinfer says `F` (data) and `EF` (challenges), so a
//! Plonky3 version bump or a change of extension degree touches only this file.

pub use p3_field::{
    BasedVectorSpace, ExtensionField, Field, PrimeCharacteristicRing, PrimeField64,
};

/// Base field for all data: Goldilocks, p = 2^64 - 2^32 + 1.
pub type F = p3_goldilocks::Goldilocks;

/// Challenge field: the degree-2 binomial extension of Goldilocks (~2^128 elements).
pub type EF = p3_field::extension::BinomialExtensionField<F, 2>;

/// Field modulus, for range arguments that must stay clear of wrap-around.
pub const MODULUS: u64 = 0xFFFF_FFFF_0000_0001;

/// Embeds a signed integer into `F` (negative values map to `p - |v|`).
#[inline]
pub fn f_from_i64(v: i64) -> F {
    if v >= 0 {
        F::from_u64(v as u64)
    } else {
        -F::from_u64(v.unsigned_abs())
    }
}

/// Inverse of [`f_from_i64`] for values in (-p/2, p/2).
#[inline]
pub fn f_to_i64(x: F) -> i64 {
    let u = x.as_canonical_u64();
    if u > MODULUS / 2 {
        -((MODULUS - u) as i64)
    } else {
        u as i64
    }
}

/// Embeds a base element into the challenge field.
#[inline]
pub fn ef(x: F) -> EF {
    EF::from(x)
}

/// A uniform element of `F` (rejection sampling: reducing a random `u64`
/// would make the 2^32 − 1 smallest values twice as likely, a 2^-32 bias
/// per element that would show through every mask built from it).
pub fn random_f<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> F {
    loop {
        let v = rng.next_u64();
        if v < MODULUS {
            return F::from_u64(v);
        }
    }
}

/// A uniform element of `EF` (each base coordinate by [`random_f`]).
pub fn random_ef<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> EF {
    EF::from_basis_coefficients_fn(|_| random_f(rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_embedding_round_trips() {
        for v in [0i64, 1, -1, 127, -128, 1 << 40, -(1 << 40), i32::MAX as i64] {
            assert_eq!(f_to_i64(f_from_i64(v)), v);
        }
        assert_eq!(f_from_i64(-1) + F::ONE, F::ZERO);
    }
}

//! ES256 signing (ECDSA on P-256 with SHA-256, RFC 7518 §3.4) with its nonces prepared in batches.
//!
//! An ECDSA signature of a message with digest `z` under the private key `d` is `(r, s)` with
//! `r = x(k·G) mod n` and `s = k⁻¹·(z + r·d) mod n`, for a fresh secret nonce `k` (SEC 1 §4.1.3).
//! Apart from `k·G`, the costliest step is the inversion `k⁻¹` (about a third of a signature
//! with aws-lc). Neither depends on the key or the message, so nonces are prepared ahead, a batch
//! at a time for each thread:
//! - aws-lc draws each `k` uniformly from `[1, n)` with its DRBG and computes `k·G` with its
//!   fixed-base P-256 code (as it does for its own ECDSA);
//! - the batch's nonces are inverted together with one inversion and three multiplications each
//!   (Montgomery's trick) rather than one inversion each.
//!
//! Signing then costs one SHA-256 and two multiplications mod `n`. Each nonce is moved out of the
//! pool by the signature that uses it, so none is ever used twice, and it is zeroed when
//! dropped. The arithmetic mod `n` is RustCrypto's constant-time `p256::Scalar`.
//!
//! Unlike aws-lc's own signer, nonces are not hedged with the key and the message: they rest on
//! the DRBG alone, as the key pairs Tessera generates do.

use crate::JoseError;
use aws_lc_rs::agreement::{self, ECDH_P256};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::{AsBigEndian, EcPrivateKeyBin};
use p256::elliptic_curve::ff::{Field as _, PrimeField as _};
use p256::elliptic_curve::ops::Reduce as _;
use p256::elliptic_curve::zeroize::Zeroize as _;
use p256::{FieldBytes, Scalar};
use std::cell::RefCell;

/// Nonces prepared at a time: one inversion is shared by this many signatures.
const BATCH: usize = 16;

/// One prepared nonce: `k⁻¹` and `r`. Neither `Clone` nor `Copy`, so that it is used once.
struct Nonce {
    k_inv: Scalar,
    r: Scalar,
}

impl Drop for Nonce {
    fn drop(&mut self) {
        self.k_inv.zeroize();
    }
}

thread_local! {
    /// This thread's prepared nonces, taken from the end.
    static NONCES: RefCell<Vec<Nonce>> = const { RefCell::new(Vec::new()) };
}

/// A P-256 private key that signs ES256. `Debug` is not implemented: it holds the key.
pub(crate) struct Es256Signer {
    d: Scalar,
}

impl Drop for Es256Signer {
    fn drop(&mut self) {
        self.d.zeroize();
    }
}

impl Es256Signer {
    /// The signer for the private scalar `d`, 32 bytes big-endian, in `[1, n)`.
    pub(crate) fn from_be_bytes(d: &[u8]) -> Result<Self, JoseError> {
        let d = nonzero_scalar(d).ok_or_else(|| {
            JoseError::InvalidKey("a P-256 private key is 32 bytes, in [1, n)".into())
        })?;
        Ok(Self { d })
    }

    /// The signer for aws-lc's P-256 key pair.
    pub(crate) fn from_key_pair(
        kp: &aws_lc_rs::signature::EcdsaKeyPair,
    ) -> Result<Self, JoseError> {
        let d: EcPrivateKeyBin<'static> = kp
            .private_key()
            .as_be_bytes()
            .map_err(|_| JoseError::InvalidKey("the P-256 private key cannot be read".into()))?;
        Self::from_be_bytes(d.as_ref())
    }

    /// Signs `message`: the JWS signature `r || s`, each 32 bytes big-endian.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<[u8; 64], JoseError> {
        let z = digest_scalar(message);
        loop {
            let nonce = take_nonce()?;
            let s = sign_with(&self.d, &z, &nonce);
            // s = 0 happens with probability 2⁻²⁵⁶; SEC 1 says to draw another nonce.
            if bool::from(s.is_zero()) {
                continue;
            }
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&nonce.r.to_repr());
            sig[32..].copy_from_slice(&s.to_repr());
            return Ok(sig);
        }
    }
}

/// `s = k⁻¹·(z + r·d) mod n`.
fn sign_with(d: &Scalar, z: &Scalar, nonce: &Nonce) -> Scalar {
    nonce.k_inv * (*z + nonce.r * d)
}

/// The message's SHA-256 as an integer mod `n` (SEC 1 §4.1.3 step 5: for P-256 the whole digest).
fn digest_scalar(message: &[u8]) -> Scalar {
    let d = digest(&SHA256, message);
    let mut bytes = FieldBytes::default();
    bytes.copy_from_slice(d.as_ref());
    Scalar::reduce(&bytes)
}

/// `b` as a scalar when it is 32 bytes big-endian in `[1, n)` (a private key or a nonce).
fn nonzero_scalar(b: &[u8]) -> Option<Scalar> {
    field_bytes(b)
        .and_then(|b| Option::<Scalar>::from(Scalar::from_repr(b)))
        .filter(|k| !bool::from(k.is_zero()))
}

fn field_bytes(b: &[u8]) -> Option<FieldBytes> {
    let mut out = FieldBytes::default();
    (b.len() == out.len()).then(|| {
        out.copy_from_slice(b);
        out
    })
}

/// Takes one of this thread's nonces, preparing a batch first when none is left.
fn take_nonce() -> Result<Nonce, JoseError> {
    // Neither fails in practice (signing never re-enters itself, and a thread signs before it
    // ends), but a failure is an error, not a panic.
    NONCES
        .try_with(|pool| {
            let mut pool = pool
                .try_borrow_mut()
                .map_err(|_| JoseError::SigningFailed)?;
            if pool.is_empty() {
                prepare(&mut pool)?;
            }
            pool.pop().ok_or(JoseError::SigningFailed)
        })
        .map_err(|_| JoseError::SigningFailed)?
}

/// Prepares [`BATCH`] nonces into `pool`.
fn prepare(pool: &mut Vec<Nonce>) -> Result<(), JoseError> {
    let mut ks = Vec::with_capacity(BATCH);
    let mut rs = Vec::with_capacity(BATCH);
    while ks.len() < BATCH {
        let (k, r) = fresh_nonce()?;
        // r = 0 happens with probability 2⁻²⁵⁶; SEC 1 says to draw another nonce.
        if bool::from(r.is_zero()) {
            continue;
        }
        ks.push(k);
        rs.push(r);
    }
    for (k_inv, r) in batch_invert(&mut ks)?.into_iter().zip(rs) {
        pool.push(Nonce { k_inv, r });
    }
    Ok(())
}

/// A nonce `k`, uniform in `[1, n)`, and `r = x(k·G) mod n`, from aws-lc.
fn fresh_nonce() -> Result<(Scalar, Scalar), JoseError> {
    let key = agreement::PrivateKey::generate(&ECDH_P256).map_err(|_| JoseError::SigningFailed)?;
    let k: EcPrivateKeyBin<'static> = key.as_be_bytes().map_err(|_| JoseError::SigningFailed)?;
    let point = key
        .compute_public_key()
        .map_err(|_| JoseError::SigningFailed)?;
    nonce_from_parts(k.as_ref(), point.as_ref())
}

/// `k` from its 32 bytes and `r` from the uncompressed SEC 1 point `k·G` (`04 || x || y`).
fn nonce_from_parts(k: &[u8], point: &[u8]) -> Result<(Scalar, Scalar), JoseError> {
    let k = nonzero_scalar(k).ok_or(JoseError::SigningFailed)?;
    let x = match point {
        [4, rest @ ..] if rest.len() == 64 => field_bytes(&rest[..32]),
        _ => None,
    }
    .ok_or(JoseError::SigningFailed)?;
    Ok((k, Scalar::reduce(&x)))
}

/// The inverses of `ks` (all non-zero) with one inversion: Montgomery's trick. `ks` is zeroed.
fn batch_invert(ks: &mut [Scalar]) -> Result<Vec<Scalar>, JoseError> {
    // prefix[i] = k₀·…·kᵢ
    let mut prefix = Vec::with_capacity(ks.len());
    let mut acc = Scalar::ONE;
    for k in ks.iter() {
        acc *= k;
        prefix.push(acc);
    }
    let mut inv = Option::<Scalar>::from(acc.invert()).ok_or(JoseError::SigningFailed)?;
    let mut out = vec![Scalar::ZERO; ks.len()];
    // Walking back, inv = (k₀·…·kᵢ)⁻¹: kᵢ⁻¹ = inv·(k₀·…·kᵢ₋₁), then drop kᵢ from inv.
    for i in (0..ks.len()).rev() {
        out[i] = if i == 0 { inv } else { inv * prefix[i - 1] };
        inv *= ks[i];
    }
    inv.zeroize();
    prefix.zeroize();
    ks.zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
        UnparsedPublicKey,
    };

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 6979 A.2.5, P-256 with SHA-256, message "sample": with its `k`, the same `r` and `s`.
    #[test]
    fn known_answer() {
        let d = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
        let k = hex("A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60");
        let signer = Es256Signer::from_be_bytes(&d).unwrap();
        let point = agreement::PrivateKey::from_private_key(&ECDH_P256, &k)
            .unwrap()
            .compute_public_key()
            .unwrap();
        let (k, r) = nonce_from_parts(&k, point.as_ref()).unwrap();
        let k_inv = batch_invert(&mut [k]).unwrap().remove(0);
        let nonce = Nonce { k_inv, r };
        let s = sign_with(&signer.d, &digest_scalar(b"sample"), &nonce);
        assert_eq!(
            nonce.r.to_repr().as_slice(),
            hex("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716")
        );
        assert_eq!(
            s.to_repr().as_slice(),
            hex("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8")
        );
    }

    #[test]
    fn batch_inverses_are_inverses() {
        let mut ks: Vec<Scalar> = (1..=BATCH as u64).map(|i| Scalar::from(i * 7919)).collect();
        let copy = ks.clone();
        let inv = batch_invert(&mut ks).unwrap();
        for (k, k_inv) in copy.iter().zip(&inv) {
            assert_eq!(*k * k_inv, Scalar::ONE);
        }
    }

    /// Signatures across several batches and threads verify with aws-lc, and no `r` repeats.
    #[test]
    fn signatures_verify_and_nonces_do_not_repeat() {
        let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let signer = Es256Signer::from_key_pair(&kp).unwrap();
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, kp.public_key().as_ref());
        let sigs: Vec<[u8; 64]> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..3)
                .map(|t| {
                    let (signer, public) = (&signer, &public);
                    scope.spawn(move || {
                        (0..BATCH * 3 + 1)
                            .map(|i| {
                                let msg = format!("message {t} {i}");
                                let sig = signer.sign(msg.as_bytes()).unwrap();
                                public.verify(msg.as_bytes(), &sig).unwrap();
                                sig
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let mut rs: Vec<&[u8]> = sigs.iter().map(|s| &s[..32]).collect();
        rs.sort_unstable();
        rs.dedup();
        assert_eq!(rs.len(), sigs.len());
    }

    #[test]
    fn out_of_range_keys_are_refused() {
        assert!(Es256Signer::from_be_bytes(&[0; 32]).is_err());
        assert!(Es256Signer::from_be_bytes(&[0xff; 32]).is_err());
        assert!(Es256Signer::from_be_bytes(&[1; 31]).is_err());
    }
}

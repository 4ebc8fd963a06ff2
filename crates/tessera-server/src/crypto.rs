//! The server's own cryptography: the master key and what is derived from it, secret hashing,
//! encryption at rest and random identifiers.
//!
//! One 256-bit master key yields, by HKDF-SHA-256 with distinct labels, a key-encryption key
//! (AES-256-GCM, for signing keys and `client_secret_jwt` secrets) and a pepper (HMAC-SHA-256, for
//! client secrets and opaque tokens). Hashing a high-entropy secret with a keyed HMAC is as strong
//! as a slow hash and costs a quarter of a microsecond instead of tens of milliseconds.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{constant_time, hkdf, hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;
use std::path::Path;

/// Why a key could not be loaded or a value not decrypted.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The master key is not 32 bytes of base64url.
    #[error("the master key must be 32 bytes encoded as base64url (43 characters)")]
    BadMasterKey,
    /// Reading or writing the master key file failed.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Decryption failed: wrong master key or tampered data.
    #[error("decryption failed: the data was encrypted under another master key, or altered")]
    Decrypt,
    /// The system random source failed.
    #[error("the system random source failed")]
    Random,
}

/// Fills a fresh array with random bytes.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    rand::fill(&mut buf).map_err(|_| CryptoError::Random)?;
    Ok(buf)
}

/// `prefix` followed by 256 random bits in base64url: client secrets, opaque tokens, ids.
pub fn random_token(prefix: &str) -> Result<String, CryptoError> {
    random_token_of::<32>(prefix)
}

/// `prefix` followed by `N` random bytes in base64url.
pub fn random_token_of<const N: usize>(prefix: &str) -> Result<String, CryptoError> {
    let bytes = random_bytes::<N>()?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// A short random identifier: `prefix` and 128 bits in base64url.
pub fn random_id(prefix: &str) -> Result<String, CryptoError> {
    let bytes = random_bytes::<16>()?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Compares two byte strings in constant time.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// Keys derived from the master key. `Debug` prints nothing of them.
pub struct Keys {
    kek: LessSafeKey,
    pepper: hmac::Key,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

impl Keys {
    /// Derives the keys from a master key given as base64url.
    pub fn from_master_b64(master: &str) -> Result<Self, CryptoError> {
        let raw = URL_SAFE_NO_PAD
            .decode(master.trim())
            .map_err(|_| CryptoError::BadMasterKey)?;
        if raw.len() != 32 {
            return Err(CryptoError::BadMasterKey);
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"tessera master key v1").extract(&raw);
        let derive = |label: &[u8]| -> Result<[u8; 32], CryptoError> {
            let mut out = [0u8; 32];
            let info = [label];
            prk.expand(&info, Len(32))
                .and_then(|okm| okm.fill(&mut out))
                .map_err(|_| CryptoError::BadMasterKey)?;
            Ok(out)
        };
        let kek_bytes = derive(b"key-encryption")?;
        let pepper_bytes = derive(b"secret-pepper")?;
        let kek = UnboundKey::new(&AES_256_GCM, &kek_bytes)
            .map(LessSafeKey::new)
            .map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Self {
            kek,
            pepper: hmac::Key::new(hmac::HMAC_SHA256, &pepper_bytes),
        })
    }

    /// Loads the master key from `file`, creating it (mode 0600) with a fresh key when absent.
    pub fn load_or_create(file: &Path) -> Result<Self, CryptoError> {
        let io = |source| CryptoError::Io {
            path: file.display().to_string(),
            source,
        };
        match std::fs::read_to_string(file) {
            Ok(s) => Self::from_master_b64(&s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
                crate::fsutil::write_private(file, key.as_bytes()).map_err(io)?;
                Self::from_master_b64(&key)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Loads the master key from the configured value, else from an existing file; never creates one.
    pub fn load_configured(value: Option<&str>, file: &Path) -> Result<Self, CryptoError> {
        if let Some(v) = value {
            return Self::from_master_b64(v);
        }
        let s = std::fs::read_to_string(file).map_err(|source| CryptoError::Io {
            path: file.display().to_string(),
            source,
        })?;
        Self::from_master_b64(&s)
    }

    /// The keyed hash (HMAC-SHA-256 under the pepper) of a secret or token, as stored.
    pub fn hash(&self, secret: &str) -> Vec<u8> {
        hmac::sign(&self.pepper, secret.as_bytes())
            .as_ref()
            .to_vec()
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    pub fn verify_hash(&self, secret: &str, stored: &[u8]) -> bool {
        hmac::verify(&self.pepper, secret.as_bytes(), stored).is_ok()
    }

    /// Encrypts `plaintext` with AES-256-GCM under the key-encryption key; `context` is bound as
    /// associated data so a value cannot be moved to another row. Output: nonce || ciphertext.
    pub fn encrypt(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let mut buf = plaintext.to_vec();
        self.kek
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| CryptoError::Random)?;
        let mut out = nonce_bytes.to_vec();
        out.extend(buf);
        Ok(out)
    }

    /// Decrypts what [`Keys::encrypt`] produced for the same `context`.
    pub fn decrypt(&self, context: &str, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if data.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ct) = data.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
        let mut buf = ct.to_vec();
        let plain = self
            .kek
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        let master = URL_SAFE_NO_PAD.encode([7u8; 32]);
        Keys::from_master_b64(&master).unwrap_or_else(|_| std::process::abort())
    }

    #[test]
    fn hash_and_verify() {
        let k = keys();
        let h = k.hash("tsec_abc");
        assert!(k.verify_hash("tsec_abc", &h));
        assert!(!k.verify_hash("tsec_abd", &h));
    }

    #[test]
    fn encryption_is_bound_to_context() {
        let k = keys();
        let ct = k.encrypt("key:1", b"private").unwrap_or_default();
        assert_eq!(k.decrypt("key:1", &ct).unwrap_or_default(), b"private");
        assert!(k.decrypt("key:2", &ct).is_err());
        let other = Keys::from_master_b64(&URL_SAFE_NO_PAD.encode([8u8; 32]))
            .unwrap_or_else(|_| std::process::abort());
        assert!(other.decrypt("key:1", &ct).is_err());
    }

    #[test]
    fn tokens_are_long_and_prefixed() {
        let t = random_token("tsec_").unwrap_or_default();
        assert!(t.starts_with("tsec_") && t.len() == 5 + 43);
    }
}

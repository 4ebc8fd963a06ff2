//! User passwords: argon2id (RFC 9106) with the crate's default cost, always on a blocking
//! thread so a slow hash never stalls the async workers. Unknown users are checked against a
//! dummy hash so that timing does not tell which usernames exist.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use secrecy::ExposeSecret;
use secrecy::SecretString;
use std::sync::OnceLock;

/// The shortest password accepted when one is set.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted (argon2 takes any length; this bounds the work per request).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password is too short or too long.
    #[error(
        "a password has at least {MIN_PASSWORD_CHARS} characters and at most {MAX_PASSWORD_BYTES} bytes"
    )]
    Unacceptable,
    /// Hashing failed (random source, or a blocking thread that did not finish).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Checks the length rules for a new password.
pub fn check_new(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::Unacceptable);
    }
    Ok(())
}

fn hash_blocking(password: &[u8]) -> Result<String, PasswordError> {
    let salt =
        crate::crypto::random_bytes::<16>().map_err(|e| PasswordError::Hash(e.to_string()))?;
    let hash: PasswordHash = Argon2::default()
        .hash_password_with_salt(password, &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Hashes a new password to a PHC string (`$argon2id$v=19$…`).
pub async fn hash(password: &SecretString) -> Result<String, PasswordError> {
    check_new(password.expose_secret())?;
    let p = password.expose_secret().as_bytes().to_vec();
    tokio::task::spawn_blocking(move || hash_blocking(&p))
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
}

fn verify_blocking(password: &[u8], phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password, &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, made once, checked when the user is unknown or has no password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = crate::crypto::random_bytes::<32>().unwrap_or([7; 32]);
        hash_blocking(&random).unwrap_or_default()
    })
}

/// Whether `password` matches `stored`; with `None` (unknown user, or no password set) the same
/// work is done against a dummy hash and the answer is `false`.
pub async fn verify(password: &str, stored: Option<&str>) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let p = password.as_bytes().to_vec();
    let stored = stored.map(str::to_owned);
    tokio::task::spawn_blocking(move || match stored {
        Some(s) => verify_blocking(&p, &s),
        None => {
            let _ = verify_blocking(&p, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash(&SecretString::from("correct horse"))
            .await
            .unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", Some(&h)).await);
        assert!(!verify("wrong horse!", Some(&h)).await);
        assert!(!verify("correct horse", None).await);
        assert!(hash(&SecretString::from("short")).await.is_err());
    }
}

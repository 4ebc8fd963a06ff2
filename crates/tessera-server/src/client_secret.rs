//! Client secrets: generated (random bits behind the recognisable prefix `tsec_`: 256, or 512 for a
//! `client_secret_jwt` client), shown once, stored as an HMAC under the pepper, and for
//! `client_secret_jwt` clients also encrypted (the server must compute the HMAC of their
//! assertions).

use crate::crypto::{CryptoError, Keys, random_id, random_token, random_token_of};
use crate::model::{StoredSecret, now};
use crate::registry::secret_aad;
use secrecy::SecretString;

/// The prefix of every client secret Tessera generates.
pub const SECRET_PREFIX: &str = "tsec_";

/// The shortest secret an admin may import (from another system, for a migration): 8 characters.
/// Generated secrets carry 256 bits (512 for `client_secret_jwt`); an imported one is only as
/// strong as it was made, so such clients are marked and listed until their secret is rotated.
pub const MIN_IMPORTED_SECRET_CHARS: usize = 8;

/// The longest secret accepted from outside.
pub const MAX_IMPORTED_SECRET_CHARS: usize = 512;

/// Generates a secret for `client_id` and the row that stores it; `recoverable` (a
/// `client_secret_jwt` client) also stores it encrypted. A `client_secret_jwt` client's secret is
/// the HMAC key of its assertions, which RFC 7518 §3.2 wants at least as long as the hash's output:
/// it gets 512 random bits, enough for HS256, HS384 and HS512; other clients get 256.
pub fn generate(
    keys: &Keys,
    client_id: &str,
    recoverable: bool,
) -> Result<(SecretString, StoredSecret), CryptoError> {
    let plain = if recoverable {
        random_token_of::<64>(SECRET_PREFIX)?
    } else {
        random_token(SECRET_PREFIX)?
    };
    let row = stored(keys, client_id, recoverable, &plain, false)?;
    Ok((SecretString::from(plain), row))
}

/// Checks a secret given from outside (an imported one): 8 to 512 characters, no control
/// characters. The message never quotes the secret.
pub fn check_imported(plain: &str) -> Result<(), String> {
    let n = plain.chars().count();
    if !(MIN_IMPORTED_SECRET_CHARS..=MAX_IMPORTED_SECRET_CHARS).contains(&n) {
        return Err(format!(
            "an imported client secret must be {MIN_IMPORTED_SECRET_CHARS} to {MAX_IMPORTED_SECRET_CHARS} characters (it has {n})"
        ));
    }
    if plain.chars().any(char::is_control) {
        return Err("an imported client secret may not contain control characters".into());
    }
    Ok(())
}

/// The row storing a secret; `imported` marks one given from outside rather than generated.
pub fn stored(
    keys: &Keys,
    client_id: &str,
    recoverable: bool,
    plain: &str,
    imported: bool,
) -> Result<StoredSecret, CryptoError> {
    let id = random_id("")?;
    let encrypted = if recoverable {
        Some(keys.encrypt(&secret_aad(client_id, &id), plain.as_bytes())?)
    } else {
        None
    };
    Ok(StoredSecret {
        hash: keys.hash(plain),
        encrypted,
        id,
        client_id: client_id.to_owned(),
        created_at: now(),
        expires_at: None,
        imported,
    })
}

//! Client secrets: generated (256 random bits behind the recognisable prefix `tsec_`), shown once,
//! stored as an HMAC under the pepper, and for `client_secret_jwt` clients also encrypted (the
//! server must compute the HMAC of their assertions).

use crate::crypto::{CryptoError, Keys, random_id, random_token};
use crate::model::{StoredSecret, now};
use crate::registry::secret_aad;
use secrecy::SecretString;
use tessera_proto::ClientAuthMethod;

/// The prefix of every client secret Tessera generates.
pub const SECRET_PREFIX: &str = "tsec_";

/// Generates a secret for `client_id` and the row that stores it.
pub fn generate(
    keys: &Keys,
    client_id: &str,
    method: ClientAuthMethod,
) -> Result<(SecretString, StoredSecret), CryptoError> {
    let plain = random_token(SECRET_PREFIX)?;
    let row = stored(keys, client_id, method, &plain)?;
    Ok((SecretString::from(plain), row))
}

/// The row storing a given secret (for declarative setup, where the secret comes from outside).
pub fn stored(
    keys: &Keys,
    client_id: &str,
    method: ClientAuthMethod,
    plain: &str,
) -> Result<StoredSecret, CryptoError> {
    let id = random_id("")?;
    let encrypted = if method == ClientAuthMethod::ClientSecretJwt {
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
    })
}

//! The rules a client or scope registration must follow, checked on the whole registration after
//! a create or a change is applied, so that no combination of edits can store an inconsistent one.
//! Each refusal names the field and says what to do.

use super::error::ApiError;
use crate::model::{Client, RESERVED_CLAIMS};
use reqwest::Url;
use std::collections::BTreeSet;
use tessera_jose::{Algorithm, VerifyingKey};
use tessera_proto::scope::OPENID_SCOPES;
use tessera_proto::{ClientAuthMethod, GrantType, ScopeName, ScopeNaming};

/// Scope names Tessera keeps for itself (its admin scopes).
pub const RESERVED_SCOPE_PREFIX: &str = "tessera.";

/// The largest `extra_claims` object, serialized: it goes into every token.
pub const MAX_EXTRA_CLAIMS_BYTES: usize = 8 * 1024;

/// What client validation needs to know about the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// The names of the registered scopes.
    pub registered_scopes: &'a BTreeSet<String>,
    /// `tokens.max_lifetime_secs`.
    pub max_lifetime_secs: u64,
    /// `scopes.naming`.
    pub scope_naming: ScopeNaming,
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Checks a client id: 1 to 255 characters, no control characters. Anything printable is
/// allowed (`:`, `%`, `+`, spaces, non-ASCII), since Basic authentication form-urlencodes it
/// (RFC 6749 §2.3.1) and the admin API takes it percent-encoded in the path. `.` and `..` are
/// refused because a URL path cannot carry them as a segment.
pub fn client_id(id: &str) -> Result<(), ApiError> {
    let n = id.chars().count();
    if n == 0 || n > 255 {
        return Err(ApiError::invalid_field(
            "client_id",
            "client_id must be 1 to 255 characters",
        ));
    }
    if has_control(id) {
        return Err(ApiError::invalid_field(
            "client_id",
            "client_id may not contain control characters",
        ));
    }
    if id == "." || id == ".." {
        return Err(ApiError::invalid_field(
            "client_id",
            "client_id may not be \".\" or \"..\" (they cannot be named in a URL path)",
        ));
    }
    Ok(())
}

fn text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<(), ApiError> {
    // `permissions: each permission` concerns the field `permissions`.
    let key = field.split_once(':').map_or(field, |(f, _)| f);
    let n = value.chars().count();
    if n < min || n > max || (min > 0 && value.trim().is_empty()) {
        return Err(ApiError::invalid_field(
            key,
            if min > 0 {
                format!("{field} must be {min} to {max} characters, not blank")
            } else {
                format!("{field} may be at most {max} characters")
            },
        ));
    }
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
    if bad {
        return Err(ApiError::invalid_field(
            key,
            format!("{field} may not contain control characters"),
        ));
    }
    Ok(())
}

/// Removes repeated entries, keeping the first of each.
fn dedup<T: PartialEq + Clone>(v: &mut Vec<T>) {
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    for x in v.drain(..) {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    *v = out;
}

/// Checks a whole client registration and normalises it (repeated list entries removed).
pub fn client(c: &mut Client, limits: Limits<'_>) -> Result<(), ApiError> {
    client_id(&c.client_id)?;
    text("name", &c.name, 1, 200, false)?;
    text("description", &c.description, 0, 2000, true)?;
    auth_methods(c)?;
    grant_types(c)?;
    redirect_uris(c)?;
    scopes(c, limits.registered_scopes, limits.scope_naming)?;
    authentication(c)?;
    tokens(c, limits.max_lifetime_secs)?;
    audiences(c)?;
    extra_claims(c)?;
    Ok(())
}

fn grant_types(c: &mut Client) -> Result<(), ApiError> {
    dedup(&mut c.grant_types);
    if c.grant_types.is_empty() {
        return Err(ApiError::invalid_field(
            "grant_types",
            "grant_types may not be empty; a machine client uses [\"client_credentials\"]",
        ));
    }
    let public = c.is_public();
    if public && c.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(ApiError::invalid_field(
            "grant_types",
            "the client_credentials grant is only for confidential clients (RFC 6749 §4.4): \
             choose an authentication method other than none",
        ));
    }
    if public && c.grant_types.contains(&GrantType::JwtBearer) {
        return Err(ApiError::invalid_field(
            "grant_types",
            "the jwt-bearer grant is only for confidential clients (a bearer assertion is traded \
             only by a client that authenticates): choose an authentication method other than none",
        ));
    }
    if c.grant_types.contains(&GrantType::AuthorizationCode) && c.redirect_uris.is_empty() {
        return Err(ApiError::invalid_field(
            "redirect_uris",
            "the authorization_code grant needs at least one redirect_uri (RFC 6749 §3.1.2)",
        ));
    }
    if public && c.require_pkce == Some(false) {
        return Err(ApiError::invalid_field(
            "require_pkce",
            "require_pkce may be false only for a confidential client: a public client (none) \
             always needs PKCE (RFC 9700 §2.1.1)",
        ));
    }
    if c.grant_types == [GrantType::RefreshToken] {
        return Err(ApiError::invalid_field(
            "grant_types",
            "refresh_token alone is not a usable grant: add the grant that issues the refresh token",
        ));
    }
    Ok(())
}

fn redirect_uris(c: &mut Client) -> Result<(), ApiError> {
    dedup(&mut c.redirect_uris);
    for u in &c.redirect_uris {
        if u.len() > 2000 || has_control(u) {
            return Err(ApiError::invalid_field(
                "redirect_uris",
                format!("redirect_uris: {u:?} is too long or contains control characters"),
            ));
        }
        let url = Url::parse(u).map_err(|e| {
            ApiError::invalid_field(
                "redirect_uris",
                format!("redirect_uris: {u:?} is not an absolute URI ({e}) (RFC 6749 §3.1.2)"),
            )
        })?;
        if u.contains('#') {
            return Err(ApiError::invalid_field(
                "redirect_uris",
                format!("redirect_uris: {u:?} may not have a fragment (RFC 6749 §3.1.2)"),
            ));
        }
        if matches!(url.scheme(), "javascript" | "data" | "file" | "vbscript") {
            return Err(ApiError::invalid_field(
                "redirect_uris",
                format!("redirect_uris: the {} scheme is not allowed", url.scheme()),
            ));
        }
    }
    Ok(())
}

fn scopes(
    c: &mut Client,
    registered: &BTreeSet<String>,
    naming: ScopeNaming,
) -> Result<(), ApiError> {
    dedup(&mut c.allowed_scopes);
    dedup(&mut c.default_scopes);
    for (field, list) in [
        ("allowed_scopes", &c.allowed_scopes),
        ("default_scopes", &c.default_scopes),
    ] {
        for s in list {
            ScopeName::parse_with(s, naming).map_err(|e| {
                ApiError::invalid_field(field, format!("{field}: {e}{}", naming_hint(naming, s)))
            })?;
        }
    }
    let unknown: Vec<&str> = c
        .allowed_scopes
        .iter()
        // The OpenID Connect scopes are the protocol's own: a client may be allowed them without
        // registering them first (docs/users-and-pages.md).
        .filter(|s| !registered.contains(s.as_str()) && !OPENID_SCOPES.contains(&s.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid_field(
            "allowed_scopes",
            format!(
                "allowed_scopes: not registered: {}; create the scopes first (POST /admin/api/v1/scopes, or tessera scope create)",
                unknown.join(", ")
            ),
        ));
    }
    let not_allowed: Vec<&str> = c
        .default_scopes
        .iter()
        .filter(|s| !c.allowed_scopes.contains(s))
        .map(String::as_str)
        .collect();
    if !not_allowed.is_empty() {
        return Err(ApiError::invalid_field(
            "default_scopes",
            format!(
                "default_scopes must be among allowed_scopes; not allowed: {}",
                not_allowed.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The method list: one or more, repeated entries removed, `none` alone.
fn auth_methods(c: &mut Client) -> Result<(), ApiError> {
    dedup(&mut c.token_endpoint_auth_methods);
    if c.token_endpoint_auth_methods.is_empty() {
        return Err(ApiError::invalid_field(
            "token_endpoint_auth_methods",
            "token_endpoint_auth_methods may not be empty: list one or more of client_secret_basic, \
             client_secret_post, client_secret_jwt, private_key_jwt, or none (alone) for a public client",
        ));
    }
    if c.is_public() && c.token_endpoint_auth_methods.len() > 1 {
        return Err(ApiError::invalid_field(
            "token_endpoint_auth_methods",
            format!(
                "token_endpoint_auth_methods: none (a public client) cannot be combined with other methods \
             ({}): a client that may skip authentication has no credential to check",
                c.auth_methods_text()
            ),
        ));
    }
    Ok(())
}

fn authentication(c: &Client) -> Result<(), ApiError> {
    if c.jwks.is_some() && c.jwks_uri.is_some() {
        return Err(ApiError::invalid_field(
            "jwks",
            "jwks and jwks_uri may not both be set (RFC 7591 §2): choose one",
        ));
    }
    if c.accepts(ClientAuthMethod::PrivateKeyJwt) && c.jwks.is_none() && c.jwks_uri.is_none() {
        return Err(ApiError::invalid_field(
            "jwks",
            "private_key_jwt needs the client's public keys: set jwks (a JWK Set) or jwks_uri",
        ));
    }
    if let Some(alg) = c.token_endpoint_auth_signing_alg {
        let (secret_jwt, key_jwt) = (
            c.accepts(ClientAuthMethod::ClientSecretJwt),
            c.accepts(ClientAuthMethod::PrivateKeyJwt),
        );
        if secret_jwt && key_jwt {
            return Err(ApiError::invalid_field(
                "token_endpoint_auth_signing_alg",
                "token_endpoint_auth_signing_alg names one algorithm, but the client lists both \
                 client_secret_jwt and private_key_jwt: leave it out, or list only one of them",
            ));
        }
        if secret_jwt && !alg.is_hmac() {
            return Err(ApiError::invalid_field(
                "token_endpoint_auth_signing_alg",
                format!(
                    "token_endpoint_auth_signing_alg {alg} does not fit client_secret_jwt: use HS256, HS384 or HS512"
                ),
            ));
        }
        if key_jwt && alg.is_hmac() {
            return Err(ApiError::invalid_field(
                "token_endpoint_auth_signing_alg",
                format!(
                    "token_endpoint_auth_signing_alg {alg} does not fit private_key_jwt: use an asymmetric algorithm (ES256, RS256, PS256, EdDSA, …)"
                ),
            ));
        }
        if !secret_jwt && !key_jwt {
            return Err(ApiError::invalid_field(
                "token_endpoint_auth_signing_alg",
                format!(
                    "token_endpoint_auth_signing_alg applies only to client_secret_jwt and private_key_jwt, not {}",
                    c.auth_methods_text()
                ),
            ));
        }
    }
    if let Some(set) = &c.jwks {
        if set.keys.is_empty() {
            return Err(ApiError::invalid_field("jwks", "jwks has no keys"));
        }
        let mut usable = Vec::new();
        for (i, k) in set.keys.iter().enumerate() {
            let name = k
                .kid
                .as_deref()
                .map(|kid| format!(" (kid {kid:?})"))
                .unwrap_or_default();
            if k.is_private() {
                return Err(ApiError::invalid_field(
                    "jwks",
                    format!(
                        "jwks.keys[{i}]{name} holds private key material: register the public key only (drop d, p, q, dp, dq, qi, k)"
                    ),
                ));
            }
            let key = VerifyingKey::from_jwk(k).map_err(|e| {
                ApiError::invalid_field(
                    "jwks",
                    format!("jwks.keys[{i}]{name} is not a usable public key: {e}"),
                )
            })?;
            usable.push(key);
        }
        if let Some(alg) = c.token_endpoint_auth_signing_alg
            && !usable.iter().any(|k| k.supports(alg))
        {
            return Err(ApiError::invalid_field(
                "jwks",
                format!(
                    "no key in jwks can verify {alg} assertions (token_endpoint_auth_signing_alg)"
                ),
            ));
        }
    }
    if let Some(uri) = &c.jwks_uri {
        crate::oauth::remote_jwks::check_uri(uri)
            .map_err(|e| ApiError::invalid_field("jwks_uri", e))?;
    }
    Ok(())
}

fn tokens(c: &Client, max_lifetime_secs: u64) -> Result<(), ApiError> {
    if let Some(l) = c.access_token_lifetime
        && (l == 0 || l > max_lifetime_secs)
    {
        return Err(ApiError::invalid_field(
            "access_token_lifetime",
            format!(
                "access_token_lifetime must be between 1 and {max_lifetime_secs} seconds (tokens.max_lifetime_secs)"
            ),
        ));
    }
    if let Some(alg) = c.access_token_signing_alg
        && !matches!(alg, Algorithm::ES256 | Algorithm::RS256 | Algorithm::EdDSA)
    {
        return Err(ApiError::invalid_field(
            "access_token_signing_alg",
            format!("access_token_signing_alg {alg} is not offered: use ES256, RS256 or EdDSA"),
        ));
    }
    Ok(())
}

fn audiences(c: &mut Client) -> Result<(), ApiError> {
    dedup(&mut c.audiences);
    for a in &c.audiences {
        if a.trim().is_empty() || a.chars().count() > 1000 || has_control(a) {
            return Err(ApiError::invalid_field(
                "audiences",
                format!(
                    "audiences: {a:?} must be a non-blank string of at most 1000 characters without control characters"
                ),
            ));
        }
    }
    Ok(())
}

fn extra_claims(c: &Client) -> Result<(), ApiError> {
    for k in c.extra_claims.keys() {
        if k.is_empty() {
            return Err(ApiError::invalid_field(
                "extra_claims",
                "extra_claims: a claim name may not be empty",
            ));
        }
        if RESERVED_CLAIMS.contains(&k.as_str()) {
            return Err(ApiError::invalid_field(
                "extra_claims",
                format!(
                    "extra_claims: {k:?} is set by the server and may not be overridden (reserved: {})",
                    RESERVED_CLAIMS.join(", ")
                ),
            ));
        }
    }
    let size = serde_json::to_vec(&c.extra_claims)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_EXTRA_CLAIMS_BYTES {
        return Err(ApiError::invalid_field(
            "extra_claims",
            format!(
                "extra_claims is {size} bytes as JSON; at most {MAX_EXTRA_CLAIMS_BYTES} (they go into every token)"
            ),
        ));
    }
    Ok(())
}

/// What to add to a refusal of `name` under `naming`: under `service.object.right`, for a name that
/// is a scope token of RFC 6749, where to allow it.
pub fn naming_hint(naming: ScopeNaming, name: &str) -> &'static str {
    if naming == ScopeNaming::ServiceObjectRight && tessera_proto::scope::is_scope_token(name) {
        " (names of another form, such as `read`, are allowed with scopes.naming = \"rfc6749\")"
    } else {
        ""
    }
}

/// Checks a scope name for creation under `naming` (`service.object.right` or an OpenID Connect
/// scope; or any RFC 6749 scope token), and not in Tessera's own `tessera.` namespace.
pub fn new_scope_name(name: &str, naming: ScopeNaming) -> Result<ScopeName, ApiError> {
    let parsed = ScopeName::parse_with(name, naming).map_err(|e| {
        ApiError::invalid_field("name", format!("name: {e}{}", naming_hint(naming, name)))
    })?;
    if name.starts_with(RESERVED_SCOPE_PREFIX) {
        return Err(ApiError::invalid_field(
            "name",
            format!(
                "name: scopes under {RESERVED_SCOPE_PREFIX:?} are Tessera's own admin scopes; choose another service name"
            ),
        ));
    }
    Ok(parsed)
}

/// Checks a scope's description and permissions, removing repeated permissions.
pub fn scope_fields(description: &str, permissions: &mut Vec<String>) -> Result<(), ApiError> {
    text("description", description, 0, 1000, true)?;
    dedup(permissions);
    if permissions.len() > 200 {
        return Err(ApiError::invalid_field(
            "permissions",
            "permissions: at most 200 per scope",
        ));
    }
    for p in permissions.iter() {
        text("permissions: each permission", p, 1, 500, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids() {
        assert!(client_id("billing").is_ok());
        assert!(client_id("a:b%c+d e/é€").is_ok());
        assert!(client_id("").is_err());
        assert!(client_id(&"x".repeat(256)).is_err());
        assert!(client_id(&"é".repeat(255)).is_ok());
        assert!(client_id("tab\there").is_err());
        assert!(client_id("..").is_err());
    }

    #[test]
    fn openid_scopes_need_no_registration() -> Result<(), serde_json::Error> {
        let registered: BTreeSet<String> = ["core.accounting.read".to_owned()].into();
        let mut c: Client = serde_json::from_value(serde_json::json!({
            "client_id": "web", "name": "web", "enabled": true,
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none",
            "allowed_scopes": ["openid", "offline_access", "core.accounting.read"],
        }))?;
        let naming = ScopeNaming::ServiceObjectRight;
        assert!(scopes(&mut c, &registered, naming).is_ok());
        c.allowed_scopes.push("core.ledger.read".into());
        let refused = scopes(&mut c, &registered, naming);
        assert!(
            format!("{refused:?}").contains("not registered: core.ledger.read"),
            "{refused:?}"
        );
        Ok(())
    }

    #[test]
    fn refusals_name_their_field() -> Result<(), serde_json::Error> {
        let registered = BTreeSet::new();
        let limits = Limits {
            registered_scopes: &registered,
            max_lifetime_secs: 3600,
            scope_naming: ScopeNaming::ServiceObjectRight,
        };
        let base = serde_json::json!({
            "client_id": "web", "name": "web", "enabled": true,
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic",
        });
        let refused =
            |change: serde_json::Value| -> Result<Option<&'static str>, serde_json::Error> {
                let mut v = base.clone();
                if let (Some(o), Some(c)) = (v.as_object_mut(), change.as_object()) {
                    o.extend(c.clone());
                }
                let mut c: Client = serde_json::from_value(v)?;
                Ok(client(&mut c, limits).err().and_then(|e| e.field()))
            };
        assert_eq!(refused(serde_json::json!({}))?, None);
        assert_eq!(refused(serde_json::json!({"name": " "}))?, Some("name"));
        assert_eq!(
            refused(serde_json::json!({"redirect_uris": ["nope"]}))?,
            Some("redirect_uris")
        );
        assert_eq!(
            refused(serde_json::json!({"grant_types": ["authorization_code"]}))?,
            Some("redirect_uris")
        );
        assert_eq!(
            refused(serde_json::json!({"allowed_scopes": ["core.x.read"]}))?,
            Some("allowed_scopes")
        );
        assert_eq!(
            refused(serde_json::json!({"access_token_lifetime": 7200}))?,
            Some("access_token_lifetime")
        );
        assert_eq!(
            refused(serde_json::json!({"extra_claims": {"iss": "x"}}))?,
            Some("extra_claims")
        );
        assert_eq!(
            refused(serde_json::json!({"token_endpoint_auth_method": "private_key_jwt"}))?,
            Some("jwks")
        );
        Ok(())
    }

    #[test]
    fn dedup_keeps_order() {
        let mut v = vec!["b", "a", "b", "c", "a"];
        dedup(&mut v);
        assert_eq!(v, ["b", "a", "c"]);
    }
}

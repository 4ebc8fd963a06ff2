//! The registry's records: clients, scopes and their settings, as stored and as the admin API
//! shows them. Secrets are never part of these records.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_jose::{Algorithm, JwkSet};
use tessera_proto::{ClientAuthMethod, GrantType, TokenFormat};
use utoipa::ToSchema;

/// A registered scope (`service.object.right`) and the API permissions it grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Scope {
    /// `service.object.right`, or an OpenID Connect scope.
    pub name: String,
    /// What the scope allows, for people.
    #[serde(default)]
    pub description: String,
    /// The API permissions behind the scope, such as `GET /api/invoices`.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Creation time, seconds since the epoch.
    #[serde(default)]
    pub created_at: i64,
    /// Last change, seconds since the epoch.
    #[serde(default)]
    pub updated_at: i64,
}

/// A registered client (RFC 6749 §2, RFC 7591 §2 metadata names where they exist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Client {
    /// The client identifier.
    pub client_id: String,
    /// A name for people.
    pub name: String,
    /// A longer description.
    #[serde(default)]
    pub description: String,
    /// Disabled clients are refused with `invalid_client`.
    pub enabled: bool,
    /// Grant types the client may use.
    pub grant_types: Vec<GrantType>,
    /// Redirection endpoints (authorization code).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Scopes the client may be granted.
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    /// Scopes granted when the request names none.
    #[serde(default)]
    pub default_scopes: Vec<String>,
    /// How the client may authenticate (RFC 7591 §2 `token_endpoint_auth_method`, one or more):
    /// a request authenticated by any other method is refused. `none` (a public client) stands
    /// alone. Read from `token_endpoint_auth_method` (a single name) as a one-item list, as stored
    /// and exported before the list existed.
    #[serde(
        alias = "token_endpoint_auth_method",
        deserialize_with = "crate::model::auth_methods::one_or_many"
    )]
    #[schema(min_items = 1)]
    pub token_endpoint_auth_methods: Vec<ClientAuthMethod>,
    /// The algorithm client assertions must use (`client_secret_jwt`, `private_key_jwt`); any
    /// fitting one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::admin::openapi::fields::assertion_alg)]
    pub token_endpoint_auth_signing_alg: Option<Algorithm>,
    /// Public keys for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::admin::openapi::fields::jwks)]
    pub jwks: Option<JwkSet>,
    /// Where the public keys for `private_key_jwt` are published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Access token format; the server default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_format: Option<TokenFormat>,
    /// Access token lifetime in seconds; the server default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<u64>,
    /// Signing algorithm of JWT access tokens; the server default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::admin::openapi::fields::token_alg)]
    pub access_token_signing_alg: Option<Algorithm>,
    /// Audiences (`resource` / `audience` values) the client may ask for; the first is the default.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Whether authorization requests must carry PKCE (RFC 7636, S256). `false` is allowed only
    /// for a confidential client, as a migration aid for integrations that cannot send it; absent:
    /// the server's `authorize.require_pkce` (true by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pkce: Option<bool>,
    /// Static claims added to every access token.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra_claims: Map<String, Value>,
    /// Creation time, seconds since the epoch.
    #[serde(default)]
    pub created_at: i64,
    /// Last change, seconds since the epoch.
    #[serde(default)]
    pub updated_at: i64,
}

impl Client {
    /// Whether the client may authenticate with `method`.
    pub fn accepts(&self, method: ClientAuthMethod) -> bool {
        self.token_endpoint_auth_methods.contains(&method)
    }

    /// Whether the client is public (`none`): it has no credential.
    pub fn is_public(&self) -> bool {
        self.accepts(ClientAuthMethod::None)
    }

    /// Whether any of its methods uses a client secret.
    pub fn uses_secret(&self) -> bool {
        self.token_endpoint_auth_methods
            .iter()
            .any(|m| m.uses_secret())
    }

    /// Whether the server must be able to read its secret back (`client_secret_jwt`: the server
    /// computes the HMAC of its assertions), so the secret is also stored encrypted.
    pub fn secret_recoverable(&self) -> bool {
        self.accepts(ClientAuthMethod::ClientSecretJwt)
    }

    /// The methods as a comma-separated list of their names.
    pub fn auth_methods_text(&self) -> String {
        auth_methods::text(&self.token_endpoint_auth_methods)
    }
}

/// Reading and writing lists of token endpoint authentication methods.
pub mod auth_methods {
    use serde::Deserializer;
    use serde::de::{self, SeqAccess, Visitor};
    use tessera_proto::ClientAuthMethod;

    /// The methods a secret-based client gets when its registration names none: the secret in
    /// the `Authorization` header or in the form body (RFC 6749 §2.3.1), as clients send it.
    pub const SECRET_DEFAULT: [ClientAuthMethod; 2] = [
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
    ];

    struct OneOrMany;

    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<ClientAuthMethod>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a client authentication method name or a list of them")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.parse().map(|m| vec![m]).map_err(E::custom)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(m) = seq.next_element::<ClientAuthMethod>()? {
                out.push(m);
            }
            Ok(out)
        }
    }

    /// Reads a single method name or a list of them.
    pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ClientAuthMethod>, D::Error> {
        d.deserialize_any(OneOrMany)
    }

    /// Reads an optional single method name or list of them.
    pub fn optional_one_or_many<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<ClientAuthMethod>>, D::Error> {
        one_or_many(d).map(Some)
    }

    /// The methods as a comma-separated list of their names.
    pub fn text(methods: &[ClientAuthMethod]) -> String {
        methods
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Claims a client's `extra_claims` may not set, because the server sets them.
pub const RESERVED_CLAIMS: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "client_id",
    "scope",
    "auth_time",
    "acr",
    "amr",
    "cnf",
];

/// A stored client secret: its hash (or, for `client_secret_jwt`, its encryption) and validity.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret {
    /// Row id.
    pub id: String,
    /// The client.
    pub client_id: String,
    /// HMAC-SHA-256 of the secret under the pepper.
    pub hash: Vec<u8>,
    /// The secret encrypted under the key-encryption key (only for `client_secret_jwt`).
    pub encrypted: Option<Vec<u8>>,
    /// Creation time.
    pub created_at: i64,
    /// When the secret stops working (set when it is rotated out); `None` while current.
    pub expires_at: Option<i64>,
    /// Whether an admin imported it (brought from another system) rather than Tessera
    /// generating it: such secrets are listed so that they get rotated.
    pub imported: bool,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("imported", &self.imported)
            .finish_non_exhaustive()
    }
}

/// A stored signing key; the private part is encrypted.
#[derive(Clone)]
pub struct StoredKey {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: String,
    /// PKCS#8 encrypted under the key-encryption key, bound to the kid.
    pub encrypted_pkcs8: Vec<u8>,
    /// The public JWK as JSON.
    pub public_jwk: String,
    /// Creation (and publication) time.
    pub created_at: i64,
    /// When it starts signing.
    pub activates_at: i64,
    /// When it stopped signing (a newer key took over), if it did.
    pub retired_at: Option<i64>,
    /// When it leaves the JWKS.
    pub remove_at: Option<i64>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("activates_at", &self.activates_at)
            .field("retired_at", &self.retired_at)
            .field("remove_at", &self.remove_at)
            .finish_non_exhaustive()
    }
}

/// A stored opaque access token: only its keyed hash identifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredToken {
    /// HMAC of the token.
    pub hash: Vec<u8>,
    /// Token id (also the revocation handle).
    pub jti: String,
    /// The client.
    pub client_id: String,
    /// Subject.
    pub sub: String,
    /// Granted scope.
    pub scope: String,
    /// Audiences as a JSON array.
    pub aud: String,
    /// Issue time.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Extra claims as a JSON object.
    pub extra: String,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    /// Sequence number.
    #[serde(default)]
    pub id: i64,
    /// Time, seconds since the epoch.
    pub at: i64,
    /// Who: a client id, `cli`, `setup-file`, or `anonymous`.
    pub actor: String,
    /// What: `client.create`, `client.auth_failed`, …
    pub action: String,
    /// The object acted on.
    pub target: String,
    /// The state before, without secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The state after, without secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// The caller's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_addr: Option<String>,
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
//! RFC 7523 §2.2): one function picks the method the request used, checks it is one of the
//! methods the client registered, and verifies it.

use super::assertion::{self, AssertionError};
use super::error::OAuthError;
use crate::model::{AuditEvent, now};
use crate::registry::ClientEntry;
use crate::state::AppState;
use axum::http::{HeaderMap, header};
use std::net::IpAddr;
use std::sync::Arc;
use tessera_proto::client_auth::JWT_BEARER_ASSERTION_TYPE;
use tessera_proto::{ClientAuthMethod, FormParams, basic};

/// The credentials a request carries.
#[derive(Clone, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Basic`.
    Basic {
        /// Client id.
        id: String,
        /// Secret.
        secret: String,
    },
    /// `client_id` and `client_secret` in the body.
    Post {
        /// Client id.
        id: String,
        /// Secret.
        secret: String,
    },
    /// `client_assertion` in the body.
    Assertion {
        /// The JWT.
        jwt: String,
        /// The client id it claims.
        id: String,
        /// What its header's `alg` makes it: `client_secret_jwt` for an HMAC algorithm,
        /// `private_key_jwt` otherwise.
        method: ClientAuthMethod,
    },
    /// Only `client_id`: a public client.
    Public {
        /// Client id.
        id: String,
    },
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Presented({:?}, {})", self.method(), self.client_id())
    }
}

impl Presented {
    /// The client id presented.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { id, .. }
            | Self::Post { id, .. }
            | Self::Assertion { id, .. }
            | Self::Public { id } => id,
        }
    }

    /// The method used (for assertions, read off the unverified header's `alg`).
    pub fn method(&self) -> ClientAuthMethod {
        match self {
            Self::Basic { .. } => ClientAuthMethod::ClientSecretBasic,
            Self::Post { .. } => ClientAuthMethod::ClientSecretPost,
            Self::Assertion { method, .. } => *method,
            Self::Public { .. } => ClientAuthMethod::None,
        }
    }
}

/// Reads the credentials of a request, refusing malformed ones and more than one method
/// (RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request").
pub fn extract(headers: &HeaderMap, form: &FormParams) -> Result<Option<Presented>, OAuthError> {
    let mut auth_headers = headers.get_all(header::AUTHORIZATION).iter();
    let auth = auth_headers.next();
    if auth_headers.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    let basic = match auth {
        None => None,
        Some(v) => {
            let v = v.to_str().map_err(|_| {
                OAuthError::invalid_request("the Authorization header is not valid ASCII")
            })?;
            match basic::decode(v) {
                Ok(pair) => Some(pair),
                Err(e) => {
                    return Err(OAuthError::invalid_request(format!(
                        "malformed Authorization header: {e}"
                    )));
                }
            }
        }
    };
    let client_id = form.get("client_id")?;
    let client_secret = form.get("client_secret")?;
    let assertion = form.get("client_assertion")?;
    let assertion_type = form.get("client_assertion_type")?;
    let methods = usize::from(basic.is_some())
        + usize::from(client_secret.is_some())
        + usize::from(assertion.is_some());
    if methods > 1 {
        return Err(OAuthError::invalid_request(
            "the request uses more than one client authentication method; use exactly one",
        ));
    }
    if let Some((id, secret)) = basic {
        if client_id.is_some_and(|c| c != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the client authenticated by the Authorization header",
            ));
        }
        return Ok(Some(Presented::Basic { id, secret }));
    }
    if let Some(secret) = client_secret {
        let id = client_id.ok_or_else(|| {
            OAuthError::invalid_request("client_secret was sent without client_id")
        })?;
        return Ok(Some(Presented::Post {
            id: id.to_owned(),
            secret: secret.to_owned(),
        }));
    }
    if let Some(jwt) = assertion {
        match assertion_type {
            Some(JWT_BEARER_ASSERTION_TYPE) => {}
            Some(other) => {
                return Err(OAuthError::invalid_request(format!(
                    "client_assertion_type {other:?} is not supported; use {JWT_BEARER_ASSERTION_TYPE}"
                )));
            }
            None => {
                return Err(OAuthError::invalid_request(
                    "client_assertion was sent without client_assertion_type",
                ));
            }
        }
        let (id, method) = assertion::claimed_client(jwt).ok_or_else(|| {
            OAuthError::invalid_client("client_assertion is not a JWT with a sub claim")
        })?;
        if client_id.is_some_and(|c| c != id) {
            return Err(OAuthError::invalid_client(
                "client_id differs from the client_assertion's sub",
            ));
        }
        return Ok(Some(Presented::Assertion {
            jwt: jwt.to_owned(),
            id,
            method,
        }));
    }
    if assertion_type.is_some() {
        return Err(OAuthError::invalid_request(
            "client_assertion_type was sent without client_assertion",
        ));
    }
    Ok(client_id.map(|id| Presented::Public { id: id.to_owned() }))
}

/// Authenticates the client of a request. `endpoint_url` is the URL of the endpoint called, an
/// acceptable assertion audience beside the issuer and the token endpoint.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &FormParams,
    remote: IpAddr,
    endpoint_url: &str,
) -> Result<Arc<ClientEntry>, OAuthError> {
    let presented = extract(headers, form)?.ok_or_else(|| {
        OAuthError::invalid_client(
            "no client authentication: send HTTP Basic credentials, client_id and client_secret, or a client_assertion",
        )
    })?;
    let id = presented.client_id().to_owned();
    if let Some(wait) = state.client_auth_failures.blocked(&id, remote) {
        metrics::counter!("tessera_client_auth_rate_limited_total").increment(1);
        return Err(with_log_detail(
            state,
            OAuthError::rate_limited(wait),
            "failed authentications over the allowance".into(),
            id,
        ));
    }
    let basic = matches!(presented, Presented::Basic { .. });
    let challenge = |e: OAuthError| if basic { e.with_basic_challenge() } else { e };
    match verify(state, &presented, endpoint_url).await {
        Ok(client) => Ok(client),
        Err(Failure::Store(e)) => Err(e.into()),
        Err(Failure::Refused { reason, public }) => {
            metrics::counter!("tessera_client_auth_failures_total").increment(1);
            state.audit(AuditEvent {
                id: 0,
                at: now(),
                actor: id.clone(),
                action: "client.auth_failed".into(),
                target: id.clone(),
                before: None,
                after: Some(
                    serde_json::json!({ "method": presented.method().as_str(), "reason": reason }),
                ),
                remote_addr: Some(remote.to_string()),
            });
            let err = match state.client_auth_failures.failed(&id, remote) {
                Some(wait) => OAuthError::rate_limited(wait),
                None => OAuthError::invalid_client(public),
            };
            let detail = format!("{} authentication: {reason}", presented.method());
            Err(with_log_detail(state, challenge(err), detail, id))
        }
    }
}

/// A refusal with what the endpoint's log line says of it: the precise reason, and the client
/// when `id` names a registered one (the caller is told neither). Each endpoint writes the line:
/// the token endpoint in its line per request, the others through
/// [`OAuthError::log_failed_authentication`].
fn with_log_detail(
    state: &AppState,
    mut err: OAuthError,
    reason: String,
    id: String,
) -> OAuthError {
    err.log_reason = Some(reason);
    err.presented_client = state.registry.client(&id).map(|_| id);
    err
}

enum Failure {
    Refused { reason: String, public: String },
    Store(crate::store::StoreError),
}

fn refused(reason: impl Into<String>) -> Failure {
    Failure::Refused {
        reason: reason.into(),
        public: "client authentication failed".into(),
    }
}

/// Tells the caller the precise reason: only done once the caller proved it holds the client's
/// credential (for assertions: once the signature verified), so unknown callers learn nothing
/// about which client ids exist.
fn refused_openly(reason: impl Into<String>) -> Failure {
    let r = reason.into();
    Failure::Refused {
        public: r.clone(),
        reason: r,
    }
}

async fn verify(
    state: &AppState,
    presented: &Presented,
    endpoint_url: &str,
) -> Result<Arc<ClientEntry>, Failure> {
    let t = now();
    let Some(client) = state.registry.client(presented.client_id()) else {
        // Spend the same work as a real check so timing does not reveal unknown ids.
        if let Presented::Basic { secret, .. } | Presented::Post { secret, .. } = presented {
            let _ = state.keys.hash(secret);
        }
        return Err(refused("unknown client"));
    };
    let mut imported = false;
    let proven = match presented {
        Presented::Basic { secret, .. } | Presented::Post { secret, .. } => {
            match client.match_secret(&state.keys, secret, t) {
                Some(s) => imported = s.imported,
                None => return Err(refused("wrong client secret")),
            }
            true
        }
        Presented::Assertion { jwt, .. } => {
            let token_ep = state.token_endpoint.as_str();
            let issuer = state.issuer.as_str();
            let auds = [issuer, token_ep, endpoint_url];
            // Boxed: a key fetch makes this future large, and Basic and POST do not need it.
            match Box::pin(assertion::verify(state, &client, jwt, &auds)).await {
                Ok(()) => true,
                Err(AssertionError::Store(e)) => return Err(Failure::Store(e)),
                Err(AssertionError::Invalid(reason)) => return Err(refused_openly(reason)),
                // Nothing proven yet: the reason (which method or algorithm the client is
                // registered for, whether it has keys) would tell an unknown caller that the
                // client exists. It goes to the log only.
                Err(AssertionError::Unproven(reason)) => return Err(refused(reason)),
            }
        }
        Presented::Public { .. } => false,
    };
    // An assertion's method is what its algorithm makes it; assertion::verify checked that the
    // client lists that method.
    let used = presented.method();
    if !client.client.accepts(used) {
        let msg = format!(
            "the client is registered for {}, not {}",
            client.client.auth_methods_text(),
            used.as_str()
        );
        return Err(if proven {
            refused_openly(msg)
        } else {
            refused(msg)
        });
    }
    if !client.client.enabled {
        let msg = "the client is disabled";
        return Err(if proven {
            refused_openly(msg)
        } else {
            refused(msg)
        });
    }
    if imported {
        // A migration aid, counted so that operators see who still relies on one (the client
        // is named in the audit of its secret, not here: no client label).
        metrics::counter!("tessera_imported_secret_auth_total").increment(1);
    }
    Ok(client)
}

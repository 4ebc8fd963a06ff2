//! Admin API authentication: a Tessera access token (RFC 6750 bearer) whose audience is the admin
//! API and whose scopes cover the operation.

use crate::bootstrap::ADMIN_AUDIENCE;
use crate::own_tokens;
use crate::state::SharedState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tessera_proto::ScopeSet;

/// The authenticated caller of the admin API.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The client the token was issued to: the actor in the audit log.
    pub client_id: String,
    /// The token's scopes.
    pub scopes: ScopeSet,
    /// The caller's address.
    pub remote_addr: Option<String>,
}

/// A refusal in RFC 6750 §3 form.
#[derive(Debug)]
pub struct BearerError {
    status: StatusCode,
    code: Option<&'static str>,
    description: String,
    scope: Option<String>,
}

impl BearerError {
    fn missing() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: None,
            description: "the admin API needs an access token: Authorization: Bearer <token>"
                .into(),
            scope: None,
        }
    }
    fn invalid_token(d: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: Some("invalid_token"),
            description: d.into(),
            scope: None,
        }
    }
    fn invalid_request(d: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: Some("invalid_request"),
            description: d.into(),
            scope: None,
        }
    }
    fn insufficient_scope(scope: &str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: Some("insufficient_scope"),
            description: format!("this operation needs the scope {scope}"),
            scope: Some(scope.to_owned()),
        }
    }
    fn unavailable() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: Some("temporarily_unavailable"),
            description: "the server cannot reach its database; try again shortly".into(),
            scope: None,
        }
    }
}

impl BearerError {
    /// The HTTP status: 401, 403, 400 or 503.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The sentence explaining the refusal.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let mut challenge = String::from("Bearer realm=\"tessera-admin\"");
        if let Some(c) = self.code
            && self.status != StatusCode::SERVICE_UNAVAILABLE
        {
            challenge.push_str(&format!(
                ", error=\"{c}\", error_description=\"{}\"",
                self.description.replace(['"', '\\'], "'")
            ));
        }
        if let Some(s) = &self.scope {
            challenge.push_str(&format!(", scope=\"{s}\""));
        }
        let body = super::error::ErrorBody {
            error: self.code.unwrap_or("invalid_request"),
            error_description: self.description,
        };
        let mut r = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        } else if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }
}

impl Admin {
    /// Refuses with 403 `insufficient_scope` unless the token carries `scope`.
    pub fn require(&self, scope: &str) -> Result<(), BearerError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(BearerError::insufficient_scope(scope))
        }
    }
}

impl FromRequestParts<SharedState> for Admin {
    type Rejection = BearerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Err(BearerError::missing());
        };
        if values.next().is_some() {
            return Err(BearerError::invalid_request(
                "more than one Authorization header",
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| BearerError::invalid_request("the Authorization header is not ASCII"))?;
        let Some((scheme, token)) = value.split_once(' ') else {
            return Err(BearerError::invalid_request(
                "malformed Authorization header",
            ));
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(BearerError::missing());
        }
        let token = token.trim();
        let active = match own_tokens::lookup(state, token).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                return Err(BearerError::invalid_token(
                    "the access token is invalid, expired or revoked",
                ));
            }
            Err(crate::store::StoreError::Unavailable(_)) => return Err(BearerError::unavailable()),
            Err(e) => {
                tracing::error!(error = %e, "admin token lookup failed");
                return Err(BearerError::unavailable());
            }
        };
        let aud_ok = match active.claims.get("aud") {
            Some(Value::String(a)) => a == ADMIN_AUDIENCE,
            Some(Value::Array(v)) => v.iter().any(|a| a.as_str() == Some(ADMIN_AUDIENCE)),
            _ => false,
        };
        if !aud_ok {
            return Err(BearerError::invalid_token(format!(
                "the access token's audience is not the admin API ({ADMIN_AUDIENCE})"
            )));
        }
        match state.registry.client(&active.client_id) {
            Some(c) if c.client.enabled => {}
            _ => {
                return Err(BearerError::invalid_token(
                    "the token's client is disabled or deleted",
                ));
            }
        }
        let scopes = active
            .claims
            .get("scope")
            .and_then(Value::as_str)
            .and_then(|s| ScopeSet::parse(s).ok())
            .unwrap_or_default();
        let remote_addr = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(Self {
            client_id: active.client_id,
            scopes,
            remote_addr,
        })
    }
}

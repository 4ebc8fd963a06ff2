//! Discovery (RFC 8414, OpenID Connect Discovery 1.0) and the JWKS (RFC 7517 §5).

use super::token::SUPPORTED_GRANTS;
use crate::keyring::SIGNING_ALGORITHMS;
use crate::state::SharedState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tessera_jose::Algorithm;
use tessera_proto::discovery::ServerMetadata;

/// The metadata document served at both well-known paths.
pub fn metadata(state: &SharedState) -> ServerMetadata {
    let iss = &state.issuer;
    let auth_algs: Vec<String> = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ]
    .iter()
    .map(|a| a.as_str().to_owned())
    .collect();
    let signing: Vec<Value> = SIGNING_ALGORITHMS
        .iter()
        .map(|a| Value::from(a.as_str()))
        .collect();
    let mut extra = Map::new();
    extra.insert("subject_types_supported".into(), json!(["public"]));
    // ID tokens are always RS256 (OpenID Connect Core §15.1: every client accepts it).
    extra.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(["RS256"]),
    );
    extra.insert(
        "introspection_endpoint_auth_methods_supported".into(),
        json!([
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt"
        ]),
    );
    extra.insert(
        "revocation_endpoint_auth_methods_supported".into(),
        json!([
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt"
        ]),
    );
    extra.insert(
        "introspection_endpoint_auth_signing_alg_values_supported".into(),
        Value::from(auth_algs.clone()),
    );
    extra.insert(
        "revocation_endpoint_auth_signing_alg_values_supported".into(),
        Value::from(auth_algs.clone()),
    );
    extra.insert(
        "access_token_signing_alg_values_supported".into(),
        Value::Array(signing),
    );
    extra.insert("response_modes_supported".into(), json!(["query"]));
    extra.insert("code_challenge_methods_supported".into(), json!(["S256"]));
    extra.insert(
        "authorization_response_iss_parameter_supported".into(),
        json!(true),
    );
    extra.insert(
        "prompt_values_supported".into(),
        json!(["none", "login", "consent"]),
    );
    extra.insert(
        "claims_supported".into(),
        json!([
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "azp",
            "name",
            "preferred_username",
            "updated_at",
            "email",
            "email_verified"
        ]),
    );
    extra.insert("claims_parameter_supported".into(), json!(false));
    extra.insert("request_parameter_supported".into(), json!(false));
    extra.insert("request_uri_parameter_supported".into(), json!(false));
    extra.insert(
        "userinfo_signing_alg_values_supported".into(),
        json!(["none"]),
    );
    extra.insert(
        "service_documentation".into(),
        Value::from(format!("{iss}/admin/api/v1/openapi.json")),
    );
    ServerMetadata {
        issuer: iss.clone(),
        authorization_endpoint: Some(format!("{iss}/oauth2/authorize")),
        token_endpoint: Some(state.token_endpoint.clone()),
        jwks_uri: Some(format!("{iss}/oauth2/jwks")),
        userinfo_endpoint: Some(format!("{iss}/oauth2/userinfo")),
        introspection_endpoint: Some(format!("{iss}/oauth2/introspect")),
        revocation_endpoint: Some(format!("{iss}/oauth2/revoke")),
        device_authorization_endpoint: Some(format!("{iss}/oauth2/device_authorization")),
        scopes_supported: scopes_supported(state),
        response_types_supported: vec!["code".into()],
        grant_types_supported: SUPPORTED_GRANTS
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect(),
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic".into(),
            "client_secret_post".into(),
            "client_secret_jwt".into(),
            "private_key_jwt".into(),
            "none".into(),
        ],
        token_endpoint_auth_signing_alg_values_supported: auth_algs,
        extra,
    }
}

/// The registered scopes and the OpenID Connect scopes this server understands.
fn scopes_supported(state: &SharedState) -> Vec<String> {
    let mut v = state.registry.scope_names();
    for s in ["openid", "profile", "email", "offline_access"] {
        if !v.iter().any(|x| x == s) {
            v.push(s.to_owned());
        }
    }
    v.sort();
    v
}

/// `GET /.well-known/openid-configuration` and `GET /.well-known/oauth-authorization-server`.
pub async fn well_known(State(state): State<SharedState>) -> Response {
    let mut r = axum::Json(metadata(&state)).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

/// `GET /oauth2/jwks`: the public part of every published key, with `kid`, `use` and `alg`.
pub async fn jwks(State(state): State<SharedState>) -> Response {
    let body = state.keyring.current().jwks_json.clone();
    let max_age = state.config.keys.jwks_max_age_secs;
    let mut r = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json"),
        )],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        r.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

//! `GET /admin/api/v1/openapi.json`: an OpenAPI 3.1 description of the admin API, written by
//! hand from [`OPERATIONS`], the same table the tests check against the router.

use crate::state::SharedState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// One operation of the admin API.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path under `/admin/api/v1`, with `{param}` placeholders.
    pub path: &'static str,
    /// The admin scope the operation needs.
    pub scope: &'static str,
    /// `operationId`.
    pub id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The request body's schema, when there is one.
    pub request: Option<&'static str>,
    /// Whether the body may be left out.
    pub request_optional: bool,
    /// The success status.
    pub status: u16,
    /// The success body's schema (none for 204).
    pub response: Option<&'static str>,
    /// Error statuses beside 401 and 403.
    pub errors: &'static [u16],
}

#[allow(clippy::too_many_arguments)]
const fn op(
    method: &'static str,
    path: &'static str,
    scope: &'static str,
    id: &'static str,
    summary: &'static str,
    status: u16,
    response: Option<&'static str>,
    errors: &'static [u16],
) -> Operation {
    Operation {
        method,
        path,
        scope,
        id,
        summary,
        request: None,
        request_optional: false,
        status,
        response,
        errors,
    }
}

const fn with_body(mut o: Operation, schema: &'static str, optional: bool) -> Operation {
    o.request = Some(schema);
    o.request_optional = optional;
    o
}

/// Every operation of the admin API.
pub const OPERATIONS: [Operation; 28] = [
    op(
        "get",
        "/clients",
        "tessera.clients.read",
        "listClients",
        "List clients",
        200,
        Some("ClientList"),
        &[],
    ),
    with_body(
        op(
            "post",
            "/clients",
            "tessera.clients.write",
            "createClient",
            "Register a client; the response carries its secret, shown this once",
            201,
            Some("ClientWithSecret"),
            &[400, 409],
        ),
        "NewClient",
        false,
    ),
    op(
        "get",
        "/clients/{client_id}",
        "tessera.clients.read",
        "getClient",
        "Show a client and the validity of its secrets",
        200,
        Some("ClientDetail"),
        &[404],
    ),
    with_body(
        op(
            "patch",
            "/clients/{client_id}",
            "tessera.clients.write",
            "updateClient",
            "Change a client's settings (lists replace; null returns to the default)",
            200,
            Some("ClientWithSecret"),
            &[400, 404, 409],
        ),
        "ClientPatch",
        false,
    ),
    op(
        "delete",
        "/clients/{client_id}",
        "tessera.clients.write",
        "deleteClient",
        "Delete a client, its secrets and its opaque tokens",
        204,
        None,
        &[404, 409],
    ),
    op(
        "post",
        "/clients/{client_id}/enable",
        "tessera.clients.write",
        "enableClient",
        "Let a client authenticate again",
        200,
        Some("Client"),
        &[404],
    ),
    op(
        "post",
        "/clients/{client_id}/disable",
        "tessera.clients.write",
        "disableClient",
        "Refuse a client from now on (invalid_client)",
        200,
        Some("Client"),
        &[404, 409],
    ),
    with_body(
        op(
            "post",
            "/clients/{client_id}/secret",
            "tessera.clients.write",
            "rotateClientSecret",
            "Issue a new secret, shown once; the old ones work for grace_secs more",
            200,
            Some("RotatedSecret"),
            &[400, 404, 409],
        ),
        "RotateSecret",
        true,
    ),
    op(
        "get",
        "/scopes",
        "tessera.scopes.read",
        "listScopes",
        "List scopes",
        200,
        Some("ScopeList"),
        &[],
    ),
    with_body(
        op(
            "post",
            "/scopes",
            "tessera.scopes.write",
            "createScope",
            "Register a scope (service.object.right)",
            201,
            Some("Scope"),
            &[400, 409],
        ),
        "NewScope",
        false,
    ),
    op(
        "get",
        "/scopes/{name}",
        "tessera.scopes.read",
        "getScope",
        "Show a scope, its permissions and the clients that may use it",
        200,
        Some("ScopeDetail"),
        &[404],
    ),
    with_body(
        op(
            "patch",
            "/scopes/{name}",
            "tessera.scopes.write",
            "updateScope",
            "Change a scope's description or permissions",
            200,
            Some("Scope"),
            &[400, 404],
        ),
        "ScopePatch",
        false,
    ),
    op(
        "delete",
        "/scopes/{name}",
        "tessera.scopes.write",
        "deleteScope",
        "Delete a scope no client may use",
        204,
        None,
        &[404, 409],
    ),
    op(
        "get",
        "/audit",
        "tessera.audit.read",
        "listAuditEvents",
        "Read the audit log, newest first",
        200,
        Some("AuditPage"),
        &[400],
    ),
    op(
        "get",
        "/keys",
        "tessera.keys.read",
        "listKeys",
        "List the signing keys",
        200,
        Some("KeyList"),
        &[],
    ),
    with_body(
        op(
            "post",
            "/keys/rotate",
            "tessera.keys.write",
            "rotateKeys",
            "Publish new signing keys that sign after keys.publish_ahead_secs",
            200,
            Some("KeyRotation"),
            &[400],
        ),
        "RotateKeys",
        true,
    ),
    op(
        "post",
        "/keys/{kid}/retire",
        "tessera.keys.write",
        "retireKey",
        "Stop a key signing; it stays published until its tokens expire",
        200,
        Some("KeyList"),
        &[404, 409],
    ),
    op(
        "get",
        "/users",
        "tessera.users.read",
        "listUsers",
        "List the local users",
        200,
        Some("UserList"),
        &[],
    ),
    with_body(
        op(
            "post",
            "/users",
            "tessera.users.write",
            "createUser",
            "Create a local user (the password is hashed with argon2id and never shown)",
            201,
            Some("User"),
            &[400, 409],
        ),
        "NewUser",
        false,
    ),
    op(
        "get",
        "/users/{user}",
        "tessera.users.read",
        "getUser",
        "Show a user",
        200,
        Some("User"),
        &[404],
    ),
    with_body(
        op(
            "patch",
            "/users/{user}",
            "tessera.users.write",
            "updateUser",
            "Change a user's email, display name or enabled flag",
            200,
            Some("User"),
            &[400, 404],
        ),
        "UserPatch",
        false,
    ),
    op(
        "delete",
        "/users/{user}",
        "tessera.users.write",
        "deleteUser",
        "Delete a user with their sessions, consents and refresh tokens",
        204,
        None,
        &[404],
    ),
    op(
        "post",
        "/users/{user}/enable",
        "tessera.users.write",
        "enableUser",
        "Let a user sign in again",
        200,
        Some("User"),
        &[404],
    ),
    op(
        "post",
        "/users/{user}/disable",
        "tessera.users.write",
        "disableUser",
        "Stop a user signing in; ends their sessions and revokes their refresh tokens",
        200,
        Some("User"),
        &[404],
    ),
    with_body(
        op(
            "post",
            "/users/{user}/password",
            "tessera.users.write",
            "setUserPassword",
            "Set (or with null remove) a user's password; ends sessions, revokes refresh tokens",
            204,
            None,
            &[400, 404],
        ),
        "SetPassword",
        false,
    ),
    op(
        "get",
        "/users/{user}/consents",
        "tessera.users.read",
        "listUserConsents",
        "The clients a user has consented to, with the scopes",
        200,
        Some("ConsentList"),
        &[404],
    ),
    op(
        "delete",
        "/users/{user}/consents",
        "tessera.users.write",
        "revokeUserConsents",
        "Withdraw every consent of a user (their refresh tokens for those clients end)",
        200,
        Some("ConsentsRevoked"),
        &[404],
    ),
    op(
        "delete",
        "/users/{user}/consents/{client_id}",
        "tessera.users.write",
        "revokeUserConsent",
        "Withdraw a user's consent to one client",
        200,
        Some("ConsentsRevoked"),
        &[404],
    ),
];

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn error_response(status: u16) -> Value {
    let text = match status {
        400 => {
            "invalid_request: the input is malformed or not acceptable; error_description says why"
        }
        401 => {
            "no token, or an invalid, expired or non-admin token (RFC 6750 §3.1); see WWW-Authenticate"
        }
        403 => "insufficient_scope: the token lacks the operation's scope (RFC 6750 §3.1)",
        404 => "not_found",
        409 => "conflict: the request clashes with the current state; error_description says how",
        413 => "invalid_request: the body is over http.max_body_bytes",
        503 => "temporarily_unavailable: the database cannot be reached; retry",
        _ => "error",
    };
    json!({
        "description": text,
        "content": { "application/json": { "schema": schema_ref("Error") } }
    })
}

fn parameters(o: &Operation) -> Vec<Value> {
    let mut out = Vec::new();
    for part in o.path.split('/') {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let description = match name {
                "client_id" => {
                    "The client id, percent-encoded as one path segment (it may hold any printable character)"
                }
                "name" => "The scope name",
                "user" => "The user's username or id",
                _ => "The key id",
            };
            out.push(json!({
                "name": name, "in": "path", "required": true,
                "description": description, "schema": { "type": "string" }
            }));
        }
    }
    if o.id == "listAuditEvents" {
        for (name, ty, description) in [
            (
                "target",
                "string",
                "Only events about this object (client id, scope name, kid)",
            ),
            (
                "action",
                "string",
                "Only events whose action starts with this (client., scope.delete, …)",
            ),
            (
                "before_id",
                "integer",
                "Only events older than this id (paging: pass next_before_id)",
            ),
            (
                "limit",
                "integer",
                "At most this many, 1 to 1000 (default 100)",
            ),
        ] {
            out.push(json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": ty } }));
        }
    }
    out
}

fn operation(o: &Operation) -> Value {
    let mut responses = Map::new();
    let ok = match o.response {
        Some(s) => {
            json!({ "description": "success", "content": { "application/json": { "schema": schema_ref(s) } } })
        }
        None => json!({ "description": "done; no body" }),
    };
    responses.insert(o.status.to_string(), ok);
    for s in o.errors.iter().copied().chain([401, 403, 503]) {
        responses.insert(s.to_string(), error_response(s));
    }
    if o.request.is_some() {
        responses.insert("413".into(), error_response(413));
    }
    let mut v = json!({
        "operationId": o.id,
        "summary": o.summary,
        "description": format!("Needs an admin token with the scope `{}`.", o.scope),
        "tags": [o.path.split('/').nth(1).unwrap_or("admin")],
        "security": [ { "bearer": [o.scope] }, { "oauth2": [o.scope] } ],
        "x-required-scopes": [o.scope],
        "parameters": parameters(o),
        "responses": responses,
    });
    if let (Some(schema), Some(obj)) = (o.request, v.as_object_mut()) {
        obj.insert(
            "requestBody".into(),
            json!({
                "required": !o.request_optional,
                "content": { "application/json": { "schema": schema_ref(schema) } }
            }),
        );
    }
    v
}

fn nullable(ty: &str) -> Value {
    json!({ "type": [ty, "null"] })
}

fn schemas() -> Value {
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let grant = json!({ "type": "string", "enum": [
        "client_credentials", "authorization_code", "refresh_token", "password",
        "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"
    ]});
    let method = json!({ "type": "string", "enum": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"] });
    let assertion_alg = json!({ "type": "string", "enum": ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"] });
    let token_alg = json!({ "type": "string", "enum": ["ES256", "RS256", "EdDSA"] });
    let format = json!({ "type": "string", "enum": ["jwt", "opaque"] });
    let jwks = json!({
        "type": "object", "required": ["keys"],
        "description": "A JWK Set (RFC 7517 §5) of public keys only",
        "properties": { "keys": { "type": "array", "items": { "type": "object", "required": ["kty"] } } }
    });
    let client_props = json!({
        "client_id": { "type": "string", "minLength": 1, "maxLength": 255, "description": "Any printable characters; generated (tsc_…) when left out on creation" },
        "name": { "type": "string", "minLength": 1, "maxLength": 200 },
        "description": { "type": "string", "maxLength": 2000 },
        "enabled": { "type": "boolean", "default": true },
        "grant_types": { "type": "array", "items": grant, "minItems": 1, "default": ["client_credentials"] },
        "redirect_uris": { "type": "array", "items": { "type": "string", "format": "uri" }, "description": "Absolute, without fragment" },
        "allowed_scopes": { "type": "array", "items": { "type": "string" }, "description": "Registered scope names" },
        "default_scopes": { "type": "array", "items": { "type": "string" }, "description": "A subset of allowed_scopes, granted when a request names none" },
        "token_endpoint_auth_method": method,
        "token_endpoint_auth_signing_alg": assertion_alg,
        "jwks": jwks,
        "jwks_uri": { "type": "string", "format": "uri", "description": "https (http only on loopback)" },
        "access_token_format": format,
        "access_token_lifetime": { "type": "integer", "minimum": 1, "description": "Seconds, at most tokens.max_lifetime_secs" },
        "access_token_signing_alg": token_alg,
        "audiences": { "type": "array", "items": { "type": "string", "minLength": 1 }, "description": "The first is the default aud" },
        "extra_claims": { "type": "object", "description": "Static claims added to every token; registered claim names are refused" },
    });
    let mut client = client_props.clone();
    if let Some(o) = client.as_object_mut() {
        o.insert("created_at".into(), json!({ "type": "integer" }));
        o.insert("updated_at".into(), json!({ "type": "integer" }));
    }
    let mut with_secret = client.clone();
    if let Some(o) = with_secret.as_object_mut() {
        o.insert("client_secret".into(), json!({ "type": "string", "description": "Present only when a secret was just issued: shown once, never readable again" }));
    }
    let mut detail = client.clone();
    if let Some(o) = detail.as_object_mut() {
        o.insert(
            "secrets".into(),
            json!({ "type": "array", "items": { "type": "object", "properties": {
            "created_at": { "type": "integer" }, "expires_at": nullable("integer") } } }),
        );
    }
    let mut patch = client_props.clone();
    if let Some(o) = patch.as_object_mut() {
        o.remove("client_id");
        for k in [
            "token_endpoint_auth_signing_alg",
            "jwks",
            "jwks_uri",
            "access_token_format",
            "access_token_lifetime",
            "access_token_signing_alg",
        ] {
            if let Some(s) = o.get(k).cloned() {
                o.insert(k.into(), json!({ "oneOf": [s, { "type": "null" }], "description": "null returns to the default" }));
            }
        }
    }
    let scope = json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "description": "service.object.right, or an OpenID Connect scope" },
            "description": { "type": "string" },
            "permissions": strings,
            "created_at": { "type": "integer" },
            "updated_at": { "type": "integer" }
        }
    });
    let key = json!({
        "type": "object",
        "properties": {
            "kid": { "type": "string" }, "alg": { "type": "string" },
            "state": { "type": "string", "enum": ["next", "active", "retired"] },
            "created_at": { "type": "integer" }, "activates_at": { "type": "integer" },
            "retired_at": { "type": "integer" }, "remove_at": { "type": "integer" }
        }
    });
    let user = json!({
        "id": { "type": "string" }, "username": { "type": "string" },
        "email": { "type": "string" }, "email_verified": { "type": "boolean" },
        "display_name": { "type": "string" }, "enabled": { "type": "boolean" },
        "created_at": { "type": "integer" }, "updated_at": { "type": "integer" },
        "password_changed_at": { "type": ["integer", "null"] }
    });
    json!({
        "User": { "type": "object", "properties": user },
        "UserList": { "type": "object", "properties": { "users": { "type": "array", "items": schema_ref("User") } } },
        "NewUser": { "type": "object", "required": ["username"], "additionalProperties": false, "properties": {
            "username": { "type": "string" }, "password": { "type": "string", "writeOnly": true },
            "email": { "type": "string" }, "email_verified": { "type": "boolean" },
            "display_name": { "type": "string" }, "enabled": { "type": "boolean" } } },
        "UserPatch": { "type": "object", "additionalProperties": false, "properties": {
            "email": { "type": "string" }, "email_verified": { "type": "boolean" },
            "display_name": { "type": "string" }, "enabled": { "type": "boolean" } } },
        "SetPassword": { "type": "object", "required": ["password"], "additionalProperties": false, "properties": {
            "password": { "type": ["string", "null"], "writeOnly": true } } },
        "Consent": { "type": "object", "properties": {
            "user_id": { "type": "string" }, "client_id": { "type": "string" },
            "scope": { "type": "string" }, "granted_at": { "type": "integer" } } },
        "ConsentList": { "type": "object", "properties": { "consents": { "type": "array", "items": schema_ref("Consent") } } },
        "ConsentsRevoked": { "type": "object", "properties": { "revoked": { "type": "integer" } } },
        "Error": {
            "type": "object", "required": ["error"],
            "properties": { "error": { "type": "string" }, "error_description": { "type": "string" } }
        },
        "Client": { "type": "object", "properties": client },
        "ClientWithSecret": { "type": "object", "properties": with_secret },
        "ClientDetail": { "type": "object", "properties": detail },
        "ClientList": { "type": "object", "properties": { "clients": { "type": "array", "items": schema_ref("Client") } } },
        "NewClient": { "type": "object", "required": ["name"], "additionalProperties": false, "properties": client_props },
        "ClientPatch": { "type": "object", "additionalProperties": false, "properties": patch },
        "RotateSecret": { "type": "object", "additionalProperties": false, "properties": {
            "grace_secs": { "type": "integer", "minimum": 0, "maximum": 2_592_000, "default": 0, "description": "Seconds the previous secrets keep working" } } },
        "RotatedSecret": { "type": "object", "properties": {
            "client_id": { "type": "string" },
            "client_secret": { "type": "string", "description": "Shown once, never readable again" },
            "previous_secrets_expire_at": { "type": "integer" } } },
        "Scope": scope,
        "ScopeList": { "type": "object", "properties": { "scopes": { "type": "array", "items": schema_ref("Scope") } } },
        "ScopeDetail": { "allOf": [schema_ref("Scope"), { "type": "object", "properties": { "clients": { "type": "array", "items": {
            "type": "object", "properties": {
                "client_id": { "type": "string" }, "name": { "type": "string" },
                "enabled": { "type": "boolean" }, "default": { "type": "boolean", "description": "Whether the scope is among the client's default scopes" } } } } } }] },
        "NewScope": { "type": "object", "required": ["name"], "additionalProperties": false, "properties": {
            "name": { "type": "string" }, "description": { "type": "string", "maxLength": 1000 }, "permissions": strings } },
        "ScopePatch": { "type": "object", "additionalProperties": false, "properties": {
            "description": { "type": "string" }, "permissions": strings } },
        "AuditEvent": { "type": "object", "properties": {
            "id": { "type": "integer" }, "at": { "type": "integer" }, "actor": { "type": "string" },
            "action": { "type": "string" }, "target": { "type": "string" },
            "before": { "description": "The state before, without secrets" },
            "after": { "description": "The state after, without secrets" },
            "remote_addr": { "type": "string" } } },
        "AuditPage": { "type": "object", "properties": {
            "events": { "type": "array", "items": schema_ref("AuditEvent") },
            "next_before_id": nullable("integer") } },
        "Key": key,
        "KeyList": { "type": "object", "properties": { "keys": { "type": "array", "items": schema_ref("Key") } } },
        "RotateKeys": { "type": "object", "additionalProperties": false, "properties": {
            "algs": { "type": "array", "items": token_alg, "description": "Default: every algorithm" } } },
        "KeyRotation": { "allOf": [schema_ref("KeyList"), { "type": "object", "properties": {
            "new_kids": strings, "activates_at": { "type": "integer" } } }] },
    })
}

/// The document for a server with this issuer and token endpoint.
pub fn document(issuer: &str, token_endpoint: &str) -> Value {
    let mut paths = Map::new();
    for o in &OPERATIONS {
        let entry = paths.entry(o.path).or_insert_with(|| json!({}));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert(o.method.into(), operation(o));
        }
    }
    let scopes: Map<String, Value> = crate::bootstrap::ADMIN_SCOPES
        .iter()
        .filter(|(n, _, _)| *n != "tessera.tokens.introspect")
        .map(|(n, d, _)| ((*n).to_owned(), Value::from(*d)))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tessera admin API",
            "version": "1",
            "description": "Clients, scopes, signing keys and the audit log of a Tessera authorization server. \
                Every operation needs a Tessera access token whose audience is urn:tessera:admin and whose scopes \
                cover the operation (get one with the client credentials grant, RFC 6749 §4.4). \
                Errors are JSON {\"error\", \"error_description\"}."
        },
        "servers": [ { "url": format!("{issuer}/admin/api/v1") } ],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A Tessera access token (RFC 6750) with audience urn:tessera:admin and the operation's tessera.* scope"
                },
                "oauth2": {
                    "type": "oauth2",
                    "description": "Client credentials at Tessera's own token endpoint",
                    "flows": { "clientCredentials": { "tokenUrl": token_endpoint, "scopes": scopes } }
                }
            }
        },
        "security": [ { "bearer": [] } ],
    })
}

/// `GET /openapi.json`, served without authentication.
pub async fn serve(State(state): State<SharedState>) -> Response {
    let mut r = Json(document(&state.issuer, &state.token_endpoint)).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

//! The admin API: authentication and scopes, the OpenAPI document, and (in the files below) every
//! resource over real HTTP.

#[path = "admin_audit_keys.rs"]
mod audit_keys;
#[path = "admin_auth_methods.rs"]
mod auth_methods;
#[path = "admin_clients.rs"]
mod clients;
#[path = "admin_openapi.rs"]
mod openapi;
#[path = "admin_scopes.rs"]
mod scopes;
#[path = "admin_secrets.rs"]
mod secrets;
#[path = "admin_setup_file.rs"]
mod setup_file;

use crate::helpers::{ClientSpec, TestApp, spawn_app};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};
use std::path::PathBuf;
use tessera_server::bootstrap::ADMIN_AUDIENCE;
use tessera_server::config::{Config, HttpConfig};

/// The admin API as one token sees it.
pub struct AdminApi<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

/// An answer: status, headers and JSON body (`null` when empty).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Asserts an error answer with `status`, `error` and a description containing `needle`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, needle: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.body["error"], code, "{}", self.body);
        let d = self.body["error_description"].as_str().unwrap_or("");
        assert!(
            d.to_lowercase().contains(&needle.to_lowercase()),
            "error_description {d:?} should mention {needle:?}"
        );
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "{}: {}", self.status, self.body);
        &self.body
    }
}

/// The URL of an admin resource, each segment percent-encoded.
pub fn admin_url(app: &TestApp, segments: &[&str]) -> Url {
    let mut url = Url::parse(&app.url("/admin/api/v1")).unwrap();
    url.path_segments_mut().unwrap().extend(segments);
    url
}

impl<'a> AdminApi<'a> {
    /// With the bootstrap admin's token (every admin scope).
    pub async fn new(app: &'a TestApp) -> Self {
        Self {
            token: app.admin_token().await,
            app,
        }
    }

    pub async fn call(&self, method: Method, segments: &[&str], body: Option<Value>) -> Answer {
        let mut req = self
            .app
            .http
            .request(method, admin_url(self.app, segments))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, segments: &[&str]) -> Answer {
        self.call(Method::GET, segments, None).await
    }
    pub async fn post(&self, segments: &[&str], body: Value) -> Answer {
        self.call(Method::POST, segments, Some(body)).await
    }
    pub async fn patch(&self, segments: &[&str], body: Value) -> Answer {
        self.call(Method::PATCH, segments, Some(body)).await
    }
    pub async fn delete(&self, segments: &[&str]) -> Answer {
        self.call(Method::DELETE, segments, None).await
    }

    /// Registers a scope through the API.
    pub async fn scope(&self, name: &str) {
        let a = self
            .post(&["scopes"], json!({"name": name, "description": format!("{name} for tests"), "permissions": [format!("GET /{name}")]}))
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
    }

    /// Registers a client through the API; returns (client_id, client_secret).
    pub async fn client(&self, body: Value) -> (String, String) {
        let a = self.post(&["clients"], body).await;
        assert_eq!(a.status, 201, "{}", a.body);
        (
            a.body["client_id"].as_str().unwrap().to_owned(),
            a.body["client_secret"].as_str().unwrap_or("").to_owned(),
        )
    }

    /// The admin changes to `target`, newest first.
    pub async fn audit_of(&self, target: &str) -> Vec<Value> {
        let mut url = admin_url(self.app, &["audit"]);
        url.query_pairs_mut().append_pair("target", target);
        let r = self
            .app
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        // Failed client authentications are audited too; these tests look at admin changes.
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] != "client.auth_failed")
            .cloned()
            .collect()
    }
}

/// The configuration of a server on an existing data directory (for restarts).
pub fn config_for(data_dir: PathBuf, setup_file: Option<PathBuf>) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir,
        setup_file,
        http: HttpConfig {
            shutdown_grace_secs: 5,
            ..HttpConfig::default()
        },
        ..Config::default()
    }
}

/// The configuration `app` runs on (same data directory and database), for starting it again
/// after a stop, with `setup_file` in place of its own.
pub fn restart_config(app: &TestApp, setup_file: Option<PathBuf>) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        setup_file,
        ..app.state.config.clone()
    }
}

/// A token for the admin audience carrying only `scopes`.
pub async fn token_with_scopes(app: &TestApp, id: &str, scopes: &[&str]) -> String {
    let secret = app
        .register_client(
            ClientSpec::new(id)
                .scopes(scopes, scopes)
                .audiences(&[ADMIN_AUDIENCE]),
        )
        .await;
    app.cc_token(id, &secret, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A concrete path for an OpenAPI path template.
pub fn concrete(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|p| {
            if p.starts_with('{') {
                "x.y.z".to_owned()
            } else {
                p.to_owned()
            }
        })
        .collect()
}

#[tokio::test]
async fn every_route_needs_a_token_and_its_scope() {
    let app = spawn_app().await;
    // A token with no admin scope at all, and a token for another audience.
    let none = token_with_scopes(&app, "no-admin-scope", &["core.things.read"]).await;
    let other_secret = app
        .register_client(
            ClientSpec::new("api-client")
                .scopes(&["tessera.clients.read"], &["tessera.clients.read"])
                .audiences(&["https://api.example.com/"]),
        )
        .await;
    let other_aud = app.cc_token("api-client", &other_secret, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let ops = openapi::operations(&openapi::generated());
    assert!(!ops.is_empty());
    for op in ops {
        let method = Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
        let segs = concrete(&op.path);
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let url = admin_url(&app, &segs);
        // No token: 401 with a Bearer challenge.
        let r = app
            .http
            .request(method.clone(), url.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{} {}", op.method, op.path);
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        // A token for another audience: 401 invalid_token.
        let r = app
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(&other_aud)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{} {}", op.method, op.path);
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        // An admin-audience token without the scope: 403 insufficient_scope naming the scope,
        // before the body is even read.
        let r = app
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(&none)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{} {}", op.method, op.path);
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(
            challenge.contains(&format!("scope=\"{}\"", op.scope)),
            "{challenge}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "insufficient_scope");
    }
    // A garbage token.
    let r = app
        .http
        .get(app.url("/admin/api/v1/clients"))
        .bearer_auth("nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn read_scope_reads_but_does_not_write() {
    let app = spawn_app().await;
    let token = token_with_scopes(&app, "reader", &["tessera.clients.read"]).await;
    let api = AdminApi { app: &app, token };
    assert_eq!(api.get(&["clients"]).await.status, 200);
    let a = api.post(&["clients"], json!({"name": "x"})).await;
    assert_eq!(a.status, 403);
    assert!(
        a.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"insufficient_scope\"")
    );
    assert!(
        a.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("scope=\"tessera.clients.write\"")
    );
    // Nothing was created.
    let all = AdminApi::new(&app).await.get(&["clients"]).await;
    assert_eq!(all.body["clients"].as_array().unwrap().len(), 2);
    assert_eq!(api.get(&["scopes"]).await.status, 403);
}

#[tokio::test]
async fn a_disabled_admin_client_loses_access_at_once() {
    let app = spawn_app().await;
    let token = token_with_scopes(&app, "second-admin", &["tessera.clients.read"]).await;
    let api = AdminApi::new(&app).await;
    let reader = AdminApi { app: &app, token };
    assert_eq!(reader.get(&["clients"]).await.status, 200);
    api.post(&["clients", "second-admin", "disable"], json!({}))
        .await
        .ok();
    let a = reader.get(&["clients"]).await;
    assert_eq!(a.status, 401);
    assert!(
        a.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(app.url("/admin/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["servers"][0]["url"],
        format!("{}/admin/api/v1", app.base)
    );
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(
        doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"],
        app.token_url()
    );
    // Every route the server has, with its scope.
    let expected = [
        ("get", "/clients", "tessera.clients.read"),
        ("post", "/clients", "tessera.clients.write"),
        ("get", "/clients/{client_id}", "tessera.clients.read"),
        ("patch", "/clients/{client_id}", "tessera.clients.write"),
        ("delete", "/clients/{client_id}", "tessera.clients.write"),
        (
            "post",
            "/clients/{client_id}/enable",
            "tessera.clients.write",
        ),
        (
            "post",
            "/clients/{client_id}/disable",
            "tessera.clients.write",
        ),
        (
            "post",
            "/clients/{client_id}/secret",
            "tessera.clients.write",
        ),
        ("get", "/scopes", "tessera.scopes.read"),
        ("post", "/scopes", "tessera.scopes.write"),
        ("get", "/scopes/{name}", "tessera.scopes.read"),
        ("patch", "/scopes/{name}", "tessera.scopes.write"),
        ("delete", "/scopes/{name}", "tessera.scopes.write"),
        ("get", "/audit", "tessera.audit.read"),
        ("get", "/keys", "tessera.keys.read"),
        ("post", "/keys/rotate", "tessera.keys.write"),
        ("post", "/keys/{kid}/retire", "tessera.keys.write"),
        ("get", "/users", "tessera.users.read"),
        ("post", "/users", "tessera.users.write"),
        ("get", "/users/{user}", "tessera.users.read"),
        ("patch", "/users/{user}", "tessera.users.write"),
        ("delete", "/users/{user}", "tessera.users.write"),
        ("post", "/users/{user}/enable", "tessera.users.write"),
        ("post", "/users/{user}/disable", "tessera.users.write"),
        ("post", "/users/{user}/password", "tessera.users.write"),
        ("get", "/users/{user}/consents", "tessera.users.read"),
        ("delete", "/users/{user}/consents", "tessera.users.write"),
        (
            "delete",
            "/users/{user}/consents/{client_id}",
            "tessera.users.write",
        ),
    ];
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        count += item.as_object().unwrap().len();
        for (method, op) in item.as_object().unwrap() {
            assert!(
                expected.iter().any(|(m, p, _)| m == method && p == path),
                "undocumented-by-test operation {method} {path}"
            );
            assert!(op["responses"]["401"].is_object() && op["responses"]["403"].is_object());
            // Every schema reference resolves.
            for r in refs(op) {
                let name = r.trim_start_matches("#/components/schemas/");
                assert!(
                    doc["components"]["schemas"][name].is_object(),
                    "dangling {r}"
                );
            }
        }
    }
    assert_eq!(count, expected.len());
    for (method, path, scope) in expected {
        let op = &doc["paths"][path][method];
        assert_eq!(op["security"][0]["bearer"][0], scope, "{method} {path}");
        assert_eq!(op["x-required-scopes"][0], scope, "{method} {path}");
    }
    // The schema of a new client lists the fields the server accepts.
    let props = doc["components"]["schemas"]["NewClient"]["properties"]
        .as_object()
        .unwrap();
    for f in [
        "client_id",
        "name",
        "grant_types",
        "allowed_scopes",
        "token_endpoint_auth_methods",
        "client_secret",
        "require_pkce",
        "jwks_uri",
        "extra_claims",
    ] {
        assert!(props.contains_key(f), "{f}");
    }
}

fn refs(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o
            .iter()
            .flat_map(|(k, v)| {
                if k == "$ref" {
                    vec![v.as_str().unwrap().to_owned()]
                } else {
                    refs(v)
                }
            })
            .collect(),
        Value::Array(a) => a.iter().flat_map(refs).collect(),
        _ => vec![],
    }
}

#[tokio::test]
async fn malformed_requests_get_json_errors() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let url = admin_url(&app, &["clients"]);
    // Not JSON.
    let r = app
        .http
        .post(url.clone())
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_request");
    // JSON without the content type.
    let r = app
        .http
        .post(url.clone())
        .bearer_auth(&api.token)
        .header("content-type", "text/plain")
        .body("{\"name\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.json::<Value>().await.unwrap()["error_description"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
    // Too large.
    let big = json!({"name": "x".repeat(70_000)}).to_string();
    let r = app
        .http
        .post(url.clone())
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    // An unknown field is refused, not ignored.
    api.post(&["clients"], json!({"name": "x", "secret": "mine"}))
        .await
        .assert_error(400, "invalid_request", "unknown field");
    // A method the route does not take.
    let r = app
        .http
        .put(url)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    // Answers are never cached.
    let a = api.get(&["clients"]).await;
    assert_eq!(a.headers["cache-control"], "no-store");
    // Bad query parameters.
    let mut q = admin_url(&app, &["audit"]);
    q.query_pairs_mut().append_pair("limit", "abc");
    let r = app
        .http
        .get(q)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
}

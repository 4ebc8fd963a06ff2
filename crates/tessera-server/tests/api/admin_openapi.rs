//! The generated OpenAPI document against the routes the server really answers: every admin
//! route is in it, and it holds nothing else.

use super::concrete;
use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One operation of the document.
pub struct Op {
    /// Lower case, as in the document.
    pub method: String,
    /// Path under `/admin/api/v1`, with `{param}` placeholders.
    pub path: String,
    /// The admin scope it needs.
    pub scope: String,
}

/// The document as the server code generates it (before the server's addresses go in).
pub fn generated() -> Value {
    serde_json::to_value(tessera_server::admin::openapi::document()).unwrap()
}

/// Every operation of `doc`, with the scope its `x-required-scopes` names.
pub fn operations(doc: &Value) -> Vec<Op> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let scopes = op["x-required-scopes"].as_array().unwrap();
            assert_eq!(scopes.len(), 1, "{method} {path}");
            out.push(Op {
                method: method.clone(),
                path: path.clone(),
                scope: scopes[0].as_str().unwrap().to_owned(),
            });
        }
    }
    out
}

/// The (method, path) pairs of the operations the router is built from.
fn routed() -> BTreeSet<(String, String)> {
    let (_, doc) = tessera_server::admin::api().split_for_parts();
    let doc = serde_json::to_value(doc).unwrap();
    operations_without_scopes(&doc)
}

fn operations_without_scopes(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn served_document_is_the_generated_one() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(app.url("/admin/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");
    let served: Value = r.json().await.unwrap();
    let expected = serde_json::to_value(tessera_server::admin::openapi::for_server(
        &tessera_server::admin::openapi::document(),
        &app.base,
        &app.token_url(),
    ))
    .unwrap();
    assert_eq!(served, expected);
    // The router and the document come from one list of handlers.
    assert_eq!(operations_without_scopes(&served), routed());
    // Bodies that may be left out say so, with their own schema.
    for (path, name) in [
        ("/keys/rotate", "RotateKeys"),
        ("/clients/{client_id}/secret", "RotateSecret"),
    ] {
        let body = &served["paths"][path]["post"]["requestBody"];
        assert_eq!(body["required"], false, "{path}");
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{name}")
        );
    }
    assert_eq!(
        served["paths"]["/clients"]["post"]["requestBody"]["required"],
        true
    );
    // One error schema, referenced by every error answer.
    assert!(served["components"]["schemas"]["Error"]["properties"]["error"].is_object());
    for op in operations(&served) {
        let responses = served["paths"][&op.path][&op.method]["responses"]
            .as_object()
            .unwrap();
        for status in ["401", "403", "503"] {
            assert!(responses.contains_key(status), "{} {}", op.method, op.path);
        }
        for (status, r) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{} {} {status}",
                    op.method,
                    op.path
                );
            }
        }
    }
}

/// A route the server knows: its path segments (`None` for a parameter) and methods.
struct Route {
    segments: Vec<Option<String>>,
    methods: BTreeSet<String>,
}

impl Route {
    fn matches(&self, path: &[String]) -> bool {
        self.segments.len() == path.len()
            && self
                .segments
                .iter()
                .zip(path)
                .all(|(s, p)| s.as_ref().is_none_or(|s| s == p))
    }

    /// Static segments win over parameters, left to right, as in axum's router.
    fn rank(&self) -> Vec<bool> {
        self.segments.iter().map(Option::is_some).collect()
    }
}

/// Asks the running server, without a token, every method on every documented path and on
/// every path one segment away from one: a documented operation answers 401 (it exists and
/// wants a token), a documented path with another method 405, anything else 404. A route the
/// server has but the document lacks shows up as a 401 or 405 where 404 was expected.
#[tokio::test]
async fn every_admin_route_is_documented_and_nothing_else() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(app.url("/admin/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut by_path: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for op in operations(&doc) {
        by_path.entry(op.path).or_default().insert(op.method);
    }
    // The document itself is the one admin route it does not list.
    by_path
        .entry("/openapi.json".into())
        .or_default()
        .insert("get".into());
    let routes: Vec<Route> = by_path
        .iter()
        .map(|(path, methods)| Route {
            segments: path
                .trim_start_matches('/')
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect(),
            methods: methods.clone(),
        })
        .collect();
    // Every literal segment, a parameter value and an unknown word.
    let mut words: BTreeSet<String> = routes
        .iter()
        .flat_map(|r| r.segments.iter().flatten().cloned())
        .collect();
    words.insert("x.y.z".into());
    words.insert("nothing-here".into());
    let mut candidates: BTreeSet<Vec<String>> = BTreeSet::new();
    for path in by_path.keys() {
        let full = concrete(path);
        for n in 0..=full.len() {
            let prefix = full[..n].to_vec();
            for w in &words {
                let mut next = prefix.clone();
                next.push(w.clone());
                candidates.insert(next);
            }
            candidates.insert(prefix);
        }
    }
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    let mut served = 0;
    for path in &candidates {
        let best = routes
            .iter()
            .filter(|r| r.matches(path))
            .max_by_key(|r| r.rank());
        let mut url = reqwest::Url::parse(&app.url("/admin/api/v1")).unwrap();
        if !path.is_empty() {
            url.path_segments_mut().unwrap().extend(path);
        }
        for m in &methods {
            let r = app
                .http
                .request(m.clone(), url.clone())
                .send()
                .await
                .unwrap();
            let documented = best.is_some_and(|b| b.methods.contains(&m.as_str().to_lowercase()));
            let expected = if documented {
                served += 1;
                if path == &["openapi.json"] {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            } else if best.is_some() {
                StatusCode::METHOD_NOT_ALLOWED
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(r.status(), expected, "{m} {url}");
        }
    }
    // Each documented operation was reached at least once.
    assert!(served >= by_path.values().map(BTreeSet::len).sum::<usize>());
}

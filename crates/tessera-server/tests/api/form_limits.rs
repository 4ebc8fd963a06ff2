//! Every endpoint that reads a form body or a query string refuses more than
//! `tessera_proto::form::MAX_PARAMS` parameters before any other work: the OAuth endpoints with
//! 400 `invalid_request`, the pages with a 400 page. Reading a body costs time linear in its size,
//! so a 64 KiB body of distinct names, sent before any authentication, costs the server nothing
//! worth attacking.

use crate::helpers::*;
use std::time::Instant;
use tessera_proto::form::MAX_PARAMS;

/// `n` distinct names of one to three base-36 digits, each with the value `1` (10,000 of them
/// fit in 59 KB, under the default 64 KiB body limit).
fn names(n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut body = String::with_capacity(n * 6);
    for i in 0..n {
        if i > 0 {
            body.push('&');
        }
        let mut name = Vec::new();
        let mut rest = i;
        loop {
            name.push(DIGITS[rest % 36]);
            rest /= 36;
            if rest == 0 {
                break;
            }
        }
        name.reverse();
        body.push_str(std::str::from_utf8(&name).unwrap());
        body.push_str("=1");
    }
    body
}

async fn post(app: &TestApp, path: &str, body: String) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_64k_body_of_10000_distinct_names_is_refused_before_authentication() {
    let app = spawn_app().await;
    let body = format!("grant_type=client_credentials&{}", names(10_000));
    assert!(body.len() <= 64 * 1024, "{} bytes", body.len());
    let started = Instant::now();
    let r = post(&app, "/oauth2/token", body).await;
    let took = started.elapsed();
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("too many parameters"),
        "{body}"
    );
    // For the record only (the machine may be busy): the refusal's round trip.
    eprintln!("64 KiB body of 10,000 names refused in {took:?}");
}

#[tokio::test]
async fn the_oauth_endpoints_refuse_more_than_max_params() {
    let app = spawn_app().await;
    let secret = app.register_client(ClientSpec::new("c")).await;
    let too_many = format!("grant_type=client_credentials&{}", names(MAX_PARAMS));
    for path in [
        "/oauth2/token",
        "/oauth2/introspect",
        "/oauth2/revoke",
        "/oauth2/device_authorization",
    ] {
        let r = app
            .http
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", tessera_proto::basic::encode("c", &secret))
            .body(too_many.clone())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, 400, "{path}: {v}");
        assert_eq!(v["error"], "invalid_request", "{path}: {v}");
        let d = v["error_description"].as_str().unwrap_or_default();
        assert!(d.contains("too many parameters"), "{path}: {v}");
    }
    // Exactly MAX_PARAMS is still a request like any other: unknown names are ignored.
    let enough = format!("grant_type=client_credentials&{}", names(MAX_PARAMS - 1));
    let r = app
        .http
        .post(app.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", tessera_proto::basic::encode("c", &secret))
        .body(enough)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn the_pages_refuse_more_than_max_params_with_a_400_page() {
    let app = spawn_app().await;
    let too_many = names(MAX_PARAMS + 1);
    for path in [
        "/login",
        "/logout",
        "/device",
        "/device/approve",
        "/oauth2/authorize",
        "/oauth2/authorize/consent",
    ] {
        let r = post(&app, path, too_many.clone()).await;
        assert_eq!(r.status(), 400, "POST {path}");
        let page = r.text().await.unwrap();
        assert!(page.contains("too many parameters"), "POST {path}: {page}");
    }
    for path in ["/login", "/device", "/oauth2/authorize"] {
        let r = app
            .http
            .get(format!("{}?{too_many}", app.url(path)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "GET {path}");
        let page = r.text().await.unwrap();
        assert!(page.contains("too many parameters"), "GET {path}: {page}");
    }
    // The limit leaves ordinary pages alone.
    let r = app
        .http
        .get(format!("{}?{}", app.url("/login"), names(MAX_PARAMS)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

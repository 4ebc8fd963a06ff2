//! Every RFC 6750 §3 answer, through a real axum app on loopback using the layer and extractor.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_guard::Guard;

struct Setup {
    idp: Idp,
    key: tessera_jose::SigningKey,
    base: String,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    let idp = Idp::start().await;
    let key = es256();
    idp.publish(&key);
    let guard = Guard::connect(idp.config()).await.unwrap();
    let base = api_for(&guard).await;
    Setup {
        idp,
        key,
        base,
        http: reqwest::Client::new(),
    }
}

/// Status, `WWW-Authenticate` and JSON body of a response.
async fn answer(resp: reqwest::Response) -> (StatusCode, Option<String>, Value) {
    let status = resp.status();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

fn invalid_token(description: &str) -> String {
    format!(r#"Bearer realm="{AUD}", error="invalid_token", error_description="{description}""#)
}

#[tokio::test]
async fn valid_token_reaches_the_handler_with_its_claims() {
    let s = setup().await;
    let claims = s.idp.claims();
    let token = mint(&s.key, &claims);
    let resp = s
        .http
        .get(format!("{}/accounting", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["sub"], "client-1");
    assert_eq!(body["client_id"], "client-1");
    assert_eq!(body["scope"], READ);
    assert_eq!(body["aud"], json!([AUD]));
    assert_eq!(body["exp"], claims["exp"]);
    assert_eq!(body["jti"], claims["jti"]);
}

#[tokio::test]
async fn no_token_is_401_with_a_bare_challenge() {
    let s = setup().await;
    for req in [
        s.http.get(format!("{}/accounting", s.base)),
        // Another scheme counts as no bearer token (RFC 6750 §3.1).
        s.http
            .get(format!("{}/accounting", s.base))
            .basic_auth("client-1", Some("secret")),
    ] {
        let (status, challenge, body) = answer(req.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            challenge.as_deref(),
            Some(r#"Bearer realm="https://api.example""#)
        );
        assert!(body.get("error").is_none(), "{body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("Bearer")
        );
    }
}

#[tokio::test]
async fn refused_tokens_are_401_invalid_token_with_a_description() {
    let s = setup().await;
    let other_key = es256().with_kid(s.key.kid().unwrap());
    let mut expired = s.idp.claims();
    expired.insert("exp".into(), json!(now() - 120));
    expired.insert("iat".into(), json!(now() - 600));
    let mut wrong_iss = s.idp.claims();
    wrong_iss.insert("iss".into(), json!("https://evil.example"));
    let mut wrong_aud = s.idp.claims();
    wrong_aud.insert("aud".into(), json!("https://other-api.example"));
    let cases = [
        (mint(&s.key, &expired), "the access token expired"),
        (
            mint(&other_key, &s.idp.claims()),
            "the access token's signature does not verify",
        ),
        (
            mint(&s.key, &wrong_iss),
            "the access token was not issued by the expected issuer",
        ),
        (
            mint(&s.key, &wrong_aud),
            "the access token is not meant for this API (aud)",
        ),
        (
            "not-a-jwt".to_owned(),
            "the access token is not a JWT and cannot be introspected here",
        ),
    ];
    for (token, description) in cases {
        let resp = s
            .http
            .get(format!("{}/accounting", s.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, challenge, body) = answer(resp).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{description}");
        assert_eq!(challenge.unwrap(), invalid_token(description));
        assert_eq!(
            body,
            json!({"error": "invalid_token", "error_description": description})
        );
    }
}

#[tokio::test]
async fn malformed_requests_are_400_invalid_request() {
    let s = setup().await;
    let token = mint(&s.key, &s.idp.claims());
    let url = format!("{}/accounting", s.base);
    let cases = [
        (
            s.http.get(&url).header("authorization", "Bearer"),
            "the Authorization header is not 'Bearer' followed by one token (RFC 6750 section 2.1)",
        ),
        (
            s.http
                .get(&url)
                .header("authorization", "Bearer two tokens"),
            "the Authorization header is not 'Bearer' followed by one token (RFC 6750 section 2.1)",
        ),
        (
            s.http.get(&url).bearer_auth(&token).bearer_auth(&token),
            "the request has more than one Authorization header",
        ),
        (
            s.http
                .get(format!("{url}?access_token={token}"))
                .bearer_auth(&token),
            "the access token was sent in more than one way; send it only in the Authorization header",
        ),
        (
            s.http
                .post(&url)
                .bearer_auth(&token)
                .form(&[("access_token", token.as_str()), ("x", "1")]),
            "the access token was sent in more than one way; send it only in the Authorization header",
        ),
        (
            s.http.get(format!("{url}?access_token={token}")),
            "access tokens in the URI query are not accepted; send it in the Authorization header",
        ),
        (
            s.http.post(&url).form(&[("access_token", token.as_str())]),
            "access tokens in the request body are not accepted; send it in the Authorization header",
        ),
    ];
    for (req, description) in cases {
        let (status, challenge, body) = answer(req.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{description}");
        // The header value may carry only %x20-21 / %x23-5B / %x5D-7E: '§' is replaced.
        let header_description = description.replace('§', "?");
        assert_eq!(
            challenge.unwrap(),
            format!(
                r#"Bearer realm="{AUD}", error="invalid_request", error_description="{header_description}""#
            )
        );
        assert_eq!(
            body,
            json!({"error": "invalid_request", "error_description": description})
        );
    }
}

#[tokio::test]
async fn a_form_body_without_a_token_still_reaches_the_handler() {
    let s = setup().await;
    let token = mint(&s.key, &s.idp.claims());
    let resp = s
        .http
        .post(format!("{}/accounting", s.base))
        .bearer_auth(&token)
        .form(&[("amount", "12"), ("note", "x y")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_scope_is_403_insufficient_scope_naming_the_required_scopes() {
    let s = setup().await;
    let token = mint(&s.key, &s.idp.claims());
    let resp = s
        .http
        .post(format!("{}/accounting/entries", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, challenge, body) = answer(resp).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let description =
        "the access token lacks a required scope: core.accounting.read core.accounting.write";
    assert_eq!(
        challenge.unwrap(),
        format!(
            r#"Bearer realm="{AUD}", error="insufficient_scope", error_description="{description}", scope="core.accounting.read core.accounting.write""#
        )
    );
    assert_eq!(
        body,
        json!({
            "error": "insufficient_scope",
            "error_description": description,
            "scope": "core.accounting.read core.accounting.write",
        })
    );
    // With both scopes it passes; and a route without scopes takes any valid token.
    let mut claims = s.idp.claims();
    claims.insert(
        "scope".into(),
        json!(format!("{READ} {WRITE} other.thing.read")),
    );
    let both = mint(&s.key, &claims);
    for (method, path, token) in [
        (reqwest::Method::POST, "/accounting/entries", &both),
        (reqwest::Method::GET, "/whoami", &token),
    ] {
        let resp = s
            .http
            .request(method, format!("{}{path}", s.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn realm_is_a_quoted_string() {
    let idp = Idp::start().await;
    let key = es256();
    idp.publish(&key);
    let guard = Guard::connect(idp.config().realm(r#"Tessera "test" \ realm"#))
        .await
        .unwrap();
    let base = api_for(&guard).await;
    let resp = reqwest::get(format!("{base}/whoami")).await.unwrap();
    let (_, challenge, _) = answer(resp).await;
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer realm="Tessera \"test\" \\ realm""#)
    );
}

#[tokio::test]
async fn extractor_without_the_layer_fails_closed() {
    let s = setup().await;
    let token = mint(&s.key, &s.idp.claims());
    let resp = s
        .http
        .get(format!("{}/unguarded", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, challenge, body) = answer(resp).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(challenge, None);
    assert_eq!(body["error"], "server_error");
}

#[tokio::test]
async fn unknown_paths_stay_404() {
    let s = setup().await;
    let resp = s
        .http
        .get(format!("{}/nothing-here", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

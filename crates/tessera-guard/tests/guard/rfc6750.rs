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

/// Posts a form with `Transfer-Encoding: chunked` (no `Content-Length`: the shape of a streamed
/// HTTP/1.1 upload) over a raw connection, one chunk per item of `chunks`; returns the status and
/// the JSON answer.
async fn post_chunked_form(
    base: &str,
    path: &str,
    token: Option<&str>,
    chunks: &[Vec<u8>],
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = base.strip_prefix("http://").unwrap();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    for c in chunks {
        request.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        request.extend_from_slice(c);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The guard may answer before reading everything (a body past its limit) and close: a failed
    // write or a reset after the answer came is not the test's concern.
    let _ = conn.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_chunked_form_body_is_checked_and_handed_on_whole() {
    let s = setup().await;
    let token = mint(&s.key, &s.idp.claims());
    let sent_twice = json!({
        "error": "invalid_request",
        "error_description": "the access token was sent in more than one way; send it only in the Authorization header",
    });
    // The field split across chunks, beside the header token: refused (RFC 6750 §2).
    let chunks = [
        b"amount=12&acc".to_vec(),
        b"ess_tok".to_vec(),
        format!("en={token}").into_bytes(),
    ];
    let answer = post_chunked_form(&s.base, "/accounting/form", Some(&token), &chunks).await;
    assert_eq!(answer, (400, sent_twice));
    // In the body alone: refused too.
    let (status, body) = post_chunked_form(&s.base, "/accounting/form", None, &chunks).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "access tokens in the request body are not accepted; send it in the Authorization header"
    );

    // A form without a token, in many chunks, up to just under the limit: the handler gets it as
    // it was sent.
    let mut chunks = vec![b"amount=12&note=x+y".to_vec()];
    for i in 0..15 {
        chunks.push(format!("&pad{i}={}", "z".repeat(4000)).into_bytes());
    }
    let sent: Vec<u8> = chunks.concat();
    assert!(sent.len() < 64 * 1024);
    let (status, body) =
        post_chunked_form(&s.base, "/accounting/form", Some(&token), &chunks).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], "client-1");
    assert_eq!(body["body"].as_str().unwrap().as_bytes(), &sent[..]);
}

#[tokio::test]
async fn a_chunked_form_body_past_the_limit_is_400_invalid_request() {
    let s = setup().await;
    let token = mint(&s.key, &s.idp.claims());
    let big: Vec<Vec<u8>> = (0..9)
        .map(|i| format!("pad{i}={}&", "z".repeat(8 * 1024)).into_bytes())
        .collect();
    assert!(big.concat().len() > 64 * 1024);
    let (status, body) = post_chunked_form(&s.base, "/accounting/form", Some(&token), &big).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({
            "error": "invalid_request",
            "error_description": "the form body is too long to be checked for an access token; send it with a Content-Length",
        })
    );

    // With a Content-Length over the limit the body is handed on unread (and whole).
    let form = big.concat();
    let resp = s
        .http
        .post(format!("{}/accounting/form", s.base))
        .bearer_auth(&token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["body"].as_str().unwrap().as_bytes(), &form[..]);
}

#[tokio::test]
async fn authorize_with_body_refuses_a_form_token_beside_the_header_token() {
    use tessera_guard::{RejectionKind, RequestError, ScopeSet};
    let idp = Idp::start().await;
    let key = es256();
    idp.publish(&key);
    let guard = Guard::connect(idp.config()).await.unwrap();
    let token = mint(&key, &idp.claims());
    let parts = |content_type: &str| {
        let (parts, ()) = http::Request::post("/accounting")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(())
            .unwrap()
            .into_parts();
        parts
    };
    let form = parts("application/x-www-form-urlencoded");
    let json_body = parts("application/json");
    let read = ScopeSet::from_names([READ]);
    let with_token = format!("x=1&access_token={token}");
    assert!(guard.reads_body(&form.headers));
    assert!(!guard.reads_body(&json_body.headers));

    let refused = guard
        .authorize_with_body(&form, &read, Some(with_token.as_bytes()))
        .await
        .unwrap_err();
    assert_eq!(
        refused.kind(),
        &RejectionKind::InvalidRequest(RequestError::TokenSentTwice)
    );
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // A body not held, a form without the field, or a body that is not a form: through.
    for (parts, body) in [
        (&form, None),
        (&form, Some(&b"x=1&note=access_token"[..])),
        (&json_body, Some(with_token.as_bytes())),
    ] {
        let t = guard.authorize_with_body(parts, &read, body).await.unwrap();
        assert_eq!(t.subject(), Some("client-1"));
    }
}

//! The reqwest-middleware layer: Bearer header, one retry after a 401 with a new token, no loop.

use crate::mock::{Mock, Reply};
use reqwest_middleware::ClientBuilder;
use std::sync::atomic::Ordering;
use tessera_client::{BearerMiddleware, TokenSource};

fn client(source: TokenSource, retries: Option<u32>) -> reqwest_middleware::ClientWithMiddleware {
    let layer = match retries {
        Some(r) => BearerMiddleware::new(source).retries(r),
        None => BearerMiddleware::new(source),
    };
    ClientBuilder::new(reqwest::Client::new())
        .with(layer)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presents_the_bearer_token() {
    let mock = Mock::start().await;
    let source = mock.source(mock.credential("c", "s"));
    let http = client(source, None);
    for _ in 0..3 {
        let resp = http.get(mock.api_url()).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    let seen = mock.state.api_tokens.lock().clone();
    assert_eq!(seen, vec![Some("tok-0".to_owned()); 3]);
    assert_eq!(mock.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_that_answers_401_once_gets_one_retry_with_a_new_token() {
    let mock = Mock::start().await;
    // The API rejects tok-0 (as if it expired early) and accepts any later token.
    mock.on_api(|t, _| match t {
        Some("tok-0") => Reply::raw(401, "text/plain", "expired").with_header(
            "www-authenticate",
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The access token expired\"",
        ),
        Some(_) => Reply::raw(200, "text/plain", "ok"),
        None => Reply::raw(401, "text/plain", ""),
    });
    let source = mock.source(mock.credential("c", "s"));
    let http = client(source.clone(), None);
    let resp = http
        .post(mock.api_url())
        .body("replayable body")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(mock.token_requests(), 2, "one new token");
    assert_eq!(
        mock.state.api_requests.load(Ordering::SeqCst),
        2,
        "one retry"
    );
    assert_eq!(
        mock.state.api_tokens.lock().clone(),
        vec![Some("tok-0".to_owned()), Some("tok-1".to_owned())]
    );
    assert_eq!(source.cached().unwrap().secret(), "tok-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_without_any_challenge_also_retries() {
    let mock = Mock::start().await;
    mock.on_api(|t, _| match t {
        Some("tok-0") => Reply::raw(401, "text/plain", ""),
        _ => Reply::raw(200, "text/plain", "ok"),
    });
    let http = client(mock.source(mock.credential("c", "s")), None);
    assert_eq!(http.get(mock.api_url()).send().await.unwrap().status(), 200);
    assert_eq!(mock.token_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_whose_only_challenges_are_not_bearer_is_not_retried() {
    for challenges in [
        vec!["Basic realm=\"api\""],
        vec!["DPoP error=\"invalid_token\", algs=\"ES256\""],
        vec!["Basic realm=\"api\"", "DPoP algs=\"ES256\""],
    ] {
        let mock = Mock::start().await;
        let c = challenges.clone();
        mock.on_api(move |_, _| {
            c.iter().fold(Reply::raw(401, "text/plain", "no"), |r, v| {
                r.with_header("www-authenticate", v)
            })
        });
        let http = client(mock.source(mock.credential("c", "s")), None);
        let resp = http.get(mock.api_url()).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{challenges:?}");
        assert_eq!(mock.token_requests(), 1, "no new token: {challenges:?}");
        assert_eq!(
            mock.state.api_requests.load(Ordering::SeqCst),
            1,
            "not replayed: {challenges:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_challenge_without_error_or_with_invalid_token_is_retried_among_others() {
    for challenges in [
        vec!["Bearer realm=\"api\""],
        vec!["Basic realm=\"api\", Bearer realm=\"api\""],
        vec!["DPoP algs=\"ES256\"", "Bearer error=\"invalid_token\""],
    ] {
        let mock = Mock::start().await;
        let c = challenges.clone();
        mock.on_api(move |t, _| match t {
            Some("tok-0") => c.iter().fold(Reply::raw(401, "text/plain", "no"), |r, v| {
                r.with_header("www-authenticate", v)
            }),
            _ => Reply::raw(200, "text/plain", "ok"),
        });
        let http = client(mock.source(mock.credential("c", "s")), None);
        let resp = http.get(mock.api_url()).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{challenges:?}");
        assert_eq!(mock.token_requests(), 2, "one new token: {challenges:?}");
        assert_eq!(mock.state.api_requests.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_that_always_answers_401_gets_exactly_retries_plus_one_fetches() {
    for retries in [None, Some(0), Some(1), Some(3)] {
        let mock = Mock::start().await;
        mock.on_api(|_, _| {
            Reply::raw(401, "text/plain", "no")
                .with_header("www-authenticate", "Bearer error=\"invalid_token\"")
        });
        let http = client(mock.source(mock.credential("c", "s")), retries);
        let resp = http.get(mock.api_url()).send().await.unwrap();
        assert_eq!(resp.status(), 401, "the 401 is returned");
        let expected = retries.unwrap_or(1) as usize + 1;
        assert_eq!(mock.token_requests(), expected, "retries = {retries:?}");
        assert_eq!(mock.state.api_requests.load(Ordering::SeqCst), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_401_errors_and_403_are_not_retried() {
    let mock = Mock::start().await;
    mock.on_api(|_, n| {
        if n == 0 {
            Reply::raw(401, "text/plain", "").with_header(
                "www-authenticate",
                "Bearer error=\"insufficient_scope\", scope=\"a.b.c\"",
            )
        } else {
            Reply::raw(403, "text/plain", "")
                .with_header("www-authenticate", "Bearer error=\"insufficient_scope\"")
        }
    });
    let http = client(mock.source(mock.credential("c", "s")), None);
    assert_eq!(http.get(mock.api_url()).send().await.unwrap().status(), 401);
    assert_eq!(http.get(mock.api_url()).send().await.unwrap().status(), 403);
    assert_eq!(mock.token_requests(), 1);
    assert_eq!(mock.state.api_requests.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_is_not_replayed() {
    let mock = Mock::start().await;
    mock.on_api(|_, _| {
        Reply::raw(401, "text/plain", "")
            .with_header("www-authenticate", "Bearer error=\"invalid_token\"")
    });
    let http = client(mock.source(mock.credential("c", "s")), None);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        vec![Ok(bytes::Bytes::from_static(b"stream"))];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let resp = http.post(mock.api_url()).body(body).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        mock.state.api_requests.load(Ordering::SeqCst),
        1,
        "not replayed"
    );
    assert_eq!(mock.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_failure_is_a_middleware_error_naming_the_cause() {
    let mock = Mock::start().await;
    mock.on_token(|_, _| {
        Reply::json(
            401,
            serde_json::json!({"error": "invalid_client", "error_description": "unknown client"}),
        )
    });
    let http = client(mock.source(mock.credential("c", "s")), None);
    let err = http.get(mock.api_url()).send().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("invalid_client") && text.contains("unknown client"),
        "{text}"
    );
    assert_eq!(mock.state.api_requests.load(Ordering::SeqCst), 0);
}

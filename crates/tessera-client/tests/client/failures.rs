//! A token endpoint that is down, slow, failing, rate limiting, not OAuth, or refusing: each gives
//! its own clear error, with the backoff observed at the server.

use crate::mock::{Mock, Reply, fast_retry};
use std::time::{Duration, Instant};
use tessera_client::{Error, RetryPolicy, TokenCache, TokenSource};

fn gaps(mock: &Mock) -> Vec<Duration> {
    let recs = mock.recorded();
    recs.windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_unreachable_after_backoff() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cred = tessera_client::Credential::builder(
        tessera_client::Endpoint::token_endpoint(&format!("http://127.0.0.1:{port}/token"))
            .unwrap(),
        "c",
    )
    .client_secret(tessera_client::SecretString::from("s"))
    .build()
    .unwrap();
    let source = TokenSource::builder(cred)
        .cache(TokenCache::new())
        .retry(fast_retry())
        .build()
        .unwrap();
    let t0 = Instant::now();
    let err = source.token().await.unwrap_err();
    let elapsed = t0.elapsed();
    assert!(
        matches!(err, Error::Exhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(matches!(err.cause(), Error::Unreachable { .. }), "{err:?}");
    assert_eq!(err.label(), "unreachable");
    let text = err.to_string();
    assert!(
        text.contains("unreachable") && text.contains("3 attempts"),
        "{text}"
    );
    // Two backoffs of at least half of 100 ms and 200 ms.
    assert!(
        elapsed >= Duration::from_millis(150),
        "backoff observed: {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_to_a_host_named_tls_is_unreachable_not_a_tls_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // The host's name holds "tls" and "certificate"; it resolves to loopback, where nothing
    // listens on the port. The URL is in reqwest's message: it must not be read as a TLS error.
    let host = "tls.certificate.example";
    let http = reqwest::Client::builder()
        .resolve(host, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .build()
        .unwrap();
    let cred = tessera_client::Credential::builder(
        tessera_client::Endpoint::token_endpoint(&format!("https://{host}:{port}/token")).unwrap(),
        "c",
    )
    .client_secret(tessera_client::SecretString::from("s"))
    .build()
    .unwrap();
    let source = TokenSource::builder(cred)
        .cache(TokenCache::new())
        .http_client(http)
        .retry(RetryPolicy {
            max_attempts: 2,
            ..fast_retry()
        })
        .build()
        .unwrap();
    let err = source.token().await.unwrap_err();
    assert!(matches!(err.cause(), Error::Unreachable { .. }), "{err:?}");
    assert_eq!(err.label(), "unreachable");
    assert!(
        !err.is_permanent(),
        "a refused connection is worth retrying"
    );
    assert!(
        matches!(err, Error::Exhausted { attempts: 2, .. }),
        "it was retried: {err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_times_out_and_is_retried_with_backoff() {
    let mock = Mock::start().await;
    mock.on_token(|_, _| Reply::token("late", 3600).delayed(Duration::from_secs(3)));
    let source = TokenSource::builder(mock.credential("c", "s"))
        .cache(TokenCache::new())
        .retry(RetryPolicy {
            max_attempts: 2,
            ..fast_retry()
        })
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = source.token().await.unwrap_err();
    assert!(matches!(err.cause(), Error::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string().contains("did not answer within 200ms"),
        "{err}"
    );
    assert_eq!(mock.token_requests(), 2);
    let g = gaps(&mock);
    // The timeout (200 ms) plus at least half the 100 ms backoff.
    assert!(g[0] >= Duration::from_millis(250), "{g:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_retried_with_exponential_backoff_then_reported() {
    let mock = Mock::start().await;
    mock.on_token(|_, _| {
        Reply::json(
            500,
            serde_json::json!({"error": "server_error", "error_description": "database down"}),
        )
    });
    let source = mock.source(mock.credential("c", "s"));
    let err = source.token().await.unwrap_err();
    assert!(
        matches!(err.cause(), Error::Server { status: 500, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("HTTP 500") && text.contains("database down"),
        "{text}"
    );
    assert_eq!(mock.token_requests(), 3);
    let g = gaps(&mock);
    // Equal jitter: between half and all of 100 ms, then of 200 ms.
    assert!(
        g[0] >= Duration::from_millis(50) && g[0] < Duration::from_millis(400),
        "{g:?}"
    );
    assert!(
        g[1] >= Duration::from_millis(100) && g[1] < Duration::from_millis(600),
        "{g:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_then_success_recovers() {
    let mock = Mock::start().await;
    mock.on_token(|_, n| {
        if n < 2 {
            Reply::raw(502, "text/html", "<html>Bad Gateway</html>")
        } else {
            Reply::token("ok", 3600)
        }
    });
    let source = mock.source(mock.credential("c", "s"));
    assert_eq!(source.token().await.unwrap().secret(), "ok");
    assert_eq!(mock.token_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_honoured() {
    let mock = Mock::start().await;
    mock.on_token(|_, n| {
        if n == 0 {
            Reply::json(429, serde_json::json!({"error": "slow_down"}))
                .with_header("retry-after", "1")
        } else {
            Reply::token("ok", 3600)
        }
    });
    let source = mock.source(mock.credential("c", "s"));
    assert_eq!(source.token().await.unwrap().secret(), "ok");
    let g = gaps(&mock);
    assert!(
        g[0] >= Duration::from_secs(1),
        "Retry-After: 1 honoured: {g:?}"
    );
    assert!(g[0] < Duration::from_millis(1800), "{g:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_asking_for_too_long_fails_at_once_with_the_delay() {
    let mock = Mock::start().await;
    mock.on_token(|_, _| {
        Reply::raw(503, "text/plain", "maintenance").with_header("retry-after", "120")
    });
    let source = mock.source(mock.credential("c", "s"));
    let err = source.token().await.unwrap_err();
    match err.cause() {
        Error::RateLimited {
            status: 503,
            retry_after,
            ..
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(120)));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("retry after 120s"), "{err}");
    assert_eq!(mock.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_is_not_an_oauth_endpoint() {
    let mock = Mock::start().await;
    mock.on_token(|_, _| {
        Reply::raw(
            200,
            "text/html; charset=utf-8",
            "<!doctype html><html><title>Sign in</title></html>",
        )
    });
    let source = mock.source(mock.credential("c", "s"));
    let err = source.token().await.unwrap_err();
    assert!(
        matches!(err, Error::NotOAuth { status: 200, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("text/html") && text.contains("Sign in") && text.contains("token endpoint"),
        "{text}"
    );
    assert_eq!(mock.token_requests(), 1, "not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_reported_as_such() {
    let mock = Mock::start().await;
    mock.on_token(|_, n| match n {
        0 => Reply::raw(
            200,
            "application/json",
            "{\"access_token\": \"tok-must-not-leak\", ",
        ),
        _ => Reply::raw(200, "application/json", "{\"token_type\": \"Bearer\"}"),
    });
    let source = mock.source(mock.credential("c", "s"));
    let err = source.token().await.unwrap_err();
    assert!(matches!(err, Error::MalformedResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    // The body held a token: the error (which gets logged and printed) does not repeat it.
    assert!(!err.to_string().contains("tok-must-not-leak"), "{err}");
    assert!(!format!("{err:?}").contains("tok-must-not-leak"), "{err:?}");
    let err = source.token().await.unwrap_err();
    assert!(err.to_string().contains("no access_token"), "{err}");
    assert_eq!(mock.token_requests(), 2, "neither was retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_oauth_errors_are_not_retried_and_carry_the_description() {
    for (status, code) in [
        (401, "invalid_client"),
        (400, "invalid_grant"),
        (400, "unauthorized_client"),
        (400, "invalid_scope"),
    ] {
        let mock = Mock::start().await;
        mock.on_token(move |_, _| {
            Reply::json(status, serde_json::json!({"error": code, "error_description": format!("why {code} happened")}))
        });
        let source = mock.source(mock.credential("c", "s"));
        let err = source.token().await.unwrap_err();
        assert!(matches!(err, Error::OAuth { .. }), "{err:?}");
        assert_eq!(err.code().map(|c| c.as_str()), Some(code));
        assert!(err.is_permanent());
        let text = err.to_string();
        assert!(
            text.contains(code) && text.contains(&format!("why {code} happened")),
            "{text}"
        );
        assert_eq!(mock.token_requests(), 1, "{code} not retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed() {
    let mock = Mock::start().await;
    mock.on_token(|_, _| {
        Reply::raw(302, "text/html", "").with_header("location", "https://login.example/")
    });
    let err = mock
        .source(mock.credential("c", "s"))
        .token()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotOAuth { status: 302, .. }),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_share_one_failure_and_the_next_call_tries_again() {
    let mock = Mock::start().await;
    mock.on_token(|_, n| {
        if n == 0 {
            Reply::json(400, serde_json::json!({"error": "invalid_scope"}))
                .delayed(Duration::from_millis(200))
        } else {
            Reply::token("ok", 3600)
        }
    });
    let source = mock.source(mock.credential("c", "s"));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let s = source.clone();
        tasks.spawn(async move { s.token().await });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap().unwrap_err().label(), "invalid_scope");
    }
    assert_eq!(mock.token_requests(), 1);
    assert_eq!(source.token().await.unwrap().secret(), "ok");
}

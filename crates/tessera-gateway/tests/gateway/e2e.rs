//! End to end: Tessera + gateway + an upstream API protected by tessera-guard.

use crate::gw;
use crate::tessera::{eventually, metric_sum};
use crate::world::{BILLING_AUD, BILLING_SCOPE, CALL_SCOPE, GATEWAY_AUD, world};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

async fn metrics(g: &gw::InProcess) -> String {
    reqwest::get(g.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_receives_a_valid_token_for_its_audience() {
    let w = world(None).await;
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    eventually("readiness", Duration::from_secs(15), || async {
        let r = reqwest::get(g.url("/readyz")).await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;

    let http = reqwest::Client::new();
    // Whatever the caller sends as Authorization is replaced by the gateway's token.
    let r = http
        .post(g.url("/billing/api/echo?x=1"))
        .header("authorization", "Bearer not-a-token")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["client_id"], w.gateway_id.as_str(), "{body}");
    assert_eq!(body["aud"], serde_json::json!([BILLING_AUD]));
    assert!(body["scope"].as_str().unwrap().contains(BILLING_SCOPE));
    assert_eq!(body["path"], "/api/echo", "the route strips its prefix");
    assert_eq!(body["query"], "x=1");
    assert_eq!(body["body_len"], 5);

    // Several requests, one token: the cache serves it.
    for _ in 0..5 {
        let r = http.get(g.url("/billing/api/echo")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(w.tessera.token_requests(&w.gateway_id).await, 1);
    let text = metrics(&g).await;
    assert_eq!(
        metric_sum(
            &text,
            "tessera_gateway_requests_total",
            &["route=\"billing\"", "status=\"200\""]
        ),
        6,
        "{text}"
    );
    assert_eq!(
        metric_sum(
            &text,
            "tessera_gateway_token_fetches_total",
            &["route=\"billing\"", "outcome=\"ok\""]
        ),
        1
    );
    assert_eq!(
        metric_sum(
            &text,
            "tessera_gateway_request_duration_seconds_count",
            &["route=\"billing\""]
        ),
        6
    );
    // No route: 404 from the gateway itself.
    let r = http.get(g.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let healthz = http.get(g.url("/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), 200);
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_fails_across_token_expiry_under_steady_load() {
    // Tokens live 3 s; the load runs for 10 s, so the gateway goes through several tokens.
    let w = world(Some(3)).await;
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let slowest = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(10);
    let mut workers = Vec::new();
    for _ in 0..4 {
        let url = g.url("/billing/api/echo");
        let (ok, failed, slowest) = (Arc::clone(&ok), Arc::clone(&failed), Arc::clone(&slowest));
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while Instant::now() < end {
                let t = Instant::now();
                match http.get(&url).send().await {
                    Ok(r) if r.status() == 200 => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        let line = format!("{} {}", r.status(), r.text().await.unwrap_or_default());
                        failed.lock().push(line);
                    }
                    Err(e) => failed.lock().push(e.to_string()),
                }
                let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                slowest.fetch_max(us, Ordering::Relaxed);
            }
        }));
    }
    for wk in workers {
        wk.await.unwrap();
    }
    let failed = failed.lock().clone();
    assert!(
        failed.is_empty(),
        "{} requests failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    let ok = ok.load(Ordering::Relaxed);
    assert!(ok > 100, "only {ok} requests in 10 s");
    let distinct: std::collections::HashSet<String> =
        w.api.seen.jtis.lock().iter().cloned().collect();
    assert!(
        distinct.len() >= 3,
        "the upstream saw only {} tokens in 10 s of 3 s tokens",
        distinct.len()
    );
    let fetched = w.tessera.token_requests(&w.gateway_id).await;
    assert!(fetched >= 3, "{fetched} token requests");
    // Refreshed ahead of expiry: the upstream never refused a token, so nothing was replayed.
    let text = metrics(&g).await;
    assert_eq!(
        metric_sum(
            &text,
            "tessera_gateway_retries_total",
            &["route=\"billing\""]
        ),
        0,
        "{text}"
    );
    eprintln!(
        "{ok} requests, {} tokens, {fetched} token requests, slowest request {} ms",
        distinct.len(),
        slowest.load(Ordering::Relaxed) / 1000
    );
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_401_is_retried_once_with_a_new_token() {
    let w = world(None).await;
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    let http = reqwest::Client::new();
    // Warm the cache so the 401 hits a cached token.
    assert_eq!(
        http.get(g.url("/billing/api/echo"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let before = w.tessera.token_requests(&w.gateway_id).await;
    w.api.seen.jtis.lock().clear();

    w.api.seen.flaky_left.store(1, Ordering::Relaxed);
    let r = http.get(g.url("/billing/api/flaky")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let jtis = w.api.seen.jtis.lock().clone();
    assert_eq!(jtis.len(), 2, "one refused request, one replay");
    assert_ne!(jtis[0], jtis[1], "the replay carries a new token");
    assert_eq!(
        w.tessera.token_requests(&w.gateway_id).await,
        before + 1,
        "one refetch"
    );
    let text = metrics(&g).await;
    assert_eq!(
        metric_sum(
            &text,
            "tessera_gateway_retries_total",
            &["route=\"billing\""]
        ),
        1
    );

    // An upstream that always answers 401: retries (1) + 1 attempts, then its 401.
    w.api.seen.jtis.lock().clear();
    let r = http
        .post(g.url("/billing/api/always401"))
        .body("small body, replayable")
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
    assert_eq!(w.api.seen.jtis.lock().len(), 2);

    // A streamed body (no Content-Length) cannot be replayed: one attempt, the 401 as it is.
    w.api.seen.jtis.lock().clear();
    let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
        bytes::Bytes::from_static(b"streamed"),
    )]);
    let r = http
        .post(g.url("/billing/api/always401"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(w.api.seen.jtis.lock().len(), 1);
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_requests_get_rfc_6750_answers() {
    let w = world(None).await;
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    let http = reqwest::Client::new();
    let url = g.url("/guarded/api/echo");

    // No token: 401 with a bare challenge (RFC 6750 §3.1).
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(challenge, format!("Bearer realm=\"{GATEWAY_AUD}\""));

    // A token for another audience: 401 invalid_token.
    let elsewhere = w.caller_token("caller-elsewhere").await;
    let r = http.get(&url).bearer_auth(&elsewhere).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");

    // A token without the route's scope: 403 insufficient_scope naming it.
    let noscope = w.caller_token("caller-without-scope").await;
    let r = http.get(&url).bearer_auth(&noscope).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("scope=\"{CALL_SCOPE}\"")),
        "{challenge}"
    );

    // A malformed header: 400 invalid_request.
    let r = http
        .get(&url)
        .header("authorization", "Bearer a b c")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_request")
    );

    // A good token: through, and the upstream gets the gateway's token, not the caller's.
    let good = w.caller_token("caller").await;
    let r = http.get(&url).bearer_auth(&good).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["client_id"], w.gateway_id.as_str());
    assert_eq!(
        w.api.seen.requests.load(Ordering::Relaxed),
        1,
        "refused requests never reached the upstream"
    );

    let text = metrics(&g).await;
    for (error, n) in [
        ("missing_token", 1),
        ("invalid_token", 1),
        ("insufficient_scope", 1),
        ("invalid_request", 1),
    ] {
        assert_eq!(
            metric_sum(
                &text,
                "tessera_gateway_guard_rejections_total",
                &["route=\"guarded\"", &format!("error=\"{error}\"")]
            ),
            n,
            "{error}: {text}"
        );
    }
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_waits_for_every_upstream_token() {
    let w = world(None).await;
    std::fs::write(&w.secret_file, "not-the-secret").unwrap();
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    let http = reqwest::Client::new();
    let body: Value = eventually("a failed first fetch", Duration::from_secs(15), || async {
        let r = http.get(g.url("/readyz")).send().await.ok()?;
        assert_eq!(r.status(), 503);
        let b: Value = r.json().await.ok()?;
        b["upstreams"]["billing"]
            .as_str()
            .is_some_and(|s| s.contains("invalid_client"))
            .then_some(b)
    })
    .await;
    assert_eq!(body["status"], "not_ready");
    let r = http.get(g.url("/billing/api/echo")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"], "token_unavailable");
    assert!(!b.to_string().contains("not-the-secret"));

    // Fix the secret and reload: ready.
    std::fs::write(&w.secret_file, &w.gateway_secret).unwrap();
    g.handle.reload().await.unwrap();
    eventually("readiness", Duration::from_secs(15), || async {
        let r = http.get(g.url("/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    assert_eq!(
        http.get(g.url("/billing/api/echo"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_cached_tokens_and_a_bad_one_keeps_the_old_configuration() {
    let w = world(None).await;
    let path = w.dir.write_config(&w.config(""));
    let g = gw::start(&path).await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(g.url("/billing/api/echo"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(w.tessera.token_requests(&w.gateway_id).await, 1);

    // A new route to the same upstream (same credential): applied, and no new token.
    let extra = r#"
[[routes]]
name = "second"
path_prefix = "/second"
strip_prefix = true
upstream = "billing"
"#;
    w.dir.write_config(&w.config(extra));
    g.handle.reload().await.unwrap();
    assert_eq!(
        http.get(g.url("/second/api/echo"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(g.url("/billing/api/echo"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        w.tessera.token_requests(&w.gateway_id).await,
        1,
        "the cached token survived the reload"
    );

    // Bad files are refused as a whole; the old configuration keeps serving.
    let missing_secret = w
        .config(extra)
        .replace(&w.secret_file.display().to_string(), "/nonexistent/secret");
    for (bad, why) in [
        ("[[routes]\n".to_owned(), "TOML"),
        (
            w.config(extra)
                .replace("strip_prefix = true", "strip_prefx = true"),
            "strip_prefx",
        ),
        (missing_secret, "/nonexistent/secret"),
        (
            w.config("[[routes]]\npath_prefix = \"/x\"\nupstream = \"nope\""),
            "no upstream named",
        ),
    ] {
        w.dir.write_config(&bad);
        let e = g.handle.reload().await.unwrap_err().to_string();
        assert!(e.contains(why) || why == "TOML", "{why}: {e}");
        assert_eq!(
            http.get(g.url("/second/api/echo"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let text = metrics(&g).await;
    assert_eq!(
        metric_sum(
            &text,
            "tessera_gateway_reloads_total",
            &["outcome=\"refused\""]
        ),
        4
    );
    assert_eq!(
        metric_sum(&text, "tessera_gateway_reloads_total", &["outcome=\"ok\""]),
        1
    );
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_an_inbound_form_body_is_refused() {
    let w = world(None).await;
    // `guarded0`: the same, to an upstream whose requests are never replayed (`retries = 0`), so
    // only the guard has a reason to read the body.
    let extra = format!(
        r#"
[upstreams.billing0]
url = "{api}"
{oauth2}retries = 0

[[routes]]
name = "guarded0"
path_prefix = "/guarded0"
strip_prefix = true
upstream = "billing0"

[routes.guard]
issuer = "{issuer}"
audiences = "{GATEWAY_AUD}"
scopes = "{CALL_SCOPE}"
"#,
        api = w.api.url(),
        oauth2 = w.oauth2("billing0"),
        issuer = w.tessera.issuer(),
    );
    let g = gw::start(&w.dir.write_config(&w.config(&extra))).await;
    let http = reqwest::Client::new();
    let good = w.caller_token("caller").await;
    for route in ["guarded", "guarded0"] {
        let url = g.url(&format!("/{route}/api/echo"));
        // Beside the header token (RFC 6750 §2: one method only), or alone: 400 invalid_request.
        for (with_header, description) in [
            (
                true,
                "the access token was sent in more than one way; send it only in the Authorization header",
            ),
            (
                false,
                "access tokens in the request body are not accepted; send it in the Authorization header",
            ),
        ] {
            let mut req = http
                .post(&url)
                .form(&[("amount", "12"), ("access_token", good.as_str())]);
            if with_header {
                req = req.bearer_auth(&good);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 400, "{route}");
            let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
            assert!(
                challenge.contains("error=\"invalid_request\""),
                "{challenge}"
            );
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error_description"], description, "{route}");
        }
        // A form without the field goes through whole.
        let form = format!("amount=12&note={}", "x".repeat(1000));
        let r = http
            .post(&url)
            .bearer_auth(&good)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{route}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["client_id"], w.gateway_id.as_str());
        assert_eq!(body["body_len"], form.len());
    }
    assert_eq!(
        w.api.seen.requests.load(Ordering::Relaxed),
        2,
        "refused requests never reached the upstream"
    );
    let text = metrics(&g).await;
    for route in ["guarded", "guarded0"] {
        assert_eq!(
            metric_sum(
                &text,
                "tessera_gateway_guard_rejections_total",
                &[&format!("route=\"{route}\""), "error=\"invalid_request\""]
            ),
            2,
            "{route}: {text}"
        );
    }
    g.stop().await;
}

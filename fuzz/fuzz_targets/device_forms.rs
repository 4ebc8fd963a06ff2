//! The device authorization grant's forms (RFC 8628): the device authorization request
//! (`POST /oauth2/device_authorization`, §3.1) and the page where a person types the user code
//! (`POST /device`, `GET /device?user_code=…`, §3.3), on a real server, and user-code
//! normalisation (§6.1).
//!
//! The first byte chooses the form. Even: the device authorization request (the first line of the
//! rest is the `Authorization` header, none when empty; then the body). Odd: the user-code form
//! body.
//!
//! Holds: no panic; the device authorization endpoint answers a device authorization response
//! (200, a `device_code`, a user code that normalises, the verification URIs, `expires_in`,
//! `interval`) or an RFC error with a 4xx status; the user-code pages never answer 5xx; a typed
//! code that normalises is 8 letters of the alphabet and normalises to itself from its displayed
//! form in any case.
#![no_main]

use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use tessera_fuzz::{TOKEN_ERRORS, assert_oauth_error, first_line, server};
use tessera_server::oauth::device::user_code;

// The server (a SQLite database, keys, clients) is made before fuzzing starts, so that no input is
// timed with it.
fuzz_target!(init: { server(); }, |data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let s = server();
    if mode & 1 == 0 {
        let (auth, body) = first_line(rest);
        let a = s.post_form(
            "/oauth2/device_authorization",
            (!auth.is_empty()).then_some(auth),
            body,
        );
        if a.status.is_success() {
            assert_eq!(a.status, 200);
            let v: serde_json::Value = match serde_json::from_slice(&a.body) {
                Ok(v) => v,
                Err(e) => panic!("a 200 answer is not JSON: {e}"),
            };
            let str_of = |n: &str| v.get(n).and_then(|x| x.as_str()).unwrap_or("");
            assert!(!str_of("device_code").is_empty());
            assert!(user_code::normalize(str_of("user_code")).is_some());
            assert!(!str_of("verification_uri").is_empty());
            assert!(str_of("verification_uri_complete").starts_with(str_of("verification_uri")));
            assert!(
                v.get("expires_in")
                    .and_then(|x| x.as_u64())
                    .is_some_and(|n| n > 0)
            );
            assert!(v.get("interval").and_then(|x| x.as_u64()).is_some());
        } else {
            assert_oauth_error(&a, &TOKEN_ERRORS);
        }
        return;
    }
    if let Ok(form) = tessera_proto::FormParams::parse(rest)
        && let Ok(Some(typed)) = form.get("user_code")
    {
        check_normalize(typed);
    }
    if let Ok(text) = std::str::from_utf8(rest) {
        check_normalize(text);
    }
    let a = s.post_form("/device", None, rest);
    assert!(
        a.status.as_u16() < 500,
        "POST /device answered {}",
        a.status
    );
    let query = tessera_proto::form::encode([("user_code", &*String::from_utf8_lossy(rest))]);
    if let Ok(req) = Request::builder()
        .uri(format!("/device?{query}"))
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
    {
        let a = s.call(req);
        assert!(a.status.as_u16() < 500, "GET /device answered {}", a.status);
    }
});

fn check_normalize(typed: &str) {
    if let Some(c) = user_code::normalize(typed) {
        assert_eq!(c.len(), user_code::LENGTH);
        assert!(c.bytes().all(|b| user_code::ALPHABET.contains(&b)));
        assert_eq!(user_code::normalize(&c).as_deref(), Some(c.as_str()));
        let shown = user_code::display(&c);
        assert_eq!(user_code::normalize(&shown).as_deref(), Some(c.as_str()));
        assert_eq!(
            user_code::normalize(&shown.to_lowercase()).as_deref(),
            Some(c.as_str())
        );
    }
}

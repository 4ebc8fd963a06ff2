//! The guard (RFC 6750 §2, RFC 9068): finding the bearer token in a request and verifying it, with
//! a static key so nothing is fetched.
//!
//! The first byte chooses the mode. Even: the rest is a request, lines `Authorization` value,
//! URI query, then the body (a form body when the first byte's bit 2 is set). Odd: the rest is a
//! JOSE header, a newline, then claims, signed here with the guard's key and sent as
//! `Authorization: Bearer`.
//!
//! Holds: no panic; a request is refused 400 `invalid_request` exactly when RFC 6750 §2 says the
//! token is malformed or sent in more than one place, 401 without an error code when there is no
//! token, 401 `invalid_token` when a well-formed token does not verify; every refusal has a
//! `WWW-Authenticate` challenge and none is 5xx; an accepted token was issued by the issuer for the
//! audience, has an `exp` and the `at+jwt` type.
#![no_main]

use http::{HeaderValue, Request, header};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use std::sync::OnceLock;
use tessera_guard::{Guard, GuardConfig, Rejection, RejectionKind, ScopeSet};
use tessera_jose::{Algorithm, JwkSet, SigningKey, b64_encode};

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://api.example/";

struct Fixture {
    rt: tokio::runtime::Runtime,
    guard: Guard,
    key: SigningKey,
}

#[allow(clippy::expect_used)]
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let key = SigningKey::generate(Algorithm::ES256)
            .expect("a key")
            .with_kid("k1");
        let set = JwkSet {
            keys: vec![key.public_jwk().expect("a public key")],
        };
        let guard = {
            let _enter = rt.enter();
            Guard::start(GuardConfig::new(ISSUER).static_jwks(set).audience(AUDIENCE))
                .expect("the guard starts")
        };
        Fixture { rt, guard, key }
    })
}

/// What RFC 6750 §2.1 reads from one `Authorization` value: `Err` when malformed, `Ok(None)` for
/// another scheme.
fn expected_header_token(value: &[u8]) -> Result<Option<String>, ()> {
    let v = std::str::from_utf8(value).map_err(|_| ())?;
    if !v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        return Err(());
    }
    let v = v.trim_matches(|c| c == ' ' || c == '\t');
    let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    let ok = !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        });
    if ok {
        Ok(Some(token.to_owned()))
    } else {
        Err(())
    }
}

fn check_rejection(r: &Rejection) {
    let status = r.status();
    assert!(
        [400, 401, 403].contains(&status.as_u16()),
        "the guard answered {status}: {r}"
    );
    assert!(
        r.www_authenticate().is_some(),
        "{status} without a challenge"
    );
    match r.kind() {
        RejectionKind::MissingToken => assert!(r.error_code().is_none()),
        RejectionKind::InvalidRequest(_) => {
            assert_eq!(
                r.error_code().map(|c| c.as_str().to_owned()).as_deref(),
                Some("invalid_request")
            )
        }
        RejectionKind::InvalidToken(_) => {
            assert_eq!(
                r.error_code().map(|c| c.as_str().to_owned()).as_deref(),
                Some("invalid_token")
            )
        }
        other => panic!("unexpected refusal {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let required = ScopeSet::new();
    if mode & 1 == 0 {
        let (auth, rest) = tessera_fuzz::first_line(rest);
        let (query, body) = tessera_fuzz::first_line(rest);
        let mut builder = Request::builder();
        let uri_ok = std::str::from_utf8(query)
            .ok()
            .and_then(|q| format!("/api?{q}").parse::<http::Uri>().ok());
        builder = builder.uri(
            uri_ok
                .clone()
                .unwrap_or_else(|| http::Uri::from_static("/api")),
        );
        if mode & 2 != 0 {
            builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let Ok(mut req) = builder.body(()) else {
            return;
        };
        let header_value = HeaderValue::from_bytes(auth)
            .ok()
            .filter(|_| !auth.is_empty());
        if let Some(v) = &header_value {
            req.headers_mut().insert(header::AUTHORIZATION, v.clone());
        }
        let (parts, ()) = req.into_parts();
        let result =
            f.rt.block_on(f.guard.authorize_with_body(&parts, &required, Some(body)));
        let r = match result {
            Ok(_) => panic!("an unsigned token was accepted"),
            Err(r) => r,
        };
        check_rejection(&r);
        let expected = match &header_value {
            None => Ok(None),
            Some(_) => expected_header_token(auth),
        };
        let in_query = uri_ok.as_ref().and_then(|u| u.query()).is_some_and(|q| {
            form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
        });
        let in_body =
            mode & 2 != 0 && form_urlencoded::parse(body).any(|(k, _)| k == "access_token");
        match (expected, in_query || in_body) {
            (Err(()), _) => assert!(
                matches!(r.kind(), RejectionKind::InvalidRequest(_)),
                "a malformed header read as {r}"
            ),
            (Ok(_), true) => assert!(
                matches!(r.kind(), RejectionKind::InvalidRequest(_)),
                "a token in the query or body read as {r}"
            ),
            (Ok(None), false) => assert!(
                matches!(r.kind(), RejectionKind::MissingToken),
                "no token read as {r}"
            ),
            (Ok(Some(_)), false) => assert!(
                matches!(r.kind(), RejectionKind::InvalidToken(_)),
                "a well-formed unsigned token read as {r}"
            ),
        }
        return;
    }
    let (header, claims) = tessera_fuzz::first_line(rest);
    let Ok(jws) = f.key.sign_with_encoded_header(&b64_encode(header), claims) else {
        panic!("signing failed");
    };
    let Ok(value) = HeaderValue::from_str(&format!("Bearer {jws}")) else {
        panic!("a JWS is a header value");
    };
    let mut req = Request::new(());
    req.headers_mut().insert(header::AUTHORIZATION, value);
    let (parts, ()) = req.into_parts();
    match f.rt.block_on(f.guard.authorize(&parts, &required)) {
        Ok(_) => {
            let claims: Map<String, Value> = match serde_json::from_slice(claims) {
                Ok(c) => c,
                Err(e) => panic!("accepted claims that are not a JSON object: {e}"),
            };
            assert_eq!(claims.get("iss").and_then(Value::as_str), Some(ISSUER));
            let aud_ok = match claims.get("aud") {
                Some(Value::String(a)) => a == AUDIENCE,
                Some(Value::Array(v)) => v.iter().any(|a| a.as_str() == Some(AUDIENCE)),
                _ => false,
            };
            assert!(aud_ok, "accepted a token for another audience");
            assert!(claims.get("exp").is_some(), "accepted a token without exp");
            let h: Map<String, Value> = match serde_json::from_slice(header) {
                Ok(h) => h,
                Err(e) => panic!("accepted a header that is not JSON: {e}"),
            };
            let typ = h.get("typ").and_then(Value::as_str).unwrap_or("");
            assert!(
                typ.eq_ignore_ascii_case("at+jwt")
                    || typ.eq_ignore_ascii_case("application/at+jwt"),
                "accepted typ {typ:?}"
            );
        }
        Err(r) => {
            check_rejection(&r);
            assert!(
                matches!(r.kind(), RejectionKind::InvalidToken(_)),
                "a signed token refused as {r}"
            );
        }
    }
});

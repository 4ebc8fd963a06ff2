//! A client assertion (RFC 7523 §2.2, §3): the compact JWS parse of `tessera-jose`, the server's
//! reading of `client_assertion` from a token request, and its whole check for the registered
//! `client_secret_jwt` client (`oauth::assertion::verify`: algorithm, signature, `iss`, `sub`,
//! `aud`, `exp`, `nbf`, `iat`, `jti`).
//!
//! The first byte chooses the mode. Even: the rest is an assertion as sent (it never verifies, as
//! the fuzzer cannot sign). Odd: the rest is a JOSE header, a newline, then the claims, signed
//! here with the client's secret under the header's HMAC `alg` (HS256 when it names none), so the
//! claim checks are reached.
//!
//! Holds: no panic (time arithmetic on any `exp`, `nbf`, `iat` included); a signed JWS parses
//! back to the same payload exactly when its header is a JOSE header; an assertion accepted names
//! the client in `iss` and `sub`, the server in `aud`, has an `exp` and a `jti` never accepted
//! before; a refusal is never a store error; the server reads the assertion from a form as an
//! assertion or refuses it with `invalid_request`/`invalid_client`.
#![no_main]

use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::Mutex;
use tessera_fuzz::{ISSUER, JWT_CLIENT, SECRET, TOKEN_ENDPOINT, server};
use tessera_jose::{Algorithm, Header, SigningKey, UnverifiedJws, VerifyingKey, b64_encode};
use tessera_server::oauth::assertion::{self, AssertionError};
use tessera_server::oauth::client_auth::{self, Presented};

static ACCEPTED_JTI: Mutex<Option<HashSet<String>>> = Mutex::new(None);

// The server (a SQLite database, keys, clients) is made before fuzzing starts, so that no input is
// timed with it.
fuzz_target!(init: { server(); }, |data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let jws = if mode & 1 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        if let Ok(jws) = UnverifiedJws::parse(text) {
            // Nobody but the client can sign: the secret never verifies a fuzzed signature.
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                assert!(
                    jws.verify(&VerifyingKey::hmac(SECRET.as_bytes()), &[alg])
                        .is_err()
                );
            }
        }
        text.to_owned()
    } else {
        let (header, claims) = tessera_fuzz::first_line(rest);
        let parsed_header: Option<Header> = serde_json::from_slice(header).ok();
        let alg = parsed_header
            .as_ref()
            .and_then(|h| h.algorithm().ok())
            .filter(|a| a.is_hmac())
            .unwrap_or(Algorithm::HS256);
        let Ok(key) = SigningKey::hmac(alg, SECRET.as_bytes()) else {
            panic!("an HMAC key for {alg}");
        };
        let jws = match key.sign_with_encoded_header(&b64_encode(header), claims) {
            Ok(j) => j,
            Err(e) => panic!("signing failed: {e}"),
        };
        match (UnverifiedJws::parse(&jws), &parsed_header) {
            (Ok(p), Some(h)) => {
                assert_eq!(&p.header, h, "the header changed in the round-trip");
                assert_eq!(p.payload(), claims, "the payload changed in the round-trip");
                let verified = p.verify(&VerifyingKey::hmac(SECRET.as_bytes()), &[alg]);
                if h.alg == alg.as_str() && h.crit.is_none() {
                    assert_eq!(
                        verified,
                        Ok(alg),
                        "a JWS signed with the key does not verify"
                    );
                } else {
                    assert!(verified.is_err());
                }
            }
            (Err(_), None) => {}
            (Ok(_), None) => {
                if jws.len() <= 64 * 1024 {
                    panic!("a JWS whose header is not a JOSE header parsed");
                }
            }
            (Err(e), Some(_)) => {
                assert!(
                    jws.len() > 64 * 1024,
                    "a well-formed signed JWS was refused: {e}"
                );
            }
        }
        jws
    };
    let claimed = assertion::claimed_client(&jws);
    let mut form_body = tessera_proto::form::encode([
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            tessera_proto::client_auth::JWT_BEARER_ASSERTION_TYPE,
        ),
        ("client_assertion", jws.as_str()),
    ]);
    if mode & 2 != 0 {
        form_body.push_str("&client_id=");
        form_body.push_str(JWT_CLIENT);
    }
    let form = match tessera_proto::FormParams::parse(form_body.as_bytes()) {
        Ok(f) => f,
        Err(e) => panic!("an encoded form does not parse: {e}"),
    };
    match client_auth::extract(&HeaderMap::new(), &form) {
        Ok(Some(Presented::Assertion { jwt, id, method })) => {
            assert_eq!(jwt, jws);
            assert_eq!(Some(&(id, method)), claimed.as_ref());
        }
        Ok(other) => panic!("a client_assertion read as {other:?}"),
        Err(e) => {
            assert!(e.status.is_client_error());
            assert!(matches!(
                e.code.as_str(),
                "invalid_request" | "invalid_client"
            ));
            return;
        }
    }
    let s = server();
    let Some(client) = s.state.registry.client(JWT_CLIENT) else {
        panic!("the fuzzed server has no {JWT_CLIENT}");
    };
    let auds = [ISSUER, TOKEN_ENDPOINT, TOKEN_ENDPOINT];
    let result =
        s.rt.block_on(assertion::verify(&s.state, &client, &jws, &auds));
    match result {
        Ok(()) => check_accepted(&jws),
        Err(AssertionError::Store(e)) => panic!("the assertion check failed on the store: {e}"),
        Err(AssertionError::Invalid(_) | AssertionError::Unproven(_)) => {}
    }
});

/// What an accepted assertion must say (RFC 7523 §3).
fn check_accepted(jws: &str) {
    let Ok(p) = UnverifiedJws::parse(jws) else {
        panic!("an accepted assertion does not parse");
    };
    let Ok(claims) = p.claims::<Map<String, Value>>() else {
        panic!("an accepted assertion has no claims object");
    };
    let s = |n: &str| claims.get(n).and_then(Value::as_str);
    assert_eq!(s("iss"), Some(JWT_CLIENT));
    assert_eq!(s("sub"), Some(JWT_CLIENT));
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == ISSUER || a == TOKEN_ENDPOINT,
        Some(Value::Array(v)) => v
            .iter()
            .any(|a| a.as_str() == Some(ISSUER) || a.as_str() == Some(TOKEN_ENDPOINT)),
        _ => false,
    };
    assert!(
        aud_ok,
        "an accepted assertion does not name the server in aud"
    );
    assert!(claims.get("exp").and_then(Value::as_i64).is_some());
    let Some(jti) = s("jti") else {
        panic!("an accepted assertion has no jti");
    };
    let mut seen = ACCEPTED_JTI.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        seen.get_or_insert_with(HashSet::new).insert(jti.to_owned()),
        "the jti {jti:?} was accepted twice (replay)"
    );
}

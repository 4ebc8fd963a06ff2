//! The token endpoint, `POST /oauth2/token`, on a real server: the first line of the input is the
//! `Authorization` header (none when empty), the rest the form body.
//!
//! Holds: no panic; every answer is a token response (200, JSON, `Bearer`, `no-store`) or an RFC
//! 6749 §5.2 error with a 4xx status; a body form parsing refuses is `invalid_request` (400); a
//! body that parses round-trips through encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_fuzz::{TOKEN_ERRORS, assert_form_round_trip, assert_oauth_error, first_line, server};

// The server (a SQLite database, keys, clients) is made before fuzzing starts, so that no input is
// timed with it.
fuzz_target!(init: { server(); }, |data: &[u8]| {
    let (auth, body) = first_line(data);
    let parsed = tessera_proto::FormParams::parse(body);
    if let Ok(form) = &parsed {
        assert_form_round_trip(form);
    }
    let s = server();
    let a = s.post_form("/oauth2/token", (!auth.is_empty()).then_some(auth), body);
    if a.status.is_success() {
        assert_eq!(a.status, 200);
        let t: tessera_proto::TokenResponse = match serde_json::from_slice(&a.body) {
            Ok(t) => t,
            Err(e) => panic!("a 200 answer is not a token response: {e}"),
        };
        assert!(t.token_type.eq_ignore_ascii_case("bearer"));
        assert!(!t.access_token.is_empty());
        assert!(parsed.is_ok(), "a body that does not parse got a token");
        return;
    }
    assert_oauth_error(&a, &TOKEN_ERRORS);
    if parsed.is_err() {
        assert_eq!(
            a.status, 400,
            "an unparsable form body answered {}",
            a.status
        );
    }
});

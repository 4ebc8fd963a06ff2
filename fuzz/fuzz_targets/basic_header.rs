//! HTTP Basic client authentication (RFC 6749 §2.3.1): `tessera_proto::basic::decode` on the
//! input as a header value, and the server's reading of the credentials a request carries
//! (`client_auth::extract`).
//!
//! Holds: no panic; a header that decodes round-trips (`encode` of what it gave decodes to the
//! same id and secret) and gives a non-empty id; a header the server refuses is refused with
//! `invalid_request` and 400; a header that decodes is read by the server as those credentials.
#![no_main]

use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use tessera_proto::basic;
use tessera_server::oauth::client_auth::{self, Presented};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = basic::decode(text);
    if let Ok((id, secret)) = &decoded {
        assert!(!id.is_empty());
        assert_eq!(
            basic::decode(&basic::encode(id, secret)).as_ref(),
            Ok(&(id.clone(), secret.clone())),
            "Basic round-trip"
        );
    }
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    let form = tessera_proto::FormParams::default();
    match client_auth::extract(&headers, &form) {
        Ok(Some(Presented::Basic { id, secret })) => {
            assert_eq!(
                decoded,
                Ok((id, secret)),
                "the server read other credentials"
            );
        }
        Ok(other) => panic!("a lone Authorization header read as {other:?}"),
        Err(e) => {
            assert!(decoded.is_err() || value_not_text(data));
            assert_eq!(e.status, 400);
            assert_eq!(e.code.as_str(), "invalid_request");
        }
    }
});

/// Whether the header value is not visible ASCII (the server refuses it before decoding).
fn value_not_text(data: &[u8]) -> bool {
    !data.iter().all(|b| (0x20..0x7f).contains(b) || *b == b'\t')
}

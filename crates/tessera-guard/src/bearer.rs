//! Finding the access token in a request (RFC 6750 §2): the `Authorization: Bearer` header
//! (§2.1), and the places a token must not also be (§2.2 form body, §2.3 URI query).

use crate::error::RequestError;
use http::{HeaderMap, Uri, header};

/// The bearer token of the `Authorization` header.
///
/// - no header, or another scheme (`Basic`, …): `Ok(None)`, answered as "no token" (§3.1);
/// - several `Authorization` headers, `Bearer` without a token, or a token that is not a
///   `b64token` (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`): `invalid_request`.
///
/// The scheme is matched case-insensitively (RFC 9110 §11.1); one or more spaces may follow it.
pub(crate) fn from_headers(headers: &HeaderMap) -> Result<Option<&str>, RequestError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(RequestError::MultipleAuthorization);
    }
    let value = value.to_str().map_err(|_| RequestError::MalformedBearer)?;
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    let (scheme, rest) = match value.split_once(' ') {
        Some((s, r)) => (s, r),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_start_matches(' ');
    if is_b64token(token) {
        Ok(Some(token))
    } else {
        Err(RequestError::MalformedBearer)
    }
}

/// RFC 6750 §2.1 `b64token`.
pub(crate) fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// Whether the URI query carries an `access_token` parameter (§2.3).
pub(crate) fn query_has_token(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| form_has_token(q.as_bytes()))
}

/// Whether an `application/x-www-form-urlencoded` document has an `access_token` field (§2.2).
pub(crate) fn form_has_token(form: &[u8]) -> bool {
    form_urlencoded::parse(form).any(|(k, _)| k == "access_token")
}

/// Whether the request has a form body (§2.2: `Content-Type: application/x-www-form-urlencoded`,
/// any parameters), the only kind of body that can carry a token.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Whether the request has a form body to read, up to `limit` bytes, to look for a token: its
/// `Content-Length` is at most `limit`, or it has none (chunked, or HTTP/2 without
/// `content-length`: the reader stops past `limit`). A body announced longer is left unread.
pub(crate) fn form_body_to_read(headers: &HeaderMap, limit: usize) -> bool {
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    is_form(headers) && len.is_none_or(|n| n <= limit as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(value in proptest::collection::vec(any::<u8>(), 0..200), q in "\\PC{0,80}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&value) {
                h.insert(header::AUTHORIZATION, v.clone());
                h.insert(header::CONTENT_TYPE, v.clone());
                h.insert(header::CONTENT_LENGTH, v);
            }
            let _ = from_headers(&h);
            let _ = form_body_to_read(&h, 100);
            let _ = form_has_token(&value);
            if let Ok(uri) = format!("/p?{q}").parse::<Uri>() {
                let _ = query_has_token(&uri);
            }
        }

        #[test]
        fn any_b64token_is_found(token in "[A-Za-z0-9._~+/-]{1,64}={0,2}") {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
            prop_assert_eq!(from_headers(&h), Ok(Some(token.as_str())));
        }
    }

    fn auth(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn header_forms() {
        assert_eq!(from_headers(&HeaderMap::new()), Ok(None));
        assert_eq!(
            from_headers(&auth(&[b"Bearer abc.def-_~+/=="])),
            Ok(Some("abc.def-_~+/=="))
        );
        assert_eq!(from_headers(&auth(&[b"bearer   abc"])), Ok(Some("abc")));
        assert_eq!(from_headers(&auth(&[b"Basic YTpi"])), Ok(None));
        assert_eq!(
            from_headers(&auth(&[b"Bearer"])),
            Err(RequestError::MalformedBearer)
        );
        assert_eq!(
            from_headers(&auth(&[b"Bearer "])),
            Err(RequestError::MalformedBearer)
        );
        assert_eq!(
            from_headers(&auth(&[b"Bearer a b"])),
            Err(RequestError::MalformedBearer)
        );
        assert_eq!(
            from_headers(&auth(&[b"Bearer a,b"])),
            Err(RequestError::MalformedBearer)
        );
        assert_eq!(
            from_headers(&auth(&[b"Bearer =="])),
            Err(RequestError::MalformedBearer)
        );
        assert_eq!(
            from_headers(&auth(&[b"Bearer a=b"])),
            Err(RequestError::MalformedBearer)
        );
        assert_eq!(
            from_headers(&auth(&[b"Bearer \xff"])),
            Err(RequestError::MalformedBearer)
        );
        assert_eq!(
            from_headers(&auth(&[b"Bearer a", b"Bearer b"])),
            Err(RequestError::MultipleAuthorization)
        );
    }

    #[test]
    fn query_and_body() {
        assert!(query_has_token(&Uri::from_static("/x?a=1&access_token=t")));
        assert!(!query_has_token(&Uri::from_static("/x?a=access_token")));
        assert!(!query_has_token(&Uri::from_static("/x")));
        assert!(form_has_token(b"x=1&access_token=abc"));
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=utf-8"),
        );
        // No Content-Length (chunked, HTTP/2): read up to the limit.
        assert!(form_body_to_read(&h, 10));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(form_body_to_read(&h, 10));
        assert!(!form_body_to_read(&h, 9));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(!form_body_to_read(&h, 10));
        h.remove(header::CONTENT_LENGTH);
        assert!(!form_body_to_read(&h, 10));
        assert!(!is_form(&h));
    }
}

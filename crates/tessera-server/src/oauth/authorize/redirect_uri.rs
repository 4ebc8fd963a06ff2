//! Matching a requested redirect URI against the registered ones (RFC 6749 §3.1.2.3, RFC 9700
//! §4.1.3): exact string comparison, except that a loopback redirect of a native app
//! (`http://127.0.0.1:{port}/…` or `http://[::1]:{port}/…`) may use any port (RFC 8252 §7.3).

/// Splits a loopback IP redirect URI into host and the rest, leaving out the port.
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = if let Some(v6) = authority.strip_prefix("[::1]") {
        if !(v6.is_empty()
            || v6
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
        {
            return None;
        }
        "[::1]"
    } else {
        let (h, port) = authority.split_once(':').unwrap_or((authority, ""));
        if h != "127.0.0.1" || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        "127.0.0.1"
    };
    Some((host, tail))
}

/// Whether `requested` is acceptable for the registered URI `registered`.
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    match (loopback_parts(registered), loopback_parts(requested)) {
        (Some(r), Some(q)) => r == q,
        _ => false,
    }
}

/// Appends the response parameters to a redirect URI (keeping its own query, RFC 6749 §3.1.2).
pub fn with_params(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{}", ser.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_or_loopback_with_any_port() {
        assert!(matches("https://app.example/cb", "https://app.example/cb"));
        assert!(!matches(
            "https://app.example/cb",
            "https://app.example/cb/"
        ));
        assert!(!matches(
            "https://app.example/cb",
            "https://app.example/cb?x=1"
        ));
        assert!(!matches(
            "https://app.example:443/cb",
            "https://app.example:8443/cb"
        ));
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
        assert!(matches("http://127.0.0.1:8000/cb", "http://127.0.0.1:9/cb"));
        assert!(matches("http://[::1]/cb", "http://[::1]:4000/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:1/other"));
        assert!(!matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1.evil.example/cb"
        ));
        assert!(!matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:80@evil.example/cb"
        ));
        assert!(!matches("http://localhost/cb", "http://localhost:4000/cb"));
    }

    #[test]
    fn params_are_appended() {
        assert_eq!(
            with_params("https://a.example/cb", &[("code", "x y")]),
            "https://a.example/cb?code=x+y"
        );
        assert_eq!(
            with_params("https://a.example/cb?k=v", &[("state", "s")]),
            "https://a.example/cb?k=v&state=s"
        );
    }
}

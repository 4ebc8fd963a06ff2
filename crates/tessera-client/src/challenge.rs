//! The `WWW-Authenticate: Bearer …` challenge of a resource server (RFC 6750 §3, auth-param
//! syntax of RFC 9110 §11.2), read to decide whether a `401` means "get a new token".

/// The Bearer challenge of a `401`, as far as the retry decision needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BearerChallenge {
    /// The `error` auth-param (`invalid_token`, `insufficient_scope`, `invalid_request`), if any.
    pub error: Option<String>,
    /// The `error_description` auth-param, if any.
    pub error_description: Option<String>,
}

impl BearerChallenge {
    /// Finds the Bearer challenge among `WWW-Authenticate` header values; `None` when there is
    /// no Bearer challenge.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        for value in values {
            if let Some(c) = parse_one(value) {
                return Some(c);
            }
        }
        None
    }

    /// Whether a new token may fix the request (RFC 6750 §3.1): the error is `invalid_token`, or
    /// the challenge names no error (RFC 6750 §3.1: "the resource server SHOULD NOT include an
    /// error code" when the request lacked authentication).
    pub fn calls_for_new_token(&self) -> bool {
        match self.error.as_deref() {
            None => true,
            Some(e) => e == "invalid_token",
        }
    }
}

/// Parses one header value, which may hold several challenges.
fn parse_one(value: &str) -> Option<BearerChallenge> {
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return None;
        }
        let scheme_end = rest.find([' ', '\t', ',']).unwrap_or(rest.len());
        let (scheme, after) = rest.split_at(scheme_end);
        let (params, next) = read_params(after);
        if scheme.eq_ignore_ascii_case("bearer") {
            let mut c = BearerChallenge::default();
            for (k, v) in params {
                if k.eq_ignore_ascii_case("error") {
                    c.error = Some(v);
                } else if k.eq_ignore_ascii_case("error_description") {
                    c.error_description = Some(v);
                }
            }
            return Some(c);
        }
        rest = next;
    }
}

/// Reads `name=value` / `name="quoted"` pairs until the next challenge's scheme; returns them and
/// the rest of the header.
fn read_params(mut s: &str) -> (Vec<(String, String)>, &str) {
    let mut out = Vec::new();
    loop {
        let trimmed = s.trim_start_matches([' ', '\t', ',']);
        let name_end = trimmed.find(['=', ' ', '\t', ',']).unwrap_or(trimmed.len());
        let (name, after_name) = trimmed.split_at(name_end);
        let after_ws = after_name.trim_start_matches([' ', '\t']);
        if name.is_empty() || !after_ws.starts_with('=') {
            // Not a parameter: the next challenge's scheme (or the end).
            return (out, trimmed);
        }
        let value_part = after_ws[1..].trim_start_matches([' ', '\t']);
        if let Some(quoted) = value_part.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            out.push((name.to_owned(), value));
            s = &quoted[end.min(quoted.len())..];
        } else {
            let end = value_part
                .find([',', ' ', '\t'])
                .unwrap_or(value_part.len());
            out.push((name.to_owned(), value_part[..end].to_owned()));
            s = &value_part[end..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6750_examples() {
        let c = BearerChallenge::parse(["Bearer realm=\"example\""]).unwrap_or_default();
        assert_eq!(c.error, None);
        assert!(c.calls_for_new_token());
        let c = BearerChallenge::parse([
            "Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"",
        ])
        .unwrap_or_default();
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(
            c.error_description.as_deref(),
            Some("The access token expired")
        );
        assert!(c.calls_for_new_token());
        let c = BearerChallenge::parse(["Bearer error=insufficient_scope, scope=\"a b\""])
            .unwrap_or_default();
        assert!(!c.calls_for_new_token());
    }

    #[test]
    fn several_challenges() {
        let c = BearerChallenge::parse([
            "Basic realm=\"x\", Bearer error=\"invalid_request\", DPoP algs=\"ES256\"",
        ]);
        assert_eq!(c.and_then(|c| c.error).as_deref(), Some("invalid_request"));
        assert_eq!(BearerChallenge::parse(["Basic realm=\"x\""]), None);
        let c = BearerChallenge::parse(["Bearer"]).unwrap_or_default();
        assert!(c.calls_for_new_token());
        let c = BearerChallenge::parse(["Bearer error=\"a\\\"b\""]).unwrap_or_default();
        assert_eq!(c.error.as_deref(), Some("a\"b"));
    }
}

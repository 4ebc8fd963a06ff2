//! One token request and its retries: the access token request of each grant (RFC 6749 §4.3.2,
//! §4.4.2, §6; RFC 7523 §2.1), sent with `Accept: application/json`, and the response read as
//! RFC 6749 §5.1 (success) or §5.2 (error), telling apart every way it can go wrong.

use crate::auth::authenticate;
use crate::backoff::parse_retry_after;
use crate::credential::{Credential, LoadedGrant};
use crate::discovery::discover;
use crate::metrics as m;
use crate::{Endpoint, Error, LifetimePolicy, RetryPolicy, SecretString};
use http::header;
use reqwest::Url;
use secrecy::ExposeSecret;
use serde::Deserialize as _;
use std::time::{Duration, Instant, SystemTime};
use tessera_proto::{ErrorResponse, GrantType, TokenResponse};
use tokio::sync::OnceCell;
use tracing::Instrument as _;

/// Where a token's lifetime came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifetimeSource {
    /// The response's `expires_in` (RFC 6749 §5.1).
    ExpiresIn,
    /// The `exp` claim of the JWT access token, read unverified (RFC 9068 §2.2).
    JwtExp,
    /// The configured default lifetime (the response said nothing).
    Default,
    /// The configured maximum lifetime, which was lower than what the server said.
    Capped,
}

/// A token fresh from the token endpoint, with the whole response (for `tessera token get`).
/// `Debug` redacts the tokens and shows only the names of the raw response's members.
#[derive(Clone)]
pub struct FetchedToken {
    /// The token response (RFC 6749 §5.1). Its `Debug` redacts the tokens.
    pub response: TokenResponse,
    /// The response's JSON object as received, members the client does not know included
    /// (RFC 6749 §5.1 lets servers add their own). It holds the tokens: never log it.
    pub raw: serde_json::Map<String, serde_json::Value>,
    /// The lifetime the client gives the token.
    pub lifetime: Duration,
    /// Where that lifetime came from.
    pub lifetime_source: LifetimeSource,
    /// When the response was received.
    pub received_at: Instant,
    /// The token endpoint that answered.
    pub token_endpoint: Url,
    /// The grant that got it (`refresh_token` when a refresh token was used).
    pub grant_type: GrantType,
    /// Requests made, retries included.
    pub attempts: u32,
    /// The server's clock minus ours, in seconds, from its `Date` header.
    pub server_clock_offset: Option<i64>,
}

impl std::fmt::Debug for FetchedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchedToken")
            .field("response", &self.response)
            .field("raw_members", &self.raw.keys().collect::<Vec<_>>())
            .field("lifetime", &self.lifetime)
            .field("lifetime_source", &self.lifetime_source)
            .field("received_at", &self.received_at)
            .field("token_endpoint", &self.token_endpoint)
            .field("grant_type", &self.grant_type)
            .field("attempts", &self.attempts)
            .field("server_clock_offset", &self.server_clock_offset)
            .finish()
    }
}

/// Body parameters of a token request.
type Params = Vec<(&'static str, SecretString)>;

/// Makes token requests for one credential.
#[derive(Debug)]
pub(crate) struct Fetcher {
    pub(crate) credential: Credential,
    pub(crate) http: reqwest::Client,
    pub(crate) retry: RetryPolicy,
    pub(crate) lifetime: LifetimePolicy,
    pub(crate) timeout: Duration,
    token_endpoint: OnceCell<Url>,
}

/// The longest body read from a token endpoint: a token response is a few kilobytes.
const MAX_BODY: usize = 1024 * 1024;

impl Fetcher {
    pub(crate) fn new(
        credential: Credential,
        http: reqwest::Client,
        retry: RetryPolicy,
        lifetime: LifetimePolicy,
        timeout: Duration,
    ) -> Self {
        Self {
            credential,
            http,
            retry,
            lifetime,
            timeout,
            token_endpoint: OnceCell::new(),
        }
    }

    /// The token endpoint, discovered on first use for an issuer (a failure is not remembered).
    pub(crate) async fn token_endpoint(&self) -> Result<Url, Error> {
        match &self.credential.endpoint {
            Endpoint::TokenEndpoint(u) => Ok(u.clone()),
            Endpoint::Issuer(issuer) => self
                .token_endpoint
                .get_or_try_init(|| async {
                    let meta = discover(&self.http, issuer, self.timeout).await?;
                    let te = meta.token_endpoint.unwrap_or_default();
                    Url::parse(&te).map_err(|e| Error::Discovery {
                        issuer: issuer.to_string(),
                        detail: format!("token_endpoint {te:?} is not a URL: {e}"),
                    })
                })
                .await
                .cloned(),
        }
    }

    /// Gets a token: with `refresh_token` first when there is one (RFC 6749 §6), falling back to
    /// the credential's own grant when the server refuses it; each with retries.
    pub(crate) async fn fetch(
        &self,
        refresh_token: Option<SecretString>,
    ) -> Result<FetchedToken, Error> {
        if let Some(rt) = refresh_token {
            match self.with_retries(Some(&rt)).await {
                Ok(t) => return Ok(t),
                Err(e) if e.is_permanent() => {
                    tracing::info!(
                        client_id = %self.credential.client_id,
                        error = e.label(),
                        "refresh token refused; using the credential's grant"
                    );
                }
                Err(e) => return Err(e),
            }
        }
        self.with_retries(None).await
    }

    async fn with_retries(
        &self,
        refresh_token: Option<&SecretString>,
    ) -> Result<FetchedToken, Error> {
        let mut attempt = 1u32;
        loop {
            let result = match self.token_endpoint().await {
                Ok(endpoint) => self.attempt(&endpoint, refresh_token).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(mut t) => {
                    t.attempts = attempt;
                    return Ok(t);
                }
                Err(e) => {
                    m::fetch_error(&self.credential.client_id, e.label());
                    match self.retry.decide(&e, attempt) {
                        Some(delay) => {
                            m::retry(&self.credential.client_id, e.label());
                            tracing::warn!(
                                client_id = %self.credential.client_id,
                                attempt,
                                error = %e,
                                delay_ms = delay.as_millis() as u64,
                                "token request failed; retrying"
                            );
                            tokio::time::sleep(delay).await;
                            attempt += 1;
                        }
                        None if attempt > 1 => {
                            return Err(Error::Exhausted {
                                attempts: attempt,
                                last: Box::new(e),
                            });
                        }
                        None => return Err(e),
                    }
                }
            }
        }
    }

    /// The grant parameters of one request (assertions are signed anew each time).
    fn grant_params(
        &self,
        endpoint: &str,
        refresh_token: Option<&SecretString>,
    ) -> Result<(GrantType, Params), Error> {
        if let Some(rt) = refresh_token {
            return Ok((
                GrantType::RefreshToken,
                vec![
                    (
                        "grant_type",
                        SecretString::from(GrantType::RefreshToken.as_str()),
                    ),
                    ("refresh_token", rt.clone()),
                ],
            ));
        }
        let c = &self.credential;
        let gt = c.grant_type();
        let mut params = vec![("grant_type", SecretString::from(gt.as_str()))];
        match &c.grant {
            LoadedGrant::ClientCredentials => {}
            LoadedGrant::Password { username, password } => {
                params.push(("username", SecretString::from(username.as_str())));
                params.push(("password", password.clone()));
            }
            LoadedGrant::JwtBearerGiven(a) => params.push(("assertion", a.clone())),
            LoadedGrant::JwtBearerSigned(s) => {
                params.push(("assertion", s.sign(&c.client_id, endpoint)?));
            }
        }
        Ok((gt, params))
    }

    /// One token request, no retry.
    pub(crate) async fn attempt(
        &self,
        endpoint: &Url,
        refresh_token: Option<&SecretString>,
    ) -> Result<FetchedToken, Error> {
        let c = &self.credential;
        let url = endpoint.as_str();
        let (grant_type, mut params) = self.grant_params(url, refresh_token)?;
        let auth = authenticate(c, url)?;
        params.extend(auth.params);
        let scope = c.scopes.to_string();
        let mut body_pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (*k, v.expose_secret()))
            .collect();
        if !scope.is_empty() {
            body_pairs.push(("scope", &scope));
        }
        for a in &c.audiences {
            body_pairs.push(("audience", a));
        }
        for r in &c.resources {
            body_pairs.push(("resource", r));
        }
        for (k, v) in &c.extra {
            body_pairs.push((k, v));
        }
        let body = tessera_proto::form::encode(body_pairs);

        let mut req = self
            .http
            .post(endpoint.clone())
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .timeout(self.timeout)
            .body(body);
        if let Some(h) = auth.authorization {
            req = req.header(header::AUTHORIZATION, h);
        }
        let span = tracing::debug_span!(
            "token_request",
            client_id = %c.client_id,
            grant_type = grant_type.as_str(),
            auth_method = c.auth_method.as_str(),
            token_endpoint = %endpoint,
        );
        let started = Instant::now();
        let (status, headers, body) = async {
            let resp = req
                .send()
                .await
                .map_err(|e| Error::from_reqwest(url, self.timeout, &e))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = read_body(resp, url, self.timeout).await?;
            tracing::debug!(status, bytes = body.len(), "token endpoint answered");
            Ok::<_, Error>((status, headers, body))
        }
        .instrument(span)
        .await?;
        let received_at = Instant::now();
        m::request_seconds(&c.client_id, received_at - started);
        let server_clock_offset = headers
            .get(header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .map(|server| clock_offset(server, SystemTime::now()));
        let (response, raw) = classify(url, status, &headers, &body, server_clock_offset)?;
        let (lifetime, lifetime_source) = self
            .lifetime
            .lifetime(response.expires_in, &response.access_token);
        Ok(FetchedToken {
            response,
            raw,
            lifetime,
            lifetime_source,
            received_at,
            token_endpoint: endpoint.clone(),
            grant_type,
            attempts: 1,
            server_clock_offset,
        })
    }
}

fn clock_offset(server: SystemTime, ours: SystemTime) -> i64 {
    match server.duration_since(ours) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(behind) => -(behind.duration().as_secs() as i64),
    }
}

async fn read_body(
    mut resp: reqwest::Response,
    url: &str,
    timeout: Duration,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(Error::NotOAuth {
                        url: url.to_owned(),
                        status: resp.status().as_u16(),
                        content_type: None,
                        snippet: format!("the body is larger than {MAX_BODY} bytes"),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(Error::from_reqwest(url, timeout, &e)),
        }
    }
}

/// The start of a body, printable, for error messages; withheld when it may carry a token or a
/// secret (a 2xx answer the client could not read may still hold an `access_token`).
fn snippet(body: &[u8]) -> String {
    let head = &body[..body.len().min(200)];
    let lower = String::from_utf8_lossy(body).to_ascii_lowercase();
    if [
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "assertion",
        "password",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return format!(
            "{} bytes, not shown: the body may carry a token or a secret",
            body.len()
        );
    }
    let text = String::from_utf8_lossy(head);
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        "empty body".to_owned()
    } else {
        collapsed
    }
}

/// Reads a token endpoint response: RFC 6749 §5.1 on success (the response and its JSON object
/// as received), §5.2 on error.
pub(crate) fn classify(
    url: &str,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
    server_clock_offset: Option<i64>,
) -> Result<(TokenResponse, serde_json::Map<String, serde_json::Value>), Error> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_json = content_type.as_deref().is_some_and(|ct| {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    });
    let looks_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    let not_oauth = || Error::NotOAuth {
        url: url.to_owned(),
        status,
        content_type: content_type.clone(),
        snippet: snippet(body),
    };
    let oauth_error = || -> Option<ErrorResponse> {
        if is_json || looks_json {
            serde_json::from_slice::<ErrorResponse>(body).ok()
        } else {
            None
        }
    };

    if (200..300).contains(&status) {
        if !is_json && !looks_json {
            return Err(not_oauth());
        }
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| Error::MalformedResponse {
                url: url.to_owned(),
                status,
                detail: format!("not valid JSON ({e}): {}", snippet(body)),
            })?;
        if value.get("access_token").is_none() {
            if let Ok(err) = serde_json::from_value::<ErrorResponse>(value.clone()) {
                // A 200 carrying an error body: some servers do this.
                return Err(Error::OAuth {
                    url: url.to_owned(),
                    status,
                    error: err,
                    server_clock_offset,
                });
            }
            return Err(Error::MalformedResponse {
                url: url.to_owned(),
                status,
                detail: "no access_token member (RFC 6749 §5.1)".into(),
            });
        }
        let resp = TokenResponse::deserialize(&value).map_err(|e| Error::MalformedResponse {
            url: url.to_owned(),
            status,
            detail: e.to_string(),
        })?;
        // An object: it has an access_token member.
        let serde_json::Value::Object(raw) = value else {
            return Err(Error::MalformedResponse {
                url: url.to_owned(),
                status,
                detail: "the token response is not a JSON object (RFC 6749 §5.1)".into(),
            });
        };
        if resp.access_token.is_empty() {
            return Err(Error::MalformedResponse {
                url: url.to_owned(),
                status,
                detail: "the access_token is empty".into(),
            });
        }
        // RFC 6749 §5.1: token_type is case-insensitive.
        if !resp.token_type.eq_ignore_ascii_case("bearer") {
            return Err(Error::UnsupportedTokenType(resp.token_type));
        }
        return Ok((resp, raw));
    }
    if status == 429 || status == 503 {
        let retry_after = headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        return Err(Error::RateLimited {
            url: url.to_owned(),
            status,
            retry_after,
            error: oauth_error(),
        });
    }
    if status >= 500 {
        return Err(Error::Server {
            url: url.to_owned(),
            status,
            error: oauth_error(),
        });
    }
    match oauth_error() {
        Some(error) => Err(Error::OAuth {
            url: url.to_owned(),
            status,
            error,
            server_clock_offset,
        }),
        None if is_json || looks_json => Err(Error::MalformedResponse {
            url: url.to_owned(),
            status,
            detail: format!("an error without an RFC 6749 §5.2 body: {}", snippet(body)),
        }),
        None => Err(not_oauth()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn json() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        h
    }

    #[test]
    fn classification() {
        let ok = classify(
            "u",
            200,
            &json(),
            br#"{"access_token":"a","token_type":"bearer","x_vendor":{"tier":"gold"}}"#,
            None,
        );
        // The raw object keeps the members TokenResponse does not know.
        assert!(
            ok.as_ref()
                .is_ok_and(|(r, raw)| r.access_token == "a" && raw["x_vendor"]["tier"] == "gold"),
            "{ok:?}"
        );
        let mut html = HeaderMap::new();
        html.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        assert!(matches!(
            classify("u", 200, &html, b"<html>login</html>", None),
            Err(Error::NotOAuth { .. })
        ));
        assert!(matches!(
            classify("u", 404, &html, b"<html>nope</html>", None),
            Err(Error::NotOAuth { status: 404, .. })
        ));
        assert!(matches!(
            classify("u", 200, &json(), b"{\"access_token\":", None),
            Err(Error::MalformedResponse { .. })
        ));
        assert!(matches!(
            classify(
                "u",
                200,
                &json(),
                br#"{"access_token":"a","token_type":"DPoP"}"#,
                None
            ),
            Err(Error::UnsupportedTokenType(_))
        ));
        assert!(matches!(
            classify(
                "u",
                401,
                &json(),
                br#"{"error":"invalid_client","error_description":"nope"}"#,
                None
            ),
            Err(Error::OAuth { status: 401, .. })
        ));
        assert!(matches!(
            classify("u", 502, &html, b"bad gateway", None),
            Err(Error::Server { status: 502, .. })
        ));
    }
}

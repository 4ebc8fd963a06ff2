//! `tessera token validate`: checks a credential before it is saved, like the Validate button of
//! integration products. It performs the grant once (no retries) and reports success with token
//! type, lifetime and granted scopes, or a precise diagnosis: endpoint unreachable, TLS failure,
//! not an OAuth endpoint, wrong authentication method, Basic encoding, `invalid_client`,
//! `invalid_scope`, clock skew in an assertion, and so on. To tell a wrong authentication method
//! from a wrong secret, it tries the other methods the same secret allows.

use super::CredentialArgs;
use crate::cli::terminal::outln;
use clap::Args;
use serde::Serialize;
use std::time::Duration;
use tessera_client::{
    BasicEncoding, ClientAuthMethod, Credential, Endpoint, Error, ErrorCode, GrantType,
    LifetimeSource, RetryPolicy, TokenCache, TokenSource, discover,
};
use tessera_jose::UnverifiedJws;

/// Arguments of `tessera token validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    credential: CredentialArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// A clock difference past this is reported as skew (assertion windows are usually ±30–60 s).
const SKEW_LIMIT_S: i64 = 30;

/// What validation found.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// Whether a token was obtained.
    pub(crate) ok: bool,
    /// A stable code for the outcome (`ok`, `unreachable`, `tls`, `not_oauth_endpoint`,
    /// `wrong_auth_method`, `basic_encoding`, `invalid_client`, `clock_skew`, `invalid_scope`…).
    pub(crate) diagnosis: &'static str,
    /// One sentence.
    pub(crate) summary: String,
    /// What the server said, and other facts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) details: Vec<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) hints: Vec<String>,
    /// On success: the token's type, lifetime, scopes and format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<TokenInfo>,
}

/// The token a successful validation got (never the token itself).
#[derive(Debug, Serialize)]
pub(crate) struct TokenInfo {
    token_type: String,
    lifetime_s: u64,
    lifetime_from: &'static str,
    scope: Option<String>,
    format: String,
    refresh_token: bool,
    token_endpoint: String,
}

impl Report {
    fn fail(diagnosis: &'static str, summary: impl Into<String>) -> Self {
        Self {
            ok: false,
            diagnosis,
            summary: summary.into(),
            details: Vec::new(),
            hints: Vec::new(),
            token: None,
        }
    }

    fn detail(mut self, d: impl Into<String>) -> Self {
        self.details.push(d.into());
        self
    }

    fn hint(mut self, h: impl Into<String>) -> Self {
        self.hints.push(h.into());
        self
    }

    /// Prints the report for a person.
    pub(crate) fn print_human(&self) {
        let mark = if self.ok { "OK" } else { "FAILED" };
        outln!("{mark} [{}] {}", self.diagnosis, self.summary);
        if let Some(t) = &self.token {
            outln!("  token type:     {}", t.token_type);
            outln!(
                "  lifetime:       {} s (from {})",
                t.lifetime_s,
                t.lifetime_from
            );
            outln!(
                "  granted scopes: {}",
                t.scope.as_deref().unwrap_or("(not stated by the server)")
            );
            outln!("  token format:   {}", t.format);
            outln!(
                "  refresh token:  {}",
                if t.refresh_token { "yes" } else { "no" }
            );
            outln!("  token endpoint: {}", t.token_endpoint);
        }
        for d in &self.details {
            outln!("  - {d}");
        }
        for h in &self.hints {
            outln!("  hint: {h}");
        }
    }
}

fn source(credential: Credential, timeout: Duration) -> Result<TokenSource, Error> {
    TokenSource::builder(credential)
        .cache(TokenCache::new())
        .retry(RetryPolicy::none())
        .timeout(timeout)
        .build()
}

/// Whether the credential works with another authentication method or Basic encoding.
async fn works_with(credential: &Credential, timeout: Duration) -> bool {
    match source(credential.clone(), timeout) {
        Ok(s) => s.fetch_uncached().await.is_ok(),
        Err(_) => false,
    }
}

/// Where the client's lifetime of a token came from, in words.
pub(crate) fn lifetime_from(s: LifetimeSource) -> &'static str {
    match s {
        LifetimeSource::ExpiresIn => "expires_in",
        LifetimeSource::JwtExp => "the JWT's exp claim",
        LifetimeSource::Default => "the default: the server sent no expires_in",
        LifetimeSource::Capped => "the configured maximum",
    }
}

fn token_format(token: &str) -> String {
    match UnverifiedJws::parse(token) {
        Ok(jws) => {
            let typ = jws.header.typ.clone().unwrap_or_else(|| "JWT".into());
            format!(
                "JWT ({typ}, {}; signature not checked here)",
                jws.header.alg
            )
        }
        Err(_) => "opaque (check it by introspection)".into(),
    }
}

fn uses_assertion(c: &Credential) -> bool {
    matches!(
        c.auth_method(),
        ClientAuthMethod::ClientSecretJwt | ClientAuthMethod::PrivateKeyJwt
    ) || c.grant_type() == GrantType::JwtBearer
}

fn skew_text(offset: i64) -> String {
    if offset > 0 {
        format!("the server's clock is {offset} s ahead of this machine's")
    } else {
        format!("the server's clock is {} s behind this machine's", -offset)
    }
}

/// The words of an error description that speak of an assertion's time claims or the clock;
/// `not yet valid` is three words in a row.
const TIME_WORDS: [&str; 7] = [
    "iat",
    "exp",
    "nbf",
    "clock",
    "future",
    "expired",
    "timestamp",
];

/// Whether `description` speaks of time claims or the clock, in whole words (`iat`, `exp`,
/// `nbf`, `clock`, `future`, `expired`, `timestamp`, `not yet valid`): "expected" and
/// "associated" do not count.
fn mentions_time(description: &str) -> bool {
    let lower = description.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().any(|w| TIME_WORDS.contains(w))
        || words.windows(3).any(|w| w == ["not", "yet", "valid"])
}

/// Validates `credential`: one grant, then a diagnosis.
pub(crate) async fn validate(credential: Credential, timeout: Duration) -> Report {
    let mut notes = Vec::new();
    // Discovery first, for an issuer: its metadata says which methods and grants it supports.
    let mut metadata = None;
    if let Endpoint::Issuer(issuer) = credential.endpoint() {
        let http = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(h) => h,
            Err(e) => return Report::fail("config", format!("cannot build an HTTP client: {e}")),
        };
        match discover(&http, issuer, timeout).await {
            Ok(m) => metadata = Some(m),
            Err(e) => return diagnose(&credential, e, None, timeout).await,
        }
    }
    if let Some(m) = &metadata {
        let method = credential.auth_method().as_str();
        if !m.token_endpoint_auth_methods_supported.is_empty()
            && !m
                .token_endpoint_auth_methods_supported
                .iter()
                .any(|x| x == method)
        {
            notes.push(format!(
                "the server's metadata does not list {method} among token_endpoint_auth_methods_supported ({})",
                m.token_endpoint_auth_methods_supported.join(", ")
            ));
        }
        let grant = credential.grant_type().as_str();
        if !m.grant_types_supported.is_empty()
            && !m.grant_types_supported.iter().any(|g| g == grant)
        {
            notes.push(format!(
                "the server's metadata does not list {grant} among grant_types_supported ({})",
                m.grant_types_supported.join(", ")
            ));
        }
    }
    let s = match source(credential.clone(), timeout) {
        Ok(s) => s,
        Err(e) => return Report::fail("config", e.to_string()),
    };
    match s.fetch_uncached().await {
        Ok(f) => {
            let requested = credential.scopes().clone();
            let mut report = Report {
                ok: true,
                diagnosis: "ok",
                summary: format!(
                    "{} got a token with {} ({})",
                    credential.client_id(),
                    credential.grant_type(),
                    credential.auth_method()
                ),
                details: notes,
                hints: Vec::new(),
                token: Some(TokenInfo {
                    token_type: f.response.token_type.clone(),
                    lifetime_s: f.lifetime.as_secs(),
                    lifetime_from: lifetime_from(f.lifetime_source),
                    scope: f.response.scope.clone(),
                    format: token_format(&f.response.access_token),
                    refresh_token: f.response.refresh_token.is_some(),
                    token_endpoint: f.token_endpoint.to_string(),
                }),
            };
            if let Some(granted) = f
                .response
                .scope
                .as_deref()
                .and_then(|g| tessera_client::ScopeSet::parse(g).ok())
            {
                let missing: Vec<_> = requested.difference(&granted).collect();
                if !missing.is_empty() {
                    report.details.push(format!(
                        "the server granted fewer scopes than requested: missing {}",
                        missing.join(" ")
                    ));
                }
            }
            if let Some(o) = f.server_clock_offset
                && o.abs() > SKEW_LIMIT_S
            {
                report.details.push(format!(
                    "{}: assertions and token expiry checks may fail",
                    skew_text(o)
                ));
            }
            report
        }
        Err(e) => {
            let mut r = diagnose(&credential, e, metadata.as_ref(), timeout).await;
            r.details.extend(notes);
            r
        }
    }
}

/// Turns an error into a diagnosis, trying alternatives where they tell causes apart.
async fn diagnose(
    credential: &Credential,
    e: Error,
    metadata: Option<&tessera_proto::discovery::ServerMetadata>,
    timeout: Duration,
) -> Report {
    let said = e.to_string();
    match e.cause() {
        Error::Unreachable { url, detail } => Report::fail(
            "unreachable",
            format!("the endpoint {url} is unreachable"),
        )
        .detail(detail.clone())
        .hint("check the URL, the host name, the port, and that the server is running and reachable from here"),
        Error::Tls { url, detail } => Report::fail("tls", format!("TLS failure talking to {url}"))
            .detail(detail.clone())
            .hint("the certificate is not trusted, expired, or not for this host name; or the server does not speak TLS on this port"),
        Error::Timeout { url, timeout } => Report::fail(
            "timeout",
            format!("{url} did not answer within {} s", timeout.as_secs()),
        )
        .hint("the server is overloaded or a firewall drops the traffic; try --timeout"),
        Error::Transport { url, detail } => {
            Report::fail("transport", format!("the connection to {url} failed")).detail(detail.clone())
        }
        Error::NotOAuth { status, content_type, snippet, url } => {
            let mut r = Report::fail(
                "not_oauth_endpoint",
                format!("{url} is not an OAuth 2.0 token endpoint (HTTP {status}, {})", content_type.as_deref().unwrap_or("no content type")),
            )
            .detail(format!("it answered: {snippet}"));
            if (300..400).contains(status) {
                r = r.hint("it redirects (to a login page?): token endpoints answer directly");
            }
            if matches!(credential.endpoint(), Endpoint::TokenEndpoint(_)) {
                r = r.hint("check the path (often /oauth2/token or /token), or give --issuer to discover it");
            }
            r
        }
        Error::MalformedResponse { url, detail, .. } => Report::fail(
            "malformed_response",
            format!("{url} answered, but not with a valid token response"),
        )
        .detail(detail.clone()),
        Error::UnsupportedTokenType(t) => Report::fail(
            "unsupported_token_type",
            format!("the server issued a {t} token; only Bearer tokens are supported"),
        ),
        Error::Discovery { issuer, detail } => Report::fail(
            "discovery",
            format!("cannot discover the token endpoint of {issuer}"),
        )
        .detail(detail.clone())
        .hint("check the issuer URL, or give --token-endpoint directly"),
        Error::RateLimited { retry_after, .. } => {
            let mut r = Report::fail("rate_limited", "the server is rate limiting or unavailable").detail(said);
            if let Some(d) = retry_after {
                r = r.hint(format!("it asks to retry after {} s", d.as_secs()));
            }
            r
        }
        Error::Server { .. } => Report::fail("server_error", "the server failed").detail(said),
        Error::Config(_) | Error::Assertion(_) => Report::fail("config", said),
        Error::OAuth { error, server_clock_offset, .. } => {
            let description = error.error_description.clone().unwrap_or_default();
            let base = |code: &'static str, summary: String| {
                Report::fail(code, summary).detail(format!("the server said: {error}"))
            };
            let skew = server_clock_offset.filter(|o| o.abs() > SKEW_LIMIT_S);
            let desc_lower = description.to_ascii_lowercase();
            let mentions_time = mentions_time(&description);
            match &error.error {
                ErrorCode::InvalidClient | ErrorCode::InvalidRequest
                    if error.error == ErrorCode::InvalidClient
                        || desc_lower.contains("authorization header")
                        || desc_lower.contains("encoded") =>
                {
                    if uses_assertion(credential) && (skew.is_some() || mentions_time) {
                        let mut r = base("clock_skew", "the server refused the assertion: its time claims are out of the server's window".into());
                        if let Some(o) = skew {
                            r = r.detail(skew_text(o));
                        }
                        return r.hint("synchronise this machine's clock (NTP); or lower/raise --assertion-lifetime");
                    }
                    // Tell a wrong method or encoding from a wrong secret.
                    let method = credential.auth_method();
                    let mut alternatives = Vec::new();
                    match method {
                        ClientAuthMethod::ClientSecretBasic => {
                            alternatives.push((credential.with_auth_method(ClientAuthMethod::ClientSecretPost), "wrong_auth_method", "client_secret_post", "--auth-method client_secret_post"));
                            alternatives.push((Ok(credential.with_basic_encoding(BasicEncoding::Raw)), "basic_encoding", "client_secret_basic with the id and secret NOT form-urlencoded", "--basic-raw (the server does not decode Basic credentials as RFC 6749 §2.3.1 says)"));
                            alternatives.push((credential.with_auth_method(ClientAuthMethod::ClientSecretJwt), "wrong_auth_method", "client_secret_jwt", "--auth-method client_secret_jwt"));
                        }
                        ClientAuthMethod::ClientSecretPost => {
                            alternatives.push((credential.with_auth_method(ClientAuthMethod::ClientSecretBasic), "wrong_auth_method", "client_secret_basic", "--auth-method client_secret_basic"));
                            alternatives.push((credential.with_auth_method(ClientAuthMethod::ClientSecretJwt), "wrong_auth_method", "client_secret_jwt", "--auth-method client_secret_jwt"));
                        }
                        ClientAuthMethod::ClientSecretJwt => {
                            alternatives.push((credential.with_auth_method(ClientAuthMethod::ClientSecretBasic), "wrong_auth_method", "client_secret_basic", "--auth-method client_secret_basic"));
                            alternatives.push((credential.with_auth_method(ClientAuthMethod::ClientSecretPost), "wrong_auth_method", "client_secret_post", "--auth-method client_secret_post"));
                        }
                        _ => {}
                    }
                    for (alt, code, what, flag) in alternatives {
                        if let Ok(alt) = alt
                            && works_with(&alt, timeout).await
                        {
                            return base(code, format!("wrong authentication method: the server accepts this credential with {what}, not {method}"))
                                .hint(format!("use {flag}"));
                        }
                    }
                    let mut r = base("invalid_client", format!("client authentication failed for {}", credential.client_id()));
                    if let Some(m) = metadata
                        && !m.token_endpoint_auth_methods_supported.is_empty()
                        && !m.token_endpoint_auth_methods_supported.iter().any(|x| x == method.as_str())
                    {
                        return base("wrong_auth_method", format!("the server does not support {method}"))
                            .detail(format!("it supports: {}", m.token_endpoint_auth_methods_supported.join(", ")));
                    }
                    r = r.hint("the client id or secret (or key) is wrong, the client is disabled, or it is registered for another authentication method");
                    if error.error == ErrorCode::InvalidRequest {
                        r.diagnosis = "invalid_request";
                    }
                    r
                }
                ErrorCode::InvalidScope => base(
                    "invalid_scope",
                    format!("the server refused the scopes requested ({})", credential.scopes()),
                )
                .hint("request only scopes the client is registered for (--scope)"),
                ErrorCode::InvalidGrant => {
                    if uses_assertion(credential) && (skew.is_some() || mentions_time) {
                        let mut r = base("clock_skew", "the server refused the grant assertion: its time claims are out of the server's window".into());
                        if let Some(o) = skew {
                            r = r.detail(skew_text(o));
                        }
                        return r.hint("synchronise this machine's clock (NTP)");
                    }
                    let what = match credential.grant_type() {
                        GrantType::Password => "the user name or password is wrong",
                        GrantType::JwtBearer => "the grant assertion is invalid, expired or not trusted",
                        _ => "the grant is invalid",
                    };
                    base("invalid_grant", format!("the server refused the grant: {what}"))
                }
                ErrorCode::UnauthorizedClient => base(
                    "unauthorized_client",
                    format!("the client may not use the {} grant", credential.grant_type()),
                )
                .hint("enable the grant for this client on the server"),
                ErrorCode::UnsupportedGrantType => base(
                    "unsupported_grant_type",
                    format!("the server does not support the {} grant", credential.grant_type()),
                ),
                ErrorCode::InvalidTarget => base("invalid_target", "the server refused the resource or audience requested".into())
                    .hint("check --resource / --audience"),
                ErrorCode::InvalidRequest => base("invalid_request", "the server found the request malformed".into()),
                _ => base("oauth_error", format!("the server refused the request with {}", error.error)),
            }
        }
        _ => Report::fail("other", said),
    }
}

pub(crate) async fn run(args: ValidateArgs) -> anyhow::Result<()> {
    let credential = args.credential.credential()?;
    let report = validate(credential, args.credential.timeout()).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print_human();
    }
    if report.ok {
        Ok(())
    } else {
        anyhow::bail!("the credential does not work ({})", report.diagnosis)
    }
}

#[cfg(test)]
mod tests {
    use super::mentions_time;

    #[test]
    fn time_claims_are_matched_as_whole_words() {
        for yes in [
            "iat is in the future",
            "the \"exp\" claim is in the past",
            "JWT expired",
            "assertion not yet valid",
            "Token is not yet   valid (nbf)",
            "exp/iat window too long",
            "clock skew too large",
        ] {
            assert!(mentions_time(yes), "{yes}");
        }
        for no in [
            "no key associated with the expected kid",
            "signature verification failed",
            "unexpected client_id",
            "the expiration of the experiment",
            "invalid_client",
            "invalid issuer (iss)",
            "",
        ] {
            assert!(!mentions_time(no), "{no}");
        }
    }
}

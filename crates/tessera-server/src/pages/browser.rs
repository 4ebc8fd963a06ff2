//! The browser on the other side of the pages: its cookie, its signed-in user and its CSRF
//! token.
//!
//! One cookie carries 256 random bits. The server keeps sessions in the `user_sessions` table
//! under the keyed hash of that value, so a stolen database holds no usable session. The cookie
//! is `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when the issuer is `https`. A browser
//! without it gets a fresh one on its first page, which anchors the CSRF token of that page's
//! form: the token is an HMAC of the cookie value under the server's pepper (the signed
//! double-submit pattern), so a form posted from another site, which cannot read the cookie,
//! cannot carry a matching token. Signing in replaces the cookie value (no session fixation).

use crate::crypto::{ct_eq, random_token};
use crate::model::now;
use crate::state::AppState;
use crate::store::StoreError;
use crate::users::User;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A signed-in user and when they authenticated.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user (enabled).
    pub user: User,
    /// When they authenticated (OpenID Connect `auth_time`).
    pub auth_time: i64,
}

/// The requesting browser.
pub struct Browser {
    cookie: String,
    set_cookie: bool,
    max_age: Option<u64>,
    /// The signed-in user, if any.
    pub signed_in: Option<SignedIn>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("signed_in", &self.signed_in.as_ref().map(|s| &s.user.id))
            .finish_non_exhaustive()
    }
}

/// Why the browser's state could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The random source failed.
    #[error("random source failed")]
    Random,
}

fn well_formed(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The value of the cookie `name` in the request, if well-formed.
pub(crate) fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && well_formed(v))
        .map(|(_, v)| v.to_owned())
}

impl Browser {
    /// Reads the cookie and the session behind it (ignored when expired, or the user is gone
    /// or disabled).
    pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Self, BrowserError> {
        let name = &state.config.sessions.cookie_name;
        let Some(cookie) = read_cookie(headers, name) else {
            return Ok(Self {
                cookie: random_token("").map_err(|_| BrowserError::Random)?,
                set_cookie: true,
                max_age: None,
                signed_in: None,
            });
        };
        let t = now();
        let signed_in = match state
            .store
            .get_session(&session_hash(state, &cookie), t)
            .await?
        {
            Some(s) => match state.store.get_user(&s.user_id).await? {
                Some(user) if user.enabled => Some(SignedIn {
                    user,
                    auth_time: s.auth_time,
                }),
                _ => None,
            },
            None => None,
        };
        Ok(Self {
            cookie,
            set_cookie: false,
            max_age: None,
            signed_in,
        })
    }

    /// The CSRF token of this browser's forms.
    pub fn csrf(&self, state: &AppState) -> String {
        URL_SAFE_NO_PAD.encode(state.keys.hash(&format!("csrf:{}", self.cookie)))
    }

    /// Whether `presented` is this browser's CSRF token (a cookie just made by this request
    /// never matches: the form it protects was not served to it).
    pub fn csrf_ok(&self, state: &AppState, presented: Option<&str>) -> bool {
        match presented {
            Some(p) if !self.set_cookie => ct_eq(self.csrf(state).as_bytes(), p.as_bytes()),
            _ => false,
        }
    }

    /// Signs `user` in: a new cookie value and a session row.
    pub async fn sign_in(&mut self, state: &AppState, user: User) -> Result<(), BrowserError> {
        if let Err(e) = state
            .store
            .delete_session(&session_hash(state, &self.cookie))
            .await
        {
            tracing::warn!(error = %e, "could not end the previous session");
        }
        let t = now();
        let lifetime = state.config.sessions.lifetime_secs;
        self.cookie = random_token("").map_err(|_| BrowserError::Random)?;
        state
            .store
            .insert_session(
                &session_hash(state, &self.cookie),
                &user.id,
                t,
                t + lifetime as i64,
            )
            .await?;
        self.set_cookie = true;
        self.max_age = Some(lifetime);
        self.signed_in = Some(SignedIn { user, auth_time: t });
        Ok(())
    }

    /// Signs out: the session row goes, and the cookie gets a new value.
    pub async fn sign_out(&mut self, state: &AppState) -> Result<(), BrowserError> {
        state
            .store
            .delete_session(&session_hash(state, &self.cookie))
            .await?;
        self.cookie = random_token("").map_err(|_| BrowserError::Random)?;
        self.set_cookie = true;
        self.max_age = None;
        self.signed_in = None;
        Ok(())
    }

    /// Adds `Set-Cookie` to `resp` when the cookie is new or changed.
    pub fn finish(&self, state: &AppState, mut resp: Response) -> Response {
        if !self.set_cookie {
            return resp;
        }
        let mut c = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax",
            state.config.sessions.cookie_name, self.cookie
        );
        if let Some(age) = self.max_age {
            c.push_str(&format!("; Max-Age={age}"));
        }
        if state.issuer.starts_with("https://") {
            c.push_str("; Secure");
        }
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        resp
    }
}

/// The stored form of a session cookie value.
fn session_hash(state: &AppState, cookie: &str) -> Vec<u8> {
    state.keys.hash(&format!("session:{cookie}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_well_formed_cookies() {
        let mut h = HeaderMap::new();
        let v = "a".repeat(43);
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("x=1; tessera_session={v}; y=2"))
                .unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(read_cookie(&h, "tessera_session"), Some(v));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("tessera_session=short"),
        );
        assert_eq!(read_cookie(&h, "tessera_session"), None);
    }
}

//! `GET /login` and `POST /login`: the sign-in form. Passwords are checked with argon2id on a
//! blocking thread; unknown users cost the same; failures are limited per username and per
//! address and audited.

use super::browser::Browser;
use super::form::{field, read, unreadable_query};
use super::render::{self, chrome};
use super::templates::LoginPage;
use crate::model::{AuditEvent, now};
use crate::net::RemoteAddr;
use crate::state::{AppState, SharedState};
use crate::users::{Username, password};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_proto::FormParams;

/// Whether `path` is a path on this server (never another site: no `//host`, no scheme).
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 8192
        && !path.chars().any(char::is_control)
}

/// The client named by a return path to the authorization endpoint, for "to continue to …".
fn client_name_of(state: &AppState, return_to: &str) -> Option<String> {
    let query = return_to.strip_prefix("/oauth2/authorize?")?;
    let form = FormParams::parse(query.as_bytes()).ok()?;
    let id = form.get("client_id").ok()??;
    state.registry.client(id).map(|c| c.client.name.clone())
}

/// The `/login` address that comes back to `return_to`.
pub fn login_url(return_to: &str) -> String {
    format!(
        "/login?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", return_to)
            .finish()
    )
}

fn form_page(
    state: &AppState,
    browser: &Browser,
    status: StatusCode,
    return_to: &str,
    username: &str,
    error: Option<String>,
) -> Response {
    let t = LoginPage {
        chrome: chrome(state),
        title: "Sign in",
        client_name: client_name_of(state, return_to),
        error,
        csrf: browser.csrf(state),
        return_to: return_to.to_owned(),
        username: username.to_owned(),
    };
    browser.finish(state, render::page(state, status, &t))
}

/// `GET /login`.
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = match FormParams::parse(raw.unwrap_or_default().as_bytes()) {
        Ok(q) => q,
        Err(e) => return unreadable_query(&state, &e),
    };
    let browser = match Browser::load(&state, &headers).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the session");
            return render::unavailable(&state);
        }
    };
    let return_to = field(&q, "return_to")
        .filter(|r| is_local_path(r))
        .unwrap_or_default();
    form_page(&state, &browser, StatusCode::OK, return_to, "", None)
}

/// A sign-in form's post: its fields, the browser's session, and where to go once signed in (its
/// `return_to` when that is a path on this server, else empty); otherwise the page to answer with.
pub(super) async fn read_sign_in_post(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(FormParams, Browser, String), Response> {
    let form = read(state, headers, body).await?;
    let browser = match Browser::load(state, headers).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the session");
            return Err(render::unavailable(state));
        }
    };
    let return_to = field(&form, "return_to")
        .filter(|r| is_local_path(r))
        .unwrap_or("")
        .to_owned();
    Ok((form, browser, return_to))
}

/// `POST /login`.
pub async fn submit(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (form, browser, return_to) = match read_sign_in_post(&state, &headers, body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let typed = field(&form, "username").unwrap_or("").trim().to_owned();
    if !browser.csrf_ok(&state, field(&form, "csrf")) {
        return form_page(
            &state,
            &browser,
            StatusCode::BAD_REQUEST,
            &return_to,
            &typed,
            Some("This form had expired. Please sign in again.".into()),
        );
    }
    let pw = field(&form, "password").unwrap_or("");
    let address = remote.to_string();
    let key = typed.to_lowercase();
    if let Some(wait) = state.guesses.login_blocked(&key, remote) {
        return too_many(&state, &browser, wait);
    }
    let user = match Username::parse(&typed) {
        Ok(name) => match state.store.get_user_by_username(name.as_str()).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the user");
                return render::unavailable(&state);
            }
        },
        Err(_) => None,
    };
    let usable = user.as_ref().filter(|u| u.enabled);
    let ok = password::verify(pw, usable.and_then(|u| u.password_hash.as_deref())).await;
    let Some(user) = user.filter(|u| ok && u.enabled) else {
        metrics::counter!("tessera_login_failures_total").increment(1);
        tracing::info!(remote = %address, "sign-in failed");
        state.audit(AuditEvent {
            id: 0,
            at: now(),
            actor: "anonymous".into(),
            action: "user.login_failed".into(),
            target: key.clone(),
            before: None,
            after: None,
            remote_addr: Some(address.clone()),
        });
        if let Some(wait) = state.guesses.login_failed(&key, remote) {
            return too_many(&state, &browser, wait);
        }
        return form_page(
            &state,
            &browser,
            StatusCode::UNAUTHORIZED,
            &return_to,
            &typed,
            Some("The username or password is not right.".into()),
        );
    };
    if user.password_temporary {
        // The temporary password was right: the user chooses their own before signing in.
        return super::new_password::form_page(
            &state,
            &browser,
            StatusCode::OK,
            &return_to,
            &user,
            None,
        );
    }
    complete_sign_in(&state, browser, user, &return_to, address).await
}

/// Signs `user` in on `browser` (audited as `user.login`) and answers with where they were going:
/// `return_to`, or a page saying they are signed in.
pub(super) async fn complete_sign_in(
    state: &AppState,
    mut browser: Browser,
    user: crate::users::User,
    return_to: &str,
    address: String,
) -> Response {
    let user_id = user.id.clone();
    if let Err(e) = browser.sign_in(state, user).await {
        tracing::warn!(error = %e, "could not start a session");
        return render::unavailable(state);
    }
    tracing::info!(user_id = %user_id, "signed in");
    state.audit(AuditEvent {
        id: 0,
        at: now(),
        actor: user_id.clone(),
        action: "user.login".into(),
        target: user_id,
        before: None,
        after: None,
        remote_addr: Some(address),
    });
    let resp = if return_to.is_empty() {
        let name = browser
            .signed_in
            .as_ref()
            .map(|s| s.user.shown_name().to_owned())
            .unwrap_or_default();
        render::message(
            state,
            StatusCode::OK,
            "Signed in",
            format!("You are signed in as {name}."),
            Some(("/logout", "Sign out")),
        )
    } else {
        render::see_other(state, return_to)
    };
    browser.finish(state, resp)
}

fn too_many(state: &AppState, browser: &Browser, wait: u64) -> Response {
    let resp = render::message(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        format!("Too many failed sign-ins. Please wait {wait} seconds and try again."),
        None,
    );
    browser.finish(state, render::with_retry_after(resp, wait))
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_local_paths() {
        assert!(is_local_path("/oauth2/authorize?client_id=a"));
        assert!(is_local_path("/device"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path(""));
    }
}

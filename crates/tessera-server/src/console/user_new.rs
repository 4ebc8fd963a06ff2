//! `GET /admin/users/new`: the form that creates a user (username, name, e-mail, console role,
//! and a password generated and shown once, or typed); `POST` to the same address creates it
//! through the admin API's own code ([`crate::admin::users::create_user`], audited as
//! `user.create` under the person's name). Admins only (`tessera.users.write`). A refused form
//! comes back with each message next to its field and all of them in a summary at the top, the
//! values kept (never the password).

use super::clients::{person_who_may, posted};
use super::session::Person;
use super::templates::{FieldError, NewUserPage, NewUserTyped, PasswordShownPage};
use super::users::user_href;
use crate::admin::users::create_user;
use crate::crypto::random_bytes;
use crate::net::RemoteAddr;
use crate::pages::form::field;
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::users::model::{check_email, check_text};
use crate::users::ops::UserError;
use crate::users::role::Operation;
use crate::users::{NewUser, Role, Username, password};
use axum::body::Body;
use axum::extract::State;
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use tessera_proto::FormParams;

/// A password made for a person: 120 random bits, 20 characters of base64url.
pub fn generate_password() -> Result<SecretString, crate::crypto::CryptoError> {
    Ok(SecretString::from(
        URL_SAFE_NO_PAD.encode(random_bytes::<15>()?),
    ))
}

/// The password a form asks for: generated (`password_mode=generate`, the default) or typed
/// (`set`, checked by the user service's rules). `Ok((password, generated))`; a refusal is
/// added to `errors` under `password`.
pub fn chosen_password(
    form: &FormParams,
    errors: &mut Vec<FieldError>,
) -> Result<Option<(SecretString, bool)>, crate::crypto::CryptoError> {
    if field(form, "password_mode") == Some("set") {
        let typed = field(form, "password").unwrap_or("");
        if typed.is_empty() {
            errors.push(FieldError::new(
                "password",
                "Type the password to set, or choose to generate one.",
            ));
            return Ok(None);
        }
        if let Err(e) = password::check_new(typed) {
            errors.push(FieldError::new("password", e.to_string()));
            return Ok(None);
        }
        Ok(Some((SecretString::from(typed.to_owned()), false)))
    } else {
        Ok(Some((generate_password()?, true)))
    }
}

/// Whether the form asks for a temporary password (one the user replaces at their next
/// sign-in).
pub fn password_temporary(form: &FormParams) -> bool {
    field(form, "password_temporary").is_some()
}

/// The password-mode field's value as typed, for showing the form again.
pub fn password_mode(form: &FormParams) -> String {
    if field(form, "password_mode") == Some("set") {
        "set".into()
    } else {
        "generate".into()
    }
}

fn form_page(
    state: &AppState,
    person: &Person,
    typed: NewUserTyped,
    errors: Vec<FieldError>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let t = NewUserPage {
        shell: person.shell(state, "users"),
        errors,
        typed,
    };
    render::page(state, status, &t)
}

/// `GET /admin/users/new`.
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
) -> Response {
    let person = match person_who_may(
        &state,
        &headers,
        remote,
        &uri,
        Operation::UserWrite,
        "creating users",
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let typed = NewUserTyped {
        password_mode: "generate".into(),
        password_temporary: true,
        ..NewUserTyped::default()
    };
    form_page(&state, &person, typed, Vec::new())
}

/// `POST /admin/users/new`.
pub async fn submit(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    body: Body,
) -> Response {
    let (form, person) = match posted(&state, &headers, remote, body, Operation::UserWrite).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let text = |name: &str| field(&form, name).unwrap_or("").trim().to_owned();
    let typed = NewUserTyped {
        username: text("username"),
        display_name: text("display_name"),
        email: text("email"),
        role: text("role"),
        password_mode: password_mode(&form),
        password_temporary: password_temporary(&form),
    };
    let mut errors = Vec::new();
    let username = match Username::parse(&typed.username) {
        Ok(u) => Some(u),
        Err(e) => {
            errors.push(FieldError::new("username", e));
            None
        }
    };
    if let Err(e) = check_text("display_name", &typed.display_name) {
        errors.push(FieldError::new("display_name", e));
    }
    if let Err(e) = check_email(&typed.email) {
        errors.push(FieldError::new("email", e));
    }
    let role = if typed.role.is_empty() {
        None
    } else {
        match Role::parse(&typed.role) {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(FieldError::new("role", e));
                None
            }
        }
    };
    let chosen = match chosen_password(&form, &mut errors) {
        Ok(c) => c,
        Err(_) => return render::unavailable(&state),
    };
    let (Some(username), Some((password, generated)), true) = (username, chosen, errors.is_empty())
    else {
        return form_page(&state, &person, typed, errors);
    };
    let new = NewUser {
        username,
        password: Some(password.clone()),
        password_temporary: typed.password_temporary,
        email: typed.email.clone(),
        email_verified: false,
        display_name: typed.display_name.clone(),
        enabled: None,
        role,
    };
    let user = match create_user(&state, &person.actor(), new).await {
        Ok(u) => u,
        Err(e @ UserError::Exists(_)) => {
            errors.push(FieldError::new("username", e.to_string()));
            return form_page(&state, &person, typed, errors);
        }
        Err(UserError::Invalid(m)) => {
            errors.push(FieldError::new("", m));
            return form_page(&state, &person, typed, errors);
        }
        Err(_) => return render::unavailable(&state),
    };
    let href = user_href(&user);
    if generated {
        let t = PasswordShownPage {
            shell: person.shell(&state, "users"),
            title: "User created",
            username: user.username,
            user_href: href,
            password: password.expose_secret().to_owned(),
        };
        super::create::with_own_scripts(&state, render::page(&state, StatusCode::OK, &t))
    } else {
        render::see_other(&state, &href)
    }
}

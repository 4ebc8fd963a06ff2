//! The pages' templates (askama, compiled in and auto-escaped), one struct per page.

use askama::Template;

/// What every page shows around its content: the product name and logo from `[pages]`.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// `pages.product_name`.
    pub product_name: String,
    /// `pages.logo_url`.
    pub logo_url: Option<String>,
}

/// The sign-in form.
#[derive(Debug, Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// Page chrome.
    pub chrome: Chrome,
    /// Window title.
    pub title: &'static str,
    /// The client the user is signing in for, when known.
    pub client_name: Option<String>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// The CSRF token.
    pub csrf: String,
    /// Where to go after signing in (a local path).
    pub return_to: String,
    /// The username typed last time.
    pub username: String,
}

/// The form where a user whose password is temporary chooses their own at sign-in. No `Debug`:
/// it holds the ticket.
#[derive(Template)]
#[template(path = "new_password.html")]
pub struct NewPasswordPage {
    /// Page chrome.
    pub chrome: Chrome,
    /// Window title.
    pub title: &'static str,
    /// Why the last attempt was refused.
    pub error: Option<String>,
    /// The CSRF token.
    pub csrf: String,
    /// Where to go after signing in (a local path).
    pub return_to: String,
    /// The user's id.
    pub user_id: String,
    /// The user's username (for password managers).
    pub username: String,
    /// Proof that the temporary password was typed (see [`crate::pages::new_password`]).
    pub ticket: String,
    /// The least number of characters a password has.
    pub min_password: usize,
}

/// One scope as the consent page lists it.
#[derive(Debug, Clone)]
pub struct ScopeLine {
    /// The scope name.
    pub name: String,
    /// What it allows, for people.
    pub description: String,
}

/// The consent page (authorization code and device flows).
#[derive(Debug, Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    /// Page chrome.
    pub chrome: Chrome,
    /// Window title.
    pub title: &'static str,
    /// The client's name.
    pub client_name: String,
    /// The signed-in user's name.
    pub user_name: String,
    /// The user code to compare with the device's screen (device flow).
    pub user_code: Option<String>,
    /// The scopes asked for.
    pub scopes: Vec<ScopeLine>,
    /// Where the form posts.
    pub action: &'static str,
    /// Hidden fields carrying the request.
    pub hidden: Vec<(&'static str, String)>,
    /// The CSRF token.
    pub csrf: String,
}

/// The user code entry form.
#[derive(Debug, Template)]
#[template(path = "device.html")]
pub struct DevicePage {
    /// Page chrome.
    pub chrome: Chrome,
    /// Window title.
    pub title: &'static str,
    /// Why the last code was refused.
    pub error: Option<String>,
    /// The CSRF token.
    pub csrf: String,
    /// The code typed (or given in the link).
    pub user_code: String,
}

/// A result or error message.
#[derive(Debug, Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// Page chrome.
    pub chrome: Chrome,
    /// Heading and window title.
    pub title: String,
    /// The message.
    pub message: String,
    /// Whether it reports an error (shown as an alert).
    pub is_error: bool,
    /// An optional link: address and text.
    pub link: Option<(String, String)>,
}

/// The sign-out confirmation.
#[derive(Debug, Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    /// Page chrome.
    pub chrome: Chrome,
    /// Window title.
    pub title: &'static str,
    /// The signed-in user's name.
    pub user_name: String,
    /// The CSRF token.
    pub csrf: String,
}

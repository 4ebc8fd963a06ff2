//! The console's templates (askama, compiled in and auto-escaped), one struct per page, all
//! inside the console frame ([`Shell`]).

use super::chart::Chart;
use crate::pages::templates::Chrome;
use crate::state::AppState;
use askama::Template;

/// The frame of every console page: product, navigation, the signed-in person and sign-out.
#[derive(Debug, Clone)]
pub struct Shell {
    /// Product name and logo from `[pages]`.
    pub chrome: Chrome,
    /// The signed-in person's name and role, when somebody is signed in.
    pub person: Option<(String, &'static str)>,
    /// The CSRF token of the session's forms (empty when signed out).
    pub csrf: String,
    /// The navigation entry of this page (`overview`, `clients`, …), or empty.
    pub current: &'static str,
}

impl Shell {
    /// The frame for pages seen without a session.
    pub fn signed_out(state: &AppState) -> Self {
        Self {
            chrome: crate::pages::render::chrome(state),
            person: None,
            csrf: String::new(),
            current: "",
        }
    }
}

/// The console's sign-in page, for people without a session.
#[derive(Debug, Template)]
#[template(path = "console/signin.html")]
pub struct SignInPage {
    /// Frame.
    pub shell: Shell,
    /// A note above the button (signed out, session ended, no role).
    pub note: Option<String>,
}

/// A result or error message.
#[derive(Debug, Template)]
#[template(path = "console/message.html")]
pub struct ConsoleMessage {
    /// Frame.
    pub shell: Shell,
    /// Heading and window title.
    pub title: String,
    /// The sentence.
    pub text: String,
    /// Whether it reports an error (shown as an alert).
    pub is_error: bool,
    /// An optional link: address and text.
    pub link: Option<(String, String)>,
}

/// The landing page: the overview.
#[derive(Debug, Template)]
#[template(path = "console/overview.html")]
pub struct OverviewPage {
    /// Frame.
    pub shell: Shell,
    /// Registered clients.
    pub clients: i64,
    /// Registered scopes.
    pub scopes: i64,
    /// Users.
    pub users: i64,
    /// The server's version.
    pub version: &'static str,
    /// The issuer.
    pub issuer: String,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Tokens issued in the last hour.
    pub issued: Chart,
    /// Failed client authentications in the last hour.
    pub failed: Chart,
    /// The hour's totals per grant type.
    pub totals: Vec<GrantTotal>,
}

/// One grant type's totals over the last hour.
#[derive(Debug, Clone)]
pub struct GrantTotal {
    /// The grant type.
    pub grant: &'static str,
    /// Its colour in the charts.
    pub colour: &'static str,
    /// Tokens issued.
    pub issued: u64,
    /// Failed client authentications.
    pub failed: u64,
}

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

/// A time (seconds since the epoch) as `YYYY-MM-DD HH:MM` UTC.
pub fn date(t: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(t).unwrap_or(0));
    let s = humantime::format_rfc3339_seconds(at).to_string();
    // `2026-12-07T14:16:15Z`
    format!(
        "{} {}",
        s.get(..10).unwrap_or(&s),
        s.get(11..16).unwrap_or("")
    )
}

/// One row of the clients table.
#[derive(Debug, Clone)]
pub struct ClientRow {
    /// Name.
    pub name: String,
    /// Client id.
    pub client_id: String,
    /// The client id as one path segment.
    pub segment: String,
    /// Grant types.
    pub grant_types: Vec<&'static str>,
    /// Active or not.
    pub enabled: bool,
    /// Whether it authenticates with a secret (which can be rotated).
    pub uses_secret: bool,
    /// Allowed scopes, space-separated.
    pub scopes: String,
    /// `jwt` or `opaque` (the server default when the client sets none).
    pub token_format: String,
    /// Creation date.
    pub created: String,
    /// When it last got a token (UTC), or `never`.
    pub last_used: String,
    /// Whether it is the console's own client (not edited or deleted from the console).
    pub first_party: bool,
}

/// The clients table.
#[derive(Debug, Template)]
#[template(path = "console/clients.html")]
pub struct ClientsPage {
    /// Frame.
    pub shell: Shell,
    /// Whether the person may activate and deactivate clients (else no buttons).
    pub can_toggle: bool,
    /// Whether the person may create, edit and delete clients.
    pub can_write: bool,
    /// The page's rows.
    pub rows: Vec<ClientRow>,
    /// The search text.
    pub search: String,
    /// `all`, `active` or `inactive`.
    pub status: &'static str,
    /// The grant type filter, or empty.
    pub grant: &'static str,
    /// Every grant type, for the filter.
    pub grants: Vec<&'static str>,
    /// The sort column.
    pub sort: &'static str,
    /// Descending.
    pub descending: bool,
    /// Each sortable column's link.
    pub sort_links: Vec<(&'static str, String)>,
    /// Matches in all.
    pub total: i64,
    /// The first row's number (1-based; 0 when none).
    pub first: i64,
    /// The last row's number.
    pub last: i64,
    /// This page.
    pub page: i64,
    /// Pages in all.
    pub pages: i64,
    /// The previous page's link.
    pub prev: Option<String>,
    /// The next page's link.
    pub next: Option<String>,
}

impl ClientsPage {
    /// The link that sorts by `column`.
    pub fn sort_link(&self, column: &str) -> &str {
        self.sort_links
            .iter()
            .find(|(c, _)| *c == column)
            .map_or("/admin/clients", |(_, l)| l.as_str())
    }

    /// `aria-sort` of a column header.
    pub fn aria_sort(&self, column: &str) -> &'static str {
        match (self.sort == column, self.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }
}

/// A confirmation before a change.
#[derive(Debug, Template)]
#[template(path = "console/confirm.html")]
pub struct ConfirmPage {
    /// Frame.
    pub shell: Shell,
    /// Heading.
    pub title: &'static str,
    /// What will happen.
    pub question: String,
    /// Where the form posts.
    pub action: String,
    /// The button's text.
    pub button: &'static str,
    /// Where "Cancel" goes.
    pub cancel: String,
}

/// A scope in the list.
#[derive(Debug, Clone)]
pub struct ScopeLine {
    /// The name.
    pub name: String,
    /// What it allows.
    pub description: String,
    /// Its page.
    pub href: String,
}

/// The scopes of one service.
#[derive(Debug, Clone)]
pub struct ScopeGroup {
    /// The service (`core` of `core.accounting.read`).
    pub service: String,
    /// Its scopes, by name.
    pub scopes: Vec<ScopeLine>,
}

/// The scopes, grouped by service.
#[derive(Debug, Template)]
#[template(path = "console/scopes.html")]
pub struct ScopesPage {
    /// Frame.
    pub shell: Shell,
    /// Whether the person may create scopes.
    pub can_create: bool,
    /// The search text.
    pub search: String,
    /// Scopes shown.
    pub total: usize,
    /// The groups, by service.
    pub groups: Vec<ScopeGroup>,
}

/// A scope's drill-down.
#[derive(Debug, Template)]
#[template(path = "console/scope.html")]
pub struct ScopePage {
    /// Frame.
    pub shell: Shell,
    /// The scope.
    pub scope: crate::model::Scope,
    /// Its service.
    pub service: String,
    /// Its creation date.
    pub created: String,
    /// Clients that hold it (the first ones).
    pub holders: Vec<crate::store::console_clients::ScopeHolder>,
    /// How many hold it.
    pub holders_total: i64,
}

impl ScopePage {
    /// The clients table searching for `client_id`.
    pub fn client_link(&self, client_id: &str) -> String {
        format!(
            "/admin/clients?{}",
            tessera_proto::form::encode([("q", client_id)])
        )
    }
}

/// A scope offered by the new-client form.
#[derive(Debug, Clone)]
pub struct ScopeChoice {
    /// The name.
    pub name: String,
    /// Its service.
    pub service: String,
    /// What it allows.
    pub description: String,
    /// Whether it is ticked.
    pub checked: bool,
    /// Whether it is ticked as a default scope.
    pub default: bool,
}

/// A refusal shown on a form: next to the field it concerns (its `id`) and in the error summary
/// at the top, which links to the field; or in the summary alone (`field` empty).
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The field's `id`, or empty.
    pub field: &'static str,
    /// The sentence.
    pub message: String,
}

impl FieldError {
    /// A refusal about `field` (empty: about no one field).
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Lookups of a form's refusals, for its template.
pub trait FieldErrors {
    /// Every refusal, in order.
    fn errors(&self) -> &[FieldError];

    /// The refusal shown next to `field`, if any.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors()
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// What a field's `aria-describedby` names: its hint (`hint`, when not empty) and
    /// `<field>-error` when it has a refusal.
    fn described_by(&self, field: &str, hint: &str) -> String {
        let mut ids: Vec<String> = Vec::new();
        if !hint.is_empty() {
            ids.push(hint.to_owned());
        }
        if self.error_for(field).is_some() {
            ids.push(format!("{field}-error"));
        }
        ids.join(" ")
    }
}

/// The form that registers a client or changes one.
#[derive(Debug, Template)]
#[template(path = "console/client_form.html")]
pub struct ClientFormPage {
    /// Frame.
    pub shell: Shell,
    /// Where the form posts.
    pub action: String,
    /// The client's name and id when it is edited (none: a new client).
    pub editing: Option<(String, String)>,
    /// Why the last attempt was refused.
    pub errors: Vec<FieldError>,
    /// Grant types offered.
    pub grants: Vec<&'static str>,
    /// Authentication methods offered.
    pub methods: Vec<&'static str>,
    /// Access token signing algorithms offered.
    pub algs: Vec<&'static str>,
    /// Client assertion algorithms offered.
    pub assertion_algs: Vec<&'static str>,
    /// Whether the person may create a scope from the form.
    pub may_create_scope: bool,
    /// Scopes offered, grouped by service.
    pub scopes: Vec<ScopeChoice>,
    /// The values typed.
    pub typed: super::client_form::Typed,
}

impl FieldErrors for ClientFormPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl ClientFormPage {
    /// Whether the grant type `g` is ticked.
    pub fn grant_checked(&self, g: &str) -> bool {
        self.typed.grants.iter().any(|t| t == g)
    }

    /// Whether the authentication method `m` is ticked.
    pub fn method_checked(&self, m: &str) -> bool {
        self.typed.methods.iter().any(|t| t == m)
    }

    /// Whether the scope at `i` starts a new service.
    pub fn new_service(&self, i: usize) -> bool {
        i == 0
            || self.scopes.get(i - 1).map(|p| &p.service) != self.scopes.get(i).map(|s| &s.service)
    }

    /// Where the error summary's link for `field` leads: the field, or the first box of a group.
    pub fn anchor(&self, field: &str) -> String {
        match field {
            "grants" => "grant-1".into(),
            "methods" => "method-1".into(),
            "scopes" if !self.scopes.is_empty() => "scope-1".into(),
            "scopes" => "new_scope_name".into(),
            f => f.into(),
        }
    }

    /// `aria-describedby` and `aria-invalid` for the input `field` with its hint `hint` (may be
    /// empty), as attributes.
    pub fn described(&self, field: &str, hint: &str) -> String {
        let error = self.error_for(field).is_some();
        let mut ids = Vec::new();
        if !hint.is_empty() {
            ids.push(hint.to_owned());
        }
        if error {
            ids.push(format!("{field}-error"));
        }
        let mut a = String::new();
        if !ids.is_empty() {
            a.push_str(&format!(" aria-describedby=\"{}\"", ids.join(" ")));
        }
        if error {
            a.push_str(" aria-invalid=\"true\"");
        }
        a
    }
}

/// A client just created, with its secret shown this once.
#[derive(Debug, Template)]
#[template(path = "console/created.html")]
pub struct CreatedPage {
    /// Frame.
    pub shell: Shell,
    /// Its name.
    pub name: String,
    /// Its id.
    pub client_id: String,
    /// The secret, when its method uses one.
    pub secret: Option<String>,
    /// A `curl` command that gets a token with it (client credentials with Basic).
    pub curl: Option<String>,
}

/// One audit event as the console lists it.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// When (UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: String,
    /// The state before, JSON (empty when none).
    pub before: String,
    /// The state after, JSON (empty when none).
    pub after: String,
    /// From where.
    pub remote_addr: String,
}

/// The audit log.
#[derive(Debug, Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    /// Frame.
    pub shell: Shell,
    /// Why the filters were refused.
    pub error: Option<String>,
    /// Actor filter.
    pub actor: String,
    /// Action prefix filter.
    pub action: String,
    /// Target filter.
    pub target: String,
    /// From date.
    pub from: String,
    /// To date.
    pub to: String,
    /// The events, newest first.
    pub rows: Vec<AuditRow>,
    /// The link to older events.
    pub older: Option<String>,
}

/// One user as the console lists them.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Username.
    pub username: String,
    /// The user's page.
    pub href: String,
    /// Display name (or the username).
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Console role, or `—`.
    pub role: &'static str,
    /// Whether they may sign in.
    pub enabled: bool,
    /// Creation date.
    pub created: String,
}

/// The users.
#[derive(Debug, Template)]
#[template(path = "console/users.html")]
pub struct UsersPage {
    /// Frame.
    pub shell: Shell,
    /// Whether the person may create and change users.
    pub can_write: bool,
    /// Every user, by username.
    pub rows: Vec<UserRow>,
}

/// A signing key as the console lists it.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Key id.
    pub kid: String,
    /// The key id as one path segment.
    pub segment: String,
    /// Algorithm.
    pub alg: String,
    /// `next`, `active` or `retiring`.
    pub state: &'static str,
    /// When it starts (or started) signing.
    pub starts: String,
    /// When it stopped signing, or empty.
    pub stops: String,
    /// When it leaves the JWKS, or empty.
    pub removed: String,
}

/// The signing keys.
#[derive(Debug, Template)]
#[template(path = "console/keys.html")]
pub struct KeysPage {
    /// Frame.
    pub shell: Shell,
    /// Whether the person may rotate and retire keys.
    pub can_rotate: bool,
    /// `keys.publish_ahead_secs`.
    pub publish_ahead_secs: u64,
    /// The published keys.
    pub rows: Vec<KeyRow>,
}

/// The form that rotates a client's secret.
#[derive(Debug, Template)]
#[template(path = "console/rotate.html")]
pub struct RotatePage {
    /// Frame.
    pub shell: Shell,
    /// The client's name.
    pub name: String,
    /// The client id.
    pub client_id: String,
    /// Where the form posts.
    pub action: String,
    /// The grace period typed.
    pub grace: String,
    /// Why the last attempt was refused.
    pub errors: Vec<FieldError>,
}

impl FieldErrors for RotatePage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

/// A client's new secret, shown this once.
#[derive(Debug, Template)]
#[template(path = "console/rotated.html")]
pub struct RotatedPage {
    /// Frame.
    pub shell: Shell,
    /// The client id.
    pub client_id: String,
    /// The new secret.
    pub secret: String,
    /// When the previous secrets stop working (UTC), or that they already did.
    pub previous: String,
}

/// The page that deletes a client once its name is typed.
#[derive(Debug, Template)]
#[template(path = "console/delete.html")]
pub struct DeletePage {
    /// Frame.
    pub shell: Shell,
    /// Where the form posts.
    pub action: String,
    /// The client's name.
    pub name: String,
    /// The client id.
    pub client_id: String,
    /// The name typed.
    pub typed: String,
    /// Why the last attempt was refused.
    pub errors: Vec<FieldError>,
}

impl FieldErrors for DeletePage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

/// The form that registers a scope.
#[derive(Debug, Template)]
#[template(path = "console/scope_new.html")]
pub struct NewScopePage {
    /// Frame.
    pub shell: Shell,
    /// The name typed.
    pub name: String,
    /// The description typed.
    pub description: String,
    /// Why the last attempt was refused.
    pub errors: Vec<FieldError>,
}

impl FieldErrors for NewScopePage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

// ---- Users: create, change, consents; the first admin's sign-up link (issue 24, people part).

/// What was typed into the new-user form (never the password).
#[derive(Debug, Clone, Default)]
pub struct NewUserTyped {
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// E-mail address.
    pub email: String,
    /// `""` (no console role), `viewer`, `operator` or `admin`.
    pub role: String,
    /// `generate` or `set`.
    pub password_mode: String,
    /// Whether the user must replace the password at their first sign-in.
    pub password_temporary: bool,
}

/// The form that creates a user.
#[derive(Debug, Template)]
#[template(path = "console/new_user.html")]
pub struct NewUserPage {
    /// Frame.
    pub shell: Shell,
    /// Why the last attempt was refused.
    pub errors: Vec<FieldError>,
    /// The values typed.
    pub typed: NewUserTyped,
}

/// A password made by the server, shown this once (after creating a user or resetting one).
#[derive(Template)]
#[template(path = "console/password_shown.html")]
pub struct PasswordShownPage {
    /// Frame.
    pub shell: Shell,
    /// Heading.
    pub title: &'static str,
    /// The user's username.
    pub username: String,
    /// The user's page.
    pub user_href: String,
    /// The password.
    pub password: String,
}

/// A consent as the user's page lists it.
#[derive(Debug, Clone)]
pub struct ConsentRow {
    /// The client.
    pub client_id: String,
    /// The client's name, when it still exists.
    pub client_name: String,
    /// The approved scopes, space-separated.
    pub scope: String,
    /// When it was given.
    pub granted: String,
    /// The address of its revoke confirmation.
    pub revoke_href: String,
}

/// One user: details, actions, consents.
#[derive(Debug, Template)]
#[template(path = "console/user.html")]
pub struct UserPage {
    /// Frame.
    pub shell: Shell,
    /// The user.
    pub user: crate::users::User,
    /// The user's address, `/admin/users/<username>`.
    pub href: String,
    /// Console role, or empty.
    pub role: &'static str,
    /// Created (UTC).
    pub created: String,
    /// When the password was last set, or empty; `None` when the user has none.
    pub password_set: Option<String>,
    /// Whether the person may change users (else no buttons).
    pub can_write: bool,
    /// Why the last role change was refused.
    pub errors: Vec<FieldError>,
    /// The user's consents, by client.
    pub consents: Vec<ConsentRow>,
}

/// The form that resets a user's password.
#[derive(Debug, Template)]
#[template(path = "console/user_password.html")]
pub struct UserPasswordPage {
    /// Frame.
    pub shell: Shell,
    /// The user's username.
    pub username: String,
    /// The user's address.
    pub href: String,
    /// `generate` or `set`.
    pub password_mode: String,
    /// Whether the user must replace the password at their next sign-in.
    pub password_temporary: bool,
    /// Why the last attempt was refused.
    pub errors: Vec<FieldError>,
}

/// The form where a signed-in person changes their own password.
#[derive(Debug, Template)]
#[template(path = "console/account_password.html")]
pub struct AccountPasswordPage {
    /// Frame.
    pub shell: Shell,
    /// The person's username.
    pub username: String,
    /// The least number of characters a password has.
    pub min_password: usize,
    /// Why the last attempt was refused.
    pub errors: Vec<FieldError>,
}

/// The first admin's sign-up page, reached by the one-time link printed at start-up.
#[derive(Template)]
#[template(path = "console/signup.html")]
pub struct SignupPage {
    /// Frame (signed out).
    pub shell: Shell,
    /// Where the form posts (the link itself).
    pub action: String,
    /// The form's CSRF token (derived from the link's token).
    pub csrf: String,
    /// The username typed.
    pub username: String,
    /// Display name typed.
    pub display_name: String,
    /// Why the last attempt was refused.
    pub errors: Vec<FieldError>,
    /// The shortest password accepted.
    pub min_password: usize,
}

impl std::fmt::Debug for PasswordShownPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordShownPage")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SignupPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupPage")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl FieldErrors for NewUserPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl FieldErrors for UserPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl FieldErrors for UserPasswordPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl FieldErrors for AccountPasswordPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl FieldErrors for SignupPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

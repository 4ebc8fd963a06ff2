//! A user as stored and shown: never with the password hash in `Debug` or JSON.

use super::role::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A username: 1 to 64 characters of letters, digits and `.`, `_`, `-`, `@`, `+`; kept in lower
/// case so that `Alice` and `alice` are one user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Parses and normalises (lower-cases) a username.
    /// The rules apply to the lower-cased name, the one kept: lower-casing can lengthen a name or
    /// bring in a character the rules refuse (`İ` becomes `i` and a combining dot), and a kept
    /// name must parse to itself.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_lowercase();
        if s.is_empty() || s.chars().count() > 64 {
            return Err("a username has 1 to 64 characters".into());
        }
        if !s
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
        {
            return Err(
                "a username may hold only letters, digits and the characters . _ - @ +".into(),
            );
        }
        Ok(Self(s))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Username {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A user of the local store. The `id` is the stable OpenID Connect `sub`; the username may
/// change meaning over time (a deleted name can be reused), the id never does.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Stable identifier (`usr_` and 22 characters): the `sub` of tokens.
    pub id: String,
    /// The name people sign in with, lower case.
    pub username: String,
    /// The argon2id hash (PHC string); `None` when the user cannot sign in with a password.
    #[serde(skip)]
    #[schema(ignore)]
    pub password_hash: Option<String>,
    /// E-mail address, or empty.
    pub email: String,
    /// Whether the e-mail address was verified.
    pub email_verified: bool,
    /// Name shown to people (OpenID Connect `name`).
    pub display_name: String,
    /// Disabled users cannot sign in, and their refresh tokens stop working.
    pub enabled: bool,
    /// Creation time, seconds since the epoch.
    pub created_at: i64,
    /// Last change, seconds since the epoch.
    pub updated_at: i64,
    /// When the password was last set.
    #[serde(default)]
    pub password_changed_at: Option<i64>,
    /// Whether the password was set by someone else (an administrator, or generated) and must be
    /// replaced by the user at their next sign-in before it lets them in.
    #[serde(default)]
    pub password_temporary: bool,
    /// The console role (`viewer`, `operator`, `admin`); `null` when the user may not use the
    /// console.
    #[serde(default)]
    pub role: Option<Role>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("enabled", &self.enabled)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl User {
    /// The name to greet the user with: the display name, else the username.
    pub fn shown_name(&self) -> &str {
        if self.display_name.is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }
}

/// What creating a user takes (admin API body, CLI).
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The sign-in name: 1 to 64 letters, digits and `.`, `_`, `-`, `@`, `+`; kept in lower case.
    #[schema(value_type = String, min_length = 1, max_length = 64)]
    pub username: Username,
    /// The initial password; a user without one cannot sign in until one is set.
    #[serde(default)]
    #[schema(value_type = Option<String>, write_only)]
    pub password: Option<secrecy::SecretString>,
    /// Whether the user must replace that password at their first sign-in. Default false.
    #[serde(default)]
    pub password_temporary: bool,
    /// E-mail address.
    #[serde(default)]
    pub email: String,
    /// Whether the e-mail address is verified.
    #[serde(default)]
    pub email_verified: bool,
    /// Name shown to people.
    #[serde(default)]
    pub display_name: String,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The console role; none by default (the user cannot use the console).
    #[serde(default)]
    pub role: Option<Role>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The fields of a user that `PATCH` may change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// New verification flag.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// New display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Enable or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// A new console role; `null` takes the role away (absent: unchanged).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Role>)]
    pub role: Option<Option<Role>>,
}

/// A field that may be given as `null`: `Some(None)` for `null`, `None` (by `default`) when absent.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A user's remembered approval of scopes for one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Consent {
    /// The user.
    pub user_id: String,
    /// The client.
    pub client_id: String,
    /// The approved scopes, space-delimited.
    pub scope: String,
    /// When the approval was (last) given.
    pub granted_at: i64,
}

/// Checks a display name or e-mail: at most 256 characters, no control characters.
pub fn check_text(field: &str, value: &str) -> Result<(), String> {
    if value.chars().count() > 256 || value.chars().any(char::is_control) {
        return Err(format!(
            "{field} must be at most 256 characters without control characters"
        ));
    }
    Ok(())
}

/// Checks an e-mail address loosely: empty, or one `@` with text on both sides.
pub fn check_email(value: &str) -> Result<(), String> {
    check_text("email", value)?;
    if value.is_empty() {
        return Ok(());
    }
    match value.split_once('@') {
        Some((l, d))
            if !l.is_empty() && !d.is_empty() && !d.contains('@') && !value.contains(' ') =>
        {
            Ok(())
        }
        _ => Err(format!("{value:?} is not an e-mail address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_checked() {
        assert_eq!(
            Username::parse(" Alice ").map(|u| u.0),
            Ok("alice".to_owned())
        );
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("<script>").is_err());
        assert!(Username::parse(&"x".repeat(65)).is_err());
        assert!(Username::parse("bob.smith+ops@example.com").is_ok());
    }

    /// Found by the `admin_json` fuzz target: `İ` was kept as `i` + U+0307, which the rules
    /// refuse, and 40 of them as 80 characters.
    #[test]
    fn a_kept_username_parses_to_itself() {
        for typed in ["İstanbul", &"İ".repeat(40), "Alice", "ǅungla", "ΣΊΣΥΦΟΣ"] {
            if let Ok(u) = Username::parse(typed) {
                assert_eq!(Username::parse(u.as_str()), Ok(u.clone()), "{typed:?}");
            }
        }
        assert!(Username::parse("İ").is_err());
    }

    #[test]
    fn emails() {
        assert!(check_email("").is_ok());
        assert!(check_email("a@b.example").is_ok());
        assert!(check_email("nope").is_err());
        assert!(check_email("a@@b").is_err());
    }
}

//! Scopes as people read them on the consent pages: the registered description, or a built-in
//! sentence for the OpenID Connect scopes.

use super::templates::ScopeLine;
use crate::state::AppState;
use tessera_proto::ScopeSet;

/// What the OpenID Connect scopes (Core §5.4, §11) allow, in words.
pub fn openid_description(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "Know who you are (your account identifier)",
        "profile" => "See your name and username",
        "email" => "See your e-mail address",
        "address" => "See your postal address",
        "phone" => "See your phone number",
        "offline_access" => "Keep access while you are away (refresh tokens)",
        _ => return None,
    })
}

/// The lines of the consent page for `scopes`.
pub fn describe(state: &AppState, scopes: &ScopeSet) -> Vec<ScopeLine> {
    scopes
        .iter()
        .map(|name| {
            let description = openid_description(name)
                .map(str::to_owned)
                .or_else(|| {
                    state
                        .registry
                        .scope(name)
                        .map(|s| s.description)
                        .filter(|d| !d.is_empty())
                })
                .unwrap_or_else(|| format!("Use the permission {name}"));
            ScopeLine {
                name: name.to_owned(),
                description,
            }
        })
        .collect()
}

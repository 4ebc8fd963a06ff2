//! Declarative setup: a TOML file of scopes, clients and users applied at start-up, idempotently.
//!
//! Missing scopes and clients are created, changed ones updated, nothing is ever deleted; every
//! change is audited with the actor `setup-file`. Client secrets never appear in the file: each
//! client that needs one names an environment variable (`secret_env`) or a file (`secret_file`)
//! holding it, and an inline `secret` is refused. A secret brought from another system, shorter
//! than the 32 characters asked of secrets managed here, is accepted from 8 characters with
//! `secret_imported = true`, and marked as imported until it is rotated. The whole file is checked before anything is
//! written, so a bad file changes nothing. The format is described in `docs/setup-file.md`.

use crate::admin::audit::{Actor, record};
use crate::admin::clients::{self, GivenSecret, NewClient, SecretNeed};
use crate::admin::scopes::{self, NewScope, ScopePatch};
use crate::admin::secrets::rotate_secret;
use crate::admin::validate::{self, Limits, RESERVED_SCOPE_PREFIX};
use crate::client_secret::{MAX_IMPORTED_SECRET_CHARS, MIN_IMPORTED_SECRET_CHARS};
use crate::model::{Client, now};
use crate::state::AppState;
use crate::store::StoreError;
use crate::users::model::{check_email, check_text};
use crate::users::ops::{self as user_ops, UserError};
use crate::users::{NewUser, Role, User, UserPatch, Username};
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tessera_jose::JwkSet;

/// The shortest secret accepted from outside: 32 characters, so that a secret given to Tessera
/// is at least as hard to guess as a password manager's, if not as its own 256-bit ones.
pub const MIN_SECRET_CHARS: usize = 32;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupFile {
    #[serde(default)]
    scopes: Vec<NewScope>,
    #[serde(default)]
    clients: Vec<toml::Table>,
    #[serde(default)]
    users: Vec<SetupUser>,
}

/// A user entry: created without a password when missing (`tessera user set-password` gives
/// one); its console role, e-mail and name set when given, left as they are when not.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupUser {
    username: Username,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

/// A client entry with its secret resolved, ready to apply.
struct PlannedClient {
    label: String,
    new: NewClient,
    client_id: String,
    secret: Option<GivenSecret>,
}

/// What applying the file did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Scopes and clients created.
    pub created: usize,
    /// Scopes and clients changed (a replaced secret counts).
    pub updated: usize,
    /// Scopes and clients already as described.
    pub unchanged: usize,
}

/// Applies the setup file at `path`, reading `secret_env` variables from the process environment.
pub async fn apply_file(state: &AppState, path: &Path) -> Result<(), String> {
    apply_file_with_env(state, path, &|name| std::env::var(name).ok())
        .await
        .map(|o| {
            tracing::info!(
                path = %path.display(),
                created = o.created,
                updated = o.updated,
                unchanged = o.unchanged,
                "setup file applied"
            );
        })
}

/// Applies the setup file at `path`, looking `secret_env` variables up with `env`.
pub async fn apply_file_with_env(
    state: &AppState,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the setup file {}: {e}", path.display()))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    apply_str(state, &text, &base, env)
        .await
        .map_err(|e| format!("setup file {}: {e}", path.display()))
}

/// Applies setup-file text; relative `secret_file` and `jwks_file` paths are read from `base`.
pub async fn apply_str(
    state: &AppState,
    text: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Outcome, String> {
    let file: SetupFile = toml::from_str(text).map_err(|e| e.to_string())?;
    check_scopes(&file.scopes, state.config.scopes.naming)?;
    let planned = plan_clients(file.clients, base, env)?;
    check_users(&file.users)?;
    // Check every client against the scopes as they will be, before writing anything.
    let mut registered = clients::registered_scopes(state)
        .await
        .map_err(|e| e.to_string())?;
    registered.extend(file.scopes.iter().map(|s| s.name.clone()));
    for p in &planned {
        let mut c = p.new.clone().into_client(p.client_id.clone(), now());
        validate::client(
            &mut c,
            Limits {
                registered_scopes: &registered,
                max_lifetime_secs: state.config.tokens.max_lifetime_secs,
                scope_naming: state.config.scopes.naming,
            },
        )
        .map_err(|e| format!("{}: {e}", p.label))?;
        crate::token_size::check(state, &c).map_err(|e| format!("{}: {e}", p.label))?;
        check_secret_fits(p, &c)?;
        if let Some(GivenSecret::Imported(secret)) = &p.secret {
            clients::check_imported(secret, c.secret_recoverable())
                .map_err(|e| format!("{}: {e}", p.label))?;
        }
        let existing = match state.store.get_client(&p.client_id).await {
            Ok(e) => Some(e),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(format!("{}: {e}", p.label)),
        };
        check_secret_present(p, existing.as_ref(), &c)?;
    }
    let actor = Actor::setup_file();
    let mut outcome = Outcome::default();
    for s in file.scopes {
        apply_scope(state, &actor, s, &mut outcome).await?;
    }
    for p in planned {
        apply_client(state, &actor, p, &mut outcome).await?;
    }
    for u in file.users {
        apply_user(state, &actor, u, &mut outcome).await?;
    }
    Ok(outcome)
}

fn check_users(list: &[SetupUser]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (i, u) in list.iter().enumerate() {
        let label = format!("users[{i}] ({})", u.username.as_str());
        if !seen.insert(u.username.as_str()) {
            return Err(format!("{label}: the user is described twice"));
        }
        if let Some(e) = &u.email {
            check_email(e).map_err(|e| format!("{label}: {e}"))?;
        }
        if let Some(d) = &u.display_name {
            check_text("display_name", d).map_err(|e| format!("{label}: {e}"))?;
        }
    }
    Ok(())
}

async fn apply_user(
    state: &AppState,
    actor: &Actor,
    u: SetupUser,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let label = format!("user {}", u.username.as_str());
    let audit = |u: &User| serde_json::to_value(u).ok();
    match user_ops::find(state, u.username.as_str()).await {
        Err(UserError::NotFound(_)) => {
            let new = NewUser {
                username: u.username,
                password: None,
                password_temporary: false,
                email: u.email.unwrap_or_default(),
                email_verified: false,
                display_name: u.display_name.unwrap_or_default(),
                enabled: None,
                role: u.role,
            };
            let created = user_ops::create(state, new)
                .await
                .map_err(|e| format!("{label}: {e}"))?;
            record(
                state,
                actor,
                "user.create",
                &created.id,
                None,
                audit(&created),
            )
            .await;
            outcome.created += 1;
        }
        Err(e) => return Err(format!("{label}: {e}")),
        Ok(before) => {
            let patch = UserPatch {
                email: u.email,
                display_name: u.display_name,
                role: u.role.map(Some),
                ..UserPatch::default()
            };
            let unchanged = patch.email.as_ref().is_none_or(|e| *e == before.email)
                && patch
                    .display_name
                    .as_ref()
                    .is_none_or(|d| *d == before.display_name)
                && patch.role.is_none_or(|r| r == before.role);
            if unchanged {
                outcome.unchanged += 1;
                return Ok(());
            }
            let after = user_ops::update(state, before.clone(), patch)
                .await
                .map_err(|e| format!("{label}: {e}"))?;
            record(
                state,
                actor,
                "user.update",
                &after.id,
                audit(&before),
                audit(&after),
            )
            .await;
            outcome.updated += 1;
        }
    }
    Ok(())
}

fn check_scopes(list: &[NewScope], naming: tessera_proto::ScopeNaming) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (i, s) in list.iter().enumerate() {
        let label = format!("scopes[{i}] ({})", s.name);
        if !seen.insert(s.name.as_str()) {
            return Err(format!("{label}: the scope is described twice"));
        }
        if s.name.starts_with(RESERVED_SCOPE_PREFIX) {
            return Err(format!(
                "{label}: the tessera.* scopes are Tessera's own and are not set up by file"
            ));
        }
        validate::new_scope_name(&s.name, naming).map_err(|e| format!("{label}: {e}"))?;
        let mut perms = s.permissions.clone();
        validate::scope_fields(&s.description, &mut perms).map_err(|e| format!("{label}: {e}"))?;
    }
    Ok(())
}

fn take_string(t: &mut toml::Table, key: &str, label: &str) -> Result<Option<String>, String> {
    match t.remove(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(format!("{label}: {key} must be a non-empty string")),
    }
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn plan_clients(
    tables: Vec<toml::Table>,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<PlannedClient>, String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, mut t) in tables.into_iter().enumerate() {
        let id_hint = t
            .get("client_id")
            .and_then(toml::Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let label = format!("clients[{i}] ({id_hint})");
        for inline in ["secret", "client_secret"] {
            if t.contains_key(inline) {
                return Err(format!(
                    "{label}: an inline {inline} is refused: secrets never go in the setup file; \
                     name an environment variable (secret_env = \"VAR\") or a file (secret_file = \"path\")"
                ));
            }
        }
        let imported = match t.remove("secret_imported") {
            None => false,
            Some(toml::Value::Boolean(b)) => b,
            Some(_) => return Err(format!("{label}: secret_imported must be true or false")),
        };
        let secret_env = take_string(&mut t, "secret_env", &label)?;
        let secret_file = take_string(&mut t, "secret_file", &label)?;
        let jwks_file = take_string(&mut t, "jwks_file", &label)?;
        let mut new: NewClient = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| format!("{label}: {}", e.message()))?;
        let Some(client_id) = new.client_id.clone() else {
            return Err(format!(
                "{label}: client_id is required in a setup file, so that applying it again finds the same client"
            ));
        };
        validate::client_id(&client_id).map_err(|e| format!("{label}: {e}"))?;
        if !seen.insert(client_id.clone()) {
            return Err(format!("{label}: the client is described twice"));
        }
        if let Some(f) = jwks_file {
            if new.jwks.is_some() || new.jwks_uri.is_some() {
                return Err(format!(
                    "{label}: set only one of jwks, jwks_file and jwks_uri"
                ));
            }
            let path = resolve(base, &f);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{label}: cannot read jwks_file {}: {e}", path.display()))?;
            let set: JwkSet = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{label}: jwks_file {} is not a JWK Set: {e}",
                    path.display()
                )
            })?;
            new.jwks = Some(set);
        }
        let secret = match (secret_env, secret_file) {
            (Some(_), Some(_)) => {
                return Err(format!("{label}: set secret_env or secret_file, not both"));
            }
            (Some(var), None) => {
                let v = env(&var).ok_or_else(|| {
                    format!(
                        "{label}: the environment variable {var} named by secret_env is not set"
                    )
                })?;
                Some(check_secret_value(&label, &format!("${var}"), v, imported)?)
            }
            (None, Some(f)) => {
                let path = resolve(base, &f);
                let v = std::fs::read_to_string(&path).map_err(|e| {
                    format!("{label}: cannot read secret_file {}: {e}", path.display())
                })?;
                let v = tessera_proto::secret_file::secret_text(&v).to_owned();
                Some(check_secret_value(
                    &label,
                    &path.display().to_string(),
                    v,
                    imported,
                )?)
            }
            (None, None) if imported => {
                return Err(format!(
                    "{label}: secret_imported is set but no secret is named: add secret_env or secret_file"
                ));
            }
            (None, None) => None,
        };
        out.push(PlannedClient {
            label,
            new,
            client_id,
            secret,
        });
    }
    Ok(out)
}

/// Checks a secret given from outside without ever printing it: a managed one has 32 to 512
/// characters, an imported one (`secret_imported = true`) 8 to 512.
fn check_secret_value(
    label: &str,
    source: &str,
    v: String,
    imported: bool,
) -> Result<GivenSecret, String> {
    let n = v.chars().count();
    let min = if imported {
        MIN_IMPORTED_SECRET_CHARS
    } else {
        MIN_SECRET_CHARS
    };
    if !(min..=MAX_IMPORTED_SECRET_CHARS).contains(&n) {
        let hint = if imported || n > MAX_IMPORTED_SECRET_CHARS {
            String::new()
        } else {
            format!(
                "; a secret brought from another system may have {MIN_IMPORTED_SECRET_CHARS} or more with secret_imported = true (it is then listed for rotation)"
            )
        };
        return Err(format!(
            "{label}: the secret from {source} must be {min} to {MAX_IMPORTED_SECRET_CHARS} characters (it has {n}){hint}"
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(format!(
            "{label}: the secret from {source} contains control characters"
        ));
    }
    let s = SecretString::from(v);
    Ok(if imported {
        GivenSecret::Imported(s)
    } else {
        GivenSecret::Managed(s)
    })
}

fn check_secret_fits(p: &PlannedClient, c: &Client) -> Result<(), String> {
    if p.secret.is_some() && !c.uses_secret() {
        return Err(format!(
            "{}: {} uses no secret; remove secret_env / secret_file",
            p.label,
            c.auth_methods_text()
        ));
    }
    Ok(())
}

/// A new client, or one whose new methods need a new secret, must have its secret given: the
/// server cannot show a generated one to anybody.
fn check_secret_present(
    p: &PlannedClient,
    existing: Option<&Client>,
    c: &Client,
) -> Result<(), String> {
    if p.secret.is_some() || !c.uses_secret() {
        return Ok(());
    }
    let methods = c.auth_methods_text();
    match existing {
        None => Err(format!(
            "{}: {methods} needs a secret: set secret_env = \"VAR\" or secret_file = \"path\"",
            p.label
        )),
        Some(old) if clients::secret_change_for(old, c) == SecretNeed::New => Err(format!(
            "{}: changing to {methods} needs a new secret: set secret_env or secret_file",
            p.label
        )),
        Some(_) => Ok(()),
    }
}

async fn apply_scope(
    state: &AppState,
    actor: &Actor,
    s: NewScope,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let label = format!("scope {}", s.name);
    if let Err(StoreError::NotFound) = state.store.get_scope(&s.name).await {
        match scopes::create_scope(state, actor, s.clone()).await {
            Ok(_) => {
                outcome.created += 1;
                return Ok(());
            }
            // Another instance starting with the same file created it meanwhile: update it.
            Err(e) if e.http_status() == axum::http::StatusCode::CONFLICT => {}
            Err(e) => return Err(format!("{label}: {e}")),
        }
    }
    match state.store.get_scope(&s.name).await {
        Ok(before) => {
            let after = scopes::update_scope(
                state,
                actor,
                &s.name,
                ScopePatch {
                    description: Some(s.description),
                    permissions: Some(s.permissions),
                },
            )
            .await
            .map_err(|e| format!("{label}: {e}"))?;
            if after == before {
                outcome.unchanged += 1;
            } else {
                outcome.updated += 1;
            }
        }
        Err(e) => return Err(format!("{label}: {e}")),
    }
    Ok(())
}

/// Whether `given` is one of the client's current secrets, stored in the form its methods need and
/// marked as the file says.
fn holds_secret(state: &AppState, client_id: &str, given: &GivenSecret) -> bool {
    let Some(entry) = state.registry.client(client_id) else {
        return false;
    };
    let secret = given.secret();
    let imported = matches!(given, GivenSecret::Imported(_));
    let t = now();
    // The same secret with the other mark (the file added or dropped `secret_imported`) is
    // stored again, so that the mark follows the file.
    if entry.client.secret_recoverable() {
        entry.secrets.iter().any(|s| {
            s.expires_at.is_none_or(|e| e > t)
                && s.imported == imported
                && s.plain
                    .as_ref()
                    .is_some_and(|p| p.expose_secret() == secret.expose_secret())
        })
    } else {
        entry
            .match_secret(&state.keys, secret.expose_secret(), t)
            .is_some_and(|s| s.imported == imported)
    }
}

async fn apply_client(
    state: &AppState,
    actor: &Actor,
    p: PlannedClient,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let label = p.label;
    let err = |e: crate::admin::error::ApiError| format!("{label}: {e}");
    if let Err(StoreError::NotFound) = state.store.get_client(&p.client_id).await {
        match clients::create_client(state, actor, p.new.clone(), p.secret.clone()).await {
            Ok(_) => {
                outcome.created += 1;
                return Ok(());
            }
            // Another instance starting with the same file created it meanwhile: update it.
            Err(e) if e.http_status() == axum::http::StatusCode::CONFLICT => {}
            Err(e) => return Err(err(e)),
        }
    }
    let before = state
        .store
        .get_client(&p.client_id)
        .await
        .map_err(|e| format!("{label}: {e}"))?;
    let keep_enabled = p.new.enabled.is_none();
    let mut after = p.new.into_client(p.client_id.clone(), before.created_at);
    if keep_enabled {
        after.enabled = before.enabled;
    }
    clients::check(state, &mut after).await.map_err(err)?;
    let mut changed = false;
    if !clients::same_settings(&before, &after) {
        clients::store_update(state, actor, &before, after, "client.update")
            .await
            .map_err(err)?;
        changed = true;
    }
    if let Some(given) = &p.secret
        && !holds_secret(state, &p.client_id, given)
    {
        rotate_secret(state, actor, &p.client_id, 0, Some(given))
            .await
            .map_err(err)?;
        changed = true;
    }
    if changed {
        outcome.updated += 1;
    } else {
        outcome.unchanged += 1;
    }
    Ok(())
}

//! Changes to users that have consequences beyond the row: a disabled user, a new password or a
//! deleted user ends the user's sessions and revokes the refresh tokens (and the access tokens
//! issued with them); a withdrawn consent revokes the client's refresh tokens for that user.
//! The admin API calls these; so do the tests.

use super::Role;
use super::model::{NewUser, User, UserPatch, check_email, check_text};
use super::password;
use crate::crypto::random_id;
use crate::model::now;
use crate::state::AppState;
use crate::store::{Kept, StoreError};
use secrecy::SecretString;

/// The prefix of user ids (the `sub` of their tokens).
pub const USER_ID_PREFIX: &str = "usr_";

/// Why a user change was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// No such user.
    #[error("user {0:?} does not exist")]
    NotFound(String),
    /// The username is taken.
    #[error("user {0:?} already exists")]
    Exists(String),
    /// Storing failed.
    #[error(transparent)]
    Store(StoreError),
    /// Hashing failed.
    #[error("{0}")]
    Hash(String),
    /// The change would leave no enabled user with the console role `admin` (nobody could then
    /// manage users or give roles in the console).
    #[error(
        "{0:?} is the last enabled admin of the console: give another user the role admin first"
    )]
    LastAdmin(String),
}

impl From<StoreError> for UserError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<password::PasswordError> for UserError {
    fn from(e: password::PasswordError) -> Self {
        match e {
            password::PasswordError::Unacceptable => Self::Invalid(e.to_string()),
            password::PasswordError::Hash(h) => Self::Hash(h),
        }
    }
}

/// Finds a user by id or by username.
pub async fn find(state: &AppState, id_or_username: &str) -> Result<User, UserError> {
    if let Some(u) = state.store.get_user(id_or_username).await? {
        return Ok(u);
    }
    let name = id_or_username.trim().to_lowercase();
    state
        .store
        .get_user_by_username(&name)
        .await?
        .ok_or_else(|| UserError::NotFound(id_or_username.to_owned()))
}

/// Whether `user` is an enabled user with the console role `admin`.
pub fn is_enabled_admin(user: &User) -> bool {
    user.enabled && user.role == Some(Role::Admin)
}

/// Creates a user.
pub async fn create(state: &AppState, new: NewUser) -> Result<User, UserError> {
    let user = prepare(new).await?;
    match state.store.insert_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict) => Err(UserError::Exists(user.username)),
        Err(e) => Err(e.into()),
    }
}

/// Checks a new user's fields and hashes the password: the user [`create`] stores (the sign-up
/// link stores it in its own transaction).
pub async fn prepare(new: NewUser) -> Result<User, UserError> {
    check_email(&new.email).map_err(UserError::Invalid)?;
    check_text("display_name", &new.display_name).map_err(UserError::Invalid)?;
    let t = now();
    let password_hash = match &new.password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    Ok(User {
        id: random_id(USER_ID_PREFIX).map_err(|e| UserError::Hash(e.to_string()))?,
        username: new.username.as_str().to_owned(),
        password_changed_at: password_hash.as_ref().map(|_| t),
        password_temporary: new.password_temporary && password_hash.is_some(),
        password_hash,
        email: new.email,
        email_verified: new.email_verified,
        display_name: new.display_name,
        enabled: new.enabled.unwrap_or(true),
        created_at: t,
        updated_at: t,
        role: new.role,
    })
}

/// Applies a patch; disabling ends the user's sessions and refresh tokens. Disabling or taking
/// the role `admin` from the last enabled admin is refused ([`UserError::LastAdmin`]).
pub async fn update(state: &AppState, mut user: User, patch: UserPatch) -> Result<User, UserError> {
    let was_admin = is_enabled_admin(&user);
    if let Some(e) = patch.email {
        check_email(&e).map_err(UserError::Invalid)?;
        user.email = e;
    }
    if let Some(v) = patch.email_verified {
        user.email_verified = v;
    }
    if let Some(d) = patch.display_name {
        check_text("display_name", &d).map_err(UserError::Invalid)?;
        user.display_name = d;
    }
    if let Some(r) = patch.role {
        user.role = r;
    }
    let disabling = patch.enabled == Some(false) && user.enabled;
    if let Some(e) = patch.enabled {
        user.enabled = e;
    }
    user.updated_at = now();
    if was_admin && !is_enabled_admin(&user) {
        if state.store.update_user_keeping_an_admin(&user).await? == Kept::LastAdmin {
            return Err(UserError::LastAdmin(user.username));
        }
    } else {
        state.store.update_user(&user).await?;
    }
    if disabling {
        end_everything(state, &user.id).await?;
    }
    Ok(user)
}

/// Sets a new password (or removes it with `None`), `temporary` when the user must replace it at
/// their next sign-in; ends the user's sessions and refresh tokens.
pub async fn set_password(
    state: &AppState,
    mut user: User,
    new: Option<&SecretString>,
    temporary: bool,
) -> Result<User, UserError> {
    user.password_hash = match new {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    user.password_temporary = temporary && user.password_hash.is_some();
    let t = now();
    user.password_changed_at = Some(t);
    user.updated_at = t;
    state.store.update_user(&user).await?;
    end_everything(state, &user.id).await?;
    Ok(user)
}

/// Deletes a user and everything issued to them; the last enabled admin is not deleted
/// ([`UserError::LastAdmin`]).
pub async fn delete(state: &AppState, user: &User) -> Result<(), UserError> {
    let admin = is_enabled_admin(user);
    if admin && state.store.count_users_with_role("admin").await? <= 1 {
        return Err(UserError::LastAdmin(user.username.clone()));
    }
    let revoked = state
        .store
        .revoke_families(None, Some(&user.id), None, now())
        .await?;
    state.store.revoke_access_tokens(&revoked).await?;
    if state.store.delete_user(&user.id, admin).await? == Kept::LastAdmin {
        return Err(UserError::LastAdmin(user.username.clone()));
    }
    Ok(())
}

/// Withdraws consents (one client's, or all) and revokes the refresh tokens they allowed.
pub async fn revoke_consents(
    state: &AppState,
    user: &User,
    client_id: Option<&str>,
) -> Result<u64, UserError> {
    let n = state.store.delete_consents(&user.id, client_id).await?;
    let revoked = state
        .store
        .revoke_families(None, Some(&user.id), client_id, now())
        .await?;
    state.store.revoke_access_tokens(&revoked).await?;
    Ok(n)
}

/// Ends the user's sessions and revokes every refresh token family (and access tokens issued
/// from them).
pub async fn end_everything(state: &AppState, user_id: &str) -> Result<(), UserError> {
    state.store.delete_user_sessions(user_id).await?;
    let revoked = state
        .store
        .revoke_families(None, Some(user_id), None, now())
        .await?;
    state.store.revoke_access_tokens(&revoked).await?;
    Ok(())
}

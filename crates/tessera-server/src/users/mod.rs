//! People who sign in: the local user store's records, password hashing, and the changes that
//! must end a user's sessions and refresh tokens (disable, new password, delete).

pub mod limits;
pub mod model;
pub mod ops;
pub mod password;
pub mod role;

pub use model::{Consent, NewUser, User, UserPatch, Username};
pub use role::Role;

use crate::state::SharedState;
use std::time::Duration;

/// Every minute: forgets expired guess-limiter state; every ten minutes: deletes expired
/// sessions (the pages' and the console's), codes, device codes, refresh token families and the
/// console's expired sign-up links.
pub fn spawn_housekeeping(state: SharedState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            state.guesses.sweep();
            if n.is_multiple_of(10) {
                match state
                    .store
                    .purge_expired_user_grants(crate::model::now())
                    .await
                {
                    Ok(rows) if rows > 0 => tracing::debug!(rows, "purged expired user grants"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not purge expired user grants"),
                }
                crate::console::session::purge(&state).await;
                crate::console::signup::purge(&state).await;
            }
            n = n.wrapping_add(1);
        }
    })
}

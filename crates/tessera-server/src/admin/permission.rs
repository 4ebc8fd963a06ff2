//! Which admin scope each operation needs, checked before the request body is read: a caller
//! without the scope learns nothing about its input.

use super::audit::Actor;
use super::auth::Admin;
use crate::net::RemoteAddr;
use crate::state::SharedState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;

/// An admin scope, as a type, so that a handler's signature says what it needs.
pub trait AdminScope: Send + Sync + 'static {
    /// The scope name (`tessera.clients.write`, …).
    const NAME: &'static str;
}

macro_rules! admin_scopes {
    ($($(#[$doc:meta])* $ty:ident => $name:literal;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;
            impl AdminScope for $ty {
                const NAME: &'static str = $name;
            }
        )*
    };
}

admin_scopes! {
    /// `tessera.clients.read`: read client registrations.
    ClientsRead => "tessera.clients.read";
    /// `tessera.clients.write`: create, change, enable, disable and delete clients; reset secrets.
    ClientsWrite => "tessera.clients.write";
    /// `tessera.scopes.read`: read scopes and their permissions.
    ScopesRead => "tessera.scopes.read";
    /// `tessera.scopes.write`: create, change and delete scopes.
    ScopesWrite => "tessera.scopes.write";
    /// `tessera.audit.read`: read the audit log.
    AuditRead => "tessera.audit.read";
    /// `tessera.keys.read`: list signing keys.
    KeysRead => "tessera.keys.read";
    /// `tessera.keys.write`: rotate and retire signing keys.
    KeysWrite => "tessera.keys.write";
}

/// An admin whose token carries the scope `S`; otherwise the request is refused with 401 or
/// 403 `insufficient_scope` (RFC 6750 §3.1).
#[derive(Debug, Clone)]
pub struct Authorized<S> {
    /// The authenticated caller.
    pub admin: Admin,
    _scope: PhantomData<S>,
}

impl<S> Authorized<S> {
    /// The caller as the audit log names it.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.admin.client_id.clone(),
            remote_addr: self.admin.remote_addr.clone(),
        }
    }
}

impl<S: AdminScope> FromRequestParts<SharedState> for Authorized<S> {
    type Rejection = super::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let mut admin = Admin::from_request_parts(parts, state).await?;
        admin.require(S::NAME)?;
        // The address as the rest of the server sees it (X-Forwarded-For when trusted).
        let Ok(remote) = RemoteAddr::from_request_parts(parts, state).await;
        admin.remote_addr = Some(remote.0.to_string());
        Ok(Self {
            admin,
            _scope: PhantomData,
        })
    }
}

//! Console roles: what a person signed in to the console at `/admin/` may see and do, as the
//! admin scopes the role maps to.
//!
//! - `viewer`: every `*.read` admin scope; changes nothing.
//! - `operator`: a viewer who may also enable and disable clients, rotate client secrets, and
//!   rotate and retire signing keys.
//! - `admin`: every admin scope.
//!
//! The operator's client operations are guarded in the admin API by `tessera.clients.write`,
//! which also allows creating, changing and deleting clients: an operator acts with that scope
//! for those three operations only (see [`Operation`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A console role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// A viewer who may also enable and disable clients and rotate secrets and keys.
    Operator,
    /// Everything.
    Admin,
}

/// The admin scopes every console role reads with.
pub const READ_SCOPES: [&str; 5] = [
    "tessera.clients.read",
    "tessera.scopes.read",
    "tessera.keys.read",
    "tessera.users.read",
    "tessera.audit.read",
];

/// Every admin scope: what the `admin` role acts with.
pub const ALL_SCOPES: [&str; 9] = [
    "tessera.clients.read",
    "tessera.clients.write",
    "tessera.scopes.read",
    "tessera.scopes.write",
    "tessera.keys.read",
    "tessera.keys.write",
    "tessera.users.read",
    "tessera.users.write",
    "tessera.audit.read",
];

/// A change made from the console, named by the audit action it records, with the admin scope
/// that guards it in the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `client.enable`.
    ClientEnable,
    /// `client.disable`.
    ClientDisable,
    /// `client.secret_rotate`.
    ClientSecretRotate,
    /// `client.create`, `client.update`, `client.delete`.
    ClientWrite,
    /// `scope.create`, `scope.update`, `scope.delete`.
    ScopeWrite,
    /// `key.rotate`, `key.retire`.
    KeyWrite,
    /// `user.*`.
    UserWrite,
}

impl Operation {
    /// The admin scope that guards the operation in the admin API.
    pub fn scope(self) -> &'static str {
        match self {
            Self::ClientEnable
            | Self::ClientDisable
            | Self::ClientSecretRotate
            | Self::ClientWrite => "tessera.clients.write",
            Self::ScopeWrite => "tessera.scopes.write",
            Self::KeyWrite => "tessera.keys.write",
            Self::UserWrite => "tessera.users.write",
        }
    }
}

impl Role {
    /// Every role, least to most.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The role's name: `viewer`, `operator` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    /// Parses a role name, with a sentence naming the roles when it is none of them.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Self::Viewer),
            "operator" => Ok(Self::Operator),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "{other:?} is not a console role: use viewer, operator or admin"
            )),
        }
    }

    /// The admin scopes the role acts with in full (an operator's narrower client operations
    /// are in [`Role::may`], not here).
    pub fn scopes(self) -> Vec<&'static str> {
        match self {
            Self::Viewer => READ_SCOPES.to_vec(),
            Self::Operator => {
                let mut s = READ_SCOPES.to_vec();
                s.push("tessera.keys.write");
                s
            }
            Self::Admin => ALL_SCOPES.to_vec(),
        }
    }

    /// Whether the role reads with `scope` (or, for a write scope, acts with it in full).
    pub fn has_scope(self, scope: &str) -> bool {
        self.scopes().contains(&scope)
    }

    /// Whether the role may perform `op`.
    pub fn may(self, op: Operation) -> bool {
        match self {
            Self::Admin => true,
            Self::Operator => matches!(
                op,
                Operation::ClientEnable
                    | Operation::ClientDisable
                    | Operation::ClientSecretRotate
                    | Operation::KeyWrite
            ),
            Self::Viewer => false,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_to_admin_scopes() {
        assert!(Role::Viewer.scopes().iter().all(|s| s.ends_with(".read")));
        assert_eq!(Role::Viewer.scopes().len(), READ_SCOPES.len());
        assert!(Role::Operator.has_scope("tessera.keys.write"));
        assert!(!Role::Operator.has_scope("tessera.clients.write"));
        assert!(Role::Admin.has_scope("tessera.users.write"));
        for op in [
            Operation::ClientEnable,
            Operation::ClientDisable,
            Operation::ClientSecretRotate,
            Operation::KeyWrite,
        ] {
            assert!(Role::Operator.may(op) && Role::Admin.may(op) && !Role::Viewer.may(op));
        }
        for op in [
            Operation::ClientWrite,
            Operation::ScopeWrite,
            Operation::UserWrite,
        ] {
            assert!(!Role::Operator.may(op) && Role::Admin.may(op));
        }
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
            assert_eq!(
                serde_json::to_value(r).ok(),
                Some(serde_json::json!(r.as_str()))
            );
        }
        assert!(Role::parse("root").is_err());
    }
}

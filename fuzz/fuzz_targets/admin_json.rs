//! The admin API's JSON request bodies: deserialisation of each request type (as the API's JSON
//! extractor does it) and the validation the handlers apply to it.
//!
//! The first byte chooses the body type: a new client, a client patch (applied to a valid
//! registration), a new scope, a scope patch, a new user, a user patch, a secret rotation, a key
//! rotation, a password; the rest is the JSON.
//!
//! Holds: no panic; every refusal is an admin API error with a 4xx status; a registration or scope
//! that passes validation passes it again unchanged (validation normalises once), and a client
//! registration round-trips through its JSON form; a username normalises to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use tessera_server::admin::clients::{ClientPatch, NewClient};
use tessera_server::admin::error::ApiError;
use tessera_server::admin::keys::RotateKeys;
use tessera_server::admin::scopes::{NewScope, ScopePatch};
use tessera_server::admin::secrets::RotateSecret;
use tessera_server::admin::users::PasswordBody;
use tessera_server::admin::validate::{self, Limits};
use tessera_server::model::Client;
use tessera_server::users::model::{NewUser, UserPatch, Username, check_email, check_text};

fn registered() -> BTreeSet<String> {
    ["svc.data.read".to_owned(), "svc.data.write".to_owned()].into()
}

fn limits(r: &BTreeSet<String>) -> Limits<'_> {
    Limits {
        registered_scopes: r,
        max_lifetime_secs: 3600,
        scope_naming: tessera_proto::ScopeNaming::ServiceObjectRight,
    }
}

fn assert_4xx(e: &ApiError) {
    match e {
        ApiError::Status { status, code, .. } => {
            assert!(status.is_client_error(), "validation answered {status}");
            assert_eq!(*code, "invalid_request");
        }
        ApiError::Bearer(_) => panic!("validation answered a bearer error"),
    }
}

/// Validation is a fixed point, and a valid registration round-trips through JSON.
fn check_client(mut c: Client) {
    let r = registered();
    match validate::client(&mut c, limits(&r)) {
        Ok(()) => {
            let mut again = c.clone();
            if let Err(e) = validate::client(&mut again, limits(&r)) {
                panic!("a validated client fails validation again: {e:?}");
            }
            assert_eq!(again, c, "validating twice changed the client");
            let json = match serde_json::to_value(&c) {
                Ok(j) => j,
                Err(e) => panic!("a valid client does not serialise: {e}"),
            };
            let back: Client = match serde_json::from_value(json) {
                Ok(b) => b,
                Err(e) => panic!("a valid client does not read back: {e}"),
            };
            assert_eq!(back, c, "the client changed through JSON");
        }
        Err(e) => assert_4xx(&e),
    }
}

fn base_client() -> Client {
    match serde_json::from_value(serde_json::json!({
        "client_id": "base", "name": "base", "enabled": true,
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "allowed_scopes": ["svc.data.read"],
    })) {
        Ok(c) => c,
        Err(e) => panic!("the base client: {e}"),
    }
}

fn check_scope(name: Option<&str>, description: &str, mut permissions: Vec<String>) {
    if let Some(name) = name {
        // Under either naming, a refusal is a 400; the rest goes on for names of the default one.
        if let Err(e) = validate::new_scope_name(name, tessera_proto::ScopeNaming::Rfc6749) {
            assert_4xx(&e);
        }
        if let Err(e) =
            validate::new_scope_name(name, tessera_proto::ScopeNaming::ServiceObjectRight)
        {
            return assert_4xx(&e);
        }
    }
    match validate::scope_fields(description, &mut permissions) {
        Ok(()) => {
            let mut again = permissions.clone();
            assert!(validate::scope_fields(description, &mut again).is_ok());
            assert_eq!(again, permissions);
        }
        Err(e) => assert_4xx(&e),
    }
}

fn check_username(u: &Username) {
    assert_eq!(
        Username::parse(u.as_str()).as_ref(),
        Ok(u),
        "a username does not normalise to itself"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, json)) = data.split_first() else {
        return;
    };
    match kind % 9 {
        0 => {
            if let Ok(new) = serde_json::from_slice::<NewClient>(json) {
                let id = new.client_id.clone().unwrap_or_else(|| "tsc_fuzz".into());
                check_client(new.into_client(id, 0));
            }
        }
        1 => {
            if let Ok(patch) = serde_json::from_slice::<ClientPatch>(json) {
                check_client(patch.apply(base_client()));
            }
        }
        2 => {
            if let Ok(new) = serde_json::from_slice::<NewScope>(json) {
                check_scope(Some(&new.name), &new.description, new.permissions);
            }
        }
        3 => {
            if let Ok(p) = serde_json::from_slice::<ScopePatch>(json) {
                check_scope(
                    None,
                    p.description.as_deref().unwrap_or(""),
                    p.permissions.unwrap_or_default(),
                );
            }
        }
        4 => {
            if let Ok(u) = serde_json::from_slice::<NewUser>(json) {
                check_username(&u.username);
                let _ = check_email(&u.email);
                let _ = check_text("display_name", &u.display_name);
            }
            // The username alone, as any string.
            if let Ok(s) = serde_json::from_slice::<String>(json)
                && let Ok(u) = Username::parse(&s)
            {
                check_username(&u);
            }
        }
        5 => {
            if let Ok(p) = serde_json::from_slice::<UserPatch>(json) {
                let _ = p.email.as_deref().map(check_email);
                let _ = p
                    .display_name
                    .as_deref()
                    .map(|d| check_text("display_name", d));
            }
        }
        6 => {
            let _ = serde_json::from_slice::<RotateSecret>(json);
        }
        7 => {
            let _ = serde_json::from_slice::<RotateKeys>(json);
        }
        _ => {
            let _ = serde_json::from_slice::<PasswordBody>(json);
        }
    }
});

//! The declarative setup file: applied at start-up, idempotent, audited as `setup-file`, secrets
//! only from the environment or a file, and all-or-nothing when something is wrong.

use super::{AdminApi, config_for};
use crate::admin::restart_config;
use crate::helpers::{TestApp, assert_oauth_error, spawn_app, spawn_app_with, start};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tessera_server::setup_file::{self, Outcome};
use tessera_server::startup::Application;

const SECRET_A: &str = "first-secret-from-a-file-0123456789abcdef";
const SECRET_B: &str = "second-secret-from-a-file-0123456789abcdef";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn setup_toml(description: &str, name: &str, secret_file: &str) -> String {
    format!(
        r#"
[[scopes]]
name = "core.accounting.read"
description = "{description}"
permissions = ["GET /api/invoices", "GET /api/invoices/{{id}}"]

[[scopes]]
name = "core.accounting.write"
description = "Write invoices"
permissions = ["POST /api/invoices"]

[[clients]]
client_id = "billing"
name = "{name}"
allowed_scopes = ["core.accounting.read", "core.accounting.write"]
default_scopes = ["core.accounting.read"]
audiences = ["https://api.example.com/"]
access_token_lifetime = 300
secret_file = "{secret_file}"

[clients.extra_claims]
tenant = "acme"

[[clients]]
client_id = "partner"
name = "Partner"
token_endpoint_auth_method = "private_key_jwt"
jwks_uri = "https://partner.example.com/jwks.json"
"#
    )
}

async fn setup_events(app: &TestApp) -> Vec<Value> {
    let api = AdminApi::new(app).await;
    let all = api.get(&["audit"]).await.body["events"]
        .as_array()
        .unwrap()
        .clone();
    all.into_iter()
        .filter(|e| e["actor"] == "setup-file")
        .collect()
}

#[tokio::test]
async fn applied_at_start_idempotent_and_updated_when_changed() {
    let files = tempfile::tempdir().unwrap();
    write(files.path(), "billing.secret", &format!("{SECRET_A}\n"));
    let setup = write(
        files.path(),
        "setup.toml",
        &setup_toml("Read invoices", "Billing", "billing.secret"),
    );
    let app = spawn_app_with(|c| c.setup_file = Some(setup.clone())).await;

    // The client works with the secret from the file; the token reflects the registration.
    let t = app.cc_token("billing", SECRET_A, &[]).await;
    assert_eq!(t["scope"], "core.accounting.read");
    assert_eq!(t["expires_in"], 300);
    let api = AdminApi::new(&app).await;
    let scope = api.get(&["scopes", "core.accounting.read"]).await.body;
    assert_eq!(scope["permissions"][1], "GET /api/invoices/{id}");
    assert_eq!(scope["clients"][0]["client_id"], "billing");
    assert_eq!(
        api.get(&["clients", "partner"]).await.body["token_endpoint_auth_methods"],
        json!(["private_key_jwt"])
    );
    let events = setup_events(&app).await;
    assert_eq!(events.len(), 4, "two scopes and two clients created");
    for e in &events {
        assert!(e["action"].as_str().unwrap().ends_with(".create"));
        assert!(!e.to_string().contains(SECRET_A));
    }
    // An admin disables the partner; the file does not say `enabled`, so that sticks.
    api.post(&["clients", "partner", "disable"], serde_json::json!({}))
        .await
        .ok();
    drop(api);

    // Applying the same file again changes nothing.
    let state = app.state.clone();
    let again = setup_file::apply_file_with_env(&state, &setup, &|_| None)
        .await
        .unwrap();
    assert_eq!(
        again,
        Outcome {
            created: 0,
            updated: 0,
            unchanged: 4
        }
    );
    let config = restart_config(&app, Some(setup.clone()));
    let keep = app.stop().await;
    let app = start(config).await;
    assert_eq!(
        setup_events(&app).await.len(),
        4,
        "a restart with the same file writes nothing"
    );
    app.cc_token("billing", SECRET_A, &[]).await;

    // A changed file: a description, a name and the secret change; a scope is added.
    write(files.path(), "billing-new.secret", SECRET_B);
    let mut text = setup_toml("Read all invoices", "Billing v2", "billing-new.secret");
    text.push_str("\n[[scopes]]\nname = \"core.reports.read\"\n");
    let setup2 = write(files.path(), "setup2.toml", &text);
    let config = restart_config(&app, Some(setup2));
    let keep_dir = app.stop().await;
    assert!(keep_dir.is_none());
    let app = start(config).await;
    let api = AdminApi::new(&app).await;
    assert_eq!(
        api.get(&["scopes", "core.accounting.read"]).await.body["description"],
        "Read all invoices"
    );
    assert_eq!(api.get(&["scopes", "core.reports.read"]).await.status, 200);
    assert_eq!(
        api.get(&["clients", "billing"]).await.body["name"],
        "Billing v2"
    );
    assert_eq!(
        api.get(&["clients", "partner"]).await.body["enabled"],
        false
    );
    app.cc_token("billing", SECRET_B, &[]).await;
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", SECRET_A)),
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let events = setup_events(&app).await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .take(4)
        .collect();
    assert_eq!(
        actions,
        [
            "client.secret_rotate",
            "client.update",
            "scope.create",
            "scope.update"
        ]
    );
    assert_eq!(events[1]["before"]["name"], "Billing");
    assert_eq!(events[1]["after"]["name"], "Billing v2");
    for e in &events {
        let text = e.to_string();
        assert!(
            !text.contains(SECRET_A) && !text.contains(SECRET_B),
            "{text}"
        );
    }
    drop(keep);
}

#[tokio::test]
async fn secrets_come_from_the_environment() {
    let app = spawn_app().await;
    let files = tempfile::tempdir().unwrap();
    let setup = write(
        files.path(),
        "s.toml",
        "[[clients]]\nclient_id = \"env-client\"\nname = \"From env\"\ntoken_endpoint_auth_method = \"client_secret_post\"\nsecret_env = \"ENV_CLIENT_SECRET\"\n",
    );
    let env = |k: &str| (k == "ENV_CLIENT_SECRET").then(|| SECRET_B.to_owned());
    let o = setup_file::apply_file_with_env(&app.state, &setup, &env)
        .await
        .unwrap();
    assert_eq!(
        o,
        Outcome {
            created: 1,
            updated: 0,
            unchanged: 0
        }
    );
    let r = app
        .form_post(
            "/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "env-client"),
                ("client_secret", SECRET_B),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    // Without the variable, the file is refused, naming the variable (never a value).
    let err = setup_file::apply_file_with_env(&app.state, &setup, &|_| None)
        .await
        .unwrap_err();
    assert!(
        err.contains("ENV_CLIENT_SECRET") && err.contains("not set"),
        "{err}"
    );
}

/// Each broken file is refused with a sentence naming the entry and the problem, and changes
/// nothing, not even the entries before the broken one.
#[tokio::test]
async fn broken_files_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let files = tempfile::tempdir().unwrap();
    write(files.path(), "good.secret", SECRET_A);
    write(files.path(), "short.secret", "too-short");
    write(files.path(), "tiny.secret", "seven77");
    let scope = "[[scopes]]\nname = \"core.early.read\"\n\n";
    let client =
        |extra: &str| format!("{scope}[[clients]]\nclient_id = \"c\"\nname = \"C\"\n{extra}\n");
    let cases: Vec<(String, &str)> = vec![
        (
            client("secret = \"inline-secret-value-inline-secret-value\"\n"),
            "inline secret is refused",
        ),
        (
            client("client_secret = \"inline\"\n"),
            "inline client_secret is refused",
        ),
        (client(""), "needs a secret"),
        (
            client("secret_file = \"missing.secret\""),
            "cannot read secret_file",
        ),
        (
            client("secret_file = \"short.secret\""),
            "32 to 512 characters",
        ),
        (
            client("secret_file = \"tiny.secret\"\nsecret_imported = true"),
            "8 to 512 characters",
        ),
        (client("secret_imported = true"), "no secret is named"),
        (
            client(
                "secret_file = \"tiny.secret\"\nsecret_imported = true\ntoken_endpoint_auth_methods = [\"client_secret_jwt\"]",
            ),
            "8 to 512 characters",
        ),
        (
            client(
                "secret_env = \"SIXTEEN\"\nsecret_imported = true\ntoken_endpoint_auth_methods = [\"client_secret_jwt\"]",
            ),
            "32 bytes for HS256",
        ),
        (
            client("secret_file = \"good.secret\"\nsecret_imported = \"yes\""),
            "secret_imported must be true or false",
        ),
        (
            client("secret_file = \"good.secret\"\ntoken_endpoint_auth_methods = []"),
            "may not be empty",
        ),
        (
            client(
                "secret_file = \"good.secret\"\ngrant_types = [\"authorization_code\"]\nredirect_uris = [\"https://app.example/cb\"]\ntoken_endpoint_auth_methods = [\"none\"]\nrequire_pkce = false",
            ),
            "only for a confidential client",
        ),
        (
            client("secret_env = \"NOT_SET_ANYWHERE\""),
            "NOT_SET_ANYWHERE",
        ),
        (
            client("secret_env = \"A\"\nsecret_file = \"good.secret\""),
            "not both",
        ),
        (
            client("secret_file = \"good.secret\"\nallowed_scopes = [\"core.unknown.read\"]"),
            "not registered: core.unknown.read",
        ),
        (
            client("secret_file = \"good.secret\"\naccess_token_lifetime = 0"),
            "access_token_lifetime",
        ),
        (
            client("secret_file = \"good.secret\"\ncolour = \"blue\""),
            "unknown field `colour`",
        ),
        (
            client(
                "secret_file = \"good.secret\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\njwks_uri = \"https://x.example/jwks\"",
            ),
            "uses no secret",
        ),
        (
            format!("{scope}[[clients]]\nname = \"no id\"\nsecret_file = \"good.secret\"\n"),
            "client_id is required",
        ),
        (
            format!("{scope}[[scopes]]\nname = \"core.early.read\"\n"),
            "described twice",
        ),
        (
            "[[scopes]]\nname = \"tessera.clients.read\"\n".to_owned(),
            "Tessera's own",
        ),
        (
            "[[scopes]]\nname = \"Not.Valid\"\n".to_owned(),
            "service.object.right",
        ),
        (
            format!("{scope}[[widgets]]\nname = \"x\"\n"),
            "unknown field `widgets`",
        ),
        ("this is not toml".to_owned(), "expected"),
    ];
    let before = AdminApi::new(&app).await.get(&["audit"]).await.body["events"]
        .as_array()
        .unwrap()
        .len();
    for (text, needle) in cases {
        let path = write(files.path(), "bad.toml", &text);
        let err = setup_file::apply_file_with_env(&app.state, &path, &|k| {
            (k == "SIXTEEN").then(|| "sixteen-bytes-xx".to_owned())
        })
        .await
        .unwrap_err();
        assert!(
            err.contains(needle),
            "{err:?} should mention {needle:?}\n{text}"
        );
        assert!(err.contains("bad.toml"), "{err}");
        assert!(!err.contains("inline-secret-value"), "{err}");
    }
    let api = AdminApi::new(&app).await;
    assert_eq!(api.get(&["scopes", "core.early.read"]).await.status, 404);
    assert_eq!(api.get(&["clients", "c"]).await.status, 404);
    assert_eq!(
        api.get(&["audit"]).await.body["events"]
            .as_array()
            .unwrap()
            .len(),
        before
    );
}

#[tokio::test]
async fn a_bad_setup_file_stops_the_server_from_starting() {
    let files = tempfile::tempdir().unwrap();
    let setup = write(
        files.path(),
        "setup.toml",
        "[[clients]]\nclient_id = \"x\"\nname = \"X\"\nsecret = \"never-write-secrets-in-the-setup-file\"\n",
    );
    let data = tempfile::tempdir().unwrap();
    let err = Application::build(config_for(data.path().join("data"), Some(setup)))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("setup.toml") && text.contains("inline secret"),
        "{text}"
    );
    assert!(!text.contains("never-write-secrets"), "{text}");
}

/// A setup file lists several methods, sets `require_pkce`, and imports a short secret from
/// another system with `secret_imported = true` (one trailing newline of its file dropped): the
/// client is marked, and applying the file again changes nothing.
#[tokio::test]
async fn methods_require_pkce_and_imported_secrets_from_the_file() {
    let app = spawn_app().await;
    let files = tempfile::tempdir().unwrap();
    write(files.path(), "curity.secret", "curity-7\n");
    let text = "[[clients]]\nclient_id = \"curity\"\nname = \"Curity\"\n\
        grant_types = [\"client_credentials\", \"authorization_code\"]\n\
        redirect_uris = [\"https://app.example/cb\"]\nrequire_pkce = false\n\
        token_endpoint_auth_methods = [\"client_secret_post\", \"client_secret_basic\"]\n\
        secret_file = \"curity.secret\"\nsecret_imported = true\n\n\
        [[clients]]\nclient_id = \"legacy\"\nname = \"Legacy\"\n\
        token_endpoint_auth_method = \"client_secret_basic\"\nsecret_env = \"LEGACY\"\n";
    let setup = write(files.path(), "s.toml", text);
    let env = |k: &str| (k == "LEGACY").then(|| SECRET_B.to_owned());
    let o = setup_file::apply_file_with_env(&app.state, &setup, &env)
        .await
        .unwrap();
    assert_eq!(o.created, 2);
    let api = AdminApi::new(&app).await;
    let c = api.get(&["clients", "curity"]).await;
    assert_eq!(
        c.ok()["token_endpoint_auth_methods"],
        json!(["client_secret_post", "client_secret_basic"])
    );
    assert_eq!(c.body["require_pkce"], false);
    assert_eq!(c.body["imported_secret"], true);
    let legacy = api.get(&["clients", "legacy"]).await;
    assert_eq!(
        legacy.ok()["token_endpoint_auth_methods"],
        json!(["client_secret_basic"])
    );
    assert_eq!(legacy.body["imported_secret"], false);
    for (id, secret) in [("curity", "curity-7"), ("legacy", SECRET_B)] {
        assert_eq!(
            app.token(&[("grant_type", "client_credentials")], Some((id, secret)))
                .await
                .status(),
            200,
            "{id}"
        );
    }
    let again = setup_file::apply_file_with_env(&app.state, &setup, &env)
        .await
        .unwrap();
    assert_eq!(
        again,
        Outcome {
            created: 0,
            updated: 0,
            unchanged: 2
        }
    );
    // The mark follows the file: the same secret, now said to be imported.
    let marked = text.replace(
        "secret_env = \"LEGACY\"\n",
        "secret_env = \"LEGACY\"\nsecret_imported = true\n",
    );
    let setup = write(files.path(), "s.toml", &marked);
    let o = setup_file::apply_file_with_env(&app.state, &setup, &env)
        .await
        .unwrap();
    assert_eq!((o.updated, o.unchanged), (1, 1));
    assert_eq!(
        api.get(&["clients", "legacy"]).await.body["imported_secret"],
        true
    );
}

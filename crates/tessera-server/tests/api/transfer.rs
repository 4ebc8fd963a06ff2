//! `db export` / `db import`: SQLite to PostgreSQL and back, with every credential still working.

use crate::helpers::{ClientSpec, TestApp, spawn_app, start};
use crate::people::{code_client, create_user, create_user_with_role};
use crate::pg;
use crate::refresh::{refresh, tokens};
use secrecy::SecretString;
use serde_json::Value;
use std::time::Duration;
use tessera_proto::{ClientAuthMethod, TokenFormat};
use tessera_server::store::Store;
use tessera_server::transfer;
use tessera_server::users::Role;

struct Fixture {
    basic: String,
    opaque_secret: String,
    opaque_token: String,
    revoked_jwt: String,
    /// The current refresh token of a user's grant (rotated at every check).
    refresh_token: String,
}

async fn populate(app: &TestApp) -> Fixture {
    let basic = app
        .register_client(ClientSpec::new("basic").scopes(&["core.a.read"], &["core.a.read"]))
        .await;
    app.register_client(ClientSpec::new("hs").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let opaque_secret = app
        .register_client(ClientSpec::new("opaque").format(TokenFormat::Opaque))
        .await;
    let opaque_token = app.cc_token("opaque", &opaque_secret, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked_jwt = app.cc_token("basic", &basic, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.form_post(
            "/oauth2/revoke",
            &[("token", &revoked_jwt)],
            Some(("basic", &basic))
        )
        .await
        .status(),
        200
    );
    // Several methods, no PKCE demanded, an imported secret: all carried over.
    let api = crate::admin::AdminApi::new(app).await;
    let created = api
        .post(
            &["clients"],
            serde_json::json!({"name": "multi", "client_id": "multi", "client_secret": "imported-1",
                "token_endpoint_auth_methods": ["client_secret_post", "client_secret_basic"],
                "grant_types": ["client_credentials", "authorization_code"],
                "redirect_uris": ["https://app.example/cb"], "require_pkce": false}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    create_user(app, "rita").await;
    create_user_with_role(app, "olga", Some(Role::Operator)).await;
    code_client(app, "spa", true).await;
    let refresh_token = tokens(app, "rita", "core.accounting.read").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        basic,
        opaque_secret,
        opaque_token,
        revoked_jwt,
        refresh_token,
    }
}

async fn check(app: &TestApp, f: &mut Fixture, jwks: &Value) {
    let api = crate::admin::AdminApi::new(app).await;
    let multi = api.get(&["clients", "multi"]).await;
    assert_eq!(
        multi.ok()["token_endpoint_auth_methods"],
        serde_json::json!(["client_secret_post", "client_secret_basic"])
    );
    assert_eq!(multi.body["require_pkce"], false);
    assert_eq!(multi.body["imported_secret"], true);
    let r = app
        .form_post(
            "/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "multi"),
                ("client_secret", "imported-1"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    // Console roles are carried.
    let olga = app.state.store.get_user_by_username("olga").await.unwrap();
    assert_eq!(olga.map(|u| u.role), Some(Some(Role::Operator)));
    let rita = app.state.store.get_user_by_username("rita").await.unwrap();
    assert_eq!(rita.map(|u| u.role), Some(None));
    // The user's grant goes on: the refresh token works (and rotates).
    let r = refresh(app, &f.refresh_token, None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    f.refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.cc_token("basic", &f.basic, &[]).await["scope"],
        "core.a.read"
    );
    let r: Value = app
        .form_post(
            "/oauth2/introspect",
            &[("token", &f.opaque_token)],
            Some(("opaque", &f.opaque_secret)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], true);
    let r: Value = app
        .form_post(
            "/oauth2/introspect",
            &[("token", &f.revoked_jwt)],
            Some(("basic", &f.basic)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], false);
    let j: Value = app
        .http
        .get(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(&j, jwks);
}

#[tokio::test]
async fn sqlite_to_postgres_and_back() {
    let app = spawn_app().await;
    let mut f = populate(&app).await;
    let jwks: Value = app
        .http
        .get(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc = transfer::export(&app.state.store).await.unwrap();
    assert!(doc.audit_log.iter().any(|e| e.action == "token.revoke"));
    let text = serde_json::to_string(&doc).unwrap();
    assert!(
        !text.contains(&f.basic)
            && !text.contains(&f.opaque_token)
            && !text.contains(&f.refresh_token)
            && !text.contains(crate::people::PASSWORD),
        "no secret or token in clear"
    );
    let mut config = app.state.config.clone();
    let keys = tessera_server::crypto::Keys::load_or_create(&config.master_key_file()).unwrap();
    let dir = app.stop().await;

    // Into PostgreSQL.
    let pg_url = pg::fresh_database().await;
    let pg = Store::connect(&pg_url, 2, Duration::from_secs(5))
        .await
        .unwrap();
    let doc: transfer::Export = serde_json::from_str(&text).unwrap();
    let summary = transfer::import(&pg, &keys, &doc).await.unwrap();
    assert_eq!(summary.clients, 6, "five clients and the bootstrap admin");
    assert_eq!(
        (summary.users, summary.consents, summary.refresh_families),
        (2, 1, 1),
        "rita and olga"
    );
    // Importing twice is refused.
    assert!(matches!(
        transfer::import(&pg, &keys, &doc).await,
        Err(transfer::TransferError::NotEmpty { .. })
    ));
    pg.close().await;
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.issuer = None;
    config.database.url = Some(SecretString::from(pg_url));
    let on_pg = start(config.clone()).await;
    check(&on_pg, &mut f, &jwks).await;

    // And back into a fresh SQLite file.
    let back = transfer::export(&on_pg.state.store).await.unwrap();
    on_pg.stop().await;
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", sqlite_dir.path().join("back.db").display());
    let sqlite = Store::connect(&sqlite_url, 2, Duration::from_secs(5))
        .await
        .unwrap();
    transfer::import(&sqlite, &keys, &back).await.unwrap();
    sqlite.close().await;
    config.database.url = Some(SecretString::from(sqlite_url));
    let on_sqlite = start(config).await;
    check(&on_sqlite, &mut f, &jwks).await;
    drop(dir);
}

#[tokio::test]
async fn import_refuses_another_master_key() {
    let app = spawn_app().await;
    let doc = transfer::export(&app.state.store).await.unwrap();
    let other = tessera_server::crypto::Keys::from_master_b64(&"A".repeat(43)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(
        &format!("sqlite://{}", dir.path().join("x.db").display()),
        2,
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert!(matches!(
        transfer::import(&store, &other, &doc).await,
        Err(transfer::TransferError::WrongMasterKey)
    ));
    assert_eq!(
        store.row_counts().await.unwrap(),
        (0, 0, 0),
        "nothing written"
    );
}

//! `tokens.max_jwt_bytes`: a client whose largest access token would be too big for guards is
//! refused when it is registered (admin API, setup file), with the size and the setting named;
//! the size is that of the real token, built and signed.

use crate::admin::AdminApi;
use crate::helpers::{ClientSpec, TestApp, jwt_claims, spawn_app_with};
use serde_json::{Value, json};
use tessera_server::model::{Scope, now};

const ISSUER: &str = "https://auth.example.com";

/// Registers `names` as scopes in one go.
async fn register_scopes(app: &TestApp, names: &[String]) {
    let t = now();
    for name in names {
        let s = Scope {
            name: name.clone(),
            description: String::new(),
            permissions: vec![],
            created_at: t,
            updated_at: t,
        };
        app.state.store.insert_scope(&s).await.unwrap();
    }
    app.state
        .registry
        .reload_scopes(&app.state.store)
        .await
        .unwrap();
}

fn scope_names(n: usize, len: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let object = format!("o{i:03}{}", "x".repeat(len.saturating_sub(16)));
            format!("svc.{object}.read")
        })
        .collect()
}

#[tokio::test]
async fn the_measured_size_is_the_real_tokens_size() {
    let app = spawn_app_with(|c| c.issuer = Some(ISSUER.into())).await;
    let scopes = scope_names(40, 40);
    register_scopes(&app, &scopes).await;
    let names: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let mut spec = ClientSpec::new("measured")
        .scopes(&names, &[])
        .audiences(&["https://billing.example/", "https://ledger.example/"]);
    spec.extra_claims
        .insert("tenant".into(), Value::String("acme-corporation".into()));
    let secret = app.register_client(spec).await;
    let all = scopes.join(" ");
    let t = app
        .cc_token(
            "measured",
            &secret,
            &[
                ("scope", &all),
                ("audience", "https://billing.example/"),
                ("audience", "https://ledger.example/"),
            ],
        )
        .await;
    let token = t["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(token)["aud"].as_array().unwrap().len(), 2);
    let client = app.state.store.get_client("measured").await.unwrap();
    let measured = tessera_server::token_size::largest_access_token(&app.state, &client).unwrap();
    assert_eq!(measured, Some(token.len()));
}

#[tokio::test]
async fn a_client_whose_largest_token_is_too_big_is_refused_with_its_size() {
    // 300 scopes of 70 characters: a 21 kB scope claim, over the default 16 KiB.
    let app = spawn_app_with(|c| c.issuer = Some(ISSUER.into())).await;
    let scopes = scope_names(300, 70);
    register_scopes(&app, &scopes).await;
    let api = AdminApi::new(&app).await;
    let a = api
        .post(
            &["clients"],
            json!({"client_id": "wide", "name": "Wide", "allowed_scopes": scopes}),
        )
        .await;
    a.assert_error(400, "invalid_request", "tokens.max_jwt_bytes (16384 bytes)");
    let d = a.body["error_description"].as_str().unwrap();
    assert!(d.contains("all its 300 allowed scopes"), "{d}");
    let size: usize = d
        .split("would be ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(size > 21_000, "{d}");
    assert!(
        api.get(&["clients", "wide"]).await.status == 404,
        "nothing was stored"
    );
    // Opaque tokens do not grow with the scopes.
    let a = api
        .post(
            &["clients"],
            json!({"client_id": "wide-opaque", "name": "Wide", "allowed_scopes": scopes,
                   "access_token_format": "opaque"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    // Growing an existing client past the limit is refused the same way, and changes nothing.
    let few = &scopes[..10];
    api.client(json!({"client_id": "narrow", "name": "Narrow", "allowed_scopes": few}))
        .await;
    api.patch(&["clients", "narrow"], json!({"allowed_scopes": scopes}))
        .await
        .assert_error(400, "invalid_request", "tokens.max_jwt_bytes");
    assert_eq!(
        api.get(&["clients", "narrow"]).await.ok()["allowed_scopes"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    // And the setup file.
    let list = scopes
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let file = format!(
        "[[clients]]\nclient_id = \"wide-file\"\nname = \"Wide\"\nallowed_scopes = [{list}]\n"
    );
    let e = tessera_server::setup_file::apply_str(
        &app.state,
        &file,
        std::path::Path::new("."),
        &|_| None,
    )
    .await
    .err()
    .unwrap_or_default();
    assert!(
        e.contains("wide-file") && e.contains("tokens.max_jwt_bytes"),
        "{e}"
    );
}

#[tokio::test]
async fn the_limit_is_a_setting_and_counts_the_longest_subject() {
    // With the limit raised, the wide client is accepted.
    let app = spawn_app_with(|c| {
        c.issuer = Some(ISSUER.into());
        c.tokens.max_jwt_bytes = 32 * 1024;
    })
    .await;
    let scopes = scope_names(300, 70);
    register_scopes(&app, &scopes).await;
    let api = AdminApi::new(&app).await;
    api.client(json!({"client_id": "wide", "name": "Wide", "allowed_scopes": scopes}))
        .await;
    // The jwt-bearer grant's subject may be 255 four-byte characters: 1 kB more than a client id.
    let app = spawn_app_with(|c| c.issuer = Some(ISSUER.into())).await;
    let plain = app
        .state
        .registry
        .client("tessera-admin")
        .unwrap()
        .client
        .clone();
    let mut cc = plain.clone();
    cc.grant_types = vec![tessera_proto::GrantType::ClientCredentials];
    let mut jb = plain;
    jb.grant_types = vec![tessera_proto::GrantType::JwtBearer];
    let size = |c| {
        tessera_server::token_size::largest_access_token(&app.state, c)
            .unwrap()
            .unwrap()
    };
    let grows = size(&jb) - size(&cc);
    let b64 = |n: usize| n.div_ceil(3) * 4;
    assert!(
        grows >= b64(255 * 4 - cc.client_id.len()) - 4,
        "{grows} bytes more"
    );
    // A bad setting is refused at start.
    let e = tessera_server::config::Config::load_from(
        None,
        vec![("TESSERA_TOKENS_MAX_JWT_BYTES".to_owned(), "100".to_owned())],
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("tokens.max_jwt_bytes"), "{e}");
}

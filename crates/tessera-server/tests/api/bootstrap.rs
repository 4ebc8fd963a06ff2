//! The bootstrap admin credential: written before its client is stored, so a first start that
//! fails or dies in between never leaves a client whose secret nobody has; recovered at the next
//! start; never replaced behind the back of whoever holds it.

use crate::helpers::start;
use crate::pg;
use secrecy::SecretString;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tessera_server::config::Config;
use tessera_server::model::now;
use tessera_server::startup::Application;

/// A configuration on `dir`, on PostgreSQL when the suite runs there.
async fn config(dir: &Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        ..Default::default()
    };
    config.http.shutdown_grace_secs = 5;
    if std::env::var("TESSERA_TEST_BACKEND").as_deref() == Ok("postgres") {
        config.database.url = Some(SecretString::from(pg::fresh_database().await));
    }
    config
}

fn pending_files(file: &Path) -> Vec<PathBuf> {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(&format!("{name}.")) && n.ends_with(".pending")
        })
        .collect()
}

#[cfg(unix)]
fn assert_private(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
}

#[cfg(not(unix))]
fn assert_private(_: &Path) {}

#[tokio::test]
async fn a_first_start_that_cannot_write_the_credential_file_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path()).await;
    let file = config.credentials_file();
    // Something is in the way of the credential file: the first start fails...
    std::fs::create_dir_all(file.join("in-the-way")).unwrap();
    let err = Application::build(config.clone())
        .await
        .expect_err("the credential file cannot be written");
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "the error names the file: {err}"
    );
    assert!(!err.to_string().contains("tsec_"), "no secret in {err}");
    // ...and once it is out of the way, the next start puts a working credential there.
    std::fs::remove_dir_all(&file).unwrap();
    let app = start(config).await;
    assert_private(&file);
    let creds: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(creds["client_id"], "tessera-admin");
    let token = app.admin_token().await;
    assert!(!token.is_empty());
    assert!(pending_files(&file).is_empty(), "nothing is left pending");
    let kept = app.stop().await;
    drop(kept);
}

#[tokio::test]
async fn a_credential_left_pending_by_an_interrupted_start_is_moved_into_place() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path()).await;
    let file = config.credentials_file();
    let app = start(config.clone()).await;
    let (id, secret) = (app.admin_id.clone(), app.admin_secret.clone());
    app.stop().await;
    // As if the first start had died after storing the client, before moving the credential
    // into place; beside it, the leftover of an attempt whose client was never stored.
    let pending = file.with_file_name("admin-credentials.json.crashed.pending");
    std::fs::rename(&file, &pending).unwrap();
    let stale = file.with_file_name("admin-credentials.json.stale.pending");
    std::fs::write(
        &stale,
        serde_json::to_vec(&serde_json::json!({"issuer": "x", "token_endpoint": "x", "admin_api": "x", "client_id": id, "client_secret": "tsec_not_the_secret"})).unwrap(),
    )
    .unwrap();
    let app = start(config).await;
    assert_eq!(
        (app.admin_id.as_str(), app.admin_secret.as_str()),
        (id.as_str(), secret.as_str())
    );
    assert_private(&file);
    app.admin_token().await;
    assert!(
        pending_files(&file).is_empty(),
        "{:?}",
        pending_files(&file)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_missing_credential_file_never_replaces_the_secret() {
    // In a cluster only the instance that created the client has the file; another instance
    // (or an operator who moved the file to a vault) must not find the secret replaced.
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path()).await;
    let file = config.credentials_file();
    let app = start(config.clone()).await;
    let (id, secret) = (app.admin_id.clone(), app.admin_secret.clone());
    app.stop().await;
    std::fs::remove_file(&file).unwrap();
    let again = Application::build(config).await.unwrap();
    assert_eq!(again.bootstrap_credentials, None);
    assert!(!file.exists());
    let state = again.state();
    let client = state.registry.client(&id).unwrap();
    assert!(client.check_secret(&state.keys, &secret, now()));
}

//! The admin CLI (`tessera client|scope|audit|key`) as an operator runs it: the real binary
//! against a real server started in-process on 127.0.0.1:0 with its own data directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use support::Run;
use tempfile::TempDir;
use tessera_server::config::Config;
use tessera_server::startup::Application;
use tokio::sync::oneshot;

struct Server {
    base: String,
    credentials: PathBuf,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
    _dir: TempDir,
}

async fn server() -> Server {
    server_with(|_| {}).await
}

/// A server whose settings `f` adjusts.
async fn server_with(f: impl FnOnce(&mut Config)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    f(&mut config);
    let app = Application::build(config).await.unwrap();
    let state = app.state();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Server {
        base: state.issuer.clone(),
        credentials: state.config.credentials_file(),
        http: reqwest::Client::new(),
        _stop: stop,
        _dir: dir,
    }
}

fn from(o: Output) -> Run {
    Run {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn command(env: &[(&str, &str)]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"));
    for v in [
        "TESSERA_URL",
        "TESSERA_ADMIN_CREDENTIALS",
        "TESSERA_CLIENT_ID",
        "TESSERA_CLIENT_SECRET",
        "RUST_LOG",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl Server {
    /// Runs `tessera <args> --server … --admin-credentials …`.
    async fn run(&self, args: &[&str]) -> Run {
        let creds = self.credentials.to_str().unwrap();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--server", &self.base, "--admin-credentials", creds]);
        from(command(&[]).args(&all).output().await.unwrap())
    }

    /// Runs the binary with the given environment and no flags added.
    async fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        from(command(env).args(args).output().await.unwrap())
    }

    async fn token(&self, id: &str, secret: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/oauth2/token", self.base))
            .header("authorization", tessera_proto::basic::encode(id, secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    fn admin_credential(&self) -> (String, String) {
        let v: Value = serde_json::from_slice(&std::fs::read(&self.credentials).unwrap()).unwrap();
        (
            v["client_id"].as_str().unwrap().to_owned(),
            v["client_secret"].as_str().unwrap().to_owned(),
        )
    }
}

/// The value printed after `label` on a line of its own.
fn field(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in:\n{stdout}"))
        .trim()
        .to_owned()
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn scopes_and_clients_from_creation_to_deletion() {
    let s = server().await;
    let out = s
        .run(&[
            "scope",
            "create",
            "core.accounting.read",
            "--description",
            "Read invoices",
            "--permission",
            "GET /api/invoices",
            "--permission",
            "GET /api/invoices/{id}",
        ])
        .await
        .success();
    assert!(out.contains("core.accounting.read"), "{out}");

    let out = s
        .run(&[
            "client",
            "create",
            "--name",
            "billing",
            "--grant-type",
            "client_credentials",
            "--scope",
            "core.accounting.read",
            "--default-scope",
            "core.accounting.read",
            "--token-lifetime",
            "10m",
            "--audience",
            "https://api.example.com/",
            "--claim",
            "tenant=acme",
        ])
        .await
        .success();
    let id = field(&out, "client_id:");
    let secret = field(&out, "client_secret:");
    assert!(id.starts_with("tsc_"), "{out}");
    assert!(secret.starts_with("tsec_"), "{out}");
    assert!(out.contains("cannot be shown again"), "{out}");

    // The printed secret gets a token, shaped by what was asked.
    let (status, t) = s.token(&id, &secret).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["expires_in"], 600);
    assert_eq!(t["scope"], "core.accounting.read");
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], id.as_str());
    assert_eq!(c["aud"], "https://api.example.com/");
    assert_eq!(c["tenant"], "acme");

    // Listed and shown, without the secret.
    let list = s.run(&["client", "list"]).await.success();
    assert!(
        list.contains("CLIENT ID") && list.contains(&id) && list.contains("billing"),
        "{list}"
    );
    let show = s.run(&["client", "show", &id]).await.success();
    assert!(
        show.contains("core.accounting.read") && show.contains("10m"),
        "{show}"
    );
    assert!(!show.contains(&secret) && !list.contains(&secret));
    let scope = s
        .run(&["scope", "show", "core.accounting.read"])
        .await
        .success();
    assert!(
        scope.contains("GET /api/invoices/{id}") && scope.contains(&id),
        "{scope}"
    );
    let scopes = s.run(&["scope", "list"]).await.success();
    assert!(
        scopes.contains("core.accounting.read") && scopes.contains("Read invoices"),
        "{scopes}"
    );

    // Update, disable, enable.
    s.run(&[
        "client",
        "update",
        &id,
        "--name",
        "billing v2",
        "--token-lifetime",
        "90s",
    ])
    .await
    .success();
    assert!(
        s.run(&["client", "show", &id])
            .await
            .success()
            .contains("billing v2")
    );
    assert_eq!(s.token(&id, &secret).await.1["expires_in"], 90);
    s.run(&["client", "disable", &id]).await.success();
    let (status, body) = s.token(&id, &secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    s.run(&["client", "enable", &id]).await.success();
    assert_eq!(s.token(&id, &secret).await.0, 200);

    // Rotation with a grace period: both secrets work.
    let out = s
        .run(&["client", "rotate-secret", &id, "--grace", "24h"])
        .await
        .success();
    let new_secret = field(&out, "client_secret:");
    assert_ne!(new_secret, secret);
    assert!(
        out.contains("cannot be shown again") && out.contains("keeps working for 1d"),
        "{out}"
    );
    assert_eq!(s.token(&id, &secret).await.0, 200);
    assert_eq!(s.token(&id, &new_secret).await.0, 200);
    // Without one, the old secret stops at once.
    let out = s.run(&["client", "rotate-secret", &id]).await.success();
    let third = field(&out, "client_secret:");
    assert_eq!(s.token(&id, &new_secret).await.0, 401);
    assert_eq!(s.token(&id, &third).await.0, 200);

    // The scope cannot go while the client may use it.
    s.run(&["scope", "delete", "core.accounting.read"])
        .await
        .failure("still allowed");
    s.run(&["client", "delete", &id]).await.success();
    assert_eq!(s.token(&id, &third).await.0, 401);
    s.run(&["client", "show", &id])
        .await
        .failure("does not exist");
    s.run(&[
        "scope",
        "update",
        "core.accounting.read",
        "--description",
        "Read all invoices",
    ])
    .await
    .success();
    s.run(&["scope", "delete", "core.accounting.read"])
        .await
        .success();
    s.run(&["scope", "show", "core.accounting.read"])
        .await
        .failure("does not exist");

    // The audit log tells the story, newest first.
    let audit = s.run(&["audit", "--target", &id]).await.success();
    let actions: Vec<&str> = audit
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|a| *a != "client.auth_failed")
        .collect();
    assert_eq!(
        actions,
        [
            "client.delete",
            "client.secret_rotate",
            "client.secret_rotate",
            "client.enable",
            "client.disable",
            "client.update",
            "client.create"
        ],
        "{audit}"
    );
}

#[tokio::test]
async fn json_output_for_scripts() {
    let s = server().await;
    s.run(&["scope", "create", "core.things.read", "--json"])
        .await
        .success();
    let out = s
        .run(&[
            "client",
            "create",
            "--name",
            "scripted",
            "--client-id",
            "a/b c%d+é",
            "--scope",
            "core.things.read",
            "--token-format",
            "opaque",
            "--json",
        ])
        .await;
    // Scopes without default scopes: a note on stderr, the JSON on stdout untouched.
    assert!(
        out.stderr.contains("no default scopes") && out.stderr.contains("--default-scope"),
        "{}",
        out.stderr
    );
    let out = out.success();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["client_id"], "a/b c%d+é");
    assert_eq!(v["access_token_format"], "opaque");
    let secret = v["client_secret"].as_str().unwrap();
    let (status, t) = s.token("a/b c%d+é", secret).await;
    assert_eq!(status, 200);
    assert!(t["access_token"].as_str().unwrap().starts_with("tat_"));

    let show: Value = serde_json::from_str(
        &s.run(&["client", "show", "a/b c%d+é", "--json"])
            .await
            .success(),
    )
    .unwrap();
    assert_eq!(show["name"], "scripted");
    assert!(show.get("client_secret").is_none());
    let list: Value =
        serde_json::from_str(&s.run(&["client", "list", "--json"]).await.success()).unwrap();
    assert_eq!(list["clients"].as_array().unwrap().len(), 2);
    let scopes: Value =
        serde_json::from_str(&s.run(&["scope", "list", "--json"]).await.success()).unwrap();
    assert!(
        scopes["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == "core.things.read")
    );
    let rotated: Value = serde_json::from_str(
        &s.run(&["client", "rotate-secret", "a/b c%d+é", "--json"])
            .await
            .success(),
    )
    .unwrap();
    assert!(
        rotated["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("tsec_")
    );
    let audit: Value = serde_json::from_str(
        &s.run(&["audit", "--action", "client.", "--json"])
            .await
            .success(),
    )
    .unwrap();
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events[0]["action"], "client.secret_rotate");
    assert!(!audit.to_string().contains(secret));
    let keys: Value =
        serde_json::from_str(&s.run(&["key", "list", "--json"]).await.success()).unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 3);
    let deleted: Value = serde_json::from_str(
        &s.run(&["client", "delete", "a/b c%d+é", "--json"])
            .await
            .success(),
    )
    .unwrap();
    assert_eq!(deleted["deleted"], "a/b c%d+é");
}

#[tokio::test]
async fn keys_rotate_and_retire() {
    let s = server().await;
    let list = s.run(&["key", "list"]).await.success();
    assert_eq!(list.lines().count(), 4, "{list}");
    let es256 = list
        .lines()
        .find(|l| l.contains("ES256"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let out = s.run(&["key", "rotate", "--alg", "ES256"]).await.success();
    assert!(out.contains("published now"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("ES256") && l.contains("next")),
        "{out}"
    );
    let out = s.run(&["key", "retire", &es256]).await.success();
    assert!(
        out.lines()
            .any(|l| l.starts_with(&es256) && l.contains("retired")),
        "{out}"
    );
    s.run(&["key", "retire", &es256])
        .await
        .failure("already retired");
    s.run(&["key", "rotate", "--alg", "HS256"])
        .await
        .failure("HS256");
    let audit = s.run(&["audit", "--action", "key."]).await.success();
    assert!(
        audit.contains("key.retire") && audit.contains("key.rotate"),
        "{audit}"
    );
}

#[tokio::test]
async fn credentials_and_server_from_the_environment() {
    let s = server().await;
    let (id, secret) = s.admin_credential();
    let out = s
        .run_env(
            &[
                ("TESSERA_URL", &s.base),
                ("TESSERA_CLIENT_ID", &id),
                ("TESSERA_CLIENT_SECRET", &secret),
            ],
            &["scope", "list"],
        )
        .await
        .success();
    assert!(out.contains("tessera.clients.write"), "{out}");
    let creds = s.credentials.to_str().unwrap().to_owned();
    s.run_env(
        &[
            ("TESSERA_URL", &s.base),
            ("TESSERA_ADMIN_CREDENTIALS", &creds),
        ],
        &["client", "list"],
    )
    .await
    .success();
    // A wrong secret: the server's refusal is shown, never the secret.
    let err = s
        .run_env(
            &[
                ("TESSERA_URL", &s.base),
                ("TESSERA_CLIENT_ID", &id),
                ("TESSERA_CLIENT_SECRET", "wrong-secret-value"),
            ],
            &["client", "list"],
        )
        .await
        .failure("invalid_client");
    assert!(
        err.contains("refused the admin credential") && !err.contains("wrong-secret-value"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_input_fails_with_a_clear_message() {
    let s = server().await;
    s.run(&["scope", "create", "Not A Scope"])
        .await
        .failure("service.object.right");
    s.run(&[
        "client",
        "create",
        "--name",
        "x",
        "--scope",
        "core.nothing.read",
    ])
    .await
    .failure("not registered: core.nothing.read");
    s.run(&["client", "create", "--name", "x", "--token-lifetime", "10x"])
        .await
        .failure("not a duration");
    s.run(&["client", "create", "--name", "x", "--token-lifetime", "2d"])
        .await
        .failure("access_token_lifetime must be between 1 and 86400");
    s.run(&["client", "create", "--name", "x", "--claim", "sub=me"])
        .await
        .failure("may not be overridden");
    s.run(&[
        "client",
        "create",
        "--name",
        "x",
        "--auth-method",
        "private_key_jwt",
    ])
    .await
    .failure("private_key_jwt needs");
    s.run(&[
        "client",
        "create",
        "--name",
        "x",
        "--jwks-file",
        "/nonexistent/jwks.json",
        "--auth-method",
        "private_key_jwt",
    ])
    .await
    .failure("cannot read --jwks-file");
    s.run(&["client", "rotate-secret", "nobody", "--grace", "soon"])
        .await
        .failure("not a duration");
    s.run(&["client", "disable", "nobody"])
        .await
        .failure("does not exist");
    s.run(&["client", "update", "nobody"])
        .await
        .failure("nothing to change");
    // No client was created by any of that.
    let list: Value =
        serde_json::from_str(&s.run(&["client", "list", "--json"]).await.success()).unwrap();
    assert_eq!(list["clients"].as_array().unwrap().len(), 1);
    // A missing credential file and an unreachable server say so.
    s.run_env(
        &[],
        &[
            "client",
            "list",
            "--server",
            &s.base,
            "--admin-credentials",
            "/nonexistent/creds.json",
        ],
    )
    .await
    .failure("cannot read the admin credential /nonexistent/creds.json");
    let creds = s.credentials.to_str().unwrap().to_owned();
    s.run_env(
        &[],
        &[
            "client",
            "list",
            "--server",
            "http://127.0.0.1:9",
            "--admin-credentials",
            &creds,
        ],
    )
    .await
    .failure("cannot reach the Tessera server at http://127.0.0.1:9");
}

#[tokio::test]
async fn private_key_jwt_clients_from_a_jwks_file() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let key = tessera_jose::SigningKey::generate(tessera_jose::Algorithm::ES256)
        .unwrap()
        .with_kid("k1");
    let jwk = serde_json::to_string(&key.public_jwk().unwrap()).unwrap();
    let path = dir.path().join("key.jwk.json");
    std::fs::write(&path, jwk).unwrap();
    let out = s
        .run(&[
            "client",
            "create",
            "--name",
            "pk",
            "--auth-method",
            "private_key_jwt",
            "--jwks-file",
            path.to_str().unwrap(),
            "--auth-signing-alg",
            "ES256",
        ])
        .await
        .success();
    assert!(out.contains("No secret"), "{out}");
    let id = field(&out, "client_id:");
    let show = s.run(&["client", "show", &id]).await.success();
    assert!(
        show.contains("1 key(s)") && show.contains("private_key_jwt"),
        "{show}"
    );
    s.run(&["client", "rotate-secret", &id])
        .await
        .failure("no secret to rotate");
}

/// A client id typed into an unauthenticated token request reaches the audit log as it was sent;
/// `tessera audit` shows it with its control characters escaped, so it can neither recolour the
/// administrator's terminal nor start a line that looks like another event. `--json` keeps it
/// exactly (as JSON escapes).
#[tokio::test]
async fn the_audit_table_escapes_what_an_attacker_typed() {
    let s = server().await;
    let hostile = "evil\x1b[31m\nFAKE 1 client.enable admin\u{202E}txt.exe\u{9b}2J";
    let r = s
        .http
        .post(format!("{}/oauth2/token", s.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", hostile),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The event is written in the background: poll the log for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let events = loop {
        let v: Value = serde_json::from_str(
            &s.run(&["audit", "--action", "client.auth_failed", "--json"])
                .await
                .success(),
        )
        .unwrap();
        let events = v["events"].as_array().cloned().unwrap_or_default();
        if !events.is_empty() {
            break events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no client.auth_failed event"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(events[0]["actor"], hostile);
    assert_eq!(events[0]["target"], hostile);

    let out = s
        .run(&["audit", "--action", "client.auth_failed"])
        .await
        .success();
    let dangerous = |c: char| {
        (c.is_control() && c != '\n')
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    assert!(!out.contains(dangerous), "{out:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one event: {out:?}");
    let escaped = r"evil\u{1b}[31m\u{a}FAKE 1 client.enable admin\u{202e}txt.exe\u{9b}2J";
    assert!(
        lines[1].contains("client.auth_failed") && lines[1].matches(escaped).count() == 2,
        "actor and target escaped on the event's line: {out:?}"
    );
}

impl Server {
    /// A client credentials request with the secret in the body.
    async fn token_post(&self, id: &str, secret: &str) -> u16 {
        self.http
            .post(format!("{}/oauth2/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// `--auth-method` takes several methods (repeated or comma-separated); without it a secret
/// client takes its secret in the header or the body; `--require-pkce` sets the per-client rule.
#[tokio::test]
async fn clients_with_several_auth_methods_and_require_pkce() {
    let s = server().await;
    let out = s
        .run(&["client", "create", "--name", "coupa"])
        .await
        .success();
    let (id, secret) = (field(&out, "client_id:"), field(&out, "client_secret:"));
    assert_eq!(s.token(&id, &secret).await.0, 200);
    assert_eq!(s.token_post(&id, &secret).await, 200);
    let show = s.run(&["client", "show", &id]).await.success();
    assert_eq!(
        field(&show, "auth_methods"),
        "client_secret_basic client_secret_post",
        "{show}"
    );

    // Basic only; then both again, once repeated and once comma-separated.
    s.run(&[
        "client",
        "update",
        &id,
        "--auth-method",
        "client_secret_basic",
    ])
    .await
    .success();
    assert_eq!(s.token_post(&id, &secret).await, 401);
    assert_eq!(s.token(&id, &secret).await.0, 200);
    s.run(&[
        "client",
        "update",
        &id,
        "--auth-method",
        "client_secret_post",
        "--auth-method",
        "client_secret_basic",
    ])
    .await
    .success();
    assert_eq!(s.token_post(&id, &secret).await, 200);
    let v: Value =
        serde_json::from_str(&s.run(&["client", "show", &id, "--json"]).await.success()).unwrap();
    assert_eq!(
        v["token_endpoint_auth_methods"],
        serde_json::json!(["client_secret_post", "client_secret_basic"])
    );
    s.run(&[
        "client",
        "update",
        &id,
        "--auth-method",
        "client_secret_post,none",
    ])
    .await
    .failure("cannot be combined");
    s.run(&["client", "update", &id, "--auth-method", "magic"])
        .await
        .failure("magic");

    // require_pkce per client.
    let out = s
        .run(&[
            "client",
            "create",
            "--name",
            "web",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            "https://app.example/cb",
            "--require-pkce",
            "false",
        ])
        .await
        .success();
    let web = field(&out, "client_id:");
    let show = s.run(&["client", "show", &web]).await.success();
    assert_eq!(field(&show, "require_pkce"), "false", "{show}");
    s.run(&["client", "update", &web, "--require-pkce", "default"])
        .await
        .success();
    let show = s.run(&["client", "show", &web]).await.success();
    assert_eq!(field(&show, "require_pkce"), "server default", "{show}");
    s.run(&[
        "client",
        "create",
        "--name",
        "spa",
        "--grant-type",
        "authorization_code",
        "--redirect-uri",
        "https://app.example/cb",
        "--auth-method",
        "none",
        "--require-pkce",
        "false",
    ])
    .await
    .failure("only for a confidential client");
}

/// `--secret-file` (one trailing newline dropped) and `--secret-env` import a secret on create
/// and on rotate-secret; such clients show "imported secret" and are listed by
/// `client list --imported-secret` until a rotation to a generated secret.
#[tokio::test]
async fn imported_secrets_from_a_file_or_the_environment() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("curity.secret");
    std::fs::write(&file, "curity-secret-1\n").unwrap();
    let out = s
        .run(&[
            "client",
            "create",
            "--name",
            "curity",
            "--client-id",
            "curity",
            "--secret-file",
            file.to_str().unwrap(),
        ])
        .await
        .success();
    assert!(out.contains("imported secret is stored"), "{out}");
    assert!(!out.contains("curity-secret-1"), "{out}");
    assert_eq!(s.token("curity", "curity-secret-1").await.0, 200);
    let show = s.run(&["client", "show", "curity"]).await.success();
    assert!(show.contains("imported secret"), "{show}");
    s.run(&[
        "client",
        "create",
        "--name",
        "generated",
        "--client-id",
        "gen",
    ])
    .await
    .success();
    let listed = s
        .run(&["client", "list", "--imported-secret"])
        .await
        .success();
    assert!(
        listed.contains("curity") && !listed.contains("gen"),
        "{listed}"
    );

    // Replaced from the environment; too short is refused and changes nothing.
    let creds = s.credentials.to_str().unwrap().to_owned();
    let with_env = |value: &'static str| {
        let base = s.base.clone();
        let creds = creds.clone();
        async move {
            from(
                command(&[("CURITY_SECRET", value)])
                    .args([
                        "client",
                        "rotate-secret",
                        "curity",
                        "--secret-env",
                        "CURITY_SECRET",
                        "--server",
                        &base,
                        "--admin-credentials",
                        &creds,
                    ])
                    .output()
                    .await
                    .unwrap(),
            )
        }
    };
    with_env("short").await.failure("8 to 512 characters");
    assert_eq!(s.token("curity", "curity-secret-1").await.0, 200);
    let out = with_env("curity-secret-2").await.success();
    assert!(out.contains("imported secret"), "{out}");
    assert_eq!(s.token("curity", "curity-secret-1").await.0, 401);
    assert_eq!(s.token("curity", "curity-secret-2").await.0, 200);
    s.run(&[
        "client",
        "create",
        "--name",
        "x",
        "--secret-env",
        "NOT_SET_ANYWHERE",
    ])
    .await
    .failure("NOT_SET_ANYWHERE");

    // Rotated to a generated secret: no longer listed.
    let out = s
        .run(&["client", "rotate-secret", "curity"])
        .await
        .success();
    let fresh = field(&out, "client_secret:");
    assert_eq!(s.token("curity", &fresh).await.0, 200);
    let listed = s
        .run(&["client", "list", "--imported-secret"])
        .await
        .success();
    assert!(!listed.contains("curity"), "{listed}");
    let show = s.run(&["client", "show", "curity"]).await.success();
    assert!(!show.contains("imported secret"), "{show}");
}

/// The settings of docs/migrating.md reach scope and client creation from the command line:
/// `scopes.naming` and `tokens.max_jwt_bytes`.
#[tokio::test]
async fn scope_naming_and_token_size_settings_apply_to_the_cli() {
    let s = server().await;
    s.run(&["scope", "create", "read"])
        .await
        .failure("scopes.naming = \"rfc6749\"");
    let s = server_with(|c| {
        c.scopes.naming = tessera_proto::ScopeNaming::Rfc6749;
        c.tokens.max_jwt_bytes = 1024;
    })
    .await;
    let out = s.run(&["scope", "create", "read"]).await;
    assert!(out.ok, "{}", out.stderr);
    let out = s
        .run(&[
            "client",
            "create",
            "--name",
            "curity-server",
            "--scope",
            "read",
        ])
        .await;
    assert!(out.ok, "{}", out.stderr);
    let note = format!("note={}", "n".repeat(900));
    s.run(&["client", "create", "--name", "fat", "--claim", &note])
        .await
        .failure("tokens.max_jwt_bytes (1024 bytes)");
}

//! `tessera client …`: register and manage clients through the admin API.

use super::admin_client::{AdminClient, AdminOptions};
use super::duration::{format_secs, format_time, parse_secs};
use super::{cell, print_json, print_table};
use crate::cli::terminal::{errln, outln};
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// Arguments of `tessera client`.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    #[command(flatten)]
    admin: AdminOptions,
    #[command(subcommand)]
    command: ClientCommand,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Register a client; prints its id and its secret, which cannot be shown again.
    Create(CreateArgs),
    /// List the clients.
    List {
        /// Only the clients that still authenticate with an imported secret (to rotate them).
        #[arg(long)]
        imported_secret: bool,
    },
    /// Show one client.
    Show {
        /// The client id.
        client_id: String,
    },
    /// Change a client's settings: only the options given change; a repeatable option replaces
    /// the whole list (give it once with "" to empty the list).
    Update(UpdateArgs),
    /// Refuse the client from now on (invalid_client); its registration is kept.
    Disable {
        /// The client id.
        client_id: String,
    },
    /// Let a disabled client authenticate again.
    Enable {
        /// The client id.
        client_id: String,
    },
    /// Issue a new secret (shown once), or replace it with an imported one (--secret-file,
    /// --secret-env); the old one keeps working for --grace, then stops.
    RotateSecret {
        /// The client id.
        client_id: String,
        /// How long the old secret keeps working: 90s, 10m, 24h, 7d (default: it stops now).
        #[arg(long, value_parser = parse_secs, value_name = "DURATION")]
        grace: Option<u64>,
        #[command(flatten)]
        import: ImportSecret,
    },
    /// Delete a client, its secrets and its opaque tokens.
    Delete {
        /// The client id.
        client_id: String,
    },
}

/// For a client given scopes but no default scopes: what a token request naming no scope gets.
/// Newcomers expect the client's scopes there (the rule is the default scopes, which
/// are empty).
fn no_default_scope_note(created: &Value) -> Option<String> {
    let empty = |k: &str| {
        created
            .get(k)
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    };
    if empty("allowed_scopes") || !empty("default_scopes") {
        return None;
    }
    Some(format!(
        "Note: the client has no default scopes, so a token request that names no scope gets a \
         token without scopes. Ask for them with scope=…, or set defaults with \
         `tessera client update {} --default-scope SCOPE`.",
        s(created, "client_id")
    ))
}

/// The settings `create` and `update` share.
#[derive(Debug, Args)]
struct Settings {
    /// A longer description.
    #[arg(long)]
    description: Option<String>,
    /// A grant type (repeatable): client_credentials (the default), authorization_code,
    /// refresh_token, password, device_code, jwt-bearer.
    #[arg(long = "grant-type", value_name = "GRANT")]
    grant_types: Vec<String>,
    /// A redirect URI (repeatable): absolute, without fragment.
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// A scope the client may be granted (repeatable; also space- or comma-separated).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// A scope granted when a request names none (repeatable); must be among --scope.
    #[arg(long = "default-scope", value_name = "SCOPE")]
    default_scopes: Vec<String>,
    /// How the client may authenticate at the token endpoint (repeatable, or a comma-separated
    /// list): client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, or
    /// none (alone). Default at creation: client_secret_basic,client_secret_post.
    #[arg(long = "auth-method", value_name = "METHOD", value_delimiter = ',', value_parser = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"])]
    auth_methods: Vec<String>,
    /// Authorization requests need PKCE (true), or not (false: only for a confidential client, a
    /// migration aid), or as the server's authorize.require_pkce says (default).
    #[arg(long = "require-pkce", value_name = "BOOL", value_parser = ["true", "false", "default"])]
    require_pkce: Option<String>,
    /// The algorithm the client's assertions must use (client_secret_jwt: HS256…; private_key_jwt:
    /// ES256, RS256, EdDSA…); "default" clears it.
    #[arg(long = "auth-signing-alg", value_name = "ALG")]
    auth_signing_alg: Option<String>,
    /// A file holding the client's public JWK Set (or one JWK), for private_key_jwt.
    #[arg(long = "jwks-file", value_name = "FILE", conflicts_with = "jwks_uri")]
    jwks_file: Option<PathBuf>,
    /// Where the client publishes its public keys (https), for private_key_jwt; "" clears it.
    #[arg(long = "jwks-uri", value_name = "URL")]
    jwks_uri: Option<String>,
    /// Access token format: jwt or opaque ("default": the server's).
    #[arg(long = "token-format", value_name = "FORMAT", value_parser = ["jwt", "opaque", "default"])]
    token_format: Option<String>,
    /// Access token lifetime: 90s, 10m, 24h ("default": the server's, 600 s unless configured).
    #[arg(long = "token-lifetime", value_name = "DURATION")]
    token_lifetime: Option<String>,
    /// Algorithm signing the client's JWT access tokens: ES256, RS256 or EdDSA ("default": the
    /// server's).
    #[arg(long = "signing-alg", value_name = "ALG", value_parser = ["ES256", "RS256", "EdDSA", "default"])]
    signing_alg: Option<String>,
    /// An audience the client may ask for (repeatable); the first is the tokens' default aud.
    #[arg(long = "audience", value_name = "AUDIENCE")]
    audiences: Vec<String>,
    /// A static claim for every token, NAME=VALUE (repeatable); VALUE is read as JSON when it
    /// parses (123, true, ["a"]), else as a string.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    claims: Vec<String>,
}

/// A secret to import instead of a generated one (a migration from another system).
#[derive(Debug, Args)]
struct ImportSecret {
    /// Import the secret held in this file (one trailing newline is dropped): 8 to 512
    /// characters, marked as imported until it is rotated.
    #[arg(
        long = "secret-file",
        value_name = "PATH",
        conflicts_with = "secret_env"
    )]
    secret_file: Option<PathBuf>,
    /// Import the secret held in this environment variable (as --secret-file).
    #[arg(long = "secret-env", value_name = "VAR")]
    secret_env: Option<String>,
}

impl ImportSecret {
    /// The secret to import, if one was named; never printed.
    fn read(&self) -> anyhow::Result<Option<String>> {
        if let Some(path) = &self.secret_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --secret-file {}", path.display()))?;
            return Ok(Some(
                tessera_proto::secret_file::secret_text(&text).to_owned(),
            ));
        }
        if let Some(var) = &self.secret_env {
            return match std::env::var(var) {
                Ok(v) => Ok(Some(v)),
                Err(std::env::VarError::NotPresent) => Err(anyhow!(
                    "--secret-env {var}: the environment variable is not set"
                )),
                Err(std::env::VarError::NotUnicode(_)) => Err(anyhow!(
                    "--secret-env {var}: the environment variable is not valid UTF-8"
                )),
            };
        }
        Ok(None)
    }
}

/// Arguments of `tessera client create`.
#[derive(Debug, Args)]
struct CreateArgs {
    /// A name for people.
    #[arg(long)]
    name: String,
    /// Choose the client id (any printable characters, 1 to 255); generated when left out.
    #[arg(long = "client-id", value_name = "ID")]
    client_id: Option<String>,
    /// Create the client disabled.
    #[arg(long)]
    disabled: bool,
    #[command(flatten)]
    import: ImportSecret,
    #[command(flatten)]
    settings: Settings,
}

/// Arguments of `tessera client update`.
#[derive(Debug, Args)]
struct UpdateArgs {
    /// The client id.
    client_id: String,
    /// A new name.
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    settings: Settings,
}

/// A repeated option's values as a list; one "" means the empty list. Scopes may also be given
/// space- or comma-separated.
fn list(values: &[String], split: bool) -> Option<Value> {
    if values.is_empty() {
        return None;
    }
    let items: Vec<Value> = values
        .iter()
        .flat_map(|v| {
            if split {
                v.split([' ', ',']).map(str::to_owned).collect::<Vec<_>>()
            } else {
                vec![v.clone()]
            }
        })
        .filter(|v| !v.is_empty())
        .map(Value::String)
        .collect();
    Some(Value::Array(items))
}

/// `default` (or "") as null, anything else as itself.
fn or_default(v: &str) -> Value {
    if v == "default" || v.is_empty() {
        Value::Null
    } else {
        Value::String(v.to_owned())
    }
}

fn read_jwks(path: &PathBuf) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --jwks-file {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("--jwks-file {} is not JSON", path.display()))?;
    if v.get("keys").is_some() {
        Ok(v)
    } else if v.get("kty").is_some() {
        Ok(json!({ "keys": [v] }))
    } else {
        Err(anyhow!(
            "--jwks-file {} holds neither a JWK Set nor a JWK",
            path.display()
        ))
    }
}

impl Settings {
    /// The JSON fields these options set.
    fn fields(&self) -> anyhow::Result<Map<String, Value>> {
        let mut m = Map::new();
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        for (name, values, split) in [
            ("grant_types", &self.grant_types, false),
            ("redirect_uris", &self.redirect_uris, false),
            ("allowed_scopes", &self.scopes, true),
            ("default_scopes", &self.default_scopes, true),
            ("audiences", &self.audiences, false),
        ] {
            if let Some(v) = list(values, split) {
                m.insert(name.into(), v);
            }
        }
        if !self.auth_methods.is_empty() {
            m.insert(
                "token_endpoint_auth_methods".into(),
                json!(self.auth_methods),
            );
        }
        if let Some(p) = &self.require_pkce {
            let v = match p.as_str() {
                "true" => json!(true),
                "false" => json!(false),
                _ => Value::Null,
            };
            m.insert("require_pkce".into(), v);
        }
        if let Some(a) = &self.auth_signing_alg {
            m.insert("token_endpoint_auth_signing_alg".into(), or_default(a));
        }
        if let Some(f) = &self.jwks_file {
            m.insert("jwks".into(), read_jwks(f)?);
        }
        if let Some(u) = &self.jwks_uri {
            m.insert("jwks_uri".into(), or_default(u));
        }
        if let Some(f) = &self.token_format {
            m.insert("access_token_format".into(), or_default(f));
        }
        if let Some(l) = &self.token_lifetime {
            let v = if l == "default" {
                Value::Null
            } else {
                json!(parse_secs(l).map_err(|e| anyhow!("--token-lifetime: {e}"))?)
            };
            m.insert("access_token_lifetime".into(), v);
        }
        if let Some(a) = &self.signing_alg {
            m.insert("access_token_signing_alg".into(), or_default(a));
        }
        if !self.claims.is_empty() {
            let mut claims = Map::new();
            for c in &self.claims {
                if c.is_empty() {
                    continue;
                }
                let (k, v) = c
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--claim {c:?} is not NAME=VALUE"))?;
                let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
                claims.insert(k.to_owned(), value);
            }
            m.insert("extra_claims".into(), Value::Object(claims));
        }
        Ok(m)
    }
}

const SECRET_NOTE: &str = "This secret cannot be shown again: store it now. (tessera client rotate-secret issues a new one.)";

fn print_secret(client_id: &str, secret: &str) {
    outln!("client_id:     {client_id}");
    outln!("client_secret: {secret}");
    outln!("{SECRET_NOTE}");
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn print_client(c: &Value) {
    let lifetime = c
        .get("access_token_lifetime")
        .and_then(Value::as_u64)
        .map(format_secs)
        .unwrap_or_else(|| "server default".into());
    let rows: Vec<(&str, String)> = vec![
        ("client_id", s(c, "client_id").to_owned()),
        ("name", s(c, "name").to_owned()),
        ("description", cell(c.get("description")).replace('\n', " ")),
        ("enabled", cell(c.get("enabled"))),
        ("grant_types", cell(c.get("grant_types"))),
        ("auth_methods", cell(c.get("token_endpoint_auth_methods"))),
        (
            "require_pkce",
            c.get("require_pkce")
                .and_then(Value::as_bool)
                .map(|b| b.to_string())
                .unwrap_or_else(|| "server default".into()),
        ),
        (
            "auth_signing_alg",
            cell(c.get("token_endpoint_auth_signing_alg")),
        ),
        (
            "jwks",
            c.get("jwks")
                .and_then(|j| j.get("keys"))
                .and_then(Value::as_array)
                .map(|k| format!("{} key(s)", k.len()))
                .unwrap_or_else(|| "-".into()),
        ),
        ("jwks_uri", cell(c.get("jwks_uri"))),
        ("allowed_scopes", cell(c.get("allowed_scopes"))),
        ("default_scopes", cell(c.get("default_scopes"))),
        ("audiences", cell(c.get("audiences"))),
        ("redirect_uris", cell(c.get("redirect_uris"))),
        (
            "token_format",
            c.get("access_token_format")
                .and_then(Value::as_str)
                .unwrap_or("server default")
                .to_owned(),
        ),
        ("token_lifetime", lifetime),
        (
            "signing_alg",
            c.get("access_token_signing_alg")
                .and_then(Value::as_str)
                .unwrap_or("server default")
                .to_owned(),
        ),
        (
            "extra_claims",
            c.get("extra_claims")
                .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
                .map(Value::to_string)
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "created",
            c.get("created_at")
                .and_then(Value::as_i64)
                .map(format_time)
                .unwrap_or_default(),
        ),
        (
            "updated",
            c.get("updated_at")
                .and_then(Value::as_i64)
                .map(format_time)
                .unwrap_or_default(),
        ),
    ];
    for (k, v) in rows {
        outln!("{k:<17} {v}");
    }
    if let Some(secrets) = c.get("secrets").and_then(Value::as_array) {
        let list: Vec<String> = secrets
            .iter()
            .map(|x| {
                let created = x
                    .get("created_at")
                    .and_then(Value::as_i64)
                    .map(format_time)
                    .unwrap_or_default();
                let imported = if x.get("imported").and_then(Value::as_bool) == Some(true) {
                    ", imported secret"
                } else {
                    ""
                };
                match x.get("expires_at").and_then(Value::as_i64) {
                    Some(e) => format!("created {created}, stops {}{imported}", format_time(e)),
                    None => format!("created {created}, current{imported}"),
                }
            })
            .collect();
        outln!(
            "{:<17} {}",
            "secrets",
            if list.is_empty() {
                "-".into()
            } else {
                list.join("; ")
            }
        );
    }
    if c.get("imported_secret").and_then(Value::as_bool) == Some(true) {
        outln!(
            "{:<17} imported secret: rotate it (tessera client rotate-secret {}) once the client can take a generated one",
            "note",
            s(c, "client_id")
        );
    }
}

/// Runs `tessera client …`.
pub(crate) async fn run(args: ClientArgs) -> anyhow::Result<()> {
    let json_out = args.admin.json;
    // Read local files before asking for a token, so that a typo fails fast.
    let prepared = match &args.command {
        ClientCommand::Create(c) => {
            let mut m = c.settings.fields()?;
            if let Some(secret) = c.import.read()? {
                m.insert("client_secret".into(), json!(secret));
            }
            Some(m)
        }
        ClientCommand::Update(u) => Some(u.settings.fields()?),
        _ => None,
    };
    let imported = match &args.command {
        ClientCommand::RotateSecret { import, .. } => import.read()?,
        _ => None,
    };
    let api = AdminClient::connect(&args.admin).await?;
    match args.command {
        ClientCommand::Create(c) => {
            let mut body = prepared.unwrap_or_default();
            body.insert("name".into(), json!(c.name));
            if let Some(id) = c.client_id {
                body.insert("client_id".into(), json!(id));
            }
            if c.disabled {
                body.insert("enabled".into(), json!(false));
            }
            let created = api.post(&["clients"], &Value::Object(body)).await?;
            // On stderr, so that `--json` output stays one JSON document.
            if let Some(note) = no_default_scope_note(&created) {
                errln!("{note}");
            }
            if json_out {
                print_json(&created);
                return Ok(());
            }
            let id = s(&created, "client_id");
            outln!("Created client {:?} ({}).", s(&created, "name"), id);
            match created.get("client_secret").and_then(Value::as_str) {
                Some(secret) => print_secret(id, secret),
                None if c.import.secret_file.is_some() || c.import.secret_env.is_some() => {
                    outln!("client_id:     {id}");
                    outln!(
                        "The imported secret is stored (not shown); the client is listed by \
                         `tessera client list --imported-secret` until its secret is rotated."
                    );
                }
                None => {
                    outln!("client_id:     {id}");
                    outln!(
                        "No secret: the client authenticates with {}.",
                        cell(created.get("token_endpoint_auth_methods"))
                    );
                }
            }
        }
        ClientCommand::List { imported_secret } => {
            let mut url = api.url(&["clients"])?;
            if imported_secret {
                url.query_pairs_mut().append_pair("imported_secret", "true");
            }
            let v = api.send(reqwest::Method::GET, url, None).await?;
            if json_out {
                print_json(&v);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = v
                .get("clients")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|c| {
                            vec![
                                s(c, "client_id").to_owned(),
                                s(c, "name").to_owned(),
                                if c.get("enabled").and_then(Value::as_bool) == Some(true) {
                                    "yes".into()
                                } else {
                                    "no".into()
                                },
                                cell(c.get("grant_types")),
                                cell(c.get("token_endpoint_auth_methods")),
                                cell(c.get("allowed_scopes")),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            print_table(
                &[
                    "CLIENT ID",
                    "NAME",
                    "ENABLED",
                    "GRANT TYPES",
                    "AUTH METHODS",
                    "SCOPES",
                ],
                &rows,
            );
        }
        ClientCommand::Show { client_id } => {
            let v = api.get(&["clients", &client_id]).await?;
            if json_out {
                print_json(&v);
            } else {
                print_client(&v);
            }
        }
        ClientCommand::Update(u) => {
            let mut body = prepared.unwrap_or_default();
            if let Some(n) = u.name {
                body.insert("name".into(), json!(n));
            }
            if body.is_empty() {
                return Err(anyhow!(
                    "nothing to change: give at least one option (see tessera client update --help)"
                ));
            }
            let v = api
                .patch(&["clients", &u.client_id], &Value::Object(body))
                .await?;
            if json_out {
                print_json(&v);
                return Ok(());
            }
            outln!("Updated client {}.", u.client_id);
            if let Some(secret) = v.get("client_secret").and_then(Value::as_str) {
                outln!(
                    "The new authentication methods need a new secret; the old one no longer works."
                );
                print_secret(&u.client_id, secret);
            }
        }
        ClientCommand::Disable { client_id } => {
            let v = api
                .post(&["clients", &client_id, "disable"], &json!({}))
                .await?;
            if json_out {
                print_json(&v);
            } else {
                outln!(
                    "Client {client_id} is disabled: its token requests get invalid_client from now on."
                );
            }
        }
        ClientCommand::Enable { client_id } => {
            let v = api
                .post(&["clients", &client_id, "enable"], &json!({}))
                .await?;
            if json_out {
                print_json(&v);
            } else {
                outln!("Client {client_id} is enabled.");
            }
        }
        ClientCommand::RotateSecret {
            client_id, grace, ..
        } => {
            let mut body = json!({ "grace_secs": grace.unwrap_or(0) });
            if let Some(secret) = imported {
                body["client_secret"] = json!(secret);
            }
            let v = api.post(&["clients", &client_id, "secret"], &body).await?;
            if json_out {
                print_json(&v);
                return Ok(());
            }
            match v.get("client_secret").and_then(Value::as_str) {
                Some(secret) => print_secret(&client_id, secret),
                None => outln!(
                    "The imported secret of {client_id} is stored (not shown); the client is listed \
                     by `tessera client list --imported-secret` until a rotation to a generated secret."
                ),
            }
            match grace {
                Some(g) if g > 0 => {
                    let at = v
                        .get("previous_secrets_expire_at")
                        .and_then(Value::as_i64)
                        .unwrap_or_default();
                    outln!(
                        "The previous secret keeps working for {} (until {}).",
                        format_secs(g),
                        format_time(at)
                    );
                }
                _ => outln!("The previous secret no longer works."),
            }
        }
        ClientCommand::Delete { client_id } => {
            api.delete(&["clients", &client_id]).await?;
            if json_out {
                print_json(&json!({ "deleted": client_id }));
            } else {
                outln!("Deleted client {client_id}.");
            }
        }
    }
    Ok(())
}

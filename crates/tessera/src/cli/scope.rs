//! `tessera scope …`: register and manage scopes (`service.object.right`) and the API permissions
//! behind them.

use super::admin_client::{AdminClient, AdminOptions};
use super::duration::format_time;
use super::{cell, print_json, print_table};
use crate::cli::terminal::outln;
use anyhow::anyhow;
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

/// Arguments of `tessera scope`.
#[derive(Debug, Args)]
pub(crate) struct ScopeArgs {
    #[command(flatten)]
    admin: AdminOptions,
    #[command(subcommand)]
    command: ScopeCommand,
}

#[derive(Debug, Subcommand)]
enum ScopeCommand {
    /// Register a scope.
    Create {
        /// The scope name: service.object.right (core.accounting.read) or an OpenID Connect scope.
        name: String,
        /// What the scope allows, for people.
        #[arg(long, default_value = "")]
        description: String,
        /// An API permission the scope grants, such as "GET /api/invoices" (repeatable).
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
    },
    /// List the scopes.
    List,
    /// Show a scope, its permissions and the clients that may use it.
    Show {
        /// The scope name.
        name: String,
    },
    /// Change a scope's description or permissions (--permission replaces the whole list; give
    /// it once with "" to empty it).
    Update {
        /// The scope name.
        name: String,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
        /// A permission (repeatable).
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
    },
    /// Delete a scope that no client may use any more.
    Delete {
        /// The scope name.
        name: String,
    },
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn permissions(v: &Value) -> Vec<String> {
    v.get("permissions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `tessera scope …`.
pub(crate) async fn run(args: ScopeArgs) -> anyhow::Result<()> {
    let json_out = args.admin.json;
    if let ScopeCommand::Update {
        description: None,
        permissions,
        ..
    } = &args.command
        && permissions.is_empty()
    {
        return Err(anyhow!(
            "nothing to change: give --description or --permission"
        ));
    }
    let api = AdminClient::connect(&args.admin).await?;
    match args.command {
        ScopeCommand::Create {
            name,
            description,
            permissions: perms,
        } => {
            let v = api
                .post(
                    &["scopes"],
                    &json!({ "name": name, "description": description, "permissions": perms }),
                )
                .await?;
            if json_out {
                print_json(&v);
            } else {
                outln!("Created scope {}.", s(&v, "name"));
            }
        }
        ScopeCommand::List => {
            let v = api.get(&["scopes"]).await?;
            if json_out {
                print_json(&v);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = v
                .get("scopes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|sc| {
                            vec![
                                s(sc, "name").to_owned(),
                                permissions(sc).len().to_string(),
                                s(sc, "description").replace('\n', " "),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            print_table(&["SCOPE", "PERMISSIONS", "DESCRIPTION"], &rows);
        }
        ScopeCommand::Show { name } => {
            let v = api.get(&["scopes", &name]).await?;
            if json_out {
                print_json(&v);
                return Ok(());
            }
            outln!("{:<12} {}", "scope", s(&v, "name"));
            outln!("{:<12} {}", "description", cell(v.get("description")));
            outln!(
                "{:<12} {}",
                "created",
                v.get("created_at")
                    .and_then(Value::as_i64)
                    .map(format_time)
                    .unwrap_or_default()
            );
            outln!("permissions:");
            let perms = permissions(&v);
            if perms.is_empty() {
                outln!("  (none)");
            }
            for p in perms {
                outln!("  {p}");
            }
            outln!("clients that may use it:");
            let clients = v
                .get("clients")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if clients.is_empty() {
                outln!("  (none)");
            } else {
                let rows: Vec<Vec<String>> = clients
                    .iter()
                    .map(|c| {
                        let yes_no = |k: &str| {
                            if c.get(k).and_then(Value::as_bool) == Some(true) {
                                "yes"
                            } else {
                                "no"
                            }
                        };
                        vec![
                            s(c, "client_id").to_owned(),
                            s(c, "name").to_owned(),
                            yes_no("enabled").into(),
                            yes_no("default").into(),
                        ]
                    })
                    .collect();
                print_table(&["CLIENT ID", "NAME", "ENABLED", "DEFAULT"], &rows);
            }
        }
        ScopeCommand::Update {
            name,
            description,
            permissions: perms,
        } => {
            let mut body = Map::new();
            if let Some(d) = description {
                body.insert("description".into(), json!(d));
            }
            if !perms.is_empty() {
                let list: Vec<&String> = perms.iter().filter(|p| !p.is_empty()).collect();
                body.insert("permissions".into(), json!(list));
            }
            let v = api.patch(&["scopes", &name], &Value::Object(body)).await?;
            if json_out {
                print_json(&v);
            } else {
                outln!("Updated scope {name}.");
            }
        }
        ScopeCommand::Delete { name } => {
            api.delete(&["scopes", &name]).await?;
            if json_out {
                print_json(&json!({ "deleted": name }));
            } else {
                outln!("Deleted scope {name}.");
            }
        }
    }
    Ok(())
}

//! `tessera key …`: the server's signing keys. A rotation publishes the new key before it signs;
//! old keys stay in the JWKS until every token they signed has expired.

use super::admin_client::{AdminClient, AdminOptions};
use super::duration::format_time;
use super::{print_json, print_table};
use crate::cli::terminal::outln;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// Arguments of `tessera key`.
#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    #[command(flatten)]
    admin: AdminOptions,
    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// List the published keys and their state (next, active, retired).
    List,
    /// Create new keys, published now and signing after keys.publish_ahead_secs.
    Rotate {
        /// An algorithm to rotate (repeatable): ES256, RS256, EdDSA. Default: all.
        #[arg(long = "alg", value_name = "ALG", value_parser = ["ES256", "RS256", "EdDSA"])]
        algs: Vec<String>,
    },
    /// Stop a key signing now; it stays in the JWKS until the tokens it signed have expired.
    Retire {
        /// The key id.
        kid: String,
    },
}

fn print_keys(v: &Value) {
    let t = |k: &Value, f: &str| {
        k.get(f)
            .and_then(Value::as_i64)
            .map(format_time)
            .unwrap_or_else(|| "-".into())
    };
    let s = |k: &Value, f: &str| k.get(f).and_then(Value::as_str).unwrap_or("-").to_owned();
    let rows: Vec<Vec<String>> = v
        .get("keys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|k| {
                    vec![
                        s(k, "kid"),
                        s(k, "alg"),
                        s(k, "state"),
                        t(k, "activates_at"),
                        t(k, "retired_at"),
                        t(k, "remove_at"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    print_table(
        &[
            "KID",
            "ALG",
            "STATE",
            "SIGNS FROM",
            "RETIRES",
            "LEAVES JWKS",
        ],
        &rows,
    );
}

/// Runs `tessera key …`.
pub(crate) async fn run(args: KeyArgs) -> anyhow::Result<()> {
    let api = AdminClient::connect(&args.admin).await?;
    let v = match &args.command {
        KeyCommand::List => api.get(&["keys"]).await?,
        KeyCommand::Rotate { algs } => {
            let body = if algs.is_empty() {
                json!({})
            } else {
                json!({ "algs": algs })
            };
            api.post(&["keys", "rotate"], &body).await?
        }
        KeyCommand::Retire { kid } => api.post(&["keys", kid, "retire"], &json!({})).await?,
    };
    if args.admin.json {
        print_json(&v);
        return Ok(());
    }
    match &args.command {
        KeyCommand::Rotate { .. } => {
            let kids = super::cell(v.get("new_kids"));
            let at = v
                .get("activates_at")
                .and_then(Value::as_i64)
                .map(format_time)
                .unwrap_or_default();
            outln!("New keys {kids} are published now and sign from {at}.");
        }
        KeyCommand::Retire { kid } => {
            outln!("Key {kid} no longer signs; it stays published until its tokens expire.")
        }
        KeyCommand::List => {}
    }
    print_keys(&v);
    Ok(())
}

//! `tessera audit`: the audit log of admin changes, newest first.

use super::admin_client::{AdminClient, AdminOptions};
use super::duration::format_time;
use super::{print_json, print_table};
use crate::cli::terminal::outln;
use clap::Args;
use serde_json::Value;

/// Arguments of `tessera audit`.
#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    admin: AdminOptions,
    /// Only events about this object (a client id, scope name or key id).
    #[arg(long)]
    target: Option<String>,
    /// Only events whose action starts with this (client., client.disable, scope., key.…).
    #[arg(long)]
    action: Option<String>,
    /// At most this many events (1 to 1000).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Only events older than this id (to page back).
    #[arg(long = "before-id", value_name = "ID")]
    before_id: Option<i64>,
}

/// The top-level fields that differ between `before` and `after`.
fn changed(e: &Value) -> String {
    match (
        e.get("before").and_then(Value::as_object),
        e.get("after").and_then(Value::as_object),
    ) {
        (Some(b), Some(a)) => {
            let mut keys: Vec<&str> = a
                .iter()
                .filter(|(k, v)| *k != "updated_at" && b.get(*k) != Some(*v))
                .map(|(k, _)| k.as_str())
                .chain(b.keys().filter(|k| !a.contains_key(*k)).map(String::as_str))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            if keys.is_empty() {
                "-".into()
            } else {
                keys.join(",")
            }
        }
        _ => "-".into(),
    }
}

/// Runs `tessera audit`.
pub(crate) async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let api = AdminClient::connect(&args.admin).await?;
    let mut url = api.url(&["audit"])?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("limit", &args.limit.to_string());
        if let Some(t) = &args.target {
            q.append_pair("target", t);
        }
        if let Some(a) = &args.action {
            q.append_pair("action", a);
        }
        if let Some(b) = args.before_id {
            q.append_pair("before_id", &b.to_string());
        }
    }
    let v = api.send(reqwest::Method::GET, url, None).await?;
    if args.admin.json {
        print_json(&v);
        return Ok(());
    }
    let s = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
    let rows: Vec<Vec<String>> = v
        .get("events")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| {
                    vec![
                        e.get("id").map(Value::to_string).unwrap_or_default(),
                        e.get("at")
                            .and_then(Value::as_i64)
                            .map(format_time)
                            .unwrap_or_default(),
                        s(e, "actor"),
                        s(e, "action"),
                        s(e, "target"),
                        changed(e),
                        s(e, "remote_addr"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    print_table(
        &[
            "ID",
            "TIME (UTC)",
            "ACTOR",
            "ACTION",
            "TARGET",
            "CHANGED",
            "FROM",
        ],
        &rows,
    );
    if let Some(next) = v.get("next_before_id").and_then(Value::as_i64) {
        outln!("(older events: tessera audit --before-id {next})");
    }
    Ok(())
}

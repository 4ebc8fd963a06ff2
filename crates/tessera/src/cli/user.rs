//! `tessera user …`: the local users who sign in on the login, consent and device pages, and
//! the consents they gave (admin API `/admin/api/v1/users`).
//!
//! Passwords are read from standard input (one line), never from the command line, where they
//! would end up in shell history and process lists.

use super::admin_client::{AdminClient, AdminOptions};
use super::duration::format_time;
use super::{cell, print_json, print_table};
use crate::cli::terminal::outln;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::io::{BufRead, IsTerminal, Write};

/// Arguments of `tessera user`.
#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    #[command(flatten)]
    admin: AdminOptions,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        /// The username (letters, digits and . _ - @ +; stored in lower case).
        username: String,
        /// E-mail address.
        #[arg(long, default_value = "")]
        email: String,
        /// Mark the e-mail address verified.
        #[arg(long)]
        email_verified: bool,
        /// The name shown to people.
        #[arg(long = "name", default_value = "")]
        display_name: String,
        /// Create the user disabled.
        #[arg(long)]
        disabled: bool,
        /// Create the user without a password (cannot sign in until one is set).
        #[arg(long)]
        no_password: bool,
        /// The user must replace the password at their first sign-in.
        #[arg(long, conflicts_with = "no_password")]
        temporary: bool,
        /// The console role: viewer, operator or admin (none by default: no console access).
        #[arg(long, value_parser = ["viewer", "operator", "admin"])]
        role: Option<String>,
    },
    /// Change a user's console role, e-mail address or name.
    Update {
        /// User id or username.
        user: String,
        /// The console role: viewer, operator or admin; none takes the role away.
        #[arg(long, value_parser = ["viewer", "operator", "admin", "none"])]
        role: Option<String>,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The name shown to people.
        #[arg(long = "name")]
        display_name: Option<String>,
    },
    /// List the users.
    List,
    /// Show a user.
    Show {
        /// User id or username.
        user: String,
    },
    /// Disable a user: sign-in stops, sessions end, refresh tokens are revoked.
    Disable {
        /// User id or username.
        user: String,
    },
    /// Enable a user again.
    Enable {
        /// User id or username.
        user: String,
    },
    /// Set a user's password (read from standard input); ends the user's sessions and revokes
    /// their refresh tokens.
    SetPassword {
        /// User id or username.
        user: String,
        /// Remove the password instead (the user can no longer sign in).
        #[arg(long)]
        remove: bool,
        /// The user must replace the password at their next sign-in.
        #[arg(long, conflicts_with = "remove")]
        temporary: bool,
    },
    /// Delete a user with their sessions, consents and refresh tokens.
    Delete {
        /// User id or username.
        user: String,
    },
    /// List a user's consents, or withdraw them with --revoke.
    Consents {
        /// User id or username.
        user: String,
        /// Withdraw the consents (all, or the one of --client) and revoke the refresh tokens
        /// they allowed.
        #[arg(long)]
        revoke: bool,
        /// With --revoke: only the consent given to this client.
        #[arg(long, value_name = "CLIENT_ID", requires = "revoke")]
        client: Option<String>,
    },
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn yes_no(v: &Value, k: &str) -> &'static str {
    if v.get(k).and_then(Value::as_bool) == Some(true) {
        "yes"
    } else {
        "no"
    }
}

/// The user's console role, or `-`.
fn role_of(v: &Value) -> &str {
    v.get("role").and_then(Value::as_str).unwrap_or("-")
}

/// Reads one line from standard input as the new password (prompting on a terminal).
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("New password (it is shown as you type; pipe it in to avoid that): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!(
            "no password on standard input (use --no-password or --remove for a user without one)"
        );
    }
    Ok(password)
}

/// Runs `tessera user …`.
pub(crate) async fn run(args: UserArgs) -> anyhow::Result<()> {
    let json_out = args.admin.json;
    // Read the password before connecting, so that a missing one fails without a network call.
    let password = match &args.command {
        UserCommand::Create {
            no_password: false, ..
        }
        | UserCommand::SetPassword { remove: false, .. } => Some(read_password()?),
        _ => None,
    };
    let api = AdminClient::connect(&args.admin).await?;
    match args.command {
        UserCommand::Create {
            username,
            email,
            email_verified,
            display_name,
            disabled,
            role,
            temporary,
            ..
        } => {
            let v = api
                .post(
                    &["users"],
                    &json!({
                        "username": username,
                        "password": password,
                        "email": email,
                        "email_verified": email_verified,
                        "display_name": display_name,
                        "enabled": !disabled,
                        "role": role,
                        "password_temporary": temporary,
                    }),
                )
                .await?;
            if json_out {
                print_json(&v);
            } else {
                outln!("Created user {} ({}).", s(&v, "username"), s(&v, "id"));
                if let Some(r) = role {
                    outln!("Console role {r}: they sign in at {}/admin/", api.server());
                }
            }
        }
        UserCommand::Update {
            user,
            role,
            email,
            display_name,
        } => {
            let mut patch = serde_json::Map::new();
            if let Some(r) = role {
                patch.insert(
                    "role".into(),
                    if r == "none" {
                        Value::Null
                    } else {
                        Value::String(r)
                    },
                );
            }
            if let Some(e) = email {
                patch.insert("email".into(), Value::String(e));
            }
            if let Some(n) = display_name {
                patch.insert("display_name".into(), Value::String(n));
            }
            if patch.is_empty() {
                bail!("nothing to change: give --role, --email or --name");
            }
            let v = api.patch(&["users", &user], &Value::Object(patch)).await?;
            if json_out {
                print_json(&v);
            } else {
                outln!(
                    "Updated user {}; console role: {}.",
                    s(&v, "username"),
                    role_of(&v)
                );
            }
        }
        UserCommand::List => {
            let v = api.get(&["users"]).await?;
            if json_out {
                print_json(&v);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = v
                .get("users")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|u| {
                            vec![
                                s(u, "username").to_owned(),
                                s(u, "id").to_owned(),
                                yes_no(u, "enabled").to_owned(),
                                role_of(u).to_owned(),
                                cell(u.get("email")),
                                cell(u.get("display_name")),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            print_table(
                &["USERNAME", "ID", "ENABLED", "ROLE", "EMAIL", "NAME"],
                &rows,
            );
        }
        UserCommand::Show { user } => {
            let v = api.get(&["users", &user]).await?;
            if json_out {
                print_json(&v);
                return Ok(());
            }
            let time = |k: &str| {
                v.get(k)
                    .and_then(Value::as_i64)
                    .map(format_time)
                    .unwrap_or_else(|| "-".into())
            };
            outln!("{:<16} {}", "username", s(&v, "username"));
            outln!("{:<16} {}", "id", s(&v, "id"));
            outln!("{:<16} {}", "enabled", yes_no(&v, "enabled"));
            outln!("{:<16} {}", "console role", role_of(&v));
            outln!("{:<16} {}", "name", cell(v.get("display_name")));
            outln!("{:<16} {}", "email", cell(v.get("email")));
            outln!("{:<16} {}", "email verified", yes_no(&v, "email_verified"));
            outln!("{:<16} {}", "created", time("created_at"));
            outln!("{:<16} {}", "password set", time("password_changed_at"));
            outln!("{:<16} {}", "temporary", yes_no(&v, "password_temporary"));
        }
        UserCommand::Disable { user } => {
            let v = api.post(&["users", &user, "disable"], &json!({})).await?;
            if json_out {
                print_json(&v);
            } else {
                outln!(
                    "Disabled user {}; their sessions ended and refresh tokens were revoked.",
                    s(&v, "username")
                );
            }
        }
        UserCommand::Enable { user } => {
            let v = api.post(&["users", &user, "enable"], &json!({})).await?;
            if json_out {
                print_json(&v);
            } else {
                outln!("Enabled user {}.", s(&v, "username"));
            }
        }
        UserCommand::SetPassword {
            user, temporary, ..
        } => {
            api.post(
                &["users", &user, "password"],
                &json!({ "password": password, "temporary": temporary }),
            )
            .await?;
            if !json_out {
                match password {
                    Some(_) => outln!(
                        "Set the password of {user}; their sessions ended and refresh tokens were revoked."
                    ),
                    None => outln!("Removed the password of {user}."),
                }
            }
        }
        UserCommand::Delete { user } => {
            api.delete(&["users", &user]).await?;
            if !json_out {
                outln!("Deleted user {user}.");
            }
        }
        UserCommand::Consents {
            user,
            revoke: false,
            ..
        } => {
            let v = api.get(&["users", &user, "consents"]).await?;
            if json_out {
                print_json(&v);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = v
                .get("consents")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|c| {
                            vec![
                                s(c, "client_id").to_owned(),
                                c.get("granted_at")
                                    .and_then(Value::as_i64)
                                    .map(format_time)
                                    .unwrap_or_default(),
                                s(c, "scope").to_owned(),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            print_table(&["CLIENT ID", "GRANTED", "SCOPES"], &rows);
        }
        UserCommand::Consents {
            user,
            revoke: true,
            client,
        } => {
            let v = match &client {
                Some(c) => api.delete(&["users", &user, "consents", c]).await?,
                None => api.delete(&["users", &user, "consents"]).await?,
            };
            if json_out {
                print_json(&v);
            } else {
                let n = v.get("revoked").and_then(Value::as_u64).unwrap_or(0);
                outln!(
                    "Withdrew {n} consent(s) of {user}; the refresh tokens they allowed were revoked."
                );
            }
        }
    }
    Ok(())
}

//! `tessera token profile list|add|remove`: named credentials in the credentials file
//! (`~/.config/tessera/credentials.toml`, mode 0600).

use super::CredentialArgs;
use crate::cli::terminal::errln;
use anyhow::bail;
use clap::{Args, Subcommand};
use tessera_client::config::{CredentialConfig, SecretRef};

/// Arguments of `tessera token profile`.
#[derive(Debug, Args)]
pub(crate) struct ProfileArgs {
    #[command(subcommand)]
    command: ProfileCommand,
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// List the profiles (never their secrets).
    List(ListArgs),
    /// Add (or with --force replace) a profile from credential flags.
    Add(Box<AddArgs>),
    /// Remove a profile.
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// The credentials file (default ~/.config/tessera/credentials.toml).
    #[arg(long, env = "TESSERA_CREDENTIALS_FILE", value_name = "FILE")]
    credentials_file: Option<std::path::PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The profile's name.
    name: String,
    #[command(flatten)]
    credential: CredentialArgs,
    /// Replace an existing profile of that name.
    #[arg(long)]
    force: bool,
    /// Validate the credential against its server first; save only if it works.
    #[arg(long)]
    validate: bool,
}

#[derive(Debug, Args)]
struct RemoveArgs {
    /// The profile's name.
    name: String,
    /// The credentials file (default ~/.config/tessera/credentials.toml).
    #[arg(long, env = "TESSERA_CREDENTIALS_FILE", value_name = "FILE")]
    credentials_file: Option<std::path::PathBuf>,
}

fn secret_label(s: Option<&SecretRef>) -> String {
    match s {
        None => "-".into(),
        Some(SecretRef::Env { env }) => format!("env:{env}"),
        Some(SecretRef::File { file }) => format!("file:{}", file.display()),
        Some(SecretRef::Inline(_)) => "inline".into(),
    }
}

fn endpoint_label(c: &CredentialConfig) -> String {
    match (&c.token_endpoint, &c.issuer) {
        (Some(t), _) => t.clone(),
        (None, Some(i)) => format!("{i} (discovery)"),
        _ => "-".into(),
    }
}

fn path_of(file: &Option<std::path::PathBuf>) -> anyhow::Result<std::path::PathBuf> {
    match file {
        Some(p) => Ok(p.clone()),
        None => tessera_client::config::ProfileFile::default_path().ok_or_else(|| {
            anyhow::anyhow!("cannot find the credentials file: set HOME or --credentials-file")
        }),
    }
}

pub(crate) async fn run(args: ProfileArgs) -> anyhow::Result<()> {
    match args.command {
        ProfileCommand::List(a) => {
            let loaded = tessera_client::config::ProfileFile::load(&path_of(&a.credentials_file)?)?;
            if a.json {
                let list: Vec<_> = loaded
                    .file
                    .profiles
                    .iter()
                    .map(|(name, c)| {
                        serde_json::json!({
                            "name": name,
                            "endpoint": endpoint_label(c),
                            "client_id": c.client_id,
                            "auth_method": c.auth_method.unwrap_or_default().as_str(),
                            "grant": c.grant.map(|g| g.as_str()).unwrap_or("client_credentials"),
                            "scopes": c.scopes,
                            "secret": secret_label(c.client_secret.as_ref()),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            if loaded.file.profiles.is_empty() {
                errln!("no profiles in {}", loaded.path.display());
                return Ok(());
            }
            let rows: Vec<Vec<String>> = loaded
                .file
                .profiles
                .iter()
                .map(|(name, c)| {
                    vec![
                        name.clone(),
                        endpoint_label(c),
                        c.client_id.clone(),
                        c.auth_method.unwrap_or_default().as_str().to_owned(),
                        c.grant
                            .map(|g| g.as_str().to_owned())
                            .unwrap_or_else(|| "client_credentials".into()),
                        c.scopes.join(" "),
                        secret_label(c.client_secret.as_ref()),
                    ]
                })
                .collect();
            crate::cli::print_table(
                &[
                    "NAME",
                    "ENDPOINT",
                    "CLIENT_ID",
                    "AUTH",
                    "GRANT",
                    "SCOPES",
                    "SECRET",
                ],
                &rows,
            );
            if !loaded.private {
                errln!(
                    "warning: {} can be read by other users; inline secrets in it are refused (chmod 600)",
                    loaded.path.display()
                );
            }
            Ok(())
        }
        ProfileCommand::Add(a) => {
            if a.credential.profile.is_some() {
                bail!("`profile add` takes credential flags, not --profile");
            }
            let path = a.credential.credentials_path()?;
            let mut loaded = tessera_client::config::ProfileFile::load(&path)?;
            if loaded.file.profiles.contains_key(&a.name) && !a.force {
                bail!(
                    "profile {:?} exists in {}; use --force to replace it",
                    a.name,
                    path.display()
                );
            }
            let cfg = a.credential.apply(CredentialConfig::default())?;
            if cfg.client_id.is_empty() {
                bail!("--client-id is required");
            }
            // Check it parses and its references resolve before saving.
            let credential = cfg.to_credential(true)?;
            if a.validate {
                let report = super::validate::validate(credential, a.credential.timeout()).await;
                report.print_human();
                if !report.ok {
                    bail!("not saved: the credential does not work");
                }
            }
            loaded.file.profiles.insert(a.name.clone(), cfg);
            loaded.file.save(&path)?;
            errln!(
                "saved profile {:?} in {} (mode 0600)",
                a.name,
                path.display()
            );
            Ok(())
        }
        ProfileCommand::Remove(a) => {
            let path = path_of(&a.credentials_file)?;
            let mut loaded = tessera_client::config::ProfileFile::load(&path)?;
            if loaded.file.profiles.remove(&a.name).is_none() {
                bail!("no profile {:?} in {}", a.name, path.display());
            }
            loaded.file.save(&path)?;
            errln!("removed profile {:?}", a.name);
            Ok(())
        }
    }
}

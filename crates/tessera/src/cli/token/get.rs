//! `tessera token get`: performs the grant and prints the token response (RFC 6749 §5.1) as the
//! server sent it, members the client does not know included.

use super::CredentialArgs;
use super::credential_args::SourceArgs;
use super::validate::lifetime_from;
use crate::cli::terminal::outln;
use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use tessera_client::{TokenCache, TokenSource};
use tessera_jose::UnverifiedJws;

/// Arguments of `tessera token get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    #[command(flatten)]
    credential: CredentialArgs,
    #[command(flatten)]
    source: SourceArgs,
    /// Print only the access token (for `$(tessera token get --raw)`).
    #[arg(long, conflicts_with = "decode")]
    raw: bool,
    /// Print the JWT access token's header and claims, decoded but NOT verified (an opaque token:
    /// the response, with a note that there is nothing to decode), and the lifetime the client
    /// gives the token.
    #[arg(long)]
    decode: bool,
}

/// Decodes a JWT without verifying it, for display.
pub(crate) fn decode_unverified(token: &str) -> anyhow::Result<Value> {
    let jws = UnverifiedJws::parse(token)
        .context("the token is not a JWT (an opaque token has nothing to decode)")?;
    let claims: Value = jws.claims().context("the JWT payload is not JSON claims")?;
    Ok(json!({
        "verified": false,
        "warning": "UNVERIFIED: decoded without checking the signature, issuer, audience or expiry",
        "header": serde_json::to_value(&jws.header)?,
        "claims": claims,
    }))
}

/// What `--decode` shows of a token: its header and claims, or a note when it is not a JWT.
fn decode_or_note(token: &str) -> Value {
    decode_unverified(token).unwrap_or_else(|e| {
        json!({
            "jwt": false,
            "note": e.to_string(),
        })
    })
}

pub(crate) async fn run(args: GetArgs) -> anyhow::Result<()> {
    let credential = args.credential.credential()?;
    let source = TokenSource::builder(credential)
        .cache(TokenCache::new())
        .timeout(args.credential.timeout())
        .retry(args.source.retry())
        .lifetime(args.source.lifetime())
        .build()?;
    let fetched = source.fetch_uncached().await?;
    if args.raw {
        outln!("{}", fetched.response.access_token);
        return Ok(());
    }
    let response = Value::Object(fetched.raw);
    if args.decode {
        let mut out = serde_json::Map::new();
        let access = decode_or_note(&fetched.response.access_token);
        let opaque = access["jwt"] == false;
        out.insert("access_token".into(), access);
        if let Some(id) = &fetched.response.id_token {
            out.insert("id_token".into(), decode_or_note(id));
        }
        out.insert(
            "lifetime".into(),
            json!({
                "seconds": fetched.lifetime.as_secs(),
                "from": lifetime_from(fetched.lifetime_source),
            }),
        );
        if opaque {
            // Nothing to decode: show what the server said instead.
            out.insert("response".into(), response);
        }
        println!("{}", serde_json::to_string_pretty(&Value::Object(out))?);
        return Ok(());
    }
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}

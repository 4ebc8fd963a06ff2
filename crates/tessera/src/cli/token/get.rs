//! `tessera token get`: performs the grant and prints the token response (RFC 6749 §5.1).

use super::CredentialArgs;
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
    /// Print only the access token (for `$(tessera token get --raw)`).
    #[arg(long, conflicts_with = "decode")]
    raw: bool,
    /// Print the JWT access token's header and claims, decoded but NOT verified.
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

pub(crate) async fn run(args: GetArgs) -> anyhow::Result<()> {
    let credential = args.credential.credential()?;
    let source = TokenSource::builder(credential)
        .cache(TokenCache::new())
        .timeout(args.credential.timeout())
        .build()?;
    let fetched = source.fetch_uncached().await?;
    if args.raw {
        println!("{}", fetched.response.access_token);
        return Ok(());
    }
    if args.decode {
        let mut out = serde_json::Map::new();
        out.insert(
            "access_token".into(),
            decode_unverified(&fetched.response.access_token)?,
        );
        if let Some(id) = &fetched.response.id_token {
            out.insert("id_token".into(), decode_unverified(id)?);
        }
        println!("{}", serde_json::to_string_pretty(&Value::Object(out))?);
        return Ok(());
    }
    println!("{}", serde_json::to_string_pretty(&fetched.response)?);
    Ok(())
}

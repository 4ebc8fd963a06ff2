//! The algorithm a signing JWK names in its `alg` (RFC 7517 §4.4), used when no `--signing-alg`
//! (or `--grant-assertion-alg`) is given.

use anyhow::{anyhow, bail};
use tessera_client::Algorithm;
use tessera_client::config::KeyRef;
use tessera_jose::Jwk;

/// The `alg` of the JWK `key` refers to: `None` when the key is not a JWK (a PEM file, a
/// variable that is unset or holds PEM) or the JWK has no `alg`. An error names the file or
/// variable and what is wrong, never the key's content.
pub(crate) fn of(key: &KeyRef) -> anyhow::Result<Option<Algorithm>> {
    let (json, place) = match key {
        KeyRef::JwkFile { jwk_file } => {
            let text = std::fs::read_to_string(jwk_file)
                .map_err(|e| anyhow!("cannot read the JWK file {}: {e}", jwk_file.display()))?;
            (text, format!("the JWK file {}", jwk_file.display()))
        }
        KeyRef::Jwk { jwk } => (jwk.clone(), "the profile's inline JWK".to_owned()),
        KeyRef::Env { env } => match std::env::var(env) {
            Ok(v) if v.trim_start().starts_with('{') => (v, format!("the JWK in {env}")),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let jwk: Jwk = serde_json::from_str(&json).map_err(|e| {
        // serde's message may quote a value of the key: only where it went wrong is shown.
        anyhow!(
            "{place} is not a JWK (a JSON object with kty and the key's members; line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let Some(alg) = jwk.alg.as_deref() else {
        return Ok(None);
    };
    match Algorithm::parse(alg) {
        Ok(a) => Ok(Some(a)),
        Err(_) => bail!(
            "{place} says alg {alg:?}, which is not a signing algorithm (HS256/384/512, \
             RS256/384/512, PS256/384/512, ES256, ES384, EdDSA)"
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn inline(json: &str) -> KeyRef {
        KeyRef::Jwk {
            jwk: json.to_owned(),
        }
    }

    #[test]
    fn the_alg_member_names_the_algorithm() {
        let jwk = |alg: &str| {
            let mut v = serde_json::json!({"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"});
            if !alg.is_empty() {
                v["alg"] = alg.into();
            }
            inline(&v.to_string())
        };
        assert_eq!(of(&jwk("HS384")).unwrap(), Some(Algorithm::HS384));
        assert_eq!(of(&jwk("")).unwrap(), None);
        let e = of(&jwk("none")).unwrap_err().to_string();
        assert!(
            e.contains("\"none\"") && e.contains("not a signing algorithm"),
            "{e}"
        );
    }

    #[test]
    fn a_broken_jwk_is_refused_without_quoting_it() {
        let e = of(&inline(r#"{"kty": "EC", "d": 12345}"#))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a JWK") && !e.contains("12345"), "{e}");
        assert_eq!(
            of(&KeyRef::PemFile {
                file: "key.pem".into()
            })
            .unwrap(),
            None
        );
    }
}

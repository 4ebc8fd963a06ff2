//! Other addresses for the OAuth endpoints: those of the [`Profile`]s switched on
//! (`compat.profiles`) and those listed in `http.path_aliases`. An alias serves exactly what the
//! endpoint's standard address serves; discovery keeps announcing the standard addresses.
//!
//! Every alias is checked when the settings are loaded: an address that is not a plain path, one
//! this server already serves, or one given twice is refused, so the server never starts with an
//! alias that would shadow a route or be silently ignored. Requests that came through an alias are
//! counted in `tessera_compat_alias_requests_total{path, source}`.

use super::endpoint::Endpoint;
use super::profile::Profile;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The longest alias accepted.
const MAX_ALIAS_LEN: usize = 200;

/// Addresses this server serves besides the endpoints': an alias may not be one of them.
pub const RESERVED_PATHS: [&str; 11] = [
    "/oauth2/authorize/consent",
    "/login",
    "/logout",
    "/device",
    "/device/approve",
    "/assets/tessera.css",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// Address prefixes this server keeps for itself (the admin API and console).
pub const RESERVED_PREFIXES: [&str; 1] = ["/admin"];

/// `http.path_aliases`: addresses mapped onto endpoints by name. Written as a TOML table
/// (`"/auth/token" = "token"`) or, in an environment variable, as `path=endpoint` pairs separated
/// by commas (`/auth/token=token,/auth/keys=jwks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PathAliases(pub BTreeMap<String, Endpoint>);

impl PathAliases {
    /// Whether no alias is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn endpoint_named<E: de::Error>(path: &str, name: &str) -> Result<Endpoint, E> {
    Endpoint::parse(name.trim()).ok_or_else(|| {
        E::custom(format!(
            "path alias {path:?} names the endpoint {name:?}, which does not exist; endpoints: {}",
            Endpoint::names()
        ))
    })
}

struct PathAliasesVisitor;

impl<'de> Visitor<'de> for PathAliasesVisitor {
    type Value = PathAliases;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a table of path = endpoint name, or \"path=endpoint,path=endpoint\" in a variable",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PathAliases, A::Error> {
        let mut out = BTreeMap::new();
        while let Some((path, name)) = map.next_entry::<String, String>()? {
            let endpoint = endpoint_named(&path, &name)?;
            out.insert(path, endpoint);
        }
        Ok(PathAliases(out))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PathAliases, E> {
        let mut out = BTreeMap::new();
        for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (path, name) = pair.split_once('=').ok_or_else(|| {
                E::custom(format!(
                    "path alias {pair:?} is not path=endpoint (for example /auth/token=token)"
                ))
            })?;
            let path = path.trim();
            if out
                .insert(path.to_owned(), endpoint_named(path, name)?)
                .is_some()
            {
                return Err(E::custom(format!("path alias {path:?} is given twice")));
            }
        }
        Ok(PathAliases(out))
    }
}

impl<'de> Deserialize<'de> for PathAliases {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PathAliasesVisitor)
    }
}

/// Where an alias comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A compatibility profile.
    Profile(Profile),
    /// `http.path_aliases`.
    PathAliases,
}

impl Source {
    /// The metric label and the name in messages: the profile's name, or `path_aliases`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Profile(p) => p.name(),
            Self::PathAliases => "path_aliases",
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Profile(p) => format!("compat.profiles {:?}", p.name()),
            Self::PathAliases => "http.path_aliases".to_owned(),
        }
    }
}

/// One address served as an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The address (a path).
    pub path: String,
    /// The endpoint it serves.
    pub endpoint: Endpoint,
    /// Where it comes from.
    pub source: Source,
}

/// Checks that `path` can be an alias: a plain absolute path that this server does not serve.
fn check_path(path: &str) -> Result<(), String> {
    let plain = path.starts_with('/')
        && path.len() <= MAX_ALIAS_LEN
        && path.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'/' | b'-'
                        | b'.'
                        | b'_'
                        | b'~'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b'@'
                )
        })
        && !path.contains("//")
        && !path.split('/').any(|s| s == "." || s == "..");
    if !plain {
        return Err(format!(
            "{path:?} is not a plain path: it must start with '/', be at most {MAX_ALIAS_LEN} \
             characters of letters, digits and - . _ ~ ! $ & ' ( ) + , ; = @, and have no empty, \
             '.' or '..' segment (no query, no placeholder)"
        ));
    }
    if let Some(e) = Endpoint::ALL.into_iter().find(|e| e.path() == path) {
        return Err(format!(
            "{path:?} is already the address of the {e} endpoint; an alias must be another address"
        ));
    }
    if RESERVED_PATHS.contains(&path) {
        return Err(format!(
            "{path:?} is already an address of this server; choose another"
        ));
    }
    if let Some(prefix) = RESERVED_PREFIXES
        .iter()
        .find(|p| path == **p || path.starts_with(&format!("{p}/")))
    {
        return Err(format!(
            "{path:?} is under {prefix}, which this server keeps for its admin API and console"
        ));
    }
    Ok(())
}

/// The aliases of `profiles` and `path_aliases`, checked: each a plain path this server does not
/// already serve, and none given twice. The error names the setting and the address.
pub fn resolve(profiles: &[Profile], path_aliases: &PathAliases) -> Result<Vec<Alias>, String> {
    let mut out: Vec<Alias> = Vec::new();
    let from_profiles = profiles.iter().flat_map(|p| {
        p.addresses().iter().map(|(path, endpoint)| Alias {
            path: (*path).to_owned(),
            endpoint: *endpoint,
            source: Source::Profile(*p),
        })
    });
    let configured = path_aliases.0.iter().map(|(path, endpoint)| Alias {
        path: path.clone(),
        endpoint: *endpoint,
        source: Source::PathAliases,
    });
    for alias in from_profiles.chain(configured) {
        check_path(&alias.path).map_err(|e| format!("{}: {e}", alias.source.describe()))?;
        if let Some(earlier) = out.iter().find(|a| a.path == alias.path) {
            if earlier.source == alias.source {
                continue;
            }
            return Err(format!(
                "{}: {:?} is already an address of {} (the {} endpoint); an address can serve one \
                 endpoint only",
                alias.source.describe(),
                alias.path,
                earlier.source.describe(),
                earlier.endpoint
            ));
        }
        out.push(alias);
    }
    Ok(out)
}

/// Marks a request that came through an alias (a request extension), for the endpoint to know the
/// address it was called at.
#[derive(Debug, Clone)]
pub struct ViaAlias {
    /// The alias called.
    pub path: Arc<str>,
    /// Where the alias comes from.
    pub source: Source,
}

/// Counts a request that came through an alias in `tessera_compat_alias_requests_total`.
pub async fn count(req: Request, next: Next) -> Response {
    if let Some(via) = req.extensions().get::<ViaAlias>() {
        metrics::counter!(
            "tessera_compat_alias_requests_total",
            "path" => via.path.to_string(),
            "source" => via.source.label()
        )
        .increment(1);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, Endpoint)]) -> PathAliases {
        PathAliases(pairs.iter().map(|(p, e)| ((*p).to_owned(), *e)).collect())
    }

    #[test]
    fn profiles_and_table_resolve() {
        let all = resolve(&Profile::ALL, &table(&[("/auth/token", Endpoint::Token)]));
        assert!(all.is_ok(), "{all:?}");
        let all = all.unwrap_or_default();
        assert!(all.iter().any(|a| a.path == "/oidc/token"
            && a.endpoint == Endpoint::Token
            && a.source == Source::Profile(Profile::OneLogin)));
        assert!(all.iter().any(|a| a.path == "/auth/token"
            && a.source == Source::PathAliases
            && a.source.label() == "path_aliases"));
        // A profile listed twice is the same addresses, not a collision.
        assert!(resolve(&[Profile::Coupa, Profile::Coupa], &PathAliases::default()).is_ok());
    }

    #[test]
    fn bad_and_colliding_addresses_are_refused() {
        let refused = [
            ("/oauth2/token", "already the address of the token endpoint"),
            ("/metrics", "already an address of this server"),
            ("/admin/api/v1/clients", "admin API"),
            ("/admin", "admin API"),
            ("token", "not a plain path"),
            ("/a/{id}", "not a plain path"),
            ("/a/:id", "not a plain path"),
            ("/a//b", "not a plain path"),
            ("/a/../oauth2/token", "not a plain path"),
            ("/a?x=1", "not a plain path"),
        ];
        for (path, needle) in refused {
            let e = resolve(&[], &table(&[(path, Endpoint::Token)]))
                .err()
                .unwrap_or_default();
            assert!(
                e.contains(needle) && e.contains("http.path_aliases"),
                "{path}: {e}"
            );
        }
        let e = resolve(
            &[Profile::OneLogin],
            &table(&[("/oidc/token", Endpoint::Jwks)]),
        )
        .err()
        .unwrap_or_default();
        assert!(
            e.contains("compat.profiles \"onelogin\"") && e.contains("/oidc/token"),
            "{e}"
        );
    }

    #[test]
    fn the_table_reads_from_toml_and_from_a_variable() {
        let t: Result<BTreeMap<String, PathAliases>, _> =
            toml::from_str("[a]\n\"/auth/token\" = \"token\"\n\"/auth/keys\" = \"jwks\"\n");
        let t = t.map(|mut m| m.remove("a").unwrap_or_default());
        assert_eq!(
            t.ok(),
            Some(table(&[
                ("/auth/token", Endpoint::Token),
                ("/auth/keys", Endpoint::Jwks)
            ]))
        );
        let v: Result<PathAliases, serde_json::Error> = serde_json::from_value(serde_json::json!(
            "/auth/token=token, /x=device_authorization"
        ));
        assert_eq!(
            v.ok(),
            Some(table(&[
                ("/auth/token", Endpoint::Token),
                ("/x", Endpoint::DeviceAuthorization)
            ]))
        );
        let e: Result<PathAliases, serde_json::Error> =
            serde_json::from_value(serde_json::json!({"/a": "tokens"}));
        let e = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("\"tokens\"") && e.contains("device_authorization"),
            "{e}"
        );
        let e: Result<PathAliases, serde_json::Error> =
            serde_json::from_value(serde_json::json!("/a"));
        assert!(e.is_err());
    }
}

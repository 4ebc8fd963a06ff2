//! Migration aids: what the systems people come from document and Tessera does not do by default,
//! switched on by settings (`[compat]`, `http.path_aliases`) and counted in metrics so operators
//! see who still relies on them. `docs/migrating.md` describes each one.

pub mod aliases;
pub mod endpoint;
pub mod profile;

pub use aliases::{Alias, PathAliases, ViaAlias};
pub use endpoint::Endpoint;
pub use profile::Profile;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// `[compat]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompatConfig {
    /// The compatibility profiles switched on: `coupa`, `onelogin`, `curity`. A list in TOML; in
    /// `TESSERA_COMPAT_PROFILES`, names separated by commas. Default none.
    #[serde(deserialize_with = "profiles")]
    pub profiles: Vec<Profile>,
}

impl CompatConfig {
    /// Whether `profile` is switched on.
    pub fn has(&self, profile: Profile) -> bool {
        self.profiles.contains(&profile)
    }

    /// Whether parameters in the query string of a POST to the token and device authorization
    /// endpoints are read as if in the body (the `coupa` profile).
    pub fn reads_query_parameters(&self) -> bool {
        self.profiles.iter().any(|p| p.reads_query_parameters())
    }
}

fn profile_named<E: de::Error>(name: &str) -> Result<Profile, E> {
    Profile::parse(name.trim()).ok_or_else(|| {
        E::custom(format!(
            "{name:?} is not a compatibility profile; profiles: {}",
            Profile::ALL.map(Profile::name).join(", ")
        ))
    })
}

struct ProfilesVisitor;

impl<'de> Visitor<'de> for ProfilesVisitor {
    type Value = Vec<Profile>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of profile names, or names separated by commas")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Profile>, A::Error> {
        let mut out = Vec::new();
        while let Some(name) = seq.next_element::<String>()? {
            let p = profile_named(&name)?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
        Ok(out)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<Profile>, E> {
        let mut out = Vec::new();
        for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let p = profile_named(name)?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
        Ok(out)
    }
}

fn profiles<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Profile>, D::Error> {
    d.deserialize_any(ProfilesVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_read_from_a_list_or_a_string() {
        let c: Result<CompatConfig, _> = toml::from_str("profiles = [\"coupa\", \"Curity\"]");
        assert_eq!(
            c.map(|c| c.profiles).ok(),
            Some(vec![Profile::Coupa, Profile::Curity])
        );
        let c: Result<CompatConfig, _> =
            serde_json::from_value(serde_json::json!({"profiles": "onelogin, coupa,onelogin"}));
        let c = c.unwrap_or_default();
        assert_eq!(c.profiles, vec![Profile::OneLogin, Profile::Coupa]);
        assert!(c.has(Profile::OneLogin) && c.reads_query_parameters());
        let e: Result<CompatConfig, _> = toml::from_str("profiles = [\"okta\"]");
        let e = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("\"okta\"") && e.contains("coupa, onelogin, curity"),
            "{e}"
        );
        assert!(!CompatConfig::default().reads_query_parameters());
    }
}

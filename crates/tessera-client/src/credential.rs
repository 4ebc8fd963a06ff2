//! A credential: everything needed to get a token from one server for one client (the Cora-style
//! "named credential", Couper's `oauth2` block).

use crate::assertion::{KeySource, Signer, SigningProfile};
use crate::{Endpoint, Error, ExposeSecret, SecretString};
use tessera_jose::Algorithm;
use tessera_proto::{ClientAuthMethod, GrantType, ScopeSet};

/// How `client_secret_basic` encodes the client id and secret before base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BasicEncoding {
    /// Form-urlencode id and secret first, as RFC 6749 §2.3.1 and Appendix B require. The default,
    /// and what `oidc-provider`, Tessera and most servers expect.
    #[default]
    FormUrlEncoded,
    /// Join them raw (RFC 7617), for servers that do not decode as RFC 6749 asks. Only differs when
    /// the id or secret contains a character outside `A-Z a-z 0-9 * - . _`.
    Raw,
}

/// The assertion of the `jwt-bearer` authorization grant (RFC 7523 §2.1).
#[derive(Debug, Clone)]
pub enum JwtBearerAssertion {
    /// An assertion obtained elsewhere, sent as is.
    Given(SecretString),
    /// An assertion signed for each request from a profile (`iss`/`sub` default to the client id,
    /// `aud` to the token endpoint).
    Signed(SigningProfile),
}

/// The grant used to get tokens (RFC 6749 §4). A `refresh_token` (§6) is used on top of any of
/// them whenever the server returns one.
#[derive(Debug, Clone)]
pub enum Grant {
    /// RFC 6749 §4.4 `client_credentials`: the client acts for itself. The default.
    ClientCredentials,
    /// RFC 6749 §4.3 `password` (legacy; RFC 9700 §2.4 says not to use it).
    Password {
        /// The resource owner's user name.
        username: String,
        /// The resource owner's password.
        password: SecretString,
    },
    /// RFC 7523 §2.1 `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    JwtBearer(JwtBearerAssertion),
}

impl Grant {
    /// The `grant_type` value.
    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::ClientCredentials => GrantType::ClientCredentials,
            Self::Password { .. } => GrantType::Password,
            Self::JwtBearer(_) => GrantType::JwtBearer,
        }
    }
}

/// A loaded grant: assertion keys are read once, when the credential is built.
#[derive(Debug, Clone)]
pub(crate) enum LoadedGrant {
    ClientCredentials,
    Password {
        username: String,
        password: SecretString,
    },
    JwtBearerGiven(SecretString),
    JwtBearerSigned(Box<Signer>),
}

/// Everything needed to get a token: endpoint, client id, client authentication, grant, scopes,
/// audiences, resources and extra parameters. Build one with [`Credential::builder`].
///
/// `Debug` never shows the secret, key, password or assertion.
#[derive(Debug, Clone)]
pub struct Credential {
    pub(crate) endpoint: Endpoint,
    pub(crate) client_id: String,
    pub(crate) auth_method: ClientAuthMethod,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) client_signer: Option<Box<Signer>>,
    pub(crate) basic_encoding: BasicEncoding,
    pub(crate) grant: LoadedGrant,
    pub(crate) scopes: ScopeSet,
    pub(crate) audiences: Vec<String>,
    pub(crate) resources: Vec<String>,
    pub(crate) extra: Vec<(String, String)>,
}

impl Credential {
    /// Starts a credential for `client_id` at `endpoint`, with `client_secret_basic` and the
    /// `client_credentials` grant by default.
    pub fn builder(endpoint: Endpoint, client_id: impl Into<String>) -> CredentialBuilder {
        CredentialBuilder {
            endpoint,
            client_id: client_id.into(),
            auth_method: None,
            client_secret: None,
            signing: None,
            basic_encoding: BasicEncoding::default(),
            grant: Grant::ClientCredentials,
            scopes: ScopeSet::new(),
            audiences: Vec::new(),
            resources: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// The endpoint (token endpoint or issuer).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client authentication method.
    pub fn auth_method(&self) -> ClientAuthMethod {
        self.auth_method
    }

    /// The grant type.
    pub fn grant_type(&self) -> GrantType {
        match &self.grant {
            LoadedGrant::ClientCredentials => GrantType::ClientCredentials,
            LoadedGrant::Password { .. } => GrantType::Password,
            LoadedGrant::JwtBearerGiven(_) | LoadedGrant::JwtBearerSigned(_) => {
                GrantType::JwtBearer
            }
        }
    }

    /// The requested scopes.
    pub fn scopes(&self) -> &ScopeSet {
        &self.scopes
    }

    /// A copy of this credential with another client authentication method (keeps secret and
    /// signing key; `client_secret_jwt` signs with HS256 under the secret unless an HMAC profile
    /// is set): used by `tessera token validate` to tell a wrong method from a wrong secret.
    pub fn with_auth_method(&self, method: ClientAuthMethod) -> Result<Self, Error> {
        let mut c = self.clone();
        c.auth_method = method;
        if method == ClientAuthMethod::ClientSecretJwt
            && !c
                .client_signer
                .as_ref()
                .is_some_and(|s| s.profile.alg.is_hmac())
        {
            c.client_signer = Some(Box::new(Signer::load(
                SigningProfile::new(Algorithm::HS256, KeySource::ClientSecret),
                c.client_secret.as_ref(),
            )?));
        }
        check_auth(&c)?;
        Ok(c)
    }

    /// Whether this credential makes `jwt-bearer` requests without any client authentication and
    /// without a client id (RFC 7523 §3.1; Couper's `oauth2` block without `client_id`): the
    /// server then finds the client from the assertion's issuer.
    pub fn is_unauthenticated_jwt_bearer(&self) -> bool {
        self.client_id.is_empty()
            && self.auth_method == ClientAuthMethod::None
            && matches!(
                self.grant,
                LoadedGrant::JwtBearerGiven(_) | LoadedGrant::JwtBearerSigned(_)
            )
    }

    /// A copy of this credential with another Basic encoding.
    pub fn with_basic_encoding(&self, encoding: BasicEncoding) -> Self {
        let mut c = self.clone();
        c.basic_encoding = encoding;
        c
    }
}

fn check_auth(c: &Credential) -> Result<(), Error> {
    match c.auth_method {
        ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost => {
            if c.client_secret.is_none() {
                return Err(Error::Config(format!(
                    "{} needs a client secret",
                    c.auth_method
                )));
            }
        }
        ClientAuthMethod::ClientSecretJwt => match &c.client_signer {
            Some(s) if s.profile.alg.is_hmac() => {}
            Some(s) => {
                return Err(Error::Config(format!(
                    "client_secret_jwt signs with HS256/HS384/HS512, not {}",
                    s.profile.alg
                )));
            }
            None => {
                return Err(Error::Config(
                    "client_secret_jwt needs a client secret".into(),
                ));
            }
        },
        ClientAuthMethod::PrivateKeyJwt => match &c.client_signer {
            Some(s) if !s.profile.alg.is_hmac() => {}
            Some(s) => {
                return Err(Error::Config(format!(
                    "private_key_jwt signs with a private key (RS*, PS256, ES256, ES384, EdDSA), not {}",
                    s.profile.alg
                )));
            }
            None => {
                return Err(Error::Config(
                    "private_key_jwt needs a signing profile with a private key".into(),
                ));
            }
        },
        ClientAuthMethod::None => {}
    }
    if c.client_id.is_empty() && !c.is_unauthenticated_jwt_bearer() {
        return Err(Error::Config(
            "the client id is empty; only the jwt-bearer grant without client authentication \
             (auth method none) may go without one"
                .into(),
        ));
    }
    Ok(())
}

/// Builds a [`Credential`]; [`CredentialBuilder::build`] checks it and loads keys.
#[derive(Debug)]
#[must_use]
pub struct CredentialBuilder {
    endpoint: Endpoint,
    client_id: String,
    auth_method: Option<ClientAuthMethod>,
    client_secret: Option<SecretString>,
    signing: Option<SigningProfile>,
    basic_encoding: BasicEncoding,
    grant: Grant,
    scopes: ScopeSet,
    audiences: Vec<String>,
    resources: Vec<String>,
    extra: Vec<(String, String)>,
}

impl CredentialBuilder {
    /// The client secret (for `client_secret_basic`, `client_secret_post` and `client_secret_jwt`).
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// The client authentication method (RFC 6749 §2.3, OpenID Connect Core §9). Default:
    /// `client_secret_basic`; `private_key_jwt` when only a signing profile is given.
    pub fn auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.auth_method = Some(method);
        self
    }

    /// The signing profile of the client assertion (`client_secret_jwt` with an HS* algorithm and
    /// [`KeySource::ClientSecret`], or `private_key_jwt`).
    pub fn client_assertion(mut self, profile: SigningProfile) -> Self {
        self.signing = Some(profile);
        self
    }

    /// How `client_secret_basic` encodes id and secret (RFC 6749 §2.3.1; default form-urlencoded).
    pub fn basic_encoding(mut self, encoding: BasicEncoding) -> Self {
        self.basic_encoding = encoding;
        self
    }

    /// The grant (default `client_credentials`).
    pub fn grant(mut self, grant: Grant) -> Self {
        self.grant = grant;
        self
    }

    /// The scopes to request (RFC 6749 §3.3).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for s in scopes {
            self.scopes.insert(s);
        }
        self
    }

    /// An `audience` parameter (sent by servers such as Auth0 and RFC 8693 token exchange).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// A `resource` parameter (RFC 8707 §2): the API the token is for.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// An extra token request parameter. Parameters the client sets itself (`grant_type`,
    /// `client_id`, `client_secret`, `client_assertion*`, `scope`, `resource`, `audience`,
    /// `username`, `password`, `assertion`, `refresh_token`) are refused at build time.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Checks the credential and loads its keys.
    pub fn build(self) -> Result<Credential, Error> {
        const RESERVED: [&str; 12] = [
            "grant_type",
            "client_id",
            "client_secret",
            "client_assertion",
            "client_assertion_type",
            "scope",
            "resource",
            "audience",
            "username",
            "password",
            "assertion",
            "refresh_token",
        ];
        for (k, _) in &self.extra {
            if RESERVED.contains(&k.as_str()) {
                return Err(Error::Config(format!(
                    "extra parameter {k:?} is set by the client itself; use the dedicated option"
                )));
            }
            if k.is_empty() {
                return Err(Error::Config("an extra parameter has an empty name".into()));
            }
        }
        for s in self.scopes.iter() {
            if !tessera_proto::scope::is_scope_token(s) {
                return Err(Error::Config(format!(
                    "scope {s:?} has a character RFC 6749 §3.3 does not allow"
                )));
            }
        }
        for r in &self.resources {
            // RFC 8707 §2: an absolute URI without a fragment.
            match reqwest::Url::parse(r) {
                Ok(u) if u.fragment().is_none() => {}
                _ => {
                    return Err(Error::Config(format!(
                        "resource {r:?} is not an absolute URI without a fragment (RFC 8707 §2)"
                    )));
                }
            }
        }
        let auth_method = match self.auth_method {
            Some(m) => m,
            None => match &self.signing {
                Some(p) if p.alg.is_hmac() => ClientAuthMethod::ClientSecretJwt,
                Some(_) => ClientAuthMethod::PrivateKeyJwt,
                None => ClientAuthMethod::ClientSecretBasic,
            },
        };
        let signing = match (auth_method, self.signing) {
            (_, Some(p)) => Some(p),
            (ClientAuthMethod::ClientSecretJwt, None) => Some(SigningProfile::new(
                Algorithm::HS256,
                KeySource::ClientSecret,
            )),
            (_, None) => None,
        };
        let client_signer = match signing {
            Some(p) => Some(Box::new(Signer::load(p, self.client_secret.as_ref())?)),
            None => None,
        };
        let grant = match self.grant {
            Grant::ClientCredentials => LoadedGrant::ClientCredentials,
            Grant::Password { username, password } => {
                if username.is_empty() {
                    return Err(Error::Config("the password grant needs a user name".into()));
                }
                LoadedGrant::Password { username, password }
            }
            Grant::JwtBearer(JwtBearerAssertion::Given(a)) => {
                if a.expose_secret().is_empty() {
                    return Err(Error::Config("the jwt-bearer assertion is empty".into()));
                }
                LoadedGrant::JwtBearerGiven(a)
            }
            Grant::JwtBearer(JwtBearerAssertion::Signed(p)) => {
                if self.client_id.is_empty() && (p.issuer.is_none() || p.subject.is_none()) {
                    return Err(Error::Config(
                        "without a client id, the jwt-bearer assertion's signing profile needs \
                         its issuer and subject (they default to the client id)"
                            .into(),
                    ));
                }
                LoadedGrant::JwtBearerSigned(Box::new(Signer::load(
                    p,
                    self.client_secret.as_ref(),
                )?))
            }
        };
        let c = Credential {
            endpoint: self.endpoint,
            client_id: self.client_id,
            auth_method,
            client_secret: self.client_secret,
            client_signer,
            basic_encoding: self.basic_encoding,
            grant,
            scopes: self.scopes,
            audiences: self.audiences,
            resources: self.resources,
            extra: self.extra,
        };
        check_auth(&c)?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ep() -> Endpoint {
        Endpoint::token_endpoint("https://as.example/token").unwrap()
    }

    #[test]
    fn defaults_and_checks() {
        let c = Credential::builder(ep(), "c")
            .client_secret(SecretString::from("s"))
            .build()
            .unwrap();
        assert_eq!(c.auth_method(), ClientAuthMethod::ClientSecretBasic);
        assert_eq!(c.grant_type(), GrantType::ClientCredentials);
        assert!(Credential::builder(ep(), "c").build().is_err());
        assert!(
            Credential::builder(ep(), "c")
                .client_secret(SecretString::from("s"))
                .param("grant_type", "x")
                .build()
                .is_err()
        );
        let jwt = Credential::builder(ep(), "c")
            .client_secret(SecretString::from("s"))
            .auth_method(ClientAuthMethod::ClientSecretJwt)
            .build()
            .unwrap();
        assert_eq!(jwt.auth_method(), ClientAuthMethod::ClientSecretJwt);
        assert!(
            Credential::builder(ep(), "c")
                .auth_method(ClientAuthMethod::PrivateKeyJwt)
                .build()
                .is_err()
        );
        // No client id: only for the jwt-bearer grant without client authentication.
        let given = Grant::JwtBearer(JwtBearerAssertion::Given(SecretString::from("a.b.c")));
        let anonymous = Credential::builder(ep(), "")
            .auth_method(ClientAuthMethod::None)
            .grant(given.clone())
            .build()
            .unwrap();
        assert!(anonymous.is_unauthenticated_jwt_bearer());
        assert!(
            Credential::builder(ep(), "")
                .client_secret(SecretString::from("s"))
                .grant(given)
                .build()
                .is_err()
        );
        assert!(
            Credential::builder(ep(), "")
                .auth_method(ClientAuthMethod::None)
                .build()
                .is_err()
        );
        let unsigned =
            SigningProfile::new(Algorithm::HS256, KeySource::Pem(SecretString::from("k")));
        assert!(
            Credential::builder(ep(), "")
                .auth_method(ClientAuthMethod::None)
                .grant(Grant::JwtBearer(JwtBearerAssertion::Signed(
                    unsigned.clone()
                )))
                .build()
                .is_err()
        );
        let mut named = unsigned;
        named.issuer = Some("gateway".into());
        named.subject = Some("user-1".into());
        assert!(
            Credential::builder(ep(), "")
                .auth_method(ClientAuthMethod::None)
                .grant(Grant::JwtBearer(JwtBearerAssertion::Signed(named)))
                .build()
                .is_ok()
        );
        let debug = format!(
            "{:?}",
            Credential::builder(ep(), "c")
                .client_secret(SecretString::from("hunter2"))
                .build()
                .unwrap()
        );
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}

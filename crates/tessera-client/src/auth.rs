//! Client authentication at the token endpoint: `client_secret_basic` and `client_secret_post`
//! (RFC 6749 §2.3.1), `client_secret_jwt` and `private_key_jwt` (RFC 7523 §2.2, OpenID Connect
//! Core §9), and `none` (a public client, RFC 6749 §2.1).

use crate::credential::{BasicEncoding, Credential};
use crate::{Error, SecretString};
use http::HeaderValue;
use secrecy::ExposeSecret;
use tessera_proto::ClientAuthMethod;
use tessera_proto::client_auth::JWT_BEARER_ASSERTION_TYPE;

/// What client authentication adds to a token request.
pub(crate) struct ClientAuthentication {
    /// The `Authorization` header (`client_secret_basic` only), marked sensitive.
    pub(crate) authorization: Option<HeaderValue>,
    /// Body parameters (`client_id`, `client_secret`, `client_assertion_type`, `client_assertion`).
    pub(crate) params: Vec<(&'static str, SecretString)>,
}

/// Authenticates `credential` for a request to `token_endpoint`, signing a fresh client assertion
/// when the method calls for one.
pub(crate) fn authenticate(
    credential: &Credential,
    token_endpoint: &str,
) -> Result<ClientAuthentication, Error> {
    let id = credential.client_id.as_str();
    let secret = || {
        credential.client_secret.as_ref().ok_or_else(|| {
            Error::Config(format!("{} needs a client secret", credential.auth_method))
        })
    };
    match credential.auth_method {
        ClientAuthMethod::ClientSecretBasic => {
            // RFC 6749 §2.3.1: "The client identifier is encoded using the
            // application/x-www-form-urlencoded encoding algorithm per Appendix B, and the encoded
            // value is used as the username; the client password is encoded using the same
            // algorithm and used as the password."
            let value = match credential.basic_encoding {
                BasicEncoding::FormUrlEncoded => {
                    tessera_proto::basic::encode(id, secret()?.expose_secret())
                }
                BasicEncoding::Raw => {
                    tessera_proto::basic::encode_raw(id, secret()?.expose_secret())
                }
            };
            let mut header = HeaderValue::from_str(&value).map_err(|_| {
                Error::Config("the client id or secret cannot go in an HTTP header".into())
            })?;
            header.set_sensitive(true);
            Ok(ClientAuthentication {
                authorization: Some(header),
                params: Vec::new(),
            })
        }
        ClientAuthMethod::ClientSecretPost => Ok(ClientAuthentication {
            authorization: None,
            params: vec![
                ("client_id", SecretString::from(id)),
                ("client_secret", secret()?.clone()),
            ],
        }),
        ClientAuthMethod::ClientSecretJwt | ClientAuthMethod::PrivateKeyJwt => {
            let signer = credential.client_signer.as_ref().ok_or_else(|| {
                Error::Config(format!(
                    "{} needs a signing profile",
                    credential.auth_method
                ))
            })?;
            let assertion = signer.sign(id, token_endpoint)?;
            Ok(ClientAuthentication {
                authorization: None,
                params: vec![
                    // RFC 7523 §2.2 makes client_id optional; OpenID Connect Core §9 and many
                    // servers expect it.
                    ("client_id", SecretString::from(id)),
                    (
                        "client_assertion_type",
                        SecretString::from(JWT_BEARER_ASSERTION_TYPE),
                    ),
                    ("client_assertion", assertion),
                ],
            })
        }
        // No client id at all: the jwt-bearer grant without client authentication (RFC 7523
        // §3.1), where the server knows the client from the assertion's issuer.
        ClientAuthMethod::None if id.is_empty() => Ok(ClientAuthentication {
            authorization: None,
            params: Vec::new(),
        }),
        ClientAuthMethod::None => Ok(ClientAuthentication {
            authorization: None,
            params: vec![("client_id", SecretString::from(id))],
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::Endpoint;

    #[test]
    fn basic_is_form_encoded_then_raw_on_request() {
        let c = Credential::builder(
            Endpoint::token_endpoint("https://as.example/token").unwrap(),
            "id:1",
        )
        .client_secret(SecretString::from("a b+c%"))
        .build()
        .unwrap();
        let a = authenticate(&c, "https://as.example/token").unwrap();
        let h = a.authorization.unwrap();
        assert!(h.is_sensitive());
        assert_eq!(
            tessera_proto::basic::decode(h.to_str().unwrap()).unwrap(),
            ("id:1".to_owned(), "a b+c%".to_owned())
        );
        let raw = c.with_basic_encoding(BasicEncoding::Raw);
        let h = authenticate(&raw, "x").unwrap().authorization.unwrap();
        assert_eq!(
            h.to_str().unwrap(),
            tessera_proto::basic::encode_raw("id:1", "a b+c%")
        );
    }
}

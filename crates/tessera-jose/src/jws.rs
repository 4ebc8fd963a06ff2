//! JWS compact serialization (RFC 7515 §7.1).

use crate::{Algorithm, JoseError, VerifyingKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest compact JWS this crate will parse, to bound the work a request can cause.
pub(crate) const MAX_JWS_LEN: usize = 64 * 1024;

/// base64url without padding (RFC 7515 §2).
pub fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends `bytes`, base64url-encoded without padding, to `out`: one pass into space reserved
/// up front, for building a compact JWS in one buffer.
pub(crate) fn append_b64(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), false).unwrap_or(0);
    out.resize(start + len, 0);
    let written = out
        .get_mut(start..)
        .and_then(|dst| URL_SAFE_NO_PAD.encode_slice(bytes, dst).ok())
        .unwrap_or(0);
    out.truncate(start + written);
}

/// Decodes base64url without padding.
pub fn b64_decode(s: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JoseError::Malformed("a part is not base64url"))
}

/// A JOSE header (RFC 7515 §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The signature algorithm, as sent.
    pub alg: String,
    /// The media type of the whole JWS (`JWT`, `at+jwt`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// The id of the key that signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
    /// Critical extensions: any here make the JWS unacceptable, as this crate understands none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crit: Option<Vec<String>>,
    /// Other header parameters.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Header {
    /// A header with `alg`, and `typ` and `kid` when given.
    pub fn new(alg: Algorithm, typ: Option<&str>, kid: Option<&str>) -> Self {
        Self {
            alg: alg.as_str().to_owned(),
            typ: typ.map(str::to_owned),
            kid: kid.map(str::to_owned),
            cty: None,
            crit: None,
            extra: Map::new(),
        }
    }

    /// The algorithm, refusing `none` and unknown ones.
    pub fn algorithm(&self) -> Result<Algorithm, JoseError> {
        Algorithm::parse(&self.alg)
    }
}

/// A compact JWS split into its parts, not yet verified.
#[derive(Debug, Clone)]
pub struct UnverifiedJws<'a> {
    /// The decoded header.
    pub header: Header,
    payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> UnverifiedJws<'a> {
    /// Splits and decodes a compact JWS; checks nothing but its shape.
    pub fn parse(token: &'a str) -> Result<Self, JoseError> {
        if token.len() > MAX_JWS_LEN {
            return Err(JoseError::Malformed("too long"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::Malformed("not three dot-separated parts"));
        };
        let header_bytes = b64_decode(h)?;
        let header: Header = serde_json::from_slice(&header_bytes)
            .map_err(|e| JoseError::Json(format!("header: {e}")))?;
        let payload = b64_decode(p)?;
        let signature = b64_decode(s)?;
        let signing_input = &token[..h.len() + 1 + p.len()];
        Ok(Self {
            header,
            payload,
            signing_input,
            signature,
        })
    }

    /// The payload, not yet trustworthy.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload as JSON claims, not yet trustworthy.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, JoseError> {
        serde_json::from_slice(&self.payload).map_err(|e| JoseError::Json(format!("claims: {e}")))
    }

    /// Verifies the signature with `key`, refusing the JWS when its `alg` is not in `allowed`,
    /// does not fit the key, or carries `crit` extensions.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        allowed: &[Algorithm],
    ) -> Result<Algorithm, JoseError> {
        let alg = self.header.algorithm()?;
        if !allowed.contains(&alg) {
            return Err(JoseError::UnsupportedAlgorithm(alg.as_str().to_owned()));
        }
        if self.header.crit.is_some() {
            return Err(JoseError::Malformed("unsupported crit header"));
        }
        key.verify(alg, self.signing_input.as_bytes(), &self.signature)?;
        Ok(alg)
    }
}

#[cfg(test)]
mod append_tests {
    use super::*;

    #[test]
    fn appending_matches_encoding_for_every_length() {
        for n in 0..70u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
            let mut out = b"head.".to_vec();
            append_b64(&mut out, &bytes);
            assert_eq!(out, format!("head.{}", b64_encode(&bytes)).into_bytes());
        }
    }
}

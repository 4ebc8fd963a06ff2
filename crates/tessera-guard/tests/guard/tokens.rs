//! JWT checks one by one: algorithm confusion, `typ`, `crit`, times, issuer, audience, tampering.

use crate::support::*;
use serde_json::{Map, Value, json};
use std::time::Duration;
use tessera_guard::{
    Algorithm, Clock, ConfigError, Guard, GuardConfig, TokenError, TokenSource, TypPolicy,
    VerifyError,
};
use tessera_jose::{Header, JwkSet, SigningKey, b64_encode};

const ISS: &str = "https://as.example";

fn claims() -> Map<String, Value> {
    let n = now();
    let Value::Object(m) = json!({
        "iss": ISS, "sub": "client-1", "client_id": "client-1", "aud": AUD,
        "exp": n + 300, "iat": n, "jti": random_id(), "scope": READ,
    }) else {
        unreachable!()
    };
    m
}

fn config(keys: &[&SigningKey]) -> GuardConfig {
    GuardConfig::new(ISS).audience(AUD).static_jwks(JwkSet {
        keys: keys.iter().map(|k| k.public_jwk().unwrap()).collect(),
    })
}

fn guard(keys: &[&SigningKey]) -> Guard {
    Guard::start(config(keys)).unwrap()
}

fn invalid(e: TokenError) -> VerifyError {
    VerifyError::Invalid(e)
}

/// Builds a compact JWS from raw header and claims JSON and a raw signature.
fn raw_jws(header: &Value, claims: &Map<String, Value>, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64_encode(header.to_string().as_bytes()),
        b64_encode(serde_json::to_vec(claims).unwrap().as_slice()),
        b64_encode(sig)
    )
}

#[tokio::test]
async fn every_asymmetric_algorithm_verifies() {
    for alg in tessera_guard::DEFAULT_ALGORITHMS {
        let key = SigningKey::generate(alg).unwrap().with_kid(random_id());
        let g = guard(&[&key]);
        let t = g.verify(&mint(&key, &claims())).await.unwrap();
        assert_eq!(
            t.source(),
            &TokenSource::Jwt {
                alg,
                kid: key.kid().map(str::to_owned)
            }
        );
    }
}

#[tokio::test]
async fn alg_none_is_refused() {
    let key = es256();
    let g = guard(&[&key]);
    for alg in ["none", "None", "NONE", ""] {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": key.kid()});
        let token = raw_jws(&header, &claims(), b"");
        assert_eq!(
            g.verify(&token).await.unwrap_err(),
            invalid(TokenError::Algorithm),
            "{alg}"
        );
    }
}

#[tokio::test]
async fn hmac_signed_with_the_public_key_is_refused() {
    let rsa = SigningKey::generate(Algorithm::RS256)
        .unwrap()
        .with_kid("rsa-1");
    let g = guard(&[&rsa]);
    let jwk = rsa.public_jwk().unwrap();
    // The classic confusion: the public key's bytes, in the forms a confused verifier might use.
    let secrets: Vec<Vec<u8>> = vec![
        serde_json::to_vec(&jwk).unwrap(),
        tessera_jose::b64_decode(jwk.n.as_deref().unwrap()).unwrap(),
        jwk.n.clone().unwrap().into_bytes(),
    ];
    for secret in secrets {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let forged = SigningKey::hmac(alg, &secret).unwrap().with_kid("rsa-1");
            let token = mint(&forged, &claims());
            assert_eq!(
                g.verify(&token).await.unwrap_err(),
                invalid(TokenError::Algorithm)
            );
        }
    }
    // And no configuration can allow HMAC.
    let err = Guard::start(config(&[&rsa]).algorithms(&[Algorithm::RS256, Algorithm::HS256]));
    assert_eq!(err.unwrap_err(), ConfigError::HmacAlgorithm("HS256"));
}

#[tokio::test]
async fn the_allow_list_is_enforced_and_keys_stay_in_their_family() {
    let rsa = SigningKey::generate(Algorithm::RS256)
        .unwrap()
        .with_kid("k");
    let g = Guard::start(config(&[&rsa]).algorithms(&[Algorithm::ES256])).unwrap();
    assert_eq!(
        g.verify(&mint(&rsa, &claims())).await.unwrap_err(),
        invalid(TokenError::Algorithm)
    );
    // An EC token under the RSA key's kid: no key of that kid fits ES256.
    let ec = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("k");
    let g = guard(&[&rsa]);
    assert_eq!(
        g.verify(&mint(&ec, &claims())).await.unwrap_err(),
        invalid(TokenError::UnknownKey)
    );
}

#[tokio::test]
async fn typ_is_checked() {
    let key = es256();
    let g = guard(&[&key]);
    let c = claims();
    for typ in [Some("JWT"), None, Some("secevent+jwt"), Some("at+jwt+x")] {
        let token = key.encode(typ, &c).unwrap();
        assert_eq!(
            g.verify(&token).await.unwrap_err(),
            invalid(TokenError::Typ),
            "{typ:?}"
        );
    }
    g.verify(&key.encode(Some("application/at+jwt"), &c).unwrap())
        .await
        .unwrap();
    // "JWT or absent" for servers that predate RFC 9068.
    let lax = Guard::start(config(&[&key]).typ(TypPolicy::AccessTokenOrJwt)).unwrap();
    for typ in [Some("JWT"), None, Some("at+jwt")] {
        lax.verify(&key.encode(typ, &claims()).unwrap())
            .await
            .unwrap();
    }
    assert_eq!(
        lax.verify(&key.encode(Some("dpop+jwt"), &claims()).unwrap())
            .await
            .unwrap_err(),
        invalid(TokenError::Typ)
    );
}

#[tokio::test]
async fn crit_is_refused() {
    let key = es256();
    let g = guard(&[&key]);
    let mut header = Header::new(Algorithm::ES256, Some("at+jwt"), key.kid());
    header.crit = Some(vec!["exp".into()]);
    header.extra.insert("exp".into(), json!(1));
    let token = key.encode_with_header(&header, &claims()).unwrap();
    assert_eq!(
        g.verify(&token).await.unwrap_err(),
        invalid(TokenError::Crit)
    );
}

#[tokio::test]
async fn times_are_checked_with_leeway() {
    let key = es256();
    let g = guard(&[&key]);
    let n = now();
    let cases: [(&str, i64, Result<(), TokenError>); 6] = [
        ("exp", n - 60, Err(TokenError::Expired)),
        ("exp", n - 5, Ok(())), // within the 30 s leeway
        ("nbf", n + 120, Err(TokenError::NotYetValid)),
        ("nbf", n + 5, Ok(())),
        ("iat", n + 3600, Err(TokenError::IssuedInFuture)),
        ("iat", n + 5, Ok(())),
    ];
    for (claim, value, expected) in cases {
        let mut c = claims();
        c.insert(claim.into(), json!(value));
        let got = g.verify(&mint(&key, &c)).await.map(|_| ());
        assert_eq!(got, expected.map_err(invalid), "{claim}={value}");
    }
    let mut c = claims();
    c.remove("exp");
    assert_eq!(
        g.verify(&mint(&key, &c)).await.unwrap_err(),
        invalid(TokenError::Claim("exp"))
    );
    // A tighter leeway.
    let strict = Guard::start(config(&[&key]).leeway(Duration::ZERO)).unwrap();
    let mut c = claims();
    c.insert("exp".into(), json!(n - 1));
    assert_eq!(
        strict.verify(&mint(&key, &c)).await.unwrap_err(),
        invalid(TokenError::Expired)
    );
}

#[tokio::test]
async fn issuer_and_audience_are_checked() {
    let key = es256();
    let g = guard(&[&key]);
    let cases = [
        ("iss", json!("https://as.example/"), TokenError::Issuer),
        ("iss", json!(null), TokenError::Issuer),
        ("aud", json!("https://api.example/"), TokenError::Audience),
        ("aud", json!(["a", "b"]), TokenError::Audience),
        ("aud", json!([]), TokenError::Audience),
        ("aud", json!(42), TokenError::Claim("aud")),
    ];
    for (claim, value, expected) in cases {
        let mut c = claims();
        c.insert(claim.into(), value.clone());
        assert_eq!(
            g.verify(&mint(&key, &c)).await.unwrap_err(),
            invalid(expected),
            "{claim}={value}"
        );
    }
    let mut c = claims();
    c.remove("aud");
    assert_eq!(
        g.verify(&mint(&key, &c)).await.unwrap_err(),
        invalid(TokenError::Audience)
    );
    let mut c = claims();
    c.insert("aud".into(), json!(["https://other.example", AUD]));
    let t = g.verify(&mint(&key, &c)).await.unwrap();
    assert_eq!(t.audience(), ["https://other.example", AUD]);
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let key = es256();
    let g = guard(&[&key]);
    let token = mint(&key, &claims());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut c = claims();
    c.insert("scope".into(), json!(format!("{READ} {WRITE}")));
    parts[1] = b64_encode(&serde_json::to_vec(&c).unwrap());
    let tampered = parts.join(".");
    assert_eq!(
        g.verify(&tampered).await.unwrap_err(),
        invalid(TokenError::BadSignature)
    );
    // A truncated signature too.
    let cut = &token[..token.len() - 4];
    assert!(g.verify(cut).await.is_err());
    // The original still passes.
    g.verify(&token).await.unwrap();
}

#[tokio::test]
async fn a_token_without_kid_is_tried_against_fitting_keys() {
    let (a, b) = (es256(), es256());
    let g = guard(&[&a, &b]);
    let unnamed = SigningKey::from_pkcs8_der(Algorithm::ES256, b.pkcs8_der().unwrap()).unwrap();
    g.verify(&mint(&unnamed, &claims())).await.unwrap();
}

#[tokio::test]
async fn junk_never_panics_and_is_refused() {
    let key = es256();
    let g = guard(&[&key]);
    let long = "a".repeat(20_000);
    let junk = [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        "e30.e30.",
        "e30.e30.e30",
        "eyJhbGciOiJFUzI1NiJ9..",
        "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.AAAA",
        "eyJhbGciOjF9.e30.AA",
        "\u{0}\u{1}",
        "é.é.é",
        long.as_str(),
    ];
    for j in junk {
        assert!(g.verify(j).await.is_err(), "{j:?}");
    }
    assert_eq!(
        g.verify(&long).await.unwrap_err(),
        invalid(TokenError::TooLong)
    );
}

#[tokio::test]
async fn a_cached_token_expires_with_the_token() {
    let key = es256();
    let start = now();
    let clock = Clock::manual(start);
    let g = Guard::start(config(&[&key]).clock(clock.clone())).unwrap();
    let mut c = claims();
    c.insert("exp".into(), json!(start + 100));
    let token = mint(&key, &c);
    g.verify(&token).await.unwrap();
    assert_eq!(g.cached_tokens(), 1);
    clock.set(start + 99);
    g.verify(&token).await.unwrap();
    // Past exp and the leeway: refused, though it was cached.
    clock.set(start + 100 + 31);
    assert_eq!(
        g.verify(&token).await.unwrap_err(),
        invalid(TokenError::Expired)
    );
}

#[tokio::test]
async fn a_full_cache_stays_bounded() {
    let key = es256();
    let g = Guard::start(config(&[&key]).cache_capacity(50)).unwrap();
    for _ in 0..300 {
        g.verify(&mint(&key, &claims())).await.unwrap();
    }
    assert!(g.cached_tokens() <= 50, "{}", g.cached_tokens());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Whatever a request carries, verification answers without panicking, and a valid token
    /// changed anywhere is refused.
    #[test]
    fn verify_never_panics(junk in "\\PC{0,300}", at in 0usize..1000, byte in 0u8..128) {
        static FIXTURE: std::sync::OnceLock<(Guard, String)> = std::sync::OnceLock::new();
        let (g, token) = FIXTURE.get_or_init(|| {
            let key = es256();
            let token = mint(&key, &claims());
            (Guard::start(config(&[&key]).cache_capacity(0)).unwrap(), token)
        });
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let _ = g.verify(&junk).await;
            let mut bytes = token.clone().into_bytes();
            let i = at % bytes.len();
            if bytes[i] != byte {
                bytes[i] = byte;
                let changed = String::from_utf8_lossy(&bytes).into_owned();
                // Base64url has a few bits of slack in the last character of each part: a change
                // there may decode to the same bytes, and then the token is, rightly, still valid.
                let same_bytes = changed.split('.').map(|p| tessera_jose::b64_decode(p).ok()).collect::<Vec<_>>()
                    == token.split('.').map(|p| tessera_jose::b64_decode(p).ok()).collect::<Vec<_>>();
                if !same_bytes {
                    assert!(g.verify(&changed).await.is_err(), "{changed}");
                }
            }
        });
    }
}

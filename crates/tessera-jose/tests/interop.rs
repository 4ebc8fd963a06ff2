//! Signatures made here verify with an independent JOSE library (jsonwebtoken), and the other
//! way round, for every algorithm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde_json::{Value, json};
use tessera_jose::{Algorithm, Jwk, SigningKey, UnverifiedJws, VerifyingKey, to_pem};

fn their_alg(a: Algorithm) -> jsonwebtoken::Algorithm {
    a.as_str().parse().unwrap()
}

fn claims() -> Value {
    json!({"sub": "c1", "aud": "api", "exp": 4_000_000_000u64, "iss": "https://as"})
}

fn validation(a: Algorithm) -> Validation {
    let mut v = Validation::new(their_alg(a));
    v.set_audience(&["api"]);
    v
}

const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[test]
fn ours_verify_with_theirs() {
    for alg in ASYMMETRIC {
        let key = SigningKey::generate(alg).unwrap().with_kid("k1");
        let token = key.encode(Some("at+jwt"), &claims()).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(serde_json::to_value(key.public_jwk().unwrap()).unwrap())
                .unwrap();
        let dk = DecodingKey::from_jwk(&jwk).unwrap();
        let data =
            decode::<Value>(&token, &dk, &validation(alg)).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.claims["sub"], "c1");
        assert_eq!(data.header.kid.as_deref(), Some("k1"));
        assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
    }
}

#[test]
fn theirs_verify_with_ours() {
    for alg in ASYMMETRIC {
        let ours = SigningKey::generate(alg).unwrap();
        let pem = to_pem("PRIVATE KEY", ours.pkcs8_der().unwrap());
        let ek = match alg {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .unwrap();
        let token = encode(&Header::new(their_alg(alg)), &claims(), &ek).unwrap();
        let vk = VerifyingKey::from_jwk(&ours.public_jwk().unwrap()).unwrap();
        let jws = UnverifiedJws::parse(&token).unwrap();
        assert_eq!(jws.verify(&vk, &[alg]).unwrap(), alg);
        // A different key of the same family must not verify it.
        let other = SigningKey::generate(alg).unwrap();
        let vk2 = VerifyingKey::from_jwk(&other.public_jwk().unwrap()).unwrap();
        assert!(jws.verify(&vk2, &[alg]).is_err(), "{alg}");
    }
}

/// ES256 signatures (aws-lc's hedged ECDSA) verify with RustCrypto's ECDSA, which shares no code
/// with aws-lc.
#[test]
fn es256_signatures_verify_with_rustcrypto() {
    use p256::ecdsa::{Signature, VerifyingKey as TheirKey, signature::Verifier as _};
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let jwk = key.public_jwk().unwrap();
    let mut sec1 = vec![4u8];
    sec1.extend(tessera_jose::b64_decode(jwk.x.as_deref().unwrap()).unwrap());
    sec1.extend(tessera_jose::b64_decode(jwk.y.as_deref().unwrap()).unwrap());
    let theirs = TheirKey::from_sec1_bytes(&sec1).unwrap();
    for i in 0..50 {
        let message = format!("header.payload-{i}");
        let sig = Signature::from_slice(&key.sign(message.as_bytes()).unwrap()).unwrap();
        theirs.verify(message.as_bytes(), &sig).unwrap();
        assert!(theirs.verify(b"another message", &sig).is_err());
    }
}

/// ES256 and ES384 tokens verify with jsonwebtoken, given only the public JWK, and a changed
/// signature does not.
#[test]
fn ecdsa_tokens_verify_with_jsonwebtoken() {
    for alg in [Algorithm::ES256, Algorithm::ES384] {
        let key = SigningKey::generate(alg).unwrap().with_kid("ec");
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(serde_json::to_value(key.public_jwk().unwrap()).unwrap())
                .unwrap();
        let dk = DecodingKey::from_jwk(&jwk).unwrap();
        let header = key.encoded_header(Some("at+jwt"));
        for i in 0..20 {
            let payload = serde_json::to_vec(
                &json!({"sub": "c1", "aud": "api", "exp": 4_000_000_000u64, "n": i}),
            )
            .unwrap();
            let token = key.sign_with_encoded_header(&header, &payload).unwrap();
            let data = decode::<Value>(&token, &dk, &validation(alg))
                .unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(data.claims["n"], i);
            let (input, sig) = token.rsplit_once('.').unwrap();
            assert!(
                jsonwebtoken::crypto::verify(sig, input.as_bytes(), &dk, their_alg(alg)).unwrap()
            );
            let mut bad = tessera_jose::b64_decode(sig).unwrap();
            bad[5] ^= 1;
            let bad = tessera_jose::b64_encode(&bad);
            assert!(
                !jsonwebtoken::crypto::verify(&bad, input.as_bytes(), &dk, their_alg(alg)).unwrap()
            );
        }
    }
}

/// ECDSA nonces are random (hedged), so two signatures of one message differ, and both verify.
/// RSA PKCS#1 v1.5 and Ed25519 are deterministic by design.
#[test]
fn ecdsa_signatures_of_one_message_differ() {
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::PS256] {
        let key = SigningKey::generate(alg).unwrap();
        let vk = key.verifying_key().unwrap();
        let message = b"header.payload";
        let sigs: Vec<Vec<u8>> = (0..8).map(|_| key.sign(message).unwrap()).collect();
        for (i, a) in sigs.iter().enumerate() {
            vk.verify(alg, message, a).unwrap();
            for b in &sigs[i + 1..] {
                assert_ne!(a, b, "{alg}: two signatures of one message are equal");
            }
        }
    }
    for alg in [Algorithm::RS256, Algorithm::EdDSA] {
        let key = SigningKey::generate(alg).unwrap();
        assert_eq!(key.sign(b"m").unwrap(), key.sign(b"m").unwrap(), "{alg}");
    }
}

#[test]
fn hmac_both_ways() {
    let secret = b"0123456789abcdef0123456789abcdef";
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let token = encode(
            &Header::new(their_alg(alg)),
            &claims(),
            &EncodingKey::from_secret(secret),
        )
        .unwrap();
        let jws = UnverifiedJws::parse(&token).unwrap();
        jws.verify(&VerifyingKey::hmac(secret), &[alg]).unwrap();
        assert!(
            jws.verify(&VerifyingKey::hmac(b"another secret"), &[alg])
                .is_err()
        );
        let ours = SigningKey::hmac(alg, secret).unwrap();
        let t2 = ours.encode(None, &claims()).unwrap();
        decode::<Value>(&t2, &DecodingKey::from_secret(secret), &validation(alg)).unwrap();
    }
}

#[test]
fn refuses_none_wrong_family_and_disallowed_algs() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let vk = key.verifying_key().unwrap();
    let token = key.encode(None, &claims()).unwrap();
    let jws = UnverifiedJws::parse(&token).unwrap();
    assert!(jws.verify(&vk, &[Algorithm::RS256]).is_err());
    // alg=none
    let parts: Vec<&str> = token.split('.').collect();
    let none_header = tessera_jose::b64_encode(br#"{"alg":"none"}"#);
    let forged = format!("{}.{}.", none_header, parts[1]);
    let jws = UnverifiedJws::parse(&forged).unwrap();
    assert!(jws.verify(&vk, &Algorithm::ALL).is_err());
    // HS256 signed with the public key bytes must not verify against an EC public key.
    let hs_header = tessera_jose::b64_encode(br#"{"alg":"HS256"}"#);
    let jws_hs = format!("{}.{}.AAAA", hs_header, parts[1]);
    let jws = UnverifiedJws::parse(&jws_hs).unwrap();
    assert!(jws.verify(&vk, &Algorithm::ALL).is_err());
    // Tampered payload.
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        tessera_jose::b64_encode(b"{}"),
        parts[2]
    );
    let jws = UnverifiedJws::parse(&tampered).unwrap();
    assert!(jws.verify(&vk, &[Algorithm::ES256]).is_err());
}

#[test]
fn private_jwk_round_trip() {
    // Build a private JWK from a key, load it, and check signatures still verify.
    for alg in [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256] {
        let key = SigningKey::generate(alg).unwrap();
        let pem = to_pem("PRIVATE KEY", key.pkcs8_der().unwrap());
        let again = SigningKey::from_pem(alg, &pem).unwrap();
        let vk = key.verifying_key().unwrap();
        let token = again.encode(None, &claims()).unwrap();
        UnverifiedJws::parse(&token)
            .unwrap()
            .verify(&vk, &[alg])
            .unwrap();
    }
    let oct: Jwk = serde_json::from_value(
        json!({"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0","alg":"HS256","kid":"h"}),
    )
    .unwrap();
    let k = SigningKey::from_jwk(&oct, None).unwrap();
    assert_eq!(k.kid(), Some("h"));
}

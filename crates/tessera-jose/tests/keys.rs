//! Loading private keys: PEM in each encoding Tessera reads, private JWKs, and malformed input.
//! The keys under `tests/keys/` were made by another implementation (Python's `cryptography`),
//! each as PEM and as a private JWK.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use tessera_jose::{Algorithm, Jwk, SigningKey, UnverifiedJws, VerifyingKey, to_pem};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn jwk(name: &str) -> Jwk {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// The public members of a JWK, for comparing keys whatever their `kid`, `alg` and `use`.
fn public_members(jwk: &Jwk) -> Jwk {
    Jwk {
        kty: jwk.kty.clone(),
        crv: jwk.crv.clone(),
        x: jwk.x.clone(),
        y: jwk.y.clone(),
        n: jwk.n.clone(),
        e: jwk.e.clone(),
        ..Default::default()
    }
}

/// `signer`'s tokens verify with `verifier`'s public key, and the two keys are the same key.
fn same_key(signer: &SigningKey, verifier: &SigningKey) {
    let alg = signer.alg();
    assert_eq!(
        public_members(&signer.public_jwk().unwrap()),
        public_members(&verifier.public_jwk().unwrap()),
        "{alg}"
    );
    let token = signer.encode(None, &json!({"sub": "s"})).unwrap();
    UnverifiedJws::parse(&token)
        .unwrap()
        .verify(&verifier.verifying_key().unwrap(), &[alg])
        .unwrap();
}

const CASES: [(Algorithm, &str, &str, &str); 4] = [
    (
        Algorithm::RS256,
        "rsa-pkcs8.pem",
        "rsa-pkcs1.pem",
        "rsa.jwk",
    ),
    (
        Algorithm::ES256,
        "p256-pkcs8.pem",
        "p256-sec1.pem",
        "p256.jwk",
    ),
    (
        Algorithm::ES384,
        "p384-pkcs8.pem",
        "p384-sec1.pem",
        "p384.jwk",
    ),
    (
        Algorithm::EdDSA,
        "ed25519-pkcs8.pem",
        "ed25519-pkcs8.pem",
        "ed25519.jwk",
    ),
];

#[test]
fn pem_inputs_load_pkcs8_pkcs1_and_sec1() {
    for (alg, pkcs8, other, jwk_file) in CASES {
        let from_pkcs8 = SigningKey::from_pem(alg, &fixture(pkcs8)).unwrap();
        let from_other = SigningKey::from_pem(alg, &fixture(other))
            .unwrap_or_else(|e| panic!("{alg} {other}: {e}"));
        same_key(&from_pkcs8, &from_other);
        same_key(&from_other, &from_pkcs8);
        // The key is the one the JWK describes.
        assert_eq!(
            public_members(&from_pkcs8.public_jwk().unwrap()),
            public_members(&jwk(jwk_file).to_public()),
            "{alg}"
        );
        // The stored PKCS#8 loads again as the same key.
        let again = SigningKey::from_pkcs8_der(alg, from_other.pkcs8_der().unwrap()).unwrap();
        same_key(&again, &from_pkcs8);
    }
    // PSS keys are RSA keys too.
    let ps = SigningKey::from_pem(Algorithm::PS256, &fixture("rsa-pkcs1.pem")).unwrap();
    same_key(
        &ps,
        &SigningKey::from_pem(Algorithm::PS256, &fixture("rsa-pkcs8.pem")).unwrap(),
    );
}

#[test]
fn pkcs1_rsa_pem_matches_jsonwebtoken() {
    // jsonwebtoken reads the PKCS#1 PEM on its own and signs; the key loaded here verifies it.
    let pem = fixture("rsa-pkcs1.pem");
    let theirs = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let token = encode(
        &Header::new(jsonwebtoken::Algorithm::RS256),
        &json!({"sub": "s"}),
        &theirs,
    )
    .unwrap();
    let ours = SigningKey::from_pem(Algorithm::RS256, &pem).unwrap();
    UnverifiedJws::parse(&token)
        .unwrap()
        .verify(&ours.verifying_key().unwrap(), &[Algorithm::RS256])
        .unwrap();
}

#[test]
fn private_jwks_round_trip() {
    for (alg, pkcs8, _, jwk_file) in CASES {
        let private = jwk(jwk_file);
        assert!(private.is_private());
        let key =
            SigningKey::from_jwk(&private, Some(alg)).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(key.kid(), private.kid.as_deref());
        // The public JWK is the private one without its private members.
        let public = key.public_jwk().unwrap();
        assert!(!public.is_private());
        assert_eq!(
            public_members(&public),
            public_members(&private.to_public())
        );
        // Same key as the PEM, both ways.
        let from_pem = SigningKey::from_pem(alg, &fixture(pkcs8)).unwrap();
        same_key(&key, &from_pem);
        same_key(&from_pem, &key);
        // Its PKCS#8 (what the server stores) loads and signs as the same key.
        let stored = SigningKey::from_pkcs8_der(alg, key.pkcs8_der().unwrap()).unwrap();
        same_key(&stored, &key);
        // A JWK given without `alg` takes it from its own `alg` member.
        let named = Jwk {
            alg: Some(alg.as_str().to_owned()),
            ..private.clone()
        };
        assert_eq!(SigningKey::from_jwk(&named, None).unwrap().alg(), alg);
    }
}

#[test]
fn inconsistent_private_jwks_are_refused() {
    // Another key's private exponent, or a missing CRT member, is an error.
    let mut rsa = jwk("rsa.jwk");
    rsa.d = Some(tessera_jose::b64_encode(&[7u8; 256]));
    assert!(SigningKey::from_jwk(&rsa, Some(Algorithm::RS256)).is_err());
    let mut rsa = jwk("rsa.jwk");
    rsa.qi = None;
    assert!(SigningKey::from_jwk(&rsa, Some(Algorithm::RS256)).is_err());
    // An EC private key that does not match its public point.
    let mut ec = jwk("p256.jwk");
    let another = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .public_jwk()
        .unwrap();
    ec.x = another.x;
    assert!(SigningKey::from_jwk(&ec, Some(Algorithm::ES256)).is_err());
    // Ed25519 seed and public key of different keys.
    let mut ed = jwk("ed25519.jwk");
    ed.x = Some(tessera_jose::b64_encode(&[9u8; 32]));
    assert!(SigningKey::from_jwk(&ed, Some(Algorithm::EdDSA)).is_err());
    // A key of the wrong family for the algorithm.
    assert!(SigningKey::from_jwk(&jwk("p256.jwk"), Some(Algorithm::RS256)).is_err());
    assert!(SigningKey::from_jwk(&jwk("p256.jwk"), Some(Algorithm::ES384)).is_err());
}

#[test]
fn bad_pem_is_an_error_not_a_panic() {
    let rsa_body: String = fixture("rsa-pkcs1.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n");
    let garbage = [
        String::new(),
        "-----BEGIN X-----END X-----".to_owned(),
        "-----BEGIN PRIVATE KEY-----END PRIVATE KEY-----".to_owned(),
        "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n".to_owned(),
        "-----BEGIN PRIVATE KEY-----\n-----END X-----\n".to_owned(),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_owned(),
        "-----BEGIN PRIVATE KEY-----\n%%%%\n-----END PRIVATE KEY-----\n".to_owned(),
        "-----BEGIN PRIVATE KEY-----\nAAAA".to_owned(),
        "-----BEGIN ".to_owned(),
        "-----END PRIVATE KEY-----\n".to_owned(),
        "\u{0}\u{ff}\u{fffd}".to_owned(),
        to_pem("PRIVATE KEY", b"not DER"),
        to_pem("PRIVATE KEY", &[0x30, 0x82, 0xff, 0xff, 0x02]),
        to_pem("CERTIFICATE", &[0x30, 0x00]),
        // A valid PKCS#1 body under the PKCS#8 label, and truncated.
        format!("-----BEGIN PRIVATE KEY-----\n{rsa_body}\n-----END PRIVATE KEY-----\n"),
        format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
            &rsa_body[..rsa_body.len() / 2]
        ),
    ];
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        for input in &garbage {
            assert!(SigningKey::from_pem(alg, input).is_err(), "{alg} {input:?}");
        }
    }
    // A well-formed key under a label for another algorithm family.
    assert!(SigningKey::from_pem(Algorithm::ES256, &fixture("rsa-pkcs1.pem")).is_err());
    assert!(SigningKey::from_pem(Algorithm::RS256, &fixture("p256-sec1.pem")).is_err());
    assert!(SigningKey::from_pem(Algorithm::ES384, &fixture("p256-sec1.pem")).is_err());
    assert!(SigningKey::from_pem(Algorithm::EdDSA, &fixture("p256-pkcs8.pem")).is_err());
    assert!(SigningKey::from_pem(Algorithm::HS256, &fixture("p256-pkcs8.pem")).is_err());
}

#[test]
fn public_jwk_verifies_only_its_own_family() {
    let vk = VerifyingKey::from_jwk(&jwk("p256.jwk").to_public()).unwrap();
    assert!(vk.supports(Algorithm::ES256));
    assert!(!vk.supports(Algorithm::ES384));
    assert!(!vk.supports(Algorithm::HS256));
    // Coordinates of the wrong width for the curve are refused.
    let mut wrong = jwk("p384.jwk").to_public();
    wrong.crv = Some("P-256".into());
    assert!(VerifyingKey::from_jwk(&wrong).is_err());
    let claims: Value = json!({"kty": "EC", "crv": "P-256"});
    let missing: Jwk = serde_json::from_value(claims).unwrap();
    assert!(VerifyingKey::from_jwk(&missing).is_err());
}

//! What the signer Tessera ships costs: the signature alone per algorithm (the "signature's own
//! cost" in the server's budget of CPU per token), and the whole encoding of an access token
//! (claims to JSON, base64url, signature, compact form). For comparison, `jsonwebtoken`'s
//! signing with an `EncodingKey`, which parses the key again for every signature.
//!
//! Run with `cargo bench -p tessera-jose --bench sign`, and `openssl speed ecdsap256 ecdsap384
//! ed25519 rsa2048` in the same minute for the machine's own signing rate.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use divan::{Bencher, black_box};
use serde::Serialize;
use tessera_jose::{Algorithm, SigningKey};

fn main() {
    divan::main();
}

/// The algorithms the server signs access tokens with.
const ALGS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::RS256,
];

/// A typical signing input: base64url header, a dot, base64url claims (≈ 380 bytes).
const MESSAGE: &[u8] = &[b'a'; 380];

/// The claims of a typical access token (RFC 9068), as the token endpoint issues them for a
/// client credentials grant.
#[derive(Serialize)]
struct AccessToken<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    jti: &'a str,
    client_id: &'a str,
    scope: &'a str,
}

const CLAIMS: AccessToken<'static> = AccessToken {
    iss: "https://auth.example.com",
    sub: "billing-service",
    aud: "https://api.example.com",
    exp: 1_790_003_600,
    iat: 1_790_000_000,
    jti: "mN3q0Yk2bS8vJ4pXw1rT6A",
    client_id: "billing-service",
    scope: "invoices:read invoices:write",
};

/// The signature alone, with the key pair parsed once (as `SigningKey` keeps it).
#[divan::bench(args = ALGS)]
fn sign(bencher: Bencher, alg: Algorithm) {
    let key = SigningKey::generate(alg).unwrap();
    bencher.bench(|| key.sign(black_box(MESSAGE)).unwrap());
}

/// A whole access token: claims to JSON, the `at+jwt` header, base64url, signature.
#[divan::bench(args = ALGS)]
fn encode(bencher: Bencher, alg: Algorithm) {
    let key = SigningKey::generate(alg).unwrap().with_kid("key-2026-12");
    bencher.bench(|| key.encode(Some("at+jwt"), black_box(&CLAIMS)).unwrap());
}

/// A whole access token as the server makes it: the header encoded once per key, the claims
/// serialised per token.
#[divan::bench(args = ALGS)]
fn encode_with_encoded_header(bencher: Bencher, alg: Algorithm) {
    let key = SigningKey::generate(alg).unwrap().with_kid("key-2026-12");
    let header = key.encoded_header(Some("at+jwt"));
    bencher.bench(|| {
        let payload = serde_json::to_vec(black_box(&CLAIMS)).unwrap();
        key.sign_with_encoded_header(&header, &payload).unwrap()
    });
}

/// `jsonwebtoken::crypto::sign` with an `EncodingKey` holding the same key's DER: its aws-lc
/// signer parses the key on every call.
#[divan::bench(args = [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA])]
fn jsonwebtoken_sign(bencher: Bencher, alg: Algorithm) {
    let ours = SigningKey::generate(alg).unwrap();
    let der = ours.pkcs8_der().unwrap();
    let (key, their_alg) = match alg {
        Algorithm::ES256 => (
            jsonwebtoken::EncodingKey::from_ec_der(der),
            jsonwebtoken::Algorithm::ES256,
        ),
        Algorithm::ES384 => (
            jsonwebtoken::EncodingKey::from_ec_der(der),
            jsonwebtoken::Algorithm::ES384,
        ),
        _ => (
            jsonwebtoken::EncodingKey::from_ed_der(der),
            jsonwebtoken::Algorithm::EdDSA,
        ),
    };
    bencher.bench(|| jsonwebtoken::crypto::sign(black_box(MESSAGE), &key, their_alg).unwrap());
}

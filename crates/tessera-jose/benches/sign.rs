//! What one signature costs, per algorithm, on a message the size of an access token's header and
//! claims: the floor under the token endpoint's cost per JWT (issue 2).
//!
//! Run with `cargo bench -p tessera-jose --bench sign`, next to `openssl speed ecdsap256 ed25519
//! rsa2048` in the same minute to compare with the machine's signing rate.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use divan::{Bencher, black_box};
use tessera_jose::{Algorithm, SigningKey};

fn main() {
    divan::main();
}

/// A typical signing input: base64url header, a dot, base64url claims (≈ 380 bytes).
const MESSAGE: &[u8] = &[b'a'; 380];

// Each sample times 32 signatures, so that ES256's, whose nonces are prepared 16 at a time,
// include their share of that preparation.
#[divan::bench(args = [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256], sample_size = 32)]
fn sign(bencher: Bencher, alg: Algorithm) {
    let key = SigningKey::generate(alg).unwrap();
    bencher.bench(|| key.sign(black_box(MESSAGE)).unwrap());
}

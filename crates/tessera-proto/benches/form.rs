//! What reading a form body costs, as every form endpoint does it before the client is
//! authenticated (`FormParams::parse`, then the check for repeated parameters): a typical token
//! request, the largest body accepted (`MAX_PARAMS` distinct names), and a hostile 64 KiB body of
//! 10,900 distinct names (refused at once since the parameter count is capped; before, the check
//! for repeats compared every name with every other: 217 ms median on the 2-core VM).
//!
//! Run with `cargo bench -p tessera-proto --bench form`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use divan::black_box;
use tessera_proto::FormParams;

fn main() {
    divan::main();
}

/// The parameters the token endpoint lets repeat.
const REPEATABLE: [&str; 2] = ["resource", "audience"];

/// What the token endpoint does with a body before anything else: parse, refuse repeats.
fn read(body: &[u8]) -> bool {
    FormParams::parse(body).is_ok_and(|f| f.first_repeated(&REPEATABLE).is_none())
}

/// `n` distinct names of one to three base-36 digits, each with the value `1`: `0=1&1=1&…`.
fn hostile(n: usize) -> Vec<u8> {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut body = Vec::with_capacity(n * 6);
    for i in 0..n {
        if i > 0 {
            body.push(b'&');
        }
        let mut name = Vec::new();
        let mut rest = i;
        loop {
            name.push(DIGITS[rest % 36]);
            rest /= 36;
            if rest == 0 {
                break;
            }
        }
        body.extend(name.iter().rev());
        body.extend_from_slice(b"=1");
    }
    body
}

#[divan::bench]
fn token_request(b: divan::Bencher) {
    let body = b"grant_type=client_credentials&scope=core.bench.read+core.bench.write\
        &resource=https%3A%2F%2Fapi.example%2F&client_id=bench-client\
        &client_secret=tcs_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
    b.bench(|| read(black_box(body)));
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn hostile_64k_10900_names(b: divan::Bencher) {
    let body = hostile(10_900);
    assert!(body.len() <= 64 * 1024, "{} bytes", body.len());
    b.bench(|| read(black_box(&body)));
}

/// The largest body accepted: `MAX_PARAMS` distinct names, every one decoded and indexed.
#[divan::bench]
fn max_params_distinct_names(b: divan::Bencher) {
    let body = hostile(tessera_proto::form::MAX_PARAMS);
    b.bench(|| read(black_box(&body)));
}

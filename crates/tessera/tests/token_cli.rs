//! `tessera token get|validate|profile` run as a user would, against node `oidc-provider` (installed
//! and started by the test, see testing/oidc-peer/) and small loopback responders.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

#[path = "../../tessera-client/tests/support/peer.rs"]
mod support_peer;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support_peer::peer;

const BASIC_SECRET: &str = "basic-secret-7c1f0a9e5d3b4c2a8e6f";
const JWT_SECRET: &str =
    "jwt-secret-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn tessera(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(args)
        .env_remove("TESSERA_PROFILE")
        .env_remove("TESSERA_CREDENTIALS_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn validate_json(args: &[&str], env: &[(&str, &str)]) -> (bool, Value) {
    let mut all = vec!["token", "validate", "--json"];
    all.extend_from_slice(args);
    let o = tessera(&all, env);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            stdout(&o),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert_eq!(
        o.status.success(),
        v["ok"] == true,
        "exit code follows the result"
    );
    (o.status.success(), v)
}

#[test]
fn get_prints_the_token_response_raw_token_or_decoded_claims() {
    let te = peer().token_endpoint();
    let env = [("PEER_SECRET", BASIC_SECRET)];
    let base = [
        "token",
        "get",
        "--token-endpoint",
        te,
        "--client-id",
        "basic-client",
        "--client-secret-env",
        "PEER_SECRET",
    ];

    let o = tessera(&[&base[..], &["-s", "api:read"]].concat(), &env);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 300);
    assert_eq!(v["scope"], "api:read");
    assert!(v["access_token"].as_str().is_some_and(|t| !t.is_empty()));

    let o = tessera(&[&base[..], &["--raw"]].concat(), &env);
    let raw = stdout(&o);
    assert_eq!(raw.trim().lines().count(), 1);
    assert!(!raw.contains('{'));

    let o = tessera(
        &[
            &base[..],
            &[
                "--decode",
                "-s",
                "api:read api:write",
                "--resource",
                "https://api.peer.example/",
            ],
        ]
        .concat(),
        &env,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["access_token"]["verified"], false);
    assert!(
        v["access_token"]["warning"]
            .as_str()
            .unwrap()
            .contains("UNVERIFIED")
    );
    assert_eq!(v["access_token"]["header"]["typ"], "at+jwt");
    assert_eq!(
        v["access_token"]["claims"]["aud"],
        "https://api.peer.example/"
    );
    assert_eq!(v["access_token"]["claims"]["client_id"], "basic-client");

    // Through discovery, with private_key_jwt from a JWK in the environment.
    let jwk = peer().ready["pkjwt_private_jwk"].to_string();
    let o = tessera(
        &[
            "token",
            "get",
            "--issuer",
            peer().issuer(),
            "--client-id",
            "pkjwt-client",
            "--auth-method",
            "private_key_jwt",
            "--signing-alg",
            "ES256",
            "--signing-key-env",
            "PK_JWK",
            "--raw",
        ],
        &[("PK_JWK", &jwk)],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn validate_reports_success_with_type_lifetime_and_scopes() {
    let (ok, v) = validate_json(
        &[
            "--issuer",
            peer().issuer(),
            "--client-id",
            "basic-client",
            "--client-secret-env",
            "S",
            "-s",
            "api:read",
        ],
        &[("S", BASIC_SECRET)],
    );
    assert!(ok, "{v}");
    assert_eq!(v["diagnosis"], "ok");
    assert_eq!(v["token"]["token_type"], "Bearer");
    assert_eq!(v["token"]["lifetime_s"], 300);
    assert_eq!(v["token"]["scope"], "api:read");
    // Human output too.
    let o = tessera(
        &[
            "token",
            "validate",
            "--token-endpoint",
            peer().token_endpoint(),
            "--client-id",
            "basic-client",
            "--client-secret-env",
            "S",
        ],
        &[("S", BASIC_SECRET)],
    );
    let text = stdout(&o);
    assert!(
        text.starts_with("OK [ok]") && text.contains("lifetime:       300 s"),
        "{text}"
    );
}

#[test]
fn validate_diagnoses_each_failure() {
    let te = peer().token_endpoint();
    let issuer = peer().issuer();
    let jwks = format!("{issuer}/jwks");
    let env = [
        ("S", BASIC_SECRET),
        ("J", JWT_SECRET),
        ("W", "wrong-secret"),
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--token-endpoint",
                te,
                "--client-id",
                "basic-client",
                "--client-secret-env",
                "W",
            ],
            "invalid_client",
        ),
        (
            vec![
                "--issuer",
                issuer,
                "--client-id",
                "jwt-client",
                "--client-secret-env",
                "J",
            ],
            "wrong_auth_method",
        ),
        (
            vec![
                "--token-endpoint",
                te,
                "--client-id",
                "post-client",
                "--client-secret",
                "post-secret-2b8d4f6a1c3e5a7b9d0f",
                "-s",
                "api:write",
            ],
            "invalid_scope",
        ),
        (
            vec![
                "--token-endpoint",
                &jwks,
                "--client-id",
                "basic-client",
                "--client-secret-env",
                "S",
            ],
            "not_oauth_endpoint",
        ),
        (
            vec![
                "--token-endpoint",
                te,
                "--client-id",
                "basic-client",
                "--client-secret-env",
                "S",
                "--resource",
                "https://other.example/",
            ],
            "invalid_target",
        ),
    ];
    for (args, expected) in cases {
        let (ok, v) = validate_json(&args, &env);
        assert!(!ok);
        assert_eq!(v["diagnosis"], expected, "{args:?}: {v}");
    }
    // Unreachable: a port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/token");
    let (_, v) = validate_json(
        &[
            "--token-endpoint",
            &url,
            "--client-id",
            "c",
            "--client-secret",
            "s",
        ],
        &[],
    );
    assert_eq!(v["diagnosis"], "unreachable", "{v}");
    // TLS failure: https to a plain-HTTP port.
    let url = te.replace("http://", "https://");
    let (_, v) = validate_json(
        &[
            "--token-endpoint",
            &url,
            "--client-id",
            "c",
            "--client-secret",
            "s",
        ],
        &[],
    );
    assert_eq!(v["diagnosis"], "tls", "{v}");
}

/// An RFC 7231 IMF-fixdate.
fn http_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A one-shot loopback responder: answers every request with `status` and `body`, with a `Date`
/// header `skew` seconds ahead.
fn responder(status: u16, body: &'static str, skew: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut s) = stream else { continue };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let mut got = Vec::new();
            // Read headers, then the body by Content-Length.
            loop {
                let n = s.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len = text[..i]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if got.len() >= i + 4 + len {
                        break;
                    }
                }
            }
            let date = http_date(SystemTime::now() + Duration::from_secs(skew));
            let resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nDate: {date}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    format!("http://{addr}/token")
}

#[test]
fn validate_diagnoses_assertion_clock_skew() {
    let url = responder(
        401,
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
        600,
    );
    let (ok, v) = validate_json(
        &[
            "--token-endpoint",
            &url,
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--auth-method",
            "client_secret_jwt",
        ],
        &[],
    );
    assert!(!ok);
    assert_eq!(v["diagnosis"], "clock_skew", "{v}");
    assert!(
        v.to_string().contains("600 s ahead") || v.to_string().contains("599 s ahead"),
        "{v}"
    );
    // The same refusal with a secret and no skew is plain invalid_client.
    let url = responder(401, r#"{"error":"invalid_client"}"#, 0);
    let (_, v) = validate_json(
        &[
            "--token-endpoint",
            &url,
            "--client-id",
            "c",
            "--client-secret",
            "s",
        ],
        &[],
    );
    assert_eq!(v["diagnosis"], "invalid_client", "{v}");
}

#[test]
fn profiles_add_list_use_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tessera").join("credentials.toml");
    let file_s = file.to_str().unwrap();
    let te = peer().token_endpoint();
    let env = [("PEER_SECRET", BASIC_SECRET)];
    let o = tessera(
        &[
            "token",
            "profile",
            "add",
            "by-ref",
            "--credentials-file",
            file_s,
            "--token-endpoint",
            te,
            "--client-id",
            "basic-client",
            "--client-secret-env",
            "PEER_SECRET",
            "-s",
            "api:read",
            "--validate",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = tessera(
        &[
            "token",
            "profile",
            "add",
            "inline",
            "--credentials-file",
            file_s,
            "--token-endpoint",
            te,
            "--client-id",
            "basic-client",
            "--client-secret",
            BASIC_SECRET,
        ],
        &[],
    );
    assert!(o.status.success());
    // Adding a name twice needs --force.
    let o = tessera(
        &[
            "token",
            "profile",
            "add",
            "inline",
            "--credentials-file",
            file_s,
            "--token-endpoint",
            te,
            "--client-id",
            "x",
            "--client-secret",
            "y",
        ],
        &[],
    );
    assert!(!o.status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("env = \"PEER_SECRET\"")
            && !text.contains(&format!("\"{BASIC_SECRET}\"\n[profiles.by-ref"))
    );

    let o = tessera(
        &["token", "profile", "list", "--credentials-file", file_s],
        &[],
    );
    let list = stdout(&o);
    assert!(
        list.contains("by-ref") && list.contains("env:PEER_SECRET") && list.contains("inline"),
        "{list}"
    );
    assert!(!list.contains(BASIC_SECRET), "list never shows secrets");

    for name in ["by-ref", "inline"] {
        let o = tessera(
            &[
                "token",
                "get",
                "--profile",
                name,
                "--credentials-file",
                file_s,
                "--raw",
            ],
            &env,
        );
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Flags override the profile.
    let o = tessera(
        &[
            "token",
            "get",
            "-p",
            "by-ref",
            "--credentials-file",
            file_s,
            "-s",
            "api:write",
        ],
        &env,
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["scope"], "api:write");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = tessera(
            &[
                "token",
                "get",
                "-p",
                "inline",
                "--credentials-file",
                file_s,
                "--raw",
            ],
            &[],
        );
        assert!(
            !o.status.success(),
            "an inline secret in a readable file is refused"
        );
        assert!(String::from_utf8_lossy(&o.stderr).contains("chmod 600"));
        // References still work from a readable file.
        let o = tessera(
            &[
                "token",
                "get",
                "-p",
                "by-ref",
                "--credentials-file",
                file_s,
                "--raw",
            ],
            &env,
        );
        assert!(o.status.success());
    }
    let o = tessera(
        &[
            "token",
            "profile",
            "remove",
            "inline",
            "--credentials-file",
            file_s,
        ],
        &[],
    );
    assert!(o.status.success());
    let o = tessera(
        &[
            "token",
            "profile",
            "list",
            "--credentials-file",
            file_s,
            "--json",
        ],
        &[],
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "by-ref");
}

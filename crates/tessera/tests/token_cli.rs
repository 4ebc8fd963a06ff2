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
use std::sync::{Arc, Mutex};
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
fn a_signing_jwk_file_names_its_algorithm() {
    // The peer's private_key_jwt key, a JWK with "alg": "ES256", in a file.
    let dir = tempfile::tempdir().unwrap();
    let jwk = peer().ready["pkjwt_private_jwk"].clone();
    assert_eq!(jwk["alg"], "ES256");
    let with_alg = dir.path().join("key.jwk");
    std::fs::write(&with_alg, jwk.to_string()).unwrap();
    let get = |file: &std::path::Path| {
        tessera(
            &[
                "token",
                "get",
                "--issuer",
                peer().issuer(),
                "--client-id",
                "pkjwt-client",
                "--auth-method",
                "private_key_jwt",
                "--signing-jwk-file",
                file.to_str().unwrap(),
                "--raw",
            ],
            &[],
        )
    };
    // No --signing-alg: the JWK's alg signs the client assertion, and the peer accepts it.
    let o = get(&with_alg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!stdout(&o).trim().is_empty());

    // Neither the flag nor the JWK says: a clear error, and no request.
    let mut bare = jwk.clone();
    bare.as_object_mut().unwrap().remove("alg");
    let without_alg = dir.path().join("bare.jwk");
    std::fs::write(&without_alg, bare.to_string()).unwrap();
    let o = get(&without_alg);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("--signing-alg is required") && e.contains("JWK whose alg"),
        "{e}"
    );

    // An alg that is no signing algorithm is named, the key is not shown.
    let mut odd = jwk.clone();
    odd["alg"] = "ECDH-ES".into();
    let odd_file = dir.path().join("odd.jwk");
    std::fs::write(&odd_file, odd.to_string()).unwrap();
    let o = get(&odd_file);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("ECDH-ES") && e.contains("odd.jwk") && !e.contains(jwk["d"].as_str().unwrap()),
        "{e}"
    );
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
    recording_responder(status, body, skew).0
}

/// [`responder`], also keeping the body of every request it answered.
fn recording_responder(
    status: u16,
    body: &'static str,
    skew: u64,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
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
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(i) = text.find("\r\n\r\n") {
                seen.lock().unwrap().push(text[i + 4..].to_owned());
            }
            let date = http_date(SystemTime::now() + Duration::from_secs(skew));
            let resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nDate: {date}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (format!("http://{addr}/token"), requests)
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
    // Time words count only whole: "expected" holds "exp", "associated" holds "iat".
    for (description, expected) in [
        ("no key associated with the expected kid", "invalid_client"),
        ("the exp claim is too far in the future", "clock_skew"),
    ] {
        let body = format!(r#"{{"error":"invalid_client","error_description":"{description}"}}"#);
        let url = responder(401, body.leak(), 0);
        let (_, v) = validate_json(
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
        assert_eq!(v["diagnosis"], expected, "{description}: {v}");
    }
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

fn get_json(args: &[&str], env: &[(&str, &str)]) -> Value {
    let o = tessera(&[&["token", "get"], args].concat(), env);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&stdout(&o)).unwrap()
}

#[test]
fn get_prints_the_response_as_sent_and_decodes_an_opaque_token_with_a_note() {
    const SENT: &str = r#"{"access_token":"opaque-tok-1","token_type":"Bearer","x_vendor":{"tier":"gold"},"issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#;
    let sent: Value = serde_json::from_str(SENT).unwrap();
    let url = responder(200, SENT, 0);
    let base = [
        "--token-endpoint",
        &url,
        "--client-id",
        "c",
        "--client-secret",
        "s",
    ];

    // Every member as the server sent it, its own included, and nothing added.
    assert_eq!(get_json(&base, &[]), sent);

    // --decode on an opaque token: no failure, the response and a note instead.
    let v = get_json(
        &[&base[..], &["--decode", "--default-lifetime", "77"]].concat(),
        &[],
    );
    assert_eq!(v["access_token"]["jwt"], false, "{v}");
    assert!(
        v["access_token"]["note"]
            .as_str()
            .unwrap()
            .contains("not a JWT"),
        "{v}"
    );
    assert_eq!(v["response"], sent);
    // No expires_in and not a JWT: the configured default lifetime.
    assert_eq!(v["lifetime"]["seconds"], 77, "{v}");
    assert!(v["lifetime"]["from"].as_str().unwrap().contains("default"));

    // --max-lifetime caps what the server says.
    let url = responder(
        200,
        r#"{"access_token":"opaque-tok-2","token_type":"Bearer","expires_in":600}"#,
        0,
    );
    let v = get_json(
        &[
            "--token-endpoint",
            &url,
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--decode",
            "--max-lifetime",
            "30",
        ],
        &[],
    );
    assert_eq!(v["lifetime"]["seconds"], 30, "{v}");
    assert!(v["lifetime"]["from"].as_str().unwrap().contains("maximum"));
}

/// The form parameters of a recorded token request.
fn form(body: &str) -> Vec<(String, String)> {
    tessera_proto::FormParams::parse(body.as_bytes())
        .unwrap()
        .pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {form:?}"))
}

#[test]
fn get_flags_shape_the_client_and_grant_assertions() {
    use tessera_jose::{Algorithm, SigningKey, UnverifiedJws, VerifyingKey};
    let (url, requests) = recording_responder(
        200,
        r#"{"access_token":"t","token_type":"Bearer","expires_in":60}"#,
        0,
    );
    let dir = tempfile::tempdir().unwrap();
    let hmac_key = b"grant-assertion-hmac-key-0123456789abcdef";
    let jwk_file = dir.path().join("grant.jwk");
    std::fs::write(
        &jwk_file,
        serde_json::json!({"kty": "oct", "k": tessera_jose::b64_encode(hmac_key)}).to_string(),
    )
    .unwrap();
    let ec = SigningKey::generate(Algorithm::ES256).unwrap();
    let ec_pem = tessera_jose::to_pem("PRIVATE KEY", ec.pkcs8_der().unwrap());
    let common = [
        "--token-endpoint",
        &url,
        "--client-id",
        "cid",
        "--client-secret",
        JWT_SECRET,
        "--auth-method",
        "client_secret_jwt",
        "--assertion-issuer",
        "iss-override",
        "--assertion-subject",
        "sub-override",
        "--grant",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "--grant-assertion-kid",
        "gk-1",
        "--grant-assertion-audience",
        "https://aud.example/",
        "--grant-assertion-lifetime",
        "120",
        "--grant-assertion-claim",
        "tenant=acme",
        "--grant-assertion-subject",
        "alice",
        "--retries",
        "0",
        "--raw",
    ];
    let jwk_file = jwk_file.to_str().unwrap();
    let runs: [(Vec<&str>, VerifyingKey, Algorithm); 2] = [
        (
            vec![
                "--grant-assertion-alg",
                "HS256",
                "--grant-assertion-jwk-file",
                jwk_file,
            ],
            VerifyingKey::hmac(hmac_key),
            Algorithm::HS256,
        ),
        (
            vec![
                "--grant-assertion-alg",
                "ES256",
                "--grant-assertion-key-env",
                "GRANT_KEY",
            ],
            ec.verifying_key().unwrap(),
            Algorithm::ES256,
        ),
    ];
    for (i, (key_flags, verifying, alg)) in runs.into_iter().enumerate() {
        let o = tessera(
            &[&["token", "get"], &common[..], &key_flags[..]].concat(),
            &[("GRANT_KEY", &ec_pem)],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let f = form(&requests.lock().unwrap()[i]);

        let client = UnverifiedJws::parse(param(&f, "client_assertion")).unwrap();
        let c: Value = client.claims().unwrap();
        assert_eq!(
            (c["iss"].as_str(), c["sub"].as_str()),
            (Some("iss-override"), Some("sub-override"))
        );

        let grant = UnverifiedJws::parse(param(&f, "assertion")).unwrap();
        grant.verify(&verifying, &[alg]).unwrap();
        assert_eq!(grant.header.kid.as_deref(), Some("gk-1"));
        let g: Value = grant.claims().unwrap();
        assert_eq!(g["aud"], "https://aud.example/");
        assert_eq!(g["sub"], "alice");
        assert_eq!(g["iss"], "cid");
        assert_eq!(g["tenant"], "acme");
        assert_eq!(g["exp"].as_u64().unwrap() - g["iat"].as_u64().unwrap(), 120);
    }
}

#[test]
fn get_retries_as_told() {
    for (retries, requests_made) in [("0", 1), ("2", 3)] {
        let (url, requests) = recording_responder(500, r#"{"error":"server_error"}"#, 0);
        let o = tessera(
            &[
                "token",
                "get",
                "--token-endpoint",
                &url,
                "--client-id",
                "c",
                "--client-secret",
                "s",
                "--retries",
                retries,
            ],
            &[],
        );
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 500"));
        assert_eq!(
            requests.lock().unwrap().len(),
            requests_made,
            "--retries {retries}"
        );
    }
}

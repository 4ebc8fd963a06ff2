//! The quick start when the server runs in another folder: `tessera serve` flags over the file
//! and the environment, the admin CLI finding the bootstrap credential through `--data-dir` or
//! `TESSERA_DATA_DIR` (or naming the path it tried and the flags that would help), and the admin
//! options before the subcommand as well as after it. The real binary, in real folders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::process::ServeProcess;

/// Runs `tessera ARGS` in `cwd` with no `TESSERA_…` variable but `env`.
fn tessera(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(args).current_dir(cwd).env_remove("RUST_LOG");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TESSERA_")) {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied()).output().unwrap()
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn refused(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_cli_finds_the_credential_of_a_server_running_in_another_folder() {
    let root = tempfile::tempdir().unwrap();
    let (server_dir, elsewhere) = (root.path().join("server"), root.path().join("elsewhere"));
    std::fs::create_dir_all(&server_dir).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let mut server = ServeProcess::start(&server_dir, &["--listen", "127.0.0.1:0"], &[]);
    let data = server_dir.join("tessera-data");
    let data = data.to_str().unwrap();
    // The banner says how to reach the credential from elsewhere.
    server.wait_for(|l| l.contains(&format!("--data-dir {data}")));
    let url = server.url.as_str();

    // From another folder with nothing said: the path tried, and what would help.
    let e = refused(&tessera(
        &elsewhere,
        &["client", "list", "--server", url],
        &[],
    ));
    let tried = elsewhere.join("tessera-data/admin-credentials.json");
    assert!(
        e.contains(tried.to_str().unwrap())
            && e.contains("--data-dir DIR or TESSERA_DATA_DIR")
            && e.contains("--admin-credentials FILE"),
        "{e}"
    );
    // A wrong TESSERA_DATA_DIR is named as the reason.
    let e = refused(&tessera(
        &elsewhere,
        &["client", "list", "--server", url],
        &[("TESSERA_DATA_DIR", "/no/such/folder")],
    ));
    assert!(
        e.contains("/no/such/folder/admin-credentials.json (in TESSERA_DATA_DIR)"),
        "{e}"
    );

    // TESSERA_DATA_DIR, as the server was told (or would have been).
    ok(&tessera(
        &elsewhere,
        &["client", "list", "--server", url],
        &[("TESSERA_DATA_DIR", data)],
    ));
    // --data-dir and --server before the subcommand, after it, or both (after wins).
    ok(&tessera(
        &elsewhere,
        &["--server", url, "--data-dir", data, "client", "list"],
        &[],
    ));
    ok(&tessera(
        &elsewhere,
        &["client", "list", "--data-dir", data, "--server", url],
        &[],
    ));
    ok(&tessera(
        &elsewhere,
        &[
            "--server",
            "http://127.0.0.1:9",
            "client",
            "--server",
            url,
            "list",
            "--data-dir",
            data,
        ],
        &[],
    ));
    // A flag before the subcommand wins over the environment.
    let credential = format!("{data}/admin-credentials.json");
    let scopes = ok(&tessera(
        &elsewhere,
        &[
            "--server",
            url,
            "--admin-credentials",
            &credential,
            "scope",
            "list",
        ],
        &[
            ("TESSERA_URL", "http://127.0.0.1:9"),
            ("TESSERA_DATA_DIR", "/no/such/folder"),
        ],
    ));
    assert!(scopes.contains("tessera.clients.read"), "{scopes}");
    // The server really was asked: a wrong --server before the subcommand is used, not ignored.
    let e = refused(&tessera(
        &elsewhere,
        &[
            "--server",
            "http://127.0.0.1:9",
            "--data-dir",
            data,
            "scope",
            "list",
        ],
        &[],
    ));
    assert!(
        e.contains("cannot reach the Tessera server at http://127.0.0.1:9"),
        "{e}"
    );

    // Commands that have no use for them say so rather than ignoring them.
    let e = refused(&tessera(&elsewhere, &["--server", url, "serve"], &[]));
    assert!(e.contains("--server") && e.contains("tessera serve"), "{e}");
    let e = refused(&tessera(
        &elsewhere,
        &["--admin-credentials", "x.json", "token", "profile", "list"],
        &[],
    ));
    assert!(
        e.contains("--admin-credentials") && e.contains("tessera token"),
        "{e}"
    );
    assert!(server.running());
}

#[test]
fn serve_flags_win_over_the_environment_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // The file names an address that cannot be bound here, the environment another folder.
    std::fs::write(
        dir.path().join("tessera.toml"),
        "listen = \"192.0.2.1:8080\"\nissuer = \"https://file.example\"\ndata_dir = \"file-data\"\n",
    )
    .unwrap();
    let server = ServeProcess::start(
        dir.path(),
        &[
            "-c",
            "tessera.toml",
            "--listen",
            "127.0.0.1:0",
            "--issuer",
            "https://flag.example",
            "--data-dir",
            "flag-data",
        ],
        &[
            ("TESSERA_DATA_DIR", "env-data"),
            ("TESSERA_ISSUER", "https://env.example"),
            ("TESSERA_LISTEN", "192.0.2.1:8081"),
        ],
    );
    assert_eq!(server.issuer, "https://flag.example");
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    assert!(dir.path().join("flag-data/admin-credentials.json").exists());
    assert!(!dir.path().join("env-data").exists());
    assert!(!dir.path().join("file-data").exists());
    // Settings not given as flags still come from the environment over the file.
    drop(server);
    let server = ServeProcess::start(
        dir.path(),
        &["-c", "tessera.toml", "--listen", "127.0.0.1:0"],
        &[("TESSERA_DATA_DIR", "env-data")],
    );
    assert_eq!(server.issuer, "https://file.example");
    assert!(dir.path().join("env-data/admin-credentials.json").exists());
    drop(server);

    // A bad flag value is refused naming the flag.
    let e = refused(&tessera(dir.path(), &["serve", "--listen", "nowhere"], &[]));
    assert!(e.contains("command-line flag --listen"), "{e}");
    let e = refused(&tessera(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--issuer", "ftp://x"],
        &[],
    ));
    assert!(e.contains("ftp://x"), "{e}");
}

//! What the process tests of the `tessera` binary share: the result of one run of the binary, and
//! reading the address a `tessera serve` process announces. Each test file uses part of it.
#![allow(dead_code)]

pub(crate) mod process;

/// The result of one run of the binary.
pub(crate) struct Run {
    pub(crate) ok: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    #[track_caller]
    pub(crate) fn success(self) -> String {
        assert!(
            self.ok,
            "failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    #[track_caller]
    pub(crate) fn failure(self, needle: &str) -> String {
        assert!(!self.ok, "should have failed:\n{}", self.stdout);
        assert!(
            self.stderr.contains(needle),
            "stderr should mention {needle:?}:\n{}",
            self.stderr
        );
        self.stderr
    }
}

/// The issuer and the listening address (`host:port`) of the line `tessera serve` writes once it
/// serves: `Tessera is serving URL (token endpoint …).` when the issuer is the URL it listens at
/// (`http://ADDR`, or `https://ADDR` with TLS), else `Tessera is serving issuer ISSUER on URL
/// (token endpoint …).`; `None` for other lines.
pub(crate) fn serving(line: &str) -> Option<(&str, &str)> {
    let (issuer, url) = serving_url(line)?;
    let addr = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    Some((issuer, addr))
}

/// The issuer and the URL it listens at (`http://ADDR` or `https://ADDR`) of the line
/// `tessera serve` writes once it serves (see [`serving`]).
pub(crate) fn serving_url(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("Tessera is serving ")?;
    if let Some(rest) = rest.strip_prefix("issuer ") {
        let (issuer, after) = rest.split_once(" on ")?;
        return Some((issuer, after.split(' ').next()?));
    }
    let url = rest.split(' ').next()?;
    Some((url, url))
}

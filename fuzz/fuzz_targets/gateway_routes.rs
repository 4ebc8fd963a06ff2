//! The gateway's route matching (by host, then by path prefix on segment boundaries), against a
//! plain reading of its documented rules.
//!
//! The input is lines: the first is the request, `HOST PATH` (`-` for no host); each further line
//! a route, `HOST PREFIX STRIP` (`-` for any host, `*.example.com` for a wildcard, STRIP `1` to
//! strip the prefix). Routes are kept as the configuration check keeps them (prefix starting with
//! `/`, host non-empty without `/`).
//!
//! Holds: no panic; the route chosen is the one the rules choose (exact host before wildcard,
//! longer wildcard first, before any host; longer prefix first; file order last), or none when no
//! route takes the request; the path sent upstream is the path, or what follows the prefix (`/`
//! when nothing does) when the route strips it.
#![no_main]

use libfuzzer_sys::fuzz_target;

type Route = (Option<String>, String, bool);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let Some(request) = lines.next() else {
        return;
    };
    let (host, path) = request.split_once(' ').unwrap_or((request, "/"));
    let host = (host != "-").then_some(host);
    let routes: Vec<Route> = lines
        .filter_map(|l| {
            let mut f = l.split(' ');
            let (h, p, s) = (f.next()?, f.next()?, f.next().unwrap_or("0"));
            let h = (h != "-").then(|| h.to_owned());
            let ok = p.starts_with('/')
                && h.as_deref()
                    .is_none_or(|h| !h.is_empty() && !h.contains('/'));
            ok.then(|| (h, p.to_owned(), s == "1"))
        })
        .collect();
    let got = tessera_gateway::fuzzing::route(&routes, host, path);
    let want = oracle(&routes, host, path);
    assert_eq!(
        got.as_ref().map(|g| g.0),
        want,
        "route for {host:?} {path:?} among {routes:?}"
    );
    if let Some((i, upstream)) = got {
        let (_, prefix, strip) = &routes[i];
        let prefix = prefix.trim_end_matches('/');
        let expected = if *strip {
            match path.strip_prefix(prefix) {
                Some("") => "/",
                Some(rest) => rest,
                None => path,
            }
        } else {
            path
        };
        assert_eq!(upstream, expected);
        if path.starts_with('/') {
            assert!(upstream.starts_with('/'), "upstream path {upstream:?}");
        }
    }
});

/// Which host rule a route has: 0 exact, 1 wildcard (with its suffix length), 2 any.
fn oracle(routes: &[Route], host: Option<&str>, path: &str) -> Option<usize> {
    let req_host = host.map(|h| strip_port(&h.to_ascii_lowercase()).to_owned());
    let mut best: Option<((u8, usize, usize), usize)> = None;
    for (i, (h, p, _)) in routes.iter().enumerate() {
        let (rank, host_ok) = match h {
            None => ((2, 0), true),
            Some(h) => {
                let h = h.trim().to_ascii_lowercase();
                match h.strip_prefix('*') {
                    Some(suffix) if suffix.starts_with('.') => (
                        (1, usize::MAX - suffix.len()),
                        req_host
                            .as_deref()
                            .is_some_and(|r| r.len() > suffix.len() && r.ends_with(suffix)),
                    ),
                    _ => ((0, 0), req_host.as_deref() == Some(strip_port(&h))),
                }
            }
        };
        let prefix = p.trim_end_matches('/');
        let path_ok = path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if host_ok && path_ok {
            let key = (rank.0, rank.1, usize::MAX - prefix.len());
            if best.is_none_or(|(k, _)| key < k) {
                best = Some((key, i));
            }
        }
    }
    best.map(|(_, i)| i)
}

/// A host without its `:port` (an IPv6 literal in brackets kept whole).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(i) => &host[..=i],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

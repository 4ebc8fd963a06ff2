//! Route matching: by host, then by path prefix on segment boundaries.
//!
//! Routes are tried from the most specific to the least: routes for an exact host, then for a
//! wildcard host (`*.example.com`, longest suffix first), then for any host; within each group
//! the longest path prefix first. The first match wins, so a request for a known host whose path
//! none of that host's routes cover falls through to the any-host routes.

/// Which hosts a route takes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostMatch {
    Any,
    /// Lower case, without port.
    Exact(String),
    /// `.example.com` (from `*.example.com`), lower case.
    Suffix(String),
}

impl HostMatch {
    fn parse(host: Option<&str>) -> Self {
        match host {
            None => Self::Any,
            Some(h) => {
                let h = h.trim().to_ascii_lowercase();
                match h.strip_prefix('*') {
                    Some(suffix) if suffix.starts_with('.') => Self::Suffix(suffix.to_owned()),
                    _ => Self::Exact(strip_port(&h).to_owned()),
                }
            }
        }
    }

    fn rank(&self) -> (u8, usize) {
        match self {
            Self::Exact(_) => (0, 0),
            Self::Suffix(s) => (1, usize::MAX - s.len()),
            Self::Any => (2, 0),
        }
    }

    /// `host` is lower case without port.
    fn matches(&self, host: Option<&str>) -> bool {
        match (self, host) {
            (Self::Any, _) => true,
            (Self::Exact(e), Some(h)) => e == h,
            (Self::Suffix(s), Some(h)) => h.len() > s.len() && h.ends_with(s.as_str()),
            (_, None) => false,
        }
    }
}

/// Removes a `:port` (keeping IPv6 literals in brackets whole).
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

/// A path prefix, without its trailing `/` (`/` itself is the empty prefix that matches all).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Prefix(String);

impl Prefix {
    fn new(p: &str) -> Self {
        Self(p.trim_end_matches('/').to_owned())
    }

    /// The rest of `path` below the prefix (`""` for the prefix itself), if it is below.
    fn rest<'a>(&self, path: &'a str) -> Option<&'a str> {
        let rest = path.strip_prefix(self.0.as_str())?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    }
}

/// One route's matching rule and what the route carries.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    host: HostMatch,
    prefix: Prefix,
    strip_prefix: bool,
    /// What the route leads to.
    pub(crate) value: T,
}

impl<T> Entry<T> {
    /// The path to send upstream: `path` with the prefix removed when the route strips it.
    pub(crate) fn upstream_path<'a>(&self, path: &'a str) -> &'a str {
        if !self.strip_prefix {
            return path;
        }
        match self.prefix.rest(path) {
            Some("") => "/",
            Some(rest) => rest,
            None => path,
        }
    }
}

/// The routes, in matching order.
#[derive(Debug)]
pub(crate) struct RouteTable<T> {
    entries: Vec<Entry<T>>,
}

impl<T> RouteTable<T> {
    /// Orders `routes` (host, path prefix, strip, value) from most to least specific.
    pub(crate) fn new(routes: impl IntoIterator<Item = (Option<String>, String, bool, T)>) -> Self {
        let mut entries: Vec<Entry<T>> = routes
            .into_iter()
            .map(|(host, prefix, strip_prefix, value)| Entry {
                host: HostMatch::parse(host.as_deref()),
                prefix: Prefix::new(&prefix),
                strip_prefix,
                value,
            })
            .collect();
        entries.sort_by_key(|e| (e.host.rank(), usize::MAX - e.prefix.0.len()));
        Self { entries }
    }

    /// The route for a request to `host` (the `Host` header or `:authority`, any case, any port)
    /// and `path`.
    pub(crate) fn find(&self, host: Option<&str>, path: &str) -> Option<&Entry<T>> {
        let lowered;
        let host = match host {
            Some(h) if h.bytes().any(|b| b.is_ascii_uppercase()) => {
                lowered = h.to_ascii_lowercase();
                Some(strip_port(&lowered))
            }
            Some(h) => Some(strip_port(h)),
            None => None,
        };
        self.entries
            .iter()
            .find(|e| e.host.matches(host) && e.prefix.rest(path).is_some())
    }

    /// Every route's value.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|e| &e.value)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn table() -> RouteTable<&'static str> {
        RouteTable::new([
            (None, "/".to_owned(), false, "root"),
            (None, "/api".to_owned(), true, "api"),
            (None, "/api/v2/".to_owned(), false, "api-v2"),
            (
                Some("Billing.Example".to_owned()),
                "/".to_owned(),
                false,
                "billing",
            ),
            (
                Some("*.example".to_owned()),
                "/x".to_owned(),
                false,
                "wild-x",
            ),
        ])
    }

    #[test]
    fn most_specific_wins_on_segment_boundaries() {
        let t = table();
        let v = |h: Option<&str>, p: &str| t.find(h, p).map(|e| e.value);
        assert_eq!(v(None, "/api"), Some("api"));
        assert_eq!(v(None, "/api/x"), Some("api"));
        assert_eq!(v(None, "/apix"), Some("root"));
        assert_eq!(v(None, "/api/v2"), Some("api-v2"));
        assert_eq!(v(None, "/api/v2/y"), Some("api-v2"));
        assert_eq!(v(Some("billing.example:8081"), "/api"), Some("billing"));
        assert_eq!(v(Some("BILLING.example"), "/"), Some("billing"));
        assert_eq!(v(Some("a.example"), "/x/1"), Some("wild-x"));
        assert_eq!(v(Some("a.example"), "/y"), Some("root"));
        assert_eq!(v(Some("example"), "/x"), Some("root"));
        assert_eq!(v(Some("[::1]:80"), "/api"), Some("api"));
    }

    #[test]
    fn strips_the_prefix_when_asked() {
        let t = table();
        let e = t.find(None, "/api/items").unwrap();
        assert_eq!(e.upstream_path("/api/items"), "/items");
        assert_eq!(e.upstream_path("/api"), "/");
        let e = t.find(None, "/api/v2/items").unwrap();
        assert_eq!(e.upstream_path("/api/v2/items"), "/api/v2/items");
    }
}
